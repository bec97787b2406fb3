//! The alarms a running node knows, kept in one place so each is logged once (at ERROR or
//! WARN, when it is raised, and at INFO when it clears), listed in `/v1/status` and `accord
//! status`, counted in the metrics, and handed to the notification hook — never logged once
//! per repetition of its cause.
//!
//! Decisions only: the actor feeds what it saw (an event, a receipt's time, the agreements at
//! a tick) with the time passed in, and reads back what changed.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use accord_config::NodeConfig;
use accord_protocol::{AgencyId, Timestamp};
use serde::{Deserialize, Serialize};

/// What an alarm is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmKind {
    /// A partner signed two different audit log heads for one count: its key is used by two
    /// nodes, or its log was rewritten.
    AuditFork,
    /// Two different records claim one (agreement, originator, seq).
    Equivocation,
    /// A partner holds a different text of an agreement: nothing is shared under it with them.
    AgreementMismatch,
    /// An agreement is not in effect: not every member has signed it, or it is outside its
    /// validity.
    NotInEffect,
    /// This node keeps refusing what a peer sends.
    PeerRefused,
    /// A peer keeps refusing what this node sends.
    RefusedByPeer,
    /// A peer's clock differs from this node's.
    ClockSkew,
    /// A peer has not acknowledged several pushes in a row.
    PushesFailing,
}

impl AlarmKind {
    /// Every kind, in order (the metrics list each, at 0 when none is raised).
    pub const ALL: [AlarmKind; 8] = [
        AlarmKind::AuditFork,
        AlarmKind::Equivocation,
        AlarmKind::AgreementMismatch,
        AlarmKind::NotInEffect,
        AlarmKind::PeerRefused,
        AlarmKind::RefusedByPeer,
        AlarmKind::ClockSkew,
        AlarmKind::PushesFailing,
    ];

    /// The kind as the status and metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::AuditFork => "audit-fork",
            AlarmKind::Equivocation => "equivocation",
            AlarmKind::AgreementMismatch => "agreement-mismatch",
            AlarmKind::NotInEffect => "not-in-effect",
            AlarmKind::PeerRefused => "peer-refused",
            AlarmKind::RefusedByPeer => "refused-by-peer",
            AlarmKind::ClockSkew => "clock-skew",
            AlarmKind::PushesFailing => "pushes-failing",
        }
    }

    /// `error` for evidence of a forged or cloned key and a text mismatch, `warning` otherwise.
    pub fn severity(self) -> Severity {
        match self {
            AlarmKind::AuditFork | AlarmKind::Equivocation | AlarmKind::AgreementMismatch => {
                Severity::Error
            }
            _ => Severity::Warning,
        }
    }
}

/// How bad an alarm is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Act now.
    Error,
    /// Look into it.
    Warning,
}

/// One alarm raised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    /// What it is about.
    pub kind: AlarmKind,
    /// How bad.
    pub severity: Severity,
    /// Whom or what: an agency, an agreement, or `AGREEMENT/AGENCY`.
    pub subject: String,
    /// What was seen, in words, with what to do where that helps.
    pub message: String,
    /// When it was first raised.
    pub since: Timestamp,
    /// How often its cause was seen since.
    pub count: u64,
}

/// A refusal count over a sliding window.
#[derive(Debug, Default)]
struct Window {
    times: VecDeque<Instant>,
    last: String,
}

/// Refusals in [`REFUSAL_WINDOW`] that raise a peer alarm.
pub(crate) const REFUSALS_FOR_ALARM: usize = 10;
/// The window over which refusals are counted; an alarm clears after a window without any.
pub(crate) const REFUSAL_WINDOW: Duration = Duration::from_secs(600);
/// A clock difference beyond this raises a clock-skew alarm.
pub(crate) const SKEW_TOLERANCE_SECS: i64 = 120;

/// The alarms raised, and what is counted towards raising them.
#[derive(Debug, Default)]
pub(crate) struct Alarms {
    raised: BTreeMap<(AlarmKind, String), Alarm>,
    /// Per (kind, peer): refusals seen in the window.
    refusals: BTreeMap<(AlarmKind, AgencyId), Window>,
}

/// What changed: an alarm raised (new) or cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Newly raised.
    Raised(Alarm),
    /// Its cause is gone.
    Cleared(Alarm),
}

