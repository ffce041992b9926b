//! Chain descriptions: the mastering strip as data.
//!
//! A [`ChainConfig`] is an ordered list of [`StageConfig`]s. It is what presets produce, what
//! `lathe process --chain FILE.toml` reads (with the `serde` feature), and what
//! `MasteringChain::from_config` builds. Every field has
//! a default, so a TOML stage only names what it changes:
//!
//! ```toml
//! [[stage]]
//! type = "eq"
//! bands = [ { kind = "highpass", freq_hz = 30.0, order = 2 },
//!           { kind = "peak", freq_hz = 3000.0, gain_db = 1.0, q = 1.0 } ]
//! [[stage]]
//! type = "compressor"
//! threshold_db = -18.0
//! ratio = 2.0
//! [[stage]]
//! type = "limiter"
//! ceiling_db = -1.0
//! ```
//!
//! [`ChainConfig::validate`] checks every value against its allowed range and names the stage,
//! the key and the range in its error.

use core::fmt;

/// Filter kinds of an EQ band (the `kind` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EqKind {
    /// Peaking (bell) filter: `freq_hz`, `gain_db`, `q`.
    Peak,
    /// Low shelf: `freq_hz`, `gain_db`, `q`.
    LowShelf,
    /// High shelf: `freq_hz`, `gain_db`, `q`.
    HighShelf,
    /// Butterworth low-pass: `freq_hz`, `order` (1..=8, 6 dB/oct each).
    #[cfg_attr(feature = "serde", serde(alias = "low_pass"))]
    Lowpass,
    /// Butterworth high-pass: `freq_hz`, `order` (1..=8).
    #[cfg_attr(feature = "serde", serde(alias = "high_pass"))]
    Highpass,
    /// Band-pass: `freq_hz`, `q`.
    #[cfg_attr(feature = "serde", serde(alias = "band_pass"))]
    Bandpass,
    /// Notch: `freq_hz`, `q`.
    Notch,
    /// All-pass: `freq_hz`, `q`.
    #[cfg_attr(feature = "serde", serde(alias = "all_pass"))]
    Allpass,
    /// Tilt around `freq_hz`: `gain_db` is the change at the top (the bottom gets the opposite).
    Tilt,
}

/// One EQ band.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct EqBandConfig {
    /// Filter kind. Default `peak`.
    pub kind: EqKind,
    /// Corner or centre frequency in Hz, 10 ..= 0.49 fs. Default 1000.
    pub freq_hz: f64,
    /// Gain in dB, -24 ..= 24 (peak, shelves, tilt). Default 0.
    pub gain_db: f64,
    /// Quality factor, 0.1 ..= 20. Default 0.707.
    pub q: f64,
    /// Butterworth order for low/high-pass, 1 ..= 8. Default 2.
    pub order: u8,
    /// Use the RBJ cookbook (bilinear) design instead of the matched (decramped) default.
    pub rbj: bool,
    /// Band switched off. Default false.
    pub bypass: bool,
}

impl Default for EqBandConfig {
    fn default() -> Self {
        Self {
            kind: EqKind::Peak,
            freq_hz: 1_000.0,
            gain_db: 0.0,
            q: core::f64::consts::FRAC_1_SQRT_2,
            order: 2,
            rbj: false,
            bypass: false,
        }
    }
}

/// Input stage: DC removal and trim.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct InputConfig {
    /// Remove DC with a 5 Hz first-order high-pass. Default true.
    pub dc_removal: bool,
    /// Input trim in dB, -48 ..= 48. Default 0.
    pub trim_db: f64,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

impl Default for InputConfig {
    fn default() -> Self {
        Self {
            dc_removal: true,
            trim_db: 0.0,
            bypass: false,
        }
    }
}

/// Parametric EQ stage (up to 8 bands).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct EqConfig {
    /// The bands, at most [`MAX_EQ_BANDS`].
    pub bands: Vec<EqBandConfig>,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

/// Largest number of bands in one EQ stage.
pub const MAX_EQ_BANDS: usize = 8;

