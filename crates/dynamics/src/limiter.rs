//! The lookahead brick-wall limiter, sample-peak or true-peak (ITU-R BS.1770-4 Annex 2).

use crate::true_peak::{TruePeak8x, TRUE_PEAK_8X_DELAY};
use lathe_core::biquad::{low_pass, Biquad};
use lathe_core::{
    db_to_gain, gain_to_db, ms_to_samples, one_pole_coeff, Error, ProcessSpec, Processor, Result,
};

/// Frames between a frame's arrival and its peak reading (both modes, so the latency does not
/// depend on the mode).
const DETECTION_DELAY: usize = TRUE_PEAK_8X_DELAY;
/// Frames replayed into the true-peak detector when true-peak mode is switched on while running.
const REPLAY: usize = 2 * TRUE_PEAK_8X_DELAY + 10;

/// Capacity (frames) of [`MasteringLimiter`]: 20 ms of lookahead at 384 kHz (7680 frames) plus
/// the true-peak detector's delay, rounded up to a power of two.
pub const MASTERING_LIMITER_CAPACITY: usize = 8192;

/// The limiter the mastering chain uses: capacity for up to 20 ms of lookahead at any supported
/// sample rate (up to 384 kHz), [`MASTERING_LIMITER_CAPACITY`] frames.
pub type MasteringLimiter<const CH: usize> = Limiter<CH, MASTERING_LIMITER_CAPACITY>;

/// Corner of the 2nd-order Butterworth low-pass in front of the bass detector, Hz (x42-dpl /
/// zita style); at sample rates under 11 kHz, 0.4 of the detector's reduced rate.
pub const BASS_DETECTOR_HZ: f64 = 500.0;
/// The bass detector holds its peaks as long as the lookahead window times this…
pub const BASS_HOLD_FACTOR: usize = 1;
/// …and at least this long (ms): half a period of 20 Hz, so a bass waveform's own peaks keep
/// the gain down between them instead of modulating it.
pub const BASS_MIN_HOLD_MS: f64 = 25.0;

/// The bass detector runs at `1 / BASS_DECIMATION` of the sample rate: the mean of each
/// group of this many frames (a box filter, whose nulls fall on the frequencies that would
/// alias onto the bass band) goes through the low-pass, and its level holds for the next group.
/// A detector needs no more (its hold is 25 ms or longer; at 48 kHz the low-pass runs at
/// 6 kHz, and what aliases onto its band is at least 21 dB down), and its recursion, which
/// cannot run across frames at once, costs an eighth. It is the gain computer's group.
pub const BASS_DECIMATION: usize = 8;

/// The bass detector holds the full-band peak as long as the low-passed audio reaches at least
/// `1 / BASS_HEADROOM` of it (bass-dominated waveforms, a little treble riding on them
/// included); transients with little bass get only the normal hold.
pub const BASS_HEADROOM: f32 = 1.5;

/// In true-peak mode the limiter aims this far (dB) under the ceiling: the allowance for what an
/// 8x reading cannot see (peaks between its grid points, interpolator differences between
/// meters, and the inter-sample effect of the gain changing under a full-band signal), which
/// the property tests measure at up to about 0.07 dB on full-band noise.
pub const TRUE_PEAK_MARGIN_DB: f64 = 0.05;

/// The gain computer (hold, attack, release) runs once per group of this many frames, and the
/// gain is interpolated linearly between the groups' values. Gain envelopes of a limiter move
/// over milliseconds (the default glide takes 5 ms, 30 groups at 48 kHz), so an eighth of the
/// rate loses nothing audible: at 44.1 kHz and above a group is at most 0.18 ms, and the
/// corners of the interpolated gain leave -106 dB above 12 kHz on the splatter test (-114 dB
/// frame by frame, -76 dB for a naive limiter). The sequential part of the limiter, the one that
/// cannot run across frames at once, costs an eighth, and the true-peak detector only needs
/// each group's largest reading. The groups are counted from `prepare`/`reset`, as the bass
/// detector's are, so the output never depends on the block split.
pub const GAIN_DECIMATION: usize = 8;
const D: usize = GAIN_DECIMATION;
// The bass detector's groups are the gain computer's.
const _: () = assert!(D == BASS_DECIMATION);
/// Groups of the gain computer per [`BLOCK`], at most (a block may complete one more group
/// than it holds whole).
const GROUPS: usize = BLOCK / D + 1;
/// Where each frame of a group lies between the two gains it is interpolated from.
const STEP: [f32; D] = {
    let mut s = [0.0; D];
    let mut i = 0;
    while i < D {
        s[i] = i as f32 / D as f32;
        i += 1;
    }
    s
};

/// Fixed-point scale of gains in the smoothing stage (2^30 = 1.0).
const Q: u32 = 1 << 30;
const Q_F32: f32 = Q as f32;
/// Frames per block of the detection stage.
const BLOCK: usize = 128;
/// Relative safety margin on the ceiling against `f32` rounding (2^-20, 1e-5 dB).
const CEILING_MARGIN: f32 = 1.0 - 1.0 / (1u32 << 20) as f32;
const BASS_SLOTS: usize = 16;

