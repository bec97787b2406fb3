//! `accord-bench`: the mesh benchmark (docs/benchmarks.md). Not part of the `accord` binary
//! agencies run.

// the allocator the `accord` binary runs its node with (node/src/main.rs)
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
        /// How many agencies run (2 to 64): up to 5, the examples/quad agencies; more, a
        /// generated federation of one regional agreement and a ring of bilateral ones.
        #[arg(long, value_parser = clap::value_parser!(u8).range(2..=64))]
        nodes: Option<u8>,
        /// The members of the generated federation's regional agreement (2 to --nodes;
        /// default 45, or every agency if fewer). Given, the federation is generated even with
        /// 5 nodes or fewer.
        #[arg(long = "agreement-members", value_parser = clap::value_parser!(u8).range(2..=64))]
        agreement_members: Option<u8>,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run each node as its own process (`accord-bench node`), with memory per node.
        #[arg(long)]
        processes: bool,
        /// Seconds between the nodes' full sync statuses (default 2; a node's own default is
        /// 30).
        #[arg(long = "sync-interval")]
        sync_interval: Option<f64>,
        /// Publish calls in flight per (node, agreement) (default 2).
        #[arg(long = "in-flight")]
        in_flight: Option<usize>,
        /// The storage engine of the nodes' stores: sled (default), fjall, or both (the run
        /// once on each, then their figures side by side).
        #[arg(long, default_value = "sled", value_parser = ["sled", "fjall", "both"])]
        engine: String,
    },
    /// Hit / no-hit between two nodes on loopback: lookups per second and the cost of one
    /// lookup against verify_strict timed in the same run (docs/matching.md).
    Match {
        /// Phone numbers the holder holds (default 10000).
        #[arg(long, default_value_t = 10_000)]
        holdings: usize,
        /// Lookups of one selector (default 400); a sixteenth as many of 64 follow.
        #[arg(long, default_value_t = 400)]
        lookups: usize,
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
        /// Seconds between full sync statuses.
        #[arg(long = "sync-interval", default_value_t = 2.0)]
        sync_interval: f64,
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
            agreement_members,
            out,
            processes,
            in_flight,
            sync_interval,
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
            opts.agreement_members = agreement_members.map(usize::from);
            if let Some(s) = sync_interval {
                opts.sync_interval_s = s;
            }
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
        Command::Match { holdings, lookups } => {
            accord_bench::matching::run(holdings, lookups).map(|_| ())
        }
        Command::Node {
            federation,
            agency,
            sync_interval,
        } => accord_bench::child(&federation, &agency, sync_interval),
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
