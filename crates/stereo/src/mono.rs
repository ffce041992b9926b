//! Mono compatibility: loudness lost in the mono fold-down, and out-of-phase detection.

use crate::meter::StereoSums;
use lathe_core::{Biquad, Error, Result, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

/// Correlation below which content counts as out of phase (the same threshold the Lathe
/// analysis report uses to flag a polarity-inverted channel).
pub const OUT_OF_PHASE_CORRELATION: f64 = -0.3;

/// Total duration of out-of-phase blocks, in seconds, from which [`MonoReport::out_of_phase`]
/// is raised even when the whole-signal correlation is fine.
pub const OUT_OF_PHASE_MIN_S: f64 = 1.0;

/// Length of the analysis blocks used to find out-of-phase passages, in ms (the BS.1770
/// gating-block length).
pub const BLOCK_MS: f64 = 400.0;

/// Loudness below which a block is not audible and is ignored for out-of-phase detection,
/// in LUFS-like units (`-0.691 + 10 log10(ms_L + ms_R)` of the weighted signal; the BS.1770-4
/// absolute gate).
pub const GATE_LUFS: f64 = -70.0;

/// Which frequency weighting the energies are measured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Weighting {
    /// Plain (unweighted) energy: the loss is the drop of the signal power, in dB.
    Flat,
    /// ITU-R BS.1770-4 K-weighting (stage 1 high shelf + stage 2 RLB high-pass, re-derived for
    /// any rate as libebur128 does): the loss is the drop of the ungated BS.1770 loudness, in
    /// LU. The default.
    #[default]
    K,
}

/// The BS.1770-4 K-weighting stages for `sample_rate` Hz: `[shelf, high-pass]` (the design
/// shared with the loudness meter, [`lathe_core::k_weighting::k_weighting`]).
pub use lathe_core::k_weighting::k_weighting;

/// The result of a [`MonoCompatibility`] analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonoReport {
    /// Loudness lost when the stereo signal is folded to mono, in LU (K-weighted) or dB (flat);
    /// 0 for a mono signal, about 3 for unrelated channels, large when the channels cancel.
    /// Silence reads 0.
    pub loss_lu: f64,
    /// Whole-signal phase correlation of the (weighted) channels, −1 ..= 1.
    pub correlation: f64,
    /// Lowest correlation of an audible 400 ms block, −1 ..= 1 (1 when no block was audible).
    pub worst_block_correlation: f64,
    /// Total duration of audible 400 ms blocks with a correlation below
    /// [`OUT_OF_PHASE_CORRELATION`], in seconds.
    pub out_of_phase_s: f64,
    /// Total duration of audible blocks, in seconds.
    pub audible_s: f64,
    /// The problem flag: the whole-signal correlation is below [`OUT_OF_PHASE_CORRELATION`], or
    /// out-of-phase blocks add up to at least [`OUT_OF_PHASE_MIN_S`].
    pub out_of_phase: bool,
}

/// Mono-compatibility analyser: how much loudness a stereo signal loses when folded to mono,
/// and whether it has out-of-phase content.
///
/// The mono fold-down is `M = (L + R) / 2` played on both channels (the mid of
/// [`MidSide`](crate::MidSide)), so a centred source keeps its level and the loss is
///
/// `loss = 10 log10((E_L + E_R) / (2 E_M))`, in LU with [`Weighting::K`]
/// (BS.1770-4 K-weighted energies: the difference of the ungated BS.1770 loudness of the stereo
/// signal and of its mono fold) or in dB of plain energy with [`Weighting::Flat`].
///
/// For equal-level channels with correlation ρ, `loss = 10 log10(2 / (1 + ρ))`: 0 for mono,
/// 3.01 for unrelated channels, 6.02 at ρ = −0.5 and unbounded as ρ → −1 (a polarity-inverted
/// channel; the reading is bounded at about 120 LU by the −120 dBFS energy floor).
///
/// Out-of-phase content is also searched for in 400 ms blocks, so that an inverted passage is
/// found even when the rest of the song is fine (see [`MonoReport::out_of_phase`]).
///
/// Non-finite input samples are counted as 0 (they never poison the filters or the sums).
#[derive(Debug, Clone)]
pub struct MonoCompatibility {
    sample_rate: f64,
    weighting: Weighting,
    filters: [Biquad<2>; 2],
    block_len: usize,
    block: StereoSums,
    total: StereoSums,
    worst: f64,
    out_of_phase_frames: u64,
    audible_frames: u64,
}

