//! Dither and noise shaping for integer delivery (16 or 24 bit).
//!
//! Quantising a master to integers without dither turns low-level detail into correlated
//! distortion. [`Dither`] adds TPDF (triangular) dither of ±1 LSB peak — the smallest dither
//! that makes the error's first and second moments independent of the signal (Wannamaker,
//! Lipshitz, Vanderkooy 2000) — and can shape the resulting noise with error feedback so less
//! of it falls where hearing is most sensitive.
//!
//! Noise shaping ([`NoiseShaping::Lipshitz`]) uses the 5-tap "minimally audible" E-weighted
//! error-feedback filter of Lipshitz, Vanderkooy and Wannamaker, *Minimally Audible Noise
//! Shaping*, JAES 39(11), 1991: noise transfer function
//! `NTF(z) = 1 - (2.033 z^-1 - 2.165 z^-2 + 1.959 z^-3 - 1.590 z^-4 + 0.6149 z^-5)`,
//! designed for 44.1 kHz and appropriate up to 48 kHz; it lowers the noise by about 15 dB in
//! the 2-5 kHz region and raises it near Nyquist. At 88.2 kHz and above the shaping is not
//! needed (the noise is already far below audibility) and [`Dither::new`] falls back to flat
//! TPDF. Float output is never dithered.
//!
//! The error fed back is the quantiser's rounding error alone (within ±1.5 LSB); samples are
//! clipped to the integer range after the loop, so a clipped sample leaves the shaped noise
//! that follows it undisturbed.

use lathe_core::{Error, Result};

/// Noise-shaping choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum NoiseShaping {
    /// Flat TPDF dither.
    None,
    /// Lipshitz et al. 1991 5-tap E-weighted error feedback (44.1 / 48 kHz).
    #[default]
    Lipshitz,
}

const LIPSHITZ: [f64; 5] = [2.033, -2.165, 1.959, -1.590, 0.6149];
const MAX_CHANNELS: usize = 8;

/// TPDF dither with optional noise shaping, for up to 8 channels.
#[derive(Debug, Clone)]
pub struct Dither {
    bits: u32,
    scale: f64,
    max_int: f64,
    min_int: f64,
    shaping: NoiseShaping,
    state: u64,
    err: [[f64; 5]; MAX_CHANNELS],
}

impl Dither {
    /// Dither to `bits` bits (8 ..= 24) at `sample_rate` Hz, with a fixed `seed` (output is
    /// deterministic for a given seed).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for `bits` outside 8 ..= 24.
    pub fn new(bits: u32, shaping: NoiseShaping, sample_rate: f64, seed: u64) -> Result<Self> {
        Error::check_range("bits", f64::from(bits), 8.0, 24.0)?;
        let shaping = if sample_rate > 64_000.0 {
            NoiseShaping::None
        } else {
            shaping
        };
        let full = f64::from(1u32 << (bits - 1));
        Ok(Self {
            bits,
            scale: full,
            max_int: full - 1.0,
            min_int: -full,
            shaping,
            state: seed ^ 0x5DEE_CE66_D1CE_4E5B,
            err: [[0.0; 5]; MAX_CHANNELS],
        })
    }

    /// Bit depth.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Shaping in use (flat above 64 kHz).
    pub fn shaping(&self) -> NoiseShaping {
        self.shaping
    }

    /// Quantises one sample (full scale ±1.0) of channel `ch` to a signed integer of the
    /// configured bit depth, with TPDF dither and shaping; clips at the integer range.
    /// Non-finite samples give 0.
    #[inline]
    pub fn quantize(&mut self, x: f32, ch: usize) -> i32 {
        let ch = ch.min(MAX_CHANNELS - 1);
        let (mut state, mut e) = (self.state, self.err[ch]);
        let q = self.step(&mut state, x, &mut e);
        (self.state, self.err[ch]) = (state, e);
        q
    }

    /// Quantises interleaved `samples` (`channels` per frame, full scale ±1.0) into `out`, as
    /// [`quantize`](Self::quantize) does sample by sample, except that frames of digital
    /// silence (every channel exactly 0) come out as 0 and leave the dither and the shaping
    /// memory untouched, so silence stays silent.
    pub fn quantize_interleaved(&mut self, samples: &[f32], channels: usize, out: &mut [i32]) {
        let channels = channels.max(1);
        let frames = samples
            .chunks_exact(channels)
            .zip(out.chunks_exact_mut(channels));
        if channels == 2 && self.shaping == NoiseShaping::Lipshitz {
            self.stereo_shaped(frames);
        } else if channels == 2 {
            let mut state = self.state;
            let mut none = [0.0; 5];
            for (f, o) in frames {
                if f[0] == 0.0 && f[1] == 0.0 {
                    o.fill(0);
                } else {
                    o[0] = self.step(&mut state, f[0], &mut none);
                    o[1] = self.step(&mut state, f[1], &mut none);
                }
            }
            self.state = state;
        } else {
            for (f, o) in frames {
                if f.iter().all(|&s| s == 0.0) {
                    o.fill(0);
                } else {
                    for (ch, (o, &x)) in o.iter_mut().zip(f).enumerate() {
                        *o = self.quantize(x, ch);
                    }
                }
            }
        }
    }

