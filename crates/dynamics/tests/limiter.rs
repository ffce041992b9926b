//! The lookahead limiter: ceilings (sample and true peak, judged by the independent 8x check
//! of lathe-testkit), bit-exact pass-through, attack timing, release, parameters, transparency.

use lathe_core::{db_to_gain, gain_to_db, Error, ProcessSpec, Processor};
use lathe_dynamics::{
    Limiter, LimiterParams, MasteringLimiter, GAIN_DECIMATION, TRUE_PEAK_8X_DELAY,
};
use lathe_testkit::{analysis, signals};
use proptest::prelude::*;

/// Runs `x` through a fresh limiter in blocks of `block` frames, followed by `latency()` frames
/// of silence so the whole signal comes out; returns the output aligned to the input.
fn run_aligned<const N: usize>(
    x: &[[f32; 2]],
    params: LimiterParams,
    fs: f64,
    block: usize,
) -> Vec<[f32; 2]> {
    let mut l = Limiter::<2, N>::new(params);
    l.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
    let lat = l.latency();
    let mut y = x.to_vec();
    y.extend(std::iter::repeat_n([0.0; 2], lat));
    for b in y.chunks_mut(block.max(1)) {
        l.process(b);
    }
    y.drain(..lat);
    y
}

/// Adversarial and random stereo test signals, `n` frames at `fs`, scaled by `gain_db`.
fn signal(kind: u8, fs: f64, n: usize, gain_db: f64, seed: u64) -> Vec<[f32; 2]> {
    let g = db_to_gain(gain_db) as f32;
    let mut rng = signals::Rng::new(seed);
    let mono: Vec<f32> = match kind % 8 {
        // Full-scale naive square wave (hard edges, aliased harmonics up to Nyquist).
        0 => signals::square(20.0 + rng.uniform() * fs / 4.0, 1.0, fs, n),
        // A +40 dB burst in quiet noise.
        1 => {
            let mut v = signals::white_noise(0.01, seed, n);
            let start = (rng.uniform() * n as f64 * 0.8) as usize;
            let len = 1 + (rng.uniform() * 2_000.0) as usize;
            for (i, s) in v.iter_mut().enumerate().skip(start).take(len) {
                *s = (100.0 * (0.3 * i as f64 + seed as f64).sin()) as f32;
            }
            v
        }
        // Alternating ±1 at Nyquist, starting abruptly after silence.
        2 => {
            let start = (rng.uniform() * n as f64 * 0.5) as usize;
            (0..n)
                .map(|i| match i {
                    i if i < start => 0.0,
                    i if i % 2 == 0 => 1.0,
                    _ => -1.0,
                })
                .collect()
        }
        // DC steps of random height every few ms.
        3 => {
            let mut v = vec![0.0f32; n];
            let mut i = 0;
            while i < n {
                let len = 1 + (rng.uniform() * fs * 0.01) as usize;
                let level = (rng.uniform() * 4.0 - 2.0) as f32;
                for s in v.iter_mut().skip(i).take(len) {
                    *s = level;
                }
                i += len;
            }
            v
        }
        // fs/4 sine at 45°: every sample 3 dB under the crest.
        4 => signals::sine(fs / 4.0, 1.0, core::f64::consts::FRAC_PI_4, fs, n),
        // Full-band white noise.
        5 => signals::white_noise(0.5, seed, n),
        // Music-like mix.
        6 => {
            let m = signals::music_like(fs, n as f64 / fs, 0.0, seed);
            return m.iter().map(|f| [f[0] * g, f[1] * g]).collect();
        }
        // Random sines up to 0.49 fs, abrupt start.
        _ => {
            let f = rng.uniform() * 0.49 * fs;
            signals::sine(f, 1.0, rng.uniform() * 6.0, fs, n)
        }
    };
    // The second channel differs (inverted, scaled, offset in time) so linking is exercised.
    let k = (rng.uniform() * 1.5) as f32;
    let shift = (rng.uniform() * 50.0) as usize;
    (0..n)
        .map(|i| [mono[i] * g, -mono[(i + shift) % n] * g * k])
        .collect()
}

