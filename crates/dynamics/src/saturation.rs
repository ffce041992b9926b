//! Oversampled saturation ("warmth"): soft-clip, tube- and tape-like transfer curves.

use crate::compressor::PARAM_RAMP_MS;
use crate::fastmath;
use crate::oversampling::{Oversampler, MAX_BLOCK, MAX_FACTOR};
use lathe_core::{db_to_gain, flush_denormal, Error, ProcessSpec, Processor, Result, Smoothed};

/// Corner of the DC blocker on the wet path (1st-order high-pass), Hz. Asymmetric curves and
/// bias create DC; at 2 Hz the blocker costs 0.04 dB at 20 Hz.
pub const DC_BLOCK_HZ: f64 = 2.0;
/// Largest dry-path delay (frames): the latency of the 8x oversampler.
const MAX_LATENCY: usize = 64;
/// `bias = ±1` shifts the curve's operating point by this much (in units of its input).
pub const BIAS_SCALE: f64 = 0.5;
/// Slope of the negative half of the tube curve relative to the positive half.
const TUBE_NEGATIVE: f32 = 0.6;

/// Transfer curves. All have unit slope at 0 and saturate smoothly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaturationCurve {
    /// `tanh(u)`: symmetric, odd harmonics only.
    Tanh,
    /// Asymmetric: `tanh(u)` for `u ≥ 0`, `tanh(0.6 u) / 0.6` below, so the negative half
    /// clips later and softer, as a single-ended triode stage does: even and odd harmonics.
    Tube,
    /// `u / sqrt(1 + u²)`: an algebraic sigmoid, softer than tanh, the gradual saturation of
    /// magnetic tape (without hysteresis).
    #[default]
    Tape,
    /// Cubic soft clip `u - 4u³/27`, flat at ±1 beyond `|u| = 1.5`: hardest of the four.
    SoftClip,
}

impl SaturationCurve {
    /// The curve at `u` (`f32`, as used per sample).
    #[inline(always)]
    pub fn apply(self, u: f32) -> f32 {
        match self {
            SaturationCurve::Tanh => fastmath::tanh(u),
            SaturationCurve::Tube => {
                // Both halves, then a select: no branch, so loops vectorise.
                let pos = fastmath::tanh(u);
                let neg = fastmath::tanh(TUBE_NEGATIVE * u) * (1.0 / TUBE_NEGATIVE);
                if u >= 0.0 {
                    pos
                } else {
                    neg
                }
            }
            SaturationCurve::Tape => {
                // |u| beyond 1e6 saturates to ±1 within f32 precision anyway.
                let u = u.clamp(-1e6, 1e6);
                u * fastmath::rsqrt(1.0 + u * u)
            }
            SaturationCurve::SoftClip => {
                let a = u.clamp(-1.5, 1.5);
                a - (4.0 / 27.0) * a * a * a
            }
        }
    }

    /// Slope of the curve at `u`.
    pub fn slope(self, u: f64) -> f64 {
        match self {
            SaturationCurve::Tanh => {
                let t = libm::tanh(u);
                1.0 - t * t
            }
            SaturationCurve::Tube => {
                let v = if u >= 0.0 {
                    u
                } else {
                    f64::from(TUBE_NEGATIVE) * u
                };
                let t = libm::tanh(v);
                1.0 - t * t
            }
            SaturationCurve::Tape => libm::pow(1.0 + u * u, -1.5),
            SaturationCurve::SoftClip => {
                if u.abs() < 1.5 {
                    1.0 - 4.0 / 9.0 * u * u
                } else {
                    0.0
                }
            }
        }
    }
}

/// Parameters of [`Saturation`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaturationParams {
    /// Transfer curve. Default [`SaturationCurve::Tape`].
    pub curve: SaturationCurve,
    /// Drive in dB, 0 ..= 48: gain into the curve. The output is scaled back by the curve's
    /// small-signal gain, so quiet passages keep their level and drive only adds saturation.
    /// Default 3.
    pub drive_db: f64,
    /// Bias, -1 ..= 1: moves the operating point by `bias ×` [`BIAS_SCALE`], making the curve
    /// asymmetric (even harmonics). The static offset is subtracted again. Default 0.
    pub bias: f64,
    /// Dry/wet mix, 0 ..= 1; the dry path is delayed to stay aligned. Default 1.
    pub mix: f64,
    /// Oversampling factor: 1, 2, 4 or 8. Default 4.
    pub oversampling: u8,
    /// Output gain in dB, -24 ..= 24 (wet path). Default 0.
    pub output_db: f64,
}

impl Default for SaturationParams {
    fn default() -> Self {
        Self {
            curve: SaturationCurve::Tape,
            drive_db: 3.0,
            bias: 0.0,
            mix: 1.0,
            oversampling: 4,
            output_db: 0.0,
        }
    }
}

