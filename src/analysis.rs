//! Streaming analysis of a file or stream: loudness, peaks, stereo, DC, clipping, balance.

use crate::error::Result;
use crate::report::{AnalysisReport, BandBalance};
use crate::targets::Target;
use lathe_core::ProcessSpec;
use lathe_eq::BandEnergies;
use lathe_loudness::LoudnessMeter;
use lathe_stereo::CorrelationMeter;

/// Magnitude counted as a clipped sample (-0.001 dBFS).
pub const CLIP_LEVEL: f32 = 0.999_885;
/// Spectrum-balance band edges in Hz (the top one is lowered to 0.4 fs at low sample rates,
/// see [`balance_edges_hz`]).
pub const BALANCE_EDGES_HZ: [f64; 3] = [150.0, 1_000.0, 5_000.0];

/// The spectrum-balance band edges used at `sample_rate` Hz: [`BALANCE_EDGES_HZ`] with the top
/// edge at most 0.4 fs, so every rate from 8 kHz up has four bands.
pub fn balance_edges_hz(sample_rate: f64) -> [f64; 3] {
    let [a, b, c] = BALANCE_EDGES_HZ;
    [a, b, c.min(0.4 * sample_rate)]
}
const BALANCE_NAMES: [&str; 4] = ["low", "low-mid", "high-mid", "high"];

/// Analyses audio block by block in bounded memory and produces an [`AnalysisReport`].
///
/// Loudness follows ITU-R BS.1770-4 / EBU R128 (via `lathe-loudness`), correlation and mono
/// loss come from `lathe-stereo` (stereo only), the spectrum balance from a Linkwitz-Riley
/// split of the mono sum into four bands (`lathe-eq`).
#[derive(Debug)]
pub struct Analyzer<const CH: usize> {
    sample_rate: f64,
    /// Everything is measured; otherwise the loudness meter alone (see
    /// [`loudness_only`](Self::loudness_only)).
    full: bool,
    /// Boxed: the meter's gating histograms are a few hundred KB.
    meter: Box<LoudnessMeter<CH>>,
    correlation: Option<CorrelationMeter>,
    stereo_energy: f64,
    mono_energy: f64,
    sums: [f64; CH],
    frames: u64,
    clipped: u64,
    runs: u64,
    run_len: [u32; CH],
    non_finite: u64,
    /// Energies of the mono sum in four bands, split by a tree of Linkwitz-Riley 2nd-order
    /// crossovers (12 dB/oct is plenty for a balance reading, at half the cost of LR4; see
    /// [`BandEnergies`]).
    bands: BandEnergies<4>,
    edges: [f64; 3],
    clean: Vec<[f32; CH]>,
}

impl<const CH: usize> Analyzer<CH> {
    /// An analyzer for `CH` channels at `sample_rate` Hz.
    ///
    /// # Errors
    /// When the sample rate or channel count is unsupported.
    pub fn new(sample_rate: f64) -> Result<Self> {
        let spec = ProcessSpec::new(sample_rate, 1);
        spec.validate()?;
        let meter = Box::new(LoudnessMeter::new(sample_rate)?);
        let correlation = if CH == 2 {
            Some(CorrelationMeter::new(sample_rate, 200.0)?)
        } else {
            None
        };
        let edges = balance_edges_hz(sample_rate);
        let bands = BandEnergies::new(&edges, sample_rate)?;
        Ok(Self {
            sample_rate,
            full: true,
            meter,
            correlation,
            stereo_energy: 0.0,
            mono_energy: 0.0,
            sums: [0.0; CH],
            frames: 0,
            clipped: 0,
            runs: 0,
            run_len: [0; CH],
            non_finite: 0,
            bands,
            edges,
            clean: Vec::new(),
        })
    }

