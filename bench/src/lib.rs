//! `accord-bench mesh`: the examples/quad federation on loopback, in this process (one task set
//! per node: its actor, its store, its publishers) or, with `--processes`, one child process
//! per node (module `procs`), measured against the machine's own limit.
//!
//! In one run it
//! 1. starts the nodes, connects them and delivers one warm-up record per (publisher,
//!    agreement);
//! 2. publishes R records round-robin over every (node, agreement it is a member of), at an
//!    offered rate or as fast as the publishers go, and times each from the publish call to
//!    the moment it is stored at every running member of its agreement (`Stored` events);
//! 3. times `verify_strict` alone and the full `verify` on one core over records of the run;
//! 4. times bare libp2p request-response (TCP + Noise + Yamux, accord's frame codec, a
//!    responder that does nothing) with frames the size of a 64-record push and its ack;
//! 5. stops one member, publishes K records under the quadrilateral agreement, restarts it and
//!    times until it holds all K;
//! 6. reads the peak resident memory of the process (all nodes together: they share it) and
//!    the size of each node's store directory.
//!
//! efficiency = delivered records/s × (members − 1 per record) ÷ (cores × raw verify_strict/s).

mod baseline;
mod federation;
pub mod matching;
mod mesh;
mod network;
mod procs;
mod render;
mod sys;

pub use procs::child;
pub use render::{render, render_engines, render_targets};

use std::time::{Duration, Instant};

use accord_protocol::{AgreementId, Envelope, SecretKey};
use anyhow::{Context, Result};
use serde::Serialize;

pub use baseline::{TransportFigures, VerifyFigures};
pub use mesh::{Latency, PhaseFigures};
pub use network::{FederationFigures, NodeNetwork};

use accord_node::net::NetConfig;
use accord_testkit::TestNode as Node;
use mesh::Shared;

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct MeshOptions {
    /// How many agencies run: up to 5, the examples/quad agencies (in the order PK-FIA,
    /// IR-FARAJA, TR-JGK, GR-HCG, BG-GDBP); more (or with `agreement_members`), a generated
    /// federation (module `federation`).
    pub nodes: usize,
    /// The members of the generated federation's regional agreement (default: 45, or every
    /// agency if fewer); `None` with at most 5 nodes: the example federation.
    pub agreement_members: Option<usize>,
    /// Records published in the timed phase.
    pub records: usize,
    /// Offered rate (records/s); `None`: as fast as possible.
    pub rate: Option<f64>,
    /// Records published while one member is down, for the catch-up.
    pub catch_up: usize,
    /// Publish calls in flight per (node, agreement).
    pub in_flight: usize,
    /// Seconds between the nodes' full sync statuses.
    pub sync_interval_s: f64,
    /// Signed records timed for the verification rate.
    pub verify_samples: usize,
    /// At least this long timing each verification rate.
    pub verify_time_s: f64,
    /// Requests of the bare transport baseline (per window size).
    pub transport_requests: usize,
    /// Longest wait for any one phase.
    pub timeout_s: u64,
    /// Each node its own process (`accord-bench node`), instead of a task set in this one.
    pub processes: bool,
    /// The storage engine the nodes' stores are made on.
    #[serde(serialize_with = "engine_name")]
    pub engine: accord_config::StoreEngine,
    /// The `accord` binary the node processes run (default: this one).
    #[serde(skip)]
    pub node_exe: Option<std::path::PathBuf>,
}

impl MeshOptions {
    /// `--quick`: under a minute.
    pub fn quick() -> Self {
        Self {
            nodes: 5,
            agreement_members: None,
            records: 2_000,
            rate: None,
            catch_up: 2_000,
            in_flight: 2,
            sync_interval_s: 2.0,
            verify_samples: 2_000,
            verify_time_s: 0.5,
            transport_requests: 300,
            timeout_s: 120,
            processes: false,
            engine: accord_config::StoreEngine::Sled,
            node_exe: None,
        }
    }

