//! Linkwitz–Riley crossovers that sum back to an all-pass.

use crate::design::coeffs_response;
use crate::eq::{DEFAULT_SAMPLE_RATE, DEFAULT_SMOOTHING_MS, MAX_SMOOTHING_MS, SANITIZE_FRAMES};
use crate::params::MIN_FREQ_HZ;
use crate::svf::{SvfCoeffs, SvfState};
use core::f64::consts::{PI, SQRT_2};
use lathe_core::{Error, ProcessSpec, Result, Smoothed};
use num_complex::Complex64;

/// Slope of a [`Crossover`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CrossoverOrder {
    /// Linkwitz–Riley 2nd order (12 dB/oct): two cascaded first-order Butterworth filters per
    /// side. The high side is polarity-inverted so that low + high is an all-pass.
    Lr2,
    /// Linkwitz–Riley 4th order (24 dB/oct): two cascaded second-order Butterworth filters per
    /// side; low + high is the all-pass `(s² − √2 s + 1)/(s² + √2 s + 1)`.
    #[default]
    Lr4,
}

impl CrossoverOrder {
    /// SVF damping `k = 1/Q` of the Butterworth sections.
    pub(crate) fn k(self) -> f64 {
        match self {
            CrossoverOrder::Lr2 => 2.0,
            CrossoverOrder::Lr4 => SQRT_2,
        }
    }

    /// Mix `(m0, m1, m2)` turning the split's SVF into the all-pass `low + high`.
    fn all_pass_mix(self) -> (f64, f64, f64) {
        match self {
            // (1 - s)/(1 + s) = LP - HP with k = 2: -v0 + 2 v1 + 2 v2.
            CrossoverOrder::Lr2 => (-1.0, 2.0, 2.0),
            // 1 - 2k·BP.
            CrossoverOrder::Lr4 => (1.0, -2.0 * SQRT_2, 0.0),
        }
    }
}

/// One crossover point: its SVF coefficients and their smoothing.
#[derive(Debug, Clone, Copy)]
struct Split {
    /// Coefficients in use (the mix is the all-pass mix).
    c: SvfCoeffs,
    log2_freq: Smoothed,
    gliding: bool,
}

/// A Linkwitz–Riley crossover splitting `CH` channels into `BANDS` bands (2 or more) at
/// `BANDS − 1` ascending frequencies.
///
/// The bands sum back to an all-pass (flat magnitude): a tree of two-way splits where every
/// lower band is passed through the all-passes of the splits above it (S. Linkwitz, "Active
/// crossover networks for non-coincident drivers", JAES 1976; the standard all-pass
/// compensation for 3+ bands). Each split is a bilinear (RBJ-style, pre-warped) design on
/// trapezoidal SVFs with `f64` state: the low side of an LR4 split runs two SVFs, the high
/// side is the split's all-pass minus the low side (`AP − LP² = HP²` exactly), so a two-band
/// LR4 costs two SVFs per channel and a two-band LR2 one. The bilinear transform (not the
/// matched design) is used on purpose: it keeps `low + high = all-pass` exact in the digital
/// domain, which is what a crossover must guarantee; near Nyquist the slopes are those of
/// the bilinear design.
///
/// Frequency changes while running glide on a log scale over
/// [`smoothing_ms`](Crossover::smoothing_ms) (20 ms by default), redesigned every sample; the
/// SVF stays stable under any such modulation (see [`crate::svf`]).
/// Non-finite input: state is checked every [`SANITIZE_FRAMES`] frames on a fixed grid and
/// cleared when not finite, as in the EQ.
///
/// ```
/// use lathe_core::ProcessSpec;
/// use lathe_eq::Crossover;
/// let mut x: Crossover<2, 3> = Crossover::new();
/// x.set_frequencies(&[200.0, 2_000.0]).unwrap();
/// x.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
/// let [low, mid, high] = x.split_frame(&[0.5, -0.5]);
/// // The sum of the bands is an all-pass of the input.
/// let sum = x.band_response(0, 1_000.0) + x.band_response(1, 1_000.0) + x.band_response(2, 1_000.0);
/// assert!((sum.norm() - 1.0).abs() < 1e-9);
/// # let _ = (low, mid, high);
/// ```
#[derive(Debug, Clone)]
pub struct Crossover<const CH: usize, const BANDS: usize> {
    order: CrossoverOrder,
    sample_rate: f64,
    prepared: bool,
    running: bool,
    moving: bool,
    smoothing_ms: f64,
    pos: u64,
    /// Crossover frequencies in Hz; the first `BANDS − 1` are used.
    freqs: [f64; BANDS],
    splits: [Split; BANDS],
    /// Per split: the SVF on the split's input and (LR4) the second low-pass SVF.
    split_state: [[SvfState<CH>; 2]; BANDS],
    /// `comp[b][j]`: the all-pass of split `j` applied to band `b` (`j > b`).
    comp: [[SvfState<CH>; BANDS]; BANDS],
}

