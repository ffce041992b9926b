//! The stereo still path with AVX2 and FMA, on x86-64 processors that have them (detected at
//! run time with `cpufeatures`; other processors keep the SSE2 kernel of [`crate::fast`]).
//!
//! Same cascade, same skewed wavefront and sanitising events as the SSE2 kernel (see
//! [`crate::fast`]); what changes is the layout and the arithmetic:
//!
//! - **Channels in halves.** A 256-bit register holds four `f32` sections of channel 0 in its
//!   lower 128-bit half and the same four sections of channel 1 in its upper half. With `K`
//!   such packs, element `e` of pack `k` is `f32` section `k + e·K`: pack `k` reads what pack
//!   `k − 1` wrote in the step before, element for element, and pack 0 reads pack `K − 1`
//!   moved up by one element, with the stage's input coming in at element 0. That move stays
//!   inside each half (one `vpalignr`, 1 cycle), so no value crosses between the halves in
//!   the recursion. An odd number of `f32` sections is padded with exact pass-throughs
//!   (`y = 1·x`, state 0).
//! - **Fused multiply-adds.** Each `f32` section is the scaled-state form with its output
//!   part carried as state (see [`step_f`]): 7 multiply-adds or multiplications and 2
//!   additions per step, every recursion of the state 7 cycles of latency.
//! - **`f64` sections in direct form** ([`Direct`]): `u = x − al1·u1 − al2·u2`,
//!   `y = d·x + k1·u1 + k2·u2`, one section (both channels) per 128-bit register. Four
//!   multiply-adds and a multiplication instead of six multiply-class operations and two
//!   additions, and a recursion of one multiply-add (4 cycles) instead of 7. The state carries over whole in both
//!   directions ([`FastSection::enter_direct`]): the map to the scaled state has determinant
//!   `q·A(1) > 0` for every stable section, whatever its numerator (a 0 dB band keeps its
//!   history). Its rounding noise grows towards the lowest, sharpest corners, where `u` is
//!   about `1/A(1)` times the signal: measured against the scaled-state `f64` sections over
//!   10–250 Hz, Q 0.1–40, ±24 dB and 44.1–192 kHz, the outputs differ by -151 dB at worst
//!   (10 Hz, Q 40 at 192 kHz; that is the `f32` output rounding differently here and there)
//!   and are mostly bit-identical.
//! - **Shuffles by hand.** The three lane moves of a step (the `f64` output spread into the
//!   packs' input lanes, the move up by one element, the last section's outputs gathered)
//!   are one instruction each (`vpermps`, `vpalignr`, `vpermps`), written as inline assembly:
//!   the compiler otherwise rewrites them into longer sequences, one of them on the packs'
//!   recursion.
//! - **Input cleared piece by piece.** Non-finite input is silence (the equaliser's policy).
//!   This kernel clears it itself, each piece (at most 64 frames) right before the steps
//!   that read it, eight samples per comparison: the input is scanned while it is in the
//!   cache instead of in a pass of its own over the whole block.
//! - **Fill and drain as plain steps.** In the first and last `s − 1` steps of a block some
//!   sections have no frame. Every lane computes anyway: a section's state is put back to the
//!   block's starting state right before its first step and kept right after its last, and
//!   nothing a started section reads comes from an idle one. Blocks shorter than `s − 1`
//!   frames keep the idle sections' state with blends whose masks come from one comparison
//!   of each lane's section index. The sanitising event is straight register code that only
//!   leaves the registers when something is not finite.
//!
//! A fused multiply-add rounds once where a product and a sum round twice, so this kernel's
//! output differs from the SSE2 kernel's in the last bits (measured: at most a few `f32` ulps
//! of the output, -134 dB or lower relative to the signal). Each equaliser always takes the same
//! route on a given processor, so its output is bit-identical for any block split.

#![allow(unsafe_code)]

use crate::fast::{sanitize_phase, Direct, FastSection, Fc, DENORMAL_F32};
use core::arch::x86_64::{
    __m128, __m128d, __m256, __m256i, _mm256_add_ps, _mm256_and_si256, _mm256_andnot_ps,
    _mm256_blendv_ps, _mm256_castps128_ps256, _mm256_castps_si256, _mm256_castsi256_ps,
    _mm256_cmp_ps, _mm256_cmpeq_epi32, _mm256_cmpgt_epi32, _mm256_fmadd_ps, _mm256_movemask_ps,
    _mm256_mul_ps, _mm256_or_si256, _mm256_set1_epi32, _mm256_set1_ps, _mm256_setr_epi32,
    _mm256_setr_ps, _mm256_setzero_ps, _mm256_setzero_si256, _mm256_sub_ps, _mm256_testz_si256,
    _mm_add_pd, _mm_andnot_pd, _mm_blendv_pd, _mm_castsi128_pd, _mm_cmplt_pd, _mm_cmpneq_pd,
    _mm_cvtpd_ps, _mm_cvtps_pd, _mm_cvtsd_f64, _mm_fmadd_pd, _mm_movemask_pd, _mm_mul_pd,
    _mm_set1_epi64x, _mm_set1_pd, _mm_setr_ps, _mm_setzero_pd, _mm_unpackhi_pd, _CMP_LT_OQ,
    _CMP_NEQ_UQ,
};

cpufeatures::new!(avx2_fma, "avx2", "fma");

/// True when this processor runs the AVX2 + FMA kernel.
pub(crate) fn detected() -> bool {
    avx2_fma::init().get()
}

/// Largest number of `f64` sections before `f32` packs.
pub(crate) const MAX_DOUBLE_WITH_PACKS: usize = 4;
/// Largest number of `f32` packs (four sections per channel each).
pub(crate) const MAX_PACKS: usize = 2;
/// Largest number of `f64` sections of an all-`f64` cascade.
pub(crate) const MAX_DOUBLE_ALONE: usize = 8;
/// `f32` sections per pack and channel.
const PER_PACK: usize = 4;

