//! The album renderer: sample-exact against a naive reference mixer, block-size invariant,
//! allocation-free; crossfade laws and continuity measured on rendered audio.

use lathe_album::{
    compute_timeline, AlbumRenderer, FadeCurve, MemorySource, Timeline, TimelineOptions,
    TrackPlacement, TrackSource, TrackSpec,
};
use lathe_testkit::alloc::count_allocations;
use lathe_testkit::signals::white_noise;
use proptest::prelude::*;

lathe_testkit::install_counting_allocator!();

const BLOCK_SIZES: [usize; 4] = [1, 7, 64, 4096];

fn secs(frames: u64, fs: u32) -> f64 {
    frames as f64 / f64::from(fs)
}

/// Distinct stereo noise per track (so a one-frame slip shows).
fn track_audio(seed: u64, frames: u64) -> Vec<[f32; 2]> {
    let n = white_noise(0.5, seed, 2 * frames as usize);
    n.chunks(2).map(|c| [c[0], c[1]]).collect()
}

/// The test's own idea of where a track sits and how it is shaped, from the specs alone.
#[derive(Debug, Clone, Copy)]
struct RefTrack {
    start: u64,
    len: u64,
    trim: u64,
    gain: f64,
    fade_in: (u64, FadeCurve),
    fade_out: (u64, FadeCurve),
    xf_in: (u64, FadeCurve),
    xf_out: (u64, FadeCurve),
}

fn frames(seconds: f64, fs: u32) -> u64 {
    (seconds * f64::from(fs)).round() as u64
}

/// Sample-exact layout (no CD rounding), or the audio starts given by `starts`.
fn reference_layout(
    specs: &[TrackSpec],
    fs: u32,
    pregap_s: f64,
    starts: Option<&[TrackPlacement]>,
) -> Vec<RefTrack> {
    let mut out: Vec<RefTrack> = Vec::new();
    let mut end = 0u64;
    for (i, s) in specs.iter().enumerate() {
        let trim = frames(s.trim_start_s, fs);
        let len = s.frames - trim - frames(s.trim_end_s, fs);
        let prev_xf = if i == 0 {
            (0, FadeCurve::Linear)
        } else {
            (
                frames(specs[i - 1].crossfade_s, fs),
                specs[i - 1].crossfade_curve,
            )
        };
        let gap = frames(s.gap_before_s, fs) + if i == 0 { frames(pregap_s, fs) } else { 0 };
        let start = match starts {
            Some(p) => p[i].audio_start,
            None => end + gap - prev_xf.0,
        };
        out.push(RefTrack {
            start,
            len,
            trim,
            gain: lathe_core::db_to_gain(s.gain_db),
            fade_in: (frames(s.fade_in_s, fs), s.fade_in_curve),
            fade_out: (frames(s.fade_out_s, fs), s.fade_out_curve),
            xf_in: prev_xf,
            xf_out: (frames(s.crossfade_s, fs), s.crossfade_curve),
        });
        end = start + len;
    }
    out
}

/// The envelope straight from the curve formulas: gain × fade-in × crossfade-in × fade-out ×
/// crossfade-out, frame k at x = (k + 0.5) / L.
fn reference_gain(t: &RefTrack, k: u64) -> f64 {
    let x = |j: u64, l: u64| (j as f64 + 0.5) / l as f64;
    let mut g = t.gain;
    if k < t.fade_in.0 {
        g *= t.fade_in.1.fade_in_gain(x(k, t.fade_in.0));
    }
    if k < t.xf_in.0 {
        g *= t.xf_in.1.fade_in_gain(x(k, t.xf_in.0));
    }
    if k >= t.len - t.fade_out.0 {
        g *= t
            .fade_out
            .1
            .fade_out_gain(x(k - (t.len - t.fade_out.0), t.fade_out.0));
    }
    if k >= t.len - t.xf_out.0 {
        g *= t
            .xf_out
            .1
            .fade_out_gain(x(k - (t.len - t.xf_out.0), t.xf_out.0));
    }
    g
}

