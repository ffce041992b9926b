//! Decoding any supported input to interleaved `f32` blocks, streaming, with strict checks.
//!
//! [`AudioReader`] opens a file with `symphonia` (WAV 8/16/24/32-bit integer and 32/64-bit
//! float, `WAVE_FORMAT_EXTENSIBLE`, FLAC, AIFF, MP3, Ogg Vorbis) and hands out one decoded
//! packet at a time, so memory does not grow with the file. To read a file again (the
//! mastering passes), open it again. Plain PCM (16/24/32-bit integer and 32/64-bit float at
//! their full width) skips the decoder: its packets, and for WAV the whole data chunk read
//! straight from the file once `symphonia` has found it, are converted from their bytes with
//! `symphonia`'s own sample conversions, so the values are the decoder's bit for bit.
//!
//! Everything that would make the result meaningless is an error naming the file: a missing,
//! empty or unrecognised file, an unsupported codec, a sample rate outside 8 ..= 384 kHz, no
//! or more than [`MAX_CHANNELS`] channels, a NaN or infinite sample, a data chunk that ends
//! before the header says it should (truncation), and corrupt packets. Third-party decoders
//! are run under `catch_unwind`, so even a decoder bug on hostile input ends as an error line.

use crate::error::{Failure, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{self, CodecType, Decoder, DecoderOptions};
use symphonia::core::conv::{FromSample, IntoSample};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions, ReadBytes};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::sample::Sample;

/// Lowest sample rate accepted, Hz.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest sample rate accepted, Hz.
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// Most channels accepted.
pub const MAX_CHANNELS: usize = 8;
/// Corrupt packets a lossy stream may skip before it is declared broken.
const MAX_SKIPPED_PACKETS: u32 = 8;

/// What a file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct InputInfo {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channel count (1 ..= [`MAX_CHANNELS`]).
    pub channels: usize,
    /// Frames announced by the header, when it says.
    pub frames: Option<u64>,
    /// Container and codec in words, e.g. `"WAV, 24-bit integer PCM"`.
    pub format: String,
    /// True when the samples are stored as floating point (default output: 32-bit float).
    pub float: bool,
    /// True for lossy codecs (MP3, Vorbis).
    pub lossy: bool,
    /// Bits per stored sample, when known.
    pub bits: Option<u32>,
}

/// The container, recognised from the first bytes (never from the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// RIFF/WAVE.
    Wav,
    /// AIFF or AIFF-C.
    Aiff,
    /// Native FLAC.
    Flac,
    /// Ogg (Vorbis).
    Ogg,
    /// MPEG audio (MP3), possibly behind an ID3v2 tag.
    Mp3,
}

impl Container {
    /// Name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Container::Wav => "WAV",
            Container::Aiff => "AIFF",
            Container::Flac => "FLAC",
            Container::Ogg => "Ogg",
            Container::Mp3 => "MP3",
        }
    }

    /// Recognises the container from the file's first bytes.
    pub fn sniff(head: &[u8]) -> Option<Container> {
        let at = |i: usize, m: &[u8]| head.len() >= i + m.len() && &head[i..i + m.len()] == m;
        if at(0, b"RIFF") && at(8, b"WAVE") {
            return Some(Container::Wav);
        }
        if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
            return Some(Container::Aiff);
        }
        if at(0, b"fLaC") {
            return Some(Container::Flac);
        }
        if at(0, b"OggS") {
            return Some(Container::Ogg);
        }
        let mut start = 0usize;
        if at(0, b"ID3") && head.len() >= 10 {
            // ID3v2: 10-byte header, synch-safe size, optional 10-byte footer.
            let size = head[6..10]
                .iter()
                .fold(0usize, |a, &b| (a << 7) | usize::from(b & 0x7f));
            start = 10 + size + if head[5] & 0x10 != 0 { 10 } else { 0 };
        }
        if head.len() >= start + 4 {
            let h = &head[start..start + 4];
            // Frame sync (11 bits), a valid version, layer III, a valid bitrate and rate.
            let sync = h[0] == 0xff && h[1] & 0xe0 == 0xe0;
            let version_ok = (h[1] >> 3) & 0b11 != 0b01;
            let layer3 = (h[1] >> 1) & 0b11 == 0b01;
            let bitrate_ok = h[2] >> 4 != 0b1111;
            let rate_ok = (h[2] >> 2) & 0b11 != 0b11;
            if sync && version_ok && layer3 && bitrate_ok && rate_ok {
                return Some(Container::Mp3);
            }
        }
        None
    }
}

/// Checks the header fields symphonia trusts blindly (a zero sample rate, a block size that
/// does not match the sample format, absurd channel counts) so that they end as precise
/// errors instead of decoder failures. Only the first bytes (`head`) are looked at; what lies
/// beyond is left to the decoder.
///
/// # Errors
/// The first bad field, in words.
pub fn check_header(container: Container, head: &[u8]) -> std::result::Result<(), String> {
    match container {
        Container::Wav => check_wav(head),
        Container::Aiff => check_aiff(head),
        Container::Flac => check_flac(head),
        Container::Ogg | Container::Mp3 => Ok(()),
    }
}

fn check_rate_channels(rate: f64, channels: u64) -> std::result::Result<(), String> {
    if channels == 0 {
        return Err("the header gives 0 channels".into());
    }
    if channels > MAX_CHANNELS as u64 {
        return Err(format!(
            "{channels} channels; Lathe reads 1 to {MAX_CHANNELS}"
        ));
    }
    if !(f64::from(MIN_SAMPLE_RATE)..=f64::from(MAX_SAMPLE_RATE)).contains(&rate) {
        return Err(format!(
            "sample rate {rate} Hz is outside the supported {MIN_SAMPLE_RATE} ..= {MAX_SAMPLE_RATE} Hz"
        ));
    }
    Ok(())
}

