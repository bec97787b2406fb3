// Person search on the store: fuzzy skeletons, candidates read in two threads.
// Included by cases.rs (its fixtures are in scope): items only, no inner attributes.

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

/// The first `--fuzzy` search reads the index's skeletons without the write lock: records
/// written by another thread while it reads still add theirs, so afterwards the store knows
/// every skeleton the index holds, as a fresh read finds them.
#[test]
fn skeletons_written_while_the_first_fuzzy_search_reads_them_are_known() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let from = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let given = ["Konstantinos", "Georgios", "Mohammad", "Ahmad", "Leila", "Farida"];
    let family = ["Papadopoulos", "Christodoulou", "Rezaei", "Karimi", "Yilmaz", "Demir"];
    let name = |i: u64| {
        format!(
            "{} {}{}",
            given[(i % 6) as usize],
            family[((i / 6) % 6) as usize],
            ["", "oglu", "zadeh", "pour"][((i / 36) % 4) as usize]
        )
    };
    let put_named = |seq: u64, written: &str| {
        let v = verified(&k, &record_of_person(seq, written));
        store
            .records()
            .insert_batch(std::slice::from_ref(&v), &from, now())
            .unwrap();
    };
    let put = |seq: u64| put_named(seq, &name(seq));
    for seq in 1..=60 {
        put(seq);
    }
    // a record written while the index is read, whose skeletons sort before any the read
    // has yet to reach: the read itself misses them
    store.begin_skeleton_read();
    let read = store.scan_skeletons().unwrap();
    put_named(61, "Bab Abab");
    assert!(store.end_skeleton_read(read).is_ok(), "not reindexed meanwhile");
    let fresh = store.scan_skeletons().unwrap();
    let missing: Vec<&String> = fresh
        .set
        .iter()
        .filter(|s| !store.index().with_skeletons(|d| d.contains(s)).unwrap())
        .collect();
    assert!(missing.is_empty(), "written during the read, not known: {missing:?}");
    // and while other threads read them again and again
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for seq in 62..=200 {
                put(seq);
            }
        });
        while !writer.is_finished() {
            store.index().forget_skeletons();
            store.index().with_skeletons(|d| d.len()).unwrap();
        }
        writer.join().unwrap();
    });
    let fresh = store.scan_skeletons().unwrap();
    let known = store.index().with_skeletons(|d| d.len()).unwrap();
    assert_eq!(known, fresh.len());
    let missing: Vec<String> = fresh
        .set
        .iter()
        .filter(|s| !store.index().with_skeletons(|d| d.contains(s)).unwrap())
        .cloned()
        .collect();
    assert!(missing.is_empty(), "not known: {missing:?}");
}
