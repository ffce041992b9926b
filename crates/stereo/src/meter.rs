//! Phase correlation, balance and mid/side energy metering over a sliding window and over the
//! whole signal.

use lathe_core::{Error, Result, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

/// Number of sub-blocks the sliding window is made of.
const SUB_BLOCKS: usize = 16;

/// Per-sample energy floor (mean square, −120 dBFS) added to the energies in every reading.
///
/// It keeps every reading finite and continuous: silence reads correlation 0, balance 0 dB and
/// mid/side ratio 0 dB; signals far above −120 dBFS are not affected measurably (a −60 dBFS
/// signal moves by about 1e-6).
pub const ENERGY_FLOOR: f64 = 1e-12;

/// Second-order sums of a stereo signal: `Σ L²`, `Σ R²`, `Σ L·R` and the number of frames.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StereoSums {
    /// `Σ L²`.
    pub ll: f64,
    /// `Σ R²`.
    pub rr: f64,
    /// `Σ L·R`.
    pub lr: f64,
    /// Number of frames summed (may be fractional for a window with a partly counted block).
    pub frames: f64,
}

impl StereoSums {
    fn add(&mut self, o: &Self) {
        self.ll += o.ll;
        self.rr += o.rr;
        self.lr += o.lr;
        self.frames += o.frames;
    }

    fn add_scaled(&mut self, o: &Self, k: f64) {
        self.ll += k * o.ll;
        self.rr += k * o.rr;
        self.lr += k * o.lr;
        self.frames += k * o.frames;
    }

    fn floor(&self) -> f64 {
        self.frames * ENERGY_FLOOR
    }

    /// Phase correlation `Σ L·R / sqrt(Σ L² · Σ R²)` in -1 ..= 1 (the normalised cross
    /// correlation at lag 0, without mean removal, as phase-correlation meters define it), with
    /// the [`ENERGY_FLOOR`] added to both energies: silence reads 0.
    pub fn correlation(&self) -> f64 {
        let f = self.floor();
        let den = libm::sqrt((self.ll + f) * (self.rr + f));
        if den > 0.0 {
            (self.lr / den).clamp(-1.0, 1.0)
        } else {
            0.0
        }
    }

    /// Balance `10 log10(Σ L² / Σ R²)` in dB: positive when the left channel is louder.
    /// Bounded to about ±120 dB by the [`ENERGY_FLOOR`]; silence reads 0 dB.
    pub fn balance_db(&self) -> f64 {
        let f = self.floor();
        if f > 0.0 {
            10.0 * libm::log10((self.ll + f) / (self.rr + f))
        } else {
            0.0
        }
    }

    /// Energy of the mid signal `M = (L + R) / 2`: `Σ M² = (Σ L² + Σ R² + 2 Σ L·R) / 4`.
    pub fn mid_energy(&self) -> f64 {
        (0.25 * (self.ll + self.rr + 2.0 * self.lr)).max(0.0)
    }

    /// Energy of the side signal `S = (L − R) / 2`: `Σ S² = (Σ L² + Σ R² − 2 Σ L·R) / 4`.
    pub fn side_energy(&self) -> f64 {
        (0.25 * (self.ll + self.rr - 2.0 * self.lr)).max(0.0)
    }

    /// Mid-to-side energy ratio `10 log10(Σ M² / Σ S²)` in dB: large and positive for nearly
    /// mono material, 0 dB for uncorrelated channels of equal level, negative when the side
    /// dominates (out-of-phase content). Bounded to about ±120 dB by the [`ENERGY_FLOOR`];
    /// silence reads 0 dB.
    pub fn mid_side_ratio_db(&self) -> f64 {
        let f = self.floor();
        if f > 0.0 {
            10.0 * libm::log10((self.mid_energy() + f) / (self.side_energy() + f))
        } else {
            0.0
        }
    }
}

/// Four interleaved partial sums per quantity, so the accumulation loop vectorises while the
/// order of additions stays fixed (bit-identical results for any block split).
#[derive(Debug, Clone, Copy, Default)]
struct Lanes {
    ll: [f64; 4],
    rr: [f64; 4],
    lr: [f64; 4],
}

impl Lanes {
    #[inline]
    fn add(&mut self, lane: usize, f: [f32; 2]) {
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
        self.ll[lane] += l * l;
        self.rr[lane] += r * r;
        self.lr[lane] += l * r;
    }

