//! # lathe-dynamics
//!
//! Dynamics processors for mastering, `#![no_std]` and allocation-free:
//!
//! - building blocks: [`Ballistics`] (attack/release as 63 % time constants, smooth branching
//!   detector, optional program-dependent release), [`LevelDetector`] (peak/RMS envelope),
//!   [`CompressorCurve`] / [`ExpanderCurve`] (decibel-domain gain computers with a quadratic
//!   soft knee, after Giannoulis, Massberg and Reiss, "Digital Dynamic Range Compressor Design
//!   — A Tutorial and Analysis", JAES 60(6), 2012);
//! - [`Compressor`]: feed-forward, stereo link, sidechain high-pass, lookahead, manual or
//!   automatic makeup, dry/wet mix, gain-reduction readout;
//! - [`Expander`]: downward expander / gate with hysteresis, hold and range;
//! - [`Limiter`] / [`MasteringLimiter`]: lookahead brick-wall limiter, sample-peak or
//!   true-peak (ITU-R BS.1770-4 Annex 2, with the shared [`lathe_core::TruePeakDetector`]),
//!   sliding-minimum gain with a moving-average attack that reaches the needed reduction
//!   exactly when the peak arrives, and a held bass detector so low notes are not modulated;
//! - [`Saturation`]: tanh, tube, tape and soft-clip curves with drive, bias and mix, at 1x-8x
//!   ([`Oversampler`]: polyphase half-band stages) with the dry path aligned.
//!
//! Every processor implements [`lathe_core::Processor`] and reports its latency.
//!
//! ```
//! use lathe_core::{Processor, ProcessSpec};
//! use lathe_dynamics::{Compressor, CompressorParams, LimiterParams, MasteringLimiter};
//!
//! let spec = ProcessSpec::new(48_000.0, 512);
//! let mut comp: Compressor<2> = Compressor::new(CompressorParams {
//!     threshold_db: -20.0,
//!     ratio: 3.0,
//!     ..CompressorParams::default()
//! });
//! let mut limiter: MasteringLimiter<2> = MasteringLimiter::new(LimiterParams {
//!     ceiling_db: -1.0,
//!     true_peak: true,
//!     lookahead_ms: 2.0,
//!     release_ms: 80.0,
//! });
//! comp.prepare(&spec).unwrap();
//! limiter.prepare(&spec).unwrap();
//!
//! // A loud 100 Hz sine, 6 dB over full scale.
//! let mut audio: Vec<[f32; 2]> = (0..48_000)
//!     .map(|n| {
//!         let x = 2.0 * (2.0 * core::f32::consts::PI * 100.0 * n as f32 / 48_000.0).sin();
//!         [x, x]
//!     })
//!     .collect();
//! comp.process(&mut audio);
//! limiter.process(&mut audio);
//!
//! assert!(comp.gain_reduction_db() > 3.0);
//! let ceiling = lathe_core::db_to_gain(-1.0) as f32;
//! assert!(audio.iter().flatten().all(|s| s.abs() <= ceiling));
//! // 2 ms of lookahead (96 frames) on the gain computer's 8-frame grid, plus the detection delay.
//! assert_eq!(limiter.latency(), 103 + lathe_dynamics::TRUE_PEAK_8X_DELAY);
//! ```
#![no_std]
// Unsafe code only where a measured win needs it, with a safe twin it is tested against
// (the true-peak detector's SSE dot products, and its AVX2 + FMA readings chosen at run time;
// the AVX2 builds of the plain block loops behind the detected `wide::Avx2` token).
#![deny(unsafe_code)]

#[cfg(test)]
extern crate std;

mod compressor;
mod curve;
mod detector;
mod expander;
mod fastmath;
mod limiter;
pub mod oversampling;
mod saturation;
mod sidechain;
mod true_peak;
mod wide;

pub use compressor::{Compressor, CompressorParams, DEFAULT_LOOKAHEAD_CAPACITY, PARAM_RAMP_MS};
pub use curve::{CompressorCurve, ExpanderCurve};
pub use detector::{Ballistics, DetectorKind, LevelDetector, ADAPTIVE_RELEASE_FACTOR};
pub use expander::{Expander, ExpanderParams};
pub use limiter::{
    effective_lookahead, BassDetector, Limiter, LimiterParams, MasteringLimiter, BASS_DECIMATION,
    BASS_DETECTOR_HZ, BASS_HEADROOM, BASS_HOLD_FACTOR, BASS_MIN_HOLD_MS, GAIN_DECIMATION,
    MASTERING_LIMITER_CAPACITY, TRUE_PEAK_MARGIN_DB,
};
pub use oversampling::Oversampler;
pub use saturation::{Saturation, SaturationCurve, SaturationParams, BIAS_SCALE, DC_BLOCK_HZ};
pub use true_peak::{TruePeak8x, TRUE_PEAK_8X_DELAY};
