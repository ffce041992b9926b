//! Feed-forward compressor (Giannoulis, Massberg, Reiss, JAES 2012).

use crate::curve::{CompressorCurve, Curve};
use crate::detector::{Ballistics, DetectorKind};
use crate::fastmath::{self, DB_PER_LOG2};
use crate::sidechain::{block_levels, max_level, Delay, Sidechain};
use lathe_core::{Error, ProcessSpec, Processor, Result, Smoothed};

/// Ramp length of smoothed parameter changes (threshold, ratio, knee, makeup, mix), in ms.
pub const PARAM_RAMP_MS: f64 = 20.0;

/// Frames per block of the vectorised inner loops.
pub(crate) const BLOCK: usize = 64;

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
///   NaN/inf never enter the ballistics; the sidechain high-pass state is cleared within 64
///   frames. The audio path multiplies, so a non-finite sample comes out non-finite in its own
///   frame only.
#[derive(Debug, Clone)]
pub struct Compressor<const CH: usize, const N: usize = DEFAULT_LOOKAHEAD_CAPACITY> {
    params: CompressorParams,
    sample_rate: f64,
    prepared: bool,
    delay: Delay<CH, N>,
    sidechain: Sidechain<CH>,
    ballistics: [Ballistics; CH],
    curve: Curve,
    threshold: Smoothed,
    ratio: Smoothed,
    knee: Smoothed,
    makeup: Smoothed,
    mix: Smoothed,
    /// Frames processed (for the fixed denormal-flush schedule).
    frames: u32,
}

impl<const CH: usize, const N: usize> Compressor<CH, N> {
    /// A compressor with `params`. Infallible: the parameters are validated by
    /// [`prepare`](Processor::prepare) and [`set_params`](Self::set_params).
    pub fn new(params: CompressorParams) -> Self {
        let p = params;
        Self {
            params,
            sample_rate: 48_000.0,
            prepared: false,
            delay: Delay::new(),
            sidechain: Sidechain::new(),
            ballistics: [Ballistics::default(); CH],
            curve: Curve::compressor(p.threshold_db, p.ratio.max(1.0), p.knee_db),
            threshold: Smoothed::new(p.threshold_db),
            ratio: Smoothed::new(p.ratio),
            knee: Smoothed::new(p.knee_db),
            makeup: Smoothed::new(p.total_makeup_db()),
            mix: Smoothed::new(p.mix),
            frames: 0,
        }
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
        self.curve = Curve::compressor(
            self.threshold.current(),
            self.ratio.current(),
            self.knee.current(),
        );
    }

    fn is_smoothing(&self) -> bool {
        self.threshold.is_smoothing()
            || self.ratio.is_smoothing()
            || self.knee.is_smoothing()
            || self.makeup.is_smoothing()
            || self.mix.is_smoothing()
    }

    /// Processes up to [`BLOCK`] frames with constant curve, makeup (log2 units) and mix.
    /// The detector, the curve and the exponential run as loops over the block (they
    /// vectorise); only the ballistics are sequential.
    #[inline(always)]
    fn run_block(&mut self, frames: &mut [[f32; CH]], link: f32, makeup: f32, mix: f32) {
        let n = frames.len().min(BLOCK);
        let frames = &mut frames[..n];
        let mut det = [[0.0f32; CH]; BLOCK];
        self.sidechain.detect(frames, &mut det[..n]);
        let scale = self.sidechain.log_scale();
        let curve = self.curve;
        let mut g = [[0.0f32; CH]; BLOCK];
        if link >= 1.0 {
            // Linked: one flat level per frame, the loudest channel's.
            let mut r = [0.0f32; BLOCK];
            for (r, d) in r[..n].iter_mut().zip(&det[..n]) {
                *r = max_level(d);
            }
            for r in r[..n].iter_mut() {
                *r = curve.compress(scale * fastmath::log2(*r));
            }
            let b = &mut self.ballistics[0];
            for (i, r) in r[..n].iter_mut().enumerate() {
                *r = b.step(*r);
                // Denormal flush on a fixed schedule of frames, whatever the block size.
                if self.frames.wrapping_add(i as u32 + 1) & 63 == 0 {
                    b.flush();
                }
            }
            for r in r[..n].iter_mut() {
                *r = fastmath::exp2(makeup - *r);
            }
            for (g, &r) in g[..n].iter_mut().zip(&r[..n]) {
                *g = [r; CH];
            }
        } else {
            let mut lv = [[0.0f32; CH]; BLOCK];
            block_levels(&det[..n], scale, link, &mut lv[..n]);
            for l in lv[..n].iter_mut() {
                for v in l.iter_mut() {
                    *v = curve.compress(*v);
                }
            }
            for (i, l) in lv[..n].iter_mut().enumerate() {
                let flush = self.frames.wrapping_add(i as u32 + 1) & 63 == 0;
                for (v, b) in l.iter_mut().zip(self.ballistics.iter_mut()) {
                    *v = b.step(*v);
                    if flush {
                        b.flush();
                    }
                }
            }
            for (g, &r) in g[..n]
                .as_flattened_mut()
                .iter_mut()
                .zip(lv[..n].as_flattened())
            {
                *g = fastmath::exp2(makeup - r);
            }
        }
        self.frames = self.frames.wrapping_add(n as u32);
        if self.delay.len() == 0 {
            // No lookahead: the dry signal is the input itself; one flat, vectorised loop.
            let gains = g[..n].as_flattened();
            let samples = frames.as_flattened_mut();
            if mix >= 1.0 {
                for (x, &g) in samples.iter_mut().zip(gains) {
                    *x *= g;
                }
            } else {
                for (x, &g) in samples.iter_mut().zip(gains) {
                    *x = mix * (*x * g) + (1.0 - mix) * *x;
                }
            }
        } else if mix >= 1.0 {
            for (f, g) in frames.iter_mut().zip(&g[..n]) {
                let dry = self.delay.push(*f);
                for ch in 0..CH {
                    f[ch] = dry[ch] * g[ch];
                }
            }
        } else {
            for (f, g) in frames.iter_mut().zip(&g[..n]) {
                let dry = self.delay.push(*f);
                for ch in 0..CH {
                    f[ch] = mix * (dry[ch] * g[ch]) + (1.0 - mix) * dry[ch];
                }
            }
        }
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
        let link = self.params.link as f32;
        for block in frames.chunks_mut(BLOCK) {
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

    fn latency(&self) -> usize {
        self.delay.len()
    }
}
