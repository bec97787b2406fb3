//! The crash suite: a real `accord run` process (TR-JGK, the victim) is killed with SIGKILL at
//! random moments while its own systems publish to it through the local API and its partner
//! (GR-HCG, also an `accord run` process) publishes records that it receives. After every kill:
//!
//! - the store opens (`accord query --json` opens it directly, as no node holds it), and every
//!   record the victim acknowledged (HTTP 201 with an id) is present, as is every record it
//!   was already seen to hold;
//! - the audit log exports and verifies (`accord audit export`, `accord audit verify`);
//! - the partner publishes while the victim is down; after the restart, catch-up brings those
//!   records, and the victim's acknowledged records reach the partner.
//!
//! Short form: 20 kills. Long form: `ACCORD_CRASH_ROUNDS=200`. The random schedule comes from
//! a printed seed; `ACCORD_CRASH_SEED=<n>` replays one. Every wait polls under a deadline; the
//! only sleeps that are not polls are the random delays that choose the moment of each kill.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::accord;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use accord_config::StoreEngine;
use serde_json::{Value, json};

/// The most any one wait may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(100);
/// Kills in the short form (CI).
const SHORT_ROUNDS: usize = 20;

const VICTIM: &str = "TR-JGK";
const PARTNER: &str = "GR-HCG";

/// A small deterministic generator (SplitMix64): no dependency, replayable from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
    )
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .new_agent()
}

/// One node's API: where it listens and its token.
#[derive(Clone, Debug)]
struct Api {
    addr: SocketAddr,
    token: String,
}

