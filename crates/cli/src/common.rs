//! Pieces every command shares: targets and chains from the options, opening inputs (with
//! resampling), dither, progress bars and the channel-count dispatch.

use crate::cli::TargetArgs;
use crate::error::{Failure, Result};
use crate::input::{AudioReader, BlockSource, InputInfo};
use crate::output::{Quantize, SampleFormat};
use crate::resample::Resampled;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lathe::dither::{Dither, NoiseShaping};
use lathe::{ChainConfig, Preset, Target, DEFAULT_PRESET, DEFAULT_TARGET};
use std::path::Path;

/// Largest block handed to the DSP in one call, frames.
pub const BLOCK: usize = 4096;

/// Runs `$body` with `$CH` bound to the channel count `$n` as a constant (1 ..= 8), or
/// evaluates `$other` for any other count. The DSP is const-generic over the channel count;
/// this turns a run-time count into one of the instantiations.
#[macro_export]
macro_rules! with_channels {
    ($n:expr, $CH:ident => $body:expr, _ => $other:expr) => {
        match $n {
            1 => {
                const $CH: usize = 1;
                $body
            }
            2 => {
                const $CH: usize = 2;
                $body
            }
            3 => {
                const $CH: usize = 3;
                $body
            }
            4 => {
                const $CH: usize = 4;
                $body
            }
            5 => {
                const $CH: usize = 5;
                $body
            }
            6 => {
                const $CH: usize = 6;
                $body
            }
            7 => {
                const $CH: usize = 7;
                $body
            }
            8 => {
                const $CH: usize = 8;
                $body
            }
            _ => $other,
        }
    };
}

/// As [`with_channels!`] for mono and stereo only (what the mastering chain supports).
#[macro_export]
macro_rules! with_mono_or_stereo {
    ($n:expr, $CH:ident => $body:expr, _ => $other:expr) => {
        match $n {
            1 => {
                const $CH: usize = 1;
                $body
            }
            2 => {
                const $CH: usize = 2;
                $body
            }
            _ => $other,
        }
    };
}

/// The target the options ask for: `--target` (default [`DEFAULT_TARGET`]) with
/// `--target-lufs` / `--ceiling-dbtp` overriding its figures.
///
/// # Errors
/// An unknown target name.
pub fn resolve_target(args: &TargetArgs) -> Result<Target> {
    let name = args.target.as_deref().unwrap_or(DEFAULT_TARGET);
    let mut t = Target::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = lathe::targets().iter().map(|t| t.name).collect();
        Failure::general(format!(
            "unknown target `{name}` (one of: {})",
            names.join(", ")
        ))
    })?;
    if args.target_lufs.is_some() || args.ceiling_dbtp.is_some() {
        let custom = Target::custom(
            args.target_lufs.unwrap_or(t.integrated_lufs),
            args.ceiling_dbtp.unwrap_or(t.ceiling_dbtp),
        );
        t = Target {
            max_lra_lu: if args.target.is_some() {
                t.max_lra_lu
            } else {
                None
            },
            ..custom
        };
    }
    Ok(t)
}

/// A named preset (default [`DEFAULT_PRESET`]).
///
/// # Errors
/// An unknown name.
pub fn resolve_preset(name: Option<&str>) -> Result<Preset> {
    match name {
        None => Ok(DEFAULT_PRESET),
        Some(n) => Preset::by_name(n).ok_or_else(|| {
            let names: Vec<&str> = lathe::presets().iter().map(|p| p.name()).collect();
            Failure::general(format!(
                "unknown preset `{n}` (one of: {})",
                names.join(", ")
            ))
        }),
    }
}

pub use lathe::presets::fit_chain_to_rate as fit_preset_to_rate;