fn check_wav(head: &[u8]) -> std::result::Result<(), String> {
    let u16_at = |i: usize| head.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |i: usize| {
        head.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut pos = 12;
    while let (Some(id), Some(len)) = (head.get(pos..pos + 4), u32_at(pos + 4)) {
        let body = pos + 8;
        match id {
            b"fmt " => {
                if len < 16 {
                    return Err(format!(
                        "the fmt chunk is {len} bytes long, at least 16 are needed"
                    ));
                }
                let (Some(mut tag), Some(ch), Some(rate), Some(align), Some(bits)) = (
                    u16_at(body),
                    u16_at(body + 2),
                    u32_at(body + 4),
                    u16_at(body + 12),
                    u16_at(body + 14),
                ) else {
                    return Ok(());
                };
                check_rate_channels(f64::from(rate), u64::from(ch))?;
                if tag == 0xFFFE {
                    if len < 40 {
                        return Err(format!(
                            "the WAVE_FORMAT_EXTENSIBLE fmt chunk is {len} bytes long, 40 are needed"
                        ));
                    }
                    if let (Some(valid), Some(sub)) = (u16_at(body + 18), u16_at(body + 24)) {
                        if valid > bits {
                            return Err(format!(
                                "{valid} valid bits in {bits}-bit samples (WAVE_FORMAT_EXTENSIBLE)"
                            ));
                        }
                        tag = sub;
                    }
                }
                let sizes: &[u16] = match tag {
                    1 => &[8, 16, 24, 32],
                    3 => &[32, 64],
                    _ => return Ok(()),
                };
                if !sizes.contains(&bits) {
                    return Err(format!(
                        "{bits}-bit {} samples are not a valid WAV format",
                        if tag == 3 { "float" } else { "integer" }
                    ));
                }
                let want = u32::from(ch) * u32::from(bits) / 8;
                if u32::from(align) != want {
                    return Err(format!(
                        "block align {align} does not match {ch} channels of {bits} bits (expected {want})"
                    ));
                }
                return Ok(());
            }
            b"data" => return Err("the data chunk comes before the fmt chunk".into()),
            _ => pos = body + len as usize + (len as usize & 1),
        }
    }
    Ok(())
}

fn check_aiff(head: &[u8]) -> std::result::Result<(), String> {
    let u32_at = |i: usize| {
        head.get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut pos = 12;
    while let (Some(id), Some(len)) = (head.get(pos..pos + 4), u32_at(pos + 4)) {
        let body = pos + 8;
        if id == b"COMM" {
            let Some(c) = head.get(body..body + 18) else {
                return Ok(());
            };
            let channels = u64::from(u16::from_be_bytes([c[0], c[1]]));
            let bits = i16::from_be_bytes([c[6], c[7]]);
            // 80-bit IEEE extended: sign and 15-bit exponent, 64-bit mantissa.
            let exp = i32::from(u16::from_be_bytes([c[8], c[9]]) & 0x7fff) - 16_383;
            let mant = u64::from_be_bytes([c[10], c[11], c[12], c[13], c[14], c[15], c[16], c[17]]);
            let rate = if (0..64).contains(&exp) {
                mant as f64 * 2f64.powi(exp - 63)
            } else {
                0.0
            };
            if c[8] & 0x80 != 0 {
                return Err("the sample rate is negative".into());
            }
            check_rate_channels(rate, channels)?;
            if !(1..=32).contains(&bits) {
                return Err(format!("{bits}-bit samples are not a valid AIFF format"));
            }
            return Ok(());
        }
        pos = body + len as usize + (len as usize & 1);
    }
    Ok(())
}

fn check_flac(head: &[u8]) -> std::result::Result<(), String> {
    // fLaC, then STREAMINFO: a 4-byte block header and 34 bytes.
    let Some(si) = head.get(8..8 + 18) else {
        return Ok(());
    };
    if head[4] & 0x7f != 0 {
        return Err("the first metadata block is not STREAMINFO".into());
    }
    let min_block = u16::from_be_bytes([si[0], si[1]]);
    let max_block = u16::from_be_bytes([si[2], si[3]]);
    if min_block < 16 || max_block < min_block {
        return Err(format!(
            "block sizes {min_block} ..= {max_block} are not valid (16 ..= 65535, min <= max)"
        ));
    }
    let rate = (u32::from(si[10]) << 12) | (u32::from(si[11]) << 4) | (u32::from(si[12]) >> 4);
    let channels = u64::from((si[12] >> 1) & 0x7) + 1;
    check_rate_channels(f64::from(rate), channels)
}

fn codec_words(codec: CodecType, bits: Option<u32>) -> (String, bool, bool) {
    use codecs::*;
    let b = bits.map_or(String::new(), |b| format!("{b}-bit "));
    match codec {
        CODEC_TYPE_PCM_F32LE
        | CODEC_TYPE_PCM_F32BE
        | CODEC_TYPE_PCM_F32LE_PLANAR
        | CODEC_TYPE_PCM_F32BE_PLANAR => ("32-bit float PCM".into(), true, false),
        CODEC_TYPE_PCM_F64LE
        | CODEC_TYPE_PCM_F64BE
        | CODEC_TYPE_PCM_F64LE_PLANAR
        | CODEC_TYPE_PCM_F64BE_PLANAR => ("64-bit float PCM".into(), true, false),
        CODEC_TYPE_PCM_ALAW => ("A-law".into(), false, true),
        CODEC_TYPE_PCM_MULAW => ("mu-law".into(), false, true),
        CODEC_TYPE_FLAC => (format!("{b}FLAC"), false, false),
        CODEC_TYPE_MP3 | CODEC_TYPE_MP2 | CODEC_TYPE_MP1 => ("MPEG audio".into(), false, true),
        CODEC_TYPE_VORBIS => ("Vorbis".into(), false, true),
        CODEC_TYPE_ADPCM_MS | CODEC_TYPE_ADPCM_IMA_WAV => ("ADPCM".into(), false, true),
        CODEC_TYPE_PCM_S32LE
        | CODEC_TYPE_PCM_S32LE_PLANAR
        | CODEC_TYPE_PCM_S32BE
        | CODEC_TYPE_PCM_S32BE_PLANAR
        | CODEC_TYPE_PCM_S24LE
        | CODEC_TYPE_PCM_S24LE_PLANAR
        | CODEC_TYPE_PCM_S24BE
        | CODEC_TYPE_PCM_S24BE_PLANAR
        | CODEC_TYPE_PCM_S16LE
        | CODEC_TYPE_PCM_S16LE_PLANAR
        | CODEC_TYPE_PCM_S16BE
        | CODEC_TYPE_PCM_S16BE_PLANAR
        | CODEC_TYPE_PCM_S8
        | CODEC_TYPE_PCM_S8_PLANAR
        | CODEC_TYPE_PCM_U32LE
        | CODEC_TYPE_PCM_U32LE_PLANAR
        | CODEC_TYPE_PCM_U32BE
        | CODEC_TYPE_PCM_U32BE_PLANAR
        | CODEC_TYPE_PCM_U24LE
        | CODEC_TYPE_PCM_U24LE_PLANAR
        | CODEC_TYPE_PCM_U24BE
        | CODEC_TYPE_PCM_U24BE_PLANAR
        | CODEC_TYPE_PCM_U16LE
        | CODEC_TYPE_PCM_U16LE_PLANAR
        | CODEC_TYPE_PCM_U16BE
        | CODEC_TYPE_PCM_U16BE_PLANAR
        | CODEC_TYPE_PCM_U8
        | CODEC_TYPE_PCM_U8_PLANAR => (format!("{b}integer PCM"), false, false),
        _ => ("audio".into(), false, true),
    }
}

fn unsupported_codec_name(codec: CodecType) -> &'static str {
    use codecs::*;
    match codec {
        CODEC_TYPE_OPUS => "Opus",
        CODEC_TYPE_AAC => "AAC",
        CODEC_TYPE_ALAC => "ALAC",
        CODEC_TYPE_WAVPACK => "WavPack",
        CODEC_TYPE_NULL => "an unknown codec",
        _ => "this codec",
    }
}

/// Turns a symphonia error into a reason a user can act on.
fn explain(e: &SymError) -> String {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends in the middle of its header or data (truncated)".into()
        }
        SymError::IoError(io) => format!("read error: {io}"),
        SymError::DecodeError(m) => format!("corrupt audio data ({m})"),
        SymError::Unsupported(m) => format!("unsupported file feature ({m})"),
        SymError::LimitError(m) => format!("the file exceeds a decoder limit ({m})"),
        SymError::SeekError(_) => "the file cannot be read from the start".into(),
        SymError::ResetRequired => {
            "the stream changes its format part-way (chained streams are not supported)".into()
        }
    }
}

