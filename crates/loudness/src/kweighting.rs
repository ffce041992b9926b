//! K-weighting filter, ITU-R BS.1770-4 §2.1.

use lathe_core::{Error, Result};

/// Analog parameters of the stage-1 high shelf (as re-derived by libebur128; they reproduce the
/// published 48 kHz coefficients).
const SHELF_F0: f64 = 1_681.974_450_955_533;
const SHELF_G_DB: f64 = 3.999_843_853_973_347;
const SHELF_Q: f64 = 0.707_175_236_955_419_6;
/// Analog parameters of the stage-2 high-pass (RLB weighting).
const HP_F0: f64 = 38.135_470_876_024_44;
const HP_Q: f64 = 0.500_327_037_323_877_3;

/// Biquad coefficients `[b0, b1, b2, a1, a2]` (a0 = 1).
pub(crate) type Coeffs = [f64; 5];

/// Designs the two K-weighting stages for `sample_rate` Hz: `(shelf, high_pass)`.
pub(crate) fn design(sample_rate: f64) -> (Coeffs, Coeffs) {
    let k = libm::tan(core::f64::consts::PI * SHELF_F0 / sample_rate);
    let vh = libm::pow(10.0, SHELF_G_DB / 20.0);
    let vb = libm::pow(vh, 0.499_666_774_154_541_6);
    let a0 = 1.0 + k / SHELF_Q + k * k;
    let shelf = [
        (vh + vb * k / SHELF_Q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / SHELF_Q + k * k) / a0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / SHELF_Q + k * k) / a0,
    ];
    let k = libm::tan(core::f64::consts::PI * HP_F0 / sample_rate);
    let a0 = 1.0 + k / HP_Q + k * k;
    let hp = [
        1.0,
        -2.0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / HP_Q + k * k) / a0,
    ];
    (shelf, hp)
}

/// The K-weighting pre-filter for `CH` channels (two cascaded biquads per channel, state in
/// `f64` so the 38 Hz high-pass stays exact at 384 kHz), with the BS.1770-4 channel weights.
#[derive(Debug, Clone)]
pub struct KWeighting<const CH: usize> {
    shelf: Coeffs,
    hp: Coeffs,
    // Transposed direct form II state per channel: [s1, s2] for each stage.
    state: [[f64; 4]; CH],
    weights: [f64; CH],
}

impl<const CH: usize> KWeighting<CH> {
    /// A K-weighting filter for `sample_rate` Hz with the default channel weights for `CH`
    /// channels (see [`ChannelLayout::default_for`](crate::ChannelLayout::default_for)).
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`] outside 8 ..= 384 kHz; [`Error::UnsupportedChannels`]
    /// for `CH` outside 1 ..= 8.
    pub fn new(sample_rate: f64) -> Result<Self> {
        lathe_core::ProcessSpec::new(sample_rate, 1).validate()?;
        let layout = crate::ChannelLayout::default_for(CH)
            .ok_or(Error::UnsupportedChannels { channels: CH })?;
        let (shelf, hp) = design(sample_rate);
        let mut weights = [0.0; CH];
        for (i, w) in weights.iter_mut().enumerate() {
            *w = layout.weight(i);
        }
        Ok(Self {
            shelf,
            hp,
            state: [[0.0; 4]; CH],
            weights,
        })
    }

    /// The designed coefficients `([b0, b1, b2, a1, a2] shelf, [..] high-pass)`.
    pub fn coefficients(&self) -> ([f64; 5], [f64; 5]) {
        (self.shelf, self.hp)
    }

    /// BS.1770-4 channel weights `G_i` in use.
    pub fn channel_weights(&self) -> [f64; CH] {
        self.weights
    }

    /// Replaces the channel weights.
    pub fn set_channel_weights(&mut self, weights: [f64; CH]) {
        self.weights = weights;
    }

    /// Clears the filter state.
    pub fn reset(&mut self) {
        self.state = [[0.0; 4]; CH];
    }

    /// Filters one frame; non-finite samples are taken as 0.0. Returns the K-weighted samples.
    #[inline]
    pub fn process_frame(&mut self, frame: &[f32; CH]) -> [f64; CH] {
        let [b0, b1, b2, a1, a2] = self.shelf;
        let [c0, c1, c2, d1, d2] = self.hp;
        let mut out = [0.0; CH];
        for ch in 0..CH {
            let x = f64::from(frame[ch]);
            let x = if x.is_finite() { x } else { 0.0 };
            let s = &mut self.state[ch];
            let y = b0 * x + s[0];
            s[0] = b1 * x - a1 * y + s[1];
            s[1] = b2 * x - a2 * y;
            let z = c0 * y + s[2];
            s[2] = c1 * y - d1 * z + s[3];
            s[3] = c2 * y - d2 * z;
            out[ch] = z;
        }
        out
    }

    /// Filters one frame and returns its weighted energy `sum_i G_i z_i^2`.
    #[inline]
    pub fn frame_energy(&mut self, frame: &[f32; CH]) -> f64 {
        let z = self.process_frame(frame);
        let mut e = 0.0;
        for ch in 0..CH {
            e += self.weights[ch] * z[ch] * z[ch];
        }
        e
    }

    /// Flushes denormal-range state (call once per block).
    pub fn flush_denormals(&mut self) {
        for s in self.state.iter_mut().flatten() {
            *s = lathe_core::flush_denormal(*s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_published_48k_coefficients() {
        let (shelf, hp) = design(48_000.0);
        let want_shelf = [
            1.535_124_859_586_97,
            -2.691_696_189_406_38,
            1.198_392_810_852_85,
            -1.690_659_293_182_41,
            0.732_480_774_215_85,
        ];
        let want_hp = [1.0, -2.0, 1.0, -1.990_047_454_833_98, 0.990_072_250_366_21];
        for (a, b) in shelf.iter().zip(want_shelf.iter()) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        for (a, b) in hp.iter().zip(want_hp.iter()) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
