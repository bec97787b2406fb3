// Records held: duplicates, equivocation evidence, purges, references, chunked batches.
// Included by cases.rs (its fixtures are in scope): items only, no inner attributes.

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
