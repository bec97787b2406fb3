//! Outages: a node that was down catches up; a partition heals; records spread through members
//! that are not all connected to each other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use accord_protocol::{AgencyId, RecordId};
use accord_testkit::{TestNode, connect_all, draft, load, quad_copy, wait_until};

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
        gr.handle.store().records().len(),
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
                .outbox()
                .depths()
                .unwrap()
                .contains_key(&gr.agency)
                && !tr
                    .handle
                    .store()
                    .outbox()
                    .depths()
                    .unwrap()
                    .contains_key(&gr.agency)
        },
    )
    .await;
    assert_eq!(
        gr.handle.store().records().len(),
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
        assert_eq!(n.handle.store().records().len(), 20);
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
    assert_eq!(gr.handle.store().records().len(), n, "each stored once");
    // Greece's audit log says where each record came from
    let mut received_from = std::collections::BTreeMap::<String, usize>::new();
    for entry in gr.handle.store().log().audit_entries().unwrap() {
        let entry = accord_protocol::audit::AuditEntry::decode(&entry).unwrap();
        for r in entry.event.received() {
            *received_from.entry(r.from.to_string()).or_default() += 1;
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
        gr.handle.store().sync().heads(&quad).unwrap()
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
    let addr = accord_testkit::wait_for_listen(&gr.handle).await.remove(0);
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

/// Copies a directory tree (a stopped node's data directory, as a backup), private as the
/// node requires.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restored_from_an_older_backup_publishes_again_only_after_its_records_are_back() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let bg = TestNode::start(load(dir.path(), "bg-gdbp")).await;
    connect_all(&[&tr, &bg]).await;
    let first = tr
        .publish(&draft("TR-BG-2026", "alert", "H1", "before the backup"))
        .await;
    let mut ev = vec![bg.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "BG to hold the first",
        || bg.holds(&first),
    )
    .await;
    // the backup, taken with the node stopped
    let tr_cfg = tr.stop().await;
    let backup = dir.path().join("tr-backup");
    copy_tree(&tr_cfg.data_dir, &backup);
    let tr = TestNode::start(tr_cfg).await;
    connect_all(&[&tr, &bg]).await;
    let mut later = Vec::new();
    for i in 0..2 {
        later.push(
            tr.publish(&draft(
                "TR-BG-2026",
                "alert",
                "H1",
                &format!("after the backup {i}"),
            ))
            .await,
        );
    }
    let mut ev = vec![bg.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "BG to hold the later two",
        || later.iter().all(|id| bg.holds(id)),
    )
    .await;
    // the host is lost; the backup is restored and accepted (its marker file removed)
    let tr_cfg = tr.stop().await;
    std::fs::remove_dir_all(&tr_cfg.data_dir).unwrap();
    copy_tree(&backup, &tr_cfg.data_dir);
    std::fs::remove_file(tr_cfg.data_dir.join(accord_node::store::MARKER_FILE)).unwrap();
    let tr = TestNode::start(tr_cfg).await;
    assert!(!tr.holds(&later[0]));
    // before a status exchange with BG, publishing would reuse seq 2: it waits
    let d =
        accord_node::draft::parse_draft(draft("TR-BG-2026", "alert", "H1", "too early").as_bytes())
            .unwrap();
    let early = tr.handle.publish(d, accord_node::clock::now()).await;
    assert!(
        early
            .as_ref()
            .is_err_and(|e| e.to_string().contains("restored from an older backup")
                && e.to_string().contains("BG-GDBP")),
        "{early:?}"
    );
    connect_all(&[&tr, &bg]).await;
    let mut ev = vec![tr.handle.subscribe(), bg.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(60),
        "TR to get its own records back",
        || {
            later.iter().all(|id| tr.holds(id))
                && tr
                    .handle
                    .store()
                    .own()
                    .restore_waiting(
                        &accord_protocol::AgreementId::new("TR-BG-2026").unwrap(),
                        std::slice::from_ref(&bg.agency),
                    )
                    .unwrap()
                    .is_empty()
        },
    )
    .await;
    let next = tr
        .publish(&draft("TR-BG-2026", "alert", "H1", "after the restore"))
        .await;
    let record = tr
        .handle
        .store()
        .records()
        .get(&next)
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(record.seq.get(), 4, "numbered past the records it got back");
    let mut ev = vec![bg.handle.subscribe()];
    wait_until(&mut ev, Duration::from_secs(30), "BG to hold it", || {
        bg.holds(&next)
    })
    .await;
    let status = bg.handle.status().await.unwrap();
    assert!(status.equivocations.is_empty(), "{status:?}");
    for n in [tr, bg] {
        n.stop().await;
    }
}

/// A node stopped while records stream in from a partner: its stop waits for the receive jobs
/// under way (each stores, flushes and audits what it took in), so nothing writes to its data
/// directory after `stop` returns (asserted by [`TestNode::stop`]), and the store reopens whole,
/// its marker agreeing with its audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_while_receiving_leaves_nothing_writing_to_its_store() {
    let dir = quad_copy();
    let bg = TestNode::start(load(dir.path(), "bg-gdbp")).await;
    let mut sent = Vec::new();
    for i in 0..200 {
        sent.push(
            bg.publish(&draft("TR-BG-2026", "alert", "H1", &format!("burst {i}")))
                .await,
        );
    }
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    connect_all(&[&tr, &bg]).await;
    let mut ev = vec![tr.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "TR to hold the first of the burst",
        || sent.iter().any(|id| tr.holds(id)),
    )
    .await;
    let cfg = tr.stop().await;
    let store = accord_node::store::Store::open(&cfg.data_dir).unwrap();
    let held = sent
        .iter()
        .filter(|id| store.records().contains(id).unwrap())
        .count();
    assert!(held > 0, "the records taken in before the stop are held");
    drop(store);
    bg.stop().await;
}
