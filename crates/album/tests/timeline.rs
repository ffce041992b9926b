//! Timeline layout: exact sum rules, CD (Red Book) rounding, rule violations, fade curves.

use lathe_album::{
    compute_timeline, AlbumError, FadeCurve, Timeline, TimelineOptions, TrackPlacement, TrackSpec,
    CD_FRAME_SAMPLES, CD_MIN_TRACK_FRAMES,
};
use lathe_core::Error;
use proptest::prelude::*;

const CD: u64 = CD_FRAME_SAMPLES;

/// Seconds that round back to exactly `frames` at `fs`.
fn secs(frames: u64, fs: u32) -> f64 {
    frames as f64 / f64::from(fs)
}

/// One track described in whole frames (the test's own truth).
#[derive(Debug, Clone, Copy)]
struct Plan {
    len: u64,
    trim_start: u64,
    trim_end: u64,
    gap: u64,
    crossfade: u64,
    fade_in: u64,
    fade_out: u64,
}

fn spec(p: &Plan, fs: u32) -> TrackSpec {
    TrackSpec {
        frames: p.len + p.trim_start + p.trim_end,
        gap_before_s: secs(p.gap, fs),
        fade_in_s: secs(p.fade_in, fs),
        fade_out_s: secs(p.fade_out, fs),
        crossfade_s: secs(p.crossfade, fs),
        trim_start_s: secs(p.trim_start, fs),
        trim_end_s: secs(p.trim_end, fs),
        ..TrackSpec::default()
    }
}

/// Raw random material: (len, trim_start, trim_end, gap, crossfade permille, use crossfade,
/// fade-in permille, fade-out permille).
type Raw = (u64, u64, u64, u64, u64, bool, u64, u64);

/// Turns raw random numbers into a valid album: crossfades at most half of either
/// neighbour, no gap after a crossfade, none on the last track, fades within the track.
fn plans(raw: &[Raw], min_len: u64, max_crossfade: u64) -> Vec<Plan> {
    let n = raw.len();
    let mut out: Vec<Plan> = raw
        .iter()
        .map(|&(len, ts, te, gap, _, _, fi, fo)| Plan {
            len: len.max(min_len),
            trim_start: ts,
            trim_end: te,
            gap,
            crossfade: 0,
            fade_in: len.max(min_len) * fi / 2000,
            fade_out: len.max(min_len) * fo / 2000,
        })
        .collect();
    for i in 0..n.saturating_sub(1) {
        let (_, _, _, _, permille, use_xf, _, _) = raw[i];
        if use_xf {
            let limit = (out[i].len.min(out[i + 1].len) / 2).min(max_crossfade);
            out[i].crossfade = (limit * permille / 1000).max(1);
            out[i + 1].gap = 0;
        }
    }
    out
}

fn raw_track(max_len: u64) -> impl Strategy<Value = Raw> {
    (
        1u64..max_len,
        prop_oneof![Just(0u64), 0u64..5_000],
        prop_oneof![Just(0u64), 0u64..5_000],
        prop_oneof![Just(0u64), 0u64..100_000],
        0u64..=1000,
        any::<bool>(),
        prop_oneof![Just(0u64), 0u64..=1000],
        prop_oneof![Just(0u64), 0u64..=1000],
    )
}

fn layout(
    specs: &[TrackSpec],
    opts: &TimelineOptions,
) -> Result<(Timeline, Vec<TrackPlacement>), AlbumError> {
    let mut placements = vec![TrackPlacement::default(); specs.len()];
    let t = compute_timeline(specs, opts, &mut placements)?;
    Ok((t, placements))
}

