//! The one error type of Lathe's DSP crates.

use core::fmt;

/// Result alias used throughout Lathe.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong while configuring a Lathe processor.
///
/// Errors are returned from non-real-time calls (`prepare`, parameter setters, designers);
/// `process` never fails. A setter that returns an error keeps the previous parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A frequency at or above the Nyquist frequency (half the sample rate).
    AboveNyquist {
        /// Requested frequency in Hz.
        freq_hz: f64,
        /// Nyquist frequency of the current sample rate, in Hz.
        nyquist_hz: f64,
    },
    /// A parameter outside its allowed range (or not finite).
    OutOfRange {
        /// Name of the parameter, with its unit suffix (e.g. `"q"`, `"gain_db"`).
        param: &'static str,
        /// The rejected value.
        value: f64,
        /// Smallest allowed value (inclusive).
        min: f64,
        /// Largest allowed value (inclusive).
        max: f64,
    },
    /// Fixed-size storage is too small for what was asked.
    CapacityExceeded {
        /// Number of elements (frames, bands, taps, …) needed.
        needed: usize,
        /// Number of elements available.
        capacity: usize,
    },
    /// A sample rate outside [`MIN_SAMPLE_RATE`](crate::MIN_SAMPLE_RATE) ..=
    /// [`MAX_SAMPLE_RATE`](crate::MAX_SAMPLE_RATE) Hz, or not finite.
    UnsupportedSampleRate {
        /// The rejected sample rate in Hz.
        sample_rate: f64,
    },
    /// A channel count or layout the processor cannot handle.
    UnsupportedChannels {
        /// The rejected number of channels.
        channels: usize,
    },
    /// The processor was used before a successful `prepare`.
    NotPrepared,
    /// Two things that must agree do not (e.g. merging meters prepared at different rates).
    Mismatch {
        /// What disagrees.
        what: &'static str,
    },
}

impl Error {
    /// Checks `min <= value <= max` (and finiteness) and returns [`Error::OutOfRange`] otherwise.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `param` when `value` is NaN, infinite or outside the range.
    pub fn check_range(param: &'static str, value: f64, min: f64, max: f64) -> Result<f64> {
        if value.is_finite() && value >= min && value <= max {
            Ok(value)
        } else {
            Err(Error::OutOfRange {
                param,
                value,
                min,
                max,
            })
        }
    }

    /// Checks that `freq_hz` is positive and below the Nyquist frequency of `sample_rate`.
    ///
    /// # Errors
    /// [`Error::AboveNyquist`] when `freq_hz >= sample_rate / 2`, [`Error::OutOfRange`]
    /// (`"freq_hz"`) when it is not finite or not positive.
    pub fn check_below_nyquist(freq_hz: f64, sample_rate: f64) -> Result<f64> {
        let nyquist_hz = 0.5 * sample_rate;
        if !(freq_hz.is_finite() && freq_hz > 0.0) {
            return Err(Error::OutOfRange {
                param: "freq_hz",
                value: freq_hz,
                min: 0.0,
                max: nyquist_hz,
            });
        }
        if freq_hz >= nyquist_hz {
            return Err(Error::AboveNyquist {
                freq_hz,
                nyquist_hz,
            });
        }
        Ok(freq_hz)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::AboveNyquist {
                freq_hz,
                nyquist_hz,
            } => write!(
                f,
                "frequency {freq_hz} Hz is at or above the Nyquist frequency {nyquist_hz} Hz"
            ),
            Error::OutOfRange {
                param,
                value,
                min,
                max,
            } => write!(f, "{param} = {value} is out of range {min} ..= {max}"),
            Error::CapacityExceeded { needed, capacity } => {
                write!(f, "needs {needed} elements but the capacity is {capacity}")
            }
            Error::UnsupportedSampleRate { sample_rate } => write!(
                f,
                "sample rate {sample_rate} Hz is not supported (8000 ..= 384000 Hz)"
            ),
            Error::UnsupportedChannels { channels } => {
                write!(f, "{channels} channels are not supported")
            }
            Error::NotPrepared => write!(f, "the processor was used before prepare()"),
            Error::Mismatch { what } => write!(f, "mismatch: {what}"),
        }
    }
}

impl core::error::Error for Error {}
