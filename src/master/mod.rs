//! Two-pass (plus model) mastering to a loudness target, streaming in bounded memory.
//!
//! [`Mastering`] takes the input two or three times, block by block, so hours of audio never
//! sit in memory:
//!
//! 1. **Analyse** ([`Pass::Analyze`]): the input report (BS.1770-4 loudness, true peak, stereo,
//!    DC, clipping, balance). For presets the input is then trimmed so its integrated loudness
//!    equals the target, which is what lets presets set their thresholds relative to the
//!    target; a custom chain (`normalize_input = false`) sees the input as it is.
//! 2. **Model** ([`Pass::Model`]): only the stages in front of the limiter run; the signal that
//!    would reach the limiter feeds the [`model::LimiterModel`], which evaluates the limiter's
//!    loudness loss for a grid of candidate gains at once and solves for the gain in front of
//!    the limiter that puts the *output* on the target. When that signal does not depend on
//!    the trim (no trim, or only linear stages in front of the limiter: the `transparent`
//!    preset, custom chains) the model runs during the analysis instead, on the untrimmed
//!    signal over a grid of total gains from -30 to +80 dB, and there is no model pass: the
//!    input is read twice. Level-dependent stages after a trim (the compressor presets) need
//!    the trim first: given an estimate of the input's loudness before the analysis
//!    ([`Mastering::set_input_estimate`]; `lathe master` takes one from a sparse pre-scan),
//!    the trim is set from it and the model runs during the analysis on the trimmed signal,
//!    so these too read the input twice; without one (or when the analysis finds the estimate
//!    more than [`TRIM_ESTIMATE_TOLERANCE_DB`] off) they take the model pass.
//! 3. **Render** ([`Pass::Render`]): the whole chain with that gain, latency compensated
//!    (output frame `n` is input frame `n`, same length), while an output analyser measures
//!    the result. If the output misses the target by more than [`TOLERANCE_LU`] or its true
//!    peak is above the ceiling, [`Mastering::end_render`] corrects the gain (or the limiter
//!    margin) and asks for the render pass again ([`RenderOutcome::Retry`]); with the model
//!    this is rare, and it makes the ±0.1 LU / ceiling guarantee hold whatever the chain.
//!
//! The chain is normalised first: a true-peak limiter at the target's ceiling is appended if
//! the chain has none (a limiter with a higher ceiling is lowered to it), a gain stage is put
//! right in front of the limiter, and the input trim is the chain's first stage.

pub mod model;

use crate::analysis::Analyzer;
use crate::chain::MasteringChain;
use crate::config::{ChainConfig, GainConfig, LimiterConfig, StageConfig};
use crate::error::{Error, Result};
use crate::report::AnalysisReport;
use crate::stream::Compensated;
use crate::targets::Target;
use lathe_core::{ms_to_samples, Processor, TruePeakDetector};
use lathe_dynamics::BassDetector;
use lathe_loudness::KWeighting;
use model::LimiterModel;

/// Largest miss of the output's integrated loudness accepted without a re-render, in LU.
pub const TOLERANCE_LU: f64 = 0.05;
/// Margin kept between the limiter's ceiling and the target ceiling, in dB.
pub const CEILING_MARGIN_DB: f64 = 0.05;
/// Spacing of the model's candidate gains, dB. Between candidates the model's curve is
/// interpolated linearly; against half-dB steps, 1 dB steps changed the first render's miss by
/// at most 0.02 LU in the mastering tests (smaller, as often as larger), for half the work.
const GRID_STEP_DB: f64 = 1.0;
/// Lowest total gain (trim plus gain, dB) of the model's grid when it runs during the analysis
/// pass, and its number of steps: -30 ..= +80 dB covers every input the absolute gate lets
/// through pushed to any target.
const EARLY_GRID_LOW_DB: f64 = -30.0;
const EARLY_GRID_STEPS: u32 = 110;