fn panic_reason(p: &(dyn std::any::Any + Send)) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the decoder failed on malformed data ({msg})")
}

/// A decoded packet of any sample type as interleaved `f32` (full scale ±1), into `out`,
/// with `symphonia`'s own conversions (the values are those of its `SampleBuffer`).
fn interleave_ref(decoded: &AudioBufferRef<'_>, out: &mut Vec<f32>) {
    match decoded {
        AudioBufferRef::U8(b) => interleave(b, out),
        AudioBufferRef::U16(b) => interleave(b, out),
        AudioBufferRef::U24(b) => interleave(b, out),
        AudioBufferRef::U32(b) => interleave(b, out),
        AudioBufferRef::S8(b) => interleave(b, out),
        AudioBufferRef::S16(b) => interleave(b, out),
        AudioBufferRef::S24(b) => interleave(b, out),
        AudioBufferRef::S32(b) => interleave(b, out),
        AudioBufferRef::F32(b) => interleave(b, out),
        AudioBufferRef::F64(b) => interleave(b, out),
    }
}

/// The planar `buf` interleaved into `out` as `f32`: one pass over contiguous channel slices,
/// stereo written a frame at a time (the loop vectorises; a per-sample strided copy costs
/// several times as much on 24-bit files).
fn interleave<S: Sample + IntoSample<f32>>(buf: &AudioBuffer<S>, out: &mut Vec<f32>) {
    let ch = buf.spec().channels.count();
    let n = buf.frames();
    out.clear();
    out.resize(n * ch, 0.0);
    if ch == 2 {
        let (l, r) = (&buf.chan(0)[..n], &buf.chan(1)[..n]);
        for ((o, &a), &b) in out.chunks_exact_mut(2).zip(l).zip(r) {
            o[0] = a.into_sample();
            o[1] = b.into_sample();
        }
    } else {
        for c in 0..ch {
            for (o, &s) in out[c..].iter_mut().step_by(ch).zip(&buf.chan(c)[..n]) {
                *o = s.into_sample();
            }
        }
    }
}

/// Plain PCM layouts whose packets [`AudioReader`] converts straight from their bytes to
/// interleaved `f32`, with `symphonia`'s own sample conversions: the values its PCM decoder
/// and [`interleave_ref`] give, without the decoder's per-sample fill of planar buffers and
/// the interleaving after it (most of the decoding time of a 24-bit WAV). Packets that do not
/// hold whole frames of this layout still go through the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawPcm {
    S16Le,
    S24Le,
    S32Le,
    F32Le,
    F64Le,
    S16Be,
    S24Be,
    S32Be,
    F32Be,
    F64Be,
}

impl RawPcm {
    /// The layout of a track, when its samples are stored at their full width (no shift).
    fn of(params: &codecs::CodecParameters) -> Option<Self> {
        let raw = match params.codec {
            codecs::CODEC_TYPE_PCM_S16LE => Self::S16Le,
            codecs::CODEC_TYPE_PCM_S24LE => Self::S24Le,
            codecs::CODEC_TYPE_PCM_S32LE => Self::S32Le,
            codecs::CODEC_TYPE_PCM_F32LE => Self::F32Le,
            codecs::CODEC_TYPE_PCM_F64LE => Self::F64Le,
            codecs::CODEC_TYPE_PCM_S16BE => Self::S16Be,
            codecs::CODEC_TYPE_PCM_S24BE => Self::S24Be,
            codecs::CODEC_TYPE_PCM_S32BE => Self::S32Be,
            codecs::CODEC_TYPE_PCM_F32BE => Self::F32Be,
            codecs::CODEC_TYPE_PCM_F64BE => Self::F64Be,
            _ => return None,
        };
        // The decoder shifts samples coded narrower than their type; those keep it.
        let float = matches!(raw, Self::F32Le | Self::F64Le | Self::F32Be | Self::F64Be);
        let coded = params.bits_per_coded_sample.or(params.bits_per_sample);
        (float && coded.is_none() || coded == Some(8 * raw.width() as u32)).then_some(raw)
    }

    /// Bytes per sample.
    fn width(self) -> usize {
        match self {
            Self::S16Le | Self::S16Be => 2,
            Self::S24Le | Self::S24Be => 3,
            Self::S32Le | Self::S32Be | Self::F32Le | Self::F32Be => 4,
            Self::F64Le | Self::F64Be => 8,
        }
    }

