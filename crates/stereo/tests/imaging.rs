//! Mid/side, the imager and the bass-mono helpers against their analytic definitions.

use lathe_core::{Error, ProcessSpec, Processor};
use lathe_stereo::{mono_below, mono_fold, ImagerParams, MidSide, StereoImager, IMAGER_RAMP_MS};
use lathe_testkit::signals;
use proptest::prelude::*;

const FS: f64 = 48_000.0;

fn imager(p: ImagerParams) -> StereoImager {
    let mut im = StereoImager::new(p);
    im.prepare(&ProcessSpec::new(FS, 512)).unwrap();
    im
}

/// Two independent noises, so that mid and side are both present.
fn stereo_noise(frames: usize, seed: u64) -> Vec<[f32; 2]> {
    let l = signals::white_noise(0.7, seed, frames);
    let r = signals::white_noise(0.7, seed + 100, frames);
    l.into_iter().zip(r).map(|(a, b)| [a, b]).collect()
}

fn ulp_scale(l: f32, r: f32) -> f32 {
    l.abs().max(r.abs()) * f32::EPSILON
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mid_side_round_trip_is_exact_up_to_rounding(l in -4.0f32..4.0, r in -4.0f32..4.0) {
        let [m, s] = MidSide::encode([l, r]);
        // The definition, in f64.
        prop_assert!((f64::from(m) - 0.5 * (f64::from(l) + f64::from(r))).abs()
            <= f64::from(ulp_scale(l, r)));
        prop_assert!((f64::from(s) - 0.5 * (f64::from(l) - f64::from(r))).abs()
            <= f64::from(ulp_scale(l, r)));
        let [l2, r2] = MidSide::decode([m, s]);
        // Two roundings of the sum/difference, one of the final sum: at most 1.5 ulp.
        let tol = 1.5 * ulp_scale(l, r);
        prop_assert!((l2 - l).abs() <= tol, "{l} -> {l2}");
        prop_assert!((r2 - r).abs() <= tol, "{r} -> {r2}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Width never changes the mid: L + R is untouched for any width, also while the width
    /// is being automated.
    #[test]
    fn width_keeps_the_mono_sum(w0 in 0.0f64..=2.0, w1 in 0.0f64..=2.0, seed in 0u64..1000) {
        let x = stereo_noise(4_000, seed);
        let mut y = x.clone();
        let mut im = imager(ImagerParams { width: w0, ..ImagerParams::default() });
        im.process(&mut y[..1_000]);
        im.set_params(ImagerParams { width: w1, ..ImagerParams::default() }).unwrap();
        im.process(&mut y[1_000..]);
        for (a, b) in x.iter().zip(&y) {
            prop_assert!(((a[0] + a[1]) - (b[0] + b[1])).abs() <= 1e-6,
                "L+R {} became {}", a[0] + a[1], b[0] + b[1]);
        }
        // And the side is scaled by the width once the ramp is over.
        for (a, b) in x.iter().zip(&y).skip(1_000 + 960) {
            prop_assert!(((b[0] - b[1]) as f64 - w1 * (a[0] - a[1]) as f64).abs() <= 1e-6);
        }
    }

    /// Mid gain, side gain and width against encode → scale → decode in f64.
    #[test]
    fn mid_side_gains_match_the_definition(
        width in 0.0f64..=2.0, mid_db in -60.0f64..=24.0, side_db in -60.0f64..=24.0,
        seed in 0u64..1000,
    ) {
        let p = ImagerParams { width, mid_gain_db: mid_db, side_gain_db: side_db,
            ..ImagerParams::default() };
        let x = stereo_noise(256, seed);
        let mut y = x.clone();
        imager(p).process(&mut y);
        let (gm, gs) = (10f64.powf(mid_db / 20.0), 10f64.powf(side_db / 20.0) * width);
        for (a, b) in x.iter().zip(&y) {
            let (l, r) = (f64::from(a[0]), f64::from(a[1]));
            let (m, s) = (0.5 * (l + r) * gm, 0.5 * (l - r) * gs);
            let tol = 1e-6 * (1.0 + gm + gs);
            prop_assert!((f64::from(b[0]) - (m + s)).abs() <= tol);
            prop_assert!((f64::from(b[1]) - (m - s)).abs() <= tol);
        }
    }

    /// Rotation preserves the energy L² + R² and moves a source's pan angle by the rotation.
    #[test]
    fn rotation_turns_the_image(deg in -90.0f64..=90.0, pan_deg in 0.0f64..=90.0) {
        let pan = pan_deg.to_radians();
        let x = vec![[pan.cos() as f32, pan.sin() as f32]; 16];
        let mut y = x.clone();
        imager(ImagerParams { rotation_deg: deg, ..ImagerParams::default() }).process(&mut y);
        let want = (pan_deg + deg).to_radians();
        prop_assert!((f64::from(y[0][0]) - want.cos()).abs() < 1e-6);
        prop_assert!((f64::from(y[0][1]) - want.sin()).abs() < 1e-6);
        let e = f64::from(y[0][0]).powi(2) + f64::from(y[0][1]).powi(2);
        prop_assert!((e - 1.0).abs() < 1e-6);
    }
}

#[test]
fn neutral_settings_are_a_bit_exact_identity() {
    // Including values where `1·x + 0·y` would not be bit-exact: −0.0, subnormals, NaN, inf.
    let mut x = stereo_noise(10_000, 4);
    x[10] = [-0.0, 0.0];
    x[11] = [f32::from_bits(1), -f32::MIN_POSITIVE / 4.0];
    x[12] = [f32::NAN, f32::INFINITY];
    x[13] = [1e30, -1e30];
    let bits = |v: &[[f32; 2]]| {
        v.iter()
            .flat_map(|f| f.map(f32::to_bits))
            .collect::<Vec<_>>()
    };
    let mut y = x.clone();
    let mut im = imager(ImagerParams::default());
    assert!(im.is_identity());
    im.process(&mut y);
    assert_eq!(bits(&x), bits(&y));
    // After an excursion and a ramp back, the identity is exact again.
    im.set_params(ImagerParams {
        width: 0.3,
        ..ImagerParams::default()
    })
    .unwrap();
    let mut z = stereo_noise(4_000, 5);
    im.process(&mut z);
    im.set_params(ImagerParams::default()).unwrap();
    im.process(&mut z);
    assert!(im.is_identity());
    let mut y = x.clone();
    im.process(&mut y);
    assert_eq!(bits(&x), bits(&y));
}

#[test]
fn width_zero_is_mono_and_two_doubles_the_side() {
    let x = stereo_noise(1_000, 7);
    let mut mono = x.clone();
    imager(ImagerParams {
        width: 0.0,
        ..ImagerParams::default()
    })
    .process(&mut mono);
    for (a, b) in x.iter().zip(&mono) {
        assert_eq!(b[0], b[1]);
        assert!((b[0] - 0.5 * (a[0] + a[1])).abs() < 1e-6);
    }
    let mut wide = x.clone();
    imager(ImagerParams {
        width: 2.0,
        ..ImagerParams::default()
    })
    .process(&mut wide);
    for (a, b) in x.iter().zip(&wide) {
        assert!(((b[0] - b[1]) - 2.0 * (a[0] - a[1])).abs() < 1e-6);
    }
}

#[test]
fn balance_law() {
    let x = stereo_noise(100, 8);
    for (balance, gl, gr) in [
        (0.5, 0.5, 1.0),
        (-0.25, 1.0, 0.75),
        (1.0, 0.0, 1.0),
        (-1.0, 1.0, 0.0),
    ] {
        let mut y = x.clone();
        imager(ImagerParams {
            balance,
            ..ImagerParams::default()
        })
        .process(&mut y);
        for (a, b) in x.iter().zip(&y) {
            assert!((b[0] - gl * a[0]).abs() < 1e-7, "balance {balance}");
            assert!((b[1] - gr * a[1]).abs() < 1e-7, "balance {balance}");
        }
    }
}

#[test]
fn width_automation_ramps_without_a_click() {
    // Pure side DC ([1, −1]); width 1 → 0 must ramp linearly over 20 ms, never jump.
    let ramp = (IMAGER_RAMP_MS * 1e-3 * FS) as usize;
    let mut x = vec![[1.0f32, -1.0]; 4 * ramp];
    let mut im = imager(ImagerParams::default());
    im.process(&mut x[..ramp]);
    im.set_params(ImagerParams {
        width: 0.0,
        ..ImagerParams::default()
    })
    .unwrap();
    // Odd block sizes: the ramp is per sample.
    for block in x[ramp..].chunks_mut(37) {
        im.process(block);
    }
    let max_step = x
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).abs())
        .fold(0.0f32, f32::max);
    assert!(max_step <= 1.0 / ramp as f32 + 1e-6, "step {max_step}");
    // Halfway it is at half width, at the end exactly mono (0).
    assert!((x[ramp + ramp / 2 - 1][0] - 0.5).abs() < 1e-3);
    assert_eq!(x[2 * ramp], [0.0, 0.0]);
}