/// The AVX kernel's packed coefficients for one cascade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AvxPlan {
    /// Sections in `f64` (a prefix).
    doubles: usize,
    /// Sections in `f32` (the rest), before padding.
    singles: usize,
    /// Each `f64` section's coefficients, in direct form.
    d: [Direct<f64>; MAX_DOUBLE_ALONE],
    /// Each pack's coefficients, per element (the same for both halves).
    f: [Fc<[f32; PER_PACK]>; MAX_PACKS],
    /// Each pack's `(k1, k2)` of the carried output part (see [`step_f`]).
    k: [[[f32; PER_PACK]; 2]; MAX_PACKS],
    /// Each pack's state `(w, i2, sy)` in register layout, kept here between blocks with the
    /// padding lanes' (the sections' own lanes are also written back to the sections): a
    /// padding section is a pass-through only while its input is finite (`0·∞` is NaN), so
    /// its state must live on like any other for blocks to split exactly.
    packs: [[[f32; 8]; 3]; MAX_PACKS],
}

impl AvxPlan {
    /// Coefficients of a pass-through section.
    const IDENTITY: Fc<f32> = Fc {
        p11: 0.0,
        q: 0.0,
        a3: 0.0,
        d: 1.0,
        cw: 0.0,
        c2: 0.0,
    };

    /// The plan for `secs`, whose first `doubles` sections run in `f64`, when the kernel has
    /// an instance for that layout.
    pub fn build<const CH: usize>(secs: &mut [FastSection<CH>], doubles: usize) -> Option<Self> {
        let singles = secs.len() - doubles;
        let packs = singles.div_ceil(PER_PACK);
        let fits = if packs == 0 {
            (1..=MAX_DOUBLE_ALONE).contains(&doubles)
        } else {
            packs <= MAX_PACKS && doubles <= MAX_DOUBLE_WITH_PACKS
        };
        if CH != 2 || !fits {
            return None;
        }
        let mut plan = Self {
            doubles,
            singles,
            d: [Direct::default(); MAX_DOUBLE_ALONE],
            f: [Fc::splat([0.0; PER_PACK]); MAX_PACKS],
            k: [[[0.0; PER_PACK]; 2]; MAX_PACKS],
            packs: [[[0.0; 8]; 3]; MAX_PACKS],
        };
        for (d, s) in plan.d.iter_mut().zip(secs[..doubles].iter_mut()) {
            *d = s.direct_coeffs();
            s.enter_direct();
        }
        let f = &secs[doubles..];
        for (k, pack) in plan.f.iter_mut().enumerate().take(packs) {
            let at = |e: usize| f.get(k + e * packs).map_or(Self::IDENTITY, |s| s.c32);
            let c: [Fc<f32>; PER_PACK] = core::array::from_fn(at);
            // k1 = cw·q + c2·a3, k2 = cw·p11 + c2, from the f64 design.
            let c64 = |e: usize| f.get(k + e * packs).map(|s| s.c64);
            plan.k[k] = [
                core::array::from_fn(|e| c64(e).map_or(0.0, |c| (c.cw * c.q + c.c2 * c.a3) as f32)),
                core::array::from_fn(|e| c64(e).map_or(0.0, |c| (c.cw * c.p11 + c.c2) as f32)),
            ];
            *pack = Fc {
                p11: c.map(|c| c.p11),
                q: c.map(|c| c.q),
                a3: c.map(|c| c.a3),
                d: c.map(|c| c.d),
                cw: c.map(|c| c.cw),
                c2: c.map(|c| c.c2),
            };
        }
        for (k, state) in plan.packs.iter_mut().enumerate().take(packs) {
            for e in 0..PER_PACK {
                if let Some(sec) = f.get(k + e * packs) {
                    for ch in 0..2 {
                        let l = lane(ch, e);
                        state[0][l] = sec.w[ch] as f32;
                        state[1][l] = sec.i2[ch] as f32;
                        state[2][l] = sec.sy[ch] as f32;
                    }
                }
            }
        }
        Some(plan)
    }

    /// Number of `f32` packs.
    fn packs(&self) -> usize {
        self.singles.div_ceil(PER_PACK)
    }

    /// Runs `frames` through the cascade `secs` (the sections this plan was built for);
    /// `frames[0]` is frame `first` counted from `prepare`/`reset`.
    pub fn process<const CH: usize>(
        &mut self,
        secs: &mut [FastSection<CH>],
        frames: &mut [[f32; CH]],
        first: u64,
    ) {
        if CH != 2 || frames.is_empty() || secs.len() != self.doubles + self.singles {
            return;
        }
        macro_rules! dispatch {
            ($(($p:literal, $k:literal)),* $(,)?) => {
                match (self.doubles, self.packs()) {
                    // SAFETY: an `AvxPlan` exists only where `detected()` found AVX2 and FMA
                    // (see `Plan::build`), the only features `stereo` is compiled for.
                    $(($p, $k) => unsafe { stereo::<CH, $p, $k>(self, secs, frames, first) },)*
                    _ => {}
                }
            };
        }
        dispatch!(
            (1, 0),
            (2, 0),
            (3, 0),
            (4, 0),
            (5, 0),
            (6, 0),
            (7, 0),
            (8, 0),
            (0, 1),
            (1, 1),
            (2, 1),
            (3, 1),
            (4, 1),
            (0, 2),
            (1, 2),
            (2, 2),
            (3, 2),
            (4, 2),
        );
    }
}

/// Coefficients in registers.
#[derive(Clone, Copy)]
struct Coeffs<const P: usize, const K: usize> {
    d: [Direct<__m128d>; P],
    f: [Fc<__m256>; K],
    /// `(k1, k2)` per pack.
    k: [[__m256; 2]; K],
    /// Each pack's section index per lane (`P + k + e·K` in element `e` of both halves).
    idx: [__m256i; K],
}

/// The registers of the wavefront: each section's last output (the values in flight) and
/// its state.
#[derive(Clone, Copy)]
struct Regs<const P: usize, const K: usize> {
    yd: [__m128d; P],
    /// The `f64` sections' direct-form state `u[n−1]`, `u[n−2]`.
    u1: [__m128d; P],
    u2: [__m128d; P],
    yf: [__m256; K],
    wf: [__m256; K],
    if_: [__m256; K],
    /// The carried output part `cw·w + c2·i2` of each pack.
    sf: [__m256; K],
}