/// Parameters of a [`Limiter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterParams {
    /// Ceiling in dBFS (sample peak) or dBTP (with `true_peak`), -60 ..= 0. Default -1.
    pub ceiling_db: f64,
    /// Keep the output's true peak (the inter-sample peaks, as BS.1770-4 Annex 2 meters
    /// measure them; detected here at 8x, see [`TruePeak8x`]) under the ceiling, not only its
    /// samples. Default true.
    pub true_peak: bool,
    /// Lookahead in ms, 0 ..= 50 (must fit the capacity). The gain starts moving this long
    /// before a peak and reaches the needed reduction exactly when it arrives. Default 5.
    pub lookahead_ms: f64,
    /// Release time constant in ms (63 %, linear gain domain), 1 ..= 5000. Default 80.
    pub release_ms: f64,
}

impl Default for LimiterParams {
    fn default() -> Self {
        Self {
            ceiling_db: -1.0,
            true_peak: true,
            lookahead_ms: 5.0,
            release_ms: 80.0,
        }
    }
}

impl LimiterParams {
    /// Checks every parameter against its range.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `"ceiling_db"`, `"lookahead_ms"` or `"release_ms"`.
    pub fn validate(&self) -> Result<()> {
        Error::check_range("ceiling_db", self.ceiling_db, -60.0, 0.0)?;
        Error::check_range("lookahead_ms", self.lookahead_ms, 0.0, 50.0)?;
        Error::check_range("release_ms", self.release_ms, 1.0, 5_000.0)?;
        Ok(())
    }
}

/// The limiter's bass detector (see [`Limiter`]): the mean of each group of
/// [`BASS_DECIMATION`] frames goes through a 2nd-order Butterworth low-pass at
/// [`BASS_DETECTOR_HZ`], and the largest absolute output over the channels, times
/// [`BASS_HEADROOM`], is the level until the next group completes. Public so that a model of
/// the limiter (the facade's mastering model) can follow it exactly.
#[derive(Debug, Clone, Copy)]
pub struct BassDetector<const CH: usize> {
    lp: Biquad<CH>,
    /// Sum of the current group, per channel.
    sum: [f32; CH],
    /// The level (times [`BASS_HEADROOM`]) from the last complete group.
    level: f32,
    /// Frames pushed since the reset (the groups and the denormal flushes follow it, not the
    /// blocks).
    frames: u32,
}

impl<const CH: usize> BassDetector<CH> {
    /// A detector that reads 0 until prepared (`new`).
    const IDLE: Self = Self {
        lp: Biquad::new(lathe_core::biquad::Coeffs::IDENTITY),
        sum: [0.0; CH],
        level: 0.0,
        frames: 0,
    };

    /// A detector for audio at `sample_rate` Hz.
    ///
    /// # Errors
    /// A rate the low-pass cannot be designed for.
    pub fn new(sample_rate: f64) -> Result<Self> {
        let rate = sample_rate / BASS_DECIMATION as f64;
        // Below 11 kHz the reduced rate's Nyquist frequency comes near the corner: 0.4 of
        // the reduced rate there (400 Hz at 8 kHz).
        let c = low_pass(
            BASS_DETECTOR_HZ.min(0.4 * rate),
            core::f64::consts::FRAC_1_SQRT_2,
            rate,
        )?;
        Ok(Self {
            lp: Biquad::new(c),
            ..Self::IDLE
        })
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.lp.reset();
        self.sum = [0.0; CH];
        self.level = 0.0;
        self.frames = 0;
    }

    /// Pushes one frame and returns the level after it (linear, times [`BASS_HEADROOM`]).
    #[inline(always)]
    pub fn push(&mut self, frame: &[f32; CH]) -> f32 {
        for (s, &v) in self.sum.iter_mut().zip(frame) {
            *s += v;
        }
        self.frames = self.frames.wrapping_add(1);
        // Groups of BASS_DECIMATION frames by the frame count (not the block), so block
        // splits do not matter: their mean goes through the low-pass at the reduced rate.
        if self.frames.is_multiple_of(BASS_DECIMATION as u32) {
            self.end_group();
        }
        self.level
    }

    /// Pushes [`BASS_DECIMATION`] frames and returns the level after them: the same as
    /// pushing them one by one, in one step when they start at a group boundary (a multiple
    /// of [`BASS_DECIMATION`] frames since the reset).
    #[inline(always)]
    pub fn push_group(&mut self, group: &[[f32; CH]; BASS_DECIMATION]) -> f32 {
        if !self.frames.is_multiple_of(BASS_DECIMATION as u32) {
            for frame in group {
                self.push(frame);
            }
            return self.level;
        }
        for frame in group {
            for (s, &v) in self.sum.iter_mut().zip(frame) {
                *s += v;
            }
        }
        self.frames = self.frames.wrapping_add(BASS_DECIMATION as u32);
        self.end_group();
        self.level
    }

