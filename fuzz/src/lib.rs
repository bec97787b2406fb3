//! The bodies of accord's fuzz targets, as plain functions: each takes arbitrary bytes, must not
//! panic on any input, and asserts the invariants that are cheap to check. The same source files
//! are compiled into stable tests (`protocol/tests/fuzz_corpus.rs`,
//! `config/tests/fuzz_corpus.rs`, `node/tests/fuzz_corpus.rs`) that replay `fuzz/corpus/` and `fuzz/regressions/`.

pub mod config_checks;
pub mod node_checks;
pub mod protocol_checks;
