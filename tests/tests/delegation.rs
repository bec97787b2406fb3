//! Liaison officers on a five-node mesh: a record the officer's delegated key signs is the
//! agency's within the certificate's scope — taken in by the agency's node and spread to every
//! member of the agreement, never beyond, in its own seq stream beside the agency's — refused
//! outside the scope, and, once the agency revokes the certificate, refused by every member
//! for records created from the revocation on while earlier ones stay valid.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use accord_node::net::NodeEvent;
use accord_protocol::audit::Signed;
use accord_protocol::delegation::{Delegation, Revocation, certificate_id, issue, revoke};
use accord_protocol::envelope::sign_delegated;
use accord_protocol::wire::{AckEntry, RejectCode};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Envelope, SecretKey, Seq, StreamId, Timestamp,
};
use accord_testkit::{TestNode, connect_all, demo_key, draft, load, quad_copy, wait_until};

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

/// A QUAD-2026 record of TR-JGK's officer, numbered in the officer's stream.
fn officer_record(
    officer: &SecretKey,
    cert: &Signed,
    seq: u64,
    category: &str,
    created: Timestamp,
) -> Envelope {
    let mut d = serde_json::from_str::<serde_json::Value>(&draft(
        "QUAD-2026",
        category,
        "H1",
        &format!("Officer's report {seq}"),
    ))
    .unwrap();
    d["created"] = serde_json::Value::from(created.to_string());
    let r = accord_node::draft::parse_draft(d.to_string().as_bytes())
        .unwrap()
        .into_record(&agency("TR-JGK"), Seq::new(seq).unwrap(), created)
        .unwrap();
    sign_delegated(&r, officer, cert.clone()).unwrap()
}

fn stored(acks: &[AckEntry]) -> bool {
    matches!(acks, [AckEntry::Stored(_)])
}

fn refused_14(acks: &[AckEntry], reason: &str) -> bool {
    matches!(acks, [AckEntry::Rejected { code: RejectCode::DelegationRefused, detail }] if detail.contains(reason))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officers_records_are_the_agencys_within_scope_until_revoked_everywhere() {
    let dir = quad_copy();
    let names = ["pk-fia", "ir-faraja", "tr-jgk", "gr-hcg", "bg-gdbp"];
    let mut nodes = Vec::new();
    for n in names {
        nodes.push(TestNode::start(load(dir.path(), n)).await);
    }
    let refs: Vec<&TestNode> = nodes.iter().collect();
    connect_all(&refs).await;
    let by = |a: &str| nodes.iter().find(|n| n.agency.as_str() == a).unwrap();
    let (tr, bg) = (by("TR-JGK"), by("BG-GDBP"));
    let members = ["PK-FIA", "IR-FARAJA", "GR-HCG"];
    let mut ev: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();

    // Turkey delegates QUAD-2026 alerts and routes to its liaison officer in Athens
    let tr_key = demo_key(dir.path(), "tr-jgk");
    let officer = SecretKey::from_seed(&[77; 32]);
    let now = accord_node::clock::now();
    let cert = issue(
        &Delegation {
            v: 1,
            agency: agency("TR-JGK"),
            delegate: officer.public_key(),
            holder: "Liaison officer, Embassy of Türkiye in Athens".into(),
            host_country: Country::new("GR").unwrap(),
            agreements: vec![AgreementId::new("QUAD-2026").unwrap()],
            categories: vec![Category::Alert, Category::Route],
            valid_from: now.plus_secs(-86_400),
            valid_until: now.plus_secs(86_400),
            issued: now.plus_secs(-86_400),
            role: accord_protocol::delegation::DelegateRole::Officer,
            handling: Vec::new(),
        },
        &tr_key,
    )
    .unwrap();

    // Turkey's own record and the officer's, both seq 1 of QUAD-2026: two streams
    let own = tr
        .publish(&draft("QUAD-2026", "alert", "H1", "Turkey's own report"))
        .await;
    let first = officer_record(&officer, &cert, 1, "alert", now);
    let acks = tr.handle.import(vec![first.clone()]).await.unwrap();
    assert!(stored(&acks), "{acks:?}");
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "every QUAD member to hold both",
        || {
            members
                .iter()
                .all(|m| by(m).holds(&first.id()) && by(m).holds(&own))
        },
    )
    .await;
    assert!(
        !bg.holds(&first.id()),
        "Bulgaria is not a member of QUAD-2026"
    );
    let officer_stream = StreamId::delegated(&agency("TR-JGK"), &officer.public_key());
    let heads = by("GR-HCG")
        .handle
        .store()
        .sync()
        .heads(&AgreementId::new("QUAD-2026").unwrap())
        .unwrap();
    assert_eq!(heads[&officer_stream], 1);
    assert_eq!(heads[&StreamId::agency(&agency("TR-JGK"))], 1);

    // outside the scope: a category not delegated, refused by Turkey's node and by any member
    let wide = officer_record(&officer, &cert, 2, "smuggling-network", now);
    for who in ["TR-JGK", "PK-FIA", "GR-HCG"] {
        let acks = by(who).handle.import(vec![wide.clone()]).await.unwrap();
        assert!(
            refused_14(&acks, "outside the delegation"),
            "{who}: {acks:?}"
        );
    }

    // Turkey revokes the certificate from `cut`; the revocation reaches every member
    let cut = now.plus_secs(600);
    let revocation = revoke(
        &Revocation {
            v: 1,
            agency: agency("TR-JGK"),
            certificate: certificate_id(&cert),
            revoked: cut,
            reason: "Phone lost".into(),
        },
        &tr_key,
    )
    .unwrap();
    assert_eq!(
        tr.handle.revoke(revocation.clone()).await.unwrap(),
        Ok(true)
    );
    let mut revoked_at = std::collections::BTreeSet::new();
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "the revocation to reach every member",
        || {
            for n in &nodes {
                let held = n.handle.store().trust().revocations().unwrap();
                if held.contains(&revocation) {
                    revoked_at.insert(n.agency.clone());
                }
            }
            members.iter().all(|m| revoked_at.contains(&agency(m)))
        },
    )
    .await;
    // (Bulgaria, Turkey's partner under TR-BG-2026, learns it too: a revocation names only a
    // certificate id and goes to every agency sharing an agreement with the issuer)

    // created after the cut: refused everywhere; created before it: still the agency's record
    let after = officer_record(&officer, &cert, 2, "route", cut.plus_secs(60));
    let before = officer_record(&officer, &cert, 2, "route", cut.plus_secs(-60));
    for m in ["TR-JGK", "PK-FIA", "IR-FARAJA", "GR-HCG"] {
        let acks = by(m).handle.import(vec![after.clone()]).await.unwrap();
        assert!(refused_14(&acks, "revoked the delegation"), "{m}: {acks:?}");
    }
    let acks = tr.handle.import(vec![before.clone()]).await.unwrap();
    assert!(stored(&acks), "{acks:?}");
    wait_until(
        &mut ev,
        Duration::from_secs(30),
        "the earlier record to spread",
        || members.iter().all(|m| by(m).holds(&before.id())),
    )
    .await;
    // no stream was confused with another
    let mut ev2: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();
    for rx in &mut ev2 {
        while let Ok(e) = rx.try_recv() {
            assert!(!matches!(e, NodeEvent::Equivocation { .. }), "{e:?}");
        }
    }
    for n in &nodes {
        assert!(
            n.handle
                .store()
                .records()
                .equivocations()
                .unwrap()
                .is_empty()
        );
    }
}
