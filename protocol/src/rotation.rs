//! Key rotations: an agency's statement that its records are signed with a new key from a
//! given time (docs/protocol.md §11).
//!
//! A **rotation statement** is a canonical JSON object (`v`, `agency`, `previous`, `key`,
//! `since`). It is signed over [`ROTATION_DOMAIN`] ‖ its bytes by the **new** key (always: the
//! key that takes over vouches for its predecessor) and by the **previous** key when the agency
//! still has it. When the previous key is lost, the other members of an agreement attest the
//! statement instead, each with its own key over the same message. Offline verifiers (bundles,
//! docs/bundle.md) then check a record with the key in force at its `created` time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::{canonical_bytes, decode_canonical};
use crate::delegation::MAX_CERTIFICATE_BYTES;
use crate::error::RecordError;
use crate::ids::AgencyId;
use crate::keys::{PublicKey, SecretKey};
use crate::time::Timestamp;
use crate::verify::verify_strict_raw;

/// Domain tag of a rotation statement: ASCII `accord/key-rotation/v1` and a zero byte.
pub const ROTATION_DOMAIN: &[u8] = b"accord/key-rotation/v1\0";

/// What a rotation states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Format version, 1.
    pub v: u8,
    /// The agency whose key changes.
    pub agency: AgencyId,
    /// The key it signed with before `since`.
    pub previous: PublicKey,
    /// The key it signs with from `since` on.
    pub key: PublicKey,
    /// The first moment (a record's `created` time, a certificate's `issued` time) that the new
    /// key signs for; earlier ones are the previous key's.
    pub since: Timestamp,
}

/// A rotation statement with its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRotation {
    /// The statement's canonical JSON bytes.
    pub statement: Vec<u8>,
    /// The previous key's signature; absent when that key was lost.
    pub by_previous: Option<[u8; 64]>,
    /// The new key's signature.
    pub by_key: [u8; 64],
    /// Other agencies' attestations, by agency (needed when the previous key was lost).
    pub attestations: BTreeMap<AgencyId, [u8; 64]>,
}

/// Why a rotation statement was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// Bytes that are not a canonical statement.
    #[error(transparent)]
    Malformed(#[from] RecordError),
    /// A field out of bounds.
    #[error("{0}")]
    Invalid(String),
    /// A signature that does not verify.
    #[error("the {0} signature of the rotation statement does not verify (strict ed25519)")]
    BadSignature(String),
}

impl Rotation {
    /// Checks the statement's own rules: version 1, two different keys.
    pub fn validate(&self) -> Result<(), RotationError> {
        if self.v != 1 {
            return Err(RotationError::Invalid(format!(
                "rotation version {} is not 1",
                self.v
            )));
        }
        if self.previous == self.key {
            return Err(RotationError::Invalid(
                "the previous key and the new key are the same".into(),
            ));
        }
        Ok(())
    }
}

/// The message every signature of a statement covers.
pub fn rotation_message(statement: &[u8]) -> Vec<u8> {
    [ROTATION_DOMAIN, statement].concat()
}

/// Signs a rotation with the new key and, when the agency still has it, the previous key.
/// The keys must be the statement's.
pub fn sign_rotation(
    rotation: &Rotation,
    previous: Option<&SecretKey>,
    key: &SecretKey,
) -> Result<SignedRotation, RotationError> {
    rotation.validate()?;
    if key.public_key() != rotation.key {
        return Err(RotationError::Invalid(
            "the new key given is not the statement's `key`".into(),
        ));
    }
    if let Some(p) = previous
        && p.public_key() != rotation.previous
    {
        return Err(RotationError::Invalid(
            "the previous key given is not the statement's `previous`".into(),
        ));
    }
    let statement = canonical_bytes(rotation)?;
    let message = rotation_message(&statement);
    Ok(SignedRotation {
        by_previous: previous.map(|p| p.sign_raw(&message)),
        by_key: key.sign_raw(&message),
        statement,
        attestations: BTreeMap::new(),
    })
}

/// An agency's attestation of a statement: its signature over the same message.
pub fn attest(statement: &[u8], key: &SecretKey) -> [u8; 64] {
    key.sign_raw(&rotation_message(statement))
}

/// Reads a statement and checks the signatures its own keys made: the new key's always, the
/// previous key's when present. Attestations need the attesters' keys: see
/// [`verify_attestation`].
pub fn verify_rotation(s: &SignedRotation) -> Result<Rotation, RotationError> {
    if s.statement.len() > MAX_CERTIFICATE_BYTES {
        return Err(RotationError::Invalid(format!(
            "the statement is {} bytes; at most {MAX_CERTIFICATE_BYTES}",
            s.statement.len()
        )));
    }
    let r: Rotation = decode_canonical(&s.statement)?;
    r.validate()?;
    let message = rotation_message(&s.statement);
    if !verify_strict_raw(&r.key, &message, &s.by_key) {
        return Err(RotationError::BadSignature("new key's".into()));
    }
    if let Some(sig) = &s.by_previous
        && !verify_strict_raw(&r.previous, &message, sig)
    {
        return Err(RotationError::BadSignature("previous key's".into()));
    }
    Ok(r)
}

