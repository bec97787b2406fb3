//! Pure policy decisions: (agreement, verified input, now) -> [`Decision`] with a reason.
//!
//! Every movement of data asks one of four questions, each answered here without I/O and
//! without a clock (`now` is passed in):
//!
//! - [`may_publish`]: may this agency publish this record under this agreement now?
//! - [`may_send`]: may this record be sent to this peer now? (invariant 1, docs/invariants.md)
//! - [`may_accept`]: may this record from this peer be accepted now? (invariant 3: the
//!   receiver re-checks everything the sender checked)
//! - [`may_reshare`]: may this record be passed on under another agreement? (invariant 5)
//!
//! Each is a short sequence of the rule checks in `rules` and `victims`, one function per rule,
//! shared by all four. The first rule that fails decides the reason. The order is:
//!
//! 1. **agreement**: the record names the agreement it is checked against (on accept, the
//!    agreement must be known at all);
//! 2. **originator control** (re-share only): H2 and H3 records stay under their agreement,
//!    and the source agreement's onward-sharing rule must permit passing records on;
//! 3. **parties**: on publish the originator is the local agency; then membership of whoever
//!    is involved: the local agency (publish), the peer (send, re-share), or the sender, the
//!    originator and the local agency (accept);
//! 4. **validity**: the agreement is in force at `now`, first and last day included;
//! 5. **content**: the category is permitted; the handling code is no more permissive than the
//!    agreement allows; a victim's identifying fields only where the agreement allows victim
//!    data for the record's purpose; no person both victim and suspect/facilitator;
//! 6. **time**: the record has not expired (`expires <= now` denies); except on publish, it is
//!    within the agreement's retention (`created + retention_days < now` denies).

mod decision;
mod rules;
mod victims;

#[cfg(test)]
mod tests;

pub use decision::{Decision, DenyReason, Party, SamePerson};
pub use victims::normalise_name;

/// The two-person release rule, in one place: a record the agreement's `[release]` clause
/// covers carries at least its number of releasers' approvals (`approvals`: how many its
/// envelope carries, each verified with the record).
pub fn released(
    record: &accord_protocol::Record,
    approvals: usize,
    agreement: &accord_config::Agreement,
) -> Result<(), DenyReason> {
    rules::released(record, approvals, agreement)
}

/// The retention rule, in one place: a record may be held, sent and accepted while `now` is
/// at or before `created + retention_days` (the originator's signed `created` time, whenever it
/// was received); `accord purge` removes it after. Returns the deny reason, which names the end
/// of retention, once it has passed.
pub fn within_retention(
    record: &accord_protocol::Record,
    agreement: &accord_config::Agreement,
    now: accord_protocol::Timestamp,
) -> Result<(), DenyReason> {
    rules::within_retention(record, agreement, now)
}

use accord_config::Agreement;
use accord_protocol::{AgencyId, Record, SignedRecord, Timestamp, Verified};

/// May `local` publish `record` under `agreement` at `now`?
///
/// The record names the agreement and `local` as its originator; `local` is a member; the
/// record was not created ahead of now (beyond a clock skew) nor outside the agreement's
/// validity; the agreement is in force now; its content is permitted; it has not expired; and
/// it is within the agreement's retention (a record given an old `created` time could never be
/// sent). An auditor's `accord verify` applies this same function at the record's `created`
/// time, so what a node publishes a verifier accepts.
pub fn may_publish(
    local: &AgencyId,
    agreement: &Agreement,
    record: &Record,
    now: Timestamp,
) -> Decision {
    Decision::from(publish(local, agreement, record, now))
}

/// May `record`, whose envelope carries `approvals` releasers' approvals, be sent to `peer`
/// under `agreement` at `now`? The peer must be a member of the agreement: the guard that
/// keeps a record among the agreement's members; and a record the agreement's `[release]`
/// clause covers must carry its approvals.
pub fn may_send(
    record: &Record,
    approvals: usize,
    agreement: &Agreement,
    peer: &AgencyId,
    now: Timestamp,
) -> Decision {
    Decision::from(send(record, approvals, agreement, peer, now))
}

