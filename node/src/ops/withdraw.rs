//! Withdrawing one of this agency's records: the withdrawal draft, checked against what the
//! store holds. Publishing it is the one publish path (`publish::publish_draft` offline, the
//! node's handle when it runs, which also hands it to the network).

use accord_config::NodeConfig;
use accord_protocol::{AgreementId, RecordId};
use serde::{Deserialize, Serialize};

use super::OpError;
use crate::api::view::{ResolveError, resolve};
use crate::draft::Draft;
use crate::store::Store;

/// What `accord withdraw` asks (`POST /v1/records/{id}/withdraw` carries `reason`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct WithdrawRequest {
    /// Why; the withdrawal record's summary.
    pub reason: String,
}

/// A record withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Withdrawn {
    /// The withdrawal record.
    pub id: RecordId,
    /// The record it withdraws.
    pub withdraws: RecordId,
    /// Their agreement.
    pub agreement: AgreementId,
}

impl Withdrawn {
    /// Prints it as `accord withdraw` does: the new id on stdout, what happened on stderr.
    pub(crate) fn print(&self) {
        println!("{}", self.id);
        eprintln!("record {} is withdrawn by {}", self.withdraws, self.id);
    }
}

/// The record `text` (an id or unique prefix) names, and the draft that withdraws it: refused
/// when it is purged, another agency's, already withdrawn, or itself a withdrawal.
pub(crate) fn draft(
    store: &Store,
    cfg: &NodeConfig,
    text: &str,
    reason: &str,
) -> Result<(RecordId, Draft), OpError> {
    let id = resolve(store, text).map_err(|e| match e {
        ResolveError::Store(e) => OpError::from(e),
        ResolveError::NoMatch(prefix) => OpError::refused(
            "withdraw",
            format!(
                "no record with an id starting `{prefix}` in {}",
                store.path().display()
            ),
        ),
        e => OpError::refused("withdraw", e),
    })?;
    let what = format!("record {id}");
    let Some(target) = store.records().get(&id)? else {
        return Err(OpError::refused(
            what,
            "it has been purged; only its tombstone remains",
        ));
    };
    let t = &target.record;
    if t.originator != cfg.agency {
        return Err(OpError::refused(
            what,
            format!(
                "it was published by {}; only its originator can withdraw it",
                t.originator
            ),
        ));
    }
    if let Some(by) = store.queries().withdrawn_by(&id)? {
        return Err(OpError::refused(
            what,
            format!("it is already withdrawn by {by}"),
        ));
    }
    if t.withdraws.is_some() {
        return Err(OpError::refused(what, "it is itself a withdrawal"));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(OpError::refused(
            "--reason",
            "say why the record is withdrawn (it becomes the withdrawal's summary)",
        ));
    }
    Ok((
        id,
        Draft {
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
            summary: reason.to_owned(),
            victim_data_purpose: None,
            corrects: None,
            withdraws: Some(id),
            responds_to: t.responds_to,
            addressed_to: t.addressed_to.clone(),
            return_status: t.return_status,
        },
    ))
}
