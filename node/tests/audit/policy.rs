//! Keys, forks and the send policy against the exported agreements.

use super::*;

// ---- keys, forks and the send policy --------------------------------------------------------

#[test]
fn after_a_key_rotation_old_checkpoints_verify_with_the_key_then_in_force() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let tr = open(fed.path(), "tr-jgk");
    start_entries(&tr, t("08:00:00"));
    publish(&tr, "QUAD-2026", "Boat departure expected.", t("08:10:00"));
    let old = tr
        .store
        .checkpoints()
        .checkpoint(&tr.key, t("08:20:00"))
        .unwrap();
    // `accord keygen`, key_file pointed at the new key: the node logs it before using it
    let new_key = SecretKey::from_seed(&[77; 32]);
    tr.store
        .log()
        .audit_key(
            t("09:00:00"),
            AuditEvent::Key {
                public_key: new_key.public_key(),
            },
        )
        .unwrap();
    publish(&tr, "QUAD-2026", "Second departure.", t("09:10:00"));
    let out = fed.path().join("audit-rotated");
    export(&tr.store, &tr.cfg, &new_key, t("10:00:00"), &out).unwrap();
    let report = verify_alone(&out);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.own_checkpoints, 2, "{report}");
    let history: accord_node::audit::KeyHistory =
        serde_json::from_slice(&std::fs::read(out.join("key-history.json")).unwrap()).unwrap();
    let periods: Vec<_> = history[&agency("TR-JGK")].iter().map(|p| p.key).collect();
    assert_eq!(periods, [tr.key.public_key(), new_key.public_key()]);
    // the old checkpoint is there, signed with the old key
    let lines = std::fs::read_to_string(out.join("checkpoints.txt")).unwrap();
    assert!(lines.contains(&old.to_line()));

    // a checkpoint signed by a key the history does not hold fails
    let stranger = SecretKey::from_seed(&[78; 32]);
    let forged = sign_checkpoint(
        &verify_checkpoint(&old, |_| Some(tr.key.public_key())).unwrap(),
        &stranger,
    )
    .unwrap();
    let bad = tampered(&out, "checkpoints.txt", |l| l.push(forged.to_line()));
    refresh_manifest(&bad);
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::BadCheckpoint { file, line: 3, reason }
            if file == "checkpoints.txt" && reason.contains("does not verify")),
        "{report}"
    );
    // and so does a checkpoint of the whole log signed with the retired key
    let head = tr.store.log().audit_head().unwrap();
    let late = sign_checkpoint(
        &Checkpoint {
            agency: agency("TR-JGK"),
            count: head.count,
            head: head.hash,
            time: t("10:30:00"),
        },
        &tr.key,
    )
    .unwrap();
    let bad = tampered(&out, "checkpoints.txt", |l| l.push(late.to_line()));
    refresh_manifest(&bad);
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::BadCheckpoint { line: 3, .. }),
        "{report}"
    );
}

#[test]
fn a_partners_forked_checkpoints_are_exported_and_reported() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    start_entries(&gr, t("08:00:00"));
    // TR-JGK signs two different histories of the same length
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut signed = Vec::new();
    for (data, reason) in [
        (a.path().join("data"), "first"),
        (b.path().join("data"), "second"),
    ] {
        let data = data.as_path();
        let tr = open_elsewhere(fed.path(), "tr-jgk", data);
        history(&tr, reason);
        signed.push(
            tr.store
                .checkpoints()
                .checkpoint(&tr.key, t("08:30:00"))
                .unwrap(),
        );
    }
    let tr_key = key(fed.path(), "tr-jgk").public_key();
    let c0 = verify_checkpoint(&signed[0], |_| Some(tr_key)).unwrap();
    let c1 = verify_checkpoint(&signed[1], |_| Some(tr_key)).unwrap();
    assert_eq!(c0.count, c1.count);
    assert_ne!(c0.head, c1.head);
    assert_eq!(
        gr.store
            .checkpoints()
            .keep_partner_checkpoint(&c0, &signed[0])
            .unwrap(),
        accord_node::store::Kept::New
    );
    assert!(matches!(
        gr.store
            .checkpoints()
            .keep_partner_checkpoint(&c1, &signed[1])
            .unwrap(),
        accord_node::store::Kept::Forked { .. }
    ));
    let out = fed.path().join("audit-gr");
    export_to(&gr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert_eq!(
        report.problems,
        vec![AuditProblem::PartnerFork {
            agency: agency("TR-JGK"),
            count: c0.count,
            first_file: "partner-checkpoints.txt".into(),
            first: 1,
            file: "partner-forks.txt".into(),
            line: 1,
        }],
        "{report}"
    );
}

