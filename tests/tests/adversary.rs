//! Peers that should not get in, and members that misbehave: refused, logged (as events), and
//! nothing stored or forwarded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bilateral_only_member_gets_nothing_of_the_multilateral_agreement() {
    let dir = quad_copy();
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    connect_all(&[&pk, &tr]).await;
    let quad_id = pk
        .publish(&draft("QUAD-2026", "alert", "H1", "quad record"))
        .await;
    let mut ev = vec![tr.handle.subscribe()];
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "TR to hold PK's record",
        || tr.holds(&quad_id),
    )
    .await;

    // Bulgaria (known to Turkey through TR-BG-2026, so the allow-list admits it) misbehaves
    let mut tr_events = tr.handle.subscribe();
    let mut bg = RawPeer::new(&demo_key(dir.path(), "bg-gdbp"));
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let quad = AgreementId::new("QUAD-2026").unwrap();

    // asks for the quadrilateral records
    let ask = Message::RangeRequest(RangeRequest {
        agreement: quad.clone(),
        stream: accord_protocol::StreamId::agency(&agency("PK-FIA")),
        from: Seq::FIRST,
        to: Seq::new(100).unwrap(),
    });
    match bg.send(peer_of(&tr), &addr, &ask).await {
        RawOutcome::Response(Message::Refused(r)) => {
            assert_eq!(r.code, RejectCode::NotMember, "{r:?}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // pushes a genuine PK record TR does not hold yet, and one of its own under QUAD-2026
    let pk_record = sign(
        &record("PK-FIA", "QUAD-2026", 2, "never published"),
        &demo_key(dir.path(), "pk-fia"),
    )
    .unwrap();
    let bg_record = sign(
        &record("BG-GDBP", "QUAD-2026", 1, "bulgaria claims quad"),
        &demo_key(dir.path(), "bg-gdbp"),
    )
    .unwrap();
    let push = Message::Push(Push {
        records: vec![pk_record.clone(), bg_record.clone()],
    });
    match bg.send(peer_of(&tr), &addr, &push).await {
        RawOutcome::Response(Message::Ack(ack)) => {
            assert_eq!(ack.results.len(), 2);
            for r in &ack.results {
                assert!(
                    matches!(
                        r,
                        accord_protocol::wire::AckEntry::Rejected {
                            code: RejectCode::NotMember,
                            ..
                        }
                    ),
                    "{r:?}"
                );
            }
        }
        other => panic!("expected an ack of rejections, got {other:?}"),
    }
    assert!(!tr.holds(&pk_record.id()) && !tr.holds(&bg_record.id()));
    assert!(!pk.holds(&pk_record.id()) && !pk.holds(&bg_record.id()));
    let seen = rejections(&mut tr_events);
    assert!(
        seen.iter()
            .filter(|(from, code, _)| *from == agency("BG-GDBP")
                && *code == RejectCode::NotMember.code())
            .count()
            >= 3,
        "{seen:?}"
    );
    // and logged: Turkey's audit log holds the refusals of Bulgaria's requests
    let logged = audit_rejects(&tr, "BG-GDBP");
    assert!(
        logged
            .iter()
            .filter(|(code, _)| *code == RejectCode::NotMember.code())
            .count()
            >= 3,
        "{logged:?}"
    );
    // TR still holds exactly one record
    assert_eq!(tr.handle.store().records().len(), 1);
    pk.stop().await;
    tr.stop().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_records_from_a_member_are_rejected_and_never_forwarded() {
    let Stage {
        dir,
        pk,
        tr,
        pk_events: mut ev,
        gr_key,
        mut gr,
        addr,
        ..
    } = stage().await;
    // Greece is a member of QUAD-2026 and connects to Turkey with its real key, then pushes:
    // 1. its own record with a flipped signature bit
    let good = sign(&record("GR-HCG", "QUAD-2026", 1, "greek record"), &gr_key).unwrap();
    let mut sig = *good.signature();
    sig[5] ^= 1;
    let bad_sig =
        accord_protocol::Envelope::from_parts(*good.signer(), sig, good.record_bytes().to_vec());
    // 2. a record claiming Pakistan as originator, signed with Greece's key
    let wrong_key = sign(
        &record("PK-FIA", "QUAD-2026", 7, "pretending to be PK"),
        &gr_key,
    )
    .unwrap();
    // 3. a record of a non-member originator (Bulgaria, with its real key) under QUAD-2026
    let non_member = sign(
        &record("BG-GDBP", "QUAD-2026", 1, "outsider"),
        &demo_key(dir.path(), "bg-gdbp"),
    )
    .unwrap();
    // 4. a key nobody knows
    let stranger = sign(
        &record("GR-HCG", "QUAD-2026", 2, "unknown key"),
        &SecretKey::from_seed(&[42; 32]),
    )
    .unwrap();
    let forged = vec![bad_sig, wrong_key, non_member, stranger];
    let mut tr_events = tr.handle.subscribe();
    let codes_of = |outcome: RawOutcome| -> Vec<RejectCode> {
        match outcome {
            RawOutcome::Response(Message::Ack(ack)) => ack
                .results
                .iter()
                .map(|r| match r {
                    accord_protocol::wire::AckEntry::Rejected { code, .. } => *code,
                    other => panic!("accepted a forgery: {other:?}"),
                })
                .collect(),
            other => panic!("expected an ack, got {other:?}"),
        }
    };
    // each forgery alone is refused with the reason that fits it
    let mut codes = Vec::new();
    for f in &forged {
        let push = Message::Push(Push {
            records: vec![f.clone()],
        });
        codes.extend(codes_of(gr.send(peer_of(&tr), &addr, &push).await));
    }
    assert_eq!(
        codes,
        vec![
            RejectCode::BadSignature,
            RejectCode::BadSignature,
            RejectCode::NotMember,
            RejectCode::BadSignature
        ]
    );
    let seen = rejections(&mut tr_events);
    assert_eq!(
        seen.iter()
            .filter(|(from, _, _)| *from == agency("GR-HCG"))
            .count(),
        4,
        "{seen:?}"
    );
    // together in one push, the first failed verification stops the verifying: the rest are
    // refused busy (transient) unverified, with one event for them
    let push = Message::Push(Push {
        records: forged.clone(),
    });
    assert_eq!(
        codes_of(gr.send(peer_of(&tr), &addr, &push).await),
        vec![
            RejectCode::BadSignature,
            RejectCode::Busy,
            RejectCode::Busy,
            RejectCode::Busy
        ]
    );
    let seen = rejections(&mut tr_events);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].2.contains("3 more records"), "{seen:?}");
    // every refusal is in Turkey's audit log, with its code, as the events said
    let logged = audit_rejects(&tr, "GR-HCG");
    for code in [
        RejectCode::BadSignature,
        RejectCode::NotMember,
        RejectCode::Busy,
    ] {
        assert!(
            logged.iter().any(|(c, _)| *c == code.code()),
            "no {code:?} refusal logged: {logged:?}"
        );
    }
    // a malformed frame is refused with a typed error too, and the node stays up
    match gr
        .request(peer_of(&tr), &addr, vec![1, 1, 0xff, 0xff, 0, 0])
        .await
    {
        RawOutcome::Response(Message::Refused(r)) => assert_eq!(r.code, RejectCode::Malformed),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // nothing stored, nothing forwarded: a fresh record from TR still reaches PK, the forgeries never do
    let after = tr
        .publish(&draft("QUAD-2026", "alert", "H1", "after the attack"))
        .await;
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "PK to hold TR's later record",
        || pk.holds(&after),
    )
    .await;
    for f in &forged {
        assert!(
            !tr.holds(&f.id()) && !pk.holds(&f.id()),
            "forgery {} stored",
            f.id()
        );
    }
    assert_eq!(pk.handle.store().records().len(), 2);
    pk.stop().await;
    tr.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_outside_the_allow_list_cannot_open_any_accord_protocol() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let mut stranger = RawPeer::new(&SecretKey::from_seed(&[99; 32]));
    let ask = Message::RangeRequest(RangeRequest {
        agreement: AgreementId::new("QUAD-2026").unwrap(),
        stream: accord_protocol::StreamId::agency(&agency("TR-JGK")),
        from: Seq::FIRST,
        to: Seq::new(10).unwrap(),
    });
    let mut events = tr.handle.subscribe();
    // a push of a well-formed record and a sync status too: no protocol opens for a stranger
    let record = {
        let d = accord_node::draft::parse_draft(draft("QUAD-2026", "alert", "H1", "x").as_bytes())
            .unwrap();
        sign(
            &d.into_record(&agency("TR-JGK"), Seq::FIRST, accord_node::clock::now())
                .unwrap(),
            &SecretKey::from_seed(&[99; 32]),
        )
        .unwrap()
    };
    let status = Message::SyncStatus(accord_protocol::wire::SyncStatus {
        agreements: vec![],
        checkpoint: None,
        revocations: vec![],
    });
    let push = Message::Push(Push {
        records: vec![record],
    });
    for msg in [&ask, &push, &status] {
        let started = std::time::Instant::now();
        match stranger.send(peer_of(&tr), &addr, msg).await {
            // refused at the connection, not left to time out
            RawOutcome::Failed(e) => assert!(
                !e.contains("timed out") && started.elapsed() < Duration::from_secs(10),
                "{e} after {:?}",
                started.elapsed()
            ),
            RawOutcome::Response(m) => panic!("a stranger got an answer: {m:?}"),
        }
    }
    assert!(tr.handle.store().records().is_empty(), "nothing stored");
    while let Ok(e) = events.try_recv() {
        assert!(
            !matches!(e, NodeEvent::Connected { .. }),
            "a stranger counted as connected: {e:?}"
        );
    }
    // a known agency with the right key gets through the same door
    let mut bg = RawPeer::new(&demo_key(dir.path(), "bg-gdbp"));
    assert!(matches!(
        bg.send(peer_of(&tr), &addr, &ask).await,
        RawOutcome::Response(_)
    ));
    let peers = tr.handle.peers().await.unwrap();
    assert!(
        peers.connected.iter().all(|a| *a == agency("BG-GDBP")),
        "{peers:?}"
    );
    tr.stop().await;
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

/// A member replays records (its own, and the receiver's own back to it) and sends frames whose
/// length prefix announces more than the limit: replays are answered `Duplicate` and change
/// nothing (stored once, received once, forwarded once); the oversized frames are refused
/// unread with a typed error, logged as events and in the audit log; the node stays up and
/// serves its members.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_change_nothing_and_oversized_frames_are_refused_and_logged() {
    let Stage {
        dir: _dir,
        pk,
        tr,
        first: own,
        pk_events: mut ev,
        gr_key,
        mut gr,
        addr,
        ..
    } = stage().await;
    // Greece, a member, pushes its record to Turkey, which relays it to Pakistan
    gr.confirm_agreement(&tr, "QUAD-2026").await;
    let greek = sign(&record("GR-HCG", "QUAD-2026", 1, "greek record"), &gr_key).unwrap();
    let push = |records| Message::Push(Push { records });
    let acks = |outcome: RawOutcome| match outcome {
        RawOutcome::Response(Message::Ack(ack)) => ack.results,
        other => panic!("expected an ack, got {other:?}"),
    };
    assert_eq!(
        acks(
            gr.send(peer_of(&tr), &addr, &push(vec![greek.clone()]))
                .await
        ),
        vec![accord_protocol::wire::AckEntry::Stored(greek.id())]
    );
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "PK to hold GR's record",
        || pk.holds(&greek.id()),
    )
    .await;
    let held = (
        tr.handle.store().records().len(),
        pk.handle.store().records().len(),
    );

    // replays: Greece's record again, three times in one push, and Turkey's own record back
    let own_env = tr
        .handle
        .store()
        .records()
        .get(&own)
        .unwrap()
        .unwrap()
        .envelope;
    for records in [
        vec![greek.clone()],
        vec![greek.clone(), greek.clone(), greek.clone()],
        vec![own_env.clone()],
    ] {
        let ids: Vec<_> = records.iter().map(|e| e.id()).collect();
        assert_eq!(
            acks(gr.send(peer_of(&tr), &addr, &push(records)).await),
            ids.into_iter()
                .map(accord_protocol::wire::AckEntry::Duplicate)
                .collect::<Vec<_>>(),
            "a replay is answered duplicate"
        );
    }

    // frames announcing more than the limit: refused before a byte of the body is read
    let mut tr_events = tr.handle.subscribe();
    let limit = u32::try_from(accord_protocol::wire::MAX_FRAME_BYTES).unwrap();
    for declared in [limit + 1, u32::MAX] {
        let outcome = gr
            .request_frame(
                peer_of(&tr),
                &addr,
                accord_testkit::RawFrame {
                    declared,
                    bytes: vec![0x42; 1024],
                    hold: false,
                },
            )
            .await;
        match outcome {
            RawOutcome::Response(Message::Refused(r)) => {
                assert_eq!(r.code, RejectCode::Malformed);
                assert!(
                    r.detail
                        .contains(&format!("frame of {declared} bytes exceeds the maximum")),
                    "{}",
                    r.detail
                );
            }
            other => panic!("expected a typed refusal, got {other:?}"),
        }
    }
    let oversized = |detail: &str| detail.contains("exceeds the maximum");
    wait_until(
        &mut [tr.handle.subscribe()],
        Duration::from_secs(30),
        "both oversized frames to be logged",
        || {
            audit_rejects(&tr, "GR-HCG")
                .iter()
                .filter(|(c, r)| *c == RejectCode::Malformed.code() && oversized(r))
                .count()
                == 2
        },
    )
    .await;
    let seen = rejections(&mut tr_events);
    assert_eq!(
        seen.iter()
            .filter(|(from, code, d)| *from == agency("GR-HCG")
                && *code == RejectCode::Malformed.code()
                && oversized(d))
            .count(),
        2,
        "{seen:?}"
    );

    // the node stays up: the same member's next record is stored and relayed, a new record of
    // Turkey's reaches Pakistan
    let next = sign(&record("GR-HCG", "QUAD-2026", 2, "greek record 2"), &gr_key).unwrap();
    assert_eq!(
        acks(
            gr.send(peer_of(&tr), &addr, &push(vec![next.clone()]))
                .await
        ),
        vec![accord_protocol::wire::AckEntry::Stored(next.id())]
    );
    let after = tr
        .publish(&draft("QUAD-2026", "alert", "H1", "after the replays"))
        .await;
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "PK to hold the records after the replays",
        || pk.holds(&after) && pk.holds(&next.id()),
    )
    .await;

    // the replays changed nothing: each record stored once, received once, sent to Pakistan
    // once, and no record beyond the two new ones
    assert_eq!(
        (
            tr.handle.store().records().len(),
            pk.handle.store().records().len()
        ),
        (held.0 + 2, held.1 + 2)
    );
    assert_eq!(audit_entries_for(&tr, "receive", &greek.id(), None), 1);
    assert_eq!(
        audit_entries_for(&tr, "receive", &own, None),
        0,
        "its own record"
    );
    assert_eq!(
        audit_entries_for(&tr, "send", &greek.id(), Some("PK-FIA")),
        1,
        "relayed once"
    );
    assert_eq!(audit_entries_for(&pk, "receive", &greek.id(), None), 1);
    pk.stop().await;
    tr.stop().await;
}

