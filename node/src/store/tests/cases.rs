// The store's test cases, included by tests/mod.rs once per engine (no inner attributes
// or docs here: include! takes items only).
//
// Why one long file: its tests share the fixtures at its top (keys, records, a private data
// directory); tests/mod.rs says when it is to be split.

use std::collections::{BTreeMap, BTreeSet};

use accord_protocol::record::{Person, Phone, RouteLeg, Vessel};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Grading, HandlingCode, LegRole, PersonRole,
    PublicKey, Record, RecordId, SecretKey, Seq, SignedRecord, Subject, Timestamp, Verified, sign,
    verify,
};

use crate::store::*;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

struct Keys {
    secret: BTreeMap<AgencyId, SecretKey>,
    public: BTreeMap<AgencyId, PublicKey>,
}

fn keys() -> Keys {
    let mut secret = BTreeMap::new();
    for (i, a) in ["TR-JGK", "PK-FIA", "GR-HCG"].iter().enumerate() {
        secret.insert(
            AgencyId::new(a).unwrap(),
            SecretKey::from_seed(&[i as u8 + 1; 32]),
        );
    }
    let public = secret
        .iter()
        .map(|(a, k)| (a.clone(), k.public_key()))
        .collect();
    Keys { secret, public }
}

fn record(originator: &str, agreement: &str, seq: u64, i: u64) -> Record {
    let c = |s| Country::new(s).unwrap();
    let countries = ["PK", "IR", "TR", "GR", "BG", "AF"];
    let category = Category::ALL[(i % 8) as usize];
    let mut subjects = vec![Subject::Phone(Phone {
        number: format!("+92300{:07}", i % 5000),
        description: None,
    })];
    if i.is_multiple_of(3) {
        subjects.push(Subject::Person(Person {
            role: PersonRole::Suspect,
            local_ref: None,
            name: Some(format!("Person  {} Example", i % 1000)),
            aliases: vec![],
            date_of_birth: None,
            place_of_birth: None,
            nationality: None,
            documents: vec![],
            description: None,
        }));
    }
    if i.is_multiple_of(7) {
        subjects.push(Subject::Vessel(Vessel {
            name: Some("Deniz Yildizi".into()),
            imo: Some(format!("{:07}", 9_000_000 + i % 100)),
            mmsi: None,
            flag: None,
            description: None,
        }));
    }
    Record {
        v: 1,
        originator: AgencyId::new(originator).unwrap(),
        agreement: AgreementId::new(agreement).unwrap(),
        seq: Seq::new(seq).unwrap(),
        category,
        handling: HandlingCode::H1,
        handling_restriction: None,
        grading: Grading::parse("B2").unwrap(),
        created: ts("2026-01-01T00:00:00Z").plus_secs(i as i64 * 60),
        expires: None,
        subjects,
        route: vec![
            RouteLeg {
                country: c(countries[(i % 6) as usize]),
                role: LegRole::Source,
                place: None,
                from: None,
                until: None,
            },
            RouteLeg {
                country: c(countries[((i + 2) % 6) as usize]),
                role: LegRole::Destination,
                place: None,
                from: None,
                until: None,
            },
        ],
        summary: format!("record {i}"),
        victim_data_purpose: None,
        corrects: None,
        withdraws: None,
        responds_to: None,
        addressed_to: None,
        return_status: None,
    }
}

fn verified(k: &Keys, r: &Record) -> Verified<SignedRecord> {
    let env = sign(r, &k.secret[&r.originator]).unwrap();
    verify(env, &k.public).unwrap()
}

/// A new temporary directory that only this user may enter, as a data directory must be.
pub(crate) fn private_tempdir() -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
}

fn now() -> Timestamp {
    ts("2026-11-28T12:00:00Z")
}

#[test]
fn reopening_keeps_everything() {
    let dir = private_tempdir().unwrap();
    let k = keys();
    let recs: Vec<_> = (1..=50)
        .map(|i| verified(&k, &record("PK-FIA", "QUAD-2026", i, i)))
        .collect();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    {
        let store = open(dir.path()).unwrap();
        store
            .records().insert_batch(
                &recs,
                &Source::Peer(AgencyId::new("PK-FIA").unwrap()),
                now(),
            )
            .unwrap();
        let own = store
            .own().publish(
                &agreement,
                &AgencyId::new("TR-JGK").unwrap(),
                now(),
                &[],
                |seq| Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", seq.get(), 999))),
            )
            .unwrap()
            .unwrap();
        assert!(store.records().contains(&own).unwrap());
        store.flush().unwrap();
    }
    // sled releases its file lock a moment after the last handle drops (its background
    // threads hold the file until they finish); a restart waits for it like `accord run` does
    let store = open_waiting(dir.path(), std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(store.records().len(), 51);
    for r in &recs {
        let got = store.records().get(&r.id).unwrap().unwrap();
        assert_eq!(got.envelope, r.envelope, "exact envelope bytes kept");
        assert_eq!(got.source, Source::Peer(AgencyId::new("PK-FIA").unwrap()));
        assert_eq!(got.received_at, now());
    }
    assert_eq!(store.own().counter(&agreement).unwrap(), Some(Seq::FIRST));
    assert_eq!(store.queries().records_under(&agreement).unwrap().len(), 51);
}

#[test]
fn an_unknown_schema_version_is_refused() {
    let dir = private_tempdir().unwrap();
    {
        let store = open(dir.path()).unwrap();
        store
            .raw_tree()
            .insert(keys::schema(), 7u32.to_be_bytes())
            .unwrap();
        store.flush().unwrap();
    }
    let err = open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("schema version 7; this accord reads version 1"),
        "{err}"
    );
}

#[test]
fn a_file_is_not_a_store() {
    let dir = private_tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = open(&file).unwrap_err().to_string();
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn publish_numbers_gap_free_and_a_failed_build_uses_no_seq() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let first = store
        .own().publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |s| Ok::<_, String>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1))),
        )
        .unwrap()
        .unwrap();
    let failed = store
        .own().publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |_| Err::<Verified<SignedRecord>, _>("refused by policy".to_owned()),
        )
        .unwrap();
    assert_eq!(failed.unwrap_err(), "refused by policy");
    let second = store
        .own().publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |s| Ok::<_, String>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 2))),
        )
        .unwrap()
        .unwrap();
    assert_eq!(store.records().get(&first).unwrap().unwrap().record.seq.get(), 1);
    assert_eq!(store.records().get(&second).unwrap().unwrap().record.seq.get(), 2);
    assert_eq!(store.records().len(), 2);
    // a build that returns the wrong seq is refused and nothing is stored
    let err = store
        .own().publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |_| Ok::<_, String>(verified(&k, &record("TR-JGK", "QUAD-2026", 9, 3))),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::SeqMismatch { .. }), "{err}");
    assert_eq!(store.records().len(), 2);
}

#[test]
fn duplicates_equivocations_and_purges() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let from = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let a = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let b = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 2)); // same seq, different content
    let out = store
        .records().insert_batch(&[a.clone(), a.clone()], &from, now())
        .unwrap();
    assert_eq!(
        out,
        vec![InsertOutcome::Stored(a.id), InsertOutcome::Duplicate(a.id)]
    );
    let out = store
        .records().insert_batch(std::slice::from_ref(&b), &from, now())
        .unwrap();
    assert_eq!(
        out,
        vec![InsertOutcome::Equivocation {
            id: b.id,
            existing: a.id
        }]
    );
    assert!(
        !store.records().contains(&b.id).unwrap(),
        "the second record is evidence, not a record"
    );
    assert_eq!(store.records().equivocations().unwrap().len(), 1);
    assert_eq!(store.records().equivocations().unwrap()[0].1, b.envelope);

    let phone = SubjectQuery::parse("phone:+923000000001").unwrap();
    assert_eq!(
        store
            .queries().query(&Query {
                subject: Some(phone.clone()),
                ..Query::default()
            })
            .unwrap()
            .len(),
        1
    );
    let tombs = store
        .records().purge(&[a.id], now(), "retention of QUAD-2026 (1095 days) passed")
        .unwrap();
    assert_eq!(tombs.len(), 1);
    assert!(!store.records().contains(&a.id).unwrap());
    assert!(
        store
            .queries().query(&Query {
                subject: Some(phone),
                ..Query::default()
            })
            .unwrap()
            .is_empty(),
        "index entries removed"
    );
    assert_eq!(store.records().tombstone(&a.id).unwrap().unwrap().seq, Seq::FIRST);
    // a purged record offered again is not stored again
    assert_eq!(
        store
            .records().insert_batch(std::slice::from_ref(&a), &from, now())
            .unwrap(),
        vec![InsertOutcome::Purged(a.id)]
    );
    // only the tombstone's keys and the seq slot remain besides the schema and evidence
    let records = store.raw_tree().scan_prefix([keys::RECORD]).count();
    assert_eq!(records, 0);
}

