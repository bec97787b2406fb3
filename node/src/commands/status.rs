//! `accord status`: the running node's state and alarms, from its API.

use std::path::Path;

use anyhow::Result;

use super::node::load;
use crate::api::client::Client;
use crate::net::StatusReport;
use crate::net::alarms::Severity;

/// Prints the running node's status, or says that no node answers (exit 3).
pub(super) fn status(config: &Path, json: bool) -> Result<()> {
    let cfg = load(config)?;
    let client = Client::for_node(&cfg)?;
    let report: StatusReport = client.get_json("/v1/status", &[]).map_err(|e| {
        anyhow::Error::new(e).context(format!(
            "no running node answers for {} (is `accord run --config {}` running?)",
            cfg.agency,
            config.display()
        ))
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print!("{}", render(&report));
    Ok(())
}

/// The status in words, as `accord status` prints it.
pub(super) fn render(r: &StatusReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let agency = r.agency.as_ref().map_or("?", |a| a.as_str());
    let _ = writeln!(
        out,
        "accord node {agency}: running; {} record(s) held; connected: {}",
        r.records,
        list(r.connected.iter().map(|a| a.as_str()))
    );
    let _ = writeln!(out, "agreements:");
    for (id, a) in &r.agreements {
        let state = match &a.why_not {
            None => "in effect".to_owned(),
            Some(why) => format!("NOT in effect: {why}"),
        };
        let _ = writeln!(out, "  {:<14} {state}", id.as_str());
        if !a.confirmed_with.is_empty() {
            let _ = writeln!(
                out,
                "  {:<14} same text as {}",
                "",
                list(a.confirmed_with.iter().map(|a| a.as_str()))
            );
        }
        if !a.mismatched_with.is_empty() {
            let _ = writeln!(
                out,
                "  {:<14} DIFFERENT text at {}",
                "",
                list(a.mismatched_with.iter().map(|a| a.as_str()))
            );
        }
    }
    let waiting: Vec<String> = r
        .outbox
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(a, n)| format!("{a} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "outbox: {}",
        if waiting.is_empty() {
            "empty".to_owned()
        } else {
            format!("{} record(s) waiting", waiting.join(", "))
        }
    );
    for (id, at) in &r.last_catch_up {
        let _ = writeln!(out, "caught up under {id} at {at}");
    }
    if r.alarms.is_empty() {
        let _ = writeln!(out, "alarms: none");
    } else {
        let _ = writeln!(out, "alarms: {}", r.alarms.len());
        for a in &r.alarms {
            let level = match a.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "WARN ",
            };
            let times = if a.count > 1 {
                format!(", seen {} times", a.count)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {level} {} {} (since {}{times}): {}",
                a.kind.as_str(),
                a.subject,
                a.since,
                a.message
            );
        }
    }
    out
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}