/// A member signs records that withdraw and correct another member's record, and one under an
/// agreement that answers a record of another: each refused as a bad reference, logged, nothing
/// stored; the record stays standing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_cannot_withdraw_or_correct_another_members_record() {
    let Stage {
        dir: _dir,
        pk,
        tr,
        first,
        gr_key,
        mut gr,
        addr,
        ..
    } = stage().await;
    gr.confirm_agreement(&tr, "QUAD-2026").await;
    let mut withdrawal = record("GR-HCG", "QUAD-2026", 1, "withdrawing Turkey's record");
    withdrawal.withdraws = Some(first);
    let mut correction = record("GR-HCG", "QUAD-2026", 1, "correcting Turkey's record");
    correction.corrects = Some(first);
    let mut tr_events = tr.handle.subscribe();
    for forged in [withdrawal, correction] {
        let env = sign(&forged, &gr_key).unwrap();
        let push = Message::Push(Push {
            records: vec![env.clone()],
        });
        match gr.send(peer_of(&tr), &addr, &push).await {
            RawOutcome::Response(Message::Ack(ack)) => match &ack.results[..] {
                [accord_protocol::wire::AckEntry::Rejected { code, detail }] => {
                    assert_eq!(*code, RejectCode::BadReference);
                    assert!(detail.contains(&first.to_string()), "{detail}");
                }
                other => panic!("expected a refusal, got {other:?}"),
            },
            other => panic!("expected an ack, got {other:?}"),
        }
        assert!(!tr.holds(&env.id()));
    }
    let seen = rejections(&mut tr_events);
    assert_eq!(
        seen.iter()
            .filter(|(_, code, _)| *code == RejectCode::BadReference.code())
            .count(),
        2,
        "{seen:?}"
    );
    assert_eq!(
        audit_rejects(&tr, "GR-HCG")
            .iter()
            .filter(|(code, _)| *code == RejectCode::BadReference.code())
            .count(),
        2
    );
    assert_eq!(
        tr.handle.store().queries().withdrawn_by(&first).unwrap(),
        None
    );
    pk.stop().await;
    tr.stop().await;
}

