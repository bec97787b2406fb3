//! Records in and out: a batch of verified records inserted with their indexes and audit
//! entries, a record by id or seq, purges and their tombstones, equivocation evidence, and the
//! store's size by kind of entry.

use super::*;

impl Store {
    /// Moves the cached heads of these (agreement, stream) pairs past every slot now held.
    /// Called with the write lock held, after the slots' batch is applied.
    pub(super) fn advance_heads<'a>(
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
                let Some(slot) = self.kv.get(keys::seq(agreement, stream, next))? else {
                    break;
                };
                let id = keys::trailing_id(&slot)
                    .ok_or_else(|| StoreError::Corrupt("a seq slot without a record id".into()))?;
                head.extend(&id);
            }
        }
        Ok(())
    }

    pub(super) fn add_record(
        &self,
        batch: &mut Batch,
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
        for (key, value) in index {
            batch.insert(key, value);
        }
        batch.insert(
            keys::seq(&v.record.agreement, &v.stream(), v.record.seq),
            &id.as_bytes()[..],
        );
    }

    /// What the store holds, by kind of entry: (kind, entries, key + value bytes). The bytes
    /// the data itself takes, before sled's own overhead on disk; reads every entry.
    pub fn logical_bytes(&self) -> Result<Vec<(&'static str, u64, u64)>, StoreError> {
        let mut by: std::collections::BTreeMap<&'static str, (u64, u64)> =
            std::collections::BTreeMap::new();
        for item in self.kv.iter() {
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
                Some(keys::RECEIPT | keys::RECEIPT_BODY) => "receipts",
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
    pub(super) fn raw_tree(&self) -> &AnyEngine {
        &self.kv
    }
}

/// The records of one peer's chunk, by agreement.
type ReceivedBy = Vec<(AgreementId, Vec<accord_protocol::audit::ReceivedRecord>)>;

/// The `receive-batch` entries of the records gathered in `received` (one per agreement),
/// which is left empty.
fn receive_batches(received: &mut ReceivedBy, from: Option<&AgencyId>) -> Vec<AuditEvent> {
    let Some(from) = from else {
        return Vec::new();
    };
    std::mem::take(received)
        .into_iter()
        .map(|(agreement, records)| AuditEvent::ReceiveBatch {
            agreement,
            from: from.clone(),
            records,
        })
        .collect()
}

interface! {
    /// The records held: inserting a verified batch, reading by id or slot, purging, and the
    /// tombstones and equivocation evidence.
    Records, records
}

impl Records<'_> {
    /// Stores verified records received from peers (or imported), in one atomic batch, and
    /// says what happened to each. **Not flushed**: call [`Store::flush`] before acknowledging.
    pub fn insert_batch(
        &self,
        records: &[Verified<SignedRecord>],
        source: &Source,
        now: Timestamp,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let _guard = self.lock();
        let mut batch = Batch::default();
        let mut outcomes = Vec::with_capacity(records.len());
        // seq slots taken earlier in this same batch
        let mut taken: std::collections::BTreeMap<Vec<u8>, RecordId> =
            std::collections::BTreeMap::new();
        // seqs whose evidence this batch keeps
        let mut evidence_slots: std::collections::BTreeSet<Vec<u8>> =
            std::collections::BTreeSet::new();
        let mut events = Vec::new();
        // the records stored from a peer, by agreement: one `receive-batch` entry each
        let mut received = ReceivedBy::new();
        let from = match source {
            Source::Peer(a) => Some(a.clone()),
            Source::Local => None,
        };
        let mut head = self.log().audit_head()?;
        // records written by the batch not yet applied
        let mut pending = 0usize;
        for v in records {
            // a chunk is applied with its records' audit entries: each is whole on its own
            if pending >= APPLY_RECORDS {
                events.extend(receive_batches(&mut received, from.as_ref()));
                self.append_audit(&mut batch, &mut head, now, std::mem::take(&mut events))?;
                self.kv.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
            let r = &v.record;
            if self.kv.contains_key(keys::record(&v.id))? || taken.values().any(|id| *id == v.id) {
                outcomes.push(InsertOutcome::Duplicate(v.id));
                continue;
            }
            if self.kv.contains_key(keys::tombstone(&v.id))? {
                outcomes.push(InsertOutcome::Purged(v.id));
                continue;
            }
            let stream = v.stream();
            let slot = keys::seq(&r.agreement, &stream, r.seq);
            let existing = match taken.get(&slot) {
                Some(id) => Some(*id),
                None => self.kv.get(&slot)?.and_then(|b| keys::trailing_id(&b)),
            };
            if let Some(existing) = existing {
                // one record kept as evidence per seq: what proves the equivocation; more
                // versions of the same seq add nothing but let an originator fill the disk
                let evidence_slot = [&[keys::EVIDENCE][..], &slot[1..]].concat();
                if !evidence_slots.contains(&evidence_slot)
                    && self
                        .kv
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
            if from.is_some() {
                let one = accord_protocol::audit::ReceivedRecord {
                    record: v.id,
                    originator: r.originator.clone(),
                };
                match received.iter_mut().find(|(a, _)| *a == r.agreement) {
                    Some((_, list)) => list.push(one),
                    None => received.push((r.agreement.clone(), vec![one])),
                }
            }
        }
        events.extend(receive_batches(&mut received, from.as_ref()));
        self.append_audit(&mut batch, &mut head, now, events)?;
        self.kv.apply_batch(batch)?;
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

    /// Whether a record is held.
    pub fn contains(&self, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.kv.contains_key(keys::record(id))?)
    }

    /// A record by id.
    pub fn get(&self, id: &RecordId) -> Result<Option<StoredRecord>, StoreError> {
        match self.kv.get(keys::record(id))? {
            None => Ok(None),
            Some(bytes) => decode_stored(*id, &bytes).map(Some),
        }
    }

    /// The record under (agreement, stream, seq), if held.
    pub fn by_seq(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
        seq: Seq,
    ) -> Result<Option<RecordId>, StoreError> {
        Ok(self
            .kv
            .get(keys::seq(agreement, stream, seq))?
            .and_then(|b| keys::trailing_id(&b)))
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.kv.scan_prefix([keys::RECORD]).count()
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
        let mut batch = Batch::default();
        let mut out = Vec::new();
        for id in ids {
            let Some(rec) = self.get(id)? else { continue };
            let r = &rec.record;
            for (key, _) in index_keys(r, id) {
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
        let mut head = self.log().audit_head()?;
        let events = out.iter().map(|t| AuditEvent::Purge {
            record: t.id,
            agreement: t.agreement.clone(),
            reason: t.reason.clone(),
        });
        self.append_audit(&mut batch, &mut head, now, events)?;
        self.kv.apply_batch(batch)?;
        self.flush()?;
        Ok(out)
    }

    /// Every tombstone, optionally only under one agreement.
    pub fn tombstones(
        &self,
        agreement: Option<&AgreementId>,
    ) -> Result<Vec<Tombstone>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix([keys::TOMBSTONE]) {
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
        for item in self.kv.scan_prefix(&prefix) {
            let (key, value) = item?;
            let Ok(id_bytes) = <[u8; 32]>::try_from(&value[..]) else {
                continue;
            };
            let id = RecordId::from_bytes(id_bytes);
            if !self.kv.contains_key(keys::tombstone(&id))? {
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
        match self.kv.get(keys::tombstone(id))? {
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
        for item in self.kv.scan_prefix([keys::EVIDENCE]) {
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
        for item in self.kv.scan_prefix([keys::EVIDENCE]).keys() {
            let key = item?;
            let (Some(offered), Some(slot)) = (keys::trailing_id(&key), key.len().checked_sub(32))
            else {
                continue;
            };
            let slot_key = [&[keys::SEQ][..], &key[1..slot]].concat();
            if let Some(held) = self.kv.get(slot_key)?.and_then(|v| keys::trailing_id(&v)) {
                out.push((offered, held));
            }
        }
        Ok(out)
    }
}
