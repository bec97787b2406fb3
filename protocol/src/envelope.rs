//! The signed envelope: the exact record bytes, the key that signed them and the signature.
//!
//! Layout (all integers big-endian), documented in `docs/protocol.md`:
//!
//! ```text
//! offset  size  field
//! 0       4     magic "ACRD" (0x41 0x43 0x52 0x44)
//! 4       1     envelope version, 1
//! 5       1     signer kind: 1 = the originator's agency key, 2 = a delegated key
//! 6       32    signer public key
//! 38      64    ed25519 signature over SIGNING_DOMAIN || record bytes
//! 102     4     record length n (1 ..= 65536)
//! 106     n     record bytes: canonical JSON
//! ```
//!
//! Signer kind 2 puts the delegation certificate between the signature and the record length:
//! `len u16 (1 ..= 4096) | certificate | the agency's signature of it (64)`.
//!
//! Envelope version 2 is version 1 followed by the releasers' approvals (docs/protocol.md §13):
//! `count u8 (1 ..= 4)`, then per approval `len u16 (1 ..= 512) | approval | the releaser's
//! signature (64) | len u16 (1 ..= 4096) | certificate | the agency's signature of it (64)`.
//! An envelope without approvals is always written as version 1.
//!
//! The signer is outside the record so that delegated keys (liaison officers, devices) sign
//! with a certificate from the agency key without changing the record format or its id.

use sha2::{Digest, Sha256};

use crate::approval::{CarriedApproval, MAX_APPROVAL_BYTES, MAX_APPROVALS};
use crate::audit::Signed;
use crate::canonical::{MAX_RECORD_BYTES, encode_record};
use crate::delegation::MAX_CERTIFICATE_BYTES;
use crate::error::{EnvelopeError, RecordError};
use crate::ids::RecordId;
use crate::keys::{PublicKey, SecretKey};
use crate::record::Record;

/// The domain tag prefixed to record bytes before signing and hashing: ASCII
/// `accord/record/v1` and a zero byte.
pub const SIGNING_DOMAIN: &[u8] = b"accord/record/v1\0";
/// The envelope's first four bytes.
pub const ENVELOPE_MAGIC: [u8; 4] = *b"ACRD";
/// The envelope version of an envelope without approvals.
pub const ENVELOPE_VERSION: u8 = 1;
/// The envelope version of an envelope carrying approvals.
pub const ENVELOPE_VERSION_APPROVED: u8 = 2;
/// Bytes one carried approval may take at most.
const MAX_CARRIED_APPROVAL_BYTES: usize =
    2 + MAX_APPROVAL_BYTES + 64 + 2 + MAX_CERTIFICATE_BYTES + 64;
/// Bytes before the record in a version-1 agency-key envelope.
pub const ENVELOPE_HEADER_LEN: usize = 106;
/// Largest envelope accepted: a delegated-key envelope with the longest certificate.
pub const MAX_ENVELOPE_BYTES: usize = ENVELOPE_HEADER_LEN
    + 2
    + MAX_CERTIFICATE_BYTES
    + 64
    + MAX_RECORD_BYTES
    + 1
    + MAX_APPROVALS * MAX_CARRIED_APPROVAL_BYTES;

/// Who signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The originator's own agency key (signer kind 1).
    Agency(PublicKey),
    /// A key the originator's agency delegated with a certificate (signer kind 2); the
    /// certificate travels in the envelope ([`Envelope::certificate`]).
    Delegate(PublicKey),
}

impl Signer {
    /// The wire code of the signer kind.
    pub fn kind_code(&self) -> u8 {
        match self {
            Signer::Agency(_) => 1,
            Signer::Delegate(_) => 2,
        }
    }

    /// The signing key.
    pub fn key(&self) -> &PublicKey {
        match self {
            Signer::Agency(k) | Signer::Delegate(k) => k,
        }
    }
}

