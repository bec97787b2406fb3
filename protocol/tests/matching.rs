//! Hit / no-hit matching's cryptography (protocol/src/matching.rs, docs/matching.md): a lookup
//! finds what the holder tagged and nothing else, under the agreement and epoch it was made
//! for, and what travels tells nothing of the selector without the holder's key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use accord_protocol::matching::{
    Answer, Epoch, Lookup, MAX_LOOKUP, MatchError, MatchKey, MatchSet, Selector, SelectorKind,
    key_info,
};
use accord_protocol::{AgreementId, Date, Timestamp};
use rand_core::OsRng;

fn seed(b: u8) -> [u8; 32] {
    [b; 32]
}

fn quad() -> AgreementId {
    AgreementId::new("QUAD-2026").unwrap()
}

fn day(s: &str) -> Timestamp {
    Timestamp::parse(&format!("{s}T10:00:00Z")).unwrap()
}

fn phone(n: &str) -> Selector {
    Selector::new(SelectorKind::Phone, n).unwrap()
}

fn holder_set(key: &MatchKey, held: &[Selector]) -> MatchSet {
    MatchSet::build(key, held).unwrap()
}

/// The whole exchange: blind, answer, finish; the tags the asker gets, in order.
fn look_up(key: &MatchKey, selectors: &[Selector]) -> Vec<accord_protocol::matching::Tag> {
    let (lookup, blinded) = Lookup::blind(&mut OsRng, selectors).unwrap();
    let answer = key.answer(&mut OsRng, &blinded).unwrap();
    lookup.finish(&answer, &key.public_key()).unwrap()
}

#[test]
fn a_selector_the_holder_tagged_is_a_hit_and_one_it_did_not_is_a_miss() {
    let epoch = Epoch::containing(day("2026-12-07"), 1).unwrap();
    let key = MatchKey::derive(&seed(7), &quad(), epoch).unwrap();
    let held = [
        phone("+923012345678"),
        phone("+66810000101"),
        Selector::new(SelectorKind::Document, "PK:AB1234567").unwrap(),
    ];
    let set = holder_set(&key, &held);
    assert_eq!(set.len(), 3);

    let tags = look_up(
        &key,
        &[
            phone("+66810000101"),
            phone("+66810000102"),
            Selector::new(SelectorKind::Document, "PK:AB1234567").unwrap(),
            // the same characters under another kind are another selector
            Selector::new(SelectorKind::Account, "+66810000101").unwrap(),
        ],
    );
    let hits: Vec<bool> = tags.iter().map(|t| set.contains(t)).collect();
    assert_eq!(hits, [true, false, true, false]);
}

#[test]
fn another_epoch_or_agreement_has_another_key_and_old_tags_match_nothing() {
    let today = Epoch::containing(day("2026-12-07"), 1).unwrap();
    let tomorrow = today.next().unwrap();
    assert_eq!(tomorrow.start, Date::parse("2026-12-08").unwrap());
    let held = [phone("+923012345678")];

    let key_today = MatchKey::derive(&seed(7), &quad(), today).unwrap();
    let key_tomorrow = MatchKey::derive(&seed(7), &quad(), tomorrow).unwrap();
    let key_other = MatchKey::derive(
        &seed(7),
        &AgreementId::new("PK-TR-BILATERAL").unwrap(),
        today,
    )
    .unwrap();
    assert_ne!(key_today.public_key(), key_tomorrow.public_key());
    assert_ne!(key_today.public_key(), key_other.public_key());

    // yesterday's answer, kept, against today's set: no hit
    let today_set = holder_set(&key_today, &held);
    let tomorrow_set = holder_set(&key_tomorrow, &held);
    let old = look_up(&key_today, &held);
    assert!(today_set.contains(&old[0]));
    assert!(!tomorrow_set.contains(&old[0]));
    // and the other agreement's tag is not this one's
    assert!(!today_set.contains(&look_up(&key_other, &held)[0]));
    // the same seed, agreement and epoch give the same key on every node that derives it
    assert_eq!(
        MatchKey::derive(&seed(7), &quad(), today)
            .unwrap()
            .public_key(),
        key_today.public_key()
    );
}

