//! Conformance: accord's verification rule (docs/protocol.md §5) run against every vector of
//! the public Wycheproof Ed25519 set, vendored in `tests/data/` (source, licence and SHA-256 in
//! `tests/data/README.md`). The outcome of every vector is asserted, the totals are checked
//! against the file, and the table in docs/protocol.md §9 is checked against the outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use accord_protocol::keys::PublicKey;
use accord_protocol::verify::verify_strict_raw;
use serde_json::Value;

const WYCHEPROOF_ED25519: &str = include_str!("data/wycheproof/ed25519_test.json");
const PROTOCOL_DOC: &str = include_str!("../../docs/protocol.md");

/// What accord's rule does with one (key, message, signature) triple, by the first check that
/// refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Every check passed.
    Accepted,
    /// The key is not 32 bytes, does not decode, is non-canonical or is of small order:
    /// `PublicKey::from_bytes` refuses it, so it can never be registered or carried.
    KeyRefused,
    /// The signature is not exactly 64 bytes; an envelope's signature field is 64 bytes.
    SignatureLength,
    /// `verify_strict` refused it (S ≥ L, R not a point, small-order R, non-canonical R, or
    /// the cofactorless equation does not hold).
    SignatureRefused,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::KeyRefused => "key-refused",
            Outcome::SignatureLength => "signature-length",
            Outcome::SignatureRefused => "verify-strict-refused",
        }
    }
}

/// accord's rule through its public API only.
fn accord_rule(key: &[u8], message: &[u8], signature: &[u8]) -> Outcome {
    let Ok(key) = <[u8; 32]>::try_from(key) else {
        return Outcome::KeyRefused;
    };
    let Ok(key) = PublicKey::from_bytes(&key) else {
        return Outcome::KeyRefused;
    };
    let Ok(signature) = <[u8; 64]>::try_from(signature) else {
        return Outcome::SignatureLength;
    };
    if verify_strict_raw(&key, message, &signature) {
        Outcome::Accepted
    } else {
        Outcome::SignatureRefused
    }
}

fn hex_field(v: &Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field `{field}` missing in {v}"));
    hex::decode(s).unwrap_or_else(|e| panic!("field `{field}` is not hex ({e}) in {v}"))
}

/// One Wycheproof vector with accord's outcome.
#[derive(Debug)]
struct Ran {
    tc_id: u64,
    flags: String,
    result: String,
    outcome: Outcome,
    key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
}

/// Runs every vector of the file; checks that none is skipped.
fn run_wycheproof() -> Vec<Ran> {
    let file: Value = serde_json::from_str(WYCHEPROOF_ED25519).unwrap();
    assert_eq!(file["algorithm"], "EDDSA");
    assert_eq!(file["schema"], "eddsa_verify_schema_v1.json");
    let declared = file["numberOfTests"].as_u64().unwrap();
    let groups = file["testGroups"].as_array().unwrap();
    assert!(!groups.is_empty());
    let mut ran = Vec::new();
    let mut seen = BTreeSet::new();
    for group in groups {
        assert_eq!(group["type"], "EddsaVerify", "unexpected group type");
        assert_eq!(group["publicKey"]["curve"], "edwards25519");
        let key = hex_field(&group["publicKey"], "pk");
        let tests = group["tests"].as_array().unwrap();
        for t in tests {
            let tc_id = t["tcId"].as_u64().unwrap();
            assert!(seen.insert(tc_id), "tcId {tc_id} appears twice");
            let message = hex_field(t, "msg");
            let signature = hex_field(t, "sig");
            let flags: Vec<&str> = t["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            ran.push(Ran {
                tc_id,
                flags: flags.join("+"),
                result: t["result"].as_str().unwrap().to_owned(),
                outcome: accord_rule(&key, &message, &signature),
                key: key.clone(),
                message,
                signature,
            });
        }
    }
    assert_eq!(
        ran.len() as u64,
        declared,
        "the file declares {declared} tests; {} were run",
        ran.len()
    );
    ran
}

/// Per (flags, Wycheproof result): vectors, accepted by accord, refused by accord.
fn tally(ran: &[Ran]) -> BTreeMap<(String, String), (usize, usize, usize)> {
    let mut t = BTreeMap::new();
    for r in ran {
        let e = t
            .entry((r.flags.clone(), r.result.clone()))
            .or_insert((0, 0, 0));
        e.0 += 1;
        if r.outcome == Outcome::Accepted {
            e.1 += 1;
        } else {
            e.2 += 1;
        }
    }
    t
}

fn stages(ran: &[Ran]) -> BTreeMap<&'static str, usize> {
    let mut s = BTreeMap::new();
    for r in ran {
        *s.entry(r.outcome.name()).or_insert(0) += 1;
    }
    s
}