/// Lane `l` of the pack layout: channel `l / 4`, element `l % 4`.
const fn lane(ch: usize, e: usize) -> usize {
    ch * PER_PACK + e
}

/// The stereo wavefront with `P` `f64` sections and `K` `f32` packs: fill, segments between
/// the sanitising events, drain, as [`crate::fast`]'s SSE2 kernel does them.
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn stereo<const CH: usize, const P: usize, const K: usize>(
    plan: &mut AvxPlan,
    secs: &mut [FastSection<CH>],
    frames: &mut [[f32; CH]],
    first: u64,
) {
    let s = P + PER_PACK * K;
    let n = frames.len();
    if CH != 2 || s == 0 {
        return;
    }
    let phase = sanitize_phase(s);
    let event = |t: usize| (first + t as u64) % 64 == phase;
    let c = coeffs::<P, K>(plan);
    let mut regs = load::<CH, P, K>(secs, &plan.packs);
    // Fill: steps before every section has a frame.
    // Non-finite input is silence (the equaliser's policy): each piece of input is cleared
    // right before the steps that read it, while it is in the cache.
    silence_non_finite(&mut frames[..n.min(s - 1)]);
    if n >= s - 1 {
        fill(&mut regs, &c, frames, first);
    } else {
        edge(&mut regs, &c, frames, 0..s - 1, first);
    }
    // Every section busy.
    let mut t = s - 1;
    while t < n {
        let to_event = (phase + 64 - (first + t as u64) % 64) % 64;
        let end = n.min(t + 1 + to_event as usize);
        silence_non_finite(&mut frames[t..end]);
        segment(&mut regs, &c, frames, t, end);
        t = end;
        if event(t - 1) {
            regs = event_all(regs, t - 1, n);
        }
    }
    // Drain: steps after section 0 has filtered the last frame.
    if n >= s - 1 {
        drain(&mut regs, &c, frames, first);
    } else {
        edge(&mut regs, &c, frames, n.max(s - 1)..n + s - 1, first);
    }
    store(&regs, secs, &mut plan.packs, plan.singles);
}

#[target_feature(enable = "avx2,fma")]
fn coeffs<const P: usize, const K: usize>(plan: &AvxPlan) -> Coeffs<P, K> {
    let mut c = Coeffs {
        d: [Direct {
            na1: _mm_setzero_pd(),
            na2: _mm_setzero_pd(),
            d: _mm_setzero_pd(),
            k1: _mm_setzero_pd(),
            k2: _mm_setzero_pd(),
        }; P],
        f: [Fc::splat(_mm256_setzero_ps()); K],
        k: [[_mm256_setzero_ps(); 2]; K],
        idx: [_mm256_setzero_si256(); K],
    };
    for (k, idx) in c.idx.iter_mut().enumerate() {
        let e = |e: usize| (P + k + e * K) as i32;
        *idx = _mm256_setr_epi32(e(0), e(1), e(2), e(3), e(0), e(1), e(2), e(3));
    }
    for (r, a) in c.d.iter_mut().zip(&plan.d) {
        *r = Direct {
            na1: _mm_set1_pd(a.na1),
            na2: _mm_set1_pd(a.na2),
            d: _mm_set1_pd(a.d),
            k1: _mm_set1_pd(a.k1),
            k2: _mm_set1_pd(a.k2),
        };
    }
    for (r, a) in c.f.iter_mut().zip(&plan.f) {
        *r = Fc {
            p11: both_halves(a.p11),
            q: both_halves(a.q),
            a3: both_halves(a.a3),
            d: both_halves(a.d),
            cw: both_halves(a.cw),
            c2: both_halves(a.c2),
        };
    }
    for (r, a) in c.k.iter_mut().zip(&plan.k) {
        *r = [both_halves(a[0]), both_halves(a[1])];
    }
    c
}

/// The four elements `a` in both halves of a 256-bit register.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn both_halves(a: [f32; PER_PACK]) -> __m256 {
    _mm256_setr_ps(a[0], a[1], a[2], a[3], a[0], a[1], a[2], a[3])
}

/// Lanes of a 256-bit register as an array.
fn lanes8(v: __m256) -> [f32; 8] {
    // SAFETY: both types are 32 bytes of plain floats.
    unsafe { core::mem::transmute::<__m256, [f32; 8]>(v) }
}

/// An array as a 256-bit register.
fn from_lanes8(a: [f32; 8]) -> __m256 {
    // SAFETY: both types are 32 bytes of plain floats.
    unsafe { core::mem::transmute::<[f32; 8], __m256>(a) }
}

/// Lanes of a 128-bit `f64` register as an array.
fn lanes2(v: __m128d) -> [f64; 2] {
    // SAFETY: both types are 16 bytes of plain floats.
    unsafe { core::mem::transmute::<__m128d, [f64; 2]>(v) }
}

/// An array as a 128-bit `f64` register.
fn from_lanes2(a: [f64; 2]) -> __m128d {
    // SAFETY: both types are 16 bytes of plain floats.
    unsafe { core::mem::transmute::<[f64; 2], __m128d>(a) }
}

/// The state of `secs` (`singles` of them in `f32`), nothing in flight.
fn load<const CH: usize, const P: usize, const K: usize>(
    secs: &[FastSection<CH>],
    packs: &[[[f32; 8]; 3]; MAX_PACKS],
) -> Regs<P, K> {
    let d = |v: &[f64; CH]| from_lanes2([v[0], v[1]]);
    Regs {
        yd: [from_lanes2([0.0; 2]); P],
        u1: core::array::from_fn(|j| d(&secs[j].u[0])),
        u2: core::array::from_fn(|j| d(&secs[j].u[1])),
        yf: [from_lanes8([0.0; 8]); K],
        wf: core::array::from_fn(|k| from_lanes8(packs[k][0])),
        if_: core::array::from_fn(|k| from_lanes8(packs[k][1])),
        sf: core::array::from_fn(|k| from_lanes8(packs[k][2])),
    }
}