/// True peak as the limiter's own 8x detector reads it, dBTP.
fn own_true_peak_db(x: &[[f32; 2]], fs: f64) -> f64 {
    let mut d = lathe_dynamics::TruePeak8x::<2>::for_sample_rate(fs);
    let mut padded = x.to_vec();
    padded.extend(std::iter::repeat_n(
        [0.0f32; 2],
        lathe_dynamics::TRUE_PEAK_8X_DELAY,
    ));
    let mut p = vec![0.0f32; padded.len()];
    d.push_block(&padded, &mut p);
    gain_to_db(f64::from(p.iter().fold(0.0f32, |m, &v| m.max(v))))
}

/// True peak as the loudness meter reads it (the shared BS.1770-4 Annex 2 detector), dBTP.
fn meter_true_peak_db(x: &[[f32; 2]], fs: f64) -> f64 {
    let mut d = lathe_core::TruePeakDetector::<2>::new(fs);
    d.process(x);
    d.true_peak_dbtp()
}

fn ceiling_gain(db: f64) -> f64 {
    db_to_gain(db)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Sample-peak mode: no output sample ever exceeds the ceiling.
    #[test]
    fn sample_peaks_never_exceed_the_ceiling(
        kind in 0u8..8,
        gain_db in -6.0f64..40.0,
        ceiling_db in -12.0f64..0.0,
        lookahead_ms in 0.0f64..5.0,
        release_ms in 1.0f64..500.0,
        block in 1usize..700,
        rate in 0usize..3,
        seed in 0u64..1000,
    ) {
        let fs = [44_100.0, 48_000.0, 96_000.0][rate];
        let x = signal(kind, fs, 4_800, gain_db, seed);
        let params = LimiterParams { ceiling_db, true_peak: false, lookahead_ms, release_ms };
        let y = run_aligned::<2048>(&x, params, fs, block);
        let peak = analysis::sample_peak(&y);
        prop_assert!(peak <= ceiling_gain(ceiling_db),
            "kind {kind}: sample peak {} dBFS over the ceiling {ceiling_db}", gain_to_db(peak));
        prop_assert!(y.iter().flatten().all(|s| s.is_finite()));
    }

    /// True-peak mode: the output's true peak, by the independent 8x check, stays within
    /// 0.1 dB of the ceiling, and its samples under it.
    #[test]
    fn true_peaks_stay_under_the_ceiling(
        kind in 0u8..8,
        gain_db in -6.0f64..40.0,
        ceiling_db in -12.0f64..0.0,
        lookahead_ms in 0.5f64..5.0,
        release_ms in 1.0f64..500.0,
        block in 1usize..700,
        rate in 0usize..3,
        seed in 0u64..1000,
    ) {
        let fs = [44_100.0, 48_000.0, 96_000.0][rate];
        let x = signal(kind, fs, 3_000, gain_db, seed);
        let params = LimiterParams { ceiling_db, true_peak: true, lookahead_ms, release_ms };
        let y = run_aligned::<2048>(&x, params, fs, block);
        prop_assert!(analysis::sample_peak(&y) <= ceiling_gain(ceiling_db));
        for ch in 0..2 {
            let tp = analysis::true_peak_8x_db(&signals::channel(&y, ch));
            prop_assert!(tp <= ceiling_db + 0.1,
                "kind {kind}, ch {ch}: true peak {tp:.3} dBTP, ceiling {ceiling_db:.3}");
        }
        // The loudness meter's own reading (BS.1770-4 Annex 2 at the meter's rate) agrees.
        let metered = meter_true_peak_db(&y, fs);
        prop_assert!(metered <= ceiling_db + 0.05,
            "kind {kind}: the meter reads {metered:.3} dBTP, ceiling {ceiling_db:.3}");
    }

    /// Audio that never reaches the ceiling comes out bit-exact, only delayed.
    #[test]
    fn audio_under_the_ceiling_passes_bit_exact(
        kind in 0u8..8,
        headroom_db in 0.3f64..20.0,
        ceiling_db in -12.0f64..0.0,
        true_peak in any::<bool>(),
        lookahead_ms in 0.0f64..5.0,
        block in 1usize..700,
        seed in 0u64..1000,
    ) {
        let fs = 48_000.0;
        let x = signal(kind, fs, 3_000, 0.0, seed);
        // Scale so the input's peak (true peak by the 8x check in true-peak mode) sits
        // `headroom_db` under the ceiling. In true-peak mode add the limiter's margin
        // (TRUE_PEAK_MARGIN_DB) and 0.25 dB for readings of its detector above the reference
        // (up to about 0.2 dB on abrupt onsets near Nyquist, where interpolators differ most),
        // and count the limiter's own detector too: on sines close to Nyquist (in the
        // interpolators' transition bands) readings can differ by more.
        let level = if true_peak {
            analysis::true_peak_8x_db(&signals::channel(&x, 0))
                .max(analysis::true_peak_8x_db(&signals::channel(&x, 1)))
                .max(meter_true_peak_db(&x, fs))
                .max(own_true_peak_db(&x, fs))
                + lathe_dynamics::TRUE_PEAK_MARGIN_DB
                + 0.25
        } else {
            gain_to_db(analysis::sample_peak(&x))
        };
        let g = db_to_gain(ceiling_db - headroom_db - level) as f32;
        let x: Vec<[f32; 2]> = x.iter().map(|f| [f[0] * g, f[1] * g]).collect();
        let params = LimiterParams { ceiling_db, true_peak, lookahead_ms, release_ms: 50.0 };
        let y = run_aligned::<2048>(&x, params, fs, block);
        for (i, (a, b)) in x.iter().zip(&y).enumerate() {
            prop_assert!(a[0].to_bits() == b[0].to_bits() && a[1].to_bits() == b[1].to_bits(),
                "frame {i}: {a:?} became {b:?}");
        }
    }
}

