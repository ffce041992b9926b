//! An independent, straightforward BS.1770-4 / EBU Tech 3342 reference meter: per-sample
//! K-weighted energies (transposed direct form II, a different structure from the meter's),
//! every window summed afresh, and **exact block-list gating** (every block kept in a `Vec`,
//! sorted for percentiles). Slow and memory-hungry on purpose; it judges the meter.
#![allow(dead_code)]

use lathe_loudness::{ChannelLayout, KWeighting, LoudnessMeter};

/// The published BS.1770-4 48 kHz coefficients `[b0, b1, b2, a1, a2]`.
pub const PUBLISHED_SHELF_48K: [f64; 5] = [
    1.535_124_859_586_97,
    -2.691_696_189_406_38,
    1.198_392_810_852_85,
    -1.690_659_293_182_41,
    0.732_480_774_215_85,
];
/// The published BS.1770-4 48 kHz high-pass.
pub const PUBLISHED_HP_48K: [f64; 5] =
    [1.0, -2.0, 1.0, -1.990_047_454_833_98, 0.990_072_250_366_21];

/// `-0.691 + 10 log10 e`, `-inf` for 0.
pub fn lufs(e: f64) -> f64 {
    if e > 0.0 {
        -0.691 + 10.0 * e.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// K-weighting coefficients: the published table at 48 kHz, the meter's designer elsewhere.
pub fn coefficients(fs: f64) -> ([f64; 5], [f64; 5]) {
    if fs == 48_000.0 {
        (PUBLISHED_SHELF_48K, PUBLISHED_HP_48K)
    } else {
        KWeighting::<1>::new(fs).unwrap().coefficients()
    }
}

/// |H(f)| of the cascade at `f` Hz (for analytic expectations of sine readings).
pub fn k_gain(f: f64, fs: f64) -> f64 {
    let (s, h) = coefficients(fs);
    let mag = |c: [f64; 5]| {
        let w = 2.0 * std::f64::consts::PI * f / fs;
        let nr = c[0] + c[1] * w.cos() + c[2] * (2.0 * w).cos();
        let ni = -(c[1] * w.sin() + c[2] * (2.0 * w).sin());
        let dr = 1.0 + c[3] * w.cos() + c[4] * (2.0 * w).cos();
        let di = -(c[3] * w.sin() + c[4] * (2.0 * w).sin());
        ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
    };
    mag(s) * mag(h)
}

/// Exact loudness of a steady sine of peak amplitude `amp` (linear) on channels whose summed
/// BS.1770 weight is `weight_sum`: `-0.691 + 10 log10(weight_sum amp^2 / 2 |K(f)|^2)`.
pub fn sine_lufs(freq: f64, amp_db: f64, weight_sum: f64, fs: f64) -> f64 {
    let a = 10f64.powf(amp_db / 20.0);
    lufs(weight_sum * a * a / 2.0 * k_gain(freq, fs).powi(2))
}

/// Per-frame weighted K-energies `sum_i G_i z_i^2` (non-finite samples as 0).
pub fn frame_energies<const CH: usize>(x: &[[f32; CH]], fs: f64, weights: [f64; CH]) -> Vec<f64> {
    let (s, h) = coefficients(fs);
    let mut st = [[0.0f64; 4]; CH];
    x.iter()
        .map(|f| {
            let mut e = 0.0;
            for ch in 0..CH {
                let v = if f[ch].is_finite() {
                    f64::from(f[ch])
                } else {
                    0.0
                };
                let st = &mut st[ch];
                let y = s[0] * v + st[0];
                st[0] = s[1] * v - s[3] * y + st[1];
                st[1] = s[2] * v - s[4] * y;
                let z = h[0] * y + st[2];
                st[2] = h[1] * y - h[3] * z + st[3];
                st[3] = h[2] * y - h[4] * z;
                e += weights[ch] * z * z;
            }
            e
        })
        .collect()
}

/// Everything the reference measures.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Mean energies of the 400 ms gating blocks, every 100 ms.
    pub blocks: Vec<f64>,
    /// Mean energies of the 3 s short-term windows, every 100 ms.
    pub short_terms: Vec<f64>,
    /// Largest momentary / short-term energy over windows ending every 10 ms.
    pub max_momentary: f64,
    pub max_short_term: f64,
    /// Momentary and short-term energy at the end.
    pub momentary: f64,
    pub short_term: f64,
}

/// Measures `x` the slow way. Windows end on the meter's 10 ms grid: steps of
/// `round(fs / 10)` frames, each cut at `floor(j step / 10)`; each window is summed afresh
/// from its 10 ms pieces.
pub fn reference<const CH: usize>(x: &[[f32; CH]], fs: f64, layout: ChannelLayout) -> Reference {
    let e = frame_energies(x, fs, layout.weights());
    let step = (fs / 10.0).round() as usize;
    // 10 ms pieces, and whether each ends a 100 ms step.
    let mut pieces = Vec::new();
    let mut k = 0;
    'outer: loop {
        for j in 0..10 {
            let (start, end) = (k * step + j * step / 10, k * step + (j + 1) * step / 10);
            if end > e.len() {
                break 'outer;
            }
            pieces.push((e[start..end].iter().sum::<f64>(), j == 9));
        }
        k += 1;
    }
    let mut r = Reference {
        blocks: Vec::new(),
        short_terms: Vec::new(),
        max_momentary: 0.0,
        max_short_term: 0.0,
        momentary: 0.0,
        short_term: 0.0,
    };
    for end in 1..=pieces.len() {
        let step_end = pieces[end - 1].1;
        let window = |n: usize| pieces[end - n..end].iter().map(|p| p.0).sum::<f64>();
        if end >= 40 {
            let m = window(40) / (4 * step) as f64;
            r.max_momentary = r.max_momentary.max(m);
            r.momentary = m;
            if step_end {
                r.blocks.push(m);
            }
        }
        if end >= 300 {
            let s = window(300) / (30 * step) as f64;
            r.max_short_term = r.max_short_term.max(s);
            r.short_term = s;
            if step_end {
                r.short_terms.push(s);
            }
        }
    }
    r
}

