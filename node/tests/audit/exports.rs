//! An honest export verifies; deleting, reordering, editing or inserting one entry, or
//! cutting the end, makes verify fail and name the place.

use super::*;

// ---- an honest export ----------------------------------------------------------------------

#[test]
fn an_export_of_a_real_log_verifies() {
    let (_fed, out) = exported();
    for f in [
        "manifest.json",
        "log.jsonl",
        "checkpoints.txt",
        "partner-checkpoints.txt",
        "receipts.txt",
        "keys.json",
        "agreements/QUAD-2026.toml",
        "agreements/TR-BG-2026.toml",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let report = verify_alone(&out);
    assert!(report.is_ok(), "{report}");
    let kinds: BTreeMap<&str, usize> = report.kinds.clone();
    assert_eq!(kinds["config"], 1);
    assert_eq!(kinds["key"], 1);
    assert_eq!(kinds["publish"], 3);
    assert_eq!(kinds["send"], 2);
    assert_eq!(kinds["delivered"], 2);
    assert_eq!(kinds["receive-batch"], 1);
    assert_eq!(kinds["reject"], 1);
    assert_eq!(report.lines, 11);
    assert_eq!(report.receipts, 2);
    assert_eq!(report.own_checkpoints, 1);
    let text = report.to_string();
    assert!(text.contains("audit export of TR-JGK"), "{text}");
    assert!(text.contains("audit export verified"), "{text}");
    // the manifest's head is the signed head
    let m: Manifest =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m.entries, 11);
    let last = log_lines(&out).pop().unwrap();
    assert_eq!(m.head, entry_hash(last.as_bytes()));
    // each line is the entry's exact canonical bytes
    for line in log_lines(&out) {
        let e = AuditEntry::decode(line.as_bytes()).unwrap();
        assert_eq!(e.encode().unwrap(), line.as_bytes());
    }
}

#[test]
fn export_refuses_a_non_empty_directory_and_signs_its_head() {
    let fed = federation();
    let (tr, _, _) = build_log(fed.path());
    let out = fed.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("something"), b"x").unwrap();
    let err = export(
        &tr.store,
        &tr.cfg,
        &tr.key,
        ts("2026-11-28T10:00:00Z"),
        &out,
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::NotEmpty(_)), "{err}");
    assert!(err.to_string().contains("is not empty"), "{err}");
    // an empty existing directory is fine; the export's checkpoint is the store's latest
    let empty = fed.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let before = tr.store.log().audit_head().unwrap();
    let summary = export(
        &tr.store,
        &tr.cfg,
        &tr.key,
        ts("2026-11-28T10:00:00Z"),
        &empty,
    )
    .unwrap();
    assert_eq!(summary.entries, before.count);
    assert_eq!(summary.head, before.hash);
    assert_eq!(
        tr.store.log().audit_head().unwrap(),
        before,
        "export wrote entries"
    );
    assert_eq!(
        tr.store.checkpoints().latest_checkpoint().unwrap().unwrap(),
        summary.checkpoint
    );
    // a key that is not the one the log names is refused
    let other = SecretKey::from_seed(&[9; 32]);
    let err = export(
        &tr.store,
        &tr.cfg,
        &other,
        ts("2026-11-28T10:00:00Z"),
        &fed.path().join("x"),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::WrongKey { .. }), "{err}");
}

// ---- one entry deleted, reordered, edited, inserted; the end cut ---------------------------

#[test]
fn deleting_one_entry_is_named() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| {
        l.remove(4);
    });
    let report = verify_alone(&bad);
    assert_eq!(
        first(&report),
        &AuditProblem::Missing {
            line: 5,
            from: 4,
            to: 4,
            found: 5
        },
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("FAIL log.jsonl line 5: entry 4 is missing (deleted)"),
        "{report}"
    );
}

#[test]
fn reordering_two_entries_is_named() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| l.swap(6, 7));
    let report = verify_alone(&bad);
    assert_eq!(
        first(&report),
        &AuditProblem::Reordered {
            line: 7,
            found: 7,
            expected: 6,
            later: 8
        },
        "{report}"
    );
    assert!(report.to_string().contains("entries were reordered"));
}

