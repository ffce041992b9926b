//! Streaming sample-rate conversion with `rubato`, aligned and of exact length.
//!
//! [`Resampled`] wraps a [`BlockSource`] and yields the same audio at another rate. The
//! resampler's delay is removed (output frame `m` is at time `m / out_rate`, as input frame `n`
//! is at `n / in_rate`) and the output holds exactly `round(n_in * out_rate / in_rate)` frames.
//! `rubato`'s synchronous FFT resampler is used: its anti-aliasing low-pass sits just below the
//! lower Nyquist frequency.

use crate::error::{Failure, Result};
use crate::input::BlockSource;
use rubato::{FftFixedIn, Resampler};

/// Input frames per resampler call.
const CHUNK: usize = 2048;

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Frames of output for `frames_in` input frames from `rate_in` to `rate_out` (rounded).
pub fn resampled_len(frames_in: u64, rate_in: u32, rate_out: u32) -> u64 {
    let (n, a, b) = (
        u128::from(frames_in),
        u128::from(rate_in),
        u128::from(rate_out),
    );
    ((n * b + a / 2) / a) as u64
}

/// A [`BlockSource`] at another sample rate (see the module docs).
pub struct Resampled {
    source: Box<dyn BlockSource + Send>,
    resampler: FftFixedIn<f32>,
    rate_out: u32,
    channels: usize,
    pending: Vec<Vec<f32>>,
    out: Vec<Vec<f32>>,
    block: Vec<f32>,
    to_skip: usize,
    frames_in: u64,
    produced: u64,
    end: Option<u64>,
}

impl std::fmt::Debug for Resampled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampled")
            .field("rate_out", &self.rate_out)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl Resampled {
    /// `source` converted to `rate_out` Hz.
    ///
    /// # Errors
    /// When `rubato` cannot build the converter for these rates.
    pub fn new(source: Box<dyn BlockSource + Send>, rate_out: u32) -> Result<Self> {
        let channels = source.channels();
        let rate_in = source.sample_rate();
        // rubato splits each chunk into FFTs of `k * rate_in / gcd` frames; an odd FFT length
        // shifts the output by half a sample, so `k` is kept even.
        let base = (rate_in / gcd(rate_in, rate_out)) as usize;
        let k = CHUNK.div_ceil(2 * base).next_multiple_of(2);
        let chunk = 2 * k * base;
        let resampler = FftFixedIn::new(rate_in as usize, rate_out as usize, chunk, 2, channels)
            .map_err(|e| {
                Failure::general(format!(
                    "cannot resample {rate_in} Hz to {rate_out} Hz: {e}"
                ))
            })?;
        let to_skip = resampler.output_delay();
        let out = resampler.output_buffer_allocate(true);
        Ok(Self {
            source,
            resampler,
            rate_out,
            channels,
            pending: vec![Vec::with_capacity(2 * chunk); channels],
            out,
            block: Vec::new(),
            to_skip,
            frames_in: 0,
            produced: 0,
            end: None,
        })
    }

    fn fill(&mut self, need: usize) -> Result<()> {
        while self.end.is_none() && self.pending[0].len() < need {
            match self.source.next_block()? {
                Some(samples) => {
                    let ch = self.channels;
                    for (c, plane) in self.pending.iter_mut().enumerate() {
                        plane.extend(samples.iter().skip(c).step_by(ch));
                    }
                    self.frames_in += (samples.len() / ch) as u64;
                }
                None => {
                    self.end = Some(resampled_len(
                        self.frames_in,
                        self.source.sample_rate(),
                        self.rate_out,
                    ));
                }
            }
        }
        Ok(())
    }
}

impl BlockSource for Resampled {
    fn channels(&self) -> usize {
        self.channels
    }

    fn sample_rate(&self) -> u32 {
        self.rate_out
    }

    fn next_block(&mut self) -> Result<Option<&[f32]>> {
        loop {
            if self.end.is_some_and(|n| self.produced >= n) {
                return Ok(None);
            }
            let need = self.resampler.input_frames_next();
            self.fill(need)?;
            let resample_err =
                |e: rubato::ResampleError| Failure::general(format!("resampler: {e}"));
            let (used, made) = if self.pending[0].len() >= need {
                self.resampler
                    .process_into_buffer(&self.pending, &mut self.out, None)
                    .map_err(resample_err)?
            } else {
                // The end: the rest of the input padded with silence, then silence alone.
                let input = (!self.pending[0].is_empty()).then_some(&self.pending[..]);
                let (_, made) = self
                    .resampler
                    .process_partial_into_buffer(input, &mut self.out, None)
                    .map_err(resample_err)?;
                (self.pending[0].len(), made)
            };
            for plane in &mut self.pending {
                plane.drain(..used.min(plane.len()));
            }
            let skip = self.to_skip.min(made);
            self.to_skip -= skip;
            let mut count = made - skip;
            if let Some(n) = self.end {
                count = count.min((n - self.produced) as usize);
            }
            if count == 0 {
                continue;
            }
            self.block.clear();
            self.block.reserve(count * self.channels);
            for i in skip..skip + count {
                for plane in &self.out {
                    self.block.push(plane[i]);
                }
            }
            self.produced += count as u64;
            return Ok(Some(&self.block));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sine in blocks of odd sizes.
    struct Sine {
        rate: u32,
        freq: f64,
        frames: u64,
        pos: u64,
        block: Vec<f32>,
    }
    impl BlockSource for Sine {
        fn channels(&self) -> usize {
            2
        }
        fn sample_rate(&self) -> u32 {
            self.rate
        }
        fn next_block(&mut self) -> Result<Option<&[f32]>> {
            let n = (self.frames - self.pos).min(777);
            if n == 0 {
                return Ok(None);
            }
            self.block.clear();
            for i in self.pos..self.pos + n {
                let x = (2.0 * std::f64::consts::PI * self.freq * i as f64 / f64::from(self.rate))
                    .sin() as f32
                    * 0.5;
                self.block.extend([x, -x]);
            }
            self.pos += n;
            Ok(Some(&self.block))
        }
    }

    #[test]
    fn exact_length_and_aligned() {
        for (rin, rout, frames) in [
            (44_100u32, 48_000u32, 44_100u64),
            (48_000, 44_100, 30_001),
            (96_000, 44_100, 9_600),
            (8_000, 384_000, 800),
            (44_100, 44_100, 1000),
            (44_101, 48_000, 20_000),
        ] {
            let freq = 440.0;
            let src = Sine {
                rate: rin,
                freq,
                frames,
                pos: 0,
                block: Vec::new(),
            };
            let mut r = Resampled::new(Box::new(src), rout).unwrap();
            let mut out = Vec::new();
            while let Some(b) = r.next_block().unwrap() {
                out.extend_from_slice(b);
            }
            let want = resampled_len(frames, rin, rout);
            assert_eq!(out.len() as u64, 2 * want, "{rin} -> {rout}");
            // In the middle (away from the edges) the output is the same sine at the new rate.
            let n = want as usize;
            let mut worst = 0.0f64;
            for m in n / 4..3 * n / 4 {
                let x =
                    (2.0 * std::f64::consts::PI * freq * m as f64 / f64::from(rout)).sin() * 0.5;
                worst = worst.max((f64::from(out[2 * m]) - x).abs());
                assert_eq!(out[2 * m], -out[2 * m + 1]);
            }
            assert!(worst < 1e-4, "{rin} -> {rout}: error {worst}");
        }
    }
}
