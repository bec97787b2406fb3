//! docs/verify_record.py, the page's verifier in another language, run on the page's own
//! vectors and on the encodings §5 lists. It needs `python3` with the `cryptography` package
//! (.ci/run installs it); without them these tests fail, they are never skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use accord_protocol::SecretKey;

fn script() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/verify_record.py"
    ))
}

/// Runs the script on an envelope and the originator's key: (exit code, stdout).
fn run(envelope: &[u8], key: &[u8]) -> (i32, String) {
    let out = Command::new("python3")
        .arg(script())
        .arg(hex::encode(envelope))
        .arg(hex::encode(key))
        .output()
        .expect("python3 is needed for this test (with the `cryptography` package)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty(),
        "docs/verify_record.py failed (is the `cryptography` package installed?): {stderr}"
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn public_of(seed_hex: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(seed_hex, &mut seed).unwrap();
    SecretKey::from_seed(&seed).public_key().to_bytes()
}

/// Where the record bytes of an envelope end (§4): after the 106-byte header, or after the
/// certificate of signer kind 2; in version 2 the approvals follow.
fn record_end(envelope: &[u8]) -> usize {
    let at = if envelope[5] == 2 {
        104 + usize::from(u16::from_be_bytes([envelope[102], envelope[103]])) + 64
    } else {
        102
    };
    let n = u32::from_be_bytes(envelope[at..at + 4].try_into().unwrap()) as usize;
    at + 4 + n
}

/// An envelope vector of the page.
struct PageEnvelope {
    name: String,
    envelope: Vec<u8>,
    /// The originator's agency key.
    key: [u8; 32],
    id: String,
    /// The envelope's signer kind.
    kind: u8,
}

/// The page's envelope vectors, by name.
fn envelope_vectors() -> Vec<PageEnvelope> {
    common::page_vectors()
        .into_values()
        .filter(|v| v.contains_key("envelope"))
        .map(|v| {
            let key = match v.get("public key") {
                Some(k) => hex::decode(k).unwrap().try_into().unwrap(),
                None => public_of(&v["agency seed"]),
            };
            let envelope = hex::decode(&v["envelope"]).unwrap();
            PageEnvelope {
                name: v["vector"].clone(),
                kind: envelope[5],
                envelope,
                key,
                id: v["id"].clone(),
            }
        })
        .collect()
}

fn vector(name: &str) -> PageEnvelope {
    envelope_vectors()
        .into_iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("docs/protocol.md has no envelope vector {name}"))
}

#[test]
fn the_script_verifies_every_envelope_vector_of_the_page_and_prints_its_id() {
    let vectors = envelope_vectors();
    let names: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["approval", "delegation", "full", "minimal"]);
    for PageEnvelope {
        name,
        envelope,
        key,
        id,
        kind,
    } in &vectors
    {
        let (code, stdout) = run(envelope, key);
        assert_eq!(code, 0, "{name}: {stdout}");
        assert!(stdout.contains(&format!("id: {id}\n")), "{name}: {stdout}");
        let signer = if *kind == 2 {
            "signed by: delegated key ed25519:"
        } else {
            "signed by: agency key ed25519:"
        };
        assert!(stdout.contains(signer), "{name}: {stdout}");
    }
}

#[test]
fn the_script_refuses_the_vectors_altered() {
    for PageEnvelope {
        name,
        envelope,
        key,
        kind,
        id,
    } in envelope_vectors()
    {
        // the record's last field, `"v":1}`, changed to `"v":2}`: the record signature no
        // longer verifies, and an approval (§13, checked first) no longer names the record
        let mut bad = envelope.clone();
        let at = record_end(&bad) - 2;
        assert_eq!(&bad[at - 4..at + 2], b"\"v\":1}", "{name}");
        bad[at] = b'2';
        let expected = if name == "approval" {
            format!("REJECTED: approval 1: the approval is for record {id}, not this one\n")
        } else {
            "REJECTED: signature does not verify\n".into()
        };
        assert_eq!(run(&bad, &key), (1, expected), "{name}");
        // checked against another agency's key
        let other = public_of(&"11".repeat(32));
        let expected = if kind == 2 {
            "REJECTED: certificate: signature does not verify\n"
        } else {
            "REJECTED: the envelope is not signed with the originator's registered key\n"
        };
        assert_eq!(run(&envelope, &other), (1, expected.into()), "{name}");
        // a byte too many, a byte too few
        let (too_many, too_few) = if envelope[4] == 2 {
            (
                "REJECTED: bytes follow the approvals\n",
                "REJECTED: approval 1: the envelope ends inside it\n",
            )
        } else {
            (
                "REJECTED: record length does not match\n",
                "REJECTED: record length does not match\n",
            )
        };
        let mut longer = envelope.clone();
        longer.push(b' ');
        assert_eq!(run(&longer, &key), (1, too_many.into()), "{name}");
        assert_eq!(
            run(&envelope[..envelope.len() - 1], &key),
            (1, too_few.into()),
            "{name}"
        );
    }
}

