//! The limiter's true-peak detector: the 8x-oversampled signal (a long half-band interpolator
//! to 2x, then the BS.1770-4 Annex 2 style 4x interpolator of `lathe-core`), together with what
//! the loudness meter of the same rate reads, evaluated only where it can matter.
//!
//! Why not the Annex 2 detector alone: its 12-tap interpolator is short, so it under-reads
//! transients with content near Nyquist (abrupt onsets, naive square waves, full-band noise)
//! by up to about 2 dB against a long 8x reference, and its 4x grid under-reads a peak midway
//! between grid points (up to 0.55 dB at 0.45 fs, BS.1770-4 Annex 2). A limiter that promises
//! a ceiling needs a reading at least as high as any meter's. Here the half-band stage (127
//! taps, 64 non-zero per output, Kaiser β = 8) computes the mid-points with near-ideal accuracy
//! up to close to Nyquist; the 2x stream then only holds content below a quarter of its rate,
//! where the 12-tap interpolator does not droop, and reading it at 4x gives the 8x grid (every
//! 1/8 frame) of reference meters. Measured against the independent 64-tap 8x check of
//! `lathe-testkit` on abrupt, full-band signals it reads within about 0.05 dB below and 0.2 dB
//! above it (tested).
//!
//! The reading is also never below the loudness meter's: the points the meter of the same rate
//! interpolates (`lathe-core`'s [`TruePeakDetector`](lathe_core::TruePeakDetector): 4x below
//! 96 kHz, 2x below 192 kHz) are read too, from the same samples. The short meter interpolator
//! can read full-band content a few tenths of a dB *above* the 8x value; taking the larger
//! keeps the limiter's output at or under the ceiling as `lathe-loudness` meters it, so the
//! limiter and the meter agree.
//!
//! # Direct form
//! Both interpolators are linear, so each of the eight points of the interval between frames
//! `k` and `k + 1` is one dot product of the 70 frames around it with a composite kernel
//! (worked out once, in `f64`, from the two stages). The kernel is symmetric, so the point at
//! `k + i/8` and its mirror image at `k + 1 - i/8` come from one sum over the 35 pair sums
//! `x[k - m] + x[k + 1 + m]` and one over the pair differences
//! (`max(|a|, |b|) = (|a + b| + |a - b|) / 2`); the meter's points ride along in spare lanes.
//!
//! # Exact skipping
//! A limiter only needs the readings above its ceiling, and most intervals are provably under
//! it. Any interpolator that reproduces straight lines differs from linear interpolation by a
//! kernel that annihilates them, which therefore factors through the second difference
//! `d²x[t] = x[t] - 2 x[t - 1] + x[t - 2]`: `y(k + φ) = (1 - φ) x[k] + φ x[k + 1] + Σ_j f(j) d²x[k - j]`
//! (plus a remainder of about 0.2 % of the local peak, where the phases do not reproduce a line
//! exactly). Hence every point of an interval is at most
//! `max(|x[k]|, |x[k + 1]|) + Σ_j F(j) |d²x[k - j]| + R · peak`, with `F` the envelope of `|f|`
//! over all phases (sum 0.6) and `R` the remainder's norm. On music the second difference is
//! small (bass and midrange barely bend between samples), so this bound sits within about
//! 0.1 dB of the exact reading, and a limiter pushed 6 dB into its ceiling evaluates the exact
//! points for about one interval in eight. The sum over `j` is taken on a few 8-frame maxima
//! (a coarser, still valid bound), vectorised across frames.
//!
//! [`TruePeak8x`] takes the threshold under which readings may be replaced by such a bound;
//! every reading above it is bit-identical to the fully computed one. A caller that needs only
//! the largest reading of each group of frames ([`TruePeak8x::push_block_grouped`], the
//! limiter's gain computer) also lets it skip an interval whose bound is under a reading
//! already made for the group: one interval in 15 at +6 dB with groups of 8.

use crate::oversampling::half_band_taps;
use lathe_core::true_peak::{design_phase, oversampling_factor, TAPS_PER_PHASE, TAPS_PER_PHASE_2X};

/// `K` of the half-band stage (`4K + 3` taps).
const K: usize = 31;
/// Kaiser β of the half-band stage.
const BETA: f64 = 8.0;
/// Pairs `(x[k - m], x[k + 1 + m])`, `m = 0 .. PAIRS`, an interval's points depend on: the
/// composite kernel reaches 34.4 frames either side of a point.
const PAIRS: usize = 35;
/// Pairs the meter's points depend on, at most (2x: 24 taps).
const METER_PAIRS: usize = TAPS_PER_PHASE_2X / 2;

/// Delay of [`TruePeak8x::push`] in frames: the reading returned when frame `n` is pushed
/// covers the neighbourhood of frame `n - TRUE_PEAK_8X_DELAY`.
pub const TRUE_PEAK_8X_DELAY: usize = PAIRS;

/// Offsets `j` of the bound's kernel (`f(j)` multiplies `d²x[k - j]`): `-PAIRS ..= PAIRS - 1`.
const F_LEN: usize = 2 * PAIRS;
/// The bound's taps `j` taken one by one: `CENTRE_FROM ..= CENTRE_FROM + 7`…
const CENTRE_FROM: isize = -3;
/// …and the rest in eight-frame segments (their first `j`), over the maximum of `|d²x|`.
const SEGMENTS: [isize; 8] = [-35, -27, -19, -11, 5, 13, 21, 29];

/// Frames per block.
const BLOCK: usize = 128;
/// Frames of history kept per channel: everything the oldest interval of a block depends on
/// (its pairs, the segments of its bound and the second difference's two extra frames).
const HIST: usize = 2 * PAIRS + 10;
/// Length of a block buffer (history first).
const LEN: usize = HIST + BLOCK;
/// Buffer position of the first interval (frame `k`) a block reads: the newest frame is
/// `PAIRS` frames after the newest interval.
const FIRST: usize = HIST - PAIRS;
// Every index the bound reads stays inside the buffer.
const _: () = assert!(FIRST as isize - SEGMENTS[SEGMENTS.len() - 1] - 7 >= 2);
const _: () = assert!(FIRST as isize - SEGMENTS[0] <= HIST as isize);

