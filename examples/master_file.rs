//! Master a stereo WAV to a platform target in two passes (analysis with the limiter model,
//! then render), streaming:
//! `cargo run --release --example master_file -- IN.wav OUT.wav [TARGET]` (default target
//! `spotify`: -14 LUFS, -1 dBTP).
//!
//! Without arguments it masters a synthesised mix into the system's temporary directory.

use lathe::loudness::LoudnessMeter;
use lathe::{Mastering, Pass, Preset, RenderOutcome, Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let target =
        Target::by_name(args.get(3).map_or("spotify", String::as_str)).ok_or("unknown target")?;
    let (input, fs) = match args.get(1) {
        Some(p) => read(p)?,
        None => (
            lathe_testkit::signals::music_like(48_000.0, 10.0, -6.0, 3),
            48_000.0,
        ),
    };
    let out_path = args.get(2).cloned().unwrap_or_else(|| {
        std::env::temp_dir()
            .join("lathe-mastered.wav")
            .display()
            .to_string()
    });

    let chain = Preset::Streaming.chain(&target);
    let mut job = Mastering::<2>::new(&chain, &target, fs, true)?;
    // The preset's compressor sits behind the input trim: with an estimate of the input's
    // loudness before the analysis, the model runs during it and the input is read twice (a
    // file reader would take the excerpts with seeks). Without one, a model pass follows.
    if job.wants_input_estimate() {
        if let Some(lufs) = sparse_estimate(&input, fs) {
            job.set_input_estimate(lufs)?;
        }
    }
    let output = loop {
        match job.pass() {
            // The analysis (and a model pass, if any) only read the input (a file would be
            // read from disk again).
            Pass::Analyze | Pass::Model => {
                input.chunks(4096).for_each(|b| job.feed(b));
                job.end_pass()?;
            }
            Pass::Render => {
                let mut out = Vec::with_capacity(input.len());
                input.chunks(4096).for_each(|b| job.render(b, &mut out));
                job.finish(&mut out);
                if job.end_render()? == RenderOutcome::Done {
                    break out;
                }
            }
            Pass::Done => unreachable!(),
        }
    };
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: fs as u32,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&out_path, spec)?;
    for f in &output {
        w.write_sample(f[0])?;
        w.write_sample(f[1])?;
    }
    w.finalize()?;
    let before = job.input_report();
    let after = job.output_report().ok_or("no output")?;
    let plan = job.plan();
    println!(
        "target   {} ({} LUFS, {} dBTP)",
        target.name, target.integrated_lufs, target.ceiling_dbtp
    );
    println!(
        "before   {:6.2} LUFS  {:6.2} dBTP  LRA {:4.1} LU",
        before.integrated_lufs, before.true_peak_dbtp, before.loudness_range_lu
    );
    println!(
        "after    {:6.2} LUFS  {:6.2} dBTP  LRA {:4.1} LU",
        after.integrated_lufs, after.true_peak_dbtp, after.loudness_range_lu
    );
    println!(
        "trim {:+.2} dB, gain into limiter {:+.2} dB, {} render pass(es), input read {} times",
        plan.trim_db, plan.gain_db, plan.renders, plan.reads
    );
    println!("wrote {out_path}");
    Ok(())
}

/// Integrated loudness (LUFS) of 1 s excerpts spread evenly over `input` (25 of them, or the
/// whole input when it is shorter than that), merged as one measurement.
fn sparse_estimate(input: &[[f32; 2]], fs: f64) -> Option<f64> {
    let len = fs as usize;
    let step = (input.len() / 25).max(len);
    let mut total: Option<LoudnessMeter<2>> = None;
    for start in (0..input.len()).step_by(step) {
        let mut m = LoudnessMeter::<2>::new(fs).ok()?;
        m.set_true_peak_enabled(false);
        m.process(&input[start..(start + len).min(input.len())]);
        match &mut total {
            Some(t) => t.merge(&m).ok()?,
            None => total = Some(m),
        }
    }
    let l = total?.integrated_lufs();
    l.is_finite().then_some(l)
}

/// Interleaved stereo frames and their sample rate in Hz.
type StereoAudio = (Vec<[f32; 2]>, f64);

fn read(path: &str) -> Result<StereoAudio, Box<dyn std::error::Error>> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let ch = usize::from(spec.channels);
    let frames = samples
        .chunks(ch)
        .map(|f| if ch == 1 { [f[0], f[0]] } else { [f[0], f[1]] })
        .collect();
    Ok((frames, f64::from(spec.sample_rate)))
}
