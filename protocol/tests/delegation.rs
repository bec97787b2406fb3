//! Delegated keys (signer kind 2): a liaison officer's record is accepted as its agency's
//! within the certificate's scope only, and refused once the agency revoked the certificate
//! from a time at or before the record's creation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use accord_protocol::audit::{Digest32, Signed};
use accord_protocol::delegation::{
    Delegation, Revocation, certificate_id, issue, revoke, verify_revocation,
};
use accord_protocol::envelope::sign_delegated;
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Envelope, KeyDirectory, PublicKey, SecretKey, Signer,
    Timestamp, VerifyError, sign, verify,
};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn agency_key() -> SecretKey {
    common::key(1)
}

fn officer_key() -> SecretKey {
    common::key(2)
}

/// Turkey delegates QUAD-2026 alerts and routes in 2026 to its liaison officer in Athens.
fn delegation() -> Delegation {
    Delegation {
        v: 1,
        agency: common::agency("TR-JGK"),
        delegate: officer_key().public_key(),
        holder: "Liaison officer of the Jandarma, Embassy of Türkiye in Athens".into(),
        host_country: Country::new("GR").unwrap(),
        agreements: vec![AgreementId::new("QUAD-2026").unwrap()],
        categories: vec![Category::Alert, Category::Route],
        valid_from: ts("2026-01-01T00:00:00Z"),
        valid_until: ts("2026-12-31T23:59:59Z"),
        issued: ts("2025-12-20T10:00:00Z"),
        role: accord_protocol::delegation::DelegateRole::Officer,
        handling: Vec::new(),
    }
}

fn certificate() -> Signed {
    issue(&delegation(), &agency_key()).unwrap()
}

/// A directory knowing Turkey's key, with revocations.
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

fn officer_record(edit: impl FnOnce(&mut accord_protocol::Record)) -> Envelope {
    let mut r = common::minimal_record();
    edit(&mut r);
    sign_delegated(&r, &officer_key(), certificate()).unwrap()
}

fn refusal(env: Envelope, d: &Dir) -> String {
    match verify(env, d) {
        Err(VerifyError::Delegation { reason, .. }) => reason,
        other => panic!("expected a delegation refusal, got {other:?}"),
    }
}

#[test]
fn a_record_within_the_delegation_is_the_agencys() {
    let env = officer_record(|_| {});
    assert!(matches!(env.signer(), Signer::Delegate(k) if *k == officer_key().public_key()));
    // the envelope round-trips with its certificate
    let decoded = Envelope::decode(&env.encode()).unwrap();
    assert_eq!(decoded, env);
    assert_eq!(decoded.encoded_len(), env.encode().len());
    let v = verify(decoded, &dir()).unwrap();
    assert_eq!(v.record.originator.as_str(), "TR-JGK");
    // the record id does not depend on who signed: the agency's own signature gives the same
    let own = sign(&common::minimal_record(), &agency_key()).unwrap();
    assert_eq!(own.id(), env.id());
}

#[test]
fn records_outside_the_scope_are_refused_naming_why() {
    let d = dir();
    let other_agreement = officer_record(|r| r.agreement = AgreementId::new("TR-BG-2026").unwrap());
    assert!(
        refusal(other_agreement, &d).contains("agreement TR-BG-2026 is outside the delegation")
    );
    let other_category = officer_record(|r| r.category = Category::SmugglingNetwork);
    assert!(refusal(other_category, &d).contains("category smuggling-network is outside"));
    let expired = officer_record(|r| r.created = ts("2027-01-02T00:00:00Z"));
    assert!(refusal(expired, &d).contains("outside the delegation's validity"));
    let early = officer_record(|r| r.created = ts("2025-12-31T23:59:59Z"));
    assert!(refusal(early, &d).contains("outside the delegation's validity"));
}

#[test]
fn a_certificate_of_another_agency_or_for_another_key_is_refused() {
    let d = dir();
    // Pakistan's record under Turkey's certificate
    let pk = officer_record(|r| r.originator = common::agency("PK-FIA"));
    assert!(refusal(pk, &d).contains("certificate"));
    // a certificate for another key
    let mut other = delegation();
    other.delegate = common::key(9).public_key();
    let cert = issue(&other, &agency_key()).unwrap();
    let env = sign_delegated(&common::minimal_record(), &officer_key(), cert).unwrap();
    assert!(refusal(env, &d).contains("not the signing key"));
    // a certificate the officer made himself
    let self_made = issue(&delegation(), &officer_key());
    assert!(
        self_made.is_err(),
        "the delegated key cannot sign as the agency"
    );
    let forged = Signed {
        bytes: certificate().bytes,
        signature: [5; 64],
    };
    let env = sign_delegated(&common::minimal_record(), &officer_key(), forged).unwrap();
    assert!(refusal(env, &d).contains("does not verify"));
    // an edited certificate (a wider window) no longer verifies
    let mut cert = certificate();
    let text = String::from_utf8(cert.bytes.clone()).unwrap();
    cert.bytes = text.replace("2026-12-31", "2029-12-31").into_bytes();
    let env = sign_delegated(&common::minimal_record(), &officer_key(), cert).unwrap();
    assert!(refusal(env, &d).contains("does not verify"));
}

#[test]
fn a_bad_record_signature_under_a_good_certificate_is_refused() {
    let env = officer_record(|_| {});
    let mut sig = *env.signature();
    sig[3] ^= 1;
    let bad = Envelope::from_delegated_parts(
        officer_key().public_key(),
        sig,
        certificate(),
        env.record_bytes().to_vec(),
    );
    assert!(matches!(
        verify(bad, &dir()),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn after_revocation_new_records_are_refused_and_earlier_ones_stay_valid() {
    let cert = certificate();
    let r = Revocation {
        v: 1,
        agency: common::agency("TR-JGK"),
        certificate: certificate_id(&cert),
        revoked: ts("2026-06-01T00:00:00Z"),
        reason: "Phone lost in Piraeus".into(),
    };
    let signed = revoke(&r, &agency_key()).unwrap();
    let r = verify_revocation(&signed, |_| Some(agency_key().public_key())).unwrap();
    assert!(verify_revocation(&signed, |_| Some(officer_key().public_key())).is_err());
    let mut d = dir();
    d.revoked
        .insert((r.agency.clone(), r.certificate), r.revoked);

    let before = officer_record(|r| r.created = ts("2026-05-31T23:59:59Z"));
    assert!(
        verify(before, &d).is_ok(),
        "signed before the revocation: valid"
    );
    let at = officer_record(|r| r.created = ts("2026-06-01T00:00:00Z"));
    assert!(refusal(at, &d).contains("revoked the delegation"));
    let after = officer_record(|r| r.created = ts("2026-11-28T09:30:00Z"));
    assert!(refusal(after, &d).contains("revoked the delegation"));
}

#[test]
fn truncated_or_oversized_certificates_do_not_decode() {
    let bytes = officer_record(|_| {}).encode();
    for cut in [103, 104, 200, bytes.len() - 1] {
        assert!(Envelope::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut zero = bytes.clone();
    zero[102] = 0;
    zero[103] = 0;
    assert_eq!(
        Envelope::decode(&zero),
        Err(accord_protocol::EnvelopeError::EmptyCertificate { max: 4096 }),
        "an empty certificate"
    );
    let mut huge = bytes;
    huge[102] = 0xff;
    huge[103] = 0xff;
    assert_eq!(
        Envelope::decode(&huge),
        Err(accord_protocol::EnvelopeError::TooLarge {
            what: "delegation certificate",
            size: 0xffff,
            max: 4096
        }),
        "longer than a certificate may be"
    );
}
