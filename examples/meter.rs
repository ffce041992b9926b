//! Meter a WAV file the EBU R128 way: `cargo run --release --example meter -- FILE.wav`.
//!
//! Without an argument it meters a synthesised -23 LUFS tone (EBU Tech 3341 case 1).

use lathe::loudness::LoudnessMeter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (frames, sample_rate) = match std::env::args().nth(1) {
        Some(path) => read_stereo(&path)?,
        None => {
            // 20 s of a 1 kHz sine at -23 dBFS per channel reads -23.0 LUFS.
            let amp = 10f64.powf(-23.0 / 20.0);
            let tone = (0..48_000 * 20)
                .map(|n| {
                    let x = (amp
                        * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 48_000.0).sin())
                        as f32;
                    [x, x]
                })
                .collect();
            (tone, 48_000.0)
        }
    };
    let mut meter = LoudnessMeter::<2>::new(sample_rate)?;
    // Feed it in blocks, as a stream would arrive.
    for block in frames.chunks(4096) {
        meter.process(block);
    }
    let r = meter.readings();
    println!("integrated      {:7.2} LUFS", r.integrated_lufs);
    println!("loudness range  {:7.2} LU", r.loudness_range_lu);
    println!("max momentary   {:7.2} LUFS", r.max_momentary_lufs);
    println!("max short-term  {:7.2} LUFS", r.max_short_term_lufs);
    println!("true peak       {:7.2} dBTP", r.true_peak_dbtp);
    println!("sample peak     {:7.2} dBFS", r.sample_peak_dbfs);
    Ok(())
}

/// Reads a mono or stereo WAV into stereo frames of f32.
/// Interleaved stereo frames and their sample rate in Hz.
type StereoAudio = (Vec<[f32; 2]>, f64);

fn read_stereo(path: &str) -> Result<StereoAudio, Box<dyn std::error::Error>> {
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