/// Largest difference, dB, between the trim set from an input estimate
/// ([`Mastering::set_input_estimate`]) and the exact trim the analysis finds (target minus
/// the input's integrated loudness) for the estimate's trim to be kept. Within it, the model
/// that ran during the analysis stands and the job reads its input twice; beyond it (an
/// estimate that missed), the job takes the exact trim and a model pass.
pub const TRIM_ESTIMATE_TOLERANCE_DB: f64 = 1.5;
/// The model's grid of gains in front of the limiter when it runs during the analysis on an
/// estimate-trimmed signal (which then sits within a few dB of the target): lowest gain, dB,
/// and its number of steps (-20 ..= +40 dB).
const ESTIMATE_GRID_LOW_DB: f64 = -20.0;
const ESTIMATE_GRID_STEPS: u32 = 60;
/// The model pass's grid: its number of steps from 10 dB under the gain that would put the
/// unlimited signal on the target (-10 ..= +20 dB around it).
const MODEL_GRID_STEPS: u32 = 30;

/// `steps + 1` candidate gains from `low_db`, [`GRID_STEP_DB`] apart.
fn grid(low_db: f64, steps: u32) -> Vec<f64> {
    (0..=steps)
        .map(|k| low_db + GRID_STEP_DB * f64::from(k))
        .collect()
}

/// Most render passes a job makes.
pub const MAX_RENDERS: u32 = 4;
/// Block size the chains are prepared for.
pub const MAX_BLOCK: usize = 4096;

/// Where a mastering job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Feed the input with [`Mastering::feed`], then call [`Mastering::end_pass`].
    Analyze,
    /// Feed the input again with [`Mastering::feed`], then call [`Mastering::end_pass`].
    Model,
    /// Render with [`Mastering::render`], then [`Mastering::finish`] and
    /// [`Mastering::end_render`].
    Render,
    /// Finished.
    Done,
}

/// What [`Mastering::end_render`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderOutcome {
    /// The output meets the target: keep it.
    Done,
    /// The output missed; discard it and render again (the gain was corrected).
    Retry,
}

/// The settings a mastering job ended with.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MasteringPlan {
    /// Target used.
    pub target: Target,
    /// Input trim applied before the chain, dB.
    pub trim_db: f64,
    /// Gain in front of the limiter, dB.
    pub gain_db: f64,
    /// Output loudness the model predicted for that gain, LUFS.
    pub predicted_lufs: f64,
    /// Limiter ceiling used, dBTP (the target ceiling minus a safety margin).
    pub limiter_ceiling_db: f64,
    /// Render passes made so far.
    pub renders: u32,
    /// Times the input was read in full: the analysis, the model pass if one was needed,
    /// and the renders.
    pub reads: u32,
    /// The estimate of the input's integrated loudness the trim was set from
    /// ([`Mastering::set_input_estimate`]), LUFS; `None` when the trim is exact (from the
    /// analysis) or there is none.
    pub input_estimate_lufs: Option<f64>,
    /// The normalised chain that was rendered (with trim and gain filled in).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub chain: ChainConfig,
}

/// A two-pass-plus-model mastering job (see the module docs).
#[derive(Debug)]
pub struct Mastering<const CH: usize> {
    sample_rate: f64,
    target: Target,
    normalize_input: bool,
    chain: ChainConfig,
    gain_index: usize,
    limiter_index: usize,
    pass: Pass,
    input: Analyzer<CH>,
    trim_db: f64,
    /// The model runs during the analysis pass on the untrimmed signal (see
    /// [`Mastering::new`]): no model pass.
    early_model: bool,
    /// The input estimate the trim was set from, when the model runs during the analysis on
    /// the estimate-trimmed signal ([`Mastering::set_input_estimate`]).
    estimate: Option<f64>,
    /// Input has been fed.
    fed: bool,
    /// A model pass was made.
    model_pass: bool,
    /// The model (analysis or model pass) and the chain (render pass).
    work: PassWork<CH>,
    // Render pass.
    gain_db: f64,
    slope: f64,
    /// The last render as a point `(gain - ceiling, loudness - ceiling)` of the limiter curve.
    last_point: Option<(f64, f64)>,
    /// The model's limiter curve as points `(gain - ceiling, loudness - ceiling)`.
    curve: Vec<(f64, f64)>,
    predicted_lufs: f64,
    renders: u32,
    output: Option<Analyzer<CH>>,
}

