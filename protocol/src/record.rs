//! The record model (docs/records.md): one signed unit of intelligence.
//!
//! A [`Record`] is what an originator signs. Its JSON field names are the wire names; its
//! canonical encoding is in [`crate::canonical`]. Records are immutable: a correction or
//! withdrawal is a new record naming the earlier one.

use serde::{Deserialize, Serialize};

use crate::country::Country;
use crate::error::RecordError;
use crate::ids::{AgencyId, AgreementId, RecordId, Seq};
use crate::time::{Date, PartialDate, Timestamp};
use crate::vocab::{
    Category, DocumentKind, Grading, HandlingCode, LegRole, PersonRole, VictimPurpose,
};

/// The record format version this crate reads and writes.
pub const RECORD_FORMAT: u32 = 1;
/// Longest summary, in bytes of UTF-8.
pub const MAX_SUMMARY_BYTES: usize = 16 * 1024;
/// Longest other text field, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 1024;
/// Most subjects in one record.
pub const MAX_SUBJECTS: usize = 256;
/// Most route legs in one record.
pub const MAX_LEGS: usize = 64;
/// Most aliases, documents or similar list entries inside one subject.
pub const MAX_LIST: usize = 32;

/// One signed unit of intelligence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Format version, [`RECORD_FORMAT`].
    pub v: u32,
    /// The agency that wrote and signed the record.
    pub originator: AgencyId,
    /// The agreement it is shared under.
    pub agreement: AgreementId,
    /// Sequence number per (agreement, originator), gap-free from 1.
    pub seq: Seq,
    /// What it is about.
    pub category: Category,
    /// Handling code.
    pub handling: HandlingCode,
    /// The restriction an `H3` record carries; present exactly when the code is `H3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_restriction: Option<String>,
    /// 4x4 grading.
    pub grading: Grading,
    /// When the originator created it.
    pub created: Timestamp,
    /// When it stops being valid intelligence, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// Who and what it is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
    /// Route legs, in travel order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<RouteLeg>,
    /// The intelligence itself, in words.
    pub summary: String,
    /// Why victim-identifying data is shared; present exactly when a victim carries
    /// identifying fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim_data_purpose: Option<VictimPurpose>,
    /// An earlier record of the same originator and agreement that this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<RecordId>,
    /// An earlier record of the same originator and agreement that this one withdraws.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraws: Option<RecordId>,
    /// The record this one answers or continues: the request a `response` answers, the case a
    /// `return-coordination` update belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responds_to: Option<RecordId>,
    /// The member whose focal point a `request-for-information` is addressed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressed_to: Option<AgencyId>,
    /// The state a `return-coordination` record reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_status: Option<ReturnStatus>,
}

crate::vocab::vocabulary! {
    /// The states of a victim's return case.
    ReturnStatus, "return status" {
        /// The victim has been identified.
        Identified = "identified",
        /// The victim is protected and assisted.
        Protected = "protected",
        /// Travel documents have been requested from the home country.
        TravelDocumentsRequested = "travel-documents-requested",
        /// Travel documents have been issued.
        DocumentsIssued = "documents-issued",
        /// The victim has returned home.
        Returned = "returned",
        /// The case is closed.
        Closed = "closed",
    }
}

crate::vocab::vocabulary! {
    /// An assessment of a travel document.
    DocumentAssessment, "document assessment" {
        /// Genuine and rightfully held.
        Genuine = "genuine",
        /// A genuine document altered.
        Forged = "forged",
        /// A false document made to look genuine.
        Counterfeit = "counterfeit",
        /// Genuine, but obtained by fraud.
        FraudulentlyObtained = "fraudulently-obtained",
        /// Genuine, used by someone other than its holder.
        Impostor = "impostor",
        /// Not yet assessed.
        Unknown = "unknown",
    }
}

/// Who or what a record is about. In JSON an object whose `type` names the variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Subject {
    /// A natural person.
    Person(Person),
    /// An organisation, legal or criminal.
    Organisation(Organisation),
    /// A vessel.
    Vessel(Vessel),
    /// A road vehicle.
    Vehicle(Vehicle),
    /// A phone number.
    Phone(Phone),
    /// A bank, payment or crypto account.
    Account(Account),
    /// A travel document.
    TravelDocument(TravelDocument),
}

