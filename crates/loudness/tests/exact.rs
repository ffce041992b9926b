//! The meter against the exact reference of `common` (block lists, fresh window sums), plus
//! merging, block-split invariance, properties, the non-finite policy, layouts, rates and the
//! processor contract.

mod common;

use common::{lufs, measure, reading_bits, reference, Reference};
use lathe_loudness::{ChannelLayout, LoudnessMeter};
use lathe_testkit::signals::{self, Tone};
use proptest::prelude::*;

lathe_testkit::install_counting_allocator!();

const FS: f64 = 48_000.0;

/// Test signals with loudness spread over a wide range, so the gates cut through busy
/// regions of the histograms.
fn programme(fs: f64, which: u64) -> Vec<[f32; 2]> {
    match which % 4 {
        0 => signals::music_like(fs, 20.0, -3.0 - 4.0 * which as f64, which),
        1 => {
            // Pink noise under a slow level swing of +-12 dB.
            let n = (fs * 25.0) as usize;
            let l = signals::pink_noise(0.1, which, n);
            let r = signals::pink_noise(0.1, which + 100, n);
            signals::frames_from_fn(n, |i, ch| {
                let g = 10f64.powf(12.0 * (i as f64 / fs * 0.31).sin() / 20.0) as f32;
                g * if ch == 0 { l[i] } else { r[i] }
            })
        }
        2 => {
            // Steps of tones and silence.
            let tones: Vec<Tone> = (0..16)
                .map(|k| {
                    let level = if k % 5 == 4 {
                        f64::NEG_INFINITY
                    } else {
                        -12.0 - 3.1 * k as f64
                    };
                    Tone::new(200.0 + 150.0 * k as f64, level, 0.7 + 0.13 * k as f64)
                })
                .collect();
            signals::to_frames(&signals::tone_sequence(&tones, fs))
        }
        _ => {
            // A fade from -60 to 0 dBFS: every loudness occurs once.
            let n = (fs * 30.0) as usize;
            let w = signals::white_noise(0.5, which, n);
            signals::frames_from_fn(n, |i, ch| {
                let g = 10f64.powf((-60.0 + 60.0 * i as f64 / n as f64) / 20.0) as f32;
                g * w[i] * if ch == 0 { 1.0 } else { 0.8 }
            })
        }
    }
}

fn check_against_reference<const CH: usize>(
    m: &LoudnessMeter<CH>,
    r: &Reference,
    what: &str,
) -> (f64, f64) {
    let di = (m.integrated_lufs() - r.integrated_lufs()).abs();
    let dl = (m.loudness_range_lu() - r.loudness_range_lu()).abs();
    assert!(
        di < 0.01,
        "{what}: I {} vs exact {}",
        m.integrated_lufs(),
        r.integrated_lufs()
    );
    assert!(
        dl < 0.02,
        "{what}: LRA {} vs exact {}",
        m.loudness_range_lu(),
        r.loudness_range_lu()
    );
    for (name, got, want) in [
        ("max M", m.max_momentary_lufs(), lufs(r.max_momentary)),
        ("max S", m.max_short_term_lufs(), lufs(r.max_short_term)),
        ("M", m.momentary_lufs(), lufs(r.momentary)),
        ("S", m.short_term_lufs(), lufs(r.short_term)),
    ] {
        assert!(
            (got - want).abs() < 1e-6 || (got == want),
            "{what}: {name} {got} vs exact {want}"
        );
    }
    (di, dl)
}

#[test]
fn histogram_gating_is_within_a_hundredth_of_exact_block_lists() {
    let mut worst = (0.0f64, 0.0f64);
    for fs in [44_100.0, 48_000.0, 96_000.0] {
        for which in 0..4 {
            let x = programme(fs, which);
            let m = measure(&x, fs, 4_096);
            let r = reference(&x, fs, ChannelLayout::Stereo);
            let (di, dl) = check_against_reference(&m, &r, &format!("{fs} Hz signal {which}"));
            worst = (worst.0.max(di), worst.1.max(dl));
        }
    }
    println!(
        "largest differences from exact: I {:.2e} LU, LRA {:.2e} LU",
        worst.0, worst.1
    );
}

