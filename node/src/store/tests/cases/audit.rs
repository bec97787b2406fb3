// The audit log, the outbox it settles, receipts and partners' checkpoints.
// Included by cases.rs (its fixtures are in scope): items only, no inner attributes.

#[test]
fn a_partner_checkpoint_is_never_replaced_and_a_second_history_is_kept_as_a_fork() {
    use accord_protocol::audit::{Checkpoint, Digest32, sign_checkpoint};
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
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
        store.checkpoints().keep_partner_checkpoint(&honest, &s1).unwrap(),
        Kept::New
    );
    assert_eq!(
        store.checkpoints().keep_partner_checkpoint(&honest, &s1).unwrap(),
        Kept::Known
    );
    assert!(
        matches!(store.checkpoints().keep_partner_checkpoint(&rewritten, &s2).unwrap(), Kept::Forked { held } if held == s1)
    );
    assert_eq!(
        store.checkpoints().partner_checkpoints().unwrap(),
        vec![s1],
        "the first checkpoint stays"
    );
    assert_eq!(store.checkpoints().checkpoint_forks().unwrap(), vec![s2]);
}

#[test]
fn settling_the_outbox_removes_entries_and_logs_them_in_one_batch() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let pk = AgencyId::new("PK-FIA").unwrap();
    store.bind_agency(&tr).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let ids: Vec<RecordId> = (1..=2)
        .map(|i| {
            store
                .own().publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
                    Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), i)))
                })
                .unwrap()
                .unwrap()
        })
        .collect();
    let outbox = store.outbox().for_peer(&pk, 10, |_| false).unwrap();
    assert_eq!(outbox.len(), 2);
    let before = store.log().audit_head().unwrap().count;
    let withheld = AuditEvent::Withheld {
        record: ids[0],
        to: pk.clone(),
        code: 0,
        reason: "agreement QUAD-2026 is no longer in force".into(),
    };
    store
        .outbox().settle(
            now(),
            std::slice::from_ref(&outbox[0].0),
            Vec::new(),
            vec![withheld.clone()],
        )
        .unwrap();
    // the entry left the outbox, and the log's next entry says why, with nothing between
    let left: Vec<RecordId> = store
        .outbox().for_peer(&pk, 10, |_| false)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.id())
        .collect();
    assert_eq!(left, [ids[1]]);
    let entries = store.log().audit_entries().unwrap();
    assert_eq!(entries.len() as u64, before + 1);
    let last = accord_protocol::audit::AuditEntry::decode(entries.last().unwrap()).unwrap();
    assert_eq!(last.event, withheld);
    // nothing to settle writes nothing
    store
        .outbox().settle(now(), &[], Vec::new(), Vec::new())
        .unwrap();
    assert_eq!(store.log().audit_head().unwrap().count, before + 1);
}

