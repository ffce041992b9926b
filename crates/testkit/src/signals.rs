//! Deterministic test signals, synthesised in code (no audio files are committed).
//!
//! Mono generators return `Vec<f32>`; [`to_frames`] copies a mono signal into every channel and
//! [`frames_from_fn`] builds multichannel signals. Amplitudes are linear (1.0 = full scale)
//! unless a name says `_db` (dBFS, peak).

use core::f64::consts::PI;
use lathe_core::db_to_gain;

/// A sine of `freq_hz` Hz, peak amplitude `amp`, starting phase `phase_rad`, `frames` long.
pub fn sine(freq_hz: f64, amp: f64, phase_rad: f64, sample_rate: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| (amp * (2.0 * PI * freq_hz * n as f64 / sample_rate + phase_rad).sin()) as f32)
        .collect()
}

/// One segment of a [`tone_sequence`]: frequency (Hz), peak level (dBFS), duration (s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tone {
    /// Frequency in Hz.
    pub freq_hz: f64,
    /// Peak level in dBFS; `f64::NEG_INFINITY` for silence.
    pub level_db: f64,
    /// Duration in seconds (rounded to whole frames).
    pub seconds: f64,
}

impl Tone {
    /// A segment of `seconds` at `level_db` dBFS and `freq_hz` Hz.
    pub const fn new(freq_hz: f64, level_db: f64, seconds: f64) -> Self {
        Self {
            freq_hz,
            level_db,
            seconds,
        }
    }
}

/// Tone segments joined with a continuous phase (no discontinuity at level changes), as the
/// EBU Tech 3341/3342 test signals are defined.
pub fn tone_sequence(tones: &[Tone], sample_rate: f64) -> Vec<f32> {
    let mut out = Vec::new();
    let mut phase = 0.0f64;
    for t in tones {
        let n = (t.seconds * sample_rate).round() as usize;
        let amp = db_to_gain(t.level_db);
        let step = 2.0 * PI * t.freq_hz / sample_rate;
        for _ in 0..n {
            out.push((amp * phase.sin()) as f32);
            phase += step;
            if phase > 2.0 * PI {
                phase -= 2.0 * PI;
            }
        }
    }
    out
}

/// A seeded pseudo-random generator (SplitMix64): the same seed gives the same noise everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    /// Standard normal (Box–Muller).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }
}

/// White noise, uniform in `[-amp, amp)`, from `seed`.
pub fn white_noise(amp: f64, seed: u64, frames: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..frames).map(|_| (amp * rng.uniform()) as f32).collect()
}

/// Pink (1/f) noise from `seed` (Paul Kellet's refined filter on white noise), scaled so its
/// RMS is `rms`.
pub fn pink_noise(rms: f64, seed: u64, frames: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut b = [0.0f64; 7];
    let mut raw: Vec<f64> = (0..frames)
        .map(|_| {
            let w = rng.uniform();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.1538520;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let y = b.iter().sum::<f64>() + w * 0.5362;
            b[6] = w * 0.115926;
            y
        })
        .collect();
    let r = (raw.iter().map(|x| x * x).sum::<f64>() / frames.max(1) as f64).sqrt();
    if r > 0.0 {
        raw.iter_mut().for_each(|x| *x *= rms / r);
    }
    raw.into_iter().map(|x| x as f32).collect()
}

/// An exponential (log) sine sweep from `f0_hz` to `f1_hz` over `frames`, peak `amp`.
pub fn log_sweep(f0_hz: f64, f1_hz: f64, amp: f64, sample_rate: f64, frames: usize) -> Vec<f32> {
    let t_total = frames as f64 / sample_rate;
    let k = (f1_hz / f0_hz).ln();
    (0..frames)
        .map(|n| {
            let t = n as f64 / sample_rate;
            let phase = 2.0 * PI * f0_hz * t_total / k * ((t / t_total * k).exp() - 1.0);
            (amp * phase.sin()) as f32
        })
        .collect()
}

/// A unit impulse of height `amp` at frame `at`.
pub fn impulse(amp: f32, at: usize, frames: usize) -> Vec<f32> {
    let mut v = vec![0.0; frames];
    if at < frames {
        v[at] = amp;
    }
    v
}

/// A step from 0 to `amp` at frame `at`.
pub fn step(amp: f32, at: usize, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| if n >= at { amp } else { 0.0 })
        .collect()
}

