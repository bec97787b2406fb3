//! Person search: the names of people in a record, the name index's lookups for a query,
//! and the judge that scores every candidate's names and says why.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use accord_protocol::{PartialDate, Record, RecordId, Subject};

use super::names::{self, How, Name, PartMatch};
use super::{FUZZY_THRESHOLD, MAX_CANDIDATES, SearchError, THRESHOLD, Verdict};
use crate::store::{Postings, Store};

/// A record's score (0 to 100) and the reasons, when it matches.
type Scored = (u8, Vec<String>);

/// Candidates of a person search, as postings of the name index (record id, names): for a
/// one-part name, every record sharing the part's skeleton; for a longer name, every record
/// sharing the skeletons or sounds of two of its parts (the part-pair keys). `--fuzzy` also
/// reads the skeletons one edit away that the index holds.
pub(super) fn person_candidates(
    store: &Store,
    name: &Name,
    fuzzy: bool,
) -> Result<(Postings, bool), SearchError> {
    let lookups = if fuzzy {
        store.index().with_skeletons(|held| {
            let alphabet = held.alphabet();
            person_lookups(
                name,
                Some(&|s: &str| near_in(s, &alphabet, |t| held.contains(t))),
            )
        })?
    } else {
        person_lookups(name, None)
    };
    let mut postings = Vec::new();
    for (kind, key) in lookups {
        let room = MAX_CANDIDATES.saturating_sub(postings.len());
        let (found, more) = store.index().name_postings(kind, &key, room)?;
        postings.extend(found);
        if more || postings.len() >= MAX_CANDIDATES {
            return Ok((postings, true));
        }
    }
    Ok((postings, false))
}

/// Judges the candidates of a person search from their postings' names, without reading a
/// record: the records whose names score, each with its verdict, in the order first named.
pub(super) fn judge_postings(
    judge: &mut PersonJudge,
    postings: Postings,
) -> Result<Vec<(RecordId, Scored)>, SearchError> {
    // a record is named by several keys, each with (mostly) the same names
    let mut order: Vec<RecordId> = Vec::new();
    let mut by_record: HashMap<RecordId, Vec<Vec<u8>>> = HashMap::new();
    for (id, value) in postings {
        let values = by_record.entry(id).or_insert_with(|| {
            order.push(id);
            Vec::new()
        });
        if !values.contains(&value) {
            values.push(value);
        }
    }
    let mut out = Vec::new();
    for id in order {
        let mut named: Vec<Named> = Vec::new();
        for value in by_record.remove(&id).unwrap_or_default() {
            let decoded = decode_names(&value).map_err(|e| {
                crate::store::StoreError::Corrupt(format!("the name index of record {id}: {e}"))
            })?;
            for n in decoded {
                if !named.contains(&n) {
                    named.push(n);
                }
            }
        }
        let people: Vec<(&str, Option<PartialDate>, &'static str)> = named
            .iter()
            .map(|n| (n.written.as_str(), n.born, n.field))
            .collect();
        if let Some(verdict) = judge.names(&people) {
            out.push((id, verdict));
        }
    }
    Ok(out)
}

/// The names of people in a record: each person's name and aliases (with their date of birth),
/// and the holders of documents and accounts.
fn people(r: &Record) -> Vec<(&str, Option<PartialDate>, &'static str)> {
    let mut out = Vec::new();
    for s in &r.subjects {
        match s {
            Subject::Person(p) => {
                if let Some(n) = &p.name {
                    out.push((n.as_str(), p.date_of_birth, FIELDS[0]));
                }
                for a in &p.aliases {
                    out.push((a.as_str(), p.date_of_birth, FIELDS[1]));
                }
            }
            Subject::TravelDocument(d) => {
                if let Some(h) = &d.holder {
                    out.push((h.as_str(), None, FIELDS[2]));
                }
            }
            Subject::Account(a) => {
                if let Some(h) = &a.holder {
                    out.push((h.as_str(), None, FIELDS[3]));
                }
            }
            _ => {}
        }
    }
    out
}

/// Where a name stands in a record; a posting names it by its place in this list.
const FIELDS: [&str; 4] = ["name", "alias", "document holder", "account holder"];

/// The name index's terms of a record: (kind, key) of [`names::keys`] over its people's names,
/// each with its posting's value, the names that give the key ([`encode_names`]). Sorted by
/// term.
pub fn name_terms(r: &Record) -> Vec<(u8, String, Vec<u8>)> {
    let people = people(r);
    let mut by_term: BTreeMap<(u8, String), Vec<usize>> = BTreeMap::new();
    for (i, (name, _, _)) in people.iter().enumerate() {
        for term in names::keys(&names::analyse(name)) {
            let named = by_term.entry(term).or_default();
            if named.last() != Some(&i) {
                named.push(i);
            }
        }
    }
    by_term
        .into_iter()
        .map(|((kind, key), named)| {
            let value = encode_names(named.iter().map(|&i| people[i]));
            (kind, key, value)
        })
        .collect()
}

/// A name of a person in a record, as a posting of the name index carries it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Named {
    /// The name as written.
    pub(super) written: String,
    /// The person's date of birth, when the record gives one.
    pub(super) born: Option<PartialDate>,
    /// Where it stands: one of [`FIELDS`].
    pub(super) field: &'static str,
}

