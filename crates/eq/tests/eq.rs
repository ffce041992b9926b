//! The parametric EQ as a processor: contract, measured responses, click-free automation,
//! low-frequency precision, non-finite input, errors.

use core::f64::consts::PI;
use lathe_core::{gain_to_db, Error, ProcessSpec, Processor};
use lathe_eq::{BandParams, Design, FilterKind, ParametricEq, Svf, SvfCoeffs, SANITIZE_FRAMES};
use lathe_testkit::{contract_tests, signals, ContractOptions, LatencyCheck};
use num_complex::Complex64;
use proptest::prelude::*;
use realfft::RealFftPlanner;

lathe_testkit::install_counting_allocator!();

fn eq_with<const CH: usize, const N: usize>(bands: &[BandParams]) -> ParametricEq<CH, N> {
    let mut eq = ParametricEq::new();
    for (i, b) in bands.iter().enumerate() {
        eq.set_band(i, *b).unwrap();
    }
    eq
}

fn mastering_mix() -> Vec<BandParams> {
    vec![
        BandParams::high_pass(30.0, 2),
        BandParams::low_shelf(120.0, 2.0, 0.7),
        BandParams::peak(3_000.0, -2.5, 1.4),
        BandParams::high_shelf(10_000.0, 1.5, 0.7),
        BandParams::low_pass(20_000.0, 4),
    ]
}

fn bells_mix() -> Vec<BandParams> {
    vec![
        BandParams::peak(80.0, 4.0, 0.8),
        BandParams::peak(400.0, -3.0, 2.0),
        BandParams {
            design: Design::Rbj,
            ..BandParams::peak(2_500.0, 2.0, 1.0)
        },
        BandParams::high_shelf(12_000.0, -3.0, 0.7),
        BandParams::tilt(1_000.0, 1.5),
    ]
}

fn special_mix() -> Vec<BandParams> {
    vec![
        BandParams::high_pass(20.0, 8),
        BandParams::notch(50.0, 10.0),
        BandParams::all_pass(500.0, 0.7),
        BandParams {
            enabled: false,
            ..BandParams::peak(700.0, 12.0, 1.0)
        },
        BandParams {
            design: Design::Rbj,
            ..BandParams::low_pass(18_000.0, 3)
        },
        BandParams::band_pass(2_000.0, 0.3),
    ]
}

fn first_significant() -> ContractOptions {
    ContractOptions {
        latency: LatencyCheck::FirstSignificant,
        ..ContractOptions::default()
    }
}

contract_tests!(
    eq_mastering_mix,
    |fs| eq_with::<CH, 8>(&mastering_mix()),
    first_significant()
);
contract_tests!(eq_bells_and_shelves, |fs| eq_with::<CH, 5>(&bells_mix()));
contract_tests!(
    eq_passes_notch_allpass_bandpass,
    |fs| eq_with::<CH, 6>(&special_mix()),
    first_significant()
);
contract_tests!(eq_all_bands_off, |fs| ParametricEq::<CH, 4>::new());
contract_tests!(eq_single_dc_blocker, |fs| eq_with::<CH, 1>(&[
    BandParams::high_pass(5.0, 1)
]));

/// Impulse response of `eq` (mono), `n` samples, in `f64`.
fn impulse_response<const N: usize>(eq: &mut ParametricEq<1, N>, n: usize) -> Vec<f64> {
    let mut buf = signals::to_frames::<1>(&signals::impulse(1.0, 0, n));
    eq.process(&mut buf);
    buf.iter().map(|f| f64::from(f[0])).collect()
}

fn spectrum(x: &[f64]) -> Vec<Complex64> {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(x.len());
    let mut input = x.to_vec();
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).unwrap();
    out
}

/// Measured (impulse -> FFT) against analytic response; returns the worst dB error over
/// bins where the analytic magnitude is above -40 dB, and checks the complex error.
fn measured_vs_analytic<const N: usize>(bands: &[BandParams], fs: f64, n: usize) -> f64 {
    let mut eq: ParametricEq<1, N> = eq_with(bands);
    eq.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
    let h = impulse_response(&mut eq, n);
    // The response must have decayed: the last 1 % of the window is silent.
    let tail = h[n - n / 100..].iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(tail < 1e-7, "impulse response has not decayed: {tail}");
    let spec = spectrum(&h);
    let mut worst = 0.0f64;
    for (k, y) in spec.iter().enumerate().skip(1) {
        let f = k as f64 * fs / n as f64;
        let a = eq.response(f);
        if gain_to_db(a.norm()) > -40.0 {
            worst = worst.max((gain_to_db(y.norm()) - gain_to_db(a.norm())).abs());
            let rel = (y - a).norm() / a.norm();
            assert!(rel < 1.2e-3, "complex response differs by {rel} at {f} Hz");
        }
    }
    worst
}