#[test]
fn mono_and_six_channel_readings_match_the_reference() {
    let fs = 44_100.0;
    let x = programme(fs, 1);
    let mono: Vec<[f32; 1]> = x.iter().map(|f| [f[0]]).collect();
    let m = measure(&mono, fs, 1_000);
    check_against_reference(&m, &reference(&mono, fs, ChannelLayout::Mono), "mono");
    let six: Vec<[f32; 6]> = x
        .iter()
        .map(|f| [f[0], f[1], 0.5 * f[0], 0.9, 0.7 * f[1], 0.3 * f[0]])
        .collect();
    let m = measure(&six, fs, 1_000);
    check_against_reference(&m, &reference(&six, fs, ChannelLayout::Surround5_1), "5.1");
}

/// Two tones; the quieter one is placed `delta` LU from the relative gate, inside the same
/// 0.01 LU histogram bin, where a plain histogram cannot tell whether it passes.
fn tones_at_the_gate(delta: f64) -> (Vec<[f32; 2]>, Reference) {
    let mut quiet = -30.0;
    loop {
        let x = signals::to_frames(&signals::tone_sequence(
            &[
                Tone::new(1_000.0, -20.0, 10.0),
                Tone::new(1_000.0, quiet, 10.0),
            ],
            FS,
        ));
        let r = reference(&x, FS, ChannelLayout::Stereo);
        let quiet_block = lufs(*r.blocks.last().unwrap());
        let miss = quiet_block - (r.relative_gate_lufs() + delta);
        if miss.abs() < 1e-4 {
            return (x, r);
        }
        // The gate moves about 0.05 LU per LU of the quiet tone.
        quiet -= miss / 0.95;
    }
}

#[test]
fn a_steady_tone_right_at_the_relative_gate_is_gated_exactly() {
    for delta in [0.002, -0.002, 0.0004, -0.0004] {
        let (x, r) = tones_at_the_gate(delta);
        let m = measure(&x, FS, 4_800);
        let exact = r.integrated_lufs();
        assert!(
            (m.integrated_lufs() - exact).abs() < 0.01,
            "quiet tone {delta:+} LU from the gate: {} vs exact {exact}",
            m.integrated_lufs()
        );
    }
    // Either side of the gate the answers differ by about 3 LU: the test can fail.
    let above = tones_at_the_gate(0.002).1.integrated_lufs();
    let below = tones_at_the_gate(-0.002).1.integrated_lufs();
    assert!((above - below).abs() > 2.0, "{above} {below}");
}

#[test]
fn other_sample_rates_read_a_tone_alike() {
    // 1 kHz at -23 dBFS stereo, from 8 kHz to 384 kHz (11.025 and 22.05 kHz have steps of
    // 1 103 and 2 205 frames, not divisible by ten). Each rate reads its own filter's exact
    // value; against 48 kHz they differ by the bilinear transform's frequency warping of the
    // 1.7 kHz shelf, which grows at low rates (documented in `KWeighting`).
    let at_48k = common::sine_lufs(1_000.0, -23.0, 2.0, 48_000.0);
    for (fs, warp) in [
        (8_000.0, 0.21),
        (11_025.0, 0.11),
        (22_050.0, 0.025),
        (32_000.0, 0.01),
        (44_100.0, 0.002),
        (88_200.0, 0.005),
        (96_000.0, 0.005),
        (192_000.0, 0.006),
        (384_000.0, 0.006),
    ] {
        let n = (fs * 5.0) as usize;
        let x = signals::to_frames::<2>(&signals::sine(
            1_000.0,
            10f64.powf(-23.0 / 20.0),
            0.0,
            fs,
            n,
        ));
        let m = measure(&x, fs, 4_096);
        let own = common::sine_lufs(1_000.0, -23.0, 2.0, fs);
        for (what, got) in [
            ("I", m.integrated_lufs()),
            ("M", m.momentary_lufs()),
            ("S", m.short_term_lufs()),
        ] {
            assert!(
                (got - own).abs() < 0.002,
                "{fs} Hz: {what} = {got:.4}, want {own:.4}"
            );
            assert!(
                (got - at_48k).abs() < warp,
                "{fs} Hz: {what} = {got:.4} vs {at_48k:.4} at 48 kHz"
            );
        }
        let r = reference(&x, fs, ChannelLayout::Stereo);
        assert!(
            (m.integrated_lufs() - r.integrated_lufs()).abs() < 1e-6,
            "{fs} Hz"
        );
    }
}

