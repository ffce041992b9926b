//! EBU Tech 3341 (meter conformance) and Tech 3342 (loudness range) test cases, synthesised in
//! code from their definitions (1 kHz sines; levels are per channel, dBFS peak), checked
//! against the standards' tolerances and, tighter, against the exact answer where it is known:
//! a steady sine of peak level `A` dBFS reads `A - 0.691 + 20 log10 |K(f)| + 10 log10(sum G_i / 2)`,
//! with `|K|` from the published 48 kHz coefficients (1 kHz stereo tones read 0.0067 LU high:
//! `|K(1 kHz)|` = +0.698 dB against the -0.691 dB offset; 997 Hz reads exactly).

mod common;

use common::{measure, sine_lufs};
use lathe_loudness::{ChannelLayout, LoudnessMeter};
use lathe_testkit::signals::{self, Tone};

const FS: f64 = 48_000.0;

fn stereo(tones: &[Tone]) -> Vec<[f32; 2]> {
    signals::to_frames(&signals::tone_sequence(tones, FS))
}

fn t(level_db: f64, seconds: f64) -> Tone {
    Tone::new(1_000.0, level_db, seconds)
}

/// Exact loudness of a steady 1 kHz stereo tone at `db` dBFS per channel.
fn tone_lufs(db: f64) -> f64 {
    sine_lufs(1_000.0, db, 2.0, FS)
}

#[test]
fn tone_loudness_offset_is_as_published() {
    // The published coefficients lift 1 kHz by 0.698 dB: a 1 kHz stereo tone reads 0.0067 LU
    // above its level, a 997 Hz tone on one channel at 0 dBFS reads -3.01 LUFS.
    let off = tone_lufs(-23.0) + 23.0;
    assert!((off - 0.0067).abs() < 0.0005, "{off}");
    let one = sine_lufs(997.0, 0.0, 1.0, FS);
    assert!((one + 3.0103).abs() < 0.0005, "{one}");
}

#[test]
fn tech_3341_cases_1_and_2_steady_tones() {
    for level in [-23.0, -33.0] {
        let m = measure(&stereo(&[t(level, 20.0)]), FS, 1_111);
        let exact = tone_lufs(level);
        for (what, got) in [
            ("M", m.momentary_lufs()),
            ("S", m.short_term_lufs()),
            ("I", m.integrated_lufs()),
        ] {
            assert!(
                (got - level).abs() <= 0.1,
                "{level} dBFS: {what} = {got:.4}"
            );
            assert!(
                (got - exact).abs() < 0.001,
                "{level} dBFS: {what} = {got:.5} vs {exact:.5}"
            );
        }
    }
}

#[test]
fn tech_3341_cases_3_to_5_gating() {
    let cases: [(&str, Vec<Tone>); 3] = [
        ("3", vec![t(-36.0, 10.0), t(-23.0, 60.0), t(-36.0, 10.0)]),
        (
            "4",
            vec![
                t(-72.0, 10.0),
                t(-36.0, 10.0),
                t(-23.0, 60.0),
                t(-36.0, 10.0),
                t(-72.0, 10.0),
            ],
        ),
        ("5", vec![t(-26.0, 20.0), t(-20.0, 20.1), t(-26.0, 20.0)]),
    ];
    for (name, tones) in cases {
        let x = stereo(&tones);
        let i = measure(&x, FS, 4_800).integrated_lufs();
        assert!((i + 23.0).abs() <= 0.1, "case {name}: I = {i:.4}");
        // Tighter: the exact block-list answer.
        let exact = common::reference(&x, FS, ChannelLayout::Stereo).integrated_lufs();
        assert!(
            (i - exact).abs() < 0.002,
            "case {name}: I = {i:.5}, exact {exact:.5}"
        );
    }
    // Cases 3 and 4: only the -23 dBFS part passes the gates; the blocks that straddle the
    // level changes sit between -36 and -23 and move the result by 0.02 LU.
    let i = measure(
        &stereo(&[t(-36.0, 10.0), t(-23.0, 60.0), t(-36.0, 10.0)]),
        FS,
        4_800,
    )
    .integrated_lufs();
    assert!((i - tone_lufs(-23.0)).abs() < 0.025, "{i}");
}