/// A posting's value (docs/search.md, "The index"): for each name, the place of its field in
/// [`FIELDS`] (one byte), its date of birth as `YYYY[-MM[-DD]]` after its length in one byte
/// (0: none), and the name's UTF-8 after its length in two bytes, big-endian.
fn encode_names<'a>(
    names: impl Iterator<Item = (&'a str, Option<PartialDate>, &'static str)>,
) -> Vec<u8> {
    let mut out = Vec::new();
    for (written, born, field) in names {
        let place = FIELDS.iter().position(|f| *f == field).unwrap_or(0);
        out.push(place as u8);
        let born = born.map(|d| d.to_string()).unwrap_or_default();
        out.push(born.len() as u8);
        out.extend_from_slice(born.as_bytes());
        // a record's text is at most MAX_TEXT_BYTES (1 KiB); a longer name keeps what fits
        let mut end = written.len().min(usize::from(u16::MAX));
        while !written.is_char_boundary(end) {
            end -= 1;
        }
        out.extend_from_slice(&(end as u16).to_be_bytes());
        out.extend_from_slice(&written.as_bytes()[..end]);
    }
    out
}

/// The names of a posting's value ([`encode_names`]), or what is wrong with it.
pub(super) fn decode_names(mut v: &[u8]) -> Result<Vec<Named>, String> {
    let mut out = Vec::new();
    while let [place, rest @ ..] = v {
        v = rest;
        let field = *FIELDS
            .get(usize::from(*place))
            .ok_or_else(|| format!("a name posting has field {place}"))?;
        let n = take(&mut v, 1, "date of birth")?[0];
        let born = match n {
            0 => None,
            n => {
                let text = std::str::from_utf8(take(&mut v, usize::from(n), "date of birth")?)
                    .map_err(|_| "a name posting's date of birth is not UTF-8".to_owned())?;
                Some(PartialDate::parse(text).map_err(|e| format!("a name posting's {e}"))?)
            }
        };
        let len = take(&mut v, 2, "name length")?;
        let len = u16::from_be_bytes([len[0], len[1]]);
        let written = std::str::from_utf8(take(&mut v, usize::from(len), "name")?)
            .map_err(|_| "a name posting's name is not UTF-8".to_owned())?
            .to_owned();
        out.push(Named {
            written,
            born,
            field,
        });
    }
    Ok(out)
}

/// The next `n` bytes of `v`, which moves past them.
fn take<'a>(v: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], String> {
    if v.len() < n {
        return Err(format!("a name posting ends inside its {what}"));
    }
    let (head, rest) = v.split_at(n);
    *v = rest;
    Ok(head)
}

/// Whether two partial dates agree to the precision both have.
fn dates_agree(a: PartialDate, b: PartialDate) -> bool {
    let (x, y) = (a.to_string(), b.to_string());
    let n = x.len().min(y.len());
    x[..n] == y[..n]
}

/// What a date of birth that agrees adds to a name's score.
const DATE_AGREES: f32 = 0.05;

/// Scores the names in candidate records against one person search. Each distinct name is
/// analysed and scored once per search: holdings repeat names, and a name's analysis
/// (transliteration, skeletons, sounds) is most of what a candidate costs.
pub(super) struct PersonJudge {
    /// The query's segmentations, made once.
    segmented: Vec<Name>,
    born: Option<PartialDate>,
    threshold: f32,
    seen: HashMap<String, Option<Judged>>,
}

/// A name's score against the query, and the reasons that do not depend on the record.
struct Judged {
    score: f32,
    /// ` transliterated from … → …`, or empty.
    transliterated: String,
    /// How the parts matched.
    pairs: Vec<String>,
}

