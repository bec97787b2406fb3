//! `accord-bench mesh --processes`: each node of the mesh is its own `accord-bench node` child
//! process, driven over its stdin and reporting over its stdout, so the nodes share nothing
//! but the machine — as agencies' nodes do. (In one process they would share more than the
//! cores: sled 0.34 serialises every batch write against every other operation on **any**
//! sled database of the process, with one process-wide lock.)
//!
//! The child's protocol, one line each way per message:
//!
//! | parent → child | child → parent |
//! | --- | --- |
//! | (at start) | `READY <multiaddr>…` once it listens |
//! | `ADDR <AGENCY> <multiaddr>` | — |
//! | `PUB <tag> <agreement> <count> <in_flight> <rate or ->` | `C <call ns>` and `P <agreement> <id> <t0>` per publish, then `PUBDONE` |
//! | `SAMPLES <n> <file>` | `SAMPLES <k>`: k envelopes written to file, hex, one a line |
//! | `COUNT` | `COUNT <records held>` |
//! | `LOGICAL` | `LOGICAL <json>`: the store's entries by kind (`Store::logical_bytes`) |
//! | `STATS` | `STATS <json>`: its connections and what it has sent (`network::Snapshot`) |
//! | `WAIT <file> <timeout s>` | `HELD` once it holds every id listed in file |
//! | `STOP` | `STOPPED`, then it exits |
//! | — | `S <id> <t>` whenever it stores a record from a peer |
//! | — | `L <n>` when n of its events were lost (then `S` for every record held not yet reported, at the time it was found) |
//!
//! Times are nanoseconds since the Unix epoch (one machine, one clock); `t0` is when the
//! publish call began. An error is `ERR <text>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord_config::NodeConfig;
use accord_protocol::{AgreementId, Envelope, RecordId, SecretKey};
use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

use super::mesh::{self, Lane, Shared};
use super::{
    CatchUpFigures, MemoryFigures, MeshOptions, MeshReport, NodeMemory, StoreFigures, expect, net,
    sys,
};
use accord_node::net::NodeEvent;

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

// ---- the child ---------------------------------------------------------------------------

/// `accord-bench node`: one node of a `--processes` mesh (module documentation).
pub fn child(federation: &Path, agency: &str, sync_s: f64) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(child_async(
        federation.to_path_buf(),
        agency.to_owned(),
        sync_s,
    ))
}

