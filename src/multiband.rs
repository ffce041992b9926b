//! Multiband dynamics and bass mono: `lathe-eq` crossovers meet `lathe-dynamics` and
//! `lathe-stereo`.

use crate::chain::{compressor_params, StereoOnly};
use crate::config::{CompressorConfig, MultibandBandConfig, MultibandConfig};
use lathe_core::{ProcessSpec, Processor, Result};
use lathe_dynamics::Compressor;
use lathe_eq::Crossover;
use lathe_stereo::{ImagerParams, StereoImager};

/// Linkwitz-Riley 4th-order splitters for 2, 3 or 4 bands.
#[derive(Debug, Clone)]
enum Splitter<const CH: usize> {
    Two(Crossover<CH, 2>),
    Three(Crossover<CH, 3>),
    Four(Crossover<CH, 4>),
}

impl<const CH: usize> Splitter<CH> {
    fn new(freqs: &[f64]) -> Result<Self> {
        Ok(match freqs.len() {
            1 => {
                let mut x = Crossover::new();
                x.set_frequencies(freqs)?;
                Splitter::Two(x)
            }
            2 => {
                let mut x = Crossover::new();
                x.set_frequencies(freqs)?;
                Splitter::Three(x)
            }
            3 => {
                let mut x = Crossover::new();
                x.set_frequencies(freqs)?;
                Splitter::Four(x)
            }
            n => {
                return Err(lathe_core::Error::CapacityExceeded {
                    needed: n + 1,
                    capacity: 4,
                })
            }
        })
    }
    fn bands(&self) -> usize {
        match self {
            Splitter::Two(_) => 2,
            Splitter::Three(_) => 3,
            Splitter::Four(_) => 4,
        }
    }
    fn set_frequencies(&mut self, freqs: &[f64]) -> Result<()> {
        match self {
            Splitter::Two(x) => x.set_frequencies(freqs),
            Splitter::Three(x) => x.set_frequencies(freqs),
            Splitter::Four(x) => x.set_frequencies(freqs),
        }
    }
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        match self {
            Splitter::Two(x) => x.prepare(spec),
            Splitter::Three(x) => x.prepare(spec),
            Splitter::Four(x) => x.prepare(spec),
        }
    }
    fn reset(&mut self) {
        match self {
            Splitter::Two(x) => x.reset(),
            Splitter::Three(x) => x.reset(),
            Splitter::Four(x) => x.reset(),
        }
    }
    /// Splits `input` into `out[..bands]`.
    #[inline]
    fn split(&mut self, input: &[f32; CH], out: &mut [[f32; CH]; 4]) {
        match self {
            Splitter::Two(x) => out[..2].copy_from_slice(&x.split_frame(input)),
            Splitter::Three(x) => out[..3].copy_from_slice(&x.split_frame(input)),
            Splitter::Four(x) => out.copy_from_slice(&x.split_frame(input)),
        }
    }
}

/// A 2-4 band compressor on Linkwitz-Riley 4th-order crossovers, with optional per-band
/// stereo width. With every band at unity (ratio 1, no makeup, width 1) it sums to a flat
/// magnitude response (the crossover is all-pass compensated).
#[derive(Debug)]
pub struct Multiband<const CH: usize> {
    splitter: Splitter<CH>,
    compressors: Vec<Compressor<CH>>,
    widths: Vec<Option<StereoOnly<StereoImager>>>,
    bands: Vec<Vec<[f32; CH]>>,
}

fn band_compressor(b: &MultibandBandConfig) -> CompressorConfig {
    CompressorConfig {
        threshold_db: b.threshold_db,
        ratio: b.ratio,
        knee_db: b.knee_db,
        attack_ms: b.attack_ms,
        release_ms: b.release_ms,
        makeup_db: b.makeup_db,
        ..CompressorConfig::default()
    }
}

fn width_params(width: f64) -> ImagerParams {
    ImagerParams {
        width,
        ..ImagerParams::default()
    }
}

impl<const CH: usize> Multiband<CH> {
    /// Builds the bands of `config` (missing band entries take the defaults: unity).
    ///
    /// # Errors
    /// From the crossover (frequencies) or the compressors (parameters).
    pub fn new(config: &MultibandConfig) -> Result<Self> {
        let splitter = Splitter::new(&config.crossovers_hz)?;
        let n = splitter.bands();
        let band = |i: usize| config.bands.get(i).copied().unwrap_or_default();
        let compressors = (0..n)
            .map(|i| Compressor::new(compressor_params(&band_compressor(&band(i)))))
            .collect();
        let widths = (0..n)
            .map(|i| {
                let w = band(i).width;
                (CH == 2 && w != 1.0).then(|| StereoOnly::new(StereoImager::new(width_params(w))))
            })
            .collect();
        Ok(Self {
            splitter,
            compressors,
            widths,
            bands: vec![Vec::new(); n],
        })
    }

