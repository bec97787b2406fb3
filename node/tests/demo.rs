//! `accord demo` is the README's first command: it must run and exit 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn the_demo_delivers_every_record_to_exactly_its_members() {
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("demo")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("holds 0 of the 4 QUAD-2026 records"),
        "{stdout}"
    );
    assert!(
        stdout.contains("every record reached exactly the members of its agreement."),
        "{stdout}"
    );
    // six records, one line each in the holdings table
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("QUAD-2026  ") || l.contains("TR-BG-2026 "))
            .count(),
        6,
        "{stdout}"
    );
}
