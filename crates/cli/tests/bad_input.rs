//! Bad input ends with one clear line `error: FILE: reason` and exit code 1 — never a
//! panic, never a hang, never a partial output — and usage errors exit with 2.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn good_wav() -> Vec<u8> {
    wav_bytes(
        WavHeader {
            channels: 2,
            rate: 48_000,
            enc: Enc::I16,
            extensible: None,
        },
        &sine(440.0, 0.3, 48_000, 2, 48_000),
    )
}

fn set(mut b: Vec<u8>, at: usize, bytes: &[u8]) -> Vec<u8> {
    b[at..at + bytes.len()].copy_from_slice(bytes);
    b
}

/// Every bad file with a word its error must contain.
fn bad_files(d: &TempDir) -> Vec<(PathBuf, &'static str)> {
    let mut v = Vec::new();
    let mut put = |name: &str, bytes: Vec<u8>, want: &'static str| {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        v.push((p, want));
    };
    let good = good_wav();
    put("empty.wav", Vec::new(), "empty");
    put(
        "text.wav",
        b"This is a text file, not audio.\n".repeat(20),
        "not an audio file",
    );
    put(
        "png.wav",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        "not an audio file",
    );
    put(
        "riff-avi.wav",
        set(good.clone(), 8, b"AVI "),
        "not an audio file",
    );
    put("header-only.wav", good[..30].to_vec(), "truncated");
    put(
        "truncated.wav",
        good[..good.len() / 2].to_vec(),
        "truncated",
    );
    put(
        "zero-frames.wav",
        wav_bytes(
            WavHeader {
                channels: 2,
                rate: 48_000,
                enc: Enc::I16,
                extensible: None,
            },
            &[],
        ),
        "no audio",
    );
    let mut nan = vec![0.1f32; 2_000];
    nan[1_001] = f32::NAN;
    put(
        "nan.wav",
        wav_bytes(
            WavHeader {
                channels: 2,
                rate: 48_000,
                enc: Enc::F32,
                extensible: None,
            },
            &nan,
        ),
        "NaN",
    );
    let mut inf = vec![0.1f32; 2_000];
    inf[7] = f32::INFINITY;
    put(
        "inf.wav",
        wav_bytes(
            WavHeader {
                channels: 1,
                rate: 48_000,
                enc: Enc::F64,
                extensible: None,
            },
            &inf,
        ),
        "infinite",
    );
    // Absurd header values.
    put(
        "rate-0.wav",
        set(good.clone(), 24, &0u32.to_le_bytes()),
        "sample rate 0 Hz",
    );
    put(
        "rate-huge.wav",
        set(good.clone(), 24, &4_000_000_000u32.to_le_bytes()),
        "sample rate",
    );
    put(
        "rate-low.wav",
        set(good.clone(), 24, &4_000u32.to_le_bytes()),
        "8000 ..= 384000",
    );
    put(
        "channels-0.wav",
        set(good.clone(), 22, &0u16.to_le_bytes()),
        "0 channels",
    );
    put(
        "channels-9.wav",
        set(good.clone(), 22, &9u16.to_le_bytes()),
        "9 channels",
    );
    put(
        "channels-max.wav",
        set(good.clone(), 22, &u16::MAX.to_le_bytes()),
        "65535 channels",
    );
    put(
        "bits-7.wav",
        set(good.clone(), 34, &7u16.to_le_bytes()),
        "7-bit",
    );
    put(
        "bits-0.wav",
        set(good.clone(), 34, &0u16.to_le_bytes()),
        "0-bit",
    );
    put(
        "align-0.wav",
        set(good.clone(), 32, &0u16.to_le_bytes()),
        "block align 0",
    );
    put(
        "align-wrong.wav",
        set(good.clone(), 32, &3u16.to_le_bytes()),
        "block align 3",
    );
    put(
        "fmt-short.wav",
        set(good.clone(), 16, &8u32.to_le_bytes()),
        "fmt chunk",
    );
    put(
        "data-huge.wav",
        set(good.clone(), 40, &0xFFFF_FFF0u32.to_le_bytes()),
        "chunk length",
    );
    let huge = set(
        set(good.clone(), 40, &0x7FFF_FFF0u32.to_le_bytes()),
        4,
        &0xFFFF_FFF0u32.to_le_bytes(),
    );
    put("data-and-riff-huge.wav", huge, "truncated");
    // A header that announces 100 s over 1 s of audio: long enough for the mastering
    // pre-scan, whose excerpts then fall past the data.
    let long = 100 * 48_000 * 4u32;
    let claims_long = set(
        set(good.clone(), 40, &long.to_le_bytes()),
        4,
        &(long + 36).to_le_bytes(),
    );
    put("claims-100-s.wav", claims_long, "truncated");
    put(
        "riff-tiny.wav",
        set(good.clone(), 4, &4u32.to_le_bytes()),
        "",
    );
    // A codec Lathe does not read: MPEG audio inside WAV, Opus in Ogg.
    put(
        "mpeg-in-wav.wav",
        set(good.clone(), 20, &0x0050u16.to_le_bytes()),
        "unsupported",
    );
    let opus = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sine-997hz-m20.opus"),
    )
    .unwrap();
    put("opus.ogg", opus, "unsupported codec: Opus");
    // Broken compressed streams.
    let flac = flac_bytes(2, 44_100, 16, &sine(440.0, 0.3, 44_100, 2, 20_000));
    put("flac-truncated.flac", flac[..flac.len() / 2].to_vec(), "");
    put(
        "flac-rate-0.flac",
        set(flac.clone(), 18, &[0, 0, 0x02]),
        "sample rate 0 Hz",
    );
    let aiff = aiff_bytes(2, 44_100, 16, &sine(440.0, 0.3, 44_100, 2, 2_000));
    put(
        "aiff-channels-0.aiff",
        set(aiff.clone(), 20, &0u16.to_be_bytes()),
        "0 channels",
    );
    put("aiff-rate-0.aiff", set(aiff, 28, &[0; 10]), "sample rate");
    v
}

