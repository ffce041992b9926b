//! The parametric EQ: `N` bands of any kind in series, click-free changes.

use crate::design::{design_unchecked, Sections};
use crate::fast::{single_precision_ok, FastSection, Plan};
use crate::params::{BandParams, MAX_SECTIONS};
use crate::svf::{SvfCoeffs, SvfState};
use lathe_core::{Error, ProcessSpec, Processor, Result, Smoothed};
use num_complex::Complex64;

/// Samples between two redesigns of a moving band; coefficients are interpolated linearly
/// within a segment.
pub const SEGMENT_FRAMES: u32 = 32;
/// Filter state is checked for non-finite values (and denormal-range values are flushed) every
/// this many frames, counted from `prepare`/`reset` so the result never depends on block sizes.
pub const SANITIZE_FRAMES: u64 = 64;
/// Default smoothing time of parameter changes, in ms.
pub const DEFAULT_SMOOTHING_MS: f64 = 20.0;
/// Longest smoothing time accepted by [`ParametricEq::set_smoothing_ms`], in ms.
pub const MAX_SMOOTHING_MS: f64 = 1_000.0;
/// Sample rate assumed until `prepare` is called, in Hz.
pub const DEFAULT_SAMPLE_RATE: f64 = 48_000.0;

/// What a band is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Motion {
    /// Coefficients at their target.
    Still,
    /// Frequency, gain and Q glide in the parameter domain; redesign every segment.
    Glide,
    /// Structural change (kind, order, design, on/off): coefficients morph from `morph_from`
    /// to `morph_to` along a smoothstep of `morph_t` (0 → 1), every sample.
    Morph,
}

/// The cold (control) side of one band.
#[derive(Debug, Clone, Copy)]
struct BandControl {
    /// Target parameters (validated).
    params: BandParams,
    /// Target design at the current rate (empty when disabled).
    target: Sections,
    /// Target coefficients in SVF form.
    target_svf: [SvfCoeffs; MAX_SECTIONS],
    /// Number of sections of the target (0 when disabled).
    target_len: usize,
    log2_freq: Smoothed,
    gain_db: Smoothed,
    ln_q: Smoothed,
    morph_t: Smoothed,
    morph_from: [SvfCoeffs; MAX_SECTIONS],
    morph_to: [SvfCoeffs; MAX_SECTIONS],
    motion: Motion,
    /// Glide: samples left in the current segment (0: a new segment starts with the next
    /// sample).
    seg_left: u32,
    /// True when the current segment is the last of the motion.
    seg_last: bool,
    seg_target: [SvfCoeffs; MAX_SECTIONS],
    step: [SvfCoeffs; MAX_SECTIONS],
}

impl BandControl {
    fn new(params: BandParams) -> Self {
        Self {
            params,
            target: Sections::EMPTY,
            target_svf: [SvfCoeffs::IDENTITY; MAX_SECTIONS],
            target_len: 0,
            log2_freq: Smoothed::new(libm::log2(params.freq_hz)),
            gain_db: Smoothed::new(params.gain_db),
            ln_q: Smoothed::new(libm::log(params.q)),
            morph_t: Smoothed::new(1.0),
            morph_from: [SvfCoeffs::IDENTITY; MAX_SECTIONS],
            morph_to: [SvfCoeffs::IDENTITY; MAX_SECTIONS],
            motion: Motion::Still,
            seg_left: 0,
            seg_last: false,
            seg_target: [SvfCoeffs::IDENTITY; MAX_SECTIONS],
            step: [SvfCoeffs::ZERO_STEP; MAX_SECTIONS],
        }
    }

    /// Designs the target of `params` at `sample_rate` (parameters already validated).
    fn design_target(&mut self, sample_rate: f64) {
        if self.params.enabled {
            self.target = design_unchecked(&self.params, sample_rate);
            self.target_len = self.target.len();
            self.target_svf = to_svf(&self.target);
        } else {
            self.target = Sections::EMPTY;
            self.target_len = 0;
        }
    }