/// Reads and validates a chain file.
///
/// # Errors
/// Unreadable file; syntax, unknown keys, wrong types and out-of-range values (naming the
/// stage, the key and the allowed range).
pub fn load_chain(path: &Path) -> Result<ChainConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::file(path, crate::input::io_reason(&e)))?;
    let chain = ChainConfig::from_toml_str(&text).map_err(|e| {
        let msg = match (&e, diagnose_chain(&text)) {
            (lathe::ConfigError::Parse(_), Some(precise)) => precise,
            _ => {
                let msg = e.to_string();
                msg.strip_prefix("chain file: ").unwrap_or(&msg).to_string()
            }
        };
        Failure::file(path, msg)
    })?;
    Ok(chain)
}

/// The stage types a chain file may use.
pub const STAGE_TYPES: [&str; 9] = [
    "input",
    "eq",
    "compressor",
    "multiband",
    "stereo",
    "saturation",
    "reverb",
    "gain",
    "limiter",
];

/// Reads one stage table as its configuration type; the error names the key.
fn check_stage<T: serde::de::DeserializeOwned>(
    table: toml::Table,
) -> std::result::Result<(), String> {
    toml::Value::Table(table)
        .try_into::<T>()
        .map(|_| ())
        .map_err(|e| {
            // toml reports the key path on a second line: "... \nin `bands.q`".
            let text = e.to_string();
            let mut lines = text.lines();
            let what = lines.next().unwrap_or_default().to_string();
            match lines.find_map(|l| l.strip_prefix("in `").and_then(|l| l.strip_suffix('`'))) {
                Some(key) => format!("{key}: {what}"),
                None => what,
            }
        })
}

/// A precise message for a chain file the facade could not parse (the facade's message for
/// a wrong type inside a stage cannot name the stage or the key): the file is read as plain
/// TOML and each stage is checked on its own. `None` when the problem is not in a stage
/// (e.g. a syntax error), in which case the facade's message stands.
pub fn diagnose_chain(text: &str) -> Option<String> {
    use lathe::config::*;
    let doc: toml::Table = toml::from_str(text).ok()?;
    let stages = doc.get("stage")?.as_array()?;
    for (i, stage) in stages.iter().enumerate() {
        let n = i + 1;
        let Some(table) = stage.as_table() else {
            return Some(format!("stage {n}: a stage must be a table ([[stage]])"));
        };
        let mut table = table.clone();
        let kind = match table.remove("type") {
            Some(toml::Value::String(s)) => s,
            Some(other) => {
                return Some(format!(
                    "stage {n}: type must be a string, not {}",
                    other.type_str()
                ))
            }
            None => {
                return Some(format!(
                    "stage {n}: missing `type` (one of: {})",
                    STAGE_TYPES.join(", ")
                ))
            }
        };
        let checked = match kind.as_str() {
            "input" => check_stage::<InputConfig>(table),
            "eq" => check_stage::<EqConfig>(table),
            "compressor" => check_stage::<CompressorConfig>(table),
            "multiband" => check_stage::<MultibandConfig>(table),
            "stereo" => check_stage::<StereoConfig>(table),
            "saturation" => check_stage::<SaturationConfig>(table),
            "reverb" => check_stage::<ReverbConfig>(table),
            "gain" => check_stage::<GainConfig>(table),
            "limiter" => check_stage::<LimiterConfig>(table),
            other => {
                return Some(format!(
                    "stage {n}: unknown type `{other}` (one of: {})",
                    STAGE_TYPES.join(", ")
                ))
            }
        };
        if let Err(e) = checked {
            return Some(format!("stage {n} ({kind}): {e}"));
        }
    }
    None
}

/// Opens an input, resampled to `rate` when given and different.
///
/// # Errors
/// As [`AudioReader::open`].
pub fn open_source(
    path: &Path,
    rate: Option<u32>,
) -> Result<(InputInfo, Box<dyn BlockSource + Send>)> {
    let reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    match rate {
        Some(r) if r != info.sample_rate => {
            let src = Resampled::new(Box::new(reader), r).map_err(|e| e.on(path))?;
            Ok((info, Box::new(src)))
        }
        _ => Ok((info, Box::new(reader))),
    }
}

