//! # lathe-eq
//!
//! Equalisation for mastering: filter design in `f64`, a modulation-safe filter topology, an
//! `N`-band parametric EQ and Linkwitz–Riley crossovers. `#![no_std]`, no allocation.
//!
//! ```
//! use lathe_core::{Processor, ProcessSpec};
//! use lathe_eq::{BandParams, Crossover, Design, ParametricEq};
//!
//! // A 4-band stereo EQ: rumble filter, low shelf, presence cut, air.
//! let mut eq: ParametricEq<2, 4> = ParametricEq::new();
//! eq.set_band(0, BandParams::high_pass(25.0, 4)).unwrap(); // 24 dB/oct Butterworth
//! eq.set_band(1, BandParams::low_shelf(110.0, 1.5, 0.7)).unwrap();
//! eq.set_band(2, BandParams::peak(3_200.0, -2.0, 1.4)).unwrap();
//! eq.set_band(3, BandParams::high_shelf(12_000.0, 2.0, 0.7)).unwrap();
//! eq.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
//!
//! let mut audio = vec![[0.1f32, -0.1]; 512];
//! eq.process(&mut audio);
//!
//! // The response of the whole EQ, for plots and checks: -2 dB at the presence cut.
//! let db = |h: num_complex::Complex64| 20.0 * h.norm().log10();
//! assert!((db(eq.response(3_200.0)) - (-2.0)).abs() < 0.05);
//!
//! // Automation while running glides over 20 ms without clicks.
//! eq.set_band(2, BandParams::peak(2_500.0, -3.0, 1.0)).unwrap();
//! eq.process(&mut audio);
//!
//! // The matched design follows the analog bell up to Nyquist; the RBJ one cramps.
//! let air = BandParams::peak(15_000.0, 12.0, 1.0);
//! let analog = db(air.analog_response(21_000.0));
//! let matched = lathe_eq::design_band(&air, 48_000.0).unwrap();
//! let rbj = lathe_eq::design_band(&BandParams { design: Design::Rbj, ..air }, 48_000.0).unwrap();
//! assert!((db(matched.response(21_000.0, 48_000.0)) - analog).abs() < 1.0);
//! assert!((db(rbj.response(21_000.0, 48_000.0)) - analog).abs() > 5.0);
//!
//! // A 3-band Linkwitz-Riley split whose bands sum back to an all-pass.
//! let mut xover: Crossover<2, 3> = Crossover::new();
//! xover.set_frequencies(&[150.0, 2_500.0]).unwrap();
//! xover.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
//! let [low, mid, high] = xover.split_frame(&[0.5, 0.5]);
//! # let _ = (low, mid, high);
//! ```
//!
//! ## Design ([`design`])
//!
//! Every band ([`BandParams`]: peak, low/high shelf by Q or slope, Butterworth low/high-pass of
//! order 1 to 8, band-pass, notch, all-pass, tilt) has an analog prototype
//! ([`BandParams::analog_response`]) and two digital designs, both returned as
//! [`lathe_core::Coeffs`] sections:
//!
//! - [`Design::Rbj`]: the RBJ Audio EQ Cookbook (R. Bristow-Johnson; W3C WebAudio edition),
//!   the bilinear transform pre-warped at the corner. It cramps towards Nyquist.
//! - [`Design::Matched`] (default): M. Vicanek, "Matched Second Order Digital Filters" (2016):
//!   impulse-invariant poles and numerators fitted to the analog magnitude at DC, Nyquist and
//!   the corner, extended here to shelves, tilt, odd-order sections and the inverse-pair trick
//!   that makes boost and cut exact inverses. A +12 dB, Q 1 peak at 15 kHz (48 kHz) stays within
//!   0.9 dB of the analog bell everywhere to 22 kHz, where the RBJ one is 6.6 dB low.
//!
//! ## Topology ([`svf`])
//!
//! Every section runs as A. Simper's linear trapezoidal SVF (Cytomic, "Linear trapezoidal
//! integrated SVF", 2013). Any stable biquad — including the matched ones — maps onto it
//! exactly ([`SvfCoeffs::from_coeffs`]), its state norm provably never grows under per-sample
//! coefficient changes (also for linear interpolation between coefficient sets), and it keeps
//! its precision at low frequencies (a 20 Hz high-pass at 192 kHz has a rounding floor below
//! -145 dB). The EQ smooths parameter changes in the parameter domain (log frequency, dB, log
//! Q), redesigns every [`SEGMENT_FRAMES`] samples and interpolates the coefficients per sample
//! in the SVF with `f64` state; structural changes morph the coefficients along a smoothstep.
//! While nothing moves, the same sections run in an equivalent form with fewer operations and
//! a shorter recursion, in `f64` for low corners and sharp resonances and in `f32` for the
//! others (rounding noise at most -130 dB below the signal, typically -140 dB), as a
//! vectorised wavefront; see [`ParametricEq`] ("Cost").
//!
//! ## Crossovers
//!
//! [`Crossover`] splits into 2 or more bands with Linkwitz–Riley 2nd- or 4th-order slopes
//! (S. Linkwitz, JAES 1976), all-pass compensated so that the bands of any split sum to an
//! all-pass: flat magnitude within 0.01 dB. A 2-band LR4 split costs two SVFs per channel.
//!
//! ## Non-finite input
//!
//! NaN or infinite samples never poison a filter for good: state is checked every
//! [`SANITIZE_FRAMES`] frames on a grid counted from `prepare`/`reset` (so results do not
//! depend on block sizes) and cleared when not finite; denormal-range state is flushed there
//! too. Output is non-finite only until that grid point.
//!
//! ## Performance
//!
//! `cargo bench -p lathe-eq --bench eq` (criterion) measures one SVF, the core TDF-II biquad,
//! the 5-band stereo EQ (still and while gliding) and the crossovers at 64/512/4096-frame
//! blocks. On the shared 2-core AMD EPYC (Zen 4, 3.65 GHz) VM this crate was developed on,
//! with baseline x86-64 (SSE2) code, the benchmark's 5-band stereo EQ at 48 kHz (one `f64`
//! section, four `f32` ones in two packs) takes 4.1, 4.2 and 5.5 ns per frame for 4096-, 512-
//! and 64-frame blocks (best of repeated runs; criterion medians 4.5–7 ns while other jobs
//! load the machine), against 8.1 ns (medians 9–12 ns) with the earlier all-`f64` SVF
//! cascade. The steady state is about 69 instructions per frame — 43 arithmetic, 17 register
//! copies that SSE2's two-operand form needs — at about 15 cycles; each section's recursion
//! alone needs 9 cycles per frame. 64-frame blocks also pay for filling and draining the
//! pipeline. One stereo SVF ([`Svf`]) costs about 3.7–4.3 ns per frame (latency-bound), a
//! two-band LR4 split about 6–8 ns.
//!
//! On x86-64 processors with AVX2 and FMA (detected at run time) the stereo still path runs a
//! second kernel instead: four `f32` sections per channel in each half of a 256-bit register,
//! `f64` sections in direct form, fused multiply-adds (see the `avx` module's source). There
//! the same 5-band EQ takes 2.71–2.76 ns per frame at 4096-frame blocks, 2.77–2.79 at 512
//! and 3.31–3.44 at 64 (criterion medians, blocks hot in the cache; see the bench's docs);
//! its output differs from the SSE2 kernel's by at most 2 `f32` ulps (-134 dB), and each
//! equaliser keeps one kernel for its life, so block splits stay bit-exact.
#![no_std]
#![deny(unsafe_code)]
#[cfg(test)]
extern crate std;

mod analog;
#[cfg(target_arch = "x86_64")]
mod avx;
mod crossover;
mod dc;
pub mod design;
mod energy;
mod eq;
mod fast;
mod params;
pub mod svf;

pub use crossover::{Crossover, CrossoverOrder};
pub use dc::DcBlocker;
pub use design::{coeffs_response, design_band, invert, Sections};
pub use energy::BandEnergies;
pub use eq::{
    ParametricEq, DEFAULT_SAMPLE_RATE, DEFAULT_SMOOTHING_MS, MAX_SMOOTHING_MS, SANITIZE_FRAMES,
    SEGMENT_FRAMES,
};
pub use params::{
    butterworth_q, shelf_slope_to_q, BandParams, Design, FilterKind, MAX_GAIN_DB, MAX_ORDER, MAX_Q,
    MAX_SECTIONS, MIN_FREQ_HZ, MIN_Q,
};
pub use svf::{Svf, SvfCoeffs};
