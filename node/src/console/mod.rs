//! The web console that `accord run` serves beside the JSON API (docs/console.md): pages
//! rendered on the server by askama templates (compiled in, escaping everything they insert),
//! one stylesheet embedded in the binary, no script. Every page needs a session of a person's
//! account ([`accounts`]); every state-changing form carries the session's CSRF token and must
//! come from the console's own origin.

pub mod accounts;
mod agreements;
mod approvals;
mod audit;
mod auth;
mod home;
mod matching;
mod publish;
mod records;
mod requests;
mod returns;
mod routes;
pub mod session;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, HOST, LOCATION, ORIGIN,
    REFERRER_POLICY, SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::api::view::{Filters, RecordView, resolve};
use crate::clock;
use crate::net::NodeHandle;
use crate::page::PageRequest;
use accounts::Role;
use session::{COOKIE as SESSION_COOKIE, Held, Limiter, Sessions, csrf_ok};

/// The stylesheet, compiled in.
const CSS: &str = include_str!("../../assets/console.css");

/// The policy every console response carries: nothing but this origin's stylesheet and
/// images, no script at all, no framing, forms only to this origin.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// Records per page of the list.
const PAGE: usize = 50;

/// What the console's handlers share.
#[derive(Debug)]
pub struct Console {
    handle: NodeHandle,
    agency: String,
    sessions: Sessions,
    limiter: Limiter,
    /// Whether the console is served over TLS (the cookie is then `Secure`).
    tls: bool,
}

type St = State<Arc<Console>>;

/// The console's routes, to merge with the API's.
pub fn router(handle: NodeHandle, agency: String, tls: bool) -> Router {
    let console = Arc::new(Console {
        handle,
        agency,
        sessions: Sessions::default(),
        limiter: Limiter::default(),
        tls,
    });
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/records", get(records::records))
        .route("/records/{id}", get(records::record))
        .route(
            "/publish",
            get(publish::publish_page).post(publish::publish),
        )
        .route("/requests", get(requests::requests).post(requests::ask))
        .route("/match", get(matching::match_page).post(matching::look_up))
        .route("/approvals", get(approvals::approvals))
        .route(
            "/approvals/{id}/{action}",
            axum::routing::post(approvals::decide),
        )
        .route(
            "/requests/{id}",
            get(requests::request).post(requests::answer),
        )
        .route("/returns", get(returns::returns))
        .route("/returns/{id}", get(returns::case).post(returns::update))
        .route("/routes", get(routes::routes))
        .route("/routes.svg", get(routes::routes_svg_image))
        .route("/routes.csv", get(routes::routes_csv))
        .route("/agreements", get(agreements::agreements))
        .route(
            "/agreements/{id}/sign",
            axum::routing::post(agreements::sign),
        )
        .route(
            "/agreements/certificates",
            axum::routing::post(agreements::issue),
        )
        .route(
            "/agreements/certificates/{id}/revoke",
            axum::routing::post(agreements::revoke),
        )
        .route("/audit", get(audit::audit))
        .route("/audit/export.tar", get(audit::export))
        .route(
            "/records/{id}/withdraw",
            axum::routing::post(records::withdraw),
        )
        .route(
            "/records/{id}/correct",
            axum::routing::post(records::correct),
        )
        .route("/logout", axum::routing::post(auth::logout))
        .layer(middleware::from_fn_with_state(
            console.clone(),
            require_session,
        ));
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/assets/console.css", get(css))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(pages)
        .layer(middleware::from_fn(headers))
        .with_state(console)
}

/// The logged-in person of a request.
#[derive(Clone, Debug)]
struct Who {
    name: String,
    role: Role,
    csrf: String,
    session: String,
}

/// The security headers of every console response.
async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with the
    // console's own forms, and the origin check refuses them
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Whether a request's `Origin`, when it has one, is this console's own (`Host`).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), headers.get(HOST).map(|h| h.to_str()))
    else {
        return false;
    };
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// Every page: a live session whose account exists and is enabled (read from the store at each
/// request, so disabling an account ends its sessions at once); a POST also from this origin.
async fn require_session(State(c): St, mut req: Request, next: Next) -> Response {
    let Some(id) = session_id(req.headers()) else {
        return to_login(req.method());
    };
    let Some(s) = c.sessions.get(&id) else {
        return to_login(req.method());
    };
    let store = c.handle.store().clone();
    let name = s.account.clone();
    let account = tokio::task::spawn_blocking(move || accounts::get(&store, &name))
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    let Some(account) = account.filter(|a| !a.disabled) else {
        c.sessions.end_all(&s.account);
        return to_login(req.method());
    };
    if req.method() != Method::GET && !same_origin(req.headers()) {
        return refuse_forbidden("a request from another site was refused");
    }
    req.extensions_mut().insert(Who {
        name: account.name,
        role: account.role,
        csrf: s.csrf,
        session: id,
    });
    next.run(req).await
}

