//! Linkwitz-Riley crossovers: flat sums, band shapes, errors, glides, non-finite input.

use core::f64::consts::PI;
use lathe_core::{gain_to_db, Error, ProcessSpec};
use lathe_eq::{Crossover, CrossoverOrder, SANITIZE_FRAMES};
use lathe_testkit::signals;
use num_complex::Complex64;
use realfft::RealFftPlanner;

fn spectrum(x: &[f64]) -> Vec<Complex64> {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(x.len());
    let mut input = x.to_vec();
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).unwrap();
    out
}

/// Impulse responses of every band (mono), `n` samples.
fn band_impulses<const B: usize>(x: &mut Crossover<1, B>, n: usize) -> Vec<Vec<f64>> {
    let mut out = vec![vec![0.0; n]; B];
    for i in 0..n {
        let bands = x.split_frame(&[if i == 0 { 1.0 } else { 0.0 }]);
        for (o, b) in out.iter_mut().zip(bands) {
            o[i] = f64::from(b[0]);
        }
    }
    out
}

fn check_flat_and_measured<const B: usize>(order: CrossoverOrder, freqs: &[f64], fs: f64) {
    let mut x: Crossover<1, B> = Crossover::with_order(order);
    x.set_frequencies(freqs).unwrap();
    x.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let n = 1 << 17;
    let h = band_impulses(&mut x, n);
    let sum: Vec<f64> = (0..n).map(|i| h.iter().map(|b| b[i]).sum()).collect();
    let s = spectrum(&sum);
    let worst = s
        .iter()
        .skip(1)
        .map(|c| gain_to_db(c.norm()).abs())
        .fold(0.0f64, f64::max);
    assert!(
        worst < 0.01,
        "{order:?} {B} bands at {fs} Hz: the sum deviates {worst} dB from flat"
    );
    for (b, hb) in h.iter().enumerate() {
        let sb = spectrum(hb);
        for (k, y) in sb.iter().enumerate().skip(1) {
            let f = k as f64 * fs / n as f64;
            let a = x.band_response(b, f);
            if gain_to_db(a.norm()) > -40.0 {
                let e = (gain_to_db(y.norm()) - gain_to_db(a.norm())).abs();
                assert!(e < 0.01, "{order:?} band {b} at {f} Hz: {e} dB");
            }
        }
    }
    for f in [10.0, 100.0, 1_000.0, 10_000.0, 0.49 * fs] {
        assert!((x.sum_response(f).norm() - 1.0).abs() < 1e-9);
    }
}

#[test]
fn bands_sum_to_a_flat_magnitude() {
    for &fs in &[44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        for order in [CrossoverOrder::Lr4, CrossoverOrder::Lr2] {
            check_flat_and_measured::<2>(order, &[120.0], fs);
            check_flat_and_measured::<3>(order, &[200.0, 2_500.0], fs);
            check_flat_and_measured::<4>(order, &[150.0, 1_000.0, 8_000.0], fs);
        }
    }
}

#[test]
fn linkwitz_riley_bands_are_minus_6_db_at_the_crossover() {
    let fs = 48_000.0;
    for order in [CrossoverOrder::Lr4, CrossoverOrder::Lr2] {
        let mut x: Crossover<2, 2> = Crossover::with_order(order);
        x.set_frequencies(&[1_000.0]).unwrap();
        x.prepare(&ProcessSpec::new(fs, 64)).unwrap();
        for b in 0..2 {
            let d = gain_to_db(x.band_response(b, 1_000.0).norm());
            assert!((d + 6.0206).abs() < 1e-3, "{order:?} band {b}: {d}");
        }
        // Slopes one octave out: LR4 |H|² = 1/(1 + (f/fc)^8) → -24.1 dB... at 2 fc:
        // |LP| = 1/(1 + (f/fc)^4) for LR4, 1/(1 + (f/fc)^2) for LR2.
        let n = if order == CrossoverOrder::Lr4 {
            4.0
        } else {
            2.0
        };
        let analog = -20.0 * (1.0 + 2f64.powf(n)).log10();
        let d_low = gain_to_db(x.band_response(0, 2_000.0).norm());
        let d_high = gain_to_db(x.band_response(1, 500.0).norm());
        assert!(
            (d_low - analog).abs() < 0.2,
            "{order:?}: {d_low} vs {analog}"
        );
        assert!(
            (d_high - analog).abs() < 0.2,
            "{order:?}: {d_high} vs {analog}"
        );
    }
    assert_eq!(Crossover::<1, 2>::new().order(), CrossoverOrder::Lr4);
}

