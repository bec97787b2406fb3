//! `accord export` and `accord verify`: bundles for auditors.

use std::path::Path;

use anyhow::{Context, Result};

use super::node::{Node, Opened, now, op_fail};
use crate::bundle::verify_bundle_with;
use crate::progress::Progress;
use crate::{Refused, files};

/// Writes the bundle of one agreement's records, made from the store or by the running node.
/// The file is claimed (empty) first, so an existing one is refused before anything is
/// logged; the export's audit entry is durable before a byte of a record is in the file.
pub(super) fn export(config: &Path, agreement: &str, out: &Path) -> Result<()> {
    let opened = Node::open_or_api(config)?;
    files::create_private(out, &[])?;
    let made = match &opened {
        Opened::Local(node) => node
            .key()
            .map_err(crate::ops::OpError::Failed)
            .and_then(|key| {
                crate::ops::bundle::export(&node.store, &node.cfg, &key, agreement, now()?)
            })
            .map_err(op_fail),
        Opened::Api(node) => node
            .client
            .post_json(
                "/v1/exports",
                &crate::ops::bundle::ExportRequest {
                    agreement: agreement.to_owned(),
                },
            )
            .map_err(|e| node.fail_op(e)),
    };
    let bundle: crate::ops::bundle::Bundle = match made {
        Ok(b) => b,
        Err(e) => {
            // nothing was exported: the claimed file goes
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
    };
    write_with_progress(out, &bundle.bytes).with_context(|| {
        format!(
            "cannot write the bundle to {} (the export is already in the audit log)",
            out.display()
        )
    })?;
    println!("{}", bundle.summary(out));
    Ok(())
}

/// Writes the bundle into the file claimed for it, a MiB at a time with its progress, and
/// flushes it.
fn write_with_progress(out: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    const CHUNK: usize = 1 << 20;
    let mut file = std::fs::OpenOptions::new().write(true).open(out)?;
    let total = bytes.len().div_ceil(CHUNK) as u64;
    let mut progress = Progress::new("export", "MiB written", total);
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        file.write_all(chunk)?;
        progress.set(i as u64 + 1, total);
    }
    file.sync_all()?;
    progress.finish();
    Ok(())
}

/// Verifies a bundle offline and prints a verdict per record and a summary.
pub(super) fn verify(bundle: &Path) -> Result<()> {
    let bytes =
        std::fs::read(bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    let mut progress = Progress::new("verify", "records", 0);
    let report = verify_bundle_with(&bytes, &mut |done, total| progress.set(done, total));
    progress.finish();
    println!("{report}");
    if report.is_ok() {
        Ok(())
    } else {
        Err(Refused.into())
    }
}
