//! Feed-forward compressor (Giannoulis, Massberg, Reiss, JAES 2012).

use crate::curve::{CompressorCurve, Curve};
use crate::detector::{run_ballistics, run_chain, with_chain, Ballistics, DetectorKind, PairChain};
use crate::fastmath::{self, DB_PER_LOG2};
use crate::sidechain::{self, block_levels, peak_level, Delay, Sidechain};
use crate::wide::Avx2;
use lathe_core::{Error, ProcessSpec, Processor, Result, Smoothed};

/// Ramp length of smoothed parameter changes (threshold, ratio, knee, makeup, mix), in ms.
pub const PARAM_RAMP_MS: f64 = 20.0;

/// Frames per block of the vectorised inner loops; blocks are aligned to a grid of this many
/// frames counted from the last reset, on which the recursive states are flushed of
/// denormals, so the output does not depend on how the audio is split into blocks.
pub(crate) const BLOCK: usize = 32;

/// Frames from a frame count to the next point of the [`BLOCK`] grid.
#[inline(always)]
pub(crate) fn to_grid(frames: u32) -> usize {
    BLOCK - (frames as usize % BLOCK)
}

/// Per-block working buffers, kept in the processor so they need no clearing.
#[derive(Debug, Clone)]
pub(crate) struct Scratch<const CH: usize> {
    /// Per-channel detector values, levels, reductions and gains.
    pub(crate) ch: [[f32; CH]; BLOCK],
    /// Linked detector values, reductions and gains.
    pub(crate) linked: [f32; BLOCK],
}

impl<const CH: usize> Scratch<CH> {
    pub(crate) const fn new() -> Self {
        Self {
            ch: [[0.0; CH]; BLOCK],
            linked: [0.0; BLOCK],
        }
    }
}

/// Default lookahead capacity of [`Compressor`] and [`Expander`](crate::Expander), in frames:
/// 10 ms at 384 kHz (4096 frames).
pub const DEFAULT_LOOKAHEAD_CAPACITY: usize = 4096;

/// Parameters of a [`Compressor`] (plain values, natural units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompressorParams {
    /// Threshold in dBFS, -100 ..= 0. Default -18.
    pub threshold_db: f64,
    /// Ratio, 1 ..= 100 (1 = no compression). Default 2.
    pub ratio: f64,
    /// Width of the quadratic soft knee in dB, 0 ..= 48 (0 = hard knee). Default 6.
    pub knee_db: f64,
    /// Attack time constant in ms (63 %), 0 ..= 1000 (0 = instant). Default 20.
    pub attack_ms: f64,
    /// Release time constant in ms (63 %), 0 ..= 10 000. Default 200.
    pub release_ms: f64,
    /// Makeup gain in dB, -48 ..= 48 (added to the automatic makeup when that is on).
    /// Default 0.
    pub makeup_db: f64,
    /// Automatic makeup: adds the static curve's gain reduction at 0 dBFS, `-gain(0 dB)`
    /// (Giannoulis et al. §2.4), so a full-scale signal comes out at its input level.
    /// Default false.
    pub auto_makeup: bool,
    /// Dry/wet mix for parallel compression, 0 (dry) ..= 1 (wet). The dry path is delayed by
    /// the lookahead, so the two are aligned. Default 1.
    pub mix: f64,
    /// Stereo link, 0 (each channel its own detector) ..= 1 (all channels share the loudest
    /// channel's level). In between, each channel's detector level (in dB) moves this fraction
    /// of the way towards the loudest channel's. Default 1.
    pub link: f64,
    /// Sidechain high-pass (2nd-order Butterworth) in Hz, 10 ..= 2 000 and below Nyquist, so
    /// bass does not pump the mix; `None` for a full-band sidechain. Default `None`.
    pub sidechain_hpf_hz: Option<f64>,
    /// Lookahead in ms, 0 ..= 100 (the delay must fit the capacity `N`; see
    /// [`Compressor`]). The audio is delayed by this much and the detector sees it early.
    /// Default 0.
    pub lookahead_ms: f64,
    /// Level detector: [`DetectorKind::Peak`] or [`DetectorKind::Rms`]. Default peak.
    pub detector: DetectorKind,
    /// Averaging time of the RMS detector in ms (63 %), 0.1 ..= 1000. Default 10.
    pub rms_window_ms: f64,
    /// Program-dependent release (see [`Ballistics`]). Default false.
    pub adaptive_release: bool,
}

