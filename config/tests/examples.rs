//! The checked-in demo federation under `examples/quad/` loads, agrees with itself, and its
//! demo keys are the documented derived ones.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use accord_config::{AgreementKind, NodeConfig, OnwardSharing, load_node, parse_agreement};
use accord_protocol::{
    AgencyId, AgreementId, Category, HandlingCode, PublicKey, SecretKey, Timestamp, VictimPurpose,
};
use sha2::{Digest, Sha256};

const AGENCIES: &[(&str, u16)] = &[
    ("PK-FIA", 7401),
    ("IR-FARAJA", 7402),
    ("TR-JGK", 7403),
    ("GR-HCG", 7404),
    ("BG-GDBP", 7405),
];
const QUAD: &[&str] = &["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"];
const TR_BG: &[&str] = &["TR-JGK", "BG-GDBP"];
const DEMO_LINE: &str =
    "# DEMO ONLY: this key is public in the accord repository; never use it for real data.";

fn quad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quad")
}

fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

fn load(agency: &str) -> NodeConfig {
    let path = quad_dir().join(agency.to_lowercase()).join("node.toml");
    match load_node(&path, &read) {
        Ok(config) => config,
        Err(errors) => panic!("{agency} does not load:\n{errors}"),
    }
}

fn id(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn demo_key(agency: &str) -> SecretKey {
    let seed: [u8; 32] = Sha256::digest(format!("accord demo key: {agency}").as_bytes()).into();
    SecretKey::from_seed(&seed)
}

#[test]
fn every_agency_loads_with_its_ports_agreements_and_partners() {
    for &(agency, port) in AGENCIES {
        let config = load(agency);
        assert_eq!(config.agency, id(agency));
        let listen: Vec<String> = config.listen.iter().map(ToString::to_string).collect();
        assert_eq!(listen, [format!("/ip4/127.0.0.1/tcp/{port}")], "{agency}");
        assert_eq!(
            config.api.bind.to_string(),
            format!("127.0.0.1:{}", port + 80),
            "{agency}"
        );
        let dir = quad_dir().join(agency.to_lowercase());
        assert_eq!(config.key_file, dir.join("agency.key"));
        assert_eq!(config.data_dir, dir.join("data"));
        assert_eq!(config.api.token_file, dir.join("api.token"));

        let mut expected_agreements = BTreeSet::new();
        let mut expected_partners = BTreeSet::new();
        for (agreement, members) in [("QUAD-2026", QUAD), ("TR-BG-2026", TR_BG)] {
            if members.contains(&agency) {
                expected_agreements.insert(AgreementId::new(agreement).unwrap());
                expected_partners.extend(members.iter().filter(|m| **m != agency).map(|m| id(m)));
            }
        }
        assert_eq!(
            config.agreements.keys().cloned().collect::<BTreeSet<_>>(),
            expected_agreements,
            "{agency}"
        );
        assert_eq!(
            config.agencies.keys().cloned().collect::<BTreeSet<_>>(),
            expected_partners,
            "{agency}"
        );
        for known in config.agencies.values() {
            let port = AGENCIES
                .iter()
                .find(|(a, _)| *a == known.id.as_str())
                .map(|(_, p)| *p)
                .unwrap();
            let addresses: Vec<String> = known.addresses.iter().map(ToString::to_string).collect();
            assert_eq!(addresses, [format!("/ip4/127.0.0.1/tcp/{port}")]);
        }
    }
}

#[test]
fn members_hold_the_same_agreement_bytes() {
    let mut hashes = std::collections::BTreeMap::new();
    for &(agency, _) in AGENCIES {
        for agreement in load(agency).agreements.values() {
            let first = hashes.entry(agreement.id.clone()).or_insert(agreement.hash);
            assert_eq!(
                *first, agreement.hash,
                "{agency} holds another {}",
                agreement.id
            );
        }
    }
    assert_eq!(hashes.len(), 2);
}

#[test]
fn the_quadrilateral_agreement() {
    let config = load("TR-JGK");
    let quad = &config.agreements[&AgreementId::new("QUAD-2026").unwrap()];
    assert_eq!(quad.kind, AgreementKind::Multilateral);
    assert_eq!(quad.members, QUAD.iter().map(|m| id(m)).collect());
    assert_eq!(
        quad.focal_points.keys().cloned().collect::<BTreeSet<_>>(),
        quad.members
    );
    assert_eq!(
        quad.focal_points[&id("PK-FIA")].contact,
        "focal.point@fia.example"
    );
    assert!(quad.victim_data.permits(VictimPurpose::Identification));
    assert!(quad.victim_data.permits(VictimPurpose::Return));
    assert!(!quad.victim_data.permits(VictimPurpose::Investigation));
    assert!(quad.permits_category(Category::VictimIdentification));
    assert!(quad.permits_handling(HandlingCode::H0));
    assert_eq!(quad.onward_sharing, OnwardSharing::WithOriginatorConsent);
    assert!(quad.is_member(&id("GR-HCG")));
    assert!(!quad.is_member(&id("BG-GDBP")));

    // In force from the first second of valid_from through the last second of valid_until.
    let at = |t: &str| Timestamp::parse(t).unwrap();
    assert!(!quad.in_force(at("2025-12-31T23:59:59Z")));
    assert!(quad.in_force(at("2026-01-01T00:00:00Z")));
    assert!(quad.in_force(at("2027-12-31T23:59:59Z")));
    assert!(!quad.in_force(at("2028-01-01T00:00:00Z")));

    // The hash is SHA-256 of the file's exact bytes, and the standalone parser agrees.
    let bytes = std::fs::read(quad_dir().join("agreements/quad-2026.toml")).unwrap();
    assert_eq!(quad.hash_hex(), hex::encode(Sha256::digest(&bytes)));
    let alone = parse_agreement(Path::new("quad-2026.toml"), &bytes).unwrap();
    assert_eq!(alone.hash, quad.hash);
    assert_eq!(alone.members, quad.members);
}

#[test]
fn the_bilateral_agreement() {
    let config = load("BG-GDBP");
    let tr_bg = &config.agreements[&AgreementId::new("TR-BG-2026").unwrap()];
    assert_eq!(tr_bg.kind, AgreementKind::Bilateral);
    assert_eq!(tr_bg.members, TR_BG.iter().map(|m| id(m)).collect());
    assert!(!tr_bg.victim_data.allowed);
    assert!(tr_bg.victim_data.purposes.is_empty());
    assert!(!tr_bg.permits_handling(HandlingCode::H0));
    assert!(tr_bg.permits_handling(HandlingCode::H1));
    assert!(tr_bg.permits_handling(HandlingCode::H3));
    assert!(!tr_bg.permits_category(Category::VictimIdentification));
    assert_eq!(tr_bg.onward_sharing, OnwardSharing::Never);
}

#[test]
fn demo_keys_are_the_derived_ones() {
    for &(agency, _) in AGENCIES {
        let key = demo_key(agency);
        let text =
            std::fs::read_to_string(quad_dir().join(agency.to_lowercase()).join("agency.key"))
                .unwrap();
        assert_eq!(text.lines().next(), Some(DEMO_LINE), "{agency}");
        let from_file = SecretKey::from_key_file(&text).unwrap();
        assert_eq!(
            from_file.public_key(),
            key.public_key(),
            "{agency}'s agency.key"
        );
        assert_eq!(
            text,
            format!("{DEMO_LINE}\n{}", key.to_key_file().as_str()),
            "{agency}'s agency.key"
        );
    }
}

#[test]
fn listed_public_keys_are_the_derived_ones() {
    let mut checked = 0;
    for &(agency, _) in AGENCIES {
        for known in load(agency).agencies.values() {
            let expected: PublicKey = demo_key(known.id.as_str()).public_key();
            assert_eq!(
                known.public_key, expected,
                "{agency} lists a wrong key for {}",
                known.id
            );
            checked += 1;
        }
    }
    // PK, IR and GR know 3 partners each, TR knows 4, BG knows 1.
    assert_eq!(checked, 3 + 3 + 4 + 3 + 1);
}

#[test]
fn api_tokens_are_one_line() {
    for &(agency, _) in AGENCIES {
        let text =
            std::fs::read_to_string(quad_dir().join(agency.to_lowercase()).join("api.token"))
                .unwrap();
        assert_eq!(text.lines().count(), 1, "{agency}");
        assert!(text.trim().len() >= 32, "{agency}");
    }
}

#[test]
fn summary_names_what_matters() {
    let summary = load("TR-JGK").summary();
    for needle in [
        "TR-JGK",
        "/ip4/127.0.0.1/tcp/7403",
        "127.0.0.1:7483",
        "BG-GDBP",
        "QUAD-2026",
        "multilateral, 4 members",
        "TR-BG-2026",
        "bilateral, 2 members",
        "2026-01-01 through 2027-12-31",
        "H1 or more restrictive",
        "allowed for identification, return",
        "not allowed",
        "1095 days",
        "with-originator-consent",
        "sha-256:",
    ] {
        assert!(
            summary.contains(needle),
            "summary lacks {needle:?}:\n{summary}"
        );
    }
}
