//! The command line: every command, option and its help text (`clap` derive).

use crate::output::SampleFormat;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Lathe: analyse, master and sequence audio files.
///
/// Reads WAV (16/24/32-bit integer, 32/64-bit float, WAVE_FORMAT_EXTENSIBLE), FLAC, AIFF, MP3
/// and Ogg Vorbis at 8 to 384 kHz; writes WAV. Loudness follows ITU-R BS.1770-4 / EBU R128.
/// Exit status: 0 success, 1 a file could not be processed, 2 a usage error.
#[derive(Debug, Parser)]
#[command(
    name = "lathe",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// No progress bars (they are only drawn on a terminal anyway).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure loudness, peaks, stereo image and problems of audio files.
    ///
    /// Integrated loudness, loudness range, momentary and short-term maxima, true and sample
    /// peak, PLR, stereo correlation, DC offset, clipping, and the problems they show. One report per file, as a table or (--json) one JSON object per line. Readings of
    /// silence (minus infinity) are null in JSON. Mono to 8 channels.
    Analyze(AnalyzeArgs),
    /// Master files to a loudness target (two passes, streaming).
    ///
    /// The preset's chain (or --chain), then a true-peak limiter whose input gain is solved so
    /// the output meets the target within 0.1 LU, its true peak at or under the ceiling. The
    /// input is read twice: an analysis (which also models the limiter) and a render; the
    /// compressor presets first sample about 4 % of the file to set the input trim.
    ///
    /// The output keeps the input's sample rate, channel count and exact length (latency
    /// compensated: output frame n is input frame n) unless --sample-rate resamples. Mono or
    /// stereo.
    Master(MasterArgs),
    /// Apply a chain file exactly as written (no loudness targeting).
    ///
    /// No added limiter, no trim. The output is latency-compensated and exactly as long as
    /// the input.
    Process(ProcessArgs),
    /// Sequence tracks into one album file with a CUE sheet.
    ///
    /// In the order given: gaps or crossfades, album fades, a CUE sheet, optionally each track
    /// as its own file, album-consistent loudness or mastering, and Red Book CD rules.
    Album(AlbumArgs),
    /// List the delivery targets with their loudness, ceiling and source.
    Targets,
    /// List the presets with their chains (for the default target).
    Presets,
    /// Master a synthesised demo mix and show before and after.
    ///
    /// Synthesises a 24 s multi-instrument mix in code, masters it with the default preset
    /// and target, and writes mix.wav, mastered.wav and before-after.png.
    Demo(DemoArgs),
}

/// `lathe analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Audio files to measure.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per file, each on its own line.
    #[arg(long)]
    pub json: bool,
    /// Also draw level and short-term loudness over time into this PNG (all files in one
    /// plot).
    #[arg(long, value_name = "PNG")]
    pub plot: Option<PathBuf>,
    /// Judge the problems (too loud, too quiet, loudness range) against this target; see
    /// `lathe targets`.
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Replace an existing --plot file.
    #[arg(long)]
    pub force: bool,
}

/// How the loudness target is chosen (shared by `master` and `album`).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Delivery target (see `lathe targets`) [default: spotify, -14 LUFS / -1 dBTP].
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Integrated loudness to reach, LUFS (-70 ..= -1); overrides the target's.
    #[arg(long, value_name = "LUFS", allow_negative_numbers = true, value_parser = parse_lufs)]
    pub target_lufs: Option<f64>,
    /// True-peak ceiling, dBTP (-24 ..= 0); overrides the target's.
    #[arg(long, value_name = "DBTP", allow_negative_numbers = true, value_parser = parse_ceiling)]
    pub ceiling_dbtp: Option<f64>,
}

/// `lathe master`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("out").required(true).args(["output", "out_dir"])))]
pub struct MasterArgs {
    /// Input files (several need --out-dir; they are mastered in parallel).
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
    /// Output WAV (one input).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Output directory: each input becomes DIR/NAME.wav (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Preset chain (see `lathe presets`) [default: streaming].
    #[arg(long, value_name = "NAME", conflicts_with = "chain")]
    pub preset: Option<String>,
    /// Chain file (TOML) used instead of a preset; a true-peak limiter at the ceiling is
    /// appended if it has none.
    #[arg(long, value_name = "FILE.toml")]
    pub chain: Option<PathBuf>,
    /// Target selection.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output sample format: 16 or 24 (dithered integer) or 32f (float) [default: 32f for
    /// float inputs, 24 otherwise].
    #[arg(long, value_name = "16|24|32f", value_parser = parse_bits)]
    pub bits: Option<SampleFormat>,
    /// Resample to this rate (Hz, 8000 ..= 384000) before mastering.
    #[arg(long, value_name = "HZ", value_parser = parse_rate)]
    pub sample_rate: Option<u32>,
    /// Write the input and output analyses and the settings used as JSON. The analyses are
    /// then full (correlation, DC, clipping, spectrum balance, problems); without a report
    /// the job measures only the loudness and true peak its summary line prints.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Draw the before/after level and loudness into this PNG.
    #[arg(long, value_name = "PNG")]
    pub plot: Option<PathBuf>,
    /// Replace existing output files (inputs are never overwritten).
    #[arg(long)]
    pub force: bool,
}

