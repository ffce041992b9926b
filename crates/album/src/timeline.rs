//! The album timeline: where every track, gap and crossfade lands, in exact integer frames.

use crate::curve::FadeCurve;
use crate::error::{AlbumError, Result};
use lathe_core::{db_to_gain, Error, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

/// Red Book (IEC 60908) sample rate, Hz.
pub const CD_SAMPLE_RATE: u32 = 44_100;
/// CD frames (sectors) per second: positions on a CD are counted in 1/75 s.
pub const CD_FRAMES_PER_SECOND: u32 = 75;
/// Audio frames (stereo samples) per CD frame at 44.1 kHz: 44 100 / 75 = 588 (2 352 bytes).
pub const CD_FRAME_SAMPLES: u64 = 588;
/// Red Book minimum track length: 4 s.
pub const CD_MIN_TRACK_S: f64 = 4.0;
/// Red Book minimum track length in audio frames at 44.1 kHz (4 s = 300 CD frames).
pub const CD_MIN_TRACK_FRAMES: u64 = 4 * CD_SAMPLE_RATE as u64;
/// Red Book pregap before track 1: 2 s (150 CD frames).
pub const CD_FIRST_PREGAP_S: f64 = 2.0;
/// Red Book maximum number of tracks.
pub const CD_MAX_TRACKS: usize = 99;
/// Longest gap, fade, crossfade, trim or pregap accepted, in seconds (24 hours).
pub const MAX_SECONDS: f64 = 86_400.0;
/// Longest source track accepted, in frames (2^48: years at any supported rate).
pub const MAX_TRACK_FRAMES: u64 = 1 << 48;
/// Lowest per-track gain, dB.
pub const MIN_GAIN_DB: f64 = -96.0;
/// Highest per-track gain, dB.
pub const MAX_GAIN_DB: f64 = 48.0;

/// One track of the album as the user sets it up.
///
/// Durations are in seconds and become whole frames by rounding to the nearest frame (ties
/// away from zero) at the timeline's sample rate; from then on everything is integer
/// arithmetic. Fades and crossfades happen inside the trimmed track: they shape its first and
/// last frames, they never add length.
///
/// Crossfade convention: `crossfade_s` on track `i` overlaps the last `crossfade_s` of track
/// `i` with the first `crossfade_s` of track `i + 1`, the outgoing side following the curve's
/// fade-out and the incoming side its fade-in. A join is either a gap or a crossfade: a
/// crossfade on track `i` together with a gap before track `i + 1` is an error, and so is a
/// crossfade on the last track. A fade and a crossfade on the same end of a track multiply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackSpec {
    /// Length of the source audio in frames (samples per channel), before trimming.
    pub frames: u64,
    /// Silence before this track, seconds. On the first track it adds to
    /// [`TimelineOptions::first_pregap_s`].
    pub gap_before_s: f64,
    /// Fade-in length at the start of the trimmed track, seconds.
    pub fade_in_s: f64,
    /// Shape of the fade-in.
    pub fade_in_curve: FadeCurve,
    /// Fade-out length at the end of the trimmed track, seconds.
    pub fade_out_s: f64,
    /// Shape of the fade-out.
    pub fade_out_curve: FadeCurve,
    /// Overlap of this track's end with the next track's start, seconds.
    pub crossfade_s: f64,
    /// Shape of the crossfade into the next track.
    pub crossfade_curve: FadeCurve,
    /// Source audio cut from the start, seconds.
    pub trim_start_s: f64,
    /// Source audio cut from the end, seconds.
    pub trim_end_s: f64,
    /// Gain applied to the whole track, dB (−96 ..= +48).
    pub gain_db: f64,
}

impl Default for TrackSpec {
    /// An empty track with no gap, fades, crossfade, trim or gain; S-curve fades and an
    /// equal-power crossfade curve.
    fn default() -> Self {
        Self {
            frames: 0,
            gap_before_s: 0.0,
            fade_in_s: 0.0,
            fade_in_curve: FadeCurve::SCurve,
            fade_out_s: 0.0,
            fade_out_curve: FadeCurve::SCurve,
            crossfade_s: 0.0,
            crossfade_curve: FadeCurve::EqualPower,
            trim_start_s: 0.0,
            trim_end_s: 0.0,
            gain_db: 0.0,
        }
    }
}

