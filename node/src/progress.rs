//! Progress of long work in the CLI — verifying a bundle or an audit export, exporting,
//! purging: a bar (indicatif) on a terminal; elsewhere (a service, a pipe, a test) plain lines
//! on stderr every [`LINE_EVERY`] once the work has run that long, so short work stays quiet
//! and a log collector still sees long work move.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is written when stderr is not a terminal.
pub(crate) const LINE_EVERY: Duration = Duration::from_secs(2);

/// Where plain progress lines go.
type Sink = Box<dyn FnMut(&str) + Send>;

/// The progress of one piece of work.
pub(crate) struct Progress {
    what: String,
    unit: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    next_line: Instant,
    lines: bool,
    every: Duration,
    sink: Sink,
    bar: Option<ProgressBar>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("what", &self.what)
            .field("done", &self.done)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// Progress of `what` over `total` `unit`s (e.g. "verify", 10 000, "records").
    pub(crate) fn new(what: &str, unit: &'static str, total: u64) -> Self {
        let now = Instant::now();
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(&format!(
                "{what}: {{bar:30}} {{pos}}/{{len}} {unit}, {{per_sec}}, {{eta}} left"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Self {
            what: what.to_owned(),
            unit,
            total,
            done: 0,
            started: now,
            next_line: now + LINE_EVERY,
            lines: false,
            every: LINE_EVERY,
            sink: Box::new(|line| eprintln!("{line}")),
            bar,
        }
    }

    /// Plain lines (never a bar) to `sink`, at most every `every` (the tests' progress).
    #[cfg(test)]
    pub(crate) fn lines_to(
        what: &str,
        unit: &'static str,
        total: u64,
        every: Duration,
        sink: impl FnMut(&str) + Send + 'static,
    ) -> Self {
        let mut p = Self::new(what, unit, total);
        p.bar = None;
        p.every = every;
        p.next_line = p.started + every;
        p.sink = Box::new(sink);
        p
    }

    /// `done` units of the total are done.
    pub(crate) fn set(&mut self, done: u64, total: u64) {
        self.done = done;
        self.total = total.max(done);
        if let Some(bar) = &self.bar {
            bar.set_length(self.total);
            bar.set_position(done);
            return;
        }
        let now = Instant::now();
        if now >= self.next_line {
            self.next_line = now + self.every;
            self.lines = true;
            let line = format!("{}: {}", self.what, self.line(now));
            (self.sink)(&line);
        }
    }

    /// The work is over: the bar is cleared; after plain lines, a last one says it is done.
    pub(crate) fn finish(mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        } else if self.lines {
            let line = format!("{}: done, {}", self.what, self.line(Instant::now()));
            (self.sink)(&line);
        }
    }

    fn line(&self, now: Instant) -> String {
        let secs = now.duration_since(self.started).as_secs_f64().max(0.001);
        let rate = self.done as f64 / secs;
        let left = if rate > 0.0 {
            format!(
                ", about {:.0} s left",
                self.total.saturating_sub(self.done) as f64 / rate
            )
        } else {
            String::new()
        };
        let pct = (100 * self.done).checked_div(self.total).unwrap_or(100);
        format!(
            "{}/{} {} ({pct}%), {rate:.0}/s{left}",
            self.done, self.total, self.unit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn plain_lines_come_only_once_work_has_run_a_while() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let mut quiet = Progress::lines_to(
            "verify",
            "records",
            10,
            Duration::from_secs(3600),
            move |l| sink.lock().unwrap().push(l.to_owned()),
        );
        for i in 1..=10 {
            quiet.set(i, 10);
        }
        quiet.finish();
        assert!(lines.lock().unwrap().is_empty(), "short work stays quiet");

        let sink = lines.clone();
        let mut p = Progress::lines_to("verify", "records", 10, Duration::ZERO, move |l| {
            sink.lock().unwrap().push(l.to_owned())
        });
        p.set(5, 10);
        p.set(10, 10);
        p.finish();
        let got = lines.lock().unwrap().clone();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("verify: 5/10 records (50%)"), "{got:?}");
        assert!(
            got[2].starts_with("verify: done, 10/10 records (100%)"),
            "{got:?}"
        );
    }
}