    #[inline]
    fn add4(&mut self, f: &[[f32; 2]]) {
        for (lane, x) in f.iter().enumerate().take(4) {
            self.add(lane, *x);
        }
    }

    fn sums(&self, frames: usize) -> StereoSums {
        let s = |x: &[f64; 4]| (x[0] + x[1]) + (x[2] + x[3]);
        StereoSums {
            ll: s(&self.ll),
            rr: s(&self.rr),
            lr: s(&self.lr),
            frames: frames as f64,
        }
    }
}

/// Phase-correlation meter (−1 ..= +1) over a sliding window, with a readout at any time and a
/// whole-signal average; the same sums also give the stereo balance (dB, L vs R) and the
/// mid/side energy ratio.
///
/// - **Correlation** is `Σ L·R / sqrt(Σ L² · Σ R²)`: +1 for identical channels (mono), 0 for
///   unrelated channels, −1 when one channel is the polarity-inverted other. It is the reading
///   of a hardware phase-correlation meter (a normalised cross correlation at lag 0, no mean
///   removal, so DC counts as correlated content).
/// - **Sliding window**: the window (e.g. 200 ms) is cut into 16 sub-blocks; a reading covers
///   the samples of the sub-block being filled, the 15 completed sub-blocks before it and the
///   oldest completed sub-block weighted by the fraction of it that still belongs in the window,
///   so the weights add up to exactly one window and readings move smoothly from sample to
///   sample. (A reading thus lies between the exact rectangular window and one 1/16 shorter.)
///   Until one window has passed, the reading covers everything so far.
/// - **Whole-signal average** ([`average_correlation`](Self::average_correlation)) is the same
///   formula over every sample since the start (or [`reset`](Self::reset)): an energy-weighted
///   average, where loud passages count more than quiet ones and silence counts not at all.
/// - **Silence** reads 0 (no correlation), never NaN: a per-sample floor of −120 dBFS
///   ([`ENERGY_FLOOR`]) is added to both energies. The balance and mid/side ratio of silence
///   read 0 dB.
///
/// Non-finite input samples are counted as 0 (they never poison the sums).
///
/// Sums are kept in `f64`, per sub-block, then added to the totals, so hours of audio stay
/// accurate. Any block split of the same audio gives bit-identical readings.
#[derive(Debug, Clone)]
pub struct CorrelationMeter {
    sample_rate: f64,
    window_ms: f64,
    block_len: usize,
    /// Frames in the sub-block being filled.
    fill: usize,
    lanes: Lanes,
    /// Completed sub-blocks, a ring; `ring[head]` is the next to be overwritten (the oldest).
    ring: [StereoSums; SUB_BLOCKS],
    head: usize,
    completed: usize,
    total: StereoSums,
}

impl CorrelationMeter {
    /// Shortest window, in ms.
    pub const MIN_WINDOW_MS: f64 = 1.0;
    /// Longest window, in ms.
    pub const MAX_WINDOW_MS: f64 = 60_000.0;