#[test]
fn withdrawals_are_found_from_the_withdrawn_record() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let a = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let mut w = record("PK-FIA", "QUAD-2026", 2, 2);
    w.withdraws = Some(a.id);
    let w = verified(&k, &w);
    store
        .records().insert_batch(&[a.clone(), w.clone()], &Source::Local, now())
        .unwrap();
    assert_eq!(store.queries().withdrawn_by(&a.id).unwrap(), Some(w.id));
    assert_eq!(store.queries().withdrawn_by(&w.id).unwrap(), None);
}

const ORIGINATORS: [&str; 3] = ["TR-JGK", "PK-FIA", "GR-HCG"];
const COUNTRIES: [&str; 6] = ["PK", "IR", "TR", "GR", "BG", "AF"];

/// Record `i` of the hundred-thousand: [`record`] with every category of the vocabulary (each
/// with the fields it requires), a transit leg on every fourth, and subjects of every kind the
/// store indexes, their spellings varied the ways a person writes them.
fn varied_record(o: usize, agreement: &str, seq: u64, i: u64) -> Record {
    use accord_protocol::record::{
        Account, DocumentRef, Organisation, ReturnStatus, TravelDocument, Vehicle,
    };
    use accord_protocol::{DocumentKind, PartialDate, VictimPurpose};
    let c = |s| Country::new(s).unwrap();
    let mut r = record(ORIGINATORS[o], agreement, seq, i);
    // i % 6 fixes originator and agreement, so categories change every six records and
    // every category meets every (originator, agreement)
    r.category = Category::ALL[((i / 6) % 12) as usize];
    match r.category {
        Category::RequestForInformation => {
            r.addressed_to = Some(AgencyId::new(ORIGINATORS[(o + 1) % 3]).unwrap());
        }
        Category::Response => {
            r.responds_to = Some(RecordId::from_bytes([(i % 251) as u8; 32]));
        }
        Category::ReturnCoordination => {
            r.return_status = Some(ReturnStatus::ALL[(i % 6) as usize]);
        }
        _ => {}
    }
    let victim = r.category == Category::VictimIdentification;
    for s in &mut r.subjects {
        if let Subject::Person(p) = s {
            // one name in four with no date of birth, the others to the year, month or day
            p.date_of_birth = match (i / 3000) % 4 {
                0 => None,
                1 => Some(PartialDate::parse("1981").unwrap()),
                2 => Some(PartialDate::parse("1981-04").unwrap()),
                _ => Some(PartialDate::parse("1981-04-12").unwrap()),
            };
            if i.is_multiple_of(9) {
                p.aliases.push(format!("P. {} Alias", i % 1000));
            }
            if i.is_multiple_of(5) {
                p.documents.push(DocumentRef {
                    kind: DocumentKind::Passport,
                    number: format!("P{:07}", i % 400),
                    issuing_country: c("PK"),
                });
            }
            if victim {
                p.role = PersonRole::Victim;
                r.victim_data_purpose = Some(VictimPurpose::Identification);
            }
        }
    }
    for s in &mut r.subjects {
        if let Subject::Vessel(v) = s {
            v.name =
                Some(["Deniz Yildizi", "SEA  STAR", "blue wave"][((i / 7) % 3) as usize].into());
            if i.is_multiple_of(14) {
                v.mmsi = Some(format!("271{:06}", i % 1000));
            }
        }
    }
    if i.is_multiple_of(11) {
        r.subjects.push(Subject::TravelDocument(TravelDocument {
            kind: DocumentKind::Passport,
            number: if (i / 400).is_multiple_of(2) {
                format!("P-{:07}", i % 400)
            } else {
                format!("p{:07}", i % 400)
            },
            issuing_country: c("PK"),
            holder: None,
            assessment: None,
        }));
    }
    if i.is_multiple_of(13) {
        r.subjects.push(Subject::Account(Account {
            identifier: if (i / 300).is_multiple_of(2) {
                format!("TR33 0006 {:04}", i % 300)
            } else {
                format!("tr330006{:04}", i % 300)
            },
            institution: None,
            country: None,
            holder: None,
        }));
    }
    if i.is_multiple_of(17) {
        r.subjects.push(Subject::Organisation(Organisation {
            name: if (i / 50).is_multiple_of(2) {
                format!("Org {} Travel", i % 50)
            } else {
                format!("ORG {}  TRAVEL", i % 50)
            },
            aliases: vec![],
            country: None,
            description: None,
        }));
    }
    if i.is_multiple_of(19) {
        r.subjects.push(Subject::Vehicle(Vehicle {
            registration: Some(format!("34 AB {:03}", i % 200)),
            country: None,
            description: None,
        }));
    }
    if i.is_multiple_of(4) {
        r.route.push(RouteLeg {
            country: c(COUNTRIES[((i / 4 + 3) % 6) as usize]),
            role: LegRole::Transit,
            place: None,
            from: None,
            until: None,
        });
    }
    r
}

/// The names a record gives a person, aliases included.
fn person_names(r: &Record) -> impl Iterator<Item = (&str, &Person)> {
    r.persons().flat_map(|p| {
        p.name
            .iter()
            .chain(&p.aliases)
            .map(move |n| (n.as_str(), p))
    })
}

