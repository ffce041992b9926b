//! lathe-dynamics (under construction).
#![no_std]
#![forbid(unsafe_code)]