/// Largest absolute value of `x` (NaN ignored), in eight lanes so it vectorises.
#[inline(always)]
fn abs_max(x: &[f32]) -> f32 {
    // `if v > m` (not `f32::max`) compiles to a bare `maxps`: a NaN `v` is ignored.
    #[inline(always)]
    fn keep_max(m: f32, v: f32) -> f32 {
        let v = f32::from_bits(v.to_bits() & 0x7fff_ffff);
        if v > m {
            v
        } else {
            m
        }
    }
    let mut lanes = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = keep_max(*l, v);
        }
    }
    let mut m = 0.0f32;
    for &v in chunks.remainder().iter().chain(lanes.iter()) {
        m = keep_max(m, v);
    }
    m
}

/// The exact readings' dot products: per pair `m`, four lanes of coefficients times the pair
/// sum (or difference), accumulated in pair order.
mod lanes {
    use super::{METER_PAIRS, PAIRS};

    /// Per pair `m`, four lanes of coefficients each.
    #[derive(Debug, Clone)]
    pub(super) struct Tables {
        /// The 8x points over the pair sums (lanes 0–2: the points at 1/8, 2/8 and 3/8 with
        /// their mirror images; lane 3: the point at 4/8)…
        pub sums: [[f32; 4]; PAIRS],
        /// …and over the pair differences (lanes 0–2: the same mirrored points; lane 3: the
        /// meter's quarter points).
        pub diffs: [[f32; 4]; PAIRS],
        /// The meter's points over the pair sums (lane 0: its quarter points with their
        /// mirror images, lane 1: its half point).
        pub meter: [[f32; 4]; METER_PAIRS],
    }

    /// Lanes `Σ_m t.sums[m] · sums[m]`, `Σ_m t.diffs[m] · diffs[m]` and
    /// `Σ_m t.meter[m] · sums[m]`, one SSE register each. (Written out because the
    /// autovectoriser spreads this loop over scalar code; measured 1.5x fewer instructions.)
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    #[inline(always)]
    pub(super) fn dot(
        t: &Tables,
        sums: &[f32; PAIRS],
        diffs: &[f32; PAIRS],
    ) -> ([f32; 4], [f32; 4], [f32; 4]) {
        // SAFETY: `dot_sse` only needs SSE, which this build enables for every function
        // (the `cfg` above), so the CPU running it has it.
        #[allow(unsafe_code)]
        unsafe {
            dot_sse(t, sums, diffs)
        }
    }

    // Pairs split over two accumulators by the parity of `m`.
    const _: () = assert!(METER_PAIRS.is_multiple_of(2));

    /// [`dot`] with SSE intrinsics (no pointer access: every intrinsic used is safe inside a
    /// function compiled for SSE).
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    #[target_feature(enable = "sse")]
    fn dot_sse(
        t: &Tables,
        sums: &[f32; PAIRS],
        diffs: &[f32; PAIRS],
    ) -> ([f32; 4], [f32; 4], [f32; 4]) {
        use core::arch::x86_64::{
            __m128, _mm_add_ps, _mm_cvtss_f32, _mm_mul_ps, _mm_set1_ps, _mm_set_ps, _mm_setzero_ps,
            _mm_shuffle_ps,
        };
        let load = |c: &[f32; 4]| _mm_set_ps(c[3], c[2], c[1], c[0]);
        let store = |v: __m128| {
            [
                _mm_cvtss_f32(v),
                _mm_cvtss_f32(_mm_shuffle_ps::<0b01_01_01_01>(v, v)),
                _mm_cvtss_f32(_mm_shuffle_ps::<0b10_10_10_10>(v, v)),
                _mm_cvtss_f32(_mm_shuffle_ps::<0b11_11_11_11>(v, v)),
            ]
        };
        // Two accumulators per table (even and odd `m`), so the additions overlap.
        let zero = _mm_setzero_ps();
        let (mut e0, mut e1, mut o0, mut o1) = (zero, zero, zero, zero);
        let mac = |acc, c: &[f32; 4], v: f32| _mm_add_ps(acc, _mm_mul_ps(load(c), _mm_set1_ps(v)));
        let (mut m0, mut m1) = (zero, zero);
        for m in (0..METER_PAIRS).step_by(2) {
            m0 = mac(m0, &t.meter[m], sums[m]);
            m1 = mac(m1, &t.meter[m + 1], sums[m + 1]);
        }
        for m in (0..PAIRS / 2 * 2).step_by(2) {
            e0 = mac(e0, &t.sums[m], sums[m]);
            o0 = mac(o0, &t.diffs[m], diffs[m]);
            e1 = mac(e1, &t.sums[m + 1], sums[m + 1]);
            o1 = mac(o1, &t.diffs[m + 1], diffs[m + 1]);
        }
        if PAIRS % 2 == 1 {
            // The last (even) pair.
            e0 = mac(e0, &t.sums[PAIRS - 1], sums[PAIRS - 1]);
            o0 = mac(o0, &t.diffs[PAIRS - 1], diffs[PAIRS - 1]);
        }
        (
            store(_mm_add_ps(e0, e1)),
            store(_mm_add_ps(o0, o1)),
            store(_mm_add_ps(m0, m1)),
        )
    }

    /// The same in plain code (other targets, and the twin the vector form is tested against:
    /// the same products and sums in the same order, so the results are bit-identical).
    #[cfg_attr(all(target_arch = "x86_64", target_feature = "sse"), allow(dead_code))]
    #[inline(always)]
    pub(super) fn dot_scalar(
        t: &Tables,
        sums: &[f32; PAIRS],
        diffs: &[f32; PAIRS],
    ) -> ([f32; 4], [f32; 4], [f32; 4]) {
        let (mut even, mut odd, mut met) = ([[0.0f32; 4]; 2], [[0.0f32; 4]; 2], [[0.0f32; 4]; 2]);
        for m in 0..PAIRS {
            let h = m % 2;
            for l in 0..4 {
                even[h][l] += t.sums[m][l] * sums[m];
                odd[h][l] += t.diffs[m][l] * diffs[m];
                if m < METER_PAIRS {
                    met[h][l] += t.meter[m][l] * sums[m];
                }
            }
        }
        let add = |a: [[f32; 4]; 2]| core::array::from_fn(|l| a[0][l] + a[1][l]);
        (add(even), add(odd), add(met))
    }

    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    pub(super) use dot_scalar as dot;
}

