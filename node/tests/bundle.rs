//! Bundles: written from records signed with the demo keys of examples/quad, verified offline,
//! and each kind of tampering caught and named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use accord_node::bundle::{
    BundleProblem, BundleReport, BundleTombstone, BundleWriteError, Export, Gap, KeyPeriod,
    RecordFailure, RevokedCertificate, verify_bundle, write_bundle,
};
use accord_node::draft::parse_draft;
use accord_node::policy::{DenyReason, Party};
use accord_protocol::audit::Signed;
use accord_protocol::delegation::{
    Delegation, REVOCATION_DOMAIN, Revocation, certificate_id, issue, revoke,
};
use accord_protocol::envelope::sign_delegated;
use accord_protocol::rotation::{
    ROTATION_DOMAIN, Rotation, SignedRotation, attest, rotation_message, sign_rotation,
};
use accord_protocol::{
    AgencyId, Category, Country, Envelope, PublicKey, Record, RecordId, SecretKey, Seq, StreamId,
    Timestamp, VerifyError, sign,
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

/// Lines of text joined as they are, each ending in LF; a last signature line is made again
/// over what comes before it, as [`join`] does.
fn join_rows(rows: &[impl AsRef<str>]) -> Vec<u8> {
    let last = rows
        .last()
        .and_then(|l| serde_json::from_str::<Value>(l.as_ref()).ok())
        .filter(|l| l["type"] == "signature");
    let body = if last.is_some() {
        &rows[..rows.len() - 1]
    } else {
        rows
    };
    let mut out = String::new();
    for row in body {
        out.push_str(row.as_ref());
        out.push('\n');
    }
    if let Some(s) = last {
        out.push_str(&type_first(&resigned(out.as_bytes(), &s)));
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
            "type": "accord-bundle", "version": 2, "agreement": "QUAD-2026",
            "exported_by": "TR-JGK", "exported_at": "2026-11-28T12:00:00Z",
            "records": 6, "tombstones": 0, "rotations": 0, "revocations": 0,
        })
    );
    // The header's members appear in the documented order.
    let first = std::str::from_utf8(&bundle)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(
        first.starts_with(r#"{"type":"accord-bundle","version":2,"agreement":"QUAD-2026""#),
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
    assert_eq!(
        lines.len(),
        13,
        "header, agreement, 4 keys, 6 records, signature"
    );
    let order: Vec<(String, String)> = lines[6..12]
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

    // Last, the exporter's signature of the SHA-256 of every byte before its line.
    let signature = &lines[12];
    assert_eq!(signature["type"], "signature");
    assert_eq!(signature["agency"], "TR-JGK");
    let last = std::str::from_utf8(&bundle)
        .unwrap()
        .lines()
        .last()
        .unwrap();
    assert!(last.starts_with(r#"{"type":"signature","#), "{last}");
    let body = &bundle[..bundle.len() - last.len() - 1];
    let digest = sha256(body);
    assert_eq!(signature["sha256"], hex::encode(digest).as_str());
    let mut sig = [0u8; 64];
    hex::decode_to_slice(signature["signature"].as_str().unwrap(), &mut sig).unwrap();
    let tr_key = secret("TR-JGK").public_key();
    assert!(accord_protocol::verify::verify_strict_raw(
        &tr_key,
        &[accord_node::bundle::BUNDLE_DOMAIN, &digest[..]].concat(),
        &sig
    ));
    assert_eq!(accord_node::bundle::BUNDLE_DOMAIN, b"accord/bundle/v2\0");

    let report = verify_bundle(&bundle);
    assert_ok(&report);
    assert_eq!(report.header.as_ref().unwrap().version, 2);
    assert_eq!(report.signed_by, Some((agency("TR-JGK"), tr_key)));
    assert_eq!(report.records.len(), 6);
    let text = report.to_string();
    assert!(
        text.contains(&format!("signed by TR-JGK with {tr_key}\n")),
        "{text}"
    );
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
    // It goes first among the keys, which stay sorted by agency id; the exporter signs again.
    let mut lines = lines(&bundle);
    lines.insert(
        2,
        json!({"type": "key", "agency": "BG-GDBP", "public_key": secret("BG-GDBP").public_key().to_string()}),
    );
    let report = verify_bundle(&join(&lines));
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::KeyForNonMember { line: 3, agency, .. }] if agency.as_str() == "BG-GDBP"
        ),
        "{report}"
    );
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
    // The tombstones come last before the signature, sorted by stream and seq, each naming
    // its stream.
    let n = lines.len();
    assert_eq!(lines[n - 1]["type"], "signature");
    let tail: Vec<(&str, &str)> = lines[n - 4..n - 1]
        .iter()
        .map(|l| {
            assert_eq!(l["type"], "tombstone");
            (l["stream"].as_str().unwrap(), l["seq"].as_str().unwrap())
        })
        .collect();
    assert_eq!(tail, [("TR-JGK", "3"), ("TR-JGK", "5"), ("TR-JGK", "6")]);
    assert_eq!(
        lines[n - 4]["envelope_sha256"],
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
        matches!(second.failures.as_slice(), [RecordFailure::TombstoneClaimsSeq { other: o, stream, .. }] if *o == other.id() && stream.as_str() == "TR-JGK"),
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
            "FAIL {} TR-JGK seq 2: equivocation: stream TR-JGK also holds record {} with seq 2",
            twin.id(),
            records[0].id()
        )),
        "{text}"
    );
    assert!(
        matches!(
            report.verdict(&twin.id()).unwrap().failures.as_slice(),
            [RecordFailure::Equivocation { stream, seq, other }]
                if stream.as_str() == "TR-JGK" && seq.get() == 2 && *other == records[0].id()
        ),
        "{report}"
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
    // The exporter, TR-JGK, signed the bundle with its own key, which is no longer the one
    // listed for it: the bundle's signature fails as well.
    assert!(
        matches!(
            &report.problems[report.problems.len() - 2..],
            [
                BundleProblem::AgreementNotSigned { missing },
                BundleProblem::BundleSignature { line: 13, reason },
            ] if missing.len() == 2 && reason.contains("does not verify under TR-JGK's listed key")
        ),
        "{report}"
    );
    assert_eq!(report.problems.len(), 4, "{report}");
    assert_eq!(report.signed_by, None);
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
    assert_eq!(join_rows(&rows), bundle, "the rows give the bundle back");

    let mut garbled = rows.clone();
    garbled.insert(3, "this is not json".into());
    let report = verify_bundle(&join_rows(&garbled));
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
    unknown.insert(7, r#"{"type":"comment","by":"TR-JGK"}"#.into());
    let report = verify_bundle(&join_rows(&unknown));
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::UnknownType { line: 8, found }] if found == "comment"
        ),
        "{report}"
    );

    let mut missing_field = rows.clone();
    missing_field[7] = r#"{"type":"record","id":"00"}"#.into();
    let report = verify_bundle(&join_rows(&missing_field));
    let shown = report.to_string();
    assert!(shown.contains("line 8: malformed record line: "), "{shown}");

    let mut blank = rows.clone();
    blank.insert(2, String::new());
    let report = verify_bundle(&join_rows(&blank));
    assert!(
        matches!(
            report.problems.as_slice(),
            [BundleProblem::Malformed { line: 3, .. }]
        ),
        "{report}"
    );

    // A key line after the records (the last key, so the keys stay sorted), before the
    // signature.
    let key = rows.remove(5);
    assert!(key.contains(r#""agency":"TR-JGK""#), "{key}");
    let signature = rows.len() - 1;
    rows.insert(signature, key);
    let report = verify_bundle(&join_rows(&rows));
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

    // The last record removed (the exporter signing again): its seq was the highest, so only
    // the header's count tells.
    let last_record = rows.len() - 2;
    assert!(rows[last_record].starts_with(r#"{"type":"record","#));
    let mut truncated = rows.clone();
    truncated.remove(last_record);
    let report = verify_bundle(&join_rows(&truncated));
    assert_eq!(
        report.problems,
        [BundleProblem::CountMismatch {
            what: "record",
            stated: 6,
            found: 5
        }]
    );

    // The last record twice.
    let mut doubled: Vec<&str> = rows.clone();
    doubled.insert(last_record + 1, rows[last_record]);
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
    lines[0]["version"] = Value::from(3);
    let report = verify_bundle(&join(&lines));
    assert_eq!(
        report.problems,
        [BundleProblem::UnsupportedVersion {
            found: 3,
            supported: 2
        }]
    );

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
    export.records = &records;

    // A tombstone that does not name its stream.
    let mut tombstone = BundleTombstone::of(&records[0], now(), "purged").unwrap();
    tombstone.stream = None;
    let tombstones = [tombstone];
    export.tombstones = &tombstones;
    let err = write_bundle(&mut out, &export).unwrap_err();
    assert!(
        matches!(err, BundleWriteError::TombstoneStream(id) if id == records[0].id()),
        "{err}"
    );
    assert!(out.is_empty());
    export.tombstones = &[];

    // A signing key that is not the exporter's listed key, and an exporter that is no member.
    let gr_key = secret("GR-HCG");
    export.signer = &gr_key;
    let err = write_bundle(&mut out, &export).unwrap_err();
    assert!(
        matches!(&err, BundleWriteError::Signer { agency } if agency.as_str() == "TR-JGK"),
        "{err}"
    );
    let bg = agency("BG-GDBP");
    let bg_key = secret("BG-GDBP");
    export.exported_by = &bg;
    export.signer = &bg_key;
    let err = write_bundle(&mut out, &export).unwrap_err();
    assert!(
        matches!(&err, BundleWriteError::Signer { agency } if agency.as_str() == "BG-GDBP"),
        "{err}"
    );
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
    let signature_line = bundle[..bundle.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let signed_body = &bundle[..signature_line];
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
        // The exporter signed every byte before the signature line, `exported_at` included:
        // a mutated bundle that still verifies (one that lost its final newline, say) kept
        // those bytes and carries exactly the original records.
        if report.is_ok() {
            assert!(bytes.starts_with(signed_body), "round {round}");
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

// ---------------------------------------------------------------------------------------------
// Version 2: the exporter's signature, the form of lines, version 1 read, key history,
// revocations and delegated streams.

/// A record of `originator` under QUAD-2026, numbered `seq`, created at `created`.
fn record_at(originator: &str, seq: u64, created: &str, summary: &str) -> Record {
    let draft = json!({
        "agreement": "QUAD-2026",
        "category": "alert",
        "handling": "H1",
        "grading": "B2",
        "created": created,
        "summary": summary,
    });
    parse_draft(draft.to_string().as_bytes())
        .unwrap()
        .into_record(&agency(originator), Seq::new(seq).unwrap(), now())
        .unwrap()
}

/// `export` written.
fn write(export: &Export<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    write_bundle(&mut out, export).unwrap();
    out
}

/// The rows of a bundle's text.
fn rows(bundle: &[u8]) -> Vec<String> {
    std::str::from_utf8(bundle)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Rows joined exactly as they are, the signature line included: what an exporter who did
/// not sign again would hand over.
fn join_unsigned(rows: &[impl AsRef<str>]) -> Vec<u8> {
    let mut out = String::new();
    for row in rows {
        out.push_str(row.as_ref());
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn an_altered_bundle_not_signed_again_fails_its_signature_and_one_without_it_is_unsigned() {
    let records = quad_records();
    let bundle = bundle_of(QUAD, &records, &[]);
    let mut rows = rows(&bundle);
    assert_eq!(join_unsigned(&rows), bundle);
    let signed_digest = lines(&bundle)[12]["sha256"].as_str().unwrap().to_owned();

    // TR-JGK's highest record dropped and the header's count fixed, the signature left as it
    // was: no gap and no count tells, only the signature.
    let third = &records[4];
    let at = line_of(&lines(&bundle), third);
    rows.remove(at);
    rows[0] = rows[0].replace(r#""records":6"#, r#""records":5"#);
    let report = verify_bundle(&join_unsigned(&rows));
    assert!(!report.is_ok());
    assert!(report.gaps.is_empty(), "{report}");
    assert!(report.records.iter().all(|v| v.is_ok()), "{report}");
    assert_eq!(report.signed_by, None);
    let body_digest = hex::encode(sha256(&join_unsigned(&rows[..rows.len() - 1])));
    match report.problems.as_slice() {
        [BundleProblem::BundleSignature { line: 12, reason }] => {
            assert!(
                reason.contains(&format!(
                    "the lines before it hash to {body_digest}, not to the signed {signed_digest}"
                )),
                "{reason}"
            );
            assert!(
                reason.contains("lines were added, removed or altered"),
                "{reason}"
            );
        }
        other => panic!("expected only the bundle's signature to fail: {other:?}\n{report}"),
    }
    assert!(
        report
            .to_string()
            .contains("BUNDLE line 12: the bundle's signature: "),
        "{report}"
    );

    // Signed again by the exporter, the same bundle verifies: the signature binds the
    // exporter to what it handed over, not the originators to what was left out.
    assert_ok(&verify_bundle(&join_rows(&rows)));

    // The signature line removed, from the altered bundle or the original one.
    for body in [&rows[..rows.len() - 1], &self::rows(&bundle)[..12]] {
        let report = verify_bundle(&join_unsigned(body));
        assert_eq!(report.problems, [BundleProblem::Unsigned], "{report}");
        assert!(
            report
                .to_string()
                .contains("the bundle has no signature line")
        );
    }

    // A signature by another agency than the exporter, and one by a key that is not the
    // exporter's listed key.
    let mut lines = lines(&bundle);
    lines[12]["agency"] = Value::from("GR-HCG");
    let report = verify_bundle(&join(&lines));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::BundleSignature { line: 13, reason }]
            if reason.contains("it is GR-HCG's, but the header says TR-JGK exported the bundle")),
        "{report}"
    );
    let mut forged = self::rows(&bundle);
    let body = join_unsigned(&forged[..12]);
    let digest = sha256(&body);
    let by_greece = secret("GR-HCG").sign_tagged(accord_node::bundle::BUNDLE_DOMAIN, &digest);
    forged[12] = type_first(&json!({"type": "signature", "agency": "TR-JGK",
        "sha256": hex::encode(digest), "signature": hex::encode(by_greece)}));
    let report = verify_bundle(&join_unsigned(&forged));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::BundleSignature { line: 13, reason }]
            if reason.contains("does not verify under TR-JGK's listed key")),
        "{report}"
    );
}

#[test]
fn cr_lf_a_type_not_first_and_unsorted_lines_are_each_reported() {
    let purged = |seq, summary| {
        BundleTombstone::of(&signed("IR-FARAJA", seq, summary), now(), "purged").unwrap()
    };
    let tombstones = [purged(1, "a"), purged(2, "b")];
    let bundle = bundle_of(QUAD, &quad_records(), &tombstones);
    let rows = rows(&bundle);
    let lines = lines(&bundle);
    assert_eq!(
        rows.len(),
        15,
        "header, agreement, 4 keys, 6 records, 2 tombstones, signature"
    );
    // Each change below is signed again by the exporter: only the change is left to find, the
    // records are still judged and all OK.
    let only = |changed: &[String], expected: BundleProblem| {
        let report = verify_bundle(&join_rows(changed));
        assert_eq!(report.problems, [expected], "{report}");
        assert_eq!(report.records.len(), 6, "{report}");
        assert!(report.records.iter().all(|v| v.is_ok()), "{report}");
        assert!(report.gaps.is_empty(), "{report}");
        report
    };

    // A record line ending in CR LF.
    let mut crlf = rows.clone();
    crlf[7].push('\r');
    let report = only(&crlf, BundleProblem::LineEnding { line: 8 });
    assert!(
        report
            .to_string()
            .contains("BUNDLE line 8: ends in CR LF; bundle lines end in LF alone"),
        "{report}"
    );

    // GR-HCG's key line with `agency` before `type`.
    let mut late_type = rows.clone();
    late_type[2] = format!(
        r#"{{"agency":"GR-HCG","type":"key","public_key":{}}}"#,
        lines[2]["public_key"]
    );
    only(&late_type, BundleProblem::TypeNotFirst { line: 3 });

    // GR-HCG's and IR-FARAJA's keys swapped.
    let mut keys = rows.clone();
    keys.swap(2, 3);
    only(
        &keys,
        BundleProblem::Unsorted {
            line: 4,
            what: "key",
            rule: "by agency id",
        },
    );

    // GR-HCG's record and PK-FIA's first swapped.
    assert_eq!(
        line_of(&lines, &quad_records()[3]),
        6,
        "GR-HCG seq 1 is the first record"
    );
    let mut records = rows.clone();
    records.swap(6, 7);
    only(
        &records,
        BundleProblem::Unsorted {
            line: 8,
            what: "record",
            rule: "by stream, then seq, then id",
        },
    );

    // IR-FARAJA's two tombstones swapped.
    assert_eq!(lines[12]["seq"], "1");
    let mut purged = rows.clone();
    purged.swap(12, 13);
    only(
        &purged,
        BundleProblem::Unsorted {
            line: 14,
            what: "tombstone",
            rule: "by stream, then seq, then id",
        },
    );
}

#[test]
fn a_version_1_bundle_still_verifies_and_a_signature_line_has_no_place_in_it() {
    // TR-JGK's second record purged; version 1 tombstones name no stream.
    let mut records = quad_records();
    let second = records.remove(0);
    let tombstone = BundleTombstone::of(&second, now(), "purged").unwrap();
    let v2 = lines(&bundle_of(QUAD, &records, std::slice::from_ref(&tombstone)));
    let mut v1: Vec<Value> = v2[..v2.len() - 1].to_vec();
    v1[0]["version"] = Value::from(1);
    let header = v1[0].as_object_mut().unwrap();
    assert!(header.remove("rotations").is_some());
    assert!(header.remove("revocations").is_some());
    let last = v1.len() - 1;
    assert_eq!(v1[last]["type"], "tombstone");
    assert_eq!(v1[last]["stream"], "TR-JGK");
    v1[last].as_object_mut().unwrap().remove("stream");
    let bundle = join(&v1);
    assert_eq!(lines(&bundle).last().unwrap()["type"], "tombstone");

    let report = verify_bundle(&bundle);
    assert_ok(&report);
    assert_eq!(report.header.as_ref().unwrap().version, 1);
    assert_eq!(report.signed_by, None);
    assert_eq!(report.tombstones, 1);
    // The tombstone stands in TR-JGK's own stream: seq 2 is held, no gap.
    assert!(report.gaps.is_empty());
    let text = report.to_string();
    assert!(
        text.contains("unsigned (a version-1 bundle: the exporter's claims are not signed)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("5 records: 5 ok, 0 failed; 1 tombstone; 0 gaps; bundle verified"),
        "{text}"
    );

    // The version-2 signature line appended to it.
    let mut signed = v1.clone();
    signed.push(v2[v2.len() - 1].clone());
    let line = signed.len();
    let report = verify_bundle(&join_unsigned(
        &signed.iter().map(type_first).collect::<Vec<_>>(),
    ));
    assert_eq!(
        report.problems,
        [BundleProblem::NotInVersion {
            line,
            found: "signature",
            version: 1
        }],
        "{report}"
    );

    // In version 2 a tombstone must name its stream; without it, it holds no place.
    let mut v2 = v2.clone();
    let at = v2.len() - 2;
    v2[at].as_object_mut().unwrap().remove("stream");
    let report = verify_bundle(&join(&v2));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::TombstoneStream { line, reason }]
            if *line == at + 1 && reason.contains("names no stream")),
        "{report}"
    );
    assert_eq!(
        report.gaps,
        [Gap {
            stream: StreamId::agency(&agency("TR-JGK")),
            from: 2,
            to: 2
        }]
    );
}

/// When TR-JGK's new key takes over.
const SINCE: &str = "2026-11-01T00:00:00Z";

/// TR-JGK's key after the rotation.
fn tr_new_key() -> SecretKey {
    SecretKey::from_seed(&[7; 32])
}

/// TR-JGK's rotation from its demo key to `key`, from [`SINCE`].
fn tr_rotation(key: &SecretKey) -> Rotation {
    Rotation {
        v: 1,
        agency: agency("TR-JGK"),
        previous: secret("TR-JGK").public_key(),
        key: key.public_key(),
        since: ts(SINCE),
    }
}

/// TR-JGK's records: seq 1 and 2 created before [`SINCE`] and signed with the demo key, seq 3
/// (created at `SINCE` exactly) and 4 after it with the new key; and GR-HCG's seq 1.
fn rotated_records() -> (Vec<Envelope>, Vec<Envelope>) {
    let (old, new) = (secret("TR-JGK"), tr_new_key());
    let before = vec![
        sign(&record_at("TR-JGK", 1, "2026-10-01T08:00:00Z", "a"), &old).unwrap(),
        sign(&record_at("TR-JGK", 2, "2026-10-31T23:59:59Z", "b"), &old).unwrap(),
    ];
    let after = vec![
        sign(&record_at("TR-JGK", 3, SINCE, "c"), &new).unwrap(),
        sign(&record_at("TR-JGK", 4, "2026-11-20T08:00:00Z", "d"), &new).unwrap(),
        signed("GR-HCG", 1, "e"),
    ];
    (before, after)
}

/// A QUAD-2026 bundle exported (and signed) by GR-HCG, listing `tr_key` as TR-JGK's key, with
/// TR-JGK's signature of the agreement made by `tr_signed_agreement_with`.
fn rotated_bundle(
    records: &[Envelope],
    rotations: &[SignedRotation],
    tr_key: PublicKey,
    tr_signed_agreement_with: &SecretKey,
) -> Vec<u8> {
    let file = agreement_file(QUAD);
    let mut keys = all_keys();
    keys.insert(agency("TR-JGK"), tr_key);
    let mut signatures = agreement_signatures(QUAD);
    signatures.insert(
        agency("TR-JGK"),
        accord_protocol::agreement::sign_agreement(tr_signed_agreement_with, &sha256(&file)),
    );
    let gr = agency("GR-HCG");
    write(&Export {
        agreement_file: &file,
        exported_by: &gr,
        exported_at: now(),
        keys: &keys,
        signatures: &signatures,
        records,
        tombstones: &[],
        rotations,
        revocations: &[],
        signer: &secret("GR-HCG"),
    })
}

/// The ids of the records that failed, sorted.
fn failed_sorted(report: &BundleReport) -> Vec<RecordId> {
    let mut ids = failed_ids(report);
    ids.sort();
    ids
}

/// The ids of `envelopes`, sorted.
fn ids(envelopes: &[Envelope]) -> Vec<RecordId> {
    let mut ids: Vec<RecordId> = envelopes.iter().map(Envelope::id).collect();
    ids.sort();
    ids
}

#[test]
fn records_signed_before_and_after_a_key_rotation_verify_with_the_key_then_in_force() {
    let (old, new) = (secret("TR-JGK"), tr_new_key());
    let (before, after) = rotated_records();
    let all = [before.clone(), after.clone()].concat();
    let rotation = sign_rotation(&tr_rotation(&new), Some(&old), &new).unwrap();
    // TR-JGK's signature of the agreement, made with the old key, is kept across the rotation.
    let bundle = rotated_bundle(
        &all,
        std::slice::from_ref(&rotation),
        new.public_key(),
        &old,
    );
    let lines = lines(&bundle);
    assert_eq!(lines[0]["rotations"], 1);
    assert_eq!(lines[6]["type"], "rotation");
    assert_eq!(
        lines[6]["statement"],
        String::from_utf8(rotation.statement.clone())
            .unwrap()
            .as_str()
    );
    assert_eq!(
        lines[6]["previous_signature"],
        hex::encode(rotation.by_previous.unwrap()).as_str()
    );

    let report = verify_bundle(&bundle);
    assert_ok(&report);
    assert_eq!(report.keys[&agency("TR-JGK")], new.public_key());
    assert_eq!(
        report.key_history[&agency("TR-JGK")],
        [
            KeyPeriod {
                since: None,
                key: old.public_key()
            },
            KeyPeriod {
                since: Some(ts(SINCE)),
                key: new.public_key()
            }
        ]
    );
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "key  TR-JGK {} before {SINCE}\n",
            old.public_key()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("key  TR-JGK {} from {SINCE}\n", new.public_key())),
        "{text}"
    );

    // The old key signing a record created after the rotation: that record fails.
    let late = sign(&record_at("TR-JGK", 5, "2026-11-21T08:00:00Z", "f"), &old).unwrap();
    let with_late = [all.clone(), vec![late.clone()]].concat();
    let report = verify_bundle(&rotated_bundle(
        &with_late,
        std::slice::from_ref(&rotation),
        new.public_key(),
        &old,
    ));
    assert!(report.problems.is_empty(), "{report}");
    assert_eq!(failed_ids(&report), [late.id()]);
    assert!(matches!(
        report.verdict(&late.id()).unwrap().failures.as_slice(),
        [RecordFailure::Signature(VerifyError::WrongKey { .. })]
    ));

    // An officer's certificate issued with the old key before the rotation still vouches for
    // the officer's records created after it: the key in force at `issued` counts.
    let officer = officer_key();
    let certificate = issue(&officer_delegation(ts("2026-06-01T00:00:00Z")), &old).unwrap();
    let by_officer = sign_delegated(
        &record_at("TR-JGK", 1, "2026-11-22T08:00:00Z", "g"),
        &officer,
        certificate,
    )
    .unwrap();
    let with_officer = [all.clone(), vec![by_officer.clone()]].concat();
    let report = verify_bundle(&rotated_bundle(
        &with_officer,
        std::slice::from_ref(&rotation),
        new.public_key(),
        &old,
    ));
    assert_ok(&report);
    assert_eq!(
        report.verdict(&by_officer.id()).unwrap().stream,
        Some(StreamId::delegated(
            &agency("TR-JGK"),
            &officer.public_key()
        ))
    );
}

