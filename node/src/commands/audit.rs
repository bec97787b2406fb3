//! `accord audit export|verify|checkpoint`: the signed audit log for auditors.

use std::path::{Path, PathBuf};

use anyhow::Result;

use accord_protocol::audit::Checkpoint;

use super::node::{Node, Opened, now};
use crate::Refused;
use crate::audit;
use crate::cli::AuditCommand;

/// Runs an `accord audit` command.
pub(super) fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Export {
            config,
            out,
            about: None,
        } => export(&config, &out),
        AuditCommand::Export {
            config,
            out,
            about: Some(about),
        } => export_about(&config, &out, &about),
        AuditCommand::Verify {
            dir,
            partners,
            bundles,
        } => verify(&dir, &partners, &bundles),
        AuditCommand::Checkpoint { config } => checkpoint(&config),
    }
}

/// Signs the head and writes the export directory: from the store, or made by the running
/// node (which also hands the new checkpoint to its partners at once).
fn export(config: &Path, out: &Path) -> Result<()> {
    let opened = Node::open_or_api(config)?;
    // refused before a checkpoint is signed for nothing
    refuse_non_empty(out)?;
    let built: audit::Built = match opened {
        Opened::Local(node) => {
            let key = node.key()?;
            audit::build(&node.store, &node.cfg, &key, now()?)?
        }
        Opened::Api(node) => node
            .client
            .post_json("/v1/audit/exports", &serde_json::json!({}))
            .map_err(|e| node.fail_op(e))?,
    };
    let summary = audit::write(out, &built)?;
    println!("{summary}");
    println!("verify it with: accord audit verify {}", out.display());
    Ok(())
}

/// Refuses an output directory that exists and is not empty, before anything is signed.
fn refuse_non_empty(out: &Path) -> Result<()> {
    if out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(anyhow::Error::new(audit::ExportError::NotEmpty(
            out.to_owned(),
        )));
    }
    Ok(())
}

/// Writes a partner-only export about `about` (from the store, or made by the running node).
fn export_about(config: &Path, out: &Path, about: &str) -> Result<()> {
    let about_id =
        accord_protocol::AgencyId::new(about).map_err(|e| super::node::refuse("--about", e))?;
    let opened = Node::open_or_api(config)?;
    refuse_non_empty(out)?;
    let built: audit::PartnerBuilt = match opened {
        Opened::Local(node) => {
            let key = node.key()?;
            audit::build_partner_only(&node.store, &node.cfg, &key, &about_id, now()?)
                .map_err(|e| super::node::refuse("audit export --about", e))?
        }
        Opened::Api(node) => node
            .client
            .post_json(
                "/v1/audit/partner-exports",
                &serde_json::json!({ "about": about }),
            )
            .map_err(|e| node.fail_op(e))?,
    };
    built.write(out)?;
    println!("{built}");
    println!(
        "an auditor checks {about}'s export with: accord audit verify <{about}'s export> \
         --partner {}",
        out.display()
    );
    Ok(())
}

/// Verifies an export and prints the report; a failure exits 1.
fn verify(dir: &Path, partners: &[PathBuf], bundles: &[PathBuf]) -> Result<()> {
    let mut progress =
        crate::progress::Progress::new("audit verify", "checks", audit::VERIFY_STEPS);
    let report = audit::verify_export_with(dir, partners, bundles, &mut |done, total| {
        progress.set(done, total)
    });
    progress.finish();
    println!("{report}");
    if report.is_ok() {
        Ok(())
    } else {
        Err(Refused.into())
    }
}

/// Signs the head now and prints the checkpoint: in the store when no node runs, else by the
/// running node through its API (which passes it to the members at once).
fn checkpoint(config: &Path) -> Result<()> {
    let (c, signed, through) = match Node::open_or_api(config)? {
        Opened::Local(node) => {
            let key = node.key()?;
            let (c, signed) = audit::checkpoint(&node.store, &node.cfg, &key, now()?)?;
            (c, signed, "")
        }
        Opened::Api(node) => {
            let signed = node
                .client
                .checkpoint()
                .map_err(|e| node.fail("audit checkpoint", e))?;
            let c: Checkpoint = serde_json::from_slice(&signed.bytes).map_err(|e| {
                anyhow::anyhow!("the node answered a checkpoint that does not read: {e}")
            })?;
            (c, signed, " (by the running node)")
        }
    };
    println!(
        "checkpoint of {}: {} entries, head {}, signed at {}{through}",
        c.agency, c.count, c.head, c.time
    );
    println!("{}", signed.to_line());
    Ok(())
}
