//! The processor contract, checked.

use crate::signals;
use lathe_core::{ProcessSpec, Processor};

/// Sample rates every processor is checked at, in Hz.
pub const CONTRACT_RATES: [f64; 4] = [44_100.0, 48_000.0, 96_000.0, 192_000.0];

/// How the impulse delay is measured for the latency check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyCheck {
    /// The largest absolute output sample of an impulse response must sit at `latency()`.
    Peak,
    /// The first output sample above 1e-4 of the response's peak must sit at `latency()`
    /// (for processors whose response is causal but whose peak comes later, e.g. steep low-pass).
    FirstSignificant,
    /// Skip the check (state why in the test).
    Skip,
}

/// Options for [`check_contract`].
#[derive(Debug, Clone)]
pub struct ContractOptions {
    /// Sample rates to check, in Hz.
    pub rates: Vec<f64>,
    /// Length of the main test signal in seconds.
    pub seconds: f64,
    /// How to check latency.
    pub latency: LatencyCheck,
    /// Amplitude of the impulse used for the latency check (keep it below thresholds of
    /// nonlinear processors when they should act linearly).
    pub impulse_amp: f32,
    /// Check zero allocations in `process` (needs [`install_counting_allocator!`](crate::install_counting_allocator)).
    pub check_allocations: bool,
}

impl Default for ContractOptions {
    fn default() -> Self {
        Self {
            rates: CONTRACT_RATES.to_vec(),
            seconds: 0.25,
            latency: LatencyCheck::Peak,
            impulse_amp: 0.25,
            check_allocations: true,
        }
    }
}

fn spec(fs: f64) -> ProcessSpec {
    ProcessSpec::new(fs, 4096)
}

/// The main test signal: noise, a sine, a burst, silence and a full-scale square, per channel
/// slightly different so channel mix-ups show.
fn test_signal<const CH: usize>(fs: f64, seconds: f64) -> Vec<[f32; CH]> {
    let n = (fs * seconds) as usize;
    let noise: Vec<Vec<f32>> = (0..CH)
        .map(|ch| signals::white_noise(0.3, 17 + ch as u64, n))
        .collect();
    let sine = signals::sine(997.0, 0.5, 0.0, fs, n);
    let square = signals::square(110.0, 1.0, fs, n);
    signals::frames_from_fn(n, |i, ch| {
        let seg = i * 8 / n.max(1);
        match seg {
            0 | 1 => noise[ch][i] + if ch == 0 { sine[i] } else { -0.5 * sine[i] },
            2 => 4.0 * noise[ch][i],
            3 => 0.0,
            4 => square[i],
            5 => sine[i] * (1.0 + ch as f32),
            _ => noise[ch][i] * 0.1,
        }
    })
}

fn run<const CH: usize, P: Processor<CH>>(
    p: &mut P,
    input: &[[f32; CH]],
    chunk: usize,
) -> Vec<[f32; CH]> {
    let mut buf = input.to_vec();
    for block in buf.chunks_mut(chunk.max(1)) {
        p.process(block);
    }
    buf
}

fn bits<const CH: usize>(x: &[[f32; CH]]) -> Vec<u32> {
    x.iter()
        .flat_map(|f| f.iter().map(|s| s.to_bits()))
        .collect()
}

fn first_mismatch<const CH: usize>(
    a: &[[f32; CH]],
    b: &[[f32; CH]],
) -> Option<(usize, [f32; CH], [f32; CH])> {
    a.iter()
        .zip(b)
        .enumerate()
        .find(|(_, (x, y))| bits(&[**x]) != bits(&[**y]))
        .map(|(i, (x, y))| (i, *x, *y))
}