/// An agency the node knows but shares no agreement with (a former partner, say) asks for its
/// sync status and offers its own checkpoint: it is answered with nothing — no agreement, no
/// head, no audit checkpoint, no revocation — and its checkpoint is not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_sharing_no_agreement_learns_nothing_of_the_log() {
    use accord_protocol::audit::{Checkpoint, Digest32, sign_checkpoint};
    let dir = quad_copy();
    let bg_key = demo_key(dir.path(), "bg-gdbp");
    let cfg = dir.path().join("pk-fia").join("node.toml");
    let text = std::fs::read_to_string(&cfg).unwrap()
        + &format!(
            "\n[[known_agency]]\nid = \"BG-GDBP\"\npublic_key = \"{}\"\naddresses = [\"/ip4/127.0.0.1/tcp/9\"]\n",
            bg_key.public_key()
        );
    std::fs::write(&cfg, text).unwrap();
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    pk.publish(&draft("QUAD-2026", "alert", "H1", "Pakistan's"))
        .await;
    pk.handle
        .checkpoint(accord_node::clock::now())
        .await
        .unwrap();
    assert!(
        pk.handle
            .store()
            .checkpoints()
            .latest_checkpoint()
            .unwrap()
            .is_some()
    );

    let mut bg = RawPeer::new(&bg_key);
    let addr = wait_for_listen(&pk.handle).await.remove(0);
    let own = sign_checkpoint(
        &Checkpoint {
            agency: agency("BG-GDBP"),
            count: 0,
            head: Digest32([0; 32]),
            time: accord_node::clock::now(),
        },
        &bg_key,
    )
    .unwrap();
    let status = Message::SyncStatus(accord_protocol::wire::SyncStatus {
        agreements: vec![],
        checkpoint: Some(own),
        revocations: vec![],
    });
    match bg.send(peer_of(&pk), &addr, &status).await {
        RawOutcome::Response(Message::SyncStatus(s)) => {
            assert!(s.agreements.is_empty(), "{s:?}");
            assert!(
                s.checkpoint.is_none(),
                "the log's checkpoint went to a non-partner"
            );
            assert!(s.revocations.is_empty());
        }
        other => panic!("expected a sync status, got {other:?}"),
    }
    assert!(
        pk.handle
            .store()
            .checkpoints()
            .partner_checkpoints()
            .unwrap()
            .is_empty(),
        "a non-partner's checkpoint was kept"
    );
    pk.stop().await;
}

