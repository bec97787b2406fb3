//! Repeated trouble logged without flooding the log: connections refused (an unknown key, too
//! many attempts, a limit), requests cut off mid-way or timed out. Each kind of trouble from
//! one source is logged at WARN when first seen and then at most once a
//! [`TALLY_INTERVAL`], with how many times it happened meanwhile; totals by kind go to the
//! status and the metrics.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often one source's trouble of one kind is logged at most.
pub(super) const TALLY_INTERVAL: Duration = Duration::from_secs(60);

/// Sources followed at once; beyond, the quietest are forgotten (their totals stay).
const MAX_SOURCES: usize = 1024;

#[derive(Debug)]
struct Line {
    what: String,
    pending: u64,
    next: Instant,
}

/// The trouble seen, by kind and source.
#[derive(Debug, Default)]
pub(super) struct Tally {
    lines: BTreeMap<(&'static str, String), Line>,
    /// Everything seen since the node started, by kind.
    pub totals: BTreeMap<&'static str, u64>,
}

impl Tally {
    /// Counts one `kind` of trouble from `source`; `what` says it in words (with the source).
    pub(super) fn note(&mut self, kind: &'static str, source: String, what: String, now: Instant) {
        *self.totals.entry(kind).or_default() += 1;
        if self.lines.len() >= MAX_SOURCES && !self.lines.contains_key(&(kind, source.clone())) {
            self.forget(now);
        }
        let line = self.lines.entry((kind, source)).or_insert(Line {
            what,
            pending: 0,
            next: now,
        });
        line.pending += 1;
        if now >= line.next {
            log(kind, line);
            line.pending = 0;
            line.next = now + TALLY_INTERVAL;
        }
    }

    /// Logs what was counted since a source's last line, once its interval has passed, and
    /// forgets sources quiet for a whole interval.
    pub(super) fn flush(&mut self, now: Instant) {
        for ((kind, _), line) in &mut self.lines {
            if line.pending > 0 && now >= line.next {
                log(kind, line);
                line.pending = 0;
                line.next = now + TALLY_INTERVAL;
            }
        }
        self.lines
            .retain(|_, l| l.pending > 0 || now < l.next + TALLY_INTERVAL);
    }

    fn forget(&mut self, now: Instant) {
        self.flush(now);
        while self.lines.len() >= MAX_SOURCES {
            let Some(oldest) = self
                .lines
                .iter()
                .min_by_key(|(_, l)| l.next)
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            self.lines.remove(&oldest);
        }
    }
}

fn log(kind: &str, line: &Line) {
    if line.pending == 1 {
        tracing::warn!(kind, "{}", line.what);
    } else {
        tracing::warn!(
            kind,
            count = line.pending,
            "{} ({} times in the last {} s)",
            line.what,
            line.pending,
            TALLY_INTERVAL.as_secs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_counted_every_time_and_logged_once_an_interval() {
        let mut t = Tally::default();
        let t0 = Instant::now();
        for i in 0..100 {
            t.note(
                "unknown-key",
                "127.0.0.1".into(),
                "a connection from an unknown key was refused".into(),
                t0 + Duration::from_millis(i),
            );
        }
        assert_eq!(t.totals["unknown-key"], 100);
        let line = &t.lines[&("unknown-key", "127.0.0.1".to_owned())];
        assert_eq!(line.pending, 99, "the first was logged, the rest wait");
        t.flush(t0 + TALLY_INTERVAL + Duration::from_secs(1));
        assert_eq!(t.lines[&("unknown-key", "127.0.0.1".to_owned())].pending, 0);
        t.flush(t0 + TALLY_INTERVAL * 4);
        assert!(t.lines.is_empty(), "a quiet source is forgotten");
        assert_eq!(t.totals["unknown-key"], 100, "its total stays");
    }
}
