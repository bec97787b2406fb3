//! Record drafts: what a person writes for `accord publish`.
//!
//! A draft is a record (docs/protocol.md §1) without the parts the node supplies: the format
//! version `v`, the sequence number `seq` and the signature. `originator` may be left out (it is
//! the publishing agency) and so may `created` (it defaults to the time of publishing). The JSON
//! may have any layout; docs/records.md shows one example per category.

use std::collections::BTreeMap;

use accord_protocol::canonical::encode_record;
use accord_protocol::record::{RECORD_FORMAT, ReturnStatus, RouteLeg};
use accord_protocol::{
    AgencyId, AgreementId, Category, Grading, HandlingCode, Record, RecordError, RecordId, Seq,
    Subject, Timestamp, VictimPurpose,
};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A record as a person writes it: every field of [`Record`] except `v` and `seq`, with
/// `originator` and `created` optional. Field names and meanings are the record's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// The publishing agency; when present it must be the node's own agency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator: Option<AgencyId>,
    /// The agreement to share under.
    pub agreement: AgreementId,
    /// What it is about.
    pub category: Category,
    /// Handling code.
    pub handling: HandlingCode,
    /// The restriction of an `H3` record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_restriction: Option<String>,
    /// 4x4 grading.
    pub grading: Grading,
    /// When it was written; the time of publishing when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
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
    /// Why victim-identifying data is shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim_data_purpose: Option<VictimPurpose>,
    /// An earlier record this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<RecordId>,
    /// An earlier record this one withdraws.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraws: Option<RecordId>,
    /// The request a `response` answers, or the case a `return-coordination` update belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responds_to: Option<RecordId>,
    /// The member a `request-for-information` is addressed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressed_to: Option<AgencyId>,
    /// The state a `return-coordination` record reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_status: Option<ReturnStatus>,
}

/// Why a draft could not become a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DraftError {
    /// The bytes are not a draft's JSON; the message names the field path.
    #[error("malformed record draft: {0}")]
    Malformed(String),
    /// The draft holds a field that only the node sets.
    #[error("`{field}` is {why}; leave it out")]
    NodeAssigned {
        /// The field, e.g. `seq`.
        field: &'static str,
        /// Who sets it.
        why: &'static str,
    },
    /// The draft names an originator other than the publishing agency.
    #[error(
        "the draft names originator {originator}, but this node publishes only as {local} \
         (hint: leave `originator` out or write {local})"
    )]
    ForeignOriginator {
        /// The originator the draft names.
        originator: AgencyId,
        /// The publishing agency.
        local: AgencyId,
    },
    /// The record the draft makes is not valid.
    #[error(transparent)]
    Invalid(#[from] RecordError),
    /// The record the draft makes has several problems: each is named.
    #[error("the record has {} problems:{}", .0.len(), list(.0))]
    Problems(Vec<RecordError>),
}

/// The problems, one per line.
fn list(problems: &[RecordError]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// The fields a draft must not hold, with who sets them.
const NODE_FIELDS: [(&str, &str); 4] = [
    ("v", "the record format version, set by the node"),
    ("seq", "assigned by the node"),
    ("signature", "made by the node when it publishes"),
    ("id", "computed from the signed record"),
];

/// Parses a draft from JSON in any layout. Errors name the field path, e.g.
/// ``malformed record draft: `subjects[0].role`: unknown person role `boss`; …``; a draft
/// holding `v`, `seq`, `signature` or `id` is refused with a message saying the node sets it.
pub fn parse_draft(bytes: &[u8]) -> Result<Draft, DraftError> {
    // A draft that is not even JSON gets its error from the full parse below.
    // Only the top-level member names are kept; their values are skipped.
    if let Ok(members) = serde_json::from_slice::<BTreeMap<String, IgnoredAny>>(bytes)
        && let Some((field, why)) = NODE_FIELDS
            .iter()
            .find(|(field, _)| members.contains_key(*field))
    {
        return Err(DraftError::NodeAssigned { field, why });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let draft: Draft = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = with_position(&inner);
        if path.is_empty() || path == "." || path == "?" {
            DraftError::Malformed(text)
        } else {
            DraftError::Malformed(format!("`{path}`: {text}"))
        }
    })?;
    de.end()
        .map_err(|e| DraftError::Malformed(with_position(&e)))?;
    Ok(draft)
}

