//! Victims' return cases (recommendations 8, 9).
//!
//! A case is opened by a `return-coordination` record with status `identified` that carries
//! the victim as a person subject (role `victim`); its identifying fields travel only under an
//! agreement whose policy permits victim data for the purpose `return`. Every later step is a
//! `return-coordination` record whose `responds_to` names the case and whose `return_status`
//! is the new state, **without** the victim's identifying data. States only move forward:
//! identified → protected → travel-documents-requested → documents-issued → returned → closed
//! (skipping ahead is allowed; repeating the current state adds a note).
//!
//! A case may also grow from another record: when `return-coordination` records respond to a
//! `victim-identification` record (docs/records.md), that record is the case.
//!
//! Nothing listed here identifies a victim: [`Case`] holds nationalities, never names,
//! aliases, birth details or documents, and no summaries (free text may name them).

use std::collections::BTreeMap;

use accord_protocol::record::{Person, ReturnStatus};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Grading, HandlingCode, PersonRole, RecordId, Subject,
    Timestamp, VictimPurpose,
};
use serde::Serialize;
use thiserror::Error;

use super::{Held, Holdings, draft, human_duration};
use crate::draft::Draft;

/// How the summary of an opening record names the victim's home country.
const HOME_PREFIX: &str = "Home country: ";

/// The states in their order, joined for messages.
fn order() -> String {
    ReturnStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Why a victim description is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VictimError {
    /// The JSON is not a person.
    #[error("not a person: {0}")]
    Malformed(String),
    /// The person is not a victim.
    #[error("the person has role `{0}`; a return case is for a victim (role `victim`)")]
    NotAVictim(PersonRole),
}

/// A victim from JSON: a person object (`type` `person` may be left out, and `role` too, which
/// is then `victim`), fields as in docs/records.md.
pub fn victim_from_json(bytes: &[u8]) -> Result<Person, VictimError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| VictimError::Malformed(e.to_string()))?;
    let Some(obj) = value.as_object_mut() else {
        return Err(VictimError::Malformed(
            "expected a JSON object with the victim's fields".into(),
        ));
    };
    match obj.remove("type") {
        None => {}
        Some(serde_json::Value::String(t)) if t == "person" => {}
        Some(other) => {
            return Err(VictimError::Malformed(format!(
                "`type`: {other} is not `person`"
            )));
        }
    }
    obj.entry("role")
        .or_insert_with(|| serde_json::Value::String(PersonRole::Victim.as_str().into()));
    let person: Person = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            VictimError::Malformed(inner.to_string())
        } else {
            VictimError::Malformed(format!("`{path}`: {inner}"))
        }
    })?;
    check_victim(&person)?;
    Ok(person)
}

/// Refuses a person who is not a victim.
pub fn check_victim(person: &Person) -> Result<(), VictimError> {
    if person.role != PersonRole::Victim {
        return Err(VictimError::NotAVictim(person.role));
    }
    Ok(())
}

/// What a person states when opening a case.
#[derive(Clone, Debug)]
pub struct Opening {
    /// The agreement to share under.
    pub agreement: AgreementId,
    /// The victim (role `victim`).
    pub victim: Person,
    /// The victim's home country, which the return is to.
    pub home: Country,
    /// The situation, in words.
    pub summary: String,
    /// Handling code.
    pub handling: HandlingCode,
    /// The restriction of an `H3` record.
    pub handling_restriction: Option<String>,
    /// Grading.
    pub grading: Grading,
}

/// The `return-coordination` draft that opens a case: status `identified`, the victim as a
/// subject, `victim_data_purpose` `return` when the victim carries identifying fields, and the
/// home country as the summary's first line.
pub fn open_draft(o: Opening) -> Draft {
    let purpose = o
        .victim
        .has_identifying_fields()
        .then_some(VictimPurpose::Return);
    let mut d = draft(
        o.agreement,
        Category::ReturnCoordination,
        o.handling,
        o.handling_restriction,
        o.grading,
        format!("{HOME_PREFIX}{}.\n\n{}", o.home, o.summary.trim()),
    );
    d.subjects = vec![Subject::Person(o.victim)];
    d.victim_data_purpose = purpose;
    d.return_status = Some(ReturnStatus::Identified);
    d
}

/// A victim as listed: never more than the role and nationality.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VictimView {
    /// Always `victim`.
    pub role: PersonRole,
    /// Nationality, when stated.
    pub nationality: Option<Country>,
}