/// The limiter's detector against the independent 8x check (and the Annex 2 detector alone,
/// for comparison) on abrupt, full-band signals.
#[test]
fn true_peak_detector_agrees_with_the_independent_check() {
    let fs = 48_000.0;
    let (mut worst_low, mut worst_high, mut annex2_low) = (0.0f64, 0.0f64, 0.0f64);
    for kind in 0..8u8 {
        for seed in 0..6u64 {
            let x = signal(kind, fs, 3_000, -6.0, seed);
            let reference = analysis::true_peak_8x_db(&signals::channel(&x, 0))
                .max(analysis::true_peak_8x_db(&signals::channel(&x, 1)));
            let mut d = lathe_dynamics::TruePeak8x::<2>::new();
            let mut a = lathe_core::TruePeakDetector::<2>::new(fs);
            let mut m = 0.0f32;
            for f in x.iter().chain(std::iter::repeat_n(&[0.0f32; 2], 100)) {
                m = m.max(d.push(f));
                a.push(f);
            }
            let ours = gain_to_db(f64::from(m));
            worst_low = worst_low.max(reference - ours);
            worst_high = worst_high.max(ours - reference);
            annex2_low = annex2_low.max(reference - a.true_peak_dbtp());
        }
    }
    let msg = format!(
        "TruePeak8x reads up to {worst_low:.3} dB below and {worst_high:.3} dB above the 8x \
         check; the Annex 2 detector alone up to {annex2_low:.3} dB below"
    );
    println!("{msg}");
    assert!(worst_low < 0.06 && worst_high < 0.25, "{msg}");
}

/// The latency: the lookahead rounded up to the gain computer's groups, one group more for the
/// hold and the frames a group waits for its last one (`8 · (ceil(L / 8) + 1) − 1`), plus the
/// detection delay.
#[test]
fn latency_is_lookahead_plus_detection_delay() {
    assert_eq!(GAIN_DECIMATION, 8);
    for (fs, ms, want) in [
        (48_000.0, 2.0, 103),
        (44_100.0, 1.5, 79),
        (384_000.0, 5.0, 1927),
        (48_000.0, 0.0, 15),
    ] {
        let mut l = MasteringLimiter::<2>::new(LimiterParams {
            lookahead_ms: ms,
            ..LimiterParams::default()
        });
        l.prepare(&ProcessSpec::new(fs, 64)).unwrap();
        assert_eq!(l.latency(), want + TRUE_PEAK_8X_DELAY, "{fs} Hz, {ms} ms");
    }
}

