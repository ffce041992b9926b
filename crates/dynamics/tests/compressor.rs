//! Compressor and expander/gate behaviour against the analytic static curves of Giannoulis,
//! Massberg and Reiss (JAES 2012) and the 63 % time-constant definition.

use lathe_core::{db_to_gain, gain_to_db, Error, ProcessSpec, Processor};
use lathe_dynamics::{
    Compressor, CompressorCurve, CompressorParams, DetectorKind, Expander, ExpanderCurve,
    ExpanderParams,
};
use lathe_testkit::signals;

const FS: f64 = 48_000.0;

fn compressor(p: CompressorParams) -> Compressor<2> {
    let mut c = Compressor::new(p);
    c.prepare(&ProcessSpec::new(FS, 512)).unwrap();
    c
}

fn expander(p: ExpanderParams) -> Expander<2> {
    let mut e = Expander::new(p);
    e.prepare(&ProcessSpec::new(FS, 512)).unwrap();
    e
}

/// Level in dB of the last sample of a constant-magnitude signal.
fn last_db(y: &[[f32; 2]], ch: usize) -> f64 {
    gain_to_db(f64::from(y.last().unwrap()[ch].abs()))
}

/// A square wave has a constant |x|, so the peak detector sees exactly its level: after
/// settling, the gain is the static curve's.
#[test]
fn static_curve_matches_giannoulis_eq4() {
    let p = CompressorParams {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 10.0,
        attack_ms: 1.0,
        release_ms: 10.0,
        ..CompressorParams::default()
    };
    let curve = p.curve();
    for level in [-40.0, -26.0, -24.0, -20.0, -17.0, -15.0, -10.0, 0.0, 6.0] {
        let mut c = compressor(p);
        let mut x = signals::to_frames::<2>(&signals::square(
            100.0,
            db_to_gain(level) as f32,
            FS,
            24_000,
        ));
        c.process(&mut x);
        let got = last_db(&x, 0) - level;
        let want = curve.gain_db(level);
        assert!(
            (got - want).abs() < 1e-3,
            "{level} dB: gain {got}, want {want}"
        );
        assert!((c.gain_reduction_db() + want).abs() < 1e-3);
    }
}

/// A level step: the gain reduction (in dB) reaches 63 % of its final value after `attack_ms`,
/// and falls to 37 % of it `release_ms` after the level drops back.
#[test]
fn attack_and_release_are_63_percent_time_constants() {
    let (attack_ms, release_ms) = (5.0, 50.0);
    let p = CompressorParams {
        threshold_db: -30.0,
        ratio: 10.0,
        knee_db: 0.0,
        attack_ms,
        release_ms,
        ..CompressorParams::default()
    };
    let target = CompressorCurve {
        threshold_db: -30.0,
        ratio: 10.0,
        knee_db: 0.0,
    }
    .gain_db(0.0);
    let mut c = compressor(p);
    // Quiet (below threshold), then full scale, then quiet again (DC keeps |x| constant).
    let mut quiet = vec![[0.001f32; 2]; 4_800];
    c.process(&mut quiet);
    let na = (attack_ms * 1e-3 * FS) as usize;
    let mut loud = vec![[1.0f32; 2]; na];
    c.process(&mut loud);
    let gr = c.gain_reduction_db();
    assert!(
        (gr / -target - 0.632).abs() < 0.005,
        "attack: {gr} of {}",
        -target
    );
    let mut loud = vec![[1.0f32; 2]; 48_000];
    c.process(&mut loud);
    let nr = (release_ms * 1e-3 * FS) as usize;
    let mut quiet = vec![[0.001f32; 2]; nr];
    c.process(&mut quiet);
    let gr = c.gain_reduction_db();
    assert!(
        (gr / -target - 0.368).abs() < 0.005,
        "release: {gr} of {}",
        -target
    );
}

