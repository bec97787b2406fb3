//! Catch-up progress: per agreement, how many records a catch-up expects and has fetched, so
//! the log says once when it starts and ends and, in between, every [`PROGRESS_EVERY`],
//! how far it is with its rate and the time left; the status and the metrics read the same.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use accord_protocol::{AgencyId, AgreementId};
use serde::{Deserialize, Serialize};

/// How often a running catch-up logs a progress line.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// One agreement's catch-up.
#[derive(Clone, Debug)]
struct Running {
    peer: AgencyId,
    started: Instant,
    expected: u64,
    fetched: u64,
    next_line: Instant,
}

/// A catch-up as the status shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatchUpView {
    /// The member it pulls from.
    pub peer: AgencyId,
    /// Records fetched so far.
    pub fetched: u64,
    /// Records it expects in all (grows when members announce more meanwhile).
    pub expected: u64,
    /// Records a second since it began.
    pub rate: f64,
    /// Seconds left at that rate, when known.
    pub seconds_left: Option<u64>,
}

/// The catch-ups running, by agreement.
#[derive(Debug, Default)]
pub(crate) struct CatchUps {
    running: BTreeMap<AgreementId, Running>,
    /// Records fetched by catch-ups since the node started, by agreement (for the metrics).
    pub fetched_total: BTreeMap<AgreementId, u64>,
}

impl CatchUps {
    /// A member's status shows `behind` records under `agreement` that this node lacks: a
    /// catch-up begins (logged once) or its expected count grows.
    pub(crate) fn begin(
        &mut self,
        agreement: &AgreementId,
        peer: &AgencyId,
        behind: u64,
        now: Instant,
    ) {
        if let Some(r) = self.running.get_mut(agreement) {
            r.expected = r.expected.max(r.fetched + behind);
            return;
        }
        tracing::info!(%agreement, %peer, behind, "catch-up started: {behind} record(s) to fetch under {agreement} from {peer}");
        self.running.insert(
            agreement.clone(),
            Running {
                peer: peer.clone(),
                started: now,
                expected: behind,
                fetched: 0,
                next_line: now + PROGRESS_EVERY,
            },
        );
    }

    /// A range answer under `agreement` brought `n` records; logs a progress line when one is
    /// due.
    pub(crate) fn fetched(&mut self, agreement: &AgreementId, n: u64, now: Instant) {
        *self.fetched_total.entry(agreement.clone()).or_default() += n;
        let Some(r) = self.running.get_mut(agreement) else {
            return;
        };
        r.fetched += n;
        r.expected = r.expected.max(r.fetched);
        if now >= r.next_line {
            r.next_line = now + PROGRESS_EVERY;
            let v = view(r, now);
            let left = v
                .seconds_left
                .map_or_else(String::new, |s| format!(", about {s} s left"));
            tracing::info!(
                %agreement,
                peer = %r.peer,
                fetched = r.fetched,
                expected = r.expected,
                "catch-up under {agreement}: {} of {} record(s), {:.0}/s{left}",
                r.fetched,
                r.expected,
                v.rate
            );
        }
    }

    /// The catch-up under `agreement` found nothing more to fetch: logged once with what it
    /// did.
    pub(crate) fn end(&mut self, agreement: &AgreementId, now: Instant) {
        let Some(r) = self.running.remove(agreement) else {
            return;
        };
        let secs = now.duration_since(r.started).as_secs_f64();
        tracing::info!(
            %agreement,
            peer = %r.peer,
            fetched = r.fetched,
            "catch-up done under {agreement}: {} record(s) in {secs:.1} s",
            r.fetched
        );
    }

    /// The catch-ups running now.
    pub(crate) fn views(&self, now: Instant) -> BTreeMap<AgreementId, CatchUpView> {
        self.running
            .iter()
            .map(|(a, r)| (a.clone(), view(r, now)))
            .collect()
    }
}

fn view(r: &Running, now: Instant) -> CatchUpView {
    let secs = now.duration_since(r.started).as_secs_f64();
    let rate = if secs > 0.0 {
        r.fetched as f64 / secs
    } else {
        0.0
    };
    let left = r.expected.saturating_sub(r.fetched);
    let seconds_left = (rate > 0.0).then(|| (left as f64 / rate).ceil() as u64);
    CatchUpView {
        peer: r.peer.clone(),
        fetched: r.fetched,
        expected: r.expected,
        rate,
        seconds_left,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catch_up_counts_what_it_fetched_and_what_is_left() {
        let mut c = CatchUps::default();
        let a = AgreementId::new("QUAD-2026").unwrap();
        let peer = AgencyId::new("GR-HCG").unwrap();
        let t0 = Instant::now();
        c.begin(&a, &peer, 1000, t0);
        c.begin(&a, &peer, 400, t0); // a later status: no new catch-up, nothing lost
        c.fetched(&a, 250, t0 + Duration::from_secs(1));
        let v = &c.views(t0 + Duration::from_secs(1))[&a];
        assert_eq!((v.fetched, v.expected), (250, 1000));
        assert_eq!(v.seconds_left, Some(3));
        c.end(&a, t0 + Duration::from_secs(4));
        assert!(c.views(t0).is_empty());
        assert_eq!(c.fetched_total[&a], 250);
    }
}