/// A natural person. `name`, `aliases`, `date_of_birth`, `place_of_birth` and `documents` are
/// the identifying fields; for a victim they travel only under agreements that permit them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Role in this record.
    pub role: PersonRole,
    /// The originator's handle for this person, so one record can refer to them twice.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub local_ref: Option<String>,
    /// Full name as known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Other names used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Date of birth, to the year, month or day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<PartialDate>,
    /// Place of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_birth: Option<String>,
    /// Nationality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<Country>,
    /// Identity documents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<DocumentRef>,
    /// A non-identifying description (e.g. "adult male, about 30").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Person {
    /// Whether any identifying field is present.
    pub fn has_identifying_fields(&self) -> bool {
        self.name.is_some()
            || !self.aliases.is_empty()
            || self.date_of_birth.is_some()
            || self.place_of_birth.is_some()
            || !self.documents.is_empty()
    }
}

/// A document held by a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRef {
    /// Kind of document.
    pub kind: DocumentKind,
    /// Its number.
    pub number: String,
    /// The issuing country.
    pub issuing_country: Country,
}

/// An organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Name.
    pub name: String,
    /// Other names used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Where it is based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// Free description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A vessel: at least one of name, IMO number or MMSI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vessel {
    /// Name as painted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// IMO number, 7 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imo: Option<String>,
    /// MMSI, 9 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmsi: Option<String>,
    /// Flag state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<Country>,
    /// Free description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A road vehicle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    /// Registration plate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    /// Registering country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// Make, model, colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A phone number in E.164 form, `+` and 8 to 15 digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    /// The number.
    pub number: String,
    /// Free description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A bank, payment-service or crypto account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// IBAN, account number or wallet address.
    pub identifier: String,
    /// Bank or service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    /// Country of the institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// Account holder's name as registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

/// A travel document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TravelDocument {
    /// Kind of document.
    pub kind: DocumentKind,
    /// Its number.
    pub number: String,
    /// The issuing country.
    pub issuing_country: Country,
    /// The holder's name as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Whether it is genuine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<DocumentAssessment>,
}

/// One leg of a route: a country and its role, with optional place and dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteLeg {
    /// The country.
    pub country: Country,
    /// Its role on the route.
    pub role: LegRole,
    /// A place in it (city, port, border crossing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// First date the leg was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Date>,
    /// Last date the leg was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Date>,
}

impl Record {
    /// Whether any victim in the record carries identifying fields.
    pub fn has_victim_identifying_data(&self) -> bool {
        self.persons()
            .any(|p| p.role == PersonRole::Victim && p.has_identifying_fields())
    }

    /// The persons among the subjects.
    pub fn persons(&self) -> impl Iterator<Item = &Person> {
        self.subjects.iter().filter_map(|s| match s {
            Subject::Person(p) => Some(p),
            _ => None,
        })
    }

