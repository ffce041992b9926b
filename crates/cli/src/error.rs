//! One error type for the whole tool: what failed, on which file, and why, as one line.

use std::fmt;
use std::path::{Path, PathBuf};

/// A failure reported to the user as `error: FILE: reason` (or `error: reason`).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The file the failure is about, when there is one.
    pub file: Option<PathBuf>,
    /// What went wrong, in one line.
    pub reason: String,
}

impl Failure {
    /// A failure about `file`.
    pub fn file(file: impl AsRef<Path>, reason: impl fmt::Display) -> Self {
        Self {
            file: Some(file.as_ref().to_path_buf()),
            reason: one_line(&reason.to_string()),
        }
    }

    /// A failure about no file in particular.
    pub fn general(reason: impl fmt::Display) -> Self {
        Self {
            file: None,
            reason: one_line(&reason.to_string()),
        }
    }

    /// The same failure, attached to `file` unless it already names one.
    pub fn on(mut self, file: impl AsRef<Path>) -> Self {
        if self.file.is_none() {
            self.file = Some(file.as_ref().to_path_buf());
        }
        self
    }
}

/// Collapses a multi-line message (e.g. a TOML parse error with a source excerpt) to one line.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in s.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(part);
    }
    out
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: {}", p.display(), self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for Failure {}

/// Result alias of the tool.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let f = Failure::file("a.wav", "first\n  second\n\nthird");
        assert_eq!(f.to_string(), "a.wav: first; second; third");
        let f = Failure::general("chain file:\n x");
        assert_eq!(f.to_string(), "chain file: x");
        assert_eq!(Failure::general("x").on("b.flac").to_string(), "b.flac: x");
        assert_eq!(
            Failure::file("c", "x").on("d").to_string(),
            "c: x",
            "keeps the first file"
        );
    }
}
