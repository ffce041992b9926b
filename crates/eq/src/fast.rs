//! The still path of [`ParametricEq`](crate::ParametricEq): the cascade with fixed
//! coefficients, restated for speed.
//!
//! # The section in "scaled state" form
//!
//! While no parameter moves, each trapezoidal SVF section (see [`crate::svf`]) runs in an
//! equivalent state-space form with the band-pass state rescaled, `w = 2·a2·ic1`, and the
//! low-pass state `i2 = ic2` unchanged:
//!
//! ```text
//! v3  = x − i2
//! y   = d·x + (cw·w + c2·i2)
//! w'  = p11·w + q·v3
//! i2' = (i2 + w) + a3·v3
//! ```
//!
//! with `p11 = 2a1 − 1`, `q = (2a2)²`, `a3 = 2a3`, `d = m0 + m1·a2 + m2·a3` (the biquad's `b0`),
//! `cw = m1·a1/(2a2) + m2/2`, `c2 = m0 + m2 − d`. It is the same linear map as the SVF (the
//! low-pass state still accumulates small increments, which is what keeps it precise at low
//! frequencies) in 6 multiplications and 6 additions instead of 7 and 8, and its recursion is
//! shorter: 9 cycles of floating-point latency per sample on Zen 4 instead of 10.5. The output
//! only needs the old state and `x`, so a cascade's sections hand their outputs on after one
//! multiply-add. The smoothing path keeps the SVF form (its stability proof is about that
//! form); the state is converted where one path hands over to the other, at frames that do
//! not depend on how the audio is split into blocks.
//!
//! # Precision per section
//!
//! Sections whose poles are well away from `z = 1` and from the unit circle
//! ([`single_precision_ok`]) run in `f32`, the others (low frequencies, sharp resonances) in
//! `f64`. Measured over every kind, gains ±24 dB, Q 0.1 ..= 40 and 44.1 ..= 192 kHz, an `f32`
//! section chosen this way adds rounding noise at most −130 dB below the larger of its input
//! and output (typically −140 dB); an `f64` section's own noise is far below the `f32` output
//! format's −150 dB (in the AVX2 kernel's direct form, at the lowest and sharpest corners,
//! near it: see [`crate::avx`]). Within a cascade, every section before the last `f64` one
//! runs in `f64` too, so `f64` sections form a prefix and the `f32` ones a suffix of even
//! length.
//!
//! # Wavefront
//!
//! The cascade runs as a skewed wavefront: at step `t`, section `j` filters frame `t − j`, so
//! the sections of one step are independent and their recursions overlap instead of waiting
//! for each other (the first and last `S − 1` steps of a block, where some sections have no
//! frame, fill and drain the pipeline). The state is sanitised inside the pipeline, after
//! steps at fixed positions counted from `prepare`/`reset` ([`sanitize_phase`]), so the output
//! is bit-identical however the audio is split into blocks, and non-finite output ends at the
//! same grid of 64 frames as on the smoothing path.
//!
//! # Stereo kernel
//!
//! For two channels, with a layout that has an instance (up to 4 `f64` sections before up to
//! 4 packs, or up to 8 `f64` sections alone), the whole wavefront runs in SSE2 registers:
//! each `f64` section as one `[f64; 2]` vector (both channels), the `f32` sections two at a
//! time as `[f32; 4]` vectors. With `K` packs, pack `k` holds `f32` sections `k + K` (lanes
//! 0–1) and `k` (lanes 2–3), so pack `k` reads exactly what pack `k − 1` wrote in the step
//! before, lane for lane; only the hop from `f32` section `K − 1` (lanes 2–3 of the last
//! pack) to section `K` (lanes 0–1 of the first) moves lanes, and lanes 0–1 of the last pack
//! are the finished frame. Fill and drain run the same vector steps and restore the state of
//! the idle sections. Other layouts and channel counts run section by section with the same
//! arithmetic (the two routes differ at most in the sign of zero results, and in which values
//! are not finite while non-finite input is in the pipeline; each cascade always takes the
//! same route).

use crate::svf::{SvfCoeffs, SvfState};
use core::ops::{Add, Mul, Sub};

/// Sections whose poles lie at least this far from `z = 1` may run in `f32` …
pub(crate) const MIN_POLE_DISTANCE_FROM_DC: f64 = 1.0 / 32.0;
/// … and at least this far inside the unit circle.
pub(crate) const MIN_POLE_DISTANCE_FROM_CIRCLE: f64 = 1.0 / 128.0;

/// Largest number of `f64` sections before `f32` packs the stereo kernel is built for.
const MAX_DOUBLE_WITH_PACKS: usize = 4;
/// Largest number of `f32` packs (two sections each) the stereo kernel is built for.
const MAX_PACKS: usize = 4;
/// Largest number of `f64` sections of an all-`f64` stereo cascade with a built kernel.
const MAX_DOUBLE_ALONE: usize = 8;

/// Element-wise arithmetic of one group of lanes.
pub(crate) trait Lanes:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
}
impl Lanes for f32 {}
impl Lanes for f64 {}

/// A lane-wise binary operator for a lanes type.
macro_rules! lane_op {
    ($name:ident, $trait:ident, $method:ident, $op:tt) => {
        impl $trait for $name {
            type Output = Self;
            #[inline(always)]
            fn $method(self, o: Self) -> Self {
                let mut r = self.0;
                for (r, o) in r.iter_mut().zip(o.0) {
                    *r $op o;
                }
                Self(r)
            }
        }
    };
}

