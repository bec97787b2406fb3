//! The receive path (BRIEF §3 rules 2–4): every record a peer sends — pushed or in a range
//! answer — is verified with `verify_strict`, re-checked against the agreement's policy, stored
//! in one batch and flushed before anything is acknowledged.

use accord_config::NodeConfig;
use accord_protocol::wire::{AckEntry, RejectCode};
use accord_protocol::{AgencyId, Envelope, SignedRecord, Timestamp, Verified, VerifyError, verify};

use super::handle::NodeEvent;
use crate::policy::may_accept;
use crate::store::{InsertOutcome, Source, Store, StoreError};

/// What happened to a batch of received records.
#[derive(Debug, Default)]
pub struct Received {
    /// One ack entry per record, in order.
    pub acks: Vec<AckEntry>,
    /// Events to publish.
    pub events: Vec<NodeEvent>,
    /// Whether anything new was stored.
    pub stored_any: bool,
}

/// The checks a record must pass besides verification, decided by the caller: e.g. "is this
/// agreement's text confirmed identical with the sender", "is this the range I asked for".
pub type Screen<'a> = &'a dyn Fn(&SignedRecord) -> Result<(), (RejectCode, String)>;

/// Verifies, checks, stores and flushes records received from `sender`.
pub fn receive(
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
    let mut accepted: Vec<(usize, Verified<SignedRecord>)> = Vec::new();
    // A member pushes only records of agreements it shares with us; once a push holds one
    // outside them, the rest of it is refused unread, with one event and audit entry for all,
    // so a flood of such pushes costs one parse and one log line each.
    let (mut outside, mut unread) = (false, 0usize);
    for env in envelopes {
        let id = env.id();
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
        if store.contains(&id)? {
            out.acks.push(AckEntry::Duplicate(id));
            continue;
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
                };
                reject(&mut out, sender, code, format!("record {id}: {e}"));
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
        out.acks.push(AckEntry::Stored(id)); // replaced below by the store's verdict
        accepted.push((out.acks.len() - 1, verified));
    }
    if unread > 0 {
        tracing::warn!(from = %sender, unread, "refused the rest of a push unread");
        out.events.push(NodeEvent::rejected(
            sender,
            RejectCode::NotMember,
            format!("{unread} more records of the same push refused unread"),
        ));
    }
    if accepted.is_empty() {
        return Ok(out);
    }
    let records: Vec<Verified<SignedRecord>> = accepted.iter().map(|(_, v)| v.clone()).collect();
    let outcomes = store.insert_batch(&records, &Source::Peer(sender.clone()), now)?;
    store.flush()?; // rule 4: durable before acknowledged
    for ((slot, v), outcome) in accepted.iter().zip(outcomes) {
        out.acks[*slot] = match outcome {
            InsertOutcome::Stored(id) => {
                out.stored_any = true;
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
                tracing::error!(%id, %existing, from = %sender, seq = %v.record.seq, originator = %v.record.originator,
                    "EQUIVOCATION: two different records for one (agreement, originator, seq); the second is kept as evidence only");
                out.events.push(NodeEvent::Equivocation {
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
pub fn truncate(mut s: String) -> String {
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
