// The store's tests about fjall's files on disk, included by tests/mod.rs for fjall only.

#[test]
fn a_damaged_fjall_journal_is_refused_saying_so_and_what_to_do() {
    let dir = private_tempdir().unwrap();
    drop(records_flushed(dir.path(), 20));
    // overwrite the middle of what the journal holds (the records are still in it: too few
    // to have been written out to a table)
    let fjall = dir.path().join("fjall");
    let journal = std::fs::read_dir(&fjall)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "jnl"))
        .expect("a journal file");
    let mut bytes = std::fs::read(&journal).unwrap();
    let used = bytes.iter().rposition(|b| *b != 0).expect("a journal with data") + 1;
    for b in &mut bytes[used / 4..used / 2] {
        *b = 0xa5;
    }
    std::fs::write(&journal, bytes).unwrap();
    let outcome = open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .and_then(|s| s.queries().all_records().map(|r| r.len()));
    let err = outcome.expect_err("a damaged store must not open as if whole");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("damaged") && text.contains("backup"), "{text}");
    // nothing was written by the refused open: the same refusal again
    let again = open_waiting(dir.path(), std::time::Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    assert_eq!(again, text);
}