#[test]
fn without_its_rotation_line_the_records_signed_with_the_old_key_fail() {
    let new = tr_new_key();
    let (before, after) = rotated_records();
    let all = [before.clone(), after].concat();
    // TR-JGK signed the agreement again with its new key, so only the records tell.
    let report = verify_bundle(&rotated_bundle(&all, &[], new.public_key(), &new));
    assert!(report.problems.is_empty(), "{report}");
    assert_eq!(failed_sorted(&report), ids(&before), "{report}");
    for envelope in &before {
        assert!(
            matches!(
                report.verdict(&envelope.id()).unwrap().failures.as_slice(),
                [RecordFailure::Signature(VerifyError::WrongKey { .. })]
            ),
            "{report}"
        );
    }
    // The records that failed hold no place in the sequence.
    assert_eq!(
        report.gaps,
        [Gap {
            stream: StreamId::agency(&agency("TR-JGK")),
            from: 1,
            to: 2
        }]
    );
    assert_eq!(
        report.key_history[&agency("TR-JGK")],
        [KeyPeriod {
            since: None,
            key: new.public_key()
        }]
    );
}

#[test]
fn a_forged_or_unchained_rotation_is_reported_and_the_old_key_is_not_trusted() {
    let (old, new) = (secret("TR-JGK"), tr_new_key());
    let (before, after) = rotated_records();
    let all = [before.clone(), after].concat();
    let rotation = sign_rotation(&tr_rotation(&new), Some(&old), &new).unwrap();
    let bundle = rotated_bundle(
        &all,
        std::slice::from_ref(&rotation),
        new.public_key(),
        &new,
    );
    assert_ok(&verify_bundle(&bundle));

    // The previous key's signature made by another key (the exporter signs again).
    let mut lines = lines(&bundle);
    assert_eq!(lines[6]["type"], "rotation");
    // (a signature over the same message, which an attestation is, by an unrelated key)
    let forged = attest(&rotation.statement, &SecretKey::from_seed(&[9; 32]));
    assert_eq!(
        rotation_message(&rotation.statement)[..ROTATION_DOMAIN.len()],
        *ROTATION_DOMAIN
    );
    lines[6]["previous_signature"] = Value::from(hex::encode(forged));
    let report = verify_bundle(&join(&lines));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::Rotation { line: 7, agency: None, reason }]
            if reason.contains("previous key's signature of the rotation statement does not verify")),
        "{report}"
    );
    assert_eq!(failed_sorted(&report), ids(&before), "{report}");

    // A rotation, signed by both its keys, to a key that is not the listed one.
    let elsewhere = SecretKey::from_seed(&[8; 32]);
    let astray = sign_rotation(&tr_rotation(&elsewhere), Some(&old), &elsewhere).unwrap();
    let report = verify_bundle(&rotated_bundle(
        &all,
        std::slice::from_ref(&astray),
        new.public_key(),
        &new,
    ));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::Rotation { line: 7, agency: Some(a), reason }]
            if a.as_str() == "TR-JGK"
                && reason.contains(&format!("the last rotation leads to {}, not to the listed key {}", elsewhere.public_key(), new.public_key()))
                && reason.contains("only the listed key is used for TR-JGK")),
        "{report}"
    );
    assert_eq!(failed_sorted(&report), ids(&before), "{report}");
    assert_eq!(report.key_history[&agency("TR-JGK")].len(), 1);
}

