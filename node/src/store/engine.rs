//! The storage engine under the store: an ordered map of byte keys to byte values with
//! prefix and range scans (both ways), atomic batches and a durable flush (docs/ARCHITECTURE.md,
//! "The store"). [`Engine`] is all the store asks of one; [`SledEngine`] is the one it runs on,
//! and no sled type leaves this file. [`MemoryEngine`] keeps everything in memory: the store's
//! tests run on both ([`AnyEngine`] is the store's choice between them).
//!
//! What the store relies on, and an engine must give:
//! - a batch is applied whole or not at all, and reads after it see all of it; a key written
//!   twice in one batch holds the last write;
//! - once [`Engine::flush`] returns, everything applied before it survives a crash (the
//!   store acknowledges nothing before that: docs/invariants.md, rule 4);
//! - scans return keys in byte order, and may be read from either end.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, Deref, RangeBounds};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use thiserror::Error;

/// The engine failed: its own words, with what to do about damage.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct EngineError(String);

impl EngineError {
    /// Whether another process or handle holds the engine's files.
    pub(crate) fn is_locked(&self) -> bool {
        let t = &self.0;
        t.contains("lock") || t.contains("WouldBlock") || t.contains("Resource temporarily")
    }

    /// Whether the files may not be read for their permissions.
    pub(crate) fn is_permission(&self) -> bool {
        self.0.contains("ermission denied")
    }
}

impl From<sled::Error> for EngineError {
    fn from(e: sled::Error) -> Self {
        // sled's corruption error prints an empty backtrace; say what to do instead
        EngineError(match e {
            sled::Error::Corruption { at, .. } => match at {
                Some(at) => format!(
                    "the store's files are damaged (corrupted data at {at:?}); restore the data \
                     directory from a backup (docs/operations.md, Backups)"
                ),
                None => "the store's files are damaged (corrupted data); restore the data \
                         directory from a backup (docs/operations.md, Backups)"
                    .to_owned(),
            },
            other => other.to_string(),
        })
    }
}

/// A key or value read from the engine: sled's own buffer (not copied), or a copy of the
/// memory engine's.
#[derive(Clone, Debug)]
pub(super) struct Bytes(Repr);

#[derive(Clone, Debug)]
enum Repr {
    Sled(sled::IVec),
    Fjall(fjall::Slice),
    Owned(Vec<u8>),
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Sled(v) => v,
            Repr::Fjall(v) => v,
            Repr::Owned(v) => v,
        }
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(b: Bytes) -> Vec<u8> {
        match b.0 {
            Repr::Sled(v) => v.to_vec(),
            Repr::Fjall(v) => v.to_vec(),
            Repr::Owned(v) => v,
        }
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// Writes applied together, atomically ([`Engine::apply_batch`]).
#[derive(Debug, Default)]
pub(super) struct Batch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// Sets `key` to `value`.
    pub(super) fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        // owned keys and values (a record's bytes, most keys) move in uncopied
        self.ops.push((key.into(), Some(value.into())));
    }

    /// Removes `key`.
    pub(super) fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), None));
    }
}

/// One entry of a scan.
pub(super) type Entry = Result<(Bytes, Bytes), EngineError>;

/// What the store asks of its engine.
pub(super) trait Engine: Send + Sync + std::fmt::Debug {
    /// A scan's entries, in key order, from either end.
    type Iter: DoubleEndedIterator<Item = Entry>;

    /// The value of `key`.
    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, EngineError>;
    /// Whether `key` is set.
    fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError>;
    /// Sets one key (a batch of one).
    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), EngineError>;
    /// Applies a batch, whole or not at all.
    fn apply_batch(&self, batch: Batch) -> Result<(), EngineError>;
    /// Sets `key` to `new` (or removes it) only if its value is `old` (none: unset); otherwise
    /// gives back the value it has.
    fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Bytes>>, EngineError>;
    /// The entries whose keys start with `prefix`.
    fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Self::Iter;
    /// The entries whose keys lie in `range`.
    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Self::Iter;
    /// Every entry.
    fn iter(&self) -> Self::Iter;
    /// Whether nothing is set.
    fn is_empty(&self) -> bool;
    /// Makes everything applied so far durable; the bytes it wrote, as the engine counts them.
    fn flush(&self) -> Result<usize, EngineError>;
}

