//! Mastering to a target: the output hits the loudness within 0.1 LU, never crosses the
//! ceiling, is as long as the input and aligned to it, and stays clean when pushed.

use lathe::loudness::LoudnessMeter;
use lathe::{ChainConfig, Mastering, Pass, Preset, RenderOutcome, Target};
use lathe_core::db_to_gain;
use lathe_testkit::{analysis, signals};

mod common;

use common::{dense_mix, limiter_input, master, master_with_estimate, modulation_residual_db, FS};

fn check(out: &[[f32; 2]], input_len: usize, target: &Target) -> (f64, f64) {
    assert_eq!(
        out.len(),
        input_len,
        "output length must equal input length"
    );
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    m.process(out);
    let l = m.integrated_lufs();
    let tp = m.true_peak_dbtp();
    assert!(
        (l - target.integrated_lufs).abs() <= 0.1,
        "integrated {l:.3} LUFS, target {}",
        target.integrated_lufs
    );
    assert!(
        tp <= target.ceiling_dbtp,
        "true peak {tp:.3} dBTP above ceiling {}",
        target.ceiling_dbtp
    );
    let tp8 = analysis::true_peak_8x_db(&signals::channel(out, 0))
        .max(analysis::true_peak_8x_db(&signals::channel(out, 1)));
    assert!(
        tp8 <= target.ceiling_dbtp + 0.1,
        "independent 8x true peak {tp8:.3} dBTP"
    );
    (l, tp)
}

#[test]
fn every_preset_hits_minus_14_at_minus_1_dbtp() {
    let input = dense_mix(20.0, -20.0);
    let target = Target::by_name("spotify").unwrap();
    for p in Preset::ALL {
        let (out, job) = master(&input, &p.chain(&target), &target, true);
        let (l, tp) = check(&out, input.len(), &target);
        let plan = job.plan();
        eprintln!(
            "{}: {l:.3} LUFS, {tp:.3} dBTP, gain {:.2} dB, renders {}",
            p.name(),
            plan.gain_db,
            plan.renders
        );
    }
}

#[test]
fn a_hard_push_from_minus_17_to_minus_9_hits_the_target_cleanly() {
    let input = dense_mix(30.0, -17.0);
    let target = Target::custom(-9.0, -1.0);
    let chain = Preset::Transparent.chain(&target);
    let (out, job) = master(&input, &chain, &target, false);
    let (l, tp) = check(&out, input.len(), &target);
    let plan = job.plan();
    // The model (with the limiter's bass hold) lands the first render within the tolerance:
    // one analysis, one render.
    assert_eq!(
        plan.renders, 1,
        "the model missed: {} renders",
        plan.renders
    );

    // Transparency: energy left after removing a slowly varying gain (least-squares gain per
    // 10 ms block) between input and output, relative to the output energy. At +9 dB of drive
    // much of it is the limiter's legitimate fast gain riding; the reference point is a naive
    // limiter (instant attack, same release and ceiling) driven by the same gain. Both are
    // judged against what reaches the limiter (the rendered chain without its limiter: input
    // stage with its DC high-pass, whose phase shift is not distortion, and the gain).
    let pre = limiter_input(&plan.chain, &input);
    let residual_db = modulation_residual_db(&pre, &out);
    let naive = naive_limiter(&pre, 1.0, plan.limiter_ceiling_db, 80.0);
    let naive_db = modulation_residual_db(&pre, &naive);
    eprintln!(
        "-17 -> -9 LUFS: {l:.3} LUFS, {tp:.3} dBTP, gain {:.2} dB, renders {}, residual {residual_db:.1} dB (naive limiter {naive_db:.1} dB)",
        plan.gain_db, plan.renders
    );
    assert!(
        residual_db < naive_db,
        "limiter residual {residual_db:.1} dB, naive {naive_db:.1} dB"
    );
    assert!(
        residual_db < -30.0,
        "limiter residual {residual_db:.1} dB re output (distortion)"
    );
}

/// A naive sample-peak limiter: instant attack, exponential release, stereo-linked.
fn naive_limiter(x: &[[f32; 2]], gain: f32, ceiling_db: f64, release_ms: f64) -> Vec<[f32; 2]> {
    let ceiling = db_to_gain(ceiling_db);
    let a = lathe_core::one_pole_coeff(release_ms, FS);
    let mut env = 1.0f64;
    x.iter()
        .map(|f| {
            let peak = f64::from((f[0] * gain).abs().max((f[1] * gain).abs()));
            let need = if peak > ceiling { ceiling / peak } else { 1.0 };
            env = if need < env {
                need
            } else {
                need + a * (env - need)
            };
            let g = (f64::from(gain) * env) as f32;
            [f[0] * g, f[1] * g]
        })
        .collect()
}

