//! The audit export: a log built in a real store is exported and verifies; deleting,
//! reordering, editing or inserting one entry, cutting the end, breaking a receipt or leaving
//! a delivery without one makes verify fail and name the place; a partner's checkpoint catches
//! a rewritten history; the worked example of docs/auditing.md is checked against the code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

// ---- an honest export ----------------------------------------------------------------------

#[test]
fn an_export_of_a_real_log_verifies() {
    let (_fed, out) = exported();
    for f in [
        "manifest.json",
        "log.jsonl",
        "checkpoints.txt",
        "partner-checkpoints.txt",
        "receipts.txt",
        "keys.json",
        "agreements/QUAD-2026.toml",
        "agreements/TR-BG-2026.toml",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let report = verify_alone(&out);
    assert!(report.is_ok(), "{report}");
    let kinds: BTreeMap<&str, usize> = report.kinds.clone();
    assert_eq!(kinds["config"], 1);
    assert_eq!(kinds["key"], 1);
    assert_eq!(kinds["publish"], 3);
    assert_eq!(kinds["send"], 2);
    assert_eq!(kinds["delivered"], 2);
    assert_eq!(kinds["receive-batch"], 1);
    assert_eq!(kinds["reject"], 1);
    assert_eq!(report.lines, 11);
    assert_eq!(report.receipts, 2);
    assert_eq!(report.own_checkpoints, 1);
    let text = report.to_string();
    assert!(text.contains("audit export of TR-JGK"), "{text}");
    assert!(text.contains("audit export verified"), "{text}");
    // the manifest's head is the signed head
    let m: Manifest =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m.entries, 11);
    let last = log_lines(&out).pop().unwrap();
    assert_eq!(m.head, entry_hash(last.as_bytes()));
    // each line is the entry's exact canonical bytes
    for line in log_lines(&out) {
        let e = AuditEntry::decode(line.as_bytes()).unwrap();
        assert_eq!(e.encode().unwrap(), line.as_bytes());
    }
}

#[test]
fn export_refuses_a_non_empty_directory_and_signs_its_head() {
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    let out = fed.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("something"), b"x").unwrap();
    let err = export(
        &tr.store,
        &tr.cfg,
        &tr.key,
        ts("2026-11-28T10:00:00Z"),
        &out,
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::NotEmpty(_)), "{err}");
    assert!(err.to_string().contains("is not empty"), "{err}");
    // an empty existing directory is fine; the export's checkpoint is the store's latest
    let empty = fed.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let before = tr.store.log().audit_head().unwrap();
    let summary = export(
        &tr.store,
        &tr.cfg,
        &tr.key,
        ts("2026-11-28T10:00:00Z"),
        &empty,
    )
    .unwrap();
    assert_eq!(summary.entries, before.count);
    assert_eq!(summary.head, before.hash);
    assert_eq!(
        tr.store.log().audit_head().unwrap(),
        before,
        "export wrote entries"
    );
    assert_eq!(
        tr.store.checkpoints().latest_checkpoint().unwrap().unwrap(),
        summary.checkpoint
    );
    // a key that is not the one the log names is refused
    let other = SecretKey::from_seed(&[9; 32]);
    let err = export(
        &tr.store,
        &tr.cfg,
        &other,
        ts("2026-11-28T10:00:00Z"),
        &fed.path().join("x"),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::WrongKey { .. }), "{err}");
}

// ---- one entry deleted, reordered, edited, inserted; the end cut ---------------------------

#[test]
fn deleting_one_entry_is_named() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| {
        l.remove(4);
    });
    let report = verify_alone(&bad);
    assert_eq!(
        first(&report),
        &AuditProblem::Missing {
            line: 5,
            from: 4,
            to: 4,
            found: 5
        },
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("FAIL log.jsonl line 5: entry 4 is missing (deleted)"),
        "{report}"
    );
}

#[test]
fn reordering_two_entries_is_named() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| l.swap(6, 7));
    let report = verify_alone(&bad);
    assert_eq!(
        first(&report),
        &AuditProblem::Reordered {
            line: 7,
            found: 7,
            expected: 6,
            later: 8
        },
        "{report}"
    );
    assert!(report.to_string().contains("entries were reordered"));
}

#[test]
fn editing_one_byte_of_an_entry_is_named() {
    let (_fed, out) = exported();
    // a digit of the rejection's reason: still canonical JSON, so only the hash tells
    let line = line_of(&out, "\"kind\":\"reject\"");
    let bad = tampered(&out, "log.jsonl", |l| {
        l[line - 1] = l[line - 1].replace("\"code\":2", "\"code\":3");
    });
    let report = verify_alone(&bad);
    match first(&report) {
        AuditProblem::Altered {
            line: l,
            index,
            next_line,
            ..
        } => {
            assert_eq!(*l, line, "{report}");
            assert_eq!(*index, line as u64 - 1);
            assert_eq!(*next_line, line + 1);
        }
        other => panic!("expected the altered entry, got {other}\n{report}"),
    }
    assert!(
        report.to_string().contains(&format!(
            "FAIL log.jsonl line {line}: entry {} was altered",
            line - 1
        )),
        "{report}"
    );

    // a digit of a record id in a send entry
    let line = line_of(&out, "\"kind\":\"send\"");
    let bad = tampered(&out, "log.jsonl", |l| {
        let at = l[line - 1].find("\"record\":\"").unwrap() + 10;
        let mut bytes = l[line - 1].clone().into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        l[line - 1] = String::from_utf8(bytes).unwrap();
    });
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::Altered { line: l, .. } if *l == line),
        "{report}"
    );

    // the last entry: no successor names it, the signed head does
    let last = log_lines(&out).len();
    let bad = tampered(&out, "log.jsonl", |l| {
        let s = &mut l[last - 1];
        *s = s.replace(
            "\"time\":\"2026-11-28T09:50:03Z\"",
            "\"time\":\"2026-11-28T09:50:04Z\"",
        );
    });
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::HeadMismatch { line: l, index, .. } if *l == last && *index == last as u64 - 1),
        "{report}"
    );

    // a byte that makes the line non-canonical
    let bad = tampered(&out, "log.jsonl", |l| l[2] = l[2].replacen(',', ", ", 1));
    let report = verify_alone(&bad);
    assert!(
        matches!(
            first(&report),
            AuditProblem::Unreadable {
                line: 3,
                index: Some(2),
                ..
            }
        ),
        "{report}"
    );
}

#[test]
fn inserting_a_copied_entry_is_named() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| {
        let copy = l[2].clone();
        l.insert(6, copy);
    });
    let report = verify_alone(&bad);
    assert_eq!(
        first(&report),
        &AuditProblem::Inserted {
            line: 7,
            index: 2,
            first: 3,
            copy: true
        },
        "{report}"
    );
    assert!(
        report.to_string().contains(
            "log.jsonl line 7: a second entry 2 (a copy of line 3): an entry was inserted"
        )
    );
}

#[test]
fn cutting_the_end_is_named_even_when_the_manifest_is_fixed() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| {
        l.pop();
    });
    let report = verify_alone(&bad);
    assert!(
        matches!(
            first(&report),
            AuditProblem::Truncated {
                lines: 10,
                count: 11,
                ..
            }
        ),
        "{report}"
    );
    assert!(
        report.to_string().contains("entry 10 is cut off the end"),
        "{report}"
    );
    // the manifest rewritten to match: the signed checkpoint still counts 11
    let lines = log_lines(&bad);
    let bad = tampered(&bad, "manifest.json", |l| {
        let mut m: Manifest = serde_json::from_str(&l.join("\n")).unwrap();
        m.entries = 10;
        m.head = entry_hash(lines.last().unwrap().as_bytes());
        *l = vec![serde_json::to_string_pretty(&m).unwrap()];
    });
    let report = verify_alone(&bad);
    assert!(
        report.problems.iter().any(|p| matches!(p,
            AuditProblem::Truncated { lines: 10, count: 11, by } if by.contains("checkpoint"))),
        "{report}"
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, AuditProblem::HeadUnsigned { count: 10, .. })),
        "{report}"
    );
}

