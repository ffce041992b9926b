//! The mastering strip: stages from a [`ChainConfig`], in the order given.

use crate::config::*;
use crate::error::{Error, Result};
use crate::multiband::{BassMono, Multiband};
use lathe_core::{db_to_gain, ProcessSpec, Processor, Smoothed};
use lathe_dynamics::{
    Compressor, CompressorParams, LimiterParams, MasteringLimiter, Saturation, SaturationCurve,
    SaturationParams,
};
use lathe_eq::{BandParams, DcBlocker, Design, ParametricEq};
use lathe_stereo::{ImagerParams, Reverb, ReverbParams, StereoImager};

/// Ramp for gains, trims and bypass cross-fades, in ms.
pub const RAMP_MS: f64 = 20.0;
/// Corner of the input stage's DC-removal high-pass ([`DcBlocker`], first order), Hz.
pub const DC_CUTOFF_HZ: f64 = 5.0;

/// Converts an EQ band description to `lathe-eq` parameters.
pub(crate) fn band_params(b: &EqBandConfig) -> BandParams {
    let mut p = match b.kind {
        EqKind::Peak => BandParams::peak(b.freq_hz, b.gain_db, b.q),
        EqKind::LowShelf => BandParams::low_shelf(b.freq_hz, b.gain_db, b.q),
        EqKind::HighShelf => BandParams::high_shelf(b.freq_hz, b.gain_db, b.q),
        EqKind::Lowpass => BandParams::low_pass(b.freq_hz, b.order),
        EqKind::Highpass => BandParams::high_pass(b.freq_hz, b.order),
        EqKind::Bandpass => BandParams::band_pass(b.freq_hz, b.q),
        EqKind::Notch => BandParams::notch(b.freq_hz, b.q),
        EqKind::Allpass => BandParams::all_pass(b.freq_hz, b.q),
        EqKind::Tilt => BandParams::tilt(b.freq_hz, b.gain_db),
    };
    p.enabled = !b.bypass;
    p.design = if b.rbj { Design::Rbj } else { Design::Matched };
    p
}

pub(crate) fn compressor_params(c: &CompressorConfig) -> CompressorParams {
    CompressorParams {
        threshold_db: c.threshold_db,
        ratio: c.ratio,
        knee_db: c.knee_db,
        attack_ms: c.attack_ms,
        release_ms: c.release_ms,
        makeup_db: c.makeup_db,
        mix: c.mix,
        link: c.link,
        sidechain_hpf_hz: c.sidechain_hpf_hz,
        lookahead_ms: c.lookahead_ms,
        ..CompressorParams::default()
    }
}

fn limiter_params(c: &LimiterConfig) -> LimiterParams {
    LimiterParams {
        ceiling_db: c.ceiling_db,
        true_peak: c.true_peak,
        lookahead_ms: c.lookahead_ms,
        release_ms: c.release_ms,
    }
}

fn saturation_params(c: &SaturationConfig) -> SaturationParams {
    SaturationParams {
        curve: match c.curve {
            SaturationCurveConfig::Tanh => SaturationCurve::Tanh,
            SaturationCurveConfig::Tube => SaturationCurve::Tube,
            SaturationCurveConfig::Tape => SaturationCurve::Tape,
            SaturationCurveConfig::SoftClip => SaturationCurve::SoftClip,
        },
        drive_db: c.drive_db,
        bias: c.bias,
        mix: c.mix,
        oversampling: c.oversampling,
        ..SaturationParams::default()
    }
}

fn imager_params(c: &StereoConfig) -> ImagerParams {
    ImagerParams {
        width: c.width,
        mid_gain_db: c.mid_gain_db,
        side_gain_db: c.side_gain_db,
        balance: c.balance,
        ..ImagerParams::default()
    }
}

fn reverb_params(c: &ReverbConfig) -> ReverbParams {
    ReverbParams {
        mix: c.mix,
        decay_s: c.decay_s,
        predelay_ms: c.predelay_ms,
        damping: c.damping,
        size: c.size,
        width: c.width,
        highpass_hz: c.highpass_hz,
    }
}

/// A smoothed gain (dB parameter, linear ramp of the linear gain).
#[derive(Debug, Clone)]
pub(crate) struct GainStage {
    gain: Smoothed,
}

