use lathe_core::{ProcessSpec, Processor};
use lathe_dynamics::{LimiterParams, MasteringLimiter};
use lathe_testkit::signals;
fn main() {
    let tp = std::env::args().nth(1).map(|a| a == "tp").unwrap_or(true);
    let x = signals::music_like(48_000.0, 1.0, 5.0, 7);
    let mut lim = MasteringLimiter::<2>::new(LimiterParams {
        true_peak: tp,
        ..LimiterParams::default()
    });
    lim.prepare(&ProcessSpec::new(48_000.0, 512)).unwrap();
    let mut buf = x.clone();
    let mut acc = 0.0f32;
    for _ in 0..10 {
        buf.copy_from_slice(&x);
        for b in buf.chunks_mut(512) {
            lim.process(b);
        }
        acc += buf[1000][0];
    }
    println!("{acc} {}", x.len());
}
