//! Two-person release in a bundle (docs/bundle.md step 10, docs/protocol.md §13): `accord
//! verify` shows each approval a record carries and fails a record the agreement's `[release]`
//! clause covers whose approval is missing, forged, the author's own, outside the releaser's
//! certificate or made after its revocation; docs/verify_bundle.py, written from the docs
//! alone, fails exactly the same records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use accord_node::bundle::{Export, RecordFailure, verify_bundle, write_bundle};
use accord_node::draft::parse_draft;
use accord_node::policy::DenyReason;
use accord_protocol::approval::approve;
use accord_protocol::audit::Signed;
use accord_protocol::delegation::{
    DelegateRole, Delegation, Revocation, certificate_id, issue, revoke,
};
use accord_protocol::envelope::sign_delegated;
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Envelope, HandlingCode, PublicKey, RecordId,
    SecretKey, Seq, Timestamp, VerifyError, sign,
};
use serde_json::json;

const REL: &str = "REL-2026";

use crate::common::REL_2026 as AGREEMENT;

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn secret(id: &str) -> SecretKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/quad")
        .join(id.to_ascii_lowercase())
        .join("agency.key");
    SecretKey::from_key_file(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn head() -> SecretKey {
    SecretKey::from_seed(&[61; 32])
}

fn officer() -> SecretKey {
    SecretKey::from_seed(&[62; 32])
}

/// A certificate of TR-JGK: a releaser's of `handling` under `agreements`, or an officer's
/// when `handling` is empty.
fn certificate(
    key: &SecretKey,
    holder: &str,
    agreements: &[&str],
    handling: &[HandlingCode],
) -> Signed {
    issue(
        &Delegation {
            v: 1,
            agency: agency("TR-JGK"),
            delegate: key.public_key(),
            holder: holder.into(),
            host_country: Country::new("TR").unwrap(),
            agreements: agreements
                .iter()
                .map(|a| AgreementId::new(a).unwrap())
                .collect(),
            categories: vec![Category::Alert],
            valid_from: ts("2026-01-01T00:00:00Z"),
            valid_until: ts("2026-12-31T23:59:59Z"),
            issued: ts("2026-01-02T09:00:00Z"),
            role: if handling.is_empty() {
                DelegateRole::Officer
            } else {
                DelegateRole::Releaser
            },
            handling: handling.to_vec(),
        },
        &secret("TR-JGK"),
    )
    .unwrap()
}

fn head_certificate() -> Signed {
    certificate(
        &head(),
        "Head of unit, Jandarma",
        &[REL],
        &[HandlingCode::H2, HandlingCode::H3],
    )
}

fn officer_certificate() -> Signed {
    certificate(&officer(), "Liaison officer, Athens", &[REL], &[])
}

/// A REL-2026 alert of TR-JGK numbered `seq`, created 2026-11-20 08:00.
fn record(seq: u64, handling: &str) -> accord_protocol::Record {
    let draft = json!({
        "agreement": REL,
        "category": "alert",
        "handling": handling,
        "grading": "B2",
        "created": "2026-11-20T08:00:00Z",
        "summary": format!("Report {seq}"),
    });
    parse_draft(draft.to_string().as_bytes())
        .unwrap()
        .into_record(
            &agency("TR-JGK"),
            Seq::new(seq).unwrap(),
            ts("2026-11-20T08:00:00Z"),
        )
        .unwrap()
}

/// `env` carrying one approval by `key` under `cert` at `at`.
fn approved(env: Envelope, key: &SecretKey, cert: Signed, at: &str) -> Envelope {
    let a = approve(env.id(), AgreementId::new(REL).unwrap(), ts(at), key, cert).unwrap();
    env.with_approvals(vec![a]).unwrap()
}

const AT: &str = "2026-11-20T09:00:00Z";
const REVOKED: &str = "2026-11-25T00:00:00Z";

fn bundle_of(records: &[Envelope], revocations: &[Signed]) -> Vec<u8> {
    bundle_rotated(records, revocations, &[], secret("TR-JGK").public_key())
}

/// A bundle exported by GR-HCG listing `tr_key` as TR-JGK's key, with TR-JGK's `rotations`.
fn bundle_rotated(
    records: &[Envelope],
    revocations: &[Signed],
    rotations: &[accord_protocol::rotation::SignedRotation],
    tr_key: PublicKey,
) -> Vec<u8> {
    let file = AGREEMENT.as_bytes();
    let hash = accord_protocol::agreement::agreement_hash(file);
    let members = ["GR-HCG", "TR-JGK"];
    let mut keys: BTreeMap<AgencyId, PublicKey> = members
        .iter()
        .map(|m| (agency(m), secret(m).public_key()))
        .collect();
    keys.insert(agency("TR-JGK"), tr_key);
    let signatures: BTreeMap<AgencyId, [u8; 64]> = members
        .iter()
        .map(|m| {
            (
                agency(m),
                accord_protocol::agreement::sign_agreement(&secret(m), &hash),
            )
        })
        .collect();
    let gr = agency("GR-HCG");
    let mut out = Vec::new();
    write_bundle(
        &mut out,
        &Export {
            agreement_file: file,
            exported_by: &gr,
            exported_at: ts("2026-11-28T12:00:00Z"),
            keys: &keys,
            signatures: &signatures,
            records,
            tombstones: &[],
            rotations,
            revocations,
            signer: &secret("GR-HCG"),
        },
    )
    .unwrap();
    out
}

/// The ids docs/verify_bundle.py fails in `bundle`, and whether it verified the whole.
fn python_verdict(bundle: &[u8]) -> (bool, BTreeSet<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.jsonl");
    std::fs::write(&file, bundle).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/verify_bundle.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .expect("python3 is needed for this test (with the `cryptography` package)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "docs/verify_bundle.py failed: {stderr}");
    let failed = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL "))
        .map(|l| l.chars().take(64).collect())
        .collect();
    (out.status.success(), failed, stdout)
}

#[test]
fn a_bundle_shows_each_approval_and_fails_every_forgery() {
    let plain = sign(&record(1, "H1"), &secret("TR-JGK")).unwrap();
    let good = approved(
        sign(&record(2, "H2"), &secret("TR-JGK")).unwrap(),
        &head(),
        head_certificate(),
        AT,
    );
    let missing = sign(&record(3, "H2"), &secret("TR-JGK")).unwrap();
    let forged = approved(
        sign(&record(4, "H2"), &secret("TR-JGK")).unwrap(),
        &officer(),
        head_certificate(),
        AT,
    );
    let other_agreement = approved(
        sign(&record(5, "H2"), &secret("TR-JGK")).unwrap(),
        &head(),
        certificate(&head(), "Head of unit", &["QUAD-2026"], &[HandlingCode::H2]),
        AT,
    );
    let other_handling = approved(
        sign(&record(6, "H2"), &secret("TR-JGK")).unwrap(),
        &head(),
        certificate(&head(), "Head of unit", &[REL], &[HandlingCode::H3]),
        AT,
    );
    let after_revocation = approved(
        sign(&record(7, "H2"), &secret("TR-JGK")).unwrap(),
        &head(),
        head_certificate(),
        "2026-11-26T08:00:00Z",
    );
    // the officer signs in their own stream and approves with a releaser's certificate for the
    // same key
    let own = {
        let env = sign_delegated(&record(1, "H2"), &officer(), officer_certificate()).unwrap();
        approved(
            env,
            &officer(),
            certificate(
                &officer(),
                "Liaison officer, Athens",
                &[REL],
                &[HandlingCode::H2],
            ),
            AT,
        )
    };
    let revocation = revoke(
        &Revocation {
            v: 1,
            agency: agency("TR-JGK"),
            certificate: certificate_id(&head_certificate()),
            revoked: ts(REVOKED),
            reason: "Left the unit".into(),
        },
        &secret("TR-JGK"),
    )
    .unwrap();
    let records = [
        plain.clone(),
        good.clone(),
        missing.clone(),
        forged.clone(),
        other_agreement.clone(),
        other_handling.clone(),
        after_revocation.clone(),
        own.clone(),
    ];
    let bundle = bundle_of(&records, std::slice::from_ref(&revocation));
    let report = verify_bundle(&bundle);
    assert!(report.problems.is_empty(), "{report}");
    let failed: BTreeSet<RecordId> = report.failed().map(|v| v.id).collect();
    let expected: BTreeSet<RecordId> = [
        &missing,
        &forged,
        &other_agreement,
        &other_handling,
        &after_revocation,
        &own,
    ]
    .iter()
    .map(|e| e.id())
    .collect();
    assert_eq!(failed, expected, "{report}");
    // the approved record is OK and shows its releaser
    let v = report.verdict(&good.id()).unwrap();
    assert!(v.is_ok(), "{v}");
    assert_eq!(v.approvals.len(), 1);
    assert_eq!(v.approvals[0].holder, "Head of unit, Jandarma");
    assert_eq!(v.approvals[0].approved, Some(ts(AT)));
    let text = report.to_string();
    assert!(
        text.contains("approved by Head of unit, Jandarma (certificate "),
        "{text}"
    );
    // each failure names its rule
    let reason = |e: &Envelope| {
        let v = report.verdict(&e.id()).unwrap();
        v.failures
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    };
    assert!(
        matches!(
            report.verdict(&missing.id()).unwrap().failures.as_slice(),
            [RecordFailure::NotPermitted(DenyReason::NotReleased {
                needed: 1,
                carried: 0,
                ..
            })]
        ),
        "{}",
        reason(&missing)
    );
    for (e, why) in [
        (&forged, "does not verify"),
        (&other_agreement, "agreement REL-2026 is outside"),
        (&other_handling, "handling code H2 is outside"),
        (&after_revocation, "revoked"),
        (&own, "their own key signed"),
    ] {
        let v = report.verdict(&e.id()).unwrap();
        assert!(
            v.failures
                .iter()
                .any(|f| matches!(f, RecordFailure::Signature(VerifyError::Approval { .. }))),
            "{why}: {v}"
        );
        assert!(reason(e).contains(why), "{why}: {}", reason(e));
    }

    // docs/verify_bundle.py fails exactly the same records
    let (ok, py_failed, py_out) = python_verdict(&bundle);
    assert!(!ok);
    let ours: BTreeSet<String> = failed.iter().map(|id| id.to_hex()).collect();
    assert_eq!(py_failed, ours, "{py_out}");
    assert!(
        py_out.contains("approved by Head of unit, Jandarma"),
        "{py_out}"
    );

    // and both pass the bundle of the honest records alone
    let honest = bundle_of(&[plain, good], &[revocation]);
    assert!(verify_bundle(&honest).is_ok());
    let (ok, py_failed, py_out) = python_verdict(&honest);
    assert!(ok && py_failed.is_empty(), "{py_out}");
}

#[test]
fn a_releasers_certificate_is_checked_with_the_key_in_force_when_it_was_issued() {
    use accord_protocol::rotation::{Rotation, sign_rotation};
    // TR-JGK rotates its key on 2026-11-01; its head of unit's certificate was issued on
    // 2026-01-02 under the old key, and approves a record signed with the new one
    let (old, new) = (secret("TR-JGK"), SecretKey::from_seed(&[63; 32]));
    let rotation = sign_rotation(
        &Rotation {
            v: 1,
            agency: agency("TR-JGK"),
            previous: old.public_key(),
            key: new.public_key(),
            since: ts("2026-11-01T00:00:00Z"),
        },
        Some(&old),
        &new,
    )
    .unwrap();
    let record = sign(&record(1, "H2"), &new).unwrap();
    let good = approved(record.clone(), &head(), head_certificate(), AT);
    // the same certificate re-signed with the new key but dated before the rotation: no
    // key of TR-JGK's signed it at its `issued` time
    let mut resigned = head_certificate();
    resigned.signature = new.sign_tagged(
        accord_protocol::delegation::DELEGATION_DOMAIN,
        &resigned.bytes,
    );
    let bad = approved(
        sign(&self::record(2, "H2"), &new).unwrap(),
        &head(),
        resigned,
        AT,
    );
    let bundle = bundle_rotated(
        &[good.clone(), bad.clone()],
        &[],
        std::slice::from_ref(&rotation),
        new.public_key(),
    );
    let report = verify_bundle(&bundle);
    assert!(report.problems.is_empty(), "{report}");
    assert!(report.verdict(&good.id()).unwrap().is_ok(), "{report}");
    let v = report.verdict(&bad.id()).unwrap();
    assert!(
        v.failures
            .iter()
            .any(|f| matches!(f, RecordFailure::Signature(VerifyError::Approval { reason, .. }) if reason.contains("releaser certificate"))),
        "{v}"
    );
    let (ok, py_failed, py_out) = python_verdict(&bundle);
    assert!(!ok, "{py_out}");
    assert_eq!(py_failed, BTreeSet::from([bad.id().to_hex()]), "{py_out}");
}

#[test]
fn accord_record_verify_shows_the_approval_and_refuses_a_forged_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = secret("TR-JGK").public_key().to_string();
    let run = |name: &str, env: &Envelope| {
        let file = dir.path().join(name);
        accord_node::files::write_signed(&file, env).unwrap();
        crate::common::accord(&[
            "record",
            "verify",
            file.to_str().unwrap(),
            "--public-key",
            &key,
        ])
    };
    let good = approved(
        sign(&record(2, "H2"), &secret("TR-JGK")).unwrap(),
        &head(),
        head_certificate(),
        AT,
    );
    let out = run("good.json", &good);
    let (stdout, stderr) = crate::common::text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "approved    by Head of unit, Jandarma (certificate {}) at {AT}",
            &hex_of(&certificate_id(&head_certificate()).0)[..16]
        )),
        "{stdout}"
    );
    let forged = approved(
        sign(&record(4, "H2"), &secret("TR-JGK")).unwrap(),
        &officer(),
        head_certificate(),
        AT,
    );
    let out = run("forged.json", &forged);
    let (stdout, stderr) = crate::common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("approval 1") && stderr.contains("does not verify"),
        "{stderr}"
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
