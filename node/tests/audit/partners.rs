//! Partners' checkpoints: a rewritten history or a second one is caught.

use super::*;

// ---- partners' checkpoints -----------------------------------------------------------------

#[test]
fn a_partners_checkpoint_catches_a_rewritten_history() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    let honest_out = fed.path().join("audit-tr");
    let rewritten_out = fed.path().join("audit-tr-rewritten");
    let gr_out = fed.path().join("audit-gr");
    {
        // the history as it happened: Greece keeps Turkey's checkpoint of it
        let tr = open(fed.path(), "tr-jgk");
        history(&tr, "IR-FARAJA is not a member of TR-BG-2026");
        let early = tr
            .store
            .checkpoints()
            .checkpoint(&tr.key, t("08:30:00"))
            .unwrap();
        let c = verify_checkpoint(&early, |_| Some(tr.key.public_key())).unwrap();
        assert_eq!(c.count, 4);
        gr.store
            .checkpoints()
            .keep_partner_checkpoint(&c, &early)
            .unwrap();
        // later entries change nothing of what was signed
        publish(&tr, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&tr, &honest_out, "2026-11-28T09:00:00Z");

        // the same agency, a different history: entry 2 says something else, and the chain
        // was recomputed and re-signed with the same key
        let data = fed.path().join("rewritten-data");
        let forged = open_elsewhere(fed.path(), "tr-jgk", &data);
        history(&forged, "nothing was refused");
        forged
            .store
            .checkpoints()
            .checkpoint(&forged.key, t("08:30:00"))
            .unwrap();
        publish(&forged, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&forged, &rewritten_out, "2026-11-28T09:00:00Z");
    }
    export(&gr.store, &gr.cfg, &gr.key, t("09:05:00"), &gr_out).unwrap();

    // on its own, the rewritten export is consistent: only a partner's copy can tell
    let alone = verify_alone(&rewritten_out);
    assert!(alone.is_ok(), "{alone}");

    let honest = verify_export(&honest_out, std::slice::from_ref(&gr_out));
    assert!(honest.is_ok(), "{honest}");
    assert_eq!(honest.partners.len(), 1);
    assert_eq!(honest.partners[0].agency, Some(agency("GR-HCG")));
    assert_eq!(honest.partners[0].checkpoints, 1);
    assert_eq!(honest.partners[0].consistent, 1);

    let caught = verify_export(&rewritten_out, std::slice::from_ref(&gr_out));
    assert!(!caught.is_ok(), "{caught}");
    match first(&caught) {
        AuditProblem::Rewritten {
            partner,
            agency: a,
            count,
            ..
        } => {
            assert_eq!(partner, &agency("GR-HCG"));
            assert_eq!(a, &agency("TR-JGK"));
            assert_eq!(*count, 4);
        }
        other => panic!("expected a rewrite, got {other}\n{caught}"),
    }
    let text = caught.to_string();
    assert!(text.contains("TR-JGK REWROTE its history"), "{text}");
    assert!(text.contains("at or before entry 3"), "{text}");

    // a partner's checkpoint of more entries than the log holds, signed before the export:
    // the end was cut
    let cut = tampered(&honest_out, "log.jsonl", |l| l.truncate(3));
    let report = verify_export(&cut, std::slice::from_ref(&gr_out));
    assert!(
        report.problems.iter().any(|p| matches!(
            p,
            AuditProblem::PartnerTruncated {
                count: 4,
                lines: 3,
                ..
            }
        )),
        "{report}"
    );
}