#[test]
fn channel_layouts_weigh_as_bs1770() {
    let n = 96_000;
    let s = signals::sine(1_000.0, 0.1, 0.0, FS, n);
    let one = |ch: usize, layout: ChannelLayout| -> f64 {
        let x: Vec<[f32; 6]> = s
            .iter()
            .map(|&v| core::array::from_fn(|i| if i == ch { v } else { 0.0 }))
            .collect();
        let mut m = LoudnessMeter::<6>::with_layout(FS, layout).unwrap();
        m.process(&x);
        m.integrated_lufs()
    };
    let l = one(0, ChannelLayout::Surround5_1);
    assert!((one(1, ChannelLayout::Surround5_1) - l).abs() < 1e-9);
    assert!((one(2, ChannelLayout::Surround5_1) - l).abs() < 1e-9);
    assert_eq!(
        one(3, ChannelLayout::Surround5_1),
        f64::NEG_INFINITY,
        "LFE is excluded"
    );
    for ch in [4, 5] {
        let d = one(ch, ChannelLayout::Surround5_1) - l;
        assert!(
            (d - 10.0 * 1.41f64.log10()).abs() < 1e-9,
            "surround +1.49 dB: {d}"
        );
    }
    // Dual mono reads like the same signal on two channels.
    let mono: Vec<[f32; 1]> = s.iter().map(|&v| [v]).collect();
    let mut dual = LoudnessMeter::<1>::with_layout(FS, ChannelLayout::DualMono).unwrap();
    dual.process(&mono);
    let stereo = measure(&signals::to_frames::<2>(&s), FS, n);
    assert!((dual.integrated_lufs() - stereo.integrated_lufs()).abs() < 1e-9);
    let plain = measure(&mono, FS, n);
    assert!((dual.integrated_lufs() - plain.integrated_lufs() - 3.0103).abs() < 1e-3);
    // Layout and channel count must agree; channel counts beyond 8 have no layout.
    assert!(LoudnessMeter::<2>::with_layout(FS, ChannelLayout::Surround5_1).is_err());
    assert!(LoudnessMeter::<9>::new(FS).is_err());
    assert!(LoudnessMeter::<2>::new(4_000.0).is_err());
    for c in 1..=8 {
        assert_eq!(ChannelLayout::default_for(c).unwrap().channels(), c);
    }
}

#[test]
fn merged_meters_equal_the_meter_of_the_concatenation() {
    // Tracks a whole number of 100 ms steps long: the merge rebuilds the blocks across each
    // joint, so only the K-weighting filter's decay across the joint differs.
    let tracks: Vec<Vec<[f32; 2]>> = vec![
        signals::music_like(FS, 12.0, -6.0, 1),
        signals::music_like(FS, 9.3, -16.0, 2),
        programme(FS, 2)[..(FS * 2.5) as usize].to_vec(), // shorter than a short-term window
        signals::music_like(FS, 0.3, -3.0, 4),            // shorter than a momentary window
        signals::music_like(FS, 7.0, -10.0, 5),
    ];
    let mut album = measure(&tracks[0], FS, 4_800);
    let mut whole = tracks[0].clone();
    for t in &tracks[1..] {
        album.merge(&measure(t, FS, 4_800)).unwrap();
        whole.extend_from_slice(t);
    }
    let one = measure(&whole, FS, 4_800);
    let exact = reference(&whole, FS, ChannelLayout::Stereo);
    let (a, w) = (album.readings(), one.readings());
    assert_eq!(album.frames(), whole.len() as u64);
    assert_eq!(album.gating_blocks(), one.gating_blocks());
    for (what, x, y, tol) in [
        ("I", a.integrated_lufs, w.integrated_lufs, 1e-3),
        ("LRA", a.loudness_range_lu, w.loudness_range_lu, 0.011),
        ("max M", a.max_momentary_lufs, w.max_momentary_lufs, 1e-3),
        ("max S", a.max_short_term_lufs, w.max_short_term_lufs, 1e-3),
        ("M", a.momentary_lufs, w.momentary_lufs, 1e-9),
        ("S", a.short_term_lufs, w.short_term_lufs, 1e-3),
        ("sample peak", a.sample_peak_dbfs, w.sample_peak_dbfs, 0.0),
        ("true peak", a.true_peak_dbtp, w.true_peak_dbtp, 0.01),
    ] {
        assert!((x - y).abs() <= tol, "{what}: merged {x} vs whole {y}");
    }
    assert!((a.integrated_lufs - exact.integrated_lufs()).abs() < 0.01);
    println!(
        "merged - whole: I {:.2e} LU, LRA {:.2e} LU, max M {:.2e}, max S {:.2e}, TP {:.2e} dB",
        a.integrated_lufs - w.integrated_lufs,
        a.loudness_range_lu - w.loudness_range_lu,
        a.max_momentary_lufs - w.max_momentary_lufs,
        a.max_short_term_lufs - w.max_short_term_lufs,
        a.true_peak_dbtp - w.true_peak_dbtp
    );
    // Measuring goes on after the merge as after the whole.
    let more = signals::music_like(FS, 4.0, -8.0, 9);
    let mut one = one;
    album.process(&more);
    one.process(&more);
    assert!((album.short_term_lufs() - one.short_term_lufs()).abs() < 1e-3);
    assert!((album.integrated_lufs() - one.integrated_lufs()).abs() < 1e-3);
}

