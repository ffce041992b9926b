//! Pieces shared by the compressor and the expander: the lookahead delay and the sidechain
//! (optional high-pass, peak/RMS level in `log2` units, stereo link).

use crate::detector::DetectorKind;
use crate::fastmath;
use lathe_core::biquad::{high_pass, Biquad, Coeffs};
use lathe_core::{flush_denormal_f32, one_pole_coeff, Error, Result};

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

    /// Checks the sample-rate dependent limits (the high-pass below Nyquist, the lookahead within
    /// `capacity` frames), then [`configure`](Self::configure)s; returns the lookahead in
    /// frames. Nothing changes on error.
    ///
    /// # Errors
    /// [`Error::AboveNyquist`] for the high-pass, [`Error::CapacityExceeded`] for the lookahead.
    pub(crate) fn configure_for_rate(
        &mut self,
        hpf_hz: Option<f64>,
        kind: DetectorKind,
        rms_window_ms: f64,
        lookahead_ms: f64,
        sample_rate: f64,
        capacity: usize,
    ) -> Result<usize> {
        let lookahead = check_rate_dependent(hpf_hz, lookahead_ms, sample_rate, capacity)?;
        self.configure(hpf_hz, kind, rms_window_ms, sample_rate)?;
        Ok(lookahead)
    }

    pub(crate) fn reset(&mut self) {
        self.hpf.reset();
        self.ms = [0.0; CH];
        self.count = 0;
    }

    /// Detector values of a block, per channel: the sanitised magnitude of the (optionally
    /// high-passed) sidechain, or for RMS its running mean square. NaN reads as silence,
    /// infinities as +200 dBFS.
    #[inline(always)]
    pub(crate) fn detect(&mut self, frames: &[[f32; CH]], out: &mut [[f32; CH]]) {
        if self.hpf_on {
            for (f, o) in frames.iter().zip(out.iter_mut()) {
                for (ch, v) in o.iter_mut().enumerate() {
                    *v = self.hpf.tick(ch, f64::from(f[ch])) as f32;
                }
                // Flush on a fixed sample schedule (not per block) so that the output does not
                // depend on how the audio is split into blocks.
                self.count = self.count.wrapping_add(1);
                if self.count & 63 == 0 {
                    self.hpf.flush();
                }
            }
        } else {
            out.copy_from_slice(frames);
        }
        for o in out.iter_mut() {
            for v in o.iter_mut() {
                let m = v.abs();
                // NaN fails the comparison and reads as silence.
                *v = if m >= 0.0 { m.min(MAX_LEVEL) } else { 0.0 };
            }
        }
        if self.kind == DetectorKind::Rms {
            let c = self.rms_coeff;
            for o in out.iter_mut() {
                for (v, ms) in o.iter_mut().zip(self.ms.iter_mut()) {
                    let sq = *v * *v;
                    *ms = flush_denormal_f32(sq + c * (*ms - sq));
                    *v = *ms;
                }
            }
        }
    }

    /// Multiplier turning `log2` of a detector value into a level in `log2` amplitude units
    /// (1 for peak, 1/2 for mean squares).
    #[inline(always)]
    pub(crate) fn log_scale(&self) -> f32 {
        match self.kind {
            DetectorKind::Peak => 1.0,
            DetectorKind::Rms => 0.5,
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

/// Levels (`log2` amplitude units) of a block of detector values: linked (`link >= 1`: the
/// loudest channel's level for all, in `out[..][0]`) or blended per channel by `link`.
#[inline(always)]
pub(crate) fn block_levels<const CH: usize>(
    det: &[[f32; CH]],
    scale: f32,
    link: f32,
    out: &mut [[f32; CH]],
) {
    if link >= 1.0 {
        for (o, d) in out.iter_mut().zip(det) {
            o[0] = scale * fastmath::log2(max_level(d));
        }
    } else {
        for (o, d) in out.iter_mut().zip(det) {
            *o = link_levels(d.map(|v| scale * fastmath::log2(v)), link);
        }
    }
}

/// Checks the sample-rate dependent limits: the sidechain high-pass below Nyquist and the
/// lookahead within the capacity.
fn check_rate_dependent(
    hpf: Option<f64>,
    lookahead_ms: f64,
    sample_rate: f64,
    capacity: usize,
) -> Result<usize> {
    if let Some(f) = hpf {
        Error::check_below_nyquist(f, sample_rate)?;
    }
    let n = lathe_core::ms_to_samples(lookahead_ms, sample_rate);
    if n + 1 > capacity {
        return Err(Error::CapacityExceeded {
            needed: n + 1,
            capacity,
        });
    }
    Ok(n)
}