/// The naive mixer: for every album frame, every track, in track order.
fn reference_mix(audio: &[Vec<[f32; 2]>], layout: &[RefTrack], total: u64) -> Vec<[f32; 2]> {
    (0..total)
        .map(|t| {
            let mut acc = [0.0f32; 2];
            for (i, r) in layout.iter().enumerate() {
                if t >= r.start && t < r.start + r.len {
                    let k = t - r.start;
                    let g = reference_gain(r, k) as f32;
                    let x = audio[i][(r.trim + k) as usize];
                    acc[0] += x[0] * g;
                    acc[1] += x[1] * g;
                }
            }
            acc
        })
        .collect()
}

/// Renders the whole album with blocks of the given sizes (cycled).
fn render<S: TrackSource<2>>(
    specs: &[TrackSpec],
    placements: &[TrackPlacement],
    timeline: Timeline,
    source: &mut S,
    sizes: &[usize],
) -> Vec<[f32; 2]> {
    let mut renderer = AlbumRenderer::new(specs, placements, timeline);
    let mut out = Vec::new();
    let mut block = vec![[f32::NAN; 2]; sizes.iter().copied().max().unwrap_or(1)];
    for &size in sizes.iter().cycle() {
        let n = renderer.render(source, &mut block[..size]);
        if n == 0 && size > 0 {
            break;
        }
        out.extend_from_slice(&block[..n]);
    }
    assert_eq!(renderer.remaining(), 0);
    out
}

fn same(a: &[[f32; 2]], b: &[[f32; 2]]) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("length {} vs {}", a.len(), b.len()));
    }
    match a.iter().zip(b).position(|(x, y)| x != y) {
        None => Ok(()),
        Some(i) => Err(format!("frame {i}: {:?} vs {:?}", a[i], b[i])),
    }
}

type Raw = (
    u64,
    u64,
    u64,
    u64,
    u64,
    bool,
    u64,
    u64,
    f64,
    usize,
    usize,
    usize,
);

fn curve(i: usize) -> FadeCurve {
    FadeCurve::ALL[i % 3]
}

/// A valid album from random numbers (crossfades within both neighbours and not overlapping).
fn album(raw: &[Raw], fs: u32) -> Vec<TrackSpec> {
    let n = raw.len();
    let lens: Vec<u64> = raw.iter().map(|r| r.0).collect();
    let mut specs: Vec<TrackSpec> = raw
        .iter()
        .map(
            |&(len, ts, te, gap, _, _, fi, fo, gain, c1, c2, c3)| TrackSpec {
                frames: len + ts + te,
                trim_start_s: secs(ts, fs),
                trim_end_s: secs(te, fs),
                gap_before_s: secs(gap, fs),
                fade_in_s: secs(len * fi / 1000, fs),
                fade_out_s: secs(len * fo / 1000, fs),
                fade_in_curve: curve(c1),
                fade_out_curve: curve(c2),
                crossfade_curve: curve(c3),
                gain_db: gain,
                ..TrackSpec::default()
            },
        )
        .collect();
    for i in 0..n.saturating_sub(1) {
        let (_, _, _, _, permille, use_xf, ..) = raw[i];
        if use_xf {
            let limit = lens[i].min(lens[i + 1]) / 2;
            specs[i].crossfade_s = secs((limit * permille / 1000).max(1), fs);
            specs[i + 1].gap_before_s = 0.0;
        }
    }
    specs
}