impl Default for CompressorParams {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 2.0,
            knee_db: 6.0,
            attack_ms: 20.0,
            release_ms: 200.0,
            makeup_db: 0.0,
            auto_makeup: false,
            mix: 1.0,
            link: 1.0,
            sidechain_hpf_hz: None,
            lookahead_ms: 0.0,
            detector: DetectorKind::Peak,
            rms_window_ms: 10.0,
            adaptive_release: false,
        }
    }
}

impl CompressorParams {
    /// Checks every parameter against its range (sample-rate independent checks).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming the first offending parameter (`"threshold_db"`,
    /// `"ratio"`, `"knee_db"`, `"attack_ms"`, `"release_ms"`, `"makeup_db"`, `"mix"`,
    /// `"link"`, `"sidechain_hpf_hz"`, `"lookahead_ms"`, `"rms_window_ms"`).
    pub fn validate(&self) -> Result<()> {
        Error::check_range("threshold_db", self.threshold_db, -100.0, 0.0)?;
        Error::check_range("ratio", self.ratio, 1.0, 100.0)?;
        Error::check_range("knee_db", self.knee_db, 0.0, 48.0)?;
        Error::check_range("attack_ms", self.attack_ms, 0.0, 1_000.0)?;
        Error::check_range("release_ms", self.release_ms, 0.0, 10_000.0)?;
        Error::check_range("makeup_db", self.makeup_db, -48.0, 48.0)?;
        Error::check_range("mix", self.mix, 0.0, 1.0)?;
        Error::check_range("link", self.link, 0.0, 1.0)?;
        if let Some(f) = self.sidechain_hpf_hz {
            Error::check_range("sidechain_hpf_hz", f, 10.0, 2_000.0)?;
        }
        Error::check_range("lookahead_ms", self.lookahead_ms, 0.0, 100.0)?;
        Error::check_range("rms_window_ms", self.rms_window_ms, 0.1, 1_000.0)?;
        Ok(())
    }

    /// The static curve these parameters describe.
    pub fn curve(&self) -> CompressorCurve {
        CompressorCurve {
            threshold_db: self.threshold_db,
            ratio: self.ratio,
            knee_db: self.knee_db,
        }
    }

    /// Total makeup gain in dB: `makeup_db`, plus `-gain(0 dBFS)` with `auto_makeup`.
    pub fn total_makeup_db(&self) -> f64 {
        self.makeup_db
            + if self.auto_makeup {
                -self.curve().gain_db(0.0)
            } else {
                0.0
            }
    }
}

