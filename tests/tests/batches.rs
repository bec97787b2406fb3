//! A node's pushes stay within their bounds: a stand-in member (a bare peer with Greece's key)
//! takes a long outbox from Turkey and sees every push carry at most a batch of records, the
//! first exactly a batch, and every record exactly once once each push is acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use accord_node::net::NetConfig;
use accord_protocol::audit::{Receipt, sign_receipt};
use accord_protocol::wire::{Ack, AckEntry, AgreementStatus, SyncStatus};
use accord_protocol::{AgencyId, AgreementId, Message, RecordId};
use accord_testkit::flood::Sink;
use accord_testkit::{TestNode, demo_key, draft, load, quad_copy};

/// Greece, as a bare peer holding Greece's key, listening where Turkey is told it is, and the
/// sync status with which it confirms QUAD-2026's text.
struct StandIn {
    stand_in: Sink,
    gr: AgencyId,
    gr_key: accord_protocol::SecretKey,
    quad: AgreementId,
    status: Message,
}

async fn stand_in_greece(tr: &TestNode, dir: &std::path::Path) -> StandIn {
    let gr = AgencyId::new("GR-HCG").unwrap();
    let gr_key = demo_key(dir, "gr-hcg");
    let (stand_in, _, addr) = Sink::listen_as_agency(&gr_key).await;
    tr.handle.add_address(gr.clone(), addr).await.unwrap();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let status = Message::SyncStatus(SyncStatus {
        agreements: vec![AgreementStatus {
            agreement: quad.clone(),
            agreement_hash: tr.cfg.agreements[&quad].hash,
            heads: vec![],
            signatures: vec![],
        }],
        checkpoint: None,
        revocations: vec![],
    });
    StandIn {
        stand_in,
        gr,
        gr_key,
        quad,
        status,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_carry_at_most_a_batch_and_every_record_once() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let batch = NetConfig::default().push_batch;
    let n = batch * 2 + 7;
    let mut ids = BTreeSet::new();
    for i in 0..n {
        ids.insert(
            tr.publish(&draft("QUAD-2026", "alert", "H1", &format!("TR {i}")))
                .await,
        );
    }
    let StandIn {
        mut stand_in,
        gr,
        gr_key,
        quad,
        status,
    } = stand_in_greece(&tr, dir.path()).await;
    let mut pushes = Vec::new();
    let mut seen = BTreeSet::new();
    while seen.len() < n {
        let (bytes, channel) = stand_in
            .next_request(Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("Turkey stopped sending after {} records", seen.len()));
        match Message::decode(&bytes).unwrap() {
            Message::SyncStatus(_) => stand_in.respond(channel, &status),
            Message::Push(p) => {
                pushes.push(p.records.len());
                let mut results = Vec::new();
                let mut receipts = Vec::new();
                for env in &p.records {
                    assert!(seen.insert(env.id()), "record {} pushed twice", env.id());
                    results.push(AckEntry::Stored(env.id()));
                    receipts.push(
                        sign_receipt(
                            &Receipt {
                                record: env.id(),
                                agreement: quad.clone(),
                                receiver: gr.clone(),
                                received_at: accord_node::clock::now(),
                            },
                            &gr_key,
                        )
                        .unwrap(),
                    );
                }
                stand_in.respond(channel, &Message::Ack(Ack { results, receipts }));
            }
            other => panic!("unexpected request from Turkey: {other:?}"),
        }
    }
    assert_eq!(seen, ids, "every record of the outbox, once");
    assert!(
        pushes.iter().all(|&k| k >= 1 && k <= batch),
        "a push over {batch} records: {pushes:?}"
    );
    assert_eq!(pushes[0], batch, "the bound binds: {pushes:?}");
    assert_eq!(pushes.iter().sum::<usize>(), n);
    tr.stop().await;
}

/// A member that acknowledges a record with a receipt naming another agreement has not given
/// proof of delivery: Turkey logs the ack as refused and no delivery of the record, so its audit
/// log never shows the record delivered under the wrong agreement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_naming_another_agreement_is_no_proof_of_delivery() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let id = tr
        .publish(&draft("QUAD-2026", "alert", "H1", "to Greece"))
        .await;
    let StandIn {
        mut stand_in,
        gr,
        gr_key,
        status,
        ..
    } = stand_in_greece(&tr, dir.path()).await;
    let mut events = vec![tr.handle.subscribe()];
    answer_first_push(&mut stand_in, &status, |pushed| {
        assert_eq!(pushed, [id]);
        let receipt = sign_receipt(
            &Receipt {
                record: id,
                agreement: AgreementId::new("TR-BG-2026").unwrap(),
                receiver: gr.clone(),
                received_at: accord_node::clock::now(),
            },
            &gr_key,
        )
        .unwrap();
        Message::Ack(Ack {
            results: vec![AckEntry::Stored(id)],
            receipts: vec![receipt],
        })
    })
    .await;
    let audit = |kind: &str| audit_events(&tr, kind);
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(30),
        "Turkey to log the ack's receipt as refused",
        || refused_for_receipts(&tr) > 0,
    )
    .await;
    assert!(
        audit("delivered")
            .iter()
            .all(|e| e["record"] != id.to_string()),
        "a delivery logged on a receipt for another agreement"
    );
    tr.stop().await;
}

/// The `send` entries to `to` in a node's audit log.
fn sends_to(node: &TestNode, to: &str) -> usize {
    node.handle
        .store()
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .filter_map(|b| accord_protocol::audit::AuditEntry::decode(b).ok())
        .map(|e| {
            e.event
                .sent()
                .iter()
                .filter(|s| s.to.as_str() == to)
                .count()
        })
        .sum()
}