#[test]
fn bad_parameters_are_rejected_and_the_old_ones_kept() {
    let mut im = imager(ImagerParams {
        width: 1.5,
        ..ImagerParams::default()
    });
    for (p, name) in [
        (
            ImagerParams {
                width: 2.5,
                ..ImagerParams::default()
            },
            "width",
        ),
        (
            ImagerParams {
                balance: f64::NAN,
                ..ImagerParams::default()
            },
            "balance",
        ),
        (
            ImagerParams {
                mid_gain_db: 30.0,
                ..ImagerParams::default()
            },
            "mid_gain_db",
        ),
        (
            ImagerParams {
                side_gain_db: f64::INFINITY,
                ..ImagerParams::default()
            },
            "side_gain_db",
        ),
        (
            ImagerParams {
                rotation_deg: -91.0,
                ..ImagerParams::default()
            },
            "rotation_deg",
        ),
    ] {
        match im.set_params(p) {
            Err(Error::OutOfRange { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(im.params().width, 1.5);
        assert!(!im.is_smoothing());
    }
    let mut bad = StereoImager::new(ImagerParams {
        width: -1.0,
        ..ImagerParams::default()
    });
    assert!(bad.prepare(&ProcessSpec::new(FS, 64)).is_err());
}

#[test]
fn bass_mono_helpers() {
    assert_eq!(mono_fold([0.25, 0.75]), [0.5, 0.5]);
    // Low band folded, high band untouched; the mid of the result is the mid of low + high.
    let (low, high) = ([0.4f32, -0.2], [0.1f32, 0.3]);
    let y = mono_below(low, high);
    assert_eq!(y, [0.1 + 0.1, 0.1 + 0.3]);
    let mid = |f: [f32; 2]| 0.5 * (f[0] + f[1]);
    assert!((mid(y) - mid([low[0] + high[0], low[1] + high[1]])).abs() < 1e-7);
    // The side that remains is the high band's only.
    assert!(((y[0] - y[1]) - (high[0] - high[1])).abs() < 1e-7);
}
