//! accord-node: the agency's node. The only crate of accord that does I/O.
//!
//! The binary `accord` (src/main.rs) is a thin shell over this library, so integration tests
//! can drive the same code in process.

pub mod agreements;
pub mod api;
pub mod audit;
pub mod bundle;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod console;
pub mod demo;
mod directory;
pub mod draft;
pub mod files;
pub mod matching;
pub mod metrics;
pub mod net;
mod notify;
pub mod ops;
mod page;
pub mod policy;
mod progress;
pub mod publish;
mod references;
pub mod release;
pub mod search;
pub mod store;
pub mod workflow;

/// Exit codes, documented in the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The input was checked and refused: an invalid configuration, a record that does not
    /// verify, a bundle with a failure.
    pub const REFUSED: u8 = 1;
    /// The command line was wrong (clap's own code).
    pub const USAGE: u8 = 2;
    /// The command could not do its work: a file unreadable or unwritable, a key missing.
    pub const FAILED: u8 = 3;
}

/// A refusal: the input was read and found wrong. Its message has been printed already.
#[derive(Debug)]
pub struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

impl std::error::Error for Refused {}
