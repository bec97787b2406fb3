//! The records that share a selector with a record: the link analysis analysts do by hand
//! (docs/search.md, "Linked records").

use std::collections::{BTreeMap, BTreeSet};

use accord_protocol::{AgreementId, RecordId};
use serde::Serialize;

use crate::store::{Store, StoreError, StoredRecord, SubjectKind};

/// A record that shares a selector with another, and which.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Link {
    /// The other record.
    pub id: RecordId,
    /// Its agreement.
    pub agreement: AgreementId,
    /// What they share, in words (`phone +923012345678`).
    pub shared: Vec<String>,
}

/// At most this many linked records are listed for one record.
pub const MAX_LINKS: usize = 50;

/// The records under `agreements` that share a selector with `record`: a phone, an account, a
/// document, a vessel (IMO, MMSI or name) or a person (name and date of birth, or name alone).
pub fn links(
    store: &Store,
    record: &StoredRecord,
    agreements: &BTreeSet<AgreementId>,
) -> Result<Vec<Link>, StoreError> {
    let mut by: BTreeMap<RecordId, (AgreementId, Vec<String>)> = BTreeMap::new();
    let keys = crate::store::subject_keys(&record.record);
    // a name with a date of birth is the stronger link; a bare name stands only for itself
    for (kind, value) in &keys {
        let what = match kind {
            SubjectKind::Phone => format!("phone {value}"),
            SubjectKind::Account => format!("account {value}"),
            SubjectKind::Document => format!("document {value}"),
            SubjectKind::Imo => format!("vessel IMO {value}"),
            SubjectKind::Mmsi => format!("vessel MMSI {value}"),
            SubjectKind::Vessel => format!("vessel name `{value}`"),
            SubjectKind::Vehicle => format!("vehicle {value}"),
            SubjectKind::Organisation => format!("organisation `{value}`"),
            SubjectKind::PersonBorn => {
                let (n, b) = value.rsplit_once('@').unwrap_or((value, ""));
                format!("person `{n}` born {b}")
            }
            SubjectKind::Person => {
                if keys.iter().any(|(k, v)| {
                    *k == SubjectKind::PersonBorn && v.starts_with(&format!("{value}@"))
                }) {
                    continue;
                }
                format!("person `{value}`")
            }
        };
        for id in store.index().subject_ids(*kind, value)? {
            if id == record.id {
                continue;
            }
            if let Some(entry) = by.get_mut(&id) {
                if !entry.1.contains(&what) {
                    entry.1.push(what.clone());
                }
                continue;
            }
            if by.len() >= MAX_LINKS {
                continue;
            }
            let Some(other) = store.records().get(&id)? else {
                continue;
            };
            if !agreements.contains(&other.record.agreement) {
                continue;
            }
            by.insert(id, (other.record.agreement.clone(), vec![what.clone()]));
        }
    }
    Ok(by
        .into_iter()
        .map(|(id, (agreement, shared))| Link {
            id,
            agreement,
            shared,
        })
        .collect())
}
