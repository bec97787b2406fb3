//! The outcome of a policy check: [`Decision`], and the [`DenyReason`] a refusal carries.

use std::collections::BTreeSet;
use std::fmt;

use accord_protocol::wire::RejectCode;
use accord_protocol::{
    AgencyId, AgreementId, Category, Date, HandlingCode, PersonRole, Timestamp, VictimPurpose,
};

/// What a policy function decided.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The movement of data may go ahead.
    Allow,
    /// It may not, for this reason.
    Deny(DenyReason),
}

impl Decision {
    /// Whether the decision is [`Decision::Allow`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// The reason of a denial; `None` when allowed.
    pub fn reason(&self) -> Option<&DenyReason> {
        match self {
            Decision::Allow => None,
            Decision::Deny(reason) => Some(reason),
        }
    }

    /// `Ok(())` when allowed, so callers can use `?`.
    pub fn into_result(self) -> Result<(), DenyReason> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(reason),
        }
    }
}

impl From<Result<(), DenyReason>> for Decision {
    fn from(checked: Result<(), DenyReason>) -> Self {
        match checked {
            Ok(()) => Decision::Allow,
            Err(reason) => Decision::Deny(reason),
        }
    }
}

/// Which party a membership check was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Party {
    /// This node's own agency.
    Local,
    /// The peer a record would be sent to.
    Peer,
    /// The peer a record came from.
    Sender,
    /// The agency that wrote and signed the record.
    Originator,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Local => "local agency",
            Party::Peer => "peer",
            Party::Sender => "sender",
            Party::Originator => "originator",
        })
    }
}

/// How two persons of one record were recognised as the same person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SamePerson {
    /// They carry the same `ref`.
    Ref,
    /// Their names are equal once normalised and their dates of birth are equal.
    NameAndDateOfBirth,
}

impl fmt::Display for SamePerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SamePerson::Ref => "same ref",
            SamePerson::NameAndDateOfBirth => "same name and date of birth",
        })
    }
}

