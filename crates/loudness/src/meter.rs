//! The BS.1770-4 / EBU R128 meter.

use crate::histogram::{energy_to_lufs, Histogram};
use crate::kweighting::{keep_max, KWeighting};
use crate::ChannelLayout;
use lathe_core::{gain_to_db, Error, ProcessSpec, Processor, Result, TruePeakDetector};

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

/// Sub-blocks (10 ms) per gating step (100 ms).
const SUBS_PER_STEP: usize = 10;
/// Sub-blocks per momentary window (400 ms).
const MOMENTARY_SUBS: usize = 40;
/// Sub-blocks per short-term window (3 s).
const SHORT_SUBS: usize = 300;
/// Frames per block when non-finite samples must be cleaned before true-peak detection.
const CLEAN_BLOCK: usize = 64;

/// Sum in time order with four lanes (vectorises; the grouping depends only on the order of
/// the values, so equal histories give equal sums).
#[inline]
fn sum(x: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            *l += *v;
        }
    }
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for v in chunks.remainder() {
        s += *v;
    }
    s
}

/// Frames in sub-block `index` (0 ..= 9) of a `step`-frame gating step: the step is cut at
/// `floor(j * step / 10)`, so ten sub-blocks always make exactly one step.
#[inline]
fn sub_len(step: usize, index: usize) -> usize {
    (index + 1) * step / SUBS_PER_STEP - index * step / SUBS_PER_STEP
}

/// A BS.1770-4 / EBU R128 loudness meter for `CH` channels: momentary, short-term, integrated,
/// loudness range, their maxima, sample peak and true peak (see the crate docs for how it
/// measures).
///
/// # Memory
/// Fixed and allocation-free for any length: 231 904 bytes for stereo (each extra channel adds
/// about 170 bytes), dominated by the two gating histograms (8 000 bins of a count, an exact
/// energy sum and the bin's loudness span each). Keep long-lived meters in a `Box` or a static
/// when stack space is scarce (test threads have 2 MB). Bin counts saturate after 2^32 blocks
/// (13 years of audio).
///
/// # Non-finite input
/// NaN and infinite samples are measured as silence (0.0) by every reading, so one bad sample
/// never poisons the meter; the filter state always stays finite.
///
/// # Processor
/// The meter also implements [`Processor`] as a pass-through tap (audio unchanged, latency 0),
/// so it can sit anywhere in a chain.
#[derive(Debug, Clone)]
pub struct LoudnessMeter<const CH: usize> {
    sample_rate: f64,
    layout: ChannelLayout,
    filter: KWeighting<CH>,
    peaks: TruePeakDetector<CH>,
    true_peak_enabled: bool,
    sample_peak: [f32; CH],
    /// Frames per 100 ms gating step (`round(fs / 10)`, as libebur128).
    step: usize,
    /// Position of the current sub-block in its step (0 ..= 9), its length and fill.
    sub_index: usize,
    sub_len: usize,
    sub_pos: usize,
    /// K-weighted energy of the current sub-block so far, per channel (unweighted).
    sub_energy: [f64; CH],
    /// Frames measured.
    frames: u64,
    /// Completed sub-blocks.
    subs: u64,
    /// Weighted energies of the last 300 sub-blocks, written twice so that
    /// `ring[ring_pos..ring_pos + 300]` is the history in time order.
    ring: [f64; 2 * SHORT_SUBS],
    ring_pos: usize,
    /// The first 300 sub-block energies (what a later [`merge`](Self::merge) needs to rebuild
    /// the windows that straddle the joint).
    head: [f64; SHORT_SUBS],
    /// Mean-square energies of the current momentary and short-term windows and their maxima.
    momentary: f64,
    short_term: f64,
    max_momentary: f64,
    max_short_term: f64,
    /// Momentary blocks every 100 ms (integrated loudness) and short-term values every 100 ms
    /// (loudness range).
    integrated: Histogram,
    range: Histogram,
}

