//! `lathe master`: the facade's two-pass-plus-model [`Mastering`] job over files, streaming.
//!
//! The input is read once per pass, block by block, so memory does not depend on the file's
//! length: the analysis (with the model) and the render; a rare re-render reads it again.
//! For chains with level-dependent stages behind the input trim (the compressor presets) a
//! sparse pre-scan (about 4 % of the file, [`crate::prescan`]) estimates the input's loudness
//! first, so the trim is known during the analysis; without it (a short file, a length the
//! header does not give) the job makes a model pass between analysis and render. The render pass
//! writes into a temporary file beside the output which is renamed into place only when the
//! job has met its target.

use crate::cli::MasterArgs;
use crate::common::{
    default_format, fit_preset_to_rate, load_chain, open_source, quantizer, resolve_preset,
    resolve_target, seed_for, short_name, Progress, BLOCK,
};
use crate::error::{Failure, Result};
use crate::input::{FrameReader, InputInfo};
use crate::output::{check_outputs, check_wav_name, OutputFile, SampleFormat};
use crate::pipeline::{Beside, Prefetched, WriteBehind};
use crate::plot::{self, Plot, Series};
use crate::report::ReportJson;
use crate::tap::Tap;
use crate::with_mono_or_stereo;
use lathe::master::{RenderOutcome, Split};
use lathe::{AnalysisReport, ChainConfig, Mastering, MasteringPlan, Pass, Target};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One file to master.
#[derive(Debug, Clone)]
pub struct MasterJob {
    /// Input file.
    pub input: PathBuf,
    /// Output WAV.
    pub output: PathBuf,
    /// The chain (a preset's or a chain file's).
    pub chain: ChainConfig,
    /// Where the chain came from (for messages and the report).
    pub chain_name: String,
    /// The chain file, when the chain came from one (errors in the chain name it).
    pub chain_file: Option<PathBuf>,
    /// Trim the input to the target first (presets expect it; chain files do not).
    pub normalize_input: bool,
    /// The target.
    pub target: Target,
    /// Output format (`None`: from the input).
    pub format: Option<SampleFormat>,
    /// Resample to this rate first.
    pub sample_rate: Option<u32>,
    /// Draw a before/after plot here.
    pub plot: Option<PathBuf>,
    /// Measure everything in the input and output analyses (for `--report` and the demo's
    /// table); otherwise the loudness readings the summary line prints, which costs less
    /// (see `lathe::Mastering::set_full_reports`).
    pub full_reports: bool,
}

/// What a mastering job did.
#[derive(Debug, Clone)]
pub struct MasterOutcome {
    /// The input.
    pub info: InputInfo,
    /// Analysis of the input (problems judged against the target).
    pub input_report: AnalysisReport,
    /// Analysis of the output as written (before integer quantisation).
    pub output_report: AnalysisReport,
    /// Trim, gain, limiter ceiling, renders and the rendered chain.
    pub plan: MasteringPlan,
    /// Latency compensated, frames.
    pub latency: usize,
    /// Output format.
    pub format: SampleFormat,
    /// Output sample rate, Hz.
    pub sample_rate: u32,
    /// Frames written.
    pub frames: u64,
}

fn chain_error(job: &MasterJob, e: lathe::Error) -> Failure {
    match (&e, &job.chain_file) {
        (lathe::Error::Config(_) | lathe::Error::Stage { .. }, Some(f)) => Failure::file(f, e),
        _ => Failure::file(&job.input, e),
    }
}

/// An analyser (and the plot's recording, if any) fed on a thread of `scope`, beside the
/// pass's DSP.
fn measure_beside<'scope, const CH: usize>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    meter: &'scope mut lathe::Analyzer<CH>,
    mut tap: Option<&'scope mut Tap<CH>>,
) -> Beside<'scope, CH> {
    Beside::spawn(scope, move |b: &[[f32; CH]]| {
        meter.process(b);
        if let Some(t) = tap.as_deref_mut() {
            t.feed(b);
        }
    })
}

/// Masters one file (see the module docs).
///
/// # Errors
/// Input failures, a silent input, chain errors at this sample rate, write errors; the output
/// is then left untouched.
pub fn master_file(job: &MasterJob, progress: &Progress) -> Result<MasterOutcome> {
    let (info, source) = open_source(&job.input, job.sample_rate)?;
    let n = info.channels;
    with_mono_or_stereo!(n, CH => master_stream::<CH>(job, info, source, progress),
        _ => Err(Failure::file(&job.input, format!("{n} channels: mastering takes mono or stereo files"))))
}

