//! What verifying a bundle found: [`BundleReport`] and its parts.
//!
//! Why one long file: it is one room, the report's types and how each is printed and written
//! as JSON for `accord verify`.

use std::collections::BTreeMap;
use std::fmt;

use accord_config::ConfigErrors;
use accord_protocol::{
    AgencyId, AgreementId, EnvelopeError, PublicKey, RecordError, RecordId, Seq, StreamId,
    Timestamp, VerifyError,
};
use thiserror::Error;

use crate::policy::DenyReason;

/// The bundle's header line, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleHeader {
    /// The bundle format version.
    pub version: u32,
    /// The agreement the bundle holds records of.
    pub agreement: AgreementId,
    /// The agency whose node wrote it; from version 2 it signs the bundle.
    pub exported_by: AgencyId,
    /// When it was written (informative).
    pub exported_at: Timestamp,
    /// How many record lines it says it holds.
    pub records: u64,
    /// How many tombstone lines it says it holds.
    pub tombstones: u64,
}

/// A problem with the bundle as a whole. Any one makes the bundle fail, whatever the records'
/// verdicts. Line numbers count from 1.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BundleProblem {
    /// No bytes at all.
    #[error("the bundle is empty; its first line must be the header")]
    Empty,
    /// A line longer than any bundle line may be.
    #[error("line {line}: {len} bytes; a bundle line is at most {max} bytes")]
    LineTooLong {
        /// The line.
        line: usize,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A line that is not a JSON object of its type.
    #[error("line {line}: malformed {what}: {reason}")]
    Malformed {
        /// The line.
        line: usize,
        /// `line`, or the kind of line when its `type` was read.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A line ending in CR LF.
    #[error("line {line}: ends in CR LF; bundle lines end in LF alone")]
    LineEnding {
        /// The line.
        line: usize,
    },
    /// A line whose first member is not `type`.
    #[error("line {line}: `type` is not the object's first member")]
    TypeNotFirst {
        /// The line.
        line: usize,
    },
    /// A kind of line that the bundle's version does not have.
    #[error("line {line}: a {found} line has no place in a version-{version} bundle")]
    NotInVersion {
        /// The line.
        line: usize,
        /// The kind of line.
        found: &'static str,
        /// The bundle's version.
        version: u32,
    },
    /// Lines of one kind out of their sort order.
    #[error("line {line}: the {what} lines are not sorted {rule}")]
    Unsorted {
        /// The first line out of order.
        line: usize,
        /// The kind of line.
        what: &'static str,
        /// The order they must follow.
        rule: &'static str,
    },
    /// A key rotation that cannot be accepted, or a member's rotations that do not chain.
    #[error("line {line}: key rotation{}: {reason}", agency.as_ref().map(|a| format!(" of {a}")).unwrap_or_default())]
    Rotation {
        /// The line.
        line: usize,
        /// The agency whose key it rotates, when it could be read.
        agency: Option<AgencyId>,
        /// What is wrong.
        reason: String,
    },
    /// A revocation that cannot be accepted.
    #[error("line {line}: revocation: {reason}")]
    Revocation {
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A version-2 bundle without its signature line.
    #[error(
        "the bundle has no signature line: a version-2 bundle ends with the exporting agency's \
         signature, so lines may have been removed from its end"
    )]
    Unsigned,
    /// The exporting agency's signature of the bundle does not hold.
    #[error("line {line}: the bundle's signature: {reason}")]
    BundleSignature {
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A tombstone whose stream is missing or not its originator's.
    #[error("line {line}: tombstone: {reason}")]
    TombstoneStream {
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A line whose `type` is not one of the bundle's.
    #[error(
        "line {line}: unknown line type `{found}`; expected one of: accord-bundle, agreement, \
         key, rotation, revocation, record, tombstone, signature"
    )]
    UnknownType {
        /// The line.
        line: usize,
        /// The type found.
        found: String,
    },
    /// A line out of the order header, agreement, keys, rotations, revocations, records,
    /// tombstones, signature.
    #[error(
        "line {line}: {found} line {problem}; a bundle's lines are the header, the agreement, \
         the keys, the rotations, the revocations, the records, the tombstones, then the \
         signature"
    )]
    Order {
        /// The line.
        line: usize,
        /// The kind of line found there.
        found: &'static str,
        /// What is out of order.
        problem: String,
    },
    /// No header line.
    #[error("the bundle has no header line (`{{\"type\":\"accord-bundle\",…}}` first)")]
    MissingHeader,
    /// A header of another version.
    #[error(
        "line 1: bundle format version {found} is not supported (this verifier reads version {supported})"
    )]
    UnsupportedVersion {
        /// The version found.
        found: u32,
        /// The version read.
        supported: u32,
    },
    /// No agreement line.
    #[error("the bundle has no agreement line")]
    MissingAgreement,
    /// The agreement file is not standard base64.
    #[error("line {line}: the agreement `file` is not standard base64: {reason}")]
    AgreementEncoding {
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The agreement file does not hash to the stated digest: it was altered.
    #[error(
        "line {line}: the agreement file's SHA-256 is {actual}, not the stated {stated}; the \
         file was altered"
    )]
    AgreementHash {
        /// The line.
        line: usize,
        /// The digest the line states.
        stated: String,
        /// The digest of the bytes it carries.
        actual: String,
    },
    /// The agreement file is not a valid agreement.
    #[error("line {line}: the agreement file is not a valid agreement:\n{errors}")]
    AgreementInvalid {
        /// The line.
        line: usize,
        /// Every problem in the file.
        errors: ConfigErrors,
    },
    /// The header names another agreement than the file.
    #[error(
        "line 1: the header names agreement {header}, but the bundled file is agreement {file}"
    )]
    AgreementMismatch {
        /// The agreement the header names.
        header: AgreementId,
        /// The agreement the file defines.
        file: AgreementId,
    },
    /// A signature of the agreement file that is not a member's valid signature.
    #[error("line {line}: the signature of {agency} on the agreement file {reason}")]
    AgreementSignature {
        /// The line.
        line: usize,
        /// Whose signature it claims to be.
        agency: AgencyId,
        /// What is wrong with it.
        reason: String,
    },
    /// Not every member signed the agreement file: it never took effect.
    #[error(
        "the agreement file lacks the signature of {}: it has not taken effect, so nothing \
         could be shared under it",
        missing.iter().map(AgencyId::as_str).collect::<Vec<_>>().join(", ")
    )]
    AgreementNotSigned {
        /// The members whose signature is missing.
        missing: Vec<AgencyId>,
    },
    /// A key for an agency that is not a member.
    #[error("line {line}: key for {agency}, which is not a member of agreement {agreement}")]
    KeyForNonMember {
        /// The line.
        line: usize,
        /// The agency.
        agency: AgencyId,
        /// The agreement.
        agreement: AgreementId,
    },
    /// Two keys for one agency.
    #[error("line {line}: a second key for {agency} (the first is on line {first})")]
    DuplicateKey {
        /// The line.
        line: usize,
        /// The agency.
        agency: AgencyId,
        /// The line of the first.
        first: usize,
    },
    /// A member without a key.
    #[error("no key for {agency}, a member of agreement {agreement}")]
    MissingKey {
        /// The member.
        agency: AgencyId,
        /// The agreement.
        agreement: AgreementId,
    },
    /// Two record lines with one id.
    #[error("line {line}: record {id} is listed twice (first on line {first})")]
    DuplicateRecord {
        /// The line.
        line: usize,
        /// The id.
        id: RecordId,
        /// The line of the first.
        first: usize,
    },
    /// A tombstone of another agreement.
    #[error("line {line}: tombstone {id} is of agreement {found}, not of the bundled {agreement}")]
    TombstoneAgreement {
        /// The line.
        line: usize,
        /// The tombstone's record id.
        id: RecordId,
        /// The agreement it names.
        found: AgreementId,
        /// The bundled agreement.
        agreement: AgreementId,
    },
    /// Two tombstones for one (stream, seq).
    #[error(
        "line {line}: a second tombstone for stream {stream} seq {seq} (the first is on line {first})"
    )]
    DuplicateTombstone {
        /// The line.
        line: usize,
        /// The stream.
        stream: StreamId,
        /// The sequence number.
        seq: Seq,
        /// The line of the first.
        first: usize,
    },
    /// The header's count disagrees with the lines present: lines were added or removed.
    #[error("the header says {stated} {what} lines, the bundle holds {found}")]
    CountMismatch {
        /// `record`, `tombstone`, `rotation` or `revocation`.
        what: &'static str,
        /// The header's count.
        stated: u64,
        /// The lines found.
        found: u64,
    },
}

