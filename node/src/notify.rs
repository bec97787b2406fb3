//! Notices to the agency's own systems (`[notify]` in node.toml, docs/operations.md): a request
//! for information addressed to the agency, an answer to one of its requests, a change of a
//! victim's return case, an alarm. Each notice is a small JSON object run through a command
//! (on its standard input) or POSTed to a URL, so a focal point hears of a request without
//! polling. A notice never carries a victim's identifying data: a return notice names the case
//! and its state, not its text or subjects.
//!
//! One task, owned by the running node and stopped with it, reads the node's events and
//! delivers notices one after another, each with a deadline; a notice that cannot be
//! delivered is logged at WARN and dropped (the record itself is in the store, and the
//! `accord requests` / `returns` lists show it).

use std::time::Duration;

use accord_config::NotifyConfig;
use accord_protocol::{AgencyId, AgreementId, Category, RecordId, Timestamp};
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::net::{NodeEvent, NodeHandle};

/// How long one delivery (the command's run, or the POST) may take.
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// One notice, as the command reads it on stdin and the URL receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "notice", rename_all = "kebab-case")]
pub(crate) enum Notice {
    /// A request for information addressed to this agency arrived.
    Request {
        /// The receiving agency (this node's).
        agency: AgencyId,
        /// The request's record id.
        id: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// The agency asking.
        from: AgencyId,
        /// The question, as its originator wrote it (partner text: display it as text).
        summary: String,
        /// When it was created.
        created: Timestamp,
    },
    /// An answer to one of this agency's requests arrived.
    Answer {
        /// This node's agency.
        agency: AgencyId,
        /// The answer's record id.
        id: RecordId,
        /// The request it answers.
        request: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// The answering agency.
        from: AgencyId,
        /// The answer, as written (partner text).
        summary: String,
        /// When it was created.
        created: Timestamp,
    },
    /// A victim's return case changed state (never its text or the victim's data).
    Return {
        /// This node's agency.
        agency: AgencyId,
        /// The record of the change.
        id: RecordId,
        /// The case (the record that opened it).
        case: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// The agency that recorded the change.
        from: AgencyId,
        /// The case's new state, e.g. `documents-issued`.
        status: Option<String>,
        /// When it was created.
        created: Timestamp,
    },
    /// A step of two-person release (docs/workflows.md §4): a draft held for releasers, an
    /// approval, a refusal, a release. Never the draft's text or the releaser's reason: the
    /// author reads those in the console or `accord approvals --all`.
    Release {
        /// This node's agency.
        agency: AgencyId,
        /// The held draft's id.
        held: String,
        /// Its agreement.
        agreement: AgreementId,
        /// `held`, `approved`, `declined` or `released`.
        step: String,
        /// The account that asked for it, if a person did through the console.
        author: Option<String>,
        /// The releaser who decided.
        by: Option<String>,
        /// The record published (released).
        record: Option<RecordId>,
    },
    /// An alarm was raised (docs/api.md lists the kinds).
    Alarm {
        /// This node's agency.
        agency: AgencyId,
        /// Its kind, e.g. `equivocation`.
        kind: String,
        /// `error` or `warning`.
        severity: String,
        /// Whom or what it is about.
        subject: String,
        /// What was seen.
        message: String,
        /// When.
        since: Timestamp,
    },
}

impl Notice {
    /// The kind, as `[notify] events` names it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Notice::Request { .. } => "request",
            Notice::Answer { .. } => "answer",
            Notice::Return { .. } => "return",
            Notice::Alarm { .. } => "alarm",
            Notice::Release { .. } => "release",
        }
    }
}

