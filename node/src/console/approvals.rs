//! Two-person release (docs/workflows.md §4): the drafts held for releasers' approval. A
//! person who may publish sees their own drafts and what became of them (waiting, declined with
//! the releaser's reason, released as a record); an account enrolled as a releaser sees every
//! draft waiting and approves or declines it, never their own. The node signs an approval with
//! the releaser's enrolled key only on that releaser's own click.

use super::*;
use crate::release::{self, Held, HeldState};

/// The decline form.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// One held draft, as shown.
struct HeldRow {
    id: String,
    state: &'static str,
    agreement: String,
    kind: String,
    title: String,
    author: String,
    asked: String,
    progress: String,
    /// The decision, for a declined or released draft.
    outcome: Option<String>,
    /// Whether this account may approve or decline it now.
    decide: bool,
}

#[derive(Template)]
#[template(path = "console/approvals.html")]
struct ApprovalsPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    releaser: Option<String>,
    rows: Vec<HeldRow>,
    done: Option<String>,
    error: Option<String>,
}

fn row(h: &Held, who: &Who, releaser: bool) -> HeldRow {
    let own = h.author.as_deref() == Some(who.name.as_str());
    HeldRow {
        id: h.id.clone(),
        state: match h.state {
            HeldState::Waiting => "waiting",
            HeldState::Declined => "declined",
            HeldState::Released => "released",
        },
        agreement: h.agreement.to_string(),
        kind: format!("{} {}", h.category, h.handling),
        title: h.title.clone(),
        author: h.author.clone().unwrap_or_else(|| "the operator".into()),
        asked: h.asked.to_string(),
        progress: format!(
            "{} of {} approval(s){}",
            h.approvals.len(),
            h.needed,
            if h.approvals.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    h.approvals
                        .iter()
                        .map(|g| format!("{} at {}", g.releaser, g.at))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        outcome: match (&h.declined, &h.record) {
            (Some(d), _) => Some(format!("declined by {} at {}: {}", d.by, d.at, d.reason)),
            (None, Some(r)) => Some(format!("released as record {r}")),
            _ => None,
        },
        decide: releaser
            && !own
            && h.state == HeldState::Waiting
            && !h.approvals.iter().any(|g| g.releaser == who.name),
    }
}

/// The page for `who`: their own drafts, and, for a releaser, every draft waiting.
async fn page(c: &Console, who: &Who) -> Result<ApprovalsPage, String> {
    let (h, name) = (c.handle.clone(), who.name.clone());
    let (held, enrolled) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::ops::OpError>((
            release::list(h.store())?,
            release::releaser(h.store(), &name).ok().flatten(),
        ))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let releaser = enrolled.is_some();
    let rows = held
        .iter()
        .rev()
        .filter(|h| {
            h.author.as_deref() == Some(who.name.as_str())
                || (releaser && h.state == HeldState::Waiting)
        })
        .map(|h| row(h, who, releaser))
        .collect();
    Ok(ApprovalsPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "approvals",
        csrf: who.csrf.clone(),
        releaser: enrolled.map(|e| e.holder),
        rows,
        done: None,
        error: None,
    })
}

fn forbidden(c: &Console, who: &Who) -> Response {
    error_page(
        c,
        who,
        StatusCode::FORBIDDEN,
        format!(
            "a {} account neither asks for nor decides the release of records",
            who.role
        ),
    )
}

/// `GET /approvals`: the queue.
pub(super) async fn approvals(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
) -> Response {
    if !who.role.may_publish() {
        return forbidden(&c, &who);
    }
    match page(&c, &who).await {
        Ok(p) => render(&p),
        Err(e) => error_page(&c, &who, StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// `POST /approvals/{id}/approve` and `/decline`: the releaser's decision.
pub(super) async fn decide(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<DecideForm>,
) -> Response {
    if !who.role.may_publish() {
        return forbidden(&c, &who);
    }
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    let decline = match action.as_str() {
        "approve" => None,
        "decline" => Some(form.reason.clone()),
        _ => return error_page(&c, &who, StatusCode::NOT_FOUND, "no such page".into()),
    };
    let declining = decline.is_some();
    // the session is the releaser's: who they are is established
    let outcome = c
        .handle
        .decide_release(id, who.name.clone(), decline, clock::now())
        .await
        .map(|done| match (declining, done.released) {
            (true, _) => format!("Declined: draft {} never leaves the node.", done.held.id),
            (false, Some(r)) => format!(
                "Approved: released as record {r} to the members of {}.",
                done.held.agreement
            ),
            (false, None) => format!(
                "Approved: {} of {} approval(s) given; the draft waits for another releaser.",
                done.held.approvals.len(),
                done.held.needed
            ),
        })
        .map_err(|e| e.to_string());
    if let Ok(text) = &outcome {
        tracing::info!(account = %who.name, "{text}");
    }
    let mut p = match page(&c, &who).await {
        Ok(p) => p,
        Err(e) => return error_page(&c, &who, StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    match outcome {
        Ok(text) => {
            p.done = Some(text);
            render(&p)
        }
        Err(e) => {
            p.error = Some(e);
            let mut res = render(&p);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
    }
}
