//! `accord demo` is the README's first command: it must run and exit 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The demo bounds its own waits at 60 s; a demo that hangs anyway is killed here.
const DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn the_demo_delivers_every_record_to_exactly_its_members() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("demo")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // read both pipes on threads so the demo never blocks on a full pipe
    let pipe = |mut p: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            p.read_to_end(&mut v).unwrap();
            v
        })
    };
    let (so, se) = (
        pipe(Box::new(child.stdout.take().unwrap())),
        pipe(Box::new(child.stderr.take().unwrap())),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            child.kill().unwrap();
            panic!("accord demo did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(100)); // polling a child process
    };
    let out = std::process::Output {
        status,
        stdout: so.join().unwrap(),
        stderr: se.join().unwrap(),
    };
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
    // hit / no-hit: the phone of PK-FIA's own record is a hit there, and nowhere else
    let line = |agency: &str| {
        stdout
            .lines()
            .skip_while(|l| !l.starts_with("hit / no-hit"))
            .find(|l| l.trim_start().starts_with(agency))
            .unwrap_or_else(|| panic!("no hit / no-hit line for {agency}: {stdout}"))
            .to_owned()
    };
    assert!(line("PK-FIA").contains("hit: ask"), "{stdout}");
    for other in ["IR-FARAJA", "GR-HCG"] {
        assert!(line(other).contains("no hit"), "{stdout}");
    }
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
