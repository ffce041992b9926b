//! A small, dense mastering reverb: a diffuser and an 8-line feedback delay network.

use core::f64::consts::{FRAC_1_SQRT_2, PI};
use lathe_core::biquad::{high_pass, Biquad};
use lathe_core::{Error, ProcessSpec, Processor, Result, Smoothed, MAX_SAMPLE_RATE};

/// Longest pre-delay, in ms.
pub const MAX_PREDELAY_MS: f64 = 100.0;
/// Ramp for mix and width changes, in ms.
pub const MIX_RAMP_MS: f64 = 20.0;
/// Ramp for decay, damping and high-pass changes (applied every 32 frames), in ms.
pub const TONE_RAMP_MS: f64 = 50.0;
/// Ramp for size and pre-delay changes (the delay lengths glide, with interpolated reads), in
/// ms.
pub const DELAY_RAMP_MS: f64 = 150.0;
/// Frequency at which the damping sets the decay time, in Hz (see [`ReverbParams::damping`]).
pub const DAMPING_REF_HZ: f64 = 4_000.0;
/// Magnitude (linear, +120 dBFS) at which the wet path clamps its input, so that no finite
/// input can overflow the recursive state.
pub const WET_INPUT_LIMIT: f32 = 1.0e6;

/// Frames between two control-rate updates (coefficient glides, denormal flushing). Updates
/// happen at fixed sample positions, so the output does not depend on the block split.
const CONTROL: usize = 32;
const LINES: usize = 8;
const STAGES: usize = 3;
/// Delay entries: pre-delay, diffuser stages, feedback lines.
const DELAYS: usize = 1 + STAGES * LINES + LINES;
/// `1 / sqrt(8)`: makes the 8x8 Hadamard matrix orthonormal.
const HADAMARD_SCALE: f32 = 0.353_553_4;

/// Feedback line lengths at size 1, in µs (spread over 25..70 ms, no common ratios).
const LINE_US: [u32; LINES] = [
    25_300, 28_900, 33_100, 37_700, 43_300, 49_100, 56_900, 67_300,
];
/// Longest delay of each diffuser stage at size 1, in µs.
const STAGE_US: [u32; STAGES] = [11_000, 6_400, 3_600];
/// Per-stage, per-channel fraction of the stage length (spread, irregular).
const STAGE_FRAC: [[f64; LINES]; STAGES] = [
    [0.93, 0.17, 0.58, 0.36, 0.81, 0.26, 0.69, 0.47],
    [0.31, 0.74, 0.12, 0.88, 0.52, 0.97, 0.41, 0.63],
    [0.66, 0.43, 0.95, 0.22, 0.77, 0.35, 0.11, 0.86],
];
/// Polarity flips applied after each diffuser stage's Hadamard mix.
const STAGE_SIGN: [[f32; LINES]; STAGES] = [
    [1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0],
    [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0],
    [1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0],
];
/// Output taps: two rows of the 8x8 Hadamard matrix, orthogonal to each other and to the
/// Householder matrix's eigenvector (all ones), so the wet left and right are decorrelated.
const TAP_L: [f32; LINES] = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
const TAP_R: [f32; LINES] = [1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0];

/// Parameters of the [`Reverb`] (natural units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverbParams {
    /// Wet level, 0 ..= 1: `out = dry + mix · wet`. The dry signal is never attenuated, so 0 is a
    /// bypass (the tail keeps running, ready for when the mix comes back). The wet path is
    /// normalised to roughly unity energy gain for steady noise, whatever the decay and size.
    /// Default 0.08 (about −22 dB: depth, not a wash).
    pub mix: f64,
    /// Decay time RT60 (time for the tail to fall by 60 dB) at low and mid frequencies, in
    /// seconds, 0.1 ..= 20. Default 1.2.
    pub decay_s: f64,
    /// Pre-delay before the reverb input, in ms, 0 ..= 100 (at least one frame). Default 10.
    pub predelay_ms: f64,
    /// High-frequency damping, 0 ..= 1: the decay time at [`DAMPING_REF_HZ`] (4 kHz) is
    /// `(1 − 0.85 · damping) · decay_s` (Jot's absorbent filters). Default 0.5.
    pub damping: f64,
    /// Room size, 0 ..= 1: scales every delay by `0.3 + 0.7 · size` (feedback lines 25 ..= 67 ms
    /// at size 1). Default 0.5.
    pub size: f64,
    /// Width of the wet signal, 0 (mono) ..= 1 (fully decorrelated left and right). A factor
    /// on the wet side signal. Default 1.
    pub width: f64,
    /// Corner of the 12 dB/octave Butterworth high-pass on the wet signal, in Hz, 20 ..= 1000:
    /// the low end stays dry. Default 200.
    pub highpass_hz: f64,
}