// ---- receipts ------------------------------------------------------------------------------

#[test]
fn a_broken_receipt_signature_is_reported() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "receipts.txt", |l| {
        let mut b = l[0].clone().into_bytes();
        b[10] = if b[10] == b'0' { b'1' } else { b'0' };
        l[0] = String::from_utf8(b).unwrap();
    });
    let report = verify_alone(&bad);
    assert!(
        report.problems.iter().any(|p| matches!(p,
            AuditProblem::BadReceipt { line: 1, reason } if reason.contains("does not verify"))),
        "{report}"
    );
    // and the chain is not blamed
    assert!(
        !report
            .problems
            .iter()
            .any(|p| p.to_string().starts_with("log.jsonl")),
        "{report}"
    );
}

/// How the deliveries of one push are logged.
#[derive(Clone, Copy)]
enum Logged {
    /// One `delivered-push` entry naming the records (what nodes write).
    Push,
    /// A `delivered` entry per record naming the batch receipt (logs of commit 86619eb).
    PerRecord,
}

/// Sends `records` to `to` in one push and records `to`'s one batch receipt over the ids in
/// `covered` (the ones it acknowledged), with the deliveries of `logged` logged as `how`.
fn push_with_batch_receipt(
    n: &Node,
    to: &Node,
    (covered, logged): (&[RecordId], &[RecordId]),
    how: Logged,
    now: Timestamp,
) {
    use accord_protocol::receipt::{BatchReceipt, sign_batch_receipt};
    let quad = agreement("QUAD-2026");
    let content = |record: &RecordId| {
        SentContent::of(&n.store.records().get(record).unwrap().unwrap().record)
    };
    // as this accord logs them (one `send-batch`), or as an older one did (a `send` each)
    let sends = match how {
        Logged::Push => vec![AuditEvent::SendBatch {
            agreement: quad.clone(),
            to: to.cfg.agency.clone(),
            records: logged
                .iter()
                .map(|record| SentRecord {
                    record: *record,
                    originator: n.cfg.agency.clone(),
                    content: content(record),
                })
                .collect(),
        }],
        Logged::PerRecord => logged
            .iter()
            .map(|record| AuditEvent::Send {
                record: *record,
                agreement: quad.clone(),
                originator: n.cfg.agency.clone(),
                to: to.cfg.agency.clone(),
                content: Some(content(record)),
            })
            .collect(),
    };
    n.store.log().audit(now, sends).unwrap();
    let receipt = sign_batch_receipt(
        &BatchReceipt::of(quad.clone(), to.cfg.agency.clone(), now, covered).unwrap(),
        &to.key,
    )
    .unwrap();
    let hash = sha256(&receipt.bytes);
    let deliveries = logged
        .iter()
        .map(|record| Delivery {
            outbox: None,
            record: *record,
            receiver: to.cfg.agency.clone(),
            receipt: receipt.clone(),
        })
        .collect();
    let events = match how {
        Logged::Push => vec![AuditEvent::DeliveredPush {
            records: logged.to_vec(),
            agreement: quad.clone(),
            to: to.cfg.agency.clone(),
            receipt: hash,
        }],
        Logged::PerRecord => logged
            .iter()
            .map(|record| AuditEvent::Delivered {
                record: *record,
                agreement: quad.clone(),
                to: to.cfg.agency.clone(),
                receipt: hash,
            })
            .collect(),
    };
    n.store.outbox().delivered(now, deliveries, events).unwrap();
}

/// Issue 22: one receipt signed for a push of n records, and one `delivered-push` entry,
/// prove to `accord audit verify` the delivery of each of them, and of no record outside it.
#[test]
fn a_batch_receipt_proves_each_record_it_covers_and_no_other() {
    let verify_with = |covered: usize, logged: &[usize], how: Logged| {
        let fed = federation();
        let tr = open(fed.path(), "tr-jgk");
        let gr = open(fed.path(), "gr-hcg");
        let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
        start_entries(&tr, t("09:00:00"));
        let ids: Vec<RecordId> = (0..4)
            .map(|i| publish(&tr, "QUAD-2026", &format!("Record {i}."), t("09:30:00")))
            .collect();
        let logged: Vec<RecordId> = logged.iter().map(|i| ids[*i]).collect();
        push_with_batch_receipt(&tr, &gr, (&ids[..covered], &logged), how, t("09:30:05"));
        let out = fed.path().join("audit");
        export_to(&tr, &out, "2026-11-28T10:00:00Z");
        let receipts = std::fs::read_to_string(out.join("receipts.txt")).unwrap();
        let pushes = log_lines(&out)
            .iter()
            .filter(|l| l.contains("\"kind\":\"delivered-push\""))
            .count();
        (verify_alone(&out), receipts.lines().count(), pushes)
    };
    for how in [Logged::Push, Logged::PerRecord] {
        // three records, one receipt: each delivery is proved, and the receipt exported once
        let (report, lines, pushes) = verify_with(3, &[0, 1, 2], how);
        assert!(report.problems.is_empty(), "{report}");
        assert_eq!((report.receipts, lines), (1, 1));
        assert_eq!(pushes, usize::from(matches!(how, Logged::Push)));
        // a delivery logged for a record the receipt does not cover is not proved by it
        let (report, _, _) = verify_with(3, &[0, 1, 2, 3], how);
        assert!(
            report.problems.iter().any(|p| matches!(p,
                AuditProblem::BatchReceiptMismatch { records: 3, reason, .. }
                    if reason.contains("do not hash to its root"))),
            "{report}"
        );
        // nor does a log that names fewer records than it covers, or names them out of order
        for logged in [&[0, 1][..], &[1, 0, 2][..]] {
            let (report, _, _) = verify_with(3, logged, how);
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| matches!(p, AuditProblem::BatchReceiptMismatch { .. })),
                "{logged:?}: {report}"
            );
        }
    }
}

#[test]
fn a_delivered_entry_without_its_receipt_is_reported() {
    // a receipt removed from the export
    let (_fed, out) = exported();
    let mut removed = String::new();
    let bad = tampered(&out, "receipts.txt", |l| {
        removed = l.remove(0);
    });
    let report = verify_alone(&bad);
    // the delivered entry naming the receipt removed
    let hash = sha256(&Signed::from_line(&removed).unwrap().bytes);
    let line = line_of(&out, &format!("\"receipt\":\"{hash}\""));
    assert!(
        report.problems.iter().any(|p| matches!(p,
            AuditProblem::MissingReceipt { line: l, .. } if *l == line)),
        "{report}"
    );

    // a delivered entry the node wrote without keeping a receipt
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    let record = RecordId::from_bytes([7; 32]);
    tr.store
        .log()
        .audit(
            ts("2026-11-28T09:55:00Z"),
            vec![AuditEvent::Delivered {
                record,
                agreement: agreement("QUAD-2026"),
                to: agency("GR-HCG"),
                receipt: Digest32([1; 32]),
            }],
        )
        .unwrap();
    let out = fed.path().join("audit");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    // the made-up entry also follows no send
    assert_eq!(report.problems.len(), 2, "{report}");
    assert!(
        matches!(&report.problems[0], AuditProblem::MissingReceipt { line: 12, index: 11, record: r, .. } if *r == record),
        "{report}"
    );
    assert!(
        matches!(&report.problems[1], AuditProblem::DeliveredWithoutSend { index: 11, record: r, .. } if *r == record),
        "{report}"
    );
}