async fn child_async(federation: PathBuf, agency: String, sync_s: f64) -> Result<()> {
    let cfg = accord_node::demo::load(&federation, &agency)?;
    let node = accord_testkit::TestNode::try_start_with(cfg, net(sync_s)).await?;
    let handle = node.handle.clone();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    // one writer, flushing whenever it has nothing more to write
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::BufWriter::new(tokio::io::stdout());
        while let Some(line) = out_rx.recv().await {
            let _ = stdout.write_all(line.as_bytes()).await;
            let _ = stdout.write_all(b"\n").await;
            while let Ok(more) = out_rx.try_recv() {
                let _ = stdout.write_all(more.as_bytes()).await;
                let _ = stdout.write_all(b"\n").await;
            }
            let _ = stdout.flush().await;
        }
    });
    let mut events = handle.subscribe();
    let tx = out_tx.clone();
    // weak: a stopped node's store must be free (TestNode::try_stop checks)
    let store = std::sync::Arc::downgrade(handle.store());
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        // every record reported once; when events were lost (the broadcast lagged behind a
        // busy node), the store itself says what else it holds
        let mut reported: std::collections::HashSet<RecordId> = Default::default();
        loop {
            match events.recv().await {
                Ok(NodeEvent::Stored { id, .. }) => {
                    if reported.insert(id) {
                        let _ = tx.send(format!("S {id} {}", unix_ns()));
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    let _ = tx.send(format!("L {n}"));
                    let held = store
                        .upgrade()
                        .and_then(|s| s.queries().ids_with_prefix("").ok())
                        .unwrap_or_default();
                    let now = unix_ns();
                    for id in held {
                        if reported.insert(id) {
                            let _ = tx.send(format!("S {id} {now}"));
                        }
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
    let listen = tokio::time::timeout(Duration::from_secs(10), handle.listen_addrs())
        .await
        .context("the node never listened")??;
    let addrs: Vec<String> = listen.iter().map(ToString::to_string).collect();
    let _ = out_tx.send(format!("READY {}", addrs.join(" ")));

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words.as_slice() {
            ["ADDR", agency, addr] => {
                let agency = accord_protocol::AgencyId::new(agency)?;
                handle.add_address(agency, addr.parse()?).await?;
                continue;
            }
            ["PUB", tag, agreement, count, in_flight, rate] => {
                let (agreement, count, in_flight) = (
                    AgreementId::new(agreement)?,
                    count.parse::<usize>()?,
                    in_flight.parse::<usize>()?,
                );
                let rate = match *rate {
                    "-" => None,
                    r => Some(r.parse::<f64>()?),
                };
                let (handle, tx, tag) = (handle.clone(), out_tx.clone(), (*tag).to_owned());
                tokio::spawn(async move {
                    let r =
                        publish_lane(&handle, &agreement, &tag, count, in_flight, rate, &tx).await;
                    let _ = tx.send(match r {
                        Ok(()) => "PUBDONE".to_owned(),
                        Err(e) => format!("ERR {e:#}"),
                    });
                });
                continue;
            }
            ["SAMPLES", n, file] => {
                let n: usize = n.parse()?;
                let samples: Vec<String> = handle
                    .store()
                    .queries()
                    .all_records()?
                    .into_iter()
                    .take(n)
                    .map(|r| hex::encode(r.envelope.encode()))
                    .collect();
                std::fs::write(file, samples.join("\n") + "\n")?;
                format!("SAMPLES {}", samples.len())
            }
            ["COUNT"] => format!("COUNT {}", handle.store().records().len()),
            ["STATS"] => format!(
                "STATS {}",
                serde_json::to_string(&super::network::snapshot(&handle).await?)?
            ),
            ["LOGICAL"] => format!(
                "LOGICAL {}",
                serde_json::to_string(&super::logical(handle.store())?)?
            ),
            ["WAIT", file, timeout] => {
                let ids = read_ids(Path::new(file))?;
                let rx = handle.subscribe();
                let timeout = Duration::from_secs(timeout.parse()?);
                match mesh::wait_held(&handle, rx, &ids, Instant::now(), timeout).await {
                    Ok(_) => "HELD".to_owned(),
                    Err(e) => format!("ERR {e:#}"),
                }
            }
            ["STOP"] => break,
            _ => format!("ERR unknown command: {line}"),
        };
        let _ = out_tx.send(reply);
    }
    drop(handle);
    node.try_stop().await?;
    let _ = out_tx.send("STOPPED".to_owned());
    drop(out_tx);
    let _ = writer.await;
    Ok(())
}

/// Publishes `count` records under `agreement`, `in_flight` at once, at `rate` if given.
async fn publish_lane(
    handle: &accord_node::net::NodeHandle,
    agreement: &AgreementId,
    tag: &str,
    count: usize,
    in_flight: usize,
    rate: Option<f64>,
    tx: &mpsc::UnboundedSender<String>,
) -> Result<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for i in 0..count {
        super::pace(started, i, rate).await;
        let permit = permits.clone().acquire_owned().await?;
        let d = accord_node::draft::parse_draft(mesh::draft(agreement, tag, i).as_bytes())?;
        let (handle, tx, agreement) = (handle.clone(), tx.clone(), agreement.clone());
        tasks.spawn(async move {
            let (t0, started) = (unix_ns(), Instant::now());
            let id = handle.publish(d, accord_node::clock::now()).await;
            drop(permit);
            let id = id?;
            let took = started.elapsed().as_nanos();
            let _ = tx.send(format!("C {took}"));
            let _ = tx.send(format!("P {agreement} {id} {t0}"));
            Ok::<_, anyhow::Error>(())
        });
        while let Some(done) = tasks.try_join_next() {
            done??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

fn read_ids(file: &Path) -> Result<Vec<RecordId>> {
    std::fs::read_to_string(file)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| RecordId::new(l.trim()).map_err(|e| anyhow::anyhow!("{e}")))
        .collect()
}

// ---- the parent --------------------------------------------------------------------------

/// The phase the children's `P` and `S` lines are counted in.
#[derive(Default)]
struct Phase {
    tracker: Shared,
    ids: Vec<RecordId>,
    /// (publisher index, agreement) → the other running members, as in [`Lane::want`].
    want: HashMap<(usize, AgreementId), u64>,
}

type SharedPhase = Arc<Mutex<Phase>>;

fn phase(p: &SharedPhase) -> std::sync::MutexGuard<'_, Phase> {
    p.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One child process.
struct Proc {
    agency: String,
    cfg: NodeConfig,
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::UnboundedReceiver<String>,
    listen: Vec<String>,
}

impl Proc {
    async fn spawn(
        federation: &Path,
        agency: &str,
        idx: usize,
        current: &Arc<Mutex<SharedPhase>>,
        clock: (Instant, u128),
        opts: &MeshOptions,
    ) -> Result<Self> {
        let exe = match opts.node_exe.as_deref() {
            Some(e) => e.to_path_buf(),
            None => std::env::current_exe().context("cannot find the accord-bench binary")?,
        };
        let mut child = tokio::process::Command::new(exe)
            .args(["node", "--federation"])
            .arg(federation)
            .args(["--agency", agency])
            .arg("--sync-interval")
            .arg(opts.sync_interval_s.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the {agency} node"))?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, replies) = mpsc::unbounded_channel();
        let current = current.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let p = current
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                if let Some(rest) = line.strip_prefix("S ") {
                    if let Some((id, at)) = parse_event(rest, clock) {
                        let tracker = phase(&p).tracker.clone();
                        mesh::lock(&tracker).stored(idx, id, at);
                    }
                } else if let Some(rest) = line.strip_prefix("L ") {
                    if let Ok(n) = rest.trim().parse::<u64>() {
                        let tracker = phase(&p).tracker.clone();
                        mesh::lock(&tracker).lost_events(n);
                    }
                } else if let Some(rest) = line.strip_prefix("C ") {
                    if let Ok(ns) = rest.trim().parse::<u64>() {
                        let tracker = phase(&p).tracker.clone();
                        mesh::lock(&tracker).called(Duration::from_nanos(ns));
                    }
                } else if let Some(rest) = line.strip_prefix("P ") {
                    let mut w = rest.splitn(2, ' ');
                    let (Some(agreement), Some(rest)) = (w.next(), w.next()) else {
                        continue;
                    };
                    let (Ok(agreement), Some((id, t0))) =
                        (AgreementId::new(agreement), parse_event(rest, clock))
                    else {
                        continue;
                    };
                    let mut ph = phase(&p);
                    let want = ph.want.get(&(idx, agreement)).copied().unwrap_or(0);
                    ph.ids.push(id);
                    let tracker = ph.tracker.clone();
                    drop(ph);
                    mesh::lock(&tracker).published(id, t0, want);
                } else if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let cfg = accord_node::demo::load(federation, agency)?;
        let mut p = Self {
            agency: agency.to_owned(),
            cfg,
            child,
            stdin,
            replies,
            listen: Vec::new(),
        };
        let ready = p.reply("READY", Duration::from_secs(60)).await?;
        p.listen = ready.split_whitespace().map(str::to_owned).collect();
        Ok(p)
    }

    async fn send(&mut self, line: &str) -> Result<()> {
        self.stdin.write_all(line.as_bytes()).await?;
        self.stdin.write_all(b"\n").await?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// The next reply; it must start with `word`.
    async fn reply(&mut self, word: &str, timeout: Duration) -> Result<String> {
        let line = tokio::time::timeout(timeout, self.replies.recv())
            .await
            .with_context(|| format!("{}: no {word} within {timeout:?}", self.agency))?
            .with_context(|| format!("{}: the node process ended", self.agency))?;
        match line.strip_prefix(word) {
            Some(rest) => Ok(rest.trim().to_owned()),
            None => bail!("{}: expected {word}, got: {line}", self.agency),
        }
    }

    async fn stats(&mut self, timeout: Duration) -> Result<super::network::Snapshot> {
        self.send("STATS").await?;
        Ok(serde_json::from_str(&self.reply("STATS", timeout).await?)?)
    }

    fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    async fn stop(mut self) -> Result<()> {
        self.send("STOP").await?;
        self.reply("STOPPED", Duration::from_secs(60)).await?;
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
        Ok(())
    }
}

fn parse_event(rest: &str, (base_i, base_ns): (Instant, u128)) -> Option<(RecordId, Instant)> {
    let (id, t) = rest.split_once(' ')?;
    let id = RecordId::new(id).ok()?;
    let t: u128 = t.trim().parse().ok()?;
    let at = if t >= base_ns {
        base_i + Duration::from_nanos(u64::try_from(t - base_ns).ok()?)
    } else {
        base_i.checked_sub(Duration::from_nanos(u64::try_from(base_ns - t).ok()?))?
    };
    Some((id, at))
}

/// A `kB` field of /proc/PID/status, in KiB (0 where there is none).
fn proc_kib(pid: Option<u32>, field: &str) -> u64 {
    pid.map_or(0, |pid| {
        sys::status_kib_of(&format!("/proc/{pid}/status"), field)
    })
}

/// Tells every running node every other's addresses.
async fn introduce(procs: &mut [Option<Proc>]) -> Result<()> {
    let addrs: Vec<(String, Vec<String>)> = procs
        .iter()
        .flatten()
        .map(|p| (p.cfg.agency.to_string(), p.listen.clone()))
        .collect();
    for p in procs.iter_mut().flatten() {
        for (agency, list) in &addrs {
            if *agency == p.cfg.agency.as_str() {
                continue;
            }
            if !p.cfg.agencies.keys().any(|a| a.as_str() == agency) {
                continue;
            }
            for a in list {
                p.send(&format!("ADDR {agency} {a}")).await?;
            }
        }
    }
    Ok(())
}

/// Publishes `count` records over `lanes` (each lane its share, round-robin as in the
/// in-process mesh), all lanes at once; waits for every `PUBDONE`. Returns the wall time.
async fn publish(
    procs: &mut [Option<Proc>],
    lanes: &[Lane],
    count: usize,
    rate: Option<f64>,
    in_flight: usize,
    tag: &str,
    current: &SharedPhase,
) -> Result<Duration> {
    {
        let mut ph = phase(current);
        for l in lanes {
            ph.want.insert((l.node, l.agreement.clone()), l.want);
        }
    }
    let started = Instant::now();
    let mut waiting = Vec::new();
    for (i, l) in lanes.iter().enumerate() {
        let n = count / lanes.len() + usize::from(i < count % lanes.len());
        let lane_rate = rate.map_or("-".to_owned(), |r| format!("{}", r / lanes.len() as f64));
        let p = procs[l.node]
            .as_mut()
            .context("a publishing node is not running")?;
        p.send(&format!(
            "PUB {tag} {} {n} {in_flight} {lane_rate}",
            l.agreement
        ))
        .await?;
        waiting.push(l.node);
    }
    for node in waiting {
        let p = procs[node].as_mut().context("a publisher stopped")?;
        p.reply("PUBDONE", Duration::from_secs(3_600)).await?;
    }
    Ok(started.elapsed())
}

async fn wait_delivered(current: &SharedPhase, expected: usize, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let tracker = phase(current).tracker.clone();
    loop {
        let delivered = mesh::lock(&tracker).delivered();
        if delivered >= expected {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("only {delivered} of {expected} records were delivered within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn new_phase(current: &Arc<Mutex<SharedPhase>>) -> SharedPhase {
    let p: SharedPhase = Arc::default();
    *current.lock().unwrap_or_else(PoisonError::into_inner) = p.clone();
    p
}

/// The mesh of child processes (module documentation); the same phases and report as the
/// in-process mesh, with memory per node.
pub(crate) async fn run(opts: MeshOptions) -> Result<MeshReport> {
    let super::Setup {
        count,
        agencies,
        timeout,
        dir,
        catch_up: catch_up_agreement,
        victim,
    } = super::Setup::new(&opts, ", one process each")?;
    let clock = (Instant::now(), unix_ns());
    let current: Arc<Mutex<SharedPhase>> = Arc::default();
    let mut procs: Vec<Option<Proc>> = Vec::new();
    for (i, a) in agencies.iter().enumerate() {
        procs.push(Some(
            Proc::spawn(dir.path(), a, i, &current, clock, &opts).await?,
        ));
    }
    introduce(&mut procs).await?;
    let introduced = Instant::now();
    let cfgs = |procs: &[Option<Proc>]| -> Vec<Option<NodeConfig>> {
        procs
            .iter()
            .map(|p| p.as_ref().map(|p| p.cfg.clone()))
            .collect()
    };
    let mut expected = vec![0usize; count];

    // warm-up
    let lanes = mesh::lanes_of(&cfgs(&procs), None, None, false);
    let warm = new_phase(&current);
    publish(&mut procs, &lanes, lanes.len(), None, 1, "warm-up", &warm).await?;
    wait_delivered(&warm, lanes.len(), timeout).await?;
    let convergence_s = introduced.elapsed().as_secs_f64();
    expect(&mut expected, &lanes, lanes.len(), None);
    eprintln!(
        "bench mesh: converged in {convergence_s:.1} s; publishing {} records",
        opts.records
    );

    // the timed phase
    let before = stats(&mut procs, timeout).await?;
    let window = Instant::now();
    let main = new_phase(&current);
    let elapsed = publish(
        &mut procs,
        &lanes,
        opts.records,
        opts.rate,
        opts.in_flight,
        "main",
        &main,
    )
    .await?;
    wait_delivered(&main, opts.records, timeout).await?;
    let window_s = window.elapsed().as_secs_f64();
    let after = stats(&mut procs, timeout).await?;
    expect(&mut expected, &lanes, opts.records, None);
    let published = mesh::Published {
        ids: phase(&main).ids.clone(),
        elapsed,
        in_flight: opts.in_flight.max(1) * lanes.len(),
    };
    let tracker = phase(&main).tracker.clone();
    let publish_figures = mesh::figures(&tracker, &published, opts.rate);
    let federation = super::network::figures(
        &procs.iter().flatten().map(|p| &p.cfg).collect::<Vec<_>>(),
        &before,
        &after,
        window_s,
        convergence_s,
        opts.sync_interval_s,
    );
    eprintln!(
        "bench mesh: delivered {:.0} records/s, p50 {:.1} ms, p99 {:.1} ms",
        publish_figures.delivered_per_s,
        publish_figures.latency.p50_ms,
        publish_figures.latency.p99_ms
    );
    let rss_after: Vec<u64> = procs
        .iter()
        .map(|p| proc_kib(p.as_ref().and_then(Proc::pid), "VmRSS"))
        .collect();

    // samples for the verification rate
    let first = procs[0].as_mut().context("the first node is not running")?;
    let sample_file = dir.path().join("samples.hex");
    first
        .send(&format!(
            "SAMPLES {} {}",
            opts.verify_samples.max(64),
            sample_file.display()
        ))
        .await?;
    first.reply("SAMPLES", timeout).await?;
    let samples: Vec<Envelope> = std::fs::read_to_string(&sample_file)?
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let bytes = hex::decode(l).context("sample hex")?;
            Envelope::decode(&bytes).map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect::<Result<_>>()?;
    let key = SecretKey::from_key_file(&std::fs::read_to_string(&first.cfg.key_file)?)?;
    let keys = accord_node::publish::directory(&first.cfg, &key);
    let (signed_bytes_per_record, verify, transport) =
        super::baselines(&samples, keys, &opts).await?;

    // catch-up
    let down = procs[victim]
        .take()
        .context("the catch-up node is not running")?;
    let victim_agency = down.agency.clone();
    eprintln!(
        "bench mesh: {} stopped; publishing {} records",
        down.cfg.agency, opts.catch_up
    );
    let victim_peak = proc_kib(down.pid(), "VmHWM");
    down.stop().await?;
    let lanes_down = mesh::lanes_of(&cfgs(&procs), Some(&catch_up_agreement), None, true);
    let missed_phase = new_phase(&current);
    let elapsed = publish(
        &mut procs,
        &lanes_down,
        opts.catch_up,
        None,
        opts.in_flight,
        "missed",
        &missed_phase,
    )
    .await?;
    wait_delivered(&missed_phase, opts.catch_up, timeout).await?;
    expect(&mut expected, &lanes_down, opts.catch_up, Some(victim));
    let missed = mesh::Published {
        ids: phase(&missed_phase).ids.clone(),
        elapsed,
        in_flight: opts.in_flight.max(1) * lanes_down.len(),
    };
    let while_down = mesh::figures(&phase(&missed_phase).tracker.clone(), &missed, None);
    let id_file = dir.path().join("missed.hex");
    std::fs::write(
        &id_file,
        missed
            .ids
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    )?;
    eprintln!("bench mesh: restarting {victim_agency}; catching up");
    let _quiet = new_phase(&current);
    let since = Instant::now();
    procs[victim] =
        Some(Proc::spawn(dir.path(), &victim_agency, victim, &current, clock, &opts).await?);
    introduce(&mut procs).await?;
    let back = procs[victim].as_mut().context("the rejoining node")?;
    back.send(&format!("WAIT {} {}", id_file.display(), opts.timeout_s))
        .await?;
    back.reply("HELD", timeout + Duration::from_secs(10))
        .await?;
    let took = since.elapsed();
    let catch_up = CatchUpFigures {
        agency: back.cfg.agency.to_string(),
        records: missed.ids.len(),
        while_down,
        elapsed_s: took.as_secs_f64(),
        per_s: missed.ids.len() as f64 / took.as_secs_f64().max(1e-9),
    };

    // stores and memory, then stop
    let mut stores = Vec::new();
    let mut nodes_memory = Vec::new();
    for (i, p) in procs.iter_mut().enumerate() {
        let Some(p) = p else { continue };
        p.send("COUNT").await?;
        let records: usize = p.reply("COUNT", timeout).await?.parse()?;
        p.send("LOGICAL").await?;
        let logical = serde_json::from_str(&p.reply("LOGICAL", timeout).await?)?;
        stores.push(StoreFigures {
            agency: p.cfg.agency.to_string(),
            records,
            expected: expected[i],
            bytes: sys::dir_bytes(&p.cfg.data_dir),
            logical,
        });
        let peak = proc_kib(p.pid(), "VmHWM");
        nodes_memory.push(NodeMemory {
            agency: p.cfg.agency.to_string(),
            rss_after_publish_kib: rss_after[i],
            rss_end_kib: proc_kib(p.pid(), "VmRSS"),
            peak_kib: if i == victim {
                peak.max(victim_peak)
            } else {
                peak
            },
        });
    }
    for p in procs.into_iter().flatten() {
        p.stop().await?;
    }
    let memory = MemoryFigures {
        rss_after_publish_kib: rss_after.iter().sum(),
        rss_end_kib: nodes_memory.iter().map(|n| n.rss_end_kib).sum(),
        peak_kib: nodes_memory.iter().map(|n| n.peak_kib).max().unwrap_or(0),
        nodes: nodes_memory,
    };
    Ok(super::report(
        opts,
        agencies,
        publish_figures,
        verify,
        transport,
        catch_up,
        memory,
        stores,
        signed_bytes_per_record,
        federation,
    ))
}

/// Each running node's [`super::network::Snapshot`].
async fn stats(
    procs: &mut [Option<Proc>],
    timeout: Duration,
) -> Result<Vec<super::network::Snapshot>> {
    let mut out = Vec::new();
    for p in procs.iter_mut().flatten() {
        out.push(p.stats(timeout).await?);
    }
    Ok(out)
}
