//! The mesh itself: nodes of examples/quad in this process, publishing, delivery tracking, the
//! outage and catch-up of one member.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use accord_config::NodeConfig;
use accord_protocol::{AgreementId, RecordId};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use accord_node::net::{NodeEvent, NodeHandle};
use accord_testkit::TestNode as Node;

/// Who publishes under which agreement, and which running nodes must then store the record.
#[derive(Clone, Debug)]
pub(crate) struct Lane {
    /// The publisher (index into the mesh).
    pub node: usize,
    /// The agreement.
    pub agreement: AgreementId,
    /// The other running members (bit i = mesh index i; a mesh has at most 64 nodes).
    pub want: u64,
}

/// Every (running node, agreement it is a member of) with at least one other running member
/// (or with none, if `alone`); `only` restricts to one agreement, `down` is a node not running.
pub(crate) fn lanes(
    nodes: &[Option<Node>],
    only: Option<&AgreementId>,
    down: Option<usize>,
    alone: bool,
) -> Vec<Lane> {
    let cfgs: Vec<Option<NodeConfig>> = nodes
        .iter()
        .map(|n| n.as_ref().map(|n| n.cfg.clone()))
        .collect();
    lanes_of(&cfgs, only, down, alone)
}

/// [`lanes`] from the running nodes' configurations.
pub(crate) fn lanes_of(
    nodes: &[Option<NodeConfig>],
    only: Option<&AgreementId>,
    down: Option<usize>,
    alone: bool,
) -> Vec<Lane> {
    let up = |i: usize| down != Some(i) && nodes.get(i).is_some_and(Option::is_some);
    let member = |i: usize, a: &AgreementId| {
        nodes[i]
            .as_ref()
            .is_some_and(|n| n.agreements.get(a).is_some_and(|x| x.is_member(&n.agency)))
    };
    let mut out = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let Some(n) = n.as_ref().filter(|_| up(i)) else {
            continue;
        };
        for a in n.agreements.keys() {
            if only.is_some_and(|o| o != a) || !member(i, a) {
                continue;
            }
            let want = (0..nodes.len())
                .filter(|&j| j != i && up(j) && member(j, a))
                .fold(0u64, |m, j| m | (1 << j));
            if want != 0 || alone {
                out.push(Lane {
                    node: i,
                    agreement: a.clone(),
                    want,
                });
            }
        }
    }
    out
}

#[derive(Default)]
struct Entry {
    t0: Option<Instant>,
    want: u64,
    got: u64,
    last: Option<Instant>,
}

/// Delivery bookkeeping of one phase, fed by the publishers and the nodes' `Stored` events.
#[derive(Default)]
pub(crate) struct Tracker {
    pending: HashMap<RecordId, Entry>,
    latencies: Vec<Duration>,
    delivered: usize,
    polled: usize,
    verifications: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    lagged: u64,
    /// Publish calls returned, and their time in all.
    calls: u32,
    call_time: Duration,
}

/// A tracker shared by the publishers and the event listeners.
pub(crate) type Shared = Arc<Mutex<Tracker>>;

pub(super) fn lock(t: &Shared) -> std::sync::MutexGuard<'_, Tracker> {
    t.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tracker {
    /// Records delivered so far.
    pub(super) fn delivered(&self) -> usize {
        self.delivered
    }

    /// A node lost `n` events: the deliveries it then found in its store count as polled.
    pub(super) fn lost_events(&mut self, n: u64) {
        self.lagged += n;
    }

    /// A publish call returned after `took`.
    pub(super) fn called(&mut self, took: Duration) {
        self.calls += 1;
        self.call_time += took;
    }

    pub(super) fn published(&mut self, id: RecordId, t0: Instant, want: u64) {
        self.first = Some(self.first.map_or(t0, |f| f.min(t0)));
        let e = self.pending.entry(id).or_default();
        e.t0 = Some(t0);
        e.want = want;
        self.settle(id);
    }

    pub(super) fn stored(&mut self, node: usize, id: RecordId, at: Instant) {
        let e = self.pending.entry(id).or_default();
        e.got |= 1 << node;
        e.last = Some(at);
        self.settle(id);
    }

    fn settle(&mut self, id: RecordId) {
        let done = self
            .pending
            .get(&id)
            .is_some_and(|e| e.t0.is_some() && e.got & e.want == e.want);
        if !done {
            return;
        }
        if let Some(e) = self.pending.remove(&id)
            && let Some(t0) = e.t0
        {
            // a record with no other running member is delivered when it is published
            let last = e.last.unwrap_or(t0).max(t0);
            self.finish(t0, last, e.want);
            self.latencies.push(last.saturating_duration_since(t0));
        }
    }

    fn finish(&mut self, t0: Instant, last: Instant, want: u64) {
        self.delivered += 1;
        self.verifications += u64::from(want.count_ones());
        let last = last.max(t0);
        self.last = Some(self.last.map_or(last, |l| l.max(last)));
    }
}

