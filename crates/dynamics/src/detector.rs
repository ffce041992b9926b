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

/// Below this (in `log2` units, 6e-6 dB) a processor's smoothed gain reduction is settled to
/// exactly 0 on its flush grid (see `Ballistics::settle`).
pub(crate) const REST_LEVEL: f32 = 1e-6;

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
    fast_c: Branch,
    slow_c: Branch,
    adaptive: bool,
    fast: f32,
    slow: f32,
}

/// One branch of [`Ballistics`]: coefficients `a` (attack) and `r` (release), the input
/// weights `1 - a` and `1 - r`, and whether the attack is the faster of the two (`a <= r`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Branch {
    a: f32,
    r: f32,
    a_in: f32,
    r_in: f32,
    attack_faster: bool,
}

impl Branch {
    fn new(attack_ms: f64, release_ms: f64, sample_rate: f64) -> Self {
        let a = one_pole_coeff(attack_ms, sample_rate) as f32;
        let r = one_pole_coeff(release_ms, sample_rate) as f32;
        Self {
            a,
            r,
            a_in: 1.0 - a,
            r_in: 1.0 - r,
            attack_faster: a <= r,
        }
    }

    /// One step of the smooth branching detector from state `y` towards `x`.
    ///
    /// Both candidates lie between `y` and `x`, and the one with the smaller coefficient is
    /// the closer to `x`. So when the attack is the faster (`a <= r`), the attack candidate is
    /// the larger exactly when `x > y`, and the release candidate the larger otherwise: the
    /// branch select is a `max` (a `min` when the release is the faster). The per-sample
    /// dependency chain is a multiply, an add and a max.
    #[inline(always)]
    fn step<const ATTACK_FASTER: bool>(&self, y: f32, x: f32) -> f32 {
        let att = self.a * y + self.a_in * x;
        let rel = self.r * y + self.r_in * x;
        // Plain compare-selects (`f32::max` adds NaN fix-ups; the inputs are never NaN).
        if ATTACK_FASTER == (att > rel) {
            att
        } else {
            rel
        }
    }