#[test]
fn a_lost_key_rotation_verifies_only_with_every_other_members_attestation() {
    let (old, new) = (secret("TR-JGK"), tr_new_key());
    let (before, after) = rotated_records();
    let all = [before.clone(), after].concat();
    // Signed by the new key alone: the old one was lost.
    let lost = sign_rotation(&tr_rotation(&new), None, &new).unwrap();
    let attested = |by: &[&str]| {
        let mut s = lost.clone();
        for a in by {
            s.attestations
                .insert(agency(a), attest(&s.statement, &secret(a)));
        }
        s
    };
    let others = ["GR-HCG", "IR-FARAJA", "PK-FIA"];

    let rotation = attested(&others);
    let bundle = rotated_bundle(
        &all,
        std::slice::from_ref(&rotation),
        new.public_key(),
        &old,
    );
    let lines = lines(&bundle);
    assert_eq!(lines[6]["previous_signature"], Value::Null);
    let attesters: Vec<&str> = lines[6]["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agency"].as_str().unwrap())
        .collect();
    assert_eq!(attesters, others);
    let report = verify_bundle(&bundle);
    assert_ok(&report);
    assert_eq!(report.key_history[&agency("TR-JGK")].len(), 2);

    // One attestation missing: refused, the old records fail.
    let report = verify_bundle(&rotated_bundle(
        &all,
        &[attested(&["GR-HCG", "IR-FARAJA"])],
        new.public_key(),
        &new,
    ));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::Rotation { line: 7, agency: Some(a), reason }]
            if a.as_str() == "TR-JGK" && reason.contains("every other member must attest it; missing: PK-FIA")),
        "{report}"
    );
    assert_eq!(failed_sorted(&report), ids(&before), "{report}");

    // None at all.
    let report = verify_bundle(&rotated_bundle(
        &all,
        std::slice::from_ref(&lost),
        new.public_key(),
        &new,
    ));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::Rotation { reason, .. }]
            if reason.contains("missing: GR-HCG, IR-FARAJA, PK-FIA")),
        "{report}"
    );
    assert_eq!(failed_sorted(&report), ids(&before), "{report}");

    // PK-FIA's attestation made with another key.
    let mut forged = attested(&["GR-HCG", "IR-FARAJA"]);
    forged.attestations.insert(
        agency("PK-FIA"),
        attest(&forged.statement, &SecretKey::from_seed(&[9; 32])),
    );
    let report = verify_bundle(&rotated_bundle(&all, &[forged], new.public_key(), &new));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::Rotation { reason, .. }]
            if reason.contains("the attestation of PK-FIA does not verify")),
        "{report}"
    );
    assert_eq!(failed_sorted(&report), ids(&before), "{report}");

    // An attestation by a non-member does not stand in for a member's.
    let mut stranger = attested(&["GR-HCG", "IR-FARAJA"]);
    stranger.attestations.insert(
        agency("BG-GDBP"),
        attest(&stranger.statement, &secret("BG-GDBP")),
    );
    let report = verify_bundle(&rotated_bundle(&all, &[stranger], new.public_key(), &new));
    let reasons: Vec<&str> = report
        .problems
        .iter()
        .map(|p| match p {
            BundleProblem::Rotation {
                line: 7, reason, ..
            } => reason.as_str(),
            other => panic!("{other}"),
        })
        .collect();
    assert!(
        matches!(reasons.as_slice(), [a, b] if a.contains("BG-GDBP may not attest it") && b.contains("missing: PK-FIA")),
        "{report}"
    );
    assert_eq!(failed_sorted(&report), ids(&before), "{report}");
}

