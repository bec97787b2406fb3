//! The refusal budget, without I/O: how many of each peer's inputs were refused in the current
//! one-second window, and whether its requests are now shed (answered `Busy` unread). The time
//! is passed in; the actor writes the audit entries of the windows this reports closed.
//!
//! An honest member is refused rarely; a member sending junk is refused every time, and past
//! [`REFUSAL_BUDGET`] refusals within a second its requests cost us little more than reading
//! a frame header. The requests shed in a window are logged once, when the window closes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use accord_protocol::AgencyId;

/// Refusals of a peer's input per second after which its requests are shed.
pub(crate) const REFUSAL_BUDGET: u32 = 32;

/// How long a window lasts.
const WINDOW: Duration = Duration::from_secs(1);

/// A peer's refusals in the current window.
#[derive(Debug, Default)]
struct Window {
    since: Option<Instant>,
    refused: u32,
    shed: u64,
}

impl Window {
    /// Opens a new window if the current one is a window old (or none is open); returns the
    /// requests the closed window shed.
    fn roll(&mut self, now: Instant) -> u64 {
        if self.since.is_some_and(|s| now.duration_since(s) < WINDOW) {
            return 0;
        }
        let shed = self.shed;
        *self = Window {
            since: Some(now),
            ..Window::default()
        };
        shed
    }
}

/// Every peer's window.
#[derive(Debug, Default)]
pub(crate) struct RefusalBudget {
    peers: BTreeMap<AgencyId, Window>,
}

/// What one step of the budget decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// Whether the peer is over its budget (its requests are shed).
    pub(crate) over: bool,
    /// Requests shed in the peer's window that this step closed: one audit entry for them.
    pub(crate) closed_shed: u64,
}

impl RefusalBudget {
    /// Counts one refusal of `peer`'s input at `now`.
    pub(crate) fn refused(&mut self, peer: &AgencyId, now: Instant) -> Step {
        let w = self.peers.entry(peer.clone()).or_default();
        let closed_shed = w.roll(now);
        w.refused = w.refused.saturating_add(1);
        Step {
            over: w.refused >= REFUSAL_BUDGET,
            closed_shed,
        }
    }

    /// A request of `peer` arrived at `now`: whether to shed it (the peer is over its budget:
    /// the request is counted as shed and answered `Busy` unread).
    pub(crate) fn request(&mut self, peer: &AgencyId, now: Instant) -> Step {
        let w = self.peers.entry(peer.clone()).or_default();
        let closed_shed = w.roll(now);
        let over = w.refused >= REFUSAL_BUDGET;
        if over {
            w.shed += 1;
        }
        Step { over, closed_shed }
    }

    /// Closes the windows a window old at `now`: the peers whose closed window shed requests,
    /// with how many (no request came since to close it).
    pub(crate) fn close(&mut self, now: Instant) -> Vec<(AgencyId, u64)> {
        self.peers
            .iter_mut()
            .map(|(p, w)| (p.clone(), w.roll(now)))
            .filter(|(_, shed)| *shed > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(a: &str) -> AgencyId {
        AgencyId::new(a).unwrap()
    }

    #[test]
    fn a_peer_is_shed_past_its_budget_within_a_window_and_the_shed_are_counted_once() {
        let t0 = Instant::now();
        let (bg, tr) = (peer("BG-GDBP"), peer("TR-JGK"));
        let mut b = RefusalBudget::default();
        // the first refusal opens the window, at t0
        for i in 0..REFUSAL_BUDGET - 1 {
            let s = b.refused(&bg, t0 + Duration::from_millis(u64::from(i)));
            assert!(!s.over, "over after {} refusals", i + 1);
        }
        assert!(
            !b.request(&bg, t0 + Duration::from_millis(50)).over,
            "one under the budget"
        );
        assert!(b.refused(&bg, t0 + Duration::from_millis(100)).over);
        // its requests are shed for the rest of the window; another peer's are not
        for _ in 0..5 {
            assert!(b.request(&bg, t0 + Duration::from_millis(500)).over);
        }
        assert!(!b.request(&tr, t0 + Duration::from_millis(500)).over);
        // nothing closes within the window
        assert!(b.close(t0 + Duration::from_millis(999)).is_empty());
        // the window closes a second after it opened: its five shed requests, once
        assert_eq!(b.close(t0 + WINDOW), vec![(bg.clone(), 5)]);
        assert!(b.close(t0 + WINDOW * 2).is_empty());
        // and the peer starts again with a full budget
        assert!(!b.request(&bg, t0 + WINDOW * 2).over);
    }

    #[test]
    fn a_request_after_the_window_closes_it_and_reports_what_it_shed() {
        let t0 = Instant::now();
        let bg = peer("BG-GDBP");
        let mut b = RefusalBudget::default();
        for _ in 0..REFUSAL_BUDGET {
            b.refused(&bg, t0);
        }
        assert_eq!(
            b.request(&bg, t0),
            Step {
                over: true,
                closed_shed: 0
            }
        );
        assert_eq!(
            b.request(&bg, t0 + WINDOW),
            Step {
                over: false,
                closed_shed: 1
            }
        );
        // a refusal opening a window reports the one before it too
        for _ in 0..REFUSAL_BUDGET {
            b.refused(&bg, t0 + WINDOW);
        }
        b.request(&bg, t0 + WINDOW);
        b.request(&bg, t0 + WINDOW);
        assert_eq!(b.refused(&bg, t0 + WINDOW * 3).closed_shed, 2);
    }
}
