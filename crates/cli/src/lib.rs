//! # lathe-cli — the `lathe` command-line tool
//!
//! Files in, files out, around the [`lathe`] mastering strip: decoding (`symphonia`: WAV,
//! AIFF, FLAC, MP3, Ogg Vorbis), resampling (`rubato`), safe WAV writing (`hound`, dithered
//! integer or float, written beside the target and renamed into place), analysis reports
//! (JSON with `serde_json`, tables), plots (`plotters`, PNG, with a built-in bitmap font),
//! progress bars (`indicatif`) and batch jobs (`rayon`). Every command streams: memory does
//! not depend on the length of the audio.
//!
//! The binary is a thin wrapper around [`app::main`]; the modules are public so that tests
//! (and other tools) can drive the pieces directly:
//!
//! ```
//! use lathe_cli::input::Container;
//!
//! // Inputs are recognised by their content, never by their name.
//! assert_eq!(Container::sniff(b"RIFF\x24\0\0\0WAVEfmt "), Some(Container::Wav));
//! assert_eq!(Container::sniff(b"not audio at all"), None);
//!
//! // The whole program, as `lathe targets` would run it (exit code 0).
//! assert_eq!(lathe_cli::app::main_with_args(["lathe", "targets"]), 0);
//! ```
#![forbid(unsafe_code)]

pub mod album;
pub mod analyze;
pub mod app;
pub mod cli;
pub mod common;
pub mod demo;
pub mod error;
pub mod font;
pub mod input;
pub mod list;
pub mod master;
pub mod output;
pub mod pipeline;
pub mod plot;
pub mod prescan;
pub mod process;
pub mod report;
pub mod resample;
pub mod synth;
pub mod tap;

#[cfg(test)]
mod testdir;
