//! `accord query` and `accord show`: reading the store.

use std::path::Path;

use accord_protocol::{AgreementId, Category, Country, LegRole, Timestamp};
use anyhow::Result;

use super::node::{Node, refuse};
use crate::cli::QueryArgs;
use crate::store::{Query, Source, StoredRecord, SubjectQuery};

/// Parses the filters; each bad one is refused with what was expected.
fn filters(args: &QueryArgs) -> Result<Query> {
    let bad = |flag: &str, e: &dyn std::fmt::Display| refuse(flag, e);
    Ok(Query {
        agreement: args
            .agreement
            .as_deref()
            .map(AgreementId::new)
            .transpose()
            .map_err(|e| bad("--agreement", &e))?,
        subject: args
            .subject
            .as_deref()
            .map(SubjectQuery::parse)
            .transpose()
            .map_err(|e| bad("--subject", &e))?,
        category: args
            .category
            .as_deref()
            .map(Category::parse)
            .transpose()
            .map_err(|e| bad("--category", &e))?,
        country: match &args.country {
            None => None,
            Some(c) => {
                let country = Country::new(c).map_err(|e| bad("--country", &e))?;
                let role = args
                    .role
                    .as_deref()
                    .map(LegRole::parse)
                    .transpose()
                    .map_err(|e| bad("--role", &e))?;
                Some((country, role))
            }
        },
        since: args
            .since
            .as_deref()
            .map(parse_since)
            .transpose()
            .map_err(|e| bad("--since", &e))?,
    })
}

/// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`.
fn parse_since(s: &str) -> Result<Timestamp, String> {
    if s.len() == 10 {
        return accord_protocol::Date::parse(s)
            .map(|d| d.start())
            .map_err(|e| e.to_string());
    }
    Timestamp::parse(s).map_err(|e| format!("{e} (or give a date YYYY-MM-DD)"))
}

/// Runs a query and prints a table or JSON lines.
pub fn query(args: &QueryArgs) -> Result<()> {
    let q = filters(args)?;
    let node = Node::open(&args.config)?;
    let found = node.store.query(&q)?;
    if args.json {
        for rec in &found {
            println!("{}", serde_json::to_string(&json_line(&node, rec)?)?);
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
    for rec in &found {
        let r = &rec.record;
        println!(
            "{:<12}  {:<20}  {:<10}  {:<18}  {:<24}  {:<2}  {:<5}  {:<10}  {}",
            rec.id.short(),
            r.created.to_string(),
            r.originator.as_str(),
            format!("{}:{}", r.agreement, r.seq),
            r.category.as_str(),
            r.handling.as_str(),
            r.grading.to_string(),
            status(&node, rec)?,
            one_line(&r.summary, 60),
        );
    }
    println!("{} record(s)", found.len());
    Ok(())
}

/// `withdrawn`, `corrected`, `withdrawal`, `correction` or empty.
fn status(node: &Node, rec: &StoredRecord) -> Result<&'static str> {
    let refs = node.store.references_to(&rec.id)?;
    Ok(if refs.iter().any(|(k, _)| *k == "withdraws") {
        "withdrawn"
    } else if refs.iter().any(|(k, _)| *k == "corrects") {
        "corrected"
    } else if rec.record.withdraws.is_some() {
        "withdrawal"
    } else if rec.record.corrects.is_some() {
        "correction"
    } else {
        ""
    })
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

fn source_text(s: &Source) -> String {
    match s {
        Source::Local => "local".into(),
        Source::Peer(a) => a.to_string(),
    }
}

fn json_line(node: &Node, rec: &StoredRecord) -> Result<serde_json::Value> {
    let record: serde_json::Value = serde_json::from_slice(rec.envelope.record_bytes())?;
    let refs: serde_json::Map<String, serde_json::Value> = node
        .store
        .references_to(&rec.id)?
        .into_iter()
        .map(|(k, by)| (format!("{k}_by"), serde_json::Value::String(by.to_hex())))
        .collect();
    Ok(serde_json::json!({
        "id": rec.id.to_hex(),
        "received_at": rec.received_at.to_string(),
        "source": source_text(&rec.source),
        "status": status(node, rec)?,
        "referenced": refs,
        "record": record,
    }))
}

/// Shows one record, or the tombstone of a purged one.
pub fn show(config: &Path, id: &str) -> Result<()> {
    let node = Node::open(config)?;
    let id = node.resolve(id).map_err(|e| refuse("record", e))?;
    let Some(rec) = node.store.get(&id)? else {
        if let Some(t) = node.store.tombstone(&id)? {
            println!("record {id}: PURGED at {} ({})", t.purged_at, t.reason);
            println!(
                "  agreement {} originator {} seq {}",
                t.agreement, t.originator, t.seq
            );
            println!("  envelope sha-256 {}", t.envelope_sha256);
            return Ok(());
        }
        return Err(refuse(format!("record {id}"), "not in this store"));
    };
    let r = &rec.record;
    println!("record     {id}");
    println!(
        "originator {} (signed with {})",
        r.originator,
        rec.envelope.signer().key()
    );
    println!("agreement  {} seq {}", r.agreement, r.seq);
    println!(
        "stored     {} from {}",
        rec.received_at,
        source_text(&rec.source)
    );
    for (kind, by) in node.store.references_to(&id)? {
        let what = match kind {
            "withdraws" => "WITHDRAWN by",
            "corrects" => "corrected by",
            _ => "answered by",
        };
        println!("status     {what} {by}");
    }
    let value: serde_json::Value = serde_json::from_slice(rec.envelope.record_bytes())?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}