impl Default for ReverbParams {
    fn default() -> Self {
        Self {
            mix: 0.08,
            decay_s: 1.2,
            predelay_ms: 10.0,
            damping: 0.5,
            size: 0.5,
            width: 1.0,
            highpass_hz: 200.0,
        }
    }
}

impl ReverbParams {
    /// Checks every parameter against its range.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming the first bad parameter (`"mix"`, `"decay_s"`,
    /// `"predelay_ms"`, `"damping"`, `"size"`, `"width"`, `"highpass_hz"`).
    pub fn validate(&self) -> Result<()> {
        Error::check_range("mix", self.mix, 0.0, 1.0)?;
        Error::check_range("decay_s", self.decay_s, 0.1, 20.0)?;
        Error::check_range("predelay_ms", self.predelay_ms, 0.0, MAX_PREDELAY_MS)?;
        Error::check_range("damping", self.damping, 0.0, 1.0)?;
        Error::check_range("size", self.size, 0.0, 1.0)?;
        Error::check_range("width", self.width, 0.0, 1.0)?;
        Error::check_range("highpass_hz", self.highpass_hz, 20.0, 1_000.0)?;
        Ok(())
    }
}

fn frames_for(us: u32, rate_hz: u64) -> usize {
    // ceil(us · fs / 1e6) plus room for the interpolated read.
    ((u64::from(us) * rate_hz).div_ceil(1_000_000) + 3) as usize
}

const fn frames_for_const(us: u32, rate_hz: u64) -> usize {
    ((us as u64 * rate_hz).div_ceil(1_000_000) + 3) as usize
}

const fn max_line_us() -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < LINES {
        if LINE_US[i] > m {
            m = LINE_US[i];
        }
        i += 1;
    }
    m
}

/// Number of `f32` the [`Reverb`]'s delay lines need at `sample_rate_hz` Hz (whole Hz, rounded
/// up), for the largest size and pre-delay. A `const fn`, for fixed arrays:
/// `[0.0f32; reverb_storage(48_000)]`.
pub const fn reverb_storage(sample_rate_hz: u32) -> usize {
    let fs = sample_rate_hz as u64;
    let mut n = 2 * frames_for_const((MAX_PREDELAY_MS * 1000.0) as u32, fs);
    let mut s = 0;
    while s < STAGES {
        n += LINES * frames_for_const(STAGE_US[s], fs);
        s += 1;
    }
    n + LINES * frames_for_const(max_line_us(), fs)
}

/// One interleaved ring buffer inside the lent storage.
#[derive(Debug, Clone, Copy, Default)]
struct Ring {
    off: usize,
    frames: usize,
    pos: usize,
}

impl Ring {
    /// Index of channel `ch` of the frame written `d` frames before the one about to be
    /// written (`1 <= d <= frames`).
    #[inline(always)]
    fn index<const C: usize>(&self, ch: usize, d: usize) -> usize {
        let i = if self.pos >= d {
            self.pos - d
        } else {
            self.pos + self.frames - d
        };
        self.off + i * C + ch
    }

    #[inline(always)]
    fn read<const C: usize>(&self, buf: &[f32], ch: usize, d: usize) -> f32 {
        buf[self.index::<C>(ch, d)]
    }

