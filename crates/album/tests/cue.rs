//! CUE sheets: exact text, round trips through the parser, ISRC and EAN-13 rules, errors.

use lathe_album::{
    cd_frames_to_frames, compute_timeline, ean13_check_digit, frames_to_cd_frames, parse_cue,
    validate_catalog, validate_isrc, write_cue, AlbumError, CueSheet, CueTrack, Msf,
    TimelineOptions, TrackPlacement, TrackSpec,
};
use lathe_core::Error;
use proptest::prelude::*;

const FS: u32 = 44_100;

/// Album frames of `MM:SS:FF` at 44.1 kHz, from the Red Book definition (588 per CD frame).
fn msf(m: u64, s: u64, f: u64) -> u64 {
    ((m * 60 + s) * 75 + f) * 588
}

#[test]
fn writes_the_cdrwin_format() {
    let tracks = [
        CueTrack {
            number: 1,
            title: Some("Opening"),
            performer: Some("Lathe"),
            isrc: Some("USRC17607839"),
            pregap_start: 0,
            start: msf(0, 2, 0),
        },
        CueTrack {
            number: 2,
            title: Some("Middle, with \u{e9}"),
            performer: None,
            isrc: None,
            pregap_start: msf(4, 1, 74),
            start: msf(4, 3, 74),
        },
        CueTrack {
            number: 3,
            title: None,
            performer: None,
            isrc: Some("GBAYE0000351"),
            pregap_start: msf(61, 0, 5),
            start: msf(61, 0, 5),
        },
    ];
    let sheet = CueSheet {
        file: "album name.wav",
        title: Some("Demo album"),
        performer: Some("Lathe"),
        catalog: Some("4006381333931"),
        sample_rate: FS,
        tracks: &tracks,
    };
    let mut s = String::new();
    write_cue(&sheet, &mut s).unwrap();
    let want = "\
CATALOG 4006381333931
PERFORMER \"Lathe\"
TITLE \"Demo album\"
FILE \"album name.wav\" WAVE
  TRACK 01 AUDIO
    TITLE \"Opening\"
    PERFORMER \"Lathe\"
    ISRC USRC17607839
    INDEX 00 00:00:00
    INDEX 01 00:02:00
  TRACK 02 AUDIO
    TITLE \"Middle, with \u{e9}\"
    INDEX 00 04:01:74
    INDEX 01 04:03:74
  TRACK 03 AUDIO
    ISRC GBAYE0000351
    INDEX 01 61:00:05
";
    assert_eq!(s, want);

    // And back.
    let mut parsed = [CueTrack::default(); 3];
    let cue = parse_cue(&s, FS, &mut parsed).unwrap();
    assert_eq!(cue.tracks, 3);
    assert_eq!(cue.file_type, "WAVE");
    assert_eq!(cue.sheet(&parsed), sheet);
}

#[test]
fn positions_round_down_to_cd_frames() {
    assert_eq!(frames_to_cd_frames(587, 44_100), 0);
    assert_eq!(frames_to_cd_frames(588, 44_100), 1);
    assert_eq!(frames_to_cd_frames(44_100 * 60, 44_100), 4_500);
    assert_eq!(frames_to_cd_frames(639, 48_000), 0);
    assert_eq!(frames_to_cd_frames(640, 48_000), 1);
    assert_eq!(cd_frames_to_frames(75, 96_000), 96_000);
    assert_eq!(Msf(4_500 + 75 * 2 + 3).to_string(), "01:02:03");
    assert_eq!(Msf(100 * 4_500).to_string(), "100:00:00");
    // Writing an off-grid position gives the CD frame at or before it.
    let tracks = [CueTrack {
        number: 1,
        start: msf(0, 2, 0) + 587,
        pregap_start: msf(0, 2, 0) + 587,
        ..CueTrack::default()
    }];
    let mut s = String::new();
    let sheet = CueSheet {
        file: "a.wav",
        title: None,
        performer: None,
        catalog: None,
        sample_rate: FS,
        tracks: &tracks,
    };
    write_cue(&sheet, &mut s).unwrap();
    assert!(s.ends_with("INDEX 01 00:02:00\n"), "{s}");
    assert!(!s.contains("INDEX 00"));
}

