//! A first-order DC-blocking high-pass, two frames per recursion step.

use crate::eq::SANITIZE_FRAMES;
use core::f64::consts::PI;
use lathe_core::{Error, ProcessSpec, Processor, Result};

/// A first-order high-pass for removing DC and subsonic drift: the bilinear transform of
/// `s / (s + ωc)` with the corner pre-warped, `H(z) = b0 (1 − z⁻¹) / (1 − a z⁻¹)` with
/// `K = tan(π fc / fs)`, `b0 = 1 / (1 + K)`, `a = (1 − K) / (1 + K)`: exactly 0 at DC, exactly
/// 1 at Nyquist, −3.01 dB at the corner.
///
/// The state is `f64` (a corner of a few Hz puts the pole within 10⁻³ of the unit circle), and
/// the recursion `y[n] = a y[n − 1] + u[n]` advances two frames per step, so its latency is paid
/// once per pair: frames pair up by their position in the stream (even, odd), the even frame's
/// output is `a Y + u[n]` and the odd one's `a² Y + (a u[n − 1] + u[n])` from the output `Y` of
/// the previous odd frame. Every output is computed the same way whatever the block split.
///
/// Non-finite input is replaced by 0 (documented policy), and the state is flushed of
/// denormals every [`SANITIZE_FRAMES`] frames on a fixed grid. No latency.
///
/// ```
/// use lathe_core::{ProcessSpec, Processor};
/// use lathe_eq::DcBlocker;
/// let mut dc = DcBlocker::<1>::new(5.0);
/// dc.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
/// let mut x = vec![[0.5f32]; 48_000];
/// dc.process(&mut x);
/// // A constant decays to nothing (5 Hz corner: time constant 32 ms).
/// assert!(x[47_999][0].abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct DcBlocker<const CH: usize> {
    freq_hz: f64,
    b0: f64,
    a: f64,
    a2: f64,
    /// Output of the last odd frame.
    y_odd: [f64; CH],
    /// `u` of the last even frame (`b0 (x[n] − x[n − 1])`).
    u_even: [f64; CH],
    x_prev: [f64; CH],
    pos: u64,
}

impl<const CH: usize> DcBlocker<CH> {
    /// A blocker with its corner at `freq_hz` (validated against the sample rate by
    /// [`prepare`](Processor::prepare); designed for 48 kHz until then).
    pub fn new(freq_hz: f64) -> Self {
        let mut s = Self {
            freq_hz,
            b0: 1.0,
            a: 0.0,
            a2: 0.0,
            y_odd: [0.0; CH],
            u_even: [0.0; CH],
            x_prev: [0.0; CH],
            pos: 0,
        };
        s.design(48_000.0);
        s
    }

    /// The corner frequency in Hz.
    pub fn freq_hz(&self) -> f64 {
        self.freq_hz
    }

    /// `b0 (x − x_prev)` for channel `ch`, non-finite input counting as 0.
    #[inline(always)]
    fn u(&mut self, ch: usize, x: f32) -> f64 {
        let x = if x.is_finite() { f64::from(x) } else { 0.0 };
        let u = self.b0 * (x - self.x_prev[ch]);
        self.x_prev[ch] = x;
        u
    }

    /// Processes `frames` (not crossing a flush point).
    #[inline(always)]
    // The channel index also selects the per-channel state.
    #[allow(clippy::needless_range_loop)]
    fn run(&mut self, mut frames: &mut [[f32; CH]]) {
        let (a, a2) = (self.a, self.a2);
        if self.pos & 1 == 1 {
            // Finish the pair an earlier block started.
            let Some((f, tail)) = frames.split_first_mut() else {
                return;
            };
            for ch in 0..CH {
                let u = self.u(ch, f[ch]);
                self.y_odd[ch] = a2 * self.y_odd[ch] + (a * self.u_even[ch] + u);
                f[ch] = self.y_odd[ch] as f32;
            }
            self.pos += 1;
            frames = tail;
        }
        let mut pairs = frames.chunks_exact_mut(2);
        for pair in &mut pairs {
            for ch in 0..CH {
                let u0 = self.u(ch, pair[0][ch]);
                let u1 = self.u(ch, pair[1][ch]);
                let y = self.y_odd[ch];
                pair[0][ch] = (a * y + u0) as f32;
                self.y_odd[ch] = a2 * y + (a * u0 + u1);
                pair[1][ch] = self.y_odd[ch] as f32;
            }
            self.pos += 2;
        }
        if let [f] = pairs.into_remainder() {
            for ch in 0..CH {
                let u = self.u(ch, f[ch]);
                self.u_even[ch] = u;
                f[ch] = (a * self.y_odd[ch] + u) as f32;
            }
            self.pos += 1;
        }
    }

    fn design(&mut self, sample_rate: f64) {
        let k = libm::tan(PI * self.freq_hz.clamp(1e-3, 0.49 * sample_rate) / sample_rate);
        self.b0 = 1.0 / (1.0 + k);
        self.a = (1.0 - k) / (1.0 + k);
        self.a2 = self.a * self.a;
    }
}

impl<const CH: usize> Processor<CH> for DcBlocker<CH> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        Error::check_below_nyquist(self.freq_hz, spec.sample_rate)?;
        self.design(spec.sample_rate);
        self.reset();
        Ok(())
    }

    fn reset(&mut self) {
        self.y_odd = [0.0; CH];
        self.u_even = [0.0; CH];
        self.x_prev = [0.0; CH];
        self.pos = 0;
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        // Runs of whole pairs between the flush grid points; a pair split by a block boundary
        // is finished frame by frame (the same arithmetic either way).
        let mut rest = frames;
        while !rest.is_empty() {
            let to_flush = (SANITIZE_FRAMES - self.pos % SANITIZE_FRAMES) as usize;
            let (now, later) = rest.split_at_mut(rest.len().min(to_flush));
            self.run(now);
            if self.pos.is_multiple_of(SANITIZE_FRAMES) {
                for v in self.y_odd.iter_mut().chain(self.u_even.iter_mut()) {
                    *v = lathe_core::flush_denormal(*v);
                }
            }
            rest = later;
        }
    }

    fn latency(&self) -> usize {
        0
    }
}
