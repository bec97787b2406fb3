//! Signed agreements over the network: an agreement takes effect only once every member's
//! signature of its exact file is held; members exchange the signatures they hold, verify
//! them, keep them across restarts and log each in the audit trail; a forged signature or a
//! member that never signed keeps the agreement out of effect, and nothing is shared under it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use accord_protocol::wire::{AckEntry, AgreementStatus, Push, RejectCode, SyncStatus};
use accord_protocol::{AgencyId, AgreementId, Message, Seq, sign};
use accord_testkit::{
    RawOutcome, RawPeer, TestNode, connect_all, demo_key, draft, load, peer_of, quad_copy,
    wait_for_listen, wait_until,
};

fn id(s: &str) -> AgreementId {
    AgreementId::new(s).unwrap()
}

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

/// Gives `who` its own copy of TR-BG-2026 whose signature file holds only the lines of
/// `signers` (as when each agency has signed its own copy and nothing was exchanged yet).
fn own_copy_of_tr_bg(fed: &Path, who: &str, signers: &[&str]) {
    let src = fed.join("agreements/tr-bg-2026.toml");
    let dst = fed.join(who).join("tr-bg-2026.toml");
    std::fs::copy(&src, &dst).unwrap();
    let sigs = std::fs::read_to_string(fed.join("agreements/tr-bg-2026.toml.sigs")).unwrap();
    let kept: String = sigs
        .lines()
        .filter(|l| l.starts_with('#') || signers.iter().any(|s| l.starts_with(s)))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(fed.join(who).join("tr-bg-2026.toml.sigs"), kept).unwrap();
    let node = fed.join(who).join("node.toml");
    let text = std::fs::read_to_string(&node).unwrap();
    let moved = text.replace("\"../agreements/tr-bg-2026.toml\"", "\"tr-bg-2026.toml\"");
    assert_ne!(text, moved, "{who} lists TR-BG-2026");
    std::fs::write(&node, moved).unwrap();
}

fn in_effect(node: &TestNode, agreement: &str) -> bool {
    node.handle.config().agreements[&id(agreement)].fully_signed()
}