    /// The group's mean through the low-pass: the new level.
    #[inline(always)]
    fn end_group(&mut self) {
        let mut lp = 0.0f64;
        for (ch, s) in self.sum.iter_mut().enumerate() {
            let y = self
                .lp
                .tick(ch, f64::from(*s) * (1.0 / BASS_DECIMATION as f64));
            let y = f64::from_bits(y.to_bits() & 0x7fff_ffff_ffff_ffff);
            lp = if y > lp { y } else { lp };
            *s = 0.0;
        }
        self.level = lp as f32 * BASS_HEADROOM;
        if self.frames & 63 == 0 {
            self.lp.flush();
        }
    }

    /// Frames the limiter holds a bass peak for, with a lookahead window of `window` frames
    /// at `sample_rate` Hz: `max(BASS_HOLD_FACTOR · window, BASS_MIN_HOLD_MS)`.
    pub fn hold_frames(window: usize, sample_rate: f64) -> usize {
        (BASS_HOLD_FACTOR * window).max(ms_to_samples(BASS_MIN_HOLD_MS, sample_rate))
    }
}

/// Running maximum over the last `K` chunks of a fixed number of samples (the bass detector's
/// long hold, amortised O(1) and independent of the block size).
#[derive(Debug, Clone)]
struct ChunkHold {
    slots: [u32; BASS_SLOTS],
    slot: usize,
    current: u32,
    held: u32,
    count: u32,
    chunk: u32,
}

impl ChunkHold {
    const fn new() -> Self {
        Self {
            slots: [0; BASS_SLOTS],
            slot: 0,
            current: 0,
            held: 0,
            count: 0,
            chunk: 1,
        }
    }

    fn set_hold(&mut self, samples: usize) {
        self.chunk = samples.div_ceil(BASS_SLOTS).clamp(1, u32::MAX as usize) as u32;
        self.reset();
    }

    fn reset(&mut self) {
        self.slots = [0; BASS_SLOTS];
        self.slot = 0;
        self.current = 0;
        self.held = 0;
        self.count = 0;
    }

    /// Pushes `v` (non-negative `f32` bits) and returns the maximum over the hold.
    #[inline(always)]
    fn push(&mut self, v: u32) -> u32 {
        self.current = self.current.max(v);
        let out = self.held.max(self.current);
        self.count += 1;
        if self.count >= self.chunk {
            self.slots[self.slot] = self.current;
            self.slot = if self.slot + 1 == BASS_SLOTS {
                0
            } else {
                self.slot + 1
            };
            self.held = self.slots.iter().fold(0, |m, &s| m.max(s));
            self.current = 0;
            self.count = 0;
        }
        out
    }
}

/// The attack smoother: two moving averages in series whose lengths add up to `W + 1` (so the
/// combined impulse response spans exactly `W` frames): a long one, `W + 1 - R` frames, that
/// makes the gain glide down along a straight line, and a short one, `R = max(1, W / 16)`
/// frames, that rounds the line's corners. Gains here are fixed point, and the running sums
/// are integers, so they never drift and the average is exactly what the values allow.
#[derive(Debug, Clone)]
struct Attack<const N: usize> {
    ring1: [u32; N],
    ring2: [u64; N],
    len1: usize,
    len2: usize,
    pos1: usize,
    pos2: usize,
    sum1: u64,
    sum2: u64,
    full: u64,
    inv: f64,
}

impl<const N: usize> Attack<N> {
    const fn new() -> Self {
        Self {
            ring1: [Q; N],
            ring2: [Q as u64; N],
            len1: 1,
            len2: 1,
            pos1: 0,
            pos2: 0,
            sum1: Q as u64,
            sum2: Q as u64,
            full: Q as u64,
            inv: 1.0 / Q as f64,
        }
    }

    /// Spans `window` frames (`1 ..= N`).
    fn configure(&mut self, window: usize) {
        self.len2 = (window / 16).clamp(1, N);
        self.len1 = (window + 1 - self.len2).clamp(1, N);
        self.full = (self.len1 * self.len2) as u64 * u64::from(Q);
        self.inv = 1.0 / self.full as f64;
        self.reset();
    }

    /// Back to unity gain.
    fn reset(&mut self) {
        let q1 = u64::from(Q);
        self.ring1[..self.len1].fill(Q);
        self.ring2[..self.len2].fill(self.len1 as u64 * q1);
        self.pos1 = 0;
        self.pos2 = 0;
        self.sum1 = self.len1 as u64 * q1;
        self.sum2 = self.full;
    }

    /// Whether both rings hold unity only (the sums can reach their full values no other way,
    /// since no gain exceeds unity).
    #[inline(always)]
    fn at_rest(&self) -> bool {
        self.sum2 == self.full
    }

