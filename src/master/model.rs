//! A cheap model of the limiter's loudness loss, so the mastering gain is found in one pass.
//!
//! Pushing a mix into a true-peak limiter makes it louder by less than the gain added: the
//! limiter takes some of it back. To hit the target after the limiter without rendering the
//! whole chain several times, the model pass feeds this model with the signal that will reach
//! the limiter (after the chain's earlier stages) and evaluates, for a grid of candidate gains
//! at once, what the limiter would do:
//!
//! - the signal is summarised in chunks of [`CHUNK`] frames: the chunk's true peak and its
//!   K-weighted energy (BS.1770-4 channel weights), and what the limiter's bass detector
//!   ([`lathe_dynamics::BassDetector`]) holds: the peak, as far as the low-passed level
//!   accounts for it, held for the bass hold (without it the model read about 12 % less loss
//!   than the limiter on bass-carrying music, 0.12 LU at -17 → -9 LUFS);
//! - per candidate gain `g`, a decimated limiter envelope is simulated as the limiter makes
//!   it: required gain `min(1, ceiling / (g * peak))`, held over the lookahead, averaged over
//!   the lookahead (the straight glide that reaches the reduction when the peak arrives),
//!   then released exponentially in the linear gain domain;
//! - each chunk's energy is weighted by the envelope squared, summed into 100 ms gating
//!   sub-blocks, 400 ms blocks with 75 % overlap, and gated as BS.1770-4 §5.1 does, from a
//!   histogram of 0.02 LU bins (bounded memory for any length).
//!
//! The model's limiter loss `Δ(g) = L_limited(g) - L_unlimited(g)` (both computed by the model,
//! so gating and binning errors cancel) is added to the exact loudness measured before the
//! limiter. The model aims where the limiter does (its true-peak margin under the ceiling) and
//! holds peaks as long as it does (its effective lookahead, on its 8-frame gain grid). What
//! remains is the difference between the decimated envelope and the real limiter: measured on
//! synthesised music, first renders land within 0.02 LU of the target also when pushed from
//! -17 to -9 LUFS (0.9-1.7 LU of limiter loss), and about 0.4 LU short where the
//! target is barely reachable (the loudness hardly grows with more gain, -14 to -8 LUFS on
//! the same music). The render pass measures the real output and the mastering job re-renders
//! with a corrected gain when the miss exceeds its tolerance (see `Mastering`).

/// Frames per model chunk.
pub const CHUNK: usize = 32;
const BIN_LU: f64 = 0.02;
const HIST_MIN: f64 = -70.0;
const HIST_MAX: f64 = 10.0;
const BINS: usize = ((HIST_MAX - HIST_MIN) / BIN_LU) as usize;

#[derive(Debug, Clone)]
struct GateHistogram {
    count: Vec<u32>,
    energy: Vec<f64>,
}

impl GateHistogram {
    fn new() -> Self {
        Self {
            count: vec![0; BINS],
            energy: vec![0.0; BINS],
        }
    }

    fn add(&mut self, mean_energy: f64) {
        if mean_energy <= 0.0 {
            return;
        }
        let l = -0.691 + 10.0 * mean_energy.log10();
        if l <= HIST_MIN {
            return; // absolute gate, BS.1770-4 §5.1
        }
        let bin = (((l - HIST_MIN) / BIN_LU) as usize).min(BINS - 1);
        self.count[bin] += 1;
        self.energy[bin] += mean_energy;
    }

    /// Gated integrated loudness in LUFS (`-inf` when no block passes).
    fn integrated(&self) -> f64 {
        let (n, e) = self
            .count
            .iter()
            .zip(&self.energy)
            .fold((0u64, 0.0), |(n, e), (&c, &s)| (n + u64::from(c), e + s));
        if n == 0 {
            return f64::NEG_INFINITY;
        }
        let rel = -0.691 + 10.0 * (e / n as f64).log10() - 10.0;
        let first = (((rel - HIST_MIN) / BIN_LU).max(0.0) as usize).min(BINS);
        let (n, e) = self.count[first..]
            .iter()
            .zip(&self.energy[first..])
            .fold((0u64, 0.0), |(n, e), (&c, &s)| (n + u64::from(c), e + s));
        if n == 0 {
            f64::NEG_INFINITY
        } else {
            -0.691 + 10.0 * (e / n as f64).log10()
        }
    }
}

