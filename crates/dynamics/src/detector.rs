//! Level detection: attack/release ballistics and peak/RMS envelope followers.
//!
//! Time constants follow the 63 % definition: a step reaches `1 - 1/e` of its final value after
//! one time constant ([`lathe_core::one_pole_coeff`]; Giannoulis, Massberg, Reiss, JAES 2012,
//! §3.1). The smoothing is the *smooth branching* peak detector of the same paper (eq. 17): a
//! one-pole filter whose coefficient is the attack one while the input is above the state and
//! the release one otherwise.

use lathe_core::{flush_denormal_f32, one_pole_coeff};

/// How the sidechain level is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetectorKind {
    /// Instantaneous absolute value: reacts to every peak (Giannoulis et al. §3).
    #[default]
    Peak,
    /// Root mean square over a one-pole window (`rms_window_ms`): follows loudness rather than
    /// peaks.
    Rms,
}

/// With adaptive release, the slow branch recovers this many times slower than `release_ms`.
pub const ADAPTIVE_RELEASE_FACTOR: f64 = 4.0;

/// Attack/release ballistics (smooth branching peak detector, Giannoulis et al. eq. 17), with
/// optional program-dependent release.
///
/// `process(x)` moves the state towards `x` with the attack time constant when `x` is above
/// the state and with the release time constant otherwise.
///
/// **Adaptive (program-dependent) release**: a second, slow branch charges towards the input
/// with a time constant of `release_ms` and recovers with
/// `ADAPTIVE_RELEASE_FACTOR × release_ms`; the output is the larger of the two branches. A short
/// transient barely charges the slow branch and is released quickly; sustained gain reduction
/// charges it and is released slowly, so dense passages do not pump (the two-stage release of
/// classic program-dependent compressors).
///
/// Values are whatever unit the caller uses (the compressor feeds gain reduction in `log2`
/// units). Non-finite input is the caller's to avoid; denormal states are flushed to zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ballistics {
    attack: f32,
    release: f32,
    slow_attack: f32,
    slow_release: f32,
    adaptive: bool,
    fast: f32,
    slow: f32,
}

impl Default for Ballistics {
    fn default() -> Self {
        Self::new(10.0, 100.0, false, 48_000.0)
    }
}

impl Ballistics {
    /// Ballistics with `attack_ms` / `release_ms` time constants (63 %, 0 = instant) at
    /// `sample_rate` Hz, adaptive release on or off, resting at 0.
    pub fn new(attack_ms: f64, release_ms: f64, adaptive: bool, sample_rate: f64) -> Self {
        let mut b = Self {
            attack: 0.0,
            release: 0.0,
            slow_attack: 0.0,
            slow_release: 0.0,
            adaptive,
            fast: 0.0,
            slow: 0.0,
        };
        b.set_times(attack_ms, release_ms, adaptive, sample_rate);
        b
    }

    /// Changes the time constants (the state is kept, so this never clicks).
    pub fn set_times(&mut self, attack_ms: f64, release_ms: f64, adaptive: bool, sample_rate: f64) {
        self.attack = one_pole_coeff(attack_ms, sample_rate) as f32;
        self.release = one_pole_coeff(release_ms, sample_rate) as f32;
        self.slow_attack = one_pole_coeff(release_ms, sample_rate) as f32;
        self.slow_release =
            one_pole_coeff(ADAPTIVE_RELEASE_FACTOR * release_ms, sample_rate) as f32;
        if !adaptive {
            self.slow = 0.0;
        }
        self.adaptive = adaptive;
    }

    /// Advances one sample towards `x` and returns the new output (denormal states are
    /// flushed to zero on every call).
    #[inline(always)]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.step(x);
        self.flush();
        y
    }

    /// [`process`](Self::process) without the denormal flush: for loops that call
    /// [`flush`](Self::flush) on their own schedule (e.g. every 64 frames). Both branch
    /// candidates are computed from the state in parallel and one is selected, which keeps the
    /// per-sample dependency chain to a multiply, an add and a select.
    #[inline(always)]
    pub fn step(&mut self, x: f32) -> f32 {
        let attack = self.attack * self.fast + (1.0 - self.attack) * x;
        let release = self.release * self.fast + (1.0 - self.release) * x;
        self.fast = if x > self.fast { attack } else { release };
        if self.adaptive {
            let attack = self.slow_attack * self.slow + (1.0 - self.slow_attack) * x;
            let release = self.slow_release * self.slow + (1.0 - self.slow_release) * x;
            self.slow = if x > self.slow { attack } else { release };
            self.fast.max(self.slow)
        } else {
            self.fast
        }
    }

    /// Flushes denormal states to zero.
    #[inline(always)]
    pub fn flush(&mut self) {
        self.fast = flush_denormal_f32(self.fast);
        self.slow = flush_denormal_f32(self.slow);
    }

    /// Current output.
    #[inline]
    pub fn value(&self) -> f32 {
        if self.adaptive {
            self.fast.max(self.slow)
        } else {
            self.fast
        }
    }

    /// Sets the state (both branches) to `value`.
    #[inline]
    pub fn set_value(&mut self, value: f32) {
        self.fast = value;
        self.slow = if self.adaptive { value } else { 0.0 };
    }

    /// Returns to rest (0).
    pub fn reset(&mut self) {
        self.fast = 0.0;
        self.slow = 0.0;
    }
}

