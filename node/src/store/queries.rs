//! Queries over the records held: by filters (`Query`), in created order a page at a time, by
//! reference, and all the records of an agreement.

use super::*;

impl Store {
    pub(super) fn ids_under(&self, prefix: &[u8]) -> Result<Vec<RecordId>, StoreError> {
        let mut v = Vec::new();
        for item in self.kv.scan_prefix(prefix).keys() {
            v.extend(keys::trailing_id(&item?));
        }
        Ok(v)
    }
}

interface! {
    /// Queries over the records held: by filter, by creation time, by reference, and all of them.
    Queries, queries
}

impl<'s> Queries<'s> {
    /// The ids of held records whose hex id starts with `prefix`.
    pub fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<RecordId>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix([keys::RECORD]).keys() {
            let key = item?;
            if let Some(id) = keys::trailing_id(&key)
                && id.to_hex().starts_with(prefix)
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The records that withdraw, correct or answer `id`, as (kind, record id); kind is
    /// `withdraws`, `corrects` or `responds_to`. A reference the record format does not allow
    /// (another originator's withdrawal, an answer from another agreement: one that arrived
    /// before its target, so it could not be refused then) is left out.
    pub fn references_to(
        &self,
        id: &RecordId,
    ) -> Result<Vec<(&'static str, RecordId)>, StoreError> {
        use crate::references::{Kind, consistent};
        let prefix = keys::reference_prefix(id);
        let target = self.records().get(id)?;
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(&prefix).keys() {
            let key = item?;
            let kind = match key.get(prefix.len()) {
                Some(&keys::REF_WITHDRAWS) => Kind::Withdraws,
                Some(&keys::REF_CORRECTS) => Kind::Corrects,
                Some(&keys::REF_RESPONDS) => Kind::RespondsTo,
                _ => continue,
            };
            let Some(by) = keys::trailing_id(&key) else {
                continue;
            };
            if let Some(t) = &target
                && let Some(b) = self.records().get(&by)?
                && !consistent(kind, &b.record, &t.record)
            {
                continue;
            }
            out.push((kind.name(), by));
        }
        Ok(out)
    }

    /// The record that withdraws `id`, if any.
    pub fn withdrawn_by(&self, id: &RecordId) -> Result<Option<RecordId>, StoreError> {
        Ok(self
            .references_to(id)?
            .into_iter()
            .find(|(k, _)| *k == "withdraws")
            .map(|(_, by)| by))
    }

    /// The records matching every filter of `q`, oldest first (then by agreement, originator, seq). The most selective index given
    /// picks the candidates; every filter is then checked on the record itself.
    pub fn query(&self, q: &Query) -> Result<Vec<StoredRecord>, StoreError> {
        let mut ids: Vec<RecordId> = if let Some(s) = &q.subject {
            let mut v = Vec::new();
            for kind in &s.kinds {
                v.extend(self.ids_under(&keys::subject_prefix(
                    *kind as u8,
                    &kind.normalise(&s.value),
                ))?);
            }
            v
        } else if let Some((country, role)) = q.country {
            self.ids_under(&keys::route_prefix(country, role))?
        } else if let Some(c) = q.category {
            self.ids_under(&keys::category_prefix(c))?
        } else if let Some(a) = &q.agreement {
            let mut v = Vec::new();
            for item in self.kv.scan_prefix(keys::seq_prefix(a, None)) {
                let (_, value) = item?;
                v.extend(keys::trailing_id(&value));
            }
            v
        } else {
            let mut start = vec![keys::CREATED];
            if let Some(t) = q.since {
                start.extend_from_slice(&keys::created_bytes(t));
            }
            let mut v = Vec::new();
            for item in self.kv.range(start..vec![keys::CREATED + 1]).keys() {
                v.extend(keys::trailing_id(&item?));
            }
            v
        };
        ids.sort();
        ids.dedup();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(rec) = self.records().get(&id)? else {
                continue;
            };
            if !q.admits(&rec.record) {
                continue;
            }
            out.push(rec);
        }
        out.sort_by(|a, b| {
            let key = |r: &StoredRecord| {
                (
                    r.record.created,
                    r.record.agreement.clone(),
                    r.record.originator.clone(),
                    r.record.seq,
                    r.id,
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(out)
    }

    /// The records `q` admits, in creation order from `from` (or `q.since`, the later), one
    /// creation second at a time: a page of the newest or oldest needs only as many reads as
    /// it shows, whatever the store holds. Each group's order within the second is the
    /// caller's to set.
    pub fn query_by_created<'a>(
        &self,
        q: &'a Query,
        from: Option<Timestamp>,
    ) -> impl Iterator<Item = Result<Vec<StoredRecord>, StoreError>> + 'a
    where
        's: 'a,
    {
        let store: &'s Store = self.0;
        let start_at = match (from, q.since) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let mut start = vec![keys::CREATED];
        if let Some(t) = start_at {
            start.extend_from_slice(&keys::created_bytes(t));
        }
        let mut keys_iter = store
            .kv
            .range(start..vec![keys::CREATED + 1])
            .keys()
            .peekable();
        std::iter::from_fn(move || {
            let first = match keys_iter.next()? {
                Ok(k) => k,
                Err(e) => return Some(Err(e.into())),
            };
            let second = first.get(1..9).map(<[u8]>::to_vec);
            let mut ids: Vec<RecordId> = keys::trailing_id(&first).into_iter().collect();
            while let Some(Ok(next)) = keys_iter.peek() {
                if next.get(1..9).map(<[u8]>::to_vec) != second {
                    break;
                }
                ids.extend(keys::trailing_id(next));
                keys_iter.next();
            }
            let mut group = Vec::with_capacity(ids.len());
            for id in ids {
                match store.records().get(&id) {
                    Ok(Some(rec)) if q.admits(&rec.record) => group.push(rec),
                    Ok(_) => {}
                    Err(e) => return Some(Err(e)),
                }
            }
            Some(Ok(group))
        })
    }

    /// Whether the index that narrows `q` (a subject's, or a route country's) names at most
    /// `few` records, counting keys only and stopping past `few`; `None` when no such index
    /// narrows it.
    pub fn few_candidates(&self, q: &Query, few: usize) -> Result<Option<bool>, StoreError> {
        let prefixes: Vec<Vec<u8>> = if let Some(s) = &q.subject {
            s.kinds
                .iter()
                .map(|kind| keys::subject_prefix(*kind as u8, &kind.normalise(&s.value)))
                .collect()
        } else if let Some((country, role)) = q.country {
            vec![keys::route_prefix(country, role)]
        } else {
            return Ok(None);
        };
        let mut n = 0usize;
        for prefix in prefixes {
            for k in self.kv.scan_prefix(prefix).keys() {
                k?;
                n += 1;
                if n > few {
                    return Ok(Some(false));
                }
            }
        }
        Ok(Some(true))
    }

    /// Every record under `agreement`, by originator then seq.
    pub fn records_under(&self, agreement: &AgreementId) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::seq_prefix(agreement, None)) {
            let (_, value) = item?;
            if let Some(id) = keys::trailing_id(&value) {
                out.extend(self.records().get(&id)?);
            }
        }
        Ok(out)
    }

    /// Calls `visit` with every record held, in id order, one at a time: a pass over the
    /// whole store in bounded memory (matching's holder set).
    pub fn each_record(
        &self,
        mut visit: impl FnMut(StoredRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for item in self.kv.scan_prefix([keys::RECORD]) {
            let (key, value) = item?;
            if let Some(id) = keys::trailing_id(&key) {
                visit(decode_stored(id, &value)?)?;
            }
        }
        Ok(())
    }

    /// Every record held, in id order.
    pub fn all_records(&self) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix([keys::RECORD]) {
            let (key, value) = item?;
            if let Some(id) = keys::trailing_id(&key) {
                out.push(decode_stored(id, &value)?);
            }
        }
        Ok(out)
    }
}
