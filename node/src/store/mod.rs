//! The node's durable store: sled behind a small interface.
//!
//! One sled tree holds records by id (the exact envelope bytes), the per (agreement,
//! originator) sequence index, secondary indexes (subjects, category, route country and role,
//! created time, references), the node's own sequence counters, tombstones of purged records
//! and the evidence of equivocations; `keys` documents the layout. Every change is one atomic
//! sled batch, made under the store's write lock, so a record and all its index entries appear
//! and disappear together.
//!
//! Durability (invariant 4, docs/invariants.md): sled writes to disk in the background;
//! [`Store::flush`] makes everything written so far durable. [`Own::publish`] flushes before
//! it returns the new id; callers of [`Records::insert_batch`] flush before they acknowledge
//! anything.
//!
//! The flush is not made under the write lock, so writers on other threads (the receive path,
//! other publishes, the network actor's audit entries) are not held up while the disk syncs,
//! and concurrent flushes share one sync. An own record written but not yet flushed must still
//! never leave the node — after a crash its seq would be numbered again, and a partner holding
//! the lost record would see an equivocation — so until a flush covers it the store keeps it
//! out of [`Outbox::for_peer`], [`Streams::range`] and the own stream of [`Streams::heads`].

/// Declares one of the store's interfaces (docs/ARCHITECTURE.md, "The store"): a view that
/// borrows the store and derefs to it (so the write lock, the unflushed marks and the caches
/// stay the one store's), and the store's method that gives it.
macro_rules! interface {
    ($(#[$doc:meta])* $view:ident, $give:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $view<'a>(&'a Store);

        impl std::ops::Deref for $view<'_> {
            type Target = Store;
            fn deref(&self) -> &Store {
                self.0
            }
        }

        impl Store {
            $(#[$doc])*
            pub fn $give(&self) -> $view<'_> {
                $view(self)
            }
        }
    };
}

mod audit;
mod codec;
mod copy;
mod engine;
mod keys;
mod open;
mod private;
mod publish;
mod queries;
mod quota;
mod records;
mod search;
mod sync;
mod trust;
pub use search::{Postings, Skeletons};
mod subjects;

pub use private::private_umask;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use accord_protocol::audit::AuditEvent;
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Envelope, LegRole, Record, RecordId, Seq,
    SignedRecord, StreamId, Timestamp, Verified, canonical,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

pub use audit::{Delivery, Head, Kept};
pub use codec::Source;
pub use engine::EngineError;
use engine::{AnyEngine, Batch, Engine, FjallEngine, MemoryEngine, SledEngine};
pub use subjects::{SubjectKind, SubjectQuery, subject_keys};
// the store's interfaces, one per concern (docs/ARCHITECTURE.md, "The store")
pub use audit::{AuditLog, Checkpoints};
pub use publish::{Also, Own};
pub use queries::Queries;
pub use quota::Quota;
pub use records::Records;
pub use search::Index;
pub use sync::{Outbox, Streams};
pub use trust::Trust;

/// The page cache sled may keep in memory (its default is 1 GiB, so a node's memory grew with
/// its store to that size: docs/benchmarks.md).
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// A store insert applies its records to sled this many at a time, each chunk with the audit
/// entries of its records (so every applied chunk is whole: records, indexes and audit). sled
/// 0.34 keeps memory for every key of a large batch long after it is applied: 30,000 records
/// of 17 keys each held 1.7 GiB in one batch per 1,024 records and 0.13 GiB in one per 32
/// (docs/benchmarks.md, "Search"). The caller's flush still makes the whole insert durable
/// before anything is acknowledged.
pub const APPLY_RECORDS: usize = 16;

/// The schema version this node reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Why the store failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store could not be opened.
    #[error("cannot open the store at {path}: {reason}")]
    Open {
        /// The data directory.
        path: PathBuf,
        /// Why, with a hint.
        reason: String,
    },
    /// The store was written by a version of accord this one cannot read.
    #[error(
        "the store at {path} has schema version {found}; this accord reads version {SCHEMA_VERSION} \
         (use the accord release that wrote it, or restore a backup)"
    )]
    Schema {
        /// The data directory.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// The storage engine failed (its text is in this error's message, not repeated as a
    /// cause).
    #[error("store i/o failed: {0}")]
    Io(EngineError),
    /// Stored bytes that do not decode: the store is damaged.
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    /// An own record was numbered out of order.
    #[error("record {id} has seq {found} under {agreement}, but the next seq is {expected}")]
    SeqMismatch {
        /// The record.
        id: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// The seq it carries.
        found: Seq,
        /// The seq it should carry.
        expected: Seq,
    },
    /// The sequence counter is exhausted.
    #[error("no sequence numbers left under {0}")]
    SeqExhausted(AgreementId),
    /// The store was restored from an older backup, and some members of the agreement have
    /// not yet shown in a status exchange that this node holds its own records they hold.
    #[error(
        "publishing under {agreement} waits: this store was restored from an older backup, and \
         {} may hold later records of this agency than it does; it resumes once the node has \
         exchanged status with them and caught up (docs/operations.md §7, Restoring)",
        waiting.iter().map(AgencyId::as_str).collect::<Vec<_>>().join(", ")
    )]
    HeldAfterRestore {
        /// The agreement.
        agreement: AgreementId,
        /// The members not yet heard from.
        waiting: Vec<AgencyId>,
    },
}

