//! Band energies of a signal split by a tree of Linkwitz-Riley 2nd-order crossovers, for
//! spectrum-balance meters.

use crate::eq::SANITIZE_FRAMES;
use core::f64::consts::PI;
use lathe_core::{Error, Result};

/// Frames between a split and the next one in the wavefront (see [`BandEnergies`]).
const SKEW: usize = 3;

/// Energy (sum of squares) in `BANDS` bands of a mono signal split at `BANDS − 1` ascending
/// frequencies by the same tree of Linkwitz-Riley 2nd-order splits as
/// [`Crossover`](crate::Crossover) with [`CrossoverOrder::Lr2`](crate::CrossoverOrder::Lr2):
/// band 0 is the low side of the first split, each further split divides the high side of the
/// one before, the last band is the high side of the last split.
///
/// **Realisation.** A Linkwitz-Riley 2nd-order split is a first-order Butterworth split
/// applied twice: low `1/(s+1)²`, high `s²/(s+1)²` (the high side's polarity, which a
/// summing crossover flips, changes no energy). The bilinear transform maps that product to
/// the product of the two first-order sections, whose low and high parts share the one real
/// pole `p = (1 − g)/(1 + g)`, `g = tan(π f / fs)`, and sum to the input:
/// `L(z) = g'(1 + z⁻¹)/(1 − p z⁻¹)` with `g' = g/(1 + g)`, `H = 1 − L`. Each split therefore
/// runs three first-order low-passes (`a = L x`, then `L a` for the low side and
/// `(1 − L)(x − a)` for the high side), each in the transposed form `y = g'·u + s` with the
/// state update `s' = p·s + k·u` (`k = g'(1 + p)`): one multiply-add of recursion per frame,
/// 4 cycles with fused multiply-adds, against 12 to 16 for a state-variable step. Magnitude
/// and phase are the state-variable filter's; only the rounding differs (`f64` throughout).
///
/// Only energies are read, so two things a summing crossover needs are left out: the all-pass
/// compensation of the lower bands (an all-pass changes no energy, by Parseval's theorem), and
/// time alignment. The splits run as a *wavefront*: split `j` processes, at each frame, the
/// high side that split `j − 1` produced three frames earlier, so all splits step together as
/// independent lanes (one vector step per frame instead of a chain of dependent ones), and
/// a frame's hand-over (three dependent operations and a move between lanes) overlaps the
/// two frames after it. Band `j` therefore lags the input by `3j` frames and the last band by
/// `3(BANDS − 2)`: energies of the last `3(BANDS − 2)` frames of the upper bands arrive only
/// with later input.
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
    /// Per lane (split; the last lane is idle): `p`, `g'`, `k = g'(1 + p)` and
    /// `c = 1 − g'`.
    coeffs: [[f64; BANDS]; 4],
    /// Per lane, the states of the three sections: of `a = L x`, of the low side `L a`, and
    /// of `e = L d` with `d = x − a` (the high side is `d − e = c·d − se`).
    state: [[f64; BANDS]; 3],
    /// The high sides of the last [`SKEW`] frames, oldest first: lane `j > 0` takes lane
    /// `j − 1`'s from [`SKEW`] frames before as its input.
    recent: [[f64; BANDS]; SKEW],
    /// Per lane `j < BANDS − 1`: the energy of split `j`'s low side; in the last lane, that
    /// of the last split's high side. So the lanes are the bands.
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
        // An idle lane (p = g' = k = 0, c = 1) keeps a zero state; its band is the last
        // split's high side instead.
        let mut coeffs = [[0.0; BANDS]; 4];
        coeffs[3] = [1.0; BANDS];
        let mut last = 0.0;
        for (j, &f) in freqs_hz.iter().enumerate() {
            Error::check_range("freq_hz", f, f64::MIN_POSITIVE.max(last), f64::MAX)?;
            Error::check_below_nyquist(f, sample_rate)?;
            last = f;
            // As `Crossover` does, a split right at Nyquist is designed at 0.49 fs.
            let g = libm::tan(PI * f.min(0.49 * sample_rate) / sample_rate);
            let (p, gain) = ((1.0 - g) / (1.0 + g), g / (1.0 + g));
            coeffs[0][j] = p;
            coeffs[1][j] = gain;
            coeffs[2][j] = gain * (1.0 + p);
            coeffs[3][j] = 1.0 - gain;
        }
        Ok(Self {
            coeffs,
            state: [[0.0; BANDS]; 3],
            recent: [[0.0; BANDS]; SKEW],
            energy: [0.0; BANDS],
            frames: 0,
        })
    }

    /// Clears the state and the energies.
    pub fn reset(&mut self) {
        self.state = [[0.0; BANDS]; 3];
        self.recent = [[0.0; BANDS]; SKEW];
        self.energy = [0.0; BANDS];
        self.frames = 0;
    }

    /// Feeds `input` (mono).
    pub fn process(&mut self, input: &[f32]) {
        self.process_with(input, true);
    }

    /// [`process`](Self::process), on the processor's fastest path when `wide`, else on the
    /// portable one.
    fn process_with(&mut self, input: &[f32], wide: bool) {
        // Segments between the sanitising frames, so the state stays in registers inside
        // each (a call that may change it would keep it in memory, and every frame would
        // wait for a store and a load on the recursion).
        let mut rest = input;
        while !rest.is_empty() {
            let to_event = SANITIZE_FRAMES - self.frames % SANITIZE_FRAMES;
            let (segment, tail) = rest.split_at((to_event as usize).min(rest.len()));
            self.run(segment, wide);
            self.frames += segment.len() as u64;
            if self.frames.is_multiple_of(SANITIZE_FRAMES) {
                let all = self.state.iter().chain(&self.recent).flatten();
                if !all.into_iter().all(|v| v.is_finite()) {
                    self.state = [[0.0; BANDS]; 3];
                    self.recent = [[0.0; BANDS]; SKEW];
                }
            }
            rest = tail;
        }
    }

    /// Frames with no sanitising event among them.
    #[inline(always)]
    fn run(&mut self, input: &[f32], wide: bool) {
        #[cfg(target_arch = "x86_64")]
        if wide && wide::run(self, input) {
            return;
        }
        self.run_portable(input);
    }

    /// [`run`](Self::run) in plain arithmetic.
    #[inline(always)]
    fn run_portable(&mut self, input: &[f32]) {
        let [p, g, k, c] = self.coeffs;
        let [mut sa, mut sl, mut se] = self.state;
        let mut recent = self.recent;
        let mut energy = self.energy;
        let last = BANDS - 1;
        for &input in input {
            let mut x = [0.0f64; BANDS];
            x[0] = f64::from(input);
            x[1..].copy_from_slice(&recent[0][..last]);
            let mut high = [0.0f64; BANDS];
            let mut band = [0.0f64; BANDS];
            for j in 0..BANDS {
                let a = g[j] * x[j] + sa[j];
                let d = x[j] - a;
                high[j] = c[j] * d - se[j];
                band[j] = g[j] * a + sl[j];
                sa[j] = p[j] * sa[j] + k[j] * x[j];
                sl[j] = p[j] * sl[j] + k[j] * a;
                se[j] = p[j] * se[j] + k[j] * d;
            }
            band[last] = high[last - 1];
            for (e, b) in energy.iter_mut().zip(band) {
                *e += b * b;
            }
            recent.copy_within(1.., 0);
            recent[SKEW - 1] = high;
        }
        self.state = [sa, sl, se];
        self.recent = recent;
        self.energy = energy;
    }

    /// Sum of squares per band so far, lowest band first.
    pub fn energies(&self) -> [f64; BANDS] {
        self.energy
    }
}

