//! Members holding different texts of an agreement share nothing under it and say so; two
//! different records for one (agreement, originator, seq) raise an alarm, both are kept as
//! evidence and the second is never delivered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use accord_node::net::NodeEvent;
use accord_protocol::wire::{AckEntry, Push, RejectCode};
use accord_protocol::{AgencyId, AgreementId, Message, Seq, sign};
use accord_testkit::{
    RawOutcome, RawPeer, TestNode, connect_all, demo_key, draft, load, peer_of, quad_copy,
    wait_for_listen, wait_until,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_agreement_text_stops_sharing_under_it() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    // Greece's copy of QUAD-2026 differs by one retention figure
    let gr_cfg = {
        let gr_dir = dir.path().join("gr-hcg");
        let own = gr_dir.join("quad-2026-greek-copy.toml");
        let text = std::fs::read_to_string(dir.path().join("agreements/quad-2026.toml")).unwrap();
        let changed = text.replacen("retention_days = 1095", "retention_days = 1096", 1);
        assert_ne!(
            changed, text,
            "the example's retention line changed; update this test"
        );
        std::fs::write(&own, changed).unwrap();
        let node = gr_dir.join("node.toml");
        let t = std::fs::read_to_string(&node)
            .unwrap()
            .replace("../agreements/quad-2026.toml", "quad-2026-greek-copy.toml");
        std::fs::write(&node, t).unwrap();
        load(dir.path(), "gr-hcg")
    };
    let gr = TestNode::start(gr_cfg).await;
    let mut ev = [tr.handle.subscribe(), gr.handle.subscribe()];
    let id = tr
        .publish(&draft(
            "QUAD-2026",
            "alert",
            "H1",
            "must not reach a differing text",
        ))
        .await;
    connect_all(&[&tr, &gr]).await;
    let quad = AgreementId::new("QUAD-2026").unwrap();
    // both sides flag the mismatch
    let mut flagged = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while flagged.len() < 2 {
        let [tr_rx, gr_rx] = &mut ev;
        let next = tokio::select! {
            e = tr_rx.recv() => (0, e),
            e = gr_rx.recv() => (1, e),
            _ = tokio::time::sleep_until(deadline) => panic!("mismatch not flagged on both sides: {flagged:?}"),
        };
        if let (i, Ok(NodeEvent::AgreementMismatch { agreement, .. })) = next {
            assert_eq!(agreement, quad);
            flagged.insert(i);
        }
    }
    let status = tr.handle.status().await.unwrap();
    assert!(
        status
            .agreement_mismatches
            .contains(&(quad.clone(), gr.agency.clone())),
        "{status:?}"
    );
    let status = gr.handle.status().await.unwrap();
    assert!(
        status
            .agreement_mismatches
            .contains(&(quad.clone(), tr.agency.clone())),
        "{status:?}"
    );
    // nothing crossed: the record waits in Turkey's outbox for Greece
    gr.handle.sync_now().await.unwrap();
    tr.handle.sync_now().await.unwrap();
    assert!(!gr.holds(&id));
    assert_eq!(
        tr.handle.store().outbox().depths().unwrap().get(&gr.agency),
        Some(&1)
    );
    tr.stop().await;
    gr.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocation_is_kept_as_evidence_and_never_delivered() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    connect_all(&[&tr, &gr]).await;
    let mut ev = vec![tr.handle.subscribe(), gr.handle.subscribe()];
    // Pakistan's key signs two different records with seq 1 (a compromised or cloned node)
    let pk_key = demo_key(dir.path(), "pk-fia");
    let pk = AgencyId::new("PK-FIA").unwrap();
    let make = |summary: &str| {
        let d =
            accord_node::draft::parse_draft(draft("QUAD-2026", "alert", "H1", summary).as_bytes())
                .unwrap();
        sign(
            &d.into_record(&pk, Seq::FIRST, accord_node::clock::now())
                .unwrap(),
            &pk_key,
        )
        .unwrap()
    };
    let (first, second) = (make("the first version"), make("a second version"));
    // a raw Pakistani peer pushes the first to Turkey after a sync exchange confirms the agreement
    let mut raw = RawPeer::new(&pk_key);
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    raw.confirm_agreement(&tr, "QUAD-2026").await;
    let ack = raw
        .send(
            peer_of(&tr),
            &addr,
            &Message::Push(Push {
                records: vec![first.clone()],
            }),
        )
        .await;
    assert!(
        matches!(ack, RawOutcome::Response(Message::Ack(ref a)) if a.results == vec![AckEntry::Stored(first.id())]),
        "{ack:?}"
    );
    let ack = raw
        .send(
            peer_of(&tr),
            &addr,
            &Message::Push(Push {
                records: vec![second.clone()],
            }),
        )
        .await;
    match ack {
        RawOutcome::Response(Message::Ack(a)) => {
            assert!(
                matches!(
                    &a.results[0],
                    AckEntry::Rejected {
                        code: RejectCode::Equivocation,
                        ..
                    }
                ),
                "{a:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // the first spreads to Greece; the second is evidence at Turkey only
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "GR to hold the first version",
        || gr.holds(&first.id()),
    )
    .await;
    assert!(!tr.holds(&second.id()) && !gr.holds(&second.id()));
    let status = tr.handle.status().await.unwrap();
    assert_eq!(status.equivocations, vec![(second.id(), first.id())]);
    let evidence = tr.handle.store().records().equivocations().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].1, second);
    tr.stop().await;
    gr.stop().await;
}

