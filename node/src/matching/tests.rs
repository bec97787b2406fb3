use std::collections::BTreeMap;
use std::path::Path;

use accord_protocol::matching::{Epoch, MatchKey, Selector, SelectorKind};
use accord_protocol::{AgencyId, PublicKey, Record, SecretKey, Timestamp, sign, verify};

use super::*;
use crate::store::Source;

fn record(originator: &str, agreement: &str, seq: u64, subjects: serde_json::Value) -> Record {
    let value = serde_json::json!({
        "v": 1,
        "originator": originator,
        "agreement": agreement,
        "seq": seq.to_string(),
        "category": "smuggling-network",
        "handling": "H1",
        "grading": "B2",
        "created": "2026-12-01T10:00:00Z",
        "subjects": subjects,
        "summary": "a test record",
    });
    serde_json::from_value(value).unwrap()
}

/// A data directory only this user may enter, as the store asks.
fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .unwrap()
}

fn values(selectors: &[Selector], kind: SelectorKind) -> Vec<String> {
    selectors
        .iter()
        .filter(|s| s.kind() == kind)
        .map(|s| s.value().to_owned())
        .collect()
}

#[test]
fn a_records_selectors_are_its_identifiers_in_normal_form() {
    let r = record(
        "TR-JGK",
        "QUAD-2026",
        1,
        serde_json::json!([
            {"type": "phone", "number": "+92 301 2345678"},
            {"type": "phone", "number": "0301 2345678"},
            {"type": "account", "identifier": "GB82 WEST 1234 5698 7654 32"},
            {"type": "account", "identifier": "GB83 WEST 1234 5698 7654 32"},
            {"type": "travel-document", "kind": "passport", "number": "ab 1234567", "issuing_country": "PK"},
            {"type": "vessel", "name": "Bintang Laut", "imo": "IMO 9074729", "mmsi": "538 003 210"},
            {"type": "vessel", "imo": "9074728"},
            {"type": "person", "role": "facilitator", "name": "Mohammad Rezaei", "date_of_birth": "1987-03",
             "documents": [{"kind": "passport", "number": "X0O12345", "issuing_country": "IR"}]},
            {"type": "person", "role": "suspect", "name": "Ali Khan"},
        ]),
    );
    let s = selectors_of(&r, false);
    // the national number has no country to read it in: left out
    assert_eq!(values(&s, SelectorKind::Phone), ["+923012345678"]);
    // the IBAN in electronic form; the one whose checksum fails is left out
    assert_eq!(
        values(&s, SelectorKind::Account),
        ["GB82WEST12345698765432"]
    );
    assert_eq!(
        values(&s, SelectorKind::Document),
        ["IR:X0012345", "PK:AB1234567"]
    );
    // the IMO whose check digit fails is left out
    assert_eq!(
        values(&s, SelectorKind::Vessel),
        ["imo:9074729", "mmsi:538003210"]
    );
    // a person with a year of birth; one without gives no person selector
    let people = values(&s, SelectorKind::Person);
    assert!(!people.is_empty());
    assert!(people.iter().all(|p| p.ends_with(":1987")), "{people:?}");
}

#[test]
fn spellings_scripts_and_order_of_one_name_share_a_person_key() {
    let keys = person_keys("Mohammad Rezaei");
    for variant in [
        "Muhammad Rezai",
        "MOHAMED REZAEE",
        "Rezaei Mohammad",
        "محمد رضایی",
    ] {
        let other = person_keys(variant);
        assert!(
            keys.iter().any(|k| other.contains(k)),
            "{variant}: {other:?} shares nothing with {keys:?}"
        );
    }
    let stranger = person_keys("Ali Khan");
    assert!(!keys.iter().any(|k| stranger.contains(k)));
    // a single name gives no key: too weak to call a hit
    assert!(person_keys("Mohammad").is_empty());
}

#[test]
fn victims_take_part_only_where_the_agreement_allows_identification() {
    let r = record(
        "TR-JGK",
        "QUAD-2026",
        1,
        serde_json::json!([
            {"type": "person", "role": "victim", "name": "Amina Noori", "date_of_birth": "2004",
             "documents": [{"kind": "passport", "number": "P1234567", "issuing_country": "AF"}]},
        ]),
    );
    assert!(selectors_of(&r, false).is_empty());
    let with = selectors_of(&r, true);
    assert_eq!(values(&with, SelectorKind::Document), ["AF:P1234567"]);
    assert!(!values(&with, SelectorKind::Person).is_empty());
}

#[test]
fn the_seed_is_made_once_private_and_kept() {
    let dir = private_tempdir();
    let first = load_or_create_seed(dir.path()).unwrap();
    let path = dir.path().join(SEED_FILE);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = load_or_create_seed(dir.path()).unwrap();
    assert_eq!(*first, *again);
    // a damaged seed is named, never replaced
    std::fs::write(&path, [1u8; 31]).unwrap();
    let err = load_or_create_seed(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("holds 31 bytes; a matching seed is 32"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), [1u8; 31]);
}

fn quad(matching: &str) -> Agreement {
    // the demo's text without its own [matching] table, then the one given
    let text = include_str!("../../../examples/quad/agreements/quad-2026.toml");
    let base = text.split("\n[matching]").next().unwrap_or(text);
    accord_config::parse_agreement(
        Path::new("quad-2026.toml"),
        format!("{base}\n{matching}").as_bytes(),
    )
    .unwrap()
}

