// The store's tests about its files on disk that hold for every on-disk engine (a lock, a
// vanished database), included by tests/mod.rs for sled and fjall.

#[test]
fn a_store_in_use_is_refused_with_a_hint() {
    let dir = private_tempdir().unwrap();
    let _store = open(dir.path()).unwrap();
    let err = open(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("is another accord process (accord run) using this data directory?"),
        "{err}"
    );
}

#[test]
fn a_store_whose_database_vanished_is_not_started_afresh() {
    let dir = private_tempdir().unwrap();
    {
        let store = open(dir.path()).unwrap();
        store
            .bind_agency(&AgencyId::new("TR-JGK").unwrap())
            .unwrap();
        store.flush().unwrap();
    }
    assert!(dir.path().join(crate::store::MARKER_FILE).exists());
    // the engine's files gone (a partial restore, a careless clean-up), the marker left
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != crate::store::MARKER_FILE {
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    let err = open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    assert!(err.contains("damaged") && err.contains("backup"), "{err}");
}

