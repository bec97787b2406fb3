//! Store tests: reopen, schema versions, numbering, duplicates, equivocation, purge, and
//! 100,000 records through every index; run on each storage engine (store/engine.rs).
//!
//! `cases.rs` holds the tests every engine must pass, included once per engine below with that
//! engine's `open`: its fixtures and the cases about opening a store, then `cases/` by the
//! store's concerns (publish, records, queries, sync, audit, search), which it includes.
//! `disk.rs` holds those about the files of every on-disk engine (a lock, a vanished
//! database), which the memory engine has none of; `sled.rs` and `fjall.rs` those about one
//! engine's files (damage).

/// On sled, the engine a node runs on.
mod sled_engine {
    use std::path::Path;
    use std::time::Duration;

    use crate::store::{Store, StoreError};

    fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open(dir)
    }

    fn open_waiting(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
        Store::open_waiting(dir, wait)
    }

    include!("cases.rs");
    include!("disk.rs");
    include!("sled.rs");
}

/// On the memory engine: the same cases, so the store asks nothing of sled that the engine
/// interface does not say.
mod memory_engine {
    use std::path::Path;
    use std::time::Duration;

    use crate::store::{Store, StoreError};

    fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_memory(dir)
    }

    fn open_waiting(dir: &Path, _wait: Duration) -> Result<Store, StoreError> {
        Store::open_memory(dir)
    }

    include!("cases.rs");
}

/// On fjall, the engine a node file may choose (`store_engine = "fjall"`).
mod fjall_engine {
    use std::path::Path;
    use std::time::Duration;

    use accord_config::StoreEngine;

    use crate::store::{Store, StoreError};

    fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_as(dir, StoreEngine::Fjall)
    }

    fn open_waiting(dir: &Path, wait: Duration) -> Result<Store, StoreError> {
        Store::open_waiting_as(dir, StoreEngine::Fjall, wait)
    }

    include!("cases.rs");
    include!("disk.rs");
    include!("fjall.rs");
}