    /// The samples of `bytes` (whole samples of this layout), interleaved as stored, into
    /// `out` as `f32` (full scale ±1).
    fn convert(self, bytes: &[u8], out: &mut Vec<f32>) {
        fn each<const W: usize>(bytes: &[u8], out: &mut Vec<f32>, f: impl Fn([u8; W]) -> f32) {
            let (samples, _) = bytes.as_chunks::<W>();
            out.clear();
            out.resize(samples.len(), 0.0);
            for (o, &b) in out.iter_mut().zip(samples) {
                *o = f(b);
            }
        }
        use symphonia::core::sample::i24;
        let s24 = |v: i32| f32::from_sample(i24(v >> 8));
        match self {
            Self::S16Le => each(bytes, out, |b| f32::from_sample(i16::from_le_bytes(b))),
            Self::S16Be => each(bytes, out, |b| f32::from_sample(i16::from_be_bytes(b))),
            Self::S24Le => s24_le(bytes, out),
            Self::S24Be => each(bytes, out, |[a, b, c]| {
                s24(i32::from_be_bytes([a, b, c, 0]))
            }),
            Self::S32Le => each(bytes, out, |b| f32::from_sample(i32::from_le_bytes(b))),
            Self::S32Be => each(bytes, out, |b| f32::from_sample(i32::from_be_bytes(b))),
            Self::F32Le => each(bytes, out, f32::from_le_bytes),
            Self::F32Be => each(bytes, out, f32::from_be_bytes),
            Self::F64Le => each(bytes, out, |b| f32::from_sample(f64::from_le_bytes(b))),
            Self::F64Be => each(bytes, out, |b| f32::from_sample(f64::from_be_bytes(b))),
        }
    }
}

/// Where an [`AudioReader`]'s samples come from.
enum Stream {
    /// Packets from `symphonia`'s container reader (then decoded, or converted if plain PCM).
    Packets(Box<dyn FormatReader>),
    /// A plain PCM WAV's data chunk, read straight from the file.
    Direct(Direct),
}

/// Frames read from the file per piece by [`Direct`].
const DIRECT_FRAMES: usize = 8_192;

/// A plain PCM data chunk read straight from its file in pieces of [`DIRECT_FRAMES`] and
/// converted with [`RawPcm::convert`] (one copy out of the page cache, none through packets).
struct Direct {
    file: File,
    raw: RawPcm,
    /// Bytes per frame.
    frame: u64,
    /// File offset of the first frame.
    start: u64,
    /// Frames in the data chunk, as its header gives them.
    frames: u64,
    /// The next frame to read.
    next: u64,
    bytes: Vec<u8>,
}

impl Direct {
    /// The data chunk of `path` holding `frames` frames of `channels` samples laid out as
    /// `raw`, from byte `start` on.
    fn open(
        path: &Path,
        raw: RawPcm,
        channels: usize,
        start: u64,
        frames: u64,
    ) -> std::io::Result<Self> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(start))?;
        let frame = (raw.width() * channels) as u64;
        Ok(Self {
            file,
            raw,
            frame,
            start,
            frames,
            next: 0,
            bytes: vec![0; DIRECT_FRAMES * frame as usize],
        })
    }

    /// The next piece of whole frames into `out`; false at the end of the chunk or of the
    /// file (a partial frame at the end of a short file is left out, as `symphonia` does).
    fn next(&mut self, out: &mut Vec<f32>) -> std::io::Result<bool> {
        let want = (self
            .frames
            .saturating_sub(self.next)
            .min(DIRECT_FRAMES as u64)
            * self.frame) as usize;
        let mut filled = 0;
        while filled < want {
            match self.file.read(&mut self.bytes[filled..want]) {
                Ok(0) => break,
                Ok(k) => filled += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let whole = filled - filled % self.frame as usize;
        if whole == 0 {
            return Ok(false);
        }
        self.raw.convert(&self.bytes[..whole], out);
        self.next += whole as u64 / self.frame;
        if whole < filled {
            // The file ended inside a frame: nothing follows.
            self.frames = self.next;
        }
        Ok(true)
    }

    /// Moves to `frame` (at most the chunk's end) and returns it.
    fn seek(&mut self, frame: u64) -> std::io::Result<u64> {
        let frame = frame.min(self.frames);
        self.file
            .seek(SeekFrom::Start(self.start + frame * self.frame))?;
        self.next = frame;
        Ok(frame)
    }
}

/// [`RawPcm::convert`] for 24-bit little-endian samples: each sample read as the four bytes
/// from its own on (the fourth, the next sample's first, shifted out), which is the value
/// `symphonia` gives (`i24 / 2^23`, exact in `f32`) as `(word << 8) / 2^31`.
fn s24_le(bytes: &[u8], out: &mut Vec<f32>) {
    let n = bytes.len() / 3;
    out.clear();
    out.resize(n, 0.0);
    let scale = 1.0 / 2_147_483_648.0;
    let whole = n.saturating_sub(1);
    for (i, o) in out[..whole].iter_mut().enumerate() {
        let w: [u8; 4] = bytes[3 * i..3 * i + 4].try_into().expect("four bytes");
        *o = ((u32::from_le_bytes(w) << 8) as i32) as f32 * scale;
    }
    if let Some(o) = out[whole..].first_mut() {
        let b = &bytes[3 * whole..3 * whole + 3];
        *o = i32::from_le_bytes([0, b[0], b[1], b[2]]) as f32 * scale;
    }
}

/// A file being decoded, one packet at a time.
pub struct AudioReader {
    path: PathBuf,
    info: InputInfo,
    /// Exact length to deliver when the container states it (extra decoded frames, e.g. a
    /// Vorbis stream's last packet or bytes past an AIFF sound chunk, are cut).
    limit: Option<u64>,
    /// Whether a shortfall against `limit` means truncation (PCM and FLAC; not lossy codecs).
    strict: bool,
    stream: Stream,
    decoder: Box<dyn Decoder>,
    /// Set for plain PCM, whose packets are converted straight from their bytes.
    raw: Option<RawPcm>,
    track_id: u32,
    /// The last decoded packet, interleaved (see [`interleave`]).
    buffer: Vec<f32>,
    frames_read: u64,
    skipped: u32,
    decoded_any: bool,
    done: bool,
}

impl std::fmt::Debug for AudioReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioReader")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("frames_read", &self.frames_read)
            .finish_non_exhaustive()
    }
}

impl AudioReader {
    /// Opens `path` and reads its header.
    ///
    /// # Errors
    /// Missing or unreadable file, not audio, unsupported codec, rate or channel count, empty.
    pub fn open(path: &Path) -> Result<Self> {
        match catch_unwind(AssertUnwindSafe(|| Self::open_inner(path, true))) {
            Ok(r) => r,
            Err(p) => Err(Failure::file(path, panic_reason(p.as_ref()))),
        }
    }