#[test]
fn a_send_to_a_non_member_is_reported() {
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    tr.store
        .log()
        .audit(
            ts("2026-11-28T09:56:00Z"),
            vec![AuditEvent::Send {
                record: RecordId::from_bytes([7; 32]),
                agreement: agreement("QUAD-2026"),
                originator: agency("TR-JGK"),
                to: agency("BG-GDBP"),
                content: Some(alert_content("2026-11-28T09:55:00Z")),
            }],
        )
        .unwrap();
    let out = fed.path().join("audit");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert_eq!(
        report.problems,
        vec![AuditProblem::NotMember {
            line: 12,
            index: 11,
            kind: "send",
            role: "recipient",
            agency: agency("BG-GDBP"),
            agreement: agreement("QUAD-2026"),
        }],
        "{report}"
    );
}

/// Each record of a `send-batch` is checked as a `send` of it would be: its originator a
/// member, and the send policy at the entry's time; the problems name the record, not the
/// batch's other records.
#[test]
fn a_send_batch_is_checked_record_by_record() {
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    let fine = RecordId::from_bytes([7; 32]);
    let expired = RecordId::from_bytes([8; 32]);
    let stranger = RecordId::from_bytes([9; 32]);
    let at = "2026-11-28T09:56:00Z";
    let mut old = alert_content("2026-11-28T09:00:00Z");
    old.expires = Some(ts("2026-11-28T09:30:00Z"));
    tr.store
        .log()
        .audit(
            ts(at),
            vec![AuditEvent::SendBatch {
                agreement: agreement("QUAD-2026"),
                to: agency("GR-HCG"),
                records: vec![
                    SentRecord {
                        record: fine,
                        originator: agency("TR-JGK"),
                        content: alert_content("2026-11-28T09:55:00Z"),
                    },
                    SentRecord {
                        record: expired,
                        originator: agency("PK-FIA"),
                        content: old,
                    },
                    SentRecord {
                        record: stranger,
                        originator: agency("BG-GDBP"),
                        content: alert_content("2026-11-28T09:55:00Z"),
                    },
                ],
            }],
        )
        .unwrap();
    let out = fed.path().join("audit");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert_eq!(
        report.problems,
        vec![
            AuditProblem::NotMember {
                line: 12,
                index: 11,
                kind: "send-batch",
                role: "originator",
                agency: agency("BG-GDBP"),
                agreement: agreement("QUAD-2026"),
            },
            AuditProblem::SendNotAllowed {
                line: 12,
                index: 11,
                record: expired,
                agreement: agreement("QUAD-2026"),
                reason: "the record expired at 2026-11-28T09:30:00Z".into(),
            },
        ],
        "{report}"
    );
    assert_eq!(report.kinds["send-batch"], 1, "{report}");
}

// ---- partners' checkpoints -----------------------------------------------------------------

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

#[test]
fn a_partners_checkpoint_catches_a_rewritten_history() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    let honest_out = fed.path().join("audit-tr");
    let rewritten_out = fed.path().join("audit-tr-rewritten");
    let gr_out = fed.path().join("audit-gr");
    {
        // the history as it happened: Greece keeps Turkey's checkpoint of it
        let tr = open(fed.path(), "tr-jgk");
        history(&tr, "IR-FARAJA is not a member of TR-BG-2026");
        let early = tr
            .store
            .checkpoints()
            .checkpoint(&tr.key, t("08:30:00"))
            .unwrap();
        let c = verify_checkpoint(&early, |_| Some(tr.key.public_key())).unwrap();
        assert_eq!(c.count, 4);
        gr.store
            .checkpoints()
            .keep_partner_checkpoint(&c, &early)
            .unwrap();
        // later entries change nothing of what was signed
        publish(&tr, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&tr, &honest_out, "2026-11-28T09:00:00Z");

        // the same agency, a different history: entry 2 says something else, and the chain
        // was recomputed and re-signed with the same key
        let data = fed.path().join("rewritten-data");
        let forged = open_elsewhere(fed.path(), "tr-jgk", &data);
        history(&forged, "nothing was refused");
        forged
            .store
            .checkpoints()
            .checkpoint(&forged.key, t("08:30:00"))
            .unwrap();
        publish(&forged, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&forged, &rewritten_out, "2026-11-28T09:00:00Z");
    }
    export(&gr.store, &gr.cfg, &gr.key, t("09:05:00"), &gr_out).unwrap();

    // on its own, the rewritten export is consistent: only a partner's copy can tell
    let alone = verify_alone(&rewritten_out);
    assert!(alone.is_ok(), "{alone}");

    let honest = verify_export(&honest_out, std::slice::from_ref(&gr_out));
    assert!(honest.is_ok(), "{honest}");
    assert_eq!(honest.partners.len(), 1);
    assert_eq!(honest.partners[0].agency, Some(agency("GR-HCG")));
    assert_eq!(honest.partners[0].checkpoints, 1);
    assert_eq!(honest.partners[0].consistent, 1);

    let caught = verify_export(&rewritten_out, std::slice::from_ref(&gr_out));
    assert!(!caught.is_ok(), "{caught}");
    match first(&caught) {
        AuditProblem::Rewritten {
            partner,
            agency: a,
            count,
            ..
        } => {
            assert_eq!(partner, &agency("GR-HCG"));
            assert_eq!(a, &agency("TR-JGK"));
            assert_eq!(*count, 4);
        }
        other => panic!("expected a rewrite, got {other}\n{caught}"),
    }
    let text = caught.to_string();
    assert!(text.contains("TR-JGK REWROTE its history"), "{text}");
    assert!(text.contains("at or before entry 3"), "{text}");

    // a partner's checkpoint of more entries than the log holds, signed before the export:
    // the end was cut
    let cut = tampered(&honest_out, "log.jsonl", |l| l.truncate(3));
    let report = verify_export(&cut, std::slice::from_ref(&gr_out));
    assert!(
        report.problems.iter().any(|p| matches!(
            p,
            AuditProblem::PartnerTruncated {
                count: 4,
                lines: 3,
                ..
            }
        )),
        "{report}"
    );
}

