//! Unit conversions: decibels, time constants, durations, denormals.

/// Converts decibels to a linear amplitude gain: `10^(db / 20)`.
///
/// `-inf` dB gives 0.0.
#[inline]
pub fn db_to_gain(db: f64) -> f64 {
    libm::pow(10.0, db / 20.0)
}

/// Converts a linear amplitude gain to decibels: `20 log10(|gain|)`.
///
/// A gain of 0.0 gives `-inf` dB (silence is minus infinity, never NaN).
#[inline]
pub fn gain_to_db(gain: f64) -> f64 {
    20.0 * libm::log10(libm::fabs(gain))
}

/// [`db_to_gain`] in `f32`, for per-sample use.
#[inline]
pub fn db_to_gain_f32(db: f32) -> f32 {
    libm::exp10f(db * 0.05)
}

/// [`gain_to_db`] in `f32`, for per-sample use.
#[inline]
pub fn gain_to_db_f32(gain: f32) -> f32 {
    20.0 * libm::log10f(libm::fabsf(gain))
}

/// Coefficient `a` of a one-pole smoother `y += (1 - a) (x - y)` with time constant `time_ms`.
///
/// The time constant is the time to reach 63 % (1 - 1/e) of a step:
/// `a = exp(-1 / (tau * fs))` (Giannoulis, Massberg, Reiss, JAES 2012, §2). A time of zero
/// (or less) gives `a = 0`: the smoother follows its input instantly.
#[inline]
pub fn one_pole_coeff(time_ms: f64, sample_rate: f64) -> f64 {
    if time_ms <= 0.0 || !time_ms.is_finite() {
        return 0.0;
    }
    libm::exp(-1000.0 / (time_ms * sample_rate))
}

/// Converts a duration in milliseconds to a whole number of samples (rounded to nearest).
#[inline]
pub fn ms_to_samples(time_ms: f64, sample_rate: f64) -> usize {
    let n = libm::round(time_ms * 1e-3 * sample_rate);
    if n.is_finite() && n > 0.0 {
        n as usize
    } else {
        0
    }
}

/// Magnitude below which filter state is flushed to zero (about -600 dB re full scale).
///
/// Well above the `f32`/`f64` subnormal ranges, far below anything audible.
pub const DENORMAL_THRESHOLD: f64 = 1e-30;

/// Returns 0.0 for values whose magnitude is below [`DENORMAL_THRESHOLD`], else `x`.
///
/// Lathe flushes denormals in plain code (per block, on recursive state), never by setting
/// CPU flags that would leak into the host application.
#[inline]
pub fn flush_denormal(x: f64) -> f64 {
    if libm::fabs(x) < DENORMAL_THRESHOLD {
        0.0
    } else {
        x
    }
}

/// [`flush_denormal`] for `f32` state.
#[inline]
pub fn flush_denormal_f32(x: f32) -> f32 {
    if libm::fabsf(x) < 1e-30 {
        0.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn db_round_trip() {
        assert_relative_eq!(db_to_gain(0.0), 1.0);
        assert_relative_eq!(db_to_gain(-20.0), 0.1, epsilon = 1e-15);
        assert_relative_eq!(gain_to_db(0.5), -6.020_599_913_279_624, epsilon = 1e-12);
        assert_eq!(gain_to_db(0.0), f64::NEG_INFINITY);
        assert_eq!(db_to_gain(f64::NEG_INFINITY), 0.0);
        assert_relative_eq!(db_to_gain_f32(-6.0), 0.501_187_2, epsilon = 1e-6);
        assert_relative_eq!(gain_to_db_f32(2.0), 6.020_6, epsilon = 1e-4);
    }

    #[test]
    fn one_pole_reaches_63_percent_at_tau() {
        let fs = 48_000.0;
        let a = one_pole_coeff(10.0, fs);
        let mut y = 0.0;
        for _ in 0..480 {
            y += (1.0 - a) * (1.0 - y);
        }
        assert_relative_eq!(y, 1.0 - (-1.0f64).exp(), epsilon = 1e-3);
        assert_eq!(one_pole_coeff(0.0, fs), 0.0);
    }

    #[test]
    fn ms_and_denormals() {
        assert_eq!(ms_to_samples(10.0, 48_000.0), 480);
        assert_eq!(ms_to_samples(-1.0, 48_000.0), 0);
        assert_eq!(flush_denormal(1e-35), 0.0);
        assert_eq!(flush_denormal(1e-10), 1e-10);
        assert_eq!(flush_denormal_f32(-1e-38), 0.0);
    }
}
