//! The `lathe` command-line tool (see the `lathe_cli` library for the pieces).
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(lathe_cli::app::main());
}
