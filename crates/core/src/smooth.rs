//! Click-free parameter changes.

/// A parameter that moves to a new value along a linear ramp instead of jumping.
///
/// Every change of target starts a ramp of the configured length (in samples) from the current
/// value, so automation never clicks or zips. The ramp lands exactly on the target. The value
/// after `n` calls to [`next`](Smoothed::next) depends only on `n`, never on how the calls are
/// split into blocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smoothed {
    current: f64,
    target: f64,
    step: f64,
    remaining: u32,
    ramp_len: u32,
}

impl Smoothed {
    /// A smoother resting at `value` with a ramp of zero samples (instant changes) until
    /// [`set_ramp`](Smoothed::set_ramp) is called.
    pub const fn new(value: f64) -> Self {
        Self {
            current: value,
            target: value,
            step: 0.0,
            remaining: 0,
            ramp_len: 0,
        }
    }

    /// Sets the ramp length to `ramp_ms` milliseconds at `sample_rate` Hz (at least 1 sample
    /// when `ramp_ms > 0`). A ramp in progress finishes at its old speed.
    pub fn set_ramp(&mut self, ramp_ms: f64, sample_rate: f64) {
        let n = crate::ms_to_samples(ramp_ms, sample_rate);
        self.ramp_len = n.min(u32::MAX as usize) as u32;
    }

    /// Ramp length in samples.
    pub fn ramp_len(&self) -> u32 {
        self.ramp_len
    }

    /// Starts a ramp from the current value to `target`.
    pub fn set_target(&mut self, target: f64) {
        if target == self.target && self.remaining == 0 {
            return;
        }
        self.target = target;
        if self.ramp_len == 0 {
            self.current = target;
            self.remaining = 0;
        } else {
            self.remaining = self.ramp_len;
            self.step = (target - self.current) / f64::from(self.ramp_len);
        }
    }

    /// Jumps to the target at once (used by `reset`).
    pub fn reset(&mut self) {
        self.current = self.target;
        self.remaining = 0;
    }

    /// Jumps to `value` at once, both as current value and target.
    pub fn set_immediate(&mut self, value: f64) {
        self.target = value;
        self.reset();
    }

    /// Advances one sample and returns the new value.
    #[inline]
    #[allow(clippy::should_implement_trait)] // a smoother never ends; it is not an iterator
    pub fn next(&mut self) -> f64 {
        if self.remaining > 0 {
            self.remaining -= 1;
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.target - self.step * f64::from(self.remaining)
            };
        }
        self.current
    }

    /// Advances `n` samples at once and returns the value reached.
    #[inline]
    pub fn skip(&mut self, n: usize) -> f64 {
        if self.remaining > 0 {
            let n = n.min(self.remaining as usize) as u32;
            self.remaining -= n;
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.target - self.step * f64::from(self.remaining)
            };
        }
        self.current
    }

    /// True while a ramp is in progress.
    #[inline]
    pub fn is_smoothing(&self) -> bool {
        self.remaining > 0
    }

    /// Current value (the last one returned by `next`).
    #[inline]
    pub fn current(&self) -> f64 {
        self.current
    }

    /// Value the ramp is heading to.
    #[inline]
    pub fn target(&self) -> f64 {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_linearly_and_lands_exactly() {
        let mut s = Smoothed::new(0.0);
        s.set_ramp(1.0, 4_000.0); // 4 samples
        assert_eq!(s.ramp_len(), 4);
        s.set_target(1.0);
        let v: [f64; 5] = core::array::from_fn(|_| s.next());
        assert_eq!(v, [0.25, 0.5, 0.75, 1.0, 1.0]);
        assert!(!s.is_smoothing());
    }

    #[test]
    fn skip_matches_next() {
        let mut a = Smoothed::new(2.0);
        a.set_ramp(10.0, 48_000.0);
        let mut b = a;
        a.set_target(-1.0);
        b.set_target(-1.0);
        for _ in 0..100 {
            a.next();
        }
        b.skip(37);
        b.skip(63);
        assert_eq!(a.current(), b.current());
        a.reset();
        assert_eq!(a.current(), -1.0);
    }

    #[test]
    fn zero_ramp_is_instant() {
        let mut s = Smoothed::new(1.0);
        s.set_target(3.0);
        assert_eq!(s.next(), 3.0);
    }
}
