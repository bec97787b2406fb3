//! Transliteration of the scripts other than Latin into a rough Latin form: ICU4X's compiled
//! transliterators, with the letters they lack mapped first and their scholarly output brought
//! to the spellings partners and passports use.

use std::cell::RefCell;

use icu_experimental::transliterate::Transliterator;
use icu_normalizer::DecomposingNormalizerBorrowed;

use super::{G_OR_H, Script, is_mark, strip_marks};

thread_local! {
    /// The ICU4X transliterators, made once per thread (they are not `Sync`).
    static TRANSLITERATORS: RefCell<Option<[Option<Transliterator>; 3]>> = const { RefCell::new(None) };
}

pub(super) fn transliterate(script: Script, text: &str) -> String {
    let which = match script {
        Script::Arabic => 0,
        Script::Cyrillic => 1,
        Script::Greek => 2,
        _ => return text.to_owned(),
    };
    TRANSLITERATORS.with(|cell| {
        let mut cell = cell.borrow_mut();
        let all = cell.get_or_insert_with(|| {
            let make = |id: &str| {
                id.parse::<icu_locale_core::Locale>()
                    .ok()
                    .and_then(|l| Transliterator::try_new(&l).ok())
            };
            [
                make("und-Latn-t-und-arab"),
                make("und-Latn-t-und-cyrl"),
                make("und-Latn-t-und-grek"),
            ]
        });
        match &all[which] {
            Some(t) => t.transliterate(text.to_owned()),
            None => text.to_owned(),
        }
    })
}

/// Urdu and Pashto letters ICU4X's Arabic–Latin does not know, as the Arabic or Persian letter
/// read the same way.
fn arabic_letter(c: char) -> char {
    match c {
        'ٹ' | 'ټ' => 'ت',
        'ڈ' | 'ډ' => 'د',
        'ڑ' | 'ړ' => 'ر',
        'ے' | 'ې' | 'ۍ' | 'ئ' | 'ي' => 'ی',
        'ى' => 'ا', // alef maqsura: a final a (Duha, Bushra)
        'ں' | 'ڼ' => 'ن',
        'ھ' | 'ۀ' | 'ە' | 'ہ' => 'ه',
        'ۃ' => 'ة',
        'ښ' => 'ش',
        'ږ' => 'ژ',
        'ځ' => 'ز',
        'څ' => 'س',
        'ك' => 'ک',
        'ګ' => 'گ',
        other => other,
    }
}

/// An Arabic-script part: mapped to Arabic letters ICU4X knows, transliterated, then read
/// letter by letter from the scholarly romanisation ICU4X writes (`ḥ`, `ḍ`, `tẖ`, `ạ`, …).
pub(super) fn rough_arabic(part: &str) -> String {
    let mapped: String = part.chars().map(arabic_letter).collect();
    let latin = transliterate(Script::Arabic, &mapped);
    // decompose, keeping the marks: they tell ḍ from d
    let nfd = DecomposingNormalizerBorrowed::new_nfd();
    let chars: Vec<char> = nfd.normalize(&latin).chars().collect();
    let mut out = String::new();
    let n = chars.len();
    let mut i = 0;
    // the position in `out` of each letter read, to know which are medial
    while i < n {
        let c = chars[i].to_ascii_lowercase();
        let next_mark = |m: char| chars.get(i + 1).is_some_and(|x| *x == m);
        // ICU writes digraph letters as a letter and `ẖ` (h with line below: h + U+0331)
        let h_line = chars.get(i + 1) == Some(&'h') && chars.get(i + 2) == Some(&'\u{331}');
        if h_line {
            match c {
                't' => out.push('T'), // ث: th (Arabic) or s (Persian)
                'd' => out.push('D'), // ذ: dh (Arabic) or z (Persian)
                'k' => out.push('h'), // خ: kh, spelled h in Turkish
                'g' => out.push('g'), // غ: gh
                's' => out.push('S'), // ش: sh
                'z' => out.push('j'), // ژ: zh
                'c' => out.push('C'), // چ: ch
                other => out.push(other),
            }
            i += 3;
            continue;
        }
        match c {
            // ayn: a vowel in every Latin spelling (Omar, Saeed, al-Asali)
            'ʿ' => out.push('a'),
            'ʾ' => {}
            'd' if next_mark('\u{323}') => {
                out.push('D'); // ض: d (Arabic) or z (Persian)
                i += 1;
            }
            'q' => out.push('Q'), // ق: q, k, or gh (Persian)
            'y' | 'w' => {
                let first = out.is_empty();
                let last = chars[i + 1..].iter().all(|x| is_mark(*x));
                if first {
                    out.push(if c == 'w' { 'v' } else { c });
                } else if last {
                    out.push(if c == 'y' { 'i' } else { 'u' });
                } else {
                    out.push(if c == 'y' { 'Y' } else { 'W' });
                }
            }
            't' if next_mark('\u{308}') => {
                // ة (ta marbuta): a final -a/-ah/-eh
                out.push('a');
                i += 1;
            }
            'h' if chars[i + 1..].iter().all(|x| is_mark(*x)) && !out.is_empty() => {
                // a final ه is a vowel: Fatemeh, Zahra(h)
                out.push('a');
            }
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {} // marks: ḥ → h, ṣ → s, ạ → a, …
        }
        i += 1;
    }
    out
}

