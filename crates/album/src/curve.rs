//! Fade and crossfade gain curves.

use core::f64::consts::FRAC_PI_2;

/// The shape of a fade or a crossfade.
///
/// A curve is a fade-in gain `g_in(x)` over the fade's normalised position `x` in `0 ..= 1`
/// (0 = start of the fade, 1 = end); the matching fade-out is its mirror image,
/// `g_out(x) = g_in(1 - x)`. In a crossfade the outgoing track follows `g_out` and the incoming
/// track `g_in` at the same `x`.
///
/// | curve | `g_in(x)` | `g_out(x)` | what stays constant in a crossfade |
/// |---|---|---|---|
/// | [`Linear`](FadeCurve::Linear) | `x` | `1 - x` | amplitude: `g_in + g_out = 1` (correlated material) |
/// | [`EqualPower`](FadeCurve::EqualPower) | `sin(πx/2)` | `cos(πx/2)` | power: `g_in² + g_out² = 1` (uncorrelated material) |
/// | [`SCurve`](FadeCurve::SCurve) | `(1 - cos πx)/2 = sin²(πx/2)` | `(1 + cos πx)/2 = cos²(πx/2)` | amplitude, with zero slope at both ends |
///
/// The sines are evaluated with a polynomial accurate to 5e-14 (1e-13 for the squared
/// S-curve), so the table holds to that precision. The S-curve is the raised cosine (a Hann
/// half-window): it starts and ends with zero slope, so its ends are the softest. Equal power is the usual choice for crossfading two different
/// songs (their sum is uncorrelated, so powers add); linear and S-curve keep the amplitude of
/// correlated material (the same recording on both sides) constant. In the discrete timeline a
/// fade of `L` frames puts frame `k` (`0 <= k < L`) at `x = (k + 0.5) / L`, so a fade-in is the
/// exact time reverse of a fade-out and the two sides of a crossfade meet in its middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FadeCurve {
    /// Straight line in amplitude: `g_in(x) = x`.
    Linear,
    /// Constant power: `g_in(x) = sin(πx/2)`, `g_out(x) = cos(πx/2)` (−3.01 dB each in the
    /// middle).
    #[default]
    EqualPower,
    /// Raised cosine: `g_in(x) = (1 - cos πx) / 2 = sin²(πx/2)`, zero slope at both ends.
    SCurve,
}

impl FadeCurve {
    /// All curves, for tests and user interfaces.
    pub const ALL: [FadeCurve; 3] = [FadeCurve::Linear, FadeCurve::EqualPower, FadeCurve::SCurve];

    /// Fade-in gain (linear amplitude, `0 ..= 1`) at normalised position `x` (clamped to
    /// `0 ..= 1`; NaN counts as 0). Exactly 0 at `x = 0` and 1 at `x = 1`.
    #[inline]
    pub fn fade_in_gain(self, x: f64) -> f64 {
        if x >= 1.0 {
            1.0
        } else if x > 0.0 {
            self.shape_in(x)
        } else {
            0.0
        }
    }

    /// Fade-out gain (linear amplitude, `0 ..= 1`) at normalised position `x` (clamped to
    /// `0 ..= 1`; NaN counts as 0): the mirror image `g_in(1 - x)`, computed from its own
    /// formula so that the two sides of a crossfade are exact complements. Exactly 1 at
    /// `x = 0` and 0 at `x = 1`.
    #[inline]
    pub fn fade_out_gain(self, x: f64) -> f64 {
        if x >= 1.0 {
            0.0
        } else if x > 0.0 {
            self.shape_out(x)
        } else {
            1.0
        }
    }

    /// `g_in(x)` for `0 < x < 1`.
    #[inline(always)]
    fn shape_in(self, x: f64) -> f64 {
        match self {
            FadeCurve::Linear => x,
            FadeCurve::EqualPower => sin_half_pi(x),
            FadeCurve::SCurve => {
                let s = sin_half_pi(x);
                s * s
            }
        }
    }

    /// `g_out(x)` for `0 < x < 1`.
    #[inline(always)]
    fn shape_out(self, x: f64) -> f64 {
        match self {
            FadeCurve::Linear => 1.0 - x,
            FadeCurve::EqualPower => sin_half_pi(1.0 - x),
            FadeCurve::SCurve => {
                let c = sin_half_pi(1.0 - x);
                c * c
            }
        }
    }

