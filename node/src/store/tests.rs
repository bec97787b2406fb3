//! Store tests: reopen, schema versions, numbering, duplicates, equivocation, purge, and
//! 100,000 records through every index.

use std::collections::{BTreeMap, BTreeSet};

use accord_protocol::record::{Person, Phone, RouteLeg, Vessel};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Grading, HandlingCode, LegRole, PersonRole,
    PublicKey, Record, RecordId, SecretKey, Seq, SignedRecord, Subject, Timestamp, Verified, sign,
    verify,
};

use super::*;

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

fn now() -> Timestamp {
    ts("2026-11-28T12:00:00Z")
}

#[test]
fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let recs: Vec<_> = (1..=50)
        .map(|i| verified(&k, &record("PK-FIA", "QUAD-2026", i, i)))
        .collect();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .insert_batch(
                &recs,
                &Source::Peer(AgencyId::new("PK-FIA").unwrap()),
                now(),
            )
            .unwrap();
        let own = store
            .publish(
                &agreement,
                &AgencyId::new("TR-JGK").unwrap(),
                now(),
                &[],
                |seq| Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", seq.get(), 999))),
            )
            .unwrap()
            .unwrap();
        assert!(store.contains(&own).unwrap());
        store.flush().unwrap();
    }
    // sled releases its file lock a moment after the last handle drops (its background
    // threads hold the file until they finish); a restart waits for it like `accord run` does
    let store = Store::open_waiting(dir.path(), std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(store.len(), 51);
    for r in &recs {
        let got = store.get(&r.id).unwrap().unwrap();
        assert_eq!(got.envelope, r.envelope, "exact envelope bytes kept");
        assert_eq!(got.source, Source::Peer(AgencyId::new("PK-FIA").unwrap()));
        assert_eq!(got.received_at, now());
    }
    assert_eq!(store.counter(&agreement).unwrap(), Some(Seq::FIRST));
    assert_eq!(store.records_under(&agreement).unwrap().len(), 51);
}

#[test]
fn an_unknown_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .raw_tree()
            .insert(keys::schema(), &7u32.to_be_bytes())
            .unwrap();
        store.flush().unwrap();
    }
    let err = Store::open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("schema version 7; this accord reads version 1"),
        "{err}"
    );
}

#[test]
fn a_file_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(&file).unwrap_err().to_string();
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn a_store_in_use_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("is another accord process (accord run) using this data directory?"),
        "{err}"
    );
}

#[test]
fn publish_numbers_gap_free_and_a_failed_build_uses_no_seq() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let first = store
        .publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |s| Ok::<_, String>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1))),
        )
        .unwrap()
        .unwrap();
    let failed = store
        .publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |_| Err::<Verified<SignedRecord>, _>("refused by policy".to_owned()),
        )
        .unwrap();
    assert_eq!(failed.unwrap_err(), "refused by policy");
    let second = store
        .publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |s| Ok::<_, String>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 2))),
        )
        .unwrap()
        .unwrap();
    assert_eq!(store.get(&first).unwrap().unwrap().record.seq.get(), 1);
    assert_eq!(store.get(&second).unwrap().unwrap().record.seq.get(), 2);
    assert_eq!(store.len(), 2);
    // a build that returns the wrong seq is refused and nothing is stored
    let err = store
        .publish(
            &agreement,
            &AgencyId::new("TR-JGK").unwrap(),
            now(),
            &[],
            |_| Ok::<_, String>(verified(&k, &record("TR-JGK", "QUAD-2026", 9, 3))),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::SeqMismatch { .. }), "{err}");
    assert_eq!(store.len(), 2);
}

