//! CUE sheets (the CDRWIN format, as read by cdrdao and most burning software), ISRC and
//! UPC/EAN validation.

use crate::error::{AlbumError, Result};
use core::fmt::{self, Write};
use lathe_core::Error;

/// Longest TITLE / PERFORMER the CDRWIN format allows, in characters.
pub const CUE_TEXT_MAX_CHARS: usize = 80;
/// Latest position a CUE sheet can express: 99:59:74, in CD frames.
pub const CUE_MAX_CD_FRAMES: u64 = (99 * 60 + 59) * 75 + 74;

/// One track of a CUE sheet. Positions are album frames at [`CueSheet::sample_rate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CueTrack<'a> {
    /// Track number, 1 ..= 99, going up by one from track to track.
    pub number: u8,
    /// Track title (CD-Text), at most 80 characters, no `"`.
    pub title: Option<&'a str>,
    /// Track performer (CD-Text), at most 80 characters, no `"`.
    pub performer: Option<&'a str>,
    /// International Standard Recording Code (ISO 3901): 12 characters, no dashes.
    pub isrc: Option<&'a str>,
    /// INDEX 00 (start of the pregap), album frames; equal to `start` for no pregap.
    pub pregap_start: u64,
    /// INDEX 01 (start of the track), album frames.
    pub start: u64,
}

/// A parsed track: the same fields as written, borrowing its text from the parsed sheet.
pub type ParsedTrack<'a> = CueTrack<'a>;

/// A CUE sheet for one audio file holding the whole album.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CueSheet<'a> {
    /// The audio file (written as `FILE "name" WAVE`).
    pub file: &'a str,
    /// Album title (CD-Text).
    pub title: Option<&'a str>,
    /// Album performer (CD-Text).
    pub performer: Option<&'a str>,
    /// Media catalog number: 13-digit UPC/EAN with a valid check digit.
    pub catalog: Option<&'a str>,
    /// Sample rate of the positions in [`CueTrack`], Hz.
    pub sample_rate: u32,
    /// The tracks in order.
    pub tracks: &'a [CueTrack<'a>],
}

/// Checks an ISRC (ISO 3901): 12 characters `CCXXXYYNNNNN` written without dashes —
/// `CC` two upper-case letters (country), `XXX` three upper-case letters or digits
/// (registrant), `YY` two digits (year of reference), `NNNNN` five digits (designation).
///
/// The country code is checked for shape only (agencies also issue codes such as `QM`, `QZ`,
/// `ZZ` that are not ISO 3166 countries).
///
/// # Errors
/// [`AlbumError::InvalidIsrc`] (with `track: usize::MAX`) naming the broken rule.
pub fn validate_isrc(isrc: &str) -> Result<()> {
    let err = |reason| {
        Err(AlbumError::InvalidIsrc {
            track: usize::MAX,
            reason,
        })
    };
    let b = isrc.as_bytes();
    if b.len() != 12 {
        return err("must be 12 characters CCXXXYYNNNNN, without dashes");
    }
    if !b[..2].iter().all(u8::is_ascii_uppercase) {
        return err("the country code (characters 1-2) must be two upper-case letters");
    }
    if !b[2..5]
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return err("the registrant code (characters 3-5) must be upper-case letters or digits");
    }
    if !b[5..7].iter().all(u8::is_ascii_digit) {
        return err("the year (characters 6-7) must be two digits");
    }
    if !b[7..].iter().all(u8::is_ascii_digit) {
        return err("the designation code (characters 8-12) must be five digits");
    }
    Ok(())
}

