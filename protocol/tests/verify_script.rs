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
    assert_eq!(names, ["delegation", "full", "minimal"]);
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
        ..
    } in envelope_vectors()
    {
        // the record's last field, `"v":1}`, changed to `"v":2}`
        let mut bad = envelope.clone();
        let at = bad.len() - 2;
        assert_eq!(&bad[at - 4..], b"\"v\":1}", "{name}");
        bad[at] = b'2';
        assert_eq!(
            run(&bad, &key),
            (1, "REJECTED: signature does not verify\n".into()),
            "{name}"
        );
        // checked against another agency's key
        let other = public_of(&"11".repeat(32));
        let expected = if kind == 2 {
            "REJECTED: certificate: signature does not verify\n"
        } else {
            "REJECTED: the envelope is not signed with the originator's registered key\n"
        };
        assert_eq!(run(&envelope, &other), (1, expected.into()), "{name}");
        // a byte too many, a byte too few
        let mut longer = envelope.clone();
        longer.push(b' ');
        assert_eq!(
            run(&longer, &key),
            (1, "REJECTED: record length does not match\n".into()),
            "{name}"
        );
        assert_eq!(
            run(&envelope[..envelope.len() - 1], &key),
            (1, "REJECTED: record length does not match\n".into()),
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
