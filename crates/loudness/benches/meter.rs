//! Lathe's loudness meter beside the `ebur128` crate, one group per reading mode: stereo
//! 48 kHz, blocks of 4 800 frames (100 ms), 60 s of audio made outside the timing loop.
//!
//! Lathe's meter always measures momentary, short-term, integrated, range and sample peak in
//! one pass (they share the K-weighting and 10 ms sums); only the true-peak interpolator can be
//! turned off. So in the "momentary+short-term" and "integrated+range" groups Lathe does more
//! than `ebur128` (true peak off), and in "true-peak" and "all" groups both do everything asked.
//! Two programmes: `music` (the testkit mix, steady level) and `crescendo` (the same mix rising
//! 40 dB over the minute, so the true-peak block skip rarely applies: the worst case).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ebur128::{EbuR128, Mode};
use lathe_core::TruePeakDetector;
use lathe_loudness::LoudnessMeter;
use lathe_testkit::signals;
use std::hint::black_box;

const FS: f64 = 48_000.0;
const BLOCK: usize = 4_800;

fn programmes() -> Vec<(&'static str, Vec<[f32; 2]>)> {
    let music = signals::music_like(FS, 60.0, -1.0, 3);
    let n = music.len();
    let crescendo = music
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let g = 10f32.powf((-40.0 + 40.0 * i as f32 / n as f32) / 20.0);
            [f[0] * g, f[1] * g]
        })
        .collect();
    vec![("music", music), ("crescendo", crescendo)]
}

fn lathe(x: &[[f32; 2]], true_peak: bool) -> f64 {
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    m.set_true_peak_enabled(true_peak);
    for b in x.chunks(BLOCK) {
        m.process(b);
        black_box(m.momentary_lufs());
    }
    let r = m.readings();
    r.integrated_lufs + r.loudness_range_lu + r.true_peak_dbtp + r.sample_peak_dbfs
}

fn peer(flat: &[f32], mode: Mode) -> f64 {
    let mut e = EbuR128::new(2, FS as u32, mode).unwrap();
    let mut acc = 0.0;
    for b in flat.chunks(2 * BLOCK) {
        e.add_frames_f32(b).unwrap();
        if mode.contains(Mode::M) {
            acc += e.loudness_momentary().unwrap_or(0.0);
        }
    }
    if mode.contains(Mode::I) {
        acc += e.loudness_global().unwrap_or(0.0);
    }
    if mode.contains(Mode::LRA) {
        acc += e.loudness_range().unwrap_or(0.0);
    }
    if mode.contains(Mode::TRUE_PEAK) {
        acc += e.true_peak(0).unwrap() + e.true_peak(1).unwrap();
    }
    if mode.contains(Mode::SAMPLE_PEAK) {
        acc += e.sample_peak(0).unwrap();
    }
    acc
}

fn bench(c: &mut Criterion) {
    let progs = programmes();
    let all = Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::M | Mode::S | Mode::SAMPLE_PEAK;
    let groups: [(&str, Option<bool>, Mode); 4] = [
        (
            "loudness/momentary+short-term stereo 48k",
            Some(false),
            Mode::M | Mode::S,
        ),
        (
            "loudness/integrated+range stereo 48k",
            Some(false),
            Mode::I | Mode::LRA,
        ),
        ("loudness/true-peak stereo 48k", None, Mode::TRUE_PEAK),
        ("loudness/all stereo 48k", Some(true), all),
    ];
    for (name, lathe_tp, mode) in groups {
        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        for (prog, x) in &progs {
            let flat: Vec<f32> = x.iter().flatten().copied().collect();
            g.throughput(Throughput::Elements(x.len() as u64));
            match lathe_tp {
                Some(tp) => {
                    g.bench_with_input(BenchmarkId::new("lathe", prog), x, |b, x| {
                        b.iter(|| lathe(black_box(x), tp))
                    });
                }
                None => {
                    // The meter's path (running maximum, block skip) and the limiter's path
                    // (every interval peak, no skip).
                    g.bench_with_input(BenchmarkId::new("lathe", prog), x, |b, x| {
                        b.iter(|| {
                            let mut d = TruePeakDetector::<2>::new(FS);
                            for blk in black_box(x).chunks(BLOCK) {
                                d.process(blk);
                            }
                            d.true_peak_dbtp()
                        })
                    });
                    g.bench_with_input(BenchmarkId::new("lathe push_block", prog), x, |b, x| {
                        let mut out = vec![[0.0f32; 2]; BLOCK];
                        b.iter(|| {
                            let mut d = TruePeakDetector::<2>::new(FS);
                            for blk in black_box(x).chunks(BLOCK) {
                                d.push_block(blk, &mut out);
                                black_box(&out);
                            }
                            d.true_peak_dbtp()
                        })
                    });
                }
            }
            g.bench_with_input(BenchmarkId::new("ebur128", prog), &flat, |b, flat| {
                b.iter(|| peer(black_box(flat), mode))
            });
            if mode.contains(Mode::I) && mode != all {
                g.bench_with_input(
                    BenchmarkId::new("ebur128 histogram", prog),
                    &flat,
                    |b, flat| b.iter(|| peer(black_box(flat), mode | Mode::HISTOGRAM)),
                );
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
