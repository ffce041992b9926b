//! Analysis reports as JSON and as a readable table.

use crate::input::InputInfo;
use lathe::AnalysisReport;
use serde::Serialize;
use std::fmt::Write as _;

/// A reading that may be minus infinity (silence) or undefined: `null` in JSON.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// One problem, with its stable code and explanation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProblemJson {
    /// Stable identifier, e.g. `"clipping"`.
    pub code: &'static str,
    /// What was found and why it matters.
    pub message: String,
}

/// Energy share of one band of the tonal balance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BandJson {
    /// Band name.
    pub name: &'static str,
    /// Lower edge, Hz.
    pub lo_hz: f64,
    /// Upper edge, Hz.
    pub hi_hz: f64,
    /// Share of the total energy, dB (`null` when the file is silent).
    pub share_db: Option<f64>,
}

/// The JSON object `lathe analyze --json` prints per file (one line each).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReportJson {
    /// The file as given on the command line.
    pub file: String,
    /// Container and codec.
    pub format: String,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: usize,
    /// Duration, seconds.
    pub duration_s: f64,
    /// Integrated loudness, LUFS (BS.1770-4); `null` for silence.
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU (EBU Tech 3342).
    pub loudness_range_lu: Option<f64>,
    /// True peak, dBTP (BS.1770-4 Annex 2).
    pub true_peak_dbtp: Option<f64>,
    /// Sample peak, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Largest momentary (400 ms) loudness, LUFS.
    pub momentary_max_lufs: Option<f64>,
    /// Largest short-term (3 s) loudness, LUFS.
    pub short_term_max_lufs: Option<f64>,
    /// Peak-to-loudness ratio (true peak − integrated), dB.
    pub plr_db: Option<f64>,
    /// Peak-to-short-term-loudness ratio (true peak − max short-term), dB.
    pub psr_db: Option<f64>,
    /// L/R correlation over the file (stereo only).
    pub correlation: Option<f64>,
    /// Loudness lost when folded to mono, LU (stereo only).
    pub mono_loss_lu: Option<f64>,
    /// Largest per-channel mean, linear full scale.
    pub dc_offset: f64,
    /// Samples at or above full scale (-0.001 dBFS).
    pub clipped_samples: u64,
    /// Runs of 3 or more clipped samples in a channel.
    pub clipped_runs: u64,
    /// Tonal balance.
    pub spectrum: Vec<BandJson>,
    /// Problem codes (see `problem_details` for the explanations).
    pub problems: Vec<&'static str>,
    /// Problems with their explanations.
    pub problem_details: Vec<ProblemJson>,
}

impl ReportJson {
    /// The JSON form of `report` for `file`.
    pub fn new(file: &str, info: Option<&InputInfo>, report: &AnalysisReport) -> Self {
        Self {
            file: file.to_string(),
            format: info.map_or_else(String::new, |i| i.format.clone()),
            sample_rate: report.sample_rate.round() as u32,
            channels: report.channels,
            duration_s: report.duration_s,
            integrated_lufs: finite(report.integrated_lufs),
            loudness_range_lu: finite(report.loudness_range_lu),
            true_peak_dbtp: finite(report.true_peak_dbtp),
            sample_peak_dbfs: finite(report.sample_peak_dbfs),
            momentary_max_lufs: finite(report.momentary_max_lufs),
            short_term_max_lufs: finite(report.short_term_max_lufs),
            plr_db: finite(report.plr_db),
            psr_db: finite(report.psr_db),
            correlation: finite(report.correlation),
            mono_loss_lu: finite(report.mono_loss_lu),
            dc_offset: if report.dc_offset.is_finite() {
                report.dc_offset
            } else {
                0.0
            },
            clipped_samples: report.clipped_samples,
            clipped_runs: report.clipped_runs,
            spectrum: report
                .spectrum
                .iter()
                .map(|b| BandJson {
                    name: b.name,
                    lo_hz: b.lo_hz,
                    hi_hz: b.hi_hz,
                    share_db: finite(b.share_db),
                })
                .collect(),
            problems: report.problems.iter().map(|p| p.code).collect(),
            problem_details: report
                .problems
                .iter()
                .map(|p| ProblemJson {
                    code: p.code,
                    message: p.message.clone(),
                })
                .collect(),
        }
    }

