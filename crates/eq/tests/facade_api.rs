//! The calls the `lathe` facade makes (src/chain.rs, src/multiband.rs, src/analysis.rs),
//! compiled and exercised here so that an API change shows up in this crate first.

use lathe_core::{ProcessSpec, Processor, Result};
use lathe_eq::{BandParams, Crossover, Design, ParametricEq};

#[derive(Debug, Clone)]
struct InputStage<const CH: usize> {
    dc: Option<ParametricEq<CH, 1>>,
}

fn band_params(
    kind: usize,
    f: f64,
    g: f64,
    q: f64,
    order: u8,
    rbj: bool,
    bypass: bool,
) -> BandParams {
    let mut p = match kind {
        0 => BandParams::peak(f, g, q),
        1 => BandParams::low_shelf(f, g, q),
        2 => BandParams::high_shelf(f, g, q),
        3 => BandParams::low_pass(f, order),
        4 => BandParams::high_pass(f, order),
        5 => BandParams::band_pass(f, q),
        6 => BandParams::notch(f, q),
        7 => BandParams::all_pass(f, q),
        _ => BandParams::tilt(f, g),
    };
    p.enabled = !bypass;
    p.design = if rbj { Design::Rbj } else { Design::Matched };
    p
}

#[derive(Debug, Clone)]
enum Splitter<const CH: usize> {
    Two(Crossover<CH, 2>),
    Three(Crossover<CH, 3>),
    Four(Crossover<CH, 4>),
}

impl<const CH: usize> Splitter<CH> {
    fn new(freqs: &[f64]) -> Result<Self> {
        Ok(match freqs.len() {
            1 => {
                let mut x = Crossover::new();
                x.set_frequencies(freqs)?;
                Splitter::Two(x)
            }
            2 => {
                let mut x = Crossover::new();
                x.set_frequencies(freqs)?;
                Splitter::Three(x)
            }
            _ => {
                let mut x = Crossover::new();
                x.set_frequencies(freqs)?;
                Splitter::Four(x)
            }
        })
    }
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        match self {
            Splitter::Two(x) => x.prepare(spec),
            Splitter::Three(x) => x.prepare(spec),
            Splitter::Four(x) => x.prepare(spec),
        }
    }
    fn split(&mut self, input: &[f32; CH], out: &mut [[f32; CH]; 4]) {
        match self {
            Splitter::Two(x) => out[..2].copy_from_slice(&x.split_frame(input)),
            Splitter::Three(x) => out[..3].copy_from_slice(&x.split_frame(input)),
            Splitter::Four(x) => out.copy_from_slice(&x.split_frame(input)),
        }
    }
}

#[test]
fn facade_calls_compile_and_behave() {
    let fs = 44_100.0;
    // Input stage: a DC blocker set before and after prepare.
    let mut input = InputStage::<2> {
        dc: Some({
            let mut eq = ParametricEq::new();
            let _ = eq.set_band(0, BandParams::high_pass(5.0, 1));
            eq
        }),
    };
    if let Some(dc) = &mut input.dc {
        dc.prepare(&ProcessSpec::new(fs, 512)).unwrap();
        dc.set_band(0, BandParams::high_pass(5.0, 1)).unwrap();
        dc.reset();
        let mut x = vec![[0.5f32, 0.5]; 44_100];
        dc.process(&mut x);
        assert!(x[44_099][0].abs() < 1e-3, "DC removed: {}", x[44_099][0]);
    }
    let _ = input.clone();

    // EQ stage: prepare first, then bands; 30 kHz at 48 kHz is refused.
    let mut eq: Box<ParametricEq<2, 8>> = Box::new(ParametricEq::new());
    eq.prepare(&ProcessSpec::new(48_000.0, 1)).unwrap();
    for (i, k) in (0..9).enumerate().take(8) {
        eq.set_band(
            i,
            band_params(
                k,
                1_000.0 + 100.0 * i as f64,
                2.0,
                0.7,
                2,
                i % 2 == 0,
                false,
            ),
        )
        .unwrap();
    }
    assert!(eq
        .set_band(0, band_params(0, 30_000.0, 0.0, 0.7, 2, false, false))
        .is_err());
    // As the facade writes it (clippy would prefer struct-update syntax there).
    #[allow(clippy::field_reassign_with_default)]
    let off = {
        let mut off = BandParams::default();
        off.enabled = false;
        off
    };
    for i in 0..8 {
        eq.set_band(i, off).unwrap();
    }
    assert!((eq.response(1_234.0).norm() - 1.0).abs() < 1e-12);

    // Multiband splitters and bass mono.
    for freqs in [&[150.0][..], &[150.0, 2_500.0], &[150.0, 2_500.0, 8_000.0]] {
        let mut s = Splitter::<2>::new(freqs).unwrap();
        s.prepare(&ProcessSpec::new(fs, 1)).unwrap();
        let mut out = [[0.0f32; 2]; 4];
        s.split(&[0.25, -0.25], &mut out);
        let _ = s.clone();
    }
    let mut bass: Crossover<2, 2> = Crossover::new();
    let _ = bass.set_frequencies(&[120.0]);
    bass.prepare(&ProcessSpec::new(fs, 1)).unwrap();
    bass.set_frequencies(&[120.0]).unwrap();
    bass.reset();
    let mut f = [0.3f32, -0.3];
    let [low, high] = bass.split_frame(&f);
    let mid = 0.5 * (low[0] + low[1]);
    f[0] = mid + high[0];
    f[1] = mid + high[1];
    assert!(f.iter().all(|v| v.is_finite()));

    // Analyzer: a four-band mono splitter.
    let mut splitter: Crossover<1, 4> = Crossover::new();
    splitter
        .set_frequencies(&[150.0, 1_000.0, 5_000.0])
        .unwrap();
    splitter.prepare(&ProcessSpec::new(fs, 1)).unwrap();
    let bands = splitter.split_frame(&[0.1]);
    assert_eq!(bands.len(), 4);
}