impl TrackSpec {
    /// A track of `frames` source frames with default settings.
    pub fn new(frames: u64) -> Self {
        Self {
            frames,
            ..Self::default()
        }
    }
}

/// How the timeline is laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineOptions {
    /// Sample rate in Hz (8 000 ..= 384 000; 44 100 in CD mode).
    pub sample_rate: u32,
    /// Apply the Red Book rules: 44.1 kHz, positions on CD frames (1/75 s), tracks of at least
    /// 4 s, at most 99 tracks, an album of whole CD frames. See [`compute_timeline`].
    pub cd: bool,
    /// Silence at the very start of the album, before track 1, seconds (part of the rendered
    /// album; track 1's INDEX 00 is at 0 and its INDEX 01 after it). The Red Book asks for 2 s;
    /// in CD mode it must be 0 (the burning software then adds the 2 s) or at least 2 s.
    pub first_pregap_s: f64,
}

impl TimelineOptions {
    /// Red Book CD defaults: 44 100 Hz, CD mode, a 2 s pregap before track 1.
    pub const fn cd() -> Self {
        Self {
            sample_rate: CD_SAMPLE_RATE,
            cd: true,
            first_pregap_s: CD_FIRST_PREGAP_S,
        }
    }

    /// Sample-exact layout at `sample_rate` Hz without CD rules and without a first pregap.
    pub const fn new(sample_rate: u32) -> Self {
        Self {
            sample_rate,
            cd: false,
            first_pregap_s: 0.0,
        }
    }
}

impl Default for TimelineOptions {
    /// [`TimelineOptions::cd`].
    fn default() -> Self {
        Self::cd()
    }
}

/// Where one track sits on the album, in album frames (0 = the first frame of the album),
/// and everything the renderer needs to play it. Written by [`compute_timeline`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPlacement {
    /// INDEX 00: start of the track's pregap (the gap before it). Equal to `start` when the
    /// track has no pregap (gapless joins, crossfades); 0 for the first track.
    pub pregap_start: u64,
    /// INDEX 01: where the track starts for a player. Equal to `audio_start` except in CD mode
    /// at a gapless join or crossfade, where it is `audio_start` rounded down to a CD frame.
    pub start: u64,
    /// Album frame of the track's first (trimmed) source frame.
    pub audio_start: u64,
    /// Album frame one past the track's last frame: `audio_start + frames`.
    pub end: u64,
    /// Trimmed length in frames.
    pub frames: u64,
    /// Source frame played at `audio_start` (the start trim in frames).
    pub source_start: u64,
    /// Silence before the track in frames, after CD rounding. For the first track this is
    /// everything before it (first pregap plus its own gap).
    pub gap_frames: u64,
    /// Fade-in length in frames.
    pub fade_in_frames: u64,
    /// Fade-out length in frames.
    pub fade_out_frames: u64,
    /// Crossfade from the previous track into this one, frames (the previous track's
    /// `crossfade_out_frames`).
    pub crossfade_in_frames: u64,
    /// Crossfade from this track into the next one, frames.
    pub crossfade_out_frames: u64,
    /// Shape of the fade-in.
    pub fade_in_curve: FadeCurve,
    /// Shape of the fade-out.
    pub fade_out_curve: FadeCurve,
    /// Shape of the crossfade into this track (the previous track's crossfade curve).
    pub crossfade_in_curve: FadeCurve,
    /// Shape of the crossfade out of this track.
    pub crossfade_out_curve: FadeCurve,
    /// Track gain as a linear amplitude factor (from [`TrackSpec::gain_db`]).
    pub gain: f64,
}

