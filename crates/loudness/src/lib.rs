//! lathe-loudness (under construction).
#![no_std]
#![forbid(unsafe_code)]
