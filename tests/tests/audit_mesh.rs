//! The five nodes of examples/quad share records under both agreements; afterwards every node's
//! audit export verifies, with the others' exports as partners, and the logs agree one for one:
//! each record an originator published was delivered to each other member with a receipt that
//! member signed, and that member's log received it, from a node whose log sent it; nobody's
//! log received a record of an agreement it is not party to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use accord_node::audit::{export, verify_export};
use accord_node::net::{NetConfig, NodeEvent};
use accord_node::store::Store;
use accord_protocol::audit::{AuditEntry, AuditEvent, Digest32, Signed, SlotCheckpoint, sha256};
use accord_protocol::receipt::{AnyReceipt, verify_any_receipt};
use accord_protocol::{AgencyId, AgreementId, PublicKey, RecordId};
use accord_testkit::{
    QUAD, TestNode, connect_all, demo_key, draft, fast, load, quad_copy, wait_until,
};

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

/// What one node's export says, read back from its files.
struct Exported {
    dir: PathBuf,
    entries: Vec<AuditEntry>,
    receipts: Vec<Signed>,
}

fn read_export(dir: &Path) -> Exported {
    let entries = std::fs::read_to_string(dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| AuditEntry::decode(l.as_bytes()).unwrap())
        .collect();
    let receipts = std::fs::read_to_string(dir.join("receipts.txt"))
        .unwrap()
        .lines()
        .map(|l| Signed::from_line(l).unwrap())
        .collect();
    Exported {
        dir: dir.to_owned(),
        entries,
        receipts,
    }
}

/// The agencies whose checkpoints `node` should hold: those it shares an agreement with.
fn partners_of(node: &TestNode) -> BTreeSet<AgencyId> {
    node.cfg
        .agreements
        .values()
        .flat_map(|a| a.members.iter().cloned())
        .filter(|m| *m != node.agency)
        .collect()
}

/// Whether `holder` keeps a slot checkpoint of `of` for a slot after `after`, exactly as `of`
/// signed it.
fn holds_later_slot(holder: &Arc<Store>, of: &Arc<Store>, agency: &AgencyId, after: u64) -> bool {
    let own = of.checkpoints().own_slot_checkpoints().unwrap();
    holder
        .checkpoints()
        .partner_checkpoints()
        .unwrap()
        .iter()
        .any(|s| {
            serde_json::from_slice::<SlotCheckpoint>(&s.bytes)
                .is_ok_and(|c| c.agency == *agency && c.slot > after && own.contains(s))
        })
}

