//! The BS.1770-4 / EBU R128 meter.

use crate::kweighting::KWeighting;
use lathe_core::{gain_to_db, Error, Result, TruePeakDetector};

/// Channel layouts with their BS.1770-4 weights (Table 3): L, R, C 1.0; Ls, Rs 1.41 (+1.5 dB);
/// LFE excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelLayout {
    /// One channel, weight 1.0.
    Mono,
    /// One channel meant for both ears: weight 2.0 (+3 dB), so a mono file reads as the same
    /// programme played on two speakers (EBU Tech 3344 "dual mono").
    DualMono,
    /// L, R.
    Stereo,
    /// L, R, C (3.0).
    Surround3_0,
    /// L, R, C, LFE (3.1).
    Surround3_1,
    /// L, R, Ls, Rs (quad).
    Quad,
    /// L, R, C, Ls, Rs (WAV order of 5.0).
    Surround5_0,
    /// L, R, C, LFE, Ls, Rs (WAV order of 5.1).
    Surround5_1,
    /// L, R, C, LFE, Ls, Rs, Cs (6.1).
    Surround6_1,
    /// L, R, C, LFE, Ls, Rs, Lb, Rb (WAV order of 7.1; back pair weighted as surrounds).
    Surround7_1,
}

impl ChannelLayout {
    /// The usual layout for `channels` channels in WAV order (1 = mono, 2 = stereo,
    /// 3 = L R C, 4 = quad, 5 = 5.0, 6 = 5.1, 7 = 6.1, 8 = 7.1).
    pub fn default_for(channels: usize) -> Option<Self> {
        Some(match channels {
            1 => ChannelLayout::Mono,
            2 => ChannelLayout::Stereo,
            3 => ChannelLayout::Surround3_0,
            4 => ChannelLayout::Quad,
            5 => ChannelLayout::Surround5_0,
            6 => ChannelLayout::Surround5_1,
            7 => ChannelLayout::Surround6_1,
            8 => ChannelLayout::Surround7_1,
            _ => return None,
        })
    }

    /// Number of channels of the layout.
    pub fn channels(self) -> usize {
        match self {
            ChannelLayout::Mono | ChannelLayout::DualMono => 1,
            ChannelLayout::Stereo => 2,
            ChannelLayout::Surround3_0 => 3,
            ChannelLayout::Surround3_1 | ChannelLayout::Quad => 4,
            ChannelLayout::Surround5_0 => 5,
            ChannelLayout::Surround5_1 => 6,
            ChannelLayout::Surround6_1 => 7,
            ChannelLayout::Surround7_1 => 8,
        }
    }

    /// BS.1770-4 weight `G_i` of channel `index` (0.0 for LFE and for indices past the end).
    pub fn weight(self, index: usize) -> f64 {
        const S: f64 = 1.41;
        let w: &[f64] = match self {
            ChannelLayout::Mono => &[1.0],
            ChannelLayout::DualMono => &[2.0],
            ChannelLayout::Stereo => &[1.0, 1.0],
            ChannelLayout::Surround3_0 => &[1.0, 1.0, 1.0],
            ChannelLayout::Surround3_1 => &[1.0, 1.0, 1.0, 0.0],
            ChannelLayout::Quad => &[1.0, 1.0, S, S],
            ChannelLayout::Surround5_0 => &[1.0, 1.0, 1.0, S, S],
            ChannelLayout::Surround5_1 => &[1.0, 1.0, 1.0, 0.0, S, S],
            ChannelLayout::Surround6_1 => &[1.0, 1.0, 1.0, 0.0, S, S, S],
            ChannelLayout::Surround7_1 => &[1.0, 1.0, 1.0, 0.0, S, S, S, S],
        };
        w.get(index).copied().unwrap_or(0.0)
    }
}

/// All readings of a meter at one moment. Loudness in LUFS, ranges in LU, peaks in dBTP/dBFS;
/// silence reads `f64::NEG_INFINITY`, never NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessReadings {
    /// Momentary loudness (last 400 ms), LUFS.
    pub momentary_lufs: f64,
    /// Short-term loudness (last 3 s), LUFS.
    pub short_term_lufs: f64,
    /// Integrated (gated) loudness, LUFS (BS.1770-4 §5.1).
    pub integrated_lufs: f64,
    /// Loudness range, LU (EBU Tech 3342); 0 when undefined.
    pub loudness_range_lu: f64,
    /// Largest momentary loudness seen, LUFS.
    pub max_momentary_lufs: f64,
    /// Largest short-term loudness seen, LUFS.
    pub max_short_term_lufs: f64,
    /// True peak, dBTP (BS.1770-4 Annex 2).
    pub true_peak_dbtp: f64,
    /// Sample peak, dBFS.
    pub sample_peak_dbfs: f64,
    /// Peak-to-loudness ratio: true peak minus integrated, dB.
    pub plr_db: f64,
    /// Peak-to-short-term-loudness ratio: true peak minus max short-term, dB.
    pub psr_db: f64,
}

