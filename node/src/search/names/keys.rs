//! A name's index keys (docs/search.md, "The index"): one-part skeleton keys, part-pair keys
//! of skeletons and of sounds, and the skeletons one edit away that `--fuzzy` reads.

use super::*;

/// A skeleton whose consonants are fewer than this has no near skeletons ([`one_edit`]): one
/// edit of `mhd` or `sl` is another name.
pub const NEAR_FROM: usize = 4;

/// Index keys of a name, over its segmentations: a skeleton key (`s`) of every part, for
/// searches of one part, and part-pair keys (`S` two skeletons, `P` two primary phonetic
/// codes), each pair sorted so order does not matter. Sorted, without repeats.
pub fn keys(name: &Name) -> Vec<(u8, String)> {
    let mut out: Vec<(u8, String)> = Vec::new();
    for seg in name.segmentations() {
        for p in &seg.parts {
            for s in &p.skeletons {
                out.push((b's', s.clone()));
            }
        }
        for (a, b) in pairs_of(&seg.parts) {
            out.extend(pair_keys(a, b));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every unordered pair of parts.
pub fn pairs_of(parts: &[Part]) -> Vec<(&Part, &Part)> {
    let mut out = Vec::new();
    for i in 0..parts.len() {
        for j in i + 1..parts.len() {
            out.push((&parts[i], &parts[j]));
        }
    }
    out
}

/// The key of two codes (skeletons or phonetic codes) of a pair: sorted, so part order does
/// not matter.
pub fn pair_key(x: &str, y: &str) -> String {
    if x <= y {
        format!("{x}|{y}")
    } else {
        format!("{y}|{x}")
    }
}

/// The pair keys of two parts.
pub fn pair_keys(a: &Part, b: &Part) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    for x in &a.skeletons {
        for y in &b.skeletons {
            out.push((b'S', pair_key(x, y)));
        }
    }
    if let (Some(x), Some(y)) = (a.phonetic.first(), b.phonetic.first()) {
        out.push((b'P', pair_key(x, y)));
    }
    out
}

/// The skeletons one edit from `s` in its consonants (one removed, replaced by a letter of
/// `alphabet`, a letter of `alphabet` inserted, or two neighbours swapped), its final vowel
/// class (`_a`, `_i`, `_u`) kept, and without `s`: the skeletons a `--fuzzy` search also reads
/// (docs/search.md). None when `s` has fewer than [`NEAR_FROM`] consonants.
pub fn one_edit(s: &str, alphabet: &[char]) -> Vec<String> {
    let (core, tail) = match s.find('_') {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let chars: Vec<char> = core.chars().collect();
    if chars.len() < NEAR_FROM {
        return Vec::new();
    }
    let letters: Vec<char> = alphabet.iter().copied().filter(|c| *c != '_').collect();
    let with = |i: usize, j: usize, mid: &[char]| -> String {
        chars[..i]
            .iter()
            .chain(mid)
            .chain(&chars[j..])
            .collect::<String>()
            + tail
    };
    let mut out = Vec::new();
    for i in 0..chars.len() {
        out.push(with(i, i + 1, &[]));
        for &c in &letters {
            if c != chars[i] {
                out.push(with(i, i + 1, &[c]));
            }
        }
        if i + 1 < chars.len() && chars[i] != chars[i + 1] {
            out.push(with(i, i + 2, &[chars[i + 1], chars[i]]));
        }
    }
    for i in 0..=chars.len() {
        for &c in &letters {
            out.push(with(i, i, &[c]));
        }
    }
    out.sort();
    out.dedup();
    out.retain(|t| t != s);
    out
}