/// The simulated limiters, one per candidate gain, as parallel arrays (so the per-chunk update
/// is one vectorisable loop over the candidates).
#[derive(Debug, Clone)]
struct Candidates {
    /// The inverse and the square of each linear gain.
    inv_gain: Vec<f64>,
    gain_sq: Vec<f64>,
    /// The simulated limiter's gain.
    envelope: Vec<f64>,
    /// The held required gains of the last `span` chunks (the attack's average), row by row
    /// (`span` rows of one value per candidate), and their sums.
    held: Vec<f64>,
    held_sum: Vec<f64>,
    span: usize,
    /// Energy of the current 100 ms sub-block and of the three before it.
    sub: [Vec<f64>; 4],
    hist: Vec<GateHistogram>,
}

impl Candidates {
    fn new(gains_db: &[f64], span: usize) -> Self {
        let n = gains_db.len();
        let gain: Vec<f64> = gains_db
            .iter()
            .map(|&g| lathe_core::db_to_gain(g))
            .collect();
        Self {
            inv_gain: gain.iter().map(|g| 1.0 / g).collect(),
            gain_sq: gain.iter().map(|g| g * g).collect(),
            envelope: vec![1.0; n],
            held: vec![1.0; n * span],
            held_sum: vec![span as f64; n],
            span,
            sub: core::array::from_fn(|_| vec![0.0; n]),
            hist: (0..n).map(|_| GateHistogram::new()).collect(),
        }
    }

    /// One chunk: its peak `peak` (before the gains) and energy `energy`; `row` is the ring
    /// row the chunk's held values go to.
    #[inline]
    fn apply(&mut self, ceiling: f64, a: f64, row: usize, peak: f64, energy: f64) {
        // Required gain at candidate gain g: min(1, ceiling / (g peak)) = min(1, r / g).
        let r = if peak > 0.0 {
            ceiling / peak
        } else {
            f64::INFINITY
        };
        let n = self.inv_gain.len();
        let span_inv = 1.0 / self.span as f64;
        let held = &mut self.held[row * n..(row + 1) * n];
        let (sum, env) = (&mut self.held_sum[..n], &mut self.envelope[..n]);
        let (inv, g2, sub) = (
            &self.inv_gain[..n],
            &self.gain_sq[..n],
            &mut self.sub[3][..n],
        );
        // Plain indexed loops over equal-length slices, with compare-selects: they vectorise.
        for i in 0..n {
            let needed = r * inv[i];
            let needed = if needed < 1.0 { needed } else { 1.0 };
            sum[i] += needed - held[i];
            held[i] = needed;
            let smoothed = sum[i] * span_inv;
            let smoothed = if smoothed < 1.0 { smoothed } else { 1.0 };
            let released = 1.0 - (1.0 - env[i]) * a;
            let e = if smoothed < released {
                smoothed
            } else {
                released
            };
            env[i] = e;
            sub[i] += energy * g2[i] * e * e;
        }
    }

    /// The end of a 100 ms sub-block: with `full`, the 400 ms block ending here goes into
    /// each candidate's gating histogram.
    fn end_sub_block(&mut self, block_len: f64, full: bool) {
        for i in 0..self.inv_gain.len() {
            if full {
                let e = self.sub[0][i] + self.sub[1][i] + self.sub[2][i] + self.sub[3][i];
                self.hist[i].add(e / block_len);
            }
        }
        self.sub.rotate_left(1);
        self.sub[3].fill(0.0);
    }
}

/// The largest of the last `window` values pushed (0 before any; the values are peaks, never
/// negative or NaN): a monotonic queue in a ring allocated once, O(1) per push on average
/// where a scan of the window costs `window` comparisons. Exact, so the model's results are
/// those of the scan.
#[derive(Debug, Clone)]
struct RunningMax {
    /// `(index, value)` with values decreasing from the front; `len` of them from `head`.
    ring: Vec<(u64, f64)>,
    head: usize,
    len: usize,
    pushed: u64,
}

impl RunningMax {
    fn new(window: usize) -> Self {
        Self {
            ring: vec![(0, 0.0); window.max(1)],
            head: 0,
            len: 0,
            pushed: 0,
        }
    }

    /// Pushes `v`; returns the largest of the last `window` values (and 0).
    fn push(&mut self, v: f64) -> f64 {
        let cap = self.ring.len();
        // Values not larger than the new one can never be the maximum again.
        while self.len > 0 && self.ring[(self.head + self.len - 1) % cap].1 <= v {
            self.len -= 1;
        }
        // The oldest leaves the window (as long as the ring).
        if self.len > 0 && self.ring[self.head].0 + cap as u64 <= self.pushed {
            self.head = (self.head + 1) % cap;
            self.len -= 1;
        }
        self.ring[(self.head + self.len) % cap] = (self.pushed, v);
        self.len += 1;
        self.pushed += 1;
        self.ring[self.head].1.max(0.0)
    }
}

