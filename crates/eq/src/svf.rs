//! The runtime topology: A. Simper's linear trapezoidal state-variable filter (Cytomic,
//! "Linear trapezoidal integrated SVF", 2013), realising any stable biquad, with `f64` state.
//!
//! # Why this structure
//!
//! Per sample, with input `v0` and the two integrator states `ic1eq`, `ic2eq`:
//!
//! ```text
//! v3 = v0 − ic2eq
//! v1 = a1·ic1eq + a2·v3            (band-pass)
//! v2 = ic2eq + a2·ic1eq + a3·v3    (low-pass)
//! ic1eq = 2·v1 − ic1eq,  ic2eq = 2·v2 − ic2eq
//! y  = m0·v0 + m1·v1 + m2·v2
//! ```
//!
//! with `a1 = 1/(1 + g(g + k))`, `a2 = g·a1`, `a3 = g·a2` for the analog-equivalent
//! `g > 0, k ≥ 0`. The mix `m0, m1, m2` spans every second-order numerator, and every stable
//! denominator `1 + α1 z⁻¹ + α2 z⁻²` is reached with `a1 = (1 − α1 + α2)/4`,
//! `a3 = (1 + α1 + α2)/4`, `a2 = √(a1·a3)` — so the matched designs, whose coefficients no
//! analog `tan` pre-warp produces, run on the same structure as the RBJ ones
//! ([`SvfCoeffs::from_coeffs`]).
//!
//! **Stable under any modulation.** With zero input the state update is
//! `s' = M s`, `M = [[2a1 − 1, −2a2], [2a2, 1 − 2a3]]`, and a short calculation gives
//! `N²(I − MᵀM) = 4gk·[[1, −g], [−g, g²]] ⪰ 0` (`N = 1 + gk + g²`): the Euclidean norm of the
//! state never grows, for every `g > 0, k ≥ 0`. Because `M` is affine in `(a1, a2, a3)` and
//! the norm is convex, every per-sample *linear interpolation* between two valid coefficient
//! sets keeps `‖M‖ ≤ 1` too. That is exactly how [`ParametricEq`](crate::ParametricEq)
//! smooths: coefficients are redesigned every few samples from smoothed parameters and
//! interpolated linearly in between, which is provably free of the transient blow-ups a
//! modulated direct form can show. The integrator states are signal-like quantities (a
//! band-pass and a low-pass of the input), so they stay meaningful when the coefficients move:
//! sweeps do not click.
//!
//! **Precise at low frequencies.** The state is `f64`; the integrators accumulate small
//! increments (`a3` is about `g²`) rather than cancelling large ones, so a 20 Hz high-pass at
//! 192 kHz keeps a noise floor far below the `f32` output's resolution.

use lathe_core::{Coeffs, Error, Result};

/// Coefficients of the trapezoidal SVF (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvfCoeffs {
    /// `1 / (1 + g(g + k))`.
    pub a1: f64,
    /// `g · a1`.
    pub a2: f64,
    /// `g · a2`.
    pub a3: f64,
    /// Weight of the input.
    pub m0: f64,
    /// Weight of the band-pass output `v1`.
    pub m1: f64,
    /// Weight of the low-pass output `v2`.
    pub m2: f64,
}

impl SvfCoeffs {
    /// The identity (`y = x`), with the structure tuned to fs/4 and `k = 2`.
    pub const IDENTITY: Self = Self {
        a1: 0.25,
        a2: 0.25,
        a3: 0.25,
        m0: 1.0,
        m1: 0.0,
        m2: 0.0,
    };

    /// Simper's parametrisation: `g = tan(π f/fs)`, damping `k = 1/Q`, output mix
    /// `m0·input + m1·band-pass + m2·low-pass`.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for `"g"` not finite and positive or `"k"` negative.
    pub fn from_gk(g: f64, k: f64, m0: f64, m1: f64, m2: f64) -> Result<Self> {
        Error::check_range("g", g, f64::MIN_POSITIVE, f64::MAX)?;
        Error::check_range("k", k, 0.0, f64::MAX)?;
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        Ok(Self {
            a1,
            a2,
            a3: g * a2,
            m0,
            m1,
            m2,
        })
    }

