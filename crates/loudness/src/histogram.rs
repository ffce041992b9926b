//! Gating histograms: bounded memory, exact energy sums per bin.

use core::fmt;

/// Width of a histogram bin, LU.
pub const BIN_LU: f64 = 0.01;
/// Lower edge of the histogram: the BS.1770-4 absolute gate, LUFS (blocks at or below it are
/// dropped).
pub const FLOOR_LUFS: f64 = -70.0;
/// Upper edge of the finely binned range, LUFS. Louder blocks share the top bin (still with
/// their exact energies).
pub const CEILING_LUFS: f64 = 10.0;
/// Number of bins (the meter keeps two histograms).
pub const BINS: usize = ((CEILING_LUFS - FLOOR_LUFS) / BIN_LU + 0.5) as usize;

/// Loudness of a mean-square energy `e`, LUFS (BS.1770-4 eq. 2): `-0.691 + 10 log10 e`; `-inf`
/// for zero.
#[inline]
pub(crate) fn energy_to_lufs(e: f64) -> f64 {
    if e > 0.0 {
        -0.691 + 10.0 * libm::log10(e)
    } else {
        f64::NEG_INFINITY
    }
}

/// Sub-bin resolution of the lowest and highest loudness recorded per bin.
const SUB_STEPS: f64 = 256.0;

/// A histogram of block loudness in [`BIN_LU`] bins from [`FLOOR_LUFS`] to [`CEILING_LUFS`]
/// that keeps, per bin, the count, the **exact sum of the blocks' energies** and where in the
/// bin its quietest and loudest blocks lie (to 1/256 of a bin). Means over whole bins are
/// therefore exact; a gate that cuts a bin is exact when it passes outside the bin's recorded
/// span (e.g. a steady tone: all its blocks sit at one point), and otherwise splits the span
/// in proportion.
#[derive(Clone)]
pub(crate) struct Histogram {
    count: [u32; BINS],
    energy: [f64; BINS],
    /// Sub-bin position (0 ..= 255) of the quietest and the loudest block of each bin.
    low: [u8; BINS],
    high: [u8; BINS],
    blocks: u64,
    total: f64,
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("blocks", &self.blocks)
            .field("total_energy", &self.total)
            .finish_non_exhaustive()
    }
}