/// What partners are given now is a slot checkpoint (docs/auditing.md §2): it names the hash
/// of the log's `slot` entry, and catches a rewritten history as the counted one did.
#[test]
fn a_partners_slot_checkpoint_catches_a_rewritten_history_also_from_a_partner_only_export() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    let honest_out = fed.path().join("audit-tr");
    let rewritten_out = fed.path().join("audit-tr-rewritten");
    let gr_out = fed.path().join("audit-gr");
    let slot = 2_993_088; // 2026-11-28T08:00:00Z: 1795852800 s / 600
    {
        let tr = open(fed.path(), "tr-jgk");
        history(&tr, "IR-FARAJA is not a member of TR-BG-2026");
        let signed = tr
            .store
            .checkpoints()
            .slot_checkpoint(&tr.key, slot, t("08:30:00"))
            .unwrap();
        let c = verify_slot_checkpoint(&signed, |_| Some(tr.key.public_key())).unwrap();
        assert_eq!(c.slot, slot);
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c, &signed)
            .unwrap();
        publish(&tr, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&tr, &honest_out, "2026-11-28T09:00:00Z");

        let data = fed.path().join("rewritten-data");
        let forged = open_elsewhere(fed.path(), "tr-jgk", &data);
        history(&forged, "nothing was refused");
        forged
            .store
            .checkpoints()
            .slot_checkpoint(&forged.key, slot, t("08:30:00"))
            .unwrap();
        publish(&forged, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&forged, &rewritten_out, "2026-11-28T09:00:00Z");
    }
    export(&gr.store, &gr.cfg, &gr.key, t("09:05:00"), &gr_out).unwrap();

    let alone = verify_alone(&rewritten_out);
    assert!(alone.is_ok(), "{alone}");
    let honest = verify_export(&honest_out, std::slice::from_ref(&gr_out));
    assert!(honest.is_ok(), "{honest}");
    assert_eq!(honest.partners[0].checkpoints, 1, "{honest}");
    assert_eq!(honest.partners[0].consistent, 1, "{honest}");

    let caught = verify_export(&rewritten_out, std::slice::from_ref(&gr_out));
    match first(&caught) {
        AuditProblem::RewrittenSlot {
            partner,
            agency: a,
            slot: s,
            actual: Some(_),
            ..
        } => {
            assert_eq!(partner, &agency("GR-HCG"));
            assert_eq!(a, &agency("TR-JGK"));
            assert_eq!(*s, slot);
        }
        other => panic!("expected a rewrite, got {other}\n{caught}"),
    }
    assert!(
        caught.to_string().contains("TR-JGK REWROTE its history"),
        "{caught}"
    );

    // a partner-only export of GR-HCG about TR-JGK does the same check and tells nothing else:
    // not GR-HCG's log, nor the checkpoints it keeps of PK-FIA
    {
        let pk = open(fed.path(), "pk-fia");
        let signed = pk
            .store
            .checkpoints()
            .slot_checkpoint(&pk.key, slot, t("08:31:00"))
            .unwrap();
        let c = verify_slot_checkpoint(&signed, |_| Some(pk.key.public_key())).unwrap();
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c, &signed)
            .unwrap();
    }
    let only = fed.path().join("audit-gr-about-tr");
    let built = accord_node::audit::build_partner_only(
        &gr.store,
        &gr.cfg,
        &gr.key,
        &agency("TR-JGK"),
        t("09:06:00"),
    )
    .unwrap();
    built.write(&only).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&only)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "keys.json",
            "manifest.json",
            "partner-checkpoints.txt",
            "partner-forks.txt"
        ]
    );
    let held = std::fs::read_to_string(only.join("partner-checkpoints.txt")).unwrap();
    assert_eq!(held.lines().count(), 1, "{held}");
    assert!(
        held.contains("TR-JGK") && !held.contains("PK-FIA"),
        "{held}"
    );
    let keys: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(only.join("keys.json")).unwrap()).unwrap();
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["GR-HCG", "TR-JGK"]);
    let manifest = std::fs::read_to_string(only.join("manifest.json")).unwrap();
    assert!(
        !manifest.contains("entries") && !manifest.contains("head"),
        "{manifest}"
    );
    let honest = verify_export(&honest_out, std::slice::from_ref(&only));
    assert!(honest.is_ok(), "{honest}");
    assert_eq!(honest.partners[0].consistent, 1, "{honest}");
    let caught = verify_export(&rewritten_out, std::slice::from_ref(&only));
    assert!(
        matches!(first(&caught), AuditProblem::RewrittenSlot { .. }),
        "{caught}"
    );
    let about_pk = fed.path().join("audit-gr-about-pk");
    accord_node::audit::build_partner_only(
        &gr.store,
        &gr.cfg,
        &gr.key,
        &agency("PK-FIA"),
        t("09:07:00"),
    )
    .unwrap()
    .write(&about_pk)
    .unwrap();
    let wrong = verify_export(&honest_out, std::slice::from_ref(&about_pk));
    assert!(
        wrong
            .to_string()
            .contains("it is a partner-only export about PK-FIA, not about TR-JGK"),
        "{wrong}"
    );

    // the slot entry cut from the log: nothing left for the partner's checkpoint to name
    let cut = tampered(&honest_out, "log.jsonl", |l| l.truncate(4));
    refresh_manifest(&cut);
    let report = verify_export(&cut, std::slice::from_ref(&gr_out));
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, AuditProblem::RewrittenSlot { actual: None, .. })),
        "{report}"
    );
}

#[test]
fn a_partners_forked_slot_checkpoints_are_exported_and_reported() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    start_entries(&gr, t("08:00:00"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut signed = Vec::new();
    for (data, reason) in [
        (a.path().join("data"), "first"),
        (b.path().join("data"), "second"),
    ] {
        let tr = open_elsewhere(fed.path(), "tr-jgk", data.as_path());
        history(&tr, reason);
        signed.push(
            tr.store
                .checkpoints()
                .slot_checkpoint(&tr.key, 7, t("08:30:00"))
                .unwrap(),
        );
    }
    let tr_key = key(fed.path(), "tr-jgk").public_key();
    let c0 = verify_slot_checkpoint(&signed[0], |_| Some(tr_key)).unwrap();
    let c1 = verify_slot_checkpoint(&signed[1], |_| Some(tr_key)).unwrap();
    assert_ne!(c0.head, c1.head);
    assert_eq!(
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c0, &signed[0])
            .unwrap(),
        accord_node::store::Kept::New
    );
    assert_eq!(
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c0, &signed[0])
            .unwrap(),
        accord_node::store::Kept::Known
    );
    assert!(matches!(
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c1, &signed[1])
            .unwrap(),
        accord_node::store::Kept::Forked { .. }
    ));
    let out = fed.path().join("audit-gr");
    export_to(&gr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert_eq!(
        report.problems,
        vec![AuditProblem::PartnerSlotFork {
            agency: agency("TR-JGK"),
            slot: 7,
            first_file: "partner-checkpoints.txt".into(),
            first: 1,
            file: "partner-forks.txt".into(),
            line: 1,
        }],
        "{report}"
    );
}

// ---- the worked example of docs/auditing.md ------------------------------------------------

const TR_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const GR_SEED: [u8; 32] = [2; 32];
/// The record of docs/protocol.md's `minimal` vector.
const RECORD: &str = "3005cf094fd41e60e522a9b45e301caf4fd260919027d657cd432c73f280dd52";