    /// Linearly interpolated read at a fractional delay (`1 <= d <= frames - 1`).
    #[inline(always)]
    fn read_frac<const C: usize>(&self, buf: &[f32], ch: usize, d: f64) -> f32 {
        let di = d as usize;
        let fr = (d - di as f64) as f32;
        let a = buf[self.index::<C>(ch, di)];
        let b = buf[self.index::<C>(ch, di + 1)];
        a + (b - a) * fr
    }

    #[inline(always)]
    fn write<const C: usize>(&mut self, buf: &mut [f32], frame: &[f32; C]) {
        let at = self.off + self.pos * C;
        buf[at..at + C].copy_from_slice(frame);
        self.pos += 1;
        if self.pos == self.frames {
            self.pos = 0;
        }
    }
}

/// The storage layout at one sample rate.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    predelay: Ring,
    stages: [Ring; STAGES],
    lines: Ring,
    total: usize,
}

impl Layout {
    fn new(sample_rate: f64) -> Self {
        let fs = libm::ceil(sample_rate.clamp(1.0, MAX_SAMPLE_RATE)) as u64;
        let mut off = 0;
        let mut ring = |frames: usize, ch: usize| {
            let r = Ring {
                off,
                frames,
                pos: 0,
            };
            off += frames * ch;
            r
        };
        let predelay = ring(frames_for((MAX_PREDELAY_MS * 1000.0) as u32, fs), 2);
        let stages = STAGE_US.map(|us| ring(frames_for(us, fs), LINES));
        let lines = ring(frames_for(max_line_us(), fs), LINES);
        Self {
            predelay,
            stages,
            lines,
            total: off,
        }
    }

    /// Largest allowed delay of delay entry `k`.
    fn max_delay(&self, k: usize) -> f64 {
        let frames = if k == 0 {
            self.predelay.frames
        } else if k <= STAGES * LINES {
            self.stages[(k - 1) / LINES].frames
        } else {
            self.lines.frames
        };
        (frames - 2) as f64
    }
}

#[inline(always)]
fn hadamard8(x: &mut [f32; LINES]) {
    let mut h = 1;
    while h < LINES {
        let mut i = 0;
        while i < LINES {
            for j in i..i + h {
                let (a, b) = (x[j], x[j + h]);
                x[j] = a + b;
                x[j + h] = a - b;
            }
            i += 2 * h;
        }
        h *= 2;
    }
    for v in x.iter_mut() {
        *v *= HADAMARD_SCALE;
    }
}

#[inline(always)]
fn flush(v: f32) -> f32 {
    if v.abs() < 1e-30 {
        0.0
    } else {
        v
    }
}

#[inline(always)]
fn sanitize(v: f32) -> f32 {
    if v.is_finite() {
        flush(v.clamp(-WET_INPUT_LIMIT, WET_INPUT_LIMIT))
    } else {
        0.0
    }
}

