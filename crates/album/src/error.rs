//! The error type of `lathe-album`.

use core::fmt;

/// Result alias of `lathe-album`.
pub type Result<T, E = AlbumError> = core::result::Result<T, E>;

/// Everything that can go wrong while planning, sequencing or describing an album.
///
/// Errors are returned from the non-real-time calls ([`compute_timeline`](crate::compute_timeline),
/// [`plan_gains`](crate::plan_gains), [`write_cue`](crate::write_cue),
/// [`parse_cue`](crate::parse_cue)); rendering never fails. Track indices are 0-based (track
/// `0` is the first track, `TRACK 01` in a CUE sheet).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum AlbumError {
    /// A general parameter was rejected (range, capacity, sample rate), as `lathe-core` says.
    Core(lathe_core::Error),
    /// A setting of one track was rejected (a range check of `lathe-core`).
    Track {
        /// The track (0-based).
        track: usize,
        /// What is wrong with it.
        error: lathe_core::Error,
    },
    /// The album has no tracks.
    NoTracks,
    /// More tracks than the format allows (Red Book: 99).
    TooManyTracks {
        /// Tracks given.
        tracks: usize,
        /// Largest number allowed.
        max: usize,
    },
    /// CD mode needs 44 100 Hz audio (Red Book, IEC 60908).
    CdSampleRate {
        /// The rejected sample rate in Hz.
        sample_rate: u32,
    },
    /// CD mode: the first track's pregap is neither 0 (left to the burning software) nor at
    /// least the 2 s the Red Book asks for.
    CdFirstPregap {
        /// The rejected pregap in seconds.
        seconds: f64,
    },
    /// A track is too short: empty after trimming, or (CD mode) shorter than 4 s from its
    /// INDEX 01 to the next track's INDEX 00.
    TrackTooShort {
        /// The track (0-based).
        track: usize,
        /// Its length in frames (samples per channel).
        frames: u64,
        /// The least allowed, in frames.
        min_frames: u64,
    },
    /// A fade in or fade out is longer than the (trimmed) track.
    FadeTooLong {
        /// The track (0-based).
        track: usize,
        /// The fade's length in frames.
        fade_frames: u64,
        /// The track's trimmed length in frames.
        track_frames: u64,
    },
    /// A crossfade from `track` into `track + 1` is longer than one of the two tracks.
    CrossfadeTooLong {
        /// The track the crossfade starts on (0-based).
        track: usize,
        /// The crossfade's length in frames.
        crossfade_frames: u64,
        /// The shorter of the two tracks' trimmed lengths, in frames.
        limit_frames: u64,
    },
    /// The last track asks for a crossfade, but there is no next track to fade into.
    CrossfadeOnLastTrack {
        /// The track (0-based).
        track: usize,
    },
    /// `track` crossfades into `track + 1`, which also asks for a gap before it: a join is
    /// either a gap or a crossfade, not both.
    GapAndCrossfade {
        /// The track the crossfade starts on (0-based).
        track: usize,
    },
    /// The crossfade into `track` and the crossfade out of it overlap (three tracks would
    /// sound at once).
    CrossfadesOverlap {
        /// The track in the middle (0-based).
        track: usize,
    },
    /// The album is longer than a `u64` frame count can hold.
    TooLong,
    /// An ISRC is not 12 characters `CCXXXYYNNNNN` (ISO 3901).
    InvalidIsrc {
        /// The track (0-based), or `usize::MAX` when not known.
        track: usize,
        /// Which rule is broken.
        reason: &'static str,
    },
    /// A CATALOG number is not a valid 13-digit UPC/EAN (GS1 check digit).
    InvalidCatalog {
        /// Which rule is broken.
        reason: &'static str,
    },
    /// A CUE text field (title, performer, file name) cannot be written.
    InvalidText {
        /// The field, e.g. `"TITLE"`.
        field: &'static str,
        /// Which rule is broken.
        reason: &'static str,
    },
    /// Track numbers must run 1 ..= 99 and go up by one.
    TrackNumber {
        /// The track (0-based position in the list).
        track: usize,
        /// The rejected number.
        number: u8,
    },
    /// INDEX positions are out of order: INDEX 00 after INDEX 01, or a track not after the
    /// previous one, or later than 99:59:74.
    IndexOrder {
        /// The track (0-based position in the list).
        track: usize,
    },
    /// A CUE sheet could not be parsed.
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The `core::fmt::Write` sink failed.
    Format,
}

