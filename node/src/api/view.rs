//! Stored records as the agency sees them: the query filters and the JSON object of one record,
//! shared by the local API and the store commands (`accord query --json`, `accord show`), so a
//! record reads the same whether the CLI opened the store itself or asked the running node.

use accord_protocol::{
    AgreementId, Category, Country, Date, LegRole, PublicKey, Record, RecordId, Timestamp,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::page::{Page, PageError, PageRequest, page};
use crate::store::{Query, Source, Store, StoreError, StoredRecord, SubjectQuery};

/// Up to this many records named by a subject's or a country's index are read and sorted
/// whole; more, and the page walks the records in creation order instead.
const FEW_CANDIDATES: usize = 5_000;

/// The order of records in a query and its pages: created, then agreement, originator, seq, id.
type RecordKey = (
    Timestamp,
    AgreementId,
    accord_protocol::AgencyId,
    u64,
    RecordId,
);

fn page_key(r: &StoredRecord) -> RecordKey {
    (
        r.record.created,
        r.record.agreement.clone(),
        r.record.originator.clone(),
        r.record.seq.get(),
        r.id,
    )
}

/// The query filters as text, as given on the command line or in the API's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// `agreement`: an agreement id.
    pub agreement: Option<String>,
    /// `subject`: `KIND:VALUE` or a bare value.
    pub subject: Option<String>,
    /// `category`: a record category.
    pub category: Option<String>,
    /// `country`: ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// `role`: a route leg role; only with `country`.
    pub role: Option<String>,
    /// `since`: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`.
    pub since: Option<String>,
}

impl Filters {
    /// The filter names, as the API's query parameters spell them.
    pub const NAMES: [&'static str; 6] = [
        "agreement",
        "subject",
        "category",
        "country",
        "role",
        "since",
    ];

    /// The slot of the filter called `name`.
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "agreement" => &mut self.agreement,
            "subject" => &mut self.subject,
            "category" => &mut self.category,
            "country" => &mut self.country,
            "role" => &mut self.role,
            "since" => &mut self.since,
            _ => return None,
        })
    }

    /// The given filters as (name, value) pairs, in [`Filters::NAMES`] order.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let values = [
            &self.agreement,
            &self.subject,
            &self.category,
            &self.country,
            &self.role,
            &self.since,
        ];
        Self::NAMES
            .iter()
            .zip(values)
            .filter_map(|(name, v)| v.as_deref().map(|v| (*name, v)))
            .collect()
    }

    /// Parses the filters into a store query; the first bad one is named.
    pub fn parse(&self) -> Result<Query, FilterError> {
        fn opt<T, E: std::fmt::Display>(
            filter: &'static str,
            value: &Option<String>,
            parse: impl FnOnce(&str) -> Result<T, E>,
        ) -> Result<Option<T>, FilterError> {
            value
                .as_deref()
                .map(|v| {
                    parse(v).map_err(|e| FilterError {
                        filter,
                        reason: e.to_string(),
                    })
                })
                .transpose()
        }
        // country codes are upper case; `my` means MY
        let country = opt("country", &self.country, |c| {
            Country::new(&c.trim().to_ascii_uppercase())
        })?;
        let role = opt("role", &self.role, |r| {
            LegRole::parse(&r.trim().to_ascii_lowercase())
        })?;
        let (country, role) = match (country, role) {
            (Some(c), role) => (Some((c, role)), None),
            (None, role) => (None, role),
        };
        Ok(Query {
            agreement: opt("agreement", &self.agreement, AgreementId::new)?,
            subject: opt("subject", &self.subject, SubjectQuery::parse)?,
            category: opt("category", &self.category, Category::parse)?,
            country,
            role,
            since: opt("since", &self.since, parse_since)?,
        })
    }
}

/// A filter that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("filter `{filter}`: {reason}")]
pub struct FilterError {
    /// The filter's name (without `--`).
    pub filter: &'static str,
    /// Why, naming the bad value.
    pub reason: String,
}

/// `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_since(s: &str) -> Result<Timestamp, String> {
    if s.len() == 10 {
        return Date::parse(s).map(|d| d.start()).map_err(|e| e.to_string());
    }
    Timestamp::parse(s).map_err(|e| format!("{e} (or give a date YYYY-MM-DD)"))
}