/// The exact readings with AVX2 and fused multiply-adds, on x86-64 processors that have them
/// (detected at run time with `cpufeatures`; others keep [`lanes`]). The tables are transposed:
/// one row of pair coefficients per output lane, so each lane is a dot product over the pairs,
/// eight pairs per instruction, and the eight sums and differences lanes come out of one
/// transposing reduction. Same readings as [`lanes`] up to the order of the additions (a few
/// `f32` ulps); a detector keeps one route for its life, so its readings do not depend on the
/// block split.
#[cfg(target_arch = "x86_64")]
mod wide {
    #![allow(unsafe_code)]

    use super::{lanes, METER_PAIRS, PAIRS};
    use core::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_fmadd_ps,
        _mm256_hadd_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_permute2f128_ps,
        _mm256_permutevar8x32_ps, _mm256_setr_epi32, _mm256_storeu_ps, _mm256_sub_ps, _mm_add_ps,
        _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps,
    };

    /// Pairs rounded up to whole vectors.
    const PADDED: usize = 40;
    const VECTORS: usize = PADDED / 8;
    /// Vectors the meter's pairs take.
    const METER_VECTORS: usize = METER_PAIRS.div_ceil(8);
    const _: () = assert!(PAIRS <= PADDED && PADDED - PAIRS <= 5);

    /// Rows 0–3: the sums table's lanes; 4–7: the differences table's; 8–9: the meter's lanes
    /// 0 and 1. Zero past the pairs each row uses.
    #[derive(Debug, Clone)]
    pub(super) struct Tables {
        rows: [[f32; PADDED]; 10],
        /// The proof of the features, for the block loops' AVX2 builds.
        avx2: crate::wide::Avx2,
    }

    impl Tables {
        /// The transposed tables, when this processor has AVX2 and FMA (the only way to make
        /// them, so holding one proves the features are there).
        pub(super) fn if_detected(t: &lanes::Tables) -> Option<Self> {
            let avx2 = crate::wide::Avx2::detect()?;
            let rows = core::array::from_fn(|row| {
                core::array::from_fn(|m| match row {
                    0..=3 if m < PAIRS => t.sums[m][row],
                    4..=7 if m < PAIRS => t.diffs[m][row - 4],
                    8 | 9 if m < METER_PAIRS => t.meter[m][row - 8],
                    _ => 0.0,
                })
            });
            Some(Self { rows, avx2 })
        }

        /// The token under which the block loops run compiled for AVX2.
        pub(super) fn avx2(&self) -> crate::wide::Avx2 {
            self.avx2
        }

        /// The exact reading of one channel's interval from its window of `2·PAIRS` samples
        /// (the same quantity as the `lanes` route).
        pub(super) fn reading(&self, w: &[f32; 2 * PAIRS]) -> f32 {
            // SAFETY: a `Tables` exists only where `if_detected` found AVX2 and FMA, the
            // features `reading_avx` is compiled for.
            unsafe { reading_avx(self, w) }
        }
    }

    /// Sum of the eight lanes of `v`.
    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        _mm_cvtss_f32(_mm_add_ps(h, _mm_shuffle_ps::<0b01>(h, h)))
    }

    /// `Σ row · x` over the first `n` vectors of `x`, lane by lane (eight partial sums).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn dot(row: &[f32; PADDED], x: &[__m256; VECTORS], n: usize) -> __m256 {
        // Plain indexed loops: iterator adaptors would be outlined without the features.
        let mut acc = _mm256_mul_ps(load(eight(row, 0)), x[0]);
        let mut v = 1;
        while v < n.min(VECTORS) {
            acc = _mm256_fmadd_ps(load(eight(row, 8 * v)), x[v], acc);
            v += 1;
        }
        acc
    }

    /// The eight values of `x` from `at` (zeros past its end).
    #[inline(always)]
    fn eight(x: &[f32], at: usize) -> &[f32; 8] {
        x.get(at..at + 8)
            .and_then(|s| s.try_into().ok())
            .unwrap_or(&[0.0; 8])
    }

    /// Eight values as a register.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn load(v: &[f32; 8]) -> __m256 {
        // SAFETY: the reference covers the eight values read.
        unsafe { _mm256_loadu_ps(v.as_ptr()) }
    }

    /// # Safety
    /// The processor must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn reading_avx(t: &Tables, w: &[f32; 2 * PAIRS]) -> f32 {
        // The window with five zeros either side: pair m is (p[39 - m], p[40 + m]).
        let mut p = [0.0f32; 2 * PAIRS + 10];
        p[5..5 + 2 * PAIRS].copy_from_slice(w);
        let reverse = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
        let mut sums = [load(&[0.0; 8]); VECTORS];
        let mut diffs = sums;
        let mut v = 0;
        while v < VECTORS {
            let late = load(eight(&p, 40 + 8 * v));
            let early = _mm256_permutevar8x32_ps(load(eight(&p, 32 - 8 * v)), reverse);
            sums[v] = _mm256_add_ps(early, late);
            diffs[v] = _mm256_sub_ps(early, late);
            v += 1;
        }
        let r = &t.rows;
        let a = [
            dot(&r[0], &sums, VECTORS),
            dot(&r[1], &sums, VECTORS),
            dot(&r[2], &sums, VECTORS),
            dot(&r[3], &sums, VECTORS),
            dot(&r[4], &diffs, VECTORS),
            dot(&r[5], &diffs, VECTORS),
            dot(&r[6], &diffs, VECTORS),
            dot(&r[7], &diffs, VECTORS),
        ];
        // Transposing reduction: lane l of `lanes` is the sum of a[l]'s eight lanes.
        let t01 = _mm256_hadd_ps(a[0], a[1]);
        let t23 = _mm256_hadd_ps(a[2], a[3]);
        let t45 = _mm256_hadd_ps(a[4], a[5]);
        let t67 = _mm256_hadd_ps(a[6], a[7]);
        let u0 = _mm256_hadd_ps(t01, t23);
        let u1 = _mm256_hadd_ps(t45, t67);
        let lanes = _mm256_add_ps(
            _mm256_permute2f128_ps::<0x20>(u0, u1),
            _mm256_permute2f128_ps::<0x31>(u0, u1),
        );
        let mut eo = [0.0f32; 8];
        // SAFETY: `eo` holds the eight values written.
        unsafe { _mm256_storeu_ps(eo.as_mut_ptr(), lanes) };
        let met0 = hsum(dot(&r[8], &sums, METER_VECTORS));
        let met1 = hsum(dot(&r[9], &sums, METER_VECTORS));
        let (e, o) = (&eo[..4], &eo[4..]);
        let r = w[PAIRS - 1].abs().max(e[3].abs()).max(met1.abs());
        let r = r.max((e[0].abs() + o[0].abs()) * 0.5);
        let r = r.max((e[1].abs() + o[1].abs()) * 0.5);
        let r = r.max((e[2].abs() + o[2].abs()) * 0.5);
        r.max((met0.abs() + o[3].abs()) * 0.5)
    }
}

