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
//! [`Store::flush`] makes everything written so far durable. [`Store::publish`] flushes before
//! it returns the new id; callers of [`Store::insert_batch`] flush before they acknowledge
//! anything.
//!
//! The flush is not made under the write lock, so writers on other threads (the receive path,
//! other publishes, the network actor's audit entries) are not held up while the disk syncs,
//! and concurrent flushes share one sync. An own record written but not yet flushed must still
//! never leave the node — after a crash its seq would be numbered again, and a partner holding
//! the lost record would see an equivocation — so until a flush covers it the store keeps it
//! out of [`Store::outbox`], [`Store::range`] and the own stream of [`Store::heads`].

mod audit;
mod codec;
mod keys;
mod private;
mod search;
pub use search::Skeletons;
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
pub use subjects::{SubjectKind, SubjectQuery, subject_keys};

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
    /// sled reported an error (its text is in this error's message, not repeated as a cause).
    #[error("store i/o failed: {}", describe_sled(.0))]
    Io(sled::Error),
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

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(e)
    }
}

/// sled's error in words, without the (empty) backtrace its corruption error prints, and with
/// what to do about damage.
fn describe_sled(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { at, .. } => match at {
            Some(at) => format!(
                "the store's files are damaged (corrupted data at {at:?}); restore the data \
                 directory from a backup (docs/operations.md, Backups)"
            ),
            None => "the store's files are damaged (corrupted data); restore the data directory \
                     from a backup (docs/operations.md, Backups)"
                .to_owned(),
        },
        other => other.to_string(),
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
fn audit_count(tree: &sled::Tree) -> Result<u64, StoreError> {
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
pub fn outbox_key_agreement(peer: &AgencyId, key: &[u8]) -> Option<AgreementId> {
    let prefix = keys::outbox_prefix(peer);
    key.strip_prefix(prefix.as_slice())
        .and_then(keys::outbox_agreement)
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
    /// tombstones kept before accord recorded it (see [`Store::tombstone_streams`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamId>,
    /// SHA-256 of the envelope bytes that were deleted.
    pub envelope_sha256: String,
    /// When it was purged.
    pub purged_at: Timestamp,
    /// Why.
    pub reason: String,
}

/// Filters for [`Store::query`]; all given filters must hold.
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
    db: sled::Db,
    tree: sled::Tree,
    path: PathBuf,
    write: Mutex<()>,
    agency: Mutex<Option<AgencyId>>,
    /// Per agreement, the gap-free heads ([`Store::heads`]): scanned from the seq index the
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
    /// ([`Store::with_skeletons`]): read from the index the first time one asks (under the
    /// write lock), then kept up to date as records are written (under the write lock too).
    skeletons: Mutex<Option<Box<search::Skeletons>>>,
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
    /// Opens the store in `dir`, creating it if it does not exist. A store of another schema
    /// version, a directory that is not a store, or one locked by another process is refused
    /// with the reason.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: dir.to_path_buf(),
            reason,
        };
        if dir.exists() && !dir.is_dir() {
            return Err(open_err("it is not a directory".into()));
        }
        private::prepare(dir)?;
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| {
                let text = describe_sled(&e);
                if text.contains("lock")
                    || text.contains("WouldBlock")
                    || text.contains("Resource temporarily unavailable")
                {
                    open_err(format!("{text}; {LOCKED_HINT}"))
                } else if text.contains("ermission denied") {
                    open_err(format!(
                        "{text}; check the directory's owner and permissions"
                    ))
                } else {
                    open_err(text)
                }
            })?;
        let tree = db.open_tree("accord")?;
        match tree.get(keys::schema())? {
            Some(v) => {
                let bytes: [u8; 4] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("schema version is not 4 bytes".into()))?;
                let found = u32::from_be_bytes(bytes);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        path: dir.to_path_buf(),
                        found,
                    });
                }
            }
            None if tree.is_empty() => {
                // sled, finding its files damaged, truncates its log at the damage and may
                // open what is left as an empty database: a store known to exist is never
                // started afresh (a fresh store would number own records from 1 again)
                if dir.join(MARKER_FILE).exists() {
                    return Err(open_err(format!(
                        "the store's files are damaged or missing: {MARKER_FILE} says a store \
                         was created here, but the database holds nothing; restore the data \
                         directory from a backup (docs/operations.md, Backups)"
                    )));
                }
                tree.insert(keys::schema(), &SCHEMA_VERSION.to_be_bytes())?;
                Store::mark_search_index(&tree)?;
                db.flush()?;
            }
            None => {
                return Err(open_err(
                    "it holds data but no schema version: it is not an accord store".into(),
                ));
            }
        }
        // sled truncates a damaged log and opens what is left: a store that holds fewer audit
        // entries than it had flushed before lost data, and is refused
        let held = audit_count(&tree)?;
        match read_marker(dir) {
            Some(flushed) if held < flushed => {
                return Err(open_err(format!(
                    "the store's files are damaged: it had flushed {flushed} audit entries but \
                     holds {held}; restore the data directory from a backup \
                     (docs/operations.md, Backups). If this directory was restored from an \
                     older backup on purpose, remove {MARKER_FILE} to accept it"
                )));
            }
            Some(_) => {}
            None => {
                if held > 0 {
                    // a store with data but no marker: an older backup the operator accepted
                    // (or a store from before markers). Its own later records may be held by
                    // the members only: own publishing waits for a status exchange with each
                    // (`Store::restore_waiting`), so no seq is handed out twice.
                    tree.insert(keys::meta("restored"), &held.to_be_bytes())?;
                    db.flush()?;
                    tracing::warn!(
                        dir = %dir.display(),
                        "the store has no {MARKER_FILE}: treated as restored from a backup; own \
                         publishing waits until each member's status shows nothing newer of ours"
                    );
                }
                write_marker(dir, held);
            }
        }
        private::tighten(dir);
        let agency = match tree.get(keys::meta("agency"))? {
            Some(v) => Some(
                std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| AgencyId::new(s).ok())
                    .ok_or_else(|| {
                        StoreError::Corrupt("bound agency is not an agency id".into())
                    })?,
            ),
            None => None,
        };
        let store = Self {
            db,
            tree,
            path: dir.to_path_buf(),
            write: Mutex::new(()),
            agency: Mutex::new(agency),
            heads: Mutex::new(HeadsCache::new()),
            unflushed: Mutex::new(Unflushed::default()),
            own_last: Mutex::new(std::collections::BTreeMap::new()),
            flushing: Mutex::new(GroupFlush::default()),
            flushed: std::sync::Condvar::new(),
            durable_audit: std::sync::atomic::AtomicU64::new(0),
            skeletons: Mutex::new(None),
        };
        // what was on disk when the store opened is durable
        let count = store.audit_head()?.count;
        store
            .durable_audit
            .store(count, std::sync::atomic::Ordering::SeqCst);
        Ok(store)
    }

    /// Like [`Store::open`], but while another handle still holds the store's lock (a process
    /// or node that is shutting down releases it a moment after it stops) it tries again, every
    /// 20 ms, for at most `wait`.
    pub fn open_waiting(dir: &Path, wait: std::time::Duration) -> Result<Self, StoreError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match Self::open(dir) {
                Err(e) if e.is_locked() && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes everything written so far durable; returns the bytes flushed (0 when another
    /// caller's flush made them durable).
    ///
    /// Group commit: callers that ask while a flush is running wait for it to end, and then one
    /// of them flushes for all of them — a flush that began after each of them asked, so it
    /// covers everything each had written. Many publishes and receive jobs at once then share
    /// a few disk syncs instead of queueing one each.
    pub fn flush(&self) -> Result<usize, StoreError> {
        let mut st = self.group();
        st.asked += 1;
        let mine = st.asked;
        loop {
            if st.done >= mine {
                return match &st.failed {
                    Some((at, e)) if *at >= mine => {
                        Err(StoreError::Corrupt(format!("a flush failed: {e}")))
                    }
                    _ => Ok(0),
                };
            }
            if !st.running {
                st.running = true;
                let covers = st.asked;
                drop(st);
                let upto = self.unflushed().next;
                // every audit entry applied before the flush began is durable after it
                let audit_upto = self.audit_head().map(|h| h.count);
                let result = self.db.flush();
                if result.is_ok() {
                    self.unflushed()
                        .own
                        .retain(|m| m.ticket.is_none_or(|t| t >= upto));
                    if let Ok(count) = audit_upto {
                        self.durable_audit
                            .fetch_max(count, std::sync::atomic::Ordering::SeqCst);
                        write_marker(&self.path, count);
                    }
                }
                st = self.group();
                st.running = false;
                st.done = covers;
                if let Err(e) = &result {
                    st.failed = Some((covers, e.to_string()));
                }
                self.flushed.notify_all();
                return Ok(result?);
            }
            st = self
                .flushed
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// How many audit entries a finished [`Store::flush`] made durable (or were on disk when
    /// the store opened): entries below this index survive a crash.
    pub fn durable_audit_count(&self) -> u64 {
        self.durable_audit.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn group(&self) -> std::sync::MutexGuard<'_, GroupFlush> {
        self.flushing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

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

    /// Numbers, builds and stores a record of this node's own, then flushes. `build` receives
    /// the next seq under `agreement` and returns the signed and verified record (the caller
    /// signs, then verifies its own signature, so nothing unverified is ever stored). The
    /// record, its index entries and the counter are written in one batch; if `build` fails,
    /// nothing is written and no seq is used.
    /// `outbox` names the peers the record must be delivered to: an outbox entry for each is
    /// written in the same batch, and stays until that peer acknowledges the record.
    ///
    /// The next seq is one past the highest of the counter and any record of `originator`
    /// already held under the agreement (a store restored from a backup learns its own later
    /// records back through catch-up; numbering must not reuse their seqs).
    pub fn publish<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        self.publish_by(agreement, originator, now, outbox, None, build)
    }

    /// [`Store::publish`], naming in its audit entry the person's account that published it
    /// (through the console).
    pub fn publish_by<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        by: Option<&str>,
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        let id = match self.stage_publish(agreement, originator, now, outbox, by, build)? {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        // outside the lock: other writers go on while the disk syncs, and publishes made
        // meanwhile share this sync
        self.flush()?;
        Ok(Ok(id))
    }

    /// Whether the store was restored from an older backup (see [`StoreError::HeldAfterRestore`]).
    pub fn restored(&self) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(keys::meta("restored"))?)
    }

    /// Notes that `member`'s status under `agreement` showed nothing of this agency's own
    /// stream beyond what this store holds (after a restore).
    pub fn heard_after_restore(
        &self,
        agreement: &AgreementId,
        member: &AgencyId,
    ) -> Result<bool, StoreError> {
        let key = restore_key(agreement, member);
        if self.tree.contains_key(&key)? {
            return Ok(false);
        }
        self.tree.insert(key, &[][..])?;
        Ok(true)
    }

    /// The members of `members` not yet heard from under `agreement` after a restore; empty
    /// when the store was not restored.
    pub fn restore_waiting(
        &self,
        agreement: &AgreementId,
        members: &[AgencyId],
    ) -> Result<Vec<AgencyId>, StoreError> {
        if !self.restored()? {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for m in members {
            if !self.tree.contains_key(restore_key(agreement, m))? {
                out.push(m.clone());
            }
        }
        Ok(out)
    }

    /// [`Store::publish`] without the flush: the record is written, but stays inside the node
    /// until a flush covers it.
    pub(crate) fn stage_publish<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        by: Option<&str>,
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        let _guard = self.lock();
        // after a restore, no seq is handed out before the members showed what they hold
        let waiting = self.restore_waiting(agreement, outbox)?;
        if !waiting.is_empty() {
            return Err(StoreError::HeldAfterRestore {
                agreement: agreement.clone(),
                waiting,
            });
        }
        let stream = StreamId::agency(originator);
        let slot = (agreement.clone(), stream.clone());
        let cached = self.own_last().get(&slot).copied();
        let held = match cached {
            Some(0) => None,
            Some(s) => Some(Seq::new(s).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None => {
                let held = self.last_seq(agreement, &stream)?;
                self.own_last()
                    .insert(slot.clone(), held.map_or(0, Seq::get));
                held
            }
        };
        let last = self.counter(agreement)?.max(held);
        let next = match last {
            None => Seq::FIRST,
            Some(s) => s
                .next()
                .ok_or_else(|| StoreError::SeqExhausted(agreement.clone()))?,
        };
        let verified = match build(next) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let r = &verified.record;
        if r.seq != next || &r.agreement != agreement {
            return Err(StoreError::SeqMismatch {
                id: verified.id,
                agreement: r.agreement.clone(),
                found: r.seq,
                expected: next,
            });
        }
        let mut batch = sled::Batch::default();
        batch.insert(keys::counter(agreement), &next.get().to_be_bytes());
        for peer in outbox {
            batch.insert(
                keys::outbox(peer, agreement, next),
                &verified.id.as_bytes()[..],
            );
        }
        self.add_record(&mut batch, &verified, now, &Source::Local);
        let mut head = self.audit_head()?;
        let event = accord_protocol::audit::AuditEvent::Publish {
            record: verified.id,
            agreement: r.agreement.clone(),
            seq: r.seq,
            withdraws: r.withdraws,
            by: by.map(str::to_owned),
        };
        self.append_audit(&mut batch, &mut head, now, [event])?;
        self.unflushed().own.push(Mark {
            ticket: None,
            agreement: agreement.clone(),
            seq: next.get(),
            id: verified.id,
        });
        let applied = self.tree.apply_batch(batch);
        {
            let mut u = self.unflushed();
            let ticket = u.next;
            u.next += 1;
            match u
                .own
                .iter()
                .position(|m| m.id == verified.id && m.ticket.is_none())
            {
                Some(i) if applied.is_err() => {
                    u.own.remove(i);
                }
                Some(i) => u.own[i].ticket = Some(ticket),
                None => {}
            }
        }
        applied?;
        self.own_last().insert(slot, next.get());
        self.advance_heads([(agreement, &stream)])?;
        Ok(Ok(verified.id))
    }

    /// The highest seq of `stream` held (or purged) under `agreement`.
    pub fn last_seq(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
    ) -> Result<Option<Seq>, StoreError> {
        let prefix = keys::seq_prefix(agreement, Some(stream));
        match self.tree.scan_prefix(&prefix).keys().next_back() {
            None => Ok(None),
            Some(key) => {
                let key = key?;
                let b: [u8; 8] = key[prefix.len()..]
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("seq key".into()))?;
                Seq::new(u64::from_be_bytes(b))
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }
        }
    }

    /// The last seq this node gave its own records under `agreement`.
    pub fn counter(&self, agreement: &AgreementId) -> Result<Option<Seq>, StoreError> {
        match self.tree.get(keys::counter(agreement))? {
            None => Ok(None),
            Some(v) => {
                let b: [u8; 8] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("counter is not 8 bytes".into()))?;
                Seq::new(u64::from_be_bytes(b))
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }
        }
    }

    /// Stores verified records received from peers (or imported), in one atomic batch, and
    /// says what happened to each. **Not flushed**: call [`Store::flush`] before acknowledging.
    pub fn insert_batch(
        &self,
        records: &[Verified<SignedRecord>],
        source: &Source,
        now: Timestamp,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let _guard = self.lock();
        let mut batch = sled::Batch::default();
        let mut outcomes = Vec::with_capacity(records.len());
        // seq slots taken earlier in this same batch
        let mut taken: std::collections::BTreeMap<Vec<u8>, RecordId> =
            std::collections::BTreeMap::new();
        // seqs whose evidence this batch keeps
        let mut evidence_slots: std::collections::BTreeSet<Vec<u8>> =
            std::collections::BTreeSet::new();
        let mut events = Vec::new();
        let from = match source {
            Source::Peer(a) => Some(a.clone()),
            Source::Local => None,
        };
        let mut head = self.audit_head()?;
        // records written by the batch not yet applied
        let mut pending = 0usize;
        for v in records {
            // a chunk is applied with its records' audit entries: each is whole on its own
            if pending >= APPLY_RECORDS {
                self.append_audit(&mut batch, &mut head, now, std::mem::take(&mut events))?;
                self.tree.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
            let r = &v.record;
            if self.tree.contains_key(keys::record(&v.id))? || taken.values().any(|id| *id == v.id)
            {
                outcomes.push(InsertOutcome::Duplicate(v.id));
                continue;
            }
            if self.tree.contains_key(keys::tombstone(&v.id))? {
                outcomes.push(InsertOutcome::Purged(v.id));
                continue;
            }
            let stream = v.stream();
            let slot = keys::seq(&r.agreement, &stream, r.seq);
            let existing = match taken.get(&slot) {
                Some(id) => Some(*id),
                None => self.tree.get(&slot)?.and_then(|b| keys::trailing_id(&b)),
            };
            if let Some(existing) = existing {
                // one record kept as evidence per seq: what proves the equivocation; more
                // versions of the same seq add nothing but let an originator fill the disk
                let evidence_slot = [&[keys::EVIDENCE][..], &slot[1..]].concat();
                if !evidence_slots.contains(&evidence_slot)
                    && self
                        .tree
                        .scan_prefix(&evidence_slot)
                        .next()
                        .transpose()?
                        .is_none()
                {
                    batch.insert(
                        keys::evidence(&r.agreement, &stream, r.seq, &v.id),
                        v.envelope.encode(),
                    );
                    evidence_slots.insert(evidence_slot);
                    pending += 1;
                }
                outcomes.push(InsertOutcome::Equivocation { id: v.id, existing });
                if let Some(from) = &from {
                    events.push(AuditEvent::Equivocation {
                        record: v.id,
                        existing,
                        from: from.clone(),
                    });
                }
                continue;
            }
            taken.insert(slot, v.id);
            self.add_record(&mut batch, v, now, source);
            pending += 1;
            outcomes.push(InsertOutcome::Stored(v.id));
            if let Some(from) = &from {
                events.push(AuditEvent::Receive {
                    record: v.id,
                    agreement: r.agreement.clone(),
                    originator: r.originator.clone(),
                    from: from.clone(),
                });
            }
        }
        self.append_audit(&mut batch, &mut head, now, events)?;
        self.tree.apply_batch(batch)?;
        let stored: std::collections::BTreeSet<(&AgreementId, StreamId)> = records
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, InsertOutcome::Stored(_)))
            .map(|(v, _)| (&v.record.agreement, v.stream()))
            .collect();
        self.advance_heads(stored.iter().map(|(a, s)| (*a, s)))?;
        // own records learnt back (a store restored from a backup): numbering goes on past them
        {
            let mut last = self.own_last();
            if !last.is_empty() {
                for (v, o) in records.iter().zip(&outcomes) {
                    if !matches!(o, InsertOutcome::Stored(_)) {
                        continue;
                    }
                    if let Some(l) = last.get_mut(&(v.record.agreement.clone(), v.stream())) {
                        *l = (*l).max(v.record.seq.get());
                    }
                }
            }
        }
        Ok(outcomes)
    }

    /// Moves the cached heads of these (agreement, stream) pairs past every slot now held.
    /// Called with the write lock held, after the slots' batch is applied.
    fn advance_heads<'a>(
        &self,
        streams: impl IntoIterator<Item = (&'a AgreementId, &'a StreamId)>,
    ) -> Result<(), StoreError> {
        let mut cache = self
            .heads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (agreement, stream) in streams {
            // an agreement not asked for yet is scanned when it first is
            let Some(heads) = cache.get_mut(agreement) else {
                continue;
            };
            let head = heads.entry(stream.clone()).or_default();
            while let Ok(next) = Seq::new(head.seq + 1) {
                let Some(slot) = self.tree.get(keys::seq(agreement, stream, next))? else {
                    break;
                };
                let id = keys::trailing_id(&slot)
                    .ok_or_else(|| StoreError::Corrupt("a seq slot without a record id".into()))?;
                head.extend(&id);
            }
        }
        Ok(())
    }

    fn add_record(
        &self,
        batch: &mut sled::Batch,
        v: &Verified<SignedRecord>,
        now: Timestamp,
        source: &Source,
    ) {
        let id = &v.id;
        batch.insert(keys::record(id), codec::encode(now, source, &v.envelope));
        let index = index_keys(&v.record, id);
        // learnt before the batch is applied: a skeleton known a moment early finds nothing
        // yet, one learnt late could be missed by a search in between
        self.learn_skeletons(&index);
        for key in index {
            batch.insert(key, &[][..]);
        }
        batch.insert(
            keys::seq(&v.record.agreement, &v.stream(), v.record.seq),
            &id.as_bytes()[..],
        );
    }

    /// Whether a record is held.
    pub fn contains(&self, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(keys::record(id))?)
    }

    /// A record by id.
    pub fn get(&self, id: &RecordId) -> Result<Option<StoredRecord>, StoreError> {
        match self.tree.get(keys::record(id))? {
            None => Ok(None),
            Some(bytes) => decode_stored(*id, &bytes).map(Some),
        }
    }

    /// The ids of held records whose hex id starts with `prefix`.
    pub fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<RecordId>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix([keys::RECORD]).keys() {
            let key = item?;
            if let Some(id) = keys::trailing_id(&key)
                && id.to_hex().starts_with(prefix)
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The record under (agreement, stream, seq), if held.
    pub fn by_seq(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
        seq: Seq,
    ) -> Result<Option<RecordId>, StoreError> {
        Ok(self
            .tree
            .get(keys::seq(agreement, stream, seq))?
            .and_then(|b| keys::trailing_id(&b)))
    }

    /// The records that withdraw, correct or answer `id`, as (kind, record id); kind is
    /// `withdraws`, `corrects` or `responds_to`. A reference the record format does not allow
    /// (another originator's withdrawal, an answer from another agreement: one that arrived
    /// before its target, so it could not be refused then) is left out.
    pub fn references_to(
        &self,
        id: &RecordId,
    ) -> Result<Vec<(&'static str, RecordId)>, StoreError> {
        use crate::references::{Kind, consistent};
        let prefix = keys::reference_prefix(id);
        let target = self.get(id)?;
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(&prefix).keys() {
            let key = item?;
            let kind = match key.get(prefix.len()) {
                Some(&keys::REF_WITHDRAWS) => Kind::Withdraws,
                Some(&keys::REF_CORRECTS) => Kind::Corrects,
                Some(&keys::REF_RESPONDS) => Kind::RespondsTo,
                _ => continue,
            };
            let Some(by) = keys::trailing_id(&key) else {
                continue;
            };
            if let Some(t) = &target
                && let Some(b) = self.get(&by)?
                && !consistent(kind, &b.record, &t.record)
            {
                continue;
            }
            out.push((kind.name(), by));
        }
        Ok(out)
    }

    /// The record that withdraws `id`, if any.
    pub fn withdrawn_by(&self, id: &RecordId) -> Result<Option<RecordId>, StoreError> {
        Ok(self
            .references_to(id)?
            .into_iter()
            .find(|(k, _)| *k == "withdraws")
            .map(|(_, by)| by))
    }

    /// The records matching every filter of `q`, oldest first (then by agreement, originator, seq). The most selective index given
    /// picks the candidates; every filter is then checked on the record itself.
    pub fn query(&self, q: &Query) -> Result<Vec<StoredRecord>, StoreError> {
        let mut ids: Vec<RecordId> = if let Some(s) = &q.subject {
            let mut v = Vec::new();
            for kind in &s.kinds {
                v.extend(self.ids_under(&keys::subject_prefix(
                    *kind as u8,
                    &kind.normalise(&s.value),
                ))?);
            }
            v
        } else if let Some((country, role)) = q.country {
            self.ids_under(&keys::route_prefix(country, role))?
        } else if let Some(c) = q.category {
            self.ids_under(&keys::category_prefix(c))?
        } else if let Some(a) = &q.agreement {
            let mut v = Vec::new();
            for item in self.tree.scan_prefix(keys::seq_prefix(a, None)) {
                let (_, value) = item?;
                v.extend(keys::trailing_id(&value));
            }
            v
        } else {
            let mut start = vec![keys::CREATED];
            if let Some(t) = q.since {
                start.extend_from_slice(&keys::created_bytes(t));
            }
            let mut v = Vec::new();
            for item in self.tree.range(start..vec![keys::CREATED + 1]).keys() {
                v.extend(keys::trailing_id(&item?));
            }
            v
        };
        ids.sort();
        ids.dedup();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(rec) = self.get(&id)? else { continue };
            if !q.admits(&rec.record) {
                continue;
            }
            out.push(rec);
        }
        out.sort_by(|a, b| {
            let key = |r: &StoredRecord| {
                (
                    r.record.created,
                    r.record.agreement.clone(),
                    r.record.originator.clone(),
                    r.record.seq,
                    r.id,
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(out)
    }

    /// The records `q` admits, in creation order from `from` (or `q.since`, the later), one
    /// creation second at a time: a page of the newest or oldest needs only as many reads as
    /// it shows, whatever the store holds. Each group's order within the second is the
    /// caller's to set.
    pub fn query_by_created<'a>(
        &'a self,
        q: &'a Query,
        from: Option<Timestamp>,
    ) -> impl Iterator<Item = Result<Vec<StoredRecord>, StoreError>> + 'a {
        let start_at = match (from, q.since) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let mut start = vec![keys::CREATED];
        if let Some(t) = start_at {
            start.extend_from_slice(&keys::created_bytes(t));
        }
        let mut keys_iter = self
            .tree
            .range(start..vec![keys::CREATED + 1])
            .keys()
            .peekable();
        std::iter::from_fn(move || {
            let first = match keys_iter.next()? {
                Ok(k) => k,
                Err(e) => return Some(Err(e.into())),
            };
            let second = first.get(1..9).map(<[u8]>::to_vec);
            let mut ids: Vec<RecordId> = keys::trailing_id(&first).into_iter().collect();
            while let Some(Ok(next)) = keys_iter.peek() {
                if next.get(1..9).map(<[u8]>::to_vec) != second {
                    break;
                }
                ids.extend(keys::trailing_id(next));
                keys_iter.next();
            }
            let mut group = Vec::with_capacity(ids.len());
            for id in ids {
                match self.get(&id) {
                    Ok(Some(rec)) if q.admits(&rec.record) => group.push(rec),
                    Ok(_) => {}
                    Err(e) => return Some(Err(e)),
                }
            }
            Some(Ok(group))
        })
    }

    /// Whether the index that narrows `q` (a subject's, or a route country's) names at most
    /// `few` records, counting keys only and stopping past `few`; `None` when no such index
    /// narrows it.
    pub fn few_candidates(&self, q: &Query, few: usize) -> Result<Option<bool>, StoreError> {
        let prefixes: Vec<Vec<u8>> = if let Some(s) = &q.subject {
            s.kinds
                .iter()
                .map(|kind| keys::subject_prefix(*kind as u8, &kind.normalise(&s.value)))
                .collect()
        } else if let Some((country, role)) = q.country {
            vec![keys::route_prefix(country, role)]
        } else {
            return Ok(None);
        };
        let mut n = 0usize;
        for prefix in prefixes {
            for k in self.tree.scan_prefix(prefix).keys() {
                k?;
                n += 1;
                if n > few {
                    return Ok(Some(false));
                }
            }
        }
        Ok(Some(true))
    }

    fn ids_under(&self, prefix: &[u8]) -> Result<Vec<RecordId>, StoreError> {
        let mut v = Vec::new();
        for item in self.tree.scan_prefix(prefix).keys() {
            v.extend(keys::trailing_id(&item?));
        }
        Ok(v)
    }

    /// Every record under `agreement`, by originator then seq.
    pub fn records_under(&self, agreement: &AgreementId) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(keys::seq_prefix(agreement, None)) {
            let (_, value) = item?;
            if let Some(id) = keys::trailing_id(&value) {
                out.extend(self.get(&id)?);
            }
        }
        Ok(out)
    }

    /// Every record held, in id order.
    pub fn all_records(&self) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix([keys::RECORD]) {
            let (key, value) = item?;
            if let Some(id) = keys::trailing_id(&key) {
                out.push(decode_stored(id, &value)?);
            }
        }
        Ok(out)
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.tree.scan_prefix([keys::RECORD]).count()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes records, with all their index entries, leaving a tombstone for each; flushes.
    pub fn purge(
        &self,
        ids: &[RecordId],
        now: Timestamp,
        reason: &str,
    ) -> Result<Vec<Tombstone>, StoreError> {
        let _guard = self.lock();
        let mut batch = sled::Batch::default();
        let mut out = Vec::new();
        for id in ids {
            let Some(rec) = self.get(id)? else { continue };
            let r = &rec.record;
            for key in index_keys(r, id) {
                batch.remove(key);
            }
            batch.remove(keys::record(id));
            // the seq slot keeps pointing at the id, so the sequence stays gap-free and a
            // second record under the same seq is still an equivocation
            let t = Tombstone {
                id: *id,
                agreement: r.agreement.clone(),
                originator: r.originator.clone(),
                seq: r.seq,
                stream: Some(rec.envelope.stream_of(r)),
                envelope_sha256: hex::encode(Sha256::digest(rec.envelope.encode())),
                purged_at: now,
                reason: reason.to_owned(),
            };
            let json = serde_json::to_vec(&t).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            batch.insert(keys::tombstone(id), json);
            out.push(t);
        }
        let mut head = self.audit_head()?;
        let events = out.iter().map(|t| AuditEvent::Purge {
            record: t.id,
            agreement: t.agreement.clone(),
            reason: t.reason.clone(),
        });
        self.append_audit(&mut batch, &mut head, now, events)?;
        self.tree.apply_batch(batch)?;
        self.flush()?;
        Ok(out)
    }

    /// Every tombstone, optionally only under one agreement.
    pub fn tombstones(
        &self,
        agreement: Option<&AgreementId>,
    ) -> Result<Vec<Tombstone>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix([keys::TOMBSTONE]) {
            let (_, value) = item?;
            let t: Tombstone = serde_json::from_slice(&value)
                .map_err(|e| StoreError::Corrupt(format!("tombstone: {e}")))?;
            if agreement.is_none_or(|a| *a == t.agreement) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// The stream of every record purged under `agreement`, by id, read from the sequence
    /// index (whose slots keep pointing at purged records): for tombstones kept before accord
    /// recorded their stream.
    pub fn tombstone_streams(
        &self,
        agreement: &AgreementId,
    ) -> Result<BTreeMap<RecordId, StreamId>, StoreError> {
        let prefix = keys::seq_prefix(agreement, None);
        let mut out = BTreeMap::new();
        for item in self.tree.scan_prefix(&prefix) {
            let (key, value) = item?;
            let Ok(id_bytes) = <[u8; 32]>::try_from(&value[..]) else {
                continue;
            };
            let id = RecordId::from_bytes(id_bytes);
            if !self.tree.contains_key(keys::tombstone(&id))? {
                continue;
            }
            // key: prefix, stream text, 0, 8 bytes of seq
            let rest = &key[prefix.len()..];
            let Some(end) = rest.iter().position(|b| *b == 0) else {
                continue;
            };
            let stream = std::str::from_utf8(&rest[..end])
                .ok()
                .and_then(|t| StreamId::new(t).ok())
                .ok_or_else(|| StoreError::Corrupt("a sequence slot names no stream".into()))?;
            out.insert(id, stream);
        }
        Ok(out)
    }

    /// The tombstone of a purged record.
    pub fn tombstone(&self, id: &RecordId) -> Result<Option<Tombstone>, StoreError> {
        match self.tree.get(keys::tombstone(id))? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("tombstone: {e}"))),
        }
    }

    /// Envelopes of equivocating records kept as evidence, as (agreement, originator, seq,
    /// offered id).
    pub fn equivocations(&self) -> Result<Vec<(RecordId, Envelope)>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix([keys::EVIDENCE]) {
            let (key, value) = item?;
            let env = Envelope::decode(&value)
                .map_err(|e| StoreError::Corrupt(format!("evidence: {e}")))?;
            if let Some(id) = keys::trailing_id(&key) {
                out.push((id, env));
            }
        }
        Ok(out)
    }

    /// Every equivocation whose evidence is kept, as (record kept as evidence, record held
    /// under the same seq): the alarm, as it stands after any restart.
    pub fn equivocation_pairs(&self) -> Result<Vec<(RecordId, RecordId)>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix([keys::EVIDENCE]).keys() {
            let key = item?;
            let (Some(offered), Some(slot)) = (keys::trailing_id(&key), key.len().checked_sub(32))
            else {
                continue;
            };
            let slot_key = [&[keys::SEQ][..], &key[1..slot]].concat();
            if let Some(held) = self.tree.get(slot_key)?.and_then(|v| keys::trailing_id(&v)) {
                out.push((offered, held));
            }
        }
        Ok(out)
    }

    /// The records waiting for `peer`, oldest first per agreement, at most `limit`: (outbox
    /// key, envelope). Entries under an agreement `hold` says to keep for later are passed over
    /// unread (their record is not even decoded); own records not yet durable too. A purged
    /// record's entry is dropped on the way, with a `withheld` audit entry in the same batch.
    pub fn outbox(
        &self,
        peer: &AgencyId,
        limit: usize,
        hold: impl Fn(&AgreementId) -> bool,
    ) -> Result<Vec<(Vec<u8>, Envelope)>, StoreError> {
        let mut out = Vec::new();
        let (mut stale, mut purged): (Vec<Vec<u8>>, Vec<AuditEvent>) = (Vec::new(), Vec::new());
        let prefix = keys::outbox_prefix(peer);
        for item in self.tree.scan_prefix(&prefix) {
            let (key, value) = item?;
            match keys::outbox_agreement(&key[prefix.len()..]) {
                Some(a) if hold(&a) => continue,
                Some(_) => {}
                None => {
                    stale.push(key.to_vec());
                    continue;
                }
            }
            match keys::trailing_id(&value) {
                Some(id) if self.is_unflushed(&id) => {} // not durable yet: not sent
                Some(id) => match self.get(&id)? {
                    Some(rec) => out.push((key.to_vec(), rec.envelope)),
                    None => {
                        // purged here before the peer acknowledged it: the entry leaves the
                        // outbox with a `withheld` entry saying so
                        purged.push(AuditEvent::Withheld {
                            record: id,
                            to: peer.clone(),
                            code: 0,
                            reason: format!(
                                "purged here before {peer} acknowledged it; never to be sent"
                            ),
                        });
                        stale.push(key.to_vec());
                    }
                },
                None => stale.push(key.to_vec()),
            }
            if out.len() >= limit {
                break;
            }
        }
        if !stale.is_empty() {
            tracing::warn!(%peer, entries = stale.len(), "outbox entries with no record to send removed");
            self.settle_outbox(crate::clock::now(), &stale, Vec::new(), purged)?;
        }
        Ok(out)
    }

    /// How many records wait for each peer.
    pub fn outbox_depths(&self) -> Result<std::collections::BTreeMap<AgencyId, usize>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for ((peer, _), n) in self.outbox_by_agreement()? {
            *out.entry(peer).or_insert(0) += n;
        }
        Ok(out)
    }

    /// How many own records wait in the outbox, by (peer, agreement).
    pub fn outbox_by_agreement(
        &self,
    ) -> Result<std::collections::BTreeMap<(AgencyId, AgreementId), usize>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for item in self.tree.scan_prefix([keys::OUTBOX]).keys() {
            let key = item?;
            let Some(end) = key[1..].iter().position(|b| *b == 0) else {
                continue;
            };
            let Ok(Ok(peer)) = std::str::from_utf8(&key[1..1 + end]).map(AgencyId::new) else {
                continue;
            };
            if let Some(agreement) = outbox_key_agreement(&peer, &key) {
                *out.entry((peer, agreement)).or_insert(0) += 1;
            }
        }
        Ok(out)
    }

    /// Per stream (an originator's own key, or a key it delegated), the highest seq up to which
    /// every record under `agreement` is held (purged records count as held: their slot stays).
    pub fn heads(
        &self,
        agreement: &AgreementId,
    ) -> Result<std::collections::BTreeMap<StreamId, u64>, StoreError> {
        Ok(self
            .stream_heads(agreement)?
            .into_iter()
            .map(|(s, h)| (s, h.seq))
            .collect())
    }

    /// [`Store::heads`] with the stream digest of each head.
    pub fn stream_heads(
        &self,
        agreement: &AgreementId,
    ) -> Result<std::collections::BTreeMap<StreamId, StreamHead>, StoreError> {
        // the write lock keeps a slot from being written between the scan and its caching
        let _guard = self.lock();
        let cached = self
            .heads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(agreement)
            .cloned();
        let mut heads = match cached {
            Some(h) => h,
            None => {
                let heads = self.scan_heads(agreement)?;
                self.heads
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(agreement.clone(), heads.clone());
                heads
            }
        };
        // own records not yet durable are not announced; the digest of the shorter prefix is
        // not kept, so none is given
        if let (Some(first), Some(own)) = (self.first_unflushed(agreement), self.agency()) {
            let stream = StreamId::agency(&own);
            if let Some(h) = heads.get_mut(&stream)
                && h.seq >= first
            {
                *h = StreamHead {
                    seq: first - 1,
                    digest: [0; 32],
                };
            }
        }
        Ok(heads)
    }

    /// [`Store::stream_heads`] computed from the seq index.
    fn scan_heads(
        &self,
        agreement: &AgreementId,
    ) -> Result<std::collections::BTreeMap<StreamId, StreamHead>, StoreError> {
        let prefix = keys::seq_prefix(agreement, None);
        let mut heads = std::collections::BTreeMap::new();
        // (stream bytes, head so far, still contiguous)
        let mut current: Option<(Vec<u8>, StreamHead, bool)> = None;
        for item in self.tree.scan_prefix(&prefix) {
            let (key, value) = item?;
            let rest = &key[prefix.len()..];
            let Some(end) = rest.iter().position(|b| *b == 0) else {
                continue;
            };
            let (orig, seq_bytes) = (&rest[..end], &rest[end + 1..]);
            let Ok(seq_arr) = <[u8; 8]>::try_from(seq_bytes) else {
                continue;
            };
            let seq = u64::from_be_bytes(seq_arr);
            if current
                .as_ref()
                .is_none_or(|(o, _, _)| o.as_slice() != orig)
            {
                if let Some((o, head, _)) = current.take() {
                    insert_head(&mut heads, &o, head);
                }
                current = Some((orig.to_vec(), StreamHead::default(), true));
            }
            if let Some((_, head, contiguous)) = &mut current
                && *contiguous
            {
                if seq == head.seq + 1 {
                    let id = keys::trailing_id(&value).ok_or_else(|| {
                        StoreError::Corrupt("a seq slot without a record id".into())
                    })?;
                    head.extend(&id);
                } else {
                    *contiguous = false;
                }
            }
        }
        if let Some((o, head, _)) = current {
            insert_head(&mut heads, &o, head);
        }
        Ok(heads)
    }

    /// Whether equivocation evidence is held for `stream` under `agreement`: two different
    /// records under one of its seqs.
    pub fn has_equivocation(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
    ) -> Result<bool, StoreError> {
        let mut prefix = vec![keys::EVIDENCE];
        prefix.extend_from_slice(&keys::seq_prefix(agreement, Some(stream))[1..]);
        Ok(self.tree.scan_prefix(prefix).next().transpose()?.is_some())
    }

    /// Up to `max_records` envelopes of `stream` under `agreement` from seq `from` through
    /// `to`, in seq order, at most about `max_bytes` in all; purged records are skipped. The
    /// flag says whether the answer reaches `to`.
    pub fn range(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
        from: Seq,
        to: Seq,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<(Vec<Envelope>, bool), StoreError> {
        let start = keys::seq(agreement, stream, from);
        let end = keys::seq(agreement, stream, to);
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for item in self.tree.range(start..=end) {
            let (key, value) = item?;
            if out.len() >= max_records || bytes >= max_bytes {
                return Ok((out, false));
            }
            let _ = key;
            let Some(id) = keys::trailing_id(&value) else {
                continue;
            };
            if self.is_unflushed(&id) {
                return Ok((out, false)); // an own record not durable yet, nor anything after it
            }
            if let Some(rec) = self.get(&id)? {
                bytes += rec.envelope.encoded_len();
                out.push(rec.envelope);
            }
        }
        Ok((out, true))
    }

    /// What the store holds, by kind of entry: (kind, entries, key + value bytes). The bytes
    /// the data itself takes, before sled's own overhead on disk; reads every entry.
    pub fn logical_bytes(&self) -> Result<Vec<(&'static str, u64, u64)>, StoreError> {
        let mut by: std::collections::BTreeMap<&'static str, (u64, u64)> =
            std::collections::BTreeMap::new();
        for item in self.tree.iter() {
            let (k, v) = item?;
            let kind = match k.first().copied() {
                Some(keys::RECORD) => "records",
                Some(keys::SEQ) => "seq index",
                Some(
                    keys::SUBJECT | keys::CATEGORY | keys::ROUTE | keys::CREATED | keys::REFERENCE,
                ) => "indexes",
                Some(keys::NAME | keys::WORD) => "search indexes",
                Some(keys::OUTBOX) => "outbox",
                Some(keys::AUDIT) => "audit log",
                Some(keys::RECEIPT) => "receipts",
                Some(keys::CHECKPOINT | keys::PARTNER_CHECKPOINT) => "checkpoints",
                _ => "other",
            };
            let e = by.entry(kind).or_default();
            e.0 += 1;
            e.1 += (k.len() + v.len()) as u64;
        }
        Ok(by.into_iter().map(|(k, (n, b))| (k, n, b)).collect())
    }

    #[cfg(test)]
    pub(crate) fn raw_tree(&self) -> &sled::Tree {
        &self.tree
    }
}

/// Every secondary index key of a record (not the record itself, not its seq slot).
fn index_keys(r: &Record, id: &RecordId) -> Vec<Vec<u8>> {
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
    for (kind, key) in crate::search::name_terms(r) {
        let mut k = keys::name_prefix(kind, &key);
        k.extend_from_slice(id.as_bytes());
        out.push(k);
    }
    for w in crate::search::words(r) {
        out.push(keys::word(&w, id));
    }
    out.sort();
    out.dedup();
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