#[test]
fn a_hundred_thousand_records_and_every_index_answers() {
    use accord_protocol::PartialDate;
    use accord_protocol::record::{Account, Organisation, TravelDocument, Vehicle};
    const N: u64 = 100_000;
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let agreements = ["QUAD-2026", "TR-BG-2026"];
    let mut all: Vec<(RecordId, Record)> = Vec::with_capacity(N as usize);
    let mut seqs: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut batch = Vec::with_capacity(1000);
    for i in 0..N {
        let (o, a) = ((i % 3) as usize, (i % 2) as usize);
        let seq = seqs.entry((o, a)).or_insert(0);
        *seq += 1;
        let r = varied_record(o, agreements[a], *seq, i);
        let v = verified(&k, &r);
        all.push((v.id, r));
        batch.push(v);
        if batch.len() == 1000 {
            let out = store.records().insert_batch(&batch, &Source::Local, now()).unwrap();
            assert!(out.iter().all(|o| matches!(o, InsertOutcome::Stored(_))));
            batch.clear();
        }
    }
    store.flush().unwrap();
    assert_eq!(store.records().len(), N as usize);

    // the store's answer is exactly the brute-force filter over the generated records; the
    // filters below name the raw spellings the generator wrote, not the store's normalisation
    let answer = |q: &Query| -> BTreeSet<RecordId> {
        store.queries().query(q).unwrap().into_iter().map(|r| r.id).collect()
    };
    let brute = |pred: &dyn Fn(&Record) -> bool| -> BTreeSet<RecordId> {
        all.iter()
            .filter(|(_, r)| pred(r))
            .map(|(id, _)| *id)
            .collect()
    };
    let check = |q: Query, pred: &dyn Fn(&Record) -> bool, what: &str| {
        let want = brute(pred);
        assert!(!want.is_empty(), "{what}: the test expects matches");
        assert!(want.len() < N as usize, "{what}: the test expects a filter");
        assert_eq!(answer(&q), want, "{what}");
    };
    let subject = |text: &str| Query {
        subject: Some(SubjectQuery::parse(text).unwrap()),
        ..Query::default()
    };

    // every category of the vocabulary
    assert_eq!(Category::ALL.len(), 12);
    for c in Category::ALL {
        check(
            Query {
                category: Some(*c),
                ..Query::default()
            },
            &|r| r.category == *c,
            c.as_str(),
        );
    }
    // agreement
    for a in agreements {
        let id = AgreementId::new(a).unwrap();
        check(
            Query {
                agreement: Some(id.clone()),
                ..Query::default()
            },
            &|r| r.agreement == id,
            a,
        );
    }
    let none = Query {
        agreement: Some(AgreementId::new("GR-BG-2026").unwrap()),
        ..Query::default()
    };
    assert!(answer(&none).is_empty(), "an agreement with no records");
    // route country, with each role and with none
    for cc in COUNTRIES {
        let country = Country::new(cc).unwrap();
        for role in [LegRole::Source, LegRole::Transit, LegRole::Destination] {
            check(
                Query {
                    country: Some((country, Some(role))),
                    ..Query::default()
                },
                &|r| {
                    r.route
                        .iter()
                        .any(|l| l.country == country && l.role == role)
                },
                &format!("{cc} {role}"),
            );
        }
        check(
            Query {
                country: Some((country, None)),
                ..Query::default()
            },
            &|r| r.route.iter().any(|l| l.country == country),
            cc,
        );
    }
    let nowhere = Query {
        country: Some((Country::new("FR").unwrap(), None)),
        ..Query::default()
    };
    assert!(answer(&nowhere).is_empty(), "a country on no route");
    // created time: --since is inclusive, and past the last record nothing
    let created: Vec<Timestamp> = all.iter().map(|(_, r)| r.created).collect();
    for since in [
        ts("2026-03-01T00:00:00Z"),
        created[50_000],
        created[N as usize - 1],
    ] {
        check(
            Query {
                since: Some(since),
                ..Query::default()
            },
            &|r| r.created >= since,
            &format!("since {since}"),
        );
    }
    assert_eq!(
        answer(&Query {
            since: Some(created[N as usize - 1]),
            ..Query::default()
        })
        .len(),
        1,
        "the last record, created exactly then"
    );
    assert!(
        answer(&Query {
            since: Some(created[N as usize - 1].plus_secs(1)),
            ..Query::default()
        })
        .is_empty()
    );

    // subjects. A person's name, any case and spacing; a name is also found by its alias
    check(
        subject("person:person 42 EXAMPLE"),
        &|r| person_names(r).any(|(n, _)| n == "Person  42 Example"),
        "person",
    );
    check(
        subject("person:p. 45   alias"),
        &|r| person_names(r).any(|(n, _)| n == "P. 45 Alias"),
        "person by alias",
    );
    // a person's name with date of birth: only the same date, to the same precision
    for born in ["1981", "1981-04", "1981-04-12"] {
        let dob = PartialDate::parse(born).unwrap();
        check(
            subject(&format!("person:PERSON 42 example@{born}")),
            &|r| {
                person_names(r)
                    .any(|(n, p)| n == "Person  42 Example" && p.date_of_birth == Some(dob))
            },
            &format!("person born {born}"),
        );
    }
    check(
        subject("person-born:p. 45 alias @ 1981-04-12"),
        &|r| {
            person_names(r).any(|(n, p)| {
                n == "P. 45 Alias"
                    && p.date_of_birth == Some(PartialDate::parse("1981-04-12").unwrap())
            })
        },
        "alias born",
    );
    assert!(
        answer(&subject("person:Person 42 Example@1982")).is_empty(),
        "a name with a date of birth nobody has"
    );
    // a phone number, any spacing and punctuation
    check(
        subject("phone:+92 (300) 000-1234"),
        &|r| {
            r.subjects
                .iter()
                .any(|s| matches!(s, Subject::Phone(p) if p.number == "+923000001234"))
        },
        "phone",
    );
    // a vessel by name (any case and spacing), by IMO number, by MMSI; a bare value is
    // looked up under every kind
    for (query, name) in [
        ("vessel:deniz yildizi", "Deniz Yildizi"),
        ("vessel:Sea Star", "SEA  STAR"),
        ("vessel:BLUE WAVE", "blue wave"),
    ] {
        check(
            subject(query),
            &|r| {
                r.subjects
                    .iter()
                    .any(|s| matches!(s, Subject::Vessel(v) if v.name.as_deref() == Some(name)))
            },
            query,
        );
    }
    let imo = |r: &Record| {
        r.subjects
            .iter()
            .any(|s| matches!(s, Subject::Vessel(v) if v.imo.as_deref() == Some("9000014")))
    };
    check(subject("imo:IMO 9000014"), &imo, "imo");
    check(subject("9000014"), &imo, "imo (bare value)");
    check(
        subject("mmsi:271 000 028"),
        &|r| {
            r.subjects
                .iter()
                .any(|s| matches!(s, Subject::Vessel(v) if v.mmsi.as_deref() == Some("271000028")))
        },
        "mmsi",
    );
    // a travel document number, any case and punctuation: a travel-document subject and a
    // document a person holds answer alike
    let document = |r: &Record| {
        r.subjects.iter().any(|s| match s {
            Subject::TravelDocument(TravelDocument { number, .. }) => {
                number == "P-0000045" || number == "p0000045"
            }
            Subject::Person(p) => p.documents.iter().any(|d| d.number == "P0000045"),
            _ => false,
        })
    };
    check(subject("document:p 000 0045"), &document, "document");
    for (what, form) in [
        (
            "held by a person",
            &(|r: &Record| {
                r.persons()
                    .any(|p| p.documents.iter().any(|d| d.number == "P0000045"))
            }) as &dyn Fn(&Record) -> bool,
        ),
        ("written P-0000045", &|r: &Record| {
            r.subjects
                .iter()
                .any(|s| matches!(s, Subject::TravelDocument(d) if d.number == "P-0000045"))
        }),
        ("written p0000045", &|r: &Record| {
            r.subjects
                .iter()
                .any(|s| matches!(s, Subject::TravelDocument(d) if d.number == "p0000045"))
        }),
    ] {
        assert!(!brute(form).is_empty(), "the document is {what}");
    }
    // a subject of one kind written as one of `spelling`
    let written = |text: fn(&Subject) -> Option<&str>, spelling: &'static [&'static str]| {
        move |r: &Record| {
            r.subjects
                .iter()
                .filter_map(text)
                .any(|t| spelling.contains(&t))
        }
    };
    fn account_id(s: &Subject) -> Option<&str> {
        match s {
            Subject::Account(Account { identifier, .. }) => Some(identifier.as_str()),
            _ => None,
        }
    }
    let account = |spelling| written(account_id, spelling);
    // an account, any case, spacing and punctuation
    check(
        subject("account:tr33-0006-0042"),
        &account(&["TR33 0006 0042", "tr3300060042"]),
        "account",
    );
    assert!(
        !brute(&account(&["TR33 0006 0042"])).is_empty()
            && !brute(&account(&["tr3300060042"])).is_empty(),
        "the account is written both ways"
    );
    // an organisation, any case and spacing
    fn organisation_name(s: &Subject) -> Option<&str> {
        match s {
            Subject::Organisation(Organisation { name, .. }) => Some(name.as_str()),
            _ => None,
        }
    }
    let organisation = |spelling| written(organisation_name, spelling);
    check(
        subject("org:org 7 travel"),
        &organisation(&["Org 7 Travel", "ORG 7  TRAVEL"]),
        "organisation",
    );
    assert!(
        !brute(&organisation(&["Org 7 Travel"])).is_empty()
            && !brute(&organisation(&["ORG 7  TRAVEL"])).is_empty(),
        "the organisation is written both ways"
    );
    // a vehicle registration
    check(
        subject("vehicle:34ab042"),
        &|r| {
            r.subjects.iter().any(|s| {
                matches!(s, Subject::Vehicle(Vehicle { registration: Some(n), .. })
                    if n == "34 AB 042")
            })
        },
        "vehicle",
    );
    for unknown in [
        "phone:+44 20 7946 0000",
        "document:X9999999",
        "account:DE00",
        "org:Nobody Travel",
        "vessel:Nameless",
    ] {
        assert!(answer(&subject(unknown)).is_empty(), "{unknown}");
    }

    // filters combined: every given filter holds, whichever index answers first
    let since = ts("2026-03-01T00:00:00Z");
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let tr = Country::new("TR").unwrap();
    check(
        Query {
            agreement: Some(quad.clone()),
            category: Some(Category::SmugglingNetwork),
            country: Some((tr, None)),
            since: Some(since),
            ..Query::default()
        },
        &|r| {
            r.agreement == quad
                && r.category == Category::SmugglingNetwork
                && r.created >= since
                && r.route.iter().any(|l| l.country == tr)
        },
        "combined",
    );
    check(
        Query {
            subject: Some(SubjectQuery::parse("phone:+923000001234").unwrap()),
            agreement: Some(quad.clone()),
            country: Some((tr, Some(LegRole::Source))),
            ..Query::default()
        },
        &|r| {
            r.agreement == quad
                && r.route
                    .iter()
                    .any(|l| l.country == tr && l.role == LegRole::Source)
                && r.subjects
                    .iter()
                    .any(|s| matches!(s, Subject::Phone(p) if p.number == "+923000001234"))
        },
        "subject combined",
    );
    // the seq index: every (agreement, originator) sequence is complete
    for ((o, a), max) in &seqs {
        let (orig, agr) = (
            AgencyId::new(ORIGINATORS[*o]).unwrap(),
            AgreementId::new(agreements[*a]).unwrap(),
        );
        for s in [1, max / 2, *max] {
            let id = store
                .records().by_seq(&agr, &StreamId::agency(&orig), Seq::new(s).unwrap())
                .unwrap()
                .unwrap();
            let r = store.records().get(&id).unwrap().unwrap().record;
            assert_eq!(
                (r.originator, r.agreement, r.seq.get()),
                (orig.clone(), agr.clone(), s)
            );
        }
        assert!(
            store
                .records().by_seq(&agr, &StreamId::agency(&orig), Seq::new(max + 1).unwrap())
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn an_own_record_not_yet_flushed_never_leaves_the_store() {
    // invariant 4: numbered records leave the node only once durable; a record lost in a crash
    // would otherwise have its seq numbered again for another record
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store
        .bind_agency(&AgencyId::new("TR-JGK").unwrap())
        .unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let (tr, pk) = (
        AgencyId::new("TR-JGK").unwrap(),
        AgencyId::new("PK-FIA").unwrap(),
    );
    let stream = StreamId::agency(&tr);
    let first = store
        .own().publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1)))
        })
        .unwrap()
        .unwrap();
    let staged = store
        .stage_publish(
            &agreement,
            &tr,
            now(),
            std::slice::from_ref(&pk),
            None,
            |s| Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 2))),
        )
        .unwrap()
        .unwrap();
    assert!(store.records().contains(&staged).unwrap(), "written");
    let ids = |v: Vec<(OutboxEntry, accord_protocol::Envelope)>| -> Vec<RecordId> {
        v.into_iter().map(|(_, e)| e.id()).collect()
    };
    let range_all = || {
        store
            .sync().range(
                &agreement,
                &stream,
                Seq::FIRST,
                Seq::new(9).unwrap(),
                10,
                1 << 20,
            )
            .unwrap()
    };
    assert_eq!(ids(store.outbox().for_peer(&pk, 10, |_| false).unwrap()), [first]);
    let (range, complete) = range_all();
    assert_eq!(range.iter().map(|e| e.id()).collect::<Vec<_>>(), [first]);
    assert!(
        !complete,
        "the range stops short of the record not yet durable"
    );
    assert_eq!(store.sync().heads(&agreement).unwrap().get(&stream), Some(&1));

    store.flush().unwrap();
    assert_eq!(
        ids(store.outbox().for_peer(&pk, 10, |_| false).unwrap()),
        [first, staged]
    );
    let (range, complete) = range_all();
    assert_eq!(range.len(), 2);
    assert!(complete);
    assert_eq!(store.sync().heads(&agreement).unwrap().get(&stream), Some(&2));
}