    /// A meter for `sample_rate` Hz with a sliding window of `window_ms` milliseconds
    /// (100 ..= 300 ms is usual for a phase-correlation meter; 200 ms is a good default).
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`] outside 8 ..= 384 kHz; [`Error::OutOfRange`]
    /// (`"window_ms"`, 1 ..= 60 000).
    pub fn new(sample_rate: f64, window_ms: f64) -> Result<Self> {
        if !(sample_rate.is_finite() && (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate))
        {
            return Err(Error::UnsupportedSampleRate { sample_rate });
        }
        Error::check_range(
            "window_ms",
            window_ms,
            Self::MIN_WINDOW_MS,
            Self::MAX_WINDOW_MS,
        )?;
        let window = window_ms * 1e-3 * sample_rate;
        let block_len = (libm::round(window / SUB_BLOCKS as f64) as usize).max(1);
        Ok(Self {
            sample_rate,
            window_ms,
            block_len,
            fill: 0,
            lanes: Lanes::default(),
            ring: [StereoSums::default(); SUB_BLOCKS],
            head: 0,
            completed: 0,
            total: StereoSums::default(),
        })
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// The requested window length in ms.
    pub fn window_ms(&self) -> f64 {
        self.window_ms
    }

    /// The window length actually used, in frames (16 sub-blocks of whole frames).
    pub fn window_frames(&self) -> usize {
        self.block_len * SUB_BLOCKS
    }

    /// Clears everything (window and whole-signal totals).
    pub fn reset(&mut self) {
        self.fill = 0;
        self.lanes = Lanes::default();
        self.ring = [StereoSums::default(); SUB_BLOCKS];
        self.head = 0;
        self.completed = 0;
        self.total = StereoSums::default();
    }

    /// Adds stereo `frames` (`[L, R]`, any number) to the meter. Real-time safe.
    pub fn process(&mut self, frames: &[[f32; 2]]) {
        let mut rest = frames;
        while !rest.is_empty() {
            let n = rest.len().min(self.block_len - self.fill);
            let (chunk, tail) = rest.split_at(n);
            self.accumulate(chunk);
            rest = tail;
            if self.fill == self.block_len {
                self.finish_block();
            }
        }
    }

    fn accumulate(&mut self, mut chunk: &[[f32; 2]]) {
        // Head, one by one, until the lane index is back at 0.
        while !self.fill.is_multiple_of(4) && !chunk.is_empty() {
            self.lanes.add(self.fill % 4, chunk[0]);
            self.fill += 1;
            chunk = &chunk[1..];
        }
        let mut quads = chunk.chunks_exact(4);
        for q in &mut quads {
            self.lanes.add4(q);
        }
        self.fill += chunk.len() - quads.remainder().len();
        for (lane, f) in quads.remainder().iter().enumerate() {
            self.lanes.add(lane, *f);
        }
        self.fill += quads.remainder().len();
    }

    fn finish_block(&mut self) {
        let s = self.lanes.sums(self.fill);
        self.total.add(&s);
        self.ring[self.head] = s;
        self.head = (self.head + 1) % SUB_BLOCKS;
        self.completed = (self.completed + 1).min(SUB_BLOCKS);
        self.lanes = Lanes::default();
        self.fill = 0;
    }

    /// The sums over the current sliding window.
    pub fn window_sums(&self) -> StereoSums {
        let mut s = self.lanes.sums(self.fill);
        // Newest completed sub-blocks first; `head` is the oldest.
        for k in 1..=self.completed {
            let idx = (self.head + SUB_BLOCKS - k) % SUB_BLOCKS;
            if k == SUB_BLOCKS {
                // The oldest block counts for the part of the window the partial block leaves.
                let w = (self.block_len - self.fill) as f64 / self.block_len as f64;
                s.add_scaled(&self.ring[idx], w);
            } else {
                s.add(&self.ring[idx]);
            }
        }
        s
    }

    /// The sums over everything since the start or the last [`reset`](Self::reset).
    pub fn total_sums(&self) -> StereoSums {
        let mut s = self.total;
        s.add(&self.lanes.sums(self.fill));
        s
    }

    /// Phase correlation over the sliding window, −1 ..= 1 (silence reads 0).
    pub fn correlation(&self) -> f64 {
        self.window_sums().correlation()
    }

    /// Phase correlation over the whole signal so far (energy weighted), −1 ..= 1 (silence
    /// reads 0).
    pub fn average_correlation(&self) -> f64 {
        self.total_sums().correlation()
    }

    /// Stereo balance over the sliding window, in dB: `10 log10(E_L / E_R)`, positive when the
    /// left channel is louder (silence reads 0).
    pub fn balance_db(&self) -> f64 {
        self.window_sums().balance_db()
    }

    /// Stereo balance over the whole signal so far, in dB (positive: left louder).
    pub fn average_balance_db(&self) -> f64 {
        self.total_sums().balance_db()
    }

    /// Mid-to-side energy ratio over the sliding window, in dB (see
    /// [`StereoSums::mid_side_ratio_db`]).
    pub fn mid_side_ratio_db(&self) -> f64 {
        self.window_sums().mid_side_ratio_db()
    }

    /// Mid-to-side energy ratio over the whole signal so far, in dB.
    pub fn average_mid_side_ratio_db(&self) -> f64 {
        self.total_sums().mid_side_ratio_db()
    }

    /// Number of frames measured since the start or the last reset.
    pub fn frames(&self) -> u64 {
        self.total_sums().frames as u64
    }
}