/// A naive (aliased, hard-edged) square wave of `freq_hz` and peak `amp`: the harshest input
/// a processor meets.
pub fn square(freq_hz: f64, amp: f32, sample_rate: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| {
            let ph = (freq_hz * n as f64 / sample_rate).fract();
            if ph < 0.5 {
                amp
            } else {
                -amp
            }
        })
        .collect()
}

/// Copies a mono signal into every channel of `CH`-channel frames.
pub fn to_frames<const CH: usize>(mono: &[f32]) -> Vec<[f32; CH]> {
    mono.iter().map(|&x| [x; CH]).collect()
}

/// Builds `frames` frames from `f(frame_index, channel)`.
pub fn frames_from_fn<const CH: usize>(
    frames: usize,
    mut f: impl FnMut(usize, usize) -> f32,
) -> Vec<[f32; CH]> {
    (0..frames)
        .map(|n| core::array::from_fn(|ch| f(n, ch)))
        .collect()
}

/// Takes one channel out of interleaved frames.
pub fn channel<const CH: usize>(frames: &[[f32; CH]], ch: usize) -> Vec<f32> {
    frames.iter().map(|f| f[ch]).collect()
}

/// A music-like stereo test mix: a kick-like thump, a bass line, a chord pad, hats (noise
/// bursts) and a melody, each panned differently, at roughly `level_db` dBFS peak.
/// Deterministic for a given `seed`.
pub fn music_like(sample_rate: f64, seconds: f64, level_db: f64, seed: u64) -> Vec<[f32; 2]> {
    let frames = (seconds * sample_rate).round() as usize;
    let mut rng = Rng::new(seed);
    let beat = (0.5 * sample_rate) as usize; // 120 bpm
    let notes = [55.0, 55.0, 65.41, 49.0];
    let melody = [
        440.0, 493.88, 523.25, 587.33, 659.25, 587.33, 523.25, 493.88,
    ];
    let mut out = Vec::with_capacity(frames);
    let mut hat_env = 0.0f64;
    for n in 0..frames {
        let t = n as f64 / sample_rate;
        let in_beat = n % beat;
        let tb = in_beat as f64 / sample_rate;
        let bar = n / (4 * beat);
        let kick = (2.0 * PI * (50.0 + 100.0 * (-tb * 30.0).exp()) * tb).sin() * (-tb * 8.0).exp();
        let bass_f = notes[bar % notes.len()];
        let bass = 0.5 * (2.0 * PI * bass_f * t).sin() + 0.15 * (4.0 * PI * bass_f * t).sin();
        let pad = [261.63, 329.63, 392.0]
            .iter()
            .map(|f| (2.0 * PI * f * t).sin())
            .sum::<f64>()
            * 0.12;
        if in_beat == beat / 2 {
            hat_env = 1.0;
        }
        hat_env *= 0.9992;
        let hat = rng.uniform() * hat_env * 0.25;
        let mel_f = melody[(n / (beat / 2)) % melody.len()];
        let mel = 0.2 * (2.0 * PI * mel_f * t).sin() * (1.0 - (-tb * 40.0).exp());
        let l = 0.45 * kick + 0.4 * bass + pad * 1.1 + hat * 0.7 + mel * 0.4;
        let r = 0.45 * kick + 0.4 * bass + pad * 0.9 + hat * 1.3 + mel * 1.0;
        out.push([l, r]);
    }
    let peak = out
        .iter()
        .flat_map(|f| f.iter())
        .fold(0.0f64, |a, &b| a.max(b.abs()));
    let g = if peak > 0.0 {
        db_to_gain(level_db) / peak
    } else {
        1.0
    };
    out.into_iter()
        .map(|[l, r]| [(l * g) as f32, (r * g) as f32])
        .collect()
}

/// Applies raised-cosine fades of `fade` frames at both ends (as EBU Tech 3341's true-peak
/// signals do, so that no onset rings).
pub fn faded(mut x: Vec<f32>, fade: usize) -> Vec<f32> {
    let n = x.len();
    let fade = fade.min(n / 2);
    for i in 0..fade {
        let g = (0.5 - 0.5 * (PI * i as f64 / fade as f64).cos()) as f32;
        x[i] *= g;
        x[n - 1 - i] *= g;
    }
    x
}