    /// Multiplies `gains[j]` by the fade-in (`rising`) or fade-out gain at frame `k0 + j` of a
    /// fade of `len` frames; bit-identical to [`fade_in_at`](Self::fade_in_at) /
    /// [`fade_out_at`](Self::fade_out_at) for `k0 + j < len`, written so that it vectorises.
    pub(crate) fn mul_fade(self, rising: bool, k0: u64, len: u64, gains: &mut [f64]) {
        #[inline(always)]
        fn each(gains: &mut [f64], base: f64, len: f64, f: impl Fn(f64) -> f64) {
            // (k0 + 0.5) + j is exact (integers and halves below 2^52), so x is the same
            // number `frame_position` computes.
            for (j, g) in (0i32..).zip(gains.iter_mut()) {
                *g *= f((base + f64::from(j)) / len);
            }
        }
        let base = k0 as f64 + 0.5;
        let l = len as f64;
        match (self, rising) {
            (FadeCurve::Linear, true) => each(gains, base, l, |x| x),
            (FadeCurve::Linear, false) => each(gains, base, l, |x| 1.0 - x),
            (FadeCurve::EqualPower, true) => each(gains, base, l, sin_half_pi),
            (FadeCurve::EqualPower, false) => each(gains, base, l, |x| sin_half_pi(1.0 - x)),
            (FadeCurve::SCurve, true) => each(gains, base, l, |x| {
                let s = sin_half_pi(x);
                s * s
            }),
            (FadeCurve::SCurve, false) => each(gains, base, l, |x| {
                let c = sin_half_pi(1.0 - x);
                c * c
            }),
        }
    }

    /// Fade-in gain at frame `k` of a fade of `len` frames: `g_in((k + 0.5) / len)`.
    /// A zero-length fade is no fade (gain 1).
    #[inline]
    pub fn fade_in_at(self, k: u64, len: u64) -> f64 {
        if len == 0 {
            1.0
        } else {
            self.fade_in_gain(frame_position(k, len))
        }
    }

    /// Fade-out gain at frame `k` of a fade of `len` frames: `g_out((k + 0.5) / len)`.
    /// A zero-length fade is no fade (gain 1).
    #[inline]
    pub fn fade_out_at(self, k: u64, len: u64) -> f64 {
        if len == 0 {
            1.0
        } else {
            self.fade_out_gain(frame_position(k, len))
        }
    }

    /// Largest slope `|dg/dx|` of the curve over `0 ..= 1` (1 for linear, π/2 for the others):
    /// a fade of `L` frames changes the gain by at most `max_slope / L` per frame.
    pub fn max_slope(self) -> f64 {
        match self {
            FadeCurve::Linear => 1.0,
            FadeCurve::EqualPower | FadeCurve::SCurve => FRAC_PI_2,
        }
    }
}

/// Normalised position of frame `k` in a fade of `len > 0` frames: `(k + 0.5) / len`.
#[inline]
fn frame_position(k: u64, len: u64) -> f64 {
    (k as f64 + 0.5) / len as f64
}

/// `sin(πx/2)` for `0 <= x <= 1`: the Taylor series of `sin θ` to `θ^17` in Horner form.
/// The remainder is below `θ^19 / 19! <= 4.4e-14` on `0 ..= π/2`; a polynomial (rather than a
/// library `sin`) is branch-free, so per-frame fades vectorise.
#[inline(always)]
fn sin_half_pi(x: f64) -> f64 {
    const C: [f64; 9] = [
        1.0,
        -1.0 / 6.0,
        1.0 / 120.0,
        -1.0 / 5_040.0,
        1.0 / 362_880.0,
        -1.0 / 39_916_800.0,
        1.0 / 6_227_020_800.0,
        -1.0 / 1_307_674_368_000.0,
        1.0 / 355_687_428_096_000.0,
    ];
    let t = FRAC_PI_2 * x;
    let t2 = t * t;
    let mut p = C[8];
    for c in C[..8].iter().rev() {
        p = p * t2 + c;
    }
    t * p
}
