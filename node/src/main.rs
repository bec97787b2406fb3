//! `accord`: the agency's node and its command-line tools.

use std::process::ExitCode;

use accord_node::cli::{Cli, LogFormat};
use accord_node::{Refused, commands, exit};
use clap::Parser;

// jemalloc: a store of a million records on fjall took writes 1.46× as fast on it as on the C
// library's allocator and answered reads 25–30 % faster (docs/benchmarks.md, "The allocator,
// and a heap profile at 1,000,000")
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // everything the node writes is private unless made readable on purpose: the store holds
    // victims' names (docs/operations.md)
    accord_node::store::private_umask();
    quiet_on_closed_pipe();
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

/// A command whose output goes to a closed pipe (`accord requests --json | head -1`) stops
/// quietly with exit 0, instead of the panic Rust's `println!` raises on EPIPE (Rust ignores
/// SIGPIPE, and the project forbids the unsafe call that would restore it).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if payload.starts_with("failed printing to std") && payload.contains("Broken pipe") {
            std::process::exit(i32::from(exit::OK));
        }
        default(info);
    }));
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
