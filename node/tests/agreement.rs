//! The model MoU's templates: both are valid agreements once their placeholders are filled,
//! and `accord agreement new/check` behave as documented.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::accord;
use std::path::Path;

use accord_config::{AgreementKind, parse_agreement};

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
    // the placeholder id is refused too; the example members and a future start are warned of
    let check = accord(&["agreement", "check", f]);
    let err = String::from_utf8_lossy(&check.stderr).into_owned();
    assert_eq!(check.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`XX-YY-2027` is the template's placeholder id"),
        "{err}"
    );
    let own_id = std::fs::read_to_string(&file)
        .unwrap()
        .replace("id = \"XX-YY-2027\"", "id = \"TR-BG-2027\"");
    std::fs::write(&file, own_id).unwrap();
    let check = accord(&["agreement", "check", f]);
    let err = String::from_utf8_lossy(&check.stderr).into_owned();
    assert!(
        err.contains("the members BG-GDBP, TR-JGK are the template's examples"),
        "{err}"
    );
    assert!(
        err.contains("not in effect before 2027-01-01 (valid_from)"),
        "{err}"
    );
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

/// A federation written like `accord demo`'s, with QUAD-2026's signature file emptied of
/// every signature, as before anyone signed.
fn unsigned_federation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    std::fs::remove_file(dir.path().join("agreements/quad-2026.toml.sigs")).unwrap();
    dir
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn sign_adds_each_members_signature_and_check_shows_when_it_takes_effect() {
    let fed = unsigned_federation();
    let f = fed.path();
    let file = f.join("agreements/quad-2026.toml");
    let file_s = file.to_str().unwrap();
    let cfg = |who: &str| f.join(who).join("node.toml").to_str().unwrap().to_owned();

    let check = accord(&["config", "check", &cfg("tr-jgk")]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains(
            "QUAD-2026: NOT IN EFFECT, missing the signature of GR-HCG, IR-FARAJA, PK-FIA, TR-JGK"
        ),
        "{}",
        text(&check)
    );

    let o = accord(&["agreement", "sign", file_s, "--config", &cfg("tr-jgk")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("as TR-JGK: added to"), "{}", text(&o));
    assert!(text(&o).contains("not yet signed here by: GR-HCG, IR-FARAJA, PK-FIA"));
    let again = accord(&["agreement", "sign", file_s, "--config", &cfg("tr-jgk")]);
    assert!(again.status.success());
    assert!(text(&again).contains("already holds TR-JGK's signature"));

    // with --key and --agency instead of a configuration
    for who in ["pk-fia", "ir-faraja", "gr-hcg"] {
        let key = f.join(who).join("agency.key");
        let o = accord(&[
            "agreement",
            "sign",
            file_s,
            "--key",
            key.to_str().unwrap(),
            "--agency",
            &who.to_ascii_uppercase(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let sigs = std::fs::read_to_string(f.join("agreements/quad-2026.toml.sigs")).unwrap();
    let lines = accord_protocol::agreement::parse_signature_file(&sigs).unwrap();
    assert_eq!(lines.len(), 4);
    let check = accord(&["config", "check", &cfg("tr-jgk")]);
    assert!(
        text(&check).contains("QUAD-2026: signed by every member"),
        "{}",
        text(&check)
    );

    // a non-member cannot sign
    let bg = accord(&["agreement", "sign", file_s, "--config", &cfg("bg-gdbp")]);
    assert_eq!(bg.status.code(), Some(1));
    assert!(
        text(&bg).contains("BG-GDBP is not a member of agreement QUAD-2026"),
        "{}",
        text(&bg)
    );

    // an edit breaks every signature: check names each stale line, and the node refuses to
    // use the file until the members sign the new text
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("retention_days = 1095", "retention_days = 1000");
    std::fs::write(&file, edited).unwrap();
    let check = accord(&["config", "check", &cfg("gr-hcg")]);
    assert_eq!(check.status.code(), Some(1));
    let t = text(&check);
    assert!(
        t.contains("quad-2026.toml.sigs:")
            && t.contains("the signature of TR-JGK on agreement QUAD-2026 does not verify"),
        "{t}"
    );
    let o = accord(&["agreement", "sign", file_s, "--config", &cfg("gr-hcg")]);
    assert!(
        text(&o).contains("replaced GR-HCG's signature of an earlier text"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_bad_signature_file_is_refused_with_its_line() {
    let fed = unsigned_federation();
    let f = fed.path();
    std::fs::write(
        f.join("agreements/quad-2026.toml.sigs"),
        "# signatures\nTR-JGK 00ff\nBG-GDBP 00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .unwrap();
    let check = accord(&[
        "config",
        "check",
        f.join("tr-jgk/node.toml").to_str().unwrap(),
    ]);
    assert_eq!(check.status.code(), Some(1));
    let t = text(&check);
    assert!(
        t.contains("quad-2026.toml.sigs:2:1") && t.contains("not 128 hex digits"),
        "{t}"
    );
}
