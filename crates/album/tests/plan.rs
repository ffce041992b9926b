//! The album loudness plan: track, album and loudest-track modes, headroom, silent tracks.

use lathe_album::{plan_gains, AlbumError, GainPlan, LoudnessMode, TrackLoudness};
use lathe_core::Error;
use proptest::prelude::*;

const MODES: [LoudnessMode; 3] = [
    LoudnessMode::Track,
    LoudnessMode::Album,
    LoudnessMode::LoudestTrack,
];

fn t(integrated_lufs: f64, true_peak_dbtp: f64) -> TrackLoudness {
    TrackLoudness {
        integrated_lufs,
        true_peak_dbtp,
    }
}

fn plan(
    mode: LoudnessMode,
    tracks: &[TrackLoudness],
    album: f64,
) -> Result<(GainPlan, Vec<f64>), AlbumError> {
    let mut gains = vec![f64::NAN; tracks.len()];
    let p = plan_gains(mode, tracks, album, -14.0, -1.0, &mut gains)?;
    Ok((p, gains))
}

#[test]
fn worked_example() {
    // Three tracks at -10, -14 and -8 LUFS; target -14 LUFS, ceiling -1 dBTP.
    let tracks = [t(-10.0, -1.0), t(-14.0, -3.0), t(-8.0, 0.5)];
    let (p, g) = plan(LoudnessMode::Track, &tracks, -10.0).unwrap();
    assert_eq!(g, [-4.0, 0.0, -6.0]);
    // Peaks after gain: -5, -3, -5.5 dBTP: the worst is 2 dB under the ceiling.
    assert_eq!(p.headroom_needed_db, -2.0);
    assert_eq!(p.peak_track, Some(1));
    assert_eq!(p.loudest_track, Some(2));

    let (p, g) = plan(LoudnessMode::Album, &tracks, -10.0).unwrap();
    assert_eq!(g, [-4.0; 3]);
    // Peaks: -5, -7, -3.5: 2.5 dB to spare.
    assert_eq!(p.headroom_needed_db, -2.5);
    assert_eq!(p.peak_track, Some(2));
    assert_eq!(p.reference_lufs, -10.0);

    let (p, g) = plan(LoudnessMode::LoudestTrack, &tracks, -10.0).unwrap();
    assert_eq!(g, [-6.0; 3]);
    assert_eq!(p.headroom_needed_db, -4.5);
    assert_eq!(p.reference_lufs, -8.0);

    // A quiet, peaky master: bringing it up needs the limiter.
    let (p, g) = plan(LoudnessMode::Album, &[t(-20.0, -2.0)], -20.0).unwrap();
    assert_eq!(g, [6.0]);
    assert_eq!(p.headroom_needed_db, 5.0);
}

#[test]
fn silent_tracks_never_make_nan() {
    let silent = t(f64::NEG_INFINITY, f64::NEG_INFINITY);
    let tracks = [t(-12.0, -2.0), silent, t(-16.0, -6.0)];
    for mode in MODES {
        let (p, g) = plan(mode, &tracks, -13.0).unwrap();
        assert!(g.iter().all(|x| x.is_finite()), "{mode:?}: {g:?}");
        assert!(!p.headroom_needed_db.is_nan());
        if mode == LoudnessMode::Track {
            assert_eq!(g[1], 0.0);
        }
    }
    // All silent: track mode leaves everything alone, nothing needs headroom.
    let (p, g) = plan(LoudnessMode::Track, &[silent, silent], f64::NEG_INFINITY).unwrap();
    assert_eq!(g, [0.0, 0.0]);
    assert_eq!(p.headroom_needed_db, f64::NEG_INFINITY);
    assert_eq!((p.peak_track, p.loudest_track), (None, None));
    // A silent album cannot be brought to a target.
    assert!(matches!(
        plan(LoudnessMode::Album, &[silent], f64::NEG_INFINITY),
        Err(AlbumError::Core(Error::OutOfRange {
            param: "album_lufs",
            ..
        }))
    ));
    assert!(matches!(
        plan(LoudnessMode::LoudestTrack, &[silent], f64::NEG_INFINITY),
        Err(AlbumError::Track { track: 0, .. })
    ));
    // A track below the gate but with a finite peak (e.g. a hidden click) still counts for
    // headroom.
    let (p, _) = plan(LoudnessMode::Track, &[t(f64::NEG_INFINITY, 0.5)], -20.0).unwrap();
    assert_eq!(p.headroom_needed_db, 1.5);
}

