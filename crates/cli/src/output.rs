//! Safe output: WAV written to a temporary file beside the target, synced, then renamed.
//!
//! A failure at any point (an error, a panic unwinding, a full disk) drops the
//! [`OutputFile`], which removes its temporary file: the target is either the complete new
//! file or untouched. Integer output is quantised through a [`Quantize`] (the facade's TPDF
//! dither with noise shaping), except that frames of digital silence (every channel exactly
//! 0.0, e.g. album gaps) stay digital silence instead of becoming dither noise; float output
//! is written as it is.
//!
//! An interrupt (Ctrl-C, SIGINT or SIGTERM) ends the process without unwinding, so the binary
//! installs [`remove_temporaries_on_interrupt`]: every temporary file still in the making is
//! removed before the process exits with code 130.

use crate::error::{Failure, Result};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Sample format of a written WAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// 16-bit integer, dithered.
    Int16,
    /// 24-bit integer, dithered.
    Int24,
    /// 32-bit IEEE float.
    Float32,
}

impl SampleFormat {
    /// Parses `16`, `24` or `32f` (as the `--bits` option takes them).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "16" => Some(SampleFormat::Int16),
            "24" => Some(SampleFormat::Int24),
            "32f" | "32F" | "f32" | "float" => Some(SampleFormat::Float32),
            _ => None,
        }
    }

    /// Bits per sample.
    pub fn bits(self) -> u16 {
        match self {
            SampleFormat::Int16 => 16,
            SampleFormat::Int24 => 24,
            SampleFormat::Float32 => 32,
        }
    }

    /// Name as `--bits` takes it.
    pub fn name(self) -> &'static str {
        match self {
            SampleFormat::Int16 => "16",
            SampleFormat::Int24 => "24",
            SampleFormat::Float32 => "32f",
        }
    }

    /// The format of a WAV: integer or float at these bits.
    pub fn is_float(self) -> bool {
        self == SampleFormat::Float32
    }
}

/// Turns a float sample (full scale ±1) into an integer of the output's bit depth.
pub trait Quantize: Send {
    /// Quantises sample `x` of channel `ch`.
    fn quantize(&mut self, x: f32, ch: usize) -> i32;

    /// Quantises interleaved frames of `channels` samples into `out` (only the whole frames
    /// that fit both are done). A frame of digital silence (every channel exactly 0.0) gives
    /// zeros without calling [`quantize`](Quantize::quantize). Implementations may override
    /// this for speed (one dispatch per block instead of per sample) but must give the same
    /// values, e.g. with [`quantize_interleaved_with`].
    fn quantize_interleaved(&mut self, samples: &[f32], channels: usize, out: &mut [i32]) {
        quantize_interleaved_with(samples, channels, out, |x, ch| self.quantize(x, ch));
    }
}

/// The frame loop of [`Quantize::quantize_interleaved`] around a per-sample quantiser.
#[inline(always)]
pub fn quantize_interleaved_with(
    samples: &[f32],
    channels: usize,
    out: &mut [i32],
    mut quantize: impl FnMut(f32, usize) -> i32,
) {
    let channels = channels.max(1);
    for (f, o) in samples
        .chunks_exact(channels)
        .zip(out.chunks_exact_mut(channels))
    {
        if f.iter().all(|&s| s == 0.0) {
            o.fill(0);
        } else {
            for (ch, (o, &s)) in o.iter_mut().zip(f).enumerate() {
                *o = quantize(s, ch);
            }
        }
    }
}

/// Largest data chunk a RIFF WAV can describe, minus room for the header.
const MAX_WAV_DATA: u64 = u32::MAX as u64 - 1024;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Samples quantised per call of [`Quantize::quantize_interleaved`].
const QUANTIZE_BLOCK: usize = 1024;

/// Temporary files of outputs not yet committed or dropped.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn forget_pending(temp: &Path) {
    let mut p = pending();
    if let Some(i) = p.iter().position(|t| t == temp) {
        p.swap_remove(i);
    }
}