/// The part of a [`Mastering`] job that processes the audio in order: the stages in front of
/// the limiter and the limiter model while the input is fed, the whole chain while rendering.
/// [`Mastering::split`] lends it beside the job's analyser, so that the two can run on two
/// threads; [`PassWork::split_model`] splits the model further into the stages in front of
/// the limiter and the measurements of what they give ([`ModelBack`]), for a third.
#[derive(Debug)]
pub struct PassWork<const CH: usize> {
    // Model.
    pre: Option<MasteringChain<CH>>,
    scratch: Vec<[f32; CH]>,
    back: ModelBack<CH>,
    // Render.
    render: Option<Compensated<MasteringChain<CH>>>,
}

/// The stages in front of the limiter, lent by [`PassWork::split_model`]: they turn each input
/// block into what reaches the limiter, for the [`ModelBack`].
#[derive(Debug)]
pub struct ModelFront<'a, const CH: usize> {
    pre: &'a mut MasteringChain<CH>,
    scratch: &'a mut Vec<[f32; CH]>,
}

impl<const CH: usize> ModelFront<'_, CH> {
    /// Runs a block of input (non-finite samples as silence) through the stages in front of
    /// the limiter; returns what reaches the limiter, for [`ModelBack::measure`], in order.
    pub fn process(&mut self, block: &[[f32; CH]]) -> &[[f32; CH]] {
        sanitise(block, self.scratch);
        self.pre.process(self.scratch);
        self.scratch
    }
}

/// The limiter model's measurements of the signal that reaches the limiter: per frame its
/// true peak (BS.1770-4 Annex 2), K-weighted energy (BS.1770-4 §2) and the limiter's bass
/// detector level, summarised by the [`LimiterModel`].
#[derive(Debug)]
pub struct ModelBack<const CH: usize> {
    kweight: KWeighting<CH>,
    peaks: TruePeakDetector<CH>,
    model: Option<LimiterModel>,
    peak_scratch: Vec<[f32; CH]>,
    /// Per-frame K-weighted energies of the block.
    energy_scratch: Vec<f64>,
    /// The limiter's bass detector on the signal that reaches it, and its per-frame levels.
    bass: BassDetector<CH>,
    bass_scratch: Vec<f32>,
}

impl<const CH: usize> ModelBack<CH> {
    /// Measures a block of what reaches the limiter ([`ModelFront::process`]), in order.
    pub fn measure(&mut self, x: &[[f32; CH]]) {
        let Some(model) = &mut self.model else {
            return;
        };
        // True peaks a block at a time (the detector's vectorised path, bit-identical to
        // frame-by-frame pushes).
        self.peak_scratch.resize(x.len(), [0.0; CH]);
        self.peaks.push_block(x, &mut self.peak_scratch);
        self.energy_scratch.resize(x.len(), 0.0);
        self.kweight.frame_energies(x, &mut self.energy_scratch);
        // The detector in a local, so its state stays in registers.
        let mut bass = self.bass;
        self.bass_scratch.clear();
        self.bass_scratch.extend(x.iter().map(|f| bass.push(f)));
        self.bass = bass;
        model.push_block(&self.peak_scratch, &self.energy_scratch, &self.bass_scratch);
    }

    fn reset(&mut self) {
        self.kweight.reset();
        self.peaks.reset();
        self.bass.reset();
    }
}

/// A [`Mastering`] job lent in two parts for one pass (see [`Mastering::split`]).
#[derive(Debug)]
pub struct Split<'a, const CH: usize> {
    /// The audio work, in order: [`PassWork::feed`] during the analysis and model passes,
    /// [`PassWork::render`] and [`PassWork::finish`] during a render pass.
    pub work: &'a mut PassWork<CH>,
    /// The analyser that must see the same audio: the input's during the analysis pass (feed
    /// it the input blocks), the output's during a render pass (feed it what
    /// [`PassWork::render`] and [`PassWork::finish`] append); `None` in the model pass.
    pub meter: Option<&'a mut Analyzer<CH>>,
}

/// Replaces non-finite samples by silence, into `out`.
fn sanitise<const CH: usize>(block: &[[f32; CH]], out: &mut Vec<[f32; CH]>) {
    out.clear();
    out.extend(
        block
            .iter()
            .map(|f| f.map(|s| if s.is_finite() { s } else { 0.0 })),
    );
}