/// Why one record failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RecordFailure {
    /// The envelope is not standard base64.
    #[error("the envelope is not standard base64: {0}")]
    Encoding(String),
    /// The envelope bytes are not an envelope.
    #[error("the envelope is malformed: {0}")]
    Envelope(EnvelopeError),
    /// The line's id is not the envelope's.
    #[error("the line lists id {listed}, but the envelope's id is {actual}")]
    IdMismatch {
        /// The id on the line.
        listed: RecordId,
        /// The id of the envelope's record bytes.
        actual: RecordId,
    },
    /// The record bytes are not a valid, canonical record.
    #[error(transparent)]
    Record(RecordError),
    /// The bundle holds no key for the originator.
    #[error("the bundle holds no key for {originator}, so the signature cannot be checked")]
    NoKey {
        /// The originator.
        originator: AgencyId,
    },
    /// The signature does not verify with the originator's bundled key.
    #[error(transparent)]
    Signature(VerifyError),
    /// The bundled agreement does not permit the record.
    #[error("not permitted by the bundled agreement: {0}")]
    NotPermitted(DenyReason),
    /// The originator signed another record with the same sequence number.
    #[error("equivocation: stream {stream} also holds record {other} with seq {seq}")]
    Equivocation {
        /// The stream.
        stream: StreamId,
        /// The sequence number.
        seq: Seq,
        /// The other record.
        other: RecordId,
    },
    /// A tombstone claims this record's sequence number for another record.
    #[error(
        "equivocation: the tombstone on line {line} claims seq {seq} of stream {stream} for \
         record {other}"
    )]
    TombstoneClaimsSeq {
        /// The tombstone's line.
        line: usize,
        /// The stream.
        stream: StreamId,
        /// The sequence number.
        seq: Seq,
        /// The record the tombstone names.
        other: RecordId,
    },
    /// A tombstone says this very record was purged.
    #[error("the record is present but the tombstone on line {line} says it was purged")]
    AlsoPurged {
        /// The tombstone's line.
        line: usize,
    },
}