/// The facade's TPDF dither with Lipshitz noise shaping as the WAV writer's quantiser.
struct Dithered(Dither);

impl Quantize for Dithered {
    fn quantize(&mut self, x: f32, ch: usize) -> i32 {
        self.0.quantize(x, ch)
    }

    fn quantize_interleaved(&mut self, samples: &[f32], channels: usize, out: &mut [i32]) {
        // The facade's block form: the same values and the same silence rule as
        // `quantize_interleaved_with`, with both channels in registers.
        self.0.quantize_interleaved(samples, channels, out);
    }
}

/// The quantiser for `format` at `sample_rate`: TPDF dither with Lipshitz noise shaping
/// (flat above 64 kHz) for integer output, none for float.
///
/// # Errors
/// Never for 16 or 24 bits.
pub fn quantizer(
    format: SampleFormat,
    sample_rate: u32,
    seed: u64,
) -> Result<Option<Box<dyn Quantize>>> {
    let bits = match format {
        SampleFormat::Float32 => return Ok(None),
        SampleFormat::Int16 => 16,
        SampleFormat::Int24 => 24,
    };
    let d = Dither::new(bits, NoiseShaping::Lipshitz, f64::from(sample_rate), seed)
        .map_err(|e| Failure::general(format!("dither: {e}")))?;
    Ok(Some(Box::new(Dithered(d))))
}

/// The default output format for an input: 32-bit float for float inputs, 24-bit otherwise.
pub fn default_format(info: &InputInfo) -> SampleFormat {
    if info.float {
        SampleFormat::Float32
    } else {
        SampleFormat::Int24
    }
}

/// A seed derived from the file name, so dither is deterministic for a given output.
pub fn seed_for(path: &Path) -> u64 {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}

/// Progress bars on standard error: drawn only on a terminal and without `--quiet`.
#[derive(Debug, Clone)]
pub struct Progress {
    multi: MultiProgress,
}

impl Progress {
    /// A progress area (hidden with `quiet`).
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            // Hidden by indicatif itself when standard error is not a terminal.
            ProgressDrawTarget::stderr()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    /// A bar for one file's pass, `total` frames long when known.
    pub fn bar(&self, name: &str, what: &str, total: Option<u64>) -> ProgressBar {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let bar = self.multi.add(bar);
        let style = ProgressStyle::with_template(
            "{prefix:.bold} {msg:8} [{bar:32}] {percent:>3}% {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        bar.set_message(what.to_string());
        bar
    }

    /// Prints a line above the bars (or plainly when they are hidden).
    pub fn println(&self, line: &str) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }
}

