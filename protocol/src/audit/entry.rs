//! The log's entries: the events that moved data, the entry that chains them, and its hash.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AUDIT_DOMAIN, Digest32, canonical_bytes, decode_canonical, u64_string};
use crate::error::RecordError;
use crate::ids::{AgencyId, AgreementId, RecordId, Seq};
use crate::keys::PublicKey;
use crate::matching::{Epoch, SelectorKind};
use crate::time::Timestamp;
use crate::vocab::{Category, HandlingCode, VictimPurpose};

/// A decision that moved data, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuditEvent {
    /// This agency published a record.
    Publish {
        /// The record.
        record: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// Its seq.
        seq: Seq,
        /// The record it withdraws, if it is a withdrawal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withdraws: Option<RecordId>,
        /// The person's account that published it through the console; absent for the
        /// command line and the API's machine clients.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// A person's account was shown a record holding victim-identifying data (docs/console.md):
    /// who saw a victim's name is a question oversight bodies ask.
    Viewed {
        /// The record.
        record: RecordId,
        /// The account.
        by: String,
    },
    /// A record was sent to a peer (pushed, or answered in a range).
    Send {
        /// The record.
        record: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// Its originator (not this agency: a relay).
        originator: AgencyId,
        /// The peer.
        to: AgencyId,
        /// What the agreement's send policy is checked against (absent in entries written
        /// before accord logged it; `accord audit verify` fails such an entry as unchecked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<SentContent>,
    },
    /// Records sent to a peer in one push or one range answer, under one agreement: what a
    /// node writes in place of a `send` entry per record (docs/auditing.md §2). Each record is
    /// checked as a `send` of it would be.
    SendBatch {
        /// Their agreement.
        agreement: AgreementId,
        /// The peer.
        to: AgencyId,
        /// The records, in the order sent.
        records: Vec<SentRecord>,
    },
    /// A peer acknowledged a record with a signed receipt.
    Delivered {
        /// The record.
        record: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// The peer.
        to: AgencyId,
        /// SHA-256 of the receipt's bytes.
        receipt: Digest32,
    },
    /// A peer acknowledged the records of one push under one agreement with one batch receipt
    /// (docs/protocol.md §12).
    DeliveredPush {
        /// The records, in the order of the push: the receipt's leaves.
        records: Vec<RecordId>,
        /// Their agreement.
        agreement: AgreementId,
        /// The peer.
        to: AgencyId,
        /// SHA-256 of the batch receipt's bytes.
        receipt: Digest32,
    },
    /// A record was received, verified, permitted and stored.
    Receive {
        /// The record.
        record: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// Its originator.
        originator: AgencyId,
        /// The peer it came from.
        from: AgencyId,
    },
    /// Records of one push or range answer from one peer, under one agreement, received,
    /// verified, permitted and stored in one batch of the store: what a node writes in place
    /// of a `receive` entry per record (docs/auditing.md §2).
    ReceiveBatch {
        /// Their agreement.
        agreement: AgreementId,
        /// The peer they came from.
        from: AgencyId,
        /// The records, in the order stored.
        records: Vec<ReceivedRecord>,
    },
    /// Something a peer sent was refused.
    Reject {
        /// The peer.
        from: AgencyId,
        /// The wire reject code.
        code: u8,
        /// Why.
        reason: String,
    },
    /// This node decided not to send one of its outbox records to a peer (the agreement's
    /// policy no longer allows it), or the peer refused it for good.
    Withheld {
        /// The record.
        record: RecordId,
        /// The peer.
        to: AgencyId,
        /// The wire reject code when the peer refused it; 0 when this node withheld it.
        code: u8,
        /// Why.
        reason: String,
    },
    /// A record was purged at the end of its retention.
    Purge {
        /// The record.
        record: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// Why.
        reason: String,
    },
    /// A checkpoint slot began: the entry that a slot checkpoint names as the log's head, so
    /// the head partners witness moves every slot whatever the log did meanwhile.
    Slot {
        /// The slot: whole slot lengths since 1970-01-01T00:00:00Z (a decimal string).
        #[serde(with = "u64_string")]
        slot: u64,
    },
    /// A person's account of the console changed (docs/console.md): added, given a new
    /// password, disabled, enabled, or locked after wrong passwords.
    Account {
        /// The account's name.
        account: String,
        /// `added`, `password`, `disabled`, `enabled` or `locked`.
        change: String,
        /// Its role, when added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
        /// The account that made the change, when a person did through the console; absent
        /// for the agency's operator at the command line (and for a lock, which no one made).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// A bundle of an agreement's records was exported.
    Export {
        /// The agreement.
        agreement: AgreementId,
        /// How many records.
        records: u64,
        /// SHA-256 of the bundle file.
        bundle: Digest32,
        /// How many tombstones (absent in entries of version-1 bundles).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tombstones: Option<u64>,
        /// The bundle format version (absent for version 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
    },
    /// An agency's key changed: the rotation statement (docs/protocol.md §11) was verified and
    /// kept.
    Rotation {
        /// The agency whose key changed.
        agency: AgencyId,
        /// The key before.
        previous: PublicKey,
        /// The key from `since` on.
        key: PublicKey,
        /// From when.
        since: Timestamp,
        /// SHA-256 of the statement's bytes.
        statement: Digest32,
        /// The agency it came from; absent when made here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<AgencyId>,
    },
    /// The node started with this configuration: its agreements and their file hashes.
    Config {
        /// (agreement, SHA-256 of its file).
        agreements: Vec<(AgreementId, Digest32)>,
        /// The known agencies.
        agencies: Vec<AgencyId>,
        /// The known agencies' registered keys, so a partner's key change is logged too
        /// (absent in entries written before accord logged them).
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        keys: std::collections::BTreeMap<AgencyId, PublicKey>,
    },
    /// The node's agency key (on first start and when it changes).
    Key {
        /// The public key.
        public_key: PublicKey,
    },
    /// A member's signature of an agreement file, received from a peer and verified; once
    /// every member's signature is held the agreement takes effect.
    AgreementSignature {
        /// The agreement.
        agreement: AgreementId,
        /// SHA-256 of the agreement file that was signed.
        hash: Digest32,
        /// The member whose signature it is.
        signer: AgencyId,
        /// The peer it came from.
        from: AgencyId,
        /// The administrator's account that signed it through the console; absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// A revocation of a delegation certificate, verified under its issuing agency's key and
    /// kept (made here, or received from a peer).
    Revocation {
        /// The agency that revoked its certificate.
        agency: AgencyId,
        /// The certificate's id.
        certificate: Digest32,
        /// From when its key is no longer trusted.
        revoked: Timestamp,
        /// The peer it came from; absent when this node's agency made it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<AgencyId>,
        /// The person's account that revoked it through the console; absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// This agency issued a delegation certificate to a liaison officer's key.
    Delegation {
        /// The certificate's id (SHA-256 over its domain tag and bytes).
        certificate: Digest32,
        /// The delegated key.
        delegate: PublicKey,
        /// The agreements it may sign records under.
        agreements: Vec<AgreementId>,
        /// First moment a record it signs may be created.
        valid_from: Timestamp,
        /// Last moment a record it signs may be created.
        valid_until: Timestamp,
        /// The person's account that issued it through the console; absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        /// `releaser` for a releaser's certificate (docs/protocol.md §12); absent for an
        /// officer's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
    },
    /// A step of two-person release (docs/workflows.md): a releaser's key enrolled, a draft
    /// held for releasers' approval, an approval given, the draft declined, or the record
    /// released.
    Release {
        /// `enrolled`, `held`, `approved`, `declined` or `released`.
        step: String,
        /// The held draft's id; absent for `enrolled`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held: Option<String>,
        /// The agreement the draft is to be shared under; absent for `enrolled`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agreement: Option<AgreementId>,
        /// The releaser's certificate id (`enrolled`, `approved`, `declined`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<Digest32>,
        /// The record released (`released`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<RecordId>,
        /// Why it was declined (`declined`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The person's account that did it (the releaser for `enrolled`); absent for the
        /// agency's operator at the command line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// This holder gave a member its matching set of an agreement and epoch (docs/matching.md):
    /// written once per member, agreement and epoch, when the set's first chunk goes.
    MatchSet {
        /// The member.
        to: AgencyId,
        /// The agreement.
        agreement: AgreementId,
        /// The epoch.
        epoch: Epoch,
        /// How many tags the set holds.
        tags: u64,
    },
    /// This holder evaluated a member's lookup: who asked, under which agreement and epoch,
    /// how many selectors, and how many of the day's quota are spent with them. Never a
    /// blinded element: the holder cannot tell what was looked up, and does not try.
    LookupAnswered {
        /// The member that asked.
        from: AgencyId,
        /// The agreement.
        agreement: AgreementId,
        /// The epoch whose key evaluated them.
        epoch: Epoch,
        /// How many selectors.
        selectors: u64,
        /// Selectors the member has looked up under the agreement this UTC day, these
        /// included.
        today: u64,
    },
    /// This agency asked a holder to evaluate a lookup, written and flushed before the lookup
    /// leaves: the holder, the agreement, the epoch, how many selectors and of which kinds,
    /// and who asked. Never a selector.
    LookupMade {
        /// The holder asked.
        to: AgencyId,
        /// The agreement.
        agreement: AgreementId,
        /// The epoch.
        epoch: Epoch,
        /// How many selectors.
        selectors: u64,
        /// Their kinds, each once, sorted.
        kinds: Vec<SelectorKind>,
        /// The person's account that asked through the console; absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// How a lookup this agency made ended: the holder's hits, a refusal, or an answer that
    /// failed its proof.
    LookupResult {
        /// The holder asked.
        to: AgencyId,
        /// The agreement.
        agreement: AgreementId,
        /// The epoch.
        epoch: Epoch,
        /// `answered`, `refused`, `invalid` (the answer's proof, or the holder's set, did not
        /// verify) or `failed` (no answer).
        outcome: LookupOutcome,
        /// How many of the selectors the holder's set holds (0 unless answered).
        hits: u64,
        /// The holder's wire reject code, when it refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<u8>,
    },
    /// Two different records claimed one (agreement, originator, seq).
    Equivocation {
        /// The record offered second (kept as evidence).
        record: RecordId,
        /// The record held.
        existing: RecordId,
        /// Who offered it.
        from: AgencyId,
    },
}

/// The fields of a sent record that its agreement's send policy decides on, carried in the
/// `send` entry so an auditor checks the policy without the record itself (which may since
/// have been purged, and whose content an audit export does not disclose).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentContent {
    /// The record's category.
    pub category: Category,
    /// Its handling code.
    pub handling: HandlingCode,
    /// When it was created (the agreement's retention runs from it).
    pub created: Timestamp,
    /// When it expires, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// Whether it holds victim-identifying data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub victim_data: bool,
    /// The purpose it states for victim data, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim_purpose: Option<VictimPurpose>,
}

impl SentContent {
    /// The policy fields of `record`.
    pub fn of(record: &crate::Record) -> Self {
        Self {
            category: record.category,
            handling: record.handling,
            created: record.created,
            expires: record.expires,
            victim_data: record.has_victim_identifying_data(),
            victim_purpose: record.victim_data_purpose,
        }
    }
}

/// How a lookup ended, as a `lookup-result` entry says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookupOutcome {
    /// The holder answered and the answer's proof held.
    Answered,
    /// The holder refused.
    Refused,
    /// The answer, or the holder's set, did not verify.
    Invalid,
    /// No answer came.
    Failed,
}

/// One record of a `send-batch` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentRecord {
    /// The record.
    pub record: RecordId,
    /// Its originator (not this agency: a relay).
    pub originator: AgencyId,
    /// What the agreement's send policy is checked against.
    pub content: SentContent,
}

/// One record of a `receive-batch` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedRecord {
    /// The record.
    pub record: RecordId,
    /// Its originator.
    pub originator: AgencyId,
}

/// A record sent, as a `send` entry or one record of a `send-batch` entry states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent<'a> {
    /// The record.
    pub record: RecordId,
    /// Its agreement.
    pub agreement: &'a AgreementId,
    /// Its originator.
    pub originator: &'a AgencyId,
    /// The peer it went to.
    pub to: &'a AgencyId,
    /// What the send policy is checked against (absent in old `send` entries).
    pub content: Option<&'a SentContent>,
}