/// A feed-forward compressor after Giannoulis, Massberg and Reiss, "Digital Dynamic Range
/// Compressor Design — A Tutorial and Analysis" (JAES 2012): the sidechain level (peak or RMS,
/// after an optional high-pass) goes through the decibel-domain gain computer with a quadratic
/// soft knee ([`CompressorCurve`]); the resulting gain *reduction* is smoothed in the log
/// domain by attack/release ballistics (the paper's recommended "log-domain, smooth branching"
/// topology, eq. 17, with optional program-dependent release, [`Ballistics`]); makeup and a
/// dry/wet mix follow.
///
/// `N` is the capacity of the lookahead delay in frames (default
/// [`DEFAULT_LOOKAHEAD_CAPACITY`]: 10 ms at 384 kHz); a lookahead that does not fit is
/// rejected with [`Error::CapacityExceeded`].
///
/// - **Latency**: the lookahead, `round(lookahead_ms · fs / 1000)` frames. Compressors with
///   equal lookahead have equal latency (multiband relies on this).
/// - **Parameter changes** ([`set_params`](Self::set_params)): threshold, ratio, knee, makeup
///   and mix ramp over [`PARAM_RAMP_MS`]; times, link, detector and sidechain filter apply at
///   once (their effect is smoothed by the ballistics). A new **lookahead** is structural: it
///   takes effect at the next [`prepare`](Processor::prepare) (so the latency the host
///   compensates never changes under it).
/// - **Non-finite input**: the detector reads NaN as silence and infinities as +200 dBFS, so
///   NaN/inf never enter the ballistics; the sidechain high-pass state is cleared within 32
///   frames. The audio path multiplies, so a non-finite sample comes out non-finite in its own
///   frame only.
/// - **Implementation** (performance; the behaviour is the paper's): blocks of 32 frames on a
///   fixed grid; per block, the detector, a bit-level `log2` and the gain computer run as
///   vectorised loops, then the ballistics' dependency chain, then a bit-level `exp2` and the
///   gains (the `log2`/`exp2` errors are below 2e-4 dB and 7e-5 dB). Linked, without adaptive
///   release, the ballistics advance two frames per chain step (the exact composition of two
///   smooth-branching steps, pairs aligned to the frame count). On the grid, a smoothed
///   reduction below 6e-6 dB is settled to exactly 0, and blocks at rest below the knee take a
///   constant gain. The output is bit-identical for any split of the audio into blocks.
#[derive(Debug, Clone)]
pub struct Compressor<const CH: usize, const N: usize = DEFAULT_LOOKAHEAD_CAPACITY> {
    params: CompressorParams,
    sample_rate: f64,
    prepared: bool,
    delay: Delay<CH, N>,
    sidechain: Sidechain<CH>,
    ballistics: [Ballistics; CH],
    gain_computer: GainComputer,
    threshold: Smoothed,
    ratio: Smoothed,
    knee: Smoothed,
    makeup: Smoothed,
    mix: Smoothed,
    /// Detector values at or below this (linear; mean squares for RMS) give no reduction.
    quiet: f32,
    /// Frames processed since the reset (for the fixed block grid and the pairs of the linked
    /// ballistics).
    frames: u32,
    /// Linked pair chains ([`PairChain`]): when the last block ended after the first frame of a
    /// pair, that frame's target and the state before it.
    pending: Option<(f32, f32)>,
    scratch: Scratch<CH>,
    /// Set where the processor has AVX2: the block loops then run on 256-bit registers, with
    /// the same results.
    avx2: Option<Avx2>,
}

impl<const CH: usize, const N: usize> Compressor<CH, N> {
    /// A compressor with `params`. Infallible: the parameters are validated by
    /// [`prepare`](Processor::prepare) and [`set_params`](Self::set_params).
    pub fn new(params: CompressorParams) -> Self {
        let p = params;
        let mut c = Self {
            params,
            sample_rate: 48_000.0,
            prepared: false,
            delay: Delay::new(),
            sidechain: Sidechain::new(),
            ballistics: [Ballistics::default(); CH],
            gain_computer: GainComputer::new(p.threshold_db, p.ratio, p.knee_db, 1.0),
            threshold: Smoothed::new(p.threshold_db),
            ratio: Smoothed::new(p.ratio),
            knee: Smoothed::new(p.knee_db),
            makeup: Smoothed::new(p.total_makeup_db()),
            mix: Smoothed::new(p.mix),
            quiet: 0.0,
            frames: 0,
            pending: None,
            scratch: Scratch::new(),
            avx2: Avx2::detect(),
        };
        c.update_curve();
        c
    }

    /// The parameters in use (the targets of any ramp in progress).
    pub fn params(&self) -> CompressorParams {
        self.params
    }

    /// Sets new parameters while running (see the type docs for what is smoothed).
    ///
    /// # Errors
    /// From [`CompressorParams::validate`]; once prepared also [`Error::AboveNyquist`] for the
    /// sidechain filter and [`Error::CapacityExceeded`] for a lookahead beyond `N - 1` frames.
    /// On error the previous parameters stay in use.
    pub fn set_params(&mut self, params: CompressorParams) -> Result<()> {
        params.validate()?;
        if self.prepared {
            self.sidechain.configure_for_rate(
                params.sidechain_hpf_hz,
                params.detector,
                params.rms_window_ms,
                params.lookahead_ms,
                self.sample_rate,
                N,
            )?;
        }
        self.params = params;
        self.apply_times();
        self.threshold.set_target(params.threshold_db);
        self.ratio.set_target(params.ratio);
        self.knee.set_target(params.knee_db);
        self.makeup.set_target(params.total_makeup_db());
        self.mix.set_target(params.mix);
        self.update_curve();
        Ok(())
    }

