//! `accord query` and `accord show`: reading the store, or asking the running node that holds
//! it. Both paths print the same [`RecordView`]s.

use std::path::Path;

use accord_protocol::Record;
use anyhow::Result;

use super::node::{Node, Opened, refuse};
use crate::api::client::Lookup;
use crate::api::view::{Filters, RecordView};
use crate::cli::QueryArgs;
use crate::store::Tombstone;

/// The filters of the command line.
fn filters(args: &QueryArgs) -> Filters {
    Filters {
        agreement: args.agreement.clone(),
        subject: args.subject.clone(),
        category: args.category.clone(),
        country: args.country.clone(),
        role: args.role.clone(),
        since: args.since.clone(),
    }
}

/// Runs a query and prints a table or JSON lines.
pub fn query(args: &QueryArgs) -> Result<()> {
    let f = filters(args);
    let q = f
        .parse()
        .map_err(|e| refuse(format!("--{}", e.filter), e.reason))?;
    let found = match Node::open_or_api(&args.config)? {
        Opened::Local(node) => RecordView::query(&node.store, &q)?,
        Opened::Api(node) => node.client.query(&f).map_err(|e| node.fail("query", e))?,
    };
    if args.json {
        for view in &found {
            println!("{}", serde_json::to_string(view)?);
        }
        return Ok(());
    }
    if found.is_empty() {
        println!("no records match");
        return Ok(());
    }
    println!(
        "{:<12}  {:<20}  {:<10}  {:<18}  {:<24}  {:<2}  {:<5}  {:<10}  SUMMARY",
        "ID", "CREATED", "ORIGINATOR", "AGREEMENT:SEQ", "CATEGORY", "H", "GRADE", "STATUS"
    );
    for view in &found {
        let r: Record = view.parsed()?;
        println!(
            "{:<12}  {:<20}  {:<10}  {:<18}  {:<24}  {:<2}  {:<5}  {:<10}  {}",
            view.id.short(),
            r.created.to_string(),
            r.originator.as_str(),
            format!("{}:{}", r.agreement, r.seq),
            r.category.as_str(),
            r.handling.as_str(),
            r.grading.to_string(),
            view.status,
            one_line(&r.summary, 60),
        );
    }
    println!("{} record(s)", found.len());
    Ok(())
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Shows one record, or the tombstone of a purged one.
pub fn show(config: &Path, id: &str) -> Result<()> {
    let found = match Node::open_or_api(config)? {
        Opened::Local(node) => {
            let id = node.resolve(id).map_err(|e| refuse("record", e))?;
            match node.store.get(&id)? {
                Some(rec) => Lookup::Found(Box::new(RecordView::of(&node.store, &rec)?)),
                None => match node.store.tombstone(&id)? {
                    Some(t) => Lookup::Purged(t),
                    None => return Err(refuse(format!("record {id}"), "not in this store")),
                },
            }
        }
        Opened::Api(node) => node.client.record(id).map_err(|e| node.fail("record", e))?,
    };
    match found {
        Lookup::Found(view) => print_record(&view),
        Lookup::Purged(t) => {
            print_tombstone(&t);
            Ok(())
        }
    }
}

fn print_tombstone(t: &Tombstone) {
    println!("record {}: PURGED at {} ({})", t.id, t.purged_at, t.reason);
    println!(
        "  agreement {} originator {} seq {}",
        t.agreement, t.originator, t.seq
    );
    println!("  envelope sha-256 {}", t.envelope_sha256);
}

fn print_record(view: &RecordView) -> Result<()> {
    let r = view.parsed()?;
    println!("record     {}", view.id);
    println!("originator {} (signed with {})", r.originator, view.signer);
    if let Some(d) = &view.delegation {
        println!(
            "delegated  signed by {}, posted in {}, under certificate {}",
            d.holder,
            d.host_country,
            &d.certificate[..16]
        );
        if let Some(t) = d.revoked {
            println!(
                "           the delegation is REVOKED from {t}; this record was created {} and \
                 stays valid",
                r.created
            );
        }
    }
    println!("agreement  {} seq {}", r.agreement, r.seq);
    println!("stored     {} from {}", view.received_at, view.source);
    for reference in &view.referenced_by {
        let what = match reference.kind.as_str() {
            "withdraws" => "WITHDRAWN by",
            "corrects" => "corrected by",
            _ => "answered by",
        };
        println!("status     {what} {}", reference.id);
    }
    println!("{}", serde_json::to_string_pretty(&view.record)?);
    Ok(())
}
