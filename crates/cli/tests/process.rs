//! `lathe process`: chains applied exactly as written, latency compensated, and chain-file
//! errors that name the stage, the key and the allowed range.

mod common;

use common::*;
use lathe_testkit::signals::music_like;

const RATE: u32 = 48_000;

#[test]
fn a_zero_db_gain_is_bit_identical_in_float() {
    let d = TempDir::new("gain0");
    let input = music_like(f64::from(RATE), 3.0, -3.0, 4);
    let src = d.join("in.wav");
    write_stereo(&src, RATE, Enc::F32, &input);
    let chain = d.join("gain.toml");
    std::fs::write(&chain, "[[stage]]\ntype = \"gain\"\ngain_db = 0.0\n").unwrap();
    let out = d.join("out.wav");
    lathe([
        "process",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ])
    .ok();
    let (spec, samples) = read_wav(&out);
    assert_eq!(spec.sample_format, hound::SampleFormat::Float);
    let flat: Vec<f32> = input.iter().flatten().copied().collect();
    assert_eq!(samples.len(), flat.len());
    assert!(
        samples
            .iter()
            .zip(&flat)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "not bit-identical"
    );

    // A +6.02 dB gain doubles every sample (exactly, in float).
    let chain2 = d.join("gain6.toml");
    std::fs::write(
        &chain2,
        "[[stage]]\ntype = \"gain\"\ngain_db = -6.020599913279624\n",
    )
    .unwrap();
    let out2 = d.join("half.wav");
    lathe([
        "process",
        src.to_str().unwrap(),
        "-o",
        out2.to_str().unwrap(),
        "--chain",
        chain2.to_str().unwrap(),
    ])
    .ok();
    let (_, half) = read_wav(&out2);
    for (h, x) in half.iter().zip(&flat) {
        assert!((h - 0.5 * x).abs() <= 1e-6, "{h} vs {x}");
    }
}

#[test]
fn latency_is_compensated() {
    // A lookahead limiter (latency) above the signal's peaks: the output is the input, in
    // place, with the same length.
    let d = TempDir::new("latency");
    let n = 2 * RATE as usize;
    let mut input = vec![[0.0f32; 2]; n];
    for k in 0..20 {
        let at = 1_000 + k * 4_801;
        input[at] = [0.25, -0.125];
    }
    let src = d.join("clicks.wav");
    write_stereo(&src, RATE, Enc::F32, &input);
    let chain = d.join("lim.toml");
    std::fs::write(
        &chain,
        "[[stage]]\ntype = \"limiter\"\nceiling_db = -3.0\nlookahead_ms = 5.0\n\
         [[stage]]\ntype = \"gain\"\ngain_db = 0.0\n",
    )
    .unwrap();
    let out = d.join("out.wav");
    let r = lathe([
        "process",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ]);
    r.ok();
    let output = stereo(&read_wav(&out).1);
    assert_eq!(output.len(), n);
    for (i, (a, b)) in input.iter().zip(&output).enumerate() {
        assert!(
            (a[0] - b[0]).abs() < 1e-4 && (a[1] - b[1]).abs() < 1e-4,
            "frame {i}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn chain_errors_name_stage_key_and_range() {
    let d = TempDir::new("chainerr");
    let src = d.join("in.wav");
    write_stereo(
        &src,
        RATE,
        Enc::I16,
        &music_like(f64::from(RATE), 1.0, -6.0, 1),
    );
    let cases: [(&str, &[&str]); 6] = [
        (
            "[[stage]]\ntype = \"compressor\"\nratio = 50.0\n",
            &["stage 1 (compressor)", "ratio", "1 ..= 20"],
        ),
        (
            "[[stage]]\ntype = \"gain\"\n[[stage]]\ntype = \"limiter\"\nceiling = -1.0\n",
            &["stage 2 (limiter)", "unknown field `ceiling`", "ceiling_db"],
        ),
        (
            "[[stage]]\ntype = \"gain\"\ngain_db = \"loud\"\n",
            &["stage 1 (gain)", "gain_db", "invalid type"],
        ),
        ("[[stage]]\ntype = \"wobble\"\n", &["wobble"]),
        (
            "[[stage]]\ntype = \"eq\"\nbands = [{ kind = \"peak\", q = 0.0 }]\n",
            &["stage 1 (eq)", "bands[0].q", "0.1 ..= 20"],
        ),
        (
            "[[stage]]\ntype = \"eq\"\nbands = [{ kind = \"peak\", freq_hz = 30000.0 }]\n",
            &["stage 1 (eq)", "Nyquist"],
        ),
    ];
    for (i, (toml, wants)) in cases.iter().enumerate() {
        let chain = d.join(&format!("c{i}.toml"));
        std::fs::write(&chain, toml).unwrap();
        let out = d.join(&format!("o{i}.wav"));
        let r = lathe([
            "process",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--chain",
            chain.to_str().unwrap(),
        ]);
        let reason = r.fails_on(&chain);
        for w in *wants {
            assert!(reason.contains(w), "case {i}: {reason:?} lacks {w:?}");
        }
        assert!(!out.exists());
    }
    // A missing chain file.
    let missing = d.join("missing.toml");
    let r = lathe([
        "process",
        src.to_str().unwrap(),
        "-o",
        d.join("x.wav").to_str().unwrap(),
        "--chain",
        missing.to_str().unwrap(),
    ]);
    assert!(r.fails_on(&missing).contains("no such file"));
}