/// Whether `signature` is `key`'s attestation of the statement.
pub fn verify_attestation(statement: &[u8], key: &PublicKey, signature: &[u8; 64]) -> bool {
    verify_strict_raw(key, &rotation_message(statement), signature)
}

/// The file and bundle form of a signed rotation: one JSON object, signatures in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationFile {
    /// The statement's canonical JSON, as a string.
    pub statement: String,
    /// 128 hex digits, or `null` when the previous key was lost.
    pub previous_signature: Option<String>,
    /// 128 hex digits.
    pub key_signature: String,
    /// Other agencies' attestations, sorted by agency.
    pub attestations: Vec<Attestation>,
}

/// One agency's attestation of a rotation statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The attesting agency.
    pub agency: AgencyId,
    /// 128 hex digits.
    pub signature: String,
}

impl From<&SignedRotation> for RotationFile {
    fn from(s: &SignedRotation) -> Self {
        RotationFile {
            statement: String::from_utf8_lossy(&s.statement).into_owned(),
            previous_signature: s.by_previous.map(hex::encode),
            key_signature: hex::encode(s.by_key),
            attestations: s
                .attestations
                .iter()
                .map(|(agency, sig)| Attestation {
                    agency: agency.clone(),
                    signature: hex::encode(sig),
                })
                .collect(),
        }
    }
}

impl TryFrom<&RotationFile> for SignedRotation {
    type Error = RotationError;

    fn try_from(f: &RotationFile) -> Result<Self, RotationError> {
        let sig = |what: &str, text: &str| -> Result<[u8; 64], RotationError> {
            let mut out = [0u8; 64];
            if text.len() != 128
                || !text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                || hex::decode_to_slice(text, &mut out).is_err()
            {
                return Err(RotationError::Invalid(format!(
                    "{what} is not 128 lower-case hex digits"
                )));
            }
            Ok(out)
        };
        let mut attestations = BTreeMap::new();
        for a in &f.attestations {
            let s = sig(&format!("the attestation of {}", a.agency), &a.signature)?;
            if attestations.insert(a.agency.clone(), s).is_some() {
                return Err(RotationError::Invalid(format!(
                    "two attestations of {}",
                    a.agency
                )));
            }
        }
        Ok(SignedRotation {
            statement: f.statement.as_bytes().to_vec(),
            by_previous: f
                .previous_signature
                .as_deref()
                .map(|t| sig("previous_signature", t))
                .transpose()?,
            by_key: sig("key_signature", &f.key_signature)?,
            attestations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretKey {
        SecretKey::from_seed(&[b; 32])
    }

    fn statement() -> Rotation {
        Rotation {
            v: 1,
            agency: AgencyId::new("TR-JGK").unwrap(),
            previous: key(1).public_key(),
            key: key(2).public_key(),
            since: Timestamp::parse("2026-12-01T00:00:00Z").unwrap(),
        }
    }

    #[test]
    fn a_rotation_signed_by_both_keys_verifies_and_round_trips_through_its_file_form() {
        let s = sign_rotation(&statement(), Some(&key(1)), &key(2)).unwrap();
        assert_eq!(verify_rotation(&s).unwrap(), statement());
        let file = RotationFile::from(&s);
        let back = SignedRotation::try_from(&file).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_statement_altered_or_signed_by_the_wrong_key_is_refused() {
        let mut s = sign_rotation(&statement(), Some(&key(1)), &key(2)).unwrap();
        s.by_previous = Some(key(3).sign_raw(&rotation_message(&s.statement)));
        assert!(matches!(
            verify_rotation(&s),
            Err(RotationError::BadSignature(_))
        ));
        let mut s = sign_rotation(&statement(), None, &key(2)).unwrap();
        let text = String::from_utf8(s.statement.clone()).unwrap();
        s.statement = text.replace("2026-12-01", "2026-11-01").into_bytes();
        assert!(verify_rotation(&s).is_err());
        assert!(sign_rotation(&statement(), Some(&key(3)), &key(2)).is_err());
    }

    #[test]
    fn attestations_verify_under_the_attesting_agencys_key_only() {
        let s = sign_rotation(&statement(), None, &key(2)).unwrap();
        let sig = attest(&s.statement, &key(5));
        assert!(verify_attestation(&s.statement, &key(5).public_key(), &sig));
        assert!(!verify_attestation(
            &s.statement,
            &key(6).public_key(),
            &sig
        ));
    }
}
