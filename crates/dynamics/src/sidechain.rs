//! Pieces shared by the compressor and the expander: the lookahead delay and the sidechain
//! (optional high-pass, peak/RMS level in `log2` units, stereo link).

use crate::detector::DetectorKind;
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

    /// Delays `frames` in place by `len` frames: each frame is swapped with the one `len`
    /// frames older, in contiguous runs of the ring buffer (plain copies, no per-frame
    /// wrap-around test).
    #[inline(always)]
    pub(crate) fn process(&mut self, frames: &mut [[f32; CH]]) {
        if self.len == 0 {
            return;
        }
        let mut rest = frames;
        while !rest.is_empty() {
            let run = rest.len().min(self.len - self.pos);
            let (head, tail) = rest.split_at_mut(run);
            head.swap_with_slice(&mut self.buf[self.pos..self.pos + run]);
            self.pos += run;
            if self.pos == self.len {
                self.pos = 0;
            }
            rest = tail;
        }
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
}

impl<const CH: usize> Sidechain<CH> {
    pub(crate) const fn new() -> Self {
        Self {
            hpf: Biquad::new(Coeffs::IDENTITY),
            hpf_on: false,
            kind: DetectorKind::Peak,
            rms_coeff: 0.0,
            ms: [0.0; CH],
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
    }

    /// True for the plain peak sidechain (no high-pass, peak detector): its values are the
    /// sanitised input magnitudes, with no state.
    #[inline(always)]
    pub(crate) fn is_plain_peak(&self) -> bool {
        !self.hpf_on && self.kind == DetectorKind::Peak
    }

    /// Detector values of a block, per channel: the sanitised magnitude of the (optionally
    /// high-passed) sidechain, or for RMS its running mean square. NaN reads as silence,
    /// infinities as +200 dBFS. With `flush`, denormal (and, in the high-pass, non-finite)
    /// states are cleared after the block; callers flush on a fixed grid of frames (every 32),
    /// so the output does not depend on how the audio is split into blocks.
    #[inline(always)]
    pub(crate) fn detect(&mut self, frames: &[[f32; CH]], out: &mut [[f32; CH]], flush: bool) {
        if self.hpf_on {
            // The filter in a local, so its state stays in registers (through `self` it would
            // make a store and a load on the recursion every frame).
            let mut hpf = self.hpf;
            for (f, o) in frames.iter().zip(out.iter_mut()) {
                for (ch, v) in o.iter_mut().enumerate() {
                    *v = hpf.tick(ch, f64::from(f[ch])) as f32;
                }
            }
            if flush {
                hpf.flush();
            }
            self.hpf = hpf;
        } else {
            out.copy_from_slice(frames);
        }
        for o in out.iter_mut() {
            for v in o.iter_mut() {
                *v = sanitise(*v);
            }
        }
        if self.kind == DetectorKind::Rms {
            // One-pole mean square, `ms = c ms + (1 - c) x²`: a multiply and an add per sample
            // on the dependency chain; denormals are flushed with the rest of the state.
            let (c, c_in) = (self.rms_coeff, 1.0 - self.rms_coeff);
            let mut ms = self.ms;
            for o in out.iter_mut() {
                for (v, ms) in o.iter_mut().zip(ms.iter_mut()) {
                    *ms = c * *ms + c_in * (*v * *v);
                    *v = *ms;
                }
            }
            if flush {
                ms = ms.map(flush_denormal_f32);
            }
            self.ms = ms;
        }
    }

    /// Linked detector values of a block: `out[i]` is the largest of frame `i`'s channel
    /// values ([`detect`](Self::detect)); `scratch` holds the per-channel values on the way.
    #[inline(always)]
    pub(crate) fn detect_linked(
        &mut self,
        frames: &[[f32; CH]],
        scratch: &mut [[f32; CH]],
        out: &mut [f32],
        flush: bool,
    ) {
        if self.is_plain_peak() {
            for (o, f) in out.iter_mut().zip(frames) {
                *o = peak_level(f);
            }
        } else {
            self.detect(frames, scratch, flush);
            for (o, d) in out.iter_mut().zip(scratch.iter()) {
                *o = max_level(d);
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

/// A detector value from a sample: `|x|`, NaN read as silence, at most +200 dBFS (so
/// infinities read as +200 dBFS). Plain compare-selects, so loops over it vectorise.
#[inline(always)]
pub(crate) fn sanitise(x: f32) -> f32 {
    let m = x.abs();
    // NaN fails both comparisons and reads as silence.
    if m < MAX_LEVEL {
        m
    } else if m >= MAX_LEVEL {
        MAX_LEVEL
    } else {
        0.0
    }
}

/// The linked peak detector value of a frame: the largest `|x|` over the channels, NaN read as
/// silence, at most +200 dBFS; the same as the largest [`sanitise`]d sample, in fewer
/// operations (plain compare-selects, so loops over it vectorise).
#[inline(always)]
pub(crate) fn peak_level<const CH: usize>(f: &[f32; CH]) -> f32 {
    // NaN fails the comparison and is skipped; the running maximum is never NaN.
    let m = f.iter().fold(0.0f32, |m, &x| {
        let a = x.abs();
        if a > m {
            a
        } else {
            m
        }
    });
    if m < MAX_LEVEL {
        m
    } else {
        MAX_LEVEL
    }
}

/// Blends per-channel levels towards the loudest channel by `link` (0 = independent, 1 = fully
/// linked), in the log domain.
#[inline(always)]
pub(crate) fn link_levels<const CH: usize>(levels: [f32; CH], link: f32) -> [f32; CH] {
    let max = max_level(&levels);
    levels.map(|v| v + link * (max - v))
}

/// Largest of the per-channel levels (plain compare-selects: the values are never NaN).
#[inline(always)]
pub(crate) fn max_level<const CH: usize>(levels: &[f32; CH]) -> f32 {
    levels
        .iter()
        .fold(f32::MIN, |m, &v| if v > m { v } else { m })
}

/// Per-channel levels (`log2` amplitude units) from a block of detector values, in place,
/// blended towards the loudest channel by `link`.
#[inline(always)]
pub(crate) fn block_levels<const CH: usize>(lv: &mut [[f32; CH]], scale: f32, link: f32) {
    for l in lv.iter_mut() {
        *l = link_levels(l.map(|v| scale * log2(v)), link);
    }
}

/// `log2(x)` for the gain computer, for `x ≥ 0` (detector values): the exponent from the
/// bits, and a degree-5 polynomial (least-maximum-error fit, `t · P4(t)` with `t = m - 1`) of
/// `log2(m)` for the mantissa reduced to `[√½, √2)`. Absolute error below
/// `3.2e-5 + |log2 x| · 2^-24` for normal `x` (the polynomial's error plus the rounding of the
/// `f32` result): at most 2e-4 dB plus 1 ppm of the level in dB, far inside the 0.1 dB (and
/// the tests' 1e-3 dB) of the static curve. `log2(0)` is -127 and subnormals give about -127
/// (below any threshold); `+inf` gives 128. Only integer and `f32` arithmetic, no division, no
/// float-to-integer conversion and no clamping, so loops over it vectorise (SSE2) with short
/// dependency chains. NaN and negative arguments are the caller's to avoid (the sidechain
/// never produces them).
#[inline(always)]
pub(crate) fn log2(x: f32) -> f32 {
    let bits = x.to_bits();
    // Split x = 2^e · m with m in [√½, √2): subtracting the bits of √½ carries into the
    // exponent field exactly when the mantissa is at least √2's.
    const SQRT_HALF_BITS: u32 = 0x3f35_04f3;
    let e = (bits.wrapping_sub(SQRT_HALF_BITS) as i32) >> 23;
    let m = f32::from_bits(bits.wrapping_sub((e as u32) << 23));
    let t = m - 1.0;
    const C: [f32; 5] = [
        1.442_655_8,
        -0.720_462_6,
        0.484_649_6,
        -0.392_459_33,
        0.261_158_4,
    ];
    // Estrin's scheme: independent linear terms and t² (a shorter dependency chain than
    // Horner's, which is what limits the vectorised loops).
    let t2 = t * t;
    let lo = C[0] + C[1] * t;
    let mid = C[2] + C[3] * t;
    let p = lo + t2 * (mid + t2 * C[4]);
    e as f32 + t * p
}

/// `2^x` for the gains, for `x` in `-126 ..= 127` (the gain paths stay far inside: reductions
/// are at most about 54 `log2` units, makeups within ±25): rounds `x` to the nearest integer `k`
/// with the `1.5 · 2^23` trick, builds `2^k` from the bits of that sum (no float-to-integer
/// conversion, so loops over it vectorise) and multiplies a degree-4 polynomial
/// (least-maximum-error fit) of `2^f` for the remainder `f` in `[-½, ½]`. Relative error
/// below 8e-6 (7e-5 dB).
#[inline(always)]
pub(crate) fn exp2(x: f32) -> f32 {
    debug_assert!((-126.0..=127.0).contains(&x), "exp2 argument {x}");
    const MAGIC: f32 = 12_582_912.0;
    let big = x + MAGIC;
    let f = x - (big - MAGIC);
    // The low bits of `big` hold k + 2^22; shifted into the exponent field with the bias.
    let k = big.to_bits().wrapping_sub(MAGIC.to_bits());
    let scale = f32::from_bits(k.wrapping_add(127) << 23);
    const C: [f32; 4] = [0.693_136_75, 0.240_221_68, 0.055_838_34, 0.009_676_022];
    // Estrin's scheme (see `log2`).
    let f2 = f * f;
    let p = (C[0] + C[1] * f) + f2 * (C[2] + C[3] * f);
    (1.0 + f * p) * scale
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Error bound of [`log2`]: the polynomial's, plus the rounding of the `f32` result.
    fn log2_bound(x: f32) -> f64 {
        3.2e-5 + libm::log2(f64::from(x)).abs() * libm::exp2(-24.0)
    }

    /// Relative error bound of [`exp2`].
    const EXP2_MAX_REL_ERROR: f64 = 8e-6;

    /// The whole positive normal `f32` range, every 97th bit pattern (so every binade and
    /// mantissa region), against `libm::log2` in `f64`.
    #[test]
    fn log2_error_against_libm_over_the_whole_range() {
        let (mut worst, mut worst_audio) = (0.0f64, 0.0f64);
        let mut bits = f32::MIN_POSITIVE.to_bits();
        while bits < f32::MAX.to_bits() {
            let x = f32::from_bits(bits);
            let err = (f64::from(log2(x)) - libm::log2(f64::from(x))).abs();
            assert!(err < log2_bound(x), "{x}: {err}");
            worst = worst.max(err);
            if (1e-10..=1e10).contains(&x) {
                worst_audio = worst_audio.max(err);
            }
            bits += 97;
        }
        // In decibels, far below the 1e-3 dB the static-curve tests allow: at most 2.5e-4 dB
        // over the whole range, 2e-4 dB over the detector's levels (-200 ..= +200 dBFS).
        let db = crate::fastmath::DB_PER_LOG2;
        assert!(worst * db < 2.5e-4, "worst abs error {worst}");
        assert!(worst_audio * db < 2e-4, "worst abs error {worst_audio}");
        assert_eq!(log2(1.0), 0.0);
        // Zero and subnormals read as about -127 (-765 dB), below any threshold.
        assert_eq!(log2(0.0), -127.0);
        for x in [1e-45f32, 1e-42, 1e-39] {
            assert!((-127.0..=-125.9).contains(&log2(x)), "{x}: {}", log2(x));
        }
        assert!((log2(f32::INFINITY) - 128.0).abs() < 1e-5);
        assert!((log2(f32::MAX) - 128.0).abs() < 1e-5);
    }

    #[test]
    fn exp2_error_against_libm_over_the_whole_range() {
        let mut worst = 0.0f64;
        let mut x = -126.0f32;
        while x <= 127.0 {
            let want = libm::exp2(f64::from(x));
            let got = exp2(x);
            assert!(got.is_normal(), "{x}");
            worst = worst.max(((f64::from(got) - want) / want).abs());
            x += 0.000_173;
        }
        assert!(worst < EXP2_MAX_REL_ERROR, "worst rel error {worst}");
        // 20 log10(1 + e) ≈ 8.69 e dB: below 1e-4 dB.
        assert!(worst * 20.0 / core::f64::consts::LN_10 < 1e-4);
        for k in -126..=127 {
            let want = libm::exp2(f64::from(k));
            let err = ((f64::from(exp2(k as f32)) - want) / want).abs();
            assert!(err < EXP2_MAX_REL_ERROR, "{k}: {err}");
        }
        assert_eq!(exp2(0.0), 1.0);
    }

    #[test]
    fn sanitise_reads_nan_as_silence_and_clamps() {
        assert_eq!(sanitise(-0.5), 0.5);
        assert_eq!(sanitise(f32::NAN), 0.0);
        assert_eq!(sanitise(f32::INFINITY), MAX_LEVEL);
        assert_eq!(sanitise(f32::NEG_INFINITY), MAX_LEVEL);
    }

    /// The block delay equals a frame-by-frame ring buffer for any split.
    #[test]
    fn delay_matches_a_reference_for_any_split() {
        let x: Vec<[f32; 2]> = (0..1_000).map(|i| [i as f32, -(i as f32)]).collect();
        for len in [0usize, 1, 7, 64, 100] {
            let want: Vec<[f32; 2]> = (0..x.len())
                .map(|i| if i >= len { x[i - len] } else { [0.0; 2] })
                .collect();
            for split in [1usize, 3, 64, 99, 1_000] {
                let mut d = Delay::<2, 128>::new();
                d.set_len(len);
                let mut y = x.clone();
                for c in y.chunks_mut(split) {
                    d.process(c);
                }
                assert_eq!(y, want, "len {len}, split {split}");
            }
        }
    }
}
