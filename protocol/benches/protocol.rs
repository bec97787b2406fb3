//! Micro benchmarks of the record protocol: canonical encoding and decoding, signing,
//! verification one by one (`verify`, i.e. `verify_strict` with every record check) and in
//! batches (`verify_batch`), with ed25519-dalek's bare primitives beside them for the physical
//! limit. Run with `cargo bench -p accord-protocol`; `docs/benchmarks.md` has the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::hint::black_box;

use accord_protocol::batch::verify_batch;
use accord_protocol::canonical::{decode_record, encode_record};
use accord_protocol::envelope::signed_message;
use accord_protocol::verify::verify_strict_raw;
use accord_protocol::{AgencyId, Envelope, PublicKey, Record, Seq, sign, verify};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// The agencies signing in the batch benchmarks, each with its own key.
const AGENCIES: [&str; 4] = ["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"];

/// `n` signed records spread over the four agencies, and the key directory for them.
fn signed(n: usize) -> (Vec<Envelope>, BTreeMap<AgencyId, PublicKey>) {
    let keys: Vec<_> = (0u8..4).map(|i| common::key(i + 1)).collect();
    let dir = AGENCIES
        .iter()
        .zip(&keys)
        .map(|(a, k)| (common::agency(a), k.public_key()))
        .collect();
    let envelopes = (0..n)
        .map(|i| {
            let mut r = common::full_record();
            r.originator = common::agency(AGENCIES[i % 4]);
            r.seq = Seq::new(i as u64 + 1).expect("seq");
            sign(&r, &keys[i % 4]).expect("sign")
        })
        .collect();
    (envelopes, dir)
}

fn record_and_envelope() -> (Record, Envelope, BTreeMap<AgencyId, PublicKey>) {
    let key = common::key(1);
    let record = common::full_record();
    let envelope = sign(&record, &key).expect("sign");
    let dir = common::directory(&[("PK-FIA", &key)]);
    (record, envelope, dir)
}

fn canonical(c: &mut Criterion) {
    let (record, envelope, _) = record_and_envelope();
    let bytes = envelope.record_bytes().to_vec();
    eprintln!("record: {} bytes canonical JSON", bytes.len());
    let mut g = c.benchmark_group("canonical");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode", |b| b.iter(|| encode_record(black_box(&record))));
    g.bench_function("decode", |b| b.iter(|| decode_record(black_box(&bytes))));
    g.finish();

    let wire = envelope.encode();
    let mut g = c.benchmark_group("envelope");
    g.bench_function("decode", |b| b.iter(|| Envelope::decode(black_box(&wire))));
    g.bench_function("record_id", |b| b.iter(|| black_box(&envelope).id()));
    g.finish();
}

fn signing(c: &mut Criterion) {
    let (record, envelope, dir) = record_and_envelope();
    let key = common::key(1);
    let public = key.public_key();
    let message = signed_message(envelope.record_bytes());
    let signature = *envelope.signature();

    let mut g = c.benchmark_group("signature");
    g.bench_function("sign", |b| b.iter(|| sign(black_box(&record), &key)));
    g.bench_function("verify_strict", |b| {
        b.iter(|| verify_strict_raw(&public, black_box(&message), &signature))
    });
    g.bench_function("verify", |b| {
        b.iter_batched(
            || envelope.clone(),
            |e| verify(e, &dir),
            BatchSize::SmallInput,
        )
    });
    // What closing the last gap of verify_batch would cost per signature (see protocol::batch).
    let point = ed25519_dalek::VerifyingKey::from_bytes(public.as_bytes())
        .expect("key")
        .to_edwards();
    g.bench_function("torsion_check", |b| {
        b.iter(|| black_box(&point).is_torsion_free())
    });
    g.finish();
}