impl From<EngineError> for StoreError {
    fn from(e: EngineError) -> Self {
        StoreError::Io(e)
    }
}

impl StoreError {
    /// Whether the store is locked by another process or handle.
    pub fn is_locked(&self) -> bool {
        matches!(self, StoreError::Open { reason, .. } if reason.contains(LOCKED_HINT))
    }
}

/// The file beside sled's that says a store was created in this directory, and how many audit
/// entries it held at its last flush (every change of the store writes one): sled, finding its
/// files damaged, truncates its log and opens what is left, so without it a damaged store
/// would open with records silently missing — or empty, numbering own records from 1 again.
/// Rewritten (without a disk sync of its own) after each flush, so it never claims more than
/// the flushed data holds.
pub const MARKER_FILE: &str = "ACCORD-STORE";

const MARKER_LINE: &str = "audit entries flushed: ";

/// The audit entry count the marker records, if it is there and readable.
fn read_marker(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join(MARKER_FILE)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(MARKER_LINE))
        .and_then(|n| n.trim().parse().ok())
}

/// Records that `entries` audit entries are flushed (replacing the marker by a rename, so a
/// reader never sees half of it). A failure is logged, not fatal: the marker guards against
/// damage, it is not the data.
fn write_marker(dir: &Path, entries: u64) {
    let tmp = dir.join(format!("{MARKER_FILE}.tmp"));
    let text = format!(
        "accord store, schema version {SCHEMA_VERSION}\n{MARKER_LINE}{entries}\n\
         Do not delete: accord refuses to open this data directory if it holds fewer audit \
         entries than this file records (a damaged store).\n"
    );
    if let Err(e) =
        std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, dir.join(MARKER_FILE)))
    {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot write the store's marker file");
    }
}

/// The audit entry count of a tree, read before the store is built.
fn audit_count(tree: &AnyEngine) -> Result<u64, StoreError> {
    Ok(match tree.get(keys::meta("audit_head"))? {
        Some(v) if v.len() >= 8 => u64::from_be_bytes(v[..8].try_into().unwrap_or([0; 8])),
        _ => 0,
    })
}

/// The key noting that `member` was heard from under `agreement` after a restore.
fn restore_key(agreement: &AgreementId, member: &AgencyId) -> Vec<u8> {
    keys::meta(&format!("restored-heard/{agreement}/{member}"))
}

/// The hint given when the store is locked.
const LOCKED_HINT: &str = "is another accord process (accord run) using this data directory?";

/// The agreement an outbox key of `peer` is under (outbox keys name peer, agreement and seq).
fn outbox_key_agreement(peer: &AgencyId, key: &[u8]) -> Option<AgreementId> {
    let prefix = keys::outbox_prefix(peer);
    key.strip_prefix(prefix.as_slice())
        .and_then(keys::outbox_agreement)
}

/// One record waiting in the outbox for one peer, as [`Outbox::for_peer`] hands it out: what the
/// network gives back to settle it ([`Outbox::settle`], [`Delivery::outbox`]). Opaque:
/// only the store makes one, and only the agreement it was queued under can be read from it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutboxEntry {
    key: Vec<u8>,
    agreement: Option<AgreementId>,
}

impl OutboxEntry {
    fn new(peer: &AgencyId, key: &[u8]) -> Self {
        Self {
            agreement: outbox_key_agreement(peer, key),
            key: key.to_vec(),
        }
    }

    /// The agreement the record was queued under (none for an entry of an older layout).
    pub fn agreement(&self) -> Option<&AgreementId> {
        self.agreement.as_ref()
    }
}

/// A record as stored, with where it came from.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    /// Its id.
    pub id: RecordId,
    /// The exact envelope.
    pub envelope: Envelope,
    /// The record, decoded from the envelope's bytes.
    pub record: Record,
    /// When this node stored it.
    pub received_at: Timestamp,
    /// Who it came from.
    pub source: Source,
}

