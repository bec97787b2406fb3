//! Conformance with the C2SP/CCTV Ed25519 edge-case vectors (`ed25519/ed25519vectors.json`,
//! BSD-3-Clause, Google LLC and Filippo Valsorda). No package on the registries this project
//! builds from ships that file, so it is not vendored: `generate.rs` regenerates it from the
//! set's published construction, and the first test checks the result is the published file
//! byte for byte (its SHA-256). Then every one of the 914 vectors goes through accord's rule
//! (`PublicKey::from_bytes`, then `verify_strict_raw`) and its outcome is asserted from its
//! flags, as docs/protocol.md §9 states the rule; the totals are checked against that page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod generate;

use std::collections::BTreeMap;

use accord_protocol::keys::PublicKey;
use accord_protocol::verify::verify_strict_raw;
use generate::{
    LOW_ORDER_A, LOW_ORDER_COMPONENT_A, LOW_ORDER_COMPONENT_R, LOW_ORDER_R, LOW_ORDER_RESIDUE,
    NON_CANONICAL_A, NON_CANONICAL_R, REENCODED_K, Vector,
};
use sha2::{Digest, Sha256};

/// SHA-256 of `ed25519/ed25519vectors.json` in the C2SP/CCTV repository (unchanged since
/// commit 0fb2c3b5).
const PUBLISHED_SHA256: &str = "b38e84caf3e7e89170ff520292dbeae421b0a794c27408ce5ce973018fe3d7f9";

const PROTOCOL_DOC: &str = include_str!("../../../docs/protocol.md");

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Accepted,
    /// `PublicKey::from_bytes` refuses the key (small order or non-canonical).
    KeyRefused,
    /// `verify_strict` refuses the signature.
    StrictRefused,
}

fn accord_rule(v: &Vector) -> Outcome {
    let Ok(key) = PublicKey::from_bytes(&v.key) else {
        return Outcome::KeyRefused;
    };
    if verify_strict_raw(&key, v.message.as_bytes(), &v.signature) {
        Outcome::Accepted
    } else {
        Outcome::StrictRefused
    }
}

/// The outcome docs/protocol.md §9 predicts from a vector's flags.
fn predicted(v: &Vector) -> Outcome {
    if v.has(LOW_ORDER_A) || v.has(NON_CANONICAL_A) {
        Outcome::KeyRefused
    } else if v.has(LOW_ORDER_R) || v.has(NON_CANONICAL_R) || v.has(LOW_ORDER_RESIDUE) {
        Outcome::StrictRefused
    } else {
        // reencoded_k comes only with a non-canonical point, refused above
        assert!(!v.has(REENCODED_K), "vector {}", v.number);
        Outcome::Accepted
    }
}

#[test]
fn the_regenerated_set_is_the_published_file_byte_for_byte() {
    let vectors = generate::vectors();
    assert_eq!(vectors.len(), 914);
    let json = generate::to_json(&vectors);
    assert_eq!(
        hex::encode(Sha256::digest(json.as_bytes())),
        PUBLISHED_SHA256
    );
    // and the file parses as the JSON it claims to be, with the fields read back
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = &parsed[0];
    assert_eq!(first["number"], 0);
    assert_eq!(first["msg"], vectors[0].message);
    assert_eq!(first["key"], hex::encode(vectors[0].key));
}

#[test]
fn every_cctv_vector_has_the_outcome_its_flags_predict() {
    let vectors = generate::vectors();
    let mut totals: BTreeMap<Outcome, usize> = BTreeMap::new();
    for v in &vectors {
        let got = accord_rule(v);
        assert_eq!(
            got,
            predicted(v),
            "vector {} (flags {:?}, key {}, msg {:?})",
            v.number,
            v.flag_names(),
            hex::encode(v.key),
            v.message
        );
        *totals.entry(got).or_default() += 1;
    }
    let count = |o| totals.get(&o).copied().unwrap_or(0);
    assert_eq!(
        (
            count(Outcome::Accepted),
            count(Outcome::KeyRefused),
            count(Outcome::StrictRefused)
        ),
        (43, 526, 345)
    );
    // accepted exactly when every flag is one of the two "component" flags (mixed-order points
    // are not small-order and the cofactorless equation holds for them)
    for v in &vectors {
        let only_components = v.flags & !(LOW_ORDER_COMPONENT_A | LOW_ORDER_COMPONENT_R) == 0;
        assert_eq!(
            accord_rule(v) == Outcome::Accepted,
            only_components,
            "vector {}",
            v.number
        );
    }
    // the page states these totals
    let section = PROTOCOL_DOC
        .split("**C2SP/CCTV `ed25519vectors.json`**")
        .nth(1)
        .expect("docs/protocol.md §9 has the CCTV paragraph");
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    for figure in [
        "**914**",
        "43 accepted",
        "526 refused at the key",
        "345 refused by strict verification",
    ] {
        assert!(
            section.contains(figure),
            "docs/protocol.md §9 should say {figure}"
        );
    }
}

/// A vector whose signature is altered is refused: the accepted ones are not accepted by
/// accident of the equation.
#[test]
fn accepted_cctv_vectors_are_refused_when_altered() {
    for v in generate::vectors()
        .iter()
        .filter(|v| accord_rule(v) == Outcome::Accepted)
    {
        let key = PublicKey::from_bytes(&v.key).unwrap();
        for byte in [0usize, 31, 32, 63] {
            let mut sig = v.signature;
            sig[byte] ^= 0x01;
            assert!(
                !verify_strict_raw(&key, v.message.as_bytes(), &sig),
                "vector {} with signature byte {byte} flipped",
                v.number
            );
        }
        let mut msg = v.message.clone().into_bytes();
        msg.push(b'!');
        assert!(
            !verify_strict_raw(&key, &msg, &v.signature),
            "vector {}",
            v.number
        );
    }
}

/// The generator's torsion points: one of order 1, one of order 2, two of order 4, four of
/// order 8, with six other encodings in all (the "eight plus six" of the set's README), each
/// refused as a key.
#[test]
fn the_torsion_points_are_the_eight_of_order_dividing_8() {
    let points = generate::torsion_points();
    let mut orders: Vec<u32> = points.iter().map(|t| t.order).collect();
    orders.sort_unstable();
    assert_eq!(orders, [1, 2, 4, 4, 8, 8, 8, 8]);
    assert_eq!(
        points
            .iter()
            .map(|t| t.other_encodings.len())
            .sum::<usize>(),
        6
    );
    for t in &points {
        for e in std::iter::once(&t.encoding).chain(&t.other_encodings) {
            assert!(PublicKey::from_bytes(e).is_err(), "{}", hex::encode(e));
        }
    }
}