/// A record received, as a `receive` entry or one record of a `receive-batch` entry states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received<'a> {
    /// The record.
    pub record: RecordId,
    /// Its agreement.
    pub agreement: &'a AgreementId,
    /// Its originator.
    pub originator: &'a AgencyId,
    /// The peer it came from.
    pub from: &'a AgencyId,
}

impl AuditEvent {
    /// The records this entry says were sent: one for a `send`, each of a `send-batch`'s,
    /// none for any other kind.
    pub fn sent(&self) -> Vec<Sent<'_>> {
        match self {
            AuditEvent::Send {
                record,
                agreement,
                originator,
                to,
                content,
            } => vec![Sent {
                record: *record,
                agreement,
                originator,
                to,
                content: content.as_ref(),
            }],
            AuditEvent::SendBatch {
                agreement,
                to,
                records,
            } => records
                .iter()
                .map(|r| Sent {
                    record: r.record,
                    agreement,
                    originator: &r.originator,
                    to,
                    content: Some(&r.content),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The records this entry says were received and stored: one for a `receive`, each of a
    /// `receive-batch`'s, none for any other kind.
    pub fn received(&self) -> Vec<Received<'_>> {
        match self {
            AuditEvent::Receive {
                record,
                agreement,
                originator,
                from,
            } => vec![Received {
                record: *record,
                agreement,
                originator,
                from,
            }],
            AuditEvent::ReceiveBatch {
                agreement,
                from,
                records,
            } => records
                .iter()
                .map(|r| Received {
                    record: r.record,
                    agreement,
                    originator: &r.originator,
                    from,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// The agency whose log this is.
    pub agency: AgencyId,
    /// Position in the log, from 0 (a decimal string in JSON).
    #[serde(with = "u64_string")]
    pub index: u64,
    /// Hash of the previous entry (zeros for the first).
    pub prev: Digest32,
    /// When.
    pub time: Timestamp,
    /// What.
    pub event: AuditEvent,
}

impl AuditEntry {
    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        canonical_bytes(self)
    }

    /// Parses entry bytes, requiring them canonical.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        decode_canonical(bytes)
    }
}

/// The hash of entry bytes.
pub fn entry_hash(entry_bytes: &[u8]) -> Digest32 {
    let mut h = Sha256::new();
    h.update(AUDIT_DOMAIN);
    h.update(entry_bytes);
    Digest32(h.finalize().into())
}
