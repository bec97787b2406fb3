//! Two-person release (docs/protocol.md §12): a releaser's approval travels in an envelope of
//! version 2 and is accepted only when it is for this record and agreement, under a releaser
//! certificate of the originator that covers the record, by a key other than the record's
//! signer, within the certificate's window and before its revocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use accord_protocol::approval::{CarriedApproval, MAX_APPROVALS, approve};
use accord_protocol::audit::{Digest32, Signed};
use accord_protocol::delegation::{DelegateRole, Delegation, certificate_id, issue};
use accord_protocol::envelope::{ENVELOPE_VERSION_APPROVED, sign_delegated};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Envelope, EnvelopeError, HandlingCode, KeyDirectory,
    PublicKey, Record, SecretKey, Timestamp, VerifyError, sign, verify,
};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn agency_key() -> SecretKey {
    common::key(1)
}

fn head_key() -> SecretKey {
    common::key(5)
}

fn deputy_key() -> SecretKey {
    common::key(6)
}

/// Turkey makes its head of unit a releaser of H2 and H3 QUAD-2026 alerts in 2026.
fn releaser(key: &SecretKey, holder: &str) -> Delegation {
    Delegation {
        v: 1,
        agency: common::agency("TR-JGK"),
        delegate: key.public_key(),
        holder: holder.into(),
        host_country: Country::new("TR").unwrap(),
        agreements: vec![AgreementId::new("QUAD-2026").unwrap()],
        categories: vec![Category::Alert],
        valid_from: ts("2026-01-01T00:00:00Z"),
        valid_until: ts("2026-12-31T23:59:59Z"),
        issued: ts("2025-12-20T10:00:00Z"),
        role: DelegateRole::Releaser,
        handling: vec![HandlingCode::H2, HandlingCode::H3],
    }
}

fn head_certificate() -> Signed {
    issue(
        &releaser(&head_key(), "Head of unit, Jandarma"),
        &agency_key(),
    )
    .unwrap()
}

#[derive(Default)]
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

fn dir() -> Dir {
    Dir {
        keys: [
            (common::agency("TR-JGK"), agency_key().public_key()),
            (common::agency("PK-FIA"), common::key(3).public_key()),
        ]
        .into(),
        revoked: BTreeMap::new(),
    }
}

/// An H2 alert of Turkey under QUAD-2026.
fn h2() -> Record {
    let mut r = common::minimal_record();
    r.handling = HandlingCode::H2;
    r
}

const APPROVED: &str = "2026-11-28T10:00:00Z";

fn approval_by(env: &Envelope, key: &SecretKey, cert: Signed) -> CarriedApproval {
    approve(
        env.id(),
        AgreementId::new("QUAD-2026").unwrap(),
        ts(APPROVED),
        key,
        cert,
    )
    .unwrap()
}

fn approved(record: &Record) -> Envelope {
    let env = sign(record, &agency_key()).unwrap();
    let a = approval_by(&env, &head_key(), head_certificate());
    env.with_approvals(vec![a]).unwrap()
}

fn refusal(env: Envelope, d: &Dir) -> String {
    match verify(env, d) {
        Err(VerifyError::Approval { reason, index, .. }) => {
            assert_eq!(index, 1);
            reason
        }
        other => panic!("expected an approval refusal, got {other:?}"),
    }
}

#[test]
fn an_approved_record_round_trips_and_verifies_with_the_same_id() {
    let plain = sign(&h2(), &agency_key()).unwrap();
    let env = approved(&h2());
    assert_eq!(
        env.id(),
        plain.id(),
        "approvals do not change the record id"
    );
    let bytes = env.encode();
    assert_eq!(bytes[4], ENVELOPE_VERSION_APPROVED);
    assert_eq!(bytes.len(), env.encoded_len());
    // the version-1 prefix is the plain envelope's bytes, apart from the version byte
    let plain_bytes = plain.encode();
    assert_eq!(bytes[5..plain_bytes.len()], plain_bytes[5..]);
    let decoded = Envelope::decode(&bytes).unwrap();
    assert_eq!(decoded, env);
    let v = verify(decoded, &dir()).unwrap();
    assert_eq!(v.envelope.approvals().len(), 1);
    // without approvals the envelope is version 1 again
    let bare = env.with_approvals(Vec::new()).unwrap();
    assert_eq!(bare.encode(), plain_bytes);
}