/// A small, dense, smooth reverb for mastering: adds depth at low mix levels without
/// clouding the low end.
///
/// Structure (after J.-M. Jot and A. Chaigne, "Digital delay networks for designing artificial
/// reverberators", AES 90th Convention, 1991, for the feedback network and its absorbent
/// filters, and G. Luff, "Let's Write a Reverb", ADC 2021, for the multichannel Hadamard
/// diffuser):
///
/// 1. the input is clamped (see below) and pre-delayed ([`ReverbParams::predelay_ms`]);
/// 2. spread over 8 channels and diffused by 3 stages of (per-channel delay, 8x8 Hadamard mix,
///    polarity flips) — echo density is high from the first milliseconds;
/// 3. an 8-line feedback delay network with a Householder feedback matrix `I − (2/8)·1·1ᵀ`
///    (orthogonal: lossless without the attenuation); each line has a gain and a one-pole
///    low-pass (Jot's absorbent filter) set so that the tail falls by 60 dB in
///    [`ReverbParams::decay_s`] at low frequencies and in `(1 − 0.85 · damping) · decay_s` at
///    4 kHz;
/// 4. left and right are two orthogonal Hadamard rows of the line outputs (decorrelated),
///    narrowed by [`ReverbParams::width`], high-passed (12 dB/oct Butterworth,
///    [`ReverbParams::highpass_hz`]) and added to the untouched dry signal at
///    [`ReverbParams::mix`].
///
/// Every time is in ms or s and converted at the sample rate, so the sound is the same at
/// 44.1 and 192 kHz. The delay lines live in storage the caller lends (`S: AsMut<[f32]>`,
/// e.g. `Vec<f32>`, `&mut [f32]` or `[f32; N]`), sized by
/// [`required_storage`](Self::required_storage) / [`reverb_storage`]; nothing is allocated.
///
/// Parameter changes are smoothed: mix and width per sample over [`MIX_RAMP_MS`]; decay,
/// damping and high-pass every 32 frames over [`TONE_RAMP_MS`]; size and pre-delay by gliding
/// every delay length over [`DELAY_RAMP_MS`] with interpolated reads (a short, click-free
/// pitch glide, as on tape).
///
/// Denormals: values written to the delay lines and the damping-filter states are flushed to
/// zero below 1e-30 every frame, the high-pass state every 32 frames, so a silent tail decays
/// to exact zeros and costs no more than audio.
///
/// Non-finite input policy: the dry signal passes through as it is; on the wet path a
/// non-finite sample is replaced by silence and finite samples are clamped to
/// ±[`WET_INPUT_LIMIT`], so NaN or infinity never enters the recursive state and no finite
/// input can overflow it.
///
/// Before a successful [`prepare`](Processor::prepare) (e.g. when the storage is too small)
/// `process` leaves the audio untouched. Stereo only ([`Processor<2>`]); no latency.
#[derive(Clone)]
pub struct Reverb<S> {
    storage: S,
    params: ReverbParams,
    sample_rate: f64,
    prepared: bool,
    layout: Layout,
    // Smoothed parameters.
    mix: Smoothed,
    width: Smoothed,
    decay: Smoothed,
    damping: Smoothed,
    highpass: Smoothed,
    // Delay lengths (frames): current = to − (to − from)(1 − ramp).
    delay_from: [f64; DELAYS],
    delay_to: [f64; DELAYS],
    delay_ramp: Smoothed,
    // Control-rate coefficients.
    in_gain: f32,
    lp_b: [f32; LINES],
    lp_p: [f32; LINES],
    // State.
    lp_state: [f32; LINES],
    hp: Biquad<2>,
    ctl_phase: usize,
}

impl<S> core::fmt::Debug for Reverb<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reverb")
            .field("params", &self.params)
            .field("sample_rate", &self.sample_rate)
            .field("prepared", &self.prepared)
            .field("storage_used", &self.layout.total)
            .finish_non_exhaustive()
    }
}

impl<S> Reverb<S> {
    /// Number of `f32` the delay lines need at `sample_rate` Hz (for the largest size and
    /// pre-delay): 43 622 at 48 kHz (170 KiB), 87 126 at 96 kHz, 348 174 at 384 kHz; a rate
    /// that is not finite is sized for 384 kHz. [`reverb_storage`] is the `const` version.
    pub fn required_storage(sample_rate: f64) -> usize {
        Layout::new(if sample_rate.is_finite() {
            sample_rate
        } else {
            MAX_SAMPLE_RATE
        })
        .total
    }

    /// The parameters in use (the targets of any ramp in progress).
    pub fn params(&self) -> ReverbParams {
        self.params
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.storage
    }
}

impl<S: AsMut<[f32]> + AsRef<[f32]>> Reverb<S> {
    /// A reverb running in `storage` with `params`. Nothing is checked here:
    /// [`prepare`](Processor::prepare) validates the parameters and the storage size.
    pub fn new(storage: S, params: ReverbParams) -> Self {
        Self {
            storage,
            params,
            sample_rate: 0.0,
            prepared: false,
            layout: Layout::default(),
            mix: Smoothed::new(params.mix),
            width: Smoothed::new(params.width),
            decay: Smoothed::new(params.decay_s),
            damping: Smoothed::new(params.damping),
            highpass: Smoothed::new(params.highpass_hz),
            delay_from: [1.0; DELAYS],
            delay_to: [1.0; DELAYS],
            delay_ramp: Smoothed::new(1.0),
            in_gain: 0.0,
            lp_b: [0.0; LINES],
            lp_p: [0.0; LINES],
            lp_state: [0.0; LINES],
            hp: Biquad::default(),
            ctl_phase: 0,
        }
    }