/// [`BandEnergies::run`] for four bands on x86-64 processors with AVX2 and FMA: the four
/// lanes in one 256-bit register, multiply-adds fused (so the last bits differ from the
/// portable path's).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod wide {
    use super::{BandEnergies, SKEW};
    use core::arch::x86_64::{
        __m256d, _mm256_blend_pd, _mm256_fmadd_pd, _mm256_fmsub_pd, _mm256_loadu_pd, _mm256_mul_pd,
        _mm256_permute4x64_pd, _mm256_set1_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };

    /// Runs `input` through `b` with [`run4`] when it has four bands and the processor has
    /// AVX2 and FMA; false (nothing done) otherwise.
    #[inline(always)]
    pub(super) fn run<const BANDS: usize>(b: &mut BandEnergies<BANDS>, input: &[f32]) -> bool {
        if BANDS != 4 || !crate::avx::detected() {
            return false;
        }
        // SAFETY: `detected()` found AVX2 and FMA, the features `run4` is built for, and
        // every array of `b` holds four `f64` (BANDS == 4).
        unsafe { run4(b, input) };
        true
    }

    /// The loop of [`BandEnergies::run_portable`] on 256-bit registers.
    ///
    /// # Safety
    /// The processor must have AVX2 and FMA, and `BANDS` must be 4.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run4<const BANDS: usize>(b: &mut BandEnergies<BANDS>, input: &[f32]) {
        // SAFETY (every load and store): `BANDS == 4`, so each array is four `f64`.
        let load = |a: &[f64; BANDS]| unsafe { _mm256_loadu_pd(a.as_ptr()) };
        let (p, g) = (load(&b.coeffs[0]), load(&b.coeffs[1]));
        let (k, c) = (load(&b.coeffs[2]), load(&b.coeffs[3]));
        let (mut sa, mut sl, mut se) = (load(&b.state[0]), load(&b.state[1]), load(&b.state[2]));
        let (mut h0, mut h1, mut h2) = (load(&b.recent[0]), load(&b.recent[1]), load(&b.recent[2]));
        let mut energy = load(&b.energy);
        const _: () = assert!(SKEW == 3);
        for &x in input {
            // Lane 0 takes the input, lane j > 0 the high side of lane j − 1.
            let x: __m256d = _mm256_blend_pd::<0b0001>(
                _mm256_permute4x64_pd::<0b10_01_00_00>(h0),
                _mm256_set1_pd(f64::from(x)),
            );
            let a = _mm256_fmadd_pd(g, x, sa);
            let d = _mm256_sub_pd(x, a);
            let high = _mm256_fmsub_pd(c, d, se);
            let low = _mm256_fmadd_pd(g, a, sl);
            sa = _mm256_fmadd_pd(p, sa, _mm256_mul_pd(k, x));
            sl = _mm256_fmadd_pd(p, sl, _mm256_mul_pd(k, a));
            se = _mm256_fmadd_pd(p, se, _mm256_mul_pd(k, d));
            // The bands: the splits' low sides, and the last split's high side in lane 3.
            let band = _mm256_blend_pd::<0b1000>(low, _mm256_permute4x64_pd::<0b10_00_00_00>(high));
            energy = _mm256_fmadd_pd(band, band, energy);
            (h0, h1, h2) = (h1, h2, high);
        }
        let store = |a: &mut [f64; BANDS], v| unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) };
        let [s0, s1, s2] = &mut b.state;
        for (a, v) in [(s0, sa), (s1, sl), (s2, se)] {
            store(a, v);
        }
        let [r0, r1, r2] = &mut b.recent;
        for (a, v) in [(r0, h0), (r1, h1), (r2, h2)] {
            store(a, v);
        }
        store(&mut b.energy, energy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Crossover, CrossoverOrder};
    use lathe_core::ProcessSpec;

    /// Against the same tree of [`Crossover`] splits run frame by frame, at every sample rate
    /// (the lowest split is 150 Hz, so at 384 kHz its pole is 0.9975), on both paths.
    #[test]
    fn energies_equal_those_of_the_split_tree() {
        for fs in [44_100.0, 48_000.0, 192_000.0, 384_000.0] {
            for wide in [true, false] {
                against_the_tree(fs, wide);
            }
        }
    }

    fn against_the_tree(fs: f64, wide: bool) {
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
        // Both followed by silence long enough for every band to ring out, so the totals
        // do not depend on the wavefront's lag.
        let silence = [0.0f32; 20_000];
        let mut want = [0.0f64; 4];
        for &v in x.iter().chain(&silence) {
            let mut rest = v;
            for (e, s) in want.iter_mut().zip(tree.iter_mut()) {
                let [[low], [high]] = s.split_frame(&[rest]);
                *e += f64::from(low) * f64::from(low);
                rest = high;
            }
            want[3] += f64::from(rest) * f64::from(rest);
        }
        let mut got = BandEnergies::<4>::new(&edges, fs).unwrap();
        // In blocks of odd sizes.
        for c in x.chunks(37).chain(silence.chunks(1_000)) {
            got.process_with(c, wide);
        }
        for (b, (&g, &w)) in got.energies().iter().zip(&want).enumerate() {
            // The tree rounds each band to f32 on the way out (the wavefront keeps f64) and
            // glides its split frequencies into place over its first frames.
            assert!(
                (g - w).abs() <= 1e-5 * w,
                "{fs} Hz, wide {wide}, band {b}: {g} vs {w}"
            );
        }
    }

    /// The two paths differ only in rounding (fused multiply-adds).
    #[test]
    fn both_paths_agree() {
        let fs = 48_000.0;
        let mut seed = 5u32;
        let x: [f32; 10_000] = core::array::from_fn(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        });
        let mut a = BandEnergies::<4>::new(&[150.0, 1_000.0, 5_000.0], fs).unwrap();
        let mut b = a.clone();
        a.process_with(&x, true);
        b.process_with(&x, false);
        for (g, w) in a.energies().iter().zip(b.energies()) {
            assert!((g - w).abs() <= 1e-12 * w, "{g} vs {w}");
        }
    }

    /// A non-finite input poisons the energies (callers replace such samples first) but not
    /// the state beyond the next sanitising frame, on both paths.
    #[test]
    fn non_finite_input_is_cleared_at_the_next_event() {
        for wide in [true, false] {
            let mut b = BandEnergies::<4>::new(&[150.0, 1_000.0, 5_000.0], 48_000.0).unwrap();
            let mut x = [0.25f32; 200];
            x[10] = f32::NAN;
            x[11] = f32::INFINITY;
            b.process_with(&x[..64], wide);
            let finite = |b: &BandEnergies<4>| {
                b.state
                    .iter()
                    .chain(&b.recent)
                    .flatten()
                    .all(|v| v.is_finite())
            };
            assert!(finite(&b), "wide {wide}: cleared at frame 64");
            b.process_with(&x[64..], wide);
            assert!(finite(&b));
            b.reset();
            b.process_with(&[0.5; 1_000], wide);
            assert!(b.energies().iter().all(|e| e.is_finite()));
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