/// Exit code after an interrupt (128 + SIGINT, the shell convention).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Installs a handler for Ctrl-C (SIGINT) and SIGTERM that removes every temporary output
/// file still in the making, prints `error: interrupted` and exits with [`EXIT_INTERRUPTED`].
/// Targets are untouched: an output is either complete (already renamed into place) or absent.
///
/// # Errors
/// When a handler cannot be installed (e.g. one is already installed in this process).
pub fn remove_temporaries_on_interrupt() -> Result<()> {
    ctrlc::set_handler(|| {
        // Hold the lock while exiting, so no output is renamed or registered meanwhile.
        let p = pending();
        for temp in p.iter() {
            let _ = std::fs::remove_file(temp);
        }
        eprintln!("error: interrupted");
        std::process::exit(EXIT_INTERRUPTED);
    })
    .map_err(|e| Failure::general(format!("cannot install the interrupt handler: {e}")))
}

/// An output file in the making: a temporary file beside the target, renamed into place by
/// [`commit`](OutputFile::commit), removed if dropped before.
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl OutputFile {
    /// Reserves a temporary file in the target's directory.
    ///
    /// # Errors
    /// When the directory does not exist or is not writable.
    pub fn new(target: &Path) -> Result<Self> {
        Self::with_suffix(target, ".tmp")
    }

    /// As [`new`](OutputFile::new), with a temporary name ending in `suffix` (tools that pick
    /// a format from the extension, like the PNG encoder, need the right one).
    ///
    /// # Errors
    /// When the directory does not exist or is not writable.
    pub fn with_suffix(target: &Path, suffix: &str) -> Result<Self> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| Failure::file(target, "not a file name"))?
            .to_string_lossy();
        if !dir.is_dir() {
            return Err(Failure::file(
                target,
                format!("the directory {} does not exist", dir.display()),
            ));
        }
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = dir.join(format!(".{name}.lathe-{}-{n}{suffix}", std::process::id()));
            // Registered before it exists, so an interrupt never leaves it behind.
            pending().push(temp.clone());
            match OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(_) => {
                    return Ok(Self {
                        target: target.to_path_buf(),
                        temp,
                        committed: false,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    forget_pending(&temp);
                    continue;
                }
                Err(e) => {
                    forget_pending(&temp);
                    return Err(Failure::file(
                        target,
                        format!("cannot create a file in {}: {e}", dir.display()),
                    ));
                }
            }
        }
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary path (removed unless committed).
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Starts (or restarts, discarding what was written) a WAV in the temporary file.
    ///
    /// # Errors
    /// I/O errors.
    pub fn wav(
        &self,
        channels: usize,
        sample_rate: u32,
        format: SampleFormat,
        quantizer: Option<Box<dyn Quantize>>,
    ) -> Result<WavSink> {
        let fail = |e: &dyn std::fmt::Display| Failure::file(&self.target, e);
        let file = File::create(&self.temp).map_err(|e| fail(&e))?;
        let sync = file.try_clone().map_err(|e| fail(&e))?;
        let spec = hound::WavSpec {
            channels: u16::try_from(channels).map_err(|e| fail(&e))?,
            sample_rate,
            bits_per_sample: format.bits(),
            sample_format: if format.is_float() {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        if !format.is_float() && quantizer.is_none() {
            return Err(fail(&"integer output needs a quantiser"));
        }
        // `hound` writes the header; the samples follow in whole packed blocks, and `finish`
        // fills in the two lengths as `hound` would.
        let header = wav_header(spec).map_err(|e| fail(&e))?;
        let mut file = std::io::BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        file.write_all(&header).map_err(|e| fail(&e))?;
        Ok(WavSink {
            target: self.target.clone(),
            file: Some(file),
            flusher: Flusher::start(sync),
            flushed: 0,
            flush_every: FLUSH_EVERY_BYTES,
            header_len: header.len() as u64,
            ints: vec![0; QUANTIZE_BLOCK],
            packed: Vec::with_capacity(QUANTIZE_BLOCK * 4 + 4),
            format,
            channels,
            quantizer,
            bytes: 0,
            frames: 0,
        })
    }

    /// Renames the finished temporary file onto the target (replacing it) and syncs the
    /// directory.
    ///
    /// # Errors
    /// I/O errors; the temporary file is removed.
    pub fn commit(mut self) -> Result<()> {
        {
            // Under the lock: an interrupt handler waits until the rename is done.
            let _guard = pending();
            std::fs::rename(&self.temp, &self.target).map_err(|e| {
                Failure::file(
                    &self.target,
                    format!("cannot move the output into place: {e}"),
                )
            })?;
        }
        forget_pending(&self.temp);
        self.committed = true;
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename durable; not every platform can open a directory.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
            forget_pending(&self.temp);
        }
    }
}

