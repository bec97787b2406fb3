//! Normalised subject keys: the same function builds the index and reads a query, so a query
//! finds what was indexed whatever its case, spacing or punctuation.

use accord_protocol::{Record, Subject};

use crate::policy::normalise_name;
use crate::search::selectors;

/// The kinds of subject key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubjectKind {
    /// A person's name.
    Person = 1,
    /// A person's name with date of birth, `name@YYYY[-MM[-DD]]`.
    PersonBorn = 2,
    /// An organisation's name.
    Organisation = 3,
    /// A vessel's name.
    Vessel = 4,
    /// A vessel's IMO number.
    Imo = 5,
    /// A vessel's MMSI.
    Mmsi = 6,
    /// A vehicle registration.
    Vehicle = 7,
    /// A phone number.
    Phone = 8,
    /// An account identifier.
    Account = 9,
    /// A travel or identity document number.
    Document = 10,
}

impl SubjectKind {
    /// Every kind, with the name used in queries (`--subject KIND:VALUE`).
    pub const ALL: [(SubjectKind, &'static str); 10] = [
        (SubjectKind::Person, "person"),
        (SubjectKind::PersonBorn, "person-born"),
        (SubjectKind::Organisation, "org"),
        (SubjectKind::Vessel, "vessel"),
        (SubjectKind::Imo, "imo"),
        (SubjectKind::Mmsi, "mmsi"),
        (SubjectKind::Vehicle, "vehicle"),
        (SubjectKind::Phone, "phone"),
        (SubjectKind::Account, "account"),
        (SubjectKind::Document, "document"),
    ];

    /// The kind's query name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| n)
    }

    /// The kind for a query name.
    pub fn from_name(name: &str) -> Option<SubjectKind> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// Normalises a value of this kind as written by a person or in a record.
    pub fn normalise(self, value: &str) -> String {
        match self {
            SubjectKind::Person | SubjectKind::Organisation | SubjectKind::Vessel => {
                normalise_name(value)
            }
            SubjectKind::PersonBorn => match value.rsplit_once('@') {
                Some((name, born)) => format!("{}@{}", normalise_name(name), born.trim()),
                None => normalise_name(value),
            },
            SubjectKind::Phone => value
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect(),
            SubjectKind::Imo | SubjectKind::Mmsi => {
                value.chars().filter(char::is_ascii_digit).collect()
            }
            SubjectKind::Vehicle => value
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_uppercase)
                .collect(),
            // an IBAN in its electronic form; one whose checksum fails is kept as typed (a
            // partner's record is indexed whatever it holds)
            SubjectKind::Account => selectors::account(value).unwrap_or_else(|_| {
                value
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_uppercase)
                    .collect()
            }),
            SubjectKind::Document => selectors::document(value),
        }
    }
}

/// Every (kind, normalised value) a record is indexed under, without repeats.
pub fn subject_keys(record: &Record) -> Vec<(SubjectKind, String)> {
    let mut out = Vec::new();
    let mut add = |kind: SubjectKind, value: &str| {
        let v = kind.normalise(value);
        if !v.is_empty() && !out.contains(&(kind, v.clone())) {
            out.push((kind, v));
        }
    };
    for s in &record.subjects {
        match s {
            Subject::Person(p) => {
                for name in p.name.iter().chain(&p.aliases) {
                    add(SubjectKind::Person, name);
                    if let Some(born) = p.date_of_birth {
                        add(SubjectKind::PersonBorn, &format!("{name}@{born}"));
                    }
                }
                for d in &p.documents {
                    add(SubjectKind::Document, &d.number);
                }
            }
            Subject::Organisation(o) => {
                for name in std::iter::once(&o.name).chain(&o.aliases) {
                    add(SubjectKind::Organisation, name);
                }
            }
            Subject::Vessel(v) => {
                if let Some(n) = &v.name {
                    add(SubjectKind::Vessel, n);
                }
                if let Some(n) = &v.imo {
                    add(SubjectKind::Imo, n);
                }
                if let Some(n) = &v.mmsi {
                    add(SubjectKind::Mmsi, n);
                }
            }
            Subject::Vehicle(v) => {
                if let Some(n) = &v.registration {
                    add(SubjectKind::Vehicle, n);
                }
            }
            Subject::Phone(p) => add(SubjectKind::Phone, &p.number),
            Subject::Account(a) => add(SubjectKind::Account, &a.identifier),
            Subject::TravelDocument(d) => add(SubjectKind::Document, &d.number),
        }
    }
    out
}

/// A subject filter: one kind, or every kind, and a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectQuery {
    /// The kinds to look in.
    pub kinds: Vec<SubjectKind>,
    /// The value as given.
    pub value: String,
}

impl SubjectQuery {
    /// Parses `KIND:VALUE` (e.g. `phone:+92 300 1234567`, `person:Ali Khan@1981-04`) or a bare
    /// value, which is looked up under every kind.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some((kind, value)) = text.split_once(':')
            && let Some(k) = SubjectKind::from_name(kind.trim())
        {
            let k = if k == SubjectKind::Person && value.contains('@') {
                SubjectKind::PersonBorn
            } else {
                k
            };
            if k.normalise(value).is_empty() {
                return Err(format!(
                    "subject `{text}` has nothing to search for after `{kind}:`"
                ));
            }
            return Ok(Self {
                kinds: vec![k],
                value: value.to_owned(),
            });
        }
        let kinds: Vec<SubjectKind> = SubjectKind::ALL
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !k.normalise(text).is_empty())
            .collect();
        if kinds.is_empty() || text.trim().is_empty() {
            return Err(format!(
                "subject `{text}` has nothing to search for; give a value or KIND:VALUE with KIND one of {}",
                SubjectKind::ALL
                    .iter()
                    .map(|(_, n)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Self {
            kinds,
            value: text.to_owned(),
        })
    }

    /// Whether `record` has this subject.
    pub fn matches(&self, record: &Record) -> bool {
        let keys = subject_keys(record);
        self.kinds
            .iter()
            .any(|k| keys.contains(&(*k, k.normalise(&self.value))))
    }
}
