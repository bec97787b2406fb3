//! Checks across files: the base federation, membership against the known agencies, and every
//! problem of every file reported at once.

use super::*;

#[test]
fn the_base_federation_is_valid() {
    let config = fed().load().unwrap();
    assert_eq!(config.agency.as_str(), "TR-JGK");
    assert_eq!(config.key_file, Path::new("fed/tr/agency.key"));
    assert_eq!(config.agreements.len(), 1);
    // Dates may be TOML dates or strings.
    let agreement = config.agreements.values().next().unwrap();
    assert_eq!(agreement.valid_from.to_string(), "2026-01-01");
    assert_eq!(agreement.valid_until.to_string(), "2026-12-31");
    assert_eq!(agreement.path, Path::new(AGREEMENT_PATH));
}

#[test]
fn own_agency_must_be_a_member() {
    let errors = fed()
        .node("agency = \"TR-JGK\"", "agency = \"GR-HCG\"")
        .errors();
    let e = errors
        .iter()
        .find(|e| e.message.starts_with("this node's agency"))
        .unwrap();
    assert_eq!(e.key, "agreements[0]");
    check(
        e,
        NODE_PATH,
        5,
        15,
        "this node's agency `GR-HCG` is not a member of agreement `TR-BG-2026` (members: BG-GDBP, TR-JGK)",
    );
    // TR-JGK, a member, is not known to the node either.
    assert!(
        errors.iter().any(|e| e
            .message
            .contains("member `TR-JGK` of agreement `TR-BG-2026` is not among the known agencies")),
        "{errors}"
    );
    assert_eq!(errors.len(), 2, "{errors}");
}

#[test]
fn members_must_be_known_agencies() {
    let errors = fed().node("id = \"BG-GDBP\"", "id = \"GR-HCG\"").errors();
    let e = with_key(&errors, "agreements[0]");
    check(
        e,
        NODE_PATH,
        5,
        15,
        "member `BG-GDBP` of agreement `TR-BG-2026` is not among the known agencies",
    );
    hint(e, "add a [[known_agency]] with id = \"BG-GDBP\"");
    assert_eq!(errors.len(), 1, "{errors}");
}

#[test]
fn every_problem_across_files_is_reported_at_once() {
    let errors = fed()
        .node("agency = \"TR-JGK\"", "agency = \"TR-JGK\"\nlisten_on = []")
        .node("bind = \"127.0.0.1:7483\"", "bind = \"127.0.0.1:port\"")
        .node("public_key = \"ed25519:47ce", "public_key = \"ed25519:47cf")
        .agreement("kind = \"bilateral\"", "kind = \"multilateral\"")
        .agreement(
            "valid_until = \"2026-12-31\"",
            "valid_until = \"2025-12-31\"",
        )
        .agreement(
            "most_permissive_handling = \"H1\"",
            "most_permissive_handling = \"h1\"",
        )
        .agreement("allowed = false", "allowed = true")
        .errors();
    let got: Vec<(String, usize, usize, String)> = errors
        .iter()
        .map(|e| (e.path.display().to_string(), e.line, e.col, e.key.clone()))
        .collect();
    let want = [
        (NODE_PATH, 2, 1, "listen_on"),
        (NODE_PATH, 9, 8, "api.bind"),
        (NODE_PATH, 14, 14, "known_agency[0].public_key"),
        (AGREEMENT_PATH, 4, 11, "members"),
        (AGREEMENT_PATH, 6, 15, "valid_until"),
        (AGREEMENT_PATH, 8, 28, "most_permissive_handling"),
        (AGREEMENT_PATH, 13, 11, "victim_data.allowed"),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(p, l, c, k)| (p.to_string(), *l, *c, k.to_string()))
        .collect();
    assert_eq!(got, want, "{errors}");
    // A near-miss key gets its suggestion even among many problems.
    hint(with_key(&errors, "listen_on"), "did you mean `listen`?");
}