/// A member that takes pushes but never acknowledges them (it closes each stream unanswered)
/// made Turkey push again every tick and log a `send` entry each time: 429 entries in 45 s
/// for one record. Now the pushes back off, the log holds one `send` per record, the member is
/// reported by an alarm, and an honest member keeps receiving meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_never_acknowledges_costs_one_send_entry_per_record() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    accord_testkit::connect_all(&[&tr, &pk]).await;
    let mut ids = BTreeSet::new();
    for i in 0..3 {
        ids.insert(
            tr.publish(&draft("QUAD-2026", "alert", "H1", &format!("TR {i}")))
                .await,
        );
    }
    let StandIn {
        mut stand_in,
        status,
        ..
    } = stand_in_greece(&tr, dir.path()).await;
    // 10 s of Greece taking pushes and never answering them
    let began = std::time::Instant::now();
    let mut pushes = 0;
    while began.elapsed() < Duration::from_secs(10) {
        let Some((bytes, channel)) = stand_in.next_request(Duration::from_millis(500)).await else {
            continue;
        };
        match Message::decode(&bytes).unwrap() {
            Message::SyncStatus(_) => stand_in.respond(channel, &status),
            Message::Push(_) => {
                pushes += 1;
                drop(channel); // never answered
            }
            other => panic!("unexpected request from Turkey: {other:?}"),
        }
    }
    // a tick is 100 ms: without back-off, ~100 attempts; with it (200 ms doubling), a handful
    assert!((2..=15).contains(&pushes), "{pushes} pushes in 10 s");
    assert_eq!(
        sends_to(&tr, "GR-HCG"),
        3,
        "one send entry per record, however many attempts"
    );
    let status = tr.handle.status().await.unwrap();
    assert!(
        status
            .alarms
            .iter()
            .any(|a| a.kind.as_str() == "pushes-failing" && a.subject == "GR-HCG"),
        "{:?}",
        status.alarms
    );
    // the honest member has everything, and keeps receiving what is published meanwhile
    let later = tr
        .publish(&draft(
            "QUAD-2026",
            "alert",
            "H1",
            "published during the attack",
        ))
        .await;
    ids.insert(later);
    let mut events = [pk.handle.subscribe()];
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(20),
        "PK-FIA to hold all",
        || ids.iter().all(|id| pk.holds(id)),
    )
    .await;
    pk.stop().await;
    tr.stop().await;
}

/// A batch receipt counts only for exactly the records it covers (docs/protocol.md §12): one
/// that covers the pushed records in another order proves nothing, so Turkey logs the ack as
/// refused and no delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_receipt_that_does_not_cover_the_push_exactly_is_no_proof_of_delivery() {
    use accord_protocol::receipt::{BatchReceipt, sign_batch_receipt};
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let mut ids = Vec::new();
    for i in 0..2 {
        ids.push(
            tr.publish(&draft(
                "QUAD-2026",
                "alert",
                "H1",
                &format!("to Greece {i}"),
            ))
            .await,
        );
    }
    let StandIn {
        mut stand_in,
        gr,
        gr_key,
        quad,
        status,
    } = stand_in_greece(&tr, dir.path()).await;
    let mut events = vec![tr.handle.subscribe()];
    answer_first_push(&mut stand_in, &status, |pushed| {
        assert_eq!(pushed, ids, "both records in one push, in order");
        let reversed: Vec<RecordId> = pushed.iter().rev().copied().collect();
        let receipt = sign_batch_receipt(
            &BatchReceipt::of(
                quad.clone(),
                gr.clone(),
                accord_node::clock::now(),
                &reversed,
            )
            .unwrap(),
            &gr_key,
        )
        .unwrap();
        Message::Ack(Ack {
            results: pushed.iter().map(|id| AckEntry::Stored(*id)).collect(),
            receipts: vec![receipt],
        })
    })
    .await;
    let audit = |kind: &str| audit_events(&tr, kind);
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(30),
        "Turkey to log both acknowledgements as without a valid receipt",
        || refused_for_receipts(&tr) == 2,
    )
    .await;
    assert!(
        audit("delivered").is_empty() && audit("delivered-push").is_empty(),
        "a delivery logged on a receipt that does not cover the push"
    );
    tr.stop().await;
}

/// The events of `node`'s audit entries of one kind.
fn audit_events(node: &TestNode, kind: &str) -> Vec<serde_json::Value> {
    node.handle
        .store()
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_slice(e).unwrap();
            v.get("event").cloned().unwrap_or(v)
        })
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// Answers Turkey's sync statuses until its first push, and that push with `answer` of the
/// ids pushed.
async fn answer_first_push(
    stand_in: &mut Sink,
    status: &Message,
    answer: impl FnOnce(Vec<RecordId>) -> Message,
) {
    loop {
        let (bytes, channel) = stand_in
            .next_request(Duration::from_secs(30))
            .await
            .expect("Turkey to push its records");
        match Message::decode(&bytes).unwrap() {
            Message::SyncStatus(_) => stand_in.respond(channel, status),
            Message::Push(p) => {
                let pushed = p.records.iter().map(|e| e.id()).collect();
                stand_in.respond(channel, &answer(pushed));
                return;
            }
            other => panic!("unexpected request from Turkey: {other:?}"),
        }
    }
}

/// Turkey's `reject` entries of acks from Greece without a valid receipt.
fn refused_for_receipts(tr: &TestNode) -> usize {
    audit_events(tr, "reject")
        .iter()
        .filter(|e| {
            e["from"] == "GR-HCG"
                && e["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("without a valid signed receipt"))
        })
        .count()
}