#[test]
fn output_is_aligned_to_input() {
    // A quiet signal: nothing limits, so the output is the input times one gain, in place.
    let input: Vec<[f32; 2]> =
        signals::to_frames(&signals::pink_noise(0.02, 5, (FS * 8.0) as usize));
    let target = Target::custom(-30.0, -1.0);
    // An empty chain: the job adds only the gain and the true-peak limiter.
    let (out, _) = master(&input, &ChainConfig::default(), &target, false);
    assert_eq!(out.len(), input.len());
    let g = (0..input.len())
        .map(|i| f64::from(out[i][0]) / f64::from(input[i][0]))
        .filter(|r| r.is_finite());
    let ratios: Vec<f64> = g.skip(48_000).collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let worst = ratios.iter().fold(0.0f64, |m, r| m.max((r - mean).abs()));
    assert!(
        worst < 1e-3 * mean.abs(),
        "output is not the input times a constant gain: {worst}"
    );
}

#[test]
fn silence_is_an_error_not_a_panic() {
    let input = vec![[0.0f32; 2]; 48_000];
    let target = Target::by_name("spotify").unwrap();
    let mut job =
        Mastering::<2>::new(&Preset::Streaming.chain(&target), &target, FS, true).unwrap();
    job.feed(&input);
    assert!(matches!(job.end_pass(), Err(lathe::Error::Silent)));
}

#[test]
fn every_preset_chain_is_aligned_by_cross_correlation() {
    // Whole presets mix minimum-phase EQ with linear-phase oversampling; after latency
    // compensation the output must still line up with the input: the cross-correlation of
    // white noise peaks at lag 0, and the output is exactly as long as the input. Multiband
    // stages are left out: their Linkwitz-Riley sum is an all-pass by design, a phase
    // rotation (tested flat in tests/chain.rs) that moves a correlation peak without delaying.
    let input = signals::to_frames::<2>(&signals::white_noise(0.05, 9, (FS * 2.0) as usize));
    let target = Target::by_name("spotify").unwrap();
    for p in Preset::ALL {
        let mut cfg = p.chain(&target);
        cfg.stages
            .retain(|s| !matches!(s, lathe::StageConfig::Multiband(_)));
        let chain = lathe::MasteringChain::<2>::from_config(&cfg, FS, 1024).unwrap();
        let mut c = lathe::Compensated::new(chain);
        let mut out = Vec::new();
        for b in input.chunks(777) {
            c.render(b, &mut out);
        }
        c.finish(&mut out);
        assert_eq!(out.len(), input.len(), "{}", p.name());
        let xcorr = |lag: isize| -> f64 {
            (20_000..input.len() - 20_000)
                .map(|i| f64::from(input[i][0]) * f64::from(out[(i as isize + lag) as usize][0]))
                .sum()
        };
        let best = (-8isize..=8)
            .max_by(|&a, &b| xcorr(a).total_cmp(&xcorr(b)))
            .unwrap();
        assert_eq!(
            best,
            0,
            "{}: output is {best} frames off the input",
            p.name()
        );
    }
}

/// Where what reaches the limiter does not depend on the trim (every stage in front of it is
/// linear, or the input is not trimmed), the model runs during the analysis: the input is read
/// twice (analysis, render), and the job still lands in one render, also pushed hard and for
/// quiet and loud inputs. A compressor preset still takes the model pass.
#[test]
fn linear_or_untrimmed_chains_read_the_input_twice() {
    let compressor = lathe::StageConfig::Compressor(lathe::config::CompressorConfig {
        threshold_db: -20.0,
        ratio: 3.0,
        ..Default::default()
    });
    let custom = ChainConfig::new(vec![compressor]);
    for (from, to) in [(-30.0, -14.0), (-17.0, -9.0), (-8.0, -16.0)] {
        let input = dense_mix(12.0, from);
        let target = Target::custom(to, -1.0);
        for (name, chain, normalize) in [
            ("transparent", Preset::Transparent.chain(&target), true),
            ("custom compressor, untrimmed", custom.clone(), false),
        ] {
            let mut job = Mastering::<2>::new(&chain, &target, FS, normalize).unwrap();
            for b in input.chunks(1000) {
                job.feed(b);
            }
            job.end_pass().unwrap();
            assert_eq!(job.pass(), lathe::Pass::Render, "{name}: a model pass");
            let (out, job) = master(&input, &chain, &target, normalize);
            let (l, tp) = check(&out, input.len(), &target);
            let renders = job.plan().renders;
            eprintln!("{name}, {from} -> {to}: {l:.3} LUFS, {tp:.2} dBTP, {renders} renders");
            // The hard push too lands in one render.
            assert_eq!(renders, 1, "{name} {from} -> {to}: {renders} renders");
        }
    }
    let target = Target::by_name("spotify").unwrap();
    let mut job =
        Mastering::<2>::new(&Preset::Streaming.chain(&target), &target, FS, true).unwrap();
    for b in dense_mix(2.0, -20.0).chunks(1000) {
        job.feed(b);
    }
    job.end_pass().unwrap();
    assert_eq!(job.pass(), lathe::Pass::Model);
}