fn audit_mentions(node: &TestNode, needle: &str) -> bool {
    node.handle
        .store()
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .any(|e| String::from_utf8_lossy(e).contains(needle))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_exchange_signatures_and_the_agreement_then_takes_effect() {
    let dir = quad_copy();
    own_copy_of_tr_bg(dir.path(), "tr-jgk", &["TR-JGK"]);
    own_copy_of_tr_bg(dir.path(), "bg-gdbp", &["BG-GDBP"]);
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let bg = TestNode::start(load(dir.path(), "bg-gdbp")).await;

    // each holds only its own signature: nothing may be published under the agreement yet
    assert!(!in_effect(&tr, "TR-BG-2026") && !in_effect(&bg, "TR-BG-2026"));
    let d = accord_node::draft::parse_draft(
        draft("TR-BG-2026", "alert", "H1", "Crossing at night").as_bytes(),
    )
    .unwrap();
    let err = tr
        .handle
        .publish(d, accord_node::clock::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("TR-BG-2026 has not taken effect") && err.contains("BG-GDBP"),
        "{err}"
    );
    assert_eq!(
        tr.handle.store().records().len(),
        0,
        "nothing stored by the refusal"
    );

    // once connected, each learns the other's signature from its sync status
    let mut ev = vec![tr.handle.subscribe(), bg.handle.subscribe()];
    connect_all(&[&tr, &bg]).await;
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "both to hold both signatures",
        || in_effect(&tr, "TR-BG-2026") && in_effect(&bg, "TR-BG-2026"),
    )
    .await;
    assert!(audit_mentions(&tr, r#""kind":"agreement-signature""#));
    assert!(audit_mentions(&tr, r#""signer":"BG-GDBP""#));
    assert!(audit_mentions(&bg, r#""signer":"TR-JGK""#));

    // and records now flow under it
    let rid = tr
        .publish(&draft("TR-BG-2026", "alert", "H1", "Crossing at night"))
        .await;
    wait_until(&mut ev, Duration::from_secs(30), "BG to store it", || {
        bg.holds(&rid)
    })
    .await;

    // the collected signature is kept: after a restart, alone, the agreement is in effect
    bg.stop().await;
    let cfg = tr.stop().await;
    let tr = TestNode::start(cfg).await;
    assert!(in_effect(&tr, "TR-BG-2026"));
    tr.publish(&draft("TR-BG-2026", "alert", "H1", "Second crossing"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agreement_a_member_never_signed_is_not_shared_under_and_forgeries_do_not_count() {
    let dir = quad_copy();
    // Iran never signed QUAD-2026
    let sigs = dir.path().join("agreements/quad-2026.toml.sigs");
    let text = std::fs::read_to_string(&sigs).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("IR-FARAJA"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(text, without);
    std::fs::write(&sigs, without).unwrap();

    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    connect_all(&[&tr, &gr]).await;
    let mut ev = vec![tr.handle.subscribe(), gr.handle.subscribe()];
    // TR-BG-2026 is signed by both its members and works as before
    let ok = tr
        .publish(&draft("TR-BG-2026", "alert", "H1", "unrelated"))
        .await;
    assert!(tr.holds(&ok));

    // publishing under QUAD-2026 is refused, naming the missing member
    let d = accord_node::draft::parse_draft(
        draft("QUAD-2026", "alert", "H1", "Boat expected").as_bytes(),
    )
    .unwrap();
    let err = tr
        .handle
        .publish(d, accord_node::clock::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the signature of IR-FARAJA"), "{err}");

    // a record of Pakistan's pushed under it is refused with code 13, and not stored
    let pk_key = demo_key(dir.path(), "pk-fia");
    let rec = accord_node::draft::parse_draft(
        draft("QUAD-2026", "alert", "H1", "Group left Quetta").as_bytes(),
    )
    .unwrap()
    .into_record(&agency("PK-FIA"), Seq::FIRST, accord_node::clock::now())
    .unwrap();
    let env = sign(&rec, &pk_key).unwrap();
    let mut raw = RawPeer::new(&pk_key);
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let hash = tr.cfg.agreements[&id("QUAD-2026")].hash;
    // ... after a status that offers a forged signature for Iran
    let status = Message::SyncStatus(SyncStatus {
        agreements: vec![AgreementStatus {
            agreement: id("QUAD-2026"),
            agreement_hash: hash,
            heads: vec![],
            signatures: vec![(agency("IR-FARAJA"), [7u8; 64])],
        }],
        checkpoint: None,
        revocations: vec![],
    });
    assert!(matches!(
        raw.send(peer_of(&tr), &addr, &status).await,
        RawOutcome::Response(Message::SyncStatus(_))
    ));
    // Pakistan's own signature by Pakistan's key over another text does not count either
    let other = accord_protocol::agreement::sign_agreement(&pk_key, &[0u8; 32]);
    let status = Message::SyncStatus(SyncStatus {
        agreements: vec![AgreementStatus {
            agreement: id("QUAD-2026"),
            agreement_hash: hash,
            heads: vec![],
            signatures: vec![(agency("IR-FARAJA"), other)],
        }],
        checkpoint: None,
        revocations: vec![],
    });
    assert!(matches!(
        raw.send(peer_of(&tr), &addr, &status).await,
        RawOutcome::Response(Message::SyncStatus(_))
    ));
    assert!(
        !in_effect(&tr, "QUAD-2026"),
        "a forged signature never counts"
    );
    assert!(!audit_mentions(&tr, r#""signer":"IR-FARAJA""#));

    let ack = raw
        .send(
            peer_of(&tr),
            &addr,
            &Message::Push(Push {
                records: vec![env.clone()],
            }),
        )
        .await;
    match ack {
        RawOutcome::Response(Message::Ack(a)) => assert!(
            matches!(&a.results[..], [AckEntry::Rejected { code: RejectCode::AgreementNotSigned, detail }] if detail.contains("IR-FARAJA")),
            "{:?}",
            a.results
        ),
        other => panic!("expected an ack, got {other:?}"),
    }
    assert!(!tr.holds(&env.id()));

    // Greece holds nothing under QUAD-2026 either, and the TR-BG record never reached it
    wait_until(
        &mut ev,
        Duration::from_secs(5),
        "the status exchange",
        || {
            gr.handle
                .config()
                .agreements
                .get(&id("QUAD-2026"))
                .is_some_and(|a| !a.fully_signed())
        },
    )
    .await;
    assert_eq!(gr.handle.store().records().len(), 0);
}

/// A status carries an agreement's signatures only until the peer has shown, by giving heads
/// under it, that it holds every member's; and the announcement a node sends after storing
/// records carries their agreement's new heads alone, without the checkpoint or the
/// signatures (docs/protocol.md §6, "When a SyncStatus goes").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_go_to_a_peer_until_it_gives_heads_and_announcements_carry_heads_alone() {
    use accord_protocol::wire::Head;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = quad_copy();
    // no periodic full status during the test: what Turkey sends is the announcement
    let net = accord_node::net::NetConfig {
        sync_interval: Duration::from_secs(3_600),
        ..accord_testkit::fast()
    };
    let tr = TestNode::start_with(load(dir.path(), "tr-jgk"), net).await;
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let bg_key = demo_key(dir.path(), "bg-gdbp");
    let mut bg = RawPeer::new(&bg_key);
    let bilateral = id("TR-BG-2026");
    let hash = tr.cfg.agreements[&bilateral].hash;
    let status = |heads: Vec<Head>| {
        Message::SyncStatus(SyncStatus {
            agreements: vec![AgreementStatus {
                agreement: bilateral.clone(),
                agreement_hash: hash,
                heads,
                signatures: vec![],
            }],
            checkpoint: None,
            revocations: vec![],
        })
    };
    async fn ask(
        bg: &mut RawPeer,
        tr: &TestNode,
        addr: &libp2p::Multiaddr,
        m: &Message,
    ) -> SyncStatus {
        match bg.send(peer_of(tr), addr, m).await {
            RawOutcome::Response(Message::SyncStatus(s)) => s,
            other => panic!("expected a status, got {other:?}"),
        }
    }
    // Turkey signs its first slot checkpoint on a tick after it starts: wait for it, so that
    // the answers below carry one
    let mut events = [tr.handle.subscribe()];
    wait_until(
        &mut events,
        Duration::from_secs(20),
        "Turkey's first slot checkpoint",
        || {
            tr.handle
                .store()
                .checkpoints()
                .latest_slot_checkpoint()
                .unwrap()
                .is_some()
        },
    )
    .await;
    // Bulgaria gives no heads yet: Turkey's answer carries both members' signatures
    let first = ask(&mut bg, &tr, &addr, &status(vec![])).await;
    assert_eq!(first.agreements.len(), 1, "{first:?}");
    assert_eq!(first.agreements[0].signatures.len(), 2, "{first:?}");
    assert!(!first.agreements[0].heads.is_empty(), "{first:?}");
    assert!(first.checkpoint.is_some(), "{first:?}");
    // Bulgaria gives heads, so holds every signature: Turkey's answer carries none, and still
    // the heads and the checkpoint
    let zero = |a: &str| Head {
        stream: accord_protocol::StreamId::agency(&agency(a)),
        seq: 0,
        digest: [0; 32],
    };
    let with_heads = status(vec![zero("BG-GDBP"), zero("TR-JGK")]);
    let second = ask(&mut bg, &tr, &addr, &with_heads).await;
    assert!(second.agreements[0].signatures.is_empty(), "{second:?}");
    assert_eq!(second.agreements[0].heads, first.agreements[0].heads);
    assert_eq!(second.checkpoint, first.checkpoint);

    // Bulgaria pushes a record; Turkey announces its new head under TR-BG-2026 to Bulgaria
    let rec = accord_node::draft::parse_draft(
        draft("TR-BG-2026", "alert", "H2", "bulgaria's").as_bytes(),
    )
    .unwrap()
    .into_record(
        &agency("BG-GDBP"),
        Seq::new(1).unwrap(),
        accord_node::clock::now(),
    )
    .unwrap();
    let env = sign(&rec, &bg_key).unwrap();
    match bg
        .send(
            peer_of(&tr),
            &addr,
            &Message::Push(Push { records: vec![env] }),
        )
        .await
    {
        RawOutcome::Response(Message::Ack(a)) => {
            assert!(matches!(a.results[..], [AckEntry::Stored(_)]), "{a:?}");
        }
        other => panic!("expected an ack, got {other:?}"),
    }
    // what Turkey sends Bulgaria until it gives the new head (first, perhaps, the full status
    // it sent when Bulgaria connected, with the old one)
    let gives_new_head = |s: &SyncStatus| {
        s.agreements.iter().any(|a| {
            a.heads
                .iter()
                .any(|h| h.stream.as_str() == "BG-GDBP" && h.seq == 1)
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut told = None;
    while told.is_none() && std::time::Instant::now() < deadline {
        let (stop, heard) = (AtomicBool::new(false), AtomicUsize::new(0));
        let watch = async {
            while heard.load(Ordering::Relaxed) == 0 && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            stop.store(true, Ordering::Relaxed);
        };
        let (got, ()) = tokio::join!(bg.serve(&with_heads, &stop, &heard), watch);
        told = got.into_iter().find_map(|m| match m {
            Message::SyncStatus(s) if gives_new_head(&s) => Some(s),
            _ => None,
        });
    }
    let told = told.expect("Turkey never announced the head of the record it stored");
    assert_eq!(told.agreements.len(), 1, "{told:?}");
    let a = &told.agreements[0];
    assert_eq!(a.agreement, bilateral);
    assert!(a.signatures.is_empty(), "{told:?}");
    assert!(
        told.checkpoint.is_none() && told.revocations.is_empty(),
        "{told:?}"
    );
    tr.stop().await;
}
