//! `accord report routes`: source → transit → destination flows aggregated from the route legs
//! of the records this node holds (recommendation 7; docs/workflows.md).

use std::path::PathBuf;

use accord_protocol::{AgreementId, Timestamp};
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};

use super::access::Access;
use crate::api::view::parse_since;
use crate::clock;
use crate::workflow::routes::{Scope, csv, flows, table};
use crate::workflow::svg::routes_svg;

/// `accord report …`
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Flows from source through transit to destination countries, counted over the records
    /// held (withdrawn and superseded ones left out), as a table, CSV or an SVG diagram.
    Routes(RoutesArgs),
}

/// The format of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// CSV: `flow,source,transit,destination,records,latest`.
    Csv,
    /// An SVG flow diagram to open in a browser.
    Svg,
}

/// `accord report routes`
#[derive(Debug, clap::Args)]
pub struct RoutesArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// Only records under this agreement.
    #[arg(long, value_parser = AgreementId::new)]
    pub agreement: Option<AgreementId>,
    /// Only records created at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ).
    #[arg(long, value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to this file (replacing it) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `accord report …`.
pub(crate) fn run(command: &ReportCommand) -> Result<()> {
    match command {
        ReportCommand::Routes(a) => routes(a),
    }
}

fn routes(a: &RoutesArgs) -> Result<()> {
    let access = Access::open(&a.config)?;
    let holdings = access.holdings()?;
    let scope = Scope {
        agreement: a.agreement.clone(),
        since: a.since,
    };
    let found = flows(&holdings, &scope);
    let text = match a.format {
        Format::Table => table(&found),
        Format::Csv => csv(&found),
        Format::Svg => {
            let records: usize = found.iter().map(|f| f.records).sum();
            let subtitle = format!(
                "{} · {} · {records} record(s) in {} flow(s) · generated {}",
                a.agreement
                    .as_ref()
                    .map_or("all agreements".to_owned(), |ag| format!("agreement {ag}")),
                a.since
                    .map_or("any time".to_owned(), |s| format!("created since {s}")),
                found.len(),
                clock::now()
            );
            routes_svg(
                &found,
                &format!("Routes in the records held by {}", access.cfg().agency),
                &subtitle,
            )
        }
    };
    match &a.out {
        None => print!("{text}"),
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} ({} flow(s))", path.display(), found.len());
        }
    }
    Ok(())
}
