//! The program: parse, dispatch, report errors as one line, choose the exit code.
//!
//! Exit codes: [`EXIT_OK`] (0) success, [`EXIT_FAILURE`] (1) some file could not be
//! processed, [`EXIT_USAGE`] (2) the command line is wrong (clap's own errors use 2 as well).
//! Panics never reach the user as a backtrace: they end as `error: internal error: ...` and
//! exit code 1.
//! An interrupt (Ctrl-C, SIGTERM) removes the temporary output files and exits with
//! [`EXIT_INTERRUPTED`](crate::output::EXIT_INTERRUPTED) (130).

use crate::cli::{Cli, Command};
use crate::common::Progress;
use crate::error::Failure;
use clap::{CommandFactory, Parser};
use std::ffi::OsString;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

/// Success.
pub const EXIT_OK: i32 = 0;
/// A file could not be processed.
pub const EXIT_FAILURE: i32 = 1;
/// The command line is wrong.
pub const EXIT_USAGE: i32 = 2;

/// Stack size of the worker threads (the DSP state of a job lives partly on the stack).
const STACK_BYTES: usize = 64 << 20;

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// Prints `error: FILE: reason` on standard error.
pub fn print_error(e: &Failure) {
    let _ = writeln!(std::io::stderr().lock(), "error: {e}");
}

/// Prints a line on standard output (a closed pipe ends the program quietly).
pub fn print_line(line: &str) {
    print_text(&format!("{line}\n"));
}

/// Prints text on standard output (a closed pipe ends the program quietly).
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_OK);
        }
    }
}

fn usage_error(msg: &str) -> i32 {
    let e = Cli::command().error(clap::error::ErrorKind::ArgumentConflict, msg);
    let _ = e.print();
    EXIT_USAGE
}

/// Runs the program with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    if let Err(e) = crate::output::remove_temporaries_on_interrupt() {
        print_error(&e);
        return EXIT_FAILURE;
    }
    main_with_args(std::env::args_os())
}

/// Runs the program with `args` (the first is the program name); returns the exit code.
pub fn main_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    if let Command::Master(m) = &cli.command {
        if m.inputs.len() > 1 && m.output.is_some() {
            return usage_error("several inputs need --out-dir DIR instead of -o OUT");
        }
    }
    if std::env::var_os("LATHE_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if let Ok(mut m) = PANIC_MESSAGE.lock() {
                m.get_or_insert(format!("{msg}{place}"));
            }
        }));
    }
    let pool = match rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_BYTES)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            print_error(&Failure::general(format!(
                "cannot start worker threads: {e}"
            )));
            return EXIT_FAILURE;
        }
    };
    let result = catch_unwind(AssertUnwindSafe(|| pool.install(|| run(&cli))));
    match result {
        Ok(code) => code,
        Err(_) => {
            let msg = PANIC_MESSAGE
                .lock()
                .ok()
                .and_then(|m| m.clone())
                .unwrap_or_else(|| "unknown".into());
            print_error(&Failure::general(format!("internal error: {msg}")));
            EXIT_FAILURE
        }
    }
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: &Cli) -> i32 {
    let progress = Progress::new(cli.quiet);
    let outcome = match &cli.command {
        Command::Analyze(a) => crate::analyze::run(a, &progress),
        Command::Master(m) => crate::master::run(m, &progress),
        Command::Process(p) => crate::process::run(p, &progress),
        Command::Album(a) => crate::album::run(a, &progress),
        Command::Targets => {
            print_text(&crate::list::targets_text());
            Ok(true)
        }
        Command::Presets => {
            print_text(&crate::list::presets_text());
            Ok(true)
        }
        Command::Demo(d) => crate::demo::run(d, &progress),
    };
    match outcome {
        Ok(true) => EXIT_OK,
        Ok(false) => EXIT_FAILURE,
        Err(e) => {
            print_error(&e);
            EXIT_FAILURE
        }
    }
}