fn assert_sum_rule(t: &Timeline, p: &[TrackPlacement]) {
    let tracks: u64 = p.iter().map(|p| p.frames).sum();
    let gaps: u64 = p.iter().map(|p| p.gap_frames).sum();
    let xf: u64 = p.iter().map(|p| p.crossfade_out_frames).sum();
    assert_eq!(t.track_frames, tracks);
    assert_eq!(t.gap_frames, gaps);
    assert_eq!(t.crossfade_frames, xf);
    assert_eq!(t.total_frames, tracks + gaps + t.tail_frames - xf);
    assert_eq!(t.total_frames, p.last().unwrap().end + t.tail_frames);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Sample-exact mode: every position and the total follow from the frame durations.
    #[test]
    fn sum_rules_are_exact(
        raw in prop::collection::vec(raw_track(200_000), 1..10),
        fs in prop_oneof![Just(44_100u32), Just(48_000), Just(96_000)],
        pregap in prop_oneof![Just(0u64), 0u64..200_000],
    ) {
        let plans = plans(&raw, 1, u64::MAX);
        let specs: Vec<TrackSpec> = plans.iter().map(|p| spec(p, fs)).collect();
        let opts = TimelineOptions { sample_rate: fs, cd: false, first_pregap_s: secs(pregap, fs) };
        let (t, p) = layout(&specs, &opts).unwrap();

        // The test's own layout.
        let mut end = 0u64;
        let mut prev_xf = 0u64;
        for (i, (q, pl)) in plans.iter().zip(&p).enumerate() {
            let gap = if i == 0 { pregap + q.gap } else { q.gap };
            let start = end + gap - prev_xf;
            prop_assert_eq!(pl.audio_start, start);
            prop_assert_eq!(pl.start, start, "INDEX 01 is the first frame");
            let index00 = if i == 0 { 0 } else if gap > 0 { end } else { start };
            prop_assert_eq!(pl.pregap_start, index00);
            prop_assert_eq!(pl.frames, q.len);
            prop_assert_eq!(pl.end, start + q.len);
            prop_assert_eq!(pl.source_start, q.trim_start);
            prop_assert_eq!(pl.gap_frames, gap);
            prop_assert_eq!(pl.crossfade_out_frames, q.crossfade);
            prop_assert_eq!(pl.crossfade_in_frames, if i == 0 { 0 } else { plans[i - 1].crossfade });
            prop_assert_eq!(pl.fade_in_frames, q.fade_in);
            prop_assert_eq!(pl.fade_out_frames, q.fade_out);
            end = start + q.len;
            prev_xf = q.crossfade;
        }
        let sum_len: u64 = plans.iter().map(|q| q.len).sum();
        let sum_gap: u64 = pregap + plans.iter().map(|q| q.gap).sum::<u64>();
        let sum_xf: u64 = plans.iter().map(|q| q.crossfade).sum();
        prop_assert_eq!(t.total_frames, sum_len + sum_gap - sum_xf);
        prop_assert_eq!(t.tail_frames, 0);
        prop_assert_eq!(t.tracks, plans.len());
        assert_sum_rule(&t, &p);
    }

    /// CD mode: positions on CD frames, rounded in the documented directions, sums exact.
    #[test]
    fn cd_rounding_rules(
        raw in prop::collection::vec(raw_track(8 * 44_100), 1..8),
        pregap in prop_oneof![Just(0u64), Just(2 * 44_100u64), 2 * 44_100u64..4 * 44_100],
    ) {
        let fs = 44_100;
        // Long enough that every track keeps 4 s between its indices.
        let plans = plans(&raw, 5 * 44_100, 44_100 * 9 / 10);
        let specs: Vec<TrackSpec> = plans.iter().map(|p| spec(p, fs)).collect();
        let opts = TimelineOptions { sample_rate: fs, cd: true, first_pregap_s: secs(pregap, fs) };
        let (t, p) = layout(&specs, &opts).unwrap();
        prop_assert_eq!(t.total_frames % CD, 0, "the album is whole CD frames");
        prop_assert!(t.tail_frames < CD);
        let mut prev_end = 0u64;
        for (i, (q, pl)) in plans.iter().zip(&p).enumerate() {
            prop_assert_eq!(pl.start % CD, 0, "INDEX 01 on a CD frame");
            prop_assert_eq!(pl.pregap_start % CD, 0, "INDEX 00 on a CD frame");
            prop_assert!(pl.pregap_start <= pl.start);
            prop_assert_eq!(pl.end, pl.audio_start + q.len);
            if i == 0 || q.gap > 0 {
                // Gaps round up: the silence grows by less than a CD frame and the audio starts
                // exactly on INDEX 01.
                let nominal = prev_end + if i == 0 { pregap + q.gap } else { q.gap };
                prop_assert_eq!(pl.audio_start, pl.start);
                prop_assert!(pl.audio_start >= nominal && pl.audio_start < nominal + CD);
                prop_assert_eq!(pl.gap_frames, pl.audio_start - prev_end);
                if i == 0 {
                    prop_assert_eq!(pl.pregap_start, 0);
                } else {
                    // INDEX 00: the previous track's end, rounded up.
                    prop_assert!(pl.pregap_start >= prev_end && pl.pregap_start < prev_end + CD);
                }
            } else {
                // Gapless joins and crossfades: audio untouched, INDEX rounded down.
                let xf = plans[i - 1].crossfade;
                prop_assert_eq!(pl.audio_start, prev_end - xf);
                prop_assert!(pl.start <= pl.audio_start && pl.audio_start < pl.start + CD);
                prop_assert_eq!(pl.pregap_start, pl.start);
                prop_assert_eq!(pl.gap_frames, 0);
            }
            let body_end = p.get(i + 1).map_or(t.total_frames, |n| n.pregap_start);
            prop_assert!(body_end - pl.start >= CD_MIN_TRACK_FRAMES, "Red Book 4 s minimum");
            prev_end = pl.end;
        }
        assert_sum_rule(&t, &p);
    }

    /// Any settings at all: an answer (never a panic), and when it is a layout, the sum rule.
    #[test]
    fn never_panics(
        tracks in prop::collection::vec(
            (0u64..100_000, -1.0f64..3.0, -1.0f64..3.0, -1.0f64..3.0, -1.0f64..1.0, -1.0f64..1.0, -100.0f64..60.0),
            0..6),
        cd in any::<bool>(),
        fs in prop_oneof![Just(44_100u32), Just(48_000), Just(0), Just(7_999)],
    ) {
        let specs: Vec<TrackSpec> = tracks.iter().map(|&(frames, gap, xf, fade, ts, te, gain)| TrackSpec {
            frames,
            gap_before_s: gap,
            crossfade_s: xf,
            fade_in_s: fade,
            fade_out_s: fade,
            trim_start_s: ts,
            trim_end_s: te,
            gain_db: gain,
            ..TrackSpec::default()
        }).collect();
        let opts = TimelineOptions { sample_rate: fs, cd, first_pregap_s: 2.0 };
        if let Ok((t, p)) = layout(&specs, &opts) {
            assert_sum_rule(&t, &p);
        }
    }
}

