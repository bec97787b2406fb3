//! Consonant skeletons: a part's consonants after its letters read two ways are read one way
//! throughout, with its final vowel class (`_a`, `_i`, `_u`), so spellings that differ in their
//! vowels share a skeleton (docs/search.md, "Three keys of a part").

use super::*;

/// The readings of a marker letter of a rough form (empty: the letter is itself).
pub(super) fn readings(c: char) -> &'static [&'static str] {
    match c {
        'D' => &["d", "z"],
        'T' => &["t", "s"],
        'Q' => &["k", "g"],
        'Y' => &["y"],
        'W' => &["o", "v"],
        // j, dj, c (Turkish), ç, č and ch as in church are one class, `j`: partners'
        // spellings trade them freely (Cemal, Jamal; Çamurcuoğlu, CAMURCUOGLU)
        'H' => &["j", "S", "h"],
        'K' => &["k", "j"],
        'S' => &["S"],
        'C' => &["j"],
        'X' => &["S", "s"],
        'Z' => &["j", "z"],
        'J' => &["j", "y"],
        'G' => &["g", "y"],
        'B' => &["b", "mp"],
        'N' => &["d", "nt"],
        'E' => &["g", "h"],
        _ => &[],
    }
}

/// The consonant skeletons of a rough form.
pub(super) fn skeletons(rough: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    skeletons_into(rough, &mut out);
    // an article written joined to a Latin name: Aljaber, Elbaghdadi
    let plain = folded_of(rough);
    if (plain.starts_with("al") || plain.starts_with("el")) && plain.len() >= 6 {
        skeletons_into(&rough[2..], &mut out);
    }
    out.truncate(MAX_SKELETONS + 2);
    out
}

pub(super) fn skeletons_into(rough: &str, out: &mut Vec<String>) {
    // each kind of letter read two ways is read one way throughout a word (a spelling system
    // is consistent within a name), the plainer reading first
    let mut kinds: Vec<char> = Vec::new();
    for c in rough.chars() {
        if !readings(c).is_empty() && !kinds.contains(&c) {
            kinds.push(c);
        }
    }
    let mut choices: Vec<Vec<&'static str>> = vec![Vec::new()];
    for k in &kinds {
        let mut next = Vec::new();
        for o in readings(*k) {
            for c in &choices {
                let mut c = c.clone();
                c.push(o);
                next.push(c);
            }
        }
        next.truncate(MAX_SKELETONS * 3);
        choices = next;
    }
    let before = out.len();
    for choice in choices {
        let mut form = String::new();
        for c in rough.chars() {
            match kinds.iter().position(|k| *k == c) {
                Some(i) => form.push_str(choice[i]),
                None => form.push(c),
            }
        }
        for s in skeleton_of(&form) {
            if !s.is_empty() && !out.contains(&s) && out.len() - before < MAX_SKELETONS {
                out.push(s);
            }
        }
    }
}

/// The skeletons of a plain form (lower-case letters, `S` for sh, `c` for ch as in church):
/// one, or two when a final `e` may be silent (Salmane, Shafique).
pub(super) fn skeleton_of(form: &str) -> Vec<String> {
    let chars: Vec<char> = form.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let mut cons: Vec<char> = Vec::new();
    if is_vowel(chars[0]) {
        cons.push('a'); // an initial vowel (or y: Yegor, Egor) is kept as one mark
    }
    let mut end = chars.len();
    if chars[end - 1] == 'h' && end >= 2 && is_vowel(chars[end - 2]) {
        end -= 1; // Fatemeh, Abdullah, Shah: the final h is silent
    }
    // the final vowel class: a (a, e), i (i, y, ee, ie) or u (o, u)
    let tail: Option<char> = if end > 1 && is_vowel(chars[end - 1]) {
        let v = chars[end - 1];
        let before = chars[end - 2];
        Some(match (before, v) {
            ('e', 'e') | (_, 'i') | (_, 'y') | ('i', 'e') => 'i',
            ('u' | 'o', 'e') => 'u', // German ue, oe for ü, ö (Güçlü, Gueclue)
            (_, 'a') | (_, 'e') => 'a',
            _ => 'u',
        })
    } else {
        None
    };
    let silent_e = tail == Some('a') && chars[end - 1] == 'e' && !is_vowel(chars[end - 2]);
    // a vowel between two like consonants keeps them apart (Sasan); a doubled letter is one
    let mut vowel_since = false;
    for (i, c) in chars[..end].iter().enumerate() {
        let c = *c;
        if is_vowel(c) {
            vowel_since = true;
            continue;
        }
        let c = match c {
            'h' if i + 1 == end => continue,
            'd' if i + 1 == end => 't',
            'b' if i + 1 == end => 'p',
            // ts, tz and z are one sound in many spellings (Tsvetkov, Zwetkow)
            's' | 'z' if cons.last() == Some(&'t') => {
                cons.pop();
                'z'
            }
            c => c,
        };
        if cons.last() != Some(&c) || vowel_since {
            cons.push(c);
        }
        vowel_since = false;
    }
    let s: String = cons.into_iter().collect();
    match tail {
        Some(t) if silent_e => vec![format!("{s}_{t}"), s],
        Some(t) => vec![format!("{s}_{t}")],
        None => vec![s],
    }
}
