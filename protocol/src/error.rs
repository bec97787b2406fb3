//! Error types, one enum per operation family. Messages are lower-case and name the bad value.

use thiserror::Error;

/// A value that is not a valid identifier, time or vocabulary word.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// Not an assigned ISO 3166-1 alpha-2 code.
    #[error("invalid country code `{value}`: {reason}")]
    Country {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid `CC-UNIT` agency id.
    #[error("invalid agency id `{value}`: {reason}")]
    Agency {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid agreement id.
    #[error("invalid agreement id `{value}`: {reason}")]
    Agreement {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid record id.
    #[error("invalid record id `{value}`: {reason}")]
    Record {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid sequence number.
    #[error("invalid sequence number `{value}`: {reason}")]
    Seq {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a valid time or date.
    #[error("invalid time `{value}`: {reason}")]
    Time {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a word of a closed vocabulary.
    #[error("unknown {what} `{value}`; expected one of: {expected}")]
    Vocabulary {
        /// Which vocabulary.
        what: &'static str,
        /// The value given.
        value: String,
        /// The valid words.
        expected: String,
    },
    /// Not a usable public key.
    #[error("invalid public key `{value}`: {reason}")]
    Key {
        /// The value given (as written, or hex).
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A record that cannot be encoded, decoded or is not valid on its own.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// The bytes are not a record's JSON.
    #[error("malformed record JSON: {0}")]
    Malformed(String),
    /// The bytes are a record, but not in canonical form (RFC 8785 with accord's field rules).
    #[error("record bytes are not canonical JSON: {0}")]
    NonCanonical(String),
    /// A number that canonical JSON cannot carry exactly.
    #[error(
        "record JSON holds the number {0}; only integers of magnitude below 2^53 are allowed (write larger values as strings)"
    )]
    Number(String),
    /// A format version this node does not read.
    #[error("record format version {found} is not supported (this node reads version {supported})")]
    UnsupportedFormat {
        /// The version found.
        found: u32,
        /// The version supported.
        supported: u32,
    },
    /// A field with a bad value.
    #[error("record field `{field}`: {reason}")]
    Invalid {
        /// Path of the field, e.g. `subjects[2].imo`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The record is larger than any record may be.
    #[error("record is {size} bytes; at most {max} are allowed")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
}

/// Signed-envelope bytes that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnvelopeError {
    /// Fewer bytes than the layout needs.
    #[error("envelope truncated: needs {needed} bytes at offset {offset}, {available} left")]
    Truncated {
        /// Where the read started.
        offset: usize,
        /// How many bytes it needed.
        needed: usize,
        /// How many were there.
        available: usize,
    },
    /// The first bytes are not the envelope magic.
    #[error("not an accord signed envelope (magic {found:02x?}, expected {expected:02x?})")]
    Magic {
        /// What was found.
        found: [u8; 4],
        /// What was expected.
        expected: [u8; 4],
    },
    /// An envelope version this node does not read.
    #[error("envelope version {0} is not supported (this node reads versions 1 and 2)")]
    Version(u8),
    /// An unknown signer kind.
    #[error("signer kind {0} is not supported (1 = agency key, 2 = delegated key)")]
    SignerKind(u8),
    /// A signer key that is not a usable ed25519 key.
    #[error("signer key refused: {0}")]
    Key(#[from] IdError),
    /// The declared record length is 0: an envelope carries a record of at least one byte.
    #[error("record length is 0; an envelope carries a record of 1 to {max} bytes")]
    EmptyRecord {
        /// The largest record length allowed.
        max: usize,
    },
    /// The declared delegation certificate length is 0 (signer kind 2).
    #[error("delegation certificate length is 0; a certificate is 1 to {max} bytes")]
    EmptyCertificate {
        /// The largest certificate length allowed.
        max: usize,
    },
    /// A declared record or certificate length is above its maximum.
    #[error("{what} length {size} exceeds the maximum of {max} bytes")]
    TooLarge {
        /// `record` or `certificate` (or `envelope`, for an envelope in a wire frame).
        what: &'static str,
        /// Declared size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes after the record (version 1) or after the approvals (version 2).
    #[error("{0} unexpected bytes after the record")]
    Trailing(usize),
    /// A version-2 envelope's approvals are malformed.
    #[error("approvals: {0}")]
    Approvals(String),
}

/// Why a signed record was not accepted as verified.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The envelope bytes are malformed.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The record inside is malformed, non-canonical or invalid.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The originator is not a known agency, so its key is unknown.
    #[error("originator {0} is not a known agency; its key is not registered")]
    UnknownOriginator(String),
    /// The envelope names a key that is not the originator's registered agency key.
    #[error(
        "record of {originator} is signed with {signer}, which is not {originator}'s registered key {registered}"
    )]
    WrongKey {
        /// The record's originator.
        originator: String,
        /// The key the envelope names.
        signer: String,
        /// The originator's registered key.
        registered: String,
    },
    /// A delegated key's record refused: its certificate does not verify or is not for this
    /// key and agency, the record lies outside the certificate's scope, or the delegation was
    /// revoked before the record was created.
    #[error("record of {originator} signed by a delegated key is refused: {reason}")]
    Delegation {
        /// The record's originator.
        originator: String,
        /// Why.
        reason: String,
    },
    /// A releaser's approval the envelope carries is refused: malformed, not for this record
    /// and agreement, its certificate not the originator's releaser certificate covering the
    /// record, made by the record's signer, repeated, outside the certificate's window or
    /// after its revocation, or its signature does not verify (docs/protocol.md §13).
    #[error("approval {index} of record {id} of {originator} refused: {reason}")]
    Approval {
        /// The record's id.
        id: String,
        /// The record's originator.
        originator: String,
        /// Which approval, from 1.
        index: usize,
        /// Why.
        reason: String,
    },
    /// `verify_strict` refused the signature.
    #[error("signature does not verify (strict ed25519) for record {id} of {originator}")]
    BadSignature {
        /// The record id.
        id: String,
        /// The claimed originator.
        originator: String,
    },
}
