//! The `frame` and `bundle` fuzz targets on stable: every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the targets' own bodies,
//! `fuzz/src/node_checks.rs`, compiled in here. docs/fuzzing.md runs the real fuzzers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// the fuzz crate exports these (its targets call them): public there, unused-public here
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/node_checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::{Path, PathBuf};

use accord_protocol::{Message, Timestamp};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

fn replay(target: &str, check: fn(&[u8])) -> Vec<Vec<u8>> {
    let seeds = inputs("corpus", target);
    assert!(!seeds.is_empty(), "fuzz/corpus/{target}/ holds no seed");
    for (path, bytes) in seeds.iter().chain(&inputs("regressions", target)) {
        let outcome = std::panic::catch_unwind(|| check(bytes));
        assert!(
            outcome.is_ok(),
            "{} fails the `{target}` target",
            path.display()
        );
    }
    seeds.into_iter().map(|(_, b)| b).collect()
}

#[test]
fn frame_corpus_replays() {
    let seeds = replay("frame", checks::frame);
    assert!(seeds.len() >= 4);
}

#[test]
fn bundle_corpus_replays() {
    let seeds = replay("bundle", checks::bundle);
    let verified = seeds
        .iter()
        .filter(|s| accord_node::bundle::verify_bundle(s).is_ok())
        .count();
    assert!(verified >= 1, "no bundle seed verifies");
}

/// A length prefix, then bytes.
fn prefixed(len: u32, body: &[u8]) -> Vec<u8> {
    let mut v = len.to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// The seeds are what the code makes today (fixed keys and times); with
/// `ACCORD_WRITE_FUZZ_SEEDS=1` they are (re)written instead.
#[test]
fn seed_corpus_is_current() {
    let rewrite = std::env::var_os("ACCORD_WRITE_FUZZ_SEEDS").is_some();
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz_dir().join("corpus").join(target);
        if rewrite {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), bytes).unwrap();
        } else {
            let held = std::fs::read(dir.join(name)).unwrap_or_default();
            assert!(
                held == bytes,
                "fuzz/corpus/{target}/{name} is stale; regenerate with ACCORD_WRITE_FUZZ_SEEDS=1"
            );
        }
    };
    // frames as a peer's stream brings them: whole, cut off, too large, no prefix
    let status = Message::SyncStatus(accord_protocol::wire::SyncStatus {
        agreements: vec![],
        checkpoint: None,
        revocations: vec![],
    })
    .encode()
    .unwrap();
    write("frame", "whole", &prefixed(status.len() as u32, &status));
    write("frame", "cut-off", &prefixed(100, &[7; 10]));
    write("frame", "too-large", &prefixed(u32::MAX, &[1, 2, 3]));
    write("frame", "short-prefix", &[0, 0, 1]);

    // a bundle of two records, exported at a fixed time from a copy of examples/quad
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    let path = dir.path().join("tr-jgk/node.toml");
    let mut cfg = accord_config::load_node(&path, &|p: &Path| std::fs::read(p)).unwrap();
    let key = accord_node::files::read_key(&cfg.key_file).unwrap();
    let store = accord_node::store::Store::open(&cfg.data_dir).unwrap();
    accord_node::agreements::prepare(&mut cfg, Some(&key.public_key()), Some(&store)).unwrap();
    let at = Timestamp::parse("2026-11-28T10:00:00Z").unwrap();
    for summary in ["A boat leaves tonight.", "A second boat."] {
        let draft = accord_node::draft::parse_draft(
            format!(
                r#"{{"agreement": "QUAD-2026", "category": "alert", "handling": "H1", "grading": "B2", "summary": "{summary}"}}"#
            )
            .as_bytes(),
        )
        .unwrap();
        accord_node::publish::publish_draft(&store, &cfg, &key, &draft, at).unwrap();
    }
    let bundle =
        accord_node::ops::bundle::export(&store, &cfg, &key, "QUAD-2026", at.plus_secs(60))
            .unwrap();
    assert!(accord_node::bundle::verify_bundle(&bundle.bytes).is_ok());
    write("bundle", "two-records", &bundle.bytes);
}

#[test]
fn the_checks_pass_on_garbage() {
    for garbage in [
        &b""[..],
        b"\x00\x00\x00\x05abc",
        b"{\"type\":\"header\"}\n",
        b"\xff\xff",
    ] {
        checks::frame(garbage);
        checks::bundle(garbage);
    }
}
