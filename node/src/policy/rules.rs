//! One check per rule, each `Ok(())` or the [`DenyReason`] it found. The entry points in
//! [`super`] compose them; nothing here is checked twice in two ways.

use accord_config::{Agreement, OnwardSharing};
use accord_protocol::{AgencyId, HandlingCode, Record, Timestamp};

use super::decision::{DenyReason, Party};
use super::victims;

/// Seconds in a retention day.
const SECS_PER_DAY: i64 = 86_400;

/// The record names `agreement`.
pub(crate) fn names_agreement(record: &Record, agreement: &Agreement) -> Result<(), DenyReason> {
    if record.agreement == agreement.id {
        return Ok(());
    }
    Err(DenyReason::WrongAgreement {
        record: record.agreement.clone(),
        checked: agreement.id.clone(),
    })
}

/// The record's originator is this node's agency.
pub(crate) fn originated_by(record: &Record, local: &AgencyId) -> Result<(), DenyReason> {
    if record.originator == *local {
        return Ok(());
    }
    Err(DenyReason::OriginatorNotLocal {
        originator: record.originator.clone(),
        local: local.clone(),
    })
}

/// `agency`, in the role `party`, is a member of `agreement`.
pub(crate) fn member(
    party: Party,
    agency: &AgencyId,
    agreement: &Agreement,
) -> Result<(), DenyReason> {
    if agreement.is_member(agency) {
        return Ok(());
    }
    Err(DenyReason::NotMember {
        party,
        agency: agency.clone(),
        agreement: agreement.id.clone(),
    })
}

/// Every member's verified signature of the agreement file is held: it has taken effect.
pub(crate) fn signed(agreement: &Agreement) -> Result<(), DenyReason> {
    if agreement.fully_signed() {
        return Ok(());
    }
    Err(DenyReason::NotSigned {
        agreement: agreement.id.clone(),
        missing: agreement.missing_signatures(),
    })
}

/// The agreement is in force at `now`, first and last day included.
pub(crate) fn in_force(agreement: &Agreement, now: Timestamp) -> Result<(), DenyReason> {
    if agreement.in_force(now) {
        return Ok(());
    }
    if now < agreement.valid_from.start() {
        return Err(DenyReason::NotYetInForce {
            agreement: agreement.id.clone(),
            valid_from: agreement.valid_from,
            now,
        });
    }
    Err(DenyReason::NoLongerInForce {
        agreement: agreement.id.clone(),
        valid_until: agreement.valid_until,
        now,
    })
}

/// How far a record to publish may say it was created ahead of this node's clock, in seconds.
pub(super) const CLOCK_SKEW_SECS: i64 = 300;

/// The record was created while the agreement was in force, first and last day included.
pub(crate) fn created_in_force(record: &Record, agreement: &Agreement) -> Result<(), DenyReason> {
    if agreement.in_force(record.created) {
        return Ok(());
    }
    Err(DenyReason::CreatedOutsideAgreement {
        agreement: agreement.id.clone(),
        created: record.created,
        valid_from: agreement.valid_from,
        valid_until: agreement.valid_until,
    })
}

/// A record to publish was not created later than now (beyond [`CLOCK_SKEW_SECS`]).
pub(crate) fn not_ahead(record: &Record, now: Timestamp) -> Result<(), DenyReason> {
    if record.created <= now.plus_secs(CLOCK_SKEW_SECS) {
        return Ok(());
    }
    Err(DenyReason::CreatedInFuture {
        created: record.created,
        now,
    })
}

/// The agreement permits the record's category.
pub(crate) fn category(record: &Record, agreement: &Agreement) -> Result<(), DenyReason> {
    if agreement.permits_category(record.category) {
        return Ok(());
    }
    Err(DenyReason::CategoryNotPermitted {
        category: record.category,
        agreement: agreement.id.clone(),
    })
}

