//! Real `accord run` processes, driven only as an agency would: through the CLI and the local
//! HTTP API. Three members of QUAD-2026 (TR-JGK, GR-HCG, PK-FIA) run from a copy of
//! examples/quad, each with its own data directory, configuration and loopback ports; IR-FARAJA
//! and BG-GDBP are absent. Every wait polls under a deadline; children are killed when the test
//! fails, and their logs are printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use accord_node::store::Store;
use serde_json::{Value, json};

/// The most any one wait may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(200);

/// The running members, by directory name and agency.
const MEMBERS: [(&str, &str); 3] = [
    ("tr-jgk", "TR-JGK"),
    ("gr-hcg", "GR-HCG"),
    ("pk-fia", "PK-FIA"),
];

/// The ports of one node.
#[derive(Clone, Copy, Debug)]
struct Ports {
    p2p: u16,
    api: u16,
}

/// Pins a node file to its own ports and the running members' p2p ports.
fn rewrite(path: &Path, own: Ports, ports: &BTreeMap<&str, Ports>) {
    let peers: BTreeMap<&str, u16> = ports.iter().map(|(a, p)| (*a, p.p2p)).collect();
    accord_node::demo::pin_ports(path, own.p2p, own.api, &peers).unwrap();
}

fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("ACCORD_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// One `accord run` process.
struct Node {
    dir: &'static str,
    agency: &'static str,
    config: PathBuf,
    api: SocketAddr,
    token: String,
    log: PathBuf,
    child: Option<Child>,
}

/// The federation of running processes. Dropping it kills what still runs and, when the test
/// is failing, prints every node's log.
struct Federation {
    root: tempfile::TempDir,
    nodes: Vec<Node>,
}

impl Drop for Federation {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut child) = n.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if std::thread::panicking() {
            for n in &self.nodes {
                let log = std::fs::read_to_string(&n.log).unwrap_or_default();
                eprintln!(
                    "===== {} ({}) stderr =====\n{log}",
                    n.agency,
                    n.log.display()
                );
            }
        }
    }
}