/// The gain envelope around one peak, against the limiter's documented construction rebuilt
/// here in `f64`: per group of 8 frames (counted from the reset, on the detector's frames,
/// `TRUE_PEAK_8X_DELAY` ahead of the input), the required gain is held over `G + 1` groups
/// (`G = ceil(L / 8)`), averaged by two moving averages spanning `G` groups (a straight glide
/// with rounded corners), followed instantly downwards and released exponentially (the
/// 63 % constant); each frame's gain runs linearly between the values of two successive
/// groups. The gain starts moving `L − 1` to `L + 13` frames before the peak, reaches the needed
/// reduction exactly at the peak and holds it over the peak's group.
#[test]
fn attack_reaches_the_ceiling_at_the_peak_and_release_is_exponential() {
    let fs = 48_000.0;
    let (ceiling_db, release_ms) = (-6.0, 20.0);
    let c = db_to_gain(ceiling_db);
    let params = LimiterParams {
        ceiling_db,
        true_peak: false,
        lookahead_ms: 1.0,
        release_ms,
    };
    let d = GAIN_DECIMATION;
    let l: usize = 48; // lookahead frames at 48 kHz
    let g = l.div_ceil(d);
    let n = 20_000;
    let base = 0.25f32;
    // The peak at every phase of its group.
    for at in 4_000..4_000 + d {
        let mut x = vec![[base; 2]; n];
        x[at] = [1.0, -1.0];
        let y = run_aligned::<2048>(&x, params, fs, 256);
        // Group and phase of input frame i.
        let group = |i: usize| (i + TRUE_PEAK_8X_DELAY) / d;
        let phase = |i: usize| (i + TRUE_PEAK_8X_DELAY) % d;
        let k = group(at);
        // Held requirement per group, then the attack's weights over G groups.
        let held = |m: usize| if m >= k && m <= k + g { c } else { 1.0 };
        let l2 = (g / 16).max(1);
        let l1 = g + 1 - l2;
        let mut weights = vec![0.0f64; g];
        for i in 0..l1 {
            for j in 0..l2 {
                weights[i + j] += 1.0 / (l1 * l2) as f64;
            }
        }
        let a = lathe_core::one_pole_coeff(release_ms, fs / d as f64);
        let last = group(n - 1) + g + 2;
        let mut gains = vec![1.0f64; last + 1];
        let mut depth = 0.0f64;
        for (m, gm) in gains.iter_mut().enumerate() {
            let attack: f64 = (0..g)
                .map(|j| weights[j] * if m >= j { held(m - j) } else { 1.0 })
                .sum();
            depth = (1.0 - attack).max(depth * a);
            *gm = 1.0 - depth;
        }
        let want = |i: usize| {
            let m = group(i) + g - 1;
            let t = phase(i) as f64 / d as f64;
            gains[m] + (gains[m + 1] - gains[m]) * t
        };
        let first = (0..n).find(|&i| want(i) < 1.0 - 1e-9).unwrap();
        assert!(
            (at + 3 - l - 2 * d..=at + 1 - l).contains(&first),
            "the glide starts {} frames before the peak",
            at - first
        );
        for (i, f) in y.iter().enumerate() {
            let x = f64::from(x[i][0]);
            let gain = f64::from(f[0]) / x;
            assert!(
                (gain - want(i)).abs() < 1e-5,
                "peak at {at}, frame {i}: gain {gain}, want {}",
                want(i)
            );
        }
        // At the peak: the ceiling, to the fixed-point resolution.
        assert!(f64::from(y[at][0]) <= c && f64::from(y[at][0]) > c * 0.9999);
        // The release: 63 % of the way back to unity after release_ms.
        let tau = (release_ms * 1e-3 * fs) as usize;
        let g0 = f64::from(y[at][0]);
        let g1 = f64::from(y[at + d + tau][0]) / f64::from(base);
        let recovered = (g1 - g0) / (1.0 - g0);
        assert!((recovered - 0.632).abs() < 0.03, "recovered {recovered}");
    }
}

