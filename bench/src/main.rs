//! `accord-bench`: the mesh benchmark (docs/benchmarks.md). Not part of the `accord` binary
//! agencies run.

use std::path::PathBuf;
use std::process::ExitCode;

use accord_config::StoreEngine;
use clap::{Parser, Subcommand};

/// The mesh benchmark: the examples/quad federation on loopback against the machine's own
/// verification rate (docs/benchmarks.md).
#[derive(Debug, Parser)]
#[command(name = "accord-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The examples/quad federation on loopback (in this process, or a process per node with
    /// --processes): delivered records/s, latency, catch-up, memory, store size, raw
    /// verify_strict and bare request-response rates, and `efficiency: X.XX`.
    Mesh {
        /// The small run: finishes in under a minute.
        #[arg(long)]
        quick: bool,
        /// Records published in the timed phase (default 20000; 2000 with --quick).
        #[arg(long)]
        records: Option<usize>,
        /// Offered rate in records/s (default: as fast as possible).
        #[arg(long)]
        rate: Option<f64>,
        /// Records a member misses before it rejoins (default 100000; 2000 with --quick).
        #[arg(long = "catch-up")]
        catch_up: Option<usize>,
        /// How many of the five agencies run (2 to 5).
        #[arg(long, value_parser = clap::value_parser!(u8).range(2..=5))]
        nodes: Option<u8>,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run each node as its own process (`accord-bench node`), with memory per node.
        #[arg(long)]
        processes: bool,
        /// Publish calls in flight per (node, agreement) (default 2).
        #[arg(long = "in-flight")]
        in_flight: Option<usize>,
        /// The storage engine of the nodes' stores: sled (default), fjall, or both (the run
        /// once on each, then their figures side by side).
        #[arg(long, default_value = "sled", value_parser = ["sled", "fjall", "both"])]
        engine: String,
    },
    /// One node of `mesh --processes`, driven over stdin and stdout.
    #[command(hide = true)]
    Node {
        /// The federation directory the parent wrote.
        #[arg(long)]
        federation: PathBuf,
        /// The agency's directory name in it (e.g. pk-fia).
        #[arg(long)]
        agency: String,
    },
}

fn main() -> ExitCode {
    accord_node::store::private_umask();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Mesh {
            quick,
            records,
            rate,
            catch_up,
            nodes,
            out,
            processes,
            in_flight,
            engine,
        } => {
            let mut opts = accord_bench::options(
                quick,
                records,
                rate,
                catch_up,
                nodes.map(usize::from),
                processes,
            );
            if let Some(n) = in_flight {
                opts.in_flight = n.max(1);
            }
            let engines = match engine.as_str() {
                "fjall" => vec![StoreEngine::Fjall],
                "both" => vec![StoreEngine::Sled, StoreEngine::Fjall],
                _ => vec![StoreEngine::Sled],
            };
            accord_bench::command(opts, &engines, out.as_deref())
        }
        Command::Node { federation, agency } => accord_bench::child(&federation, &agency),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
