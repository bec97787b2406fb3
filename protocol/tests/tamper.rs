//! Every tampering of a signed record is rejected: each byte of the record flipped, each byte of
//! the envelope flipped, the signature swapped, the key swapped, the domain tag changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_protocol::envelope::{SIGNING_DOMAIN, Signer};
use accord_protocol::verify::verify_strict_raw;
use accord_protocol::{Envelope, VerifyError, canonical, sign, verify};

#[test]
fn every_flipped_record_byte_is_rejected() {
    let key = common::key(1);
    let dir = common::directory(&[("PK-FIA", &key)]);
    let env = sign(&common::full_record(), &key).unwrap();
    assert!(verify(env.clone(), &dir).is_ok());
    let bytes = env.record_bytes().to_vec();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut t = bytes.clone();
            t[i] ^= mask;
            let forged = Envelope::from_parts(*env.signer(), *env.signature(), t);
            assert!(
                verify(forged, &dir).is_err(),
                "flipping bit {mask:#x} of record byte {i} was accepted"
            );
        }
    }
}

#[test]
fn every_flipped_envelope_byte_is_rejected() {
    let key = common::key(1);
    let dir = common::directory(&[("TR-JGK", &key)]);
    let encoded = sign(&common::minimal_record(), &key).unwrap().encode();
    for i in 0..encoded.len() {
        let mut t = encoded.clone();
        t[i] ^= 0x01;
        let accepted = Envelope::decode(&t)
            .ok()
            .map(|e| verify(e, &dir).is_ok())
            .unwrap_or(false);
        assert!(!accepted, "flipping envelope byte {i} was accepted");
    }
}

#[test]
fn a_signature_from_another_record_is_rejected() {
    let key = common::key(1);
    let dir = common::directory(&[("TR-JGK", &key)]);
    let a = sign(&common::minimal_record(), &key).unwrap();
    let mut other = common::minimal_record();
    other.seq = other.seq.next().unwrap();
    let b = sign(&other, &key).unwrap();
    let swapped = Envelope::from_parts(*a.signer(), *b.signature(), a.record_bytes().to_vec());
    assert!(matches!(
        verify(swapped, &dir),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn a_key_other_than_the_originators_is_rejected() {
    let real = common::key(1);
    let mallory = common::key(2);
    let dir = common::directory(&[("TR-JGK", &real), ("PK-FIA", &mallory)]);
    // Mallory signs a record claiming TR-JGK as originator.
    let forged = sign(&common::minimal_record(), &mallory).unwrap();
    assert!(matches!(
        verify(forged.clone(), &dir),
        Err(VerifyError::WrongKey { .. })
    ));
    // The envelope relabelled with the real key but Mallory's signature.
    let relabelled = Envelope::from_parts(
        Signer::Agency(real.public_key()),
        *forged.signature(),
        forged.record_bytes().to_vec(),
    );
    assert!(matches!(
        verify(relabelled, &dir),
        Err(VerifyError::BadSignature { .. })
    ));
    // An originator nobody registered.
    let empty = common::directory(&[]);
    let good = sign(&common::minimal_record(), &real).unwrap();
    assert!(matches!(
        verify(good, &empty),
        Err(VerifyError::UnknownOriginator(_))
    ));
}

#[test]
fn a_signature_under_another_domain_tag_is_rejected() {
    let key = common::key(1);
    let dir = common::directory(&[("TR-JGK", &key)]);
    let bytes = canonical::encode_record(&common::minimal_record()).unwrap();
    let good = sign(&common::minimal_record(), &key).unwrap();
    assert!(verify_strict_raw(
        &key.public_key(),
        &[SIGNING_DOMAIN, &bytes].concat(),
        good.signature()
    ));
    for tag in [
        &b""[..],
        b"accord/record/v2\0",
        b"accord/record/v1",
        b"ACCORD/record/v1\0",
    ] {
        // sign the same bytes under another tag by going through the raw signer of a fresh
        // envelope built for that tag
        let sig = raw_sign(&key, &[tag, &bytes].concat());
        let env = Envelope::from_parts(Signer::Agency(key.public_key()), sig, bytes.clone());
        assert!(
            matches!(verify(env, &dir), Err(VerifyError::BadSignature { .. })),
            "tag {tag:?} accepted"
        );
    }
}

fn raw_sign(key: &accord_protocol::SecretKey, message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer as _;
    ed25519_dalek::SigningKey::from_bytes(&key.to_seed())
        .sign(message)
        .to_bytes()
}

#[test]
fn non_canonical_record_bytes_are_rejected_even_when_signed() {
    let key = common::key(1);
    let dir = common::directory(&[("TR-JGK", &key)]);
    let canonical = canonical::encode_record(&common::minimal_record()).unwrap();
    let text = String::from_utf8(canonical).unwrap();
    let variants = [
        text.replacen("{", "{ ", 1),                    // whitespace
        text.replacen("\"v\":1", "\"v\":1.0", 1),       // float
        text.replacen("\"seq\":\"1\"", "\"seq\":1", 1), // number for a string
        text.replacen("{\"agreement\"", "{\"subjects\":[],\"agreement\"", 1), // empty field present
        text.replacen("\"summary\":\"B", "\"summary\":\"\\u0042", 1), // needless escape
        text.replacen("\"v\":1}", "\"v\":1,\"v\":1}", 1), // duplicate member
        text.replacen("\"v\":1}", "\"extra\":1,\"v\":1}", 1), // unknown field
    ];
    for v in variants {
        assert_ne!(v, text);
        let sig = raw_sign(&key, &[SIGNING_DOMAIN, v.as_bytes()].concat());
        let env = Envelope::from_parts(
            Signer::Agency(key.public_key()),
            sig,
            v.clone().into_bytes(),
        );
        assert!(verify(env, &dir).is_err(), "accepted non-canonical {v}");
    }
}
