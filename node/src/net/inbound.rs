//! The receive path (invariants 2–4, docs/invariants.md): every record a peer sends — pushed
//! or in a range answer — is verified with `verify_strict`, re-checked against the agreement's
//! policy, stored in one batch and flushed before anything is acknowledged.
//!
//! The network's core does none of this work itself: it hands each batch to a [`Job`] that the
//! actor runs on tokio's blocking pool, so verification and the flush do not stop the swarm,
//! batches from different peers are verified on both cores at once, and concurrent flushes
//! share one disk sync. The job's [`Done`] goes back to the core, which answers the peer (a
//! push is acknowledged only then: after the flush).

use accord_config::NodeConfig;
use accord_protocol::wire::{AckEntry, RejectCode};
use accord_protocol::{AgencyId, Envelope, SignedRecord, Timestamp, Verified, VerifyError, verify};

use super::handle::NodeEvent;
use crate::policy::may_accept;
use crate::store::{InsertOutcome, Source, Store, StoreError};

/// What happened to a batch of received records.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// One ack entry per record, in order.
    pub acks: Vec<AckEntry>,
    /// Events to publish.
    pub events: Vec<NodeEvent>,
    /// Whether anything new was stored.
    pub stored_any: bool,
    /// The records newly stored, with their agreement.
    pub stored: Vec<(accord_protocol::RecordId, accord_protocol::AgreementId)>,
}

/// The checks a record must pass besides verification, decided by the caller: e.g. "is this
/// agreement's text confirmed identical with the sender", "is this the range I asked for".
pub(crate) type Screen<'a> = &'a dyn Fn(&SignedRecord) -> Result<(), (RejectCode, String)>;

/// A [`Screen`] a job owns.
pub(crate) type OwnedScreen = Box<dyn Fn(&SignedRecord) -> Result<(), (RejectCode, String)> + Send>;

/// What a batch of received records answers.
pub(crate) enum Origin {
    /// A push from the peer: answered with an ack and receipts.
    Push(super::core::InboundId),
    /// Our range request's answer.
    Range {
        agreement: accord_protocol::AgreementId,
        stream: accord_protocol::StreamId,
        from: accord_protocol::Seq,
        to: accord_protocol::Seq,
        got: usize,
    },
    /// Records the agency's own tools hand in (`accord import`).
    Import(tokio::sync::oneshot::Sender<Vec<AckEntry>>),
}

/// One batch of received records for the blocking pool.
pub(crate) struct Job {
    pub store: std::sync::Arc<Store>,
    pub cfg: std::sync::Arc<NodeConfig>,
    pub dir: std::sync::Arc<crate::directory::Directory>,
    pub key: std::sync::Arc<accord_protocol::SecretKey>,
    pub sender: AgencyId,
    pub envelopes: Vec<Envelope>,
    pub screen: OwnedScreen,
    pub origin: Origin,
    /// When it was handed over (the time of receipt).
    pub now: Timestamp,
}

/// A finished [`Job`].
pub(crate) struct Done {
    pub sender: AgencyId,
    pub origin: Origin,
    pub result: Result<Received, StoreError>,
    /// Signed receipts for what a push stored or already held.
    pub receipts: Vec<accord_protocol::audit::Signed>,
}

/// What a job hands back to the core.
pub(crate) enum Finished {
    /// A [`Job`] is done.
    Received(Done),
    /// The receipts of a peer's ack are checked.
    Acked(Acked),
    /// The `send` entries of an outgoing message are durable ([`super::outbound`]).
    Sent(super::outbound::Sent),
    /// A checkpoint is signed, or could not be ([`super::signing`]).
    Signed(super::signing::Signed),
    /// A member's matching request is answered (`core::matching`).
    Matched(super::core::matching::Matched),
}

/// A peer's ack of our push, with its receipts verified (by [`AckCheck::run`]).
pub(crate) struct Acked {
    pub peer: AgencyId,
    /// The outbox entries and ids of the push.
    pub keys: Vec<crate::store::OutboxEntry>,
    pub ids: Vec<accord_protocol::RecordId>,
    pub results: Vec<AckEntry>,
    /// The receipts signed by the peer itself, by record (invalid ones left out).
    pub receipts: std::collections::BTreeMap<accord_protocol::RecordId, Proof>,
}