#[test]
fn an_answer_made_with_another_key_fails_its_proof() {
    let epoch = Epoch::containing(day("2026-12-07"), 7).unwrap();
    let published = MatchKey::derive(&seed(7), &quad(), epoch).unwrap();
    let other = MatchKey::derive(&seed(8), &quad(), epoch).unwrap();
    let (lookup, blinded) = Lookup::blind(&mut OsRng, &[phone("+923012345678")]).unwrap();
    let answer = other.answer(&mut OsRng, &blinded).unwrap();
    assert_eq!(
        lookup.finish(&answer, &published.public_key()),
        Err(MatchError::Proof)
    );
    // an evaluation swapped after the proof was made fails too
    let (lookup, blinded) =
        Lookup::blind(&mut OsRng, &[phone("+923012345678"), phone("+66810000101")]).unwrap();
    let mut answer = published.answer(&mut OsRng, &blinded).unwrap();
    answer.evaluated.swap(0, 1);
    assert_eq!(
        lookup.finish(&answer, &published.public_key()),
        Err(MatchError::Proof)
    );
    // and an answer of the wrong length is named
    let short = Answer {
        evaluated: answer.evaluated[..1].to_vec(),
        proof: answer.proof,
    };
    assert_eq!(
        lookup.finish(&short, &published.public_key()),
        Err(MatchError::AnswerSize { asked: 2, got: 1 })
    );
}

#[test]
fn bad_input_is_refused_with_what_is_wrong() {
    let epoch = Epoch::containing(day("2026-12-07"), 1).unwrap();
    let key = MatchKey::derive(&seed(7), &quad(), epoch).unwrap();

    let err = Selector::new(SelectorKind::Phone, "").unwrap_err();
    assert!(err.to_string().contains("phone is empty"), "{err}");
    let err = Selector::new(SelectorKind::Person, &"a".repeat(300)).unwrap_err();
    assert!(err.to_string().contains("300 bytes long"), "{err}");
    let err = Selector::new(SelectorKind::Vessel, "imo:9074729\0x").unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");

    assert_eq!(
        Lookup::blind(&mut OsRng, &[]).unwrap_err(),
        MatchError::LookupSize(0)
    );
    let many = vec![phone("+923012345678"); MAX_LOOKUP + 1];
    assert_eq!(
        Lookup::blind(&mut OsRng, &many).unwrap_err(),
        MatchError::LookupSize(MAX_LOOKUP + 1)
    );
    assert_eq!(
        key.answer(&mut OsRng, &[]).unwrap_err(),
        MatchError::LookupSize(0)
    );
    // 32 bytes that decode to no ristretto255 point (a non-canonical encoding)
    let err = key.answer(&mut OsRng, &[[0xff; 32]]).unwrap_err();
    assert_eq!(err, MatchError::Element("a blinded element"));
    assert!(err.to_string().contains("not a valid ristretto255 element"));

    assert!(matches!(
        Epoch::containing(day("2026-12-07"), 0),
        Err(MatchError::Epoch(_))
    ));
    assert!(matches!(
        Epoch::containing(day("2026-12-07"), 367),
        Err(MatchError::Epoch(_))
    ));
    let err = Epoch::containing(day("1969-12-31"), 1).unwrap_err();
    assert!(err.to_string().contains("1970-01-01 or later"), "{err}");
}

#[test]
fn epochs_begin_on_the_same_days_everywhere() {
    // 2026-12-07 is day 20,794 since 1970-01-01; weeks of 7 begin on days divisible by 7
    let week = Epoch::containing(day("2026-12-07"), 7).unwrap();
    assert_eq!(week.start, Date::parse("2026-12-03").unwrap());
    assert!(week.holds(day("2026-12-09")));
    assert!(!week.holds(day("2026-12-10")));
    assert_eq!(
        week.next().unwrap().start,
        Date::parse("2026-12-10").unwrap()
    );
    assert_eq!(week.to_string(), "2026-12-03+7d");
    let one = Epoch::containing(Timestamp::parse("2026-12-07T23:59:59Z").unwrap(), 1).unwrap();
    assert_eq!(one.start, Date::parse("2026-12-07").unwrap());
    assert_eq!(
        key_info(&quad(), one),
        b"accord/match/key/v1\0QUAD-2026\x002026-12-07\x001".to_vec()
    );
}