macro_rules! lanes {
    ($name:ident, $t:ty, $n:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        #[repr(C, align(16))]
        pub(crate) struct $name(pub [$t; $n]);
        lane_op!($name, Add, add, +=);
        lane_op!($name, Sub, sub, -=);
        lane_op!($name, Mul, mul, *=);
        impl Lanes for $name {}
    };
}
lanes!(D2, f64, 2, "Two `f64` lanes: one section, both channels.");
lanes!(
    F4,
    f32,
    4,
    "Four `f32` lanes: two sections, both channels each."
);

/// Coefficients of one section in the scaled-state form (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[repr(C)]
pub(crate) struct Fc<T> {
    pub p11: T,
    pub q: T,
    pub a3: T,
    pub d: T,
    pub cw: T,
    pub c2: T,
}

impl<T: Copy> Fc<T> {
    /// Every coefficient set to `v`.
    pub const fn splat(v: T) -> Self {
        Self {
            p11: v,
            q: v,
            a3: v,
            d: v,
            cw: v,
            c2: v,
        }
    }
}

impl<T: Lanes> Fc<T> {
    /// One sample: updates the state `(w, i2)` and returns the output.
    #[inline(always)]
    fn step(&self, w: &mut T, i2: &mut T, x: T) -> T {
        let v3 = x - *i2;
        let sy = self.cw * *w + self.c2 * *i2;
        let wn = self.p11 * *w + self.q * v3;
        let i2n = (*i2 + *w) + self.a3 * v3;
        *w = wn;
        *i2 = i2n;
        self.d * x + sy
    }

    fn map<U>(&self, f: impl Fn(T) -> U) -> Fc<U> {
        Fc {
            p11: f(self.p11),
            q: f(self.q),
            a3: f(self.a3),
            d: f(self.d),
            cw: f(self.cw),
            c2: f(self.c2),
        }
    }
}

impl Fc<f64> {
    fn from_svf(c: &SvfCoeffs) -> Self {
        let (a1x2, a2x2, a3x2) = (2.0 * c.a1, 2.0 * c.a2, 2.0 * c.a3);
        let (m1h, m2h) = (0.5 * c.m1, 0.5 * c.m2);
        let d = c.m0 + m1h * a2x2 + m2h * a3x2;
        Self {
            p11: a1x2 - 1.0,
            q: a2x2 * a2x2,
            a3: a3x2,
            d,
            cw: m1h * a1x2 / a2x2 + m2h,
            c2: c.m0 + c.m2 - d,
        }
    }
}

/// Coefficients of one `f64` section in direct form, as the AVX2 kernel runs it (see
/// [`crate::avx`]):
///
/// ```text
/// u = x − al1·u1 − al2·u2
/// y = d·x + k1·u1 + k2·u2
/// ```
///
/// with the state `(u1, u2) = (u[n−1], u[n−2])`. The denominator `1 + al1·z⁻¹ + al2·z⁻²` and
/// `k1`, `k2` (the numerator less `d` times the denominator) follow from the scaled-state form:
/// `al1 = a3 − p11 − 1`, `al2 = p11 + a3`, `k1 = cw·q + c2·a3`,
/// `k2 = q·(c2 − cw) − c2·p11·a3`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Direct<T> {
    /// `−al1`.
    pub na1: T,
    /// `−al2`.
    pub na2: T,
    pub d: T,
    pub k1: T,
    pub k2: T,
}

impl Direct<f64> {
    fn from_fc(c: &Fc<f64>) -> Self {
        Self {
            na1: -(c.a3 - c.p11 - 1.0),
            na2: -(c.p11 + c.a3),
            d: c.d,
            k1: c.cw * c.q + c.c2 * c.a3,
            k2: c.q * (c.c2 - c.cw) - c.c2 * c.p11 * c.a3,
        }
    }
}

/// Packs the coefficients of sections `a` (lanes 0–1) and `b` (lanes 2–3).
fn pack(a: &Fc<f32>, b: &Fc<f32>) -> Fc<F4> {
    let l = |x: f32, y: f32| F4([x, x, y, y]);
    Fc {
        p11: l(a.p11, b.p11),
        q: l(a.q, b.q),
        a3: l(a.a3, b.a3),
        d: l(a.d, b.d),
        cw: l(a.cw, b.cw),
        c2: l(a.c2, b.c2),
    }
}

/// True when the section `c` may run with `f32` state: its poles `p` satisfy
/// `|1 − p| ≥ 1/32` and `1 − |p| ≥ 1/128` (for the poles of an order-2 section at angle `ω` with
/// quality `Q`: roughly `ω ≥ 1/32` and `ω/(2Q) ≥ 1/128`; at 48 kHz, corners above about 250 Hz
/// that are not sharper than about `Q = ω·64`).
pub(crate) fn single_precision_ok(c: &SvfCoeffs) -> bool {
    // Denominator 1 + al1 z^-1 + al2 z^-2 (see SvfCoeffs::to_coeffs).
    let al1 = 2.0 * (c.a3 - c.a1);
    let al2 = 2.0 * (c.a1 + c.a3) - 1.0;
    let disc = al1 * al1 - 4.0 * al2;
    let (from_dc, radius) = if disc < 0.0 {
        // A complex pair: |1 - p|^2 = A(1) = 1 + al1 + al2, |p|^2 = al2.
        (libm::sqrt((1.0 + al1 + al2).max(0.0)), libm::sqrt(al2))
    } else {
        let r = libm::sqrt(disc);
        let (p1, p2) = (0.5 * (-al1 + r), 0.5 * (-al1 - r));
        (
            libm::fabs(1.0 - p1).min(libm::fabs(1.0 - p2)),
            libm::fabs(p1).max(libm::fabs(p2)),
        )
    };
    from_dc >= MIN_POLE_DISTANCE_FROM_DC && 1.0 - radius >= MIN_POLE_DISTANCE_FROM_CIRCLE
}