fn raw_track() -> impl Strategy<Value = Raw> {
    (
        (
            2u64..3_000,
            0u64..300,
            0u64..300,
            prop_oneof![Just(0u64), 0u64..2_000],
        ),
        (0u64..=1000, any::<bool>(), 0u64..=1000, 0u64..=1000),
        (-12.0f64..6.0, 0usize..3, 0usize..3, 0usize..3),
    )
        .prop_map(|((a, b, c, d), (e, f, g, h), (i, j, k, l))| (a, b, c, d, e, f, g, h, i, j, k, l))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random albums: every block size gives the naive mixer's output, bit for bit.
    #[test]
    fn matches_naive_mixer_for_any_blocks(
        raw in prop::collection::vec(raw_track(), 1..6),
        pregap in 0u64..500,
        split in prop::collection::vec(0usize..300, 1..8),
    ) {
        let fs = 48_000;
        let specs = album(&raw, fs);
        let opts = TimelineOptions { sample_rate: fs, cd: false, first_pregap_s: secs(pregap, fs) };
        let mut placements = vec![TrackPlacement::default(); specs.len()];
        let timeline = compute_timeline(&specs, &opts, &mut placements).unwrap();
        let audio: Vec<Vec<[f32; 2]>> = specs.iter().enumerate()
            .map(|(i, s)| track_audio(i as u64 + 1, s.frames)).collect();
        let refs: Vec<&[[f32; 2]]> = audio.iter().map(Vec::as_slice).collect();
        let layout = reference_layout(&specs, fs, opts.first_pregap_s, None);
        let want = reference_mix(&audio, &layout, timeline.total_frames);
        let mut sizes = split.clone();
        if sizes.iter().all(|&s| s == 0) {
            sizes.push(1);
        }
        for sizes in [&[1usize][..], &[7], &[64], &[4096], &sizes] {
            let got = render(&specs, &placements, timeline, &mut MemorySource::new(&refs), sizes);
            prop_assert!(same(&got, &want).is_ok(), "{:?}: {:?}", sizes, same(&got, &want));
        }
    }
}

/// A Red Book album with every feature: gaps, a gapless join off the CD grid, crossfades of
/// every curve, fades, trims, gains.
fn cd_album() -> Vec<TrackSpec> {
    let s = |sec: f64| (sec * 44_100.0) as u64;
    vec![
        TrackSpec {
            frames: s(5.5) + 123,
            fade_in_s: 0.5,
            crossfade_s: 1.0,
            crossfade_curve: FadeCurve::Linear,
            gain_db: -1.0,
            ..TrackSpec::default()
        },
        TrackSpec {
            frames: s(6.0) + 77,
            trim_start_s: 0.25,
            trim_end_s: 0.1,
            crossfade_s: 0.75,
            crossfade_curve: FadeCurve::SCurve,
            ..TrackSpec::default()
        },
        TrackSpec {
            frames: s(5.5) + 5,
            crossfade_s: 0.5,
            crossfade_curve: FadeCurve::EqualPower,
            fade_out_s: 0.3,
            gain_db: 2.5,
            ..TrackSpec::default()
        },
        TrackSpec {
            frames: s(4.5) + 300,
            ..TrackSpec::default()
        },
        TrackSpec {
            frames: s(5.0) + 1,
            gap_before_s: 1.3,
            fade_out_s: 2.0,
            fade_out_curve: FadeCurve::EqualPower,
            ..TrackSpec::default()
        },
    ]
}

#[test]
fn cd_album_is_sample_exact_and_block_size_invariant() {
    let specs = cd_album();
    let opts = TimelineOptions::cd();
    let mut placements = [TrackPlacement::default(); 5];
    let timeline = compute_timeline(&specs, &opts, &mut placements).unwrap();
    let audio: Vec<Vec<[f32; 2]>> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| track_audio(i as u64 + 10, s.frames))
        .collect();
    let refs: Vec<&[[f32; 2]]> = audio.iter().map(Vec::as_slice).collect();
    let layout = reference_layout(&specs, 44_100, 2.0, Some(&placements));
    let want = reference_mix(&audio, &layout, timeline.total_frames);
    for size in BLOCK_SIZES {
        let got = render(
            &specs,
            &placements,
            timeline,
            &mut MemorySource::new(&refs),
            &[size],
        );
        same(&got, &want).unwrap_or_else(|e| panic!("block {size}: {e}"));
    }
    // Irregular splits, including empty blocks.
    let got = render(
        &specs,
        &placements,
        timeline,
        &mut MemorySource::new(&refs),
        &[0, 1, 587, 588, 4095, 3, 10_000],
    );
    same(&got, &want).unwrap();
    // The pregap and the gap before track 5 are digital silence, the tail pad too.
    assert!(want[..88_200].iter().all(|f| *f == [0.0; 2]));
    let gap = placements[3].end as usize..placements[4].audio_start as usize;
    assert!(gap.len() >= 57_330);
    assert!(want[gap].iter().all(|f| *f == [0.0; 2]));
}

