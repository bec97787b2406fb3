//! Person search, measured (docs/benchmarks.md, "Search"): recall and precision on the
//! labelled name pairs (tests/data/names, and the holdout set tests/data/names-holdout) at the
//! default threshold, then query latency in a store of 1,000,000 records as a ratio to exact
//! search (`--subject person:NAME`) in the same run, and what the search indexes take.
//!
//! Run with `cargo bench -p accord-node --bench search`; `ACCORD_BENCH_RECORDS` sets the store's
//! size (default 1,000,000; building it takes minutes, progress is printed); `ACCORD_BENCH_ROUNDS`
//! the timed rounds of each query, after one untimed (default 3); `ACCORD_BENCH_KEEP` a directory to build the store in
//! and keep; `ACCORD_BENCH_STORE` a store kept from an earlier run of the same size, whose
//! latency alone is measured again; `ACCORD_BENCH_ENGINE` the engine a new store is made on
//! (`sled`, the default, or `fjall`); `ACCORD_BENCH_PROFILE` (`exact`, `person` or `fuzzy`,
//! with `ACCORD_BENCH_STORE`) runs only that query over the 200 names for 15 s, for a profiler.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../../protocol/tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use accord_config::StoreEngine;
use accord_node::search::eval::{Report, evaluate, read_pairs};
use accord_node::search::{Find, names, search};
use accord_node::store::{Query, Store, SubjectQuery};
use accord_protocol::{Record, Subject, Timestamp};
use support::{POOLS, Pools, Records, data, memory, vary};

fn print_report(what: &str, r: &Report) {
    println!("{what}:");
    for line in r.figure_lines().iter().chain(&r.wrong_lines()) {
        println!("  {line}");
    }
}

fn now() -> Timestamp {
    Timestamp::parse("2026-12-01T12:00:00Z").unwrap()
}

/// The engine a new store is made on (`ACCORD_BENCH_ENGINE`, default sled).
fn engine() -> StoreEngine {
    std::env::var("ACCORD_BENCH_ENGINE")
        .map(|e| {
            e.trim()
                .parse()
                .expect("ACCORD_BENCH_ENGINE: sled or fjall")
        })
        .unwrap_or(StoreEngine::Sled)
}

