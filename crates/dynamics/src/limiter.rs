//! The lookahead brick-wall limiter, sample-peak or true-peak (ITU-R BS.1770-4 Annex 2).

use lathe_core::biquad::{low_pass, Biquad};
use lathe_core::true_peak::{DETECTOR_DELAY, TAPS_PER_PHASE};
use lathe_core::{
    db_to_gain, gain_to_db, ms_to_samples, one_pole_coeff, Error, ProcessSpec, Processor,
    Result, TruePeakDetector,
};

/// Capacity (frames) of [`MasteringLimiter`]: 5 ms of lookahead at 384 kHz (1920 frames) plus
/// the true-peak detector's delay, rounded up to a power of two.
pub const MASTERING_LIMITER_CAPACITY: usize = 2048;

/// The limiter the mastering chain uses: capacity for up to 5 ms of lookahead at any supported
/// sample rate (up to 384 kHz), [`MASTERING_LIMITER_CAPACITY`] frames.
pub type MasteringLimiter<const CH: usize> = Limiter<CH, MASTERING_LIMITER_CAPACITY>;

/// Corner of the 2nd-order Butterworth low-pass in front of the bass detector, Hz (x42-dpl /
/// zita style).
pub const BASS_DETECTOR_HZ: f64 = 500.0;
/// The bass detector holds its peaks this many times longer than the lookahead…
pub const BASS_HOLD_FACTOR: usize = 8;
/// …and at least this long (ms): half a period of 20 Hz, so a bass waveform's own peaks keep
/// the gain down between them instead of modulating it.
pub const BASS_MIN_HOLD_MS: f64 = 25.0;

/// Fixed-point scale of gains in the smoothing stage (2^30 = 1.0).
const Q: u32 = 1 << 30;
const Q_F32: f32 = Q as f32;
/// Relative safety margin on the ceiling against `f32` rounding (2^-20, 1e-5 dB).
const CEILING_MARGIN: f32 = 1.0 - 1.0 / (1u32 << 20) as f32;
const BASS_SLOTS: usize = 16;

/// Parameters of a [`Limiter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterParams {
    /// Ceiling in dBFS (sample peak) or dBTP (with `true_peak`), -60 ..= 0. Default -1.
    pub ceiling_db: f64,
    /// Keep the output's true peak (BS.1770-4 Annex 2: 4x oversampled below 96 kHz) under the
    /// ceiling, not only its samples. Default true.
    pub true_peak: bool,
    /// Lookahead in ms, 0 ..= 50 (must fit the capacity). The gain starts moving this long
    /// before a peak and reaches the needed reduction exactly when it arrives. Default 2.
    pub lookahead_ms: f64,
    /// Release time constant in ms (63 %, linear gain domain), 1 ..= 5000. Default 80.
    pub release_ms: f64,
}