impl Federation {
    /// Copies examples/quad, gives every member its own ports and starts `accord run` for each.
    fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        accord_node::demo::write_federation(root.path()).unwrap();
        let free = accord_node::demo::free_loopback_ports(2 * MEMBERS.len()).unwrap();
        let ports: BTreeMap<&str, Ports> = MEMBERS
            .iter()
            .enumerate()
            .map(|(i, (_, agency))| {
                (
                    *agency,
                    Ports {
                        p2p: free[2 * i],
                        api: free[2 * i + 1],
                    },
                )
            })
            .collect();
        let mut fed = Federation {
            root,
            nodes: vec![],
        };
        for (dir, agency) in MEMBERS {
            let home = fed.root.path().join(dir);
            let config = home.join("node.toml");
            rewrite(&config, ports[agency], &ports);
            let token = std::fs::read_to_string(home.join("api.token"))
                .unwrap()
                .trim()
                .to_owned();
            let log = fed.root.path().join(format!("{dir}.stderr"));
            fed.nodes.push(Node {
                dir,
                agency,
                config,
                api: SocketAddr::from(([127, 0, 0, 1], ports[agency].api)),
                token,
                log,
                child: None,
            });
        }
        for n in &mut fed.nodes {
            let stderr = std::fs::File::create(&n.log).unwrap();
            let stdout = std::fs::File::create(n.log.with_extension("stdout")).unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_accord"))
                .args(["run", "--config", n.config.to_str().unwrap()])
                .env("RUST_LOG", "info")
                .env_remove("ACCORD_CONFIG")
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(stderr)
                .spawn()
                .unwrap();
            n.child = Some(child);
        }
        for i in 0..fed.nodes.len() {
            let what = format!("the API of {} to answer", fed.nodes[i].agency);
            fed.wait_until(&what, |f| f.get(i, "/v1/status").0 == 200);
        }
        fed
    }

    fn node(&self, agency: &str) -> usize {
        self.nodes.iter().position(|n| n.agency == agency).unwrap()
    }

    fn config(&self, agency: &str) -> &str {
        self.nodes[self.node(agency)].config.to_str().unwrap()
    }

    /// Panics if a node has exited.
    fn check_alive(&mut self) {
        for n in &mut self.nodes {
            if let Some(child) = n.child.as_mut()
                && let Some(status) = child.try_wait().unwrap()
            {
                panic!(
                    "accord run of {} ({}) exited early: {status}",
                    n.agency, n.dir
                );
            }
        }
    }

    /// Polls `cond` every [`POLL`] until it holds, for at most [`TIMEOUT`].
    fn wait_until(&mut self, what: &str, mut cond: impl FnMut(&mut Self) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            self.check_alive();
            if cond(self) {
                return;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {TIMEOUT:?} waiting for {what}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent()
    }

    /// GET on node `i`'s API; status 0 when it does not answer.
    fn get(&self, i: usize, path: &str) -> (u16, Value) {
        let n = &self.nodes[i];
        let res = Self::agent()
            .get(format!("http://{}{path}", n.api))
            .header("Authorization", format!("Bearer {}", n.token))
            .call();
        match res {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let body = res.body_mut().read_to_string().unwrap();
                (status, serde_json::from_str(&body).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// POST a draft to node `i`'s API.
    fn post(&self, i: usize, draft: &Value) -> (u16, Value) {
        let n = &self.nodes[i];
        let mut res = Self::agent()
            .post(format!("http://{}/v1/records", n.api))
            .header("Authorization", format!("Bearer {}", n.token))
            .content_type("application/json")
            .send(draft.to_string().as_bytes())
            .unwrap();
        let status = res.status().as_u16();
        let body = res.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&body).unwrap())
    }

    /// `accord publish` of a draft at an agency; the output.
    fn publish_cli(&self, agency: &str, draft: &Value) -> Output {
        let file = self
            .root
            .path()
            .join(format!("draft-{agency}-{}.json", rand_suffix()));
        std::fs::write(&file, draft.to_string()).unwrap();
        accord(&[
            "publish",
            "--config",
            self.config(agency),
            file.to_str().unwrap(),
        ])
    }

    /// The ids `accord query --json` lists at an agency.
    fn ids_cli(&self, agency: &str) -> Vec<String> {
        let out = accord(&["query", "--config", self.config(agency), "--json"]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "query at {agency}: {stderr}");
        stdout
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// The ids `GET /v1/records` lists at an agency.
    fn ids_api(&self, agency: &str) -> Vec<String> {
        let (status, body) = self.get(self.node(agency), "/v1/records");
        assert_eq!(status, 200, "GET /v1/records at {agency}: {body}");
        body.as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Sends SIGTERM to every node and waits for each to exit.
    fn stop(&mut self) -> Vec<(&'static str, ExitStatus)> {
        for n in &self.nodes {
            let pid = n.child.as_ref().unwrap().id().to_string();
            let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(kill.success(), "kill -TERM {pid} ({})", n.agency);
        }
        let mut out = vec![];
        for n in &mut self.nodes {
            let deadline = Instant::now() + TIMEOUT;
            let child = n.child.as_mut().unwrap();
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} did not stop within {TIMEOUT:?} of SIGTERM",
                    n.agency
                );
                std::thread::sleep(Duration::from_millis(50));
            };
            n.child = None;
            out.push((n.agency, status));
        }
        out
    }
}

/// A name unique within this test run.
fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn vessel() -> Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "vessel",
        "handling": "H1",
        "grading": "B2",
        "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729"}],
        "route": [{"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}],
        "summary": "Vessel seen loading passengers at night off the Aegean coast."
    })
}

fn route() -> Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "route",
        "handling": "H0",
        "grading": "C3",
        "route": [{"country": "PK", "role": "source"}, {"country": "IR", "role": "transit"}, {"country": "TR", "role": "transit"}],
        "summary": "Overland route used by a network moving people from Balochistan westwards."
    })
}

