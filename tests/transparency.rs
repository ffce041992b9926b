//! Transparency when pushed (issue #7): a 30 s dense mix taken from -17 to -9 LUFS at a
//! -1 dBTP ceiling by Lathe, by ffmpeg's `alimiter` and by pedalboard's `Limiter`, each landing
//! at -9.0 LUFS, judged by the energy left after removing a slowly varying gain (a
//! least-squares gain per 10 ms block, between what reaches each limiter and what comes out;
//! dB re the output energy: lower is cleaner).
//!
//! # The peers, ported
//!
//! The tests must run without ffmpeg or Python, so both peers' limiters are re-written here as
//! plain Rust, from reading their sources:
//!
//! - **ffmpeg `alimiter`** (libavfilter/af_alimiter.c, as in ffmpeg 5.1): a lookahead ring as
//!   long as the attack (5 ms); each new sample over the limit starts a linear gain ramp
//!   that reaches `limit / peak` over the lookahead (or queues a later breakpoint on the
//!   current ramp), the gain jumps to `limit / peak` when that sample leaves, then rises
//!   linearly by `(1 - gain) / (fs * release)` per sample; a final hard clip at the limit.
//!   All in `f64`. Defaults kept: attack 5 ms, release 50 ms, `asc` off. Its `level` option
//!   (on by default) multiplies the output by `1 / limit`, back up to 0 dBFS, so a user who
//!   wants a -1 dB ceiling sets `limit=-1dB:level=disabled`; that is what is ported, with
//!   `latency=1` (the lookahead delay removed as the filter does it: the first 239 outputs
//!   dropped, 239 zeros fed at the end).
//! - **pedalboard `Limiter`** (pedalboard/plugins/Limiter.h wraps JUCE's
//!   `juce::dsp::Limiter<float>`: modules/juce_dsp/widgets/juce_Limiter.cpp,
//!   juce_Compressor.cpp, processors/juce_BallisticsFilter.cpp): two `dsp::Compressor`
//!   stages in series, per channel (unlinked), each a peak ballistics filter on `|x|`
//!   (`y = |x| + c (y - |x|)`, `c = exp(-2 pi 1000 / (fs t_ms))`, so "100 ms" is a 15.9 ms
//!   time constant) and a gain `(env / threshold)^(1 / ratio - 1)` at or above the
//!   threshold; stage 1 fixed at -10 dB, ratio 4, attack 2 ms, release 200 ms; stage 2 at
//!   the user's threshold, ratio 1000, attack 0.001 ms (instant), the user's release; then a
//!   gain of `+3.75 dB - threshold` and a hard clip at ±1. All in `f32`. (The JUCE 6
//!   Compressor source shows a half-wave `max(0, x)` before the filter; pedalboard 0.9.26 as
//!   shipped limits negative peaks too, and agrees bit for bit with `|x|`.) Its controls are
//!   threshold (default -10 dB) and release (default 100 ms); its clip sits at 0 dBFS
//!   whatever the threshold, so the only way to lower its ceiling is a gain after it.
//!
//! Each peer's input gain is found by regula falsi so that its output lands at -9.0 LUFS
//! within 0.01 LU (Lathe lands by its own mastering passes, within its 0.05 LU tolerance).
//! The peers are run two ways:
//!
//! - **held to the ceiling**, as a user checking with a BS.1770 meter would: alimiter's limit
//!   lowered, or a gain put after pedalboard's default-threshold limiter, to the loosest
//!   setting (within 0.05 dB) whose landed true peak (the project's BS.1770-4 meter) is at
//!   or under -1 dBTP;
//! - **set as issue #7 sets them**, at -1 dB (alimiter `limit=-1dB`, pedalboard
//!   `threshold_db=-1`), which leaves their true peaks over the ceiling.
//!
//! # Validation of the ports against the real tools
//!
//! `cargo test -p lathe --test transparency -- --ignored write_peer_validation_files` writes
//! each peer's input (the mix at the gain the test lands it with, plus other drives and
//! settings) and the port's output as 32-bit float WAVs; `tools/peers/run.sh` runs the real
//! ffmpeg and pedalboard on the same inputs and compares sample by sample. Neither tool is
//! needed by the tests. With ffmpeg 5.1.9 (Debian 12, 5.1.9-0+deb12u1) and pedalboard 0.9.26
//! (PyPI wheel, Python 3.11, numpy 2.4.6, soundfile 0.14.0), all seven cases agree **bit for
//! bit** (max |port - tool| = 0 over 1 440 000 stereo frames, no lag):
//!
//! - alimiter: landed at limit -1 dB (+8.25 dB in) and at the held limit -2.50 dB
//!   (+10.09 dB), +12 dB at limit 0 dB, +14 dB at limit -3 dB with 200 ms release;
//! - pedalboard: landed at threshold -1 dB (+5.18 dB) and at the default -10 dB (-5.75 dB),
//!   +12 dB at threshold -6 dB with 30 ms release.
//!
//! On the tools' own outputs, a numpy version of the measurement gives the same residuals
//! (-39.05, -29.35, -24.47, -46.96 dB for the four landed cases) and ffmpeg's `ebur128`
//! filter reads -9.0 LUFS for each (its true peak reads the held alimiter at -0.8 dBTP,
//! 0.2 dB above the project's meter: holding the peers to the project's meter is the
//! lenient choice).
//!
//! # Measured figures (this mix, -17 -> -9 LUFS, test profile)
//!
//! | contender | input gain | LUFS | true peak (meter / 8x) | residual |
//! |---|---|---|---|---|
//! | Lathe, transparent preset (true-peak limiter, 20 ms / 50 ms) | +8.85 dB | -9.017 | -1.10 / -1.08 dBTP | **-40.0 dB** |
//! | alimiter held to -1 dBTP (limit -2.50 dB) | +10.09 dB | -9.005 | -1.02 / -0.49 | -29.3 dB |
//! | pedalboard held to -1 dBTP (default threshold, then -2.95 dB) | -2.67 dB | -9.000 | -1.04 / -0.16 | -27.0 dB |
//! | alimiter, limit -1 dB (issue's setting) | +8.25 dB | -8.998 | +0.36 / +1.01 | -39.0 dB |
//! | pedalboard, threshold -1 dB (issue's setting) | +5.18 dB | -9.007 | +0.97 / +1.36 | -24.5 dB |
//! | pedalboard, default threshold -10 dB | -5.75 dB | -9.000 | +1.06 / +1.41 | -47.0 dB |
//! | Lathe's limiter alone, -1 dBFS sample peak, 5 ms / 50 ms | +8.50 dB | -9.010 | +0.36 / +1.01 | -38.7 dB |
//!
//! The main test asserts that Lathe is cleaner than every peer held to the ceiling and than
//! both peers at the issue's -1 dB setting: 10.7 dB cleaner than alimiter and 13.0 dB than
//! pedalboard held to -1 dBTP, and 1.0 dB cleaner than alimiter at its -1 dB sample-peak
//! limit, although alimiter there needs 0.6 dB less drive and lets the inter-sample peaks
//! reach +1.01 dBTP. (Before the limiter's attack became a straight glide released after the
//! smoothing, with 20 ms of lookahead in the presets, Lathe measured -35.8 dB here.)
//! pedalboard at its default threshold is not a -1 dB limiter: it mostly compresses slowly
//! (stage 1, 200 ms release) and lands by turning up into its 0 dBFS hard clip (0.055 % of
//! samples clipped, +1.41 dBTP), which this measurement hardly sees (-47.0 dB); it is printed
//! for the record, as is Lathe's limiter doing alimiter's job at 5 ms.

