//! The example federation (examples/quad) is consistent across its five nodes: every member
//! holds the same agreement bytes, knows every other member's real key, and verifies a record
//! each member signs, carried in a wire push. Non-members of an agreement do not know keys
//! they have no use for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use accord_config::NodeConfig;
use accord_protocol::wire::Push;
use accord_protocol::{
    AgencyId, Category, Grading, HandlingCode, Message, PublicKey, Record, SecretKey, Seq,
    Timestamp, sign, verify,
};

const AGENCIES: [&str; 5] = ["pk-fia", "ir-faraja", "tr-jgk", "gr-hcg", "bg-gdbp"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("examples/quad")
}

fn load_all() -> BTreeMap<AgencyId, (NodeConfig, SecretKey)> {
    AGENCIES
        .iter()
        .map(|a| {
            let path = root().join(a).join("node.toml");
            let cfg = accord_config::load_node(&path, &|p: &Path| std::fs::read(p))
                .unwrap_or_else(|e| panic!("{e}"));
            let key =
                SecretKey::from_key_file(&std::fs::read_to_string(&cfg.key_file).unwrap()).unwrap();
            (cfg.agency.clone(), (cfg, key))
        })
        .collect()
}

fn directory(cfg: &NodeConfig) -> BTreeMap<AgencyId, PublicKey> {
    cfg.agencies
        .values()
        .map(|a| (a.id.clone(), a.public_key))
        .collect()
}

#[test]
fn members_hold_identical_agreements_and_each_others_real_keys() {
    let nodes = load_all();
    for (id, (cfg, _)) in &nodes {
        for agreement in cfg.agreements.values() {
            assert!(
                agreement.is_member(id),
                "{id} lists {} without being a member",
                agreement.id
            );
            for member in agreement.members.iter().filter(|m| *m != id) {
                let (other, other_key) = &nodes[member];
                let theirs = &other.agreements[&agreement.id];
                assert_eq!(
                    theirs.hash, agreement.hash,
                    "{id} and {member} hold different texts of {}",
                    agreement.id
                );
                assert_eq!(
                    cfg.agencies[member].public_key,
                    other_key.public_key(),
                    "{id} has a wrong key for {member}"
                );
            }
        }
    }
}

#[test]
fn the_outsider_shares_only_the_bilateral_agreement() {
    let nodes = load_all();
    let bg = &nodes[&AgencyId::new("BG-GDBP").unwrap()].0;
    let ids: Vec<&str> = bg.agreements.keys().map(|a| a.as_str()).collect();
    assert_eq!(ids, ["TR-BG-2026"]);
    // Bulgaria knows only its partner's key, so it could not even verify a quadrilateral record.
    assert_eq!(
        bg.agencies.keys().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["TR-JGK"]
    );
}

#[test]
fn a_record_from_each_member_verifies_at_every_other_member_after_a_wire_push() {
    let nodes = load_all();
    let now = Timestamp::parse("2026-11-28T12:00:00Z").unwrap();
    for (id, (cfg, key)) in &nodes {
        for agreement in cfg.agreements.values() {
            assert!(
                agreement.in_force(now),
                "{} not in force at {now}",
                agreement.id
            );
            let category = *agreement
                .categories
                .iter()
                .find(|c| {
                    **c != Category::RequestForInformation
                        && **c != Category::Response
                        && **c != Category::ReturnCoordination
                })
                .unwrap();
            let handling = HandlingCode::ALL
                .iter()
                .copied()
                .find(|h| agreement.permits_handling(*h) && *h != HandlingCode::H3)
                .unwrap();
            let record = Record {
                v: 1,
                originator: id.clone(),
                agreement: agreement.id.clone(),
                seq: Seq::FIRST,
                category,
                handling,
                handling_restriction: None,
                grading: Grading::parse("B2").unwrap(),
                created: now,
                expires: None,
                subjects: vec![],
                route: vec![],
                summary: format!("test record of {id} under {}", agreement.id),
                victim_data_purpose: None,
                corrects: None,
                withdraws: None,
                responds_to: None,
                addressed_to: None,
                return_status: None,
            };
            let frame = Message::Push(Push {
                records: vec![sign(&record, key).unwrap()],
            })
            .encode()
            .unwrap();
            for member in agreement.members.iter().filter(|m| *m != id) {
                let Message::Push(push) = Message::decode(&frame).unwrap() else {
                    panic!("not a push")
                };
                let env = push.records.into_iter().next().unwrap();
                let verified = verify(env, &directory(&nodes[member].0))
                    .unwrap_or_else(|e| panic!("{member} refused {id}'s record: {e}"));
                assert_eq!(verified.record, record);
            }
        }
    }
}
