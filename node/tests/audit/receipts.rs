//! Receipts: each delivery backed by one, batch receipts proving exactly the records they
//! cover, sends checked record by record.

use super::*;

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