fn tr_key() -> SecretKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(TR_SEED, &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

struct Example {
    entries: Vec<Vec<u8>>,
    receipt: Signed,
    checkpoint: Signed,
}

/// The page's example, built with the code.
fn example() -> Example {
    let tr = agency("TR-JGK");
    let quad = agreement("QUAD-2026");
    let record: RecordId = RECORD.parse().unwrap();
    let receipt = sign_receipt(
        &Receipt {
            record,
            agreement: quad.clone(),
            receiver: agency("GR-HCG"),
            received_at: ts("2026-11-28T09:30:02Z"),
        },
        &SecretKey::from_seed(&GR_SEED),
    )
    .unwrap();
    let events = [
        (
            "2026-11-28T09:00:00Z",
            AuditEvent::Key {
                public_key: tr_key().public_key(),
            },
        ),
        (
            "2026-11-28T09:30:00Z",
            AuditEvent::Publish {
                record,
                agreement: quad.clone(),
                seq: accord_protocol::Seq::FIRST,
                withdraws: None,
                by: None,
            },
        ),
        (
            "2026-11-28T09:30:01Z",
            AuditEvent::Send {
                record,
                agreement: quad.clone(),
                originator: tr.clone(),
                to: agency("GR-HCG"),
                // the policy fields of the `minimal` record
                content: Some(alert_content("2026-11-28T09:30:00Z")),
            },
        ),
        (
            "2026-11-28T09:30:02Z",
            AuditEvent::Delivered {
                record,
                agreement: quad.clone(),
                to: agency("GR-HCG"),
                receipt: sha256(&receipt.bytes),
            },
        ),
    ];
    let mut entries = Vec::new();
    let mut prev = Digest32::ZERO;
    for (i, (time, event)) in events.into_iter().enumerate() {
        let bytes = AuditEntry {
            agency: tr.clone(),
            index: i as u64,
            prev,
            time: ts(time),
            event,
        }
        .encode()
        .unwrap();
        prev = entry_hash(&bytes);
        entries.push(bytes);
    }
    let checkpoint = sign_checkpoint(
        &Checkpoint {
            agency: tr,
            count: entries.len() as u64,
            head: prev,
            time: ts("2026-11-28T09:35:00Z"),
        },
        &tr_key(),
    )
    .unwrap();
    Example {
        entries,
        receipt,
        checkpoint,
    }
}

fn wrap(key: &str, hex: &str) -> String {
    hex.as_bytes()
        .chunks(64)
        .map(|c| format!("{key}: {}\n", std::str::from_utf8(c).unwrap()))
        .collect()
}

/// The page's ```` ```audit-vector ```` blocks as the code makes them.
fn example_blocks() -> String {
    let ex = example();
    let mut out = String::new();
    out.push_str("```audit-vector\nvector: keys\n");
    out.push_str(&format!("TR-JGK seed: {TR_SEED}\n"));
    out.push_str(&format!("TR-JGK public key: {}\n", tr_key().public_key()));
    out.push_str(&format!("GR-HCG seed: {}\n", hex::encode(GR_SEED)));
    out.push_str(&format!(
        "GR-HCG public key: {}\n",
        SecretKey::from_seed(&GR_SEED).public_key()
    ));
    out.push_str("```\n");
    for (i, bytes) in ex.entries.iter().enumerate() {
        out.push_str(&format!("```audit-vector\nvector: entry {i}\n"));
        out.push_str(&format!("entry: {}\n", String::from_utf8_lossy(bytes)));
        out.push_str(&wrap(
            "hashed",
            &hex::encode([AUDIT_DOMAIN, bytes.as_slice()].concat()),
        ));
        out.push_str(&format!("hash: {}\n```\n", entry_hash(bytes)));
    }
    for (name, s, domain) in [
        ("receipt", &ex.receipt, RECEIPT_DOMAIN),
        ("checkpoint", &ex.checkpoint, CHECKPOINT_DOMAIN),
    ] {
        out.push_str(&format!("```audit-vector\nvector: {name}\n"));
        out.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(&s.bytes)));
        out.push_str(&wrap(
            "signed message",
            &hex::encode([domain, s.bytes.as_slice()].concat()),
        ));
        out.push_str(&wrap("signature", &hex::encode(s.signature)));
        if name == "receipt" {
            out.push_str(&format!("sha256: {}\n", sha256(&s.bytes)));
        }
        out.push_str(&format!("line: {}\n```\n", s.to_line()));
    }
    // the next hour's slot entry, and the slot checkpoint partners are given of it
    let slot = 2_993_100; // 2026-11-28T10:00:00Z: 1795860000 s / 600
    let slot_entry = AuditEntry {
        agency: agency("TR-JGK"),
        index: ex.entries.len() as u64,
        prev: entry_hash(ex.entries.last().unwrap()),
        time: ts("2026-11-28T10:00:00Z"),
        event: AuditEvent::Slot { slot },
    }
    .encode()
    .unwrap();
    out.push_str("```audit-vector\nvector: slot entry\n");
    out.push_str(&format!(
        "entry: {}\n",
        String::from_utf8_lossy(&slot_entry)
    ));
    out.push_str(&wrap(
        "hashed",
        &hex::encode([AUDIT_DOMAIN, slot_entry.as_slice()].concat()),
    ));
    out.push_str(&format!("hash: {}\n```\n", entry_hash(&slot_entry)));
    let s = sign_slot_checkpoint(
        &SlotCheckpoint {
            agency: agency("TR-JGK"),
            slot,
            head: entry_hash(&slot_entry),
            time: ts("2026-11-28T10:00:00Z"),
        },
        &tr_key(),
    )
    .unwrap();
    out.push_str("```audit-vector\nvector: slot checkpoint\n");
    out.push_str(&format!(
        "slot checkpoint: {}\n",
        String::from_utf8_lossy(&s.bytes)
    ));
    out.push_str(&wrap(
        "signed message",
        &hex::encode([SLOT_CHECKPOINT_DOMAIN, s.bytes.as_slice()].concat()),
    ));
    out.push_str(&wrap("signature", &hex::encode(s.signature)));
    out.push_str(&format!("line: {}\n```\n", s.to_line()));
    // entry 2 as this accord writes it, and the entry of GR-HCG's log that stores the record
    for (name, bytes) in batch_entries(&ex) {
        out.push_str(&format!("```audit-vector\nvector: {name}\n"));
        out.push_str(&format!("entry: {}\n", String::from_utf8_lossy(&bytes)));
        out.push_str(&wrap(
            "hashed",
            &hex::encode([AUDIT_DOMAIN, bytes.as_slice()].concat()),
        ));
        out.push_str(&format!("hash: {}\n```\n", entry_hash(&bytes)));
    }
    out
}

/// The example's entry 2 as a `send-batch` (what this accord writes for the same hand-over),
/// and GR-HCG's `receive-batch` of the record, as the first entry of a log.
fn batch_entries(ex: &Example) -> [(&'static str, Vec<u8>); 2] {
    let record: RecordId = RECORD.parse().unwrap();
    let send = AuditEntry {
        agency: agency("TR-JGK"),
        index: 2,
        prev: entry_hash(&ex.entries[1]),
        time: ts("2026-11-28T09:30:01Z"),
        event: AuditEvent::SendBatch {
            agreement: agreement("QUAD-2026"),
            to: agency("GR-HCG"),
            records: vec![SentRecord {
                record,
                originator: agency("TR-JGK"),
                content: alert_content("2026-11-28T09:30:00Z"),
            }],
        },
    };
    let receive = AuditEntry {
        agency: agency("GR-HCG"),
        index: 0,
        prev: Digest32::ZERO,
        time: ts("2026-11-28T09:30:02Z"),
        event: AuditEvent::ReceiveBatch {
            agreement: agreement("QUAD-2026"),
            from: agency("TR-JGK"),
            records: vec![accord_protocol::audit::ReceivedRecord {
                record,
                originator: agency("TR-JGK"),
            }],
        },
    };
    [
        ("send-batch entry", send.encode().unwrap()),
        ("receive-batch entry", receive.encode().unwrap()),
    ]
}

fn page() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/auditing.md")).unwrap()
}