/// The GS1 check digit of the first 12 digits of an EAN-13: weights 1, 3, 1, 3, … from the
/// left, check = (10 − sum mod 10) mod 10. `digits` are values 0 ..= 9.
pub fn ean13_check_digit(digits: &[u8; 12]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Checks a media catalog number: 13 digits (UPC/EAN, GS1 General Specifications §7.9) whose
/// last digit is the [`ean13_check_digit`] of the first 12. A 12-digit UPC-A is written as an
/// EAN-13 with a leading 0.
///
/// # Errors
/// [`AlbumError::InvalidCatalog`] naming the broken rule.
pub fn validate_catalog(catalog: &str) -> Result<()> {
    let b = catalog.as_bytes();
    if b.len() != 13 || !b.iter().all(u8::is_ascii_digit) {
        return Err(AlbumError::InvalidCatalog {
            reason: "must be 13 digits (UPC/EAN-13)",
        });
    }
    let mut digits = [0u8; 12];
    for (d, c) in digits.iter_mut().zip(b) {
        *d = c - b'0';
    }
    if ean13_check_digit(&digits) != b[12] - b'0' {
        return Err(AlbumError::InvalidCatalog {
            reason: "the check digit (13th digit) does not match",
        });
    }
    Ok(())
}

fn validate_text(field: &'static str, text: &str, max_chars: usize) -> Result<()> {
    let err = |reason| Err(AlbumError::InvalidText { field, reason });
    if text.is_empty() {
        return err("must not be empty");
    }
    if text.chars().any(|c| c == '"' || c.is_control()) {
        return err("must not contain quotes or control characters");
    }
    if text.chars().count() > max_chars {
        return err("longer than 80 characters (CDRWIN limit)");
    }
    Ok(())
}

/// Converts album frames at `sample_rate` to CD frames (1/75 s), rounding down.
pub fn frames_to_cd_frames(frames: u64, sample_rate: u32) -> u64 {
    if sample_rate == 0 {
        return 0;
    }
    let cd = u128::from(frames) * 75 / u128::from(sample_rate);
    u64::try_from(cd).unwrap_or(u64::MAX)
}

/// Converts CD frames (1/75 s) to album frames at `sample_rate`, rounding down (exact for
/// rates that are multiples of 75, such as 44 100, 48 000 and 96 000 Hz).
pub fn cd_frames_to_frames(cd_frames: u64, sample_rate: u32) -> u64 {
    let f = u128::from(cd_frames) * u128::from(sample_rate) / 75;
    u64::try_from(f).unwrap_or(u64::MAX)
}

/// A position in minutes, seconds and CD frames (`MM:SS:FF`, 75 frames per second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msf(pub u64);

impl fmt::Display for Msf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, s, fr) = (self.0 / 4500, self.0 / 75 % 60, self.0 % 75);
        write!(f, "{m:02}:{s:02}:{fr:02}")
    }
}

fn validate_sheet(sheet: &CueSheet<'_>) -> Result<()> {
    validate_text("FILE", sheet.file, usize::MAX)?;
    if let Some(t) = sheet.title {
        validate_text("TITLE", t, CUE_TEXT_MAX_CHARS)?;
    }
    if let Some(p) = sheet.performer {
        validate_text("PERFORMER", p, CUE_TEXT_MAX_CHARS)?;
    }
    if let Some(c) = sheet.catalog {
        validate_catalog(c)?;
    }
    if sheet.sample_rate == 0 {
        return Err(Error::OutOfRange {
            param: "sample_rate",
            value: 0.0,
            min: 1.0,
            max: f64::from(u32::MAX),
        }
        .into());
    }
    validate_tracks(sheet.tracks, Some(sheet.sample_rate), |track, e| match e {
        AlbumError::InvalidIsrc { reason, .. } => AlbumError::InvalidIsrc { track, reason },
        e => e,
    })
}

