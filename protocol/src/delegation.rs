//! Delegated keys: liaison officers posted abroad sign records as their agency, within the
//! scope of a certificate the agency key issued (Bali Process recommendation 6).
//!
//! A **delegation certificate** is a canonical JSON object signed by the agency key over
//! [`DELEGATION_DOMAIN`] ‖ bytes: who holds the delegated key, where they are posted, for which
//! agreements and categories, and from when until when. A record signed by the delegated key
//! travels in an envelope of signer kind 2 that carries the certificate, and is accepted as
//! the agency's record only within that scope (docs/protocol.md §10).
//!
//! A **revocation** is a canonical JSON object signed by the agency key over
//! [`REVOCATION_DOMAIN`] ‖ bytes naming a certificate by its id and the time from which its key
//! is no longer trusted. Records the delegated key signed (by their `created` time) before that
//! time stay valid; later ones are refused.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{Digest32, Signed, canonical_bytes, decode_canonical, sign_bytes};
use crate::country::Country;
use crate::error::RecordError;
use crate::ids::{AgencyId, AgreementId};
use crate::keys::{PublicKey, SecretKey};
use crate::time::Timestamp;
use crate::verify::verify_strict_raw;
use crate::vocab::{Category, HandlingCode};

crate::vocab::vocabulary! {
    /// What a delegated key may do: sign records (an officer posted abroad), or approve the
    /// release of the agency's sensitive records (a releaser, docs/protocol.md §13).
    DelegateRole, "delegate role" {
        /// Signs the agency's records within the certificate's scope.
        Officer = "officer",
        /// Approves the release of records within the certificate's scope; signs no record.
        Releaser = "releaser",
    }
}

impl DelegateRole {
    /// Whether this is the role a certificate without a `role` field has.
    pub fn is_officer(&self) -> bool {
        *self == DelegateRole::Officer
    }
}

/// The role of a certificate without a `role` field.
fn officer() -> DelegateRole {
    DelegateRole::Officer
}

/// Domain tag of a delegation certificate: ASCII `accord/delegation/v1` and a zero byte.
pub const DELEGATION_DOMAIN: &[u8] = b"accord/delegation/v1\0";
/// Domain tag of a revocation: ASCII `accord/revocation/v1` and a zero byte.
pub const REVOCATION_DOMAIN: &[u8] = b"accord/revocation/v1\0";
/// Longest certificate or revocation, in bytes of canonical JSON.
pub const MAX_CERTIFICATE_BYTES: usize = 4096;
/// Longest `holder` or `reason` text, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// What the agency delegates: the body of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    /// Format version, 1.
    pub v: u8,
    /// The issuing agency: records signed under the certificate are this agency's.
    pub agency: AgencyId,
    /// The delegated key.
    pub delegate: PublicKey,
    /// Who holds it: name and role, e.g. "Liaison officer, Embassy of Türkiye in Athens".
    pub holder: String,
    /// The country the holder is posted to.
    pub host_country: Country,
    /// The agreements the key may sign records under: at least one, sorted by id (byte
    /// order), no repeats.
    pub agreements: Vec<AgreementId>,
    /// The record categories it may sign: at least one, sorted by name (byte order), no
    /// repeats.
    pub categories: Vec<Category>,
    /// First moment a record it signs may be created.
    pub valid_from: Timestamp,
    /// Last moment a record it signs may be created.
    pub valid_until: Timestamp,
    /// When the agency issued the certificate.
    pub issued: Timestamp,
    /// What the key may do; `officer` (absent from the bytes) signs records, `releaser`
    /// approves their release.
    #[serde(default = "officer", skip_serializing_if = "DelegateRole::is_officer")]
    pub role: DelegateRole,
    /// The handling codes a releaser may release: at least one for a releaser, sorted, no
    /// repeats; absent (empty) for an officer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handling: Vec<HandlingCode>,
}

/// A revocation of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Format version, 1.
    pub v: u8,
    /// The agency that issued the certificate (and alone may revoke it).
    pub agency: AgencyId,
    /// The certificate's id (SHA-256 over its domain tag and bytes).
    pub certificate: Digest32,
    /// From this moment the delegated key is no longer trusted: records created at or after
    /// it are refused. It may lie before the revocation was signed (a key lost last week).
    pub revoked: Timestamp,
    /// Why, for people.
    pub reason: String,
}

/// Why a certificate, a revocation or a delegated signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    /// Bytes that are not a canonical certificate or revocation.
    #[error(transparent)]
    Malformed(#[from] RecordError),
    /// A field out of bounds.
    #[error("{0}")]
    Invalid(String),
    /// The agency's key is unknown.
    #[error("{0} is not a known agency; its key is not registered")]
    UnknownAgency(AgencyId),
    /// The agency's signature does not verify.
    #[error(
        "the signature of {0} on the certificate or revocation does not verify (strict ed25519)"
    )]
    BadSignature(AgencyId),
}

