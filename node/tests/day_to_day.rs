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
