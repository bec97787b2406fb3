// The store's test cases, included by tests/mod.rs once per engine (no inner attributes
// or docs here: include! takes items only).
//
// This file holds the fixtures every case shares (keys, records, a private data directory)
// and the cases about opening a store and its engine; the others are in cases/, one file per
// concern of the store, included at the end so the fixtures are in scope.

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

// the cases by the store's concerns, each file sharing the fixtures above
include!("cases/publish.rs");
include!("cases/records.rs");
include!("cases/queries.rs");
include!("cases/sync.rs");
include!("cases/audit.rs");
include!("cases/search.rs");