    fn set_ramps(&mut self, ramp_ms: f64, sample_rate: f64) {
        for s in [
            &mut self.log2_freq,
            &mut self.gain_db,
            &mut self.ln_q,
            &mut self.morph_t,
        ] {
            s.set_ramp(ramp_ms, sample_rate);
        }
    }

    /// Jumps every smoother to the target parameters.
    fn snap_smoothers(&mut self) {
        self.log2_freq
            .set_immediate(libm::log2(self.params.freq_hz));
        self.gain_db.set_immediate(self.params.gain_db);
        self.ln_q.set_immediate(libm::log(self.params.q));
        self.morph_t.set_immediate(1.0);
        self.motion = Motion::Still;
        self.seg_left = 0;
        self.seg_last = false;
    }
}

impl SvfCoeffs {
    const ZERO_STEP: Self = Self {
        a1: 0.0,
        a2: 0.0,
        a3: 0.0,
        m0: 0.0,
        m1: 0.0,
        m2: 0.0,
    };
}

fn to_svf(s: &Sections) -> [SvfCoeffs; MAX_SECTIONS] {
    let mut out = [SvfCoeffs::IDENTITY; MAX_SECTIONS];
    for (o, c) in out.iter_mut().zip(s.as_slice()) {
        // Every design is stable by construction; the identity is a safe fallback.
        *o = SvfCoeffs::from_coeffs(c).unwrap_or(SvfCoeffs::IDENTITY);
    }
    out
}

/// One running section: coefficients and state.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Section<const CH: usize> {
    c: SvfCoeffs,
    s: SvfState<CH>,
}

impl<const CH: usize> Section<CH> {
    const IDLE: Self = Self {
        c: SvfCoeffs::IDENTITY,
        s: SvfState::ZERO,
    };
}

