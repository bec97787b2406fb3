//! Agreement signatures: an agreement file takes effect only when every member has signed its
//! exact bytes with its agency key (the model MoU's signature clause).
//!
//! The signed message is [`AGREEMENT_DOMAIN`] followed by the 32 bytes of SHA-256 over the
//! agreement file's exact bytes. Signatures live beside the file in a *signature file*
//! (`<file>.sigs`), one line per member:
//!
//! ```text
//! # comment lines and blank lines are ignored
//! PK-FIA 5f1c…(128 hex digits: R ‖ S)
//! ```
//!
//! Members exchange the signatures they hold in their sync status, so each collects the others'.

use sha2::{Digest, Sha256};

use crate::ids::AgencyId;
use crate::keys::{PublicKey, SecretKey};
use crate::verify::verify_strict_raw;

/// The domain tag of an agreement signature: ASCII `accord/agreement/v1` and a zero byte.
pub const AGREEMENT_DOMAIN: &[u8] = b"accord/agreement/v1\0";

/// The file name suffix of an agreement's signature file.
pub const SIGNATURE_FILE_SUFFIX: &str = ".sigs";

/// SHA-256 of an agreement file's exact bytes.
pub fn agreement_hash(file_bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(file_bytes).into()
}

/// The message a member signs: [`AGREEMENT_DOMAIN`] ‖ SHA-256(file bytes).
pub fn agreement_message(hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(AGREEMENT_DOMAIN.len() + 32);
    m.extend_from_slice(AGREEMENT_DOMAIN);
    m.extend_from_slice(hash);
    m
}

/// Signs the agreement whose file hashes to `hash`.
pub fn sign_agreement(key: &SecretKey, hash: &[u8; 32]) -> [u8; 64] {
    key.sign_raw(&agreement_message(hash))
}

/// Whether `signature` is `key`'s signature of the agreement whose file hashes to `hash`
/// (strict Ed25519, as for records).
pub fn verify_agreement(key: &PublicKey, hash: &[u8; 32], signature: &[u8; 64]) -> bool {
    verify_strict_raw(key, &agreement_message(hash), signature)
}

/// One signature line of a signature file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureLine {
    /// 1-based line number in the file.
    pub line: u32,
    /// The member that signed.
    pub agency: AgencyId,
    /// Its signature.
    pub signature: [u8; 64],
}

/// A line of a signature file that is not a signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SignatureLineError {
    /// 1-based line number.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// Reads a signature file's text: every line is blank, a `#` comment, or
/// `<agency id> <128 hex digits>`. Returns every bad line at once. Membership and the
/// signatures themselves are checked by whoever knows the members' keys.
pub fn parse_signature_file(text: &str) -> Result<Vec<SignatureLine>, Vec<SignatureLineError>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut parts = t.split_whitespace();
        let (Some(id), Some(sig), None) = (parts.next(), parts.next(), parts.next()) else {
            errors.push(SignatureLineError {
                line,
                message: "expected `<agency id> <signature: 128 hex digits>`".into(),
            });
            continue;
        };
        let agency = match AgencyId::new(id) {
            Ok(a) => a,
            Err(e) => {
                errors.push(SignatureLineError {
                    line,
                    message: format!("`{id}` is not an agency id: {e}"),
                });
                continue;
            }
        };
        let mut signature = [0u8; 64];
        if sig.len() != 128 || hex::decode_to_slice(sig, &mut signature).is_err() {
            errors.push(SignatureLineError {
                line,
                message: format!(
                    "the signature of {agency} is not 128 hex digits (found {} characters)",
                    sig.len()
                ),
            });
            continue;
        }
        lines.push(SignatureLine {
            line,
            agency,
            signature,
        });
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// One line of a signature file for `agency`'s signature.
pub fn signature_line(agency: &AgencyId, signature: &[u8; 64]) -> String {
    format!("{agency} {}\n", hex::encode(signature))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_file_and_key() {
        let key = SecretKey::from_seed(&[7; 32]);
        let other = SecretKey::from_seed(&[8; 32]);
        let hash = agreement_hash(b"id = \"X\"\n");
        let sig = sign_agreement(&key, &hash);
        assert!(verify_agreement(&key.public_key(), &hash, &sig));
        assert!(!verify_agreement(&other.public_key(), &hash, &sig));
        assert!(!verify_agreement(
            &key.public_key(),
            &agreement_hash(b"id = \"Y\"\n"),
            &sig
        ));
        // a record signature over the same bytes is not an agreement signature
        let rec = key.sign_raw(&hash);
        assert!(!verify_agreement(&key.public_key(), &hash, &rec));
    }

    #[test]
    fn signature_files_round_trip_and_bad_lines_are_named() {
        let a = AgencyId::new("PK-FIA").unwrap();
        let text = format!("# sigs\n\n{}", signature_line(&a, &[0xab; 64]));
        let lines = parse_signature_file(&text).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].line, 3);
        assert_eq!(lines[0].agency, a);
        assert_eq!(lines[0].signature, [0xab; 64]);

        let bad = "PK-FIA abc\nnot-an-id 00\nPK-FIA\n";
        let errs = parse_signature_file(bad).unwrap_err();
        assert_eq!(errs.len(), 3);
        assert!(
            errs[0]
                .to_string()
                .starts_with("line 1: the signature of PK-FIA")
        );
        assert!(
            errs[1]
                .to_string()
                .contains("`not-an-id` is not an agency id")
        );
        assert!(errs[2].to_string().contains("expected `<agency id>"));
    }
}
