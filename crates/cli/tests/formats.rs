//! Every input format, rate range and channel count, read through `lathe analyze --json` and
//! checked against the loudness a sine must read (BS.1770-4: a 997 Hz sine at A dBFS peak in
//! both channels of a stereo file reads A LUFS; in one channel, A - 3.01 LUFS).

mod common;

use common::*;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn analyze_one(path: &std::path::Path) -> serde_json::Value {
    let r = lathe(["analyze", "--json", path.to_str().unwrap()]);
    let out = r.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    json(lines[0])
}

fn lufs(v: &serde_json::Value) -> f64 {
    v["integrated_lufs"].as_f64().unwrap()
}

#[test]
fn wav_in_every_sample_format() {
    let d = TempDir::new("fmt");
    let rate = 48_000;
    let x = sine(997.0, 0.1, rate, 2, 3 * rate as usize);
    for (enc, ext) in [
        (Enc::I16, None),
        (Enc::I24, None),
        (Enc::I32, None),
        (Enc::F32, None),
        (Enc::F64, None),
        (Enc::I24, Some(0x3)),
        (Enc::F32, Some(0x3)),
        (Enc::F64, Some(0x3)),
    ] {
        let p = d.join(&format!("{enc:?}-{}.wav", ext.is_some()));
        write_wav(
            &p,
            WavHeader {
                channels: 2,
                rate,
                enc,
                extensible: ext,
            },
            &x,
        );
        let v = analyze_one(&p);
        assert_eq!(v["sample_rate"], 48_000);
        assert_eq!(v["channels"], 2);
        assert!((v["duration_s"].as_f64().unwrap() - 3.0).abs() < 1e-9);
        assert!((lufs(&v) + 20.0).abs() < 0.1, "{enc:?}: {v}");
        assert!(
            (v["sample_peak_dbfs"].as_f64().unwrap() + 20.0).abs() < 0.01,
            "{v}"
        );
        assert!(
            (v["correlation"].as_f64().unwrap() - 1.0).abs() < 1e-3,
            "{v}"
        );
        let fmt = v["format"].as_str().unwrap();
        let want = match enc {
            Enc::F32 => "32-bit float",
            Enc::F64 => "64-bit float",
            _ => "integer PCM",
        };
        assert!(fmt.starts_with("WAV") && fmt.contains(want), "{fmt}");
    }
}

#[test]
fn aiff_and_flac() {
    let d = TempDir::new("fmt2");
    let rate = 44_100;
    let x = sine(997.0, 0.1, rate, 2, 3 * rate as usize);
    for bits in [16u16, 24] {
        let p = d.join(&format!("a{bits}.aiff"));
        std::fs::write(&p, aiff_bytes(2, rate, bits, &x)).unwrap();
        let v = analyze_one(&p);
        assert!((lufs(&v) + 20.0).abs() < 0.1, "{v}");
        assert_eq!(v["sample_rate"], 44_100);
        assert!(v["format"].as_str().unwrap().starts_with("AIFF"));

        let p = d.join(&format!("f{bits}.flac"));
        std::fs::write(&p, flac_bytes(2, rate, u32::from(bits), &x)).unwrap();
        let v = analyze_one(&p);
        assert!((lufs(&v) + 20.0).abs() < 0.1, "{v}");
        assert!(
            (v["duration_s"].as_f64().unwrap() - 3.0).abs() < 1e-9,
            "{v}"
        );
        assert!(v["format"].as_str().unwrap().starts_with("FLAC"));
    }
}

#[test]
fn mp3_and_ogg_vorbis() {
    // 3 s of a 997 Hz sine at -20 dBFS, mono 22.05 kHz (see tests/data/make-fixtures.py).
    for (name, tol) in [("sine-997hz-m20.mp3", 0.3), ("sine-997hz-m20.ogg", 0.3)] {
        let v = analyze_one(&data(name));
        assert_eq!(v["channels"], 1);
        assert_eq!(v["sample_rate"], 22_050);
        // Gapless decoding: exactly the 66 150 frames that were encoded.
        assert!(
            (v["duration_s"].as_f64().unwrap() - 3.0).abs() < 1e-9,
            "{v}"
        );
        assert!((lufs(&v) + 23.01).abs() < tol, "{name}: {v}");
        assert!(v["correlation"].is_null(), "mono has no correlation");
    }
}