#[test]
fn stereo_link_applies_one_gain_to_both_channels() {
    let fs = 48_000.0;
    let n = 9_600;
    let left = signals::sine(100.0, 2.0, 0.0, fs, n);
    let x: Vec<[f32; 2]> = left.iter().map(|&l| [l, 0.1 * l]).collect();
    let y = run_aligned::<2048>(&x, LimiterParams::default(), fs, 512);
    for (a, b) in x.iter().zip(&y).skip(100) {
        if a[0].abs() > 0.01 {
            let gl = b[0] / a[0];
            let gr = b[1] / a[1];
            assert!((gl - gr).abs() < 1e-5, "{gl} vs {gr}");
        }
    }
}

#[test]
fn gain_reduction_readout_follows_the_limiting() {
    let fs = 48_000.0;
    let mut l = MasteringLimiter::<2>::new(LimiterParams {
        ceiling_db: -6.0,
        true_peak: false,
        ..LimiterParams::default()
    });
    l.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    assert_eq!(l.gain_reduction_db(), 0.0);
    // A 100 Hz sine at 0 dBFS: about 6 dB of reduction, held by the bass detector.
    let mut x = signals::to_frames::<2>(&signals::sine(100.0, 1.0, 0.0, fs, 24_000));
    l.process(&mut x);
    let gr = l.gain_reduction_db();
    assert!((gr - 6.0).abs() < 0.05, "{gr}");
}

#[test]
fn parameters_are_validated_and_old_ones_kept() {
    let small = LimiterParams {
        lookahead_ms: 2.0,
        ..LimiterParams::default()
    };
    let mut l = Limiter::<2, 256>::new(small);
    l.prepare(&ProcessSpec::new(48_000.0, 64)).unwrap();
    let bad = LimiterParams {
        ceiling_db: 3.0,
        ..LimiterParams::default()
    };
    assert!(matches!(
        l.set_params(bad),
        Err(Error::OutOfRange {
            param: "ceiling_db",
            ..
        })
    ));
    let bad = LimiterParams {
        release_ms: f64::NAN,
        ..LimiterParams::default()
    };
    assert!(matches!(
        l.set_params(bad),
        Err(Error::OutOfRange {
            param: "release_ms",
            ..
        })
    ));
    // 5 ms at 96 kHz = 480 frames: more than 256.
    let big = LimiterParams {
        lookahead_ms: 5.0,
        ..LimiterParams::default()
    };
    assert!(matches!(
        l.set_params(big),
        Err(Error::CapacityExceeded { capacity: 256, .. })
    ));
    assert_eq!(l.params(), small);
    let mut m = Limiter::<2, 256>::new(big);
    assert!(matches!(
        m.prepare(&ProcessSpec::new(96_000.0, 64)),
        Err(Error::CapacityExceeded { .. })
    ));
    // MasteringLimiter fits 20 ms at 384 kHz.
    let longest = LimiterParams {
        lookahead_ms: 20.0,
        ..LimiterParams::default()
    };
    let mut ml = MasteringLimiter::<2>::new(longest);
    ml.prepare(&ProcessSpec::new(384_000.0, 64)).unwrap();
}

/// Switching true-peak mode and lowering the ceiling while running: the latency stays, the
/// audio stays continuous, and the new ceiling holds once the lookahead window has passed.
#[test]
fn live_changes_keep_latency_and_hold_the_new_ceiling() {
    let fs = 48_000.0;
    let mut l = MasteringLimiter::<2>::new(LimiterParams {
        true_peak: false,
        ..LimiterParams::default()
    });
    l.prepare(&ProcessSpec::new(fs, 512)).unwrap();
    let lat = l.latency();
    let n = 48_000;
    let mut x = signals::to_frames::<2>(&signals::sine(12_000.0, 2.0, 0.8, fs, n));
    // Silence at the end lets the last frames out of the delay line.
    x.extend(std::iter::repeat_n([0.0; 2], lat));
    let mut y = x.clone();
    l.process(&mut y[..24_000]);
    l.set_params(LimiterParams {
        ceiling_db: -3.0,
        ..LimiterParams::default()
    })
    .unwrap();
    assert_eq!(l.latency(), lat);
    l.process(&mut y[24_000..]);
    // Judge the part after the change (from two latencies on), faded in over 64 frames so the
    // cut does not ring in the 8x check.
    let tail = signals::faded(signals::channel(&y[24_000 + 2 * lat - 64..], 0), 64);
    let tp = analysis::true_peak_8x_db(&tail);
    assert!(tp <= -3.0 + 0.1, "{tp}");
    // Continuity: no step larger than a full-scale fs/4 sine at the old ceiling has.
    let max_step = y
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).abs())
        .fold(0.0, f32::max);
    assert!(max_step <= 2.0 * 0.892 * 1.01, "{max_step}");
}

