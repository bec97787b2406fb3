//! Person search: the names of people in a record, the name index's lookups for a query,
//! and the judge that scores every candidate's names and says why.

use std::collections::{BTreeSet, HashMap};

use accord_protocol::{PartialDate, Record, RecordId, Subject};

use super::names::{self, How, Name, PartMatch};
use super::{FUZZY_THRESHOLD, MAX_CANDIDATES, SearchError, THRESHOLD, Verdict};
use crate::store::Store;

/// Candidates of a person search: for a one-part name, every record sharing the part's
/// skeleton; for a longer name, every record sharing the skeletons or sounds of two of its
/// parts (the part-pair keys). `--fuzzy` also reads the skeletons one edit away that the
/// index holds.
pub(super) fn person_candidates(
    store: &Store,
    name: &Name,
    fuzzy: bool,
) -> Result<(Vec<RecordId>, bool), SearchError> {
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
    let mut ids = Vec::new();
    for (kind, key) in lookups {
        let room = MAX_CANDIDATES.saturating_sub(ids.len());
        let (found, more) = store.index().name_ids(kind, &key, room)?;
        ids.extend(found);
        if more || ids.len() >= MAX_CANDIDATES {
            return Ok((ids, true));
        }
    }
    Ok((ids, false))
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

    /// The best of the record's names, when one scores at the threshold.
    pub(super) fn record(&mut self, r: &Record) -> Verdict {
        self.names(&people(r))
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
