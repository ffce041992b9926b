//! The album loudness plan: per-track gains from the tracks' loudness readings.

use crate::error::{AlbumError, Result};
use lathe_core::Error;

/// Lowest loudness target accepted, LUFS (the BS.1770 absolute gate).
pub const MIN_TARGET_LUFS: f64 = -70.0;
/// Highest loudness target accepted, LUFS.
pub const MAX_TARGET_LUFS: f64 = 0.0;
/// Lowest true-peak ceiling accepted, dBTP.
pub const MIN_CEILING_DBTP: f64 = -40.0;
/// Highest true-peak ceiling accepted, dBTP.
pub const MAX_CEILING_DBTP: f64 = 6.0;

/// One track's loudness readings (ITU-R BS.1770-4 / EBU R128), before any gain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackLoudness {
    /// Integrated loudness, LUFS; `-inf` for a silent track (nothing above the gates).
    pub integrated_lufs: f64,
    /// True peak, dBTP (BS.1770-4 Annex 2); `-inf` for digital silence.
    pub true_peak_dbtp: f64,
}

/// How the album's tracks are brought to the target loudness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LoudnessMode {
    /// Every track to the target on its own (what streaming services do per track): gain
    /// `target − track LUFS`; silent tracks get 0 dB.
    Track,
    /// One gain for every track so the album's integrated loudness (all tracks measured as one
    /// programme) meets the target: `target − album LUFS`. Track-to-track relations stay
    /// exactly as mixed (ReplayGain "album gain", the album mode of streaming normalisation).
    #[default]
    Album,
    /// One gain for every track so the loudest track meets the target: `target − max track
    /// LUFS`. Relations stay as mixed and no track ends up louder than the target.
    LoudestTrack,
}

/// What a plan decided, besides the per-track gains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainPlan {
    /// The mode the plan was made for.
    pub mode: LoudnessMode,
    /// Headroom the plan needs at the ceiling, dB: `max over tracks of (true peak + gain −
    /// ceiling)`. > 0 means the limiter must take that much off the loudest peak; `-inf` when
    /// every track is digitally silent. Never NaN.
    pub headroom_needed_db: f64,
    /// The track whose peak sets `headroom_needed_db` (`None` when all are silent).
    pub peak_track: Option<usize>,
    /// The loudest track by integrated loudness (`None` when all are silent).
    pub loudest_track: Option<usize>,
    /// The loudness the gain was computed from, LUFS: the album's (album mode), the loudest
    /// track's (loudest-track mode) or the target (track mode).
    pub reference_lufs: f64,
}

/// Headroom needed at `ceiling_dbtp` when each track gets its gain: `max_i (true_peak_i +
/// gains_db_i − ceiling)`, dB, with the track that sets it. Silent tracks (`-inf` true peak)
/// never set it; `(-inf, None)` when all are silent. Pairs past the shorter slice are ignored.
pub fn headroom_needed_db(
    tracks: &[TrackLoudness],
    gains_db: &[f64],
    ceiling_dbtp: f64,
) -> (f64, Option<usize>) {
    let mut best = (f64::NEG_INFINITY, None);
    for (i, (t, g)) in tracks.iter().zip(gains_db).enumerate() {
        if t.true_peak_dbtp.is_finite() {
            let h = t.true_peak_dbtp + g - ceiling_dbtp;
            if best.1.is_none() || h > best.0 {
                best = (h, Some(i));
            }
        }
    }
    best
}

