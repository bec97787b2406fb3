//! The holder's side of a lookup (docs/matching.md): which requests it serves, its tag set per
//! agreement and epoch (built off the network loop, kept, rebuilt at most every
//! [`SET_REFRESH`]), the chunk of it a member asks for, and the evaluation of a member's
//! blinded selectors once the quota has counted them and the log recorded them durably.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use accord_config::{Agreement, MatchingRule, NodeConfig};
use accord_protocol::audit::AuditEvent;
use accord_protocol::matching::{Epoch, MatchKey, MatchSet};
use accord_protocol::wire::{
    LookupAnswer, LookupRequest, MAX_SET_CHUNK, Refusal, RejectCode, SetChunk,
};
use accord_protocol::{AgencyId, AgreementId, Message, SecretKey, Timestamp};
use zeroize::Zeroizing;

use super::{HolderError, holder_set};
use crate::store::{Quota, Store};

/// How long a holder's set is served before it is built again from the records held (when a
/// member asks): a record stored now takes part in lookups within this time.
pub const SET_REFRESH: Duration = Duration::from_secs(600);

/// A built set with the holder's signature of it.
#[derive(Debug)]
pub struct Built {
    /// The set.
    pub set: MatchSet,
    /// The agency key's signature of its statement.
    pub signature: [u8; 64],
    built: Instant,
}

type Slot = Arc<Mutex<Option<Arc<Built>>>>;

/// The holder: its matching seed and the sets built from it, one per agreement (the current
/// epoch's; a new epoch replaces it).
pub struct Holder {
    seed: Zeroizing<[u8; 32]>,
    slots: Mutex<BTreeMap<AgreementId, Slot>>,
}

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Holder")
    }
}

impl Holder {
    /// A holder deriving its keys from `seed`.
    pub fn new(seed: Zeroizing<[u8; 32]>) -> Self {
        Self {
            seed,
            slots: Mutex::new(BTreeMap::new()),
        }
    }

    /// The key of `agreement` in `epoch`.
    pub fn key(
        &self,
        agreement: &AgreementId,
        epoch: Epoch,
    ) -> Result<MatchKey, accord_protocol::matching::MatchError> {
        MatchKey::derive(&self.seed, agreement, epoch)
    }

    /// The set under `agreement` in `epoch`, built when none is kept for that epoch or the
    /// one kept is older than [`SET_REFRESH`]. One build per agreement at a time; a member
    /// asking meanwhile waits for it rather than starting another.
    pub fn set(
        &self,
        store: &Store,
        own: &AgencyId,
        agreement: &Agreement,
        epoch: Epoch,
        key: &SecretKey,
    ) -> Result<Arc<Built>, HolderError> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(agreement.id.clone())
            .or_default()
            .clone();
        let mut kept = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = kept.as_ref()
            && b.set.epoch == epoch
            && b.built.elapsed() < SET_REFRESH
        {
            return Ok(b.clone());
        }
        let set = holder_set(store, own, agreement, &self.seed, epoch)?
            .ok_or_else(|| HolderError::NotProvided(agreement.id.clone()))?;
        let signature = set.sign(key);
        let built = Arc::new(Built {
            set,
            signature,
            built: Instant::now(),
        });
        *kept = Some(built.clone());
        Ok(built)
    }
}

/// Why a member's matching request is refused before any work: the code and the text.
pub type Refused = (RejectCode, String);

/// The agreement, its clause and the current epoch when `peer` may ask under `agreement` at
/// `now`: the agreement is known here, `peer` is a member, its text is `confirmed` identical
/// with the peer, every member has signed it, it is in force, it provides for matching and
/// `epoch` is the current one.
pub fn admit<'a>(
    cfg: &'a NodeConfig,
    peer: &AgencyId,
    agreement: &AgreementId,
    epoch: Epoch,
    confirmed: bool,
    now: Timestamp,
) -> Result<(&'a Agreement, MatchingRule, Epoch), Refused> {
    let Some(a) = cfg.agreements.get(agreement) else {
        return Err((
            RejectCode::AgreementNotInForce,
            format!("agreement {agreement} is unknown here"),
        ));
    };
    if !a.is_member(peer) || !a.is_member(&cfg.agency) {
        return Err((
            RejectCode::NotMember,
            format!("{peer} is not a member of {agreement}"),
        ));
    }
    if !confirmed {
        return Err((
            RejectCode::AgreementMismatch,
            format!("the text of {agreement} is not confirmed identical with {peer}"),
        ));
    }
    if !a.fully_signed() {
        return Err((
            RejectCode::AgreementNotSigned,
            format!("{agreement} is not yet signed by every member"),
        ));
    }
    if !a.in_force(now) {
        return Err((
            RejectCode::AgreementNotInForce,
            format!("{agreement} is not in force on {}", now.date()),
        ));
    }
    let Some(rule) = a.matching else {
        return Err((
            RejectCode::MatchingNotProvided,
            format!("{agreement} does not provide for matching (no [matching] clause)"),
        ));
    };
    let current = Epoch::containing(now, rule.epoch_days)
        .map_err(|e| (RejectCode::MatchingNotProvided, format!("{agreement}: {e}")))?;
    if epoch != current {
        return Err((
            RejectCode::WrongEpoch,
            format!("epoch {epoch} is not the current one under {agreement}: {current}"),
        ));
    }
    Ok((a, rule, current))
}

