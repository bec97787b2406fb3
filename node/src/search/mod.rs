//! Search: people by their names however a partner spelled them, selectors by their
//! real-world identity, free text, and the records that share a selector (docs/search.md).
//!
//! The indexes are written with the record, in the same batch ([`crate::store`]'s
//! `index_keys`), for own and received records alike; `accord reindex` rebuilds them for a
//! store written by an older accord. A search reads candidates from an index, then checks
//! every filter and scores every candidate on the record itself.

pub mod eval;
mod links;
pub mod names;
mod people;
pub(crate) mod selectors;
mod terms;
mod words;

use std::collections::{BTreeSet, HashMap};

use accord_protocol::{Country, Record, RecordId, Subject};
use thiserror::Error;

use crate::store::{Query, Store, StoreError, StoredRecord, SubjectKind};
use people::{PersonJudge, judge_postings, person_candidates};
use words::{judge_text, judge_vessel, word_candidates};

pub use links::{Link, MAX_LINKS, links};
pub use people::{finds_name, name_terms};
pub use terms::{Find, SearchText};
pub use words::{fold_word, words};

/// The version of the keys this accord writes to the subject, name and word indexes; a store
/// holding another is reindexed (`accord reindex`) before it is searched.
pub const SEARCH_INDEX_VERSION: u32 = 2;

/// A person search keeps names scoring at least this (docs/search.md, "Reading a score").
pub const THRESHOLD: f32 = 0.80;
/// With `--fuzzy`, at least this.
pub const FUZZY_THRESHOLD: f32 = 0.60;

/// Candidates read from the indexes for one search, at most.
pub const MAX_CANDIDATES: usize = 50_000;

/// Why a search could not run.
#[derive(Debug, Error)]
pub enum SearchError {
    /// A search term is not valid; names the option and the rule.
    #[error("--{option}: {reason}")]
    Invalid {
        /// The option (as on the command line, without `--`).
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// The store's indexes were written by an older accord.
    #[error(
        "this store's search indexes were written by an older accord; stop the node and run \
         `accord reindex` once (docs/search.md, \"Reindexing\")"
    )]
    Stale,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A record's score (0 to 100) and the reasons, when it matches.
type Verdict = Option<(u8, Vec<String>)>;

/// A record found, with its score (0 to 100) and why it matched.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The record.
    pub record: StoredRecord,
    /// 100 for an exact match of a selector; for a name, the name score in percent.
    pub score: u8,
    /// Why it matched, in words.
    pub reasons: Vec<String>,
}

/// A search's hits, best first, at most the limit asked.
#[derive(Clone, Debug)]
pub struct Found {
    /// The hits.
    pub hits: Vec<Hit>,
    /// Hits scoring above the threshold that the limit left out.
    pub more: usize,
    /// Whether an index named more candidates than a search reads ([`MAX_CANDIDATES`]): the
    /// search should be narrowed.
    pub truncated: bool,
}

