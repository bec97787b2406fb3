//! The node's integration suites, one module each, in one test binary (CONTRIBUTING.md, "Where a
//! test goes"): tests of one node in process, and those that run the `accord` binary (the CLI,
//! the federation of `accord run` processes, the crash suite). `fuzz_corpus` is a binary of its
//! own: it includes the fuzz crate's checks by path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod agreement;
mod api;
mod audit;
mod auditor;
mod bundle;
mod bundle_release;
mod cli;
mod console;
mod crash;
mod day_to_day;
mod delegate;
mod demo;
mod processes;
mod records_doc;
mod search;
mod store_cli;
mod workflows;