#[test]
fn a_send_of_a_category_its_agreement_does_not_permit_is_named() {
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    // TR-BG-2026 permits no vessel records
    let sent = SentContent {
        category: accord_protocol::Category::Vessel,
        ..alert_content("2026-11-28T09:55:00Z")
    };
    tr.store
        .log()
        .audit(
            ts("2026-11-28T09:56:00Z"),
            vec![AuditEvent::Send {
                record: RecordId::from_bytes([7; 32]),
                agreement: agreement("TR-BG-2026"),
                originator: agency("TR-JGK"),
                to: agency("BG-GDBP"),
                content: Some(sent),
            }],
        )
        .unwrap();
    let out = fed.path().join("audit");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert!(
        matches!(&report.problems[..], [AuditProblem::SendNotAllowed { line: 12, index: 11, record, agreement: a, reason }]
            if *record == RecordId::from_bytes([7; 32]) && a.as_str() == "TR-BG-2026"
                && reason.contains("does not permit category vessel")),
        "{report}"
    );
    assert!(
        report.to_string().contains("line 12 (entry 11, send)"),
        "{report}"
    );
}

#[test]
fn a_lookup_under_an_agreement_without_matching_or_with_a_non_member_is_named() {
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    let epoch =
        accord_protocol::matching::Epoch::containing(ts("2026-11-28T09:56:00Z"), 1).unwrap();
    let answered = |agreement: &str, from: &str| AuditEvent::LookupAnswered {
        from: agency(from),
        agreement: self::agreement(agreement),
        epoch,
        selectors: 1,
        today: 1,
    };
    tr.store
        .log()
        .audit(
            ts("2026-11-28T09:56:00Z"),
            vec![
                // QUAD-2026 provides for matching and PK-FIA is a member: no problem
                answered("QUAD-2026", "PK-FIA"),
                // TR-BG-2026 has no [matching] clause
                answered("TR-BG-2026", "BG-GDBP"),
                // BG-GDBP is no member of QUAD-2026
                answered("QUAD-2026", "BG-GDBP"),
                // past QUAD-2026's 100 a day
                AuditEvent::LookupAnswered {
                    from: agency("PK-FIA"),
                    agreement: self::agreement("QUAD-2026"),
                    epoch,
                    selectors: 1,
                    today: 101,
                },
            ],
        )
        .unwrap();
    let out = fed.path().join("audit");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert!(
        matches!(&report.problems[..], [
            AuditProblem::NoMatching { index: 12, kind: "lookup-answered", agreement: a, .. },
            AuditProblem::NotMember { index: 13, agency: b, .. },
            AuditProblem::OverQuota { index: 14, today: 101, limit: 100, .. },
        ] if a.as_str() == "TR-BG-2026" && b.as_str() == "BG-GDBP"),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("TR-BG-2026 has no [matching] clause"),
        "{report}"
    );
}

#[test]
fn a_send_under_an_agreement_without_every_members_signature_fails() {
    let (_fed, out) = exported();
    // the export without PK-FIA's signature of QUAD-2026
    let bad = tampered(&out, "agreements/QUAD-2026.toml.sigs", |l| {
        l.retain(|line| !line.starts_with("PK-FIA"));
    });
    refresh_manifest(&bad);
    let report = verify_alone(&bad);
    assert!(
        report.problems.iter().all(|p| matches!(p,
            AuditProblem::SendNotAllowed { reason, .. } if reason.contains("by PK-FIA"))),
        "{report}"
    );
    assert_eq!(report.problems.len(), 2, "one per send entry: {report}");
}