/// A parametric equaliser of `N` bands over `CH` channels, each band any [`FilterKind`]
/// (peak, shelves, Butterworth low-/high-pass up to 48 dB/oct, band-pass, notch, all-pass,
/// tilt) in the [`Design::Matched`] (default) or [`Design::Rbj`] design.
///
/// # Topology and smoothing
///
/// Every band runs as a cascade of trapezoidal SVFs (A. Simper, Cytomic, "Linear trapezoidal
/// integrated SVF"; see [`crate::svf`] for why it was chosen: the SVF realises the matched
/// designs exactly, keeps low-frequency precision, and provably never gains energy under
/// per-sample coefficient changes), with `f64` state while parameters move (see "Cost" for
/// the still path). Parameter changes while running are smoothed over
/// [`smoothing_ms`](ParametricEq::smoothing_ms) (20 ms by default):
///
/// - frequency (log scale), gain (dB) and Q (log scale) glide as parameters; the band is
///   redesigned every [`SEGMENT_FRAMES`] samples and its coefficients are interpolated
///   linearly in between, so automation sounds like turning the knob, never like a click;
/// - a change of kind, order or design, or switching a band on or off, morphs the
///   coefficients per sample along a smoothstep curve (on/off is a cross-fade with the dry
///   signal; sections a band gains start from silence, sections it loses fade to bypass).
///
/// Every interpolated coefficient set is a convex combination of valid ones, so the SVF's
/// state norm cannot grow during any of this (see [`crate::svf`]). Changes made before any
/// audio was processed since `prepare`/`reset` apply at once; `reset` and `prepare` jump to
/// the targets.
///
/// # Cost
///
/// A disabled band costs nothing. While no change is in progress, a still path runs all active
/// sections as one cascade in a skewed wavefront (section `j` filters frame `t − j` while
/// section 0 filters frame `t`), so the sections' recursions overlap instead of waiting for
/// each other. Each section runs there in a state-space form equivalent to the SVF (the
/// band-pass state scaled by `2·a2`; 6 multiplications and 6 additions per sample instead of
/// 7 and 8, and a shorter recursion), in `f64` if one of its poles lies within 1/32 of `z = 1`
/// or within 1/128 of the unit circle (low corners, sharp resonances: at 48 kHz roughly below
/// 250 Hz, or `Q` above `ω·64`), else in `f32`; every section before the last `f64` one runs
/// in `f64` too. Measured over every kind, gains ±24 dB, `Q` 0.1–40 and 44.1–192 kHz, an `f32`
/// section adds rounding noise at most −130 dB below the larger of its input and output,
/// typically −140 dB; the output's own `f32` rounding is at −150 dB. For stereo the wavefront
/// runs in SSE2 vectors: an `f64` section per `[f64; 2]`, two `f32` sections per `[f32; 4]`.
/// The state moves between the SVF form and this one at the frames where a change starts or
/// ends, so the output is still identical for any block split.
///
/// # Non-finite input
///
/// NaN and infinite input samples are replaced by 0.0 on the way in (the limiter's policy), so
/// they never reach the filter state and the output stays finite. State that still goes
/// non-finite (a finite input so large that the filters overflow) never poisons it for good:
/// every [`SANITIZE_FRAMES`] frames (a fixed grid counted from `prepare`/`reset`) state that
/// is not finite is cleared, and state below [`lathe_core::DENORMAL_THRESHOLD`] is flushed to
/// zero. (In the still path's wavefront section `j` is sanitised when it has filtered frame
/// `64k − 1 + S − 1 − j` of `S` sections, together with what it hands on, so that the last
/// section is clean from frame `64k` on.)
///
/// ```
/// use lathe_core::{Processor, ProcessSpec};
/// use lathe_eq::{BandParams, ParametricEq};
///
/// let mut eq: ParametricEq<2, 4> = ParametricEq::new();
/// eq.set_band(0, BandParams::high_pass(30.0, 4)).unwrap();
/// eq.set_band(1, BandParams::peak(3_000.0, -2.0, 1.4)).unwrap();
/// eq.prepare(&ProcessSpec::new(44_100.0, 512)).unwrap();
/// let db = 20.0 * eq.response(3_000.0).norm().log10();
/// assert!((db + 2.0).abs() < 0.01);
/// let mut audio = vec![[0.1f32, -0.1]; 512];
/// eq.process(&mut audio);
/// ```
///
/// [`FilterKind`]: crate::FilterKind
/// [`Design::Matched`]: crate::Design::Matched
/// [`Design::Rbj`]: crate::Design::Rbj
#[derive(Debug, Clone)]
pub struct ParametricEq<const CH: usize, const N: usize> {
    sample_rate: f64,
    smoothing_ms: f64,
    /// Audio was processed since the last prepare/reset (changes are then smoothed).
    running: bool,
    /// Some band is gliding or morphing.
    moving: bool,
    /// The state lives in `fast` (the still path's form) rather than in `sections`.
    fast_active: bool,
    /// Frames processed since prepare/reset, for the sanitising grid.
    pos: u64,
    /// Sections in use per band (0 = band skipped).
    lens: [usize; N],
    /// The sections of all bands, packed in band order at the start of the flattened array
    /// (band `i` owns `lens[i]` sections after those of bands `0..i`), so the still path runs
    /// one contiguous cascade.
    sections: [[Section<CH>; MAX_SECTIONS]; N],
    /// The same sections in the still path's form, valid while `fast_active`.
    fast: [[FastSection<CH>; MAX_SECTIONS]; N],
    /// Layout of the still path, valid while `fast_active`.
    plan: Plan,
    bands: [BandControl; N],
}

impl<const CH: usize, const N: usize> Default for ParametricEq<CH, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CH: usize, const N: usize> ParametricEq<CH, N> {
    /// An EQ with every band disabled (flat), designed for 48 kHz until `prepare`.
    pub fn new() -> Self {
        let off = BandParams {
            enabled: false,
            ..BandParams::default()
        };
        let mut eq = Self {
            sample_rate: DEFAULT_SAMPLE_RATE,
            smoothing_ms: DEFAULT_SMOOTHING_MS,
            running: false,
            moving: false,
            fast_active: false,
            pos: 0,
            lens: [0; N],
            sections: [[Section::IDLE; MAX_SECTIONS]; N],
            fast: [[FastSection::IDLE; MAX_SECTIONS]; N],
            plan: Plan::EMPTY,
            bands: [BandControl::new(off); N],
        };
        for b in &mut eq.bands {
            b.set_ramps(DEFAULT_SMOOTHING_MS, DEFAULT_SAMPLE_RATE);
        }
        eq
    }