/// Tajik letters ICU4X's Cyrillic–Latin does not know, as the Russian letters read alike.
pub(super) fn cyrillic_letters(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            'Ҷ' => out.push_str("Дж"),
            'ҷ' => out.push_str("дж"),
            'Ҳ' => out.push('Х'),
            'ҳ' => out.push('х'),
            'Ӯ' => out.push('У'),
            'ӯ' => out.push('у'),
            'Ғ' => out.push('Г'),
            'ғ' => out.push('г'),
            'Қ' => out.push('К'),
            'қ' => out.push('к'),
            'Ӣ' => out.push('И'),
            'ӣ' => out.push('и'),
            c => out.push(c),
        }
    }
    out
}

/// ICU4X's Cyrillic–Latin (ISO 9 like) to the spellings passports use; `г` is marked as read
/// g (Russian) or h (Ukrainian).
pub(super) fn cyrillic_latin(text: &str) -> String {
    let lower: String = text.chars().flat_map(char::to_lowercase).collect();
    let mut out = String::new();
    for c in lower.chars() {
        match c {
            'û' => out.push_str("yu"),
            'â' => out.push_str("ya"),
            'ë' => out.push_str("yo"),
            'ŝ' => out.push_str("shch"),
            'š' => out.push_str("sh"),
            'ž' => out.push_str("zh"),
            'č' => out.push_str("ch"),
            'c' => out.push_str("ts"),
            'h' => out.push_str("kh"),
            'j' => out.push('y'),
            'g' => out.push(G_OR_H),
            'ʹ' | 'ʺ' | '\u{331}' => {}
            other => out.push(other),
        }
    }
    out
}

/// ICU4X's Greek–Latin (classical) to modern Greek spellings (ELOT 743): β is v, ευ/αυ are
/// ev/av (ef/af before a voiceless consonant), η and υ are i, χ is ch (kh, h).
pub(super) fn greek_latin(text: &str) -> String {
    // η (ē in ICU4X's romanisation) is i in modern Greek
    let nfd = DecomposingNormalizerBorrowed::new_nfd();
    let eta = nfd
        .normalize(text)
        .replace("e\u{304}", "i")
        .replace("E\u{304}", "I");
    let plain = strip_marks(&eta);
    let mut s = plain.replace('b', "v");
    for (diph, voiced, voiceless) in [("eu", "ev", "ef"), ("au", "av", "af")] {
        while let Some(at) = s.find(diph) {
            let next = s[at + 2..].chars().next();
            let hard = next.is_some_and(|c| "tkxpsfhc".contains(c));
            s.replace_range(at..at + 2, if hard { voiceless } else { voiced });
        }
    }
    s.replace("ch", "kh").replace('y', "i")
}
