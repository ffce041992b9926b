//! Throughput of the EQ kernels: one SVF vs the core TDF-II biquad, the 5-band stereo EQ
//! (still and while smoothing), the crossovers and the band-energy meter. Frames per second via
//! `Throughput::Elements(frames)`.
//!
//! Each block is a fresh copy of the input, made in batches that fit the L2 cache
//! (`BatchSize::LargeInput`, about 100 KB per batch): blocks arrive hot, as from a host or the
//! CLI pipeline, which hands over blocks it has just written. `SmallInput` batches reach
//! 10 MB and more, so the blocks stream from memory: that adds memory traffic and its noise
//! from other jobs (5-band EQ at 512 frames: 2.81-3.12 ns per frame over three runs, against
//! 2.78-2.79 here).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use lathe_core::{Biquad, ProcessSpec, Processor};
use lathe_eq::{design_band, BandEnergies, BandParams, Crossover, ParametricEq, Svf, SvfCoeffs};
use lathe_testkit::signals;
use std::hint::black_box;

const FS: f64 = 48_000.0;
const BLOCKS: [usize; 3] = [64, 512, 4096];

fn input<const CH: usize>(frames: usize) -> Vec<[f32; CH]> {
    signals::frames_from_fn(frames, |i, ch| {
        (0.25 * ((i as f64) * (0.031 + 0.007 * ch as f64)).sin()) as f32
    })
}

fn peak_coeffs() -> lathe_core::Coeffs {
    design_band(&BandParams::peak(1_000.0, 3.0, 1.0), FS)
        .unwrap()
        .as_slice()[0]
}

fn single_filters(c: &mut Criterion) {
    let coeffs = peak_coeffs();
    let svf = SvfCoeffs::from_coeffs(&coeffs).unwrap();
    macro_rules! bench_ch {
        ($ch:literal, $name_svf:literal, $name_bq:literal) => {{
            let mut g = c.benchmark_group($name_svf);
            for n in BLOCKS {
                g.throughput(Throughput::Elements(n as u64));
                let mut f = Svf::<$ch>::new(svf);
                let x = input::<$ch>(n);
                g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                    b.iter_batched_ref(
                        || x.clone(),
                        |buf| f.process(black_box(buf)),
                        BatchSize::LargeInput,
                    )
                });
            }
            g.finish();
            let mut g = c.benchmark_group($name_bq);
            for n in BLOCKS {
                g.throughput(Throughput::Elements(n as u64));
                let mut f = Biquad::<$ch>::new(coeffs);
                let x = input::<$ch>(n);
                g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                    b.iter_batched_ref(
                        || x.clone(),
                        |buf| {
                            for fr in black_box(buf).iter_mut() {
                                let y = f.tick_frame(fr.map(f64::from));
                                *fr = y.map(|v| v as f32);
                            }
                            f.flush();
                        },
                        BatchSize::LargeInput,
                    )
                });
            }
            g.finish();
        }};
    }
    bench_ch!(1, "eq/svf mono 48k", "eq/core tdf2 biquad mono 48k");
    bench_ch!(2, "eq/svf stereo 48k", "eq/core tdf2 biquad stereo 48k");
}

fn five_bands() -> [BandParams; 5] {
    [
        BandParams::low_shelf(100.0, 2.0, 0.7),
        BandParams::peak(400.0, -3.0, 1.5),
        BandParams::peak(2_500.0, 2.0, 1.0),
        BandParams::peak(6_000.0, -1.5, 2.0),
        BandParams::high_shelf(10_000.0, 1.5, 0.7),
    ]
}

fn eq_5band(c: &mut Criterion) {
    let mut g = c.benchmark_group("eq/5-band stereo 48k");
    for n in BLOCKS {
        g.throughput(Throughput::Elements(n as u64));
        let mut eq: ParametricEq<2, 8> = ParametricEq::new();
        for (i, b) in five_bands().iter().enumerate() {
            eq.set_band(i, *b).unwrap();
        }
        eq.prepare(&ProcessSpec::new(FS, n)).unwrap();
        let x = input::<2>(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched_ref(
                || x.clone(),
                |buf| eq.process(black_box(buf)),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();

    // While every band glides: a new frequency for every band before each block.
    let mut g = c.benchmark_group("eq/5-band stereo 48k smoothing");
    for n in BLOCKS {
        g.throughput(Throughput::Elements(n as u64));
        let mut eq: ParametricEq<2, 8> = ParametricEq::new();
        for (i, b) in five_bands().iter().enumerate() {
            eq.set_band(i, *b).unwrap();
        }
        eq.prepare(&ProcessSpec::new(FS, n)).unwrap();
        let x = input::<2>(n);
        let mut flip = false;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_batched_ref(
                || x.clone(),
                |buf| {
                    flip = !flip;
                    for (i, band) in five_bands().iter().enumerate() {
                        let f = band.freq_hz * if flip { 1.5 } else { 1.0 };
                        eq.set_band(
                            i,
                            BandParams {
                                freq_hz: f,
                                ..*band
                            },
                        )
                        .unwrap();
                    }
                    eq.process(black_box(buf));
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn crossovers(c: &mut Criterion) {
    let mut g = c.benchmark_group("eq/crossover 2-band LR4 stereo 48k");
    for n in BLOCKS {
        g.throughput(Throughput::Elements(n as u64));
        let mut x: Crossover<2, 2> = Crossover::new();
        x.set_frequencies(&[120.0]).unwrap();
        x.prepare(&ProcessSpec::new(FS, n)).unwrap();
        let inp = input::<2>(n);
        let mut lo = vec![[0.0f32; 2]; n];
        let mut hi = vec![[0.0f32; 2]; n];
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                x.split_block(black_box(&inp), &mut [&mut lo[..], &mut hi[..]]);
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("eq/crossover 4-band LR4 stereo 48k");
    for n in BLOCKS {
        g.throughput(Throughput::Elements(n as u64));
        let mut x: Crossover<2, 4> = Crossover::new();
        x.set_frequencies(&[120.0, 1_000.0, 6_000.0]).unwrap();
        x.prepare(&ProcessSpec::new(FS, n)).unwrap();
        let inp = input::<2>(n);
        let mut out = vec![vec![[0.0f32; 2]; n]; 4];
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let [b0, b1, b2, b3] = &mut out[..] else {
                    unreachable!()
                };
                x.split_block(
                    black_box(&inp),
                    &mut [&mut b0[..], &mut b1[..], &mut b2[..], &mut b3[..]],
                );
            })
        });
    }
    g.finish();
}

/// The spectrum-balance meter's four band energies (LR2 splits at 150 Hz, 1 kHz, 5 kHz) of a
/// mono signal, as `lathe analyze` runs them.
fn band_energies(c: &mut Criterion) {
    let mut g = c.benchmark_group("eq/band energies 4 bands mono 48k");
    for n in BLOCKS {
        g.throughput(Throughput::Elements(n as u64));
        let mut e = BandEnergies::<4>::new(&[150.0, 1_000.0, 5_000.0], FS).unwrap();
        let x: Vec<f32> = input::<1>(n).into_iter().map(|[s]| s).collect();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| e.process(black_box(&x)))
        });
    }
    g.finish();
}

criterion_group!(benches, single_filters, eq_5band, crossovers, band_energies);
criterion_main!(benches);