/// Why a movement of data was denied. Each variant carries the values involved, so a test can
/// match it and an audit entry can name them. Victims are named only by their position in the
/// record's subjects, never by an identifying field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// The record names another agreement than the one it was checked against.
    WrongAgreement {
        /// The agreement the record names.
        record: AgreementId,
        /// The agreement it was checked against.
        checked: AgreementId,
    },
    /// The record names an agreement this node does not hold.
    UnknownAgreement {
        /// The agreement the record names.
        agreement: AgreementId,
    },
    /// A record to publish names another originator than this node's agency.
    OriginatorNotLocal {
        /// The originator the record names.
        originator: AgencyId,
        /// This node's agency.
        local: AgencyId,
    },
    /// An agency is not a member of the agreement.
    NotMember {
        /// Which party it is.
        party: Party,
        /// The agency.
        agency: AgencyId,
        /// The agreement.
        agreement: AgreementId,
    },
    /// Not every member's signature of the agreement file is held yet: it has not taken effect.
    NotSigned {
        /// The agreement.
        agreement: AgreementId,
        /// The members whose signature is missing.
        missing: Vec<AgencyId>,
    },
    /// The agreement's first day is still to come.
    NotYetInForce {
        /// The agreement.
        agreement: AgreementId,
        /// Its first day.
        valid_from: Date,
        /// The time of the decision.
        now: Timestamp,
    },
    /// The agreement's last day has passed.
    NoLongerInForce {
        /// The agreement.
        agreement: AgreementId,
        /// Its last day.
        valid_until: Date,
        /// The time of the decision.
        now: Timestamp,
    },
    /// The record was created outside the agreement's validity: it cannot have been shared
    /// under it (an auditor's `accord verify` refuses it for the same reason).
    CreatedOutsideAgreement {
        /// The agreement.
        agreement: AgreementId,
        /// When the record says it was created.
        created: Timestamp,
        /// The agreement's first day.
        valid_from: Date,
        /// The agreement's last day.
        valid_until: Date,
    },
    /// A record to publish says it was created later than now, by more than the clock skew
    /// tolerated ([`super::rules::CLOCK_SKEW_SECS`]).
    CreatedInFuture {
        /// When the record says it was created.
        created: Timestamp,
        /// The time of the decision.
        now: Timestamp,
    },
    /// The agreement does not permit the record's category.
    CategoryNotPermitted {
        /// The record's category.
        category: Category,
        /// The agreement.
        agreement: AgreementId,
    },
    /// The record's handling code is more permissive than the agreement allows.
    HandlingTooPermissive {
        /// The record's code.
        handling: HandlingCode,
        /// The most permissive code the agreement allows.
        most_permissive: HandlingCode,
        /// The agreement.
        agreement: AgreementId,
    },
    /// A victim carries identifying fields and the agreement permits no victim data.
    VictimDataNotAllowed {
        /// The agreement.
        agreement: AgreementId,
    },
    /// A victim carries identifying fields and the record states no purpose for them.
    VictimPurposeMissing {
        /// The agreement.
        agreement: AgreementId,
    },
    /// The agreement permits victim data, but not for the record's purpose.
    VictimPurposeNotPermitted {
        /// The record's purpose.
        purpose: VictimPurpose,
        /// The purposes the agreement permits.
        permitted: BTreeSet<VictimPurpose>,
        /// The agreement.
        agreement: AgreementId,
    },
    /// One person is both a victim and an offender in the record.
    VictimAlsoOffender {
        /// The victim's index in the record's subjects.
        victim: usize,
        /// The other entry's index in the record's subjects.
        other: usize,
        /// The other entry's role: suspect or facilitator.
        role: PersonRole,
        /// How the two were recognised as one person.
        matched_by: SamePerson,
    },
    /// The agreement's `[release]` clause requires releasers' approvals the record does not
    /// carry.
    NotReleased {
        /// The agreement.
        agreement: AgreementId,
        /// How many approvals it needs.
        needed: usize,
        /// How many it carries.
        carried: usize,
    },
    /// The record has expired.
    Expired {
        /// When it expired.
        expires: Timestamp,
        /// The time of the decision.
        now: Timestamp,
    },
    /// The record is older than the agreement's retention period.
    PastRetention {
        /// When the record was created.
        created: Timestamp,
        /// The agreement's retention.
        retention_days: u32,
        /// When the retention ended.
        until: Timestamp,
        /// The agreement.
        agreement: AgreementId,
        /// The time of the decision.
        now: Timestamp,
    },
    /// The record's handling code forbids re-sharing it under another agreement.
    HandlingForbidsReshare {
        /// The record's code (H2 or H3).
        handling: HandlingCode,
        /// The agreement it was received under.
        from: AgreementId,
        /// The agreement it would be re-shared under.
        to: AgreementId,
    },
    /// The agreement the record was received under never permits onward sharing.
    OnwardSharingForbidden {
        /// The agreement it was received under.
        from: AgreementId,
        /// The agreement it would be re-shared under.
        to: AgreementId,
    },
    /// The agreement the record was received under permits onward sharing only with the
    /// originator's consent, which this node does not hold.
    OriginatorConsentRequired {
        /// The record's originator.
        originator: AgencyId,
        /// The agreement it was received under.
        from: AgreementId,
        /// The agreement it would be re-shared under.
        to: AgreementId,
    },
}