/// One record as `accord query --json` prints it and the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    /// The record id (64 hex digits).
    pub id: RecordId,
    /// When this node stored it.
    pub received_at: Timestamp,
    /// `local`, or the agency it came from.
    pub source: String,
    /// The key that signed it.
    pub signer: PublicKey,
    /// When a liaison officer's delegated key signed it: who, and whether the delegation has
    /// since been revoked (the record, created before, stays valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<DelegationView>,
    /// `withdrawn`, `corrected`, `withdrawal`, `correction` or empty.
    pub status: String,
    /// The records that refer to this one: withdraw, correct or respond to it.
    pub referenced_by: Vec<Reference>,
    /// The record itself, exactly as signed.
    pub record: serde_json::Value,
    /// The records under agreements this node holds that share a selector with this one (a
    /// phone, account, document, vessel or person); given for one record, not in lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<crate::search::Link>,
}

/// One hit of a search: its score, why it matched, and the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// 0 to 100 (docs/search.md, "Reading a score").
    pub score: u8,
    /// Why it matched, in words.
    pub reasons: Vec<String>,
    /// The record.
    pub record: RecordView,
}

/// A search's answer: the hits, best first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    /// The hits.
    pub hits: Vec<SearchHit>,
    /// Hits the limit left out.
    pub more: usize,
    /// Whether an index named more candidates than one search reads: narrow it.
    pub truncated: bool,
}

/// Why a search was not answered.
#[derive(Debug, Error)]
pub enum SearchFailure {
    /// The question is not valid (a bad term or filter): the person's to mend.
    #[error("{0}")]
    Invalid(String),
    /// The store's indexes are from an older accord.
    #[error("{0}")]
    Stale(String),
    /// The store failed.
    #[error(transparent)]
    View(#[from] ViewError),
}

impl SearchPage {
    /// Runs a search with the filters, at most `limit` hits.
    pub fn run(
        store: &Store,
        text: &crate::search::SearchText,
        filters: &Filters,
        limit: usize,
    ) -> Result<Self, SearchFailure> {
        use crate::search::SearchError;
        let find = text
            .parse()
            .map_err(|e| SearchFailure::Invalid(e.to_string()))?;
        let q = filters
            .parse()
            .map_err(|e| SearchFailure::Invalid(e.to_string()))?;
        let found = match crate::search::search(store, &find, &q, limit) {
            Ok(f) => f,
            Err(e @ SearchError::Invalid { .. }) => {
                return Err(SearchFailure::Invalid(e.to_string()));
            }
            Err(e @ SearchError::Stale) => return Err(SearchFailure::Stale(e.to_string())),
            Err(SearchError::Store(e)) => return Err(SearchFailure::View(e.into())),
        };
        let hits = found
            .hits
            .iter()
            .map(|h| {
                Ok(SearchHit {
                    score: h.score,
                    reasons: h.reasons.clone(),
                    record: RecordView::of(store, &h.record)?,
                })
            })
            .collect::<Result<Vec<_>, ViewError>>()?;
        Ok(Self {
            hits,
            more: found.more,
            truncated: found.truncated,
        })
    }
}

/// The delegation a record was signed under (docs/protocol.md §10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationView {
    /// The certificate's id (hex).
    pub certificate: String,
    /// Who holds the delegated key.
    pub holder: String,
    /// Where they are posted.
    pub host_country: String,
    /// From when the agency revoked the delegation, if it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
}

impl DelegationView {
    /// The delegation of a delegated-key envelope (its certificate was verified when the record
    /// was taken in), with the revocation the store holds for it, if any.
    fn of(store: &Store, cert: &accord_protocol::audit::Signed) -> Result<Self, ViewError> {
        let id = accord_protocol::delegation::certificate_id(cert);
        let d: accord_protocol::delegation::Delegation = serde_json::from_slice(&cert.bytes)
            .map_err(|e| ViewError::Json {
                id: RecordId::from_bytes(id.0),
                reason: format!("certificate: {e}"),
            })?;
        let revoked = store
            .trust()
            .revocations()?
            .iter()
            .filter_map(|s| {
                serde_json::from_slice::<accord_protocol::delegation::Revocation>(&s.bytes).ok()
            })
            .filter(|r| r.certificate == id && r.agency == d.agency)
            .map(|r| r.revoked)
            .min();
        Ok(Self {
            certificate: hex::encode(id.0),
            holder: d.holder,
            host_country: d.host_country.to_string(),
            revoked,
        })
    }
}