    /// Sets new parameters (smoothed, see the type docs).
    ///
    /// # Errors
    /// From [`ReverbParams::validate`]; the previous parameters stay in use.
    pub fn set_params(&mut self, params: ReverbParams) -> Result<()> {
        params.validate()?;
        if self.prepared {
            Error::check_below_nyquist(params.highpass_hz, self.sample_rate)?;
        }
        self.params = params;
        self.mix.set_target(params.mix);
        self.width.set_target(params.width);
        self.decay.set_target(params.decay_s);
        self.damping.set_target(params.damping);
        self.highpass.set_target(params.highpass_hz);
        if self.prepared {
            let to = self.delay_targets();
            if to != self.delay_to {
                let current = self.current_delays();
                self.delay_from = current;
                self.delay_to = to;
                self.delay_ramp.set_immediate(0.0);
                self.delay_ramp.set_target(1.0);
            }
        }
        Ok(())
    }

    /// Delay lengths (whole frames) for the current target parameters.
    fn delay_targets(&self) -> [f64; DELAYS] {
        let fs = self.sample_rate;
        let scale = 0.3 + 0.7 * self.params.size;
        let mut d = [1.0; DELAYS];
        d[0] = self.params.predelay_ms * 1e-3 * fs;
        for s in 0..STAGES {
            for c in 0..LINES {
                d[1 + s * LINES + c] =
                    f64::from(STAGE_US[s]) * 1e-6 * fs * STAGE_FRAC[s][c] * scale;
            }
        }
        for c in 0..LINES {
            d[1 + STAGES * LINES + c] = f64::from(LINE_US[c]) * 1e-6 * fs * scale;
        }
        for (k, v) in d.iter_mut().enumerate() {
            *v = libm::round(*v).clamp(1.0, self.layout.max_delay(k));
        }
        d
    }

    fn current_delays(&self) -> [f64; DELAYS] {
        let r = self.delay_ramp.current();
        core::array::from_fn(|k| {
            let (a, b) = (self.delay_from[k], self.delay_to[k]);
            b - (b - a) * (1.0 - r)
        })
    }

    /// Recomputes the control-rate coefficients from the current smoothed values.
    fn update_coeffs(&mut self) {
        let fs = self.sample_rate;
        let t60 = self.decay.current();
        let ratio = 1.0 - 0.85 * self.damping.current();
        let d = self.current_delays();
        let line = &d[1 + STAGES * LINES..];
        // Per-line gain for -60 dB after t60 (Jot): g = 10^(-3 d / (t60 fs)).
        let w = 2.0 * PI * DAMPING_REF_HZ.min(0.45 * fs) / fs;
        let cw = libm::cos(w);
        let mut mean = 0.0;
        for (c, &len) in line.iter().enumerate() {
            let g = libm::pow(10.0, -3.0 * len / (t60 * fs));
            let g_ref = libm::pow(10.0, -3.0 * len / (t60 * ratio * fs));
            // One-pole b / (1 − p z⁻¹) with b = g (1 − p): DC gain g, gain g_ref at w.
            let k = (g_ref * g_ref) / (g * g);
            let p = if k < 1.0 {
                let a = (1.0 - k * cw) / (1.0 - k);
                a - libm::sqrt(a * a - 1.0)
            } else {
                0.0
            };
            self.lp_p[c] = p as f32;
            self.lp_b[c] = (g * (1.0 - p)) as f32;
            mean += len;
        }
        mean /= LINES as f64;
        // Steady-state energy of the network grows as 1 / (1 − g²): normalise the input.
        let g_mean = libm::pow(10.0, -3.0 * mean / (t60 * fs));
        self.in_gain = (0.5 * libm::sqrt(1.0 - g_mean * g_mean)) as f32;
        let hz = self.highpass.current();
        if let Ok(c) = high_pass(hz, FRAC_1_SQRT_2, fs) {
            self.hp.coeffs = c;
        }
    }

