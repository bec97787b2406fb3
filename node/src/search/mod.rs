//! Search: people by their names however a partner spelled them, selectors by their
//! real-world identity, free text, and the records that share a selector (docs/search.md).
//!
//! The indexes are written with the record, in the same batch ([`crate::store`]'s
//! `index_keys`), for own and received records alike; `accord reindex` rebuilds them for a
//! store written by an older accord. A search reads candidates from an index, then checks
//! every filter and scores every candidate on the record itself.

pub mod eval;
pub mod names;
pub mod selectors;

use std::collections::{BTreeMap, BTreeSet};

use accord_protocol::{AgreementId, Country, PartialDate, Record, RecordId, Subject};
use serde::Serialize;
use thiserror::Error;

use crate::store::{Query, Store, StoreError, StoredRecord, SubjectKind};
use names::{How, Name, PartMatch};

/// The version of the keys this accord writes to the subject, name and word indexes; a store
/// holding another is reindexed (`accord reindex`) before it is searched.
pub const SEARCH_INDEX_VERSION: u32 = 1;

/// A person search keeps names scoring at least this (docs/search.md, "Reading a score").
pub const THRESHOLD: f32 = 0.80;
/// With `--fuzzy`, at least this.
pub const FUZZY_THRESHOLD: f32 = 0.60;

/// Candidates read from the indexes for one search, at most.
pub const MAX_CANDIDATES: usize = 50_000;

/// Words of free text shorter than this (in bytes) are not indexed.
const MIN_WORD: usize = 2;
/// Nor longer than this.
const MAX_WORD: usize = 40;
/// At most this many distinct words of one record are indexed.
const MAX_WORDS: usize = 400;
/// Words too common to find anything by.
const STOP_WORDS: [&str; 24] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "of", "on", "or", "the", "to", "was", "were", "with", "that",
];

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

fn invalid(option: &'static str, reason: impl Into<String>) -> SearchError {
    SearchError::Invalid {
        option,
        reason: reason.into(),
    }
}

/// What a person asked for, as typed (command line, API query string or console form).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchText {
    /// A person's name.
    pub person: Option<String>,
    /// With `person`: a date of birth, `YYYY[-MM[-DD]]`.
    pub born: Option<String>,
    /// With `person`: a lower threshold.
    pub fuzzy: bool,
    /// A phone number.
    pub phone: Option<String>,
    /// The country a nationally written phone number is in.
    pub phone_country: Option<String>,
    /// An account (IBAN or other).
    pub account: Option<String>,
    /// A travel document number.
    pub document: Option<String>,
    /// With `document`: the issuing country.
    pub issuer: Option<String>,
    /// A vessel: IMO number, MMSI or (part of) its name.
    pub vessel: Option<String>,
    /// Words of free text.
    pub text: Option<String>,
}

impl SearchText {
    /// The parameter names, as the API's query string and the console's form spell them.
    pub const NAMES: [&'static str; 10] = [
        "person",
        "born",
        "fuzzy",
        "phone",
        "phone_country",
        "account",
        "document",
        "issuer",
        "vessel",
        "text",
    ];

    /// Whether any search term is given.
    pub fn any(&self) -> bool {
        self.person.is_some()
            || self.phone.is_some()
            || self.account.is_some()
            || self.document.is_some()
            || self.vessel.is_some()
            || self.text.is_some()
    }

    /// Sets the parameter `name` from a query string or form; false for an unknown name.
    pub fn set(&mut self, name: &str, value: &str) -> bool {
        let v = (!value.trim().is_empty()).then(|| value.trim().to_owned());
        match name {
            "person" => self.person = v,
            "born" => self.born = v,
            "fuzzy" => self.fuzzy = matches!(value.trim(), "1" | "true" | "on" | "yes"),
            "phone" => self.phone = v,
            "phone_country" => self.phone_country = v,
            "account" => self.account = v,
            "document" => self.document = v,
            "issuer" => self.issuer = v,
            "vessel" => self.vessel = v,
            "text" => self.text = v,
            _ => return false,
        }
        true
    }