/// A peer's signed receipt for one record of our push.
#[derive(Clone, Debug)]
pub(crate) struct Proof {
    pub receipt: accord_protocol::audit::Signed,
    /// The agreement it names.
    pub agreement: accord_protocol::AgreementId,
    /// Whether it is a batch receipt (covering every record of its agreement in the push).
    pub batch: bool,
}

/// A peer's ack of our push, whose receipts are to be verified.
pub(crate) struct AckCheck {
    pub peer: AgencyId,
    pub peer_key: Option<accord_protocol::PublicKey>,
    /// The outbox entries and ids of the push.
    pub keys: Vec<crate::store::OutboxEntry>,
    pub ids: Vec<accord_protocol::RecordId>,
    pub ack: accord_protocol::wire::Ack,
}

impl AckCheck {
    /// Verifies the ack's receipts under `peer_key` (a signature check each: the executor runs
    /// it off the loop).
    pub(crate) fn run(self) -> Acked {
        let Self {
            peer,
            peer_key,
            keys,
            ids,
            ack,
        } = self;
        let receipts = check_receipts(&peer, peer_key, &keys, &ids, &ack);
        Acked {
            peer,
            keys,
            ids,
            results: ack.results,
            receipts,
        }
    }
}

/// The records of our push that `ack`'s receipts show `peer` holds, each with the receipt
/// that says so and its agreement. A version 1 receipt names its record; a batch receipt
/// (docs/protocol.md §12) counts only if it covers exactly the records of its agreement that
/// the ack says are stored or held, in the order of the push, and only for the agreement each
/// was sent under (the outbox entry names it). Receipts that do not verify under the peer's
/// own key are left out.
fn check_receipts(
    peer: &AgencyId,
    peer_key: Option<accord_protocol::PublicKey>,
    keys: &[crate::store::OutboxEntry],
    ids: &[accord_protocol::RecordId],
    ack: &accord_protocol::wire::Ack,
) -> std::collections::BTreeMap<accord_protocol::RecordId, Proof> {
    use accord_protocol::receipt::{AnyReceipt, verify_any_receipt};
    let mut out = std::collections::BTreeMap::new();
    for s in &ack.receipts {
        let Ok(r) = verify_any_receipt(s, |a| if a == peer { peer_key } else { None }) else {
            continue;
        };
        match r {
            AnyReceipt::Record(r) => {
                let proof = Proof {
                    receipt: s.clone(),
                    agreement: r.agreement,
                    batch: false,
                };
                out.insert(r.record, proof);
            }
            AnyReceipt::Batch(b) => {
                let covered: Vec<accord_protocol::RecordId> = keys
                    .iter()
                    .zip(ids)
                    .zip(&ack.results)
                    .filter(|((key, id), result)| {
                        key.agreement() == Some(&b.agreement)
                            && matches!(result, AckEntry::Stored(got) | AckEntry::Duplicate(got) if got == *id)
                    })
                    .map(|((_, id), _)| *id)
                    .collect();
                if b.covers_exactly(&covered) {
                    for id in covered {
                        let proof = Proof {
                            receipt: s.clone(),
                            agreement: b.agreement.clone(),
                            batch: true,
                        };
                        out.insert(id, proof);
                    }
                }
            }
        }
    }
    out
}

impl Job {
    /// Verifies, checks, stores and flushes (blocking: the executor runs it off the loop).
    pub(crate) fn run(self) -> Done {
        let now = self.now;
        let result = receive(
            &self.store,
            &self.cfg,
            &*self.dir,
            &self.sender,
            self.envelopes,
            &*self.screen,
            now,
        );
        let receipts = match (&self.origin, &result) {
            (Origin::Push(_), Ok(r)) => receipts(&self.store, &self.cfg.agency, &self.key, r, now),
            _ => Vec::new(),
        };
        Done {
            sender: self.sender,
            origin: self.origin,
            result,
            receipts,
        }
    }
}

