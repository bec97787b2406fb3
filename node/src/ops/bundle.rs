//! Exporting one agreement's records as a bundle (docs/bundle.md). The export's audit entry is
//! appended and flushed before the bundle's bytes are handed back, so no record is in a file
//! (or on its way to one through the API) before the log says so.

use accord_config::NodeConfig;
use accord_protocol::{AgreementId, Envelope, SecretKey, Timestamp};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::OpError;
use crate::bundle::{BundleTombstone, Export, write_bundle};
use crate::store::Store;

/// What `accord export` asks (`POST /v1/exports`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportRequest {
    /// The agreement whose records to export.
    pub agreement: String,
}

/// A bundle made, with its export entry durable in the audit log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bundle {
    /// The agreement.
    pub agreement: AgreementId,
    /// Records in it.
    pub records: usize,
    /// Tombstones in it.
    pub tombstones: usize,
    /// The bundle's bytes.
    #[serde(with = "super::base64_bytes")]
    pub bytes: Vec<u8>,
}

impl Bundle {
    /// What `accord export` prints once the file is written.
    pub fn summary(&self, out: &std::path::Path) -> String {
        format!(
            "exported {} record(s) and {} tombstone(s) under {} to {}",
            self.records,
            self.tombstones,
            self.agreement,
            out.display()
        )
    }
}

/// Builds the bundle of `agreement`'s records, then logs the export and flushes.
pub fn export(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    agreement: &str,
    now: Timestamp,
) -> Result<Bundle, OpError> {
    let agreement = AgreementId::new(agreement).map_err(|e| OpError::refused("--agreement", e))?;
    let Some(a) = cfg.agreements.get(&agreement) else {
        return Err(OpError::refused(
            format!("agreement `{agreement}`"),
            format!("{} is not party to it", cfg.agency),
        ));
    };
    let file = std::fs::read(&a.path)
        .with_context(|| format!("cannot read agreement file {}", a.path.display()))?;
    if <[u8; 32]>::from(Sha256::digest(&file)) != a.hash {
        return Err(OpError::Failed(anyhow::anyhow!(
            "{} changed since the configuration was loaded; restart the node (or run the \
             export again with the node stopped)",
            a.path.display()
        )));
    }
    let keys = crate::publish::directory(cfg, key);
    let records: Vec<Envelope> = store
        .queries()
        .records_under(&agreement)?
        .into_iter()
        .map(|r| r.envelope)
        .collect();
    let held = store.records().tombstones(Some(&agreement))?;
    // tombstones kept before accord recorded their stream find it in the sequence index
    let streams = if held.iter().any(|t| t.stream.is_none()) {
        store.records().tombstone_streams(&agreement)?
    } else {
        Default::default()
    };
    let tombstones = held
        .into_iter()
        .map(|t| {
            let stream = match t.stream {
                Some(s) => s,
                None => streams.get(&t.id).cloned().ok_or_else(|| {
                    anyhow::anyhow!("the stream of purged record {} cannot be found", t.id)
                })?,
            };
            let mut digest = [0u8; 32];
            hex::decode_to_slice(&t.envelope_sha256, &mut digest)
                .map_err(|_| anyhow::anyhow!("tombstone of {} holds a bad hash", t.id))?;
            Ok(BundleTombstone {
                id: t.id,
                agreement: t.agreement,
                originator: t.originator,
                seq: t.seq,
                stream: Some(stream),
                envelope_sha256: digest,
                purged_at: t.purged_at,
                reason: t.reason,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut bytes = Vec::new();
    write_bundle(
        &mut bytes,
        &Export {
            agreement_file: &file,
            exported_by: &cfg.agency,
            exported_at: now,
            keys: &keys,
            signatures: &a.signatures,
            records: &records,
            tombstones: &tombstones,
            rotations: &store.trust().rotations()?,
            revocations: &store.trust().revocations()?,
            signer: key,
        },
    )
    .context("cannot write the bundle")?;
    let event = accord_protocol::audit::AuditEvent::Export {
        agreement: agreement.clone(),
        records: records.len() as u64,
        bundle: accord_protocol::audit::sha256(&bytes),
        tombstones: Some(tombstones.len() as u64),
        version: Some(u64::from(crate::bundle::BUNDLE_VERSION)),
    };
    store.log().audit(now, vec![event])?;
    store.flush()?;
    tracing::info!(
        %agreement,
        records = records.len(),
        tombstones = tombstones.len(),
        "exported a bundle"
    );
    Ok(Bundle {
        agreement,
        records: records.len(),
        tombstones: tombstones.len(),
        bytes,
    })
}
