//! The limiter's true-peak detector: 8x oversampling built from a long half-band interpolator
//! (2x) followed by the shared BS.1770-4 Annex 2 [`TruePeakDetector`] (4x of the 2x stream).
//!
//! Why not the Annex 2 detector alone: its 12-tap interpolator is short, so it under-reads
//! transients with content near Nyquist (abrupt onsets, naive square waves, full-band noise)
//! by up to about 2 dB against a long 8x reference, and its 4x grid under-reads a peak midway
//! between grid points (up to 0.55 dB at 0.45 fs, BS.1770-4 Annex 2). A limiter that promises
//! a ceiling needs a reading at least as high as any meter's. Here the half-band stage (127 taps,
//! 64 non-zero per output — the span of the 64-tap reference —, Kaiser β = 8) computes the
//! mid-points with near-ideal accuracy up to close to Nyquist; the 2x stream then only holds content below a quarter of its rate, where
//! the Annex 2 interpolator does not droop, and reading it at 4x gives the 8x grid (every 1/8
//! frame) of reference meters (the remaining grid term, at most 0.17 dB at the base rate's
//! Nyquist, is the same for any 8x meter). Measured against the independent 64-tap 8x check of
//! `lathe-testkit` on abrupt, full-band signals it reads within about 0.05 dB below and
//! 0.2 dB above it (tested).
//!
//! The reading is also never below the loudness meter's: a second Annex 2 detector runs on the
//! base-rate signal itself (at 4x), and each frame's reading is the larger of the two. (From
//! 96 kHz on a meter reads 2x with 24-tap phases: every point of its grid is also on the 8x
//! grid, where the half-band stage is at least as accurate, so the 8x reading covers it; the
//! limiter tests meter the output at 44.1, 48 and 96 kHz.) The short Annex 2
//! interpolator can read full-band content (white-noise hi-hats after heavy limiting) a few
//! tenths of a dB *above* the 8x value; taking the maximum keeps the limiter's output at or
//! under the ceiling as `lathe-loudness` meters it too, so the limiter and the meter agree.
//!
//! Most of the time a limiter only needs to know that a reading is under its ceiling, so the
//! detector takes a threshold and skips, exactly, the blocks whose readings provably cannot
//! exceed it (see [`TruePeak8x`]): the L1 norm of each FIR stage bounds its output by the
//! peak of its input.

use crate::oversampling::{fir_symmetric, half_band_taps};
use lathe_core::true_peak::{DETECTOR_DELAY, DETECTOR_DELAY_2X};
use lathe_core::TruePeakDetector;

/// `K` of the half-band stage (`4K + 3` taps).
const K: usize = 31;
/// Non-zero taps of the half-band's interpolating branch.
const TAPS: usize = 2 * K + 2;
/// Kaiser β of the half-band stage.
const BETA: f64 = 8.0;

/// Delay of [`TruePeak8x::push`] in frames: the reading returned when frame `n` is pushed
/// covers the neighbourhood of frame `n - DELAY`.
pub const TRUE_PEAK_8X_DELAY: usize = K + DETECTOR_DELAY / 2 + 1;

// The derivation of the delay assumes the Annex 2 detector's delay is a whole number of frames
// at half the 2x rate. (The half-band centres the 2x sample pushed second on frame `n - K`,
// the Annex 2 detector reports the interval `DETECTOR_DELAY` 2x samples back, and the reading
// spans one frame more on each side.)
const _: () = assert!(DETECTOR_DELAY % 2 == 0);