#[test]
fn editing_one_byte_of_an_entry_is_named() {
    let (_fed, out) = exported();
    // a digit of the rejection's reason: still canonical JSON, so only the hash tells
    let line = line_of(&out, "\"kind\":\"reject\"");
    let bad = tampered(&out, "log.jsonl", |l| {
        l[line - 1] = l[line - 1].replace("\"code\":2", "\"code\":3");
    });
    let report = verify_alone(&bad);
    match first(&report) {
        AuditProblem::Altered {
            line: l,
            index,
            next_line,
            ..
        } => {
            assert_eq!(*l, line, "{report}");
            assert_eq!(*index, line as u64 - 1);
            assert_eq!(*next_line, line + 1);
        }
        other => panic!("expected the altered entry, got {other}\n{report}"),
    }
    assert!(
        report.to_string().contains(&format!(
            "FAIL log.jsonl line {line}: entry {} was altered",
            line - 1
        )),
        "{report}"
    );

    // a digit of a record id in a send entry
    let line = line_of(&out, "\"kind\":\"send\"");
    let bad = tampered(&out, "log.jsonl", |l| {
        let at = l[line - 1].find("\"record\":\"").unwrap() + 10;
        let mut bytes = l[line - 1].clone().into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        l[line - 1] = String::from_utf8(bytes).unwrap();
    });
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::Altered { line: l, .. } if *l == line),
        "{report}"
    );

    // the last entry: no successor names it, the signed head does
    let last = log_lines(&out).len();
    let bad = tampered(&out, "log.jsonl", |l| {
        let s = &mut l[last - 1];
        *s = s.replace(
            "\"time\":\"2026-11-28T09:50:03Z\"",
            "\"time\":\"2026-11-28T09:50:04Z\"",
        );
    });
    let report = verify_alone(&bad);
    assert!(
        matches!(first(&report), AuditProblem::HeadMismatch { line: l, index, .. } if *l == last && *index == last as u64 - 1),
        "{report}"
    );

    // a byte that makes the line non-canonical
    let bad = tampered(&out, "log.jsonl", |l| l[2] = l[2].replacen(',', ", ", 1));
    let report = verify_alone(&bad);
    assert!(
        matches!(
            first(&report),
            AuditProblem::Unreadable {
                line: 3,
                index: Some(2),
                ..
            }
        ),
        "{report}"
    );
}

#[test]
fn inserting_a_copied_entry_is_named() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| {
        let copy = l[2].clone();
        l.insert(6, copy);
    });
    let report = verify_alone(&bad);
    assert_eq!(
        first(&report),
        &AuditProblem::Inserted {
            line: 7,
            index: 2,
            first: 3,
            copy: true
        },
        "{report}"
    );
    assert!(
        report.to_string().contains(
            "log.jsonl line 7: a second entry 2 (a copy of line 3): an entry was inserted"
        )
    );
}

#[test]
fn cutting_the_end_is_named_even_when_the_manifest_is_fixed() {
    let (_fed, out) = exported();
    let bad = tampered(&out, "log.jsonl", |l| {
        l.pop();
    });
    let report = verify_alone(&bad);
    assert!(
        matches!(
            first(&report),
            AuditProblem::Truncated {
                lines: 10,
                count: 11,
                ..
            }
        ),
        "{report}"
    );
    assert!(
        report.to_string().contains("entry 10 is cut off the end"),
        "{report}"
    );
    // the manifest rewritten to match: the signed checkpoint still counts 11
    let lines = log_lines(&bad);
    let bad = tampered(&bad, "manifest.json", |l| {
        let mut m: Manifest = serde_json::from_str(&l.join("\n")).unwrap();
        m.entries = 10;
        m.head = entry_hash(lines.last().unwrap().as_bytes());
        *l = vec![serde_json::to_string_pretty(&m).unwrap()];
    });
    let report = verify_alone(&bad);
    assert!(
        report.problems.iter().any(|p| matches!(p,
            AuditProblem::Truncated { lines: 10, count: 11, by } if by.contains("checkpoint"))),
        "{report}"
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, AuditProblem::HeadUnsigned { count: 10, .. })),
        "{report}"
    );
}
