//! The audit screen, for auditors and administrators: the log newest first, filtered by kind,
//! account and record; the checkpoints exchanged with the partners; and the audit export
//! (docs/auditing.md) to download as one tar file that `accord audit verify` reads once
//! unpacked.

use accord_protocol::audit::{AuditEntry, AuditEvent, Signed};

use super::*;
use crate::audit::kind_name;

/// Entries per page.
const ENTRIES: usize = 100;
/// The most entries one page looks through for matches before it stops and offers the next.
const SCAN: usize = 200_000;

/// Every kind an entry can have, for the filter.
const KINDS: &[&str] = &[
    "publish",
    "viewed",
    "send",
    "send-batch",
    "delivered",
    "delivered-push",
    "receive",
    "receive-batch",
    "reject",
    "withheld",
    "purge",
    "export",
    "config",
    "key",
    "agreement-signature",
    "revocation",
    "delegation",
    "equivocation",
    "slot",
    "account",
];

#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    record: String,
    #[serde(default)]
    before: String,
}

struct EntryRow {
    index: u64,
    time: String,
    kind: &'static str,
    by: String,
    what: String,
}

#[derive(Clone)]
struct CheckpointRow {
    agency: String,
    slot: String,
    time: String,
    head: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    filters: AuditQuery,
    kinds: &'static [&'static str],
    rows: Vec<EntryRow>,
    next: Option<String>,
    count: u64,
    partners: Vec<CheckpointRow>,
    error: Option<String>,
}

/// Whether the role reads the audit log here.
fn may_audit(who: &Who) -> bool {
    who.role.may_read_audit()
}

/// The account an event names as having acted, if any.
fn by_of(event: &AuditEvent) -> Option<&str> {
    match event {
        AuditEvent::Publish { by, .. }
        | AuditEvent::Account { by, .. }
        | AuditEvent::Delegation { by, .. }
        | AuditEvent::Revocation { by, .. }
        | AuditEvent::Release { by, .. }
        | AuditEvent::LookupMade { by, .. } => by.as_deref(),
        AuditEvent::Viewed { by, .. } => Some(by),
        _ => None,
    }
}

/// The event's fields but its kind, as `k=v` words.
fn what_of(event: &AuditEvent) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(event) else {
        return String::new();
    };
    map.iter()
        .filter(|(k, _)| *k != "kind" && *k != "by")
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn slot_row(s: &Signed) -> Option<CheckpointRow> {
    let c: accord_protocol::audit::SlotCheckpoint = serde_json::from_slice(&s.bytes).ok()?;
    Some(CheckpointRow {
        agency: c.agency.to_string(),
        slot: c.slot.to_string(),
        time: c.time.to_string(),
        head: c.head.to_string(),
    })
}