    /// Sample rate the bands are designed for, in Hz (48 kHz before `prepare`).
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Parameters of band `index` (the target, if a change is still being smoothed).
    pub fn band(&self, index: usize) -> Option<BandParams> {
        self.bands.get(index).map(|b| b.params)
    }

    /// Parameters of all bands.
    pub fn bands(&self) -> [BandParams; N] {
        core::array::from_fn(|i| self.bands[i].params)
    }

    /// Sets band `index`. While audio is running the change is smoothed; before that it applies
    /// at once. On error the band keeps its previous parameters.
    ///
    /// A disabled band is only checked for the ranges that do not depend on the sample rate;
    /// enabling it checks `freq_hz` against Nyquist too.
    ///
    /// # Errors
    /// [`Error::CapacityExceeded`] when `index >= N`; the errors of [`BandParams::validate`]
    /// ([`Error::AboveNyquist`], [`Error::OutOfRange`]).
    pub fn set_band(&mut self, index: usize, params: BandParams) -> Result<()> {
        if index >= N {
            return Err(Error::CapacityExceeded {
                needed: index + 1,
                capacity: N,
            });
        }
        if params.enabled {
            params.validate(self.sample_rate)?;
        } else {
            params.validate_ranges()?;
        }
        let old = self.bands[index].params;
        if old == params {
            return Ok(());
        }
        let ramp = self.bands[index].morph_t.ramp_len();
        self.leave_fast();
        let band = &mut self.bands[index];
        band.params = params;
        band.design_target(self.sample_rate);
        if !self.running || ramp == 0 || (!params.enabled && self.lens[index] == 0) {
            self.apply_now(index);
        } else if old.same_structure(&params) && band.motion != Motion::Morph && params.enabled {
            band.log2_freq.set_target(libm::log2(params.freq_hz));
            band.gain_db.set_target(params.gain_db);
            band.ln_q.set_target(libm::log(params.q));
            band.motion = Motion::Glide;
            band.seg_last = false;
            self.moving = true;
        } else {
            self.start_morph(index);
        }
        Ok(())
    }

    /// Offset of band `index`'s first section in the packed storage.
    fn offset(&self, index: usize) -> usize {
        self.lens[..index].iter().sum()
    }

    /// Gives band `index` `new_len` sections, moving the later bands' sections; new sections
    /// are idle (identity, zero state), dropped ones are cleared.
    fn resize_band(&mut self, index: usize, new_len: usize) {
        let old_len = self.lens[index];
        if new_len == old_len {
            return;
        }
        let off = self.offset(index);
        let total: usize = self.lens.iter().sum();
        let flat = self.sections.as_flattened_mut();
        flat.copy_within(off + old_len..total, off + new_len);
        if new_len > old_len {
            flat[off + old_len..off + new_len].fill(Section::IDLE);
        } else {
            flat[total - (old_len - new_len)..total].fill(Section::IDLE);
        }
        self.lens[index] = new_len;
    }

    /// Jumps band `index` to its target coefficients (keeping state where sections persist).
    fn apply_now(&mut self, index: usize) {
        self.leave_fast();
        self.bands[index].snap_smoothers();
        let len = self.bands[index].target_len;
        self.resize_band(index, len);
        let off = self.offset(index);
        let band = &self.bands[index];
        for (sec, c) in self.sections.as_flattened_mut()[off..off + len]
            .iter_mut()
            .zip(&band.target_svf)
        {
            sec.c = *c;
        }
        self.update_moving();
    }

