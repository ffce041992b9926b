//! The mastering reverb against acoustic truth: RT60 by Schroeder backward integration, damping
//! per octave, the wet high-pass, width, storage, denormals and non-finite input.

use lathe_core::{biquad, Biquad, Error, ProcessSpec, Processor};
use lathe_stereo::{reverb_storage, Reverb, ReverbParams};
use lathe_testkit::{analysis, signals};
use realfft::RealFftPlanner;

fn reverb(fs: f64, params: ReverbParams) -> Reverb<Vec<f32>> {
    let mut r = Reverb::new(vec![0.0; Reverb::<Vec<f32>>::required_storage(fs)], params);
    r.prepare(&ProcessSpec::new(fs, 4096)).unwrap();
    r
}

/// Wet impulse response (L, R) of `seconds`, from a unit impulse on both channels at mix 1.
fn impulse_response(fs: f64, params: ReverbParams, seconds: f64) -> (Vec<f32>, Vec<f32>) {
    let mut r = reverb(fs, ReverbParams { mix: 1.0, ..params });
    let n = (seconds * fs) as usize;
    let mut x = signals::to_frames::<2>(&signals::impulse(1.0, 0, n));
    for block in x.chunks_mut(1024) {
        r.process(block);
    }
    // Remove the dry impulse: out = dry + wet.
    x[0][0] -= 1.0;
    x[0][1] -= 1.0;
    (signals::channel(&x, 0), signals::channel(&x, 1))
}

/// RT60 from Schroeder's backward-integrated energy decay curve, by a least-squares line
/// through the −5 ..= −35 dB part (T30 extrapolated to 60 dB, ISO 3382-1).
fn rt60_schroeder(channels: &[&[f32]], fs: f64) -> f64 {
    let n = channels[0].len();
    let mut edc = vec![0.0f64; n];
    let mut acc = 0.0;
    for i in (0..n).rev() {
        acc += channels
            .iter()
            .map(|c| f64::from(c[i]).powi(2))
            .sum::<f64>();
        edc[i] = acc;
    }
    let e0 = edc[0];
    let (mut sx, mut sy, mut sxx, mut sxy, mut m) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, e) in edc.iter().enumerate() {
        let db = 10.0 * (e / e0).log10();
        if (-35.0..=-5.0).contains(&db) {
            let t = i as f64 / fs;
            sx += t;
            sy += db;
            sxx += t * t;
            sxy += t * db;
            m += 1.0;
        }
    }
    let slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    -60.0 / slope
}

/// Brick-wall band-pass (FFT) of `x` to `lo_hz ..= hi_hz`.
fn band(x: &[f32], fs: f64, lo_hz: f64, hi_hz: f64) -> Vec<f32> {
    let n = x.len();
    let mut planner = RealFftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut buf: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let mut spec = fwd.make_output_vec();
    fwd.process(&mut buf, &mut spec).unwrap();
    for (k, c) in spec.iter_mut().enumerate() {
        let f = k as f64 * fs / n as f64;
        if f < lo_hz || f > hi_hz {
            *c = realfft::num_complex::Complex::new(0.0, 0.0);
        }
    }
    inv.process(&mut spec, &mut buf).unwrap();
    buf.iter().map(|&v| (v / n as f64) as f32).collect()
}

/// Band of `x` by IIR filters (six Butterworth high-pass sections at `lo_hz`, six low-pass
/// sections at `hi_hz`, 72 dB/octave skirts): their own ringing is far shorter than the decays
/// measured, unlike a brick-wall FFT filter whose sinc tails would fill the energy decay curve,
/// and the skirts are steep enough that slower-decaying neighbouring frequencies do not leak
/// into the band's decay curve.
fn band_iir(x: &[f32], fs: f64, lo_hz: f64, hi_hz: f64) -> Vec<f32> {
    let q = core::f64::consts::FRAC_1_SQRT_2;
    let hp = biquad::high_pass(lo_hz, q, fs).unwrap();
    let lp = biquad::low_pass(hi_hz, q, fs).unwrap();
    let mut f: Vec<Biquad<1>> = [hp; 6]
        .into_iter()
        .chain([lp; 6])
        .map(Biquad::new)
        .collect();
    x.iter()
        .map(|&v| f.iter_mut().fold(f64::from(v), |y, b| b.tick(0, y)) as f32)
        .collect()
}