/// `lathe process`.
#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// Input file.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Output WAV.
    #[arg(short = 'o', long = "output", value_name = "OUT", required = true)]
    pub output: PathBuf,
    /// Chain file (TOML), applied exactly as written.
    #[arg(long, value_name = "FILE.toml", required = true)]
    pub chain: PathBuf,
    /// Output sample format: 16, 24 or 32f [default: 32f for float inputs, 24 otherwise].
    #[arg(long, value_name = "16|24|32f", value_parser = parse_bits)]
    pub bits: Option<SampleFormat>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Album loudness modes (`--loudness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoudnessArg {
    /// Every track to the target on its own.
    Track,
    /// One gain for all tracks: the album as a whole meets the target.
    Album,
    /// One gain for all tracks: the loudest track meets the target.
    Loudest,
}

/// `lathe album`.
#[derive(Debug, Args)]
pub struct AlbumArgs {
    /// Tracks, in album order.
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
    /// The album WAV.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "ALBUM.wav",
        required = true
    )]
    pub output: PathBuf,
    /// Silence between tracks, seconds [default: 2].
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, conflicts_with = "crossfade")]
    pub gap: Option<f64>,
    /// Crossfade every track into the next, seconds (equal power).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub crossfade: Option<f64>,
    /// Fade in at the start of the album, seconds.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub fade_in: Option<f64>,
    /// Fade out at the end of the album, seconds.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub fade_out: Option<f64>,
    /// Where to write the CUE sheet [default: the album's name with .cue].
    #[arg(long, value_name = "FILE.cue")]
    pub cue: Option<PathBuf>,
    /// Also write each track as its own WAV into DIR, cut at the album positions.
    #[arg(long, value_name = "DIR")]
    pub tracks_dir: Option<PathBuf>,
    /// Bring the tracks to the target: each on its own (track), the album as a whole (album)
    /// or the loudest track (loudest). Without --master only gain and a true-peak limiter
    /// are applied [default with --master: album; without: no level change].
    #[arg(long, value_enum)]
    pub loudness: Option<LoudnessArg>,
    /// Target selection.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Red Book CD: 44.1 kHz 16-bit stereo, positions on CD frames (1/75 s), a 2 s pregap
    /// before track 1, tracks of at least 4 s.
    #[arg(long)]
    pub cd: bool,
    /// Master every track with the same chain first (the preset's, or --chain), with gains
    /// from the album loudness plan.
    #[arg(long)]
    pub master: bool,
    /// Preset for --master [default: streaming].
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "chain",
        requires = "master"
    )]
    pub preset: Option<String>,
    /// Chain file for --master.
    #[arg(long, value_name = "FILE.toml", requires = "master")]
    pub chain: Option<PathBuf>,
    /// Output sample format [default: 16 with --cd, else 24 (32f if every input is float)].
    #[arg(long, value_name = "16|24|32f", value_parser = parse_bits)]
    pub bits: Option<SampleFormat>,
    /// Replace existing output files (inputs are never overwritten).
    #[arg(long)]
    pub force: bool,
}

/// `lathe demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for mix.wav, mastered.wav and before-after.png (created if missing).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "DIR",
        default_value = "lathe-demo"
    )]
    pub dir: PathBuf,
    /// Replace the files of an earlier demo run.
    #[arg(long)]
    pub force: bool,
}

fn parse_number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{s}` is not a finite number"))
    }
}

fn in_range(s: &str, min: f64, max: f64, unit: &str) -> Result<f64, String> {
    let v = parse_number(s)?;
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} {unit} is outside {min} ..= {max} {unit}"))
    }
}

fn parse_lufs(s: &str) -> Result<f64, String> {
    in_range(s, -70.0, -1.0, "LUFS")
}

fn parse_ceiling(s: &str) -> Result<f64, String> {
    in_range(s, -24.0, 0.0, "dBTP")
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    in_range(s, 0.0, 3_600.0, "s")
}

fn parse_rate(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of Hz"))?;
    if (8_000..=384_000).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} Hz is outside 8000 ..= 384000 Hz"))
    }
}

fn parse_bits(s: &str) -> Result<SampleFormat, String> {
    SampleFormat::parse(s).ok_or_else(|| format!("`{s}`: use 16, 24 or 32f"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_forms() {
        let c = Cli::try_parse_from([
            "lathe",
            "master",
            "a.wav",
            "-o",
            "b.wav",
            "--target-lufs",
            "-14",
            "--ceiling-dbtp",
            "-1",
            "--bits",
            "16",
        ])
        .unwrap();
        let Command::Master(m) = c.command else {
            panic!()
        };
        assert_eq!(m.target.target_lufs, Some(-14.0));
        assert_eq!(m.target.ceiling_dbtp, Some(-1.0));
        assert_eq!(m.bits, Some(SampleFormat::Int16));
        for bad in [
            vec!["lathe", "master", "a.wav"],
            vec!["lathe", "master", "a.wav", "-o", "b.wav", "--out-dir", "d"],
            vec!["lathe", "master", "a.wav", "-o", "b.wav", "--bits", "20"],
            vec![
                "lathe",
                "master",
                "a.wav",
                "-o",
                "b.wav",
                "--target-lufs",
                "5",
            ],
            vec![
                "lathe",
                "master",
                "a.wav",
                "-o",
                "b.wav",
                "--sample-rate",
                "1000",
            ],
            vec![
                "lathe", "master", "a.wav", "-o", "b.wav", "--preset", "x", "--chain", "c",
            ],
            vec![
                "lathe",
                "album",
                "a.wav",
                "-o",
                "b.wav",
                "--gap",
                "1",
                "--crossfade",
                "1",
            ],
            vec!["lathe", "album", "a.wav", "-o", "b.wav", "--preset", "loud"],
            vec!["lathe", "process", "a.wav", "-o", "b.wav"],
            vec!["lathe", "frobnicate"],
        ] {
            let e = Cli::try_parse_from(&bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
        }
    }
}