/// A signed record as it travels and is stored. Decoding checks only the layout; a record is
/// trusted only once [`crate::verify::verify`] returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    signer: Signer,
    signature: [u8; 64],
    /// The delegation certificate of a [`Signer::Delegate`] envelope.
    certificate: Option<Signed>,
    record_bytes: Vec<u8>,
    /// Releasers' approvals (envelope version 2); empty in a version-1 envelope.
    approvals: Vec<CarriedApproval>,
}

/// The message an originator signs: [`SIGNING_DOMAIN`] followed by the record bytes.
pub fn signed_message(record_bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_DOMAIN.len() + record_bytes.len());
    m.extend_from_slice(SIGNING_DOMAIN);
    m.extend_from_slice(record_bytes);
    m
}

/// The id of record bytes: SHA-256 over the signed message.
pub fn record_id(record_bytes: &[u8]) -> RecordId {
    let mut h = Sha256::new();
    h.update(SIGNING_DOMAIN);
    h.update(record_bytes);
    RecordId::from_bytes(h.finalize().into())
}

/// Validates `record`, encodes it canonically and signs it with the agency key.
pub fn sign(record: &Record, key: &SecretKey) -> Result<Envelope, RecordError> {
    record.validate()?;
    let record_bytes = encode_record(record)?;
    let signature = key.sign_raw(&signed_message(&record_bytes));
    Ok(Envelope {
        signer: Signer::Agency(key.public_key()),
        signature,
        certificate: None,
        record_bytes,
        approvals: Vec::new(),
    })
}

/// Validates `record`, encodes it canonically and signs it with a delegated key, carrying the
/// agency's certificate for that key (signer kind 2). Whether the record is within the
/// certificate's scope is checked by [`crate::verify::verify`], not here.
pub fn sign_delegated(
    record: &Record,
    key: &SecretKey,
    certificate: Signed,
) -> Result<Envelope, RecordError> {
    record.validate()?;
    if certificate.bytes.is_empty() || certificate.bytes.len() > MAX_CERTIFICATE_BYTES {
        return Err(RecordError::Malformed(format!(
            "a delegation certificate is 1 to {MAX_CERTIFICATE_BYTES} bytes"
        )));
    }
    let record_bytes = encode_record(record)?;
    let signature = key.sign_raw(&signed_message(&record_bytes));
    Ok(Envelope {
        signer: Signer::Delegate(key.public_key()),
        signature,
        certificate: Some(certificate),
        record_bytes,
        approvals: Vec::new(),
    })
}

impl Envelope {
    /// Assembles an agency-key envelope from parts (for tests and tools that build envelopes by
    /// hand). A [`Signer::Delegate`] here has no certificate and fails verification; use
    /// [`Envelope::from_delegated_parts`].
    pub fn from_parts(signer: Signer, signature: [u8; 64], record_bytes: Vec<u8>) -> Self {
        Self {
            signer,
            signature,
            certificate: None,
            record_bytes,
            approvals: Vec::new(),
        }
    }

    /// Assembles a delegated-key envelope from parts.
    pub fn from_delegated_parts(
        key: PublicKey,
        signature: [u8; 64],
        certificate: Signed,
        record_bytes: Vec<u8>,
    ) -> Self {
        Self {
            signer: Signer::Delegate(key),
            signature,
            certificate: Some(certificate),
            record_bytes,
            approvals: Vec::new(),
        }
    }

    /// The same envelope carrying `approvals` in place of any it carried (1 to
    /// [`MAX_APPROVALS`], each part within its length; none makes a version-1 envelope again).
    /// Whether they verify is checked by [`crate::verify::verify`], not here.
    pub fn with_approvals(
        mut self,
        approvals: Vec<CarriedApproval>,
    ) -> Result<Self, EnvelopeError> {
        if approvals.len() > MAX_APPROVALS {
            return Err(EnvelopeError::TooLarge {
                what: "approval count",
                size: approvals.len(),
                max: MAX_APPROVALS,
            });
        }
        for a in &approvals {
            for (what, bytes, max) in [
                ("approval", &a.approval.bytes, MAX_APPROVAL_BYTES),
                (
                    "releaser certificate",
                    &a.certificate.bytes,
                    MAX_CERTIFICATE_BYTES,
                ),
            ] {
                if bytes.is_empty() {
                    return Err(EnvelopeError::Approvals(format!(
                        "{what} is empty; it is 1 to {max} bytes"
                    )));
                }
                if bytes.len() > max {
                    return Err(EnvelopeError::TooLarge {
                        what,
                        size: bytes.len(),
                        max,
                    });
                }
            }
        }
        self.approvals = approvals;
        Ok(self)
    }

