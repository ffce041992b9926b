//! Analysis reports: the readings a mastering engineer checks, and the problems they reveal.

use crate::targets::Target;

/// Serialises `-inf`/NaN readings as `null` (JSON has no infinity).
#[cfg(feature = "serde")]
mod finite_or_null {
    pub fn serialize<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }
}

/// Energy share of one spectral band, for a quick tonal-balance check.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BandBalance {
    /// Band name (`"low"`, `"low-mid"`, `"mid"`, `"high-mid"`, `"high"`).
    pub name: &'static str,
    /// Lower edge in Hz.
    pub lo_hz: f64,
    /// Upper edge in Hz.
    pub hi_hz: f64,
    /// Band energy relative to the total, in dB (≤ 0).
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub share_db: f64,
}

/// A problem found by analysis, with a plain-language explanation.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Problem {
    /// Stable identifier (`"clipping"`, `"inverted-polarity"`, `"dc-offset"`, `"too-loud"`,
    /// `"too-quiet"`, `"excessive-lra"`, `"silent"`, `"true-peak-over"`, `"non-finite"`).
    pub code: &'static str,
    /// What was found and why it matters.
    pub message: String,
}

/// Everything `lathe analyze` reports for one file.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnalysisReport {
    /// Sample rate in Hz.
    pub sample_rate: f64,
    /// Channel count.
    pub channels: usize,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Integrated loudness, LUFS (BS.1770-4), `null` for silence.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub integrated_lufs: f64,
    /// Loudness range, LU (EBU Tech 3342).
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub loudness_range_lu: f64,
    /// True peak, dBTP (BS.1770-4 Annex 2).
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub true_peak_dbtp: f64,
    /// Sample peak, dBFS.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub sample_peak_dbfs: f64,
    /// Maximum momentary loudness (400 ms), LUFS.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub momentary_max_lufs: f64,
    /// Maximum short-term loudness (3 s), LUFS.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub short_term_max_lufs: f64,
    /// Peak-to-loudness ratio: true peak minus integrated, dB.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub plr_db: f64,
    /// Peak-to-short-term-loudness ratio: true peak minus max short-term, dB.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub psr_db: f64,
    /// Whole-file phase correlation of L and R (-1 ..= 1); `null` unless stereo.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub correlation: f64,
    /// Loudness lost when folded to mono, LU (plain energy); `null` unless stereo.
    #[cfg_attr(feature = "serde", serde(serialize_with = "finite_or_null::serialize"))]
    pub mono_loss_lu: f64,
    /// Largest per-channel mean (DC offset), linear full scale.
    pub dc_offset: f64,
    /// Samples at or above full scale (|x| ≥ 0.999 9, i.e. -0.001 dBFS), all channels.
    pub clipped_samples: u64,
    /// Runs of 3 or more consecutive clipped samples in one channel (a sign of clipping in
    /// the source rather than a single loud sample).
    pub clipped_runs: u64,
    /// Non-finite (NaN or infinite) samples found (they are measured as silence).
    pub non_finite_samples: u64,
    /// Tonal balance in five bands.
    pub spectrum: Vec<BandBalance>,
    /// Problems found.
    pub problems: Vec<Problem>,
}

impl AnalysisReport {
    /// Fills [`problems`](AnalysisReport::problems) from the readings, judged against
    /// `target` when one is given (loudness and LRA problems need a target).
    pub fn find_problems(&mut self, target: Option<&Target>) {
        let mut p = Vec::new();
        let mut add = |code: &'static str, message: String| p.push(Problem { code, message });
        if self.non_finite_samples > 0 {
            add(
                "non-finite",
                format!(
                    "{} samples are NaN or infinite; they were measured as silence and will be \
                     written as silence",
                    self.non_finite_samples
                ),
            );
        }
        if !self.integrated_lufs.is_finite() {
            add(
                "silent",
                "the file is silent (or below the -70 LUFS gate): there is nothing to master"
                    .into(),
            );
        }
        if self.clipped_runs > 0 {
            add(
                "clipping",
                format!(
                    "{} runs of 3+ full-scale samples ({} clipped samples): the source was \
                     clipped before it reached Lathe; limiting cannot restore what was cut off",
                    self.clipped_runs, self.clipped_samples
                ),
            );
        }
        if self.true_peak_dbtp.is_finite() && self.true_peak_dbtp > 0.0 {
            add(
                "true-peak-over",
                format!(
                    "true peak {:+.2} dBTP is above full scale: converters and lossy encoders \
                     will clip it",
                    self.true_peak_dbtp
                ),
            );
        }
        if self.channels == 2 && self.correlation.is_finite() && self.correlation < -0.3 {
            add(
                "inverted-polarity",
                format!(
                    "L/R correlation is {:.2}: one channel looks polarity-inverted; the mono \
                     sum loses {:.1} LU and bass cancels on mono playback",
                    self.correlation, self.mono_loss_lu
                ),
            );
        }
        if self.dc_offset.abs() > 0.001 {
            add(
                "dc-offset",
                format!(
                    "DC offset of {:.4} ({:.1} dBFS) wastes headroom and clicks at edits; \
                     enable DC removal",
                    self.dc_offset,
                    20.0 * self.dc_offset.abs().log10()
                ),
            );
        }
        if let Some(t) = target {
            if self.integrated_lufs.is_finite() {
                let d = self.integrated_lufs - t.integrated_lufs;
                if d > 3.0 {
                    add(
                        "too-loud",
                        format!(
                            "{:.1} LUFS is {d:.1} LU above the {} target ({} LUFS): the \
                             platform will turn it down, and the extra limiting only costs \
                             dynamics",
                            self.integrated_lufs, t.name, t.integrated_lufs
                        ),
                    );
                } else if d < -6.0 {
                    add(
                        "too-quiet",
                        format!(
                            "{:.1} LUFS is {:.1} LU below the {} target ({} LUFS): it will \
                             play quieter than other releases",
                            self.integrated_lufs, -d, t.name, t.integrated_lufs
                        ),
                    );
                }
            }
            if let (Some(max), true) = (t.max_lra_lu, self.loudness_range_lu.is_finite()) {
                if self.loudness_range_lu > max {
                    add(
                        "excessive-lra",
                        format!(
                            "loudness range {:.1} LU exceeds the {:.0} LU advised for {}: quiet \
                             passages will be lost in noisy listening",
                            self.loudness_range_lu, max, t.name
                        ),
                    );
                }
            }
        }
        self.problems = p;
    }
}