#[test]
fn what_travels_tells_nothing_of_the_selector_without_the_holders_key() {
    // An eavesdropper (or the holder's partner replaying a capture) holds one lookup for a
    // phone number in a range of 200 and its answer; it knows the range, the agreement, the
    // epoch and the public key, but not the holder's key.
    let epoch = Epoch::containing(day("2026-12-07"), 1).unwrap();
    let key = MatchKey::derive(&seed(7), &quad(), epoch).unwrap();
    let range: Vec<Selector> = (0..200)
        .map(|i| phone(&format!("+923012345{i:03}")))
        .collect();
    let secret = range[137].clone();
    let (lookup, blinded) = Lookup::blind(&mut OsRng, std::slice::from_ref(&secret)).unwrap();
    let answer = key.answer(&mut OsRng, &blinded).unwrap();
    let asker_tag = lookup.finish(&answer, &key.public_key()).unwrap()[0];

    // The blinded element is a fresh random point: the same selector blinded again gives
    // another, so captures cannot be linked or compared with a blinding of a guess.
    let (_, again) = Lookup::blind(&mut OsRng, std::slice::from_ref(&secret)).unwrap();
    assert_ne!(again, blinded);

    // Brute force without the key: every candidate blinded by the attacker and "answered"
    // with a key of its own choosing; none of the tags it can make is the asker's tag, nor
    // does any candidate's blinding repeat the captured element.
    let guess = MatchKey::derive(&seed(99), &quad(), epoch).unwrap();
    let mut found_without_key = 0;
    for c in &range {
        let (l, b) = Lookup::blind(&mut OsRng, std::slice::from_ref(c)).unwrap();
        assert_ne!(b, blinded);
        let a = guess.answer(&mut OsRng, &b).unwrap();
        let t = l.finish(&a, &guess.public_key()).unwrap()[0];
        if t == asker_tag {
            found_without_key += 1;
        }
    }
    assert_eq!(found_without_key, 0);
    // The captured answer cannot stand for another candidate either: it is bound to its
    // blinded element, so finishing a guess's lookup with it fails the proof.
    let (l, _) = Lookup::blind(&mut OsRng, std::slice::from_ref(&range[3])).unwrap();
    assert_eq!(l.finish(&answer, &key.public_key()), Err(MatchError::Proof));

    // With the holder's answers, one per candidate (each a lookup its quota counts), the
    // selector is found, and only by spending those lookups.
    let mut lookups_made = 0;
    let mut found = None;
    for chunk in range.chunks(MAX_LOOKUP) {
        lookups_made += chunk.len();
        for (c, t) in chunk.iter().zip(look_up(&key, chunk)) {
            if t == asker_tag {
                found = Some(c.clone());
            }
        }
    }
    assert_eq!(found.as_ref(), Some(&secret));
    assert_eq!(lookups_made, 200);
}

#[test]
fn a_selectors_debug_form_does_not_show_its_value() {
    let s = phone("+923012345678");
    let shown = format!("{s:?}");
    assert!(!shown.contains("923012345678"), "{shown}");
    assert!(shown.contains("phone"), "{shown}");
}

