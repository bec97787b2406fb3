//! Two-person release: a releaser's approval of one record under one agreement
//! (docs/protocol.md §13).
//!
//! An **approval** is a canonical JSON object naming a record id, the record's agreement and
//! when it was approved, signed by a releaser's delegated key over [`APPROVAL_DOMAIN`] ‖
//! bytes. It travels in the record's envelope (version 2) together with the releaser's
//! certificate (a delegation certificate of role `releaser`, [`crate::delegation`]), so every
//! receiver and auditor checks it offline with the originator's agency key alone. The record's
//! bytes and id do not change.

use serde::{Deserialize, Serialize};

use crate::audit::{Signed, canonical_bytes, decode_canonical, sign_bytes};
use crate::error::RecordError;
use crate::ids::{AgreementId, RecordId};
use crate::keys::SecretKey;
use crate::time::Timestamp;

/// Domain tag of an approval: ASCII `accord/approval/v1` and a zero byte.
pub const APPROVAL_DOMAIN: &[u8] = b"accord/approval/v1\0";
/// Longest approval, in bytes of canonical JSON.
pub const MAX_APPROVAL_BYTES: usize = 512;
/// Most approvals one envelope carries.
pub const MAX_APPROVALS: usize = 4;

/// What a releaser approves: the body of an approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Format version, 1.
    pub v: u8,
    /// The record released.
    pub record: RecordId,
    /// The agreement it is released under (the record's own).
    pub agreement: AgreementId,
    /// When the releaser approved it: within the certificate's window, not before the record
    /// was created, and before any revocation of the certificate.
    pub approved: Timestamp,
}

/// An approval as it travels: the releaser's signed approval and the agency's certificate
/// for the releaser's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarriedApproval {
    /// The approval's canonical bytes, signed by the releaser's key.
    pub approval: Signed,
    /// The releaser's certificate, signed by the originator's agency key.
    pub certificate: Signed,
}

/// Signs an approval of `record` under `agreement` with the releaser's key, carrying its
/// certificate. Whether the certificate covers the record is checked by
/// [`crate::verify::verify`], not here.
pub fn approve(
    record: RecordId,
    agreement: AgreementId,
    approved: Timestamp,
    releaser: &SecretKey,
    certificate: Signed,
) -> Result<CarriedApproval, RecordError> {
    let bytes = canonical_bytes(&Approval {
        v: 1,
        record,
        agreement,
        approved,
    })?;
    Ok(CarriedApproval {
        approval: sign_bytes(APPROVAL_DOMAIN, bytes, releaser),
        certificate,
    })
}

/// Decodes an approval's bytes (canonical JSON, version 1, at most [`MAX_APPROVAL_BYTES`]).
pub fn decode_approval(bytes: &[u8]) -> Result<Approval, RecordError> {
    if bytes.len() > MAX_APPROVAL_BYTES {
        return Err(RecordError::Malformed(format!(
            "an approval is at most {MAX_APPROVAL_BYTES} bytes; this one is {}",
            bytes.len()
        )));
    }
    let a: Approval = decode_canonical(bytes)?;
    if a.v != 1 {
        return Err(RecordError::Malformed(format!(
            "approval version {} (this node reads 1)",
            a.v
        )));
    }
    Ok(a)
}

/// The message a releaser signs: [`APPROVAL_DOMAIN`] ‖ the approval's bytes.
pub fn approval_message(bytes: &[u8]) -> Vec<u8> {
    [APPROVAL_DOMAIN, bytes].concat()
}
