//! lathe-stereo kernels, stereo 48 kHz, one second of audio per iteration in 512-frame blocks.
//!
//! Targets: imager / mid-side at 1 ns per frame or less (the identity is skipped entirely);
//! the reverb's silent tail no slower than audio (no denormal slowdown).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use lathe_core::{ProcessSpec, Processor};
use lathe_stereo::{
    CorrelationMeter, ImagerParams, MidSide, MonoCompatibility, Reverb, ReverbParams, StereoImager,
    Weighting,
};
use std::hint::black_box;

const FS: f64 = 48_000.0;
const FRAMES: usize = 48_000;
const BLOCK: usize = 512;

fn music() -> Vec<[f32; 2]> {
    lathe_testkit::signals::music_like(FS, FRAMES as f64 / FS, -3.0, 1)
}

fn spec() -> ProcessSpec {
    ProcessSpec::new(FS, BLOCK)
}

fn run<P: Processor<2>>(p: &mut P, buf: &mut [[f32; 2]]) {
    for block in buf.chunks_mut(BLOCK) {
        p.process(block);
    }
}

fn imager(c: &mut Criterion) {
    let audio = music();
    let mut group = c.benchmark_group("stereo/imager stereo 48k");
    group.throughput(Throughput::Elements(FRAMES as u64));
    let cases = [
        (
            "width 1.5",
            ImagerParams {
                width: 1.5,
                ..ImagerParams::default()
            },
        ),
        (
            "width+gains+rotation+balance",
            ImagerParams {
                width: 1.3,
                mid_gain_db: -0.5,
                side_gain_db: 1.0,
                balance: 0.1,
                rotation_deg: 5.0,
            },
        ),
        ("identity (skipped)", ImagerParams::default()),
    ];
    for (name, p) in cases {
        let mut im = StereoImager::new(p);
        im.prepare(&spec()).unwrap();
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_batched_ref(
                || audio.clone(),
                |buf| {
                    run(&mut im, buf);
                    black_box(buf);
                },
                BatchSize::LargeInput,
            )
        });
    }
    // Width automated: a new width every iteration, so the first 20 ms ramp per sample.
    let mut im = StereoImager::default();
    im.prepare(&spec()).unwrap();
    let mut flip = false;
    group.bench_function(BenchmarkId::from_parameter("width automated"), |b| {
        b.iter_batched_ref(
            || audio.clone(),
            |buf| {
                flip = !flip;
                let width = if flip { 1.4 } else { 0.8 };
                im.set_params(ImagerParams {
                    width,
                    ..ImagerParams::default()
                })
                .unwrap();
                run(&mut im, buf);
                black_box(buf);
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function(BenchmarkId::from_parameter("mid-side encode+decode"), |b| {
        b.iter_batched_ref(
            || audio.clone(),
            |buf| {
                MidSide::encode_in_place(buf);
                MidSide::decode_in_place(buf);
                black_box(buf);
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn meters(c: &mut Criterion) {
    let audio = music();
    let mut group = c.benchmark_group("stereo/meters stereo 48k");
    group.throughput(Throughput::Elements(FRAMES as u64));
    let mut corr = CorrelationMeter::new(FS, 200.0).unwrap();
    group.bench_function(BenchmarkId::from_parameter("correlation 200 ms"), |b| {
        b.iter(|| {
            for block in audio.chunks(BLOCK) {
                corr.process(block);
                black_box(corr.correlation());
            }
        })
    });
    for (name, w) in [
        ("mono compatibility K", Weighting::K),
        ("mono compatibility flat", Weighting::Flat),
    ] {
        let mut m = MonoCompatibility::new(FS, w).unwrap();
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                for block in audio.chunks(BLOCK) {
                    m.process(block);
                }
                black_box(m.report());
            })
        });
    }
    group.finish();
}

fn reverb(c: &mut Criterion) {
    let audio = music();
    let mut group = c.benchmark_group("stereo/reverb stereo 48k");
    group.throughput(Throughput::Elements(FRAMES as u64));
    let new_reverb = || {
        let mut r = Reverb::new(
            vec![0.0f32; Reverb::<Vec<f32>>::required_storage(FS)],
            ReverbParams::default(),
        );
        r.prepare(&spec()).unwrap();
        r
    };
    let mut r = new_reverb();
    group.bench_function(BenchmarkId::from_parameter("music"), |b| {
        b.iter_batched_ref(
            || audio.clone(),
            |buf| {
                run(&mut r, buf);
                black_box(buf);
            },
            BatchSize::LargeInput,
        )
    });
    // Silent tails: the state after music and then `s` seconds of silence (at RT60 1.2 s,
    // 10 s of silence is 500 dB down: the next second crosses the range where f32 would go
    // subnormal without flushing). Each iteration processes one second of silence from that
    // state.
    for s in [0usize, 10] {
        let mut r = new_reverb();
        let mut buf = audio.clone();
        run(&mut r, &mut buf);
        for _ in 0..s {
            let mut silence = vec![[0.0f32; 2]; FRAMES];
            run(&mut r, &mut silence);
        }
        let name = format!("silent tail after {s} s");
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_batched_ref(
                || (r.clone(), vec![[0.0f32; 2]; FRAMES]),
                |(rv, buf)| {
                    run(rv, buf);
                    black_box(buf);
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, imager, meters, reverb);
criterion_main!(benches);