/// What an insert did with one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Newly stored.
    Stored(RecordId),
    /// Already held; nothing changed.
    Duplicate(RecordId),
    /// Purged earlier; its tombstone stands and it is not stored again.
    Purged(RecordId),
    /// Another record already holds its (agreement, originator, seq): kept as evidence only.
    Equivocation {
        /// The record offered.
        id: RecordId,
        /// The record already held under that seq.
        existing: RecordId,
    },
}

/// The proof that a purged record existed: its id, the hash of its envelope, when and why it
/// was removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The record id.
    pub id: RecordId,
    /// Its agreement.
    pub agreement: AgreementId,
    /// Its originator.
    pub originator: AgencyId,
    /// Its seq.
    pub seq: Seq,
    /// Its sequence stream (the originator's own key, or a key it delegated); absent in
    /// tombstones kept before accord recorded it (see [`Records::tombstone_streams`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamId>,
    /// SHA-256 of the envelope bytes that were deleted.
    pub envelope_sha256: String,
    /// When it was purged.
    pub purged_at: Timestamp,
    /// Why.
    pub reason: String,
}

/// Filters for [`Queries::query`]; all given filters must hold.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Only records under this agreement.
    pub agreement: Option<AgreementId>,
    /// Only records with this subject.
    pub subject: Option<SubjectQuery>,
    /// Only records of this category.
    pub category: Option<Category>,
    /// Only records with a route leg in this country (in this role, if given).
    pub country: Option<(Country, Option<LegRole>)>,
    /// Without a country: only records with a route leg in this role, in any country.
    pub role: Option<LegRole>,
    /// Only records created at or after this time.
    pub since: Option<Timestamp>,
}

impl Query {
    /// Whether `r` meets every filter.
    pub fn admits(&self, r: &Record) -> bool {
        !(self.agreement.as_ref().is_some_and(|a| *a != r.agreement)
            || self.category.is_some_and(|c| c != r.category)
            || self.since.is_some_and(|t| r.created < t)
            || self.country.is_some_and(|(c, role)| {
                !r.route
                    .iter()
                    .any(|l| l.country == c && role.is_none_or(|x| x == l.role))
            })
            || self
                .role
                .is_some_and(|role| !r.route.iter().any(|l| l.role == role))
            || self.subject.as_ref().is_some_and(|s| !s.matches(r)))
    }
}

/// The node's store.
#[derive(Debug)]
pub struct Store {
    /// The engine: every key of the store (keys.rs) in one ordered map.
    kv: AnyEngine,
    path: PathBuf,
    write: Mutex<()>,
    agency: Mutex<Option<AgencyId>>,
    /// Per agreement, the gap-free heads ([`Streams::heads`]): scanned from the seq index the
    /// first time an agreement is asked for, then advanced as slots are written, under the
    /// write lock, so a sync exchange costs no scan of the records held.
    heads: Mutex<HeadsCache>,
    /// Own records written but not yet covered by a flush (see the module's documentation).
    unflushed: Mutex<Unflushed>,
    /// Per (agreement, stream) a publish numbers, the highest seq held: found by a (slow,
    /// reverse) scan the first time a publish asks, then kept up to date under the write lock
    /// as records of that stream are written (own or learnt back from partners).
    own_last: Mutex<LastSeqs>,
    /// Group commit of flushes ([`Store::flush`]).
    flushing: Mutex<GroupFlush>,
    flushed: std::sync::Condvar,
    /// The audit log's length as of the start of the last finished flush: every entry below
    /// it is durable ([`Store::durable_audit_count`]).
    durable_audit: std::sync::atomic::AtomicU64,
    /// The distinct part skeletons of the name index, for `--fuzzy` searches
    /// ([`Index::with_skeletons`]): read from the index the first time one asks (without the
    /// write lock; records written meanwhile add theirs), then kept up to date as records are
    /// written (under the write lock).
    skeletons: Mutex<search::SkeletonDict>,
    /// Held by the one call reading the skeletons from the index ([`Index::with_skeletons`]).
    skeleton_reader: Mutex<()>,
    /// Whether the search indexes are known to hold this accord's keys
    /// ([`Index::search_index_current`]): once they do, only this process's reindexing could
    /// change it, so a search need not read the version again.
    index_current: std::sync::atomic::AtomicBool,
}

/// Flushes asked for and done, numbered in the order they were asked for.
#[derive(Debug, Default)]
struct GroupFlush {
    asked: u64,
    /// Every flush asked for up to this one is covered by a finished flush.
    done: u64,
    running: bool,
    /// The last failed flush: the requests it was to cover, and why.
    failed: Option<(u64, String)>,
}

