//! Peers that should not get in, and members that misbehave: refused, logged (as events), and
//! nothing stored or forwarded. The helpers here; the cases by attack in `leaks.rs`,
//! `members.rs` and `floods.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod floods;
mod leaks;
mod members;

use std::time::Duration;

use accord_node::net::NodeEvent;
use accord_protocol::wire::{Push, RangeRequest, RejectCode};
use accord_protocol::{AgencyId, AgreementId, Message, SecretKey, Seq, sign};
use accord_testkit::{
    RawOutcome, RawPeer, TestNode, connect_all, demo_key, draft, load, peer_of, quad_copy,
    wait_for_listen, wait_until,
};

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

fn record(originator: &str, agreement: &str, seq: u64, summary: &str) -> accord_protocol::Record {
    let d = accord_node::draft::parse_draft(draft(agreement, "alert", "H2", summary).as_bytes())
        .unwrap();
    d.into_record(
        &agency(originator),
        Seq::new(seq).unwrap(),
        accord_node::clock::now(),
    )
    .unwrap()
}

fn rejections(
    events: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
) -> Vec<(AgencyId, u8, String)> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let NodeEvent::Rejected { from, code, detail } = e {
            out.push((from, code, detail));
        }
    }
    out
}

/// Pakistan and Turkey connected, with one record of Turkey's delivered to Pakistan, and Greece
/// as a raw peer (its real key) about to speak to Turkey: the stage of the misbehaving-member
/// tests. `dir` holds the nodes' files: keep it alive as long as they run.
struct Stage {
    dir: tempfile::TempDir,
    pk: TestNode,
    tr: TestNode,
    first: accord_protocol::RecordId,
    pk_events: Vec<tokio::sync::broadcast::Receiver<NodeEvent>>,
    gr_key: SecretKey,
    gr: RawPeer,
    addr: libp2p::Multiaddr,
}

async fn stage() -> Stage {
    let dir = quad_copy();
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    connect_all(&[&pk, &tr]).await;
    let first = tr
        .publish(&draft("QUAD-2026", "alert", "H1", "Turkey's own"))
        .await;
    let mut pk_events = vec![pk.handle.subscribe()];
    wait_until(
        &mut pk_events,
        Duration::from_secs(30),
        "PK to hold TR's record",
        || pk.holds(&first),
    )
    .await;
    let gr_key = demo_key(dir.path(), "gr-hcg");
    let gr = RawPeer::new(&gr_key);
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    Stage {
        dir,
        pk,
        tr,
        first,
        pk_events,
        gr_key,
        gr,
        addr,
    }
}

/// The reject entries of `node`'s audit log for requests from `from`: (code, reason).
fn audit_rejects(node: &TestNode, from: &str) -> Vec<(u8, String)> {
    node.handle
        .store()
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let v: serde_json::Value = serde_json::from_slice(e).unwrap();
            let event = v.get("event").unwrap_or(&v);
            (event["kind"] == "reject" && event["from"] == from).then(|| {
                (
                    u8::try_from(event["code"].as_u64().unwrap()).unwrap(),
                    event["reason"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect()
}

/// How often the audit log of `node` says record `id` was sent (`kind` "send", to `to` when
/// given) or received ("receive"), in single entries or batches.
fn audit_entries_for(
    node: &TestNode,
    kind: &str,
    id: &accord_protocol::RecordId,
    to: Option<&str>,
) -> usize {
    node.handle
        .store()
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .map(|e| {
            let e = accord_protocol::audit::AuditEntry::decode(e).unwrap();
            match kind {
                "send" => e
                    .event
                    .sent()
                    .iter()
                    .filter(|s| s.record == *id && to.is_none_or(|to| s.to.as_str() == to))
                    .count(),
                "receive" => e
                    .event
                    .received()
                    .iter()
                    .filter(|r| r.record == *id)
                    .count(),
                other => panic!("no such kind here: {other}"),
            }
        })
        .sum()
}

/// Polls a future once on this thread's runtime handle (the status is answered at once).
fn futures_now<T>(f: impl std::future::Future<Output = Result<T, accord_node::net::Stopped>>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f)).unwrap()
}