/// Non-finite input is replaced by silence: the output stays finite and under the ceiling,
/// and equals the output for the same input with zeros in place of the NaN/inf samples.
#[test]
fn non_finite_input_is_silenced() {
    let fs = 48_000.0;
    let mut x = signals::to_frames::<2>(&signals::sine(440.0, 1.5, 0.0, fs, 9_600));
    let mut clean = x.clone();
    for (i, v) in [
        (1_000, f32::NAN),
        (1_001, f32::INFINITY),
        (5_000, f32::NEG_INFINITY),
    ] {
        x[i][0] = v;
        clean[i][0] = 0.0;
    }
    for tp in [false, true] {
        let p = LimiterParams {
            true_peak: tp,
            ..LimiterParams::default()
        };
        let y = run_aligned::<2048>(&x, p, fs, 100);
        let z = run_aligned::<2048>(&clean, p, fs, 100);
        assert!(y.iter().flatten().all(|s| s.is_finite()));
        assert_eq!(y, z);
        assert!(analysis::sample_peak(&y) <= db_to_gain(-1.0));
    }
}

/// Residual energy after removing a slowly varying gain, relative to the signal, in dB (lower
/// is more transparent): per 10 ms block and channel, the least-squares gain that varies
/// linearly across the block, `y ≈ (a + b t) x`, is taken out; what remains is modulation
/// faster than that (attack corners, steps, ripple at audio rate) and distortion.
fn modulation_residual_db(x: &[[f32; 2]], y: &[[f32; 2]], fs: f64) -> f64 {
    let block = (0.01 * fs) as usize;
    let (mut res, mut sig) = (0.0f64, 0.0f64);
    for (xb, yb) in x.chunks(block).zip(y.chunks(block)) {
        for ch in 0..2 {
            // Normal equations for y = a u + b v with u = x, v = t x.
            let (mut uu, mut uv, mut vv, mut uy, mut vy) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
            for (i, (p, q)) in xb.iter().zip(yb).enumerate() {
                let t = i as f64 / block as f64 - 0.5;
                let (u, v, w) = (f64::from(p[ch]), t * f64::from(p[ch]), f64::from(q[ch]));
                uu += u * u;
                uv += u * v;
                vv += v * v;
                uy += u * w;
                vy += v * w;
            }
            let det = uu * vv - uv * uv;
            let (a, b) = if det > 1e-12 * uu * vv && uu > 0.0 {
                ((uy * vv - vy * uv) / det, (vy * uu - uy * uv) / det)
            } else if uu > 0.0 {
                (uy / uu, 0.0)
            } else {
                (0.0, 0.0)
            };
            for (i, (p, q)) in xb.iter().zip(yb).enumerate() {
                let t = i as f64 / block as f64 - 0.5;
                let fit = (a + b * t) * f64::from(p[ch]);
                res += (f64::from(q[ch]) - fit).powi(2);
                sig += f64::from(q[ch]).powi(2);
            }
        }
    }
    10.0 * (res / sig).log10()
}

/// A naive limiter for comparison: instant attack, no lookahead, same release (linear gain
/// domain), sample-peak ceiling.
fn naive_limiter(x: &[[f32; 2]], ceiling_db: f64, release_ms: f64, fs: f64) -> Vec<[f32; 2]> {
    let c = db_to_gain(ceiling_db);
    let a = lathe_core::one_pole_coeff(release_ms, fs);
    let mut g = 1.0f64;
    x.iter()
        .map(|f| {
            let p = f64::from(f[0].abs().max(f[1].abs()));
            let need = if p > c { c / p } else { 1.0 };
            g = (1.0 - (1.0 - g) * a).min(need);
            [(f64::from(f[0]) * g) as f32, (f64::from(f[1]) * g) as f32]
        })
        .collect()
}