impl DenyReason {
    /// The code a receiver sends back on the wire for this reason.
    pub fn reject_code(&self) -> RejectCode {
        match self {
            // the record and the agreement it is checked under disagree
            DenyReason::WrongAgreement { .. } => RejectCode::AgreementMismatch,
            DenyReason::NotSigned { .. } => RejectCode::AgreementNotSigned,
            DenyReason::UnknownAgreement { .. }
            | DenyReason::NotYetInForce { .. }
            | DenyReason::NoLongerInForce { .. }
            | DenyReason::CreatedOutsideAgreement { .. } => RejectCode::AgreementNotInForce,
            // a record's time that cannot be right
            DenyReason::CreatedInFuture { .. } => RejectCode::Malformed,
            // the key that would sign is not the named originator's
            DenyReason::OriginatorNotLocal { .. } => RejectCode::BadSignature,
            DenyReason::NotMember { .. } => RejectCode::NotMember,
            DenyReason::CategoryNotPermitted { .. } => RejectCode::CategoryNotPermitted,
            // originator control is expressed through handling codes and onward sharing
            DenyReason::HandlingTooPermissive { .. }
            | DenyReason::HandlingForbidsReshare { .. }
            | DenyReason::OnwardSharingForbidden { .. }
            | DenyReason::OriginatorConsentRequired { .. } => RejectCode::HandlingNotPermitted,
            DenyReason::VictimDataNotAllowed { .. }
            | DenyReason::VictimPurposeMissing { .. }
            | DenyReason::VictimPurposeNotPermitted { .. }
            | DenyReason::VictimAlsoOffender { .. } => RejectCode::VictimDataNotPermitted,
            DenyReason::Expired { .. } | DenyReason::PastRetention { .. } => RejectCode::Expired,
            DenyReason::NotReleased { .. } => RejectCode::ReleaseNotApproved,
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::WrongAgreement { record, checked } => write!(
                f,
                "the record is shared under agreement {record}, not under agreement {checked}"
            ),
            DenyReason::UnknownAgreement { agreement } => write!(
                f,
                "agreement {agreement} is not known to this node \
                 (hint: list its file under `agreements` in the node file)"
            ),
            DenyReason::OriginatorNotLocal { originator, local } => write!(
                f,
                "the record names originator {originator}, but this node publishes only as {local}"
            ),
            DenyReason::NotMember {
                party,
                agency,
                agreement,
            } => write!(
                f,
                "{party} {agency} is not a member of agreement {agreement}"
            ),
            DenyReason::NotSigned { agreement, missing } => write!(
                f,
                "agreement {agreement} has not taken effect: the signature of {} is not held yet \
                 (hint: each member signs with `accord agreement sign`; members exchange \
                 signatures when they connect)",
                missing
                    .iter()
                    .map(AgencyId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DenyReason::NotYetInForce {
                agreement,
                valid_from,
                now,
            } => write!(
                f,
                "agreement {agreement} is not yet in force at {now}: it takes effect on {valid_from}"
            ),
            DenyReason::NoLongerInForce {
                agreement,
                valid_until,
                now,
            } => write!(
                f,
                "agreement {agreement} is no longer in force at {now}: its last day was {valid_until}"
            ),
            DenyReason::CreatedOutsideAgreement {
                agreement,
                created,
                valid_from,
                valid_until,
            } => write!(
                f,
                "the record was created {created}, outside agreement {agreement}'s validity \
                 ({valid_from} to {valid_until}), so it cannot be shared under it"
            ),
            DenyReason::CreatedInFuture { created, now } => write!(
                f,
                "the record says it was created {created}, later than now ({now}) by more than \
                 {} seconds (hint: check the clock, or leave `created` out to take the time of \
                 publishing)",
                super::rules::CLOCK_SKEW_SECS
            ),
            DenyReason::CategoryNotPermitted {
                category,
                agreement,
            } => write!(
                f,
                "agreement {agreement} does not permit records of category {category}"
            ),
            DenyReason::HandlingTooPermissive {
                handling,
                most_permissive,
                agreement,
            } => write!(
                f,
                "handling code {handling} is more permissive than agreement {agreement} allows \
                 (hint: use {most_permissive} or a more restrictive code)"
            ),
            DenyReason::VictimDataNotAllowed { agreement } => write!(
                f,
                "a victim carries identifying fields, which agreement {agreement} does not permit \
                 (hint: remove the victim's name, aliases, birth details and documents)"
            ),
            DenyReason::VictimPurposeMissing { agreement } => write!(
                f,
                "a victim carries identifying fields but the record states no \
                 victim_data_purpose, which agreement {agreement} requires"
            ),
            DenyReason::VictimPurposeNotPermitted {
                purpose,
                permitted,
                agreement,
            } => {
                write!(
                    f,
                    "agreement {agreement} does not permit victim-identifying data for purpose \
                     {purpose}; it permits "
                )?;
                if permitted.is_empty() {
                    return f.write_str("none");
                }
                for (i, p) in permitted.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            DenyReason::VictimAlsoOffender {
                victim,
                other,
                role,
                matched_by,
            } => write!(
                f,
                "subjects[{victim}] (victim) and subjects[{other}] ({role}) are the same person \
                 ({matched_by}); a victim is never also an offender in one record"
            ),
            DenyReason::NotReleased {
                agreement,
                needed,
                carried,
            } => write!(
                f,
                "agreement {agreement} requires {needed} releaser approval(s) for this record \
                 (its [release] clause); it carries {carried}"
            ),
            DenyReason::Expired { expires, now } => {
                write!(f, "the record expired at {expires} (now {now})")
            }
            DenyReason::PastRetention {
                created,
                retention_days,
                until,
                agreement,
                now,
            } => write!(
                f,
                "the record, created {created}, is past agreement {agreement}'s retention of \
                 {retention_days} days, which ended at {until} (now {now})"
            ),
            DenyReason::HandlingForbidsReshare { handling, from, to } => write!(
                f,
                "a {handling} record received under agreement {from} is never re-shared under \
                 agreement {to} without the originator's permission"
            ),
            DenyReason::OnwardSharingForbidden { from, to } => write!(
                f,
                "agreement {from} never permits onward sharing, so the record is not re-shared \
                 under agreement {to}"
            ),
            DenyReason::OriginatorConsentRequired {
                originator,
                from,
                to,
            } => write!(
                f,
                "agreement {from} permits onward sharing only with the consent of originator \
                 {originator}, which this node does not hold, so the record is not re-shared \
                 under agreement {to}"
            ),
        }
    }
}

impl std::error::Error for DenyReason {}