/// Compressor stage (Giannoulis/Massberg/Reiss feed-forward design, see `lathe-dynamics`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct CompressorConfig {
    /// Threshold in dBFS, -60 ..= 0. Default -18.
    pub threshold_db: f64,
    /// Ratio, 1 ..= 20. Default 2.
    pub ratio: f64,
    /// Soft-knee width in dB, 0 ..= 24. Default 6.
    pub knee_db: f64,
    /// Attack time constant in ms (63 %), 0.1 ..= 500. Default 20.
    pub attack_ms: f64,
    /// Release time constant in ms (63 %), 1 ..= 5000. Default 200.
    pub release_ms: f64,
    /// Makeup gain in dB, -24 ..= 24. Default 0.
    pub makeup_db: f64,
    /// Dry/wet mix for parallel compression, 0 ..= 1. Default 1.
    pub mix: f64,
    /// Stereo link, 0 ..= 1. Default 1.
    pub link: f64,
    /// Sidechain high-pass in Hz (so bass does not pump the mix), 10 ..= 500; none by default.
    pub sidechain_hpf_hz: Option<f64>,
    /// Lookahead in ms, 0 ..= 10. Default 0.
    pub lookahead_ms: f64,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

impl Default for CompressorConfig {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 2.0,
            knee_db: 6.0,
            attack_ms: 20.0,
            release_ms: 200.0,
            makeup_db: 0.0,
            mix: 1.0,
            link: 1.0,
            sidechain_hpf_hz: None,
            lookahead_ms: 0.0,
            bypass: false,
        }
    }
}

/// One band of a multiband compressor.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct MultibandBandConfig {
    /// Threshold in dBFS, -60 ..= 0. Default -20.
    pub threshold_db: f64,
    /// Ratio, 1 ..= 20. Default 1 (unity: the band passes unchanged).
    pub ratio: f64,
    /// Soft-knee width in dB, 0 ..= 24. Default 6.
    pub knee_db: f64,
    /// Attack in ms, 0.1 ..= 500. Default 20.
    pub attack_ms: f64,
    /// Release in ms, 1 ..= 5000. Default 200.
    pub release_ms: f64,
    /// Makeup gain in dB, -24 ..= 24. Default 0.
    pub makeup_db: f64,
    /// Stereo width of the band, 0 ..= 2 (stereo only). Default 1.
    pub width: f64,
}

impl Default for MultibandBandConfig {
    fn default() -> Self {
        Self {
            threshold_db: -20.0,
            ratio: 1.0,
            knee_db: 6.0,
            attack_ms: 20.0,
            release_ms: 200.0,
            makeup_db: 0.0,
            width: 1.0,
        }
    }
}

/// Multiband compressor: 2 to 4 bands on Linkwitz-Riley 4th-order crossovers.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct MultibandConfig {
    /// Ascending crossover frequencies in Hz (1 to 3 of them), 20 ..= 0.45 fs.
    /// Default `[120, 2000]`.
    pub crossovers_hz: Vec<f64>,
    /// One entry per band (crossovers + 1); missing bands take the defaults.
    pub bands: Vec<MultibandBandConfig>,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

impl Default for MultibandConfig {
    fn default() -> Self {
        Self {
            crossovers_hz: vec![120.0, 2_000.0],
            bands: Vec::new(),
            bypass: false,
        }
    }
}

/// Stereo stage: width, mid/side gains, balance, bass mono (stereo chains only).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct StereoConfig {
    /// Width, 0 (mono) ..= 2 (extra wide); never changes the mono sum. Default 1.
    pub width: f64,
    /// Mid gain in dB, -24 ..= 12. Default 0.
    pub mid_gain_db: f64,
    /// Side gain in dB, -24 ..= 12. Default 0.
    pub side_gain_db: f64,
    /// Balance, -1 (left) ..= 1 (right). Default 0.
    pub balance: f64,
    /// Make everything below this frequency mono (Hz, 20 ..= 500); none by default.
    pub bass_mono_hz: Option<f64>,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

impl Default for StereoConfig {
    fn default() -> Self {
        Self {
            width: 1.0,
            mid_gain_db: 0.0,
            side_gain_db: 0.0,
            balance: 0.0,
            bass_mono_hz: None,
            bypass: false,
        }
    }
}

/// Saturation transfer curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SaturationCurveConfig {
    /// Hyperbolic tangent.
    Tanh,
    /// Asymmetric tube-like curve (with bias: even harmonics).
    Tube,
    /// Tape-like soft curve.
    Tape,
    /// Cubic soft clip.
    SoftClip,
}

