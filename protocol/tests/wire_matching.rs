//! Matching's wire messages (kinds 7 to 10, docs/protocol.md §6): they round-trip, the decoder
//! refuses what a holder or asker must never act on with a typed error, and the vectors' lookup
//! and answer finish to the tag the vectors' set holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use accord_protocol::Message;
use accord_protocol::matching::{Lookup, Selector, SelectorKind};
use accord_protocol::wire::{LookupRequest, MAX_SET_CHUNK, SetChunk, WireError};
use proptest::prelude::*;

fn vectors() -> Vec<Message> {
    common::match_messages()
        .into_iter()
        .map(|(_, m)| m)
        .collect()
}

fn chunk() -> SetChunk {
    match &vectors()[1] {
        Message::MatchSet(c) => c.clone(),
        _ => panic!("the second matching vector is a set chunk"),
    }
}

fn lookup() -> LookupRequest {
    match &vectors()[2] {
        Message::Lookup(l) => l.clone(),
        _ => panic!("the third matching vector is a lookup"),
    }
}

#[test]
fn the_vectors_lookup_and_answer_finish_to_a_tag_of_the_vectors_set() {
    let v = vectors();
    let (Message::MatchSet(set), Message::LookupAnswer(answer)) = (&v[1], &v[3]) else {
        panic!("vectors in kind order");
    };
    let phone = Selector::new(SelectorKind::Phone, "+923012345678").unwrap();
    let (lookup, blinded) = Lookup::blind(&mut common::VectorRng::new(b"blind"), &[phone]).unwrap();
    assert_eq!(
        blinded,
        lookup_blinded(&v[2]),
        "the same blind as the vector's"
    );
    let tags = lookup
        .finish(
            &accord_protocol::matching::Answer {
                evaluated: answer.evaluated.clone(),
                proof: answer.proof,
            },
            &set.public_key,
        )
        .unwrap();
    assert_eq!(tags[0].to_hex(), "55400ee3782fadf15067c029d0dd70d5");
    assert!(set.tags.contains(&tags[0]));
}

fn lookup_blinded(m: &Message) -> Vec<[u8; 32]> {
    match m {
        Message::Lookup(l) => l.blinded.clone(),
        _ => panic!("a lookup"),
    }
}

#[test]
fn an_epoch_not_on_its_boundary_or_of_no_days_is_refused() {
    let mut bytes = Message::Lookup(lookup()).encode().unwrap();
    // version, kind, id length and "QUAD-2026", then the day (u32) and the days (u16)
    let days_at = 2 + 1 + 9 + 4;
    bytes[days_at..days_at + 2].copy_from_slice(&7u16.to_be_bytes());
    let e = Message::decode(&bytes).unwrap_err();
    assert!(
        matches!(&e, WireError::Field { what: "epoch", reason } if reason.contains("multiple of 7")),
        "{e}"
    );
    bytes[days_at..days_at + 2].copy_from_slice(&0u16.to_be_bytes());
    let e = Message::decode(&bytes).unwrap_err();
    assert!(e.to_string().contains("of 0 days"), "{e}");
    bytes[days_at..days_at + 2].copy_from_slice(&367u16.to_be_bytes());
    assert!(Message::decode(&bytes).is_err());
}

#[test]
fn a_lookup_of_no_element_or_more_than_64_is_refused_both_ways() {
    let mut l = lookup();
    l.blinded.clear();
    let e = Message::Lookup(l.clone()).encode().unwrap_err();
    assert!(e.to_string().contains("1 to 64"), "{e}");
    // written by hand: the count says 0
    let mut bytes = Message::Lookup(lookup()).encode().unwrap();
    let count_at = 2 + 1 + 9 + 6;
    bytes[count_at..count_at + 2].copy_from_slice(&0u16.to_be_bytes());
    bytes.truncate(count_at + 2);
    let e = Message::decode(&bytes).unwrap_err();
    assert!(e.to_string().contains("none"), "{e}");
    bytes[count_at..count_at + 2].copy_from_slice(&65u16.to_be_bytes());
    let e = Message::decode(&bytes).unwrap_err();
    assert!(
        matches!(
            e,
            WireError::TooMany {
                count: 65,
                max: 64,
                ..
            }
        ),
        "{e}"
    );
    l.blinded = vec![[1; 32]; 65];
    assert!(Message::Lookup(l).encode().is_err());
}

#[test]
fn a_set_chunk_outside_its_set_or_over_a_mebibyte_is_refused() {
    let mut c = chunk();
    c.from = 1; // tags 1 and 2 of a set of 2
    let e = Message::MatchSet(c.clone()).encode().unwrap_err();
    assert!(e.to_string().contains("tags 1 to 3 of a set of 2"), "{e}");
    // the same written by hand: the decoder refuses it before reading the tags
    let mut bytes = Message::MatchSet(chunk()).encode().unwrap();
    let from_at = 2 + 1 + 9 + 6 + 32 + 4;
    bytes[from_at..from_at + 4].copy_from_slice(&1u32.to_be_bytes());
    assert!(Message::decode(&bytes).is_err());
    // a count over the limit is refused before anything is allocated
    let mut bytes = Message::MatchSet(chunk()).encode().unwrap();
    let total_at = from_at - 4;
    bytes[total_at..total_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    bytes[from_at + 4..from_at + 8].copy_from_slice(&(MAX_SET_CHUNK as u32 + 1).to_be_bytes());
    let e = Message::decode(&bytes).unwrap_err();
    assert!(
        matches!(
            e,
            WireError::TooMany {
                what: "set tags",
                ..
            }
        ),
        "{e}"
    );
    // a count that claims more tags than the frame holds
    let mut bytes = Message::MatchSet(chunk()).encode().unwrap();
    bytes[total_at..total_at + 4].copy_from_slice(&100u32.to_be_bytes());
    bytes[from_at + 4..from_at + 8].copy_from_slice(&100u32.to_be_bytes());
    let e = Message::decode(&bytes).unwrap_err();
    assert!(
        matches!(e, WireError::Truncated { what: "tags", .. }),
        "{e}"
    );
}

#[test]
fn the_new_reject_codes_keep_their_numbers() {
    use accord_protocol::wire::RejectCode;
    for (code, n) in [
        (RejectCode::MatchingNotProvided, 16),
        (RejectCode::OverQuota, 17),
        (RejectCode::WrongEpoch, 18),
        (RejectCode::ReleaseNotApproved, 19),
    ] {
        assert_eq!(code.code(), n);
        assert_eq!(RejectCode::from_code(n), code);
    }
    assert_eq!(RejectCode::from_code(20), RejectCode::Other(20));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matching_messages_round_trip(tags in prop::collection::vec(any::<[u8; 16]>(), 0..300), from in 0u32..1000, n in 1usize..=64) {
        let mut c = chunk();
        c.total = from + tags.len() as u32;
        c.from = from;
        c.tags = tags.into_iter().map(accord_protocol::matching::Tag).collect();
        let mut l = lookup();
        l.blinded = vec![[9; 32]; n];
        for m in vectors().into_iter().chain([Message::MatchSet(c), Message::Lookup(l)]) {
            let bytes = m.encode().unwrap();
            prop_assert_eq!(Message::decode(&bytes).unwrap(), m);
        }
    }

    #[test]
    fn matching_decoders_never_panic_on_mutated_frames(which in 0usize..4, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut bytes = vectors()[which].encode().unwrap();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] ^= b;
        }
        let _ = Message::decode(&bytes);
        let _ = Message::decode(&bytes[..cut.index(bytes.len())]);
    }
}
