//! The asker's side of a lookup (docs/matching.md): what a person asks for (`phone:…`,
//! `person:…` with a year of birth) turned into selectors; each holder's set fetched once per
//! epoch (and again after [`SET_KEPT`]) and checked against its agency key; the lookup logged
//! and flushed before it leaves, its answer's proof checked, its tags compared with the set;
//! the outcome logged; and for each hit the request for information it leads to, pre-filled.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use accord_config::NodeConfig;
use accord_protocol::audit::{AuditEvent, LookupOutcome};
use accord_protocol::matching::{Epoch, Lookup, MAX_LOOKUP, MatchSet, Selector, SelectorKind};
use accord_protocol::wire::{LookupRequest, MatchSetRequest};
use accord_protocol::{AgencyId, AgreementId, Message, Subject, Timestamp};
use serde::{Deserialize, Serialize};

use super::{document_key, person_keys};
use crate::search::selectors;

/// How long a holder's set fetched is used before it is fetched again within an epoch (the
/// holder builds it again at most this often too: `holder::SET_REFRESH`).
pub const SET_KEPT: Duration = Duration::from_secs(600);

/// Most set chunks fetched for one set (65,536 tags each: 16.7 million tags).
const MAX_CHUNKS: u32 = 256;

/// What a person looks up: one thing (a phone number, a person and a year of birth), as the
/// selectors that stand for it.
#[derive(Clone, Debug)]
pub struct Wanted {
    /// Its kind.
    pub kind: SelectorKind,
    /// It, in normal form, as shown back (`+923012345678`, `Mohammad Rezaei, born 1987`).
    pub shown: String,
    /// The selectors looked up: one, or a person's name keys with the year.
    pub selectors: Vec<Selector>,
    /// The subject a request for information about it carries, where one can be made.
    pub subject: Option<Subject>,
    /// A person's name as given and year of birth.
    pub person: Option<(String, u16)>,
}

/// Reads `KIND:VALUE` as a person types it: `phone:0301 2345678` (with `country`, the
/// country a national number is dialled in), `account:GB82 WEST 1234 5698 7654 32`,
/// `document:PK:AB1234567`, `vessel:imo:9074729` (or `mmsi:`, or the bare 7 or 9 digits),
/// `person:Mohammad Rezaei` (with `born`, a year of birth: a name alone is too weak to call a
/// hit). A value that cannot be read is refused naming the rule it breaks.
pub fn wanted(text: &str, born: Option<u16>, country: Option<&str>) -> Result<Wanted, String> {
    let Some((kind, value)) = text.split_once(':') else {
        return Err(format!(
            "`{text}` is not KIND:VALUE; the kinds are phone, account, document, vessel and person"
        ));
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("`{text}` gives no value after `{kind}:`"));
    }
    let one = |kind: SelectorKind, normal: String, subject: Option<Subject>| {
        let s = Selector::new(kind, &normal).map_err(|e| e.to_string())?;
        Ok(Wanted {
            kind,
            shown: normal,
            selectors: vec![s],
            subject,
            person: None,
        })
    };
    match kind.trim().to_ascii_lowercase().as_str() {
        "phone" => {
            let e164 = selectors::phone(value, country)?;
            one(
                SelectorKind::Phone,
                e164.clone(),
                Some(Subject::Phone(accord_protocol::record::Phone {
                    number: e164,
                    description: None,
                })),
            )
        }
        "account" => {
            let key = selectors::account(value)?;
            one(
                SelectorKind::Account,
                key.clone(),
                Some(Subject::Account(accord_protocol::record::Account {
                    identifier: key,
                    institution: None,
                    country: None,
                    holder: None,
                })),
            )
        }
        "document" => {
            let (cc, number) = value.split_once(':').ok_or_else(|| {
                format!(
                    "`{value}`: a document is its issuing country, `:` and its number, e.g. \
                     document:PK:AB1234567"
                )
            })?;
            let cc = cc.trim();
            if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(format!(
                    "`{cc}` is not an issuing country: two letters (ISO 3166-1 alpha-2), e.g. PK"
                ));
            }
            if selectors::document(number).is_empty() {
                return Err(format!(
                    "`{number}` holds no letter or digit of a document number"
                ));
            }
            one(SelectorKind::Document, document_key(cc, number), None)
        }
        "vessel" => {
            let lower = value.to_ascii_lowercase();
            let (scheme, digits) = match lower.split_once(':') {
                Some((s, d)) => (s.trim().to_owned(), d.trim().to_owned()),
                None if lower.len() == 9 => ("mmsi".to_owned(), lower.clone()),
                None => ("imo".to_owned(), lower.clone()),
            };
            let normal = match scheme.as_str() {
                "imo" => format!("imo:{}", selectors::imo(&digits)?),
                "mmsi" => format!("mmsi:{}", selectors::mmsi(&digits)?),
                other => {
                    return Err(format!(
                        "`{other}` is not a vessel number; give imo:NNNNNNN or mmsi:NNNNNNNNN"
                    ));
                }
            };
            one(SelectorKind::Vessel, normal, None)
        }
        "person" => {
            let Some(year) = born else {
                return Err(
                    "a person is looked up with a year of birth (--born YYYY): a name alone is \
                     too weak to call a hit"
                        .into(),
                );
            };
            let keys = person_keys(value);
            if keys.is_empty() {
                return Err(format!(
                    "`{value}` gives no name key: a person is looked up by at least two parts of \
                     the name (given and family)"
                ));
            }
            let selectors = keys
                .iter()
                .map(|k| Selector::new(SelectorKind::Person, &format!("{k}:{year}")))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            Ok(Wanted {
                kind: SelectorKind::Person,
                shown: format!("{value}, born {year}"),
                selectors,
                subject: None,
                person: Some((value.to_owned(), year)),
            })
        }
        other => Err(format!(
            "`{other}` is not a kind of selector; the kinds are phone, account, document, vessel \
             and person"
        )),
    }
}