#[test]
fn wycheproof_ed25519_every_vector_has_the_expected_outcome() {
    let ran = run_wycheproof();
    let mut wrong = Vec::new();
    let mut acceptable = Vec::new();
    for r in &ran {
        match r.result.as_str() {
            "valid" if r.outcome != Outcome::Accepted => wrong.push(format!(
                "tcId {} ({}): valid, but accord: {}",
                r.tc_id,
                r.flags,
                r.outcome.name()
            )),
            "invalid" if r.outcome == Outcome::Accepted => wrong.push(format!(
                "tcId {} ({}): invalid, but accord accepted it",
                r.tc_id, r.flags
            )),
            "valid" | "invalid" => {}
            // Wycheproof's "acceptable" means either outcome is allowed. This file version has
            // none; a newer file that brings some needs accord's outcome for each decided and
            // written into docs/protocol.md §9, so the test stops here until then.
            "acceptable" => acceptable.push(r.tc_id),
            other => panic!("tcId {}: unknown result `{other}`", r.tc_id),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} Wycheproof vectors have the wrong outcome:\n{}",
        wrong.len(),
        ran.len(),
        wrong.join("\n")
    );
    assert!(
        acceptable.is_empty(),
        "\"acceptable\" vectors {acceptable:?}: decide and document accord's outcome for them"
    );

    let valid = ran.iter().filter(|r| r.result == "valid").count();
    let accepted = ran
        .iter()
        .filter(|r| r.outcome == Outcome::Accepted)
        .count();
    assert_eq!(accepted, valid, "accepted exactly the valid vectors");
    assert!(accepted > 0 && accepted < ran.len(), "a one-sided run");

    println!("Wycheproof ed25519_test.json: {} vectors", ran.len());
    println!(
        "{:<24} {:<8} {:>7} {:>8} {:>7}",
        "flags", "result", "vectors", "accepted", "refused"
    );
    for ((flags, result), (n, a, f)) in tally(&ran) {
        println!("{flags:<24} {result:<8} {n:>7} {a:>8} {f:>7}");
    }
    for (stage, n) in stages(&ran) {
        println!("{stage:<24} {n:>7}");
    }
}

/// The rule is not a constant: every accepted vector is refused once its message, R or S is
/// changed in one bit, or S has L added (the malleated twin of a valid signature).
#[test]
fn wycheproof_accepted_vectors_are_refused_when_altered() {
    // L, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let ran = run_wycheproof();
    let mut checked = 0;
    for r in ran.iter().filter(|r| r.outcome == Outcome::Accepted) {
        let mut message = r.message.clone();
        match message.last_mut() {
            Some(b) => *b ^= 1,
            None => message.push(0),
        }
        assert_ne!(
            accord_rule(&r.key, &message, &r.signature),
            Outcome::Accepted,
            "tcId {}: changed message accepted",
            r.tc_id
        );
        for bit in [0usize, 255, 256, 511 - 4] {
            let mut sig = r.signature.clone();
            sig[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(
                accord_rule(&r.key, &r.message, &sig),
                Outcome::Accepted,
                "tcId {}: signature bit {bit} flipped, accepted",
                r.tc_id
            );
        }
        let mut sig = r.signature.clone();
        let mut carry = 0u16;
        for (i, l) in L.iter().enumerate() {
            let s = u16::from(sig[32 + i]) + u16::from(*l) + carry;
            sig[32 + i] = s as u8;
            carry = s >> 8;
        }
        assert_eq!(
            accord_rule(&r.key, &r.message, &sig),
            Outcome::SignatureRefused,
            "tcId {}: S + L accepted",
            r.tc_id
        );
        checked += 1;
    }
    assert_eq!(checked, 88, "the file's 88 valid vectors");
}

/// The outcome table in docs/protocol.md §9 is the one the vectors give.
#[test]
fn the_documented_table_matches_the_outcomes() {
    let ran = run_wycheproof();
    let section = PROTOCOL_DOC
        .split_once("## 9. Conformance")
        .map(|(_, rest)| rest)
        .expect("docs/protocol.md has a section `## 9. Conformance`");
    let mut by_flag = BTreeMap::new();
    let mut by_stage = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`'))
            .collect();
        let num = |s: &str| -> usize {
            s.parse()
                .unwrap_or_else(|_| panic!("not a count: `{s}` in {line}"))
        };
        match cells.as_slice() {
            [flags, result, n, a, f, ..] => {
                let old = by_flag.insert(
                    ((*flags).to_owned(), (*result).to_owned()),
                    (num(n), num(a), num(f)),
                );
                assert!(old.is_none(), "row twice: {line}");
            }
            [stage, n] => {
                assert!(by_stage.insert(stage.to_string(), num(n)).is_none());
            }
            _ => panic!("unexpected table row in §9: {line}"),
        }
    }
    assert_eq!(by_flag, tally(&ran), "the per-flag table in §9");
    let stages: BTreeMap<String, usize> = stages(&ran)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(by_stage, stages, "the per-stage table in §9");
}

/// Keys the rule refuses when parsed, so no vector with them can be accepted whatever the
/// signature: a check of the key stage on its own, since no Wycheproof key reaches it.
#[test]
fn small_order_and_non_canonical_keys_are_refused_before_any_signature_check() {
    let sig = [0u8; 64];
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut identity_non_canonical = [0xffu8; 32];
    identity_non_canonical[0] = 0xee;
    identity_non_canonical[31] = 0x7f;
    for key in [identity, identity_non_canonical, [0u8; 32]] {
        assert_eq!(accord_rule(&key, b"", &sig), Outcome::KeyRefused);
    }
    assert_eq!(accord_rule(&[1u8; 31], b"", &sig), Outcome::KeyRefused);
}
