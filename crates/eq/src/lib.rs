//! lathe-eq (under construction).
#![no_std]
#![forbid(unsafe_code)]
#[cfg(test)]
extern crate std;

mod analog;
mod crossover;
pub mod design;
mod eq;
mod params;
pub mod svf;

pub use crossover::{Crossover, CrossoverOrder};
pub use design::{coeffs_response, design_band, invert, Sections};
pub use eq::{
    ParametricEq, DEFAULT_SAMPLE_RATE, DEFAULT_SMOOTHING_MS, MAX_SMOOTHING_MS, SANITIZE_FRAMES,
    SEGMENT_FRAMES,
};
pub use params::{
    butterworth_q, shelf_slope_to_q, BandParams, Design, FilterKind, MAX_GAIN_DB, MAX_ORDER, MAX_Q,
    MAX_SECTIONS, MIN_FREQ_HZ, MIN_Q,
};
pub use svf::{Svf, SvfCoeffs};
