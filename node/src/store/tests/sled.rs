// The store's tests about sled's files on disk, included by tests/mod.rs for sled only.

#[test]
fn a_damaged_store_is_refused_saying_so_and_what_to_do() {
    let dir = private_tempdir().unwrap();
    drop(records_flushed(dir.path(), 20));
    // overwrite the middle of sled's data file
    let db = dir.path().join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 4..len / 2] {
        *b = 0xa5;
    }
    std::fs::write(&db, bytes).unwrap();
    let outcome = open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .and_then(|s| s.queries().all_records().map(|r| r.len()));
    let err = outcome.expect_err("a damaged store must not open as if whole");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("damaged") && text.contains("backup"),
        "{text}"
    );
    assert!(!text.contains("backtrace"), "{text}");
    // nothing was written by the refused open: the same refusal again
    let again = open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    assert_eq!(again, text);
}

#[test]
fn a_store_keeps_the_engine_it_was_made_with() {
    use accord_config::StoreEngine;
    let dir = private_tempdir().unwrap();
    let k = keys();
    {
        let store = open(dir.path()).unwrap();
        let recs = vec![verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1))];
        store
            .records()
            .insert_batch(&recs, &Source::Peer(AgencyId::new("PK-FIA").unwrap()), now())
            .unwrap();
        store.flush().unwrap();
    }
    assert_eq!(Store::engine_of(dir.path()), Some(StoreEngine::Sled));
    let err = Store::open_as(dir.path(), StoreEngine::Fjall).expect_err("a sled store opened as fjall");
    let text = err.to_string();
    assert!(
        text.contains("holds a store on sled")
            && text.contains("store_engine = \"fjall\"")
            && text.contains("store_engine = \"sled\""),
        "{text}"
    );
    // nothing was made beside it, and it opens as what it is, its record held
    assert!(!dir.path().join("fjall").exists());
    // (sled lets go of its lock a moment after its handle is dropped)
    let store = Store::open_waiting_as(
        dir.path(),
        StoreEngine::Sled,
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(store.queries().all_records().unwrap().len(), 1);
    drop(store);

    // and the other way round
    let other = private_tempdir().unwrap();
    Store::open_as(other.path(), StoreEngine::Fjall)
        .unwrap()
        .flush()
        .unwrap();
    assert_eq!(Store::engine_of(other.path()), Some(StoreEngine::Fjall));
    let err = Store::open_as(other.path(), StoreEngine::Sled).expect_err("a fjall store opened as sled");
    assert!(err.to_string().contains("holds a store on fjall"), "{err}");
    assert!(!other.path().join("db").exists());
    assert!(Store::open_waiting(other.path(), std::time::Duration::from_secs(10)).is_ok(), "open takes the engine the store has");
}
