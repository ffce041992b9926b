//! Saturation: aliasing with and without oversampling (FFT), small-signal unity gain, even
//! harmonics from bias, dry/wet alignment, DC, parameters.

use lathe_core::{db_to_gain, gain_to_db, Error, ProcessSpec, Processor};
use lathe_dynamics::{Saturation, SaturationCurve, SaturationParams};
use lathe_testkit::signals;
use realfft::RealFftPlanner;

const FS: f64 = 48_000.0;

fn saturation(p: SaturationParams) -> Saturation<1> {
    let mut s = Saturation::new(p);
    s.prepare(&ProcessSpec::new(FS, 512)).unwrap();
    s
}

/// Runs a mono signal through a fresh processor; returns the output.
fn run(p: SaturationParams, x: &[f32]) -> Vec<f32> {
    let mut s = saturation(p);
    let mut y = signals::to_frames::<1>(x);
    s.process(&mut y);
    signals::channel(&y, 0)
}

/// Power spectrum of `n` samples starting at `start` (rectangular window: the test tones are
/// periodic in the window).
fn power_spectrum(y: &[f32], start: usize, n: usize) -> Vec<f64> {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input: Vec<f64> = y[start..start + n].iter().map(|&v| f64::from(v)).collect();
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).unwrap();
    out.iter().map(|c| c.norm_sqr()).collect()
}

/// Energy at bins up to 20 kHz that are not harmonics of `f0`, relative to the total, in dB.
/// With a 5 Hz bin spacing every harmonic and every aliased component falls on a bin. (The
/// oversampling filters keep the audible band clean; between 20 kHz and Nyquist their
/// transition band lets some aliasing through by design.)
fn alias_db(y: &[f32], f0: f64) -> f64 {
    let n = 9_600; // 0.2 s: 5 Hz bins, 1000 periods of 5 kHz
    let p = power_spectrum(y, y.len() - n, n);
    let bin_hz = FS / n as f64;
    let h = (f0 / bin_hz).round() as usize;
    let (mut alias, mut total) = (0.0, 0.0);
    for (k, &e) in p.iter().enumerate().skip(1) {
        total += e;
        if k % h != 0 && k as f64 * bin_hz <= 20_000.0 {
            alias += e;
        }
    }
    10.0 * (alias / total).log10()
}