#[test]
fn transparency_beats_a_naive_limiter() {
    let fs = 48_000.0;
    let params = LimiterParams {
        ceiling_db: -1.0,
        true_peak: true,
        lookahead_ms: 2.0,
        release_ms: 80.0,
    };
    // Bass-heavy: a 45 Hz sine 5 dB over the ceiling with a quiet 2 kHz tone on top.
    let n = 96_000;
    let bass = signals::sine(45.0, db_to_gain(4.0), 0.0, fs, n);
    let tone = signals::sine(2_000.0, 0.05, 0.0, fs, n);
    let heavy: Vec<[f32; 2]> = bass
        .iter()
        .zip(&tone)
        .map(|(b, t)| [b + t, b - t])
        .collect();
    // A music-like mix (kick, bass, pad, hats, melody) driven 6 dB into the ceiling.
    let music = signals::music_like(fs, 2.0, 5.0, 3);
    let mut report = String::new();
    // (name, signal, required advantage over the naive limiter in dB, required absolute dB)
    for (name, x, margin, absolute) in [
        ("bass-heavy", &heavy, 30.0, -60.0),
        ("music-like", &music, 3.0, -30.0),
    ] {
        let ours = run_aligned::<2048>(x, params, fs, 512);
        let naive = naive_limiter(x, params.ceiling_db, params.release_ms, fs);
        // Skip the first 100 ms (both start from unity gain).
        let skip = 4_800;
        let r_ours = modulation_residual_db(&x[skip..], &ours[skip..], fs);
        let r_naive = modulation_residual_db(&x[skip..], &naive[skip..], fs);
        report += &format!("{name}: lathe {r_ours:.1} dB, naive {r_naive:.1} dB; ");
        assert!(
            r_ours < r_naive - margin && r_ours < absolute,
            "{name}: residual {r_ours:.1} dB vs naive {r_naive:.1} dB ({report})"
        );
    }
    println!("modulation residual (10 ms linear least-squares gain removed): {report}");
}

/// Energy above 12 kHz relative to the total, in dB (4 cascaded 2nd-order high-passes).
fn splatter_db(y: &[[f32; 2]], fs: f64) -> f64 {
    let hp = lathe_core::biquad::high_pass(12_000.0, core::f64::consts::FRAC_1_SQRT_2, fs).unwrap();
    let mut f = [lathe_core::Biquad::<2>::new(hp); 4];
    let (mut hi, mut all) = (0.0f64, 0.0f64);
    for s in y {
        let mut v = [f64::from(s[0]), f64::from(s[1])];
        for q in f.iter_mut() {
            v = q.tick_frame(v);
        }
        hi += v[0] * v[0] + v[1] * v[1];
        all += f64::from(s[0]).powi(2) + f64::from(s[1]).powi(2);
    }
    10.0 * (hi / all).log10()
}

/// Clicks: on music with nothing above 4 kHz, limiting 6 dB must not create energy above
/// 12 kHz (a gain step would splatter there); compared with the naive limiter.
#[test]
fn limiting_does_not_splatter() {
    let fs = 48_000.0;
    let lp = lathe_core::biquad::low_pass(4_000.0, core::f64::consts::FRAC_1_SQRT_2, fs).unwrap();
    let mut f = [lathe_core::Biquad::<2>::new(lp); 4];
    let music: Vec<[f32; 2]> = signals::music_like(fs, 2.0, 0.0, 5)
        .iter()
        .map(|s| {
            let mut v = [f64::from(s[0]), f64::from(s[1])];
            for q in f.iter_mut() {
                v = q.tick_frame(v);
            }
            [v[0] as f32, v[1] as f32]
        })
        .collect();
    // Drive 6 dB into a -1 dBTP ceiling.
    let g = db_to_gain(5.0 - gain_to_db(analysis::sample_peak(&music))) as f32;
    let x: Vec<[f32; 2]> = music.iter().map(|s| [s[0] * g, s[1] * g]).collect();
    let ours = run_aligned::<2048>(&x, LimiterParams::default(), fs, 512);
    let naive = naive_limiter(&x, -1.0, 80.0, fs);
    let (s_in, s_ours, s_naive) = (
        splatter_db(&x, fs),
        splatter_db(&ours, fs),
        splatter_db(&naive, fs),
    );
    println!(
        "energy above 12 kHz: input {s_in:.1} dB, lathe {s_ours:.1} dB, naive {s_naive:.1} dB"
    );
    assert!(
        s_ours < s_naive - 20.0 && s_ours < -80.0,
        "input {s_in:.1} dB, lathe {s_ours:.1} dB, naive {s_naive:.1} dB"
    );
}