#[test]
fn rates_up_to_384k_and_up_to_8_channels() {
    let d = TempDir::new("rates");
    for rate in [11_025u32, 22_050, 96_000, 192_000, 384_000] {
        let x = sine(997.0, 0.1, rate, 2, 2 * rate as usize);
        let p = d.join(&format!("r{rate}.wav"));
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
        let v = analyze_one(&p);
        assert_eq!(v["sample_rate"], rate);
        assert!((lufs(&v) + 20.0).abs() < 0.15, "{rate}: {v}");
    }
    // 1 to 8 channels (5.1 and 7.1 with their masks): BS.1770 sums L, R, C at weight 1.
    for (ch, mask) in [
        (1u16, None),
        (3, Some(0x7)),
        (4, Some(0x33)),
        (6, Some(0x3F)),
        (8, Some(0x63F)),
    ] {
        let rate = 48_000;
        let mut x = Vec::new();
        let tone = sine(997.0, 0.1, rate, 1, 2 * rate as usize);
        for s in &tone {
            // The tone on the first channel only.
            x.push(*s);
            x.extend(std::iter::repeat_n(0.0, usize::from(ch) - 1));
        }
        let p = d.join(&format!("c{ch}.wav"));
        write_wav(
            &p,
            WavHeader {
                channels: ch,
                rate,
                enc: Enc::I24,
                extensible: mask,
            },
            &x,
        );
        let v = analyze_one(&p);
        assert_eq!(v["channels"], ch);
        assert!((lufs(&v) + 23.01).abs() < 0.1, "{ch} channels: {v}");
    }
}

#[test]
fn analyzes_8k() {
    let d = TempDir::new("8k");
    let x = sine(997.0, 0.1, 8_000, 2, 16_000);
    let p = d.join("r8000.wav");
    write_wav(
        &p,
        WavHeader {
            channels: 2,
            rate: 8_000,
            enc: Enc::I16,
            extensible: None,
        },
        &x,
    );
    let v = analyze_one(&p);
    // At 8 kHz the bilinear K-weighting (as BS.1770 and libebur128 design it) warps the shelf:
    // a 1 kHz tone reads about 0.2 dB low there (documented in lathe-loudness).
    assert!((lufs(&v) + 20.2).abs() < 0.1, "{v}");
}

#[test]
fn silence_reads_null_and_tables_are_readable() {
    let d = TempDir::new("silence");
    let p = d.join("silent.wav");
    write_wav(
        &p,
        WavHeader {
            channels: 2,
            rate: 48_000,
            enc: Enc::I16,
            extensible: None,
        },
        &vec![0.0; 96_000],
    );
    let q = d.join("tone.wav");
    write_wav(
        &q,
        WavHeader {
            channels: 2,
            rate: 48_000,
            enc: Enc::I16,
            extensible: None,
        },
        &sine(997.0, 0.1, 48_000, 2, 96_000),
    );
    let r = lathe([
        "analyze",
        "--json",
        p.to_str().unwrap(),
        q.to_str().unwrap(),
    ]);
    let lines: Vec<&str> = r.ok().lines().collect();
    assert_eq!(lines.len(), 2, "one line per file, in order");
    let a = json(lines[0]);
    let b = json(lines[1]);
    assert_eq!(a["file"], p.to_str().unwrap());
    assert_eq!(b["file"], q.to_str().unwrap());
    for key in [
        "integrated_lufs",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "plr_db",
    ] {
        assert!(a[key].is_null(), "{key}: {a}");
    }
    assert!(
        a["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "silent"),
        "{a}"
    );
    assert!(b["problems"].as_array().unwrap().is_empty(), "{b}");

    let t = lathe(["analyze", p.to_str().unwrap(), q.to_str().unwrap()]);
    let out = t.ok();
    assert!(out.lines().next().unwrap().starts_with("file"), "{out}");
    assert!(out.contains("tone.wav") && out.contains("-20.0"), "{out}");
    assert!(out.contains("silent:"), "{out}");
}

#[test]
fn problems_are_reported() {
    let d = TempDir::new("problems");
    let rate = 48_000u32;
    // Clipped, DC-shifted, polarity-inverted stereo.
    let mut x = Vec::new();
    for n in 0..3 * rate as usize {
        let s = (1.5 * (2.0 * std::f64::consts::PI * 100.0 * n as f64 / f64::from(rate)).sin())
            .clamp(-1.0, 1.0) as f32;
        x.push(0.8 * s + 0.05);
        x.push(-0.8 * s + 0.05);
    }
    let p = d.join("bad.wav");
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
    let v = analyze_one(&p);
    let probs: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(probs.contains(&"dc-offset"), "{probs:?}");
    assert!(probs.contains(&"inverted-polarity"), "{probs:?}");
    // With a target, loudness problems appear too.
    let r = lathe([
        "analyze",
        "--json",
        "--target",
        "ebu-r128",
        p.to_str().unwrap(),
    ]);
    let v = json(r.ok().trim());
    assert!(
        v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "too-loud"),
        "{v}"
    );
}

#[test]
fn analyze_plot_is_a_png() {
    let d = TempDir::new("aplot");
    let p = d.join("tone.wav");
    write_wav(
        &p,
        WavHeader {
            channels: 2,
            rate: 48_000,
            enc: Enc::I16,
            extensible: None,
        },
        &sine(440.0, 0.3, 48_000, 2, 5 * 48_000),
    );
    let png = d.join("plot.png");
    lathe([
        "analyze",
        p.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    // The plot is an output: not replaced without --force.
    let r = lathe([
        "analyze",
        p.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(r.fails_on(&png).contains("--force"));
}