    /// The given parameters as (name, value) pairs, for a query string.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut add = |n: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((n, v.clone()));
            }
        };
        add("person", &self.person);
        add("born", &self.born);
        add("phone", &self.phone);
        add("phone_country", &self.phone_country);
        add("account", &self.account);
        add("document", &self.document);
        add("issuer", &self.issuer);
        add("vessel", &self.vessel);
        add("text", &self.text);
        if self.fuzzy {
            out.push(("fuzzy", "1".into()));
        }
        out
    }

    /// Parses the terms into one search; more than one kind at once, or a term that does not
    /// parse, is an error naming the option.
    pub fn parse(&self) -> Result<Find, SearchError> {
        let given: Vec<&str> = [
            ("person", self.person.is_some()),
            ("phone", self.phone.is_some()),
            ("account", self.account.is_some()),
            ("document", self.document.is_some()),
            ("vessel", self.vessel.is_some()),
            ("text", self.text.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(n, _)| *n)
        .collect();
        if given.len() > 1 {
            return Err(invalid(
                "person",
                format!(
                    "search for one thing at a time: --{} were given together",
                    given.join(" and --")
                ),
            ));
        }
        if self.born.is_some() && self.person.is_none() {
            return Err(invalid(
                "born",
                "a date of birth narrows a --person search; give --person",
            ));
        }
        if self.fuzzy && self.person.is_none() {
            return Err(invalid(
                "fuzzy",
                "--fuzzy widens a --person search; give --person",
            ));
        }
        if self.phone_country.is_some() && self.phone.is_none() {
            return Err(invalid(
                "phone-country",
                "give the --phone it is the country of",
            ));
        }
        if self.issuer.is_some() && self.document.is_none() {
            return Err(invalid("issuer", "give the --document it issued"));
        }
        if let Some(name) = &self.person {
            let analysed = names::analyse(name);
            if analysed.parts.is_empty() {
                return Err(invalid(
                    "person",
                    format!("`{name}` has no letters to search for"),
                ));
            }
            let born = self
                .born
                .as_deref()
                .map(|b| PartialDate::parse(b.trim()).map_err(|e| invalid("born", e.to_string())))
                .transpose()?;
            return Ok(Find::Person {
                name: analysed,
                born,
                fuzzy: self.fuzzy,
            });
        }
        if let Some(p) = &self.phone {
            let e164 = selectors::phone(p, self.phone_country.as_deref())
                .map_err(|e| invalid("phone", e))?;
            return Ok(Find::Phone {
                typed: p.clone(),
                e164,
            });
        }
        if let Some(a) = &self.account {
            let key = selectors::account(a).map_err(|e| invalid("account", e))?;
            return Ok(Find::Account { key });
        }
        if let Some(d) = &self.document {
            let key = selectors::document(d);
            if key.is_empty() {
                return Err(invalid(
                    "document",
                    format!("`{d}` has no letters or digits"),
                ));
            }
            let issuer = self
                .issuer
                .as_deref()
                .map(|c| {
                    Country::new(&c.trim().to_ascii_uppercase())
                        .map_err(|e| invalid("issuer", e.to_string()))
                })
                .transpose()?;
            return Ok(Find::Document {
                typed: d.clone(),
                key,
                issuer,
            });
        }
        if let Some(v) = &self.vessel {
            let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            let digits = compact
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .to_owned();
            let lower = compact.to_ascii_lowercase();
            if digits.len() == 7
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !lower.starts_with("mmsi")
            {
                let imo = selectors::imo(&digits).map_err(|e| invalid("vessel", e))?;
                return Ok(Find::Imo(imo));
            }
            if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Find::Mmsi(
                    selectors::mmsi(&digits).map_err(|e| invalid("vessel", e))?,
                ));
            }
            let words = query_words(v);
            if words.is_empty() {
                return Err(invalid(
                    "vessel",
                    format!("`{v}` has no words to search for"),
                ));
            }
            return Ok(Find::VesselName(words));
        }
        if let Some(t) = &self.text {
            let words = query_words(t);
            if words.is_empty() {
                return Err(invalid(
                    "text",
                    format!("`{t}` has no words of {MIN_WORD} letters or more to search for"),
                ));
            }
            return Ok(Find::Text(words));
        }
        Err(invalid(
            "person",
            "give what to search for: --person, --phone, --account, --document, --vessel or --text",
        ))
    }
}

