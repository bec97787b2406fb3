//! `accord match KIND:VALUE`: hit / no-hit at every partner of the agency's agreements that
//! provide for matching, through the running node's API (`POST /v1/match`, docs/matching.md).
//! A hit is a lead: the command prints the `accord request` that asks the holder's focal
//! point what it holds; nothing is sent until a person runs it.

use std::path::PathBuf;

use accord_protocol::AgreementId;
use anyhow::Result;
use serde_json::json;

use super::node::load;
use crate::api::client::Client;
use crate::matching::asker::{MatchReport, Outcome};

/// `accord match`
#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// What to look up: `phone:NUMBER`, `account:IBAN`, `document:CC:NUMBER`,
    /// `vessel:imo:NNNNNNN` (or `mmsi:`), `person:NAME` (with --born).
    #[arg(required_unless_present = "resolve")]
    pub selector: Option<String>,
    /// The holder's side: which of this agency's selectors and records the tag of a request
    /// for information after a hit is (with --agreement and --epoch, as the request names
    /// them).
    #[arg(long, value_name = "TAG", conflicts_with = "selector", requires_all = ["agreement", "epoch"])]
    pub resolve: Option<String>,
    /// The epoch a tag is of, as the request names it (`2026-12-07+1d`), with --resolve.
    #[arg(long, requires = "resolve")]
    pub epoch: Option<String>,
    /// A person's year of birth (`YYYY`; a full date's year is used).
    #[arg(long, value_name = "YYYY[-MM[-DD]]")]
    pub born: Option<String>,
    /// The country a national phone number is dialled in, e.g. `PK`.
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// Only under this agreement.
    #[arg(long, value_parser = AgreementId::new)]
    pub agreement: Option<AgreementId>,
    /// The report as JSON (as `POST /v1/match` gives it).
    #[arg(long)]
    pub json: bool,
}

/// Asks the running node to look the selector up, or to resolve a tag.
pub(super) fn run(a: &MatchArgs) -> Result<()> {
    let cfg = load(&a.config)?;
    let client = Client::for_node(&cfg)?;
    if let Some(tag) = &a.resolve {
        let body = json!({
            "agreement": a.agreement,
            "epoch": a.epoch,
            "tags": [tag],
        });
        let found: Vec<crate::matching::Resolved> =
            client.post_json("/v1/match/resolve", &body).map_err(|e| {
                anyhow::Error::new(e).context(format!(
                    "resolving needs the running node (is `accord run --config {}` running?)",
                    a.config.display()
                ))
            })?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&found)?);
        } else if found.is_empty() {
            println!(
                "tag {tag} is none of {}'s selectors under {} in {}: the set has changed since, or the tag is not this agency's",
                cfg.agency,
                a.agreement.as_ref().map_or("?", |x| x.as_str()),
                a.epoch.as_deref().unwrap_or("?")
            );
        } else {
            for r in &found {
                println!("{} {}: record(s) {}", r.kind, r.value, r.records.join(", "));
            }
        }
        return Ok(());
    }
    let body = json!({
        "selector": a.selector.as_deref().unwrap_or_default(),
        "born": a.born,
        "country": a.country,
        "agreement": a.agreement,
    });
    let report: MatchReport = client.post_json("/v1/match", &body).map_err(|e| {
        anyhow::Error::new(e).context(format!(
            "matching needs the running node (is `accord run --config {}` running?)",
            a.config.display()
        ))
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print!("{}", render(&report, &a.config));
    Ok(())
}

/// The report in words.
pub(crate) fn render(r: &MatchReport, config: &std::path::Path) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}: {} selector(s) looked up at {} holder(s); each holder learns only that a lookup \
         of that many selectors was made",
        r.kind,
        printable(&r.looked_up),
        r.selectors,
        r.results.len()
    );
    let _ = writeln!(
        out,
        "{:<12} {:<14} {:<14} RESULT",
        "HOLDER", "AGREEMENT", "EPOCH"
    );
    for h in &r.results {
        let result = match &h.outcome {
            Outcome::Hit => "HIT: it holds something on this selector".to_owned(),
            Outcome::Miss => "no hit".to_owned(),
            Outcome::Refused { code, detail } => {
                format!("refused (code {code}): {}", printable(detail))
            }
            Outcome::Invalid { detail } => {
                format!(
                    "INVALID answer, neither hit nor miss: {}",
                    printable(detail)
                )
            }
            Outcome::Unreachable { detail } => format!("not asked: {}", printable(detail)),
        };
        let _ = writeln!(
            out,
            "{:<12} {:<14} {:<14} {result}",
            h.holder.as_str(),
            h.agreement.as_str(),
            h.epoch
        );
    }
    for h in r.results.iter().filter(|h| h.outcome == Outcome::Hit) {
        let Some(req) = &h.request else { continue };
        let _ = writeln!(
            out,
            "\nA hit is a lead, not a disclosure. To ask {}'s focal point{} what it holds \
             (nothing is sent until you run it):\n  accord request --config {} --agreement {} \
             --to {} --summary {}\nThe request reaches every member of {}: it names the tag, \
             which {} resolves and the others cannot; add --selector only if every member may \
             see the selector.",
            h.holder,
            h.focal_point
                .as_deref()
                .map(|f| format!(" ({})", printable(f)))
                .unwrap_or_default(),
            shell_word(&config.display().to_string()),
            req.agreement,
            req.to,
            shell_word(&req.summary),
            req.agreement,
            h.holder,
        );
    }
    out
}

/// Partner text on a terminal: control characters and bidirectional overrides shown as
/// U+FFFD.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { '\u{fffd}' } else { c }
        })
        .collect()
}

/// A word quoted for a POSIX shell.
fn shell_word(text: &str) -> String {
    format!("'{}'", printable(text).replace('\'', r"'\''"))
}