/// sled, the engine the design names: one tree (`accord`) of one database per data directory.
#[derive(Debug)]
pub(super) struct SledEngine {
    db: sled::Db,
    tree: sled::Tree,
}

impl SledEngine {
    /// Opens (or creates) the database in `dir`, with a page cache of `cache_bytes`.
    pub(super) fn open(dir: &Path, cache_bytes: u64) -> Result<Self, EngineError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()?;
        let tree = db.open_tree("accord")?;
        Ok(Self { db, tree })
    }
}

/// A scan of sled's tree.
pub(super) struct SledIter(sled::Iter);

impl std::fmt::Debug for SledIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SledIter")
    }
}

fn entry(item: sled::Result<(sled::IVec, sled::IVec)>) -> Entry {
    let (k, v) = item?;
    Ok((Bytes(Repr::Sled(k)), Bytes(Repr::Sled(v))))
}

impl Iterator for SledIter {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        self.0.next().map(entry)
    }
}

impl DoubleEndedIterator for SledIter {
    fn next_back(&mut self) -> Option<Entry> {
        self.0.next_back().map(entry)
    }
}

impl Engine for SledEngine {
    type Iter = SledIter;

    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, EngineError> {
        Ok(self.tree.get(key)?.map(|v| Bytes(Repr::Sled(v))))
    }

    fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError> {
        Ok(self.tree.contains_key(key)?)
    }

    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), EngineError> {
        self.tree.insert(key.as_ref(), value.as_ref())?;
        Ok(())
    }

    fn apply_batch(&self, batch: Batch) -> Result<(), EngineError> {
        let mut b = sled::Batch::default();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        self.tree.apply_batch(b)?;
        Ok(())
    }

    fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Bytes>>, EngineError> {
        Ok(self
            .tree
            .compare_and_swap(key, old, new)?
            .map_err(|e| e.current.map(|v| Bytes(Repr::Sled(v)))))
    }

    fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> SledIter {
        SledIter(self.tree.scan_prefix(prefix))
    }

    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> SledIter {
        SledIter(self.tree.range(range))
    }

    fn iter(&self) -> SledIter {
        SledIter(self.tree.iter())
    }

    fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    fn flush(&self) -> Result<usize, EngineError> {
        Ok(self.db.flush()?)
    }
}

/// fjall, a log-structured merge tree (an LSM engine like RocksDB's, in Rust): one keyspace
/// (`accord`) of one database in the data directory's `fjall/` folder. A batch is one
/// journal entry (a checksummed frame: replayed whole or not at all after a crash) and a
/// flush is an `fsync` of the journal; entries are sorted into compressed tables in the
/// background. Chosen per data directory (`store_engine` in the node file): docs/benchmarks.md,
/// "Storage engines", says when.
pub(super) struct FjallEngine {
    db: fjall::Database,
    keyspace: fjall::Keyspace,
    /// Held by every write: a compare-and-swap is then atomic against the others.
    write: Mutex<()>,
}

impl std::fmt::Debug for FjallEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FjallEngine")
    }
}

/// The folder of a data directory that holds a fjall database.
pub(super) const FJALL_DIR: &str = "fjall";

impl From<fjall::Error> for EngineError {
    fn from(e: fjall::Error) -> Self {
        EngineError(match e {
            fjall::Error::Locked => "the database is locked (WouldBlock)".to_owned(),
            fjall::Error::Io(e) => e.to_string(),
            fjall::Error::JournalRecovery(_)
            | fjall::Error::InvalidTrailer
            | fjall::Error::InvalidTag(_)
            | fjall::Error::Decompress(_)
            | fjall::Error::Unrecoverable => format!(
                "the store's files are damaged ({e:?}); restore the data directory from a \
                 backup (docs/operations.md, Backups)"
            ),
            other => format!("{other:?}"),
        })
    }
}