/// TR-JGK's liaison officer's key.
fn officer_key() -> SecretKey {
    SecretKey::from_seed(&[21; 32])
}

/// TR-JGK delegates QUAD-2026 alerts in 2026 to its liaison officer in Athens.
fn officer_delegation(issued: Timestamp) -> Delegation {
    Delegation {
        v: 1,
        agency: agency("TR-JGK"),
        delegate: officer_key().public_key(),
        holder: "Liaison officer of the Jandarma, Embassy of Türkiye in Athens".into(),
        host_country: Country::new("GR").unwrap(),
        agreements: vec!["QUAD-2026".parse().unwrap()],
        categories: vec![Category::Alert],
        valid_from: ts("2026-01-01T00:00:00Z"),
        valid_until: ts("2026-12-31T23:59:59Z"),
        issued,
        role: accord_protocol::delegation::DelegateRole::Officer,
        handling: Vec::new(),
    }
}

fn officer_certificate() -> Signed {
    issue(
        &officer_delegation(ts("2026-01-02T09:00:00Z")),
        &secret("TR-JGK"),
    )
    .unwrap()
}

/// A record of TR-JGK signed by its officer, in the officer's stream.
fn by_officer(seq: u64, created: &str, summary: &str) -> Envelope {
    sign_delegated(
        &record_at("TR-JGK", seq, created, summary),
        &officer_key(),
        officer_certificate(),
    )
    .unwrap()
}

