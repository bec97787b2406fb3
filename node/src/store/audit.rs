//! The audit log inside the store: entries are appended in the same sled batch as the change
//! they record, under the store's write lock, so there is no data change without its entry and
//! no entry without its change. Checkpoints, partners' checkpoints and receipts live beside it.
//!
//! What the agency trusts (agreement signatures, revocations, key rotations, delegation
//! certificates, console accounts) is kept, each with its audit entry, in trust.rs.

use super::OutboxEntry;
use super::engine::{Batch, Engine};
use accord_protocol::audit::{
    AuditEntry, AuditEvent, Checkpoint, Digest32, Signed, SlotCheckpoint, entry_hash,
    sign_checkpoint, sign_slot_checkpoint,
};
use accord_protocol::{AgencyId, RecordId, SecretKey, Timestamp};

use super::{Store, StoreError, keys};

/// A peer's acknowledgement of one record, as [`Outbox::delivered`] records it.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The outbox entry it settles, if any.
    pub outbox: Option<OutboxEntry>,
    /// The record.
    pub record: RecordId,
    /// The peer.
    pub receiver: AgencyId,
    /// The peer's signed receipt (a batch receipt is kept once, and each record it covers
    /// names it).
    pub receipt: Signed,
}

/// What [`Checkpoints::keep_partner_checkpoint`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// A checkpoint for a new count.
    New,
    /// The same checkpoint was held already.
    Known,
    /// A different head for a count already held: the partner signed two histories.
    Forked {
        /// The checkpoint held first.
        held: Signed,
    },
}

/// The log's length and the hash of its last entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Entries in the log.
    pub count: u64,
    /// Hash of the last entry (zeros when empty).
    pub hash: Digest32,
}

impl Store {
    /// Binds the store to its agency on first use; a store of another agency is refused.
    pub fn bind_agency(&self, agency: &AgencyId) -> Result<(), StoreError> {
        let _guard = self.lock();
        match self.kv.get(keys::meta("agency"))? {
            Some(v) if v.as_ref() == agency.as_str().as_bytes() => {}
            Some(v) => {
                return Err(StoreError::Open {
                    path: self.path.clone(),
                    reason: format!(
                        "it belongs to agency {}, not {agency}; check data_dir in the configuration",
                        String::from_utf8_lossy(&v)
                    ),
                });
            }
            None => {
                self.kv
                    .insert(keys::meta("agency"), agency.as_str().as_bytes())?;
            }
        }
        *self
            .agency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(agency.clone());
        Ok(())
    }

