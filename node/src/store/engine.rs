//! The storage engine under the store: an ordered map of byte keys to byte values with
//! prefix and range scans (both ways), atomic batches and a durable flush (docs/ARCHITECTURE.md,
//! "The store"). [`Engine`] is all the store asks of one; [`SledEngine`] is the one it runs on,
//! and no sled type leaves this file.
//!
//! What the store relies on, and an engine must give:
//! - a batch is applied whole or not at all, and reads after it see all of it;
//! - once [`Engine::flush`] returns, everything applied before it survives a crash (the
//!   store acknowledges nothing before that: docs/invariants.md, rule 4);
//! - scans return keys in byte order, and may be read from either end.

use std::ops::{Deref, RangeBounds};
use std::path::Path;

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

/// A key or value read from the engine: its own buffer, not copied.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Bytes(sled::IVec);

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Writes applied together, atomically ([`Engine::apply_batch`]).
#[derive(Debug, Default)]
pub(super) struct Batch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// Sets `key` to `value`.
    pub(super) fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.ops
            .push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    /// Removes `key`.
    pub(super) fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.ops.push((key.as_ref().to_vec(), None));
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
    pub(crate) fn open(dir: &Path, cache_bytes: u64) -> Result<Self, EngineError> {
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
    Ok((Bytes(k), Bytes(v)))
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

impl SledIter {
    /// The keys alone.
    pub(super) fn keys(self) -> impl DoubleEndedIterator<Item = Result<Bytes, EngineError>> {
        self.map(|e| e.map(|(k, _)| k))
    }
}

impl Engine for SledEngine {
    type Iter = SledIter;

    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, EngineError> {
        Ok(self.tree.get(key)?.map(Bytes))
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
            .map_err(|e| e.current.map(Bytes)))
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