#[test]
fn the_script_refuses_a_delegated_record_outside_its_certificate() {
    // the delegation vector's certificate covers QUAD-2026 alerts and routes in 2026; the
    // same envelope with the record's agreement renamed is outside it (checked before the
    // record signature, which the change also breaks)
    let PageEnvelope { envelope, key, .. } = vector("delegation");
    let at = envelope
        .windows(9)
        .rposition(|w| w == b"QUAD-2026")
        .expect("the record names QUAD-2026");
    let mut outside = envelope;
    outside[at..at + 9].copy_from_slice(b"QUAD-2027");
    assert_eq!(
        run(&outside, &key),
        (1, "REJECTED: agreement outside the delegation\n".into())
    );
}

#[test]
fn the_script_prints_the_approval_and_refuses_it_forged() {
    // §13: the approval vector carries one approval by the head of unit
    let page = common::page_vectors();
    let v = &page["approval"];
    let PageEnvelope { envelope, key, .. } = vector("approval");
    let (code, stdout) = run(&envelope, &key);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "approved by: Head of unit, Jandarma (certificate {}) at 2026-11-28T10:00:00Z\n",
            v["certificate id"]
        )),
        "{stdout}"
    );
    // the approval's signature, one bit flipped
    let approval = hex::decode(&v["approval signature"]).unwrap();
    let at = envelope
        .windows(64)
        .position(|w| w == approval.as_slice())
        .unwrap();
    let mut forged = envelope.clone();
    forged[at + 40] ^= 1;
    assert_eq!(
        run(&forged, &key),
        (
            1,
            "REJECTED: approval 1: approval signature: signature does not verify\n".into()
        )
    );
    // the releaser's certificate, signed by another key than the originator's: the record
    // verifies, but the approval's certificate does not
    let cert_sig = hex::decode(&v["certificate signature"]).unwrap();
    let at = envelope
        .windows(64)
        .position(|w| w == cert_sig.as_slice())
        .unwrap();
    let mut forged = envelope.clone();
    forged[at + 40] ^= 1;
    assert_eq!(
        run(&forged, &key),
        (
            1,
            "REJECTED: approval 1: the releaser's certificate: signature does not verify\n".into()
        )
    );
    // the releaser's key signing a record, with its certificate (signer kind 2): refused
    let releaser = {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(&v["releaser seed"], &mut seed).unwrap();
        SecretKey::from_seed(&seed)
    };
    let record = page["minimal"]["record"].as_bytes();
    let cert = v["certificate"].as_bytes();
    let mut kind2 = b"ACRD\x01\x02".to_vec();
    kind2.extend_from_slice(&releaser.public_key().to_bytes());
    kind2.extend_from_slice(&releaser.sign_tagged(b"accord/record/v1\0", record));
    kind2.extend_from_slice(&u16::try_from(cert.len()).unwrap().to_be_bytes());
    kind2.extend_from_slice(cert);
    kind2.extend_from_slice(&cert_sig);
    kind2.extend_from_slice(&u32::try_from(record.len()).unwrap().to_be_bytes());
    kind2.extend_from_slice(record);
    assert_eq!(
        run(&kind2, &key),
        (
            1,
            "REJECTED: the certificate is a releaser's: a releaser's key signs no record\n".into()
        )
    );
}

/// The encodings docs/protocol.md §5 lists, with their comments.
fn listed_points() -> Vec<([u8; 32], String)> {
    ["small-order", "non-canonical"]
        .into_iter()
        .flat_map(common::page_blocks)
        .flatten()
        .map(|line| {
            let (enc, comment) = line.split_once("  ").unwrap();
            (
                hex::decode(enc).unwrap().try_into().unwrap(),
                comment.trim().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_script_refuses_small_order_and_non_canonical_keys() {
    let listed = listed_points();
    assert_eq!(listed.len(), 15);
    // the envelope names the point as its signer, and it is registered as the key
    refuses_each_listed_point(6..38, "key", true);
}

/// Puts each point of §5's lists at `at` in the minimal vector's envelope (and, with `as_key`,
/// registers it as the key) and checks the script's verdict names `what`.
fn refuses_each_listed_point(at: std::ops::Range<usize>, what: &str, as_key: bool) {
    let PageEnvelope { envelope, key, .. } = vector("minimal");
    for (point, comment) in listed_points() {
        let mut forged = envelope.clone();
        forged[at.clone()].copy_from_slice(&point);
        let expected = if comment.contains("large order") {
            format!("REJECTED: non-canonical {what} encoding\n")
        } else {
            format!("REJECTED: small-order {what}\n")
        };
        let key = if as_key { point } else { key };
        assert_eq!(
            run(&forged, &key),
            (1, expected),
            "{} ({comment})",
            hex::encode(point)
        );
    }
}

#[test]
fn the_script_refuses_small_order_and_non_canonical_r() {
    refuses_each_listed_point(38..70, "R", false);
}

#[test]
fn the_script_refuses_s_plus_l() {
    // L little-endian; S + L is the same scalar mod L, so a lax verifier accepts it
    let l =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").unwrap();
    for PageEnvelope {
        name,
        envelope,
        key,
        ..
    } in envelope_vectors()
    {
        let mut malleated = envelope.clone();
        let mut carry = 0u16;
        for (i, l) in l.iter().enumerate() {
            let s = u16::from(malleated[70 + i]) + u16::from(*l) + carry;
            malleated[70 + i] = s as u8;
            carry = s >> 8;
        }
        assert_eq!(carry, 0, "{name}: S + L fits in 256 bits");
        assert_eq!(
            run(&malleated, &key),
            (1, "REJECTED: S is not reduced (S >= L)\n".into()),
            "{name}"
        );
    }
}
