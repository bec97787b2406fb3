//! Verification: the only way to obtain a [`Verified`] value.

use std::collections::BTreeMap;

use ed25519_dalek::Signature;

use crate::approval::{approval_message, decode_approval};
use crate::audit::Digest32;
use crate::canonical::decode_record;
use crate::delegation::{DelegateRole, certificate_id, verify_certificate};
use crate::envelope::{Envelope, Signer, signed_message};
use crate::error::VerifyError;
use crate::ids::{AgencyId, AgreementId, RecordId};
use crate::keys::PublicKey;
use crate::record::Record;
use crate::time::Timestamp;

/// Where a verifier finds each agency's registered key.
pub trait KeyDirectory {
    /// The agency key registered for `agency`, if it is known.
    fn agency_key(&self, agency: &AgencyId) -> Option<PublicKey>;

    /// When `agency` revoked the delegation certificate with this id, if it did (verified
    /// revocations only). Records its key signed from that moment on are refused.
    fn revoked(&self, agency: &AgencyId, certificate: &Digest32) -> Option<Timestamp> {
        let _ = (agency, certificate);
        None
    }

    /// The key `agency` signed with at `t`: a releaser's certificate (§13) is checked with the
    /// key in force at its `issued` time. A directory that knows no key history answers with
    /// the registered key.
    fn agency_key_at(&self, agency: &AgencyId, t: Timestamp) -> Option<PublicKey> {
        let _ = t;
        self.agency_key(agency)
    }
}

impl KeyDirectory for BTreeMap<AgencyId, PublicKey> {
    fn agency_key(&self, agency: &AgencyId) -> Option<PublicKey> {
        self.get(agency).copied()
    }
}

/// A value whose signature has been checked with `verify_strict` against its originator's
/// registered key and whose content is a valid, canonical record. Only this module can make
/// one, so holding a `Verified<T>` is proof that the checks ran.
///
/// Outside the crate a `Verified` is obtained from [`verify`] (or
/// [`crate::batch::verify_batch`]) and read through [`Verified::get`], `Deref` or
/// [`Verified::into_inner`]:
///
/// ```
/// use accord_protocol::{SignedRecord, Verified};
///
/// fn originator(v: &Verified<SignedRecord>) -> &str {
///     v.get().record.originator.as_str()
/// }
/// # let _ = originator;
/// ```
///
/// It cannot be built by hand: its field is private, so a struct literal does not compile...
///
/// ```compile_fail,E0451
/// use accord_protocol::{SignedRecord, Verified};
///
/// fn forge(record: SignedRecord) -> Verified<SignedRecord> {
///     Verified { inner: record }
/// }
/// ```
///
/// ...nor does reading or replacing the field of one the verifier returned...
///
/// ```compile_fail,E0616
/// use accord_protocol::{SignedRecord, Verified};
///
/// fn swap(mut v: Verified<SignedRecord>, other: SignedRecord) -> Verified<SignedRecord> {
///     v.inner = other;
///     v
/// }
/// ```
///
/// ...and the constructor the crate's batch verifier uses is private to the crate.
///
/// ```compile_fail,E0624
/// use accord_protocol::{SignedRecord, Verified};
///
/// fn forge(record: SignedRecord) -> Verified<SignedRecord> {
///     Verified::checked(record)
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Verified<T> {
    inner: T,
}

impl<T> Verified<T> {
    /// For [`crate::batch::verify_batch`] only, which makes [`verify`]'s checks (its module
    /// documentation gives the argument); nothing else may make a `Verified`.
    pub(crate) fn checked(inner: T) -> Self {
        Self { inner }
    }

    /// The verified value.
    pub fn get(&self) -> &T {
        &self.inner
    }