use lathe::loudness::LoudnessMeter;
use lathe::{ChainConfig, Preset, Target};
use lathe_core::db_to_gain;
use lathe_testkit::{analysis, signals};

mod common;

use common::{dense_mix, limiter_input, master, modulation_residual_db, FS};
/// Length of the dense mix in seconds.
const SECONDS: f64 = 30.0;
/// Loudness of the mix before the push, and after it (LUFS); the ceiling (dBTP).
const FROM_LUFS: f64 = -17.0;
const TO_LUFS: f64 = -9.0;
const CEILING_DB: f64 = -1.0;
/// How close each peer's output must land to `TO_LUFS` (LU).
const LANDING_LU: f64 = 0.05;

/// BS.1770-4 integrated loudness in LUFS (the project's meter, true peak off for speed).
fn integrated_lufs(x: &[[f32; 2]]) -> f64 {
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    m.set_true_peak_enabled(false);
    m.process(x);
    m.integrated_lufs()
}

/// Loudness (LUFS), true peak by the project's meter (dBTP), independent 8x true peak (dBTP)
/// and sample peak (dBFS).
#[derive(Clone, Copy, Debug)]
struct Levels {
    lufs: f64,
    true_peak_db: f64,
    true_peak_8x_db: f64,
    sample_peak_db: f64,
}