/// Writes the state back to `secs` and the packs' to `packs`.
fn store<const CH: usize, const P: usize, const K: usize>(
    regs: &Regs<P, K>,
    secs: &mut [FastSection<CH>],
    packs: &mut [[[f32; 8]; 3]; MAX_PACKS],
    singles: usize,
) {
    for (j, sec) in secs.iter_mut().enumerate().take(P) {
        sec.u[0][..2].copy_from_slice(&lanes2(regs.u1[j]));
        sec.u[1][..2].copy_from_slice(&lanes2(regs.u2[j]));
    }
    for (k, pack) in packs.iter_mut().enumerate().take(K) {
        let (w, i2, sy) = (lanes8(regs.wf[k]), lanes8(regs.if_[k]), lanes8(regs.sf[k]));
        *pack = [w, i2, sy];
        for e in 0..PER_PACK {
            let i = k + e * K;
            if i < singles {
                let sec = &mut secs[P + i];
                for ch in 0..2 {
                    sec.w[ch] = f64::from(w[lane(ch, e)]);
                    sec.i2[ch] = f64::from(i2[lane(ch, e)]);
                    sec.sy[ch] = f64::from(sy[lane(ch, e)]);
                }
            }
        }
    }
}

/// One `f64` section in direct form (see [`Direct`]), both channels: updates `(u1, u2)`,
/// returns the output. Four multiply-adds and a multiplication; the recursion through `u1` is
/// one multiply-add (4 cycles), and the output needs only the old state and `x`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn step_d(c: &Direct<__m128d>, u1: &mut __m128d, u2: &mut __m128d, x: __m128d) -> __m128d {
    let u = _mm_fmadd_pd(c.na1, *u1, _mm_fmadd_pd(c.na2, *u2, x));
    let y = _mm_fmadd_pd(c.d, x, _mm_fmadd_pd(c.k1, *u1, _mm_mul_pd(c.k2, *u2)));
    *u2 = *u1;
    *u1 = u;
    y
}

/// Four `f32` sections, both channels: updates `(w, i2)` and the carried output part `sy`,
/// returns the outputs.
///
/// The sections of a pack feed each other through the register, so a long path from the
/// state to the output would make one long recursion of the whole pack. The output part the
/// state gives is therefore carried as state and updated from the old state directly,
/// `sy' = cw·w' + c2·i2' = k1·v3 + k2·w + c2·i2` with `k1 = cw·q + c2·a3` and
/// `k2 = cw·p11 + c2`: the path from `i2` through the next section's input back to `i2`
/// takes 19 cycles per three steps instead of 19 per two.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn step_f(
    c: &Fc<__m256>,
    k: &[__m256; 2],
    w: &mut __m256,
    i2: &mut __m256,
    sy: &mut __m256,
    x: __m256,
) -> __m256 {
    let v3 = _mm256_sub_ps(x, *i2);
    let syn = _mm256_fmadd_ps(
        k[0],
        v3,
        _mm256_fmadd_ps(k[1], *w, _mm256_mul_ps(c.c2, *i2)),
    );
    let wn = _mm256_fmadd_ps(c.q, v3, _mm256_mul_ps(c.p11, *w));
    let i2n = _mm256_fmadd_ps(c.a3, v3, _mm256_add_ps(*i2, *w));
    let y = _mm256_fmadd_ps(c.d, x, *sy);
    *w = wn;
    *i2 = i2n;
    *sy = syn;
    y
}

/// One step of the wavefront with every section computing: input frame `x` into section 0;
/// returns the last section's output `[channel 0, channel 1]`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn step_all<const P: usize, const K: usize>(
    r: &mut Regs<P, K>,
    c: &Coeffs<P, K>,
    x: [f32; 2],
) -> [f32; 2] {
    let xs = _mm_setr_ps(x[0], x[1], 0.0, 0.0);
    // Input of the first f32 section: the last f64 output of the previous step.
    let into_f: __m128 = if P > 0 { _mm_cvtpd_ps(r.yd[P - 1]) } else { xs };
    let xd = _mm_cvtps_pd(xs);
    for j in (0..P).rev() {
        let input = if j == 0 { xd } else { r.yd[j - 1] };
        r.yd[j] = step_d(&c.d[j], &mut r.u1[j], &mut r.u2[j], input);
    }
    if K > 0 {
        // Channel 0 into element 3 of the lower half, channel 1 into element 3 of the upper
        // half; then every half moves up by one element, the input entering at element 0.
        let spread = permute(
            _mm256_castps128_ps256(into_f),
            _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1),
        );
        let x0 = up_one(r.yf[K - 1], spread);
        for k in (0..K).rev() {
            let input = if k == 0 { x0 } else { r.yf[k - 1] };
            r.yf[k] = step_f(
                &c.f[k],
                &c.k[k],
                &mut r.wf[k],
                &mut r.if_[k],
                &mut r.sf[k],
                input,
            );
        }
        // Element 3 of each half (the last section's output) into lanes 0 and 1.
        let y = permute(r.yf[K - 1], _mm256_setr_epi32(3, 7, 3, 7, 3, 7, 3, 7));
        let y = lanes8(y);
        [y[0], y[1]]
    } else {
        let y = r.yd[P - 1];
        [
            _mm_cvtsd_f64(y) as f32,
            _mm_cvtsd_f64(_mm_unpackhi_pd(y, y)) as f32,
        ]
    }
}

/// Replaces the NaN and infinite samples of `frames` with zero. The scan first: the magnitude
/// bits of a non-finite `f32` are above those of the largest finite one, eight samples per
/// comparison, the last eight read again where the count is not a multiple of eight.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn silence_non_finite<const CH: usize>(frames: &mut [[f32; CH]]) {
    let x = frames.as_flattened_mut();
    let bad = match x.last_chunk::<8>() {
        Some(last) => {
            let (magnitude, max) = (
                _mm256_set1_epi32(0x7fff_ffff),
                _mm256_set1_epi32(0x7f7f_ffff),
            );
            let over = |v: &[f32; 8]| {
                let bits = _mm256_castps_si256(from_lanes8(*v));
                _mm256_cmpgt_epi32(_mm256_and_si256(bits, magnitude), max)
            };
            let mut any = over(last);
            for v in x.as_chunks::<8>().0 {
                any = _mm256_or_si256(any, over(v));
            }
            _mm256_testz_si256(any, any) == 0
        }
        None => x.iter().any(|v| !v.is_finite()),
    };
    if bad {
        for v in x.iter_mut().filter(|v| !v.is_finite()) {
            *v = 0.0;
        }
    }
}