impl GainStage {
    fn new(gain_db: f64) -> Self {
        Self {
            gain: Smoothed::new(db_to_gain(gain_db)),
        }
    }
    /// Sets the gain in dB (ramped).
    pub(crate) fn set_gain_db(&mut self, gain_db: f64) {
        self.gain.set_target(db_to_gain(gain_db));
    }
}

impl<const CH: usize> Processor<CH> for GainStage {
    fn prepare(&mut self, spec: &ProcessSpec) -> lathe_core::Result<()> {
        spec.validate()?;
        self.gain.set_ramp(RAMP_MS, spec.sample_rate);
        self.gain.reset();
        Ok(())
    }
    fn reset(&mut self) {
        self.gain.reset();
    }
    fn process(&mut self, frames: &mut [[f32; CH]]) {
        if !self.gain.is_smoothing() {
            let g = self.gain.current() as f32;
            if g != 1.0 {
                frames.iter_mut().flatten().for_each(|s| *s *= g);
            }
            return;
        }
        for f in frames {
            let g = self.gain.next() as f32;
            f.iter_mut().for_each(|s| *s *= g);
        }
    }
}

/// Input stage: DC removal (first-order high-pass at [`DC_CUTOFF_HZ`]) and a trim.
#[derive(Debug, Clone)]
pub(crate) struct InputStage<const CH: usize> {
    dc: Option<DcBlocker<CH>>,
    trim: GainStage,
}

impl<const CH: usize> InputStage<CH> {
    fn new(c: &InputConfig) -> Self {
        Self {
            dc: c.dc_removal.then(|| DcBlocker::new(DC_CUTOFF_HZ)),
            trim: GainStage::new(c.trim_db),
        }
    }
}

impl<const CH: usize> Processor<CH> for InputStage<CH> {
    fn prepare(&mut self, spec: &ProcessSpec) -> lathe_core::Result<()> {
        if let Some(dc) = &mut self.dc {
            dc.prepare(spec)?;
        }
        Processor::<CH>::prepare(&mut self.trim, spec)
    }
    fn reset(&mut self) {
        if let Some(dc) = &mut self.dc {
            dc.reset();
        }
        Processor::<CH>::reset(&mut self.trim);
    }
    fn process(&mut self, frames: &mut [[f32; CH]]) {
        if let Some(dc) = &mut self.dc {
            dc.process(frames);
        }
        self.trim.process(frames);
    }
}

/// Runs a stereo-only processor on `CH`-channel frames (CH is checked to be 2 when built).
#[derive(Debug, Clone)]
pub(crate) struct StereoOnly<P> {
    pub(crate) inner: P,
    buf: Vec<[f32; 2]>,
}

impl<P> StereoOnly<P> {
    pub(crate) fn new(inner: P) -> Self {
        Self {
            inner,
            buf: Vec::new(),
        }
    }
}

