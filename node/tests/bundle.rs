//! Bundles: written from records signed with the demo keys of examples/quad, verified offline,
//! and each kind of tampering caught and named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use accord_node::bundle::{
    BundleProblem, BundleReport, BundleTombstone, BundleWriteError, Export, RecordFailure,
    verify_bundle, write_bundle,
};
use accord_node::draft::parse_draft;
use accord_node::policy::{DenyReason, Party};
use accord_protocol::{
    AgencyId, Category, Envelope, PublicKey, RecordId, SecretKey, Seq, Timestamp, VerifyError, sign,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

const QUAD: &str = "quad-2026.toml";
const TR_BG: &str = "tr-bg-2026.toml";

fn quad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quad")
}

fn agreement_file(name: &str) -> Vec<u8> {
    std::fs::read(quad_dir().join("agreements").join(name)).unwrap()
}

/// The members' signatures of an example agreement, from its signature file.
fn agreement_signatures(name: &str) -> BTreeMap<AgencyId, [u8; 64]> {
    let path = quad_dir().join("agreements").join(format!("{name}.sigs"));
    accord_protocol::agreement::parse_signature_file(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .into_iter()
        .map(|l| (l.agency, l.signature))
        .collect()
}

fn agency(id: &str) -> AgencyId {
    AgencyId::new(id).unwrap()
}

fn secret(id: &str) -> SecretKey {
    let dir = id.to_ascii_lowercase();
    let text = std::fs::read_to_string(quad_dir().join(dir).join("agency.key")).unwrap();
    SecretKey::from_key_file(&text).unwrap()
}

/// Every demo agency's public key, members of QUAD-2026 or not.
fn all_keys() -> BTreeMap<AgencyId, PublicKey> {
    ["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG", "BG-GDBP"]
        .into_iter()
        .map(|id| (agency(id), secret(id).public_key()))
        .collect()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn now() -> Timestamp {
    ts("2026-11-28T12:00:00Z")
}

/// A record of `originator` under `agreement`, numbered `seq`, signed with `signer`'s key.
fn signed_by(
    signer: &str,
    originator: &str,
    agreement: &str,
    seq: u64,
    category: &str,
    summary: &str,
) -> Envelope {
    let mut draft = json!({
        "agreement": agreement,
        "category": category,
        "handling": "H1",
        "grading": "B2",
        "created": "2026-11-20T08:00:00Z",
        "summary": summary,
    });
    if category == "vessel" {
        draft["subjects"] = json!([{"type": "vessel", "name": "Example Star", "imo": "9074729"}]);
    }
    let record = parse_draft(draft.to_string().as_bytes())
        .unwrap()
        .into_record(&agency(originator), Seq::new(seq).unwrap(), now())
        .unwrap();
    sign(&record, &secret(signer)).unwrap()
}

fn signed(originator: &str, seq: u64, summary: &str) -> Envelope {
    signed_by(originator, originator, "QUAD-2026", seq, "alert", summary)
}

/// Three TR-JGK records, two of PK-FIA, one of GR-HCG, all under QUAD-2026.
fn quad_records() -> Vec<Envelope> {
    vec![
        signed("TR-JGK", 2, "Second boat sighted off Ayvalık."),
        signed("PK-FIA", 1, "Group of 25 left Quetta by bus."),
        signed("TR-JGK", 1, "First boat sighted off Çeşme."),
        signed("GR-HCG", 1, "Dinghy intercepted north of Lesvos."),
        signed("TR-JGK", 3, "Third boat expected from Dikili."),
        signed("PK-FIA", 2, "Second group of 30 expected next week."),
    ]
}

fn bundle_of(file: &str, records: &[Envelope], tombstones: &[BundleTombstone]) -> Vec<u8> {
    let keys = all_keys();
    let signatures = agreement_signatures(file);
    let file = agreement_file(file);
    let tr = agency("TR-JGK");
    let export = Export {
        agreement_file: &file,
        exported_by: &tr,
        exported_at: now(),
        keys: &keys,
        signatures: &signatures,
        records,
        tombstones,
        rotations: &[],
        revocations: &[],
        signer: &secret("TR-JGK"),
    };
    let mut out = Vec::new();
    write_bundle(&mut out, &export).unwrap();
    out
}

fn lines(bundle: &[u8]) -> Vec<Value> {
    std::str::from_utf8(bundle)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// One line as the bundle writes it: `type` first (the other members in any order).
fn type_first(line: &Value) -> String {
    match line.as_object() {
        Some(map) if map.contains_key("type") => {
            let mut parts = vec![format!("\"type\":{}", map["type"])];
            for (k, v) in map.iter().filter(|(k, _)| *k != "type") {
                parts.push(format!("{}:{v}", Value::String(k.clone())));
            }
            format!("{{{}}}", parts.join(","))
        }
        _ => line.to_string(),
    }
}

/// The lines joined; a last signature line is made again over what comes before it, with the
/// key of the agency it names: the altered bundle is what a dishonest exporter would sign, so
/// only the alteration itself is left to find.
fn join(lines: &[Value]) -> Vec<u8> {
    let (body, signature) = match lines.split_last() {
        Some((last, body)) if last["type"] == "signature" => (body, Some(last)),
        _ => (lines, None),
    };
    let mut out = String::new();
    for line in body {
        out.push_str(&type_first(line));
        out.push('\n');
    }
    if let Some(s) = signature {
        out.push_str(&type_first(&resigned(out.as_bytes(), s)));
        out.push('\n');
    }
    out.into_bytes()
}

/// The signature line `s` made again over `body`.
fn resigned(body: &[u8], s: &Value) -> Value {
    use sha2::Digest as _;
    let digest: [u8; 32] = sha2::Sha256::digest(body).into();
    let key = secret(s["agency"].as_str().unwrap());
    let sig = key.sign_tagged(accord_node::bundle::BUNDLE_DOMAIN, &digest);
    json!({"type": "signature", "agency": s["agency"], "sha256": hex::encode(digest),
        "signature": hex::encode(sig)})
}

/// The index of the record line of `envelope`.
fn line_of(lines: &[Value], envelope: &Envelope) -> usize {
    let id = envelope.id().to_hex();
    lines
        .iter()
        .position(|l| l["type"] == "record" && l["id"] == id.as_str())
        .unwrap()
}

fn assert_ok(report: &BundleReport) {
    assert!(report.is_ok(), "{report}");
}

/// The ids of the records that failed.
fn failed_ids(report: &BundleReport) -> Vec<RecordId> {
    report.failed().map(|v| v.id).collect()
}

#[test]
fn a_written_bundle_has_the_documented_layout_and_verifies() {
    let records = quad_records();
    let bundle = bundle_of(QUAD, &records, &[]);
    let lines = lines(&bundle);
    assert_eq!(
        lines[0],
        json!({
            "type": "accord-bundle", "version": 1, "agreement": "QUAD-2026",
            "exported_by": "TR-JGK", "exported_at": "2026-11-28T12:00:00Z",
            "records": 6, "tombstones": 0,
        })
    );
    // The header's members appear in the documented order.
    let first = std::str::from_utf8(&bundle)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(
        first.starts_with(r#"{"type":"accord-bundle","version":1,"agreement":"QUAD-2026""#),
        "{first}"
    );
    assert_eq!(lines[1]["type"], "agreement");
    let file = B64.decode(lines[1]["file"].as_str().unwrap()).unwrap();
    assert_eq!(file, agreement_file(QUAD));
    let keys: Vec<&str> = lines[2..6]
        .iter()
        .map(|l| {
            assert_eq!(l["type"], "key");
            l["agency"].as_str().unwrap()
        })
        .collect();
    assert_eq!(keys, ["GR-HCG", "IR-FARAJA", "PK-FIA", "TR-JGK"]);
    let order: Vec<(String, String)> = lines[6..]
        .iter()
        .map(|l| {
            assert_eq!(l["type"], "record");
            let env =
                Envelope::decode(&B64.decode(l["envelope"].as_str().unwrap()).unwrap()).unwrap();
            assert_eq!(l["id"], env.id().to_hex().as_str());
            let record: Value = serde_json::from_slice(env.record_bytes()).unwrap();
            (
                record["originator"].as_str().unwrap().to_owned(),
                record["seq"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("GR-HCG", "1"),
        ("PK-FIA", "1"),
        ("PK-FIA", "2"),
        ("TR-JGK", "1"),
        ("TR-JGK", "2"),
        ("TR-JGK", "3"),
    ]
    .map(|(a, s)| (a.to_owned(), s.to_owned()));
    assert_eq!(order, expected);

    let report = verify_bundle(&bundle);
    assert_ok(&report);
    assert_eq!(report.records.len(), 6);
    let text = report.to_string();
    let third = &records[4];
    assert!(
        text.contains(&format!("OK   {} TR-JGK seq 3\n", third.id())),
        "{text}"
    );
    assert!(
        text.ends_with("6 records: 6 ok, 0 failed; 0 tombstones; 0 gaps; bundle verified"),
        "{text}"
    );
}

#[test]
fn a_flipped_byte_fails_that_record_only_and_names_it() {
    let records = quad_records();
    let target = &records[0]; // TR-JGK seq 2
    let bundle = bundle_of(QUAD, &records, &[]);
    let lines = lines(&bundle);
    let at = line_of(&lines, target);
    let envelope = target.encode();

    // A byte of the signature, then a byte of the summary's text: the record still reads, so
    // the verdict names it by id, originator and seq.
    let summary_at = 106
        + target
            .record_bytes()
            .windows(6)
            .position(|w| w == b"Second")
            .unwrap();
    for offset in [40, 100, summary_at] {
        let mut bytes = envelope.clone();
        bytes[offset] ^= 0x01;
        let mut tampered = lines.clone();
        tampered[at]["envelope"] = Value::from(B64.encode(&bytes));
        let report = verify_bundle(&join(&tampered));
        assert!(!report.is_ok());
        assert_eq!(failed_ids(&report), [target.id()], "{report}");
        let text = report.to_string();
        assert!(
            text.contains(&format!("FAIL {} TR-JGK seq 2: ", target.id())),
            "{text}"
        );
        if offset == summary_at {
            assert!(text.contains("the line lists id"), "{text}");
        } else {
            assert!(text.contains("signature does not verify"), "{text}");
        }
        // Seq 2 is held by no authentic record now.
        assert!(text.contains("GAP  TR-JGK seq 2 missing"), "{text}");
        assert!(text.ends_with("; bundle FAILED"), "{text}");
    }

    // Every byte of the envelope: only that record fails, whatever the byte.
    for offset in 0..envelope.len() {
        let mut bytes = envelope.clone();
        bytes[offset] ^= 0x20;
        let mut tampered = lines.clone();
        tampered[at]["envelope"] = Value::from(B64.encode(&bytes));
        let report = verify_bundle(&join(&tampered));
        assert!(!report.is_ok(), "offset {offset}");
        assert!(report.problems.is_empty(), "offset {offset}: {report}");
        assert_eq!(failed_ids(&report), [target.id()], "offset {offset}");
    }
}

#[test]
fn a_record_of_a_non_member_fails_as_not_permitted() {
    // BG-GDBP is no member of QUAD-2026, so the bundle carries no key for it: its record cannot
    // be checked for a signature and is not permitted by the agreement.
    let mut records = quad_records();
    let foreign = signed_by(
        "BG-GDBP",
        "BG-GDBP",
        "QUAD-2026",
        1,
        "alert",
        "Seen at Kapitan Andreevo.",
    );
    records.push(foreign.clone());
    let bundle = bundle_of(QUAD, &records, &[]);
    let report = verify_bundle(&bundle);
    assert!(!report.is_ok());
    assert!(report.problems.is_empty(), "{report}");
    assert!(!report.keys.contains_key(&agency("BG-GDBP")));
    let verdict = report.verdict(&foreign.id()).unwrap();
    assert_eq!(verdict.originator, Some(agency("BG-GDBP")));
    assert_eq!(
        verdict.failures,
        [
            RecordFailure::NoKey {
                originator: agency("BG-GDBP")
            },
            RecordFailure::NotPermitted(DenyReason::NotMember {
                party: Party::Originator,
                agency: agency("BG-GDBP"),
                agreement: "QUAD-2026".parse().unwrap(),
            }),
        ]
    );
    let text = report.to_string();
    assert!(
        text.contains(
            "the bundle holds no key for BG-GDBP, so the signature cannot be checked; not \
             permitted by the bundled agreement: originator BG-GDBP is not a member of \
             agreement QUAD-2026"
        ),
        "{text}"
    );
    assert_eq!(failed_ids(&report), [foreign.id()]);
    // Its unverified seq claims no place in any sequence.
    assert!(report.gaps.is_empty());

    // Adding BG-GDBP's key by hand: the key line is a bundle problem, the signature now
    // verifies, and the record is still not permitted.
    let mut lines = lines(&bundle);
    lines.insert(
        6,
        json!({"type": "key", "agency": "BG-GDBP", "public_key": secret("BG-GDBP").public_key().to_string()}),
    );
    let report = verify_bundle(&join(&lines));
    assert!(matches!(
        report.problems.as_slice(),
        [BundleProblem::KeyForNonMember { line: 7, .. }]
    ));
    let verdict = report.verdict(&foreign.id()).unwrap();
    assert!(matches!(
        verdict.failures.as_slice(),
        [RecordFailure::NotPermitted(DenyReason::NotMember { .. })]
    ));
}

#[test]
fn a_missing_seq_is_a_gap_and_a_tombstone_fills_it() {
    let third = signed("TR-JGK", 3, "Third boat expected from Dikili.");
    let records = vec![
        signed("TR-JGK", 1, "First boat sighted off Çeşme."),
        signed("TR-JGK", 2, "Second boat sighted off Ayvalık."),
        signed("TR-JGK", 4, "Fourth boat expected."),
        signed("TR-JGK", 7, "Seventh boat expected."),
    ];
    let report = verify_bundle(&bundle_of(QUAD, &records, &[]));
    assert!(!report.is_ok());
    assert!(report.problems.is_empty());
    assert!(report.records.iter().all(|v| v.is_ok()));
    let text = report.to_string();
    assert!(text.contains("GAP  TR-JGK seq 3 missing\n"), "{text}");
    assert!(text.contains("GAP  TR-JGK seqs 5–6 missing\n"), "{text}");
    assert!(text.ends_with("4 records: 4 ok, 0 failed; 0 tombstones; 2 gaps; bundle FAILED"));

    let purged = |e: &Envelope| {
        BundleTombstone::of(e, now(), "retention of QUAD-2026 (1095 days) ended").unwrap()
    };
    let fifth = signed("TR-JGK", 5, "x");
    let sixth = signed("TR-JGK", 6, "y");
    let tombstones = [purged(&sixth), purged(&third), purged(&fifth)];
    let bundle = bundle_of(QUAD, &records, &tombstones);
    let report = verify_bundle(&bundle);
    assert_ok(&report);
    assert!(
        report
            .to_string()
            .ends_with("4 records: 4 ok, 0 failed; 3 tombstones; 0 gaps; bundle verified")
    );
    let lines = lines(&bundle);
    let tail: Vec<&str> = lines[lines.len() - 3..]
        .iter()
        .map(|l| l["seq"].as_str().unwrap())
        .collect();
    assert_eq!(tail, ["3", "5", "6"]);
    assert_eq!(
        lines[lines.len() - 3]["envelope_sha256"],
        hex::encode(sha256(&third.encode())).as_str()
    );

    // A tombstone claiming a present record's seq for another record is equivocation.
    let other = signed("TR-JGK", 2, "Another second record.");
    let report = verify_bundle(&bundle_of(
        QUAD,
        &records,
        &[purged(&third), purged(&other)],
    ));
    let second = report.verdict(&records[1].id()).unwrap();
    assert!(
        matches!(second.failures.as_slice(), [RecordFailure::TombstoneClaimsSeq { other: o, .. }] if *o == other.id()),
        "{report}"
    );
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    // The tombstone's digest is SHA-256 of the envelope bytes; recompute it independently.
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

#[test]
fn two_records_with_one_seq_are_equivocation() {
    let mut records = quad_records();
    let twin = signed("TR-JGK", 2, "A different second record.");
    records.push(twin.clone());
    let report = verify_bundle(&bundle_of(QUAD, &records, &[]));
    assert!(!report.is_ok());
    let mut failed = failed_ids(&report);
    failed.sort();
    let mut expected = vec![records[0].id(), twin.id()];
    expected.sort();
    assert_eq!(failed, expected);
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "FAIL {} TR-JGK seq 2: equivocation: TR-JGK also signed record {} with seq 2",
            twin.id(),
            records[0].id()
        )),
        "{text}"
    );
}

#[test]
fn an_altered_agreement_file_is_fatal() {
    let bundle = bundle_of(QUAD, &quad_records(), &[]);
    let mut lines = lines(&bundle);
    let mut file = B64.decode(lines[1]["file"].as_str().unwrap()).unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    file = text
        .replace("retention_days = 1095", "retention_days = 10950")
        .into_bytes();
    lines[1]["file"] = Value::from(B64.encode(&file));
    let report = verify_bundle(&join(&lines));
    assert!(!report.is_ok());
    // the altered text also loses every member's signature
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::AgreementHash { line: 2, .. }, rest @ ..]
                if rest.len() == 5
                    && rest[..4].iter().all(|p| matches!(p, BundleProblem::AgreementSignature { .. }))
                    && matches!(&rest[4], BundleProblem::AgreementNotSigned { missing } if missing.len() == 4)
        ),
        "{report}"
    );
    assert!(report.to_string().contains("the file was altered"));

    // An invalid file whose hash is restated is reported with the config errors.
    let broken = b"id = \"QUAD-2026\"\nkind = \"trilateral\"\n";
    lines[1]["file"] = Value::from(B64.encode(broken));
    lines[1]["sha256"] = Value::from(hex::encode(sha256(broken)));
    let report = verify_bundle(&join(&lines));
    let text = report.to_string();
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::AgreementInvalid { line: 2, .. }]
        ),
        "{text}"
    );
    assert!(text.contains("trilateral"), "{text}");
    assert!(text.contains("bundled-agreement.toml:2:"), "{text}");

    // Not base64 at all.
    lines[1]["file"] = Value::from("not base64!");
    let report = verify_bundle(&join(&lines));
    assert!(matches!(
        report.problems.as_slice(),
        [BundleProblem::AgreementEncoding { line: 2, .. }]
    ));
}