    fn tone_smoothing(&self) -> bool {
        self.decay.is_smoothing()
            || self.damping.is_smoothing()
            || self.highpass.is_smoothing()
            || self.delay_ramp.is_smoothing()
    }

    /// The control-rate tick: glide the tone parameters, refresh coefficients, flush state.
    fn control_tick(&mut self) {
        if self.tone_smoothing() {
            self.decay.skip(CONTROL);
            self.damping.skip(CONTROL);
            self.highpass.skip(CONTROL);
            self.update_coeffs();
        }
        self.hp.flush();
    }

    fn clear_state(&mut self) {
        let total = self.layout.total;
        if let Some(buf) = self.storage.as_mut().get_mut(..total) {
            buf.fill(0.0);
        }
        self.layout.predelay.pos = 0;
        for r in self.layout.stages.iter_mut() {
            r.pos = 0;
        }
        self.layout.lines.pos = 0;
        self.lp_state = [0.0; LINES];
        self.hp.reset();
        self.ctl_phase = 0;
    }

    fn jump_to_targets(&mut self) {
        for s in [
            &mut self.mix,
            &mut self.width,
            &mut self.decay,
            &mut self.damping,
            &mut self.highpass,
        ] {
            s.reset();
        }
        let to = self.delay_targets();
        self.delay_from = to;
        self.delay_to = to;
        self.delay_ramp.set_immediate(1.0);
        self.update_coeffs();
    }

    /// Runs `frames` (within one control period) with delays gliding (`GLIDE`) or fixed.
    #[inline(always)]
    fn run<const GLIDE: bool>(&mut self, frames: &mut [[f32; 2]]) {
        let buf = self.storage.as_mut();
        let lay = &mut self.layout;
        let fixed: [usize; DELAYS] = self.delay_to.map(|d| d as usize);
        let lp_b = self.lp_b;
        let lp_p = self.lp_p;
        let in_gain = self.in_gain;
        let mut lp = self.lp_state;
        let out_k = FRAC_1_SQRT_2 as f32;
        let mut delays = self.delay_to;
        for f in frames.iter_mut() {
            if GLIDE {
                let r = self.delay_ramp.next();
                for (k, d) in delays.iter_mut().enumerate() {
                    let (a, b) = (self.delay_from[k], self.delay_to[k]);
                    *d = b - (b - a) * (1.0 - r);
                }
            }

            // 1. Clamp and pre-delay.
            let wet_in = [sanitize(f[0]), sanitize(f[1])];
            let [pl, pr] = read::<2, 0, GLIDE>(&lay.predelay, buf, &fixed, &delays);
            lay.predelay.write::<2>(buf, &wet_in);

            // 2. Spread over 8 channels and diffuse.
            let (pl, pr) = (pl * in_gain, pr * in_gain);
            let x = [pl, pr, pl, pr, pl, pr, pl, pr];
            let x = diffuse::<0, GLIDE>(&mut lay.stages[0], buf, &fixed, &delays, x);
            let x = diffuse::<1, GLIDE>(&mut lay.stages[1], buf, &fixed, &delays, x);
            let x = diffuse::<2, GLIDE>(&mut lay.stages[2], buf, &fixed, &delays, x);

            // 3. Feedback delay network.
            let y: [f32; LINES] =
                read::<LINES, { 1 + STAGES * LINES }, GLIDE>(&lay.lines, buf, &fixed, &delays);
            for c in 0..LINES {
                // Flushed per sample: between two control ticks a decaying state could
                // otherwise sink below 1e-38 (subnormal) on silence.
                lp[c] = flush(lp_b[c] * y[c] + lp_p[c] * lp[c]);
            }
            let sum: f32 = lp.iter().sum::<f32>() * (2.0 / LINES as f32);
            let mut back = [0.0f32; LINES];
            for c in 0..LINES {
                back[c] = flush(lp[c] - sum + x[c]);
            }
            lay.lines.write::<LINES>(buf, &back);

            // 4. Taps, width, high-pass, mix.
            let mut wl = 0.0f32;
            let mut wr = 0.0f32;
            for c in 0..LINES {
                wl += TAP_L[c] * y[c];
                wr += TAP_R[c] * y[c];
            }
            let width = self.width.next();
            let mix = self.mix.next();
            let (wl, wr) = (f64::from(wl * out_k), f64::from(wr * out_k));
            let m = 0.5 * (wl + wr);
            let s = 0.5 * (wl - wr) * width;
            let [hl, hr] = self.hp.tick_frame([m + s, m - s]);
            f[0] += (mix * hl) as f32;
            f[1] += (mix * hr) as f32;
        }
        self.lp_state = lp;
    }
}

