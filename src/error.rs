//! The facade's error type.

use crate::config::ConfigError;
use core::fmt;

/// What can go wrong building or running a mastering job.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The chain description is invalid.
    Config(ConfigError),
    /// A DSP stage rejected its parameters at this sample rate.
    Stage {
        /// Index of the stage (0-based).
        stage: usize,
        /// The stage's type.
        kind: &'static str,
        /// The DSP crate's error.
        source: lathe_core::Error,
    },
    /// A DSP error outside any stage (meters, sample rate).
    Dsp(lathe_core::Error),
    /// The channel count is not supported by what was asked (e.g. a stereo stage on mono).
    Channels {
        /// What needs a different channel count.
        what: &'static str,
        /// Channels given.
        channels: usize,
    },
    /// A mastering call came in the wrong order (e.g. `render` before `plan`).
    Order(&'static str),
    /// Nothing to master: the input is silent.
    Silent,
    /// An album rule was broken (timeline, CUE, gain plan), as `lathe-album` explains it.
    Album(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Stage {
                stage,
                kind,
                source,
            } => write!(f, "stage {} ({kind}): {source}", stage + 1),
            Error::Dsp(e) => e.fmt(f),
            Error::Channels { what, channels } => {
                write!(f, "{what} is not available for {channels} channels")
            }
            Error::Order(what) => write!(f, "mastering steps out of order: {what}"),
            Error::Silent => write!(f, "the input is silent: there is nothing to master"),
            Error::Album(e) => write!(f, "album: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<lathe_core::Error> for Error {
    fn from(e: lathe_core::Error) -> Self {
        Error::Dsp(e)
    }
}

/// Result alias of the facade.
pub type Result<T, E = Error> = core::result::Result<T, E>;
