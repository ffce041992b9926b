//! Delivery targets: integrated loudness and true-peak ceiling per platform or standard.
//!
//! Figures are those the platforms and standards publish (as collected in the project's
//! reference notes); each entry names its source. Platforms change their normalisation from
//! time to time: check the source before a release that depends on an exact figure.

/// A loudness delivery target.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Target {
    /// Short name used on the command line (e.g. `"spotify"`).
    pub name: &'static str,
    /// Integrated loudness to reach, in LUFS (ITU-R BS.1770-4).
    pub integrated_lufs: f64,
    /// True-peak ceiling in dBTP (BS.1770-4 Annex 2).
    pub ceiling_dbtp: f64,
    /// Largest advisable loudness range in LU (EBU Tech 3342), where the target gives one.
    pub max_lra_lu: Option<f64>,
    /// Where the figures come from.
    pub source: &'static str,
}

/// Every built-in target, in the order `lathe targets` lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "spotify",
        integrated_lufs: -14.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: None,
        source: "Spotify for Artists, loudness normalization (normal setting -14 LUFS; -1 dBTP advised)",
    },
    Target {
        name: "spotify-loud",
        integrated_lufs: -11.0,
        ceiling_dbtp: -2.0,
        max_lra_lu: None,
        source: "Spotify for Artists, loudness normalization (loud setting -11 LUFS; -2 dBTP advised)",
    },
    Target {
        name: "apple-music",
        integrated_lufs: -16.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: None,
        source: "Apple Digital Masters / Sound Check (-16 LUFS, -1 dBTP)",
    },
    Target {
        name: "youtube",
        integrated_lufs: -14.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: None,
        source: "YouTube playback normalization (-14 LUFS), -1 dBTP as commonly advised",
    },
    Target {
        name: "amazon-music",
        integrated_lufs: -14.0,
        ceiling_dbtp: -2.0,
        max_lra_lu: None,
        source: "Amazon Music loudness guidance (-14 LUFS, -2 dBTP)",
    },
    Target {
        name: "tidal",
        integrated_lufs: -14.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: None,
        source: "Tidal loudness normalization (-14 LUFS), -1 dBTP",
    },
    Target {
        name: "deezer",
        integrated_lufs: -15.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: None,
        source: "Deezer loudness normalization (-15 LUFS), -1 dBTP",
    },
    Target {
        name: "soundcloud",
        integrated_lufs: -14.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: None,
        source: "SoundCloud (about -14 LUFS, commonly published), -1 dBTP",
    },
    Target {
        name: "ebu-r128",
        integrated_lufs: -23.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: Some(20.0),
        source: "EBU R 128 (2020): -23 LUFS ±0.5 LU, max true peak -1 dBTP; LRA advice per EBU Tech 3343",
    },
    Target {
        name: "atsc-a85",
        integrated_lufs: -24.0,
        ceiling_dbtp: -2.0,
        max_lra_lu: None,
        source: "ATSC A/85:2013 RP: -24 LKFS, -2 dBTP",
    },
    Target {
        name: "podcast",
        integrated_lufs: -16.0,
        ceiling_dbtp: -1.0,
        max_lra_lu: Some(8.0),
        source: "Common podcast delivery (Apple Podcasts guidance: -16 LUFS stereo, -1 dBTP)",
    },
    Target {
        name: "cd",
        integrated_lufs: -9.0,
        ceiling_dbtp: -0.3,
        max_lra_lu: None,
        source: "Loud CD / club master: no standard; -9 LUFS at -0.3 dBTP is a common loud choice",
    },
    Target {
        name: "club",
        integrated_lufs: -8.0,
        ceiling_dbtp: -0.5,
        max_lra_lu: None,
        source: "Club / DJ promo master: no standard; -8 LUFS at -0.5 dBTP is a common loud choice",
    },
];

/// The default target of `lathe master`: Spotify's -14 LUFS / -1 dBTP.
pub const DEFAULT_TARGET: &str = "spotify";

/// All built-in targets.
pub fn targets() -> &'static [Target] {
    TARGETS
}

impl Target {
    /// Looks a target up by name (case-insensitive; `_` and `-` are the same).
    pub fn by_name(name: &str) -> Option<Target> {
        let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
        let want = norm(name);
        TARGETS.iter().copied().find(|t| norm(t.name) == want)
    }

    /// A custom target with the given integrated loudness (LUFS) and ceiling (dBTP).
    pub fn custom(integrated_lufs: f64, ceiling_dbtp: f64) -> Target {
        Target {
            name: "custom",
            integrated_lufs,
            ceiling_dbtp,
            max_lra_lu: None,
            source: "given by the user",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(Target::by_name("Spotify").unwrap().integrated_lufs, -14.0);
        assert_eq!(Target::by_name("ebu_r128").unwrap().integrated_lufs, -23.0);
        assert_eq!(Target::by_name("atsc-a85").unwrap().ceiling_dbtp, -2.0);
        assert!(Target::by_name("nope").is_none());
        for t in TARGETS {
            assert!(t.ceiling_dbtp <= 0.0 && t.integrated_lufs < 0.0, "{t:?}");
        }
        let mut names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TARGETS.len());
    }
}
