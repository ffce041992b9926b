//! # lathe-testkit
//!
//! What every Lathe processor is held to, and the signals used to hold it there.
//!
//! - [`check_contract`] runs a processor through the contract of
//!   [`lathe_core::Processor`] at 44.1, 48, 96 and 192 kHz: bit-exact block-split invariance
//!   (one call vs chunks of 1, 7, 64 and 4096 frames), `reset()` equals a fresh instance, the
//!   measured impulse delay equals `latency()`, finite output for extreme finite input (full-scale
//!   and +18 dBFS square waves, DC, noise, silence), and zero heap allocations in `process`.
//! - [`contract_tests!`] writes the mono and stereo `#[test]`s for one processor.
//! - [`alloc`] holds the counting global allocator that a test binary installs with
//!   [`install_counting_allocator!`].
//! - [`signals`] makes deterministic test signals: sines, phase-continuous tone sequences,
//!   seeded noise, log sweeps, impulses, steps, squares.
//! - [`analysis`] measures them: RMS, peaks, an independent 8x true-peak check.
//!
//! ```
//! use lathe_core::{Processor, ProcessSpec, Result};
//! use lathe_testkit::{check_contract, ContractOptions};
//!
//! struct Halve;
//! impl<const CH: usize> Processor<CH> for Halve {
//!     fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> { spec.validate() }
//!     fn reset(&mut self) {}
//!     fn process(&mut self, frames: &mut [[f32; CH]]) {
//!         frames.iter_mut().flatten().for_each(|s| *s *= 0.5);
//!     }
//! }
//! // In a doctest no counting allocator is installed, so skip that one check.
//! let opts = ContractOptions { check_allocations: false, ..ContractOptions::default() };
//! check_contract::<2, _>("halve", |_fs| Halve, &opts);
//! ```
#![deny(unsafe_code)]

pub mod alloc;
pub mod analysis;
mod contract;
pub mod signals;

pub use contract::{check_contract, ContractOptions, LatencyCheck, CONTRACT_RATES};