#[test]
fn rt60_matches_the_setting_within_15_percent() {
    for (fs, decay) in [
        (48_000.0, 0.5),
        (48_000.0, 1.2),
        (48_000.0, 3.0),
        (44_100.0, 1.2),
        (96_000.0, 1.2),
        (192_000.0, 1.2),
    ] {
        for size in [0.0, 0.5, 1.0] {
            let p = ReverbParams {
                decay_s: decay,
                damping: 0.0,
                size,
                highpass_hz: 20.0,
                ..ReverbParams::default()
            };
            let (l, r) = impulse_response(fs, p, 2.0 * decay + 0.5);
            let rt = rt60_schroeder(&[&l, &r], fs);
            let err = (rt - decay).abs() / decay;
            eprintln!("fs {fs}, size {size}: RT60 {rt:.3} s for {decay} s");
            assert!(
                err < 0.15,
                "fs {fs}, size {size}: RT60 {rt:.3} s for a setting of {decay} s ({:.1} %)",
                err * 100.0
            );
        }
    }
}

#[test]
fn damping_shortens_the_treble_decay_only() {
    let fs = 48_000.0;
    let decay = 2.0;
    let p = ReverbParams {
        decay_s: decay,
        damping: 0.8,
        highpass_hz: 20.0,
        ..ReverbParams::default()
    };
    let (l, r) = impulse_response(fs, p, 2.0 * decay + 0.5);
    // Third octave around 4 kHz: (1 - 0.85 * 0.8) * decay.
    let (lh, rh) = (
        band_iir(&l, fs, 3_564.0, 4_490.0),
        band_iir(&r, fs, 3_564.0, 4_490.0),
    );
    let rt_high = rt60_schroeder(&[&lh, &rh], fs);
    eprintln!("4 kHz third-octave RT60 {rt_high:.3} s");
    let want_high = (1.0 - 0.85 * 0.8) * decay;
    assert!(
        (rt_high - want_high).abs() / want_high < 0.2,
        "4 kHz octave RT60 {rt_high:.3} s, want {want_high:.3} s"
    );
    // Octave around 250 Hz: barely damped.
    let (ll, rl) = (
        band_iir(&l, fs, 177.0, 354.0),
        band_iir(&r, fs, 177.0, 354.0),
    );
    let rt_low = rt60_schroeder(&[&ll, &rl], fs);
    eprintln!("250 Hz octave RT60 {rt_low:.3} s");
    assert!(
        (rt_low - decay).abs() / decay < 0.15,
        "250 Hz octave RT60 {rt_low:.3} s, want {decay} s"
    );
}

#[test]
fn wet_high_pass_keeps_the_low_end_dry() {
    let fs = 48_000.0;
    let p = ReverbParams {
        mix: 1.0,
        highpass_hz: 200.0,
        damping: 0.0,
        ..ReverbParams::default()
    };
    let (l, r) = impulse_response(fs, p, 2.0);
    let spectrum_level = |x: &[f32], lo: f64, hi: f64| analysis::rms(&band(x, fs, lo, hi));
    let low = spectrum_level(&l, 20.0, 50.0) + spectrum_level(&r, 20.0, 50.0);
    let mid = spectrum_level(&l, 800.0, 2_000.0) + spectrum_level(&r, 800.0, 2_000.0);
    // Band energy per Hz: the 2nd-order high-pass at 200 Hz is at least −24 dB below 50 Hz.
    let low_density = low / (30.0f64).sqrt();
    let mid_density = mid / (1_200.0f64).sqrt();
    let db = 20.0 * (low_density / mid_density).log10();
    assert!(
        db < -20.0,
        "wet 20-50 Hz is only {db:.1} dB below 0.8-2 kHz"
    );
}