impl<const CH: usize, const BANDS: usize> Default for Crossover<CH, BANDS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CH: usize, const BANDS: usize> Crossover<CH, BANDS> {
    /// An LR4 crossover with log-spaced default frequencies (`100·100^{i/BANDS}` Hz, e.g.
    /// 1 kHz for two bands), designed for 48 kHz until `prepare`.
    pub fn new() -> Self {
        Self::with_order(CrossoverOrder::Lr4)
    }

    /// A crossover of the given slope; see [`Crossover::new`].
    pub fn with_order(order: CrossoverOrder) -> Self {
        const { assert!(BANDS >= 2, "a crossover needs at least two bands") };
        let freqs: [f64; BANDS] =
            core::array::from_fn(|i| 100.0 * libm::pow(100.0, (i + 1) as f64 / BANDS as f64));
        let split = Split {
            c: SvfCoeffs::IDENTITY,
            log2_freq: Smoothed::new(0.0),
            gliding: false,
        };
        let mut x = Self {
            order,
            sample_rate: DEFAULT_SAMPLE_RATE,
            prepared: false,
            running: false,
            moving: false,
            smoothing_ms: DEFAULT_SMOOTHING_MS,
            pos: 0,
            freqs,
            splits: [split; BANDS],
            split_state: [[SvfState::ZERO; 2]; BANDS],
            comp: [[SvfState::ZERO; BANDS]; BANDS],
        };
        x.snap();
        x
    }

    /// The slope.
    pub fn order(&self) -> CrossoverOrder {
        self.order
    }

    /// Changes the slope; clears the state (not smoothed: choose it before running).
    pub fn set_order(&mut self, order: CrossoverOrder) {
        self.order = order;
        self.snap();
        self.reset();
    }

    /// Glide time of frequency changes in ms (20 by default).
    pub fn smoothing_ms(&self) -> f64 {
        self.smoothing_ms
    }

    /// Sets the glide time of later frequency changes, in ms (0 = jumps: stable, but may
    /// click).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] (`"smoothing_ms"`, 0 ..= [`MAX_SMOOTHING_MS`]).
    pub fn set_smoothing_ms(&mut self, ms: f64) -> Result<()> {
        Error::check_range("smoothing_ms", ms, 0.0, MAX_SMOOTHING_MS)?;
        self.smoothing_ms = ms;
        for s in &mut self.splits {
            s.log2_freq.set_ramp(ms, self.sample_rate);
        }
        Ok(())
    }

    /// The `BANDS − 1` crossover frequencies in Hz.
    pub fn frequencies(&self) -> &[f64] {
        &self.freqs[..BANDS - 1]
    }

    /// Sample rate the crossover is designed for, in Hz (48 kHz before `prepare`).
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Sets the `BANDS − 1` crossover frequencies (Hz, strictly ascending). May be called
    /// before [`prepare`](Crossover::prepare), which then checks them against Nyquist. While
    /// running, the change glides over 20 ms. On error nothing changes.
    ///
    /// # Errors
    /// [`Error::CapacityExceeded`] for more than `BANDS − 1` frequencies,
    /// [`Error::Mismatch`] for fewer; [`Error::OutOfRange`] (`"freq_hz"`) for a frequency that
    /// is not finite, below 1 Hz, or not above the previous one; [`Error::AboveNyquist`] at or
    /// above Nyquist once prepared.
    pub fn set_frequencies(&mut self, freqs_hz: &[f64]) -> Result<()> {
        self.check_frequencies(freqs_hz, self.prepared.then_some(self.sample_rate))?;
        if freqs_hz == self.frequencies() {
            return Ok(());
        }
        self.freqs[..BANDS - 1].copy_from_slice(freqs_hz);
        if self.running && self.smoothing_ms > 0.0 {
            for (split, &f) in self.splits.iter_mut().zip(freqs_hz) {
                let lf = libm::log2(f);
                if split.gliding || lf != split.log2_freq.target() {
                    split.log2_freq.set_target(lf);
                    split.gliding = true;
                    self.moving = true;
                }
            }
        } else {
            self.snap();
        }
        Ok(())
    }