#[test]
fn publishes_from_many_threads_share_flushes_and_each_returns_durable() {
    // group commit: eight threads publishing at once; each publish returns only after a flush
    // that began after its record was written, so when it returns its record is out of the
    // unflushed set (it may leave the node) and it is numbered without a gap
    let dir = private_tempdir().unwrap();
    let store = std::sync::Arc::new(open(dir.path()).unwrap());
    let k = std::sync::Arc::new(keys());
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (store, k, agreement, tr) =
                (store.clone(), k.clone(), agreement.clone(), tr.clone());
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        let id = store
                            .own().publish(&agreement, &tr, now(), &[], |s| {
                                Ok::<_, ()>(verified(
                                    &k,
                                    &record("TR-JGK", "QUAD-2026", s.get(), t * 100 + i),
                                ))
                            })
                            .unwrap()
                            .unwrap();
                        assert!(!store.is_unflushed(&id), "returned before durable");
                        id
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: Vec<RecordId> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), 200);
    let stream = StreamId::agency(&tr);
    assert_eq!(store.sync().heads(&agreement).unwrap().get(&stream), Some(&200));
    let mut seqs: Vec<u64> = ids
        .iter()
        .map(|id| store.records().get(id).unwrap().unwrap().record.seq.get())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let g = store.group();
    assert_eq!(g.done, g.asked, "every flush asked for was done");
    assert!(!g.running && g.failed.is_none());
}

#[test]
fn publish_never_reuses_a_seq_learnt_back_from_partners() {
    // a store restored from an old backup: the counter says 1, but catch-up brought back our
    // records 2 and 3 from partners
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    store
        .own().publish(&agreement, &tr, now(), &[], |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1)))
        })
        .unwrap()
        .unwrap();
    let back: Vec<_> = (2..=3)
        .map(|s| verified(&k, &record("TR-JGK", "QUAD-2026", s, s)))
        .collect();
    store
        .records().insert_batch(
            &back,
            &Source::Peer(AgencyId::new("PK-FIA").unwrap()),
            now(),
        )
        .unwrap();
    let id = store
        .own().publish(&agreement, &tr, now(), &[], |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 9)))
        })
        .unwrap()
        .unwrap();
    assert_eq!(store.records().get(&id).unwrap().unwrap().record.seq.get(), 4);
}

#[test]
fn a_partner_checkpoint_is_never_replaced_and_a_second_history_is_kept_as_a_fork() {
    use accord_protocol::audit::{Checkpoint, Digest32, sign_checkpoint};
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let key = SecretKey::from_seed(&[5; 32]);
    let gr = AgencyId::new("GR-HCG").unwrap();
    let honest = Checkpoint {
        agency: gr.clone(),
        count: 7,
        head: Digest32([1; 32]),
        time: now(),
    };
    let rewritten = Checkpoint {
        head: Digest32([2; 32]),
        ..honest.clone()
    };
    let s1 = sign_checkpoint(&honest, &key).unwrap();
    let s2 = sign_checkpoint(&rewritten, &key).unwrap();
    assert_eq!(
        store.checkpoints().keep_partner_checkpoint(&honest, &s1).unwrap(),
        Kept::New
    );
    assert_eq!(
        store.checkpoints().keep_partner_checkpoint(&honest, &s1).unwrap(),
        Kept::Known
    );
    assert!(
        matches!(store.checkpoints().keep_partner_checkpoint(&rewritten, &s2).unwrap(), Kept::Forked { held } if held == s1)
    );
    assert_eq!(
        store.checkpoints().partner_checkpoints().unwrap(),
        vec![s1],
        "the first checkpoint stays"
    );
    assert_eq!(store.checkpoints().checkpoint_forks().unwrap(), vec![s2]);
}

#[test]
fn heads_advance_with_each_insert_as_a_fresh_scan_finds_them() {
    let dir = private_tempdir().unwrap();
    let k = keys();
    let store = open(dir.path()).unwrap();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let pk = StreamId::agency(&AgencyId::new("PK-FIA").unwrap());
    let gr = StreamId::agency(&AgencyId::new("GR-HCG").unwrap());
    let src = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let put = |originator: &str, seqs: &[u64]| {
        let recs: Vec<_> = seqs
            .iter()
            .map(|s| verified(&k, &record(originator, "QUAD-2026", *s, *s)))
            .collect();
        store.records().insert_batch(&recs, &src, now()).unwrap();
    };
    put("PK-FIA", &[1, 2]);
    assert_eq!(
        store.sync().heads(&quad).unwrap(),
        BTreeMap::from([(pk.clone(), 2)])
    );
    // a gap holds the head back; filling it moves it past everything held after the gap
    put("PK-FIA", &[4, 5]);
    put("GR-HCG", &[2]);
    let expected = BTreeMap::from([(pk.clone(), 2), (gr.clone(), 0)]);
    assert_eq!(store.sync().heads(&quad).unwrap(), expected);
    assert_eq!(seqs(store.scan_heads(&quad).unwrap()), expected);
    assert_eq!(
        store.sync().stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap(),
        "the digests advanced insert by insert are those of a fresh scan"
    );
    put("PK-FIA", &[3]);
    put("GR-HCG", &[1]);
    // an equivocating record takes no slot and moves nothing
    let mut other = record("PK-FIA", "QUAD-2026", 6, 99);
    other.summary = "a second record six".into();
    put("PK-FIA", &[6]);
    store
        .records().insert_batch(&[verified(&k, &other)], &src, now())
        .unwrap();
    let expected = BTreeMap::from([(pk.clone(), 6), (gr.clone(), 2)]);
    assert_eq!(store.sync().heads(&quad).unwrap(), expected);
    assert_eq!(seqs(store.scan_heads(&quad).unwrap()), expected);
    assert_eq!(
        store.sync().stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap(),
        "the digests advanced insert by insert are those of a fresh scan"
    );
    // our own publishing advances our stream too
    let tr = AgencyId::new("TR-JGK").unwrap();
    store
        .own().publish(&quad, &tr, now(), &[], |seq| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", seq.get(), 500)))
        })
        .unwrap()
        .unwrap();
    assert_eq!(store.sync().heads(&quad).unwrap()[&StreamId::agency(&tr)], 1);
    assert_eq!(
        store.sync().stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap()
    );
}

fn seqs(heads: BTreeMap<StreamId, crate::store::StreamHead>) -> BTreeMap<StreamId, u64> {
    heads.into_iter().map(|(s, h)| (s, h.seq)).collect()
}