#[test]
fn tech_3341_case_6_five_channels() {
    // L and R at -28, C at -24, Ls and Rs at -30 dBFS: I = -23.0 with the 1.41 surround weight.
    let n = (20.0 * FS) as usize;
    let lvl = |db: f64| signals::sine(1_000.0, 10f64.powf(db / 20.0), 0.0, FS, n);
    let (lr, c, s) = (lvl(-28.0), lvl(-24.0), lvl(-30.0));
    let frames: Vec<[f32; 5]> = (0..n).map(|i| [lr[i], lr[i], c[i], s[i], s[i]]).collect();
    let mut m = LoudnessMeter::<5>::with_layout(FS, ChannelLayout::Surround5_0).unwrap();
    m.process(&frames);
    let i = m.integrated_lufs();
    assert!((i + 23.0).abs() <= 0.1, "{i}");
    let p = |db: f64| 10f64.powf(db / 10.0);
    let exact = common::lufs(
        (2.0 * p(-28.0) + p(-24.0) + 2.0 * 1.41 * p(-30.0)) / 2.0
            * common::k_gain(1_000.0, FS).powi(2),
    );
    assert!((i - exact).abs() < 0.001, "{i} vs {exact}");
    // The default layout for five channels is the same (WAV order L R C Ls Rs).
    let mut d = LoudnessMeter::<5>::new(FS).unwrap();
    d.process(&frames);
    assert_eq!(d.integrated_lufs(), i);
}

#[test]
fn tech_3341_case_9_short_term_is_steady() {
    // (1.34 s at -20, 1.66 s at -30) x 5: every 3 s window holds the same energy, so S reads
    // -23.0 from 3 s on, at every 10 ms update.
    let mut tones = Vec::new();
    for _ in 0..5 {
        tones.push(t(-20.0, 1.34));
        tones.push(t(-30.0, 1.66));
    }
    let x = stereo(&tones);
    let p = |db: f64| 10f64.powf(db / 10.0);
    let exact = common::lufs((1.34 * p(-20.0) + 1.66 * p(-30.0)) / 3.0)
        + (tone_lufs(0.0) - common::lufs(1.0));
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    for (i, b) in x.chunks(480).enumerate() {
        m.process(b);
        if i >= 300 {
            let s = m.short_term_lufs();
            assert!(
                (s + 23.0).abs() <= 0.1,
                "at {} ms: S = {s:.4}",
                (i + 1) * 10
            );
            assert!(
                (s - exact).abs() < 0.01,
                "at {} ms: S = {s:.4} vs {exact:.4}",
                (i + 1) * 10
            );
        }
    }
}

#[test]
fn tech_3341_case_10_max_short_term_on_a_fine_grid() {
    // Twenty signals: i * 0.15 s of silence, 3 s at -23 dBFS, 1 s of silence.
    for i in 0..20 {
        let x = stereo(&[
            t(f64::NEG_INFINITY, 0.15 * i as f64),
            t(-23.0, 3.0),
            t(f64::NEG_INFINITY, 1.0),
        ]);
        let s = measure(&x, FS, 4_800).max_short_term_lufs();
        assert!((s + 23.0).abs() <= 0.1, "file {i}: max S = {s:.4}");
        assert!(
            (s - tone_lufs(-23.0)).abs() < 0.01,
            "file {i}: max S = {s:.4}"
        );
    }
}

#[test]
fn tech_3341_case_12_momentary_is_steady() {
    // (0.18 s at -20, 0.22 s at -30) x 25: every 400 ms window holds the same energy.
    let mut tones = Vec::new();
    for _ in 0..25 {
        tones.push(t(-20.0, 0.18));
        tones.push(t(-30.0, 0.22));
    }
    let x = stereo(&tones);
    let p = |db: f64| 10f64.powf(db / 10.0);
    let exact = common::lufs((0.18 * p(-20.0) + 0.22 * p(-30.0)) / 0.4)
        + (tone_lufs(0.0) - common::lufs(1.0));
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    for (i, b) in x.chunks(480).enumerate() {
        m.process(b);
        if i >= 100 {
            let mm = m.momentary_lufs();
            assert!(
                (mm + 23.0).abs() <= 0.1,
                "at {} ms: M = {mm:.4}",
                (i + 1) * 10
            );
            assert!(
                (mm - exact).abs() < 0.01,
                "at {} ms: M = {mm:.4} vs {exact:.4}",
                (i + 1) * 10
            );
        }
    }
}