impl<const CH: usize> PassWork<CH> {
    fn new(
        sample_rate: f64,
        pre: Option<MasteringChain<CH>>,
        model: Option<LimiterModel>,
    ) -> Result<Self> {
        Ok(Self {
            pre,
            scratch: Vec::new(),
            back: ModelBack {
                kweight: KWeighting::new(sample_rate)?,
                peaks: TruePeakDetector::new(sample_rate),
                model,
                peak_scratch: Vec::new(),
                energy_scratch: Vec::new(),
                bass: BassDetector::new(sample_rate)?,
                bass_scratch: Vec::new(),
            },
            render: None,
        })
    }

    /// Feeds input to the model, when the pass has one (the analysis pass of a job that
    /// models during it, the model pass); does nothing otherwise. The same as
    /// [`split_model`](Self::split_model)'s two parts, one after the other.
    pub fn feed(&mut self, block: &[[f32; CH]]) {
        if let Some((mut front, back)) = self.split_model() {
            back.measure(front.process(block));
        }
    }

    /// The model in two parts that may run on two threads, when the pass has one: feeding
    /// each input block to [`ModelFront::process`] and what it returns to
    /// [`ModelBack::measure`], in order, is exactly [`feed`](Self::feed).
    pub fn split_model(&mut self) -> Option<(ModelFront<'_, CH>, &mut ModelBack<CH>)> {
        match (&mut self.pre, self.back.model.is_some()) {
            (Some(pre), true) => Some((
                ModelFront {
                    pre,
                    scratch: &mut self.scratch,
                },
                &mut self.back,
            )),
            _ => None,
        }
    }

    /// Renders a block during a render pass, appending aligned output to `out` (does nothing
    /// outside one).
    pub fn render(&mut self, input: &[[f32; CH]], out: &mut Vec<[f32; CH]>) {
        let Some(r) = &mut self.render else {
            return;
        };
        sanitise(input, &mut self.scratch);
        r.render(&self.scratch, out);
    }

    /// Appends the last output frames of a render pass (so output length equals input
    /// length).
    pub fn finish(&mut self, out: &mut Vec<[f32; CH]>) {
        if let Some(r) = &mut self.render {
            r.finish(out);
        }
    }
}

/// Puts a limiter at the target ceiling and a gain stage in front of it; returns the indices
/// of the gain stage and the limiter.
pub(crate) fn normalise_chain(chain: &ChainConfig, target: &Target) -> (ChainConfig, usize, usize) {
    let mut stages = vec![StageConfig::Gain(GainConfig::default())]; // input trim
    stages.extend(chain.stages.iter().cloned());
    let mut c = ChainConfig::new(stages);
    let ceiling = target.ceiling_dbtp - CEILING_MARGIN_DB;
    let li = match c.limiter_index() {
        Some(i) => {
            if let StageConfig::Limiter(l) = &mut c.stages[i] {
                l.ceiling_db = l.ceiling_db.min(ceiling);
            }
            i
        }
        None => {
            c.stages.push(StageConfig::Limiter(LimiterConfig {
                ceiling_db: ceiling,
                true_peak: true,
                ..LimiterConfig::default()
            }));
            c.stages.len() - 1
        }
    };
    let (gi, li) = match &c.stages[li - 1] {
        StageConfig::Gain(g) if li > 1 && !g.bypass => (li - 1, li),
        _ => {
            c.stages
                .insert(li, StageConfig::Gain(GainConfig::default()));
            (li, li + 1)
        }
    };
    (c, gi, li)
}

/// Piecewise-linear interpolation on ascending points `(x, y)`: `y(x)`, or with `inverse` the
/// `x` where `y` (non-decreasing) reaches `x_or_y`. Extrapolates from the end segments;
/// `None` for fewer than two points or a flat end segment when inverting.
fn interpolate(points: &[(f64, f64)], x_or_y: f64, inverse: bool) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let key = |p: &(f64, f64)| if inverse { p.1 } else { p.0 };
    let i = points
        .windows(2)
        .position(|w| x_or_y <= key(&w[1]))
        .unwrap_or(points.len() - 2);
    let (a, b) = (points[i], points[i + 1]);
    let (ka, kb) = (key(&a), key(&b));
    if (kb - ka).abs() < 1e-12 {
        return None;
    }
    let t = (x_or_y - ka) / (kb - ka);
    Some(if inverse {
        a.0 + t * (b.0 - a.0)
    } else {
        a.1 + t * (b.1 - a.1)
    })
}

