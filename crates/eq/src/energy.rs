//! Band energies of a signal split by a tree of Linkwitz-Riley 2nd-order crossovers, for
//! spectrum-balance meters.

use crate::crossover::CrossoverOrder;
use crate::eq::SANITIZE_FRAMES;
use crate::svf::{SvfCoeffs, SvfState, WideCoeffs};
use core::f64::consts::PI;
use lathe_core::{Error, Result};

/// Energy (sum of squares) in `BANDS` bands of a mono signal split at `BANDS − 1` ascending
/// frequencies by the same tree of Linkwitz-Riley 2nd-order splits as
/// [`Crossover`](crate::Crossover) with [`CrossoverOrder::Lr2`]: band 0 is the low side of the
/// first split, each further split divides the high side of the one before, the last band is
/// the high side of the last split.
///
/// Only energies are read, so two things a summing crossover needs are left out: the all-pass
/// compensation of the lower bands (an all-pass changes no energy, by Parseval's theorem), and
/// time alignment. The splits run as a *wavefront*: split `j` processes, at each frame, the
/// high side that split `j − 1` produced one frame earlier, so all splits step together as
/// independent lanes (one vector step per frame instead of a chain of dependent ones). Band
/// `j` therefore lags the input by `j` frames (`j ≤ 1` for the lowest two): energies of the
/// last `BANDS − 2` frames of the last bands arrive only with later input. Every value is
/// otherwise bit-identical to what the same tree computes frame by frame.
///
/// Non-finite input: the state is checked every 64 frames (on a fixed grid) and cleared when
/// not finite; energies then include the non-finite values, so callers replace them first.
///
/// ```
/// use lathe_eq::BandEnergies;
/// let mut bands = BandEnergies::<3>::new(&[200.0, 2_000.0], 48_000.0).unwrap();
/// let tone: Vec<f32> = (0..48_000)
///     .map(|n| (2.0 * core::f64::consts::PI * 1_000.0 * n as f64 / 48_000.0).sin() as f32)
///     .collect();
/// bands.process(&tone);
/// let e = bands.energies();
/// // A 1 kHz tone lands in the middle band.
/// assert!(e[1] > 10.0 * (e[0] + e[2]));
/// ```
#[derive(Debug, Clone)]
pub struct BandEnergies<const BANDS: usize> {
    /// Per lane (split): the split's SVF (the last lane is idle).
    coeffs: WideCoeffs<BANDS>,
    /// Per lane: the high side `hs·ic1 + hl·ic2 + hx·x` straight from the state before the
    /// step and the input (see [`run`](Self::run)).
    hs: [f64; BANDS],
    hl: [f64; BANDS],
    hx: [f64; BANDS],
    state: SvfState<BANDS>,
    /// Input of each lane at the next frame (lane `j > 0`: the high side of lane `j − 1`).
    next: [f64; BANDS],
    energy: [f64; BANDS],
    frames: u64,
}

impl<const BANDS: usize> BandEnergies<BANDS> {
    /// Splits at `freqs_hz` (ascending, `BANDS − 1` of them, each below Nyquist).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for `"bands"` when `freqs_hz` does not hold `BANDS − 1` values or
    /// `BANDS < 2`, for `"freq_hz"` when a frequency is not positive and ascending;
    /// [`Error::AboveNyquist`] at or above half of `sample_rate`.
    pub fn new(freqs_hz: &[f64], sample_rate: f64) -> Result<Self> {
        if BANDS < 2 || freqs_hz.len() != BANDS - 1 {
            return Err(Error::OutOfRange {
                param: "bands",
                value: freqs_hz.len() as f64 + 1.0,
                min: 2.0,
                max: BANDS as f64,
            });
        }
        let mut lanes = [SvfCoeffs::IDENTITY; BANDS];
        let mut last = 0.0;
        for (j, &f) in freqs_hz.iter().enumerate() {
            Error::check_range("freq_hz", f, f64::MIN_POSITIVE.max(last), f64::MAX)?;
            Error::check_below_nyquist(f, sample_rate)?;
            last = f;
            // As `Crossover` does, a split right at Nyquist is designed at 0.49 fs.
            let c = SvfCoeffs::from_gk(
                libm::tan(PI * f.min(0.49 * sample_rate) / sample_rate),
                CrossoverOrder::Lr2.k(),
                0.0,
                0.0,
                1.0,
            )?;
            lanes[j] = c;
        }
        Ok(Self {
            coeffs: WideCoeffs::from_lanes(&lanes),
            hs: lanes.map(|c| 2.0 * c.a1 + c.a2),
            hl: lanes.map(|c| 1.0 - 2.0 * c.a2 - c.a3),
            hx: lanes.map(|c| 2.0 * c.a2 + c.a3 - 1.0),
            state: SvfState::ZERO,
            next: [0.0; BANDS],
            energy: [0.0; BANDS],
            frames: 0,
        })
    }