#[test]
fn tech_3341_case_13_max_momentary_on_a_fine_grid() {
    // Twenty signals: i * 20 ms of silence, 400 ms at -23 dBFS, 1 s of silence. A 100 ms
    // update grid would miss most of them.
    for i in 0..20 {
        let x = stereo(&[
            t(f64::NEG_INFINITY, 0.02 * i as f64),
            t(-23.0, 0.4),
            t(f64::NEG_INFINITY, 1.0),
        ]);
        let mm = measure(&x, FS, 4_800).max_momentary_lufs();
        assert!((mm + 23.0).abs() <= 0.1, "file {i}: max M = {mm:.4}");
        // Exact up to the K-weighting filter's onset transient.
        assert!(
            (mm - tone_lufs(-23.0)).abs() < 0.01,
            "file {i}: max M = {mm:.4}"
        );
    }
}

#[test]
fn tech_3341_cases_15_to_19_true_peak() {
    let deg = std::f64::consts::PI / 180.0;
    for (case, f, phase, amp, want) in [
        (15, FS / 4.0, 0.0, 0.5, -6.0),
        (16, FS / 4.0, 45.0, 0.5, -6.0),
        (17, FS / 6.0, 60.0, 0.5, -6.0),
        (18, FS / 8.0, 67.5, 0.5, -6.0),
        (19, FS / 4.0, 45.0, 1.41, 3.0),
    ] {
        // 1 s with 10 ms raised-cosine fades, on both channels.
        let x = signals::faded(signals::sine(f, amp, phase * deg, FS, 48_000), 480);
        let m = measure(&signals::to_frames::<2>(&x), FS, 4_800);
        let tp = m.true_peak_dbtp();
        assert!(
            tp <= want + 0.2 && tp >= want - 0.4,
            "case {case}: {tp:.3} dBTP, want {want} +0.2/-0.4"
        );
        // Tighter: the analog peak is exactly 20 log10(amp).
        let exact = 20.0 * amp.log10();
        assert!(
            (tp - exact).abs() < 0.02,
            "case {case}: {tp:.4} vs {exact:.4}"
        );
        // The sample peak of cases 16 and 19 misses the crest (45 degrees: samples at 0.707 amp).
        if phase == 45.0 {
            let sp = m.sample_peak_dbfs();
            assert!(
                (sp - (exact - 3.01)).abs() < 0.02,
                "case {case}: sample peak {sp}"
            );
        }
    }
}

#[test]
fn tech_3342_loudness_range_cases() {
    for (case, levels, want) in [
        (1, vec![-20.0, -30.0], 10.0),
        (2, vec![-20.0, -15.0], 5.0),
        (3, vec![-40.0, -20.0], 20.0),
        (4, vec![-50.0, -35.0, -20.0, -35.0, -50.0], 15.0),
    ] {
        let tones: Vec<Tone> = levels.iter().map(|&l| t(l, 20.0)).collect();
        let x = stereo(&tones);
        let lra = measure(&x, FS, 4_800).loudness_range_lu();
        assert!((lra - want).abs() <= 1.0, "case {case}: LRA {lra:.3}");
        // Tighter: the steady parts give the percentiles exactly.
        assert!((lra - want).abs() <= 0.02, "case {case}: LRA {lra:.4}");
        // Tech 3342: repeating the signal must not change the result.
        let twice: Vec<[f32; 2]> = x.iter().chain(x.iter()).copied().collect();
        let again = measure(&twice, FS, 4_800).loudness_range_lu();
        assert!(
            (again - lra).abs() <= 0.02,
            "case {case}: repeated {again:.4} vs {lra:.4}"
        );
    }
}