fn to_login(method: &Method) -> Response {
    if method == Method::GET {
        (StatusCode::SEE_OTHER, [(LOCATION, "/login")]).into_response()
    } else {
        refuse_forbidden("no session: log in again")
    }
}

fn refuse_forbidden(message: &str) -> Response {
    (StatusCode::FORBIDDEN, message.to_owned()).into_response()
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

async fn css() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// The logged-in person as templates show them.
struct WhoView {
    name: String,
    role: Role,
    csrf: String,
}

impl From<&Who> for WhoView {
    fn from(w: &Who) -> Self {
        Self {
            name: w.name.clone(),
            role: w.role,
            csrf: w.csrf.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    title: String,
    message: String,
}

fn error_page(c: &Console, who: &Who, status: StatusCode, message: String) -> Response {
    let mut res = render(&ErrorPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "",
        title: status
            .canonical_reason()
            .unwrap_or("Something went wrong")
            .to_owned(),
        message,
    });
    *res.status_mut() = status;
    res
}

fn text_of(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// `k=v&…`, each value percent-encoded (everything but ASCII letters and digits).
fn query_string(pairs: &[(&str, &str)]) -> String {
    let encode = |v: &str| -> String {
        v.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What a handling code lets the reader do, in plain words (the codes' own definitions).
fn handling_words(code: &str) -> String {
    let words = match code {
        "H0" => "use only to prevent and combat crime",
        "H1" => "not for judicial proceedings without the originator's permission",
        "H2" => "no onward dissemination without the originator's permission",
        "H3" => "other restrictions, stated in the record",
        _ => return code.to_owned(),
    };
    format!("{code}: {words}")
}

/// What a grading says, in plain words (the 4x4 system: the source's reliability, then the
/// information's assessment).
fn grading_words(code: &str) -> String {
    let mut chars = code.chars();
    let (Some(s), Some(i), None) = (chars.next(), chars.next(), chars.next()) else {
        return code.to_owned();
    };
    let source = match s {
        'A' => "source reliable",
        'B' => "source mostly reliable",
        'C' => "source not reliable",
        'X' => "source reliability cannot be assessed",
        _ => return code.to_owned(),
    };
    let info = match i {
        '1' => "known to be true without reservation",
        '2' => "known personally to the source, not to the officer passing it on",
        '3' => "not known personally to the source, corroborated by other information",
        '4' => "cannot be judged",
        _ => return code.to_owned(),
    };
    format!("{code}: {source}; information {info}")
}

/// The records of `categories` the node holds, with the references between them (a workflow's
/// view), read on the blocking pool through the category index.
async fn holdings(
    c: &Console,
    categories: &'static [accord_protocol::Category],
) -> Result<crate::workflow::Holdings, String> {
    let store = c.handle.store().clone();
    tokio::task::spawn_blocking(move || {
        crate::workflow::Holdings::of_categories(&store, categories).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()))
}

/// The record `text` (an id or unique prefix) names, with the holdings of `categories`.
async fn holdings_and(
    c: &Console,
    text: String,
    categories: &'static [accord_protocol::Category],
) -> Result<(crate::workflow::Holdings, accord_protocol::RecordId), (StatusCode, String)> {
    let store = c.handle.store().clone();
    tokio::task::spawn_blocking(move || {
        let id = resolve(&store, &text).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
        let holdings = crate::workflow::Holdings::of_categories(&store, categories)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        Ok((holdings, id))
    })
    .await
    .unwrap_or_else(|e| Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())))
}

/// Publishes `draft` under the person's account (its `publish` entry names them): the one path
/// of every change made through the console, `NodeHandle::publish_by`. Logs `what` with the
/// new record's id.
async fn publish_as(
    c: &Console,
    who: &Who,
    draft: crate::draft::Draft,
    what: &str,
) -> Result<accord_protocol::RecordId, String> {
    let id = match c
        .handle
        .publish_by(draft.clone(), clock::now(), Some(who.name.clone()))
        .await
    {
        Ok(id) => id,
        // the agreement's [release] clause covers it: held for releasers' approval, in the
        // author's name, so no one approves their own
        Err(crate::publish::PublishError::NeedsRelease { .. }) => {
            let held = c
                .handle
                .hold(draft, clock::now(), Some(who.name.clone()))
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(account = %who.name, held = %held.id, "draft held for release through the console");
            return Err(format!(
                "Not sent yet: held for release as {}. Agreement {} requires {} releaser \
                 approval(s) before this record leaves; the releasers see it in their queue.",
                held.id, held.agreement, held.needed
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    tracing::info!(account = %who.name, %id, "{what} through the console");
    Ok(id)
}

/// The redirect to `path` after a form that changed something.
fn see_other(path: String) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, path)]).into_response()
}