    /// Starts a coefficient morph of band `index` from where it is to its target.
    fn start_morph(&mut self, index: usize) {
        self.leave_fast();
        let old_len = self.lens[index];
        let new_len = self.bands[index].target_len;
        let len = old_len.max(new_len);
        self.resize_band(index, len);
        let off = self.offset(index);
        let band = &mut self.bands[index];
        for (j, sec) in self.sections.as_flattened_mut()[off..off + len]
            .iter_mut()
            .enumerate()
        {
            if j >= old_len {
                // A section coming in: fades in from the dry signal, state from zero.
                sec.c = band.target_svf[j].bypassed();
            }
            band.morph_from[j] = sec.c;
            band.morph_to[j] = if j < new_len {
                band.target_svf[j]
            } else {
                sec.c.bypassed()
            };
        }
        band.log2_freq
            .set_immediate(libm::log2(band.params.freq_hz));
        band.gain_db.set_immediate(band.params.gain_db);
        band.ln_q.set_immediate(libm::log(band.params.q));
        band.morph_t.set_immediate(0.0);
        band.morph_t.set_target(1.0);
        band.motion = Motion::Morph;
        band.seg_left = 0;
        band.seg_last = false;
        self.moving = true;
    }

    fn update_moving(&mut self) {
        self.moving = self.bands.iter().any(|b| b.motion != Motion::Still);
    }

    /// Smoothing time of parameter changes in ms.
    pub fn smoothing_ms(&self) -> f64 {
        self.smoothing_ms
    }

    /// Sets the smoothing time of later parameter changes, in ms (0 = changes jump; they stay
    /// stable but may click). Changes already in progress finish at their old speed.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] (`"smoothing_ms"`, 0 ..= [`MAX_SMOOTHING_MS`]).
    pub fn set_smoothing_ms(&mut self, ms: f64) -> Result<()> {
        Error::check_range("smoothing_ms", ms, 0.0, MAX_SMOOTHING_MS)?;
        self.smoothing_ms = ms;
        for b in &mut self.bands {
            b.set_ramps(ms, self.sample_rate);
        }
        Ok(())
    }

    /// True while a parameter change is being smoothed.
    pub fn is_smoothing(&self) -> bool {
        self.moving
    }

    /// Frequency response of the whole EQ at `freq_hz` Hz, for the target parameters (what
    /// the EQ settles to), as designed at the current sample rate.
    pub fn response(&self, freq_hz: f64) -> Complex64 {
        self.bands.iter().fold(Complex64::new(1.0, 0.0), |acc, b| {
            acc * b.target.response(freq_hz, self.sample_rate)
        })
    }

    /// Frequency response of band `index` alone at `freq_hz` Hz (1 for a disabled band or an
    /// index out of range).
    pub fn band_response(&self, index: usize, freq_hz: f64) -> Complex64 {
        self.bands.get(index).map_or(Complex64::new(1.0, 0.0), |b| {
            b.target.response(freq_hz, self.sample_rate)
        })
    }

    /// The digital sections band `index` settles to (empty when disabled).
    pub fn band_sections(&self, index: usize) -> Option<Sections> {
        self.bands.get(index).map(|b| b.target)
    }

    /// Starts the next segment of gliding band `band`: redesigns at the smoothed parameters
    /// reached at the end of the segment and sets the per-sample steps towards them.
    fn next_segment(band: &mut BandControl, sections: &[Section<CH>], sample_rate: f64) {
        let lf = band.log2_freq.skip(SEGMENT_FRAMES as usize);
        let g = band.gain_db.skip(SEGMENT_FRAMES as usize);
        let lq = band.ln_q.skip(SEGMENT_FRAMES as usize);
        band.seg_last = !(band.log2_freq.is_smoothing()
            || band.gain_db.is_smoothing()
            || band.ln_q.is_smoothing());
        if band.seg_last {
            band.seg_target = band.target_svf;
        } else {
            let p = BandParams {
                freq_hz: libm::exp2(lf),
                gain_db: g,
                q: libm::exp(lq),
                ..band.params
            };
            band.seg_target = to_svf(&design_unchecked(&p, sample_rate));
        }
        for ((step, sec), target) in band.step.iter_mut().zip(sections).zip(&band.seg_target) {
            *step = sec.c.step_to(target, SEGMENT_FRAMES);
        }
        band.seg_left = SEGMENT_FRAMES;
    }