/// The vectors of docs/matching.md, "Vectors": each block derives the key its header names
/// and every `input` gives the `tag` on the next line.
#[test]
fn the_vectors_in_docs_matching_md_hold() {
    const DOC: &str = include_str!("../../docs/matching.md");
    let section = DOC
        .split("\n## Vectors\n")
        .nth(1)
        .expect("docs/matching.md has a section `## Vectors`");
    let blocks: Vec<&str> = section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|b| b.trim_start_matches(|c| c != '\n'))
        .collect();
    assert_eq!(blocks.len(), 3, "three blocks of vectors");
    let epochs = [
        Epoch::containing(day("2026-12-07"), 1).unwrap(),
        Epoch::containing(day("2026-12-07"), 7).unwrap(),
        Epoch::containing(day("2026-12-07"), 1).unwrap(),
    ];
    let agency = accord_protocol::SecretKey::from_seed(&[3; 32]);
    let mut signed = 0;
    let mut tags_checked = 0;
    for (block, epoch) in blocks.iter().zip(epochs) {
        let key = MatchKey::derive(&seed(7), &quad(), epoch).unwrap();
        let mut input: Option<Vec<u8>> = None;
        let mut tags = Vec::new();
        let set = |tags: &Vec<accord_protocol::matching::Tag>| {
            MatchSet::from_tags(quad(), epoch, key.public_key(), tags.clone())
        };
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            let (name, value) = line.split_once(' ').unwrap();
            let value = value.trim();
            match name {
                "seed" => assert_eq!(value, hex::encode(seed(7))),
                "info" => assert_eq!(value, hex::encode(key_info(&quad(), epoch))),
                "public" => {
                    let pk = value.trim_start_matches("key").trim();
                    assert_eq!(pk, hex::encode(key.public_key()), "{epoch}");
                }
                "input" => input = Some(hex::decode(value).unwrap()),
                "tag" => {
                    let bytes = input.take().expect("a tag follows its input");
                    let (kind, val) = bytes.split_at(bytes.iter().position(|b| *b == 0).unwrap());
                    let kind: SelectorKind = serde_json::from_value(serde_json::json!(
                        std::str::from_utf8(kind).unwrap()
                    ))
                    .unwrap();
                    let selector =
                        Selector::new(kind, std::str::from_utf8(&val[1..]).unwrap()).unwrap();
                    assert_eq!(selector.input(), bytes);
                    let tag = key.tag(&selector).unwrap();
                    assert_eq!(tag.to_hex(), value, "{epoch}");
                    tags.push(tag);
                    tags_checked += 1;
                }
                "agency" => assert_eq!(
                    value.trim_start_matches("seed").trim(),
                    hex::encode([3u8; 32])
                ),
                "statement" => assert_eq!(value, hex::encode(set(&tags).statement())),
                "signature" => {
                    assert_eq!(value, hex::encode(set(&tags).sign(&agency)));
                    signed += 1;
                }
                other => panic!("an unknown line `{other}` in the vectors"),
            }
        }
    }
    assert_eq!(tags_checked, 6);
    assert_eq!(signed, 1);
}

/// The suite is RFC 9497's: its vector A.1.2 (ristretto255-SHA512, VOPRF mode) derives the
/// public key and evaluates the inputs the RFC gives, through the same crate `MatchKey` uses.
#[test]
fn the_suite_reproduces_rfc_9497_voprf_vectors() {
    use voprf::{Group as _, VoprfServer};
    let seed = [0xa3u8; 32];
    let server =
        VoprfServer::<accord_protocol::matching::Suite>::new_from_seed(&seed, b"test key").unwrap();
    assert_eq!(
        hex::encode(accord_protocol::matching::Suite::serialize_elem(
            server.get_public_key()
        )),
        "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e"
    );
    assert_eq!(
        hex::encode(server.evaluate(&[0x00]).unwrap()),
        "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7da4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c"
    );
    assert_eq!(
        hex::encode(server.evaluate(&[0x5a; 17]).unwrap()),
        "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6"
    );
}

#[test]
fn a_holders_signed_set_verifies_and_any_change_to_it_does_not() {
    let epoch = Epoch::containing(day("2026-12-07"), 1).unwrap();
    let key = MatchKey::derive(&seed(7), &quad(), epoch).unwrap();
    let agency = accord_protocol::SecretKey::from_seed(&[3; 32]);
    let set = holder_set(&key, &[phone("+923012345678"), phone("+66810000101")]);
    let signature = set.sign(&agency);
    assert_eq!(set.verify(&agency.public_key(), &signature), Ok(()));

    // another agency's key, a tag removed, another epoch's key: refused
    let other = accord_protocol::SecretKey::from_seed(&[4; 32]);
    assert_eq!(
        set.verify(&other.public_key(), &signature),
        Err(MatchError::SetSignature)
    );
    let fewer = holder_set(&key, &[phone("+923012345678")]);
    assert_eq!(
        fewer.verify(&agency.public_key(), &signature),
        Err(MatchError::SetSignature)
    );
    let mut moved = set.clone();
    moved.public_key = MatchKey::derive(&seed(7), &quad(), epoch.next().unwrap())
        .unwrap()
        .public_key();
    assert_eq!(
        moved.verify(&agency.public_key(), &signature),
        Err(MatchError::SetSignature)
    );

    // the statement's layout (docs/matching.md, "Vectors")
    let st = set.statement();
    assert!(st.starts_with(b"accord/match-set/v1\0\x09QUAD-2026"));
    assert_eq!(epoch.day(), 20_794);
    assert_eq!(&st[30..34], &20_794u32.to_be_bytes());
    assert_eq!(&st[34..36], &1u16.to_be_bytes());
    assert_eq!(&st[36..68], &key.public_key());
    assert_eq!(&st[68..72], &2u32.to_be_bytes());
    assert_eq!(&st[72..], &set.digest());
}
