//! The suites of two or more nodes in one process, one module each, in one test binary
//! (CONTRIBUTING.md, "Where a test goes"). `flood` is a binary of its own: it measures this
//! process's resident memory, which other suites running beside it would disturb.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adversary;
mod audit_mesh;
mod batches;
mod consistency;
mod delegation;
mod example_federation;
mod federation;
mod matching;
mod random_federation;
mod release;
mod resilience;
mod signatures;