/// `GET /audit`
pub(super) async fn audit(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Query(q): Query<AuditQuery>,
) -> Response {
    if !may_audit(&who) {
        return error_page(
            &c,
            &who,
            StatusCode::FORBIDDEN,
            format!(
                "a {} account does not read the audit log; auditors do",
                who.role
            ),
        );
    }
    let store = c.handle.store().clone();
    let filters = q.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let before = match filters.before.trim() {
            "" => None,
            b => Some(
                b.parse::<u64>()
                    .map_err(|_| format!("`{b}` is not an entry number"))?,
            ),
        };
        let kind = filters.kind.trim();
        if !kind.is_empty() && !KINDS.contains(&kind) {
            return Err(format!(
                "`{kind}` is not a kind of entry; the kinds are {}",
                KINDS.join(", ")
            ));
        }
        let account = filters.account.trim();
        let record = filters.record.trim().to_ascii_lowercase();
        let mut rows = Vec::new();
        let mut next = None;
        for (scanned, item) in store.log().audit_entries_newest_first(before).enumerate() {
            let (index, bytes) = item.map_err(|e| e.to_string())?;
            if scanned >= SCAN || rows.len() == ENTRIES {
                next = Some(index + 1);
                break;
            }
            let entry = AuditEntry::decode(&bytes)
                .map_err(|e| format!("entry {index} does not decode: {e}"))?;
            let name = kind_name(&entry.event);
            if !kind.is_empty() && name != kind {
                continue;
            }
            let by = by_of(&entry.event).unwrap_or("");
            if !account.is_empty() && by != account {
                continue;
            }
            let what = what_of(&entry.event);
            if !record.is_empty() && !what.contains(&record) {
                continue;
            }
            rows.push(EntryRow {
                index,
                time: entry.time.to_string(),
                kind: name,
                by: by.to_owned(),
                what,
            });
        }
        let count = store.log().audit_head().map_err(|e| e.to_string())?.count;
        // each partner's latest slot checkpoint, and how many it has given
        let mut latest: std::collections::BTreeMap<String, (u64, CheckpointRow, usize)> =
            std::collections::BTreeMap::new();
        for s in store
            .checkpoints()
            .partner_checkpoints()
            .map_err(|e| e.to_string())?
        {
            let Some(row) = slot_row(&s) else { continue };
            let slot: u64 = row.slot.parse().unwrap_or(0);
            let e = latest.entry(row.agency.clone()).or_insert((
                slot,
                CheckpointRow { ..row.clone() },
                0,
            ));
            e.2 += 1;
            if slot >= e.0 {
                e.0 = slot;
                e.1 = row;
            }
        }
        let partners: Vec<CheckpointRow> = latest
            .into_values()
            .map(|(_, mut row, n)| {
                row.slot = format!("{} ({n} held)", row.slot);
                row
            })
            .collect();
        Ok((rows, next, count, partners))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let (rows, next, count, partners, error) = match found {
        Ok((rows, next, count, partners)) => (rows, next, count, partners, None),
        Err(e) => (Vec::new(), None, 0, Vec::new(), Some(e)),
    };
    let next = next.map(|before| {
        let before = before.to_string();
        let mut pairs = vec![
            ("kind", q.kind.as_str()),
            ("account", q.account.as_str()),
            ("record", q.record.as_str()),
        ];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.push(("before", before.as_str()));
        format!("/audit?{}", query_string(&pairs))
    });
    let mut res = render(&AuditPage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "audit",
        filters: q,
        kinds: KINDS,
        rows,
        next,
        count,
        partners,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
}

/// `GET /audit/export.tar`: the audit export, built now (with a checkpoint signed for it), as
/// one tar file of the export directory's files.
pub(super) async fn export(State(c): St, axum::Extension(who): axum::Extension<Who>) -> Response {
    if !may_audit(&who) {
        return error_page(
            &c,
            &who,
            StatusCode::FORBIDDEN,
            format!(
                "a {} account does not export the audit log; auditors do",
                who.role
            ),
        );
    }
    let h = c.handle.clone();
    let account = who.name.clone();
    let built = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, String), String> {
        let now = clock::now();
        let built = crate::audit::build(h.store(), &h.config(), h.key(), now)
            .map_err(|e| e.to_string())?;
        let dir = format!(
            "accord-audit-{}-{}",
            built.summary.agency,
            now.to_string().replace(':', "")
        );
        let mut tar = tar::Builder::new(Vec::new());
        tar.mode(tar::HeaderMode::Deterministic);
        for f in &built.files {
            let mut header = tar::Header::new_gnu();
            header.set_size(f.bytes.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(u64::try_from(now.unix()).unwrap_or(0));
            tar.append_data(&mut header, format!("{dir}/{}", f.name), f.bytes.as_slice())
                .map_err(|e| e.to_string())?;
        }
        let bytes = tar.into_inner().map_err(|e| e.to_string())?;
        tracing::info!(%account, entries = built.summary.entries, "audit export downloaded through the console");
        Ok((bytes, dir))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match built {
        Ok((bytes, dir)) => (
            [
                (CONTENT_TYPE, "application/x-tar".to_owned()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{dir}.tar\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(&c, &who, StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}