/// Checks numbers, texts, ISRCs and (with a sample rate) the order of the positions.
fn validate_tracks(
    tracks: &[CueTrack<'_>],
    sample_rate: Option<u32>,
    tag: impl Fn(usize, AlbumError) -> AlbumError,
) -> Result<()> {
    if tracks.is_empty() {
        return Err(AlbumError::NoTracks);
    }
    if tracks.len() > 99 {
        return Err(AlbumError::TooManyTracks {
            tracks: tracks.len(),
            max: 99,
        });
    }
    let mut prev: Option<(u8, u64)> = None;
    for (i, t) in tracks.iter().enumerate() {
        let number_ok = (1..=99).contains(&t.number) && prev.is_none_or(|(n, _)| t.number == n + 1);
        if !number_ok {
            return Err(AlbumError::TrackNumber {
                track: i,
                number: t.number,
            });
        }
        if let Some(x) = t.title {
            validate_text("TITLE", x, CUE_TEXT_MAX_CHARS)?;
        }
        if let Some(x) = t.performer {
            validate_text("PERFORMER", x, CUE_TEXT_MAX_CHARS)?;
        }
        if let Some(x) = t.isrc {
            validate_isrc(x).map_err(|e| tag(i, e))?;
        }
        let mut start = 0;
        if let Some(sr) = sample_rate {
            let pregap = frames_to_cd_frames(t.pregap_start, sr);
            start = frames_to_cd_frames(t.start, sr);
            let after_prev = prev.is_none_or(|(_, s)| pregap > s);
            if t.pregap_start > t.start || !after_prev || start > CUE_MAX_CD_FRAMES {
                return Err(AlbumError::IndexOrder { track: i });
            }
        }
        prev = Some((t.number, start));
    }
    Ok(())
}

/// Writes `sheet` as a CUE sheet (CDRWIN format, the subset cdrdao and most burners read):
///
/// ```text
/// CATALOG 4006381333931
/// PERFORMER "Artist"
/// TITLE "Album"
/// FILE "album.wav" WAVE
///   TRACK 01 AUDIO
///     TITLE "First"
///     PERFORMER "Artist"
///     ISRC USRC17607839
///     INDEX 01 00:02:00
/// ```
///
/// Lines end in `\n`. Positions are written as `MM:SS:FF` (CD frames of 1/75 s), converted from
/// album frames by rounding **down** (exact for a CD-mode timeline, whose positions all sit on
/// CD frames). `INDEX 00` is written only when the pregap is at least one CD frame long.
/// Everything is validated before the first character is written.
///
/// # Errors
/// [`AlbumError::InvalidText`] (empty, quotes, control characters, over 80 characters),
/// [`AlbumError::InvalidCatalog`], [`AlbumError::InvalidIsrc`], [`AlbumError::NoTracks`],
/// [`AlbumError::TooManyTracks`], [`AlbumError::TrackNumber`] (not 1 ..= 99 going up by one),
/// [`AlbumError::IndexOrder`] (INDEX 00 after INDEX 01, a track not after the previous one,
/// past 99:59:74), `Core(OutOfRange)` for a zero sample rate, [`AlbumError::Format`] when the
/// sink fails.
pub fn write_cue<W: Write + ?Sized>(sheet: &CueSheet<'_>, out: &mut W) -> Result<()> {
    validate_sheet(sheet)?;
    if let Some(c) = sheet.catalog {
        writeln!(out, "CATALOG {c}")?;
    }
    if let Some(p) = sheet.performer {
        writeln!(out, "PERFORMER \"{p}\"")?;
    }
    if let Some(t) = sheet.title {
        writeln!(out, "TITLE \"{t}\"")?;
    }
    writeln!(out, "FILE \"{}\" WAVE", sheet.file)?;
    for t in sheet.tracks {
        writeln!(out, "  TRACK {:02} AUDIO", t.number)?;
        if let Some(x) = t.title {
            writeln!(out, "    TITLE \"{x}\"")?;
        }
        if let Some(x) = t.performer {
            writeln!(out, "    PERFORMER \"{x}\"")?;
        }
        if let Some(x) = t.isrc {
            writeln!(out, "    ISRC {x}")?;
        }
        let pregap = frames_to_cd_frames(t.pregap_start, sheet.sample_rate);
        let start = frames_to_cd_frames(t.start, sheet.sample_rate);
        if pregap < start {
            writeln!(out, "    INDEX 00 {}", Msf(pregap))?;
        }
        writeln!(out, "    INDEX 01 {}", Msf(start))?;
    }
    Ok(())
}

/// The album-level fields of a parsed CUE sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParsedCue<'a> {
    /// The audio file named by `FILE`.
    pub file: &'a str,
    /// The file type named by `FILE` (e.g. `WAVE`).
    pub file_type: &'a str,
    /// Album title.
    pub title: Option<&'a str>,
    /// Album performer.
    pub performer: Option<&'a str>,
    /// Media catalog number.
    pub catalog: Option<&'a str>,
    /// Sample rate the positions were converted to, Hz.
    pub sample_rate: u32,
    /// Number of tracks written to the caller's slice.
    pub tracks: usize,
}

impl<'a> ParsedCue<'a> {
    /// The sheet again, with `tracks` (the caller's slice, cut to [`ParsedCue::tracks`]).
    pub fn sheet(&self, tracks: &'a [CueTrack<'a>]) -> CueSheet<'a> {
        CueSheet {
            file: self.file,
            title: self.title,
            performer: self.performer,
            catalog: self.catalog,
            sample_rate: self.sample_rate,
            tracks: &tracks[..self.tracks.min(tracks.len())],
        }
    }
}

/// Splits the first word off `s` (after leading whitespace).
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// A possibly quoted string at the start of `s`; unquoted, it is the next word.
fn string_arg(s: &str, line: usize) -> Result<(&str, &str)> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('"') {
        match rest.find('"') {
            Some(i) => Ok((&rest[..i], &rest[i + 1..])),
            None => Err(AlbumError::Parse {
                line,
                reason: "missing closing quote",
            }),
        }
    } else if s.is_empty() {
        Err(AlbumError::Parse {
            line,
            reason: "missing argument",
        })
    } else {
        Ok(word(s))
    }
}

fn expect_end(rest: &str, line: usize) -> Result<()> {
    if rest.trim().is_empty() {
        Ok(())
    } else {
        Err(AlbumError::Parse {
            line,
            reason: "unexpected text at the end of the line",
        })
    }
}

