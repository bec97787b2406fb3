//! The audit export: a log built in a real store is exported and verifies; deleting,
//! reordering, editing or inserting one entry, cutting the end, breaking a receipt or leaving
//! a delivery without one makes verify fail and name the place; a partner's checkpoint catches
//! a rewritten history; the worked example of docs/auditing.md is checked against the code.
//! The fixtures here; the cases by what they check in the files beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod example;
mod exports;
mod partners;
mod policy;
mod receipts;

use crate::common;

use common::accord;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use accord_config::NodeConfig;
use accord_node::audit::{
    AuditProblem, AuditReport, ExportError, Manifest, ManifestFile, export, verify_export,
};
use accord_node::draft::parse_draft;
use accord_node::publish::{directory, publish_draft};
use accord_node::store::{Delivery, Source, Store};
use accord_protocol::audit::{
    AUDIT_DOMAIN, AuditEntry, AuditEvent, CHECKPOINT_DOMAIN, Checkpoint, Digest32, RECEIPT_DOMAIN,
    Receipt, SLOT_CHECKPOINT_DOMAIN, SentContent, SentRecord, Signed, SlotCheckpoint, entry_hash,
    sha256, sign_checkpoint, sign_receipt, sign_slot_checkpoint, verify_checkpoint, verify_receipt,
    verify_slot_checkpoint,
};
use accord_protocol::{AgencyId, AgreementId, RecordId, SecretKey, Timestamp, verify};

// ---- a federation on disk and a log in a real store --------------------------------------

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

fn agreement(s: &str) -> AgreementId {
    AgreementId::new(s).unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// examples/quad written into a temporary directory.
fn federation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    dir
}

fn config(fed: &Path, who: &str) -> NodeConfig {
    let path = fed.join(who).join("node.toml");
    let mut cfg = accord_config::load_node(&path, &|p: &Path| std::fs::read(p))
        .unwrap_or_else(|e| panic!("{e}"));
    // the agreements' signature files verified, as a node does before it shares under them
    accord_node::agreements::prepare(&mut cfg, Some(&key(fed, who).public_key()), None).unwrap();
    cfg
}

fn key(fed: &Path, who: &str) -> SecretKey {
    SecretKey::from_key_file(&std::fs::read_to_string(fed.join(who).join("agency.key")).unwrap())
        .unwrap()
}

/// One agency's store, configuration and key.
struct Node {
    cfg: NodeConfig,
    key: SecretKey,
    store: Store,
}

fn open(fed: &Path, who: &str) -> Node {
    let cfg = config(fed, who);
    let store = Store::open(&cfg.data_dir).unwrap();
    store.bind_agency(&cfg.agency).unwrap();
    Node {
        key: key(fed, who),
        cfg,
        store,
    }
}

/// The same agency with a second, empty data directory (to build another history).
fn open_elsewhere(fed: &Path, who: &str, data: &Path) -> Node {
    let mut cfg = config(fed, who);
    cfg.data_dir = data.to_owned();
    let store = Store::open(data).unwrap();
    store.bind_agency(&cfg.agency).unwrap();
    Node {
        key: key(fed, who),
        cfg,
        store,
    }
}

fn draft(agreement: &str, summary: &str) -> accord_node::draft::Draft {
    let json = serde_json::json!({
        "agreement": agreement,
        "category": "alert",
        "handling": "H1",
        "grading": "B2",
        "summary": summary,
    });
    parse_draft(json.to_string().as_bytes()).unwrap()
}

fn publish(n: &Node, agreement: &str, summary: &str, now: Timestamp) -> RecordId {
    publish_draft(&n.store, &n.cfg, &n.key, &draft(agreement, summary), now).unwrap()
}

/// What a node's start logs: its configuration and key.
fn start_entries(n: &Node, now: Timestamp) {
    let config = accord_node::audit::config_event(&n.cfg);
    let key = AuditEvent::Key {
        public_key: n.key.public_key(),
    };
    n.store.log().audit_start(now, config, key).unwrap();
}

/// Sends `record` to `to` and records `to`'s signed receipt, as the network actor does.
fn send_and_deliver(n: &Node, to: &Node, record: RecordId, agreement: &str, now: Timestamp) {
    let held = n.store.records().get(&record).unwrap().unwrap();
    n.store
        .log()
        .audit(
            now,
            vec![AuditEvent::Send {
                record,
                agreement: self::agreement(agreement),
                originator: n.cfg.agency.clone(),
                to: to.cfg.agency.clone(),
                content: Some(SentContent::of(&held.record)),
            }],
        )
        .unwrap();
    let receipt = sign_receipt(
        &Receipt {
            record,
            agreement: self::agreement(agreement),
            receiver: to.cfg.agency.clone(),
            received_at: now,
        },
        &to.key,
    )
    .unwrap();
    let event = AuditEvent::Delivered {
        record,
        agreement: self::agreement(agreement),
        to: to.cfg.agency.clone(),
        receipt: sha256(&receipt.bytes),
    };
    n.store
        .outbox()
        .delivered(
            now,
            vec![Delivery {
                outbox: None,
                record,
                receiver: to.cfg.agency.clone(),
                receipt,
            }],
            vec![event],
        )
        .unwrap();
}

