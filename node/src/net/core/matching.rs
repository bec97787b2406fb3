//! Hit / no-hit matching on the wire (docs/matching.md): a member's request for this holder's
//! set or its lookup, admitted on the loop (member, agreement confirmed, signed, in force,
//! provides for matching, the current epoch) and answered by a job (`matching::holder`); and
//! this node's own requests to a holder (`Command::Ask`), sent only to a fellow member of an
//! agreement that provides for matching and whose text is confirmed with it.

use tokio::sync::oneshot;

use super::*;
use crate::matching::holder::{Answered, Work, admit};

/// A member's matching request being answered off the loop.
pub(crate) struct MatchJob {
    to: AgencyId,
    id: InboundId,
    work: Work,
    request: Message,
}

/// A matching answer ready to go.
pub(crate) struct Matched {
    to: AgencyId,
    id: InboundId,
    answered: Answered,
}

impl MatchJob {
    pub(crate) fn run(self) -> Matched {
        let answered = match &self.request {
            Message::MatchSetRequest(r) => self.work.set_chunk(r.from),
            Message::Lookup(l) => self.work.lookup(l),
            _ => unreachable_request(),
        };
        Matched {
            to: self.to,
            id: self.id,
            answered,
        }
    }
}

/// Only set requests and lookups become jobs (`Core::on_match_request`).
fn unreachable_request() -> Answered {
    Answered {
        reply: Message::Refused(Refusal {
            code: RejectCode::Malformed,
            detail: "not a matching request".into(),
        }),
        refused: None,
    }
}

/// Matching requests of one member answered at once; more are refused busy (transient: the
/// member asks again), so a member cannot tie up the blocking pool with set requests.
const MATCH_JOBS_PER_PEER: usize = 2;

/// A request of ours to a holder, answered to whoever asked.
pub(crate) type AskReply = oneshot::Sender<Result<Message, String>>;

impl Core {
    /// A member's request for our set or a lookup at us.
    pub(super) fn on_match_request(&mut self, from: AgencyId, id: InboundId, request: Message) {
        let (agreement, epoch) = match &request {
            Message::MatchSetRequest(r) => (r.agreement.clone(), r.epoch),
            Message::Lookup(l) => (l.agreement.clone(), l.epoch),
            _ => return,
        };
        let confirmed = self.confirmed.contains(&(agreement.clone(), from.clone()));
        let cfg = self.cfg.clone();
        let admitted = admit(&cfg, &from, &agreement, epoch, confirmed, self.now());
        let (a, rule, epoch) = match admitted {
            Ok(ok) => ok,
            Err((code, detail)) => return self.refuse_match(&from, id, code, detail),
        };
        let Some(holder) = self.matching.clone() else {
            return self.refuse_match(
                &from,
                id,
                RejectCode::MatchingNotProvided,
                "this node has no matching seed loaded".into(),
            );
        };
        let jobs = self.matching_jobs.entry(from.clone()).or_default();
        if *jobs >= MATCH_JOBS_PER_PEER {
            let reply = Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail: format!(
                    "{MATCH_JOBS_PER_PEER} matching requests of yours are being answered; try again"
                ),
            });
            return self.respond(id, &reply, &from);
        }
        *jobs += 1;
        let work = Work {
            holder,
            store: self.store.clone(),
            key: self.key.clone(),
            own: self.cfg.agency.clone(),
            peer: from.clone(),
            agreement: a.clone(),
            rule,
            epoch,
            now: self.now(),
        };
        self.run(Job::Match(Box::new(MatchJob {
            to: from,
            id,
            work,
            request,
        })));
    }

    /// A refusal of a matching request: answered, logged (`reject`) and counted.
    fn refuse_match(&mut self, from: &AgencyId, id: InboundId, code: RejectCode, detail: String) {
        tracing::warn!(%from, code = code.code(), %detail, "matching request refused");
        self.emit(NodeEvent::rejected(from, code, detail.clone()));
        let reply = Message::Refused(Refusal {
            code,
            detail: truncate(detail),
        });
        self.respond(id, &reply, from);
    }

    /// A job's answer to a member.
    pub(super) fn on_matched(&mut self, done: Matched) {
        if let Some(n) = self.matching_jobs.get_mut(&done.to) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.matching_jobs.remove(&done.to);
            }
        }
        if let Some((code, detail)) = done.answered.refused {
            self.emit(NodeEvent::rejected(&done.to, code, detail));
        }
        let reply = match done.answered.reply {
            Message::Refused(r) => Message::Refused(Refusal {
                code: r.code,
                detail: truncate(r.detail),
            }),
            other => other,
        };
        self.respond(done.id, &reply, &done.to);
    }

    /// Our own request to a holder: sent only when the holder and this agency are members of
    /// an agreement that provides for matching and whose text is confirmed with the holder;
    /// else answered at once with the reason.
    pub(super) fn ask(&mut self, to: AgencyId, request: Message, reply: AskReply) {
        let agreement = match &request {
            Message::MatchSetRequest(r) => r.agreement.clone(),
            Message::Lookup(l) => l.agreement.clone(),
            _ => {
                let _ = reply.send(Err("only matching requests are asked this way".into()));
                return;
            }
        };
        let allowed = match self.cfg.agreements.get(&agreement) {
            None => Err(format!("{agreement} is unknown here")),
            Some(a)
                if !a.is_member(&to) || !a.is_member(&self.cfg.agency) || to == self.cfg.agency =>
            {
                Err(format!("{to} is not a fellow member of {agreement}"))
            }
            Some(a) if a.matching.is_none() => Err(format!(
                "{agreement} does not provide for matching (no [matching] clause)"
            )),
            Some(_) if !self.confirmed.contains(&(agreement.clone(), to.clone())) => Err(format!(
                "the text of {agreement} is not confirmed identical with {to} yet (not connected, \
                 or the texts differ)"
            )),
            Some(_) => Ok(()),
        };
        if let Err(e) = allowed {
            let _ = reply.send(Err(e));
            return;
        }
        match request.encode() {
            Ok(bytes) => {
                let id = self.request_id();
                self.metrics.wire_sent(&bytes);
                self.pending.insert(id, Pending::Ask { reply });
                self.effects.push(Effect::Send {
                    to,
                    id,
                    frame: Frame::new(bytes),
                });
            }
            Err(e) => {
                let _ = reply.send(Err(format!("cannot encode the request: {e}")));
            }
        }
    }
}