    /// The attack and the release over a block: each required gain `q` (fixed point) goes
    /// through the two moving averages; the release follows the smoothed gain down at once and
    /// recovers from it with coefficient `a` (`depth` is `1 - gain`, starting from the given
    /// one, which is returned updated), giving `g` (exactly 1.0 at rest). The running state is
    /// kept in locals for the block.
    #[inline(always)]
    fn smooth_and_release(&mut self, q: &[u32], a: f64, mut depth: f64, g: &mut [f32]) -> f64 {
        let (mut pos1, mut pos2, mut sum1, mut sum2) = (self.pos1, self.pos2, self.sum1, self.sum2);
        let (len1, len2, full, inv) = (self.len1, self.len2, self.full, self.inv);
        for (g, &q) in g.iter_mut().zip(q) {
            let old = self.ring1[pos1];
            self.ring1[pos1] = q;
            pos1 = if pos1 + 1 >= len1 { 0 } else { pos1 + 1 };
            sum1 = sum1 + u64::from(q) - u64::from(old);
            let old = self.ring2[pos2];
            self.ring2[pos2] = sum1;
            pos2 = if pos2 + 1 >= len2 { 0 } else { pos2 + 1 };
            sum2 = sum2 + sum1 - old;
            // 1 - smoothed gain: exactly 0 at rest. Sums stay below 2^62: the signed
            // conversion is exact and a single instruction.
            let target = if sum2 == full {
                0.0
            } else {
                1.0 - (sum2 as i64) as f64 * inv
            };
            let decayed = depth * a;
            depth = if target > decayed { target } else { decayed };
            if depth < 1e-9 {
                depth = 0.0;
            }
            *g = (1.0 - depth) as f32;
        }
        (self.pos1, self.pos2, self.sum1, self.sum2) = (pos1, pos2, sum1, sum2);
        depth
    }
}

/// The lookahead, in frames, that a [`Limiter`] set to `lookahead` frames works with: the
/// attack's groups (`ceil(L / D)`, at least one, of [`GAIN_DECIMATION`] frames), the one more
/// group its hold spans, and the frames a group waits for its last frame,
/// `D · (max(1, ceil(L / D)) + 1) − 1` (from `L + 7` to `L + 15` frames; 15 for `L = 0`). The
/// limiter's latency is this plus [`TRUE_PEAK_8X_DELAY`]; a peak is held this long.
pub fn effective_lookahead(lookahead: usize) -> usize {
    D * (attack_groups(lookahead) + 1) - 1
}

/// Groups the attack spans for a lookahead of `l` frames, `max(1, ceil(L / D))`.
fn attack_groups(l: usize) -> usize {
    l.div_ceil(D).max(1)
}

