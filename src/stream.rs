//! Latency-compensated streaming: output frame `n` corresponds to input frame `n`.

use lathe_core::Processor;

/// Wraps a processor with latency so that the caller gets exactly as many frames out as it put
/// in, aligned: the first `latency()` output frames (the processor's start-up delay) are
/// dropped and [`finish`](Compensated::finish) flushes the last ones with silence.
///
/// This is the convenience path for files (it appends to a `Vec`); the real-time path is the
/// wrapped processor's own `process`, which reports its latency instead.
#[derive(Debug, Clone)]
pub struct Compensated<P> {
    inner: P,
    to_skip: usize,
    flushed: bool,
}

impl<P> Compensated<P> {
    /// Wraps a prepared processor.
    pub fn new<const CH: usize>(inner: P) -> Self
    where
        P: Processor<CH>,
    {
        let to_skip = inner.latency();
        Self {
            inner,
            to_skip,
            flushed: false,
        }
    }

    /// The wrapped processor.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The wrapped processor, mutably (for parameter changes while running).
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// Unwraps the processor.
    pub fn into_inner(self) -> P {
        self.inner
    }

    /// Processes `input` and appends the aligned output frames available so far to `out`.
    pub fn render<const CH: usize>(&mut self, input: &[[f32; CH]], out: &mut Vec<[f32; CH]>)
    where
        P: Processor<CH>,
    {
        let start = out.len();
        out.extend_from_slice(input);
        self.inner.process(&mut out[start..]);
        if self.to_skip > 0 {
            let k = self.to_skip.min(input.len());
            out.drain(start..start + k);
            self.to_skip -= k;
        }
    }

    /// Appends the remaining output (the processor's latency worth of frames, fed with
    /// silence), so that the total output length equals the total input length. Further calls
    /// append nothing.
    pub fn finish<const CH: usize>(&mut self, out: &mut Vec<[f32; CH]>)
    where
        P: Processor<CH>,
    {
        if self.flushed {
            return;
        }
        self.flushed = true;
        let latency = self.inner.latency();
        // Frames still owed = latency - frames skipped so far that were never produced.
        let owed = latency - self.to_skip;
        let start = out.len();
        out.resize(start + latency, [0.0; CH]);
        self.inner.process(&mut out[start..]);
        // Of the `latency` frames produced from silence, the first `to_skip` are still start-up.
        out.drain(start..start + self.to_skip);
        out.truncate(start + owed);
        self.to_skip = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_core::{ProcessSpec, Result};

    struct Delay<const N: usize> {
        line: [f32; N],
        pos: usize,
    }
    impl<const N: usize> Processor<1> for Delay<N> {
        fn prepare(&mut self, _: &ProcessSpec) -> Result<()> {
            Ok(())
        }
        fn reset(&mut self) {
            self.line = [0.0; N];
        }
        fn process(&mut self, frames: &mut [[f32; 1]]) {
            for f in frames {
                core::mem::swap(&mut f[0], &mut self.line[self.pos]);
                self.pos = (self.pos + 1) % N;
            }
        }
        fn latency(&self) -> usize {
            N
        }
    }

    #[test]
    fn output_is_aligned_and_as_long_as_input() {
        for total in [0usize, 1, 3, 5, 6, 7, 40] {
            for block in [1usize, 2, 5, 64] {
                let input: Vec<[f32; 1]> = (0..total).map(|i| [i as f32 + 1.0]).collect();
                let mut c = Compensated::new(Delay::<5> {
                    line: [0.0; 5],
                    pos: 0,
                });
                let mut out = Vec::new();
                for b in input.chunks(block) {
                    c.render(b, &mut out);
                }
                c.finish(&mut out);
                assert_eq!(out, input, "total {total} block {block}");
            }
        }
    }
}