impl FjallEngine {
    /// Opens (or creates) the database in `dir`'s `fjall/` folder, with a block cache of
    /// `cache_bytes` and a memtable of at most half that.
    pub(super) fn open(dir: &Path, cache_bytes: u64) -> Result<Self, EngineError> {
        let db = fjall::Database::builder(dir.join(FJALL_DIR))
            .cache_size(cache_bytes)
            // Two workers, not one. In fjall 3.1.13 a worker that seals the memtable then
            // waits to put a flush on its own work queue (a blocking send into a bounded
            // queue of 1,000), while every write past the memtable's size adds a rotation
            // request to that queue without waiting. During a long compaction those requests
            // fill it; a lone worker then waits on itself for good, nothing is flushed again
            // and the memtable, and the node's memory, grow with every record (found at about
            // 1,900,000 records: docs/benchmarks.md, "The cause: fjall's one worker waits on
            // itself"). With two, each receive by one worker moves the other's waiting send
            // into the queue, so at most one of them waits at a time. Two cost about 30 % of
            // the insert rate and kept memory flat to 2,000,000 records.
            .worker_threads(2)
            .open()?;
        // the memtable is what a crash replays from the journal, and what memory holds
        // beyond the cache: half the cache's size
        //
        // Below the first level, a table's block index and bloom filter are partitioned: a
        // small top-level block stays in memory and a point read loads one partition of a
        // few KiB through the cache. Unpartitioned, a read that missed the cache loaded the
        // table's whole index or filter block (about 1 MiB each for a 64 MiB table), and
        // at 1,000,000 records that copying was a third of a read by id (docs/benchmarks.md,
        // "Search"). These options are fixed when a store is made: a store made before keeps
        // its own.
        let keyspace = db.keyspace("accord", || {
            use fjall::config::PartitioningPolicy;
            fjall::KeyspaceCreateOptions::default()
                .max_memtable_size(cache_bytes / 2)
                .index_block_partitioning_policy(PartitioningPolicy::new([false, true]))
                .filter_block_partitioning_policy(PartitioningPolicy::new([false, true]))
        })?;
        Ok(Self {
            db,
            keyspace,
            write: Mutex::new(()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A scan of fjall's keyspace (a snapshot: writes made during it are not seen).
pub(super) struct FjallIter(fjall::Iter);

impl std::fmt::Debug for FjallIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FjallIter")
    }
}

fn fjall_entry(guard: fjall::Guard) -> Entry {
    let (k, v) = guard.into_inner()?;
    Ok((Bytes(Repr::Fjall(k)), Bytes(Repr::Fjall(v))))
}

impl Iterator for FjallIter {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        self.0.next().map(fjall_entry)
    }
}

impl DoubleEndedIterator for FjallIter {
    fn next_back(&mut self) -> Option<Entry> {
        self.0.next_back().map(fjall_entry)
    }
}

impl Engine for FjallEngine {
    type Iter = FjallIter;

    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, EngineError> {
        Ok(self.keyspace.get(key)?.map(|v| Bytes(Repr::Fjall(v))))
    }

    fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError> {
        Ok(self.keyspace.contains_key(key)?)
    }

    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), EngineError> {
        let _guard = self.lock();
        self.keyspace.insert(key.as_ref(), value.as_ref())?;
        Ok(())
    }

    fn apply_batch(&self, batch: Batch) -> Result<(), EngineError> {
        // fjall gives every write of a batch the same sequence number: a key written twice in
        // one batch would have no defined winner, so the last write of each key is kept here
        let ops: BTreeMap<Vec<u8>, Option<Vec<u8>>> = batch.ops.into_iter().collect();
        let mut b = self.db.batch();
        for (k, v) in ops {
            match v {
                Some(v) => b.insert(&self.keyspace, k, v),
                None => b.remove(&self.keyspace, k),
            }
        }
        let _guard = self.lock();
        b.commit()?;
        Ok(())
    }

    fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Bytes>>, EngineError> {
        let _guard = self.lock();
        let current = self.keyspace.get(key.as_ref())?;
        if current.as_deref() != old {
            return Ok(Err(current.map(|v| Bytes(Repr::Fjall(v)))));
        }
        match new {
            Some(v) => self.keyspace.insert(key.as_ref(), v)?,
            None => self.keyspace.remove(key.as_ref())?,
        }
        Ok(Ok(()))
    }

    fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> FjallIter {
        FjallIter(self.keyspace.prefix(prefix))
    }

    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> FjallIter {
        FjallIter(self.keyspace.range(range))
    }

    fn iter(&self) -> FjallIter {
        FjallIter(self.keyspace.iter())
    }

    fn is_empty(&self) -> bool {
        self.keyspace.first_key_value().is_none()
    }

    fn flush(&self) -> Result<usize, EngineError> {
        self.db.persist(fjall::PersistMode::SyncAll)?;
        Ok(0)
    }
}

/// Every key and value in memory, in one ordered map: nothing survives the process. A store
/// opened again on the same directory in the same process finds what it left (the tests reopen
/// stores), so a memory store is kept per directory until the process ends.
#[derive(Clone, Debug, Default)]
pub(super) struct MemoryEngine {
    map: Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>,
}

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

impl MemoryEngine {
    /// The memory engine of `dir`: the one made for it before in this process, or a new one.
    pub(super) fn of(dir: &Path) -> Self {
        Self::all().entry(dir.to_path_buf()).or_default().clone()
    }

