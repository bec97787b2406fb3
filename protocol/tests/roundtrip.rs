//! Property tests: records of the whole model (every subject kind, category and handling code,
//! victims with identifying data, dated legs, corrections and withdrawals), envelopes and wire
//! messages round-trip and verify; the decoders never panic on arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_protocol::StreamId;
use accord_protocol::record::{
    Account, DocumentAssessment, DocumentRef, Organisation, Person, Phone, ReturnStatus, RouteLeg,
    TravelDocument, Vehicle, Vessel,
};
use accord_protocol::wire::{
    Ack, AckEntry, AgreementStatus, Head, Push, RangeRequest, RangeResponse, Refusal, RejectCode,
    SyncStatus,
};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Date, DocumentKind, Envelope, Grading, HandlingCode,
    LegRole, Message, PartialDate, PersonRole, Record, RecordId, Seq, Subject, Timestamp,
    VictimPurpose, canonical, sign, verify,
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

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..3)
}

fn date() -> impl Strategy<Value = Date> {
    (1950u16..2030, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}

/// A date of birth known to the year, the month or the day.
fn date_of_birth() -> impl Strategy<Value = PartialDate> {
    prop_oneof![
        (1930u16..2020).prop_map(|y| PartialDate::parse(&format!("{y:04}")).unwrap()),
        (1930u16..2020, 1u8..=12)
            .prop_map(|(y, m)| PartialDate::parse(&format!("{y:04}-{m:02}")).unwrap()),
        date().prop_map(PartialDate::Day),
    ]
}

fn document_kind() -> impl Strategy<Value = DocumentKind> {
    prop::sample::select(DocumentKind::ALL.to_vec())
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, n).prop_map(|d| d.iter().map(|d| char::from(b'0' + d)).collect())
}

/// A person of any role, each identifying field present or not.
fn person() -> impl Strategy<Value = Person> {
    (
        prop::sample::select(PersonRole::ALL.to_vec()),
        opt_text(),
        opt_text(),
        texts(),
        prop::option::of(date_of_birth()),
        opt_text(),
        prop::option::of(country()),
        prop::collection::vec((document_kind(), text(), country()), 0..3),
        opt_text(),
    )
        .prop_map(
            |(role, local_ref, name, aliases, dob, place, nationality, docs, description)| Person {
                role,
                local_ref,
                name,
                aliases,
                date_of_birth: dob,
                place_of_birth: place,
                nationality,
                documents: docs
                    .into_iter()
                    .map(|(kind, number, issuing_country)| DocumentRef {
                        kind,
                        number,
                        issuing_country,
                    })
                    .collect(),
                description,
            },
        )
}

/// A subject of any of the seven kinds, with the fields each needs.
fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        person().prop_map(Subject::Person),
        (text(), texts(), prop::option::of(country()), opt_text()).prop_map(
            |(name, aliases, country, description)| {
                Subject::Organisation(Organisation {
                    name,
                    aliases,
                    country,
                    description,
                })
            }
        ),
        // a name, an IMO number or an MMSI at least: the first of the three is forced when
        // the draw left all out
        (
            opt_text(),
            prop::option::of(digits(7)),
            prop::option::of(digits(9)),
            prop::option::of(country()),
            opt_text(),
            text(),
        )
            .prop_map(|(name, imo, mmsi, flag, description, fallback)| {
                let name = if name.is_none() && imo.is_none() && mmsi.is_none() {
                    Some(fallback)
                } else {
                    name
                };
                Subject::Vessel(Vessel {
                    name,
                    imo,
                    mmsi,
                    flag,
                    description,
                })
            }),
        (opt_text(), prop::option::of(country()), opt_text(), text()).prop_map(
            |(registration, country, description, fallback)| {
                let registration = match (&registration, &description) {
                    (None, None) => Some(fallback),
                    _ => registration,
                };
                Subject::Vehicle(Vehicle {
                    registration,
                    country,
                    description,
                })
            }
        ),
        ((8usize..=15).prop_flat_map(digits), opt_text()).prop_map(|(d, description)| {
            Subject::Phone(Phone {
                number: format!("+{d}"),
                description,
            })
        }),
        (text(), opt_text(), prop::option::of(country()), opt_text()).prop_map(
            |(identifier, institution, country, holder)| {
                Subject::Account(Account {
                    identifier,
                    institution,
                    country,
                    holder,
                })
            }
        ),
        (
            document_kind(),
            text(),
            country(),
            opt_text(),
            prop::option::of(prop::sample::select(DocumentAssessment::ALL.to_vec())),
        )
            .prop_map(|(kind, number, issuing_country, holder, assessment)| {
                Subject::TravelDocument(TravelDocument {
                    kind,
                    number,
                    issuing_country,
                    holder,
                    assessment,
                })
            }),
    ]
}

/// A route leg, its dates in order when it has both.
fn leg() -> impl Strategy<Value = RouteLeg> {
    (
        country(),
        prop::sample::select(LegRole::ALL.to_vec()),
        opt_text(),
        prop::option::of(date()),
        prop::option::of(0i64..400),
    )
        .prop_map(|(country, role, place, from, days)| RouteLeg {
            country,
            role,
            place,
            from,
            // `until` only with `from` here, so that it is never before it
            until: from
                .zip(days)
                .map(|(f, d)| f.start().plus_secs(d * 86_400).date()),
        })
}

fn record_id() -> impl Strategy<Value = RecordId> {
    any::<[u8; 32]>().prop_map(RecordId::from_bytes)
}

/// What a record refers to: nothing, an earlier record it corrects, or one it withdraws.
#[derive(Clone, Debug)]
enum Amends {
    Nothing,
    Corrects(RecordId),
    Withdraws(RecordId),
}

