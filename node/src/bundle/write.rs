//! Writing a bundle: what `accord export` does with what the store holds.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use accord_config::{ConfigErrors, parse_agreement};
use accord_protocol::audit::Signed;
use accord_protocol::canonical::decode_record;
use accord_protocol::delegation::Revocation;
use accord_protocol::rotation::{RotationFile, SignedRotation, verify_rotation};
use accord_protocol::{
    AgencyId, AgreementId, Envelope, PublicKey, RecordError, RecordId, SecretKey, Seq, StreamId,
    Timestamp,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use thiserror::Error;

use super::lines::{
    AgreementLine, AgreementSignatureLine, HeaderLine, KeyLine, Line, RecordLine, RevocationLine,
    SignatureLine,
};
use super::{AGREEMENT_FILE_NAME, BUNDLE_DOMAIN, BUNDLE_VERSION, BundleTombstone, sha256};

/// What an export holds: one agreement's file, its members' keys, its records and tombstones.
#[derive(Debug, Clone, Copy)]
pub struct Export<'a> {
    /// The agreement file's exact bytes, as every member holds them.
    pub agreement_file: &'a [u8],
    /// The exporting agency.
    pub exported_by: &'a AgencyId,
    /// When the export was made.
    pub exported_at: Timestamp,
    /// Public keys by agency. Every member's key must be here; keys of others are left out.
    pub keys: &'a BTreeMap<AgencyId, PublicKey>,
    /// The members' signatures of the agreement file, as the node verified them.
    pub signatures: &'a BTreeMap<AgencyId, [u8; 64]>,
    /// The signed records shared under the agreement, exact bytes, in any order.
    pub records: &'a [Envelope],
    /// The tombstones of records purged from under the agreement, in any order; each must
    /// name its stream.
    pub tombstones: &'a [BundleTombstone],
    /// Key rotation statements held, of any agency: the members' are written.
    pub rotations: &'a [SignedRotation],
    /// Revocations of delegation certificates held, of any agency: the members' are written.
    pub revocations: &'a [Signed],
    /// The exporting agency's key, which signs the bundle; its public key must be the
    /// exporter's in `keys`.
    pub signer: &'a SecretKey,
}

