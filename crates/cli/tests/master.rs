//! `lathe master` end to end: the output meets the target by the project's own meter, keeps
//! the input's length and alignment, and files are handled safely.

mod common;

use common::*;
use lathe_testkit::analysis::true_peak_8x_db;
use lathe_testkit::signals::music_like;

const RATE: u32 = 48_000;

fn mix(seconds: f64, peak_db: f64, seed: u64) -> Vec<[f32; 2]> {
    music_like(f64::from(RATE), seconds, peak_db, seed)
}

/// Lag (in frames, within ±`max`) at which `b` best matches `a` (normalised correlation).
fn best_lag(a: &[[f32; 2]], b: &[[f32; 2]], max: i64) -> i64 {
    let n = a.len() as i64;
    let mut best = (0, f64::MIN);
    for lag in -max..=max {
        let mut s = 0.0;
        for i in max..n - max {
            let j = i + lag;
            s += f64::from(a[i as usize][0]) * f64::from(b[j as usize][0]);
        }
        if s > best.1 {
            best = (lag, s);
        }
    }
    best.0
}

#[test]
fn masters_to_minus_14_lufs_and_minus_1_dbtp() {
    let d = TempDir::new("master");
    for (i, (peak_db, enc)) in [(-12.0, Enc::I24), (-1.0, Enc::F32), (-30.0, Enc::I16)]
        .into_iter()
        .enumerate()
    {
        let input = mix(6.0, peak_db, 7 + i as u64);
        let src = d.join(&format!("in{i}.wav"));
        let out = d.join(&format!("out{i}.wav"));
        write_stereo(&src, RATE, enc, &input);
        let r = lathe([
            "master",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target-lufs",
            "-14",
            "--ceiling-dbtp",
            "-1",
            "--bits",
            "32f",
        ]);
        let text = r.ok();
        assert!(text.contains("-14.0") || text.contains("-13.9"), "{text}");
        let (spec, samples) = read_wav(&out);
        assert_eq!(spec.sample_rate, RATE);
        assert_eq!(spec.channels, 2);
        let output = stereo(&samples);
        assert_eq!(output.len(), input.len(), "exact length");
        let (lufs, tp) = measure(f64::from(RATE), &output);
        assert!((lufs + 14.0).abs() <= 0.1, "case {i}: {lufs} LUFS");
        assert!(tp <= -1.0, "case {i}: true peak {tp} dBTP");
        // An independent 8x oversampled check of each channel.
        for ch in 0..2 {
            let x: Vec<f32> = output.iter().map(|f| f[ch]).collect();
            let tp8 = true_peak_8x_db(&x);
            assert!(tp8 <= -0.95, "case {i} ch {ch}: 8x true peak {tp8} dBTP");
        }
    }
}

#[test]
fn output_is_aligned_with_the_input() {
    // Clicks at known frames on a quiet tone: after mastering (which limits the clicks
    // hard), each click is still the loudest frame of its neighbourhood, at the same frame.
    let d = TempDir::new("align");
    let n = 4 * RATE as usize;
    let mut input: Vec<[f32; 2]> = (0..n)
        .map(|i| {
            let x = 0.01 * (2.0 * std::f32::consts::PI * 997.0 * i as f32 / RATE as f32).sin();
            [x, x]
        })
        .collect();
    let clicks: Vec<usize> = (0..7).map(|k| 3_001 + k * 24_007).collect();
    for &c in &clicks {
        input[c] = [0.5, -0.5];
    }
    let src = d.join("clicks.wav");
    write_stereo(&src, RATE, Enc::F32, &input);
    for preset in ["transparent", "streaming"] {
        let out = d.join(&format!("{preset}.wav"));
        lathe([
            "master",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--preset",
            preset,
        ])
        .ok();
        let output = stereo(&read_wav(&out).1);
        assert_eq!(output.len(), n);
        for &c in &clicks {
            let win = &output[c - 200..c + 200];
            let at = (0..win.len())
                .max_by(|&a, &b| win[a][0].abs().total_cmp(&win[b][0].abs()))
                .unwrap();
            assert_eq!(at + c - 200, c, "{preset}: click at {c}");
            assert!(
                output[c][0] > 0.0 && output[c][1] < 0.0,
                "{preset}: polarity kept"
            );
        }
    }
    // Without limiting, the transparent chain is a pure gain: lag 0, same shape.
    let quiet: Vec<[f32; 2]> = mix(4.0, -40.0, 2);
    let qsrc = d.join("quiet.wav");
    write_stereo(&qsrc, RATE, Enc::F32, &quiet);
    let qout = d.join("quiet-out.wav");
    lathe([
        "master",
        qsrc.to_str().unwrap(),
        "-o",
        qout.to_str().unwrap(),
        "--preset",
        "transparent",
        "--target-lufs",
        "-30",
    ])
    .ok();
    let output = stereo(&read_wav(&qout).1);
    assert_eq!(best_lag(&quiet, &output, 64), 0);
}

