//! Filter design against the truth: the analog prototypes, the RBJ cookbook formulas written
//! out independently, exact boost/cut symmetry, and stability over the whole parameter space.

use core::f64::consts::PI;
use lathe_core::{gain_to_db, Coeffs};
use lathe_eq::{
    butterworth_q, coeffs_response, design_band, shelf_slope_to_q, BandParams, Design, FilterKind,
    SvfCoeffs,
};
use num_complex::Complex64;
use proptest::prelude::*;

fn db(h: Complex64) -> f64 {
    gain_to_db(h.norm())
}

fn rbj(p: BandParams) -> BandParams {
    BandParams {
        design: Design::Rbj,
        ..p
    }
}

/// Largest |digital − analog| in dB over `f_lo ..= f_hi` (1 Hz steps above 1 kHz, finer below),
/// where the analog response is above `floor_db`.
fn worst_vs_analog(p: &BandParams, fs: f64, f_lo: f64, f_hi: f64, floor_db: f64) -> (f64, f64) {
    let s = design_band(p, fs).unwrap();
    let mut worst = (0.0f64, 0.0);
    let mut f = f_lo;
    while f <= f_hi {
        let a = db(p.analog_response(f));
        if a > floor_db {
            let e = (db(s.response(f, fs)) - a).abs();
            if e > worst.0 {
                worst = (e, f);
            }
        }
        f += if f < 1_000.0 { 0.25 } else { 1.0 };
    }
    worst
}

#[test]
fn matched_peak_at_15k_follows_the_analog_bell_up_to_22k() {
    // Acceptance: +12 dB, Q 1 at 15 kHz, 48 kHz: within 1 dB of analog everywhere to 22 kHz.
    let fs = 48_000.0;
    let p = BandParams::peak(15_000.0, 12.0, 1.0);
    let (err, at) = worst_vs_analog(&p, fs, 10.0, 22_000.0, -200.0);
    assert!(
        err < 1.0,
        "matched peak is {err:.3} dB off analog at {at} Hz"
    );
    // The RBJ (bilinear) design cramps: about 6.5 dB low at 21 kHz.
    let rbj_err = db(p.analog_response(21_000.0))
        - db(design_band(&rbj(p), fs).unwrap().response(21_000.0, fs));
    assert!(
        (5.5..7.5).contains(&rbj_err),
        "RBJ error at 21 kHz {rbj_err:.2} dB"
    );
}

#[test]
fn matched_resonant_low_pass_at_16k_follows_analog_at_22k() {
    // Acceptance: 16 kHz, Q 2 low-pass within 1.5 dB of analog at 22 kHz (and everywhere below).
    let fs = 48_000.0;
    let p = BandParams {
        q: 2.0,
        ..BandParams::low_pass(16_000.0, 2)
    };
    let s = design_band(&p, fs).unwrap();
    let at22 = (db(s.response(22_000.0, fs)) - db(p.analog_response(22_000.0))).abs();
    assert!(at22 < 1.5, "{at22:.3} dB off at 22 kHz");
    let (err, at) = worst_vs_analog(&p, fs, 10.0, 22_000.0, -200.0);
    assert!(err < 1.5, "{err:.3} dB off at {at} Hz");
    let rbj_at22 = (db(design_band(&rbj(p), fs).unwrap().response(22_000.0, fs))
        - db(p.analog_response(22_000.0)))
    .abs();
    assert!(rbj_at22 > 10.0, "RBJ only {rbj_at22:.2} dB off");
}