    /// Gives up the proof and returns the value.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> std::ops::Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// A record with its envelope and id, as returned by [`verify`].
#[derive(Clone, Debug)]
pub struct SignedRecord {
    /// The signed envelope, exact bytes and all.
    pub envelope: Envelope,
    /// The record decoded from the envelope's bytes.
    pub record: Record,
    /// Its id.
    pub id: RecordId,
}

impl SignedRecord {
    /// Its sequence stream: the originator's own, or that of the delegated key that signed it.
    pub fn stream(&self) -> crate::ids::StreamId {
        self.envelope.stream_of(&self.record)
    }
}

/// Verifies a signed record:
///
/// 1. the record bytes parse as a record and are exactly its canonical encoding, and the record
///    is valid on its own ([`Record::validate`]);
/// 2. the originator is a known agency and the envelope's signer is its registered agency key;
/// 3. `verify_strict` accepts the signature over `SIGNING_DOMAIN || record bytes` (it refuses
///    small-order R and A, non-canonical R, and S >= L).
///
/// The signature is checked over the bytes received; nothing is re-serialized for it.
pub fn verify(
    envelope: Envelope,
    keys: &(impl KeyDirectory + ?Sized),
) -> Result<Verified<SignedRecord>, VerifyError> {
    let (record, signer) = precheck(&envelope, keys)?;
    let id = envelope.id();
    let signature = Signature::from_bytes(envelope.signature());
    signer
        .verifying_key()
        .verify_strict(&signed_message(envelope.record_bytes()), &signature)
        .map_err(|_| VerifyError::BadSignature {
            id: id.to_hex(),
            originator: record.originator.to_string(),
        })?;
    Ok(Verified {
        inner: SignedRecord {
            envelope,
            record,
            id,
        },
    })
}

/// Every check of [`verify`] but the record signature itself: the record decoded, canonical
/// and valid; the signer the originator's registered key, or a delegated key within its
/// certificate. Returns the record and the key whose signature must then verify (shared with
/// batch verification, so both apply one rule).
pub(crate) fn precheck(
    envelope: &Envelope,
    keys: &(impl KeyDirectory + ?Sized),
) -> Result<(Record, PublicKey), VerifyError> {
    let record = decode_record(envelope.record_bytes())?;
    record.validate()?;
    let registered = keys
        .agency_key(&record.originator)
        .ok_or_else(|| VerifyError::UnknownOriginator(record.originator.to_string()))?;
    let signer = match envelope.signer() {
        Signer::Agency(signer) => {
            if *signer != registered {
                return Err(VerifyError::WrongKey {
                    originator: record.originator.to_string(),
                    signer: signer.to_string(),
                    registered: registered.to_string(),
                });
            }
            *signer
        }
        Signer::Delegate(signer) => {
            check_delegation(envelope, signer, &record, registered, keys)?;
            *signer
        }
    };
    if !envelope.approvals().is_empty() {
        check_approvals(envelope, &signer, &record, registered, keys)?;
    }
    Ok((record, signer))
}

/// The rules of the releasers' approvals an envelope carries (docs/protocol.md §13). Each
/// approval: its bytes a canonical version-1 approval naming this record's id and agreement;
/// its certificate a `releaser` certificate that verifies under the originator's registered
/// agency key and covers the record's agreement, category and handling code, with the
/// approval time inside its window, not before the record's `created`, and before any
/// revocation of it; its key not the key that signed the record and not another approval's;
/// and its signature verifying (strict) under that key. Every approval carried must pass,
/// whatever the agreement requires.
fn check_approvals(
    envelope: &Envelope,
    signer: &PublicKey,
    record: &Record,
    registered: PublicKey,
    keys: &(impl KeyDirectory + ?Sized),
) -> Result<(), VerifyError> {
    let id = envelope.id();
    let mut seen: Vec<PublicKey> = Vec::new();
    for (i, carried) in envelope.approvals().iter().enumerate() {
        let refuse = |reason: String| VerifyError::Approval {
            id: id.to_hex(),
            originator: record.originator.to_string(),
            index: i + 1,
            reason,
        };
        let a = decode_approval(&carried.approval.bytes).map_err(|e| refuse(e.to_string()))?;
        if a.record != id {
            return Err(refuse(format!(
                "it approves record {}, not this one",
                a.record
            )));
        }
        if a.agreement != record.agreement {
            return Err(refuse(format!(
                "it approves release under {}, not the record's agreement {}",
                a.agreement, record.agreement
            )));
        }
        // the key in force when the agency issued the certificate (the registered key where
        // the directory knows no history)
        let stated = crate::audit::decode_canonical::<crate::delegation::Delegation>(
            &carried.certificate.bytes,
        )
        .ok();
        if let Some(c) = &stated
            && c.agency != record.originator
        {
            return Err(refuse(format!(
                "the releaser certificate is {}'s, not the originator's",
                c.agency
            )));
        }
        let issuer = stated
            .and_then(|d| keys.agency_key_at(&record.originator, d.issued))
            .unwrap_or(registered);
        let d = verify_certificate(&carried.certificate, |ag| {
            (*ag == record.originator).then_some(issuer)
        })
        .map_err(|e| refuse(format!("releaser certificate: {e}")))?;
        if d.role != DelegateRole::Releaser {
            return Err(refuse(format!(
                "the certificate of {} is an {}'s, not a releaser's",
                d.holder, d.role
            )));
        }
        if d.delegate == *signer {
            return Err(refuse(format!(
                "{} approved a record their own key signed; release needs a second person",
                d.holder
            )));
        }
        if seen.contains(&d.delegate) {
            return Err(refuse(format!(
                "{} approved the record twice; each approval is a different releaser's",
                d.holder
            )));
        }
        if !d.covers_agreement(&record.agreement) {
            return Err(refuse(format!(
                "agreement {} is outside {}'s release certificate",
                record.agreement, d.holder
            )));
        }
        if !d.covers_category(record.category) {
            return Err(refuse(format!(
                "category {} is outside {}'s release certificate",
                record.category, d.holder
            )));
        }
        if !d.covers_handling(record.handling) {
            return Err(refuse(format!(
                "handling code {} is outside {}'s release certificate",
                record.handling, d.holder
            )));
        }
        if !d.covers(a.approved) {
            return Err(refuse(format!(
                "approved {} is outside the certificate's validity, {} to {}",
                a.approved, d.valid_from, d.valid_until
            )));
        }
        if a.approved < record.created {
            return Err(refuse(format!(
                "approved {} is before the record was created, {}",
                a.approved, record.created
            )));
        }
        if let Some(revoked) =
            keys.revoked(&record.originator, &certificate_id(&carried.certificate))
            && a.approved >= revoked
        {
            return Err(refuse(format!(
                "{} revoked {}'s release certificate from {revoked}; the approval is of {}",
                record.originator, d.holder, a.approved
            )));
        }
        if !verify_strict_raw(
            &d.delegate,
            &approval_message(&carried.approval.bytes),
            &carried.approval.signature,
        ) {
            return Err(refuse(format!(
                "the signature of {} does not verify (strict ed25519)",
                d.holder
            )));
        }
        seen.push(d.delegate);
    }
    Ok(())
}

/// The rules of a delegated key's record (docs/protocol.md §10): the certificate verifies
/// under the originator's registered agency key, is the originator's and names this key; the
/// record's agreement and category are among those delegated and its `created` time within
/// the certificate's window; and the agency has not revoked the certificate at or before
/// `created`.
fn check_delegation(
    envelope: &Envelope,
    signer: &PublicKey,
    record: &Record,
    registered: PublicKey,
    keys: &(impl KeyDirectory + ?Sized),
) -> Result<(), VerifyError> {
    let refuse = |reason: String| VerifyError::Delegation {
        originator: record.originator.to_string(),
        reason,
    };
    let cert = envelope
        .certificate()
        .ok_or_else(|| refuse("the envelope carries no certificate".into()))?;
    let d = verify_certificate(cert, |a| (*a == record.originator).then_some(registered))
        .map_err(|e| refuse(format!("certificate: {e}")))?;
    if d.agency != record.originator {
        return Err(refuse(format!(
            "the certificate is {}'s, not the originator's",
            d.agency
        )));
    }
    if d.delegate != *signer {
        return Err(refuse(format!(
            "the certificate delegates {}, not the signing key {signer}",
            d.delegate
        )));
    }
    if d.role != DelegateRole::Officer {
        return Err(refuse(format!(
            "the certificate of {} is a {}'s, whose key approves records and signs none",
            d.holder, d.role
        )));
    }
    if !d.covers_agreement(&record.agreement) {
        return Err(refuse(format!(
            "agreement {} is outside the delegation to {} (it covers {})",
            record.agreement,
            d.holder,
            d.agreements
                .iter()
                .map(AgreementId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if !d.covers_category(record.category) {
        return Err(refuse(format!(
            "category {} is outside the delegation to {}",
            record.category, d.holder
        )));
    }
    if !d.covers(record.created) {
        return Err(refuse(format!(
            "created {} is outside the delegation's validity, {} to {}",
            record.created, d.valid_from, d.valid_until
        )));
    }
    if let Some(revoked) = keys.revoked(&record.originator, &certificate_id(cert))
        && record.created >= revoked
    {
        return Err(refuse(format!(
            "{} revoked the delegation to {} from {revoked}; the record was created {}",
            record.originator, d.holder, record.created
        )));
    }
    Ok(())
}

/// Checks only the signature of `message` under `key` with `verify_strict`. For the
/// conformance suites and for protocol objects other than records.
pub fn verify_strict_raw(key: &PublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
    key.verifying_key()
        .verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}