/// One search, parsed.
#[derive(Clone, Debug)]
pub enum Find {
    /// A person by name, perhaps with a date of birth.
    Person {
        /// The name, analysed.
        name: Name,
        /// The date of birth given.
        born: Option<PartialDate>,
        /// Whether the lower threshold applies.
        fuzzy: bool,
    },
    /// A phone number.
    Phone {
        /// As typed.
        typed: String,
        /// In E.164.
        e164: String,
    },
    /// An account.
    Account {
        /// Its key (an IBAN's electronic form).
        key: String,
    },
    /// A travel document.
    Document {
        /// As typed.
        typed: String,
        /// Its key.
        key: String,
        /// The issuing country, when given.
        issuer: Option<Country>,
    },
    /// A vessel by IMO number.
    Imo(String),
    /// A vessel by MMSI.
    Mmsi(String),
    /// A vessel by words of its name.
    VesselName(Vec<String>),
    /// Records by words of their text.
    Text(Vec<String>),
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
    if !store.search_index_current()? {
        return Err(SearchError::Stale);
    }
    let mut truncated = false;
    let mut hits: Vec<Hit> = Vec::new();
    let mut take = |ids: Vec<RecordId>,
                    judge: &mut dyn FnMut(&Record) -> Verdict|
     -> Result<(), SearchError> {
        let mut seen = BTreeSet::new();
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            let Some(rec) = store.get(&id)? else { continue };
            if !q.admits(&rec.record) {
                continue;
            }
            if let Some((score, reasons)) = judge(&rec.record) {
                hits.push(Hit {
                    record: rec,
                    score,
                    reasons,
                });
            }
        }
        Ok(())
    };
    match find {
        Find::Person { name, born, fuzzy } => {
            let (ids, cut) = person_candidates(store, name, *fuzzy)?;
            truncated = cut;
            let threshold = if *fuzzy { FUZZY_THRESHOLD } else { THRESHOLD };
            take(ids, &mut |r| judge_person(r, name, *born, threshold))?;
        }
        Find::Phone { typed, e164 } => {
            let ids = store.subject_ids(SubjectKind::Phone, e164)?;
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
            let ids = store.subject_ids(SubjectKind::Account, key)?;
            let what = if key.len() >= 15
                && selectors::account(key).is_ok_and(|k| k == *key)
                && key.as_bytes()[2].is_ascii_digit()
            {
                "IBAN"
            } else {
                "account"
            };
            take(ids, &mut |_| Some((100, vec![format!("{what} {key}")])))?;
        }
        Find::Document { typed, key, issuer } => {
            let ids = store.subject_ids(SubjectKind::Document, key)?;
            take(ids, &mut |r| judge_document(r, typed, key, *issuer))?;
        }
        Find::Imo(imo) => {
            let ids = store.subject_ids(SubjectKind::Imo, imo)?;
            take(ids, &mut |_| Some((100, vec![format!("vessel IMO {imo}")])))?;
        }
        Find::Mmsi(mmsi) => {
            let ids = store.subject_ids(SubjectKind::Mmsi, mmsi)?;
            take(ids, &mut |_| {
                Some((100, vec![format!("vessel MMSI {mmsi}")]))
            })?;
        }
        Find::VesselName(words) => {
            let (ids, cut) = word_candidates(store, words)?;
            truncated = cut;
            take(ids, &mut |r| judge_vessel(r, words))?;
        }
        Find::Text(words) => {
            let (ids, cut) = word_candidates(store, words)?;
            truncated = cut;
            take(ids, &mut |r| judge_text(r, words))?;
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

/// Candidates of a person search: for a one-part name (or `--fuzzy`), every record sharing a
/// part's spelling, skeleton or sound; for a longer name, every record sharing those of two of
/// its parts (the part-pair keys).
fn person_candidates(
    store: &Store,
    name: &Name,
    fuzzy: bool,
) -> Result<(Vec<RecordId>, bool), SearchError> {
    let lookups = person_lookups(name, fuzzy);
    let mut ids = Vec::new();
    for (kind, key) in lookups {
        let room = MAX_CANDIDATES.saturating_sub(ids.len());
        let (found, more) = store.name_ids(kind, &key, room)?;
        ids.extend(found);
        if more || ids.len() >= MAX_CANDIDATES {
            return Ok((ids, true));
        }
    }
    Ok((ids, false))
}

/// Candidates of a word search: the records holding every word (the last may be the start of
/// a word), read from the rarest word's postings.
fn word_candidates(store: &Store, words: &[String]) -> Result<(Vec<RecordId>, bool), SearchError> {
    let mut sets: Vec<(Vec<RecordId>, bool)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let whole = i + 1 < words.len() || w.len() < 3;
        sets.push(store.word_ids(w, whole, MAX_CANDIDATES)?);
    }
    sets.sort_by_key(|(v, _)| v.len());
    let Some((first, cut)) = sets.first().cloned() else {
        return Ok((Vec::new(), false));
    };
    let others: Vec<BTreeSet<RecordId>> = sets[1..]
        .iter()
        .map(|(v, _)| v.iter().copied().collect())
        .collect();
    let ids = first
        .into_iter()
        .filter(|id| others.iter().all(|s| s.contains(id)))
        .collect();
    Ok((ids, cut))
}

/// The names of people in a record: each person's name and aliases (with their date of birth),
/// and the holders of documents and accounts.
fn people(r: &Record) -> Vec<(&str, Option<PartialDate>, &'static str)> {
    let mut out = Vec::new();
    for s in &r.subjects {
        match s {
            Subject::Person(p) => {
                if let Some(n) = &p.name {
                    out.push((n.as_str(), p.date_of_birth, "name"));
                }
                for a in &p.aliases {
                    out.push((a.as_str(), p.date_of_birth, "alias"));
                }
            }
            Subject::TravelDocument(d) => {
                if let Some(h) = &d.holder {
                    out.push((h.as_str(), None, "document holder"));
                }
            }
            Subject::Account(a) => {
                if let Some(h) = &a.holder {
                    out.push((h.as_str(), None, "account holder"));
                }
            }
            _ => {}
        }
    }
    out
}

/// The index terms of a record's person names: (kind, key) of [`names::keys`].
pub fn name_terms(r: &Record) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    for (name, _, _) in people(r) {
        out.extend(names::keys(&names::analyse(name)));
    }
    out.sort();
    out.dedup();
    out
}