/// An envelope follower on audio: peak (`|x|`) or RMS (`sqrt` of the smoothed `x²`) with
/// attack/release ballistics ([`Ballistics`]); the building block for meters and custom
/// dynamics. Output in linear amplitude.
///
/// Non-finite input is treated as silence (it never enters the state).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelDetector {
    kind: DetectorKind,
    ballistics: Ballistics,
}

impl LevelDetector {
    /// A detector of `kind` with `attack_ms` / `release_ms` (63 % time constants) at
    /// `sample_rate` Hz, adaptive release on or off.
    pub fn new(
        kind: DetectorKind,
        attack_ms: f64,
        release_ms: f64,
        adaptive_release: bool,
        sample_rate: f64,
    ) -> Self {
        Self {
            kind,
            ballistics: Ballistics::new(attack_ms, release_ms, adaptive_release, sample_rate),
        }
    }

    /// Feeds one sample and returns the level (linear amplitude).
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let x = if x.is_finite() { x } else { 0.0 };
        match self.kind {
            DetectorKind::Peak => self.ballistics.process(x.abs()),
            DetectorKind::Rms => libm::sqrtf(self.ballistics.process(x * x)),
        }
    }

    /// Current level (linear amplitude).
    pub fn level(&self) -> f32 {
        match self.kind {
            DetectorKind::Peak => self.ballistics.value(),
            DetectorKind::Rms => libm::sqrtf(self.ballistics.value()),
        }
    }

    /// Returns to silence.
    pub fn reset(&mut self) {
        self.ballistics.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_and_release_reach_63_percent_at_their_time_constants() {
        let fs = 48_000.0;
        let mut b = Ballistics::new(5.0, 50.0, false, fs);
        for _ in 0..240 {
            b.process(1.0);
        }
        assert!(
            (b.value() - (1.0 - (-1.0f32).exp())).abs() < 2e-3,
            "{}",
            b.value()
        );
        for _ in 0..48_000 {
            b.process(1.0);
        }
        for _ in 0..2_400 {
            b.process(0.0);
        }
        assert!((b.value() - (-1.0f32).exp()).abs() < 2e-3, "{}", b.value());
        // Instant attack.
        let mut i = Ballistics::new(0.0, 50.0, false, fs);
        assert_eq!(i.process(0.7), 0.7);
    }

    #[test]
    fn adaptive_release_is_slower_after_sustained_reduction() {
        let fs = 48_000.0;
        // Time for the output to fall below 10 % after a burst of `len` samples.
        let recovery = |len: usize| {
            let mut b = Ballistics::new(1.0, 50.0, true, fs);
            for _ in 0..len {
                b.process(1.0);
            }
            (0..)
                .take(10 * 48_000)
                .position(|_| b.process(0.0) < 0.1)
                .unwrap()
        };
        let short = recovery(240); // 5 ms transient
        let long = recovery(96_000); // 2 s of sustained reduction
        let plain = {
            let mut b = Ballistics::new(1.0, 50.0, false, fs);
            for _ in 0..240 {
                b.process(1.0);
            }
            (0..).position(|_| b.process(0.0) < 0.1).unwrap()
        };
        assert!(short as f64 <= plain as f64 * 1.3, "{short} vs {plain}");
        assert!(long as f64 > 3.0 * short as f64, "{long} vs {short}");
    }

    #[test]
    fn level_detector_reads_sine_peak_and_rms() {
        let fs = 48_000.0;
        let mut p = LevelDetector::new(DetectorKind::Peak, 0.0, 200.0, false, fs);
        let mut r = LevelDetector::new(DetectorKind::Rms, 20.0, 20.0, false, fs);
        let (mut pk, mut rm) = (0.0, 0.0);
        for n in 0..48_000 {
            let x = 0.5 * (2.0 * core::f32::consts::PI * 1000.0 * n as f32 / 48_000.0).sin();
            pk = p.process(x);
            rm = r.process(x);
        }
        assert!((pk - 0.5).abs() < 0.01, "{pk}");
        assert!((rm - 0.5 / 2f32.sqrt()).abs() < 0.01, "{rm}");
        assert!(p.process(f32::NAN).is_finite());
        p.reset();
        assert_eq!(p.level(), 0.0);
    }
}
