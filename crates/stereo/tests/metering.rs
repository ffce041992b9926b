//! Correlation, balance, mid/side ratio and mono compatibility against analytic values and an
//! independent direct computation.

use lathe_stereo::{CorrelationMeter, MonoCompatibility, Weighting};
use lathe_testkit::signals;
use proptest::prelude::*;

const FS: f64 = 48_000.0;

fn noise_pair(frames: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    (
        signals::white_noise(0.5, seed, frames),
        signals::white_noise(0.5, seed + 1_000, frames),
    )
}

fn zip(l: &[f32], r: &[f32]) -> Vec<[f32; 2]> {
    l.iter().zip(r).map(|(&a, &b)| [a, b]).collect()
}

/// Direct Pearson-at-lag-0 of a slice of frames, in f64: the independent check.
fn direct_correlation(x: &[[f32; 2]]) -> f64 {
    let (mut ll, mut rr, mut lr) = (0.0f64, 0.0f64, 0.0f64);
    for f in x {
        let (l, r) = (f64::from(f[0]), f64::from(f[1]));
        ll += l * l;
        rr += r * r;
        lr += l * r;
    }
    lr / (ll * rr).sqrt()
}

#[test]
fn identical_inverted_and_independent_channels() {
    let (a, b) = noise_pair(96_000, 1);
    let neg: Vec<f32> = a.iter().map(|v| -v).collect();
    for (name, frames, want, tol) in [
        ("identical", zip(&a, &a), 1.0, 1e-9),
        ("inverted", zip(&a, &neg), -1.0, 1e-9),
        ("independent", zip(&a, &b), 0.0, 0.05),
    ] {
        let mut m = CorrelationMeter::new(FS, 200.0).unwrap();
        m.process(&frames);
        let (c, avg) = (m.correlation(), m.average_correlation());
        assert!((c - want).abs() <= tol, "{name}: window {c}");
        assert!((avg - want).abs() <= tol, "{name}: average {avg}");
    }
    // A sine against its cosine (90°) is uncorrelated too; at 180° it is -1.
    let s = signals::sine(1_000.0, 0.5, 0.0, FS, 48_000);
    let c90 = signals::sine(1_000.0, 0.5, core::f64::consts::FRAC_PI_2, FS, 48_000);
    let mut m = CorrelationMeter::new(FS, 200.0).unwrap();
    m.process(&zip(&s, &c90));
    assert!(m.correlation().abs() < 1e-3);
}

#[test]
fn sliding_window_matches_a_direct_computation() {
    // In phase, then out of phase, then independent: at many points, the window reading
    // equals the direct correlation of the last `window_frames` frames (the oldest sub-block
    // partly counted, so allow for one sub-block of slack by bracketing).
    let (a, b) = noise_pair(60_000, 2);
    let mut x = zip(&a, &a);
    for f in &mut x[20_000..40_000] {
        f[1] = -f[0];
    }
    for (i, f) in x[40_000..].iter_mut().enumerate() {
        f[1] = b[40_000 + i];
    }
    let mut m = CorrelationMeter::new(FS, 200.0).unwrap();
    let w = m.window_frames();
    assert_eq!(w, 9_600);
    let sub = w / 16;
    let mut pos = 0;
    for step in [1usize, 7, 600, 333, 4_096, 17, 9_000, 2_500, 5_000, 11_111] {
        m.process(&x[pos..pos + step]);
        pos += step;
        let got = m.correlation();
        let lo = direct_correlation(&x[pos.saturating_sub(w)..pos]);
        let hi = direct_correlation(&x[pos.saturating_sub(w - sub)..pos]);
        let (min, max) = (lo.min(hi), lo.max(hi));
        assert!(
            got >= min - 1e-9 && got <= max + 1e-9,
            "at {pos}: {got} not within [{min}, {max}]"
        );
    }
    // Fully inside the out-of-phase part, one window (plus the sub-block of slack) after it
    // began: exactly -1.
    let mut m = CorrelationMeter::new(FS, 200.0).unwrap();
    m.process(&x[..20_000 + w + sub]);
    assert!((m.correlation() + 1.0).abs() < 1e-9);
    // The whole-signal average is the direct correlation of everything.
    m.process(&x[20_000 + w + sub..]);
    assert!((m.average_correlation() - direct_correlation(&x)).abs() < 1e-9);
}

