//! The byte vectors of docs/protocol.md, checked against the code. The page is parsed, so the
//! page and the code cannot drift apart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::page_vectors;

use accord_protocol::envelope::{SIGNING_DOMAIN, record_id, signed_message};
use accord_protocol::{Envelope, canonical, sign, verify};

fn check(name: &str, record: accord_protocol::Record) {
    let vectors = page_vectors();
    let v = vectors
        .get(name)
        .unwrap_or_else(|| panic!("docs/protocol.md has no vector {name}"));
    let key = common::vector_key();
    assert_eq!(v["seed"], common::VECTOR_SEED_HEX);
    assert_eq!(v["public key"], hex::encode(key.public_key().to_bytes()));
    let bytes = canonical::encode_record(&record).unwrap();
    assert_eq!(
        v["record"],
        String::from_utf8(bytes.clone()).unwrap(),
        "record bytes of {name}"
    );
    assert_eq!(v["signed message"], hex::encode(signed_message(&bytes)));
    let env = sign(&record, &key).unwrap();
    assert_eq!(v["id"], env.id().to_hex());
    assert_eq!(v["id"], record_id(&bytes).to_hex());
    assert_eq!(v["signature"], hex::encode(env.signature()));
    assert_eq!(v["envelope"], hex::encode(env.encode()));
    // and the page's envelope verifies on its own
    let decoded = Envelope::decode(&hex::decode(&v["envelope"]).unwrap()).unwrap();
    let dir = common::directory(&[(record.originator.as_str(), &key)]);
    let verified = verify(decoded, &dir).unwrap();
    assert_eq!(verified.record, record);
}

#[test]
fn domain_tag_is_as_documented() {
    assert_eq!(SIGNING_DOMAIN, b"accord/record/v1\x00");
    assert_eq!(
        page_vectors()["minimal"]["signed message"][..34],
        hex::encode(SIGNING_DOMAIN)
    );
}

