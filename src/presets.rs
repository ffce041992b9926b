//! Presets: complete chains driven by one target.
//!
//! Every preset is a full [`ChainConfig`] built for a [`Target`]: its limiter ceiling is the
//! target's true-peak ceiling, and its level-dependent thresholds are set relative to the
//! target's integrated loudness, because the mastering pass first trims the input so that its
//! integrated loudness equals the target (see `Mastering`). The gain in
//! front of the limiter is then chosen by the mastering pass so the *output* hits the target.
//!
//! | preset | chain |
//! |---|---|
//! | `transparent` | input (DC removal) → gain → true-peak limiter |
//! | `streaming` (default) | input → safety EQ (25 Hz high-pass, gentle air shelf) → glue compressor 1.5:1 → gain → limiter |
//! | `loud` | input → EQ → 3-band compressor → bus compressor 2:1 → soft saturation → gain → limiter (fast release) |
//! | `broadcast` | input → 40 Hz high-pass → compressor 2.5:1 (sidechain high-pass) → gain → limiter |
//! | `podcast` | input → 80 Hz high-pass, presence peak → compressor 3:1 → gain → limiter |

use crate::config::*;
use crate::targets::Target;

/// A built-in preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Gain and a true-peak limiter only: loudness without colour.
    Transparent,
    /// Gentle glue compression, tonal safety EQ, limiter. The default.
    Streaming,
    /// Multiband and bus compression, light saturation, a hard-working limiter.
    Loud,
    /// Speech-and-music broadcast: controlled dynamics for EBU R128 / ATSC A/85.
    Broadcast,
    /// Voice: high-pass, presence, firm compression.
    Podcast,
}

/// The default preset of `lathe master`.
pub const DEFAULT_PRESET: Preset = Preset::Streaming;

/// Lookahead of every preset's true-peak limiter, ms. Over 20 ms the limiter's gain glides
/// down along a straight line before each peak and recovers as soon as it has passed; on a
/// dense mix pushed from -17 to -9 LUFS this leaves 3 dB less distortion (gain modulation)
/// than 5 ms does, for slightly softer transients (`tests/transparency.rs`).
pub const PRESET_LOOKAHEAD_MS: f64 = 20.0;

/// All presets in listing order.
pub const PRESETS: [Preset; 5] = Preset::ALL;

impl Preset {
    /// Every preset, in listing order.
    pub const ALL: [Preset; 5] = [
        Preset::Transparent,
        Preset::Streaming,
        Preset::Loud,
        Preset::Broadcast,
        Preset::Podcast,
    ];
}

/// All presets.
pub fn presets() -> &'static [Preset] {
    &PRESETS
}

