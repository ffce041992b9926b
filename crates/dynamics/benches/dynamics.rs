//! Compressor, expander and saturation benches, stereo 48 kHz, on a music-like mix.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe_core::{ProcessSpec, Processor};
use lathe_dynamics::{
    Compressor, CompressorParams, Expander, ExpanderParams, Saturation, SaturationParams,
};
use lathe_testkit::signals;
use std::hint::black_box;

const FS: f64 = 48_000.0;
const BLOCK: usize = 512;

fn run<P: Processor<2>>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    mut p: P,
    x: &[[f32; 2]],
) {
    p.prepare(&ProcessSpec::new(FS, BLOCK)).unwrap();
    let mut buf = x.to_vec();
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter(|| {
            buf.copy_from_slice(x);
            for block in buf.chunks_mut(BLOCK) {
                p.process(block);
            }
            black_box(&buf);
        })
    });
}

fn compressor(c: &mut Criterion) {
    let x = signals::music_like(FS, 1.0, -3.0, 7);
    let mut group = c.benchmark_group("dynamics/compressor stereo 48k");
    group.throughput(Throughput::Elements(x.len() as u64));
    run(
        &mut group,
        "default (linked peak)",
        Compressor::<2>::default(),
        &x,
    );
    run(
        &mut group,
        "sidechain hpf + 2 ms lookahead + mix",
        Compressor::<2>::new(CompressorParams {
            sidechain_hpf_hz: Some(100.0),
            lookahead_ms: 2.0,
            mix: 0.5,
            ..CompressorParams::default()
        }),
        &x,
    );
    run(
        &mut group,
        "unlinked rms adaptive",
        Compressor::<2>::new(CompressorParams {
            link: 0.5,
            detector: lathe_dynamics::DetectorKind::Rms,
            adaptive_release: true,
            ..CompressorParams::default()
        }),
        &x,
    );
    group.finish();

    let mut group = c.benchmark_group("dynamics/expander stereo 48k");
    group.throughput(Throughput::Elements(x.len() as u64));
    run(
        &mut group,
        "default gate",
        Expander::<2>::new(ExpanderParams::default()),
        &x,
    );
    group.finish();
}

fn saturation(c: &mut Criterion) {
    let x = signals::music_like(FS, 1.0, -3.0, 7);
    let mut group = c.benchmark_group("dynamics/saturation stereo 48k");
    group.throughput(Throughput::Elements(x.len() as u64));
    for factor in [1u8, 2, 4, 8] {
        run(
            &mut group,
            &format!("tape {factor}x"),
            Saturation::<2>::new(SaturationParams {
                oversampling: factor,
                ..SaturationParams::default()
            }),
            &x,
        );
    }
    group.finish();
}

criterion_group!(benches, compressor, saturation);
criterion_main!(benches);
