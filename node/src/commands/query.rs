//! `accord query` and `accord show`: reading the store, or asking the running node that holds
//! it. Both paths print the same [`RecordView`]s.

use std::path::Path;

use accord_protocol::Record;
use anyhow::Result;

use super::node::{Node, Opened, refuse};
use crate::api::client::Lookup;
use crate::api::view::{Filters, RecordView};
use crate::cli::QueryArgs;
use crate::page::{MAX_LIMIT, Page, PageError, PageRequest};
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

/// Runs a query and prints a page of it (or every page with `--all`) as a table or JSON lines.
pub fn query(args: &QueryArgs) -> Result<()> {
    let f = filters(args);
    let q = f
        .parse()
        .map_err(|e| refuse(format!("--{}", e.filter), e.reason))?;
    let mut req =
        PageRequest::parse(args.limit.as_deref(), args.cursor.as_deref()).map_err(|e| {
            refuse(
                if matches!(e, PageError::Limit(_)) {
                    "--limit"
                } else {
                    "--cursor"
                },
                e,
            )
        })?;
    if args.all {
        req.limit = MAX_LIMIT;
    }
    let opened = Node::open_or_api(&args.config)?;
    let fetch = |req: &PageRequest| -> Result<Page<RecordView>> {
        match &opened {
            Opened::Local(node) => {
                RecordView::page(&node.store, &q, req)?.map_err(|e| refuse("--cursor", e))
            }
            Opened::Api(node) => node
                .client
                .query(&f, req)
                .map_err(|e| node.fail("query", e)),
        }
    };
    let mut shown = 0usize;
    let mut header = !args.json;
    loop {
        let page = fetch(&req)?;
        for view in &page.items {
            if args.json {
                println!("{}", serde_json::to_string(view)?);
                continue;
            }
            if header {
                println!(
                    "{:<12}  {:<20}  {:<10}  {:<18}  {:<24}  {:<2}  {:<5}  {:<10}  SUMMARY",
                    "ID",
                    "CREATED",
                    "ORIGINATOR",
                    "AGREEMENT:SEQ",
                    "CATEGORY",
                    "H",
                    "GRADE",
                    "STATUS"
                );
                header = false;
            }
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
        shown += page.items.len();
        match page.next {
            Some(next) if args.all => req.cursor = Some(next),
            Some(next) => {
                // the next page's command, on stderr so JSON lines stay clean
                if !args.json {
                    println!("{shown} record(s) shown; there are more");
                }
                eprintln!("next page: add --cursor {next}");
                return Ok(());
            }
            None => break,
        }
    }
    if !args.json {
        if shown == 0 {
            println!("no records match");
        } else {
            println!("{shown} record(s)");
        }
    }
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
