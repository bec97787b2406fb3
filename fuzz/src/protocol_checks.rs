//! Bodies of the `wire`, `envelope` and `record` fuzz targets.
//!
//! This file is also compiled into `protocol/tests/fuzz_corpus.rs` (with `#[path]`), so it uses
//! only `accord-protocol` and the standard library, and every check here runs on stable CI.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use accord_protocol::canonical::{decode_record, encode_record, parse_record_json};
use accord_protocol::envelope::record_id;
use accord_protocol::wire::Message;
use accord_protocol::{AgencyId, Envelope, PublicKey, SecretKey, verify};

/// The RFC 8032 §7.1 TEST 1 public key: the key of the vectors in docs/protocol.md §7.
pub const VECTOR_PUBLIC_KEY: [u8; 32] = [
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
];

/// Seed of the second agency's key (the seed corpus signs with it too).
pub const SECOND_SEED: [u8; 32] = [1; 32];

/// The fixed key directory the `envelope` target verifies against: TR-JGK holds the
/// RFC 8032 test key (the signer of the documented vectors), PK-FIA the key from
/// [`SECOND_SEED`].
pub fn key_directory() -> &'static BTreeMap<AgencyId, PublicKey> {
    static KEYS: OnceLock<BTreeMap<AgencyId, PublicKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = BTreeMap::new();
        if let (Ok(agency), Ok(key)) = (
            AgencyId::new("TR-JGK"),
            PublicKey::from_bytes(&VECTOR_PUBLIC_KEY),
        ) {
            keys.insert(agency, key);
        }
        if let Ok(agency) = AgencyId::new("PK-FIA") {
            keys.insert(agency, SecretKey::from_seed(&SECOND_SEED).public_key());
        }
        assert_eq!(keys.len(), 2, "the fuzz key directory is incomplete");
        keys
    })
}

/// `wire`: any bytes through `Message::decode`. Whatever decodes re-encodes to exactly the
/// frame it came from (the layout has one encoding per message), and decodes again to the
/// same value.
pub fn wire(data: &[u8]) {
    let Ok(message) = Message::decode(data) else {
        return;
    };
    let encoded = match message.encode() {
        Ok(encoded) => encoded,
        Err(e) => panic!("a decoded {message:?} does not re-encode: {e}"),
    };
    assert!(
        encoded == data,
        "re-encoding a decoded frame gives other bytes:\n  in:  {}\n  out: {}",
        hex(data),
        hex(&encoded)
    );
    assert_eq!(
        Message::decode(&encoded).as_ref(),
        Ok(&message),
        "the re-encoded frame decodes differently"
    );
}

/// `envelope`: any bytes through `Envelope::decode`, then `verify` against
/// [`key_directory`]. A decoded envelope re-encodes to the same bytes; a verified record's
/// bytes are exactly its canonical encoding, its id is the hash of its bytes, it is valid, and
/// its signer is its originator's registered key.
pub fn envelope(data: &[u8]) {
    let Ok(envelope) = Envelope::decode(data) else {
        return;
    };
    assert!(
        envelope.encode() == data,
        "a decoded envelope re-encodes to other bytes"
    );
    assert_eq!(envelope.encoded_len(), data.len());
    let keys = key_directory();
    let Ok(verified) = verify(envelope.clone(), keys) else {
        return;
    };
    let record = &verified.record;
    match encode_record(record) {
        Ok(bytes) => assert!(
            bytes == envelope.record_bytes(),
            "a verified record's bytes are not its canonical encoding"
        ),
        Err(e) => panic!("a verified record does not encode: {e}"),
    }
    assert_eq!(verified.id, record_id(envelope.record_bytes()));
    assert!(record.validate().is_ok(), "a verified record is invalid");
    assert_eq!(
        keys.get(&record.originator),
        Some(envelope.signer().key()),
        "verified under a key that is not the originator's"
    );
}

/// `record`: any bytes as record JSON. `decode_record` (the receiver's strict decoding)
/// accepts only bytes that are exactly the canonical encoding of what it decodes;
/// `parse_record_json` (the lenient reading of a person's file) gives a record whose canonical
/// encoding, when there is one, decodes back to the same record.
pub fn record(data: &[u8]) {
    if let Ok(record) = decode_record(data) {
        match encode_record(&record) {
            Ok(bytes) => assert!(bytes == data, "decode_record accepted non-canonical bytes"),
            Err(e) => panic!("a decoded record does not re-encode: {e}"),
        }
        let _ = record.validate();
    }
    if let Ok(record) = parse_record_json(data) {
        let _ = record.validate();
        if let Ok(bytes) = encode_record(&record) {
            match decode_record(&bytes) {
                Ok(again) => assert_eq!(again, record, "the canonical form reads back differently"),
                Err(e) => panic!(
                    "the canonical encoding of a parsed record does not decode: {e}\n  {}",
                    String::from_utf8_lossy(&bytes)
                ),
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let shown = &bytes[..bytes.len().min(256)];
    let mut s = String::with_capacity(shown.len() * 2);
    for b in shown {
        let _ = write!(s, "{b:02x}");
    }
    if bytes.len() > shown.len() {
        s.push('…');
    }
    s
}

/// `audit`: the lines of an audit export (docs/auditing.md) — log entries, and signed lines
/// (checkpoints, receipts, revocations) — through the parsers an auditor's verifier uses:
/// `AuditEntry::decode` accepts only canonical bytes, so what it accepts re-encodes to exactly
/// the same bytes; a signed line that parses prints back as the same line; checking a
/// checkpoint's signature (against the fixed keys) never panics.
pub fn audit(data: &[u8]) {
    use accord_protocol::audit::{AuditEntry, Signed, verify_checkpoint, verify_slot_checkpoint};
    for line in data.split(|b| *b == b'\n') {
        if let Ok(entry) = AuditEntry::decode(line) {
            let again = entry.encode().expect("a decoded entry encodes");
            assert_eq!(again, line, "a decoded entry re-encodes to its bytes");
            assert_eq!(AuditEntry::decode(&again).ok(), Some(entry));
        }
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        if let Ok(signed) = Signed::from_line(text) {
            assert_eq!(
                signed.to_line(),
                text,
                "a signed line prints back as itself"
            );
            let keys = key_directory();
            if let Ok(c) = verify_checkpoint(&signed, |a| keys.get(a).copied()) {
                assert!(keys.contains_key(&c.agency), "verified under a key held");
            }
            if let Ok(c) = verify_slot_checkpoint(&signed, |a| keys.get(a).copied()) {
                assert!(keys.contains_key(&c.agency), "verified under a key held");
                // a counted checkpoint never passes as a slot checkpoint, nor the reverse
                assert!(verify_checkpoint(&signed, |a| keys.get(a).copied()).is_err());
            }
        }
    }
}