/// A return case as `accord returns` lists it. It holds nothing that identifies the victim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    /// The record that is the case.
    pub case: RecordId,
    /// Its agreement.
    pub agreement: AgreementId,
    /// Who opened it (`None` when this node does not hold the opening record).
    pub opened_by: Option<AgencyId>,
    /// When it was opened (the opening record's creation), when held.
    pub opened: Option<Timestamp>,
    /// The victims, by nationality only.
    pub victims: Vec<VictimView>,
    /// The victim's home country, when known.
    pub home: Option<Country>,
    /// The current state: the furthest any standing record of the case reports.
    pub state: ReturnStatus,
    /// Since when: the first record that reported the current state.
    pub since: Timestamp,
    /// Status records after the opening one.
    pub updates: usize,
    /// The latest record of the case.
    pub last: RecordId,
    /// Whether the opening record has been withdrawn.
    pub withdrawn: bool,
}

impl Case {
    /// Seconds in the current state at `now`.
    pub fn time_in_state(&self, now: Timestamp) -> i64 {
        now.unix() - self.since.unix()
    }

    /// The victims for a table: `victim (PK)`, `2 victims (PK, AF)`.
    pub fn victims_text(&self) -> String {
        let nationalities: Vec<&str> = self
            .victims
            .iter()
            .map(|v| v.nationality.as_ref().map_or("?", |c| c.as_str()))
            .collect();
        match nationalities.len() {
            0 => "-".to_owned(),
            1 => format!("victim ({})", nationalities.join("")),
            n => format!("{n} victims ({})", nationalities.join(", ")),
        }
    }
}

/// A case as `accord returns --json` prints it: the case and its time in state.
#[derive(Clone, Debug, Serialize)]
pub struct CaseView<'a> {
    /// The case.
    #[serde(flatten)]
    pub case: &'a Case,
    /// Seconds in the current state.
    pub time_in_state_secs: i64,
    /// The same, for people.
    pub time_in_state: String,
}

impl<'a> CaseView<'a> {
    /// The view of `case` at `now`.
    pub fn new(case: &'a Case, now: Timestamp) -> Self {
        let secs = case.time_in_state(now);
        Self {
            case,
            time_in_state_secs: secs,
            time_in_state: human_duration(secs),
        }
    }
}

/// Whether a record is a standing status record: a `return-coordination` record that is not a
/// withdrawal and not withdrawn.
fn is_status_record(holdings: &Holdings, held: &Held) -> bool {
    held.record.category == Category::ReturnCoordination
        && held.record.withdraws.is_none()
        && held.record.return_status.is_some()
        && !holdings.is_withdrawn(&held.id)
}

/// The case a status record belongs to: follow `responds_to` through return-coordination
/// records to the first record that responds to nothing, or that is of another category, or
/// that this node does not hold.
fn root_of(holdings: &Holdings, held: &Held) -> RecordId {
    let mut current = held;
    // Ids are digests, so a chain cannot loop; the bound only keeps a damaged store finite.
    for _ in 0..256 {
        let Some(target) = current.record.responds_to else {
            return current.id;
        };
        match holdings.get(&target) {
            Some(t) if t.record.category == Category::ReturnCoordination => current = t,
            _ => return target,
        }
    }
    current.id
}

/// Every case held, oldest first.
pub fn cases(holdings: &Holdings) -> Vec<Case> {
    let mut groups: BTreeMap<RecordId, Vec<&Held>> = BTreeMap::new();
    for held in holdings.iter() {
        if is_status_record(holdings, held) {
            groups
                .entry(root_of(holdings, held))
                .or_default()
                .push(held);
        }
    }
    // A withdrawn opening record is not a status record, but its case is still listed.
    for held in holdings.iter() {
        let r = &held.record;
        if r.category == Category::ReturnCoordination
            && r.responds_to.is_none()
            && r.withdraws.is_none()
            && holdings.is_withdrawn(&held.id)
        {
            groups.entry(held.id).or_default();
        }
    }
    let mut found: Vec<Case> = groups
        .into_iter()
        .filter_map(|(root, members)| case(holdings, root, members))
        .collect();
    found.sort_by_key(|c| (c.opened.unwrap_or(c.since), c.case));
    found
}