#[test]
fn two_releasers_approve_one_record() {
    let env = sign(&h2(), &agency_key()).unwrap();
    let deputy = issue(
        &releaser(&deputy_key(), "Deputy head of unit"),
        &agency_key(),
    )
    .unwrap();
    let both = vec![
        approval_by(&env, &head_key(), head_certificate()),
        approval_by(&env, &deputy_key(), deputy),
    ];
    let env = env.with_approvals(both).unwrap();
    let v = verify(Envelope::decode(&env.encode()).unwrap(), &dir()).unwrap();
    assert_eq!(v.envelope.approvals().len(), 2);
    // the same releaser twice is one approval, refused
    let env = sign(&h2(), &agency_key()).unwrap();
    let twice = vec![
        approval_by(&env, &head_key(), head_certificate()),
        approval_by(&env, &head_key(), head_certificate()),
    ];
    let err = verify(env.with_approvals(twice).unwrap(), &dir()).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Approval { index: 2, reason, .. } if reason.contains("twice")),
        "{err}"
    );
}

#[test]
fn a_forged_approval_is_refused() {
    // signed by a key other than the certificate's
    let env = sign(&h2(), &agency_key()).unwrap();
    let a = approval_by(&env, &common::key(9), head_certificate());
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &dir());
    assert!(reason.contains("does not verify"), "{reason}");
    // a byte of the approval changed after signing
    let env = sign(&h2(), &agency_key()).unwrap();
    let mut a = approval_by(&env, &head_key(), head_certificate());
    let at = a.approval.bytes.len() - 3;
    a.approval.bytes[at] ^= 1;
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &dir());
    assert!(!reason.is_empty());
    // an approval of another record moved onto this one
    let other = sign(&common::full_record(), &agency_key()).unwrap();
    let moved = approval_by(&other, &head_key(), head_certificate());
    let env = sign(&h2(), &agency_key()).unwrap();
    let reason = refusal(env.with_approvals(vec![moved]).unwrap(), &dir());
    assert!(reason.contains("not this one"), "{reason}");
    // an approval under another agreement
    let env = sign(&h2(), &agency_key()).unwrap();
    let a = approve(
        env.id(),
        AgreementId::new("TR-BG-2026").unwrap(),
        ts(APPROVED),
        &head_key(),
        head_certificate(),
    )
    .unwrap();
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &dir());
    assert!(reason.contains("not the record's agreement"), "{reason}");
    // another agency's releaser certificate, named as such
    let env = sign(&h2(), &agency_key()).unwrap();
    let mut pk = releaser(&head_key(), "Head of unit, FIA");
    pk.agency = common::agency("PK-FIA");
    let a = approval_by(&env, &head_key(), issue(&pk, &common::key(3)).unwrap());
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &dir());
    assert!(
        reason.contains("is PK-FIA's, not the originator's"),
        "{reason}"
    );
    // a certificate the agency did not sign
    let env = sign(&h2(), &agency_key()).unwrap();
    let fake = issue(&releaser(&head_key(), "Head of unit"), &common::key(9)).unwrap();
    let a = approval_by(&env, &head_key(), fake);
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &dir());
    assert!(reason.contains("releaser certificate"), "{reason}");
}

#[test]
fn an_approval_by_the_author_itself_is_refused() {
    // a liaison officer signs the record with the key their releaser certificate also names
    let officer = head_key();
    let mut as_officer = releaser(&officer, "Liaison officer, Athens");
    as_officer.role = DelegateRole::Officer;
    as_officer.handling.clear();
    let officer_cert = issue(&as_officer, &agency_key()).unwrap();
    let env = sign_delegated(&h2(), &officer, officer_cert).unwrap();
    let a = approval_by(&env, &officer, head_certificate());
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &dir());
    assert!(reason.contains("their own key signed"), "{reason}");
}

#[test]
fn an_approval_outside_the_releasers_certificate_is_refused() {
    let d = dir();
    // a handling code the certificate does not release
    let mut h3 = h2();
    h3.handling = HandlingCode::H1;
    let reason = refusal(approved(&h3), &d);
    assert!(reason.contains("handling code H1 is outside"), "{reason}");
    // another agreement
    let mut other = h2();
    other.agreement = AgreementId::new("TR-BG-2026").unwrap();
    let env = sign(&other, &agency_key()).unwrap();
    let a = approve(
        env.id(),
        other.agreement.clone(),
        ts(APPROVED),
        &head_key(),
        head_certificate(),
    )
    .unwrap();
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &d);
    assert!(
        reason.contains("agreement TR-BG-2026 is outside"),
        "{reason}"
    );
    // another category
    let mut route = h2();
    route.category = Category::Route;
    let reason = refusal(approved(&route), &d);
    assert!(reason.contains("category route is outside"), "{reason}");
    // an approval dated before the record was created
    let env = sign(&h2(), &agency_key()).unwrap();
    let a = approve(
        env.id(),
        AgreementId::new("QUAD-2026").unwrap(),
        ts("2026-11-28T09:00:00Z"),
        &head_key(),
        head_certificate(),
    )
    .unwrap();
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &d);
    assert!(reason.contains("before the record was created"), "{reason}");
    // an officer's certificate is no releaser's
    let mut officer = releaser(&head_key(), "Liaison officer");
    officer.role = DelegateRole::Officer;
    officer.handling.clear();
    let env = sign(&h2(), &agency_key()).unwrap();
    let a = approval_by(&env, &head_key(), issue(&officer, &agency_key()).unwrap());
    let reason = refusal(env.with_approvals(vec![a]).unwrap(), &d);
    assert!(reason.contains("not a releaser's"), "{reason}");
}