/// A member whose text of an agreement differs from ours learns nothing of the records held
/// under it — the status answers it with the agreement's hash and signatures but no heads —
/// until its text is confirmed identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_go_only_to_a_member_whose_text_is_confirmed() {
    let Stage {
        dir: _dir,
        pk,
        tr,
        mut gr,
        addr,
        ..
    } = stage().await;
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let status = |hash| {
        Message::SyncStatus(accord_protocol::wire::SyncStatus {
            agreements: vec![accord_protocol::wire::AgreementStatus {
                agreement: quad.clone(),
                agreement_hash: hash,
                heads: vec![],
                signatures: vec![],
            }],
            checkpoint: None,
            revocations: vec![],
        })
    };
    let heads_of = |outcome: RawOutcome| match outcome {
        RawOutcome::Response(Message::SyncStatus(s)) => {
            let a = s.agreements.iter().find(|a| a.agreement == quad).unwrap();
            a.heads.len()
        }
        other => panic!("expected a sync status, got {other:?}"),
    };
    let mut other_text = tr.cfg.agreements[&quad].hash;
    other_text[0] ^= 1;
    assert_eq!(
        heads_of(gr.send(peer_of(&tr), &addr, &status(other_text)).await),
        0,
        "heads given to a member holding another text"
    );
    let members = tr.cfg.agreements[&quad].members.len();
    assert_eq!(
        heads_of(
            gr.send(peer_of(&tr), &addr, &status(tr.cfg.agreements[&quad].hash))
                .await
        ),
        members,
        "once the text is confirmed, a head per member's stream"
    );
    pk.stop().await;
    tr.stop().await;
}

