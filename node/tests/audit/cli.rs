//! `accord audit export` and `accord audit verify` on the command line.

use super::*;

// ---- the command line ----------------------------------------------------------------------

#[test]
fn the_cli_exports_verifies_and_exits_non_zero_on_tampering() {
    let fed = federation();
    let cfg = fed.path().join("tr-jgk/node.toml");
    let cfg = cfg.to_str().unwrap();
    let draft = fed.path().join("draft.json");
    std::fs::write(
        &draft,
        r#"{"agreement":"QUAD-2026","category":"alert","handling":"H1","grading":"B2","summary":"Boat departure expected."}"#,
    )
    .unwrap();
    for _ in 0..3 {
        let out = accord(&["publish", "--config", cfg, draft.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let checkpoint = accord(&["audit", "checkpoint", "--config", cfg]);
    let stdout = String::from_utf8_lossy(&checkpoint.stdout);
    assert!(checkpoint.status.success(), "{stdout}");
    // the first command logged the configuration, the agency's own signatures of its two
    // agreements and its key before it signed anything: 4 entries, then the 3 publishes
    assert!(
        stdout.contains("checkpoint of TR-JGK: 7 entries"),
        "{stdout}"
    );
    let line = stdout.lines().nth(1).unwrap();
    assert!(Signed::from_line(line).is_ok(), "{line}");
    let out = accord(&["publish", "--config", cfg, draft.to_str().unwrap()]);
    assert!(out.status.success());

    let dir = fed.path().join("audit");
    let d = dir.to_str().unwrap();
    let out = accord(&["audit", "export", "--config", cfg, "--out", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 entries"));
    let again = accord(&["audit", "export", "--config", cfg, "--out", d]);
    assert_eq!(again.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));

    let ok = accord(&["audit", "verify", d]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("audit export verified"), "{stdout}");
    assert!(stdout.contains("4 publish"), "{stdout}");
    assert!(
        stdout.contains("2 agreement-signature, 1 config, 1 key"),
        "{stdout}"
    );
    // both checkpoints (the one asked for and the export's) are in the export
    assert!(stdout.contains("checkpoints: 2 own"), "{stdout}");

    let bad = tampered(&dir, "log.jsonl", |l| {
        l.remove(1);
    });
    let failed = accord(&["audit", "verify", bad.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(failed.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL log.jsonl line 2: entry 1 is missing (deleted)"),
        "{stdout}"
    );
    assert!(stdout.contains("audit export FAILED"), "{stdout}");

    // --partner with an export that is not one
    let partner = fed.path().join("nothing");
    std::fs::create_dir(&partner).unwrap();
    let out = accord(&["audit", "verify", d, "--partner", partner.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("partner export"));
    let missing = accord(&["audit", "verify", fed.path().join("none").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
}
