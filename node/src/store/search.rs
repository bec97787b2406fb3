//! The store's side of search (docs/search.md): the postings of the name and word indexes,
//! whether the indexes hold this accord's keys, and `accord reindex`.

use super::engine::{AnyEngine, Batch, Engine};
use accord_protocol::RecordId;

use super::{Store, StoreError, decode_stored, index_keys, keys};
use crate::search::SEARCH_INDEX_VERSION;
use crate::store::SubjectKind;

/// Postings of the name index: each record's id, with the names that gave it the key.
pub type Postings = Vec<(RecordId, Vec<u8>)>;

/// The key of the search index's version in the meta entries.
const VERSION_KEY: &str = "search_index";

/// The distinct part skeletons the name index holds (its `s` keys), and the letters they use:
/// what a `--fuzzy` search looks up its near skeletons in.
#[derive(Debug, Default)]
pub struct Skeletons {
    pub(super) set: std::collections::HashSet<String>,
    alphabet: std::collections::BTreeSet<char>,
}

impl Skeletons {
    /// Whether the index holds this skeleton.
    pub fn contains(&self, skeleton: &str) -> bool {
        self.set.contains(skeleton)
    }

    /// The letters of the skeletons held.
    pub fn alphabet(&self) -> Vec<char> {
        self.alphabet.iter().copied().collect()
    }

    /// How many skeletons are held.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    fn add(&mut self, skeleton: &str) {
        if !self.set.contains(skeleton) {
            self.alphabet.extend(skeleton.chars());
            self.set.insert(skeleton.to_owned());
        }
    }

    /// Adds the skeletons among index keys.
    fn learn(&mut self, index: &[(Vec<u8>, Vec<u8>)]) {
        for (k, _) in index {
            if let Some(s) = keys::name_skeleton(k) {
                self.add(s);
            }
        }
    }
}

/// The skeletons of the name index as the store knows them ([`Index::with_skeletons`]).
#[derive(Debug, Default)]
pub(super) enum SkeletonDict {
    /// Not read: nothing is kept.
    #[default]
    Unread,
    /// Being read from the index, without the write lock: what records written meanwhile add.
    Reading(Skeletons),
    /// Read, and kept up to date as records are written.
    Ready(Box<Skeletons>),
}

impl Store {
    /// Every skeleton of the name index's `s` keys: from the first key of each, the next
    /// skeleton is found by seeking past all of its postings.
    pub(super) fn scan_skeletons(&self) -> Result<Skeletons, StoreError> {
        let mut out = Skeletons::default();
        let mut from = vec![keys::NAME, b's'];
        while let Some(item) = self.kv.range(from.clone()..).next() {
            let (key, _) = item?;
            let Some(skeleton) = keys::name_skeleton(&key) else {
                break;
            };
            out.add(skeleton);
            from = keys::name_prefix(b's', skeleton);
            if let Some(last) = from.last_mut() {
                *last = 1; // past every `s skeleton 00 id`, before any longer skeleton
            }
        }
        Ok(out)
    }

    /// Adds the skeletons among a record's index keys to the skeletons of a `--fuzzy` search,
    /// once they are read or being read. Called under the write lock, before the keys are
    /// applied.
    pub(super) fn learn_skeletons(&self, index: &[(Vec<u8>, Vec<u8>)]) {
        match &mut *self.skeleton_dict() {
            SkeletonDict::Ready(d) => d.learn(index),
            SkeletonDict::Reading(meanwhile) => meanwhile.learn(index),
            SkeletonDict::Unread => {}
        }
    }

    /// Starts reading the skeletons from the index: under the write lock, so every record
    /// written before is applied and every one written after adds its skeletons to what
    /// [`Store::end_skeleton_read`] keeps.
    pub(super) fn begin_skeleton_read(&self) {
        let _guard = self.lock();
        *self.skeleton_dict() = SkeletonDict::Reading(Skeletons::default());
    }