/// A connection refused for an unknown key, and a request cut off mid-way, showed only at
/// DEBUG: now each is logged at WARN (at most once a minute per source, with the count) and
/// counted in the status and the metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_and_cut_off_requests_are_counted_where_operators_look() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let status = Message::SyncStatus(accord_protocol::wire::SyncStatus {
        agreements: vec![],
        checkpoint: None,
        revocations: vec![],
    });
    for seed in 0..3u8 {
        let mut stranger = RawPeer::new(&SecretKey::from_seed(&[100 + seed; 32]));
        assert!(matches!(
            stranger.send(peer_of(&tr), &addr, &status).await,
            RawOutcome::Failed(_)
        ));
    }
    // a member's request announcing 4 KiB and ending after 10 bytes
    let mut bg = RawPeer::new(&demo_key(dir.path(), "bg-gdbp"));
    let _ = bg
        .request_frame(
            peer_of(&tr),
            &addr,
            accord_testkit::RawFrame {
                declared: 4096,
                bytes: vec![7; 10],
                hold: false,
            },
        )
        .await;
    let mut events = [tr.handle.subscribe()];
    let mut refused = std::collections::BTreeMap::new();
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(20),
        "the refusals to be counted",
        || {
            refused = futures_now(tr.handle.status()).refused;
            refused.get("unknown-key").copied().unwrap_or(0) >= 3
                && refused.get("request-cut-off").copied().unwrap_or(0) >= 1
        },
    )
    .await;
    let metrics = tr
        .handle
        .metrics()
        .render(&accord_node::metrics::State::default());
    assert!(
        metrics.contains("accord_connections_refused_total{reason=\"unknown-key\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("accord_inbound_failures_total{peer=\"BG-GDBP\"} 1"),
        "{metrics}"
    );
    tr.stop().await;
}

