//! `accord purge`: records past their agreement's retention go, tombstones stay.

use std::path::Path;

use anyhow::Result;

use super::node::{Node, now};
use crate::policy::DenyReason;

/// Removes (or with `dry_run` lists) every record past its agreement's retention, counted
/// from the record's `created` time as `policy::within_retention` states it — the rule by
/// which nodes refuse to send or accept a record past retention, and the one the model MoU's
/// clause 7 states — so a record is never kept here longer than it may move.
pub fn purge(config: &Path, dry_run: bool) -> Result<()> {
    let node = Node::open(config)?;
    let now = now()?;
    let mut due: Vec<(accord_protocol::RecordId, String)> = Vec::new();
    let mut unknown = 0usize;
    for rec in node.store.all_records()? {
        let Some(agreement) = node.cfg.agreements.get(&rec.record.agreement) else {
            unknown += 1;
            continue;
        };
        if let Err(DenyReason::PastRetention { until, .. }) =
            crate::policy::within_retention(&rec.record, agreement, now)
        {
            due.push((
                rec.id,
                format!(
                    "retention of {} ({} days) ended {}",
                    agreement.id, agreement.retention_days, until
                ),
            ));
        }
    }
    if unknown > 0 {
        eprintln!(
            "warning: {unknown} record(s) are under agreements this node no longer lists; their retention is unknown and they are kept"
        );
    }
    if dry_run {
        for (id, why) in &due {
            println!("would purge {id}: {why}");
        }
        println!("{} record(s) would be purged", due.len());
        return Ok(());
    }
    let mut purged = 0;
    for (id, why) in &due {
        for t in node.store.purge(&[*id], now, why)? {
            tracing::info!(
                id = %t.id,
                agreement = %t.agreement,
                originator = %t.originator,
                seq = t.seq.get(),
                reason = %t.reason,
                "purged; tombstone kept"
            );
            println!("purged {}: {}", t.id, t.reason);
            purged += 1;
        }
    }
    println!("{purged} record(s) purged; a tombstone keeps each one's id, hash and seq");
    Ok(())
}
