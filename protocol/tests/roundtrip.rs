//! Property tests: records, envelopes and wire messages round-trip; the decoders never panic
//! on arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_protocol::StreamId;
use accord_protocol::record::{Person, RouteLeg};
use accord_protocol::wire::{
    Ack, AckEntry, AgreementStatus, Head, Push, RangeRequest, RangeResponse, Refusal, RejectCode,
    SyncStatus,
};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Envelope, Grading, HandlingCode, LegRole, Message,
    PersonRole, Record, RecordId, Seq, Subject, Timestamp, canonical, sign, verify,
};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // printable text with quotes, backslashes, newlines and non-ASCII, trimmed, non-empty
    "[a-zA-Z0-9 \"\\\\\n\tçşğıöüéΩ😀/.,-]{1,40}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn country() -> impl Strategy<Value = Country> {
    prop::sample::select(vec!["PK", "IR", "TR", "GR", "BG", "AF", "ID", "AU"])
        .prop_map(|c| Country::new(c).unwrap())
}

fn record() -> impl Strategy<Value = Record> {
    (
        prop::sample::select(vec!["TR-JGK", "PK-FIA", "GR-HCG"]),
        1u64..=u64::MAX,
        prop::sample::select(vec![
            Category::Alert,
            Category::Route,
            Category::SmugglingNetwork,
            Category::Vessel,
        ]),
        prop::sample::select(HandlingCode::ALL.to_vec()),
        text(),
        0i64..4_000_000_000,
        prop::option::of(1i64..100_000_000),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    PersonRole::Suspect,
                    PersonRole::Witness,
                    PersonRole::Facilitator,
                ]),
                prop::option::of(text()),
                country(),
            ),
            0..4,
        ),
        prop::collection::vec(
            (
                country(),
                prop::sample::select(LegRole::ALL.to_vec()),
                prop::option::of(text()),
            ),
            0..4,
        ),
    )
        .prop_map(
            |(orig, seq, category, handling, summary, created, expires_in, persons, legs)| {
                let created = Timestamp::from_unix(created).unwrap();
                Record {
                    v: 1,
                    originator: AgencyId::new(orig).unwrap(),
                    agreement: AgreementId::new("QUAD-2026").unwrap(),
                    seq: Seq::new(seq).unwrap(),
                    category,
                    handling,
                    handling_restriction: (handling == HandlingCode::H3)
                        .then(|| "Ask before use.".to_owned()),
                    grading: Grading::parse("C3").unwrap(),
                    created,
                    expires: expires_in.map(|d| created.plus_secs(d)),
                    subjects: persons
                        .into_iter()
                        .map(|(role, name, nat)| {
                            Subject::Person(Person {
                                role,
                                local_ref: None,
                                name,
                                aliases: vec![],
                                date_of_birth: None,
                                place_of_birth: None,
                                nationality: Some(nat),
                                documents: vec![],
                                description: None,
                            })
                        })
                        .collect(),
                    route: legs
                        .into_iter()
                        .map(|(country, role, place)| RouteLeg {
                            country,
                            role,
                            place,
                            from: None,
                            until: None,
                        })
                        .collect(),
                    summary,
                    victim_data_purpose: None,
                    corrects: None,
                    withdraws: None,
                    responds_to: None,
                    addressed_to: None,
                    return_status: None,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn record_encoding_round_trips(r in record()) {
        let bytes = canonical::encode_record(&r).unwrap();
        prop_assert_eq!(canonical::decode_record(&bytes).unwrap(), r.clone());
        // canonical bytes are stable: encoding the decoded record gives the same bytes
        prop_assert_eq!(canonical::encode_record(&canonical::decode_record(&bytes).unwrap()).unwrap(), bytes);
    }

    #[test]
    fn signed_envelopes_round_trip_and_verify(r in record(), n in 1u8..=255) {
        let key = common::key(n);
        let dir = common::directory(&[(r.originator.as_str(), &key)]);
        let env = sign(&r, &key).unwrap();
        let decoded = Envelope::decode(&env.encode()).unwrap();
        prop_assert_eq!(&decoded, &env);
        let v = verify(decoded, &dir).unwrap();
        prop_assert_eq!(&v.record, &r);
        prop_assert_eq!(v.id, env.id());
    }

    #[test]
    fn wire_messages_round_trip(rs in prop::collection::vec(record(), 0..5), n in 1u8..=255, detail in text()) {
        let key = common::key(n);
        let envs: Vec<Envelope> = rs.iter().map(|r| sign(r, &key).unwrap()).collect();
        let ids: Vec<RecordId> = envs.iter().map(Envelope::id).collect();
        let agreement = AgreementId::new("QUAD-2026").unwrap();
        let originator = AgencyId::new("TR-JGK").unwrap();
        let messages = vec![
            Message::Push(Push { records: envs.clone() }),
            Message::Ack(Ack { results: ids.iter().enumerate().map(|(i, id)| match i % 3 {
                0 => AckEntry::Stored(*id),
                1 => AckEntry::Duplicate(*id),
                _ => AckEntry::Rejected { code: RejectCode::from_code(i as u8), detail: detail.clone() },
            }).collect(), receipts: ids.iter().map(|id| {
                let r = accord_protocol::audit::Receipt { record: *id, agreement: agreement.clone(), receiver: originator.clone(), received_at: Timestamp::EPOCH };
                accord_protocol::audit::sign_receipt(&r, &key).unwrap()
            }).collect() }),
            Message::SyncStatus(SyncStatus { agreements: vec![AgreementStatus {
                agreement: agreement.clone(),
                agreement_hash: [n; 32],
                heads: vec![Head { stream: StreamId::agency(&originator), seq: u64::from(n), digest: [n; 32] }, Head::without_digest(StreamId::agency(&AgencyId::new("PK-FIA").unwrap()), 0), Head { stream: StreamId::delegated(&originator, &key.public_key()), seq: 3, digest: [n.wrapping_add(1); 32] }],
                signatures: vec![(originator.clone(), [n; 64])],
            }], checkpoint: (n % 2 == 0).then(|| {
                let c = accord_protocol::audit::Checkpoint { agency: originator.clone(), count: u64::from(n), head: accord_protocol::audit::Digest32([n; 32]), time: Timestamp::EPOCH };
                accord_protocol::audit::sign_checkpoint(&c, &key).unwrap()
            }), revocations: (0..n % 3).map(|i| {
                let r = accord_protocol::delegation::Revocation { v: 1, agency: originator.clone(), certificate: accord_protocol::audit::Digest32([i; 32]), revoked: Timestamp::EPOCH, reason: "lost".into() };
                accord_protocol::delegation::revoke(&r, &key).unwrap()
            }).collect() }),
            Message::RangeRequest(RangeRequest { agreement: agreement.clone(), stream: StreamId::agency(&originator), from: Seq::FIRST, to: Seq::new(u64::from(n)).unwrap() }),
            Message::RangeResponse(RangeResponse { agreement, stream: StreamId::delegated(&originator, &key.public_key()), records: envs, complete: n % 2 == 0 }),
            Message::Refused(Refusal { code: RejectCode::NotMember, detail }),
        ];
        for m in messages {
            let bytes = m.encode().unwrap();
            prop_assert_eq!(Message::decode(&bytes).unwrap(), m);
        }
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::decode(&bytes);
        let _ = Envelope::decode(&bytes);
        let _ = canonical::decode_record(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_frames(r in record(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let env = sign(&r, &common::key(7)).unwrap();
        let mut bytes = Message::Push(Push { records: vec![env] }).encode().unwrap();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] ^= b;
        }
        let _ = Message::decode(&bytes);
        let _ = Message::decode(&bytes[..cut.index(bytes.len())]);
    }
}

#[test]
fn oversized_and_malformed_frames_get_typed_errors() {
    use accord_protocol::wire::{MAX_BATCH_RECORDS, MAX_FRAME_BYTES, WireError};
    let huge = vec![0u8; MAX_FRAME_BYTES + 1];
    assert!(matches!(
        Message::decode(&huge),
        Err(WireError::FrameTooLarge { .. })
    ));
    assert!(matches!(
        Message::decode(&[]),
        Err(WireError::Truncated { .. })
    ));
    assert!(matches!(
        Message::decode(&[1, 1]),
        Err(WireError::Version(1))
    ));
    assert!(matches!(
        Message::decode(&[2, 99]),
        Err(WireError::Kind(99))
    ));
    // a push claiming more records than allowed is refused before anything is read
    let n = (MAX_BATCH_RECORDS as u16 + 1).to_be_bytes();
    assert!(matches!(
        Message::decode(&[2, 1, n[0], n[1]]),
        Err(WireError::TooMany { .. })
    ));
    // a push whose one envelope claims 4 GiB
    assert!(matches!(
        Message::decode(&[2, 1, 0, 1, 0xff, 0xff, 0xff, 0xff]),
        Err(WireError::Envelope { index: 0, .. })
    ));
    // a range request whose start is after its end
    let mut m = Message::RangeRequest(RangeRequest {
        agreement: AgreementId::new("A").unwrap(),
        stream: StreamId::agency(&AgencyId::new("TR-JGK").unwrap()),
        from: Seq::new(5).unwrap(),
        to: Seq::new(5).unwrap(),
    })
    .encode()
    .unwrap();
    let len = m.len();
    m[len - 1] = 4; // to = 4 < from = 5
    assert!(matches!(
        Message::decode(&m),
        Err(WireError::Field { what: "range", .. })
    ));
    // trailing bytes
    let mut ok = Message::Refused(Refusal {
        code: RejectCode::Busy,
        detail: String::new(),
    })
    .encode()
    .unwrap();
    ok.push(0);
    assert!(matches!(Message::decode(&ok), Err(WireError::Trailing(1))));
    // a batch too large to send is refused by the encoder too
    let env = sign(&common::minimal_record(), &common::key(1)).unwrap();
    let too_many = Message::Push(Push {
        records: vec![env; MAX_BATCH_RECORDS + 1],
    });
    assert!(matches!(too_many.encode(), Err(WireError::TooMany { .. })));
}
