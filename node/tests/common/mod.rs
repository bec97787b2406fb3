//! What the node's test binaries share: running the `accord` binary, and a federation of real
//! `accord run` processes from a copy of examples/quad, each with its own data directory,
//! configuration and loopback ports, driven only as an agency would (the CLI and the local
//! HTTP API). Every wait polls under a deadline; children are killed when the test fails, and
//! their logs are printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The most any one wait may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);
/// How often a wait polls.
pub(crate) const POLL: Duration = Duration::from_millis(200);

/// The ports of one node.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ports {
    pub p2p: u16,
    pub api: u16,
}

/// Pins a node file to its own ports and the running members' p2p ports.
pub(crate) fn rewrite(path: &Path, own: Ports, ports: &BTreeMap<&str, Ports>) {
    let peers: BTreeMap<&str, u16> = ports.iter().map(|(a, p)| (*a, p.p2p)).collect();
    accord_node::demo::pin_ports(path, own.p2p, own.api, &peers).unwrap();
}

pub(crate) fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("ACCORD_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub(crate) fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// One `accord run` process.
pub(crate) struct Node {
    pub dir: &'static str,
    pub agency: &'static str,
    pub config: PathBuf,
    pub api: SocketAddr,
    pub token: String,
    pub log: PathBuf,
    pub child: Option<Child>,
    /// Arguments `accord run` gets after `--config FILE` (e.g. `--log-format json`).
    pub args: Vec<String>,
}

/// The federation of running processes. Dropping it kills what still runs and, when the test
/// is failing, prints every node's log.
pub(crate) struct Federation {
    pub root: tempfile::TempDir,
    pub nodes: Vec<Node>,
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
    /// Copies examples/quad, gives each of `members` (directory name, agency) its own ports
    /// and starts `accord run` for each.
    pub(crate) fn start(members: &[(&'static str, &'static str)]) -> Self {
        let root = tempfile::tempdir().unwrap();
        accord_node::demo::write_federation(root.path()).unwrap();
        Self::start_in(root, members)
    }

    /// Like [`Federation::start`], in a directory already holding the federation's files.
    pub(crate) fn start_in(
        root: tempfile::TempDir,
        members: &[(&'static str, &'static str)],
    ) -> Self {
        let free = accord_node::demo::free_loopback_ports(2 * members.len()).unwrap();
        let ports: BTreeMap<&str, Ports> = members
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
        for &(dir, agency) in members {
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
                args: vec![],
            });
        }
        for i in 0..fed.nodes.len() {
            fed.spawn(i);
        }
        for i in 0..fed.nodes.len() {
            let what = format!("the API of {} to answer", fed.nodes[i].agency);
            fed.wait_until(&what, |f| f.get(i, "/v1/status").0 == 200);
        }
        fed
    }

    /// Starts `accord run` for node `i` with its configuration (its stderr appended to its log).
    pub(crate) fn spawn(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        let open = |path: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["run", "--config", n.config.to_str().unwrap()])
            .args(&n.args)
            .env("RUST_LOG", "info")
            .env_remove("ACCORD_CONFIG")
            .stdin(Stdio::null())
            .stdout(open(&n.log.with_extension("stdout")))
            .stderr(open(&n.log))
            .spawn()
            .unwrap();
        n.child = Some(child);
    }

    /// Starts node `i` again (with its configuration as it is now) and waits for its API.
    pub(crate) fn restart(&mut self, i: usize) {
        self.spawn(i);
        let what = format!("the API of {} to answer again", self.nodes[i].agency);
        self.wait_until(&what, |f| f.get(i, "/v1/status").0 == 200);
    }

    /// Sends SIGTERM to node `i` and waits for it to exit.
    pub(crate) fn stop_one(&mut self, i: usize) -> ExitStatus {
        let n = &mut self.nodes[i];
        let mut child = n.child.take().unwrap();
        let pid = child.id().to_string();
        let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(kill.success(), "kill -TERM {pid} ({})", n.agency);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within {TIMEOUT:?} of SIGTERM",
                n.agency
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log (stderr) of node `i` so far.
    pub(crate) fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }

    pub(crate) fn node(&self, agency: &str) -> usize {
        self.nodes.iter().position(|n| n.agency == agency).unwrap()
    }

    pub(crate) fn config(&self, agency: &str) -> &str {
        self.nodes[self.node(agency)].config.to_str().unwrap()
    }

    /// Panics if a node has exited.
    pub(crate) fn check_alive(&mut self) {
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
    pub(crate) fn wait_until(&mut self, what: &str, mut cond: impl FnMut(&mut Self) -> bool) {
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

    pub(crate) fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent()
    }

    /// GET on node `i`'s API; status 0 when it does not answer.
    pub(crate) fn get(&self, i: usize, path: &str) -> (u16, Value) {
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

    /// GET on node `i`'s API as text, with the token or without; (status, body).
    pub(crate) fn get_text(&self, i: usize, path: &str, with_token: bool) -> (u16, String) {
        let n = &self.nodes[i];
        let mut req = Self::agent().get(format!("http://{}{path}", n.api));
        if with_token {
            req = req.header("Authorization", format!("Bearer {}", n.token));
        }
        let mut res = req.call().unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().unwrap())
    }

    /// POST a draft to node `i`'s API.
    pub(crate) fn post(&self, i: usize, draft: &Value) -> (u16, Value) {
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
    pub(crate) fn publish_cli(&self, agency: &str, draft: &Value) -> Output {
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
    pub(crate) fn ids_cli(&self, agency: &str) -> Vec<String> {
        let out = accord(&["query", "--config", self.config(agency), "--json", "--all"]);
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
    pub(crate) fn ids_api(&self, agency: &str) -> Vec<String> {
        let (status, body) = self.get(self.node(agency), "/v1/records?limit=1000");
        assert_eq!(status, 200, "GET /v1/records at {agency}: {body}");
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Sends SIGTERM to every running node and waits for each to exit.
    pub(crate) fn stop(&mut self) -> Vec<(&'static str, ExitStatus)> {
        let running: Vec<usize> = (0..self.nodes.len())
            .filter(|i| self.nodes[*i].child.is_some())
            .collect();
        running
            .into_iter()
            .map(|i| (self.nodes[i].agency, self.stop_one(i)))
            .collect()
    }
}

/// A name unique within this test run.
pub(crate) fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `REL-2026`, a bilateral agreement of TR-JGK and GR-HCG whose `[release]` clause requires
/// one releaser's approval of H2 and H3 records (two-person release's tests).
pub(crate) const REL_2026: &str = r#"id = "REL-2026"
title = "Sensitive reports"
kind = "bilateral"
members = ["GR-HCG", "TR-JGK"]
valid_from = 2026-01-01
valid_until = 2030-12-31
categories = ["alert", "route"]
most_permissive_handling = "H0"
retention_days = 1095
onward_sharing = "never"

[victim_data]
allowed = false

[focal_points.GR-HCG]
name = "Focal point of GR-HCG"
contact = "fp@gr-hcg.example"

[focal_points.TR-JGK]
name = "Focal point of TR-JGK"
contact = "fp@tr-jgk.example"

[release]
approvals = 1
handling = ["H2", "H3"]
"#;
