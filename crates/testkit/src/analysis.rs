//! Measurements for tests: levels, peaks and an independent true-peak check.

use core::f64::consts::PI;

/// RMS of a mono signal (linear).
pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}

/// RMS in dBFS (`-inf` for silence).
pub fn rms_db(x: &[f32]) -> f64 {
    20.0 * rms(x).log10()
}

/// Largest absolute sample value of interleaved frames (linear).
pub fn sample_peak<const CH: usize>(frames: &[[f32; CH]]) -> f64 {
    frames
        .iter()
        .flat_map(|f| f.iter())
        .fold(0.0f64, |a, &b| a.max(f64::from(b).abs()))
}

/// True peak of one channel measured independently of `lathe-core`: 8x oversampling with a
/// 512-tap Kaiser-windowed (β = 10) sinc in `f64`, in dBTP. Much longer and finer than the
/// production detector, so it can judge it and the limiter.
pub fn true_peak_8x_db(x: &[f32]) -> f64 {
    const L: usize = 8;
    const HALF: usize = 32; // input samples on each side
    let beta = 10.0;
    let i0 = |v: f64| {
        let (mut s, mut t, mut k) = (1.0f64, 1.0f64, 1.0f64);
        while t > 1e-17 * s {
            t *= 0.25 * v * v / (k * k);
            s += t;
            k += 1.0;
        }
        s
    };
    let norm = i0(beta);
    let mut taps = vec![[0.0f64; 2 * HALF]; L];
    for (p, row) in taps.iter_mut().enumerate() {
        let frac = p as f64 / L as f64;
        for (k, tap) in row.iter_mut().enumerate() {
            let t = k as f64 - (HALF as f64 - 1.0) + frac;
            let w = t / HALF as f64;
            let win = if w.abs() < 1.0 {
                i0(beta * (1.0 - w * w).sqrt()) / norm
            } else {
                0.0
            };
            let sinc = if t == 0.0 {
                1.0
            } else {
                (PI * t).sin() / (PI * t)
            };
            *tap = sinc * win;
        }
    }
    let mut peak = x.iter().fold(0.0f64, |a, &b| a.max(f64::from(b).abs()));
    let n = x.len();
    for i in 0..n {
        for (p, row) in taps.iter().enumerate().skip(1) {
            let _ = p;
            let mut acc = 0.0;
            for (k, &c) in row.iter().enumerate() {
                // value between x[i] and x[i + 1]: taps centred on i (k = HALF - 1).
                let idx = i as isize + (HALF as isize - 1) - k as isize;
                if idx >= 0 && (idx as usize) < n {
                    acc += c * f64::from(x[idx as usize]);
                }
            }
            peak = peak.max(acc.abs());
        }
    }
    20.0 * peak.log10()
}

/// Largest `|a - b|` over two equally long signals (`inf` if lengths differ).
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter().zip(b).fold(0.0f64, |m, (&x, &y)| {
        m.max((f64::from(x) - f64::from(y)).abs())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::sine;

    #[test]
    fn independent_true_peak_reads_intersample_peaks() {
        // fs/4 at 45 degrees: samples at 0.707 of the crest.
        let x = crate::signals::faded(sine(12_000.0, 1.0, PI / 4.0, 48_000.0, 2_000), 480);
        let tp = true_peak_8x_db(&x);
        assert!(tp.abs() < 0.02, "{tp}");
        let sp = 20.0 * sample_peak(&crate::signals::to_frames::<1>(&x)).log10();
        assert!((sp + 3.01).abs() < 0.02, "{sp}");
    }
}