fn track(seconds: f64) -> TrackSpec {
    TrackSpec {
        frames: (seconds * 44_100.0).round() as u64,
        ..TrackSpec::default()
    }
}

#[test]
fn cd_example_by_hand() {
    // Track 1: 5 s + 100 frames; 1 s gap; track 2: 6 s; gapless into track 3: 4.5 s.
    let mut a = track(5.0);
    a.frames += 100;
    let b = TrackSpec {
        gap_before_s: 1.0,
        ..track(6.0)
    };
    let c = track(4.5);
    let (t, p) = layout(&[a, b, c], &TimelineOptions::cd()).unwrap();
    // Track 1 at 2 s (150 CD frames), ends at 7 s + 100.
    assert_eq!(
        (p[0].pregap_start, p[0].start, p[0].audio_start),
        (0, 88_200, 88_200)
    );
    assert_eq!(p[0].end, 308_700 + 100);
    // INDEX 00 of track 2 = 7 s + 100 rounded up = 526 CD frames; the 1 s gap ends at
    // 8 s + 100, rounded up to 601 CD frames (8.0133 s).
    assert_eq!(p[1].pregap_start, 526 * 588);
    assert_eq!(p[1].start, 601 * 588);
    assert_eq!(p[1].audio_start, 601 * 588);
    assert_eq!(p[1].gap_frames, 601 * 588 - 308_800);
    // Track 3 follows gaplessly at 601 * 588 + 6 s: already on a CD frame.
    assert_eq!(p[2].audio_start, 601 * 588 + 264_600);
    assert_eq!(p[2].start, p[2].audio_start);
    // The album end (4.5 s = 337.5 CD frames later) is padded to a whole CD frame.
    assert_eq!(t.tail_frames, 294);
    assert_eq!(t.total_frames, p[2].end + 294);

    // Gapless join off the CD grid: INDEX 01 rounds down, the audio does not move.
    let mut a = track(5.0);
    a.frames += 300;
    let (t, p) = layout(&[a, track(5.0)], &TimelineOptions::cd()).unwrap();
    assert_eq!(p[1].audio_start, 88_200 + 220_500 + 300);
    assert_eq!(p[1].start, 88_200 + 220_500);
    assert_eq!(p[1].pregap_start, p[1].start);
    // The album end (10 s + 300 after the pregap) is padded to the next CD frame.
    assert_eq!(t.tail_frames, 288);
    assert_eq!(t.total_frames, 88_200 + 441_000 + 588);
}