/// What partners are given now is a slot checkpoint (docs/auditing.md §2): it names the hash
/// of the log's `slot` entry, and catches a rewritten history as the counted one did.
#[test]
fn a_partners_slot_checkpoint_catches_a_rewritten_history_also_from_a_partner_only_export() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    let honest_out = fed.path().join("audit-tr");
    let rewritten_out = fed.path().join("audit-tr-rewritten");
    let gr_out = fed.path().join("audit-gr");
    let slot = 2_993_088; // 2026-11-28T08:00:00Z: 1795852800 s / 600
    {
        let tr = open(fed.path(), "tr-jgk");
        history(&tr, "IR-FARAJA is not a member of TR-BG-2026");
        let signed = tr
            .store
            .checkpoints()
            .slot_checkpoint(&tr.key, slot, t("08:30:00"))
            .unwrap();
        let c = verify_slot_checkpoint(&signed, |_| Some(tr.key.public_key())).unwrap();
        assert_eq!(c.slot, slot);
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c, &signed)
            .unwrap();
        publish(&tr, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&tr, &honest_out, "2026-11-28T09:00:00Z");

        let data = fed.path().join("rewritten-data");
        let forged = open_elsewhere(fed.path(), "tr-jgk", &data);
        history(&forged, "nothing was refused");
        forged
            .store
            .checkpoints()
            .slot_checkpoint(&forged.key, slot, t("08:30:00"))
            .unwrap();
        publish(&forged, "QUAD-2026", "Second boat expected.", t("08:40:00"));
        export_to(&forged, &rewritten_out, "2026-11-28T09:00:00Z");
    }
    export(&gr.store, &gr.cfg, &gr.key, t("09:05:00"), &gr_out).unwrap();

    let alone = verify_alone(&rewritten_out);
    assert!(alone.is_ok(), "{alone}");
    let honest = verify_export(&honest_out, std::slice::from_ref(&gr_out));
    assert!(honest.is_ok(), "{honest}");
    assert_eq!(honest.partners[0].checkpoints, 1, "{honest}");
    assert_eq!(honest.partners[0].consistent, 1, "{honest}");

    let caught = verify_export(&rewritten_out, std::slice::from_ref(&gr_out));
    match first(&caught) {
        AuditProblem::RewrittenSlot {
            partner,
            agency: a,
            slot: s,
            actual: Some(_),
            ..
        } => {
            assert_eq!(partner, &agency("GR-HCG"));
            assert_eq!(a, &agency("TR-JGK"));
            assert_eq!(*s, slot);
        }
        other => panic!("expected a rewrite, got {other}\n{caught}"),
    }
    assert!(
        caught.to_string().contains("TR-JGK REWROTE its history"),
        "{caught}"
    );

    // a partner-only export of GR-HCG about TR-JGK does the same check and tells nothing else:
    // not GR-HCG's log, nor the checkpoints it keeps of PK-FIA
    {
        let pk = open(fed.path(), "pk-fia");
        let signed = pk
            .store
            .checkpoints()
            .slot_checkpoint(&pk.key, slot, t("08:31:00"))
            .unwrap();
        let c = verify_slot_checkpoint(&signed, |_| Some(pk.key.public_key())).unwrap();
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c, &signed)
            .unwrap();
    }
    let only = fed.path().join("audit-gr-about-tr");
    let built = accord_node::audit::build_partner_only(
        &gr.store,
        &gr.cfg,
        &gr.key,
        &agency("TR-JGK"),
        t("09:06:00"),
    )
    .unwrap();
    built.write(&only).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&only)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "keys.json",
            "manifest.json",
            "partner-checkpoints.txt",
            "partner-forks.txt"
        ]
    );
    let held = std::fs::read_to_string(only.join("partner-checkpoints.txt")).unwrap();
    assert_eq!(held.lines().count(), 1, "{held}");
    assert!(
        held.contains("TR-JGK") && !held.contains("PK-FIA"),
        "{held}"
    );
    let keys: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(only.join("keys.json")).unwrap()).unwrap();
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["GR-HCG", "TR-JGK"]);
    let manifest = std::fs::read_to_string(only.join("manifest.json")).unwrap();
    assert!(
        !manifest.contains("entries") && !manifest.contains("head"),
        "{manifest}"
    );
    let honest = verify_export(&honest_out, std::slice::from_ref(&only));
    assert!(honest.is_ok(), "{honest}");
    assert_eq!(honest.partners[0].consistent, 1, "{honest}");
    let caught = verify_export(&rewritten_out, std::slice::from_ref(&only));
    assert!(
        matches!(first(&caught), AuditProblem::RewrittenSlot { .. }),
        "{caught}"
    );
    let about_pk = fed.path().join("audit-gr-about-pk");
    accord_node::audit::build_partner_only(
        &gr.store,
        &gr.cfg,
        &gr.key,
        &agency("PK-FIA"),
        t("09:07:00"),
    )
    .unwrap()
    .write(&about_pk)
    .unwrap();
    let wrong = verify_export(&honest_out, std::slice::from_ref(&about_pk));
    assert!(
        wrong
            .to_string()
            .contains("it is a partner-only export about PK-FIA, not about TR-JGK"),
        "{wrong}"
    );

    // the slot entry cut from the log: nothing left for the partner's checkpoint to name
    let cut = tampered(&honest_out, "log.jsonl", |l| l.truncate(4));
    refresh_manifest(&cut);
    let report = verify_export(&cut, std::slice::from_ref(&gr_out));
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, AuditProblem::RewrittenSlot { actual: None, .. })),
        "{report}"
    );
}

#[test]
fn a_partners_forked_slot_checkpoints_are_exported_and_reported() {
    let fed = federation();
    let t = |s: &str| ts(&format!("2026-11-28T{s}Z"));
    let gr = open(fed.path(), "gr-hcg");
    start_entries(&gr, t("08:00:00"));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut signed = Vec::new();
    for (data, reason) in [
        (a.path().join("data"), "first"),
        (b.path().join("data"), "second"),
    ] {
        let tr = open_elsewhere(fed.path(), "tr-jgk", data.as_path());
        history(&tr, reason);
        signed.push(
            tr.store
                .checkpoints()
                .slot_checkpoint(&tr.key, 7, t("08:30:00"))
                .unwrap(),
        );
    }
    let tr_key = key(fed.path(), "tr-jgk").public_key();
    let c0 = verify_slot_checkpoint(&signed[0], |_| Some(tr_key)).unwrap();
    let c1 = verify_slot_checkpoint(&signed[1], |_| Some(tr_key)).unwrap();
    assert_ne!(c0.head, c1.head);
    assert_eq!(
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c0, &signed[0])
            .unwrap(),
        accord_node::store::Kept::New
    );
    assert_eq!(
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c0, &signed[0])
            .unwrap(),
        accord_node::store::Kept::Known
    );
    assert!(matches!(
        gr.store
            .checkpoints()
            .keep_partner_slot_checkpoint(&c1, &signed[1])
            .unwrap(),
        accord_node::store::Kept::Forked { .. }
    ));
    let out = fed.path().join("audit-gr");
    export_to(&gr, &out, "2026-11-28T10:00:00Z");
    let report = verify_alone(&out);
    assert_eq!(
        report.problems,
        vec![AuditProblem::PartnerSlotFork {
            agency: agency("TR-JGK"),
            slot: 7,
            first_file: "partner-checkpoints.txt".into(),
            first: 1,
            file: "partner-forks.txt".into(),
            line: 1,
        }],
        "{report}"
    );
}