fn case(holdings: &Holdings, root: RecordId, mut members: Vec<&Held>) -> Option<Case> {
    members.sort_by_key(|m| (m.record.created, m.id));
    let root_held = holdings.get(&root);
    // The withdrawn opening record still states the case's first status.
    let statuses: Vec<(ReturnStatus, Timestamp)> = root_held
        .filter(|r| r.record.category == Category::ReturnCoordination && members.is_empty())
        .into_iter()
        .chain(members.iter().copied())
        .filter_map(|m| m.record.return_status.map(|s| (s, m.record.created)))
        .collect();
    let state = statuses.iter().map(|(s, _)| *s).max()?;
    let since = statuses
        .iter()
        .filter(|(s, _)| *s == state)
        .map(|(_, t)| *t)
        .min()?;
    let first = root_held.or_else(|| members.first().copied())?;
    let updates = members.iter().filter(|m| m.id != root).count();
    let last = members.last().map_or(first.id, |m| m.id);
    let victims: Vec<VictimView> = root_held
        .into_iter()
        .chain(members.iter().copied())
        .map(victims_of)
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    let home = root_held
        .and_then(|r| home_of(&r.record.summary))
        .or_else(|| victims.iter().find_map(|v| v.nationality));
    Some(Case {
        case: root,
        agreement: first.record.agreement.clone(),
        opened_by: root_held.map(|r| r.record.originator.clone()),
        opened: root_held.map(|r| r.record.created),
        victims,
        home,
        state,
        since,
        updates,
        last,
        withdrawn: holdings.is_withdrawn(&root),
    })
}

/// The standing status records of the case `case`, oldest first: what happened, as each
/// member reported it (none carries victim data: updates have no subjects).
pub fn history<'a>(holdings: &'a Holdings, case: &RecordId) -> Vec<&'a Held> {
    let mut found: Vec<&Held> = holdings
        .iter()
        .filter(|h| is_status_record(holdings, h) && root_of(holdings, h) == *case)
        .collect();
    found.sort_by_key(|h| (h.record.created, h.id));
    found
}

fn victims_of(held: &Held) -> Vec<VictimView> {
    held.record
        .persons()
        .filter(|p| p.role == PersonRole::Victim)
        .map(|p| VictimView {
            role: PersonRole::Victim,
            nationality: p.nationality,
        })
        .collect()
}

/// The home country an opening record's summary states on its first line.
fn home_of(summary: &str) -> Option<Country> {
    let line = summary.lines().next()?;
    let code = line.strip_prefix(HOME_PREFIX)?.strip_suffix('.')?;
    Country::new(code).ok()
}

/// Why a record is not a case that can be updated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CaseError {
    /// The record is a status update of a case.
    #[error("it is a status update of case {0}; give the case's id")]
    IsUpdate(RecordId),
    /// The record is not a return case.
    #[error(
        "it is a {0} record, not a return case (open one with `accord return open`; \
         `accord returns` lists the cases)"
    )]
    NotACase(Category),
    /// The record withdraws another.
    #[error("it is a withdrawal, not a return case")]
    IsWithdrawal,
}

/// The case `id` names: a return-coordination record that responds to nothing, or a record
/// other return-coordination records respond to.
pub fn find_case(holdings: &Holdings, held: &Held) -> Result<Case, CaseError> {
    let r = &held.record;
    if r.withdraws.is_some() {
        return Err(CaseError::IsWithdrawal);
    }
    if r.category == Category::ReturnCoordination && r.responds_to.is_some() {
        return Err(CaseError::IsUpdate(root_of(holdings, held)));
    }
    if let Some(c) = cases(holdings).into_iter().find(|c| c.case == held.id) {
        return Ok(c);
    }
    // a victim-identification record no return-coordination record has named yet: the first
    // update opens its case (docs/workflows.md), which starts at `identified`
    if r.category == Category::VictimIdentification && !holdings.is_withdrawn(&held.id) {
        let victims = victims_of(held);
        return Ok(Case {
            case: held.id,
            agreement: r.agreement.clone(),
            opened_by: Some(r.originator.clone()),
            opened: Some(r.created),
            home: victims.iter().find_map(|v| v.nationality),
            victims,
            state: ReturnStatus::Identified,
            since: r.created,
            updates: 0,
            last: held.id,
            withdrawn: false,
        });
    }
    Err(CaseError::NotACase(r.category))
}