/// Saturation (warmth), oversampled.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct SaturationConfig {
    /// Transfer curve. Default `tape`.
    pub curve: SaturationCurveConfig,
    /// Drive in dB, 0 ..= 36. Default 3.
    pub drive_db: f64,
    /// Bias (even harmonics), -1 ..= 1. Default 0.
    pub bias: f64,
    /// Dry/wet mix, 0 ..= 1. Default 1.
    pub mix: f64,
    /// Oversampling factor: 1, 2, 4 or 8. Default 4.
    pub oversampling: u8,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

impl Default for SaturationConfig {
    fn default() -> Self {
        Self {
            curve: SaturationCurveConfig::Tape,
            drive_db: 3.0,
            bias: 0.0,
            mix: 1.0,
            oversampling: 4,
            bypass: false,
        }
    }
}

/// Mastering reverb (stereo chains only).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct ReverbConfig {
    /// Wet level, 0 ..= 1. Default 0.08.
    pub mix: f64,
    /// Decay time RT60 in seconds, 0.1 ..= 10. Default 1.2.
    pub decay_s: f64,
    /// Pre-delay in ms, 0 ..= 100. Default 10.
    pub predelay_ms: f64,
    /// High-frequency damping, 0 ..= 1. Default 0.5.
    pub damping: f64,
    /// Room size, 0 ..= 1. Default 0.5.
    pub size: f64,
    /// Width of the wet signal, 0 ..= 1. Default 1.
    pub width: f64,
    /// High-pass on the wet signal in Hz (keeps the low end dry), 20 ..= 1000. Default 200.
    pub highpass_hz: f64,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

impl Default for ReverbConfig {
    fn default() -> Self {
        Self {
            mix: 0.08,
            decay_s: 1.2,
            predelay_ms: 10.0,
            damping: 0.5,
            size: 0.5,
            width: 1.0,
            highpass_hz: 200.0,
            bypass: false,
        }
    }
}

/// A plain gain.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct GainConfig {
    /// Gain in dB, -96 ..= 48. Default 0.
    pub gain_db: f64,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

/// Lookahead limiter.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct LimiterConfig {
    /// Ceiling in dBFS (or dBTP with `true_peak`), -24 ..= 0. Default -1.
    pub ceiling_db: f64,
    /// Detect inter-sample (true) peaks, BS.1770-4 Annex 2. Default true.
    pub true_peak: bool,
    /// Release time in ms, 1 ..= 2000. Default 80.
    pub release_ms: f64,
    /// Lookahead in ms, 0.5 ..= 20: how long the gain takes to glide down before a peak
    /// (longer is smoother and leaves less distortion, and softens transients a little).
    /// Default 5.
    pub lookahead_ms: f64,
    /// Stage switched off. Default false.
    pub bypass: bool,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            ceiling_db: -1.0,
            true_peak: true,
            release_ms: 80.0,
            lookahead_ms: 5.0,
            bypass: false,
        }
    }
}

/// One stage of the strip (the `type` key in TOML).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum StageConfig {
    /// DC removal and input trim.
    Input(InputConfig),
    /// Parametric EQ.
    Eq(EqConfig),
    /// Compressor.
    Compressor(CompressorConfig),
    /// Multiband compressor.
    Multiband(MultibandConfig),
    /// Stereo imaging.
    Stereo(StereoConfig),
    /// Saturation.
    Saturation(SaturationConfig),
    /// Reverb.
    Reverb(ReverbConfig),
    /// Gain.
    Gain(GainConfig),
    /// Limiter.
    Limiter(LimiterConfig),
}

