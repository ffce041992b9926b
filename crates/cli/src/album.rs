//! `lathe album`: tracks sequenced into one continuous file with `lathe-album`'s timeline and
//! renderer, a CUE sheet, optional per-track files, optional consistent mastering.
//!
//! 1. Every track is read once (in parallel) to count its frames at the album rate and, when
//!    loudness is asked for, to measure it (BS.1770-4 meters, merged for the album).
//! 2. `lathe::album::plan_album` turns the readings into per-track gains; each track is then
//!    rendered through the same chain with its own gain in front of the limiter
//!    (`lathe::album::track_chain`: the preset's chain with `--master`, a true-peak limiter
//!    alone with `--loudness` only).
//! 3. `lathe-album` lays out the timeline (gaps or crossfades, album fades, CD frames) and
//!    streams the album; the tracks are decoded (and processed) on demand, one or two at a
//!    time, so memory does not grow with the album.

use crate::cli::{AlbumArgs, LoudnessArg};
use crate::common::{
    fit_preset_to_rate, load_chain, open_source, quantizer, resolve_preset, resolve_target,
    seed_for, short_name, Progress, BLOCK,
};
use crate::error::{Failure, Result};
use crate::input::{AudioReader, FrameReader};
use crate::output::{check_outputs, check_wav_name, OutputFile, SampleFormat, WavSink};
use crate::report::duration_text;
use crate::with_mono_or_stereo;
use lathe::album::{plan_album, track_chain};
use lathe::album_dsp::{
    compute_timeline, frames_to_cd_frames, write_cue, AlbumRenderer, CueSheet, CueTrack,
    LoudnessMode, Msf, TimelineOptions, TrackPlacement, TrackSource, TrackSpec, CD_SAMPLE_RATE,
};
use lathe::loudness::LoudnessMeter;
use lathe::{ChainConfig, Compensated, MasteringChain, Target};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Default silence between tracks, seconds.
pub const DEFAULT_GAP_S: f64 = 2.0;

/// One track being played: its decoder, its chain, what was decoded but not yet used.
struct TrackState<const CH: usize> {
    reader: FrameReader<CH>,
    chain: Option<Box<Compensated<MasteringChain<CH>>>>,
    buf: Vec<[f32; CH]>,
    used: usize,
    /// Source frame of `buf[used]`.
    pos: u64,
    /// Frames produced so far (to check against the first pass).
    produced: u64,
    done: bool,
}

/// The tracks as a [`TrackSource`]: files decoded (and resampled, and mastered) on demand.
struct FileTracks<'a, const CH: usize> {
    paths: &'a [PathBuf],
    rate: u32,
    chains: &'a [Option<ChainConfig>],
    frames: &'a [u64],
    states: Vec<Option<TrackState<CH>>>,
    error: Option<Failure>,
}

impl<const CH: usize> FileTracks<'_, CH> {
    fn open(&self, track: usize) -> Result<TrackState<CH>> {
        let path = &self.paths[track];
        let (_, source) = open_source(path, Some(self.rate))?;
        let chain = match &self.chains[track] {
            Some(c) => Some(Box::new(Compensated::new(
                MasteringChain::<CH>::from_config(c, f64::from(self.rate), BLOCK)
                    .map_err(|e| Failure::file(path, e))?,
            ))),
            None => None,
        };
        Ok(TrackState {
            reader: FrameReader::new(source),
            chain,
            buf: Vec::with_capacity(2 * BLOCK),
            used: 0,
            pos: 0,
            produced: 0,
            done: false,
        })
    }

    /// Refills `st.buf` with the next decoded (processed) frames; false at the end.
    fn refill(st: &mut TrackState<CH>, path: &Path, expected: u64) -> Result<bool> {
        st.buf.clear();
        st.used = 0;
        while st.buf.is_empty() {
            if st.done {
                return Ok(false);
            }
            match st.reader.next_frames()? {
                Some(block) => match &mut st.chain {
                    Some(c) => {
                        for chunk in block.chunks(BLOCK) {
                            c.render(chunk, &mut st.buf);
                        }
                    }
                    None => st.buf.extend_from_slice(block),
                },
                None => {
                    if let Some(c) = &mut st.chain {
                        c.finish(&mut st.buf);
                    }
                    st.done = true;
                }
            }
            st.produced += st.buf.len() as u64;
            if st.done && st.produced != expected {
                return Err(Failure::file(
                    path,
                    "the file changed while it was being read",
                ));
            }
        }
        Ok(true)
    }

    fn try_read(&mut self, track: usize, from: u64, out: &mut [[f32; CH]]) -> Result<()> {
        if self.states[track].as_ref().is_none_or(|s| s.pos > from) {
            let st = self.open(track)?;
            // Tracks two or more behind are finished: free them.
            for s in self.states.iter_mut().take(track.saturating_sub(1)) {
                *s = None;
            }
            self.states[track] = Some(st);
        }
        let path = &self.paths[track];
        let expected = self.frames[track];
        let st = self.states[track].as_mut().expect("opened above");
        let mut filled = 0;
        while filled < out.len() {
            if st.used == st.buf.len() && !Self::refill(st, path, expected)? {
                out[filled..].fill([0.0; CH]);
                return Ok(());
            }
            let avail = st.buf.len() - st.used;
            if st.pos < from {
                // Skip ahead (a trimmed start).
                let k = ((from - st.pos) as usize).min(avail);
                st.used += k;
                st.pos += k as u64;
                continue;
            }
            let k = avail.min(out.len() - filled);
            out[filled..filled + k].copy_from_slice(&st.buf[st.used..st.used + k]);
            st.used += k;
            st.pos += k as u64;
            filled += k;
        }
        Ok(())
    }
}

