//! Helpers for the end-to-end tests: temporary directories, running the binary, and writers
//! for every input format the tests synthesise (WAV in all its variants, AIFF, FLAC).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("lathe-e2e-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// File names in the directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The result of one run of `lathe`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        &self.stdout
    }
    /// Asserts a processing failure reported as exactly one `error: FILE: reason` line.
    pub fn fails_on(&self, file: &Path) -> &str {
        assert_eq!(
            self.code, 1,
            "stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one error line: {:?}", self.stderr);
        let prefix = format!("error: {}: ", file.display());
        assert!(
            lines[0].starts_with(&prefix),
            "{:?} should start with {prefix:?}",
            lines[0]
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        &lines[0][prefix.len()..]
    }
}

/// Runs the binary with `args` (no progress bars: stderr is not a terminal). A run that
/// takes more than two minutes is a hang: it is killed and the test fails.
pub fn lathe<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lathe"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the lathe binary runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("lathe did not finish within two minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let out: Output = Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    };
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Sample encodings the tests write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    I16,
    I24,
    I32,
    F32,
    F64,
}

impl Enc {
    pub fn bits(self) -> u16 {
        match self {
            Enc::I16 => 16,
            Enc::I24 => 24,
            Enc::I32 | Enc::F32 => 32,
            Enc::F64 => 64,
        }
    }
    fn is_float(self) -> bool {
        matches!(self, Enc::F32 | Enc::F64)
    }
}

fn quant(x: f32, bits: u32) -> i64 {
    let full = (1i64 << (bits - 1)) as f64;
    (f64::from(x) * full).round().clamp(-full, full - 1.0) as i64
}

/// Little-endian sample bytes of interleaved `samples`.
pub fn pcm_le(samples: &[f32], enc: Enc) -> Vec<u8> {
    let mut d = Vec::with_capacity(samples.len() * usize::from(enc.bits() / 8));
    for &s in samples {
        match enc {
            Enc::I16 => d.extend_from_slice(&(quant(s, 16) as i16).to_le_bytes()),
            Enc::I24 => d.extend_from_slice(&(quant(s, 24) as i32).to_le_bytes()[..3]),
            Enc::I32 => d.extend_from_slice(&(quant(s, 32) as i32).to_le_bytes()),
            Enc::F32 => d.extend_from_slice(&s.to_le_bytes()),
            Enc::F64 => d.extend_from_slice(&f64::from(s).to_le_bytes()),
        }
    }
    d
}

/// How a WAV header is written.
#[derive(Debug, Clone, Copy)]
pub struct WavHeader {
    pub channels: u16,
    pub rate: u32,
    pub enc: Enc,
    /// WAVE_FORMAT_EXTENSIBLE with this channel mask.
    pub extensible: Option<u32>,
}

/// The bytes of a WAV file holding `samples` (interleaved).
pub fn wav_bytes(h: WavHeader, samples: &[f32]) -> Vec<u8> {
    let data = pcm_le(samples, h.enc);
    let bits = h.enc.bits();
    let block_align = h.channels * bits / 8;
    let mut fmt = Vec::new();
    let tag: u16 = if h.extensible.is_some() {
        0xFFFE
    } else if h.enc.is_float() {
        3
    } else {
        1
    };
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&h.channels.to_le_bytes());
    fmt.extend_from_slice(&h.rate.to_le_bytes());
    fmt.extend_from_slice(&(h.rate * u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if let Some(mask) = h.extensible {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes()); // valid bits
        fmt.extend_from_slice(&mask.to_le_bytes());
        let sub: u16 = if h.enc.is_float() { 3 } else { 1 };
        fmt.extend_from_slice(&sub.to_le_bytes());
        fmt.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    let riff_len = 4 + 8 + fmt.len() + 8 + data.len() + (data.len() & 1);
    out.extend_from_slice(&(riff_len as u32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(&fmt);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    if data.len() & 1 == 1 {
        out.push(0);
    }
    out
}

/// Writes a WAV file of interleaved `samples`.
pub fn write_wav(path: &Path, h: WavHeader, samples: &[f32]) {
    std::fs::write(path, wav_bytes(h, samples)).unwrap();
}

/// Writes stereo frames as a WAV file.
pub fn write_stereo(path: &Path, rate: u32, enc: Enc, frames: &[[f32; 2]]) {
    let flat: Vec<f32> = frames.iter().flatten().copied().collect();
    write_wav(
        path,
        WavHeader {
            channels: 2,
            rate,
            enc,
            extensible: None,
        },
        &flat,
    );
}

/// Reads a WAV (integer or float) back as interleaved f32 with its spec.
pub fn read_wav(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let v = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let s = (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>().map(|x| x.unwrap() as f32 / s).collect()
        }
    };
    (spec, v)
}

/// Interleaved samples as stereo frames.
pub fn stereo(samples: &[f32]) -> Vec<[f32; 2]> {
    samples.chunks_exact(2).map(|c| [c[0], c[1]]).collect()
}

/// An AIFF file (big-endian integer PCM) of interleaved `samples`.
pub fn aiff_bytes(channels: u16, rate: u32, bits: u16, samples: &[f32]) -> Vec<u8> {
    let frames = samples.len() / usize::from(channels);
    let mut comm = Vec::new();
    comm.extend_from_slice(&channels.to_be_bytes());
    comm.extend_from_slice(&(frames as u32).to_be_bytes());
    comm.extend_from_slice(&bits.to_be_bytes());
    // 80-bit IEEE extended sample rate.
    let e = 31 - rate.leading_zeros();
    comm.extend_from_slice(&((16383 + e) as u16).to_be_bytes());
    comm.extend_from_slice(&((u64::from(rate)) << (63 - e)).to_be_bytes());
    let mut data = Vec::new();
    for &s in samples {
        let q = quant(s, u32::from(bits));
        let b = (q as i32).to_be_bytes();
        data.extend_from_slice(&b[4 - usize::from(bits / 8)..]);
    }
    let mut ssnd = vec![0u8; 8];
    ssnd.extend_from_slice(&data);
    let mut out = Vec::new();
    out.extend_from_slice(b"FORM");
    out.extend_from_slice(&((4 + 8 + comm.len() + 8 + ssnd.len()) as u32).to_be_bytes());
    out.extend_from_slice(b"AIFF");
    out.extend_from_slice(b"COMM");
    out.extend_from_slice(&(comm.len() as u32).to_be_bytes());
    out.extend_from_slice(&comm);
    out.extend_from_slice(b"SSND");
    out.extend_from_slice(&(ssnd.len() as u32).to_be_bytes());
    out.extend_from_slice(&ssnd);
    out
}

/// MSB-first bit writer for FLAC.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }
    fn put(&mut self, value: u64, bits: u32) {
        for i in (0..bits).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc as u8);
                self.acc = 0;
                self.n = 0;
            }
        }
    }
    fn align(&mut self) {
        while self.n != 0 {
            self.put(0, 1);
        }
    }
}