/// A QUAD-2026 bundle of TR-JGK with `revocations`.
fn bundle_with(
    records: &[Envelope],
    tombstones: &[BundleTombstone],
    revocations: &[Signed],
) -> Vec<u8> {
    let file = agreement_file(QUAD);
    let keys = all_keys();
    let signatures = agreement_signatures(QUAD);
    let tr = agency("TR-JGK");
    write(&Export {
        agreement_file: &file,
        exported_by: &tr,
        exported_at: now(),
        keys: &keys,
        signatures: &signatures,
        records,
        tombstones,
        rotations: &[],
        revocations,
        signer: &secret("TR-JGK"),
    })
}

#[test]
fn an_officers_record_created_after_its_certificate_was_revoked_fails() {
    let revoked_at = "2026-11-20T00:00:00Z";
    let early = by_officer(1, "2026-11-10T08:00:00Z", "Seen at the port of Piraeus.");
    let at_revocation = by_officer(2, revoked_at, "Seen again.");
    let late = by_officer(3, "2026-11-25T08:00:00Z", "Seen a third time.");
    // TR-JGK's own key is not revoked.
    let own = sign(
        &record_at("TR-JGK", 1, "2026-11-26T08:00:00Z", "x"),
        &secret("TR-JGK"),
    )
    .unwrap();
    let records = [
        early.clone(),
        at_revocation.clone(),
        late.clone(),
        own.clone(),
    ];
    let certificate = officer_certificate();
    let revocation = revoke(
        &Revocation {
            v: 1,
            agency: agency("TR-JGK"),
            certificate: certificate_id(&certificate),
            revoked: ts(revoked_at),
            reason: "Phone lost".into(),
        },
        &secret("TR-JGK"),
    )
    .unwrap();

    // Without the revocation every record stands.
    let report = verify_bundle(&bundle_with(&records, &[], &[]));
    assert_ok(&report);
    assert!(report.revoked.is_empty());

    let bundle = bundle_with(&records, &[], std::slice::from_ref(&revocation));
    let lines = lines(&bundle);
    assert_eq!(lines[0]["revocations"], 1);
    assert_eq!(lines[6]["type"], "revocation");
    assert_eq!(
        lines[6]["revocation"],
        String::from_utf8(revocation.bytes.clone())
            .unwrap()
            .as_str()
    );
    let report = verify_bundle(&bundle);
    assert!(!report.is_ok());
    assert!(report.problems.is_empty(), "{report}");
    assert_eq!(
        report.revoked,
        [RevokedCertificate {
            agency: agency("TR-JGK"),
            certificate: certificate_id(&certificate),
            revoked: ts(revoked_at),
        }]
    );
    assert!(report.verdict(&early.id()).unwrap().is_ok());
    assert!(report.verdict(&own.id()).unwrap().is_ok());
    assert_eq!(failed_sorted(&report), ids(&[at_revocation, late.clone()]));
    let verdict = report.verdict(&late.id()).unwrap();
    assert!(
        matches!(verdict.failures.as_slice(), [RecordFailure::Signature(VerifyError::Delegation { reason, .. })]
            if reason.contains(&format!("TR-JGK revoked the delegation to Liaison officer of the Jandarma, Embassy of Türkiye in Athens from {revoked_at}"))),
        "{verdict}"
    );
    let officer_stream = StreamId::delegated(&agency("TR-JGK"), &officer_key().public_key());
    assert_eq!(verdict.stream.as_ref(), Some(&officer_stream));
    // The records that failed were the stream's last: no gap.
    assert!(report.gaps.is_empty(), "{report}");
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "revoked TR-JGK certificate {} from {revoked_at}\n",
            certificate_id(&certificate)
        )),
        "{text}"
    );

    // A revocation whose signature is not TR-JGK's is reported and not applied.
    let mut forged = lines.clone();
    forged[6]["signature"] = Value::from(hex::encode(
        SecretKey::from_seed(&[9; 32]).sign_tagged(REVOCATION_DOMAIN, &revocation.bytes),
    ));
    let report = verify_bundle(&join(&forged));
    assert!(
        matches!(report.problems.as_slice(), [BundleProblem::Revocation { line: 7, reason }]
            if reason.contains("does not verify")),
        "{report}"
    );
    assert!(report.revoked.is_empty());
    assert!(report.records.iter().all(|v| v.is_ok()), "{report}");
}