impl<const CH: usize> LoudnessMeter<CH> {
    /// A meter for `sample_rate` Hz with the default layout for `CH` channels
    /// ([`ChannelLayout::default_for`]).
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`] outside 8 ..= 384 kHz, [`Error::UnsupportedChannels`]
    /// for `CH` outside 1 ..= 8.
    pub fn new(sample_rate: f64) -> Result<Self> {
        let layout =
            ChannelLayout::default_for(CH).ok_or(Error::UnsupportedChannels { channels: CH })?;
        Self::with_layout(sample_rate, layout)
    }

    /// A meter with an explicit channel layout (e.g. [`ChannelLayout::DualMono`]).
    ///
    /// # Errors
    /// As [`new`](Self::new), and [`Error::UnsupportedChannels`] when the layout's channel
    /// count differs from `CH`.
    pub fn with_layout(sample_rate: f64, layout: ChannelLayout) -> Result<Self> {
        if layout.channels() != CH {
            return Err(Error::UnsupportedChannels { channels: CH });
        }
        let mut filter = KWeighting::new(sample_rate)?;
        filter.set_channel_weights(layout.weights());
        let step = Self::step_for(sample_rate);
        Ok(Self {
            sample_rate,
            layout,
            filter,
            peaks: TruePeakDetector::new(sample_rate),
            true_peak_enabled: true,
            sample_peak: [0.0; CH],
            step,
            sub_index: 0,
            sub_len: sub_len(step, 0),
            sub_pos: 0,
            sub_energy: [0.0; CH],
            frames: 0,
            subs: 0,
            ring: [0.0; 2 * SHORT_SUBS],
            ring_pos: 0,
            head: [0.0; SHORT_SUBS],
            momentary: 0.0,
            short_term: 0.0,
            max_momentary: 0.0,
            max_short_term: 0.0,
            integrated: Histogram::new(),
            range: Histogram::new(),
        })
    }

    fn step_for(sample_rate: f64) -> usize {
        (libm::round(sample_rate / 10.0) as usize).max(SUBS_PER_STEP)
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Channel layout.
    pub fn layout(&self) -> ChannelLayout {
        self.layout
    }

    /// Turns true-peak measurement on (the default) or off. Off, the meter skips the
    /// oversampling interpolator (most of its work) and [`true_peak_dbtp`](Self::true_peak_dbtp),
    /// [`plr_db`](Self::plr_db) and [`psr_db`](Self::psr_db) read NaN ("not measured"); the
    /// running true peak is kept and resumes when turned back on (the interpolator history is
    /// cleared).
    pub fn set_true_peak_enabled(&mut self, enabled: bool) {
        if enabled && !self.true_peak_enabled {
            let peak = self.peaks.true_peak();
            self.peaks.reset();
            self.peaks.set_peak(peak);
        }
        self.true_peak_enabled = enabled;
    }

    /// Whether true peak is measured (see [`set_true_peak_enabled`](Self::set_true_peak_enabled)).
    pub fn true_peak_enabled(&self) -> bool {
        self.true_peak_enabled
    }

    /// Frames measured so far (including merged meters).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Gating blocks (400 ms, every 100 ms) above the absolute gate so far.
    pub fn gating_blocks(&self) -> u64 {
        self.integrated.blocks()
    }

    /// Clears everything, as a new meter.
    pub fn reset(&mut self) {
        self.filter.reset();
        self.peaks.reset();
        self.sample_peak = [0.0; CH];
        self.sub_index = 0;
        self.sub_len = sub_len(self.step, 0);
        self.sub_pos = 0;
        self.sub_energy = [0.0; CH];
        self.frames = 0;
        self.subs = 0;
        self.ring = [0.0; 2 * SHORT_SUBS];
        self.ring_pos = 0;
        self.head = [0.0; SHORT_SUBS];
        self.momentary = 0.0;
        self.short_term = 0.0;
        self.max_momentary = 0.0;
        self.max_short_term = 0.0;
        self.integrated.clear();
        self.range.clear();
    }

    /// Measures a block of frames (any length, including 0). Readings do not depend on how the
    /// signal is split into blocks (bit-identical). Non-finite samples count as silence.
    pub fn process(&mut self, frames: &[[f32; CH]]) {
        let mut finite = true;
        let mut rest = frames;
        while !rest.is_empty() {
            let n = (self.sub_len - self.sub_pos).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            finite &= self
                .filter
                .run(chunk, &mut self.sub_energy, &mut self.sample_peak);
            self.sub_pos += n;
            if self.sub_pos == self.sub_len {
                self.end_sub_block();
            }
            rest = tail;
        }
        self.frames += frames.len() as u64;
        if !self.true_peak_enabled {
            return;
        }
        if finite {
            self.peaks.process(frames);
        } else {
            let mut clean = [[0.0f32; CH]; CLEAN_BLOCK];
            for chunk in frames.chunks(CLEAN_BLOCK) {
                for (c, f) in clean.iter_mut().zip(chunk) {
                    *c = f.map(|s| if s.is_finite() { s } else { 0.0 });
                }
                self.peaks.process(&clean[..chunk.len()]);
            }
        }
    }

    fn end_sub_block(&mut self) {
        let weights = self.filter.channel_weights();
        let mut e = 0.0;
        for (w, s) in weights.iter().zip(self.sub_energy.iter()) {
            e += w * s;
        }
        self.sub_energy = [0.0; CH];
        // At a fixed place in the signal, so flushing never depends on the block split.
        self.filter.flush_denormals();
        self.push_sub_block(e, self.sub_index, None);
        self.sub_index = (self.sub_index + 1) % SUBS_PER_STEP;
        self.sub_len = sub_len(self.step, self.sub_index);
        self.sub_pos = 0;
    }

    /// Appends a finished sub-block of weighted energy `e` at position `index` of its step and
    /// updates the windows. When replaying the `j`-th sub-block of a merged meter
    /// (`replay = Some(j)`), only the windows that straddle the joint are new.
    fn push_sub_block(&mut self, e: f64, index: usize, replay: Option<u64>) {
        if let Some(h) = self.head.get_mut(self.subs as usize) {
            *h = e;
        }
        self.ring[self.ring_pos] = e;
        self.ring[self.ring_pos + SHORT_SUBS] = e;
        self.ring_pos = if self.ring_pos + 1 == SHORT_SUBS {
            0
        } else {
            self.ring_pos + 1
        };
        self.subs += 1;
        let closes_step = index == SUBS_PER_STEP - 1;
        let history = &self.ring[self.ring_pos..self.ring_pos + SHORT_SUBS];
        if self.subs >= MOMENTARY_SUBS as u64 {
            let m = sum(&history[SHORT_SUBS - MOMENTARY_SUBS..])
                / (MOMENTARY_SUBS / SUBS_PER_STEP * self.step) as f64;
            self.momentary = m;
            if replay.is_none_or(|j| j < MOMENTARY_SUBS as u64) {
                self.max_momentary = self.max_momentary.max(m);
                if closes_step {
                    self.integrated.add(m);
                }
            }
        }
        if self.subs >= SHORT_SUBS as u64 {
            let s = sum(history) / (SHORT_SUBS / SUBS_PER_STEP * self.step) as f64;
            self.short_term = s;
            if replay.is_none_or(|j| j < SHORT_SUBS as u64) {
                self.max_short_term = self.max_short_term.max(s);
                if closes_step {
                    self.range.add(s);
                }
            }
        }
    }

    /// Momentary loudness (the last 400 ms, ungated, updated every 10 ms), LUFS; `-inf` before
    /// the first 400 ms and in silence.
    pub fn momentary_lufs(&self) -> f64 {
        if self.subs < MOMENTARY_SUBS as u64 {
            return f64::NEG_INFINITY;
        }
        energy_to_lufs(self.momentary)
    }

    /// Short-term loudness (the last 3 s, ungated, updated every 10 ms), LUFS; `-inf` before
    /// the first 3 s and in silence.
    pub fn short_term_lufs(&self) -> f64 {
        if self.subs < SHORT_SUBS as u64 {
            return f64::NEG_INFINITY;
        }
        energy_to_lufs(self.short_term)
    }

    /// Integrated loudness (BS.1770-4 §5.1: 400 ms blocks every 100 ms, absolute gate
    /// -70 LUFS, relative gate -10 LU), LUFS; `-inf` when no block passes the gates. Within
    /// 0.01 LU of exact block-list gating (see the crate docs).
    pub fn integrated_lufs(&self) -> f64 {
        self.integrated
            .gated_mean(-10.0)
            .map_or(f64::NEG_INFINITY, energy_to_lufs)
    }

    /// Loudness range (EBU Tech 3342: short-term values every 100 ms, absolute gate -70 LUFS,
    /// relative gate -20 LU, 95th minus 10th percentile), LU; 0.0 when fewer than two values
    /// pass the gates. Values are resolved to 0.01 LU bins.
    pub fn loudness_range_lu(&self) -> f64 {
        self.range.loudness_range()
    }

    /// Largest momentary loudness so far (windows ending every 10 ms), LUFS; `-inf` if none.
    pub fn max_momentary_lufs(&self) -> f64 {
        energy_to_lufs(self.max_momentary)
    }

    /// Largest short-term loudness so far (windows ending every 10 ms), LUFS; `-inf` if none.
    pub fn max_short_term_lufs(&self) -> f64 {
        energy_to_lufs(self.max_short_term)
    }

    /// True peak over all channels (BS.1770-4 Annex 2, the detector of
    /// [`lathe_core::true_peak`]), dBTP; `-inf` for silence, NaN when true peak is turned off.
    pub fn true_peak_dbtp(&self) -> f64 {
        if self.true_peak_enabled {
            self.peaks.true_peak_dbtp()
        } else {
            f64::NAN
        }
    }

    /// True peak per channel, linear.
    pub fn true_peak_per_channel(&self) -> [f32; CH] {
        self.peaks.true_peak()
    }

    /// Sample peak over all channels, dBFS; `-inf` for silence.
    pub fn sample_peak_dbfs(&self) -> f64 {
        let m = self.sample_peak.iter().fold(0.0f32, |a, &b| a.max(b));
        gain_to_db(f64::from(m))
    }

    /// Sample peak per channel, linear.
    pub fn sample_peak_per_channel(&self) -> [f32; CH] {
        self.sample_peak
    }

    /// Peak-to-loudness ratio (true peak minus integrated loudness, as in AES TD1004), dB;
    /// `-inf` when either reading is `-inf` (undefined), NaN only with true peak turned off.
    pub fn plr_db(&self) -> f64 {
        ratio(self.true_peak_dbtp(), self.integrated_lufs())
    }

    /// Peak-to-short-term-loudness ratio (true peak minus maximum short-term loudness), dB;
    /// `-inf` when either reading is `-inf`, NaN only with true peak turned off.
    pub fn psr_db(&self) -> f64 {
        ratio(self.true_peak_dbtp(), self.max_short_term_lufs())
    }

    /// Every reading at once.
    pub fn readings(&self) -> LoudnessReadings {
        let integrated = self.integrated_lufs();
        let true_peak = self.true_peak_dbtp();
        let max_short_term = self.max_short_term_lufs();
        LoudnessReadings {
            momentary_lufs: self.momentary_lufs(),
            short_term_lufs: self.short_term_lufs(),
            integrated_lufs: integrated,
            loudness_range_lu: self.loudness_range_lu(),
            max_momentary_lufs: self.max_momentary_lufs(),
            max_short_term_lufs: max_short_term,
            true_peak_dbtp: true_peak,
            sample_peak_dbfs: self.sample_peak_dbfs(),
            plr_db: ratio(true_peak, integrated),
            psr_db: ratio(true_peak, max_short_term),
        }
    }

    /// Appends `other`'s measurement to this one, as if `other`'s signal had followed this
    /// meter's signal in one file: afterwards integrated loudness, loudness range, maxima and
    /// peaks describe both (an album is the merge of its tracks, in order), and further
    /// [`process`](Self::process) calls continue after `other`'s signal.
    ///
    /// The gating blocks and short-term values of each meter are pooled, and the ones that
    /// straddle the joint are rebuilt from this meter's last 3 s and `other`'s first 3 s of
    /// 10 ms sub-block energies. When this meter's length is a whole number of 100 ms steps
    /// the result equals measuring the concatenation, except for the K-weighting filter's decay
    /// across the joint (the first milliseconds of `other`) and the inter-sample peaks of the
    /// six frames either side of it; otherwise `other`'s blocks sit on a grid shifted by the
    /// remainder and this meter's unfinished sub-block is added to `other`'s first.
    ///
    /// # Errors
    /// [`Error::Mismatch`] when the meters differ in sample rate or layout.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        if self.sample_rate != other.sample_rate || self.layout != other.layout {
            return Err(Error::Mismatch {
                what: "meters with different sample rates or layouts",
            });
        }
        if other.frames == 0 {
            return Ok(());
        }
        let own_partial = self.sub_energy;
        let weights = self.filter.channel_weights();
        let carry: f64 = weights
            .iter()
            .zip(own_partial.iter())
            .map(|(w, s)| w * s)
            .sum();
        // Windows straddling the joint: replay `other`'s first sub-blocks on this history.
        let replay = other.subs.min(SHORT_SUBS as u64) as usize;
        for (j, &e) in other.head[..replay].iter().enumerate() {
            let e = if j == 0 { e + carry } else { e };
            self.push_sub_block(e, j % SUBS_PER_STEP, Some(j as u64 + 1));
        }
        let own_subs = self.subs - replay as u64;
        if other.subs > SHORT_SUBS as u64 {
            self.ring = other.ring;
            self.ring_pos = other.ring_pos;
            self.momentary = other.momentary;
            self.short_term = other.short_term;
        }
        self.subs = own_subs + other.subs;
        // Continue where `other` stopped.
        self.sub_energy = other.sub_energy;
        if other.subs == 0 {
            // Nothing was replayed: the unfinished sub-blocks join.
            for (s, own) in self.sub_energy.iter_mut().zip(own_partial) {
                *s += own;
            }
        }
        self.sub_index = other.sub_index;
        self.sub_len = other.sub_len;
        self.sub_pos = other.sub_pos;
        self.filter = other.filter.clone();
        self.frames += other.frames;
        self.integrated.merge(&other.integrated);
        self.range.merge(&other.range);
        self.max_momentary = self.max_momentary.max(other.max_momentary);
        self.max_short_term = self.max_short_term.max(other.max_short_term);
        for (a, b) in self.sample_peak.iter_mut().zip(other.sample_peak) {
            *a = keep_max(*a, b);
        }
        let mine = self.peaks.true_peak();
        self.peaks = other.peaks.clone();
        let theirs = other.peaks.true_peak();
        self.peaks
            .set_peak(core::array::from_fn(|i| keep_max(mine[i], theirs[i])));
        Ok(())
    }
}

/// `peak - loudness` in dB: `-inf` when either is `-inf` (undefined), NaN when the peak was
/// not measured.
fn ratio(peak: f64, loudness: f64) -> f64 {
    if peak.is_nan() {
        f64::NAN
    } else if peak.is_finite() && loudness.is_finite() {
        peak - loudness
    } else {
        f64::NEG_INFINITY
    }
}

impl<const CH: usize> Processor<CH> for LoudnessMeter<CH> {
    /// Re-designs for `spec.sample_rate` (keeping the layout) and clears all readings.
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        let mut filter = KWeighting::new(spec.sample_rate)?;
        filter.set_channel_weights(self.layout.weights());
        self.sample_rate = spec.sample_rate;
        self.filter = filter;
        self.peaks.set_sample_rate(spec.sample_rate);
        self.step = Self::step_for(spec.sample_rate);
        LoudnessMeter::reset(self);
        Ok(())
    }

    fn reset(&mut self) {
        LoudnessMeter::reset(self);
    }

    /// Measures the frames and leaves them unchanged.
    fn process(&mut self, frames: &mut [[f32; CH]]) {
        LoudnessMeter::process(self, frames);
    }

    fn latency(&self) -> usize {
        0
    }
}