impl<const CH: usize, P: Processor<2>> Processor<CH> for StereoOnly<P> {
    fn prepare(&mut self, spec: &ProcessSpec) -> lathe_core::Result<()> {
        if CH != 2 {
            return Err(lathe_core::Error::UnsupportedChannels { channels: CH });
        }
        self.buf = vec![[0.0; 2]; spec.max_block.max(1)];
        self.inner.prepare(spec)
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn process(&mut self, frames: &mut [[f32; CH]]) {
        if CH != 2 || self.buf.is_empty() {
            return;
        }
        let cap = self.buf.len();
        for block in frames.chunks_mut(cap) {
            let buf = &mut self.buf[..block.len()];
            for (b, f) in buf.iter_mut().zip(block.iter()) {
                *b = [f[0], f[1]];
            }
            self.inner.process(buf);
            for (f, b) in block.iter_mut().zip(buf.iter()) {
                f[0] = b[0];
                f[1] = b[1];
            }
        }
    }
    fn latency(&self) -> usize {
        self.inner.latency()
    }
}

/// One stage's processor.
#[derive(Debug)]
pub(crate) enum Stage<const CH: usize> {
    Input(Box<InputStage<CH>>),
    Eq(Box<ParametricEq<CH, MAX_EQ_BANDS>>),
    Compressor(Box<Compressor<CH>>),
    Multiband(Box<Multiband<CH>>),
    Stereo(Box<StereoOnly<StereoImager>>, Option<Box<BassMono<CH>>>),
    Saturation(Box<Saturation<CH>>),
    Reverb(Box<StereoOnly<Reverb<Vec<f32>>>>),
    Gain(Box<GainStage>),
    Limiter(Box<MasteringLimiter<CH>>),
}

macro_rules! each_stage {
    ($stage:expr, $p:ident => $body:expr) => {
        match $stage {
            Stage::Input($p) => $body,
            Stage::Eq($p) => $body,
            Stage::Compressor($p) => $body,
            Stage::Multiband($p) => $body,
            Stage::Stereo($p, _) => $body,
            Stage::Saturation($p) => $body,
            Stage::Reverb($p) => $body,
            Stage::Gain($p) => $body,
            Stage::Limiter($p) => $body,
        }
    };
}

impl<const CH: usize> Stage<CH> {
    fn build(cfg: &StageConfig, sample_rate: f64) -> lathe_core::Result<Self> {
        Ok(match cfg {
            StageConfig::Input(c) => Stage::Input(Box::new(InputStage::new(c))),
            StageConfig::Eq(c) => {
                let mut eq = Box::new(ParametricEq::new());
                eq.prepare(&ProcessSpec::new(sample_rate, 1))?;
                for (i, b) in c.bands.iter().enumerate() {
                    eq.set_band(i, band_params(b))?;
                }
                Stage::Eq(eq)
            }
            StageConfig::Compressor(c) => {
                Stage::Compressor(Box::new(Compressor::new(compressor_params(c))))
            }
            StageConfig::Multiband(c) => Stage::Multiband(Box::new(Multiband::new(c)?)),
            StageConfig::Stereo(c) => {
                if CH != 2 {
                    return Err(lathe_core::Error::UnsupportedChannels { channels: CH });
                }
                let bass = c.bass_mono_hz.map(|f| Box::new(BassMono::new(f)));
                Stage::Stereo(
                    Box::new(StereoOnly::new(StereoImager::new(imager_params(c)))),
                    bass,
                )
            }
            StageConfig::Saturation(c) => {
                Stage::Saturation(Box::new(Saturation::new(saturation_params(c))))
            }
            StageConfig::Reverb(c) => {
                if CH != 2 {
                    return Err(lathe_core::Error::UnsupportedChannels { channels: CH });
                }
                let storage = vec![0.0; Reverb::<Vec<f32>>::required_storage(sample_rate)];
                Stage::Reverb(Box::new(StereoOnly::new(Reverb::new(
                    storage,
                    reverb_params(c),
                ))))
            }
            StageConfig::Gain(c) => Stage::Gain(Box::new(GainStage::new(c.gain_db))),
            StageConfig::Limiter(c) => {
                Stage::Limiter(Box::new(MasteringLimiter::new(limiter_params(c))))
            }
        })
    }