/// With an estimate of the input's loudness given before the analysis, a compressor preset
/// trims from the estimate, the model runs during the analysis and the input is read twice;
/// the output still lands on the target in one render, pushed hard too. An estimate that misses by more than the tolerance
/// is dropped for the exact trim and a model pass.
#[test]
fn an_input_estimate_saves_the_model_pass_of_compressor_presets() {
    for (preset, from, to) in [
        (Preset::Streaming, -20.0, -14.0),
        (Preset::Streaming, -17.0, -9.0),
        (Preset::Broadcast, -12.0, -23.0),
        (Preset::Podcast, -26.0, -16.0),
        (Preset::Loud, -18.0, -9.0),
    ] {
        let input = dense_mix(12.0, from);
        let mut meter = LoudnessMeter::<2>::new(FS).unwrap();
        meter.process(&input);
        let exact = meter.integrated_lufs();
        let target = Target::custom(to, -1.0);
        let chain = preset.chain(&target);
        let name = preset.name();
        let probe = Mastering::<2>::new(&chain, &target, FS, true).unwrap();
        assert!(probe.wants_input_estimate(), "{name}");
        // An estimate 0.8 dB off (a sparse pre-scan is usually closer).
        let estimate = exact + 0.8;
        let (out, job) = master_with_estimate(&input, &chain, &target, true, Some(estimate));
        let (l, tp) = check(&out, input.len(), &target);
        let plan = job.plan();
        eprintln!(
            "{name} {from} -> {to}: {l:.3} LUFS, {tp:.2} dBTP, {} reads, trim {:.2} dB",
            plan.reads, plan.trim_db
        );
        assert_eq!(plan.input_estimate_lufs, Some(estimate), "{name}");
        assert!((plan.trim_db - (to - estimate)).abs() < 1e-9, "{name}");
        // The analysis and one render, also for the hard pushes.
        assert!(plan.reads == 2 && plan.renders == 1, "{name}: {plan:?}");
        // An estimate 3 dB off: the exact trim and a model pass.
        let (out, job) = master_with_estimate(&input, &chain, &target, true, Some(exact - 3.0));
        let (l, _) = check(&out, input.len(), &target);
        let plan = job.plan();
        eprintln!("  without: {l:.3} LUFS, {} reads", plan.reads);
        assert_eq!(plan.input_estimate_lufs, None, "{name}");
        assert!((plan.trim_db - (to - exact)).abs() < 0.01, "{name}");
        assert!(plan.reads == 3 && plan.renders == 1, "{name}: {plan:?}");
    }
    // Chains whose model already runs in the analysis do not want one.
    let target = Target::custom(-14.0, -1.0);
    let mut job =
        Mastering::<2>::new(&Preset::Transparent.chain(&target), &target, FS, true).unwrap();
    assert!(!job.wants_input_estimate());
    assert!(!job.set_input_estimate(-20.0).unwrap());
    // Too late once the analysis has started.
    let mut job =
        Mastering::<2>::new(&Preset::Streaming.chain(&target), &target, FS, true).unwrap();
    job.feed(&dense_mix(0.1, -20.0));
    assert!(job.set_input_estimate(-20.0).is_err());
}

