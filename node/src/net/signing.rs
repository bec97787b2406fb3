//! The audit log's checkpoints, signed off the loop: signing one writes an entry
//! (or a slot entry) and flushes under the store's write lock, so the core hands it to a
//! [`CheckpointJob`] and goes on; the result comes back as [`Finished::Signed`].

use std::sync::Arc;

use accord_protocol::{SecretKey, Timestamp};

use crate::store::Store;

/// Which checkpoint to sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Checkpoint {
    /// The log's head, for the node's own export, when it moved since the last one.
    HeadIfMoved,
    /// The slot's `slot` entry and its checkpoint, which partners receive.
    Slot(u64),
}

/// A finished [`CheckpointJob`].
#[derive(Debug)]
pub(crate) struct Signed {
    pub which: Checkpoint,
    /// Why it could not be signed.
    pub result: Result<(), String>,
}

/// Signs one checkpoint.
pub(crate) struct CheckpointJob {
    pub store: Arc<Store>,
    pub key: Arc<SecretKey>,
    pub now: Timestamp,
    pub which: Checkpoint,
}

impl CheckpointJob {
    /// Signs (blocking: the executor runs it off the loop).
    pub(crate) fn run(self) -> Signed {
        Signed {
            which: self.which,
            result: self.sign().map_err(|e| e.to_string()),
        }
    }

    fn sign(&self) -> Result<(), crate::store::StoreError> {
        match self.which {
            Checkpoint::HeadIfMoved => {
                let head = self.store.log().audit_head()?;
                let own = self.key.public_key();
                let last = self
                    .store
                    .checkpoints()
                    .latest_checkpoint()?
                    .and_then(|s| accord_protocol::audit::verify_checkpoint(&s, |_| Some(own)).ok())
                    .map(|c| c.count);
                if last != Some(head.count) {
                    self.store.checkpoints().checkpoint(&self.key, self.now)?;
                }
            }
            Checkpoint::Slot(slot) => {
                self.store
                    .checkpoints()
                    .slot_checkpoint(&self.key, slot, self.now)?;
            }
        }
        Ok(())
    }
}