fn master_stream<const CH: usize>(
    job: &MasterJob,
    info: InputInfo,
    first: Box<dyn crate::input::BlockSource + Send>,
    progress: &Progress,
) -> Result<MasterOutcome> {
    let rate = job.sample_rate.unwrap_or(info.sample_rate);
    let fs = f64::from(rate);
    let format = job.format.unwrap_or_else(|| default_format(&info));
    let name = short_name(&job.input);
    let chain = if job.chain_file.is_none() {
        fit_preset_to_rate(&job.chain, fs)
    } else {
        job.chain.clone()
    };
    let mut mastering = Box::new(
        Mastering::<CH>::new(&chain, &job.target, fs, job.normalize_input)
            .map_err(|e| chain_error(job, e))?,
    );
    mastering
        .set_full_reports(job.full_reports)
        .map_err(|e| chain_error(job, e))?;
    if mastering.wants_input_estimate() {
        // A sparse pre-scan sets the trim, so the model runs during the analysis and the
        // file is read twice (see `prescan`); without an estimate, the job takes a model pass.
        if let Some(l) = crate::prescan::estimate_lufs::<CH>(&job.input) {
            mastering
                .set_input_estimate(l)
                .map_err(|e| chain_error(job, e))?;
        }
    }
    let tap = || Tap::<CH>::new(fs).map_err(|e| Failure::file(&job.input, e));
    let mut tap_in = job.plot.as_ref().map(|_| tap()).transpose()?;
    let mut tap_out = None;
    let out_file = OutputFile::new(&job.output)?;
    let mut first = Some(first);
    let source = |first: &mut Option<_>| -> Result<Prefetched<CH>> {
        let s = match first.take() {
            Some(s) => s,
            None => open_source(&job.input, job.sample_rate)?.1,
        };
        Ok(Prefetched::new(FrameReader::<CH>::new(s)))
    };
    let mut frames_in: Option<u64> = None;
    let changed = || Failure::file(&job.input, "the file changed while it was being read");
    let mut written = 0;
    loop {
        match mastering.pass() {
            pass @ (Pass::Analyze | Pass::Model) => {
                let analyse = pass == Pass::Analyze;
                let mut reader = source(&mut first)?;
                let bar = progress.bar(
                    &name,
                    if analyse { "analyse" } else { "model" },
                    frames_in.or(info.frames.filter(|_| job.sample_rate.is_none())),
                );
                let mut count = 0u64;
                // The input analysis (and the plot's recording) runs beside the model, and
                // the model's measurements beside the stages in front of the limiter.
                let Split { work, meter } = mastering.split();
                let mut tap = tap_in.as_mut().filter(|_| analyse);
                std::thread::scope(|s| -> Result<()> {
                    let mut beside = meter.map(|m| measure_beside(s, m, tap.take()));
                    let (mut front, mut back) = match work.split_model() {
                        Some((front, back)) => (
                            Some(front),
                            Some(Beside::spawn(s, |x: &[[f32; CH]]| back.measure(x))),
                        ),
                        None => (None, None),
                    };
                    while let Some(block) = reader.next_frames()? {
                        if let Some(b) = beside.as_mut() {
                            b.send(block);
                        }
                        if let (Some(front), Some(back)) = (front.as_mut(), back.as_mut()) {
                            for chunk in block.chunks(BLOCK) {
                                back.send(front.process(chunk));
                            }
                        }
                        count += block.len() as u64;
                        bar.inc(block.len() as u64);
                    }
                    back.map_or(Ok(()), Beside::finish)?;
                    beside.map_or(Ok(()), Beside::finish)
                })?;
                bar.finish_and_clear();
                if *frames_in.get_or_insert(count) != count {
                    return Err(changed());
                }
                mastering
                    .end_pass()
                    .map_err(|e| Failure::file(&job.input, e))?;
            }
            Pass::Render => {
                let mut reader = source(&mut first)?;
                let mut sink = WriteBehind::<CH>::new(out_file.wav(
                    CH,
                    rate,
                    format,
                    quantizer(format, rate, seed_for(&job.output))?,
                )?);
                tap_out = job.plot.as_ref().map(|_| tap()).transpose()?;
                let bar = progress.bar(&name, "render", frames_in);
                let mut out: Vec<[f32; CH]> = Vec::with_capacity(2 * BLOCK);
                // The output analysis (and the plot's recording) runs beside the chain.
                let Split { work, meter } = mastering.split();
                let mut tap = tap_out.as_mut();
                std::thread::scope(|s| -> Result<()> {
                    let mut beside = meter.map(|m| measure_beside(s, m, tap.take()));
                    let mut emit = |out: &[[f32; CH]]| -> Result<()> {
                        if let Some(b) = beside.as_mut() {
                            b.send(out);
                        }
                        sink.write(out)
                    };
                    while let Some(block) = reader.next_frames()? {
                        for chunk in block.chunks(BLOCK) {
                            out.clear();
                            work.render(chunk, &mut out);
                            emit(&out)?;
                        }
                        bar.inc(block.len() as u64);
                    }
                    out.clear();
                    work.finish(&mut out);
                    emit(&out)?;
                    beside.map_or(Ok(()), Beside::finish)
                })?;
                bar.finish_and_clear();
                if Some(sink.frames()) != frames_in {
                    return Err(changed());
                }
                written = sink.frames();
                match mastering
                    .end_render()
                    .map_err(|e| Failure::file(&job.input, e))?
                {
                    RenderOutcome::Done => {
                        sink.finish()?;
                        break;
                    }
                    RenderOutcome::Retry => continue,
                }
            }
            Pass::Done => break,
        }
    }
    let input_report = mastering.input_report();
    let output_report = mastering
        .output_report()
        .ok_or_else(|| Failure::file(&job.input, "the mastering job rendered nothing"))?;
    let latency = mastering.latency();
    out_file.commit()?;
    if let (Some(path), Some(a), Some(b)) = (&job.plot, &tap_in, &tap_out) {
        let plot = Plot {
            title: format!("{name}: before / after ({})", job.target.name),
            series: vec![
                Series {
                    name: "BEFORE",
                    color: plot::BEFORE,
                    recorder: &a.recorder,
                    integrated_lufs: Some(input_report.integrated_lufs),
                },
                Series {
                    name: "AFTER",
                    color: plot::AFTER,
                    recorder: &b.recorder,
                    integrated_lufs: Some(output_report.integrated_lufs),
                },
            ],
            target_lufs: Some(job.target.integrated_lufs),
            ceiling_dbtp: Some(job.target.ceiling_dbtp),
        };
        plot::render(path, &plot)?;
    }
    Ok(MasterOutcome {
        info,
        input_report,
        output_report,
        plan: mastering.plan(),
        latency,
        format,
        sample_rate: rate,
        frames: written,
    })
}