/// Reads all `C` channels of `ring`, channel `c` at delay entry `K + c` (for `C = 2`, both
/// channels share entry `K`).
#[inline(always)]
fn read<const C: usize, const K: usize, const GLIDE: bool>(
    ring: &Ring,
    buf: &[f32],
    fixed: &[usize; DELAYS],
    delays: &[f64; DELAYS],
) -> [f32; C] {
    core::array::from_fn(|c| {
        let k = if C == 2 { K } else { K + c };
        if GLIDE {
            ring.read_frac::<C>(buf, c, delays[k])
        } else {
            ring.read::<C>(buf, c, fixed[k])
        }
    })
}

/// One diffuser stage: per-channel delays, an orthonormal Hadamard mix, a channel rotation
/// and polarity flips (all fixed per stage, so they compile to constants).
#[inline(always)]
fn diffuse<const S: usize, const GLIDE: bool>(
    ring: &mut Ring,
    buf: &mut [f32],
    fixed: &[usize; DELAYS],
    delays: &[f64; DELAYS],
    x: [f32; LINES],
) -> [f32; LINES] {
    let mut y: [f32; LINES] = match S {
        0 => read::<LINES, 1, GLIDE>(ring, buf, fixed, delays),
        1 => read::<LINES, { 1 + LINES }, GLIDE>(ring, buf, fixed, delays),
        _ => read::<LINES, { 1 + 2 * LINES }, GLIDE>(ring, buf, fixed, delays),
    };
    ring.write::<LINES>(buf, &x);
    hadamard8(&mut y);
    core::array::from_fn(|c| STAGE_SIGN[S][c] * y[(c + 3 * S + 1) % LINES])
}

impl<S: AsMut<[f32]> + AsRef<[f32]>> Processor<2> for Reverb<S> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        self.params.validate()?;
        Error::check_below_nyquist(self.params.highpass_hz, spec.sample_rate)?;
        let layout = Layout::new(spec.sample_rate);
        let capacity = self.storage.as_ref().len();
        if capacity < layout.total {
            self.prepared = false;
            return Err(Error::CapacityExceeded {
                needed: layout.total,
                capacity,
            });
        }
        self.layout = layout;
        self.sample_rate = spec.sample_rate;
        for s in [&mut self.mix, &mut self.width] {
            s.set_ramp(MIX_RAMP_MS, spec.sample_rate);
        }
        for s in [&mut self.decay, &mut self.damping, &mut self.highpass] {
            s.set_ramp(TONE_RAMP_MS, spec.sample_rate);
        }
        self.delay_ramp.set_ramp(DELAY_RAMP_MS, spec.sample_rate);
        self.prepared = true;
        self.jump_to_targets();
        self.clear_state();
        Ok(())
    }

    fn reset(&mut self) {
        if self.prepared {
            self.jump_to_targets();
            self.clear_state();
        }
    }

    fn process(&mut self, frames: &mut [[f32; 2]]) {
        if !self.prepared {
            return;
        }
        let mut rest = frames;
        while !rest.is_empty() {
            if self.ctl_phase == 0 {
                self.control_tick();
            }
            let n = rest.len().min(CONTROL - self.ctl_phase);
            let (seg, tail) = rest.split_at_mut(n);
            if self.delay_ramp.is_smoothing() {
                self.run::<true>(seg);
            } else {
                self.run::<false>(seg);
            }
            self.ctl_phase = (self.ctl_phase + n) % CONTROL;
            rest = tail;
        }
    }
}