const SUBS_PER_STEP: usize = 10; // 10 ms sub-blocks, gating step 100 ms
const MOMENTARY_SUBS: usize = 40; // 400 ms
const SHORT_SUBS: usize = 300; // 3 s
const BIN: f64 = 0.01;
const LO: f64 = -70.0;
const HI: f64 = 10.0;
const BINS: usize = ((HI - LO) / BIN) as usize;

/// Histogram of block loudness with exact energy sums per 0.01 LU bin.
#[derive(Debug, Clone)]
struct Histogram {
    count: [u32; BINS],
    energy: [f64; BINS],
    /// Blocks above `HI` (extreme levels): counted in the top bin with their own energy.
    total: u64,
}

impl Histogram {
    const fn new() -> Self {
        Self {
            count: [0; BINS],
            energy: [0.0; BINS],
            total: 0,
        }
    }

    fn bin_of(loudness: f64) -> usize {
        (((loudness - LO) / BIN) as usize).min(BINS - 1)
    }

    /// Adds a block with mean weighted energy `e`; blocks at or below -70 LUFS (absolute gate)
    /// are dropped.
    fn add(&mut self, e: f64) {
        let l = energy_to_lufs(e);
        if l <= LO {
            return;
        }
        let b = Self::bin_of(l);
        self.count[b] += 1;
        self.energy[b] += e;
        self.total += 1;
    }

    fn merge(&mut self, other: &Self) {
        for i in 0..BINS {
            self.count[i] += other.count[i];
            self.energy[i] += other.energy[i];
        }
        self.total += other.total;
    }

    /// First bin at or above `gate_lufs`.
    fn first_bin(gate_lufs: f64) -> usize {
        if gate_lufs <= LO {
            0
        } else {
            let pos = (gate_lufs - LO) / BIN;
            (libm::ceil(pos) as usize).min(BINS)
        }
    }

    fn mean_from(&self, first: usize) -> Option<f64> {
        let mut n = 0u64;
        let mut e = 0.0;
        for i in first..BINS {
            n += u64::from(self.count[i]);
            e += self.energy[i];
        }
        (n > 0).then(|| e / n as f64)
    }

    /// Relative-gated mean energy with the gate `offset_lu` below the ungated mean.
    fn gated_mean(&self, offset_lu: f64) -> Option<(f64, usize)> {
        let mean = self.mean_from(0)?;
        let first = Self::first_bin(energy_to_lufs(mean) + offset_lu);
        self.mean_from(first).map(|m| (m, first))
    }
}

fn energy_to_lufs(e: f64) -> f64 {
    if e > 0.0 {
        -0.691 + 10.0 * libm::log10(e)
    } else {
        f64::NEG_INFINITY
    }
}

/// A BS.1770-4 / EBU R128 loudness meter for `CH` channels (see the crate docs).
///
/// Memory is fixed (about 260 KB, dominated by the two gating histograms): keep long-lived
/// meters in a `Box` or a static when stack space is scarce.
#[derive(Debug, Clone)]
pub struct LoudnessMeter<const CH: usize> {
    sample_rate: f64,
    layout: ChannelLayout,
    filter: KWeighting<CH>,
    peaks: TruePeakDetector<CH>,
    sample_peak: f32,
    sub_len: usize,
    sub_pos: usize,
    sub_energy: f64,
    ring: [f64; SHORT_SUBS],
    ring_pos: usize,
    subs: u64,
    momentary_sum: f64,
    short_sum: f64,
    max_momentary: f64,
    max_short: f64,
    integrated: Histogram,
    range: Histogram,
}

