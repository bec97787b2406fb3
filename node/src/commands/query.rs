//! `accord query` and `accord show`: reading the store, or asking the running node that holds
//! it. Both paths print the same [`RecordView`]s.

use std::path::Path;

use accord_protocol::Record;
use anyhow::Result;

use super::node::{Node, Opened, refuse};
use crate::api::client::Lookup;
use crate::api::view::{Filters, RecordView, SearchFailure, SearchPage};
use crate::cli::QueryArgs;
use crate::page::{MAX_LIMIT, Page, PageError, PageRequest};
use crate::search::{SearchError, SearchText};
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

/// The search terms of the command line.
fn search_text(args: &QueryArgs) -> SearchText {
    SearchText {
        person: args.person.clone(),
        born: args.born.clone(),
        fuzzy: args.fuzzy,
        phone: args.phone.clone(),
        phone_country: args.phone_country.clone(),
        account: args.account.clone(),
        document: args.document.clone(),
        issuer: args.issuer.clone(),
        vessel: args.vessel.clone(),
        text: args.text.clone(),
    }
}

/// Runs a query and prints a page of it (or every page with `--all`) as a table or JSON lines;
/// with a search term (`--person`, `--phone`, …), the hits ranked by score with their reasons.
pub(super) fn query(args: &QueryArgs) -> Result<()> {
    let text = search_text(args);
    if text.any()
        || args.born.is_some()
        || args.fuzzy
        || args.phone_country.is_some()
        || args.issuer.is_some()
    {
        return search(args, &text);
    }
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

/// A search: parsed here first, so a bad term is named before the store is opened.
fn search(args: &QueryArgs, text: &SearchText) -> Result<()> {
    if let Err(e) = text.parse() {
        return Err(match e {
            SearchError::Invalid { option, reason } => refuse(format!("--{option}"), reason),
            other => other.into(),
        });
    }
    let f = filters(args);
    f.parse()
        .map_err(|e| refuse(format!("--{}", e.filter), e.reason))?;
    if args.cursor.is_some() {
        return Err(refuse(
            "--cursor",
            "a search has no pages: raise --limit (at most 1000)",
        ));
    }
    let limit = match (&args.limit, args.all) {
        (_, true) => MAX_LIMIT,
        (Some(l), _) => {
            PageRequest::parse(Some(l), None)
                .map_err(|e| refuse("--limit", e))?
                .limit
        }
        (None, false) => crate::page::DEFAULT_LIMIT,
    };
    let page = match Node::open_or_api(&args.config)? {
        Opened::Local(node) => match SearchPage::run(&node.store, text, &f, limit) {
            Ok(p) => p,
            Err(SearchFailure::Invalid(why)) => return Err(refuse("search", why)),
            Err(SearchFailure::Stale(why)) => return Err(refuse("search", why)),
            Err(SearchFailure::View(e)) => return Err(e.into()),
        },
        Opened::Api(node) => node
            .client
            .search(text, &f, limit)
            .map_err(|e| node.fail("search", e))?,
    };
    if args.json {
        for hit in &page.hits {
            println!("{}", serde_json::to_string(hit)?);
        }
    } else {
        if !page.hits.is_empty() {
            println!(
                "{:>5}  {:<12}  {:<20}  {:<10}  {:<18}  {:<24}  SUMMARY",
                "SCORE", "ID", "CREATED", "ORIGINATOR", "AGREEMENT:SEQ", "CATEGORY"
            );
        }
        for hit in &page.hits {
            let r: Record = hit.record.parsed()?;
            println!(
                "{:>5}  {:<12}  {:<20}  {:<10}  {:<18}  {:<24}  {}",
                hit.score,
                hit.record.id.short(),
                r.created.to_string(),
                r.originator.as_str(),
                format!("{}:{}", r.agreement, r.seq),
                r.category.as_str(),
                one_line(&r.summary, 60),
            );
            for why in &hit.reasons {
                println!("{:>5}  why: {}", "", one_line(why, 200));
            }
        }
        match page.hits.len() {
            0 => println!("no records match"),
            n => println!("{n} record(s)"),
        }
    }
    if page.more > 0 {
        eprintln!(
            "{} more hit(s) below these: raise --limit (at most {MAX_LIMIT}) or narrow the search",
            page.more
        );
    }
    if page.truncated {
        eprintln!(
            "the search named more than {} candidates and read only those: narrow it (a fuller \
             name, --born, or a filter)",
            crate::search::MAX_CANDIDATES
        );
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
pub(super) fn show(config: &Path, id: &str) -> Result<()> {
    let found = match Node::open_or_api(config)? {
        Opened::Local(node) => {
            let id = node.resolve(id).map_err(|e| refuse("record", e))?;
            match node.store.records().get(&id)? {
                Some(rec) => {
                    let held = node.cfg.agreements.keys().cloned().collect();
                    Lookup::Found(Box::new(RecordView::with_links(&node.store, &rec, &held)?))
                }
                None => match node.store.records().tombstone(&id)? {
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
    if !view.links.is_empty() {
        println!(
            "shares a selector with {} other record(s):",
            view.links.len()
        );
        for link in &view.links {
            println!(
                "  {}  {:<12}  {}",
                link.id.short(),
                link.agreement,
                link.shared.join("; ")
            );
        }
    }
    Ok(())
}

/// `accord copy-store`: copies a stopped node's store into a new data directory on another
/// engine, checks the copy, and says what to change in the node file.
pub(super) fn copy_store(
    config: &Path,
    to: &Path,
    engine: accord_config::StoreEngine,
) -> Result<()> {
    let node = match Node::open_or_api(config)? {
        Opened::Local(node) => node,
        Opened::Api(_) => {
            return Err(refuse(
                "copy-store",
                "the node is running; stop it first (a copy of a store in use would not be \
                 consistent)",
            ));
        }
    };
    let from = node.store.path().to_path_buf();
    let total = node.store.entries()?;
    let mut progress = crate::progress::Progress::new("copy", "entries", total);
    let copied = node.store.copy_to(to, engine, |n| progress.set(n, total))?;
    progress.finish();
    println!(
        "copied {copied} entries of {} into {} on {engine}, and checked each\n\
         next: in {} set\n  data_dir = \"{}\"\n  store_engine = \"{engine}\"\n\
         start the node, check `accord status`, and keep {} until you no longer need it",
        from.display(),
        to.display(),
        config.display(),
        to.display(),
        from.display(),
    );
    Ok(())
}

/// `accord reindex`: rebuilds every index of a stopped node's store from the records held —
/// once, after an upgrade whose release notes ask for it (docs/search.md, "Reindexing").
pub(super) fn reindex(config: &Path) -> Result<()> {
    let node = match Node::open_or_api(config)? {
        Opened::Local(node) => node,
        Opened::Api(_) => {
            return Err(refuse(
                "reindex",
                "the node is running; stop it first (the indexes are rebuilt with the store \
                 closed to everything else)",
            ));
        }
    };
    let total = node.store.records().len() as u64;
    let mut progress = crate::progress::Progress::new("reindex", "records", total);
    let done = node.store.index().reindex(|n| progress.set(n, total))?;
    progress.finish();
    println!(
        "reindexed {done} record(s) in {}: subjects, names, words, categories, routes, \
         created times and references",
        node.store.path().display()
    );
    Ok(())
}
