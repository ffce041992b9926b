//! Downward expander and noise gate with hysteresis, hold and range.

use crate::compressor::{to_grid, Scratch, BLOCK, DEFAULT_LOOKAHEAD_CAPACITY, PARAM_RAMP_MS};
use crate::curve::{Curve, ExpanderCurve};
use crate::detector::{run_ballistics, run_chain, with_chain, Ballistics, DetectorKind};
use crate::fastmath::DB_PER_LOG2;
use crate::sidechain::{self, block_levels, Delay, Sidechain};
use lathe_core::{ms_to_samples, Error, ProcessSpec, Processor, Result, Smoothed};

/// Parameters of an [`Expander`] (plain values, natural units).
///
/// A gate is an expander with a large ratio (e.g. 100) and a finite `range_db`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpanderParams {
    /// Threshold in dBFS, -120 ..= 0: below it the level is expanded downwards. Default -50.
    pub threshold_db: f64,
    /// Expansion ratio, 1 ..= 100 (1 = off, 100 ≈ gate). Default 4.
    pub ratio: f64,
    /// Width of the quadratic soft knee in dB, 0 ..= 24. Default 6.
    pub knee_db: f64,
    /// Largest attenuation in dB, 0 ..= 120. Default 40.
    pub range_db: f64,
    /// Hysteresis in dB, 0 ..= 24: once open, the gate closes only when the level falls this
    /// far below the opening level (`threshold_db + knee_db / 2`). Default 4.
    pub hysteresis_db: f64,
    /// Hold time in ms, 0 ..= 2000: once open, the gate closes only after the level has stayed
    /// below the closing level this long. Default 20.
    pub hold_ms: f64,
    /// Opening (attack) time constant in ms (63 %), 0 ..= 1000. Default 1.
    pub attack_ms: f64,
    /// Closing (release) time constant in ms (63 %), 0 ..= 10 000. Default 100.
    pub release_ms: f64,
    /// Stereo link, 0 ..= 1 (as [`CompressorParams::link`](crate::CompressorParams::link)).
    /// Default 1.
    pub link: f64,
    /// Sidechain high-pass in Hz, 10 ..= 2 000 and below Nyquist; `None` for full band.
    /// Default `None`.
    pub sidechain_hpf_hz: Option<f64>,
    /// Lookahead in ms, 0 ..= 100 (must fit the capacity `N`), so the gate opens before a
    /// transient. Default 0.
    pub lookahead_ms: f64,
    /// Level detector. Default peak.
    pub detector: DetectorKind,
    /// Averaging time of the RMS detector in ms, 0.1 ..= 1000. Default 10.
    pub rms_window_ms: f64,
}

impl Default for ExpanderParams {
    fn default() -> Self {
        Self {
            threshold_db: -50.0,
            ratio: 4.0,
            knee_db: 6.0,
            range_db: 40.0,
            hysteresis_db: 4.0,
            hold_ms: 20.0,
            attack_ms: 1.0,
            release_ms: 100.0,
            link: 1.0,
            sidechain_hpf_hz: None,
            lookahead_ms: 0.0,
            detector: DetectorKind::Peak,
            rms_window_ms: 10.0,
        }
    }
}

impl ExpanderParams {
    /// Checks every parameter against its range (sample-rate independent checks).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming the first offending parameter.
    pub fn validate(&self) -> Result<()> {
        Error::check_range("threshold_db", self.threshold_db, -120.0, 0.0)?;
        Error::check_range("ratio", self.ratio, 1.0, 100.0)?;
        Error::check_range("knee_db", self.knee_db, 0.0, 24.0)?;
        Error::check_range("range_db", self.range_db, 0.0, 120.0)?;
        Error::check_range("hysteresis_db", self.hysteresis_db, 0.0, 24.0)?;
        Error::check_range("hold_ms", self.hold_ms, 0.0, 2_000.0)?;
        Error::check_range("attack_ms", self.attack_ms, 0.0, 1_000.0)?;
        Error::check_range("release_ms", self.release_ms, 0.0, 10_000.0)?;
        Error::check_range("link", self.link, 0.0, 1.0)?;
        if let Some(f) = self.sidechain_hpf_hz {
            Error::check_range("sidechain_hpf_hz", f, 10.0, 2_000.0)?;
        }
        Error::check_range("lookahead_ms", self.lookahead_ms, 0.0, 100.0)?;
        Error::check_range("rms_window_ms", self.rms_window_ms, 0.1, 1_000.0)?;
        Ok(())
    }

    /// The static curve these parameters describe (without the gate's hysteresis).
    pub fn curve(&self) -> ExpanderCurve {
        ExpanderCurve {
            threshold_db: self.threshold_db,
            ratio: self.ratio,
            knee_db: self.knee_db,
            range_db: self.range_db,
        }
    }
}

