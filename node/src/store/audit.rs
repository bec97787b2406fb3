//! The audit log inside the store: entries are appended in the same sled batch as the change
//! they record, under the store's write lock, so there is no data change without its entry and
//! no entry without its change. Checkpoints, partners' checkpoints and receipts live beside it.
//!
//! Why one long file: the log, its checkpoints and the receipts all read and extend the same
//! hash chain under the same lock. It is the next room to split (receipts and partners'
//! checkpoints apart from the chain) when the store gets its engine interface (issue 21).

use super::OutboxEntry;
use super::engine::{Batch, Engine};
use accord_protocol::audit::{
    AuditEntry, AuditEvent, Checkpoint, Digest32, Signed, SlotCheckpoint, entry_hash,
    sign_checkpoint, sign_slot_checkpoint,
};
use accord_protocol::{AgencyId, AgreementId, RecordId, SecretKey, Timestamp};

use super::{Store, StoreError, keys};

/// A peer's acknowledgement of one record, as [`Store::delivered`] records it.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The outbox entry it settles, if any.
    pub outbox: Option<OutboxEntry>,
    /// The record.
    pub record: RecordId,
    /// The peer.
    pub receiver: AgencyId,
    /// The peer's signed receipt.
    pub receipt: Signed,
    /// The `delivered` entry.
    pub event: AuditEvent,
}