/// The verdict on one record line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordVerdict {
    /// The line it is on.
    pub line: usize,
    /// The id the line lists.
    pub id: RecordId,
    /// The originator, when the record bytes could be read.
    pub originator: Option<AgencyId>,
    /// Its sequence stream (`AGENCY`, or `AGENCY/<16 hex>` for a delegated key), when the
    /// record bytes could be read.
    pub stream: Option<StreamId>,
    /// The sequence number, when the record bytes could be read.
    pub seq: Option<Seq>,
    /// Everything wrong with it; empty when it is OK.
    pub failures: Vec<RecordFailure>,
    /// The releasers' approvals it carries (docs/protocol.md §13), as read from the envelope;
    /// they are verified with the record, and a failure among them is in `failures`.
    pub approvals: Vec<ApprovalShown>,
}

/// One releaser's approval a bundled record carries, as its bytes state it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalShown {
    /// Who holds the releaser's key, as their certificate says (`?` when unreadable).
    pub holder: String,
    /// The releaser's certificate id.
    pub certificate: accord_protocol::audit::Digest32,
    /// When they approved (`None` when unreadable).
    pub approved: Option<Timestamp>,
}

impl RecordVerdict {
    /// Whether nothing is wrong with the record.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for RecordVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.is_ok() { "OK  " } else { "FAIL" };
        write!(f, "{status} {}", self.id)?;
        match (&self.stream, self.seq) {
            (Some(stream), Some(seq)) => write!(f, " {stream} seq {seq}")?,
            _ => write!(f, " (line {}, stream and seq unreadable)", self.line)?,
        }
        for (i, failure) in self.failures.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{failure}")?;
        }
        for a in &self.approvals {
            write!(
                f,
                "\n     approved by {} (certificate {}) at {}",
                a.holder.escape_debug(),
                hex::encode(&a.certificate.0[..8]),
                a.approved
                    .map_or_else(|| "an unreadable time".to_owned(), |t| t.to_string())
            )?;
        }
        Ok(())
    }
}