#[test]
fn the_stream_digest_tells_two_holders_of_one_seq_apart() {
    let k = keys();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let pk = StreamId::agency(&AgencyId::new("PK-FIA").unwrap());
    let src = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let (a, b, c) = (
        private_tempdir().unwrap(),
        private_tempdir().unwrap(),
        private_tempdir().unwrap(),
    );
    let (sa, sb, sc) = (
        open(a.path()).unwrap(),
        open(b.path()).unwrap(),
        open(c.path()).unwrap(),
    );
    let one = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let two = verified(&k, &record("PK-FIA", "QUAD-2026", 2, 2));
    let mut forked = record("PK-FIA", "QUAD-2026", 2, 2);
    forked.summary = "another record two".into();
    let forked = verified(&k, &forked);
    let three = verified(&k, &record("PK-FIA", "QUAD-2026", 3, 3));
    let ids = [one.id, two.id, three.id];
    // a and b hold the same records, b in another order; c holds another record under seq 2
    sa.records().insert_batch(&[one.clone(), two.clone(), three.clone()], &src, now())
        .unwrap();
    sb.records().insert_batch(&[three.clone(), one.clone()], &src, now())
        .unwrap();
    sb.records().insert_batch(&[two], &src, now()).unwrap();
    sc.records().insert_batch(&[one.clone(), forked, three], &src, now())
        .unwrap();
    let (ha, hb, hc) = (
        sa.sync().stream_heads(&quad).unwrap()[&pk],
        sb.sync().stream_heads(&quad).unwrap()[&pk],
        sc.sync().stream_heads(&quad).unwrap()[&pk],
    );
    assert_eq!((ha.seq, hb.seq, hc.seq), (3, 3, 3));
    assert_eq!(ha.digest, hb.digest, "same records, same digest");
    assert_ne!(ha.digest, hc.digest, "one record differs under seq 2");
    // the digest is the documented fold over the ids
    let mut d = [0u8; 32];
    for id in &ids {
        d = accord_protocol::wire::stream_digest(&d, id);
    }
    assert_eq!(ha.digest, d);
    assert!(!sa.sync().has_equivocation(&quad, &pk).unwrap());
}

#[test]
fn settling_the_outbox_removes_entries_and_logs_them_in_one_batch() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let pk = AgencyId::new("PK-FIA").unwrap();
    store.bind_agency(&tr).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let ids: Vec<RecordId> = (1..=2)
        .map(|i| {
            store
                .own().publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
                    Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), i)))
                })
                .unwrap()
                .unwrap()
        })
        .collect();
    let outbox = store.outbox().for_peer(&pk, 10, |_| false).unwrap();
    assert_eq!(outbox.len(), 2);
    let before = store.log().audit_head().unwrap().count;
    let withheld = AuditEvent::Withheld {
        record: ids[0],
        to: pk.clone(),
        code: 0,
        reason: "agreement QUAD-2026 is no longer in force".into(),
    };
    store
        .outbox().settle(
            now(),
            std::slice::from_ref(&outbox[0].0),
            Vec::new(),
            vec![withheld.clone()],
        )
        .unwrap();
    // the entry left the outbox, and the log's next entry says why, with nothing between
    let left: Vec<RecordId> = store
        .outbox().for_peer(&pk, 10, |_| false)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.id())
        .collect();
    assert_eq!(left, [ids[1]]);
    let entries = store.log().audit_entries().unwrap();
    assert_eq!(entries.len() as u64, before + 1);
    let last = accord_protocol::audit::AuditEntry::decode(entries.last().unwrap()).unwrap();
    assert_eq!(last.event, withheld);
    // nothing to settle writes nothing
    store
        .outbox().settle(now(), &[], Vec::new(), Vec::new())
        .unwrap();
    assert_eq!(store.log().audit_head().unwrap().count, before + 1);
}

#[test]
fn a_batch_larger_than_one_apply_is_stored_whole_with_a_chained_entry_per_chunk() {
    use accord_protocol::audit::{AuditEntry, Digest32, entry_hash};
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store
        .bind_agency(&AgencyId::new("TR-JGK").unwrap())
        .unwrap();
    let k = keys();
    let n = 3 * crate::store::APPLY_RECORDS as u64 + 5;
    let mut recs: Vec<_> = (1..=n)
        .map(|i| verified(&k, &record("PK-FIA", "QUAD-2026", i, i)))
        .collect();
    // a duplicate inside the batch, across a chunk boundary: stored once
    recs.push(recs[2].clone());
    let out = store
        .records().insert_batch(
            &recs,
            &Source::Peer(AgencyId::new("PK-FIA").unwrap()),
            now(),
        )
        .unwrap();
    let stored = out
        .iter()
        .filter(|o| matches!(o, InsertOutcome::Stored(_)))
        .count();
    assert_eq!(stored as u64, n);
    assert!(matches!(out.last(), Some(InsertOutcome::Duplicate(_))));
    for v in &recs {
        assert!(store.records().get(&v.id).unwrap().is_some());
    }
    // one receive-batch entry per chunk applied, naming its records in the batch's order,
    // each entry chained to the one before
    let entries = store.log().audit_entries().unwrap();
    let chunks = n.div_ceil(crate::store::APPLY_RECORDS as u64);
    assert_eq!(entries.len() as u64, chunks);
    let mut prev = Digest32::ZERO;
    let mut listed = Vec::new();
    for (i, bytes) in entries.iter().enumerate() {
        let e = AuditEntry::decode(bytes).unwrap();
        assert_eq!(e.index, i as u64);
        assert_eq!(e.prev, prev, "entry {i}");
        match &e.event {
            AuditEvent::ReceiveBatch {
                records, from, ..
            } => {
                assert_eq!(from.as_str(), "PK-FIA");
                assert!(records.len() <= crate::store::APPLY_RECORDS, "entry {i}");
                listed.extend(records.iter().map(|r| r.record));
            }
            other => panic!("entry {i}: {other:?}"),
        }
        prev = entry_hash(bytes);
    }
    let ids: Vec<RecordId> = recs[..n as usize].iter().map(|v| v.id).collect();
    assert_eq!(listed, ids, "every record stored, once, in order");
    let head = store.log().audit_head().unwrap();
    assert_eq!((head.count, head.hash), (chunks, prev));
}

