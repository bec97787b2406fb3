//! What the network reads to share: the outbox per member, the gap-free heads of every
//! stream, and the records of a seq range.

use super::*;

impl Store {
    /// [`Streams::stream_heads`] computed from the seq index.
    pub(super) fn scan_heads(
        &self,
        agreement: &AgreementId,
    ) -> Result<std::collections::BTreeMap<StreamId, StreamHead>, StoreError> {
        let prefix = keys::seq_prefix(agreement, None);
        let mut heads = std::collections::BTreeMap::new();
        // (stream bytes, head so far, still contiguous)
        let mut current: Option<(Vec<u8>, StreamHead, bool)> = None;
        for item in self.kv.scan_prefix(&prefix) {
            let (key, value) = item?;
            let rest = &key[prefix.len()..];
            let Some(end) = rest.iter().position(|b| *b == 0) else {
                continue;
            };
            let (orig, seq_bytes) = (&rest[..end], &rest[end + 1..]);
            let Ok(seq_arr) = <[u8; 8]>::try_from(seq_bytes) else {
                continue;
            };
            let seq = u64::from_be_bytes(seq_arr);
            if current
                .as_ref()
                .is_none_or(|(o, _, _)| o.as_slice() != orig)
            {
                if let Some((o, head, _)) = current.take() {
                    insert_head(&mut heads, &o, head);
                }
                current = Some((orig.to_vec(), StreamHead::default(), true));
            }
            if let Some((_, head, contiguous)) = &mut current
                && *contiguous
            {
                if seq == head.seq + 1 {
                    let id = keys::trailing_id(&value).ok_or_else(|| {
                        StoreError::Corrupt("a seq slot without a record id".into())
                    })?;
                    head.extend(&id);
                } else {
                    *contiguous = false;
                }
            }
        }
        if let Some((o, head, _)) = current {
            insert_head(&mut heads, &o, head);
        }
        Ok(heads)
    }
}

interface! {
    /// The outbox: records waiting for each member, and settling them once acknowledged, withheld
    /// or refused ([`Outbox::for_peer`]): one of the store's interfaces.
    Outbox, outbox
}

impl Outbox<'_> {
    /// The records waiting for `peer`, oldest first per agreement, at most `limit`: (outbox
    /// entry, envelope). Entries under an agreement `hold` says to keep for later are passed over
    /// unread (their record is not even decoded); own records not yet durable too. A purged
    /// record's entry is dropped on the way, with a `withheld` audit entry in the same batch.
    pub fn for_peer(
        &self,
        peer: &AgencyId,
        limit: usize,
        hold: impl Fn(&AgreementId) -> bool,
    ) -> Result<Vec<(OutboxEntry, Envelope)>, StoreError> {
        let mut out = Vec::new();
        let (mut stale, mut purged): (Vec<OutboxEntry>, Vec<AuditEvent>) = (Vec::new(), Vec::new());
        let prefix = keys::outbox_prefix(peer);
        for item in self.kv.scan_prefix(&prefix) {
            let (key, value) = item?;
            match keys::outbox_agreement(&key[prefix.len()..]) {
                Some(a) if hold(&a) => continue,
                Some(_) => {}
                None => {
                    stale.push(OutboxEntry::new(peer, &key));
                    continue;
                }
            }
            match keys::trailing_id(&value) {
                Some(id) if self.is_unflushed(&id) => {} // not durable yet: not sent
                Some(id) => match self.records().get(&id)? {
                    Some(rec) => out.push((OutboxEntry::new(peer, &key), rec.envelope)),
                    None => {
                        // purged here before the peer acknowledged it: the entry leaves the
                        // outbox with a `withheld` entry saying so
                        purged.push(AuditEvent::Withheld {
                            record: id,
                            to: peer.clone(),
                            code: 0,
                            reason: format!(
                                "purged here before {peer} acknowledged it; never to be sent"
                            ),
                        });
                        stale.push(OutboxEntry::new(peer, &key));
                    }
                },
                None => stale.push(OutboxEntry::new(peer, &key)),
            }
            if out.len() >= limit {
                break;
            }
        }
        if !stale.is_empty() {
            tracing::warn!(%peer, entries = stale.len(), "outbox entries with no record to send removed");
            self.settle(crate::clock::now(), &stale, Vec::new(), purged)?;
        }
        Ok(out)
    }

    /// How many records wait for each peer.
    pub fn depths(&self) -> Result<std::collections::BTreeMap<AgencyId, usize>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for ((peer, _), n) in self.by_agreement()? {
            *out.entry(peer).or_insert(0) += n;
        }
        Ok(out)
    }

    /// How many own records wait in the outbox, by (peer, agreement).
    pub fn by_agreement(
        &self,
    ) -> Result<std::collections::BTreeMap<(AgencyId, AgreementId), usize>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for item in self.kv.scan_prefix([keys::OUTBOX]).keys() {
            let key = item?;
            let Some(end) = key[1..].iter().position(|b| *b == 0) else {
                continue;
            };
            let Ok(Ok(peer)) = std::str::from_utf8(&key[1..1 + end]).map(AgencyId::new) else {
                continue;
            };
            if let Some(agreement) = outbox_key_agreement(&peer, &key) {
                *out.entry((peer, agreement)).or_insert(0) += 1;
            }
        }
        Ok(out)
    }
}