/// Signed batch receipts (docs/protocol.md §12) for the records of `r.acks` this node holds
/// (just stored, or held already): one per agreement, over their ids in the order of the push,
/// received at `now`.
fn receipts(
    store: &Store,
    own: &AgencyId,
    key: &accord_protocol::SecretKey,
    r: &Received,
    now: Timestamp,
) -> Vec<accord_protocol::audit::Signed> {
    use accord_protocol::receipt::{BatchReceipt, sign_batch_receipt};
    let fresh: std::collections::HashMap<_, _> = r.stored.iter().cloned().collect();
    let mut batches: Vec<(accord_protocol::AgreementId, Vec<accord_protocol::RecordId>)> =
        Vec::new();
    for a in &r.acks {
        let (AckEntry::Stored(id) | AckEntry::Duplicate(id)) = a else {
            continue;
        };
        let agreement = match fresh.get(id) {
            Some(a) => a.clone(),
            None => match store.records().get(id) {
                Ok(Some(rec)) => rec.record.agreement,
                _ => continue,
            },
        };
        match batches.iter_mut().find(|(a, _)| *a == agreement) {
            Some((_, ids)) => ids.push(*id),
            None => batches.push((agreement, vec![*id])),
        }
    }
    batches
        .into_iter()
        .filter_map(|(agreement, ids)| {
            let receipt = BatchReceipt::of(agreement, own.clone(), now, &ids).ok()?;
            sign_batch_receipt(&receipt, key).ok()
        })
        .collect()
}

