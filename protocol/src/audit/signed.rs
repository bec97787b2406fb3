//! What is signed over the log: checkpoints of its head (counted and per slot), delivery
//! receipts, and the signed line that carries any of them.

use serde::{Deserialize, Serialize};

use super::{
    CHECKPOINT_DOMAIN, Digest32, RECEIPT_DOMAIN, SLOT_CHECKPOINT_DOMAIN, canonical_bytes,
    decode_canonical, u64_string,
};
use crate::error::RecordError;
use crate::ids::{AgencyId, AgreementId, RecordId};
use crate::keys::{PublicKey, SecretKey};
use crate::time::Timestamp;
use crate::verify::verify_strict_raw;

/// A statement of the log's head: "my log has `count` entries and the last one's hash is
/// `head`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Whose log.
    pub agency: AgencyId,
    /// How many entries (a decimal string in JSON).
    #[serde(with = "u64_string")]
    pub count: u64,
    /// Hash of entry `count - 1` (zeros when `count` is 0).
    pub head: Digest32,
    /// When it was signed.
    pub time: Timestamp,
}

/// What a partner is given of a log (in each sync status): its head at the start of a slot,
/// without its length. A partner keeps one per slot, so a second, different one for the same
/// slot is evidence of a rewritten log or of the key on two nodes; and since a `slot` entry
/// starts every slot, what it sees moves the same whatever the log did — it learns nothing
/// of the agency's activity under agreements it is not party to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotCheckpoint {
    /// Whose log.
    pub agency: AgencyId,
    /// The slot (a decimal string in JSON).
    #[serde(with = "u64_string")]
    pub slot: u64,
    /// The hash of the log's `slot` entry for this slot.
    pub head: Digest32,
    /// When it was signed.
    pub time: Timestamp,
}

/// A receiver's statement that it holds a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The record.
    pub record: RecordId,
    /// Its agreement.
    pub agreement: AgreementId,
    /// The receiving agency (the signer).
    pub receiver: AgencyId,
    /// When it stored the record.
    pub received_at: Timestamp,
}

/// A signed canonical object: its exact bytes and the signature over domain || bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The canonical JSON bytes.
    pub bytes: Vec<u8>,
    /// The ed25519 signature.
    pub signature: [u8; 64],
}

impl Signed {
    /// Text form: the signature in hex, a space, the canonical JSON (one line).
    pub fn to_line(&self) -> String {
        format!(
            "{} {}",
            hex::encode(self.signature),
            String::from_utf8_lossy(&self.bytes)
        )
    }

    /// Parses the text form.
    pub fn from_line(line: &str) -> Result<Self, RecordError> {
        let (sig, json) = line
            .split_once(' ')
            .ok_or_else(|| RecordError::Malformed("expected `<signature hex> <json>`".into()))?;
        // lower-case only, as written: one signed line has one text form (found by the
        // `audit` fuzz target, which checks that a parsed line prints back as itself)
        if sig.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(RecordError::Malformed(
                "signature has upper-case hex digits (128 lower-case hex digits expected)".into(),
            ));
        }
        let mut signature = [0u8; 64];
        hex::decode_to_slice(sig, &mut signature).map_err(|_| {
            RecordError::Malformed("signature is not 128 lower-case hex digits".into())
        })?;
        Ok(Self {
            bytes: json.as_bytes().to_vec(),
            signature,
        })
    }

    /// Binary form for the wire: `len u16 | bytes | signature`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.bytes);
        out.extend_from_slice(&self.signature);
    }
}

pub(crate) fn sign_bytes(domain: &[u8], bytes: Vec<u8>, key: &SecretKey) -> Signed {
    let signature = key.sign_raw(&[domain, &bytes].concat());
    Signed { bytes, signature }
}

/// Signs a checkpoint.
pub fn sign_checkpoint(c: &Checkpoint, key: &SecretKey) -> Result<Signed, RecordError> {
    Ok(sign_bytes(CHECKPOINT_DOMAIN, canonical_bytes(c)?, key))
}

/// Signs a receipt.
pub fn sign_receipt(r: &Receipt, key: &SecretKey) -> Result<Signed, RecordError> {
    Ok(sign_bytes(RECEIPT_DOMAIN, canonical_bytes(r)?, key))
}

/// Why a signed audit object was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// Bytes that are not the object.
    #[error(transparent)]
    Malformed(#[from] RecordError),
    /// The signer's key is unknown.
    #[error("no key for {0}")]
    UnknownSigner(AgencyId),
    /// The signature does not verify.
    #[error("signature of {0} does not verify (strict ed25519)")]
    BadSignature(AgencyId),
}

/// Verifies a signed checkpoint with its agency's key (looked up by `key_of`).
pub fn verify_checkpoint(
    s: &Signed,
    key_of: impl Fn(&AgencyId) -> Option<PublicKey>,
) -> Result<Checkpoint, AuditError> {
    let c: Checkpoint = decode_canonical(&s.bytes)?;
    let key = key_of(&c.agency).ok_or_else(|| AuditError::UnknownSigner(c.agency.clone()))?;
    if !verify_strict_raw(&key, &[CHECKPOINT_DOMAIN, &s.bytes].concat(), &s.signature) {
        return Err(AuditError::BadSignature(c.agency));
    }
    Ok(c)
}

/// Signs a slot checkpoint.
pub fn sign_slot_checkpoint(c: &SlotCheckpoint, key: &SecretKey) -> Result<Signed, RecordError> {
    Ok(sign_bytes(SLOT_CHECKPOINT_DOMAIN, canonical_bytes(c)?, key))
}

/// Verifies a signed slot checkpoint with its agency's key.
pub fn verify_slot_checkpoint(
    s: &Signed,
    key_of: impl Fn(&AgencyId) -> Option<PublicKey>,
) -> Result<SlotCheckpoint, AuditError> {
    let c: SlotCheckpoint = decode_canonical(&s.bytes)?;
    let key = key_of(&c.agency).ok_or_else(|| AuditError::UnknownSigner(c.agency.clone()))?;
    if !verify_strict_raw(
        &key,
        &[SLOT_CHECKPOINT_DOMAIN, &s.bytes].concat(),
        &s.signature,
    ) {
        return Err(AuditError::BadSignature(c.agency));
    }
    Ok(c)
}

/// Verifies a signed receipt with the receiver's key.
pub fn verify_receipt(
    s: &Signed,
    key_of: impl Fn(&AgencyId) -> Option<PublicKey>,
) -> Result<Receipt, AuditError> {
    let r: Receipt = decode_canonical(&s.bytes)?;
    let key = key_of(&r.receiver).ok_or_else(|| AuditError::UnknownSigner(r.receiver.clone()))?;
    if !verify_strict_raw(&key, &[RECEIPT_DOMAIN, &s.bytes].concat(), &s.signature) {
        return Err(AuditError::BadSignature(r.receiver));
    }
    Ok(r)
}
