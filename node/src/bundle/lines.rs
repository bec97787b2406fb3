//! The lines of a bundle as serde types: one variant per `type`.

use accord_protocol::rotation::RotationFile;
use accord_protocol::{AgencyId, AgreementId, PublicKey, RecordId, Timestamp};
use serde::{Deserialize, Serialize};

use super::{BundleTombstone, hex32};

/// One line of a bundle. In JSON an object whose `type` names the variant, written first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum Line {
    /// The first line.
    #[serde(rename = "accord-bundle")]
    Header(HeaderLine),
    /// The second line: the agreement file.
    #[serde(rename = "agreement")]
    Agreement(AgreementLine),
    /// One member's public key.
    #[serde(rename = "key")]
    Key(KeyLine),
    /// One key rotation of a member (version 2).
    #[serde(rename = "rotation")]
    Rotation(RotationFile),
    /// One revocation of a member's delegation certificate (version 2).
    #[serde(rename = "revocation")]
    Revocation(RevocationLine),
    /// One signed record.
    #[serde(rename = "record")]
    Record(RecordLine),
    /// One purged record's tombstone.
    #[serde(rename = "tombstone")]
    Tombstone(BundleTombstone),
    /// The exporting agency's signature of every line before it, last (version 2).
    #[serde(rename = "signature")]
    Signature(SignatureLine),
}

impl Line {
    /// The line's `type`.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Line::Header(_) => Kind::Header,
            Line::Agreement(_) => Kind::Agreement,
            Line::Key(_) => Kind::Key,
            Line::Rotation(_) => Kind::Rotation,
            Line::Revocation(_) => Kind::Revocation,
            Line::Record(_) => Kind::Record,
            Line::Tombstone(_) => Kind::Tombstone,
            Line::Signature(_) => Kind::Signature,
        }
    }
}

/// The kinds of line, in the order they appear in a bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Header,
    Agreement,
    Key,
    Rotation,
    Revocation,
    Record,
    Tombstone,
    Signature,
}

impl Kind {
    /// Every kind, in bundle order.
    pub(crate) const ALL: [Kind; 8] = [
        Kind::Header,
        Kind::Agreement,
        Kind::Key,
        Kind::Rotation,
        Kind::Revocation,
        Kind::Record,
        Kind::Tombstone,
        Kind::Signature,
    ];

    /// Whether a bundle of `version` may hold this kind of line.
    pub(crate) fn in_version(self, version: u32) -> bool {
        version >= 2 || !matches!(self, Kind::Rotation | Kind::Revocation | Kind::Signature)
    }

    /// The line's `type` value.
    pub(crate) fn type_value(self) -> &'static str {
        match self {
            Kind::Header => "accord-bundle",
            Kind::Agreement => "agreement",
            Kind::Key => "key",
            Kind::Rotation => "rotation",
            Kind::Revocation => "revocation",
            Kind::Record => "record",
            Kind::Tombstone => "tombstone",
            Kind::Signature => "signature",
        }
    }

    /// The line's name in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Header => "header",
            Kind::Agreement => "agreement",
            Kind::Key => "key",
            Kind::Rotation => "rotation",
            Kind::Revocation => "revocation",
            Kind::Record => "record",
            Kind::Tombstone => "tombstone",
            Kind::Signature => "signature",
        }
    }

    /// The line's name with "line", for messages about a malformed line.
    pub(crate) fn line_name(self) -> &'static str {
        match self {
            Kind::Header => "header line",
            Kind::Agreement => "agreement line",
            Kind::Key => "key line",
            Kind::Rotation => "rotation line",
            Kind::Revocation => "revocation line",
            Kind::Record => "record line",
            Kind::Tombstone => "tombstone line",
            Kind::Signature => "signature line",
        }
    }
}

/// The header: what the bundle holds and who made it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderLine {
    pub(crate) version: u32,
    pub(crate) agreement: AgreementId,
    pub(crate) exported_by: AgencyId,
    pub(crate) exported_at: Timestamp,
    pub(crate) records: u64,
    pub(crate) tombstones: u64,
    /// How many rotation lines (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rotations: Option<u64>,
    /// How many revocation lines (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revocations: Option<u64>,
}

/// The agreement file's exact bytes and their SHA-256.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgreementLine {
    #[serde(with = "hex32")]
    pub(crate) sha256: [u8; 32],
    /// Standard base64 of the file's bytes.
    pub(crate) file: String,
    /// The members' signatures of the file, by agency id.
    pub(crate) signatures: Vec<AgreementSignatureLine>,
}

/// One member's signature of the agreement file (docs/protocol.md §8).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgreementSignatureLine {
    pub(crate) agency: AgencyId,
    /// 128 hex digits.
    pub(crate) signature: String,
}

/// A member's public key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyLine {
    pub(crate) agency: AgencyId,
    pub(crate) public_key: PublicKey,
}

/// A signed record: its id and its envelope's exact bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordLine {
    pub(crate) id: RecordId,
    /// Standard base64 of the envelope bytes. Decoded when the record is checked, so that a
    /// bad envelope fails its record rather than the bundle.
    pub(crate) envelope: String,
}

/// A revocation of a delegation certificate, as its agency signed it (docs/protocol.md §10).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevocationLine {
    /// The revocation's canonical JSON, as a string.
    pub(crate) revocation: String,
    /// 128 hex digits: the agency's signature over `accord/revocation/v1` 00 ‖ the bytes.
    pub(crate) signature: String,
}

/// The exporting agency's signature of the bundle.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignatureLine {
    /// The exporting agency (the header's `exported_by`).
    pub(crate) agency: AgencyId,
    /// SHA-256 of every byte of the bundle before this line.
    #[serde(with = "hex32")]
    pub(crate) sha256: [u8; 32],
    /// 128 hex digits: the agency's signature over `accord/bundle/v2` 00 ‖ the 32 bytes.
    pub(crate) signature: String,
}

/// Reads only a line's `type`, to tell an unknown type from a malformed line.
#[derive(Deserialize)]
pub(crate) struct TypeProbe {
    #[serde(rename = "type")]
    pub(crate) kind: String,
}
