//! # lathe-album
//!
//! Mastering step 6: sequencing an album or EP — the order of the tracks, the space between
//! them, fades and crossfades, Red Book CD rules, CUE sheets and album-consistent loudness.
//!
//! - [`compute_timeline`] lays the tracks out in exact integer frames: each track's start and
//!   end, its INDEX 00 (pregap) and INDEX 01 positions and the album length, with the sum rule
//!   `total = Σ trimmed lengths + Σ gaps + tail − Σ crossfades` holding exactly. CD mode
//!   applies the Red Book (IEC 60908) rules: 44.1 kHz, positions on CD frames of 1/75 s
//!   (588 frames), tracks of at least 4 s, a 2 s pregap before track 1; broken rules are
//!   errors, never panics. The rounding directions are documented on [`compute_timeline`].
//! - [`AlbumRenderer`] streams the album block by block from a [`TrackSource`] per track,
//!   applying gaps, fades ([`FadeCurve`]: linear, equal power, S-curve), crossfades and track
//!   gains, without allocating; its output is bit-identical for any block size.
//! - [`write_cue`] writes a CUE sheet (`FILE`, `TRACK nn AUDIO`, `TITLE`, `PERFORMER`, `ISRC`,
//!   `CATALOG`, `INDEX 00/01` in `MM:SS:FF`) to any [`core::fmt::Write`]; [`parse_cue`] reads
//!   the same subset back into a caller-provided slice, borrowing its strings.
//! - [`plan_gains`] turns the tracks' loudness readings into per-track gains for
//!   [`LoudnessMode::Track`], [`LoudnessMode::Album`] or [`LoudnessMode::LoudestTrack`], and
//!   reports the headroom each plan needs at the true-peak ceiling.
//!
//! The crate is `#![no_std]` and never allocates: placements, parsed tracks and gains live in
//! slices the caller lends.
//!
//! ```
//! use lathe_album::{
//!     compute_timeline, write_cue, AlbumRenderer, CueSheet, CueTrack, FadeCurve, MemorySource,
//!     TimelineOptions, TrackPlacement, TrackSpec,
//! };
//!
//! let fs = 44_100;
//! // Two 5 s "tracks" of constant level, a 1 s equal-power crossfade between them.
//! let a = vec![[0.5f32; 2]; 5 * fs];
//! let b = vec![[0.25f32; 2]; 5 * fs];
//! let specs = [
//!     TrackSpec { frames: a.len() as u64, crossfade_s: 1.0, ..TrackSpec::default() },
//!     TrackSpec { frames: b.len() as u64, fade_out_s: 0.5, ..TrackSpec::default() },
//! ];
//! let opts = TimelineOptions::cd(); // 44.1 kHz, CD frames, 2 s pregap before track 1
//! let mut placements = [TrackPlacement::default(); 2];
//! let timeline = compute_timeline(&specs, &opts, &mut placements)?;
//!
//! // 2 s + 5 s + 5 s − 1 s, padded to a whole CD frame.
//! assert_eq!(timeline.total_frames, 11 * fs as u64);
//! assert_eq!(placements[0].start, 2 * fs as u64); // INDEX 01 of track 1 at 00:02:00
//! assert_eq!(placements[1].audio_start, 6 * fs as u64); // track 2 enters at 6 s
//!
//! // Render in blocks of any size.
//! let tracks: [&[[f32; 2]]; 2] = [&a, &b];
//! let mut source = MemorySource::new(&tracks);
//! let mut renderer = AlbumRenderer::new(&specs, &placements, timeline);
//! let mut album = Vec::new();
//! let mut block = [[0.0f32; 2]; 1000];
//! loop {
//!     let n = renderer.render(&mut source, &mut block);
//!     if n == 0 { break; }
//!     album.extend_from_slice(&block[..n]);
//! }
//! assert_eq!(album.len() as u64, timeline.total_frames);
//! assert_eq!(album[0], [0.0; 2]); // the pregap is silent
//! assert_eq!(album[3 * fs], [0.5; 2]); // track 1 at full level
//!
//! // A CUE sheet for the rendered file.
//! let cue_tracks: Vec<CueTrack<'_>> = placements
//!     .iter()
//!     .enumerate()
//!     .map(|(i, p)| CueTrack {
//!         number: i as u8 + 1,
//!         pregap_start: p.pregap_start,
//!         start: p.start,
//!         ..CueTrack::default()
//!     })
//!     .collect();
//! let sheet = CueSheet {
//!     file: "album.wav",
//!     title: Some("Two tracks"),
//!     performer: None,
//!     catalog: Some("4006381333931"),
//!     sample_rate: fs as u32,
//!     tracks: &cue_tracks,
//! };
//! let mut cue = String::new();
//! write_cue(&sheet, &mut cue)?;
//! assert!(cue.contains("INDEX 00 00:00:00\n    INDEX 01 00:02:00"));
//! assert!(cue.contains("TRACK 02 AUDIO\n    INDEX 01 00:06:00"));
//! # Ok::<(), lathe_album::AlbumError>(())
//! ```
//!
//! ## Standards and references
//!
//! - **Red Book** — Philips/Sony *Compact Disc Digital Audio* system description, published as
//!   **IEC 60908:1999** *Audio recording — Compact disc digital audio system*: 44.1 kHz 16-bit
//!   stereo; the disc addressed in minutes, seconds and frames of 1/75 s (one frame = 2 352
//!   bytes = 588 stereo samples); tracks at least 4 s; at most 99 tracks; a pregap of at least
//!   2 s (150 frames) before track 1; index 00 marks a track's pregap, index 01 its start.
//! - **CUE sheets** — the text format introduced by Golden Hawk Technology's CDRWIN and read by
//!   cdrdao, ImgBurn, EAC and most players: `CATALOG`, `FILE "name" WAVE`, `TRACK nn AUDIO`,
//!   `TITLE` / `PERFORMER` (CD-Text, at most 80 characters), `ISRC`, `INDEX nn MM:SS:FF`.
//! - **ISRC** — ISO 3901 *International Standard Recording Code*: 12 characters
//!   `CC XXX YY NNNNN` (country, registrant, year, designation), written without dashes on a
//!   CD (Red Book subcode Q mode 3) and in CUE sheets.
//! - **CATALOG** — the disc's Media Catalog Number (Red Book subcode Q mode 2): a 13-digit
//!   UPC/EAN-13, whose check digit follows the GS1 General Specifications (weights 1 and 3
//!   alternating from the left, check = (10 − sum mod 10) mod 10).
//! - **Loudness** — ITU-R BS.1770-4 and EBU R128 for the integrated loudness and true-peak
//!   readings the gain plan consumes (measured by `lathe-loudness`).
#![no_std]
#![forbid(unsafe_code)]