/// One section of the still path: coefficients in both precisions, the precision it runs in,
/// and its state (`f32` values when `single`, stored as `f64`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FastSection<const CH: usize> {
    pub c64: Fc<f64>,
    pub c32: Fc<f32>,
    /// `2·a2` of the SVF, to convert the state.
    a2x2: f64,
    single: bool,
    pub w: [f64; CH],
    pub i2: [f64; CH],
    /// The part of the next output that the state gives, `cw·w + c2·i2`, carried as state by
    /// the AVX2 kernel (see [`crate::avx`]); other routes leave it alone.
    pub sy: [f64; CH],
    /// The state in direct form, `[u[n−1], u[n−2]]` per channel, while `direct` (the AVX2
    /// kernel's `f64` sections, see [`crate::avx`]); `w`, `i2` and `sy` are then not used.
    pub u: [[f64; CH]; 2],
    /// The state lives in `u`.
    direct: bool,
}

impl<const CH: usize> FastSection<CH> {
    pub const IDLE: Self = Self {
        c64: Fc {
            p11: 0.0,
            q: 0.0,
            a3: 0.0,
            d: 1.0,
            cw: 0.0,
            c2: 0.0,
        },
        c32: Fc {
            p11: 0.0,
            q: 0.0,
            a3: 0.0,
            d: 1.0,
            cw: 0.0,
            c2: 0.0,
        },
        a2x2: 1.0,
        single: false,
        w: [0.0; CH],
        i2: [0.0; CH],
        sy: [0.0; CH],
        u: [[0.0; CH]; 2],
        direct: false,
    };

    /// The section realising `c`, in the precision `single`, with the SVF state `s`.
    pub fn from_svf(c: &SvfCoeffs, s: &SvfState<CH>, single: bool) -> Self {
        let c64 = Fc::from_svf(c);
        let a2x2 = 2.0 * c.a2;
        let round = |v: f64| if single { f64::from(v as f32) } else { v };
        let mut sec = Self {
            c64,
            c32: c64.map(|v| v as f32),
            a2x2,
            single,
            w: core::array::from_fn(|i| round(a2x2 * s.ic1[i])),
            i2: s.ic2.map(round),
            sy: [0.0; CH],
            u: [[0.0; CH]; 2],
            direct: false,
        };
        sec.sy = core::array::from_fn(|i| sec.state_part(sec.w[i], sec.i2[i]));
        sec
    }

    /// The direct-form coefficients of this section (see [`Direct`]).
    pub fn direct_coeffs(&self) -> Direct<f64> {
        Direct::from_fc(&self.c64)
    }

    /// Moves an `f64` section's state into direct form (see [`Direct`]): `(w, i2) = M·(u1, u2)`
    /// with `M = [[q, −q], [a3, q − p11·a3]]`, whose determinant is `q·A(1) > 0` for every
    /// stable section, so the state carries over whole.
    pub fn enter_direct(&mut self) {
        if self.direct || self.single {
            return;
        }
        let c = &self.c64;
        for ch in 0..CH {
            let (w, i2) = (self.w[ch], self.i2[ch]);
            // u1 − u2 = w/q; i2 = a3·(u1 − u2) + (q + a3·(1 − p11))·u2.
            let diff = w / c.q;
            let u2 = (i2 - c.a3 * diff) / (c.q + c.a3 * (1.0 - c.p11));
            self.u[0][ch] = u2 + diff;
            self.u[1][ch] = u2;
        }
        self.direct = true;
    }

    /// Moves the state back from direct form.
    fn leave_direct(&mut self) {
        if !self.direct {
            return;
        }
        let c = &self.c64;
        for ch in 0..CH {
            let (u1, u2) = (self.u[0][ch], self.u[1][ch]);
            self.w[ch] = c.q * (u1 - u2);
            self.i2[ch] = c.a3 * u1 + (c.q - c.p11 * c.a3) * u2;
        }
        self.direct = false;
        self.sy = core::array::from_fn(|i| self.state_part(self.w[i], self.i2[i]));
    }

    /// `cw·w + c2·i2` in the section's precision.
    fn state_part(&self, w: f64, i2: f64) -> f64 {
        if self.single {
            let c = &self.c32;
            f64::from(c.cw * w as f32 + c.c2 * i2 as f32)
        } else {
            self.c64.cw * w + self.c64.c2 * i2
        }
    }

    /// The state in SVF form.
    pub fn svf_state(&self) -> SvfState<CH> {
        let mut s = *self;
        s.leave_direct();
        SvfState {
            ic1: s.w.map(|v| v / s.a2x2),
            ic2: s.i2,
        }
    }

    /// Clears state that became non-finite and flushes tiny values to zero.
    pub fn sanitize(&mut self) {
        if !(self.w.iter().all(|v| v.is_finite()) && self.i2.iter().all(|v| v.is_finite())) {
            self.w = [0.0; CH];
            self.i2 = [0.0; CH];
        }
        for v in self.w.iter_mut().chain(self.i2.iter_mut()) {
            if self.single {
                if (*v as f32).abs() < DENORMAL_F32 {
                    *v = 0.0;
                }
            } else {
                *v = lathe_core::flush_denormal(*v);
            }
        }
    }