/// A downward expander / noise gate with hysteresis, hold and range.
///
/// The sidechain (optional high-pass, peak or RMS level, stereo link) feeds a gate state
/// machine per channel:
/// - the gate **opens** when the level reaches `threshold_db + knee_db / 2` (where the
///   expander curve reaches 0 dB of attenuation) and the hold timer restarts;
/// - it **closes** once the level has stayed below the closing level (the opening level minus
///   `hysteresis_db`) for the hold time.
///
/// While open, the gain target is 0 dB; while closed it is the expander curve
/// ([`ExpanderCurve`], quadratic soft knee, attenuation limited to `range_db`). With
/// `hysteresis_db = 0` and `hold_ms = 0` this is a plain downward expander. The target is
/// smoothed in the log domain: attenuation grows with the `release_ms` (closing) time constant
/// and shrinks with `attack_ms` (opening).
///
/// A fresh (or reset) expander starts open, at unity gain.
///
/// Latency, parameter changes (threshold, ratio, knee and range ramp over
/// [`PARAM_RAMP_MS`]; lookahead is structural and applies at the next `prepare`), capacity `N`
/// and the non-finite input policy are as for [`Compressor`](crate::Compressor).
#[derive(Debug, Clone)]
pub struct Expander<const CH: usize, const N: usize = DEFAULT_LOOKAHEAD_CAPACITY> {
    params: ExpanderParams,
    sample_rate: f64,
    prepared: bool,
    delay: Delay<CH, N>,
    sidechain: Sidechain<CH>,
    ballistics: [Ballistics; CH],
    open: [bool; CH],
    hold_left: [u32; CH],
    hold_len: u32,
    open_level: f32,
    close_level: f32,
    curve: Curve,
    threshold: Smoothed,
    ratio: Smoothed,
    knee: Smoothed,
    range: Smoothed,
    /// Frames processed since the reset (for the fixed block grid).
    frames: u32,
    scratch: Scratch<CH>,
}

impl<const CH: usize, const N: usize> Expander<CH, N> {
    /// An expander with `params` (validated by `prepare` and `set_params`).
    pub fn new(params: ExpanderParams) -> Self {
        let p = params;
        let mut e = Self {
            params,
            sample_rate: 48_000.0,
            prepared: false,
            delay: Delay::new(),
            sidechain: Sidechain::new(),
            ballistics: [Ballistics::default(); CH],
            open: [true; CH],
            hold_left: [0; CH],
            hold_len: 0,
            open_level: 0.0,
            close_level: 0.0,
            curve: Curve::expander(p.threshold_db, p.ratio, p.knee_db, p.range_db),
            threshold: Smoothed::new(p.threshold_db),
            ratio: Smoothed::new(p.ratio),
            knee: Smoothed::new(p.knee_db),
            range: Smoothed::new(p.range_db),
            frames: 0,
            scratch: Scratch::new(),
        };
        e.update_curve();
        e
    }

    /// The parameters in use.
    pub fn params(&self) -> ExpanderParams {
        self.params
    }

    /// Sets new parameters while running.
    ///
    /// # Errors
    /// From [`ExpanderParams::validate`]; once prepared also [`Error::AboveNyquist`] and
    /// [`Error::CapacityExceeded`]. On error the previous parameters stay in use.
    pub fn set_params(&mut self, params: ExpanderParams) -> Result<()> {
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
        self.range.set_target(params.range_db);
        Ok(())
    }

    /// Current attenuation in dB (≥ 0, the largest over the channels), for meters.
    pub fn gain_reduction_db(&self) -> f64 {
        let r = self.ballistics.iter().fold(0.0f32, |m, b| m.max(b.value()));
        f64::from(r) * DB_PER_LOG2
    }

    /// True when the gate of channel `ch` is open (`false` for a channel that does not exist).
    pub fn is_open(&self, ch: usize) -> bool {
        self.open.get(ch).copied().unwrap_or(false)
    }

    fn apply_times(&mut self) {
        let p = self.params;
        // Attenuation rising = closing (release), falling = opening (attack).
        for b in &mut self.ballistics {
            b.set_times(p.release_ms, p.attack_ms, false, self.sample_rate);
        }
        self.hold_len = ms_to_samples(p.hold_ms, self.sample_rate).min(u32::MAX as usize) as u32;
    }

    fn update_curve(&mut self) {
        let (t, k) = (self.threshold.current(), self.knee.current());
        self.curve = Curve::expander(t, self.ratio.current(), k, self.range.current());
        let open = t + 0.5 * k;
        self.open_level = (open / DB_PER_LOG2) as f32;
        self.close_level = ((open - self.params.hysteresis_db) / DB_PER_LOG2) as f32;
    }

    fn is_smoothing(&self) -> bool {
        self.threshold.is_smoothing()
            || self.ratio.is_smoothing()
            || self.knee.is_smoothing()
            || self.range.is_smoothing()
    }

    /// Opening level, closing level (log2 units) and hold length (frames) of the gate.
    fn gate_levels(&self) -> (f32, f32, u32) {
        (self.open_level, self.close_level, self.hold_len)
    }