mod cue;
mod curve;
mod error;
mod plan;
mod render;
mod timeline;

pub use cue::{
    cd_frames_to_frames, ean13_check_digit, frames_to_cd_frames, parse_cue, validate_catalog,
    validate_isrc, write_cue, CueSheet, CueTrack, Msf, ParsedCue, ParsedTrack, CUE_MAX_CD_FRAMES,
    CUE_TEXT_MAX_CHARS,
};
pub use curve::FadeCurve;
pub use error::{AlbumError, Result};
pub use plan::{
    headroom_needed_db, plan_gains, GainPlan, LoudnessMode, TrackLoudness, MAX_CEILING_DBTP,
    MAX_TARGET_LUFS, MIN_CEILING_DBTP, MIN_TARGET_LUFS,
};
pub use render::{AlbumRenderer, MemorySource, TrackSource};
pub use timeline::{
    compute_timeline, Timeline, TimelineOptions, TrackPlacement, TrackSpec, CD_FIRST_PREGAP_S,
    CD_FRAMES_PER_SECOND, CD_FRAME_SAMPLES, CD_MAX_TRACKS, CD_MIN_TRACK_FRAMES, CD_MIN_TRACK_S,
    CD_SAMPLE_RATE, MAX_GAIN_DB, MAX_SECONDS, MAX_TRACK_FRAMES, MIN_GAIN_DB,
};