    /// [`quantize_interleaved`](Self::quantize_interleaved) for two channels with shaping:
    /// both channels side by side (element-wise on pairs, which the compiler keeps in vector
    /// registers), the same arithmetic as [`step`](Self::step) sample by sample.
    fn stereo_shaped<'a>(&mut self, frames: impl Iterator<Item = (&'a [f32], &'a mut [i32])>) {
        let pair = |f: &dyn Fn(usize) -> f64| [f(0), f(1)];
        let mut state = self.state;
        // e[k][ch]: error k samples back.
        let mut e: [[f64; 2]; 5] = core::array::from_fn(|k| [self.err[0][k], self.err[1][k]]);
        let (lo, hi) = (MAGIC + self.min_int, MAGIC + self.max_int);
        for (f, o) in frames {
            if f[0] == 0.0 && f[1] == 0.0 {
                o.fill(0);
                continue;
            }
            let x = pair(&|c| {
                if f[c].is_finite() {
                    f64::from(f[c])
                } else {
                    0.0
                }
            });
            let target = pair(&|c| scaled(x[c], self.scale));
            let t0 = tpdf(&mut state);
            let t1 = tpdf(&mut state);
            let dithered = [target[0] + t0, target[1] + t1];
            let older = pair(&|c| {
                LIPSHITZ[1] * e[1][c]
                    + LIPSHITZ[2] * e[2][c]
                    + LIPSHITZ[3] * e[3][c]
                    + LIPSHITZ[4] * e[4][c]
            });
            let feedback = pair(&|c| LIPSHITZ[0] * e[0][c] + older[c]);
            let (r0, err0) = shaped_round(target[0], dithered[0], feedback[0]);
            let (r1, err1) = shaped_round(target[1], dithered[1], feedback[1]);
            e = [[err0, err1], e[0], e[1], e[2], e[3]];
            o[0] = from_magic(r0.clamp(lo, hi));
            o[1] = from_magic(r1.clamp(lo, hi));
        }
        self.state = state;
        for (k, ek) in e.iter().enumerate() {
            self.err[0][k] = ek[0];
            self.err[1][k] = ek[1];
        }
    }

    /// One sample with the generator state `state` and the shaping memory `e` (newest error
    /// first); the caller keeps both in locals over a block.
    #[inline(always)]
    fn step(&self, state: &mut u64, x: f32, e: &mut [f64; 5]) -> i32 {
        let x = if x.is_finite() { f64::from(x) } else { 0.0 };
        let target = scaled(x, self.scale);
        let dithered = target + tpdf(state);
        let (lo, hi) = (MAGIC + self.min_int, MAGIC + self.max_int);
        if self.shaping == NoiseShaping::None {
            return from_magic(round_to_magic(dithered).clamp(lo, hi));
        }
        // The older errors first, so the newest one's path to the next error is short.
        let older =
            LIPSHITZ[1] * e[1] + LIPSHITZ[2] * e[2] + LIPSHITZ[3] * e[3] + LIPSHITZ[4] * e[4];
        let feedback = LIPSHITZ[0] * e[0] + older;
        let (r, err) = shaped_round(target, dithered, feedback);
        *e = [err, e[0], e[1], e[2], e[3]];
        from_magic(r.clamp(lo, hi))
    }

    /// Clears the noise-shaping memory (the random sequence goes on).
    pub fn reset(&mut self) {
        self.err = [[0.0; 5]; MAX_CHANNELS];
    }
}

/// One TPDF value in (-1, 1) LSB from the generator state `state`: the difference of two
/// independent uniform values, the two 32-bit halves of one SplitMix64 output (Steele, Lea,
/// Flood 2014). The generator is counter based (the state only advances by a constant), so
/// successive values do not wait on each other.
#[inline(always)]
fn tpdf(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let (a, b) = ((z >> 32) as u32, z as u32);
    (f64::from(a) - f64::from(b)) * (1.0 / 4_294_967_296.0)
}