    /// The releasers' approvals the envelope carries (none in a version-1 envelope).
    pub fn approvals(&self) -> &[CarriedApproval] {
        &self.approvals
    }

    /// The envelope version its bytes carry: 2 with approvals, 1 without.
    pub fn version(&self) -> u8 {
        if self.approvals.is_empty() {
            ENVELOPE_VERSION
        } else {
            ENVELOPE_VERSION_APPROVED
        }
    }

    /// The sequence stream of `record` (this envelope's record): the originator's own stream,
    /// or its delegated key's.
    pub fn stream_of(&self, record: &Record) -> crate::ids::StreamId {
        match &self.signer {
            Signer::Agency(_) => crate::ids::StreamId::agency(&record.originator),
            Signer::Delegate(k) => crate::ids::StreamId::delegated(&record.originator, k),
        }
    }

    /// The delegation certificate a [`Signer::Delegate`] envelope carries.
    pub fn certificate(&self) -> Option<&Signed> {
        self.certificate.as_ref()
    }

    /// The signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The 64 signature bytes (R || S).
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The exact record bytes that were signed.
    pub fn record_bytes(&self) -> &[u8] {
        &self.record_bytes
    }

    /// The record id: SHA-256 over [`SIGNING_DOMAIN`] and the record bytes.
    pub fn id(&self) -> RecordId {
        record_id(&self.record_bytes)
    }