    /// Advances a moving band's coefficients (`sections`, all the band has) by one sample;
    /// returns true when its motion ended with this sample.
    #[inline]
    fn advance_band(
        band: &mut BandControl,
        sections: &mut [Section<CH>],
        sample_rate: f64,
    ) -> bool {
        match band.motion {
            Motion::Still => false,
            Motion::Glide => {
                if band.seg_left == 0 {
                    Self::next_segment(band, sections, sample_rate);
                }
                for (sec, step) in sections.iter_mut().zip(&band.step) {
                    sec.c.advance(step);
                }
                band.seg_left -= 1;
                if band.seg_left > 0 {
                    return false;
                }
                // Land exactly on the segment target on the segment's last sample.
                for (sec, c) in sections.iter_mut().zip(&band.seg_target) {
                    sec.c = *c;
                }
                if band.seg_last {
                    band.motion = Motion::Still;
                    band.seg_last = false;
                    return true;
                }
                false
            }
            Motion::Morph => {
                let t = band.morph_t.next();
                // Smoothstep: the morph starts and ends with zero slope, so the ramp's corners
                // do not splatter (a linear cross-fade leaves 1/f² side bands).
                let s = t * t * (3.0 - 2.0 * t);
                let done = !band.morph_t.is_smoothing();
                for ((sec, from), to) in sections
                    .iter_mut()
                    .zip(&band.morph_from)
                    .zip(&band.morph_to)
                {
                    sec.c = if done { *to } else { from.lerp(to, s) };
                }
                if done {
                    band.motion = Motion::Still;
                }
                done
            }
        }
    }

    /// Processes frames while some band is moving: per-sample coefficient interpolation,
    /// frame by frame. Returns the number of frames processed: all of them, or fewer when the
    /// last motion ended (the still path takes over from the next frame).
    fn process_moving(&mut self, frames: &mut [[f32; CH]]) -> usize {
        let fs = self.sample_rate;
        for (done, frame) in frames.iter_mut().enumerate() {
            let mut x = frame.map(f64::from);
            let mut off = 0;
            let mut ended = false;
            let flat = self.sections.as_flattened_mut();
            for (band, &len) in self.bands.iter_mut().zip(self.lens.iter()) {
                let secs = &mut flat[off..off + len];
                ended |= Self::advance_band(band, secs, fs);
                for sec in secs.iter_mut() {
                    x = sec.s.tick(&sec.c, x);
                }
                off += len;
            }
            *frame = x.map(|v| v as f32);
            if ended {
                // Sections faded out by a finished morph (now exact bypasses) are dropped.
                for i in 0..N {
                    if self.bands[i].motion == Motion::Still
                        && self.lens[i] != self.bands[i].target_len
                    {
                        self.resize_band(i, self.bands[i].target_len);
                    }
                }
                self.update_moving();
                if !self.moving {
                    return done + 1;
                }
            }
        }
        frames.len()
    }

    /// Moves the state into the still path's form (and lays the still path out), unless it
    /// is there already.
    fn enter_fast(&mut self) {
        if self.fast_active {
            return;
        }
        let total: usize = self.lens.iter().sum();
        let secs = &self.sections.as_flattened()[..total];
        let fast = &mut self.fast.as_flattened_mut()[..total];
        let doubles = Plan::doubles(secs.iter().map(|s| single_precision_ok(&s.c)));
        for (j, (f, s)) in fast.iter_mut().zip(secs).enumerate() {
            *f = FastSection::from_svf(&s.c, &s.s, j >= doubles);
        }
        self.plan = Plan::build(fast, doubles);
        self.fast_active = true;
    }

    /// Moves the state back into SVF form (before coefficients change).
    fn leave_fast(&mut self) {
        if !self.fast_active {
            return;
        }
        let total: usize = self.lens.iter().sum();
        for (s, f) in self.sections.as_flattened_mut()[..total]
            .iter_mut()
            .zip(self.fast.as_flattened())
        {
            s.s = f.svf_state();
        }
        self.fast_active = false;
    }