/// Runs a search: candidates from an index, then every filter of `q` and the score checked
/// on the record. Hits are sorted by score, then newest first.
pub fn search(store: &Store, find: &Find, q: &Query, limit: usize) -> Result<Found, SearchError> {
    if !store.index().search_index_current()? {
        return Err(SearchError::Stale);
    }
    let mut truncated = false;
    let mut hits: Vec<Hit> = Vec::new();
    let mut take = |ids: Vec<RecordId>,
                    judge: &mut dyn FnMut(&StoredRecord) -> Verdict|
     -> Result<(), SearchError> {
        let mut seen = BTreeSet::new();
        let ids: Vec<RecordId> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        let mut judge_all = |records: Vec<StoredRecord>| {
            for rec in records {
                if let Some((score, reasons)) = judge(&rec) {
                    hits.push(Hit {
                        record: rec,
                        score,
                        reasons,
                    });
                }
            }
        };
        if ids.len() < READ_IN_TWO_FROM {
            judge_all(admitted(store, q, &ids)?);
            return Ok(());
        }
        // reading a record is most of what a candidate costs: a second thread reads the
        // second half while this one reads and judges the first
        let (first, second) = ids.split_at(ids.len() / 2);
        std::thread::scope(|s| {
            let other = s.spawn(|| admitted(store, q, second));
            judge_all(admitted(store, q, first)?);
            match other.join() {
                Ok(records) => judge_all(records?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            Ok(())
        })
    };
    match find {
        Find::Person { name, born, fuzzy } => {
            // judged from the index: only the records whose names score are read
            let (postings, cut) = person_candidates(store, name, *fuzzy)?;
            truncated = cut;
            let mut judge = PersonJudge::new(name, *born, *fuzzy);
            let judged = judge_postings(&mut judge, postings)?;
            let verdicts: HashMap<RecordId, (u8, Vec<String>)> = judged.iter().cloned().collect();
            let ids = judged.into_iter().map(|(id, _)| id).collect();
            take(ids, &mut |r| verdicts.get(&r.id).cloned())?;
        }
        Find::Phone { typed, e164 } => {
            let ids = store.index().subject_ids(SubjectKind::Phone, e164)?;
            let why = if typed
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                == *e164
            {
                format!("phone {e164}")
            } else {
                format!("phone {e164} (typed `{typed}`)")
            };
            take(ids, &mut |_| Some((100, vec![why.clone()])))?;
        }
        Find::Account { key } => {
            let ids = store.index().subject_ids(SubjectKind::Account, key)?;
            let what = if selectors::is_iban(key) {
                "IBAN"
            } else {
                "account"
            };
            take(ids, &mut |_| Some((100, vec![format!("{what} {key}")])))?;
        }
        Find::Document { typed, key, issuer } => {
            let ids = store.index().subject_ids(SubjectKind::Document, key)?;
            take(ids, &mut |r| judge_document(&r.record, typed, key, *issuer))?;
        }
        Find::Imo(imo) => {
            let ids = store.index().subject_ids(SubjectKind::Imo, imo)?;
            take(ids, &mut |_| Some((100, vec![format!("vessel IMO {imo}")])))?;
        }
        Find::Mmsi(mmsi) => {
            let ids = store.index().subject_ids(SubjectKind::Mmsi, mmsi)?;
            take(ids, &mut |_| {
                Some((100, vec![format!("vessel MMSI {mmsi}")]))
            })?;
        }
        Find::VesselName(words) => {
            let (ids, cut) = word_candidates(store, words)?;
            truncated = cut;
            take(ids, &mut |r| judge_vessel(&r.record, words))?;
        }
        Find::Text(words) => {
            let (ids, cut) = word_candidates(store, words)?;
            truncated = cut;
            take(ids, &mut |r| judge_text(&r.record, words))?;
        }
    }
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(b.record.record.created.cmp(&a.record.record.created))
            .then(a.record.id.cmp(&b.record.id))
    });
    let more = hits.len().saturating_sub(limit);
    hits.truncate(limit);
    Ok(Found {
        hits,
        more,
        truncated,
    })
}

/// From this many candidates on, a search reads them in two threads.
pub const READ_IN_TWO_FROM: usize = 8;

/// The records of `ids` that `q` admits, in order (those no longer held are skipped).
fn admitted(store: &Store, q: &Query, ids: &[RecordId]) -> Result<Vec<StoredRecord>, SearchError> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(rec) = store.records().get(id)?
            && q.admits(&rec.record)
        {
            out.push(rec);
        }
    }
    Ok(out)
}

fn judge_document(r: &Record, typed: &str, key: &str, issuer: Option<Country>) -> Verdict {
    let mut docs: Vec<(&str, Country)> = Vec::new();
    for s in &r.subjects {
        match s {
            Subject::Person(p) => docs.extend(
                p.documents
                    .iter()
                    .map(|d| (d.number.as_str(), d.issuing_country)),
            ),
            Subject::TravelDocument(d) => docs.push((d.number.as_str(), d.issuing_country)),
            _ => {}
        }
    }
    let (number, country) = docs
        .into_iter()
        .filter(|(n, _)| selectors::document(n) == key)
        .find(|(_, c)| issuer.is_none_or(|i| i == *c))?;
    let mut why = format!("document {number} issued by {country}");
    let plain = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
            .collect()
    };
    if plain(number) != plain(typed) {
        why.push_str(&format!(" (typed `{typed}`; the letter O is read as 0)"));
    }
    Some((100, vec![why]))
}
