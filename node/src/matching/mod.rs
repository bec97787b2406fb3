//! Hit / no-hit matching, the node's part (docs/matching.md): which selectors of the records
//! held take part, the agency's matching seed, and the holder's tag set for an agreement and
//! epoch. The cryptography is `accord_protocol::matching`.
//!
//! `holder` answers members' requests for the set and their lookups.

pub mod asker;
pub mod holder;
mod seed;

use std::collections::{BTreeMap, BTreeSet};

use accord_config::{Agreement, MatchingRule};
use accord_protocol::matching::{
    Epoch, MatchError, MatchKey, MatchSet, Selector, SelectorKind, Tag,
};
use accord_protocol::{AgencyId, PersonRole, Record, RecordId, Subject, VictimPurpose};

use crate::search::names::{analyse, pair_keys, pairs_of};
use crate::search::selectors;
use crate::store::{Store, StoreError};

pub use seed::{SEED_FILE, load_or_create_seed, load_seed};

/// The matching selectors of `record`, without repeats, in normal form. Victims' names and
/// documents are left out unless `victims` (the agreement's victim-data clause allows
/// identification). A value the normalisers cannot read (a phone written nationally, an
/// account with a failing IBAN checksum) is left out too: it could never be looked up.
pub fn selectors_of(record: &Record, victims: bool) -> Vec<Selector> {
    let mut out: BTreeSet<Selector> = BTreeSet::new();
    let mut add = |kind: SelectorKind, value: String| {
        if let Ok(s) = Selector::new(kind, &value) {
            out.insert(s);
        }
    };
    for subject in &record.subjects {
        match subject {
            Subject::Person(p) => {
                if p.role == PersonRole::Victim && !victims {
                    continue;
                }
                if let Some(born) = p.date_of_birth {
                    for name in p.name.iter().chain(&p.aliases) {
                        for key in person_keys(name) {
                            add(SelectorKind::Person, format!("{key}:{}", born.year()));
                        }
                    }
                }
                for d in &p.documents {
                    add(
                        SelectorKind::Document,
                        document_key(d.issuing_country.as_str(), &d.number),
                    );
                }
            }
            Subject::Phone(ph) => {
                if let Ok(e164) = selectors::phone(&ph.number, None) {
                    add(SelectorKind::Phone, e164);
                }
            }
            Subject::Account(a) => {
                if let Ok(key) = selectors::account(&a.identifier) {
                    add(SelectorKind::Account, key);
                }
            }
            Subject::TravelDocument(d) => add(
                SelectorKind::Document,
                document_key(d.issuing_country.as_str(), &d.number),
            ),
            Subject::Vessel(v) => {
                if let Some(Ok(imo)) = v.imo.as_deref().map(selectors::imo) {
                    add(SelectorKind::Vessel, format!("imo:{imo}"));
                }
                if let Some(Ok(mmsi)) = v.mmsi.as_deref().map(selectors::mmsi) {
                    add(SelectorKind::Vessel, format!("mmsi:{mmsi}"));
                }
            }
            Subject::Organisation(_) | Subject::Vehicle(_) => {}
        }
    }
    out.into_iter().collect()
}

/// A travel document's selector value: issuing country, `:`, the number's key.
pub fn document_key(country: &str, number: &str) -> String {
    format!(
        "{}:{}",
        country.to_ascii_uppercase(),
        selectors::document(number)
    )
}

/// A person's name keys for matching: for every pair of the name's parts (over its
/// segmentations), the pair keys search's index uses (docs/search.md, "The index"): the
/// parts' consonant skeletons (`S`, which carry a name across scripts) and their primary
/// Double Metaphone codes (`P`, across spellings), each pair sorted so part order does not
/// matter, written as the letter and the key (`Smhmd|rz`). A name of one part gives none: a
/// single name with a year is too weak to call a hit.
pub fn person_keys(name: &str) -> Vec<String> {
    let name = analyse(name);
    let mut out = BTreeSet::new();
    for seg in name.segmentations() {
        for (a, b) in pairs_of(&seg.parts) {
            for (kind, key) in pair_keys(a, b) {
                out.insert(format!("{}{key}", char::from(kind)));
            }
        }
    }
    out.into_iter().collect()
}

/// Whether victims' selectors take part under `agreement`: only when its victim-data clause
/// allows identification.
pub fn victims_take_part(agreement: &Agreement) -> bool {
    agreement.victim_data.permits(VictimPurpose::Identification)
}