#[test]
fn named_targets_bits_and_dither() {
    let d = TempDir::new("bits");
    let input = mix(5.0, -10.0, 3);
    let src = d.join("in.wav");
    write_stereo(&src, RATE, Enc::I24, &input);
    // Default format for an integer input: 24-bit; --bits 16 gives 16-bit.
    for (k, (bits, want)) in [
        (None, 24u16),
        (Some("16"), 16),
        (Some("24"), 24),
        (Some("32f"), 32),
    ]
    .into_iter()
    .enumerate()
    {
        let out = d.join(&format!("out-{k}.wav"));
        let mut args = vec![
            "master".to_string(),
            src.display().to_string(),
            "-o".into(),
            out.display().to_string(),
            "--target".into(),
            "ebu-r128".into(),
        ];
        if let Some(b) = bits {
            args.extend(["--bits".into(), b.into()]);
        }
        lathe(&args).ok();
        let (spec, samples) = read_wav(&out);
        assert_eq!(spec.bits_per_sample, want);
        let output = stereo(&samples);
        assert_eq!(output.len(), input.len());
        let (lufs, tp) = measure(f64::from(RATE), &output);
        assert!((lufs + 23.0).abs() <= 0.1, "{want} bits: {lufs}");
        assert!(tp <= -1.0 + 0.01, "{want} bits: {tp}");
        if want == 16 {
            // Dithered: the quantisation error is noise around 1 LSB, not truncation.
            let exact = d.join("exact.wav");
            let _ = std::fs::remove_file(&exact);
            lathe([
                "master",
                src.to_str().unwrap(),
                "-o",
                exact.to_str().unwrap(),
                "--target",
                "ebu-r128",
                "--bits",
                "32f",
            ])
            .ok();
            let (_, f) = read_wav(&exact);
            let err: Vec<f64> = samples
                .iter()
                .zip(&f)
                .map(|(a, b)| f64::from(a - b) * 32_768.0)
                .collect();
            let mean = err.iter().sum::<f64>() / err.len() as f64;
            let rms = (err.iter().map(|e| e * e).sum::<f64>() / err.len() as f64).sqrt();
            assert!(mean.abs() < 0.05, "dither error mean {mean} LSB");
            assert!(rms > 0.3 && rms < 3.0, "dither error rms {rms} LSB");
        }
    }
    // Float input gives float output by default.
    let fsrc = d.join("float.wav");
    write_stereo(&fsrc, RATE, Enc::F32, &input);
    let fout = d.join("float-out.wav");
    lathe([
        "master",
        fsrc.to_str().unwrap(),
        "-o",
        fout.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(read_wav(&fout).0.sample_format, hound::SampleFormat::Float);
}

#[test]
fn mono_input_and_resampling() {
    let d = TempDir::new("resample");
    let input = mix(4.0, -12.0, 5);
    let mono: Vec<f32> = input.iter().map(|f| 0.5 * (f[0] + f[1])).collect();
    let src = d.join("mono44.wav");
    write_wav(
        &src,
        WavHeader {
            channels: 1,
            rate: 44_100,
            enc: Enc::I16,
            extensible: None,
        },
        &mono,
    );
    let out = d.join("out.wav");
    lathe([
        "master",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--sample-rate",
        "48000",
        "--preset",
        "transparent",
    ])
    .ok();
    let (spec, samples) = read_wav(&out);
    assert_eq!((spec.channels, spec.sample_rate), (1, 48_000));
    let want = (mono.len() as u64 * 48_000 + 22_050) / 44_100;
    assert_eq!(samples.len() as u64, want);
    let mut m = lathe::loudness::LoudnessMeter::<1>::new(48_000.0).unwrap();
    let frames: Vec<[f32; 1]> = samples.iter().map(|&s| [s]).collect();
    m.process(&frames);
    assert!(
        (m.integrated_lufs() + 14.0).abs() <= 0.1,
        "{}",
        m.integrated_lufs()
    );
    assert!(m.true_peak_dbtp() <= -1.0);
}

#[test]
fn compressed_low_rate_inputs_with_every_preset() {
    // 22.05 kHz MP3 and Ogg Vorbis: presets whose EQ reaches above the file's band still work.
    let d = TempDir::new("lowrate");
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for name in ["sine-997hz-m20.mp3", "sine-997hz-m20.ogg"] {
        for preset in ["transparent", "streaming", "loud", "broadcast", "podcast"] {
            let out = d.join(&format!("{name}-{preset}.wav"));
            lathe([
                "master",
                data.join(name).to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--preset",
                preset,
            ])
            .ok();
            let (spec, s) = read_wav(&out);
            assert_eq!(
                (spec.sample_rate, spec.channels, spec.bits_per_sample),
                (22_050, 1, 24)
            );
            assert_eq!(s.len(), 66_150, "{name} {preset}");
            let mut m = lathe::loudness::LoudnessMeter::<1>::new(22_050.0).unwrap();
            m.process(&s.iter().map(|&x| [x]).collect::<Vec<_>>());
            assert!(
                (m.integrated_lufs() + 14.0).abs() <= 0.1,
                "{name} {preset}: {}",
                m.integrated_lufs()
            );
        }
    }
}

#[test]
fn batch_out_dir_report_and_plot() {
    let d = TempDir::new("batch");
    let outdir = d.join("out");
    let mut names = Vec::new();
    for k in 0..3u64 {
        let p = d.join(&format!("song{k}.wav"));
        write_stereo(&p, RATE, Enc::I24, &mix(4.0, -6.0 - 6.0 * k as f64, k));
        names.push(p.display().to_string());
    }
    let report = d.join("report.json");
    let mut args = vec!["master".to_string()];
    args.extend(names.iter().cloned());
    args.extend([
        "--out-dir".into(),
        outdir.display().to_string(),
        "--report".into(),
        report.display().to_string(),
        "--preset".into(),
        "loud".into(),
    ]);
    let r = lathe(&args);
    assert_eq!(r.ok().lines().count(), 3);
    for k in 0..3 {
        let (_, s) = read_wav(&outdir.join(format!("song{k}.wav")));
        let (lufs, tp) = measure(f64::from(RATE), &stereo(&s));
        assert!(
            (lufs + 14.0).abs() <= 0.1 && tp <= -1.0,
            "song{k}: {lufs} {tp}"
        );
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert!(e["input"]["integrated_lufs"].is_number());
        assert!((e["output"]["integrated_lufs"].as_f64().unwrap() + 14.0).abs() <= 0.1);
        assert_eq!(e["settings"]["target"]["integrated_lufs"], -14.0);
        assert_eq!(e["settings"]["chain_source"], "preset loud");
        assert!(e["settings"]["chain"]["stage"].as_array().unwrap().len() >= 3);
        assert!(e["settings"]["plan"]["gain_db"].is_number());
    }

    // One input: the report is one object; the plot a PNG.
    let one = d.join("one.wav");
    let rep = d.join("one.json");
    let png = d.join("one.png");
    lathe([
        "master",
        &names[0],
        "-o",
        one.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ])
    .ok();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
    assert!(v["settings"]["latency_frames"].as_u64().unwrap() > 0);
    assert_eq!(v["settings"]["bits"], "24");
    // With --report both analyses measure everything, not the loudness alone.
    for side in ["input", "output"] {
        assert!(v[side]["correlation"].is_number(), "{side}");
        assert!(v[side]["dc_offset"].is_number(), "{side}");
        assert_eq!(
            v[side]["spectrum"].as_array().map(Vec::len),
            Some(4),
            "{side}"
        );
    }
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
}

#[test]
fn chain_file_gets_a_limiter_and_the_target() {
    let d = TempDir::new("chain");
    let src = d.join("in.wav");
    write_stereo(&src, RATE, Enc::F32, &mix(5.0, -3.0, 11));
    let chain = d.join("chain.toml");
    std::fs::write(
        &chain,
        "[[stage]]\ntype = \"eq\"\nbands = [{ kind = \"highpass\", freq_hz = 30.0 }]\n\
         [[stage]]\ntype = \"compressor\"\nthreshold_db = -20.0\nratio = 3.0\n",
    )
    .unwrap();
    let out = d.join("out.wav");
    lathe([
        "master",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
        "--target",
        "apple-music",
    ])
    .ok();
    let (_, s) = read_wav(&out);
    let (lufs, tp) = measure(f64::from(RATE), &stereo(&s));
    assert!((lufs + 16.0).abs() <= 0.1, "{lufs}");
    assert!(tp <= -1.0, "{tp}");
}

#[test]
fn files_are_handled_safely() {
    let d = TempDir::new("safety");
    let src = d.join("in.wav");
    write_stereo(&src, RATE, Enc::I24, &mix(3.0, -10.0, 1));
    let before = std::fs::read(&src).unwrap();
    // Never the input, not even with --force.
    let r = lathe([
        "master",
        src.to_str().unwrap(),
        "-o",
        src.to_str().unwrap(),
        "--force",
    ]);
    assert!(r.fails_on(&src).contains("input"));
    assert_eq!(std::fs::read(&src).unwrap(), before);
    // An existing output needs --force.
    let out = d.join("out.wav");
    std::fs::write(&out, b"precious").unwrap();
    let r = lathe(["master", src.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(r.fails_on(&out).contains("--force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    lathe([
        "master",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--force",
    ])
    .ok();
    assert_ne!(std::fs::read(&out).unwrap(), b"precious");
    // A failure leaves no partial file and no temporary file.
    let silent = d.join("silent.wav");
    write_stereo(&silent, RATE, Enc::I16, &vec![[0.0; 2]; 48_000]);
    let failed = d.join("failed.wav");
    let r = lathe([
        "master",
        silent.to_str().unwrap(),
        "-o",
        failed.to_str().unwrap(),
    ]);
    assert!(r.fails_on(&silent).contains("silent"));
    assert_eq!(d.files(), ["in.wav", "out.wav", "silent.wav"]);
    // Outputs are WAV files and named so; a chain file is an input too.
    let flac = d.join("out.flac");
    assert!(lathe([
        "master",
        src.to_str().unwrap(),
        "-o",
        flac.to_str().unwrap()
    ])
    .fails_on(&flac)
    .contains(".wav"));
    let chain = d.join("c.toml");
    std::fs::write(&chain, "[[stage]]\ntype = \"gain\"\n").unwrap();
    let chain_wav = d.join("c.wav");
    std::fs::copy(&chain, &chain_wav).unwrap();
    let r = lathe([
        "master",
        src.to_str().unwrap(),
        "-o",
        chain_wav.to_str().unwrap(),
        "--chain",
        chain_wav.to_str().unwrap(),
        "--force",
    ]);
    assert!(r.fails_on(&chain_wav).contains("input"));
    std::fs::remove_file(&chain).unwrap();
    std::fs::remove_file(&chain_wav).unwrap();
    // Several inputs need --out-dir (a usage error).
    let r = lathe([
        "master",
        src.to_str().unwrap(),
        silent.to_str().unwrap(),
        "-o",
        "x.wav",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // In a batch one bad file fails alone.
    let outdir = d.join("o");
    let r = lathe([
        "master",
        src.to_str().unwrap(),
        silent.to_str().unwrap(),
        "--out-dir",
        outdir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(outdir.join("in.wav").exists());
    assert!(!outdir.join("silent.wav").exists());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

/// Ctrl-C in the middle of a job: the temporary output is removed, no output appears, the
/// input is untouched, and the exit code is 130.
#[cfg(unix)]
#[test]
fn an_interrupt_leaves_no_partial_or_temporary_file() {
    use std::process::{Command, Stdio};
    let d = TempDir::new("interrupt");
    let input = d.join("in.wav");
    // Long enough (two minutes of noise) that the job is still running when interrupted.
    let n = 120 * RATE as usize;
    let l = lathe_testkit::signals::white_noise(0.1, 1, n);
    let frames: Vec<[f32; 2]> = l.iter().map(|&s| [s, -s]).collect();
    write_stereo(&input, RATE, Enc::F32, &frames);
    let before = std::fs::read(&input).unwrap();
    let out = d.join("out.wav");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lathe"))
        .arg("master")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the temporary file beside the output, then interrupt.
    let start = std::time::Instant::now();
    let mut seen = false;
    while start.elapsed() < std::time::Duration::from_secs(60) {
        if d.files().iter().any(|f| f.contains(".lathe-")) {
            seen = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(seen, "the temporary output never appeared");
    let kill = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("error: interrupted"), "stderr: {stderr}");
    assert_eq!(
        d.files(),
        vec!["in.wav".to_string()],
        "only the input is left"
    );
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );
}

/// The compressor presets read the input twice: a sparse pre-scan (WAV and FLAC seek to
/// 1 s excerpts) estimates the input loudness within the job's tolerance, the trim is set
/// from it, and the report says so; the output still meets the target.
#[test]
fn compressor_presets_read_the_input_twice_after_a_pre_scan() {
    let d = TempDir::new("prescan");
    // A quiet first half and a loud second half: an estimate from the start alone would be
    // far off.
    let mut input = mix(32.0, -22.0, 5);
    input.extend(mix(32.0, -8.0, 6));
    let (exact, _) = measure(f64::from(RATE), &input);
    let flat: Vec<f32> = input.iter().flatten().copied().collect();
    let wav = d.join("in.wav");
    write_stereo(&wav, RATE, Enc::I24, &input);
    let flac = d.join("in.flac");
    std::fs::write(&flac, flac_bytes(2, RATE, 24, &flat)).unwrap();
    for (src, name) in [(&wav, "wav"), (&flac, "flac")] {
        let estimate = lathe_cli::prescan::estimate_lufs::<2>(src).expect("an estimate");
        eprintln!("{name}: estimate {estimate:.2} LUFS, exact {exact:.2}");
        assert!(
            (estimate - exact).abs() < 1.0,
            "{name}: {estimate} vs {exact}"
        );
        let out = d.join(&format!("out-{name}.wav"));
        let r = master_with_report(src, &out, &d.join(&format!("r-{name}.json")));
        let plan = &r["settings"]["plan"];
        assert_eq!(plan["reads"], 2, "{name}: {plan}");
        assert_eq!(
            plan["input_estimate_lufs"].as_f64(),
            Some(estimate),
            "{name}"
        );
        let (spec, samples) = read_wav(&out);
        assert_eq!(spec.bits_per_sample, 24);
        let (lufs, tp) = measure(f64::from(RATE), &stereo(&samples));
        assert!((lufs + 14.0).abs() <= 0.1, "{name}: {lufs} LUFS");
        assert!(tp <= -1.0, "{name}: {tp} dBTP");
    }
    // Too short to sample: no estimate, and the job takes its model pass (three reads).
    assert_eq!(lathe_cli::prescan::excerpt_count(40.0), 0);
    assert_eq!(lathe_cli::prescan::excerpt_count(60.0), 12);
    assert_eq!(lathe_cli::prescan::excerpt_count(3600.0), 144);
    let short = d.join("short.wav");
    write_stereo(&short, RATE, Enc::I24, &mix(8.0, -12.0, 9));
    assert_eq!(lathe_cli::prescan::estimate_lufs::<2>(&short), None);
    let r = master_with_report(&short, &d.join("out-short.wav"), &d.join("r-short.json"));
    assert_eq!(r["settings"]["plan"]["reads"], 3);
}

/// Masters `src` into `out` with the default preset and returns the JSON report.
fn master_with_report(
    src: &std::path::Path,
    out: &std::path::Path,
    report: &std::path::Path,
) -> serde_json::Value {
    lathe([
        "master",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ])
    .ok();
    serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap()
}