    /// The full run.
    pub fn full() -> Self {
        Self {
            nodes: 5,
            agreement_members: None,
            records: 20_000,
            rate: None,
            catch_up: 100_000,
            in_flight: 2,
            sync_interval_s: 2.0,
            verify_samples: 4_000,
            verify_time_s: 2.0,
            transport_requests: 2_000,
            timeout_s: 1_800,
            processes: false,
            engine: accord_config::StoreEngine::Sled,
            node_exe: None,
        }
    }
}

fn engine_name<S: serde::Serializer>(
    e: &accord_config::StoreEngine,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.as_str())
}

/// The machine.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// Cores available to the process.
    pub cores: usize,
    /// CPU model.
    pub cpu: String,
}

/// The rejoining member.
#[derive(Clone, Debug, Serialize)]
pub struct CatchUpFigures {
    /// Its agency.
    pub agency: String,
    /// Records published while it was down (under QUAD-2026).
    pub records: usize,
    /// Delivery of those records to the members that were running.
    pub while_down: PhaseFigures,
    /// From the restart call until it held all of them.
    pub elapsed_s: f64,
    /// `records` ÷ `elapsed_s`.
    pub per_s: f64,
}

/// One node's store at the end.
#[derive(Clone, Debug, Serialize)]
pub struct StoreFigures {
    /// The agency.
    pub agency: String,
    /// Records held.
    pub records: usize,
    /// Records it should hold (every record of its agreements published in the run).
    pub expected: usize,
    /// Bytes of its data directory.
    pub bytes: u64,
    /// What the store holds by kind of entry, before sled's overhead on disk.
    pub logical: Vec<KindBytes>,
}

/// Entries of one kind in a store (`Store::logical_bytes`).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct KindBytes {
    /// records, seq index, indexes, outbox, audit log, receipts, checkpoints, other.
    pub kind: String,
    /// How many entries.
    pub entries: u64,
    /// Their key + value bytes.
    pub bytes: u64,
}

/// [`KindBytes`] of a store.
fn logical(store: &accord_node::store::Store) -> Result<Vec<KindBytes>> {
    Ok(store
        .logical_bytes()?
        .into_iter()
        .map(|(kind, entries, bytes)| KindBytes {
            kind: kind.to_owned(),
            entries,
            bytes,
        })
        .collect())
}

/// Memory. In one process the nodes share it: the figures are the whole mesh's. With
/// `--processes` they are the sums of the nodes' (the peak: the largest node's), and `nodes`
/// has each node's own.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryFigures {
    /// VmRSS after the timed phase, KiB.
    pub rss_after_publish_kib: u64,
    /// VmRSS at the end, KiB.
    pub rss_end_kib: u64,
    /// VmHWM (peak resident) at the end, KiB.
    pub peak_kib: u64,
    /// Per node, when each is its own process.
    pub nodes: Vec<NodeMemory>,
}

