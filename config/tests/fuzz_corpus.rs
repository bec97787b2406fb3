//! The `config` fuzz target on stable: every file of `fuzz/corpus/config/` (the committed
//! seeds) and `fuzz/regressions/config/` (inputs the fuzzer found, kept after the fix) goes
//! through the target's own body, `fuzz/src/config_checks.rs`, compiled in here.
//! docs/fuzzing.md runs the real fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// the fuzz crate exports these (its targets call them): public there, unused-public here
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/config_checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

use accord_config::parse_agreement;

fn inputs(kind: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join("config");
    let Ok(entries) = std::fs::read_dir(&dir) else {
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
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn config_corpus_replays() {
    let seeds = inputs("corpus");
    assert!(seeds.len() >= 3, "fuzz/corpus/config/ lost its seeds");
    let regressions = inputs("regressions");
    for (path, bytes) in seeds.iter().chain(&regressions) {
        let outcome = std::panic::catch_unwind(|| checks::config(bytes));
        assert!(
            outcome.is_ok(),
            "{} fails the `config` target",
            path.display()
        );
    }
    println!(
        "config: {} seeds, {} regressions replayed",
        seeds.len(),
        regressions.len()
    );
    // The seeds reach the checks past the parser: the demo agreements they carry parse.
    let parsed = seeds
        .iter()
        .filter_map(|(_, b)| b.iter().position(|&c| c == 0).map(|i| &b[i + 1..]))
        .filter(|a| parse_agreement(Path::new("a.toml"), a).is_ok())
        .count();
    assert!(parsed >= 2, "only {parsed} seed agreements parse");
}

#[test]
fn the_check_passes_on_the_demo_files_and_garbage() {
    checks::config(checks::QUAD_AGREEMENT.as_bytes());
    for garbage in [
        &b""[..],
        b"\0",
        b"\xff\xfe",
        b"agency = \0[[",
        b"[api]\nbind = 3\n",
    ] {
        checks::config(garbage);
    }
}
