// Publishing: gap-free numbering, durability before a publish returns, shared flushes.
// Included by cases.rs (its fixtures are in scope): items only, no inner attributes.

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