    /// Processes up to [`BLOCK`] frames (not crossing the grid) with constant parameters:
    /// detector, gate, curve, ballistics, exponential and gains, each as a loop over the block.
    #[inline(always)]
    fn run_block(&mut self, frames: &mut [[f32; CH]], link: f32) {
        let n = frames.len();
        debug_assert!(n <= to_grid(self.frames));
        self.frames = self.frames.wrapping_add(n as u32);
        let flush = (self.frames as usize).is_multiple_of(BLOCK);
        let scale = self.sidechain.log_scale();
        let curve = self.curve;
        let levels = self.gate_levels();
        if link >= 1.0 || CH == 1 {
            let r = &mut self.scratch.linked[..n];
            self.sidechain
                .detect_linked(frames, &mut self.scratch.ch[..n], r, flush);
            for v in r.iter_mut() {
                *v = scale * sidechain::log2(*v);
            }
            let (Some(open), Some(hold)) = (self.open.first_mut(), self.hold_left.first_mut())
            else {
                return;
            };
            gate(open, hold, levels, r.iter_mut());
            for v in r.iter_mut() {
                *v = curve.expand(*v);
            }
            let Some([b]) = self.ballistics.first_chunk_mut::<1>() else {
                return;
            };
            with_chain!(b.kind(), run_chain::<_>(b, r));
            if flush {
                b.settle();
            }
            for v in r.iter_mut() {
                *v = sidechain::exp2(-*v);
            }
            self.delay.process(frames);
            for (f, &g) in frames.iter_mut().zip(r.iter()) {
                for x in f.iter_mut() {
                    *x *= g;
                }
            }
        } else {
            let lv = &mut self.scratch.ch[..n];
            self.sidechain.detect(frames, lv, flush);
            block_levels(lv, scale, link);
            for (ch, (open, hold)) in self.open.iter_mut().zip(&mut self.hold_left).enumerate() {
                gate(open, hold, levels, lv.iter_mut().map(|l| &mut l[ch]));
            }
            for v in lv.as_flattened_mut() {
                *v = curve.expand(*v);
            }
            run_ballistics(&mut self.ballistics, lv);
            if flush {
                self.ballistics.iter_mut().for_each(Ballistics::settle);
            }
            for v in lv.as_flattened_mut() {
                *v = sidechain::exp2(-*v);
            }
            self.delay.process(frames);
            for (f, g) in frames.iter_mut().zip(lv.iter()) {
                for (x, g) in f.iter_mut().zip(g) {
                    *x *= g;
                }
            }
        }
    }
}

/// Gate state machine of one channel over a block of its levels (log2 units), with the
/// opening level, closing level and hold length of `levels`: where the gate is open the level
/// is replaced by `f32::MAX`, for which the expander curve gives exactly no attenuation (so the
/// curve can then run as a plain, vectorised loop).
#[inline(always)]
fn gate<'a>(
    open: &mut bool,
    hold_left: &mut u32,
    levels: (f32, f32, u32),
    lv: impl Iterator<Item = &'a mut f32>,
) {
    let (open_level, close_level, hold_len) = levels;
    let (mut is_open, mut hold) = (*open, *hold_left);
    for l in lv {
        let level = *l;
        if level >= open_level {
            is_open = true;
            hold = hold_len;
        } else if is_open {
            if level >= close_level {
                hold = hold_len;
            } else if hold > 0 {
                hold -= 1;
            } else {
                is_open = false;
            }
        }
        if is_open {
            *l = f32::MAX;
        }
    }
    *open = is_open;
    *hold_left = hold;
}

impl<const CH: usize, const N: usize> Default for Expander<CH, N> {
    fn default() -> Self {
        Self::new(ExpanderParams::default())
    }
}

impl<const CH: usize, const N: usize> Processor<CH> for Expander<CH, N> {
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
            (&mut self.range, p.range_db),
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
        self.open = [true; CH];
        self.hold_left = [0; CH];
        self.frames = 0;
        for s in [
            &mut self.threshold,
            &mut self.ratio,
            &mut self.knee,
            &mut self.range,
        ] {
            s.reset();
        }
        self.update_curve();
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        let link = self.params.link as f32;
        self.update_curve();
        let mut rest = frames;
        while !rest.is_empty() {
            let n = rest.len().min(to_grid(self.frames));
            let (block, tail) = rest.split_at_mut(n);
            rest = tail;
            if self.is_smoothing() {
                for frame in block.chunks_mut(1) {
                    self.threshold.next();
                    self.ratio.next();
                    self.knee.next();
                    self.range.next();
                    self.update_curve();
                    self.run_block(frame, link);
                }
            } else {
                self.run_block(block, link);
            }
        }
        if link >= 1.0 {
            for ch in 1..CH {
                self.ballistics[ch] = self.ballistics[0];
                self.open[ch] = self.open[0];
                self.hold_left[ch] = self.hold_left[0];
            }
        }
    }

    fn latency(&self) -> usize {
        self.delay.len()
    }
}
