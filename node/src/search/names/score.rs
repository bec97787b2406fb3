//! Two names scored: their parts paired in whatever order scores best, each pair by how its
//! parts match (same spelling, same consonants, same sound, or similar spelling).

use super::{Name, Part, Script};

/// How two parts matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// The same folded spelling.
    Same,
    /// The same consonant skeleton.
    Consonants,
    /// The same Double Metaphone code.
    Sounds,
    /// Only similar spelling (Jaro–Winkler).
    Spelling,
}

/// The similarity of two parts, 0 to 1, and how they matched. Jaro–Winkler is reckoned only
/// where the answer uses it: it is most of what scoring a name costs.
pub fn part_similarity(a: &Part, b: &Part) -> (f32, How) {
    // a part joined on one side stands for a compound written apart on the other; two joined
    // parts would compare two whole names as one word
    if a.joined && b.joined {
        return (0.0, How::Spelling);
    }
    if a.folded == b.folded {
        return (1.0, How::Same);
    }
    let jw = || strsim::jaro_winkler(&a.folded, &b.folded) as f32;
    let abjad = a.script == Script::Arabic || b.script == Script::Arabic;
    if a.skeletons.iter().any(|s| b.skeletons.contains(s)) {
        let s = if abjad { 0.93 } else { 0.72 + 0.28 * jw() };
        return (s, How::Consonants);
    }
    // a joined part stands only by its letters: a long one is similar to many
    if a.joined || b.joined {
        return (0.0, How::Spelling);
    }
    // Karim and Karimi, Ivanov and Ivanova are other names, however alike they sound: never
    // paired (half their spelling's similarity, below [`PAIRED`] for any two spellings)
    if tail(a) != tail(b) {
        return (0.0, How::Spelling);
    }
    if a.phonetic.iter().any(|p| b.phonetic.contains(p)) {
        let s = if abjad { 0.85 } else { 0.6 + 0.3 * jw() };
        return (s, How::Sounds);
    }
    let jw = jw();
    let s = if jw >= 0.92 { 0.85 * jw } else { 0.5 * jw };
    (s, How::Spelling)
}

fn tail(p: &Part) -> Option<char> {
    p.skeletons
        .first()
        .and_then(|s| s.split_once('_'))
        .and_then(|(_, t)| t.chars().next())
}

/// A matched pair of parts: query part, candidate part, similarity, how.
#[derive(Clone, Debug)]
pub struct PartMatch {
    /// Index of the query's part.
    pub query: usize,
    /// Index of the candidate's part.
    pub found: usize,
    /// Similarity, 0 to 1.
    pub similarity: f32,
    /// How they matched.
    pub how: How,
}

/// Parts below this similarity are not paired.
const PAIRED: f32 = 0.5;

/// A name scored against a query: the score, 0 to 1, the segmentations of both that scored
/// it, and their parts paired.
#[derive(Clone, Debug)]
pub struct Scored {
    /// 0 to 1.
    pub score: f32,
    /// The query, as segmented for this score.
    pub query: Name,
    /// The name found, as segmented for this score.
    pub found: Name,
    /// The parts paired (indexes into the two segmentations).
    pub pairs: Vec<PartMatch>,
}

/// The score of a candidate name against a query name: the best over the ways both may be
/// segmented ([`Name::segmentations`]) of [`score_parts`].
pub fn score(query: &Name, found: &Name) -> Scored {
    score_segmented(&query.segmentations(), &found.segmentations())
}

/// [`score`] over segmentations made once: a search segments its query once, and each
/// distinct name it judges once.
pub fn score_segmented(queries: &[Name], founds: &[Name]) -> Scored {
    let mut best: Option<(f32, usize, usize, Vec<PartMatch>)> = None;
    for (i, q) in queries.iter().enumerate() {
        for (j, f) in founds.iter().enumerate() {
            let (s, pairs) = score_parts(q, f);
            if best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, i, j, pairs));
            }
        }
    }
    match best {
        Some((score, i, j, pairs)) => Scored {
            score,
            query: queries[i].clone(),
            found: founds[j].clone(),
            pairs,
        },
        None => Scored {
            score: 0.0,
            query: queries.first().cloned().unwrap_or_default(),
            found: founds.first().cloned().unwrap_or_default(),
            pairs: Vec::new(),
        },
    }
}

/// The score of two names as segmented, 0 to 1, with the parts paired. Parts are paired
/// greedily, best first, in any order; the score is the mean similarity over the shorter
/// name's parts, less 4% for each part the longer one has beyond it.
pub fn score_parts(query: &Name, found: &Name) -> (f32, Vec<PartMatch>) {
    let (n, m) = (query.parts.len(), found.parts.len());
    if n == 0 || m == 0 {
        return (0.0, Vec::new());
    }
    let mut all = Vec::with_capacity(n * m);
    for (i, q) in query.parts.iter().enumerate() {
        for (j, f) in found.parts.iter().enumerate() {
            let (s, how) = part_similarity(q, f);
            if s >= PAIRED {
                all.push(PartMatch {
                    query: i,
                    found: j,
                    similarity: s,
                    how,
                });
            }
        }
    }
    // best first; among equals, the written order (so a name is not "swapped" needlessly)
    let skew = |p: &PartMatch| p.query.abs_diff(p.found);
    all.sort_by(|a, b| {
        b.similarity
            .total_cmp(&a.similarity)
            .then(skew(a).cmp(&skew(b)))
    });
    let mut used_q = vec![false; n];
    let mut used_f = vec![false; m];
    let mut pairs = Vec::new();
    for p in all {
        if used_q[p.query] || used_f[p.found] {
            continue;
        }
        used_q[p.query] = true;
        used_f[p.found] = true;
        pairs.push(p);
    }
    let shorter = n.min(m) as f32;
    let sum: f32 = pairs.iter().map(|p| p.similarity).sum();
    let extra = n.abs_diff(m) as i32;
    let s = (sum / shorter) * 0.96f32.powi(extra);
    pairs.sort_by_key(|p| p.query);
    (s.clamp(0.0, 1.0), pairs)
}

/// Whether the parts were paired out of their written order (given and family swapped).
pub fn swapped(pairs: &[PartMatch]) -> bool {
    pairs.windows(2).any(|w| w[0].found > w[1].found)
}