/// Frames per block of the block engine.
const BLOCK: usize = 64;
/// Input history kept beyond the half-band's own `TAPS - 1` samples, so the block's input span
/// covers everything its readings depend on (the Annex 2 window reaches the mid-point 5 frames
/// before the block, whose half-band taps reach 63 frames further back) and the mid-points of
/// the frames before a short block can be recomputed.
const EXTRA: usize = 8;
/// Input history per channel.
const HIST: usize = TAPS - 1 + EXTRA;
/// 2x samples an Annex 2 window (4x) holds besides the newest one.
const ANNEX2_KEEP: usize = 2 * DETECTOR_DELAY - 1;
/// Base-rate samples the meter's window holds besides the newest one, at most (2x from 96 kHz).
const METER_KEEP_MAX: usize = 2 * DETECTOR_DELAY_2X - 1;
/// Offset in the block buffer (history first) of the 2x sample pushed second for frame 0 (the
/// input `K` frames back).
const DIRECT: usize = EXTRA + TAPS - 1 - K;
// The meter's window (fed ahead of the 2x stream by its extra delay) stays inside the buffer.
const _: () = assert!(DIRECT + DETECTOR_DELAY_2X - DETECTOR_DELAY / 2 <= HIST);
const _: () = assert!(DIRECT + DETECTOR_DELAY_2X - DETECTOR_DELAY / 2 >= METER_KEEP_MAX);
/// Mid-points before a block that its Annex 2 windows reach.
const MID_TAIL: usize = DETECTOR_DELAY - 1;

/// An 8x true-peak detector for `CH` channels (see the module docs), linked over channels.
///
/// [`push`](Self::push) returns, for frame `n - TRUE_PEAK_8X_DELAY`, the largest absolute
/// value of the 8x-oversampled signal within 1.5 frames either side of it (both intervals that
/// touch the frame, with half a frame to spare), maximised over the channels.
/// [`push_block`](Self::push_block) does the same for a block, bit-identically, with the
/// half-band filter vectorised across frames.
///
/// # Threshold (exact skipping)
/// A caller that only needs the readings above some level (a limiter: above the level where it
/// starts reducing gain) sets it with [`set_threshold`](Self::set_threshold). Every stage is a
/// linear FIR, so the readings of a block are bounded by the L1 norms of the interpolators
/// times the block's sample peak (over the span its readings depend on); when that bound is at
/// or under the threshold, the block's readings are not computed and the bound (at or under
/// the threshold) is returned instead. The filter histories still advance exactly, so every
/// reading above the threshold is bit-identical to the unskipped one, and every reading at or
/// under it stays at or under it. The check is made twice per block of 64 frames: on the
/// input (skipping everything), and on the half-band's 2x stream (skipping the Annex 2 stages).
/// The default threshold, 0, skips only digital silence, whose readings are exactly 0.
///
/// Non-finite input: everything is FIR, so a NaN or infinity leaves the detector after about 70
/// frames; the limiter replaces non-finite samples before they get here.
#[derive(Debug, Clone)]
pub struct TruePeak8x<const CH: usize> {
    /// Interpolating taps `2 h[2j]`, oldest sample first.
    taps: [f32; TAPS],
    /// Per channel: the last `HIST` input samples.
    hist: [[f32; HIST]; CH],
    annex2: TruePeakDetector<CH>,
    /// The meter's own reading: the Annex 2 detector on the base-rate signal.
    meter: TruePeakDetector<CH>,
    /// Offset in the block buffer of the base-rate sample fed to the meter for frame 0: its
    /// readings (delayed by its latency) land on the same frames as the 8x readings.
    base: usize,
    /// Base-rate samples the meter's window holds besides the newest one.
    meter_keep: usize,
    prev: [f32; 2],
    /// Readings at or under this may be replaced by a bound at or under it.
    threshold: f32,
    /// Bound on every reading from the input peak of its span: Annex 2 bound times the
    /// half-band's L1 norm.
    input_bound: f32,
    /// Bound on every Annex 2 reading from the peak of its window (2x or base-rate samples).
    annex2_bound: f32,
    /// Largest absolute mid-point (over channels) of the last `MID_TAIL` frames, or more.
    mid_tail: f32,
}

impl<const CH: usize> Default for TruePeak8x<CH> {
    fn default() -> Self {
        Self::new()
    }
}

/// Largest absolute value of `x` (NaN ignored), in eight lanes so it vectorises.
#[inline(always)]
fn abs_max(x: &[f32]) -> f32 {
    // `if v > m` (not `f32::max`) compiles to a bare `maxps`: a NaN `v` is ignored.
    #[inline(always)]
    fn keep_max(m: f32, v: f32) -> f32 {
        let v = f32::from_bits(v.to_bits() & 0x7fff_ffff);
        if v > m {
            v
        } else {
            m
        }
    }
    let mut lanes = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = keep_max(*l, v);
        }
    }
    let mut m = 0.0f32;
    for &v in chunks.remainder().iter().chain(lanes.iter()) {
        m = keep_max(m, v);
    }
    m
}