    #[inline(always)]
    fn step_dyn(&self, y: f32, x: f32) -> f32 {
        if self.attack_faster {
            self.step::<true>(y, x)
        } else {
            self.step::<false>(y, x)
        }
    }
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
            fast_c: Branch::new(attack_ms, release_ms, sample_rate),
            slow_c: Branch::new(release_ms, release_ms, sample_rate),
            adaptive,
            fast: 0.0,
            slow: 0.0,
        };
        b.set_times(attack_ms, release_ms, adaptive, sample_rate);
        b
    }

    /// Changes the time constants (the state is kept, so this never clicks).
    pub fn set_times(&mut self, attack_ms: f64, release_ms: f64, adaptive: bool, sample_rate: f64) {
        self.fast_c = Branch::new(attack_ms, release_ms, sample_rate);
        self.slow_c = Branch::new(
            release_ms,
            ADAPTIVE_RELEASE_FACTOR * release_ms,
            sample_rate,
        );
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
    /// candidates are computed from the state in parallel and the branch select is a `max`
    /// (a `min` when the release is the faster), which keeps the per-sample dependency chain
    /// to a multiply, an add and a max.
    #[inline(always)]
    pub fn step(&mut self, x: f32) -> f32 {
        self.fast = self.fast_c.step_dyn(self.fast, x);
        if self.adaptive {
            self.slow = self.slow_c.step::<true>(self.slow, x);
            max(self.fast, self.slow)
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

    /// Flushes the state to zero where it is below [`REST_LEVEL`] (a smoothed gain reduction
    /// of less than 6e-6 dB): so after a release the ballistics come to rest, exactly at 0,
    /// and processors can skip work while at rest. Also flushes denormals.
    #[inline]
    pub(crate) fn settle(&mut self) {
        let settle = |v: f32| if v.abs() < REST_LEVEL { 0.0 } else { v };
        self.fast = settle(self.fast);
        self.slow = settle(self.slow);
    }

    /// The state of the fast branch (the output without adaptive release).
    #[inline]
    pub(crate) fn fast(&self) -> f32 {
        self.fast
    }

    /// Sets the state of the fast branch.
    #[inline]
    pub(crate) fn set_fast(&mut self, y: f32) {
        self.fast = y;
    }

    /// True when the state is exactly 0 (at rest: a zero input keeps it there).
    #[inline]
    pub(crate) fn is_at_rest(&self) -> bool {
        self.fast == 0.0 && self.slow == 0.0
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

/// `max` as a plain compare-select (no NaN fix-ups; for values that are never NaN).
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// The kind of dependency chain a [`Ballistics`] runs: adaptive release or not, attack the
/// faster branch (`max` select) or the release (`min`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainKind {
    pub(crate) adaptive: bool,
    pub(crate) attack_faster: bool,
}

impl Ballistics {
    /// The kind of chain these ballistics run.
    #[inline]
    pub(crate) fn kind(&self) -> ChainKind {
        ChainKind {
            adaptive: self.adaptive,
            attack_faster: self.fast_c.attack_faster,
        }
    }
}

/// The state and coefficients of one [`Ballistics`] in registers, specialised for its
/// [`ChainKind`]: `step` is exactly [`Ballistics::step`] without the run-time branches.
pub(crate) trait Chain: Copy {
    /// Loads the chain of `b` (whose kind must match).
    fn load(b: &Ballistics) -> Self;
    /// Writes the state back to `b`.
    fn store(&self, b: &mut Ballistics);
    /// One step towards `x`; returns the output.
    fn step(&mut self, x: f32) -> f32;
}

/// Chain without adaptive release.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plain<const ATTACK_FASTER: bool> {
    c: Branch,
    y: f32,
}

impl<const ATTACK_FASTER: bool> Chain for Plain<ATTACK_FASTER> {
    #[inline(always)]
    fn load(b: &Ballistics) -> Self {
        debug_assert!(!b.adaptive && b.fast_c.attack_faster == ATTACK_FASTER);
        Self {
            c: b.fast_c,
            y: b.fast,
        }
    }

    #[inline(always)]
    fn store(&self, b: &mut Ballistics) {
        b.fast = self.y;
    }

    #[inline(always)]
    fn step(&mut self, x: f32) -> f32 {
        self.y = self.c.step::<ATTACK_FASTER>(self.y, x);
        self.y
    }
}

/// Chain with adaptive release (two branches, output the larger).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adaptive<const ATTACK_FASTER: bool> {
    c: Branch,
    s: Branch,
    y: f32,
    z: f32,
}

impl<const ATTACK_FASTER: bool> Chain for Adaptive<ATTACK_FASTER> {
    #[inline(always)]
    fn load(b: &Ballistics) -> Self {
        debug_assert!(b.adaptive && b.fast_c.attack_faster == ATTACK_FASTER);
        Self {
            c: b.fast_c,
            s: b.slow_c,
            y: b.fast,
            z: b.slow,
        }
    }

    #[inline(always)]
    fn store(&self, b: &mut Ballistics) {
        b.fast = self.y;
        b.slow = self.z;
    }

    #[inline(always)]
    fn step(&mut self, x: f32) -> f32 {
        self.y = self.c.step::<ATTACK_FASTER>(self.y, x);
        self.z = self.s.step::<true>(self.z, x);
        max(self.y, self.z)
    }
}

/// Calls `$f::<Chain type>($args)` for the chain kind `$kind` (a [`ChainKind`]).
macro_rules! with_chain {
    ($kind:expr, $f:ident::<_ $(, $g:tt)*>($($args:expr),* $(,)?)) => {
        match ($kind.adaptive, $kind.attack_faster) {
            (false, true) => $f::<$crate::detector::Plain<true> $(, $g)*>($($args),*),
            (false, false) => $f::<$crate::detector::Plain<false> $(, $g)*>($($args),*),
            (true, true) => $f::<$crate::detector::Adaptive<true> $(, $g)*>($($args),*),
            (true, false) => $f::<$crate::detector::Adaptive<false> $(, $g)*>($($args),*),
        }
    };
}
pub(crate) use with_chain;

/// Runs the ballistics of `CH` channels over a block in place: `x[i][ch]` is the target of
/// channel `ch` at frame `i` on entry and that channel's output on return, exactly as
/// [`Ballistics::step`] frame by frame (no denormal flush: the caller flushes on its own
/// schedule). The channels' chains are independent, so they run in parallel.
#[inline(always)]
pub(crate) fn run_ballistics<const CH: usize>(b: &mut [Ballistics; CH], x: &mut [[f32; CH]]) {
    let kind = b[0].kind();
    if b.iter().all(|v| v.kind() == kind) {
        with_chain!(kind, run_chains::<_, CH>(b, x));
    } else {
        for f in x.iter_mut() {
            for (v, b) in f.iter_mut().zip(b.iter_mut()) {
                *v = b.step(*v);
            }
        }
    }
}

/// Runs one [`Ballistics`] over a block in place (targets in, outputs out), exactly as
/// [`Ballistics::step`] frame by frame, without the flush. The outputs are written four at a
/// time, so that the vectorised loops reading them next get them from whole stores.
#[inline(always)]
pub(crate) fn run_chain<C: Chain>(b: &mut Ballistics, x: &mut [f32]) {
    let mut c = C::load(b);
    let mut groups = x.chunks_exact_mut(4);
    for g in &mut groups {
        let mut o = [0.0f32; 4];
        for (o, &v) in o.iter_mut().zip(g.iter()) {
            *o = c.step(v);
        }
        g.copy_from_slice(&o);
    }
    for v in groups.into_remainder() {
        *v = c.step(*v);
    }
    c.store(b);
}

/// Pairs of smooth-branching steps, composed: the ballistics of a processor that runs a single
/// chain without adaptive release advance two frames per step of their dependency chain.
///
/// One step is `y' = max(a y + A, r y + R)` (with `A = (1 - a) x`, `R = (1 - r) x`; `min` when
/// the release is the faster, see [`Branch::step`]). Since `a, r ≥ 0`, multiplying distributes
/// over the `max`, so two steps from `y` are the largest of four lines in `y`, of which two
/// have the same slope `a r`:
///
/// `y'' = max(a² y + (a A₀ + A₁), a r y + max(a R₀ + A₁, r A₀ + R₁), r² y + (r R₀ + R₁))`.
///
/// The offsets depend only on the targets, so they are computed for a whole block as vector
/// code, and the chain from pair to pair costs a multiply, an add and two maxima per *two*
/// frames. The first frame of each pair is one ordinary step from the state before the pair
/// (computed off the chain). In exact arithmetic this equals two single steps; in `f32` it
/// rounds differently, so pairs are aligned to the frame count (see the compressor), which
/// keeps the output independent of how the audio is split into blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PairChain<const ATTACK_FASTER: bool> {
    c: Branch,
    aa: f32,
    ar: f32,
    rr: f32,
}