impl Delegation {
    /// Checks the fields on their own: version 1, a holder text, at least one agreement and
    /// category, a validity window that is not empty, and a delegated key that is not the
    /// agency's own (`agency_key`).
    pub fn validate(&self, agency_key: Option<&PublicKey>) -> Result<(), DelegationError> {
        let bad = |m: String| Err(DelegationError::Invalid(m));
        if self.v != 1 {
            return bad(format!(
                "certificate version {} (this node reads 1)",
                self.v
            ));
        }
        let chars = self.holder.trim().chars().count();
        if chars == 0 || chars > MAX_TEXT_CHARS {
            return bad(format!(
                "holder must name who holds the key, 1 to {MAX_TEXT_CHARS} characters"
            ));
        }
        if self.agreements.is_empty() {
            return bad("a delegation names at least one agreement".into());
        }
        if self.categories.is_empty() {
            return bad("a delegation names at least one category".into());
        }
        if !self
            .agreements
            .windows(2)
            .all(|w| w[0].as_str() < w[1].as_str())
        {
            return bad("agreements must be sorted by id, without repeats".into());
        }
        if !self
            .categories
            .windows(2)
            .all(|w| w[0].as_str() < w[1].as_str())
        {
            return bad("categories must be sorted by name, without repeats".into());
        }
        if self.valid_until <= self.valid_from {
            return bad(format!(
                "valid_until {} is not after valid_from {}",
                self.valid_until, self.valid_from
            ));
        }
        if agency_key == Some(&self.delegate) {
            return bad("the delegated key is the agency key itself".into());
        }
        match self.role {
            DelegateRole::Officer if !self.handling.is_empty() => {
                return bad(
                    "an officer's certificate names no handling codes (only a releaser's does)"
                        .into(),
                );
            }
            DelegateRole::Releaser if self.handling.is_empty() => {
                return bad("a releaser's certificate names at least one handling code".into());
            }
            _ => {}
        }
        if !self.handling.windows(2).all(|w| w[0] < w[1]) {
            return bad("handling codes must be sorted (H0 to H3), without repeats".into());
        }
        Ok(())
    }

    /// Sorts and dedups the agreements and categories into the order a certificate requires.
    pub fn normalise(&mut self) {
        self.agreements.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        self.agreements.dedup();
        self.categories.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        self.categories.dedup();
        self.handling.sort();
        self.handling.dedup();
    }

    /// Whether a releaser's certificate covers records of handling code `code`.
    pub fn covers_handling(&self, code: HandlingCode) -> bool {
        self.handling.contains(&code)
    }

    /// Whether the delegation covers records under `agreement`.
    pub fn covers_agreement(&self, agreement: &AgreementId) -> bool {
        self.agreements.contains(agreement)
    }

    /// Whether the delegation covers records of `category`.
    pub fn covers_category(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }

    /// Whether the window covers `t` (both ends included).
    pub fn covers(&self, t: Timestamp) -> bool {
        self.valid_from <= t && t <= self.valid_until
    }
}

/// Signs a delegation with the agency key, after [`Delegation::validate`].
pub fn issue(d: &Delegation, agency_key: &SecretKey) -> Result<Signed, DelegationError> {
    d.validate(Some(&agency_key.public_key()))?;
    let bytes = canonical_bytes(d)?;
    if bytes.len() > MAX_CERTIFICATE_BYTES {
        return Err(DelegationError::Invalid(format!(
            "the certificate is {} bytes; at most {MAX_CERTIFICATE_BYTES}",
            bytes.len()
        )));
    }
    Ok(sign_bytes(DELEGATION_DOMAIN, bytes, agency_key))
}

/// A certificate's id: SHA-256 over [`DELEGATION_DOMAIN`] ‖ its bytes.
pub fn certificate_id(certificate: &Signed) -> Digest32 {
    let mut h = Sha256::new();
    h.update(DELEGATION_DOMAIN);
    h.update(&certificate.bytes);
    Digest32(h.finalize().into())
}

/// Verifies a certificate with its agency's key (looked up by `key_of`) and returns what it
/// delegates.
pub fn verify_certificate(
    certificate: &Signed,
    key_of: impl Fn(&AgencyId) -> Option<PublicKey>,
) -> Result<Delegation, DelegationError> {
    if certificate.bytes.len() > MAX_CERTIFICATE_BYTES {
        return Err(DelegationError::Invalid("certificate too long".into()));
    }
    let d: Delegation = decode_canonical(&certificate.bytes)?;
    let key = key_of(&d.agency).ok_or_else(|| DelegationError::UnknownAgency(d.agency.clone()))?;
    if !verify_strict_raw(
        &key,
        &[DELEGATION_DOMAIN, &certificate.bytes].concat(),
        &certificate.signature,
    ) {
        return Err(DelegationError::BadSignature(d.agency));
    }
    d.validate(Some(&key))?;
    Ok(d)
}