/// The settings a job used, as written into `--report`.
#[derive(Debug, Serialize)]
pub struct SettingsJson {
    /// Preset name or chain file.
    pub chain_source: String,
    /// The target.
    pub target: Target,
    /// Output format (`16`, `24`, `32f`).
    pub bits: &'static str,
    /// Output sample rate, Hz.
    pub sample_rate: u32,
    /// Whether the input was resampled.
    pub resampled: bool,
    /// Trim, gain into the limiter, limiter ceiling, renders.
    pub plan: MasteringPlan,
    /// The chain as rendered (normalised: input trim, gain stage, limiter).
    pub chain: ChainConfig,
    /// Latency compensated, frames.
    pub latency_frames: usize,
    /// Frames written.
    pub frames: u64,
}

/// One file's `--report` entry.
#[derive(Debug, Serialize)]
pub struct MasterReportJson {
    /// The input analysis.
    pub input: ReportJson,
    /// The output analysis.
    pub output: ReportJson,
    /// The settings used.
    pub settings: SettingsJson,
}

impl MasterReportJson {
    /// The entry for a finished job.
    pub fn new(job: &MasterJob, o: &MasterOutcome) -> Self {
        let mut out_info = o.info.clone();
        out_info.format = format!(
            "WAV, {}",
            match o.format {
                SampleFormat::Int16 => "16-bit integer PCM",
                SampleFormat::Int24 => "24-bit integer PCM",
                SampleFormat::Float32 => "32-bit float PCM",
            }
        );
        Self {
            input: ReportJson::new(
                &job.input.display().to_string(),
                Some(&o.info),
                &o.input_report,
            ),
            output: ReportJson::new(
                &job.output.display().to_string(),
                Some(&out_info),
                &o.output_report,
            ),
            settings: SettingsJson {
                chain_source: job.chain_name.clone(),
                target: job.target,
                bits: o.format.name(),
                sample_rate: o.sample_rate,
                resampled: o.sample_rate != o.info.sample_rate,
                plan: o.plan.clone(),
                chain: o.plan.chain.clone(),
                latency_frames: o.latency,
                frames: o.frames,
            },
        }
    }
}

/// Writes `value` as pretty JSON to `path` (temporary file, then renamed).
///
/// # Errors
/// I/O errors.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::file(path, e))?;
    write_text(path, &(text + "\n"))
}

/// Writes `text` to `path` safely (temporary file beside it, synced, renamed).
///
/// # Errors
/// I/O errors.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let out = OutputFile::new(path)?;
    let mut f = std::fs::File::create(out.temp_path()).map_err(|e| Failure::file(path, e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Failure::file(path, format!("write error: {e}")))?;
    drop(f);
    out.commit()
}

