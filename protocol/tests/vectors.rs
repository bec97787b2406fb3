//! The byte vectors of docs/protocol.md, checked against the code. The page is parsed, so the
//! page and the code cannot drift apart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use accord_protocol::envelope::{SIGNING_DOMAIN, record_id, signed_message};
use accord_protocol::{Envelope, canonical, sign, verify};

/// Every ```` ```vector ```` block of the page, as `key: value` maps keyed by their `vector` line.
fn page_vectors() -> BTreeMap<String, BTreeMap<String, String>> {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .unwrap();
    let mut out = BTreeMap::new();
    let mut current: Option<BTreeMap<String, String>> = None;
    for line in page.lines() {
        if line.trim() == "```vector" {
            current = Some(BTreeMap::new());
        } else if line.trim() == "```" {
            if let Some(v) = current.take() {
                out.insert(v["vector"].clone(), v);
            }
        } else if let Some(v) = current.as_mut() {
            let (k, val) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad vector line {line}"));
            // long hex values may be wrapped onto several lines with the same key
            v.entry(k.trim().to_owned())
                .and_modify(|e: &mut String| e.push_str(val.trim()))
                .or_insert_with(|| val.trim().to_owned());
        }
    }
    out
}

fn check(name: &str, record: accord_protocol::Record) {
    let vectors = page_vectors();
    let v = vectors
        .get(name)
        .unwrap_or_else(|| panic!("docs/protocol.md has no vector {name}"));
    let key = common::vector_key();
    assert_eq!(v["seed"], common::VECTOR_SEED_HEX);
    assert_eq!(v["public key"], hex::encode(key.public_key().to_bytes()));
    let bytes = canonical::encode_record(&record).unwrap();
    assert_eq!(
        v["record"],
        String::from_utf8(bytes.clone()).unwrap(),
        "record bytes of {name}"
    );
    assert_eq!(v["signed message"], hex::encode(signed_message(&bytes)));
    let env = sign(&record, &key).unwrap();
    assert_eq!(v["id"], env.id().to_hex());
    assert_eq!(v["id"], record_id(&bytes).to_hex());
    assert_eq!(v["signature"], hex::encode(env.signature()));
    assert_eq!(v["envelope"], hex::encode(env.encode()));
    // and the page's envelope verifies on its own
    let decoded = Envelope::decode(&hex::decode(&v["envelope"]).unwrap()).unwrap();
    let dir = common::directory(&[(record.originator.as_str(), &key)]);
    let verified = verify(decoded, &dir).unwrap();
    assert_eq!(verified.record, record);
}

#[test]
fn domain_tag_is_as_documented() {
    assert_eq!(SIGNING_DOMAIN, b"accord/record/v1\x00");
    assert_eq!(
        page_vectors()["minimal"]["signed message"][..34],
        hex::encode(SIGNING_DOMAIN)
    );
}

#[test]
fn rfc8032_key_matches_its_published_public_key() {
    // RFC 8032 section 7.1 TEST 1
    assert_eq!(
        hex::encode(common::vector_key().public_key().to_bytes()),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
}

#[test]
fn minimal_record_vector() {
    check("minimal", common::minimal_record());
}

#[test]
fn full_record_vector() {
    let mut r = common::full_record();
    r.originator = common::agency("TR-JGK");
    check("full", r);
}

#[test]
fn agreement_signature_vector() {
    use accord_protocol::agreement::{
        AGREEMENT_DOMAIN, agreement_hash, agreement_message, sign_agreement, verify_agreement,
    };
    let v = &page_vectors()["agreement signature"];
    let key = common::vector_key();
    assert_eq!(v["seed"], common::VECTOR_SEED_HEX);
    let file = hex::decode(&v["file"]).unwrap();
    let hash = agreement_hash(&file);
    assert_eq!(v["sha-256"], hex::encode(hash));
    assert_eq!(v["signed message"], hex::encode(agreement_message(&hash)));
    assert_eq!(v["signed message"][..40], hex::encode(AGREEMENT_DOMAIN));
    let sig = sign_agreement(&key, &hash);
    assert_eq!(v["signature"], hex::encode(sig));
    let page_sig: [u8; 64] = hex::decode(&v["signature"]).unwrap().try_into().unwrap();
    assert!(verify_agreement(&key.public_key(), &hash, &page_sig));
}

#[test]
fn delegation_vector() {
    use accord_protocol::delegation::{certificate_id, issue, verify_certificate};
    use accord_protocol::envelope::sign_delegated;
    let v = &page_vectors()["delegation"];
    let (agency, officer) = (common::vector_key(), common::officer_key());
    assert_eq!(v["agency seed"], common::VECTOR_SEED_HEX);
    assert_eq!(v["officer seed"], common::OFFICER_SEED_HEX);
    let cert = issue(&common::vector_delegation(), &agency).unwrap();
    assert_eq!(
        v["certificate"],
        String::from_utf8(cert.bytes.clone()).unwrap()
    );
    assert_eq!(v["certificate signature"], hex::encode(cert.signature));
    assert_eq!(v["certificate id"], hex::encode(certificate_id(&cert).0));
    let env = sign_delegated(&common::minimal_record(), &officer, cert.clone()).unwrap();
    assert_eq!(v["id"], env.id().to_hex());
    assert_eq!(v["signature"], hex::encode(env.signature()));
    assert_eq!(v["envelope"], hex::encode(env.encode()));
    // the page's envelope verifies on its own, as TR-JGK's record
    let decoded = Envelope::decode(&hex::decode(&v["envelope"]).unwrap()).unwrap();
    let dir = common::directory(&[("TR-JGK", &agency)]);
    assert!(verify(decoded, &dir).is_ok());
    assert!(verify_certificate(&cert, |_| Some(agency.public_key())).is_ok());
}

#[test]
fn stream_digest_vector() {
    use accord_protocol::wire::{STREAM_DIGEST_TAG, stream_digest};
    let v = &page_vectors()["stream digest"];
    assert_eq!(STREAM_DIGEST_TAG, b"accord/stream-digest/v1\0");
    let id = |k: &str| {
        accord_protocol::RecordId::from_bytes(hex::decode(&v[k]).unwrap().try_into().unwrap())
    };
    let d1 = stream_digest(&[0; 32], &id("id 1"));
    assert_eq!(v["digest 1"], hex::encode(d1));
    assert_eq!(v["digest 2"], hex::encode(stream_digest(&d1, &id("id 2"))));
    // the ids are those of the page's own record vectors
    let vectors = page_vectors();
    assert_eq!(v["id 1"], vectors["minimal"]["id"]);
    assert_eq!(v["id 2"], vectors["full"]["id"]);
}