/// Folds a word of free text: lower case, diacritics dropped, Turkish ı as i; other scripts
/// stay in their own letters.
pub fn fold_word(word: &str) -> String {
    let w: String = word
        .chars()
        .map(|c| if c == 'ı' || c == 'İ' { 'i' } else { c })
        .collect();
    let nfd = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd();
    nfd.normalize(&w)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn split_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || is_combining(c)))
        .map(fold_word)
        .filter(|w| w.len() >= MIN_WORD && w.len() <= MAX_WORD)
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x064B..=0x065F)
}

/// The words of a query: folded, stop words left out.
fn query_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in split_words(text) {
        if !STOP_WORDS.contains(&w.as_str()) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The free text of a record, by field: summary, names of people, organisations and vessels,
/// and the descriptions of subjects.
fn text_fields(r: &Record) -> Vec<(&'static str, &str)> {
    let mut out: Vec<(&'static str, &str)> = vec![("summary", r.summary.as_str())];
    for s in &r.subjects {
        match s {
            Subject::Person(p) => {
                out.extend(p.name.as_deref().map(|n| ("person name", n)));
                out.extend(p.aliases.iter().map(|a| ("person alias", a.as_str())));
                out.extend(p.place_of_birth.as_deref().map(|n| ("place of birth", n)));
                out.extend(p.description.as_deref().map(|n| ("person description", n)));
            }
            Subject::Organisation(o) => {
                out.push(("organisation name", o.name.as_str()));
                out.extend(o.aliases.iter().map(|a| ("organisation alias", a.as_str())));
                out.extend(
                    o.description
                        .as_deref()
                        .map(|n| ("organisation description", n)),
                );
            }
            Subject::Vessel(v) => {
                out.extend(v.name.as_deref().map(|n| ("vessel name", n)));
                out.extend(v.description.as_deref().map(|n| ("vessel description", n)));
            }
            Subject::Vehicle(v) => {
                out.extend(v.description.as_deref().map(|n| ("vehicle description", n)));
            }
            Subject::Phone(p) => {
                out.extend(p.description.as_deref().map(|n| ("phone description", n)));
            }
            Subject::Account(a) => {
                out.extend(a.institution.as_deref().map(|n| ("account institution", n)));
                out.extend(a.holder.as_deref().map(|n| ("account holder", n)));
            }
            Subject::TravelDocument(d) => {
                out.extend(d.holder.as_deref().map(|n| ("document holder", n)));
            }
        }
    }
    out
}

/// The words a record is indexed under (free text).
pub fn words(r: &Record) -> Vec<String> {
    let mut set = BTreeSet::new();
    for (_, text) in text_fields(r) {
        for w in split_words(text) {
            if set.len() >= MAX_WORDS {
                break;
            }
            if !STOP_WORDS.contains(&w.as_str()) {
                set.insert(w);
            }
        }
    }
    set.into_iter().collect()
}

fn has_words(text: &str, words: &[String]) -> bool {
    let found: Vec<String> = split_words(text).collect();
    words.iter().enumerate().all(|(i, w)| {
        let prefix = i + 1 == words.len() && w.len() >= 3;
        found
            .iter()
            .any(|f| f == w || (prefix && f.starts_with(w.as_str())))
    })
}

fn judge_text(r: &Record, words: &[String]) -> Option<(u8, Vec<String>)> {
    let mut fields: Vec<&'static str> = Vec::new();
    for (field, text) in text_fields(r) {
        if has_words(text, words) && !fields.contains(&field) {
            fields.push(field);
        }
    }
    // every word is in the record, if not all in one field
    let all = text_fields(r)
        .iter()
        .map(|(_, t)| *t)
        .collect::<Vec<_>>()
        .join(" ");
    if !has_words(&all, words) {
        return None;
    }
    let quoted = words.join(" ");
    let reason = if fields.is_empty() {
        format!("the words `{quoted}` are in the record's text")
    } else {
        format!("`{quoted}` in the {}", fields.join(", "))
    };
    Some((100, vec![reason]))
}

fn judge_vessel(r: &Record, words: &[String]) -> Option<(u8, Vec<String>)> {
    let mut best: Option<(u8, String)> = None;
    for s in &r.subjects {
        let Subject::Vessel(v) = s else { continue };
        let Some(name) = &v.name else { continue };
        if !has_words(name, words) {
            continue;
        }
        let total = split_words(name).count().max(1);
        let score = ((100 * words.len().min(total)) / total) as u8;
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            let how = if score == 100 { "is" } else { "contains" };
            best = Some((
                score,
                format!("vessel name `{name}` {how} `{}`", words.join(" ")),
            ));
        }
    }
    best.map(|(s, why)| (s, vec![why]))
}

fn judge_document(
    r: &Record,
    typed: &str,
    key: &str,
    issuer: Option<Country>,
) -> Option<(u8, Vec<String>)> {
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

/// Whether two partial dates agree to the precision both have.
fn dates_agree(a: PartialDate, b: PartialDate) -> bool {
    let (x, y) = (a.to_string(), b.to_string());
    let n = x.len().min(y.len());
    x[..n] == y[..n]
}

fn judge_person(
    r: &Record,
    query: &Name,
    born: Option<PartialDate>,
    threshold: f32,
) -> Option<(u8, Vec<String>)> {
    judge_names(&people(r), query, born, threshold)
}

/// The lookups a person search makes in the name index (kind, key), over the query's
/// segmentations: for a one-part name (or `--fuzzy`), the parts' skeletons; for a longer one,
/// its part-pair keys.
fn person_lookups(name: &Name, fuzzy: bool) -> Vec<(u8, String)> {
    let mut lookups: Vec<(u8, String)> = Vec::new();
    for seg in name.segmentations() {
        if seg.parts.len() == 1 || fuzzy {
            for p in &seg.parts {
                lookups.extend(p.skeletons.iter().map(|s| (b's', s.clone())));
            }
        }
        for (a, b) in names::pairs_of(&seg.parts) {
            lookups.extend(names::pair_keys(a, b));
        }
    }
    lookups.sort();
    lookups.dedup();
    lookups
}

/// Whether a person search finds the name `written` (born `dob`): the name index would name
/// it as a candidate and it scores at the threshold; with its score and reasons. The search on
/// one name that the evaluation (`search::eval`) measures.
pub fn finds_name(
    query: &Name,
    born: Option<PartialDate>,
    fuzzy: bool,
    written: &str,
    dob: Option<PartialDate>,
) -> Option<(u8, Vec<String>)> {
    let lookups = person_lookups(query, fuzzy);
    let keys = names::keys(&names::analyse(written));
    if !lookups.iter().any(|l| keys.binary_search(l).is_ok()) {
        return None;
    }
    let threshold = if fuzzy { FUZZY_THRESHOLD } else { THRESHOLD };
    judge_names(&[(written, dob, "name")], query, born, threshold)
}

fn judge_names(
    people: &[(&str, Option<PartialDate>, &'static str)],
    query: &Name,
    born: Option<PartialDate>,
    threshold: f32,
) -> Option<(u8, Vec<String>)> {
    let mut best: Option<(f32, Vec<String>)> = None;
    for &(written, dob, field) in people {
        let found = names::analyse(written);
        let scored = names::score(query, &found);
        let mut s = scored.score;
        let mut reasons = Vec::new();
        match (born, dob) {
            (Some(q), Some(d)) if !dates_agree(q, d) => continue,
            (Some(q), Some(d)) => {
                s = (s + 0.05).min(1.0);
                reasons.push(format!("date of birth {q} agrees ({d})"));
            }
            _ => {}
        }
        if s < threshold || best.as_ref().is_some_and(|(b, _)| *b >= s) {
            continue;
        }
        let mut why = vec![describe_name(field, &found)];
        why.extend(describe_pairs(&scored.query, &scored.found, &scored.pairs));
        why.extend(reasons);
        best = Some((s, why));
    }
    best.map(|(s, why)| ((s * 100.0).round() as u8, why))
}

fn describe_name(field: &str, found: &Name) -> String {
    let mut out = format!("{field} `{}`", found.written);
    let scripts: BTreeSet<&str> = found
        .parts
        .iter()
        .filter(|p| p.script != names::Script::Latin)
        .map(|p| p.script.name())
        .collect();
    if !scripts.is_empty() {
        let list: Vec<&str> = scripts.into_iter().collect();
        out.push_str(&format!(
            " transliterated from {} → `{}`",
            list.join(" and "),
            found.folded()
        ));
    }
    out
}

fn describe_pairs(query: &Name, found: &Name, pairs: &[PartMatch]) -> Vec<String> {
    let mut out = Vec::new();
    for p in pairs {
        let (q, f) = (&query.parts[p.query], &found.parts[p.found]);
        let how = match p.how {
            How::Same => continue,
            How::Consonants => {
                let shared = q
                    .skeletons
                    .iter()
                    .find(|s| f.skeletons.contains(s))
                    .cloned()
                    .unwrap_or_default();
                format!("same consonants `{}`", shared.replace('_', " ending "))
            }
            How::Sounds => {
                let shared = q
                    .phonetic
                    .iter()
                    .find(|c| f.phonetic.contains(c))
                    .cloned()
                    .unwrap_or_default();
                format!("sound alike (Double Metaphone `{shared}`)")
            }
            How::Spelling => format!("similar spelling ({:.0}%)", p.similarity * 100.0),
        };
        out.push(format!("`{}` ~ `{}`: {how}", q.written, f.written));
    }
    if names::swapped(pairs) {
        out.push("name parts in another order (given and family names swapped)".into());
    }
    let n = query.parts.len();
    let m = found.parts.len();
    if m > n && pairs.len() == n {
        let missing: Vec<&str> = (0..m)
            .filter(|j| !pairs.iter().any(|p| p.found == *j))
            .map(|j| found.parts[j].written.as_str())
            .collect();
        out.push(format!("not in the search: `{}`", missing.join(" ")));
    } else if n > m && pairs.len() == m {
        let missing: Vec<&str> = (0..n)
            .filter(|i| !pairs.iter().any(|p| p.query == *i))
            .map(|i| query.parts[i].written.as_str())
            .collect();
        out.push(format!("not in the record: `{}`", missing.join(" ")));
    }
    out
}

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
        for id in store.subject_ids(*kind, value)? {
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
            let Some(other) = store.get(&id)? else {
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
