//! What the benchmarks share: signed and verified records as a peer would push them.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use accord_node::store::{Source, Store};
use accord_protocol::batch::verify_batch;
use accord_protocol::{
    AgencyId, PublicKey, Record, SecretKey, Seq, SignedRecord, Subject, Timestamp, Verified, sign,
};

use crate::common;

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