impl<const CH: usize> Mastering<CH> {
    /// A job mastering `CH`-channel audio at `sample_rate` Hz through `chain` to `target`.
    /// With `normalize_input` the input is first trimmed to the target loudness (what presets
    /// expect); without it the chain sees the input as it is.
    ///
    /// # Errors
    /// Invalid chain, unsupported rate or channel count.
    pub fn new(
        chain: &ChainConfig,
        target: &Target,
        sample_rate: f64,
        normalize_input: bool,
    ) -> Result<Self> {
        chain.validate()?;
        let (chain, gain_index, limiter_index) = normalise_chain(chain, target);
        // Build once now so configuration errors surface before any audio is read.
        MasteringChain::<CH>::from_config(&chain, sample_rate, MAX_BLOCK)?;
        // What reaches the limiter does not depend on the trim the analysis decides when there
        // is none, or when every stage in front of the limiter is linear (then the trim only
        // scales it): the model can then run during the analysis pass, on the untrimmed
        // signal, over a grid of total gains wide enough for any input level.
        let early_model = !normalize_input
            || chain.stages[1..gain_index]
                .iter()
                .all(|s| s.bypassed() || s.is_linear());
        let (pre, model) = if early_model {
            let pre = ChainConfig::new(chain.stages[..gain_index].to_vec());
            let pre = MasteringChain::<CH>::from_config(&pre, sample_rate, MAX_BLOCK)?;
            let grid = grid(EARLY_GRID_LOW_DB, EARLY_GRID_STEPS);
            (
                Some(pre),
                Some(Self::model(&chain, limiter_index, sample_rate, &grid)?),
            )
        } else {
            (None, None)
        };
        Ok(Self {
            sample_rate,
            target: *target,
            normalize_input,
            chain,
            gain_index,
            limiter_index,
            pass: Pass::Analyze,
            input: Analyzer::new(sample_rate)?,
            trim_db: 0.0,
            early_model,
            estimate: None,
            fed: false,
            model_pass: false,
            work: PassWork::new(sample_rate, pre, model)?,
            gain_db: 0.0,
            slope: 1.0,
            last_point: None,
            curve: Vec::new(),
            predicted_lufs: f64::NAN,
            renders: 0,
            output: None,
        })
    }

    /// The pass the job expects next.
    pub fn pass(&self) -> Pass {
        self.pass
    }

    /// The limiter model for `chain`'s limiter, evaluated at the gains `grid` (dB).
    fn model(
        chain: &ChainConfig,
        limiter_index: usize,
        sample_rate: f64,
        grid: &[f64],
    ) -> Result<LimiterModel> {
        let StageConfig::Limiter(lim) = &chain.stages[limiter_index] else {
            return Err(Error::Order("limiter missing"));
        };
        let lookahead = ms_to_samples(lim.lookahead_ms, sample_rate);
        // In true-peak mode the limiter aims its margin under the ceiling.
        let margin = if lim.true_peak {
            lathe_dynamics::TRUE_PEAK_MARGIN_DB
        } else {
            0.0
        };
        Ok(LimiterModel::new(
            sample_rate,
            lim.ceiling_db - margin,
            lathe_dynamics::effective_lookahead(lookahead),
            lim.release_ms,
            BassDetector::<1>::hold_frames(lookahead + 1, sample_rate),
            grid,
        ))
    }

    /// Feeds input during [`Pass::Analyze`] and [`Pass::Model`] (ignored otherwise).
    pub fn feed(&mut self, block: &[[f32; CH]]) {
        if !matches!(self.pass, Pass::Analyze | Pass::Model) {
            return;
        }
        let Split { work, meter } = self.split();
        if let Some(m) = meter {
            m.process(block);
        }
        work.feed(block);
    }