/// The shaped quantiser's rounding, before clipping: `MAGIC` plus the integer nearest to
/// `dithered - feedback` (see [`round_to_magic`]), and the error the loop keeps, that integer
/// minus `target - feedback`. The loop keeps the rounding error only (within ±1.5 LSB: half a
/// step and the dither); the caller clips afterwards, so a clipped sample cannot make the loop
/// ring, and the path from one error to the next has no clamp on it.
#[inline(always)]
fn shaped_round(target: f64, dithered: f64, feedback: f64) -> (f64, f64) {
    let r = round_to_magic(dithered - feedback);
    (r, (r - MAGIC) - (target - feedback))
}

/// Largest magnitude of a scaled sample, in LSB (`2^32`): beyond every integer sample range,
/// so clipping is unchanged, and far inside the range where [`round_to_magic`] rounds
/// exactly, so the shaping loop's error stays a rounding error however loud the input.
const TARGET_LIMIT: f64 = 4_294_967_296.0;

/// The sample `x` (full scale ±1.0) in LSB of the output, at most [`TARGET_LIMIT`] in magnitude.
#[inline(always)]
fn scaled(x: f64, scale: f64) -> f64 {
    (x * scale).clamp(-TARGET_LIMIT, TARGET_LIMIT)
}

/// `1.5 · 2^52`: adding it to an `f64` of magnitude under `2^51` leaves no fraction bits, so
/// the sum is `MAGIC + round(v)` (ties to even) exactly, and the integer sits in the low bits.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// `MAGIC + round(v)` (see [`MAGIC`]); beyond `|v| < 2^51` the result is still beyond every
/// integer sample range, which the caller clamps.
#[inline(always)]
fn round_to_magic(v: f64) -> f64 {
    v + MAGIC
}

/// The integer `k` of `MAGIC + k` (for `|k| < 2^31`): the low 32 bits of the representation.
#[inline(always)]
fn from_magic(r: f64) -> i32 {
    r.to_bits() as u32 as i32
}

/// The nearest integer to `v` (ties to even), without a library call. Exact for |v| < 2^51.
#[cfg(test)]
fn round_nearest(v: f64) -> f64 {
    round_to_magic(v) - MAGIC
}

#[cfg(test)]
mod tests {
    use super::*;
    use realfft::RealFftPlanner;

    #[test]
    fn the_block_form_matches_sample_by_sample() {
        // Music-like levels with runs of digital silence and a few extremes, through both
        // forms from the same seed: identical integers, and the same state after.
        let n = 20_000;
        let x: Vec<f32> = (0..2 * n)
            .map(|i| {
                let t = (i / 2) as f64;
                match (i / 2) % 5_000 {
                    0..=99 => 0.0,
                    100 => 1.5,
                    101 => f32::NAN,
                    _ => (0.7 * (t * 0.013 + (i % 2) as f64).sin()) as f32,
                }
            })
            .collect();
        for (bits, shaping, fs) in [
            (16, NoiseShaping::Lipshitz, 44_100.0),
            (24, NoiseShaping::Lipshitz, 48_000.0),
            (16, NoiseShaping::None, 48_000.0),
            (16, NoiseShaping::Lipshitz, 96_000.0),
        ] {
            let mut a = Dither::new(bits, shaping, fs, 9).unwrap();
            let mut b = a.clone();
            let mut block = vec![0i32; 2 * n];
            for (xs, os) in x.chunks(2 * 777).zip(block.chunks_mut(2 * 777)) {
                a.quantize_interleaved(xs, 2, os);
            }
            let mut single = vec![0i32; 2 * n];
            for (f, o) in x.chunks_exact(2).zip(single.chunks_exact_mut(2)) {
                if f[0] == 0.0 && f[1] == 0.0 {
                    o.fill(0);
                } else {
                    o[0] = b.quantize(f[0], 0);
                    o[1] = b.quantize(f[1], 1);
                }
            }
            assert!(block == single, "{bits} bits, {shaping:?}, {fs} Hz");
            assert_eq!((a.state, a.err), (b.state, b.err));
        }
    }

    #[test]
    fn round_nearest_matches_round_away_from_ties() {
        let mut x = -9_000_000.3f64;
        while x < 9_000_000.0 {
            for v in [x, -x, x + 0.49, x - 0.51, 0.499_999_999, -0.500_000_001] {
                assert_eq!(round_nearest(v), v.round(), "{v}");
            }
            x += 12_345.678;
        }
        // Ties go to even (f64::round goes away from zero); dither makes exact ties vanishingly
        // rare, and either neighbour is a correct quantisation.
        assert_eq!(round_nearest(2.5), 2.0);
        assert_eq!(round_nearest(-3.5), -4.0);
        // Far out of range stays far out of range (the caller clamps).
        assert!(round_nearest(1e300) > 1e299 && round_nearest(-1e18) < -9e17);
    }

