//! Mid/side encoding and decoding, and the mono fold used by bass mono.
//!
//! Lathe's mid/side convention is the "sum and difference divided by two" one (Blumlein's
//! M/S as used by most mastering mid/side EQs and compressors):
//!
//! `M = (L + R) / 2`, `S = (L - R) / 2` and back `L = M + S`, `R = M - S`.
//!
//! With it, the mid channel *is* the mono fold-down (the signal every mono playback hears, at
//! the same level as the stereo centre), and a centred source (`L = R`) has no side at all.

/// Mid/side conversion of stereo frames (`M = (L + R) / 2`, `S = (L - R) / 2`).
///
/// The round trip `decode(encode(x))` is exact up to rounding: each output differs from the
/// input by at most 1.5 units in the last place of `max(|L|, |R|)` (two roundings of the sum
/// and difference, one of the final sum; the halving is exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MidSide;

impl MidSide {
    /// Encodes a stereo frame `[L, R]` to `[M, S]`.
    #[inline]
    pub fn encode(frame: [f32; 2]) -> [f32; 2] {
        let [l, r] = frame;
        [0.5 * (l + r), 0.5 * (l - r)]
    }

    /// Decodes a mid/side frame `[M, S]` to `[L, R]`.
    #[inline]
    pub fn decode(frame: [f32; 2]) -> [f32; 2] {
        let [m, s] = frame;
        [m + s, m - s]
    }

    /// Encodes every frame of `frames` in place (`[L, R]` becomes `[M, S]`).
    pub fn encode_in_place(frames: &mut [[f32; 2]]) {
        for f in frames {
            *f = Self::encode(*f);
        }
    }

    /// Decodes every frame of `frames` in place (`[M, S]` becomes `[L, R]`).
    pub fn decode_in_place(frames: &mut [[f32; 2]]) {
        for f in frames {
            *f = Self::decode(*f);
        }
    }
}

/// Folds a stereo frame to mono on both channels: `[M, M]` with `M = (L + R) / 2`.
///
/// This is the mono sum a mono playback system hears (at unity level for a centred source).
#[inline]
pub fn mono_fold(frame: [f32; 2]) -> [f32; 2] {
    let m = 0.5 * (frame[0] + frame[1]);
    [m, m]
}

/// Joins the two bands of a crossover split for bass mono: the low band folded to mono
/// ([`mono_fold`]) plus the high band untouched, `[M_low + L_high, M_low + R_high]`.
///
/// Place it behind a complementary crossover (e.g. the Linkwitz-Riley 4th-order split of
/// `lathe-eq`): everything below the crossover frequency becomes mono, the mid (mono sum) of
/// the whole signal is exactly the mid of `low + high`, and only the side below the crossover
/// is removed.
#[inline]
pub fn mono_below(low: [f32; 2], high: [f32; 2]) -> [f32; 2] {
    let m = 0.5 * (low[0] + low[1]);
    [m + high[0], m + high[1]]
}
