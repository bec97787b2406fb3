//! The `accord` binary as an agency uses it: keygen, config check, record sign and verify.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{accord, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn example(agency: &str) -> String {
    repo()
        .join("examples/quad")
        .join(agency)
        .join("node.toml")
        .display()
        .to_string()
}

fn example_key(agency: &str) -> String {
    repo()
        .join("examples/quad")
        .join(agency)
        .join("agency.key")
        .display()
        .to_string()
}

const RECORD: &str = r#"{
  "v": 1,
  "originator": "TR-JGK",
  "agreement": "QUAD-2026",
  "seq": "7",
  "category": "vessel",
  "handling": "H1",
  "grading": "B2",
  "created": "2026-11-28T09:30:00Z",
  "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729", "flag": "TR"}],
  "route": [{"country": "TR", "role": "transit", "place": "Ayvalık"}, {"country": "GR", "role": "destination"}],
  "summary": "Vessel seen loading passengers at night."
}"#;

#[test]
fn keygen_writes_a_private_key_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agency.key");
    let p = path.to_str().unwrap();
    let out = accord(&["keygen", "--out", p]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("public key: ed25519:"), "{stdout}");
    assert!(stdout.contains("peer id:    12D3KooW"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let before = std::fs::read(&path).unwrap();
    let again = accord(&["keygen", "--out", p]);
    let (_, stderr) = text(&again);
    assert_eq!(again.status.code(), Some(3));
    assert!(
        stderr.contains("already exists; refusing to overwrite"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the key file changed"
    );
    // the key printed is the key in the file
    let key =
        accord_protocol::SecretKey::from_key_file(std::str::from_utf8(&before).unwrap()).unwrap();
    assert!(text(&out).0.contains(&key.public_key().to_string()));
}

#[test]
fn config_check_accepts_every_example_agency() {
    for agency in ["pk-fia", "ir-faraja", "tr-jgk", "gr-hcg", "bg-gdbp"] {
        let out = accord(&["config", "check", &example(agency)]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{agency}: {stderr}");
        assert!(
            stdout.contains(&agency.to_uppercase()),
            "{agency}: {stdout}"
        );
        assert!(stdout.contains("is valid"), "{stdout}");
    }
}

#[test]
fn config_check_reports_every_mistake_with_its_position() {
    let broken = repo().join("config/tests/fixtures/broken/node.toml");
    let out = accord(&["config", "check", broken.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for expected in BROKEN_FIXTURE_ERRORS {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
    assert!(
        stderr.contains(&format!("{} problems found", BROKEN_FIXTURE_ERRORS.len())),
        "{stderr}"
    );
}

#[test]
fn config_check_given_an_agreement_file_says_so_and_names_the_command() {
    let agreement = repo().join("examples/quad/agreements/quad-2026.toml");
    let out = accord(&["config", "check", agreement.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    // one problem, at the file's `kind` (line 11), instead of a page of unknown keys
    assert!(
        stderr.contains(
            "quad-2026.toml:11:1: this is an agreement file, not a node file (it has `kind`, \
             `members`, `valid_from` and none of the node file's keys); check an agreement file \
             on its own with `accord agreement check FILE`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("1 problem found"), "{stderr}");
    assert!(!stderr.contains("unknown key"), "{stderr}");
    // and the command it names accepts the file
    let check = accord(&["agreement", "check", agreement.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check).1);
}

/// What `config/tests/fixtures/broken/` must produce: `file:line:col: key`.
const BROKEN_FIXTURE_ERRORS: &[&str] = &[
    "broken/node.toml:8:38: listen[1]: invalid multiaddr `/ip4/127.0.0.1/tcp/notaport`",
    "broken/node.toml:9:15: agreements[0]: member `GR-HCG` of agreement `QUAD-2026` is not among the known agencies",
    "broken/node.toml:13:8: api.bind: invalid socket address `127.0.0.1:74830`",
    "broken/node.toml:17:1: known_agency[0].public_key: missing key `public_key`",
    "broken/node.toml:19:1: known_agency[0].publc_key: unknown key `publc_key`; did you mean `public_key`?",
    "broken/node.toml:25:14: known_agency[1].public_key: invalid public key `ed25519:zz`",
    "broken/node.toml:36:6: known_agency[3].id: agency `BG-GDBP` is listed twice",
    "broken/agreements/quad-2026.toml:17:15: valid_until: valid_until `2025-12-31` is before valid_from `2026-01-01`",
    "broken/agreements/quad-2026.toml:20:5: categories[0]: unknown category `smuggling`",
    "broken/agreements/quad-2026.toml:35:28: most_permissive_handling: unknown handling code `H4`",
    "broken/agreements/quad-2026.toml:48:2: focal_points: no focal point for member `GR-HCG`",
    "broken/agreements/tr-bg-2026.toml:32:18: retention_days: invalid retention period `0` days",
    "broken/agreements/tr-bg-2026.toml:39:12: victim_data.purposes: victim data is not allowed",
];

fn sign(dir: &Path, record: &str, key: &str) -> (Output, PathBuf) {
    let path = dir.join("record.json");
    std::fs::write(&path, record).unwrap();
    let out = accord(&["record", "sign", path.to_str().unwrap(), "--key", key]);
    (out, dir.join("record.signed.json"))
}

#[test]
fn a_signed_record_verifies_at_a_partner_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (out, signed) = sign(dir.path(), RECORD, &example_key("tr-jgk"));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("signed record"), "{stdout}");
    let s = signed.to_str().unwrap();

    // Greece knows Turkey's key from its configuration.
    let out = accord(&["record", "verify", s, "--config", &example("gr-hcg")]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("VERIFIED "), "{stdout}");
    assert!(
        stdout.contains("TR-JGK") && stdout.contains("QUAD-2026 seq 7"),
        "{stdout}"
    );

    // --json prints the exact, canonical record bytes
    let out = accord(&[
        "record",
        "verify",
        s,
        "--config",
        &example("gr-hcg"),
        "--json",
    ]);
    let json = text(&out).0;
    assert!(
        json.starts_with("{\"agreement\":\"QUAD-2026\",\"category\":\"vessel\""),
        "{json}"
    );

    // one flipped bit anywhere in the envelope is refused
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&signed).unwrap()).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = b64.decode(file["envelope"].as_str().unwrap()).unwrap();
    for i in [0, 5, 10, 50, 105, 110, bytes.len() - 2] {
        let mut t = bytes.clone();
        t[i] ^= 0x04;
        let id = if i >= 106 {
            accord_protocol::envelope::record_id(&t[106..]).to_hex()
        } else {
            file["id"].as_str().unwrap().to_owned()
        };
        let tampered = dir.path().join(format!("tampered-{i}.json"));
        std::fs::write(
            &tampered,
            serde_json::json!({"envelope": b64.encode(&t), "id": id}).to_string(),
        )
        .unwrap();
        let out = accord(&[
            "record",
            "verify",
            tampered.to_str().unwrap(),
            "--config",
            &example("gr-hcg"),
        ]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "byte {i}: {stdout}{stderr}");
        assert!(stderr.contains("REJECTED"), "byte {i}: {stderr}");
    }
}

#[test]
fn a_record_signed_with_another_agencys_key_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    // Bulgaria's key signing a record that claims Turkey as originator
    let (out, signed) = sign(dir.path(), RECORD, &example_key("bg-gdbp"));
    assert!(out.status.success());
    let out = accord(&[
        "record",
        "verify",
        signed.to_str().unwrap(),
        "--config",
        &example("gr-hcg"),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("is not TR-JGK's registered key"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_originator_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let record = RECORD.replace("TR-JGK", "PK-FIA");
    let (out, signed) = sign(dir.path(), &record, &example_key("pk-fia"));
    assert!(out.status.success());
    // Bulgaria is not in the quadrilateral agreement and does not know Pakistan's key
    let out = accord(&[
        "record",
        "verify",
        signed.to_str().unwrap(),
        "--config",
        &example("bg-gdbp"),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("originator PK-FIA is not a known agency"),
        "{stderr}"
    );
}

#[test]
fn bad_records_are_refused_with_the_reason_and_nothing_is_written() {
    let cases = [
        (
            RECORD.replace("\"vessel\",", "\"boats\","),
            "unknown category `boats`",
        ),
        (
            RECORD.replace("\"H1\"", "\"H3\""),
            "an H3 record must state its restriction",
        ),
        (
            RECORD.replace("\"seq\": \"7\"", "\"seq\": 7"),
            "`seq`: invalid type: integer `7`, expected a string",
        ),
        (RECORD.replace("\"B2\"", "\"E2\""), "grading"),
        (
            RECORD.replace("9074729", "123"),
            "`123` is not an IMO number",
        ),
        (
            RECORD.replace("\"v\": 1,", "\"v\": 1, \"colour\": \"red\","),
            "unknown field `colour`",
        ),
        (
            RECORD.replace("TR-JGK", "TURKEY"),
            "invalid agency id `TURKEY`",
        ),
        (RECORD[..40].to_owned(), "not a valid record"),
    ];
    for (record, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (out, signed) = sign(dir.path(), &record, &example_key("tr-jgk"));
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{expected}: {stderr}");
        assert!(
            stderr.contains(expected),
            "expected `{expected}` in: {stderr}"
        );
        assert!(!signed.exists(), "{expected}: a signed file was written");
    }
}

#[test]
fn the_python_verifier_agrees_with_the_node() {
    // docs/verify_record.py verifies from the bytes alone with Python's `cryptography`
    // package (installed by .ci/run); it must accept what the node signs and refuse tampering.
    let dir = tempfile::tempdir().unwrap();
    let (out, signed) = sign(dir.path(), RECORD, &example_key("tr-jgk"));
    assert!(out.status.success());
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&signed).unwrap()).unwrap();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(file["envelope"].as_str().unwrap())
        .unwrap();
    let key = hex::encode(&bytes[6..38]);
    let script = repo().join("docs/verify_record.py");
    let run = |envelope: &[u8]| {
        Command::new("python3")
            .arg(&script)
            .arg(hex::encode(envelope))
            .arg(&key)
            .output()
            .expect("python3 is needed for this test")
    };
    let good = run(&bytes);
    let (stdout, stderr) = text(&good);
    assert!(good.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("id: {}", file["id"].as_str().unwrap())),
        "{stdout}"
    );
    let mut bad = bytes.clone();
    let last = bad.len() - 3;
    bad[last] ^= 1;
    let refused = run(&bad);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused)
            .0
            .contains("REJECTED: signature does not verify")
    );
    // S + L: the strict rule refuses a malleated signature
    let mut malleated = bytes.clone();
    let l =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").unwrap();
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(malleated[70 + i]) + u16::from(l[i]) + carry;
        malleated[70 + i] = s as u8;
        carry = s >> 8;
    }
    let refused = run(&malleated);
    assert!(
        text(&refused).0.contains("REJECTED: S is not reduced"),
        "{}",
        text(&refused).0
    );
}