#[test]
fn bad_inputs_are_errors() {
    let tracks = [t(-10.0, -1.0), t(-12.0, -2.0)];
    let mut gains = [7.0; 2];
    for (target, ceiling, param) in [
        (f64::NAN, -1.0, "target_lufs"),
        (5.0, -1.0, "target_lufs"),
        (-80.0, -1.0, "target_lufs"),
        (-14.0, f64::INFINITY, "ceiling_dbtp"),
        (-14.0, 10.0, "ceiling_dbtp"),
    ] {
        let e = plan_gains(
            LoudnessMode::Album,
            &tracks,
            -11.0,
            target,
            ceiling,
            &mut gains,
        );
        assert!(
            matches!(e, Err(AlbumError::Core(Error::OutOfRange { param: p, .. })) if p == param),
            "{e:?}"
        );
    }
    for (bad, param) in [
        (t(f64::NAN, -1.0), "integrated_lufs"),
        (t(f64::INFINITY, -1.0), "integrated_lufs"),
        (t(-10.0, f64::NAN), "true_peak_dbtp"),
    ] {
        for mode in MODES {
            let e = plan_gains(mode, &[tracks[0], bad], -11.0, -14.0, -1.0, &mut gains);
            assert!(
                matches!(e, Err(AlbumError::Track { track: 1, error: Error::OutOfRange { param: p, .. } }) if p == param),
                "{e:?}"
            );
        }
    }
    for mode in MODES {
        assert!(plan_gains(mode, &tracks, f64::NAN, -14.0, -1.0, &mut gains).is_err());
    }
    assert_eq!(gains, [7.0; 2], "gains untouched on error");
    let mut short = [0.0; 1];
    assert_eq!(
        plan_gains(LoudnessMode::Track, &tracks, -11.0, -14.0, -1.0, &mut short),
        Err(AlbumError::Core(Error::CapacityExceeded {
            needed: 2,
            capacity: 1
        }))
    );
    assert_eq!(
        plan_gains(LoudnessMode::Track, &[], -11.0, -14.0, -1.0, &mut short),
        Err(AlbumError::NoTracks)
    );
    // The facade turns the error into text.
    let e = plan_gains(LoudnessMode::Album, &tracks, -11.0, 5.0, -1.0, &mut gains).unwrap_err();
    assert!(e.to_string().contains("target_lufs"));
}

fn loudness() -> impl Strategy<Value = TrackLoudness> {
    prop_oneof![
        4 => (-40.0f64..-3.0, -20.0f64..3.0).prop_map(|(l, p)| t(l, p)),
        1 => Just(t(f64::NEG_INFINITY, f64::NEG_INFINITY)),
        1 => (-20.0f64..0.0).prop_map(|p| t(f64::NEG_INFINITY, p)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn modes_do_what_they_say(
        tracks in prop::collection::vec(loudness(), 1..16),
        album in -40.0f64..-3.0,
        target in -30.0f64..-5.0,
        ceiling in -6.0f64..0.0,
    ) {
        let loud: Vec<f64> = tracks.iter().map(|t| t.integrated_lufs).filter(|l| l.is_finite()).collect();
        for mode in MODES {
            let mut g = vec![f64::NAN; tracks.len() + 2];
            let res = plan_gains(mode, &tracks, album, target, ceiling, &mut g);
            if mode == LoudnessMode::LoudestTrack && loud.is_empty() {
                prop_assert!(res.is_err());
                continue;
            }
            let p = res.unwrap();
            prop_assert!(g[tracks.len()..].iter().all(|x| x.is_nan()), "only the first n written");
            let g = &g[..tracks.len()];
            prop_assert!(g.iter().all(|x| x.is_finite()));
            match mode {
                LoudnessMode::Track => {
                    for (t, g) in tracks.iter().zip(g) {
                        if t.integrated_lufs.is_finite() {
                            prop_assert!((t.integrated_lufs + g - target).abs() < 1e-12);
                        } else {
                            prop_assert_eq!(*g, 0.0);
                        }
                    }
                }
                LoudnessMode::Album | LoudnessMode::LoudestTrack => {
                    // One bit-identical gain: every track-to-track difference is kept exactly.
                    prop_assert!(g.iter().all(|x| x.to_bits() == g[0].to_bits()));
                    let reference = if mode == LoudnessMode::Album {
                        album
                    } else {
                        loud.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                    };
                    prop_assert!((reference + g[0] - target).abs() < 1e-12);
                    prop_assert_eq!(p.reference_lufs, reference);
                }
            }
            // Headroom, computed independently.
            let worst = tracks.iter().zip(g)
                .filter(|(t, _)| t.true_peak_dbtp.is_finite())
                .map(|(t, g)| t.true_peak_dbtp + g - ceiling)
                .fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(!p.headroom_needed_db.is_nan());
            prop_assert_eq!(p.headroom_needed_db, worst);
            if let Some(i) = p.peak_track {
                prop_assert_eq!(tracks[i].true_peak_dbtp + g[i] - ceiling, worst);
            } else {
                prop_assert_eq!(worst, f64::NEG_INFINITY);
            }
        }
    }
}