#[test]
fn audit_entries_count_as_durable_only_after_a_flush_covers_them() {
    let dir = private_tempdir().unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let send = AuditEvent::Send {
        record: RecordId::from_bytes([5; 32]),
        agreement: AgreementId::new("QUAD-2026").unwrap(),
        originator: tr.clone(),
        to: AgencyId::new("PK-FIA").unwrap(),
        content: None,
    };
    {
        let store = open(dir.path()).unwrap();
        store.bind_agency(&tr).unwrap();
        assert_eq!(store.durable_audit_count(), 0);
        store.log().audit(now(), vec![send.clone()]).unwrap();
        assert_eq!(store.log().audit_head().unwrap().count, 1);
        assert_eq!(
            store.durable_audit_count(),
            0,
            "applied is not durable: a crash now could lose the entry"
        );
        store.flush().unwrap();
        assert_eq!(store.durable_audit_count(), 1);
        store
            .log().audit(now(), vec![send.clone(), send.clone()])
            .unwrap();
        assert_eq!(store.durable_audit_count(), 1);
        store.flush().unwrap();
        assert_eq!(store.durable_audit_count(), 3);
    }
    // a reopened store counts what it holds as durable (the reopen waits for sled to release
    // its file lock, which a loaded machine can delay: a CI run failed on it)
    let store = open_waiting(dir.path(), std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(store.durable_audit_count(), 3);
}

#[test]
fn names_normalise_by_case_and_whitespace_only() {
    for kind in [
        SubjectKind::Person,
        SubjectKind::Organisation,
        SubjectKind::Vessel,
    ] {
        assert_eq!(kind.normalise("  Ali \t KHAN\n"), "ali khan", "{kind:?}");
        assert_eq!(kind.normalise("ÖZTÜRK  Deniz"), "öztürk deniz", "{kind:?}");
        // punctuation is part of a name: a query must write it as the record does
        assert_eq!(kind.normalise("Al-Hassan"), "al-hassan", "{kind:?}");
        assert_ne!(kind.normalise("Al-Hassan"), kind.normalise("Al Hassan"));
        assert_eq!(kind.normalise(" \t "), "", "{kind:?}");
    }
}

#[test]
fn a_name_with_a_date_of_birth_normalises_the_name_and_trims_the_date() {
    let k = SubjectKind::PersonBorn;
    assert_eq!(k.normalise("  Ali  KHAN @ 1981-04 "), "ali khan@1981-04");
    assert_eq!(k.normalise("ali khan@1981-04"), "ali khan@1981-04");
    // the date is compared as written: a year is not a month
    assert_ne!(
        k.normalise("Ali Khan@1981"),
        k.normalise("Ali Khan@1981-04")
    );
    // the last `@` separates the date
    assert_eq!(k.normalise("a@b Ali@1981"), "a@b ali@1981");
    // no date: the name alone
    assert_eq!(k.normalise("Ali  Khan"), "ali khan");
}

#[test]
fn numbers_keep_only_their_digits() {
    let phone = SubjectKind::Phone;
    for written in [
        "+92 300 1234567",
        "+92 (300) 123-4567",
        "+92.300.123.4567",
        " +923001234567 ",
    ] {
        assert_eq!(phone.normalise(written), "+923001234567", "{written}");
    }
    // the leading `+` is kept, so a national form is another number
    assert_eq!(phone.normalise("0300 1234567"), "03001234567");
    assert_eq!(phone.normalise("call me"), "");
    for (kind, written, want) in [
        (SubjectKind::Imo, "IMO 9074729", "9074729"),
        (SubjectKind::Imo, "907-4729", "9074729"),
        (SubjectKind::Mmsi, "MMSI: 271 000 999", "271000999"),
        (SubjectKind::Mmsi, "+271000999", "271000999"),
    ] {
        assert_eq!(kind.normalise(written), want, "{kind:?} {written}");
    }
}

#[test]
fn identifiers_keep_letters_and_digits_in_upper_case() {
    for kind in [
        SubjectKind::Vehicle,
        SubjectKind::Account,
        SubjectKind::Document,
    ] {
        assert_eq!(kind.normalise("tr33 0006-1005.1978"), "TR33000610051978");
        assert_eq!(kind.normalise(" p-123 456 "), "P123456", "{kind:?}");
        assert_eq!(kind.normalise("34 ABÇ 12"), "34ABÇ12", "{kind:?}");
        assert_eq!(kind.normalise("34 abç 12"), "34ABÇ12", "{kind:?}");
        assert_eq!(kind.normalise(" - / "), "", "{kind:?}");
    }
}

#[test]
fn subject_kinds_have_one_query_name_each() {
    let names: BTreeSet<&str> = SubjectKind::ALL.iter().map(|(_, n)| *n).collect();
    assert_eq!(names.len(), SubjectKind::ALL.len());
    for (kind, name) in SubjectKind::ALL {
        assert_eq!(kind.name(), name);
        assert_eq!(SubjectKind::from_name(name), Some(kind));
    }
    assert_eq!(
        SubjectKind::from_name("Phone"),
        None,
        "query names are lower case"
    );
    assert_eq!(SubjectKind::from_name("passport"), None);
}

#[test]
fn a_subject_query_names_its_kind_or_looks_under_every_kind() {
    let q = SubjectQuery::parse("phone:+92 300 1234567").unwrap();
    assert_eq!(
        (q.kinds, q.value.as_str()),
        (vec![SubjectKind::Phone], "+92 300 1234567")
    );
    assert_eq!(
        SubjectQuery::parse(" imo : 9074729").unwrap().kinds,
        [SubjectKind::Imo],
        "spaces around the kind"
    );
    // a person with a date of birth is looked up by name and date
    assert_eq!(
        SubjectQuery::parse("person:Ali Khan@1981-04")
            .unwrap()
            .kinds,
        [SubjectKind::PersonBorn]
    );
    assert_eq!(
        SubjectQuery::parse("person:Ali Khan").unwrap().kinds,
        [SubjectKind::Person]
    );
    // a bare value goes under every kind it normalises to something for
    let bare = SubjectQuery::parse("9074729").unwrap();
    for k in [
        SubjectKind::Person,
        SubjectKind::Imo,
        SubjectKind::Mmsi,
        SubjectKind::Phone,
        SubjectKind::Document,
    ] {
        assert!(bare.kinds.contains(&k), "{k:?}");
    }
    let name = SubjectQuery::parse("Deniz Yildizi").unwrap();
    assert!(!name.kinds.contains(&SubjectKind::Phone) && !name.kinds.contains(&SubjectKind::Imo));
    assert!(name.kinds.contains(&SubjectKind::Vessel));
    // nothing to search for is refused, naming the query
    let err = SubjectQuery::parse("phone:  ( ) - ").unwrap_err();
    assert!(
        err.contains("phone:  ( ) - ") && err.contains("nothing to search for"),
        "{err}"
    );
    let err = SubjectQuery::parse("   ").unwrap_err();
    assert!(err.contains("KIND one of person, person-born"), "{err}");
}

#[test]
fn a_record_is_indexed_under_every_subject_once_and_found_by_any_spelling() {
    use accord_protocol::record::{Account, DocumentRef, Organisation, TravelDocument, Vehicle};
    use accord_protocol::{DocumentKind, PartialDate};
    let mut r = record("TR-JGK", "QUAD-2026", 1, 7);
    r.subjects = vec![
        Subject::Person(Person {
            role: PersonRole::Suspect,
            local_ref: None,
            name: Some("Ali  Khan".into()),
            aliases: vec!["ALI K".into(), "ali khan".into()],
            date_of_birth: Some(PartialDate::parse("1981-04").unwrap()),
            place_of_birth: None,
            nationality: None,
            documents: vec![DocumentRef {
                kind: DocumentKind::Passport,
                number: "ab-123456".into(),
                issuing_country: Country::new("PK").unwrap(),
            }],
            description: None,
        }),
        Subject::TravelDocument(TravelDocument {
            kind: DocumentKind::Passport,
            number: "AB 123456".into(),
            issuing_country: Country::new("PK").unwrap(),
            holder: None,
            assessment: None,
        }),
        Subject::Organisation(Organisation {
            name: "Kaya Travel".into(),
            aliases: vec!["KT Tours".into()],
            country: None,
            description: None,
        }),
        Subject::Vessel(Vessel {
            name: Some("Deniz Yildizi".into()),
            imo: Some("9074729".into()),
            mmsi: Some("271000999".into()),
            flag: None,
            description: None,
        }),
        Subject::Vehicle(Vehicle {
            registration: Some("34 ab 123".into()),
            country: None,
            description: None,
        }),
        Subject::Phone(Phone {
            number: "+923001234567".into(),
            description: None,
        }),
        Subject::Account(Account {
            identifier: "TR33 0006 1005".into(),
            institution: None,
            country: None,
            holder: None,
        }),
    ];
    r.validate().unwrap();
    let keys: BTreeSet<(SubjectKind, String)> = subject_keys(&r).into_iter().collect();
    let want: BTreeSet<(SubjectKind, String)> = [
        (SubjectKind::Person, "ali khan"),
        (SubjectKind::PersonBorn, "ali khan@1981-04"),
        (SubjectKind::Person, "ali k"),
        (SubjectKind::PersonBorn, "ali k@1981-04"),
        (SubjectKind::Document, "AB123456"),
        (SubjectKind::Organisation, "kaya travel"),
        (SubjectKind::Organisation, "kt tours"),
        (SubjectKind::Vessel, "deniz yildizi"),
        (SubjectKind::Imo, "9074729"),
        (SubjectKind::Mmsi, "271000999"),
        (SubjectKind::Vehicle, "34AB123"),
        (SubjectKind::Phone, "+923001234567"),
        (SubjectKind::Account, "TR3300061005"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    assert_eq!(keys, want);
    assert_eq!(
        subject_keys(&r).len(),
        want.len(),
        "an alias or document spelt two ways is one key"
    );
    for q in [
        "person:ALI KHAN",
        "person:ali   k",
        "person:Ali Khan @ 1981-04",
        "person-born:ali k@1981-04",
        "document:AB-123-456",
        "org:kaya  TRAVEL",
        "org:kt tours",
        "vessel:DENIZ yildizi",
        "imo:IMO 9074729",
        "mmsi:271-000-999",
        "vehicle:34AB123",
        "phone:+92 (300) 123 4567",
        "account:tr33-0006-1005",
        "9074729",
        "Deniz  Yildizi",
    ] {
        assert!(SubjectQuery::parse(q).unwrap().matches(&r), "{q}");
    }
    for q in [
        "person:Ali Khan@1981",
        "person:Ali",
        "imo:9074728",
        "phone:0300 1234567",
        "org:Kaya",
        "document:AB12345",
    ] {
        assert!(!SubjectQuery::parse(q).unwrap().matches(&r), "{q}");
    }
}

#[test]
fn one_record_per_seq_is_kept_as_evidence_however_many_versions_come() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let from = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let held = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    store
        .records().insert_batch(std::slice::from_ref(&held), &from, now())
        .unwrap();
    // an originator signing version after version of seq 1, some in one batch
    let versions: Vec<_> = (2..=6)
        .map(|c| verified(&k, &record("PK-FIA", "QUAD-2026", 1, c)))
        .collect();
    let out = store.records().insert_batch(&versions[..3], &from, now()).unwrap();
    let out2 = store.records().insert_batch(&versions[3..], &from, now()).unwrap();
    for (o, v) in out.iter().chain(&out2).zip(&versions) {
        assert_eq!(
            *o,
            InsertOutcome::Equivocation {
                id: v.id,
                existing: held.id
            },
            "each version is still refused as an equivocation"
        );
    }
    let kept = store.records().equivocations().unwrap();
    assert_eq!(kept.len(), 1, "one version kept as evidence");
    assert_eq!(kept[0].1, versions[0].envelope, "the first one seen");
    assert_eq!(
        store.records().equivocation_pairs().unwrap(),
        vec![(versions[0].id, held.id)]
    );
}

#[test]
fn a_reference_across_originators_or_agreements_never_counts() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let from = Source::Peer(AgencyId::new("GR-HCG").unwrap());
    let target = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let other_quad = verified(&k, &record("TR-JGK", "QUAD-2026", 1, 2));
    // Greece "withdraws" and "corrects" Pakistan's record; an answer from another agreement
    // names it too. They are stored before the target, as if they had arrived first (the
    // receive path refuses them when the target is already held).
    let mut withdrawal = record("GR-HCG", "QUAD-2026", 1, 3);
    withdrawal.withdraws = Some(target.id);
    let mut correction = record("GR-HCG", "QUAD-2026", 2, 4);
    correction.corrects = Some(target.id);
    let mut answer = record("TR-JGK", "TR-BG-2026", 1, 5);
    answer.responds_to = Some(target.id);
    // and the allowed ones: Pakistan's own withdrawal, an answer under the same agreement
    let mut own = record("PK-FIA", "QUAD-2026", 2, 6);
    own.withdraws = Some(target.id);
    let mut same = record("TR-JGK", "QUAD-2026", 2, 7);
    same.responds_to = Some(target.id);
    let refs: Vec<_> = [withdrawal, correction, answer, own.clone(), same.clone()]
        .iter()
        .map(|r| verified(&k, r))
        .collect();
    store.records().insert_batch(&refs, &from, now()).unwrap();
    store
        .records().insert_batch(&[target.clone(), other_quad], &from, now())
        .unwrap();
    let mut got = store.queries().references_to(&target.id).unwrap();
    got.sort();
    let mut want = vec![("withdraws", refs[3].id), ("responds_to", refs[4].id)];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(store.queries().withdrawn_by(&target.id).unwrap(), Some(refs[3].id));
    // the check itself, on records
    use crate::references::{Kind, consistent, problem};
    assert!(!consistent(
        Kind::Withdraws,
        &refs[0].record,
        &target.record
    ));
    assert!(!consistent(Kind::Corrects, &refs[1].record, &target.record));
    assert!(!consistent(
        Kind::RespondsTo,
        &refs[2].record,
        &target.record
    ));
    assert!(consistent(Kind::Withdraws, &own, &target.record));
    assert!(consistent(Kind::RespondsTo, &same, &target.record));
    let p = problem(&store, &refs[0].record, false).unwrap().unwrap();
    assert!(
        p.contains("`withdraws`") && p.contains("PK-FIA's under QUAD-2026"),
        "{p}"
    );
    // a target not held: a problem only where it must be held (publishing)
    let mut dangling = record("TR-JGK", "QUAD-2026", 3, 8);
    dangling.corrects = Some(RecordId::from_bytes([7; 32]));
    assert_eq!(problem(&store, &dangling, false).unwrap(), None);
    assert!(
        problem(&store, &dangling, true)
            .unwrap()
            .unwrap()
            .contains("not held here")
    );
}

#[test]
fn a_purged_records_outbox_entry_leaves_with_a_withheld_entry() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let pk = AgencyId::new("PK-FIA").unwrap();
    store.bind_agency(&tr).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let id = store
        .own().publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1)))
        })
        .unwrap()
        .unwrap();
    store.records().purge(&[id], now(), "past retention").unwrap();
    assert!(store.outbox().for_peer(&pk, 10, |_| false).unwrap().is_empty());
    assert_eq!(
        store.outbox().depths().unwrap().get(&pk),
        None,
        "the entry is gone"
    );
    let last =
        accord_protocol::audit::AuditEntry::decode(store.log().audit_entries().unwrap().last().unwrap())
            .unwrap();
    match last.event {
        AuditEvent::Withheld {
            record,
            to,
            code,
            reason,
        } => {
            assert_eq!((record, to, code), (id, pk, 0));
            assert!(reason.contains("purged here"), "{reason}");
        }
        other => panic!("expected a withheld entry, got {other:?}"),
    }
}

