use lathe_testkit::signals;
use std::io::Write;
fn main() {
    for (name, lvl, seed, secs) in [
        ("bench", 5.0, 7u64, 1.0),
        ("strip", -3.0, 1, 1.0),
        ("long", 5.0, 3, 10.0),
    ] {
        let x = signals::music_like(48_000.0, secs, lvl, seed);
        let mut f = std::fs::File::create(format!("/tmp/{name}.f32")).unwrap();
        for fr in &x {
            for s in fr {
                f.write_all(&s.to_le_bytes()).unwrap();
            }
        }
    }
}