    /// One frame, in the section's precision (an `f32` section rounds its input to `f32`).
    #[inline(always)]
    fn tick(&mut self, x: [f64; CH]) -> [f64; CH] {
        let mut y = [0.0; CH];
        if self.single {
            for i in 0..CH {
                let (mut w, mut i2) = (self.w[i] as f32, self.i2[i] as f32);
                y[i] = f64::from(self.c32.step(&mut w, &mut i2, x[i] as f32));
                self.w[i] = f64::from(w);
                self.i2[i] = f64::from(i2);
            }
        } else {
            for i in 0..CH {
                y[i] = self.c64.step(&mut self.w[i], &mut self.i2[i], x[i]);
            }
        }
        y
    }
}

/// The layout of the still cascade: which sections run in `f64`, and the stereo kernel's
/// packed coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plan {
    /// Sections in the cascade.
    sections: usize,
    /// Leading sections in `f64`; the rest (an even number) run in `f32`.
    doubles: usize,
    /// The stereo kernel has an instance for this layout (and the EQ is stereo).
    stereo: bool,
    d: [Fc<D2>; MAX_DOUBLE_ALONE],
    f: [Fc<F4>; MAX_PACKS],
    /// 1 in lanes 0 and 1, 0 in lanes 2 and 3 (see [`step_all`]).
    lower: F4,
    /// The AVX2 + FMA kernel's plan, when this processor runs it for this layout.
    #[cfg(target_arch = "x86_64")]
    avx: Option<crate::avx::AvxPlan>,
}

impl Plan {
    pub const EMPTY: Self = Self {
        sections: 0,
        doubles: 0,
        stereo: false,
        d: [Fc::splat(D2([0.0; 2])); MAX_DOUBLE_ALONE],
        f: [Fc::splat(F4([0.0; 4])); MAX_PACKS],
        lower: F4([1.0, 1.0, 0.0, 0.0]),
        #[cfg(target_arch = "x86_64")]
        avx: None,
    };

    /// Number of leading `f64` sections for a cascade whose sections may (`true`) or may not
    /// run in `f32`: everything up to the last `f64` section, plus one more if that leaves an
    /// odd number of `f32` sections.
    pub fn doubles(single_ok: impl DoubleEndedIterator<Item = bool> + ExactSizeIterator) -> usize {
        let n = single_ok.len();
        let tail = single_ok.rev().take_while(|&ok| ok).count();
        let doubles = n - tail;
        doubles + tail % 2
    }

    /// Builds the plan for `secs` (whose `single` flags it sets) over `CH` channels, with the
    /// AVX2 + FMA kernel where this processor has it.
    pub fn build<const CH: usize>(secs: &mut [FastSection<CH>], doubles: usize) -> Self {
        #[cfg(target_arch = "x86_64")]
        let wide = crate::avx::detected();
        #[cfg(not(target_arch = "x86_64"))]
        let wide = false;
        Self::build_with(secs, doubles, wide)
    }