/// Music-like audio through quiet, moderate and loud passages (and silence), so the true-peak
/// detector's skip is taken and left at every stage.
fn passages(fs: f64) -> Vec<[f32; 2]> {
    let mut x = Vec::new();
    for (i, level_db) in [-30.0, -8.0, -3.0, 0.0, 6.0, -14.0, 12.0, -60.0]
        .iter()
        .enumerate()
    {
        x.extend(signals::music_like(fs, 0.25, *level_db, i as u64 + 3));
        if i == 4 {
            x.extend(std::iter::repeat_n([0.0f32; 2], 300));
        }
    }
    x
}

#[test]
fn detector_skipping_leaves_the_output_bit_identical() {
    let fs = 48_000.0;
    let x = passages(fs);
    for ceiling_db in [-1.0, -6.0, -20.0] {
        for block in [1usize, 37, 64, 512] {
            let params = LimiterParams {
                ceiling_db,
                ..LimiterParams::default()
            };
            let mut fast = MasteringLimiter::<2>::new(params);
            let mut exact = MasteringLimiter::<2>::new(params);
            exact.set_detector_skipping(false);
            for l in [&mut fast, &mut exact] {
                l.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
            }
            let mut a = x.clone();
            let mut b = x.clone();
            for (i, (ca, cb)) in a.chunks_mut(block).zip(b.chunks_mut(block)).enumerate() {
                // A live ceiling change halfway, applied to both.
                if i * block >= x.len() / 2 && (i - 1) * block < x.len() / 2 {
                    let p = LimiterParams {
                        ceiling_db: ceiling_db - 2.0,
                        ..params
                    };
                    fast.set_params(p).unwrap();
                    exact.set_params(p).unwrap();
                }
                fast.process(ca);
                exact.process(cb);
            }
            for (n, (fa, fb)) in a.iter().zip(&b).enumerate() {
                assert!(
                    fa[0].to_bits() == fb[0].to_bits() && fa[1].to_bits() == fb[1].to_bits(),
                    "ceiling {ceiling_db}, block {block}, frame {n}: {fa:?} vs {fb:?}"
                );
            }
        }
    }
}

#[test]
fn true_peak_threshold_keeps_readings_above_it_exact() {
    let x = passages(48_000.0);
    let t = db_to_gain(-3.0) as f32;
    let mut exact = lathe_dynamics::TruePeak8x::<2>::new();
    let mut skip = lathe_dynamics::TruePeak8x::<2>::new();
    skip.set_threshold(t);
    let mut want = vec![0.0f32; x.len()];
    exact.push_block(&x, &mut want);
    let mut got = vec![0.0f32; x.len()];
    let mut start = 0;
    for (i, c) in x.chunks(50).enumerate() {
        if i % 3 == 0 {
            for (j, f) in c.iter().enumerate() {
                got[start + j] = skip.push(f);
            }
        } else {
            skip.push_block(c, &mut got[start..start + c.len()]);
        }
        start += c.len();
    }
    let mut replaced = 0;
    for (n, (&g, &w)) in got.iter().zip(&want).enumerate() {
        if w > t {
            assert_eq!(g.to_bits(), w.to_bits(), "frame {n}");
        } else {
            // At or under the threshold, and never under the true reading.
            assert!(g <= t && g >= w, "frame {n}: {g} vs {w}, threshold {t}");
            replaced += usize::from(g != w);
        }
    }
    assert!(replaced > x.len() / 4, "only {replaced} readings skipped");
}