/// One node process's memory.
#[derive(Clone, Debug, Serialize)]
pub struct NodeMemory {
    /// The agency.
    pub agency: String,
    /// VmRSS after the timed phase, KiB.
    pub rss_after_publish_kib: u64,
    /// VmRSS at the end, KiB.
    pub rss_end_kib: u64,
    /// VmHWM (peak resident) at the end, KiB (the rejoining node: of both its processes).
    pub peak_kib: u64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct MeshReport {
    /// What ran.
    pub options: MeshOptions,
    /// Where.
    pub machine: Machine,
    /// The running agencies.
    pub agencies: Vec<String>,
    /// The timed phase.
    pub publish: PhaseFigures,
    /// One core's verification rates.
    pub verify: VerifyFigures,
    /// Bare request-response, one request in flight and several.
    pub transport: Vec<TransportFigures>,
    /// The rejoining member.
    pub catch_up: CatchUpFigures,
    /// Memory.
    pub memory: MemoryFigures,
    /// Stores.
    pub stores: Vec<StoreFigures>,
    /// Mean bytes of a signed record (its envelope) in the run.
    pub signed_bytes_per_record: f64,
    /// Σ store bytes ÷ Σ records held.
    pub store_bytes_per_record: f64,
    /// `store_bytes_per_record` ÷ `signed_bytes_per_record`.
    pub store_ratio: f64,
    /// delivered/s × verifications per record ÷ (cores × raw verify_strict/s).
    pub efficiency: f64,
    /// Catch-up records/s ÷ raw single-core verify_strict/s.
    pub catch_up_ratio: f64,
    /// Delivered records/s ÷ bare transport records/s (one request in flight).
    pub transport_ratio: f64,
    /// The federation's shape, convergence and traffic.
    pub federation: FederationFigures,
}

/// `accord-bench mesh`: runs on each engine of `engines` in turn (the same options
/// otherwise), prints each report and, with more than one, each figure side by side as a
/// ratio to the first engine's; writes the reports as JSON to `out` if given (one report, or
/// an array of them).
pub fn command(
    opts: MeshOptions,
    engines: &[accord_config::StoreEngine],
    out: Option<&std::path::Path>,
) -> Result<()> {
    let mut reports = Vec::new();
    for engine in engines {
        let report = run(MeshOptions {
            engine: *engine,
            ..opts.clone()
        })?;
        print!("{}", render(&report));
        reports.push(report);
    }
    if reports.len() > 1 {
        print!("{}", render_engines(&reports));
    }
    if let Some(out) = out {
        let json = match reports.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            many => serde_json::to_string_pretty(many)?,
        };
        std::fs::write(out, json + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

/// Runs the benchmark on a runtime of its own.
pub fn run(opts: MeshOptions) -> Result<MeshReport> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if opts.processes {
        rt.block_on(procs::run(opts))
    } else {
        rt.block_on(run_async(opts))
    }
}

/// The nodes' network settings: quick redials, and a full sync status every `sync_s` seconds
/// (the bench's default 2 s, against the node's 30 s, so a restarted member is seen at once).
fn net(sync_s: f64) -> NetConfig {
    NetConfig {
        sync_interval: Duration::from_secs_f64(sync_s.max(0.1)),
        redial_min: Duration::from_millis(100),
        redial_max: Duration::from_secs(2),
        ..NetConfig::default()
    }
}

/// Adds the records `lanes` get out of `count` published round-robin to each node's expected
/// holdings (the publisher and every other running member), plus `extra` for a node that
/// must catch them up.
fn expect(expected: &mut [usize], lanes: &[mesh::Lane], count: usize, extra: Option<usize>) {
    for (i, l) in lanes.iter().enumerate() {
        let n = count / lanes.len() + usize::from(i < count % lanes.len());
        expected[l.node] += n;
        for (j, e) in expected.iter_mut().enumerate() {
            if l.want & (1 << j) != 0 {
                *e += n;
            }
        }
        if let Some(x) = extra {
            expected[x] += n;
        }
    }
}

/// What both meshes start from: the running agencies (the first `opts.nodes` of the demo's, or
/// a generated federation's), the longest wait for a phase, a temporary directory holding the
/// federation, and the catch-up's agreement and the member that misses it.
struct Setup {
    count: usize,
    agencies: Vec<String>,
    timeout: Duration,
    dir: tempfile::TempDir,
    catch_up: AgreementId,
    victim: usize,
}

impl Setup {
    fn new(opts: &MeshOptions, how: &str) -> Result<Self> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let demo = accord_node::demo::AGENCIES.len();
        let (agencies, catch_up, victim, shape) =
            if opts.nodes <= demo && opts.agreement_members.is_none() {
                let count = opts.nodes.max(2);
                accord_node::demo::write_federation(dir.path())?;
                accord_node::demo::set_store_engine(dir.path(), opts.engine)?;
                let agencies: Vec<String> = accord_node::demo::AGENCIES[..count]
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect();
                // the last quadrilateral member running misses the records
                let victim = count.min(4) - 1;
                (
                    agencies,
                    AgreementId::new("QUAD-2026")?,
                    victim,
                    String::new(),
                )
            } else {
                let members = opts
                    .agreement_members
                    .unwrap_or(federation::DEFAULT_MEMBERS.min(opts.nodes));
                let g = federation::write(dir.path(), opts.nodes, members, opts.engine)?;
                let shape = format!(
                    "; generated: {} of {} members and a ring of bilaterals",
                    g.regional, members
                );
                (g.dirs, g.regional, members - 1, shape)
            };
        let count = agencies.len();
        eprintln!(
            "bench mesh: {count} nodes ({}){how}, stores on {}, in {}{shape}",
            if count > 8 {
                format!("{}, …, {}", agencies[0], agencies[count - 1])
            } else {
                agencies.join(", ")
            },
            opts.engine,
            dir.path().display()
        );
        Ok(Self {
            count,
            agencies,
            timeout: Duration::from_secs(opts.timeout_s),
            dir,
            catch_up,
            victim,
        })
    }
}

/// Waits until the `i`th of records offered at `rate` per second from `started` is due.
async fn pace(started: Instant, i: usize, rate: Option<f64>) {
    if let Some(r) = rate.filter(|r| *r > 0.0) {
        let at = started + Duration::from_secs_f64(i as f64 / r);
        tokio::time::sleep_until(at.into()).await;
    }
}

async fn run_async(opts: MeshOptions) -> Result<MeshReport> {
    let Setup {
        count,
        agencies,
        timeout,
        dir,
        catch_up: catch_up_agreement,
        victim,
    } = Setup::new(&opts, "")?;
    let mut nodes: Vec<Option<Node>> = Vec::new();
    for a in &agencies {
        nodes.push(Some(
            Node::try_start_with(
                accord_node::demo::load(dir.path(), a)?,
                net(opts.sync_interval_s),
            )
            .await?,
        ));
    }
    introduce(&nodes).await?;
    let introduced = Instant::now();
    let mut expected = vec![0usize; count];

    // warm-up: one record per lane, so connections and agreement checks are done
    let lanes = mesh::lanes(&nodes, None, None, false);
    let tracker: Shared = Shared::default();
    let listeners = listen_all(&nodes, &tracker);
    let warm = mesh::publish(&nodes, &lanes, lanes.len(), None, 1, "warm-up", &tracker).await?;
    mesh::wait_delivered(&nodes, &tracker, warm.ids.len(), timeout).await?;
    let convergence_s = introduced.elapsed().as_secs_f64();
    expect(&mut expected, &lanes, lanes.len(), None);
    listeners.iter().for_each(|l| l.abort());
    eprintln!(
        "bench mesh: converged in {convergence_s:.1} s; publishing {} records",
        opts.records
    );

    // the timed phase
    let before = snapshots(&nodes).await?;
    let window = Instant::now();
    let tracker: Shared = Shared::default();
    let listeners = listen_all(&nodes, &tracker);
    let published = mesh::publish(
        &nodes,
        &lanes,
        opts.records,
        opts.rate,
        opts.in_flight,
        "main",
        &tracker,
    )
    .await?;
    mesh::wait_delivered(&nodes, &tracker, published.ids.len(), timeout).await?;
    let window_s = window.elapsed().as_secs_f64();
    let after = snapshots(&nodes).await?;
    listeners.iter().for_each(|l| l.abort());
    expect(&mut expected, &lanes, opts.records, None);
    let publish = mesh::figures(&tracker, &published, opts.rate);
    let federation = network::figures(
        &nodes.iter().flatten().map(|n| &n.cfg).collect::<Vec<_>>(),
        &before,
        &after,
        window_s,
        convergence_s,
        opts.sync_interval_s,
    );
    let rss_after_publish_kib = sys::status_kib("VmRSS");

    // samples of signed records from the first node's store
    let first = nodes[0].as_ref().context("the first node is not running")?;
    let key = SecretKey::from_key_file(&std::fs::read_to_string(&first.cfg.key_file)?)?;
    let keys = accord_node::publish::directory(&first.cfg, &key);
    let samples: Vec<Envelope> = first
        .handle
        .store()
        .queries()
        .all_records()?
        .into_iter()
        .take(opts.verify_samples.max(64))
        .map(|r| r.envelope)
        .collect();
    let (signed_bytes_per_record, verify, transport) = baselines(&samples, keys, &opts).await?;

    // catch-up: one member of the agreement misses K records
    let down = nodes[victim]
        .take()
        .context("the catch-up node is not running")?;
    let victim_cfg = down.cfg.clone();
    eprintln!(
        "bench mesh: {} stopped; publishing {} records",
        victim_cfg.agency, opts.catch_up
    );
    down.try_stop().await?;
    let lanes_down = mesh::lanes(&nodes, Some(&catch_up_agreement), None, true);
    let tracker: Shared = Shared::default();
    let listeners = listen_all(&nodes, &tracker);
    let missed = mesh::publish(
        &nodes,
        &lanes_down,
        opts.catch_up,
        None,
        opts.in_flight,
        "missed",
        &tracker,
    )
    .await?;
    mesh::wait_delivered(&nodes, &tracker, missed.ids.len(), timeout).await?;
    listeners.iter().for_each(|l| l.abort());
    expect(&mut expected, &lanes_down, opts.catch_up, Some(victim));
    let while_down = mesh::figures(&tracker, &missed, None);
    eprintln!("bench mesh: restarting {}; catching up", victim_cfg.agency);
    let since = Instant::now();
    let back = Node::try_start_with(victim_cfg.clone(), net(opts.sync_interval_s)).await?;
    let rx = back.handle.subscribe();
    let back_handle = back.handle.clone();
    nodes[victim] = Some(back);
    introduce(&nodes).await?;
    let took = mesh::wait_held(&back_handle, rx, &missed.ids, since, timeout).await?;
    drop(back_handle);
    let catch_up = CatchUpFigures {
        agency: victim_cfg.agency.to_string(),
        records: missed.ids.len(),
        while_down,
        elapsed_s: took.as_secs_f64(),
        per_s: missed.ids.len() as f64 / took.as_secs_f64().max(1e-9),
    };

    // stores and memory, then stop
    let mut stores = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(n) = n {
            let (records, bytes) = mesh::store_size(&n.handle, &n.cfg.data_dir);
            stores.push(StoreFigures {
                agency: n.cfg.agency.to_string(),
                records,
                expected: expected[i],
                bytes,
                logical: logical(n.handle.store())?,
            });
        }
    }
    let memory = MemoryFigures {
        rss_after_publish_kib,
        rss_end_kib: sys::status_kib("VmRSS"),
        peak_kib: sys::status_kib("VmHWM"),
        nodes: Vec::new(),
    };
    for n in nodes.into_iter().flatten() {
        n.try_stop().await?;
    }
    Ok(report(
        opts,
        agencies,
        publish,
        verify,
        transport,
        catch_up,
        memory,
        stores,
        signed_bytes_per_record,
        federation,
    ))
}