/// Why a bundle could not be written.
#[derive(Debug, Error)]
pub enum BundleWriteError {
    /// The agreement file does not parse as an agreement.
    #[error("the agreement file is not a valid agreement:\n{0}")]
    Agreement(ConfigErrors),
    /// A member's key is missing.
    #[error(
        "no public key for {agency}, a member of agreement {agreement}; a bundle carries every \
         member's key"
    )]
    MissingKey {
        /// The member.
        agency: AgencyId,
        /// The agreement.
        agreement: AgreementId,
    },
    /// A record's bytes are not a record.
    #[error("record {id} cannot be read: {source}")]
    Record {
        /// The record's id.
        id: RecordId,
        /// What is wrong.
        source: RecordError,
    },
    /// A record or tombstone belongs to another agreement.
    #[error("{what} {id} is shared under agreement {found}, not under {agreement}")]
    OtherAgreement {
        /// `record` or `tombstone`.
        what: &'static str,
        /// Its id.
        id: RecordId,
        /// The agreement it names.
        found: AgreementId,
        /// The agreement exported.
        agreement: AgreementId,
    },
    /// A tombstone does not name its stream.
    #[error("tombstone {0} does not name its stream")]
    TombstoneStream(RecordId),
    /// The exporting agency is not a member, or the signing key is not its listed key.
    #[error("the bundle is signed by {agency}, which must be a member with the signing key listed")]
    Signer {
        /// The exporting agency.
        agency: AgencyId,
    },
    /// A line could not be encoded.
    #[error("cannot encode a bundle line: {0}")]
    Encode(#[from] serde_json::Error),
    /// Writing failed.
    #[error("cannot write the bundle: {0}")]
    Io(#[from] io::Error),
}

/// Writes `export` as a version-2 bundle to `out`: the header, the agreement file, one key per
/// member (sorted by agency), the members' key rotations (by agency, then `since`) and
/// revocations (by agency, then certificate id), the records sorted by (stream, seq, id), the
/// tombstones sorted the same way, and last the exporting agency's signature of every byte
/// before it. Refuses records and tombstones of another agreement, unreadable records, a
/// tombstone without its stream, a missing member key and a signer that is not the exporting
/// member's listed key, before writing anything.
pub fn write_bundle(out: &mut impl Write, export: &Export<'_>) -> Result<(), BundleWriteError> {
    let agreement = parse_agreement(Path::new(AGREEMENT_FILE_NAME), export.agreement_file)
        .map_err(BundleWriteError::Agreement)?;
    let mut keys = Vec::with_capacity(agreement.members.len());
    for member in &agreement.members {
        let public_key =
            export
                .keys
                .get(member)
                .copied()
                .ok_or_else(|| BundleWriteError::MissingKey {
                    agency: member.clone(),
                    agreement: agreement.id.clone(),
                })?;
        keys.push(KeyLine {
            agency: member.clone(),
            public_key,
        });
    }
    keys.sort_by(|a, b| a.agency.cmp(&b.agency));
    if export.keys.get(export.exported_by) != Some(&export.signer.public_key())
        || !agreement.is_member(export.exported_by)
    {
        return Err(BundleWriteError::Signer {
            agency: export.exported_by.clone(),
        });
    }
    let mut records: Vec<(StreamId, Seq, RecordId, &Envelope)> =
        Vec::with_capacity(export.records.len());
    for envelope in export.records {
        let id = envelope.id();
        let record = decode_record(envelope.record_bytes())
            .map_err(|source| BundleWriteError::Record { id, source })?;
        if record.agreement != agreement.id {
            return Err(BundleWriteError::OtherAgreement {
                what: "record",
                id,
                found: record.agreement,
                agreement: agreement.id.clone(),
            });
        }
        records.push((envelope.stream_of(&record), record.seq, id, envelope));
    }
    records.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    let mut tombstones = Vec::with_capacity(export.tombstones.len());
    for t in export.tombstones {
        if t.agreement != agreement.id {
            return Err(BundleWriteError::OtherAgreement {
                what: "tombstone",
                id: t.id,
                found: t.agreement.clone(),
                agreement: agreement.id.clone(),
            });
        }
        let stream = t
            .stream
            .clone()
            .ok_or(BundleWriteError::TombstoneStream(t.id))?;
        tombstones.push((stream, t));
    }
    tombstones.sort_by(|a, b| (&a.0, a.1.seq, a.1.id).cmp(&(&b.0, b.1.seq, b.1.id)));
    let rotations = member_rotations(export.rotations, &agreement);
    let revocations = member_revocations(export.revocations, &agreement);

    let mut bytes = Vec::new();
    let header = HeaderLine {
        version: BUNDLE_VERSION,
        agreement: agreement.id.clone(),
        exported_by: export.exported_by.clone(),
        exported_at: export.exported_at,
        records: records.len() as u64,
        tombstones: tombstones.len() as u64,
        rotations: Some(rotations.len() as u64),
        revocations: Some(revocations.len() as u64),
    };
    push_line(&mut bytes, &Line::Header(header))?;
    let file = AgreementLine {
        sha256: agreement.hash,
        file: B64.encode(export.agreement_file),
        signatures: export
            .signatures
            .iter()
            .filter(|(a, _)| agreement.is_member(a))
            .map(|(a, sig)| AgreementSignatureLine {
                agency: a.clone(),
                signature: hex::encode(sig),
            })
            .collect(),
    };
    push_line(&mut bytes, &Line::Agreement(file))?;
    for key in keys {
        push_line(&mut bytes, &Line::Key(key))?;
    }
    for (_, _, rotation) in rotations {
        push_line(&mut bytes, &Line::Rotation(RotationFile::from(rotation)))?;
    }
    for (_, _, revocation) in revocations {
        let line = RevocationLine {
            revocation: String::from_utf8_lossy(&revocation.bytes).into_owned(),
            signature: hex::encode(revocation.signature),
        };
        push_line(&mut bytes, &Line::Revocation(line))?;
    }
    for (_, _, id, envelope) in records {
        let line = RecordLine {
            id,
            envelope: B64.encode(envelope.encode()),
        };
        push_line(&mut bytes, &Line::Record(line))?;
    }
    for (stream, tombstone) in tombstones {
        let mut t = tombstone.clone();
        t.stream = Some(stream);
        push_line(&mut bytes, &Line::Tombstone(t))?;
    }
    let digest = sha256(&bytes);
    let signature = export.signer.sign_tagged(BUNDLE_DOMAIN, &digest);
    let line = SignatureLine {
        agency: export.exported_by.clone(),
        sha256: digest,
        signature: hex::encode(signature),
    };
    push_line(&mut bytes, &Line::Signature(line))?;
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(())
}

/// The members' rotation statements whose own signatures verify, sorted by (agency, since,
/// statement bytes). The verifier judges them (attestations, the chain); the writer only
/// leaves out what is not the members'.
fn member_rotations<'a>(
    rotations: &'a [SignedRotation],
    agreement: &accord_config::Agreement,
) -> Vec<(AgencyId, Timestamp, &'a SignedRotation)> {
    let mut out: Vec<_> = rotations
        .iter()
        .filter_map(|s| {
            let r = verify_rotation(s).ok()?;
            agreement
                .is_member(&r.agency)
                .then_some((r.agency, r.since, s))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, a.1, &a.2.statement).cmp(&(&b.0, b.1, &b.2.statement)));
    out.dedup_by(|a, b| a.2.statement == b.2.statement);
    out
}

/// The members' revocations, sorted by (agency, certificate id).
fn member_revocations<'a>(
    revocations: &'a [Signed],
    agreement: &accord_config::Agreement,
) -> Vec<(AgencyId, [u8; 32], &'a Signed)> {
    let mut out: Vec<_> = revocations
        .iter()
        .filter_map(|s| {
            // read without the key: the node verified it when it kept it
            let r: Revocation = serde_json::from_slice(&s.bytes).ok()?;
            agreement
                .is_member(&r.agency)
                .then_some((r.agency, r.certificate.0, s))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    out
}

fn push_line(bytes: &mut Vec<u8>, line: &Line) -> Result<(), BundleWriteError> {
    serde_json::to_writer(&mut *bytes, line)?;
    bytes.push(b'\n');
    Ok(())
}