/// A one-line summary of a finished job.
pub fn summary(job: &MasterJob, o: &MasterOutcome) -> String {
    let r = |v: f64| {
        if v.is_finite() {
            format!("{v:.2}")
        } else {
            "-inf".into()
        }
    };
    format!(
        "{} -> {}: {} LUFS -> {} LUFS, true peak {} -> {} dBTP (target {} LUFS / {} dBTP, {}), gain {:+.2} dB, {} render{}",
        job.input.display(),
        job.output.display(),
        r(o.input_report.integrated_lufs),
        r(o.output_report.integrated_lufs),
        r(o.input_report.true_peak_dbtp),
        r(o.output_report.true_peak_dbtp),
        job.target.integrated_lufs,
        job.target.ceiling_dbtp,
        job.chain_name,
        o.plan.trim_db + o.plan.gain_db,
        o.plan.renders,
        if o.plan.renders == 1 { "" } else { "s" },
    )
}

/// The output path for `input` in `dir`: `dir/<stem>.wav`.
pub fn output_in(dir: &Path, input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or_else(|| "out".into(), |s| s.to_string_lossy().into_owned());
    dir.join(format!("{stem}.wav"))
}

/// `name-stem.png` beside `plot` for batch jobs.
fn plot_for(plot: &Path, input: &Path) -> PathBuf {
    let stem = plot
        .file_stem()
        .map_or_else(|| "plot".into(), |s| s.to_string_lossy().into_owned());
    let inp = input
        .file_stem()
        .map_or_else(|| "in".into(), |s| s.to_string_lossy().into_owned());
    plot.with_file_name(format!("{stem}-{inp}.png"))
}

/// The jobs `lathe master` was asked for, checked (outputs, chain, target) before any audio
/// is read.
///
/// # Errors
/// Unknown preset or target, a bad chain file, output conflicts.
pub fn plan_jobs(args: &MasterArgs) -> Result<Vec<MasterJob>> {
    let target = resolve_target(&args.target)?;
    let (chain, chain_name, chain_file, normalize) = match &args.chain {
        Some(path) => (
            load_chain(path)?,
            path.display().to_string(),
            Some(path.clone()),
            false,
        ),
        None => {
            let p = resolve_preset(args.preset.as_deref())?;
            (p.chain(&target), format!("preset {}", p.name()), None, true)
        }
    };
    if let Some(dir) = &args.out_dir {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::file(dir, format!("cannot create the directory: {e}")))?;
        }
    }
    let several = args.inputs.len() > 1;
    let jobs: Vec<MasterJob> = args
        .inputs
        .iter()
        .map(|input| MasterJob {
            input: input.clone(),
            output: match (&args.output, &args.out_dir) {
                (Some(o), _) => o.clone(),
                (None, Some(d)) => output_in(d, input),
                (None, None) => unreachable!("clap requires -o or --out-dir"),
            },
            chain: chain.clone(),
            chain_name: chain_name.clone(),
            chain_file: chain_file.clone(),
            normalize_input: normalize,
            target,
            format: args.bits,
            sample_rate: args.sample_rate,
            plot: args.plot.as_ref().map(|p| {
                if several {
                    plot_for(p, input)
                } else {
                    p.clone()
                }
            }),
            full_reports: args.report.is_some(),
        })
        .collect();
    let mut inputs: Vec<&Path> = args.inputs.iter().map(|p| p.as_path()).collect();
    inputs.extend(args.chain.as_deref());
    for j in &jobs {
        check_wav_name(&j.output)?;
    }
    let mut outputs: Vec<&Path> = jobs.iter().map(|j| j.output.as_path()).collect();
    outputs.extend(jobs.iter().filter_map(|j| j.plot.as_deref()));
    outputs.extend(args.report.as_deref());
    check_outputs(&outputs, &inputs, args.force)?;
    Ok(jobs)
}

/// Runs `lathe master`; returns true when every file was mastered.
///
/// # Errors
/// Failures that stop the command before any file is processed.
pub fn run(args: &MasterArgs, progress: &Progress) -> Result<bool> {
    let jobs = plan_jobs(args)?;
    let results: Vec<Result<MasterOutcome>> =
        jobs.par_iter().map(|j| master_file(j, progress)).collect();
    let mut ok = true;
    let mut entries = Vec::new();
    for (job, r) in jobs.iter().zip(results) {
        match r {
            Ok(o) => {
                crate::app::print_text(&(summary(job, &o) + "\n"));
                entries.push(MasterReportJson::new(job, &o));
            }
            Err(e) => {
                ok = false;
                crate::app::print_error(&e);
            }
        }
    }
    if let Some(path) = &args.report {
        let written = if jobs.len() == 1 {
            match entries.first() {
                Some(e) => write_json(path, e).map(|()| true),
                None => Ok(false),
            }
        } else {
            write_json(path, &entries).map(|()| true)
        };
        if let Err(e) = written {
            ok = false;
            crate::app::print_error(&e);
        }
    }
    Ok(ok)
}
