//! `accord publish` and `accord withdraw`: the agency's own records, through policy, signing,
//! self-verification, the store and a flush.

use std::path::Path;

use accord_protocol::{
    AgreementId, Record, RecordError, Seq, SignedRecord, Timestamp, Verified, VerifyError, sign,
    verify,
};
use anyhow::{Context, Result};
use thiserror::Error;

use super::node::{Node, now, refuse};
use crate::draft::{Draft, DraftError, parse_draft};
use crate::policy::{DenyReason, may_publish};

#[derive(Debug, Error)]
enum PublishError {
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error("refused by agreement policy: {0}")]
    Denied(DenyReason),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("the node's own signature does not verify: {0}")]
    Verify(#[from] VerifyError),
}

/// Publishes the draft in `file`.
pub fn publish(config: &Path, file: &Path) -> Result<()> {
    let node = Node::open(config)?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let draft = parse_draft(&bytes).map_err(|e| refuse(file.display(), e))?;
    let now = now()?;
    let id = publish_with(&node, &draft.agreement, now, |seq| {
        Ok(draft.clone().into_record(&node.cfg.agency, seq, now)?)
    })
    .map_err(|e| match e.downcast::<PublishError>() {
        Ok(e) => refuse(file.display(), e),
        Err(other) => other,
    })?;
    println!("{id}");
    Ok(())
}

/// Numbers, checks, signs, verifies and stores a record of this node's agency. `make` builds
/// the record for the seq the store assigns.
fn publish_with(
    node: &Node,
    agreement_id: &AgreementId,
    now: Timestamp,
    make: impl FnOnce(Seq) -> Result<Record, PublishError>,
) -> Result<accord_protocol::RecordId> {
    let key = node.key()?;
    let dir = node.directory(&key);
    let cfg = &node.cfg;
    // an agreement this node is not party to is refused before any seq is taken
    let Some(agreement) = cfg.agreements.get(agreement_id) else {
        let known: Vec<&str> = cfg.agreements.keys().map(|a| a.as_str()).collect();
        return Err(refuse(
            format!("agreement `{agreement_id}`"),
            format!(
                "{} is not party to it; its agreements are: {}",
                cfg.agency,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let stored = node.store.publish(
        agreement_id,
        now,
        |seq| -> Result<Verified<SignedRecord>, PublishError> {
            let record = make(seq)?;
            may_publish(&cfg.agency, agreement, &record, now)
                .into_result()
                .map_err(PublishError::Denied)?;
            let envelope = sign(&record, &key)?;
            Ok(verify(envelope, &dir)?)
        },
    )?;
    Ok(stored?)
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
    let now = now()?;
    let new = publish_with(&node, &t.agreement, now, |seq| {
        Ok(draft.clone().into_record(&node.cfg.agency, seq, now)?)
    })
    .map_err(|e| match e.downcast::<PublishError>() {
        Ok(e) => refuse(format!("withdrawal of {id}"), e),
        Err(other) => other,
    })?;
    println!("{new}");
    eprintln!("record {id} is withdrawn by {new}");
    Ok(())
}
