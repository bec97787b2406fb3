//! `tests/fixtures/broken/` is a copy of the TR-JGK demo node with mistakes in its node file
//! and both agreement files; `accord config check` is tested against it too. Every mistake is
//! reported at once, each at its place.

use std::path::Path;

use accord_config::load_node;

#[test]
fn every_mistake_is_reported_with_its_position() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let node = dir.join("node.toml");
    let errors = load_node(&node, &|p: &Path| std::fs::read(p)).unwrap_err();

    let node_file = node.clone();
    let quad = dir.join("agreements/quad-2026.toml");
    let tr_bg = dir.join("agreements/tr-bg-2026.toml");
    let want = [
        (
            &node_file,
            8,
            38,
            "listen[1]",
            "invalid multiaddr `/ip4/127.0.0.1/tcp/notaport`",
        ),
        (
            &node_file,
            9,
            15,
            "agreements[0]",
            "member `GR-HCG` of agreement `QUAD-2026` is not among the known agencies",
        ),
        (
            &node_file,
            13,
            8,
            "api.bind",
            "invalid socket address `127.0.0.1:74830`",
        ),
        (
            &node_file,
            17,
            1,
            "known_agency[0].public_key",
            "missing key `public_key`",
        ),
        (
            &node_file,
            19,
            1,
            "known_agency[0].publc_key",
            "unknown key `publc_key`",
        ),
        (
            &node_file,
            25,
            14,
            "known_agency[1].public_key",
            "invalid public key `ed25519:zz`",
        ),
        (
            &node_file,
            36,
            6,
            "known_agency[3].id",
            "agency `BG-GDBP` is listed twice",
        ),
        (
            &quad,
            17,
            15,
            "valid_until",
            "valid_until `2025-12-31` is before valid_from `2026-01-01`",
        ),
        (
            &quad,
            20,
            5,
            "categories[0]",
            "unknown category `smuggling`",
        ),
        (
            &quad,
            35,
            28,
            "most_permissive_handling",
            "unknown handling code `H4`",
        ),
        (
            &quad,
            48,
            2,
            "focal_points",
            "no focal point for member `GR-HCG`",
        ),
        (
            &tr_bg,
            32,
            18,
            "retention_days",
            "invalid retention period `0` days",
        ),
        (
            &tr_bg,
            39,
            12,
            "victim_data.purposes",
            "victim data is not allowed (`allowed = false`) but purposes are listed",
        ),
    ];
    assert_eq!(errors.len(), want.len(), "{errors}");
    for (error, (path, line, col, key, message)) in errors.iter().zip(want) {
        assert_eq!(&error.path, path, "{error}");
        assert_eq!(
            (error.line, error.col, error.key.as_str()),
            (line, col, key),
            "{error}"
        );
        assert!(error.message.contains(message), "{error}");
    }
    assert_eq!(
        errors.errors()[4].hint.as_deref(),
        Some("did you mean `public_key`?")
    );
    assert!(
        errors.to_string().ends_with("\n13 problems found"),
        "{errors}"
    );
}
