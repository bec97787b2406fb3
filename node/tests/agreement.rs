//! The model MoU's templates: both are valid agreements once their placeholders are filled,
//! and `accord agreement new/check` behave as documented.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use accord_config::{AgreementKind, parse_agreement};

fn accord(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn both_templates_are_valid_agreements() {
    for (name, kind, members) in [
        ("bilateral", AgreementKind::Bilateral, 2),
        ("multilateral", AgreementKind::Multilateral, 4),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(format!("{name}.toml"));
        let a = parse_agreement(&path, &std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.kind, kind);
        assert_eq!(a.members.len(), members);
        assert_eq!(a.focal_points.len(), members);
    }
}

#[test]
fn new_writes_a_template_that_check_refuses_until_filled() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.toml");
    let f = file.to_str().unwrap();
    assert!(
        accord(&["agreement", "new", "--template", "bilateral", "--out", f])
            .status
            .success()
    );
    let again = accord(&["agreement", "new", "--template", "bilateral", "--out", f]);
    assert_eq!(again.status.code(), Some(3), "overwrote the file");
    let check = accord(&["agreement", "check", f]);
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).contains("still marked REPLACE"));
    let filled = std::fs::read_to_string(&file)
        .unwrap()
        .replace("REPLACE: ", "");
    std::fs::write(&file, filled).unwrap();
    let check = accord(&["agreement", "check", f]);
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        out.contains("sha-256: ") && out.contains("is a valid agreement"),
        "{out}"
    );
    // a mistake is named with its position
    let broken = std::fs::read_to_string(&file)
        .unwrap()
        .replace("retention_days = 730", "retention_days = 0");
    std::fs::write(&file, broken).unwrap();
    let check = accord(&["agreement", "check", f]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&check.stderr).contains("retention_days"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let bad = accord(&["agreement", "new", "--template", "trilateral"]);
    assert_eq!(bad.status.code(), Some(1));
}
