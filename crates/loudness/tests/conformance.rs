//! EBU Tech 3341 / 3342 conformance, synthesised from the standards' definitions, and a
//! differential test against the `ebur128` crate.

use lathe_loudness::{ChannelLayout, LoudnessMeter};
use lathe_testkit::signals::{self, Tone};

const FS: f64 = 48_000.0;

fn stereo_tones(tones: &[Tone]) -> Vec<[f32; 2]> {
    signals::to_frames(&signals::tone_sequence(tones, FS))
}

fn meter(frames: &[[f32; 2]]) -> LoudnessMeter<2> {
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    for b in frames.chunks(1111) {
        m.process(b);
    }
    m
}

fn t(level_db: f64, seconds: f64) -> Tone {
    Tone::new(1_000.0, level_db, seconds)
}

#[test]
fn tech_3341_cases_1_to_5() {
    let cases: [(&str, Vec<Tone>, f64); 5] = [
        ("1", vec![t(-23.0, 20.0)], -23.0),
        ("2", vec![t(-33.0, 20.0)], -33.0),
        ("3", vec![t(-36.0, 10.0), t(-23.0, 60.0), t(-36.0, 10.0)], -23.0),
        ("4", vec![t(-72.0, 10.0), t(-36.0, 10.0), t(-23.0, 60.0), t(-36.0, 10.0), t(-72.0, 10.0)], -23.0),
        ("5", vec![t(-26.0, 20.0), t(-20.0, 20.1), t(-26.0, 20.0)], -23.0),
    ];
    for (name, tones, want) in cases {
        let m = meter(&stereo_tones(&tones));
        let i = m.integrated_lufs();
        assert!((i - want).abs() < 0.05, "case {name}: I = {i:.3}");
        if name == "1" || name == "2" {
            assert!((m.momentary_lufs() - want).abs() < 0.05, "case {name}: M");
            assert!((m.short_term_lufs() - want).abs() < 0.05, "case {name}: S");
        }
    }
}

#[test]
fn tech_3341_case_6_surround() {
    let n = (20.0 * FS) as usize;
    let lvl = |db: f64| signals::sine(1_000.0, 10f64.powf(db / 20.0), 0.0, FS, n);
    let (lr, c, s) = (lvl(-28.0), lvl(-24.0), lvl(-30.0));
    let frames: Vec<[f32; 5]> = (0..n).map(|i| [lr[i], lr[i], c[i], s[i], s[i]]).collect();
    let mut m = LoudnessMeter::<5>::with_layout(FS, ChannelLayout::Surround5_0).unwrap();
    m.process(&frames);
    assert!((m.integrated_lufs() + 23.0).abs() < 0.05, "{}", m.integrated_lufs());
}

#[test]
fn tech_3341_cases_9_and_12_short_term_and_momentary() {
    let mut tones = Vec::new();
    for _ in 0..5 {
        tones.push(t(-20.0, 1.34));
        tones.push(t(-30.0, 1.66));
    }
    let x = stereo_tones(&tones);
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    for (i, b) in x.chunks(4_800).enumerate() {
        m.process(b);
        if i >= 30 {
            assert!((m.short_term_lufs() + 23.0).abs() < 0.1, "case 9 at {i}: {}", m.short_term_lufs());
        }
    }
    let mut tones = Vec::new();
    for _ in 0..25 {
        tones.push(t(-20.0, 0.18));
        tones.push(t(-30.0, 0.22));
    }
    let x = stereo_tones(&tones);
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    for (i, b) in x.chunks(19_200).enumerate() {
        m.process(b);
        if i >= 3 {
            assert!((m.momentary_lufs() + 23.0).abs() < 0.1, "case 12 at {i}: {}", m.momentary_lufs());
        }
    }
}

#[test]
fn tech_3341_cases_10_and_13_maxima_on_a_fine_grid() {
    for i in 0..20 {
        let x = stereo_tones(&[t(-200.0, 0.15 * i as f64), t(-23.0, 3.0), t(-200.0, 1.0)]);
        let s = meter(&x).max_short_term_lufs();
        assert!((s + 23.0).abs() <= 0.1, "case 10 file {i}: max S = {s:.3}");
        let x = stereo_tones(&[t(-200.0, 0.02 * i as f64), t(-23.0, 0.4), t(-200.0, 1.0)]);
        let mm = meter(&x).max_momentary_lufs();
        assert!((mm + 23.0).abs() <= 0.1, "case 13 file {i}: max M = {mm:.3}");
    }
}

