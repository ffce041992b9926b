//! Limiter benches: stereo 48 kHz, sample-peak and true-peak, on a music-like mix pushed 6 dB
//! into the ceiling (so the limiter is working hard, as when mastering loud), and true-peak on
//! the same mix pushed 2 dB (peaks caught, as in a streaming master).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe_core::{ProcessSpec, Processor, TruePeakDetector};
use lathe_dynamics::{LimiterParams, MasteringLimiter};
use lathe_testkit::signals;
use std::hint::black_box;

const FS: f64 = 48_000.0;
const BLOCK: usize = 512;

/// The mix with its peaks at `level_db` dBFS (the ceiling is -1 dBTP).
fn input(level_db: f64) -> Vec<[f32; 2]> {
    signals::music_like(FS, 1.0, level_db, 7)
}

fn bench(c: &mut Criterion) {
    let x = input(5.0);
    let frames = x.len() as u64;
    let mut group = c.benchmark_group("dynamics/limiter stereo 48k");
    group.throughput(Throughput::Elements(frames));
    for (name, true_peak, level_db) in [
        ("sample-peak", false, 5.0),
        ("true-peak", true, 5.0),
        ("true-peak, 2 dB into the ceiling", true, 1.0),
    ] {
        let x = input(level_db);
        let mut lim = MasteringLimiter::<2>::new(LimiterParams {
            true_peak,
            ..LimiterParams::default()
        });
        lim.prepare(&ProcessSpec::new(FS, BLOCK)).unwrap();
        let mut buf = x.clone();
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                buf.copy_from_slice(&x);
                for block in buf.chunks_mut(BLOCK) {
                    lim.process(block);
                }
                black_box(&buf);
            })
        });
    }
    // The shared BS.1770 detector alone, for reference.
    let mut det = TruePeakDetector::<2>::new(FS);
    group.bench_function(
        BenchmarkId::from_parameter("true-peak detector alone"),
        |b| {
            b.iter(|| {
                let mut m = 0.0f32;
                for f in &x {
                    m = m.max(det.push_max(f));
                }
                black_box(m);
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