/// A JSON error's message with its line and column, which a syntax error names itself and a
/// data error may not.
fn with_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.contains(" at line ") || e.line() == 0 {
        text
    } else {
        format!("{text} at line {} column {}", e.line(), e.column())
    }
}

impl Draft {
    /// Makes the record `local` publishes as number `seq` at `now`: the originator is `local`
    /// (a draft naming another is refused), `created` defaults to `now`, and the record must be
    /// valid on its own and within the size limit. Agreement policy is checked by the caller.
    pub fn into_record(
        self,
        local: &AgencyId,
        seq: Seq,
        now: Timestamp,
    ) -> Result<Record, DraftError> {
        if let Some(originator) = self.originator
            && originator != *local
        {
            return Err(DraftError::ForeignOriginator {
                originator,
                local: local.clone(),
            });
        }
        let record = Record {
            v: RECORD_FORMAT,
            originator: local.clone(),
            agreement: self.agreement,
            seq,
            category: self.category,
            handling: self.handling,
            handling_restriction: self.handling_restriction,
            grading: self.grading,
            created: self.created.unwrap_or(now),
            expires: self.expires,
            subjects: self.subjects,
            route: self.route,
            summary: self.summary,
            victim_data_purpose: self.victim_data_purpose,
            corrects: self.corrects,
            withdraws: self.withdraws,
            responds_to: self.responds_to,
            addressed_to: self.addressed_to,
            return_status: self.return_status,
        };
        let mut problems = record.problems();
        problems.extend(publish_only_problems(&record));
        match problems.len() {
            0 => {}
            1 => return Err(DraftError::Invalid(problems.remove(0))),
            _ => return Err(DraftError::Problems(problems)),
        }
        // The size limit is checked by encoding, as signing will.
        encode_record(&record)?;
        Ok(record)
    }
}

/// What a record published here must also satisfy, beyond what every receiver checks
/// (records already held keep verifying): an IMO number's check digit, a phone number
/// libphonenumber knows for its country code, an IBAN's checksum (docs/search.md,
/// "Selectors").
fn publish_only_problems(record: &Record) -> Vec<RecordError> {
    use accord_protocol::Subject;
    let mut out = Vec::new();
    let mut bad = |field: String, reason: String| out.push(RecordError::Invalid { field, reason });
    for (i, s) in record.subjects.iter().enumerate() {
        match s {
            Subject::Vessel(v) => {
                if let Some(imo) = &v.imo
                    && let Err(reason) = imo_check_digit(imo)
                {
                    bad(format!("subjects[{i}].imo"), reason);
                }
            }
            Subject::Phone(p) => {
                if let Some(reason) = crate::search::selectors::phone_problem(&p.number) {
                    bad(format!("subjects[{i}].number"), reason);
                }
            }
            Subject::Account(a) => {
                if let Err(reason) = crate::search::selectors::account(&a.identifier) {
                    bad(format!("subjects[{i}].identifier"), reason);
                }
            }
            _ => {}
        }
    }
    out
}

