//! The web console that `accord run` serves beside the JSON API (docs/console.md): pages
//! rendered on the server by askama templates (compiled in, escaping everything they insert),
//! one stylesheet embedded in the binary, no script. Every page needs a session of a person's
//! account ([`accounts`]); every state-changing form carries the session's CSRF token and must
//! come from the console's own origin.

pub mod accounts;
pub mod session;

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
        .route("/", get(home))
        .route("/records", get(records))
        .route("/records/{id}", get(record))
        .route("/publish", get(publish_page).post(publish))
        .route("/logout", axum::routing::post(logout))
        .layer(middleware::from_fn_with_state(
            console.clone(),
            require_session,
        ));
    Router::new()
        .route("/login", get(login_page).post(login))
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
#[template(path = "console/login.html")]
struct LoginPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    error: Option<String>,
    no_accounts: bool,
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

async fn no_accounts(c: &Console) -> bool {
    let store = c.handle.store().clone();
    tokio::task::spawn_blocking(move || store.accounts().map(|a| a.is_empty()).unwrap_or(false))
        .await
        .unwrap_or(false)
}

async fn login_page(State(c): St) -> Response {
    render(&LoginPage {
        agency: c.agency.clone(),
        who: None,
        nav: "",
        error: None,
        no_accounts: no_accounts(&c).await,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    account: String,
    password: String,
}

async fn login(
    State(c): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let failed = |c: &Console, status: StatusCode, message: String| {
        let mut res = render(&LoginPage {
            agency: c.agency.clone(),
            who: None,
            nav: "",
            error: Some(message),
            no_accounts: false,
        });
        *res.status_mut() = status;
        res
    };
    if !same_origin(&headers) {
        return refuse_forbidden("a login from another site was refused");
    }
    match c.limiter.admit(&form.account, peer.ip()) {
        Err(Held::Address) => {
            tracing::warn!(address = %peer.ip(), "console logins from this address are coming too fast");
            return failed(
                &c,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many login attempts from this address; wait a minute.".into(),
            );
        }
        Err(Held::Locked(_)) => {
            return failed(
                &c,
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "The account is locked for {} minutes after repeated wrong passwords.",
                    session::LOCK_FOR.as_secs() / 60
                ),
            );
        }
        Ok(()) => {}
    }
    let store = c.handle.store().clone();
    let (name, password) = (form.account.clone(), accounts::Password::new(form.password));
    let verdict = tokio::task::spawn_blocking(move || {
        // argon2 runs whether or not the account exists, so timing does not tell which
        let account = accounts::get(&store, &name).ok().flatten();
        let phc = account
            .as_ref()
            .map(|a| a.password.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let matches = accounts::password_matches(&phc, &password);
        account.filter(|a| matches && !a.disabled)
    })
    .await
    .ok()
    .flatten();
    match verdict {
        Some(account) => {
            c.limiter.succeeded(&account.name);
            let Ok((id, _)) = c.sessions.start(&account.name) else {
                tracing::error!("no randomness for a console session");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no session could be made",
                )
                    .into_response();
            };
            tracing::info!(account = %account.name, "console login");
            let secure = if c.tls { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                session::SESSION_LIFETIME.as_secs()
            );
            (
                StatusCode::SEE_OTHER,
                [(LOCATION, "/".to_owned()), (SET_COOKIE, cookie)],
            )
                .into_response()
        }
        None => {
            if c.limiter.failed(&form.account) {
                tracing::warn!(account = %form.account, "console account locked after wrong passwords");
                let store = c.handle.store().clone();
                let name = form.account.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if accounts::get(&store, &name).ok().flatten().is_some() {
                        let _ = accounts::log_locked(&store, clock::now(), &name);
                    }
                })
                .await;
            }
            failed(
                &c,
                StatusCode::UNAUTHORIZED,
                "Wrong account or password.".into(),
            )
        }
    }
}

/// A hash checked when the account does not exist (of a random password nobody has), made
/// once, so that a wrong name costs the same argon2 work as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut b = [0u8; 24];
        let _ = getrandom::fill(&mut b);
        accounts::hash_password(&hex::encode(b)).unwrap_or_default()
    })
}