/// The record's handling code is no more permissive than the agreement allows.
pub(crate) fn handling(record: &Record, agreement: &Agreement) -> Result<(), DenyReason> {
    if agreement.permits_handling(record.handling) {
        return Ok(());
    }
    Err(DenyReason::HandlingTooPermissive {
        handling: record.handling,
        most_permissive: agreement.most_permissive_handling,
        agreement: agreement.id.clone(),
    })
}

/// Everything about the record's content that the agreement decides: category, handling
/// code, victim data, and that no victim is also an offender.
pub(crate) fn content(record: &Record, agreement: &Agreement) -> Result<(), DenyReason> {
    category(record, agreement)?;
    handling(record, agreement)?;
    victims::data_permitted(record, agreement)?;
    victims::never_offender(record)
}

/// What every movement of a record needs from the agreement it moves under: in force now,
/// content permitted, record not expired.
pub(crate) fn shareable(
    record: &Record,
    agreement: &Agreement,
    now: Timestamp,
) -> Result<(), DenyReason> {
    signed(agreement)?;
    in_force(agreement, now)?;
    content(record, agreement)?;
    not_expired(record, now)
}

/// The record has not expired: it is valid strictly before its `expires`.
pub(crate) fn not_expired(record: &Record, now: Timestamp) -> Result<(), DenyReason> {
    match record.expires {
        Some(expires) if expires <= now => Err(DenyReason::Expired { expires, now }),
        _ => Ok(()),
    }
}

/// The record is within the agreement's retention: `created + retention_days` is not before
/// `now`.
pub(crate) fn within_retention(
    record: &Record,
    agreement: &Agreement,
    now: Timestamp,
) -> Result<(), DenyReason> {
    let until = record
        .created
        .plus_secs(i64::from(agreement.retention_days) * SECS_PER_DAY);
    if now <= until {
        return Ok(());
    }
    Err(DenyReason::PastRetention {
        created: record.created,
        retention_days: agreement.retention_days,
        until,
        agreement: agreement.id.clone(),
        now,
    })
}

/// Originator control by handling code: H2 (no onward dissemination without permission) and
/// H3 (restrictions stated in the record, which the node cannot interpret) are never
/// re-shared under another agreement.
pub(crate) fn handling_permits_reshare(
    record: &Record,
    from: &Agreement,
    to: &Agreement,
) -> Result<(), DenyReason> {
    match record.handling {
        HandlingCode::H0 | HandlingCode::H1 => Ok(()),
        handling @ (HandlingCode::H2 | HandlingCode::H3) => {
            Err(DenyReason::HandlingForbidsReshare {
                handling,
                from: from.id.clone(),
                to: to.id.clone(),
            })
        }
    }
}

/// Originator control by agreement: the agreement a record was received under must permit
/// onward sharing. Consent is not modelled yet, so "with the originator's consent" denies.
pub(crate) fn onward_sharing(
    record: &Record,
    from: &Agreement,
    to: &Agreement,
) -> Result<(), DenyReason> {
    match from.onward_sharing {
        OnwardSharing::Permitted => Ok(()),
        OnwardSharing::Never => Err(DenyReason::OnwardSharingForbidden {
            from: from.id.clone(),
            to: to.id.clone(),
        }),
        OnwardSharing::WithOriginatorConsent => Err(DenyReason::OriginatorConsentRequired {
            originator: record.originator.clone(),
            from: from.id.clone(),
            to: to.id.clone(),
        }),
    }
}

/// The record carries the releasers' approvals its agreement's `[release]` clause requires
/// (`approvals`: how many verified approvals its envelope carries; [`accord_protocol::verify`]
/// has checked each).
pub(crate) fn released(
    record: &Record,
    approvals: usize,
    agreement: &Agreement,
) -> Result<(), DenyReason> {
    let needed = agreement.approvals_needed(record);
    if approvals < needed {
        return Err(DenyReason::NotReleased {
            agreement: agreement.id.clone(),
            needed,
            carried: approvals,
        });
    }
    Ok(())
}
