//! # Lathe — the mastering strip
//!
//! The facade where Lathe's DSP crates meet: a configurable [`MasteringChain`], presets,
//! platform [`targets`](mod@targets), two-pass loudness-targeted [`Mastering`], multiband dynamics,
//! [`dither`], analysis reports and album mastering. The DSP crates stay independent
//! (`no_std`, no allocation); everything that combines them lives here.
//!
//! ```
//! use lathe::{MasteringChain, Preset, Target};
//! use lathe::core::Processor;
//!
//! let target = Target::by_name("spotify").unwrap();
//! let config = Preset::Streaming.chain(&target);
//! let mut chain = MasteringChain::<2>::from_config(&config, 48_000.0, 512).unwrap();
//!
//! // One second of a quiet stereo tone through the strip.
//! let mut audio: Vec<[f32; 2]> = (0..48_000)
//!     .map(|n| {
//!         let x = 0.1 * (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 48_000.0).sin();
//!         [x, x]
//!     })
//!     .collect();
//! chain.process(&mut audio);
//! assert!(audio.iter().flatten().all(|s| s.is_finite() && s.abs() < 1.0));
//! ```
#![forbid(unsafe_code)]

pub mod album;
pub mod analysis;
pub mod chain;
pub mod config;
pub mod dither;
pub mod error;
pub mod master;
pub mod multiband;
pub mod presets;
pub mod report;
pub mod stream;
pub mod targets;

pub use analysis::Analyzer;
pub use chain::MasteringChain;
pub use config::{ChainConfig, ConfigError, StageConfig};
pub use error::{Error, Result};
pub use master::{Mastering, MasteringPlan, Pass, RenderOutcome};
pub use presets::{presets, Preset, DEFAULT_PRESET};
pub use report::{AnalysisReport, Problem};
pub use stream::Compensated;
pub use targets::{targets, Target, DEFAULT_TARGET, TARGETS};

pub use lathe_album as album_dsp;
pub use lathe_core as core;
pub use lathe_dynamics as dynamics;
pub use lathe_eq as eq;
pub use lathe_loudness as loudness;
pub use lathe_stereo as stereo;