/// The limiter-loss model (see the module docs).
#[derive(Debug, Clone)]
pub struct LimiterModel {
    gains_db: Vec<f64>,
    candidates: Candidates,
    /// Energy of the current sub-block and the three before it without the limiter, and its
    /// gating histogram.
    unlimited_sub: [f64; 4],
    unlimited: GateHistogram,
    ceiling: f64,
    release_coeff: f64,
    hold_chunks: usize,
    /// The bass detector's holds of the last chunks (its hold, in chunks), and where the next
    /// goes.
    bass_hold: RunningMax,
    /// The largest peak of the chunks in the lookahead ring.
    peak_hold: RunningMax,
    ring_energy: Vec<f64>,
    ring_pos: usize,
    chunks_seen: usize,
    // Current chunk.
    chunk_peak: f64,
    /// Largest `min(bass level, peak)` of the chunk's frames.
    chunk_bass: f64,
    /// The chunk's energy in four partial sums, by frame position in the chunk modulo 4 (so
    /// the additions do not wait on each other, and the sum does not depend on how the
    /// frames were split into blocks).
    chunk_energy: [f64; 4],
    chunk_len: usize,
    // Current 100 ms sub-block.
    sub_len: usize,
    sub_frames: usize,
    subs_done: usize,
}

impl LimiterModel {
    /// A model for a limiter with ceiling `ceiling_db` (dBTP), lookahead `lookahead_frames`,
    /// release `release_ms`, whose bass detector holds for `bass_hold_frames`
    /// ([`lathe_dynamics::BassDetector::hold_frames`]), at `sample_rate` Hz, evaluated at
    /// each of `gains_db`.
    pub fn new(
        sample_rate: f64,
        ceiling_db: f64,
        lookahead_frames: usize,
        release_ms: f64,
        bass_hold_frames: usize,
        gains_db: &[f64],
    ) -> Self {
        let hold_chunks = lookahead_frames.div_ceil(CHUNK);
        let span = hold_chunks.max(1);
        Self {
            gains_db: gains_db.to_vec(),
            candidates: Candidates::new(gains_db, span),
            unlimited_sub: [0.0; 4],
            unlimited: GateHistogram::new(),
            ceiling: lathe_core::db_to_gain(ceiling_db),
            release_coeff: lathe_core::one_pole_coeff(release_ms, sample_rate / CHUNK as f64),
            hold_chunks,
            bass_hold: RunningMax::new(bass_hold_frames.div_ceil(CHUNK).max(1)),
            peak_hold: RunningMax::new(hold_chunks + 1),
            ring_energy: vec![0.0; hold_chunks + 1],
            ring_pos: 0,
            chunks_seen: 0,
            chunk_peak: 0.0,
            chunk_bass: 0.0,
            chunk_energy: [0.0; 4],
            chunk_len: 0,
            sub_len: (sample_rate * 0.1).round() as usize,
            sub_frames: 0,
            subs_done: 0,
        }
    }

    /// Feeds one frame: its true peak (linear, max over channels), its K-weighted,
    /// channel-weighted energy (sum of `G_i * z_i^2`, BS.1770-4 §2) and the limiter's bass
    /// detector level after it ([`lathe_dynamics::BassDetector::push`]). The same as
    /// [`push_block`](Self::push_block) with one frame.
    #[inline]
    pub fn push(&mut self, true_peak: f32, k_energy: f64, bass_level: f32) {
        self.push_block(&[[true_peak]], &[k_energy], &[bass_level]);
    }

