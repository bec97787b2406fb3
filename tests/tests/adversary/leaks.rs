//! Agencies outside an agreement learn nothing of it: not its records, heads, log activity
//! or checkpoints, and a peer outside the allow-list opens no accord protocol.

use super::*;

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
    // three `publish` entries, and at least one `send-batch` and one `delivered-push`
    assert!(
        log_after >= log_before + 3 + 2,
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
