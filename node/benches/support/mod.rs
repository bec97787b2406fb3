//! What the benchmarks share: signed and verified records as a peer would push them.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use accord_node::search::eval::read_pairs;
use accord_node::store::{Source, Store};
use accord_protocol::batch::verify_batch;
use accord_protocol::{
    AgencyId, PartialDate, PublicKey, Record, SecretKey, Seq, SignedRecord, Subject, Timestamp,
    Verified, sign,
};

use crate::common;

/// Every benchmark runs on the allocator the `accord` binary runs its node with
/// (node/src/main.rs), so that its memory and speed are the node's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The originators of the generated records; the store belongs to the last, which receives
/// from the others.
pub(crate) const ORIGINATORS: [&str; 3] = ["PK-FIA", "IR-FARAJA", "GR-HCG"];
pub(crate) const LOCAL: &str = "TR-JGK";

/// Signed and verified records, numbered from 1 per originator, as a peer would push them;
/// `vary` makes record `i` its own.
pub(crate) struct Records {
    keys: Vec<SecretKey>,
    dir: BTreeMap<AgencyId, PublicKey>,
    base: Record,
    vary: fn(&mut Record, u64),
    pub made: u64,
}

impl Records {
    /// A mid-sized record (a facilitator, a phone and a two-leg route: about 600 bytes), each
    /// varied by `vary`.
    pub(crate) fn new(vary: fn(&mut Record, u64)) -> Self {
        let keys: Vec<SecretKey> = (0u8..3).map(|i| common::key(i + 1)).collect();
        let dir = ORIGINATORS
            .iter()
            .zip(&keys)
            .map(|(a, k)| (common::agency(a), k.public_key()))
            .collect();
        let mut base = common::full_record();
        base.subjects
            .retain(|s| matches!(s, Subject::Person(_) | Subject::Phone(_)));
        base.route.truncate(2);
        base.handling = accord_protocol::HandlingCode::H2;
        base.handling_restriction = None;
        base.expires = None;
        Self {
            keys,
            dir,
            base,
            vary,
            made: 0,
        }
    }

    /// Record `i`, and the key that signs it.
    pub(crate) fn record(&self, i: u64) -> (Record, &SecretKey) {
        let who = (i % 3) as usize;
        let mut r = self.base.clone();
        r.originator = common::agency(ORIGINATORS[who]);
        r.seq = Seq::new(i / 3 + 1).unwrap();
        (self.vary)(&mut r, i);
        (r, &self.keys[who])
    }

    /// The next `n` records.
    pub(crate) fn take(&mut self, n: usize) -> Vec<Verified<SignedRecord>> {
        let envelopes = (self.made..self.made + n as u64)
            .map(|i| {
                let (r, k) = self.record(i);
                sign(&r, k).unwrap()
            })
            .collect();
        self.made += n as u64;
        verify_batch(envelopes, &self.dir)
            .into_iter()
            .map(Result::unwrap)
            .collect()
    }
}

/// Fills `store` with `total` records from `records` as PK-FIA pushed them, in batches of
/// 1,024, flushing every `every` and printing the rate.
pub(crate) fn fill(
    store: &Store,
    records: &mut Records,
    total: u64,
    now: Timestamp,
    every: Duration,
) {
    let source = Source::Peer(common::agency("PK-FIA"));
    eprintln!(
        "building a store of {total} records in {} …",
        store.path().display()
    );
    let start = Instant::now();
    let mut last = Instant::now();
    while records.made < total {
        let n = (total - records.made).min(1024) as usize;
        let batch = records.take(n);
        store.records().insert_batch(&batch, &source, now).unwrap();
        if last.elapsed() > every || records.made == total {
            store.flush().unwrap();
            last = Instant::now();
            eprintln!(
                "  {} records, {:.0} s, {:.0} records/s",
                records.made,
                start.elapsed().as_secs_f64(),
                records.made as f64 / start.elapsed().as_secs_f64()
            );
        }
    }
}