/// What [`Store::keep_partner_checkpoint`] did.
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

    fn audit_if_changed(
        &self,
        now: Timestamp,
        events: Vec<(&'static str, AuditEvent)>,
    ) -> Result<(), StoreError> {
        let guard = self.lock();
        let mut head = self.audit_head()?;
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

    /// Signs the log's head, keeps the checkpoint and flushes. Returns it.
    pub fn checkpoint(&self, key: &SecretKey, now: Timestamp) -> Result<Signed, StoreError> {
        let _guard = self.lock();
        let agency = self
            .agency()
            .ok_or_else(|| StoreError::Corrupt("the store is bound to no agency".into()))?;
        let head = self.audit_head()?;
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
        let mut head = self.audit_head()?;
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

    /// Receipts held here, for records this node sent.
    pub fn receipts(&self) -> Result<Vec<Signed>, StoreError> {
        self.lines(keys::RECEIPT)
    }

    /// Records the peer's acknowledgement of records with signed receipts: the receipts, a
    /// `delivered` entry each, and the outbox entries removed, in one batch.
    pub fn delivered(&self, now: Timestamp, items: Vec<Delivery>) -> Result<(), StoreError> {
        self.settle_outbox(now, &[], items, Vec::new())
    }

    /// Settles outbox entries in one batch under the write lock: removes `removed` (entries
    /// withheld, refused for good or stale), keeps the receipts of `deliveries` and removes
    /// their entries, and appends the `delivered` entries and `events` (the `withheld` entries
    /// of what was removed, and any other entry of the same decision). No outbox entry leaves
    /// without its audit entry, and no audit entry is written for an entry that stays.
    pub fn settle_outbox(
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
        let mut head = self.audit_head()?;
        let mut batch = Batch::default();
        let mut all = Vec::with_capacity(deliveries.len() + events.len());
        for e in removed {
            batch.remove(&e.key);
        }
        for d in deliveries {
            if let Some(e) = d.outbox {
                batch.remove(e.key);
            }
            batch.insert(
                keys::receipt(&d.record, &d.receiver),
                d.receipt.to_line().into_bytes(),
            );
            all.push(d.event);
        }
        all.extend(events);
        self.append_audit(&mut batch, &mut head, now, all)?;
        Ok(self.kv.apply_batch(batch)?)
    }

    /// Keeps a member's verified signature of an agreement file (`of`: its id and the file's
    /// hash; received from `from`, made through the console by `by`) with its audit entry, in
    /// one batch, and flushes. Returns `false` when it was held already.
    pub fn keep_agreement_signature(
        &self,
        now: Timestamp,
        (agreement, hash): (&AgreementId, &[u8; 32]),
        signer: &AgencyId,
        from: &AgencyId,
        signature: &[u8; 64],
        by: Option<&str>,
    ) -> Result<bool, StoreError> {
        let key = agreement_signature_key(hash, Some(signer));
        let guard = self.lock();
        if self.kv.get(&key)?.is_some() {
            return Ok(false);
        }
        let event = AuditEvent::AgreementSignature {
            agreement: agreement.clone(),
            hash: Digest32(*hash),
            signer: signer.clone(),
            from: from.clone(),
            by: by.map(str::to_owned),
        };
        self.put_logged(guard, now, key, signature.to_vec(), event)?;
        Ok(true)
    }

    /// The members' signatures of the agreement file with this hash that were collected from
    /// peers (verified when they arrived).
    pub fn agreement_signatures(
        &self,
        hash: &[u8; 32],
    ) -> Result<Vec<(AgencyId, [u8; 64])>, StoreError> {
        let prefix = agreement_signature_key(hash, None);
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(&prefix) {
            let (k, v) = item?;
            let signer = std::str::from_utf8(&k[prefix.len()..])
                .ok()
                .and_then(|t| AgencyId::new(t).ok())
                .ok_or_else(|| StoreError::Corrupt("agreement signature key".into()))?;
            let sig: [u8; 64] = v
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::Corrupt("agreement signature is not 64 bytes".into()))?;
            out.push((signer, sig));
        }
        Ok(out)
    }

    /// Keeps a verified revocation of a delegation certificate with its audit entry, in one
    /// batch, and flushes. Returns `false` when it was held already.
    pub fn keep_revocation(
        &self,
        now: Timestamp,
        revocation: &accord_protocol::delegation::Revocation,
        signed: &Signed,
        from: Option<&AgencyId>,
        by: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut key = keys::meta("revocation/");
        key.extend_from_slice(revocation.agency.as_str().as_bytes());
        key.push(b'/');
        key.extend_from_slice(hex::encode(revocation.certificate.0).as_bytes());
        let guard = self.lock();
        if self.kv.get(&key)?.is_some() {
            return Ok(false);
        }
        let event = AuditEvent::Revocation {
            agency: revocation.agency.clone(),
            certificate: revocation.certificate,
            revoked: revocation.revoked,
            from: from.cloned(),
            by: by.map(str::to_owned),
        };
        self.put_logged(guard, now, key, signed.to_line().into_bytes(), event)?;
        Ok(true)
    }

    /// Keeps a verified key rotation statement (docs/protocol.md §11) with its audit entry, in
    /// one batch, and flushes. A statement held already is kept again only when it carries
    /// more attestations. Returns `false` when nothing changed.
    pub fn keep_rotation(
        &self,
        now: Timestamp,
        rotation: &accord_protocol::rotation::Rotation,
        signed: &accord_protocol::rotation::SignedRotation,
        from: Option<&AgencyId>,
    ) -> Result<bool, StoreError> {
        use accord_protocol::rotation::RotationFile;
        let digest = accord_protocol::audit::sha256(&signed.statement);
        let mut key = keys::meta("rotation/");
        key.extend_from_slice(rotation.agency.as_str().as_bytes());
        key.push(b'/');
        key.extend_from_slice(hex::encode(digest.0).as_bytes());
        let guard = self.lock();
        if let Some(held) = self.kv.get(&key)? {
            let held: RotationFile = serde_json::from_slice(&held)
                .map_err(|e| StoreError::Corrupt(format!("rotation: {e}")))?;
            if held.attestations.len() >= signed.attestations.len() {
                return Ok(false);
            }
        }
        let event = AuditEvent::Rotation {
            agency: rotation.agency.clone(),
            previous: rotation.previous,
            key: rotation.key,
            since: rotation.since,
            statement: digest,
            from: from.cloned(),
        };
        let value = serde_json::to_vec(&RotationFile::from(signed))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.put_logged(guard, now, key, value, event)?;
        Ok(true)
    }

    /// The key rotation statements held here (verified when they were kept), of every agency.
    pub fn rotations(&self) -> Result<Vec<accord_protocol::rotation::SignedRotation>, StoreError> {
        use accord_protocol::rotation::{RotationFile, SignedRotation};
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("rotation/")) {
            let file: RotationFile = serde_json::from_slice(&item?.1)
                .map_err(|e| StoreError::Corrupt(format!("rotation: {e}")))?;
            out.push(
                SignedRotation::try_from(&file)
                    .map_err(|e| StoreError::Corrupt(format!("rotation: {e}")))?,
            );
        }
        Ok(out)
    }

    /// Writes `key` = `value` and `event`'s audit entry in one batch, under the write lock the
    /// caller took (`guard`), then releases it and flushes (group commit).
    fn put_logged(
        &self,
        guard: std::sync::MutexGuard<'_, ()>,
        now: Timestamp,
        key: Vec<u8>,
        value: Vec<u8>,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut head = self.audit_head()?;
        let mut batch = Batch::default();
        batch.insert(key, value);
        self.append_audit(&mut batch, &mut head, now, [event])?;
        self.kv.apply_batch(batch)?;
        drop(guard);
        self.flush()?;
        Ok(())
    }

    /// Keeps a delegation certificate this agency issued (by its id) with its `delegation`
    /// entry, in one batch, and flushes.
    pub fn keep_certificate(
        &self,
        now: Timestamp,
        id: &Digest32,
        signed: &Signed,
        delegation: &accord_protocol::delegation::Delegation,
        by: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut key = keys::meta("certificate/");
        key.extend_from_slice(hex::encode(id.0).as_bytes());
        let guard = self.lock();
        let event = AuditEvent::Delegation {
            certificate: *id,
            delegate: delegation.delegate,
            agreements: delegation.agreements.clone(),
            valid_from: delegation.valid_from,
            valid_until: delegation.valid_until,
            by: by.map(str::to_owned),
        };
        self.put_logged(guard, now, key, signed.to_line().into_bytes(), event)
    }

    /// Writes a console account (its JSON, `console::accounts`) with its `account` audit
    /// entry, in one batch, and flushes.
    pub fn put_account(
        &self,
        now: Timestamp,
        name: &str,
        value: Vec<u8>,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let guard = self.lock();
        self.put_logged(
            guard,
            now,
            keys::meta(&format!("account/{name}")),
            value,
            event,
        )
    }

    /// A console account's JSON, by name.
    pub fn account(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .kv
            .get(keys::meta(&format!("account/{name}")))?
            .map(|v| v.to_vec()))
    }

    /// Every console account's JSON, by name.
    pub fn accounts(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("account/")) {
            out.push(item?.1.to_vec());
        }
        Ok(out)
    }

    /// The delegation certificates this agency issued, by id.
    pub fn certificates(&self) -> Result<Vec<Signed>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("certificate/")) {
            out.push(parse_line(&item?.1)?);
        }
        Ok(out)
    }

    /// The revocations held here (verified when they were kept).
    pub fn revocations(&self) -> Result<Vec<Signed>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("revocation/")) {
            out.push(parse_line(&item?.1)?);
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
            out.push(parse_line(&item?.1)?);
        }
        Ok(out)
    }

    fn lines(&self, prefix: u8) -> Result<Vec<Signed>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix([prefix]) {
            out.push(parse_line(&item?.1)?);
        }
        Ok(out)
    }
}

fn parse_line(bytes: &[u8]) -> Result<Signed, StoreError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| StoreError::Corrupt("signed line is not UTF-8".into()))?;
    Signed::from_line(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn crate_sha(bytes: &[u8]) -> [u8; 32] {
    accord_protocol::audit::sha256(bytes).0
}

/// `meta "agreement-sig/" <hash hex> "/" [signer]`.
fn agreement_signature_key(hash: &[u8; 32], signer: Option<&AgencyId>) -> Vec<u8> {
    let mut k = keys::meta("agreement-sig/");
    k.extend_from_slice(hex::encode(hash).as_bytes());
    k.push(b'/');
    if let Some(s) = signer {
        k.extend_from_slice(s.as_str().as_bytes());
    }
    k
}