#[test]
fn merging_unaligned_tracks_stays_within_a_hundredth() {
    // Lengths that are not whole 100 ms steps: the later track's blocks sit on a shifted grid.
    let a = signals::music_like(FS, 12.345, -6.0, 11);
    let b = signals::music_like(FS, 10.777, -14.0, 12);
    let mut m = measure(&a, FS, 1_000);
    m.merge(&measure(&b, FS, 1_000)).unwrap();
    let whole: Vec<[f32; 2]> = a.iter().chain(b.iter()).copied().collect();
    let one = measure(&whole, FS, 1_000);
    assert!((m.integrated_lufs() - one.integrated_lufs()).abs() < 0.01);
    assert!((m.loudness_range_lu() - one.loudness_range_lu()).abs() < 0.1);
    assert_eq!(m.frames(), whole.len() as u64);
}

#[test]
fn merging_checks_rates_and_layouts_and_ignores_empty_meters() {
    // Meters are about 230 KB: keep them boxed in test threads (2 MB stacks).
    let a = Box::new(measure(&signals::music_like(FS, 5.0, -6.0, 1), FS, 4_800));
    let mut m = a.clone();
    assert!(m.merge(&make(44_100.0)).is_err());
    let odd = Box::new(LoudnessMeter::<1>::with_layout(FS, ChannelLayout::DualMono).unwrap());
    let mut mono = Box::new(LoudnessMeter::<1>::new(FS).unwrap());
    assert!(mono.merge(&odd).is_err());
    assert_eq!(
        reading_bits(m.as_ref()),
        reading_bits(a.as_ref()),
        "a failed merge changes nothing"
    );
    m.merge(&make(FS)).unwrap();
    assert_eq!(
        reading_bits(m.as_ref()),
        reading_bits(a.as_ref()),
        "merging an empty meter changes nothing"
    );
    // And an empty meter merged with a track reads exactly as the track.
    let mut empty = make(FS);
    empty.merge(&a).unwrap();
    assert_eq!(reading_bits(empty.as_ref()), reading_bits(a.as_ref()));
    assert_eq!(empty.frames(), a.frames());
}

#[test]
fn readings_do_not_depend_on_the_block_split() {
    for fs in [44_100.0, 96_000.0] {
        let x = signals::music_like(fs, 8.0, -3.0, 3);
        let whole = reading_bits(&measure(&x, fs, x.len()));
        for split in [1, 7, 64, 441, 4_096] {
            assert_eq!(
                reading_bits(&measure(&x, fs, split)),
                whole,
                "{fs} Hz, blocks of {split}"
            );
        }
        // Empty blocks change nothing.
        let mut m = LoudnessMeter::<2>::new(fs).unwrap();
        for b in x.chunks(500) {
            m.process(&[]);
            m.process(b);
        }
        assert_eq!(reading_bits(&m), whole);
    }
}