impl Api {
    /// GET; status 0 when nothing answers.
    fn get(&self, path: &str) -> (u16, Value) {
        match agent()
            .get(format!("http://{}{path}", self.addr))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
        {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let body = res.body_mut().read_to_string().unwrap_or_default();
                (status, serde_json::from_str(&body).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Publishes a draft: `Some(id)` only when the node acknowledged it (201 with an id);
    /// `None` when the request failed in any way (the node may or may not have stored it).
    fn publish(&self, draft: &Value) -> Option<String> {
        let mut res = agent()
            .post(format!("http://{}/v1/records", self.addr))
            .header("Authorization", format!("Bearer {}", self.token))
            .content_type("application/json")
            .send(draft.to_string().as_bytes())
            .ok()?;
        let status = res.status().as_u16();
        let body = res.body_mut().read_to_string().ok()?;
        if status == 422 {
            panic!("a draft was refused: {body}");
        }
        if status != 201 {
            return None;
        }
        let v: Value = serde_json::from_str(&body).ok()?;
        Some(v["id"].as_str()?.to_owned())
    }

    fn holds(&self, id: &str) -> bool {
        self.get(&format!("/v1/records/{id}")).0 == 200
    }
}

/// One `accord run` process.
struct Proc {
    agency: &'static str,
    config: PathBuf,
    api: Api,
    log: PathBuf,
    child: Option<Child>,
    starts: usize,
}

impl Proc {
    fn config(&self) -> &str {
        self.config.to_str().unwrap()
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        self.starts += 1;
        let child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["run", "--config", self.config()])
            .env("RUST_LOG", "info")
            .env_remove("ACCORD_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGKILL (what `Child::kill` sends on unix), then reap.
    fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{} had already exited: {status}", self.agency);
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }

    fn check_alive(&mut self) {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait().unwrap()
        {
            panic!("accord run of {} exited: {status}", self.agency);
        }
    }
}

/// The two processes. Dropping it kills what still runs and, when the test fails, prints the
/// end of each log.
struct Pair {
    root: tempfile::TempDir,
    victim: Proc,
    partner: Proc,
}

impl Drop for Pair {
    fn drop(&mut self) {
        for p in [&mut self.victim, &mut self.partner] {
            if let Some(mut c) = p.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if std::thread::panicking() {
            for p in [&self.victim, &self.partner] {
                let log = std::fs::read_to_string(&p.log).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(200)..].join("\n");
                eprintln!(
                    "===== {} ({} starts; last 200 lines of {}) =====\n{tail}",
                    p.agency,
                    p.starts,
                    p.log.display()
                );
            }
        }
    }
}

impl Pair {
    fn start(engine: StoreEngine) -> Self {
        let root = tempfile::tempdir().unwrap();
        accord_node::demo::write_federation(root.path()).unwrap();
        accord_node::demo::set_store_engine(root.path(), engine).unwrap();
        let ports = accord_node::demo::free_loopback_ports(4).unwrap();
        let p2p = BTreeMap::from([(VICTIM, ports[0]), (PARTNER, ports[2])]);
        let make = |dir: &str, agency: &'static str, p2p_port: u16, api_port: u16| {
            let home = root.path().join(dir);
            let config = home.join("node.toml");
            accord_node::demo::pin_ports(&config, p2p_port, api_port, &p2p).unwrap();
            let token = std::fs::read_to_string(home.join("api.token"))
                .unwrap()
                .trim()
                .to_owned();
            Proc {
                agency,
                config,
                api: Api {
                    addr: SocketAddr::from(([127, 0, 0, 1], api_port)),
                    token,
                },
                log: root.path().join(format!("{dir}.log")),
                child: None,
                starts: 0,
            }
        };
        let victim = make("tr-jgk", VICTIM, ports[0], ports[1]);
        let partner = make("gr-hcg", PARTNER, ports[2], ports[3]);
        let mut pair = Pair {
            root,
            victim,
            partner,
        };
        pair.partner.spawn();
        pair.victim.spawn();
        pair.wait_api(false);
        pair.wait_api(true);
        pair
    }

    /// Polls `cond` until it holds, for at most [`TIMEOUT`], checking that the processes live.
    fn wait_until(&mut self, what: &str, mut cond: impl FnMut(&mut Self) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            self.victim.check_alive();
            self.partner.check_alive();
            if cond(self) {
                return;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {TIMEOUT:?} waiting for {what}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn wait_api(&mut self, victim: bool) {
        let (agency, api) = if victim {
            (self.victim.agency, self.victim.api.clone())
        } else {
            (self.partner.agency, self.partner.api.clone())
        };
        self.wait_until(&format!("the API of {agency} to answer"), |_| {
            api.get("/v1/status").0 == 200
        });
    }

    /// The ids in the victim's store, read by `accord query --json` opening it directly (the
    /// victim is down): this is also the proof that the store opens after the crash.
    fn victim_ids_offline(&self) -> Vec<String> {
        let out = accord(&["query", "--config", self.victim.config(), "--json", "--all"]);
        assert!(
            out.status.success(),
            "the store of {VICTIM} did not open after a SIGKILL: {}",
            stderr_of(&out)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// `accord audit export` of the stopped victim, then `accord audit verify` of the export.
    fn audit_victim(&self, round: usize) {
        let dir = self.root.path().join(format!("audit-{round}"));
        let out = accord(&[
            "audit",
            "export",
            "--config",
            self.victim.config(),
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "round {round}: audit export failed: {}",
            stderr_of(&out)
        );
        let out = accord(&["audit", "verify", dir.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "round {round}: the audit log does not verify after a SIGKILL:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr_of(&out)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

fn draft(agreement: &str, summary: String) -> Value {
    json!({
        "agreement": agreement,
        "category": "alert",
        "handling": "H1",
        "grading": "B2",
        "route": [{"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}],
        "summary": summary,
    })
}

/// Publishes to `api` until `stop`, every `pause`, recording what was acknowledged (id and
/// agreement).
fn publish_stream(
    api: &Api,
    stop: &AtomicBool,
    acked: &Mutex<Vec<(String, String)>>,
    what: impl Fn(usize) -> Value,
    pause: Duration,
) {
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let d = what(i);
        if let Some(id) = api.publish(&d) {
            let agreement = d["agreement"].as_str().unwrap().to_owned();
            acked.lock().unwrap().push((id, agreement));
        }
        i += 1;
        std::thread::sleep(pause);
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    sigkill_rounds(StoreEngine::Sled);
}

/// The same on fjall, the other storage engine a node file may choose.
#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged_on_fjall() {
    sigkill_rounds(StoreEngine::Fjall);
}

fn sigkill_rounds(engine: StoreEngine) {
    let rounds = env_number("ACCORD_CRASH_ROUNDS").map_or(SHORT_ROUNDS, |n| n as usize);
    let seed = env_number("ACCORD_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    eprintln!(
        "crash suite on {engine}: {rounds} rounds, seed {seed} (replay with \
         ACCORD_CRASH_SEED={seed})"
    );
    let mut rng = Rng(seed);
    let began = Instant::now();
    let mut pair = Pair::start(engine);
    for dir in ["tr-jgk", "gr-hcg"] {
        let data = pair.root.path().join(dir).join("data");
        assert_eq!(
            accord_node::store::Store::engine_of(&data),
            Some(engine),
            "{dir}'s store is not on {engine}"
        );
    }
    let victim_api = pair.victim.api.clone();
    let partner_api = pair.partner.api.clone();

    // every id the victim acknowledged; every id it was seen to hold (must never disappear)
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut seen_at_victim: BTreeSet<String> = BTreeSet::new();
    // ids not yet seen where they must arrive: partner's at the victim, victim's at the partner
    let mut due_at_victim: BTreeSet<String> = BTreeSet::new();
    let mut due_at_partner: BTreeSet<String> = BTreeSet::new();
    let mut catch_ups = 0;

    for round in 0..rounds {
        // the stream: the victim's systems publish (mostly QUAD-2026, some TR-BG-2026 whose
        // member BG-GDBP never runs), the partner publishes to it; SIGKILL after a random delay
        let delay = Duration::from_millis(rng.range(0, 1200));
        let bilateral_every = rng.range(2, 6) as usize;
        let stop = AtomicBool::new(false);
        let victim_acks = Mutex::new(Vec::new());
        let partner_acks = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                publish_stream(
                    &victim_api,
                    &stop,
                    &victim_acks,
                    |i| {
                        let agreement = if i % bilateral_every == 0 {
                            "TR-BG-2026"
                        } else {
                            "QUAD-2026"
                        };
                        draft(agreement, format!("{VICTIM} round {round} record {i}"))
                    },
                    Duration::from_millis(5),
                );
            });
            s.spawn(|| {
                publish_stream(
                    &partner_api,
                    &stop,
                    &partner_acks,
                    |i| draft("QUAD-2026", format!("{PARTNER} round {round} record {i}")),
                    Duration::from_millis(30),
                );
            });
            std::thread::sleep(delay);
            pair.victim.kill();
            stop.store(true, Ordering::SeqCst);
        });
        let victim_acks = victim_acks.into_inner().unwrap();
        let partner_acks = partner_acks.into_inner().unwrap();
        for (id, agreement) in victim_acks {
            acked.insert(id.clone());
            // GR-HCG is a member of QUAD-2026 only
            if agreement == "QUAD-2026" {
                due_at_partner.insert(id);
            }
        }
        due_at_victim.extend(partner_acks.into_iter().map(|(id, _)| id));

        // down: the store opens and holds everything acknowledged or seen; the audit verifies
        let held: BTreeSet<String> = pair.victim_ids_offline().into_iter().collect();
        let lost: Vec<&String> = acked
            .iter()
            .chain(seen_at_victim.iter())
            .filter(|id| !held.contains(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}, kill after {delay:?}): {} acknowledged or held \
             record(s) missing after SIGKILL: {lost:?}",
            lost.len()
        );
        seen_at_victim.extend(
            held.iter()
                .filter(|id| due_at_victim.contains(*id))
                .cloned(),
        );
        due_at_victim.retain(|id| !held.contains(id));
        pair.audit_victim(round);

        // the partner publishes while the victim is down
        for i in 0..2 {
            let id = partner_api
                .publish(&draft(
                    "QUAD-2026",
                    format!("{PARTNER} round {round} while down {i}"),
                ))
                .expect("the partner acknowledges");
            due_at_victim.insert(id);
        }

        // restart; in about half the rounds (and the last) wait for catch-up to complete, in
        // the others the next kill may land during catch-up
        pair.victim.spawn();
        pair.wait_api(true);
        if round + 1 == rounds || rng.range(0, 2) == 0 {
            catch_ups += 1;
            let what = format!(
                "round {round}: catch-up ({} record(s) due at {VICTIM}, {} at {PARTNER})",
                due_at_victim.len(),
                due_at_partner.len()
            );
            pair.wait_until(&what, |_| {
                due_at_victim.retain(|id| {
                    let held = victim_api.holds(id);
                    if held {
                        seen_at_victim.insert(id.clone());
                    }
                    !held
                });
                due_at_partner.retain(|id| !partner_api.holds(id));
                due_at_victim.is_empty() && due_at_partner.is_empty()
            });
        }
        eprintln!(
            "round {round}: killed after {delay:?}; {} acknowledged by {VICTIM} so far, {} \
             held before the restart",
            acked.len(),
            held.len()
        );
    }

    // nothing equivocated: no seq was reused after a crash
    for api in [&victim_api, &partner_api] {
        let (status, st) = api.get("/v1/status");
        assert_eq!(status, 200);
        assert_eq!(st["equivocations"], json!([]), "{st}");
        assert_eq!(st["agreement_mismatches"], json!([]), "{st}");
    }
    // every record of the victim that the partner holds is still in the victim's store
    let mut at_partner = Vec::new();
    let mut path = "/v1/records?agreement=QUAD-2026&limit=1000".to_owned();
    loop {
        let (status, page) = partner_api.get(&path);
        assert_eq!(status, 200, "{page}");
        at_partner.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => {
                path = format!("/v1/records?agreement=QUAD-2026&limit=1000&cursor={next}")
            }
            None => break,
        }
    }
    let mut from_victim = 0;
    for r in &at_partner {
        if r["record"]["originator"] == VICTIM {
            from_victim += 1;
            let id = r["id"].as_str().unwrap();
            assert!(
                victim_api.holds(id),
                "{PARTNER} holds {VICTIM}'s record {id}, which {VICTIM} lost"
            );
        }
    }
    eprintln!(
        "crash suite: {rounds} kills in {:?} (seed {seed}); {} records acknowledged by \
         {VICTIM}, {from_victim} of its QUAD-2026 records at {PARTNER}, {} records received \
         from {PARTNER}; catch-up awaited in {catch_ups} rounds",
        began.elapsed(),
        acked.len(),
        seen_at_victim.len()
    );
}