/// Largest absolute second difference `|x[t] - 2 x[t - 1] + x[t - 2]|` of `x` (NaN ignored), in
/// eight lanes so it vectorises.
#[inline(always)]
fn bend_max(x: &[f32]) -> f32 {
    if x.len() < 3 {
        return 0.0;
    }
    let n = x.len() - 2;
    let (a, b, c) = (&x[2..], &x[1..n + 1], &x[..n]);
    let mut lanes = [0.0f32; 8];
    let bend = |m: f32, a: f32, b: f32, c: f32| {
        let d = (a - 2.0 * b + c).abs();
        if d > m {
            d
        } else {
            m
        }
    };
    let chunks = a
        .chunks_exact(8)
        .zip(b.chunks_exact(8))
        .zip(c.chunks_exact(8));
    for ((a, b), c) in chunks {
        for l in 0..8 {
            lanes[l] = bend(lanes[l], a[l], b[l], c[l]);
        }
    }
    let mut m = lanes.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
    for t in n / 8 * 8..n {
        m = bend(m, a[t], b[t], c[t]);
    }
    m
}

/// The 2x stream of a unit impulse at frame 0 through the half-band stage, at 2x index `p`
/// (time `p / 2` frames): the impulse itself at even indices, the interpolating branch
/// (`2 h`, centred on the mid-points) at odd ones.
fn half_band_impulse(hb: &[f64; 4 * K + 3], p: i64) -> f64 {
    if p.rem_euclid(2) == 0 {
        return if p == 0 { 1.0 } else { 0.0 };
    }
    let idx = 2 * K as i64 + 2 + 2 * (p - 1).div_euclid(2);
    if (0..(4 * K + 3) as i64).contains(&idx) {
        2.0 * hb[idx as usize]
    } else {
        0.0
    }
}

/// The composite 8x kernel `g(q / 8)`: the value at `q / 8` frames of the 8x signal of a unit
/// impulse at frame 0 (half-band to 2x, then the 12-tap 4x interpolator whose phase 0 is the
/// identity).
fn composite(hb: &[f64; 4 * K + 3], phases: &[[f64; TAPS_PER_PHASE]; 4], q: i64) -> f64 {
    let (u, r) = (q.div_euclid(4), q.rem_euclid(4) as usize);
    let centre = (TAPS_PER_PHASE - 1 - TAPS_PER_PHASE / 2) as i64;
    (0..TAPS_PER_PHASE)
        .map(|j| phases[r][j] * half_band_impulse(hb, u + j as i64 - centre))
        .sum()
}

/// Divides `e` (coefficients of `x[k - j]`, `j = -PAIRS ..`, index `j + PAIRS`) by the second
/// difference: writes `f` with `Σ_j e(j) x[k - j] = Σ_j f(j) d²x[k - j] - remainder` and
/// returns the remainder's L1 norm (two terms beyond the end).
fn divide_by_second_difference(e: &[f64; F_LEN], f: &mut [f64; F_LEN]) -> f64 {
    for a in 0..F_LEN {
        let f1 = if a >= 1 { f[a - 1] } else { 0.0 };
        let f2 = if a >= 2 { f[a - 2] } else { 0.0 };
        f[a] = e[a] + 2.0 * f1 - f2;
    }
    libm::fabs(f[F_LEN - 2] - 2.0 * f[F_LEN - 1]) + libm::fabs(f[F_LEN - 1])
}

/// An 8x true-peak detector for `CH` channels that also reads the points the loudness meter
/// of the same rate reads (see the module docs), linked over channels.
///
/// [`push`](Self::push) returns, for frame `c = n - TRUE_PEAK_8X_DELAY`, the largest absolute
/// value of the 8x-oversampled signal and of the meter's points in the two intervals next to
/// the frame (`c - 1 ..= c + 1`, both ends at 1/8-frame resolution), maximised over the
/// channels. [`push_block`](Self::push_block) does the same for a block, bit-identically.
///
/// # Threshold (exact skipping)
/// A caller that only needs the readings above some level (a limiter: above the level where it
/// starts reducing gain) sets it with [`set_threshold`](Self::set_threshold). An interval whose
/// bound (see the module docs; computed with a margin over `f32` rounding) is at or under the
/// threshold is not evaluated and reports the bound instead. Every reading above the threshold
/// is bit-identical to the fully computed one, and every reading at or under it stays at or
/// under it and never below the true reading. The default threshold, 0, evaluates everything
/// but digital silence (whose readings are exactly 0).
///
/// Non-finite input: everything is FIR, so a NaN or infinity leaves the detector after
/// [`TRUE_PEAK_8X_DELAY`] `* 2 + 10` frames; the limiter replaces non-finite samples before
/// they get here.
#[derive(Debug, Clone)]
pub struct TruePeak8x<const CH: usize> {
    /// The exact readings' coefficients (see [`lanes::Tables`]).
    tables: lanes::Tables,
    /// The same, laid out for the AVX2 + FMA evaluation, on processors that have it.
    #[cfg(target_arch = "x86_64")]
    wide: Option<wide::Tables>,
    /// The bound's taps one by one (`j = CENTRE_FROM ..`), each the largest `|f(j)|`.
    centre: [f32; 8],
    /// The bound's segment weights (sums of `|f(j)|` over each segment of [`SEGMENTS`]).
    segments: [f32; SEGMENTS.len()],
    /// Sum of the bound's weights (centre taps and segments: at least the envelope's sum).
    bend_weight: f32,
    /// Remainder term of the bound, relative to the span's sample peak (with the rounding
    /// margin).
    remainder: f32,
    /// Every reading is at most this times the span's sample peak (largest L1 norm of any
    /// point's kernel, with a margin).
    input_bound: f32,
    /// Per channel: the last `HIST` input samples.
    hist: [[f32; HIST]; CH],
    /// The reading of the last interval (`p[c - 1]` for the next frame).
    prev: f32,
    /// Readings at or under this may be replaced by a bound at or under it.
    threshold: f32,
}