#[test]
fn duplicates_equivocations_and_purges() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = keys();
    let from = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let a = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let b = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 2)); // same seq, different content
    let out = store
        .insert_batch(&[a.clone(), a.clone()], &from, now())
        .unwrap();
    assert_eq!(
        out,
        vec![InsertOutcome::Stored(a.id), InsertOutcome::Duplicate(a.id)]
    );
    let out = store
        .insert_batch(std::slice::from_ref(&b), &from, now())
        .unwrap();
    assert_eq!(
        out,
        vec![InsertOutcome::Equivocation {
            id: b.id,
            existing: a.id
        }]
    );
    assert!(
        !store.contains(&b.id).unwrap(),
        "the second record is evidence, not a record"
    );
    assert_eq!(store.equivocations().unwrap().len(), 1);
    assert_eq!(store.equivocations().unwrap()[0].1, b.envelope);

    let phone = SubjectQuery::parse("phone:+923000000001").unwrap();
    assert_eq!(
        store
            .query(&Query {
                subject: Some(phone.clone()),
                ..Query::default()
            })
            .unwrap()
            .len(),
        1
    );
    let tombs = store
        .purge(&[a.id], now(), "retention of QUAD-2026 (1095 days) passed")
        .unwrap();
    assert_eq!(tombs.len(), 1);
    assert!(!store.contains(&a.id).unwrap());
    assert!(
        store
            .query(&Query {
                subject: Some(phone),
                ..Query::default()
            })
            .unwrap()
            .is_empty(),
        "index entries removed"
    );
    assert_eq!(store.tombstone(&a.id).unwrap().unwrap().seq, Seq::FIRST);
    // a purged record offered again is not stored again
    assert_eq!(
        store
            .insert_batch(std::slice::from_ref(&a), &from, now())
            .unwrap(),
        vec![InsertOutcome::Purged(a.id)]
    );
    // only the tombstone's keys and the seq slot remain besides the schema and evidence
    let records = store.raw_tree().scan_prefix([keys::RECORD]).count();
    assert_eq!(records, 0);
}

#[test]
fn withdrawals_are_found_from_the_withdrawn_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = keys();
    let a = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let mut w = record("PK-FIA", "QUAD-2026", 2, 2);
    w.withdraws = Some(a.id);
    let w = verified(&k, &w);
    store
        .insert_batch(&[a.clone(), w.clone()], &Source::Local, now())
        .unwrap();
    assert_eq!(store.withdrawn_by(&a.id).unwrap(), Some(w.id));
    assert_eq!(store.withdrawn_by(&w.id).unwrap(), None);
}