/// Plans per-track gains for `mode` and writes them to `gains_db[..tracks.len()]` (dB).
///
/// - [`LoudnessMode::Track`]: `gain_i = target − L_i`; silent tracks (`L_i = -inf`) get 0.
/// - [`LoudnessMode::Album`]: `gain_i = target − album_lufs` for every track, where
///   `album_lufs` is the integrated loudness of all tracks measured as one programme (the
///   merged meters, which the caller computes).
/// - [`LoudnessMode::LoudestTrack`]: `gain_i = target − max_j L_j` for every track.
///
/// In the two album-wide modes every track gets the bit-identical gain, so track-to-track
/// differences stay exactly as mixed. The returned [`GainPlan`] reports the headroom the
/// gains need at `ceiling_dbtp` ([`headroom_needed_db`]). No output is ever NaN.
///
/// # Errors
/// - `Core(CapacityExceeded)` when `gains_db` is shorter than `tracks`;
///   [`AlbumError::NoTracks`] for no tracks;
/// - `Core(OutOfRange)` for `target_lufs` outside −70 ..= 0, `ceiling_dbtp` outside
///   −40 ..= +6, or `album_lufs` NaN or `+inf` (in album mode also `-inf`: a silent album
///   cannot be brought to a target);
/// - [`AlbumError::Track`] for a track reading that is NaN or `+inf`;
/// - `Track { error: OutOfRange { param: "integrated_lufs" } }` in loudest-track mode when
///   every track is silent (reported on track 0).
///
/// On error `gains_db` is left untouched.
pub fn plan_gains(
    mode: LoudnessMode,
    tracks: &[TrackLoudness],
    album_lufs: f64,
    target_lufs: f64,
    ceiling_dbtp: f64,
    gains_db: &mut [f64],
) -> Result<GainPlan> {
    Error::check_range("target_lufs", target_lufs, MIN_TARGET_LUFS, MAX_TARGET_LUFS)?;
    Error::check_range(
        "ceiling_dbtp",
        ceiling_dbtp,
        MIN_CEILING_DBTP,
        MAX_CEILING_DBTP,
    )?;
    if tracks.is_empty() {
        return Err(AlbumError::NoTracks);
    }
    if gains_db.len() < tracks.len() {
        return Err(Error::CapacityExceeded {
            needed: tracks.len(),
            capacity: gains_db.len(),
        }
        .into());
    }
    let album_ok = match mode {
        LoudnessMode::Album => album_lufs.is_finite(),
        _ => !(album_lufs.is_nan() || album_lufs == f64::INFINITY),
    };
    if !album_ok {
        return Err(Error::OutOfRange {
            param: "album_lufs",
            value: album_lufs,
            min: f64::NEG_INFINITY,
            max: f64::MAX,
        }
        .into());
    }
    let mut loudest: Option<usize> = None;
    for (i, t) in tracks.iter().enumerate() {
        for (param, value) in [
            ("integrated_lufs", t.integrated_lufs),
            ("true_peak_dbtp", t.true_peak_dbtp),
        ] {
            if value.is_nan() || value == f64::INFINITY {
                return Err(AlbumError::Track {
                    track: i,
                    error: Error::OutOfRange {
                        param,
                        value,
                        min: f64::NEG_INFINITY,
                        max: f64::MAX,
                    },
                });
            }
        }
        if t.integrated_lufs.is_finite()
            && loudest.is_none_or(|j| t.integrated_lufs > tracks[j].integrated_lufs)
        {
            loudest = Some(i);
        }
    }
    let gains_db = &mut gains_db[..tracks.len()];
    let reference_lufs = match mode {
        LoudnessMode::Track => {
            for (g, t) in gains_db.iter_mut().zip(tracks) {
                *g = if t.integrated_lufs.is_finite() {
                    target_lufs - t.integrated_lufs
                } else {
                    0.0
                };
            }
            target_lufs
        }
        LoudnessMode::Album => {
            gains_db.fill(target_lufs - album_lufs);
            album_lufs
        }
        LoudnessMode::LoudestTrack => {
            let Some(j) = loudest else {
                return Err(AlbumError::Track {
                    track: 0,
                    error: Error::OutOfRange {
                        param: "integrated_lufs",
                        value: f64::NEG_INFINITY,
                        min: MIN_TARGET_LUFS,
                        max: MAX_TARGET_LUFS,
                    },
                });
            };
            let l = tracks[j].integrated_lufs;
            gains_db.fill(target_lufs - l);
            l
        }
    };
    let (headroom, peak_track) = headroom_needed_db(tracks, gains_db, ceiling_dbtp);
    Ok(GainPlan {
        mode,
        headroom_needed_db: headroom,
        peak_track,
        loudest_track: loudest,
        reference_lufs,
    })
}