impl Default for LimiterParams {
    fn default() -> Self {
        Self {
            ceiling_db: -1.0,
            true_peak: true,
            lookahead_ms: 2.0,
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

/// A lookahead brick-wall limiter for `CH` channels with capacity `N` frames, stereo-linked.
///
/// # How the gain is made
/// 1. **Detect**: per frame, the largest absolute sample over the channels, or in true-peak
///    mode the largest value of the 4x (2x at 96 kHz, 1x at 192 kHz and up) oversampled signal
///    on both intervals that touch the frame, from the same [`TruePeakDetector`] the loudness
///    meter uses (BS.1770-4 Annex 2). A second, **bass detector** reads the input through a
///    [`BASS_DETECTOR_HZ`] low-pass and holds its peaks for `max(8 × lookahead,
///    25 ms)`, so a bass waveform keeps the gain down from one of its peaks to the next instead
///    of modulating it (x42-dpl / zita-dpl1).
/// 2. **Hold**: the larger of the two peaks, as the required gain `min(1, ceiling / peak)`,
///    goes through a sliding minimum over the lookahead window of `W = L + 1` frames
///    (monotonic deque over a fixed ring: amortised O(1) per frame).
/// 3. **Release**: the held gain is followed instantly downwards and recovers exponentially
///    (linear gain domain, `release_ms` time constant) upwards.
/// 4. **Attack**: a moving average of length `W` over the released gain. Every value it averages
///    at the moment a peak leaves the delay line was held at or below that peak's required
///    gain, so the average is too: the ceiling holds, and the gain ramps down over the `W`
///    frames before the peak, reaching the needed reduction exactly when the peak arrives.
///    Gains in this stage are fixed-point (2^30 = unity), so the running sum never drifts.
///
/// The audio is delayed by `L + DETECTOR_DELAY` frames, [`latency`](Processor::latency)
/// (`L = round(lookahead_ms · fs / 1000)`); the detector delay is part of the latency in both
/// modes, so switching `true_peak` while running never moves the audio.
///
/// # Guarantees (tested with proptest on random and adversarial input)
/// - Sample-peak mode: no output sample exceeds the ceiling (a 2^-20 margin covers `f32`
///   rounding).
/// - True-peak mode: the output's true peak, measured by an independent 8x oversampled check,
///   stays within 0.1 dB of the ceiling.
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
    lookahead: usize,
    window: usize,
    audio: [[f32; CH]; N],
    pos: usize,
    true_peak: TruePeakDetector<CH>,
    prev_peak: f32,
    dq_val: [u32; N],
    dq_idx: [u32; N],
    dq_head: usize,
    dq_len: usize,
    counter: u32,
    bass_lp: Biquad<CH>,
    bass_hold: ChunkHold,
    release_coeff: f64,
    env: f64,
    box_ring: [u32; N],
    box_pos: usize,
    box_sum: u64,
    box_full: u64,
    box_inv: f64,
    ceiling: f32,
    gain: f32,
}

impl<const CH: usize, const N: usize> Limiter<CH, N> {
    /// A limiter with `params`. Infallible: the parameters are validated by
    /// [`prepare`](Processor::prepare) and [`set_params`](Self::set_params).
    pub fn new(params: LimiterParams) -> Self {
        Self {
            params,
            sample_rate: 48_000.0,
            prepared: false,
            lookahead: 0,
            window: 1,
            audio: [[0.0; CH]; N],
            pos: 0,
            true_peak: TruePeakDetector::new(48_000.0),
            prev_peak: 0.0,
            dq_val: [0; N],
            dq_idx: [0; N],
            dq_head: 0,
            dq_len: 0,
            counter: 0,
            bass_lp: Biquad::default(),
            bass_hold: ChunkHold::new(),
            release_coeff: 0.0,
            env: 1.0,
            box_ring: [Q; N],
            box_pos: 0,
            box_sum: u64::from(Q),
            box_full: u64::from(Q),
            box_inv: 1.0 / f64::from(Q),
            ceiling: (db_to_gain(params.ceiling_db) as f32) * CEILING_MARGIN,
            gain: 1.0,
        }
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
            let hist = (2 * TAPS_PER_PHASE).min(N - 1);
            for i in (1..=hist).rev() {
                let idx = (self.pos + N - i) % N;
                self.prev_peak = self.true_peak.push_max(&self.audio[idx]);
            }
        }
        Ok(())
    }

    /// Gain reduction applied to the last output frame, in dB (≥ 0), for meters.
    pub fn gain_reduction_db(&self) -> f64 {
        -gain_to_db(f64::from(self.gain)).min(0.0)
    }

    /// Lookahead in frames for `params` at `sample_rate`, checked against the capacity.
    fn lookahead_frames(params: &LimiterParams, sample_rate: f64) -> Result<usize> {
        let l = ms_to_samples(params.lookahead_ms, sample_rate);
        let needed = l + DETECTOR_DELAY + 1;
        if needed > N {
            return Err(Error::CapacityExceeded {
                needed,
                capacity: N,
            });
        }
        Ok(l)
    }

    fn apply(&mut self) {
        self.ceiling = (db_to_gain(self.params.ceiling_db) as f32) * CEILING_MARGIN;
        self.release_coeff = one_pole_coeff(self.params.release_ms, self.sample_rate);
    }

    /// Frames of delay: lookahead plus the detector delay.
    fn delay(&self) -> usize {
        self.lookahead + DETECTOR_DELAY
    }

    #[inline(always)]
    fn frame(&mut self, frame: &mut [f32; CH], true_peak: bool) {
        let mut x = *frame;
        for s in x.iter_mut() {
            if !s.is_finite() {
                *s = 0.0;
            }
        }
        let pos = self.pos;
        let out_idx = if pos >= self.delay() {
            pos - self.delay()
        } else {
            pos + N - self.delay()
        };
        let y = self.audio[out_idx];
        self.audio[pos] = x;
        self.pos = if pos + 1 == N { 0 } else { pos + 1 };

        // 1. Detect (peak of frame n - DETECTOR_DELAY).
        let peak = if true_peak {
            let p = self.true_peak.push_max(&x);
            let both = p.max(self.prev_peak);
            self.prev_peak = p;
            both
        } else {
            let idx = if pos >= DETECTOR_DELAY {
                pos - DETECTOR_DELAY
            } else {
                pos + N - DETECTOR_DELAY
            };
            self.audio[idx].iter().fold(0.0f32, |m, &v| m.max(v.abs()))
        };
        let mut lp = [0.0f64; CH];
        for (ch, l) in lp.iter_mut().enumerate() {
            *l = self.bass_lp.tick(ch, f64::from(x[ch]));
        }
        let bass = lp.iter().fold(0.0f64, |m, &v| m.max(v.abs())) as f32;
        let bass = self.bass_hold.push(bass.to_bits());
        // Peaks are non-negative finite floats: their bit patterns order like the values.
        let need = peak.to_bits().max(bass).max(self.ceiling.to_bits());

        // 2. Sliding maximum of the peak (= minimum of the required gain) over W frames.
        let held = self.sliding_max(need);
        let required = (self.ceiling / f32::from_bits(held)).min(1.0);
        let q = (required * Q_F32) as u32;

        // 3. Release.
        let released = 1.0 - (1.0 - self.env) * self.release_coeff;
        let mut env = released.min(f64::from(q) * (1.0 / f64::from(Q)));
        if env > 1.0 - 1e-9 {
            env = 1.0;
        }
        self.env = env;
        let qe = (env * f64::from(Q)) as u32;

        // 4. Moving average over W frames (exact fixed-point running sum).
        let old = self.box_ring[self.box_pos];
        self.box_ring[self.box_pos] = qe;
        self.box_pos = if self.box_pos + 1 >= self.window {
            0
        } else {
            self.box_pos + 1
        };
        self.box_sum = self.box_sum + u64::from(qe) - u64::from(old);
        let g = if self.box_sum == self.box_full {
            1.0
        } else {
            (self.box_sum as f64 * self.box_inv) as f32
        };
        self.gain = g;
        for ch in 0..CH {
            frame[ch] = y[ch] * g;
        }
    }

    #[inline(always)]
    fn sliding_max(&mut self, v: u32) -> u32 {
        // Drop entries that can never be the maximum again.
        while self.dq_len > 0 {
            let back = self.dq_head + self.dq_len - 1;
            let back = if back >= N { back - N } else { back };
            if self.dq_val[back] <= v {
                self.dq_len -= 1;
            } else {
                break;
            }
        }
        let slot = self.dq_head + self.dq_len;
        let slot = if slot >= N { slot - N } else { slot };
        self.dq_val[slot] = v;
        self.dq_idx[slot] = self.counter;
        self.dq_len += 1;
        // Expire the front once it is W frames old (at most one per frame).
        if self.counter.wrapping_sub(self.dq_idx[self.dq_head]) as usize >= self.window {
            self.dq_head = if self.dq_head + 1 == N {
                0
            } else {
                self.dq_head + 1
            };
            self.dq_len -= 1;
        }
        self.counter = self.counter.wrapping_add(1);
        self.dq_val[self.dq_head]
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
        let bass = low_pass(
            BASS_DETECTOR_HZ,
            core::f64::consts::FRAC_1_SQRT_2,
            spec.sample_rate,
        )?;
        self.sample_rate = spec.sample_rate;
        self.prepared = true;
        self.lookahead = l;
        self.window = l + 1;
        self.box_full = self.window as u64 * u64::from(Q);
        self.box_inv = 1.0 / self.box_full as f64;
        self.true_peak.set_sample_rate(spec.sample_rate);
        self.bass_lp = Biquad::new(bass);
        let hold = (BASS_HOLD_FACTOR * self.window)
            .max(ms_to_samples(BASS_MIN_HOLD_MS, spec.sample_rate));
        self.bass_hold.set_hold(hold);
        self.apply();
        self.reset();
        Ok(())
    }

    fn reset(&mut self) {
        self.audio = [[0.0; CH]; N];
        self.pos = 0;
        self.true_peak.reset();
        self.prev_peak = 0.0;
        self.dq_head = 0;
        self.dq_len = 0;
        self.counter = 0;
        self.bass_lp.reset();
        self.bass_hold.reset();
        self.env = 1.0;
        self.box_ring = [Q; N];
        self.box_pos = 0;
        self.box_sum = self.box_full;
        self.gain = 1.0;
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        let true_peak = self.params.true_peak;
        for frame in frames.iter_mut() {
            self.frame(frame, true_peak);
            if self.counter & 63 == 0 {
                // Fixed schedule (frame count, not block), so block splits do not matter.
                self.bass_lp.flush();
            }
        }
    }

    fn latency(&self) -> usize {
        self.delay()
    }
}
