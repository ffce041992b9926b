//! Channel layouts and their BS.1770-4 weights.

/// Weight of a surround channel, BS.1770-4 Table 3 (+1.5 dB).
const SURROUND: f64 = 1.41;

/// Channel layouts in the usual WAV (WAVEFORMATEXTENSIBLE) channel orders, with their
/// BS.1770-4 weights (Table 3): L, R, C 1.0; surround and back channels 1.41 (+1.5 dB); LFE
/// excluded (0.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelLayout {
    /// One channel, weight 1.0.
    Mono,
    /// One channel meant for both ears: weight 2.0 (+3.01 dB), so a mono file reads as the same
    /// programme played identically on two loudspeakers (EBU Tech 3344 "dual mono").
    DualMono,
    /// L, R.
    Stereo,
    /// L, R, C (3.0).
    Surround3_0,
    /// L, R, C, LFE (3.1).
    Surround3_1,
    /// L, R, Ls, Rs (quad: WAV order FL FR BL BR).
    Quad,
    /// L, R, C, Ls, Rs (WAV order of 5.0).
    Surround5_0,
    /// L, R, C, LFE, Ls, Rs (WAV order of 5.1).
    Surround5_1,
    /// L, R, C, LFE, Cs, Ls, Rs (WAV order of 6.1: FL FR FC LFE BC SL SR).
    Surround6_1,
    /// L, R, C, LFE, Lb, Rb, Ls, Rs (WAV order of 7.1: FL FR FC LFE BL BR SL SR).
    Surround7_1,
}

impl ChannelLayout {
    /// The usual layout for `channels` channels in WAV order (1 = mono, 2 = stereo,
    /// 3 = L R C, 4 = quad, 5 = 5.0, 6 = 5.1, 7 = 6.1, 8 = 7.1); `None` outside 1 ..= 8.
    pub fn default_for(channels: usize) -> Option<Self> {
        Some(match channels {
            1 => ChannelLayout::Mono,
            2 => ChannelLayout::Stereo,
            3 => ChannelLayout::Surround3_0,
            4 => ChannelLayout::Quad,
            5 => ChannelLayout::Surround5_0,
            6 => ChannelLayout::Surround5_1,
            7 => ChannelLayout::Surround6_1,
            8 => ChannelLayout::Surround7_1,
            _ => return None,
        })
    }

    /// Number of channels of the layout.
    pub fn channels(self) -> usize {
        self.weight_table().len()
    }

    fn weight_table(self) -> &'static [f64] {
        const S: f64 = SURROUND;
        match self {
            ChannelLayout::Mono => &[1.0],
            ChannelLayout::DualMono => &[2.0],
            ChannelLayout::Stereo => &[1.0, 1.0],
            ChannelLayout::Surround3_0 => &[1.0, 1.0, 1.0],
            ChannelLayout::Surround3_1 => &[1.0, 1.0, 1.0, 0.0],
            ChannelLayout::Quad => &[1.0, 1.0, S, S],
            ChannelLayout::Surround5_0 => &[1.0, 1.0, 1.0, S, S],
            ChannelLayout::Surround5_1 => &[1.0, 1.0, 1.0, 0.0, S, S],
            ChannelLayout::Surround6_1 => &[1.0, 1.0, 1.0, 0.0, S, S, S],
            ChannelLayout::Surround7_1 => &[1.0, 1.0, 1.0, 0.0, S, S, S, S],
        }
    }

    /// BS.1770-4 weight `G_i` of channel `index` (0.0 for LFE and for indices past the end).
    pub fn weight(self, index: usize) -> f64 {
        self.weight_table().get(index).copied().unwrap_or(0.0)
    }

    /// The weights of the first `CH` channels (0.0 past the end of the layout).
    pub fn weights<const CH: usize>(self) -> [f64; CH] {
        core::array::from_fn(|i| self.weight(i))
    }
}