impl Alarms {
    /// Raises an alarm, or counts one more sighting of a raised one. Returns the alarm when it
    /// is new; it is logged then, once.
    pub(crate) fn raise(
        &mut self,
        kind: AlarmKind,
        subject: impl Into<String>,
        message: impl Into<String>,
        now: Timestamp,
    ) -> Option<Alarm> {
        let subject = subject.into();
        if let Some(a) = self.raised.get_mut(&(kind, subject.clone())) {
            a.count = a.count.saturating_add(1);
            a.message = message.into();
            return None;
        }
        let alarm = Alarm {
            kind,
            severity: kind.severity(),
            subject: subject.clone(),
            message: message.into(),
            since: now,
            count: 1,
        };
        log_raised(&alarm);
        self.raised.insert((kind, subject), alarm.clone());
        Some(alarm)
    }

    /// Clears an alarm whose cause is gone; returns it if it was raised (logged at INFO).
    pub(crate) fn clear(&mut self, kind: AlarmKind, subject: &str) -> Option<Alarm> {
        let alarm = self.raised.remove(&(kind, subject.to_owned()))?;
        tracing::info!(
            kind = kind.as_str(),
            subject,
            "alarm cleared: {}",
            alarm.message
        );
        Some(alarm)
    }

    /// Every alarm raised, most severe first, then by kind and subject.
    pub(crate) fn list(&self) -> Vec<Alarm> {
        let mut out: Vec<Alarm> = self.raised.values().cloned().collect();
        out.sort_by_key(|a| (a.severity != Severity::Error, a.kind, a.subject.clone()));
        out
    }

    /// How many alarms of `kind` are raised (the tests' view).
    #[cfg(test)]
    pub(crate) fn count(&self, kind: AlarmKind) -> usize {
        self.raised.keys().filter(|(k, _)| *k == kind).count()
    }

    /// Counts a refusal of `peer`'s input (`PeerRefused`) or of ours by `peer`
    /// (`RefusedByPeer`); raises the alarm at [`REFUSALS_FOR_ALARM`] within
    /// [`REFUSAL_WINDOW`].
    pub(crate) fn refusal(
        &mut self,
        kind: AlarmKind,
        peer: &AgencyId,
        detail: &str,
        at: Instant,
        now: Timestamp,
    ) -> Option<Alarm> {
        let w = self.refusals.entry((kind, peer.clone())).or_default();
        w.times.push_back(at);
        while w
            .times
            .front()
            .is_some_and(|t| at.duration_since(*t) > REFUSAL_WINDOW)
        {
            w.times.pop_front();
        }
        // bounded: only the count in the window matters
        while w.times.len() > REFUSALS_FOR_ALARM * 4 {
            w.times.pop_front();
        }
        w.last = detail.to_owned();
        let n = w.times.len();
        if n < REFUSALS_FOR_ALARM {
            return None;
        }
        let message = match kind {
            AlarmKind::PeerRefused => format!(
                "{n} or more of {peer}'s requests or records refused in the last {} minutes \
                 (last: {detail}); a misbehaving or misconfigured member",
                REFUSAL_WINDOW.as_secs() / 60
            ),
            _ => format!(
                "{peer} refused {n} or more of this node's records or requests in the last {} \
                 minutes (last: {detail}); compare the agreement and configuration with its \
                 operator",
                REFUSAL_WINDOW.as_secs() / 60
            ),
        };
        self.raise(kind, peer.as_str(), message, now)
    }