/// Why a case cannot move to a state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// The case is closed.
    #[error("case {case} is closed; a closed case takes no more updates")]
    Closed {
        /// The case.
        case: RecordId,
    },
    /// The state is before the current one.
    #[error(
        "case {case} is at `{current}` since {since}; `{to}` would go back (the order is {order}; \
         skipping ahead is allowed)"
    )]
    Backwards {
        /// The case.
        case: RecordId,
        /// Its state.
        current: ReturnStatus,
        /// Since when.
        since: Timestamp,
        /// The state asked for.
        to: ReturnStatus,
        /// The states in order.
        order: String,
    },
    /// The opening record has been withdrawn.
    #[error("case {case} was withdrawn by its originator; it takes no more updates")]
    Withdrawn {
        /// The case.
        case: RecordId,
    },
}

/// Checks that `case` may move to `to`: forward or staying (a note), never back, never after
/// `closed`, never on a withdrawn case.
pub fn check_transition(case: &Case, to: ReturnStatus) -> Result<(), TransitionError> {
    if case.withdrawn {
        return Err(TransitionError::Withdrawn { case: case.case });
    }
    if case.state == ReturnStatus::Closed {
        return Err(TransitionError::Closed { case: case.case });
    }
    if to < case.state {
        return Err(TransitionError::Backwards {
            case: case.case,
            current: case.state,
            since: case.since,
            to,
            order: order(),
        });
    }
    Ok(())
}

/// A status update as a person writes it.
#[derive(Clone, Debug)]
pub struct Update {
    /// The new state.
    pub status: ReturnStatus,
    /// What happened, in words.
    pub note: String,
    /// Handling code.
    pub handling: HandlingCode,
    /// The restriction of an `H3` record.
    pub handling_restriction: Option<String>,
    /// Grading.
    pub grading: Grading,
}

/// The `return-coordination` draft of an update to `case` (checked with
/// [`check_transition`]): the new status and the note, and no subjects, so no victim data.
pub fn update_draft(case: &Case, u: Update) -> Draft {
    let mut d = draft(
        case.agreement.clone(),
        Category::ReturnCoordination,
        u.handling,
        u.handling_restriction,
        u.grading,
        u.note.trim().to_owned(),
    );
    d.responds_to = Some(case.case);
    d.return_status = Some(u.status);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(state: ReturnStatus) -> Case {
        Case {
            case: RecordId::from_bytes([7; 32]),
            agreement: AgreementId::new("QUAD-2026").unwrap(),
            opened_by: None,
            opened: None,
            victims: vec![],
            home: None,
            state,
            since: Timestamp::EPOCH,
            updates: 0,
            last: RecordId::from_bytes([7; 32]),
            withdrawn: false,
        }
    }

    #[test]
    fn states_move_forward_only_and_stop_at_closed() {
        use ReturnStatus::*;
        let c = case(TravelDocumentsRequested);
        assert!(
            check_transition(&c, TravelDocumentsRequested).is_ok(),
            "a note"
        );
        assert!(check_transition(&c, DocumentsIssued).is_ok());
        assert!(check_transition(&c, Closed).is_ok(), "skipping ahead");
        let e = check_transition(&c, Protected).unwrap_err().to_string();
        assert!(e.contains("`protected` would go back"), "{e}");
        assert!(
            e.contains("identified → protected → travel-documents-requested"),
            "{e}"
        );
        let e = check_transition(&case(Closed), Closed).unwrap_err();
        assert!(matches!(e, TransitionError::Closed { .. }));
        let mut w = case(Identified);
        w.withdrawn = true;
        assert!(matches!(
            check_transition(&w, Protected),
            Err(TransitionError::Withdrawn { .. })
        ));
    }

    #[test]
    fn a_victim_from_json_is_a_victim() {
        let p = victim_from_json(br#"{"name": "Example Person", "nationality": "AF"}"#).unwrap();
        assert_eq!(p.role, PersonRole::Victim);
        let p = victim_from_json(br#"{"type": "person", "role": "victim"}"#).unwrap();
        assert!(!p.has_identifying_fields());
        let e = victim_from_json(br#"{"role": "suspect"}"#).unwrap_err();
        assert!(matches!(e, VictimError::NotAVictim(PersonRole::Suspect)));
        let e = victim_from_json(br#"{"type": "vessel"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`type`"), "{e}");
        let e = victim_from_json(br#"{"colour": "red"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        assert_eq!(
            home_of("Home country: PK.\n\nText"),
            Some(Country::new("PK").unwrap())
        );
        assert_eq!(home_of("Home: PK."), None);
    }
}
