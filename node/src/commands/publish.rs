//! `accord publish` and `accord withdraw`: the agency's own records, through policy, signing,
//! self-verification, the store and a flush.

use std::path::Path;

use anyhow::{Context, Result};

use super::node::{Node, Opened, now, op_fail, refuse};
use crate::api::client::path_segment;
use crate::draft::parse_draft;
use crate::publish::{PublishError, publish_draft};

/// Publishes the draft in `file`. When `accord run` holds the store, the draft goes to the
/// running node's API, which refuses or publishes it exactly as this command would (and hands
/// it to the network at once).
pub(super) fn publish(config: &Path, file: &Path) -> Result<()> {
    let opened = Node::open_or_api(config)?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let draft = parse_draft(&bytes).map_err(|e| refuse(file.display(), e))?;
    let outcome = match opened {
        Opened::Local(node) => {
            let key = node.key()?;
            match publish_draft(&node.store, &node.cfg, &key, &draft, now()?) {
                Ok(id) => {
                    let seq = node.store.records().get(&id)?.map(|r| r.record.seq.get());
                    tracing::info!(%id, agreement = %draft.agreement, seq, "published");
                    Ok(id)
                }
                // the agreement's [release] clause covers it: held for releasers' approval
                Err(PublishError::NeedsRelease { .. }) => {
                    Err(
                        crate::release::hold(&node.store, &node.cfg, &draft, None, now()?)
                            .map_err(op_fail)?,
                    )
                }
                Err(e) => return Err(fail(file.display(), e)),
            }
        }
        Opened::Api(node) => {
            let outcome = node
                .client
                .publish(&bytes)
                .map_err(|e| node.fail(file.display(), e))?;
            // the running node numbered it; its own log names the seq
            if let Ok(id) = &outcome {
                tracing::info!(%id, agreement = %draft.agreement, api = %node.client.addr(), "published through the running node");
            }
            outcome
        }
    };
    match outcome {
        Ok(id) => println!("{id}"),
        Err(held) => {
            eprintln!(
                "held for release: agreement {} requires {} releaser approval(s) before this \
                 record leaves; `accord approvals` lists it",
                held.agreement, held.needed
            );
            println!("held {}", held.id);
        }
    }
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

/// Withdraws one of this agency's records with a signed withdrawal record: on the store, or
/// through the running node, which also delivers it at once.
pub(super) fn withdraw(config: &Path, id: &str, reason: &str) -> Result<()> {
    let done = match Node::open_or_api(config)? {
        Opened::Local(node) => {
            let (target, draft) =
                crate::ops::withdraw::draft(&node.store, &node.cfg, id, reason).map_err(op_fail)?;
            let key = node.key()?;
            let new = match publish_draft(&node.store, &node.cfg, &key, &draft, now()?) {
                Ok(new) => new,
                // a withdrawal the agreement's [release] clause covers waits for its releasers
                Err(PublishError::NeedsRelease { needed, .. }) => {
                    let held = crate::release::hold(&node.store, &node.cfg, &draft, None, now()?)
                        .map_err(op_fail)?;
                    return Err(refuse(
                        format!("withdrawal of {target}"),
                        format!(
                            "not sent yet, held for release as {}: agreement {} requires \
                             {needed} releaser approval(s) before it leaves (`accord approvals`)",
                            held.id, held.agreement
                        ),
                    ));
                }
                Err(e) => return Err(fail(format!("withdrawal of {target}"), e)),
            };
            tracing::info!(id = %new, withdraws = %target, agreement = %draft.agreement, "withdrawn");
            crate::ops::withdraw::Withdrawn {
                id: new,
                withdraws: target,
                agreement: draft.agreement,
            }
        }
        Opened::Api(node) => node
            .client
            .post_json(
                &format!("/v1/records/{}/withdraw", path_segment(id)),
                &crate::ops::withdraw::WithdrawRequest {
                    reason: reason.to_owned(),
                },
            )
            .map_err(|e| node.fail_op(e))?,
    };
    done.print();
    Ok(())
}