    /// Length of [`Envelope::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        ENVELOPE_HEADER_LEN
            + self
                .certificate
                .as_ref()
                .map_or(0, |c| 2 + c.bytes.len() + 64)
            + self.record_bytes.len()
            + if self.approvals.is_empty() {
                0
            } else {
                1 + self
                    .approvals
                    .iter()
                    .map(|a| 2 + a.approval.bytes.len() + 64 + 2 + a.certificate.bytes.len() + 64)
                    .sum::<usize>()
            }
    }

    /// The envelope's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the envelope's bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&ENVELOPE_MAGIC);
        out.push(self.version());
        out.push(self.signer.kind_code());
        out.extend_from_slice(self.signer.key().as_bytes());
        out.extend_from_slice(&self.signature);
        if let Signer::Delegate(_) = self.signer {
            let (bytes, sig): (&[u8], [u8; 64]) = match &self.certificate {
                Some(c) => (&c.bytes, c.signature),
                None => (&[], [0; 64]),
            };
            out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            out.extend_from_slice(bytes);
            out.extend_from_slice(&sig);
        }
        // The record length is bounded by MAX_RECORD_BYTES when built through `sign` or `decode`.
        out.extend_from_slice(&(self.record_bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.record_bytes);
        if !self.approvals.is_empty() {
            // at most MAX_APPROVALS, each part within its u16 length (`with_approvals`)
            out.push(self.approvals.len() as u8);
            for a in &self.approvals {
                for part in [&a.approval, &a.certificate] {
                    out.extend_from_slice(&(part.bytes.len() as u16).to_be_bytes());
                    out.extend_from_slice(&part.bytes);
                    out.extend_from_slice(&part.signature);
                }
            }
        }
    }

    /// Parses envelope bytes. Refuses a wrong magic or version, an unknown signer kind, a weak
    /// or invalid key, a record or certificate length of 0 ([`EnvelopeError::EmptyRecord`],
    /// [`EnvelopeError::EmptyCertificate`]) or above its maximum, truncation and trailing
    /// bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let take = |offset: usize, n: usize| -> Result<&[u8], EnvelopeError> {
            bytes
                .get(offset..offset + n)
                .ok_or(EnvelopeError::Truncated {
                    offset,
                    needed: n,
                    available: bytes.len().saturating_sub(offset),
                })
        };
        let mut magic = [0u8; 4];
        magic.copy_from_slice(take(0, 4)?);
        if magic != ENVELOPE_MAGIC {
            return Err(EnvelopeError::Magic {
                found: magic,
                expected: ENVELOPE_MAGIC,
            });
        }
        let version = take(4, 1)?[0];
        if version != ENVELOPE_VERSION && version != ENVELOPE_VERSION_APPROVED {
            return Err(EnvelopeError::Version(version));
        }
        let kind = take(5, 1)?[0];
        if kind != 1 && kind != 2 {
            return Err(EnvelopeError::SignerKind(kind));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(take(6, 32)?);
        let key = PublicKey::from_bytes(&key)?;
        let mut signature = [0u8; 64];
        signature.copy_from_slice(take(38, 64)?);
        let mut at = 102;
        let (signer, certificate) = if kind == 1 {
            (Signer::Agency(key), None)
        } else {
            let mut n = [0u8; 2];
            n.copy_from_slice(take(at, 2)?);
            let n = usize::from(u16::from_be_bytes(n));
            if n == 0 {
                return Err(EnvelopeError::EmptyCertificate {
                    max: MAX_CERTIFICATE_BYTES,
                });
            }
            if n > MAX_CERTIFICATE_BYTES {
                return Err(EnvelopeError::TooLarge {
                    what: "delegation certificate",
                    size: n,
                    max: MAX_CERTIFICATE_BYTES,
                });
            }
            let cert = take(at + 2, n)?.to_vec();
            let mut cert_sig = [0u8; 64];
            cert_sig.copy_from_slice(take(at + 2 + n, 64)?);
            at += 2 + n + 64;
            (
                Signer::Delegate(key),
                Some(Signed {
                    bytes: cert,
                    signature: cert_sig,
                }),
            )
        };
        let mut len = [0u8; 4];
        len.copy_from_slice(take(at, 4)?);
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 {
            return Err(EnvelopeError::EmptyRecord {
                max: MAX_RECORD_BYTES,
            });
        }
        if len > MAX_RECORD_BYTES {
            return Err(EnvelopeError::TooLarge {
                what: "record",
                size: len,
                max: MAX_RECORD_BYTES,
            });
        }
        let record_bytes = take(at + 4, len)?.to_vec();
        at += 4 + len;
        let mut approvals = Vec::new();
        if version == ENVELOPE_VERSION_APPROVED {
            let count = usize::from(take(at, 1)?[0]);
            if count == 0 || count > MAX_APPROVALS {
                return Err(EnvelopeError::Approvals(format!(
                    "a version-2 envelope carries 1 to {MAX_APPROVALS} approvals, not {count}"
                )));
            }
            at += 1;
            for _ in 0..count {
                let mut part = |what: &'static str, max: usize| -> Result<Signed, EnvelopeError> {
                    let mut n = [0u8; 2];
                    n.copy_from_slice(take(at, 2)?);
                    let n = usize::from(u16::from_be_bytes(n));
                    if n == 0 {
                        return Err(EnvelopeError::Approvals(format!(
                            "{what} length is 0; it is 1 to {max} bytes"
                        )));
                    }
                    if n > max {
                        return Err(EnvelopeError::TooLarge { what, size: n, max });
                    }
                    let body = take(at + 2, n)?.to_vec();
                    let mut sig = [0u8; 64];
                    sig.copy_from_slice(take(at + 2 + n, 64)?);
                    at += 2 + n + 64;
                    Ok(Signed {
                        bytes: body,
                        signature: sig,
                    })
                };
                let approval = part("approval", MAX_APPROVAL_BYTES)?;
                let certificate = part("releaser certificate", MAX_CERTIFICATE_BYTES)?;
                approvals.push(CarriedApproval {
                    approval,
                    certificate,
                });
            }
        }
        let trailing = bytes.len() - at;
        if trailing != 0 {
            return Err(EnvelopeError::Trailing(trailing));
        }
        Ok(Self {
            signer,
            signature,
            certificate,
            record_bytes,
            approvals,
        })
    }
}