impl<const CH: usize> LoudnessMeter<CH> {
    /// A meter for `sample_rate` Hz with the default layout for `CH` channels.
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`] outside 8 ..= 384 kHz, [`Error::UnsupportedChannels`]
    /// for `CH` outside 1 ..= 8.
    pub fn new(sample_rate: f64) -> Result<Self> {
        let layout =
            ChannelLayout::default_for(CH).ok_or(Error::UnsupportedChannels { channels: CH })?;
        Self::with_layout(sample_rate, layout)
    }

    /// A meter with an explicit channel layout.
    ///
    /// # Errors
    /// As [`new`](Self::new), and [`Error::UnsupportedChannels`] when the layout's channel
    /// count differs from `CH`.
    pub fn with_layout(sample_rate: f64, layout: ChannelLayout) -> Result<Self> {
        if layout.channels() != CH {
            return Err(Error::UnsupportedChannels { channels: CH });
        }
        let mut filter = KWeighting::new(sample_rate)?;
        let mut weights = [0.0; CH];
        for (i, w) in weights.iter_mut().enumerate() {
            *w = layout.weight(i);
        }
        filter.set_channel_weights(weights);
        let sub_len = libm::round(sample_rate / 100.0).max(1.0) as usize;
        Ok(Self {
            sample_rate,
            layout,
            filter,
            peaks: TruePeakDetector::new(sample_rate),
            sample_peak: 0.0,
            sub_len,
            sub_pos: 0,
            sub_energy: 0.0,
            ring: [0.0; SHORT_SUBS],
            ring_pos: 0,
            subs: 0,
            momentary_sum: 0.0,
            short_sum: 0.0,
            max_momentary: f64::NEG_INFINITY,
            max_short: f64::NEG_INFINITY,
            integrated: Histogram::new(),
            range: Histogram::new(),
        })
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Channel layout.
    pub fn layout(&self) -> ChannelLayout {
        self.layout
    }

    /// Clears everything, as a new meter.
    pub fn reset(&mut self) {
        self.filter.reset();
        self.peaks.reset();
        self.sample_peak = 0.0;
        self.sub_pos = 0;
        self.sub_energy = 0.0;
        self.ring = [0.0; SHORT_SUBS];
        self.ring_pos = 0;
        self.subs = 0;
        self.momentary_sum = 0.0;
        self.short_sum = 0.0;
        self.max_momentary = f64::NEG_INFINITY;
        self.max_short = f64::NEG_INFINITY;
        self.integrated = Histogram::new();
        self.range = Histogram::new();
    }

    /// Measures a block of frames (any length). Readings do not depend on how the signal is
    /// split into blocks. Non-finite samples count as silence.
    pub fn process(&mut self, frames: &[[f32; CH]]) {
        for f in frames {
            let mut clean = *f;
            for s in clean.iter_mut() {
                if !s.is_finite() {
                    *s = 0.0;
                }
                self.sample_peak = self.sample_peak.max(libm::fabsf(*s));
            }
            self.peaks.push(&clean);
            self.sub_energy += self.filter.frame_energy(&clean);
            self.sub_pos += 1;
            if self.sub_pos == self.sub_len {
                self.end_sub_block();
            }
        }
        self.filter.flush_denormals();
    }

    fn end_sub_block(&mut self) {
        let e = self.sub_energy;
        self.sub_energy = 0.0;
        self.sub_pos = 0;
        let old_short = self.ring[self.ring_pos];
        let old_momentary = self.ring[(self.ring_pos + SHORT_SUBS - MOMENTARY_SUBS) % SHORT_SUBS];
        self.ring[self.ring_pos] = e;
        self.ring_pos = (self.ring_pos + 1) % SHORT_SUBS;
        self.subs += 1;
        self.short_sum += e - old_short;
        self.momentary_sum += e - old_momentary;
        if self.subs % SUBS_PER_STEP as u64 == 0 {
            // Re-sum exactly every 100 ms so running sums never drift.
            self.momentary_sum = self.sum_last(MOMENTARY_SUBS);
            self.short_sum = self.sum_last(SHORT_SUBS);
        }
        if self.subs >= MOMENTARY_SUBS as u64 {
            let m = self.momentary_sum.max(0.0) / (MOMENTARY_SUBS * self.sub_len) as f64;
            self.max_momentary = self.max_momentary.max(energy_to_lufs(m));
            if self.subs % SUBS_PER_STEP as u64 == 0 {
                self.integrated.add(m);
            }
        }
        if self.subs >= SHORT_SUBS as u64 {
            let s = self.short_sum.max(0.0) / (SHORT_SUBS * self.sub_len) as f64;
            self.max_short = self.max_short.max(energy_to_lufs(s));
            if self.subs % SUBS_PER_STEP as u64 == 0 {
                self.range.add(s);
            }
        }
    }

    fn sum_last(&self, n: usize) -> f64 {
        let mut s = 0.0;
        for k in 1..=n {
            s += self.ring[(self.ring_pos + SHORT_SUBS - k) % SHORT_SUBS];
        }
        s
    }

    /// Momentary loudness (400 ms, ungated), LUFS; `-inf` before 400 ms or in silence.
    pub fn momentary_lufs(&self) -> f64 {
        if self.subs < MOMENTARY_SUBS as u64 {
            return f64::NEG_INFINITY;
        }
        energy_to_lufs(self.momentary_sum.max(0.0) / (MOMENTARY_SUBS * self.sub_len) as f64)
    }

    /// Short-term loudness (3 s, ungated), LUFS; `-inf` before 3 s or in silence.
    pub fn short_term_lufs(&self) -> f64 {
        if self.subs < SHORT_SUBS as u64 {
            return f64::NEG_INFINITY;
        }
        energy_to_lufs(self.short_sum.max(0.0) / (SHORT_SUBS * self.sub_len) as f64)
    }

    /// Integrated loudness (BS.1770-4 §5.1: absolute gate -70 LUFS, relative gate -10 LU),
    /// LUFS; `-inf` when no block passes the gates.
    pub fn integrated_lufs(&self) -> f64 {
        self.integrated
            .gated_mean(-10.0)
            .map_or(f64::NEG_INFINITY, |(e, _)| energy_to_lufs(e))
    }

    /// Loudness range (EBU Tech 3342): short-term values every 100 ms, absolute gate
    /// -70 LUFS, relative gate -20 LU, 95th minus 10th percentile (nearest rank), LU.
    /// 0.0 when fewer than two values pass the gates.
    pub fn loudness_range_lu(&self) -> f64 {
        let Some((_, first)) = self.range.gated_mean(-20.0) else {
            return 0.0;
        };
        let n: u64 = self.range.count[first..].iter().map(|&c| u64::from(c)).sum();
        if n < 2 {
            return 0.0;
        }
        let percentile = |p: f64| {
            // Nearest rank: the ceil(p * n)-th smallest value (1-based).
            let rank = libm::ceil(p * n as f64).max(1.0) as u64;
            let mut seen = 0u64;
            for (i, &c) in self.range.count[first..].iter().enumerate() {
                seen += u64::from(c);
                if seen >= rank {
                    let b = first + i;
                    // The bin's mean energy stands for its values.
                    return energy_to_lufs(self.range.energy[b] / f64::from(c));
                }
            }
            f64::NEG_INFINITY
        };
        (percentile(0.95) - percentile(0.10)).max(0.0)
    }

    /// Largest momentary loudness so far (10 ms grid), LUFS.
    pub fn max_momentary_lufs(&self) -> f64 {
        self.max_momentary
    }

    /// Largest short-term loudness so far (10 ms grid), LUFS.
    pub fn max_short_term_lufs(&self) -> f64 {
        self.max_short
    }

    /// True peak over all channels (BS.1770-4 Annex 2), dBTP.
    pub fn true_peak_dbtp(&self) -> f64 {
        self.peaks.true_peak_dbtp()
    }

    /// True peak per channel, linear.
    pub fn true_peak_per_channel(&self) -> [f32; CH] {
        self.peaks.true_peak()
    }

    /// Sample peak over all channels, dBFS.
    pub fn sample_peak_dbfs(&self) -> f64 {
        gain_to_db(f64::from(self.sample_peak))
    }

    /// Peak-to-loudness ratio (true peak minus integrated), dB.
    pub fn plr_db(&self) -> f64 {
        self.true_peak_dbtp() - self.integrated_lufs()
    }

    /// Peak-to-short-term-loudness ratio (true peak minus max short-term), dB.
    pub fn psr_db(&self) -> f64 {
        self.true_peak_dbtp() - self.max_short_term_lufs()
    }

    /// Every reading at once.
    pub fn readings(&self) -> LoudnessReadings {
        LoudnessReadings {
            momentary_lufs: self.momentary_lufs(),
            short_term_lufs: self.short_term_lufs(),
            integrated_lufs: self.integrated_lufs(),
            loudness_range_lu: self.loudness_range_lu(),
            max_momentary_lufs: self.max_momentary,
            max_short_term_lufs: self.max_short,
            true_peak_dbtp: self.true_peak_dbtp(),
            sample_peak_dbfs: self.sample_peak_dbfs(),
            plr_db: self.plr_db(),
            psr_db: self.psr_db(),
        }
    }

    /// Adds `other`'s measurements to this meter: integrated loudness, loudness range, maxima
    /// and peaks then describe both signals together (an album is the merge of its tracks).
    /// The momentary and short-term windows stay this meter's own.
    ///
    /// # Errors
    /// [`Error::Mismatch`] when the meters differ in sample rate or layout.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        if self.sample_rate != other.sample_rate || self.layout != other.layout {
            return Err(Error::Mismatch {
                what: "meters with different sample rates or layouts",
            });
        }
        self.integrated.merge(&other.integrated);
        self.range.merge(&other.range);
        self.max_momentary = self.max_momentary.max(other.max_momentary);
        self.max_short = self.max_short.max(other.max_short);
        self.sample_peak = self.sample_peak.max(other.sample_peak);
        let a = self.peaks.true_peak();
        let b = other.peaks.true_peak();
        let mut m = [0.0f32; CH];
        for i in 0..CH {
            m[i] = a[i].max(b[i]);
        }
        self.peaks.set_peak(m);
        Ok(())
    }
}