impl<const CH: usize> Default for TruePeak8x<CH> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CH: usize> TruePeak8x<CH> {
    /// A cleared detector for 48 kHz, threshold 0 (see
    /// [`for_sample_rate`](Self::for_sample_rate)).
    pub fn new() -> Self {
        Self::for_sample_rate(48_000.0)
    }

    /// A cleared detector for `sample_rate` Hz, threshold 0. The 8x points are the same at
    /// every rate; the meter's points are those `lathe-loudness` interpolates at that rate
    /// (4x below 96 kHz, 2x with 24-tap phases below 192 kHz, none from 192 kHz, where a meter
    /// reads the samples).
    pub fn for_sample_rate(sample_rate: f64) -> Self {
        let mut hb = [0.0f64; 4 * K + 3];
        half_band_taps(K, BETA, &mut hb);
        let mut phases = [[0.0f64; TAPS_PER_PHASE]; 4];
        phases[0][TAPS_PER_PHASE - 1 - TAPS_PER_PHASE / 2] = 1.0;
        for (r, p) in phases.iter_mut().enumerate().skip(1) {
            *p = design_phase::<TAPS_PER_PHASE>(r as f64 / 4.0);
        }
        let g = |q: i64| composite(&hb, &phases, q);
        // Meter phases as (fraction, taps over x[k - j], j = -PAIRS ..): coefficient of
        // x[k - j] is c[centre - j].
        let factor = oversampling_factor(sample_rate);
        let mut meter_phases = [[0.0f64; F_LEN]; 3];
        let mut meter_fracs = [0.0f64; 3];
        let meter_count = factor - 1;
        for r in 1..factor {
            let frac = r as f64 / factor as f64;
            let e = &mut meter_phases[r - 1];
            if factor == 4 {
                let c = design_phase::<TAPS_PER_PHASE>(frac);
                let centre = (TAPS_PER_PHASE - 1 - TAPS_PER_PHASE / 2) as isize;
                for (j, &c) in c.iter().enumerate() {
                    e[(centre - j as isize + PAIRS as isize) as usize] = c;
                }
            } else {
                let c = design_phase::<TAPS_PER_PHASE_2X>(frac);
                let centre = (TAPS_PER_PHASE_2X - 1 - TAPS_PER_PHASE_2X / 2) as isize;
                for (j, &c) in c.iter().enumerate() {
                    e[(centre - j as isize + PAIRS as isize) as usize] = c;
                }
            }
            meter_fracs[r - 1] = frac;
        }
        // The pair tables (see the field docs).
        let mut pair_sums = [[0.0f32; 4]; PAIRS];
        let mut pair_diffs = [[0.0f32; 4]; PAIRS];
        let mut meter = [[0.0f32; 4]; METER_PAIRS];
        let mut l1_max = 1.0f64;
        for i in 1..=4 {
            let mut l1 = 0.0;
            for m in 0..PAIRS {
                let u = g(8 * m as i64 + i);
                let v = g(8 * m as i64 + 8 - i);
                let lane = (i - 1) as usize;
                if i == 4 {
                    pair_sums[m][3] = u as f32;
                } else {
                    pair_sums[m][lane] = (u + v) as f32;
                    pair_diffs[m][lane] = (u - v) as f32;
                }
                l1 += libm::fabs(u) + libm::fabs(v);
            }
            l1_max = l1_max.max(l1);
        }
        for (e, &frac) in meter_phases.iter().zip(&meter_fracs).take(meter_count) {
            // Coefficient of x[k - m] is e[m + PAIRS], of x[k + 1 + m] is e[PAIRS - 1 - m].
            let (u, v) = (|m: usize| e[m + PAIRS], |m: usize| e[PAIRS - 1 - m]);
            let quarter = frac < 0.5;
            if frac > 0.5 {
                continue; // the mirror image of the quarter point, read with it
            }
            for m in 0..METER_PAIRS {
                if quarter {
                    meter[m][0] = (u(m) + v(m)) as f32;
                    pair_diffs[m][3] = (u(m) - v(m)) as f32;
                } else {
                    meter[m][1] = u(m) as f32;
                }
            }
            l1_max = l1_max.max(e.iter().map(|&c| libm::fabs(c)).sum());
        }
        // The bound: deviation from linear interpolation of every point, divided by d².
        let mut envelope = [0.0f64; F_LEN];
        let mut remainder = 0.0f64;
        let mut add_phase = |mut e: [f64; F_LEN], frac: f64| {
            e[PAIRS] -= 1.0 - frac;
            e[PAIRS - 1] -= frac;
            let mut f = [0.0f64; F_LEN];
            remainder = remainder.max(divide_by_second_difference(&e, &mut f));
            for (env, &f) in envelope.iter_mut().zip(&f) {
                *env = env.max(libm::fabs(f));
            }
        };
        for i in 1..8 {
            let mut e = [0.0f64; F_LEN];
            for (a, e) in e.iter_mut().enumerate() {
                let j = a as i64 - PAIRS as i64;
                *e = g(8 * j + i);
            }
            add_phase(e, i as f64 / 8.0);
        }
        for (e, &frac) in meter_phases.iter().zip(&meter_fracs).take(meter_count) {
            add_phase(*e, frac);
        }
        // Margins: coefficients and sums in f32 (relative 2^-24 per operation, at most ~80
        // terms against norms under 2) stay far under 1e-4 of the span's peak.
        let up = |v: f64| (v * (1.0 + 1e-6)) as f32;
        let mut centre = [0.0f32; 8];
        for (t, c) in centre.iter_mut().enumerate() {
            *c = up(envelope[(CENTRE_FROM + t as isize + PAIRS as isize) as usize]);
        }
        let mut segments = [0.0f32; SEGMENTS.len()];
        for (s, &from) in segments.iter_mut().zip(&SEGMENTS) {
            let w: f64 = (0..8)
                .map(|t| from + t)
                .filter(|&j| (-(PAIRS as isize)..PAIRS as isize).contains(&j))
                .map(|j| envelope[(j + PAIRS as isize) as usize])
                .sum();
            *s = up(w);
        }
        // Every tap of the envelope is covered once: by a centre tap or by a segment.
        debug_assert!((-(PAIRS as isize)..PAIRS as isize).all(|j| {
            (CENTRE_FROM..CENTRE_FROM + 8).contains(&j)
                || SEGMENTS.iter().any(|&s| (s..s + 8).contains(&j))
        }));
        let tables = lanes::Tables {
            sums: pair_sums,
            diffs: pair_diffs,
            meter,
        };
        Self {
            #[cfg(target_arch = "x86_64")]
            wide: wide::Tables::if_detected(&tables),
            tables,
            centre,
            segments,
            bend_weight: centre.iter().chain(&segments).sum(),
            remainder: up(remainder + 1e-4),
            input_bound: up(l1_max * 1.001),
            hist: [[0.0; HIST]; CH],
            prev: 0.0,
            threshold: 0.0,
        }
    }