    /// Applies new parameters of the same kind while running (smoothed by each processor).
    fn update(&mut self, cfg: &StageConfig) -> lathe_core::Result<bool> {
        match (self, cfg) {
            (Stage::Input(s), StageConfig::Input(c)) => {
                s.trim.set_gain_db(c.trim_db);
                Ok(s.dc.is_some() == c.dc_removal)
            }
            (Stage::Eq(eq), StageConfig::Eq(c)) => {
                if c.bands.len() > MAX_EQ_BANDS {
                    return Ok(false);
                }
                for i in 0..MAX_EQ_BANDS {
                    let b = c.bands.get(i).map(band_params).unwrap_or(BandParams {
                        enabled: false,
                        ..BandParams::default()
                    });
                    eq.set_band(i, b)?;
                }
                Ok(true)
            }
            (Stage::Compressor(k), StageConfig::Compressor(c)) => {
                k.set_params(compressor_params(c))?;
                Ok(true)
            }
            (Stage::Multiband(m), StageConfig::Multiband(c)) => m.update(c),
            (Stage::Stereo(s, bass), StageConfig::Stereo(c)) => {
                s.inner.set_params(imager_params(c))?;
                Ok(bass.as_ref().map(|b| b.freq_hz()) == c.bass_mono_hz)
            }
            (Stage::Saturation(s), StageConfig::Saturation(c)) => {
                s.set_params(saturation_params(c))?;
                Ok(true)
            }
            (Stage::Reverb(r), StageConfig::Reverb(c)) => {
                r.inner.set_params(reverb_params(c))?;
                Ok(true)
            }
            (Stage::Gain(g), StageConfig::Gain(c)) => {
                g.set_gain_db(c.gain_db);
                Ok(true)
            }
            (Stage::Limiter(l), StageConfig::Limiter(c)) => {
                l.set_params(limiter_params(c))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn prepare(&mut self, spec: &ProcessSpec) -> lathe_core::Result<()> {
        if let Stage::Stereo(_, Some(b)) = self {
            b.prepare(spec)?;
        }
        each_stage!(self, p => Processor::<CH>::prepare(&mut **p, spec))
    }

    fn reset(&mut self) {
        if let Stage::Stereo(_, Some(b)) = self {
            b.reset();
        }
        each_stage!(self, p => Processor::<CH>::reset(&mut **p))
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        if let Stage::Stereo(_, Some(b)) = self {
            b.process(frames);
        }
        each_stage!(self, p => Processor::<CH>::process(&mut **p, frames))
    }

    fn latency(&self) -> usize {
        let extra = match self {
            Stage::Stereo(_, Some(b)) => Processor::<CH>::latency(&**b),
            _ => 0,
        };
        extra + each_stage!(self, p => Processor::<CH>::latency(&**p))
    }
}

/// A delay line for the dry path of a stage that can be bypassed while running.
#[derive(Debug, Clone)]
struct DryDelay<const CH: usize> {
    line: Vec<[f32; CH]>,
    pos: usize,
}

impl<const CH: usize> DryDelay<CH> {
    fn new(len: usize) -> Self {
        Self {
            line: vec![[0.0; CH]; len],
            pos: 0,
        }
    }
    /// Advances the line by `frames` without reading it out: the same state as
    /// [`run`](Self::run), in at most two copies (only the last `len` frames stay).
    fn feed(&mut self, frames: &[[f32; CH]]) {
        let len = self.line.len();
        if len == 0 {
            return;
        }
        let skip = frames.len().saturating_sub(len);
        let mut pos = (self.pos + skip) % len;
        let mut src = &frames[skip..];
        while !src.is_empty() {
            let m = src.len().min(len - pos);
            self.line[pos..pos + m].copy_from_slice(&src[..m]);
            pos = (pos + m) % len;
            src = &src[m..];
        }
        self.pos = pos;
    }

    /// Replaces each frame of `frames` by the frame `len` earlier.
    fn run(&mut self, frames: &mut [[f32; CH]]) {
        if self.line.is_empty() {
            return;
        }
        for f in frames {
            core::mem::swap(f, &mut self.line[self.pos]);
            self.pos += 1;
            if self.pos == self.line.len() {
                self.pos = 0;
            }
        }
    }
    fn reset(&mut self) {
        self.line.iter_mut().for_each(|f| *f = [0.0; CH]);
        self.pos = 0;
    }
}

#[derive(Debug)]
struct Slot<const CH: usize> {
    config: StageConfig,
    stage: Stage<CH>,
    /// 1.0 = processed, 0.0 = bypassed; ramps for click-free switching.
    wet: Smoothed,
    dry: DryDelay<CH>,
}

/// The mastering strip: any number of stages in the order the user gives.
///
/// Built from a [`ChainConfig`]; every stage can be bypassed (with a 20 ms cross-fade against
/// its latency-matched dry signal, so switching never clicks and never moves the audio in
/// time) and re-parameterised while running (each DSP processor smooths its own changes).
/// [`latency`](Processor::latency) is the sum of the stages' latencies; use
/// [`Compensated`](crate::Compensated) for output aligned to
/// input. `process` allocates nothing.
#[derive(Debug)]
pub struct MasteringChain<const CH: usize> {
    slots: Vec<Slot<CH>>,
    spec: ProcessSpec,
    scratch: Vec<[f32; CH]>,
}

impl<const CH: usize> MasteringChain<CH> {
    /// Builds and prepares a chain for `sample_rate` Hz and blocks of up to `max_block`
    /// frames (larger blocks are split internally).
    ///
    /// # Errors
    /// [`Error::Config`] for invalid values, [`Error::Stage`] when a stage rejects its
    /// parameters at this rate (e.g. a frequency above Nyquist), [`Error::Channels`] for a
    /// stereo stage in a chain that is not stereo.
    pub fn from_config(config: &ChainConfig, sample_rate: f64, max_block: usize) -> Result<Self> {
        config.validate()?;
        let spec = ProcessSpec::new(sample_rate, max_block.max(1));
        spec.validate()?;
        let mut slots = Vec::with_capacity(config.stages.len());
        for (i, cfg) in config.stages.iter().enumerate() {
            let wrap = |source| match source {
                lathe_core::Error::UnsupportedChannels { channels } => Error::Channels {
                    what: match cfg {
                        StageConfig::Reverb(_) => "the reverb stage",
                        _ => "the stereo stage",
                    },
                    channels,
                },
                source => Error::Stage {
                    stage: i,
                    kind: cfg.kind(),
                    source,
                },
            };
            let mut stage = Stage::<CH>::build(cfg, sample_rate).map_err(wrap)?;
            stage.prepare(&spec).map_err(wrap)?;
            let wet = if cfg.bypassed() { 0.0 } else { 1.0 };
            let mut wet = Smoothed::new(wet);
            wet.set_ramp(RAMP_MS, sample_rate);
            let dry = DryDelay::new(stage.latency());
            slots.push(Slot {
                config: cfg.clone(),
                stage,
                wet,
                dry,
            });
        }
        Ok(Self {
            slots,
            spec,
            scratch: vec![[0.0; CH]; spec.max_block],
        })
    }

    /// Number of stages.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True for a chain without stages (which passes audio unchanged).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The configuration of stage `index`.
    pub fn stage_config(&self, index: usize) -> Option<&StageConfig> {
        self.slots.get(index).map(|s| &s.config)
    }

    /// The current configuration of the whole chain.
    pub fn config(&self) -> ChainConfig {
        ChainConfig::new(self.slots.iter().map(|s| s.config.clone()).collect())
    }

    /// Bypasses or re-enables stage `index` while running (20 ms cross-fade, no clicks).
    ///
    /// # Errors
    /// [`Error::Config`] if there is no such stage.
    pub fn set_bypass(&mut self, index: usize, bypass: bool) -> Result<()> {
        let slot = self.slots.get_mut(index).ok_or_else(|| no_stage(index))?;
        slot.wet.set_target(if bypass { 0.0 } else { 1.0 });
        set_bypass_flag(&mut slot.config, bypass);
        Ok(())
    }

    /// Changes stage `index`'s parameters while running. The new configuration must be of the
    /// same type and structure (same EQ band count limit, same crossover count, same
    /// DC-removal and bass-mono switches); parameter moves are smoothed.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid values or a structural change (rebuild the chain for
    /// those), [`Error::Stage`] when the DSP rejects the values; the old parameters stay.
    pub fn set_stage(&mut self, index: usize, config: StageConfig) -> Result<()> {
        ChainConfig::new(vec![config.clone()])
            .validate()
            .map_err(|e| match e {
                ConfigError::OutOfRange {
                    kind,
                    key,
                    value,
                    min,
                    max,
                    ..
                } => ConfigError::OutOfRange {
                    stage: index,
                    kind,
                    key,
                    value,
                    min,
                    max,
                },
                ConfigError::Invalid { kind, reason, .. } => ConfigError::Invalid {
                    stage: index,
                    kind,
                    reason,
                },
                other => other,
            })?;
        let slot = self.slots.get_mut(index).ok_or_else(|| no_stage(index))?;
        let kind = config.kind();
        let same = slot.stage.update(&config).map_err(|source| Error::Stage {
            stage: index,
            kind,
            source,
        })?;
        if !same {
            return Err(Error::Config(ConfigError::Invalid {
                stage: index,
                kind,
                reason: "this change alters the stage's structure; rebuild the chain".into(),
            }));
        }
        let bypass = config.bypassed();
        slot.config = config;
        slot.wet.set_target(if bypass { 0.0 } else { 1.0 });
        Ok(())
    }

    /// Gain reduction of the first limiter, in dB (≥ 0), for meters.
    pub fn limiter_gain_reduction_db(&self) -> f64 {
        self.slots
            .iter()
            .find_map(|s| match &s.stage {
                Stage::Limiter(l) => Some(l.gain_reduction_db()),
                _ => None,
            })
            .unwrap_or(0.0)
    }

    fn process_block(&mut self, frames: &mut [[f32; CH]]) {
        for slot in &mut self.slots {
            let fully_wet = !slot.wet.is_smoothing() && slot.wet.current() >= 1.0;
            let fully_dry = !slot.wet.is_smoothing() && slot.wet.current() <= 0.0;
            if fully_wet {
                // The dry path is only kept up to date, for a later cross-fade.
                slot.dry.feed(frames);
                slot.stage.process(frames);
                continue;
            }
            // Keep the dry path (input delayed by the stage's latency) for the cross-fade.
            let dry = &mut self.scratch[..frames.len()];
            dry.copy_from_slice(frames);
            slot.dry.run(dry);
            if fully_dry {
                // The stage keeps running so that switching it back in is seamless.
                slot.stage.process(frames);
                frames.copy_from_slice(dry);
                continue;
            }
            slot.stage.process(frames);
            for (f, d) in frames.iter_mut().zip(dry.iter()) {
                let w = slot.wet.next() as f32;
                for (s, &x) in f.iter_mut().zip(d) {
                    *s = w * *s + (1.0 - w) * x;
                }
            }
        }
    }
}

fn no_stage(index: usize) -> Error {
    Error::Config(ConfigError::Invalid {
        stage: index,
        kind: "chain",
        reason: "no such stage".into(),
    })
}

fn set_bypass_flag(c: &mut StageConfig, bypass: bool) {
    match c {
        StageConfig::Input(s) => s.bypass = bypass,
        StageConfig::Eq(s) => s.bypass = bypass,
        StageConfig::Compressor(s) => s.bypass = bypass,
        StageConfig::Multiband(s) => s.bypass = bypass,
        StageConfig::Stereo(s) => s.bypass = bypass,
        StageConfig::Saturation(s) => s.bypass = bypass,
        StageConfig::Reverb(s) => s.bypass = bypass,
        StageConfig::Gain(s) => s.bypass = bypass,
        StageConfig::Limiter(s) => s.bypass = bypass,
    }
}

impl<const CH: usize> Processor<CH> for MasteringChain<CH> {
    /// Re-prepares every stage for `spec` (parameters are kept).
    fn prepare(&mut self, spec: &ProcessSpec) -> lathe_core::Result<()> {
        spec.validate()?;
        let spec = ProcessSpec::new(spec.sample_rate, spec.max_block.max(1));
        for slot in &mut self.slots {
            slot.stage.prepare(&spec)?;
            slot.wet.set_ramp(RAMP_MS, spec.sample_rate);
            slot.wet.reset();
            slot.dry = DryDelay::new(slot.stage.latency());
        }
        self.scratch = vec![[0.0; CH]; spec.max_block];
        self.spec = spec;
        Ok(())
    }

    fn reset(&mut self) {
        for slot in &mut self.slots {
            slot.stage.reset();
            slot.wet.reset();
            slot.dry.reset();
        }
    }

    fn process(&mut self, frames: &mut [[f32; CH]]) {
        let cap = self.scratch.len().max(1);
        for block in frames.chunks_mut(cap) {
            self.process_block(block);
        }
    }

    fn latency(&self) -> usize {
        self.slots.iter().map(|s| s.stage.latency()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::DryDelay;

    #[test]
    fn feeding_the_dry_line_leaves_the_state_running_it_would() {
        for len in [1, 5, 131] {
            for split in [1, 3, 64, 200, 512] {
                let x: Vec<[f32; 2]> = (0..700).map(|n| [n as f32, -(n as f32)]).collect();
                let (mut ran, mut fed) = (DryDelay::<2>::new(len), DryDelay::<2>::new(len));
                for block in x.chunks(split) {
                    ran.run(&mut block.to_vec());
                    fed.feed(block);
                }
                assert_eq!((ran.line.clone(), ran.pos), (fed.line.clone(), fed.pos));
                // And the next frames read out the same.
                let (mut a, mut b) = (vec![[9.0f32; 2]; 3], vec![[9.0f32; 2]; 3]);
                ran.run(&mut a);
                fed.run(&mut b);
                assert_eq!(a, b, "len {len}, split {split}");
            }
        }
    }
}