#[test]
fn makeup_auto_makeup_and_mix() {
    let base = CompressorParams {
        threshold_db: -24.0,
        ratio: 3.0,
        knee_db: 0.0,
        attack_ms: 0.5,
        release_ms: 5.0,
        lookahead_ms: 1.0,
        ..CompressorParams::default()
    };
    let x = signals::to_frames::<2>(&signals::square(50.0, 1.0, FS, 24_000));
    // Auto makeup restores a full-scale signal to 0 dBFS (Giannoulis et al. §2.4), manual
    // makeup adds on top.
    for (auto, makeup, want) in [
        (true, 0.0, 0.0),
        (true, -2.0, -2.0),
        (false, 3.0, -16.0 + 3.0),
    ] {
        let mut c = compressor(CompressorParams {
            auto_makeup: auto,
            makeup_db: makeup,
            ..base
        });
        let mut y = x.clone();
        c.process(&mut y);
        assert!(
            (last_db(&y, 0) - want).abs() < 1e-3,
            "{auto} {makeup}: {}",
            last_db(&y, 0)
        );
    }
    // Parallel compression: mix blends the compressed signal with the latency-aligned dry one.
    let music = signals::music_like(FS, 0.5, 0.0, 1);
    let mut wet = music.clone();
    compressor(base).process(&mut wet);
    let mut mixed = music.clone();
    compressor(CompressorParams { mix: 0.3, ..base }).process(&mut mixed);
    let lat = compressor(base).latency();
    assert_eq!(lat, 48);
    for i in lat..music.len() {
        for ch in 0..2 {
            let want = 0.3 * wet[i][ch] + 0.7 * music[i - lat][ch];
            assert!((mixed[i][ch] - want).abs() < 1e-6, "frame {i}");
        }
    }
    // mix = 0 is the dry signal, delayed, bit for bit.
    let mut dry = music.clone();
    compressor(CompressorParams { mix: 0.0, ..base }).process(&mut dry);
    assert_eq!(&dry[lat..], &music[..music.len() - lat]);
}

#[test]
fn stereo_link() {
    let p = CompressorParams {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 0.0,
        attack_ms: 1.0,
        release_ms: 10.0,
        ..CompressorParams::default()
    };
    // Left at 0 dB, right at -30 dB (below the threshold).
    let x: Vec<[f32; 2]> = signals::square(100.0, 1.0, FS, 24_000)
        .iter()
        .map(|&v| [v, v * db_to_gain(-30.0) as f32])
        .collect();
    let gain = |link: f64| {
        let mut y = x.clone();
        compressor(CompressorParams { link, ..p }).process(&mut y);
        [last_db(&y, 0), last_db(&y, 1) + 30.0]
    };
    let full = p.curve().gain_db(0.0); // -15 dB
    let [l, r] = gain(1.0);
    assert!(
        (l - full).abs() < 1e-3 && (r - full).abs() < 1e-3,
        "linked: {l} {r}"
    );
    let [l, r] = gain(0.0);
    assert!(
        (l - full).abs() < 1e-3 && r.abs() < 1e-3,
        "unlinked: {l} {r}"
    );
    // Half link: the right detector reads halfway (in dB) to the left's level: -15 dBFS.
    let [l, r] = gain(0.5);
    let half = p.curve().gain_db(-15.0);
    assert!(
        (l - full).abs() < 1e-3 && (r - half).abs() < 1e-3,
        "half: {l} {r} vs {half}"
    );
}

/// A sidechain high-pass keeps a loud bass from pumping the mix: the reduction then follows
/// the mid-range tone's level.
#[test]
fn sidechain_high_pass_ignores_bass() {
    let p = CompressorParams {
        threshold_db: -30.0,
        ratio: 4.0,
        knee_db: 0.0,
        attack_ms: 5.0,
        release_ms: 200.0,
        ..CompressorParams::default()
    };
    let n = 48_000;
    let bass = signals::sine(40.0, 0.7, 0.0, FS, n);
    let mid = signals::sine(2_000.0, 0.1, 0.0, FS, n);
    let x: Vec<[f32; 2]> = bass.iter().zip(&mid).map(|(b, m)| [b + m; 2]).collect();
    let mut full = compressor(p);
    full.process(&mut x.clone());
    let mut hp = compressor(CompressorParams {
        sidechain_hpf_hz: Some(300.0),
        ..p
    });
    hp.process(&mut x.clone());
    let (gr_full, gr_hp) = (full.gain_reduction_db(), hp.gain_reduction_db());
    // Without the filter the bass crest (about -2.5 dBFS) sets the reduction.
    assert!(gr_full > 18.0, "{gr_full}");
    // With it, the 2 kHz tone (-20 dBFS peak) does: 10 dB over, ratio 4 -> 7.5 dB.
    assert!((gr_hp - 7.5).abs() < 0.5, "{gr_hp}");
}

