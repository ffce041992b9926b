//! A sparse pre-scan of an input: an estimate of its integrated loudness from short excerpts
//! spread over its length, read with coarse seeks.
//!
//! A mastering job whose chain has level-dependent stages behind the input trim (the
//! compressor presets) needs the trim before the model can run; with this estimate the trim
//! is set before the analysis, the model runs during it, and the file is read twice in full
//! instead of three times (see `lathe::Mastering::set_input_estimate`). The excerpts make up
//! about [`FRACTION`] of the file. The estimate only places the input for the chain's
//! thresholds: the output's loudness is still solved exactly, and an estimate more than
//! `lathe::master::TRIM_ESTIMATE_TOLERANCE_DB` from the exact trim is dropped by the job.

use crate::input::AudioReader;
use lathe::loudness::LoudnessMeter;
use std::path::Path;

/// Length of one excerpt, seconds.
pub const EXCERPT_S: f64 = 1.0;
/// Share of the file the excerpts cover.
pub const FRACTION: f64 = 0.04;
/// Fewest excerpts (so files of a few minutes sample a larger share: 12 s of a 4-minute
/// song is 5 %, of a one-minute file 20 %).
pub const MIN_EXCERPTS: usize = 12;
/// Most excerpts.
pub const MAX_EXCERPTS: usize = 200;

/// Number of excerpts for a file of `duration_s` seconds; 0 when the file is too short for a
/// sample to be worth it (the whole file is then at most a few times the excerpts).
pub fn excerpt_count(duration_s: f64) -> usize {
    let n = (duration_s * FRACTION / EXCERPT_S).round() as usize;
    let n = n.clamp(MIN_EXCERPTS, MAX_EXCERPTS);
    if (n as f64) * EXCERPT_S * 4.0 > duration_s {
        0
    } else {
        n
    }
}

/// Estimates the integrated loudness (BS.1770-4, LUFS) of the `CH`-channel file at `path`
/// from evenly spaced excerpts. `None` when the length is unknown, the file is short, it
/// cannot seek, or the excerpts are silent: the caller then does without.
pub fn estimate_lufs<const CH: usize>(path: &Path) -> Option<f64> {
    let mut reader = AudioReader::open(path).ok()?;
    let info = reader.info().clone();
    if info.channels != CH {
        return None;
    }
    let fs = f64::from(info.sample_rate);
    let duration = info.frames? as f64 / fs;
    let n = excerpt_count(duration);
    if n == 0 {
        return None;
    }
    let want = (EXCERPT_S * fs) as u64;
    let mut total: Option<LoudnessMeter<CH>> = None;
    let mut frames: Vec<[f32; CH]> = Vec::new();
    for k in 0..n {
        // Excerpt k is centred in the k-th of n equal parts of the file.
        let start = (k as f64 + 0.5) / n as f64 * duration - 0.5 * EXCERPT_S;
        reader.seek_seconds(start).ok()?;
        let mut meter = LoudnessMeter::<CH>::new(fs).ok()?;
        meter.set_true_peak_enabled(false);
        let mut got = 0u64;
        while got < want {
            let Ok(Some(block)) = reader.next_block() else {
                break;
            };
            frames.clear();
            frames.extend(block.chunks_exact(CH).map(|c| {
                let mut f = [0.0; CH];
                f.copy_from_slice(c);
                f
            }));
            let take = frames.len().min((want - got) as usize);
            meter.process(&frames[..take]);
            got += take as u64;
        }
        match &mut total {
            Some(t) => t.merge(&meter).ok()?,
            None => total = Some(meter),
        }
    }
    let l = total?.integrated_lufs();
    l.is_finite().then_some(l)
}