/// Runs the processor contract on processors made by `make(sample_rate)`, at every rate of
/// `opts.rates`, and panics with a precise message on the first breach.
///
/// `make` returns an unprepared processor with the parameters under test; the check prepares it
/// with `ProcessSpec { sample_rate, max_block: 4096 }`.
///
/// # Panics
/// On any breach of the contract (this is a test helper).
pub fn check_contract<const CH: usize, P: Processor<CH>>(
    name: &str,
    make: impl Fn(f64) -> P,
    opts: &ContractOptions,
) {
    if opts.check_allocations {
        assert!(
            crate::alloc::is_installed(),
            "{name}: install the counting allocator in this test binary \
             (lathe_testkit::install_counting_allocator!();)"
        );
    }
    for &fs in &opts.rates {
        let prepared = || {
            let mut p = make(fs);
            if let Err(e) = p.prepare(&spec(fs)) {
                panic!("{name} @ {fs} Hz, {CH} ch: prepare failed: {e}");
            }
            p
        };
        let input = test_signal::<CH>(fs, opts.seconds);

        // 1. Block-split invariance, bit-exact.
        let whole = run(&mut prepared(), &input, input.len());
        for chunk in [1usize, 7, 64, 4096] {
            let split = run(&mut prepared(), &input, chunk);
            if let Some((i, a, b)) = first_mismatch(&whole, &split) {
                panic!("{name} @ {fs} Hz, {CH} ch: chunks of {chunk} differ from one call at frame {i}: {a:?} vs {b:?}");
            }
        }
        // Zero-length blocks are allowed and change nothing.
        {
            let mut p = prepared();
            let mut buf = input.clone();
            let mut empty: [[f32; CH]; 0] = [];
            for block in buf.chunks_mut(64) {
                p.process(&mut empty);
                p.process(block);
            }
            if let Some((i, a, b)) = first_mismatch(&whole, &buf) {
                panic!("{name} @ {fs} Hz, {CH} ch: empty blocks changed the output at frame {i}: {a:?} vs {b:?}");
            }
        }

        // 2. reset() equals a fresh instance.
        {
            let mut p = prepared();
            let _ = run(&mut p, &input, 512);
            p.reset();
            let again = run(&mut p, &input, 512);
            if let Some((i, a, b)) = first_mismatch(&whole, &again) {
                panic!("{name} @ {fs} Hz, {CH} ch: after reset() the output differs from a fresh instance at frame {i}: {a:?} vs {b:?}");
            }
        }

        // 3. Measured impulse delay equals latency().
        if opts.latency != LatencyCheck::Skip {
            let mut p = prepared();
            let latency = p.latency();
            let at = 64usize;
            let len = at + latency + (fs * 0.2) as usize;
            let mut buf = signals::to_frames::<CH>(&signals::impulse(opts.impulse_amp, at, len));
            p.process(&mut buf);
            for ch in 0..CH {
                let y = signals::channel(&buf, ch);
                let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                assert!(
                    peak > 0.0,
                    "{name} @ {fs} Hz, {CH} ch: impulse gave no output on channel {ch}"
                );
                let measured = match opts.latency {
                    LatencyCheck::Peak => {
                        y.iter()
                            .enumerate()
                            .fold((0usize, 0.0f32), |(bi, bv), (i, v)| {
                                if v.abs() > bv {
                                    (i, v.abs())
                                } else {
                                    (bi, bv)
                                }
                            })
                            .0
                    }
                    _ => y.iter().position(|v| v.abs() > 1e-4 * peak).unwrap_or(0),
                };
                assert_eq!(
                    measured as isize - at as isize,
                    latency as isize,
                    "{name} @ {fs} Hz, {CH} ch: measured impulse delay on channel {ch} differs from latency()"
                );
            }
        }

        // 4. Finite output for extreme finite input.
        let n = (fs * 0.1) as usize;
        let extremes: [(&str, Vec<f32>); 6] = [
            ("silence", vec![0.0; n]),
            ("full-scale square 50 Hz", signals::square(50.0, 1.0, fs, n)),
            (
                "full-scale square at fs/2",
                signals::square(fs / 2.0, 1.0, fs, n),
            ),
            (
                "+18 dBFS square 1 kHz",
                signals::square(1_000.0, 8.0, fs, n),
            ),
            ("DC 1.0", vec![1.0; n]),
            ("+12 dBFS noise", signals::white_noise(4.0, 3, n)),
        ];
        for (what, mono) in &extremes {
            let mut p = prepared();
            let mut buf = signals::to_frames::<CH>(mono);
            p.process(&mut buf);
            if let Some(i) = buf.iter().position(|f| f.iter().any(|s| !s.is_finite())) {
                panic!(
                    "{name} @ {fs} Hz, {CH} ch: non-finite output at frame {i} for {what}: {:?}",
                    buf[i]
                );
            }
        }

        // 5. No heap allocation inside process.
        if opts.check_allocations {
            let mut p = prepared();
            let mut buf = input.clone();
            let (count, ()) = crate::alloc::count_allocations(|| {
                for block in buf.chunks_mut(333) {
                    p.process(block);
                }
                p.reset();
                for block in buf.chunks_mut(4096) {
                    p.process(block);
                }
            });
            assert_eq!(
                count, 0,
                "{name} @ {fs} Hz, {CH} ch: process() or reset() allocated {count} times"
            );
        }
    }
}

/// Writes mono and stereo contract `#[test]`s for one processor.
///
/// `contract_tests!(name, |fs| expr)` expands to a module `name` with tests `mono` and `stereo`;
/// inside `expr` the constant `CH` is the channel count (1 or 2) and `fs` the sample rate in Hz.
/// An optional third argument gives [`ContractOptions`]. The test binary must install the
/// counting allocator ([`install_counting_allocator!`](crate::install_counting_allocator)).
#[macro_export]
macro_rules! contract_tests {
    ($name:ident, |$fs:ident| $make:expr) => {
        $crate::contract_tests!($name, |$fs| $make, $crate::ContractOptions::default());
    };
    ($name:ident, |$fs:ident| $make:expr, $opts:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn mono() {
                #[allow(dead_code)]
                const CH: usize = 1;
                $crate::check_contract::<1, _>(
                    concat!(stringify!($name), " (mono)"),
                    |$fs: f64| $make,
                    &$opts,
                );
            }
            #[test]
            fn stereo() {
                #[allow(dead_code)]
                const CH: usize = 2;
                $crate::check_contract::<2, _>(
                    concat!(stringify!($name), " (stereo)"),
                    |$fs: f64| $make,
                    &$opts,
                );
            }
        }
    };
}
