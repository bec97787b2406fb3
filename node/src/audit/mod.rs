//! Audit exports: what `accord audit export` writes and `accord audit verify` checks offline.
//!
//! An export is a directory holding everything an auditor needs to check a node's audit log
//! without the node: the log's exact entry bytes, the node's signed checkpoints of its head, the
//! partners' checkpoints it keeps, the delivery receipts its partners signed, the agency keys and
//! the agreement files. docs/auditing.md documents every file and byte.
//!
//! | file | content |
//! | --- | --- |
//! | `manifest.json` | agency, export time, entry count, head hash, every other file's SHA-256 |
//! | `log.jsonl` | one entry's exact canonical bytes per line, index 0 first |
//! | `checkpoints.txt` | the node's own signed checkpoints, one `Signed::to_line` per line |
//! | `partner-checkpoints.txt` | other agencies' signed checkpoints the node keeps |
//! | `partner-forks.txt` | partners' checkpoints that conflict with one held for the same count |
//! | `receipts.txt` | receipts other agencies signed for records this node pushed |
//! | `keys.json` | agency → `ed25519:…`, the node's own and every agency it knows |
//! | `key-history.json` | agency → its keys, each with the log entry from which it is in force |
//! | `agreements/<ID>.toml` | the exact bytes of each agreement file the node is party to |
//! | `agreements/<ID>.toml.sigs` | the members' signatures of it that the node holds |
//!
//! - [`export`] writes one from a store (after signing a fresh checkpoint of the head);
//! - [`verify_export`] checks one, optionally against partners' exports, and returns an
//!   [`AuditReport`].

mod chain;
mod export;
mod keys;
mod partners;
mod report;
mod verify;

pub use export::{
    Built, ExportError, ExportFile, ExportSummary, PartnerBuilt, build, build_partner_only,
    checkpoint, export, write,
};
pub use keys::{KeyHistory, KeyPeriod, history_of};
pub use report::{AuditNote, AuditProblem, AuditReport, PartnerSummary, kind_name};
pub use verify::{VERIFY_STEPS, verify_export, verify_export_with};

use accord_protocol::audit::Digest32;
use accord_protocol::{AgencyId, Timestamp};
use serde::{Deserialize, Serialize};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The log's file name.
pub const LOG: &str = "log.jsonl";
/// The own checkpoints' file name.
pub const CHECKPOINTS: &str = "checkpoints.txt";
/// The partners' checkpoints' file name.
pub const PARTNER_CHECKPOINTS: &str = "partner-checkpoints.txt";
/// The file of partners' conflicting checkpoints (fork evidence).
pub const PARTNER_FORKS: &str = "partner-forks.txt";
/// The key history's file name.
pub const KEY_HISTORY: &str = "key-history.json";
/// The receipts' file name.
pub const RECEIPTS: &str = "receipts.txt";
/// The keys' file name.
pub const KEYS: &str = "keys.json";
/// The directory of agreement files.
pub const AGREEMENTS: &str = "agreements";
/// The manifest's `format`.
pub const EXPORT_FORMAT: &str = "accord-audit-export";
/// The export format version written and read.
pub const EXPORT_VERSION: u32 = 2;

/// `manifest.json`: what the export claims. It is not signed; the checkpoint the export signed
/// (the last line of `checkpoints.txt`) vouches for `entries` and `head`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Always [`EXPORT_VERSION`].
    pub version: u32,
    /// The agency whose log this is.
    pub agency: AgencyId,
    /// When the export was written.
    pub exported_at: Timestamp,
    /// How many entries `log.jsonl` holds.
    pub entries: u64,
    /// The hash of the last entry (zeros when there is none).
    pub head: Digest32,
    /// Every other file of the export with its SHA-256, in the order written.
    pub files: Vec<ManifestFile>,
}

/// The manifest's `format` of a partner-only export.
pub const PARTNER_EXPORT_FORMAT: &str = "accord-partner-export";
/// The partner-only export format version written and read.
pub const PARTNER_EXPORT_VERSION: u32 = 1;

/// `manifest.json` of a partner-only export (`accord audit export --about AGENCY`): which
/// agency kept the checkpoints, whose they are, and its files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerManifest {
    /// Always [`PARTNER_EXPORT_FORMAT`].
    pub format: String,
    /// Always [`PARTNER_EXPORT_VERSION`].
    pub version: u32,
    /// The agency that kept the checkpoints and wrote the export.
    pub agency: AgencyId,
    /// The agency whose checkpoints they are: the one being audited.
    pub about: AgencyId,
    /// When the export was written.
    pub exported_at: Timestamp,
    /// Every other file of the export with its SHA-256.
    pub files: Vec<ManifestFile>,
}

/// One file of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Its path inside the export directory, `/`-separated.
    pub name: String,
    /// SHA-256 of its bytes.
    pub sha256: Digest32,
}

/// The `config` entry of a configuration: its agreements with their files' hashes, the known
/// agencies and their registered keys.
pub fn config_event(cfg: &accord_config::NodeConfig) -> accord_protocol::audit::AuditEvent {
    accord_protocol::audit::AuditEvent::Config {
        agreements: cfg
            .agreements
            .values()
            .map(|a| (a.id.clone(), Digest32(a.hash)))
            .collect(),
        agencies: cfg.agencies.keys().cloned().collect(),
        keys: cfg
            .agencies
            .values()
            .map(|a| (a.id.clone(), a.public_key))
            .collect(),
    }
}

/// Logs what a process acting for the agency takes on from its configuration, each when it is
/// new: the configuration (agreements, known agencies and their keys) and every signature of
/// this agency's own on an agreement file (a partner's arrives with its own entry). A node logs
/// them at start; the offline commands when they open the store.
pub fn log_configuration(
    store: &crate::store::Store,
    cfg: &accord_config::NodeConfig,
    now: Timestamp,
) -> Result<(), crate::store::StoreError> {
    store.log().audit_config(now, config_event(cfg))?;
    for a in cfg.agreements.values() {
        if let Some(sig) = a.signatures.get(&cfg.agency) {
            store.trust().keep_agreement_signature(
                now,
                (&a.id, &a.hash),
                &cfg.agency,
                &cfg.agency,
                sig,
                None,
            )?;
        }
    }
    Ok(())
}
