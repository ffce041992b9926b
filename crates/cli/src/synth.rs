//! The demo mix, synthesised in code: 24 s of a 120 BPM groove in A minor (kick, snare,
//! hats, bass, pad, a melody with a ping-pong echo). Deterministic: the same samples on every
//! run, no files shipped.

use std::f64::consts::PI;

/// Sample rate of the demo mix, Hz.
pub const RATE: u32 = 48_000;
/// Length of the demo mix, seconds.
pub const SECONDS: f64 = 24.0;
const BEAT_S: f64 = 0.5;

/// A small deterministic noise source (xorshift64*).
#[derive(Debug, Clone)]
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn midi_hz(note: f64) -> f64 {
    440.0 * 2f64.powf((note - 69.0) / 12.0)
}

/// Chord roots per bar (A minor, F, C, G) as MIDI notes, and the chord tones above them.
const ROOTS: [f64; 4] = [45.0, 41.0, 48.0, 43.0];
const TRIADS: [[f64; 3]; 4] = [
    [57.0, 60.0, 64.0],
    [53.0, 57.0, 60.0],
    [55.0, 60.0, 64.0],
    [55.0, 59.0, 62.0],
];
const PENTATONIC: [f64; 6] = [69.0, 72.0, 74.0, 76.0, 79.0, 81.0];

/// Sample peak of the demo mix, dBFS.
pub const PEAK_DBFS: f64 = -6.0;

