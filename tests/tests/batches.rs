//! A node's pushes stay within their bounds: a stand-in member (a bare peer with Greece's key)
//! takes a long outbox from Turkey and sees every push carry at most a batch of records, the
//! first exactly a batch, and every record exactly once once each push is acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use accord_node::net::NetConfig;
use accord_protocol::audit::{Receipt, sign_receipt};
use accord_protocol::wire::{Ack, AckEntry, AgreementStatus, SyncStatus};
use accord_protocol::{AgencyId, AgreementId, Message};
use accord_tests::flood::Sink;
use accord_tests::{TestNode, demo_key, draft, load, quad_copy};

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
    // Greece, as a bare peer holding Greece's key, listens; Turkey is told where
    let gr = AgencyId::new("GR-HCG").unwrap();
    let gr_key = demo_key(dir.path(), "gr-hcg");
    let (mut stand_in, _, addr) = Sink::listen_as_agency(&gr_key).await;
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