#[test]
fn cd_rules_are_errors() {
    let cd = TimelineOptions::cd();
    // 4 s minimum, measured from INDEX 01 to the next INDEX 00.
    assert!(layout(&[track(4.0)], &cd).is_ok());
    // 3.9 s = 171 990 frames, padded to 293 CD frames (172 284 frames).
    assert_eq!(
        layout(&[track(3.9)], &cd).unwrap_err(),
        AlbumError::TrackTooShort {
            track: 0,
            frames: 172_284,
            min_frames: 176_400
        }
    );
    // A crossfade eats into the first track's time on the disc.
    let a = TrackSpec {
        crossfade_s: 1.0,
        ..track(4.5)
    };
    assert!(matches!(
        layout(&[a, track(5.0)], &cd),
        Err(AlbumError::TrackTooShort { track: 0, .. })
    ));
    // 44.1 kHz only.
    let opts = TimelineOptions {
        sample_rate: 48_000,
        ..cd
    };
    assert_eq!(
        layout(&[track(5.0)], &opts).unwrap_err(),
        AlbumError::CdSampleRate {
            sample_rate: 48_000
        }
    );
    // The first pregap: 0 (burner adds it) or at least 2 s.
    let opts = TimelineOptions {
        first_pregap_s: 1.0,
        ..cd
    };
    assert_eq!(
        layout(&[track(5.0)], &opts).unwrap_err(),
        AlbumError::CdFirstPregap { seconds: 1.0 }
    );
    let opts = TimelineOptions {
        first_pregap_s: 0.0,
        ..cd
    };
    let (_, p) = layout(&[track(5.0)], &opts).unwrap();
    assert_eq!((p[0].pregap_start, p[0].start), (0, 0));
    // At most 99 tracks.
    let many = vec![track(4.0); 100];
    assert_eq!(
        layout(&many, &cd).unwrap_err(),
        AlbumError::TooManyTracks {
            tracks: 100,
            max: 99
        }
    );
    assert!(layout(&many[..99], &cd).is_ok());
}