/// The notice an event is, if any.
pub(crate) fn notice_of(handle: &NodeHandle, event: &NodeEvent) -> Option<Notice> {
    let agency = handle.config().agency.clone();
    match event {
        NodeEvent::Alarm(a) => Some(Notice::Alarm {
            agency,
            kind: a.kind.as_str().to_owned(),
            severity: format!("{:?}", a.severity).to_lowercase(),
            subject: a.subject.clone(),
            message: a.message.clone(),
            since: a.since,
        }),
        NodeEvent::Release {
            held,
            agreement,
            step,
            author,
            by,
            record,
        } => Some(Notice::Release {
            agency,
            held: held.clone(),
            agreement: agreement.clone(),
            step: step.clone(),
            author: author.clone(),
            by: by.clone(),
            record: *record,
        }),
        NodeEvent::Stored { id, .. } => {
            let held = handle.store().records().get(id).ok().flatten()?;
            let r = held.record;
            match r.category {
                Category::RequestForInformation
                    if r.addressed_to.as_ref() == Some(&agency) && r.originator != agency =>
                {
                    Some(Notice::Request {
                        agency,
                        id: *id,
                        agreement: r.agreement,
                        from: r.originator,
                        summary: r.summary,
                        created: r.created,
                    })
                }
                Category::Response if r.originator != agency => {
                    let request = r.responds_to?;
                    let asked = handle.store().records().get(&request).ok().flatten()?;
                    (asked.record.originator == agency
                        && asked.record.category == Category::RequestForInformation)
                        .then_some(Notice::Answer {
                            agency,
                            id: *id,
                            request,
                            agreement: r.agreement,
                            from: r.originator,
                            summary: r.summary,
                            created: r.created,
                        })
                }
                Category::ReturnCoordination => Some(Notice::Return {
                    agency,
                    id: *id,
                    case: r.responds_to.unwrap_or(*id),
                    agreement: r.agreement,
                    from: r.originator,
                    status: r.return_status.map(|s| s.as_str().to_owned()),
                    created: r.created,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The running notifier; [`Notifier::stop`] ends it.
#[derive(Debug)]
pub(crate) struct Notifier {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Notifier {
    /// Starts delivering the notices `cfg` asks for, from `handle`'s events; none when the
    /// configuration names neither a command nor a URL.
    pub(crate) fn start(handle: NodeHandle, cfg: NotifyConfig) -> Option<Self> {
        if cfg.command.is_none() && cfg.url.is_none() {
            return None;
        }
        let events = handle.subscribe();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(handle, cfg, events, stopped));
        Some(Self { stop, task })
    }

    /// Stops it after the notice being delivered, if any.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn run(
    handle: NodeHandle,
    cfg: NotifyConfig,
    mut events: broadcast::Receiver<NodeEvent>,
    mut stopped: oneshot::Receiver<()>,
) {
    // the alarms raised before this task subscribed (at the node's start) are told first;
    // their events, if any are still queued, are not told twice
    let mut told = std::collections::BTreeSet::new();
    if let Ok(status) = handle.status().await {
        for a in status.alarms {
            told.insert((a.kind, a.subject.clone(), a.since));
            let notice = notice_of(&handle, &NodeEvent::Alarm(a));
            if let Some(notice) = notice.filter(|n| cfg.wants(n.kind())) {
                deliver(&cfg, &notice).await;
            }
        }
    }
    loop {
        let event = tokio::select! {
            biased;
            _ = &mut stopped => return,
            e = events.recv() => e,
        };
        let event = match event {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "the notifier fell behind the node's events; {n} event(s) not looked at (see accord requests / returns / status)"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if let NodeEvent::Alarm(a) = &event
            && told.remove(&(a.kind, a.subject.clone(), a.since))
        {
            continue;
        }
        let Some(notice) = notice_of(&handle, &event) else {
            continue;
        };
        if !cfg.wants(notice.kind()) {
            continue;
        }
        deliver(&cfg, &notice).await;
    }
}

/// Delivers one notice by the command and the URL configured; failures are logged.
async fn deliver(cfg: &NotifyConfig, notice: &Notice) {
    let Ok(json) = serde_json::to_vec(notice) else {
        return;
    };
    if let Some(command) = &cfg.command {
        match tokio::time::timeout(DELIVERY_TIMEOUT, run_command(command, &json)).await {
            Ok(Ok(())) => {
                tracing::debug!(kind = notice.kind(), "notice delivered to the command");
            }
            Ok(Err(e)) => {
                tracing::warn!(kind = notice.kind(), command = %command[0], error = %e, "a notice could not be delivered to the [notify] command");
            }
            Err(_) => {
                tracing::warn!(kind = notice.kind(), command = %command[0], "the [notify] command did not finish within {DELIVERY_TIMEOUT:?}; the notice is dropped");
            }
        }
    }
    if let Some(url) = &cfg.url {
        let (url, body) = (url.clone(), json.clone());
        let posted = tokio::task::spawn_blocking(move || post(&url, &body)).await;
        match posted {
            Ok(Ok(())) => tracing::debug!(kind = notice.kind(), "notice posted"),
            Ok(Err(e)) => {
                tracing::warn!(kind = notice.kind(), error = %e, "a notice could not be posted to the [notify] url");
            }
            Err(e) => tracing::warn!(error = %e, "the notice task failed"),
        }
    }
}

async fn run_command(command: &[String], json: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(json).await?;
        stdin.write_all(b"\n").await?;
    }
    let status = child.wait().await?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("it exited with {status}")))
    }
}

fn post(url: &str, body: &[u8]) -> Result<(), String> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_redirects(0)
        .timeout_global(Some(DELIVERY_TIMEOUT))
        .build()
        .new_agent();
    let res = agent
        .post(url)
        .content_type("application/json")
        .send(body)
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("the system answered {status}"))
    }
}
