//! The SVF topology: same transfer function as the biquad it realises, and the stability
//! under modulation that direct forms lack.

use lathe_core::{Biquad, Coeffs};
use lathe_eq::{design_band, BandParams, Design, Svf, SvfCoeffs};
use proptest::prelude::*;

/// The zero-input state update `M` of the SVF, applied to `s`.
fn step(c: &SvfCoeffs, s: [f64; 2]) -> [f64; 2] {
    [
        (2.0 * c.a1 - 1.0) * s[0] - 2.0 * c.a2 * s[1],
        2.0 * c.a2 * s[0] + (1.0 - 2.0 * c.a3) * s[1],
    ]
}

fn norm(s: [f64; 2]) -> f64 {
    s[0].hypot(s[1])
}

fn lerp(a: &SvfCoeffs, b: &SvfCoeffs, t: f64) -> SvfCoeffs {
    let l = |x: f64, y: f64| x + (y - x) * t;
    SvfCoeffs {
        a1: l(a.a1, b.a1),
        a2: l(a.a2, b.a2),
        a3: l(a.a3, b.a3),
        m0: l(a.m0, b.m0),
        m1: l(a.m1, b.m1),
        m2: l(a.m2, b.m2),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// ‖M s‖ ≤ ‖s‖ for every valid coefficient set and every linear interpolation between two.
    #[test]
    fn the_state_norm_never_grows(
        lg1 in -6.0f64..3.0, k1 in 0.0f64..20.0,
        lg2 in -6.0f64..3.0, k2 in 0.0f64..20.0,
        t in 0.0f64..=1.0,
        s0 in -1.0f64..1.0, s1 in -1.0f64..1.0,
    ) {
        let a = SvfCoeffs::from_gk(10f64.powf(lg1), k1, 1.0, 0.0, 0.0).unwrap();
        let b = SvfCoeffs::from_gk(10f64.powf(lg2), k2, 1.0, 0.0, 0.0).unwrap();
        let c = lerp(&a, &b, t);
        let s = [s0, s1];
        prop_assert!(norm(step(&c, s)) <= norm(s) * (1.0 + 1e-12));
    }
}

#[test]
fn per_sample_switching_cannot_blow_up_the_svf_but_does_blow_up_a_direct_form() {
    // Two stable resonant low-passes, alternated every sample, zero input after an impulse.
    let fs = 48_000.0;
    let design = |f| {
        design_band(
            &BandParams {
                q: 2.0,
                design: Design::Rbj,
                ..BandParams::low_pass(f, 2)
            },
            fs,
        )
        .unwrap()
        .as_slice()[0]
    };
    let (ca, cb) = (design(50.0), design(20_000.0));
    let (sa, sb) = (
        SvfCoeffs::from_coeffs(&ca).unwrap(),
        SvfCoeffs::from_coeffs(&cb).unwrap(),
    );
    let mut s = [1.0, 0.0];
    let mut svf_peak = 0.0f64;
    for n in 0..2_000 {
        s = step(if n % 2 == 0 { &sa } else { &sb }, s);
        svf_peak = svf_peak.max(norm(s));
    }
    assert!(svf_peak <= 1.0 + 1e-12, "SVF state grew to {svf_peak}");
    // Transposed direct form II with the very same coefficient sequence diverges.
    let (mut d0, mut d1) = (1.0f64, 0.0f64);
    let mut tdf_peak = 0.0f64;
    for n in 0..2_000 {
        let c: &Coeffs = if n % 2 == 0 { &ca } else { &cb };
        let y = d0;
        (d0, d1) = (-c.a1 * y + d1, -c.a2 * y);
        tdf_peak = tdf_peak.max(d0.abs().max(d1.abs()));
    }
    assert!(tdf_peak > 1e6, "TDF-II peak {tdf_peak}");
}

#[test]
fn svf_output_equals_the_biquad_it_realises() {
    let fs = 44_100.0;
    for p in [
        BandParams::peak(3_000.0, 6.0, 2.0),
        BandParams::high_pass(40.0, 2),
        BandParams::tilt(800.0, -4.0),
        BandParams::all_pass(12_000.0, 0.6),
    ] {
        let c = design_band(&p, fs).unwrap().as_slice()[0];
        let mut svf = Svf::<2>::new(SvfCoeffs::from_coeffs(&c).unwrap());
        let mut bq = Biquad::<2>::new(c);
        for n in 0..5_000 {
            let x = [((n as f64) * 0.05).sin(), ((n as f64) * 0.31).cos() * 0.5];
            let (a, b) = (svf.tick_frame(x), bq.tick_frame(x));
            for ch in 0..2 {
                assert!(
                    (a[ch] - b[ch]).abs() < 1e-12,
                    "{p:?} at {n}: {a:?} vs {b:?}"
                );
            }
        }
    }
}

#[test]
fn svf_recovers_from_non_finite_input_after_the_block() {
    let c = design_band(&BandParams::peak(1_000.0, 3.0, 1.0), 48_000.0)
        .unwrap()
        .as_slice()[0];
    let mut f = Svf::<1>::new(SvfCoeffs::from_coeffs(&c).unwrap());
    let mut block = [[0.1f32], [f32::NAN], [0.1]];
    f.process(&mut block);
    assert!(block[2][0].is_nan());
    let mut next = [[0.1f32]; 8];
    f.process(&mut next);
    assert!(next.iter().all(|v| v[0].is_finite()));
    f.reset();
    assert_eq!(f, Svf::new(SvfCoeffs::from_coeffs(&c).unwrap()));
}