#[test]
fn join_rules_are_errors() {
    let fs = 48_000;
    let opts = TimelineOptions::new(fs);
    let t = |frames: u64| TrackSpec {
        frames,
        ..TrackSpec::default()
    };
    let xf = |frames: u64, crossfade: u64| TrackSpec {
        crossfade_s: secs(crossfade, fs),
        ..t(frames)
    };
    // Longer than the outgoing track, longer than the incoming track, or exactly as long.
    assert_eq!(
        layout(&[xf(1000, 1001), t(5000)], &opts).unwrap_err(),
        AlbumError::CrossfadeTooLong {
            track: 0,
            crossfade_frames: 1001,
            limit_frames: 1000
        }
    );
    assert_eq!(
        layout(&[xf(5000, 1001), t(1000)], &opts).unwrap_err(),
        AlbumError::CrossfadeTooLong {
            track: 0,
            crossfade_frames: 1001,
            limit_frames: 1000
        }
    );
    let (tl, p) = layout(&[xf(5000, 1000), t(1000)], &opts).unwrap();
    assert_eq!(p[1].end, p[0].end);
    assert_eq!(tl.total_frames, 5000);
    // A gap and a crossfade at the same join.
    let gapped = TrackSpec {
        gap_before_s: 0.5,
        ..t(5000)
    };
    assert_eq!(
        layout(&[xf(5000, 100), gapped], &opts).unwrap_err(),
        AlbumError::GapAndCrossfade { track: 0 }
    );
    // Nothing to crossfade into.
    assert_eq!(
        layout(&[t(5000), xf(5000, 100)], &opts).unwrap_err(),
        AlbumError::CrossfadeOnLastTrack { track: 1 }
    );
    // Crossfades in and out of the middle track overlap: three tracks at once.
    assert_eq!(
        layout(&[xf(5000, 600), xf(1000, 500), t(5000)], &opts).unwrap_err(),
        AlbumError::CrossfadesOverlap { track: 1 }
    );
    assert!(layout(&[xf(5000, 500), xf(1000, 500), t(5000)], &opts).is_ok());
    // Fades longer than the trimmed track.
    let long_fade = TrackSpec {
        fade_out_s: secs(901, fs),
        trim_start_s: secs(100, fs),
        ..t(1000)
    };
    assert_eq!(
        layout(&[long_fade], &opts).unwrap_err(),
        AlbumError::FadeTooLong {
            track: 0,
            fade_frames: 901,
            track_frames: 900
        }
    );
    // Trimmed to nothing.
    let trimmed = TrackSpec {
        trim_start_s: secs(600, fs),
        trim_end_s: secs(400, fs),
        ..t(1000)
    };
    assert!(matches!(
        layout(&[t(1000), trimmed], &opts),
        Err(AlbumError::TrackTooShort { track: 1, .. })
    ));
}

#[test]
fn bad_parameters_are_errors() {
    let opts = TimelineOptions::new(48_000);
    let base = TrackSpec::new(48_000);
    for (s, param) in [
        (
            TrackSpec {
                gap_before_s: -0.1,
                ..base
            },
            "gap_before_s",
        ),
        (
            TrackSpec {
                fade_in_s: f64::NAN,
                ..base
            },
            "fade_in_s",
        ),
        (
            TrackSpec {
                fade_out_s: f64::INFINITY,
                ..base
            },
            "fade_out_s",
        ),
        (
            TrackSpec {
                crossfade_s: -1.0,
                ..base
            },
            "crossfade_s",
        ),
        (
            TrackSpec {
                trim_start_s: 1e9,
                ..base
            },
            "trim_start_s",
        ),
        (
            TrackSpec {
                trim_end_s: f64::NAN,
                ..base
            },
            "trim_end_s",
        ),
        (
            TrackSpec {
                gain_db: 60.0,
                ..base
            },
            "gain_db",
        ),
        (
            TrackSpec {
                gain_db: f64::NEG_INFINITY,
                ..base
            },
            "gain_db",
        ),
    ] {
        match layout(&[base, s], &opts) {
            Err(AlbumError::Track {
                track: 1,
                error: Error::OutOfRange { param: p, .. },
            }) => assert_eq!(p, param),
            other => panic!("{param}: {other:?}"),
        }
    }
    assert_eq!(layout(&[], &opts).unwrap_err(), AlbumError::NoTracks);
    let mut one = [TrackPlacement::default(); 1];
    assert_eq!(
        compute_timeline(&[base, base], &opts, &mut one).unwrap_err(),
        AlbumError::Core(Error::CapacityExceeded {
            needed: 2,
            capacity: 1
        })
    );
    for fs in [0, 7_999, 400_000] {
        assert!(matches!(
            layout(&[base], &TimelineOptions::new(fs)),
            Err(AlbumError::Core(Error::UnsupportedSampleRate { .. }))
        ));
    }
    let opts = TimelineOptions {
        first_pregap_s: -2.0,
        ..opts
    };
    assert!(matches!(
        layout(&[base], &opts),
        Err(AlbumError::Core(Error::OutOfRange {
            param: "first_pregap_s",
            ..
        }))
    ));
    // Errors read well.
    let e = AlbumError::CrossfadeTooLong {
        track: 2,
        crossfade_frames: 10,
        limit_frames: 5,
    };
    assert!(e.to_string().contains("track 3 into track 4"));
}