#[test]
fn a_hundred_thousand_records_and_every_index_answers() {
    const N: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = keys();
    let originators = ["TR-JGK", "PK-FIA", "GR-HCG"];
    let agreements = ["QUAD-2026", "TR-BG-2026"];
    let mut all: Vec<(RecordId, Record)> = Vec::with_capacity(N as usize);
    let mut seqs: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut batch = Vec::with_capacity(1000);
    for i in 0..N {
        let (o, a) = ((i % 3) as usize, (i % 2) as usize);
        let seq = seqs.entry((o, a)).or_insert(0);
        *seq += 1;
        let r = record(originators[o], agreements[a], *seq, i);
        let v = verified(&k, &r);
        all.push((v.id, r));
        batch.push(v);
        if batch.len() == 1000 {
            let out = store.insert_batch(&batch, &Source::Local, now()).unwrap();
            assert!(out.iter().all(|o| matches!(o, InsertOutcome::Stored(_))));
            batch.clear();
        }
    }
    store.flush().unwrap();
    assert_eq!(store.len(), N as usize);

    let check = |q: Query, pred: &dyn Fn(&Record) -> bool, what: &str| {
        let got: BTreeSet<RecordId> = store.query(&q).unwrap().into_iter().map(|r| r.id).collect();
        let want: BTreeSet<RecordId> = all
            .iter()
            .filter(|(_, r)| pred(r))
            .map(|(id, _)| *id)
            .collect();
        assert!(!want.is_empty(), "{what}: the test expects matches");
        assert_eq!(got, want, "{what}");
    };
    for c in &Category::ALL[..8] {
        check(
            Query {
                category: Some(*c),
                ..Query::default()
            },
            &|r| r.category == *c,
            c.as_str(),
        );
    }
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
    for cc in ["PK", "GR", "AF"] {
        let country = Country::new(cc).unwrap();
        for role in [LegRole::Source, LegRole::Destination] {
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
    // subjects: phone (any spacing), person (any case and spacing), vessel by IMO
    check(
        Query {
            subject: Some(SubjectQuery::parse("phone:+92 300 000 1234").unwrap()),
            ..Query::default()
        },
        &|r| {
            r.subjects
                .iter()
                .any(|s| matches!(s, Subject::Phone(p) if p.number == "+923000001234"))
        },
        "phone",
    );
    check(
        Query {
            subject: Some(SubjectQuery::parse("person:person 42 EXAMPLE").unwrap()),
            ..Query::default()
        },
        &|r| {
            r.persons()
                .any(|p| p.name.as_deref() == Some("Person  42 Example"))
        },
        "person",
    );
    check(
        Query {
            subject: Some(SubjectQuery::parse("9000014").unwrap()),
            ..Query::default()
        },
        &|r| {
            r.subjects
                .iter()
                .any(|s| matches!(s, Subject::Vessel(v) if v.imo.as_deref() == Some("9000014")))
        },
        "imo (bare value)",
    );
    // created time, and filters combined
    let since = ts("2026-03-01T00:00:00Z");
    check(
        Query {
            since: Some(since),
            ..Query::default()
        },
        &|r| r.created >= since,
        "since",
    );
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let gr = Country::new("TR").unwrap();
    check(
        Query {
            agreement: Some(quad.clone()),
            category: Some(Category::SmugglingNetwork),
            country: Some((gr, None)),
            since: Some(since),
            ..Query::default()
        },
        &|r| {
            r.agreement == quad
                && r.category == Category::SmugglingNetwork
                && r.created >= since
                && r.route.iter().any(|l| l.country == gr)
        },
        "combined",
    );
    // the seq index: every (agreement, originator) sequence is complete
    for ((o, a), max) in &seqs {
        let (orig, agr) = (
            AgencyId::new(originators[*o]).unwrap(),
            AgreementId::new(agreements[*a]).unwrap(),
        );
        for s in [1, max / 2, *max] {
            let id = store
                .by_seq(&agr, &StreamId::agency(&orig), Seq::new(s).unwrap())
                .unwrap()
                .unwrap();
            let r = store.get(&id).unwrap().unwrap().record;
            assert_eq!(
                (r.originator, r.agreement, r.seq.get()),
                (orig.clone(), agr.clone(), s)
            );
        }
        assert!(
            store
                .by_seq(&agr, &StreamId::agency(&orig), Seq::new(max + 1).unwrap())
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn an_own_record_not_yet_flushed_never_leaves_the_store() {
    // rule 4: numbered records leave the node only once durable; a record lost in a crash
    // would otherwise have its seq numbered again for another record
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
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
        .publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1)))
        })
        .unwrap()
        .unwrap();
    let staged = store
        .stage_publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 2)))
        })
        .unwrap()
        .unwrap();
    assert!(store.contains(&staged).unwrap(), "written");
    let ids = |v: Vec<(Vec<u8>, accord_protocol::Envelope)>| -> Vec<RecordId> {
        v.into_iter().map(|(_, e)| e.id()).collect()
    };
    let range_all = || {
        store
            .range(
                &agreement,
                &stream,
                Seq::FIRST,
                Seq::new(9).unwrap(),
                10,
                1 << 20,
            )
            .unwrap()
    };
    assert_eq!(ids(store.outbox(&pk, 10, |_| false).unwrap()), [first]);
    let (range, complete) = range_all();
    assert_eq!(range.iter().map(|e| e.id()).collect::<Vec<_>>(), [first]);
    assert!(
        !complete,
        "the range stops short of the record not yet durable"
    );
    assert_eq!(store.heads(&agreement).unwrap().get(&stream), Some(&1));

    store.flush().unwrap();
    assert_eq!(
        ids(store.outbox(&pk, 10, |_| false).unwrap()),
        [first, staged]
    );
    let (range, complete) = range_all();
    assert_eq!(range.len(), 2);
    assert!(complete);
    assert_eq!(store.heads(&agreement).unwrap().get(&stream), Some(&2));
}

#[test]
fn publishes_from_many_threads_share_flushes_and_each_returns_durable() {
    // group commit: eight threads publishing at once; each publish returns only after a flush
    // that began after its record was written, so when it returns its record is out of the
    // unflushed set (it may leave the node) and it is numbered without a gap
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(dir.path()).unwrap());
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
                            .publish(&agreement, &tr, now(), &[], |s| {
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
    assert_eq!(store.heads(&agreement).unwrap().get(&stream), Some(&200));
    let mut seqs: Vec<u64> = ids
        .iter()
        .map(|id| store.get(id).unwrap().unwrap().record.seq.get())
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
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    store
        .publish(&agreement, &tr, now(), &[], |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1)))
        })
        .unwrap()
        .unwrap();
    let back: Vec<_> = (2..=3)
        .map(|s| verified(&k, &record("TR-JGK", "QUAD-2026", s, s)))
        .collect();
    store
        .insert_batch(
            &back,
            &Source::Peer(AgencyId::new("PK-FIA").unwrap()),
            now(),
        )
        .unwrap();
    let id = store
        .publish(&agreement, &tr, now(), &[], |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 9)))
        })
        .unwrap()
        .unwrap();
    assert_eq!(store.get(&id).unwrap().unwrap().record.seq.get(), 4);
}