#[test]
fn average_is_energy_weighted() {
    // 1 s in phase at amplitude 1, then 1 s inverted at amplitude 1/2: (1 - 1/4) / (1 + 1/4).
    let (a, _) = noise_pair(48_000, 3);
    let mut x = zip(&a, &a);
    x.extend(a.iter().map(|&v| [0.5 * v, -0.5 * v]));
    let mut m = CorrelationMeter::new(FS, 200.0).unwrap();
    m.process(&x);
    assert!((m.average_correlation() - 0.6).abs() < 1e-3);
}

#[test]
fn silence_and_non_finite_input_read_zero_not_nan() {
    let mut m = CorrelationMeter::new(FS, 200.0).unwrap();
    assert_eq!(m.correlation(), 0.0);
    assert_eq!(m.average_correlation(), 0.0);
    m.process(&vec![[0.0; 2]; 50_000]);
    assert_eq!(m.correlation(), 0.0);
    assert_eq!(m.balance_db(), 0.0);
    assert_eq!(m.mid_side_ratio_db(), 0.0);
    m.process(&[[f32::NAN, 1.0], [f32::INFINITY, f32::NEG_INFINITY]]);
    assert!(m.correlation().is_finite());
    assert!(m.average_correlation().is_finite());
    // One channel only: no correlation, left much louder, finite.
    let (a, _) = noise_pair(20_000, 4);
    m.reset();
    m.process(&zip(&a, &vec![0.0; a.len()]));
    assert!(m.correlation().abs() < 1e-9);
    assert!(m.balance_db() > 100.0 && m.balance_db().is_finite());
}

#[test]
fn balance_and_mid_side_ratio() {
    let (a, b) = noise_pair(48_000, 5);
    let half: Vec<f32> = a.iter().map(|v| v * 0.5).collect();
    let mut m = CorrelationMeter::new(FS, 300.0).unwrap();
    // L at half the amplitude of R (same signal): -6.02 dB; perfectly mono: huge M/S ratio.
    m.process(&zip(&half, &a));
    assert!((m.balance_db() + 6.0206).abs() < 1e-3, "{}", m.balance_db());
    assert!((m.average_balance_db() + 6.0206).abs() < 1e-3);
    // M = 0.75 a, S = -0.25 a: 20 log10(3) = 9.54 dB.
    assert!((m.mid_side_ratio_db() - 9.5424).abs() < 1e-3);
    // Independent equal-level channels: M and S carry the same energy, 0 dB.
    m.reset();
    m.process(&zip(&a, &b));
    assert!(
        m.mid_side_ratio_db().abs() < 0.3,
        "{}",
        m.mid_side_ratio_db()
    );
    assert!(m.balance_db().abs() < 0.3);
    // Out of phase: side only.
    let neg: Vec<f32> = a.iter().map(|v| -v).collect();
    m.reset();
    m.process(&zip(&a, &neg));
    assert!(m.mid_side_ratio_db() < -100.0);
    assert!(m.average_mid_side_ratio_db() < -100.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Readings are bit-identical for any block split.
    #[test]
    fn block_split_invariance(chunks in proptest::collection::vec(1usize..3_000, 1..20),
                              seed in 0u64..100) {
        let (a, b) = noise_pair(30_000, seed);
        let x: Vec<[f32; 2]> = a.iter().zip(&b).map(|(&l, &r)| [l, 0.5 * l + r]).collect();
        let mut whole = CorrelationMeter::new(FS, 150.0).unwrap();
        whole.process(&x);
        let mut split = CorrelationMeter::new(FS, 150.0).unwrap();
        let mut pos = 0;
        for c in chunks.iter().cycle() {
            if pos >= x.len() { break; }
            let end = (pos + c).min(x.len());
            split.process(&x[pos..end]);
            pos = end;
        }
        prop_assert_eq!(whole.correlation().to_bits(), split.correlation().to_bits());
        prop_assert_eq!(whole.average_correlation().to_bits(),
            split.average_correlation().to_bits());
        prop_assert_eq!(whole.balance_db().to_bits(), split.balance_db().to_bits());
    }
}

#[test]
fn constructor_errors() {
    assert!(CorrelationMeter::new(1_000.0, 200.0).is_err());
    assert!(CorrelationMeter::new(FS, 0.0).is_err());
    assert!(CorrelationMeter::new(FS, f64::NAN).is_err());
    assert!(MonoCompatibility::new(f64::INFINITY, Weighting::K).is_err());
}

fn mono_report(x: &[[f32; 2]], w: Weighting) -> lathe_stereo::MonoReport {
    let mut m = MonoCompatibility::new(FS, w).unwrap();
    for block in x.chunks(1_000) {
        m.process(block);
    }
    m.report()
}

#[test]
fn mono_loss_follows_the_correlation_law() {
    // Equal-level channels with correlation rho lose 10 log10(2 / (1 + rho)) in the fold.
    let (a, b) = noise_pair(5 * 48_000, 6);
    for rho in [1.0f64, 0.5, 0.0, -0.5, -0.9] {
        let k = (1.0 - rho * rho).sqrt();
        let r: Vec<f32> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (rho * f64::from(x) + k * f64::from(y)) as f32)
            .collect();
        let x = zip(&a, &r);
        let want = 10.0 * (2.0 / (1.0 + rho)).log10();
        for w in [Weighting::Flat, Weighting::K] {
            let rep = mono_report(&x, w);
            assert!(
                (rep.loss_lu - want).abs() < 0.1,
                "rho {rho}, {w:?}: loss {} LU, want {want}",
                rep.loss_lu
            );
            assert!((rep.correlation - rho).abs() < 0.03);
            assert_eq!(rep.out_of_phase, rho < -0.3, "rho {rho}, {w:?}");
        }
    }
}