#[test]
fn rms_detector_reads_the_rms_level() {
    let p = CompressorParams {
        threshold_db: -30.0,
        ratio: 2.0,
        knee_db: 0.0,
        attack_ms: 20.0,
        release_ms: 20.0,
        detector: DetectorKind::Rms,
        rms_window_ms: 50.0,
        ..CompressorParams::default()
    };
    let mut c = compressor(p);
    let mut x = signals::to_frames::<2>(&signals::sine(1_000.0, 0.5, 0.0, FS, 48_000));
    c.process(&mut x);
    // RMS of a -6.02 dBFS sine: -9.03 dBFS, 21 dB over the threshold -> 10.5 dB reduction.
    let want = -p.curve().gain_db(gain_to_db(0.5 / 2f64.sqrt()));
    assert!(
        (c.gain_reduction_db() - want).abs() < 0.1,
        "{} vs {want}",
        c.gain_reduction_db()
    );
}

/// With lookahead the gain is already down when a transient arrives.
#[test]
fn lookahead_catches_transients() {
    let base = CompressorParams {
        threshold_db: -20.0,
        ratio: 10.0,
        knee_db: 0.0,
        attack_ms: 1.0,
        release_ms: 100.0,
        ..CompressorParams::default()
    };
    let x = signals::to_frames::<2>(&signals::step(1.0, 4_800, 9_600));
    let at_onset = |lookahead_ms: f64| {
        let mut c = compressor(CompressorParams {
            lookahead_ms,
            ..base
        });
        let lat = c.latency();
        let mut y = x.clone();
        c.process(&mut y);
        f64::from(y[4_800 + lat][0])
    };
    let (plain, ahead) = (at_onset(0.0), at_onset(5.0));
    // Without lookahead the onset passes almost untouched (one sample of a 1 ms attack).
    assert!(plain > 0.95, "{plain}");
    // 5 ms = 5 attack time constants ahead: within 1 % of the final gain (-18 dB).
    assert!(
        (gain_to_db(ahead) + 18.0).abs() < 0.2,
        "{}",
        gain_to_db(ahead)
    );
}

/// Program-dependent release: a short transient is released quickly, sustained compression
/// slowly.
#[test]
fn adaptive_release_depends_on_the_program() {
    let p = CompressorParams {
        threshold_db: -30.0,
        ratio: 10.0,
        knee_db: 0.0,
        attack_ms: 0.5,
        release_ms: 50.0,
        adaptive_release: true,
        ..CompressorParams::default()
    };
    let recovery = |loud_frames: usize| {
        let mut c = compressor(p);
        let mut loud = vec![[1.0f32; 2]; loud_frames];
        c.process(&mut loud);
        let start = c.gain_reduction_db();
        let mut frames = 0;
        while c.gain_reduction_db() > 0.1 * start {
            c.process(&mut [[0.0; 2]]);
            frames += 1;
        }
        frames
    };
    let (short, long) = (recovery(240), recovery(96_000));
    assert!(
        long > 3 * short,
        "transient {short} frames, sustained {long} frames"
    );
}