#[test]
fn three_processes_share_through_cli_and_api() {
    let mut fed = Federation::start();
    let (tr, gr, pk) = (fed.node("TR-JGK"), fed.node("GR-HCG"), fed.node("PK-FIA"));

    // a refusal through the running node's API: exit 1 with the policy's reason, nothing stored
    let mut bad = vessel();
    bad["agreement"] = json!("TR-BG-2026");
    let out = fed.publish_cli("TR-JGK", &bad);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("vessel"), "{stderr}");
    assert!(fed.ids_api("TR-JGK").is_empty());

    // TR-JGK publishes with the CLI: the store is locked by `accord run`, so it goes through the
    // API, and the record reaches the two other running members
    let out = fed.publish_cli("TR-JGK", &vessel());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "publish at TR-JGK: {stderr}");
    let a = stdout.trim().to_owned();
    assert_eq!(a.len(), 64, "{stdout}");
    assert!(fed.ids_cli("TR-JGK").contains(&a));
    fed.wait_until("GR-HCG and PK-FIA to hold TR-JGK's record", |f| {
        f.ids_cli("GR-HCG").contains(&a) && f.ids_api("PK-FIA").contains(&a)
    });

    // PK-FIA publishes through the API; TR-JGK and GR-HCG receive it
    let (status, body) = fed.post(pk, &route());
    assert_eq!(status, 201, "{body}");
    let b = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK and GR-HCG to hold PK-FIA's record", |f| {
        f.ids_cli("TR-JGK").contains(&b) && f.ids_api("GR-HCG").contains(&b)
    });

    // `accord show` through the API, by id prefix
    let out = accord(&["show", "--config", fed.config("GR-HCG"), &a[..10]]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("record     {a}")), "{stdout}");
    assert!(stdout.contains("originator TR-JGK"), "{stdout}");
    // a filtered query through the API
    let out = accord(&[
        "query",
        "--config",
        fed.config("GR-HCG"),
        "--country",
        "PK",
        "--role",
        "source",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&b[..12]) && !stdout.contains(&a[..12]),
        "{stdout}"
    );
    assert!(stdout.contains("1 record(s)"), "{stdout}");

    // every member sees the other two connected, under QUAD-2026 too
    for i in [tr, gr, pk] {
        let me = fed.nodes[i].agency;
        let others: Vec<&str> = MEMBERS
            .iter()
            .map(|(_, a)| *a)
            .filter(|a| *a != me)
            .collect();
        fed.wait_until(
            &format!("{me} to report both other members connected"),
            |f| {
                let (status, peers) = f.get(i, "/v1/peers");
                let has = |v: &Value, a: &str| {
                    v.as_array()
                        .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(a)))
                };
                status == 200
                    && others.iter().all(|o| has(&peers["connected"], o))
                    && others
                        .iter()
                        .all(|o| has(&peers["agreements"]["QUAD-2026"], o))
            },
        );
    }

    // at the end, nothing waits for a running member; the absent IR-FARAJA's records wait
    for i in [tr, gr, pk] {
        let me = fed.nodes[i].agency;
        fed.wait_until(
            &format!("{me}'s outboxes to the running members to drain"),
            |f| {
                let (status, st) = f.get(i, "/v1/status");
                status == 200
                    && st["records"] == 2
                    && MEMBERS
                        .iter()
                        .all(|(_, a)| st["outbox"][a].as_u64().unwrap_or(0) == 0)
            },
        );
    }
    let (_, st) = fed.get(tr, "/v1/status");
    assert!(
        st["outbox"]["IR-FARAJA"].as_u64().unwrap_or(0) >= 1,
        "TR-JGK keeps its record for the absent IR-FARAJA: {st}"
    );

    // the JSON lines through the API, then SIGTERM: each node exits 0
    let through_api = text(&accord(&[
        "query",
        "--config",
        fed.config("TR-JGK"),
        "--json",
    ]))
    .0;
    for (agency, status) in fed.stop() {
        assert!(status.success(), "{agency} exited with {status}");
    }

    // with no node running the CLI opens the store itself and prints the same lines
    let out = accord(&["query", "--config", fed.config("TR-JGK"), "--json"]);
    let (local, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(local, through_api);
    assert_eq!(local.lines().count(), 2);
}

#[test]
fn a_locked_store_with_a_silent_api_fails_with_exit_3() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let free = accord_node::demo::free_loopback_ports(2).unwrap();
    let port = free[1];
    let ports = BTreeMap::from([(
        "TR-JGK",
        Ports {
            p2p: free[0],
            api: port,
        },
    )]);
    let config = root.path().join("tr-jgk/node.toml");
    rewrite(&config, ports["TR-JGK"], &ports);
    // this test process holds the store, as `accord run` would; nothing serves the API
    let _held = Store::open(&root.path().join("tr-jgk/data")).unwrap();
    let config = config.to_str().unwrap();

    let draft = root.path().join("draft.json");
    std::fs::write(&draft, vessel().to_string()).unwrap();
    for args in [
        vec!["query", "--config", config],
        vec!["publish", "--config", config, draft.to_str().unwrap()],
        vec!["show", "--config", config, "abcdef"],
    ] {
        let out = accord(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("locked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("did not answer at http://127.0.0.1:{port}")),
            "{args:?}: {stderr}"
        );
    }
}