impl StageConfig {
    /// The stage's `type` name as written in TOML.
    pub fn kind(&self) -> &'static str {
        match self {
            StageConfig::Input(_) => "input",
            StageConfig::Eq(_) => "eq",
            StageConfig::Compressor(_) => "compressor",
            StageConfig::Multiband(_) => "multiband",
            StageConfig::Stereo(_) => "stereo",
            StageConfig::Saturation(_) => "saturation",
            StageConfig::Reverb(_) => "reverb",
            StageConfig::Gain(_) => "gain",
            StageConfig::Limiter(_) => "limiter",
        }
    }

    /// True when the stage is switched off.
    pub fn bypassed(&self) -> bool {
        match self {
            StageConfig::Input(c) => c.bypass,
            StageConfig::Eq(c) => c.bypass,
            StageConfig::Compressor(c) => c.bypass,
            StageConfig::Multiband(c) => c.bypass,
            StageConfig::Stereo(c) => c.bypass,
            StageConfig::Saturation(c) => c.bypass,
            StageConfig::Reverb(c) => c.bypass,
            StageConfig::Gain(c) => c.bypass,
            StageConfig::Limiter(c) => c.bypass,
        }
    }

    /// True when the stage is linear in its input (scaling the input scales the output by
    /// the same factor): input (DC removal, trim), EQ, stereo, reverb and gain. Dynamics,
    /// saturation and the limiter depend on the level.
    pub fn is_linear(&self) -> bool {
        matches!(
            self,
            StageConfig::Input(_)
                | StageConfig::Eq(_)
                | StageConfig::Stereo(_)
                | StageConfig::Reverb(_)
                | StageConfig::Gain(_)
        )
    }
}

/// The whole strip: stages in processing order (the `[[stage]]` array in TOML).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ChainConfig {
    /// Stages in order.
    #[cfg_attr(feature = "serde", serde(rename = "stage", default))]
    pub stages: Vec<StageConfig>,
}

/// A chain description that cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// A value outside its range.
    OutOfRange {
        /// Index of the stage (0-based) in the chain.
        stage: usize,
        /// The stage's type.
        kind: &'static str,
        /// The key.
        key: String,
        /// The rejected value.
        value: f64,
        /// Allowed minimum.
        min: f64,
        /// Allowed maximum.
        max: f64,
    },
    /// A structural problem (wrong number of bands, stereo stage on a mono chain, ...).
    Invalid {
        /// Index of the stage (0-based).
        stage: usize,
        /// The stage's type.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The TOML could not be parsed or has unknown keys / wrong types.
    Parse(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::OutOfRange {
                stage,
                kind,
                key,
                value,
                min,
                max,
            } => write!(
                f,
                "stage {} ({kind}): {key} = {value} is out of range {min} ..= {max}",
                stage + 1
            ),
            ConfigError::Invalid {
                stage,
                kind,
                reason,
            } => write!(f, "stage {} ({kind}): {reason}", stage + 1),
            ConfigError::Parse(msg) => write!(f, "chain file: {msg}"),
        }
    }
}

impl std::error::Error for ConfigError {}

struct Checker {
    stage: usize,
    kind: &'static str,
}

impl Checker {
    fn range(&self, key: &str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
        if value.is_finite() && value >= min && value <= max {
            Ok(())
        } else {
            Err(ConfigError::OutOfRange {
                stage: self.stage,
                kind: self.kind,
                key: key.to_string(),
                value,
                min,
                max,
            })
        }
    }
    fn invalid(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            stage: self.stage,
            kind: self.kind,
            reason: reason.into(),
        }
    }
}

impl ChainConfig {
    /// A chain of the given stages.
    pub fn new(stages: Vec<StageConfig>) -> Self {
        Self { stages }
    }

