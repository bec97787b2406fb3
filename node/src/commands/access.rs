//! What the workflow commands (`request`, `respond`, `requests`, `return`, `returns`,
//! `report`) share: the records the node holds and publishing a draft, from the store or,
//! while `accord run` holds it, through the running node's API.

use std::path::Path;

use accord_config::{Agreement, NodeConfig};
use accord_protocol::{AgreementId, RecordId, Subject};
use anyhow::{Context, Result};

use super::node::{Node, Opened, refuse};
use crate::api::client::Lookup;
use crate::api::view::Filters;
use crate::clock;
use crate::draft::Draft;
use crate::publish::publish_draft;
use crate::workflow::{Held, Holdings};

/// The node's store, or the running node that holds it.
pub(super) struct Access(Opened);

impl Access {
    /// Opens the store, or finds the running node's API.
    pub(super) fn open(config: &Path) -> Result<Self> {
        Ok(Self(Node::open_or_api(config)?))
    }

    /// The configuration.
    pub(super) fn cfg(&self) -> &NodeConfig {
        match &self.0 {
            Opened::Local(node) => &node.cfg,
            Opened::Api(node) => &node.cfg,
        }
    }

    /// Every record held.
    pub(super) fn holdings(&self) -> Result<Holdings> {
        match &self.0 {
            Opened::Local(node) => Ok(Holdings::of_store(&node.store)?),
            Opened::Api(node) => {
                let views = node
                    .client
                    .query_all(&Filters::default())
                    .map_err(|e| node.fail("records", e))?;
                let mut held = Vec::with_capacity(views.len());
                for v in views {
                    held.push(Held {
                        id: v.id,
                        record: v.parsed()?,
                        source: v.source,
                    });
                }
                Ok(Holdings::new(held))
            }
        }
    }

    /// The record id a full id or unique prefix names (`what` names it in a refusal).
    pub(super) fn resolve(&self, text: &str, what: &str) -> Result<RecordId> {
        match &self.0 {
            Opened::Local(node) => node.resolve(text).map_err(|e| refuse(what, e)),
            Opened::Api(node) => match node.client.record(text).map_err(|e| node.fail(what, e))? {
                Lookup::Found(view) => Ok(view.id),
                Lookup::Purged(t) => Err(refuse(
                    format!("{what} {}", t.id),
                    format!("it was purged at {} ({})", t.purged_at, t.reason),
                )),
            },
        }
    }

    /// Publishes a draft; a refusal names `what`. A draft the agreement's `[release]` clause
    /// covers is held for releasers' approval instead, and said so as a refusal naming the
    /// held draft (nothing was published).
    pub(super) fn publish(&self, draft: &Draft, what: impl std::fmt::Display) -> Result<RecordId> {
        let held = match &self.0 {
            Opened::Local(node) => {
                let key = node.key()?;
                match publish_draft(&node.store, &node.cfg, &key, draft, clock::now()) {
                    Ok(id) => return Ok(id),
                    Err(crate::publish::PublishError::NeedsRelease { .. }) => {
                        crate::release::hold(&node.store, &node.cfg, draft, None, clock::now())
                            .map_err(super::node::op_fail)?
                    }
                    Err(e) if e.is_refusal() => return Err(refuse(what, e)),
                    Err(e) => return Err(anyhow::Error::new(e)),
                }
            }
            Opened::Api(node) => {
                let bytes = serde_json::to_vec(draft)?;
                match node
                    .client
                    .publish(&bytes)
                    .map_err(|e| node.fail(&what, e))?
                {
                    Ok(id) => return Ok(id),
                    Err(held) => held,
                }
            }
        };
        Err(refuse(
            what,
            format!(
                "held for release as {}: agreement {} requires {} releaser approval(s) before \
                 it leaves (`accord approvals`)",
                held.id, held.agreement, held.needed
            ),
        ))
    }
}

/// The agreement `id` among the node's, or a refusal naming the ones it has.
pub(super) fn agreement<'a>(cfg: &'a NodeConfig, id: &AgreementId) -> Result<&'a Agreement> {
    cfg.agreements.get(id).ok_or_else(|| {
        let known: Vec<&str> = cfg.agreements.keys().map(|a| a.as_str()).collect();
        refuse(
            format!("agreement `{id}`"),
            format!(
                "{} is not party to it; its agreements are: {}",
                cfg.agency,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        )
    })
}

/// Subjects from a JSON file holding an array of them (docs/records.md), or none.
pub(super) fn read_subjects(file: Option<&Path>) -> Result<Vec<Subject>> {
    let Some(file) = file else {
        return Ok(vec![]);
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let subjects: Vec<Subject> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        refuse(
            file.display(),
            format!("not a JSON array of subjects: `{path}`: {}", e.into_inner()),
        )
    })?;
    de.end().map_err(|e| refuse(file.display(), e))?;
    Ok(subjects)
}