impl fmt::Display for AlbumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AlbumError::Core(e) => e.fmt(f),
            AlbumError::Track { track, error } => write!(f, "track {}: {error}", track + 1),
            AlbumError::NoTracks => write!(f, "the album has no tracks"),
            AlbumError::TooManyTracks { tracks, max } => {
                write!(f, "{tracks} tracks, at most {max} are allowed")
            }
            AlbumError::CdSampleRate { sample_rate } => write!(
                f,
                "CD mode needs 44100 Hz audio (Red Book), got {sample_rate} Hz"
            ),
            AlbumError::CdFirstPregap { seconds } => write!(
                f,
                "CD mode: the first pregap must be 0 s (added by the burner) or at least 2 s \
                 (Red Book), got {seconds} s"
            ),
            AlbumError::TrackTooShort {
                track,
                frames,
                min_frames,
            } => write!(
                f,
                "track {} is {frames} frames long, at least {min_frames} are needed",
                track + 1
            ),
            AlbumError::FadeTooLong {
                track,
                fade_frames,
                track_frames,
            } => write!(
                f,
                "track {}: a fade of {fade_frames} frames is longer than the track \
                 ({track_frames} frames)",
                track + 1
            ),
            AlbumError::CrossfadeTooLong {
                track,
                crossfade_frames,
                limit_frames,
            } => write!(
                f,
                "the crossfade from track {} into track {} ({crossfade_frames} frames) is longer \
                 than the shorter track ({limit_frames} frames)",
                track + 1,
                track + 2
            ),
            AlbumError::CrossfadeOnLastTrack { track } => write!(
                f,
                "track {} is the last track: there is nothing to crossfade into",
                track + 1
            ),
            AlbumError::GapAndCrossfade { track } => write!(
                f,
                "track {} crossfades into track {}, which also has a gap before it",
                track + 1,
                track + 2
            ),
            AlbumError::CrossfadesOverlap { track } => write!(
                f,
                "track {}: the crossfades into and out of it overlap",
                track + 1
            ),
            AlbumError::TooLong => write!(f, "the album is too long to count in frames"),
            AlbumError::InvalidIsrc { track, reason } => {
                if track == usize::MAX {
                    write!(f, "invalid ISRC: {reason}")
                } else {
                    write!(f, "track {}: invalid ISRC: {reason}", track + 1)
                }
            }
            AlbumError::InvalidCatalog { reason } => write!(f, "invalid CATALOG: {reason}"),
            AlbumError::InvalidText { field, reason } => write!(f, "{field}: {reason}"),
            AlbumError::TrackNumber { track, number } => write!(
                f,
                "track {}: number {number} is not allowed (1 ..= 99, going up by one)",
                track + 1
            ),
            AlbumError::IndexOrder { track } => write!(
                f,
                "track {}: INDEX positions out of order or beyond 99:59:74",
                track + 1
            ),
            AlbumError::Parse { line, reason } => write!(f, "CUE line {line}: {reason}"),
            AlbumError::Format => write!(f, "the output sink failed"),
        }
    }
}

impl core::error::Error for AlbumError {}

impl From<lathe_core::Error> for AlbumError {
    fn from(e: lathe_core::Error) -> Self {
        AlbumError::Core(e)
    }
}

impl From<fmt::Error> for AlbumError {
    fn from(_: fmt::Error) -> Self {
        AlbumError::Format
    }
}