/// The holder's tag set under `agreement` in `epoch`: the selectors of every record `own`
/// originated that the store holds, and, when the agreement's clause says so, of the records
/// received from its members; withdrawn records take no part. `None` when the agreement does
/// not provide for matching.
pub fn holder_set(
    store: &Store,
    own: &AgencyId,
    agreement: &Agreement,
    seed: &[u8; 32],
    epoch: Epoch,
) -> Result<Option<MatchSet>, HolderError> {
    if agreement.matching.is_none() {
        return Ok(None);
    }
    let key = MatchKey::derive(seed, &agreement.id, epoch)?;
    let mut selectors = BTreeSet::new();
    participating(store, own, agreement, |_, s| {
        selectors.extend(s);
    })?;
    Ok(Some(MatchSet::build(&key, &selectors)?))
}

/// Which of the holder's selectors under `agreement` in `epoch` have one of `tags`, and the
/// records that give each: how a holder's focal point finds what a request for information
/// after a hit is about (the request names the tag, never the selector, since every member of
/// the agreement receives it). Any epoch: the key is derived again from the seed.
pub fn resolve(
    store: &Store,
    own: &AgencyId,
    agreement: &Agreement,
    seed: &[u8; 32],
    epoch: Epoch,
    tags: &[Tag],
) -> Result<Vec<(Selector, Vec<RecordId>)>, HolderError> {
    if agreement.matching.is_none() {
        return Err(HolderError::NotProvided(agreement.id.clone()));
    }
    let key = MatchKey::derive(seed, &agreement.id, epoch)?;
    let mut found: BTreeMap<Selector, Vec<RecordId>> = BTreeMap::new();
    let mut failed = None;
    participating(store, own, agreement, |id, selectors| {
        for s in selectors {
            match key.tag(&s) {
                Ok(t) if tags.contains(&t) => found.entry(s).or_default().push(*id),
                Ok(_) => {}
                Err(e) => failed = Some(e),
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok(found.into_iter().collect())
}

/// A selector of the holder's that a tag resolves to, with the records that give it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolved {
    /// Its kind.
    pub kind: SelectorKind,
    /// Its value in normal form.
    pub value: String,
    /// The records held that give it, ids in hex.
    pub records: Vec<String>,
}

/// [`resolve`] for a running node: its seed read from its data directory.
pub fn resolve_with_seed_file(
    store: &Store,
    cfg: &accord_config::NodeConfig,
    agreement: &accord_protocol::AgreementId,
    epoch: Epoch,
    tags: &[Tag],
) -> Result<Vec<Resolved>, String> {
    let Some(a) = cfg.agreements.get(agreement) else {
        return Err(format!("{} is not party to {agreement}", cfg.agency));
    };
    let seed = load_seed(&cfg.data_dir)
        .map_err(|e| format!("{e:#}"))?
        .ok_or_else(|| {
            format!(
                "{} holds no matching seed ({SEED_FILE}): it has answered no lookup, so no tag \
                 is its",
                cfg.data_dir.display()
            )
        })?;
    let found = resolve(store, &cfg.agency, a, &seed, epoch, tags).map_err(|e| e.to_string())?;
    Ok(found
        .into_iter()
        .map(|(s, ids)| Resolved {
            kind: s.kind(),
            value: s.value().to_owned(),
            records: ids.iter().map(ToString::to_string).collect(),
        })
        .collect())
}

/// Calls `visit` with each record that takes part under `agreement` (not withdrawn) and its
/// selectors, one record at a time.
fn participating(
    store: &Store,
    own: &AgencyId,
    agreement: &Agreement,
    mut visit: impl FnMut(&RecordId, Vec<Selector>),
) -> Result<(), HolderError> {
    let Some(rule) = agreement.matching else {
        return Ok(());
    };
    let victims = victims_take_part(agreement);
    let queries = store.queries();
    queries.each_record(|stored| {
        if takes_part(&stored.record, own, agreement, rule)
            && queries.withdrawn_by(&stored.id)?.is_none()
        {
            visit(&stored.id, selectors_of(&stored.record, victims));
        }
        Ok(())
    })?;
    Ok(())
}

/// Whether a record held takes part in a holder's set under `agreement`: its own records,
/// whatever agreement they were shared under or none; a partner's only when the clause says
/// so and the record was shared under this same agreement, so no hit ever tells members what
/// a partner shared under another agreement.
fn takes_part(record: &Record, own: &AgencyId, agreement: &Agreement, rule: MatchingRule) -> bool {
    if &record.originator == own {
        return true;
    }
    rule.partner_records && record.agreement == agreement.id
}

/// Why a holder's set could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HolderError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key could not be derived.
    #[error(transparent)]
    Match(#[from] MatchError),
    /// The agreement does not provide for matching.
    #[error("{0} does not provide for matching (no [matching] clause)")]
    NotProvided(accord_protocol::AgreementId),
    /// The set's build failed (its error, as text).
    #[error("the set could not be built: {0}")]
    Build(String),
}

#[cfg(test)]
mod tests;
