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
use accord_protocol::matching::{Epoch, Lookup, MAX_LOOKUP, MatchSet, Selector, SelectorKind, Tag};
use accord_protocol::wire::{LookupRequest, MAX_SET_CHUNK, MatchSetRequest, RejectCode};
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
    /// The tags of the selectors that hit (hex), which the holder resolves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A request for information, pre-filled for a hit. It names the hit's tags, never the
/// selector: a request reaches every member of its agreement, and a tag tells a member
/// nothing without the holder's key, while the holder finds its selector and records from it
/// (`accord match --resolve`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPrefill {
    /// The agreement.
    pub agreement: AgreementId,
    /// The holder.
    pub to: AgencyId,
    /// The question.
    pub summary: String,
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
    set: Arc<MatchSet>,
    at: Instant,
}

/// The holders' sets this node fetched, one per (holder, agreement), each used until its
/// epoch ends or [`SET_KEPT`] passes.
#[derive(Default)]
pub struct Asker {
    sets: Mutex<BTreeMap<(AgencyId, AgreementId), Fetched>>,
}

impl std::fmt::Debug for Asker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Asker")
    }
}

impl Asker {
    fn kept(
        &self,
        holder: &AgencyId,
        agreement: &AgreementId,
        epoch: Epoch,
    ) -> Option<Arc<MatchSet>> {
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

    fn keep(&self, holder: &AgencyId, set: Arc<MatchSet>) {
        self.sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                (holder.clone(), set.agreement.clone()),
                Fetched {
                    set,
                    at: Instant::now(),
                },
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

/// Most selectors one thing may stand for (a person's name keys): a name of many parts
/// would spend a day's quota at every partner in one lookup.
pub const MAX_SELECTORS: usize = 256;

/// How long an asker keeps asking a holder that answers busy while it builds its set.
const BUSY_FOR_AT_MOST: Duration = Duration::from_secs(120);

/// Looks `wanted` up at every holder of `pairs`, one after the other.
pub(crate) async fn run(
    asker: &Asker,
    channel: &impl Channel,
    cfg: &NodeConfig,
    wanted: &Wanted,
    pairs: Vec<(AgencyId, AgreementId, Epoch)>,
    by: Option<String>,
) -> Result<MatchReport, String> {
    if wanted.selectors.len() > MAX_SELECTORS {
        return Err(format!(
            "{} {} stands for {} selectors; at most {MAX_SELECTORS} are looked up at once (a \
             shorter form of the name)",
            wanted.kind,
            wanted.shown,
            wanted.selectors.len()
        ));
    }
    for (_, agreement, _) in &pairs {
        let quota = cfg
            .agreements
            .get(agreement)
            .and_then(|a| a.matching)
            .map_or(0, |r| r.lookups_per_day as usize);
        if wanted.selectors.len() > quota {
            return Err(format!(
                "{} {} stands for {} selectors, more than the {quota} a day {agreement} allows",
                wanted.kind,
                wanted.shown,
                wanted.selectors.len()
            ));
        }
    }
    let mut results = Vec::new();
    for (holder, agreement, epoch) in pairs {
        let asking = Asking {
            asker,
            channel,
            cfg,
            wanted,
            holder: &holder,
            agreement: &agreement,
            by: &by,
        };
        let (outcome, epoch, tags) = asking.once(epoch).await?;
        let (focal_point, request) = if outcome == Outcome::Hit {
            let focal = cfg
                .agreements
                .get(&agreement)
                .and_then(|a| a.focal_points.get(&holder))
                .map(|f| format!("{} ({})", f.name, f.contact));
            (
                focal,
                Some(prefill(wanted, &holder, &agreement, epoch, &tags)),
            )
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
            tags: tags.iter().map(Tag::to_hex).collect(),
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
    tags: &[Tag],
) -> RequestPrefill {
    let hex: Vec<String> = tags.iter().map(Tag::to_hex).collect();
    RequestPrefill {
        agreement: agreement.clone(),
        to: holder.clone(),
        summary: format!(
            "Hit / no-hit: our lookup of a {} under {agreement} was a hit at {holder} in epoch \
             {epoch}, tag {}. Please tell us what you can share about it under the agreement \
             ({holder}: accord match --resolve {} --agreement {agreement} --epoch {epoch}).",
            wanted.kind,
            hex.join(", "),
            hex.first().map_or("", String::as_str),
        ),
    }
}

/// One holder asked about one thing.
struct Asking<'a, C> {
    asker: &'a Asker,
    channel: &'a C,
    cfg: &'a NodeConfig,
    wanted: &'a Wanted,
    holder: &'a AgencyId,
    agreement: &'a AgreementId,
    by: &'a Option<String>,
}

impl<C: Channel> Asking<'_, C> {
    /// Its set (kept or fetched), then the lookup in lots of at most 64 selectors; asked again
    /// once in the holder's new epoch when the epoch turned meanwhile (code 18). An `Err` is a
    /// failure of this node (its log); a holder's failure is an [`Outcome`]. Gives the epoch
    /// asked in and the tags that hit.
    async fn once(&self, epoch: Epoch) -> Result<(Outcome, Epoch, Vec<Tag>), String> {
        let (outcome, tags) = self.in_epoch(epoch).await?;
        let wrong_epoch = RejectCode::WrongEpoch.code();
        if let Outcome::Refused { code, .. } = &outcome
            && *code == wrong_epoch
            && let Ok(now) = Epoch::containing(crate::clock::now(), epoch.days)
            && now != epoch
        {
            let (outcome, tags) = self.in_epoch(now).await?;
            return Ok((outcome, now, tags));
        }
        Ok((outcome, epoch, tags))
    }

    async fn in_epoch(&self, epoch: Epoch) -> Result<(Outcome, Vec<Tag>), String> {
        let Self {
            asker,
            channel,
            cfg,
            wanted,
            holder,
            agreement,
            by,
        } = *self;
        let set = match asker.kept(holder, agreement, epoch) {
            Some(s) => s,
            None => {
                // a set rebuilt while it was fetched comes in two versions: fetched again once
                let mut fetched = fetch_set(channel, cfg, holder, agreement, epoch).await;
                if matches!(fetched, Err(Outcome::Invalid { .. })) {
                    fetched = fetch_set(channel, cfg, holder, agreement, epoch).await;
                }
                match fetched {
                    Ok(s) => {
                        let s = Arc::new(s);
                        asker.keep(holder, s.clone());
                        s
                    }
                    Err(outcome) => return Ok((outcome, vec![])),
                }
            }
        };
        let mut hits: Vec<Tag> = Vec::new();
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
            let (outcome, found, code) = match channel.ask(holder, request).await {
                Ok(Message::LookupAnswer(a)) if a.agreement == *agreement && a.epoch == epoch => {
                    let answer = accord_protocol::matching::Answer {
                        evaluated: a.evaluated,
                        proof: a.proof,
                    };
                    match lookup.finish(&answer, &set.public_key) {
                        Ok(tags) => {
                            let found: Vec<Tag> =
                                tags.into_iter().filter(|t| set.contains(t)).collect();
                            (Ok(()), found, None)
                        }
                        Err(e) => (
                            Err(Outcome::Invalid {
                                detail: format!("{holder}'s answer: {e}"),
                            }),
                            vec![],
                            None,
                        ),
                    }
                }
                Ok(Message::Refused(r)) => (
                    Err(Outcome::Refused {
                        code: r.code.code(),
                        detail: r.detail,
                    }),
                    vec![],
                    Some(r.code.code()),
                ),
                Ok(other) => (
                    Err(Outcome::Invalid {
                        detail: format!(
                            "{holder} answered with a message of kind {}, not the lookup's answer",
                            other.kind_code()
                        ),
                    }),
                    vec![],
                    None,
                ),
                Err(e) => (Err(Outcome::Unreachable { detail: e }), vec![], None),
            };
            let logged = match &outcome {
                Ok(()) => LookupOutcome::Answered,
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
                    hits: found.len() as u64,
                    code,
                }])
                .await?;
            hits.extend(found);
            if let Err(o) = outcome {
                if matches!(o, Outcome::Invalid { .. }) {
                    // a holder that changed its seed answers with a new key: fetch again next time
                    asker.forget(holder, agreement);
                }
                // a hit already found stays a hit: the rest could not be asked
                return Ok(if hits.is_empty() {
                    (o, hits)
                } else {
                    (Outcome::Hit, hits)
                });
            }
        }
        Ok(if hits.is_empty() {
            (Outcome::Miss, hits)
        } else {
            (Outcome::Hit, hits)
        })
    }
}

