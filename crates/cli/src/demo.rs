//! `lathe demo`: synthesise a mix, master it with the default preset, show before and after.

use crate::cli::DemoArgs;
use crate::common::{quantizer, Progress};
use crate::error::{Failure, Result};
use crate::master::{master_file, MasterJob};
use crate::output::{check_outputs, OutputFile, SampleFormat};
use crate::synth::{demo_mix, RATE};
use lathe::{AnalysisReport, Target, DEFAULT_PRESET, DEFAULT_TARGET};
use std::fmt::Write as _;

/// The before/after table the demo prints.
pub fn before_after(before: &AnalysisReport, after: &AnalysisReport) -> String {
    let v = |x: f64, d: usize| {
        if x.is_finite() {
            format!("{x:.d$}")
        } else {
            "-inf".into()
        }
    };
    let rows = [
        (
            "integrated loudness",
            before.integrated_lufs,
            after.integrated_lufs,
            "LUFS",
            2,
        ),
        (
            "true peak",
            before.true_peak_dbtp,
            after.true_peak_dbtp,
            "dBTP",
            2,
        ),
        (
            "sample peak",
            before.sample_peak_dbfs,
            after.sample_peak_dbfs,
            "dBFS",
            2,
        ),
        (
            "loudness range",
            before.loudness_range_lu,
            after.loudness_range_lu,
            "LU",
            1,
        ),
        (
            "max momentary",
            before.momentary_max_lufs,
            after.momentary_max_lufs,
            "LUFS",
            1,
        ),
        (
            "max short-term",
            before.short_term_max_lufs,
            after.short_term_max_lufs,
            "LUFS",
            1,
        ),
        (
            "peak to loudness (PLR)",
            before.plr_db,
            after.plr_db,
            "dB",
            1,
        ),
        (
            "L/R correlation",
            before.correlation,
            after.correlation,
            "",
            2,
        ),
    ];
    let mut out = format!("{:<24}{:>10}{:>10}\n", "", "before", "after");
    for (name, b, a, unit, d) in rows {
        let _ = writeln!(out, "{name:<24}{:>10}{:>10}  {unit}", v(b, d), v(a, d));
    }
    out
}

/// Runs `lathe demo`.
///
/// # Errors
/// When the directory or files cannot be written.
pub fn run(args: &DemoArgs, progress: &Progress) -> Result<bool> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::file(dir, format!("cannot create the directory: {e}")))?;
    let mix_path = dir.join("mix.wav");
    let mastered = dir.join("mastered.wav");
    let plot = dir.join("before-after.png");
    check_outputs(&[&mix_path, &mastered, &plot], &[], args.force)?;

    let mix = demo_mix();
    let out = OutputFile::new(&mix_path)?;
    let format = SampleFormat::Int24;
    let mut sink = out.wav(2, RATE, format, quantizer(format, RATE, 1)?)?;
    sink.write(&mix)?;
    sink.finish()?;
    out.commit()?;

    let target = Target::by_name(DEFAULT_TARGET).expect("the default target exists");
    let job = MasterJob {
        input: mix_path.clone(),
        output: mastered.clone(),
        chain: DEFAULT_PRESET.chain(&target),
        chain_name: format!("preset {}", DEFAULT_PRESET.name()),
        chain_file: None,
        normalize_input: true,
        target,
        format: None,
        sample_rate: None,
        plot: Some(plot.clone()),
        full_reports: true,
    };
    let o = master_file(&job, progress)?;
    crate::app::print_text(&format!(
        "Lathe demo: a {:.0} s synthesised mix mastered with the {} preset to {} ({} LUFS, {} dBTP)\n\n{}\nwrote {}, {} and {}\n",
        mix.len() as f64 / f64::from(RATE),
        DEFAULT_PRESET.name(),
        target.name,
        target.integrated_lufs,
        target.ceiling_dbtp,
        before_after(&o.input_report, &o.output_report),
        mix_path.display(),
        mastered.display(),
        plot.display()
    ));
    Ok(true)
}
