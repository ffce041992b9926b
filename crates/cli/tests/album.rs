//! `lathe album`: the audio lands where the CUE sheet says, track files are the album cut at
//! those positions, Red Book rules, album loudness.

mod common;

use common::*;
use std::path::Path;

/// INDEX 00 / INDEX 01 positions of each track, in CD frames (1/75 s).
fn cue_indexes(cue: &str) -> Vec<(Option<u64>, u64)> {
    let msf = |s: &str| {
        let p: Vec<u64> = s.split(':').map(|x| x.parse().unwrap()).collect();
        (p[0] * 60 + p[1]) * 75 + p[2]
    };
    let mut out: Vec<(Option<u64>, u64)> = Vec::new();
    let mut pregap = None;
    for line in cue.lines().map(str::trim) {
        if let Some(x) = line.strip_prefix("INDEX 00 ") {
            pregap = Some(msf(x));
        } else if let Some(x) = line.strip_prefix("INDEX 01 ") {
            out.push((pregap.take(), msf(x)));
        }
    }
    out
}

/// A track whose every sample is non-zero: a DC offset plus a sine, so its first frame is
/// visible in the album.
fn track(rate: u32, seconds: f64, freq: f64, level: f32, channels: usize) -> Vec<f32> {
    let n = (seconds * f64::from(rate)).round() as usize;
    let mut v = Vec::with_capacity(n * channels);
    for i in 0..n {
        let x = level
            * (0.5
                + 0.4
                    * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()
                        as f32);
        for _ in 0..channels {
            v.push(x);
        }
    }
    v
}

