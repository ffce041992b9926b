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
