//! Band parameters: filter kind, design method and the validated ranges.

use lathe_core::{Error, Result};

/// Lowest corner/centre frequency a band accepts, in Hz.
pub const MIN_FREQ_HZ: f64 = 1.0;
/// Smallest quality factor a band accepts.
pub const MIN_Q: f64 = 0.1;
/// Largest quality factor a band accepts.
pub const MAX_Q: f64 = 40.0;
/// Largest boost or cut in dB (peak, shelves, tilt).
pub const MAX_GAIN_DB: f64 = 24.0;
/// Highest Butterworth order of a low-/high-pass band (8 = 48 dB/oct).
pub const MAX_ORDER: u8 = 8;
/// Second-order sections a band can need (a Butterworth order-8 filter needs four).
pub const MAX_SECTIONS: usize = 4;

/// The shape of one EQ band.
///
/// The analog prototypes are those of the RBJ Audio EQ Cookbook (R. Bristow-Johnson, as
/// published by the W3C WebAudio group), with `A = 10^(gain_db / 40)` and `s` normalised to the
/// corner frequency; see [`BandParams::analog_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterKind {
    /// Peaking (bell): `(s² + s·A/Q + 1) / (s² + s/(A·Q) + 1)`; `gain_db` at `freq_hz`.
    Peak,
    /// Low shelf: `A·(s² + √A/Q·s + A) / (A·s² + √A/Q·s + 1)`; `gain_db` below `freq_hz`, half
    /// of it (in dB) at `freq_hz`.
    LowShelf,
    /// High shelf: `A·(A·s² + √A/Q·s + 1) / (s² + √A/Q·s + A)`; `gain_db` above `freq_hz`.
    HighShelf,
    /// Butterworth low-pass of `order` 1 ..= 8 (6 dB/oct per order); -3.01 dB at `freq_hz`.
    /// With `order == 2` the section's `q` is used (0.7071 = Butterworth), so resonant
    /// low-passes are possible; other orders use the Butterworth pole Qs and ignore `q`.
    LowPass,
    /// Butterworth high-pass of `order` 1 ..= 8; see [`FilterKind::LowPass`] for `q`.
    HighPass,
    /// Band-pass with 0 dB at `freq_hz`: `(s/Q) / (s² + s/Q + 1)`.
    BandPass,
    /// Notch (band-reject): `(s² + 1) / (s² + s/Q + 1)`.
    Notch,
    /// Second-order all-pass: `(s² − s/Q + 1) / (s² + s/Q + 1)`; phase −180° at `freq_hz`.
    AllPass,
    /// First-order tilt around `freq_hz`: `+gain_db` at the top, `−gain_db` at the bottom,
    /// 0 dB at `freq_hz`: `(1 + g·s) / (g + s)` with `g = 10^(gain_db / 20)`.
    Tilt,
}

impl FilterKind {
    /// True for the kinds whose `gain_db` matters (peak, shelves, tilt).
    pub const fn has_gain(self) -> bool {
        matches!(
            self,
            FilterKind::Peak | FilterKind::LowShelf | FilterKind::HighShelf | FilterKind::Tilt
        )
    }
}

/// How analog prototypes become digital filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Design {
    /// The RBJ Audio EQ Cookbook: bilinear transform, pre-warped at `freq_hz`. Exact at DC and
    /// at `freq_hz`, but the response is compressed ("cramped") towards Nyquist: a +12 dB, Q 1
    /// peak at 15 kHz (48 kHz) reads +1.4 dB at 21 kHz where the analog bell still has +7.9 dB.
    Rbj,
    /// Matched ("decramped") design after M. Vicanek, "Matched Second Order Digital Filters"
    /// (2016): poles by impulse invariance, zeros fitted to the analog magnitude at DC, at
    /// Nyquist and at `freq_hz`. Follows the analog prototype up to Nyquist; the default, and the
    /// one for mastering.
    #[default]
    Matched,
}