#[test]
fn rfc8032_key_matches_its_published_public_key() {
    // RFC 8032 section 7.1 TEST 1
    assert_eq!(
        hex::encode(common::vector_key().public_key().to_bytes()),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
}

#[test]
fn minimal_record_vector() {
    check("minimal", common::minimal_record());
}

#[test]
fn full_record_vector() {
    let mut r = common::full_record();
    r.originator = common::agency("TR-JGK");
    check("full", r);
}

#[test]
fn agreement_signature_vector() {
    use accord_protocol::agreement::{
        AGREEMENT_DOMAIN, agreement_hash, agreement_message, sign_agreement, verify_agreement,
    };
    let v = &page_vectors()["agreement signature"];
    let key = common::vector_key();
    assert_eq!(v["seed"], common::VECTOR_SEED_HEX);
    let file = hex::decode(&v["file"]).unwrap();
    let hash = agreement_hash(&file);
    assert_eq!(v["sha-256"], hex::encode(hash));
    assert_eq!(v["signed message"], hex::encode(agreement_message(&hash)));
    assert_eq!(v["signed message"][..40], hex::encode(AGREEMENT_DOMAIN));
    let sig = sign_agreement(&key, &hash);
    assert_eq!(v["signature"], hex::encode(sig));
    let page_sig: [u8; 64] = hex::decode(&v["signature"]).unwrap().try_into().unwrap();
    assert!(verify_agreement(&key.public_key(), &hash, &page_sig));
}

#[test]
fn delegation_vector() {
    use accord_protocol::delegation::{certificate_id, issue, verify_certificate};
    use accord_protocol::envelope::sign_delegated;
    let v = &page_vectors()["delegation"];
    let (agency, officer) = (common::vector_key(), common::officer_key());
    assert_eq!(v["agency seed"], common::VECTOR_SEED_HEX);
    assert_eq!(v["officer seed"], common::OFFICER_SEED_HEX);
    let cert = issue(&common::vector_delegation(), &agency).unwrap();
    assert_eq!(
        v["certificate"],
        String::from_utf8(cert.bytes.clone()).unwrap()
    );
    assert_eq!(v["certificate signature"], hex::encode(cert.signature));
    assert_eq!(v["certificate id"], hex::encode(certificate_id(&cert).0));
    let env = sign_delegated(&common::minimal_record(), &officer, cert.clone()).unwrap();
    assert_eq!(v["id"], env.id().to_hex());
    assert_eq!(v["signature"], hex::encode(env.signature()));
    assert_eq!(v["envelope"], hex::encode(env.encode()));
    // the page's envelope verifies on its own, as TR-JGK's record
    let decoded = Envelope::decode(&hex::decode(&v["envelope"]).unwrap()).unwrap();
    let dir = common::directory(&[("TR-JGK", &agency)]);
    assert!(verify(decoded, &dir).is_ok());
    assert!(verify_certificate(&cert, |_| Some(agency.public_key())).is_ok());
}

/// RFC 8032 section 7.1 TEST 1024's secret key: TR-JGK's releaser in the approval vector.
const RELEASER_SEED_HEX: &str = "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5";

#[test]
fn approval_vector() {
    use accord_protocol::approval::approve;
    use accord_protocol::delegation::{DelegateRole, certificate_id, issue};
    use accord_protocol::{HandlingCode, SecretKey, Timestamp};
    let agency = common::vector_key();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(RELEASER_SEED_HEX, &mut seed).unwrap();
    let releaser = SecretKey::from_seed(&seed);
    let mut d = common::vector_delegation();
    d.delegate = releaser.public_key();
    d.holder = "Head of unit, Jandarma".into();
    d.host_country = accord_protocol::Country::new("TR").unwrap();
    d.categories = vec![accord_protocol::Category::Alert];
    d.role = DelegateRole::Releaser;
    d.handling = vec![HandlingCode::H1, HandlingCode::H2];
    let cert = issue(&d, &agency).unwrap();
    let env = sign(&common::minimal_record(), &agency).unwrap();
    let a = approve(
        env.id(),
        common::minimal_record().agreement,
        Timestamp::parse("2026-11-28T10:00:00Z").unwrap(),
        &releaser,
        cert.clone(),
    )
    .unwrap();
    let env = env.with_approvals(vec![a.clone()]).unwrap();
    let lines = |k: &str, hex_text: &str| -> String {
        hex_text
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{k}: {}\n", std::str::from_utf8(c).unwrap()))
            .collect()
    };
    let expected = format!(
        "vector: approval\nagency seed: {}\nreleaser seed: {RELEASER_SEED_HEX}\ncertificate: {}\n{}certificate id: {}\nid: {}\napproval: {}\n{}{}",
        common::VECTOR_SEED_HEX,
        String::from_utf8(cert.bytes.clone()).unwrap(),
        lines("certificate signature", &hex::encode(cert.signature)),
        hex::encode(certificate_id(&cert).0),
        env.id().to_hex(),
        String::from_utf8(a.approval.bytes.clone()).unwrap(),
        lines("approval signature", &hex::encode(a.approval.signature)),
        lines("envelope", &hex::encode(env.encode())),
    );
    let page = page_vectors();
    let Some(v) = page.get("approval") else {
        panic!("docs/protocol.md §13 lacks the approval vector; it is:\n{expected}");
    };
    let check = |k: &str, want: String| {
        assert_eq!(v[k], want, "{k}; the whole vector is:\n{expected}");
    };
    check("releaser seed", RELEASER_SEED_HEX.into());
    check(
        "certificate",
        String::from_utf8(cert.bytes.clone()).unwrap(),
    );
    check("certificate signature", hex::encode(cert.signature));
    check("certificate id", hex::encode(certificate_id(&cert).0));
    check("id", env.id().to_hex());
    check(
        "approval",
        String::from_utf8(a.approval.bytes.clone()).unwrap(),
    );
    check("approval signature", hex::encode(a.approval.signature));
    check("envelope", hex::encode(env.encode()));
    // the page's envelope verifies on its own, approval and all
    let decoded = Envelope::decode(&hex::decode(&v["envelope"]).unwrap()).unwrap();
    assert_eq!(decoded.approvals().len(), 1);
    let dir = common::directory(&[("TR-JGK", &agency)]);
    assert!(verify(decoded, &dir).is_ok());
}

/// `65536` as the page writes it: `65 536` (thousands separated by a space).
fn spaced(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[test]
fn documented_length_limits_are_the_codes() {
    use accord_protocol::canonical::MAX_RECORD_BYTES;
    use accord_protocol::delegation::MAX_CERTIFICATE_BYTES;
    use accord_protocol::envelope::{ENVELOPE_HEADER_LEN, MAX_ENVELOPE_BYTES};
    let page = common::protocol_page();
    assert_eq!(spaced(69804), "69 804");
    // §4: the record and certificate lengths
    let record = format!("0 < *n* ≤ {} (0 is refused", spaced(MAX_RECORD_BYTES));
    assert!(page.contains(&record), "§4 should say `{record}`");
    let cert = format!("0 < *m* ≤ {MAX_CERTIFICATE_BYTES} |");
    assert!(page.contains(&cert), "§4 should say `{cert}`");
    // §6: an envelope in a frame, the largest the decoder takes, and how it adds up
    let envelope = format!(
        "0 < len ≤ {}: the longest envelope",
        spaced(MAX_ENVELOPE_BYTES)
    );
    assert!(page.contains(&envelope), "§6 should say `{envelope}`");
    let sum = format!(
        "({ENVELOPE_HEADER_LEN} + 2 + {} + 64 + {} bytes;",
        spaced(MAX_CERTIFICATE_BYTES),
        spaced(MAX_RECORD_BYTES)
    );
    assert!(page.contains(&sum), "§6 should say `{sum}`");
    use accord_protocol::approval::{MAX_APPROVAL_BYTES, MAX_APPROVALS};
    let approvals = format!(
        "four approvals of the\n  longest kind (1 + {MAX_APPROVALS} × (2 + {MAX_APPROVAL_BYTES} + 64 + 2 + {} + 64) bytes",
        spaced(MAX_CERTIFICATE_BYTES)
    );
    assert!(page.contains(&approvals), "§6 should say `{approvals}`");
    assert_eq!(
        ENVELOPE_HEADER_LEN
            + 2
            + MAX_CERTIFICATE_BYTES
            + 64
            + MAX_RECORD_BYTES
            + 1
            + MAX_APPROVALS * (2 + MAX_APPROVAL_BYTES + 64 + 2 + MAX_CERTIFICATE_BYTES + 64),
        MAX_ENVELOPE_BYTES
    );
    let agency_only = format!(
        "{ENVELOPE_HEADER_LEN} + {} = {}",
        spaced(MAX_RECORD_BYTES),
        spaced(ENVELOPE_HEADER_LEN + MAX_RECORD_BYTES)
    );
    assert!(page.contains(&agency_only), "§6 should say `{agency_only}`");
}

#[test]
fn an_envelope_with_an_empty_record_is_refused_as_such() {
    // docs/protocol.md §4: record length 0 < n <= 65536. An empty record is refused by the
    // envelope decoder with its own error, not later as unparsable JSON.
    use accord_protocol::EnvelopeError;
    let env = sign(&common::minimal_record(), &common::key(1)).unwrap();
    let mut bytes = env.encode();
    bytes.truncate(106);
    bytes[102..106].copy_from_slice(&0u32.to_be_bytes());
    let err = Envelope::decode(&bytes).unwrap_err();
    assert_eq!(err, EnvelopeError::EmptyRecord { max: 65536 });
    assert_eq!(
        err.to_string(),
        "record length is 0; an envelope carries a record of 1 to 65536 bytes"
    );
    // the same through the wire decoder, as the envelope of a push
    let mut frame = vec![accord_protocol::wire::WIRE_VERSION, 1, 0, 1];
    frame.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    frame.extend_from_slice(&bytes);
    assert!(matches!(
        accord_protocol::Message::decode(&frame),
        Err(accord_protocol::WireError::Envelope {
            index: 0,
            source: EnvelopeError::EmptyRecord { .. }
        })
    ));
    // one byte more than the maximum is refused as too large, the maximum itself is not
    bytes[102..106].copy_from_slice(&65537u32.to_be_bytes());
    assert_eq!(
        Envelope::decode(&bytes),
        Err(EnvelopeError::TooLarge {
            what: "record",
            size: 65537,
            max: 65536
        })
    );
    bytes[102..106].copy_from_slice(&65536u32.to_be_bytes());
    assert!(matches!(
        Envelope::decode(&bytes),
        Err(EnvelopeError::Truncated {
            offset: 106,
            needed: 65536,
            ..
        })
    ));
}

/// Every ```` ```wire ```` block of the page: its message name and the frame, the
/// concatenation of the hex of its lines (`label: hex  comment`, hex bytes grouped by
/// single spaces, the comment after two).
fn page_frames() -> Vec<(String, Vec<u8>)> {
    common::page_blocks("wire")
        .into_iter()
        .map(|block| {
            let name = block[0]
                .strip_prefix("wire: ")
                .unwrap_or_else(|| panic!("a wire block starts with `wire: NAME`: {block:?}"))
                .to_owned();
            let mut frame = Vec::new();
            for line in &block[1..] {
                let (_, value) = line
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("bad wire line {line}"));
                let hex_part = value.split("  ").next().unwrap().replace(' ', "");
                frame.extend(hex::decode(&hex_part).unwrap_or_else(|e| panic!("{line}: {e}")));
            }
            (name, frame)
        })
        .collect()
}

#[test]
fn wire_vectors_decode_to_their_messages_and_encode_to_their_bytes() {
    let page = page_frames();
    let expected = common::wire_messages();
    let names: Vec<&str> = page.iter().map(|(n, _)| n.as_str()).collect();
    let wanted: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names, wanted,
        "one wire vector per message kind, in kind order"
    );
    for ((name, frame), (_, message)) in page.iter().zip(&expected) {
        assert_eq!(
            &accord_protocol::Message::decode(frame).unwrap(),
            message,
            "the page's {name} frame decodes to the message"
        );
        assert_eq!(
            hex::encode(message.encode().unwrap()),
            hex::encode(frame),
            "the {name} message encodes to the page's frame"
        );
    }
    let kinds: Vec<u8> = expected.iter().map(|(_, m)| m.kind_code()).collect();
    assert_eq!(kinds, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
}

#[test]
fn wire_vector_keys_are_the_rfc8032_keys_the_page_names() {
    // RFC 8032 section 7.1 TEST 3: GR-HCG's key, which signs the ack's receipt
    assert_eq!(
        hex::encode(common::receiver_key().public_key().to_bytes()),
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025"
    );
    let page = common::protocol_page();
    for seed in [
        common::VECTOR_SEED_HEX,
        common::OFFICER_SEED_HEX,
        common::RECEIVER_SEED_HEX,
    ] {
        let short = format!("`{}…{}`", &seed[..8], &seed[56..]);
        assert!(page.contains(&short), "§6 names the seed {short}");
    }
}

#[test]
fn wire_vectors_carry_the_pages_record_and_agreement_vectors() {
    // the push and range response carry the §7 `minimal` envelope byte for byte, and the
    // sync status the §8 agreement hash and signature
    let vectors = page_vectors();
    let minimal = &vectors["minimal"]["envelope"];
    let frames: std::collections::BTreeMap<String, Vec<u8>> = page_frames().into_iter().collect();
    for name in ["Push", "RangeResponse"] {
        assert!(
            hex::encode(&frames[name]).ends_with(minimal.as_str()),
            "{name} ends with the minimal envelope"
        );
    }
    let status = hex::encode(&frames["SyncStatus"]);
    let agreement = &vectors["agreement signature"];
    assert!(status.contains(&agreement["sha-256"]));
    assert!(status.contains(&agreement["signature"]));
    // and TR-JGK's head the digest of the stream digest vector's first step (the `minimal`
    // record under seq 1)
    assert!(status.contains(&vectors["stream digest"]["digest 1"]));
}

#[test]
fn stream_digest_vector() {
    use accord_protocol::wire::{STREAM_DIGEST_TAG, stream_digest};
    let v = &page_vectors()["stream digest"];
    assert_eq!(STREAM_DIGEST_TAG, b"accord/stream-digest/v1\0");
    let id = |k: &str| {
        accord_protocol::RecordId::from_bytes(hex::decode(&v[k]).unwrap().try_into().unwrap())
    };
    let d1 = stream_digest(&[0; 32], &id("id 1"));
    assert_eq!(v["digest 1"], hex::encode(d1));
    assert_eq!(v["digest 2"], hex::encode(stream_digest(&d1, &id("id 2"))));
    // the ids are those of the page's own record vectors
    let vectors = page_vectors();
    assert_eq!(v["id 1"], vectors["minimal"]["id"]);
    assert_eq!(v["id 2"], vectors["full"]["id"]);
}

#[test]
fn rotation_vector() {
    use accord_protocol::rotation::{
        ROTATION_DOMAIN, Rotation, sign_rotation, verify_attestation, verify_rotation,
    };
    let v = &page_vectors()["rotation"];
    let (previous, key) = (common::vector_key(), common::officer_key());
    assert_eq!(v["previous seed"], common::VECTOR_SEED_HEX);
    assert_eq!(v["new seed"], common::OFFICER_SEED_HEX);
    assert_eq!(ROTATION_DOMAIN, b"accord/key-rotation/v1\x00");
    let rotation = Rotation {
        v: 1,
        agency: common::agency("TR-JGK"),
        previous: previous.public_key(),
        key: key.public_key(),
        since: accord_protocol::Timestamp::parse("2026-12-01T00:00:00Z").unwrap(),
    };
    let signed = sign_rotation(&rotation, Some(&previous), &key).unwrap();
    assert_eq!(
        v["statement"],
        String::from_utf8(signed.statement.clone()).unwrap()
    );
    assert_eq!(
        v["previous signature"],
        hex::encode(signed.by_previous.unwrap())
    );
    assert_eq!(v["key signature"], hex::encode(signed.by_key));
    assert_eq!(verify_rotation(&signed).unwrap(), rotation);
    // an attestation by the key of seed 03…03
    let attester = common::key(3);
    let attestation = accord_protocol::rotation::attest(&signed.statement, &attester);
    assert_eq!(v["attester seed"], hex::encode([3u8; 32]));
    assert_eq!(v["attestation"], hex::encode(attestation));
    assert!(verify_attestation(
        &signed.statement,
        &attester.public_key(),
        &attestation
    ));
}

/// The batch receipt of docs/protocol.md §12: GR-HCG (the RFC 8032 TEST 1 key) acknowledges
/// three records of QUAD-2026, with the proof that the third is one of them.
#[test]
fn batch_receipt_vector() {
    use accord_protocol::audit::sha256;
    use accord_protocol::receipt::{BatchReceipt, prove, sign_batch_receipt, verify_batch_receipt};
    use accord_protocol::{AgencyId, AgreementId, RecordId, Timestamp};
    let ids: Vec<RecordId> = (1u8..=3).map(|b| RecordId::from_bytes([b; 32])).collect();
    let receiver = AgencyId::new("GR-HCG").unwrap();
    let r = BatchReceipt::of(
        AgreementId::new("QUAD-2026").unwrap(),
        receiver.clone(),
        Timestamp::parse("2026-11-28T09:30:05Z").unwrap(),
        &ids,
    )
    .unwrap();
    let key = common::vector_key();
    let s = sign_batch_receipt(&r, &key).unwrap();
    let proof = prove(&ids, 2).unwrap();
    let leaf = |id: &RecordId| sha256(&[&[0u8][..], id.as_bytes()].concat()).to_string();
    let got = [
        (
            "ids",
            ids.iter().map(|i| i.to_hex()).collect::<Vec<_>>().join(" "),
        ),
        (
            "leaf hashes",
            ids.iter().map(leaf).collect::<Vec<_>>().join(" "),
        ),
        ("root", r.root.to_string()),
        ("receipt", String::from_utf8(s.bytes.clone()).unwrap()),
        ("signature", hex::encode(s.signature)),
        ("proof index", proof.index.to_string()),
        (
            "proof path",
            proof
                .path
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ];
    let vectors = page_vectors();
    let Some(v) = vectors.get("batch receipt") else {
        let text: Vec<String> = got.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        panic!(
            "docs/protocol.md has no vector `batch receipt`; the code makes:\n{}",
            text.join("\n")
        );
    };
    assert_eq!(v["seed"], common::VECTOR_SEED_HEX);
    for (k, want) in got {
        assert_eq!(v[k].replace(' ', ""), want.replace(' ', ""), "{k}");
    }
    // the page's receipt verifies on its own, and its proof shows the third record
    let signed = accord_protocol::audit::Signed {
        bytes: v["receipt"].as_bytes().to_vec(),
        signature: hex::decode(&v["signature"]).unwrap().try_into().unwrap(),
    };
    let back =
        verify_batch_receipt(&signed, |a| (*a == receiver).then(|| key.public_key())).unwrap();
    assert!(back.covers(&ids[2], &proof));
    assert!(back.covers_exactly(&ids));
}