#[test]
fn measured_response_matches_the_analytic_response() {
    let w = measured_vs_analytic::<8>(&mastering_mix(), 48_000.0, 1 << 16);
    assert!(w < 0.01, "mastering mix: {w} dB");
    let w = measured_vs_analytic::<8>(&bells_mix(), 44_100.0, 1 << 16);
    assert!(w < 0.01, "bells: {w} dB");
    let w = measured_vs_analytic::<8>(&special_mix(), 192_000.0, 1 << 19);
    assert!(w < 0.01, "special mix at 192 kHz: {w} dB");
    let rbj: Vec<BandParams> = bells_mix()
        .into_iter()
        .map(|b| BandParams {
            design: Design::Rbj,
            ..b
        })
        .collect();
    let w = measured_vs_analytic::<8>(&rbj, 96_000.0, 1 << 17);
    assert!(w < 0.01, "rbj bells at 96 kHz: {w} dB");
}

#[test]
fn response_is_the_product_of_the_band_designs() {
    let fs = 48_000.0;
    let mut eq: ParametricEq<2, 8> = eq_with(&mastering_mix());
    eq.prepare(&ProcessSpec::new(fs, 64)).unwrap();
    for f in [20.0, 300.0, 3_000.0, 21_000.0] {
        let want = mastering_mix()
            .iter()
            .map(|b| lathe_eq::design_band(b, fs).unwrap().response(f, fs))
            .product::<Complex64>();
        assert!((eq.response(f) - want).norm() < 1e-12);
        let bands = (0..8)
            .map(|i| eq.band_response(i, f))
            .product::<Complex64>();
        assert!((eq.response(f) - bands).norm() < 1e-12);
    }
    // Disabled bands and an empty EQ are flat.
    assert_eq!(
        ParametricEq::<1, 3>::new().response(1_000.0),
        Complex64::new(1.0, 0.0)
    );
}

/// Level in dB of the part of `x` above `cutoff_hz` relative to the whole, worst over
/// Blackman-Harris windows of 4096 frames hopping by 2048.
fn hf_residual_db(x: &[f32], fs: f64, cutoff_hz: f64) -> f64 {
    let n = 4096;
    let win: Vec<f64> = (0..n)
        .map(|i| {
            let t = 2.0 * PI * i as f64 / n as f64;
            0.35875 - 0.48829 * t.cos() + 0.14128 * (2.0 * t).cos() - 0.01168 * (3.0 * t).cos()
        })
        .collect();
    let k0 = (cutoff_hz * n as f64 / fs) as usize;
    let mut worst = f64::NEG_INFINITY;
    let mut start = 0;
    while start + n <= x.len() {
        let seg: Vec<f64> = x[start..start + n]
            .iter()
            .zip(&win)
            .map(|(&v, w)| f64::from(v) * w)
            .collect();
        let s = spectrum(&seg);
        let total: f64 = s.iter().map(|c| c.norm_sqr()).sum();
        let high: f64 = s[k0..].iter().map(|c| c.norm_sqr()).sum();
        worst = worst.max(10.0 * (high / total).log10());
        start += n / 2;
    }
    worst
}

/// A 150 Hz sine through a peak band automated every 32 frames: the frequency sweeps
/// 60 Hz -> 6 kHz -> 60 Hz, the gain swings ±12 dB at 3 Hz and Q moves 0.7 ..= 4.
fn automated_sweep(smoothing_ms: f64) -> Vec<f32> {
    let fs = 48_000.0;
    let n = (1.5 * fs) as usize;
    let x = signals::sine(150.0, 0.5, 0.0, fs, n);
    let mut frames = signals::to_frames::<1>(&x);
    let mut eq: ParametricEq<1, 2> = ParametricEq::new();
    eq.set_smoothing_ms(smoothing_ms).unwrap();
    eq.prepare(&ProcessSpec::new(fs, 32)).unwrap();
    eq.set_band(0, BandParams::peak(60.0, 0.0, 0.7)).unwrap();
    eq.set_band(1, BandParams::low_shelf(200.0, 0.0, 0.7))
        .unwrap();
    for (i, block) in frames.chunks_mut(32).enumerate() {
        let t = (i * 32) as f64 / fs;
        let phase = (t / 1.5 * 2.0 * PI).sin().abs(); // 0 -> 1 -> 0
        let f = 60.0 * 100f64.powf(phase);
        let g = 12.0 * (2.0 * PI * 3.0 * t).sin();
        let q = 0.7 + 3.3 * phase;
        eq.set_band(0, BandParams::peak(f, g, q)).unwrap();
        eq.set_band(1, BandParams::low_shelf(200.0, -g / 2.0, 0.7))
            .unwrap();
        eq.process(block);
    }
    signals::channel(&frames, 0)
}