interface! {
    /// Sync: the gap-free heads of every stream, and the records of a seq range.
    Streams, sync
}

impl Streams<'_> {
    /// Per stream (an originator's own key, or a key it delegated), the highest seq up to which
    /// every record under `agreement` is held (purged records count as held: their slot stays).
    pub fn heads(
        &self,
        agreement: &AgreementId,
    ) -> Result<std::collections::BTreeMap<StreamId, u64>, StoreError> {
        Ok(self
            .stream_heads(agreement)?
            .into_iter()
            .map(|(s, h)| (s, h.seq))
            .collect())
    }

    /// [`Streams::heads`] with the stream digest of each head.
    pub fn stream_heads(
        &self,
        agreement: &AgreementId,
    ) -> Result<std::collections::BTreeMap<StreamId, StreamHead>, StoreError> {
        // the write lock keeps a slot from being written between the scan and its caching
        let _guard = self.lock();
        let cached = self
            .heads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(agreement)
            .cloned();
        let mut heads = match cached {
            Some(h) => h,
            None => {
                let heads = self.scan_heads(agreement)?;
                self.heads
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(agreement.clone(), heads.clone());
                heads
            }
        };
        // own records not yet durable are not announced; the digest of the shorter prefix is
        // not kept, so none is given
        if let (Some(first), Some(own)) = (self.first_unflushed(agreement), self.agency()) {
            let stream = StreamId::agency(&own);
            if let Some(h) = heads.get_mut(&stream)
                && h.seq >= first
            {
                *h = StreamHead {
                    seq: first - 1,
                    digest: [0; 32],
                };
            }
        }
        Ok(heads)
    }

    /// Whether equivocation evidence is held for `stream` under `agreement`: two different
    /// records under one of its seqs.
    pub fn has_equivocation(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
    ) -> Result<bool, StoreError> {
        let mut prefix = vec![keys::EVIDENCE];
        prefix.extend_from_slice(&keys::seq_prefix(agreement, Some(stream))[1..]);
        Ok(self.kv.scan_prefix(prefix).next().transpose()?.is_some())
    }

    /// Up to `max_records` envelopes of `stream` under `agreement` from seq `from` through
    /// `to`, in seq order, at most about `max_bytes` in all; purged records are skipped. The
    /// flag says whether the answer reaches `to`.
    pub fn range(
        &self,
        agreement: &AgreementId,
        stream: &StreamId,
        from: Seq,
        to: Seq,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<(Vec<Envelope>, bool), StoreError> {
        let start = keys::seq(agreement, stream, from);
        let end = keys::seq(agreement, stream, to);
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for item in self.kv.range(start..=end) {
            let (key, value) = item?;
            if out.len() >= max_records || bytes >= max_bytes {
                return Ok((out, false));
            }
            let _ = key;
            let Some(id) = keys::trailing_id(&value) else {
                continue;
            };
            if self.is_unflushed(&id) {
                return Ok((out, false)); // an own record not durable yet, nor anything after it
            }
            if let Some(rec) = self.records().get(&id)? {
                bytes += rec.envelope.encoded_len();
                out.push(rec.envelope);
            }
        }
        Ok((out, true))
    }
}
