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
//! | `receipts.txt` | receipts other agencies signed for records this node pushed |
//! | `keys.json` | agency → `ed25519:…`, the node's own and every agency it knows |
//! | `agreements/<ID>.toml` | the exact bytes of each agreement file the node is party to |
//!
//! - [`export`] writes one from a store (after signing a fresh checkpoint of the head);
//! - [`verify_export`] checks one, optionally against partners' exports, and returns an
//!   [`AuditReport`].

mod chain;
mod export;
mod partners;
mod report;
mod verify;

pub use export::{ExportError, ExportSummary, checkpoint, export};
pub use report::{AuditNote, AuditProblem, AuditReport, PartnerSummary};
pub use verify::verify_export;

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
/// The receipts' file name.
pub const RECEIPTS: &str = "receipts.txt";
/// The keys' file name.
pub const KEYS: &str = "keys.json";
/// The directory of agreement files.
pub const AGREEMENTS: &str = "agreements";
/// The manifest's `format`.
pub const EXPORT_FORMAT: &str = "accord-audit-export";
/// The export format version written and read.
pub const EXPORT_VERSION: u32 = 1;

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

/// One file of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Its path inside the export directory, `/`-separated.
    pub name: String,
    /// SHA-256 of its bytes.
    pub sha256: Digest32,
}