    /// The SVF realising the biquad `c` exactly (same transfer function).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] (`"a2"` outside −1 ..= 1, or `"a1"` outside ±(1 + a2), bounds
    /// exclusive) when `c` is not stable: a pole on or outside the unit circle has no SVF.
    pub fn from_coeffs(c: &Coeffs) -> Result<Self> {
        if !(c.a2.is_finite() && c.a2.abs() < 1.0) {
            return Err(Error::OutOfRange {
                param: "a2",
                value: c.a2,
                min: -1.0,
                max: 1.0,
            });
        }
        let p = 1.0 + c.a1 + c.a2; // A(1)
        let q = 1.0 - c.a1 + c.a2; // A(-1)
        if !(c.a1.is_finite() && p > 0.0 && q > 0.0) {
            return Err(Error::OutOfRange {
                param: "a1",
                value: c.a1,
                min: -(1.0 + c.a2),
                max: 1.0 + c.a2,
            });
        }
        let a1 = 0.25 * q;
        let a3 = 0.25 * p;
        let a2 = 0.25 * libm::sqrt(p * q);
        // The mix from three independent facts: H(-1) = m0 (band- and low-pass vanish at
        // Nyquist), H(1) = m0 + m2 (unity low-pass at DC), and the odd part b0 - b2.
        let m0 = (c.b0 - c.b1 + c.b2) / q;
        let m2 = (c.b0 + c.b1 + c.b2) / p - m0;
        let m1 = (c.b0 - c.b2 - m0 * (1.0 - c.a2)) / (2.0 * a2);
        Ok(Self {
            a1,
            a2,
            a3,
            m0,
            m1,
            m2,
        })
    }

    /// The equivalent biquad (same transfer function).
    pub fn to_coeffs(&self) -> Coeffs {
        // Denominator: A(1) = 4 a3, A(-1) = 4 a1.
        let a1 = 2.0 * (self.a3 - self.a1);
        let a2 = 2.0 * (self.a1 + self.a3) - 1.0;
        // Band-pass numerator a2(1 - z^-2), low-pass numerator a3(1 + z^-1)^2 (normalised).
        Coeffs {
            b0: self.m0 + self.m1 * self.a2 + self.m2 * self.a3,
            b1: self.m0 * a1 + 2.0 * self.m2 * self.a3,
            b2: self.m0 * a2 - self.m1 * self.a2 + self.m2 * self.a3,
            a1,
            a2,
        }
    }

    /// The same structure with the mix set to pass the input through (`m = (1, 0, 0)`): what a
    /// band fades from or to when it is switched on or off.
    pub(crate) fn bypassed(self) -> Self {
        Self {
            m0: 1.0,
            m1: 0.0,
            m2: 0.0,
            ..self
        }
    }

    /// `self + (other − self)·t`.
    pub(crate) fn lerp(&self, other: &Self, t: f64) -> Self {
        let l = |a: f64, b: f64| a + (b - a) * t;
        Self {
            a1: l(self.a1, other.a1),
            a2: l(self.a2, other.a2),
            a3: l(self.a3, other.a3),
            m0: l(self.m0, other.m0),
            m1: l(self.m1, other.m1),
            m2: l(self.m2, other.m2),
        }
    }

    /// Per-sample increment that walks from `self` to `target` in `n` samples.
    pub(crate) fn step_to(&self, target: &Self, n: u32) -> Self {
        let inv = 1.0 / f64::from(n.max(1));
        Self {
            a1: (target.a1 - self.a1) * inv,
            a2: (target.a2 - self.a2) * inv,
            a3: (target.a3 - self.a3) * inv,
            m0: (target.m0 - self.m0) * inv,
            m1: (target.m1 - self.m1) * inv,
            m2: (target.m2 - self.m2) * inv,
        }
    }

    #[inline(always)]
    pub(crate) fn advance(&mut self, step: &Self) {
        self.a1 += step.a1;
        self.a2 += step.a2;
        self.a3 += step.a3;
        self.m0 += step.m0;
        self.m1 += step.m1;
        self.m2 += step.m2;
    }
}

/// The constants of one SVF step, replicated once per channel and aligned, so that the fast
/// path multiplies whole SIMD registers without broadcasting scalars: `2·a1, 2·a2, 2·a3, m0,
/// m1/2, m2/2` (exact scalings of [`SvfCoeffs`], so both paths compute bit-identical results).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub(crate) struct WideCoeffs<const CH: usize> {
    a1x2: [f64; CH],
    a2x2: [f64; CH],
    a3x2: [f64; CH],
    m0: [f64; CH],
    m1h: [f64; CH],
    m2h: [f64; CH],
}