#[test]
fn swapped_keys_fail_the_signatures() {
    let records = quad_records();
    let bundle = bundle_of(QUAD, &records, &[]);
    let mut lines = lines(&bundle);
    let pk = lines.iter().position(|l| l["agency"] == "PK-FIA").unwrap();
    let tr = lines.iter().position(|l| l["agency"] == "TR-JGK").unwrap();
    let pk_key = lines[pk]["public_key"].clone();
    lines[pk]["public_key"] = lines[tr]["public_key"].clone();
    lines[tr]["public_key"] = pk_key;
    let report = verify_bundle(&join(&lines));
    // their signatures of the agreement fail too, so it is reported as never in effect
    let swapped: Vec<_> = report
        .problems
        .iter()
        .filter_map(|p| match p {
            BundleProblem::AgreementSignature { agency, reason, .. } => {
                assert!(reason.contains("does not verify"), "{p}");
                Some(agency.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(swapped, ["PK-FIA", "TR-JGK"], "{report}");
    assert!(
        matches!(report.problems.last(), Some(BundleProblem::AgreementNotSigned { missing }) if missing.len() == 2),
        "{report}"
    );
    for verdict in &report.records {
        let originator = verdict.originator.clone().unwrap();
        if originator == agency("GR-HCG") {
            // its signature is fine, but nothing could be shared under an agreement that
            // never took effect
            assert!(
                matches!(
                    verdict.failures.as_slice(),
                    [RecordFailure::NotPermitted(DenyReason::NotSigned { .. })]
                ),
                "{verdict}"
            );
        } else {
            assert!(
                matches!(
                    verdict.failures.as_slice(),
                    [
                        RecordFailure::Signature(VerifyError::WrongKey { .. }),
                        RecordFailure::NotPermitted(DenyReason::NotSigned { .. })
                    ]
                ),
                "{verdict}"
            );
        }
    }
    assert_eq!(report.failed().count(), 6);

    // A key replaced by an unrelated one: the same.
    let mut lines = lines.clone();
    let stranger = SecretKey::from_seed(&[9; 32]).public_key().to_string();
    lines[pk]["public_key"] = Value::from(stranger);
    let report = verify_bundle(&join(&lines));
    assert!(report.failed().count() >= 2);
}

#[test]
fn a_category_the_agreement_forbids_fails_naming_it() {
    // TR-BG-2026 permits no `vessel` records.
    let vessel = signed_by(
        "TR-JGK",
        "TR-JGK",
        "TR-BG-2026",
        1,
        "vessel",
        "Ferry used by couriers.",
    );
    let alert = signed_by(
        "BG-GDBP",
        "BG-GDBP",
        "TR-BG-2026",
        1,
        "alert",
        "Group seen near Lesovo.",
    );
    let report = verify_bundle(&bundle_of(TR_BG, &[vessel.clone(), alert.clone()], &[]));
    assert!(!report.is_ok());
    assert!(report.verdict(&alert.id()).unwrap().is_ok());
    let verdict = report.verdict(&vessel.id()).unwrap();
    assert_eq!(
        verdict.failures,
        [RecordFailure::NotPermitted(
            DenyReason::CategoryNotPermitted {
                category: Category::Vessel,
                agreement: "TR-BG-2026".parse().unwrap(),
            }
        )]
    );
    assert!(
        verdict
            .to_string()
            .ends_with("agreement TR-BG-2026 does not permit records of category vessel"),
        "{verdict}"
    );
}

#[test]
fn a_record_created_before_the_agreement_took_effect_fails() {
    let mut draft: Value = json!({
        "agreement": "QUAD-2026", "category": "alert", "handling": "H0", "grading": "C3",
        "created": "2025-12-31T23:59:59Z", "summary": "Too early.",
    });
    let early = parse_draft(draft.to_string().as_bytes())
        .unwrap()
        .into_record(&agency("IR-FARAJA"), Seq::FIRST, now())
        .unwrap();
    let early = sign(&early, &secret("IR-FARAJA")).unwrap();
    // A victim's identifying data for a purpose QUAD-2026 does not permit.
    draft["created"] = Value::from("2026-06-01T10:00:00Z");
    draft["category"] = Value::from("victim-identification");
    draft["subjects"] = json!([{"type": "person", "role": "victim", "name": "Example Person"}]);
    draft["victim_data_purpose"] = Value::from("investigation");
    let victim = parse_draft(draft.to_string().as_bytes())
        .unwrap()
        .into_record(&agency("IR-FARAJA"), Seq::new(2).unwrap(), now())
        .unwrap();
    let victim = sign(&victim, &secret("IR-FARAJA")).unwrap();
    let report = verify_bundle(&bundle_of(QUAD, &[early.clone(), victim.clone()], &[]));
    assert!(matches!(
        report.verdict(&early.id()).unwrap().failures.as_slice(),
        [RecordFailure::NotPermitted(
            DenyReason::NotYetInForce { .. }
        )]
    ));
    assert!(matches!(
        report.verdict(&victim.id()).unwrap().failures.as_slice(),
        [RecordFailure::NotPermitted(
            DenyReason::VictimPurposeNotPermitted { .. }
        )]
    ));
}

#[test]
fn garbage_and_disorder_are_reported_with_line_numbers() {
    let bundle = bundle_of(QUAD, &quad_records(), &[]);
    let text = String::from_utf8(bundle.clone()).unwrap();
    let mut rows: Vec<String> = text.lines().map(str::to_owned).collect();

    let mut garbled = rows.clone();
    garbled.insert(3, "this is not json".into());
    let report = verify_bundle(garbled.join("\n").as_bytes());
    assert!(!report.is_ok());
    let shown = report.to_string();
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::Malformed {
                line: 4,
                what: "line",
                ..
            }]
        ),
        "{shown}"
    );
    assert!(shown.contains("BUNDLE line 4: malformed line: "), "{shown}");
    // The records are still judged.
    assert_eq!(report.records.len(), 6);
    assert!(report.records.iter().all(|v| v.is_ok()));

    let mut unknown = rows.clone();
    unknown.insert(7, r#"{"type":"signature","by":"TR-JGK"}"#.into());
    let report = verify_bundle(unknown.join("\n").as_bytes());
    assert!(matches!(
        report.problems.as_slice(),
        [BundleProblem::UnknownType { line: 8, found }] if found == "signature"
    ));

    let mut missing_field = rows.clone();
    missing_field[7] = r#"{"type":"record","id":"00"}"#.into();
    let report = verify_bundle(missing_field.join("\n").as_bytes());
    let shown = report.to_string();
    assert!(shown.contains("line 8: malformed record line: "), "{shown}");

    let mut blank = rows.clone();
    blank.insert(2, String::new());
    let report = verify_bundle(blank.join("\n").as_bytes());
    assert!(matches!(
        report.problems.as_slice(),
        [BundleProblem::Malformed { line: 3, .. }]
    ));

    // A key line after the records.
    let key = rows.remove(2);
    rows.push(key);
    let report = verify_bundle(rows.join("\n").as_bytes());
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::Order { line: 12, found: "key", problem }] if problem == "comes after the record lines"
        ),
        "{report}"
    );

    // No header first.
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let report = verify_bundle(rows.join("\n").as_bytes());
    assert!(!report.is_ok());
    assert!(
        report.problems.contains(&BundleProblem::MissingHeader),
        "{report}"
    );

    // Not a bundle at all, and nothing.
    let report = verify_bundle(b"\x00\xff\xfe garbage");
    assert!(!report.is_ok());
    assert!(
        report.to_string().contains("line 1: malformed line"),
        "{report}"
    );
    assert_eq!(verify_bundle(b"").problems, [BundleProblem::Empty]);
}