    /// Processes frames with every band still: the fast path (see [`crate::fast`]), which
    /// sanitises its state itself on the same grid.
    fn process_still(&mut self, frames: &mut [[f32; CH]]) {
        self.enter_fast();
        let total: usize = self.lens.iter().sum();
        let secs = &mut self.fast.as_flattened_mut()[..total];
        self.plan.process(secs, frames, self.pos);
    }

    /// Sanitises the SVF state (the moving path's).
    fn sanitize(&mut self) {
        let total: usize = self.lens.iter().sum();
        for sec in self.sections.as_flattened_mut()[..total].iter_mut() {
            sec.s.sanitize();
        }
    }
}

/// True when some sample of `x` is NaN or infinite: the magnitude bits of a non-finite `f32`
/// are above those of the largest finite one. Integer compare-ors, so the scan vectorises to
/// three operations per four samples.
#[inline]
fn any_non_finite(x: &[f32]) -> bool {
    const MAX_FINITE: i32 = 0x7f7f_ffff;
    x.iter().fold(0i32, |bad, s| {
        bad | i32::from((s.to_bits() & 0x7fff_ffff) as i32 > MAX_FINITE)
    }) != 0
}

impl<const CH: usize, const N: usize> Processor<CH> for ParametricEq<CH, N> {
    /// Validates every enabled band at `spec.sample_rate`, redesigns all bands for it and
    /// clears the state (smoothing jumps to the targets).
    ///
    /// # Errors
    /// [`Error::UnsupportedSampleRate`]; [`Error::AboveNyquist`] (or another error of
    /// [`BandParams::validate`]) for the first enabled band that is invalid at this rate. On
    /// error nothing changes.
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        for b in &self.bands {
            if b.params.enabled {
                b.params.validate(spec.sample_rate)?;
            }
        }
        self.sample_rate = spec.sample_rate;
        let ms = self.smoothing_ms;
        for b in &mut self.bands {
            b.set_ramps(ms, spec.sample_rate);
            b.design_target(spec.sample_rate);
        }
        self.reset();
        Ok(())
    }

    fn reset(&mut self) {
        self.fast_active = false;
        self.lens = [0; N];
        self.sections = [[Section::IDLE; MAX_SECTIONS]; N];
        for i in 0..N {
            self.apply_now(i);
        }
        self.running = false;
        self.moving = false;
        self.pos = 0;
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        if frames.is_empty() {
            return;
        }
        self.running = true;
        // Non-finite input is silence (see the type docs): it never reaches the filter state.
        // (A branch-free scan first: it vectorises, and the replacement almost never runs.)
        // The AVX2 still path clears its input itself, piece by piece as it reads it.
        let still = !self.moving;
        if still {
            self.enter_fast();
        }
        if !(still && self.plan.silences_input()) && any_non_finite(frames.as_flattened()) {
            for s in frames.iter_mut().flatten() {
                *s = if s.is_finite() { *s } else { 0.0 };
            }
        }
        let mut rest = frames;
        // Moving: frame by frame, sanitised on the grid, until the last motion ends.
        while self.moving && !rest.is_empty() {
            let to_grid = (SANITIZE_FRAMES - self.pos % SANITIZE_FRAMES) as usize;
            let n = to_grid.min(rest.len());
            let done = self.process_moving(&mut rest[..n]);
            self.pos += done as u64;
            if self.pos.is_multiple_of(SANITIZE_FRAMES) {
                self.sanitize();
            }
            let tail = rest;
            rest = &mut tail[done..];
        }
        if !rest.is_empty() {
            self.process_still(rest);
            self.pos += rest.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::any_non_finite;

    #[test]
    fn the_scan_finds_exactly_the_non_finite_samples() {
        let finite = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
        ];
        assert!(!any_non_finite(&finite));
        assert!(!any_non_finite(&[]));
        for bad in [f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for at in [0, 4, 8] {
                let mut x = finite;
                x[at] = bad;
                assert!(any_non_finite(&x), "{bad} at {at}");
            }
        }
    }
}
