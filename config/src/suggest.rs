//! The nearest valid key or word for a typo.

/// Words shorter than this are not matched as a part of a longer one (`id` is in too many).
const MIN_PART: usize = 4;

/// The candidate closest to `word`, if it is close enough to be a likely typo. Case and `-`
/// versus `_` are ignored. In order:
///
/// 1. the whole of `word` against the whole candidate, by edit distance: at most a third of
///    the candidate's length (and at least one edit);
/// 2. a part of `word` against a part of a candidate, where a part is a run of the
///    `_`-separated segments of at least [`MIN_PART`] characters, by the same rule: so
///    `retension` finds `retention_days` and `retention_period` finds it too;
/// 3. a candidate that `word` abbreviates or extends (`retent`, `listen_on`).
///
/// A tie at the least distance suggests nothing.
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let folded = fold(word);
    let close = |a: &str, b: &str| {
        let d = edit_distance(a, b);
        (d <= (b.chars().count() / 3).max(1)).then_some(d)
    };
    let whole = unique_nearest(
        candidates
            .iter()
            .filter_map(|c| close(&folded, &fold(c)).map(|d| (d, *c))),
    );
    let by_part = || {
        let mine = parts(&folded);
        unique_nearest(candidates.iter().filter_map(|c| {
            let theirs = parts(&fold(c));
            mine.iter()
                .flat_map(|a| theirs.iter().filter_map(move |b| close(a, b)))
                .min()
                .map(|d| (d, *c))
        }))
    };
    let by_prefix = || {
        unique_nearest(candidates.iter().filter_map(|c| {
            let folded_c = fold(c);
            let (short, long) = if folded_c.len() <= folded.len() {
                (folded_c.as_str(), folded.as_str())
            } else {
                (folded.as_str(), folded_c.as_str())
            };
            (short.len() >= MIN_PART && long.starts_with(short)).then_some((0, *c))
        }))
    };
    whole.or_else(by_part).or_else(by_prefix)
}

/// The candidate at the least distance, unless several share it (`H4` is as near `H0` as
/// `H3`, `valid` begins both `valid_from` and `valid_until`): then none is suggested.
fn unique_nearest<'a>(found: impl Iterator<Item = (usize, &'a str)>) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    let mut tied = false;
    for (d, c) in found {
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tied = true,
            _ => {
                best = Some((d, c));
                tied = false;
            }
        }
    }
    if tied { None } else { best.map(|(_, c)| c) }
}

/// Lower case, `-` as `_`.
fn fold(s: &str) -> String {
    s.to_lowercase().replace('-', "_")
}

/// Every run of consecutive `_`-separated segments of at least [`MIN_PART`] characters,
/// the whole included.
fn parts(s: &str) -> Vec<String> {
    let segments: Vec<&str> = s.split('_').collect();
    let mut out = Vec::new();
    for start in 0..segments.len() {
        for end in start + 1..=segments.len() {
            let part = segments[start..end].join("_");
            if part.chars().count() >= MIN_PART {
                out.push(part);
            }
        }
    }
    out
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let cost = usize::from(ca != *cb);
            row[j + 1] = (diagonal + cost).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("publc_key", "public_key"), 1);
        assert_eq!(edit_distance("abc", ""), 3);
    }

    #[test]
    fn suggestions() {
        let keys = ["id", "public_key", "addresses"];
        assert_eq!(nearest("publc_key", &keys), Some("public_key"));
        assert_eq!(nearest("public-key", &keys), Some("public_key"));
        assert_eq!(nearest("Public_Key", &keys), Some("public_key"));
        assert_eq!(nearest("adresses", &keys), Some("addresses"));
        assert_eq!(nearest("ids", &keys), Some("id"));
        assert_eq!(nearest("colour", &keys), None);
        assert_eq!(nearest("public", &keys), Some("public_key"));
        assert_eq!(nearest("addresses_v4", &keys), Some("addresses"));
        assert_eq!(nearest("pub", &keys), None);
    }

    #[test]
    fn parts_and_prefixes_of_longer_keys() {
        let keys = [
            "id",
            "title",
            "kind",
            "members",
            "valid_from",
            "valid_until",
            "retention_days",
            "most_permissive_handling",
            "onward_sharing",
        ];
        // a misspelt first part: too far from the whole key, close to its part
        assert_eq!(nearest("retension", &keys), Some("retention_days"));
        assert_eq!(nearest("retention", &keys), Some("retention_days"));
        assert_eq!(nearest("retention_period", &keys), Some("retention_days"));
        assert_eq!(nearest("retent", &keys), Some("retention_days"));
        assert_eq!(nearest("handling", &keys), Some("most_permissive_handling"));
        assert_eq!(
            nearest("max_handling", &keys),
            Some("most_permissive_handling")
        );
        assert_eq!(nearest("onward", &keys), Some("onward_sharing"));
        assert_eq!(nearest("sharing_onward", &keys), Some("onward_sharing"));
        assert_eq!(nearest("valid_untill", &keys), Some("valid_until"));
        assert_eq!(nearest("member", &keys), Some("members"));
        // whole-key matches win over parts
        assert_eq!(nearest("valid_frm", &keys), Some("valid_from"));
        // nothing near
        assert_eq!(nearest("colour", &keys), None);
        assert_eq!(nearest("address", &keys), None);
    }

    #[test]
    fn vocabulary_words() {
        let categories = [
            "smuggling-network",
            "route",
            "travel-document",
            "return-coordination",
        ];
        assert_eq!(
            nearest("smuggling_network", &categories),
            Some("smuggling-network")
        );
        assert_eq!(
            nearest("Smugling-Network", &categories),
            Some("smuggling-network")
        );
        assert_eq!(nearest("routes", &categories), Some("route"));
        assert_eq!(nearest("travel-doc", &categories), Some("travel-document"));
        assert_eq!(nearest("return", &categories), Some("return-coordination"));
        assert_eq!(nearest("weather", &categories), None);
        let handling = ["H0", "H1", "H2", "H3"];
        assert_eq!(nearest("h2", &handling), Some("H2"));
        assert_eq!(nearest("h3", &handling), Some("H3"));
        // as near one as another: no suggestion
        assert_eq!(nearest("H4", &handling), None);
        assert_eq!(nearest("valid", &["valid_from", "valid_until"]), None);
    }
}