/// What a holder does with an admitted request, off the network loop.
pub(crate) struct Work {
    /// The holder.
    pub holder: Arc<Holder>,
    /// The store.
    pub store: Arc<Store>,
    /// The agency key, which signs the set.
    pub key: Arc<SecretKey>,
    /// This agency.
    pub own: AgencyId,
    /// The member asking.
    pub peer: AgencyId,
    /// The agreement (admitted).
    pub agreement: Agreement,
    /// Its clause.
    pub rule: MatchingRule,
    /// The current epoch.
    pub epoch: Epoch,
    /// The time.
    pub now: Timestamp,
}

/// A holder's answer: the message, and the refusal to log and count when it is one.
pub(crate) struct Answered {
    /// The reply.
    pub reply: Message,
    /// The refusal, if the reply is one.
    pub refused: Option<Refused>,
}

impl Answered {
    fn refuse(code: RejectCode, detail: String) -> Self {
        Self {
            reply: Message::Refused(Refusal {
                code,
                detail: detail.clone(),
            }),
            refused: Some((code, detail)),
        }
    }
}

impl Work {
    /// The chunk of the set from tag `from`; the first chunk's hand-over is logged
    /// (`match-set`) and flushed before it goes.
    pub(crate) fn set_chunk(&self, from: u32) -> Answered {
        let built = match self.holder.set(
            &self.store,
            &self.own,
            &self.agreement,
            self.epoch,
            &self.key,
        ) {
            Ok(b) => b,
            Err(e) => return busy(&e),
        };
        let tags = built.set.tags();
        let total = u32::try_from(tags.len()).unwrap_or(u32::MAX);
        if from > total || (from == total && total != 0) {
            return Answered::refuse(
                RejectCode::Malformed,
                format!("the set holds {total} tags; none from {from}"),
            );
        }
        if from == 0 {
            let event = AuditEvent::MatchSet {
                to: self.peer.clone(),
                agreement: self.agreement.id.clone(),
                epoch: self.epoch,
                tags: u64::from(total),
            };
            if let Err(e) = self
                .store
                .log()
                .audit(self.now, vec![event])
                .and_then(|()| self.store.flush().map(|_| ()))
            {
                return busy(&e);
            }
        }
        let start = from as usize;
        let end = (start + MAX_SET_CHUNK).min(tags.len());
        Answered {
            reply: Message::MatchSet(SetChunk {
                agreement: self.agreement.id.clone(),
                epoch: self.epoch,
                public_key: built.set.public_key,
                total,
                from,
                tags: tags[start..end].to_vec(),
                signature: built.signature,
            }),
            refused: None,
        }
    }

    /// The evaluation of a lookup, once the quota counted it and its `lookup-answered` entry
    /// is durable; over quota, a refusal naming when the quota renews.
    pub(crate) fn lookup(&self, req: &LookupRequest) -> Answered {
        let asked = u32::try_from(req.blinded.len()).unwrap_or(u32::MAX);
        let event = |today: u32| AuditEvent::LookupAnswered {
            from: self.peer.clone(),
            agreement: self.agreement.id.clone(),
            epoch: self.epoch,
            selectors: u64::from(asked),
            today: u64::from(today),
        };
        let counted = self.store.log().count_lookup(
            &self.peer,
            &self.agreement.id,
            asked,
            self.rule.lookups_per_day,
            self.now,
            event,
        );
        match counted {
            Ok(Quota::Counted { .. }) => {}
            Ok(Quota::Spent { used, limit, .. }) => {
                let renews = self.now.date().start().plus_secs(86_400);
                return Answered::refuse(
                    RejectCode::OverQuota,
                    format!(
                        "{} has looked up {used} of its {limit} selectors a day under {}; a \
                         lookup of {asked} more is over the quota, which renews at {renews}",
                        self.peer, self.agreement.id
                    ),
                );
            }
            Err(e) => return busy(&e),
        }
        if let Err(e) = self.store.flush() {
            return busy(&e);
        }
        let key = match self.holder.key(&self.agreement.id, self.epoch) {
            Ok(k) => k,
            Err(e) => return busy(&e),
        };
        match key.answer(&mut rand_core::OsRng, &req.blinded) {
            Ok(a) => Answered {
                reply: Message::LookupAnswer(LookupAnswer {
                    agreement: self.agreement.id.clone(),
                    epoch: self.epoch,
                    evaluated: a.evaluated,
                    proof: a.proof,
                }),
                refused: None,
            },
            Err(e) => Answered::refuse(RejectCode::Malformed, format!("the lookup: {e}")),
        }
    }
}

fn busy(e: &dyn std::fmt::Display) -> Answered {
    tracing::error!(error = %e, "a matching request could not be answered");
    Answered {
        reply: Message::Refused(Refusal {
            code: RejectCode::Busy,
            detail: format!("the holder could not answer now: {e}"),
        }),
        refused: None,
    }
}