#[test]
fn every_bad_input_is_one_clear_error_line() {
    let d = TempDir::new("bad");
    for (path, want) in bad_files(&d) {
        let r = lathe(["analyze", s(&path)]);
        let reason = r.fails_on(&path);
        assert!(
            reason.contains(want),
            "{}: {reason:?} lacks {want:?}",
            path.display()
        );
        assert!(r.stdout.is_empty(), "{}: {}", path.display(), r.stdout);
    }
}

#[test]
fn bad_inputs_leave_no_output_behind() {
    let d = TempDir::new("bad-master");
    let files = bad_files(&d);
    let out = TempDir::new("bad-out");
    for (i, (path, _)) in files.iter().enumerate() {
        let o = out.join(&format!("o{i}.wav"));
        let r = lathe(["master", s(path), "-o", s(&o)]);
        r.fails_on(path);
        let r = lathe([
            "process",
            s(path),
            "-o",
            s(&o),
            "--chain",
            s(&write_gain_chain(&out)),
        ]);
        r.fails_on(path);
        assert!(
            out.files().iter().all(|f| f == "gain.toml"),
            "{:?}",
            out.files()
        );
    }
}

fn write_gain_chain(d: &TempDir) -> PathBuf {
    let p = d.join("gain.toml");
    std::fs::write(&p, "[[stage]]\ntype = \"gain\"\n").unwrap();
    p
}

#[test]
fn missing_files_and_directories() {
    let d = TempDir::new("missing");
    let missing = d.join("nope.wav");
    assert!(lathe(["analyze", s(&missing)])
        .fails_on(&missing)
        .contains("no such file"));
    let dir = d.join("adir");
    std::fs::create_dir(&dir).unwrap();
    assert!(lathe(["analyze", s(&dir)])
        .fails_on(&dir)
        .contains("directory"));
    // Output into a directory that does not exist.
    let good = d.join("good.wav");
    std::fs::write(&good, good_wav()).unwrap();
    let out = d.join("no-such-dir").join("out.wav");
    assert!(lathe(["master", s(&good), "-o", s(&out)])
        .fails_on(&out)
        .contains("does not exist"));
    // A good and a bad file: the good one is reported, the run fails.
    let r = lathe(["analyze", "--json", s(&good), s(&missing)]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.lines().count(), 1);
    assert_eq!(r.stderr.lines().count(), 1);
}