/// What one holder answered under one agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum Outcome {
    /// The holder's set holds the thing looked up (one of its selectors, for a person).
    Hit,
    /// It does not.
    Miss,
    /// The holder refused (over quota, not its current epoch, …).
    Refused {
        /// The wire reject code.
        code: u8,
        /// The holder's words (partner text: shown as text, never as markup).
        detail: String,
    },
    /// The holder's set or answer did not verify: neither a hit nor a miss.
    Invalid {
        /// What failed.
        detail: String,
    },
    /// No answer (not connected, the agreement's text not confirmed, a timeout).
    Unreachable {
        /// Why.
        detail: String,
    },
}

/// A holder's answer, with the request for information a hit leads to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderResult {
    /// The holder.
    pub holder: AgencyId,
    /// The agreement asked under.
    pub agreement: AgreementId,
    /// The epoch.
    pub epoch: String,
    /// What it answered.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The holder's focal point under the agreement, for a hit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focal_point: Option<String>,
    /// The request for information a hit leads to, pre-filled (nothing is sent until a
    /// person sends it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestPrefill>,
}

/// A request for information, pre-filled for a hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPrefill {
    /// The agreement.
    pub agreement: AgreementId,
    /// The holder.
    pub to: AgencyId,
    /// The question.
    pub summary: String,
    /// The selector, `KIND:VALUE`, which `accord request --selector` makes a subject of.
    pub selector: String,
    /// A person's year of birth (`accord request --born`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born: Option<u16>,
}

/// The outcome of one lookup of one thing at every holder asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchReport {
    /// The kind looked up.
    pub kind: SelectorKind,
    /// What, in normal form.
    pub looked_up: String,
    /// How many selectors stood for it (each counted by the holders' quotas).
    pub selectors: usize,
    /// One per holder and agreement.
    pub results: Vec<HolderResult>,
}

/// A holder's set as fetched, and when.
struct Fetched {
    set: MatchSet,
    at: Instant,
}

/// The holders' sets this node fetched, one per (holder, agreement), each used until its
/// epoch ends or [`SET_KEPT`] passes.
#[derive(Default)]
pub struct Asker {
    sets: Mutex<BTreeMap<(AgencyId, AgreementId), Arc<Fetched>>>,
}

impl std::fmt::Debug for Asker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Asker")
    }
}

impl Asker {
    fn kept(&self, holder: &AgencyId, agreement: &AgreementId, epoch: Epoch) -> Option<MatchSet> {
        let sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        let f = sets.get(&(holder.clone(), agreement.clone()))?;
        (f.set.epoch == epoch && f.at.elapsed() < SET_KEPT).then(|| f.set.clone())
    }

    fn forget(&self, holder: &AgencyId, agreement: &AgreementId) {
        self.sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(holder.clone(), agreement.clone()));
    }

    fn keep(&self, holder: &AgencyId, set: &MatchSet) {
        self.sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (holder.clone(), set.agreement.clone()),
                Arc::new(Fetched {
                    set: set.clone(),
                    at: Instant::now(),
                }),
            );
    }
}

