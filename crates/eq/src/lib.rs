//! lathe-eq (under construction).
#![no_std]
#![forbid(unsafe_code)]