#[test]
fn fast_automation_of_frequency_and_gain_does_not_click() {
    let fs = 48_000.0;
    let smooth = automated_sweep(20.0);
    let jumpy = automated_sweep(0.0);
    let r_smooth = hf_residual_db(&smooth, fs, 2_000.0);
    let r_jumpy = hf_residual_db(&jumpy, fs, 2_000.0);
    // The energy above 2 kHz (the input is a 150 Hz sine) stays far below the signal.
    assert!(
        r_smooth < -95.0,
        "smoothed sweep: residual {r_smooth:.1} dB"
    );
    // And the check can fail: coefficient jumps every 32 frames are much worse.
    assert!(
        r_jumpy > r_smooth + 20.0,
        "unsmoothed {r_jumpy:.1} dB vs smoothed {r_smooth:.1} dB"
    );
    assert!(smooth.iter().all(|v| v.is_finite() && v.abs() < 4.0));
}

#[test]
fn switching_bands_and_kinds_cross_fades_without_clicks() {
    let fs = 48_000.0;
    let n = fs as usize;
    let x = signals::sine(220.0, 0.5, 0.0, fs, n);
    let run = |smoothing_ms: f64| {
        let mut frames = signals::to_frames::<1>(&x);
        let mut eq: ParametricEq<1, 2> = ParametricEq::new();
        eq.set_smoothing_ms(smoothing_ms).unwrap();
        eq.prepare(&ProcessSpec::new(fs, 64)).unwrap();
        eq.set_band(0, BandParams::peak(250.0, 9.0, 1.0)).unwrap();
        let kinds = [
            BandParams::peak(250.0, 9.0, 1.0),
            BandParams {
                enabled: false,
                ..BandParams::peak(250.0, 9.0, 1.0)
            },
            BandParams::low_shelf(400.0, -9.0, 0.7),
            BandParams::high_pass(150.0, 8),
            BandParams {
                design: Design::Rbj,
                ..BandParams::high_pass(150.0, 8)
            },
            BandParams::low_pass(300.0, 1),
            BandParams::notch(200.0, 2.0),
        ];
        for (i, block) in frames.chunks_mut(64).enumerate() {
            if i % 100 == 50 {
                eq.set_band(0, kinds[(i / 100) % kinds.len()]).unwrap();
            }
            eq.process(block);
        }
        signals::channel(&frames, 0)
    };
    let smooth = hf_residual_db(&run(20.0), fs, 2_000.0);
    let jumpy = hf_residual_db(&run(0.0), fs, 2_000.0);
    assert!(smooth < -90.0, "switching: residual {smooth:.1} dB");
    assert!(jumpy > smooth + 20.0, "{jumpy:.1} vs {smooth:.1}");
}

#[test]
fn output_does_not_depend_on_block_splits_while_smoothing() {
    let fs = 44_100.0;
    let input: Vec<[f32; 2]> = signals::frames_from_fn(20_000, |i, ch| {
        let t = i as f64 / fs;
        (0.4 * (2.0 * PI * (300.0 + 200.0 * ch as f64) * t).sin()) as f32
    });
    let run = |chunk: usize| {
        let mut eq: ParametricEq<2, 4> = eq_with(&mastering_mix()[..4]);
        eq.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
        let mut buf = input.clone();
        let (a, rest) = buf.split_at_mut(3_000);
        eq.process(a);
        // A glide, a structural change, and a new target while both are in progress.
        eq.set_band(2, BandParams::peak(800.0, 6.0, 3.0)).unwrap();
        eq.set_band(1, BandParams::high_pass(60.0, 6)).unwrap();
        let (b, rest) = rest.split_at_mut(700);
        eq.process(b);
        eq.set_band(2, BandParams::peak(5_000.0, -6.0, 0.5))
            .unwrap();
        eq.set_band(
            3,
            BandParams {
                enabled: false,
                ..mastering_mix()[3]
            },
        )
        .unwrap();
        for block in rest.chunks_mut(chunk) {
            eq.process(block);
        }
        assert!(!eq.is_smoothing());
        buf
    };
    let whole = run(usize::MAX);
    for chunk in [1, 7, 32, 64, 333] {
        let split = run(chunk);
        let same = whole
            .iter()
            .zip(&split)
            .all(|(a, b)| a[0].to_bits() == b[0].to_bits() && a[1].to_bits() == b[1].to_bits());
        assert!(same, "chunks of {chunk} differ while smoothing");
    }
}