/// Each running node's [`network::Snapshot`].
async fn snapshots(nodes: &[Option<Node>]) -> Result<Vec<network::Snapshot>> {
    let mut out = Vec::new();
    for n in nodes.iter().flatten() {
        out.push(network::snapshot(&n.handle).await?);
    }
    Ok(out)
}

/// The report from the figures of a run: the ratios computed.
#[allow(clippy::too_many_arguments)]
fn report(
    opts: MeshOptions,
    agencies: Vec<String>,
    publish: PhaseFigures,
    verify: VerifyFigures,
    transport: Vec<TransportFigures>,
    catch_up: CatchUpFigures,
    memory: MemoryFigures,
    stores: Vec<StoreFigures>,
    signed_bytes_per_record: f64,
    federation: FederationFigures,
) -> MeshReport {
    let machine = Machine {
        cores: sys::cores(),
        cpu: sys::cpu_model(),
    };
    let held: usize = stores.iter().map(|s| s.records).sum();
    let bytes: u64 = stores.iter().map(|s| s.bytes).sum();
    let store_bytes_per_record = bytes as f64 / held.max(1) as f64;
    let efficiency = publish.delivered_per_s * publish.verifications_per_record
        / (machine.cores as f64 * verify.raw_per_s);
    let transport_ratio = transport
        .first()
        .map_or(0.0, |t| publish.delivered_per_s / t.records_per_s);
    MeshReport {
        catch_up_ratio: catch_up.per_s / verify.raw_per_s,
        options: opts,
        machine,
        agencies: agencies.iter().map(|a| a.to_ascii_uppercase()).collect(),
        publish,
        verify,
        transport,
        catch_up,
        memory,
        stores,
        signed_bytes_per_record,
        store_bytes_per_record,
        store_ratio: store_bytes_per_record / signed_bytes_per_record,
        efficiency,
        transport_ratio,
        federation,
    }
}

