//! Running a node day to day: routine work against a running node, the data directory kept
//! private, one retention rule, alarms in status, logs, notifications, paged lists, metrics —
//! each test named after what a new operator found (docs/operations.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::text;

/// The permission bits of a path.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every path below `dir` whose mode is not 0700 (directories) or 0600 (files).
fn not_private(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        if mode(&path) != want {
            out.push(format!("{} {:04o}", path.display(), mode(&path)));
        }
        if path.is_dir() {
            out.extend(not_private(&path));
        }
    }
    out
}

/// `accord ARGS` under umask 022, as a shell with the usual umask would run it.
fn accord_umask_022(args: &[&str]) -> std::process::Output {
    let mut script = String::from("umask 022; exec \"$0\"");
    for (i, _) in args.iter().enumerate() {
        script.push_str(&format!(" \"${}\"", i + 1));
    }
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("ACCORD_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn init_makes_the_store_private_whatever_the_umask() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("th-dsi");
    let out = accord_umask_022(&["init", "--agency", "TH-DSI", "--dir", dir.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let data = dir.join("data");
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(not_private(&data), Vec::<String>::new());
    for file in ["agency.key", "api.token"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    // a command that writes to the store (its configuration entry) keeps it private
    let config = dir.join("node.toml");
    let out = accord_umask_022(&["query", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(not_private(&data), Vec::<String>::new());

    // a data directory that others may read is refused, naming the command that fixes it, by
    // the node and by every command that opens the store
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for args in [
        vec!["run", "--config", config.to_str().unwrap()],
        vec!["query", "--config", config.to_str().unwrap()],
    ] {
        let out = common::accord(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains("others may read it (mode 0755)")
                && stderr.contains(&format!("chmod -R go-rwx {}", data.display())),
            "{args:?}: {stderr}"
        );
    }
    // the fix it names works
    let chmod = Command::new("chmod")
        .args(["-R", "go-rwx", data.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chmod.success());
    let out = common::accord(&["query", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
}

/// The clause-7 statement of a text: the lines from `marker` up to the next blank line.
fn clause(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in the text"));
    text[start..].split("\n\n").next().unwrap().to_lowercase()
}

#[test]
fn retention_counts_as_the_signed_text_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    // what members sign says `created`, never receipt
    for (file, marker) in [
        ("docs/model-mou.md", "7. **Retention.**"),
        ("node/templates/bilateral.toml", "# Clause 7, retention"),
        ("node/templates/multilateral.toml", "# Clause 7, retention"),
        (
            "examples/quad/agreements/quad-2026.toml",
            "# Records are deleted",
        ),
    ] {
        let text = clause(&read(file), marker);
        assert!(text.contains("created"), "{file}: {text}");
        assert!(
            !text.contains("after receiving") && !text.contains("from receipt"),
            "{file}: {text}"
        );
    }
    assert!(
        !read("docs/api.md").contains("retention counts from here"),
        "docs/api.md still counts retention from received_at"
    );

    // and the one rule the node applies (purge, publish, send, accept) counts from `created`,
    // whenever the record came: held through created + retention_days, not a second longer
    let path = root.join("examples/quad/agreements/quad-2026.toml");
    let quad = accord_config::parse_agreement(&path, &std::fs::read(&path).unwrap()).unwrap();
    let draft = accord_node::draft::parse_draft(
        br#"{"agreement": "QUAD-2026", "category": "route", "handling": "H0", "grading": "B2",
             "route": [{"country": "TR", "role": "transit"}], "summary": "A route."}"#,
    )
    .unwrap();
    let created = accord_protocol::Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
    let record = draft
        .into_record(
            &accord_protocol::AgencyId::new("PK-FIA").unwrap(),
            accord_protocol::Seq::FIRST,
            created,
        )
        .unwrap();
    let end = created.plus_secs(1095 * 86_400);
    assert!(accord_node::policy::within_retention(&record, &quad, end).is_ok());
    let past = accord_node::policy::within_retention(&record, &quad, end.plus_secs(1));
    assert!(
        matches!(past, Err(accord_node::policy::DenyReason::PastRetention { until, .. }) if until == end),
        "{past:?}"
    );
}