    /// Keeps `read` (the skeletons read since [`Store::begin_skeleton_read`]) with those
    /// learnt meanwhile, and returns the kept dictionary, locked; `read` back when the indexes
    /// were rebuilt meanwhile (nothing is kept then).
    pub(super) fn end_skeleton_read(
        &self,
        mut read: Skeletons,
    ) -> Result<std::sync::MutexGuard<'_, SkeletonDict>, Skeletons> {
        let mut dict = self.skeleton_dict();
        match std::mem::take(&mut *dict) {
            SkeletonDict::Reading(meanwhile) => {
                for s in meanwhile.set {
                    read.add(&s);
                }
                *dict = SkeletonDict::Ready(Box::new(read));
                Ok(dict)
            }
            other => {
                *dict = other;
                Err(read)
            }
        }
    }

    fn skeleton_dict(&self) -> std::sync::MutexGuard<'_, SkeletonDict> {
        self.skeletons
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn ids_capped(&self, prefix: &[u8], cap: usize) -> Result<(Vec<RecordId>, bool), StoreError> {
        let mut v = Vec::new();
        for item in self.kv.scan_prefix(prefix).keys() {
            if v.len() >= cap {
                return Ok((v, true));
            }
            v.extend(keys::trailing_id(&item?));
        }
        Ok((v, false))
    }

    /// Marks a new store's indexes as current.
    pub(super) fn mark_search_index(tree: &AnyEngine) -> Result<(), StoreError> {
        tree.insert(keys::meta(VERSION_KEY), SEARCH_INDEX_VERSION.to_be_bytes())?;
        Ok(())
    }
}

interface! {
    /// The search indexes: name, word and subject postings, and rebuilding them.
    Index, index
}

