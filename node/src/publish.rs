//! Publishing one of this agency's records: the one path used by the CLI, the local API and the
//! running node. Draft → next seq → record → policy → sign → verify our own signature → one
//! atomic store batch (record, indexes, counter, an outbox entry per other member) → flush.
//! Any refusal happens before the batch: nothing is stored and no seq is used.

use std::collections::BTreeMap;

use accord_config::NodeConfig;
use accord_protocol::approval::CarriedApproval;
use accord_protocol::{
    AgencyId, AgreementId, Envelope, PublicKey, Record, RecordError, RecordId, SecretKey, Seq,
    SignedRecord, Timestamp, Verified, VerifyError, sign, verify,
};
use thiserror::Error;

use crate::draft::{Draft, DraftError};
use crate::policy::{DenyReason, may_publish};
use crate::store::{Store, StoreError};

/// Why a record was not published.
#[derive(Debug, Error)]
pub enum PublishError {
    /// The draft cannot become a record.
    #[error(transparent)]
    Draft(#[from] DraftError),
    /// The node is not party to the agreement the draft names.
    #[error("agreement `{agreement}`: {agency} is not party to it; its agreements are: {known}")]
    UnknownAgreement {
        /// The agreement named.
        agreement: AgreementId,
        /// This node's agency.
        agency: AgencyId,
        /// The agreements it is party to.
        known: String,
    },
    /// The agreement's policy refuses it.
    #[error("refused by agreement policy: {0}")]
    Denied(DenyReason),
    /// The record corrects, withdraws or answers a record it may not name.
    #[error("{0}")]
    BadReference(String),
    /// The record cannot be encoded.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// Our own signature does not verify: the key file does not match the configuration.
    #[error("the node's own signature does not verify: {0}")]
    Verify(#[from] VerifyError),
    /// The record is dated before the agency's current key took over (a key rotation,
    /// docs/protocol.md §11): the key in force at that time was the previous one, so no
    /// verifier would accept this key's signature for it.
    #[error(
        "created {created} is before {since}, from when this agency's current key signs \
         (`accord key rotate`); date the record {since} or later"
    )]
    BeforeKey {
        /// The record's `created`.
        created: Timestamp,
        /// When the current key took over.
        since: Timestamp,
    },
    /// The agreement's `[release]` clause requires releasers' approvals of this record
    /// (docs/workflows.md, two-person release): it is held for them, not published.
    #[error(
        "agreement {agreement} requires {needed} releaser approval(s) before this record \
         leaves (its [release] clause); it must be held for release (`accord approvals`)"
    )]
    NeedsRelease {
        /// The agreement.
        agreement: AgreementId,
        /// How many approvals.
        needed: usize,
    },
    /// The releasers' approvals could not be made.
    #[error("release: {0}")]
    Release(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PublishError {
    /// Whether the input was at fault (as opposed to the node).
    pub fn is_refusal(&self) -> bool {
        !matches!(self, PublishError::Store(_) | PublishError::Verify(_))
    }
}

/// Every agency key a node knows, its own included.
pub fn directory(cfg: &NodeConfig, own: &SecretKey) -> BTreeMap<AgencyId, PublicKey> {
    let mut dir: BTreeMap<AgencyId, PublicKey> = cfg
        .agencies
        .values()
        .map(|a| (a.id.clone(), a.public_key))
        .collect();
    dir.insert(cfg.agency.clone(), own.public_key());
    dir
}

/// Publishes a draft.
pub fn publish_draft(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    draft: &Draft,
    now: Timestamp,
) -> Result<RecordId, PublishError> {
    publish_draft_by(store, cfg, key, draft, now, None)
}

/// Publishes a draft, naming in the audit entry the person's account that did (`by`).
pub fn publish_draft_by(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    draft: &Draft,
    now: Timestamp,
    by: Option<&str>,
) -> Result<RecordId, PublishError> {
    publish_with(
        Own { store, cfg, key },
        &draft.agreement,
        now,
        by,
        |seq| record_of(store, cfg, draft, seq, now),
        None,
        None,
    )
}

/// The record `draft` becomes at `seq`, created at `created`, once what it corrects,
/// withdraws or answers is found held here and of its agreement.
pub(crate) fn record_of(
    store: &Store,
    cfg: &NodeConfig,
    draft: &Draft,
    seq: Seq,
    created: Timestamp,
) -> Result<Record, PublishError> {
    let record = draft.clone().into_record(&cfg.agency, seq, created)?;
    if let Some(problem) = crate::references::problem(store, &record, true)? {
        return Err(PublishError::BadReference(problem));
    }
    Ok(record)
}

/// Makes the releasers' approvals of a record about to be published, given its signed
/// envelope (two-person release, `crate::release`).
pub type Approver<'a> =
    Box<dyn FnOnce(&Envelope) -> Result<Vec<CarriedApproval>, PublishError> + 'a>;

/// What publishing works with: the store, the configuration and the agency key.
#[derive(Clone, Copy, Debug)]
pub struct Own<'a> {
    /// The store.
    pub store: &'a Store,
    /// The node's configuration.
    pub cfg: &'a NodeConfig,
    /// The agency key.
    pub key: &'a SecretKey,
}