/// Signs a revocation with the agency key.
pub fn revoke(r: &Revocation, agency_key: &SecretKey) -> Result<Signed, DelegationError> {
    if r.v != 1 {
        return Err(DelegationError::Invalid(
            "revocation version must be 1".into(),
        ));
    }
    if r.reason.chars().count() > MAX_TEXT_CHARS {
        return Err(DelegationError::Invalid(format!(
            "reason: at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(sign_bytes(
        REVOCATION_DOMAIN,
        canonical_bytes(r)?,
        agency_key,
    ))
}

/// Verifies a revocation with its agency's key.
pub fn verify_revocation(
    revocation: &Signed,
    key_of: impl Fn(&AgencyId) -> Option<PublicKey>,
) -> Result<Revocation, DelegationError> {
    if revocation.bytes.len() > MAX_CERTIFICATE_BYTES {
        return Err(DelegationError::Invalid("revocation too long".into()));
    }
    let r: Revocation = decode_canonical(&revocation.bytes)?;
    if r.v != 1 {
        return Err(DelegationError::Invalid(
            "revocation version must be 1".into(),
        ));
    }
    let key = key_of(&r.agency).ok_or_else(|| DelegationError::UnknownAgency(r.agency.clone()))?;
    if !verify_strict_raw(
        &key,
        &[REVOCATION_DOMAIN, &revocation.bytes].concat(),
        &revocation.signature,
    ) {
        return Err(DelegationError::BadSignature(r.agency));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn delegation(agency_key: &SecretKey, officer: &SecretKey) -> Delegation {
        let _ = agency_key;
        Delegation {
            v: 1,
            agency: AgencyId::new("TR-JGK").unwrap(),
            delegate: officer.public_key(),
            holder: "Liaison officer, Athens".into(),
            host_country: Country::new("GR").unwrap(),
            agreements: vec![AgreementId::new("QUAD-2026").unwrap()],
            categories: vec![Category::Alert, Category::Route],
            valid_from: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            valid_until: Timestamp::parse("2026-12-31T23:59:59Z").unwrap(),
            issued: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            role: DelegateRole::Officer,
            handling: Vec::new(),
        }
    }

    #[test]
    fn a_certificate_verifies_with_its_agency_key_only() {
        let agency = SecretKey::from_seed(&[1; 32]);
        let officer = SecretKey::from_seed(&[2; 32]);
        let d = delegation(&agency, &officer);
        let cert = issue(&d, &agency).unwrap();
        let got = verify_certificate(&cert, |_| Some(agency.public_key())).unwrap();
        assert_eq!(got, d);
        assert_eq!(
            verify_certificate(&cert, |_| Some(officer.public_key())),
            Err(DelegationError::BadSignature(d.agency.clone()))
        );
        let mut tampered = cert.clone();
        tampered.bytes[10] ^= 1;
        assert!(verify_certificate(&tampered, |_| Some(agency.public_key())).is_err());
        // the same bytes signed as a revocation are not a certificate
        let r = Revocation {
            v: 1,
            agency: d.agency.clone(),
            certificate: certificate_id(&cert),
            revoked: d.valid_from,
            reason: "lost".into(),
        };
        let rs = revoke(&r, &agency).unwrap();
        assert_eq!(
            verify_revocation(&rs, |_| Some(agency.public_key())).unwrap(),
            r
        );
        let as_cert = Signed {
            bytes: cert.bytes.clone(),
            signature: sign_bytes(REVOCATION_DOMAIN, cert.bytes.clone(), &agency).signature,
        };
        assert!(verify_certificate(&as_cert, |_| Some(agency.public_key())).is_err());
    }

    #[test]
    fn bad_delegations_are_refused_naming_the_problem() {
        let agency = SecretKey::from_seed(&[1; 32]);
        let officer = SecretKey::from_seed(&[2; 32]);
        let mut d = delegation(&agency, &officer);
        d.valid_until = d.valid_from;
        assert!(
            issue(&d, &agency)
                .unwrap_err()
                .to_string()
                .contains("not after")
        );
        let mut d = delegation(&agency, &officer);
        d.delegate = agency.public_key();
        assert!(
            issue(&d, &agency)
                .unwrap_err()
                .to_string()
                .contains("agency key itself")
        );
        let mut d = delegation(&agency, &officer);
        d.agreements.clear();
        assert!(
            issue(&d, &agency)
                .unwrap_err()
                .to_string()
                .contains("at least one agreement")
        );
        let mut d = delegation(&agency, &officer);
        d.holder = " ".into();
        assert!(
            issue(&d, &agency)
                .unwrap_err()
                .to_string()
                .contains("holder")
        );
    }
}