#[test]
fn wet_level_is_normalised_and_width_controls_decorrelation() {
    let fs = 48_000.0;
    let n = (3.0 * fs) as usize;
    let noise = signals::white_noise(0.25, 5, n);
    let dry = signals::to_frames::<2>(&noise);
    for decay in [0.3, 1.2, 6.0] {
        for width in [0.0, 1.0] {
            let mut r = reverb(
                fs,
                ReverbParams {
                    mix: 1.0,
                    decay_s: decay,
                    damping: 0.0,
                    highpass_hz: 20.0,
                    width,
                    ..ReverbParams::default()
                },
            );
            let mut y = dry.clone();
            r.process(&mut y);
            let tail = n / 2..n;
            let wl: Vec<f32> = tail.clone().map(|i| y[i][0] - dry[i][0]).collect();
            let wr: Vec<f32> = tail.clone().map(|i| y[i][1] - dry[i][1]).collect();
            let gain_db = 20.0 * (analysis::rms(&wl) / analysis::rms(&noise[tail])).log10();
            assert!(
                gain_db.abs() < 6.0,
                "decay {decay}, width {width}: wet/dry {gain_db:.1} dB"
            );
            let dot: f64 = wl.iter().zip(&wr).map(|(a, b)| f64::from(a * b)).sum();
            let corr = dot / (analysis::rms(&wl) * analysis::rms(&wr) * wl.len() as f64);
            if width == 0.0 {
                assert_eq!(wl, wr, "width 0 must give a mono wet signal");
            } else {
                assert!(
                    corr.abs() < 0.3,
                    "decay {decay}: wet L/R correlation {corr:.3}"
                );
            }
        }
    }
}

#[test]
fn mix_zero_leaves_the_dry_signal_untouched() {
    let fs = 48_000.0;
    let x = signals::music_like(fs, 1.0, -3.0, 3);
    let mut y = x.clone();
    let mut r = reverb(
        fs,
        ReverbParams {
            mix: 0.0,
            ..ReverbParams::default()
        },
    );
    r.process(&mut y);
    let bits = |v: &[[f32; 2]]| {
        v.iter()
            .flat_map(|f| f.map(|s| (s + 0.0).to_bits()))
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&x), bits(&y));
}

#[test]
fn storage_sizes_and_kinds() {
    for fs in [8_000u32, 44_100, 48_000, 96_000, 192_000, 384_000] {
        assert_eq!(
            Reverb::<Vec<f32>>::required_storage(f64::from(fs)),
            reverb_storage(fs)
        );
    }
    // The figures the docs quote.
    assert_eq!(reverb_storage(48_000), 43_622);
    assert_eq!(reverb_storage(384_000), 348_174);
    let fs = 48_000.0;
    let n = Reverb::<Vec<f32>>::required_storage(fs);
    // Too small: a precise error, and the audio is left alone.
    let mut small = Reverb::new(vec![0.0f32; n - 1], ReverbParams::default());
    assert_eq!(
        small.prepare(&ProcessSpec::new(fs, 64)),
        Err(Error::CapacityExceeded {
            needed: n,
            capacity: n - 1
        })
    );
    let x = signals::music_like(fs, 0.5, -6.0, 1);
    let mut y = x.clone();
    small.process(&mut y);
    assert_eq!(x, y);
    // Vec, &mut [f32] and [f32; N] storage give the same sound; garbage in lent storage is
    // cleared by prepare.
    let p = ReverbParams {
        mix: 0.5,
        ..ReverbParams::default()
    };
    let mut a = x.clone();
    reverb(fs, p).process(&mut a);
    let mut lent = vec![7.0f32; n + 100];
    let mut b = x.clone();
    {
        let mut r = Reverb::new(&mut lent[..], p);
        r.prepare(&ProcessSpec::new(fs, 64)).unwrap();
        r.process(&mut b);
    }
    assert_eq!(a, b);
    let mut c = x.clone();
    let mut r = Reverb::new([1.0f32; reverb_storage(48_000)], p);
    r.prepare(&ProcessSpec::new(fs, 64)).unwrap();
    r.process(&mut c);
    assert_eq!(a, c);
}

#[test]
fn silent_tail_decays_to_exact_zero_without_subnormals() {
    let fs = 48_000.0;
    let mut r = reverb(
        fs,
        ReverbParams {
            mix: 1.0,
            decay_s: 1.0,
            ..ReverbParams::default()
        },
    );
    let mut x = signals::to_frames::<2>(&signals::white_noise(1.0, 9, 4_800));
    r.process(&mut x);
    // 20 s of silence: 1200 dB of decay at RT60 = 1 s, far past the f32 range.
    let mut silence = vec![[0.0f32; 2]; (20.0 * fs) as usize];
    r.process(&mut silence);
    assert!(
        silence.iter().flatten().all(|s| !s.is_subnormal()),
        "a subnormal value left the reverb"
    );
    assert!(silence[silence.len() - 48_000..]
        .iter()
        .flatten()
        .all(|&s| s == 0.0));
}