#[test]
fn cd_timeline_positions_survive_the_sheet() {
    let specs = [
        TrackSpec {
            frames: 5 * 44_100 + 17,
            crossfade_s: 0.7,
            ..TrackSpec::default()
        },
        TrackSpec {
            frames: 6 * 44_100 + 300,
            ..TrackSpec::default()
        },
        TrackSpec {
            frames: 4 * 44_100 + 9,
            gap_before_s: 2.5,
            ..TrackSpec::default()
        },
    ];
    let mut placements = [TrackPlacement::default(); 3];
    compute_timeline(&specs, &TimelineOptions::cd(), &mut placements).unwrap();
    let tracks: Vec<CueTrack<'_>> = placements
        .iter()
        .enumerate()
        .map(|(i, p)| CueTrack {
            number: i as u8 + 1,
            pregap_start: p.pregap_start,
            start: p.start,
            ..CueTrack::default()
        })
        .collect();
    let sheet = CueSheet {
        file: "album.wav",
        title: None,
        performer: None,
        catalog: None,
        sample_rate: FS,
        tracks: &tracks,
    };
    let mut s = String::new();
    write_cue(&sheet, &mut s).unwrap();
    let mut parsed = [CueTrack::default(); 3];
    let cue = parse_cue(&s, FS, &mut parsed).unwrap();
    for (p, q) in placements.iter().zip(&parsed[..cue.tracks]) {
        assert_eq!((p.pregap_start, p.start), (q.pregap_start, q.start));
    }
    // Track 3 has a pregap, the others do not.
    assert_eq!(s.matches("INDEX 00").count(), 2);
}