/// A record that refers to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `withdraws`, `corrects` or `responds_to`.
    pub kind: String,
    /// The referring record.
    pub id: RecordId,
}

/// Why a view could not be made or read.
#[derive(Debug, Error)]
pub enum ViewError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored or received record bytes are not a record's JSON.
    #[error("record {id} is not readable JSON: {reason}")]
    Json {
        /// The record.
        id: RecordId,
        /// Why.
        reason: String,
    },
}

impl RecordView {
    /// The view of a stored record.
    pub fn of(store: &Store, rec: &StoredRecord) -> Result<Self, ViewError> {
        let json_err = |e: serde_json::Error| ViewError::Json {
            id: rec.id,
            reason: e.to_string(),
        };
        let record = serde_json::from_slice(rec.envelope.record_bytes()).map_err(json_err)?;
        let refs = store.queries().references_to(&rec.id)?;
        let has = |kind: &str| refs.iter().any(|(k, _)| *k == kind);
        let status = if has("withdraws") {
            "withdrawn"
        } else if has("corrects") {
            "corrected"
        } else if rec.record.withdraws.is_some() {
            "withdrawal"
        } else if rec.record.corrects.is_some() {
            "correction"
        } else {
            ""
        };
        Ok(Self {
            id: rec.id,
            received_at: rec.received_at,
            source: match &rec.source {
                Source::Local => "local".into(),
                Source::Peer(a) => a.to_string(),
            },
            signer: *rec.envelope.signer().key(),
            delegation: rec
                .envelope
                .certificate()
                .map(|c| DelegationView::of(store, c))
                .transpose()?,
            status: status.into(),
            referenced_by: refs
                .into_iter()
                .map(|(kind, id)| Reference {
                    kind: kind.into(),
                    id,
                })
                .collect(),
            record,
            links: Vec::new(),
        })
    }

    /// The view of one record with the records linked to it under `agreements`.
    pub fn with_links(
        store: &Store,
        rec: &StoredRecord,
        agreements: &std::collections::BTreeSet<AgreementId>,
    ) -> Result<Self, ViewError> {
        let mut view = Self::of(store, rec)?;
        view.links = crate::search::links(store, rec, agreements)?;
        Ok(view)
    }

    /// The views of the records a query finds.
    pub fn query(store: &Store, q: &Query) -> Result<Vec<Self>, ViewError> {
        store
            .queries()
            .query(q)?
            .iter()
            .map(|r| Self::of(store, r))
            .collect()
    }

    /// One page of the views of the records a query finds, in the query's order (created,
    /// then agreement, originator, seq and id).
    pub fn page(
        store: &Store,
        q: &Query,
        req: &PageRequest,
    ) -> Result<Result<Page<Self>, PageError>, ViewError> {
        Self::page_with(store, q, req, FEW_CANDIDATES)
    }

    /// [`RecordView::page`], reading and sorting whole any candidate set of up to `few`
    /// records (and walking in creation order otherwise): both give the same pages.
    pub fn page_with(
        store: &Store,
        q: &Query,
        req: &PageRequest,
        few: usize,
    ) -> Result<Result<Page<Self>, PageError>, ViewError> {
        // Unless a subject's or a route country's index names few records (then they are read
        // and sorted), the query walks the created-time index from the cursor on, checking
        // each record, and stops once the page is full: a page of a million-record store reads
        // about one page of records when the filter is common, and never more than the store.
        let few = store.queries().few_candidates(q, few)? == Some(true);
        let page = if !few {
            let after: Option<RecordKey> = match req.after() {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let failed = std::cell::RefCell::new(None);
            let records = store
                .queries()
                .query_by_created(q, after.as_ref().map(|a| a.0))
                .map_while(|group| match group {
                    Ok(mut g) => {
                        g.sort_by_key(page_key);
                        Some(g)
                    }
                    Err(e) => {
                        *failed.borrow_mut() = Some(e);
                        None
                    }
                })
                .flatten();
            let p = page(records, page_key, req);
            if let Some(e) = failed.into_inner() {
                return Err(e.into());
            }
            match p {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            }
        } else {
            match page(store.queries().query(q)?, page_key, req) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            }
        };
        let items = page
            .items
            .iter()
            .map(|r| Self::of(store, r))
            .collect::<Result<_, _>>()?;
        Ok(Ok(Page {
            items,
            next: page.next,
        }))
    }