impl<const CH: usize> WideCoeffs<CH> {
    pub const fn new(c: &SvfCoeffs) -> Self {
        Self {
            a1x2: [2.0 * c.a1; CH],
            a2x2: [2.0 * c.a2; CH],
            a3x2: [2.0 * c.a3; CH],
            m0: [c.m0; CH],
            m1h: [0.5 * c.m1; CH],
            m2h: [0.5 * c.m2; CH],
        }
    }
}

/// The two integrator states of an SVF, per channel, in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub(crate) struct SvfState<const CH: usize> {
    pub ic1: [f64; CH],
    pub ic2: [f64; CH],
}

impl<const CH: usize> SvfState<CH> {
    pub const ZERO: Self = Self {
        ic1: [0.0; CH],
        ic2: [0.0; CH],
    };

    /// Clears state that became non-finite and flushes tiny values to zero.
    pub fn sanitize(&mut self) {
        if !(self.ic1.iter().all(|v| v.is_finite()) && self.ic2.iter().all(|v| v.is_finite())) {
            *self = Self::ZERO;
        }
        for v in self.ic1.iter_mut().chain(self.ic2.iter_mut()) {
            *v = lathe_core::flush_denormal(*v);
        }
    }

    /// One step of the integrators; returns the band-pass `v1` and low-pass `v2` outputs.
    ///
    /// Same map as Simper's form, rearranged to 7 multiplications and 8 additions:
    /// `u1 = 2v1 = 2a1·ic1 + 2a2·v3`, `ic1' = u1 − ic1`, `ic2' = ic2 + 2a2·ic1 + 2a3·v3`
    /// (`= 2v2 − ic2`), so `v1 = u1/2` and `v2 = (ic2 + ic2')/2`.
    #[inline(always)]
    pub fn step(&mut self, c: &SvfCoeffs, x: [f64; CH]) -> ([f64; CH], [f64; CH]) {
        let (a1x2, a2x2, a3x2) = (2.0 * c.a1, 2.0 * c.a2, 2.0 * c.a3);
        let mut v1 = [0.0; CH];
        let mut v2 = [0.0; CH];
        for i in 0..CH {
            let (ic1, ic2) = (self.ic1[i], self.ic2[i]);
            let v3 = x[i] - ic2;
            let u1 = a1x2 * ic1 + a2x2 * v3;
            let ic2n = ic2 + a2x2 * ic1 + a3x2 * v3;
            self.ic1[i] = u1 - ic1;
            self.ic2[i] = ic2n;
            v1[i] = 0.5 * u1;
            v2[i] = 0.5 * (ic2 + ic2n);
        }
        (v1, v2)
    }

    /// One filtered frame, `m0·x + m1·v1 + m2·v2`, computed as in [`SvfState::step`].
    #[inline(always)]
    pub fn tick(&mut self, c: &SvfCoeffs, x: [f64; CH]) -> [f64; CH] {
        self.tick_wide(&WideCoeffs::new(c), x)
    }

    /// [`SvfState::tick`] with the per-channel step constants.
    #[inline(always)]
    pub fn tick_wide(&mut self, c: &WideCoeffs<CH>, x: [f64; CH]) -> [f64; CH] {
        let (u1, v2x2) = self.step_wide(c, x);
        core::array::from_fn(|i| c.m0[i] * x[i] + c.m1h[i] * u1[i] + c.m2h[i] * v2x2[i])
    }

    /// One step of the integrators with the per-channel step constants; returns twice the
    /// band-pass and twice the low-pass outputs (`u1 = 2 v1`, `ic2 + ic2' = 2 v2`, see
    /// [`SvfState::step`]).
    #[inline(always)]
    pub fn step_wide(&mut self, c: &WideCoeffs<CH>, x: [f64; CH]) -> ([f64; CH], [f64; CH]) {
        let mut u1 = [0.0; CH];
        let mut v2x2 = [0.0; CH];
        for i in 0..CH {
            let (ic1, ic2) = (self.ic1[i], self.ic2[i]);
            let v3 = x[i] - ic2;
            u1[i] = c.a1x2[i] * ic1 + c.a2x2[i] * v3;
            let ic2n = ic2 + c.a2x2[i] * ic1 + c.a3x2[i] * v3;
            self.ic1[i] = u1[i] - ic1;
            self.ic2[i] = ic2n;
            v2x2[i] = ic2 + ic2n;
        }
        (u1, v2x2)
    }
}