impl<const CH: usize> TrackSource<CH> for FileTracks<'_, CH> {
    fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; CH]]) {
        if self.error.is_none() {
            match self.try_read(track, source_frame, out) {
                Ok(()) => return,
                Err(e) => self.error = Some(e),
            }
        }
        out.fill([0.0; CH]);
    }
}

/// Frames and (when asked) the loudness meter of one track, from the first pass.
struct Measured<const CH: usize> {
    frames: u64,
    meter: Option<Box<LoudnessMeter<CH>>>,
}

fn measure<const CH: usize>(
    path: &Path,
    rate: u32,
    loudness: bool,
    progress: &Progress,
) -> Result<Measured<CH>> {
    let (info, source) = open_source(path, Some(rate))?;
    let mut reader = FrameReader::<CH>::new(source);
    let mut meter = if loudness {
        Some(Box::new(
            LoudnessMeter::<CH>::new(f64::from(rate)).map_err(|e| Failure::file(path, e))?,
        ))
    } else {
        None
    };
    let bar = progress.bar(
        &short_name(path),
        "measure",
        info.frames.filter(|_| info.sample_rate == rate),
    );
    let mut frames = 0u64;
    while let Some(block) = reader.next_frames()? {
        if let Some(m) = meter.as_mut() {
            m.process(block);
        }
        frames += block.len() as u64;
        bar.inc(block.len() as u64);
    }
    bar.finish_and_clear();
    Ok(Measured { frames, meter })
}

/// A CUE-safe title from a file name: no quotes or control characters, at most 80 chars.
fn cue_title(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map_or_else(|| "track".into(), |s| s.to_string_lossy().into_owned());
    let clean: String = stem
        .chars()
        .map(|c| if c == '"' || c.is_control() { '\'' } else { c })
        .take(80)
        .collect();
    if clean.trim().is_empty() {
        "track".into()
    } else {
        clean
    }
}

/// Everything the album run decided before rendering.
struct Setup {
    rate: u32,
    channels: usize,
    format: SampleFormat,
    target: Option<Target>,
    mode: Option<LoudnessMode>,
    chain: Option<ChainConfig>,
    cue: PathBuf,
    track_files: Vec<PathBuf>,
}

fn setup(args: &AlbumArgs) -> Result<Setup> {
    let mode = match (args.loudness, args.master) {
        (Some(LoudnessArg::Track), _) => Some(LoudnessMode::Track),
        (Some(LoudnessArg::Album), _) | (None, true) => Some(LoudnessMode::Album),
        (Some(LoudnessArg::Loudest), _) => Some(LoudnessMode::LoudestTrack),
        (None, false) => None,
    };
    let target_given = args.target.target.is_some()
        || args.target.target_lufs.is_some()
        || args.target.ceiling_dbtp.is_some();
    if mode.is_none() && target_given {
        return Err(Failure::general(
            "a target needs --loudness or --master (without them the album keeps its levels)",
        ));
    }
    let target = mode.map(|_| resolve_target(&args.target)).transpose()?;
    // Inputs: readable, mono or stereo.
    let mut infos = Vec::new();
    for p in &args.inputs {
        let r = AudioReader::open(p)?;
        if r.info().channels > 2 {
            return Err(Failure::file(
                p,
                format!(
                    "{} channels: albums take mono or stereo tracks",
                    r.info().channels
                ),
            ));
        }
        infos.push(r.info().clone());
    }
    let rate = if args.cd {
        CD_SAMPLE_RATE
    } else {
        infos[0].sample_rate
    };
    let chain = match (args.master, &args.chain, &target) {
        (true, Some(path), _) => Some(load_chain(path)?),
        (true, None, Some(t)) => Some(fit_preset_to_rate(
            &resolve_preset(args.preset.as_deref())?.chain(t),
            f64::from(rate),
        )),
        (false, _, Some(_)) => Some(ChainConfig::default()),
        _ => None,
    };
    let channels = if args.cd || infos.iter().any(|i| i.channels == 2) {
        2
    } else {
        1
    };
    let format = args.bits.unwrap_or(if args.cd {
        SampleFormat::Int16
    } else if infos.iter().all(|i| i.float) {
        SampleFormat::Float32
    } else {
        SampleFormat::Int24
    });
    let cue = args
        .cue
        .clone()
        .unwrap_or_else(|| args.output.with_extension("cue"));
    let mut track_files = Vec::new();
    if let Some(dir) = &args.tracks_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::file(dir, format!("cannot create the directory: {e}")))?;
        for (i, p) in args.inputs.iter().enumerate() {
            track_files.push(dir.join(format!(
                "{:02} - {}.wav",
                i + 1,
                cue_title(p).replace(['/', '\\'], "_")
            )));
        }
    }
    check_wav_name(&args.output)?;
    let mut outputs: Vec<&Path> = vec![args.output.as_path(), cue.as_path()];
    outputs.extend(track_files.iter().map(|p| p.as_path()));
    let mut inputs: Vec<&Path> = args.inputs.iter().map(|p| p.as_path()).collect();
    inputs.extend(args.chain.as_deref());
    check_outputs(&outputs, &inputs, args.force)?;
    Ok(Setup {
        rate,
        channels,
        format,
        target,
        mode,
        chain,
        cue,
        track_files,
    })
}