    fn check_frequencies(&self, freqs_hz: &[f64], sample_rate: Option<f64>) -> Result<()> {
        if freqs_hz.len() > BANDS - 1 {
            return Err(Error::CapacityExceeded {
                needed: freqs_hz.len(),
                capacity: BANDS - 1,
            });
        }
        if freqs_hz.len() < BANDS - 1 {
            return Err(Error::Mismatch {
                what: "a crossover of BANDS bands needs BANDS - 1 frequencies",
            });
        }
        let mut prev = MIN_FREQ_HZ;
        for (i, &f) in freqs_hz.iter().enumerate() {
            let max = sample_rate.map_or(f64::MAX, |fs| 0.5 * fs);
            if !(f.is_finite() && f >= MIN_FREQ_HZ && (i == 0 || f > prev)) {
                return Err(Error::OutOfRange {
                    param: "freq_hz",
                    value: f,
                    min: prev,
                    max,
                });
            }
            if let Some(fs) = sample_rate {
                Error::check_below_nyquist(f, fs)?;
            }
            prev = f;
        }
        Ok(())
    }

    /// Validates the frequencies at `spec.sample_rate`, redesigns and clears the state.
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`]; [`Error::AboveNyquist`] for a crossover frequency at or
    /// above Nyquist. On error nothing changes.
    pub fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        let freqs = self.freqs;
        self.check_frequencies(&freqs[..BANDS - 1], Some(spec.sample_rate))?;
        self.sample_rate = spec.sample_rate;
        self.prepared = true;
        self.snap();
        self.reset();
        Ok(())
    }

    /// Clears all state (a glide in progress jumps to its target).
    pub fn reset(&mut self) {
        self.snap();
        self.split_state = [[SvfState::ZERO; 2]; BANDS];
        self.comp = [[SvfState::ZERO; BANDS]; BANDS];
        self.running = false;
        self.pos = 0;
    }

    /// SVF coefficients of a split at `freq_hz` (bilinear, pre-warped; frequencies not yet
    /// checked against Nyquist are clamped to 0.49 fs).
    fn split_coeffs(&self, freq_hz: f64) -> SvfCoeffs {
        let f = freq_hz.min(0.49 * self.sample_rate);
        let g = libm::tan(PI * f / self.sample_rate);
        let (m0, m1, m2) = self.order.all_pass_mix();
        SvfCoeffs::from_gk(g, self.order.k(), m0, m1, m2).unwrap_or(SvfCoeffs::IDENTITY)
    }

    /// Jumps every split to its target coefficients.
    fn snap(&mut self) {
        let ramp_ms = self.smoothing_ms;
        for i in 0..BANDS - 1 {
            let c = self.split_coeffs(self.freqs[i]);
            let s = &mut self.splits[i];
            s.c = c;
            s.log2_freq.set_ramp(ramp_ms, self.sample_rate);
            s.log2_freq.set_immediate(libm::log2(self.freqs[i]));
            s.gliding = false;
        }
        self.moving = false;
    }

    /// Advances the glides by one sample: the coefficients are designed exactly for every
    /// sample (a tangent per gliding split), so the time-varying all-pass stays smooth.
    fn advance(&mut self) {
        let mut any = false;
        for i in 0..BANDS - 1 {
            if !self.splits[i].gliding {
                continue;
            }
            let lf = self.splits[i].log2_freq.next();
            let done = !self.splits[i].log2_freq.is_smoothing();
            let f = if done { self.freqs[i] } else { libm::exp2(lf) };
            let c = self.split_coeffs(f);
            let s = &mut self.splits[i];
            s.c = c;
            s.gliding = !done;
            any |= s.gliding;
        }
        self.moving = any;
    }

    /// Splits one frame into `BANDS` bands, lowest first. The bands sum to an all-pass of the
    /// input.
    #[inline]
    pub fn split_frame(&mut self, frame: &[f32; CH]) -> [[f32; CH]; BANDS] {
        self.running = true;
        if self.moving {
            self.advance();
        }
        let mut bands = [[0.0f64; CH]; BANDS];
        let mut rest = frame.map(f64::from);
        let lr4 = self.order == CrossoverOrder::Lr4;
        for j in 0..BANDS - 1 {
            let c = &self.splits[j].c;
            let [s1, s2] = &mut self.split_state[j];
            let (bp, lp) = s1.step(c, rest);
            let mut low = [0.0; CH];
            let mut high = [0.0; CH];
            if lr4 {
                let (_, lp2) = s2.step(c, lp);
                for i in 0..CH {
                    let ap = rest[i] - 2.0 * SQRT_2 * bp[i];
                    low[i] = lp2[i];
                    high[i] = ap - lp2[i];
                }
            } else {
                for i in 0..CH {
                    // high = -(v0 - 2 v1 - v2)
                    low[i] = lp[i];
                    high[i] = 2.0 * bp[i] + lp[i] - rest[i];
                }
            }
            // All-pass compensation of the lower bands for this split.
            for (b, band) in bands.iter_mut().enumerate().take(j) {
                *band = self.comp[b][j].tick(c, *band);
            }
            bands[j] = low;
            rest = high;
        }
        bands[BANDS - 1] = rest;
        self.pos += 1;
        if self.pos.is_multiple_of(SANITIZE_FRAMES) {
            self.sanitize();
        }
        bands.map(|b| b.map(|v| v as f32))
    }

    /// Splits a block: band `b` of frame `n` goes to `bands[b][n]`. Processes as many frames as
    /// the shortest of `input` and the band buffers and returns that number.
    pub fn split_block(
        &mut self,
        input: &[[f32; CH]],
        bands: &mut [&mut [[f32; CH]]; BANDS],
    ) -> usize {
        let n = bands.iter().fold(input.len(), |n, b| n.min(b.len()));
        for (i, frame) in input[..n].iter().enumerate() {
            let out = self.split_frame(frame);
            for (dst, src) in bands.iter_mut().zip(out) {
                dst[i] = src;
            }
        }
        n
    }

    fn sanitize(&mut self) {
        for s in self.split_state.iter_mut().flatten() {
            s.sanitize();
        }
        for s in self.comp.iter_mut().flatten() {
            s.sanitize();
        }
    }

    /// Response of band `band` (0 = lowest) at `freq_hz` Hz, for the target frequencies.
    /// Returns 0 for `band >= BANDS`.
    pub fn band_response(&self, band: usize, freq_hz: f64) -> Complex64 {
        if band >= BANDS {
            return Complex64::new(0.0, 0.0);
        }
        let mut h = Complex64::new(1.0, 0.0);
        for j in 0..BANDS - 1 {
            let c = self.split_coeffs(self.freqs[j]);
            let r = |m0, m1, m2| {
                coeffs_response(
                    &SvfCoeffs { m0, m1, m2, ..c }.to_coeffs(),
                    freq_hz,
                    self.sample_rate,
                )
            };
            let (lp, bp) = (r(0.0, 0.0, 1.0), r(0.0, 1.0, 0.0));
            let (low, ap) = match self.order {
                CrossoverOrder::Lr4 => (lp * lp, 1.0 - 2.0 * SQRT_2 * bp),
                CrossoverOrder::Lr2 => (lp, lp + lp + 2.0 * bp - 1.0),
            };
            let high = ap - low;
            h *= match j.cmp(&band) {
                core::cmp::Ordering::Less => high,
                core::cmp::Ordering::Equal => low,
                core::cmp::Ordering::Greater => ap,
            };
        }
        h
    }

    /// Response of the sum of all bands at `freq_hz` Hz: an all-pass (magnitude 1).
    pub fn sum_response(&self, freq_hz: f64) -> Complex64 {
        (0..BANDS).map(|b| self.band_response(b, freq_hz)).sum()
    }
}