    /// Checks everything about the record that needs nothing but the record: the format
    /// version, text lengths, the H3 restriction, times, references and category-specific
    /// fields. Agreement policy is checked elsewhere.
    pub fn validate(&self) -> Result<(), RecordError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem [`Record::validate`] would refuse the record for, in the order it checks
    /// them (the first is the one `validate` returns): so a person writing a record learns all
    /// of them at once. Each subject and each route leg contributes its first problem.
    pub fn problems(&self) -> Vec<RecordError> {
        let bad = |field: &str, reason: String| RecordError::Invalid {
            field: field.to_owned(),
            reason,
        };
        let mut out = Vec::new();
        if self.v != RECORD_FORMAT {
            out.push(RecordError::UnsupportedFormat {
                found: self.v,
                supported: RECORD_FORMAT,
            });
            return out;
        }
        let mut check = |r: Result<(), RecordError>| {
            if let Err(e) = r {
                out.push(e);
            }
        };
        check(text(&self.summary, "summary", MAX_SUMMARY_BYTES, true));
        check(match (self.handling, &self.handling_restriction) {
            (HandlingCode::H3, None) => Err(bad(
                "handling_restriction",
                "an H3 record must state its restriction".into(),
            )),
            (HandlingCode::H3, Some(r)) => text(r, "handling_restriction", MAX_TEXT_BYTES, true),
            (code, Some(_)) => Err(bad(
                "handling_restriction",
                format!("only H3 records carry a restriction; this record is {code}"),
            )),
            (_, None) => Ok(()),
        });
        if let Some(expires) = self.expires
            && expires <= self.created
        {
            check(Err(bad(
                "expires",
                format!("{expires} is not after created {}", self.created),
            )));
        }
        if self.corrects.is_some() && self.withdraws.is_some() {
            check(Err(bad(
                "withdraws",
                "a record corrects or withdraws, not both".into(),
            )));
        }
        if self.subjects.len() > MAX_SUBJECTS {
            check(Err(bad(
                "subjects",
                format!("{} subjects; at most {MAX_SUBJECTS}", self.subjects.len()),
            )));
        }
        if self.route.len() > MAX_LEGS {
            check(Err(bad(
                "route",
                format!("{} legs; at most {MAX_LEGS}", self.route.len()),
            )));
        }
        for (i, s) in self.subjects.iter().enumerate() {
            check(validate_subject(s, &format!("subjects[{i}]")));
        }
        for (i, leg) in self.route.iter().enumerate() {
            let at = format!("route[{i}]");
            check(opt_text(&leg.place, &format!("{at}.place")).and_then(|()| {
                match (leg.from, leg.until) {
                    (Some(from), Some(until)) if from > until => Err(bad(
                        &format!("{at}.from"),
                        format!("{from} is after until {until}"),
                    )),
                    _ => Ok(()),
                }
            }));
        }
        match (self.has_victim_identifying_data(), self.victim_data_purpose) {
            (true, None) => check(Err(bad(
                "victim_data_purpose",
                "a victim carries identifying fields, so the record must state the purpose \
                 they are shared for"
                    .into(),
            ))),
            (false, Some(p)) => check(Err(bad(
                "victim_data_purpose",
                format!("purpose `{p}` given but no victim carries identifying fields"),
            ))),
            _ => {}
        }
        check(self.validate_category_fields());
        out
    }

    fn validate_category_fields(&self) -> Result<(), RecordError> {
        let bad = |field: &str, reason: String| RecordError::Invalid {
            field: field.to_owned(),
            reason,
        };
        let c = self.category;
        match (c, &self.addressed_to) {
            (Category::RequestForInformation, None) => {
                return Err(bad(
                    "addressed_to",
                    "a request-for-information names the member it is addressed to".into(),
                ));
            }
            (Category::RequestForInformation, Some(a)) if *a == self.originator => {
                return Err(bad(
                    "addressed_to",
                    format!("a request cannot be addressed to its originator {a}"),
                ));
            }
            (Category::RequestForInformation, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(bad(
                    "addressed_to",
                    format!("only request-for-information records are addressed; this is {c}"),
                ));
            }
        }
        if c == Category::Response && self.responds_to.is_none() {
            return Err(bad(
                "responds_to",
                "a response names the request it answers".into(),
            ));
        }
        match (c, self.return_status) {
            (Category::ReturnCoordination, None) => Err(bad(
                "return_status",
                "a return-coordination record states the case's status".into(),
            )),
            (Category::ReturnCoordination, Some(_)) | (_, None) => Ok(()),
            (_, Some(_)) => Err(bad(
                "return_status",
                format!("only return-coordination records carry a return status; this is {c}"),
            )),
        }
    }
}