    /// [`open`](Self::open); `direct` allows reading a plain PCM WAV's data chunk straight
    /// from the file (tests compare it with the packet route).
    fn open_inner(path: &Path, direct: bool) -> Result<Self> {
        let fail = |r: String| Failure::file(path, r);
        let meta = std::fs::metadata(path).map_err(|e| fail(io_reason(&e)))?;
        if meta.is_dir() {
            return Err(fail("is a directory, not an audio file".into()));
        }
        if meta.len() == 0 {
            return Err(fail("the file is empty (0 bytes)".into()));
        }
        let mut file = File::open(path).map_err(|e| fail(io_reason(&e)))?;
        let mut head = vec![0u8; 1 << 16];
        let mut n = 0;
        while n < head.len() {
            match file.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(fail(io_reason(&e))),
            }
        }
        head.truncate(n);
        let container = Container::sniff(&head).ok_or_else(|| {
            fail(
                "not an audio file Lathe can read (expected WAV, AIFF, FLAC, MP3 or Ogg Vorbis)"
                    .into(),
            )
        })?;
        check_header(container, &head)
            .map_err(|r| fail(format!("bad {} header: {r}", container.name())))?;
        let file = File::open(path).map_err(|e| fail(io_reason(&e)))?;
        let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let mut hint = Hint::new();
        hint.with_extension(match container {
            Container::Wav => "wav",
            Container::Aiff => "aiff",
            Container::Flac => "flac",
            Container::Ogg => "ogg",
            Container::Mp3 => "mp3",
        });
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions {
                    enable_gapless: true,
                    ..FormatOptions::default()
                },
                &MetadataOptions::default(),
            )
            .map_err(|e| {
                fail(format!(
                    "not a readable {} file: {}",
                    container.name(),
                    explain(&e)
                ))
            })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != codecs::CODEC_TYPE_NULL)
            .or_else(|| format.tracks().first())
            .ok_or_else(|| fail("the file holds no audio track".into()))?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let bits = params.bits_per_sample;
        let (codec_text, float, lossy) = codec_words(params.codec, bits);
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|_| {
                fail(format!(
                    "unsupported codec: {} in {} (Lathe reads PCM WAV/AIFF, FLAC, MP3 and Ogg Vorbis)",
                    unsupported_codec_name(params.codec),
                    container.name()
                ))
            })?;
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| fail("the header gives no sample rate".into()))?;
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(fail(format!(
                "sample rate {sample_rate} Hz is outside the supported {MIN_SAMPLE_RATE} ..= {MAX_SAMPLE_RATE} Hz"
            )));
        }
        let channels = params.channels.map_or(0, |c| c.count());
        if channels == 0 {
            return Err(fail("the header gives no channels".into()));
        }
        if channels > MAX_CHANNELS {
            return Err(fail(format!(
                "{channels} channels; Lathe reads 1 to {MAX_CHANNELS}"
            )));
        }
        let mut frames = params.n_frames;
        if container == Container::Aiff {
            // symphonia counts the SSND chunk's 8-byte offset/block-size header as audio.
            let frame_bytes = u64::from(bits.unwrap_or(16).div_ceil(8)) * channels as u64;
            frames = frames.map(|n| n.saturating_sub(8 / frame_bytes.max(1)));
        }
        let limit = match container {
            Container::Mp3 => None,
            _ => frames,
        };
        let strict = !lossy;
        if frames == Some(0) {
            return Err(fail("the file holds no audio (0 frames)".into()));
        }
        let raw = RawPcm::of(&params);
        // A WAV's data chunk is plain frames from where `symphonia` stopped reading the
        // header to the length it gives (the fmt chunk's block align was checked to be one
        // frame); it is then read in large pieces straight from the file.
        let stream = match (container, raw, frames) {
            (Container::Wav, Some(raw), Some(frames)) if direct => {
                let start = format.into_inner().pos();
                Stream::Direct(
                    Direct::open(path, raw, channels, start, frames)
                        .map_err(|e| fail(io_reason(&e)))?,
                )
            }
            _ => Stream::Packets(format),
        };
        Ok(Self {
            path: path.to_path_buf(),
            limit,
            strict,
            info: InputInfo {
                sample_rate,
                channels,
                frames,
                format: format!("{}, {codec_text}", container.name()),
                float,
                lossy,
                bits,
            },
            stream,
            decoder,
            raw,
            track_id,
            buffer: Vec::new(),
            frames_read: 0,
            skipped: 0,
            decoded_any: false,
            done: false,
        })
    }

    /// What the file holds.
    pub fn info(&self) -> &InputInfo {
        &self.info
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames handed out so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// The next decoded block: interleaved samples, [`InputInfo::channels`] per frame, any
    /// number of frames; `None` once the file is exhausted (and found complete).
    ///
    /// # Errors
    /// Corrupt or truncated data, a NaN or infinite sample, an empty stream, a decoder crash.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>> {
        if self.done {
            return Ok(None);
        }
        let got = match catch_unwind(AssertUnwindSafe(|| self.decode_next())) {
            Ok(r) => r,
            Err(p) => Err(Failure::file(&self.path, panic_reason(p.as_ref()))),
        };
        match got {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        }
        let ch = self.info.channels;
        let mut samples = &self.buffer[..];
        if let Some(limit) = self.limit {
            let left = limit.saturating_sub(self.frames_read);
            if (samples.len() / ch) as u64 >= left {
                samples = &samples[..left as usize * ch];
                self.done = true;
                if samples.is_empty() {
                    return Ok(None);
                }
            }
        }
        if let Some(i) = first_non_finite(samples) {
            self.done = true;
            let frame = self.frames_read + (i / ch) as u64;
            return Err(Failure::file(
                &self.path,
                format!(
                    "sample {} of channel {} is {} (at {:.3} s): the file is damaged",
                    frame,
                    i % ch + 1,
                    if samples[i].is_nan() {
                        "NaN"
                    } else {
                        "infinite"
                    },
                    frame as f64 / f64::from(self.info.sample_rate)
                ),
            ));
        }
        self.frames_read += (samples.len() / ch) as u64;
        Ok(Some(samples))
    }

    /// Moves to about `seconds` into the stream (a coarse seek: the position reached may be
    /// a little before or after) and returns the frame reached. Later blocks continue from
    /// there; the end-of-stream checks (truncation) stay meaningful only for a reader that
    /// never seeked, so a seeked reader is for sampling (the mastering pre-scan), not for
    /// passes.
    ///
    /// # Errors
    /// The container cannot seek there, or the decoder failed.
    pub fn seek_seconds(&mut self, seconds: f64) -> Result<u64> {
        let track_id = self.track_id;
        let format = match &mut self.stream {
            Stream::Packets(format) => format,
            Stream::Direct(direct) => {
                let frame = (seconds.max(0.0) * f64::from(self.info.sample_rate)) as u64;
                let to = direct
                    .seek(frame)
                    .map_err(|e| Failure::file(&self.path, io_reason(&e)))?;
                self.frames_read = to;
                self.done = false;
                return Ok(to);
            }
        };
        let got = catch_unwind(AssertUnwindSafe(|| {
            format.seek(
                SeekMode::Coarse,
                SeekTo::Time {
                    time: seconds.max(0.0).into(),
                    track_id: Some(track_id),
                },
            )
        }));
        match got {
            Ok(Ok(to)) => {
                self.decoder.reset();
                self.frames_read = to.actual_ts;
                self.done = false;
                Ok(to.actual_ts)
            }
            Ok(Err(e)) => Err(Failure::file(&self.path, explain(&e))),
            Err(p) => Err(Failure::file(&self.path, panic_reason(p.as_ref()))),
        }
    }

    /// Decodes the next non-empty packet into `self.buffer`; false at a complete end.
    fn decode_next(&mut self) -> Result<bool> {
        let fail = |r: String| Failure::file(&self.path, r);
        let format = match &mut self.stream {
            Stream::Packets(format) => format,
            Stream::Direct(direct) => {
                return match direct.next(&mut self.buffer) {
                    Ok(true) => {
                        self.decoded_any = true;
                        Ok(true)
                    }
                    Ok(false) => self.check_end(),
                    Err(e) => Err(fail(io_reason(&e))),
                }
            }
        };
        loop {
            let packet = match format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.check_end();
                }
                Err(e) => return Err(fail(explain(&e))),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            if let Some(raw) = self.raw {
                let bytes = packet.buf();
                let whole =
                    bytes.len() as u64 == packet.dur() * (raw.width() * self.info.channels) as u64;
                if whole {
                    if bytes.is_empty() {
                        continue;
                    }
                    raw.convert(bytes, &mut self.buffer);
                    self.decoded_any = true;
                    return Ok(true);
                }
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(m)) if self.info.lossy && self.decoded_any => {
                    self.skipped += 1;
                    if self.skipped > MAX_SKIPPED_PACKETS {
                        return Err(fail(format!(
                            "corrupt audio data: more than {MAX_SKIPPED_PACKETS} damaged packets ({m})"
                        )));
                    }
                    continue;
                }
                Err(e) => return Err(fail(explain(&e))),
            };
            let spec = *decoded.spec();
            if spec.channels.count() != self.info.channels {
                return Err(fail(format!(
                    "the channel count changes part-way ({} to {})",
                    self.info.channels,
                    spec.channels.count()
                )));
            }
            if spec.rate != self.info.sample_rate {
                return Err(fail(format!(
                    "the sample rate changes part-way ({} to {} Hz)",
                    self.info.sample_rate, spec.rate
                )));
            }
            if decoded.frames() == 0 {
                continue;
            }
            interleave_ref(&decoded, &mut self.buffer);
            self.decoded_any = true;
            return Ok(true);
        }
    }

    /// At the end of the stream: was anything read, and all the header promised?
    fn check_end(&mut self) -> Result<bool> {
        if self.frames_read == 0 {
            return Err(Failure::file(
                &self.path,
                "the file holds no decodable audio (0 frames)",
            ));
        }
        if let (Some(n), true) = (self.limit, self.strict) {
            if self.frames_read < n && !self.unknown_length_marker(n) {
                let fs = f64::from(self.info.sample_rate);
                return Err(Failure::file(
                    &self.path,
                    format!(
                        "truncated: the header announces {n} frames ({:.3} s) but the data ends after {} ({:.3} s)",
                        n as f64 / fs,
                        self.frames_read,
                        self.frames_read as f64 / fs
                    ),
                ));
            }
        }
        Ok(false)
    }

    /// A WAV written while streaming may carry 0xFFFFFFFF as its data length ("unknown").
    fn unknown_length_marker(&self, n: u64) -> bool {
        let Some(bits) = self.info.bits else {
            return false;
        };
        let frame_bytes = u64::from(bits.div_ceil(8)) * self.info.channels as u64;
        frame_bytes > 0 && n == u64::from(u32::MAX) / frame_bytes
    }
}