fn levels(x: &[[f32; 2]]) -> Levels {
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    m.process(x);
    let tp8 = analysis::true_peak_8x_db(&signals::channel(x, 0))
        .max(analysis::true_peak_8x_db(&signals::channel(x, 1)));
    Levels {
        lufs: m.integrated_lufs(),
        true_peak_db: m.true_peak_dbtp(),
        true_peak_8x_db: tp8,
        sample_peak_db: m.sample_peak_dbfs(),
    }
}

/// `x` times `gain_db`, rounded to `f32` (what reaches a peer's limiter).
fn gained(x: &[[f32; 2]], gain_db: f64) -> Vec<[f32; 2]> {
    let g = db_to_gain(gain_db) as f32;
    x.iter().map(|f| [f[0] * g, f[1] * g]).collect()
}

// ---------------------------------------------------------------------------------------------
// ffmpeg alimiter (libavfilter/af_alimiter.c), asc off, level off, latency compensated.
// ---------------------------------------------------------------------------------------------

/// Parameters of the `alimiter` port: `limit` linear (0.0625 ..= 1), attack and release in ms.
#[derive(Clone, Copy, Debug)]
struct AlimiterParams {
    limit: f64,
    attack_ms: f64,
    release_ms: f64,
}

impl AlimiterParams {
    /// ffmpeg's defaults (attack 5 ms, release 50 ms) with `limit` in dB.
    fn with_limit_db(limit_db: f64) -> Self {
        AlimiterParams {
            limit: db_to_gain(limit_db),
            attack_ms: 5.0,
            release_ms: 50.0,
        }
    }
}

/// The state of one stereo `alimiter` instance: an interleaved ring of `buffer_size` samples
/// (the lookahead), the gain `att` moving by `delta` per frame, and the queue of pending ramp
/// breakpoints (`nextpos`, `nextdelta`, read from `nextiter`, `nextlen` long; indices taken
/// modulo `buffer_size` as the filter does).
struct Alimiter {
    limit: f64,
    release_s: f64,
    sample_rate: f64,
    buffer: Vec<f64>,
    buffer_size: i64,
    pos: i64,
    nextpos: Vec<i64>,
    nextdelta: Vec<f64>,
    nextiter: i64,
    nextlen: i64,
    att: f64,
    delta: f64,
}

const CHANNELS: i64 = 2;

impl Alimiter {
    fn new(p: AlimiterParams, sample_rate: f64) -> Self {
        // config_input: a 100 ms (+1 frame) allocation for the queue, the ring is the attack.
        let obuffer_size = (sample_rate * CHANNELS as f64 * 100.0 / 1000.0) as i64 + CHANNELS;
        let mut buffer_size = (sample_rate * (p.attack_ms / 1000.0) * CHANNELS as f64) as i64;
        buffer_size -= buffer_size % CHANNELS;
        assert!(buffer_size > 0, "attack is too small");
        Alimiter {
            limit: p.limit,
            release_s: p.release_ms / 1000.0,
            sample_rate,
            buffer: vec![0.0; obuffer_size as usize],
            buffer_size,
            pos: 0,
            nextpos: vec![-1; obuffer_size as usize],
            nextdelta: vec![0.0; obuffer_size as usize],
            nextiter: 0,
            nextlen: 0,
            att: 1.0,
            delta: 0.0,
        }
    }

    /// Delay in frames between a sample entering the ring and leaving it.
    fn latency(&self) -> usize {
        (self.buffer_size / CHANNELS - 1) as usize
    }

    /// Largest magnitude of the frame stored at interleaved position `p`.
    fn frame_peak(&self, p: i64) -> f64 {
        let mut peak = 0.0f64;
        if p >= 0 {
            for c in 0..CHANNELS {
                peak = peak.max(self.buffer[(p + c) as usize].abs());
            }
        }
        peak
    }

