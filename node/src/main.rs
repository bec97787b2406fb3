//! `accord`: the agency's node and its command-line tools.

mod cli;
mod commands;
mod files;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

/// Exit codes, documented in the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The input was checked and refused: an invalid configuration, a record that does not
    /// verify, a bundle with a failure.
    pub const REFUSED: u8 = 1;
    /// The command line was wrong (clap's own code).
    pub const USAGE: u8 = 2;
    /// The command could not do its work: a file unreadable or unwritable, a key missing.
    pub const FAILED: u8 = 3;
}

/// A refusal: the input was read and found wrong. Its message has been printed already.
#[derive(Debug)]
pub struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

impl std::error::Error for Refused {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match commands::run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) if e.is::<Refused>() => ExitCode::from(exit::REFUSED),
        Err(e) => {
            // the whole cause chain, one cause per line
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit::FAILED)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}