impl SaturationParams {
    /// Checks every parameter against its range.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `"drive_db"`, `"bias"`, `"mix"`, `"oversampling"` (must be
    /// 1, 2, 4 or 8) or `"output_db"`.
    pub fn validate(&self) -> Result<()> {
        Error::check_range("drive_db", self.drive_db, 0.0, 48.0)?;
        Error::check_range("bias", self.bias, -1.0, 1.0)?;
        Error::check_range("mix", self.mix, 0.0, 1.0)?;
        if ![1, 2, 4, 8].contains(&self.oversampling) {
            return Err(Error::OutOfRange {
                param: "oversampling",
                value: f64::from(self.oversampling),
                min: 1.0,
                max: 8.0,
            });
        }
        Error::check_range("output_db", self.output_db, -24.0, 24.0)?;
        Ok(())
    }
}

/// Per-frame constants of the wet path, recomputed only while a parameter ramps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shape {
    drive: f32,
    bias: f32,
    offset: f32,
    scale: f32,
}

impl Shape {
    fn new(curve: SaturationCurve, drive_db: f64, bias: f64, output_db: f64) -> Self {
        let drive = db_to_gain(drive_db);
        let b = bias * BIAS_SCALE;
        let offset = curve.apply(b as f32);
        let scale = db_to_gain(output_db) / (drive * curve.slope(b));
        Self {
            drive: drive as f32,
            bias: b as f32,
            offset,
            scale: scale as f32,
        }
    }
}

/// Oversampled saturation: drive into a transfer curve ([`SaturationCurve`]) at 1x-8x
/// ([`Oversampler`]: polyphase half-band stages), a DC blocker, output gain and a dry/wet mix.
///
/// The wet path is `(curve(drive · x + b) - curve(b)) / (drive · curve'(b))`, i.e. unity gain
/// for small signals whatever the drive and bias (`b = bias ×` [`BIAS_SCALE`]).
///
/// - **Latency**: that of the oversampling filters ([`Oversampler::latency`]: 0 at 1x, 39 / 47
///   / 49 frames at 2x / 4x / 8x); the dry path is delayed by the same amount for `mix`.
/// - **Parameter changes**: drive, bias, mix and output gain ramp over [`PARAM_RAMP_MS`]; the
///   curve switches at once; the oversampling factor is structural (latency) and takes effect
///   at the next [`prepare`](Processor::prepare).
/// - **Non-finite input**: NaN and infinite samples are replaced by 0 on the way in, so the
///   filters and the DC blocker never hold them.
#[derive(Debug, Clone)]
pub struct Saturation<const CH: usize> {
    params: SaturationParams,
    oversampler: Oversampler<CH>,
    dry: [[f32; CH]; MAX_LATENCY],
    dry_pos: usize,
    dc_coeff: f64,
    dc_x: [f64; CH],
    dc_y: [f64; CH],
    shape: Shape,
    drive: Smoothed,
    bias: Smoothed,
    mix: Smoothed,
    output: Smoothed,
    count: u32,
}

impl<const CH: usize> Saturation<CH> {
    /// A saturation stage with `params` (validated by `prepare` and `set_params`).
    pub fn new(params: SaturationParams) -> Self {
        let p = params;
        Self {
            params,
            oversampler: Oversampler::new(usize::from(p.oversampling)),
            dry: [[0.0; CH]; MAX_LATENCY],
            dry_pos: 0,
            dc_coeff: 1.0,
            dc_x: [0.0; CH],
            dc_y: [0.0; CH],
            shape: Shape::new(p.curve, p.drive_db, p.bias, p.output_db),
            drive: Smoothed::new(p.drive_db),
            bias: Smoothed::new(p.bias),
            mix: Smoothed::new(p.mix),
            output: Smoothed::new(p.output_db),
            count: 0,
        }
    }

    /// The parameters in use.
    pub fn params(&self) -> SaturationParams {
        self.params
    }

    /// Sets new parameters while running (see the type docs).
    ///
    /// # Errors
    /// From [`SaturationParams::validate`]; the previous parameters stay in use on error.
    pub fn set_params(&mut self, params: SaturationParams) -> Result<()> {
        params.validate()?;
        self.params = params;
        self.drive.set_target(params.drive_db);
        self.bias.set_target(params.bias);
        self.mix.set_target(params.mix);
        self.output.set_target(params.output_db);
        self.update_shape();
        Ok(())
    }

    fn update_shape(&mut self) {
        self.shape = Shape::new(
            self.params.curve,
            self.drive.current(),
            self.bias.current(),
            self.output.current(),
        );
    }

    fn is_smoothing(&self) -> bool {
        self.drive.is_smoothing()
            || self.bias.is_smoothing()
            || self.mix.is_smoothing()
            || self.output.is_smoothing()
    }