#[test]
fn isrc_rules() {
    for ok in [
        "USRC17607839",
        "GBAYE0000351",
        "QM6N21900001",
        "FR6V81234567",
        "DEA120000001",
    ] {
        validate_isrc(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "US-RC1-76-07839", // dashes are for display only
        "USRC1760783",     // 11 characters
        "USRC176078390",   // 13
        "usRC17607839",    // lower-case country
        "U1RC17607839",    // digit in the country
        "USrc17607839",    // lower-case registrant
        "US-C17607839",    // punctuation in the registrant
        "USRC1A607839",    // letter in the year
        "USRC176078X9",    // letter in the designation
        "USRC1760783\u{e9}",
        "",
    ] {
        assert!(
            matches!(validate_isrc(bad), Err(AlbumError::InvalidIsrc { .. })),
            "{bad} accepted"
        );
    }
}

#[test]
fn catalog_rules() {
    // Published EAN-13 examples, and a UPC-A (036000291452) written as EAN-13.
    for ok in [
        "4006381333931",
        "5901234123457",
        "0036000291452",
        "9780306406157",
    ] {
        validate_catalog(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "4006381333932",
        "400638133393",
        "40063813339310",
        "400638133393a",
        "",
    ] {
        assert!(matches!(
            validate_catalog(bad),
            Err(AlbumError::InvalidCatalog { .. })
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// GS1: the weighted sum of all 13 digits (1, 3, 1, 3, …, 1) is a multiple of 10, and
    /// exactly one check digit does it.
    #[test]
    fn ean13_check_digit_makes_the_weighted_sum_round(digits in prop::array::uniform12(0u8..10)) {
        let check = ean13_check_digit(&digits);
        let weighted: u32 = digits.iter().chain([check].iter()).enumerate()
            .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        prop_assert_eq!(weighted % 10, 0);
        for d in 0..10u8 {
            let s: String = digits.iter().chain([d].iter()).map(|d| char::from(b'0' + d)).collect();
            prop_assert_eq!(validate_catalog(&s).is_ok(), d == check);
        }
    }

    /// Any valid sheet comes back from the parser exactly as written.
    #[test]
    fn round_trip(
        tracks in prop::collection::vec(
            (1u64..20_000, 0u64..300, any::<bool>(), "[A-Za-z0-9 ,.'!?&()-]{1,80}",
             prop::option::of("[A-Za-z][A-Za-z0-9 ]{0,40}"), any::<bool>(), 0u32..100_000),
            1..30),
        first in 1u8..10,
        fs in prop_oneof![Just(44_100u32), Just(48_000), Just(96_000)],
        album_title in prop::option::of("[A-Za-z0-9 ]{1,60}"),
        catalog in prop::option::of(prop::array::uniform12(0u8..10)),
        file in "[A-Za-z0-9 _.-]{1,40}",
    ) {
        let tracks = &tracks[..tracks.len().min(usize::from(100 - first))];
        let titles: Vec<String> = tracks.iter().map(|t| t.3.trim().to_string())
            .map(|t| if t.is_empty() { "x".into() } else { t }).collect();
        let performers: Vec<Option<String>> = tracks.iter()
            .map(|t| t.4.as_ref().map(|p| p.trim().to_string())).collect();
        let isrcs: Vec<String> = tracks.iter().map(|t| format!("NL{:03}{:02}{:05}", t.6 % 1000, t.6 % 100, t.6)).collect();
        let per_frame = u64::from(fs) / 75;
        let mut pos = 0u64;
        let cue_tracks: Vec<CueTrack<'_>> = tracks.iter().enumerate().map(|(i, t)| {
            let pregap_start = pos + if i == 0 { 0 } else { 1 };
            let start = pregap_start + if t.2 { t.1 } else { 0 };
            pos = start + t.0 / 10;
            CueTrack {
                number: first + i as u8,
                title: Some(&titles[i]),
                performer: performers[i].as_deref(),
                isrc: if t.5 { Some(&isrcs[i]) } else { None },
                pregap_start: pregap_start * per_frame,
                start: start * per_frame,
            }
        }).collect();
        let catalog = catalog.map(|d| {
            d.iter().chain([ean13_check_digit(&d)].iter()).map(|d| char::from(b'0' + d)).collect::<String>()
        });
        let album_title = album_title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let file = file.trim().to_string();
        prop_assume!(!file.is_empty() && performers.iter().flatten().all(|p| !p.is_empty()));
        let sheet = CueSheet {
            file: &file,
            title: album_title.as_deref(),
            performer: Some("Various"),
            catalog: catalog.as_deref(),
            sample_rate: fs,
            tracks: &cue_tracks,
        };
        let mut text = String::new();
        write_cue(&sheet, &mut text).unwrap();
        let mut parsed = vec![CueTrack::default(); cue_tracks.len()];
        let cue = parse_cue(&text, fs, &mut parsed).unwrap();
        prop_assert_eq!(cue.sheet(&parsed), sheet);
        // CRLF line ends read the same.
        let crlf = text.replace('\n', "\r\n");
        let mut again = vec![CueTrack::default(); cue_tracks.len()];
        let cue2 = parse_cue(&crlf, fs, &mut again).unwrap();
        prop_assert_eq!(cue2.sheet(&again), sheet);
    }
}

#[test]
fn parser_accepts_the_common_variants() {
    let text = "\u{feff}REM GENRE Ambient\r\n\
                rem COMMENT \"made by hand\"\r\n\
                performer Someone\r\n\
                TITLE \"An album\"\r\n\
                FILE album.wav WAVE\r\n\
                \r\n\
                TRACK 01 AUDIO\r\n\
                \tFLAGS DCP\r\n\
                \tTITLE Unquoted words here\r\n\
                \tSONGWRITER \"Somebody\"\r\n\
                \tINDEX 01 00:00:00\r\n\
                \tINDEX 02 00:30:00\r\n\
                TRACK 2 audio\r\n\
                \tINDEX 00 03:00:00\r\n\
                \tINDEX 01 03:02:10\r\n";
    let mut tracks = [CueTrack::default(); 4];
    let cue = parse_cue(text, FS, &mut tracks).unwrap();
    assert_eq!(cue.file, "album.wav");
    assert_eq!(cue.performer, Some("Someone"));
    assert_eq!(cue.title, Some("An album"));
    assert_eq!(cue.tracks, 2);
    assert_eq!(tracks[0].title, Some("Unquoted words here"));
    assert_eq!((tracks[0].pregap_start, tracks[0].start), (0, 0));
    assert_eq!(tracks[1].number, 2);
    assert_eq!(tracks[1].pregap_start, msf(3, 0, 0));
    assert_eq!(tracks[1].start, msf(3, 2, 10));
}

fn parse_err(text: &str, capacity: usize) -> AlbumError {
    let mut tracks = vec![CueTrack::default(); capacity];
    parse_cue(text, FS, &mut tracks).unwrap_err()
}

#[test]
fn parser_errors() {
    let head = "FILE \"a.wav\" WAVE\n";
    let two =
        format!("{head}TRACK 01 AUDIO\nINDEX 01 00:00:00\nTRACK 02 AUDIO\nINDEX 01 00:05:00\n");
    assert_eq!(
        parse_err(&two, 1),
        AlbumError::Core(Error::CapacityExceeded {
            needed: 2,
            capacity: 1
        })
    );
    assert_eq!(
        parse_err(&two, 0),
        AlbumError::Core(Error::CapacityExceeded {
            needed: 2,
            capacity: 0
        })
    );
    let line = |e: AlbumError| match e {
        AlbumError::Parse { line, .. } => line,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        line(parse_err(
            &format!("{head}TRACK 01 AUDIO\nTITLE \"x\"\n"),
            2
        )),
        2
    );
    assert_eq!(
        line(parse_err(
            &format!("{head}TRACK 01 AUDIO\nINDEX 01 00:60:00\n"),
            2
        )),
        3
    );
    assert_eq!(
        line(parse_err(
            &format!("{head}TRACK 01 AUDIO\nINDEX 01 00:00:75\n"),
            2
        )),
        3
    );
    assert_eq!(
        line(parse_err(
            &format!("{head}TRACK 01 AUDIO\nINDEX 01 0:0\n"),
            2
        )),
        3
    );
    assert_eq!(
        line(parse_err(
            &format!("{head}TRACK 01 AUDIO\nPREGAP 00:02:00\nINDEX 01 00:00:00\n"),
            2
        )),
        3
    );
    assert_eq!(
        line(parse_err(
            &format!("{head}TRACK 01 MODE1/2352\nINDEX 01 00:00:00\n"),
            2
        )),
        2
    );
    assert_eq!(line(parse_err(&format!("{head}{head}"), 2)), 2);
    assert_eq!(line(parse_err(&format!("{head}BOGUS 1\n"), 2)), 2);
    assert_eq!(line(parse_err("TRACK 01 AUDIO\nINDEX 01 00:00:00\n", 2)), 1);
    assert_eq!(line(parse_err("TITLE \"x\"\n", 2)), 1);
    assert_eq!(line(parse_err(&format!("{head}TITLE \"open\n"), 2)), 2);
    assert_eq!(
        line(parse_err(
            &format!("{head}TRACK 01 AUDIO\nINDEX 01 00:00:00\nINDEX 01 00:01:00\n"),
            2
        )),
        4
    );
    assert_eq!(parse_err(head, 2), AlbumError::NoTracks);
    assert!(matches!(
        parse_err(
            &format!("{head}TRACK 01 AUDIO\nISRC US-RC1-76-07839\nINDEX 01 00:00:00\n"),
            2
        ),
        AlbumError::InvalidIsrc { track: 0, .. }
    ));
    assert!(matches!(
        parse_err(
            &format!("CATALOG 4006381333932\n{head}TRACK 01 AUDIO\nINDEX 01 00:00:00\n"),
            2
        ),
        AlbumError::InvalidCatalog { .. }
    ));
    assert!(matches!(
        parse_err(
            &format!(
                "{head}TRACK 01 AUDIO\nINDEX 01 00:05:00\nTRACK 03 AUDIO\nINDEX 01 00:09:00\n"
            ),
            2
        ),
        AlbumError::TrackNumber {
            track: 1,
            number: 3
        }
    ));
    assert!(matches!(
        parse_err(
            &format!("{head}TRACK 01 AUDIO\nINDEX 00 00:05:00\nINDEX 01 00:04:00\n"),
            2
        ),
        AlbumError::IndexOrder { track: 0 }
    ));
    assert!(matches!(
        parse_err(
            &format!(
                "{head}TRACK 01 AUDIO\nINDEX 01 00:05:00\nTRACK 02 AUDIO\nINDEX 01 00:05:00\n"
            ),
            2
        ),
        AlbumError::IndexOrder { track: 1 }
    ));
}

/// A sink that fails after `0` characters.
struct Full(usize);

impl core::fmt::Write for Full {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if s.len() > self.0 {
            return Err(core::fmt::Error);
        }
        self.0 -= s.len();
        Ok(())
    }
}

#[test]
fn writer_errors() {
    let one = [CueTrack {
        number: 1,
        ..CueTrack::default()
    }];
    let base = CueSheet {
        file: "a.wav",
        title: None,
        performer: None,
        catalog: None,
        sample_rate: FS,
        tracks: &one,
    };
    let write = |sheet: &CueSheet<'_>| write_cue(sheet, &mut String::new());
    write(&base).unwrap();
    let text_err = |e| matches!(e, Err(AlbumError::InvalidText { .. }));
    assert!(text_err(write(&CueSheet {
        title: Some("say \"hi\""),
        ..base
    })));
    assert!(text_err(write(&CueSheet {
        title: Some(&"x".repeat(81)),
        ..base
    })));
    write(&CueSheet {
        title: Some(&"\u{e9}".repeat(80)),
        ..base
    })
    .unwrap();
    assert!(text_err(write(&CueSheet {
        performer: Some("two\nlines"),
        ..base
    })));
    assert!(text_err(write(&CueSheet { file: "", ..base })));
    assert!(matches!(
        write(&CueSheet {
            catalog: Some("1234567890123"),
            ..base
        }),
        Err(AlbumError::InvalidCatalog { .. })
    ));
    assert!(matches!(
        write(&CueSheet {
            tracks: &[],
            ..base
        }),
        Err(AlbumError::NoTracks)
    ));
    assert!(matches!(
        write(&CueSheet {
            sample_rate: 0,
            ..base
        }),
        Err(AlbumError::Core(Error::OutOfRange {
            param: "sample_rate",
            ..
        }))
    ));
    let t = |number: u8, pregap_start: u64, start: u64| CueTrack {
        number,
        pregap_start,
        start,
        ..CueTrack::default()
    };
    let check = |tracks: &[CueTrack<'_>]| write(&CueSheet { tracks, ..base });
    assert!(matches!(
        check(&[t(0, 0, 0)]),
        Err(AlbumError::TrackNumber {
            track: 0,
            number: 0
        })
    ));
    assert!(matches!(
        check(&[t(100, 0, 0)]),
        Err(AlbumError::TrackNumber { .. })
    ));
    assert!(matches!(
        check(&[t(1, 0, 0), t(3, 588, 588)]),
        Err(AlbumError::TrackNumber {
            track: 1,
            number: 3
        })
    ));
    check(&[t(5, 0, 0), t(6, 588, 588)]).unwrap();
    assert!(matches!(
        check(&[t(1, 589, 588)]),
        Err(AlbumError::IndexOrder { track: 0 })
    ));
    // Two tracks in the same CD frame.
    assert!(matches!(
        check(&[t(1, 0, 0), t(2, 587, 587)]),
        Err(AlbumError::IndexOrder { track: 1 })
    ));
    assert!(matches!(
        check(&[t(1, 0, msf(100, 0, 0))]),
        Err(AlbumError::IndexOrder { track: 0 })
    ));
    check(&[t(1, 0, msf(99, 59, 74))]).unwrap();
    let isrc = [CueTrack {
        number: 1,
        isrc: Some("USRC1760783"),
        ..CueTrack::default()
    }];
    assert!(matches!(
        check(&isrc),
        Err(AlbumError::InvalidIsrc { track: 0, .. })
    ));
    // A failing sink is an error, not a panic, and nothing is written for a bad sheet.
    assert_eq!(write_cue(&base, &mut Full(10)), Err(AlbumError::Format));
    let mut s = String::new();
    assert!(write_cue(
        &CueSheet {
            catalog: Some("1"),
            ..base
        },
        &mut s
    )
    .is_err());
    assert!(s.is_empty());
    // The error reaches a Box<dyn Error> through `?`.
    fn boxed() -> Result<(), Box<dyn std::error::Error>> {
        write_cue(
            &CueSheet {
                file: "",
                title: None,
                performer: None,
                catalog: None,
                sample_rate: FS,
                tracks: &[],
            },
            &mut String::new(),
        )?;
        Ok(())
    }
    assert!(boxed().unwrap_err().to_string().contains("FILE"));
}
