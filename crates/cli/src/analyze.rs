//! `lathe analyze`: one streaming pass per file through the facade's [`Analyzer`].

use crate::cli::AnalyzeArgs;
use crate::common::{open_source, short_name, Progress};
use crate::error::{Failure, Result};
use crate::input::{FrameReader, InputInfo, MAX_CHANNELS};
use crate::output::check_outputs;
use crate::pipeline::Prefetched;
use crate::plot::{self, Plot, Recorder, Series};
use crate::report::{table, ReportJson};
use crate::tap;
use crate::with_channels;
use lathe::{AnalysisReport, Analyzer, Target};
use plotters::style::RGBColor;
use rayon::prelude::*;
use std::path::Path;

/// A measured file.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// What the file holds.
    pub info: InputInfo,
    /// The facade's report.
    pub report: AnalysisReport,
    /// Level and loudness over time, when asked for.
    pub recorder: Option<Recorder>,
}

/// Measures one file in one streaming pass; problems are judged against `target` when given.
///
/// # Errors
/// Any input failure (see [`crate::input`]).
pub fn analyze_file(
    path: &Path,
    target: Option<&Target>,
    record: bool,
    progress: &Progress,
) -> Result<Analysis> {
    let (info, source) = open_source(path, None)?;
    let ch = info.channels;
    with_channels!(ch, CH => {
        let mut analyzer = Box::new(
            Analyzer::<CH>::new(f64::from(info.sample_rate)).map_err(|e| Failure::file(path, e))?,
        );
        let mut recorder = record.then(|| Recorder::new(f64::from(info.sample_rate)));
        let mut frames = Prefetched::new(FrameReader::<CH>::new(source));
        let bar = progress.bar(&short_name(path), "analyse", info.frames);
        while let Some(block) = frames.next_frames()? {
            tap::feed(analyzer.as_mut(), recorder.as_mut(), block);
            bar.inc(block.len() as u64);
        }
        bar.finish_and_clear();
        let report = analyzer.report(target);
        Ok(Analysis { info, report, recorder })
    }, _ => Err(Failure::file(path, format!("{ch} channels; Lathe analyses 1 to {MAX_CHANNELS}"))))
}

const PALETTE: [RGBColor; 6] = [
    plot::AFTER,
    plot::BEFORE,
    RGBColor(46, 160, 67),
    RGBColor(170, 60, 200),
    RGBColor(200, 40, 40),
    RGBColor(90, 90, 90),
];

/// Runs `lathe analyze`; returns true when every file was measured.
///
/// # Errors
/// Usage-level failures (unknown target, plot file conflicts) before any file is read.
pub fn run(args: &AnalyzeArgs, progress: &Progress) -> Result<bool> {
    let target = match &args.target {
        Some(name) => Some(crate::common::resolve_target(&crate::cli::TargetArgs {
            target: Some(name.clone()),
            target_lufs: None,
            ceiling_dbtp: None,
        })?),
        None => None,
    };
    if let Some(p) = &args.plot {
        let inputs: Vec<&Path> = args.files.iter().map(|f| f.as_path()).collect();
        check_outputs(&[p.as_path()], &inputs, args.force)?;
    }
    let results: Vec<Result<Analysis>> = args
        .files
        .par_iter()
        .map(|f| analyze_file(f, target.as_ref(), args.plot.is_some(), progress))
        .collect();
    let mut ok = true;
    let mut reports = Vec::new();
    let mut measured = Vec::new();
    for (file, r) in args.files.iter().zip(results) {
        match r {
            Ok(a) => {
                let json = ReportJson::new(&file.display().to_string(), Some(&a.info), &a.report);
                if args.json {
                    crate::app::print_line(&json.to_line());
                }
                reports.push(json);
                measured.push((file, a));
            }
            Err(e) => {
                ok = false;
                crate::app::print_error(&e);
            }
        }
    }
    if !args.json && !reports.is_empty() {
        crate::app::print_text(&table(&reports));
    }
    if let Some(p) = &args.plot {
        if !measured.is_empty() {
            let names: Vec<String> = measured.iter().map(|(f, _)| short_name(f)).collect();
            let series = measured
                .iter()
                .zip(&names)
                .enumerate()
                .filter_map(|(i, ((_, a), name))| {
                    a.recorder.as_ref().map(|r| Series {
                        name,
                        color: PALETTE[i % PALETTE.len()],
                        recorder: r,
                        integrated_lufs: Some(a.report.integrated_lufs),
                    })
                })
                .collect();
            let title = if names.len() == 1 {
                names[0].clone()
            } else {
                format!("{} files", names.len())
            };
            let plot = Plot {
                title,
                series,
                target_lufs: target.map(|t| t.integrated_lufs),
                ceiling_dbtp: target.map(|t| t.ceiling_dbtp),
            };
            if let Err(e) = plot::render(p, &plot) {
                ok = false;
                crate::app::print_error(&e);
            }
        }
    }
    Ok(ok)
}