/// One key of a member and from when it signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPeriod {
    /// From this time on (a record's `created`, a certificate's `issued`); `None` for the
    /// first key.
    pub since: Option<Timestamp>,
    /// The key.
    pub key: PublicKey,
}

/// A revocation the bundle carries and the verifier applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedCertificate {
    /// The issuing agency.
    pub agency: AgencyId,
    /// The certificate's id.
    pub certificate: accord_protocol::audit::Digest32,
    /// From when its key is not trusted.
    pub revoked: Timestamp,
}

/// Sequence numbers of one stream missing from the bundle: neither a record whose signature
/// verifies nor a tombstone holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The stream: the originator's own key, or a key it delegated.
    pub stream: StreamId,
    /// The first missing number.
    pub from: u64,
    /// The last missing number (inclusive).
    pub to: u64,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "GAP  {} seq {} missing", self.stream, self.from)
        } else {
            write!(
                f,
                "GAP  {} seqs {}–{} missing",
                self.stream, self.from, self.to
            )
        }
    }
}

/// Everything verifying a bundle found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleReport {
    /// The header, when it could be read.
    pub header: Option<BundleHeader>,
    /// SHA-256 of the bundled agreement file's bytes, when it could be decoded.
    pub agreement_sha256: Option<[u8; 32]>,
    /// The keys the bundle carries (the first for each agency).
    pub keys: BTreeMap<AgencyId, PublicKey>,
    /// Each member's keys over time, from its listed key and its accepted rotations.
    pub key_history: BTreeMap<AgencyId, Vec<KeyPeriod>>,
    /// The revocations applied.
    pub revoked: Vec<RevokedCertificate>,
    /// Who signed the bundle, with which key, when the signature verified (version 2).
    pub signed_by: Option<(AgencyId, PublicKey)>,
    /// Problems with the bundle as a whole, in line order.
    pub problems: Vec<BundleProblem>,
    /// Problems found beyond the first [`BundleReport::MAX_PROBLEMS`], counted only.
    pub more_problems: usize,
    /// A verdict per record line, in line order.
    pub records: Vec<RecordVerdict>,
    /// How many tombstone lines were read.
    pub tombstones: usize,
    /// Missing sequence numbers, by stream then number.
    pub gaps: Vec<Gap>,
    /// Records held past the agreement's retention (counted from `created`) at the export
    /// time: the exporting node had not purged them yet. Noted, not failed.
    pub past_retention: usize,
}

impl BundleReport {
    /// Most problems listed; further ones are counted in [`BundleReport::more_problems`].
    pub const MAX_PROBLEMS: usize = 100;