/// Polls a future once on this thread's runtime handle (the status is answered at once).
fn futures_now<T>(f: impl std::future::Future<Output = Result<T, accord_node::net::Stopped>>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f)).unwrap()
}

/// An unknown key flooding Turkey with connections from an address a member also uses
/// (loopback here, a NAT or a relay between agencies) emptied that address's allowance, and
/// the member's own attempts were refused before their handshake until Turkey's next redial
/// (up to 30 s). Now Turkey dials the member at once when its address is flooded — an outgoing
/// connection is never bounded by the flood — and a member's connections give their token back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_on_the_address_of_a_flooder_still_connects() {
    let dir = quad_copy();
    // Turkey redials slowly: only the flooded-address rule can make it dial early
    let slow = accord_node::net::NetConfig {
        redial_min: Duration::from_secs(30),
        redial_max: Duration::from_secs(30),
        ..accord_testkit::fast()
    };
    let tr = TestNode::start_with(load(dir.path(), "tr-jgk"), slow).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    accord_testkit::connect_all(&[&tr, &gr]).await;
    let mut events = [tr.handle.subscribe(), gr.handle.subscribe()];
    let connected = |n: &TestNode, who: &str| {
        futures_now(n.handle.peers())
            .connected
            .iter()
            .any(|a| a.as_str() == who)
    };
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(20),
        "the first connection",
        || connected(&tr, "GR-HCG"),
    )
    .await;
    // Greece goes down; Turkey's redial fails once, then waits 30 s
    let gr_addr = wait_for_listen(&gr.handle).await.remove(0);
    let mut gr_cfg = gr.stop().await;
    accord_testkit::wait_until(
        &mut events[..1],
        Duration::from_secs(20),
        "Greece to be gone",
        || !connected(&tr, "GR-HCG"),
    )
    .await;
    let dial_failed = || {
        tr.handle
            .metrics()
            .render(&accord_node::metrics::State::default())
            .contains("accord_dial_failures_total{peer=\"GR-HCG\"}")
    };
    accord_testkit::wait_until(
        &mut events[..1],
        Duration::from_secs(20),
        "Turkey's redial to fail",
        dial_failed,
    )
    .await;
    // a stranger floods Turkey from loopback, Greece's address too
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood: Vec<_> = (0..4u8)
        .map(|t| {
            let (addr, stop, peer) = (addr.clone(), stop.clone(), peer_of(&tr));
            tokio::spawn(async move {
                let mut i = 0u8;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut stranger = RawPeer::new(&SecretKey::from_seed(&[
                        t, i, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                        7, 7, 7, 7, 7, 7, 7,
                    ]));
                    let _ = stranger
                        .send(
                            peer,
                            &addr,
                            &Message::SyncStatus(accord_protocol::wire::SyncStatus {
                                agreements: vec![],
                                checkpoint: None,
                                revocations: vec![],
                            }),
                        )
                        .await;
                    i = i.wrapping_add(1);
                }
            })
        })
        .collect();
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(20),
        "the flood to be refused",
        || {
            futures_now(tr.handle.status())
                .refused
                .get("too-fast")
                .copied()
                .unwrap_or(0)
                > 0
        },
    )
    .await;
    // Greece comes back on its address and dials Turkey: refused at the door, but Turkey
    // dials it now
    gr_cfg.listen = vec![gr_addr];
    let gr = TestNode::start(gr_cfg).await;
    let began = std::time::Instant::now();
    gr.handle
        .add_address(agency("TR-JGK"), addr.clone())
        .await
        .unwrap();
    accord_testkit::wait_until(
        &mut events[..1],
        Duration::from_secs(15),
        "Greece to connect again",
        || connected(&tr, "GR-HCG"),
    )
    .await;
    eprintln!(
        "Greece connected {:?} after it came back, under the flood",
        began.elapsed()
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in flood {
        let _ = tokio::time::timeout(Duration::from_secs(20), f).await;
    }
    gr.stop().await;
    tr.stop().await;
}