    /// Clears the state (the threshold is kept).
    pub fn reset(&mut self) {
        self.hist = [[0.0; HIST]; CH];
        self.prev = 0.0;
    }

    /// Sets the level (linear amplitude) at or under which readings may be replaced by a
    /// bound at or under it (see the type docs). Negative or NaN values mean 0.
    pub fn set_threshold(&mut self, threshold: f32) {
        self.threshold = if threshold > 0.0 { threshold } else { 0.0 };
    }

    /// The threshold in use (linear amplitude).
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Pushes one frame; returns the linked reading around frame `n - TRUE_PEAK_8X_DELAY`
    /// (linear amplitude).
    pub fn push(&mut self, frame: &[f32; CH]) -> f32 {
        let mut out = [0.0f32];
        self.push_block(core::slice::from_ref(frame), &mut out);
        out[0]
    }

    /// Pushes `frames`; `out[i]` receives what [`push`](Self::push) would return for
    /// `frames[i]`. Only the first `min(frames.len(), out.len())` frames are pushed.
    pub fn push_block(&mut self, frames: &[[f32; CH]], out: &mut [f32]) {
        self.push_block_grouped(frames, out, 1, 0);
    }

    /// [`push_block`](Self::push_block) for a caller that only needs the largest reading of
    /// each group of `group` consecutive frames (a gain computer that runs once per group):
    /// the output frames form groups of `group`, the first of which already had `phase`
    /// frames before this call (`phase < group`). The largest value of every group (of each
    /// group's part in this call) is the same as with `group = 1` when it is above the
    /// threshold, and otherwise at or under it; single values may be bounds under their
    /// group's largest. That lets a heavily limited signal skip most exact readings: within a
    /// group, an interval whose bound is at or under a reading already made for the group is
    /// not evaluated.
    pub fn push_block_grouped(
        &mut self,
        frames: &[[f32; CH]],
        out: &mut [f32],
        group: usize,
        phase: usize,
    ) {
        let group = group.max(1);
        let mut phase = phase % group;
        let n = frames.len().min(out.len());
        for (block, out) in frames[..n].chunks(BLOCK).zip(out[..n].chunks_mut(BLOCK)) {
            let grouping = (group, phase);
            phase = (phase + block.len()) % group;
            #[cfg(target_arch = "x86_64")]
            if let Some(t) = self.wide.as_ref().map(wide::Tables::avx2) {
                t.run(
                    #[inline(always)]
                    || self.run(block, out, grouping),
                );
                continue;
            }
            self.run(block, out, grouping);
        }
    }

    /// The exact reading of the interval starting at buffer position `k`, over the channels.
    #[inline(always)]
    fn exact(&self, bufs: &[[f32; LEN]; CH], k: usize) -> f32 {
        let mut reading = 0.0f32;
        for buf in bufs {
            let w: &[f32; 2 * PAIRS] = buf[k + 1 - PAIRS..k + 1 + PAIRS]
                .try_into()
                .unwrap_or(&[0.0; 2 * PAIRS]);
            reading = reading.max(self.channel_reading(w));
        }
        reading
    }

    /// The exact reading of one channel's interval from the `2·PAIRS` samples around it, on
    /// this detector's route.
    #[inline(always)]
    fn channel_reading(&self, w: &[f32; 2 * PAIRS]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = &self.wide {
            return t.reading(w);
        }
        self.lanes_reading(w)
    }

    /// [`channel_reading`](Self::channel_reading) on the [`lanes`] route.
    #[inline(always)]
    fn lanes_reading(&self, w: &[f32; 2 * PAIRS]) -> f32 {
        let mut sums = [0.0f32; PAIRS];
        let mut diffs = [0.0f32; PAIRS];
        for m in 0..PAIRS {
            let (a, b) = (w[PAIRS - 1 - m], w[PAIRS + m]);
            sums[m] = a + b;
            diffs[m] = a - b;
        }
        // Four lanes per table (one vector register each).
        let (even, odd, met) = lanes::dot(&self.tables, &sums, &diffs);
        let (e, o) = (even.map(f32::abs), odd.map(f32::abs));
        let mut r = w[PAIRS - 1].abs().max(e[3]).max(met[1].abs());
        for l in 0..3 {
            r = r.max((e[l] + o[l]) * 0.5);
        }
        r.max((met[0].abs() + o[3]) * 0.5)
    }