fn validate_subject(s: &Subject, at: &str) -> Result<(), RecordError> {
    let bad = |field: &str, reason: String| RecordError::Invalid {
        field: format!("{at}.{field}"),
        reason,
    };
    let list = |items: &[String], field: &str| -> Result<(), RecordError> {
        if items.len() > MAX_LIST {
            return Err(bad(
                field,
                format!("{} entries; at most {MAX_LIST}", items.len()),
            ));
        }
        for (i, item) in items.iter().enumerate() {
            text(item, &format!("{at}.{field}[{i}]"), MAX_TEXT_BYTES, true)?;
        }
        Ok(())
    };
    match s {
        Subject::Person(p) => {
            opt_text(&p.local_ref, &format!("{at}.ref"))?;
            opt_text(&p.name, &format!("{at}.name"))?;
            list(&p.aliases, "aliases")?;
            opt_text(&p.place_of_birth, &format!("{at}.place_of_birth"))?;
            opt_text(&p.description, &format!("{at}.description"))?;
            if p.documents.len() > MAX_LIST {
                return Err(bad(
                    "documents",
                    format!("{} entries; at most {MAX_LIST}", p.documents.len()),
                ));
            }
            for (i, d) in p.documents.iter().enumerate() {
                text(
                    &d.number,
                    &format!("{at}.documents[{i}].number"),
                    MAX_TEXT_BYTES,
                    true,
                )?;
            }
        }
        Subject::Organisation(o) => {
            text(&o.name, &format!("{at}.name"), MAX_TEXT_BYTES, true)?;
            list(&o.aliases, "aliases")?;
            opt_text(&o.description, &format!("{at}.description"))?;
        }
        Subject::Vessel(v) => {
            if v.name.is_none() && v.imo.is_none() && v.mmsi.is_none() {
                return Err(bad(
                    "name",
                    "a vessel needs at least a name, an IMO number or an MMSI".into(),
                ));
            }
            opt_text(&v.name, &format!("{at}.name"))?;
            if let Some(imo) = &v.imo
                && (imo.len() != 7 || !imo.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(bad(
                    "imo",
                    format!("`{imo}` is not an IMO number (7 digits)"),
                ));
            }
            if let Some(mmsi) = &v.mmsi
                && (mmsi.len() != 9 || !mmsi.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(bad("mmsi", format!("`{mmsi}` is not an MMSI (9 digits)")));
            }
            opt_text(&v.description, &format!("{at}.description"))?;
        }
        Subject::Vehicle(v) => {
            if v.registration.is_none() && v.description.is_none() {
                return Err(bad(
                    "registration",
                    "a vehicle needs a registration or a description".into(),
                ));
            }
            opt_text(&v.registration, &format!("{at}.registration"))?;
            opt_text(&v.description, &format!("{at}.description"))?;
        }
        Subject::Phone(p) => {
            let digits = p.number.strip_prefix('+').unwrap_or("");
            if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(
                    "number",
                    format!(
                        "`{}` is not an E.164 number (`+` and 8 to 15 digits, e.g. +923001234567)",
                        p.number
                    ),
                ));
            }
            opt_text(&p.description, &format!("{at}.description"))?;
        }
        Subject::Account(a) => {
            text(
                &a.identifier,
                &format!("{at}.identifier"),
                MAX_TEXT_BYTES,
                true,
            )?;
            opt_text(&a.institution, &format!("{at}.institution"))?;
            opt_text(&a.holder, &format!("{at}.holder"))?;
        }
        Subject::TravelDocument(d) => {
            text(&d.number, &format!("{at}.number"), MAX_TEXT_BYTES, true)?;
            opt_text(&d.holder, &format!("{at}.holder"))?;
        }
    }
    Ok(())
}

fn opt_text(value: &Option<String>, field: &str) -> Result<(), RecordError> {
    match value {
        Some(v) => text(v, field, MAX_TEXT_BYTES, true),
        None => Ok(()),
    }
}

/// Text is non-empty, within `max` bytes, without leading or trailing whitespace, and free of
/// control characters other than newline and tab.
fn text(value: &str, field: &str, max: usize, required: bool) -> Result<(), RecordError> {
    let bad = |reason: String| RecordError::Invalid {
        field: field.to_owned(),
        reason,
    };
    if required && value.is_empty() {
        return Err(bad(
            "must not be empty (leave an optional field out instead)".into(),
        ));
    }
    if value.len() > max {
        return Err(bad(format!("{} bytes; at most {max}", value.len())));
    }
    if value.trim() != value {
        return Err(bad("has leading or trailing whitespace".into()));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(bad(format!(
            "contains the control character U+{:04X}",
            u32::from(c)
        )));
    }
    Ok(())
}