/// Verifies, checks, stores and flushes records received from `sender`; its refusals are
/// logged and flushed before it returns.
pub(crate) fn receive(
    store: &Store,
    cfg: &NodeConfig,
    dir: &(impl accord_protocol::KeyDirectory + ?Sized),
    sender: &AgencyId,
    envelopes: Vec<Envelope>,
    screen: Screen<'_>,
    now: Timestamp,
) -> Result<Received, StoreError> {
    let mut out = Received::default();
    // position in `acks` of each record handed to the store
    let (mut slots, mut accepted): (Vec<usize>, Vec<Verified<SignedRecord>>) =
        (Vec::new(), Vec::new());
    // A member pushes only records of agreements it shares with us; once a push holds one
    // outside them, the rest of it is refused unread, with one event and audit entry for all,
    // so a flood of such pushes costs one parse and one log line each.
    let (mut outside, mut unread) = (false, 0usize);
    // Likewise once a record fails verification the rest is not verified: it is refused as
    // busy (transient), so an honest sender whose one record was damaged sends the others
    // again, while a forger's push costs one verification.
    let (mut failed, mut unverified) = (false, 0usize);
    // A record found held may have been written by another job whose flush has not yet
    // covered it: "already held" is acknowledged only after a flush too (invariant 4).
    let mut held = false;
    for env in envelopes {
        let id = env.id();
        if failed {
            unverified += 1;
            out.acks.push(AckEntry::Rejected {
                code: RejectCode::Busy,
                detail: format!(
                    "record {id}: not verified after a record of the same push failed \
                     verification; send it again"
                ),
            });
            continue;
        }
        if outside {
            unread += 1;
            out.acks.push(AckEntry::Rejected {
                code: RejectCode::NotMember,
                detail: format!(
                    "record {id}: refused unread with the rest of a push holding a record \
                     outside {sender}'s agreements"
                ),
            });
            continue;
        }
        // a sender outside the record's agreement is refused before anything else, so a
        // non-member learns nothing, not even whether the record is held here
        if let Ok(r) = accord_protocol::canonical::parse_record_json(env.record_bytes()) {
            let member = cfg
                .agreements
                .get(&r.agreement)
                .is_some_and(|a| a.is_member(sender));
            if !member {
                outside = true;
                reject(
                    &mut out,
                    sender,
                    RejectCode::NotMember,
                    format!("record {id}: {sender} is not a member of {}", r.agreement),
                );
                continue;
            }
        }
        let verified = match verify(env, dir) {
            Ok(v) => v,
            Err(e) => {
                let code = match &e {
                    VerifyError::UnknownOriginator(_) => RejectCode::UnknownAgency,
                    VerifyError::WrongKey { .. } | VerifyError::BadSignature { .. } => {
                        RejectCode::BadSignature
                    }
                    VerifyError::Envelope(_) | VerifyError::Record(_) => RejectCode::Malformed,
                    VerifyError::Delegation { .. } => RejectCode::DelegationRefused,
                    VerifyError::Approval { .. } => RejectCode::ReleaseNotApproved,
                };
                reject(&mut out, sender, code, format!("record {id}: {e}"));
                failed = true;
                continue;
            }
        };
        let agreement = cfg.agreements.get(&verified.record.agreement);
        if let Some(reason) = may_accept(&verified, sender, &cfg.agency, agreement, now).reason() {
            reject(
                &mut out,
                sender,
                reason.reject_code(),
                format!("record {id}: {reason}"),
            );
            continue;
        }
        if let Err((code, detail)) = screen(&verified) {
            reject(&mut out, sender, code, format!("record {id}: {detail}"));
            continue;
        }
        if let Some(problem) = crate::references::problem(store, &verified.record, false)? {
            reject(
                &mut out,
                sender,
                RejectCode::BadReference,
                format!("record {id}: {problem}"),
            );
            continue;
        }
        // only now, after every check an accept makes, may the sender learn that the record
        // is held here already
        if store.records().contains(&id)? {
            held = true;
            out.acks.push(AckEntry::Duplicate(id));
            continue;
        }
        out.acks.push(AckEntry::Stored(id)); // replaced below by the store's verdict
        slots.push(out.acks.len() - 1);
        accepted.push(verified);
    }
    if unread > 0 {
        tracing::warn!(from = %sender, unread, "refused the rest of a push unread");
        out.events.push(NodeEvent::rejected(
            sender,
            RejectCode::NotMember,
            format!("{unread} more records of the same push refused unread"),
        ));
    }
    if unverified > 0 {
        tracing::warn!(from = %sender, unverified, "rest of a push not verified after a failure");
        out.events.push(NodeEvent::rejected(
            sender,
            RejectCode::Busy,
            format!(
                "{unverified} more records of the same push not verified after one failed \
                 verification"
            ),
        ));
    }
    // every refusal is in the log, durably, before it is answered: the sender logs a
    // `withheld` entry for it, and the two logs must match after a crash. Written here, before
    // the records' batch, so one flush per push covers both (a group commit shared with
    // concurrent jobs), never one per refusal.
    let rejects: Vec<accord_protocol::audit::AuditEvent> = out
        .events
        .iter()
        .filter_map(|e| match e {
            NodeEvent::Rejected { from, code, detail } => {
                Some(accord_protocol::audit::AuditEvent::Reject {
                    from: from.clone(),
                    code: *code,
                    reason: detail.clone(),
                })
            }
            _ => None,
        })
        .collect();
    let refused = !rejects.is_empty();
    store.log().audit(now, rejects)?;
    if accepted.is_empty() {
        if held || refused {
            store.flush()?;
        }
        return Ok(out);
    }
    let records = accepted;
    let outcomes = store
        .records()
        .insert_batch(&records, &Source::Peer(sender.clone()), now)?;
    store.flush()?; // invariant 4: durable before acknowledged
    for ((slot, v), outcome) in slots.iter().zip(&records).zip(outcomes) {
        out.acks[*slot] = match outcome {
            InsertOutcome::Stored(id) => {
                out.stored_any = true;
                out.stored.push((id, v.record.agreement.clone()));
                tracing::debug!(%id, from = %sender, agreement = %v.record.agreement, "stored");
                out.events.push(NodeEvent::Stored {
                    id,
                    agreement: v.record.agreement.clone(),
                    originator: v.record.originator.clone(),
                    from: sender.clone(),
                });
                AckEntry::Stored(id)
            }
            InsertOutcome::Duplicate(id) | InsertOutcome::Purged(id) => AckEntry::Duplicate(id),
            InsertOutcome::Equivocation { id, existing } => {
                // the alarm is logged once per originator by the core
                tracing::debug!(%id, %existing, from = %sender, seq = %v.record.seq, originator = %v.record.originator,
                    "equivocation: two different records for one (agreement, originator, seq); the second is kept as evidence only");
                out.events.push(NodeEvent::Equivocation {
                    originator: v.record.originator.clone(),
                    id,
                    existing,
                    from: sender.clone(),
                });
                AckEntry::Rejected {
                    code: RejectCode::Equivocation,
                    detail: format!("record {id} claims the seq of record {existing}"),
                }
            }
        };
    }
    Ok(out)
}

fn reject(out: &mut Received, sender: &AgencyId, code: RejectCode, detail: String) {
    tracing::warn!(from = %sender, code = code.code(), %detail, "refused a record");
    let detail = truncate(detail);
    out.events
        .push(NodeEvent::rejected(sender, code, detail.clone()));
    out.acks.push(AckEntry::Rejected { code, detail });
}

/// Detail texts are bounded on the wire.
pub(crate) fn truncate(mut s: String) -> String {
    let max = accord_protocol::wire::MAX_DETAIL_BYTES;
    if s.len() > max {
        let mut cut = max - 3;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}