#[test]
fn pages_walked_in_created_order_match_the_whole_sorted_answer() {
    use crate::api::view::RecordView;
    use crate::page::PageRequest;
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let agreements = ["QUAD-2026", "TR-BG-2026"];
    let mut seqs: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut batch = Vec::new();
    for i in 0..600u64 {
        let (o, a) = ((i % 3) as usize, (i % 2) as usize);
        let seq = seqs.entry((o, a)).or_insert(0);
        *seq += 1;
        let mut r = record(ORIGINATORS[o], agreements[a], *seq, i);
        // many records share a creation second, so ties cross page boundaries
        r.created = ts("2026-01-01T00:00:00Z").plus_secs((i / 9) as i64);
        batch.push(verified(&k, &r));
    }
    store.records().insert_batch(&batch, &Source::Local, now()).unwrap();
    let queries = [
        Query::default(),
        Query {
            agreement: Some(AgreementId::new("TR-BG-2026").unwrap()),
            ..Query::default()
        },
        Query {
            category: Some(Category::ALL[2]),
            since: Some(ts("2026-01-01T00:00:30Z")),
            ..Query::default()
        },
    ];
    let queries = queries.into_iter().chain([
        Query {
            subject: Some(SubjectQuery::parse("phone:+923000000012").unwrap()),
            ..Query::default()
        },
        Query {
            country: Some((Country::new("TR").unwrap(), None)),
            ..Query::default()
        },
    ]);
    for q in queries {
        let whole: Vec<RecordId> = store.queries().query(&q).unwrap().into_iter().map(|r| r.id).collect();
        assert!(!whole.is_empty(), "{q:?}");
        // walking in creation order (few = 0) and reading the candidates whole give one order
        for few in [0, usize::MAX] {
            let mut walked = Vec::new();
            let mut req = PageRequest {
                limit: 7,
                cursor: None,
            };
            loop {
                let page = RecordView::page_with(&store, &q, &req, few)
                    .unwrap()
                    .unwrap();
                walked.extend(page.items.iter().map(|v| v.id));
                match page.next {
                    Some(c) => req.cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(walked, whole, "{q:?}, few = {few}");
        }
    }
}

/// A record from PK-FIA under QUAD-2026 holding one person, `name`.
fn record_of_person(seq: u64, name: &str) -> Record {
    let mut r = record("PK-FIA", "QUAD-2026", seq, seq);
    r.subjects = vec![Subject::Person(Person {
        role: PersonRole::Suspect,
        local_ref: None,
        name: Some(name.into()),
        aliases: vec![],
        date_of_birth: None,
        place_of_birth: None,
        nationality: None,
        documents: vec![],
        description: None,
    })];
    r
}

/// `--fuzzy` reads the skeletons one edit away that the name index holds: those held when its
/// first search read them, those of records stored after (learnt as they are written), and,
/// in a store opened again, all of them (read from the index anew). The default search does
/// not find a name one consonant off in each part.
#[test]
fn a_fuzzy_search_reads_the_near_skeletons_held_then_and_later() {
    use crate::search::{Find, names, search};
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let from = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let put = |store: &Store, seq: u64, name: &str| {
        let v = verified(&k, &record_of_person(seq, name));
        store
            .records().insert_batch(std::slice::from_ref(&v), &from, now())
            .unwrap();
        v.id
    };
    let find = |store: &Store, fuzzy: bool| -> Vec<RecordId> {
        let f = Find::Person {
            name: names::analyse("Konstandinos Hristodoulou"),
            born: None,
            fuzzy,
        };
        search(store, &f, &Query::default(), 10)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.record.id)
            .collect()
    };
    put(&store, 1, "Georgios Papadopoulos");
    assert!(find(&store, true).is_empty(), "nothing near yet");
    let near = put(&store, 2, "Konstantinos Christodoulou");
    assert_eq!(find(&store, true), vec![near], "learnt as it was stored");
    assert!(find(&store, false).is_empty(), "not without --fuzzy");
    drop(store);
    let store = open_waiting(dir.path(), std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(find(&store, true), vec![near], "read from the index");
    store.index().reindex(|_| {}).unwrap();
    let nearer = put(&store, 3, "Konstandinos Christodoulou");
    let mut found = find(&store, true);
    found.sort();
    let mut both = vec![near, nearer];
    both.sort();
    assert_eq!(found, both, "read again after a reindex");
}

#[test]
fn a_key_written_twice_in_one_batch_holds_the_last_write() {
    use crate::store::engine::{Batch, Engine};
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let kv = store.raw_tree();
    let mut batch = Batch::default();
    batch.insert(b"\xf0a".to_vec(), b"1".to_vec());
    batch.remove(b"\xf0a".to_vec());
    batch.insert(b"\xf0a".to_vec(), b"2".to_vec());
    batch.insert(b"\xf0b".to_vec(), b"1".to_vec());
    batch.remove(b"\xf0b".to_vec());
    kv.apply_batch(batch).unwrap();
    assert_eq!(kv.get(b"\xf0a").unwrap().as_deref(), Some(&b"2"[..]));
    assert!(!kv.contains_key(b"\xf0b").unwrap());
    store.flush().unwrap();
    drop(store);
    let store = open_waiting(dir.path(), std::time::Duration::from_secs(10)).unwrap();
    let kv = store.raw_tree();
    assert_eq!(kv.get(b"\xf0a").unwrap().as_deref(), Some(&b"2"[..]));
    assert!(!kv.contains_key(b"\xf0b").unwrap());
}

#[test]
fn a_copy_on_another_engine_holds_every_entry_and_opens_as_the_store() {
    use accord_config::StoreEngine;
    let dir = private_tempdir().unwrap();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let store = records_flushed(dir.path(), 40);
    let entries = store.raw_tree().iter().count() as u64;
    let head = store.log().audit_head().unwrap();
    for engine in [StoreEngine::Sled, StoreEngine::Fjall] {
        let root = private_tempdir().unwrap();
        let to = root.path().join("copy");
        let mut seen = Vec::new();
        let copied = store.copy_to(&to, engine, |n| seen.push(n)).unwrap();
        assert_eq!(copied, entries);
        assert_eq!(seen.last(), Some(&entries));
        assert_eq!(Store::engine_of(&to), Some(engine));
        let copy = Store::open_waiting(&to, std::time::Duration::from_secs(10)).unwrap();
        assert_eq!(copy.log().audit_head().unwrap(), head);
        assert_eq!(copy.queries().records_under(&agreement).unwrap().len(), 40);
        assert_eq!(copy.sync().heads(&agreement).unwrap(), store.sync().heads(&agreement).unwrap());
        assert_eq!(copy.agency(), store.agency());
        // its marker holds the audit entries copied: the copy is no restored backup
        assert!(!copy.own().restored().unwrap());
        drop(copy);
        // a directory that holds anything is refused, and left as it is
        let err = store.copy_to(&to, engine, |_| {}).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
        assert_eq!(Store::engine_of(&to), Some(engine));
    }
}

/// A store in `dir` bound to TR-JGK, holding `n` records from PK-FIA (seqs 1 to `n` under
/// QUAD-2026), flushed; what the damage and copy tests start from.
fn records_flushed(dir: &std::path::Path, n: u64) -> Store {
    let k = keys();
    let store = open(dir).unwrap();
    store
        .bind_agency(&AgencyId::new("TR-JGK").unwrap())
        .unwrap();
    let recs: Vec<_> = (1..=n)
        .map(|i| verified(&k, &record("PK-FIA", "QUAD-2026", i, i)))
        .collect();
    store
        .records()
        .insert_batch(&recs, &Source::Peer(AgencyId::new("PK-FIA").unwrap()), now())
        .unwrap();
    store.flush().unwrap();
    store
}

/// A person search finds exactly the records whose name the judge finds
/// (`search::finds_name`), with the name's score, whether it reads its candidates in one
/// thread (few) or in two (from `READ_IN_TWO_FROM` on), and a filter of the query keeps only
/// the records it admits.
#[test]
fn a_person_search_finds_the_same_records_however_many_candidates_it_reads() {
    use crate::search::{Find, finds_name, names, search};
    let k = keys();
    let from = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let spellings = [
        "Mohammad Rezaei",
        "Muhammad Rezai",
        "MOHAMED REZAEE",
        "Rezaei Mohammad",
        "Mohammad Rahimi",
        "Georgios Papadopoulos",
    ];
    let query = names::analyse("Mohammad Rezaei");
    for n in [5u64, 48] {
        let dir = private_tempdir().unwrap();
        let store = open(dir.path()).unwrap();
        let mut held = Vec::new();
        for seq in 1..=n {
            let name = spellings[(seq % spellings.len() as u64) as usize];
            let v = verified(&k, &record_of_person(seq, name));
            store
                .records()
                .insert_batch(std::slice::from_ref(&v), &from, now())
                .unwrap();
            held.push((v.id, name, v.record.category));
        }
        let category = held[0].2;
        for q in [
            Query::default(),
            Query {
                category: Some(category),
                ..Query::default()
            },
        ] {
            let find = Find::Person {
                name: query.clone(),
                born: None,
                fuzzy: false,
            };
            let found = search(&store, &find, &q, 1000).unwrap();
            let mut got: Vec<(RecordId, u8)> =
                found.hits.iter().map(|h| (h.record.id, h.score)).collect();
            got.sort();
            let mut want: Vec<(RecordId, u8)> = held
                .iter()
                .filter(|(_, _, c)| q.category.is_none_or(|w| w == *c))
                .filter_map(|(id, name, _)| {
                    finds_name(&query, None, false, name, None).map(|(s, _)| (*id, s))
                })
                .collect();
            want.sort();
            // the 48-record store reads more candidates than one thread does
            let least = match (n, q.category) {
                (48, None) => 2 * crate::search::READ_IN_TWO_FROM,
                (_, None) => 3,
                _ => 1,
            };
            assert!(want.len() >= least, "{n} records: the judge finds {want:?}");
            assert_eq!(got, want, "{n} records, {q:?}");
            let scores: Vec<u8> = found.hits.iter().map(|h| h.score).collect();
            assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
        }
    }
}

/// A batch receipt covering n records is kept once, each record naming it by its hash: every
/// record's receipts name it, the store's receipts list it once, and a receipt a store written
/// before kept per record (the line itself) is read as before.
#[test]
fn a_batch_receipt_is_kept_once_for_the_records_it_covers() {
    use accord_protocol::audit::AuditEvent;
    use accord_protocol::receipt::{BatchReceipt, sign_batch_receipt};
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let gr = AgencyId::new("GR-HCG").unwrap();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let ids: Vec<RecordId> = (1..=5)
        .map(|i| verified(&k, &record("TR-JGK", "QUAD-2026", i, i)).id)
        .collect();
    let signed = |ids: &[RecordId]| {
        sign_batch_receipt(
            &BatchReceipt::of(quad.clone(), gr.clone(), now(), ids).unwrap(),
            &k.secret[&gr],
        )
        .unwrap()
    };
    let receipt = signed(&ids[..4]);
    let deliveries = ids[..4]
        .iter()
        .map(|id| Delivery {
            outbox: None,
            record: *id,
            receiver: gr.clone(),
            receipt: receipt.clone(),
        })
        .collect();
    let event = AuditEvent::DeliveredPush {
        records: ids[..4].to_vec(),
        agreement: quad.clone(),
        to: gr.clone(),
        receipt: accord_protocol::audit::sha256(&receipt.bytes),
    };
    store
        .outbox()
        .delivered(now(), deliveries, vec![event])
        .unwrap();
    // a receipt as a store written before kept it: the line, under the record
    let old = signed(&ids[4..]);
    store
        .raw_tree()
        .insert(keys::receipt(&ids[4], &gr), old.to_line().into_bytes())
        .unwrap();
    for id in &ids[..4] {
        assert_eq!(store.checkpoints().receipts_for(id).unwrap(), vec![receipt.clone()]);
    }
    assert_eq!(store.checkpoints().receipts_for(&ids[4]).unwrap(), vec![old.clone()]);
    let mut all = store.checkpoints().receipts().unwrap();
    all.sort_by(|a, b| a.bytes.cmp(&b.bytes));
    let mut want = vec![receipt.clone(), old];
    want.sort_by(|a, b| a.bytes.cmp(&b.bytes));
    assert_eq!(all, want, "each receipt once");
    // the receipt's bytes are held once, however many records it covers
    let line = receipt.to_line().into_bytes();
    let copies = store
        .raw_tree()
        .iter()
        .filter(|e| e.as_ref().unwrap().1.as_ref() == line.as_slice())
        .count();
    assert_eq!(copies, 1);
}
