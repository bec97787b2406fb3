//! Body of the `config` fuzz target.
//!
//! This file is also compiled into `config/tests/fuzz_corpus.rs` (with `#[path]`), so it uses
//! only `accord-config`, `accord-protocol`, `sha2`, `hex` and the standard library.

use std::io;
use std::path::Path;

use accord_config::{ConfigErrors, load_node, parse_agreement};
use sha2::{Digest, Sha256};

/// The agreement the node file's agreements read as when the input holds none.
pub const QUAD_AGREEMENT: &str = include_str!("../../examples/quad/agreements/quad-2026.toml");
/// What any listed `tr-bg-2026.toml` reads as.
pub const TR_BG_AGREEMENT: &str = include_str!("../../examples/quad/agreements/tr-bg-2026.toml");

const NODE_PATH: &str = "/fuzz/tr-jgk/node.toml";
const AGREEMENT_PATH: &str = "/fuzz/agreements/fuzzed.toml";

/// `config`: the input is a node file, optionally followed by a zero byte and an agreement
/// file (`node.toml \0 agreement.toml`). The agreement bytes go through `parse_agreement`;
/// the node file through `load_node`, whose reader serves the node bytes for the node file,
/// the demo `tr-bg-2026.toml` for any file of that name, the agreement bytes (the demo
/// `quad-2026.toml` when the input has no zero byte) for every other `.toml` file, and
/// "not found" for anything else.
///
/// Checked: nothing panics; an error list is never empty, every error displays, and its
/// position lies inside the file it names; an agreement's hash is SHA-256 of its exact bytes;
/// loaded configurations summarise.
pub fn config(data: &[u8]) {
    let (node, agreement) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, QUAD_AGREEMENT.as_bytes()),
    };

    match parse_agreement(Path::new(AGREEMENT_PATH), agreement) {
        Ok(a) => {
            assert_eq!(a.hash_hex(), hex::encode(Sha256::digest(agreement)));
            let _ = a.summary();
        }
        Err(errors) => check_errors(&errors, &[(AGREEMENT_PATH, agreement)]),
    }

    let read = |path: &Path| -> io::Result<Vec<u8>> {
        if path == Path::new(NODE_PATH) {
            Ok(node.to_vec())
        } else if path.extension().is_none_or(|e| e != "toml") {
            // Any other kind of file (an agreement's signature file, say) is absent.
            Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
        } else if path.file_name().is_some_and(|n| n == "tr-bg-2026.toml") {
            Ok(TR_BG_AGREEMENT.as_bytes().to_vec())
        } else {
            Ok(agreement.to_vec())
        }
    };
    match load_node(Path::new(NODE_PATH), &read) {
        Ok(config) => {
            let _ = config.summary();
            for a in config.agreements.values() {
                let bytes = read(&a.path).unwrap_or_default();
                assert_eq!(
                    a.hash_hex(),
                    hex::encode(Sha256::digest(&bytes)),
                    "agreement hash of {}",
                    a.path.display()
                );
            }
        }
        Err(errors) => check_errors(&errors, &[(NODE_PATH, node)]),
    }
}

/// An error list is non-empty; each error displays; an error in a file whose bytes are known
/// points at a line and column inside it.
fn check_errors(errors: &ConfigErrors, files: &[(&str, &[u8])]) {
    assert!(!errors.is_empty(), "an empty error list");
    let _ = errors.to_string();
    for e in errors {
        let _ = e.to_string();
        if e.line == 0 {
            assert_eq!(e.col, 0, "column without a line: {e}");
            continue;
        }
        assert!(e.col >= 1, "line without a column: {e}");
        let Some((_, bytes)) = files.iter().find(|(p, _)| Path::new(p) == e.path) else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(
            e.line <= lines.len(),
            "line {} of a {}-line file: {e}",
            e.line,
            lines.len()
        );
        let chars = lines[e.line - 1].chars().count();
        assert!(
            e.col <= chars + 1,
            "column {} of a {chars}-character line: {e}",
            e.col
        );
    }
}