#[test]
fn rendering_never_allocates() {
    let specs = cd_album();
    let mut placements = [TrackPlacement::default(); 5];
    let timeline = compute_timeline(&specs, &TimelineOptions::cd(), &mut placements).unwrap();
    let audio: Vec<Vec<[f32; 2]>> = specs.iter().map(|s| track_audio(3, s.frames)).collect();
    let refs: Vec<&[[f32; 2]]> = audio.iter().map(Vec::as_slice).collect();
    let mut source = MemorySource::new(&refs);
    let mut renderer = AlbumRenderer::new(&specs, &placements, timeline);
    let mut block = vec![[0.0f32; 2]; 1000];
    assert!(lathe_testkit::alloc::is_installed());
    let (allocs, frames) = count_allocations(|| {
        let mut frames = 0;
        loop {
            let n = renderer.render(&mut source, &mut block);
            if n == 0 {
                break frames;
            }
            frames += n as u64;
        }
    });
    assert_eq!(allocs, 0);
    assert_eq!(frames, timeline.total_frames);
}

#[test]
fn seek_reset_and_end() {
    let specs = cd_album();
    let mut placements = [TrackPlacement::default(); 5];
    let timeline = compute_timeline(&specs, &TimelineOptions::cd(), &mut placements).unwrap();
    let audio: Vec<Vec<[f32; 2]>> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| track_audio(i as u64, s.frames))
        .collect();
    let refs: Vec<&[[f32; 2]]> = audio.iter().map(Vec::as_slice).collect();
    let mut source = MemorySource::new(&refs);
    let full = render(&specs, &placements, timeline, &mut source, &[4096]);
    let mut renderer = AlbumRenderer::new(&specs, &placements, timeline);
    let mut block = vec![[0.0f32; 2]; 3000];
    for at in [
        0u64,
        1,
        300_000,
        placements[2].audio_start - 5,
        timeline.total_frames - 10,
    ] {
        renderer.seek(at);
        assert_eq!(renderer.position(), at);
        let n = renderer.render(&mut source, &mut block);
        same(&block[..n], &full[at as usize..at as usize + n]).unwrap();
    }
    // Past the end: clamped, nothing rendered, the block is untouched.
    renderer.seek(u64::MAX);
    block[0] = [9.0; 2];
    assert_eq!(renderer.render(&mut source, &mut block), 0);
    assert_eq!(block[0], [9.0; 2]);
    // Empty blocks render nothing and do not move.
    renderer.reset();
    assert_eq!(renderer.render(&mut source, &mut block[..0]), 0);
    assert_eq!(renderer.position(), 0);
    assert_eq!(renderer.total_frames(), timeline.total_frames);
}

/// Constant (DC) tracks: the rendered output is the gain envelope itself.
struct Dc(Vec<f32>);

impl TrackSource<1> for Dc {
    fn read(&mut self, track: usize, _source_frame: u64, out: &mut [[f32; 1]]) {
        out.fill([self.0[track]]);
    }
}

fn render_mono(
    specs: &[TrackSpec],
    fs: u32,
    source: &mut impl TrackSource<1>,
) -> (Vec<f32>, Vec<TrackPlacement>) {
    let opts = TimelineOptions::new(fs);
    let mut placements = vec![TrackPlacement::default(); specs.len()];
    let timeline = compute_timeline(specs, &opts, &mut placements).unwrap();
    let mut renderer = AlbumRenderer::new(specs, &placements, timeline);
    let mut out = vec![[0.0f32; 1]; timeline.total_frames as usize];
    assert_eq!(
        renderer.render(source, &mut out) as u64,
        timeline.total_frames
    );
    (out.into_iter().map(|f| f[0]).collect(), placements)
}

