//! Writing a bundle: what `accord export` does with what the store holds.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use accord_config::{ConfigErrors, parse_agreement};
use accord_protocol::canonical::decode_record;
use accord_protocol::{
    AgencyId, AgreementId, Envelope, PublicKey, RecordError, RecordId, Seq, Timestamp,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use thiserror::Error;

use super::lines::{AgreementLine, AgreementSignatureLine, HeaderLine, KeyLine, Line, RecordLine};
use super::{AGREEMENT_FILE_NAME, BUNDLE_VERSION, BundleTombstone};

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
    /// The tombstones of records purged from under the agreement, in any order.
    pub tombstones: &'a [BundleTombstone],
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
    /// A line could not be encoded.
    #[error("cannot encode a bundle line: {0}")]
    Encode(#[from] serde_json::Error),
    /// Writing failed.
    #[error("cannot write the bundle: {0}")]
    Io(#[from] io::Error),
}

/// Writes `export` as a bundle to `out`: the header, the agreement file, one key per member
/// (sorted by agency), the records sorted by (originator, seq, id), then the tombstones sorted
/// the same way. Refuses records and tombstones of another agreement, unreadable records and a
/// missing member key, before writing anything.
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
    let mut records: Vec<(AgencyId, Seq, RecordId, &Envelope)> =
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
        records.push((record.originator, record.seq, id, envelope));
    }
    records.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    let mut tombstones: Vec<&BundleTombstone> = export.tombstones.iter().collect();
    if let Some(t) = tombstones.iter().find(|t| t.agreement != agreement.id) {
        return Err(BundleWriteError::OtherAgreement {
            what: "tombstone",
            id: t.id,
            found: t.agreement.clone(),
            agreement: agreement.id.clone(),
        });
    }
    tombstones.sort_by(|a, b| (&a.originator, a.seq, a.id).cmp(&(&b.originator, b.seq, b.id)));

    let header = HeaderLine {
        version: BUNDLE_VERSION,
        agreement: agreement.id.clone(),
        exported_by: export.exported_by.clone(),
        exported_at: export.exported_at,
        records: records.len() as u64,
        tombstones: tombstones.len() as u64,
    };
    write_line(out, &Line::Header(header))?;
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
    write_line(out, &Line::Agreement(file))?;
    for key in keys {
        write_line(out, &Line::Key(key))?;
    }
    for (_, _, id, envelope) in records {
        let line = RecordLine {
            id,
            envelope: B64.encode(envelope.encode()),
        };
        write_line(out, &Line::Record(line))?;
    }
    for tombstone in tombstones {
        write_line(out, &Line::Tombstone(tombstone.clone()))?;
    }
    out.flush()?;
    Ok(())
}

fn write_line(out: &mut impl Write, line: &Line) -> Result<(), BundleWriteError> {
    let mut bytes = serde_json::to_vec(line)?;
    bytes.push(b'\n');
    out.write_all(&bytes)?;
    Ok(())
}
