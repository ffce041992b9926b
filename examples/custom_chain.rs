//! Build a chain in code, change it while it runs, and read its latency:
//! `cargo run --release --example custom_chain`.

use lathe::config::*;
use lathe::core::Processor;
use lathe::{ChainConfig, Compensated, MasteringChain};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fs = 48_000.0;
    let chain = ChainConfig::new(vec![
        StageConfig::Input(InputConfig::default()),
        StageConfig::Eq(EqConfig {
            bands: vec![
                EqBandConfig {
                    kind: EqKind::Highpass,
                    freq_hz: 30.0,
                    order: 2,
                    ..Default::default()
                },
                EqBandConfig {
                    kind: EqKind::Peak,
                    freq_hz: 3_000.0,
                    gain_db: 1.0,
                    q: 1.0,
                    ..Default::default()
                },
            ],
            bypass: false,
        }),
        StageConfig::Compressor(CompressorConfig {
            threshold_db: -18.0,
            ratio: 2.0,
            ..Default::default()
        }),
        StageConfig::Stereo(StereoConfig {
            width: 1.1,
            bass_mono_hz: Some(120.0),
            ..Default::default()
        }),
        StageConfig::Limiter(LimiterConfig {
            ceiling_db: -1.0,
            ..Default::default()
        }),
    ]);
    let strip = MasteringChain::<2>::from_config(&chain, fs, 512)?;
    println!(
        "stages: {}, latency: {} frames",
        strip.len(),
        Processor::<2>::latency(&strip)
    );

    // Compensated: output frame n is input frame n.
    let mut strip = Compensated::new(strip);
    let input = lathe_testkit::signals::music_like(fs, 4.0, -3.0, 9);
    let mut out = Vec::with_capacity(input.len());
    for (i, block) in input.chunks(512).enumerate() {
        if i == 100 {
            // Automate: more width and a softer compressor, smoothed, no clicks.
            strip.inner_mut().set_stage(
                3,
                StageConfig::Stereo(StereoConfig {
                    width: 1.3,
                    bass_mono_hz: Some(120.0),
                    ..Default::default()
                }),
            )?;
            strip.inner_mut().set_bypass(2, true)?;
        }
        strip.render(block, &mut out);
    }
    strip.finish(&mut out);
    assert_eq!(out.len(), input.len());
    let peak = out.iter().flatten().fold(0.0f32, |m, s| m.max(s.abs()));
    println!(
        "{} frames in, {} out, peak {:.2} dBFS",
        input.len(),
        out.len(),
        20.0 * peak.log10()
    );
    Ok(())
}
