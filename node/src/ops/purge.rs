//! Purging records past their agreement's retention, counted from the record's `created` time
//! as `policy::within_retention` states it (docs/model-mou.md clause 7): the rule by which
//! nodes refuse to send or accept such a record, so none is kept longer than it may move. A
//! tombstone keeps each purged record's id, hash and seq.

use accord_config::NodeConfig;
use accord_protocol::{RecordId, Timestamp};
use serde::{Deserialize, Serialize};

use super::OpError;
use crate::policy::DenyReason;
use crate::store::{Store, Tombstone};

/// What `accord purge` asks (`POST /v1/purge`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct PurgeRequest {
    /// Only list what would be purged.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a purge found and did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Purged {
    /// Whether nothing was removed.
    pub dry_run: bool,
    /// The records past retention, with why.
    pub due: Vec<(RecordId, String)>,
    /// Their tombstones, once purged (empty on a dry run).
    pub tombstones: Vec<Tombstone>,
    /// Records under agreements the node no longer lists: kept, their retention unknown.
    pub unknown: usize,
}

impl Purged {
    /// Prints it as `accord purge` does: a line per record, a summary, a warning on stderr.
    pub(crate) fn print(&self) {
        if self.unknown > 0 {
            eprintln!(
                "warning: {} record(s) are under agreements this node no longer lists; their \
                 retention is unknown and they are kept",
                self.unknown
            );
        }
        if self.dry_run {
            for (id, why) in &self.due {
                println!("would purge {id}: {why}");
            }
            println!("{} record(s) would be purged", self.due.len());
            return;
        }
        for t in &self.tombstones {
            println!("purged {}: {}", t.id, t.reason);
        }
        println!(
            "{} record(s) purged; a tombstone keeps each one's id, hash and seq",
            self.tombstones.len()
        );
    }
}

/// Finds every record past retention and, unless `dry_run`, purges each (one batch with its
/// tombstone and audit entry, flushed), calling `progress` with (done, total) as it goes.
pub(crate) fn purge(
    store: &Store,
    cfg: &NodeConfig,
    req: PurgeRequest,
    now: Timestamp,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Purged, OpError> {
    let mut out = Purged {
        dry_run: req.dry_run,
        ..Purged::default()
    };
    for rec in store.queries().all_records()? {
        let Some(agreement) = cfg.agreements.get(&rec.record.agreement) else {
            out.unknown += 1;
            continue;
        };
        if let Err(DenyReason::PastRetention { until, .. }) =
            crate::policy::within_retention(&rec.record, agreement, now)
        {
            out.due.push((
                rec.id,
                format!(
                    "retention of {} ({} days) ended {}",
                    agreement.id, agreement.retention_days, until
                ),
            ));
        }
    }
    if req.dry_run {
        return Ok(out);
    }
    let total = out.due.len() as u64;
    for (i, (id, why)) in out.due.iter().enumerate() {
        for t in store.records().purge(&[*id], now, why)? {
            tracing::info!(
                id = %t.id,
                agreement = %t.agreement,
                originator = %t.originator,
                seq = t.seq.get(),
                reason = %t.reason,
                "purged; tombstone kept"
            );
            out.tombstones.push(t);
        }
        progress(i as u64 + 1, total);
    }
    if total > 0 {
        tracing::info!(purged = out.tombstones.len(), "purge done");
    }
    Ok(out)
}