    /// [`Plan::build`], with the AVX2 + FMA kernel only if `wide` (and the processor has it).
    pub fn build_with<const CH: usize>(
        secs: &mut [FastSection<CH>],
        doubles: usize,
        wide: bool,
    ) -> Self {
        let mut plan = Self::EMPTY;
        plan.sections = secs.len();
        plan.doubles = doubles;
        for (j, s) in secs.iter_mut().enumerate() {
            s.leave_direct();
            let single = j >= doubles;
            if single && !s.single {
                s.w = s.w.map(|v| f64::from(v as f32));
                s.i2 = s.i2.map(|v| f64::from(v as f32));
            }
            s.single = single;
            s.sy = core::array::from_fn(|i| s.state_part(s.w[i], s.i2[i]));
        }
        let packs = (secs.len() - doubles) / 2;
        plan.stereo = CH == 2
            && !secs.is_empty()
            && if packs == 0 {
                doubles <= MAX_DOUBLE_ALONE
            } else {
                packs <= MAX_PACKS && doubles <= MAX_DOUBLE_WITH_PACKS
            };
        if plan.stereo {
            for (d, s) in plan.d.iter_mut().zip(&secs[..doubles]) {
                *d = s.c64.map(|v| D2([v; 2]));
            }
            let f = &secs[doubles..];
            for (k, p) in plan.f.iter_mut().enumerate().take(packs) {
                *p = pack(&f[k + packs].c32, &f[k].c32);
            }
        }
        #[cfg(target_arch = "x86_64")]
        if wide && crate::avx::detected() {
            plan.avx = crate::avx::AvxPlan::build(secs, doubles);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = wide;
        plan
    }

    /// True when [`Plan::process`] clears non-finite input samples itself (the AVX2 kernel
    /// does, piece by piece as it reads them); otherwise the caller must.
    pub fn silences_input(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        return self.avx.is_some();
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// Runs `frames` through the cascade `secs` (the sections this plan was built for);
    /// `frames[0]` is frame `first` counted from `prepare`/`reset`, which places the
    /// sanitising events (see [`sanitize_phase`]).
    pub fn process<const CH: usize>(
        &mut self,
        secs: &mut [FastSection<CH>],
        frames: &mut [[f32; CH]],
        first: u64,
    ) {
        let (s, n) = (secs.len(), frames.len());
        if s == 0 || n == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(avx) = &mut self.avx {
            return avx.process(secs, frames, first);
        }
        let phase = sanitize_phase(s);
        if s > RING {
            return frame_by_frame(secs, frames, first, phase);
        }
        if !self.stereo || CH != 2 {
            let mut ring = [[0.0f64; CH]; RING];
            return wavefront(secs, frames, &mut ring, 0..n + s - 1, first, phase);
        }
        macro_rules! dispatch {
            ($(($p:literal, $k:literal)),* $(,)?) => {
                match (self.doubles, (self.sections - self.doubles) / 2) {
                    $(($p, $k) => stereo::<CH, $p, $k>(self, secs, frames, first, phase),)*
                    _ => {
                        let mut ring = [[0.0f64; CH]; RING];
                        wavefront(secs, frames, &mut ring, 0..n + s - 1, first, phase)
                    }
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
            (0, 3),
            (1, 3),
            (2, 3),
            (3, 3),
            (4, 3),
            (0, 4),
            (1, 4),
            (2, 4),
            (3, 4),
            (4, 4),
        );
    }
}

/// Values in flight between the sections of the wavefront, indexed by frame modulo this.
const RING: usize = 64;

/// Sanitising events of a cascade of `sections` sections: after every wavefront step `T` (the
/// frame section 0 filters, counted from `prepare`/`reset`) with `T % 64` equal to this, every
/// section's state is sanitised ([`FastSection::sanitize`]) and the values it hands on are
/// cleared where they are not finite. The last section has then just filtered a frame `64k − 1`,
/// so the output is clean again from frame `64k` on, as on the SVF path's grid.
pub(crate) fn sanitize_phase(sections: usize) -> u64 {
    ((sections + 62) % 64) as u64
}

fn finite_or_zero<const CH: usize>(y: [f64; CH]) -> [f64; CH] {
    y.map(|v| if v.is_finite() { v } else { 0.0 })
}

/// Steps `steps` of the skewed wavefront: at step `t`, section `j` filters frame `t − j` if it
/// exists. Section 0 reads `frames`, the last section writes `frames`, the values in between
/// live in `ring`.
fn wavefront<const CH: usize>(
    secs: &mut [FastSection<CH>],
    frames: &mut [[f32; CH]],
    ring: &mut [[f64; CH]; RING],
    steps: core::ops::Range<usize>,
    first: u64,
    phase: u64,
) {
    let (s, n) = (secs.len(), frames.len());
    for t in steps {
        let event = (first + t as u64) % 64 == phase;
        let j_lo = (t + 1).saturating_sub(n);
        let j_hi = t.min(s - 1);
        for (j, sec) in secs.iter_mut().enumerate().take(j_hi + 1).skip(j_lo) {
            let f = t - j;
            let x = if j == 0 {
                frames[f].map(f64::from)
            } else {
                ring[f % RING]
            };
            let mut y = sec.tick(x);
            if event {
                sec.sanitize();
                y = finite_or_zero(y);
            }
            if j + 1 == s {
                frames[f] = y.map(|v| v as f32);
            } else {
                ring[f % RING] = y;
            }
        }
    }
}

/// The cascade one frame at a time (for cascades longer than [`RING`]); same arithmetic and
/// events as [`wavefront`].
#[cold]
fn frame_by_frame<const CH: usize>(
    secs: &mut [FastSection<CH>],
    frames: &mut [[f32; CH]],
    first: u64,
    phase: u64,
) {
    let s = secs.len();
    for (f, frame) in frames.iter_mut().enumerate() {
        let mut x = frame.map(f64::from);
        for (j, sec) in secs.iter_mut().enumerate() {
            x = sec.tick(x);
            if (first + (f + j) as u64) % 64 == phase {
                sec.sanitize();
                if j + 1 < s {
                    x = finite_or_zero(x);
                }
            }
        }
        *frame = x.map(|v| v as f32);
    }
}

/// `f32` state below this is flushed to zero (compared in `f32`).
pub(crate) const DENORMAL_F32: f32 = 1e-30;

/// The stereo wavefront with `S = P + 2K` sections, `P` in `f64`, then `K` packs of two
/// `f32` sections, kept in registers ([`Regs`]): steps in which every section has a frame run
/// in [`segment`]s between the sanitising events; the first and last `S − 1` steps, in which
/// some sections are idle, run in [`masked_step`]. Same results and events as [`wavefront`].
fn stereo<const CH: usize, const P: usize, const K: usize>(
    plan: &Plan,
    secs: &mut [FastSection<CH>],
    frames: &mut [[f32; CH]],
    first: u64,
    phase: u64,
) {
    let s = P + 2 * K;
    let n = frames.len();
    if CH != 2 || secs.len() != s || s == 0 {
        let mut ring = [[0.0f64; CH]; RING];
        return wavefront(secs, frames, &mut ring, 0..n + s - 1, first, phase);
    }
    let event = |t: usize| (first + t as u64) % 64 == phase;
    let mut regs = Regs::<P, K>::load(secs);
    let last = n + s - 1;
    // Fill.
    let mut t = 0;
    while t < s - 1 {
        masked_step(&mut regs, plan, frames, t);
        if event(t) {
            regs.sanitize_active(t, n);
        }
        t += 1;
    }
    // Every section busy.
    while t < n {
        // Up to and including the next event.
        let to_event = (phase + 64 - (first + t as u64) % 64) % 64;
        let end = n.min(t + 1 + to_event as usize);
        segment(&mut regs, plan, frames, t, end);
        t = end;
        if event(t - 1) && !regs.flush() {
            regs.sanitize_active(t - 1, n);
        }
    }
    // Drain.
    while t < last {
        masked_step(&mut regs, plan, frames, t);
        if event(t) {
            regs.sanitize_active(t, n);
        }
        t += 1;
    }
    regs.store(secs);
}

/// One step of the stereo wavefront with all sections busy: updates `regs`, returns the
/// finished frame (section `S − 1`'s output).
#[inline(always)]
fn step_all<const P: usize, const K: usize>(
    regs: &mut Regs<P, K>,
    cd: &[Fc<D2>; P],
    cf: &[Fc<F4>; K],
    lower: &F4,
    x: [f32; 2],
) -> [f32; 2] {
    let Regs {
        yd,
        wd,
        id,
        yf,
        wf,
        if_,
    } = regs;
    let xd = D2([f64::from(x[0]), f64::from(x[1])]);
    // Input of the first f32 section: the last f64 output of the previous step.
    let into_f = if P > 0 {
        let v = yd[P - 1].0;
        [v[0] as f32, v[1] as f32]
    } else {
        x
    };
    for j in (0..P).rev() {
        let input = if j == 0 { xd } else { yd[j - 1] };
        yd[j] = cd[j].step(&mut wd[j], &mut id[j], input);
    }
    if K > 0 {
        // Lanes 2, 3 of the last pack into lanes 0, 1 and the input into lanes 2, 3, by
        // whole-vector arithmetic with a mask the compiler cannot see through (with a plain
        // shuffle it splits the last pack into halves and computes it twice). Exact but for
        // the sign of zero results, and non-finite values leak into the other half, which
        // the sanitising events clear ([`Regs::sanitize_active`] clears every lane).
        let w = yf[K - 1].0;
        let x0 = F4([0.0, 0.0, into_f[0], into_f[1]]) + F4([w[2], w[3], w[0], w[1]]) * *lower;
        for k in (0..K).rev() {
            let input = if k == 0 { x0 } else { yf[k - 1] };
            yf[k] = cf[k].step(&mut wf[k], &mut if_[k], input);
        }
        [yf[K - 1].0[0], yf[K - 1].0[1]]
    } else {
        [yd[P - 1].0[0] as f32, yd[P - 1].0[1] as f32]
    }
}

/// Steps `t .. end` of [`stereo`], every section busy, no event in between.
#[inline(never)]
fn segment<const CH: usize, const P: usize, const K: usize>(
    regs: &mut Regs<P, K>,
    plan: &Plan,
    frames: &mut [[f32; CH]],
    t: usize,
    end: usize,
) {
    let t0 = P + 2 * K - 1;
    if CH != 2 || t < t0 || end > frames.len() {
        return;
    }
    let cd: &[Fc<D2>; P] = plan.d.first_chunk().unwrap_or_else(|| unreachable!());
    let cf: &[Fc<F4>; K] = plan.f.first_chunk().unwrap_or_else(|| unreachable!());
    let mut r = *regs;
    let frames = &mut frames[..end];
    if K > 0 {
        // The last pack is stored whole: lanes 0 and 1 are the finished frame, lanes 2 and 3
        // land on the next frame, which has been read already and gets its own output in the
        // next step (or in the drain). Storing only half makes the compiler split the pack.
        // Frames `step - t0 ..= step` (t0 >= 1): the finished one, then the next.
        let mut rest = &mut frames[t - t0..end];
        while let Some((done, later)) = rest.split_first_mut() {
            let Some(x) = later.get(t0 - 1) else { break };
            step_all(&mut r, cd, cf, &plan.lower, [x[0], x[1]]);
            let y = r.yf[K - 1].0;
            done[..2].copy_from_slice(&y[..2]);
            later[0][..2].copy_from_slice(&y[2..]);
            rest = later;
        }
    } else {
        for step in t..end {
            let x = frames[step];
            let y = step_all(&mut r, cd, cf, &plan.lower, [x[0], x[1]]);
            let out = &mut frames[step - t0];
            out[0] = y[0];
            out[1] = y[1];
        }
    }
    *regs = r;
}

/// Step `t` of [`stereo`] when some sections are idle (section `j` filters frame `t − j` only
/// if that is one of the `n` frames): all lanes compute, idle sections keep their state. (What
/// idle sections hand on is never read by a busy one.)
#[inline(never)]
fn masked_step<const CH: usize, const P: usize, const K: usize>(
    regs: &mut Regs<P, K>,
    plan: &Plan,
    frames: &mut [[f32; CH]],
    t: usize,
) {
    let s = P + 2 * K;
    let n = frames.len();
    if CH != 2 {
        return;
    }
    let cd: &[Fc<D2>; P] = plan.d.first_chunk().unwrap_or_else(|| unreachable!());
    let cf: &[Fc<F4>; K] = plan.f.first_chunk().unwrap_or_else(|| unreachable!());
    let old = *regs;
    let x = if t < n {
        [frames[t][0], frames[t][1]]
    } else {
        [0.0; 2]
    };
    let y = step_all(regs, cd, cf, &plan.lower, x);
    let busy = |j: usize| j <= t && t - j < n;
    for j in 0..P {
        if !busy(j) {
            regs.wd[j] = old.wd[j];
            regs.id[j] = old.id[j];
        }
    }
    for k in 0..K {
        for (half, j) in [(0, P + K + k), (2, P + k)] {
            if !busy(j) {
                for l in half..half + 2 {
                    regs.wf[k].0[l] = old.wf[k].0[l];
                    regs.if_[k].0[l] = old.if_[k].0[l];
                }
            }
        }
    }
    if t + 1 >= s && busy(s - 1) {
        let out = &mut frames[t + 1 - s];
        out[0] = y[0];
        out[1] = y[1];
    }
    // An idle last section computes from values no busy section hands it, which may not be
    // finite; its output lanes leak into the input lanes (times 0, see `step_all`), so they
    // are cleared.
    if K > 0 && !busy(s - 1) {
        regs.yf[K - 1].0[..2].fill(0.0);
    }
}

/// The registers of [`stereo`]: each section's last output (the values in flight) and the
/// state, as whole vectors.
#[derive(Clone, Copy)]
struct Regs<const P: usize, const K: usize> {
    yd: [D2; P],
    wd: [D2; P],
    id: [D2; P],
    yf: [F4; K],
    wf: [F4; K],
    if_: [F4; K],
}

impl<const P: usize, const K: usize> Regs<P, K> {
    /// The state of `secs`, nothing in flight.
    fn load<const CH: usize>(secs: &[FastSection<CH>]) -> Self {
        let d2 = |v: [f64; CH]| D2([v[0], v[1]]);
        let f4 =
            |a: [f64; CH], b: [f64; CH]| F4([a[0] as f32, a[1] as f32, b[0] as f32, b[1] as f32]);
        let f = &secs[P..];
        Self {
            yd: [D2([0.0; 2]); P],
            wd: core::array::from_fn(|j| d2(secs[j].w)),
            id: core::array::from_fn(|j| d2(secs[j].i2)),
            yf: [F4([0.0; 4]); K],
            wf: core::array::from_fn(|k| f4(f[k + K].w, f[k].w)),
            if_: core::array::from_fn(|k| f4(f[k + K].i2, f[k].i2)),
        }
    }

    /// Writes the state back to `secs`.
    fn store<const CH: usize>(&self, secs: &mut [FastSection<CH>]) {
        for (j, sec) in secs.iter_mut().enumerate().take(P) {
            sec.w[..2].copy_from_slice(&self.wd[j].0);
            sec.i2[..2].copy_from_slice(&self.id[j].0);
        }
        let h = |v: F4, at: usize| [f64::from(v.0[at]), f64::from(v.0[at + 1])];
        for k in 0..K {
            for (half, j) in [(0, P + K + k), (2, P + k)] {
                secs[j].w[..2].copy_from_slice(&h(self.wf[k], half));
                secs[j].i2[..2].copy_from_slice(&h(self.if_[k], half));
            }
        }
    }

    /// The event of [`sanitize_phase`] when everything is finite: flushes tiny state to zero.
    /// Returns false, changing nothing, when something is not finite.
    #[inline(never)]
    fn flush(&mut self) -> bool {
        // 0·x is 0 for finite x and NaN otherwise; sums of it stay 0 only if all are finite.
        let mut bad_d = D2([0.0; 2]);
        for v in self.yd.iter().chain(&self.wd).chain(&self.id) {
            bad_d = bad_d + D2([0.0; 2]) * *v;
        }
        let mut bad_f = F4([0.0; 4]);
        for v in self.yf.iter().chain(&self.wf).chain(&self.if_) {
            bad_f = bad_f + F4([0.0; 4]) * *v;
        }
        if bad_d.0.iter().any(|b| *b != 0.0) || bad_f.0.iter().any(|b| *b != 0.0) {
            return false;
        }
        for v in self.wd.iter_mut().chain(self.id.iter_mut()) {
            v.0 = v.0.map(lathe_core::flush_denormal);
        }
        for v in self.wf.iter_mut().chain(self.if_.iter_mut()) {
            v.0 = v.0.map(|x| if x.abs() < DENORMAL_F32 { 0.0 } else { x });
        }
        true
    }

    /// The event after step `t` of a block of `n` frames, section by section, for the
    /// sections that filtered a frame in that step: as [`FastSection::sanitize`] for the
    /// state and [`finite_or_zero`] for what the section hands on.
    #[cold]
    fn sanitize_active(&mut self, t: usize, n: usize) {
        let s = P + 2 * K;
        for j in (0..s).filter(|&j| j <= t && t - j < n) {
            let hand_on = j + 1 < s;
            if j < P {
                let (w, i2, y) = (&mut self.wd[j].0, &mut self.id[j].0, &mut self.yd[j].0);
                if !(w.iter().chain(i2.iter()).all(|v| v.is_finite())) {
                    *w = [0.0; 2];
                    *i2 = [0.0; 2];
                }
                for v in w.iter_mut().chain(i2.iter_mut()) {
                    *v = lathe_core::flush_denormal(*v);
                }
                if hand_on {
                    *y = y.map(|v| if v.is_finite() { v } else { 0.0 });
                }
            } else {
                let (k, half) = if j < P + K {
                    (j - P, 2)
                } else {
                    (j - P - K, 0)
                };
                let lanes = half..half + 2;
                let (w, i2, y) = (&mut self.wf[k].0, &mut self.if_[k].0, &mut self.yf[k].0);
                if !lanes.clone().all(|l| w[l].is_finite() && i2[l].is_finite()) {
                    for l in lanes.clone() {
                        w[l] = 0.0;
                        i2[l] = 0.0;
                    }
                }
                for l in lanes {
                    for v in [&mut w[l], &mut i2[l]] {
                        if v.abs() < DENORMAL_F32 {
                            *v = 0.0;
                        }
                    }
                    // Also the finished frames, which leak into the input lanes.
                    if !y[l].is_finite() {
                        y[l] = 0.0;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{design_band, BandParams};

    fn sections(p: &BandParams, fs: f64) -> std::vec::Vec<SvfCoeffs> {
        design_band(p, fs)
            .unwrap()
            .as_slice()
            .iter()
            .map(|c| SvfCoeffs::from_coeffs(c).unwrap())
            .collect()
    }

    #[test]
    fn low_and_sharp_sections_keep_f64_state() {
        let fs = 48_000.0;
        let single = |p: BandParams| sections(&p, fs).iter().all(single_precision_ok);
        // Low corners and sharp resonances: f64.
        assert!(!single(BandParams::low_shelf(100.0, 2.0, 0.7)));
        assert!(!single(BandParams::high_pass(30.0, 2)));
        assert!(!single(BandParams::peak(3_000.0, 12.0, 40.0)));
        assert!(!single(BandParams::notch(1_000.0, 40.0)));
        // Near Nyquist but well damped: the poles sit far inside the circle.
        assert!(single(BandParams::low_pass(23_000.0, 2)));
        // Mid and high bands of ordinary sharpness: f32.
        assert!(single(BandParams::peak(400.0, -3.0, 1.5)));
        assert!(single(BandParams::peak(2_500.0, 2.0, 1.0)));
        assert!(single(BandParams::high_shelf(10_000.0, 1.5, 0.7)));
        // The same band is f64 at a higher rate, where it sits closer to DC.
        assert!(sections(&BandParams::peak(400.0, -3.0, 1.5), 192_000.0)
            .iter()
            .all(|c| !single_precision_ok(c)));
    }

    #[test]
    fn f64_sections_form_a_prefix_and_f32_an_even_suffix() {
        let d = |ok: &[bool]| Plan::doubles(ok.iter().copied());
        assert_eq!(d(&[]), 0);
        assert_eq!(d(&[true, true]), 0);
        assert_eq!(d(&[true, true, true]), 1);
        assert_eq!(d(&[false, true, true, true, true]), 1);
        assert_eq!(d(&[true, false, true, true]), 2);
        assert_eq!(d(&[true, true, false]), 3);
        assert_eq!(d(&[false, true, true, true]), 2);
    }

    #[test]
    fn the_direct_form_is_the_same_filter_and_keeps_the_whole_state() {
        // An SVF runs on noise; halfway its state moves into direct form, both go on, and the
        // state moves back: same output and same state, to rounding. Includes a 0 dB peak,
        // whose output does not depend on the state at all (the state must still carry over)
        // and the lowest, sharpest corners.
        let cases = [
            (BandParams::low_shelf(100.0, 2.0, 0.7), 48_000.0),
            (BandParams::peak(500.0, 0.0, 1.0), 48_000.0),
            (BandParams::peak(60.0, 6.0, 4.0), 44_100.0),
            (BandParams::high_pass(20.0, 2), 192_000.0),
            (BandParams::peak(10.0, -24.0, 40.0), 192_000.0),
            (BandParams::notch(3_000.0, 40.0), 96_000.0),
        ];
        for (p, fs) in cases {
            let c = sections(&p, fs)[0];
            let mut svf = SvfState::<1>::ZERO;
            let mut seed = 5u32;
            let mut noise = || {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                [f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5]
            };
            for _ in 0..3_000 {
                svf.tick(&c, noise());
            }
            let mut fast = FastSection::<1>::from_svf(&c, &svf, false);
            fast.enter_direct();
            let d = fast.direct_coeffs();
            let (mut u1, mut u2) = (fast.u[0][0], fast.u[1][0]);
            let (mut worst, mut peak) = (0.0f64, 0.0f64);
            for _ in 0..3_000 {
                let x = noise();
                let a = svf.tick(&c, x)[0];
                let b = d.d * x[0] + d.k1 * u1 + d.k2 * u2;
                (u1, u2) = (x[0] + d.na1 * u1 + d.na2 * u2, u1);
                worst = worst.max((a - b).abs());
                peak = peak.max(a.abs());
            }
            // Measured: at most 7e-13 of the peak output.
            assert!(worst < 1e-11 * peak, "{p:?} at {fs}: {worst:e} of {peak:e}");
            (fast.u[0][0], fast.u[1][0]) = (u1, u2);
            let back = fast.svf_state();
            let err = (back.ic1[0] - svf.ic1[0]).abs() + (back.ic2[0] - svf.ic2[0]).abs();
            let size = svf.ic1[0].abs() + svf.ic2[0].abs();
            // Measured: at most 3e-10 (the 10 Hz, Q 40 peak at 192 kHz), 3e-14 for 0 dB.
            assert!(
                err < 3e-9 * size,
                "{p:?} at {fs}: state {err:e} of {size:e}"
            );
        }
    }

    #[test]
    fn the_scaled_state_form_is_the_same_filter() {
        // One section in both forms, f64 throughout, fed the same noise: same output, and the
        // state converts back to the SVF's.
        let fs = 48_000.0;
        for p in [
            BandParams::peak(1_000.0, 6.0, 2.0),
            BandParams::high_pass(50.0, 2),
            BandParams::tilt(800.0, -4.0),
            BandParams::notch(5_000.0, 3.0),
        ] {
            let c = sections(&p, fs)[0];
            let mut svf = SvfState::<1>::ZERO;
            let mut fast = FastSection::<1>::from_svf(&c, &svf, false);
            let mut seed = 1u32;
            for _ in 0..2_000 {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let x = [f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5];
                let (a, b) = (svf.tick(&c, x)[0], fast.tick(x)[0]);
                assert!((a - b).abs() < 1e-12, "{p:?}: {a} vs {b}");
            }
            let back = fast.svf_state();
            assert!((back.ic1[0] - svf.ic1[0]).abs() < 1e-12);
            assert!((back.ic2[0] - svf.ic2[0]).abs() < 1e-12);
        }
    }
}