#[test]
fn tech_3341_true_peak_cases_15_to_19() {
    let deg = std::f64::consts::PI / 180.0;
    for (f, phase, amp, want) in [
        (FS / 4.0, 0.0, 0.5, -6.0),
        (FS / 4.0, 45.0, 0.5, -6.0),
        (FS / 6.0, 60.0, 0.5, -6.0),
        (FS / 8.0, 67.5, 0.5, -6.0),
        (FS / 4.0, 45.0, 1.41, 3.0),
    ] {
        let x = signals::faded(signals::sine(f, amp, phase * deg, FS, 48_000), 480);
        let mut m = LoudnessMeter::<2>::new(FS).unwrap();
        m.process(&signals::to_frames(&x));
        let tp = m.true_peak_dbtp();
        assert!(tp <= want + 0.2 && tp >= want - 0.4, "{f} Hz {phase} deg: {tp:.3} dBTP");
    }
}

#[test]
fn tech_3342_loudness_range_cases() {
    for (levels, want) in [
        (vec![-20.0, -30.0], 10.0),
        (vec![-20.0, -15.0], 5.0),
        (vec![-40.0, -20.0], 20.0),
        (vec![-50.0, -35.0, -20.0, -35.0, -50.0], 15.0),
    ] {
        let tones: Vec<Tone> = levels.iter().map(|&l| t(l, 20.0)).collect();
        let lra = meter(&stereo_tones(&tones)).loudness_range_lu();
        assert!((lra - want).abs() <= 1.0, "{levels:?}: LRA {lra:.2}");
        assert!((lra - want).abs() <= 0.2, "tighter: {levels:?}: LRA {lra:.2}");
    }
}

#[test]
fn silence_is_minus_infinity_and_nan_does_not_poison() {
    let m = meter(&vec![[0.0f32; 2]; 96_000]);
    assert_eq!(m.integrated_lufs(), f64::NEG_INFINITY);
    assert_eq!(m.momentary_lufs(), f64::NEG_INFINITY);
    assert_eq!(m.true_peak_dbtp(), f64::NEG_INFINITY);
    assert_eq!(m.loudness_range_lu(), 0.0);
    let mut x = stereo_tones(&[t(-23.0, 10.0)]);
    x[1000] = [f32::NAN, f32::INFINITY];
    let m = meter(&x);
    assert!((m.integrated_lufs() + 23.0).abs() < 0.05, "{}", m.integrated_lufs());
}

#[test]
fn merging_equals_measuring_the_concatenation() {
    let a = signals::music_like(FS, 12.0, -6.0, 1);
    let b = signals::music_like(FS, 9.0, -14.0, 2);
    let mut ma = meter(&a);
    ma.merge(&meter(&b)).unwrap();
    let mut ab = a.clone();
    ab.extend_from_slice(&b);
    let whole = meter(&ab);
    let d = (ma.integrated_lufs() - whole.integrated_lufs()).abs();
    assert!(d < 0.01, "merged {} vs whole {}", ma.integrated_lufs(), whole.integrated_lufs());
    assert_eq!(ma.true_peak_dbtp(), whole.true_peak_dbtp().max(ma.true_peak_dbtp()));
    let other_rate = LoudnessMeter::<2>::new(44_100.0).unwrap();
    assert!(ma.merge(&other_rate).is_err());
}

/// Exact block-list gating (BS.1770-4 §5.1), to judge the histogram.
fn exact_integrated(x: &[[f32; 2]], fs: f64) -> f64 {
    let mut k = lathe_loudness::KWeighting::<2>::new(fs).unwrap();
    let e: Vec<f64> = x.iter().map(|f| k.frame_energy(f)).collect();
    let step = (fs / 10.0).round() as usize;
    let mut blocks = Vec::new();
    let mut start = 0;
    while start + 4 * step <= e.len() {
        blocks.push(e[start..start + 4 * step].iter().sum::<f64>() / (4 * step) as f64);
        start += step;
    }
    let l = |e: f64| -0.691 + 10.0 * e.log10();
    let abs: Vec<f64> = blocks.into_iter().filter(|&b| l(b) > -70.0).collect();
    let mean = abs.iter().sum::<f64>() / abs.len() as f64;
    let rel: Vec<f64> = abs.into_iter().filter(|&b| l(b) > l(mean) - 10.0).collect();
    l(rel.iter().sum::<f64>() / rel.len() as f64)
}

