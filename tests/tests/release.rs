//! Two-person release on loopback nodes (docs/workflows.md "Releasing a sensitive record"):
//! under an agreement whose `[release]` clause requires one approval of H2 and H3 records, an
//! H2 record is held by its originator's node — not sent — until a releaser other than its
//! author approves it, then reaches exactly the members; a declined draft never leaves; and
//! every member refuses (reject code 19) a record whose approval is missing, forged, the
//! author's own, outside the releaser's certificate, or made after the releaser's revocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use accord_node::release::{self, EnrolRequest, HeldState};
use accord_protocol::approval::approve;
use accord_protocol::audit::{AuditEntry, AuditEvent, Signed};
use accord_protocol::delegation::{
    DelegateRole, Delegation, Revocation, certificate_id, issue, revoke,
};
use accord_protocol::envelope::sign_delegated;
use accord_protocol::wire::{AckEntry, RejectCode};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Envelope, HandlingCode, SecretKey, Seq, Timestamp,
    sign,
};
use accord_testkit::{
    TestNode, agreement_with, connect_all, demo_key, draft, load, quad_copy, wait_until,
};

const REL: &str = "REL-2026";

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

/// A certificate of TR-JGK for `key`: a releaser's of `handling` under `agreements`, or an
/// officer's when `handling` is empty.
fn certificate(
    tr: &SecretKey,
    key: &SecretKey,
    holder: &str,
    agreements: &[&str],
    handling: &[HandlingCode],
    now: Timestamp,
) -> Signed {
    let mut agreements: Vec<AgreementId> = agreements
        .iter()
        .map(|a| AgreementId::new(a).unwrap())
        .collect();
    agreements.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    issue(
        &Delegation {
            v: 1,
            agency: agency("TR-JGK"),
            delegate: key.public_key(),
            holder: holder.into(),
            host_country: Country::new("TR").unwrap(),
            agreements,
            categories: vec![Category::Alert],
            valid_from: now.plus_secs(-86_400),
            valid_until: now.plus_secs(86_400),
            issued: now.plus_secs(-86_400),
            role: if handling.is_empty() {
                DelegateRole::Officer
            } else {
                DelegateRole::Releaser
            },
            handling: handling.to_vec(),
        },
        tr,
    )
    .unwrap()
}

/// A REL-2026 H2 alert of TR-JGK numbered `seq`, created at `created`.
fn h2_record(seq: u64, created: Timestamp) -> accord_protocol::Record {
    accord_node::draft::parse_draft(
        draft(REL, "alert", "H2", &format!("Informant report {seq}")).as_bytes(),
    )
    .unwrap()
    .into_record(&agency("TR-JGK"), Seq::new(seq).unwrap(), created)
    .unwrap()
}