/// A log with every kind of entry a node writes: configuration and key, publishes under both
/// agreements, sends with receipts, a record received from Pakistan, a rejection.
fn build_log(fed: &Path) -> (Node, Node, Node) {
    let tr = open(fed, "tr-jgk");
    let gr = open(fed, "gr-hcg");
    let pk = open(fed, "pk-fia");
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    start_entries(&tr, t("09:00:00"));
    let r1 = publish(
        &tr,
        "QUAD-2026",
        "Boat departure expected from Çeşme.",
        t("09:30:00"),
    );
    let r2 = publish(
        &tr,
        "TR-BG-2026",
        "Crossing point used at night.",
        t("09:31:00"),
    );
    send_and_deliver(&tr, &gr, r1, "QUAD-2026", t("09:30:05"));
    let _ = r2;
    // a record of Pakistan's, received from Pakistan
    let pk_id = publish(&pk, "QUAD-2026", "Group of 20 left Quetta.", t("09:40:00"));
    let env = pk.store.records().get(&pk_id).unwrap().unwrap().envelope;
    let verified = verify(env, &directory(&tr.cfg, &tr.key)).unwrap();
    tr.store
        .records()
        .insert_batch(&[verified], &Source::Peer(agency("PK-FIA")), t("09:40:02"))
        .unwrap();
    tr.store
        .log()
        .audit(
            t("09:41:00"),
            vec![AuditEvent::Reject {
                from: agency("IR-FARAJA"),
                code: 2,
                reason: "signature does not verify (strict ed25519)".into(),
            }],
        )
        .unwrap();
    let r3 = publish(
        &tr,
        "QUAD-2026",
        "Vessel Deniz seen at Ayvalık.",
        t("09:50:00"),
    );
    send_and_deliver(&tr, &gr, r3, "QUAD-2026", t("09:50:03"));
    (tr, gr, pk)
}

fn export_to(n: &Node, dir: &Path, now: &str) {
    export(&n.store, &n.cfg, &n.key, ts(now), dir).unwrap();
}

/// A fresh federation with the log built and exported; returns the export directory.
fn exported() -> (tempfile::TempDir, PathBuf) {
    let fed = federation();
    let out = fed.path().join("audit-tr");
    {
        let (tr, _, _) = build_log(fed.path());
        export_to(&tr, &out, "2026-11-28T10:00:00Z");
    }
    (fed, out)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the export whose `file` went through `edit` (as lines, without newlines).
fn tampered(export: &Path, file: &str, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let dir = export.with_file_name(format!(
        "tampered-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    copy_dir(export, &dir);
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    edit(&mut lines);
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(dir.join(file), out).unwrap();
    dir
}

fn verify_alone(dir: &Path) -> AuditReport {
    verify_export(dir, &[])
}

fn log_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The line number (from 1) of the first log line containing `needle`.
fn line_of(dir: &Path, needle: &str) -> usize {
    log_lines(dir)
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no log line holds {needle}"))
        + 1
}

/// The policy fields of an H1 alert without victim data created at `created`.
fn alert_content(created: &str) -> SentContent {
    SentContent {
        category: accord_protocol::Category::Alert,
        handling: accord_protocol::HandlingCode::H1,
        created: ts(created),
        expires: None,
        victim_data: false,
        victim_purpose: None,
    }
}

fn first(report: &AuditReport) -> &AuditProblem {
    assert!(!report.is_ok(), "{report}");
    report.first_problem().unwrap()
}

/// Recomputes the manifest's file hashes after a deliberate change, so only the change itself
/// is under test.
fn refresh_manifest(dir: &Path) {
    let path = dir.join("manifest.json");
    let mut m: Manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for f in &mut m.files {
        f.sha256 = sha256(&std::fs::read(dir.join(&f.name)).unwrap());
    }
    std::fs::write(path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// Appends the same few entries to a log, the second of which says `reason`.
fn history(n: &Node, reason: &str) {
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    start_entries(n, t("08:00:00"));
    n.store
        .log()
        .audit(
            t("08:10:00"),
            vec![AuditEvent::Reject {
                from: agency("IR-FARAJA"),
                code: 4,
                reason: reason.into(),
            }],
        )
        .unwrap();
    publish(n, "QUAD-2026", "Boat departure expected.", t("08:20:00"));
}