#[test]
fn histogram_gating_is_within_a_hundredth_of_exact() {
    for seed in 0..3 {
        let x = signals::music_like(FS, 20.0, -3.0 - 8.0 * seed as f64, seed);
        let got = meter(&x).integrated_lufs();
        let exact = exact_integrated(&x, FS);
        assert!((got - exact).abs() < 0.01, "seed {seed}: {got} vs exact {exact}");
    }
}

fn ebur128_readings(x: &[f32], channels: u32, fs: u32) -> (f64, f64, f64, f64, f64) {
    use ebur128::{EbuR128, Mode};
    let mut e = EbuR128::new(channels, fs, Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::M | Mode::S).unwrap();
    let frame = channels as usize;
    let (mut max_m, mut max_s) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    // Feed 10 ms at a time and read M/S maxima on the same 10 ms grid as Lathe.
    let hop = (fs as usize / 100) * frame;
    for chunk in x.chunks(hop) {
        e.add_frames_f32(chunk).unwrap();
        if let Ok(m) = e.loudness_momentary() {
            max_m = max_m.max(m);
        }
        if let Ok(s) = e.loudness_shortterm() {
            max_s = max_s.max(s);
        }
    }
    let tp = (0..channels).map(|c| e.true_peak(c).unwrap()).fold(0.0f64, f64::max);
    (e.loudness_global().unwrap(), e.loudness_range().unwrap(), max_m, max_s, 20.0 * tp.log10())
}

fn compare<const CH: usize>(frames: &[[f32; CH]], fs: f64, what: &str) {
    let mut m = LoudnessMeter::<CH>::new(fs).unwrap();
    m.process(frames);
    let flat: Vec<f32> = frames.iter().flatten().copied().collect();
    let (i, lra, max_m, max_s, tp) = ebur128_readings(&flat, CH as u32, fs as u32);
    let r = m.readings();
    assert!((r.integrated_lufs - i).abs() < 0.02, "{what}: I {} vs ebur128 {i}", r.integrated_lufs);
    assert!((r.max_momentary_lufs - max_m).abs() < 0.02, "{what}: max M {} vs {max_m}", r.max_momentary_lufs);
    assert!((r.max_short_term_lufs - max_s).abs() < 0.02, "{what}: max S {} vs {max_s}", r.max_short_term_lufs);
    assert!((r.true_peak_dbtp - tp).abs() < 0.1, "{what}: TP {} vs {tp}", r.true_peak_dbtp);
    assert!((r.loudness_range_lu - lra).abs() < 0.2, "{what}: LRA {} vs {lra}", r.loudness_range_lu);
}

#[test]
fn differential_against_the_ebur128_crate() {
    for fs in [44_100.0, 48_000.0, 96_000.0] {
        let mix = signals::music_like(fs, 12.0, -2.0, 7);
        compare(&mix, fs, &format!("music {fs}"));
        let noise = signals::pink_noise(0.1, 3, (fs * 8.0) as usize);
        compare(&signals::to_frames::<1>(&noise), fs, &format!("mono pink noise {fs}"));
        let tones = signals::tone_sequence(&[Tone::new(440.0, -30.0, 4.0), Tone::new(3_000.0, -12.0, 4.0), Tone::new(90.0, -20.0, 4.0)], fs);
        let six: Vec<[f32; 6]> = tones.iter().enumerate().map(|(i, &s)| [s, 0.5 * s, 0.7 * s, 0.2 * s, if i % 2 == 0 { s } else { 0.0 }, 0.3 * s]).collect();
        compare(&six, fs, &format!("5.1 tones {fs}"));
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn a_gain_of_g_db_moves_every_reading_by_g(g in -30.0f64..12.0, seed in 0u64..100, split in 1usize..5000) {
            let x = signals::music_like(FS, 5.0, -12.0, seed);
            let k = 10f64.powf(g / 20.0) as f32;
            let y: Vec<[f32; 2]> = x.iter().map(|f| [f[0] * k, f[1] * k]).collect();
            let a = meter(&x).readings();
            let mut m = LoudnessMeter::<2>::new(FS).unwrap();
            for b in y.chunks(split) { m.process(b); }
            let b = m.readings();
            prop_assert!((b.integrated_lufs - a.integrated_lufs - g).abs() < 0.02);
            prop_assert!((b.max_momentary_lufs - a.max_momentary_lufs - g).abs() < 0.01);
            prop_assert!((b.max_short_term_lufs - a.max_short_term_lufs - g).abs() < 0.01);
            prop_assert!((b.true_peak_dbtp - a.true_peak_dbtp - g).abs() < 0.01);
            prop_assert!((b.loudness_range_lu - a.loudness_range_lu).abs() < 0.05);
        }
    }
}