/// A function of one AVX2 instruction on two 256-bit registers, written as inline assembly:
/// from the intrinsics, the compiler merges the lane moves of a step into a longer sequence
/// that puts two instructions instead of one on the packs' recursion.
macro_rules! one_instruction {
    ($(#[$doc:meta])* fn $name:ident($a:ident: $ta:ty, $b:ident: $tb:ty) = $insn:literal) => {
        $(#[$doc])*
        #[target_feature(enable = "avx2,fma")]
        #[inline]
        fn $name($a: $ta, $b: $tb) -> __m256 {
            let out: __m256;
            // SAFETY: one AVX2 instruction on registers only (no memory, stack or flags), in
            // a function compiled for AVX2.
            unsafe {
                core::arch::asm!(
                    $insn,
                    out = lateout(ymm_reg) out,
                    $a = in(ymm_reg) $a,
                    $b = in(ymm_reg) $b,
                    options(pure, nomem, nostack, preserves_flags),
                );
            }
            out
        }
    };
}

one_instruction! {
    /// Lane `i` of the result is lane `idx[i]` of `v` (`vpermps`).
    fn permute(v: __m256, idx: __m256i) = "vpermps {out}, {idx}, {v}"
}

one_instruction! {
    /// Each 128-bit half of `y` moved up by one element, element 3 of the same half of `low`
    /// entering at element 0 (`vpalignr` by 12 bytes).
    fn up_one(y: __m256, low: __m256) = "vpalignr {out}, {y}, {low}, 12"
}

/// Steps `t .. end` with every section busy and no event in between.
#[target_feature(enable = "avx2,fma")]
fn segment<const CH: usize, const P: usize, const K: usize>(
    regs: &mut Regs<P, K>,
    c: &Coeffs<P, K>,
    frames: &mut [[f32; CH]],
    t: usize,
    end: usize,
) {
    let t0 = P + PER_PACK * K - 1;
    if CH != 2 || t < t0 || end > frames.len() {
        return;
    }
    let mut r = *regs;
    for step in t..end {
        let x = frames[step];
        let y = step_all(&mut r, c, [x[0], x[1]]);
        let out = &mut frames[step - t0];
        out[0] = y[0];
        out[1] = y[1];
    }
    *regs = r;
}

/// Which sections filter a frame at step `t` of a block of `n` frames: section `j` filters
/// frame `t − j` when that is one of the `n` frames, i.e. when `t − n < j ≤ t`.
#[derive(Clone, Copy)]
struct Busy<const P: usize, const K: usize> {
    /// All ones where busy, per `f64` section.
    d: [__m128d; P],
    /// All ones in the busy lanes, per pack.
    f: [__m256; K],
    /// The last section is busy (a frame is finished).
    last: bool,
}

impl<const P: usize, const K: usize> Busy<P, K> {
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn at(c: &Coeffs<P, K>, t: usize, n: usize) -> Self {
        let s = P + PER_PACK * K;
        // Section indices are below 64; clamped bounds keep the comparison exact.
        let below = (t.min(64) + 1) as i32;
        let above = (t as i64 - n as i64).clamp(-1, 64) as i32;
        let busy = |j: usize| (j as i32) < below && (j as i32) > above;
        let (lo, hi) = (_mm256_set1_epi32(above), _mm256_set1_epi32(below));
        Self {
            d: core::array::from_fn(|j| _mm_castsi128_pd(_mm_set1_epi64x(-i64::from(busy(j))))),
            f: core::array::from_fn(|k| {
                _mm256_castsi256_ps(_mm256_and_si256(
                    _mm256_cmpgt_epi32(c.idx[k], lo),
                    _mm256_cmpgt_epi32(hi, c.idx[k]),
                ))
            }),
            last: busy(s - 1),
        }
    }

    /// `new` where busy, `old` elsewhere.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn keep(&self, old: &Regs<P, K>, new: Regs<P, K>) -> Regs<P, K> {
        let mut r = new;
        for j in 0..P {
            r.u1[j] = _mm_blendv_pd(old.u1[j], new.u1[j], self.d[j]);
            r.u2[j] = _mm_blendv_pd(old.u2[j], new.u2[j], self.d[j]);
        }
        for k in 0..K {
            r.wf[k] = _mm256_blendv_ps(old.wf[k], new.wf[k], self.f[k]);
            r.if_[k] = _mm256_blendv_ps(old.if_[k], new.if_[k], self.f[k]);
            r.sf[k] = _mm256_blendv_ps(old.sf[k], new.sf[k], self.f[k]);
        }
        r
    }
}

/// Steps `steps` when some sections are idle (the fill and the drain of a block): every lane
/// computes and idle sections keep their state, with the sanitising events of those steps.
#[target_feature(enable = "avx2,fma")]
fn edge<const CH: usize, const P: usize, const K: usize>(
    regs: &mut Regs<P, K>,
    c: &Coeffs<P, K>,
    frames: &mut [[f32; CH]],
    steps: core::ops::Range<usize>,
    first: u64,
) {
    let s = P + PER_PACK * K;
    let n = frames.len();
    let phase = sanitize_phase(s);
    if CH != 2 {
        return;
    }
    let mut r = *regs;
    for t in steps {
        let busy = Busy::at(c, t, n);
        let x = frames.get(t).map_or([0.0; 2], |x| [x[0], x[1]]);
        let old = r;
        let y = step_all(&mut r, c, x);
        r = busy.keep(&old, r);
        if busy.last {
            if let Some(out) = frames.get_mut(t + 1 - s) {
                out[0] = y[0];
                out[1] = y[1];
            }
        }
        if (first + t as u64) % 64 == phase {
            r = if all_finite(&r) {
                busy.keep(&r, flush_tiny(r))
            } else {
                sanitize_active(r, t, n)
            };
        }
    }
    *regs = r;
}

/// The sanitising event after step `t` of a block of `n` frames, for the whole registers.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn event_all<const P: usize, const K: usize>(r: Regs<P, K>, t: usize, n: usize) -> Regs<P, K> {
    if all_finite(&r) {
        flush_tiny(r)
    } else {
        sanitize_active(r, t, n)
    }
}