    /// Whether the bundle verifies: no problem with the bundle, every record OK, no gap.
    pub fn is_ok(&self) -> bool {
        self.header.is_some()
            && self.problems.is_empty()
            && self.more_problems == 0
            && self.gaps.is_empty()
            && self.records.iter().all(RecordVerdict::is_ok)
    }

    /// The verdict on the record the line lists as `id`.
    pub fn verdict(&self, id: &RecordId) -> Option<&RecordVerdict> {
        self.records.iter().find(|v| v.id == *id)
    }

    /// The records that failed.
    pub fn failed(&self) -> impl Iterator<Item = &RecordVerdict> {
        self.records.iter().filter(|v| !v.is_ok())
    }

    pub(crate) fn problem(&mut self, problem: BundleProblem) {
        if self.problems.len() < Self::MAX_PROBLEMS {
            self.problems.push(problem);
        } else {
            self.more_problems += 1;
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl fmt::Display for BundleReport {
    /// What the bundle is, its problems, one verdict line per record, one line per gap, and a
    /// summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(h) = &self.header {
            writeln!(
                f,
                "bundle of agreement {}, exported by {} at {}",
                h.agreement, h.exported_by, h.exported_at
            )?;
        }
        if let Some(digest) = &self.agreement_sha256 {
            writeln!(f, "agreement file sha256 {}", hex::encode(digest))?;
        }
        for (agency, key) in &self.keys {
            match self.key_history.get(agency) {
                Some(periods) if periods.len() > 1 => {
                    for (i, p) in periods.iter().enumerate() {
                        let until = periods.get(i + 1).and_then(|n| n.since);
                        match (p.since, until) {
                            (None, Some(u)) => writeln!(f, "key  {agency} {} before {u}", p.key)?,
                            (Some(s), Some(u)) => {
                                writeln!(f, "key  {agency} {} from {s} before {u}", p.key)?
                            }
                            (Some(s), None) => writeln!(f, "key  {agency} {} from {s}", p.key)?,
                            (None, None) => writeln!(f, "key  {agency} {}", p.key)?,
                        }
                    }
                }
                _ => writeln!(f, "key  {agency} {key}")?,
            }
        }
        for r in &self.revoked {
            writeln!(
                f,
                "revoked {} certificate {} from {}",
                r.agency, r.certificate, r.revoked
            )?;
        }
        match (&self.signed_by, &self.header) {
            (Some((agency, key)), _) => writeln!(f, "signed by {agency} with {key}")?,
            (None, Some(h)) if h.version == 1 => writeln!(
                f,
                "unsigned (a version-1 bundle: the exporter's claims are not signed)"
            )?,
            _ => {}
        }
        for problem in &self.problems {
            writeln!(f, "BUNDLE {problem}")?;
        }
        if self.more_problems > 0 {
            writeln!(f, "BUNDLE … and {} more problems", self.more_problems)?;
        }
        for verdict in &self.records {
            writeln!(f, "{verdict}")?;
        }
        for gap in &self.gaps {
            writeln!(f, "{gap}")?;
        }
        if self.past_retention > 0 {
            writeln!(
                f,
                "note: {} past the agreement's retention (counted from created) at the export \
                 time; the exporting node had not purged them yet",
                plural(self.past_retention, "record was", "records were")
            )?;
        }
        let failed = self.failed().count();
        write!(
            f,
            "{}: {} ok, {failed} failed; {}; {}",
            plural(self.records.len(), "record", "records"),
            self.records.len() - failed,
            plural(self.tombstones, "tombstone", "tombstones"),
            plural(self.gaps.len(), "gap", "gaps"),
        )?;
        let problems = self.problems.len() + self.more_problems;
        if problems > 0 {
            write!(
                f,
                "; {}",
                plural(problems, "bundle problem", "bundle problems")
            )?;
        }
        f.write_str(if self.is_ok() {
            "; bundle verified"
        } else {
            "; bundle FAILED"
        })
    }
}