#[derive(Deserialize)]
struct CsrfForm {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    c.sessions.end(&who.session);
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, "/login".to_owned()), (SET_COOKIE, expired)],
    )
        .into_response()
}

struct PartnerRow {
    agency: String,
    connected: bool,
    outbox: usize,
}

struct AgreementRow {
    id: String,
    in_effect: bool,
    why_not: String,
    confirmed: String,
}

struct AlarmRow {
    kind: String,
    severity: String,
    subject: String,
    message: String,
    since: String,
    count: u64,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    records: usize,
    partners: Vec<PartnerRow>,
    agreements: Vec<AgreementRow>,
    alarms: Vec<AlarmRow>,
}

async fn home(State(c): St, axum::Extension(who): axum::Extension<Who>) -> Response {
    let status = match c.handle.status().await {
        Ok(s) => s,
        Err(_) => {
            return error_page(
                &c,
                &who,
                StatusCode::SERVICE_UNAVAILABLE,
                "The node is stopping.".into(),
            );
        }
    };
    let own = status.agency.clone();
    let mut partners: std::collections::BTreeSet<_> = c
        .handle
        .config()
        .agreements
        .values()
        .flat_map(|a| a.members.iter().cloned())
        .filter(|m| Some(m) != own.as_ref())
        .collect();
    partners.extend(status.connected.iter().cloned());
    let partners = partners
        .into_iter()
        .map(|p| PartnerRow {
            connected: status.connected.contains(&p),
            outbox: status.outbox.get(&p).copied().unwrap_or(0),
            agency: p.to_string(),
        })
        .collect();
    let agreements = status
        .agreements
        .iter()
        .map(|(id, a)| AgreementRow {
            id: id.to_string(),
            in_effect: a.in_effect,
            why_not: a.why_not.clone().unwrap_or_default(),
            confirmed: a
                .confirmed_with
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let alarms = status
        .alarms
        .iter()
        .map(|a| AlarmRow {
            kind: a.kind.as_str().to_owned(),
            severity: format!("{:?}", a.severity).to_lowercase(),
            subject: a.subject.clone(),
            message: a.message.clone(),
            since: a.since.to_string(),
            count: a.count,
        })
        .collect();
    render(&HomePage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "home",
        records: status.records,
        partners,
        agreements,
        alarms,
    })
}

/// The filters of the records list as the form gives them (empty fields are no filter).
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    cursor: String,
}

struct RecordRow {
    id: String,
    created: String,
    agreement: String,
    category: String,
    originator: String,
    handling: String,
    summary: String,
    status: String,
}

#[derive(Template)]
#[template(path = "console/records.html")]
struct RecordsPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    filters: ListQuery,
    rows: Vec<RecordRow>,
    next: Option<String>,
    error: Option<String>,
}