fn refused_19(acks: &[AckEntry], reason: &str) -> bool {
    matches!(acks, [AckEntry::Rejected { code: RejectCode::ReleaseNotApproved, detail }] if detail.contains(reason))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sensitive_record_leaves_only_with_a_second_persons_approval() {
    let dir = quad_copy();
    let fed = dir.path();
    agreement_with(
        fed,
        REL,
        &["PK-FIA", "TR-JGK", "GR-HCG"],
        "[release]\napprovals = 1\nhandling = [\"H2\", \"H3\"]\n",
    );
    let tr_key = demo_key(fed, "tr-jgk");
    let now = accord_node::clock::now();

    // Turkey's head of unit holds a releaser's key for H2 and H3 under REL-2026
    let head = SecretKey::from_seed(&[51; 32]);
    let head_file = fed.join("head.key");
    std::fs::write(&head_file, head.to_key_file().as_bytes()).unwrap();
    let head_cert = certificate(
        &tr_key,
        &head,
        "Head of unit, Jandarma",
        &[REL],
        &[HandlingCode::H2, HandlingCode::H3],
        now,
    );

    let names = ["pk-fia", "tr-jgk", "gr-hcg", "bg-gdbp"];
    let mut nodes = Vec::new();
    for n in names {
        nodes.push(TestNode::start(load(fed, n)).await);
    }
    let refs: Vec<&TestNode> = nodes.iter().collect();
    connect_all(&refs).await;
    let by = |a: &str| nodes.iter().find(|n| n.agency.as_str() == a).unwrap();
    let (tr, bg) = (by("TR-JGK"), by("BG-GDBP"));
    let members = ["PK-FIA", "GR-HCG"];
    let mut ev: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();
    let (store, cfg) = (tr.handle.store().clone(), tr.handle.config());

    let enrolled = release::enrol(
        &store,
        &cfg,
        &tr_key,
        &EnrolRequest {
            name: "head".into(),
            key_file: head_file.clone(),
            certificate: head_cert.to_line(),
        },
        now,
        None,
    )
    .unwrap();
    let id_hex: String = certificate_id(&head_cert)
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(enrolled.certificate_id, id_hex);
    // an officer's certificate, or another key's, is not enrolled
    let officer = SecretKey::from_seed(&[52; 32]);
    let officer_file = fed.join("officer.key");
    std::fs::write(&officer_file, officer.to_key_file().as_bytes()).unwrap();
    let officer_cert = certificate(&tr_key, &officer, "Liaison officer", &[REL], &[], now);
    for (key_file, cert, expected) in [
        (&officer_file, &officer_cert, "is an officer's"),
        (&officer_file, &head_cert, "but the certificate of"),
    ] {
        let e = release::enrol(
            &store,
            &cfg,
            &tr_key,
            &EnrolRequest {
                name: "someone".into(),
                key_file: key_file.clone(),
                certificate: cert.to_line(),
            },
            now,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(expected), "{expected}: {e}");
    }

    // the analyst asks for an H2 record: the node will not publish it without approval
    let sensitive = accord_node::draft::parse_draft(
        draft(
            REL,
            "alert",
            "H2",
            "Informant: departure from Çeşme on Friday",
        )
        .as_bytes(),
    )
    .unwrap();
    let refused = tr
        .handle
        .publish(sensitive.clone(), accord_node::clock::now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            accord_node::publish::PublishError::NeedsRelease { needed: 1, .. }
        ),
        "{refused}"
    );
    let held = release::hold(&store, &cfg, &sensitive, Some("analyst"), now).unwrap();
    assert_eq!((held.needed, held.state), (1, HeldState::Waiting));
    // an H1 record of the same agreement needs no approval and goes at once
    let plain = tr
        .publish(&draft(REL, "alert", "H1", "Routine alert"))
        .await;
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "the H1 record to reach the members",
        || members.iter().all(|m| by(m).holds(&plain)),
    )
    .await;
    let rel = AgreementId::new(REL).unwrap();
    for m in members {
        let held_there = by(m).handle.store().queries().all_records().unwrap();
        assert_eq!(
            held_there
                .iter()
                .filter(|r| r.record.agreement == rel)
                .count(),
            1,
            "{m} holds only the H1 record of {REL} while the H2 one waits"
        );
    }

    // the author does not approve their own; a name not enrolled approves nothing
    let e = release::approve(&store, &cfg, &tr_key, &held.id, "analyst", now)
        .unwrap_err()
        .to_string();
    assert!(e.contains("a second person approves"), "{e}");
    let e = release::approve(&store, &cfg, &tr_key, &held.id, "nobody", now)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an enrolled releaser"), "{e}");

    // the head of unit approves: the record is published with the approval and reaches
    // exactly the members
    let approved_at = accord_node::clock::now();
    let done = release::approve(&store, &cfg, &tr_key, &held.id, "head", approved_at).unwrap();
    let id = done.released.expect("one approval releases it");
    assert_eq!(done.held.state, HeldState::Released);
    tr.handle.announce_published(rel.clone()).await;
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "the released record to reach the members",
        || members.iter().all(|m| by(m).holds(&id)),
    )
    .await;
    assert!(!bg.holds(&id), "Bulgaria is not a member of {REL}");
    let at_gr = by("GR-HCG")
        .handle
        .store()
        .records()
        .get(&id)
        .unwrap()
        .unwrap();
    assert_eq!(
        at_gr.envelope.approvals().len(),
        1,
        "the approval travels with the record"
    );
    assert_eq!(at_gr.record.created, now, "created when the author asked");
    // approving again is refused: it was released
    assert!(release::approve(&store, &cfg, &tr_key, &held.id, "head", now).is_err());

    // a declined draft never leaves
    let other = accord_node::draft::parse_draft(
        draft(
            REL,
            "alert",
            "H3",
            "Undercover operation: vessel under watch",
        )
        .as_bytes(),
    );
    let mut other: serde_json::Value = serde_json::to_value(other.unwrap()).unwrap();
    other["handling_restriction"] = "Not for the partners' operational units".into();
    let other: accord_node::draft::Draft = serde_json::from_value(other).unwrap();
    let held2 = release::hold(&store, &cfg, &other, Some("analyst"), now).unwrap();
    let e = release::decline(&store, &cfg, &tr_key, &held2.id, "head", " ", now)
        .unwrap_err()
        .to_string();
    assert!(e.contains("say why"), "{e}");
    let declined = release::decline(
        &store,
        &cfg,
        &tr_key,
        &held2.id,
        "head",
        "Too early: the operation runs",
        now,
    )
    .unwrap();
    assert_eq!(declined.state, HeldState::Declined);
    let e = release::approve(&store, &cfg, &tr_key, &held2.id, "head", now)
        .unwrap_err()
        .to_string();
    assert!(e.contains("declined"), "{e}");
    let listed = release::list(&store).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|h| {
        h.id == held2.id
            && h.declined
                .as_ref()
                .is_some_and(|d| d.reason.contains("Too early"))
    }));

    // every member refuses a record whose approval is missing, forged, the author's own,
    // outside the releaser's certificate, or made after the releaser's revocation
    let created = accord_node::clock::now();
    let approve_as = |env: &Envelope, key: &SecretKey, cert: &Signed, at: Timestamp| {
        approve(env.id(), rel.clone(), at, key, cert.clone()).unwrap()
    };
    let at = created.plus_secs(1);
    let bare = sign(&h2_record(100, created), &tr_key).unwrap();
    let forged = {
        let env = sign(&h2_record(101, created), &tr_key).unwrap();
        let a = approve_as(&env, &officer, &head_cert, at);
        env.with_approvals(vec![a]).unwrap()
    };
    let own = {
        // the officer signs the record and approves it with a releaser's certificate for the
        // same key
        let both = certificate(
            &tr_key,
            &officer,
            "Liaison officer",
            &[REL],
            &[HandlingCode::H2],
            now,
        );
        let env = sign_delegated(&h2_record(102, created), &officer, officer_cert.clone()).unwrap();
        let a = approve_as(&env, &officer, &both, at);
        env.with_approvals(vec![a]).unwrap()
    };
    let other_agreement = {
        let quad_only = certificate(
            &tr_key,
            &head,
            "Head of unit",
            &["QUAD-2026"],
            &[HandlingCode::H2],
            now,
        );
        let env = sign(&h2_record(103, created), &tr_key).unwrap();
        let a = approve_as(&env, &head, &quad_only, at);
        env.with_approvals(vec![a]).unwrap()
    };
    let other_handling = {
        let h3_only = certificate(
            &tr_key,
            &head,
            "Head of unit",
            &[REL],
            &[HandlingCode::H3],
            now,
        );
        let env = sign(&h2_record(104, created), &tr_key).unwrap();
        let a = approve_as(&env, &head, &h3_only, at);
        env.with_approvals(vec![a]).unwrap()
    };
    for m in members {
        let n = by(m);
        for (env, reason) in [
            (&bare, "requires 1 releaser approval"),
            (&forged, "does not verify"),
            (&own, "their own key signed"),
            (&other_agreement, "outside"),
            (&other_handling, "handling code H2 is outside"),
        ] {
            let acks = n.handle.import(vec![env.clone()]).await.unwrap();
            assert!(refused_19(&acks, reason), "{m}, {reason}: {acks:?}");
            assert!(!n.holds(&env.id()));
        }
    }

    // Turkey revokes the head of unit's certificate from `cut`; approvals made after it are
    // refused everywhere, those made before stand
    let cut = created.plus_secs(600);
    let revocation = revoke(
        &Revocation {
            v: 1,
            agency: agency("TR-JGK"),
            certificate: certificate_id(&head_cert),
            revoked: cut,
            reason: "Left the unit".into(),
        },
        &tr_key,
    )
    .unwrap();
    assert_eq!(
        tr.handle.revoke(revocation.clone()).await.unwrap(),
        Ok(true)
    );
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "the revocation to reach the members",
        || {
            members.iter().all(|m| {
                by(m)
                    .handle
                    .store()
                    .trust()
                    .revocations()
                    .unwrap()
                    .contains(&revocation)
            })
        },
    )
    .await;
    let late = {
        let env = sign(&h2_record(105, created), &tr_key).unwrap();
        let a = approve_as(&env, &head, &head_cert, cut.plus_secs(1));
        env.with_approvals(vec![a]).unwrap()
    };
    let early = {
        let env = sign(&h2_record(106, created), &tr_key).unwrap();
        let a = approve_as(&env, &head, &head_cert, at);
        env.with_approvals(vec![a]).unwrap()
    };
    for m in members {
        let acks = by(m).handle.import(vec![late.clone()]).await.unwrap();
        assert!(refused_19(&acks, "revoked"), "{m}: {acks:?}");
        let acks = by(m).handle.import(vec![early.clone()]).await.unwrap();
        assert!(
            matches!(acks.as_slice(), [AckEntry::Stored(_)]),
            "{m}: {acks:?}"
        );
    }
    // Turkey's own node no longer approves with the revoked certificate once it is in force
    let held3 = release::hold(&store, &cfg, &sensitive, Some("analyst"), now).unwrap();
    let e = release::approve(&store, &cfg, &tr_key, &held3.id, "head", cut.plus_secs(5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("revoked"), "{e}");

    // every step is in Turkey's audit log, and the members logged their refusals
    let steps: Vec<String> = store
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .filter_map(|b| match AuditEntry::decode(b).unwrap().event {
            AuditEvent::Release { step, .. } => Some(step),
            _ => None,
        })
        .collect();
    assert_eq!(
        steps,
        ["enrolled", "held", "released", "held", "declined", "held"],
        "{steps:?}"
    );
    let gr_rejects = by("GR-HCG")
        .handle
        .store()
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .filter(|b| {
            matches!(AuditEntry::decode(b).unwrap().event,
                AuditEvent::Reject { code, .. } if code == RejectCode::ReleaseNotApproved.code())
        })
        .count();
    assert_eq!(gr_rejects, 6, "GR-HCG logged each refusal");

    drop(store);
    for n in nodes {
        n.stop().await;
    }
}
