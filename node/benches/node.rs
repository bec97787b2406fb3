//! Micro benchmarks of the node: one policy decision, store inserts made durable in batches
//! of 1, 64 and 1024 records, and a query by subject in a store of 1,000,000 records.
//!
//! Run with `cargo bench -p accord-node`. The large store is built once per run in a
//! temporary directory (a few minutes; progress is printed); set `ACCORD_BENCH_RECORDS` to a
//! smaller count for a quick run. `docs/benchmarks.md` has the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../protocol/tests/common/mod.rs"]
mod common;
mod support;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use accord_config::{Agreement, parse_agreement};
use accord_node::policy::may_accept;
use accord_node::store::{Query, Source, Store, SubjectQuery};
use accord_protocol::agreement::sign_agreement;
use accord_protocol::{Subject, Timestamp};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

const AGREEMENT: &str = r#"
id = "QUAD-2026"
title = "Benchmark agreement"
kind = "multilateral"
members = ["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"]
valid_from = 2026-01-01
valid_until = 2026-12-31
categories = ["smuggling-network", "route", "alert"]
most_permissive_handling = "H1"
retention_days = 365
onward_sharing = "permitted"

[victim_data]
allowed = false

[focal_points.PK-FIA]
name = "focal point"
contact = "fp@fia.example"

[focal_points.IR-FARAJA]
name = "focal point"
contact = "fp@faraja.example"

[focal_points.TR-JGK]
name = "focal point"
contact = "fp@jgk.example"

[focal_points.GR-HCG]
name = "focal point"
contact = "fp@hcg.example"
"#;

use support::{LOCAL, ORIGINATORS, Records};

/// Distinct phone numbers among the generated records: in a store of 1,000,000 each number
/// is a subject of 10 records.
const PHONES: u64 = 100_000;

fn now() -> Timestamp {
    Timestamp::parse("2026-12-01T12:00:00Z").unwrap()
}

/// The records of this benchmark: a phone of [`PHONES`] and a person of 250,000 names.
fn records() -> Records {
    Records::new(|r, i| {
        for s in &mut r.subjects {
            match s {
                Subject::Phone(p) => p.number = phone(i % PHONES),
                Subject::Person(p) => p.name = Some(format!("Facilitator {}", i % 250_000)),
                _ => {}
            }
        }
    })
}

fn phone(n: u64) -> String {
    format!("+90555{n:07}")
}

/// The agreement, signed by every member (an agreement takes effect only then).
fn agreement() -> Agreement {
    let mut a = parse_agreement(Path::new("quad.toml"), AGREEMENT.as_bytes()).unwrap();
    let members = ORIGINATORS.iter().chain([&LOCAL]);
    for (n, member) in (1u8..).zip(members) {
        let signature = sign_agreement(&common::key(n), &a.hash);
        a.signatures.insert(common::agency(member), signature);
    }
    assert!(a.fully_signed());
    a
}

fn policy(c: &mut Criterion) {
    let agreement = agreement();
    let record = records().take(1).remove(0);
    let sender = common::agency("PK-FIA");
    let local = common::agency(LOCAL);
    let decision = may_accept(&record, &sender, &local, Some(&agreement), now());
    assert!(decision.is_allowed(), "{decision:?}");
    c.bench_function("policy/may_accept", |b| {
        b.iter(|| may_accept(black_box(&record), &sender, &local, Some(&agreement), now()))
    });
}

fn insert(c: &mut Criterion) {
    let mut g = c.benchmark_group("store/insert_flush");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    let source = Source::Peer(common::agency("PK-FIA"));
    for n in [1usize, 64, 1024] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let mut records = records();
        g.throughput(criterion::Throughput::Elements(n as u64));
        g.bench_function(format!("{n}"), |b| {
            b.iter_custom(|iters| {
                let batches: Vec<_> = (0..iters).map(|_| records.take(n)).collect();
                let start = Instant::now();
                for batch in &batches {
                    store.records().insert_batch(batch, &source, now()).unwrap();
                    store.flush().unwrap();
                }
                start.elapsed()
            })
        });
    }
    g.finish();
}

/// The number of records in the store queried by subject.
fn store_size() -> u64 {
    std::env::var("ACCORD_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn query(c: &mut Criterion) {
    let total = store_size();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let mut records = records();
    support::fill(&store, &mut records, total, now(), Duration::from_secs(15));
    let target = phone(7);
    let q = Query {
        subject: Some(SubjectQuery::parse(&format!("phone:{target}")).unwrap()),
        ..Query::default()
    };
    let hits = store.queries().query(&q).unwrap().len();
    let expected = total / PHONES + u64::from(total % PHONES > 7);
    assert_eq!(hits as u64, expected);
    eprintln!("query phone:{target}: {hits} records of {total}");

    let mut g = c.benchmark_group("store/query_subject");
    g.bench_function(format!("{total}_records_{hits}_hits"), |b| {
        b.iter(|| store.queries().query(black_box(&q)).unwrap())
    });
    // a name held by 4 records in 1,000,000, through the normalising person index
    let q = Query {
        subject: Some(SubjectQuery::parse("person:FACILITATOR  7").unwrap()),
        ..Query::default()
    };
    let hits = store.queries().query(&q).unwrap().len();
    g.bench_function(format!("{total}_records_person_{hits}_hits"), |b| {
        b.iter(|| store.queries().query(black_box(&q)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, policy, insert, query);
criterion_main!(benches);
