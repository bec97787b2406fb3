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
