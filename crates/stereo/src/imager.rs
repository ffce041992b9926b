//! The stereo imager: mid/side gains, width, rotation and balance as one smoothed 2x2 matrix.

use lathe_core::{db_to_gain, Error, ProcessSpec, Processor, Result, Smoothed};

/// Length of the ramp that smooths every imager parameter change, in ms.
pub const IMAGER_RAMP_MS: f64 = 20.0;

/// Parameters of a [`StereoImager`] (plain values, natural units).
///
/// The signal flow, in this order:
/// 1. mid/side encode (`M = (L + R) / 2`, `S = (L - R) / 2`, see [`MidSide`](crate::MidSide));
/// 2. `M *= mid gain`, `S *= side gain · width`;
/// 3. decode back to L/R;
/// 4. rotation of the stereo field by `rotation_deg`;
/// 5. balance.
///
/// Width (like the side gain) scales only the side: it never changes the mid, i.e. the mono sum
/// `L + R`. The defaults (width 1, 0 dB, balance 0, rotation 0) are a bit-exact identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImagerParams {
    /// Stereo width, 0 (mono) ..= 2 (extra wide); 1 leaves the image as it is. A factor on the
    /// side signal. Default 1.
    pub width: f64,
    /// Gain of the mid (sum) signal in dB, -60 ..= 24. Default 0.
    pub mid_gain_db: f64,
    /// Gain of the side (difference) signal in dB, -60 ..= 24. Default 0.
    pub side_gain_db: f64,
    /// Balance, -1 (left only) ..= 1 (right only). A linear balance law: a positive value
    /// attenuates the left channel by the factor `1 - balance`, a negative value the right one
    /// by `1 + balance`; the other channel stays at unity, so 0 is an identity. Default 0.
    pub balance: f64,
    /// Rotation of the stereo field in degrees, -90 ..= 90 (positive turns the image towards
    /// the right). A source at pan angle φ (`L = cos φ`, `R = sin φ`; 45° is the centre) moves
    /// to φ + rotation; the total energy `L² + R²` is preserved. Default 0.
    pub rotation_deg: f64,
}

impl Default for ImagerParams {
    fn default() -> Self {
        Self {
            width: 1.0,
            mid_gain_db: 0.0,
            side_gain_db: 0.0,
            balance: 0.0,
            rotation_deg: 0.0,
        }
    }
}

impl ImagerParams {
    /// Checks every parameter against its range.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming the first parameter (`"width"`, `"mid_gain_db"`,
    /// `"side_gain_db"`, `"balance"`, `"rotation_deg"`) that is out of range or not finite.
    pub fn validate(&self) -> Result<()> {
        Error::check_range("width", self.width, 0.0, 2.0)?;
        Error::check_range("mid_gain_db", self.mid_gain_db, -60.0, 24.0)?;
        Error::check_range("side_gain_db", self.side_gain_db, -60.0, 24.0)?;
        Error::check_range("balance", self.balance, -1.0, 1.0)?;
        Error::check_range("rotation_deg", self.rotation_deg, -90.0, 90.0)?;
        Ok(())
    }

    /// The 2x2 matrix `[[ll, lr], [rl, rr]]` these parameters apply to `[L, R]`:
    /// `L' = ll·L + lr·R`, `R' = rl·L + rr·R`.
    ///
    /// Exactly `[[1, 0], [0, 1]]` for the defaults.
    pub fn matrix(&self) -> [[f64; 2]; 2] {
        let gm = db_to_gain(self.mid_gain_db);
        let gs = db_to_gain(self.side_gain_db) * self.width;
        // Mid/side stage in L/R terms: 0.5 [[gm + gs, gm - gs], [gm - gs, gm + gs]].
        let p = 0.5 * (gm + gs);
        let q = 0.5 * (gm - gs);
        // Rotation [[c, -s], [s, c]] applied after.
        let theta = self.rotation_deg.to_radians();
        let (s, c) = (libm::sin(theta), libm::cos(theta));
        let m = [
            [c * p - s * q, c * q - s * p],
            [s * p + c * q, s * q + c * p],
        ];
        // Linear balance law.
        let gl = (1.0 - self.balance).min(1.0);
        let gr = (1.0 + self.balance).min(1.0);
        [[gl * m[0][0], gl * m[0][1]], [gr * m[1][0], gr * m[1][1]]]
    }
}

