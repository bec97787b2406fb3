//! Outages: a node that was down catches up; a partition heals; records spread through members
//! that are not all connected to each other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use accord_protocol::{AgencyId, RecordId};
use accord_tests::{TestNode, connect_all, draft, load, quad_copy, wait_until};

async fn cut(a: &TestNode, b: &TestNode) {
    a.handle.disconnect(b.agency.clone()).await.unwrap();
    b.handle.disconnect(a.agency.clone()).await.unwrap();
}

async fn heal(a: &TestNode, b: &TestNode) {
    a.handle.redial(b.agency.clone()).await.unwrap();
    b.handle.redial(a.agency.clone()).await.unwrap();
}

async fn wait_disconnected(nodes: &[&TestNode], a: &TestNode, b: &AgencyId) {
    let mut ev: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if !a.handle.peers().await.unwrap().connected.contains(b) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} stayed connected to {b}",
            a.agency
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), ev[0].recv()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_catches_up_and_stores_nothing_twice() {
    let dir = quad_copy();
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    connect_all(&[&pk, &tr, &gr]).await;
    let first = pk
        .publish(&draft("QUAD-2026", "alert", "H1", "before the outage"))
        .await;
    let mut ev = vec![gr.handle.subscribe(), pk.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "GR to hold the first record",
        || gr.holds(&first),
    )
    .await;

    let gr_cfg = gr.stop().await;
    let mut ids: Vec<RecordId> = vec![first];
    for i in 0..20 {
        ids.push(
            pk.publish(&draft(
                "QUAD-2026",
                "alert",
                "H1",
                &format!("PK during the outage {i}"),
            ))
            .await,
        );
        ids.push(
            tr.publish(&draft(
                "QUAD-2026",
                "route",
                "H2",
                &format!("TR during the outage {i}"),
            ))
            .await,
        );
    }
    let gr = TestNode::start(gr_cfg).await;
    connect_all(&[&pk, &tr, &gr]).await;
    let mut ev = vec![
        gr.handle.subscribe(),
        pk.handle.subscribe(),
        tr.handle.subscribe(),
    ];
    wait_until(
        &mut ev,
        Duration::from_secs(60),
        "GR to catch up on all 41 records",
        || ids.iter().all(|id| gr.holds(id)),
    )
    .await;
    assert_eq!(
        gr.handle.store().len(),
        ids.len(),
        "stored exactly once each"
    );
    let status = gr.handle.status().await.unwrap();
    assert!(status.equivocations.is_empty(), "{status:?}");
    // (IR-FARAJA never runs in this test, so only the outboxes for GR-HCG drain)
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "PK's and TR's outboxes for GR to drain",
        || {
            !pk.handle
                .store()
                .outbox_depths()
                .unwrap()
                .contains_key(&gr.agency)
                && !tr
                    .handle
                    .store()
                    .outbox_depths()
                    .unwrap()
                    .contains_key(&gr.agency)
        },
    )
    .await;
    assert_eq!(
        gr.handle.store().len(),
        ids.len(),
        "late pushes were duplicates, not new records"
    );
    for n in [pk, tr, gr] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_heals_and_every_member_converges() {
    let dir = quad_copy();
    let mut nodes = Vec::new();
    for a in ["pk-fia", "ir-faraja", "tr-jgk", "gr-hcg"] {
        nodes.push(TestNode::start(load(dir.path(), a)).await);
    }
    let all: Vec<&TestNode> = nodes.iter().collect();
    connect_all(&all).await;
    let (west, east) = ((&nodes[0], &nodes[1]), (&nodes[2], &nodes[3]));
    for a in [west.0, west.1] {
        for b in [east.0, east.1] {
            cut(a, b).await;
        }
    }
    for a in [west.0, west.1] {
        for b in [east.0, east.1] {
            wait_disconnected(&all, a, &b.agency).await;
        }
    }
    let mut ids = Vec::new();
    for n in &nodes {
        for i in 0..5 {
            ids.push(
                n.publish(&draft(
                    "QUAD-2026",
                    "alert",
                    "H1",
                    &format!("{} in the partition {i}", n.agency),
                ))
                .await,
            );
        }
    }
    let mut ev: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();
    // each side converges on its own records
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "each side to share its records",
        || {
            west.0.holds(&ids[5])
                && west.1.holds(&ids[0])
                && east.0.holds(&ids[15])
                && east.1.holds(&ids[10])
        },
    )
    .await;
    assert!(
        !west.0.holds(&ids[10]) && !east.0.holds(&ids[0]),
        "records crossed the partition"
    );
    for a in [west.0, west.1] {
        for b in [east.0, east.1] {
            heal(a, b).await;
        }
    }
    wait_until(
        &mut ev,
        Duration::from_secs(60),
        "every member to hold all 20 records",
        || nodes.iter().all(|n| ids.iter().all(|id| n.holds(id))),
    )
    .await;
    for n in &nodes {
        assert_eq!(n.handle.store().len(), 20);
    }
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_spread_through_members_that_are_not_all_connected() {
    let dir = quad_copy();
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    // Pakistan and Greece never connect: only through Turkey
    pk.handle.disconnect(gr.agency.clone()).await.unwrap();
    gr.handle.disconnect(pk.agency.clone()).await.unwrap();
    connect_all(&[&pk, &tr]).await;
    connect_all(&[&tr, &gr]).await;
    let id = pk
        .publish(&draft("QUAD-2026", "alert", "H1", "PK to GR through TR"))
        .await;
    let back = gr
        .publish(&draft("QUAD-2026", "alert", "H1", "GR to PK through TR"))
        .await;
    let mut ev = vec![
        pk.handle.subscribe(),
        tr.handle.subscribe(),
        gr.handle.subscribe(),
    ];
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "the records to spread through TR",
        || gr.holds(&id) && pk.holds(&back),
    )
    .await;
    assert!(
        !pk.handle
            .peers()
            .await
            .unwrap()
            .connected
            .contains(&gr.agency)
    );
    assert!(
        !gr.handle
            .peers()
            .await
            .unwrap()
            .connected
            .contains(&pk.agency)
    );
    for n in [pk, tr, gr] {
        n.stop().await;
    }
}