/// One SVF over `CH` channels with fixed coefficients: the building block, usable alone.
///
/// Non-finite input: [`Svf::process`] clears state that became non-finite at the end of each
/// call (and [`Svf::flush`] does it on demand), so a NaN never poisons the filter beyond the
/// block it arrived in.
///
/// ```
/// use lathe_eq::{design_band, BandParams, Svf, SvfCoeffs};
/// let c = design_band(&BandParams::high_pass(80.0, 2), 48_000.0).unwrap().as_slice()[0];
/// let mut hp = Svf::<2>::new(SvfCoeffs::from_coeffs(&c).unwrap());
/// let mut audio = [[1.0f32, -1.0]; 64];
/// hp.process(&mut audio);
/// assert!(audio[63][0] < 1.0 && audio[63][1] > -1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Svf<const CH: usize> {
    /// Coefficients in use.
    pub coeffs: SvfCoeffs,
    state: SvfState<CH>,
}

impl<const CH: usize> Default for Svf<CH> {
    fn default() -> Self {
        Self::new(SvfCoeffs::IDENTITY)
    }
}

impl<const CH: usize> Svf<CH> {
    /// A filter with `coeffs` and cleared state.
    pub const fn new(coeffs: SvfCoeffs) -> Self {
        Self {
            coeffs,
            state: SvfState::ZERO,
        }
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.state = SvfState::ZERO;
    }

    /// Filters one frame in `f64`.
    #[inline]
    pub fn tick_frame(&mut self, x: [f64; CH]) -> [f64; CH] {
        self.state.tick(&self.coeffs, x)
    }

    /// Filters `frames` in place (`f32` in and out, `f64` inside), then clears non-finite
    /// state.
    pub fn process(&mut self, frames: &mut [[f32; CH]]) {
        for f in frames.iter_mut() {
            let y = self.state.tick(&self.coeffs, f.map(f64::from));
            *f = y.map(|v| v as f32);
        }
        self.flush();
    }

    /// Clears state that became non-finite and flushes denormal-range state to zero.
    pub fn flush(&mut self) {
        self.state.sanitize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{coeffs_response, design_band, BandParams, Design};

    #[test]
    fn from_coeffs_round_trips_and_keeps_the_response() {
        let fs = 48_000.0;
        for p in [
            BandParams::peak(15_000.0, 12.0, 1.0),
            BandParams::low_shelf(100.0, -6.0, 0.7),
            BandParams::high_pass(20.0, 1),
            BandParams::notch(3_000.0, 8.0),
            BandParams {
                design: Design::Rbj,
                ..BandParams::band_pass(500.0, 0.3)
            },
        ] {
            for c in design_band(&p, fs).unwrap().as_slice() {
                let s = SvfCoeffs::from_coeffs(c).unwrap();
                let back = s.to_coeffs();
                for f in [10.0, 100.0, 1_000.0, 10_000.0, 23_000.0] {
                    let (a, b) = (coeffs_response(c, f, fs), coeffs_response(&back, f, fs));
                    assert!((a - b).norm() < 1e-9 * a.norm().max(1e-3), "{p:?} {f}");
                }
            }
        }
        assert!(SvfCoeffs::from_coeffs(&Coeffs {
            a2: 1.0,
            ..Coeffs::IDENTITY
        })
        .is_err());
        assert_eq!(
            SvfCoeffs::from_coeffs(&Coeffs::IDENTITY).unwrap(),
            SvfCoeffs::IDENTITY
        );
    }

    #[test]
    fn rbj_coefficients_are_simpers_g_and_k() {
        // Bilinear band-pass at f0 with Q: g = tan(π f0/fs), k = 1/Q, constant-peak mix m1 = k.
        let (fs, f0, q) = (48_000.0, 2_000.0, 2.0);
        let c = design_band(
            &BandParams {
                design: Design::Rbj,
                ..BandParams::band_pass(f0, q)
            },
            fs,
        )
        .unwrap()
        .as_slice()[0];
        let ours = SvfCoeffs::from_coeffs(&c).unwrap();
        let g = libm::tan(core::f64::consts::PI * f0 / fs);
        let simper = SvfCoeffs::from_gk(g, 1.0 / q, 0.0, 1.0 / q, 0.0).unwrap();
        for (a, b) in [
            (ours.a1, simper.a1),
            (ours.a2, simper.a2),
            (ours.a3, simper.a3),
            (ours.m0, simper.m0),
            (ours.m1, simper.m1),
            (ours.m2, simper.m2),
        ] {
            assert!((a - b).abs() < 1e-12, "{ours:?} vs {simper:?}");
        }
    }
}