#[test]
fn purged_records_of_two_streams_with_one_seq_both_stand() {
    let own_first = signed("TR-JGK", 1, "First boat sighted off Çeşme.");
    let own_second = signed("TR-JGK", 2, "Second boat sighted off Ayvalık.");
    let officer_first = by_officer(1, "2026-11-10T08:00:00Z", "Seen at the port of Piraeus.");
    let officer_second = by_officer(2, "2026-11-12T08:00:00Z", "Seen again.");
    let purged = |e: &Envelope| BundleTombstone::of(e, now(), "purged").unwrap();
    let tombstones = [purged(&officer_first), purged(&own_first)];
    let own_stream = StreamId::agency(&agency("TR-JGK"));
    let officer_stream = StreamId::delegated(&agency("TR-JGK"), &officer_key().public_key());
    assert_eq!(tombstones[0].stream.as_ref(), Some(&officer_stream));
    assert_eq!(tombstones[1].stream.as_ref(), Some(&own_stream));
    assert!(officer_stream.as_str().starts_with("TR-JGK/"));
    assert_eq!(officer_stream.as_str().len(), "TR-JGK/".len() + 16);

    let records = [officer_second.clone(), own_second.clone()];
    let bundle = bundle_with(&records, &tombstones, &[]);
    let lines = lines(&bundle);
    // Records, then tombstones, each sorted by stream: TR-JGK before TR-JGK/….
    let streams: Vec<(&str, &str)> = lines[6..10]
        .iter()
        .map(|l| {
            let stream = if l["type"] == "tombstone" {
                l["stream"].as_str().unwrap()
            } else {
                ""
            };
            (l["type"].as_str().unwrap(), stream)
        })
        .collect();
    assert_eq!(
        streams,
        [
            ("record", ""),
            ("record", ""),
            ("tombstone", own_stream.as_str()),
            ("tombstone", officer_stream.as_str())
        ]
    );
    assert_eq!(lines[6]["id"], own_second.id().to_hex().as_str());

    let report = verify_bundle(&bundle);
    assert_ok(&report);
    assert_eq!(report.tombstones, 2);
    assert!(report.gaps.is_empty());
    assert_eq!(
        report
            .verdict(&officer_second.id())
            .unwrap()
            .stream
            .as_ref(),
        Some(&officer_stream)
    );
    assert_eq!(
        report.verdict(&own_second.id()).unwrap().stream.as_ref(),
        Some(&own_stream)
    );

    // Both tombstones put in TR-JGK's own stream: a second tombstone for TR-JGK seq 1, and the
    // officer's stream has a gap.
    let mut one_stream = lines.clone();
    one_stream[9]["stream"] = Value::from(own_stream.as_str());
    let report = verify_bundle(&join(&one_stream));
    assert!(
        report.problems.iter().any(|p| matches!(p,
            BundleProblem::DuplicateTombstone { stream, seq, .. }
                if *stream == own_stream && seq.get() == 1)),
        "{report}"
    );
    assert_eq!(
        report.gaps,
        [Gap {
            stream: officer_stream,
            from: 1,
            to: 1
        }]
    );
}
