//! Bundles: what `accord export` writes and `accord verify` checks offline.
//!
//! A bundle is JSON lines (UTF-8, one object per line) carrying everything an auditor needs to
//! check the records of one agreement without a node: the agreement file's exact bytes, every
//! member's public key, every record's signed envelope (exact bytes) and a tombstone for every
//! purged record. docs/bundle.md documents the format line by line.
//!
//! - [`write_bundle`] writes one from what the store holds;
//! - [`verify_bundle`] checks one and returns a [`BundleReport`]: problems with the bundle as a
//!   whole, a verdict per record, and the gaps in each originator's sequence.

mod lines;
mod report;
mod verify;
mod write;

pub use report::{
    ApprovalShown, BundleHeader, BundleProblem, BundleReport, Gap, KeyPeriod, RecordFailure,
    RecordVerdict, RevokedCertificate,
};
pub use verify::{verify_bundle, verify_bundle_with};
pub use write::{BundleWriteError, Export, write_bundle};

use accord_protocol::canonical::decode_record;
use accord_protocol::{
    AgencyId, AgreementId, Envelope, RecordError, RecordId, Seq, StreamId, Timestamp,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `type` of a bundle's first line.
pub const BUNDLE_TYPE: &str = "accord-bundle";
/// The bundle format version written. Version 1 bundles (no stream in tombstones, no key
/// history, no revocations, unsigned) are still read.
pub const BUNDLE_VERSION: u32 = 2;
/// The oldest version read.
pub const OLDEST_BUNDLE_VERSION: u32 = 1;
/// Domain tag of the exporting agency's signature of a bundle: ASCII `accord/bundle/v2` and a
/// zero byte, followed by the 32 bytes of the SHA-256 of every line before the signature line.
pub const BUNDLE_DOMAIN: &[u8] = b"accord/bundle/v2\0";
/// Longest line read, in bytes. A record line needs at most about 88 KiB (a 65,642-byte
/// envelope in base64); the agreement line carries the whole agreement file.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// The name the bundled agreement file goes by in its error messages.
pub const AGREEMENT_FILE_NAME: &str = "bundled-agreement.toml";

/// A purged record's tombstone: it proves the record existed, with which sequence number and
/// which exact bytes, after the bytes themselves were removed at the end of the agreement's
/// retention. It is written by the exporting node, not signed by the originator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleTombstone {
    /// The purged record's id.
    pub id: RecordId,
    /// The agreement it was shared under.
    pub agreement: AgreementId,
    /// Its originator.
    pub originator: AgencyId,
    /// Its sequence number.
    pub seq: Seq,
    /// Its sequence stream: the originator's own key (`AGENCY`) or a key it delegated
    /// (`AGENCY/<16 hex>`). Required from version 2; version-1 tombstones lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamId>,
    /// SHA-256 of the purged envelope's exact bytes.
    #[serde(with = "hex32")]
    pub envelope_sha256: [u8; 32],
    /// When it was purged.
    pub purged_at: Timestamp,
    /// Why it was purged, e.g. `retention of QUAD-2026 (1095 days) ended`.
    pub reason: String,
}

impl BundleTombstone {
    /// The tombstone of `envelope`, purged at `purged_at` for `reason`.
    pub fn of(
        envelope: &Envelope,
        purged_at: Timestamp,
        reason: impl Into<String>,
    ) -> Result<Self, RecordError> {
        let record = decode_record(envelope.record_bytes())?;
        let stream = envelope.stream_of(&record);
        Ok(Self {
            id: envelope.id(),
            agreement: record.agreement,
            stream: Some(stream),
            originator: record.originator,
            seq: record.seq,
            envelope_sha256: sha256(&envelope.encode()),
            purged_at,
            reason: reason.into(),
        })
    }
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Serde for a SHA-256 digest as 64 lower-case hex digits.
pub(crate) mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub(crate) fn serialize<S: Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(digest))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "`{text}` is not a SHA-256 digest (64 lower-case hex digits)"
            ))
        })
    }

    /// Parses 64 lower-case hex digits.
    pub(crate) fn parse(text: &str) -> Option<[u8; 32]> {
        let lower_hex = text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if text.len() != 64 || !lower_hex {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(out)
    }
}