#[test]
fn no_discontinuity_at_any_boundary() {
    let fs = 48_000;
    for c in FadeCurve::ALL {
        // Faded in from silence, crossfaded twice, a gap, faded out into silence.
        let fade = 480u64; // 10 ms: the shortest fade, so the largest allowed step
        let specs = [
            TrackSpec {
                frames: 5_000,
                fade_in_s: secs(fade, fs),
                fade_in_curve: c,
                crossfade_s: secs(1_000, fs),
                crossfade_curve: c,
                ..TrackSpec::default()
            },
            TrackSpec {
                frames: 4_000,
                crossfade_s: secs(fade, fs),
                crossfade_curve: c,
                ..TrackSpec::default()
            },
            TrackSpec {
                frames: 3_000,
                fade_out_s: secs(fade, fs),
                fade_out_curve: c,
                ..TrackSpec::default()
            },
            TrackSpec {
                frames: 3_000,
                gap_before_s: 0.01,
                fade_in_s: secs(fade, fs),
                fade_in_curve: c,
                fade_out_s: secs(2_000, fs),
                fade_out_curve: c,
                ..TrackSpec::default()
            },
        ];
        let (out, _) = render_mono(&specs, fs, &mut Dc(vec![1.0; 4]));
        let bound = c.max_slope() / fade as f64 + 1e-6;
        let mut prev = 0.0f32; // silence before the album
        for (t, &y) in out.iter().chain([0.0f32].iter()).enumerate() {
            let step = f64::from((y - prev).abs());
            // Equal power bulges by up to +3 dB inside a crossfade of correlated material;
            // its slope there is still bounded by the same curve slope on both sides.
            let bound = if c == FadeCurve::EqualPower {
                2.0 * bound
            } else {
                bound
            };
            assert!(step <= bound, "{c:?} frame {t}: step {step} > {bound}");
            prev = y;
        }
    }
}

#[test]
fn linear_and_s_curve_keep_correlated_amplitude() {
    // One recording split into two overlapping tracks and crossfaded back together at the
    // same place: with an amplitude-preserving law the original comes back.
    let fs = 48_000;
    let original: Vec<f32> = lathe_testkit::signals::sine(1000.0, 0.8, 0.3, f64::from(fs), 20_000);
    let overlap = 4_000usize;
    let a: Vec<[f32; 1]> = original[..12_000].iter().map(|&x| [x]).collect();
    let b: Vec<[f32; 1]> = original[12_000 - overlap..].iter().map(|&x| [x]).collect();
    for c in [FadeCurve::Linear, FadeCurve::SCurve, FadeCurve::EqualPower] {
        let specs = [
            TrackSpec {
                frames: a.len() as u64,
                crossfade_s: secs(overlap as u64, fs),
                crossfade_curve: c,
                ..TrackSpec::default()
            },
            TrackSpec::new(b.len() as u64),
        ];
        let tracks: [&[[f32; 1]]; 2] = [&a, &b];
        let (out, _) = render_mono(&specs, fs, &mut MemorySource::new(&tracks));
        assert_eq!(out.len(), original.len());
        let err = out
            .iter()
            .zip(&original)
            .map(|(y, x)| (y - x).abs())
            .fold(0.0f32, f32::max);
        if c == FadeCurve::EqualPower {
            // Equal power is the wrong law for correlated material: +3 dB in the middle.
            let mid = 12_000 - overlap / 2;
            let ratio = out[mid - 100..mid + 100]
                .iter()
                .zip(&original[mid - 100..mid + 100])
                .filter(|(_, x)| x.abs() > 0.5)
                .map(|(y, x)| y / x)
                .fold(0.0f32, f32::max);
            assert!((20.0 * ratio.log10() - 3.01).abs() < 0.05, "{ratio}");
        } else {
            assert!(err < 1e-6, "{c:?}: {err}");
        }
    }
}

/// Mean power of both channels in dB.
fn power_db(x: &[[f32; 2]]) -> f64 {
    let p: f64 = x
        .iter()
        .map(|f| f64::from(f[0]) * f64::from(f[0]) + f64::from(f[1]) * f64::from(f[1]))
        .sum::<f64>()
        / (2 * x.len()) as f64;
    10.0 * p.log10()
}