impl Index<'_> {
    /// The postings under one key of the name index, at most `cap` (and whether there were
    /// more): each record's id, with the names of its people that gave it the key
    /// ([`crate::search::name_terms`]), so a search judges them without reading the record.
    pub fn name_postings(
        &self,
        kind: u8,
        key: &str,
        cap: usize,
    ) -> Result<(Postings, bool), StoreError> {
        let mut v = Vec::new();
        for item in self.kv.scan_prefix(keys::name_prefix(kind, key)) {
            if v.len() >= cap {
                return Ok((v, true));
            }
            let (k, value) = item?;
            if let Some(id) = keys::trailing_id(&k) {
                v.push((id, value.into()));
            }
        }
        Ok((v, false))
    }

    /// Runs `f` on the distinct part skeletons of the name index. The first call reads them
    /// from the index (one seek per skeleton: seconds at 1,000,000 records) without holding
    /// the write lock: records written from the moment it starts add their skeletons to what
    /// it reads, and from then on as they are written ([`Store::learn_skeletons`]). One call
    /// reads at a time; the others wait for it. `f` must not use the store.
    pub fn with_skeletons<R>(&self, f: impl FnOnce(&Skeletons) -> R) -> Result<R, StoreError> {
        if let SkeletonDict::Ready(d) = &*self.skeleton_dict() {
            return Ok(f(d));
        }
        let _reader = self
            .skeleton_reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let SkeletonDict::Ready(d) = &*self.skeleton_dict() {
            return Ok(f(d));
        }
        self.begin_skeleton_read();
        let read = match self.scan_skeletons() {
            Ok(read) => read,
            Err(e) => {
                *self.skeleton_dict() = SkeletonDict::Unread;
                return Err(e);
            }
        };
        match self.end_skeleton_read(read) {
            Ok(dict) => match &*dict {
                SkeletonDict::Ready(d) => Ok(f(d)),
                _ => Ok(f(&Skeletons::default())),
            },
            // reindexed meanwhile: what was read serves this call only
            Err(read) => Ok(f(&read)),
        }
    }

    /// The records with a word starting with `prefix` (or exactly `prefix`, when `whole`), at
    /// most `cap`.
    pub fn word_ids(
        &self,
        prefix: &str,
        whole: bool,
        cap: usize,
    ) -> Result<(Vec<RecordId>, bool), StoreError> {
        let mut p = keys::word_prefix(prefix);
        if whole {
            p.push(0);
        }
        self.ids_capped(&p, cap)
    }

    /// The records with a subject key of `kind` equal to `normalised`.
    pub fn subject_ids(
        &self,
        kind: SubjectKind,
        normalised: &str,
    ) -> Result<Vec<RecordId>, StoreError> {
        self.ids_under(&keys::subject_prefix(kind as u8, normalised))
    }

    /// Whether the indexes hold the keys this accord makes: true for a store made by it or
    /// reindexed by it, and for an empty one.
    pub fn search_index_current(&self) -> Result<bool, StoreError> {
        use std::sync::atomic::Ordering;
        if self.index_current.load(Ordering::Acquire) {
            return Ok(true);
        }
        let current = match self.kv.get(keys::meta(VERSION_KEY))? {
            Some(v) => v.as_ref() == SEARCH_INDEX_VERSION.to_be_bytes(),
            // a store from before search was versioned: current only while it is empty
            None => return Ok(self.kv.scan_prefix([keys::RECORD]).next().is_none()),
        };
        self.index_current.store(current, Ordering::Release);
        Ok(current)
    }

    /// Rebuilds every secondary index (subjects, category, route, created time, references,
    /// names, words) from the records held, then marks the indexes current and flushes.
    /// `progress` is told each record done. Records and their seq slots are not touched.
    /// Returns the records indexed.
    pub fn reindex(&self, mut progress: impl FnMut(u64)) -> Result<u64, StoreError> {
        let _guard = self.lock();
        // every old index entry goes first, whatever keys an older accord made
        for prefix in keys::INDEXES {
            let mut batch = Batch::default();
            let mut n = 0usize;
            for k in self.kv.scan_prefix([prefix]).keys() {
                batch.remove(k?);
                n += 1;
                if n == 512 {
                    self.kv.apply_batch(std::mem::take(&mut batch))?;
                    n = 0;
                }
            }
            self.kv.apply_batch(batch)?;
        }
        let mut done = 0u64;
        let mut batch = Batch::default();
        let mut in_batch = 0usize;
        for item in self.kv.scan_prefix([keys::RECORD]) {
            let (key, value) = item?;
            let Some(id) = keys::trailing_id(&key) else {
                continue;
            };
            let rec = decode_stored(id, &value)?;
            for (k, v) in index_keys(&rec.record, &id) {
                batch.insert(k, v);
            }
            in_batch += 1;
            done += 1;
            progress(done);
            if in_batch == super::APPLY_RECORDS {
                self.kv.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        batch.insert(
            keys::meta(VERSION_KEY),
            &SEARCH_INDEX_VERSION.to_be_bytes()[..],
        );
        self.kv.apply_batch(batch)?;
        *self.skeleton_dict() = SkeletonDict::Unread;
        self.flush()?;
        Ok(done)
    }

    /// Forgets the skeletons read, so the next `--fuzzy` search reads them again (tests of
    /// reading them while records are written).
    #[cfg(test)]
    pub(crate) fn forget_skeletons(&self) {
        *self.skeleton_dict() = SkeletonDict::Unread;
    }

    /// Forgets the search index's version, as a store written by an accord before search was
    /// (tests of `accord reindex`).
    #[doc(hidden)]
    pub fn forget_search_index(&self) -> Result<(), StoreError> {
        let _guard = self.lock();
        let mut batch = Batch::default();
        for prefix in [keys::NAME, keys::WORD] {
            for k in self.kv.scan_prefix([prefix]).keys() {
                batch.remove(k?);
            }
        }
        batch.remove(keys::meta(VERSION_KEY));
        self.kv.apply_batch(batch)?;
        self.index_current
            .store(false, std::sync::atomic::Ordering::Release);
        *self.skeleton_dict() = SkeletonDict::Unread;
        self.flush()?;
        Ok(())
    }
}