/// A user-facing reason for an I/O error on an input.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Anything that yields interleaved blocks: a decoder, or a resampler over one.
pub trait BlockSource {
    /// Channels per frame.
    fn channels(&self) -> usize;
    /// Sample rate of the blocks, Hz.
    fn sample_rate(&self) -> u32;
    /// The next block of interleaved samples; `None` at the end.
    ///
    /// # Errors
    /// As [`AudioReader::next_block`].
    fn next_block(&mut self) -> Result<Option<&[f32]>>;
}

impl BlockSource for AudioReader {
    fn channels(&self) -> usize {
        self.info.channels
    }
    fn sample_rate(&self) -> u32 {
        self.info.sample_rate
    }
    fn next_block(&mut self) -> Result<Option<&[f32]>> {
        AudioReader::next_block(self)
    }
}

/// Index of the first NaN or infinite sample. Clean blocks (nearly all) are checked 64
/// samples at a time with a branch-free bit test that vectorises; only a chunk that fails is
/// searched sample by sample.
fn first_non_finite(samples: &[f32]) -> Option<usize> {
    // Exponent all ones: NaN or infinity.
    let bad = |s: &f32| s.to_bits() & 0x7f80_0000 == 0x7f80_0000;
    let mut at = 0;
    for chunk in samples.chunks(64) {
        if chunk.iter().fold(false, |any, s| any | bad(s)) {
            return chunk.iter().position(bad).map(|i| at + i);
        }
        at += chunk.len();
    }
    None
}

/// Reads a [`BlockSource`] as blocks of `CH`-channel frames; a mono source read as stereo is
/// duplicated to both channels.
pub struct FrameReader<const CH: usize> {
    source: Box<dyn BlockSource + Send>,
    block: Vec<[f32; CH]>,
}

impl<const CH: usize> std::fmt::Debug for FrameReader<CH> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("channels", &CH)
            .finish()
    }
}

