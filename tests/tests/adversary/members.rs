//! Members that misbehave: forged records, replays, oversized frames, and withdrawing or
//! correcting another member's record are refused, logged, and never stored or forwarded.

use super::*;

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
