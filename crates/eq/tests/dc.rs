//! The DC blocker: contract, response against the analytic first-order high-pass, the paired
//! recursion against the plain one, non-finite input.

use core::f64::consts::PI;
use lathe_core::{ProcessSpec, Processor};
use lathe_eq::DcBlocker;
use lathe_testkit::{contract_tests, signals};
use num_complex::Complex64;

lathe_testkit::install_counting_allocator!();

contract_tests!(dc_blocker_5_hz, |fs| DcBlocker::<CH>::new(5.0));
contract_tests!(dc_blocker_200_hz, |fs| DcBlocker::<CH>::new(200.0));

/// `|H|` of the bilinear first-order high-pass at `f` Hz (its own formula, from `K`).
fn analytic_db(fc: f64, f: f64, fs: f64) -> f64 {
    let k = (PI * fc / fs).tan();
    let (b0, a) = (1.0 / (1.0 + k), (1.0 - k) / (1.0 + k));
    let z1 = Complex64::from_polar(1.0, -2.0 * PI * f / fs);
    let h = b0 * (1.0 - z1) / (1.0 - a * z1);
    20.0 * h.norm().log10()
}

#[test]
fn sine_gains_follow_the_analytic_response() {
    let fs = 48_000.0;
    for (fc, f) in [
        (100.0, 100.0),
        (100.0, 30.0),
        (100.0, 1_000.0),
        (5.0, 5.0),
        (5.0, 2.0),
    ] {
        let mut dc = DcBlocker::<1>::new(fc);
        dc.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
        let n = (fs * 20.0) as usize;
        let x = signals::sine(f, 0.5, 0.0, fs, n);
        let mut buf = signals::to_frames::<1>(&x);
        dc.process(&mut buf);
        // Steady state: the last two seconds.
        let tail = 2 * fs as usize;
        let rms = |v: &[f32]| {
            (v.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / v.len() as f64).sqrt()
        };
        let y: Vec<f32> = buf[n - tail..].iter().map(|f| f[0]).collect();
        let got = 20.0 * (rms(&y) / rms(&x[n - tail..])).log10();
        let want = analytic_db(fc, f, fs);
        assert!(
            (got - want).abs() < 0.01,
            "fc {fc} f {f}: {got:.4} dB vs {want:.4}"
        );
        if f == fc {
            assert!((want + 3.0103).abs() < 1e-3, "{want}");
        }
    }
}

#[test]
fn paired_recursion_matches_the_plain_one() {
    let fs = 44_100.0;
    let x = signals::white_noise(0.5, 3, 20_000);
    let mut dc = DcBlocker::<1>::new(5.0);
    dc.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let mut buf = signals::to_frames::<1>(&x);
    dc.process(&mut buf);
    let k = (PI * 5.0 / fs).tan();
    let (b0, a) = (1.0 / (1.0 + k), (1.0 - k) / (1.0 + k));
    let (mut y, mut xp) = (0.0f64, 0.0f64);
    for (n, &v) in x.iter().enumerate() {
        y = a * y + b0 * (f64::from(v) - xp);
        xp = f64::from(v);
        assert!((f64::from(buf[n][0]) - y).abs() < 1e-6, "frame {n}");
    }
}

#[test]
fn removes_dc_and_survives_non_finite_input() {
    let mut dc = DcBlocker::<2>::new(5.0);
    dc.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
    let mut x = vec![[0.25f32, -0.25]; 96_000];
    x[1_000] = [f32::NAN, f32::INFINITY];
    dc.process(&mut x);
    assert!(x.iter().all(|f| f[0].is_finite() && f[1].is_finite()));
    assert!(
        x[95_999][0].abs() < 1e-6 && x[95_999][1].abs() < 1e-6,
        "{:?}",
        x[95_999]
    );
}

#[test]
fn a_corner_above_nyquist_is_an_error() {
    let mut dc = DcBlocker::<1>::new(30_000.0);
    assert!(dc.prepare(&ProcessSpec::new(48_000.0, 512)).is_err());
}