    /// The agency the store is bound to.
    pub fn agency(&self) -> Option<AgencyId> {
        self.agency
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Appends entries to `batch` (the caller holds the write lock and applies the batch).
    /// Without a bound agency (a store used outside a node) nothing is logged.
    pub(super) fn append_audit(
        &self,
        batch: &mut Batch,
        head: &mut Head,
        now: Timestamp,
        events: impl IntoIterator<Item = AuditEvent>,
    ) -> Result<(), StoreError> {
        let Some(agency) = self.agency() else {
            return Ok(());
        };
        let mut any = false;
        for event in events {
            let entry = AuditEntry {
                agency: agency.clone(),
                index: head.count,
                prev: head.hash,
                time: now,
                event,
            };
            let bytes = entry
                .encode()
                .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
            head.hash = entry_hash(&bytes);
            batch.insert(keys::audit(head.count), bytes);
            head.count += 1;
            any = true;
        }
        if any {
            let mut v = head.count.to_be_bytes().to_vec();
            v.extend_from_slice(&head.hash.0);
            batch.insert(keys::meta("audit_head"), v);
        }
        Ok(())
    }

    fn audit_if_changed(
        &self,
        now: Timestamp,
        events: Vec<(&'static str, AuditEvent)>,
    ) -> Result<(), StoreError> {
        let guard = self.lock();
        let mut head = self.log().audit_head()?;
        let mut batch = Batch::default();
        let mut any = false;
        for (name, event) in events {
            let bytes =
                serde_json::to_vec(&event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if self.kv.get(keys::meta(name))?.as_deref() != Some(bytes.as_slice()) {
                batch.insert(keys::meta(name), bytes);
                self.append_audit(&mut batch, &mut head, now, [event])?;
                any = true;
            }
        }
        if any {
            self.kv.apply_batch(batch)?;
            drop(guard);
            self.flush()?;
        }
        Ok(())
    }

    /// Keeps a partner's signed line under `key` unless one is held there: the same head is
    /// `Known`, another is kept as fork evidence (`Forked`).
    fn keep_partner_line(
        &self,
        key: Vec<u8>,
        head: &Digest32,
        signed: &Signed,
        head_of: impl Fn(&[u8]) -> Option<Digest32>,
    ) -> Result<Kept, StoreError> {
        let line = signed.to_line().into_bytes();
        match self.kv.compare_and_swap(&key, None, Some(&line))? {
            Ok(()) => Ok(Kept::New),
            Err(current) => {
                let held = current.map(|v| v.to_vec()).unwrap_or_default();
                let held = parse_line(&held)?;
                if head_of(&held.bytes).as_ref() == Some(head) {
                    return Ok(Kept::Known);
                }
                let mut fork = keys::meta("fork/");
                fork.extend_from_slice(&key);
                fork.extend_from_slice(&crate_sha(&line));
                self.kv.insert(fork, line)?;
                Ok(Kept::Forked { held })
            }
        }
    }

    pub(super) fn lines(&self, prefix: u8) -> Result<Vec<Signed>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix([prefix]) {
            out.push(parse_line(&item?.1)?);
        }
        Ok(out)
    }
}

pub(super) fn parse_line(bytes: &[u8]) -> Result<Signed, StoreError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| StoreError::Corrupt("signed line is not UTF-8".into()))?;
    Signed::from_line(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn crate_sha(bytes: &[u8]) -> [u8; 32] {
    accord_protocol::audit::sha256(bytes).0
}

interface! {
    /// The audit log's signed checkpoints, partners' checkpoints and the receipts members signed.
    Checkpoints, checkpoints
}

impl Checkpoints<'_> {
    /// Signs the log's head, keeps the checkpoint and flushes. Returns it.
    pub fn checkpoint(&self, key: &SecretKey, now: Timestamp) -> Result<Signed, StoreError> {
        let _guard = self.lock();
        let agency = self
            .agency()
            .ok_or_else(|| StoreError::Corrupt("the store is bound to no agency".into()))?;
        let head = self.log().audit_head()?;
        let c = Checkpoint {
            agency,
            count: head.count,
            head: head.hash,
            time: now,
        };
        let signed = sign_checkpoint(&c, key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // the entries it covers are durable before the checkpoint can be read (the next sync
        // status hands it to the partners): a crash cannot leave a partner holding a head the
        // log lost
        self.flush()?;
        self.kv
            .insert(keys::checkpoint(head.count), signed.to_line().into_bytes())?;
        self.flush()?;
        Ok(signed)
    }

    /// Starts checkpoint slot `slot`: appends its `slot` entry, signs a slot checkpoint naming
    /// that entry as the head, keeps it, and flushes before returning it — the entry it names
    /// is durable before a partner can be handed it (in the next sync status).
    pub fn slot_checkpoint(
        &self,
        key: &SecretKey,
        slot: u64,
        now: Timestamp,
    ) -> Result<Signed, StoreError> {
        let guard = self.lock();
        let agency = self
            .agency()
            .ok_or_else(|| StoreError::Corrupt("the store is bound to no agency".into()))?;
        let mut head = self.log().audit_head()?;
        let mut batch = Batch::default();
        self.append_audit(&mut batch, &mut head, now, [AuditEvent::Slot { slot }])?;
        let c = SlotCheckpoint {
            agency,
            slot,
            head: head.hash,
            time: now,
        };
        let signed =
            sign_slot_checkpoint(&c, key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        batch.insert(keys::slot_checkpoint(slot), signed.to_line().into_bytes());
        self.kv.apply_batch(batch)?;
        drop(guard);
        self.flush()?;
        Ok(signed)
    }

    /// The latest own slot checkpoint: what partners are given.
    pub fn latest_slot_checkpoint(&self) -> Result<Option<Signed>, StoreError> {
        match self.kv.scan_prefix([keys::SLOT_CHECKPOINT]).next_back() {
            None => Ok(None),
            Some(item) => Ok(Some(parse_line(&item?.1)?)),
        }
    }

    /// Own slot checkpoints, oldest first.
    pub fn own_slot_checkpoints(&self) -> Result<Vec<Signed>, StoreError> {
        self.lines(keys::SLOT_CHECKPOINT)
    }

    /// Keeps a partner's slot checkpoint (verified by the caller). One already held for the
    /// same slot is never replaced: a different head for it is kept beside it as fork evidence,
    /// and `Forked` is returned.
    pub fn keep_partner_slot_checkpoint(
        &self,
        c: &SlotCheckpoint,
        signed: &Signed,
    ) -> Result<Kept, StoreError> {
        let key = keys::partner_slot_checkpoint(&c.agency, c.slot);
        self.keep_partner_line(key, &c.head, signed, |held| {
            serde_json::from_slice::<SlotCheckpoint>(held)
                .ok()
                .map(|h| h.head)
        })
    }

    /// The latest own checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<Signed>, StoreError> {
        match self.kv.scan_prefix([keys::CHECKPOINT]).next_back() {
            None => Ok(None),
            Some(item) => Ok(Some(parse_line(&item?.1)?)),
        }
    }

    /// Own checkpoints, oldest first.
    pub fn own_checkpoints(&self) -> Result<Vec<Signed>, StoreError> {
        self.lines(keys::CHECKPOINT)
    }

    /// Keeps a partner's checkpoint (already verified by the caller). A checkpoint already
    /// held for the same count is never replaced: if the new one names a different head, the
    /// partner has signed two histories — both are kept and `Forked` is returned, so a node
    /// that rewrites its log cannot erase the copies its partners hold.
    pub fn keep_partner_checkpoint(
        &self,
        c: &Checkpoint,
        signed: &Signed,
    ) -> Result<Kept, StoreError> {
        let key = keys::partner_checkpoint(&c.agency, c.count);
        self.keep_partner_line(key, &c.head, signed, |held| {
            serde_json::from_slice::<Checkpoint>(held)
                .ok()
                .map(|h| h.head)
        })
    }

    /// Conflicting checkpoints partners sent for a count already held (fork evidence).
    pub fn checkpoint_forks(&self) -> Result<Vec<Signed>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("fork/")) {
            out.push(parse_line(&item?.1)?);
        }
        Ok(out)
    }