    /// Feeds a block of frames: per frame, the true peak of each channel (linear), the
    /// K-weighted, channel-weighted energy (BS.1770-4 §2) and the bass detector's level. The
    /// result does not depend on how the frames are split into blocks.
    pub fn push_block<const CH: usize>(
        &mut self,
        true_peaks: &[[f32; CH]],
        k_energies: &[f64],
        bass_levels: &[f32],
    ) {
        let n = true_peaks
            .len()
            .min(k_energies.len())
            .min(bass_levels.len());
        let mut i = 0;
        while i < n {
            let take = (CHUNK - self.chunk_len)
                .min(self.sub_len - self.sub_frames)
                .min(n - i);
            let (mut m, mut b) = (0.0f32, 0.0f32);
            for (p, &bass) in true_peaks[i..i + take]
                .iter()
                .zip(&bass_levels[i..i + take])
            {
                let p = p.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
                m = if p > m { p } else { m };
                let held = if bass < p { bass } else { p };
                b = if held > b { held } else { b };
            }
            self.chunk_peak = self.chunk_peak.max(f64::from(m));
            self.chunk_bass = self.chunk_bass.max(f64::from(b));
            let mut e = &k_energies[i..i + take];
            let mut lane = self.chunk_len % 4;
            while lane != 0 && !e.is_empty() {
                self.chunk_energy[lane] += e[0];
                e = &e[1..];
                lane = (lane + 1) % 4;
            }
            let mut quads = e.chunks_exact(4);
            for q in &mut quads {
                for (acc, &v) in self.chunk_energy.iter_mut().zip(q) {
                    *acc += v;
                }
            }
            for (acc, &v) in self.chunk_energy.iter_mut().zip(quads.remainder()) {
                *acc += v;
            }
            self.chunk_len += take;
            self.sub_frames += take;
            i += take;
            let sub_end = self.sub_frames == self.sub_len;
            if self.chunk_len == CHUNK || sub_end {
                self.flush_chunk();
            }
            if sub_end {
                self.end_sub_block();
            }
        }
    }

    fn flush_chunk(&mut self) {
        // The chunk entering the ring now is `hold_chunks` ahead of the one leaving it: the
        // leaving chunk is attenuated for every peak up to `hold_chunks` chunks later.
        // The bass detector's hold trails the peaks (the limiter holds a bass crest for the
        // hold after it); the lookahead ring then spreads the larger of the two ahead.
        let bass = self.bass_hold.push(self.chunk_bass);
        let len = self.ring_energy.len();
        let peak = self.peak_hold.push(self.chunk_peak.max(bass));
        let [a, b, c, d] = self.chunk_energy;
        self.ring_energy[self.ring_pos] = (a + b) + (c + d);
        self.ring_pos = (self.ring_pos + 1) % len;
        self.chunks_seen += 1;
        self.chunk_peak = 0.0;
        self.chunk_bass = 0.0;
        self.chunk_energy = [0.0; 4];
        self.chunk_len = 0;
        if self.chunks_seen <= self.hold_chunks {
            return;
        }
        // Oldest entry is at ring_pos (just overwritten positions wrap around).
        let energy = self.ring_energy[self.ring_pos];
        self.apply(peak, energy);
    }

    fn apply(&mut self, peak: f64, energy: f64) {
        let row = self.chunks_seen % self.candidates.span;
        self.candidates
            .apply(self.ceiling, self.release_coeff, row, peak, energy);
        self.unlimited_sub[3] += energy;
    }

    fn end_sub_block(&mut self) {
        self.sub_frames = 0;
        self.subs_done += 1;
        let block_len = (4 * self.sub_len) as f64;
        let full = self.subs_done >= 4;
        self.candidates.end_sub_block(block_len, full);
        if full {
            self.unlimited
                .add(self.unlimited_sub.iter().sum::<f64>() / block_len);
        }
        self.unlimited_sub.rotate_left(1);
        self.unlimited_sub[3] = 0.0;
    }

    /// Flushes the lookahead ring at the end of the signal (the last chunks are attenuated by
    /// the peaks they have seen). Call once after the last `push`.
    pub fn finish(&mut self) {
        if self.chunk_len > 0 {
            self.flush_chunk();
        }
        for _ in 0..self.hold_chunks.min(self.chunks_seen) {
            self.flush_chunk();
        }
    }

    /// The candidate gains in dB.
    pub fn gains_db(&self) -> &[f64] {
        &self.gains_db
    }

    /// Model loss of the limiter at each candidate gain, in LU (≤ 0): limited minus unlimited
    /// integrated loudness. `None` where the signal is silent.
    pub fn losses_lu(&self) -> Vec<Option<f64>> {
        let base = self.unlimited.integrated();
        self.candidates
            .hist
            .iter()
            .zip(&self.gains_db)
            .map(|(h, &g)| {
                let l = h.integrated();
                (l.is_finite() && base.is_finite()).then_some(l - (base + g))
            })
            .collect()
    }

    /// Solves for the gain whose *modelled* output loudness equals `target_lufs` (the model's
    /// own unlimited loudness is its reference; it is within the 0.02 LU gating-bin width of
    /// an exact BS.1770 measurement). Returns `(gain_db, slope)` as [`solve`](Self::solve).
    pub fn solve_absolute(&self, target_lufs: f64) -> Option<(f64, f64)> {
        let base = self.unlimited.integrated();
        self.solve(base, target_lufs)
    }