    /// Forgets the memory engine of `dir`: its entries go once the stores open on it close.
    #[cfg(test)]
    pub(super) fn forget(dir: &Path) {
        Self::all().remove(dir);
    }

    fn all() -> std::sync::MutexGuard<'static, HashMap<PathBuf, MemoryEngine>> {
        static ALL: OnceLock<Mutex<HashMap<PathBuf, MemoryEngine>>> = OnceLock::new();
        ALL.get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Map> {
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Map> {
        self.map.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn scan(&self, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> MemoryIter {
        MemoryIter {
            map: self.map.clone(),
            lo,
            hi,
        }
    }
}

/// A scan of the memory engine: each step looks up the next key past the last one read, so no
/// lock is held between steps (the store writes while it scans, as it may with sled).
#[derive(Debug)]
pub(super) struct MemoryIter {
    map: Arc<RwLock<Map>>,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
}

impl MemoryIter {
    fn step(&mut self, back: bool) -> Option<Entry> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        // an empty or inverted range (BTreeMap::range panics on one)
        let empty = match (&self.lo, &self.hi) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        if empty {
            return None;
        }
        let mut range = map.range::<Vec<u8>, _>((self.lo.clone(), self.hi.clone()));
        let (k, v) = if back {
            range.next_back()
        } else {
            range.next()
        }?;
        let (k, v) = (k.clone(), v.clone());
        if back {
            self.hi = Bound::Excluded(k.clone());
        } else {
            self.lo = Bound::Excluded(k.clone());
        }
        Some(Ok((Bytes(Repr::Owned(k)), Bytes(Repr::Owned(v)))))
    }
}

impl Iterator for MemoryIter {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        self.step(false)
    }
}

impl DoubleEndedIterator for MemoryIter {
    fn next_back(&mut self) -> Option<Entry> {
        self.step(true)
    }
}

/// The smallest key after every key starting with `prefix` (none: no key is).
fn past_prefix(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut p = prefix.to_vec();
    while let Some(last) = p.pop() {
        if last < u8::MAX {
            p.push(last + 1);
            return Bound::Excluded(p);
        }
    }
    Bound::Unbounded
}

fn owned<K: AsRef<[u8]>>(b: Bound<&K>) -> Bound<Vec<u8>> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_ref().to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.as_ref().to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Engine for MemoryEngine {
    type Iter = MemoryIter;

    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, EngineError> {
        Ok(self
            .read()
            .get(key.as_ref())
            .map(|v| Bytes(Repr::Owned(v.clone()))))
    }

    fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError> {
        Ok(self.read().contains_key(key.as_ref()))
    }

    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), EngineError> {
        self.write()
            .insert(key.as_ref().to_vec(), value.as_ref().to_vec());
        Ok(())
    }

