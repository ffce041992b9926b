//! Fuzzing the decode path: valid files with mutated headers and bytes, truncated, padded
//! with junk. Whatever the bytes, reading ends (no hang), never panics, and either yields
//! finite audio within the supported ranges or fails with a reason naming the file.

mod common;

use common::*;
use lathe_cli::input::{AudioReader, MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use proptest::prelude::*;
use std::path::Path;

/// Reads a whole file; `Err(reason)` on failure. Panics (test failure) on anything a user
/// would see as a crash or a hang.
fn read_all(path: &Path) -> Result<u64, String> {
    let mut r = match AudioReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.file.as_deref(), Some(path), "errors name the file");
            assert!(!e.reason.is_empty() && !e.reason.contains('\n'));
            assert!(!e.reason.contains("decoder failed"), "{}", e.reason);
            return Err(e.reason);
        }
    };
    let info = r.info().clone();
    assert!((MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&info.sample_rate));
    assert!((1..=MAX_CHANNELS).contains(&info.channels));
    let file_len = std::fs::metadata(path).unwrap().len();
    let mut blocks = 0u64;
    loop {
        match r.next_block() {
            Ok(Some(b)) => {
                assert_eq!(b.len() % info.channels, 0);
                assert!(b.iter().all(|s| s.is_finite()));
                blocks += 1;
                // Bounded work: a file cannot decode to more frames than a few per byte
                // (lossless) and the loop cannot spin without progress.
                assert!(blocks < 1_000_000, "no end in sight");
                assert!(
                    r.frames_read() <= 64 * file_len + 1_000_000,
                    "more audio than bytes allow"
                );
            }
            Ok(None) => return Ok(r.frames_read()),
            Err(e) => {
                assert_eq!(e.file.as_deref(), Some(path));
                assert!(!e.reason.is_empty() && !e.reason.contains('\n'));
                assert!(!e.reason.contains("decoder failed"), "{}", e.reason);
                return Err(e.reason);
            }
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let x = sine(440.0, 0.5, 8_000, 2, 3_000);
    let m = sine(440.0, 0.5, 8_000, 1, 3_000);
    let mut v = Vec::new();
    for enc in [Enc::I16, Enc::I24, Enc::I32, Enc::F32, Enc::F64] {
        v.push(wav_bytes(
            WavHeader {
                channels: 2,
                rate: 8_000,
                enc,
                extensible: None,
            },
            &x,
        ));
    }
    v.push(wav_bytes(
        WavHeader {
            channels: 1,
            rate: 8_000,
            enc: Enc::I24,
            extensible: Some(0x4),
        },
        &m,
    ));
    v.push(aiff_bytes(2, 8_000, 16, &x));
    v.push(flac_bytes(2, 8_000, 16, &x));
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    v.push(std::fs::read(data.join("sine-997hz-m20.mp3")).unwrap());
    v.push(std::fs::read(data.join("sine-997hz-m20.ogg")).unwrap());
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite one byte.
    Byte(usize, u8),
    /// Overwrite a little-endian u16 / u32 field at a header offset with an extreme value.
    Field16(usize, u16),
    Field32(usize, u32),
    /// Cut the file.
    Truncate(usize),
    /// Append junk.
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let extreme16 = prop_oneof![
        Just(0u16),
        Just(1),
        Just(3),
        Just(7),
        Just(9),
        Just(0x7fff),
        Just(0xffff),
        any::<u16>()
    ];
    let extreme32 = prop_oneof![
        Just(0u32),
        Just(1),
        Just(7_999),
        Just(384_001),
        Just(0x7fff_ffff),
        Just(0xffff_ffff),
        any::<u32>()
    ];
    prop_oneof![
        3 => (0usize..96, any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        2 => (0usize..4096, any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        2 => (0usize..80, extreme16).prop_map(|(i, v)| Mutation::Field16(i, v)),
        2 => (0usize..80, extreme32).prop_map(|(i, v)| Mutation::Field32(i, v)),
        1 => (0usize..20_000).prop_map(Mutation::Truncate),
        1 => proptest::collection::vec(any::<u8>(), 1..256).prop_map(Mutation::Append),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        match m {
            Mutation::Byte(i, b) => {
                if let Some(x) = bytes.get_mut(*i) {
                    *x = *b;
                }
            }
            Mutation::Field16(i, v) => {
                if i + 2 <= bytes.len() {
                    bytes[*i..i + 2].copy_from_slice(&v.to_le_bytes());
                }
            }
            Mutation::Field32(i, v) => {
                if i + 4 <= bytes.len() {
                    bytes[*i..i + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
            Mutation::Truncate(n) => bytes.truncate(*n),
            Mutation::Append(junk) => bytes.extend_from_slice(junk),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(256) })]

    #[test]
    fn mutated_files_never_crash_or_hang(seed in 0usize..10, muts in proptest::collection::vec(mutation(), 1..5)) {
        let d = TempDir::new("fuzz");
        let bytes = apply(seeds()[seed].clone(), &muts);
        let path = d.join("fuzzed.bin");
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_all(&path);
    }

    #[test]
    fn random_bytes_are_not_audio(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let d = TempDir::new("junk");
        let path = d.join("junk.wav");
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_all(&path);
    }
}

/// Inputs that crashed symphonia (caught, but reported as a decoder failure) before the
/// header checks; each must now end with a precise error.
#[test]
fn regressions_from_fuzzing() {
    let d = TempDir::new("regress");
    let cases: [(usize, Mutation, &str); 5] = [
        // A zero sample rate: symphonia panics building its time base.
        (0, Mutation::Field32(23, 0), "sample rate 0 Hz"),
        (0, Mutation::Field32(24, 0), "sample rate 0 Hz"),
        // WAVE_FORMAT_EXTENSIBLE with 257 or 32 767 channels: a shift overflows in the
        // channel-mask code.
        (5, Mutation::Field16(23, 1), "257 channels"),
        (5, Mutation::Field16(22, 32_767), "32767 channels"),
        (5, Mutation::Field32(21, 2_147_483_647), "channels"),
    ];
    for (i, (seed, m, want)) in cases.into_iter().enumerate() {
        let path = d.join(&format!("case{i}.wav"));
        std::fs::write(&path, apply(seeds()[seed].clone(), &[m])).unwrap();
        let reason = read_all(&path).unwrap_err();
        assert!(reason.contains(want), "case {i}: {reason}");
        assert!(reason.starts_with("bad WAV header: "), "case {i}: {reason}");
    }
}

#[test]
fn unmutated_seeds_decode_completely() {
    let d = TempDir::new("seeds");
    for (i, s) in seeds().into_iter().enumerate() {
        let path = d.join(&format!("seed{i}"));
        std::fs::write(&path, &s).unwrap();
        let frames = read_all(&path).unwrap_or_else(|e| panic!("seed {i}: {e}"));
        assert!(frames >= 3_000, "seed {i}: {frames}");
    }
}
