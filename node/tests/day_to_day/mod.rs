//! Running a node day to day: routine work against a running node, the data directory kept
//! private, one retention rule, alarms in status, logs, notifications, paged lists, metrics —
//! each test named after what a new operator found (docs/operations.md). The helpers here; the
//! cases in `setup.rs`, `routine.rs`, `watching.rs` and `notify.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod notify;
mod routine;
mod setup;
mod watching;

use crate::common;

use std::path::Path;
use std::process::Command;

use common::text;

/// The permission bits of a path.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every path below `dir` whose mode is not 0700 (directories) or 0600 (files).
fn not_private(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        if mode(&path) != want {
            out.push(format!("{} {:04o}", path.display(), mode(&path)));
        }
        if path.is_dir() {
            out.extend(not_private(&path));
        }
    }
    out
}

/// `accord ARGS` under umask 022, as a shell with the usual umask would run it.
fn accord_umask_022(args: &[&str]) -> std::process::Output {
    let mut script = String::from("umask 022; exec \"$0\"");
    for (i, _) in args.iter().enumerate() {
        script.push_str(&format!(" \"${}\"", i + 1));
    }
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("ACCORD_CONFIG")
        .output()
        .unwrap()
}

/// The clause-7 statement of a text: the lines from `marker` up to the next blank line.
fn clause(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in the text"));
    text[start..].split("\n\n").next().unwrap().to_lowercase()
}

/// The members a running federation is made of in these tests.
const TR_GR: [(&str, &str); 2] = [("tr-jgk", "TR-JGK"), ("gr-hcg", "GR-HCG")];

fn vessel() -> serde_json::Value {
    serde_json::json!({
        "agreement": "QUAD-2026",
        "category": "vessel",
        "handling": "H1",
        "grading": "B2",
        "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729"}],
        "route": [{"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}],
        "summary": "Vessel seen loading passengers at night off the Aegean coast."
    })
}

/// Runs `accord ARGS`; panics with its output unless it exits 0; its stdout.
fn ok(args: &[&str]) -> String {
    let out = common::accord(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "accord {args:?}: {stdout}{stderr}");
    stdout
}

/// The JSON log lines of a log (other lines are skipped).
fn json_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect()
}

/// The value of the sample `name` (with its labels, as written) in a Prometheus text page.
fn sample(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

/// The notices a `[notify]` command appended to `file`, one JSON object per line.
fn notices(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A small HTTP server on loopback that answers 200 to every POST and keeps the bodies: its
/// URL, and the bodies received.
fn http_sink() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/accord", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            kept.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

fn text_of(o: &std::process::Output) -> (String, String) {
    text(o)
}

/// The `sh` blocks of docs/operations.md's walkthrough, in order.
fn walkthrough() -> String {
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md"),
    )
    .unwrap();
    let start = page
        .find("<!-- walkthrough")
        .expect("no walkthrough marker");
    let end = page.find("<!-- /walkthrough -->").expect("no end marker");
    let mut script = String::new();
    let mut open = false;
    for line in page[start..end].lines() {
        match (open, line.trim_end()) {
            (false, "```sh") => open = true,
            (true, "```") => open = false,
            (true, _) => {
                script.push_str(line);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(!open, "an unclosed ```sh block");
    script
}
