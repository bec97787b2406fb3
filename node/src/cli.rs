//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// accord: share signed intelligence on people smuggling and trafficking with exactly the
/// agencies your agreements name.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate an agency key (ed25519) into a new file with mode 0600.
    Keygen {
        /// The key file to create; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Work with the node's configuration.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Sign and verify records as files, without a node.
    Record {
        /// What to do.
        #[command(subcommand)]
        command: RecordCommand,
    },
}

/// `accord config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a node configuration and every agreement it names; print a summary or every
    /// problem with its file:line:col.
    Check {
        /// The node's configuration file (TOML).
        file: PathBuf,
    },
}

/// `accord record …`
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Sign a complete record (JSON, with its seq) with an agency key and write the signed
    /// envelope file.
    Sign {
        /// The record, as JSON (any layout; it is signed in canonical form).
        record: PathBuf,
        /// The agency secret key file.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signed record; default: the record's path with `.signed.json`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a signed record file: layout, canonical bytes, originator's key, strict
    /// signature. Prints the record and exits non-zero if anything fails.
    Verify {
        /// The signed record file written by `accord record sign`.
        signed: PathBuf,
        /// A node configuration whose known agencies (and own key) provide the keys.
        #[arg(long, required_unless_present = "public_key")]
        config: Option<PathBuf>,
        /// The originator's public key (`ed25519:` and 64 hex digits), instead of --config.
        #[arg(long, conflicts_with = "config")]
        public_key: Option<String>,
        /// Print the verified record as canonical JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
}