/// A 5 kHz sine driven 12 dB into tanh at 48 kHz: odd harmonics at 15, 25, 35 kHz ... fold
/// back onto non-harmonic frequencies without oversampling; 4x oversampling removes them.
#[test]
fn oversampling_suppresses_aliasing() {
    let x = signals::sine(5_000.0, 0.5, 0.0, FS, 48_000);
    let mut figures = Vec::new();
    for factor in [1u8, 2, 4, 8] {
        let y = run(
            SaturationParams {
                curve: SaturationCurve::Tanh,
                drive_db: 12.0,
                oversampling: factor,
                ..SaturationParams::default()
            },
            &x,
        );
        figures.push((factor, alias_db(&y, 5_000.0)));
    }
    let msg = figures
        .iter()
        .map(|(f, a)| format!("{f}x {a:.1} dB"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("aliased energy below 20 kHz, 5 kHz tanh +12 dB at 48 kHz: {msg}");
    let at = |f: u8| figures.iter().find(|(k, _)| *k == f).unwrap().1;
    assert!(at(1) > -50.0, "1x should alias audibly: {msg}");
    assert!(at(2) < -90.0 && at(4) < -120.0 && at(8) < -120.0, "{msg}");
    assert!(at(4) < at(1) - 60.0, "{msg}");
}

/// Every curve has unit slope at its operating point: quiet signals come out at their level,
/// delayed by the latency, whatever the drive and bias.
#[test]
fn small_signals_pass_at_unity_gain_and_latency() {
    let x = signals::sine(1_000.0, db_to_gain(-60.0), 0.3, FS, 24_000);
    for curve in [
        SaturationCurve::Tanh,
        SaturationCurve::Tube,
        SaturationCurve::Tape,
        SaturationCurve::SoftClip,
    ] {
        for (drive_db, bias) in [(0.0, 0.0), (12.0, 0.0), (6.0, 0.8), (24.0, -0.5)] {
            for oversampling in [1u8, 2, 4, 8] {
                let p = SaturationParams {
                    curve,
                    drive_db,
                    bias,
                    oversampling,
                    ..SaturationParams::default()
                };
                let lat = saturation(p).latency();
                let y = run(p, &x);
                let err = (12_000..x.len())
                    .map(|i| (f64::from(y[i]) - f64::from(x[i - lat])).abs())
                    .fold(0.0, f64::max);
                // -60 dB relative error allowed: the curve's own 3rd-order term at -60 dBFS
                // input and drive is below that, and so is the DC blocker's effect at 1 kHz.
                assert!(
                    err < db_to_gain(-60.0) * 0.02,
                    "{curve:?} drive {drive_db} bias {bias} {oversampling}x: error {err}"
                );
            }
        }
    }
}

#[test]
fn latencies_are_whole_frames_of_the_oversampling_filters() {
    for (factor, want) in [(1u8, 0usize), (2, 39), (4, 47), (8, 49)] {
        let s = saturation(SaturationParams {
            oversampling: factor,
            ..SaturationParams::default()
        });
        assert_eq!(s.latency(), want, "{factor}x");
    }
}

/// Bias makes the curve asymmetric: even harmonics appear; without bias a symmetric curve has
/// none. Tube is asymmetric by itself.
#[test]
fn bias_and_tube_add_even_harmonics() {
    let x = signals::sine(1_000.0, 0.5, 0.0, FS, 48_000);
    let h2 = |p: SaturationParams| {
        let y = run(p, &x);
        let n = 9_600;
        let s = power_spectrum(&y, y.len() - n, n);
        let bin = |f: f64| s[(f / (FS / n as f64)).round() as usize];
        10.0 * (bin(2_000.0) / bin(1_000.0)).log10()
    };
    let base = SaturationParams {
        curve: SaturationCurve::Tanh,
        drive_db: 12.0,
        ..SaturationParams::default()
    };
    let (sym, biased, tube) = (
        h2(base),
        h2(SaturationParams { bias: 0.5, ..base }),
        h2(SaturationParams {
            curve: SaturationCurve::Tube,
            ..base
        }),
    );
    assert!(sym < -100.0, "symmetric tanh: H2 {sym:.1} dBc");
    assert!(biased > -40.0, "biased: H2 {biased:.1} dBc");
    assert!(tube > -40.0, "tube: H2 {tube:.1} dBc");
}

/// The asymmetric curves make DC; the wet path's blocker removes it.
#[test]
fn no_dc_at_the_output() {
    let x = signals::sine(100.0, 0.9, 0.0, FS, 5 * 48_000);
    let y = run(
        SaturationParams {
            curve: SaturationCurve::Tube,
            drive_db: 18.0,
            bias: 1.0,
            ..SaturationParams::default()
        },
        &x,
    );
    let tail = &y[y.len() - 48_000..];
    let mean = tail.iter().map(|&v| f64::from(v)).sum::<f64>() / tail.len() as f64;
    assert!(mean.abs() < 1e-3, "{mean}");
}

/// With `mix` the dry path is delayed by exactly the latency: at small signal, mixing half
/// and half gives the input back (a misalignment would comb-filter 10 kHz).
#[test]
fn dry_path_is_aligned_for_mix() {
    let x = signals::sine(10_000.0, db_to_gain(-50.0), 0.0, FS, 24_000);
    for factor in [2u8, 4, 8] {
        let p = SaturationParams {
            mix: 0.5,
            oversampling: factor,
            ..SaturationParams::default()
        };
        let lat = saturation(p).latency();
        let y = run(p, &x);
        let err = (12_000..x.len())
            .map(|i| (y[i] - x[i - lat]).abs())
            .fold(0.0f32, f32::max);
        assert!(
            f64::from(err) < db_to_gain(-50.0) * 0.01,
            "{factor}x: {err}"
        );
    }
}

#[test]
fn parameter_changes_ramp_and_errors_keep_old_parameters() {
    let p = SaturationParams::default();
    let mut s = saturation(p);
    let x = signals::to_frames::<1>(&signals::sine(200.0, 0.5, 0.0, FS, 24_000));
    let mut y = x.clone();
    s.process(&mut y[..12_000]);
    s.set_params(SaturationParams {
        drive_db: 24.0,
        output_db: -6.0,
        mix: 0.5,
        ..p
    })
    .unwrap();
    s.process(&mut y[12_000..]);
    let max_step = y
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).abs())
        .fold(0.0, f32::max);
    // A 200 Hz sine at 0.5 changes by at most 0.013 per sample; saturation only flattens it.
    assert!(max_step < 0.02, "{max_step}");
    for (bad, name) in [
        (
            SaturationParams {
                oversampling: 3,
                ..p
            },
            "oversampling",
        ),
        (
            SaturationParams {
                drive_db: -1.0,
                ..p
            },
            "drive_db",
        ),
        (SaturationParams { bias: 2.0, ..p }, "bias"),
        (SaturationParams { mix: f64::NAN, ..p }, "mix"),
    ] {
        match s.set_params(bad) {
            Err(Error::OutOfRange { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(s.params().drive_db, 24.0);
}

#[test]
fn non_finite_input_is_silenced() {
    let mut x = signals::sine(500.0, 0.5, 0.0, FS, 4_800);
    let mut clean = x.clone();
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    clean[100] = 0.0;
    clean[200] = 0.0;
    let p = SaturationParams {
        bias: 0.3,
        mix: 0.7,
        ..SaturationParams::default()
    };
    assert_eq!(run(p, &x), run(p, &clean));
    assert!(gain_to_db(1.0) == 0.0);
}