#[test]
fn equal_power_keeps_uncorrelated_power() {
    // Two independent noises of equal power, a 10 s crossfade, power in 1 s windows.
    let fs = 44_100u32;
    let len = 12 * fs as u64;
    let overlap = 10 * fs as u64;
    let a = track_audio(101, len);
    let b = track_audio(202, len);
    let tracks: [&[[f32; 2]]; 2] = [&a, &b];
    let reference = power_db(&a);
    for (c, expect_mid_db) in [(FadeCurve::EqualPower, 0.0), (FadeCurve::Linear, -3.01)] {
        let specs = [
            TrackSpec {
                frames: len,
                crossfade_s: secs(overlap, fs),
                crossfade_curve: c,
                ..TrackSpec::default()
            },
            TrackSpec::new(len),
        ];
        let mut placements = [TrackPlacement::default(); 2];
        let timeline =
            compute_timeline(&specs, &TimelineOptions::new(fs), &mut placements).unwrap();
        let out = render(
            &specs,
            &placements,
            timeline,
            &mut MemorySource::new(&tracks),
            &[4096],
        );
        let start = placements[1].audio_start as usize;
        let window = fs as usize;
        for w in 0..10 {
            let seg = &out[start + w * window..start + (w + 1) * window];
            let db = power_db(seg) - reference;
            // Linear dips most in the middle window (w = 4, 5); equal power never moves.
            let expect = if c == FadeCurve::EqualPower {
                0.0
            } else {
                let x = (w as f64 + 0.5) / 10.0;
                10.0 * (x * x + (1.0 - x) * (1.0 - x)).log10()
            };
            assert!(
                (db - expect).abs() < 0.1,
                "{c:?} window {w}: {db} dB, expected {expect}"
            );
            if w == 4 || w == 5 {
                assert!((expect - expect_mid_db).abs() < 0.2);
            }
        }
    }
}

/// A source that injects a NaN at one frame of track 0.
struct Poisoned<'a>(MemorySource<'a, 2>, u64);

impl TrackSource<2> for Poisoned<'_> {
    fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; 2]]) {
        self.0.read(track, source_frame, out);
        if track == 0 && (source_frame..source_frame + out.len() as u64).contains(&self.1) {
            out[(self.1 - source_frame) as usize] = [f32::NAN, f32::INFINITY];
        }
    }
}

#[test]
fn non_finite_input_stays_where_it_was() {
    let specs = cd_album();
    let mut placements = [TrackPlacement::default(); 5];
    let timeline = compute_timeline(&specs, &TimelineOptions::cd(), &mut placements).unwrap();
    let audio: Vec<Vec<[f32; 2]>> = specs.iter().map(|s| track_audio(5, s.frames)).collect();
    let refs: Vec<&[[f32; 2]]> = audio.iter().map(Vec::as_slice).collect();
    let bad = 1_000u64;
    let out = render(
        &specs,
        &placements,
        timeline,
        &mut Poisoned(MemorySource::new(&refs), bad),
        &[64],
    );
    let at = (placements[0].audio_start + bad) as usize;
    assert!(out[at][0].is_nan() && out[at][1].is_infinite());
    let finite = out
        .iter()
        .enumerate()
        .filter(|&(t, f)| t != at && f.iter().all(|s| s.is_finite()))
        .count();
    assert_eq!(finite, out.len() - 1);
}

#[test]
fn trims_read_the_right_source_frames() {
    // Source frame j of track i holds the value i * 1e5 + j: the output names its origin.
    struct Ramp;
    impl TrackSource<1> for Ramp {
        fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; 1]]) {
            for (j, f) in out.iter_mut().enumerate() {
                *f = [(track as u64 * 100_000 + source_frame + j as u64) as f32];
            }
        }
    }
    let fs = 48_000;
    let specs = [
        TrackSpec {
            frames: 1_000,
            trim_start_s: secs(100, fs),
            trim_end_s: secs(50, fs),
            ..TrackSpec::default()
        },
        TrackSpec {
            frames: 500,
            gap_before_s: secs(20, fs),
            trim_start_s: secs(7, fs),
            ..TrackSpec::default()
        },
    ];
    let (out, p) = render_mono(&specs, fs, &mut Ramp);
    assert_eq!(out.len(), 850 + 20 + 493);
    assert_eq!(out[0], 100.0);
    assert_eq!(out[849], 949.0);
    assert!(out[850..870].iter().all(|&x| x == 0.0));
    assert_eq!(out[870], 100_007.0);
    assert_eq!(out[870 + 492], 100_499.0);
    assert_eq!(p[1].source_start, 7);
}