impl<const CH: usize> TruePeak8x<CH> {
    /// A cleared detector for 48 kHz, threshold 0 (see
    /// [`for_sample_rate`](Self::for_sample_rate)).
    pub fn new() -> Self {
        Self::for_sample_rate(48_000.0)
    }

    /// A cleared detector for `sample_rate` Hz, threshold 0. The 8x stage is the same at every
    /// rate; the meter stage interpolates as `lathe-loudness` does at that rate (4x below
    /// 96 kHz, 2x with 24-tap phases below 192 kHz), and 4x from 192 kHz (where a meter reads
    /// the samples only).
    pub fn for_sample_rate(sample_rate: f64) -> Self {
        let mut full = [0.0f64; 4 * K + 3];
        half_band_taps(K, BETA, &mut full);
        let mut taps = [0.0f32; TAPS];
        for j in 0..TAPS {
            taps[TAPS - 1 - j] = (2.0 * full[2 * j]) as f32;
        }
        // The branch is symmetric (the prototype is linear-phase); make it exactly so.
        for j in 0..TAPS / 2 {
            taps[TAPS - 1 - j] = taps[j];
        }
        // 48 kHz makes the Annex 2 detector interpolate 4x, whatever the real rate.
        let annex2 = TruePeakDetector::new(48_000.0);
        let meter = if (96_000.0..192_000.0).contains(&sample_rate) {
            TruePeakDetector::new(sample_rate)
        } else {
            annex2.clone()
        };
        let l1: f64 = taps.iter().map(|&t| libm::fabs(f64::from(t))).sum();
        // The Annex 2 bound already carries a margin; this one covers the rounding of the
        // half-band's 64-term sums (relative 2^-18 at most).
        let annex2_bound = annex2.interval_bound().max(meter.interval_bound());
        let input_bound = (f64::from(annex2_bound) * l1.max(1.0) * 1.001) as f32;
        Self {
            taps,
            hist: [[0.0; HIST]; CH],
            base: DIRECT + meter.latency() - DETECTOR_DELAY / 2,
            meter_keep: 2 * meter.latency() - 1,
            meter,
            annex2,
            prev: [0.0; 2],
            threshold: 0.0,
            input_bound,
            annex2_bound,
            mid_tail: 0.0,
        }
    }

    /// Clears the state (the threshold is kept).
    pub fn reset(&mut self) {
        self.hist = [[0.0; HIST]; CH];
        self.annex2.reset();
        self.meter.reset();
        self.prev = [0.0; 2];
        self.mid_tail = 0.0;
    }

    /// Sets the level (linear amplitude) at or under which readings may be replaced by a
    /// bound at or under it (see the type docs). Negative or NaN values mean 0.
    pub fn set_threshold(&mut self, threshold: f32) {
        self.threshold = if threshold > 0.0 { threshold } else { 0.0 };
    }

    /// The threshold in use (linear amplitude).
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Pushes one frame; returns the linked 8x peak around frame `n - TRUE_PEAK_8X_DELAY`
    /// (linear amplitude).
    pub fn push(&mut self, frame: &[f32; CH]) -> f32 {
        let mut out = [0.0f32];
        self.push_block(core::slice::from_ref(frame), &mut out);
        out[0]
    }

    /// Pushes `frames`; `out[i]` receives what [`push`](Self::push) would return for
    /// `frames[i]`. Only the first `min(frames.len(), out.len())` frames are pushed.
    pub fn push_block(&mut self, frames: &[[f32; CH]], out: &mut [f32]) {
        let n = frames.len().min(out.len());
        for (block, out) in frames[..n].chunks(BLOCK).zip(out[..n].chunks_mut(BLOCK)) {
            self.run(block, out);
        }
    }

    /// Fills the block's readings with `bound` (at or under the threshold, and at least every
    /// reading it replaces).
    #[inline(always)]
    fn fill_bound(&mut self, bound: f32, out: &mut [f32]) {
        let r = bound.max(self.prev[0]).max(self.prev[1]);
        out.fill(r);
        self.prev = [bound, bound];
    }