fn amends() -> impl Strategy<Value = Amends> {
    prop_oneof![
        Just(Amends::Nothing),
        record_id().prop_map(Amends::Corrects),
        record_id().prop_map(Amends::Withdraws),
    ]
}

const AGENCIES: [&str; 4] = ["TR-JGK", "PK-FIA", "GR-HCG", "IR-FARAJA"];

/// A valid record of any category with the fields that category needs (`addressed_to` on a
/// request, `responds_to` on a response, `return_status` on a return update), any subjects
/// (victims with identifying fields make it carry a purpose), route legs with dates, any
/// handling code (H3 with its restriction text), and possibly correcting or withdrawing an
/// earlier record.
fn record() -> impl Strategy<Value = Record> {
    (
        (
            prop::sample::select(AGENCIES.to_vec()),
            1usize..AGENCIES.len(),
            1u64..=u64::MAX,
            prop::sample::select(Category::ALL.to_vec()),
            prop::sample::select(HandlingCode::ALL.to_vec()),
            text(),
            ("[ABCX]", "[1-4]"),
        ),
        (
            0i64..4_000_000_000,
            prop::option::of(1i64..100_000_000),
            prop::collection::vec(subject(), 0..6),
            prop::collection::vec(leg(), 0..5),
            text(),
            prop::sample::select(VictimPurpose::ALL.to_vec()),
        ),
        (
            amends(),
            record_id(),
            prop::option::of(record_id()),
            prop::sample::select(ReturnStatus::ALL.to_vec()),
        ),
    )
        .prop_map(
            |(
                (orig, to, seq, category, handling, restriction, (source, info)),
                (created, expires_in, subjects, route, summary, purpose),
                (amends, request, case, status),
            )| {
                let originator_index = AGENCIES.iter().position(|a| *a == orig).unwrap();
                let addressee = AGENCIES[(originator_index + to) % AGENCIES.len()];
                let created = Timestamp::from_unix(created).unwrap();
                let (corrects, withdraws) = match amends {
                    Amends::Nothing => (None, None),
                    Amends::Corrects(id) => (Some(id), None),
                    Amends::Withdraws(id) => (None, Some(id)),
                };
                let mut r = Record {
                    v: 1,
                    originator: AgencyId::new(orig).unwrap(),
                    agreement: AgreementId::new("QUAD-2026").unwrap(),
                    seq: Seq::new(seq).unwrap(),
                    category,
                    handling,
                    handling_restriction: (handling == HandlingCode::H3).then_some(restriction),
                    grading: Grading::parse(&format!("{source}{info}")).unwrap(),
                    created,
                    expires: expires_in.map(|d| created.plus_secs(d)),
                    subjects,
                    route,
                    summary,
                    victim_data_purpose: None,
                    corrects,
                    withdraws,
                    responds_to: match category {
                        Category::Response => Some(request),
                        Category::ReturnCoordination => case,
                        _ => None,
                    },
                    addressed_to: (category == Category::RequestForInformation)
                        .then(|| AgencyId::new(addressee).unwrap()),
                    return_status: (category == Category::ReturnCoordination).then_some(status),
                };
                r.victim_data_purpose = r.has_victim_identifying_data().then_some(purpose);
                r
            },
        )
}

#[test]
fn the_generator_covers_the_whole_model() {
    // the property tests below are only as good as the records they draw: every subject kind,
    // category, role and handling code, victims with identifying data, partial dates of
    // birth, dated legs and corrections and withdrawals must all come up, and every record
    // drawn must be valid
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = record();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..2000 {
        let r = strategy.new_tree(&mut runner).unwrap().current();
        r.validate()
            .unwrap_or_else(|e| panic!("the generator drew an invalid record: {e}\n{r:?}"));
        seen.insert(format!("category {}", r.category));
        seen.insert(format!("handling {}", r.handling));
        for s in &r.subjects {
            let kind = match s {
                Subject::Person(p) => {
                    seen.insert(format!("role {}", p.role));
                    if let Some(dob) = p.date_of_birth {
                        seen.insert(format!(
                            "date of birth of {} characters",
                            dob.to_string().len()
                        ));
                    }
                    "person"
                }
                Subject::Organisation(_) => "organisation",
                Subject::Vessel(_) => "vessel",
                Subject::Vehicle(_) => "vehicle",
                Subject::Phone(_) => "phone",
                Subject::Account(_) => "account",
                Subject::TravelDocument(_) => "travel-document",
            };
            seen.insert(format!("subject {kind}"));
        }
        if let Some(p) = r.victim_data_purpose {
            seen.insert(format!("victim data purpose {p}"));
        }
        if r.route
            .iter()
            .any(|l| l.from.is_some() && l.until.is_some())
        {
            seen.insert("dated leg".into());
        }
        if r.corrects.is_some() {
            seen.insert("corrects".into());
        }
        if r.withdraws.is_some() {
            seen.insert("withdraws".into());
        }
    }
    let mut expected: Vec<String> = Category::ALL
        .iter()
        .map(|c| format!("category {c}"))
        .chain(HandlingCode::ALL.iter().map(|h| format!("handling {h}")))
        .chain(PersonRole::ALL.iter().map(|r| format!("role {r}")))
        .chain(
            VictimPurpose::ALL
                .iter()
                .map(|p| format!("victim data purpose {p}")),
        )
        .chain([4, 7, 10].map(|n| format!("date of birth of {n} characters")))
        .collect();
    expected.extend(
        [
            "person",
            "organisation",
            "vessel",
            "vehicle",
            "phone",
            "account",
            "travel-document",
        ]
        .map(|k| format!("subject {k}")),
    );
    expected.extend(["dated leg", "corrects", "withdraws"].map(String::from));
    for e in &expected {
        assert!(seen.contains(e), "the generator never drew: {e}");
    }
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
