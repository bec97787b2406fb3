//! Requests for information to a member's focal point, and their answers (recommendation 4).
//!
//! A request is a `request-for-information` record under an agreement, `addressed_to` one
//! other member; that member's focal point (named in the agreement) receives it. The answer
//! is a `response` record whose `responds_to` names the request. Both are ordinary records:
//! they follow the agreement's policy and reach exactly its members.

use accord_config::{Agreement, FocalPoint, NodeConfig};
use accord_protocol::{
    AgencyId, AgreementId, Category, Grading, HandlingCode, Record, RecordId, Subject, Timestamp,
};
use serde::Serialize;
use thiserror::Error;

use super::{Held, Holdings, draft, human_duration};
use crate::draft::Draft;

/// Why a request cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// The node is not party to the agreement.
    #[error("agreement `{agreement}`: {agency} is not party to it; its agreements are: {known}")]
    UnknownAgreement {
        /// The agreement named.
        agreement: AgreementId,
        /// This node's agency.
        agency: AgencyId,
        /// The agreements it is party to.
        known: String,
    },
    /// The addressee is not a member of the agreement.
    #[error("{to} is not a member of {agreement}; its members are: {members}")]
    NotMember {
        /// The addressee named.
        to: AgencyId,
        /// The agreement.
        agreement: AgreementId,
        /// Its members.
        members: String,
    },
    /// The addressee is this agency.
    #[error(
        "a request cannot be addressed to this agency ({to}) itself; address another member of \
         {agreement}: {others}"
    )]
    ToSelf {
        /// This agency.
        to: AgencyId,
        /// The agreement.
        agreement: AgreementId,
        /// The other members.
        others: String,
    },
}

/// The agreement a request goes under and the focal point it goes to, once `to` is checked:
/// a member of the agreement other than this agency.
pub fn addressee<'a>(
    cfg: &'a NodeConfig,
    agreement: &AgreementId,
    to: &AgencyId,
) -> Result<(&'a Agreement, Option<&'a FocalPoint>), RequestError> {
    let Some(a) = cfg.agreements.get(agreement) else {
        let known: Vec<&str> = cfg.agreements.keys().map(|a| a.as_str()).collect();
        return Err(RequestError::UnknownAgreement {
            agreement: agreement.clone(),
            agency: cfg.agency.clone(),
            known: list_or_none(&known),
        });
    };
    if *to == cfg.agency {
        let others: Vec<&str> = a
            .members
            .iter()
            .filter(|m| **m != cfg.agency)
            .map(|m| m.as_str())
            .collect();
        return Err(RequestError::ToSelf {
            to: to.clone(),
            agreement: agreement.clone(),
            others: list_or_none(&others),
        });
    }
    if !a.is_member(to) {
        let members: Vec<&str> = a.members.iter().map(|m| m.as_str()).collect();
        return Err(RequestError::NotMember {
            to: to.clone(),
            agreement: agreement.clone(),
            members: list_or_none(&members),
        });
    }
    Ok((a, a.focal_points.get(to)))
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// What a person asks.
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// The agreement to ask under.
    pub agreement: AgreementId,
    /// The member whose focal point is asked.
    pub to: AgencyId,
    /// The question.
    pub summary: String,
    /// The categories of information wanted; written into the summary.
    pub categories_of_interest: Vec<Category>,
    /// Who or what the request is about.
    pub subjects: Vec<Subject>,
    /// Handling code.
    pub handling: HandlingCode,
    /// The restriction of an `H3` request.
    pub handling_restriction: Option<String>,
    /// Grading of what the request itself states.
    pub grading: Grading,
}

/// The `request-for-information` draft of a request.
pub fn request_draft(spec: RequestSpec) -> Draft {
    let mut summary = spec.summary.trim().to_owned();
    if !spec.categories_of_interest.is_empty() {
        let wanted: Vec<&str> = spec
            .categories_of_interest
            .iter()
            .map(|c| c.as_str())
            .collect();
        summary.push_str(&format!(
            "\n\nCategories of interest: {}.",
            wanted.join(", ")
        ));
    }
    let mut d = draft(
        spec.agreement,
        Category::RequestForInformation,
        spec.handling,
        spec.handling_restriction,
        spec.grading,
        summary,
    );
    d.subjects = spec.subjects;
    d.addressed_to = Some(spec.to);
    d
}

/// Why a record cannot be answered by this agency.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RespondError {
    /// The record is not a request.
    #[error("it is a {0} record, not a request-for-information")]
    NotARequest(Category),
    /// The record is the withdrawal of a request.
    #[error("it is the withdrawal of request {0}, not a request")]
    IsWithdrawal(RecordId),
    /// The request is addressed to another member.
    #[error("it is addressed to {to}, not to this agency ({local}); only {to} answers it")]
    NotAddressedHere {
        /// Its addressee.
        to: AgencyId,
        /// This agency.
        local: AgencyId,
    },
    /// Its originator withdrew it.
    #[error("its originator withdrew it (record {0})")]
    Withdrawn(RecordId),
}

/// Checks that `request` is a standing request addressed to `local`.
pub fn check_answerable(
    holdings: &Holdings,
    request: &Held,
    local: &AgencyId,
) -> Result<(), RespondError> {
    let r = &request.record;
    if r.category != Category::RequestForInformation {
        return Err(RespondError::NotARequest(r.category));
    }
    if let Some(target) = r.withdraws {
        return Err(RespondError::IsWithdrawal(target));
    }
    match &r.addressed_to {
        Some(to) if to == local => {}
        Some(to) => {
            return Err(RespondError::NotAddressedHere {
                to: to.clone(),
                local: local.clone(),
            });
        }
        // A valid request always names its addressee; one that does not is no one's to answer.
        None => return Err(RespondError::NotARequest(r.category)),
    }
    if let Some(by) = holdings.withdrawn_by(&request.id) {
        return Err(RespondError::Withdrawn(by));
    }
    Ok(())
}