/// Capacity of the buffer between the packed blocks and the file, bytes.
const WRITE_BUFFER_BYTES: usize = 1 << 18;

/// The WAV header `hound` writes for `spec`, with the RIFF and data sizes of an empty file:
/// everything before the first sample. Its last four bytes are the data chunk's length.
fn wav_header(spec: hound::WavSpec) -> std::result::Result<Vec<u8>, String> {
    let mut c = std::io::Cursor::new(Vec::new());
    hound::WavWriter::new(&mut c, spec)
        .and_then(hound::WavWriter::finalize)
        .map_err(|e| e.to_string())?;
    let header = c.into_inner();
    let n = header.len();
    if n < 12 || header.get(n - 8..n - 4) != Some(&b"data"[..]) {
        return Err("unexpected WAV header layout".into());
    }
    Ok(header)
}

/// Appends `samples` to `out` as little-endian `bytes`-byte integers (2 or 3; the values are
/// already in range).
fn pack_ints(samples: &[i32], bytes: usize, out: &mut Vec<u8>) {
    let start = out.len();
    // Each sample is stored as its four little-endian bytes, overlapping the next one's
    // place; the one spare byte at the end is cut off.
    out.resize(start + samples.len() * bytes + 4 - bytes, 0);
    let dst = &mut out[start..];
    for (i, &v) in samples.iter().enumerate() {
        dst[i * bytes..i * bytes + 4].copy_from_slice(&v.to_le_bytes());
    }
    out.truncate(start + samples.len() * bytes);
}

/// Output written between two requests to the [`Flusher`], bytes.
const FLUSH_EVERY_BYTES: u64 = 32 << 20;

/// Moves a file's data to disk behind its writer: on request, a thread of its own calls
/// `sync_data` on its own handle of the file while the writer goes on, so the sync at the end
/// (before the file is renamed into place) has only the last part left. An hour of 24-bit
/// stereo is a gigabyte; synced only at the end, its write-out took a third of a second after
/// the last sample. A request while one is under way is dropped.
struct Flusher {
    requests: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<(File, std::io::Result<()>)>>,
}

