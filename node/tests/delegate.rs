//! `accord delegate issue|revoke`: a certificate is issued only within the agency's own
//! agreements and not already expired; what it issues verifies, and records the officer's key
//! signs are the agency's within its scope; a revocation refuses later ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::accord;
use std::collections::BTreeMap;

use accord_protocol::audit::{AuditEntry, AuditEvent, Digest32, Signed};
use accord_protocol::delegation::{certificate_id, verify_certificate, verify_revocation};
use accord_protocol::{
    AgencyId, KeyDirectory, PublicKey, SecretKey, Seq, Timestamp, VerifyError, verify,
};

/// The events of TR-JGK's audit log (its node is stopped).
fn audit_log(fed: &std::path::Path) -> Vec<AuditEvent> {
    let store = accord_node::store::Store::open(&fed.join("tr-jgk/data")).unwrap();
    store
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .map(|b| AuditEntry::decode(b).unwrap().event)
        .collect()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Dir {
    keys: BTreeMap<AgencyId, PublicKey>,
    revoked: BTreeMap<(AgencyId, Digest32), Timestamp>,
}

impl KeyDirectory for Dir {
    fn agency_key(&self, agency: &AgencyId) -> Option<PublicKey> {
        self.keys.get(agency).copied()
    }
    fn revoked(&self, agency: &AgencyId, certificate: &Digest32) -> Option<Timestamp> {
        self.revoked.get(&(agency.clone(), *certificate)).copied()
    }
}

#[test]
fn issue_checks_the_scope_and_what_it_issues_works_until_revoked() {
    let fed = tempfile::tempdir().unwrap();
    let f = fed.path();
    accord_node::demo::write_federation(f).unwrap();
    let cfg = f.join("tr-jgk/node.toml");
    let cfg = cfg.to_str().unwrap();
    let officer = SecretKey::from_seed(&[42; 32]);
    let officer_pub = officer.public_key().to_string();
    let out = f.join("athens.cert");
    let issue = |agreement: &str, category: &str, until: &str, out: &str| {
        accord(&[
            "delegate",
            "issue",
            "--config",
            cfg,
            "--delegate-key",
            &officer_pub,
            "--holder",
            "Liaison officer, Embassy of Türkiye in Athens",
            "--host-country",
            "GR",
            "--agreement",
            agreement,
            "--category",
            category,
            "--category",
            "alert",
            "--from",
            "2026-03-01T00:00:00Z",
            "--until",
            until,
            "--out",
            out,
        ])
    };

    // wider than the agency's own agreements: one it is not party to, a category the
    // agreement does not permit, a period beyond the agreement
    let bad = f.join("bad.cert");
    let bad = bad.to_str().unwrap();
    for (agreement, category, until, expected) in [
        (
            "PK-IR-2026",
            "route",
            "2026-12-31T23:59:59Z",
            "TR-JGK is not party to PK-IR-2026",
        ),
        (
            "TR-BG-2026",
            "vessel",
            "2026-12-31T23:59:59Z",
            "does not permit category vessel",
        ),
        (
            "QUAD-2026",
            "route",
            "2028-06-30T00:00:00Z",
            "outside its validity",
        ),
        (
            "QUAD-2026",
            "route",
            "2026-02-01T00:00:00Z",
            "would be expired already",
        ),
    ] {
        let o = issue(agreement, category, until, bad);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(expected), "{expected}: {}", text(&o));
        assert!(!std::path::Path::new(bad).exists(), "nothing written");
    }

    let o = issue(
        "QUAD-2026",
        "route",
        "2027-06-30T23:59:59Z",
        out.to_str().unwrap(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let list = accord(&["delegate", "list", "--config", cfg]);
    assert!(text(&list).contains("in force"), "{}", text(&list));
    let line = std::fs::read_to_string(&out).unwrap();
    let cert = Signed::from_line(line.trim_end()).unwrap();
    let tr_key = accord_node::files::read_key(&f.join("tr-jgk/agency.key")).unwrap();
    let d = verify_certificate(&cert, |_| Some(tr_key.public_key())).unwrap();
    assert_eq!(d.agency.as_str(), "TR-JGK");
    assert_eq!(d.delegate, officer.public_key());
    assert_eq!(d.host_country.to_string(), "GR");
    assert_eq!(
        d.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["alert", "route"]
    );

    // the officer signs a QUAD-2026 route record as TR-JGK
    let sign = |created: &str, category: &str| {
        let draft = serde_json::json!({
            "agreement": "QUAD-2026", "category": category, "handling": "H1",
            "grading": "B2", "created": created, "summary": "Seen at the port of Piraeus."
        });
        let r = accord_node::draft::parse_draft(draft.to_string().as_bytes())
            .unwrap()
            .into_record(
                &AgencyId::new("TR-JGK").unwrap(),
                Seq::FIRST,
                Timestamp::parse(created).unwrap(),
            )
            .unwrap();
        accord_protocol::envelope::sign_delegated(&r, &officer, cert.clone()).unwrap()
    };
    let mut dir = Dir {
        keys: [(AgencyId::new("TR-JGK").unwrap(), tr_key.public_key())].into(),
        revoked: BTreeMap::new(),
    };
    assert!(verify(sign("2026-11-28T09:00:00Z", "route"), &dir).is_ok());
    assert!(matches!(
        verify(sign("2026-11-28T09:00:00Z", "smuggling-network"), &dir),
        Err(VerifyError::Delegation { .. })
    ));

    // revoked from 2026-12-01: later records refused, earlier ones stay valid
    let rev = f.join("athens.revoked");
    let o = accord(&[
        "delegate",
        "revoke",
        out.to_str().unwrap(),
        "--config",
        cfg,
        "--from",
        "2026-12-01T00:00:00Z",
        "--reason",
        "Phone lost",
        "--out",
        rev.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let signed = Signed::from_line(std::fs::read_to_string(&rev).unwrap().trim_end()).unwrap();
    let r = verify_revocation(&signed, |_| Some(tr_key.public_key())).unwrap();
    assert_eq!(r.certificate, certificate_id(&cert));
    dir.revoked
        .insert((r.agency.clone(), r.certificate), r.revoked);
    assert!(verify(sign("2026-11-28T09:00:00Z", "route"), &dir).is_ok());
    let after = verify(sign("2026-12-02T09:00:00Z", "route"), &dir).unwrap_err();
    assert!(
        after.to_string().contains("revoked the delegation"),
        "{after}"
    );

    // `delegate list` shows the certificate and its revocation
    let list = accord(&["delegate", "list", "--config", cfg]);
    assert!(list.status.success(), "{}", text(&list));
    let t = text(&list);
    assert!(
        t.contains("Liaison officer, Embassy of Türkiye in Athens")
            && t.contains("alert, route under QUAD-2026")
            && t.contains("REVOKED from 2026-12-01T00:00:00Z"),
        "{t}"
    );

    // the revocation is kept in Turkey's store, to be passed to the members
    let store = accord_node::store::Store::open_waiting(
        &f.join("tr-jgk/data"),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(store.trust().revocations().unwrap(), vec![signed.clone()]);
    drop(store);

    // another agency cannot revoke Turkey's certificate
    let gr = f.join("gr-hcg/node.toml");
    let o = accord(&[
        "delegate",
        "revoke",
        out.to_str().unwrap(),
        "--config",
        gr.to_str().unwrap(),
        "--reason",
        "not ours",
        "--out",
        f.join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("only the issuing agency revokes"),
        "{}",
        text(&o)
    );
}

#[test]
fn an_officer_signs_records_with_the_cli_and_the_agencys_node_imports_them() {
    let fed = tempfile::tempdir().unwrap();
    let f = fed.path();
    accord_node::demo::write_federation(f).unwrap();
    let cfg = f.join("tr-jgk/node.toml");
    let cfg = cfg.to_str().unwrap();
    let officer = SecretKey::from_seed(&[43; 32]);
    let key_file = f.join("officer.key");
    std::fs::write(&key_file, officer.to_key_file().as_bytes()).unwrap();
    let cert = f.join("officer.cert");
    let o = accord(&[
        "delegate",
        "issue",
        "--config",
        cfg,
        "--delegate-key",
        &officer.public_key().to_string(),
        "--holder",
        "Liaison officer, Sofia",
        "--host-country",
        "BG",
        "--agreement",
        "TR-BG-2026",
        "--category",
        "route",
        "--until",
        "2027-12-31T00:00:00Z",
        "--out",
        cert.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // issuing it is an audit entry naming the certificate and the delegated key
    let issued = Signed::from_line(std::fs::read_to_string(&cert).unwrap().trim()).unwrap();
    let delegations: Vec<AuditEvent> = audit_log(f)
        .into_iter()
        .filter(|e| matches!(e, AuditEvent::Delegation { .. }))
        .collect();
    assert_eq!(delegations.len(), 1, "{delegations:?}");
    assert!(
        matches!(&delegations[0], AuditEvent::Delegation { certificate, delegate, agreements, .. }
            if *certificate == certificate_id(&issued)
                && *delegate == officer.public_key()
                && agreements.iter().map(|a| a.as_str()).collect::<Vec<_>>() == ["TR-BG-2026"]),
        "{delegations:?}"
    );

    // the officer writes complete records (the seq is the officer's own stream's) and signs them
    let write = |name: &str, category: &str| {
        let record = serde_json::json!({
            "v": 1, "originator": "TR-JGK", "agreement": "TR-BG-2026", "seq": "1",
            "category": category, "handling": "H1", "grading": "B2",
            "created": accord_node::clock::now().to_string(),
            "summary": "Vans crossing near Kapitan Andreevo at night."
        });
        let path = f.join(format!("{name}.json"));
        std::fs::write(&path, record.to_string()).unwrap();
        let out = f.join(format!("{name}.signed.json"));
        let o = accord(&[
            "record",
            "sign",
            path.to_str().unwrap(),
            "--key",
            key_file.to_str().unwrap(),
            "--certificate",
            cert.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        out
    };
    let route = write("route", "route");
    let financial = write("financial", "financial");

    let o = accord(&["import", "--config", cfg, route.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("imported"), "{}", text(&o));
    let again = accord(&["import", "--config", cfg, route.to_str().unwrap()]);
    assert!(
        text(&again).contains("was held already"),
        "{}",
        text(&again)
    );
    let o = accord(&["import", "--config", cfg, financial.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("category financial is outside the delegation"),
        "{}",
        text(&o)
    );
    // the stopped node's refusal is in its audit log, as a running node's would be
    let rejects: Vec<AuditEvent> = audit_log(f)
        .into_iter()
        .filter(|e| matches!(e, AuditEvent::Reject { reason, .. } if reason.contains("category financial is outside the delegation")))
        .collect();
    assert_eq!(rejects.len(), 1, "{rejects:?}");

    // `show` says who signed it, and after a later revocation that it stays valid
    let id = text(&accord(&[
        "import",
        "--config",
        cfg,
        route.to_str().unwrap(),
    ]))
    .split_whitespace()
    .next()
    .unwrap()
    .to_owned();
    let show = accord(&["show", "--config", cfg, &id]);
    assert!(
        text(&show).contains("signed by Liaison officer, Sofia, posted in BG"),
        "{}",
        text(&show)
    );
    let later = accord_node::clock::now().plus_secs(3600).to_string();
    let o = accord(&[
        "delegate",
        "revoke",
        cert.to_str().unwrap(),
        "--config",
        cfg,
        "--from",
        &later,
        "--reason",
        "recalled",
        "--out",
        f.join("officer.revoked").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let show = accord(&["show", "--config", cfg, &id]);
    assert!(
        text(&show).contains(&format!("the delegation is REVOKED from {later}"))
            && text(&show).contains("stays valid"),
        "{}",
        text(&show)
    );

    // Turkey's node holds the officer's record in the officer's stream, not its own
    let store = accord_node::store::Store::open_waiting(
        &f.join("tr-jgk/data"),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let heads = store
        .sync()
        .heads(&accord_protocol::AgreementId::new("TR-BG-2026").unwrap())
        .unwrap();
    let stream = accord_protocol::StreamId::delegated(
        &AgencyId::new("TR-JGK").unwrap(),
        &officer.public_key(),
    );
    assert_eq!(heads.get(&stream), Some(&1));
    assert_eq!(store.records().len(), 1);
}