/// Everything that defines one EQ band. A plain `Copy` struct in natural units.
///
/// Build one with the named constructors ([`BandParams::peak`], [`BandParams::low_pass`], …)
/// and adjust fields with struct-update syntax:
///
/// ```
/// use lathe_eq::{BandParams, Design};
/// let band = BandParams { design: Design::Rbj, ..BandParams::peak(2_000.0, 3.0, 1.0) };
/// assert!(band.validate(48_000.0).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandParams {
    /// Band switched on. A disabled band costs nothing and passes audio unchanged; switching
    /// cross-fades over the smoothing time.
    pub enabled: bool,
    /// Filter shape.
    pub kind: FilterKind,
    /// Design method (matched by default).
    pub design: Design,
    /// Corner or centre frequency in Hz, [`MIN_FREQ_HZ`] ..< Nyquist.
    pub freq_hz: f64,
    /// Gain in dB, −[`MAX_GAIN_DB`] ..= [`MAX_GAIN_DB`] (peak, shelves, tilt; ignored otherwise).
    pub gain_db: f64,
    /// Quality factor, [`MIN_Q`] ..= [`MAX_Q`] (peak, shelves, band-pass, notch, all-pass,
    /// second-order low-/high-pass).
    pub q: f64,
    /// Butterworth order of low-/high-pass bands, 1 ..= [`MAX_ORDER`] (6 dB/oct per order).
    pub order: u8,
}

impl Default for BandParams {
    /// An enabled, flat (0 dB) matched peak at 1 kHz, Q 0.7071.
    fn default() -> Self {
        Self {
            enabled: true,
            kind: FilterKind::Peak,
            design: Design::Matched,
            freq_hz: 1_000.0,
            gain_db: 0.0,
            q: core::f64::consts::FRAC_1_SQRT_2,
            order: 2,
        }
    }
}

impl BandParams {
    const fn with(kind: FilterKind, freq_hz: f64, gain_db: f64, q: f64, order: u8) -> Self {
        Self {
            enabled: true,
            kind,
            design: Design::Matched,
            freq_hz,
            gain_db,
            q,
            order,
        }
    }

    /// Peaking (bell) band: `gain_db` dB at `freq_hz` Hz, quality factor `q`.
    pub const fn peak(freq_hz: f64, gain_db: f64, q: f64) -> Self {
        Self::with(FilterKind::Peak, freq_hz, gain_db, q, 2)
    }

    /// Second-order low shelf: `gain_db` dB below `freq_hz` Hz; `q` = 0.7071 is the steepest
    /// shelf without overshoot (RBJ slope 1).
    pub const fn low_shelf(freq_hz: f64, gain_db: f64, q: f64) -> Self {
        Self::with(FilterKind::LowShelf, freq_hz, gain_db, q, 2)
    }

    /// Second-order high shelf: `gain_db` dB above `freq_hz` Hz; see [`BandParams::low_shelf`].
    pub const fn high_shelf(freq_hz: f64, gain_db: f64, q: f64) -> Self {
        Self::with(FilterKind::HighShelf, freq_hz, gain_db, q, 2)
    }

    /// Low shelf specified by the RBJ shelf slope `slope` (1 = steepest without overshoot)
    /// instead of Q. The slope is converted to Q once, here, for this `gain_db`.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] (`"slope"`, 0.1 ..= 1) or the errors of [`shelf_slope_to_q`].
    pub fn low_shelf_slope(freq_hz: f64, gain_db: f64, slope: f64) -> Result<Self> {
        Ok(Self::low_shelf(
            freq_hz,
            gain_db,
            shelf_slope_to_q(gain_db, slope)?,
        ))
    }

    /// High shelf specified by the RBJ shelf slope; see [`BandParams::low_shelf_slope`].
    ///
    /// # Errors
    /// As [`BandParams::low_shelf_slope`].
    pub fn high_shelf_slope(freq_hz: f64, gain_db: f64, slope: f64) -> Result<Self> {
        Ok(Self::high_shelf(
            freq_hz,
            gain_db,
            shelf_slope_to_q(gain_db, slope)?,
        ))
    }

    /// Butterworth low-pass of `order` (1 ..= 8, 6 dB/oct each) with its −3 dB corner at
    /// `freq_hz` Hz.
    pub const fn low_pass(freq_hz: f64, order: u8) -> Self {
        Self::with(
            FilterKind::LowPass,
            freq_hz,
            0.0,
            core::f64::consts::FRAC_1_SQRT_2,
            order,
        )
    }

    /// Butterworth high-pass of `order` (1 ..= 8) with its −3 dB corner at `freq_hz` Hz.
    pub const fn high_pass(freq_hz: f64, order: u8) -> Self {
        Self::with(
            FilterKind::HighPass,
            freq_hz,
            0.0,
            core::f64::consts::FRAC_1_SQRT_2,
            order,
        )
    }

    /// Band-pass centred on `freq_hz` Hz (0 dB there), bandwidth `freq_hz / q`.
    pub const fn band_pass(freq_hz: f64, q: f64) -> Self {
        Self::with(FilterKind::BandPass, freq_hz, 0.0, q, 2)
    }