/// Short display name of a path (its file name).
pub fn short_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Maps a facade error onto the file it concerns.
pub fn facade(path: &Path, e: lathe::Error) -> Failure {
    Failure::file(path, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_quantisation_equals_sample_by_sample() {
        for format in [SampleFormat::Int16, SampleFormat::Int24] {
            let mut block = quantizer(format, 44_100, 3).unwrap().unwrap();
            let mut single = quantizer(format, 44_100, 3).unwrap().unwrap();
            // Music-like values, a stretch of digital silence and a full-scale overload.
            let mut x: Vec<f32> = (0..3_000)
                .map(|i| (0.7 * (i as f32 * 0.031).sin()) * if i % 500 < 100 { 0.0 } else { 1.0 })
                .collect();
            x[2_001] = 3.0;
            let mut got = vec![0i32; x.len()];
            for (xs, out) in x.chunks(334).zip(got.chunks_mut(334)) {
                block.quantize_interleaved(xs, 2, out);
            }
            for (i, f) in x.chunks_exact(2).enumerate() {
                let black = f.iter().all(|&s| s == 0.0);
                for (ch, &s) in f.iter().enumerate() {
                    let want = if black { 0 } else { single.quantize(s, ch) };
                    assert_eq!(got[2 * i + ch], want, "{format:?} frame {i} ch {ch}");
                }
            }
        }
    }

    #[test]
    fn targets_resolve_with_overrides() {
        let none = TargetArgs {
            target: None,
            target_lufs: None,
            ceiling_dbtp: None,
        };
        let t = resolve_target(&none).unwrap();
        assert_eq!(
            (t.name, t.integrated_lufs, t.ceiling_dbtp),
            ("spotify", -14.0, -1.0)
        );
        let t = resolve_target(&TargetArgs {
            target: Some("ebu-r128".into()),
            target_lufs: None,
            ceiling_dbtp: Some(-2.0),
        })
        .unwrap();
        assert_eq!((t.integrated_lufs, t.ceiling_dbtp), (-23.0, -2.0));
        assert_eq!(t.max_lra_lu, Some(20.0));
        let t = resolve_target(&TargetArgs {
            target: None,
            target_lufs: Some(-16.0),
            ceiling_dbtp: None,
        })
        .unwrap();
        assert_eq!(
            (t.name, t.integrated_lufs, t.ceiling_dbtp),
            ("custom", -16.0, -1.0)
        );
        let e = resolve_target(&TargetArgs {
            target: Some("nope".into()),
            target_lufs: None,
            ceiling_dbtp: None,
        })
        .unwrap_err();
        assert!(e.reason.contains("spotify"), "{e}");
        assert!(resolve_preset(Some("LOUD")).is_ok());
        assert!(resolve_preset(Some("x"))
            .unwrap_err()
            .reason
            .contains("streaming"));
    }

    #[test]
    fn chain_diagnosis_names_stage_and_key() {
        let d = |t: &str| diagnose_chain(t).unwrap_or_default();
        assert_eq!(
            d("[[stage]]\ntype = \"gain\"\ngain_db = \"loud\"\n"),
            "stage 1 (gain): gain_db: invalid type: string \"loud\", expected f64"
        );
        assert!(d(
            "[[stage]]\ntype = \"gain\"\n[[stage]]\ntype = \"eq\"\nbands = [{ q = \"x\" }]\n"
        )
        .starts_with("stage 2 (eq): bands.q: invalid type"));
        assert!(d("[[stage]]\ntype = \"limiter\"\nceiling = -1.0\n")
            .starts_with("stage 1 (limiter): unknown field `ceiling`"));
        assert!(d("[[stage]]\ntype = \"wobble\"\n").contains("unknown type `wobble`"));
        assert!(d("[[stage]]\ngain_db = 1.0\n").contains("missing `type`"));
        assert_eq!(diagnose_chain("this is not toml"), None);
        assert_eq!(diagnose_chain("[[stage]]\ntype = \"gain\"\n"), None);
    }

    #[test]
    fn presets_fit_low_rates() {
        let t = Target::by_name("spotify").unwrap();
        for p in lathe::presets() {
            for rate in [8_000.0, 11_025.0, 16_000.0, 22_050.0, 44_100.0] {
                let c = fit_preset_to_rate(&p.chain(&t), rate);
                lathe::MasteringChain::<2>::from_config(&c, rate, 512)
                    .unwrap_or_else(|e| panic!("{} at {rate}: {e}", p.name()));
            }
        }
        let full = Preset::Streaming.chain(&t);
        assert_eq!(fit_preset_to_rate(&full, 48_000.0), full);
    }

    #[test]
    fn dispatch_binds_the_channel_count() {
        fn ch<const N: usize>() -> usize {
            N
        }
        for n in 1..=8usize {
            assert_eq!(with_channels!(n, CH => ch::<CH>(), _ => 0), n);
        }
        assert_eq!(with_channels!(9usize, CH => ch::<CH>(), _ => 0), 0);
        assert_eq!(with_mono_or_stereo!(3usize, CH => ch::<CH>(), _ => 0), 0);
    }
}