#[test]
fn parameter_changes_ramp_and_errors_keep_old_parameters() {
    let p = CompressorParams::default();
    let mut c = compressor(p);
    let x = signals::to_frames::<2>(&signals::sine(200.0, 0.5, 0.0, FS, 24_000));
    let mut y = x.clone();
    c.process(&mut y[..12_000]);
    // Threshold -18 -> -40 and makeup +10 dB: ramped, so no sample jumps.
    c.set_params(CompressorParams {
        threshold_db: -40.0,
        makeup_db: 10.0,
        ..p
    })
    .unwrap();
    c.process(&mut y[12_000..]);
    let max_step = y
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).abs())
        .fold(0.0, f32::max);
    let slope = (0.5 * 2.0 * std::f64::consts::PI * 200.0 / FS * db_to_gain(10.0)) as f32;
    assert!(max_step < slope * 1.1, "step {max_step} vs slope {slope}");
    // Errors name the parameter and keep the old set.
    let before = c.params();
    for (bad, name) in [
        (CompressorParams { ratio: 0.5, ..p }, "ratio"),
        (
            CompressorParams {
                threshold_db: f64::NAN,
                ..p
            },
            "threshold_db",
        ),
        (CompressorParams { mix: 1.5, ..p }, "mix"),
        (
            CompressorParams {
                sidechain_hpf_hz: Some(5.0),
                ..p
            },
            "sidechain_hpf_hz",
        ),
    ] {
        match c.set_params(bad) {
            Err(Error::OutOfRange { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(
        c.set_params(CompressorParams {
            lookahead_ms: 20.0,
            ..p
        }),
        Ok(())
    ));
    let mut hi = Compressor::<2>::new(CompressorParams {
        lookahead_ms: 20.0,
        ..p
    });
    assert!(matches!(
        hi.prepare(&ProcessSpec::new(384_000.0, 64)),
        Err(Error::CapacityExceeded {
            needed: 7681,
            capacity: 4096
        })
    ));
    assert_eq!(before.threshold_db, -40.0);
    // Lookahead is structural: the latency changes only at the next prepare.
    assert_eq!(c.latency(), 0);
    c.prepare(&ProcessSpec::new(FS, 512)).unwrap();
    assert_eq!(c.latency(), 960);
}

/// NaN never poisons the detector: it reads as silence, so the output equals that of the same
/// input with zeros in its place (except the NaN frames themselves). Infinity reads as
/// +200 dBFS: the output is finite again right after it, and the reduction recovers.
#[test]
fn non_finite_input_does_not_poison_the_state() {
    let x = signals::to_frames::<2>(&signals::sine(300.0, 0.8, 0.0, FS, 96_000));
    let nan_at = [1_000, 3_000];
    let mut bad = x.clone();
    let mut clean = x.clone();
    for i in nan_at {
        bad[i][0] = f32::NAN;
        clean[i][0] = 0.0;
    }
    bad[5_000][1] = f32::INFINITY;
    for detector in [DetectorKind::Peak, DetectorKind::Rms] {
        let p = CompressorParams {
            detector,
            release_ms: 50.0,
            ..CompressorParams::default()
        };
        let (mut a, mut b) = (bad.clone(), clean.clone());
        let mut c = compressor(p);
        c.process(&mut a);
        compressor(p).process(&mut b);
        for i in (0..5_000).filter(|i| !nan_at.contains(i)) {
            assert_eq!(a[i], b[i], "{detector:?}: frame {i}");
        }
        assert!(a[5_001..].iter().flatten().all(|s| s.is_finite()));
        // Recovered: the end matches the clean run to within the release's residue.
        let (ya, yb) = (a.last().unwrap()[0], b.last().unwrap()[0]);
        assert!((ya - yb).abs() < 1e-3, "{detector:?}: {ya} vs {yb}");
        // With a sidechain filter the NaN is cleared from its state within 64 frames.
        let mut hp = compressor(CompressorParams {
            sidechain_hpf_hz: Some(100.0),
            ..p
        });
        let mut a = bad.clone();
        hp.process(&mut a);
        assert!(a[1_000 + 65..3_000].iter().flatten().all(|s| s.is_finite()));
        assert!(a[5_001..].iter().flatten().all(|s| s.is_finite()));
        assert!(hp.gain_reduction_db().is_finite());
    }
}

#[test]
fn expander_static_curve_and_range() {
    let p = ExpanderParams {
        threshold_db: -40.0,
        ratio: 2.0,
        knee_db: 0.0,
        range_db: 30.0,
        hysteresis_db: 0.0,
        hold_ms: 0.0,
        attack_ms: 1.0,
        release_ms: 10.0,
        ..ExpanderParams::default()
    };
    let curve = ExpanderCurve {
        threshold_db: -40.0,
        ratio: 2.0,
        knee_db: 0.0,
        range_db: 30.0,
    };
    for level in [-20.0, -40.0, -50.0, -60.0, -90.0] {
        let mut e = expander(p);
        let mut x = signals::to_frames::<2>(&signals::square(
            100.0,
            db_to_gain(level) as f32,
            FS,
            24_000,
        ));
        e.process(&mut x);
        let got = last_db(&x, 0) - level;
        let want = curve.gain_db(level);
        assert!((got - want).abs() < 1e-3, "{level}: {got} vs {want}");
    }
}

/// Gate with hysteresis and hold: opens at the threshold, stays open while the level sits
/// between the two thresholds, closes below the lower one once the hold has run out.
#[test]
fn gate_hysteresis_and_hold() {
    let p = ExpanderParams {
        threshold_db: -40.0,
        ratio: 100.0,
        knee_db: 0.0,
        range_db: 60.0,
        hysteresis_db: 10.0,
        hold_ms: 50.0,
        attack_ms: 0.1,
        release_ms: 1.0,
        ..ExpanderParams::default()
    };
    let mut g = expander(p);
    let dc = |db: f64, ms: f64| vec![[db_to_gain(db) as f32; 2]; (ms * 48.0) as usize];
    // A fresh gate is open; -45 dB is above the closing level (-50 dB): it stays open.
    g.process(&mut dc(-45.0, 100.0));
    assert!(g.is_open(0) && g.gain_reduction_db() < 1e-3);
    // Below the closing threshold: still open during the hold, then closed.
    let mut x = dc(-55.0, 40.0);
    g.process(&mut x);
    assert!(g.is_open(0), "hold");
    g.process(&mut dc(-55.0, 20.0));
    assert!(!g.is_open(0));
    assert!(
        (g.gain_reduction_db() - 60.0).abs() < 0.01,
        "{}",
        g.gain_reduction_db()
    );
    // Back between the thresholds: stays closed (hysteresis), attenuated by the curve.
    g.process(&mut dc(-45.0, 100.0));
    assert!(!g.is_open(0));
    // At the threshold it opens.
    g.process(&mut dc(-39.0, 20.0));
    assert!(g.is_open(0) && g.gain_reduction_db() < 1e-3);
}

#[test]
fn gate_lookahead_opens_before_the_transient() {
    let base = ExpanderParams {
        threshold_db: -40.0,
        ratio: 100.0,
        range_db: 60.0,
        attack_ms: 0.5,
        release_ms: 50.0,
        ..ExpanderParams::default()
    };
    let x = signals::to_frames::<2>(&signals::step(0.5, 9_600, 19_200));
    let at_onset = |lookahead_ms: f64| {
        let mut e = expander(ExpanderParams {
            lookahead_ms,
            ..base
        });
        let lat = e.latency();
        let mut y = x.clone();
        e.process(&mut y);
        f64::from(y[9_600 + lat][0])
    };
    let (plain, ahead) = (at_onset(0.0), at_onset(5.0));
    assert!(plain < 0.01, "{plain}");
    assert!(ahead > 0.49, "{ahead}");
}

/// The expander shares the sidechain: NaN reads as silence, infinity as +200 dBFS; the state
/// never holds them and the gate keeps working.
#[test]
fn expander_survives_non_finite_input() {
    let mut e = expander(ExpanderParams {
        sidechain_hpf_hz: Some(50.0),
        ..ExpanderParams::default()
    });
    let mut x = signals::to_frames::<2>(&signals::sine(300.0, 0.5, 0.0, FS, 9_600));
    x[100][0] = f32::NAN;
    x[200][1] = f32::INFINITY;
    e.process(&mut x);
    assert!(x[300..].iter().flatten().all(|s| s.is_finite()));
    assert!(e.gain_reduction_db().is_finite() && e.gain_reduction_db() < 0.01);
    assert!(e.is_open(0) && e.is_open(1));
}