/// Every ```` ```audit-vector ```` block of the page as written, concatenated.
fn page_blocks() -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in page().lines() {
        if line.trim() == "```audit-vector" {
            inside = true;
            out.push_str("```audit-vector\n");
        } else if inside && line.trim() == "```" {
            inside = false;
            out.push_str("```\n");
        } else if inside {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// The page's blocks as `key: value` maps (wrapped values joined), by their `vector` line.
fn page_vectors() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut current: Option<BTreeMap<String, String>> = None;
    for line in page_blocks().lines() {
        if line == "```audit-vector" {
            current = Some(BTreeMap::new());
        } else if line == "```" {
            let v = current.take().unwrap();
            out.insert(v["vector"].clone(), v);
        } else if let Some(v) = current.as_mut() {
            let (k, val) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad vector line {line}"));
            v.entry(k.to_owned())
                .and_modify(|e: &mut String| e.push_str(val))
                .or_insert_with(|| val.to_owned());
        }
    }
    out
}

#[test]
fn the_worked_example_matches_the_code() {
    let expected = example_blocks();
    assert_eq!(
        page_blocks(),
        expected,
        "docs/auditing.md's audit-vector blocks differ from the code; the code makes:\n{expected}"
    );
}

#[test]
fn the_worked_example_checks_by_its_own_rules() {
    // independent of how the page was made: each stated value follows from the stated bytes
    let v = page_vectors();
    let tr_pk = tr_key().public_key();
    assert_eq!(v["keys"]["TR-JGK public key"], tr_pk.to_string());
    assert_eq!(
        hex::encode(&hex::decode(&v["entry 0"]["hashed"]).unwrap()[..AUDIT_DOMAIN.len()]),
        "6163636f72642f61756469742f763100"
    );
    let mut prev = Digest32::ZERO.to_string();
    for i in 0..4 {
        let e = &v[&format!("entry {i}")];
        let bytes = e["entry"].as_bytes();
        let entry = AuditEntry::decode(bytes).unwrap();
        assert_eq!(entry.index, i);
        assert_eq!(entry.prev.to_string(), prev);
        assert_eq!(
            hex::decode(&e["hashed"]).unwrap(),
            [AUDIT_DOMAIN, bytes].concat()
        );
        prev = entry_hash(bytes).to_string();
        assert_eq!(e["hash"], prev);
    }
    let keys = |a: &AgencyId| match a.as_str() {
        "TR-JGK" => Some(tr_pk),
        "GR-HCG" => Some(SecretKey::from_seed(&GR_SEED).public_key()),
        _ => None,
    };
    let receipt = Signed::from_line(&v["receipt"]["line"]).unwrap();
    assert_eq!(receipt.bytes, v["receipt"]["receipt"].as_bytes());
    verify_receipt(&receipt, keys).unwrap();
    assert_eq!(v["receipt"]["sha256"], sha256(&receipt.bytes).to_string());
    assert!(v["entry 3"]["entry"].contains(&v["receipt"]["sha256"]));
    let checkpoint = Signed::from_line(&v["checkpoint"]["line"]).unwrap();
    let c = verify_checkpoint(&checkpoint, keys).unwrap();
    assert_eq!((c.count, c.head.to_string()), (4, prev.clone()));
    // the slot entry follows entry 3; the slot checkpoint names its hash, and its slot is the
    // entry's time in 10-minute slots
    let e = &v["slot entry"];
    let slot_entry = AuditEntry::decode(e["entry"].as_bytes()).unwrap();
    assert_eq!((slot_entry.index, slot_entry.prev.to_string()), (4, prev));
    assert_eq!(
        hex::decode(&e["hashed"]).unwrap(),
        [AUDIT_DOMAIN, e["entry"].as_bytes()].concat()
    );
    assert_eq!(e["hash"], entry_hash(e["entry"].as_bytes()).to_string());
    let signed = Signed::from_line(&v["slot checkpoint"]["line"]).unwrap();
    assert_eq!(
        hex::decode(&v["slot checkpoint"]["signed message"]).unwrap(),
        [b"accord/slot-checkpoint/v1\0".as_slice(), &signed.bytes].concat()
    );
    let sc = verify_slot_checkpoint(&signed, keys).unwrap();
    assert_eq!(sc.head.to_string(), e["hash"]);
    assert_eq!(
        slot_entry.event,
        AuditEvent::Slot {
            slot: u64::try_from(slot_entry.time.unix()).unwrap() / 600
        }
    );
    assert_eq!(sc.slot, 2_993_100);
    // the `send-batch` says what entry 2 says, at the same place in the log
    let e = &v["send-batch entry"];
    let batch = AuditEntry::decode(e["entry"].as_bytes()).unwrap();
    let single = AuditEntry::decode(v["entry 2"]["entry"].as_bytes()).unwrap();
    assert_eq!(
        (batch.index, batch.prev, batch.time),
        (2, single.prev, single.time)
    );
    assert_eq!(batch.event.sent(), single.event.sent());
    assert_eq!(e["hash"], entry_hash(e["entry"].as_bytes()).to_string());
    let e = &v["receive-batch entry"];
    let received = AuditEntry::decode(e["entry"].as_bytes()).unwrap();
    let got = received.event.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].record.to_string(), RECORD);
    assert_eq!(
        (got[0].from.as_str(), got[0].originator.as_str()),
        ("TR-JGK", "TR-JGK")
    );
    assert_eq!(
        hex::decode(&e["hashed"]).unwrap(),
        [AUDIT_DOMAIN, e["entry"].as_bytes()].concat()
    );
    assert_eq!(e["hash"], entry_hash(e["entry"].as_bytes()).to_string());
}

/// The page's example written out as an export directory.
fn example_export(dir: &Path) {
    let ex = example();
    std::fs::create_dir_all(dir.join("agreements")).unwrap();
    let mut files = Vec::new();
    let mut put = |name: &str, bytes: Vec<u8>| {
        std::fs::write(dir.join(name), &bytes).unwrap();
        files.push(ManifestFile {
            name: name.to_owned(),
            sha256: sha256(&bytes),
        });
    };
    let log: Vec<u8> = ex
        .entries
        .iter()
        .flat_map(|e| [e.as_slice(), b"\n"].concat())
        .collect();
    put("log.jsonl", log);
    put(
        "checkpoints.txt",
        format!("{}\n", ex.checkpoint.to_line()).into_bytes(),
    );
    put("partner-checkpoints.txt", Vec::new());
    put("partner-forks.txt", Vec::new());
    put(
        "receipts.txt",
        format!("{}\n", ex.receipt.to_line()).into_bytes(),
    );
    // the other two members sign with the keys of seeds 03…03 and 04…04
    let members = [
        (agency("TR-JGK"), tr_key()),
        (agency("GR-HCG"), SecretKey::from_seed(&GR_SEED)),
        (agency("PK-FIA"), SecretKey::from_seed(&[3; 32])),
        (agency("IR-FARAJA"), SecretKey::from_seed(&[4; 32])),
    ];
    let keys: BTreeMap<AgencyId, _> = members
        .iter()
        .map(|(a, k)| (a.clone(), k.public_key()))
        .collect();
    put("keys.json", serde_json::to_vec_pretty(&keys).unwrap());
    // the log names TR-JGK's key in entry 0; it names no partner's
    let history: accord_node::audit::KeyHistory = [(
        agency("TR-JGK"),
        vec![accord_node::audit::KeyPeriod {
            key: tr_key().public_key(),
            from_index: 0,
            from_time: ts("2026-11-28T09:00:00Z"),
        }],
    )]
    .into();
    put(
        "key-history.json",
        serde_json::to_vec_pretty(&history).unwrap(),
    );
    let quad = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quad/agreements/quad-2026.toml"),
    )
    .unwrap();
    let hash = accord_protocol::agreement::agreement_hash(&quad);
    put("agreements/QUAD-2026.toml", quad);
    let sigs: String = members
        .iter()
        .map(|(a, k)| {
            accord_protocol::agreement::signature_line(
                a,
                &accord_protocol::agreement::sign_agreement(k, &hash),
            )
        })
        .collect();
    put("agreements/QUAD-2026.toml.sigs", sigs.into_bytes());
    let manifest = Manifest {
        format: "accord-audit-export".into(),
        version: 2,
        agency: agency("TR-JGK"),
        exported_at: ts("2026-11-28T09:35:00Z"),
        entries: 4,
        head: entry_hash(ex.entries.last().unwrap()),
        files,
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

#[test]
fn the_worked_example_is_an_export_that_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("example");
    example_export(&dir);
    let report = verify_alone(&dir);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.receipts, 1);
}