/// The same-run baselines over sample records of the run: (mean signed bytes per record,
/// one core's verification rates, bare request-response with 1 and 8 requests in flight).
async fn baselines(
    samples: &[Envelope],
    keys: std::collections::BTreeMap<accord_protocol::AgencyId, accord_protocol::PublicKey>,
    opts: &MeshOptions,
) -> Result<(f64, VerifyFigures, Vec<TransportFigures>)> {
    let signed_bytes_per_record =
        samples.iter().map(Envelope::encoded_len).sum::<usize>() as f64 / samples.len() as f64;
    eprintln!("bench mesh: timing verify_strict on one core");
    let verify = {
        let (samples, min) = (
            samples.to_vec(),
            Duration::from_secs_f64(opts.verify_time_s),
        );
        tokio::task::spawn_blocking(move || baseline::verify_rate(&samples, &keys, min)).await??
    };
    eprintln!(
        "bench mesh: verify_strict {:.0}/s on one core; timing bare request-response",
        verify.raw_per_s
    );
    let batch = net(opts.sync_interval_s).push_batch.min(samples.len());
    let (request, response) = baseline::frames(&samples[..batch])?;
    let mut transport = Vec::new();
    for window in [1, 8] {
        transport.push(
            baseline::transport(
                request.clone(),
                response.clone(),
                batch,
                opts.transport_requests,
                window,
            )
            .await?,
        );
    }
    Ok((signed_bytes_per_record, verify, transport))
}

fn listen_all(nodes: &[Option<Node>], tracker: &Shared) -> Vec<tokio::task::JoinHandle<()>> {
    nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some(mesh::listen(i, &n.as_ref()?.handle, tracker.clone())))
        .collect()
}

async fn introduce(nodes: &[Option<Node>]) -> Result<()> {
    let handles: Vec<&accord_node::net::NodeHandle> =
        nodes.iter().flatten().map(|n| &n.handle).collect();
    accord_node::demo::introduce(&handles).await
}

/// The options for the command line's flags: `--quick` picks the small run, and every given
/// flag overrides.
pub fn options(
    quick: bool,
    records: Option<usize>,
    rate: Option<f64>,
    catch_up: Option<usize>,
    nodes: Option<usize>,
    processes: bool,
) -> MeshOptions {
    let mut o = if quick {
        MeshOptions::quick()
    } else {
        MeshOptions::full()
    };
    if let Some(r) = records {
        o.records = r;
    }
    o.rate = rate;
    if let Some(c) = catch_up {
        o.catch_up = c;
    }
    if let Some(n) = nodes {
        o.nodes = n;
    }
    o.processes = processes;
    o
}
