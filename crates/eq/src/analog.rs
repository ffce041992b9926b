//! Analog prototypes: the continuous-time responses every design aims at.
//!
//! Each band is a cascade of first- or second-order sections
//! `H(s) = (n0 + n1·s + n2·s²) / (d0 + d1·s + d2·s²)` with `s` normalised to the band's corner
//! frequency (`s = j·f/freq_hz` on the frequency axis). The shapes are the RBJ Audio EQ
//! Cookbook's analog prototypes; the low- and high-passes are Butterworth cascades.

use crate::params::{butterworth_q, BandParams, FilterKind, MAX_SECTIONS};
use num_complex::Complex64;

/// Where a section's zeros are, which decides how the matched design places them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zeros {
    /// Anywhere the magnitude fit puts them (peak, shelves, low-pass, band-pass, tilt).
    Fitted,
    /// A double zero at DC (second-order high-pass).
    DoubleAtDc,
    /// A conjugate pair on the jω axis at `s = ±j·sqrt(n0/n2)` (notch).
    OnAxis,
    /// Mirror images of the poles (all-pass).
    AllPass,
}

/// One analog section, normalised to the corner frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AnalogSection {
    /// Numerator `n0 + n1 s + n2 s²`.
    pub num: [f64; 3],
    /// Denominator `d0 + d1 s + d2 s²` (`d2 = 0` for a first-order section).
    pub den: [f64; 3],
    /// Placement of the zeros for the matched design.
    pub zeros: Zeros,
}

impl AnalogSection {
    const fn new(num: [f64; 3], den: [f64; 3], zeros: Zeros) -> Self {
        Self { num, den, zeros }
    }

    /// True for a first-order section.
    pub fn is_first_order(&self) -> bool {
        self.den[2] == 0.0
    }

    /// Response at normalised angular frequency `w` (`s = j·w`).
    pub fn response(&self, w: f64) -> Complex64 {
        let s = Complex64::new(0.0, w);
        let n = self.num[0] + s * (self.num[1] + s * self.num[2]);
        let d = self.den[0] + s * (self.den[1] + s * self.den[2]);
        n / d
    }

    /// Squared magnitude at normalised angular frequency `w`, computed in real arithmetic
    /// (`w` may be large: Nyquist can sit far above a low corner).
    pub fn magnitude_sq(&self, w: f64) -> f64 {
        let w2 = w * w;
        let nr = self.num[0] - self.num[2] * w2;
        let ni = self.num[1] * w;
        let dr = self.den[0] - self.den[2] * w2;
        let di = self.den[1] * w;
        (nr * nr + ni * ni) / (dr * dr + di * di)
    }
}

/// A cascade of up to [`MAX_SECTIONS`] analog sections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AnalogCascade {
    pub sections: [AnalogSection; MAX_SECTIONS],
    pub len: usize,
}

impl AnalogCascade {
    fn one(s: AnalogSection) -> Self {
        Self {
            sections: [s; MAX_SECTIONS],
            len: 1,
        }
    }

    pub fn as_slice(&self) -> &[AnalogSection] {
        &self.sections[..self.len]
    }
}

/// `A = 10^(gain_db / 40)`, the RBJ cookbook's amplitude for peak and shelf filters.
pub(crate) fn rbj_amplitude(gain_db: f64) -> f64 {
    libm::pow(10.0, gain_db / 40.0)
}

/// Peaking section with amplitude `a` (`a²` = linear gain at the centre).
pub(crate) fn peak_section(a: f64, q: f64) -> AnalogSection {
    AnalogSection::new([1.0, a / q, 1.0], [1.0, 1.0 / (a * q), 1.0], Zeros::Fitted)
}

/// Low-shelf section with amplitude `a`.
pub(crate) fn low_shelf_section(a: f64, q: f64) -> AnalogSection {
    let sa = libm::sqrt(a);
    AnalogSection::new([a * a, a * sa / q, a], [1.0, sa / q, a], Zeros::Fitted)
}

/// High-shelf section with amplitude `a`.
pub(crate) fn high_shelf_section(a: f64, q: f64) -> AnalogSection {
    let sa = libm::sqrt(a);
    AnalogSection::new([a, a * sa / q, a * a], [a, sa / q, 1.0], Zeros::Fitted)
}

/// First-order tilt with linear gain `g` at the top and `1/g` at the bottom.
pub(crate) fn tilt_section(g: f64) -> AnalogSection {
    AnalogSection::new([1.0, g, 0.0], [g, 1.0, 0.0], Zeros::Fitted)
}

/// The analog cascade of `p` (frequency normalised to `p.freq_hz`).
pub(crate) fn cascade(p: &BandParams) -> AnalogCascade {
    let q = p.q;
    match p.kind {
        FilterKind::Peak => AnalogCascade::one(peak_section(rbj_amplitude(p.gain_db), q)),
        FilterKind::LowShelf => AnalogCascade::one(low_shelf_section(rbj_amplitude(p.gain_db), q)),
        FilterKind::HighShelf => {
            AnalogCascade::one(high_shelf_section(rbj_amplitude(p.gain_db), q))
        }
        FilterKind::BandPass => AnalogCascade::one(AnalogSection::new(
            [0.0, 1.0 / q, 0.0],
            [1.0, 1.0 / q, 1.0],
            Zeros::Fitted,
        )),
        FilterKind::Notch => AnalogCascade::one(AnalogSection::new(
            [1.0, 0.0, 1.0],
            [1.0, 1.0 / q, 1.0],
            Zeros::OnAxis,
        )),
        FilterKind::AllPass => AnalogCascade::one(AnalogSection::new(
            [1.0, -1.0 / q, 1.0],
            [1.0, 1.0 / q, 1.0],
            Zeros::AllPass,
        )),
        FilterKind::Tilt => AnalogCascade::one(tilt_section(libm::pow(10.0, p.gain_db / 20.0))),
        FilterKind::LowPass | FilterKind::HighPass => {
            let high = p.kind == FilterKind::HighPass;
            let order = p.order.clamp(1, crate::params::MAX_ORDER);
            let pairs = usize::from(order / 2);
            let mut c =
                AnalogCascade::one(AnalogSection::new([0.0; 3], [1.0, 1.0, 0.0], Zeros::Fitted));
            let mut len = 0;
            if order % 2 == 1 {
                c.sections[0] = if high {
                    AnalogSection::new([0.0, 1.0, 0.0], [1.0, 1.0, 0.0], Zeros::Fitted)
                } else {
                    AnalogSection::new([1.0, 0.0, 0.0], [1.0, 1.0, 0.0], Zeros::Fitted)
                };
                len = 1;
            }
            for k in 0..pairs {
                let qk = if order == 2 {
                    q
                } else {
                    butterworth_q(order, k)
                };
                c.sections[len] = if high {
                    AnalogSection::new([0.0, 0.0, 1.0], [1.0, 1.0 / qk, 1.0], Zeros::DoubleAtDc)
                } else {
                    AnalogSection::new([1.0, 0.0, 0.0], [1.0, 1.0 / qk, 1.0], Zeros::Fitted)
                };
                len += 1;
            }
            c.len = len;
            c
        }
    }
}

impl BandParams {
    /// Response of the band's analog prototype at `freq_hz` Hz: the target both designs aim
    /// at (no sample rate involved). Ignores `enabled`.
    pub fn analog_response(&self, freq_hz: f64) -> Complex64 {
        let w = freq_hz / self.freq_hz;
        cascade(self)
            .as_slice()
            .iter()
            .fold(Complex64::new(1.0, 0.0), |acc, s| acc * s.response(w))
    }
}