impl Reference {
    /// BS.1770-4 §5.1 gating over the exact block list.
    pub fn integrated_lufs(&self) -> f64 {
        let abs: Vec<f64> = self
            .blocks
            .iter()
            .copied()
            .filter(|&b| lufs(b) > -70.0)
            .collect();
        if abs.is_empty() {
            return f64::NEG_INFINITY;
        }
        let gate = lufs(abs.iter().sum::<f64>() / abs.len() as f64) - 10.0;
        let rel: Vec<f64> = abs.into_iter().filter(|&b| lufs(b) > gate).collect();
        lufs(rel.iter().sum::<f64>() / rel.len() as f64)
    }

    /// The relative gate of the integrated loudness, LUFS.
    pub fn relative_gate_lufs(&self) -> f64 {
        let abs: Vec<f64> = self
            .blocks
            .iter()
            .copied()
            .filter(|&b| lufs(b) > -70.0)
            .collect();
        lufs(abs.iter().sum::<f64>() / abs.len() as f64) - 10.0
    }

    /// EBU Tech 3342 over the exact list: gates -70 LUFS and -20 LU, sorted, 10th and 95th
    /// percentiles at 0-based index `round((n - 1) p)` (the Tech 3342 MATLAB code).
    pub fn loudness_range_lu(&self) -> f64 {
        let abs: Vec<f64> = self
            .short_terms
            .iter()
            .copied()
            .filter(|&s| lufs(s) > -70.0)
            .collect();
        if abs.is_empty() {
            return 0.0;
        }
        let gate = lufs(abs.iter().sum::<f64>() / abs.len() as f64) - 20.0;
        let mut rel: Vec<f64> = abs.into_iter().map(lufs).filter(|&l| l > gate).collect();
        if rel.len() < 2 {
            return 0.0;
        }
        rel.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let at = |p: f64| rel[((rel.len() - 1) as f64 * p).round() as usize];
        at(0.95) - at(0.10)
    }
}

/// A meter fed in blocks of `block` frames.
pub fn measure<const CH: usize>(x: &[[f32; CH]], fs: f64, block: usize) -> LoudnessMeter<CH> {
    let mut m = LoudnessMeter::<CH>::new(fs).unwrap();
    for b in x.chunks(block.max(1)) {
        m.process(b);
    }
    m
}

/// Every reading as bits, for bit-exact comparisons (NaN-safe).
pub fn reading_bits<const CH: usize>(m: &LoudnessMeter<CH>) -> Vec<u64> {
    let r = m.readings();
    [
        r.momentary_lufs,
        r.short_term_lufs,
        r.integrated_lufs,
        r.loudness_range_lu,
        r.max_momentary_lufs,
        r.max_short_term_lufs,
        r.true_peak_dbtp,
        r.sample_peak_dbfs,
        r.plr_db,
        r.psr_db,
    ]
    .iter()
    .map(|v| v.to_bits())
    .collect()
}
