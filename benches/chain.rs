//! The whole mastering strip and each stage alone, stereo 48 kHz; and the passes of a
//! mastering job against a plain analysis and a plain render.
//!
//! Target: the full `streaming` preset at 20 ns per stereo frame or less.

use criterion::BatchSize;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe::config::*;
use lathe::{Analyzer, ChainConfig, Mastering, MasteringChain, Pass, Preset, Target};
use lathe_core::Processor;
use std::hint::black_box;

const FS: f64 = 48_000.0;
const BLOCK: usize = 512;

fn input(frames: usize) -> Vec<[f32; 2]> {
    lathe_testkit::signals::music_like(FS, frames as f64 / FS, -3.0, 1)
}

fn bench_chain(c: &mut Criterion, group_name: &str, cases: Vec<(&str, ChainConfig)>) {
    let frames = 48_000;
    let audio = input(frames);
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(frames as u64));
    for (name, cfg) in cases {
        let mut chain = MasteringChain::<2>::from_config(&cfg, FS, BLOCK).expect("valid chain");
        let mut buf = audio.clone();
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                buf.copy_from_slice(&audio);
                for block in buf.chunks_mut(BLOCK) {
                    chain.process(block);
                }
                black_box(&buf);
            })
        });
    }
    group.finish();
}

fn chain(c: &mut Criterion) {
    let spotify = Target::by_name("spotify").expect("built-in target");
    let presets = Preset::ALL
        .iter()
        .map(|p| (p.name(), p.chain(&spotify)))
        .collect();
    bench_chain(c, "chain/preset stereo 48k", presets);

    let one = |s: StageConfig| ChainConfig::new(vec![s]);
    let stages = vec![
        ("input", one(StageConfig::Input(InputConfig::default()))),
        (
            "eq 5-band",
            one(StageConfig::Eq(EqConfig {
                bands: vec![
                    EqBandConfig {
                        kind: EqKind::Highpass,
                        freq_hz: 25.0,
                        ..Default::default()
                    },
                    EqBandConfig {
                        kind: EqKind::LowShelf,
                        freq_hz: 100.0,
                        gain_db: 1.0,
                        ..Default::default()
                    },
                    EqBandConfig {
                        kind: EqKind::Peak,
                        freq_hz: 400.0,
                        gain_db: -1.5,
                        q: 1.2,
                        ..Default::default()
                    },
                    EqBandConfig {
                        kind: EqKind::Peak,
                        freq_hz: 3_000.0,
                        gain_db: 1.0,
                        q: 0.9,
                        ..Default::default()
                    },
                    EqBandConfig {
                        kind: EqKind::HighShelf,
                        freq_hz: 10_000.0,
                        gain_db: 1.5,
                        ..Default::default()
                    },
                ],
                bypass: false,
            })),
        ),
        (
            "compressor",
            one(StageConfig::Compressor(CompressorConfig::default())),
        ),
        (
            "multiband 3-band",
            one(StageConfig::Multiband(MultibandConfig::default())),
        ),
        (
            "stereo width",
            one(StageConfig::Stereo(StereoConfig {
                width: 1.2,
                ..Default::default()
            })),
        ),
        (
            "stereo bass mono",
            one(StageConfig::Stereo(StereoConfig {
                bass_mono_hz: Some(120.0),
                ..Default::default()
            })),
        ),
        (
            "saturation 4x",
            one(StageConfig::Saturation(SaturationConfig::default())),
        ),
        ("reverb", one(StageConfig::Reverb(ReverbConfig::default()))),
        (
            "gain",
            one(StageConfig::Gain(GainConfig {
                gain_db: 3.0,
                bypass: false,
            })),
        ),
        (
            "limiter true-peak",
            one(StageConfig::Limiter(LimiterConfig::default())),
        ),
    ];
    bench_chain(c, "chain/stage stereo 48k", stages);
}

/// The passes of a `streaming` job on 10 s of music (about -20 LUFS, mastered to -14), with
/// the input's loudness estimate given (so the model runs during the analysis), against a
/// plain analysis and a plain render of the same chain. Per frame of input.
fn passes(c: &mut Criterion) {
    let frames = 480_000;
    let audio = lathe_testkit::signals::music_like(FS, frames as f64 / FS, -8.0, 3);
    let target = Target::by_name("spotify").expect("built-in target");
    let chain = Preset::Streaming.chain(&target);
    let estimate = {
        let mut a = Analyzer::<2>::new(FS).expect("valid rate");
        a.process(&audio);
        a.report(None).integrated_lufs
    };
    let job = || {
        let mut j = Mastering::<2>::new(&chain, &target, FS, true).expect("valid chain");
        j.set_input_estimate(estimate).expect("before the analysis");
        j
    };
    let rendering = || {
        let mut j = job();
        for b in audio.chunks(4096) {
            j.feed(b);
        }
        j.end_pass().expect("audible input");
        assert_eq!(j.pass(), Pass::Render);
        j
    };
    let mut group = c.benchmark_group("master/passes stereo 48k");
    group.throughput(Throughput::Elements(frames as u64));
    // Each case: a fresh state per iteration (untimed), then the blocks of the whole input.
    macro_rules! case {
        ($name:expr, $setup:expr, |$s:ident, $blk:ident| $each:expr) => {
            group.bench_function($name, |b| {
                b.iter_batched_ref(
                    $setup,
                    |$s| {
                        for $blk in audio.chunks(4096) {
                            $each;
                        }
                    },
                    BatchSize::PerIteration,
                )
            });
        };
    }
    case!(
        "analysis alone",
        || Analyzer::<2>::new(FS).expect("valid rate"),
        |a, blk| a.process(blk)
    );
    case!(
        "analysis pass (analysis + model, one thread)",
        job,
        |j, blk| j.feed(blk)
    );
    case!("analysis pass, model part alone", job, |j, blk| j
        .split()
        .work
        .feed(blk));
    // Renders append to a buffer made in the setup (with the job), so the timed part is
    // the DSP; `finish`'s last frames are left out of both cases alike.
    let rendering_into = || (rendering(), Vec::with_capacity(frames + 4096));
    case!(
        "render pass (chain + output analysis, one thread)",
        rendering_into,
        |s, blk| s.0.render(blk, &mut s.1)
    );
    case!("render pass, chain alone", rendering_into, |s, blk| s
        .0
        .split()
        .work
        .render(blk, &mut s.1));
    group.finish();
}

/// Quantising the mastered output for delivery: TPDF dither with Lipshitz noise shaping to
/// 24 and 16 bits, stereo, per frame.
fn dither(c: &mut Criterion) {
    let frames = 48_000;
    let audio: Vec<f32> = input(frames).into_iter().flatten().collect();
    let mut out = vec![0i32; audio.len()];
    let mut group = c.benchmark_group("dither stereo 48k");
    group.throughput(Throughput::Elements(frames as u64));
    for bits in [24, 16] {
        let mut d = lathe::dither::Dither::new(bits, lathe::dither::NoiseShaping::Lipshitz, FS, 1)
            .expect("valid");
        group.bench_function(BenchmarkId::new("lipshitz", bits), |b| {
            b.iter(|| {
                d.quantize_interleaved(black_box(&audio), 2, &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = chain, passes, dither
}
criterion_main!(benches);