impl Flusher {
    fn start(file: File) -> Self {
        let (requests, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::spawn(move || {
            while rx.recv().is_ok() {
                if let Err(e) = file.sync_data() {
                    return (file, Err(e));
                }
            }
            (file, Ok(()))
        });
        Self {
            requests: Some(requests),
            thread: Some(thread),
        }
    }

    fn request(&self) {
        if let Some(r) = &self.requests {
            let _ = r.try_send(());
        }
    }

    /// Waits for the sync under way, if any; the handle back, or the first error.
    fn stop(&mut self) -> std::io::Result<File> {
        self.requests = None;
        let thread = self.thread.take().expect("stopped once");
        let (file, got) = thread
            .join()
            .map_err(|_| std::io::Error::other("the sync thread stopped unexpectedly"))?;
        got.map(|()| file)
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A WAV being written (see [`OutputFile::wav`]).
pub struct WavSink {
    target: PathBuf,
    /// The file, after the header; `None` once finished.
    file: Option<std::io::BufWriter<File>>,
    /// Writes the data to disk behind the writer.
    flusher: Flusher,
    /// `bytes` when the flusher was last asked to run.
    flushed: u64,
    /// Bytes between two requests to the flusher ([`FLUSH_EVERY_BYTES`]; tests set less).
    flush_every: u64,
    /// Length of the header, bytes (the data chunk's length field is its last four).
    header_len: u64,
    /// Scratch for a block of quantised samples and its bytes (reused).
    ints: Vec<i32>,
    packed: Vec<u8>,
    format: SampleFormat,
    channels: usize,
    quantizer: Option<Box<dyn Quantize>>,
    bytes: u64,
    frames: u64,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink")
            .field("target", &self.target)
            .field("format", &self.format)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl WavSink {
    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Writes frames of `CH` channels (`CH` must equal the sink's channel count).
    ///
    /// # Errors
    /// I/O errors, or the 4 GiB WAV size limit.
    pub fn write<const CH: usize>(&mut self, frames: &[[f32; CH]]) -> Result<()> {
        debug_assert_eq!(CH, self.channels);
        let add = frames.len() as u64 * CH as u64 * u64::from(self.format.bits() / 8);
        if self.bytes + add > MAX_WAV_DATA {
            return Err(Failure::file(
                &self.target,
                "the output exceeds the 4 GiB a WAV file can hold (use a lower --bits or split the input)",
            ));
        }
        let file = self.file.as_mut().expect("sink used after finish");
        let frames_per_block = (QUANTIZE_BLOCK / CH.max(1)).max(1);
        for block in frames.chunks(frames_per_block) {
            let samples = block.as_flattened();
            self.packed.clear();
            match (self.format, &mut self.quantizer) {
                (SampleFormat::Float32, _) => {
                    for s in samples {
                        self.packed.extend_from_slice(&s.to_le_bytes());
                    }
                }
                (format, Some(q)) => {
                    let ints = &mut self.ints[..samples.len()];
                    // The quantiser clips to the format's range.
                    q.quantize_interleaved(samples, CH, ints);
                    pack_ints(ints, usize::from(format.bits() / 8), &mut self.packed);
                }
                (_, None) => unreachable!("checked in OutputFile::wav"),
            }
            file.write_all(&self.packed)
                .map_err(|e| Failure::file(&self.target, format!("write error: {e}")))?;
        }
        self.bytes += add;
        self.frames += frames.len() as u64;
        if self.bytes - self.flushed >= self.flush_every {
            self.flushed = self.bytes;
            self.flusher.request();
        }
        Ok(())
    }

    /// Completes the header, flushes and syncs the file to disk.
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(mut self) -> Result<()> {
        let fail =
            |e: &dyn std::fmt::Display| Failure::file(&self.target, format!("write error: {e}"));
        if let Some(file) = self.file.take() {
            let mut file = file.into_inner().map_err(|e| fail(&e.error()))?;
            // As `hound` finalises: the RIFF size counts everything after its own field, the
            // data size the sample bytes (both below 4 GiB: see `write`).
            let riff = (self.header_len - 8 + self.bytes) as u32;
            let data = self.bytes as u32;
            file.seek(SeekFrom::Start(4))
                .and_then(|_| file.write_all(&riff.to_le_bytes()))
                .and_then(|_| file.seek(SeekFrom::Start(self.header_len - 4)))
                .and_then(|_| file.write_all(&data.to_le_bytes()))
                .map_err(|e| fail(&e))?;
        }
        self.flusher
            .stop()
            .and_then(|f| f.sync_all())
            .map_err(|e| fail(&e))?;
        Ok(())
    }
}

/// Checks the outputs of a command against its inputs and each other: an output is never an
/// input (not even with `--force`, and not through a link), never named twice, and only
/// replaces an existing file with `force`.
///
/// # Errors
/// The first conflict, naming the output.
pub fn check_outputs(outputs: &[&Path], inputs: &[&Path], force: bool) -> Result<()> {
    for (i, out) in outputs.iter().enumerate() {
        if outputs[..i].iter().any(|o| same_path(o, out)) {
            return Err(Failure::file(
                out,
                "is the output of two inputs (give distinct names)",
            ));
        }
        if inputs.iter().any(|inp| same_file(inp, out)) {
            return Err(Failure::file(out, "refusing to overwrite an input file"));
        }
        match std::fs::symlink_metadata(out) {
            Ok(m) if m.is_dir() => {
                return Err(Failure::file(out, "is a directory, not an output file"))
            }
            Ok(_) if !force => {
                return Err(Failure::file(
                    out,
                    "already exists (use --force to replace it)",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks that an audio output is named like the WAV file it will be (`.wav` or `.wave`), so
/// that no WAV data ends up in a file called `.flac` or `.mp3`.
///
/// # Errors
/// Any other extension.
pub fn check_wav_name(path: &Path) -> Result<()> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave") => Ok(()),
        _ => Err(Failure::file(
            path,
            "Lathe writes WAV files: give the output a .wav name",
        )),
    }
}

/// True when both paths name the same existing file (hard links and symlinks included).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// True when the two paths name the same place (the file need not exist yet).
fn same_path(a: &Path, b: &Path) -> bool {
    if same_file(a, b) {
        return true;
    }
    let norm = |p: &Path| {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        dir.canonicalize()
            .ok()
            .map(|d| d.join(p.file_name().unwrap_or_default()))
    };
    match (norm(a), norm(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// The header, the packed samples and the lengths `finish` fills in make the same file,
    /// byte for byte, as `hound` writing one sample at a time, for every format, mono to
    /// eight channels, and lengths that cross the blocks.
    #[test]
    fn wavs_are_the_files_hound_writes() {
        struct Exact(f64);
        impl Quantize for Exact {
            fn quantize(&mut self, x: f32, _ch: usize) -> i32 {
                (f64::from(x) * self.0).round().clamp(-self.0, self.0 - 1.0) as i32
            }
        }
        let d = dir();
        let mut seed = 7u32;
        for (k, fmt) in [
            SampleFormat::Int16,
            SampleFormat::Int24,
            SampleFormat::Float32,
        ]
        .into_iter()
        .enumerate()
        {
            for (channels, frames) in [(1usize, 0usize), (1, 5_000), (2, 2_345), (8, 777)] {
                let samples: Vec<f32> = (0..channels * frames)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        // Some out of range, to reach the clipping.
                        2.2 * ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
                    })
                    .collect();
                let scale = match fmt {
                    SampleFormat::Int16 => 32_768.0,
                    _ => 8_388_608.0,
                };
                let path = d.path().join(format!("w{k}-{channels}-{frames}.wav"));
                let out = OutputFile::new(&path).unwrap();
                let quant = (!fmt.is_float()).then(|| Box::new(Exact(scale)) as Box<dyn Quantize>);
                let mut sink = out.wav(channels, 48_000, fmt, quant).unwrap();
                // Syncs requested all along (the writer goes on while they run).
                sink.flush_every = 1_000;
                macro_rules! feed {
                    ($ch:literal) => {{
                        let f: Vec<[f32; $ch]> = samples
                            .chunks_exact($ch)
                            .map(|c| c.try_into().unwrap())
                            .collect();
                        // Uneven pieces.
                        for piece in f.chunks(613) {
                            sink.write(piece).unwrap();
                        }
                    }};
                }
                match channels {
                    1 => feed!(1),
                    2 => feed!(2),
                    _ => feed!(8),
                }
                sink.finish().unwrap();
                out.commit().unwrap();

                let spec = hound::WavSpec {
                    channels: channels as u16,
                    sample_rate: 48_000,
                    bits_per_sample: fmt.bits(),
                    sample_format: if fmt.is_float() {
                        hound::SampleFormat::Float
                    } else {
                        hound::SampleFormat::Int
                    },
                };
                let mut want = Cursor::new(Vec::new());
                let mut w = hound::WavWriter::new(&mut want, spec).unwrap();
                let mut q = Exact(scale);
                for &s in &samples {
                    match fmt {
                        SampleFormat::Float32 => w.write_sample(s).unwrap(),
                        SampleFormat::Int16 => w.write_sample(q.quantize(s, 0) as i16).unwrap(),
                        SampleFormat::Int24 => w.write_sample(q.quantize(s, 0)).unwrap(),
                    }
                }
                w.finalize().unwrap();
                let got = std::fs::read(&path).unwrap();
                assert!(
                    got == want.get_ref()[..],
                    "{fmt:?}, {channels} channels, {frames} frames: the files differ"
                );
            }
        }
    }

    struct Round(f64);
    impl Quantize for Round {
        fn quantize(&mut self, x: f32, _ch: usize) -> i32 {
            (f64::from(x) * self.0).round().clamp(-self.0, self.0 - 1.0) as i32
        }
    }

    fn dir() -> crate::testdir::TempDir {
        crate::testdir::tempdir().unwrap()
    }

    #[test]
    fn writes_float_and_integer_wavs_that_read_back() {
        let d = dir();
        let frames: Vec<[f32; 2]> = (0..1000)
            .map(|i| [(i as f32 / 1000.0) - 0.5, 0.25])
            .collect();
        for (fmt, q) in [
            (SampleFormat::Float32, None),
            (SampleFormat::Int16, Some(32_768.0)),
            (SampleFormat::Int24, Some(8_388_608.0)),
        ] {
            let path = d.path().join(format!("out-{}.wav", fmt.name()));
            let out = OutputFile::new(&path).unwrap();
            let quant = q.map(|s| Box::new(Round(s)) as Box<dyn Quantize>);
            let mut sink = out.wav(2, 44_100, fmt, quant).unwrap();
            sink.write(&frames[..300]).unwrap();
            sink.write(&frames[300..]).unwrap();
            assert_eq!(sink.frames(), 1000);
            sink.finish().unwrap();
            assert!(!path.exists(), "nothing at the target before commit");
            let temp = out.temp_path().to_path_buf();
            out.commit().unwrap();
            assert!(!temp.exists());
            let mut r = hound::WavReader::open(&path).unwrap();
            let spec = r.spec();
            assert_eq!(
                (spec.channels, spec.sample_rate, spec.bits_per_sample),
                (2, 44_100, fmt.bits())
            );
            let got: Vec<f32> = match fmt {
                SampleFormat::Float32 => r.samples::<f32>().map(Result::unwrap).collect(),
                _ => {
                    let s = q.unwrap() as f32;
                    r.samples::<i32>().map(|v| v.unwrap() as f32 / s).collect()
                }
            };
            assert_eq!(got.len(), 2000);
            let tol = q.map_or(0.0, |s| 1.0 / s as f32);
            for (g, w) in got.iter().zip(frames.iter().flatten()) {
                assert!((g - w).abs() <= tol, "{fmt:?}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn digital_silence_is_not_dithered() {
        struct Noisy;
        impl Quantize for Noisy {
            fn quantize(&mut self, x: f32, _ch: usize) -> i32 {
                (x * 32_768.0) as i32 + 1
            }
        }
        let d = dir();
        let path = d.path().join("s.wav");
        let out = OutputFile::new(&path).unwrap();
        let mut sink = out
            .wav(2, 8_000, SampleFormat::Int16, Some(Box::new(Noisy)))
            .unwrap();
        sink.write(&[[0.0f32, 0.0], [0.5, 0.0], [0.0, 0.0]])
            .unwrap();
        sink.finish().unwrap();
        out.commit().unwrap();
        let got: Vec<i16> = hound::WavReader::open(&path)
            .unwrap()
            .samples::<i16>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, [0, 0, 16_385, 1, 0, 0]);
    }

    #[test]
    fn restart_discards_and_drop_leaves_nothing() {
        let d = dir();
        let path = d.path().join("x.wav");
        let out = OutputFile::new(&path).unwrap();
        let mut sink = out.wav(1, 8_000, SampleFormat::Float32, None).unwrap();
        sink.write(&[[0.5f32]; 100]).unwrap();
        sink.finish().unwrap();
        // A retry: the same temporary file starts over.
        let mut sink = out.wav(1, 8_000, SampleFormat::Float32, None).unwrap();
        sink.write(&[[0.25f32]; 10]).unwrap();
        sink.finish().unwrap();
        out.commit().unwrap();
        assert_eq!(hound::WavReader::open(&path).unwrap().duration(), 10);

        // Failure before commit: no target, no temporary file.
        let path2 = d.path().join("y.wav");
        {
            let out = OutputFile::new(&path2).unwrap();
            let mut sink = out.wav(1, 8_000, SampleFormat::Float32, None).unwrap();
            sink.write(&[[0.5f32]; 100]).unwrap();
        }
        assert!(!path2.exists());
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only x.wav remains: {left:?}");
    }

    #[test]
    fn output_checks() {
        let d = dir();
        let a = d.path().join("a.wav");
        std::fs::write(&a, b"x").unwrap();
        let b = d.path().join("b.wav");
        assert!(check_outputs(&[&b], &[&a], false).is_ok());
        let e = check_outputs(&[&a], &[&a], true).unwrap_err();
        assert!(e.reason.contains("input"), "{e}");
        // Through another spelling of the same path.
        let a2 = d.path().join(".").join("a.wav");
        assert!(check_outputs(&[&a2], &[&a], true).is_err());
        #[cfg(unix)]
        {
            let link = d.path().join("link.wav");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert!(check_outputs(&[&link], &[&a], true).is_err());
            let hard = d.path().join("hard.wav");
            std::fs::hard_link(&a, &hard).unwrap();
            assert!(check_outputs(&[&hard], &[&a], true).is_err());
        }
        std::fs::write(&b, b"y").unwrap();
        let e = check_outputs(&[&b], &[&a], false).unwrap_err();
        assert!(e.reason.contains("--force"), "{e}");
        assert!(check_outputs(&[&b], &[&a], true).is_ok());
        let c = d.path().join("c.wav");
        assert!(check_outputs(&[&c, &c], &[&a], false).is_err());
        assert!(check_outputs(&[d.path()], &[&a], true).is_err());
        assert!(OutputFile::new(&d.path().join("missing-dir").join("x.wav")).is_err());
        assert!(check_wav_name(Path::new("a/b.WAV")).is_ok());
        assert!(check_wav_name(Path::new("b.flac")).is_err());
        assert!(check_wav_name(Path::new("b")).is_err());
    }
}
