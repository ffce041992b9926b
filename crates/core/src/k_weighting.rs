//! The ITU-R BS.1770-4 §2.1 K-weighting design, shared by the loudness meter
//! (`lathe-loudness`) and the K-weighted mono-compatibility analysis (`lathe-stereo`).
//!
//! Two stages designed by the bilinear transform of their analog prototypes, with the analog
//! parameters libebur128 re-derived from the published table: at 48 kHz the result reproduces
//! BS.1770-4's coefficients to 1e-12 (tested in `lathe-loudness`).

use crate::biquad::Coeffs;
use core::f64::consts::PI;

/// Stage 1 (high shelf): corner frequency, Hz.
pub const SHELF_F0_HZ: f64 = 1_681.974_450_955_533;
/// Stage 1 (high shelf): high-frequency gain, dB.
pub const SHELF_GAIN_DB: f64 = 3.999_843_853_973_347;
/// Stage 1 (high shelf): quality factor.
pub const SHELF_Q: f64 = 0.707_175_236_955_419_6;
/// Stage 1: exponent that turns the shelf's high-frequency gain into its mid-band gain.
pub const SHELF_VB_EXP: f64 = 0.499_666_774_154_541_6;
/// Stage 2 (RLB high-pass): corner frequency, Hz.
pub const HIGH_PASS_F0_HZ: f64 = 38.135_470_876_024_44;
/// Stage 2 (RLB high-pass): quality factor.
pub const HIGH_PASS_Q: f64 = 0.500_327_037_323_877_3;
/// Sample rate of the published coefficient table, Hz.
pub const REFERENCE_RATE: f64 = 48_000.0;

/// `a0` of the bilinear high-pass at `sample_rate` Hz, before normalisation.
pub fn high_pass_a0(sample_rate: f64) -> f64 {
    let k = libm::tan(PI * HIGH_PASS_F0_HZ / sample_rate);
    1.0 + k / HIGH_PASS_Q + k * k
}

/// The two K-weighting stages for `sample_rate` Hz: `[shelf, high_pass]`.
///
/// The published high-pass keeps the numerator `[1, -2, 1]` un-normalised, which lifts its pass
/// band by `20 log10 a0` = +0.043 dB at 48 kHz. Keeping `[1, -2, 1]` at every rate (as
/// libebur128 does) would make that lift rate-dependent (+0.26 dB at 8 kHz, +0.022 dB at
/// 96 kHz); BS.1770-4 asks other rates to reproduce the 48 kHz response, so the numerator is
/// scaled by `a0(48 kHz) / a0(fs)` (exactly 1 at 48 kHz).
pub fn k_weighting(sample_rate: f64) -> [Coeffs; 2] {
    let k = libm::tan(PI * SHELF_F0_HZ / sample_rate);
    let vh = libm::pow(10.0, SHELF_GAIN_DB / 20.0);
    let vb = libm::pow(vh, SHELF_VB_EXP);
    let a0 = 1.0 + k / SHELF_Q + k * k;
    let shelf = Coeffs {
        b0: (vh + vb * k / SHELF_Q + k * k) / a0,
        b1: 2.0 * (k * k - vh) / a0,
        b2: (vh - vb * k / SHELF_Q + k * k) / a0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / SHELF_Q + k * k) / a0,
    };
    let k = libm::tan(PI * HIGH_PASS_F0_HZ / sample_rate);
    let a0 = high_pass_a0(sample_rate);
    let g = high_pass_a0(REFERENCE_RATE) / a0;
    let high_pass = Coeffs {
        b0: g,
        b1: -2.0 * g,
        b2: g,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / HIGH_PASS_Q + k * k) / a0,
    };
    [shelf, high_pass]
}