/// Every SyncStatus Turkey gave Bulgaria carried an audit checkpoint counting the whole log, so
/// one QUAD-2026 publish moved what a TR-BG-2026-only partner saw (54 → 61: the publish, its
/// sends and deliveries). Now a partner is given a slot checkpoint, which moves once a slot
/// whatever the log did: everything Bulgaria receives — the statuses Turkey sends it, and its
/// answers to Bulgaria's statuses and range requests — is the same before, during and after
/// QUAD-2026 traffic, while Turkey's log grew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_under_other_agreements_does_not_leak_through_the_checkpoint() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = quad_copy();
    // one slot for the whole test: nothing moves what Bulgaria sees but the test's traffic
    let net = accord_node::net::NetConfig {
        checkpoint_slot: Duration::from_secs(u64::from(u32::MAX)),
        ..accord_testkit::fast()
    };
    let tr = TestNode::start_with(load(dir.path(), "tr-jgk"), net).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    connect_all(&[&tr, &gr]).await;
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let bg_key = demo_key(dir.path(), "bg-gdbp");
    let mut bg = RawPeer::new(&bg_key);
    bg.confirm_agreement(&tr, "TR-BG-2026").await;
    // Bulgaria has a record under TR-BG-2026 at Turkey, so its view holds a head
    let bilateral = AgreementId::new("TR-BG-2026").unwrap();
    let own = sign(
        &record("BG-GDBP", "TR-BG-2026", 1, "bulgaria's own"),
        &bg_key,
    )
    .unwrap();
    match bg
        .send(
            peer_of(&tr),
            &addr,
            &Message::Push(Push {
                records: vec![own.clone()],
            }),
        )
        .await
    {
        RawOutcome::Response(Message::Ack(a)) => assert!(
            matches!(a.results[..], [accord_protocol::wire::AckEntry::Stored(_)]),
            "{a:?}"
        ),
        other => panic!("expected an ack, got {other:?}"),
    }
    let bg_status = Message::SyncStatus(accord_protocol::wire::SyncStatus {
        agreements: vec![accord_protocol::wire::AgreementStatus {
            agreement: bilateral.clone(),
            agreement_hash: tr.cfg.agreements[&bilateral].hash,
            heads: vec![],
            signatures: vec![],
        }],
        checkpoint: None,
        revocations: vec![],
    });
    let asks: Vec<Message> = ["BG-GDBP", "TR-JGK"]
        .iter()
        .map(|a| {
            Message::RangeRequest(RangeRequest {
                agreement: bilateral.clone(),
                stream: accord_protocol::StreamId::agency(&agency(a)),
                from: Seq::FIRST,
                to: Seq::new(100).unwrap(),
            })
        })
        .collect();
    // what Bulgaria is told: Turkey's answer to its status, and to each range request
    async fn view(
        bg: &mut RawPeer,
        tr: &TestNode,
        addr: &libp2p::Multiaddr,
        status: &Message,
        asks: &[Message],
    ) -> Vec<Message> {
        let mut out = Vec::new();
        for m in std::iter::once(status).chain(asks) {
            match bg.send(peer_of(tr), addr, m).await {
                RawOutcome::Response(r) => out.push(r),
                other => panic!("{m:?} came to {other:?}"),
            }
        }
        out
    }
    let before = view(&mut bg, &tr, &addr, &bg_status, &asks).await;
    let Message::SyncStatus(s) = &before[0] else {
        panic!("{:?}", before[0])
    };
    assert!(
        s.checkpoint.is_some(),
        "a partner is given a slot checkpoint"
    );
    assert!(
        s.agreements
            .iter()
            .any(|a| a.heads.iter().any(|h| h.seq >= 1)),
        "Bulgaria's record is not in the view: {s:?}"
    );
    let log_before = tr.handle.store().log().audit_head().unwrap().count;

    // QUAD-2026 traffic, while Bulgaria stays connected and hears whatever Turkey tells it
    let stop = AtomicBool::new(false);
    let heard = std::sync::atomic::AtomicUsize::new(0);
    let traffic = async {
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(
                tr.publish(&draft("QUAD-2026", "alert", "H1", &format!("quad {i}")))
                    .await,
            );
        }
        let mut events = vec![tr.handle.subscribe(), gr.handle.subscribe()];
        wait_until(
            &mut events,
            Duration::from_secs(30),
            "Greece to hold the QUAD-2026 records and Turkey's outbox to it to drain",
            || {
                ids.iter().all(|id| gr.holds(id))
                    && !tr
                        .handle
                        .store()
                        .outbox()
                        .depths()
                        .unwrap()
                        .contains_key(&agency("GR-HCG"))
            },
        )
        .await;
        // and three more statuses of Turkey's after it, which that traffic would have moved
        let at_drain = heard.load(Ordering::Relaxed);
        let mut events = vec![tr.handle.subscribe()];
        wait_until(
            &mut events,
            Duration::from_secs(20),
            "three more statuses from Turkey",
            || heard.load(Ordering::Relaxed) >= at_drain + 3,
        )
        .await;
        stop.store(true, Ordering::Relaxed);
    };
    let (heard, ()) = tokio::join!(bg.serve(&bg_status, &stop, &heard), traffic);
    let log_after = tr.handle.store().log().audit_head().unwrap().count;
    assert!(
        log_after >= log_before + 3 * 2,
        "Turkey's log did not grow with the traffic: {log_before} → {log_after}"
    );
    let statuses: Vec<&Message> = heard
        .iter()
        .filter(|m| matches!(m, Message::SyncStatus(_)))
        .collect();
    assert!(
        !statuses.is_empty(),
        "Turkey told Bulgaria nothing: {heard:?}"
    );
    let Message::SyncStatus(was) = &before[0] else {
        unreachable!()
    };
    for m in &heard {
        match m {
            // a full status, or an announcement of TR-BG-2026's heads (Bulgaria's own push
            // moved them; it carries no signatures): the same heads either way, and a full
            // one the same everything
            Message::SyncStatus(s) => {
                let heads = |x: &accord_protocol::wire::SyncStatus| {
                    x.agreements
                        .iter()
                        .map(|a| (a.agreement.clone(), a.agreement_hash, a.heads.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(
                    heads(s),
                    heads(was),
                    "a status Turkey sent Bulgaria during QUAD-2026 traffic differs"
                );
                if s.checkpoint.is_some() {
                    assert_eq!(s, was, "a full status Turkey sent Bulgaria differs");
                }
            }
            other => panic!("Turkey sent Bulgaria {other:?} during QUAD-2026 traffic"),
        }
    }
    let after = view(&mut bg, &tr, &addr, &bg_status, &asks).await;
    assert_eq!(
        after, before,
        "Bulgaria's view moved with QUAD-2026 traffic"
    );
    tr.stop().await;
    gr.stop().await;
}