    /// Notch at `freq_hz` Hz, −3 dB bandwidth `freq_hz / q`.
    pub const fn notch(freq_hz: f64, q: f64) -> Self {
        Self::with(FilterKind::Notch, freq_hz, 0.0, q, 2)
    }

    /// Second-order all-pass with −180° phase at `freq_hz` Hz.
    pub const fn all_pass(freq_hz: f64, q: f64) -> Self {
        Self::with(FilterKind::AllPass, freq_hz, 0.0, q, 2)
    }

    /// First-order tilt around `freq_hz` Hz: `gain_db` at the top, `−gain_db` at the bottom.
    pub const fn tilt(freq_hz: f64, gain_db: f64) -> Self {
        Self::with(
            FilterKind::Tilt,
            freq_hz,
            gain_db,
            core::f64::consts::FRAC_1_SQRT_2,
            1,
        )
    }

    /// Number of second-order sections this band needs (1 ..= [`MAX_SECTIONS`]).
    pub fn sections(&self) -> usize {
        match self.kind {
            FilterKind::LowPass | FilterKind::HighPass => {
                usize::from(self.order.clamp(1, MAX_ORDER)).div_ceil(2)
            }
            _ => 1,
        }
    }

    /// Checks every field against its range and `freq_hz` against the Nyquist frequency of
    /// `sample_rate` (Hz).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `"freq_hz"` (below [`MIN_FREQ_HZ`] or not finite),
    /// `"gain_db"`, `"q"` or `"order"`; [`Error::AboveNyquist`] when `freq_hz >= sample_rate / 2`.
    pub fn validate(&self, sample_rate: f64) -> Result<()> {
        self.validate_ranges()?;
        Error::check_below_nyquist(self.freq_hz, sample_rate)?;
        Ok(())
    }

    /// The range checks that do not depend on the sample rate.
    pub(crate) fn validate_ranges(&self) -> Result<()> {
        Error::check_range("freq_hz", self.freq_hz, MIN_FREQ_HZ, f64::MAX)?;
        Error::check_range("gain_db", self.gain_db, -MAX_GAIN_DB, MAX_GAIN_DB)?;
        Error::check_range("q", self.q, MIN_Q, MAX_Q)?;
        Error::check_range("order", f64::from(self.order), 1.0, f64::from(MAX_ORDER))?;
        Ok(())
    }

    /// True when a change from `self` to `other` is a glide of frequency, gain and Q only
    /// (same kind, order, design and switch), which the EQ smooths in the parameter domain.
    pub(crate) fn same_structure(&self, other: &Self) -> bool {
        self.enabled == other.enabled
            && self.kind == other.kind
            && self.design == other.design
            && self.sections() == other.sections()
            && (self.order == other.order
                || !matches!(self.kind, FilterKind::LowPass | FilterKind::HighPass))
    }
}

/// Converts an RBJ shelf slope `S` to the equivalent Q for a shelf of `gain_db`:
/// `1/Q = sqrt((A + 1/A)(1/S − 1) + 2)`, `A = 10^(gain_db/40)` (RBJ Audio EQ Cookbook).
///
/// # Errors
/// [`Error::OutOfRange`] for `"slope"` outside 0.1 ..= 1 or `"gain_db"` outside ±[`MAX_GAIN_DB`].
pub fn shelf_slope_to_q(gain_db: f64, slope: f64) -> Result<f64> {
    Error::check_range("gain_db", gain_db, -MAX_GAIN_DB, MAX_GAIN_DB)?;
    Error::check_range("slope", slope, 0.1, 1.0)?;
    let a = libm::pow(10.0, gain_db / 40.0);
    Ok(1.0 / libm::sqrt((a + 1.0 / a) * (1.0 / slope - 1.0) + 2.0))
}

/// Q of the `index`-th second-order section (0-based, lowest Q first) of a Butterworth filter
/// of `order`: `Q = 1 / (2 cos θ)` with the pole angles θ of the Butterworth circle.
pub fn butterworth_q(order: u8, index: usize) -> f64 {
    let n = f64::from(order);
    // Pole pairs of an order-n Butterworth sit at angles θ from the negative real axis:
    // even n: (2k+1)π/(2n); odd n: (k+1)π/n, for k = 0 .. n/2 (the real pole is separate).
    let k = index as f64;
    let theta = if order.is_multiple_of(2) {
        (2.0 * k + 1.0) * core::f64::consts::PI / (2.0 * n)
    } else {
        (k + 1.0) * core::f64::consts::PI / n
    };
    // The smallest angle has the largest cos θ, hence the lowest Q: index 0 is the gentlest.
    1.0 / (2.0 * libm::cos(theta))
}