#[test]
fn polarity_inverted_channel_is_flagged() {
    let mix = signals::music_like(FS, 6.0, -3.0, 11);
    let fine = mono_report(&mix, Weighting::K);
    assert!(!fine.out_of_phase);
    assert!(fine.loss_lu < 1.0, "{}", fine.loss_lu);
    assert!(fine.correlation > 0.8);
    let inverted: Vec<[f32; 2]> = mix.iter().map(|f| [f[0], -f[1]]).collect();
    let bad = mono_report(&inverted, Weighting::K);
    assert!(bad.out_of_phase);
    assert!(bad.correlation < -0.8, "{}", bad.correlation);
    assert!(bad.loss_lu > 10.0, "{}", bad.loss_lu);
    assert!(bad.worst_block_correlation < -0.8);
    // A silent file: nothing lost, nothing flagged, no NaN.
    let silent = mono_report(&vec![[0.0; 2]; 48_000], Weighting::K);
    assert_eq!(silent.loss_lu, 0.0);
    assert!(!silent.out_of_phase);
    assert_eq!(silent.audible_s, 0.0);
}

#[test]
fn an_inverted_passage_is_found_inside_a_good_song() {
    // 20 s of a good mix with 2 s inverted in the middle: the whole-signal correlation stays
    // positive, but the block statistics find the passage.
    let mut mix = signals::music_like(FS, 20.0, -3.0, 12);
    let (s, e) = (8 * 48_000, 10 * 48_000);
    for f in &mut mix[s..e] {
        f[1] = -f[1];
    }
    let rep = mono_report(&mix, Weighting::K);
    assert!(rep.correlation > 0.3, "{}", rep.correlation);
    assert!(
        (rep.out_of_phase_s - 2.0).abs() <= 0.4,
        "{} s out of phase",
        rep.out_of_phase_s
    );
    assert!(rep.out_of_phase);
}

#[test]
fn k_weighting_discounts_low_frequency_phase_problems() {
    // 30 Hz out of phase, 1 kHz in phase, equal amplitudes: plain energy sees half the
    // signal cancel (3 dB), K-weighting hears mostly the 1 kHz (the RLB high-pass is about
    // -5 dB at 30 Hz, the shelf +0.6 dB at 1 kHz), so less is lost.
    let low = signals::sine(30.0, 0.3, 0.0, FS, 10 * 48_000);
    let high = signals::sine(1_000.0, 0.3, 0.0, FS, 10 * 48_000);
    let x: Vec<[f32; 2]> = low
        .iter()
        .zip(&high)
        .map(|(&lo, &hi)| [hi + lo, hi - lo])
        .collect();
    let flat = mono_report(&x, Weighting::Flat).loss_lu;
    let k = mono_report(&x, Weighting::K).loss_lu;
    assert!((flat - 3.01).abs() < 0.05, "flat {flat}");
    // Independent: the K-weighting gains at 30 Hz and 1 kHz from the biquads' responses.
    let [shelf, hp] = lathe_stereo::k_weighting(FS);
    let g = |f| (shelf.magnitude(f, FS) * hp.magnitude(f, FS)).powi(2);
    let want = 10.0 * ((g(30.0) + g(1_000.0)) / g(1_000.0)).log10();
    assert!((k - want).abs() < 0.05, "K {k}, want {want}");
    assert!(k < flat - 1.0);
}