/// Runs `lathe album`; returns true on success.
///
/// # Errors
/// Any failure: nothing is written then.
pub fn run(args: &AlbumArgs, progress: &Progress) -> Result<bool> {
    let s = setup(args)?;
    with_mono_or_stereo!(s.channels, CH => run_with::<CH>(args, &s, progress),
        _ => unreachable!("setup keeps mono or stereo"))
}

fn run_with<const CH: usize>(args: &AlbumArgs, s: &Setup, progress: &Progress) -> Result<bool> {
    let n = args.inputs.len();
    // 1. Count (and measure) every track.
    let measured: Vec<Measured<CH>> = args
        .inputs
        .par_iter()
        .map(|p| measure::<CH>(p, s.rate, s.mode.is_some(), progress))
        .collect::<Result<_>>()?;
    let frames: Vec<u64> = measured.iter().map(|m| m.frames).collect();

    // 2. Gains and chains.
    let mut gains = vec![0.0; n];
    let mut album_plan = None;
    if let (Some(mode), Some(target)) = (s.mode, &s.target) {
        let meters: Vec<&LoudnessMeter<CH>> =
            measured.iter().filter_map(|m| m.meter.as_deref()).collect();
        let plan = plan_album(&meters, mode, target)
            .map_err(|e| Failure::general(format!("album loudness: {e}")))?;
        gains.clone_from(&plan.gains_db);
        album_plan = Some(plan);
    }
    drop(measured);
    let chains: Vec<Option<ChainConfig>> = gains
        .iter()
        .map(|&g| match (&s.chain, &s.target) {
            (Some(c), Some(t)) => Some(track_chain(c, t, g)),
            _ => None,
        })
        .collect();

    // 3. Timeline.
    let last = n - 1;
    let specs: Vec<TrackSpec> = frames
        .iter()
        .enumerate()
        .map(|(i, &f)| TrackSpec {
            frames: f,
            gap_before_s: if i > 0 && args.crossfade.is_none() {
                args.gap.unwrap_or(DEFAULT_GAP_S)
            } else {
                0.0
            },
            crossfade_s: if i < last {
                args.crossfade.unwrap_or(0.0)
            } else {
                0.0
            },
            fade_in_s: if i == 0 {
                args.fade_in.unwrap_or(0.0)
            } else {
                0.0
            },
            fade_out_s: if i == last {
                args.fade_out.unwrap_or(0.0)
            } else {
                0.0
            },
            ..TrackSpec::default()
        })
        .collect();
    let opts = if args.cd {
        TimelineOptions::cd()
    } else {
        TimelineOptions::new(s.rate)
    };
    let mut placements = vec![TrackPlacement::default(); n];
    let timeline = compute_timeline(&specs, &opts, &mut placements)
        .map_err(|e| Failure::general(format!("album: {e}")))?;

    // The CUE sheet is checked before any audio is rendered.
    let titles: Vec<String> = args.inputs.iter().map(|p| cue_title(p)).collect();
    let cue_tracks: Vec<CueTrack<'_>> = placements
        .iter()
        .enumerate()
        .map(|(i, p)| CueTrack {
            number: u8::try_from(i + 1).unwrap_or(u8::MAX),
            title: Some(&titles[i]),
            pregap_start: p.pregap_start,
            start: p.start,
            ..CueTrack::default()
        })
        .collect();
    let album_name = short_name(&args.output);
    let sheet = CueSheet {
        file: &album_name,
        title: None,
        performer: None,
        catalog: None,
        sample_rate: s.rate,
        tracks: &cue_tracks,
    };
    let mut cue_text = String::new();
    write_cue(&sheet, &mut cue_text)
        .map_err(|e| Failure::file(&s.cue, format!("CUE sheet: {e}")))?;

    // 4. Render the album (and the track files) in one streaming pass.
    let album_file = OutputFile::new(&args.output)?;
    let mut album = album_file.wav(
        CH,
        s.rate,
        s.format,
        quantizer(s.format, s.rate, seed_for(&args.output))?,
    )?;
    let track_outs: Vec<OutputFile> = s
        .track_files
        .iter()
        .map(|p| OutputFile::new(p))
        .collect::<Result<_>>()?;
    let cuts: Vec<u64> = placements
        .iter()
        .map(|p| p.start)
        .chain(std::iter::once(timeline.total_frames))
        .collect();
    let mut track_sinks: Vec<Option<WavSink>> = (0..track_outs.len()).map(|_| None).collect();
    let mut meter =
        Box::new(LoudnessMeter::<CH>::new(f64::from(s.rate)).map_err(Failure::general)?);
    let mut source = FileTracks::<CH> {
        paths: &args.inputs,
        rate: s.rate,
        chains: &chains,
        frames: &frames,
        states: (0..n).map(|_| None).collect(),
        error: None,
    };
    let mut renderer = AlbumRenderer::new(&specs, &placements, timeline);
    let bar = progress.bar(&album_name, "album", Some(timeline.total_frames));
    let mut block = vec![[0.0f32; CH]; BLOCK];
    loop {
        let start = renderer.position();
        let got = renderer.render(&mut source, &mut block);
        if let Some(e) = source.error.take() {
            return Err(e);
        }
        if got == 0 {
            break;
        }
        let out = &block[..got];
        album.write(out)?;
        meter.process(out);
        // Route the block to the track files it overlaps.
        for (i, o) in track_outs.iter().enumerate() {
            let (a, b) = (cuts[i].max(start), cuts[i + 1].min(start + got as u64));
            if a >= b {
                continue;
            }
            if track_sinks[i].is_none() {
                track_sinks[i] = Some(o.wav(
                    CH,
                    s.rate,
                    s.format,
                    quantizer(s.format, s.rate, seed_for(o.target()))?,
                )?);
            }
            let sink = track_sinks[i].as_mut().expect("opened above");
            sink.write(&out[(a - start) as usize..(b - start) as usize])?;
        }
        bar.inc(got as u64);
    }
    bar.finish_and_clear();
    album.finish()?;
    for (i, sink) in track_sinks.into_iter().enumerate() {
        let sink =
            sink.ok_or_else(|| Failure::file(&s.track_files[i], "the track has no audio"))?;
        sink.finish()?;
    }
    album_file.commit()?;
    for o in track_outs {
        o.commit()?;
    }
    crate::master::write_text(&s.cue, &cue_text)?;

    // 5. Tell what was done.
    let fs = f64::from(s.rate);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:>3}  {:>9}  {:>9}  {:>9}  {:>8}  file",
        "#", "index 00", "index 01", "length", "gain dB"
    );
    for (i, p) in placements.iter().enumerate() {
        let _ = writeln!(
            text,
            "{:>3}  {:>9}  {:>9}  {:>9}  {:>+8.2}  {}",
            i + 1,
            Msf(frames_to_cd_frames(p.pregap_start, s.rate)).to_string(),
            Msf(frames_to_cd_frames(p.start, s.rate)).to_string(),
            duration_text(p.frames as f64 / fs),
            gains[i],
            args.inputs[i].display()
        );
    }
    let r = |v: f64| {
        if v.is_finite() {
            format!("{v:.2}")
        } else {
            "-inf".into()
        }
    };
    let _ = writeln!(
        text,
        "album {}: {} at {} Hz, {} LUFS integrated, true peak {} dBTP{}",
        args.output.display(),
        duration_text(timeline.duration_s()),
        s.rate,
        r(meter.integrated_lufs()),
        r(meter.true_peak_dbtp()),
        match (&album_plan, &s.target) {
            (Some(p), Some(t)) => format!(
                " (before: {} LUFS; target {} LUFS / {} dBTP)",
                r(p.album_lufs),
                t.integrated_lufs,
                t.ceiling_dbtp
            ),
            _ => String::new(),
        }
    );
    let _ = writeln!(text, "wrote {}", s.cue.display());
    if let Some(d) = &args.tracks_dir {
        let _ = writeln!(text, "wrote {} track files into {}", n, d.display());
    }
    crate::app::print_text(&text);
    Ok(true)
}