    /// Applies new band settings while running; returns `false` for a structural change
    /// (band count or a width switched between 1 and another value).
    pub(crate) fn update(&mut self, config: &MultibandConfig) -> Result<bool> {
        if config.crossovers_hz.len() + 1 != self.splitter.bands() {
            return Ok(false);
        }
        self.splitter.set_frequencies(&config.crossovers_hz)?;
        for i in 0..self.compressors.len() {
            let b = config.bands.get(i).copied().unwrap_or_default();
            self.compressors[i].set_params(compressor_params(&band_compressor(&b)))?;
            match &mut self.widths[i] {
                Some(w) => w.inner.set_params(width_params(b.width))?,
                None if b.width != 1.0 && CH == 2 => return Ok(false),
                None => {}
            }
        }
        Ok(true)
    }
}

impl<const CH: usize> Processor<CH> for Multiband<CH> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        self.splitter.prepare(spec)?;
        for c in &mut self.compressors {
            c.prepare(spec)?;
        }
        for w in self.widths.iter_mut().flatten() {
            Processor::<CH>::prepare(w, spec)?;
        }
        for b in &mut self.bands {
            *b = vec![[0.0; CH]; spec.max_block.max(1)];
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.splitter.reset();
        self.compressors.iter_mut().for_each(Processor::reset);
        for w in self.widths.iter_mut().flatten() {
            Processor::<CH>::reset(w);
        }
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        let cap = self.bands.first().map_or(0, Vec::len);
        if cap == 0 {
            return;
        }
        let n = self.bands.len();
        for block in frames.chunks_mut(cap) {
            let len = block.len();
            let mut split = [[0.0f32; CH]; 4];
            for (i, f) in block.iter().enumerate() {
                self.splitter.split(f, &mut split);
                for (band, s) in self.bands.iter_mut().zip(&split) {
                    band[i] = *s;
                }
            }
            for b in 0..n {
                let buf = &mut self.bands[b][..len];
                self.compressors[b].process(buf);
                if let Some(w) = &mut self.widths[b] {
                    w.process(buf);
                }
            }
            for (i, f) in block.iter_mut().enumerate() {
                let mut sum = [0.0f32; CH];
                for band in &self.bands {
                    for (s, x) in sum.iter_mut().zip(band[i].iter()) {
                        *s += x;
                    }
                }
                *f = sum;
            }
        }
    }

    fn latency(&self) -> usize {
        // Band compressors have no lookahead here, so every band has the same delay.
        self.compressors.first().map_or(0, Processor::<CH>::latency)
    }
}

/// Bass mono: below the crossover frequency the side signal is removed (L = R = mid).
/// Uses a Linkwitz-Riley 4th-order split, so the sum of the bands is all-pass.
#[derive(Debug, Clone)]
pub struct BassMono<const CH: usize> {
    crossover: Crossover<CH, 2>,
    freq_hz: f64,
}

impl<const CH: usize> BassMono<CH> {
    /// Mono below `freq_hz` Hz.
    pub fn new(freq_hz: f64) -> Self {
        let mut crossover = Crossover::new();
        // Validated against the sample rate in prepare.
        let _ = crossover.set_frequencies(&[freq_hz]);
        Self { crossover, freq_hz }
    }

    /// The crossover frequency in Hz.
    pub fn freq_hz(&self) -> f64 {
        self.freq_hz
    }
}

impl<const CH: usize> Processor<CH> for BassMono<CH> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        if CH != 2 {
            return Err(lathe_core::Error::UnsupportedChannels { channels: CH });
        }
        self.crossover.prepare(spec)?;
        self.crossover.set_frequencies(&[self.freq_hz])
    }
    fn reset(&mut self) {
        self.crossover.reset();
    }
    fn process(&mut self, frames: &mut [[f32; CH]]) {
        if CH != 2 {
            return;
        }
        for f in frames {
            let [low, high] = self.crossover.split_frame(f);
            let mid = 0.5 * (low[0] + low[1]);
            f[0] = mid + high[0];
            f[1] = mid + high[1];
        }
    }
}