/// The per-pair offsets of a [`PairChain`]: the first frame's weighted targets and the three
/// offsets of the composed step.
#[derive(Debug, Clone, Copy)]
struct PairOffsets {
    att0: f32,
    rel0: f32,
    b0: f32,
    b1: f32,
    b2: f32,
}

/// Pairs per pass of [`PairChain::run`].
const PAIRS: usize = 16;

impl<const ATTACK_FASTER: bool> PairChain<ATTACK_FASTER> {
    /// The pair chain of `b` (without adaptive release, attack faster or not as the const
    /// parameter says: see [`Ballistics::kind`]).
    #[inline(always)]
    pub(crate) fn new(b: &Ballistics) -> Self {
        debug_assert!(!b.adaptive && b.fast_c.attack_faster == ATTACK_FASTER);
        let c = b.fast_c;
        Self {
            c,
            aa: c.a * c.a,
            ar: c.a * c.r,
            rr: c.r * c.r,
        }
    }

    #[inline(always)]
    fn pick(p: f32, q: f32) -> f32 {
        if ATTACK_FASTER == (p > q) {
            p
        } else {
            q
        }
    }

    #[inline(always)]
    fn offsets(&self, x0: f32, x1: f32) -> PairOffsets {
        let c = &self.c;
        let (att0, rel0) = (c.a_in * x0, c.r_in * x0);
        let (att1, rel1) = (c.a_in * x1, c.r_in * x1);
        PairOffsets {
            att0,
            rel0,
            b0: c.a * att0 + att1,
            b1: Self::pick(c.a * rel0 + att1, c.r * att0 + rel1),
            b2: c.r * rel0 + rel1,
        }
    }

    /// The state after both frames of a pair, from the state `y` before it and the pair's
    /// offsets `b0, -b1, b2`.
    #[inline(always)]
    fn second(&self, y: f32, b0: f32, b1: f32, b2: f32) -> f32 {
        // `v` subtracts its offset (stored negated) so that the three terms are not
        // isomorphic: the compiler then keeps the chain scalar instead of packing two of them
        // into a vector, which would add shuffles to the dependency chain.
        let u = self.aa * y + b0;
        let v = self.ar * y - b1;
        let w = self.rr * y + b2;
        Self::pick(Self::pick(u, v), w)
    }

    /// The output of the first frame of a pair, from the state `y` before it and the frame's
    /// weighted targets: one ordinary step (exactly [`Ballistics::step`]).
    #[inline(always)]
    fn first(&self, y: f32, att0: f32, rel0: f32) -> f32 {
        Self::pick(self.c.a * y + att0, self.c.r * y + rel0)
    }

    /// One step from `y` towards `x` (the first frame of a pair).
    #[inline(always)]
    pub(crate) fn step(&self, y: f32, x: f32) -> f32 {
        self.c.step::<ATTACK_FASTER>(y, x)
    }

    /// The state after a pair with targets `x0`, `x1` from the state `y` before it (the same
    /// arithmetic as [`run`](Self::run)).
    #[inline(always)]
    pub(crate) fn pair(&self, y: f32, x0: f32, x1: f32) -> f32 {
        let o = self.offsets(x0, x1);
        self.second(y, o.b0, -o.b1, o.b2)
    }