#[test]
fn counts_duplicates_and_versions_are_checked() {
    let bundle = bundle_of(QUAD, &quad_records(), &[]);
    let text = String::from_utf8(bundle).unwrap();
    let rows: Vec<&str> = text.lines().collect();

    // The last record removed: its seq was the highest, so only the header's count tells.
    let truncated = rows[..rows.len() - 1].join("\n");
    let report = verify_bundle(truncated.as_bytes());
    assert_eq!(
        report.problems,
        [BundleProblem::CountMismatch {
            what: "record",
            stated: 6,
            found: 5
        }]
    );

    let mut doubled: Vec<&str> = rows.clone();
    doubled.push(rows[rows.len() - 1]);
    let mut lines: Vec<Value> = doubled
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[0]["records"] = Value::from(7);
    let report = verify_bundle(&join(&lines));
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::DuplicateRecord {
                line: 13,
                first: 12,
                ..
            }]
        ),
        "{report}"
    );

    let mut lines: Vec<Value> = rows
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[0]["version"] = Value::from(2);
    let report = verify_bundle(&join(&lines));
    assert!(matches!(
        report.problems.as_slice(),
        [BundleProblem::UnsupportedVersion { found: 2, .. }]
    ));

    let mut lines: Vec<Value> = rows
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.remove(3); // IR-FARAJA's key
    let report = verify_bundle(&join(&lines));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::MissingKey { agency, .. }, BundleProblem::AgreementNotSigned { missing }] if agency.as_str() == "IR-FARAJA" && missing == std::slice::from_ref(agency)),
        "{report}"
    );

    let mut lines: Vec<Value> = rows
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let again = lines[5].clone(); // TR-JGK's key, twice
    lines.insert(6, again);
    let report = verify_bundle(&join(&lines));
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::DuplicateKey {
                line: 7,
                first: 6,
                ..
            }]
        ),
        "{report}"
    );

    let mut lines: Vec<Value> = rows
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[0]["agreement"] = Value::from("TR-BG-2026");
    let report = verify_bundle(&join(&lines));
    assert!(matches!(
        report.problems.as_slice(),
        [BundleProblem::AgreementMismatch { .. }]
    ));

    let long = "x".repeat(accord_node::bundle::MAX_LINE_BYTES + 1);
    let report = verify_bundle(format!("{}\n{long}\n", rows[0]).as_bytes());
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, BundleProblem::LineTooLong { line: 2, .. }))
    );
}