/// Runs the `streaming` job on a dense mix plainly and through `run` (given the job, with the
/// input estimate set in the second case, and the input), with a model pass (no estimate)
/// and with the model during the analysis (an estimate): the plan (gain to the bit, reads,
/// renders) and the output must be the same. Returns each case's two finished jobs (`run`'s
/// first).
fn same_plan_and_output(
    run: impl Fn(Mastering<2>, &[[f32; 2]], Option<f64>) -> (Vec<[f32; 2]>, Mastering<2>),
) -> Vec<(Mastering<2>, Mastering<2>)> {
    let input = dense_mix(8.0, -20.0);
    let target = Target::by_name("spotify").unwrap();
    let chain = Preset::Streaming.chain(&target);
    [None, Some(-20.3)]
        .into_iter()
        .map(|estimate| {
            let (want_out, want) = master_with_estimate(&input, &chain, &target, true, estimate);
            let mut job = Mastering::<2>::new(&chain, &target, FS, true).unwrap();
            if let Some(l) = estimate {
                job.set_input_estimate(l).unwrap();
            }
            let (out, job) = run(job, &input, estimate);
            let (a, b) = (job.plan(), want.plan());
            assert_eq!(a.gain_db.to_bits(), b.gain_db.to_bits(), "{estimate:?}");
            assert_eq!((a.reads, a.renders), (b.reads, b.renders));
            assert!(out == want_out, "{estimate:?}: the outputs differ");
            (job, want)
        })
        .collect()
}

/// The model in two parts, as `lathe master` runs them on two threads: the stages in front of
/// the limiter on the input blocks, the measurements on what they give gathered into other
/// blocks. The plan (gain to the bit) and the output are those of plain feeding, with a model
/// pass (no estimate) and with the model during the analysis (an estimate).
#[test]
fn the_model_split_in_two_gives_the_same_plan() {
    use lathe::master::Split;
    same_plan_and_output(|mut job, input, estimate| {
        let mut passes = 0;
        while matches!(job.pass(), Pass::Analyze | Pass::Model) {
            passes += 1;
            let Split { work, meter } = job.split();
            let mut pending: Vec<[f32; 2]> = Vec::new();
            let mut measured = 0;
            if let Some((mut front, back)) = work.split_model() {
                for b in input.chunks(1000) {
                    pending.extend_from_slice(front.process(b));
                    // The measuring side sees other blocks than the front.
                    if pending.len() >= 4096 {
                        back.measure(&pending[..4096]);
                        measured += 4096;
                        pending.drain(..4096);
                    }
                }
                back.measure(&pending);
                measured += pending.len();
                assert_eq!(measured, input.len());
            }
            if let Some(m) = meter {
                m.process(input);
            }
            job.end_pass().unwrap();
        }
        assert_eq!(passes, if estimate.is_some() { 1 } else { 2 });
        let mut out = Vec::new();
        for b in input.chunks(1000) {
            job.render(b, &mut out);
        }
        job.finish(&mut out);
        assert_eq!(job.end_render().unwrap(), RenderOutcome::Done);
        (out, job)
    });
}

/// Loudness-only reports change nothing in the mastering: the same plan and output bits and
/// the same loudness readings as full reports, with and without a model pass; what they leave
/// out reads as unmeasured, and the switch is refused once audio was fed.
#[test]
fn loudness_only_reports_master_the_same() {
    let cases = same_plan_and_output(|mut job, input, _| {
        job.set_full_reports(false).unwrap();
        common::run_job(job, input)
    });
    for (job, want) in cases {
        let reports = [
            (job.input_report(), want.input_report()),
            (job.output_report().unwrap(), want.output_report().unwrap()),
        ];
        for (lite, full) in reports {
            let same = |x: f64, y: f64| x.to_bits() == y.to_bits();
            assert!(same(lite.integrated_lufs, full.integrated_lufs));
            assert!(same(lite.true_peak_dbtp, full.true_peak_dbtp));
            assert!(same(lite.loudness_range_lu, full.loudness_range_lu));
            assert!(same(lite.short_term_max_lufs, full.short_term_max_lufs));
            assert!(full.correlation.is_finite() && full.dc_offset.is_finite());
            assert!(!full.spectrum.is_empty());
            assert!(lite.correlation.is_nan() && lite.mono_loss_lu.is_nan());
            assert!(lite.dc_offset.is_nan() && lite.spectrum.is_empty());
        }
    }
    let target = Target::by_name("spotify").unwrap();
    let chain = Preset::Streaming.chain(&target);
    let input = dense_mix(2.0, -20.0);
    let mut job = Mastering::<2>::new(&chain, &target, FS, true).unwrap();
    job.feed(&input[..1000]);
    assert!(job.set_full_reports(false).is_err());
}