/// Stereo imager: mid/side gains, width, rotation and balance ([`ImagerParams`]).
///
/// All parameters collapse to one 2x2 matrix on `[L, R]`. A parameter change ramps every matrix
/// entry linearly over [`IMAGER_RAMP_MS`] (sample-accurately, whatever the block size), so
/// automating the width never clicks. With the matrix constant the inner loop is two
/// multiply-adds per frame and vectorises; with the identity matrix (width 1, 0 dB, balance 0,
/// rotation 0) `process` returns at once and the audio is untouched, bit for bit.
///
/// Stereo only: implements [`Processor<2>`]. No latency, no recursive state.
///
/// Non-finite input: there is no recursive state to poison; a NaN or infinite sample affects
/// only the output frame it arrives in.
#[derive(Debug, Clone)]
pub struct StereoImager {
    params: ImagerParams,
    coeffs: [Smoothed; 4],
}

impl StereoImager {
    /// An imager with `params`. Parameters are validated by [`prepare`](Processor::prepare)
    /// and [`set_params`](Self::set_params); an invalid set passed here makes `prepare` fail.
    pub fn new(params: ImagerParams) -> Self {
        let m = params.matrix();
        Self {
            params,
            coeffs: [
                Smoothed::new(m[0][0]),
                Smoothed::new(m[0][1]),
                Smoothed::new(m[1][0]),
                Smoothed::new(m[1][1]),
            ],
        }
    }

    /// The parameters in use.
    pub fn params(&self) -> ImagerParams {
        self.params
    }

    /// Sets new parameters; the change is ramped over [`IMAGER_RAMP_MS`].
    ///
    /// # Errors
    /// From [`ImagerParams::validate`]; the previous parameters stay in use.
    pub fn set_params(&mut self, params: ImagerParams) -> Result<()> {
        params.validate()?;
        self.params = params;
        let m = params.matrix();
        for (s, t) in self
            .coeffs
            .iter_mut()
            .zip([m[0][0], m[0][1], m[1][0], m[1][1]])
        {
            s.set_target(t);
        }
        Ok(())
    }

    /// True while a parameter change is being ramped.
    pub fn is_smoothing(&self) -> bool {
        self.coeffs.iter().any(Smoothed::is_smoothing)
    }

    /// True when the current matrix is the exact identity and nothing is ramping: `process`
    /// leaves the audio untouched.
    pub fn is_identity(&self) -> bool {
        !self.is_smoothing() && self.current() == [1.0, 0.0, 0.0, 1.0]
    }

    fn current(&self) -> [f64; 4] {
        [
            self.coeffs[0].current(),
            self.coeffs[1].current(),
            self.coeffs[2].current(),
            self.coeffs[3].current(),
        ]
    }
}

impl Default for StereoImager {
    fn default() -> Self {
        Self::new(ImagerParams::default())
    }
}

/// Applies a constant matrix; written so that it vectorises (independent frames, no branches).
#[inline]
fn apply_matrix(frames: &mut [[f32; 2]], [a, b, c, d]: [f32; 4]) {
    for f in frames {
        let [l, r] = *f;
        *f = [a * l + b * r, c * l + d * r];
    }
}

impl Processor<2> for StereoImager {
    fn prepare(&mut self, spec: &ProcessSpec) -> Result<()> {
        spec.validate()?;
        self.params.validate()?;
        let m = self.params.matrix();
        for (s, t) in self
            .coeffs
            .iter_mut()
            .zip([m[0][0], m[0][1], m[1][0], m[1][1]])
        {
            s.set_ramp(IMAGER_RAMP_MS, spec.sample_rate);
            s.set_immediate(t);
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.coeffs.iter_mut().for_each(Smoothed::reset);
    }

    fn process(&mut self, frames: &mut [[f32; 2]]) {
        let mut i = 0;
        while i < frames.len() && self.is_smoothing() {
            let [a, b, c, d] = self.coeffs.each_mut().map(|s| s.next() as f32);
            let [l, r] = frames[i];
            frames[i] = [a * l + b * r, c * l + d * r];
            i += 1;
        }
        if self.is_identity() {
            return;
        }
        let m = self.current().map(|v| v as f32);
        apply_matrix(&mut frames[i..], m);
    }
}
