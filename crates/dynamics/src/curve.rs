//! Static gain computers: the decibel-domain transfer curves of compressors and expanders with
//! a quadratic soft knee, after D. Giannoulis, M. Massberg, J. D. Reiss, "Digital Dynamic
//! Range Compressor Design — A Tutorial and Analysis", JAES 60(6), 2012, §2.2 (eq. 4).

use crate::fastmath::DB_PER_LOG2;

/// Static curve of a downward compressor: threshold, ratio and a quadratic soft knee
/// (Giannoulis, Massberg, Reiss, JAES 2012, eq. 4).
///
/// For an input level `x` (dB), threshold `T`, ratio `R` and knee width `W`, the output level is
/// - `x` below the knee (`2 (x - T) < -W`),
/// - `x + (1/R - 1) (x - T + W/2)² / (2W)` inside the knee,
/// - `T + (x - T) / R` above it.
///
/// The gain is output minus input (≤ 0 dB); the curve and its slope are continuous.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompressorCurve {
    /// Threshold in dBFS.
    pub threshold_db: f64,
    /// Ratio (≥ 1; 1 is no compression).
    pub ratio: f64,
    /// Knee width in dB (0 = hard knee).
    pub knee_db: f64,
}

impl CompressorCurve {
    /// Output level in dB for an input level of `level_db` dB.
    pub fn output_db(&self, level_db: f64) -> f64 {
        level_db + self.gain_db(level_db)
    }

    /// Static gain in dB (≤ 0) for an input level of `level_db` dB.
    pub fn gain_db(&self, level_db: f64) -> f64 {
        let over = level_db - self.threshold_db;
        let w = self.knee_db;
        let slope = 1.0 / self.ratio - 1.0;
        if 2.0 * over <= -w {
            0.0
        } else if 2.0 * over < w {
            let d = over + 0.5 * w;
            slope * d * d / (2.0 * w)
        } else {
            slope * over
        }
    }
}

/// Static curve of a downward expander (and gate): below the threshold the level falls `ratio`
/// times faster than the input, with a quadratic soft knee and the attenuation limited to
/// `range_db`.
///
/// For an input level `x` (dB), threshold `T`, ratio `R` and knee width `W` (the mirror image of
/// Giannoulis et al., eq. 4), the gain is
/// - 0 above the knee (`2 (x - T) > W`),
/// - `-(R - 1) (x - T - W/2)² / (2W)` inside the knee,
/// - `(R - 1) (x - T)` below it,
///
/// and never less than `-range_db`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpanderCurve {
    /// Threshold in dBFS.
    pub threshold_db: f64,
    /// Expansion ratio (≥ 1; 1 is no expansion, 100 acts as a gate).
    pub ratio: f64,
    /// Knee width in dB (0 = hard knee).
    pub knee_db: f64,
    /// Largest attenuation in dB (≥ 0).
    pub range_db: f64,
}

impl ExpanderCurve {
    /// Static gain in dB (`-range_db ..= 0`) for an input level of `level_db` dB.
    pub fn gain_db(&self, level_db: f64) -> f64 {
        let under = level_db - self.threshold_db;
        let w = self.knee_db;
        let slope = self.ratio - 1.0;
        let g = if 2.0 * under >= w {
            0.0
        } else if 2.0 * under > -w {
            let d = under - 0.5 * w;
            -slope * d * d / (2.0 * w)
        } else {
            slope * under
        };
        g.max(-self.range_db)
    }
}

/// The per-sample form of both curves, in `log2` amplitude units and `f32`: returns the
/// gain *reduction* (≥ 0) for a level `x` in `log2` units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Curve {
    /// Threshold, log2 units.
    t: f32,
    /// Half knee width, log2 units.
    half_w: f32,
    /// `|slope| / (2 W)` for the knee term (0 for a hard knee).
    knee_k: f32,
    /// `1 - 1/R` (compressor) or `R - 1` (expander).
    slope: f32,
    /// Largest reduction, log2 units (`f32::MAX` for a compressor).
    range: f32,
}

impl Curve {
    /// Reduction curve of a compressor with `threshold_db`, `ratio`, `knee_db`.
    pub(crate) fn compressor(threshold_db: f64, ratio: f64, knee_db: f64) -> Self {
        Self::new(threshold_db, 1.0 - 1.0 / ratio, knee_db, f64::INFINITY)
    }

    /// Reduction curve of an expander.
    pub(crate) fn expander(threshold_db: f64, ratio: f64, knee_db: f64, range_db: f64) -> Self {
        Self::new(threshold_db, ratio - 1.0, knee_db, range_db)
    }

