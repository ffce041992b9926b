//! Album mastering: consistent loudness across tracks, then one continuous sequence.
//!
//! The album's loudness is the merge of the tracks' meters (`lathe-loudness`), exactly as if
//! the album had been measured as one file. [`plan_album`] turns the tracks' readings into
//! per-track gains with `lathe-album`'s plan (track, album or loudest-track mode);
//! [`track_chain`] gives the chain each track is rendered with (the same chain for every track,
//! only the gain in front of the limiter differs); `lathe-album`'s timeline, renderer and CUE
//! writer then sequence the rendered tracks.

use crate::config::ChainConfig;
use crate::error::{Error, Result};
use crate::master::normalise_chain;
use crate::targets::Target;
use lathe_album::{plan_gains, GainPlan, LoudnessMode, TrackLoudness};
use lathe_loudness::LoudnessMeter;

/// Per-track gains for an album.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AlbumPlan {
    /// Gain per track in dB, in track order.
    pub gains_db: Vec<f64>,
    /// Integrated loudness of the whole album before gains (merged meters), LUFS.
    pub album_lufs: f64,
    /// Each track's integrated loudness before gains, LUFS.
    pub track_lufs: Vec<f64>,
    /// Each track's true peak before gains, dBTP.
    pub track_true_peak_dbtp: Vec<f64>,
    /// Headroom the plan needs at the ceiling, dB (> 0: the limiter has work to do).
    pub headroom_needed_db: f64,
}

/// Plans per-track gains from the tracks' meters.
///
/// # Errors
/// [`Error::Silent`] when every track is silent; errors from `lathe-album`'s plan or from
/// merging meters of different sample rates.
pub fn plan_album<const CH: usize>(
    meters: &[&LoudnessMeter<CH>],
    mode: LoudnessMode,
    target: &Target,
) -> Result<AlbumPlan> {
    let Some((first, rest)) = meters.split_first() else {
        return Err(Error::Silent);
    };
    let mut album = (*first).clone();
    for m in rest {
        album.merge(m)?;
    }
    let album_lufs = album.integrated_lufs();
    if !album_lufs.is_finite() {
        return Err(Error::Silent);
    }
    let tracks: Vec<TrackLoudness> = meters
        .iter()
        .map(|m| TrackLoudness {
            integrated_lufs: m.integrated_lufs(),
            true_peak_dbtp: m.true_peak_dbtp(),
        })
        .collect();
    let mut gains_db = vec![0.0; tracks.len()];
    let GainPlan {
        headroom_needed_db, ..
    } = plan_gains(
        mode,
        &tracks,
        album_lufs,
        target.integrated_lufs,
        target.ceiling_dbtp,
        &mut gains_db,
    )
    .map_err(|e| Error::Album(e.to_string()))?;
    Ok(AlbumPlan {
        gains_db,
        album_lufs,
        track_lufs: tracks.iter().map(|t| t.integrated_lufs).collect(),
        track_true_peak_dbtp: tracks.iter().map(|t| t.true_peak_dbtp).collect(),
        headroom_needed_db,
    })
}

/// The chain one album track is rendered with: `chain` normalised as for single-track
/// mastering (a limiter at the target ceiling, a gain stage in front of it) with that gain set
/// to `gain_db` and no input trim, so every track goes through the same processing.
pub fn track_chain(chain: &ChainConfig, target: &Target, gain_db: f64) -> ChainConfig {
    let (mut c, gain_index, _) = normalise_chain(chain, target);
    if let crate::config::StageConfig::Gain(g) = &mut c.stages[gain_index] {
        g.gain_db = gain_db.clamp(-96.0, 48.0);
    }
    c
}
