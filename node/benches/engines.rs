//! The storage engines side by side (docs/benchmarks.md, "Storage engines"): the same records,
//! pushed as a partner pushes them (batches of 1,024, each flushed before it would be
//! acknowledged), into a store on each engine, in one run. Each engine runs in a process of its
//! own, so each one's memory is its own; the records are the search benchmark's (a person of
//! the labelled sets' names with a year of birth, a phone, a facilitator, two route legs).
//!
//! Per engine it prints, at every step of the store's growth: the insert rate over the step,
//! resident memory, the heap the allocator has handed out and holds, the highest resident
//! memory and heap over the step (sampled every 100 ms), and bytes on disk ÷ the signed bytes
//! of the records held; at the end, the reads a node makes (a record by id, a 256-record seq
//! range as a catch-up answer reads it, an exact subject query) and every figure of the others
//! as a ratio to the first engine's.
//!
//! `cargo bench -p accord-node --bench engines`; `ACCORD_BENCH_RECORDS` sets the store's size
//! (default 200,000), `ACCORD_BENCH_STEP` the records between lines (default a fifth of it),
//! `ACCORD_BENCH_ENGINES` the engines, in order (default `sled,fjall`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../../protocol/tests/common/mod.rs"]
mod common;
mod support;

use std::time::Instant;

use accord_config::StoreEngine;
use accord_node::store::{Query, Source, Store, SubjectQuery};
use accord_protocol::{AgreementId, RecordId, Seq, StreamId, Timestamp};
use support::{Records, memory, vary};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn now() -> Timestamp {
    Timestamp::parse("2026-12-01T12:00:00Z").unwrap()
}

/// Bytes on disk under `dir`: the blocks allocated (fjall's journal is a sparse file).
fn disk_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => disk_bytes(&e.path()),
            Ok(t) if t.is_file() => e
                .metadata()
                .map(|m| std::os::unix::fs::MetadataExt::blocks(&m) * 512)
                .unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let engine: StoreEngine = args[i + 1].parse().expect("an engine name");
        child(engine);
        return;
    }
    let total = env_u64("ACCORD_BENCH_RECORDS", 200_000);
    let engines: Vec<StoreEngine> = std::env::var("ACCORD_BENCH_ENGINES")
        .unwrap_or_else(|_| "sled,fjall".into())
        .split(',')
        .map(|e| e.trim().parse().expect("ACCORD_BENCH_ENGINES: sled, fjall"))
        .collect();
    println!(
        "storage engines side by side: {total} records pushed in batches of 1,024, each flushed; \
         each engine in a process of its own"
    );
    let mut figures: Vec<(StoreEngine, Vec<(String, f64)>)> = Vec::new();
    for engine in &engines {
        println!("\n{engine}:");
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--child", engine.as_str()])
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "the {engine} run failed");
        let text = String::from_utf8(out.stdout).unwrap();
        let mut f = Vec::new();
        for line in text.lines() {
            match line.strip_prefix("FIGURE ") {
                Some(rest) => {
                    let (name, value) = rest.rsplit_once(' ').unwrap();
                    f.push((name.to_owned(), value.parse::<f64>().unwrap()));
                }
                None => println!("{line}"),
            }
        }
        figures.push((*engine, f));
    }
    let Some((base, first)) = figures.first() else {
        return;
    };
    println!("\nside by side (each ÷ {base}):");
    print!("  {:<44}", "figure");
    for (e, _) in &figures {
        print!("{:>12}", e.as_str());
    }
    println!("{:>10}", "ratio");
    let of = |f: &[(String, f64)], name: &str| {
        f.iter()
            .find(|(n, _)| n == name)
            .map_or(f64::NAN, |(_, v)| *v)
    };
    for (name, b) in first {
        print!("  {name:<44}");
        for (_, f) in &figures {
            print!("{:>12.2}", of(f, name));
        }
        let ratios: Vec<String> = figures[1..]
            .iter()
            .map(|(_, f)| format!("{:.2}×", of(f, name) / b))
            .collect();
        println!("{:>10}", ratios.join(" "));
    }
}