#[test]
fn seconds_round_to_the_nearest_frame() {
    let fs = 48_000;
    let s = TrackSpec {
        gap_before_s: 10.4 / 48_000.0,
        ..TrackSpec::new(1000)
    };
    let (_, p) = layout(&[TrackSpec::new(1000), s], &TimelineOptions::new(fs)).unwrap();
    assert_eq!(p[1].gap_frames, 10);
    let s = TrackSpec {
        gap_before_s: 10.6 / 48_000.0,
        ..TrackSpec::new(1000)
    };
    let (_, p) = layout(&[TrackSpec::new(1000), s], &TimelineOptions::new(fs)).unwrap();
    assert_eq!(p[1].gap_frames, 11);
}

// ---------------------------------------------------------------------------------------
// Curves

const LENGTHS: [u64; 7] = [1, 2, 3, 7, 64, 1000, 44_100];

#[test]
fn curves_match_their_formulas() {
    use std::f64::consts::PI;
    for x in [0.0, 0.1, 0.25, 0.5, 0.9, 1.0] {
        assert_eq!(FadeCurve::Linear.fade_in_gain(x), x);
        assert!((FadeCurve::EqualPower.fade_in_gain(x) - (PI * x / 2.0).sin()).abs() < 1e-13);
        assert!((FadeCurve::SCurve.fade_in_gain(x) - (1.0 - (PI * x).cos()) / 2.0).abs() < 1e-13);
        for c in FadeCurve::ALL {
            assert!((c.fade_out_gain(x) - c.fade_in_gain(1.0 - x)).abs() < 1e-15);
        }
    }
    // The polynomial sines against the library's, densely.
    for i in 0..=100_000 {
        let x = f64::from(i) / 100_000.0;
        let g = FadeCurve::EqualPower.fade_in_gain(x);
        assert!((g - (PI * x / 2.0).sin()).abs() < 5e-14, "{x}");
        assert!((FadeCurve::EqualPower.fade_out_gain(x) - (PI * x / 2.0).cos()).abs() < 5e-14);
        assert!((FadeCurve::SCurve.fade_out_gain(x) - (1.0 + (PI * x).cos()) / 2.0).abs() < 1e-13);
    }
    // Middle of an equal-power fade: -3.01 dB.
    let mid = 20.0 * FadeCurve::EqualPower.fade_in_gain(0.5).log10();
    assert!((mid + 3.0103).abs() < 1e-4);
    // Clamping and NaN.
    for c in FadeCurve::ALL {
        assert_eq!(c.fade_in_gain(-1.0), 0.0);
        assert_eq!(c.fade_in_gain(2.0), 1.0);
        assert_eq!(c.fade_in_gain(f64::NAN), 0.0);
        assert_eq!(c.fade_in_at(0, 0), 1.0);
    }
}