#[test]
fn a_partner_checkpoint_is_never_replaced_and_a_second_history_is_kept_as_a_fork() {
    use accord_protocol::audit::{Checkpoint, Digest32, sign_checkpoint};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
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
        store.keep_partner_checkpoint(&honest, &s1).unwrap(),
        Kept::New
    );
    assert_eq!(
        store.keep_partner_checkpoint(&honest, &s1).unwrap(),
        Kept::Known
    );
    assert!(
        matches!(store.keep_partner_checkpoint(&rewritten, &s2).unwrap(), Kept::Forked { held } if held == s1)
    );
    assert_eq!(
        store.partner_checkpoints().unwrap(),
        vec![s1],
        "the first checkpoint stays"
    );
    assert_eq!(store.checkpoint_forks().unwrap(), vec![s2]);
}

#[test]
fn heads_advance_with_each_insert_as_a_fresh_scan_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let store = Store::open(dir.path()).unwrap();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let pk = StreamId::agency(&AgencyId::new("PK-FIA").unwrap());
    let gr = StreamId::agency(&AgencyId::new("GR-HCG").unwrap());
    let src = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let put = |originator: &str, seqs: &[u64]| {
        let recs: Vec<_> = seqs
            .iter()
            .map(|s| verified(&k, &record(originator, "QUAD-2026", *s, *s)))
            .collect();
        store.insert_batch(&recs, &src, now()).unwrap();
    };
    put("PK-FIA", &[1, 2]);
    assert_eq!(
        store.heads(&quad).unwrap(),
        BTreeMap::from([(pk.clone(), 2)])
    );
    // a gap holds the head back; filling it moves it past everything held after the gap
    put("PK-FIA", &[4, 5]);
    put("GR-HCG", &[2]);
    let expected = BTreeMap::from([(pk.clone(), 2), (gr.clone(), 0)]);
    assert_eq!(store.heads(&quad).unwrap(), expected);
    assert_eq!(seqs(store.scan_heads(&quad).unwrap()), expected);
    assert_eq!(
        store.stream_heads(&quad).unwrap(),
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
        .insert_batch(&[verified(&k, &other)], &src, now())
        .unwrap();
    let expected = BTreeMap::from([(pk.clone(), 6), (gr.clone(), 2)]);
    assert_eq!(store.heads(&quad).unwrap(), expected);
    assert_eq!(seqs(store.scan_heads(&quad).unwrap()), expected);
    assert_eq!(
        store.stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap(),
        "the digests advanced insert by insert are those of a fresh scan"
    );
    // our own publishing advances our stream too
    let tr = AgencyId::new("TR-JGK").unwrap();
    store
        .publish(&quad, &tr, now(), &[], |seq| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", seq.get(), 500)))
        })
        .unwrap()
        .unwrap();
    assert_eq!(store.heads(&quad).unwrap()[&StreamId::agency(&tr)], 1);
    assert_eq!(
        store.stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap()
    );
}

fn seqs(heads: BTreeMap<StreamId, super::StreamHead>) -> BTreeMap<StreamId, u64> {
    heads.into_iter().map(|(s, h)| (s, h.seq)).collect()
}

#[test]
fn the_stream_digest_tells_two_holders_of_one_seq_apart() {
    let k = keys();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let pk = StreamId::agency(&AgencyId::new("PK-FIA").unwrap());
    let src = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (sa, sb, sc) = (
        Store::open(a.path()).unwrap(),
        Store::open(b.path()).unwrap(),
        Store::open(c.path()).unwrap(),
    );
    let one = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let two = verified(&k, &record("PK-FIA", "QUAD-2026", 2, 2));
    let mut forked = record("PK-FIA", "QUAD-2026", 2, 2);
    forked.summary = "another record two".into();
    let forked = verified(&k, &forked);
    let three = verified(&k, &record("PK-FIA", "QUAD-2026", 3, 3));
    let ids = [one.id, two.id, three.id];
    // a and b hold the same records, b in another order; c holds another record under seq 2
    sa.insert_batch(&[one.clone(), two.clone(), three.clone()], &src, now())
        .unwrap();
    sb.insert_batch(&[three.clone(), one.clone()], &src, now())
        .unwrap();
    sb.insert_batch(&[two], &src, now()).unwrap();
    sc.insert_batch(&[one.clone(), forked, three], &src, now())
        .unwrap();
    let (ha, hb, hc) = (
        sa.stream_heads(&quad).unwrap()[&pk],
        sb.stream_heads(&quad).unwrap()[&pk],
        sc.stream_heads(&quad).unwrap()[&pk],
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
    assert!(!sa.has_equivocation(&quad, &pk).unwrap());
}

#[test]
fn a_damaged_store_is_refused_saying_so_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .bind_agency(&AgencyId::new("TR-JGK").unwrap())
            .unwrap();
        let recs: Vec<_> = (1..=20)
            .map(|i| verified(&k, &record("PK-FIA", "QUAD-2026", i, i)))
            .collect();
        store
            .insert_batch(
                &recs,
                &Source::Peer(AgencyId::new("PK-FIA").unwrap()),
                now(),
            )
            .unwrap();
        store.flush().unwrap();
    }
    // overwrite the middle of sled's data file
    let db = dir.path().join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 4..len / 2] {
        *b = 0xa5;
    }
    std::fs::write(&db, bytes).unwrap();
    let outcome = Store::open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .and_then(|s| s.all_records().map(|r| r.len()));
    let err = outcome.expect_err("a damaged store must not open as if whole");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("damaged") && text.contains("backup"),
        "{text}"
    );
    assert!(!text.contains("backtrace"), "{text}");
    // nothing was written by the refused open: the same refusal again
    let again = Store::open(dir.path()).unwrap_err().to_string();
    assert_eq!(again, text);
}

