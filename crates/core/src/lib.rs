//! # lathe-core
//!
//! The foundation every Lathe DSP crate stands on: the [`Processor`] lifecycle
//! (`prepare` / `reset` / `process`, after JUCE's dsp module), [`ProcessSpec`], one [`Error`]
//! type with context-carrying variants, unit conversions ([`db_to_gain`], [`gain_to_db`],
//! [`one_pole_coeff`]), a click-free parameter ramp ([`Smoothed`]), denormal flushing, and the
//! ITU-R BS.1770-4 Annex 2 [`TruePeakDetector`] shared by the loudness meter and the limiter so
//! that both agree on what a true peak is.
//!
//! The crate is `#![no_std]` and never allocates.
//!
//! ```
//! use lathe_core::{Processor, ProcessSpec, Result, db_to_gain};
//!
//! /// A fixed gain, the smallest possible processor.
//! struct Gain { gain: f32 }
//!
//! impl<const CH: usize> Processor<CH> for Gain {
//!     fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> { spec.validate() }
//!     fn reset(&mut self) {}
//!     fn process(&mut self, frames: &mut [[f32; CH]]) {
//!         for frame in frames { for s in frame { *s *= self.gain; } }
//!     }
//! }
//!
//! // Tuples are chains: the first processor runs first.
//! let mut chain = (Gain { gain: db_to_gain(-6.0) as f32 }, Gain { gain: 2.0 });
//! Processor::<2>::prepare(&mut chain, &ProcessSpec::new(48_000.0, 512)).unwrap();
//! let mut audio = [[0.5f32, -0.25]; 4];
//! chain.process(&mut audio);
//! assert!((audio[0][0] - 0.5 * 0.501187 * 2.0).abs() < 1e-5);
//! assert_eq!(Processor::<2>::latency(&chain), 0);
//! ```
#![no_std]
#![forbid(unsafe_code)]

pub mod biquad;
mod error;
pub mod k_weighting;
mod processor;
mod smooth;
pub mod true_peak;
mod units;

pub use biquad::{Biquad, Coeffs};
pub use error::{Error, Result};
pub use processor::{ProcessSpec, Processor, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
pub use smooth::Smoothed;
pub use true_peak::TruePeakDetector;
pub use units::{
    db_to_gain, db_to_gain_f32, flush_denormal, flush_denormal_f32, gain_to_db, gain_to_db_f32,
    ms_to_samples, one_pole_coeff, DENORMAL_THRESHOLD,
};