    fn apply_batch(&self, batch: Batch) -> Result<(), EngineError> {
        let mut map = self.write();
        for (k, v) in batch.ops {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        Ok(())
    }

    fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Bytes>>, EngineError> {
        let mut map = self.write();
        let current = map.get(key.as_ref());
        if current.map(Vec::as_slice) != old {
            return Ok(Err(current.map(|v| Bytes(Repr::Owned(v.clone())))));
        }
        match new {
            Some(v) => map.insert(key.as_ref().to_vec(), v.to_vec()),
            None => map.remove(key.as_ref()),
        };
        Ok(Ok(()))
    }

    fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> MemoryIter {
        let p = prefix.as_ref();
        self.scan(Bound::Included(p.to_vec()), past_prefix(p))
    }

    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> MemoryIter {
        self.scan(owned(range.start_bound()), owned(range.end_bound()))
    }

    fn iter(&self) -> MemoryIter {
        self.scan(Bound::Unbounded, Bound::Unbounded)
    }

    fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn flush(&self) -> Result<usize, EngineError> {
        Ok(0)
    }
}

/// The engine a store runs on: sled or fjall, or (for tests) memory.
#[derive(Debug)]
pub(super) enum AnyEngine {
    /// sled, on disk.
    Sled(SledEngine),
    /// fjall, on disk.
    Fjall(FjallEngine),
    /// Memory only.
    Memory(MemoryEngine),
}

/// A scan of either engine. sled's iterator is the larger by far; one lives on the stack per
/// scan, where boxing it would cost an allocation per scan.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(super) enum AnyIter {
    /// sled's.
    Sled(SledIter),
    /// fjall's.
    Fjall(FjallIter),
    /// The memory engine's.
    Memory(MemoryIter),
}

impl Iterator for AnyIter {
    type Item = Entry;
    fn next(&mut self) -> Option<Entry> {
        match self {
            AnyIter::Sled(i) => i.next(),
            AnyIter::Fjall(i) => i.next(),
            AnyIter::Memory(i) => i.next(),
        }
    }
}

impl DoubleEndedIterator for AnyIter {
    fn next_back(&mut self) -> Option<Entry> {
        match self {
            AnyIter::Sled(i) => i.next_back(),
            AnyIter::Fjall(i) => i.next_back(),
            AnyIter::Memory(i) => i.next_back(),
        }
    }
}

impl AnyIter {
    /// The keys alone.
    pub(super) fn keys(self) -> impl DoubleEndedIterator<Item = Result<Bytes, EngineError>> {
        self.map(|e| e.map(|(k, _)| k))
    }
}

/// Calls the same method on whichever engine it is.
macro_rules! either {
    ($self:ident, $e:ident => $call:expr) => {
        match $self {
            AnyEngine::Sled($e) => $call,
            AnyEngine::Fjall($e) => $call,
            AnyEngine::Memory($e) => $call,
        }
    };
}

impl Engine for AnyEngine {
    type Iter = AnyIter;

    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, EngineError> {
        either!(self, e => e.get(key))
    }

    fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError> {
        either!(self, e => e.contains_key(key))
    }

    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), EngineError> {
        either!(self, e => e.insert(key, value))
    }

    fn apply_batch(&self, batch: Batch) -> Result<(), EngineError> {
        either!(self, e => e.apply_batch(batch))
    }

    fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Bytes>>, EngineError> {
        either!(self, e => e.compare_and_swap(key, old, new))
    }

    fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> AnyIter {
        match self {
            AnyEngine::Sled(e) => AnyIter::Sled(e.scan_prefix(prefix)),
            AnyEngine::Fjall(e) => AnyIter::Fjall(e.scan_prefix(prefix)),
            AnyEngine::Memory(e) => AnyIter::Memory(e.scan_prefix(prefix)),
        }
    }

    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> AnyIter {
        match self {
            AnyEngine::Sled(e) => AnyIter::Sled(e.range(range)),
            AnyEngine::Fjall(e) => AnyIter::Fjall(e.range(range)),
            AnyEngine::Memory(e) => AnyIter::Memory(e.range(range)),
        }
    }

    fn iter(&self) -> AnyIter {
        match self {
            AnyEngine::Sled(e) => AnyIter::Sled(e.iter()),
            AnyEngine::Fjall(e) => AnyIter::Fjall(e.iter()),
            AnyEngine::Memory(e) => AnyIter::Memory(e.iter()),
        }
    }

    fn is_empty(&self) -> bool {
        either!(self, e => e.is_empty())
    }

    fn flush(&self) -> Result<usize, EngineError> {
        either!(self, e => e.flush())
    }
}