    /// One block: `(group, phase)` as in [`push_block_grouped`](Self::push_block_grouped).
    #[inline(always)]
    fn run(&mut self, frames: &[[f32; CH]], out: &mut [f32], (group, phase): (usize, usize)) {
        let n = frames.len();
        if n == 0 {
            return;
        }
        let mut bufs = [[0.0f32; LEN]; CH];
        // Sample peak of the whole span (history included), over the channels.
        let mut raw = 0.0f32;
        for (ch, buf) in bufs.iter_mut().enumerate() {
            buf[..HIST].copy_from_slice(&self.hist[ch]);
            for (b, f) in buf[HIST..HIST + n].iter_mut().zip(frames) {
                *b = f[ch];
            }
            raw = raw.max(abs_max(&buf[..HIST + n]));
            self.hist[ch].copy_from_slice(&buf[n..n + HIST]);
        }
        // Nothing in this block can reach the threshold: by the L1 norms, …
        let mut skip = raw * self.input_bound;
        // (A sample over the threshold is a reading over it: no bound can skip the block.)
        if skip > self.threshold && raw <= self.threshold {
            // … or by the interval bound with every |d²x| at the span's largest.
            let bend = bufs
                .iter()
                .fold(0.0f32, |m, buf| m.max(bend_max(&buf[..HIST + n])));
            skip = raw + self.bend_weight * bend + raw * self.remainder;
        }
        if skip <= self.threshold {
            out.fill(skip.max(self.prev));
            self.prev = skip;
            return;
        }
        let len = HIST + n;
        // Over the channels: |x| and |d²x| per buffer position.
        let mut level = [0.0f32; LEN];
        let mut bend = [0.0f32; LEN];
        for buf in &bufs {
            for t in 2..len {
                // `f32::max` (NaN ignored) stores every value: a select between the new and
                // the old value would become a masked store, which is slow on some processors.
                let d2 = (buf[t] - 2.0 * buf[t - 1] + buf[t - 2]).abs();
                bend[t] = bend[t].max(d2);
                level[t] = level[t].max(buf[t].abs());
            }
        }
        // Maxima of |d²x| over eight positions: bend8[t] = max bend[t ..= t + 7].
        let mut bend2 = [0.0f32; LEN];
        let mut bend8 = [0.0f32; LEN];
        for t in 0..len - 1 {
            bend2[t] = bend[t].max(bend[t + 1]);
        }
        let mut bend4 = [0.0f32; LEN];
        for t in 0..len - 3 {
            bend4[t] = bend2[t].max(bend2[t + 2]);
        }
        for t in 0..len - 7 {
            bend8[t] = bend4[t].max(bend4[t + 4]);
        }
        // The bound of each interval (see the module docs).
        let rest = raw * self.remainder;
        // Eight intervals at a time (one vector), every tap accumulated in registers; past
        // `n` the lanes compute values nobody reads (every index stays in the buffers).
        let mut bound = [0.0f32; BLOCK];
        for (c, chunk) in bound.chunks_exact_mut(8).enumerate().take(n.div_ceil(8)) {
            let at = |v: &[f32; LEN], from: usize| -> [f32; 8] {
                let from = from + 8 * c;
                v.get(from..from + 8)
                    .and_then(|s| s.try_into().ok())
                    .unwrap_or([0.0; 8])
            };
            let (here, next) = (at(&level, FIRST), at(&level, FIRST + 1));
            let mut acc: [f32; 8] = core::array::from_fn(|l| here[l].max(next[l]) + rest);
            for (t, &w) in self.centre.iter().enumerate() {
                let v = at(&bend, (FIRST as isize - CENTRE_FROM - t as isize) as usize);
                for l in 0..8 {
                    acc[l] += w * v[l];
                }
            }
            for (&w, &seg) in self.segments.iter().zip(&SEGMENTS) {
                let v = at(&bend8, (FIRST as isize - seg - 7) as usize);
                for l in 0..8 {
                    acc[l] += w * v[l];
                }
            }
            chunk.copy_from_slice(&acc);
        }
        let bound = &bound[..n];
        // The intervals' readings: interval `i` lies between frames `i` and `i + 1`; the
        // frame's reading covers intervals `i - 1` and `i`.
        let thr = self.threshold;
        let mut p = [0.0f32; BLOCK];
        let p = &mut p[..n];
        if group == 1 {
            for (i, (p, &b)) in p.iter_mut().zip(bound.iter()).enumerate() {
                *p = if b <= thr {
                    b
                } else {
                    self.exact(&bufs, FIRST + i)
                };
            }
        } else {
            p.copy_from_slice(bound);
            let mut evaluated = [false; BLOCK];
            let mut start = 0;
            let mut pos = phase;
            while start < n {
                let end = n.min(start + group - pos);
                // The group's frames here are `start .. end`. Interval `end - 1` is shared
                // with the next group when this one completes here: exact if over the
                // threshold, like every interval before `start`. The others serve this
                // group only: evaluated, largest bound first, only while a bound exceeds
                // both the threshold and every reading made for the group.
                let mut made = if start > 0 { p[start - 1] } else { 0.0 };
                let mut inner = end;
                if end - start == group - pos {
                    inner = end - 1;
                    if bound[inner] > thr {
                        p[inner] = self.exact(&bufs, FIRST + inner);
                        made = made.max(p[inner]);
                    }
                }
                loop {
                    let floor = thr.max(made);
                    let mut best = None;
                    let mut most = floor;
                    for (i, &b) in bound.iter().enumerate().take(inner).skip(start) {
                        if b > most && !evaluated[i] {
                            most = b;
                            best = Some(i);
                        }
                    }
                    let Some(i) = best else { break };
                    evaluated[i] = true;
                    p[i] = self.exact(&bufs, FIRST + i);
                    made = made.max(p[i]);
                }
                start = end;
                pos = 0;
            }
        }
        let mut prev = self.prev;
        for (o, &p) in out[..n].iter_mut().zip(p.iter()) {
            *o = if prev > p { prev } else { p };
            prev = p;
        }
        self.prev = prev;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grouped pushing: every value is at least the exact reading, and each group's largest
    /// value is the exact largest reading when that is above the threshold (bit-identical),
    /// at or under the threshold otherwise; for any phase and block split.
    #[test]
    fn grouped_readings_keep_each_groups_largest_exact() {
        let n = 4_000;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut x = std::vec::Vec::with_capacity(n);
        for i in 0..n {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            let t = i as f32 / 48_000.0;
            let tone = (2.0 * core::f32::consts::PI * 3_000.0 * t).sin();
            let level = if (i / 500) % 2 == 0 { 1.2 } else { 0.3 };
            x.push([
                level * (0.8 * tone + 0.4 * noise),
                level * (0.6 * tone - 0.5 * noise),
            ]);
        }
        let mut full = TruePeak8x::<2>::new();
        let mut exact = std::vec![0.0f32; n];
        full.push_block(&x, &mut exact);
        let threshold = 0.7f32;
        for (group, phase, split) in [(4, 0, 128), (4, 3, 37), (4, 1, 5), (3, 2, 64), (8, 5, 200)] {
            let mut d = TruePeak8x::<2>::new();
            d.set_threshold(threshold);
            let mut got = std::vec![0.0f32; n];
            let mut ph = phase;
            for (c, o) in x.chunks(split).zip(got.chunks_mut(split)) {
                d.push_block_grouped(c, o, group, ph);
                ph = (ph + c.len()) % group;
            }
            for (i, (&g, &e)) in got.iter().zip(&exact).enumerate() {
                assert!(g >= e, "frame {i}: {g} under the exact {e}");
            }
            // Groups: the first has `phase` frames before frame 0.
            let mut start = 0;
            let mut len = group - phase;
            while start < n {
                let end = n.min(start + len);
                let g = got[start..end].iter().fold(0.0f32, |m, &v| m.max(v));
                let e = exact[start..end].iter().fold(0.0f32, |m, &v| m.max(v));
                if e > threshold {
                    assert_eq!(g, e, "group {group} phase {phase} at {start}");
                } else {
                    assert!(g <= threshold, "group at {start}: {g} over the threshold");
                }
                start = end;
                len = group;
            }
        }
    }

    #[test]
    fn delay_is_where_an_impulse_shows_up() {
        let mut d = TruePeak8x::<1>::new();
        let mut first = None;
        for n in 0..200 {
            let x = if n == 50 { 0.5 } else { 0.0 };
            let p = d.push(&[x]);
            if first.is_none() && p >= 0.5 {
                first = Some(n);
            }
        }
        // The reading of frame c covers c - 1 ..= c + 1; the interval before the impulse only
        // reaches its ringing (under 0.5), so the first reading that sees its value is frame
        // 50's.
        assert_eq!(first, Some(50 + TRUE_PEAK_8X_DELAY));
    }

    #[test]
    fn the_composite_kernel_interpolates() {
        // Phase 0 passes the samples; the kernel is symmetric and ends inside the pairs.
        let mut hb = [0.0f64; 4 * K + 3];
        half_band_taps(K, BETA, &mut hb);
        let mut phases = [[0.0f64; TAPS_PER_PHASE]; 4];
        phases[0][TAPS_PER_PHASE - 1 - TAPS_PER_PHASE / 2] = 1.0;
        for (r, p) in phases.iter_mut().enumerate().skip(1) {
            *p = design_phase::<TAPS_PER_PHASE>(r as f64 / 4.0);
        }
        for q in -400i64..=400 {
            let g = composite(&hb, &phases, q);
            if q % 8 == 0 {
                assert_eq!(g, if q == 0 { 1.0 } else { 0.0 }, "q {q}");
            }
            assert!((g - composite(&hb, &phases, -q)).abs() < 1e-12, "q {q}");
            if q.abs() >= 8 * PAIRS as i64 {
                assert_eq!(g, 0.0, "q {q}");
            }
        }
    }

    /// The AVX2 + FMA route reads what the SSE route reads, up to the order of the additions,
    /// on random windows from full scale down to -60 dB.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_wide_route_matches_the_lanes_route() {
        let d = TruePeak8x::<1>::for_sample_rate(48_000.0);
        let Some(t) = wide::Tables::if_detected(&d.tables) else {
            return;
        };
        let mut seed = 11u32;
        let mut worst = 0.0f32;
        for i in 0..2_000 {
            let scale = [1.0, 0.1, 0.001][i % 3];
            let w: [f32; 2 * PAIRS] = core::array::from_fn(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0) * scale
            });
            let (a, b) = (t.reading(&w), d.lanes_reading(&w));
            let rel = (a - b).abs() / b;
            worst = worst.max(rel);
            assert!(rel < 2e-6, "window {i}: {a} vs {b}");
        }
        // And the comparison can fail: the routes do round differently.
        assert!(worst > 0.0);
    }

    #[test]
    fn vector_dot_products_match_the_plain_twin() {
        let d = TruePeak8x::<1>::for_sample_rate(44_100.0);
        let mut seed = 3u32;
        for _ in 0..50 {
            let mut next = || {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            };
            let sums: [f32; PAIRS] = core::array::from_fn(|_| next());
            let diffs: [f32; PAIRS] = core::array::from_fn(|_| next());
            let a = lanes::dot(&d.tables, &sums, &diffs);
            let b = lanes::dot_scalar(&d.tables, &sums, &diffs);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn reads_an_intersample_peak() {
        // fs/4 at 45 degrees: samples at 0.707 of the crest.
        let mut d = TruePeak8x::<1>::new();
        let mut m = 0.0f32;
        for n in 0..2000 {
            let x =
                libm::sin(core::f64::consts::FRAC_PI_2 * n as f64 + core::f64::consts::FRAC_PI_4);
            let fade = (n as f64 / 200.0).min(1.0);
            let p = d.push(&[(0.5 * fade * x) as f32]);
            if n > 500 {
                m = m.max(p);
            }
        }
        assert!((m - 0.5).abs() < 0.001, "{m}");
    }

    #[test]
    fn readings_cover_the_meter_of_the_same_rate() {
        // White noise with bursts, so both the skip paths and the full path run; every 8x
        // reading must be at least the rate's own BS.1770-4 meter reading of that frame.
        for fs in [44_100.0, 48_000.0, 96_000.0, 176_400.0, 192_000.0] {
            let mut seed = 7u64;
            let mut x = [[0.0f32; 2]; 3_000];
            for (n, f) in x.iter_mut().enumerate() {
                let g = if (n / 400) % 2 == 0 { 0.9 } else { 0.01 };
                for s in f.iter_mut() {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    *s = g * (((seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0);
                }
            }
            let mut meter = lathe_core::TruePeakDetector::<2>::new(fs);
            let delay = meter.latency();
            let metered: [f32; 3_000] = core::array::from_fn(|i| meter.push_max(&x[i]));
            for threshold in [0.0f32, 0.5] {
                let mut d = TruePeak8x::<2>::for_sample_rate(fs);
                d.set_threshold(threshold);
                let mut got = [0.0f32; 3_000];
                for (c, o) in x.chunks(37).zip(got.chunks_mut(37)) {
                    d.push_block(c, o);
                }
                // The meter's reading pushed with frame m covers the interval before frame
                // m - delay; ours pushed with frame n covers both intervals next to frame
                // n - TRUE_PEAK_8X_DELAY.
                for (n, &g) in got.iter().enumerate().skip(TRUE_PEAK_8X_DELAY) {
                    let frame = n - TRUE_PEAK_8X_DELAY;
                    let m = metered[(frame + delay).min(2_999)];
                    // Both sum in f32, in different orders: a few units in the last place.
                    if m > threshold {
                        assert!(
                            g >= m * (1.0 - 1e-6),
                            "{fs} Hz frame {frame}: {g} < meter {m}"
                        );
                    }
                }
            }
        }
    }
}