impl Preset {
    /// Name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Transparent => "transparent",
            Preset::Streaming => "streaming",
            Preset::Loud => "loud",
            Preset::Broadcast => "broadcast",
            Preset::Podcast => "podcast",
        }
    }

    /// One-line description.
    pub fn description(self) -> &'static str {
        match self {
            Preset::Transparent => "gain + true-peak limiter only: loudness without colour",
            Preset::Streaming => "safety EQ, gentle 1.5:1 glue compression, true-peak limiter",
            Preset::Loud => "EQ, 3-band and bus compression, light saturation, limiter",
            Preset::Broadcast => "40 Hz high-pass, 2.5:1 compression with sidechain HPF, limiter",
            Preset::Podcast => "80 Hz high-pass, presence lift, 3:1 compression, limiter",
        }
    }

    /// Looks a preset up by name (case-insensitive).
    pub fn by_name(name: &str) -> Option<Preset> {
        PRESETS
            .iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The preset's chain for `target` at `sample_rate` Hz: [`chain`](Self::chain) fitted with
    /// [`fit_chain_to_rate`], so it prepares at any rate from 8 kHz up.
    pub fn chain_for_rate(self, target: &Target, sample_rate: f64) -> ChainConfig {
        fit_chain_to_rate(&self.chain(target), sample_rate)
    }

    /// The preset's chain for `target`. The chain ends with a gain stage (set by the mastering
    /// pass) and a true-peak limiter at the target's ceiling.
    pub fn chain(self, target: &Target) -> ChainConfig {
        let t = target.integrated_lufs;
        let limiter = |release_ms: f64| {
            StageConfig::Limiter(LimiterConfig {
                ceiling_db: target.ceiling_dbtp,
                true_peak: true,
                release_ms,
                lookahead_ms: PRESET_LOOKAHEAD_MS,
                bypass: false,
            })
        };
        let input = StageConfig::Input(InputConfig::default());
        let gain = StageConfig::Gain(GainConfig::default());
        let hp = |freq_hz: f64| EqBandConfig {
            kind: EqKind::Highpass,
            freq_hz,
            order: 2,
            ..EqBandConfig::default()
        };
        let stages = match self {
            Preset::Transparent => vec![input, gain, limiter(50.0)],
            Preset::Streaming => vec![
                input,
                StageConfig::Eq(EqConfig {
                    bands: vec![
                        hp(25.0),
                        EqBandConfig {
                            kind: EqKind::HighShelf,
                            freq_hz: 12_000.0,
                            gain_db: 0.5,
                            q: 0.707,
                            ..EqBandConfig::default()
                        },
                    ],
                    bypass: false,
                }),
                StageConfig::Compressor(CompressorConfig {
                    // Peaks of a mix normalised to the target sit ~10 dB above its loudness;
                    // this catches the top few dB only.
                    threshold_db: (t + 8.0).min(-1.0),
                    ratio: 1.5,
                    knee_db: 6.0,
                    attack_ms: 30.0,
                    release_ms: 250.0,
                    sidechain_hpf_hz: Some(60.0),
                    ..CompressorConfig::default()
                }),
                gain,
                limiter(80.0),
            ],
            Preset::Loud => vec![
                input,
                StageConfig::Eq(EqConfig {
                    bands: vec![
                        hp(28.0),
                        EqBandConfig {
                            kind: EqKind::LowShelf,
                            freq_hz: 90.0,
                            gain_db: 0.8,
                            q: 0.707,
                            ..EqBandConfig::default()
                        },
                        EqBandConfig {
                            kind: EqKind::HighShelf,
                            freq_hz: 10_000.0,
                            gain_db: 1.0,
                            q: 0.707,
                            ..EqBandConfig::default()
                        },
                    ],
                    bypass: false,
                }),
                StageConfig::Multiband(MultibandConfig {
                    crossovers_hz: vec![150.0, 2_500.0],
                    bands: vec![
                        MultibandBandConfig {
                            threshold_db: (t + 4.0).min(-1.0),
                            ratio: 2.0,
                            attack_ms: 30.0,
                            release_ms: 200.0,
                            width: 1.0,
                            ..MultibandBandConfig::default()
                        },
                        MultibandBandConfig {
                            threshold_db: (t + 4.0).min(-1.0),
                            ratio: 1.5,
                            attack_ms: 15.0,
                            release_ms: 150.0,
                            ..MultibandBandConfig::default()
                        },
                        MultibandBandConfig {
                            threshold_db: (t + 2.0).min(-1.0),
                            ratio: 1.5,
                            attack_ms: 5.0,
                            release_ms: 100.0,
                            ..MultibandBandConfig::default()
                        },
                    ],
                    bypass: false,
                }),
                StageConfig::Compressor(CompressorConfig {
                    threshold_db: (t + 6.0).min(-1.0),
                    ratio: 2.0,
                    knee_db: 6.0,
                    attack_ms: 10.0,
                    release_ms: 150.0,
                    sidechain_hpf_hz: Some(80.0),
                    ..CompressorConfig::default()
                }),
                StageConfig::Saturation(SaturationConfig {
                    curve: SaturationCurveConfig::Tape,
                    drive_db: 2.0,
                    mix: 0.5,
                    ..SaturationConfig::default()
                }),
                gain,
                limiter(50.0),
            ],
            Preset::Broadcast => vec![
                input,
                StageConfig::Eq(EqConfig {
                    bands: vec![hp(40.0)],
                    bypass: false,
                }),
                StageConfig::Compressor(CompressorConfig {
                    threshold_db: (t + 6.0).min(-1.0),
                    ratio: 2.5,
                    knee_db: 6.0,
                    attack_ms: 15.0,
                    release_ms: 300.0,
                    sidechain_hpf_hz: Some(100.0),
                    ..CompressorConfig::default()
                }),
                gain,
                limiter(100.0),
            ],
            Preset::Podcast => vec![
                input,
                StageConfig::Eq(EqConfig {
                    bands: vec![
                        hp(80.0),
                        EqBandConfig {
                            kind: EqKind::Peak,
                            freq_hz: 3_500.0,
                            gain_db: 1.5,
                            q: 0.8,
                            ..EqBandConfig::default()
                        },
                    ],
                    bypass: false,
                }),
                StageConfig::Compressor(CompressorConfig {
                    threshold_db: (t + 4.0).min(-1.0),
                    ratio: 3.0,
                    knee_db: 6.0,
                    attack_ms: 8.0,
                    release_ms: 150.0,
                    ..CompressorConfig::default()
                }),
                gain,
                limiter(60.0),
            ],
        };
        ChainConfig::new(stages)
    }
}