/// Slots of one second: partners witness the logs soon after the traffic stops.
fn net() -> NetConfig {
    NetConfig {
        checkpoint_slot: Duration::from_secs(1),
        ..fast()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_export_verifies_and_sends_match_receives_and_receipts() {
    let dir = quad_copy();
    let mut nodes = Vec::new();
    for a in QUAD {
        nodes.push(TestNode::start_with(load(dir.path(), a), net()).await);
    }
    // every record each node hands to the network, drained after the run: the attempts
    let mut sent_events: Vec<(AgencyId, _)> = nodes
        .iter()
        .map(|n| (n.agency.clone(), n.handle.subscribe()))
        .collect();
    let refs: Vec<&TestNode> = nodes.iter().collect();
    connect_all(&refs).await;
    let by = |a: &str| nodes.iter().find(|n| n.agency == agency(a)).unwrap();

    // records under both agreements
    let mut published: BTreeMap<RecordId, (AgencyId, AgreementId)> = BTreeMap::new();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let bil = AgreementId::new("TR-BG-2026").unwrap();
    for a in ["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"] {
        for i in 0..2 {
            let id = by(a)
                .publish(&draft("QUAD-2026", "alert", "H1", &format!("{a} quad {i}")))
                .await;
            published.insert(id, (agency(a), quad.clone()));
        }
    }
    for a in ["TR-JGK", "BG-GDBP"] {
        for i in 0..2 {
            let id = by(a)
                .publish(&draft("TR-BG-2026", "route", "H2", &format!("{a} bil {i}")))
                .await;
            published.insert(id, (agency(a), bil.clone()));
        }
    }
    // Turkey is party to both agreements
    let agreements: BTreeMap<AgreementId, BTreeSet<AgencyId>> = by("TR-JGK")
        .cfg
        .agreements
        .values()
        .map(|a| (a.id.clone(), a.members.clone()))
        .collect();
    let members = |a: &AgreementId| -> BTreeSet<AgencyId> { agreements[a].clone() };

    let mut events: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();
    wait_until(
        &mut events,
        Duration::from_secs(60),
        "every member to hold every record and every outbox to drain",
        || {
            published.iter().all(|(id, (_, a))| {
                members(a).iter().all(|m| {
                    by(m.as_str())
                        .handle
                        .store()
                        .records()
                        .contains(id)
                        .unwrap()
                })
            }) && nodes
                .iter()
                .all(|n| n.handle.store().outbox().depths().unwrap().is_empty())
        },
    )
    .await;
    // slot checkpoints signed after the traffic reach every partner (a slot checkpoint starts
    // each slot and rides in every sync status)
    let drained = u64::try_from(accord_node::clock::now().unix()).unwrap();
    wait_until(
        &mut events,
        Duration::from_secs(60),
        "every node to hold a slot checkpoint of each partner signed after the traffic",
        || {
            nodes.iter().all(|holder| {
                partners_of(holder).iter().all(|p| {
                    holds_later_slot(
                        holder.handle.store(),
                        by(p.as_str()).handle.store(),
                        p,
                        drained,
                    )
                })
            })
        },
    )
    .await;
    let configs: Vec<_> = nodes.iter().map(|n| n.cfg.clone()).collect();
    for n in nodes {
        n.stop().await;
    }
    // (sender, record, recipient) -> records handed to the network
    let mut attempts: BTreeMap<(AgencyId, RecordId, AgencyId), usize> = BTreeMap::new();
    for (a, rx) in &mut sent_events {
        loop {
            match rx.try_recv() {
                Ok(NodeEvent::Sent { to, records, .. }) => {
                    for r in records {
                        *attempts.entry((a.clone(), r, to.clone())).or_default() += 1;
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                    panic!("{a}: {n} events lost; the attempts cannot be counted")
                }
                Err(_) => break,
            }
        }
    }

    // every node's audit export, taken from its store after the run
    let out = tempfile::tempdir().unwrap();
    let mut exports: BTreeMap<AgencyId, Exported> = BTreeMap::new();
    let mut keys: BTreeMap<AgencyId, PublicKey> = BTreeMap::new();
    for cfg in &configs {
        let store = Store::open_waiting(&cfg.data_dir, Duration::from_secs(10)).unwrap();
        let key = demo_key(dir.path(), &cfg.agency.as_str().to_lowercase());
        keys.insert(cfg.agency.clone(), key.public_key());
        let target = out.path().join(cfg.agency.as_str());
        let summary = export(&store, cfg, &key, accord_node::clock::now(), &target).unwrap();
        assert!(summary.entries > 0);
        exports.insert(cfg.agency.clone(), read_export(&target));
    }

    // each verifies, with the others as partners, and every partner's copy agrees
    for (a, e) in &exports {
        let partners: Vec<PathBuf> = exports
            .iter()
            .filter(|(b, _)| *b != a)
            .map(|(_, p)| p.dir.clone())
            .collect();
        let report = verify_export(&e.dir, &partners);
        assert!(report.is_ok(), "{a}:\n{report}");
        for p in &report.partners {
            assert_eq!(p.checkpoints, p.consistent, "{a}:\n{report}");
        }
        let holders = report.partners.iter().filter(|p| p.checkpoints > 0).count();
        let expected = configs
            .iter()
            .find(|c| c.agency == *a)
            .unwrap()
            .agreements
            .values()
            .flat_map(|ag| ag.members.iter())
            .filter(|m| *m != a)
            .collect::<BTreeSet<_>>()
            .len();
        assert_eq!(
            holders, expected,
            "{a}: partners holding its checkpoints\n{report}"
        );
    }

    let key_of = |a: &AgencyId| keys.get(a).copied();
    let of =
        |e: &Exported| -> Vec<AuditEvent> { e.entries.iter().map(|x| x.event.clone()).collect() };
    // (record, from) of every receive, per node
    let receives: BTreeMap<AgencyId, Vec<(RecordId, AgencyId)>> = exports
        .iter()
        .map(|(a, e)| {
            let r = of(e)
                .into_iter()
                .flat_map(|ev| {
                    ev.received()
                        .into_iter()
                        .map(|r| (r.record, r.from.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            (a.clone(), r)
        })
        .collect();
    // (record, recipient) -> how many send entries, per node
    let send_counts: BTreeMap<AgencyId, BTreeMap<(RecordId, AgencyId), usize>> = exports
        .iter()
        .map(|(a, e)| {
            let mut counts: BTreeMap<(RecordId, AgencyId), usize> = BTreeMap::new();
            for ev in of(e) {
                for s in ev.sent() {
                    let record = s.record;
                    assert_eq!(
                        published[&record].1, *s.agreement,
                        "{a}: a send entry of {record} names another agreement"
                    );
                    *counts.entry((record, s.to.clone())).or_default() += 1;
                }
            }
            (a.clone(), counts)
        })
        .collect();
    // every send entry is one record handed to the network, and each was logged: per pair,
    // 1 <= entries <= attempts (a retry repeats a pair, never adds one)
    for (a, counts) in &send_counts {
        for ((record, to), n) in counts {
            let tried = attempts
                .get(&(a.clone(), *record, to.clone()))
                .copied()
                .unwrap_or(0);
            assert!(
                (1..=tried).contains(n),
                "{a}: {n} send entries of {record} to {to}, {tried} attempts"
            );
        }
        let attempted: usize = attempts
            .iter()
            .filter(|((s, _, _), _)| s == a)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(
            counts.values().sum::<usize>(),
            attempted,
            "{a}: send entries against records handed to the network"
        );
    }
    let sends: BTreeMap<AgencyId, BTreeSet<(RecordId, AgencyId)>> = send_counts
        .iter()
        .map(|(a, c)| (a.clone(), c.keys().cloned().collect()))
        .collect();

    for (o, e) in &exports {
        let events = of(e);
        let own: Vec<(RecordId, AgreementId)> = events
            .iter()
            .filter_map(|ev| match ev {
                AuditEvent::Publish {
                    record, agreement, ..
                } => Some((*record, agreement.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            own.len(),
            published.values().filter(|(by, _)| by == o).count(),
            "{o}: publish entries"
        );
        let delivered: Vec<(RecordId, AgencyId, accord_protocol::audit::Digest32)> = events
            .iter()
            .flat_map(|ev| match ev {
                AuditEvent::Delivered { .. } => {
                    panic!("{o}: a delivered entry per record; nodes log one per push")
                }
                AuditEvent::DeliveredPush {
                    records,
                    to,
                    receipt,
                    agreement,
                } => {
                    for record in records {
                        assert_eq!(
                            &published[record].1, agreement,
                            "{o}: the delivered-push entry of {record} names another agreement"
                        );
                    }
                    records
                        .iter()
                        .map(|record| (*record, to.clone(), *receipt))
                        .collect()
                }
                _ => Vec::new(),
            })
            .collect();
        // the pairs the originator had to deliver: each own record to each other member
        let due: BTreeSet<(RecordId, AgencyId)> = own
            .iter()
            .flat_map(|(r, a)| {
                members(a)
                    .into_iter()
                    .filter(|m| m != o)
                    .map(move |m| (*r, m))
            })
            .collect();
        let delivered_pairs: BTreeSet<(RecordId, AgencyId)> =
            delivered.iter().map(|(r, m, _)| (*r, m.clone())).collect();
        assert_eq!(
            delivered.len(),
            delivered_pairs.len(),
            "{o}: a delivery logged twice"
        );
        assert_eq!(delivered_pairs, due, "{o}: delivered entries");
        // sends of its own records: exactly the pairs due (retries repeat a pair, never add one)
        let own_ids: BTreeSet<RecordId> = own.iter().map(|(r, _)| *r).collect();
        let own_sends: BTreeSet<(RecordId, AgencyId)> = sends[o]
            .iter()
            .filter(|(r, _)| own_ids.contains(r))
            .cloned()
            .collect();
        assert_eq!(own_sends, due, "{o}: send entries of its own records");
        // every delivery backed by a receipt signed by the receiver, hashed in the entry: a
        // batch receipt (one per push and agreement) whose tree covers the record; each
        // receipt exported once
        let hashes: BTreeSet<Digest32> = delivered.iter().map(|(_, _, h)| *h).collect();
        assert_eq!(e.receipts.len(), hashes.len(), "{o}: receipts");
        assert!(e.receipts.len() <= delivered.len(), "{o}: receipts");
        for (record, m, hash) in &delivered {
            let matching: Vec<_> = e
                .receipts
                .iter()
                .filter(|s| sha256(&s.bytes) == *hash)
                .collect();
            assert_eq!(matching.len(), 1, "{o}: receipt of {record} by {m}");
            let AnyReceipt::Batch(receipt) = verify_any_receipt(matching[0], key_of).unwrap()
            else {
                panic!("{o}: a receipt of version 1 from {m}");
            };
            assert_eq!(&receipt.receiver, m);
            let covered: Vec<RecordId> = delivered
                .iter()
                .filter(|(_, _, h)| h == hash)
                .map(|(r, _, _)| *r)
                .collect();
            assert!(
                receipt.covers_exactly(&covered),
                "{o}: {m}'s receipt does not cover the records its entries name"
            );
            // the agreement the receiver signed for is the one every entry of the record names
            assert_eq!(
                receipt.agreement, published[record].1,
                "{o}: the receipt of {record} by {m} names another agreement"
            );
            assert!(
                exports[m].entries.iter().any(|x| x
                    .event
                    .received()
                    .iter()
                    .any(|r| r.record == *record && *r.agreement == receipt.agreement)),
                "{m}: no receive entry of {record} under {}",
                receipt.agreement
            );
            // and the receiver's log received it, exactly once, from a node whose log sent it
            let got: Vec<&AgencyId> = receives[m]
                .iter()
                .filter(|(r, _)| r == record)
                .map(|(_, from)| from)
                .collect();
            assert_eq!(got.len(), 1, "{m} received {record} {} times", got.len());
            assert!(
                sends[got[0]].contains(&(*record, m.clone())),
                "{m} received {record} from {}, whose log has no send of it to {m}",
                got[0]
            );
        }
    }
    // nobody received a record of an agreement it is not party to, or its own record
    for (a, got) in &receives {
        for (record, _) in got {
            let (originator, agreement) = &published[record];
            assert!(
                members(agreement).contains(a),
                "{a} received {record} of {agreement}"
            );
            assert_ne!(originator, a, "{a} received its own record {record}");
        }
        let expected = published
            .values()
            .filter(|(o, ag)| o != a && members(ag).contains(a))
            .count();
        assert_eq!(got.len(), expected, "{a}: receive entries");
    }
    // and every send went to a member of the record's agreement
    for (a, s) in &sends {
        for (record, to) in s {
            let (_, agreement) = &published[record];
            assert!(members(agreement).contains(to), "{a} sent {record} to {to}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_entry_is_durable_before_its_record_leaves_the_node() {
    // the network hands a record on only after a flush covered its send entry, so a crash
    // after that moment cannot lose the entry of a record a partner may hold
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let bg = TestNode::start(load(dir.path(), "bg-gdbp")).await;
    let mut tr_events = tr.handle.subscribe();
    connect_all(&[&tr, &bg]).await;
    let mut published = BTreeSet::new();
    for i in 0..5 {
        published.insert(
            tr.publish(&draft("TR-BG-2026", "route", "H2", &format!("durable {i}")))
                .await,
        );
    }
    let mut left = BTreeSet::new();
    let mut seen: BTreeMap<(RecordId, AgencyId), usize> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while left != published {
        let ev = tokio::time::timeout_at(deadline, tr_events.recv())
            .await
            .expect("timed out waiting for the records to leave")
            .unwrap();
        let NodeEvent::Sent { to, records, .. } = ev else {
            continue;
        };
        // checked at once, before anything else runs on the store: the entries naming these
        // records are below the durable count
        let store = tr.handle.store();
        let durable = store.durable_audit_count();
        let entries = store.log().audit_entries().unwrap();
        for r in &records {
            // the k-th time r leaves for `to` is named by its k-th send entry to `to`
            let k = seen.entry((*r, to.clone())).or_insert(0usize);
            *k += 1;
            let indexes: Vec<u64> = entries
                .iter()
                .map(|b| AuditEntry::decode(b).unwrap())
                .filter(|e| e.event.sent().iter().any(|s| s.record == *r && *s.to == to))
                .map(|e| e.index)
                .collect();
            let index = *indexes
                .get(*k - 1)
                .unwrap_or_else(|| panic!("{r} left for {to} without a send entry"));
            assert!(
                index < durable,
                "the send entry {index} of {r} was not durable (durable up to {durable}) when it left"
            );
            left.insert(*r);
        }
    }
    tr.stop().await;
    bg.stop().await;
}