#[test]
fn an_approval_made_after_the_releasers_revocation_is_refused() {
    let mut d = dir();
    d.revoked.insert(
        (
            common::agency("TR-JGK"),
            certificate_id(&head_certificate()),
        ),
        ts("2026-11-28T09:45:00Z"),
    );
    let reason = refusal(approved(&h2()), &d);
    assert!(reason.contains("revoked"), "{reason}");
    // an approval made before the revocation stands
    d.revoked.insert(
        (
            common::agency("TR-JGK"),
            certificate_id(&head_certificate()),
        ),
        ts("2026-11-28T10:00:01Z"),
    );
    verify(approved(&h2()), &d).unwrap();
}

#[test]
fn a_releasers_key_signs_no_record() {
    let cert = head_certificate();
    let env = sign_delegated(&h2(), &head_key(), cert).unwrap();
    match verify(env, &dir()) {
        Err(VerifyError::Delegation { reason, .. }) => {
            assert!(reason.contains("signs none"), "{reason}")
        }
        other => panic!("expected a delegation refusal, got {other:?}"),
    }
}

#[test]
fn malformed_approval_sections_are_refused_by_the_decoder() {
    let env = approved(&h2());
    let bytes = env.encode();
    let record_end = sign(&h2(), &agency_key()).unwrap().encode().len();
    // a count of 0
    let mut zero = bytes[..record_end].to_vec();
    zero[4] = ENVELOPE_VERSION_APPROVED;
    zero.push(0);
    assert!(matches!(
        Envelope::decode(&zero),
        Err(EnvelopeError::Approvals(_))
    ));
    // more than the most
    let mut many = bytes.clone();
    many[record_end] = (MAX_APPROVALS + 1) as u8;
    assert!(matches!(
        Envelope::decode(&many),
        Err(EnvelopeError::Approvals(_))
    ));
    // truncated in the certificate
    assert!(matches!(
        Envelope::decode(&bytes[..bytes.len() - 10]),
        Err(EnvelopeError::Truncated { .. })
    ));
    // trailing bytes
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        Envelope::decode(&trailing),
        Err(EnvelopeError::Trailing(1))
    ));
    // an approval of length 0 is named as such
    let mut empty = bytes[..record_end].to_vec();
    empty[4] = ENVELOPE_VERSION_APPROVED;
    empty.extend_from_slice(&[1, 0, 0]);
    match Envelope::decode(&empty) {
        Err(EnvelopeError::Approvals(m)) => assert!(m.contains("length is 0"), "{m}"),
        other => panic!("{other:?}"),
    }
    // version 2 without the section
    let mut bare = bytes[..record_end].to_vec();
    bare[4] = ENVELOPE_VERSION_APPROVED;
    assert!(matches!(
        Envelope::decode(&bare),
        Err(EnvelopeError::Truncated { .. })
    ));
    // too many approvals to carry
    let env = sign(&h2(), &agency_key()).unwrap();
    let five = vec![approval_by(&env, &head_key(), head_certificate()); MAX_APPROVALS + 1];
    assert!(env.with_approvals(five).is_err());
}

#[test]
fn releaser_certificates_name_handling_codes_and_officers_none() {
    let mut d = releaser(&head_key(), "Head of unit");
    d.handling.clear();
    let err = issue(&d, &agency_key()).unwrap_err().to_string();
    assert!(err.contains("at least one handling code"), "{err}");
    let mut d = releaser(&head_key(), "Head of unit");
    d.role = DelegateRole::Officer;
    let err = issue(&d, &agency_key()).unwrap_err().to_string();
    assert!(err.contains("names no handling codes"), "{err}");
    let mut d = releaser(&head_key(), "Head of unit");
    d.handling = vec![HandlingCode::H3, HandlingCode::H2];
    assert!(issue(&d, &agency_key()).is_err());
    // an officer's certificate of before has no role field and reads as an officer's
    let mut officer = releaser(&head_key(), "Officer");
    officer.role = DelegateRole::Officer;
    officer.handling.clear();
    let cert = issue(&officer, &agency_key()).unwrap();
    let text = String::from_utf8(cert.bytes).unwrap();
    assert!(
        !text.contains("role") && !text.contains("handling"),
        "{text}"
    );
}
