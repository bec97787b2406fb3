//! When to dial each partner again, without I/O: a backoff per agency that doubles after each
//! dial up to a ceiling, starts afresh once connected, and is paused while an agency is cut
//! off (`accord peers disconnect`). The time is passed in; the actor dials what this says is
//! due.

use std::collections::BTreeMap;
use std::time::Duration;

use accord_protocol::AgencyId;
use std::time::Instant;

/// One agency's backoff.
#[derive(Clone, Copy, Debug)]
struct Backoff {
    /// Not dialled before this.
    next: Instant,
    /// The wait after the next dial.
    delay: Duration,
    /// Cut off: never dialled until resumed.
    paused: bool,
}

/// Every partner's backoff.
#[derive(Debug)]
pub(crate) struct Redials {
    min: Duration,
    max: Duration,
    agencies: BTreeMap<AgencyId, Backoff>,
}

impl Redials {
    /// Backoffs starting at `min` and doubling up to `max`.
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            agencies: BTreeMap::new(),
        }
    }

    fn fresh(&self, now: Instant, paused: bool) -> Backoff {
        Backoff {
            next: now,
            delay: self.min,
            paused,
        }
    }

    /// Dial `agency` now and start its backoff afresh (a new address, a connection made, a
    /// redial asked for).
    pub(crate) fn resume(&mut self, agency: &AgencyId, now: Instant) {
        let b = self.fresh(now, false);
        self.agencies.insert(agency.clone(), b);
    }

    /// Cut `agency` off: it is not dialled, and a connection it makes is closed, until it is
    /// resumed.
    pub(crate) fn pause(&mut self, agency: &AgencyId, now: Instant) {
        let b = self.fresh(now, true);
        self.agencies.insert(agency.clone(), b);
    }

    /// Whether `agency` is cut off.
    pub(crate) fn is_paused(&self, agency: &AgencyId) -> bool {
        self.agencies.get(agency).is_some_and(|b| b.paused)
    }

    /// Whether `agency` is due a dial at `now` (one never seen is).
    pub(crate) fn due(&mut self, agency: &AgencyId, now: Instant) -> bool {
        let fresh = self.fresh(now, false);
        let b = self.agencies.entry(agency.clone()).or_insert(fresh);
        !b.paused && now >= b.next
    }

    /// `agency` was dialled at `now`: its next dial waits its delay, and the delay doubles up
    /// to the ceiling.
    pub(crate) fn dialled(&mut self, agency: &AgencyId, now: Instant) {
        let max = self.max;
        let fresh = self.fresh(now, false);
        let b = self.agencies.entry(agency.clone()).or_insert(fresh);
        *b = Backoff {
            next: now + b.delay,
            delay: (b.delay * 2).min(max),
            paused: false,
        };
    }

    /// Brings `agency`'s next dial forward to `now` if it is waiting (not cut off, not yet
    /// due); whether it did.
    pub(crate) fn nudge(&mut self, agency: &AgencyId, now: Instant) -> bool {
        match self.agencies.get_mut(agency) {
            Some(b) if !b.paused && b.next > now => {
                b.next = now;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn dials_back_off_doubling_to_the_ceiling_and_start_afresh_when_resumed() {
        let t0 = Instant::now();
        let pk = AgencyId::new("PK-FIA").unwrap();
        let mut r = Redials::new(ms(100), ms(700));
        // due at once, then after 100, 200, 400, 700, 700 ms
        let mut t = t0;
        for wait in [0, 100, 200, 400, 700, 700] {
            t += ms(wait);
            if wait > 0 {
                assert!(!r.due(&pk, t - ms(1)), "due {wait} ms early");
            }
            assert!(r.due(&pk, t), "not due after {wait} ms");
            r.dialled(&pk, t);
        }
        // a connection starts the backoff afresh
        r.resume(&pk, t);
        assert!(r.due(&pk, t));
        r.dialled(&pk, t);
        assert!(r.due(&pk, t + ms(100)));
    }

    #[test]
    fn a_cut_off_agency_is_never_due_nor_nudged_until_resumed() {
        let t0 = Instant::now();
        let gr = AgencyId::new("GR-HCG").unwrap();
        let mut r = Redials::new(ms(100), ms(1000));
        r.pause(&gr, t0);
        assert!(r.is_paused(&gr));
        assert!(!r.due(&gr, t0 + Duration::from_secs(3600)));
        assert!(!r.nudge(&gr, t0));
        r.resume(&gr, t0 + ms(5));
        assert!(!r.is_paused(&gr));
        assert!(r.due(&gr, t0 + ms(5)));
    }

    #[test]
    fn a_nudge_brings_a_waiting_dial_forward_only() {
        let t0 = Instant::now();
        let tr = AgencyId::new("TR-JGK").unwrap();
        let mut r = Redials::new(ms(100), ms(1000));
        // unknown, or due already: nothing to bring forward
        assert!(!r.nudge(&tr, t0));
        assert!(r.due(&tr, t0));
        assert!(!r.nudge(&tr, t0));
        r.dialled(&tr, t0);
        assert!(!r.due(&tr, t0 + ms(50)));
        assert!(r.nudge(&tr, t0 + ms(50)));
        assert!(r.due(&tr, t0 + ms(50)));
    }
}