/// `dst` takes section `j`'s state from `src`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn take_section<const P: usize, const K: usize>(
    dst: &mut Regs<P, K>,
    src: &Regs<P, K>,
    c: &Coeffs<P, K>,
    j: usize,
) {
    if j < P {
        for i in 0..P {
            if i == j {
                dst.u1[i] = src.u1[i];
                dst.u2[i] = src.u2[i];
            }
        }
        return;
    }
    let at = _mm256_set1_epi32(j as i32);
    for k in 0..K {
        let m = _mm256_castsi256_ps(_mm256_cmpeq_epi32(c.idx[k], at));
        dst.wf[k] = _mm256_blendv_ps(dst.wf[k], src.wf[k], m);
        dst.if_[k] = _mm256_blendv_ps(dst.if_[k], src.if_[k], m);
        dst.sf[k] = _mm256_blendv_ps(dst.sf[k], src.sf[k], m);
    }
}

/// The fill of a block of at least `s − 1` frames: steps `0 .. s − 1`, where section `j`
/// starts at step `j`. Every lane computes; the sections not started yet run on values that
/// no started section reads, and each one's state is put back to the block's starting state
/// right before its first step (the last section's after the fill). (Sanitising those lanes at an event is harmless for the same
/// reason.)
#[target_feature(enable = "avx2,fma")]
fn fill<const CH: usize, const P: usize, const K: usize>(
    regs: &mut Regs<P, K>,
    c: &Coeffs<P, K>,
    frames: &[[f32; CH]],
    first: u64,
) {
    let s = P + PER_PACK * K;
    let phase = sanitize_phase(s);
    let (start, mut r) = (*regs, *regs);
    for (t, x) in frames.iter().enumerate().take(s - 1) {
        if t > 0 {
            take_section(&mut r, &start, c, t);
        }
        step_all(&mut r, c, [x[0], x[1]]);
        if (first + t as u64) % 64 == phase {
            r = event_all(r, t, frames.len());
        }
    }
    // The last section starts at the first step after the fill.
    take_section(&mut r, &start, c, s - 1);
    *regs = r;
}

/// The drain of a block of `n ≥ s − 1` frames: steps `n .. n + s − 1`, where section `j`
/// filters its last frame at step `n − 1 + j`. Every lane computes (on silence after the
/// block); each section's state is kept right after its last step, and what the finished
/// sections compute afterwards is dropped.
#[target_feature(enable = "avx2,fma")]
fn drain<const CH: usize, const P: usize, const K: usize>(
    regs: &mut Regs<P, K>,
    c: &Coeffs<P, K>,
    frames: &mut [[f32; CH]],
    first: u64,
) {
    let s = P + PER_PACK * K;
    let n = frames.len();
    let phase = sanitize_phase(s);
    let (mut done, mut r) = (*regs, *regs);
    for (i, out) in frames[n + 1 - s..].iter_mut().enumerate() {
        let (j, t) = (i + 1, n + i);
        let y = step_all(&mut r, c, [0.0; 2]);
        out[0] = y[0];
        out[1] = y[1];
        if (first + t as u64) % 64 == phase {
            r = event_all(r, t, n);
        }
        take_section(&mut done, &r, c, j);
    }
    *regs = done;
}

/// True when every value in the registers is finite.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn all_finite<const P: usize, const K: usize>(r: &Regs<P, K>) -> bool {
    // 0·x is 0 for finite x and NaN otherwise. Index loops over the fixed-size arrays unroll
    // into straight register code.
    let (zd, zf) = (_mm_setzero_pd(), _mm256_setzero_ps());
    let mut bad_d = zd;
    for j in 0..P {
        bad_d = _mm_add_pd(bad_d, _mm_mul_pd(zd, r.yd[j]));
        bad_d = _mm_add_pd(bad_d, _mm_mul_pd(zd, r.u1[j]));
        bad_d = _mm_add_pd(bad_d, _mm_mul_pd(zd, r.u2[j]));
    }
    let mut bad_f = zf;
    for k in 0..K {
        bad_f = _mm256_add_ps(bad_f, _mm256_mul_ps(zf, r.yf[k]));
        bad_f = _mm256_add_ps(bad_f, _mm256_mul_ps(zf, r.wf[k]));
        bad_f = _mm256_add_ps(bad_f, _mm256_mul_ps(zf, r.if_[k]));
        bad_f = _mm256_add_ps(bad_f, _mm256_mul_ps(zf, r.sf[k]));
    }
    _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(bad_f, zf)) == 0
        && _mm_movemask_pd(_mm_cmpneq_pd(bad_d, zd)) == 0
}

/// The sanitising event when everything is finite: flushes tiny state to zero.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn flush_tiny<const P: usize, const K: usize>(mut r: Regs<P, K>) -> Regs<P, K> {
    let (sign_d, tiny_d) = (
        _mm_set1_pd(-0.0),
        _mm_set1_pd(lathe_core::DENORMAL_THRESHOLD),
    );
    let flush_d = |v: __m128d| _mm_andnot_pd(_mm_cmplt_pd(_mm_andnot_pd(sign_d, v), tiny_d), v);
    for j in 0..P {
        r.u1[j] = flush_d(r.u1[j]);
        r.u2[j] = flush_d(r.u2[j]);
    }
    let (sign_f, tiny_f) = (_mm256_set1_ps(-0.0), _mm256_set1_ps(DENORMAL_F32));
    let flush_f = |v: __m256| {
        _mm256_andnot_ps(
            _mm256_cmp_ps::<_CMP_LT_OQ>(_mm256_andnot_ps(sign_f, v), tiny_f),
            v,
        )
    };
    for k in 0..K {
        r.wf[k] = flush_f(r.wf[k]);
        r.if_[k] = flush_f(r.if_[k]);
        r.sf[k] = flush_f(r.sf[k]);
    }
    r
}

