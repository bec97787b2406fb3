//! Free text: the words a record is indexed under, a query's words, and the judges of a
//! text and a vessel-name search (docs/search.md, "Words").

use std::collections::BTreeSet;

use accord_protocol::{Record, RecordId, Subject};

use super::{MAX_CANDIDATES, SearchError, Verdict};
use crate::store::Store;

/// Words of free text shorter than this (in bytes) are not indexed.
pub(super) const MIN_WORD: usize = 2;
/// Nor longer than this.
const MAX_WORD: usize = 40;
/// At most this many distinct words of one record are indexed.
const MAX_WORDS: usize = 400;
/// Words too common to find anything by.
const STOP_WORDS: [&str; 24] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "of", "on", "or", "the", "to", "was", "were", "with", "that",
];

/// Candidates of a word search: the records holding every word (the last may be the start of
/// a word), read from the rarest word's postings.
pub(super) fn word_candidates(
    store: &Store,
    words: &[String],
) -> Result<(Vec<RecordId>, bool), SearchError> {
    let mut sets: Vec<(Vec<RecordId>, bool)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let whole = i + 1 < words.len() || w.len() < 3;
        sets.push(store.index().word_ids(w, whole, MAX_CANDIDATES)?);
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
pub(super) fn query_words(text: &str) -> Vec<String> {
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

pub(super) fn judge_text(r: &Record, words: &[String]) -> Verdict {
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

pub(super) fn judge_vessel(r: &Record, words: &[String]) -> Verdict {
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