    /// Current gain reduction in dB (≥ 0, the largest over the channels, makeup excluded),
    /// for meters.
    pub fn gain_reduction_db(&self) -> f64 {
        let r = self.ballistics.iter().fold(0.0f32, |m, b| m.max(b.value()));
        f64::from(r) * DB_PER_LOG2
    }

    fn apply_times(&mut self) {
        let p = &self.params;
        for b in &mut self.ballistics {
            b.set_times(
                p.attack_ms,
                p.release_ms,
                p.adaptive_release,
                self.sample_rate,
            );
        }
    }

    fn update_curve(&mut self) {
        let (t, r, k) = (
            self.threshold.current(),
            self.ratio.current(),
            self.knee.current(),
        );
        let scale = f64::from(self.sidechain.log_scale());
        self.gain_computer = GainComputer::new(t, r, k, scale);
        debug_assert!(self
            .gain_computer
            .agrees_with(&Curve::compressor(t, r.max(1.0), k)));
        // Below the knee the reduction is exactly 0. The bound keeps a margin (0.01 dB) far
        // larger than the error of the fast log2 (2e-4 dB), so that every value at or below it
        // gives 0 from the curve too, and skipping the curve changes nothing.
        let below_db = t - 0.5 * k - 0.01;
        let log2_amp = below_db / DB_PER_LOG2 / f64::from(self.sidechain.log_scale());
        self.quiet = libm::exp2(log2_amp) as f32;
    }

    fn is_smoothing(&self) -> bool {
        self.threshold.is_smoothing()
            || self.ratio.is_smoothing()
            || self.knee.is_smoothing()
            || self.makeup.is_smoothing()
            || self.mix.is_smoothing()
    }

    /// Processes up to [`BLOCK`] frames (not crossing the grid) with constant curve, makeup
    /// (log2 units) and mix.
    #[inline(always)]
    fn run_block(&mut self, frames: &mut [[f32; CH]], link: f32, makeup: f32, mix: f32) {
        let n = frames.len();
        debug_assert!(n <= to_grid(self.frames));
        let start = self.frames;
        self.frames = self.frames.wrapping_add(n as u32);
        let flush = (self.frames as usize).is_multiple_of(BLOCK);
        let gp = GainPath {
            gc: self.gain_computer,
            makeup,
            mix,
        };
        if link >= 1.0 || CH == 1 {
            self.run_linked(frames, &gp, start, flush);
        } else {
            self.pending = None;
            self.run_unlinked(frames, &gp, link, flush);
        }
    }

    /// Linked: one level per frame (the loudest channel's), one set of ballistics, one gain.
    /// Each stage is a plain loop over the block: detector and gain computer (vectorised),
    /// the ballistics' dependency chain (sequential), exponential and gains (vectorised).
    #[inline(always)]
    fn run_linked(&mut self, frames: &mut [[f32; CH]], gp: &GainPath, start: u32, flush: bool) {
        let n = frames.len();
        let Some([b]) = self.ballistics.first_chunk_mut::<1>() else {
            return;
        };
        let r = &mut self.scratch.linked[..n];
        let raw = self.sidechain.is_plain_peak();
        if !raw {
            self.sidechain
                .detect_linked(frames, &mut self.scratch.ch[..n], r, flush);
        }
        // At rest and below the knee throughout: the gain is constant (exactly: see
        // `update_curve`), and the ballistics stay at rest.
        let quiet = b.is_at_rest()
            && if raw {
                loudest_at_most(frames.as_flattened(), self.quiet)
            } else {
                loudest_at_most(r, self.quiet)
            };
        if quiet {
            self.delay.process(frames);
            apply_constant(frames, gp.gain(0.0, gp.mix < 1.0));
            // Every target and state in the block is 0 (a pending pair too: at rest, its first
            // frame's target and the state before it were 0).
            let end = start.wrapping_add(n as u32);
            self.pending = (end & 1 == 1).then_some((0.0, 0.0));
            return;
        }
        if raw {
            for (t, f) in r.iter_mut().zip(frames.iter()) {
                *t = gp.target(peak_level(f));
            }
        } else {
            for t in r.iter_mut() {
                *t = gp.target(*t);
            }
        }
        self.delay.process(frames);
        let kind = b.kind();
        if kind.adaptive {
            self.pending = None;
            with_chain!(kind, run_chain::<_>(b, r));
        } else if kind.attack_faster {
            self.pending = linked_pairs::<true>(b, r, start, self.pending);
        } else {
            self.pending = linked_pairs::<false>(b, r, start, self.pending);
        }
        if flush {
            b.settle();
        }
        if gp.mix < 1.0 {
            for (f, &y) in frames.iter_mut().zip(r.iter()) {
                let g = gp.gain(y, true);
                for x in f.iter_mut() {
                    *x *= g;
                }
            }
        } else {
            for (f, &y) in frames.iter_mut().zip(r.iter()) {
                let g = gp.gain(y, false);
                for x in f.iter_mut() {
                    *x *= g;
                }
            }
        }
    }

