//! `lathe process`: a chain file applied exactly as written, latency compensated.

use crate::cli::ProcessArgs;
use crate::common::{
    default_format, load_chain, open_source, quantizer, seed_for, short_name, Progress, BLOCK,
};
use crate::error::{Failure, Result};
use crate::input::FrameReader;
use crate::output::{check_outputs, check_wav_name, OutputFile};
use crate::pipeline::{Prefetched, WriteBehind};
use crate::with_mono_or_stereo;
use lathe::{Compensated, MasteringChain};

/// Runs `lathe process`; returns true on success.
///
/// # Errors
/// Input, chain and output failures (the output is then left untouched).
pub fn run(args: &ProcessArgs, progress: &Progress) -> Result<bool> {
    check_wav_name(&args.output)?;
    check_outputs(
        &[args.output.as_path()],
        &[args.input.as_path(), args.chain.as_path()],
        args.force,
    )?;
    let config = load_chain(&args.chain)?;
    let (info, source) = open_source(&args.input, None)?;
    let rate = info.sample_rate;
    let format = args.bits.unwrap_or_else(|| default_format(&info));
    let n = info.channels;
    let chain_error = |e: lathe::Error| match e {
        lathe::Error::Config(_) | lathe::Error::Stage { .. } => Failure::file(&args.chain, e),
        _ => Failure::file(&args.input, e),
    };
    let out_file = OutputFile::new(&args.output)?;
    let frames = with_mono_or_stereo!(n, CH => {
        let chain = MasteringChain::<CH>::from_config(&config, f64::from(rate), BLOCK)
            .map_err(chain_error)?;
        let mut chain = Box::new(Compensated::new(chain));
        let mut reader = Prefetched::new(FrameReader::<CH>::new(source));
        let mut sink = WriteBehind::<CH>::new(out_file.wav(
            CH,
            rate,
            format,
            quantizer(format, rate, seed_for(&args.output))?,
        )?);
        let bar = progress.bar(&short_name(&args.input), "process", info.frames);
        let mut out: Vec<[f32; CH]> = Vec::with_capacity(2 * BLOCK);
        let mut count = 0u64;
        while let Some(block) = reader.next_frames()? {
            for chunk in block.chunks(BLOCK) {
                out.clear();
                chain.render(chunk, &mut out);
                sink.write(&out)?;
            }
            count += block.len() as u64;
            bar.inc(block.len() as u64);
        }
        out.clear();
        chain.finish(&mut out);
        sink.write(&out)?;
        bar.finish_and_clear();
        if sink.frames() != count {
            return Err(Failure::file(&args.input, format!(
                "internal error: {} frames in, {} out", count, sink.frames()
            )));
        }
        sink.finish()?;
        count
    }, _ => return Err(Failure::file(&args.input, format!("{n} channels: chains take mono or stereo files"))));
    out_file.commit()?;
    crate::app::print_text(&format!(
        "{} -> {}: {} frames at {} Hz through {} ({} output)\n",
        args.input.display(),
        args.output.display(),
        frames,
        rate,
        args.chain.display(),
        format.name()
    ));
    Ok(true)
}
