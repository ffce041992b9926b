//! The processor contract (lathe-testkit) for every stereo processor, including while a
//! parameter change is being smoothed.

use lathe_core::{ProcessSpec, Processor, Result};
use lathe_stereo::{ImagerParams, Reverb, ReverbParams, StereoImager};
use lathe_testkit::{check_contract, ContractOptions};

lathe_testkit::install_counting_allocator!();

/// Applies a parameter change (`set(inner, true)`) at a fixed frame of the stream, whatever
/// the block split, so the contract also covers the smoothing of parameter changes. `reset`
/// restores the starting parameters (`set(inner, false)`) before resetting, so that a reset
/// instance replays exactly what a fresh one does.
struct ChangeAt<P, F> {
    inner: P,
    at: u64,
    pos: u64,
    set: F,
}

impl<P, F> ChangeAt<P, F> {
    fn new(inner: P, at: u64, set: F) -> Self {
        Self {
            inner,
            at,
            pos: 0,
            set,
        }
    }
}

impl<P: Processor<2>, F: FnMut(&mut P, bool)> Processor<2> for ChangeAt<P, F> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        self.pos = 0;
        self.inner.prepare(spec)
    }
    fn reset(&mut self) {
        self.pos = 0;
        (self.set)(&mut self.inner, false);
        self.inner.reset();
    }
    fn process(&mut self, frames: &mut [[f32; 2]]) {
        let len = frames.len() as u64;
        if self.pos < self.at && self.pos + len >= self.at {
            let split = (self.at - self.pos) as usize;
            let (a, b) = frames.split_at_mut(split);
            self.inner.process(a);
            (self.set)(&mut self.inner, true);
            self.inner.process(b);
        } else {
            self.inner.process(frames);
        }
        self.pos += len;
    }
    fn latency(&self) -> usize {
        self.inner.latency()
    }
}

fn wide() -> ImagerParams {
    ImagerParams {
        width: 1.6,
        mid_gain_db: -1.5,
        side_gain_db: 2.0,
        balance: 0.2,
        rotation_deg: 10.0,
    }
}

#[test]
fn imager_identity() {
    check_contract::<2, _>(
        "imager identity",
        |_fs| StereoImager::new(ImagerParams::default()),
        &ContractOptions::default(),
    );
}

#[test]
fn imager_wide() {
    check_contract::<2, _>(
        "imager wide",
        |_fs| StereoImager::new(wide()),
        &ContractOptions::default(),
    );
}

#[test]
fn imager_mono() {
    let p = ImagerParams {
        width: 0.0,
        balance: -0.5,
        ..ImagerParams::default()
    };
    check_contract::<2, _>(
        "imager mono",
        |_fs| StereoImager::new(p),
        &ContractOptions::default(),
    );
}

#[test]
fn imager_automated() {
    // The width (and everything else) changes at frame 1000 and ramps over 20 ms.
    check_contract::<2, _>(
        "imager automated",
        |_fs| {
            ChangeAt::new(
                StereoImager::default(),
                1_000,
                |im: &mut StereoImager, on| {
                    let p = if on { wide() } else { ImagerParams::default() };
                    im.set_params(p).unwrap();
                },
            )
        },
        &ContractOptions::default(),
    );
}

fn reverb(fs: f64, p: ReverbParams) -> Reverb<Vec<f32>> {
    Reverb::new(vec![0.0; Reverb::<Vec<f32>>::required_storage(fs)], p)
}

#[test]
fn reverb_default() {
    check_contract::<2, _>(
        "reverb default",
        |fs| reverb(fs, ReverbParams::default()),
        &ContractOptions::default(),
    );
}

#[test]
fn reverb_wet_long() {
    let p = ReverbParams {
        mix: 1.0,
        decay_s: 8.0,
        predelay_ms: 0.0,
        damping: 0.0,
        size: 1.0,
        width: 1.0,
        highpass_hz: 20.0,
    };
    check_contract::<2, _>(
        "reverb wet long",
        |fs| reverb(fs, p),
        &ContractOptions::default(),
    );
}

#[test]
fn reverb_automated() {
    // Size, pre-delay, decay, damping, high-pass, mix and width all change at frame 3000:
    // delay glides with interpolated reads and control-rate coefficient updates must still be
    // bit-exact for any block split.
    let end = ReverbParams {
        mix: 0.5,
        decay_s: 3.0,
        predelay_ms: 40.0,
        damping: 0.9,
        size: 0.9,
        width: 0.3,
        highpass_hz: 500.0,
    };
    check_contract::<2, _>(
        "reverb automated",
        |fs| {
            ChangeAt::new(
                reverb(fs, ReverbParams::default()),
                3_000,
                move |r: &mut Reverb<Vec<f32>>, on| {
                    let p = if on { end } else { ReverbParams::default() };
                    r.set_params(p).unwrap();
                },
            )
        },
        &ContractOptions::default(),
    );
}
