//! Two-pass mastering to a loudness target.
pub mod model;