/// The facade's example, verbatim in the parts that touch this crate: the shapes it relies on
/// keep compiling and the album comes out as long as the timeline says.
#[test]
fn facade_example_shapes() -> Result<(), Box<dyn std::error::Error>> {
    use lathe_album::{write_cue, CueSheet, CueTrack};

    struct Memory(Vec<Vec<[f32; 2]>>);
    impl TrackSource<2> for Memory {
        fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; 2]]) {
            let t = &self.0[track];
            for (i, f) in out.iter_mut().enumerate() {
                *f = t
                    .get(source_frame as usize + i)
                    .copied()
                    .unwrap_or([0.0; 2]);
            }
        }
    }
    let fs = 44_100.0;
    let mastered: Vec<Vec<[f32; 2]>> = (1..=3)
        .map(|seed| lathe_testkit::signals::music_like(fs, 8.0, -3.0, seed))
        .collect();
    let specs: Vec<TrackSpec> = mastered
        .iter()
        .enumerate()
        .map(|(i, t)| TrackSpec {
            frames: t.len() as u64,
            gap_before_s: if i == 1 { 2.0 } else { 0.0 },
            crossfade_s: if i == 1 { 1.5 } else { 0.0 },
            crossfade_curve: FadeCurve::EqualPower,
            fade_out_s: if i == 2 { 2.0 } else { 0.0 },
            ..TrackSpec::default()
        })
        .collect();
    let opts = TimelineOptions {
        sample_rate: fs as u32,
        cd: true,
        first_pregap_s: 2.0,
    };
    let mut placements = [TrackPlacement::default(); 3];
    let timeline = compute_timeline(&specs, &opts, &mut placements)?;
    let mut renderer = AlbumRenderer::new(&specs, &placements, timeline);
    let mut source = Memory(mastered);
    let mut album = Vec::new();
    let mut block = vec![[0.0f32; 2]; 4096];
    loop {
        let n = renderer.render(&mut source, &mut block);
        if n == 0 {
            break;
        }
        album.extend_from_slice(&block[..n]);
    }
    assert_eq!(album.len() as u64, timeline.total_frames);
    // 2 s + 8 s + 2 s + 8 s + 8 s − 1.5 s = 26.5 s = 1987.5 CD frames, padded to 1988.
    assert_eq!(timeline.total_frames, 1988 * 588);

    let titles = ["Opening", "Middle", "Closing"];
    let cue_tracks: Vec<CueTrack<'_>> = placements
        .iter()
        .enumerate()
        .map(|(i, p)| CueTrack {
            number: (i + 1) as u8,
            title: Some(titles[i]),
            performer: Some("Lathe"),
            isrc: None,
            pregap_start: p.pregap_start,
            start: p.start,
        })
        .collect();
    let sheet = CueSheet {
        file: "lathe-album.wav",
        title: Some("Demo album"),
        performer: Some("Lathe"),
        catalog: None,
        sample_rate: fs as u32,
        tracks: &cue_tracks,
    };
    let mut cue = String::new();
    write_cue(&sheet, &mut cue)?;
    assert!(
        cue.contains("INDEX 00 00:10:00\n    INDEX 01 00:12:00"),
        "{cue}"
    );
    assert!(
        cue.contains(
            "TRACK 03 AUDIO\n    TITLE \"Closing\"\n    PERFORMER \"Lathe\"\n    INDEX 01 00:18:37"
        ),
        "{cue}"
    );
    Ok(())
}