#[test]
fn silence_reads_minus_infinity_never_nan() {
    let m = measure(&vec![[0.0f32; 2]; 4 * 48_000], FS, 4_800);
    let r = m.readings();
    for v in [
        r.momentary_lufs,
        r.short_term_lufs,
        r.integrated_lufs,
        r.max_momentary_lufs,
        r.max_short_term_lufs,
        r.true_peak_dbtp,
        r.sample_peak_dbfs,
        r.plr_db,
        r.psr_db,
    ] {
        assert_eq!(v, f64::NEG_INFINITY);
    }
    assert_eq!(r.loudness_range_lu, 0.0);
    // Before the first window is complete, momentary and short-term are -inf too.
    let m = measure(&signals::music_like(FS, 0.39, -3.0, 1), FS, 4_800);
    assert_eq!(m.momentary_lufs(), f64::NEG_INFINITY);
    assert_eq!(m.short_term_lufs(), f64::NEG_INFINITY);
    // Silence after sound returns to -inf exactly (no running-sum residue).
    let mut x = signals::music_like(FS, 4.0, 0.0, 1);
    x.extend(vec![[0.0f32; 2]; 4 * 48_000]);
    let m = measure(&x, FS, 4_800);
    assert_eq!(m.momentary_lufs(), f64::NEG_INFINITY);
    assert_eq!(m.short_term_lufs(), f64::NEG_INFINITY);
    assert!(m.integrated_lufs().is_finite() && m.plr_db().is_finite());
}

#[test]
fn non_finite_samples_are_measured_as_silence() {
    // Policy: NaN and +-inf samples count as 0.0 for every reading.
    let x = signals::music_like(FS, 6.0, -6.0, 7);
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        for at in [0usize, 1_000, 100_000] {
            let mut dirty = x.clone();
            let mut clean = x.clone();
            dirty[at] = [bad, 0.25];
            clean[at] = [0.0, 0.25];
            let (d, c) = (measure(&dirty, FS, 333), measure(&clean, FS, 333));
            assert_eq!(reading_bits(&d), reading_bits(&c), "{bad} at {at}");
            assert!(d.readings().integrated_lufs.is_finite());
            assert!(d.readings().true_peak_dbtp.is_finite());
        }
    }
    // A block of nothing but NaN reads as silence, and the meter recovers at once.
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    m.process(&vec![[f32::NAN; 2]; 48_000]);
    assert_eq!(m.momentary_lufs(), f64::NEG_INFINITY);
    m.process(&signals::to_frames(&signals::sine(
        1_000.0, 0.1, 0.0, FS, 48_000,
    )));
    assert!((m.momentary_lufs() - common::sine_lufs(1_000.0, -20.0, 2.0, FS)).abs() < 1e-3);
}

#[test]
fn true_peak_can_be_turned_off() {
    let x = signals::music_like(FS, 5.0, -3.0, 4);
    let on = measure(&x, FS, 4_800);
    let mut off = LoudnessMeter::<2>::new(FS).unwrap();
    off.set_true_peak_enabled(false);
    for b in x.chunks(4_800) {
        off.process(b);
    }
    let (a, b) = (on.readings(), off.readings());
    assert!(b.true_peak_dbtp.is_nan() && b.plr_db.is_nan() && b.psr_db.is_nan());
    for (x, y) in [
        (a.integrated_lufs, b.integrated_lufs),
        (a.loudness_range_lu, b.loudness_range_lu),
        (a.max_momentary_lufs, b.max_momentary_lufs),
        (a.max_short_term_lufs, b.max_short_term_lufs),
        (a.sample_peak_dbfs, b.sample_peak_dbfs),
    ] {
        assert_eq!(x.to_bits(), y.to_bits());
    }
    // Turned back on, it measures from there.
    off.set_true_peak_enabled(true);
    off.process(&x);
    assert!((off.true_peak_dbtp() - on.true_peak_dbtp()).abs() < 1e-6);
}

#[test]
fn live_readings_update_every_ten_milliseconds() {
    let x = signals::music_like(FS, 6.0, -6.0, 8);
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    let mut last = (f64::NAN, f64::NAN);
    let mut changes = 0;
    for (i, b) in x.chunks(480).enumerate() {
        m.process(b);
        let now = (m.momentary_lufs(), m.short_term_lufs());
        if i >= 300 {
            assert_ne!(
                now.0,
                last.0,
                "momentary did not update at {} ms",
                (i + 1) * 10
            );
            changes += 1;
        }
        last = now;
    }
    assert!(changes > 250);
}

