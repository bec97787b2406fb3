//! The records a node holds, as the workflows see them: each record with the records that
//! refer to it (withdraw, correct or answer it), read from the records themselves.

use std::collections::BTreeMap;

use accord_protocol::{Record, RecordId};

/// One record held, and where it came from.
#[derive(Clone, Debug)]
pub struct Held {
    /// Its id.
    pub id: RecordId,
    /// The record.
    pub record: Record,
    /// `local`, or the agency it came from.
    pub source: String,
}

/// Every record a node holds, by id, with the references between them.
#[derive(Clone, Debug, Default)]
pub struct Holdings {
    by_id: BTreeMap<RecordId, Held>,
    /// For each referenced id, the records that withdraw it.
    withdrawn_by: BTreeMap<RecordId, Vec<RecordId>>,
    /// For each referenced id, the records that correct it.
    corrected_by: BTreeMap<RecordId, Vec<RecordId>>,
    /// For each referenced id, the records whose `responds_to` names it.
    answered_by: BTreeMap<RecordId, Vec<RecordId>>,
}

impl Holdings {
    /// Every record `store` holds.
    pub fn of_store(store: &crate::store::Store) -> Result<Self, crate::store::StoreError> {
        use crate::store::Source;
        let records = store.queries().all_records()?;
        Ok(Self::new(records.into_iter().map(|r| Held {
            id: r.id,
            record: r.record,
            source: match r.source {
                Source::Local => "local".to_owned(),
                Source::Peer(a) => a.to_string(),
            },
        })))
    }

    /// The records of `categories` that `store` holds, read through the category index: what
    /// a workflow over those categories needs (a correction or withdrawal keeps its target's
    /// category, so the references between them are all there), without reading the rest.
    pub fn of_categories(
        store: &crate::store::Store,
        categories: &[accord_protocol::Category],
    ) -> Result<Self, crate::store::StoreError> {
        use crate::store::{Query, Source};
        let mut held = Vec::new();
        for c in categories {
            let q = Query {
                category: Some(*c),
                ..Query::default()
            };
            held.extend(store.queries().query(&q)?.into_iter().map(|r| Held {
                id: r.id,
                record: r.record,
                source: match r.source {
                    Source::Local => "local".to_owned(),
                    Source::Peer(a) => a.to_string(),
                },
            }));
        }
        Ok(Self::new(held))
    }

    /// The holdings made of `records`. A reference the record format does not allow (another
    /// originator's withdrawal, an answer from another agreement) is left out, as
    /// [`crate::references`] says.
    pub fn new(records: impl IntoIterator<Item = Held>) -> Self {
        use crate::references::{Kind, consistent};
        let mut h = Self {
            by_id: records.into_iter().map(|held| (held.id, held)).collect(),
            ..Self::default()
        };
        for held in h.by_id.values() {
            let r = &held.record;
            for (kind, target, index) in [
                (Kind::Withdraws, r.withdraws, &mut h.withdrawn_by),
                (Kind::Corrects, r.corrects, &mut h.corrected_by),
                (Kind::RespondsTo, r.responds_to, &mut h.answered_by),
            ] {
                let Some(target) = target else { continue };
                if h.by_id
                    .get(&target)
                    .is_some_and(|t| !consistent(kind, r, &t.record))
                {
                    continue;
                }
                index.entry(target).or_default().push(held.id);
            }
        }
        h
    }

    /// A record by id.
    pub fn get(&self, id: &RecordId) -> Option<&Held> {
        self.by_id.get(id)
    }

    /// Every record, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Held> {
        self.by_id.values()
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The record that withdraws `id`, if any: a withdrawal by the record's own originator
    /// (no one else can withdraw a record).
    pub fn withdrawn_by(&self, id: &RecordId) -> Option<RecordId> {
        let target = self.get(id)?;
        self.referrers(&self.withdrawn_by, id)
            .find(|w| w.record.originator == target.record.originator)
            .map(|w| w.id)
    }

    /// Whether a correction by its originator supersedes `id`.
    pub fn is_corrected(&self, id: &RecordId) -> bool {
        let Some(target) = self.get(id) else {
            return false;
        };
        self.referrers(&self.corrected_by, id)
            .any(|c| c.record.originator == target.record.originator && !self.is_withdrawn(&c.id))
    }

    /// Whether `id` is withdrawn.
    pub fn is_withdrawn(&self, id: &RecordId) -> bool {
        self.withdrawn_by(id).is_some()
    }

    /// The records whose `responds_to` names `id` and that still stand: neither withdrawals
    /// themselves nor withdrawn. Oldest first.
    pub fn answers_to(&self, id: &RecordId) -> Vec<&Held> {
        let mut found: Vec<&Held> = self
            .referrers(&self.answered_by, id)
            .filter(|a| a.record.withdraws.is_none() && !self.is_withdrawn(&a.id))
            .collect();
        found.sort_by_key(|a| (a.record.created, a.id));
        found
    }

    fn referrers<'a>(
        &'a self,
        index: &'a BTreeMap<RecordId, Vec<RecordId>>,
        id: &RecordId,
    ) -> impl Iterator<Item = &'a Held> + 'a {
        index
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|r| self.by_id.get(r))
    }
}