    /// Processes up to [`MAX_BLOCK`] frames with constant shape and mix: per channel,
    /// upsample, curve, downsample (all loops over the block), then the DC blocker and the mix.
    #[inline(always)]
    fn run_block(&mut self, frames: &mut [[f32; CH]], curve: SaturationCurve, mix: f32) {
        let n = frames.len().min(MAX_BLOCK);
        let frames = &mut frames[..n];
        for f in frames.iter_mut() {
            for s in f.iter_mut() {
                if !s.is_finite() {
                    *s = 0.0;
                }
            }
        }
        let sh = self.shape;
        let factor = self.oversampler.factor();
        let mut wet = [[0.0f32; CH]; MAX_BLOCK];
        for ch in 0..CH {
            let mut x = [0.0f32; MAX_BLOCK];
            for (v, f) in x[..n].iter_mut().zip(frames.iter()) {
                *v = f[ch];
            }
            let mut hi = [0.0f32; MAX_FACTOR * MAX_BLOCK];
            self.oversampler.upsample(ch, &x[..n], &mut hi);
            match curve {
                SaturationCurve::Tanh => shape(&mut hi[..n * factor], sh, SaturationCurve::Tanh),
                SaturationCurve::Tube => shape(&mut hi[..n * factor], sh, SaturationCurve::Tube),
                SaturationCurve::Tape => shape(&mut hi[..n * factor], sh, SaturationCurve::Tape),
                SaturationCurve::SoftClip => {
                    shape(&mut hi[..n * factor], sh, SaturationCurve::SoftClip)
                }
            }
            let mut lo = [0.0f32; MAX_BLOCK];
            self.oversampler.downsample(ch, &hi[..n * factor], &mut lo);
            // DC blocker (f64 state), then the output scale.
            let r = self.dc_coeff;
            let (mut px, mut py) = (self.dc_x[ch], self.dc_y[ch]);
            for (i, (w, &v)) in wet[..n].iter_mut().zip(&lo[..n]).enumerate() {
                let v = f64::from(v);
                py = v - px + r * py;
                px = v;
                w[ch] = (py as f32) * sh.scale;
                // Denormal flush on a fixed schedule of frames (never per block), so the
                // output does not depend on how the audio is split into blocks.
                if self.count.wrapping_add(i as u32 + 1) & 63 == 0 {
                    py = flush_denormal(py);
                }
            }
            self.dc_x[ch] = px;
            self.dc_y[ch] = py;
        }
        self.count = self.count.wrapping_add(n as u32);
        let lat = self.oversampler.latency();
        for (f, w) in frames.iter_mut().zip(&wet[..n]) {
            let dry = if lat == 0 {
                *f
            } else {
                let d = core::mem::replace(&mut self.dry[self.dry_pos], *f);
                self.dry_pos = if self.dry_pos + 1 >= lat {
                    0
                } else {
                    self.dry_pos + 1
                };
                d
            };
            for ch in 0..CH {
                f[ch] = if mix >= 1.0 {
                    w[ch]
                } else {
                    mix * w[ch] + (1.0 - mix) * dry[ch]
                };
            }
        }
    }
}

/// Applies `curve` with the shape constants to every sample (monomorphised per curve so the
/// loop vectorises).
#[inline(always)]
fn shape(x: &mut [f32], sh: Shape, curve: SaturationCurve) {
    for s in x.iter_mut() {
        *s = curve.apply(sh.drive * *s + sh.bias) - sh.offset;
    }
}

impl<const CH: usize> Default for Saturation<CH> {
    fn default() -> Self {
        Self::new(SaturationParams::default())
    }
}

impl<const CH: usize> Processor<CH> for Saturation<CH> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        let p = self.params;
        p.validate()?;
        self.oversampler.set_factor(usize::from(p.oversampling));
        self.dc_coeff = libm::exp(-2.0 * core::f64::consts::PI * DC_BLOCK_HZ / spec.sample_rate);
        for (s, v) in [
            (&mut self.drive, p.drive_db),
            (&mut self.bias, p.bias),
            (&mut self.mix, p.mix),
            (&mut self.output, p.output_db),
        ] {
            s.set_ramp(PARAM_RAMP_MS, spec.sample_rate);
            s.set_immediate(v);
        }
        self.reset();
        Ok(())
    }

    fn reset(&mut self) {
        self.oversampler.reset();
        self.dry = [[0.0; CH]; MAX_LATENCY];
        self.dry_pos = 0;
        self.dc_x = [0.0; CH];
        self.dc_y = [0.0; CH];
        for s in [
            &mut self.drive,
            &mut self.bias,
            &mut self.mix,
            &mut self.output,
        ] {
            s.reset();
        }
        self.update_shape();
        self.count = 0;
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        let curve = self.params.curve;
        for block in frames.chunks_mut(MAX_BLOCK) {
            if self.is_smoothing() {
                // Parameters ramp: one frame at a time through the same arithmetic.
                for frame in block.chunks_mut(1) {
                    self.drive.next();
                    self.bias.next();
                    self.output.next();
                    let mix = self.mix.next() as f32;
                    self.update_shape();
                    self.run_block(frame, curve, mix);
                }
            } else {
                let mix = self.mix.current() as f32;
                self.run_block(block, curve, mix);
            }
        }
    }

    fn latency(&self) -> usize {
        self.oversampler.latency()
    }
}