#[test]
fn crossfade_gains_at_every_point() {
    for c in FadeCurve::ALL {
        for len in LENGTHS {
            let mut prev_in = 0.0;
            for k in 0..len {
                let g_in = c.fade_in_at(k, len);
                let g_out = c.fade_out_at(k, len);
                assert!((0.0..=1.0).contains(&g_in) && (0.0..=1.0).contains(&g_out));
                // Mirror image: the outgoing side is the incoming side reversed in time.
                assert!((g_out - c.fade_in_at(len - 1 - k, len)).abs() < 1e-12);
                // Rising, and never by more than the curve's slope allows.
                assert!(g_in > prev_in || len == 1);
                assert!(g_in - prev_in <= c.max_slope() / len as f64 + 1e-12);
                prev_in = g_in;
                match c {
                    // Correlated material: amplitudes add, so their sum must stay 1.
                    FadeCurve::Linear | FadeCurve::SCurve => {
                        assert!((g_in + g_out - 1.0).abs() < 1e-12, "{c:?} {k}/{len}")
                    }
                    // Uncorrelated material: powers add, so the power sum must stay 1.
                    FadeCurve::EqualPower => {
                        let db = 10.0 * (g_in * g_in + g_out * g_out).log10();
                        assert!(db.abs() < 0.1, "{k}/{len}: {db} dB");
                        assert!(db.abs() < 1e-9);
                    }
                }
            }
            // Into full level after the fade: the last step is small too.
            assert!(1.0 - prev_in <= c.max_slope() / len as f64 + 1e-12);
        }
    }
    // The differences between the laws are real: equal power bulges +3 dB on correlated
    // material, linear dips -3 dB in power on uncorrelated material.
    let (i, o) = (
        FadeCurve::EqualPower.fade_in_gain(0.5),
        FadeCurve::EqualPower.fade_out_gain(0.5),
    );
    assert!((20.0 * (i + o).log10() - 3.0103).abs() < 1e-3);
    let (i, o) = (
        FadeCurve::Linear.fade_in_gain(0.5),
        FadeCurve::Linear.fade_out_gain(0.5),
    );
    assert!((10.0 * (i * i + o * o).log10() + 3.0103).abs() < 1e-3);
}

#[test]
fn envelope_multiplies_gain_fades_and_crossfades() {
    let fs = 48_000;
    let specs = [
        TrackSpec {
            crossfade_s: secs(100, fs),
            crossfade_curve: FadeCurve::Linear,
            ..TrackSpec::new(1000)
        },
        TrackSpec {
            fade_in_s: secs(50, fs),
            fade_in_curve: FadeCurve::SCurve,
            fade_out_s: secs(200, fs),
            fade_out_curve: FadeCurve::EqualPower,
            gain_db: -6.0,
            ..TrackSpec::new(1000)
        },
    ];
    let (_, p) = layout(&specs, &TimelineOptions::new(fs)).unwrap();
    let g = 10f64.powf(-6.0 / 20.0);
    let b = &p[1];
    for k in [0u64, 10, 49, 50, 99, 100, 500, 799, 800, 999] {
        let mut want = g;
        if k < 50 {
            want *= FadeCurve::SCurve.fade_in_gain((k as f64 + 0.5) / 50.0);
        }
        if k < 100 {
            want *= (k as f64 + 0.5) / 100.0;
        }
        if k >= 800 {
            want *= FadeCurve::EqualPower.fade_out_gain((k as f64 - 800.0 + 0.5) / 200.0);
        }
        assert!((b.envelope(k) - want).abs() < 1e-15, "{k}");
    }
    assert_eq!(b.envelope(1000), 0.0);
    // The block form is bit-identical, from any starting frame, past the end too.
    for k0 in [0u64, 1, 37, 99, 100, 790, 990] {
        let mut block = [f64::NAN; 64];
        b.envelope_into(k0, &mut block);
        for (j, g) in block.iter().enumerate() {
            assert_eq!(
                g.to_bits(),
                b.envelope(k0 + j as u64).to_bits(),
                "{k0} + {j}"
            );
        }
    }
    assert_eq!((b.head_frames(), b.tail_frames()), (100, 200));
    // The outgoing side of the crossfade on track 1.
    assert!((p[0].envelope(950) - (1.0 - 50.5 / 100.0)).abs() < 1e-15);
}