#[test]
fn audit_entries_count_as_durable_only_after_a_flush_covers_them() {
    let dir = private_tempdir().unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let send = AuditEvent::Send {
        record: RecordId::from_bytes([5; 32]),
        agreement: AgreementId::new("QUAD-2026").unwrap(),
        originator: tr.clone(),
        to: AgencyId::new("PK-FIA").unwrap(),
        content: None,
    };
    {
        let store = open(dir.path()).unwrap();
        store.bind_agency(&tr).unwrap();
        assert_eq!(store.durable_audit_count(), 0);
        store.log().audit(now(), vec![send.clone()]).unwrap();
        assert_eq!(store.log().audit_head().unwrap().count, 1);
        assert_eq!(
            store.durable_audit_count(),
            0,
            "applied is not durable: a crash now could lose the entry"
        );
        store.flush().unwrap();
        assert_eq!(store.durable_audit_count(), 1);
        store
            .log().audit(now(), vec![send.clone(), send.clone()])
            .unwrap();
        assert_eq!(store.durable_audit_count(), 1);
        store.flush().unwrap();
        assert_eq!(store.durable_audit_count(), 3);
    }
    // a reopened store counts what it holds as durable (the reopen waits for sled to release
    // its file lock, which a loaded machine can delay: a CI run failed on it)
    let store = open_waiting(dir.path(), std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(store.durable_audit_count(), 3);
}

#[test]
fn a_purged_records_outbox_entry_leaves_with_a_withheld_entry() {
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let pk = AgencyId::new("PK-FIA").unwrap();
    store.bind_agency(&tr).unwrap();
    let k = keys();
    let agreement = AgreementId::new("QUAD-2026").unwrap();
    let id = store
        .own().publish(&agreement, &tr, now(), std::slice::from_ref(&pk), |s| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", s.get(), 1)))
        })
        .unwrap()
        .unwrap();
    store.records().purge(&[id], now(), "past retention").unwrap();
    assert!(store.outbox().for_peer(&pk, 10, |_| false).unwrap().is_empty());
    assert_eq!(
        store.outbox().depths().unwrap().get(&pk),
        None,
        "the entry is gone"
    );
    let last =
        accord_protocol::audit::AuditEntry::decode(store.log().audit_entries().unwrap().last().unwrap())
            .unwrap();
    match last.event {
        AuditEvent::Withheld {
            record,
            to,
            code,
            reason,
        } => {
            assert_eq!((record, to, code), (id, pk, 0));
            assert!(reason.contains("purged here"), "{reason}");
        }
        other => panic!("expected a withheld entry, got {other:?}"),
    }
}

/// A batch receipt covering n records is kept once, each record naming it by its hash: every
/// record's receipts name it, the store's receipts list it once, and a receipt a store written
/// before kept per record (the line itself) is read as before.
#[test]
fn a_batch_receipt_is_kept_once_for_the_records_it_covers() {
    use accord_protocol::audit::AuditEvent;
    use accord_protocol::receipt::{BatchReceipt, sign_batch_receipt};
    let dir = private_tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let k = keys();
    let gr = AgencyId::new("GR-HCG").unwrap();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let ids: Vec<RecordId> = (1..=5)
        .map(|i| verified(&k, &record("TR-JGK", "QUAD-2026", i, i)).id)
        .collect();
    let signed = |ids: &[RecordId]| {
        sign_batch_receipt(
            &BatchReceipt::of(quad.clone(), gr.clone(), now(), ids).unwrap(),
            &k.secret[&gr],
        )
        .unwrap()
    };
    let receipt = signed(&ids[..4]);
    let deliveries = ids[..4]
        .iter()
        .map(|id| Delivery {
            outbox: None,
            record: *id,
            receiver: gr.clone(),
            receipt: receipt.clone(),
        })
        .collect();
    let event = AuditEvent::DeliveredPush {
        records: ids[..4].to_vec(),
        agreement: quad.clone(),
        to: gr.clone(),
        receipt: accord_protocol::audit::sha256(&receipt.bytes),
    };
    store
        .outbox()
        .delivered(now(), deliveries, vec![event])
        .unwrap();
    // a receipt as a store written before kept it: the line, under the record
    let old = signed(&ids[4..]);
    store
        .raw_tree()
        .insert(keys::receipt(&ids[4], &gr), old.to_line().into_bytes())
        .unwrap();
    for id in &ids[..4] {
        assert_eq!(store.checkpoints().receipts_for(id).unwrap(), vec![receipt.clone()]);
    }
    assert_eq!(store.checkpoints().receipts_for(&ids[4]).unwrap(), vec![old.clone()]);
    let mut all = store.checkpoints().receipts().unwrap();
    all.sort_by(|a, b| a.bytes.cmp(&b.bytes));
    let mut want = vec![receipt.clone(), old];
    want.sort_by(|a, b| a.bytes.cmp(&b.bytes));
    assert_eq!(all, want, "each receipt once");
    // the receipt's bytes are held once, however many records it covers
    let line = receipt.to_line().into_bytes();
    let copies = store
        .raw_tree()
        .iter()
        .filter(|e| e.as_ref().unwrap().1.as_ref() == line.as_slice())
        .count();
    assert_eq!(copies, 1);
}
