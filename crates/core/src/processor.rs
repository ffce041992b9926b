//! The processor lifecycle and tuple chains.

use crate::{Error, Result};

/// Lowest sample rate Lathe designs for, in Hz.
pub const MIN_SAMPLE_RATE: f64 = 8_000.0;
/// Highest sample rate Lathe designs for, in Hz.
pub const MAX_SAMPLE_RATE: f64 = 384_000.0;

/// What a processor is prepared for: the sample rate and the largest block it will be given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessSpec {
    /// Sample rate in Hz (frames per second), 8 000 ..= 384 000.
    pub sample_rate: f64,
    /// Largest number of frames passed to one `process` call. Processors never rely on it for
    /// correctness (any block length works); it only sizes optional scratch work.
    pub max_block: usize,
}

impl ProcessSpec {
    /// A spec for `sample_rate` Hz and blocks of at most `max_block` frames.
    pub const fn new(sample_rate: f64, max_block: usize) -> Self {
        Self {
            sample_rate,
            max_block,
        }
    }

    /// Nyquist frequency in Hz.
    pub fn nyquist_hz(&self) -> f64 {
        0.5 * self.sample_rate
    }

    /// Checks that the sample rate is finite and within 8 kHz ..= 384 kHz.
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`] otherwise.
    pub fn validate(&self) -> Result<()> {
        if self.sample_rate.is_finite()
            && (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&self.sample_rate)
        {
            Ok(())
        } else {
            Err(Error::UnsupportedSampleRate {
                sample_rate: self.sample_rate,
            })
        }
    }
}

/// An audio processor over interleaved frames of `CH` channels of `f32`, processed in place.
///
/// The lifecycle follows JUCE's dsp module:
/// - [`prepare`](Processor::prepare) validates parameters against the spec and designs
///   coefficients; it is not real-time safe and may fail.
/// - [`reset`](Processor::reset) clears all state (delay lines, envelopes, smoothers jump to
///   their targets) so that the next output equals that of a freshly prepared instance.
/// - [`process`](Processor::process) is real-time safe: it never allocates, blocks or panics,
///   accepts any number of frames (including zero), and its output does not depend on how the
///   audio is split into blocks.
/// - [`latency`](Processor::latency) is the delay the processor adds, in frames.
///
/// Tuples `(A, B, …)` of processors (up to 8) are processors themselves: a chain that runs its
/// members in order, whose latency is the sum, and whose `prepare` returns the first error.
pub trait Processor<const CH: usize> {
    /// Validates parameters and designs coefficients for `spec`.
    ///
    /// # Errors
    /// A precise [`Error`] when the spec or a parameter is unusable at this sample rate
    /// (e.g. [`Error::AboveNyquist`]); the processor stays unprepared for the new spec.
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()>;

    /// Clears all internal state, as if freshly prepared.
    fn reset(&mut self);

    /// Processes `frames` in place. Real-time safe; any length.
    fn process(&mut self, frames: &mut [[f32; CH]]);

    /// Delay this processor adds, in frames.
    fn latency(&self) -> usize {
        0
    }
}

impl<const CH: usize, P: Processor<CH> + ?Sized> Processor<CH> for &mut P {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        (**self).prepare(spec)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn process(&mut self, frames: &mut [[f32; CH]]) {
        (**self).process(frames);
    }
    fn latency(&self) -> usize {
        (**self).latency()
    }
}

macro_rules! impl_tuple_chain {
    ($($name:ident : $idx:tt),+) => {
        impl<const CH: usize, $($name: Processor<CH>),+> Processor<CH> for ($($name,)+) {
            fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
                $( self.$idx.prepare(spec)?; )+
                Ok(())
            }
            fn reset(&mut self) {
                $( self.$idx.reset(); )+
            }
            fn process(&mut self, frames: &mut [[f32; CH]]) {
                $( self.$idx.process(frames); )+
            }
            fn latency(&self) -> usize {
                0 $( + self.$idx.latency() )+
            }
        }
    };
}

impl_tuple_chain!(A: 0);
impl_tuple_chain!(A: 0, B: 1);
impl_tuple_chain!(A: 0, B: 1, C: 2);
impl_tuple_chain!(A: 0, B: 1, C: 2, D: 3);
impl_tuple_chain!(A: 0, B: 1, C: 2, D: 3, E: 4);
impl_tuple_chain!(A: 0, B: 1, C: 2, D: 3, E: 4, F: 5);
impl_tuple_chain!(A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6);
impl_tuple_chain!(A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6, H: 7);

#[cfg(test)]
mod tests {
    use super::*;

    struct Delay1 {
        last: [f32; 1],
        fail: bool,
    }
    impl Processor<1> for Delay1 {
        fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
            spec.validate()?;
            if self.fail {
                Err(Error::NotPrepared)
            } else {
                Ok(())
            }
        }
        fn reset(&mut self) {
            self.last = [0.0];
        }
        fn process(&mut self, frames: &mut [[f32; 1]]) {
            for f in frames {
                core::mem::swap(&mut f[0], &mut self.last[0]);
            }
        }
        fn latency(&self) -> usize {
            1
        }
    }

    #[test]
    fn chain_latency_is_sum_and_prepare_returns_first_error() {
        let mut chain = (
            Delay1 {
                last: [0.0],
                fail: false,
            },
            Delay1 {
                last: [0.0],
                fail: true,
            },
            Delay1 {
                last: [0.0],
                fail: false,
            },
        );
        assert_eq!(chain.latency(), 3);
        assert_eq!(
            chain.prepare(&ProcessSpec::new(48_000.0, 64)),
            Err(Error::NotPrepared)
        );
        assert_eq!(
            chain.prepare(&ProcessSpec::new(1_000.0, 64)),
            Err(Error::UnsupportedSampleRate {
                sample_rate: 1_000.0
            })
        );
        let mut x = [[1.0f32], [0.0], [0.0], [0.0], [0.0]];
        chain.process(&mut x);
        assert_eq!(x, [[0.0], [0.0], [0.0], [1.0], [0.0]]);
    }

    #[test]
    fn spec_validation() {
        assert!(ProcessSpec::new(44_100.0, 1).validate().is_ok());
        assert!(ProcessSpec::new(384_000.0, 1).validate().is_ok());
        assert!(ProcessSpec::new(f64::NAN, 1).validate().is_err());
        assert!(ProcessSpec::new(400_000.0, 1).validate().is_err());
    }
}