impl Default for TrackPlacement {
    /// A placeholder to be filled by [`compute_timeline`]: everything at 0, gain 1.
    fn default() -> Self {
        Self {
            pregap_start: 0,
            start: 0,
            audio_start: 0,
            end: 0,
            frames: 0,
            source_start: 0,
            gap_frames: 0,
            fade_in_frames: 0,
            fade_out_frames: 0,
            crossfade_in_frames: 0,
            crossfade_out_frames: 0,
            fade_in_curve: FadeCurve::SCurve,
            fade_out_curve: FadeCurve::SCurve,
            crossfade_in_curve: FadeCurve::EqualPower,
            crossfade_out_curve: FadeCurve::EqualPower,
            gain: 1.0,
        }
    }
}

impl TrackPlacement {
    /// Gain envelope of the track (linear amplitude) at frame `k` of the trimmed track: track
    /// gain × fade-in × crossfade-in × fade-out × crossfade-out, in that order, in `f64`.
    /// 0 outside the track.
    pub fn envelope(&self, k: u64) -> f64 {
        let len = self.frames;
        if k >= len {
            return 0.0;
        }
        let mut g = self.gain;
        if k < self.fade_in_frames {
            g *= self.fade_in_curve.fade_in_at(k, self.fade_in_frames);
        }
        if k < self.crossfade_in_frames {
            g *= self
                .crossfade_in_curve
                .fade_in_at(k, self.crossfade_in_frames);
        }
        let fade_out_start = len - self.fade_out_frames.min(len);
        if k >= fade_out_start {
            g *= self
                .fade_out_curve
                .fade_out_at(k - fade_out_start, self.fade_out_frames);
        }
        let crossfade_out_start = len - self.crossfade_out_frames.min(len);
        if k >= crossfade_out_start {
            g *= self
                .crossfade_out_curve
                .fade_out_at(k - crossfade_out_start, self.crossfade_out_frames);
        }
        g
    }

    /// Writes [`envelope`](Self::envelope)`(k0 + j)` into `out[j]` for every `j`,
    /// bit-identically, a fade at a time (the renderer's per-block form).
    pub fn envelope_into(&self, k0: u64, out: &mut [f64]) {
        let len = self.frames;
        let n = out.len() as u64;
        out.fill(self.gain);
        // Multiplies the part of `out` inside the fade region `from .. from + fade_len`.
        let mut apply = |from: u64, fade_len: u64, curve: FadeCurve, rising: bool| {
            let lo = k0.max(from);
            let hi = k0.saturating_add(n).min(from + fade_len).min(len);
            if lo < hi {
                let part = &mut out[(lo - k0) as usize..(hi - k0) as usize];
                curve.mul_fade(rising, lo - from, fade_len, part);
            }
        };
        // Same order as `envelope`: fade-in, crossfade-in, fade-out, crossfade-out.
        apply(0, self.fade_in_frames, self.fade_in_curve, true);
        apply(0, self.crossfade_in_frames, self.crossfade_in_curve, true);
        let fo = self.fade_out_frames.min(len);
        apply(len - fo, fo, self.fade_out_curve, false);
        let xo = self.crossfade_out_frames.min(len);
        apply(len - xo, xo, self.crossfade_out_curve, false);
        if k0.saturating_add(n) > len {
            let from = len.saturating_sub(k0) as usize;
            out[from..].fill(0.0);
        }
    }

    /// Frames at the start of the track whose envelope is not constant (fade-in, crossfade-in).
    pub fn head_frames(&self) -> u64 {
        self.fade_in_frames
            .max(self.crossfade_in_frames)
            .min(self.frames)
    }

    /// Frames at the end of the track whose envelope is not constant (fade-out, crossfade-out).
    pub fn tail_frames(&self) -> u64 {
        self.fade_out_frames
            .max(self.crossfade_out_frames)
            .min(self.frames)
    }
}