    /// Unlinked (or partly linked): per-channel levels, ballistics and gains.
    #[inline(always)]
    fn run_unlinked(&mut self, frames: &mut [[f32; CH]], gp: &GainPath, link: f32, flush: bool) {
        let lv = &mut self.scratch.ch[..frames.len()];
        self.sidechain.detect(frames, lv, flush);
        // Levels as plain log2 of the detector values (the scale is in the gain computer).
        block_levels(lv, 1.0, link);
        for v in lv.as_flattened_mut() {
            *v = gp.gc.reduction(*v);
        }
        run_ballistics(&mut self.ballistics, lv);
        let mixed = gp.mix < 1.0;
        for g in lv.as_flattened_mut() {
            *g = gp.gain(*g, mixed);
        }
        self.delay.process(frames);
        for (f, g) in frames.iter_mut().zip(lv.iter()) {
            for (x, g) in f.iter_mut().zip(g) {
                *x *= g;
            }
        }
        if flush {
            self.ballistics.iter_mut().for_each(Ballistics::settle);
        }
    }
}

/// The linked ballistics without adaptive release over a block of targets `r` (in place:
/// targets in, outputs out) starting at frame `start` since the reset: pairs of frames
/// `(2k, 2k + 1)` go through the composed step of [`PairChain`]. A block that starts in the
/// middle of a pair finishes it from `pending`; one that ends in the middle of a pair returns
/// the new `pending`. The arithmetic of every frame depends only on its position in the pairs,
/// never on the block split.
#[inline(always)]
fn linked_pairs<const ATTACK_FASTER: bool>(
    b: &mut Ballistics,
    r: &mut [f32],
    start: u32,
    pending: Option<(f32, f32)>,
) -> Option<(f32, f32)> {
    let pc = PairChain::<ATTACK_FASTER>::new(b);
    let mut y = b.fast();
    let skip = usize::from(start & 1 == 1).min(r.len());
    let (head, r) = r.split_at_mut(skip);
    if let Some(x) = head.first_mut() {
        *x = match pending {
            Some((x0, before)) => pc.pair(before, x0, *x),
            // Only after a change of mode (e.g. from adaptive release): one plain step.
            None => pc.step(y, *x),
        };
        y = *x;
    }
    let (pairs, tail) = r.split_at_mut(r.len() & !1);
    y = pc.run(y, pairs);
    let pending = tail.first_mut().map(|x| {
        let (x0, before) = (*x, y);
        y = pc.step(before, x0);
        *x = y;
        (x0, before)
    });
    b.set_fast(y);
    pending
}

/// The gain computer of a [`Compressor`]: the static curve ([`CompressorCurve`], Giannoulis et
/// al. eq. 4) in `log2` units and `f32`, as plain compare-selects so loops over it vectorise.
/// It maps `x = log2(detector value)` (the level in `log2` amplitude units is `scale · x`:
/// `scale` is 1 for peak and ½ for mean squares, folded into the constants) to the gain
/// *reduction* (≥ 0, `log2` units).
#[derive(Debug, Clone, Copy, PartialEq)]
struct GainComputer {
    /// Lower knee edge, `(T - W/2) / scale`.
    lower: f32,
    /// Knee width, `W / scale`.
    w: f32,
    /// `scale² · slope / (2 W)`: the knee's quadratic (0 for a hard knee).
    knee_k: f32,
    /// `scale · (1 - 1/R)`.
    slope: f32,
    /// `scale`, for the debug-build check against [`Curve`].
    scale: f32,
}

