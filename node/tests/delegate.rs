//! `accord delegate issue|revoke`: a certificate is issued only within the agency's own
//! agreements and not already expired; what it issues verifies, and records the officer's key
//! signs are the agency's within its scope; a revocation refuses later ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::Command;

use accord_protocol::audit::{Digest32, Signed};
use accord_protocol::delegation::{certificate_id, verify_certificate, verify_revocation};
use accord_protocol::{
    AgencyId, KeyDirectory, PublicKey, SecretKey, Seq, Timestamp, VerifyError, verify,
};

fn accord(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
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
