//! docs/records.md: every example is a draft that `TR-JGK` may publish under QUAD-2026, and
//! there is exactly one per category.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use accord_config::{Agreement, parse_agreement};
use accord_node::draft::parse_draft;
use accord_node::policy::{DenyReason, may_publish};
use accord_protocol::{AgencyId, Category, Seq, Timestamp, sign, verify};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The contents of every ```json fenced block, with the line its fence opens on.
fn json_blocks(page: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in page.lines().enumerate() {
        match (&mut open, line.trim_end()) {
            (None, "```json") => open = Some((i + 1, String::new())),
            (Some(_), "```") => blocks.extend(open.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(open.is_none(), "an unclosed ```json block");
    blocks
}

/// An example agreement as a node holds it: its members' signatures (from its signature
/// file) verified against their keys.
fn signed_agreement(file: &str) -> Agreement {
    let path = repo().join("examples/quad/agreements").join(file);
    let mut a = parse_agreement(&path, &std::fs::read(&path).unwrap()).unwrap();
    let sigs = std::fs::read_to_string(a.signature_path()).unwrap();
    for l in accord_protocol::agreement::parse_signature_file(&sigs).unwrap() {
        let dir = l.agency.as_str().to_ascii_lowercase();
        let key = accord_protocol::SecretKey::from_key_file(
            &std::fs::read_to_string(repo().join("examples/quad").join(dir).join("agency.key"))
                .unwrap(),
        )
        .unwrap();
        assert!(accord_protocol::agreement::verify_agreement(
            &key.public_key(),
            &a.hash,
            &l.signature
        ));
        a.signatures.insert(l.agency, l.signature);
    }
    assert!(a.fully_signed(), "{file} is signed by every member");
    a
}

#[test]
fn every_example_is_valid_and_permitted_and_each_category_has_one() {
    let page = std::fs::read_to_string(repo().join("docs/records.md")).unwrap();
    let agreement = signed_agreement("quad-2026.toml");
    let local = AgencyId::new("TR-JGK").unwrap();
    let now = Timestamp::parse("2026-11-28T12:00:00Z").unwrap();
    let key = accord_protocol::SecretKey::from_key_file(
        &std::fs::read_to_string(repo().join("examples/quad/tr-jgk/agency.key")).unwrap(),
    )
    .unwrap();
    let keys: std::collections::BTreeMap<_, _> =
        [(local.clone(), key.public_key())].into_iter().collect();

    let blocks = json_blocks(&page);
    assert_eq!(
        blocks.len(),
        12,
        "docs/records.md should hold 12 json examples"
    );
    let mut seen = BTreeSet::new();
    let mut victims = 0;
    for (line, text) in &blocks {
        let draft =
            parse_draft(text.as_bytes()).unwrap_or_else(|e| panic!("docs/records.md:{line}: {e}"));
        let record = draft
            .into_record(&local, Seq::FIRST, now)
            .unwrap_or_else(|e| panic!("docs/records.md:{line}: {e}"));
        let decision = may_publish(&local, &agreement, &record, now);
        assert!(
            decision.is_allowed(),
            "docs/records.md:{line}: {}",
            decision.reason().unwrap()
        );
        // It signs and verifies like any published record.
        verify(sign(&record, &key).unwrap(), &keys).unwrap();
        assert!(
            seen.insert(record.category),
            "docs/records.md:{line}: a second example of {}",
            record.category
        );
        if record.has_victim_identifying_data() {
            victims += 1;
            assert!(record.victim_data_purpose.is_some());
        }
        match record.category {
            Category::VictimIdentification => {
                assert!(record.has_victim_identifying_data(), "line {line}")
            }
            Category::ReturnCoordination => {
                assert!(record.return_status.is_some() && record.responds_to.is_some())
            }
            Category::RequestForInformation => assert!(record.addressed_to.is_some()),
            Category::Response => assert!(record.responds_to.is_some()),
            _ => {}
        }
    }
    let all: BTreeSet<Category> = Category::ALL.iter().copied().collect();
    assert_eq!(seen, all, "every category has exactly one example");
    assert!(
        victims >= 2,
        "the victim and return examples identify a victim"
    );
}

#[test]
fn the_victim_example_is_refused_under_an_agreement_without_victim_data() {
    // The victim-identification example, moved to a category TR-BG-2026 permits, is still
    // denied there: TR-BG-2026 allows no victim-identifying data.
    let page = std::fs::read_to_string(repo().join("docs/records.md")).unwrap();
    let agreement = signed_agreement("tr-bg-2026.toml");
    let local = AgencyId::new("TR-JGK").unwrap();
    let now = Timestamp::parse("2026-11-28T12:00:00Z").unwrap();
    let (_, text) = json_blocks(&page)
        .into_iter()
        .find(|(_, t)| t.contains("\"victim-identification\""))
        .unwrap();
    let text = text
        .replace("QUAD-2026", "TR-BG-2026")
        .replace("\"victim-identification\"", "\"smuggling-network\"");
    let record = parse_draft(text.as_bytes())
        .unwrap()
        .into_record(&local, Seq::FIRST, now)
        .unwrap();
    let decision = may_publish(&local, &agreement, &record, now);
    assert!(
        matches!(
            decision.reason(),
            Some(DenyReason::VictimDataNotAllowed { .. })
        ),
        "{decision:?}"
    );
}