/// The event after step `t` of a block of `n` frames, section by section, for the sections
/// that filtered a frame in that step: non-finite state is cleared, tiny state flushed, and
/// non-finite values handed on are cleared.
#[cold]
fn sanitize_active<const P: usize, const K: usize>(
    mut r: Regs<P, K>,
    t: usize,
    n: usize,
) -> Regs<P, K> {
    let s = P + PER_PACK * K;
    let busy = |j: usize| j <= t && t - j < n;
    for j in (0..P).filter(|&j| busy(j)) {
        let (mut u1, mut u2, mut y) = (lanes2(r.u1[j]), lanes2(r.u2[j]), lanes2(r.yd[j]));
        if !(u1.iter().chain(u2.iter()).all(|v| v.is_finite())) {
            u1 = [0.0; 2];
            u2 = [0.0; 2];
        }
        for v in u1.iter_mut().chain(u2.iter_mut()) {
            *v = lathe_core::flush_denormal(*v);
        }
        if j + 1 < s {
            y = y.map(|v| if v.is_finite() { v } else { 0.0 });
        }
        (r.u1[j], r.u2[j], r.yd[j]) = (from_lanes2(u1), from_lanes2(u2), from_lanes2(y));
    }
    for k in 0..K {
        let (mut w, mut i2, mut y) = (lanes8(r.wf[k]), lanes8(r.if_[k]), lanes8(r.yf[k]));
        let mut sy = lanes8(r.sf[k]);
        for e in (0..PER_PACK).filter(|&e| busy(P + k + e * K)) {
            let ls = [lane(0, e), lane(1, e)];
            let finite = |l: usize| w[l].is_finite() && i2[l].is_finite() && sy[l].is_finite();
            if !ls.iter().all(|&l| finite(l)) {
                for l in ls {
                    w[l] = 0.0;
                    i2[l] = 0.0;
                    sy[l] = 0.0;
                }
            }
            for l in ls {
                for v in [&mut w[l], &mut i2[l], &mut sy[l]] {
                    if v.abs() < DENORMAL_F32 {
                        *v = 0.0;
                    }
                }
                if !y[l].is_finite() {
                    y[l] = 0.0;
                }
            }
        }
        (r.wf[k], r.if_[k], r.yf[k]) = (from_lanes8(w), from_lanes8(i2), from_lanes8(y));
        r.sf[k] = from_lanes8(sy);
    }
    r
}

#[cfg(test)]
mod tests {
    use crate::fast::{FastSection, Plan};
    use crate::svf::{SvfCoeffs, SvfState};
    use crate::{design_band, BandParams};
    use std::vec;
    use std::vec::Vec;

    /// A cascade of `count` sections (peaks and shelves spread over the spectrum), the first
    /// `doubles` in `f64`.
    fn cascade(count: usize, doubles: usize) -> Vec<FastSection<2>> {
        (0..count)
            .map(|j| {
                let f = 300.0 * 1.35f64.powi(j as i32);
                let p = if j % 3 == 2 {
                    BandParams::high_shelf(f, 2.0, 0.7)
                } else {
                    BandParams::peak(f, if j % 2 == 0 { 3.0 } else { -4.0 }, 1.2)
                };
                let c = design_band(&p, 48_000.0).unwrap().as_slice()[0];
                let c = SvfCoeffs::from_coeffs(&c).unwrap();
                FastSection::from_svf(&c, &SvfState::ZERO, j >= doubles)
            })
            .collect()
    }