    /// An analyzer that runs the loudness meter alone, for a caller that needs only its
    /// readings (a mastering job that prints the loudness and true peak it reached; the
    /// correlation meter, running sums and band energies are skipped). Its [`report`](Self::report) holds the duration, integrated
    /// loudness, loudness range, true and sample peak, momentary and short-term maxima, PLR and
    /// PSR, and the count of non-finite samples; it leaves correlation, mono loss and DC offset
    /// unmeasured (NaN, `null` in JSON), the clip counts at 0 and the spectrum empty, and its
    /// problems are judged on the loudness readings only.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn loudness_only(sample_rate: f64) -> Result<Self> {
        Ok(Self {
            full: false,
            ..Self::new(sample_rate)?
        })
    }

    /// Whether everything is measured (not [`loudness_only`](Self::loudness_only)).
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Feeds a block of frames (any length). Non-finite samples are counted and measured as
    /// silence.
    pub fn process(&mut self, frames: &[[f32; CH]]) {
        // Exponent bits all set: infinite or NaN (a sum of 0/1 per sample, which vectorises).
        let bad: usize = frames
            .as_flattened()
            .iter()
            .map(|s| usize::from(s.to_bits() & 0x7F80_0000 == 0x7F80_0000))
            .sum();
        if bad == 0 {
            self.measure(frames);
            return;
        }
        self.non_finite += bad as u64;
        let mut clean = std::mem::take(&mut self.clean);
        clean.clear();
        clean.extend(
            frames
                .iter()
                .map(|f| f.map(|s| if s.is_finite() { s } else { 0.0 })),
        );
        self.measure(&clean);
        self.clean = clean;
    }

    fn measure(&mut self, frames: &[[f32; CH]]) {
        self.meter.process(frames);
        if !self.full {
            self.frames += frames.len() as u64;
            return;
        }
        if let Some(c) = &mut self.correlation {
            // Only for two channels: the frames are the pairs.
            c.process(frames.as_flattened().as_chunks::<2>().0);
        }
        // A block at a time, with the running sums in locals: within a block, `f32` partial
        // sums in eight lanes by frame position (32 frames each at most, so their rounding,
        // relative 2e-6, is far under what the readings show; the loop vectorises), added into
        // the `f64` totals once per block.
        const CHUNK: usize = 256;
        const LANES: usize = 8;
        let mut mono = [0.0f32; CHUNK];
        for chunk in frames.chunks(CHUNK) {
            let n = chunk.len();
            let mut lane_sums = [[0.0f32; LANES]; CH];
            let mut lane_peak = [0.0f32; LANES];
            let (mut lane_stereo, mut lane_mono) = ([0.0f32; LANES], [0.0f32; LANES]);
            let mut add = |j: usize, f: &[f32; CH], m: &mut f32| {
                let mut s = 0.0f32;
                for (sum, &v) in lane_sums.iter_mut().zip(f) {
                    sum[j] += v;
                    s += v;
                    let a = v.abs();
                    lane_peak[j] = if a > lane_peak[j] { a } else { lane_peak[j] };
                }
                *m = s / CH as f32;
                if CH == 2 {
                    let (l, r) = (f[0], f[1]);
                    lane_stereo[j] += l * l + r * r;
                    let mid = 0.5 * (l + r);
                    lane_mono[j] += 2.0 * mid * mid;
                }
            };
            let mut groups = chunk.chunks_exact(LANES);
            let mut mg = mono.chunks_exact_mut(LANES);
            for (g, m) in (&mut groups).zip(&mut mg) {
                for j in 0..LANES {
                    add(j, &g[j], &mut m[j]);
                }
            }
            let tail = groups.remainder();
            for (j, (f, m)) in tail.iter().zip(&mut mono[n - tail.len()..n]).enumerate() {
                add(j, f, m);
            }
            let total = |l: &[f32; LANES]| l.iter().map(|&v| f64::from(v)).sum::<f64>();
            let sums: [f64; CH] = core::array::from_fn(|ch| total(&lane_sums[ch]));
            let peak = lane_peak
                .iter()
                .fold(0.0f32, |m, &p| if p > m { p } else { m });
            let stereo = total(&lane_stereo);
            let mono_energy = total(&lane_mono);
            for (total, s) in self.sums.iter_mut().zip(sums) {
                *total += s;
            }
            self.stereo_energy += stereo;
            self.mono_energy += mono_energy;
            if peak >= CLIP_LEVEL {
                for f in chunk {
                    for (&s, run) in f.iter().zip(&mut self.run_len) {
                        if s.abs() >= CLIP_LEVEL {
                            self.clipped += 1;
                            *run += 1;
                            if *run == 3 {
                                self.runs += 1;
                            }
                        } else {
                            *run = 0;
                        }
                    }
                }
            } else {
                self.run_len = [0; CH];
            }
            self.bands.process(&mono[..n]);
        }
        self.frames += frames.len() as u64;
    }

    /// The loudness meter (for merging album meters).
    pub fn meter(&self) -> &LoudnessMeter<CH> {
        &self.meter
    }

    /// Frames analysed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The report so far; problems judged against `target` when given.
    pub fn report(&self, target: Option<&Target>) -> AnalysisReport {
        let r = self.meter.readings();
        let n = self.frames.max(1) as f64;
        let dc =
            self.sums
                .iter()
                .map(|s| s / n)
                .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        let band_energy = self.bands.energies();
        let total: f64 = band_energy.iter().sum();
        let spectrum = (0..4)
            .map(|i| BandBalance {
                name: BALANCE_NAMES[i],
                lo_hz: if i == 0 { 0.0 } else { self.edges[i - 1] },
                hi_hz: if i == 3 {
                    self.sample_rate / 2.0
                } else {
                    self.edges[i]
                },
                share_db: 10.0 * (band_energy[i] / total).log10(),
            })
            .collect();
        let (correlation, mono_loss_lu) = match &self.correlation {
            Some(c) if self.stereo_energy > 0.0 => (
                c.average_correlation(),
                10.0 * (self.stereo_energy / self.mono_energy).log10(),
            ),
            _ => (f64::NAN, f64::NAN),
        };
        let (correlation, mono_loss_lu, dc, spectrum) = if self.full {
            (correlation, mono_loss_lu, dc, spectrum)
        } else {
            (f64::NAN, f64::NAN, f64::NAN, Vec::new())
        };
        let mut report = AnalysisReport {
            sample_rate: self.sample_rate,
            channels: CH,
            duration_s: self.frames as f64 / self.sample_rate,
            integrated_lufs: r.integrated_lufs,
            loudness_range_lu: r.loudness_range_lu,
            true_peak_dbtp: r.true_peak_dbtp,
            sample_peak_dbfs: r.sample_peak_dbfs,
            momentary_max_lufs: r.max_momentary_lufs,
            short_term_max_lufs: r.max_short_term_lufs,
            plr_db: r.true_peak_dbtp - r.integrated_lufs,
            psr_db: r.true_peak_dbtp - r.max_short_term_lufs,
            correlation,
            mono_loss_lu,
            dc_offset: dc,
            clipped_samples: self.clipped,
            clipped_runs: self.runs,
            non_finite_samples: self.non_finite,
            spectrum,
            problems: Vec::new(),
        };
        report.find_problems(target);
        report
    }
}