/// A lookahead brick-wall limiter for `CH` channels with capacity `N` frames, stereo-linked.
///
/// # How the gain is made
/// 1. **Detect**: per frame, the largest absolute sample over the channels; or, in true-peak
///    mode, the largest value of the 8x-oversampled signal in the two intervals next to it,
///    and of the points the loudness meter of the same rate reads there ([`TruePeak8x`]: a
///    long half-band interpolator followed by the BS.1770-4 Annex 2 style interpolator of
///    [`TruePeakDetector`](lathe_core::TruePeakDetector), evaluated directly only where an exact
///    bound says an interval can reach the ceiling). The Annex 2 detector alone reads
///    full-band transients up to about 2 dB low; this one stays within about 0.05 dB of an
///    independent 64-tap 8x reference.
///    A second, **bass detector** low-passes the audio at [`BASS_DETECTOR_HZ`] (at an eighth
///    of the rate, [`BASS_DECIMATION`]): while the
///    low-passed level reaches at least `1 / BASS_HEADROOM` of the peak (a bass-dominated
///    waveform, with whatever treble rides on it), the peak is also held for
///    `max(W, 25 ms)`, so a bass waveform keeps the gain down from one of its crests to the
///    next instead of modulating it (the x42-dpl / zita-dpl1 idea).
/// 2. **Groups**: the gain computer runs once per group of [`GAIN_DECIMATION`] (8) frames,
///    counted from the reset, on the largest of the group's peaks.
/// 3. **Hold**: the larger of the two peaks, as the required gain `min(1, ceiling / peak)`,
///    goes through a sliding minimum over `G + 1` groups, `G = max(1, ceil(L / 8))`
///    (van Herk / Gil-Werman segments: three operations per value, no data-dependent
///    branches).
/// 4. **Attack**: two moving averages in series over the held gain, of lengths
///    `G + 1 - R` and `R = max(1, G / 16)` groups, so their combined (trapezoid) weights span
///    exactly `G` groups. Every value they average when a group leaves the delay line, and
///    one group later, was held at or below that group's required gain, so both averages are
///    too: the ceiling holds, and the gain glides down along a straight line with rounded
///    corners over about `L` frames before the peak, reaching the needed reduction exactly
///    when the peak's group arrives. Gains in this stage are fixed-point (2^30 = unity), so
///    the running sums never drift.
/// 5. **Release**: the smoothed gain is followed instantly downwards and recovers
///    exponentially (linear gain domain, `release_ms` time constant) upwards. Releasing after
///    the smoothing (not before it) lets the gain recover as soon as a peak has passed
///    instead of a window later, and the straight attack line has half the steepest slope of
///    an S-curve over the same window; together they leave far less gain modulation in the
///    audio (see the figures in the crate README and `tests/transparency.rs` of the facade).
/// 6. **Interpolation**: each frame's gain runs linearly between the values of the two groups
///    described in 4, both at or below its requirement, so the ceiling holds frame by frame;
///    at rest both are exactly 1.
///
/// In true-peak mode the limiter aims [`TRUE_PEAK_MARGIN_DB`] under the ceiling.
///
/// # Cost
/// A peak reading at or under the ceiling never changes the gain, so the true-peak detector is
/// given the ceiling as its threshold and evaluates only the intervals that can exceed it and
/// can be their group's largest (on music pushed 6 dB into the ceiling, one in 15;
/// bit-identical output, see [`set_detector_skipping`](Self::set_detector_skipping)); and a
/// block with nothing over the ceiling while the gain rests at unity only moves the state on.
///
/// The audio is delayed by `8 · (G + 1) − 1 + TRUE_PEAK_8X_DELAY` frames,
/// [`latency`](Processor::latency) (`L = round(lookahead_ms · fs / 1000)`, `G` as above: the
/// lookahead rounded up to the groups, one group for the hold and seven frames for a group's
/// last frame, 7 to 15 frames more than `L`); the detection delay is part of the latency in
/// both modes, so switching `true_peak` while running never moves the audio.
///
/// # Guarantees (tested with proptest on random and adversarial input)
/// - Sample-peak mode: no output sample exceeds the ceiling (a 2^-20 margin covers `f32`
///   rounding).
/// - True-peak mode: the output's true peak, measured by an independent 8x oversampled check
///   (64-tap interpolator), stays within 0.1 dB of the ceiling, also for full-band noise,
///   naive square waves, abrupt Nyquist-rate signals and +40 dB bursts; the samples stay under
///   it.
/// - Audio that never reaches the ceiling comes out bit-exact, delayed by the latency.
///
/// # Parameter changes
/// Ceiling, release and true-peak mode apply at once (a lower ceiling is reached through the
/// attack ramp, a higher one through the release). The lookahead is structural: a new value
/// takes effect at the next [`prepare`](Processor::prepare).
///
/// # Non-finite input
/// NaN and infinite samples are replaced by 0 on the way in (documented policy): they never
/// reach the detectors' state or the output, which stays finite and under the ceiling.
#[derive(Debug, Clone)]
pub struct Limiter<const CH: usize, const N: usize> {
    params: LimiterParams,
    sample_rate: f64,
    prepared: bool,
    /// Lookahead `L` in frames, as set.
    lookahead: usize,
    /// Groups of the sliding maximum: one more than the attack spans (see `attack_groups`).
    window: usize,
    /// Frames of the current group so far, …
    phase: usize,
    /// … and their largest peak (bits).
    group_peak: u32,
    /// The gains of the last two complete groups, which the current frames run between.
    gains: (f32, f32),
    audio: [[f32; CH]; N],
    pos: usize,
    true_peak: TruePeak8x<CH>,
    /// Sliding maximum (van Herk / Gil-Werman): the values of the current segment of `W`
    /// frames so far, …
    seg: [u32; N],
    /// … the suffix maxima of the previous segment (`suffix[k]` = max of its values `k..W`),
    seg_suffix: [u32; N],
    /// … the position in the current segment and its running maximum.
    seg_pos: usize,
    seg_prefix: u32,
    bass: BassDetector<CH>,
    bass_hold: ChunkHold,
    release_coeff: f64,
    /// `1 - released gain`.
    depth: f64,
    attack: Attack<N>,
    ceiling: f32,
    gain: f32,
    /// Whether the true-peak detector may skip readings under the ceiling.
    skipping: bool,
}

impl<const CH: usize, const N: usize> Limiter<CH, N> {
    /// A limiter with `params`. Infallible: the parameters are validated by
    /// [`prepare`](Processor::prepare) and [`set_params`](Self::set_params).
    pub fn new(params: LimiterParams) -> Self {
        let mut l = Self {
            params,
            sample_rate: 48_000.0,
            prepared: false,
            lookahead: 0,
            window: 2,
            phase: 0,
            group_peak: 0,
            gains: (1.0, 1.0),
            audio: [[0.0; CH]; N],
            pos: 0,
            true_peak: TruePeak8x::new(),
            seg: [0; N],
            seg_suffix: [0; N],
            seg_pos: 0,
            seg_prefix: 0,
            bass: BassDetector::IDLE,
            bass_hold: ChunkHold::new(),
            release_coeff: 0.0,
            depth: 0.0,
            attack: Attack::new(),
            ceiling: (db_to_gain(params.ceiling_db) as f32) * CEILING_MARGIN,
            gain: 1.0,
            skipping: true,
        };
        l.true_peak.set_threshold(l.ceiling);
        l
    }

    /// The parameters in use.
    pub fn params(&self) -> LimiterParams {
        self.params
    }

    /// Sets new parameters while running (see the type docs).
    ///
    /// # Errors
    /// From [`LimiterParams::validate`]; once prepared also [`Error::CapacityExceeded`] when
    /// the lookahead does not fit `N`. The previous parameters stay in use on error.
    pub fn set_params(&mut self, params: LimiterParams) -> Result<()> {
        params.validate()?;
        if self.prepared {
            Self::lookahead_frames(&params, self.sample_rate)?;
        }
        let enable_tp = params.true_peak && !self.params.true_peak;
        self.params = params;
        self.apply();
        if enable_tp && self.prepared {
            // Refill the detector's history from the audio ring so its next readings are
            // right at once.
            self.true_peak.reset();
            for i in (1..=REPLAY.min(N - 1)).rev() {
                let idx = (self.pos + N - i) % N;
                self.true_peak.push(&self.audio[idx]);
            }
        }
        Ok(())
    }

