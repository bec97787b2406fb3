//! The strict verification rule: small-order and non-canonical keys refused when parsed;
//! signatures with S >= L, small-order R or non-canonical R refused. The encodings are the
//! ones docs/protocol.md §5 lists, read from the page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_protocol::envelope::Signer;
use accord_protocol::{Envelope, PublicKey, VerifyError, sign, verify};

fn h(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).unwrap();
    out
}

/// The encodings listed in a fenced block of docs/protocol.md §5, with their comments.
fn page_points(tag: &str) -> Vec<([u8; 32], String)> {
    let blocks = common::page_blocks(tag);
    assert_eq!(blocks.len(), 1, "docs/protocol.md has one ```{tag} block");
    blocks[0]
        .iter()
        .map(|line| {
            let (enc, comment) = line.split_once("  ").unwrap();
            (h(enc), comment.trim().to_owned())
        })
        .collect()
}

/// The eight small-order points as the page lists them, then the non-canonical encodings it
/// lists (which are all small-order too, but the last).
fn small_order() -> Vec<[u8; 32]> {
    page_points("small-order")
        .into_iter()
        .chain(page_points("non-canonical"))
        .filter(|(_, comment)| !comment.contains("large order"))
        .map(|(enc, _)| enc)
        .collect()
}

#[test]
fn the_pages_small_order_list_is_the_eight_points_the_code_refuses() {
    let listed = page_points("small-order");
    assert_eq!(listed.len(), 8);
    let distinct: std::collections::BTreeSet<_> = listed.iter().map(|(e, _)| *e).collect();
    // eight distinct points of order dividing 8: the whole torsion subgroup, none left out
    assert_eq!(distinct.len(), 8, "repeated encodings");
    for (enc, comment) in &listed {
        let point = ed25519_dalek::VerifyingKey::from_bytes(enc)
            .unwrap_or_else(|_| panic!("{} is not a point", hex::encode(enc)));
        assert!(
            point.is_weak(),
            "{} ({comment}) is not small-order",
            hex::encode(enc)
        );
        assert_eq!(
            point.to_edwards().compress().to_bytes(),
            *enc,
            "{} is not canonical",
            hex::encode(enc)
        );
        let err = PublicKey::from_bytes(enc).unwrap_err().to_string();
        assert!(err.contains("small-order"), "{}: {err}", hex::encode(enc));
    }
}

#[test]
fn the_pages_non_canonical_encodings_are_refused_as_keys() {
    let listed = page_points("non-canonical");
    assert_eq!(listed.len(), 7);
    for (enc, comment) in &listed {
        // each decompresses (a lax decoder takes it), to a point whose canonical encoding is
        // another
        let point = ed25519_dalek::VerifyingKey::from_bytes(enc)
            .unwrap_or_else(|_| panic!("{} does not decompress", hex::encode(enc)));
        assert_ne!(
            point.to_edwards().compress().to_bytes(),
            *enc,
            "{} is canonical",
            hex::encode(enc)
        );
        assert_eq!(
            point.is_weak(),
            !comment.contains("large order"),
            "{} ({comment}): small order as the page says?",
            hex::encode(enc)
        );
        let err = PublicKey::from_bytes(enc).unwrap_err().to_string();
        let expected = if point.is_weak() {
            "small-order"
        } else {
            "non-canonical"
        };
        assert!(err.contains(expected), "{}: {err}", hex::encode(enc));
    }
}

#[test]
fn every_encoding_with_y_at_least_p_is_refused() {
    // the page's rule: y in p ..= 2^255 - 1 (p + 0 ..= p + 18), with either sign bit
    let p = h("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    for extra in 0u8..19 {
        for sign in [0u8, 0x80] {
            let mut enc = p;
            enc[0] += extra;
            enc[31] |= sign;
            assert!(
                PublicKey::from_bytes(&enc).is_err(),
                "{} accepted",
                hex::encode(enc)
            );
        }
    }
}

#[test]
fn the_pages_l_is_the_group_order_used() {
    // §5 writes L = 2^252 + 27742317777372353535851937790883648493
    let page = common::protocol_page();
    let at = page.find("L = 2^252 + ").unwrap() + "L = 2^252 + ".len();
    let digits: String = page[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let low: u128 = digits.parse().unwrap();
    let l = h(L);
    assert_eq!(u128::from_le_bytes(l[..16].try_into().unwrap()), low);
    assert!(l[16..31].iter().all(|b| *b == 0));
    assert_eq!(l[31], 0x10, "2^252 is bit 4 of the last byte");
}

#[test]
fn small_order_keys_are_refused_when_parsed() {
    for k in small_order().iter().map(hex::encode) {
        let err = PublicKey::from_bytes(&h(&k));
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
    for k in small_order().iter().map(hex::encode) {
        bytes[6..38].copy_from_slice(&h(&k));
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
fn a_signature_with_a_small_order_or_non_canonical_r_is_refused() {
    let key = common::key(3);
    let dir = common::directory(&[("TR-JGK", &key)]);
    let env = sign(&common::minimal_record(), &key).unwrap();
    let listed = page_points("small-order")
        .into_iter()
        .chain(page_points("non-canonical"));
    for r in listed.map(|(enc, _)| hex::encode(enc)) {
        let mut sig = *env.signature();
        sig[..32].copy_from_slice(&h(&r));
        let forged = Envelope::from_parts(*env.signer(), sig, env.record_bytes().to_vec());
        assert!(verify(forged, &dir).is_err(), "R = {r} accepted");
    }
}

#[test]
fn strict_rule_refuses_what_the_lax_rule_accepts() {
    // With the identity as key A and as R, and S = 0, the cofactorless equation
    // [S]B = R + [k]A holds for every message: the lax rule accepts, the strict one refuses,
    // and accord never gets that far because it refuses the key itself.
    let identity = small_order()[0];
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