/// Publishes the record `make` builds for the seq the store assigns under `agreement_id`;
/// `approver` makes the releasers' approvals of one the agreement's `[release]` clause covers
/// (without it such a record is refused, [`PublishError::NeedsRelease`]).
pub fn publish_with(
    own: Own<'_>,
    agreement_id: &AgreementId,
    now: Timestamp,
    by: Option<&str>,
    make: impl FnOnce(Seq) -> Result<Record, PublishError>,
    approver: Option<Approver<'_>>,
    also: Option<crate::store::Also<'_>>,
) -> Result<RecordId, PublishError> {
    let Own { store, cfg, key } = own;
    let Some(agreement) = cfg.agreements.get(agreement_id) else {
        let known: Vec<&str> = cfg.agreements.keys().map(|a| a.as_str()).collect();
        return Err(PublishError::UnknownAgreement {
            agreement: agreement_id.clone(),
            agency: cfg.agency.clone(),
            known: if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            },
        });
    };
    let dir = directory(cfg, key);
    // the current key signs only for times from its rotation on
    let own_key = key.public_key();
    let key_since = store
        .trust()
        .rotations()?
        .iter()
        .filter_map(|s| accord_protocol::rotation::verify_rotation(s).ok())
        .filter(|r| r.agency == cfg.agency && r.key == own_key)
        .map(|r| r.since)
        .max();
    let peers: Vec<AgencyId> = agreement
        .members
        .iter()
        .filter(|m| **m != cfg.agency)
        .cloned()
        .collect();
    store.own().publish_also(
        agreement_id,
        &cfg.agency,
        now,
        &peers,
        by,
        |seq| -> Result<Verified<SignedRecord>, PublishError> {
            let record = make(seq)?;
            if let Some(since) = key_since
                && record.created < since
            {
                return Err(PublishError::BeforeKey {
                    created: record.created,
                    since,
                });
            }
            may_publish(&cfg.agency, agreement, &record, now)
                .into_result()
                .map_err(PublishError::Denied)?;
            let mut envelope = sign(&record, key)?;
            // a record the agreement's [release] clause covers leaves only with its approvals
            let needed = agreement.approvals_needed(&record);
            if needed > 0 {
                let Some(approver) = approver else {
                    return Err(PublishError::NeedsRelease {
                        agreement: agreement.id.clone(),
                        needed,
                    });
                };
                let approvals = approver(&envelope)?;
                envelope = envelope
                    .with_approvals(approvals)
                    .map_err(|e| PublishError::Release(e.to_string()))?;
            }
            let verified = if needed > 0 {
                // the revocations held count: an approval after one is refused here too
                verify(
                    envelope,
                    &crate::directory::Directory::load(cfg, key, store)?,
                )?
            } else {
                verify(envelope, &dir)?
            };
            if verified.envelope.approvals().len() < needed {
                return Err(PublishError::Release(format!(
                    "{} approval(s) made; agreement {} requires {needed}",
                    verified.envelope.approvals().len(),
                    agreement.id
                )));
            }
            Ok(verified)
        },
        also,
    )?
}