/// Pushes `records` to `node` as a raw peer with `key`, after the sync exchange that confirms
/// QUAD-2026's text, and returns the ack's results.
async fn push_as(
    key: &accord_protocol::SecretKey,
    node: &TestNode,
    records: Vec<accord_protocol::Envelope>,
) -> Vec<AckEntry> {
    let mut raw = RawPeer::new(key);
    let addr = wait_for_listen(&node.handle).await.remove(0);
    raw.confirm_agreement(node, "QUAD-2026").await;
    match raw
        .send(peer_of(node), &addr, &Message::Push(Push { records }))
        .await
    {
        RawOutcome::Response(Message::Ack(a)) => a.results,
        other => panic!("{other:?}"),
    }
}

/// An originator that gives two members different records under one seq — and then the same
/// record under the next, so their heads agree — is caught when those members meet: the stream
/// digests in their sync status differ, each pulls the other's records, keeps the other's
/// version as evidence and raises the alarm; neither passes its version on to the other, and
/// the alarm is still there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_originator_forking_its_stream_between_two_members_is_caught_by_their_digests() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    let pk_key = demo_key(dir.path(), "pk-fia");
    let pk = AgencyId::new("PK-FIA").unwrap();
    let make = |seq: u64, summary: &str| {
        let d =
            accord_node::draft::parse_draft(draft("QUAD-2026", "alert", "H1", summary).as_bytes())
                .unwrap();
        sign(
            &d.into_record(&pk, Seq::new(seq).unwrap(), accord_node::clock::now())
                .unwrap(),
            &pk_key,
        )
        .unwrap()
    };
    let (to_tr, to_gr, next) = (
        make(1, "the version Turkey gets"),
        make(1, "the version Greece gets"),
        make(2, "the same next record for both"),
    );
    // Turkey and Greece are not connected yet: each takes Pakistan's records as they come
    assert_eq!(
        push_as(&pk_key, &tr, vec![to_tr.clone(), next.clone()]).await,
        vec![AckEntry::Stored(to_tr.id()), AckEntry::Stored(next.id())]
    );
    assert_eq!(
        push_as(&pk_key, &gr, vec![to_gr.clone(), next.clone()]).await,
        vec![AckEntry::Stored(to_gr.id()), AckEntry::Stored(next.id())]
    );
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let stream = accord_protocol::StreamId::agency(&pk);
    let (h_tr, h_gr) = (
        tr.handle.store().sync().stream_heads(&quad).unwrap()[&stream],
        gr.handle.store().sync().stream_heads(&quad).unwrap()[&stream],
    );
    assert_eq!((h_tr.seq, h_gr.seq), (2, 2), "the heads agree");
    assert_ne!(h_tr.digest, h_gr.digest, "the digests do not");

    let mut ev = vec![tr.handle.subscribe(), gr.handle.subscribe()];
    connect_all(&[&tr, &gr]).await;
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "both members to raise the equivocation alarm",
        || {
            tr.handle
                .store()
                .sync()
                .has_equivocation(&quad, &stream)
                .unwrap()
                && gr
                    .handle
                    .store()
                    .sync()
                    .has_equivocation(&quad, &stream)
                    .unwrap()
        },
    )
    .await;
    assert_eq!(
        tr.handle.status().await.unwrap().equivocations,
        vec![(to_gr.id(), to_tr.id())]
    );
    assert_eq!(
        gr.handle.status().await.unwrap().equivocations,
        vec![(to_tr.id(), to_gr.id())]
    );
    assert!(!tr.holds(&to_gr.id()) && !gr.holds(&to_tr.id()));
    assert_eq!(
        tr.handle.store().records().equivocations().unwrap()[0].1,
        to_gr
    );

    // the alarm stands on the evidence kept, not on memory
    let cfg = tr.stop().await;
    let tr = TestNode::start(cfg).await;
    assert_eq!(
        tr.handle.status().await.unwrap().equivocations,
        vec![(to_gr.id(), to_tr.id())]
    );
    tr.stop().await;
    gr.stop().await;
}
