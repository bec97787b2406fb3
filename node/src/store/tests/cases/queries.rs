// Queries and the subject index: normalised selectors, every index over 100,000 records, paging.
// Included by cases.rs (its fixtures are in scope): items only, no inner attributes.

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