/// One engine's run, in its own process: prints its lines, and `FIGURE name value` lines for
/// the parent's comparison.
fn child(engine: StoreEngine) {
    let total = env_u64("ACCORD_BENCH_RECORDS", 200_000);
    let step = env_u64("ACCORD_BENCH_STEP", (total / 5).max(1024));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = Store::open_as(&path, engine).unwrap();
    let source = Source::Peer(common::agency("PK-FIA"));
    let mut records = Records::new(vary);
    let mut signed = 0u64;
    // every 97th id, for the reads (all of them would weigh on the memory measured)
    let mut sample: Vec<RecordId> = Vec::new();
    let start = Instant::now();
    // memory sampled every 100 ms: its highest over each step, not only its value at the end
    let peaks = support::Peaks::start();
    let (mut mark, mut mark_at) = (0u64, Instant::now());
    let mut next = step;
    let mut insert_time = 0.0f64;
    while records.made < total {
        let n = (total - records.made).min(1024) as usize;
        let first = records.made;
        let batch = records.take(n);
        for (k, v) in batch.iter().enumerate() {
            signed += v.envelope.encoded_len() as u64;
            if (first + k as u64).is_multiple_of(97) {
                sample.push(v.id);
            }
        }
        let t = Instant::now();
        store
            .records()
            .insert_batch(&batch, &source, now())
            .unwrap();
        store.flush().unwrap();
        insert_time += t.elapsed().as_secs_f64();
        if records.made >= next || records.made == total {
            next += step;
            let rate = (records.made - mark) as f64 / mark_at.elapsed().as_secs_f64();
            let (allocated, held) = support::heap();
            let (top_resident, top_allocated) = peaks.take();
            println!(
                "  {:>9} records  {:>7.0} records/s over the step  resident {:>6.0} MiB \
                 (heap: {allocated:.0} allocated, {held:.0} held; the step's highest: \
                 {top_resident:.0} resident, {top_allocated:.0} allocated)  disk {:>5.2}× the \
                 signed bytes  ({:.0} s)",
                records.made,
                rate,
                memory("VmRSS"),
                disk_bytes(&path) as f64 / signed as f64,
                start.elapsed().as_secs_f64()
            );
            println!(
                "FIGURE resident MiB at {} records {:.1}",
                records.made,
                memory("VmRSS")
            );
            println!(
                "FIGURE heap allocated MiB at {} records {allocated:.1}",
                records.made
            );
            println!(
                "FIGURE highest resident MiB up to {} records {top_resident:.1}",
                records.made
            );
            (mark, mark_at) = (records.made, Instant::now());
        }
    }
    let held = store.records().len() as u64;
    assert_eq!(held, total, "the store holds every record pushed");
    println!(
        "FIGURE insert + flush records/s {:.1}",
        total as f64 / insert_time
    );
    println!("FIGURE peak resident MiB {:.1}", memory("VmHWM"));
    println!(
        "FIGURE disk ÷ signed bytes {:.3}",
        disk_bytes(&path) as f64 / signed as f64
    );

    // reads: a record by id, a seq range as a catch-up answer reads it, an exact subject query
    let t = Instant::now();
    let mut n = 0u64;
    for round in 0..3 {
        for (i, id) in sample.iter().enumerate() {
            if (i + round) % 3 == 0 {
                assert!(store.records().get(id).unwrap().is_some());
                n += 1;
            }
        }
    }
    let get_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let stream = StreamId::agency(&common::agency("PK-FIA"));
    let per_stream = total / 3;
    let ranges = 200u64;
    let t = Instant::now();
    let mut read = 0usize;
    for k in 0..ranges {
        let from = 1 + (k * 7_919) % per_stream.saturating_sub(256).max(1);
        let (envs, _) = store
            .sync()
            .range(
                &agreement,
                &stream,
                Seq::new(from).unwrap(),
                Seq::new(from + 255).unwrap(),
                256,
                usize::MAX,
            )
            .unwrap();
        read += envs.len();
    }
    let range_us = t.elapsed().as_secs_f64() * 1e6 / read.max(1) as f64;
    let queries = 500u64;
    let t = Instant::now();
    let mut hits = 0usize;
    for k in 0..queries {
        // a number some record holds (record i has number i mod 100,000)
        let phone = format!("phone:+90555{:07}", (k * 193) % total.min(100_000));
        let q = Query {
            subject: Some(SubjectQuery::parse(&phone).unwrap()),
            ..Query::default()
        };
        hits += store.queries().query(&q).unwrap().len();
    }
    let query_us = t.elapsed().as_secs_f64() * 1e6 / queries as f64;
    println!(
        "  reads: a record by id {get_us:.1} µs; a seq range {range_us:.2} µs per record \
         ({read} records in {ranges} ranges of 256); an exact phone query {query_us:.0} µs \
         ({:.1} hits each)",
        hits as f64 / queries as f64
    );
    println!("FIGURE record by id µs {get_us:.2}");
    println!("FIGURE seq range µs per record {range_us:.3}");
    println!("FIGURE exact phone query µs {query_us:.1}");
    let by_kind = store.logical_bytes().unwrap();
    let logical: u64 = by_kind.iter().map(|(_, _, b)| b).sum();
    println!(
        "  data (keys + values) {:.0} bytes per record; on disk {:.2}× the data",
        logical as f64 / total as f64,
        disk_bytes(&path) as f64 / logical as f64
    );
}
