//! Pieces shared by the compressor and the expander: the lookahead delay and the sidechain
//! (optional high-pass, peak/RMS level in `log2` units, stereo link).

use crate::detector::DetectorKind;
use crate::fastmath;
use lathe_core::biquad::{high_pass, Biquad, Coeffs};
use lathe_core::{flush_denormal_f32, one_pole_coeff, Result};

/// Q of the sidechain high-pass (Butterworth).
pub(crate) const SIDECHAIN_HPF_Q: f64 = core::f64::consts::FRAC_1_SQRT_2;

/// Largest level the detector accepts (+200 dBFS); infinities are clamped to it.
const MAX_LEVEL: f32 = 1e10;

/// A delay of up to `N - 1` frames (for lookahead), zero-initialised.
#[derive(Debug, Clone)]
pub(crate) struct Delay<const CH: usize, const N: usize> {
    buf: [[f32; CH]; N],
    pos: usize,
    len: usize,
}

impl<const CH: usize, const N: usize> Delay<CH, N> {
    pub(crate) const fn new() -> Self {
        Self {
            buf: [[0.0; CH]; N],
            pos: 0,
            len: 0,
        }
    }

    /// Sets the delay to `len` frames (`len < N`) and clears it.
    pub(crate) fn set_len(&mut self, len: usize) {
        self.len = len.min(N.saturating_sub(1));
        self.reset();
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn reset(&mut self) {
        self.buf[..self.len.max(1).min(N)].fill([0.0; CH]);
        self.pos = 0;
    }

    /// Pushes `x` and returns the frame `len` frames older.
    #[inline(always)]
    pub(crate) fn push(&mut self, x: [f32; CH]) -> [f32; CH] {
        if self.len == 0 {
            return x;
        }
        let out = self.buf[self.pos];
        self.buf[self.pos] = x;
        self.pos += 1;
        if self.pos >= self.len {
            self.pos = 0;
        }
        out
    }
}

/// The sidechain: optional high-pass, then per-channel level in `log2` amplitude units.
#[derive(Debug, Clone)]
pub(crate) struct Sidechain<const CH: usize> {
    hpf: Biquad<CH>,
    hpf_on: bool,
    kind: DetectorKind,
    rms_coeff: f32,
    ms: [f32; CH],
    count: u32,
}

impl<const CH: usize> Sidechain<CH> {
    pub(crate) const fn new() -> Self {
        Self {
            hpf: Biquad::new(Coeffs::IDENTITY),
            hpf_on: false,
            kind: DetectorKind::Peak,
            rms_coeff: 0.0,
            ms: [0.0; CH],
            count: 0,
        }
    }

    /// Configures the sidechain (state is kept unless the high-pass is switched on).
    ///
    /// # Errors
    /// From [`high_pass`] (frequency at or above Nyquist).
    pub(crate) fn configure(
        &mut self,
        hpf_hz: Option<f64>,
        kind: DetectorKind,
        rms_window_ms: f64,
        sample_rate: f64,
    ) -> Result<()> {
        match hpf_hz {
            Some(f) => {
                let c = high_pass(f, SIDECHAIN_HPF_Q, sample_rate)?;
                if !self.hpf_on {
                    self.hpf.reset();
                }
                self.hpf.coeffs = c;
                self.hpf_on = true;
            }
            None => self.hpf_on = false,
        }
        if kind != self.kind {
            self.ms = [0.0; CH];
        }
        self.kind = kind;
        self.rms_coeff = one_pole_coeff(rms_window_ms, sample_rate) as f32;
        Ok(())
    }

    pub(crate) fn reset(&mut self) {
        self.hpf.reset();
        self.ms = [0.0; CH];
        self.count = 0;
    }

    /// Levels of one frame per channel in `log2` units (silence and non-finite samples read as
    /// -600 dB; infinities as +200 dB).
    #[inline(always)]
    pub(crate) fn levels(&mut self, frame: &[f32; CH]) -> [f32; CH] {
        let mut a = [0.0f32; CH];
        if self.hpf_on {
            for (ch, v) in a.iter_mut().enumerate() {
                *v = self.hpf.tick(ch, f64::from(frame[ch])) as f32;
            }
            // Flush on a fixed sample schedule (not per block) so that the output does not
            // depend on how the audio is split into blocks.
            self.count = self.count.wrapping_add(1);
            if self.count & 63 == 0 {
                self.hpf.flush();
            }
        } else {
            a = *frame;
        }
        for v in a.iter_mut() {
            let m = v.abs();
            // NaN fails the comparison and reads as silence.
            *v = if m >= 0.0 { m.min(MAX_LEVEL) } else { 0.0 };
        }
        match self.kind {
            DetectorKind::Peak => a.map(fastmath::log2),
            DetectorKind::Rms => {
                let c = self.rms_coeff;
                let mut out = [0.0f32; CH];
                for ((o, ms), v) in out.iter_mut().zip(self.ms.iter_mut()).zip(a) {
                    *ms = flush_denormal_f32(v * v + c * (*ms - v * v));
                    *o = 0.5 * fastmath::log2(*ms);
                }
                out
            }
        }
    }
}

/// Blends per-channel levels towards the loudest channel by `link` (0 = independent, 1 = fully
/// linked), in the log domain.
#[inline(always)]
pub(crate) fn link_levels<const CH: usize>(levels: [f32; CH], link: f32) -> [f32; CH] {
    let max = levels.iter().fold(f32::MIN, |m, &v| m.max(v));
    levels.map(|v| v + link * (max - v))
}

/// Largest of the per-channel levels.
#[inline(always)]
pub(crate) fn max_level<const CH: usize>(levels: &[f32; CH]) -> f32 {
    levels.iter().fold(f32::MIN, |m, &v| m.max(v))
}
