//! Opening a store (its schema, its marker file, the lock between processes) and making
//! what was written durable: the group-committed flush.

use super::*;
use accord_config::StoreEngine;

/// What a store is opened on.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// The memory engine (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Memory,
    /// On disk: the engine the directory holds, or for a new store this one (none: sled).
    Disk(Option<StoreEngine>),
}

impl Store {
    /// Opens the store in `dir`, creating it if it does not exist. A store of another schema
    /// version, a directory that is not a store, or one locked by another process is refused
    /// with the reason.
    /// A new store is made on sled; one that exists opens on the engine it was made with.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_on(dir, Kind::Disk(None))
    }

    /// [`Store::open`], making a new store on `engine` (the node file's `store_engine`). A
    /// store that exists on another engine is refused, naming both: a store is not moved
    /// between engines by a configuration change (docs/operations.md, "Storage engines").
    pub fn open_as(dir: &Path, engine: StoreEngine) -> Result<Self, StoreError> {
        Self::open_on(dir, Kind::Disk(Some(engine)))
    }

    /// The engine the store in `dir` was made on; none when `dir` holds no store's database.
    pub fn engine_of(dir: &Path) -> Option<StoreEngine> {
        if dir.join(super::engine::FJALL_DIR).is_dir() {
            Some(StoreEngine::Fjall)
        } else if dir.join("db").is_file() || dir.join("conf").is_file() {
            Some(StoreEngine::Sled)
        } else {
            None
        }
    }

    /// Opens a store in `dir` whose entries are kept in memory ([`MemoryEngine`]): the store's
    /// tests run on it as on sled. The marker file is still written in `dir`.
    #[cfg(test)]
    pub(crate) fn open_memory(dir: &Path) -> Result<Self, StoreError> {
        Self::open_on(dir, Kind::Memory)
    }

    /// Forgets the memory store of `dir` ([`Store::open_memory`]): its entries go once the
    /// stores open on it are dropped.
    #[cfg(test)]
    pub(crate) fn forget_memory(dir: &Path) {
        super::engine::MemoryEngine::forget(dir);
    }

    fn open_on(dir: &Path, kind: Kind) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: dir.to_path_buf(),
            reason,
        };
        if dir.exists() && !dir.is_dir() {
            return Err(open_err("it is not a directory".into()));
        }
        private::prepare(dir)?;
        let engine_err = |e: EngineError| {
            if e.is_locked() {
                open_err(format!("{e}; {LOCKED_HINT}"))
            } else if e.is_permission() {
                open_err(format!("{e}; check the directory's owner and permissions"))
            } else {
                open_err(e.to_string())
            }
        };
        let tree = match kind {
            Kind::Memory => AnyEngine::Memory(MemoryEngine::of(dir)),
            Kind::Disk(wanted) => {
                let engine = match (Self::engine_of(dir), wanted) {
                    (Some(held), Some(wanted)) if held != wanted => {
                        return Err(open_err(format!(
                            "it holds a store on {held}, but the node file asks for \
                             store_engine = \"{wanted}\"; a store keeps the engine it was made \
                             with: set store_engine = \"{held}\", or move the records to a new \
                             data directory (docs/operations.md, Storage engines)"
                        )));
                    }
                    (Some(held), _) => held,
                    (None, wanted) => wanted.unwrap_or_default(),
                };
                match engine {
                    StoreEngine::Sled => {
                        AnyEngine::Sled(SledEngine::open(dir, CACHE_BYTES).map_err(engine_err)?)
                    }
                    StoreEngine::Fjall => {
                        AnyEngine::Fjall(FjallEngine::open(dir, CACHE_BYTES).map_err(engine_err)?)
                    }
                }
            }
        };
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
                tree.insert(keys::schema(), SCHEMA_VERSION.to_be_bytes())?;
                Store::mark_search_index(&tree)?;
                tree.flush()?;
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
                    // (`Own::restore_waiting`), so no seq is handed out twice.
                    tree.insert(keys::meta("restored"), held.to_be_bytes())?;
                    tree.flush()?;
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
            kv: tree,
            path: dir.to_path_buf(),
            write: Mutex::new(()),
            agency: Mutex::new(agency),
            heads: Mutex::new(HeadsCache::new()),
            unflushed: Mutex::new(Unflushed::default()),
            own_last: Mutex::new(std::collections::BTreeMap::new()),
            flushing: Mutex::new(GroupFlush::default()),
            flushed: std::sync::Condvar::new(),
            durable_audit: std::sync::atomic::AtomicU64::new(0),
            skeletons: Mutex::new(search::SkeletonDict::Unread),
            skeleton_reader: Mutex::new(()),
            index_current: std::sync::atomic::AtomicBool::new(false),
        };
        // what was on disk when the store opened is durable
        let count = store.log().audit_head()?.count;
        store
            .durable_audit
            .store(count, std::sync::atomic::Ordering::SeqCst);
        Ok(store)
    }

    /// Like [`Store::open`], but while another handle still holds the store's lock (a process
    /// or node that is shutting down releases it a moment after it stops) it tries again, every
    /// 20 ms, for at most `wait`.
    pub fn open_waiting(dir: &Path, wait: std::time::Duration) -> Result<Self, StoreError> {
        Self::open_waiting_on(dir, Kind::Disk(None), wait)
    }

    /// [`Store::open_waiting`] for [`Store::open_as`].
    pub fn open_waiting_as(
        dir: &Path,
        engine: StoreEngine,
        wait: std::time::Duration,
    ) -> Result<Self, StoreError> {
        Self::open_waiting_on(dir, Kind::Disk(Some(engine)), wait)
    }

    fn open_waiting_on(
        dir: &Path,
        kind: Kind,
        wait: std::time::Duration,
    ) -> Result<Self, StoreError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match Self::open_on(dir, kind) {
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
                let audit_upto = self.log().audit_head().map(|h| h.count);
                let result = self.kv.flush();
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

    pub(super) fn group(&self) -> std::sync::MutexGuard<'_, GroupFlush> {
        self.flushing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
