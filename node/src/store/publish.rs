//! Numbering and writing the agency's own records: the per-stream counters, and the guard of
//! a store restored from an older backup (docs/invariants.md, 4a).

use super::*;

/// What [`Store::stage_publish_also`] writes beside a record: meta keys (by name), their
/// values and an audit entry each, made from the record it publishes.
pub type Also<'a> = Box<
    dyn FnOnce(
            &Verified<SignedRecord>,
        ) -> Vec<(String, Vec<u8>, accord_protocol::audit::AuditEvent)>
        + 'a,
>;

impl Store {
    /// [`Own::publish`] without the flush: the record is written, but stays inside the node
    /// until a flush covers it.
    #[cfg(test)]
    pub(crate) fn stage_publish<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        by: Option<&str>,
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        self.stage_publish_also(agreement, originator, now, outbox, by, build, None)
    }

    /// [`Store::stage_publish`], writing `also`'s meta keys and audit entries (after the
    /// record's `publish` entry) in the record's own batch: a change that must happen exactly
    /// when the record is published (a held draft marked released, `crate::release`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn stage_publish_also<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        by: Option<&str>,
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
        also: Option<Also<'_>>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        let _guard = self.lock();
        // after a restore, no seq is handed out before the members showed what they hold
        let waiting = self.own().restore_waiting(agreement, outbox)?;
        if !waiting.is_empty() {
            return Err(StoreError::HeldAfterRestore {
                agreement: agreement.clone(),
                waiting,
            });
        }
        let stream = StreamId::agency(originator);
        let slot = (agreement.clone(), stream.clone());
        let cached = self.own_last().get(&slot).copied();
        let held = match cached {
            Some(0) => None,
            Some(s) => Some(Seq::new(s).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None => {
                let held = self.own().last_seq(agreement, &stream)?;
                self.own_last()
                    .insert(slot.clone(), held.map_or(0, Seq::get));
                held
            }
        };
        let last = self.own().counter(agreement)?.max(held);
        let next = match last {
            None => Seq::FIRST,
            Some(s) => s
                .next()
                .ok_or_else(|| StoreError::SeqExhausted(agreement.clone()))?,
        };
        let verified = match build(next) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let r = &verified.record;
        if r.seq != next || &r.agreement != agreement {
            return Err(StoreError::SeqMismatch {
                id: verified.id,
                agreement: r.agreement.clone(),
                found: r.seq,
                expected: next,
            });
        }
        let mut batch = Batch::default();
        batch.insert(keys::counter(agreement), next.get().to_be_bytes());
        for peer in outbox {
            batch.insert(
                keys::outbox(peer, agreement, next),
                &verified.id.as_bytes()[..],
            );
        }
        self.add_record(&mut batch, &verified, now, &Source::Local);
        let mut head = self.log().audit_head()?;
        let event = accord_protocol::audit::AuditEvent::Publish {
            record: verified.id,
            agreement: r.agreement.clone(),
            seq: r.seq,
            withdraws: r.withdraws,
            by: by.map(str::to_owned),
        };
        let mut events = vec![event];
        if let Some(also) = also {
            for (name, value, event) in also(&verified) {
                batch.insert(keys::meta(&name), value);
                events.push(event);
            }
        }
        self.append_audit(&mut batch, &mut head, now, events)?;
        self.unflushed().own.push(Mark {
            ticket: None,
            agreement: agreement.clone(),
            seq: next.get(),
            id: verified.id,
        });
        let applied = self.kv.apply_batch(batch);
        {
            let mut u = self.unflushed();
            let ticket = u.next;
            u.next += 1;
            match u
                .own
                .iter()
                .position(|m| m.id == verified.id && m.ticket.is_none())
            {
                Some(i) if applied.is_err() => {
                    u.own.remove(i);
                }
                Some(i) => u.own[i].ticket = Some(ticket),
                None => {}
            }
        }
        applied?;
        self.own_last().insert(slot, next.get());
        self.advance_heads([(agreement, &stream)])?;
        Ok(Ok(verified.id))
    }
}

