//! Analysis reports find the problems a mastering engineer looks for.

use lathe::{Analyzer, Target};
use lathe_testkit::signals;

const FS: f64 = 48_000.0;

fn analyse(frames: &[[f32; 2]]) -> lathe::AnalysisReport {
    let mut a = Analyzer::<2>::new(FS).unwrap();
    for b in frames.chunks(777) {
        a.process(b);
    }
    a.report(Target::by_name("spotify").as_ref())
}

fn codes(r: &lathe::AnalysisReport) -> Vec<&'static str> {
    r.problems.iter().map(|p| p.code).collect()
}

#[test]
fn a_clean_mix_has_no_problems_beyond_loudness() {
    let mix = signals::music_like(FS, 10.0, -1.0, 4);
    let r = analyse(&mix);
    assert!(r.integrated_lufs.is_finite());
    assert!(r.plr_db > 0.0 && r.correlation > 0.5, "{r:?}");
    assert!(
        codes(&r)
            .iter()
            .all(|c| *c == "too-quiet" || *c == "too-loud"),
        "{:?}",
        r.problems
    );
    let shares: f64 = r
        .spectrum
        .iter()
        .map(|b| 10f64.powf(b.share_db / 10.0))
        .sum();
    assert!((shares - 1.0).abs() < 0.15, "band shares sum to {shares}");
}

/// The running sums behind the DC offset, the mono loss and the clip counts, against the
/// same quantities summed directly in `f64`.
#[test]
fn dc_mono_loss_and_clips_match_direct_sums() {
    let x = signals::pink_noise(0.3, 2, (FS * 20.0) as usize);
    // Left with a small offset, right a delayed and quieter copy; a few clipped stretches.
    let frames: Vec<[f32; 2]> = x
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let l = s + 0.0123;
            let r = 0.5 * x[i.saturating_sub(7)] - 0.002;
            let l = if i % 50_000 < 5 { 1.0 } else { l };
            [l, r]
        })
        .collect();
    let r = analyse(&frames);
    let n = frames.len() as f64;
    let mean = |ch: usize| frames.iter().map(|f| f64::from(f[ch])).sum::<f64>() / n;
    assert!(
        (r.dc_offset - mean(0)).abs() < 1e-9,
        "{} vs {}",
        r.dc_offset,
        mean(0)
    );
    let stereo: f64 = frames
        .iter()
        .map(|f| f64::from(f[0]).powi(2) + f64::from(f[1]).powi(2))
        .sum();
    let mono: f64 = frames
        .iter()
        .map(|f| 2.0 * (0.5 * (f64::from(f[0]) + f64::from(f[1]))).powi(2))
        .sum();
    let want_loss = 10.0 * (stereo / mono).log10();
    assert!(
        (r.mono_loss_lu - want_loss).abs() < 1e-5,
        "{} vs {want_loss}",
        r.mono_loss_lu
    );
    let clipped = frames
        .iter()
        .flatten()
        .filter(|s| s.abs() >= lathe::analysis::CLIP_LEVEL)
        .count();
    assert_eq!(r.clipped_samples, clipped as u64);
}

#[test]
fn inverted_polarity_dc_and_clipping_are_flagged() {
    let x = signals::pink_noise(0.1, 2, (FS * 5.0) as usize);
    let inverted: Vec<[f32; 2]> = x.iter().map(|&s| [s, -s]).collect();
    let r = analyse(&inverted);
    assert!(r.correlation < -0.95, "{}", r.correlation);
    assert!(codes(&r).contains(&"inverted-polarity"), "{:?}", r.problems);

    let dc: Vec<[f32; 2]> = x.iter().map(|&s| [s + 0.02, s + 0.02]).collect();
    assert!(codes(&analyse(&dc)).contains(&"dc-offset"));

    let clipped: Vec<[f32; 2]> = x
        .iter()
        .map(|&s| [(s * 20.0).clamp(-1.0, 1.0); 2])
        .collect();
    let r = analyse(&clipped);
    assert!(
        r.clipped_runs > 10 && codes(&r).contains(&"clipping"),
        "{:?}",
        r.problems
    );
}

#[test]
fn silence_reads_minus_infinity_and_nan_samples_are_counted() {
    let mut silent = vec![[0.0f32; 2]; 48_000];
    silent[100] = [f32::NAN, 0.0];
    silent[200] = [f32::INFINITY, f32::NEG_INFINITY];
    // The largest finite values are not counted.
    silent[300] = [f32::MAX, -f32::MAX];
    let r = analyse(&silent);
    assert_eq!(r.non_finite_samples, 3);
    silent[300] = [0.0; 2];
    silent[200] = [0.0; 2];
    let r = analyse(&silent);
    assert_eq!(r.integrated_lufs, f64::NEG_INFINITY);
    assert_eq!(r.non_finite_samples, 1);
    assert!(codes(&r).contains(&"silent") && codes(&r).contains(&"non-finite"));
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["integrated_lufs"].is_null());
    }
}

#[test]
fn every_rate_from_8_to_384_khz_is_analysed_with_four_balance_bands() {
    for fs in [8_000.0, 11_025.0, 22_050.0, 44_100.0, 96_000.0, 384_000.0] {
        let mix = signals::music_like(fs, 4.0, -6.0, 2);
        let mut a = Analyzer::<2>::new(fs).unwrap();
        a.process(&mix);
        let r = a.report(None);
        assert!(r.integrated_lufs.is_finite(), "{fs}: {r:?}");
        assert_eq!(r.spectrum.len(), 4);
        for w in r.spectrum.windows(2) {
            assert!(
                w[0].hi_hz == w[1].lo_hz && w[0].lo_hz < w[0].hi_hz,
                "{fs}: {:?}",
                r.spectrum
            );
        }
        assert!(r.spectrum[3].lo_hz < fs / 2.0, "{fs}: {:?}", r.spectrum);
        // The shares are energy fractions of one mono sum: they add up to about 0 dB.
        let total: f64 = r
            .spectrum
            .iter()
            .map(|b| 10f64.powf(b.share_db / 10.0))
            .sum();
        assert!((10.0 * total.log10()).abs() < 1.0, "{fs}: {:?}", r.spectrum);
    }
}
