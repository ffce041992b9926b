//! `lathe targets` and `lathe presets`.

use lathe::config::{EqKind, StageConfig};
use lathe::{presets, targets, Target, DEFAULT_PRESET, DEFAULT_TARGET};
use std::fmt::Write as _;

/// The table `lathe targets` prints.
pub fn targets_text() -> String {
    let mut out = String::new();
    let w = targets().iter().map(|t| t.name.len()).max().unwrap_or(4);
    let _ = writeln!(
        out,
        "{:<w$}  {:>6}  {:>6}  {:>7}  source",
        "target", "LUFS", "dBTP", "max LRA"
    );
    for t in targets() {
        let lra = t.max_lra_lu.map_or("-".into(), |l| format!("{l:.0} LU"));
        let mark = if t.name == DEFAULT_TARGET {
            " (default)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<w$}  {:>6.1}  {:>6.1}  {:>7}  {}{mark}",
            t.name, t.integrated_lufs, t.ceiling_dbtp, lra, t.source
        );
    }
    out
}

fn eq_kind(k: EqKind) -> &'static str {
    match k {
        EqKind::Peak => "peak",
        EqKind::LowShelf => "low shelf",
        EqKind::HighShelf => "high shelf",
        EqKind::Lowpass => "low-pass",
        EqKind::Highpass => "high-pass",
        EqKind::Bandpass => "band-pass",
        EqKind::Notch => "notch",
        EqKind::Allpass => "all-pass",
        EqKind::Tilt => "tilt",
    }
}

/// One stage in words, with its figures.
pub fn describe_stage(s: &StageConfig) -> String {
    let mut d = match s {
        StageConfig::Input(c) => format!(
            "input: DC removal {}, trim {:+.1} dB",
            if c.dc_removal { "on" } else { "off" },
            c.trim_db
        ),
        StageConfig::Eq(c) => {
            let bands: Vec<String> = c
                .bands
                .iter()
                .map(|b| match b.kind {
                    EqKind::Highpass | EqKind::Lowpass => {
                        format!("{} {:.0} Hz order {}", eq_kind(b.kind), b.freq_hz, b.order)
                    }
                    EqKind::Peak | EqKind::LowShelf | EqKind::HighShelf => format!(
                        "{} {:.0} Hz {:+.1} dB Q {:.2}",
                        eq_kind(b.kind),
                        b.freq_hz,
                        b.gain_db,
                        b.q
                    ),
                    EqKind::Tilt => format!("tilt at {:.0} Hz {:+.1} dB", b.freq_hz, b.gain_db),
                    _ => format!("{} {:.0} Hz Q {:.2}", eq_kind(b.kind), b.freq_hz, b.q),
                })
                .collect();
            format!("eq: {}", bands.join(", "))
        }
        StageConfig::Compressor(c) => format!(
            "compressor: {:.1}:1 at {:.1} dBFS, knee {:.0} dB, attack {:.0} ms, release {:.0} ms{}",
            c.ratio,
            c.threshold_db,
            c.knee_db,
            c.attack_ms,
            c.release_ms,
            c.sidechain_hpf_hz.map_or(String::new(), |f| format!(
                ", sidechain high-pass {f:.0} Hz"
            ))
        ),
        StageConfig::Multiband(c) => {
            let xo: Vec<String> = c.crossovers_hz.iter().map(|f| format!("{f:.0}")).collect();
            let bands: Vec<String> = c
                .bands
                .iter()
                .map(|b| format!("{:.1}:1 at {:.1}", b.ratio, b.threshold_db))
                .collect();
            format!(
                "multiband: crossovers {} Hz; bands {}",
                xo.join("/"),
                bands.join(", ")
            )
        }
        StageConfig::Stereo(c) => format!(
            "stereo: width {:.2}{}",
            c.width,
            c.bass_mono_hz
                .map_or(String::new(), |f| format!(", bass mono below {f:.0} Hz"))
        ),
        StageConfig::Saturation(c) => format!(
            "saturation: {:?} drive {:.1} dB, mix {:.2}, {}x oversampled",
            c.curve, c.drive_db, c.mix, c.oversampling
        )
        .to_lowercase(),
        StageConfig::Reverb(c) => format!("reverb: mix {:.2}, decay {:.1} s", c.mix, c.decay_s),
        StageConfig::Gain(c) => {
            if c.gain_db == 0.0 {
                "gain (set by the mastering pass)".into()
            } else {
                format!("gain {:+.1} dB", c.gain_db)
            }
        }
        StageConfig::Limiter(c) => format!(
            "limiter: {} ceiling {:.1} dB, lookahead {:.1} ms, release {:.0} ms",
            if c.true_peak {
                "true-peak"
            } else {
                "sample-peak"
            },
            c.ceiling_db,
            c.lookahead_ms,
            c.release_ms
        ),
    };
    if s.bypassed() {
        d.push_str(" (bypassed)");
    }
    d
}

/// The list `lathe presets` prints: every preset with its chain for the default target.
pub fn presets_text() -> String {
    let target = Target::by_name(DEFAULT_TARGET).expect("the default target exists");
    let mut out = format!(
        "Chains shown for the default target {} ({} LUFS, {} dBTP); level-dependent thresholds \
         move with the target.\n",
        target.name, target.integrated_lufs, target.ceiling_dbtp
    );
    for p in presets() {
        let mark = if *p == DEFAULT_PRESET {
            " (default)"
        } else {
            ""
        };
        let _ = writeln!(out, "\n{}{mark}: {}", p.name(), p.description());
        for (i, s) in p.chain(&target).stages.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", i + 1, describe_stage(s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_target_and_preset() {
        let t = targets_text();
        for target in targets() {
            assert!(t.contains(target.name), "{}", target.name);
        }
        assert!(t.contains("spotify") && t.contains("-14.0") && t.contains("(default)"));
        let p = presets_text();
        for preset in presets() {
            assert!(p.contains(preset.name()));
        }
        assert!(p.contains("limiter: true-peak ceiling -1.0 dB"), "{p}");
        assert!(p.contains("streaming (default)"));
    }
}