#[test]
fn split_block_equals_split_frame_and_any_block_split() {
    let fs = 44_100.0;
    let input: Vec<[f32; 2]> = signals::frames_from_fn(6_000, |i, ch| {
        (0.3 * ((i as f64) * (0.01 + 0.003 * ch as f64)).sin()) as f32
    });
    let mut a: Crossover<2, 3> = Crossover::new();
    a.set_frequencies(&[300.0, 3_000.0]).unwrap();
    a.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let mut b = a.clone();
    let by_frame: Vec<[[f32; 2]; 3]> = input.iter().map(|f| a.split_frame(f)).collect();
    let mut out = vec![vec![[0.0f32; 2]; input.len()]; 3];
    let mut pos = 0;
    for chunk in input.chunks(333) {
        let (o0, rest) = out.split_at_mut(1);
        let (o1, o2) = rest.split_at_mut(1);
        let mut bands = [
            &mut o0[0][pos..pos + chunk.len()],
            &mut o1[0][pos..pos + chunk.len()],
            &mut o2[0][pos..pos + chunk.len()],
        ];
        assert_eq!(b.split_block(chunk, &mut bands), chunk.len());
        pos += chunk.len();
    }
    for (i, f) in by_frame.iter().enumerate() {
        for band in 0..3 {
            assert_eq!(f[band], out[band][i]);
        }
    }
}

#[test]
fn bad_frequencies_give_precise_errors_and_keep_the_old_ones() {
    let mut x: Crossover<2, 3> = Crossover::new();
    x.set_frequencies(&[200.0, 2_000.0]).unwrap();
    assert_eq!(
        x.set_frequencies(&[2_000.0, 1_000.0]),
        Err(Error::OutOfRange {
            param: "freq_hz",
            value: 1_000.0,
            min: 2_000.0,
            max: f64::MAX
        })
    );
    assert_eq!(
        x.set_frequencies(&[100.0, 200.0, 300.0]),
        Err(Error::CapacityExceeded {
            needed: 3,
            capacity: 2
        })
    );
    assert!(matches!(
        x.set_frequencies(&[100.0]),
        Err(Error::Mismatch { .. })
    ));
    assert!(matches!(
        x.set_frequencies(&[-5.0, 100.0]),
        Err(Error::OutOfRange {
            param: "freq_hz",
            ..
        })
    ));
    assert!(matches!(
        x.set_frequencies(&[f64::NAN, 100.0]),
        Err(Error::OutOfRange {
            param: "freq_hz",
            ..
        })
    ));
    assert_eq!(x.frequencies(), &[200.0, 2_000.0]);
    // Before prepare, Nyquist is not known: 30 kHz is accepted, and prepare judges it.
    x.set_frequencies(&[200.0, 30_000.0]).unwrap();
    assert_eq!(
        x.prepare(&ProcessSpec::new(48_000.0, 64)),
        Err(Error::AboveNyquist {
            freq_hz: 30_000.0,
            nyquist_hz: 24_000.0
        })
    );
    assert_eq!(x.sample_rate(), 48_000.0);
    x.prepare(&ProcessSpec::new(96_000.0, 64)).unwrap();
    assert_eq!(x.sample_rate(), 96_000.0);
    // Once prepared, Nyquist is checked at once.
    assert_eq!(
        x.set_frequencies(&[200.0, 50_000.0]),
        Err(Error::AboveNyquist {
            freq_hz: 50_000.0,
            nyquist_hz: 48_000.0
        })
    );
    assert_eq!(x.frequencies(), &[200.0, 30_000.0]);
}

/// Worst ratio (dB) of energy above `cutoff_hz` to total in 4096-frame Blackman-Harris windows.
fn hf_residual_db(x: &[f64], fs: f64, cutoff_hz: f64) -> f64 {
    let n = 4096;
    let k0 = (cutoff_hz * n as f64 / fs) as usize;
    let mut worst = f64::NEG_INFINITY;
    let mut start = 0;
    while start + n <= x.len() {
        let seg: Vec<f64> = (0..n)
            .map(|i| {
                let t = 2.0 * PI * i as f64 / n as f64;
                let w = 0.35875 - 0.48829 * t.cos() + 0.14128 * (2.0 * t).cos()
                    - 0.01168 * (3.0 * t).cos();
                x[start + i] * w
            })
            .collect();
        let s = spectrum(&seg);
        let total: f64 = s.iter().map(|c| c.norm_sqr()).sum();
        let high: f64 = s[k0..].iter().map(|c| c.norm_sqr()).sum();
        worst = worst.max(10.0 * (high / total).log10());
        start += n / 2;
    }
    worst
}

