//! Batch verification: it accepts what `verify` accepts, names each record `verify` refuses
//! with `verify`'s own error, and refuses what `verify_strict` refuses even though the bare
//! ed25519 batch equation would not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use accord_protocol::batch::verify_batch;
use accord_protocol::{AgencyId, Envelope, PublicKey, Seq, VerifyError, sign, verify};

const AGENCIES: [&str; 4] = ["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"];

fn signed(n: usize) -> (Vec<Envelope>, BTreeMap<AgencyId, PublicKey>) {
    let keys: Vec<_> = (0u8..4).map(|i| common::key(i + 1)).collect();
    let dir = AGENCIES
        .iter()
        .zip(&keys)
        .map(|(a, k)| (common::agency(a), k.public_key()))
        .collect();
    let envelopes = (0..n)
        .map(|i| {
            let mut r = if i % 2 == 0 {
                common::full_record()
            } else {
                common::minimal_record()
            };
            r.originator = common::agency(AGENCIES[i % 4]);
            r.seq = Seq::new(i as u64 + 1).unwrap();
            sign(&r, &keys[i % 4]).unwrap()
        })
        .collect();
    (envelopes, dir)
}

/// What `verify` says about each envelope, as text (errors) or the record id (accepted).
fn one_by_one(envelopes: &[Envelope], dir: &BTreeMap<AgencyId, PublicKey>) -> Vec<String> {
    envelopes
        .iter()
        .map(|e| outcome(verify(e.clone(), dir)))
        .collect()
}

fn outcome(
    r: Result<accord_protocol::Verified<accord_protocol::SignedRecord>, VerifyError>,
) -> String {
    match r {
        Ok(v) => format!("ok {}", v.id),
        Err(e) => format!("error: {e}"),
    }
}

fn batched(envelopes: &[Envelope], dir: &BTreeMap<AgencyId, PublicKey>) -> Vec<String> {
    verify_batch(envelopes.to_vec(), dir)
        .into_iter()
        .map(outcome)
        .collect()
}

fn h(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).unwrap();
    out
}

#[test]
fn a_batch_of_valid_records_is_accepted() {
    for n in [0, 1, 2, 64] {
        let (envelopes, dir) = signed(n);
        let results = verify_batch(envelopes.clone(), &dir);
        assert_eq!(results.len(), n);
        for (env, r) in envelopes.iter().zip(results) {
            let v = r.unwrap();
            assert_eq!(v.id, env.id());
            assert_eq!(&v.envelope, env);
        }
    }
}

#[test]
fn one_forged_signature_among_64_is_named_and_the_others_accepted() {
    let (mut envelopes, dir) = signed(64);
    // record 17's bytes and signer with record 21's (valid) signature: a well-formed signature
    // that does not verify, so the batch equation fails and the fallback must find it
    let forged = Envelope::from_parts(
        *envelopes[17].signer(),
        *envelopes[21].signature(),
        envelopes[17].record_bytes().to_vec(),
    );
    let forged_id = forged.id();
    envelopes[17] = forged;
    let results = verify_batch(envelopes.clone(), &dir);
    for (i, r) in results.into_iter().enumerate() {
        if i == 17 {
            match r {
                Err(VerifyError::BadSignature { id, originator }) => {
                    assert_eq!(id, forged_id.to_hex());
                    assert_eq!(originator, AGENCIES[17 % 4]);
                }
                other => panic!("record 17: {other:?}"),
            }
        } else {
            assert_eq!(r.unwrap().id, envelopes[i].id(), "record {i}");
        }
    }
}

#[test]
fn every_refusal_is_verifys_own() {
    let (mut envelopes, dir) = signed(12);
    // unknown originator: a key nobody registered, signing as an unknown agency
    let stranger = common::key(99);
    let mut r = common::minimal_record();
    r.originator = common::agency("BG-GDBP");
    envelopes[1] = sign(&r, &stranger).unwrap();
    // wrong key: TR-JGK's record signed by PK-FIA's key
    let mut r = common::minimal_record();
    r.seq = Seq::new(500).unwrap();
    envelopes[4] = sign(&r, &common::key(1)).unwrap();
    // non-canonical record bytes (a space added), still signed by the right key
    let e = &envelopes[6];
    let mut bytes = e.record_bytes().to_vec();
    bytes.insert(1, b' ');
    envelopes[6] = Envelope::from_parts(*e.signer(), *e.signature(), bytes);
    // a signature over other bytes
    envelopes[9] = Envelope::from_parts(
        *envelopes[9].signer(),
        *envelopes[5].signature(),
        envelopes[9].record_bytes().to_vec(),
    );
    let expected = one_by_one(&envelopes, &dir);
    assert_eq!(batched(&envelopes, &dir), expected);
    let refused: Vec<usize> = (0..12)
        .filter(|i| expected[*i].starts_with("error"))
        .collect();
    assert_eq!(refused, [1, 4, 6, 9], "{expected:#?}");
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

/// Small-order points of edwards25519, canonical and not.
const SMALL_ORDER: &[&str] = &[
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

#[test]
fn what_verify_strict_refuses_the_batch_refuses() {
    let (envelopes, dir) = signed(16);
    let with_signature = |e: &Envelope, sig: [u8; 64]| {
        Envelope::from_parts(*e.signer(), sig, e.record_bytes().to_vec())
    };

    // S + L: the same point equation holds, so a batch that reduced S would accept it
    let mut batch = envelopes.clone();
    let mut sig = *batch[3].signature();
    let s: [u8; 32] = sig[32..].try_into().unwrap();
    sig[32..].copy_from_slice(&add_le(&s, &h(L)));
    batch[3] = with_signature(&batch[3], sig);
    let results = batched(&batch, &dir);
    assert_eq!(results, one_by_one(&batch, &dir));
    assert!(results[3].contains("signature"), "{}", results[3]);
    assert_eq!(results.iter().filter(|r| r.starts_with("ok")).count(), 15);

    // small-order R, each in a batch of otherwise valid records
    for r in SMALL_ORDER {
        let mut batch = envelopes.clone();
        let mut sig = *batch[7].signature();
        sig[..32].copy_from_slice(&h(r));
        batch[7] = with_signature(&batch[7], sig);
        let results = batched(&batch, &dir);
        assert!(results[7].starts_with("error"), "R = {r} accepted");
        assert_eq!(results, one_by_one(&batch, &dir));
    }
}