/// The (holder, agreement) pairs a lookup goes to: every other member of every agreement of
/// this agency that provides for matching (only `only`, when given), in force at `now`.
pub fn holders(
    cfg: &NodeConfig,
    only: Option<&AgreementId>,
    now: Timestamp,
) -> Result<Vec<(AgencyId, AgreementId, Epoch)>, String> {
    if let Some(a) = only {
        let Some(ag) = cfg.agreements.get(a) else {
            return Err(format!("{} is not party to {a}", cfg.agency));
        };
        if ag.matching.is_none() {
            return Err(format!(
                "{a} does not provide for matching (no [matching] clause)"
            ));
        }
    }
    let mut out = Vec::new();
    for a in cfg.agreements.values() {
        if only.is_some_and(|o| *o != a.id) || !a.is_member(&cfg.agency) || !a.in_force(now) {
            continue;
        }
        let Some(rule) = a.matching else { continue };
        let epoch = Epoch::containing(now, rule.epoch_days).map_err(|e| e.to_string())?;
        for m in &a.members {
            if *m != cfg.agency {
                out.push((m.clone(), a.id.clone(), epoch));
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "{} is party to no agreement in force that provides for matching ([matching] clause)",
            cfg.agency
        ));
    }
    Ok(out)
}

/// How a lookup reaches the network and the log: the running node's handle in use, a
/// stand-in in tests.
pub(crate) trait Channel {
    /// Sends a matching request to `to` and gives its answer.
    async fn ask(&self, to: &AgencyId, request: Message) -> Result<Message, String>;
    /// Appends audit entries and flushes.
    async fn log(&self, events: Vec<AuditEvent>) -> Result<(), String>;
}

/// Looks `wanted` up at every holder of `pairs`, one after the other.
pub(crate) async fn run(
    asker: &Asker,
    channel: &impl Channel,
    cfg: &NodeConfig,
    wanted: &Wanted,
    pairs: Vec<(AgencyId, AgreementId, Epoch)>,
    by: Option<String>,
) -> Result<MatchReport, String> {
    let mut results = Vec::new();
    for (holder, agreement, epoch) in pairs {
        let outcome = ask_one(asker, channel, cfg, wanted, &holder, &agreement, epoch, &by).await?;
        let (focal_point, request) = if outcome == Outcome::Hit {
            let focal = cfg
                .agreements
                .get(&agreement)
                .and_then(|a| a.focal_points.get(&holder))
                .map(|f| format!("{} ({})", f.name, f.contact));
            (focal, Some(prefill(wanted, &holder, &agreement, epoch)))
        } else {
            (None, None)
        };
        results.push(HolderResult {
            holder,
            agreement,
            epoch: epoch.to_string(),
            outcome,
            focal_point,
            request,
        });
    }
    Ok(MatchReport {
        kind: wanted.kind,
        looked_up: wanted.shown.clone(),
        selectors: wanted.selectors.len(),
        results,
    })
}

fn prefill(
    wanted: &Wanted,
    holder: &AgencyId,
    agreement: &AgreementId,
    epoch: Epoch,
) -> RequestPrefill {
    let (selector, born) = match (&wanted.person, wanted.kind) {
        (Some((name, year)), _) => (format!("person:{name}"), Some(*year)),
        (None, k) => (format!("{k}:{}", wanted.shown), None),
    };
    RequestPrefill {
        agreement: agreement.clone(),
        to: holder.clone(),
        summary: format!(
            "Hit / no-hit: our lookup of {} {} under {agreement} (epoch {epoch}) was a hit at \
             {holder}. Please tell us what you can share about it under the agreement.",
            wanted.kind, wanted.shown
        ),
        selector,
        born,
    }
}