    /// Lets the true-peak detector skip the blocks whose readings cannot exceed the level
    /// where gain reduction starts (`true`, the default), or makes it compute every reading
    /// (`false`). The output is bit-identical either way (tested): a reading at or under the
    /// ceiling never changes the gain, and the skipped blocks are found from an exact bound (see
    /// [`TruePeak8x`]). The switch exists for that test and for profiling.
    pub fn set_detector_skipping(&mut self, enabled: bool) {
        self.skipping = enabled;
        self.apply();
    }

    /// Gain reduction applied to the last output frame, in dB (≥ 0), for meters.
    pub fn gain_reduction_db(&self) -> f64 {
        -gain_to_db(f64::from(self.gain)).min(0.0)
    }

    /// Lookahead in frames for `params` at `sample_rate`, checked against the capacity.
    fn lookahead_frames(params: &LimiterParams, sample_rate: f64) -> Result<usize> {
        let l = ms_to_samples(params.lookahead_ms, sample_rate);
        let needed = (effective_lookahead(l) + DETECTION_DELAY + 1).max(REPLAY + 1);
        if needed > N {
            return Err(Error::CapacityExceeded {
                needed,
                capacity: N,
            });
        }
        Ok(l)
    }

    fn apply(&mut self) {
        let margin = if self.params.true_peak {
            TRUE_PEAK_MARGIN_DB
        } else {
            0.0
        };
        self.ceiling = (db_to_gain(self.params.ceiling_db - margin) as f32) * CEILING_MARGIN;
        // Peak readings at or under the ceiling do not change the gain (see `run_block`).
        self.true_peak
            .set_threshold(if self.skipping { self.ceiling } else { 0.0 });
        // Per group of D frames.
        self.release_coeff = one_pole_coeff(self.params.release_ms, self.sample_rate / D as f64);
    }

    /// Frames of delay: the effective lookahead plus the detection delay.
    fn delay(&self) -> usize {
        effective_lookahead(self.lookahead) + DETECTION_DELAY
    }

    /// `out[i]` = the frame `d - i` frames before the block's frame 0 for `i < d` (from the
    /// ring, not yet written with the block), else `block[i - d]`: what a per-frame delay line
    /// of `d` frames (`d < N`) returns, done with at most three copies.
    #[inline(always)]
    fn delayed(&self, d: usize, block: &[[f32; CH]], out: &mut [[f32; CH]]) {
        let n = block.len().min(out.len());
        let from_ring = d.min(n);
        let start = if self.pos >= d {
            self.pos - d
        } else {
            self.pos + N - d
        };
        let first = from_ring.min(N - start);
        out[..first].copy_from_slice(&self.audio[start..start + first]);
        out[first..from_ring].copy_from_slice(&self.audio[..from_ring - first]);
        out[from_ring..n].copy_from_slice(&block[..n - from_ring]);
    }

    /// Writes `block` into the delay ring and advances the position.
    #[inline(always)]
    fn write_ring(&mut self, block: &[[f32; CH]]) {
        let n = block.len();
        let first = n.min(N - self.pos);
        self.audio[self.pos..self.pos + first].copy_from_slice(&block[..first]);
        self.audio[..n - first].copy_from_slice(&block[first..]);
        self.pos = if self.pos + n >= N {
            self.pos + n - N
        } else {
            self.pos + n
        };
    }