/// The whole album: its length and the sums it is made of. Written by [`compute_timeline`].
///
/// The sum rule holds exactly:
/// `total_frames = track_frames + gap_frames + tail_frames − crossfade_frames`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeline {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Whether the Red Book rules were applied.
    pub cd: bool,
    /// Number of tracks.
    pub tracks: usize,
    /// Length of the album in frames.
    pub total_frames: u64,
    /// Sum of the trimmed track lengths, frames.
    pub track_frames: u64,
    /// Sum of all silences before tracks (first pregap included), after CD rounding, frames.
    pub gap_frames: u64,
    /// Sum of all crossfade overlaps, frames.
    pub crossfade_frames: u64,
    /// Silence after the last track (CD mode: padding to a whole CD frame, < 588), frames.
    pub tail_frames: u64,
}

impl Timeline {
    /// Length of the album in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.total_frames as f64 / f64::from(self.sample_rate)
        }
    }
}

/// Converts seconds to whole frames: nearest frame, ties away from zero.
fn seconds_to_frames(seconds: f64, sample_rate: u32) -> u64 {
    let n = libm::round(seconds * f64::from(sample_rate));
    if n.is_finite() && n > 0.0 {
        n as u64
    } else {
        0
    }
}

/// Rounds `frame` up to the next CD frame boundary (a multiple of 588).
fn ceil_cd(frame: u64) -> Result<u64> {
    frame
        .checked_next_multiple_of(CD_FRAME_SAMPLES)
        .ok_or(AlbumError::TooLong)
}

/// Rounds `frame` down to a CD frame boundary (a multiple of 588).
fn floor_cd(frame: u64) -> u64 {
    frame - frame % CD_FRAME_SAMPLES
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or(AlbumError::TooLong)
}

fn track_range(track: usize, param: &'static str, value: f64, min: f64, max: f64) -> Result<()> {
    Error::check_range(param, value, min, max)
        .map(|_| ())
        .map_err(|error| AlbumError::Track { track, error })
}

