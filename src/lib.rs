//! Lathe: the mastering strip. This facade re-exports the DSP crates and chains them.
//!
//! ```
//! use lathe::core::db_to_gain;
//! assert!((db_to_gain(-6.0206) - 0.5).abs() < 1e-4);
//! ```
#![forbid(unsafe_code)]

pub use lathe_core as core;
