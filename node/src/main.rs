//! `accord`: the agency's node and its command-line tools.

use std::process::ExitCode;

use accord_node::cli::Cli;
use accord_node::{Refused, commands, exit};
use clap::Parser;

fn main() -> ExitCode {
    // everything the node writes is private unless made readable on purpose: the store holds
    // victims' names (docs/operations.md)
    accord_node::store::private_umask();
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