#[test]
fn a_holders_set_holds_its_own_selectors_and_partners_only_when_the_clause_says_so() {
    let secrets: BTreeMap<AgencyId, SecretKey> = [("TR-JGK", 1u8), ("PK-FIA", 2), ("BG-GDBP", 3)]
        .into_iter()
        .map(|(a, s)| (AgencyId::new(a).unwrap(), SecretKey::from_seed(&[s; 32])))
        .collect();
    let public: BTreeMap<AgencyId, PublicKey> = secrets
        .iter()
        .map(|(a, k)| (a.clone(), k.public_key()))
        .collect();
    let dir = private_tempdir();
    let store = Store::open(dir.path()).unwrap();
    let own = AgencyId::new("TR-JGK").unwrap();
    let phone = |n: &str| serde_json::json!([{"type": "phone", "number": n}]);
    let records = [
        // own, under QUAD-2026 and under the bilateral agreement
        (
            record("TR-JGK", "QUAD-2026", 1, phone("+905321112233")),
            Source::Local,
        ),
        (
            record("TR-JGK", "TR-BG-2026", 1, phone("+905324445566")),
            Source::Local,
        ),
        // a QUAD partner's, under QUAD-2026
        (
            record("PK-FIA", "QUAD-2026", 1, phone("+923012345678")),
            Source::Peer(AgencyId::new("PK-FIA").unwrap()),
        ),
        // a bilateral partner's, under the bilateral agreement
        (
            record("BG-GDBP", "TR-BG-2026", 1, phone("+359888123456")),
            Source::Peer(AgencyId::new("BG-GDBP").unwrap()),
        ),
    ];
    let now = Timestamp::parse("2026-12-07T10:00:00Z").unwrap();
    for (r, source) in &records {
        let v = verify(sign(r, &secrets[&r.originator]).unwrap(), &public).unwrap();
        store.records().insert_batch(&[v], source, now).unwrap();
    }
    store.flush().unwrap();

    let seed = [9u8; 32];
    let epoch = Epoch::containing(now, 1).unwrap();
    let holds = |agreement: &Agreement, n: &str| {
        let set = holder_set(&store, &own, agreement, &seed, epoch)
            .unwrap()
            .expect("matching is on");
        let key = MatchKey::derive(&seed, &agreement.id, epoch).unwrap();
        set.contains(
            &key.tag(&Selector::new(SelectorKind::Phone, n).unwrap())
                .unwrap(),
        )
    };

    // no [matching] table: no set
    assert!(
        holder_set(&store, &own, &quad(""), &seed, epoch)
            .unwrap()
            .is_none()
    );
    let own_only = quad("[matching]\n");
    // own records take part whatever agreement they were shared under
    assert!(holds(&own_only, "+905321112233"));
    assert!(holds(&own_only, "+905324445566"));
    assert!(!holds(&own_only, "+923012345678"));
    assert!(!holds(&own_only, "+359888123456"));
    let with_partners = quad("[matching]\npartner_records = true\n");
    assert!(holds(&with_partners, "+923012345678"));
    // a partner's record shared under another agreement never does
    assert!(!holds(&with_partners, "+359888123456"));
    assert!(!holds(&with_partners, "+905329999999"));
}

#[test]
fn the_quota_counts_per_day_and_a_late_job_never_wipes_the_next_days_count() {
    use crate::store::Quota;
    let dir = private_tempdir();
    let store = Store::open(dir.path()).unwrap();
    store
        .bind_agency(&AgencyId::new("TR-JGK").unwrap())
        .unwrap();
    let pk = AgencyId::new("PK-FIA").unwrap();
    let quad = accord_protocol::AgreementId::new("QUAD-2026").unwrap();
    let epoch = Epoch::containing(Timestamp::parse("2026-12-07T10:00:00Z").unwrap(), 1).unwrap();
    let count = |at: &str, n: u32| {
        let at = Timestamp::parse(at).unwrap();
        store
            .log()
            .count_lookup(&pk, &quad, n, 5, at, |today| {
                accord_protocol::audit::AuditEvent::LookupAnswered {
                    from: pk.clone(),
                    agreement: quad.clone(),
                    epoch,
                    selectors: u64::from(n),
                    today: u64::from(today),
                }
            })
            .unwrap()
    };
    assert_eq!(count("2026-12-07T23:59:58Z", 4), Quota::Counted { used: 4 });
    assert_eq!(
        count("2026-12-07T23:59:59Z", 2),
        Quota::Spent {
            used: 4,
            limit: 5,
            asked: 2
        },
        "a lookup past the quota is refused whole"
    );
    // the next day starts from nothing
    assert_eq!(count("2026-12-08T00:00:01Z", 3), Quota::Counted { used: 3 });
    // a job stamped before midnight that runs after the next day was counted: counted on
    // the next day, never on a fresh count of the day that is over
    assert_eq!(count("2026-12-07T23:59:59Z", 1), Quota::Counted { used: 4 });
    let next = Timestamp::parse("2026-12-08T12:00:00Z").unwrap();
    assert_eq!(store.log().lookups_today(&pk, &quad, next).unwrap(), 4);
    assert_eq!(
        count("2026-12-07T23:59:59Z", 2),
        Quota::Spent {
            used: 4,
            limit: 5,
            asked: 2
        }
    );
    // every count is an entry; a refusal is none
    let entries = store.log().audit_entries().unwrap();
    let answered = entries
        .iter()
        .filter(|e| String::from_utf8_lossy(e).contains("lookup-answered"))
        .count();
    assert_eq!(answered, 3);
}