/// A preset's chain fitted to a sample rate (Hz): EQ bands placed at or above 0.45 fs (an "air"
/// shelf at 12 kHz on a 22.05 kHz file) act on nothing that file can hold, so they are left out
/// instead of failing the Nyquist check. Meant for preset chains; a chain a user wrote by hand
/// should keep such a band as the error it is.
pub fn fit_chain_to_rate(chain: &ChainConfig, sample_rate: f64) -> ChainConfig {
    let limit = 0.45 * sample_rate;
    let mut c = chain.clone();
    for stage in &mut c.stages {
        if let StageConfig::Eq(eq) = stage {
            eq.bands.retain(|b| b.freq_hz < limit);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::TARGETS;

    #[test]
    fn every_preset_prepares_at_every_rate() {
        let t = Target::by_name("spotify").unwrap();
        for p in PRESETS {
            for rate in [
                8_000.0, 11_025.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0,
            ] {
                let c = p.chain_for_rate(&t, rate);
                crate::MasteringChain::<2>::from_config(&c, rate, 512)
                    .unwrap_or_else(|e| panic!("{} at {rate} Hz: {e}", p.name()));
                // Only bands that cannot act are dropped.
                let kept = |c: &ChainConfig| -> usize {
                    c.stages
                        .iter()
                        .map(|s| match s {
                            StageConfig::Eq(e) => e.bands.len(),
                            _ => 0,
                        })
                        .sum()
                };
                if rate >= 44_100.0 {
                    assert_eq!(kept(&c), kept(&p.chain(&t)), "{} at {rate}", p.name());
                }
            }
        }
    }

    #[test]
    fn every_preset_is_valid_for_every_target_and_ends_in_the_ceiling() {
        for p in PRESETS {
            assert_eq!(Preset::by_name(p.name()), Some(p));
            for t in TARGETS {
                let c = p.chain(t);
                c.validate()
                    .unwrap_or_else(|e| panic!("{} / {}: {e}", p.name(), t.name));
                match c.stages.last() {
                    Some(StageConfig::Limiter(l)) => {
                        assert_eq!(l.ceiling_db, t.ceiling_dbtp);
                        assert!(l.true_peak);
                    }
                    other => panic!("{}: last stage {other:?}", p.name()),
                }
            }
        }
    }

    #[test]
    fn thresholds_follow_the_target() {
        let a = Preset::Streaming.chain(&Target::by_name("ebu-r128").unwrap());
        let b = Preset::Streaming.chain(&Target::by_name("spotify").unwrap());
        let th = |c: &ChainConfig| {
            c.stages
                .iter()
                .find_map(|s| match s {
                    StageConfig::Compressor(k) => Some(k.threshold_db),
                    _ => None,
                })
                .unwrap()
        };
        assert!((th(&b) - th(&a) - 9.0).abs() < 1e-9);
    }
}