    /// Clears refusal alarms of peers quiet for a whole window.
    pub(crate) fn quiet(&mut self, at: Instant) -> Vec<Alarm> {
        let mut gone = Vec::new();
        let stale: Vec<(AlarmKind, AgencyId)> = self
            .refusals
            .iter()
            .filter(|(_, w)| {
                w.times
                    .back()
                    .is_none_or(|t| at.duration_since(*t) > REFUSAL_WINDOW)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for (kind, peer) in stale {
            self.refusals.remove(&(kind, peer.clone()));
            gone.extend(self.clear(kind, peer.as_str()));
        }
        gone
    }

    /// A peer's signed time (a receipt's `received_at`) against ours: raises or clears its
    /// clock-skew alarm.
    pub(crate) fn peer_time(
        &mut self,
        peer: &AgencyId,
        theirs: Timestamp,
        now: Timestamp,
    ) -> Option<Change> {
        let diff = theirs.unix() - now.unix();
        if diff.abs() > SKEW_TOLERANCE_SECS {
            let message = format!(
                "{peer}'s clock is about {}s {} this node's ({peer} signed {theirs} when this \
                 node read {now}); check both clocks (timedatectl): records near an agreement's \
                 limits are refused on one side",
                diff.abs(),
                if diff > 0 { "ahead of" } else { "behind" }
            );
            self.raise(AlarmKind::ClockSkew, peer.as_str(), message, now)
                .map(Change::Raised)
        } else {
            self.clear(AlarmKind::ClockSkew, peer.as_str())
                .map(Change::Cleared)
        }
    }

    /// Whether each agreement is in effect now, and why not: raises or clears its
    /// not-in-effect alarm. Returns what changed.
    pub(crate) fn agreements(&mut self, cfg: &NodeConfig, now: Timestamp) -> Vec<Change> {
        let mut changes = Vec::new();
        for a in cfg.agreements.values() {
            match not_in_effect(a, now) {
                Some(why) => changes.extend(
                    self.raise(AlarmKind::NotInEffect, a.id.as_str(), why, now)
                        .map(Change::Raised),
                ),
                None => {
                    if let Some(was) = self.clear(AlarmKind::NotInEffect, a.id.as_str()) {
                        tracing::info!(agreement = %a.id, "the agreement is in effect");
                        changes.push(Change::Cleared(was));
                    }
                }
            }
        }
        changes
    }
}

/// Why an agreement is not in effect at `now`, in words; `None` when it is.
pub(crate) fn not_in_effect(a: &accord_config::Agreement, now: Timestamp) -> Option<String> {
    if now < a.valid_from.start() {
        return Some(format!(
            "{} is not in effect before {} (valid_from): nothing is shared under it yet",
            a.id, a.valid_from
        ));
    }
    if now > a.valid_until.start().plus_secs(86_399) {
        return Some(format!(
            "{} ended on {} (valid_until): nothing is shared under it any more",
            a.id, a.valid_until
        ));
    }
    let missing: Vec<&str> = a
        .members
        .iter()
        .filter(|m| !a.signatures.contains_key(*m))
        .map(AgencyId::as_str)
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "{} is not in effect: not yet signed by {} (each member runs `accord agreement \
             sign`; nodes exchange signatures when they connect)",
            a.id,
            missing.join(", ")
        ));
    }
    None
}

fn log_raised(a: &Alarm) {
    match a.severity {
        Severity::Error => tracing::error!(
            kind = a.kind.as_str(),
            subject = %a.subject,
            "ALARM: {}",
            a.message
        ),
        Severity::Warning => tracing::warn!(
            kind = a.kind.as_str(),
            subject = %a.subject,
            "alarm: {}",
            a.message
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn an_alarm_is_raised_once_and_counted_after() {
        let mut a = Alarms::default();
        let now = t("2026-12-01T00:00:00Z");
        assert!(
            a.raise(AlarmKind::AuditFork, "TH-DSI", "two heads", now)
                .is_some()
        );
        for _ in 0..5 {
            assert!(
                a.raise(AlarmKind::AuditFork, "TH-DSI", "two heads", now)
                    .is_none()
            );
        }
        let list = a.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].count, 6);
        assert_eq!(list[0].severity, Severity::Error);
        assert!(a.clear(AlarmKind::AuditFork, "TH-DSI").is_some());
        assert!(a.list().is_empty());
    }

    #[test]
    fn refusals_raise_at_the_threshold_and_clear_after_a_quiet_window() {
        let mut a = Alarms::default();
        let peer = AgencyId::new("MY-MMEA").unwrap();
        let start = Instant::now();
        let now = t("2026-12-01T00:00:00Z");
        for i in 0..REFUSALS_FOR_ALARM - 1 {
            let at = start + Duration::from_secs(i as u64);
            assert!(
                a.refusal(AlarmKind::PeerRefused, &peer, "bad signature", at, now)
                    .is_none()
            );
        }
        let at = start + Duration::from_secs(30);
        let raised = a.refusal(AlarmKind::PeerRefused, &peer, "bad signature", at, now);
        assert!(raised.unwrap().message.contains("MY-MMEA"));
        assert!(a.quiet(at + Duration::from_secs(60)).is_empty());
        let gone = a.quiet(at + REFUSAL_WINDOW + Duration::from_secs(1));
        assert_eq!(gone.len(), 1);
        assert_eq!(a.count(AlarmKind::PeerRefused), 0);
    }

    #[test]
    fn clock_skew_beyond_the_tolerance_raises_and_a_good_time_clears() {
        let mut a = Alarms::default();
        let peer = AgencyId::new("MY-MMEA").unwrap();
        let now = t("2026-12-01T00:00:00Z");
        assert_eq!(a.peer_time(&peer, now.plus_secs(60), now), None);
        match a.peer_time(&peer, now.plus_secs(3600), now) {
            Some(Change::Raised(alarm)) => {
                assert!(alarm.message.contains("3600s ahead"), "{}", alarm.message)
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            a.peer_time(&peer, now, now),
            Some(Change::Cleared(_))
        ));
    }
}
