//! Copying a store to a new data directory on another storage engine (`accord copy-store`):
//! every entry exactly as it is, then checked entry by entry.

use super::*;
use accord_config::StoreEngine;

/// Entries per batch of a copy: small enough that sled keeps no large batch in memory.
const COPY_BATCH: usize = 1_024;

impl Store {
    /// How many entries the store holds, of every kind (reads every key).
    pub fn entries(&self) -> Result<u64, StoreError> {
        let mut n = 0u64;
        for item in self.kv.iter() {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// Copies every entry of this store into a new store in `to`, made on `engine`, flushes
    /// it, then reads both back entry by entry and checks they are the same; calls `progress`
    /// with the entries copied so far. `to` must not exist, or be empty. Returns the entries
    /// copied. Nothing in this store changes; on any error `to` is left for the operator to
    /// remove, and this store stays the one to run.
    pub fn copy_to(
        &self,
        to: &Path,
        engine: StoreEngine,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, StoreError> {
        let refuse = |reason: String| StoreError::Open {
            path: to.to_path_buf(),
            reason,
        };
        if to.exists() {
            let mut entries = std::fs::read_dir(to).map_err(|e| refuse(e.to_string()))?;
            if entries.next().is_some() {
                return Err(refuse("it is not empty; copy into a new directory".into()));
            }
        }
        if to
            .canonicalize()
            .ok()
            .is_some_and(|t| Some(t) == self.path.canonicalize().ok())
        {
            return Err(refuse("it is the store's own directory".into()));
        }
        let copy = Store::open_as(to, engine)?;
        let mut batch = Batch::default();
        // what a new store writes of its own (its schema, its index version) gives way to
        // what this store holds, so the copy is this store exactly
        for item in copy.kv.iter() {
            batch.remove(Vec::from(item?.0));
        }
        copy.kv.apply_batch(std::mem::take(&mut batch))?;
        let mut copied = 0u64;
        let mut pending = 0usize;
        for item in self.kv.iter() {
            let (k, v) = item?;
            batch.insert(Vec::from(k), Vec::from(v));
            pending += 1;
            copied += 1;
            if pending >= COPY_BATCH {
                copy.kv.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
                progress(copied);
            }
        }
        copy.kv.apply_batch(batch)?;
        // the copy's marker file then records the audit entries it holds
        copy.flush()?;
        progress(copied);
        drop(copy);

        // (sled lets go of its lock a moment after its last handle is dropped)
        let copy = Store::open_waiting_as(to, engine, std::time::Duration::from_secs(30))?;
        let mut theirs = copy.kv.iter();
        let mut checked = 0u64;
        for item in self.kv.iter() {
            let (k, v) = item?;
            match theirs.next().transpose()? {
                Some((k2, v2)) if *k2 == *k && *v2 == *v => checked += 1,
                Some((k2, _)) if *k2 == *k => {
                    return Err(StoreError::Corrupt(format!(
                        "the copy in {} differs from the store at entry {checked}",
                        to.display()
                    )));
                }
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "the copy in {} lacks entry {checked} of the store",
                        to.display()
                    )));
                }
            }
        }
        if theirs.next().is_some() {
            return Err(StoreError::Corrupt(format!(
                "the copy in {} holds more entries than the store ({checked})",
                to.display()
            )));
        }
        Ok(copied)
    }
}