/// May `record`, received from `sender`, be accepted by `local` at `now`? `agreement` is the
/// agreement the record names as this node holds it, `None` when it holds no such agreement.
/// Nothing is trusted because a peer sent it: every rule is checked again.
pub fn may_accept(
    record: &Verified<SignedRecord>,
    sender: &AgencyId,
    local: &AgencyId,
    agreement: Option<&Agreement>,
    now: Timestamp,
) -> Decision {
    Decision::from(accept(
        &record.record,
        record.envelope.approvals().len(),
        sender,
        local,
        agreement,
        now,
    ))
}

/// May `record`, held under `from`, be sent to `peer` under `to` at `now`?
///
/// When `to` is `from` this is no re-share and the answer is [`may_send`]'s. Otherwise the
/// originator keeps control: H2 and H3 records are never re-shared; `from` must permit onward
/// sharing (consent is not modelled yet, so "with the originator's consent" denies); then `to`
/// must itself permit the record, to this peer, now, and the record must be within the
/// retention of both agreements.
pub fn may_reshare(
    record: &Record,
    approvals: usize,
    from: &Agreement,
    to: &Agreement,
    peer: &AgencyId,
    now: Timestamp,
) -> Decision {
    Decision::from(reshare(record, approvals, from, to, peer, now))
}

fn publish(
    local: &AgencyId,
    agreement: &Agreement,
    record: &Record,
    now: Timestamp,
) -> Result<(), DenyReason> {
    rules::names_agreement(record, agreement)?;
    rules::originated_by(record, local)?;
    rules::member(Party::Local, local, agreement)?;
    rules::not_ahead(record, now)?;
    rules::shareable(record, agreement, now)?;
    rules::created_in_force(record, agreement)?;
    // a record already past retention could never be sent: refused now, not kept unsendable
    rules::within_retention(record, agreement, now)
}

fn send(
    record: &Record,
    approvals: usize,
    agreement: &Agreement,
    peer: &AgencyId,
    now: Timestamp,
) -> Result<(), DenyReason> {
    rules::names_agreement(record, agreement)?;
    rules::member(Party::Peer, peer, agreement)?;
    rules::shareable(record, agreement, now)?;
    rules::created_in_force(record, agreement)?;
    rules::within_retention(record, agreement, now)?;
    rules::released(record, approvals, agreement)
}

fn accept(
    record: &Record,
    approvals: usize,
    sender: &AgencyId,
    local: &AgencyId,
    agreement: Option<&Agreement>,
    now: Timestamp,
) -> Result<(), DenyReason> {
    let agreement = agreement.ok_or_else(|| DenyReason::UnknownAgreement {
        agreement: record.agreement.clone(),
    })?;
    rules::names_agreement(record, agreement)?;
    rules::member(Party::Sender, sender, agreement)?;
    rules::member(Party::Originator, &record.originator, agreement)?;
    rules::member(Party::Local, local, agreement)?;
    rules::shareable(record, agreement, now)?;
    rules::created_in_force(record, agreement)?;
    rules::within_retention(record, agreement, now)?;
    rules::released(record, approvals, agreement)
}

fn reshare(
    record: &Record,
    approvals: usize,
    from: &Agreement,
    to: &Agreement,
    peer: &AgencyId,
    now: Timestamp,
) -> Result<(), DenyReason> {
    rules::names_agreement(record, from)?;
    if from.id == to.id {
        return send(record, approvals, from, peer, now);
    }
    rules::created_in_force(record, from)?;
    rules::released(record, approvals, from)?;
    rules::handling_permits_reshare(record, from, to)?;
    rules::onward_sharing(record, from, to)?;
    rules::member(Party::Peer, peer, to)?;
    rules::shareable(record, to, now)?;
    rules::within_retention(record, from, now)?;
    rules::within_retention(record, to, now)
}