/// An IMO ship number is 7 digits (an `IMO` prefix is allowed) whose last is the check digit:
/// the sum of the first six, weighted 7 down to 2, modulo 10.
pub fn imo_check_digit(imo: &str) -> Result<(), String> {
    let digits = imo.trim();
    let digits = digits
        .strip_prefix("IMO")
        .or_else(|| digits.strip_prefix("imo"))
        .unwrap_or(digits)
        .trim();
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 7 || digits.chars().count() != 7 {
        return Err(format!("IMO number `{imo}` is not 7 digits"));
    }
    let sum: u32 = d[..6].iter().zip((2..=7).rev()).map(|(x, w)| x * w).sum();
    if sum % 10 == d[6] {
        Ok(())
    } else {
        Err(format!(
            "IMO number `{imo}` fails its check digit: the last digit should be {}, not {}",
            sum % 10,
            d[6]
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const DRAFT: &str = r#"{
        "agreement": "QUAD-2026",
        "category": "alert",
        "handling": "H1",
        "grading": "B2",
        "summary": "Boat departure expected from Çeşme within 48 hours."
    }"#;

    fn tr() -> AgencyId {
        AgencyId::new("TR-JGK").unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-28T12:00:00Z").unwrap()
    }

    #[test]
    fn minimal_draft_becomes_a_record() {
        let record = parse_draft(DRAFT.as_bytes())
            .unwrap()
            .into_record(&tr(), Seq::FIRST, now())
            .unwrap();
        assert_eq!(record.v, RECORD_FORMAT);
        assert_eq!(record.originator, tr());
        assert_eq!(record.seq, Seq::FIRST);
        assert_eq!(record.created, now());
    }

    #[test]
    fn given_created_and_own_originator_are_kept() {
        let text = DRAFT.replace(
            "\"agreement\"",
            "\"originator\": \"TR-JGK\", \"created\": \"2026-11-27T08:00:00Z\", \"agreement\"",
        );
        let record = parse_draft(text.as_bytes())
            .unwrap()
            .into_record(&tr(), Seq::new(5).unwrap(), now())
            .unwrap();
        assert_eq!(record.created.to_string(), "2026-11-27T08:00:00Z");
        assert_eq!(record.seq.get(), 5);
    }

    #[test]
    fn another_originator_is_refused() {
        let text = DRAFT.replace("\"agreement\"", "\"originator\": \"PK-FIA\", \"agreement\"");
        let err = parse_draft(text.as_bytes())
            .unwrap()
            .into_record(&tr(), Seq::FIRST, now())
            .unwrap_err();
        assert!(matches!(err, DraftError::ForeignOriginator { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("PK-FIA") && msg.contains("TR-JGK"), "{msg}");
    }

    #[test]
    fn node_fields_are_refused_by_name() {
        for (field, value) in [
            ("seq", "\"1\""),
            ("v", "1"),
            ("signature", "\"00\""),
            ("id", "\"00\""),
        ] {
            let text = DRAFT.replace(
                "\"agreement\"",
                &format!("\"{field}\": {value}, \"agreement\""),
            );
            let err = parse_draft(text.as_bytes()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("`{field}` is ")), "{msg}");
            assert!(msg.ends_with("leave it out"), "{msg}");
        }
        let err = parse_draft(
            DRAFT
                .replace("\"agreement\"", "\"seq\": \"1\", \"agreement\"")
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`seq` is assigned by the node; leave it out"
        );
    }

    #[test]
    fn errors_name_the_field_path() {
        let text = DRAFT.replace(
            "\"agreement\"",
            "\"subjects\": [{\"type\": \"person\", \"role\": \"boss\"}], \"agreement\"",
        );
        let msg = parse_draft(text.as_bytes()).unwrap_err().to_string();
        // Subjects are tagged by `type`, so the path stops at the subject; the message names
        // the field's vocabulary and the bad value.
        assert!(msg.contains("`subjects[0]`"), "{msg}");
        assert!(msg.contains("person role `boss`"), "{msg}");

        let msg = parse_draft(DRAFT.replace("\"alert\"", "\"gossip\"").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`category`") && msg.contains("gossip"),
            "{msg}"
        );

        let msg = parse_draft(DRAFT.replace("\"summary\"", "\"sumary\"").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("sumary"), "{msg}");
    }

    #[test]
    fn malformed_json_and_trailing_bytes_are_refused() {
        assert!(matches!(
            parse_draft(b"{\"agreement\": "),
            Err(DraftError::Malformed(_))
        ));
        let text = format!("{DRAFT} {{}}");
        assert!(matches!(
            parse_draft(text.as_bytes()),
            Err(DraftError::Malformed(_))
        ));
        assert!(matches!(parse_draft(b"[]"), Err(DraftError::Malformed(_))));
        assert!(matches!(parse_draft(b"[1]"), Err(DraftError::Malformed(_))));
    }

    #[test]
    fn invalid_records_are_refused_after_numbering() {
        let text = DRAFT.replace("\"H1\"", "\"H3\"");
        let err = parse_draft(text.as_bytes())
            .unwrap()
            .into_record(&tr(), Seq::FIRST, now())
            .unwrap_err();
        assert!(err.to_string().contains("handling_restriction"), "{err}");
    }
}