impl GainComputer {
    fn new(threshold_db: f64, ratio: f64, knee_db: f64, scale: f64) -> Self {
        let slope = 1.0 - 1.0 / ratio.max(1.0);
        let t = threshold_db / DB_PER_LOG2;
        let w = knee_db / DB_PER_LOG2;
        Self {
            lower: ((t - 0.5 * w) / scale) as f32,
            w: (w / scale) as f32,
            knee_k: if w > 0.0 {
                (scale * scale * slope / (2.0 * w)) as f32
            } else {
                0.0
            },
            slope: (scale * slope) as f32,
            scale: scale as f32,
        }
    }

    /// Reduction (≥ 0, log2 units) at `x = log2(detector value)`: with `u` the (scaled)
    /// distance above the knee's lower edge and `d = clamp(u, 0, W)` its position in the knee,
    /// `knee_k · d² + slope · (u - d)` for `u ≥ 0`, else 0. The quadratic is tangent to the
    /// line `slope · (u - W/2)` at the knee's upper edge (`knee_k · W² = slope · W / 2`), so
    /// this is exactly the three-piece curve; below the knee both terms are exactly 0.
    #[inline(always)]
    fn reduction(&self, x: f32) -> f32 {
        let u = x - self.lower;
        let u = if u > 0.0 { u } else { 0.0 };
        let d = if u < self.w { u } else { self.w };
        self.knee_k * (d * d) + self.slope * (u - d)
    }

    /// True when the whole fast target path (the bit-level [`sidechain::log2`] and this gain
    /// computer) agrees with the reference path (the series [`fastmath::log2`] and the shared
    /// form of the curve, [`Curve`]) to 1e-4 (relative) around and beyond the knee: a
    /// debug-build check of the specialisation.
    fn agrees_with(&self, curve: &Curve) -> bool {
        (-24..=24).all(|i| {
            let x = self.lower + self.w * 0.5 + i as f32 * (0.05 + self.w / 8.0);
            let v = libm::exp2f(x.clamp(-99.0, 33.0));
            let want = curve.compress(self.scale * fastmath::log2(v));
            (self.reduction(sidechain::log2(v)) - want).abs() <= 1e-4 + 1e-6 * want.abs()
        })
    }
}

/// Constants of the gain path of one block.
#[derive(Debug, Clone, Copy)]
struct GainPath {
    gc: GainComputer,
    /// Makeup, log2 units.
    makeup: f32,
    mix: f32,
}

impl GainPath {
    /// Target reduction (log2 units) for a detector value.
    #[inline(always)]
    fn target(&self, v: f32) -> f32 {
        self.gc.reduction(sidechain::log2(v))
    }

    /// The gain of a frame from its smoothed reduction `r` (log2 units): makeup, exponential
    /// and, when `mixed`, the dry/wet mix folded in (`mix · g + (1 - mix)`).
    #[inline(always)]
    fn gain(&self, r: f32, mixed: bool) -> f32 {
        let g = sidechain::exp2(self.makeup - r);
        if mixed {
            self.mix * g + (1.0 - self.mix)
        } else {
            g
        }
    }
}

/// True when no value of `v` exceeds `limit` in magnitude (NaN counts as silence); eight
/// running maxima, so it vectorises.
#[inline(always)]
fn loudest_at_most(v: &[f32], limit: f32) -> bool {
    let mut m = [0.0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (m, &x) in m.iter_mut().zip(c) {
            let x = x.abs();
            *m = if x > *m { x } else { *m };
        }
    }
    for &x in chunks.remainder() {
        let x = x.abs();
        m[0] = if x > m[0] { x } else { m[0] };
    }
    m.iter().all(|&m| m <= limit)
}

#[inline(always)]
fn apply_constant<const CH: usize>(frames: &mut [[f32; CH]], g: f32) {
    for x in frames.as_flattened_mut() {
        *x *= g;
    }
}