/// Lays out the album: fills `placements[..specs.len()]` with each track's position and returns
/// the album's length and sums.
///
/// All positions are integers computed from whole-frame durations, so the sum rule
/// `total = Σ trimmed lengths + Σ gaps (first pregap included) + tail − Σ crossfades` holds
/// exactly, and each track starts at `end of the previous track + gap − crossfade`.
///
/// Without CD mode the layout is sample-exact: INDEX 01 is the track's first frame, INDEX 00
/// the start of the gap before it (the previous track's end), and there is no tail.
///
/// CD mode (Red Book, IEC 60908) rounds to CD frames of 1/75 s = 588 frames at 44.1 kHz, in
/// directions chosen so that no audio is cut and no silence is inserted into a continuous join:
/// - **Gaps round up.** Before the first track and after any gap, the silence is lengthened by
///   less than one CD frame (< 13.3 ms) so the track's first frame falls exactly on a CD frame;
///   INDEX 01 is that frame. INDEX 00 is the previous track's end rounded **up** (the pregap
///   never takes the previous track's last frames).
/// - **Gapless joins and crossfades do not move audio.** INDEX 01 (= INDEX 00) is the track's
///   first frame rounded **down** to a CD frame, so a player jumping to the track starts at
///   most 587 frames early and never misses its attack.
/// - **The album ends on a CD frame**: silence pads the end up to the next one
///   ([`Timeline::tail_frames`]).
/// - Every track lasts at least 4 s from its INDEX 01 to the next INDEX 00 (or the album end);
///   at most 99 tracks; the sample rate must be 44 100 Hz; the first pregap is 0 or ≥ 2 s.
///
/// # Errors
/// - [`AlbumError::NoTracks`]; `Core(CapacityExceeded)` when `placements` is shorter than
///   `specs`; `Core(UnsupportedSampleRate)`, [`AlbumError::CdSampleRate`],
///   [`AlbumError::CdFirstPregap`], [`AlbumError::TooManyTracks`] (CD);
///   `Core(OutOfRange)` for a bad `first_pregap_s`;
/// - [`AlbumError::Track`] for a per-track setting out of range (negative or non-finite
///   durations, durations over [`MAX_SECONDS`], `gain_db` outside −96 ..= 48, `frames` over
///   [`MAX_TRACK_FRAMES`]);
/// - [`AlbumError::TrackTooShort`] (empty after trimming, or under 4 s in CD mode),
///   [`AlbumError::FadeTooLong`], [`AlbumError::CrossfadeTooLong`] (longer than either
///   track), [`AlbumError::CrossfadeOnLastTrack`], [`AlbumError::GapAndCrossfade`],
///   [`AlbumError::CrossfadesOverlap`], [`AlbumError::TooLong`].
///
/// On error the contents of `placements` are unspecified.
pub fn compute_timeline(
    specs: &[TrackSpec],
    opts: &TimelineOptions,
    placements: &mut [TrackPlacement],
) -> Result<Timeline> {
    let fs = opts.sample_rate;
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&f64::from(fs)) {
        return Err(Error::UnsupportedSampleRate {
            sample_rate: f64::from(fs),
        }
        .into());
    }
    if opts.cd && fs != CD_SAMPLE_RATE {
        return Err(AlbumError::CdSampleRate { sample_rate: fs });
    }
    Error::check_range("first_pregap_s", opts.first_pregap_s, 0.0, MAX_SECONDS)?;
    if opts.cd && opts.first_pregap_s > 0.0 && opts.first_pregap_s < CD_FIRST_PREGAP_S {
        return Err(AlbumError::CdFirstPregap {
            seconds: opts.first_pregap_s,
        });
    }
    let n = specs.len();
    if n == 0 {
        return Err(AlbumError::NoTracks);
    }
    if placements.len() < n {
        return Err(Error::CapacityExceeded {
            needed: n,
            capacity: placements.len(),
        }
        .into());
    }
    if opts.cd && n > CD_MAX_TRACKS {
        return Err(AlbumError::TooManyTracks {
            tracks: n,
            max: CD_MAX_TRACKS,
        });
    }
    let placements = &mut placements[..n];

    // Pass 1: every track on its own, durations to whole frames.
    let mut gaps_nominal_first = 0u64;
    for (i, (s, p)) in specs.iter().zip(placements.iter_mut()).enumerate() {
        for (param, value) in [
            ("gap_before_s", s.gap_before_s),
            ("fade_in_s", s.fade_in_s),
            ("fade_out_s", s.fade_out_s),
            ("crossfade_s", s.crossfade_s),
            ("trim_start_s", s.trim_start_s),
            ("trim_end_s", s.trim_end_s),
        ] {
            track_range(i, param, value, 0.0, MAX_SECONDS)?;
        }
        track_range(i, "gain_db", s.gain_db, MIN_GAIN_DB, MAX_GAIN_DB)?;
        if s.frames > MAX_TRACK_FRAMES {
            return Err(AlbumError::Track {
                track: i,
                error: Error::OutOfRange {
                    param: "frames",
                    value: s.frames as f64,
                    min: 1.0,
                    max: MAX_TRACK_FRAMES as f64,
                },
            });
        }
        let trim_start = seconds_to_frames(s.trim_start_s, fs);
        let trim_end = seconds_to_frames(s.trim_end_s, fs);
        let trims = trim_start.saturating_add(trim_end);
        if trims >= s.frames {
            return Err(AlbumError::TrackTooShort {
                track: i,
                frames: s.frames.saturating_sub(trims),
                min_frames: 1,
            });
        }
        let len = s.frames - trims;
        let fade_in = seconds_to_frames(s.fade_in_s, fs);
        let fade_out = seconds_to_frames(s.fade_out_s, fs);
        for fade in [fade_in, fade_out] {
            if fade > len {
                return Err(AlbumError::FadeTooLong {
                    track: i,
                    fade_frames: fade,
                    track_frames: len,
                });
            }
        }
        let crossfade = seconds_to_frames(s.crossfade_s, fs);
        if i + 1 == n && crossfade > 0 {
            return Err(AlbumError::CrossfadeOnLastTrack { track: i });
        }
        let gap = seconds_to_frames(s.gap_before_s, fs);
        if i == 0 {
            gaps_nominal_first = gap;
        }
        *p = TrackPlacement {
            frames: len,
            source_start: trim_start,
            gap_frames: gap,
            fade_in_frames: fade_in,
            fade_out_frames: fade_out,
            crossfade_out_frames: crossfade,
            fade_in_curve: s.fade_in_curve,
            fade_out_curve: s.fade_out_curve,
            crossfade_out_curve: s.crossfade_curve,
            gain: db_to_gain(s.gain_db),
            ..TrackPlacement::default()
        };
    }

    // Pass 2: the joins.
    for i in 0..n - 1 {
        let (a, b) = (placements[i], placements[i + 1]);
        let x = a.crossfade_out_frames;
        if x == 0 {
            continue;
        }
        if b.gap_frames > 0 {
            return Err(AlbumError::GapAndCrossfade { track: i });
        }
        let limit = a.frames.min(b.frames);
        if x > limit {
            return Err(AlbumError::CrossfadeTooLong {
                track: i,
                crossfade_frames: x,
                limit_frames: limit,
            });
        }
        placements[i + 1].crossfade_in_frames = x;
        placements[i + 1].crossfade_in_curve = a.crossfade_out_curve;
    }
    for (i, p) in placements.iter().enumerate() {
        if p.crossfade_in_frames + p.crossfade_out_frames > p.frames {
            return Err(AlbumError::CrossfadesOverlap { track: i });
        }
    }

    // Pass 3: positions.
    let lead = add(
        seconds_to_frames(opts.first_pregap_s, fs),
        gaps_nominal_first,
    )?;
    let mut prev_end = 0u64;
    let mut prev_crossfade = 0u64;
    let mut sums = Timeline {
        sample_rate: fs,
        cd: opts.cd,
        tracks: n,
        ..Timeline::default()
    };
    for (i, p) in placements.iter_mut().enumerate() {
        let gap = if i == 0 { lead } else { p.gap_frames };
        // Exact: prev_crossfade <= previous length, so this never goes below its start.
        let nominal = add(prev_end, gap)? - prev_crossfade;
        let (audio_start, start, pregap_start) = if opts.cd {
            if i == 0 || gap > 0 {
                let s = ceil_cd(nominal)?;
                let pregap = if i == 0 { 0 } else { ceil_cd(prev_end)? };
                (s, s, pregap)
            } else {
                let s = floor_cd(nominal);
                (nominal, s, s)
            }
        } else if i == 0 {
            (nominal, nominal, 0)
        } else if gap > 0 {
            (nominal, nominal, prev_end)
        } else {
            (nominal, nominal, nominal)
        };
        let gap_effective = if i == 0 || gap > 0 {
            audio_start - prev_end
        } else {
            0
        };
        p.audio_start = audio_start;
        p.start = start;
        p.pregap_start = pregap_start;
        p.gap_frames = gap_effective;
        p.end = add(audio_start, p.frames)?;
        sums.track_frames = add(sums.track_frames, p.frames)?;
        sums.gap_frames = add(sums.gap_frames, gap_effective)?;
        sums.crossfade_frames = add(sums.crossfade_frames, p.crossfade_out_frames)?;
        prev_end = p.end;
        prev_crossfade = p.crossfade_out_frames;
    }
    let total = if opts.cd {
        ceil_cd(prev_end)?
    } else {
        prev_end
    };
    sums.tail_frames = total - prev_end;
    sums.total_frames = total;

    if opts.cd {
        for i in 0..n {
            let body_end = if i + 1 < n {
                placements[i + 1].pregap_start
            } else {
                total
            };
            let body = body_end.saturating_sub(placements[i].start);
            if body < CD_MIN_TRACK_FRAMES {
                return Err(AlbumError::TrackTooShort {
                    track: i,
                    frames: body,
                    min_frames: CD_MIN_TRACK_FRAMES,
                });
            }
        }
    }
    Ok(sums)
}