#[test]
fn the_writer_refuses_what_it_cannot_export_faithfully() {
    let file = agreement_file(QUAD);
    let signatures = agreement_signatures(QUAD);
    let tr = agency("TR-JGK");
    let tr_key = secret("TR-JGK");
    let mut keys = all_keys();
    keys.remove(&agency("GR-HCG"));
    let records = quad_records();
    let mut export = Export {
        agreement_file: &file,
        exported_by: &tr,
        exported_at: now(),
        keys: &keys,
        signatures: &signatures,
        records: &records,
        tombstones: &[],
        rotations: &[],
        revocations: &[],
        signer: &tr_key,
    };
    let mut out = Vec::new();
    let err = write_bundle(&mut out, &export).unwrap_err();
    assert!(matches!(err, BundleWriteError::MissingKey { .. }), "{err}");
    assert!(err.to_string().contains("GR-HCG"), "{err}");
    assert!(out.is_empty());

    let all = all_keys();
    export.keys = &all;
    let other = [signed_by("TR-JGK", "TR-JGK", "TR-BG-2026", 1, "alert", "x")];
    export.records = &other;
    let err = write_bundle(&mut out, &export).unwrap_err();
    assert!(err.to_string().contains("TR-BG-2026"), "{err}");
    assert!(out.is_empty());
}

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`, or 0 when `n` is 0.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic() {
    let records = quad_records();
    let tombstones = [BundleTombstone::of(&signed("IR-FARAJA", 1, "z"), now(), "purged").unwrap()];
    let bundle = bundle_of(QUAD, &records, &tombstones);
    assert_ok(&verify_bundle(&bundle));
    let mut original: Vec<RecordId> = records.iter().map(Envelope::id).collect();
    original.sort();
    let mut rng = XorShift(0x5eed_acc0_4d00_0001);
    for round in 0..1500 {
        let mut bytes = bundle.clone();
        for _ in 0..1 + rng.below(8) {
            if bytes.is_empty() {
                bytes.push(b'{');
            }
            match rng.below(6) {
                0 => {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
                2 => {
                    let i = rng.below(bytes.len());
                    bytes.insert(i, [b'\n', b'{', b'"', b'}', b'=', 0xff][rng.below(6)]);
                }
                3 => {
                    let i = rng.below(bytes.len());
                    bytes.remove(i);
                }
                4 => {
                    let i = rng.below(bytes.len());
                    bytes.truncate(i.max(1));
                }
                _ => {
                    let a = rng.below(bytes.len());
                    let b = (a + rng.below(200)).min(bytes.len());
                    let copy = bytes[a..b].to_vec();
                    let at = rng.below(bytes.len());
                    bytes.splice(at..at, copy);
                }
            }
        }
        let report = verify_bundle(&bytes);
        // Display must not panic either.
        let _ = report.to_string();
        // Some mutations touch only unsigned, informative bytes (such as `exported_at`); a
        // mutated bundle that still verifies must carry exactly the original records.
        if report.is_ok() {
            let mut ids: Vec<RecordId> = report.records.iter().map(|v| v.id).collect();
            ids.sort();
            assert_eq!(ids, original, "round {round}");
        }
    }
    for len in [0usize, 1, 2, 17, 1000] {
        let noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(!verify_bundle(&noise).is_ok());
    }
}

#[test]
fn an_agreement_missing_a_members_signature_or_with_a_forged_one_is_reported() {
    let bundle = bundle_of(QUAD, &quad_records(), &[]);
    let mut lines = lines(&bundle);
    let sigs = lines[1]["signatures"].as_array().unwrap().clone();
    assert_eq!(sigs.len(), 4, "every member's signature is bundled");

    // Greece's signature left out: the agreement never took effect
    lines[1]["signatures"] = Value::from(
        sigs.iter()
            .filter(|s| s["agency"] != "GR-HCG")
            .cloned()
            .collect::<Vec<_>>(),
    );
    let report = verify_bundle(&join(&lines));
    assert!(!report.is_ok());
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::AgreementNotSigned { missing }] if missing == &[agency("GR-HCG")]),
        "{report}"
    );
    assert!(report.to_string().contains("lacks the signature of GR-HCG"));

    // Greece's signature made by someone else's key
    let forged = accord_protocol::agreement::sign_agreement(
        &secret("TR-JGK"),
        &sha256(&agreement_file(QUAD)),
    );
    let mut with_forgery = sigs.clone();
    for s in &mut with_forgery {
        if s["agency"] == "GR-HCG" {
            s["signature"] = Value::from(hex::encode(forged));
        }
    }
    lines[1]["signatures"] = Value::from(with_forgery);
    let report = verify_bundle(&join(&lines));
    assert!(
        matches!(report.problems.as_slice(), [
            BundleProblem::AgreementSignature { agency: a, .. },
            BundleProblem::AgreementNotSigned { .. },
        ] if a.as_str() == "GR-HCG"),
        "{report}"
    );
}
