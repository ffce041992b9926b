//! # lathe-stereo
//!
//! The tools a mastering engineer uses to shape the stereo field without breaking mono
//! playback: `#![no_std]`, allocation-free, on interleaved `[f32; 2]` frames.
//!
//! Imaging
//! - [`MidSide`]: mid/side encode/decode (`M = (L + R) / 2`, `S = (L − R) / 2`), exact round
//!   trip up to rounding; [`mono_fold`] and [`mono_below`] for bass mono (the `lathe` facade
//!   puts the low band of a Linkwitz-Riley crossover through `mono_below`).
//! - [`StereoImager`] ([`ImagerParams`]): mid gain, side gain, width 0 (mono) ..= 2 (extra
//!   wide) that never changes the mono sum, rotation, balance — one smoothed 2x2 matrix; the
//!   neutral setting is a bit-exact identity that costs nothing.
//!
//! Metering and analysis
//! - [`CorrelationMeter`]: phase correlation (−1 ..= +1) over a sliding window and over the
//!   whole signal, stereo balance (dB, L vs R) and mid/side energy ratio (dB) from the same
//!   sums ([`StereoSums`]).
//! - [`MonoCompatibility`]: loudness lost in the mono fold-down (LU, BS.1770 K-weighted or
//!   plain energy) and an out-of-phase flag ([`MonoReport`]).
//!
//! Mastering reverb
//! - [`Reverb`] ([`ReverbParams`]): diffuser + 8-line feedback delay network with a
//!   Householder matrix (Jot & Chaigne 1991), RT60 decay, damping, size, pre-delay, width, a
//!   high-pass on the wet signal; delay lines in caller-lent storage.
//!
//! Every processor implements [`lathe_core::Processor<2>`] and passes the `lathe-testkit`
//! contract (bit-exact for any block split, `reset` equals a fresh instance, no allocation).
//!
//! ```
//! use lathe_core::{ProcessSpec, Processor};
//! use lathe_stereo::{CorrelationMeter, ImagerParams, Reverb, ReverbParams, StereoImager};
//!
//! let fs = 48_000.0;
//! // A stereo signal: a centred tone plus some side content.
//! let mut audio: Vec<[f32; 2]> = (0..48_000)
//!     .map(|n| {
//!         let t = n as f32 / 48_000.0;
//!         let c = (t * 440.0 * core::f32::consts::TAU).sin() * 0.3;
//!         let s = (t * 660.0 * core::f32::consts::TAU).sin() * 0.1;
//!         [c + s, c - s]
//!     })
//!     .collect();
//! let mono_before: Vec<f32> = audio.iter().map(|f| f[0] + f[1]).collect();
//!
//! // Widen: the mono sum L + R does not change.
//! let mut imager = StereoImager::new(ImagerParams { width: 1.5, ..ImagerParams::default() });
//! imager.prepare(&ProcessSpec::new(fs, 512)).unwrap();
//! imager.process(&mut audio);
//! for (f, m) in audio.iter().zip(&mono_before) {
//!     assert!((f[0] + f[1] - m).abs() < 1e-6);
//! }
//!
//! // Meter it.
//! let mut meter = CorrelationMeter::new(fs, 200.0).unwrap();
//! meter.process(&audio);
//! let c = meter.correlation();
//! assert!(c > 0.0 && c < 1.0);
//!
//! // A touch of depth: the delay lines live in storage we lend.
//! let storage = vec![0.0f32; Reverb::<Vec<f32>>::required_storage(fs)];
//! let mut reverb = Reverb::new(storage, ReverbParams::default());
//! reverb.prepare(&ProcessSpec::new(fs, 512)).unwrap();
//! reverb.process(&mut audio);
//! assert!(audio.iter().all(|f| f[0].is_finite() && f[1].is_finite()));
//! ```
#![no_std]
#![forbid(unsafe_code)]

mod imager;
mod meter;
mod midside;
mod mono;
mod reverb;

pub use imager::{ImagerParams, StereoImager, IMAGER_RAMP_MS};
pub use meter::{CorrelationMeter, StereoSums, ENERGY_FLOOR};
pub use midside::{mono_below, mono_fold, MidSide};
pub use mono::{
    k_weighting, MonoCompatibility, MonoReport, Weighting, BLOCK_MS, GATE_LUFS,
    OUT_OF_PHASE_CORRELATION, OUT_OF_PHASE_MIN_S,
};
pub use reverb::{
    reverb_storage, Reverb, ReverbParams, DAMPING_REF_HZ, DELAY_RAMP_MS, MAX_PREDELAY_MS,
    MIX_RAMP_MS, TONE_RAMP_MS, WET_INPUT_LIMIT,
};