    /// Partners' checkpoints held here: their slot checkpoints, and the counted ones nodes
    /// exchanged before slot checkpoints.
    pub fn partner_checkpoints(&self) -> Result<Vec<Signed>, StoreError> {
        let mut out = self.lines(keys::PARTNER_CHECKPOINT)?;
        out.extend(self.lines(keys::PARTNER_SLOT_CHECKPOINT)?);
        Ok(out)
    }

    /// Receipts held here, for records this node sent: each batch receipt once, and the
    /// receipts a store written before kept per record.
    pub fn receipts(&self) -> Result<Vec<Signed>, StoreError> {
        let mut out = self.lines(keys::RECEIPT_BODY)?;
        for item in self.kv.scan_prefix([keys::RECEIPT]) {
            let (_, value) = item?;
            if value.len() != 32 {
                out.push(parse_line(&value)?);
            }
        }
        Ok(out)
    }

    /// The signed receipts held for one record this node sent: which members hold it, from
    /// their own statements.
    pub fn receipts_for(&self, record: &RecordId) -> Result<Vec<Signed>, StoreError> {
        let mut prefix = vec![keys::RECEIPT];
        prefix.extend_from_slice(record.as_bytes());
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(prefix) {
            let (_, value) = item?;
            out.push(self.receipt_named(&value)?);
        }
        Ok(out)
    }

    /// The receipt a per-record entry names: by its hash (32 bytes), or the line itself (a
    /// store written before receipts were kept once).
    fn receipt_named(&self, value: &[u8]) -> Result<Signed, StoreError> {
        let Ok(hash) = <[u8; 32]>::try_from(value) else {
            return parse_line(value);
        };
        match self.kv.get(keys::receipt_body(&hash))? {
            Some(line) => parse_line(&line),
            None => Err(StoreError::Corrupt(format!(
                "a delivery names receipt {} that the store does not hold",
                hex::encode(hash)
            ))),
        }
    }
}

interface! {
    /// The audit log: its head, its entries, and entries of decisions that change no data.
    AuditLog, log
}

