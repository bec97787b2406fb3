//! The strict verification rule: small-order and non-canonical keys refused when parsed;
//! signatures with S >= L, small-order R or non-canonical R refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_protocol::envelope::Signer;
use accord_protocol::{Envelope, PublicKey, VerifyError, sign, verify};

fn h(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).unwrap();
    out
}

/// The eight small-order points of edwards25519, canonically encoded, and some non-canonical
/// encodings of small-order points.
const SMALL_ORDER: &[&str] = &[
    "0100000000000000000000000000000000000000000000000000000000000000", // identity, order 1
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
    "0000000000000000000000000000000000000000000000000000000000000000", // order 4
    "0000000000000000000000000000000000000000000000000000000000000080", // order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
    "0100000000000000000000000000000000000000000000000000000000000080", // identity, x sign set
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // identity, y = p + 1
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p (order 4)
];

#[test]
fn small_order_keys_are_refused_when_parsed() {
    for k in SMALL_ORDER {
        let err = PublicKey::from_bytes(&h(k));
        assert!(err.is_err(), "small-order key {k} accepted");
        let text = format!("ed25519:{k}");
        assert!(
            PublicKey::parse(&text).is_err(),
            "small-order key {text} accepted"
        );
    }
}

#[test]
fn envelopes_naming_a_small_order_key_do_not_decode() {
    let key = common::key(1);
    let mut bytes = sign(&common::minimal_record(), &key).unwrap().encode();
    for k in SMALL_ORDER {
        bytes[6..38].copy_from_slice(&h(k));
        assert!(
            Envelope::decode(&bytes).is_err(),
            "envelope with key {k} decoded"
        );
    }
}

/// The group order L, little-endian.
const L: &str = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

fn add_le(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    out
}

#[test]
fn a_signature_with_s_not_reduced_is_refused() {
    let key = common::key(3);
    let dir = common::directory(&[("TR-JGK", &key)]);
    let env = sign(&common::minimal_record(), &key).unwrap();
    let mut sig = *env.signature();
    let s: [u8; 32] = sig[32..].try_into().unwrap();
    sig[32..].copy_from_slice(&add_le(&s, &h(L)));
    let malleated = Envelope::from_parts(*env.signer(), sig, env.record_bytes().to_vec());
    assert!(matches!(
        verify(malleated, &dir),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn a_signature_with_a_small_order_r_is_refused() {
    let key = common::key(3);
    let dir = common::directory(&[("TR-JGK", &key)]);
    let env = sign(&common::minimal_record(), &key).unwrap();
    for r in SMALL_ORDER {
        let mut sig = *env.signature();
        sig[..32].copy_from_slice(&h(r));
        let forged = Envelope::from_parts(*env.signer(), sig, env.record_bytes().to_vec());
        assert!(verify(forged, &dir).is_err(), "R = {r} accepted");
    }
}

#[test]
fn strict_rule_refuses_what_the_lax_rule_accepts() {
    // With the identity as key A and as R, and S = 0, the cofactorless equation
    // [S]B = R + [k]A holds for every message: the lax rule accepts, the strict one refuses,
    // and accord never gets that far because it refuses the key itself.
    let identity = h(SMALL_ORDER[0]);
    let weak = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&identity);
    let sig = ed25519_dalek::Signature::from_bytes(&sig);
    let msg = b"any message at all";
    assert!(weak.verify_strict(msg, &sig).is_err());
    use ed25519_dalek::Verifier as _;
    assert!(
        weak.verify(msg, &sig).is_ok(),
        "lax verification should accept this forgery"
    );
    assert!(PublicKey::from_bytes(&identity).is_err());
    let _ = Signer::Agency; // the only signer kind; weak keys cannot be put in one
}
