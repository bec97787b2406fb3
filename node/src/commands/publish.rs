//! `accord publish` and `accord withdraw`: the agency's own records, through policy, signing,
//! self-verification, the store and a flush.

use std::path::Path;

use anyhow::{Context, Result};

use super::node::{Node, Opened, now, refuse};
use crate::draft::{Draft, parse_draft};
use crate::publish::{PublishError, publish_draft};

/// Publishes the draft in `file`. When `accord run` holds the store, the draft goes to the
/// running node's API, which refuses or publishes it exactly as this command would (and hands
/// it to the network at once).
pub fn publish(config: &Path, file: &Path) -> Result<()> {
    let opened = Node::open_or_api(config)?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let draft = parse_draft(&bytes).map_err(|e| refuse(file.display(), e))?;
    let id = match opened {
        Opened::Local(node) => {
            let key = node.key()?;
            let id = publish_draft(&node.store, &node.cfg, &key, &draft, now()?)
                .map_err(|e| fail(file.display(), e))?;
            let seq = node.store.get(&id)?.map(|r| r.record.seq.get());
            tracing::info!(%id, agreement = %draft.agreement, seq, "published");
            id
        }
        Opened::Api(node) => {
            let id = node
                .client
                .publish(&bytes)
                .map_err(|e| node.fail(file.display(), e))?;
            // the running node numbered it; its own log names the seq
            tracing::info!(%id, agreement = %draft.agreement, api = %node.client.addr(), "published through the running node");
            id
        }
    };
    println!("{id}");
    Ok(())
}

/// A refusal for the input's faults, an error for the node's.
fn fail(what: impl std::fmt::Display, e: PublishError) -> anyhow::Error {
    if e.is_refusal() {
        refuse(what, e)
    } else {
        anyhow::Error::new(e)
    }
}

/// Withdraws one of this agency's records with a signed withdrawal record.
pub fn withdraw(config: &Path, id: &str, reason: &str) -> Result<()> {
    let node = Node::open(config)?;
    let id = node.resolve(id)?;
    let Some(target) = node.store.get(&id)? else {
        return Err(refuse(
            format!("record {id}"),
            "it has been purged; only its tombstone remains",
        ));
    };
    let t = &target.record;
    if t.originator != node.cfg.agency {
        return Err(refuse(
            format!("record {id}"),
            format!(
                "it was published by {}; only its originator can withdraw it",
                t.originator
            ),
        ));
    }
    if let Some(by) = node.store.withdrawn_by(&id)? {
        return Err(refuse(
            format!("record {id}"),
            format!("it is already withdrawn by {by}"),
        ));
    }
    if t.withdraws.is_some() {
        return Err(refuse(format!("record {id}"), "it is itself a withdrawal"));
    }
    let draft = Draft {
        originator: None,
        agreement: t.agreement.clone(),
        category: t.category,
        handling: t.handling,
        handling_restriction: t.handling_restriction.clone(),
        grading: t.grading,
        created: None,
        expires: None,
        subjects: vec![],
        route: vec![],
        summary: reason.trim().to_owned(),
        victim_data_purpose: None,
        corrects: None,
        withdraws: Some(id),
        responds_to: t.responds_to,
        addressed_to: t.addressed_to.clone(),
        return_status: t.return_status,
    };
    let key = node.key()?;
    let new = publish_draft(&node.store, &node.cfg, &key, &draft, now()?)
        .map_err(|e| fail(format!("withdrawal of {id}"), e))?;
    let seq = node.store.get(&new)?.map(|r| r.record.seq.get());
    tracing::info!(id = %new, withdraws = %id, agreement = %t.agreement, seq, "withdrawn");
    println!("{new}");
    eprintln!("record {id} is withdrawn by {new}");
    Ok(())
}