impl MonoCompatibility {
    /// An analyser for `sample_rate` Hz with the given weighting.
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`] outside 8 ..= 384 kHz.
    pub fn new(sample_rate: f64, weighting: Weighting) -> Result<Self> {
        if !(sample_rate.is_finite() && (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate))
        {
            return Err(Error::UnsupportedSampleRate { sample_rate });
        }
        let [shelf, hp] = k_weighting(sample_rate);
        Ok(Self {
            sample_rate,
            weighting,
            filters: [Biquad::new(shelf), Biquad::new(hp)],
            block_len: lathe_core::ms_to_samples(BLOCK_MS, sample_rate).max(1),
            block: StereoSums::default(),
            total: StereoSums::default(),
            worst: 1.0,
            out_of_phase_frames: 0,
            audible_frames: 0,
        })
    }

    /// The weighting in use.
    pub fn weighting(&self) -> Weighting {
        self.weighting
    }

    /// Clears everything.
    pub fn reset(&mut self) {
        self.filters.iter_mut().for_each(Biquad::reset);
        self.block = StereoSums::default();
        self.total = StereoSums::default();
        self.worst = 1.0;
        self.out_of_phase_frames = 0;
        self.audible_frames = 0;
    }

    /// Adds stereo `frames` (`[L, R]`). Real-time safe.
    pub fn process(&mut self, frames: &[[f32; 2]]) {
        for f in frames {
            let l = if f[0].is_finite() {
                f64::from(f[0])
            } else {
                0.0
            };
            let r = if f[1].is_finite() {
                f64::from(f[1])
            } else {
                0.0
            };
            let [l, r] = match self.weighting {
                Weighting::Flat => [l, r],
                Weighting::K => {
                    let x = self.filters[0].tick_frame([l, r]);
                    self.filters[1].tick_frame(x)
                }
            };
            self.block.ll += l * l;
            self.block.rr += r * r;
            self.block.lr += l * r;
            self.block.frames += 1.0;
            if self.block.frames as usize >= self.block_len {
                self.finish_block();
            }
        }
        self.filters.iter_mut().for_each(Biquad::flush);
    }

    fn finish_block(&mut self) {
        let b = self.block;
        self.total.ll += b.ll;
        self.total.rr += b.rr;
        self.total.lr += b.lr;
        self.total.frames += b.frames;
        let ms = (b.ll + b.rr) / b.frames;
        let loudness = -0.691 + 10.0 * libm::log10(ms);
        if loudness > GATE_LUFS {
            let n = b.frames as u64;
            self.audible_frames += n;
            let c = b.correlation();
            self.worst = self.worst.min(c);
            if c < OUT_OF_PHASE_CORRELATION {
                self.out_of_phase_frames += n;
            }
        }
        self.block = StereoSums::default();
    }

    fn total_sums(&self) -> StereoSums {
        let mut s = self.total;
        s.ll += self.block.ll;
        s.rr += self.block.rr;
        s.lr += self.block.lr;
        s.frames += self.block.frames;
        s
    }

    /// Loudness lost in the mono fold-down so far, in LU (see the type docs); silence reads 0.
    pub fn loss_lu(&self) -> f64 {
        let s = self.total_sums();
        let f = s.frames * crate::meter::ENERGY_FLOOR;
        if f > 0.0 {
            10.0 * libm::log10((s.ll + s.rr + 2.0 * f) / (2.0 * (s.mid_energy() + f)))
        } else {
            0.0
        }
    }

    /// The analysis so far. Blocks are 400 ms; a final partial block counts in the
    /// whole-signal figures but not in the block statistics.
    pub fn report(&self) -> MonoReport {
        let correlation = self.total_sums().correlation();
        let out_of_phase_s = self.out_of_phase_frames as f64 / self.sample_rate;
        MonoReport {
            loss_lu: self.loss_lu(),
            correlation,
            worst_block_correlation: self.worst,
            out_of_phase_s,
            audible_s: self.audible_frames as f64 / self.sample_rate,
            out_of_phase: correlation < OUT_OF_PHASE_CORRELATION
                || out_of_phase_s >= OUT_OF_PHASE_MIN_S,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_weighting_matches_bs1770_table_at_48k() {
        let [s, h] = k_weighting(48_000.0);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-10;
        assert!(close(s.b0, 1.535_124_859_586_97), "{}", s.b0);
        assert!(close(s.b1, -2.691_696_189_406_38), "{}", s.b1);
        assert!(close(s.b2, 1.198_392_810_852_85), "{}", s.b2);
        assert!(close(s.a1, -1.690_659_293_182_41), "{}", s.a1);
        assert!(close(s.a2, 0.732_480_774_215_85), "{}", s.a2);
        // The published stage-2 values are rounded to about 1e-11.
        assert!((h.a1 - -1.990_047_454_833_98).abs() < 1e-9, "{}", h.a1);
        assert!((h.a2 - 0.990_072_250_366_21).abs() < 1e-9, "{}", h.a2);
    }
}