    fn noise_spectrum(shaping: NoiseShaping) -> Vec<f64> {
        let n = 1 << 16;
        let fs = 44_100.0;
        let mut d = Dither::new(16, shaping, fs, 7).unwrap();
        // A quiet sine so the quantiser is exercised as with music.
        let x: Vec<f32> = (0..n)
            .map(|i| (1e-3 * (2.0 * std::f64::consts::PI * 441.0 * i as f64 / fs).sin()) as f32)
            .collect();
        let mut err: Vec<f64> = x
            .iter()
            .map(|&s| f64::from(d.quantize(s, 0)) / 32_768.0 - f64::from(s))
            .collect();
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(n);
        let mut spec = fft.make_output_vec();
        fft.process(&mut err, &mut spec).unwrap();
        spec.iter().map(|c| c.norm_sqr()).collect()
    }

    fn band_db(spec: &[f64], lo_hz: f64, hi_hz: f64) -> f64 {
        let bin = 44_100.0 / ((spec.len() - 1) * 2) as f64;
        let (a, b) = ((lo_hz / bin) as usize, (hi_hz / bin) as usize);
        10.0 * (spec[a..b].iter().sum::<f64>() / (b - a) as f64).log10()
    }

    #[test]
    fn flat_tpdf_is_white_at_the_expected_level() {
        let spec = noise_spectrum(NoiseShaping::None);
        let low = band_db(&spec, 500.0, 4_000.0);
        let high = band_db(&spec, 12_000.0, 20_000.0);
        assert!(
            (low - high).abs() < 1.0,
            "flat dither not white: {low} vs {high} dB"
        );
        // TPDF total error power = 3 x (LSB^2 / 12) = LSB^2 / 4.
        let n = ((spec.len() - 1) * 2) as f64;
        let power: f64 = spec.iter().sum::<f64>() * 2.0 / (n * n);
        let lsb = 1.0 / 32_768.0;
        let want = lsb * lsb / 4.0;
        assert!(
            (10.0 * (power / want).log10()).abs() < 0.5,
            "{power} vs {want}"
        );
    }

    #[test]
    fn lipshitz_shaping_moves_noise_out_of_the_sensitive_band() {
        let flat = noise_spectrum(NoiseShaping::None);
        let shaped = noise_spectrum(NoiseShaping::Lipshitz);
        let mid_gain = band_db(&shaped, 2_000.0, 5_000.0) - band_db(&flat, 2_000.0, 5_000.0);
        let top_gain = band_db(&shaped, 18_000.0, 21_000.0) - band_db(&flat, 18_000.0, 21_000.0);
        assert!(mid_gain < -8.0, "2-5 kHz noise change {mid_gain} dB");
        assert!(top_gain > 10.0, "18-21 kHz noise change {top_gain} dB");
    }

    #[test]
    fn clipping_stays_out_of_the_shaping_loop() {
        // A burst far over full scale (and at the largest float) between quiet passages: the
        // output clips, and the shaping memory only ever holds rounding errors (within
        // ±1.5 LSB; a clipping error fed back would be up to the whole overshoot).
        let mut d = Dither::new(16, NoiseShaping::Lipshitz, 48_000.0, 7).unwrap();
        let mut worst = 0.0f64;
        for i in 0..3_000 {
            let x = match i {
                1_000..=1_099 if i % 2 == 0 => 4.0,
                1_000..=1_099 => f32::MAX,
                _ => (0.001 * (i as f64 * 0.05).sin()) as f32,
            };
            let q = d.quantize(x, 0);
            if (1_000..1_100).contains(&i) {
                assert_eq!(q, 32_767, "sample {i}");
            } else {
                // 33 LSB of signal and at most 14 of shaped noise (the feedback filter's
                // coefficients sum to 8.4 in magnitude, times 1.5 LSB, plus the dither).
                assert!(q.abs() <= 47, "sample {i}: {q}");
            }
            worst = worst.max(d.err[0].iter().fold(0.0, |m, e| m.max(e.abs())));
        }
        assert!(worst <= 1.5, "error memory reached {worst} LSB");
    }

    #[test]
    fn quantises_and_clips() {
        let mut d = Dither::new(16, NoiseShaping::None, 48_000.0, 1).unwrap();
        assert!(d.quantize(2.0, 0) == 32_767);
        assert!(d.quantize(-2.0, 1) == -32_768);
        assert!(d.quantize(f32::NAN, 0).abs() <= 1);
        let q = d.quantize(0.5, 0);
        assert!((q - 16_384).abs() <= 1, "{q}");
        assert!(Dither::new(4, NoiseShaping::None, 48_000.0, 1).is_err());
        assert_eq!(
            Dither::new(24, NoiseShaping::Lipshitz, 96_000.0, 1)
                .unwrap()
                .shaping(),
            NoiseShaping::None
        );
    }
}
