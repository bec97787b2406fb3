//! Victims are protected (invariant 6, docs/invariants.md): their identifying fields travel
//! only under agreements that permit them, for the purposes they permit, and no one is both a
//! victim and an offender in one record.

use accord_config::Agreement;
use accord_protocol::record::Person;
use accord_protocol::{PartialDate, PersonRole, Record, Subject};

use super::decision::{DenyReason, SamePerson};

/// A victim carrying identifying fields is permitted only when the agreement allows victim
/// data and lists the record's `victim_data_purpose`.
pub(crate) fn data_permitted(record: &Record, agreement: &Agreement) -> Result<(), DenyReason> {
    if !record.has_victim_identifying_data() {
        return Ok(());
    }
    let rule = &agreement.victim_data;
    if !rule.allowed {
        return Err(DenyReason::VictimDataNotAllowed {
            agreement: agreement.id.clone(),
        });
    }
    match record.victim_data_purpose {
        None => Err(DenyReason::VictimPurposeMissing {
            agreement: agreement.id.clone(),
        }),
        Some(purpose) if rule.permits(purpose) => Ok(()),
        Some(purpose) => Err(DenyReason::VictimPurposeNotPermitted {
            purpose,
            permitted: rule.purposes.clone(),
            agreement: agreement.id.clone(),
        }),
    }
}

/// No person is both a victim and a suspect or facilitator in the record. Two entries are the
/// same person when they carry the same `ref`, or the same normalised name and the same date
/// of birth (both present on both).
pub(crate) fn never_offender(record: &Record) -> Result<(), DenyReason> {
    let people: Vec<Key<'_>> = record
        .subjects
        .iter()
        .enumerate()
        .filter_map(|(index, s)| match s {
            Subject::Person(p) => Some(Key::of(index, p)),
            _ => None,
        })
        .collect();
    let victims = people.iter().filter(|k| k.role == PersonRole::Victim);
    for victim in victims {
        let offenders = people.iter().filter(|k| is_offender(k.role));
        for other in offenders {
            if let Some(matched_by) = victim.same_as(other) {
                return Err(DenyReason::VictimAlsoOffender {
                    victim: victim.index,
                    other: other.index,
                    role: other.role,
                    matched_by,
                });
            }
        }
    }
    Ok(())
}

fn is_offender(role: PersonRole) -> bool {
    matches!(role, PersonRole::Suspect | PersonRole::Facilitator)
}

/// What recognises a person: its position, role, ref, normalised name and date of birth.
struct Key<'a> {
    index: usize,
    role: PersonRole,
    local_ref: Option<&'a str>,
    name: Option<String>,
    date_of_birth: Option<PartialDate>,
}

impl<'a> Key<'a> {
    fn of(index: usize, p: &'a Person) -> Self {
        Self {
            index,
            role: p.role,
            local_ref: p.local_ref.as_deref(),
            name: p.name.as_deref().map(normalise_name),
            date_of_birth: p.date_of_birth,
        }
    }

    fn same_as(&self, other: &Key<'_>) -> Option<SamePerson> {
        if self.local_ref.is_some() && self.local_ref == other.local_ref {
            return Some(SamePerson::Ref);
        }
        let same_name = self.name.is_some() && self.name == other.name;
        let same_birth = self.date_of_birth.is_some() && self.date_of_birth == other.date_of_birth;
        (same_name && same_birth).then_some(SamePerson::NameAndDateOfBirth)
    }
}

/// A name compared case-insensitively with its whitespace collapsed: `"  ALI\tKhan "` and
/// `"ali khan"` are one name.
pub fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}