    /// Runs whole pairs (`x.len()` even) from the state `y` in place: targets in, outputs
    /// out; returns the state after the last pair. No denormal flush. The offsets are kept as
    /// separate arrays, so the passes over them vectorise.
    #[inline(always)]
    pub(crate) fn run(&self, mut y: f32, x: &mut [f32]) -> f32 {
        debug_assert!(x.len().is_multiple_of(2));
        let mut att0 = [0.0f32; PAIRS];
        let mut rel0 = [0.0f32; PAIRS];
        let mut b0 = [0.0f32; PAIRS];
        let mut b1 = [0.0f32; PAIRS];
        let mut b2 = [0.0f32; PAIRS];
        let mut ys = [0.0f32; PAIRS + 1];
        for x in x.chunks_mut(2 * PAIRS) {
            let np = x.len() / 2;
            for (((((p, a0), r0), c0), c1), c2) in x
                .chunks_exact(2)
                .zip(att0.iter_mut())
                .zip(rel0.iter_mut())
                .zip(b0.iter_mut())
                .zip(b1.iter_mut())
                .zip(b2.iter_mut())
            {
                let o = self.offsets(p[0], p[1]);
                *a0 = o.att0;
                *r0 = o.rel0;
                *c0 = o.b0;
                *c1 = -o.b1;
                *c2 = o.b2;
            }
            ys[0] = y;
            for i in 0..np.min(PAIRS) {
                y = self.second(y, b0[i], b1[i], b2[i]);
                ys[i + 1] = y;
            }
            for (((p, w), a0), r0) in x
                .chunks_exact_mut(2)
                .zip(ys.windows(2))
                .zip(att0.iter())
                .zip(rel0.iter())
            {
                p[0] = self.first(w[0], *a0, *r0);
                p[1] = w[1];
            }
        }
        y
    }
}

#[inline(always)]
fn run_chains<C: Chain, const CH: usize>(b: &mut [Ballistics; CH], x: &mut [[f32; CH]]) {
    let mut c: [C; CH] = b.each_ref().map(C::load);
    for f in x.iter_mut() {
        for (v, c) in f.iter_mut().zip(c.iter_mut()) {
            *v = c.step(*v);
        }
    }
    for (c, b) in c.iter().zip(b.iter_mut()) {
        c.store(b);
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

    /// Targets (log2 units) with runs of silence, jumps and slow changes.
    fn targets(n: usize) -> std::vec::Vec<f32> {
        let mut seed = 0x2545_f491_u32;
        (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1u32 << 24) as f32;
                match (i / 300) % 4 {
                    0 => 0.0,
                    1 => 6.0 * noise,
                    2 => 2.0 + (i as f32 * 0.01).sin(),
                    _ => 10.0 * noise * noise,
                }
            })
            .collect()
    }

    /// The composed pair step equals two single steps (to rounding), for attack faster than,
    /// slower than and equal to the release, and for instant times; and `pair` is exactly the
    /// arithmetic of `run`.
    #[test]
    fn pair_chain_equals_two_single_steps() {
        let x = targets(6_000);
        for (attack_ms, release_ms) in [
            (5.0, 50.0),
            (50.0, 5.0),
            (10.0, 10.0),
            (0.0, 20.0),
            (20.0, 0.0),
            (0.0, 0.0),
        ] {
            let b = Ballistics::new(attack_ms, release_ms, false, 48_000.0);
            let mut out = x.clone();
            let run = |y: f32, v: &mut [f32]| {
                if b.kind().attack_faster {
                    PairChain::<true>::new(&b).run(y, v)
                } else {
                    PairChain::<false>::new(&b).run(y, v)
                }
            };
            let pair = |y: f32, x0: f32, x1: f32| {
                if b.kind().attack_faster {
                    PairChain::<true>::new(&b).pair(y, x0, x1)
                } else {
                    PairChain::<false>::new(&b).pair(y, x0, x1)
                }
            };
            let end = run(0.0, &mut out);
            assert_eq!(end, out[out.len() - 1]);
            let mut seq = b;
            for (i, &xi) in x.iter().enumerate() {
                let want = seq.step(xi);
                let got = out[i];
                assert!(
                    (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "{attack_ms}/{release_ms} ms, frame {i}: {got} vs {want}"
                );
            }
            // `pair` from the exact state before each pair gives `run`'s value bit for bit.
            let mut y = 0.0;
            for (i, p) in x.chunks_exact(2).enumerate() {
                y = pair(y, p[0], p[1]);
                assert_eq!(y.to_bits(), out[2 * i + 1].to_bits(), "frame {}", 2 * i + 1);
            }
        }
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
