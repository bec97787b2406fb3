//! `accord`: the agency's node and its command-line tools.

use std::process::ExitCode;

use accord_node::cli::{Cli, LogFormat};
use accord_node::{Refused, commands, exit};
use clap::Parser;

fn main() -> ExitCode {
    // everything the node writes is private unless made readable on purpose: the store holds
    // victims' names (docs/operations.md)
    accord_node::store::private_umask();
    let cli = Cli::parse();
    let default = if matches!(cli.command, accord_node::cli::Command::Run { .. }) {
        "info"
    } else {
        "warn"
    };
    init_tracing(cli.log_format, default);
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

fn init_tracing(format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}