#[test]
fn reset_equals_a_fresh_meter_and_nothing_allocates() {
    let x = signals::music_like(FS, 5.0, -6.0, 2);
    let fresh = measure(&x, FS, 512);
    let mut m = measure(&signals::music_like(FS, 3.0, 0.0, 9), FS, 512);
    let other = m.clone();
    let (count, ()) = lathe_testkit::alloc::count_allocations(|| {
        m.reset();
        for b in x.chunks(512) {
            m.process(b);
        }
        let _ = m.readings();
    });
    assert_eq!(count, 0, "process/reset/readings allocated");
    assert_eq!(reading_bits(&m), reading_bits(&fresh));
    let mut merged = m.clone();
    let (count, r) = lathe_testkit::alloc::count_allocations(|| merged.merge(&other));
    assert_eq!(count, 0, "merge allocated");
    r.unwrap();
}

#[test]
fn memory_is_fixed_and_as_documented() {
    let size = core::mem::size_of::<LoudnessMeter<2>>();
    println!("LoudnessMeter<2>: {size} bytes");
    assert!(size < 240_000 && size > 200_000, "{size} bytes");
    let eight = core::mem::size_of::<LoudnessMeter<8>>();
    assert!(eight - size < 2_000, "{eight} bytes");
}

fn make(fs: f64) -> Box<LoudnessMeter<2>> {
    Box::new(LoudnessMeter::<2>::new(fs).unwrap())
}

#[test]
fn the_processor_tap_passes_audio_through() {
    use lathe_core::{ProcessSpec, Processor};
    let mut m = make(48_000.0);
    let x = signals::music_like(96_000.0, 3.0, -6.0, 1);
    let mut y = x.clone();
    Processor::<2>::prepare(m.as_mut(), &ProcessSpec::new(96_000.0, 4_096)).unwrap();
    Processor::<2>::process(m.as_mut(), &mut y);
    assert_eq!(y, x);
    assert_eq!(Processor::<2>::latency(m.as_ref()), 0);
    assert_eq!(m.sample_rate(), 96_000.0);
    assert_eq!(
        reading_bits(m.as_ref()),
        reading_bits(&measure(&x, 96_000.0, 4_096))
    );
    assert!(Processor::<2>::prepare(m.as_mut(), &ProcessSpec::new(1_000.0, 64)).is_err());
}

lathe_testkit::contract_tests!(meter_contract, |fs| LoudnessMeter::<CH>::new(fs).unwrap());

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_gain_of_g_db_moves_every_loudness_reading_by_g(
        g in -40.0f64..20.0,
        seed in 0u64..1_000,
        split in 1usize..6_000,
    ) {
        let x = signals::music_like(FS, 5.0, -12.0, seed);
        let k = 10f64.powf(g / 20.0);
        let y: Vec<[f32; 2]> = x.iter().map(|f| f.map(|s| (f64::from(s) * k) as f32)).collect();
        let a = measure(&x, FS, 4_800).readings();
        let b = measure(&y, FS, split).readings();
        for (what, before, after) in [
            ("I", a.integrated_lufs, b.integrated_lufs),
            ("M", a.momentary_lufs, b.momentary_lufs),
            ("S", a.short_term_lufs, b.short_term_lufs),
            ("max M", a.max_momentary_lufs, b.max_momentary_lufs),
            ("max S", a.max_short_term_lufs, b.max_short_term_lufs),
            ("TP", a.true_peak_dbtp, b.true_peak_dbtp),
            ("SP", a.sample_peak_dbfs, b.sample_peak_dbfs),
        ] {
            prop_assert!((after - before - g).abs() < 0.005, "{}: {} -> {} for {} dB", what, before, after, g);
        }
        prop_assert!((b.loudness_range_lu - a.loudness_range_lu).abs() < 0.03);
        prop_assert!((b.plr_db - a.plr_db).abs() < 0.01);
    }

    #[test]
    fn any_block_split_gives_identical_readings(
        seed in 0u64..1_000,
        sizes in proptest::collection::vec(0usize..3_000, 1..40),
    ) {
        let x = signals::music_like(FS, 4.0, -6.0, seed);
        let whole = reading_bits(&measure(&x, FS, x.len()));
        let mut m = LoudnessMeter::<2>::new(FS).unwrap();
        let mut rest = &x[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            m.process(&rest[..n]);
            rest = &rest[n..];
            i += 1;
            if i > 100_000 { break; }
        }
        if rest.is_empty() {
            prop_assert_eq!(reading_bits(&m), whole);
        }
    }
}