    /// Parses a chain from TOML (the format of `lathe process --chain`) and validates it.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for syntax errors, unknown keys and wrong types (the message names
    /// the key and its line); range errors as [`ChainConfig::validate`].
    #[cfg(feature = "serde")]
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let cfg: ChainConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Writes the chain as TOML.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] if serialisation fails (it does not for valid chains).
    #[cfg(feature = "serde")]
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Parse(e.to_string()))
    }

    /// Index of the first limiter stage that is not bypassed.
    pub fn limiter_index(&self) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| matches!(s, StageConfig::Limiter(l) if !l.bypass))
    }

    /// Checks every value against its range (sample-rate independent limits; frequencies are
    /// checked against Nyquist when the chain is prepared).
    ///
    /// # Errors
    /// The first [`ConfigError`] found, naming the stage, key and allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, stage) in self.stages.iter().enumerate() {
            let c = Checker {
                stage: i,
                kind: stage.kind(),
            };
            match stage {
                StageConfig::Input(s) => c.range("trim_db", s.trim_db, -48.0, 48.0)?,
                StageConfig::Eq(s) => {
                    if s.bands.len() > MAX_EQ_BANDS {
                        return Err(c.invalid(format!(
                            "{} bands given, at most {MAX_EQ_BANDS} allowed",
                            s.bands.len()
                        )));
                    }
                    for (b, band) in s.bands.iter().enumerate() {
                        c.range(
                            &format!("bands[{b}].freq_hz"),
                            band.freq_hz,
                            10.0,
                            192_000.0,
                        )?;
                        c.range(&format!("bands[{b}].gain_db"), band.gain_db, -24.0, 24.0)?;
                        c.range(&format!("bands[{b}].q"), band.q, 0.1, 20.0)?;
                        c.range(
                            &format!("bands[{b}].order"),
                            f64::from(band.order),
                            1.0,
                            8.0,
                        )?;
                    }
                }
                StageConfig::Compressor(s) => {
                    c.range("threshold_db", s.threshold_db, -60.0, 0.0)?;
                    c.range("ratio", s.ratio, 1.0, 20.0)?;
                    c.range("knee_db", s.knee_db, 0.0, 24.0)?;
                    c.range("attack_ms", s.attack_ms, 0.1, 500.0)?;
                    c.range("release_ms", s.release_ms, 1.0, 5_000.0)?;
                    c.range("makeup_db", s.makeup_db, -24.0, 24.0)?;
                    c.range("mix", s.mix, 0.0, 1.0)?;
                    c.range("link", s.link, 0.0, 1.0)?;
                    c.range("lookahead_ms", s.lookahead_ms, 0.0, 10.0)?;
                    if let Some(f) = s.sidechain_hpf_hz {
                        c.range("sidechain_hpf_hz", f, 10.0, 500.0)?;
                    }
                }
                StageConfig::Multiband(s) => {
                    if !(1..=3).contains(&s.crossovers_hz.len()) {
                        return Err(c.invalid(format!(
                            "crossovers_hz has {} entries; 1 to 3 (2 to 4 bands) allowed",
                            s.crossovers_hz.len()
                        )));
                    }
                    for (k, &f) in s.crossovers_hz.iter().enumerate() {
                        c.range(&format!("crossovers_hz[{k}]"), f, 20.0, 20_000.0)?;
                        if k > 0 && f <= s.crossovers_hz[k - 1] {
                            return Err(c.invalid("crossovers_hz must be strictly ascending"));
                        }
                    }
                    if s.bands.len() > s.crossovers_hz.len() + 1 {
                        return Err(c.invalid(format!(
                            "{} bands given for {} crossovers (at most {})",
                            s.bands.len(),
                            s.crossovers_hz.len(),
                            s.crossovers_hz.len() + 1
                        )));
                    }
                    for (b, band) in s.bands.iter().enumerate() {
                        c.range(
                            &format!("bands[{b}].threshold_db"),
                            band.threshold_db,
                            -60.0,
                            0.0,
                        )?;
                        c.range(&format!("bands[{b}].ratio"), band.ratio, 1.0, 20.0)?;
                        c.range(&format!("bands[{b}].knee_db"), band.knee_db, 0.0, 24.0)?;
                        c.range(&format!("bands[{b}].attack_ms"), band.attack_ms, 0.1, 500.0)?;
                        c.range(
                            &format!("bands[{b}].release_ms"),
                            band.release_ms,
                            1.0,
                            5_000.0,
                        )?;
                        c.range(
                            &format!("bands[{b}].makeup_db"),
                            band.makeup_db,
                            -24.0,
                            24.0,
                        )?;
                        c.range(&format!("bands[{b}].width"), band.width, 0.0, 2.0)?;
                    }
                }
                StageConfig::Stereo(s) => {
                    c.range("width", s.width, 0.0, 2.0)?;
                    c.range("mid_gain_db", s.mid_gain_db, -24.0, 12.0)?;
                    c.range("side_gain_db", s.side_gain_db, -24.0, 12.0)?;
                    c.range("balance", s.balance, -1.0, 1.0)?;
                    if let Some(f) = s.bass_mono_hz {
                        c.range("bass_mono_hz", f, 20.0, 500.0)?;
                    }
                }
                StageConfig::Saturation(s) => {
                    c.range("drive_db", s.drive_db, 0.0, 36.0)?;
                    c.range("bias", s.bias, -1.0, 1.0)?;
                    c.range("mix", s.mix, 0.0, 1.0)?;
                    if ![1, 2, 4, 8].contains(&s.oversampling) {
                        return Err(c.invalid(format!(
                            "oversampling = {} must be 1, 2, 4 or 8",
                            s.oversampling
                        )));
                    }
                }
                StageConfig::Reverb(s) => {
                    c.range("mix", s.mix, 0.0, 1.0)?;
                    c.range("decay_s", s.decay_s, 0.1, 10.0)?;
                    c.range("predelay_ms", s.predelay_ms, 0.0, 100.0)?;
                    c.range("damping", s.damping, 0.0, 1.0)?;
                    c.range("size", s.size, 0.0, 1.0)?;
                    c.range("width", s.width, 0.0, 1.0)?;
                    c.range("highpass_hz", s.highpass_hz, 20.0, 1_000.0)?;
                }
                StageConfig::Gain(s) => c.range("gain_db", s.gain_db, -96.0, 48.0)?,
                StageConfig::Limiter(s) => {
                    c.range("ceiling_db", s.ceiling_db, -24.0, 0.0)?;
                    c.range("release_ms", s.release_ms, 1.0, 2_000.0)?;
                    c.range("lookahead_ms", s.lookahead_ms, 0.5, 20.0)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[stage]]
type = "eq"
bands = [ { kind = "highpass", freq_hz = 30.0, order = 2 },
          { kind = "peak", freq_hz = 3000.0, gain_db = 1.0, q = 1.0 } ]
[[stage]]
type = "compressor"
threshold_db = -18.0
ratio = 2.0
[[stage]]
type = "multiband"
crossovers_hz = [120.0, 2000.0]
bands = [ { threshold_db = -20.0, ratio = 2.0 }, {}, { width = 1.2 } ]
[[stage]]
type = "stereo"
width = 1.1
bass_mono_hz = 120.0
[[stage]]
type = "saturation"
drive_db = 4.0
[[stage]]
type = "reverb"
mix = 0.05
[[stage]]
type = "gain"
gain_db = 1.5
[[stage]]
type = "limiter"
ceiling_db = -1.0
"#;

    #[test]
    fn parses_the_documented_example_and_round_trips() {
        let c = ChainConfig::from_toml_str(EXAMPLE).unwrap();
        assert_eq!(c.stages.len(), 8);
        assert!(
            matches!(&c.stages[0], StageConfig::Eq(e) if e.bands[0].kind == EqKind::Highpass && e.bands[1].gain_db == 1.0)
        );
        assert!(
            matches!(&c.stages[1], StageConfig::Compressor(k) if k.ratio == 2.0 && k.attack_ms == 20.0)
        );
        assert_eq!(c.limiter_index(), Some(7));
        let again = ChainConfig::from_toml_str(&c.to_toml_string().unwrap()).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn errors_name_stage_key_and_range() {
        let e = ChainConfig::from_toml_str("[[stage]]\ntype = \"compressor\"\nratio = 50.0\n")
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("stage 1 (compressor)")
                && msg.contains("ratio")
                && msg.contains("1 ..= 20"),
            "{msg}"
        );

        let e = ChainConfig::from_toml_str("[[stage]]\ntype = \"limiter\"\nceiling = -1.0\n")
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `ceiling`"), "{e}");

        let e = ChainConfig::from_toml_str("[[stage]]\ntype = \"gain\"\ngain_db = \"loud\"\n")
            .unwrap_err();
        assert!(
            e.to_string().contains("gain_db") || e.to_string().contains("invalid type"),
            "{e}"
        );

        let e = ChainConfig::from_toml_str("[[stage]]\ntype = \"wobble\"\n").unwrap_err();
        assert!(e.to_string().contains("wobble"), "{e}");

        let e = ChainConfig::from_toml_str(
            "[[stage]]\ntype = \"eq\"\nbands = [{ kind = \"peak\", q = 0.0 }]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("bands[0].q"), "{e}");

        let e = ChainConfig::from_toml_str(
            "[[stage]]\ntype = \"multiband\"\ncrossovers_hz = [2000.0, 100.0]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("ascending"), "{e}");
    }
}