fn first_nonzero(frames: &[[f32; 2]], from: usize) -> usize {
    from + frames[from..].iter().position(|f| f[0] != 0.0).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn audio_sits_where_the_cue_sheet_says_and_track_files_cut_the_album() {
    let d = TempDir::new("album");
    let rate = 48_000u32;
    // Lengths that are whole CD frames, so every position is exact in MSF.
    let lengths = [2.0, 1.6, 2.4];
    let mut inputs = Vec::new();
    for (i, len) in lengths.iter().enumerate() {
        let p = d.join(&format!("t{i}.wav"));
        let x = track(rate, *len, 200.0 * (i + 1) as f64, 0.5, 2);
        write_wav(
            &p,
            WavHeader {
                channels: 2,
                rate,
                enc: Enc::F32,
                extensible: None,
            },
            &x,
        );
        inputs.push(p);
    }
    let album = d.join("album.wav");
    let tracks = d.join("tracks");
    let mut args: Vec<String> = vec!["album".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend([
        "-o".into(),
        album.display().to_string(),
        "--gap".into(),
        "1".into(),
        "--tracks-dir".into(),
        tracks.display().to_string(),
    ]);
    lathe(&args).ok();
    let cue = std::fs::read_to_string(d.join("album.cue")).unwrap();
    assert!(cue.contains("FILE \"album.wav\" WAVE"), "{cue}");
    let idx = cue_indexes(&cue);
    assert_eq!(idx.len(), 3);
    let (spec, samples) = read_wav(&album);
    assert_eq!(
        spec.sample_format,
        hound::SampleFormat::Float,
        "float inputs give a float album"
    );
    let frames = stereo(&samples);
    // 2 + 1 + 1.6 + 1 + 2.4 s.
    assert_eq!(frames.len(), 8 * rate as usize);
    let per_cd_frame = rate as usize / 75;
    let mut expected_start = 0usize;
    for (i, (pregap, start)) in idx.iter().enumerate() {
        let at = *start as usize * per_cd_frame;
        assert_eq!(at, expected_start, "track {i} INDEX 01");
        assert_eq!(
            first_nonzero(&frames, pregap.map_or(0, |p| p as usize * per_cd_frame)),
            at,
            "track {i} audio"
        );
        if let Some(p) = pregap {
            // INDEX 00 is the end of the previous track: silence from there to INDEX 01.
            let p = *p as usize * per_cd_frame;
            assert!(frames[p..at].iter().all(|f| f == &[0.0, 0.0]));
            assert_eq!(at - p, rate as usize, "a 1 s gap");
        }
        // The track's samples, unchanged.
        let (_, original) = read_wav(&inputs[i]);
        let orig = stereo(&original);
        assert_eq!(&frames[at..at + orig.len()], &orig[..], "track {i} content");
        expected_start = at + orig.len() + rate as usize;
    }
    // Track files: the album cut at the INDEX 01 positions, gaps kept at the end of a track.
    let mut joined = Vec::new();
    for (i, name) in ["01 - t0.wav", "02 - t1.wav", "03 - t2.wav"]
        .iter()
        .enumerate()
    {
        let (_, t) = read_wav(&tracks.join(name));
        let t = stereo(&t);
        let from = idx[i].1 as usize * per_cd_frame;
        assert_eq!(&frames[from..from + t.len()], &t[..], "{name}");
        joined.extend(t);
    }
    assert_eq!(joined, frames);
}

#[test]
fn red_book_cd_album() {
    let d = TempDir::new("cd");
    let rate = 44_100u32;
    let a = d.join("a.wav");
    let b = d.join("b-mono.wav");
    let c = d.join("c48k.wav");
    write_wav(
        &a,
        WavHeader {
            channels: 2,
            rate,
            enc: Enc::I24,
            extensible: None,
        },
        &track(rate, 4.51, 300.0, 0.5, 2),
    );
    write_wav(
        &b,
        WavHeader {
            channels: 1,
            rate,
            enc: Enc::I16,
            extensible: None,
        },
        &track(rate, 5.003, 500.0, 0.5, 1),
    );
    write_wav(
        &c,
        WavHeader {
            channels: 2,
            rate: 48_000,
            enc: Enc::F32,
            extensible: None,
        },
        &track(48_000, 4.2, 700.0, 0.5, 2),
    );
    let album = d.join("cd.wav");
    let cue = d.join("disc.cue");
    lathe([
        "album",
        s(&a),
        s(&b),
        s(&c),
        "-o",
        s(&album),
        "--cd",
        "--cue",
        s(&cue),
        "--gap",
        "2",
    ])
    .ok();
    let (spec, samples) = read_wav(&album);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (44_100, 2, 16)
    );
    let frames = stereo(&samples);
    assert_eq!(frames.len() % 588, 0, "whole CD frames");
    let idx = cue_indexes(&std::fs::read_to_string(&cue).unwrap());
    assert_eq!(idx[0], (Some(0), 150), "2 s pregap before track 1");
    for (i, (_, start)) in idx.iter().enumerate() {
        let at = *start as usize * 588;
        // Gaps round up, so every track starts exactly on its INDEX 01 frame.
        assert!(
            frames[at - 1] == [0.0, 0.0] && frames[at] != [0.0, 0.0],
            "track {i} at {at}"
        );
    }
    // The mono track plays on both channels (each dithered on its own).
    let mid = idx[1].1 as usize * 588 + 1000;
    assert!((frames[mid][0] - frames[mid][1]).abs() <= 3.0 / 32_768.0);
    // Too short for a CD: a clear error, nothing written.
    let short = d.join("short.wav");
    write_wav(
        &short,
        WavHeader {
            channels: 2,
            rate,
            enc: Enc::I16,
            extensible: None,
        },
        &track(rate, 2.0, 300.0, 0.5, 2),
    );
    let out = d.join("bad.wav");
    let r = lathe(["album", s(&a), s(&short), "-o", s(&out), "--cd"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: album: ") && r.stderr.lines().count() == 1,
        "{}",
        r.stderr
    );
    assert!(!out.exists() && !d.join("bad.cue").exists());
}

#[test]
fn album_loudness_and_crossfades() {
    let d = TempDir::new("aloud");
    let rate = 48_000u32;
    let mut inputs = Vec::new();
    for (i, level) in [0.05f32, 0.2, 0.1].iter().enumerate() {
        let p = d.join(&format!("s{i}.wav"));
        write_wav(
            &p,
            WavHeader {
                channels: 2,
                rate,
                enc: Enc::F32,
                extensible: None,
            },
            &sine(997.0, f64::from(*level), rate, 2, 4 * rate as usize),
        );
        inputs.push(p.display().to_string());
    }
    // Track mode: every track to the target (sines at these levels need no limiting).
    let album = d.join("track-mode.wav");
    let tracks = d.join("t");
    let mut args: Vec<String> = vec!["album".into()];
    args.extend(inputs.iter().cloned());
    args.extend(
        [
            "-o",
            s(&album),
            "--loudness",
            "track",
            "--target-lufs",
            "-20",
            "--tracks-dir",
            s(&tracks),
        ]
        .map(String::from),
    );
    lathe(&args).ok();
    for name in ["01 - s0.wav", "02 - s1.wav", "03 - s2.wav"] {
        let (_, t) = read_wav(&tracks.join(name));
        // The file holds the track and the gap after it: measure the track.
        let (lufs, _) = measure(48_000.0, &stereo(&t)[..4 * rate as usize]);
        assert!((lufs + 20.0).abs() < 0.1, "{name}: {lufs}");
    }
    // Album mode: one gain; the album as a whole meets the target, relations kept.
    let album2 = d.join("album-mode.wav");
    let mut args: Vec<String> = vec!["album".into()];
    args.extend(inputs.iter().cloned());
    // Gapless, so that the album measures as the merge of the tracks' meters.
    args.extend(
        [
            "-o",
            s(&album2),
            "--loudness",
            "album",
            "--target-lufs",
            "-20",
            "--gap",
            "0",
        ]
        .map(String::from),
    );
    lathe(&args).ok();
    let frames = stereo(&read_wav(&album2).1);
    let (lufs, tp) = measure(48_000.0, &frames);
    assert!((lufs + 20.0).abs() < 0.1, "album {lufs}");
    assert!(tp <= -1.0, "{tp}");
    let n = 4 * rate as usize;
    let gap = 0;
    let track_lufs = |k: usize| measure(48_000.0, &frames[k * (n + gap)..k * (n + gap) + n]).0;
    // Mixed at 0.05, 0.2, 0.1: 12.04 dB and 6.02 dB apart, and still so.
    assert!((track_lufs(1) - track_lufs(0) - 12.04).abs() < 0.05);
    assert!((track_lufs(1) - track_lufs(2) - 6.02).abs() < 0.05);

    // Crossfades and album fades.
    let album3 = d.join("faded.wav");
    let mut args: Vec<String> = vec!["album".into()];
    args.extend(inputs.iter().cloned());
    args.extend(
        [
            "-o",
            s(&album3),
            "--crossfade",
            "0.5",
            "--fade-in",
            "0.2",
            "--fade-out",
            "1",
        ]
        .map(String::from),
    );
    lathe(&args).ok();
    let frames = stereo(&read_wav(&album3).1);
    // 3 x 4 s minus two 0.5 s crossfades.
    assert_eq!(frames.len(), 11 * rate as usize);
    assert_eq!(frames[0], [0.0, 0.0], "fade-in starts at silence");
    assert!(
        frames[frames.len() - 1][0].abs() < 1e-3,
        "fade-out ends near silence"
    );
    // Options that cannot go together are usage errors.
    let r = lathe([
        "album",
        &inputs[0],
        "-o",
        s(&d.join("x.wav")),
        "--gap",
        "1",
        "--crossfade",
        "1",
    ]);
    assert_eq!(r.code, 2);
    let r = lathe([
        "album",
        &inputs[0],
        "-o",
        s(&d.join("x.wav")),
        "--target",
        "spotify",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--loudness or --master"), "{}", r.stderr);
}

#[test]
fn mastered_album() {
    let d = TempDir::new("amaster");
    let rate = 48_000u32;
    let mut args: Vec<String> = vec!["album".into()];
    for k in 0..2u64 {
        let p = d.join(&format!("m{k}.wav"));
        let m = lathe_testkit::signals::music_like(f64::from(rate), 5.0, -8.0 - 8.0 * k as f64, k);
        write_stereo(&p, rate, Enc::I24, &m);
        args.push(p.display().to_string());
    }
    let album = d.join("mastered.wav");
    args.extend(
        [
            "-o",
            s(&album),
            "--master",
            "--preset",
            "streaming",
            "--gap",
            "0.5",
        ]
        .map(String::from),
    );
    let out = lathe(&args).ok().to_string();
    assert!(out.contains("target -14 LUFS"), "{out}");
    let (spec, a) = read_wav(&album);
    assert_eq!(spec.bits_per_sample, 24);
    let (lufs, tp) = measure(48_000.0, &stereo(&a));
    assert!((lufs + 14.0).abs() < 1.0, "album {lufs}");
    assert!(tp <= -1.0 + 0.05, "{tp}");
}