/// Fetches a holder's whole set, chunk by chunk (asking again, with a growing pause, while the
/// holder answers busy because it is building the set), and checks its signature with the
/// holder's agency key off the async runtime.
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
    let public = known.public_key;
    let mut tags = Vec::new();
    let mut first: Option<(u32, [u8; 32], [u8; 64])> = None;
    let busy_until = Instant::now() + BUSY_FOR_AT_MOST;
    let mut pause = Duration::from_millis(100);
    let busy = RejectCode::Busy.code();
    let mut chunks = 0u32;
    while chunks < MAX_CHUNKS {
        let from = u32::try_from(tags.len()).unwrap_or(u32::MAX);
        let request = Message::MatchSetRequest(MatchSetRequest {
            agreement: agreement.clone(),
            epoch,
            from,
        });
        let chunk = match channel.ask(holder, request).await {
            Ok(Message::MatchSet(c)) => c,
            Ok(Message::Refused(r)) if r.code.code() == busy && Instant::now() < busy_until => {
                // the holder is building its set (or busy): a pause, not a spin
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
                continue;
            }
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
        chunks += 1;
        if u64::from(chunk.total) > u64::from(MAX_CHUNKS) * MAX_SET_CHUNK as u64 {
            return Err(Outcome::Invalid {
                detail: format!(
                    "{holder}'s set of {} tags is larger than this node takes",
                    chunk.total
                ),
            });
        }
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
            let (agreement, holder) = (agreement.clone(), holder.clone());
            let (total, public_key, signature) = (chunk.total, chunk.public_key, chunk.signature);
            return tokio::task::spawn_blocking(move || {
                let set = MatchSet::from_tags(agreement, epoch, public_key, tags);
                if set.len() as u64 != u64::from(total) {
                    return Err(Outcome::Invalid {
                        detail: format!("{holder}'s set repeats tags"),
                    });
                }
                match set.verify(&public, &signature) {
                    Ok(()) => Ok(set),
                    Err(e) => Err(Outcome::Invalid {
                        detail: format!("{holder}'s set: {e}"),
                    }),
                }
            })
            .await
            .unwrap_or_else(|e| {
                Err(Outcome::Invalid {
                    detail: format!("the check of the set failed: {e}"),
                })
            });
        }
    }
    Err(Outcome::Invalid {
        detail: format!("{holder}'s set is larger than {MAX_CHUNKS} chunks"),
    })
}