    /// The record, typed.
    pub fn parsed(&self) -> Result<Record, ViewError> {
        serde_json::from_value(self.record.clone()).map_err(|e| ViewError::Json {
            id: self.id,
            reason: e.to_string(),
        })
    }
}

/// Why a record id or prefix does not name one record.
#[derive(Debug, Error)]
pub enum ResolveError {
    /// Neither an id nor a usable prefix.
    #[error("`{0}` is not a record id (64 hex digits) or an id prefix of at least 6 hex digits")]
    NotAnId(String),
    /// No record or tombstone has an id with this prefix.
    #[error("no record with an id starting `{0}`")]
    NoMatch(String),
    /// More than one does.
    #[error("`{prefix}` matches {count} records; give more digits")]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// How many match.
        count: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The record id named by a full id or a unique prefix of at least 6 hex digits, among the
/// records and tombstones in `store`.
pub fn resolve(store: &Store, text: &str) -> Result<RecordId, ResolveError> {
    if let Ok(id) = RecordId::new(text) {
        return Ok(id);
    }
    if text.len() < 6 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ResolveError::NotAnId(text.to_owned()));
    }
    let prefix = text.to_ascii_lowercase();
    let mut ids = store.queries().ids_with_prefix(&prefix)?;
    ids.extend(
        store
            .records()
            .tombstones(None)?
            .into_iter()
            .map(|t| t.id)
            .filter(|id| id.to_hex().starts_with(&prefix)),
    );
    ids.sort();
    ids.dedup();
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(ResolveError::NoMatch(prefix)),
        many => Err(ResolveError::Ambiguous {
            count: many.len(),
            prefix,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_name_the_bad_one() {
        let f = Filters {
            agreement: Some("QUAD-2026".into()),
            country: Some("TR".into()),
            role: Some("transit".into()),
            since: Some("2026-01-01".into()),
            ..Filters::default()
        };
        let q = f.parse().unwrap();
        assert_eq!(q.agreement.unwrap().as_str(), "QUAD-2026");
        assert!(q.country.unwrap().1.is_some());
        assert!(q.since.is_some());

        let bad = Filters {
            category: Some("boats".into()),
            ..Filters::default()
        };
        let e = bad.parse().unwrap_err();
        assert_eq!(e.filter, "category");
        assert!(e.to_string().contains("boats"), "{e}");

        // a role alone finds legs in that role in any country; codes are read in any case
        let lonely_role = Filters {
            role: Some("Transit".into()),
            country: None,
            ..Filters::default()
        };
        let q = lonely_role.parse().unwrap();
        assert!(q.country.is_none() && q.role.is_some());
        let lower = Filters {
            country: Some("my".into()),
            ..Filters::default()
        };
        assert_eq!(lower.parse().unwrap().country.unwrap().0.as_str(), "MY");

        let since = Filters {
            since: Some("yesterday".into()),
            ..Filters::default()
        };
        let e = since.parse().unwrap_err();
        assert_eq!(e.filter, "since");
        assert!(e.reason.contains("YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn pairs_and_slots_agree() {
        let mut f = Filters::default();
        for name in Filters::NAMES {
            *f.slot(name).unwrap() = Some(format!("v-{name}"));
        }
        assert!(f.slot("colour").is_none());
        let pairs = f.pairs();
        assert_eq!(pairs.len(), 6);
        assert!(pairs.iter().all(|(n, v)| *v == format!("v-{n}")));
    }
}
