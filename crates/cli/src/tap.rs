//! Recording level and loudness over time for plots, next to whatever else reads the audio.

use crate::plot::Recorder;
use lathe::loudness::LoudnessMeter;
use lathe::Analyzer;

/// Something that measures audio and knows the short-term loudness so far.
pub trait Metered<const CH: usize> {
    /// Measures a block.
    fn measure(&mut self, frames: &[[f32; CH]]);
    /// Short-term (3 s) loudness now, LUFS.
    fn short_term_lufs(&self) -> f64;
}

impl<const CH: usize> Metered<CH> for Analyzer<CH> {
    fn measure(&mut self, frames: &[[f32; CH]]) {
        self.process(frames);
    }
    fn short_term_lufs(&self) -> f64 {
        self.meter().short_term_lufs()
    }
}

impl<const CH: usize> Metered<CH> for LoudnessMeter<CH> {
    fn measure(&mut self, frames: &[[f32; CH]]) {
        self.process(frames);
    }
    fn short_term_lufs(&self) -> f64 {
        LoudnessMeter::short_term_lufs(self)
    }
}

/// Feeds `frames` to `meter` and, when recording, to `recorder`, cutting the block at the
/// recorder's hop boundaries so each hop gets the short-term loudness at its end.
pub fn feed<const CH: usize, M: Metered<CH>>(
    meter: &mut M,
    recorder: Option<&mut Recorder>,
    frames: &[[f32; CH]],
) {
    let Some(rec) = recorder else {
        meter.measure(frames);
        return;
    };
    let mut rest = frames;
    while !rest.is_empty() {
        let n = rec.frames_to_hop().min(rest.len());
        let (a, b) = rest.split_at(n);
        meter.measure(a);
        if rec.add(a) {
            rec.end_hop(meter.short_term_lufs());
        }
        rest = b;
    }
}

/// A loudness meter with a recorder: what `--plot` records of a stream the CLI does not
/// otherwise measure itself (the mastering job's own analysers are internal).
#[derive(Debug)]
pub struct Tap<const CH: usize> {
    meter: Box<LoudnessMeter<CH>>,
    /// The recording.
    pub recorder: Recorder,
}

impl<const CH: usize> Tap<CH> {
    /// A tap for audio at `sample_rate` Hz.
    ///
    /// # Errors
    /// An unsupported rate or channel count.
    pub fn new(sample_rate: f64) -> lathe::core::Result<Self> {
        Ok(Self {
            meter: Box::new(LoudnessMeter::new(sample_rate)?),
            recorder: Recorder::new(sample_rate),
        })
    }

    /// Records a block.
    pub fn feed(&mut self, frames: &[[f32; CH]]) {
        feed(self.meter.as_mut(), Some(&mut self.recorder), frames);
    }

    /// Integrated loudness of everything fed, LUFS.
    pub fn integrated_lufs(&self) -> f64 {
        self.meter.integrated_lufs()
    }
}
