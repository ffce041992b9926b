//! # Lathe — the mastering strip
//!
//! The facade where Lathe's DSP crates meet: a configurable mastering chain, presets,
//! platform targets, two-pass loudness-targeted mastering, multiband dynamics, dither,
//! analysis reports and album mastering.
//!
//! ```
//! use lathe::{Preset, Target};
//!
//! let target = Target::by_name("spotify").unwrap();
//! let chain = Preset::Streaming.chain(&target);
//! chain.validate().unwrap();
//! assert_eq!(target.integrated_lufs, -14.0);
//! ```
#![forbid(unsafe_code)]

pub mod config;
pub mod dither;
pub mod master;
pub mod presets;
pub mod report;
pub mod stream;
pub mod targets;

pub use config::{ChainConfig, ConfigError, StageConfig};
pub use presets::{presets, Preset, DEFAULT_PRESET};
pub use stream::Compensated;
pub use targets::{targets, Target, DEFAULT_TARGET, TARGETS};

pub use lathe_album as album_dsp;
pub use lathe_core as core;
pub use lathe_dynamics as dynamics;
pub use lathe_eq as eq;
pub use lathe_loudness as loudness;
pub use lathe_stereo as stereo;