fn store_size() -> u64 {
    std::env::var("ACCORD_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Rounds of every query (`ACCORD_BENCH_ROUNDS`, default 3).
fn rounds() -> usize {
    std::env::var("ACCORD_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|r| *r > 0)
        .unwrap_or(3)
}

/// Runs `f` on every query for [`rounds`] rounds, after one round untimed: every kind of
/// query is timed warm (its blocks in the caches, its names' parts analysed), so the ratios
/// compare like with like. Mean, 95th percentile and hits per round.
fn timed(queries: &[String], mut f: impl FnMut(&str) -> usize) -> (Duration, Duration, usize) {
    for q in queries {
        f(q);
    }
    let mut all = Vec::new();
    let mut hits = 0;
    for _ in 0..rounds() {
        for q in queries {
            let t = Instant::now();
            hits += f(q);
            all.push(t.elapsed());
        }
    }
    all.sort();
    let mean = all.iter().sum::<Duration>() / all.len() as u32;
    (mean, all[all.len() * 95 / 100], hits / rounds())
}

fn main() {
    // a store kept from an earlier run of the same size (the process killed before its
    // temporary directory was removed): only the latency is measured again
    if let Ok(kept) = std::env::var("ACCORD_BENCH_STORE") {
        let store = Store::open(std::path::Path::new(&kept)).unwrap();
        let on = Store::engine_of(std::path::Path::new(&kept));
        println!("the kept store is on {}", on.map_or("?", |e| e.as_str()));
        latency(&store, store_size());
        return;
    }
    // quality on the labelled sets
    let tuned = read_pairs(&data("names/pairs.tsv")).unwrap();
    print_report(
        "tests/data/names (the set the rules were tuned on)",
        &evaluate(&tuned, false),
    );
    let holdout = read_pairs(&data("names-holdout/pairs.tsv")).unwrap();
    print_report("tests/data/names-holdout", &evaluate(&holdout, false));
    let fuzzy = evaluate(&tuned, true);
    println!(
        "with --fuzzy (threshold 60): recall {:.3} precision {:.3} on tests/data/names",
        fuzzy.all.recall(),
        fuzzy.all.precision()
    );

    // what indexing a person's name costs a store insert: the same records with and without
    // the person, each into a fresh store, batches of 1,024 flushed each
    let cost = |vary: fn(&mut Record, u64)| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let source = accord_node::store::Source::Peer(common::agency("PK-FIA"));
        let mut records = Records::new(vary);
        let batches: Vec<_> = (0..20).map(|_| records.take(1024)).collect();
        let start = Instant::now();
        for b in &batches {
            store.records().insert_batch(b, &source, now()).unwrap();
            store.flush().unwrap();
        }
        start.elapsed() / (20 * 1024)
    };
    let without = cost(|r, i| {
        vary(r, i);
        r.subjects.retain(|s| !matches!(s, Subject::Person(_)));
    });
    eprintln!(
        "memory after the write-cost store without a person: {:.0} MiB resident",
        memory("VmRSS"),
    );
    let with = cost(vary);
    eprintln!(
        "memory after the write-cost stores: {:.0} MiB resident, {:.0} MiB peak",
        memory("VmRSS"),
        memory("VmHWM")
    );
    println!(
        "\nstore insert + flush per record, batches of 1,024: {without:.1?} without a person, \
         {with:.1?} with one ({:.2}×)",
        with.as_secs_f64() / without.as_secs_f64()
    );

    // latency in a large store
    let total = store_size();
    let dir = tempfile::tempdir().unwrap();
    let path = match std::env::var("ACCORD_BENCH_KEEP") {
        Ok(keep) => std::path::PathBuf::from(keep),
        Err(_) => dir.path().join("store"),
    };
    let store = Store::open_as(&path, engine()).unwrap();
    println!("\nthe latency store is on {}", engine());
    let mut records = Records::new(vary);
    // flushed after every batch, as the receive path flushes after every push: sled holds
    // what it has not flushed in memory, and these records write many index keys each
    support::fill(&store, &mut records, total, now(), Duration::ZERO);
    latency(&store, total);
}

/// Person search's latency in `store`, built with `total` records of [`vary`].
fn latency(store: &Store, total: u64) {
    let pools = POOLS.get_or_init(Pools::new);
    // 200 people held, spread over the store and its scripts
    let names: Vec<String> = (0..200u64)
        .map(|k| pools.name(k * total / 200 + k % 7))
        .collect();
    let swapped: Vec<String> = names
        .iter()
        .map(|n| {
            let (g, f) = n.split_once(' ').unwrap();
            format!("{} {}", f.to_uppercase(), g.to_uppercase())
        })
        .collect();
    let q = Query::default();
    // one kind of query in a loop, for a profiler (`perf record --call-graph dwarf`)
    if let Ok(what) = std::env::var("ACCORD_BENCH_PROFILE") {
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed() < Duration::from_secs(15) {
            for name in &names {
                n += match what.as_str() {
                    "exact" => {
                        let q = Query {
                            subject: Some(SubjectQuery::parse(&format!("person:{name}")).unwrap()),
                            ..Query::default()
                        };
                        store.queries().query(&q).unwrap().len()
                    }
                    w => {
                        let find = Find::Person {
                            name: names::analyse(name),
                            born: None,
                            fuzzy: w == "fuzzy",
                        };
                        search(store, &find, &q, 100).unwrap().hits.len()
                    }
                };
            }
        }
        println!("{what}: {n} hits in 15 s");
        std::process::exit(0);
    }
    let exact = timed(&names, |n| {
        let q = Query {
            subject: Some(SubjectQuery::parse(&format!("person:{n}")).unwrap()),
            ..Query::default()
        };
        store.queries().query(&q).unwrap().len()
    });
    let (store_ref, q_ref) = (store, &q);
    let person = |fuzzy: bool| {
        move |n: &str| {
            let find = Find::Person {
                name: names::analyse(n),
                born: None,
                fuzzy,
            };
            search(store_ref, &find, q_ref, 100).unwrap().hits.len()
        }
    };
    eprintln!(
        "memory after the store was built: {:.0} MiB resident, {:.0} MiB peak",
        memory("VmRSS"),
        memory("VmHWM")
    );
    let variant = timed(&names, person(false));
    let variant_swapped = timed(&swapped, person(false));
    eprintln!(
        "memory after the name searches: {:.0} MiB resident, {:.0} MiB peak",
        memory("VmRSS"),
        memory("VmHWM")
    );
    // the first --fuzzy search of a process reads the index's distinct skeletons: timed apart
    let t = Instant::now();
    let skeletons = store.index().with_skeletons(|held| held.len()).unwrap();
    let read_skeletons = t.elapsed();
    let fuzzy = timed(&names, person(true));
    eprintln!(
        "memory after the fuzzy searches: {:.0} MiB resident, {:.0} MiB peak",
        memory("VmRSS"),
        memory("VmHWM")
    );
    let family: Vec<String> = names
        .iter()
        .map(|n| n.rsplit_once(' ').unwrap().1.to_owned())
        .collect();
    let family_only = timed(&family, person(false));
    let phone = timed(&["+90555000007".to_owned()], |p| {
        let find = Find::Phone {
            typed: p.to_owned(),
            e164: p.to_owned(),
        };
        search(store, &find, &q, 100).unwrap().hits.len()
    });

    println!(
        "\nperson search in a store of {total} records (200 names, {} rounds)",
        rounds()
    );
    println!(
        "  {:<44} {:>10} {:>10} {:>8} {:>10} {:>10}",
        "query", "mean", "p95", "hits", "× exact", "per hit"
    );
    // per hit: the time per record found, as a ratio to exact search's
    let per_hit = |(mean, _, hits): (Duration, Duration, usize)| {
        mean.as_secs_f64() / (hits.max(1) as f64 / 200.0)
    };
    let row = |what: &str, t: (Duration, Duration, usize)| {
        let (mean, p95, hits) = t;
        println!(
            "  {:<44} {:>10.2?} {:>10.2?} {:>8.1} {:>10.2} {:>10.2}",
            what,
            mean,
            p95,
            hits as f64 / 200.0,
            mean.as_secs_f64() / exact.0.as_secs_f64(),
            per_hit(t) / per_hit(exact)
        );
    };
    row("exact: --subject person:NAME", exact);
    row("--person NAME", variant);
    row(
        "--person FAMILY GIVEN (upper case, swapped)",
        variant_swapped,
    );
    row("--person NAME --fuzzy", fuzzy);
    row("--person FAMILY (one part)", family_only);
    println!(
        "  --phone (10 records of {total}): {:.2?} per query",
        phone.0
    );
    println!(
        "  --fuzzy's first search read the index's {skeletons} distinct skeletons in {read_skeletons:.2?} (once per process)"
    );
    println!(
        "\nthe benchmark's memory: {:.0} MiB resident at the end, {:.0} MiB at its peak",
        memory("VmRSS"),
        memory("VmHWM")
    );
    println!("\nthe store's entries by kind (key + value bytes, before sled's own overhead)");
    for (kind, n, bytes) in store.logical_bytes().unwrap() {
        println!(
            "  {kind:<16} {n:>12} entries {:>10.1} MiB {:>8.0} bytes/record",
            bytes as f64 / 1048576.0,
            bytes as f64 / total as f64
        );
    }
}