/// Forwards node `idx`'s `Stored` events to the tracker until aborted.
pub(crate) fn listen(
    idx: usize,
    handle: &NodeHandle,
    tracker: Shared,
) -> tokio::task::JoinHandle<()> {
    let mut rx = handle.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(NodeEvent::Stored { id, .. }) => lock(&tracker).stored(idx, id, Instant::now()),
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => lock(&tracker).lagged += n,
                Err(RecvError::Closed) => break,
            }
        }
    })
}

/// A draft of about 300 bytes of summary (a typical record is a few hundred bytes).
pub(crate) fn draft(agreement: &AgreementId, tag: &str, i: usize) -> String {
    let route = if agreement.as_str() == "TR-BG-2026" {
        serde_json::json!([{"country": "TR", "role": "transit"}, {"country": "BG", "role": "destination"}])
    } else {
        serde_json::json!([{"country": "PK", "role": "source"}, {"country": "IR", "role": "transit"},
            {"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}])
    };
    serde_json::json!({
        "agreement": agreement.as_str(),
        "category": "route",
        "handling": "H1",
        "grading": "B2",
        "route": route,
        "summary": format!("bench {tag} {i}: groups of 20-30 leave weekly by road towards the border, \
            switch vehicles twice before the crossing and are met by a driver who takes them to a \
            safe house near the coast; payment is collected through an agent before departure and \
            the boats leave at night when patrols change."),
    })
    .to_string()
}

/// What publishing achieved.
pub(crate) struct Published {
    /// The ids, in no particular order.
    pub ids: Vec<RecordId>,
    /// Wall time from the first publish call to the last one returning.
    pub elapsed: Duration,
    /// Publish calls kept in flight at once, over every lane.
    pub in_flight: usize,
}

/// Publishes `count` records over `lanes` in turn: at `rate` records/s if given (at most
/// `in_flight` × lanes outstanding), else as fast as `in_flight` concurrent publishes per lane
/// allow.
pub(crate) async fn publish(
    nodes: &[Option<Node>],
    lanes: &[Lane],
    count: usize,
    rate: Option<f64>,
    in_flight: usize,
    tag: &str,
    tracker: &Shared,
) -> Result<Published> {
    if lanes.is_empty() {
        bail!("no agreement has two running members: nothing to publish");
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(
        in_flight.max(1) * lanes.len() * if rate.is_some() { 8 } else { 1 },
    ));
    let mut tasks = tokio::task::JoinSet::new();
    let mut ids = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        super::pace(started, i, rate).await;
        let permit = permits.clone().acquire_owned().await?;
        let lane = &lanes[i % lanes.len()];
        let handle = nodes[lane.node]
            .as_ref()
            .context("a publishing node is not running")?
            .handle
            .clone();
        let d = accord_node::draft::parse_draft(draft(&lane.agreement, tag, i).as_bytes())?;
        let (want, tracker) = (lane.want, tracker.clone());
        tasks.spawn(async move {
            let t0 = Instant::now();
            let id = handle.publish(d, accord_node::clock::now()).await;
            drop(permit);
            let id = id?;
            let mut t = lock(&tracker);
            t.called(t0.elapsed());
            t.published(id, t0, want);
            Ok::<_, anyhow::Error>(id)
        });
        while let Some(done) = tasks.try_join_next() {
            ids.push(done??);
        }
    }
    while let Some(done) = tasks.join_next().await {
        ids.push(done??);
    }
    Ok(Published {
        ids,
        elapsed: started.elapsed(),
        in_flight: in_flight.max(1) * lanes.len(),
    })
}

/// Waits until `expected` records are delivered. If the event broadcast lagged (events were
/// lost), undelivered records are also checked in the stores every 500 ms; those count with
/// the time they were found, and are reported as polled.
pub(crate) async fn wait_delivered(
    nodes: &[Option<Node>],
    tracker: &Shared,
    expected: usize,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut next_poll = Instant::now();
    loop {
        let (delivered, lagged) = {
            let t = lock(tracker);
            (t.delivered, t.lagged)
        };
        if delivered >= expected {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("only {delivered} of {expected} records were delivered within {timeout:?}");
        }
        if lagged > 0 && Instant::now() >= next_poll {
            poll_stores(nodes, tracker)?;
            next_poll = Instant::now() + Duration::from_millis(500);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn poll_stores(nodes: &[Option<Node>], tracker: &Shared) -> Result<()> {
    let mut t = lock(tracker);
    let now = Instant::now();
    let mut found = Vec::new();
    for (id, e) in &t.pending {
        let Some(t0) = e.t0 else { continue };
        let mut all = true;
        for (j, n) in nodes.iter().enumerate() {
            if e.want & (1 << j) != 0 && e.got & (1 << j) == 0 {
                let holds = match n {
                    Some(n) => n.handle.store().records().contains(id)?,
                    None => false,
                };
                if !holds {
                    all = false;
                    break;
                }
            }
        }
        if all {
            found.push((*id, t0, e.want));
        }
    }
    for (id, t0, want) in found {
        t.pending.remove(&id);
        t.finish(t0, now, want);
        t.polled += 1;
    }
    Ok(())
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// Records the latency was measured for (those found by events).
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// One publishing phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PhaseFigures {
    /// Records published.
    pub published: usize,
    /// Records stored at every running member of their agreement.
    pub delivered: usize,
    /// Of those, found by polling the stores after events were lost.
    pub polled: usize,
    /// Events lost by the listeners (broadcast lag).
    pub lagged_events: u64,
    /// Verifications the deliveries needed: Σ (running members − 1).
    pub verifications: u64,
    /// The offered rate, if one was set.
    pub offered_per_s: Option<f64>,
    /// Records published per second (publish calls).
    pub published_per_s: f64,
    /// First publish to last delivery.
    pub elapsed_s: f64,
    /// `delivered` ÷ `elapsed_s`.
    pub delivered_per_s: f64,
    /// Verifications per delivered record.
    pub verifications_per_record: f64,
    /// Publish to stored-at-every-member.
    pub latency: Latency,
    /// The mean time a publish call took (ms).
    pub publish_call_ms: f64,
    /// Publish calls in flight at once, over every lane.
    pub publish_in_flight: usize,
    /// The most records/s those calls allow: in flight ÷ mean call time. Run as fast as
    /// possible, the benchmark offers no more than this, so no figure of the run can show more.
    pub publish_cap_per_s: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// The figures of a finished phase.
pub(crate) fn figures(
    tracker: &Shared,
    published: &Published,
    offered: Option<f64>,
) -> PhaseFigures {
    let t = lock(tracker);
    let mut lat = t.latencies.clone();
    lat.sort_unstable();
    let elapsed = match (t.first, t.last) {
        (Some(f), Some(l)) => l.saturating_duration_since(f).as_secs_f64(),
        _ => 0.0,
    };
    let call_ms = if t.calls > 0 {
        t.call_time.as_secs_f64() * 1000.0 / f64::from(t.calls)
    } else {
        0.0
    };
    PhaseFigures {
        publish_call_ms: call_ms,
        publish_in_flight: published.in_flight,
        publish_cap_per_s: if call_ms > 0.0 {
            published.in_flight as f64 * 1000.0 / call_ms
        } else {
            0.0
        },
        published: published.ids.len(),
        delivered: t.delivered,
        polled: t.polled,
        lagged_events: t.lagged,
        verifications: t.verifications,
        offered_per_s: offered,
        published_per_s: published.ids.len() as f64 / published.elapsed.as_secs_f64().max(1e-9),
        elapsed_s: elapsed,
        delivered_per_s: if elapsed > 0.0 {
            t.delivered as f64 / elapsed
        } else {
            0.0
        },
        verifications_per_record: if t.delivered > 0 {
            t.verifications as f64 / t.delivered as f64
        } else {
            0.0
        },
        latency: Latency {
            samples: lat.len(),
            p50_ms: percentile(&lat, 0.50),
            p99_ms: percentile(&lat, 0.99),
            max_ms: lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        },
    }
}

/// Waits until `node` holds every record of `ids`: counts its `Stored` events for them, and
/// checks the store every 500 ms (and whenever events were lost). Returns the time taken from
/// `since`.
pub(crate) async fn wait_held(
    handle: &NodeHandle,
    mut rx: tokio::sync::broadcast::Receiver<NodeEvent>,
    ids: &[RecordId],
    since: Instant,
    timeout: Duration,
) -> Result<Duration> {
    let mut missing: HashSet<RecordId> = ids.iter().copied().collect();
    let store = handle.store().clone();
    missing.retain(|id| !store.records().contains(id).unwrap_or(false));
    let deadline = since + timeout;
    let mut next_check = Instant::now() + Duration::from_millis(500);
    while !missing.is_empty() {
        if Instant::now() >= deadline {
            bail!(
                "the rejoining node still missed {} of {} records after {timeout:?}",
                missing.len(),
                ids.len()
            );
        }
        let mut check = Instant::now() >= next_check;
        match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            Ok(Ok(NodeEvent::Stored { id, .. })) => {
                missing.remove(&id);
            }
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(RecvError::Lagged(_))) => check = true,
            Ok(Err(RecvError::Closed)) => bail!("the rejoining node stopped"),
        }
        if check {
            let mut still = HashSet::new();
            for id in missing {
                if !store.records().contains(&id)? {
                    still.insert(id);
                }
            }
            missing = still;
            next_check = Instant::now() + Duration::from_millis(500);
        }
    }
    Ok(since.elapsed())
}

/// Store size of a node: (records held, bytes on disk).
pub(crate) fn store_size(handle: &NodeHandle, data_dir: &Path) -> (usize, u64) {
    (
        handle.store().records().len(),
        super::sys::dir_bytes(data_dir),
    )
}