/// The page's ```` ```python ```` block.
fn python_snippet() -> String {
    let page = page();
    let start = page.find("```python\n").expect("no python block") + "```python\n".len();
    let end = start + page[start..].find("```").unwrap();
    page[start..end].to_owned()
}

#[test]
fn the_python_chain_check_agrees() {
    // Python 3 is needed (as for docs/verify_record.py)
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("check_chain.py");
    std::fs::write(&script, python_snippet()).unwrap();
    let run = |dir: &Path| -> Output {
        Command::new("python3")
            .arg(&script)
            .arg(dir)
            .output()
            .expect("python3 is needed for this test")
    };
    let (_fed, out) = exported();
    let ok = run(&out);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("chain OK: 11 entries"), "{stdout}");
    let example = tmp.path().join("example");
    example_export(&example);
    assert!(run(&example).status.success());
    // each tampering fails, naming the line
    for (edit, expected) in [
        (
            Box::new(|l: &mut Vec<String>| {
                l.remove(4);
            }) as Box<dyn FnOnce(&mut Vec<String>)>,
            "line 5",
        ),
        (Box::new(|l: &mut Vec<String>| l.swap(6, 7)), "line 7"),
        (
            Box::new(|l: &mut Vec<String>| l[5] = l[5].replacen("2026", "2025", 1)),
            "line 7",
        ),
        (
            Box::new(|l: &mut Vec<String>| {
                l.pop();
            }),
            "manifest",
        ),
    ] {
        let bad = tampered(&out, "log.jsonl", edit);
        let res = run(&bad);
        let stdout = String::from_utf8_lossy(&res.stdout);
        assert_eq!(res.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains(expected), "expected {expected}: {stdout}");
    }
}

// ---- the command line ----------------------------------------------------------------------

