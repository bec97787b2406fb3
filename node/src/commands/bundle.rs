//! `accord export` and `accord verify`: bundles for auditors.

use std::path::Path;

use accord_protocol::{AgreementId, Envelope};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::node::{Node, now, refuse};
use crate::bundle::{BundleTombstone, Export, verify_bundle, write_bundle};
use crate::{Refused, files};

/// Writes the bundle of one agreement's records.
pub fn export(config: &Path, agreement: &str, out: &Path) -> Result<()> {
    let agreement = AgreementId::new(agreement).map_err(|e| refuse("--agreement", e))?;
    let node = Node::open(config)?;
    let Some(a) = node.cfg.agreements.get(&agreement) else {
        return Err(refuse(
            format!("agreement `{agreement}`"),
            format!("{} is not party to it", node.cfg.agency),
        ));
    };
    let file = std::fs::read(&a.path)
        .with_context(|| format!("cannot read agreement file {}", a.path.display()))?;
    if <[u8; 32]>::from(Sha256::digest(&file)) != a.hash {
        bail!(
            "{} changed since the configuration was loaded; run the export again",
            a.path.display()
        );
    }
    let key = node.key()?;
    let keys = crate::publish::directory(&node.cfg, &key);
    let records: Vec<Envelope> = node
        .store
        .records_under(&agreement)?
        .into_iter()
        .map(|r| r.envelope)
        .collect();
    let tombstones = node
        .store
        .tombstones(Some(&agreement))?
        .into_iter()
        .map(|t| {
            let mut digest = [0u8; 32];
            hex::decode_to_slice(&t.envelope_sha256, &mut digest)
                .map_err(|_| anyhow::anyhow!("tombstone of {} holds a bad hash", t.id))?;
            Ok(BundleTombstone {
                id: t.id,
                agreement: t.agreement,
                originator: t.originator,
                seq: t.seq,
                envelope_sha256: digest,
                purged_at: t.purged_at,
                reason: t.reason,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut buf = Vec::new();
    write_bundle(
        &mut buf,
        &Export {
            agreement_file: &file,
            exported_by: &node.cfg.agency,
            exported_at: now()?,
            keys: &keys,
            signatures: &a.signatures,
            records: &records,
            tombstones: &tombstones,
        },
    )?;
    // the export entry is durable before a byte of a record is in the file: the file is
    // claimed empty first (an existing one is refused), then logged and flushed, then written
    files::create_private(out, &[])?;
    let event = accord_protocol::audit::AuditEvent::Export {
        agreement: agreement.clone(),
        records: records.len() as u64,
        bundle: accord_protocol::audit::sha256(&buf),
    };
    node.store.audit(now()?, vec![event])?;
    node.store.flush()?;
    std::fs::write(out, &buf).with_context(|| {
        format!(
            "cannot write the bundle to {} (the export is already in the audit log)",
            out.display()
        )
    })?;
    tracing::info!(
        %agreement,
        records = records.len(),
        tombstones = tombstones.len(),
        out = %out.display(),
        "exported"
    );
    println!(
        "exported {} record(s) and {} tombstone(s) under {agreement} to {}",
        records.len(),
        tombstones.len(),
        out.display()
    );
    Ok(())
}

/// Verifies a bundle offline and prints a verdict per record and a summary.
pub fn verify(bundle: &Path) -> Result<()> {
    let bytes =
        std::fs::read(bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    let report = verify_bundle(&bytes);
    println!("{report}");
    if report.is_ok() {
        Ok(())
    } else {
        Err(Refused.into())
    }
}