    /// Processes up to [`BLOCK`] frames (already free of NaN/inf) in passes: delay line,
    /// detection, the groups' peaks (per frame), the gain computer (per group: sliding maximum,
    /// required gain, attack and release), the interpolated gain (per frame, vectorised),
    /// output. State used in the sequential passes lives in locals (registers) for the block.
    #[inline(always)]
    fn run_block(&mut self, block: &mut [[f32; CH]], true_peak: bool) {
        let n = block.len().min(BLOCK);
        if n == 0 {
            return;
        }
        let block = &mut block[..n];
        let mut peak = [0.0f32; BLOCK];
        if true_peak {
            // Only each group's largest reading matters (see `TruePeak8x::push_block_grouped`).
            self.true_peak
                .push_block_grouped(block, &mut peak[..n], D, self.phase);
        }
        // Delay line: the output frames, and the frames the detectors judge now
        // (DETECTION_DELAY frames back).
        let mut out = [[0.0f32; CH]; BLOCK];
        self.delayed(self.delay(), block, &mut out[..n]);
        let mut xd = [[0.0f32; CH]; BLOCK];
        self.delayed(DETECTION_DELAY, block, &mut xd[..n]);
        self.write_ring(block);
        if !true_peak {
            for (p, x) in peak[..n].iter_mut().zip(&xd[..n]) {
                // Bit patterns of non-negative floats order like the values (no NaN here).
                *p = f32::from_bits(
                    x.iter()
                        .fold(0u32, |m, &v| m.max(v.to_bits() & 0x7fff_ffff)),
                );
            }
        }
        // Each group's peak, and the bass detector: the full-band peak, as far as the
        // low-passed audio (times BASS_HEADROOM) accounts for it, held for the long bass hold.
        // Its level changes once per group too (BASS_DECIMATION = D, counted alike).
        let ceiling_bits = self.ceiling.to_bits();
        let mut need = [0u32; GROUPS];
        let mut groups = 0;
        let mut busy = false;
        let mut detector = self.bass;
        let mut hold = self.bass_hold.clone();
        let (mut phase, mut group_peak) = (self.phase, self.group_peak);
        let mut end_group = |group_peak: u32, level: f32| {
            let bass = hold.push(level.min(f32::from_bits(group_peak)).to_bits());
            // Any peak at or under the ceiling gives the same `need` (also through the bass
            // hold, which only sees `min(peak, ..)`), so the true-peak detector may report
            // such readings as a bound at or under the ceiling (its threshold).
            let v = group_peak.max(bass).max(ceiling_bits);
            need[groups] = v;
            busy |= v != ceiling_bits;
            groups += 1;
        };
        let mut i = 0;
        while i < n {
            if phase == 0 && i + D <= n {
                // A whole group at once.
                let x: &[[f32; CH]; D] = xd[i..i + D].try_into().unwrap_or(&[[0.0; CH]; D]);
                let level = detector.push_group(x);
                // Peaks are non-negative finite floats: their bit patterns order like the
                // values.
                let p = peak[i..i + D].iter().fold(0u32, |m, p| m.max(p.to_bits()));
                end_group(p, level);
                i += D;
            } else {
                let level = detector.push(&xd[i]);
                group_peak = group_peak.max(peak[i].to_bits());
                phase += 1;
                if phase == D {
                    end_group(group_peak, level);
                    phase = 0;
                    group_peak = 0;
                }
                i += 1;
            }
        }
        self.bass = detector;
        self.bass_hold = hold;
        self.group_peak = group_peak;
        // The groups' gains. Nothing over the ceiling in the block nor in the sliding window
        // before it (every value is at least the ceiling, so maxima at the ceiling mean all
        // values are), the release done and the attack at unity: the gain stays exactly 1 and
        // only the state moves on (the attack rings stay uniform, so their positions do not
        // matter).
        let mut gain = [1.0f32; GROUPS];
        let window_at_ceiling = (self.seg_pos == 0 || self.seg_prefix == ceiling_bits)
            && self.seg_suffix[0] == ceiling_bits;
        let resting = !busy && window_at_ceiling && self.depth == 0.0 && self.attack.at_rest();
        if resting {
            self.sliding_fill(groups, ceiling_bits);
        } else if groups > 0 {
            let mut q = [Q; GROUPS];
            if busy || !window_at_ceiling {
                self.sliding_max(&mut need[..groups]);
                // Required gain, fixed point (truncation rounds down: never above the
                // requirement).
                let c = self.ceiling;
                for (q, &h) in q[..groups].iter_mut().zip(&need[..groups]) {
                    // At most 2^30, so the signed conversion (one vector instruction) is exact.
                    *q = ((c / f32::from_bits(h)).min(1.0) * Q_F32) as i32 as u32;
                }
            } else {
                // Only the release is moving: every held value is the ceiling, whose required
                // gain is exactly unity (`q` as filled).
                self.sliding_fill(groups, ceiling_bits);
            }
            // Attack, then release (depth below unity, linear gain domain).
            self.depth = self.attack.smooth_and_release(
                &q[..groups],
                self.release_coeff,
                self.depth,
                &mut gain[..groups],
            );
        }
        // Frame by frame, the gain runs linearly from the value of the group before to the
        // value of the last group complete; both are at most the required gain of every frame
        // it is applied to (see the type docs). At rest both are exactly 1.
        let (mut from, mut to) = self.gains;
        if resting && from == 1.0 && to == 1.0 {
            block.copy_from_slice(&out[..n]);
            self.phase = phase;
            self.gain = 1.0;
            return;
        }
        let mut g = [0.0f32; BLOCK];
        let mut next = 0;
        let mut i = 0;
        let mut phase = self.phase;
        while i < n {
            if phase == D - 1 && i + D <= n {
                // A whole group at once: the frames of phases 0 ..= D - 1 of the next one.
                (from, to) = (to, gain[next]);
                next += 1;
                for (g, t) in g[i..i + D].iter_mut().zip(STEP) {
                    *g = from + (to - from) * t;
                }
                i += D;
            } else {
                phase += 1;
                if phase == D {
                    phase = 0;
                    (from, to) = (to, gain[next]);
                    next += 1;
                }
                g[i] = from + (to - from) * STEP[phase];
                i += 1;
            }
        }
        self.phase = phase;
        self.gains = (from, to);
        for ((f, o), &g) in block.iter_mut().zip(&out[..n]).zip(&g[..n]) {
            for ch in 0..CH {
                f[ch] = o[ch] * g;
            }
        }
        self.gain = g[n - 1];
    }