#[test]
fn a_partners_key_change_is_logged_and_receipts_verify_with_the_key_of_their_time() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let mut tr = open(fed.path(), "tr-jgk");
    let gr = open(fed.path(), "gr-hcg");
    start_entries(&tr, t("08:00:00"));
    let r1 = publish(&tr, "QUAD-2026", "Before GR-HCG's new key.", t("08:10:00"));
    send_and_deliver(&tr, &gr, r1, "QUAD-2026", t("08:11:00"));
    // GR-HCG rotates; TR-JGK's operator enters its new key
    let gr_new = Node {
        key: SecretKey::from_seed(&[88; 32]),
        ..gr
    };
    tr.cfg
        .agencies
        .get_mut(&agency("GR-HCG"))
        .unwrap()
        .public_key = gr_new.key.public_key();
    accord_node::audit::log_configuration(&tr.store, &tr.cfg, t("09:00:00")).unwrap();
    let r2 = publish(&tr, "QUAD-2026", "After.", t("09:10:00"));
    send_and_deliver(&tr, &gr_new, r2, "QUAD-2026", t("09:11:00"));
    let configs = tr
        .store
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .filter(|b| {
            matches!(
                AuditEntry::decode(b).unwrap().event,
                AuditEvent::Config { .. }
            )
        })
        .count();
    assert_eq!(configs, 2, "the partner's key change is a config entry");
    let out = fed.path().join("audit-tr");
    export_to(&tr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.receipts, 2);
}

#[test]
fn inserting_a_made_up_entry_is_named() {
    // not a copy: a new entry written by the rules (canonical, the right index, the `prev` of
    // the entry before it), slipped in before the real entry 5
    let (_fed, out) = exported();
    let lines = log_lines(&out);
    let before = AuditEntry::decode(lines[4].as_bytes()).unwrap();
    let made_up = AuditEntry {
        agency: agency("TR-JGK"),
        index: 5,
        prev: entry_hash(lines[4].as_bytes()),
        time: before.time,
        event: AuditEvent::Reject {
            from: agency("IR-FARAJA"),
            code: 2,
            reason: "a refusal that never happened".into(),
        },
    }
    .encode()
    .unwrap();
    let made_up = String::from_utf8(made_up).unwrap();
    assert!(!lines.contains(&made_up));
    let bad = tampered(&out, "log.jsonl", |l| l.insert(5, made_up.clone()));
    let report = verify_alone(&bad);
    // the made-up entry breaks the link from the real entry 6, and the real entry 5 is a
    // second entry 5
    assert!(
        matches!(
            first(&report),
            AuditProblem::Altered {
                line: 6,
                index: 5,
                next_index: 6,
                ..
            }
        ),
        "{report}"
    );
    assert!(
        report.problems.contains(&AuditProblem::Inserted {
            line: 7,
            index: 5,
            first: 6,
            copy: false,
        }),
        "{report}"
    );
}

#[test]
fn a_refused_record_is_logged_once_by_the_receive_path() {
    let fed = federation();
    let cfg_path = fed.path().join("tr-jgk").join("node.toml");
    let file = fed.path().join("forged.signed");
    {
        let tr = open(fed.path(), "tr-jgk");
        start_entries(&tr, ts("2026-11-28T09:00:00Z"));
        // a record of PK-FIA's signed with another key: refused for its signature
        let pk = open(fed.path(), "pk-fia");
        let id = publish(
            &pk,
            "QUAD-2026",
            "Group of 20 left Quetta.",
            ts("2026-11-28T09:10:00Z"),
        );
        let env = pk.store.records().get(&id).unwrap().unwrap().envelope;
        let forged = accord_protocol::sign(
            &accord_protocol::canonical::decode_record(env.record_bytes()).unwrap(),
            &SecretKey::from_seed(&[9; 32]),
        )
        .unwrap();
        accord_node::files::write_signed(&file, &forged).unwrap();
    }
    // the same receive path as a push, run by `accord import` with the node stopped
    let out = accord(&[
        "import",
        "--config",
        cfg_path.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let tr = open(fed.path(), "tr-jgk");
    let rejects: Vec<AuditEntry> = tr
        .store
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .map(|b| AuditEntry::decode(b).unwrap())
        .filter(|e| matches!(e.event, AuditEvent::Reject { .. }))
        .collect();
    // written by the receive path itself (flushed before the refusal is returned), once
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert!(
        matches!(&rejects[0].event, AuditEvent::Reject { code: 2, reason, .. } if reason.contains("not PK-FIA's registered key")),
        "{rejects:?}"
    );
}