    fn new(threshold_db: f64, slope: f64, knee_db: f64, range_db: f64) -> Self {
        let w = knee_db / DB_PER_LOG2;
        Self {
            t: (threshold_db / DB_PER_LOG2) as f32,
            half_w: (0.5 * w) as f32,
            knee_k: if w > 0.0 {
                (slope / (2.0 * w)) as f32
            } else {
                0.0
            },
            slope: slope as f32,
            range: if range_db.is_finite() {
                (range_db / DB_PER_LOG2) as f32
            } else {
                f32::MAX
            },
        }
    }

    /// Compressor reduction (≥ 0, log2 units) at level `x` (log2 units).
    ///
    /// Branch-free (so it vectorises across frames): the knee's quadratic is evaluated at the
    /// level clamped to the knee, and the line above the knee is added from its upper edge on.
    /// Since the quadratic is tangent to the line there (`knee_k · W² = slope · W / 2`), this
    /// is exactly the three-piece curve.
    #[inline(always)]
    pub(crate) fn compress(&self, x: f32) -> f32 {
        let over = x - self.t;
        let d = over.max(-self.half_w).min(self.half_w) + self.half_w;
        self.knee_k * d * d + self.slope * (over - self.half_w).max(0.0)
    }

    /// Expander reduction (`0 ..= range`, log2 units) at level `x` (log2 units), branch-free
    /// like [`compress`](Self::compress).
    #[inline(always)]
    pub(crate) fn expand(&self, x: f32) -> f32 {
        let under = x - self.t;
        let d = under.max(-self.half_w).min(self.half_w) - self.half_w;
        let r = self.knee_k * d * d + self.slope * (-self.half_w - under).max(0.0);
        r.min(self.range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressor_curve_regions_and_continuity() {
        let c = CompressorCurve {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 10.0,
        };
        // Below the knee: unity. Above: T + (x - T)/R.
        assert_eq!(c.gain_db(-40.0), 0.0);
        assert!((c.output_db(0.0) - (-20.0 + 20.0 / 4.0)).abs() < 1e-12);
        // At the threshold (knee centre) the quadratic knee gives (1/R - 1) W / 8.
        assert!((c.gain_db(-20.0) - (0.25 - 1.0) * 10.0 / 8.0).abs() < 1e-12);
        // Continuity of value and slope at both knee edges.
        for edge in [-25.0, -15.0] {
            let (a, b) = (c.output_db(edge - 1e-7), c.output_db(edge + 1e-7));
            assert!((a - b).abs() < 1e-6);
            let sa = (c.output_db(edge - 1e-4) - c.output_db(edge - 2e-4)) / 1e-4;
            let sb = (c.output_db(edge + 2e-4) - c.output_db(edge + 1e-4)) / 1e-4;
            assert!((sa - sb).abs() < 1e-3, "{edge}: {sa} vs {sb}");
        }
        // The per-sample form agrees.
        let f = Curve::compressor(-20.0, 4.0, 10.0);
        for x in [-40.0, -24.0, -20.0, -16.0, -3.0, 6.0] {
            let r = f64::from(f.compress((x / DB_PER_LOG2) as f32)) * DB_PER_LOG2;
            assert!((r + c.gain_db(x)).abs() < 1e-4, "{x}: {r}");
        }
        // Hard knee.
        let h = Curve::compressor(-10.0, 2.0, 0.0);
        assert_eq!(h.compress((-11.0 / DB_PER_LOG2) as f32), 0.0);
        let r = f64::from(h.compress((-4.0 / DB_PER_LOG2) as f32)) * DB_PER_LOG2;
        assert!((r - 3.0).abs() < 1e-5);
    }

    #[test]
    fn expander_curve_regions_and_range() {
        let e = ExpanderCurve {
            threshold_db: -40.0,
            ratio: 3.0,
            knee_db: 6.0,
            range_db: 30.0,
        };
        assert_eq!(e.gain_db(-20.0), 0.0);
        assert!((e.gain_db(-50.0) - (-20.0)).abs() < 1e-12);
        assert_eq!(e.gain_db(-80.0), -30.0);
        let (a, b) = (e.gain_db(-43.0 - 1e-7), e.gain_db(-43.0 + 1e-7));
        assert!((a - b).abs() < 1e-6);
        let f = Curve::expander(-40.0, 3.0, 6.0, 30.0);
        for x in [-20.0, -38.0, -40.0, -42.0, -50.0, -90.0] {
            let r = f64::from(f.expand((x / DB_PER_LOG2) as f32)) * DB_PER_LOG2;
            assert!((r + e.gain_db(x)).abs() < 1e-4, "{x}: {r}");
        }
    }
}