fn crc8(data: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in data {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
        }
    }
    c
}

fn crc16(data: &[u8]) -> u16 {
    let mut c = 0u16;
    for &b in data {
        c ^= u16::from(b) << 8;
        for _ in 0..8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
        }
    }
    c
}

fn utf8_number(n: u32) -> Vec<u8> {
    // The UTF-8 scheme FLAC uses for frame numbers.
    let len = match n {
        0..0x80 => return vec![n as u8],
        0x80..0x800 => 2,
        0x800..0x1_0000 => 3,
        0x1_0000..0x20_0000 => 4,
        0x20_0000..0x400_0000 => 5,
        _ => 6,
    };
    let mut bytes = vec![0u8; len];
    let mut v = n;
    for b in bytes.iter_mut().skip(1).rev() {
        *b = 0x80 | (v & 0x3f) as u8;
        v >>= 6;
    }
    bytes[0] = (0xff00u16 >> len) as u8 | v as u8;
    bytes
}

/// A FLAC file (verbatim subframes) of interleaved integer-quantised `samples`.
pub fn flac_bytes(channels: u16, rate: u32, bits: u32, samples: &[f32]) -> Vec<u8> {
    let frames = samples.len() / usize::from(channels);
    let block = 4096usize;
    let mut out = b"fLaC".to_vec();
    let mut si = Bits::new();
    si.put(1, 1); // last metadata block
    si.put(0, 7); // STREAMINFO
    si.put(34, 24);
    si.put(block as u64, 16);
    si.put(block as u64, 16);
    si.put(0, 24);
    si.put(0, 24);
    si.put(u64::from(rate), 20);
    si.put(u64::from(channels) - 1, 3);
    si.put(u64::from(bits) - 1, 5);
    si.put(frames as u64, 36);
    for _ in 0..16 {
        si.put(0, 8);
    }
    out.extend_from_slice(&si.out);
    for (k, start) in (0..frames).step_by(block).enumerate() {
        let n = block.min(frames - start);
        let mut h = Bits::new();
        h.put(0b11_1111_1111_1110, 14);
        h.put(0, 1);
        h.put(0, 1); // fixed block size
        h.put(0b0111, 4); // 16-bit block size at the end
        h.put(0, 4); // rate from STREAMINFO
        h.put(u64::from(channels) - 1, 4);
        h.put(0, 3); // sample size from STREAMINFO
        h.put(0, 1);
        for b in utf8_number(k as u32) {
            h.put(u64::from(b), 8);
        }
        h.put(n as u64 - 1, 16);
        let crc = crc8(&h.out);
        h.put(u64::from(crc), 8);
        for c in 0..usize::from(channels) {
            h.put(0, 1);
            h.put(0b000001, 6); // verbatim
            h.put(0, 1);
            for i in 0..n {
                let q = quant(samples[(start + i) * usize::from(channels) + c], bits);
                h.put((q as u64) & ((1u64 << bits) - 1), bits);
            }
        }
        h.align();
        let crc = crc16(&h.out);
        h.put(u64::from(crc), 16);
        out.extend_from_slice(&h.out);
    }
    out
}

/// `frames` of a `freq_hz` sine at `amp` (peak) on `channels` channels, interleaved.
pub fn sine(freq_hz: f64, amp: f64, rate: u32, channels: usize, frames: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(frames * channels);
    for n in 0..frames {
        let x = (amp * (2.0 * std::f64::consts::PI * freq_hz * n as f64 / f64::from(rate)).sin())
            as f32;
        for _ in 0..channels {
            v.push(x);
        }
    }
    v
}

/// Integrated loudness and true peak of stereo frames by the project's meter.
pub fn measure(rate: f64, frames: &[[f32; 2]]) -> (f64, f64) {
    let mut m = lathe::loudness::LoudnessMeter::<2>::new(rate).unwrap();
    m.process(frames);
    (m.integrated_lufs(), m.true_peak_dbtp())
}

/// Parses one `analyze --json` line.
pub fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}