fn text_of(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

async fn records(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Query(q): Query<ListQuery>,
) -> Response {
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let filters = Filters {
        agreement: nonempty(&q.agreement),
        subject: nonempty(&q.subject),
        category: nonempty(&q.category),
        country: nonempty(&q.country),
        role: None,
        since: nonempty(&q.since),
    };
    let page = PageRequest {
        limit: PAGE,
        cursor: nonempty(&q.cursor),
    };
    let store = c.handle.store().clone();
    let found = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let query = filters.parse().map_err(|e| e.to_string())?;
        match RecordView::page(&store, &query, &page) {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let (rows, next, error) = match found {
        Ok(p) => {
            let rows = p
                .items
                .iter()
                .map(|v| RecordRow {
                    id: v.id.to_string(),
                    created: text_of(&v.record, "created"),
                    agreement: text_of(&v.record, "agreement"),
                    category: text_of(&v.record, "category"),
                    originator: text_of(&v.record, "originator"),
                    handling: text_of(&v.record, "handling"),
                    summary: text_of(&v.record, "summary"),
                    status: v.status.clone(),
                })
                .collect();
            let next = p.next.map(|cursor| {
                let mut pairs: Vec<(&str, &str)> = vec![
                    ("agreement", q.agreement.as_str()),
                    ("category", q.category.as_str()),
                    ("subject", q.subject.as_str()),
                    ("country", q.country.as_str()),
                    ("since", q.since.as_str()),
                ];
                pairs.retain(|(_, v)| !v.is_empty());
                pairs.push(("cursor", cursor.as_str()));
                format!("/records?{}", query_string(&pairs))
            });
            (rows, next, None)
        }
        Err(e) => (Vec::new(), None, Some(e)),
    };
    let mut res = render(&RecordsPage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "records",
        filters: q,
        rows,
        next,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
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

#[derive(Template)]
#[template(path = "console/record.html")]
struct RecordPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    summary: String,
    fields: Vec<(String, String)>,
    json: String,
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

async fn record(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
) -> Response {
    let store = c.handle.store().clone();
    let account = who.name.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<RecordView, (StatusCode, String)> {
        let id = resolve(&store, &text).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
        let internal =
            |e: &dyn std::fmt::Display| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        match store.get(&id) {
            Ok(Some(rec)) => {
                let view = RecordView::of(&store, &rec).map_err(|e| internal(&e))?;
                // who saw a victim's identifying data is logged before it is shown; no entry,
                // no page
                if view
                    .parsed()
                    .map_err(|e| internal(&e))?
                    .has_victim_identifying_data()
                {
                    store
                        .audit(
                            clock::now(),
                            vec![accord_protocol::audit::AuditEvent::Viewed {
                                record: id,
                                by: account,
                            }],
                        )
                        .map_err(|e| internal(&e))?;
                    store.flush().map_err(|e| internal(&e))?;
                }
                Ok(view)
            }
            Ok(None) => Err((
                StatusCode::NOT_FOUND,
                format!("record {id} is not in this store"),
            )),
            Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        }
    })
    .await
    .unwrap_or_else(|e| Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())));
    let view = match found {
        Ok(v) => v,
        Err((status, message)) => return error_page(&c, &who, status, message),
    };
    let r = &view.record;
    let mut fields = vec![
        ("Record id".to_owned(), view.id.to_string()),
        ("Originator".to_owned(), text_of(r, "originator")),
        ("Agreement".to_owned(), text_of(r, "agreement")),
        ("Category".to_owned(), text_of(r, "category")),
        ("Created".to_owned(), text_of(r, "created")),
        ("Grading".to_owned(), text_of(r, "grading")),
        (
            "Handling".to_owned(),
            handling_words(&text_of(r, "handling")),
        ),
        ("Received".to_owned(), view.received_at.to_string()),
        ("From".to_owned(), view.source.clone()),
        ("Signed by".to_owned(), view.signer.to_string()),
    ];
    if let Some(d) = &view.delegation {
        fields.push((
            "Under certificate".to_owned(),
            serde_json::to_string(d).unwrap_or_default(),
        ));
    }
    if !view.status.is_empty() {
        fields.push(("Status".to_owned(), view.status.clone()));
    }
    if let Some(obj) = r.as_object() {
        for (k, v) in obj {
            if matches!(
                k.as_str(),
                "originator"
                    | "agreement"
                    | "category"
                    | "created"
                    | "grading"
                    | "handling"
                    | "summary"
            ) {
                continue;
            }
            let shown = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fields.push((k.replace('_', " "), shown));
        }
    }
    render(&RecordPage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "records",
        summary: text_of(r, "summary"),
        fields,
        json: serde_json::to_string_pretty(r).unwrap_or_default(),
    })
}

/// The publish form's fields.
#[derive(Clone, Debug, Default, Deserialize)]
struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    handling: String,
    #[serde(default)]
    grading: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    country1: String,
    #[serde(default)]
    role1: String,
    #[serde(default)]
    country2: String,
    #[serde(default)]
    role2: String,
}

