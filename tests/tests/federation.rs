//! The five nodes of examples/quad as separate swarms on loopback: every record reaches exactly
//! the members of its agreement; the connected outsider holds none of the multilateral records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use accord_protocol::{AgencyId, RecordId};
use accord_testkit::{QUAD, TestNode, connect_all, draft, load, quad_copy, wait_until};

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_reaches_exactly_its_agreements_members() {
    let dir = quad_copy();
    let mut nodes = Vec::new();
    for a in QUAD {
        nodes.push(TestNode::start(load(dir.path(), a)).await);
    }
    let refs: Vec<&TestNode> = nodes.iter().collect();
    connect_all(&refs).await;
    let by = |a: &str| nodes.iter().find(|n| n.agency == agency(a)).unwrap();

    // every quad member publishes under QUAD-2026; Turkey and Bulgaria under TR-BG-2026
    let mut quad_ids: Vec<RecordId> = Vec::new();
    for a in ["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"] {
        for i in 0..3 {
            quad_ids.push(
                by(a)
                    .publish(&draft(
                        "QUAD-2026",
                        "alert",
                        "H1",
                        &format!("{a} quad record {i}"),
                    ))
                    .await,
            );
        }
    }
    let mut bil_ids = Vec::new();
    for a in ["TR-JGK", "BG-GDBP"] {
        for i in 0..3 {
            bil_ids.push(
                by(a)
                    .publish(&draft(
                        "TR-BG-2026",
                        "route",
                        "H2",
                        &format!("{a} bilateral record {i}"),
                    ))
                    .await,
            );
        }
    }

    let mut events: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();
    let quad_members = ["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"];
    let bil_members = ["TR-JGK", "BG-GDBP"];
    wait_until(
        &mut events,
        Duration::from_secs(60),
        "every member to hold every record of its agreements",
        || {
            quad_members
                .iter()
                .all(|m| quad_ids.iter().all(|id| by(m).holds(id)))
                && bil_members
                    .iter()
                    .all(|m| bil_ids.iter().all(|id| by(m).holds(id)))
        },
    )
    .await;

    // Bulgaria is connected to Turkey (they share TR-BG-2026) ...
    let peers = by("BG-GDBP").handle.peers().await.unwrap();
    assert!(peers.connected.contains(&agency("TR-JGK")), "{peers:?}");
    // ... yet holds none of the quadrilateral records, and the others hold no bilateral record
    for id in &quad_ids {
        assert!(
            !by("BG-GDBP").holds(id),
            "the outsider holds quad record {id}"
        );
    }
    for m in ["PK-FIA", "IR-FARAJA", "GR-HCG"] {
        for id in &bil_ids {
            assert!(!by(m).holds(id), "{m} holds bilateral record {id}");
        }
    }
    // exact counts: each node holds exactly its agreements' records
    let count = |a: &str| by(a).handle.store().records().len();
    assert_eq!(count("PK-FIA"), 12);
    assert_eq!(count("GR-HCG"), 12);
    assert_eq!(count("TR-JGK"), 18);
    assert_eq!(count("BG-GDBP"), 6);
    // outboxes drained: every push was acknowledged
    wait_until(
        &mut events,
        Duration::from_secs(30),
        "outboxes to drain",
        || {
            nodes
                .iter()
                .all(|n| n.handle.store().outbox().depths().unwrap().is_empty())
        },
    )
    .await;
    for n in nodes {
        n.stop().await;
    }
}