    /// One line of JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) => format!("{x:.decimals$}"),
        None => "-inf".into(),
    }
}

/// "m:ss.s" or "h:mm:ss".
pub fn duration_text(seconds: f64) -> String {
    if seconds >= 3600.0 {
        let s = seconds.round() as u64;
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        let m = (seconds / 60.0).floor();
        format!("{}:{:04.1}", m as u64, seconds - 60.0 * m)
    }
}

/// The readable table `lathe analyze` prints: one row per file, then each file's problems.
pub fn table(reports: &[ReportJson]) -> String {
    let headers = [
        "file", "rate", "ch", "length", "LUFS", "LRA", "dBTP", "dBFS", "M max", "S max", "PLR",
        "corr", "DC", "clipped",
    ];
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.file.clone(),
                r.sample_rate.to_string(),
                r.channels.to_string(),
                duration_text(r.duration_s),
                num(r.integrated_lufs, 1),
                num(r.loudness_range_lu, 1),
                num(r.true_peak_dbtp, 2),
                num(r.sample_peak_dbfs, 2),
                num(r.momentary_max_lufs, 1),
                num(r.short_term_max_lufs, 1),
                num(r.plr_db, 1),
                r.correlation.map_or("-".into(), |c| format!("{c:.2}")),
                format!("{:.4}", r.dc_offset),
                r.clipped_samples.to_string(),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i == 0 {
                let _ = write!(out, "{c:<w$}");
            } else {
                let _ = write!(out, "  {c:>w$}");
            }
        }
        out.push('\n');
    };
    line(&headers.map(String::from), &mut out);
    for row in &rows {
        line(row, &mut out);
    }
    for r in reports {
        if r.problem_details.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}:", r.file);
        for p in &r.problem_details {
            let _ = writeln!(out, "  {}: {}", p.code, p.message);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe::report::Problem;

    fn report(lufs: f64) -> AnalysisReport {
        AnalysisReport {
            sample_rate: 48_000.0,
            channels: 2,
            duration_s: 65.25,
            integrated_lufs: lufs,
            loudness_range_lu: 4.0,
            true_peak_dbtp: f64::NEG_INFINITY,
            sample_peak_dbfs: -3.0,
            momentary_max_lufs: -10.0,
            short_term_max_lufs: -12.0,
            plr_db: f64::NAN,
            psr_db: 3.0,
            correlation: 0.5,
            mono_loss_lu: 1.0,
            dc_offset: 0.0,
            clipped_samples: 0,
            clipped_runs: 0,
            non_finite_samples: 0,
            spectrum: Vec::new(),
            problems: vec![Problem {
                code: "silent",
                message: "nothing".into(),
            }],
        }
    }

    #[test]
    fn json_has_the_documented_keys_and_nulls() {
        let r = ReportJson::new("a.wav", None, &report(f64::NEG_INFINITY));
        let v: serde_json::Value = serde_json::from_str(&r.to_line()).unwrap();
        for key in [
            "file",
            "sample_rate",
            "channels",
            "duration_s",
            "integrated_lufs",
            "loudness_range_lu",
            "true_peak_dbtp",
            "sample_peak_dbfs",
            "momentary_max_lufs",
            "short_term_max_lufs",
            "plr_db",
            "correlation",
            "dc_offset",
            "clipped_samples",
            "problems",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert!(v["integrated_lufs"].is_null());
        assert!(v["true_peak_dbtp"].is_null());
        assert!(v["plr_db"].is_null());
        assert_eq!(v["sample_rate"], 48_000);
        assert_eq!(v["problems"], serde_json::json!(["silent"]));
        assert!(!r.to_line().contains('\n'));
    }

    #[test]
    fn table_lists_rows_and_problems() {
        let t = table(&[
            ReportJson::new("a.wav", None, &report(-14.0)),
            ReportJson::new("longer-name.wav", None, &report(f64::NEG_INFINITY)),
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("file"));
        assert!(lines[1].starts_with("a.wav") && lines[1].contains("-14.0"));
        assert!(lines[2].contains("-inf"));
        assert!(t.contains("silent: nothing"));
        assert_eq!(duration_text(65.25), "1:05.2");
        assert_eq!(duration_text(3_725.0), "1:02:05");
    }
}