    /// The modelled output loudness (LUFS) against the gain in front of the limiter (dB), one
    /// point per candidate gain, ascending in gain; empty for silence.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        let base = self.unlimited.integrated();
        if !base.is_finite() {
            return Vec::new();
        }
        self.gains_db
            .iter()
            .zip(self.losses_lu())
            .filter_map(|(&g, l)| l.map(|l| (g, base + g + l)))
            .collect()
    }

    /// Solves `measured_lufs + g + loss(g) = target_lufs` for `g` (dB) by linear interpolation
    /// between the candidates. `measured_lufs` is the exact integrated loudness of the signal
    /// that reaches the limiter. Returns `(gain_db, slope)` where `slope = dL_out/dg` near the
    /// solution (for corrections); `None` if the signal is silent.
    pub fn solve(&self, measured_lufs: f64, target_lufs: f64) -> Option<(f64, f64)> {
        let losses = self.losses_lu();
        let pts: Vec<(f64, f64)> = self
            .gains_db
            .iter()
            .zip(&losses)
            .filter_map(|(&g, l)| l.map(|l| (g, measured_lufs + g + l)))
            .collect();
        if pts.is_empty() || !measured_lufs.is_finite() {
            return None;
        }
        for w in pts.windows(2) {
            let ((g0, l0), (g1, l1)) = (w[0], w[1]);
            if (l0 - target_lufs) * (l1 - target_lufs) <= 0.0 && l1 != l0 {
                let t = (target_lufs - l0) / (l1 - l0);
                return Some((g0 + t * (g1 - g0), (l1 - l0) / (g1 - g0)));
            }
        }
        // Outside the grid: extrapolate from the nearest end.
        let (a, b) = if target_lufs < pts[0].1 || pts.len() == 1 {
            (pts[0], *pts.get(1).unwrap_or(&pts[0]))
        } else {
            (pts[pts.len() - 2], pts[pts.len() - 1])
        };
        let slope = if b.0 != a.0 {
            ((b.1 - a.1) / (b.0 - a.0)).max(0.05)
        } else {
            1.0
        };
        let near = if target_lufs < pts[0].1 { a } else { b };
        Some((near.0 + (target_lufs - near.1) / slope, slope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running maximum equals a scan of the last `window` values (and 0), for windows of
    /// one to past the length, on rising, falling and random runs.
    #[test]
    fn running_max_equals_the_scan() {
        let mut seed = 11u32;
        let mut values: Vec<f64> = (0..3_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                f64::from(seed >> 8) / f64::from(1u32 << 24)
            })
            .collect();
        values.extend((0..200).map(f64::from));
        values.extend((0..200).rev().map(f64::from));
        values.extend([0.5; 50]);
        for window in [1, 2, 3, 31, 38, 500, 5_000] {
            let mut m = RunningMax::new(window);
            for (i, &v) in values.iter().enumerate() {
                let want = values[(i + 1).saturating_sub(window)..=i]
                    .iter()
                    .fold(0.0f64, |a, &b| a.max(b));
                assert_eq!(
                    m.push(v).to_bits(),
                    want.to_bits(),
                    "window {window}, at {i}"
                );
            }
        }
    }

    #[test]
    fn no_limiting_below_the_ceiling_and_loss_grows_with_gain() {
        let fs = 48_000.0;
        let grid: Vec<f64> = (0..25).map(|k| -6.0 + 0.5 * k as f64).collect();
        let mut m = LimiterModel::new(fs, -1.0, 96, 80.0, 1_200, &grid);
        // A sine with peaks at -6 dBFS: no loss until the gain exceeds +5 dB.
        for n in 0..(fs as usize * 5) {
            let x = 0.5 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / fs).sin();
            m.push(0.5, x * x, 0.0);
        }
        m.finish();
        let losses = m.losses_lu();
        for (g, l) in grid.iter().zip(&losses) {
            let l = l.unwrap();
            if *g <= 4.9 {
                assert!(l.abs() < 1e-6, "gain {g}: loss {l}");
            } else {
                // A constant-envelope sine is simply turned down to the ceiling.
                let want = -1.0 - (-6.0206 + g);
                assert!((l - want).abs() < 0.05, "gain {g}: loss {l} want {want}");
            }
        }
        let (g, slope) = m.solve(-9.0, -10.0).unwrap();
        assert!(
            (g + 1.0).abs() < 1e-9 && (slope - 1.0).abs() < 1e-9,
            "{g} {slope}"
        );
    }
}