impl<const CH: usize, const N: usize> Default for Compressor<CH, N> {
    fn default() -> Self {
        Self::new(CompressorParams::default())
    }
}

impl<const CH: usize, const N: usize> Processor<CH> for Compressor<CH, N> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        let p = self.params;
        p.validate()?;
        let lookahead = self.sidechain.configure_for_rate(
            p.sidechain_hpf_hz,
            p.detector,
            p.rms_window_ms,
            p.lookahead_ms,
            spec.sample_rate,
            N,
        )?;
        self.sample_rate = spec.sample_rate;
        self.prepared = true;
        self.delay.set_len(lookahead);
        self.apply_times();
        for (s, v) in [
            (&mut self.threshold, p.threshold_db),
            (&mut self.ratio, p.ratio),
            (&mut self.knee, p.knee_db),
            (&mut self.makeup, p.total_makeup_db()),
            (&mut self.mix, p.mix),
        ] {
            s.set_ramp(PARAM_RAMP_MS, spec.sample_rate);
            s.set_immediate(v);
        }
        self.reset();
        Ok(())
    }

    fn reset(&mut self) {
        self.delay.reset();
        self.sidechain.reset();
        self.ballistics.iter_mut().for_each(Ballistics::reset);
        self.frames = 0;
        self.pending = None;
        for s in [
            &mut self.threshold,
            &mut self.ratio,
            &mut self.knee,
            &mut self.makeup,
            &mut self.mix,
        ] {
            s.reset();
        }
        self.update_curve();
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        match self.avx2 {
            Some(t) => t.run(
                #[inline(always)]
                || self.process_frames(frames),
            ),
            None => self.process_frames(frames),
        }
    }

    fn latency(&self) -> usize {
        self.delay.len()
    }
}