    fn input(n: usize) -> Vec<[f32; 2]> {
        let mut seed = 7u32;
        (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5) * 0.2;
                let t = i as f64;
                [
                    (0.4 * (t * 0.05).sin() + noise) as f32,
                    (0.3 * (t * 0.013).cos() - noise) as f32,
                ]
            })
            .collect()
    }

    /// Runs `x` through a fresh cascade in blocks of `sizes` (cycled), on the AVX route or not.
    fn run(
        count: usize,
        doubles: usize,
        wide: bool,
        x: &[[f32; 2]],
        sizes: &[usize],
    ) -> Vec<[f32; 2]> {
        let mut secs = cascade(count, doubles);
        let mut plan = Plan::build_with(&mut secs, doubles, wide);
        let mut y = x.to_vec();
        let mut first = 0;
        let mut rest = &mut y[..];
        for &s in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (block, tail) = rest.split_at_mut(s.min(rest.len()));
            plan.process(&mut secs, block, first);
            first += block.len() as u64;
            rest = tail;
        }
        y
    }

    const LAYOUTS: [(usize, usize); 10] = [
        (2, 0),
        (4, 0),
        (5, 1),
        (6, 2),
        (8, 0),
        (10, 2),
        (12, 4),
        (3, 3),
        (8, 8),
        (9, 1),
    ];

    #[test]
    fn the_avx_route_matches_the_sse2_route() {
        if !super::detected() {
            return;
        }
        let x = input(5_000);
        for (count, doubles) in LAYOUTS {
            let narrow = run(count, doubles, false, &x, &[5_000]);
            let wide = run(count, doubles, true, &x, &[5_000]);
            let (mut worst, mut err, mut sig) = (0.0f64, 0.0f64, 0.0f64);
            for (a, b) in narrow.iter().zip(&wide) {
                for ch in 0..2 {
                    let d = f64::from(a[ch]) - f64::from(b[ch]);
                    worst = worst.max(d.abs());
                    err += d * d;
                    sig += f64::from(a[ch]).powi(2);
                }
            }
            let rel_db = 10.0 * (err / sig).log10();
            // Measured: at most 2.4e-7 (two f32 ulps at the signal's peak), -134 to -141 dB;
            // mostly identical where every section is f64 (see the direct-form test).
            assert!(worst < 1e-6, "{count}/{doubles}: worst {worst:e}");
            assert!(rel_db < -125.0, "{count}/{doubles}: {rel_db:.1} dB");
            // And the comparison can fail: the f32 sections do run different arithmetic.
            assert!(
                count == doubles || worst > 0.0,
                "{count}/{doubles}: identical"
            );
        }
    }

    /// Every section of the bands `p` at `fs`, all in `f64`, with a zero state.
    fn f64_cascade(p: &[BandParams], fs: f64) -> Vec<FastSection<2>> {
        p.iter()
            .flat_map(|b| {
                let d = design_band(b, fs).unwrap();
                d.as_slice().to_vec()
            })
            .map(|c| {
                let c = SvfCoeffs::from_coeffs(&c).unwrap();
                FastSection::from_svf(&c, &SvfState::ZERO, false)
            })
            .collect()
    }

    /// Relative difference (dB) between the AVX route (direct-form `f64` sections) and the
    /// SSE2 route (scaled-state `f64` sections) for the bands `p` at `fs`.
    fn direct_form_error(p: &[BandParams], fs: f64) -> f64 {
        let n = 3 * fs as usize / 2;
        let mut seed = 11u32;
        let x: Vec<[f32; 2]> = (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5) * 0.1;
                let t = i as f64 / fs;
                let tone = |f: f64| (2.0 * core::f64::consts::PI * f * t).sin();
                [
                    (0.3 * tone(p[0].freq_hz) + 0.2 * tone(1_000.0) + noise) as f32,
                    (0.3 * tone(0.9 * p[0].freq_hz) - noise) as f32,
                ]
            })
            .collect();
        let run = |wide: bool| {
            let mut secs = f64_cascade(p, fs);
            let doubles = secs.len();
            let mut plan = Plan::build_with(&mut secs, doubles, wide);
            let mut y = x.clone();
            for block in y.chunks_mut(4_096) {
                plan.process(&mut secs, block, 0);
            }
            y
        };
        let (svf, direct) = (run(false), run(true));
        let (mut err, mut sig) = (0.0f64, 0.0f64);
        for (a, b) in svf[n / 3..].iter().zip(&direct[n / 3..]) {
            for ch in 0..2 {
                err += (f64::from(a[ch]) - f64::from(b[ch])).powi(2);
                sig += f64::from(a[ch]).powi(2);
            }
        }
        10.0 * (err / sig).log10()
    }

    #[test]
    fn direct_form_sections_stay_below_the_output_rounding() {
        // The AVX route's direct-form f64 sections against the SSE2 route's scaled-state ones
        // (far more precise at low frequencies), over the corners that run in f64.
        if !super::detected() {
            return;
        }
        let mut worst = f64::NEG_INFINITY;
        for fs in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            for f in [10.0, 20.0, 40.0, 100.0, 250.0] {
                let mut cases = vec![
                    vec![BandParams::high_pass(f, 8)],
                    vec![BandParams::low_pass(f, 8)],
                    vec![BandParams::low_shelf(f, 24.0, 0.7)],
                    vec![BandParams::low_shelf(f, -24.0, 2.0)],
                    vec![BandParams::notch(f, 10.0)],
                ];
                for q in [0.1, 1.0, 10.0, 40.0] {
                    for g in [-24.0, 24.0] {
                        cases.push(vec![BandParams::peak(f, g, q)]);
                    }
                }
                for case in cases {
                    let e = direct_form_error(&case, fs);
                    assert!(e < -145.0, "{case:?} at {fs} Hz: {e:.1} dB");
                    worst = worst.max(e);
                }
            }
        }
        // Measured: -151 dB at worst (10 Hz, Q 40, ±24 dB at 192 kHz), where the f32 output
        // rounds differently here and there; most cascades give bit-identical output.
        assert!(worst > -400.0, "the routes never differ: {worst:.1} dB");
    }

    #[test]
    fn both_routes_are_independent_of_the_block_split() {
        // A NaN sample: the SSE2 route filters it (its caller clears input), the AVX route
        // treats it as silence. Samples at the largest magnitude: the f32 sections overflow,
        // and the state is cleared on the grid.
        let mut nan = input(3_000);
        nan[1_234][0] = f32::NAN;
        let mut huge = input(3_000);
        for (i, f) in huge[1_234..1_240].iter_mut().enumerate() {
            *f = [f32::MAX * if i % 2 == 0 { 1.0 } else { -1.0 }; 2];
        }
        let bits = |y: &[[f32; 2]]| {
            y.iter()
                .flat_map(|f| f.map(f32::to_bits))
                .collect::<Vec<_>>()
        };
        let wide = super::detected();
        for (count, doubles) in LAYOUTS {
            for (x, route, is_nan) in [
                (&nan, false, true),
                (&nan, wide, true),
                (&huge, wide, false),
            ] {
                let whole = run(count, doubles, route, x, &[3_000]);
                // Blocks shorter than, as long as and longer than the pipeline (s - 1 steps of
                // fill) for every layout here: s runs from 3 to 12.
                let short = &[2usize, 3, 4, 5, 7, 8, 10, 11, 12, 13][..];
                for sizes in [&[1usize][..], short, &[7, 64, 3], &[63, 65, 200], &[511]] {
                    let split = run(count, doubles, route, x, sizes);
                    assert!(
                        bits(&whole) == bits(&split),
                        "{count}/{doubles} {route} {sizes:?}"
                    );
                }
                // Non-finite output ends at the next multiple of 64 frames.
                let finite = |f: &[[f32; 2]]| f.iter().all(|f| f.iter().all(|v| v.is_finite()));
                assert!(finite(&whole[1_280..]), "{count}/{doubles} {route}");
                if route && is_nan {
                    let mut silent = nan.clone();
                    silent[1_234][0] = 0.0;
                    assert!(bits(&whole) == bits(&run(count, doubles, true, &silent, &[3_000])));
                } else if !route || count > doubles {
                    assert!(!finite(&whole[1_234..1_280]), "{count}/{doubles} {route}");
                }
            }
        }
    }
}