/// Amplitude of the `freq_hz` component of `y` (I/Q correlation over whole periods).
fn amplitude(y: &[f64], freq_hz: f64, fs: f64) -> (f64, Vec<f64>) {
    let w = 2.0 * PI * freq_hz / fs;
    let period = fs / freq_hz;
    let n = ((y.len() as f64 / period).floor() * period) as usize;
    let (mut i, mut q) = (0.0, 0.0);
    for (k, v) in y[..n].iter().enumerate() {
        i += v * (w * k as f64).sin();
        q += v * (w * k as f64).cos();
    }
    let (a, b) = (2.0 * i / n as f64, 2.0 * q / n as f64);
    let residual = y[..n]
        .iter()
        .enumerate()
        .map(|(k, v)| v - a * (w * k as f64).sin() - b * (w * k as f64).cos())
        .collect();
    ((a * a + b * b).sqrt(), residual)
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn low_frequency_high_pass_at_192k_keeps_a_clean_noise_floor() {
    // 20 Hz Butterworth high-pass at 192 kHz on a 1 kHz sine: after the transient, the
    // output minus the fitted sine (rounding noise) must be far below the signal.
    let fs = 192_000.0;
    let n = (1.5 * fs) as usize;
    let x = signals::sine(1_000.0, 0.5, 0.0, fs, n);
    for order in [2u8, 8] {
        let mut eq: ParametricEq<1, 1> = eq_with(&[BandParams::high_pass(20.0, order)]);
        eq.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
        let mut frames = signals::to_frames::<1>(&x);
        eq.process(&mut frames);
        let y: Vec<f64> = frames[n / 3..].iter().map(|f| f64::from(f[0])).collect();
        let (amp, residual) = amplitude(&y, 1_000.0, fs);
        let floor_db = gain_to_db(rms(&residual) / (amp / 2f64.sqrt()));
        // f32 output rounding alone is about -150 dB re this sine; measured -150 dB.
        assert!(
            floor_db < -145.0,
            "order {order}: noise floor {floor_db:.1} dB"
        );
        let expect = eq.response(1_000.0).norm() * 0.5;
        assert!((amp - expect).abs() < 1e-6, "{amp} vs {expect}");
    }
    // The same filter in plain f32 direct form is far noisier: the test can tell.
    let c = lathe_eq::design_band(&BandParams::high_pass(20.0, 2), fs)
        .unwrap()
        .as_slice()[0];
    let (b0, b1, b2, a1, a2) = (
        c.b0 as f32,
        c.b1 as f32,
        c.b2 as f32,
        c.a1 as f32,
        c.a2 as f32,
    );
    let (mut s0, mut s1) = (0.0f32, 0.0f32);
    let y: Vec<f64> = x
        .iter()
        .map(|&v| {
            let y = b0 * v + s0;
            s0 = b1 * v - a1 * y + s1;
            s1 = b2 * v - a2 * y;
            f64::from(y)
        })
        .collect();
    let (amp, residual) = amplitude(&y[n / 3..], 1_000.0, fs);
    let naive_db = gain_to_db(rms(&residual) / (amp / 2f64.sqrt()));
    assert!(naive_db > -100.0, "naive f32 direct form: {naive_db:.1} dB");
}

#[test]
fn low_frequency_corner_is_measured_where_designed() {
    // A 20 Hz order-8 high-pass at 192 kHz measures -3.01 dB at 20 Hz.
    let fs = 192_000.0;
    let n = (6.0 * fs) as usize;
    let x = signals::sine(20.0, 0.5, 0.0, fs, n);
    let mut eq: ParametricEq<1, 1> = eq_with(&[BandParams::high_pass(20.0, 8)]);
    eq.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
    let mut frames = signals::to_frames::<1>(&x);
    eq.process(&mut frames);
    let y: Vec<f64> = frames[n / 2..].iter().map(|f| f64::from(f[0])).collect();
    let (amp, _) = amplitude(&y, 20.0, fs);
    let d = gain_to_db(amp / 0.5);
    assert!((d + 3.0103).abs() < 0.002, "{d} dB at 20 Hz");
}

#[test]
fn non_finite_input_never_poisons_the_state() {
    let fs = 48_000.0;
    let n = 48_000;
    let noise = signals::white_noise(0.2, 5, n);
    let input: Vec<[f32; 2]> = noise.iter().map(|&v| [v, -v]).collect();
    let mut bad = input.clone();
    bad[1_000][0] = f32::NAN;
    bad[3_001][1] = f32::INFINITY;
    bad[3_002][0] = f32::NEG_INFINITY;
    let run = |x: &[[f32; 2]], chunk: usize| {
        let mut eq: ParametricEq<2, 8> = eq_with(&mastering_mix());
        eq.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
        let mut buf = x.to_vec();
        for b in buf.chunks_mut(chunk) {
            eq.process(b);
        }
        buf
    };
    let clean = run(&input, 512);
    for chunk in [1, 100, 4096] {
        let out = run(&bad, chunk);
        // Non-finite output lasts at most until the next sanitising grid point.
        let grid = SANITIZE_FRAMES as usize;
        for (i, f) in out.iter().enumerate() {
            let poisoned = (1_000..1_024).contains(&i) || (3_001..3_008 + grid).contains(&i);
            if !poisoned {
                assert!(
                    f.iter().all(|v| v.is_finite()),
                    "chunk {chunk}: non-finite output at {i}: {f:?}"
                );
            }
        }
        assert!(out[1_024..].iter().take(64).all(|f| f[0].is_finite()));
        // Non-finite input reads as silence: the output is finite throughout.
        assert!(
            out.iter().flatten().all(|v| v.is_finite()),
            "chunk {chunk}: non-finite output"
        );
        // Once the transients of the restart have died away the output is the clean one.
        let tail = out[40_000..]
            .iter()
            .zip(&clean[40_000..])
            .fold(0.0f32, |m, (a, b)| {
                m.max((a[0] - b[0]).abs()).max((a[1] - b[1]).abs())
            });
        assert!(tail < 1e-4, "chunk {chunk}: still differs by {tail}");
    }
}

#[test]
fn bad_parameters_return_precise_errors_and_keep_the_old_ones() {
    let mut eq: ParametricEq<2, 3> = ParametricEq::new();
    let good = BandParams::peak(1_000.0, 3.0, 1.0);
    eq.set_band(0, good).unwrap();
    let tries = [
        (
            BandParams::peak(30_000.0, 3.0, 1.0),
            Error::AboveNyquist {
                freq_hz: 30_000.0,
                nyquist_hz: 24_000.0,
            },
        ),
        (
            BandParams::peak(1_000.0, -25.0, 1.0),
            Error::OutOfRange {
                param: "gain_db",
                value: -25.0,
                min: -24.0,
                max: 24.0,
            },
        ),
        (
            BandParams::notch(1_000.0, 50.0),
            Error::OutOfRange {
                param: "q",
                value: 50.0,
                min: 0.1,
                max: 40.0,
            },
        ),
        (
            BandParams::high_pass(1_000.0, 0),
            Error::OutOfRange {
                param: "order",
                value: 0.0,
                min: 1.0,
                max: 8.0,
            },
        ),
    ];
    for (p, e) in tries {
        assert_eq!(eq.set_band(0, p), Err(e));
        assert_eq!(eq.band(0), Some(good));
    }
    assert_eq!(
        eq.set_band(3, good),
        Err(Error::CapacityExceeded {
            needed: 4,
            capacity: 3
        })
    );
    // A disabled band is not checked against Nyquist; enabling it is.
    let off_high = BandParams {
        enabled: false,
        ..BandParams::peak(30_000.0, 3.0, 1.0)
    };
    eq.set_band(1, off_high).unwrap();
    // prepare at 96 kHz, enable at 30 kHz, then prepare at 44.1 kHz must fail and keep 96 kHz.
    Processor::<2>::prepare(&mut eq, &ProcessSpec::new(96_000.0, 64)).unwrap();
    eq.set_band(
        1,
        BandParams {
            enabled: true,
            ..off_high
        },
    )
    .unwrap();
    let before = eq.response(5_000.0);
    assert_eq!(
        Processor::<2>::prepare(&mut eq, &ProcessSpec::new(44_100.0, 64)),
        Err(Error::AboveNyquist {
            freq_hz: 30_000.0,
            nyquist_hz: 22_050.0
        })
    );
    assert_eq!(eq.sample_rate(), 96_000.0);
    assert_eq!(eq.response(5_000.0), before);
    assert!(matches!(
        Processor::<2>::prepare(&mut eq, &ProcessSpec::new(1_000.0, 64)),
        Err(Error::UnsupportedSampleRate { .. })
    ));
    assert_eq!(
        eq.set_smoothing_ms(-1.0),
        Err(Error::OutOfRange {
            param: "smoothing_ms",
            value: -1.0,
            min: 0.0,
            max: 1_000.0
        })
    );
}

/// Steady-state gain in dB of `eq` at `freq_hz`, measured on the last half of a 0.25 s sine.
fn measure_db<const N: usize>(eq: &mut ParametricEq<1, N>, freq_hz: f64, fs: f64) -> f64 {
    let n = (0.25 * fs) as usize;
    let x = signals::sine(freq_hz, 0.25, 0.0, fs, n);
    let mut frames = signals::to_frames::<1>(&x);
    eq.process(&mut frames);
    let y: Vec<f64> = frames[n / 2..].iter().map(|f| f64::from(f[0])).collect();
    gain_to_db(amplitude(&y, freq_hz, fs).0 / 0.25)
}

#[test]
fn changes_apply_at_once_before_audio_and_glide_while_running() {
    let fs = 48_000.0;
    let mut eq: ParametricEq<1, 2> = ParametricEq::new();
    Processor::<1>::prepare(&mut eq, &ProcessSpec::new(fs, 512)).unwrap();
    eq.set_band(0, BandParams::peak(1_000.0, 6.0, 1.0)).unwrap();
    assert!(!eq.is_smoothing(), "no audio yet: applied at once");
    assert!((measure_db(&mut eq, 1_000.0, fs) - 6.0).abs() < 0.01);
    // While running: smoothed, landing on the new target.
    eq.set_band(0, BandParams::peak(1_000.0, -6.0, 1.0))
        .unwrap();
    assert!(eq.is_smoothing());
    let mut first = signals::to_frames::<1>(&signals::sine(1_000.0, 0.25, 0.0, fs, 96));
    eq.process(&mut first);
    // One ms into a 20 ms ramp the gain is still near +6 dB.
    let early = first[48..].iter().fold(0.0f32, |m, f| m.max(f[0].abs()));
    assert!(early > 0.25 * 1.5, "{early}");
    assert!((measure_db(&mut eq, 1_000.0, fs) + 6.0).abs() < 0.01);
    assert!(!eq.is_smoothing());
    // Kind change and switching off while running.
    eq.set_band(0, BandParams::high_shelf(500.0, 6.0, 0.7))
        .unwrap();
    assert!((measure_db(&mut eq, 8_000.0, fs) - 6.0).abs() < 0.01);
    eq.set_band(
        0,
        BandParams {
            enabled: false,
            ..BandParams::high_shelf(500.0, 6.0, 0.7)
        },
    )
    .unwrap();
    assert!(measure_db(&mut eq, 8_000.0, fs).abs() < 0.01);
    // reset() lands on the targets at once.
    eq.set_band(1, BandParams::low_pass(2_000.0, 4)).unwrap();
    Processor::<1>::reset(&mut eq);
    assert!(!eq.is_smoothing());
    assert!((measure_db(&mut eq, 2_000.0, fs) + 3.0103).abs() < 0.01);
}

#[test]
fn reset_mid_glide_equals_a_fresh_instance() {
    let fs = 48_000.0;
    let target = [
        BandParams::peak(900.0, -4.0, 2.0),
        BandParams::low_pass(9_000.0, 6),
    ];
    let x = signals::to_frames::<2>(&signals::white_noise(0.3, 9, 5_000));
    let mut eq: ParametricEq<2, 2> = eq_with(&[BandParams::peak(300.0, 5.0, 1.0)]);
    eq.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let mut warm = x.clone();
    eq.process(&mut warm[..1000]);
    eq.set_band(0, target[0]).unwrap();
    eq.set_band(1, target[1]).unwrap();
    eq.process(&mut warm[1000..1200]);
    assert!(eq.is_smoothing());
    eq.reset();
    let mut a = x.clone();
    eq.process(&mut a);
    let mut fresh: ParametricEq<2, 2> = eq_with(&target);
    fresh.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let mut b = x.clone();
    fresh.process(&mut b);
    assert_eq!(a, b);
}

#[test]
fn every_kind_runs_in_the_eq_and_matches_its_design() {
    // The SVF realisation reproduces each design's magnitude at a few frequencies.
    let fs = 96_000.0;
    for kind in [
        FilterKind::Peak,
        FilterKind::LowShelf,
        FilterKind::HighShelf,
        FilterKind::LowPass,
        FilterKind::HighPass,
        FilterKind::BandPass,
        FilterKind::Notch,
        FilterKind::AllPass,
        FilterKind::Tilt,
    ] {
        let p = BandParams {
            kind,
            freq_hz: 2_000.0,
            gain_db: 7.0,
            q: 1.3,
            order: 5,
            ..BandParams::default()
        };
        let mut eq: ParametricEq<1, 1> = eq_with(&[p]);
        eq.prepare(&ProcessSpec::new(fs, 512)).unwrap();
        for f in [700.0, 2_000.0, 5_000.0] {
            let want = gain_to_db(eq.response(f).norm());
            if want < -40.0 {
                continue;
            }
            let got = measure_db(&mut eq, f, fs);
            assert!(
                (got - want).abs() < 0.01,
                "{kind:?} at {f}: {got} vs {want}"
            );
        }
    }
}

/// The EQ's designed sections as independent `f64` SVFs (the arithmetic of the smoothing
/// path), run frame by frame: the reference for the still path.
fn svf_reference<const CH: usize, const N: usize>(
    eq: &ParametricEq<CH, N>,
    x: &[[f32; CH]],
) -> Vec<[f64; CH]> {
    let mut svfs: Vec<Svf<CH>> = (0..N)
        .filter_map(|i| eq.band_sections(i))
        .flat_map(|s| {
            s.as_slice()
                .iter()
                .map(|c| Svf::new(SvfCoeffs::from_coeffs(c).unwrap()))
                .collect::<Vec<_>>()
        })
        .collect();
    x.iter()
        .map(|f| {
            let mut v = f.map(f64::from);
            for s in &mut svfs {
                v = s.tick_frame(v);
            }
            v
        })
        .collect()
}

/// Worst absolute difference and the RMS difference in dB relative to the reference's RMS.
fn difference<const CH: usize>(y: &[[f32; CH]], reference: &[[f64; CH]]) -> (f64, f64) {
    let (mut worst, mut err, mut power) = (0.0f64, 0.0, 0.0);
    for (a, b) in y.iter().zip(reference) {
        for ch in 0..CH {
            let d = f64::from(a[ch]) - b[ch];
            worst = worst.max(d.abs());
            err += d * d;
            power += b[ch] * b[ch];
        }
    }
    (worst, 10.0 * (err / power).log10())
}

fn test_input<const CH: usize>(fs: f64, n: usize) -> Vec<[f32; CH]> {
    let noise: Vec<Vec<f32>> = (0..CH)
        .map(|ch| signals::white_noise(0.2, 31 + ch as u64, n))
        .collect();
    signals::frames_from_fn(n, |i, ch| {
        let t = i as f64 / fs;
        noise[ch][i] + (0.3 * (2.0 * PI * (220.0 + 90.0 * ch as f64) * t).sin()) as f32
    })
}

fn bench_bands() -> Vec<BandParams> {
    vec![
        BandParams::low_shelf(100.0, 2.0, 0.7),
        BandParams::peak(400.0, -3.0, 1.5),
        BandParams::peak(2_500.0, 2.0, 1.0),
        BandParams::peak(6_000.0, -1.5, 2.0),
        BandParams::high_shelf(10_000.0, 1.5, 0.7),
    ]
}

#[test]
fn the_still_path_matches_an_f64_svf_reference() {
    // Low bands run in f64 and the rest in f32 (see the crate docs); against the all-f64
    // SVF cascade the output stays within the f32 rounding of the mid and high bands.
    let high_only = vec![
        BandParams::peak(1_000.0, 4.0, 1.0),
        BandParams::peak(2_500.0, -3.0, 2.0),
        BandParams::high_shelf(8_000.0, 2.0, 0.7),
        BandParams::peak(12_000.0, 3.0, 0.7),
        BandParams::low_pass(20_000.0, 4),
        BandParams::notch(5_000.0, 4.0),
        BandParams::all_pass(3_000.0, 0.7),
    ];
    let cases: Vec<(&str, Vec<BandParams>, f64)> = vec![
        ("bench bands", bench_bands(), 48_000.0),
        ("mastering mix", mastering_mix(), 44_100.0),
        ("bells", bells_mix(), 96_000.0),
        ("special", special_mix(), 48_000.0),
        ("high bands only", high_only, 48_000.0),
    ];
    for (name, bands, fs) in cases {
        let n = (0.5 * fs) as usize;
        let x = test_input::<2>(fs, n);
        let mut eq: ParametricEq<2, 8> = eq_with(&bands);
        eq.prepare(&ProcessSpec::new(fs, 512)).unwrap();
        let want = svf_reference(&eq, &x);
        let mut y = x.clone();
        for block in y.chunks_mut(300) {
            eq.process(block);
        }
        let (worst, rel_db) = difference(&y, &want);
        // Measured: 1.1e-7 to 2.8e-7, -127 to -140 dB.
        assert!(worst < 1e-6, "{name}: worst difference {worst:e}");
        assert!(rel_db < -120.0, "{name}: difference {rel_db:.1} dB");
        // Mono runs the same sections section by section.
        let xm: Vec<[f32; 1]> = x.iter().map(|f| [f[0]]).collect();
        let mut eqm: ParametricEq<1, 8> = eq_with(&bands);
        eqm.prepare(&ProcessSpec::new(fs, 512)).unwrap();
        let want = svf_reference(&eqm, &xm);
        let mut ym = xm.clone();
        eqm.process(&mut ym);
        let (worst, rel_db) = difference(&ym, &want);
        assert!(
            worst < 1e-6 && rel_db < -120.0,
            "{name} mono: {worst:e}, {rel_db:.1} dB"
        );
    }
}

#[test]
fn f32_sections_keep_the_noise_floor_low() {
    // Mid and high bands (all f32 sections) on a 1 kHz sine: after the transient, the
    // residual around the fitted sine is rounding noise only.
    let fs = 48_000.0;
    let n = fs as usize;
    let x = signals::sine(1_000.0, 0.5, 0.0, fs, n);
    let floor = |bands: &[BandParams]| {
        let mut eq: ParametricEq<2, 4> = eq_with(bands);
        eq.prepare(&ProcessSpec::new(fs, 512)).unwrap();
        let mut frames = signals::to_frames::<2>(&x);
        eq.process(&mut frames);
        let y: Vec<f64> = frames[n / 3..].iter().map(|f| f64::from(f[0])).collect();
        let (amp, residual) = amplitude(&y, 1_000.0, fs);
        gain_to_db(rms(&residual) / (amp / 2f64.sqrt()))
    };
    let high = [
        BandParams::peak(2_500.0, 2.0, 1.0),
        BandParams::peak(6_000.0, -1.5, 2.0),
        BandParams::high_shelf(10_000.0, 1.5, 0.7),
        BandParams::peak(1_200.0, 3.0, 0.7),
    ];
    let f = floor(&high);
    // Measured -142 dB (the f64 path: -147 dB, the f32 output's rounding alone -150 dB).
    assert!(f < -135.0, "f32 sections: noise floor {f:.1} dB");
    // A sharp low band keeps f64 state: the floor stays at the f32 output's.
    let low = [
        BandParams::peak(60.0, 6.0, 4.0),
        BandParams::low_shelf(90.0, 3.0, 0.7),
    ];
    let f = floor(&low);
    assert!(f < -144.0, "f64 sections: noise floor {f:.1} dB");
}

#[test]
fn a_change_settles_onto_what_a_fresh_instance_outputs() {
    // Glide a band while running; once the glide is over and its transient has died away,
    // the output is the one of an instance set up with the new parameters from the start
    // (the still path takes over exactly where the glide ends).
    let fs = 48_000.0;
    let n = (1.25 * fs) as usize;
    let x = test_input::<2>(fs, n);
    let new_band = BandParams::peak(3_500.0, 5.0, 1.4);
    let mut eq: ParametricEq<2, 8> = eq_with(&bench_bands());
    eq.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let mut y = x.clone();
    let change_at = (0.25 * fs) as usize;
    let (head, tail) = y.split_at_mut(change_at);
    for block in head.chunks_mut(128) {
        eq.process(block);
    }
    eq.set_band(2, new_band).unwrap();
    assert!(eq.is_smoothing());
    for block in tail.chunks_mut(77) {
        eq.process(block);
    }
    assert!(!eq.is_smoothing());
    let mut fresh_bands = bench_bands();
    fresh_bands[2] = new_band;
    let mut fresh: ParametricEq<2, 8> = eq_with(&fresh_bands);
    fresh.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let mut z = x.clone();
    fresh.process(&mut z);
    let diff = |a: &[[f32; 2]], b: &[[f32; 2]]| {
        a.iter().zip(b).fold(0.0f32, |m, (p, q)| {
            m.max((p[0] - q[0]).abs()).max((p[1] - q[1]).abs())
        })
    };
    let settled = diff(&y[n - (0.5 * fs) as usize..], &z[n - (0.5 * fs) as usize..]);
    assert!(settled < 1e-6, "settled output differs by {settled:e}");
    // And the comparison can fail: right after the change the two differ audibly.
    let early = diff(
        &y[change_at..change_at + 480],
        &z[change_at..change_at + 480],
    );
    assert!(early > 1e-3, "{early}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any band set, any block sizes: bit-identical output (the still path's stereo and mono
    /// kernels, their fill and drain, and the sanitising events inside the pipeline).
    #[test]
    fn any_bands_any_blocks_give_the_same_output(
        picks in proptest::collection::vec((0usize..9, 0.0f64..1.0, -12.0f64..12.0, 0.3f64..8.0, 1u8..=8), 1..=8),
        sizes in proptest::collection::vec(1usize..300, 1..40),
        nan_at in proptest::option::of(0usize..6_000),
    ) {
        let fs = 48_000.0;
        let kinds = [
            FilterKind::Peak, FilterKind::LowShelf, FilterKind::HighShelf, FilterKind::LowPass,
            FilterKind::HighPass, FilterKind::BandPass, FilterKind::Notch, FilterKind::AllPass,
            FilterKind::Tilt,
        ];
        let bands: Vec<BandParams> = picks
            .iter()
            .map(|&(k, f, g, q, order)| BandParams {
                kind: kinds[k],
                freq_hz: 20.0 * 1_000f64.powf(f),
                gain_db: g,
                q,
                order,
                ..BandParams::default()
            })
            .collect();
        let n = 6_000;
        let mut x = test_input::<2>(fs, n);
        if let Some(i) = nan_at {
            x[i][1] = f32::NAN;
        }
        let run = |sizes: &[usize]| {
            let mut eq: ParametricEq<2, 8> = eq_with(&bands);
            eq.prepare(&ProcessSpec::new(fs, 512)).unwrap();
            let mut y = x.clone();
            let mut rest = &mut y[..];
            for &s in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (block, tail) = rest.split_at_mut(s.min(rest.len()));
                eq.process(block);
                rest = tail;
            }
            y
        };
        let whole = run(&[n]);
        let split = run(&sizes);
        let bits = |y: &[[f32; 2]]| y.iter().flat_map(|f| f.map(f32::to_bits)).collect::<Vec<_>>();
        prop_assert!(bits(&whole) == bits(&split));
        // Non-finite output ends at the next multiple of 64 frames after the NaN.
        let clean_from = nan_at.map_or(0, |i| ((i / 64 + 1) * 64).min(n));
        prop_assert!(whole[clean_from..].iter().all(|f| f.iter().all(|v| v.is_finite())));
    }
}
