//! The holder's side of a lookup (docs/matching.md): which requests it serves, its tag set per
//! agreement and epoch (built off the network loop, kept, rebuilt at most every
//! [`SET_REFRESH`]), the chunk of it a member asks for, and the evaluation of a member's
//! blinded selectors once the quota has counted them and the log recorded them durably.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
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

/// One agreement's set: the one built, whether a build runs, and how the last one failed.
#[derive(Default)]
struct SlotState {
    built: Option<Arc<Built>>,
    building: bool,
    failed: Option<String>,
}

type Slot = Arc<(Mutex<SlotState>, Condvar)>;

/// How long a member's set request waits for a build before it is answered busy (the member
/// asks again): under the requester's timeout, so a large holding (about 47 s of a core per
/// million selectors) never makes the first fetch of an epoch time out.
pub const BUILD_WAIT: Duration = Duration::from_secs(5);

/// A set given to a member: (member, agreement, epoch, set digest).
type HandOver = (AgencyId, AgreementId, Epoch, [u8; 32]);

/// The holder: its matching seed, the sets built from it, one per agreement (the current
/// epoch's; a new epoch replaces it), and the set hand-overs already logged.
pub struct Holder {
    seed: Zeroizing<[u8; 32]>,
    slots: Mutex<BTreeMap<AgreementId, Slot>>,
    /// The hand-overs whose `match-set` entry is written.
    logged: Mutex<BTreeSet<HandOver>>,
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
            logged: Mutex::new(BTreeSet::new()),
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

    /// The set under `agreement` in `epoch`, when one built for that epoch less than
    /// [`SET_REFRESH`] ago is kept; else a build starts on a thread of its own (one per
    /// agreement at a time) and this waits for it at most `wait`: `None` when it is not done
    /// by then.
    pub fn set(
        self: &Arc<Self>,
        store: &Arc<Store>,
        own: &AgencyId,
        agreement: &Agreement,
        epoch: Epoch,
        key: &Arc<SecretKey>,
        wait: Duration,
    ) -> Result<Option<Arc<Built>>, HolderError> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(agreement.id.clone())
            .or_default()
            .clone();
        let fresh = |st: &SlotState| {
            st.built
                .as_ref()
                .filter(|b| b.set.epoch == epoch && b.built.elapsed() < SET_REFRESH)
                .cloned()
        };
        let (lock, ready) = &*slot;
        let mut st = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = fresh(&st) {
            return Ok(Some(b));
        }
        if !st.building {
            st.building = true;
            st.failed = None;
            let (holder, store, own, agreement, key, slot) = (
                self.clone(),
                store.clone(),
                own.clone(),
                agreement.clone(),
                key.clone(),
                slot.clone(),
            );
            std::thread::spawn(move || {
                let result = holder_set(&store, &own, &agreement, &holder.seed, epoch)
                    .and_then(|s| s.ok_or_else(|| HolderError::NotProvided(agreement.id.clone())));
                let (lock, ready) = &*slot;
                let mut st = lock.lock().unwrap_or_else(PoisonError::into_inner);
                st.building = false;
                match result {
                    Ok(set) => {
                        let signature = set.sign(&key);
                        st.built = Some(Arc::new(Built {
                            set,
                            signature,
                            built: Instant::now(),
                        }));
                    }
                    Err(e) => {
                        tracing::error!(agreement = %agreement.id, error = %e, "the matching set could not be built");
                        st.failed = Some(e.to_string());
                    }
                }
                ready.notify_all();
            });
        }
        let deadline = Instant::now() + wait;
        loop {
            if let Some(b) = fresh(&st) {
                return Ok(Some(b));
            }
            if !st.building
                && let Some(e) = &st.failed
            {
                return Err(HolderError::Build(e.clone()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            st = ready
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Whether the hand-over of this set to `to` is yet to be logged; marks it logged. Marks of
    /// other epochs go.
    fn first_hand_over(&self, to: &AgencyId, built: &Built) -> bool {
        let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
        let epoch = built.set.epoch;
        logged.retain(|(_, _, e, _)| *e == epoch);
        logged.insert((
            to.clone(),
            built.set.agreement.clone(),
            epoch,
            built.set.digest(),
        ))
    }

    /// Forgets a hand-over marked but not logged (the entry could not be written).
    fn unmark(&self, to: &AgencyId, built: &Built) {
        self.logged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(
                to.clone(),
                built.set.agreement.clone(),
                built.set.epoch,
                built.set.digest(),
            ));
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
    /// The chunk of the set from tag `from`. The set's hand-over to the member is logged
    /// (`match-set`) and flushed before the first chunk of it goes, whichever chunk that is.
    /// While the set is being built, the member is answered busy and asks again.
    pub(crate) fn set_chunk(&self, from: u32) -> Answered {
        let built = match self.holder.set(
            &self.store,
            &self.own,
            &self.agreement,
            self.epoch,
            &self.key,
            BUILD_WAIT,
        ) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Answered {
                    reply: Message::Refused(Refusal {
                        code: RejectCode::Busy,
                        detail: format!(
                            "the set under {} is being built; ask again shortly",
                            self.agreement.id
                        ),
                    }),
                    refused: None,
                };
            }
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
        if self.holder.first_hand_over(&self.peer, &built) {
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
                self.holder.unmark(&self.peer, &built);
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
        // a malformed lookup is refused before the quota counts it
        if let Err(e) = accord_protocol::matching::check_blinded(&req.blinded) {
            return Answered::refuse(RejectCode::Malformed, format!("the lookup: {e}"));
        }
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

/// A failure of this node: the detail goes to its own log, the member is told only to try
/// again (a store error's text may name paths).
fn busy(e: &dyn std::fmt::Display) -> Answered {
    tracing::error!(error = %e, "a matching request could not be answered");
    Answered {
        reply: Message::Refused(Refusal {
            code: RejectCode::Busy,
            detail: "the holder could not answer now; try again later".into(),
        }),
        refused: None,
    }
}