    #[inline(always)]
    fn run(&mut self, frames: &[[f32; CH]], out: &mut [f32]) {
        let n = frames.len();
        if n == 0 {
            return;
        }
        let half = &self.taps[..TAPS / 2];
        let mut bufs = [[0.0f32; HIST + BLOCK]; CH];
        // Sample peak of the whole span (history included), over the channels.
        let mut raw = 0.0f32;
        for (ch, buf) in bufs.iter_mut().enumerate() {
            buf[..HIST].copy_from_slice(&self.hist[ch]);
            for (b, f) in buf[HIST..HIST + n].iter_mut().zip(frames) {
                *b = f[ch];
            }
            raw = raw.max(abs_max(&buf[..HIST + n]));
            self.hist[ch].copy_from_slice(&buf[n..n + HIST]);
        }
        let bound = raw * self.input_bound;
        if bound <= self.threshold {
            // Nothing in this block can reach the threshold: only rebuild the Annex 2
            // histories from the block's last frames (the mid-points of the last
            // `DETECTOR_DELAY` frames, recomputed; `EXTRA` covers a short block).
            let mut stream = [[0.0f32; CH]; 2 * DETECTOR_DELAY];
            let mut base = [[0.0f32; CH]; METER_KEEP_MAX];
            let base = &mut base[..self.meter_keep];
            let mut tail = 0.0f32;
            for (ch, buf) in bufs.iter().enumerate() {
                let first = EXTRA + n - DETECTOR_DELAY;
                let mut mid = [0.0f32; DETECTOR_DELAY];
                crate::oversampling::fir_symmetric(half, &buf[first..], &mut mid);
                for (j, &m) in mid.iter().enumerate() {
                    stream[2 * j][ch] = m;
                    stream[2 * j + 1][ch] = buf[DIRECT + n - DETECTOR_DELAY + j];
                }
                tail = tail.max(abs_max(&mid[DETECTOR_DELAY - MID_TAIL..]));
                for (j, b) in base.iter_mut().enumerate() {
                    b[ch] = buf[self.base + n - self.meter_keep + j];
                }
            }
            self.annex2.advance(&stream);
            self.meter.advance(base);
            self.mid_tail = tail;
            self.fill_bound(bound, out);
            return;
        }
        // The 2x stream per channel: for each frame, the mid-point before it and the sample K
        // frames back. (The base-rate samples for the meter are a slice of the input buffer.)
        let mut stream = [[0.0f32; 2 * BLOCK]; CH];
        // Peak of everything the Annex 2 windows of this block read.
        let mut peak2x = self.mid_tail;
        let mut tail = if n < MID_TAIL { self.mid_tail } else { 0.0 };
        for (buf, stream) in bufs.iter().zip(stream.iter_mut()) {
            // Half-band branch, vectorised across frames: mid[i] = sum_j taps[j] buf[i + j].
            let mut mid = [0.0f32; BLOCK];
            fir_symmetric(half, &buf[EXTRA..], &mut mid[..n]);
            for (pair, (&m, &d)) in stream
                .chunks_exact_mut(2)
                .zip(mid[..n].iter().zip(&buf[DIRECT..DIRECT + n]))
            {
                pair[0] = m;
                pair[1] = d;
            }
            peak2x = peak2x
                .max(abs_max(&mid[..n]))
                .max(abs_max(&buf[self.base - self.meter_keep..self.base + n]))
                .max(abs_max(&buf[DIRECT - DETECTOR_DELAY..DIRECT + n]));
            tail = tail.max(abs_max(&mid[n.saturating_sub(MID_TAIL)..n]));
        }
        self.mid_tail = tail;
        let bound = peak2x * self.annex2_bound;
        let streams: [&[f32]; CH] = core::array::from_fn(|ch| &stream[ch][..2 * n]);
        let bases: [&[f32]; CH] = core::array::from_fn(|ch| &bufs[ch][self.base..self.base + n]);
        if bound <= self.threshold {
            let mut frames2x = [[0.0f32; CH]; ANNEX2_KEEP];
            let mut frames1x = [[0.0f32; CH]; METER_KEEP_MAX];
            let (k2, k1) = ((2 * n).min(ANNEX2_KEEP), n.min(self.meter_keep));
            for ch in 0..CH {
                for (f, &v) in frames2x.iter_mut().zip(&streams[ch][2 * n - k2..]) {
                    f[ch] = v;
                }
                for (f, &v) in frames1x.iter_mut().zip(&bases[ch][n - k1..]) {
                    f[ch] = v;
                }
            }
            self.annex2.advance(&frames2x[..k2]);
            self.meter.advance(&frames1x[..k1]);
            self.fill_bound(bound, out);
            return;
        }
        let mut peaks = [0.0f32; 2 * BLOCK];
        self.annex2
            .push_block_planar_max(streams, &mut peaks[..2 * n]);
        let mut metered = [0.0f32; BLOCK];
        self.meter.push_block_planar_max(bases, &mut metered[..n]);
        for (i, o) in out.iter_mut().enumerate().take(n) {
            let (a, b, m) = (peaks[2 * i], peaks[2 * i + 1], metered[i]);
            let now = if a > b { a } else { b };
            let now = if m > now { m } else { now };
            let p = if self.prev[0] > self.prev[1] {
                self.prev[0]
            } else {
                self.prev[1]
            };
            *o = if p > now { p } else { now };
            self.prev = [now, self.prev[0]];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_where_an_impulse_shows_up() {
        let mut d = TruePeak8x::<1>::new();
        let mut first = None;
        for n in 0..200 {
            let x = if n == 50 { 0.5 } else { 0.0 };
            let p = d.push(&[x]);
            if first.is_none() && p >= 0.5 {
                first = Some(n);
            }
        }
        // The reading around frame 50 covers frames 48.5 ..= 51.5; the first reading that sees
        // the impulse's own value is the one for frame 49 (window up to 50.5).
        assert_eq!(first, Some(49 + TRUE_PEAK_8X_DELAY));
    }

    #[test]
    fn reads_an_intersample_peak() {
        // fs/4 at 45 degrees: samples at 0.707 of the crest.
        let mut d = TruePeak8x::<1>::new();
        let mut m = 0.0f32;
        for n in 0..2000 {
            let x =
                libm::sin(core::f64::consts::FRAC_PI_2 * n as f64 + core::f64::consts::FRAC_PI_4);
            let fade = (n as f64 / 200.0).min(1.0);
            let p = d.push(&[(0.5 * fade * x) as f32]);
            if n > 500 {
                m = m.max(p);
            }
        }
        assert!((m - 0.5).abs() < 0.001, "{m}");
    }

    #[test]
    fn readings_cover_the_meter_of_the_same_rate() {
        // White noise with bursts, so both the skip paths and the full path run; every 8x
        // reading must be at least the rate's own BS.1770-4 meter reading of that frame.
        for fs in [44_100.0, 48_000.0, 96_000.0, 176_400.0, 192_000.0] {
            let mut seed = 7u64;
            let mut x = [[0.0f32; 2]; 3_000];
            for (n, f) in x.iter_mut().enumerate() {
                let g = if (n / 400) % 2 == 0 { 0.9 } else { 0.01 };
                for s in f.iter_mut() {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    *s = g * (((seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0);
                }
            }
            let mut meter = TruePeakDetector::<2>::new(fs);
            let delay = meter.latency();
            let metered: [f32; 3_000] = core::array::from_fn(|i| meter.push_max(&x[i]));
            for threshold in [0.0f32, 0.5] {
                let mut d = TruePeak8x::<2>::for_sample_rate(fs);
                d.set_threshold(threshold);
                let mut got = [0.0f32; 3_000];
                for (c, o) in x.chunks(37).zip(got.chunks_mut(37)) {
                    d.push_block(c, o);
                }
                // The meter's reading pushed with frame m covers frame m - delay; ours pushed
                // with frame n covers frame n - TRUE_PEAK_8X_DELAY.
                for (n, &g) in got.iter().enumerate().skip(TRUE_PEAK_8X_DELAY) {
                    let frame = n - TRUE_PEAK_8X_DELAY;
                    let m = metered[(frame + delay).min(2_999)];
                    if m > threshold {
                        assert!(g >= m, "{fs} Hz frame {frame}: {g} < meter {m}");
                    }
                }
            }
        }
    }
}