impl Histogram {
    pub(crate) const fn new() -> Self {
        Self {
            count: [0; BINS],
            energy: [0.0; BINS],
            low: [u8::MAX; BINS],
            high: [0; BINS],
            blocks: 0,
            total: 0.0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.count = [0; BINS];
        self.energy = [0.0; BINS];
        self.low = [u8::MAX; BINS];
        self.high = [0; BINS];
        self.blocks = 0;
        self.total = 0.0;
    }

    /// Bin index and position within the bin (in 1/256 steps, not clamped) of `lufs`.
    #[inline]
    fn locate(lufs: f64) -> (usize, f64) {
        let pos = (lufs - FLOOR_LUFS) / BIN_LU;
        let b = (libm::floor(pos).max(0.0) as usize).min(BINS - 1);
        (b, (pos - b as f64) * SUB_STEPS)
    }

    /// Blocks above the absolute gate.
    pub(crate) fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Adds a block of mean-square energy `e`; blocks at or below -70 LUFS (the absolute gate,
    /// BS.1770-4 §5.1) are dropped.
    #[inline]
    pub(crate) fn add(&mut self, e: f64) {
        let l = energy_to_lufs(e);
        if l.is_nan() || l <= FLOOR_LUFS {
            return;
        }
        let (b, sub) = Self::locate(l);
        let sub = sub.clamp(0.0, SUB_STEPS - 1.0) as u8;
        self.low[b] = self.low[b].min(sub);
        self.high[b] = self.high[b].max(sub);
        self.count[b] = self.count[b].saturating_add(1);
        self.energy[b] += e;
        self.blocks += 1;
        self.total += e;
    }

    /// Adds every block of `other`.
    pub(crate) fn merge(&mut self, other: &Self) {
        for (c, o) in self.count.iter_mut().zip(other.count.iter()) {
            *c = c.saturating_add(*o);
        }
        for (e, o) in self.energy.iter_mut().zip(other.energy.iter()) {
            *e += *o;
        }
        for (l, o) in self.low.iter_mut().zip(other.low.iter()) {
            *l = (*l).min(*o);
        }
        for (h, o) in self.high.iter_mut().zip(other.high.iter()) {
            *h = (*h).max(*o);
        }
        self.blocks += other.blocks;
        self.total += other.total;
    }

    /// Where a gate at `gate_lufs` cuts the bins: `(first bin wholly above, estimated fraction
    /// of the blocks of the bin below it that lie above the gate)`. The fraction is exact
    /// (0.0 or 1.0) when the gate passes outside the span of that bin's blocks, else it
    /// assumes them spread evenly over the span.
    fn cut(&self, gate_lufs: f64) -> (usize, f64) {
        if gate_lufs.is_nan() || gate_lufs <= FLOOR_LUFS {
            return (0, 0.0);
        }
        let (b, sub) = Self::locate(gate_lufs);
        if b == BINS - 1 {
            // The top bin is open-ended: keep it whole.
            return (BINS - 1, 0.0);
        }
        if self.count[b] == 0 {
            return (b + 1, 0.0);
        }
        let low = f64::from(self.low[b]);
        let high = f64::from(self.high[b]) + 1.0;
        let frac = ((high - sub) / (high - low)).clamp(0.0, 1.0);
        (b + 1, frac)
    }

    /// Mean energy of the blocks above the relative gate `offset_lu` below the mean energy of
    /// all blocks (BS.1770-4 §5.1 uses -10 LU); `None` without blocks.
    pub(crate) fn gated_mean(&self, offset_lu: f64) -> Option<f64> {
        if self.blocks == 0 {
            return None;
        }
        let gate = energy_to_lufs(self.total / self.blocks as f64) + offset_lu;
        let (first, frac) = self.cut(gate);
        let mut n = 0u64;
        let mut e = 0.0;
        for (c, s) in self.count[first..].iter().zip(&self.energy[first..]) {
            n += u64::from(*c);
            e += *s;
        }
        let (mut n, mut e) = (n as f64, e);
        if first > 0 && frac > 0.0 {
            n += frac * f64::from(self.count[first - 1]);
            e += frac * self.energy[first - 1];
        }
        (n > 0.0).then(|| e / n)
    }

    /// EBU Tech 3342 loudness range of the blocks (short-term values): relative gate 20 LU
    /// below their energy mean, then the 95th minus the 10th percentile, as in the Tech 3342
    /// reference implementation (sorted values, 0-based index `round((n - 1) p)`). Each value
    /// is represented by its bin's mean energy. 0.0 with fewer than two gated values.
    pub(crate) fn loudness_range(&self) -> f64 {
        if self.blocks == 0 {
            return 0.0;
        }
        let gate = energy_to_lufs(self.total / self.blocks as f64) - 20.0;
        let (first, frac) = self.cut(gate);
        // Of the bin the gate cuts, the (estimated) values above the gate are its loudest.
        let (cut_bin, cut_count) = match first.checked_sub(1) {
            Some(b) => (b, libm::round(frac * f64::from(self.count[b])) as u64),
            None => (0, 0),
        };
        let n: u64 = cut_count
            + self.count[first..]
                .iter()
                .map(|&c| u64::from(c))
                .sum::<u64>();
        if n < 2 {
            return 0.0;
        }
        let rank = |p: f64| libm::floor((n - 1) as f64 * p + 0.5) as u64;
        let bin_value = |b: usize| energy_to_lufs(self.energy[b] / f64::from(self.count[b]));
        let value_at = |rank: u64| {
            if rank < cut_count {
                return bin_value(cut_bin);
            }
            let mut seen = cut_count;
            for (i, &c) in self.count[first..].iter().enumerate() {
                seen += u64::from(c);
                if seen > rank {
                    return bin_value(first + i);
                }
            }
            f64::NEG_INFINITY
        };
        (value_at(rank(0.95)) - value_at(rank(0.10))).max(0.0)
    }
}