impl<const CH: usize, const N: usize> Compressor<CH, N> {
    /// [`Processor::process`] (on the route chosen at construction).
    #[inline(always)]
    fn process_frames(&mut self, frames: &mut [[f32; CH]]) {
        let link = self.params.link as f32;
        let mut rest = frames;
        while !rest.is_empty() {
            let n = rest.len().min(to_grid(self.frames));
            let (block, tail) = rest.split_at_mut(n);
            rest = tail;
            if self.is_smoothing() {
                // Parameters ramp: one frame at a time through the same arithmetic.
                for frame in block.chunks_mut(1) {
                    self.threshold.next();
                    self.ratio.next();
                    self.knee.next();
                    self.update_curve();
                    let makeup = (self.makeup.next() / DB_PER_LOG2) as f32;
                    let mix = self.mix.next() as f32;
                    self.run_block(frame, link, makeup, mix);
                }
            } else {
                let makeup = (self.makeup.current() / DB_PER_LOG2) as f32;
                let mix = self.mix.current() as f32;
                self.run_block(block, link, makeup, mix);
            }
        }
        if link >= 1.0 {
            let b = self.ballistics[0];
            self.ballistics.iter_mut().skip(1).for_each(|x| *x = b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_testkit::signals;
    use std::vec::Vec;

    fn run(c: &mut Compressor<2>, x: &[[f32; 2]], chunk: usize) -> Vec<[f32; 2]> {
        let mut y = x.to_vec();
        for b in y.chunks_mut(chunk) {
            c.process(b);
        }
        y
    }

    /// The AVX2 build of the block loops (chosen at run time) gives the baseline build's
    /// output bit for bit: linked and unlinked, peak and RMS, with the sidechain high-pass,
    /// lookahead and mix, and while parameters ramp.
    #[test]
    fn the_avx2_route_is_bit_identical() {
        if Avx2::detect().is_none() {
            return;
        }
        let x = signals::music_like(48_000.0, 0.5, -3.0, 11);
        let cases = [
            CompressorParams::default(),
            CompressorParams {
                sidechain_hpf_hz: Some(60.0),
                lookahead_ms: 2.0,
                mix: 0.5,
                threshold_db: -30.0,
                ..CompressorParams::default()
            },
            CompressorParams {
                link: 0.5,
                detector: DetectorKind::Rms,
                adaptive_release: true,
                threshold_db: -30.0,
                ratio: 4.0,
                ..CompressorParams::default()
            },
        ];
        for p in cases {
            let make = |avx2| {
                let mut c = Compressor::<2>::new(p);
                c.avx2 = avx2;
                c.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
                c
            };
            let (mut wide, mut base) = (make(Avx2::detect()), make(None));
            let mut a = x.clone();
            let mut b = x.clone();
            for (k, (ca, cb)) in a.chunks_mut(300).zip(b.chunks_mut(300)).enumerate() {
                if k == 20 {
                    // A ramp: every smoothed parameter moves.
                    let q = CompressorParams {
                        threshold_db: p.threshold_db - 6.0,
                        ratio: p.ratio + 2.0,
                        makeup_db: 3.0,
                        ..p
                    };
                    wide.set_params(q).unwrap();
                    base.set_params(q).unwrap();
                }
                wide.process(ca);
                base.process(cb);
            }
            let same = a.iter().flatten().zip(b.iter().flatten());
            assert!(
                same.clone().all(|(u, v)| u.to_bits() == v.to_bits()),
                "{p:?}"
            );
            assert!(
                a.iter().zip(&x).any(|(u, v)| u != v),
                "the compressor did something"
            );
        }
    }

    /// The linked ballistics go two frames per chain step, in pairs aligned to the frame
    /// count: blocks that start or end inside a pair (odd splits, single frames, quiet
    /// stretches at rest) give the same output bit for bit, for attack faster or slower than
    /// the release.
    #[test]
    fn linked_pairs_are_split_invariant() {
        let music = signals::music_like(48_000.0, 0.5, -3.0, 3);
        // Silence (the at-rest path) between two loud stretches.
        let x: Vec<[f32; 2]> = music[..9_000]
            .iter()
            .copied()
            .chain(core::iter::repeat_n([0.0; 2], 30_001))
            .chain(music[9_000..].iter().copied())
            .collect();
        for (attack_ms, release_ms) in [(20.0, 200.0), (50.0, 5.0), (0.0, 0.0), (1.0, 1.0)] {
            let p = CompressorParams {
                threshold_db: -30.0,
                ratio: 4.0,
                attack_ms,
                release_ms,
                ..CompressorParams::default()
            };
            let make = || {
                let mut c = Compressor::<2>::new(p);
                c.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
                c
            };
            let whole = run(&mut make(), &x, x.len());
            for chunk in [1, 2, 3, 7, 31, 33, 100] {
                let split = run(&mut make(), &x, chunk);
                let bad = whole.iter().zip(&split).position(|(a, b)| {
                    a[0].to_bits() != b[0].to_bits() || a[1].to_bits() != b[1].to_bits()
                });
                assert_eq!(bad, None, "{attack_ms}/{release_ms} ms, chunks of {chunk}");
            }
        }
    }

    /// The fast target path (bit-level log2 and the specialised gain computer) matches the
    /// static curve of Giannoulis et al. (eq. 4, in `f64`) to 3e-4 dB, for peak and RMS
    /// scaling, hard and soft knees.
    #[test]
    fn gain_computer_matches_the_static_curve() {
        for (threshold_db, ratio, knee_db) in
            [(-18.0, 2.0, 6.0), (-40.0, 10.0, 0.0), (-6.0, 100.0, 48.0)]
        {
            let curve = CompressorCurve {
                threshold_db,
                ratio,
                knee_db,
            };
            for scale in [1.0, 0.5] {
                let gc = GainComputer::new(threshold_db, ratio, knee_db, scale);
                let mut level_db = -120.0;
                while level_db < 40.0 {
                    // The detector value whose level is `level_db` (a mean square for RMS).
                    let v = libm::exp2(level_db / DB_PER_LOG2 / scale) as f32;
                    let got = f64::from(gc.reduction(sidechain::log2(v))) * DB_PER_LOG2;
                    let want = -curve.gain_db(level_db);
                    assert!(
                        (got - want).abs() < 3e-4 + 1e-6 * want.abs(),
                        "{threshold_db} dB {ratio}:1 {knee_db} dB, scale {scale}, {level_db} dB: {got} vs {want}"
                    );
                    level_db += 0.37;
                }
            }
        }
    }
}