/// Who would receive a draft, and who not and why.
struct Preview {
    receivers: Vec<String>,
    withheld: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/publish.html")]
struct PublishPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    form: PublishForm,
    agreements: Vec<String>,
    categories: Vec<&'static str>,
    handlings: Vec<(&'static str, String)>,
    roles: Vec<&'static str>,
    preview: Option<Preview>,
    error: Option<String>,
}

fn publish_view(
    c: &Console,
    who: &Who,
    form: PublishForm,
    preview: Option<Preview>,
    error: Option<String>,
) -> Response {
    let cfg = c.handle.config();
    let mut res = render(&PublishPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "publish",
        csrf: who.csrf.clone(),
        agreements: cfg
            .agreements
            .values()
            .filter(|a| a.members.contains(&cfg.agency))
            .map(|a| a.id.to_string())
            .collect(),
        categories: accord_protocol::Category::ALL
            .iter()
            .map(|c| c.as_str())
            .collect(),
        handlings: accord_protocol::HandlingCode::ALL
            .iter()
            .map(|h| (h.as_str(), handling_words(h.as_str())))
            .collect(),
        roles: ["", "source", "transit", "destination"].to_vec(),
        form,
        preview,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

fn may_publish_here(c: &Console, who: &Who) -> Option<Response> {
    (!who.role.may_publish()).then(|| {
        error_page(
            c,
            who,
            StatusCode::FORBIDDEN,
            format!("a {} account cannot publish records", who.role),
        )
    })
}

async fn publish_page(State(c): St, axum::Extension(who): axum::Extension<Who>) -> Response {
    if let Some(refused) = may_publish_here(&c, &who) {
        return refused;
    }
    let form = PublishForm {
        grading: "B2".into(),
        handling: "H1".into(),
        ..PublishForm::default()
    };
    publish_view(&c, &who, form, None, None)
}

/// The draft a form describes, as the JSON `accord publish` reads.
fn draft_json(f: &PublishForm) -> serde_json::Value {
    let mut route = Vec::new();
    for (country, role) in [(&f.country1, &f.role1), (&f.country2, &f.role2)] {
        if !country.trim().is_empty() || !role.trim().is_empty() {
            route.push(serde_json::json!({"country": country.trim(), "role": role.trim()}));
        }
    }
    let mut d = serde_json::json!({
        "agreement": f.agreement.trim(),
        "category": f.category.trim(),
        "handling": f.handling.trim(),
        "grading": f.grading.trim(),
        "summary": f.summary,
    });
    if !route.is_empty() {
        d["route"] = serde_json::Value::Array(route);
    }
    d
}

async fn publish(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Form(form): Form<PublishForm>,
) -> Response {
    if let Some(refused) = may_publish_here(&c, &who) {
        return refused;
    }
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    // the record rules' own messages, then the agreement's policy, as `accord publish`
    let draft = match crate::draft::parse_draft(draft_json(&form).to_string().as_bytes()) {
        Ok(d) => d,
        Err(e) => return publish_view(&c, &who, form, None, Some(e.to_string())),
    };
    let cfg = c.handle.config();
    let now = clock::now();
    let Some(agreement) = cfg.agreements.get(&draft.agreement) else {
        let e = format!("{} is not an agreement of this node", draft.agreement);
        return publish_view(&c, &who, form, None, Some(e));
    };
    let record = match draft
        .clone()
        .into_record(&cfg.agency, accord_protocol::Seq::FIRST, now)
    {
        Ok(r) => r,
        Err(e) => return publish_view(&c, &who, form, None, Some(e.to_string())),
    };
    if let Some(reason) = crate::policy::may_publish(&cfg.agency, agreement, &record, now).reason()
    {
        return publish_view(&c, &who, form, None, Some(reason.to_string()));
    }
    if form.step != "publish" {
        let mut preview = Preview {
            receivers: Vec::new(),
            withheld: Vec::new(),
        };
        for m in agreement.members.iter().filter(|m| **m != cfg.agency) {
            match crate::policy::may_send(&record, agreement, m, now).reason() {
                None => preview.receivers.push(m.to_string()),
                Some(why) => preview.withheld.push(format!("{m}: {why}")),
            }
        }
        return publish_view(&c, &who, form, Some(preview), None);
    }
    match c
        .handle
        .publish_by(draft, now, Some(who.name.clone()))
        .await
    {
        Ok(id) => {
            tracing::info!(account = %who.name, %id, "record published through the console");
            (
                StatusCode::SEE_OTHER,
                [(LOCATION, format!("/records/{id}"))],
            )
                .into_response()
        }
        Err(e) => publish_view(&c, &who, form, None, Some(e.to_string())),
    }
}