    /// Clears the state and the energies.
    pub fn reset(&mut self) {
        self.state = SvfState::ZERO;
        self.next = [0.0; BANDS];
        self.energy = [0.0; BANDS];
        self.frames = 0;
    }

    /// Feeds `input` (mono).
    pub fn process(&mut self, input: &[f32]) {
        // Segments between the sanitising frames, so the state stays in registers inside
        // each (a call that may change it would keep it in memory, and every frame would
        // wait for a store and a load on the recursion).
        let mut rest = input;
        while !rest.is_empty() {
            let to_event = SANITIZE_FRAMES - self.frames % SANITIZE_FRAMES;
            let (segment, tail) = rest.split_at((to_event as usize).min(rest.len()));
            self.run(segment);
            self.frames += segment.len() as u64;
            if self.frames % SANITIZE_FRAMES == 0 {
                self.state.sanitize();
            }
            rest = tail;
        }
    }

    /// Frames with no sanitising event among them.
    #[inline(always)]
    fn run(&mut self, input: &[f32]) {
        let (mut st, mut next, mut energy) = (self.state, self.next, self.energy);
        let last = BANDS - 1;
        let (hs, hl, hx) = (self.hs, self.hl, self.hx);
        for &x in input {
            next[0] = f64::from(x);
            // LR2: low = v2, high = -(x - 2 v1 - v2) (the polarity does not change energy).
            // With v1 and v2 written out in the state before the step and the input,
            // high = (2a1 + a2)·ic1 + (1 - 2a2 - a3)·ic2 + (2a2 + a3 - 1)·x: the input reaches
            // it through one multiplication and one addition, so the hand-over from lane to
            // lane (all lanes are one vector) does not wait on the state update.
            let mut high = [0.0f64; BANDS];
            for j in 0..BANDS {
                high[j] = (hs[j] * st.ic1[j] + hl[j] * st.ic2[j]) + hx[j] * next[j];
            }
            // One SVF step on every lane.
            let (_, v2x2) = st.step_wide(&self.coeffs, next);
            for j in 0..last {
                let v2 = 0.5 * v2x2[j];
                energy[j] += v2 * v2;
            }
            energy[last] += high[last - 1] * high[last - 1];
            next[1..].copy_from_slice(&high[..last]);
        }
        (self.state, self.next, self.energy) = (st, next, energy);
    }

    /// Sum of squares per band so far, lowest band first.
    pub fn energies(&self) -> [f64; BANDS] {
        self.energy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Crossover;
    use lathe_core::ProcessSpec;

    #[test]
    fn energies_equal_those_of_the_split_tree() {
        let fs = 48_000.0;
        let edges = [150.0, 1_000.0, 5_000.0];
        let mut tree = [(); 3].map(|_| Crossover::<1, 2>::with_order(CrossoverOrder::Lr2));
        for (s, &f) in tree.iter_mut().zip(&edges) {
            s.set_frequencies(&[f]).unwrap();
            s.prepare(&ProcessSpec::new(fs, 1)).unwrap();
        }
        let mut seed = 9u32;
        let x: [f32; 50_000] = core::array::from_fn(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        });
        let mut want = [0.0f64; 4];
        for &v in &x {
            let mut rest = v;
            for (e, s) in want.iter_mut().zip(tree.iter_mut()) {
                let [[low], [high]] = s.split_frame(&[rest]);
                *e += f64::from(low) * f64::from(low);
                rest = high;
            }
            want[3] += f64::from(rest) * f64::from(rest);
        }
        let mut got = BandEnergies::<4>::new(&edges, fs).unwrap();
        // In blocks of odd sizes, then two frames of silence so the last bands catch up.
        for c in x.chunks(37) {
            got.process(c);
        }
        got.process(&[0.0; 2]);
        for (b, (&g, &w)) in got.energies().iter().zip(&want).enumerate() {
            // The tree rounds each band to f32 on the way out (the wavefront keeps f64) and
            // glides its split frequencies into place over its first frames.
            assert!((g - w).abs() <= 1e-5 * w, "band {b}: {g} vs {w}");
        }
    }

    #[test]
    fn bad_frequencies_are_errors() {
        assert!(BandEnergies::<3>::new(&[200.0], 48_000.0).is_err());
        assert!(BandEnergies::<3>::new(&[2_000.0, 200.0], 48_000.0).is_err());
        assert!(BandEnergies::<2>::new(&[30_000.0], 48_000.0).is_err());
        assert!(BandEnergies::<2>::new(&[-1.0], 48_000.0).is_err());
    }
}