/// A 180 Hz sine through a 2-band crossover whose frequency is automated every 64 frames
/// (100 Hz ..= 1 kHz) and then jumps to 3 kHz; returns the low band and the sum of the bands.
fn automated_crossover(smoothing_ms: f64) -> (Vec<f64>, Vec<f64>, Vec<f32>) {
    let fs = 48_000.0;
    let n = fs as usize;
    let x = signals::sine(180.0, 0.5, 0.0, fs, n);
    let mut xo: Crossover<1, 2> = Crossover::new();
    xo.set_smoothing_ms(smoothing_ms).unwrap();
    xo.set_frequencies(&[100.0]).unwrap();
    xo.prepare(&ProcessSpec::new(fs, 64)).unwrap();
    let mut low = Vec::with_capacity(n);
    let mut sum = Vec::with_capacity(n);
    for (i, s) in x.iter().enumerate() {
        if i % 64 == 0 && i < n / 2 {
            let t = i as f64 / fs;
            let f = 100.0 * 10f64.powf((2.0 * PI * t).sin().abs());
            xo.set_frequencies(&[f]).unwrap();
        }
        if i == n / 2 {
            xo.set_frequencies(&[3_000.0]).unwrap();
        }
        let [l, h] = xo.split_frame(&[*s]);
        low.push(f64::from(l[0]));
        sum.push(f64::from(l[0]) + f64::from(h[0]));
    }
    (low, sum, x)
}

#[test]
fn moving_the_crossover_while_running_glides_without_clicks() {
    let fs = 48_000.0;
    let (low, sum, x) = automated_crossover(20.0);
    let r_low = hf_residual_db(&low, fs, 2_000.0);
    let r_sum = hf_residual_db(&sum, fs, 2_000.0);
    assert!(r_low < -85.0, "low band: {r_low:.1} dB");
    assert!(r_sum < -85.0, "sum: {r_sum:.1} dB");
    // The check can fail: jumping coefficients are far worse.
    let (jl, js, _) = automated_crossover(0.0);
    assert!(hf_residual_db(&jl, fs, 2_000.0) > r_low + 20.0);
    assert!(hf_residual_db(&js, fs, 2_000.0) > r_sum + 20.0);
    // The sum stays an all-pass while gliding: its level equals the input's.
    let level = |v: &[f64]| (v.iter().map(|a| a * a).sum::<f64>() / v.len() as f64).sqrt();
    let xs: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let d = gain_to_db(level(&sum[4_800..]) / level(&xs[4_800..]));
    assert!(d.abs() < 0.01, "sum level {d} dB");
}

#[test]
fn non_finite_input_is_cleared_within_the_sanitising_grid() {
    let mut x: Crossover<2, 4> = Crossover::new();
    x.set_frequencies(&[100.0, 1_000.0, 8_000.0]).unwrap();
    x.prepare(&ProcessSpec::new(48_000.0, 64)).unwrap();
    let noise = signals::white_noise(0.2, 3, 10_000);
    let grid = SANITIZE_FRAMES as usize;
    for (i, &v) in noise.iter().enumerate() {
        let frame = if i == 500 {
            [f32::NAN, f32::INFINITY]
        } else {
            [v, -v]
        };
        let bands = x.split_frame(&frame);
        let finite = bands.iter().flatten().all(|s| s.is_finite());
        // Non-finite only from the bad frame up to the next grid point (512).
        let next_grid = (500 / grid + 1) * grid;
        assert_eq!(finite, !(500..next_grid).contains(&i), "frame {i}");
    }
    x.reset();
    assert!(x
        .split_frame(&[0.5, 0.5])
        .iter()
        .flatten()
        .all(|s| s.is_finite()));
}

#[test]
fn two_band_split_separates_bass_from_treble() {
    let fs = 44_100.0;
    let mut x: Crossover<2, 2> = Crossover::new();
    x.set_frequencies(&[150.0]).unwrap();
    x.prepare(&ProcessSpec::new(fs, 64)).unwrap();
    let n = 44_100;
    let s40 = signals::sine(40.0, 0.5, 0.0, fs, n);
    let s3k = signals::sine(3_000.0, 0.5, 0.0, fs, n);
    let (mut e_low40, mut e_high40, mut e_low3k, mut e_high3k) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let [l, h] = x.split_frame(&[s40[i], s3k[i]]);
        if i > n / 2 {
            e_low40 += f64::from(l[0]).powi(2);
            e_high40 += f64::from(h[0]).powi(2);
            e_low3k += f64::from(l[1]).powi(2);
            e_high3k += f64::from(h[1]).powi(2);
        }
    }
    assert!(10.0 * (e_high40 / e_low40).log10() < -40.0);
    assert!(10.0 * (e_low3k / e_high3k).log10() < -80.0);
}
