//! The Bali Process workflows through the CLI, on private copies of the demo federation:
//! requests for information and their answers, victims' return cases, the routes report.
//! A partner's record "arrives" by being signed (or copied) and inserted through the library,
//! as the receive path would store it. The helpers here; the cases by workflow beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod requests;
mod returns;
mod routes;
mod running;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use accord_node::draft::parse_draft;
use accord_node::store::{Source, Store};
use accord_protocol::record::ReturnStatus;
use accord_protocol::{
    AgencyId, Category, RecordId, SecretKey, Seq, Timestamp, VictimPurpose, sign, verify,
};

/// Runs the CLI. sled releases the lock of a store this test process opened and dropped a
/// moment later, from its background thread; meanwhile the CLI finds the store locked and no
/// node's API to fall back on (exit 3). That, and only that, is retried, for at most 10 s.
fn accord(args: &[&str]) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let o = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("ACCORD_CONFIG")
            .output()
            .unwrap();
        let locked = o.status.code() == Some(3)
            && String::from_utf8_lossy(&o.stderr).contains("is locked by another process");
        if !locked || std::time::Instant::now() >= deadline {
            return o;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `accord`, asserts success, returns stdout.
fn ok(args: &[&str]) -> String {
    let o = accord(args);
    let (stdout, stderr) = out(&o);
    assert!(
        o.status.success(),
        "accord {args:?} failed: {stdout}{stderr}"
    );
    stdout
}

/// Runs `accord`, asserts it is refused (exit 1) with `expected` in the message and nothing on
/// stdout; returns stderr.
fn refused(args: &[&str], expected: &str) -> String {
    let o = accord(args);
    let (stdout, stderr) = out(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "accord {args:?}: {stdout}{stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in: {stderr}"
    );
    assert!(stdout.is_empty(), "printed on refusal: {stdout}");
    stderr
}

fn federation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    dir
}

fn config(fed: &Path, agency: &str) -> String {
    fed.join(agency).join("node.toml").display().to_string()
}

fn agency(dir: &str) -> AgencyId {
    AgencyId::new(&dir.to_ascii_uppercase()).unwrap()
}

fn secret(fed: &Path, dir: &str) -> SecretKey {
    SecretKey::from_key_file(&std::fs::read_to_string(fed.join(dir).join("agency.key")).unwrap())
        .unwrap()
}

fn store(fed: &Path, dir: &str) -> Store {
    // The CLI run just before may still be releasing the store's lock.
    Store::open_waiting(
        &fed.join(dir).join("data"),
        std::time::Duration::from_secs(10),
    )
    .unwrap()
}

fn now() -> Timestamp {
    accord_node::clock::now()
}

/// Signs `draft` as the agency in directory `from` with `seq` and `created`, and stores it at
/// `at` as received from `from`.
fn receive_signed(
    fed: &Path,
    at: &str,
    from: &str,
    draft: &str,
    seq: u64,
    created: Timestamp,
) -> RecordId {
    let key = secret(fed, from);
    let originator = agency(from);
    let record = parse_draft(draft.as_bytes())
        .unwrap()
        .into_record(&originator, Seq::new(seq).unwrap(), created)
        .unwrap();
    let dir: BTreeMap<_, _> = [(originator.clone(), key.public_key())].into();
    let verified = verify(sign(&record, &key).unwrap(), &dir).unwrap();
    let s = store(fed, at);
    s.records()
        .insert_batch(
            std::slice::from_ref(&verified),
            &Source::Peer(originator),
            now(),
        )
        .unwrap();
    s.flush().unwrap();
    verified.id
}

/// Copies record `id` from `from`'s store into `to`'s, as delivery would.
fn deliver(fed: &Path, from: &str, to: &str, id: &str) {
    let id = RecordId::new(id).unwrap();
    let envelope = store(fed, from)
        .records()
        .get(&id)
        .unwrap()
        .unwrap()
        .envelope;
    let originator = agency(from);
    let dir: BTreeMap<_, _> = [(originator.clone(), secret(fed, from).public_key())].into();
    let verified = verify(envelope, &dir).unwrap();
    let s = store(fed, to);
    s.records()
        .insert_batch(&[verified], &Source::Peer(originator), now())
        .unwrap();
    s.flush().unwrap();
}

fn record(fed: &Path, at: &str, id: &str) -> accord_protocol::Record {
    store(fed, at)
        .records()
        .get(&RecordId::new(id).unwrap())
        .unwrap()
        .unwrap()
        .record
}

fn count(fed: &Path, at: &str) -> usize {
    store(fed, at).records().len()
}

fn publish(fed: &Path, at: &str, draft: &str) -> String {
    let file = fed.join(format!("draft-{}.json", count(fed, at)));
    std::fs::write(&file, draft).unwrap();
    ok(&[
        "publish",
        "--config",
        &config(fed, at),
        file.to_str().unwrap(),
    ])
    .trim()
    .to_owned()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

const VICTIM: &str = r#"{
  "ref": "V1",
  "name": "Example Rahimi",
  "aliases": ["Rahi"],
  "date_of_birth": "2009-03",
  "place_of_birth": "Example Town",
  "nationality": "PK",
  "documents": [{"kind": "identity-card", "number": "00000-0000000-1", "issuing_country": "PK"}],
  "description": "Unaccompanied minor in the care of child protection services."
}"#;
