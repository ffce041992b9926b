//! The contract checks must be able to fail: each deliberately broken processor is caught.

use lathe_core::{ProcessSpec, Processor, Result};
use lathe_testkit::{check_contract, contract_tests, ContractOptions};

lathe_testkit::install_counting_allocator!();

/// A one-frame delay that reports it correctly: passes.
struct Delay<const CH: usize> {
    last: [f32; CH],
}
impl<const CH: usize> Default for Delay<CH> {
    fn default() -> Self {
        Self { last: [0.0; CH] }
    }
}
impl<const CH: usize> Processor<CH> for Delay<CH> {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()
    }
    fn reset(&mut self) {
        self.last = [0.0; CH];
    }
    fn process(&mut self, frames: &mut [[f32; CH]]) {
        for f in frames {
            core::mem::swap(f, &mut self.last);
        }
    }
    fn latency(&self) -> usize {
        1
    }
}

contract_tests!(correct_delay, |fs| {
    let _ = fs;
    Delay::<CH>::default()
});

/// Reports no latency although it delays.
struct Liar(Delay<1>);
impl Processor<1> for Liar {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        self.0.prepare(spec)
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn process(&mut self, frames: &mut [[f32; 1]]) {
        self.0.process(frames);
    }
}

/// Output depends on block boundaries.
struct BlockSensitive;
impl Processor<1> for BlockSensitive {
    fn prepare(&mut self, _: &ProcessSpec) -> Result<()> {
        Ok(())
    }
    fn reset(&mut self) {}
    fn process(&mut self, frames: &mut [[f32; 1]]) {
        if let Some(f) = frames.first_mut() {
            f[0] *= 0.5;
        }
    }
}

/// Forgets to clear its state in reset().
struct NoReset(f32);
impl Processor<1> for NoReset {
    fn prepare(&mut self, _: &ProcessSpec) -> Result<()> {
        Ok(())
    }
    fn reset(&mut self) {}
    fn process(&mut self, frames: &mut [[f32; 1]]) {
        for f in frames {
            self.0 = 0.5 * self.0 + f[0];
            f[0] = self.0;
        }
    }
}

/// Allocates in process().
struct Allocates;
impl Processor<1> for Allocates {
    fn prepare(&mut self, _: &ProcessSpec) -> Result<()> {
        Ok(())
    }
    fn reset(&mut self) {}
    fn process(&mut self, frames: &mut [[f32; 1]]) {
        let v: Vec<f32> = frames.iter().map(|f| f[0]).collect();
        for (f, x) in frames.iter_mut().zip(v) {
            f[0] = x;
        }
    }
}

/// Blows up on loud input.
struct Explodes;
impl Processor<1> for Explodes {
    fn prepare(&mut self, _: &ProcessSpec) -> Result<()> {
        Ok(())
    }
    fn reset(&mut self) {}
    fn process(&mut self, frames: &mut [[f32; 1]]) {
        for f in frames {
            f[0] = if f[0].abs() > 4.0 {
                f32::INFINITY
            } else {
                f[0]
            };
        }
    }
}

fn fails(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("the contract check should have failed");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn each_breach_is_caught() {
    let o = ContractOptions {
        rates: vec![48_000.0],
        ..ContractOptions::default()
    };
    assert!(
        fails(|| check_contract::<1, _>("liar", |_| Liar(Delay::default()), &o.clone()))
            .contains("latency")
    );
    assert!(
        fails(|| check_contract::<1, _>("blocks", |_| BlockSensitive, &o.clone()))
            .contains("chunks")
    );
    assert!(
        fails(|| check_contract::<1, _>("reset", |_| NoReset(0.0), &o.clone())).contains("reset")
    );
    assert!(
        fails(|| check_contract::<1, _>("alloc", |_| Allocates, &o.clone())).contains("allocated")
    );
    assert!(
        fails(|| check_contract::<1, _>("inf", |_| Explodes, &o.clone())).contains("non-finite")
    );
}