interface! {
    /// The agency's own streams: numbering and publishing its records, and the wait after a
    /// restore.
    Own, own
}

impl Own<'_> {
    /// Numbers, builds and stores a record of this node's own, then flushes. `build` receives
    /// the next seq under `agreement` and returns the signed and verified record (the caller
    /// signs, then verifies its own signature, so nothing unverified is ever stored). The
    /// record, its index entries and the counter are written in one batch; if `build` fails,
    /// nothing is written and no seq is used.
    /// `outbox` names the peers the record must be delivered to: an outbox entry for each is
    /// written in the same batch, and stays until that peer acknowledges the record.
    ///
    /// The next seq is one past the highest of the counter and any record of `originator`
    /// already held under the agreement (a store restored from a backup learns its own later
    /// records back through catch-up; numbering must not reuse their seqs).
    pub fn publish<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        self.publish_by(agreement, originator, now, outbox, None, build)
    }

    /// [`Own::publish`], naming in its audit entry the person's account that published it
    /// (through the console).
    pub fn publish_by<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        by: Option<&str>,
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        self.publish_also(agreement, originator, now, outbox, by, build, None)
    }

    /// [`Own::publish_by`], writing `also` in the record's batch ([`Store::stage_publish_also`]).
    #[allow(clippy::too_many_arguments)]
    pub fn publish_also<E>(
        &self,
        agreement: &AgreementId,
        originator: &AgencyId,
        now: Timestamp,
        outbox: &[AgencyId],
        by: Option<&str>,
        build: impl FnOnce(Seq) -> Result<Verified<SignedRecord>, E>,
        also: Option<Also<'_>>,
    ) -> Result<Result<RecordId, E>, StoreError> {
        let id =
            match self.stage_publish_also(agreement, originator, now, outbox, by, build, also)? {
                Ok(id) => id,
                Err(e) => return Ok(Err(e)),
            };
        // outside the lock: other writers go on while the disk syncs, and publishes made
        // meanwhile share this sync
        self.flush()?;
        Ok(Ok(id))
    }

    /// Whether the store was restored from an older backup (see [`StoreError::HeldAfterRestore`]).
    pub fn restored(&self) -> Result<bool, StoreError> {
        Ok(self.kv.contains_key(keys::meta("restored"))?)
    }

    /// Notes that `member`'s status under `agreement` showed nothing of this agency's own
    /// stream beyond what this store holds (after a restore).
    pub fn heard_after_restore(
        &self,
        agreement: &AgreementId,
        member: &AgencyId,
    ) -> Result<bool, StoreError> {
        let key = restore_key(agreement, member);
        if self.kv.contains_key(&key)? {
            return Ok(false);
        }
        self.kv.insert(key, &[][..])?;
        Ok(true)
    }

    /// The members of `members` not yet heard from under `agreement` after a restore; empty
    /// when the store was not restored.
    pub fn restore_waiting(
        &self,
        agreement: &AgreementId,
        members: &[AgencyId],
    ) -> Result<Vec<AgencyId>, StoreError> {
        if !self.restored()? {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for m in members {
            if !self.kv.contains_key(restore_key(agreement, m))? {
                out.push(m.clone());
            }
        }
        Ok(out)
    }

    /// The highest seq of `stream` held (or purged) under `agreement`.
    pub fn last_seq(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
    ) -> Result<Option<Seq>, StoreError> {
        let prefix = keys::seq_prefix(agreement, Some(stream));
        match self.kv.scan_prefix(&prefix).keys().next_back() {
            None => Ok(None),
            Some(key) => {
                let key = key?;
                let b: [u8; 8] = key[prefix.len()..]
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("seq key".into()))?;
                Seq::new(u64::from_be_bytes(b))
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }
        }
    }

    /// The last seq this node gave its own records under `agreement`.
    pub fn counter(&self, agreement: &AgreementId) -> Result<Option<Seq>, StoreError> {
        match self.kv.get(keys::counter(agreement))? {
            None => Ok(None),
            Some(v) => {
                let b: [u8; 8] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("counter is not 8 bytes".into()))?;
                Seq::new(u64::from_be_bytes(b))
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }
        }
    }
}