impl PersonJudge {
    pub(super) fn new(query: &Name, born: Option<PartialDate>, fuzzy: bool) -> Self {
        Self {
            segmented: query.segmentations(),
            born,
            threshold: if fuzzy { FUZZY_THRESHOLD } else { THRESHOLD },
            seen: HashMap::new(),
        }
    }

    fn names(&mut self, people: &[(&str, Option<PartialDate>, &'static str)]) -> Verdict {
        let mut best: Option<(f32, Vec<String>)> = None;
        for &(written, dob, field) in people {
            if !self.seen.contains_key(written) {
                let judged = self.judge(written);
                self.seen.insert(written.to_owned(), judged);
            }
            let Some(Some(judged)) = self.seen.get(written) else {
                continue;
            };
            let mut s = judged.score;
            let mut dated = None;
            match (self.born, dob) {
                (Some(q), Some(d)) if !dates_agree(q, d) => continue,
                (Some(q), Some(d)) => {
                    s = (s + DATE_AGREES).min(1.0);
                    dated = Some(format!("date of birth {q} agrees ({d})"));
                }
                _ => {}
            }
            if s < self.threshold || best.as_ref().is_some_and(|(b, _)| *b >= s) {
                continue;
            }
            let mut why = vec![format!("{field} `{written}`{}", judged.transliterated)];
            why.extend(judged.pairs.iter().cloned());
            why.extend(dated);
            best = Some((s, why));
        }
        best.map(|(s, why)| ((s * 100.0).round() as u8, why))
    }

    /// `written` scored against the query; none when it stays below the threshold even with
    /// a date of birth that agrees.
    fn judge(&self, written: &str) -> Option<Judged> {
        let found = names::analyse(written);
        let scored = names::score_segmented(&self.segmented, &found.segmentations());
        if scored.score + DATE_AGREES < self.threshold {
            return None;
        }
        Some(Judged {
            score: scored.score,
            transliterated: transliteration(&found),
            pairs: describe_pairs(&scored.query, &scored.found, &scored.pairs),
        })
    }
}
/// The skeletons a `--fuzzy` search reads for `skeleton`: itself, and those one edit away
/// ([`names::one_edit`], over `alphabet`) that `held` says the index holds.
fn near_in(skeleton: &str, alphabet: &[char], held: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out = vec![skeleton.to_owned()];
    out.extend(
        names::one_edit(skeleton, alphabet)
            .into_iter()
            .filter(|t| held(t)),
    );
    out
}

/// For a `--fuzzy` search, what gives the skeletons read for one of the query's.
type Near<'a> = Option<&'a dyn Fn(&str) -> Vec<String>>;

/// The skeletons to read for a part: its own, and with `near` (a `--fuzzy` search) those
/// near them.
fn part_skeletons(p: &names::Part, near: Near<'_>) -> Vec<String> {
    let mut out: Vec<String> = match near {
        Some(near) => p.skeletons.iter().flat_map(|s| near(s)).collect(),
        None => p.skeletons.clone(),
    };
    out.sort();
    out.dedup();
    out
}

/// The lookups a person search makes in the name index (kind, key), over the query's
/// segmentations: for a one-part name, the part's skeletons; for a longer one, its part-pair
/// keys. With `near` (a `--fuzzy` search), a one-part name's skeletons, and one part of each
/// pair at a time, are widened to the near ones it gives.
fn person_lookups(name: &Name, near: Near<'_>) -> Vec<(u8, String)> {
    let mut lookups: Vec<(u8, String)> = Vec::new();
    for seg in name.segmentations() {
        if seg.parts.len() == 1 {
            for p in &seg.parts {
                // a longer name's parts written joined are matched as they are
                let near = if p.joined { None } else { near };
                lookups.extend(part_skeletons(p, near).into_iter().map(|s| (b's', s)));
            }
        }
        for (a, b) in names::pairs_of(&seg.parts) {
            lookups.extend(names::pair_keys(a, b));
            if near.is_some() {
                // one part of the pair near, the other as it is
                for (x, y) in [(a, b), (b, a)] {
                    for n in part_skeletons(x, near) {
                        let pairs = y.skeletons.iter().map(|s| (b'S', names::pair_key(&n, s)));
                        lookups.extend(pairs);
                    }
                }
            }
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
    let found = names::analyse(written);
    let keys = names::keys(&found);
    // `--fuzzy` reads the near skeletons the index holds: here, those of `written`
    let held: BTreeSet<&str> = keys
        .iter()
        .filter(|(kind, _)| *kind == b's')
        .map(|(_, s)| s.as_str())
        .collect();
    let mut alphabet: Vec<char> = held.iter().flat_map(|s| s.chars()).collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let near = |s: &str| near_in(s, &alphabet, |t| held.contains(t));
    let lookups = person_lookups(
        query,
        fuzzy.then_some(&near as &dyn Fn(&str) -> Vec<String>),
    );
    if !lookups.iter().any(|l| keys.binary_search(l).is_ok()) {
        return None;
    }
    PersonJudge::new(query, born, fuzzy).names(&[(written, dob, "name")])
}

/// ` transliterated from Persian → `…``, for a name not all in Latin letters.
fn transliteration(found: &Name) -> String {
    let scripts: BTreeSet<&str> = found
        .parts
        .iter()
        .filter(|p| p.script != names::Script::Latin)
        .map(|p| p.script.name())
        .collect();
    if scripts.is_empty() {
        return String::new();
    }
    let list: Vec<&str> = scripts.into_iter().collect();
    format!(
        " transliterated from {} → `{}`",
        list.join(" and "),
        found.folded()
    )
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn named(written: &str, born: Option<&str>, field: &'static str) -> Named {
        Named {
            written: written.to_owned(),
            born: born.map(|b| PartialDate::parse(b).unwrap()),
            field,
        }
    }

    #[test]
    fn a_postings_names_come_back_as_written_with_their_dates_and_fields() {
        let names = [
            named("محمد رضایی", Some("1987"), "name"),
            named("Mohammad Rezaei", Some("1987-03-04"), "alias"),
            named("M. REZAEE", None, "document holder"),
            named("Rezai", Some("1990-11"), "account holder"),
        ];
        let value = encode_names(names.iter().map(|n| (n.written.as_str(), n.born, n.field)));
        assert_eq!(decode_names(&value).unwrap(), names);
        // the layout docs/search.md gives: field, date length, date, name length, name
        let one = encode_names([("Ali", PartialDate::parse("1987").ok(), "alias")].into_iter());
        assert_eq!(one, b"\x01\x041987\x00\x03Ali");
        assert_eq!(decode_names(&[]).unwrap(), Vec::<Named>::new());
    }

    #[test]
    fn a_damaged_posting_is_an_error_naming_what_is_wrong() {
        let good = encode_names([("Ali Rahimi", None, "name")].into_iter());
        for cut in 1..good.len() {
            let e = decode_names(&good[..cut]).unwrap_err();
            assert!(
                e.starts_with("a name posting ends inside its"),
                "{cut}: {e}"
            );
        }
        assert!(
            decode_names(b"\x07\x00\x00\x00")
                .unwrap_err()
                .contains("field 7")
        );
        let e = decode_names(b"\x00\x0419x7\x00\x00").unwrap_err();
        assert!(e.contains("19x7"), "{e}");
        assert!(
            decode_names(b"\x00\x00\x00\x01\xff")
                .unwrap_err()
                .contains("not UTF-8")
        );
    }

    #[test]
    fn a_records_terms_carry_the_names_that_give_them() {
        let r: Record = serde_json::from_value(serde_json::json!({
            "v": 1, "originator": "TR-JGK", "agreement": "QUAD-TEST", "seq": "1",
            "category": "smuggling-network", "handling": "H1", "grading": "B2",
            "created": "2026-06-01T00:00:00Z", "summary": "A facilitator.",
            "subjects": [{"type": "person", "role": "suspect", "name": "Ali Rahimi",
                          "aliases": ["Reza Karimi"], "date_of_birth": "1987"}]
        }))
        .unwrap();
        let terms = name_terms(&r);
        let of = |written: &str| {
            terms
                .iter()
                .filter(|(_, _, v)| {
                    decode_names(v)
                        .unwrap()
                        .iter()
                        .any(|n| n.written == written)
                })
                .count()
        };
        assert!(of("Ali Rahimi") > 0 && of("Reza Karimi") > 0);
        for (kind, key, value) in &terms {
            let names = decode_names(value).unwrap();
            assert!(!names.is_empty(), "{kind} {key}");
            for n in &names {
                assert_eq!(n.born, PartialDate::parse("1987").ok());
                let analysed = names::keys(&names::analyse(&n.written));
                assert!(
                    analysed.contains(&(*kind, key.clone())),
                    "{} {key}",
                    n.written
                );
            }
        }
    }
}