impl AuditLog<'_> {
    /// The log's head.
    pub fn audit_head(&self) -> Result<Head, StoreError> {
        match self.kv.get(keys::meta("audit_head"))? {
            None => Ok(Head {
                count: 0,
                hash: Digest32::ZERO,
            }),
            Some(v) => {
                let b = v.as_ref();
                if b.len() != 40 {
                    return Err(StoreError::Corrupt("audit head is not 40 bytes".into()));
                }
                let mut count = [0u8; 8];
                count.copy_from_slice(&b[..8]);
                let mut hash = [0u8; 32];
                hash.copy_from_slice(&b[8..]);
                Ok(Head {
                    count: u64::from_be_bytes(count),
                    hash: Digest32(hash),
                })
            }
        }
    }

    /// Appends entries that accompany no data change (sends, rejections, exports,
    /// configuration and key events). Not flushed.
    pub fn audit(&self, now: Timestamp, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let _guard = self.lock();
        let mut head = self.audit_head()?;
        let mut batch = Batch::default();
        self.append_audit(&mut batch, &mut head, now, events)?;
        Ok(self.kv.apply_batch(batch)?)
    }

    /// Logs the configuration and key the node starts with, when they differ from the last
    /// ones logged.
    pub fn audit_start(
        &self,
        now: Timestamp,
        config: AuditEvent,
        key: AuditEvent,
    ) -> Result<(), StoreError> {
        self.audit_if_changed(now, vec![("audit_key", key), ("audit_config", config)])
    }

    /// Logs the agency key a process signs with, when it differs from the last one logged
    /// (an offline command after `accord keygen`, say), and flushes: nothing is signed with
    /// a key the log does not name.
    pub fn audit_key(&self, now: Timestamp, key: AuditEvent) -> Result<(), StoreError> {
        self.audit_if_changed(now, vec![("audit_key", key)])
    }

    /// Logs the configuration a process acts under, when it differs from the last one logged
    /// (a partner's key changed in the configuration of a stopped node, say), and flushes.
    pub fn audit_config(&self, now: Timestamp, config: AuditEvent) -> Result<(), StoreError> {
        self.audit_if_changed(now, vec![("audit_config", config)])
    }

    /// Every entry's bytes, in order.
    pub fn audit_entries(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix([keys::AUDIT]) {
            out.push(item?.1.to_vec());
        }
        Ok(out)
    }

    /// The entries before index `before` (all when `None`), newest first, each with its
    /// index: a reader that wants the latest few stops early.
    pub fn audit_entries_newest_first(
        &self,
        before: Option<u64>,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        let end = match before {
            Some(i) => keys::audit(i),
            None => vec![keys::AUDIT + 1],
        };
        self.kv.range(keys::audit(0)..end).rev().map(|item| {
            let (k, v) = item?;
            let index = k
                .get(1..9)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt("audit entry key".into()))?;
            Ok((index, v.to_vec()))
        })
    }
}

use super::Outbox;

impl Outbox<'_> {
    /// Records the peer's acknowledgement of records with signed receipts: the receipts, the
    /// `delivered` or `delivered-push` entries (`events`), and the outbox entries removed, in
    /// one batch.
    pub fn delivered(
        &self,
        now: Timestamp,
        items: Vec<Delivery>,
        events: Vec<AuditEvent>,
    ) -> Result<(), StoreError> {
        self.settle(now, &[], items, events)
    }

    /// Settles outbox entries in one batch under the write lock: removes `removed` (entries
    /// withheld, refused for good or stale), keeps the receipts of `deliveries` and removes
    /// their entries, and appends `events` (the `delivered` or `delivered-push` entries of the
    /// deliveries, the `withheld` entries of what was removed, and any other entry of the same
    /// decision). No outbox entry leaves without its audit entry, and no audit entry is
    /// written for an entry that stays.
    pub fn settle(
        &self,
        now: Timestamp,
        removed: &[OutboxEntry],
        deliveries: Vec<Delivery>,
        events: Vec<AuditEvent>,
    ) -> Result<(), StoreError> {
        if removed.is_empty() && deliveries.is_empty() && events.is_empty() {
            return Ok(());
        }
        let _guard = self.lock();
        let mut head = self.log().audit_head()?;
        let mut batch = Batch::default();
        for e in removed {
            batch.remove(e.key.as_slice());
        }
        // a batch receipt is kept once; each record it covers names it by its hash
        let mut kept = std::collections::BTreeSet::new();
        for d in deliveries {
            if let Some(e) = d.outbox {
                batch.remove(e.key);
            }
            let hash = crate_sha(&d.receipt.bytes);
            batch.insert(keys::receipt(&d.record, &d.receiver), hash.to_vec());
            if kept.insert(hash) {
                batch.insert(keys::receipt_body(&hash), d.receipt.to_line().into_bytes());
            }
        }
        self.append_audit(&mut batch, &mut head, now, events)?;
        Ok(self.kv.apply_batch(batch)?)
    }
}