/// An answer as a person writes it.
#[derive(Clone, Debug)]
pub struct ResponseSpec {
    /// The answer.
    pub summary: String,
    /// Who or what it is about.
    pub subjects: Vec<Subject>,
    /// Handling code; the request's when not given.
    pub handling: Option<HandlingCode>,
    /// The restriction of an `H3` answer.
    pub handling_restriction: Option<String>,
    /// Grading of the information given.
    pub grading: Grading,
}

/// The `response` draft answering `request` (checked with [`check_answerable`]). Without a
/// handling code the answer takes the request's, and its restriction.
pub fn response_draft(request: &Held, spec: ResponseSpec) -> Draft {
    let (handling, restriction) = match spec.handling {
        Some(h) => (h, spec.handling_restriction),
        None => (
            request.record.handling,
            spec.handling_restriction
                .or_else(|| request.record.handling_restriction.clone()),
        ),
    };
    let mut d = draft(
        request.record.agreement.clone(),
        Category::Response,
        handling,
        restriction,
        spec.grading,
        spec.summary.trim().to_owned(),
    );
    d.subjects = spec.subjects;
    d.responds_to = Some(request.id);
    d
}

/// Whether a request has been answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestState {
    /// No response references it yet.
    Open,
    /// At least one response references it.
    Answered,
    /// Its originator withdrew it.
    Withdrawn,
}

impl RequestState {
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Open => "open",
            RequestState::Answered => "answered",
            RequestState::Withdrawn => "withdrawn",
        }
    }
}

/// Which way a request went, seen from this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// This agency asked.
    Sent,
    /// This agency was asked.
    Received,
    /// Between two other members of a shared agreement.
    Between,
}

/// A focal point, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FocalPointView {
    /// Who.
    pub name: String,
    /// How to reach them.
    pub contact: String,
}

/// One request as `accord requests` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestRow {
    /// The request's id.
    pub id: RecordId,
    /// Who asked.
    pub from: AgencyId,
    /// Who is asked.
    pub to: AgencyId,
    /// The addressee's focal point under the agreement, when this node's copy of the
    /// agreement names one.
    pub focal_point: Option<FocalPointView>,
    /// The agreement.
    pub agreement: AgreementId,
    /// Sent, received, or between two other members.
    pub direction: Direction,
    /// When the request was created.
    pub created: Timestamp,
    /// Seconds since then.
    pub age_secs: i64,
    /// The same, for people (`3d 4h`).
    pub age: String,
    /// Open, answered or withdrawn.
    pub state: RequestState,
    /// The responses, oldest first.
    pub answers: Vec<RecordId>,
}

/// The requests held, oldest first: those this agency sent or received, and with `all` also
/// those between other members. A corrected request is listed once, as its latest correction,
/// with the answers to every version.
pub fn list(holdings: &Holdings, cfg: &NodeConfig, now: Timestamp, all: bool) -> Vec<RequestRow> {
    let mut rows: Vec<RequestRow> = holdings
        .iter()
        .filter_map(|held| row(holdings, cfg, now, held))
        .filter(|row| all || row.direction != Direction::Between)
        .collect();
    rows.sort_by_key(|r| (r.created, r.id));
    rows
}

fn row(holdings: &Holdings, cfg: &NodeConfig, now: Timestamp, held: &Held) -> Option<RequestRow> {
    let r: &Record = &held.record;
    if r.category != Category::RequestForInformation
        || r.withdraws.is_some()
        || holdings.is_corrected(&held.id)
    {
        return None;
    }
    let to = r.addressed_to.clone()?;
    // The answers to this version and to every version it corrects.
    let mut answers: Vec<&Held> = Vec::new();
    let mut version = Some(held);
    let mut hops = 0;
    while let Some(v) = version {
        answers.extend(
            holdings
                .answers_to(&v.id)
                .into_iter()
                .filter(|a| a.record.category == Category::Response),
        );
        hops += 1;
        version = v
            .record
            .corrects
            .and_then(|c| holdings.get(&c))
            .filter(|_| hops < 64);
    }
    answers.sort_by_key(|a| (a.record.created, a.id));
    let state = if holdings.is_withdrawn(&held.id) {
        RequestState::Withdrawn
    } else if answers.is_empty() {
        RequestState::Open
    } else {
        RequestState::Answered
    };
    let direction = if r.originator == cfg.agency {
        Direction::Sent
    } else if to == cfg.agency {
        Direction::Received
    } else {
        Direction::Between
    };
    let focal_point = cfg
        .agreements
        .get(&r.agreement)
        .and_then(|a| a.focal_points.get(&to))
        .map(|f| FocalPointView {
            name: f.name.clone(),
            contact: f.contact.clone(),
        });
    let age_secs = now.unix() - r.created.unix();
    Some(RequestRow {
        id: held.id,
        from: r.originator.clone(),
        to,
        focal_point,
        agreement: r.agreement.clone(),
        direction,
        created: r.created,
        age_secs,
        age: human_duration(age_secs),
        state,
        answers: answers.into_iter().map(|a| a.id).collect(),
    })
}