/// Own records awaiting a flush. A record is marked before its batch is applied, with no
/// ticket (never cleared); once applied it gets the next ticket. A flush clears every mark
/// whose ticket was given before the flush began: its batch was applied before the flush.
#[derive(Debug, Default)]
struct Unflushed {
    next: u64,
    own: Vec<Mark>,
}

#[derive(Debug)]
struct Mark {
    ticket: Option<u64>,
    agreement: AgreementId,
    seq: u64,
    id: RecordId,
}

type LastSeqs = std::collections::BTreeMap<(AgreementId, StreamId), u64>;

type HeadsCache =
    std::collections::BTreeMap<AgreementId, std::collections::BTreeMap<StreamId, StreamHead>>;

/// What is held of one stream under one agreement: the highest seq up to which every record
/// is held, and the stream digest (`accord_protocol::wire::stream_digest`) of the ids under
/// seqs 1 to it, which members compare to find two different records under one seq.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamHead {
    /// The gap-free head (0: none).
    pub seq: u64,
    /// The digest of seqs `1 ..= seq`; all zero when `seq` is 0 or the digest is not known
    /// (our own stream while a record past it awaits its flush).
    pub digest: [u8; 32],
}

impl StreamHead {
    /// Moves past one more slot holding `id`.
    fn extend(&mut self, id: &RecordId) {
        self.seq += 1;
        self.digest = accord_protocol::wire::stream_digest(&self.digest, id);
    }
}

impl Store {
    fn own_last(&self) -> std::sync::MutexGuard<'_, LastSeqs> {
        self.own_last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn unflushed(&self) -> std::sync::MutexGuard<'_, Unflushed> {
        self.unflushed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether this own record is written but not yet durable.
    fn is_unflushed(&self, id: &RecordId) -> bool {
        self.unflushed().own.iter().any(|m| m.id == *id)
    }

    /// The lowest own seq under `agreement` not yet durable.
    fn first_unflushed(&self, agreement: &AgreementId) -> Option<u64> {
        self.unflushed()
            .own
            .iter()
            .filter(|m| m.agreement == *agreement)
            .map(|m| m.seq)
            .min()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A poisoned lock only means a panic elsewhere while holding it; every write is one
        // atomic batch, so the store itself is consistent.
        self.write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Every secondary index key of a record (not the record itself, not its seq slot).
/// A record's secondary index entries (key, value). Only the name index's postings have a
/// value: the names that gave the key ([`crate::search::name_terms`]).
fn index_keys(r: &Record, id: &RecordId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = vec![keys::category(r.category, id), keys::created(r.created, id)];
    for (kind, value) in subject_keys(r) {
        out.push(keys::subject(kind as u8, &value, id));
    }
    for leg in &r.route {
        out.push(keys::route(leg.country, leg.role, id));
    }
    if let Some(t) = &r.withdraws {
        out.push(keys::reference(t, keys::REF_WITHDRAWS, id));
    }
    if let Some(t) = &r.corrects {
        out.push(keys::reference(t, keys::REF_CORRECTS, id));
    }
    if let Some(t) = &r.responds_to {
        out.push(keys::reference(t, keys::REF_RESPONDS, id));
    }
    for w in crate::search::words(r) {
        out.push(keys::word(&w, id));
    }
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = out.into_iter().map(|k| (k, Vec::new())).collect();
    for (kind, key, names) in crate::search::name_terms(r) {
        let mut k = keys::name_prefix(kind, &key);
        k.extend_from_slice(id.as_bytes());
        out.push((k, names));
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn decode_stored(id: RecordId, bytes: &[u8]) -> Result<StoredRecord, StoreError> {
    let (received_at, source, envelope) = codec::decode(bytes)?;
    // Stored bytes were verified (canonical form included) before they were written, so they
    // are parsed here without repeating the canonical comparison.
    let record = canonical::parse_record_json(envelope.record_bytes())
        .map_err(|e| StoreError::Corrupt(format!("record {id}: {e}")))?;
    Ok(StoredRecord {
        id,
        envelope,
        record,
        received_at,
        source,
    })
}

fn insert_head(
    heads: &mut std::collections::BTreeMap<StreamId, StreamHead>,
    stream: &[u8],
    head: StreamHead,
) {
    if let Ok(Ok(a)) = std::str::from_utf8(stream).map(StreamId::new) {
        heads.insert(a, head);
    }
}

#[cfg(test)]
mod tests;