    /// One frame in, one (delayed) frame out: the per-sample body of `filter_frame`.
    fn process_frame(&mut self, input: [f64; 2]) -> [f64; 2] {
        let bs = self.buffer_size;
        let limit = self.limit;
        let mut peak = 0.0f64;
        for (c, &x) in input.iter().enumerate() {
            self.buffer[self.pos as usize + c] = x;
            peak = peak.max(x.abs());
        }

        if peak > limit {
            let patt = (limit / peak).min(1.0);
            let rdelta = (1.0 - patt) / (self.sample_rate * self.release_s);
            let delta = (limit / peak - self.att) / bs as f64 * CHANNELS as f64;
            if delta < self.delta {
                // A steeper ramp than the current one: it replaces the queue.
                self.delta = delta;
                self.nextpos[0] = self.pos;
                self.nextpos[1] = -1;
                self.nextdelta[0] = rdelta;
                self.nextlen = 1;
                self.nextiter = 0;
            } else {
                // Otherwise the first queued breakpoint whose onward slope would not reach this
                // peak in time takes the steeper slope, and this peak is queued after it.
                let mut found = None;
                for i in self.nextiter..self.nextiter + self.nextlen {
                    let j = (i % bs) as usize;
                    let ppeak = self.frame_peak(self.nextpos[j]);
                    let frames = ((bs - self.nextpos[j] + self.pos) % bs) / CHANNELS;
                    let pdelta = (limit / peak - limit / ppeak) / frames as f64;
                    if pdelta < self.nextdelta[j] {
                        self.nextdelta[j] = pdelta;
                        found = Some(i);
                        break;
                    }
                }
                if let Some(i) = found {
                    self.nextlen = i - self.nextiter + 1;
                    self.nextpos[((self.nextiter + self.nextlen) % bs) as usize] = self.pos;
                    self.nextdelta[((self.nextiter + self.nextlen) % bs) as usize] = rdelta;
                    self.nextpos[((self.nextiter + self.nextlen + 1) % bs) as usize] = -1;
                    self.nextlen += 1;
                }
            }
        }

        // The oldest frame in the ring leaves now.
        let out_pos = (self.pos + CHANNELS) % bs;
        let buf = [
            self.buffer[out_pos as usize],
            self.buffer[out_pos as usize + 1],
        ];
        let peak = buf[0].abs().max(buf[1].abs());

        self.att += self.delta;
        let mut out = [buf[0] * self.att, buf[1] * self.att];

        if out_pos == self.nextpos[self.nextiter as usize] {
            self.delta = self.nextdelta[self.nextiter as usize];
            self.att = limit / peak;
            self.nextlen -= 1;
            self.nextpos[self.nextiter as usize] = -1;
            self.nextiter = (self.nextiter + 1) % bs;
        }

        if self.att > 1.0 {
            self.att = 1.0;
            self.delta = 0.0;
            self.nextiter = 0;
            self.nextlen = 0;
            self.nextpos[0] = -1;
        }
        if self.att <= 0.0 {
            self.att = 0.000_000_000_000_1;
            self.delta = (1.0 - self.att) / (self.sample_rate * self.release_s);
        }
        if self.att != 1.0 && (1.0 - self.att) < 0.000_000_000_000_1 {
            self.att = 1.0;
        }
        if self.delta != 0.0 && self.delta.abs() < 0.000_000_000_000_01 {
            self.delta = 0.0;
        }

        for o in &mut out {
            // av_clipd, then `level` (off) and `level_out` (1).
            *o = o.clamp(-limit, limit);
        }
        self.pos = out_pos;
        out
    }
}