fn batches(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify_batch");
    g.sample_size(10);
    for n in [64usize, 1024] {
        let (envelopes, dir) = signed(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("accord/{n}"), |b| {
            b.iter_batched(
                || envelopes.clone(),
                |e| verify_batch(e, &dir),
                BatchSize::LargeInput,
            )
        });
        g.bench_function(format!("accord_one_by_one/{n}"), |b| {
            b.iter_batched(
                || envelopes.clone(),
                |e| e.into_iter().map(|e| verify(e, &dir)).collect::<Vec<_>>(),
                BatchSize::LargeInput,
            )
        });
        // The bare ed25519 batch equation over the same signatures: the floor under
        // verify_batch, without record decoding or the strict encoding checks.
        let messages: Vec<Vec<u8>> = envelopes
            .iter()
            .map(|e| signed_message(e.record_bytes()))
            .collect();
        let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let signatures: Vec<ed25519_dalek::Signature> = envelopes
            .iter()
            .map(|e| ed25519_dalek::Signature::from_bytes(e.signature()))
            .collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> = envelopes
            .iter()
            .map(|e| {
                ed25519_dalek::VerifyingKey::from_bytes(e.signer().key().as_bytes()).expect("key")
            })
            .collect();
        g.bench_function(format!("dalek/{n}"), |b| {
            b.iter(|| ed25519_dalek::verify_batch(&messages, &signatures, &keys))
        });
        // One forged signature among n: the batch fails and every signature is checked alone.
        let mut forged = envelopes.clone();
        let last = forged.len() - 1;
        forged[last] = Envelope::from_parts(
            *forged[0].signer(),
            *forged[1].signature(),
            forged[0].record_bytes().to_vec(),
        );
        g.bench_function(format!("accord_one_forged/{n}"), |b| {
            b.iter_batched(
                || forged.clone(),
                |e| verify_batch(e, &dir),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

/// Hit / no-hit matching's cryptography (docs/matching.md): each step of a lookup of one
/// selector and of 64, and a holder tagging one of its own, beside `verify_strict` in the
/// signature group.
fn matching(c: &mut Criterion) {
    use accord_protocol::matching::{Epoch, Lookup, MatchKey, Selector, SelectorKind};
    use accord_protocol::{AgreementId, Timestamp};
    use rand_core::OsRng;

    let epoch = Epoch::containing(Timestamp::parse("2026-12-07T10:00:00Z").unwrap(), 1).unwrap();
    let key = MatchKey::derive(&[7; 32], &AgreementId::new("QUAD-2026").unwrap(), epoch).unwrap();
    let public = key.public_key();
    let phones: Vec<Selector> = (0..64)
        .map(|i| Selector::new(SelectorKind::Phone, &format!("+9230123456{i:02}")).unwrap())
        .collect();
    let one = &phones[..1];

    let mut g = c.benchmark_group("matching");
    g.bench_function("holder_tag", |b| b.iter(|| key.tag(black_box(&one[0]))));
    g.bench_function("blind/1", |b| {
        b.iter(|| Lookup::blind(&mut OsRng, black_box(one)))
    });
    let (lookup, blinded) = Lookup::blind(&mut OsRng, one).unwrap();
    g.bench_function("answer/1", |b| {
        b.iter(|| key.answer(&mut OsRng, black_box(&blinded)))
    });
    let answer = key.answer(&mut OsRng, &blinded).unwrap();
    g.bench_function("finish/1", |b| {
        b.iter(|| lookup.finish(black_box(&answer), &public))
    });
    g.bench_function("lookup/1", |b| {
        b.iter(|| {
            let (l, bl) = Lookup::blind(&mut OsRng, one).unwrap();
            let a = key.answer(&mut OsRng, &bl).unwrap();
            l.finish(&a, &public).unwrap()
        })
    });
    g.throughput(Throughput::Elements(64));
    g.bench_function("lookup/64", |b| {
        b.iter(|| {
            let (l, bl) = Lookup::blind(&mut OsRng, &phones).unwrap();
            let a = key.answer(&mut OsRng, &bl).unwrap();
            l.finish(&a, &public).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, canonical, signing, batches, matching);
criterion_main!(benches);
