//! The nearest valid key for a typo.

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo:
/// at most a third of the candidate's length (and at least one edit). Failing that, a
/// candidate that `word` extends or abbreviates (`listen_on`, `public`), if there is one.
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    const MIN_PREFIX: usize = 4;
    let folded = word.to_lowercase().replace('-', "_");
    let by_distance = candidates
        .iter()
        .map(|c| (edit_distance(&folded, c), *c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    by_distance.or_else(|| {
        candidates.iter().copied().find(|c| {
            let (short, long) = if c.len() <= folded.len() {
                (*c, folded.as_str())
            } else {
                (folded.as_str(), *c)
            };
            short.len() >= MIN_PREFIX && long.starts_with(short)
        })
    })
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
}