/// A file of tests/data.
pub(crate) fn data(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../tests/data/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Given and family names by group, from the names of the labelled sets.
pub(crate) struct Pools {
    groups: Vec<(Vec<String>, Vec<String>)>,
}

impl Pools {
    pub(crate) fn new() -> Self {
        let mut by: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for file in ["names/pairs.tsv", "names-holdout/pairs.tsv"] {
            for p in read_pairs(&data(file)).unwrap() {
                for name in [&p.a, &p.b] {
                    let parts: Vec<&str> = name
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .filter(|s| !s.is_empty())
                        .collect();
                    if parts.len() < 2 {
                        continue;
                    }
                    let e = by.entry(p.group.clone()).or_default();
                    let (g, f) = (parts[0].to_owned(), parts[parts.len() - 1].to_owned());
                    if !e.0.contains(&g) {
                        e.0.push(g);
                    }
                    if !e.1.contains(&f) {
                        e.1.push(f);
                    }
                }
            }
        }
        Self {
            groups: by.into_values().collect(),
        }
    }

    /// The name of person `i`: a given and a family name of one group.
    pub(crate) fn name(&self, i: u64) -> String {
        let g = &self.groups[(i % self.groups.len() as u64) as usize];
        let k = i / self.groups.len() as u64;
        let given = &g.0[(k % g.0.len() as u64) as usize];
        let family = &g.1[((k / g.0.len() as u64) % g.1.len() as u64) as usize];
        format!("{given} {family}")
    }
}

pub(crate) static POOLS: std::sync::OnceLock<Pools> = std::sync::OnceLock::new();

/// Record `i` made its own: a person of the pools with a year of birth, a phone number.
pub(crate) fn vary(r: &mut Record, i: u64) {
    let pools = POOLS.get_or_init(Pools::new);
    for s in &mut r.subjects {
        match s {
            Subject::Phone(p) => p.number = format!("+90555{:07}", i % 100_000),
            Subject::Person(p) => {
                p.name = Some(pools.name(i));
                p.aliases.clear();
                p.date_of_birth = Some(PartialDate::Year(1950 + (i % 50) as u16));
            }
            _ => {}
        }
    }
}

/// A line of /proc/self/status (`VmRSS`, `VmHWM`), in MiB.
pub(crate) fn memory(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// The allocator's view of the heap, in MiB: what is allocated, and what of the process's
/// memory it holds (allocated, its own metadata, and freed pages not yet returned). Zero where
/// jemalloc is not the allocator.
pub(crate) fn heap() -> (f64, f64) {
    #[cfg(not(target_env = "msvc"))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        // the statistics are a snapshot, refreshed by advancing the epoch
        if epoch::advance().is_ok() {
            let mib = |b: Result<usize, _>| b.map_or(0.0, |b| b as f64 / (1024.0 * 1024.0));
            return (mib(stats::allocated::read()), mib(stats::resident::read()));
        }
    }
    (0.0, 0.0)
}

/// Resident memory and the allocated heap sampled every 100 ms by a thread of their own: the
/// highest of each since the last [`Peaks::take`], which a value read at one moment misses
/// (the engine's memtables and compactions come and go).
pub(crate) struct Peaks {
    top: std::sync::Arc<std::sync::Mutex<(f64, f64)>>,
}

impl Peaks {
    pub(crate) fn start() -> Self {
        let top = std::sync::Arc::new(std::sync::Mutex::new((0.0f64, 0.0f64)));
        let weak = std::sync::Arc::downgrade(&top);
        std::thread::spawn(move || {
            // ends when the Peaks is dropped
            while let Some(top) = weak.upgrade() {
                let (resident, allocated) = (memory("VmRSS"), heap().0);
                if let Ok(mut t) = top.lock() {
                    t.0 = t.0.max(resident);
                    t.1 = t.1.max(allocated);
                }
                drop(top);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self { top }
    }

    /// The highest (resident, allocated) in MiB since the last call.
    pub(crate) fn take(&self) -> (f64, f64) {
        self.top
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }
}