/// A member that was down while another published more records than one range answer holds
/// gets them from a third member after the originator went down too: heads are compared, the
/// missing range is pulled in several bounded answers from whoever has it, each record is
/// stored once, and the catch-up is recorded in the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_behind_by_hundreds_pulls_them_from_another_member_in_batches() {
    let dir = quad_copy();
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    connect_all(&[&pk, &tr, &gr]).await;
    let gr_cfg = gr.stop().await;
    // more than one range answer can carry (the wire allows 256 records per answer)
    let n = accord_protocol::wire::MAX_BATCH_RECORDS + 44;
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(
            pk.publish(&draft("QUAD-2026", "alert", "H1", &format!("PK {i}")))
                .await,
        );
    }
    let mut ev = vec![tr.handle.subscribe(), pk.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(60),
        "TR to hold every record of PK",
        || ids.iter().all(|id| tr.holds(id)),
    )
    .await;
    // the originator goes down: Greece can learn PK's records only from Turkey
    pk.stop().await;
    let gr = TestNode::start(gr_cfg).await;
    connect_all(&[&tr, &gr]).await;
    let mut ev = vec![gr.handle.subscribe(), tr.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(60),
        "GR to pull every record of PK from TR",
        || ids.iter().all(|id| gr.holds(id)),
    )
    .await;
    assert_eq!(gr.handle.store().len(), n, "each stored once");
    // Greece's audit log says where each record came from
    let mut received_from = std::collections::BTreeMap::<String, usize>::new();
    for entry in gr.handle.store().audit_entries().unwrap() {
        let text = String::from_utf8_lossy(&entry).into_owned();
        if text.contains(r#""kind":"receive""#) {
            let from = text
                .split(r#""from":""#)
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap()
                .to_owned();
            *received_from.entry(from).or_default() += 1;
        }
    }
    assert_eq!(
        received_from,
        std::collections::BTreeMap::from([("TR-JGK".to_owned(), n)]),
        "every record came from Turkey, once"
    );
    let quad = accord_protocol::AgreementId::new("QUAD-2026").unwrap();
    // (the last answer's records are in the store a moment before its job reports back)
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "the catch-up under QUAD-2026 to be in GR's status",
        || status_of(&gr).last_catch_up.contains_key(&quad),
    )
    .await;
    assert_eq!(
        gr.handle.store().heads(&quad).unwrap()
            [&accord_protocol::StreamId::agency(&AgencyId::new("PK-FIA").unwrap())],
        n as u64
    );
    for node in [tr, gr] {
        node.stop().await;
    }
}

/// A member that goes down and comes back on its address is redialled by its partners on
/// their own, with backoff — nobody tells them it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_back_on_its_address_is_redialled_unasked() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    connect_all(&[&tr, &gr]).await;
    let mut ev = vec![tr.handle.subscribe(), gr.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(20),
        "TR and GR to connect",
        || connected(&tr, &gr.agency),
    )
    .await;
    let addr = accord_tests::wait_for_listen(&gr.handle).await.remove(0);
    let mut cfg = gr.stop().await;
    wait_disconnected(&[&tr], &tr, &cfg.agency).await;
    // back on the same address; Turkey is not told
    cfg.listen = vec![addr];
    let gr = TestNode::start(cfg).await;
    let mut ev = vec![tr.handle.subscribe(), gr.handle.subscribe()];
    wait_until(&mut ev, Duration::from_secs(30), "TR to redial GR", || {
        connected(&tr, &gr.agency)
    })
    .await;
    // and records flow again
    let id = tr
        .publish(&draft("QUAD-2026", "alert", "H1", "after the restart"))
        .await;
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "GR to receive TR's record",
        || gr.holds(&id),
    )
    .await;
    for node in [tr, gr] {
        node.stop().await;
    }
}

/// Whether `node` is connected to `peer`, asked of its actor from a synchronous condition.
fn connected(node: &TestNode, peer: &AgencyId) -> bool {
    let handle = node.handle.clone();
    let peer = peer.clone();
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current()
            .block_on(async move { handle.peers().await.unwrap().connected.contains(&peer) })
    })
}

/// `node`'s status, asked of its actor from a synchronous condition.
fn status_of(node: &TestNode) -> accord_node::net::StatusReport {
    let handle = node.handle.clone();
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async move { handle.status().await.unwrap() })
    })
}
