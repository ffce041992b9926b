//! Shared pieces of the facade's mastering tests: the dense test mix, a whole mastering job
//! run in memory, and the transparency measurement.
#![allow(dead_code)]

use lathe::loudness::LoudnessMeter;
use lathe::{ChainConfig, Mastering, Pass, RenderOutcome, Target};
use lathe_core::db_to_gain;
use lathe_testkit::signals;

/// Sample rate of the tests, Hz.
pub const FS: f64 = 48_000.0;

/// A dense, bass-heavy synthesised mix scaled to `lufs` integrated.
pub fn dense_mix(seconds: f64, lufs: f64) -> Vec<[f32; 2]> {
    let mut x = signals::music_like(FS, seconds, -1.0, 11);
    let mut m = LoudnessMeter::<2>::new(FS).unwrap();
    m.set_true_peak_enabled(false);
    m.process(&x);
    let g = db_to_gain(lufs - m.integrated_lufs()) as f32;
    x.iter_mut().flatten().for_each(|s| *s *= g);
    x
}

/// Runs a whole job in memory, in blocks of 1000 frames (so block edges fall anywhere).
pub fn master(
    input: &[[f32; 2]],
    chain: &ChainConfig,
    target: &Target,
    normalize: bool,
) -> (Vec<[f32; 2]>, Mastering<2>) {
    master_with_estimate(input, chain, target, normalize, None)
}

/// As [`master`], with an estimate of the input's loudness given before the analysis.
pub fn master_with_estimate(
    input: &[[f32; 2]],
    chain: &ChainConfig,
    target: &Target,
    normalize: bool,
    estimate_lufs: Option<f64>,
) -> (Vec<[f32; 2]>, Mastering<2>) {
    let mut job = Mastering::<2>::new(chain, target, FS, normalize).unwrap();
    if let Some(l) = estimate_lufs {
        job.set_input_estimate(l).unwrap();
    }
    run_job(job, input)
}

/// Runs `job` over `input` (blocks of 1000 frames) to the end; the output and the job.
pub fn run_job(mut job: Mastering<2>, input: &[[f32; 2]]) -> (Vec<[f32; 2]>, Mastering<2>) {
    loop {
        match job.pass() {
            Pass::Analyze | Pass::Model => {
                for b in input.chunks(1000) {
                    job.feed(b);
                }
                job.end_pass().unwrap();
            }
            Pass::Render => {
                let mut out = Vec::new();
                for b in input.chunks(1000) {
                    job.render(b, &mut out);
                }
                job.finish(&mut out);
                if job.end_render().unwrap() == RenderOutcome::Done {
                    return (out, job);
                }
            }
            Pass::Done => unreachable!("a finished job returns from the render arm"),
        }
    }
}

/// Energy of `y` left after removing a least-squares gain per 10 ms block of `x`, in dB re the
/// energy of `y` (both channels): how far a limiter's output is from a slowly varying gain.
pub fn modulation_residual_db(x: &[[f32; 2]], y: &[[f32; 2]]) -> f64 {
    assert_eq!(x.len(), y.len(), "residual of misaligned signals");
    let block = (FS * 0.01) as usize;
    let (mut resid, mut total) = (0.0f64, 0.0f64);
    for (xi, yi) in x.chunks(block).zip(y.chunks(block)) {
        for ch in 0..2 {
            let (mut xy, mut xx) = (0.0f64, 0.0f64);
            for (a, b) in xi.iter().zip(yi) {
                xy += f64::from(a[ch]) * f64::from(b[ch]);
                xx += f64::from(a[ch]) * f64::from(a[ch]);
            }
            let g = if xx > 0.0 { xy / xx } else { 0.0 };
            for (a, b) in xi.iter().zip(yi) {
                let e = f64::from(b[ch]) - g * f64::from(a[ch]);
                resid += e * e;
                total += f64::from(b[ch]) * f64::from(b[ch]);
            }
        }
    }
    10.0 * (resid / total).log10()
}

/// What reaches the limiter of a finished job: `input` through the rendered chain without its
/// limiter (input stage with its DC high-pass, whose phase shift is not distortion, and the
/// gain), latency compensated like the output.
pub fn limiter_input(chain: &ChainConfig, input: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut pre_cfg = chain.clone();
    pre_cfg
        .stages
        .retain(|s| !matches!(s, lathe::StageConfig::Limiter(_)));
    let mut pre_chain = lathe::Compensated::new(
        lathe::MasteringChain::<2>::from_config(&pre_cfg, FS, 4096).unwrap(),
    );
    let mut pre = Vec::new();
    pre_chain.render(input, &mut pre);
    pre_chain.finish(&mut pre);
    pre
}