#[test]
fn a_store_whose_database_vanished_is_not_started_afresh() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .bind_agency(&AgencyId::new("TR-JGK").unwrap())
            .unwrap();
        store.flush().unwrap();
    }
    assert!(dir.path().join(super::MARKER_FILE).exists());
    // sled's files gone (a partial restore, a careless clean-up), the marker left
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != super::MARKER_FILE {
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    let err = Store::open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    assert!(err.contains("damaged") && err.contains("backup"), "{err}");
}

#[test]
fn settling_the_outbox_removes_entries_and_logs_them_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let pk = AgencyId::new("PK-FIA").unwrap();
    store.bind_agency(&tr).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let ids: Vec<RecordId> = (1..=2)
        .map(|i| {
            store
                .publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
                    Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), i)))
                })
                .unwrap()
                .unwrap()
        })
        .collect();
    let outbox = store.outbox(&pk, 10, |_| false).unwrap();
    assert_eq!(outbox.len(), 2);
    let before = store.audit_head().unwrap().count;
    let withheld = AuditEvent::Withheld {
        record: ids[0],
        to: pk.clone(),
        code: 0,
        reason: "agreement QUAD-2026 is no longer in force".into(),
    };
    store
        .settle_outbox(
            now(),
            std::slice::from_ref(&outbox[0].0),
            Vec::new(),
            vec![withheld.clone()],
        )
        .unwrap();
    // the entry left the outbox, and the log's next entry says why, with nothing between
    let left: Vec<RecordId> = store
        .outbox(&pk, 10, |_| false)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.id())
        .collect();
    assert_eq!(left, [ids[1]]);
    let entries = store.audit_entries().unwrap();
    assert_eq!(entries.len() as u64, before + 1);
    let last = accord_protocol::audit::AuditEntry::decode(entries.last().unwrap()).unwrap();
    assert_eq!(last.event, withheld);
    // nothing to settle writes nothing
    store
        .settle_outbox(now(), &[], Vec::new(), Vec::new())
        .unwrap();
    assert_eq!(store.audit_head().unwrap().count, before + 1);
}

#[test]
fn audit_entries_count_as_durable_only_after_a_flush_covers_them() {
    let dir = tempfile::tempdir().unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let send = AuditEvent::Send {
        record: RecordId::from_bytes([5; 32]),
        agreement: AgreementId::new("QUAD-2026").unwrap(),
        originator: tr.clone(),
        to: AgencyId::new("PK-FIA").unwrap(),
        content: None,
    };
    {
        let store = Store::open(dir.path()).unwrap();
        store.bind_agency(&tr).unwrap();
        assert_eq!(store.durable_audit_count(), 0);
        store.audit(now(), vec![send.clone()]).unwrap();
        assert_eq!(store.audit_head().unwrap().count, 1);
        assert_eq!(
            store.durable_audit_count(),
            0,
            "applied is not durable: a crash now could lose the entry"
        );
        store.flush().unwrap();
        assert_eq!(store.durable_audit_count(), 1);
        store
            .audit(now(), vec![send.clone(), send.clone()])
            .unwrap();
        assert_eq!(store.durable_audit_count(), 1);
        store.flush().unwrap();
        assert_eq!(store.durable_audit_count(), 3);
    }
    // a reopened store counts what it holds as durable
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.durable_audit_count(), 3);
}
