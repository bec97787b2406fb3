//! Setting a node up: the data directory private whatever the umask, retention as the signed
//! text says, and docs/operations.md's walkthrough run block by block.

use super::*;

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

#[test]
fn operations_md_walks_a_new_operator_from_nothing_to_two_agencies_sharing() {
    let mut script = walkthrough();
    assert!(script.contains("accord init") && script.contains("accord publish"));
    // the page's ports, swapped for free ones on this machine
    let free = accord_node::demo::free_loopback_ports(4).unwrap();
    for (port, free) in ["7411", "7412", "7481", "7482"].iter().zip(free) {
        assert!(
            script.contains(port),
            "the walkthrough no longer uses port {port}"
        );
        script = script.replace(port, &free.to_string());
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_accord"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (out, err) = (
        dir.path().join("walk.stdout"),
        dir.path().join("walk.stderr"),
    );
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new("bash")
            .arg("-c")
            .arg(format!("set -euo pipefail\n{script}"))
            .current_dir(dir.path())
            .env("PATH", path)
            .env_remove("RUST_LOG")
            .env_remove("ACCORD_CONFIG")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(common::POLL);
    };
    // whatever happened, nothing the page started outlives the test
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let report = format!(
        "stdout:\n{}\nstderr:\n{}\nth-dsi.log:\n{}\nmy-mmea.log:\n{}",
        read(&out),
        read(&err),
        read(&dir.path().join("th-dsi.log")),
        read(&dir.path().join("my-mmea.log"))
    );
    match status {
        Some(s) => assert!(s.success(), "the walkthrough failed ({s}):\n{report}"),
        None => panic!("the walkthrough did not finish within 180 s:\n{report}"),
    }
    let stdout = read(&out);
    assert!(stdout.contains("1 record(s)"), "{report}");
    assert!(stdout.contains("audit export verified"), "{report}");
    assert!(stdout.contains("TH-MY-2026     in effect"), "{report}");
}