#[test]
fn mastering_refuses_what_it_cannot_master() {
    let d = TempDir::new("cannot");
    let six = d.join("six.wav");
    write_wav(
        &six,
        WavHeader {
            channels: 6,
            rate: 48_000,
            enc: Enc::I16,
            extensible: Some(0x3F),
        },
        &sine(440.0, 0.3, 48_000, 6, 48_000),
    );
    let out = d.join("out.wav");
    assert!(lathe(["master", s(&six), "-o", s(&out)])
        .fails_on(&six)
        .contains("mono or stereo"));
    // But it can be analysed.
    lathe(["analyze", s(&six)]).ok();
    let silent = d.join("silent.wav");
    write_wav(
        &silent,
        WavHeader {
            channels: 1,
            rate: 48_000,
            enc: Enc::I16,
            extensible: None,
        },
        &vec![0.0; 48_000],
    );
    assert!(lathe(["master", s(&silent), "-o", s(&out)])
        .fails_on(&silent)
        .contains("silent"));
    assert!(!out.exists());
}

#[test]
fn exit_codes() {
    let d = TempDir::new("codes");
    let good = d.join("good.wav");
    std::fs::write(&good, good_wav()).unwrap();
    assert_eq!(lathe(["--help"]).code, 0);
    assert_eq!(lathe(["--version"]).code, 0);
    for cmd in [
        "analyze", "master", "process", "album", "targets", "presets", "demo",
    ] {
        let r = lathe([cmd, "--help"]);
        assert_eq!(r.code, 0, "{cmd}");
        assert!(r.stdout.contains("Usage: lathe"), "{cmd}: {}", r.stdout);
    }
    assert!(lathe(["master", "--help"])
        .stdout
        .contains("default: streaming"));
    assert!(lathe(["master", "--help"])
        .stdout
        .contains("default: spotify"));
    for bad in [
        vec![],
        vec!["frobnicate"],
        vec!["analyze"],
        vec!["master", s(&good)],
        vec!["master", s(&good), "-o", "x.wav", "--bits", "12"],
        vec!["master", s(&good), "-o", "x.wav", "--target-lufs", "loud"],
        vec!["master", s(&good), "-o", "x.wav", "--sample-rate", "500000"],
        vec!["master", s(&good), s(&good), "-o", "x.wav"],
        vec!["process", s(&good), "-o", "x.wav"],
        vec!["album", s(&good), "-o", "x.wav", "--loudness", "sometimes"],
        vec!["analyze", s(&good), "--no-such-flag"],
    ] {
        let r = lathe(&bad);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert!(!r.stderr.is_empty());
    }
    assert_eq!(lathe(["analyze", s(&good)]).code, 0);
    assert_eq!(lathe(["analyze", s(&d.join("missing.wav"))]).code, 1);
    // Unknown names are processing errors naming what is known.
    let r = lathe([
        "master",
        s(&good),
        "-o",
        s(&d.join("o.wav")),
        "--target",
        "moon",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown target `moon`") && r.stderr.contains("spotify"),
        "{}",
        r.stderr
    );
    let r = lathe([
        "master",
        s(&good),
        "-o",
        s(&d.join("o.wav")),
        "--preset",
        "shiny",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unknown preset `shiny`"), "{}", r.stderr);
}

#[test]
fn listings() {
    let t = lathe(["targets"]);
    assert!(
        t.ok().contains("spotify") && t.stdout.contains("ebu-r128") && t.stdout.contains("-23.0")
    );
    let p = lathe(["presets"]);
    assert!(p.ok().contains("streaming (default)") && p.stdout.contains("limiter"));
}
