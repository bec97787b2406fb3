//! The audit trail's formats: hash-chained log entries, signed checkpoints of the log head,
//! and signed delivery receipts. docs/auditing.md documents the bytes.
//!
//! Every object is canonical JSON (RFC 8785, as records are). A log entry's hash is
//! SHA-256(`"accord/audit/v1\0"` || entry bytes); each entry names the hash of the one before it
//! (64 zeros for the first). A checkpoint is signed over `"accord/checkpoint/v1\0"` || its bytes,
//! a receipt over `"accord/receipt/v1\0"` || its bytes, by the agency key, and verified with
//! `verify_strict`.
//!
//! `entry.rs` holds the log's entries (the events that moved data, the entry chaining them, its
//! hash); `signed.rs` what is signed over the log (checkpoints, receipts, the signed line).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canonical::to_canonical;
use crate::error::RecordError;

/// Domain tag of log entry hashes.
pub const AUDIT_DOMAIN: &[u8] = b"accord/audit/v1\0";
/// Domain tag of checkpoint signatures.
pub const CHECKPOINT_DOMAIN: &[u8] = b"accord/checkpoint/v1\0";
/// Domain tag of receipt signatures.
pub const RECEIPT_DOMAIN: &[u8] = b"accord/receipt/v1\0";
/// Domain tag of slot checkpoint signatures (the checkpoints partners receive).
pub const SLOT_CHECKPOINT_DOMAIN: &[u8] = b"accord/slot-checkpoint/v1\0";

/// A SHA-256 digest written as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    /// The all-zero digest that the first entry names as its predecessor.
    pub const ZERO: Digest32 = Digest32([0; 32]);
}

impl std::fmt::Display for Digest32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for Digest32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut out = [0u8; 32];
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(serde::de::Error::custom(format!(
                "`{s}` is not 64 lower-case hex digits"
            )));
        }
        hex::decode_to_slice(s.as_bytes(), &mut out)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not hex")))?;
        Ok(Digest32(out))
    }
}

mod entry;
mod signed;

pub use entry::*;
pub use signed::*;

/// SHA-256 of bytes (receipt hashes in `delivered` entries).
pub fn sha256(bytes: &[u8]) -> Digest32 {
    Digest32(Sha256::digest(bytes).into())
}

pub(crate) fn canonical_bytes<T: Serialize>(v: &T) -> Result<Vec<u8>, RecordError> {
    let value = serde_json::to_value(v).map_err(|e| RecordError::Malformed(e.to_string()))?;
    to_canonical(&value)
}

pub(crate) fn decode_canonical<T: Serialize + for<'de> Deserialize<'de>>(
    bytes: &[u8],
) -> Result<T, RecordError> {
    let v: T = serde_json::from_slice(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
    if canonical_bytes(&v)? != bytes {
        return Err(RecordError::NonCanonical(
            "audit object bytes are not canonical JSON".into(),
        ));
    }
    Ok(v)
}

mod u64_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(n)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s.is_empty()
            || !s.bytes().all(|b| b.is_ascii_digit())
            || (s.len() > 1 && s.starts_with('0'))
        {
            return Err(serde::de::Error::custom(format!(
                "`{s}` is not a decimal string without leading zeros"
            )));
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AgencyId, AgreementId, RecordId};
    use crate::keys::SecretKey;
    use crate::time::Timestamp;

    #[test]
    fn entries_chain_and_round_trip() {
        let a = AgencyId::new("TR-JGK").unwrap();
        let e0 = AuditEntry {
            agency: a.clone(),
            index: 0,
            prev: Digest32::ZERO,
            time: Timestamp::EPOCH,
            event: AuditEvent::Key {
                public_key: SecretKey::from_seed(&[1; 32]).public_key(),
            },
        };
        let b0 = e0.encode().unwrap();
        assert_eq!(AuditEntry::decode(&b0).unwrap(), e0);
        let e1 = AuditEntry {
            index: 1,
            prev: entry_hash(&b0),
            ..e0.clone()
        };
        assert_ne!(entry_hash(&e1.encode().unwrap()), entry_hash(&b0));
        assert!(AuditEntry::decode(&[&b0[..b0.len() - 1], b" }"].concat()).is_err());
    }

    /// Found by the `audit` fuzz target: a line whose signature had upper-case hex digits
    /// parsed, then printed back otherwise. One signed line has one text form now.
    #[test]
    fn a_signed_line_with_upper_case_hex_is_refused() {
        let key = SecretKey::from_seed(&[3; 32]);
        let c = SlotCheckpoint {
            agency: AgencyId::new("GR-HCG").unwrap(),
            slot: 2_993_100,
            head: Digest32([7; 32]),
            time: Timestamp::EPOCH,
        };
        let line = sign_slot_checkpoint(&c, &key).unwrap().to_line();
        assert_eq!(Signed::from_line(&line).unwrap().to_line(), line);
        let (sig, json) = line.split_once(' ').unwrap();
        let upper = format!("{} {json}", sig.to_ascii_uppercase());
        let e = Signed::from_line(&upper).unwrap_err().to_string();
        assert!(e.contains("upper-case"), "{e}");
        // and a slot checkpoint never passes as a counted one, nor the reverse
        let signed = Signed::from_line(&line).unwrap();
        let keys = |_: &AgencyId| Some(key.public_key());
        assert_eq!(verify_slot_checkpoint(&signed, keys).unwrap(), c);
        assert!(verify_checkpoint(&signed, keys).is_err());
    }

    #[test]
    fn checkpoints_and_receipts_verify_and_tampering_fails() {
        let key = SecretKey::from_seed(&[3; 32]);
        let a = AgencyId::new("GR-HCG").unwrap();
        let keys = |x: &AgencyId| (*x == a).then(|| key.public_key());
        let c = Checkpoint {
            agency: a.clone(),
            count: 5,
            head: Digest32([7; 32]),
            time: Timestamp::EPOCH,
        };
        let s = sign_checkpoint(&c, &key).unwrap();
        assert_eq!(verify_checkpoint(&s, keys).unwrap(), c);
        assert_eq!(Signed::from_line(&s.to_line()).unwrap(), s);
        let mut t = s.clone();
        t.bytes[10] ^= 1;
        assert!(verify_checkpoint(&t, keys).is_err());
        let r = Receipt {
            record: RecordId::from_bytes([1; 32]),
            agreement: AgreementId::new("QUAD-2026").unwrap(),
            receiver: a.clone(),
            received_at: Timestamp::EPOCH,
        };
        let s = sign_receipt(&r, &key).unwrap();
        assert_eq!(verify_receipt(&s, keys).unwrap(), r);
        // a checkpoint signature is not a receipt signature (domain separation)
        let as_receipt = Signed {
            bytes: s.bytes.clone(),
            signature: sign_checkpoint(&c, &key).unwrap().signature,
        };
        assert!(verify_receipt(&as_receipt, keys).is_err());
    }
}