#[test]
fn non_finite_input_never_poisons_the_tail() {
    let fs = 48_000.0;
    let mut r = reverb(
        fs,
        ReverbParams {
            mix: 1.0,
            ..ReverbParams::default()
        },
    );
    let mut x = signals::to_frames::<2>(&signals::white_noise(0.5, 2, 24_000));
    x[100] = [f32::NAN, f32::INFINITY];
    x[5_000] = [f32::NEG_INFINITY, f32::NAN];
    x[6_000] = [f32::MAX, -f32::MAX];
    r.process(&mut x);
    for (i, f) in x.iter().enumerate() {
        if i == 100 || i == 5_000 {
            continue; // the dry sample itself is passed through
        }
        assert!(f.iter().all(|s| s.is_finite()), "frame {i}: {f:?}");
    }
    // And the wet path still works: an impulse later rings.
    let mut y = signals::to_frames::<2>(&signals::impulse(1.0, 0, 48_000));
    r.reset();
    r.process(&mut y);
    assert!(analysis::rms(&signals::channel(&y[1..], 0)) > 1e-4);
}

#[test]
fn set_params_validates_and_keeps_old_parameters() {
    let fs = 48_000.0;
    let mut r = reverb(fs, ReverbParams::default());
    let bad = ReverbParams {
        decay_s: 0.0,
        ..ReverbParams::default()
    };
    assert!(matches!(
        r.set_params(bad),
        Err(Error::OutOfRange {
            param: "decay_s",
            ..
        })
    ));
    assert_eq!(r.params(), ReverbParams::default());
    for (p, name) in [
        (
            ReverbParams {
                mix: 1.5,
                ..ReverbParams::default()
            },
            "mix",
        ),
        (
            ReverbParams {
                predelay_ms: 101.0,
                ..ReverbParams::default()
            },
            "predelay_ms",
        ),
        (
            ReverbParams {
                highpass_hz: f64::NAN,
                ..ReverbParams::default()
            },
            "highpass_hz",
        ),
        (
            ReverbParams {
                size: -0.1,
                ..ReverbParams::default()
            },
            "size",
        ),
    ] {
        match r.set_params(p) {
            Err(Error::OutOfRange { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    // Invalid parameters given to `new` surface in prepare.
    let mut bad_new = Reverb::new(vec![0.0; reverb_storage(48_000)], bad);
    assert!(bad_new.prepare(&ProcessSpec::new(fs, 64)).is_err());
}

/// Energy above 10 kHz (4th-order high-pass) of a 300 Hz tone, in short windows: a click
/// would be broadband.
fn hf_peak_rms(x: &[f32], fs: f64) -> f64 {
    let c = biquad::high_pass(10_000.0, core::f64::consts::FRAC_1_SQRT_2, fs).unwrap();
    let mut f = (Biquad::<1>::new(c), Biquad::<1>::new(c));
    let y: Vec<f32> = x
        .iter()
        .map(|&v| f.1.tick(0, f.0.tick(0, f64::from(v))) as f32)
        .collect();
    y.chunks(240).skip(4).map(analysis::rms).fold(0.0, f64::max)
}

#[test]
fn parameter_changes_do_not_click() {
    let fs = 48_000.0;
    let n = (1.5 * fs) as usize;
    let tone = signals::to_frames::<2>(&signals::sine(300.0, 0.5, 0.0, fs, n));
    let start = ReverbParams {
        mix: 0.3,
        size: 0.1,
        predelay_ms: 0.0,
        ..ReverbParams::default()
    };
    let end = ReverbParams {
        mix: 0.6,
        size: 1.0,
        predelay_ms: 60.0,
        decay_s: 4.0,
        damping: 0.0,
        width: 0.2,
        highpass_hz: 600.0,
    };
    let run = |change: bool| {
        let mut r = reverb(fs, start);
        let mut y = tone.clone();
        let half = n / 2;
        r.process(&mut y[..half]);
        if change {
            r.set_params(end).unwrap();
        }
        r.process(&mut y[half..]);
        signals::channel(&y, 0)
    };
    let steady = hf_peak_rms(&run(false), fs);
    let changed = hf_peak_rms(&run(true), fs);
    // The tone and its reverb have (almost) nothing above 10 kHz; a click would.
    assert!(
        changed < 1e-3 && changed < 10.0 * steady.max(1e-5),
        "HF peak {changed:.2e} after the change vs {steady:.2e} steady"
    );
}