#[test]
fn the_cli_exports_verifies_and_exits_non_zero_on_tampering() {
    let fed = federation();
    let cfg = fed.path().join("tr-jgk/node.toml");
    let cfg = cfg.to_str().unwrap();
    let draft = fed.path().join("draft.json");
    std::fs::write(
        &draft,
        r#"{"agreement":"QUAD-2026","category":"alert","handling":"H1","grading":"B2","summary":"Boat departure expected."}"#,
    )
    .unwrap();
    for _ in 0..3 {
        let out = accord(&["publish", "--config", cfg, draft.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let checkpoint = accord(&["audit", "checkpoint", "--config", cfg]);
    let stdout = String::from_utf8_lossy(&checkpoint.stdout);
    assert!(checkpoint.status.success(), "{stdout}");
    // the first command logged the configuration, the agency's own signatures of its two
    // agreements and its key before it signed anything: 4 entries, then the 3 publishes
    assert!(
        stdout.contains("checkpoint of TR-JGK: 7 entries"),
        "{stdout}"
    );
    let line = stdout.lines().nth(1).unwrap();
    assert!(Signed::from_line(line).is_ok(), "{line}");
    let out = accord(&["publish", "--config", cfg, draft.to_str().unwrap()]);
    assert!(out.status.success());

    let dir = fed.path().join("audit");
    let d = dir.to_str().unwrap();
    let out = accord(&["audit", "export", "--config", cfg, "--out", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 entries"));
    let again = accord(&["audit", "export", "--config", cfg, "--out", d]);
    assert_eq!(again.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));

    let ok = accord(&["audit", "verify", d]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("audit export verified"), "{stdout}");
    assert!(stdout.contains("4 publish"), "{stdout}");
    assert!(
        stdout.contains("2 agreement-signature, 1 config, 1 key"),
        "{stdout}"
    );
    // both checkpoints (the one asked for and the export's) are in the export
    assert!(stdout.contains("checkpoints: 2 own"), "{stdout}");

    let bad = tampered(&dir, "log.jsonl", |l| {
        l.remove(1);
    });
    let failed = accord(&["audit", "verify", bad.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(failed.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL log.jsonl line 2: entry 1 is missing (deleted)"),
        "{stdout}"
    );
    assert!(stdout.contains("audit export FAILED"), "{stdout}");

    // --partner with an export that is not one
    let partner = fed.path().join("nothing");
    std::fs::create_dir(&partner).unwrap();
    let out = accord(&["audit", "verify", d, "--partner", partner.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("partner export"));
    let missing = accord(&["audit", "verify", fed.path().join("none").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
}

// ---- keys, forks and the send policy --------------------------------------------------------

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

#[test]
fn after_a_key_rotation_old_checkpoints_verify_with_the_key_then_in_force() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let tr = open(fed.path(), "tr-jgk");
    start_entries(&tr, t("08:00:00"));
    publish(&tr, "QUAD-2026", "Boat departure expected.", t("08:10:00"));
    let old = tr
        .store
        .checkpoints()
        .checkpoint(&tr.key, t("08:20:00"))
        .unwrap();
    // `accord keygen`, key_file pointed at the new key: the node logs it before using it
    let new_key = SecretKey::from_seed(&[77; 32]);
    tr.store
        .log()
        .audit_key(
            t("09:00:00"),
            AuditEvent::Key {
                public_key: new_key.public_key(),
            },
        )
        .unwrap();
    publish(&tr, "QUAD-2026", "Second departure.", t("09:10:00"));
    let out = fed.path().join("audit-rotated");
    export(&tr.store, &tr.cfg, &new_key, t("10:00:00"), &out).unwrap();
    let report = verify_alone(&out);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.own_checkpoints, 2, "{report}");
    let history: accord_node::audit::KeyHistory =
        serde_json::from_slice(&std::fs::read(out.join("key-history.json")).unwrap()).unwrap();
    let periods: Vec<_> = history[&agency("TR-JGK")].iter().map(|p| p.key).collect();
    assert_eq!(periods, [tr.key.public_key(), new_key.public_key()]);
    // the old checkpoint is there, signed with the old key
    let lines = std::fs::read_to_string(out.join("checkpoints.txt")).unwrap();
    assert!(lines.contains(&old.to_line()));

    // a checkpoint signed by a key the history does not hold fails
    let stranger = SecretKey::from_seed(&[78; 32]);
    let forged = sign_checkpoint(
        &verify_checkpoint(&old, |_| Some(tr.key.public_key())).unwrap(),
        &stranger,
    )
    .unwrap();
    let bad = tampered(&out, "checkpoints.txt", |l| l.push(forged.to_line()));
    refresh_manifest(&bad);
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::BadCheckpoint { file, line: 3, reason }
            if file == "checkpoints.txt" && reason.contains("does not verify")),
        "{report}"
    );
    // and so does a checkpoint of the whole log signed with the retired key
    let head = tr.store.log().audit_head().unwrap();
    let late = sign_checkpoint(
        &Checkpoint {
            agency: agency("TR-JGK"),
            count: head.count,
            head: head.hash,
            time: t("10:30:00"),
        },
        &tr.key,
    )
    .unwrap();
    let bad = tampered(&out, "checkpoints.txt", |l| l.push(late.to_line()));
    refresh_manifest(&bad);
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::BadCheckpoint { line: 3, .. }),
        "{report}"
    );
}

#[test]
fn a_partners_forked_checkpoints_are_exported_and_reported() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    start_entries(&gr, t("08:00:00"));
    // TR-JGK signs two different histories of the same length
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut signed = Vec::new();
    for (data, reason) in [
        (a.path().join("data"), "first"),
        (b.path().join("data"), "second"),
    ] {
        let data = data.as_path();
        let tr = open_elsewhere(fed.path(), "tr-jgk", data);
        history(&tr, reason);
        signed.push(
            tr.store
                .checkpoints()
                .checkpoint(&tr.key, t("08:30:00"))
                .unwrap(),
        );
    }
    let tr_key = key(fed.path(), "tr-jgk").public_key();
    let c0 = verify_checkpoint(&signed[0], |_| Some(tr_key)).unwrap();
    let c1 = verify_checkpoint(&signed[1], |_| Some(tr_key)).unwrap();
    assert_eq!(c0.count, c1.count);
    assert_ne!(c0.head, c1.head);
    assert_eq!(
        gr.store
            .checkpoints()
            .keep_partner_checkpoint(&c0, &signed[0])
            .unwrap(),
        accord_node::store::Kept::New
    );
    assert!(matches!(
        gr.store
            .checkpoints()
            .keep_partner_checkpoint(&c1, &signed[1])
            .unwrap(),
        accord_node::store::Kept::Forked { .. }
    ));
    let out = fed.path().join("audit-gr");
    export_to(&gr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert_eq!(
        report.problems,
        vec![AuditProblem::PartnerFork {
            agency: agency("TR-JGK"),
            count: c0.count,
            first_file: "partner-checkpoints.txt".into(),
            first: 1,
            file: "partner-forks.txt".into(),
            line: 1,
        }],
        "{report}"
    );
}

#[test]
fn a_send_of_a_category_its_agreement_does_not_permit_is_named() {
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    // TR-BG-2026 permits no vessel records
    let sent = SentContent {
        category: accord_protocol::Category::Vessel,
        ..alert_content("2026-11-28T09:55:00Z")
    };
    tr.store
        .log()
        .audit(
            ts("2026-11-28T09:56:00Z"),
            vec![AuditEvent::Send {
                record: RecordId::from_bytes([7; 32]),
                agreement: agreement("TR-BG-2026"),
                originator: agency("TR-JGK"),
                to: agency("BG-GDBP"),
                content: Some(sent),
            }],
        )
        .unwrap();
    let out = fed.path().join("audit");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert!(
        matches!(&report.problems[..], [AuditProblem::SendNotAllowed { line: 12, index: 11, record, agreement: a, reason }]
            if *record == RecordId::from_bytes([7; 32]) && a.as_str() == "TR-BG-2026"
                && reason.contains("does not permit category vessel")),
        "{report}"
    );
    assert!(
        report.to_string().contains("line 12 (entry 11, send)"),
        "{report}"
    );
}

#[test]
fn a_send_under_an_agreement_without_every_members_signature_fails() {
    let (_fed, out) = exported();
    // the export without PK-FIA's signature of QUAD-2026
    let bad = tampered(&out, "agreements/QUAD-2026.toml.sigs", |l| {
        l.retain(|line| !line.starts_with("PK-FIA"));
    });
    refresh_manifest(&bad);
    let report = verify_alone(&bad);
    assert!(
        report.problems.iter().all(|p| matches!(p,
            AuditProblem::SendNotAllowed { reason, .. } if reason.contains("by PK-FIA"))),
        "{report}"
    );
    assert_eq!(report.problems.len(), 2, "one per send entry: {report}");
}

#[test]
fn a_partners_key_change_is_logged_and_receipts_verify_with_the_key_of_their_time() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let mut tr = open(fed.path(), "tr-jgk");
    let gr = open(fed.path(), "gr-hcg");
    start_entries(&tr, t("08:00:00"));
    let r1 = publish(&tr, "QUAD-2026", "Before GR-HCG's new key.", t("08:10:00"));
    send_and_deliver(&tr, &gr, r1, "QUAD-2026", t("08:11:00"));
    // GR-HCG rotates; TR-JGK's operator enters its new key
    let gr_new = Node {
        key: SecretKey::from_seed(&[88; 32]),
        ..gr
    };
    tr.cfg
        .agencies
        .get_mut(&agency("GR-HCG"))
        .unwrap()
        .public_key = gr_new.key.public_key();
    accord_node::audit::log_configuration(&tr.store, &tr.cfg, t("09:00:00")).unwrap();
    let r2 = publish(&tr, "QUAD-2026", "After.", t("09:10:00"));
    send_and_deliver(&tr, &gr_new, r2, "QUAD-2026", t("09:11:00"));
    let configs = tr
        .store
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .filter(|b| {
            matches!(
                AuditEntry::decode(b).unwrap().event,
                AuditEvent::Config { .. }
            )
        })
        .count();
    assert_eq!(configs, 2, "the partner's key change is a config entry");
    let out = fed.path().join("audit-tr");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.receipts, 2);
}

#[test]
fn inserting_a_made_up_entry_is_named() {
    // not a copy: a new entry written by the rules (canonical, the right index, the `prev` of
    // the entry before it), slipped in before the real entry 5
    let (_fed, out) = exported();
    let lines = log_lines(&out);
    let before = AuditEntry::decode(lines[4].as_bytes()).unwrap();
    let made_up = AuditEntry {
        agency: agency("TR-JGK"),
        index: 5,
        prev: entry_hash(lines[4].as_bytes()),
        time: before.time,
        event: AuditEvent::Reject {
            from: agency("IR-FARAJA"),
            code: 2,
            reason: "a refusal that never happened".into(),
        },
    }
    .encode()
    .unwrap();
    let made_up = String::from_utf8(made_up).unwrap();
    assert!(!lines.contains(&made_up));
    let bad = tampered(&out, "log.jsonl", |l| l.insert(5, made_up.clone()));
    let report = verify_alone(&bad);
    // the made-up entry breaks the link from the real entry 6, and the real entry 5 is a
    // second entry 5
    assert!(
        matches!(
            first(&report),
            AuditProblem::Altered {
                line: 6,
                index: 5,
                next_index: 6,
                ..
            }
        ),
        "{report}"
    );
    assert!(
        report.problems.contains(&AuditProblem::Inserted {
            line: 7,
            index: 5,
            first: 6,
            copy: false,
        }),
        "{report}"
    );
}

#[test]
fn a_refused_record_is_logged_once_by_the_receive_path() {
    let fed = federation();
    let cfg_path = fed.path().join("tr-jgk").join("node.toml");
    let file = fed.path().join("forged.signed");
    {
        let tr = open(fed.path(), "tr-jgk");
        start_entries(&tr, ts("2026-11-28T09:00:00Z"));
        // a record of PK-FIA's signed with another key: refused for its signature
        let pk = open(fed.path(), "pk-fia");
        let id = publish(
            &pk,
            "QUAD-2026",
            "Group of 20 left Quetta.",
            ts("2026-11-28T09:10:00Z"),
        );
        let env = pk.store.records().get(&id).unwrap().unwrap().envelope;
        let forged = accord_protocol::sign(
            &accord_protocol::canonical::decode_record(env.record_bytes()).unwrap(),
            &SecretKey::from_seed(&[9; 32]),
        )
        .unwrap();
        accord_node::files::write_signed(&file, &forged).unwrap();
    }
    // the same receive path as a push, run by `accord import` with the node stopped
    let out = accord(&[
        "import",
        "--config",
        cfg_path.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let tr = open(fed.path(), "tr-jgk");
    let rejects: Vec<AuditEntry> = tr
        .store
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .map(|b| AuditEntry::decode(b).unwrap())
        .filter(|e| matches!(e.event, AuditEvent::Reject { .. }))
        .collect();
    // written by the receive path itself (flushed before the refusal is returned), once
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert!(
        matches!(&rejects[0].event, AuditEvent::Reject { code: 2, reason, .. } if reason.contains("not PK-FIA's registered key")),
        "{rejects:?}"
    );
}