/// One holder: its set (kept or fetched), then the lookup in lots of at most 64 selectors.
/// An `Err` is a failure of this node (its log); a holder's failure is an [`Outcome`].
#[allow(clippy::too_many_arguments)]
async fn ask_one(
    asker: &Asker,
    channel: &impl Channel,
    cfg: &NodeConfig,
    wanted: &Wanted,
    holder: &AgencyId,
    agreement: &AgreementId,
    epoch: Epoch,
    by: &Option<String>,
) -> Result<Outcome, String> {
    let set = match asker.kept(holder, agreement, epoch) {
        Some(s) => s,
        None => match fetch_set(channel, cfg, holder, agreement, epoch).await {
            Ok(s) => {
                asker.keep(holder, &s);
                s
            }
            Err(outcome) => return Ok(outcome),
        },
    };
    let mut hit = false;
    for lot in wanted.selectors.chunks(MAX_LOOKUP) {
        let (lookup, blinded) =
            Lookup::blind(&mut rand_core::OsRng, lot).map_err(|e| e.to_string())?;
        let mut kinds: Vec<SelectorKind> = lot.iter().map(Selector::kind).collect();
        kinds.sort();
        kinds.dedup();
        // logged and flushed before the lookup leaves
        channel
            .log(vec![AuditEvent::LookupMade {
                to: holder.clone(),
                agreement: agreement.clone(),
                epoch,
                selectors: lot.len() as u64,
                kinds,
                by: by.clone(),
            }])
            .await?;
        let request = Message::Lookup(LookupRequest {
            agreement: agreement.clone(),
            epoch,
            blinded,
        });
        let (outcome, hits, code) = match channel.ask(holder, request).await {
            Ok(Message::LookupAnswer(a)) if a.agreement == *agreement && a.epoch == epoch => {
                let answer = accord_protocol::matching::Answer {
                    evaluated: a.evaluated,
                    proof: a.proof,
                };
                match lookup.finish(&answer, &set.public_key) {
                    Ok(tags) => {
                        let n = tags.iter().filter(|t| set.contains(t)).count();
                        (Ok(n), n as u64, None)
                    }
                    Err(e) => (
                        Err(Outcome::Invalid {
                            detail: format!("{holder}'s answer: {e}"),
                        }),
                        0,
                        None,
                    ),
                }
            }
            Ok(Message::Refused(r)) => (
                Err(Outcome::Refused {
                    code: r.code.code(),
                    detail: r.detail,
                }),
                0,
                Some(r.code.code()),
            ),
            Ok(other) => (
                Err(Outcome::Invalid {
                    detail: format!(
                        "{holder} answered with a message of kind {}, not the lookup's answer",
                        other.kind_code()
                    ),
                }),
                0,
                None,
            ),
            Err(e) => (Err(Outcome::Unreachable { detail: e }), 0, None),
        };
        let logged = match &outcome {
            Ok(_) => LookupOutcome::Answered,
            Err(Outcome::Refused { .. }) => LookupOutcome::Refused,
            Err(Outcome::Unreachable { .. }) => LookupOutcome::Failed,
            Err(_) => LookupOutcome::Invalid,
        };
        channel
            .log(vec![AuditEvent::LookupResult {
                to: holder.clone(),
                agreement: agreement.clone(),
                epoch,
                outcome: logged,
                hits,
                code,
            }])
            .await?;
        match outcome {
            Ok(n) => hit |= n > 0,
            Err(o) => {
                if matches!(o, Outcome::Invalid { .. }) {
                    // a holder that changed its seed answers with a new key: fetch again
                    asker.forget(holder, agreement);
                }
                return Ok(o);
            }
        }
    }
    Ok(if hit { Outcome::Hit } else { Outcome::Miss })
}

/// Fetches a holder's whole set, chunk by chunk, and checks its signature with the holder's
/// agency key.
async fn fetch_set(
    channel: &impl Channel,
    cfg: &NodeConfig,
    holder: &AgencyId,
    agreement: &AgreementId,
    epoch: Epoch,
) -> Result<MatchSet, Outcome> {
    let Some(known) = cfg.agencies.get(holder) else {
        return Err(Outcome::Unreachable {
            detail: format!("{holder} is not a known agency here"),
        });
    };
    let mut tags = Vec::new();
    let mut first: Option<(u32, [u8; 32], [u8; 64])> = None;
    for _ in 0..MAX_CHUNKS {
        let from = u32::try_from(tags.len()).unwrap_or(u32::MAX);
        let request = Message::MatchSetRequest(MatchSetRequest {
            agreement: agreement.clone(),
            epoch,
            from,
        });
        let chunk = match channel.ask(holder, request).await {
            Ok(Message::MatchSet(c)) => c,
            Ok(Message::Refused(r)) => {
                return Err(Outcome::Refused {
                    code: r.code.code(),
                    detail: r.detail,
                });
            }
            Ok(other) => {
                return Err(Outcome::Invalid {
                    detail: format!(
                        "{holder} answered a set request with a message of kind {}",
                        other.kind_code()
                    ),
                });
            }
            Err(e) => return Err(Outcome::Unreachable { detail: e }),
        };
        let same = first.is_none_or(|(t, k, s)| {
            t == chunk.total && k == chunk.public_key && s == chunk.signature
        });
        if chunk.agreement != *agreement || chunk.epoch != epoch || chunk.from != from || !same {
            return Err(Outcome::Invalid {
                detail: format!("{holder}'s set chunk from {from} does not continue its set"),
            });
        }
        first = Some((chunk.total, chunk.public_key, chunk.signature));
        if chunk.tags.is_empty() && chunk.total != from {
            return Err(Outcome::Invalid {
                detail: format!("{holder} sent an empty chunk of a set of {}", chunk.total),
            });
        }
        tags.extend(chunk.tags);
        if tags.len() as u64 >= u64::from(chunk.total) {
            let set = MatchSet::from_tags(agreement.clone(), epoch, chunk.public_key, tags);
            if set.len() as u64 != u64::from(chunk.total) {
                return Err(Outcome::Invalid {
                    detail: format!("{holder}'s set repeats tags"),
                });
            }
            return match set.verify(&known.public_key, &chunk.signature) {
                Ok(()) => Ok(set),
                Err(e) => Err(Outcome::Invalid {
                    detail: format!("{holder}'s set: {e}"),
                }),
            };
        }
    }
    Err(Outcome::Invalid {
        detail: format!("{holder}'s set is larger than {MAX_CHUNKS} chunks"),
    })
}
