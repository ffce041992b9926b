//! # lathe-loudness
//!
//! An ITU-R BS.1770-4 / EBU R128 loudness meter: momentary (400 ms), short-term (3 s),
//! integrated (gated), loudness range (EBU Tech 3342), maximum momentary and short-term,
//! sample peak and true peak (BS.1770-4 Annex 2, the detector shared with the limiter), for 1
//! to 8 channels at any rate from 8 kHz to 384 kHz. `#![no_std]`, no allocation, bounded
//! memory for any length, and **mergeable**: an album's loudness is the merge of its tracks'
//! meters.
//!
//! ```
//! use lathe_loudness::LoudnessMeter;
//!
//! // EBU Tech 3341 case 1: a 1 kHz sine at -23 dBFS on both channels reads -23 LUFS.
//! let fs = 48_000.0;
//! let amp = 10f64.powf(-23.0 / 20.0);
//! let mut meter = LoudnessMeter::<2>::new(fs).unwrap();
//! let mut block = [[0.0f32; 2]; 4800];
//! let mut n = 0u64;
//! for _ in 0..200 {
//!     for f in block.iter_mut() {
//!         let x = (amp * (2.0 * core::f64::consts::PI * 1000.0 * n as f64 / fs).sin()) as f32;
//!         *f = [x, x];
//!         n += 1;
//!     }
//!     meter.process(&block);
//! }
//! assert!((meter.integrated_lufs() + 23.0).abs() < 0.05);
//! assert!((meter.momentary_lufs() + 23.0).abs() < 0.05);
//! ```
//!
//! ## How it measures
//! - K-weighting (BS.1770-4 §2.1) is designed for the actual rate from the analog parameters
//!   (as libebur128 re-derives them): at 48 kHz it reproduces the published coefficients.
//! - Channel energies are summed per 10 ms sub-block. Momentary is the mean of the last 40,
//!   short-term of the last 300, so their maxima are tracked on a 10 ms grid (fine enough for
//!   EBU Tech 3341 cases 10 and 13). Gating blocks (400 ms, 75 % overlap) close every 100 ms.
//! - Gating (BS.1770-4 §5.1) and the loudness range (EBU Tech 3342) use histograms of 0.01 LU
//!   bins that keep each bin's exact energy sum, so memory is bounded and the integrated value
//!   differs from exact block-list gating only through blocks within 0.01 LU of the relative
//!   gate.
//! - Non-finite samples are measured as silence (0.0): one NaN never poisons the meter.

#![no_std]
#![forbid(unsafe_code)]

mod kweighting;
mod meter;

pub use kweighting::KWeighting;
pub use meter::{ChannelLayout, LoudnessMeter, LoudnessReadings};