    /// [`sliding_max`](Self::sliding_max) of `n` values `c` when the whole window already
    /// holds `c` (so every output is `c`): only the segments are filled.
    #[inline(always)]
    fn sliding_fill(&mut self, mut n: usize, c: u32) {
        let w = self.window.clamp(1, N);
        while n > 0 {
            let m = n.min(w - self.seg_pos);
            self.seg[self.seg_pos..self.seg_pos + m].fill(c);
            self.seg_prefix = c;
            self.seg_pos += m;
            n -= m;
            if self.seg_pos == w {
                self.seg_suffix[..w].fill(c);
                self.seg_pos = 0;
                self.seg_prefix = 0;
            }
        }
    }

    /// Replaces each value of `v` by the maximum over the last `W` values pushed (van Herk /
    /// Gil-Werman: the window is a suffix of the previous segment of `W` values plus a prefix
    /// of the current one; three operations per value, no data-dependent branches). Values
    /// before the first one count as 0 (every value is at least the ceiling's bits).
    #[inline(always)]
    fn sliding_max(&mut self, v: &mut [u32]) {
        let w = self.window.clamp(1, N);
        let (mut pos, mut prefix) = (self.seg_pos, self.seg_prefix);
        for v in v.iter_mut() {
            let x = *v;
            self.seg[pos] = x;
            prefix = prefix.max(x);
            pos += 1;
            // The window: the previous segment's values from `pos` on, and this one's so far.
            let suffix = if pos < w { self.seg_suffix[pos] } else { 0 };
            *v = prefix.max(suffix);
            if pos == w {
                // Segment complete: its suffix maxima serve the next W values.
                let mut m = 0u32;
                for (s, &x) in self.seg_suffix[..w].iter_mut().zip(&self.seg[..w]).rev() {
                    m = m.max(x);
                    *s = m;
                }
                pos = 0;
                prefix = 0;
            }
        }
        (self.seg_pos, self.seg_prefix) = (pos, prefix);
    }
}

impl<const CH: usize, const N: usize> Default for Limiter<CH, N> {
    fn default() -> Self {
        Self::new(LimiterParams::default())
    }
}

impl<const CH: usize, const N: usize> Processor<CH> for Limiter<CH, N> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        self.params.validate()?;
        let l = Self::lookahead_frames(&self.params, spec.sample_rate)?;
        let bass = BassDetector::new(spec.sample_rate)?;
        self.sample_rate = spec.sample_rate;
        self.prepared = true;
        self.lookahead = l;
        let groups = attack_groups(l);
        self.window = groups + 1;
        self.attack.configure(groups);
        self.bass = bass;
        self.bass_hold
            .set_hold(BassDetector::<CH>::hold_frames(l + 1, spec.sample_rate).div_ceil(D));
        self.true_peak = TruePeak8x::for_sample_rate(spec.sample_rate);
        self.apply();
        self.reset();
        Ok(())
    }

    fn reset(&mut self) {
        self.audio = [[0.0; CH]; N];
        self.pos = 0;
        self.true_peak.reset();
        self.seg_suffix = [0; N];
        self.seg_pos = 0;
        self.seg_prefix = 0;
        self.phase = 0;
        self.group_peak = 0;
        self.gains = (1.0, 1.0);
        self.bass.reset();
        self.bass_hold.reset();
        self.depth = 0.0;
        self.attack.reset();
        self.gain = 1.0;
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        let true_peak = self.params.true_peak;
        for block in frames.chunks_mut(BLOCK) {
            for frame in block.iter_mut() {
                for s in frame.iter_mut() {
                    // Branch-free (vectorises): exponent all ones means NaN or infinity.
                    let finite = s.to_bits() & 0x7f80_0000 != 0x7f80_0000;
                    *s = if finite { *s } else { 0.0 };
                }
            }
            self.run_block(block, true_peak);
        }
    }

    fn latency(&self) -> usize {
        self.delay()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole group pushed at once reads the same as its frames pushed one by one, at a group
    /// boundary and off it.
    #[test]
    fn bass_groups_push_like_frames() {
        let frames: [[f32; 2]; 64] = core::array::from_fn(|i| {
            let t = i as f32;
            [(t * 0.11).sin(), 0.5 * (t * 0.07).cos()]
        });
        for offset in [0, 3] {
            let mut one = BassDetector::<2>::new(48_000.0).unwrap();
            let mut grouped = one;
            let mut levels = [0.0f32; 2];
            for f in &frames[..offset] {
                levels[0] = one.push(f);
                levels[1] = grouped.push(f);
            }
            for chunk in frames[offset..].chunks_exact(BASS_DECIMATION) {
                for f in chunk {
                    levels[0] = one.push(f);
                }
                let g: &[[f32; 2]; BASS_DECIMATION] = chunk.try_into().unwrap();
                levels[1] = grouped.push_group(g);
                assert_eq!(levels[0].to_bits(), levels[1].to_bits(), "offset {offset}");
            }
            assert!(levels[0] > 0.0);
        }
    }
}
