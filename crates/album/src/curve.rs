//! Fade and crossfade gain curves.

use core::f64::consts::FRAC_PI_2;
use core::f64::consts::PI;

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
/// | [`SCurve`](FadeCurve::SCurve) | `(1 - cos πx)/2` | `(1 + cos πx)/2` | amplitude, with zero slope at both ends |
///
/// The S-curve is the raised cosine (a Hann half-window): it starts and ends with zero slope,
/// so its ends are the softest. Equal power is the usual choice for crossfading two different
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
    /// Raised cosine: `g_in(x) = (1 - cos πx) / 2`, zero slope at both ends.
    SCurve,
}

impl FadeCurve {
    /// All curves, for tests and user interfaces.
    pub const ALL: [FadeCurve; 3] = [FadeCurve::Linear, FadeCurve::EqualPower, FadeCurve::SCurve];

    /// Fade-in gain (linear amplitude, `0 ..= 1`) at normalised position `x` (clamped to
    /// `0 ..= 1`; NaN counts as 0).
    #[inline]
    pub fn fade_in_gain(self, x: f64) -> f64 {
        let x = clamp_unit(x);
        match self {
            FadeCurve::Linear => x,
            FadeCurve::EqualPower => libm::sin(FRAC_PI_2 * x),
            FadeCurve::SCurve => 0.5 - 0.5 * libm::cos(PI * x),
        }
    }

    /// Fade-out gain (linear amplitude, `0 ..= 1`) at normalised position `x` (clamped to
    /// `0 ..= 1`; NaN counts as 0): the mirror image `g_in(1 - x)`, computed directly so that
    /// the two sides of a crossfade are exact complements.
    #[inline]
    pub fn fade_out_gain(self, x: f64) -> f64 {
        let x = clamp_unit(x);
        match self {
            FadeCurve::Linear => 1.0 - x,
            FadeCurve::EqualPower => libm::cos(FRAC_PI_2 * x),
            FadeCurve::SCurve => 0.5 + 0.5 * libm::cos(PI * x),
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

#[inline]
fn clamp_unit(x: f64) -> f64 {
    if x >= 1.0 {
        1.0
    } else if x > 0.0 {
        x
    } else {
        0.0
    }
}
