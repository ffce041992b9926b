//! Master and sequence an album: consistent loudness, gaps, a crossfade, a CUE sheet.
//! `cargo run --release --example album` (synthesises three tracks; writes
//! `lathe-album.wav` into the system's temporary directory and prints the CUE sheet).

use lathe::album::{plan_album, track_chain};
use lathe::album_dsp::{
    compute_timeline, write_cue, AlbumRenderer, CueSheet, CueTrack, FadeCurve, LoudnessMode,
    TimelineOptions, TrackPlacement, TrackSource, TrackSpec,
};
use lathe::core::Processor;
use lathe::loudness::LoudnessMeter;
use lathe::{ChainConfig, Compensated, MasteringChain, Target};

/// Tracks held in memory (a file-backed source would read from disk instead).
struct Memory(Vec<Vec<[f32; 2]>>);

impl TrackSource<2> for Memory {
    fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; 2]]) {
        let t = &self.0[track];
        for (i, f) in out.iter_mut().enumerate() {
            *f = t
                .get(source_frame as usize + i)
                .copied()
                .unwrap_or([0.0; 2]);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fs = 44_100.0;
    let target = Target::by_name("spotify").ok_or("target")?;
    // Three tracks mixed at different levels.
    let mixes: Vec<Vec<[f32; 2]>> = [(-3.0, 1), (-9.0, 2), (-6.0, 3)]
        .iter()
        .map(|&(peak_db, seed)| lathe_testkit::signals::music_like(fs, 8.0, peak_db, seed))
        .collect();

    // 1. Measure each track; the album loudness is the merge of the meters.
    let meters: Vec<LoudnessMeter<2>> = mixes
        .iter()
        .map(|m| {
            let mut meter = LoudnessMeter::new(fs).expect("rate");
            meter.process(m);
            meter
        })
        .collect();
    let refs: Vec<&LoudnessMeter<2>> = meters.iter().collect();
    let plan = plan_album(&refs, LoudnessMode::LoudestTrack, &target)?;
    println!(
        "album {:.2} LUFS; gains {:?} dB",
        plan.album_lufs, plan.gains_db
    );

    // 2. Render every track through the same chain, only the gain differs.
    let mut mastered = Vec::new();
    for (mix, gain) in mixes.iter().zip(&plan.gains_db) {
        let cfg = track_chain(&ChainConfig::default(), &target, *gain);
        let chain = MasteringChain::<2>::from_config(&cfg, fs, 4096)?;
        println!(
            "track chain latency {} frames (compensated)",
            Processor::<2>::latency(&chain)
        );
        let mut c = Compensated::new(chain);
        let mut out = Vec::with_capacity(mix.len());
        c.render(mix, &mut out);
        c.finish(&mut out);
        mastered.push(out);
    }

    // 3. Sequence: 2 s gaps, an equal-power crossfade from track 2 into track 3.
    let specs: Vec<TrackSpec> = mastered
        .iter()
        .enumerate()
        .map(|(i, t)| TrackSpec {
            frames: t.len() as u64,
            gap_before_s: if i == 1 { 2.0 } else { 0.0 },
            crossfade_s: if i == 1 { 1.5 } else { 0.0 },
            crossfade_curve: FadeCurve::EqualPower,
            fade_out_s: if i == 2 { 2.0 } else { 0.0 },
            ..TrackSpec::default()
        })
        .collect();
    let opts = TimelineOptions {
        sample_rate: fs as u32,
        cd: true,
        first_pregap_s: 2.0,
    };
    let mut placements = [TrackPlacement::default(); 3];
    let timeline = compute_timeline(&specs, &opts, &mut placements)?;
    let mut renderer = AlbumRenderer::new(&specs, &placements, timeline);
    let mut source = Memory(mastered);
    let mut album = Vec::new();
    let mut block = vec![[0.0f32; 2]; 4096];
    loop {
        let n = renderer.render(&mut source, &mut block);
        if n == 0 {
            break;
        }
        album.extend_from_slice(&block[..n]);
    }
    println!(
        "album: {} frames ({:.2} s)",
        album.len(),
        album.len() as f64 / fs
    );

    let path = std::env::temp_dir().join("lathe-album.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: fs as u32,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec)?;
    for f in &album {
        w.write_sample(f[0])?;
        w.write_sample(f[1])?;
    }
    w.finalize()?;

    let titles = ["Opening", "Middle", "Closing"];
    let cue_tracks: Vec<CueTrack<'_>> = placements
        .iter()
        .enumerate()
        .map(|(i, p)| CueTrack {
            number: (i + 1) as u8,
            title: Some(titles[i]),
            performer: Some("Lathe"),
            isrc: None,
            pregap_start: p.pregap_start,
            start: p.start,
        })
        .collect();
    let sheet = CueSheet {
        file: "lathe-album.wav",
        title: Some("Demo album"),
        performer: Some("Lathe"),
        catalog: None,
        sample_rate: fs as u32,
        tracks: &cue_tracks,
    };
    let mut cue = String::new();
    write_cue(&sheet, &mut cue)?;
    println!("{cue}");
    println!("wrote {}", path.display());
    Ok(())
}