impl<const CH: usize> FrameReader<CH> {
    /// Frames of `CH` channels from `source` (which has `CH` channels, or 1).
    ///
    /// # Panics
    /// If the source has another channel count (a programming error: callers dispatch on it).
    pub fn new(source: Box<dyn BlockSource + Send>) -> Self {
        assert!(
            source.channels() == CH || source.channels() == 1,
            "{} channels read as {CH}",
            source.channels()
        );
        Self {
            source,
            block: Vec::new(),
        }
    }

    /// Sample rate, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.source.sample_rate()
    }

    /// The next block of frames; `None` at the end.
    ///
    /// # Errors
    /// As [`AudioReader::next_block`].
    pub fn next_frames(&mut self) -> Result<Option<&[[f32; CH]]>> {
        let mono = self.source.channels() == 1 && CH != 1;
        let Some(samples) = self.source.next_block()? else {
            return Ok(None);
        };
        if !mono {
            // The interleaved samples are already frames of `CH`.
            return Ok(Some(samples.as_chunks::<CH>().0));
        }
        self.block.clear();
        self.block.extend(samples.iter().map(|&s| [s; CH]));
        Ok(Some(&self.block))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interleaving gives `symphonia`'s `SampleBuffer` values bit for bit, for every
    /// sample type a decoder produces, mono to eight channels.
    #[test]
    fn interleaving_matches_the_sample_buffer() {
        use std::borrow::Cow;
        use symphonia::core::audio::{Channels, SampleBuffer, SignalSpec};
        use symphonia::core::sample::{i24, u24};
        macro_rules! check {
            ($variant:ident, $make:expr) => {
                for ch in [1usize, 2, 3, 8] {
                    let layout = Channels::from_bits(((1u64 << ch) - 1) as u32).unwrap();
                    let spec = SignalSpec::new(44_100, layout);
                    let mut buf = AudioBuffer::new(1_000, spec);
                    buf.render_reserved(Some(777));
                    let mut seed = 3u32;
                    for c in 0..ch {
                        for v in buf.chan_mut(c) {
                            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                            *v = $make(seed);
                        }
                    }
                    let mut want = SampleBuffer::<f32>::new(1_000, spec);
                    want.copy_interleaved_ref(AudioBufferRef::$variant(Cow::Borrowed(&buf)));
                    let mut got = Vec::new();
                    interleave_ref(&AudioBufferRef::$variant(Cow::Borrowed(&buf)), &mut got);
                    assert_eq!(got.len(), 777 * ch);
                    let same = got
                        .iter()
                        .zip(want.samples())
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{}, {ch} channels", stringify!($variant));
                }
            };
        }
        check!(U8, |r: u32| (r >> 24) as u8);
        check!(U16, |r: u32| (r >> 16) as u16);
        check!(U24, |r: u32| u24::from(r >> 8));
        check!(U32, |r: u32| r);
        check!(S8, |r: u32| (r >> 24) as i8);
        check!(S16, |r: u32| (r >> 16) as i16);
        check!(S24, |r: u32| i24::from((r as i32) >> 8));
        check!(S32, |r: u32| r as i32);
        check!(F32, |r: u32| r as f32 / u32::MAX as f32 - 0.5);
        check!(F64, |r: u32| f64::from(r) / f64::from(u32::MAX) - 0.5);
    }

    /// Plain PCM packets converted straight from their bytes give the values of
    /// `symphonia`'s PCM decoder and the interleaving bit for bit, for every layout taken
    /// that way, mono to eight channels; samples coded narrower than their type keep the
    /// decoder.
    #[test]
    fn raw_pcm_matches_the_decoder() {
        use symphonia::core::audio::Channels;
        use symphonia::core::codecs::CodecParameters;
        use symphonia::core::formats::Packet;
        let layouts = [
            (codecs::CODEC_TYPE_PCM_S16LE, Some(16)),
            (codecs::CODEC_TYPE_PCM_S24LE, Some(24)),
            (codecs::CODEC_TYPE_PCM_S32LE, Some(32)),
            (codecs::CODEC_TYPE_PCM_F32LE, None),
            (codecs::CODEC_TYPE_PCM_F64LE, None),
            (codecs::CODEC_TYPE_PCM_S16BE, Some(16)),
            (codecs::CODEC_TYPE_PCM_S24BE, Some(24)),
            (codecs::CODEC_TYPE_PCM_S32BE, Some(32)),
            (codecs::CODEC_TYPE_PCM_F32BE, None),
            (codecs::CODEC_TYPE_PCM_F64BE, None),
        ];
        let mut seed = 7u64;
        for (codec, bits) in layouts {
            for ch in [1usize, 2, 3, 8] {
                let mut params = CodecParameters::new();
                params
                    .for_codec(codec)
                    .with_sample_rate(48_000)
                    .with_max_frames_per_packet(4_096)
                    .with_channels(Channels::from_bits(((1u64 << ch) - 1) as u32).unwrap());
                if let Some(b) = bits {
                    params.with_bits_per_sample(b).with_bits_per_coded_sample(b);
                }
                let raw = RawPcm::of(&params).expect("a plain layout");
                let frames = 1_000;
                let bytes: Vec<u8> = (0..frames * ch)
                    .flat_map(|_| {
                        seed = seed
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        let v = seed >> 11;
                        // Floats: finite values within ±2 (the generator's bits in the mantissa).
                        let f = (v as f64 / (1u64 << 53) as f64 - 0.5) * 4.0;
                        let b: Vec<u8> = match raw {
                            RawPcm::F32Le => (f as f32).to_le_bytes().to_vec(),
                            RawPcm::F32Be => (f as f32).to_be_bytes().to_vec(),
                            RawPcm::F64Le => f.to_le_bytes().to_vec(),
                            RawPcm::F64Be => f.to_be_bytes().to_vec(),
                            _ => v.to_le_bytes()[..raw.width()].to_vec(),
                        };
                        b
                    })
                    .collect();
                let mut decoder = symphonia::default::get_codecs()
                    .make(&params, &DecoderOptions::default())
                    .unwrap();
                let packet = Packet::new_from_slice(0, 0, frames as u64, &bytes);
                let mut want = Vec::new();
                interleave_ref(&decoder.decode(&packet).unwrap(), &mut want);
                let mut got = Vec::new();
                raw.convert(&bytes, &mut got);
                assert_eq!(got.len(), frames * ch);
                let same = got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{raw:?}, {ch} channels");
            }
        }
        // 20-bit samples in 24-bit words are shifted by the decoder: not taken raw.
        let mut params = CodecParameters::new();
        params
            .for_codec(codecs::CODEC_TYPE_PCM_S24LE)
            .with_bits_per_sample(20)
            .with_bits_per_coded_sample(20);
        assert_eq!(RawPcm::of(&params), None);
        params
            .for_codec(codecs::CODEC_TYPE_PCM_U8)
            .with_bits_per_coded_sample(8);
        assert_eq!(RawPcm::of(&params), None);
    }

    /// A plain PCM WAV's data chunk read straight from the file gives what the packet route
    /// gives, block for block concatenated, with chunks before and after the data, a file
    /// cut inside a frame (the same truncation error), and after seeks.
    #[test]
    fn direct_wav_reading_matches_the_packets() {
        let dir = crate::testdir::tempdir().unwrap();
        let read_all = |r: &mut AudioReader| -> (Vec<u32>, Option<String>) {
            let mut all = Vec::new();
            loop {
                match r.next_block() {
                    Ok(Some(b)) => all.extend(b.iter().map(|v| v.to_bits())),
                    Ok(None) => return (all, None),
                    Err(e) => return (all, Some(e.to_string())),
                }
            }
        };
        let mut case = 0;
        for (bits, float) in [(16, false), (24, false), (32, false), (32, true)] {
            for ch in [1u16, 2, 3] {
                case += 1;
                let path = dir.path().join(format!("d{case}.wav"));
                let spec = hound::WavSpec {
                    channels: ch,
                    sample_rate: 44_100,
                    bits_per_sample: bits,
                    sample_format: if float {
                        hound::SampleFormat::Float
                    } else {
                        hound::SampleFormat::Int
                    },
                };
                let mut w = hound::WavWriter::create(&path, spec).unwrap();
                let frames = 30_011usize;
                for i in 0..frames * usize::from(ch) {
                    let x = ((i as f64 * 0.001_3).sin() * 0.9 + (i % 7) as f64 * 0.01) as f32;
                    if float {
                        w.write_sample(x).unwrap();
                    } else {
                        let full = (1i64 << (bits - 1)) as f64;
                        w.write_sample((f64::from(x) * full).round().min(full - 1.0) as i32)
                            .unwrap();
                    }
                }
                w.finalize().unwrap();
                // A chunk after the data, which neither route may read as audio.
                let mut bytes = std::fs::read(&path).unwrap();
                bytes.extend_from_slice(b"junk\x04\x00\x00\x00abcd");
                let riff = (bytes.len() - 8) as u32;
                bytes[4..8].copy_from_slice(&riff.to_le_bytes());
                std::fs::write(&path, &bytes).unwrap();
                let cut = dir.path().join(format!("c{case}.wav"));
                // Cut inside the last frames (and inside a frame where the frame is wider than
                // one byte): the header then promises more than the file holds.
                std::fs::write(&cut, &bytes[..bytes.len() - 12 - 5 * usize::from(ch) - 1]).unwrap();
                for file in [&path, &cut] {
                    let mut direct = AudioReader::open_inner(file, true).unwrap();
                    let mut packets = AudioReader::open_inner(file, false).unwrap();
                    assert!(matches!(direct.stream, Stream::Direct(_)));
                    assert!(matches!(packets.stream, Stream::Packets(_)));
                    let (a, ea) = read_all(&mut direct);
                    let (b, eb) = read_all(&mut packets);
                    assert_eq!(a.len(), b.len(), "{bits} bits, {ch} channels, {file:?}");
                    assert!(a == b, "{bits} bits, {ch} channels, {file:?}");
                    assert_eq!(ea, eb, "{file:?}");
                    assert_eq!(ea.is_some(), file == &cut);
                }
                // After a seek both routes go on from the frame they report.
                let mut direct = AudioReader::open_inner(&path, true).unwrap();
                let mut packets = AudioReader::open_inner(&path, false).unwrap();
                let whole = read_all(&mut AudioReader::open_inner(&path, false).unwrap()).0;
                for r in [&mut direct, &mut packets] {
                    let at = r.seek_seconds(0.4).unwrap() as usize;
                    assert!(at.abs_diff(17_640) <= 1_152, "{at}");
                    let (rest, e) = read_all(r);
                    assert_eq!(e, None);
                    assert!(rest[..] == whole[at * usize::from(ch)..]);
                }
            }
        }
    }

    #[test]
    fn the_first_non_finite_sample_is_found_in_any_chunk() {
        let clean = vec![0.5f32; 300];
        assert_eq!(first_non_finite(&clean), None);
        assert_eq!(first_non_finite(&[]), None);
        for at in [0, 1, 63, 64, 65, 200, 299] {
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut x = clean.clone();
                x[at] = bad;
                // A later one does not hide the first.
                if at + 5 < x.len() {
                    x[at + 5] = f32::NAN;
                }
                assert_eq!(first_non_finite(&x), Some(at), "{bad} at {at}");
            }
        }
        // The largest finite values are finite.
        assert_eq!(first_non_finite(&[f32::MAX, f32::MIN, -0.0]), None);
    }

    #[test]
    fn sniffs_containers_from_content() {
        assert_eq!(
            Container::sniff(b"RIFF\0\0\0\0WAVEfmt "),
            Some(Container::Wav)
        );
        assert_eq!(
            Container::sniff(b"FORM\0\0\0\0AIFFCOMM"),
            Some(Container::Aiff)
        );
        assert_eq!(
            Container::sniff(b"FORM\0\0\0\0AIFCFVER"),
            Some(Container::Aiff)
        );
        assert_eq!(Container::sniff(b"fLaC\0\0\0\x22"), Some(Container::Flac));
        assert_eq!(Container::sniff(b"OggS\0\x02"), Some(Container::Ogg));
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz.
        assert_eq!(
            Container::sniff(&[0xff, 0xfb, 0x90, 0x64]),
            Some(Container::Mp3)
        );
        // Behind a 5-byte ID3v2 tag.
        let mut id3 = b"ID3\x04\x00\x00\x00\x00\x00\x05hello".to_vec();
        id3.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
        assert_eq!(Container::sniff(&id3), Some(Container::Mp3));
        for junk in [
            &b""[..],
            b"RIFF",
            b"RIFF\0\0\0\0AVI LIST",
            b"hello world, this is text",
            &[0xff, 0xff, 0xff, 0xff],
            &[0x89, b'P', b'N', b'G'],
        ] {
            assert_eq!(Container::sniff(junk), None, "{junk:?}");
        }
    }
}