/// Parses `MM:SS:FF` into CD frames.
fn parse_msf(s: &str, line: usize) -> Result<u64> {
    let err = AlbumError::Parse {
        line,
        reason: "position must be MM:SS:FF (seconds < 60, frames < 75)",
    };
    let mut parts = s.split(':');
    let mut field = || -> Result<u64> {
        let p = parts.next().ok_or(err)?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return Err(err);
        }
        p.parse::<u64>().map_err(|_| err)
    };
    let (m, sec, fr) = (field()?, field()?, field()?);
    if parts.next().is_some() || sec >= 60 || fr >= 75 {
        return Err(err);
    }
    Ok((m * 60 + sec) * 75 + fr)
}

/// Parses the subset of the CUE format that [`write_cue`] writes, into the caller's `tracks`
/// slice, without allocating: strings borrow from `text`, positions are converted from
/// `MM:SS:FF` to album frames at `sample_rate`. Returns the album fields and the track count.
///
/// Understood: `CATALOG`, `TITLE`, `PERFORMER`, one `FILE "name" TYPE`, `TRACK nn AUDIO`,
/// `ISRC`, `INDEX 00`, `INDEX 01`. Ignored: `REM`, `FLAGS`, `SONGWRITER`, `CDTEXTFILE` and
/// `INDEX 02` ..= `99`. Commands are case-insensitive; `\n` and `\r\n` line ends and a leading
/// byte-order mark are accepted. A track without `INDEX 00` has `pregap_start == start`.
///
/// # Errors
/// [`AlbumError::Parse`] with the line number for anything else (unknown commands, `PREGAP` /
/// `POSTGAP` — silence that is not in the file —, a second `FILE`, non-`AUDIO` tracks, bad
/// positions, a track without `INDEX 01`, no `FILE`); [`AlbumError::InvalidIsrc`],
/// [`AlbumError::InvalidCatalog`], [`AlbumError::TrackNumber`], [`AlbumError::IndexOrder`],
/// [`AlbumError::NoTracks`] as for [`write_cue`]; `Core(CapacityExceeded { needed, capacity })`
/// when `tracks` is too small (`needed` counts every track of the sheet).
pub fn parse_cue<'a>(
    text: &'a str,
    sample_rate: u32,
    tracks: &mut [CueTrack<'a>],
) -> Result<ParsedCue<'a>> {
    if sample_rate == 0 {
        return Err(Error::OutOfRange {
            param: "sample_rate",
            value: 0.0,
            min: 1.0,
            max: f64::from(u32::MAX),
        }
        .into());
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sheet = ParsedCue {
        sample_rate,
        ..ParsedCue::default()
    };
    let mut have_file = false;
    let mut count = 0usize; // tracks seen
                            // INDEX 00 / INDEX 01 of the current track, in CD frames, and its line.
    let mut index: (Option<u64>, Option<u64>) = (None, None);
    let mut track_line = 0usize;
    let capacity = tracks.len();

    // Closes the current track: checks and stores its indices.
    let mut prev_start: Option<u64> = None;
    let finish = |count: usize,
                  index: (Option<u64>, Option<u64>),
                  track_line: usize,
                  prev_start: &mut Option<u64>,
                  tracks: &mut [CueTrack<'a>]|
     -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        let Some(start) = index.1 else {
            return Err(AlbumError::Parse {
                line: track_line,
                reason: "track without INDEX 01",
            });
        };
        let pregap = index.0.unwrap_or(start);
        let after_prev = prev_start.is_none_or(|s| pregap > s);
        if pregap > start || !after_prev || start > CUE_MAX_CD_FRAMES {
            return Err(AlbumError::IndexOrder { track: count - 1 });
        }
        *prev_start = Some(start);
        if let Some(t) = tracks.get_mut(count - 1) {
            t.pregap_start = cd_frames_to_frames(pregap, sample_rate);
            t.start = cd_frames_to_frames(start, sample_rate);
        }
        Ok(())
    };

    for (line_index, raw) in text.lines().enumerate() {
        let line = line_index + 1;
        let (cmd, rest) = word(raw);
        if cmd.is_empty() {
            continue;
        }
        let is = |name: &str| cmd.eq_ignore_ascii_case(name);
        let perr = |reason| AlbumError::Parse { line, reason };
        let in_track = count > 0;
        if is("REM") || is("FLAGS") || is("SONGWRITER") || is("CDTEXTFILE") {
            continue;
        } else if is("CATALOG") {
            if in_track {
                return Err(perr("CATALOG must come before the first TRACK"));
            }
            let (c, rest) = word(rest);
            expect_end(rest, line)?;
            validate_catalog(c)?;
            sheet.catalog = Some(c);
        } else if is("TITLE") || is("PERFORMER") {
            let arg = raw.trim_start()[cmd.len()..].trim();
            let value = match arg.strip_prefix('"') {
                Some(inner) => match inner.find('"') {
                    Some(i) if i + 1 == inner.len() => &inner[..i],
                    Some(_) => return Err(perr("unexpected text after the closing quote")),
                    None => return Err(perr("missing closing quote")),
                },
                // Unquoted text: the whole rest of the line.
                None => arg,
            };
            if value.is_empty() {
                return Err(perr("missing argument"));
            }
            let slot = if in_track {
                match tracks.get_mut(count - 1) {
                    Some(t) if is("TITLE") => Some(&mut t.title),
                    Some(t) => Some(&mut t.performer),
                    None => None,
                }
            } else if is("TITLE") {
                Some(&mut sheet.title)
            } else {
                Some(&mut sheet.performer)
            };
            if let Some(slot) = slot {
                *slot = Some(value);
            }
        } else if is("FILE") {
            if have_file {
                return Err(perr("more than one FILE is not supported"));
            }
            if in_track {
                return Err(perr("FILE must come before the first TRACK"));
            }
            let (name, rest) = string_arg(rest, line)?;
            let (kind, rest) = word(rest);
            if kind.is_empty() {
                return Err(perr("FILE needs a file type (e.g. WAVE)"));
            }
            expect_end(rest, line)?;
            sheet.file = name;
            sheet.file_type = kind;
            have_file = true;
        } else if is("TRACK") {
            if !have_file {
                return Err(perr("TRACK before FILE"));
            }
            let (num, rest) = word(rest);
            let (kind, rest) = word(rest);
            expect_end(rest, line)?;
            if !kind.eq_ignore_ascii_case("AUDIO") {
                return Err(perr("only AUDIO tracks are supported"));
            }
            let number = num
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=99).contains(n) && num.len() <= 2)
                .ok_or(perr("track number must be 1 ..= 99"))?;
            finish(count, index, track_line, &mut prev_start, tracks)?;
            if count > 0 {
                let prev = if count <= capacity {
                    Some(tracks[count - 1].number)
                } else {
                    None
                };
                if prev.is_some_and(|p| number != p + 1) {
                    return Err(AlbumError::TrackNumber {
                        track: count,
                        number,
                    });
                }
            }
            if let Some(t) = tracks.get_mut(count) {
                *t = CueTrack {
                    number,
                    ..CueTrack::default()
                };
            }
            count += 1;
            index = (None, None);
            track_line = line;
        } else if is("ISRC") {
            if !in_track {
                return Err(perr("ISRC outside a TRACK"));
            }
            let (code, rest) = word(rest);
            expect_end(rest, line)?;
            validate_isrc(code).map_err(|e| match e {
                AlbumError::InvalidIsrc { reason, .. } => AlbumError::InvalidIsrc {
                    track: count - 1,
                    reason,
                },
                e => e,
            })?;
            if let Some(t) = tracks.get_mut(count - 1) {
                t.isrc = Some(code);
            }
        } else if is("INDEX") {
            if !in_track {
                return Err(perr("INDEX outside a TRACK"));
            }
            let (num, rest) = word(rest);
            let (pos, rest) = word(rest);
            expect_end(rest, line)?;
            let n = num
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= 99 && num.len() <= 2)
                .ok_or(perr("index number must be 00 ..= 99"))?;
            let pos = parse_msf(pos, line)?;
            let slot = match n {
                0 => &mut index.0,
                1 => &mut index.1,
                _ => continue,
            };
            if slot.is_some() {
                return Err(perr("INDEX given twice"));
            }
            *slot = Some(pos);
        } else if is("PREGAP") || is("POSTGAP") {
            return Err(perr(
                "PREGAP / POSTGAP (silence not in the file) are not supported",
            ));
        } else {
            return Err(perr("unknown command"));
        }
    }
    if !have_file {
        return Err(AlbumError::Parse {
            line: text.lines().count().max(1),
            reason: "no FILE",
        });
    }
    finish(count, index, track_line, &mut prev_start, tracks)?;
    if count == 0 {
        return Err(AlbumError::NoTracks);
    }
    if count > capacity {
        return Err(Error::CapacityExceeded {
            needed: count,
            capacity,
        }
        .into());
    }
    sheet.tracks = count;
    validate_tracks(&tracks[..count], None, |track, e| match e {
        AlbumError::InvalidIsrc { reason, .. } => AlbumError::InvalidIsrc { track, reason },
        e => e,
    })?;
    Ok(sheet)
}