#[test]
fn matched_designs_stay_close_to_analog_over_the_usual_ranges() {
    // Peaks and shelves with Q 0.3 ..= 2 and corners up to 0.35 fs, band edges, passes: the
    // matched design stays within 2 dB of the analog prototype wherever that is above -40 dB
    // (the RBJ design is off by up to ~13 dB on the same grid).
    let fs = 48_000.0;
    let mut worst = (0.0f64, BandParams::default(), 0.0);
    for fi in 0..12 {
        let f0 = 30.0 * libm::pow(0.35 * fs / 30.0, f64::from(fi) / 11.0);
        for &g in &[-18.0, -6.0, 6.0, 18.0] {
            for &q in &[0.3, core::f64::consts::FRAC_1_SQRT_2, 2.0] {
                for kind in [
                    FilterKind::Peak,
                    FilterKind::LowShelf,
                    FilterKind::HighShelf,
                ] {
                    let p = BandParams {
                        kind,
                        freq_hz: f0,
                        gain_db: g,
                        q,
                        ..BandParams::default()
                    };
                    let s = design_band(&p, fs).unwrap();
                    for i in 1..=220 {
                        let f = f64::from(i) * 100.0;
                        let a = db(p.analog_response(f));
                        if a > -40.0 {
                            let e = (db(s.response(f, fs)) - a).abs();
                            if e > worst.0 {
                                worst = (e, p, f);
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(worst.0 < 2.0, "{worst:?}");
}

#[test]
fn magnitude_at_the_corner_equals_the_gain() {
    for &fs in &[44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        for design in [Design::Matched, Design::Rbj] {
            for &f0 in &[20.0, 150.0, 1_000.0, 8_000.0, 0.45 * fs] {
                for &g in &[-24.0, -6.5, 0.0, 3.0, 24.0] {
                    for &q in &[0.1, core::f64::consts::FRAC_1_SQRT_2, 4.0, 20.0] {
                        let at = |p: BandParams| {
                            db(design_band(&BandParams { design, ..p }, fs)
                                .unwrap()
                                .response(f0, fs))
                        };
                        let ctx = format!("{design:?} f0 {f0} g {g} q {q} fs {fs}");
                        assert!(
                            (at(BandParams::peak(f0, g, q)) - g).abs() < 1e-6,
                            "peak {ctx}"
                        );
                        // Shelves: half the gain (in dB) at the corner.
                        assert!(
                            (at(BandParams::low_shelf(f0, g, q)) - g / 2.0).abs() < 1e-6,
                            "low shelf {ctx}"
                        );
                        assert!(
                            (at(BandParams::high_shelf(f0, g, q)) - g / 2.0).abs() < 1e-6,
                            "high shelf {ctx}"
                        );
                        assert!(at(BandParams::tilt(f0, g)).abs() < 1e-6, "tilt {ctx}");
                        assert!(at(BandParams::band_pass(f0, q)).abs() < 1e-6, "bp {ctx}");
                        assert!(at(BandParams::notch(f0, q)) < -100.0, "notch {ctx}");
                        assert!(at(BandParams::all_pass(f0, q)).abs() < 1e-9, "ap {ctx}");
                    }
                }
                for order in 1..=8 {
                    for p in [
                        BandParams::low_pass(f0, order),
                        BandParams::high_pass(f0, order),
                    ] {
                        let s = design_band(&BandParams { design, ..p }, fs).unwrap();
                        let d = db(s.response(f0, fs));
                        assert!(
                            (d + 3.010_299_956_639_812).abs() < 1e-6,
                            "{design:?} {:?} order {order} at {f0}: {d}",
                            p.kind
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn all_pass_phase_is_minus_180_degrees_at_the_corner() {
    let fs = 48_000.0;
    for design in [Design::Matched, Design::Rbj] {
        for &f0 in &[100.0, 5_000.0, 20_000.0] {
            let p = BandParams {
                design,
                ..BandParams::all_pass(f0, 0.8)
            };
            let h = design_band(&p, fs).unwrap().response(f0, fs);
            assert!((h.arg().abs() - PI).abs() < 1e-9, "{design:?} {f0}: {h}");
            for f in [10.0, 1_000.0, 23_000.0] {
                let m = design_band(&p, fs).unwrap().response(f, fs).norm();
                assert!((m - 1.0).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn butterworth_slopes_follow_the_analog_prototype() {
    // Far from Nyquist the matched high-pass equals the analog Butterworth: |H|² = 1/(1 + (f0/f)^2n).
    let fs = 48_000.0;
    for order in 1..=8u8 {
        let p = BandParams::high_pass(1_000.0, order);
        let s = design_band(&p, fs).unwrap();
        assert_eq!(s.len(), usize::from(order).div_ceil(2));
        for f in [250.0, 500.0, 2_000.0] {
            let analog = -10.0 * libm::log10(1.0 + libm::pow(1_000.0 / f, 2.0 * f64::from(order)));
            let d = db(s.response(f, fs));
            assert!(
                (d - analog).abs() < 0.05,
                "order {order} at {f}: {d} vs {analog}"
            );
        }
    }
    assert!((butterworth_q(2, 0) - core::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
    assert!((butterworth_q(4, 0) - 0.541_196_100_146_197).abs() < 1e-12);
    assert!((butterworth_q(4, 1) - 1.306_562_964_876_376_3).abs() < 1e-12);
    assert!((butterworth_q(3, 0) - 1.0).abs() < 1e-12);
}

/// The RBJ Audio EQ Cookbook formulas, written out independently of the crate's generic
/// bilinear transform.
fn cookbook(kind: FilterKind, f0: f64, gain_db: f64, q: f64, fs: f64) -> Coeffs {
    let a = libm::pow(10.0, gain_db / 40.0);
    let w0 = 2.0 * PI * f0 / fs;
    let (cs, sn) = (w0.cos(), w0.sin());
    let alpha = sn / (2.0 * q);
    let sa = 2.0 * a.sqrt() * alpha;
    let (b, ac) = match kind {
        FilterKind::Peak => (
            [1.0 + alpha * a, -2.0 * cs, 1.0 - alpha * a],
            [1.0 + alpha / a, -2.0 * cs, 1.0 - alpha / a],
        ),
        FilterKind::LowShelf => (
            [
                a * ((a + 1.0) - (a - 1.0) * cs + sa),
                2.0 * a * ((a - 1.0) - (a + 1.0) * cs),
                a * ((a + 1.0) - (a - 1.0) * cs - sa),
            ],
            [
                (a + 1.0) + (a - 1.0) * cs + sa,
                -2.0 * ((a - 1.0) + (a + 1.0) * cs),
                (a + 1.0) + (a - 1.0) * cs - sa,
            ],
        ),
        FilterKind::HighShelf => (
            [
                a * ((a + 1.0) + (a - 1.0) * cs + sa),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * cs),
                a * ((a + 1.0) + (a - 1.0) * cs - sa),
            ],
            [
                (a + 1.0) - (a - 1.0) * cs + sa,
                2.0 * ((a - 1.0) - (a + 1.0) * cs),
                (a + 1.0) - (a - 1.0) * cs - sa,
            ],
        ),
        FilterKind::BandPass => ([alpha, 0.0, -alpha], [1.0 + alpha, -2.0 * cs, 1.0 - alpha]),
        FilterKind::Notch => ([1.0, -2.0 * cs, 1.0], [1.0 + alpha, -2.0 * cs, 1.0 - alpha]),
        FilterKind::AllPass => (
            [1.0 - alpha, -2.0 * cs, 1.0 + alpha],
            [1.0 + alpha, -2.0 * cs, 1.0 - alpha],
        ),
        FilterKind::LowPass => (
            [(1.0 - cs) / 2.0, 1.0 - cs, (1.0 - cs) / 2.0],
            [1.0 + alpha, -2.0 * cs, 1.0 - alpha],
        ),
        FilterKind::HighPass => (
            [(1.0 + cs) / 2.0, -(1.0 + cs), (1.0 + cs) / 2.0],
            [1.0 + alpha, -2.0 * cs, 1.0 - alpha],
        ),
        FilterKind::Tilt => unreachable!(),
    };
    Coeffs {
        b0: b[0] / ac[0],
        b1: b[1] / ac[0],
        b2: b[2] / ac[0],
        a1: ac[1] / ac[0],
        a2: ac[2] / ac[0],
    }
}

#[test]
fn rbj_design_is_the_cookbook() {
    for &fs in &[44_100.0, 96_000.0] {
        for &f0 in &[40.0, 1_234.0, 18_000.0] {
            for &(g, q) in &[(-9.0, 0.5), (4.5, 2.5)] {
                for kind in [
                    FilterKind::Peak,
                    FilterKind::LowShelf,
                    FilterKind::HighShelf,
                    FilterKind::BandPass,
                    FilterKind::Notch,
                    FilterKind::AllPass,
                    FilterKind::LowPass,
                    FilterKind::HighPass,
                ] {
                    let p = BandParams {
                        kind,
                        freq_hz: f0,
                        gain_db: g,
                        q,
                        order: 2,
                        design: Design::Rbj,
                        enabled: true,
                    };
                    let ours = design_band(&p, fs).unwrap().as_slice()[0];
                    let theirs = cookbook(kind, f0, g, q, fs);
                    let d = [
                        ours.b0 - theirs.b0,
                        ours.b1 - theirs.b1,
                        ours.b2 - theirs.b2,
                        ours.a1 - theirs.a1,
                        ours.a2 - theirs.a2,
                    ];
                    assert!(
                        d.iter().all(|v| v.abs() < 1e-11),
                        "{kind:?} {f0} {fs}: {ours:?} vs {theirs:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn shelf_slope_converts_like_the_cookbook() {
    // S = 1 is Q = 1/sqrt(2) at any gain; the conversion keeps the shelf at half gain at f0.
    for g in [-12.0, 0.0, 6.0] {
        assert!(
            (shelf_slope_to_q(g, 1.0).unwrap() - core::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12
        );
    }
    let p = BandParams::high_shelf_slope(3_000.0, 6.0, 0.5).unwrap();
    assert!(p.q < core::f64::consts::FRAC_1_SQRT_2);
    assert!(matches!(
        shelf_slope_to_q(6.0, 1.5),
        Err(lathe_core::Error::OutOfRange { param: "slope", .. })
    ));
}

fn all_kinds(freq_hz: f64, gain_db: f64, q: f64, order: u8) -> [BandParams; 9] {
    let mk = |kind| BandParams {
        kind,
        freq_hz,
        gain_db,
        q,
        order,
        ..BandParams::default()
    };
    [
        mk(FilterKind::Peak),
        mk(FilterKind::LowShelf),
        mk(FilterKind::HighShelf),
        mk(FilterKind::LowPass),
        mk(FilterKind::HighPass),
        mk(FilterKind::BandPass),
        mk(FilterKind::Notch),
        mk(FilterKind::AllPass),
        mk(FilterKind::Tilt),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every design is stable, realisable as an SVF and finite, for every parameter in range.
    #[test]
    fn every_design_is_stable(
        rate in 0usize..4,
        rel_f in 0.0f64..1.0,
        gain_db in -24.0f64..=24.0,
        ln_q in (0.1f64).ln()..=(40.0f64).ln(),
        order in 1u8..=8,
    ) {
        let fs = [44_100.0, 48_000.0, 96_000.0, 192_000.0][rate];
        // 10 Hz ..= 0.49 fs, log-uniform.
        let f0 = 10.0 * libm::pow(0.49 * fs / 10.0, rel_f);
        for p in all_kinds(f0, gain_db, ln_q.exp(), order) {
            for design in [Design::Matched, Design::Rbj] {
                let p = BandParams { design, ..p };
                let s = design_band(&p, fs).unwrap();
                for c in s.as_slice() {
                    prop_assert!(c.is_stable(), "{p:?}: {c:?}");
                    let v = [c.b0, c.b1, c.b2, c.a1, c.a2];
                    prop_assert!(v.iter().all(|x| x.is_finite()), "{p:?}: {c:?}");
                    prop_assert!(SvfCoeffs::from_coeffs(c).is_ok(), "{p:?}: {c:?}");
                    // Poles strictly inside the unit circle with a margin f64 can hold.
                    let r = if c.a1 * c.a1 < 4.0 * c.a2 { c.a2.sqrt() } else {
                        let d = (c.a1 * c.a1 - 4.0 * c.a2).sqrt();
                        f64::max((-c.a1 + d).abs(), (-c.a1 - d).abs()) / 2.0
                    };
                    prop_assert!(r < 1.0 - 1e-12, "{p:?}: radius {r}");
                }
                for f in [1.0, f0, 0.5 * fs - 1.0] {
                    prop_assert!(s.response(f, fs).norm().is_finite());
                }
            }
        }
    }

    /// A boost followed by the same cut is flat, in both designs.
    #[test]
    fn boost_then_cut_is_flat(
        rel_f in 0.0f64..1.0,
        gain_db in 0.1f64..=24.0,
        ln_q in (0.1f64).ln()..=(40.0f64).ln(),
    ) {
        let fs = 48_000.0;
        let f0 = 10.0 * libm::pow(0.49 * fs / 10.0, rel_f);
        let q = ln_q.exp();
        for design in [Design::Matched, Design::Rbj] {
            for make in [BandParams::peak, BandParams::low_shelf, BandParams::high_shelf, |f, g, _| BandParams::tilt(f, g)] {
                let boost = design_band(&BandParams { design, ..make(f0, gain_db, q) }, fs).unwrap();
                let cut = design_band(&BandParams { design, ..make(f0, -gain_db, q) }, fs).unwrap();
                for f in [5.0, 0.5 * f0, f0, 1.7 * f0, 20_000.0, 23_999.0] {
                    let h = boost.response(f, fs) * cut.response(f, fs);
                    prop_assert!(db(h).abs() < 1e-6, "{design:?} {:?} at {f}: {}", make(f0, gain_db, q).kind, db(h));
                }
            }
        }
    }
}

#[test]
fn bad_parameters_give_precise_errors() {
    use lathe_core::Error;
    let fs = 48_000.0;
    assert_eq!(
        design_band(&BandParams::peak(30_000.0, 3.0, 1.0), fs),
        Err(Error::AboveNyquist {
            freq_hz: 30_000.0,
            nyquist_hz: 24_000.0
        })
    );
    assert_eq!(
        design_band(&BandParams::peak(1_000.0, 30.0, 1.0), fs),
        Err(Error::OutOfRange {
            param: "gain_db",
            value: 30.0,
            min: -24.0,
            max: 24.0
        })
    );
    assert_eq!(
        design_band(&BandParams::peak(1_000.0, 3.0, 0.05), fs),
        Err(Error::OutOfRange {
            param: "q",
            value: 0.05,
            min: 0.1,
            max: 40.0
        })
    );
    assert_eq!(
        design_band(&BandParams::low_pass(1_000.0, 9), fs),
        Err(Error::OutOfRange {
            param: "order",
            value: 9.0,
            min: 1.0,
            max: 8.0
        })
    );
    assert!(matches!(
        design_band(&BandParams::peak(f64::NAN, 3.0, 1.0), fs),
        Err(Error::OutOfRange {
            param: "freq_hz",
            ..
        })
    ));
    assert!(matches!(
        design_band(&BandParams::low_pass(0.5, 2), fs),
        Err(Error::OutOfRange {
            param: "freq_hz",
            ..
        })
    ));
}

#[test]
fn coeffs_response_matches_the_core_magnitude() {
    let c = lathe_core::biquad::high_pass(300.0, 0.9, 44_100.0).unwrap();
    for f in [30.0, 300.0, 3_000.0] {
        assert!((coeffs_response(&c, f, 44_100.0).norm() - c.magnitude(f, 44_100.0)).abs() < 1e-12);
    }
}