    /// Lends the job for the current pass as two parts that may run on two threads: the
    /// audio work ([`PassWork`]) and the analyser that must see the same audio (the input's
    /// while analysing, the output's while rendering). Feeding both parts the same blocks in
    /// order is exactly [`feed`](Self::feed) (analysis and model passes), or
    /// [`render`](Self::render) and [`finish`](Self::finish) (render pass); end the pass
    /// with [`end_pass`](Self::end_pass) or [`end_render`](Self::end_render) as usual.
    pub fn split(&mut self) -> Split<'_, CH> {
        let meter = match self.pass {
            Pass::Analyze => {
                self.fed = true;
                Some(&mut self.input)
            }
            Pass::Render => self.output.as_mut(),
            Pass::Model | Pass::Done => None,
        };
        Split {
            work: &mut self.work,
            meter,
        }
    }

    /// Ends the analysis or model pass.
    ///
    /// # Errors
    /// [`Error::Silent`] when the input has no measurable loudness; [`Error::Order`] when not
    /// in a feeding pass.
    pub fn end_pass(&mut self) -> Result<()> {
        match self.pass {
            Pass::Analyze => {
                let l_in = self.input.report(None).integrated_lufs;
                if !l_in.is_finite() {
                    return Err(Error::Silent);
                }
                let exact_trim = if self.normalize_input {
                    self.target.integrated_lufs - l_in
                } else {
                    0.0
                };
                if self.early_model {
                    self.set_trim(exact_trim);
                    // The model saw the untrimmed signal: its gains are trim plus gain.
                    return self.finish_model(self.trim_db);
                }
                if self.estimate.is_some() {
                    if (exact_trim - self.trim_db).abs() <= TRIM_ESTIMATE_TOLERANCE_DB {
                        // The model saw the signal trimmed as it will be rendered.
                        return self.finish_model(0.0);
                    }
                    // The estimate missed: the exact trim, and a model pass.
                    self.estimate = None;
                }
                self.set_trim(exact_trim);
                let centre = self.target.integrated_lufs - (l_in + self.trim_db);
                let grid = grid(centre - 10.0, MODEL_GRID_STEPS);
                self.start_model(&grid)?;
                self.work.back.reset();
                self.pass = Pass::Model;
                self.model_pass = true;
                Ok(())
            }
            Pass::Model => self.finish_model(0.0),
            _ => Err(Error::Order(
                "end_pass outside the analysis and model passes",
            )),
        }
    }

    /// Sets the input trim (the chain's first stage).
    fn set_trim(&mut self, trim_db: f64) {
        self.trim_db = trim_db;
        self.chain.stages[0] = StageConfig::Gain(GainConfig {
            gain_db: trim_db,
            bypass: false,
        });
    }

    /// Builds the stages in front of the limiter's gain (with the current trim) and the
    /// model over `grid` (gains in front of the limiter, dB).
    fn start_model(&mut self, grid: &[f64]) -> Result<()> {
        let pre = ChainConfig::new(self.chain.stages[..self.gain_index].to_vec());
        self.work.pre = Some(MasteringChain::<CH>::from_config(
            &pre,
            self.sample_rate,
            MAX_BLOCK,
        )?);
        self.work.back.model = Some(Self::model(
            &self.chain,
            self.limiter_index,
            self.sample_rate,
            grid,
        )?);
        Ok(())
    }

    /// True when an estimate of the input's loudness given before the analysis
    /// ([`set_input_estimate`](Self::set_input_estimate)) would save the model pass: the
    /// input is trimmed and a level-dependent stage (a compressor, saturation) sits in front
    /// of the limiter.
    pub fn wants_input_estimate(&self) -> bool {
        self.normalize_input && !self.early_model && self.pass == Pass::Analyze && !self.fed
    }

    /// Whether [`input_report`](Self::input_report) and [`output_report`](Self::output_report)
    /// measure everything (the default) or the loudness readings alone
    /// ([`Analyzer::loudness_only`]: integrated loudness, loudness range, true and sample peak,
    /// momentary and short-term maxima). The mastering itself does not depend on it: the
    /// plan, the output and its loudness and true peak are the same either way; the analyses
    /// running beside the passes skip their correlation, running sums and band energies
    /// (one hour of `lathe master`: 7.1-7.6 s with full reports, 6.4-6.9 s without).
    ///
    /// # Errors
    /// [`Error::Order`] once input has been fed.
    pub fn set_full_reports(&mut self, full: bool) -> Result<()> {
        if self.fed || self.pass != Pass::Analyze {
            return Err(Error::Order("set_full_reports before the analysis is fed"));
        }
        if full != self.input.is_full() {
            self.input = if full {
                Analyzer::new(self.sample_rate)?
            } else {
                Analyzer::loudness_only(self.sample_rate)?
            };
        }
        Ok(())
    }

    /// Sets the input trim from an estimate of the input's integrated loudness (LUFS), given
    /// before any input is fed, so that the model can run during the analysis on the signal as
    /// it will be rendered and the input is read twice instead of three times.
    ///
    /// The trim only places the input for the chain's level-dependent stages (a preset's
    /// compressor thresholds are relative to the target); the gain in front of the limiter is
    /// still solved so the *output* hits the target. When the analysis finds the exact trim
    /// (target minus the measured integrated loudness) more than
    /// [`TRIM_ESTIMATE_TOLERANCE_DB`] away from the estimate's, the estimate is dropped: the
    /// job takes the exact trim and a model pass, as without an estimate. A sparse pre-scan of
    /// a file (a few percent of it, spread over its length) is a good source; `lathe master`
    /// uses one.
    ///
    /// Returns whether the estimate was taken: false when
    /// [`wants_input_estimate`](Self::wants_input_estimate) is false or the estimate is not
    /// finite.
    ///
    /// # Errors
    /// [`Error::Order`] once input has been fed; chain errors while building the model.
    pub fn set_input_estimate(&mut self, input_lufs: f64) -> Result<bool> {
        if self.fed || self.pass != Pass::Analyze {
            return Err(Error::Order(
                "set_input_estimate before the analysis is fed",
            ));
        }
        if !self.wants_input_estimate() || !input_lufs.is_finite() {
            return Ok(false);
        }
        self.set_trim(self.target.integrated_lufs - input_lufs);
        let grid = grid(ESTIMATE_GRID_LOW_DB, ESTIMATE_GRID_STEPS);
        self.start_model(&grid)?;
        self.estimate = Some(input_lufs);
        Ok(true)
    }

    /// Solves the model for the gain in front of the limiter and starts rendering; the
    /// model's gains are `offset_db` plus that gain.
    fn finish_model(&mut self, offset_db: f64) -> Result<()> {
        {
            let mut model = self
                .work
                .back
                .model
                .take()
                .ok_or(Error::Order("model missing"))?;
            model.finish();
            let (gain, slope) = model
                .solve_absolute(self.target.integrated_lufs)
                .ok_or(Error::Silent)?;
            self.gain_db = gain - offset_db;
            self.slope = slope.clamp(0.05, 1.0);
            let c0 = match &self.chain.stages[self.limiter_index] {
                StageConfig::Limiter(l) => l.ceiling_db,
                _ => 0.0,
            };
            self.curve = model
                .curve()
                .into_iter()
                .map(|(g, l)| (g - offset_db - c0, l - c0))
                .collect();
            self.predicted_lufs = self.target.integrated_lufs;
            self.work.pre = None;
            self.start_render()?;
            Ok(())
        }
    }

    fn start_render(&mut self) -> Result<()> {
        if let StageConfig::Gain(g) = &mut self.chain.stages[self.gain_index] {
            g.gain_db = self.gain_db.clamp(-96.0, 48.0);
        }
        let chain = MasteringChain::<CH>::from_config(&self.chain, self.sample_rate, MAX_BLOCK)?;
        self.work.render = Some(Compensated::new(chain));
        self.output = Some(if self.input.is_full() {
            Analyzer::new(self.sample_rate)?
        } else {
            Analyzer::loudness_only(self.sample_rate)?
        });
        self.renders += 1;
        self.pass = Pass::Render;
        Ok(())
    }

    /// Renders a block during [`Pass::Render`], appending aligned output to `out`.
    pub fn render(&mut self, input: &[[f32; CH]], out: &mut Vec<[f32; CH]>) {
        let start = out.len();
        let Split { work, meter } = self.split();
        work.render(input, out);
        if let Some(m) = meter {
            m.process(&out[start..]);
        }
    }

    /// Appends the last output frames (so output length equals input length).
    pub fn finish(&mut self, out: &mut Vec<[f32; CH]>) {
        let start = out.len();
        let Split { work, meter } = self.split();
        work.finish(out);
        if let Some(m) = meter {
            m.process(&out[start..]);
        }
    }

    /// Checks the rendered output against the target. On a miss (more than
    /// [`TOLERANCE_LU`] off, or a true peak above the ceiling) the gain or limiter margin is
    /// corrected and [`RenderOutcome::Retry`] asks for another render pass (at most
    /// [`MAX_RENDERS`] in all; the last one is kept whatever it measures).
    ///
    /// # Errors
    /// [`Error::Order`] outside the render pass.
    pub fn end_render(&mut self) -> Result<RenderOutcome> {
        if self.pass != Pass::Render {
            return Err(Error::Order("end_render outside the render pass"));
        }
        let report = self
            .output
            .as_ref()
            .ok_or(Error::Order("no output"))?
            .report(None);
        let miss = self.target.integrated_lufs - report.integrated_lufs;
        let over = report.true_peak_dbtp - self.target.ceiling_dbtp;
        if self.renders >= MAX_RENDERS || (miss.abs() <= TOLERANCE_LU && over <= 0.0) {
            self.pass = Pass::Done;
            return Ok(RenderOutcome::Done);
        }
        let StageConfig::Limiter(limiter) = &mut self.chain.stages[self.limiter_index] else {
            return Err(Error::Order("limiter missing"));
        };
        // The gain stage sits right in front of the limiter, and a limiter is scale-invariant:
        // with ceiling `c` and gain `g`, the output loudness is `c + F(g - c)` for one
        // increasing function `F` of the drive above the ceiling. Every render is a point of
        // `F`; lowering the ceiling (after a true-peak over) moves along the same curve.
        let ceiling = limiter.ceiling_db;
        let point = (self.gain_db - ceiling, report.integrated_lufs - ceiling);
        if over > 0.0 {
            limiter.ceiling_db -= over + 0.02;
        }
        let new_ceiling = limiter.ceiling_db;
        if point.1.is_finite() {
            let want = self.target.integrated_lufs - new_ceiling;
            let drive = match self.last_point {
                // Two renders: the secant through them.
                Some(prev) if (point.0 - prev.0).abs() > 1e-3 => {
                    self.slope = ((point.1 - prev.1) / (point.0 - prev.0)).clamp(0.05, 1.0);
                    point.0 + (want - point.1) / self.slope
                }
                // One render: the model's curve, shifted to pass through the measured point.
                _ => match interpolate(&self.curve, point.0, false) {
                    Some(modelled) => interpolate(&self.curve, want - (point.1 - modelled), true)
                        .unwrap_or(point.0 + (want - point.1) / self.slope),
                    None => point.0 + (want - point.1) / self.slope,
                },
            };
            self.gain_db = drive + new_ceiling;
            self.last_point = Some(point);
        }
        self.start_render()?;
        Ok(RenderOutcome::Retry)
    }

    /// The input analysis (after [`Pass::Analyze`]).
    pub fn input_report(&self) -> AnalysisReport {
        self.input.report(Some(&self.target))
    }

    /// The output analysis of the last render (`None` before rendering).
    pub fn output_report(&self) -> Option<AnalysisReport> {
        self.output.as_ref().map(|a| a.report(Some(&self.target)))
    }

    /// The plan: trim, gain, limiter ceiling, renders.
    pub fn plan(&self) -> MasteringPlan {
        let limiter_ceiling_db = match &self.chain.stages[self.limiter_index] {
            StageConfig::Limiter(l) => l.ceiling_db,
            _ => f64::NAN,
        };
        MasteringPlan {
            target: self.target,
            trim_db: self.trim_db,
            gain_db: self.gain_db,
            predicted_lufs: self.predicted_lufs,
            limiter_ceiling_db,
            renders: self.renders,
            reads: 1 + u32::from(self.model_pass) + self.renders,
            input_estimate_lufs: self.estimate,
            chain: self.chain.clone(),
        }
    }

    /// Latency of the rendering chain in frames (compensated in the output).
    pub fn latency(&self) -> usize {
        self.work
            .render
            .as_ref()
            .map_or(0, |r| Processor::<CH>::latency(r.inner()))
    }
}