/// `x` through a fresh `alimiter`, latency compensated as the filter's `latency=1` does, in
/// `f64` with the output rounded to `f32` (ffmpeg's sample conversion).
fn alimiter(x: &[[f32; 2]], p: AlimiterParams) -> Vec<[f32; 2]> {
    let mut lim = Alimiter::new(p, FS);
    let skip = lim.latency();
    let tail = core::iter::repeat_n([0.0f32; 2], skip);
    x.iter()
        .copied()
        .chain(tail)
        .map(|f| {
            let o = lim.process_frame([f64::from(f[0]), f64::from(f[1])]);
            [o[0] as f32, o[1] as f32]
        })
        .skip(skip)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// pedalboard.Limiter = juce::dsp::Limiter<float> (two dsp::Compressor stages, gain, clip).
// ---------------------------------------------------------------------------------------------

/// Parameters of the pedalboard `Limiter` port (its two controls), dB and ms.
#[derive(Clone, Copy, Debug)]
struct JuceLimiterParams {
    threshold_db: f32,
    release_ms: f32,
}

/// `juce::Decibels::decibelsToGain` in `f32` (`-inf` below `minus_infinity_db`).
fn juce_db_to_gain(db: f32, minus_infinity_db: f32) -> f32 {
    if db > minus_infinity_db {
        10.0f32.powf(db * 0.05)
    } else {
        0.0
    }
}

/// `juce::dsp::Compressor<float>` for two channels: half-wave rectifier, peak ballistics
/// filter per channel, and the gain computer.
struct JuceCompressor {
    threshold: f32,
    threshold_inverse: f32,
    ratio_inverse: f32,
    attack_coeff: f32,
    release_coeff: f32,
    env: [f32; 2],
}

impl JuceCompressor {
    fn new(threshold_db: f32, ratio: f32, attack_ms: f32, release_ms: f32, fs: f64) -> Self {
        // BallisticsFilter::calculateLimitedCte, with expFactor = -2 pi 1000 / fs (double).
        let exp_factor = -2.0 * core::f64::consts::PI * 1000.0 / fs;
        let cte = |t_ms: f32| -> f32 {
            if t_ms < 1.0e-3 {
                0.0
            } else {
                (exp_factor / f64::from(t_ms)).exp() as f32
            }
        };
        let threshold = juce_db_to_gain(threshold_db, -200.0);
        JuceCompressor {
            threshold,
            threshold_inverse: 1.0 / threshold,
            ratio_inverse: 1.0 / ratio,
            attack_coeff: cte(attack_ms),
            release_coeff: cte(release_ms),
            env: [0.0; 2],
        }
    }

    fn process_sample(&mut self, ch: usize, x: f32) -> f32 {
        // The ballistics filter's peak level: |x|.
        let input = x.abs();
        let old = self.env[ch];
        let cte = if input > old {
            self.attack_coeff
        } else {
            self.release_coeff
        };
        let env = input + cte * (old - input);
        self.env[ch] = env;
        let gain = if env < self.threshold {
            1.0
        } else {
            (env * self.threshold_inverse).powf(self.ratio_inverse - 1.0)
        };
        gain * x
    }
}

/// `x` through a fresh pedalboard `Limiter`, in `f32`.
fn pedalboard_limiter(x: &[[f32; 2]], p: JuceLimiterParams) -> Vec<[f32; 2]> {
    let mut first = JuceCompressor::new(-10.0, 4.0, 2.0, 200.0, FS);
    let mut second = JuceCompressor::new(p.threshold_db, 1000.0, 0.001, p.release_ms, FS);
    // Limiter::update: makeup of the first stage's 10 dB over threshold at ratio 4, and back
    // up from the threshold.
    let ratio_inverse = 1.0f32 / 4.0;
    let mut out_gain = 10.0f64.powf(10.0 * (1.0 - f64::from(ratio_inverse)) / 40.0) as f32;
    out_gain *= juce_db_to_gain(-p.threshold_db, -100.0);
    x.iter()
        .map(|f| {
            let mut o = [0.0f32; 2];
            for ch in 0..2 {
                let y = second.process_sample(ch, first.process_sample(ch, f[ch]));
                o[ch] = (y * out_gain).clamp(-1.0, 1.0);
            }
            o
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Landing each contender at the target.
// ---------------------------------------------------------------------------------------------

/// One contender pushed to the target: its input gain, the signal that reached its limiter,
/// its output.
struct Landing {
    name: String,
    gain_db: f64,
    limiter_input: Vec<[f32; 2]>,
    output: Vec<[f32; 2]>,
}

/// Finds the input gain (dB) that puts `limiter`'s output at `target_lufs` within a fifth of
/// `LANDING_LU`: regula falsi (Illinois) on the gain, bracketed by 3 dB steps from the gain a
/// signal the limiter leaves alone would need (`makeup_db` is the limiter's gain below its
/// threshold). Output loudness rises with input gain for every limiter here.
fn land<F>(name: String, x: &[[f32; 2]], target_lufs: f64, makeup_db: f64, limiter: F) -> Landing
where
    F: Fn(&[[f32; 2]]) -> Vec<[f32; 2]>,
{
    let run = |g: f64| {
        let input = gained(x, g);
        let out = limiter(&input);
        (integrated_lufs(&out) - target_lufs, input, out)
    };
    let (mut a, mut b) = (target_lufs - integrated_lufs(x) - makeup_db, 0.0);
    let mut fa = run(a).0;
    let step = if fa < 0.0 { 3.0 } else { -3.0 };
    let mut fb = fa;
    for _ in 0..20 {
        b = a + step;
        fb = run(b).0;
        if fb.signum() != fa.signum() {
            break;
        }
        (a, fa) = (b, fb);
    }
    assert!(
        fb.signum() != fa.signum(),
        "{name}: no input gain brackets {target_lufs} LUFS"
    );
    let mut side = 0;
    for _ in 0..40 {
        let c = (a * fb - b * fa) / (fb - fa);
        let (fc, limiter_input, output) = run(c);
        if fc.abs() <= 0.2 * LANDING_LU {
            return Landing {
                name,
                gain_db: c,
                limiter_input,
                output,
            };
        }
        if fc.signum() == fb.signum() {
            (b, fb) = (c, fc);
            if side == -1 {
                fa *= 0.5;
            }
            side = -1;
        } else {
            (a, fa) = (c, fc);
            if side == 1 {
                fb *= 0.5;
            }
            side = 1;
        }
    }
    panic!("{name}: no input gain lands at {target_lufs} LUFS");
}

/// BS.1770-4 true peak in dBTP (the project's meter, the one Lathe's own output is held to).
fn true_peak_db(x: &[[f32; 2]]) -> f64 {
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    m.process(x);
    m.true_peak_dbtp()
}

/// A peer held to the ceiling as a user who checks with a BS.1770 meter would do it: the
/// highest `setting` in `[lo, hi]` dB (to within 0.05 dB, by bisection; the landed true peak
/// rises with it) whose landing at the target keeps the true peak at or under `CEILING_DB`.
fn held_to_ceiling<F>(lo: f64, hi: f64, landing: F) -> (f64, Landing)
where
    F: Fn(f64) -> Landing,
{
    let mut best = landing(lo);
    assert!(
        true_peak_db(&best.output) <= CEILING_DB,
        "{}: over the ceiling even at {lo} dB",
        best.name
    );
    let (mut lo, mut hi) = (lo, hi);
    while hi - lo > 0.05 {
        let mid = 0.5 * (lo + hi);
        let l = landing(mid);
        if true_peak_db(&l.output) <= CEILING_DB {
            (lo, best) = (mid, l);
        } else {
            hi = mid;
        }
    }
    (lo, best)
}

/// Lathe as tests/master.rs runs it: a `Mastering` job with the transparent preset (input
/// stage, gain, true-peak limiter with 2 ms lookahead and 80 ms release) to -9 LUFS / -1 dBTP.
fn lathe_landing(mix: &[[f32; 2]]) -> Landing {
    let target = Target::custom(TO_LUFS, CEILING_DB);
    let chain = Preset::Transparent.chain(&target);
    let (out, job) = master(mix, &chain, &target, false);
    let plan = job.plan();
    let pre = limiter_input(&plan.chain, mix);
    Landing {
        name: "Lathe, transparent preset".into(),
        gain_db: plan.gain_db,
        limiter_input: pre,
        output: out,
    }
}

/// ffmpeg `alimiter` (defaults, `level=disabled`) with its limit at `limit_db`.
fn alimiter_landing(mix: &[[f32; 2]], limit_db: f64) -> Landing {
    let p = AlimiterParams::with_limit_db(limit_db);
    land(
        format!("alimiter limit {limit_db:.2} dB"),
        mix,
        TO_LUFS,
        0.0,
        |x| alimiter(x, p),
    )
}

/// pedalboard `Limiter` at `threshold_db` (release 100 ms, its default), then a plain output
/// gain of `post_db` (a separate `pedalboard.Gain`, the only way to lower its 0 dBFS clip).
fn pedalboard_landing(mix: &[[f32; 2]], threshold_db: f32, post_db: f64) -> Landing {
    let p = JuceLimiterParams {
        threshold_db,
        release_ms: 100.0,
    };
    let name = if post_db == 0.0 {
        format!("pedalboard threshold {threshold_db} dB")
    } else {
        format!("pedalboard thr {threshold_db} dB, gain {post_db:.2} dB")
    };
    // Its make-up: +3.75 dB - threshold (see `pedalboard_limiter`).
    let makeup_db = 3.75 - f64::from(threshold_db) + post_db;
    land(name, mix, TO_LUFS, makeup_db, |x| {
        gained(&pedalboard_limiter(x, p), post_db)
    })
}

/// The figures of one landing (see `levels` and `modulation_residual_db`).
struct Figures {
    levels: Levels,
    residual_db: f64,
    line: String,
}

fn figures(l: &Landing, input_len: usize) -> Figures {
    assert_eq!(l.output.len(), input_len, "{}: output length", l.name);
    let lv = levels(&l.output);
    let residual_db = modulation_residual_db(&l.limiter_input, &l.output);
    let line = format!(
        "{:<38} gain {:+6.2} dB -> {:7.3} LUFS, true peak {:+5.2} dBTP (8x {:+5.2}), sample peak {:+5.2} dBFS, residual {:5.1} dB",
        l.name, l.gain_db, lv.lufs, lv.true_peak_db, lv.true_peak_8x_db, lv.sample_peak_db, residual_db
    );
    eprintln!("{line}");
    assert!(
        (lv.lufs - TO_LUFS).abs() <= LANDING_LU,
        "missed {TO_LUFS} LUFS: {line}"
    );
    Figures {
        levels: lv,
        residual_db,
        line,
    }
}

#[test]
fn pushed_to_minus_9_lufs_lathe_is_cleaner_than_the_peers() {
    let mix = dense_mix(SECONDS, FROM_LUFS);
    let lathe = figures(&lathe_landing(&mix), mix.len());
    // Peers held to the same -1 dBTP: alimiter's limit lowered, pedalboard's output turned
    // down after its default-threshold limiter.
    let (limit_db, a) = held_to_ceiling(-3.0, CEILING_DB, |l| alimiter_landing(&mix, l));
    let alimiter_held = figures(&a, mix.len());
    let (post_db, p) = held_to_ceiling(-3.0, 0.0, |g| pedalboard_landing(&mix, -10.0, g));
    let pedalboard_held = figures(&p, mix.len());
    // Peers set as the issue sets them, at -1 dB, breaking the ceiling.
    let alimiter_at_limit = figures(&alimiter_landing(&mix, CEILING_DB), mix.len());
    let pedalboard_at_threshold =
        figures(&pedalboard_landing(&mix, CEILING_DB as f32, 0.0), mix.len());
    // For the record: pedalboard at its default threshold (breaks the ceiling), and Lathe's
    // limiter doing alimiter's job (a -1 dBFS sample-peak limit, alimiter's 5 ms / 50 ms).
    let pedalboard_default = figures(&pedalboard_landing(&mix, -10.0, 0.0), mix.len());
    let sample_peak = lathe::config::LimiterConfig {
        ceiling_db: CEILING_DB,
        true_peak: false,
        release_ms: 50.0,
        lookahead_ms: 5.0,
        bypass: false,
    };
    let lathe_sample_peak = figures(
        &land(
            "Lathe limiter, -1 dBFS sample peak".into(),
            &mix,
            TO_LUFS,
            0.0,
            |x| lathe_limiter(x, sample_peak),
        ),
        mix.len(),
    );
    let all = [
        &lathe,
        &alimiter_held,
        &pedalboard_held,
        &alimiter_at_limit,
        &pedalboard_at_threshold,
        &pedalboard_default,
        &lathe_sample_peak,
    ]
    .map(|f| f.line.as_str())
    .join("\n");
    eprintln!(
        "held to -1 dBTP: alimiter limit {limit_db:.2} dB, pedalboard output gain {post_db:.2} dB"
    );

    assert!(
        lathe.levels.true_peak_db <= CEILING_DB,
        "Lathe over the ceiling:\n{all}"
    );
    assert!(
        lathe.levels.true_peak_8x_db <= CEILING_DB + 0.1,
        "Lathe over the ceiling by the independent 8x check:\n{all}"
    );
    for held in [&alimiter_held, &pedalboard_held] {
        assert!(held.levels.true_peak_db <= CEILING_DB, "{}", held.line);
    }
    // Held to the ceiling, and as the issue sets them (alimiter's -1 dB limit is a sample-peak
    // limit: its inter-sample peaks reach +1 dBTP, and it is cleaner for it).
    for peer in [
        &alimiter_held,
        &pedalboard_held,
        &pedalboard_at_threshold,
        &alimiter_at_limit,
    ] {
        assert!(
            lathe.residual_db < peer.residual_db,
            "Lathe is not cleaner than {}:\n{all}",
            peer.line
        );
    }
}

/// Lathe's limiter alone (no mastering job) with `cfg`, latency compensated.
fn lathe_limiter(x: &[[f32; 2]], cfg: lathe::config::LimiterConfig) -> Vec<[f32; 2]> {
    let chain = ChainConfig::new(vec![lathe::StageConfig::Limiter(cfg)]);
    let mut c =
        lathe::Compensated::new(lathe::MasteringChain::<2>::from_config(&chain, FS, 4096).unwrap());
    let mut out = Vec::new();
    for b in x.chunks(4096) {
        c.render(b, &mut out);
    }
    c.finish(&mut out);
    out
}

/// Writes the files `tools/peers/run.sh` checks the ports with (into `$LATHE_PEERS_DIR`, by
/// default `lathe-peers` in the temporary directory): for each case `<case>_in.wav` (the
/// limiter's input, 32-bit float) and `<case>_port.wav` (the port's output), and `cases.txt`
/// (one line per case: name, peer, its limit (linear) or threshold (dB), release ms).
#[test]
#[ignore = "writes WAV files for the by-hand validation against ffmpeg and pedalboard"]
fn write_peer_validation_files() {
    let dir = std::env::var_os("LATHE_PEERS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("lathe-peers"));
    std::fs::create_dir_all(&dir).unwrap();
    let mix = dense_mix(SECONDS, FROM_LUFS);
    let write = |name: &str, x: &[[f32; 2]]| {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: FS as u32,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(dir.join(name), spec).unwrap();
        for f in x {
            w.write_sample(f[0]).unwrap();
            w.write_sample(f[1]).unwrap();
        }
        w.finalize().unwrap();
    };
    let mut cases = String::new();
    // The landings of the main test, then other drives and settings.
    let (held_limit_db, _) = held_to_ceiling(-3.0, CEILING_DB, |l| alimiter_landing(&mix, l));
    let alimiter_cases = [
        (
            "alimiter_landed_limit-1",
            alimiter_landing(&mix, -1.0).gain_db,
            -1.0,
            50.0,
        ),
        (
            "alimiter_landed_held",
            alimiter_landing(&mix, held_limit_db).gain_db,
            held_limit_db,
            50.0,
        ),
        ("alimiter_plus12_limit0", 12.0, 0.0, 50.0),
        ("alimiter_plus14_limit-3_rel200", 14.0, -3.0, 200.0),
    ];
    for (name, g, limit_db, release_ms) in alimiter_cases {
        let input = gained(&mix, g);
        let params = AlimiterParams {
            release_ms,
            ..AlimiterParams::with_limit_db(limit_db)
        };
        write(&format!("{name}_in.wav"), &input);
        write(&format!("{name}_port.wav"), &alimiter(&input, params));
        cases.push_str(&format!(
            "{name} alimiter {:.17} {release_ms}\n",
            params.limit
        ));
    }
    let pedalboard_cases = [
        (
            "pedalboard_landed_thr-1",
            pedalboard_landing(&mix, -1.0, 0.0).gain_db,
            -1.0f32,
            100.0f32,
        ),
        (
            "pedalboard_landed_default",
            pedalboard_landing(&mix, -10.0, 0.0).gain_db,
            -10.0,
            100.0,
        ),
        ("pedalboard_plus12_thr-6_rel30", 12.0, -6.0, 30.0),
    ];
    for (name, g, threshold_db, release_ms) in pedalboard_cases {
        let input = gained(&mix, g);
        let params = JuceLimiterParams {
            threshold_db,
            release_ms,
        };
        write(&format!("{name}_in.wav"), &input);
        write(
            &format!("{name}_port.wav"),
            &pedalboard_limiter(&input, params),
        );
        cases.push_str(&format!("{name} pedalboard {threshold_db} {release_ms}\n"));
    }
    std::fs::write(dir.join("cases.txt"), cases).unwrap();
    eprintln!("wrote {}", dir.display());
}