/// The demo mix: stereo frames at [`RATE`], [`SECONDS`] long, peaking at [`PEAK_DBFS`].
pub fn demo_mix() -> Vec<[f32; 2]> {
    let fs = f64::from(RATE);
    let n = (SECONDS * fs) as usize;
    let mut mix = vec![[0.0f64; 2]; n];
    let mut noise = Noise(0x1a7e_5eed);
    // Hats: 16ths, one-pole-differenced noise, accented on the beat, an open hat off-beat.
    let mut prev = 0.0;
    for (i, f) in mix.iter_mut().enumerate() {
        let t = i as f64 / fs;
        let sixteenth = BEAT_S / 4.0;
        let k = (t / sixteenth).floor();
        let dt = t - k * sixteenth;
        let open = (k as u64) % 4 == 2;
        let env = (-dt / if open { 0.09 } else { 0.018 }).exp();
        let accent = if (k as u64).is_multiple_of(4) {
            1.0
        } else {
            0.6
        };
        // The first two bars are an intro: hats and pad only, quieter.
        let accent = if t < 8.0 * BEAT_S {
            0.5 * accent
        } else {
            accent
        };
        let w = noise.next();
        let hp = w - prev;
        prev = w;
        let s = 0.07 * accent * env * hp;
        f[0] += 0.7 * s;
        f[1] += 1.0 * s;
    }
    for (i, f) in mix.iter_mut().enumerate() {
        let t = i as f64 / fs;
        let beat = (t / BEAT_S).floor();
        let bt = t - beat * BEAT_S;
        let bar = ((beat / 4.0).floor() as usize) % 4;
        // Kick on every beat: a falling sine with a short click.
        let kick_phase = 2.0 * PI * (50.0 * bt + 100.0 * 0.03 * (1.0 - (-bt / 0.03).exp()));
        let kick = 0.85 * (-bt / 0.28).exp() * kick_phase.sin();
        // Snare on 2 and 4: a 185 Hz body and a noise burst.
        let snare = if (beat as u64) % 2 == 1 {
            let body = (2.0 * PI * 185.0 * bt).sin() * (-bt / 0.06).exp();
            let rattle = noise.next() * (-bt / 0.12).exp();
            0.25 * body + 0.22 * rattle
        } else {
            0.0
        };
        // Bass: eighth notes on the root, a few harmonics, plucked.
        let eighth = (t / (BEAT_S / 2.0)).floor();
        let et = t - eighth * BEAT_S / 2.0;
        let octave = if (eighth as u64) % 4 == 3 { 12.0 } else { 0.0 };
        let fb = midi_hz(ROOTS[bar] - 12.0 + octave + 12.0);
        let mut bass = 0.0;
        for h in 1..=6 {
            let h = f64::from(h);
            bass += (2.0 * PI * fb * h * t).sin() / (h * h);
        }
        let bass = 0.3 * bass * (1.0 - (-et / 0.004).exp()) * (-et / 0.22).exp();
        // Pad: the chord, detuned left and right for width, slow swell each bar.
        let bar_t = t - (beat / 4.0).floor() * 4.0 * BEAT_S;
        let swell = (1.0 - (-bar_t / 0.35).exp()) * (0.75 + 0.25 * (2.0 * PI * 0.25 * t).sin());
        let (mut pl, mut pr) = (0.0, 0.0);
        for &note in &TRIADS[bar] {
            let f0 = midi_hz(note);
            let det = 2f64.powf(5.0 / 1200.0);
            pl += (2.0 * PI * f0 / det * t).sin() + 0.3 * (2.0 * PI * 2.0 * f0 / det * t).sin();
            pr += (2.0 * PI * f0 * det * t).sin() + 0.3 * (2.0 * PI * 2.0 * f0 * det * t).sin();
        }
        let pad = 0.08 * swell;
        // Arrangement: pad and hats alone for two bars, kick and bass from bar 3, the snare
        // (and the melody) from bar 5.
        let kick = if beat >= 8.0 { kick } else { 0.0 };
        let bass = if beat >= 8.0 { bass } else { 0.0 };
        let snare = if beat >= 16.0 { snare } else { 0.0 };
        let centre = kick + snare + bass;
        f[0] += centre + pad * pl;
        f[1] += centre + pad * pr;
    }
    // Melody from bar 5: eighth notes picked from the pentatonic scale by a fixed sequence, a
    // triangle wave with delayed vibrato, echoed left/right (3/8 note, feedback 0.35).
    let mut melody = vec![0.0f64; n];
    let mut pick = Noise(0x005e_ed0f_7a1e);
    let start = 16.0 * BEAT_S;
    let eighth = BEAT_S / 2.0;
    let notes = ((SECONDS - start) / eighth) as usize;
    for k in 0..notes {
        if k % 8 == 7 {
            continue; // breathe
        }
        let idx = ((pick.next() + 1.0) * 3.0).floor().clamp(0.0, 5.0) as usize;
        let f0 = midi_hz(PENTATONIC[idx]);
        let t0 = start + k as f64 * eighth;
        let len = if k % 4 == 3 { 2.0 * eighth } else { eighth };
        let (a, b) = ((t0 * fs) as usize, (((t0 + len) * fs) as usize).min(n));
        let mut phase = 0.0;
        for (j, m) in melody[a..b].iter_mut().enumerate() {
            let dt = j as f64 / fs;
            let vib = 1.0 + 0.004 * (2.0 * PI * 5.5 * dt).sin() * (dt / 0.15).min(1.0);
            phase += f0 * vib / fs;
            let tri = 4.0 * (phase - (phase + 0.5).floor()).abs() - 1.0;
            let env = (1.0 - (-dt / 0.01).exp())
                * (-dt / 0.6).exp()
                * ((len - dt) / 0.02).clamp(0.0, 1.0);
            *m += 0.16 * tri * env;
        }
    }
    let delay = (0.375 * fs) as usize;
    let mut echo = [vec![0.0f64; n], vec![0.0f64; n]];
    for i in delay..n {
        // Ping-pong: left echoes the dry melody, right echoes the left echo.
        echo[0][i] = 0.35 * (melody[i - delay] + echo[1][i - delay]);
        echo[1][i] = 0.35 * echo[0][i - delay];
    }
    for (i, f) in mix.iter_mut().enumerate() {
        f[0] += 0.8 * melody[i] + echo[0][i];
        f[1] += 0.6 * melody[i] + echo[1][i];
    }
    // Fade the last second, then set the peak.
    let fade = fs as usize;
    for (j, f) in mix[n - fade..].iter_mut().enumerate() {
        let g = 1.0 - j as f64 / fade as f64;
        f[0] *= g;
        f[1] *= g;
    }
    let peak = mix
        .iter()
        .flatten()
        .fold(0.0f64, |m, s| m.max(s.abs()))
        .max(1e-9);
    let g = 10f64.powf(PEAK_DBFS / 20.0) / peak;
    mix.iter()
        .map(|f| [(f[0] * g) as f32, (f[1] * g) as f32])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_deterministic_stereo_music() {
        let a = demo_mix();
        assert_eq!(a.len(), (SECONDS * f64::from(RATE)) as usize);
        assert_eq!(a, demo_mix(), "same samples every run");
        let peak = a.iter().flatten().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(
            (20.0 * f64::from(peak).log10() - PEAK_DBFS).abs() < 0.01,
            "peak {peak}"
        );
        // Really stereo, not silent in any second.
        let diff: f64 = a.iter().map(|f| f64::from((f[0] - f[1]).abs())).sum();
        assert!(diff > 1_000.0);
        for sec in a.chunks(RATE as usize) {
            let rms =
                (sec.iter().map(|f| f64::from(f[0] * f[0])).sum::<f64>() / sec.len() as f64).sqrt();
            assert!(rms > 1e-3, "a silent second");
        }
    }
}
