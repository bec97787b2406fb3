//! The API's routes and handlers. Handlers are thin: they parse the request, call the node's
//! handle or read the store (on the blocking pool, as sled is synchronous), and shape the reply.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::MAX_DRAFT_BYTES;
use super::auth::Token;
use super::view::{Filters, RecordView, ResolveError, SearchFailure, SearchPage, resolve};
use accord_protocol::wire::AckEntry;

use crate::clock;
use crate::draft::parse_draft;
use crate::net::NodeHandle;
use crate::page::PageRequest;
use crate::search::SearchText;
use crate::store::Store;

/// What every handler shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) handle: NodeHandle,
    pub(super) token: Token,
}

type AppState = State<Arc<Shared>>;

/// The API's router: every route, and every unknown one, behind the bearer token.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/records",
            post(publish)
                .get(query)
                .layer(DefaultBodyLimit::max(MAX_DRAFT_BYTES)),
        )
        .route("/v1/records/{id}", get(record))
        .route("/v1/search", get(search))
        .route(
            "/v1/envelopes",
            post(import).layer(DefaultBodyLimit::max(MAX_DRAFT_BYTES)),
        )
        .route(
            "/v1/revocations",
            post(revocation).layer(DefaultBodyLimit::max(MAX_DRAFT_BYTES)),
        )
        .route("/v1/audit/checkpoint", post(checkpoint))
        .route("/v1/audit/exports", post(super::ops::audit_export))
        .route(
            "/v1/audit/partner-exports",
            post(super::ops::audit_partner_export),
        )
        .route("/v1/records/{id}/withdraw", post(super::ops::withdraw))
        .route("/v1/exports", post(super::ops::export))
        .route("/v1/purge", post(super::ops::purge))
        .route("/v1/match", post(super::ops::match_selector))
        .route("/v1/match/resolve", post(super::ops::resolve_tags))
        .route(
            "/v1/delegations",
            post(super::ops::issue).get(super::ops::delegations),
        )
        .route("/v1/agreements/{id}/signatures", post(super::ops::sign))
        .route("/v1/approvals", get(super::ops::approvals))
        .route("/v1/approvals/{id}/approve", post(super::ops::approve))
        .route("/v1/approvals/{id}/decline", post(super::ops::decline))
        .route(
            "/v1/releasers",
            post(super::ops::enrol).get(super::ops::releasers),
        )
        .route(
            "/v1/accounts",
            post(super::ops::add_account).get(super::ops::accounts),
        )
        .route(
            "/v1/accounts/{name}/password",
            post(super::ops::account_password),
        )
        .route(
            "/v1/accounts/{name}/disabled",
            post(super::ops::account_disabled),
        )
        .route("/v1/peers", get(peers))
        .route("/v1/status", get(status))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            require_token,
        ))
        .with_state(shared)
}

/// `{"error": message}` with a status.
pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn require_token(State(shared): AppState, req: Request, next: Next) -> Response {
    let header = req.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes);
    let verdict = match header {
        None => Err(
            "missing bearer token: send `Authorization: Bearer <token>` with the token from the node's [api] token_file",
        ),
        Some(h) if shared.token.accepts(Some(h)) => Ok(()),
        Some(_) => Err(
            "wrong bearer token: the `Authorization` header does not carry the token from the node's [api] token_file",
        ),
    };
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    match verdict {
        Ok(()) => {
            let res = next.run(req).await;
            tracing::debug!(%method, %path, status = res.status().as_u16(), "api request");
            res
        }
        Err(why) => {
            tracing::warn!(%method, %path, "api request refused: no valid bearer token");
            let mut res = error(StatusCode::UNAUTHORIZED, why);
            res.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            res
        }
    }
}

/// `POST /v1/records`: publish a draft.
async fn publish(State(shared): AppState, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => {
            let why = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                format!("the draft is larger than {MAX_DRAFT_BYTES} bytes")
            } else {
                r.body_text()
            };
            return error(r.status(), why);
        }
    };
    let draft = match parse_draft(&body) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let agreement = draft.agreement.clone();
    match shared.handle.publish(draft.clone(), clock::now()).await {
        Ok(id) => {
            tracing::info!(%id, %agreement, "record published through the API");
            (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
        }
        // the agreement's [release] clause covers it: held for releasers' approval
        Err(crate::publish::PublishError::NeedsRelease { .. }) => {
            match shared.handle.hold(draft, clock::now(), None).await {
                Ok(held) => {
                    tracing::info!(held = %held.id, %agreement, "draft held for release through the API");
                    (StatusCode::ACCEPTED, Json(json!({ "held": held }))).into_response()
                }
                Err(e) => super::ops::op_error(&e),
            }
        }
        Err(e) if e.is_refusal() => {
            tracing::info!(%agreement, error = %e, "publish through the API refused");
            error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        Err(e) => {
            tracing::error!(%agreement, error = %e, "publish through the API failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

/// `POST /v1/envelopes`: a signed record file (`{"envelope": …, "id": …}`, as `accord record
/// sign` writes it), taken in like a record from a peer: 201 with its id when stored or already
/// held, 422 with the reason when refused.
async fn import(State(shared): AppState, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return error(r.status(), r.body_text()),
    };
    let env = match crate::files::parse_signed(&body) {
        Ok(env) => env,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("{e:#}")),
    };
    match shared.handle.import(vec![env]).await {
        Ok(acks) => match acks.into_iter().next() {
            Some(AckEntry::Stored(id) | AckEntry::Duplicate(id)) => {
                (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
            }
            Some(AckEntry::Rejected { detail, .. }) => {
                error(StatusCode::UNPROCESSABLE_ENTITY, detail)
            }
            None => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no answer for the record",
            ),
        },
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// `POST /v1/revocations`: a revocation line (`<signature hex> <json>`, as `accord delegate
/// revoke` writes it): 201 `{"new": …}` once kept and passed to the members, 422 when it does
/// not verify.
async fn revocation(State(shared): AppState, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return error(r.status(), r.body_text()),
    };
    let signed = match std::str::from_utf8(&body)
        .map_err(|e| e.to_string())
        .and_then(|t| {
            accord_protocol::audit::Signed::from_line(t.trim_end()).map_err(|e| e.to_string())
        }) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    match shared.handle.revoke(signed).await {
        Ok(Ok(new)) => (StatusCode::CREATED, Json(json!({ "new": new }))).into_response(),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// The filters and page of a query string; unknown and repeated parameters are refused by
/// name.
fn filters(pairs: Vec<(String, String)>) -> Result<(Filters, PageRequest), String> {
    let mut f = Filters::default();
    let (mut limit, mut cursor) = (None, None);
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "limit" => &mut limit,
            "cursor" => &mut cursor,
            other => match f.slot(other) {
                Some(slot) => slot,
                None => {
                    return Err(format!(
                        "unknown filter `{name}`; the filters are: {}, and the page's limit and \
                         cursor",
                        Filters::NAMES.join(", ")
                    ));
                }
            },
        };
        if slot.is_some() {
            return Err(format!("filter `{name}` is given twice"));
        }
        *slot = Some(value);
    }
    let page =
        PageRequest::parse(limit.as_deref(), cursor.as_deref()).map_err(|e| e.to_string())?;
    Ok((f, page))
}

/// `GET /v1/records?…`: a page of the records matching every given filter.
async fn query(
    State(shared): AppState,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match pairs {
        Ok(Query(p)) => p,
        Err(r) => return error(StatusCode::BAD_REQUEST, r.body_text()),
    };
    let (q, page) = match filters(pairs)
        .and_then(|(f, page)| Ok((f.parse().map_err(|e| e.to_string())?, page)))
    {
        Ok(q) => q,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    let store = shared.handle.store().clone();
    blocking(move || match RecordView::page(&store, &q, &page) {
        Ok(Ok(page)) => Json(page).into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "query through the API failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    })
    .await
}

/// The search terms, filters and page of a search's query string; a term given twice is
/// refused by name, as a filter is.
fn search_terms(
    pairs: Vec<(String, String)>,
) -> Result<(SearchText, Filters, PageRequest), String> {
    let mut text = SearchText::default();
    let mut given: Vec<String> = Vec::new();
    let mut rest = Vec::new();
    for (name, value) in pairs {
        if !SearchText::NAMES.contains(&name.as_str()) {
            rest.push((name, value));
            continue;
        }
        if given.contains(&name) {
            return Err(format!("search term `{name}` is given twice"));
        }
        text.set(&name, &value);
        given.push(name);
    }
    let (f, page) = filters(rest)?;
    Ok((text, f, page))
}

/// `GET /v1/search?…`: records found by a person's name, a selector or words, best first,
/// each with its score and reasons (docs/search.md); the record filters of `/v1/records` and
/// `limit` (1 to 1000, default 100) narrow it.
async fn search(
    State(shared): AppState,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match pairs {
        Ok(Query(p)) => p,
        Err(r) => return error(StatusCode::BAD_REQUEST, r.body_text()),
    };
    let (text, f, page) = match search_terms(pairs) {
        Ok(x) => x,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    if page.cursor.is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "a search has no pages: raise `limit` (at most 1000) or narrow it",
        );
    }
    let store = shared.handle.store().clone();
    blocking(
        move || match SearchPage::run(&store, &text, &f, page.limit) {
            Ok(p) => Json(p).into_response(),
            Err(e @ SearchFailure::Invalid(_)) => error(StatusCode::BAD_REQUEST, e.to_string()),
            Err(e @ SearchFailure::Stale(_)) => error(StatusCode::CONFLICT, e.to_string()),
            Err(e) => {
                tracing::error!(error = %e, "search through the API failed");
                error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
            }
        },
    )
    .await
}

/// `GET /v1/records/{id}`: one record by id or unique prefix, with the records that share a
/// selector with it; a purged one's tombstone.
async fn record(State(shared): AppState, Path(text): Path<String>) -> Response {
    let store = shared.handle.store().clone();
    let agreements = shared.handle.config().agreements.keys().cloned().collect();
    blocking(move || lookup(&store, &text, &agreements)).await
}

fn lookup(
    store: &Store,
    text: &str,
    agreements: &std::collections::BTreeSet<accord_protocol::AgreementId>,
) -> Response {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "record lookup through the API failed");
        error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    };
    let id = match resolve(store, text) {
        Ok(id) => id,
        Err(e @ ResolveError::NoMatch(_)) => return error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ ResolveError::Store(_)) => return internal(&e),
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match store.records().get(&id) {
        Ok(Some(rec)) => match RecordView::with_links(store, &rec, agreements) {
            Ok(view) => Json(view).into_response(),
            Err(e) => internal(&e),
        },
        Ok(None) => match store.records().tombstone(&id) {
            Ok(Some(t)) => (
                StatusCode::GONE,
                Json(json!({
                    "error": format!("record {id} was purged at {} ({})", t.purged_at, t.reason),
                    "tombstone": t,
                })),
            )
                .into_response(),
            Ok(None) => error(
                StatusCode::NOT_FOUND,
                format!("record {id} is not in this store"),
            ),
            Err(e) => internal(&e),
        },
        Err(e) => internal(&e),
    }
}

/// `POST /v1/audit/checkpoint`: sign a checkpoint of the audit log's head now.
async fn checkpoint(State(shared): AppState) -> Response {
    match shared.handle.checkpoint(clock::now()).await {
        Ok(signed) => {
            let c: Option<accord_protocol::audit::Checkpoint> =
                serde_json::from_slice(&signed.bytes).ok();
            tracing::info!(
                count = c.as_ref().map(|c| c.count),
                "audit checkpoint signed through the API"
            );
            (
                StatusCode::CREATED,
                Json(json!({ "checkpoint": c, "line": signed.to_line() })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "audit checkpoint through the API failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

/// `GET /v1/peers`.
async fn peers(State(shared): AppState) -> Response {
    match shared.handle.peers().await {
        Ok(report) => Json(report).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// `GET /v1/status`.
async fn status(State(shared): AppState) -> Response {
    match shared.handle.status().await {
        Ok(report) => Json(report).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// `GET /metrics`: the node's metrics in the Prometheus text format (docs/operations.md).
async fn metrics(State(shared): AppState) -> Response {
    let status = match shared.handle.status().await {
        Ok(s) => s,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    let handle = shared.handle.clone();
    blocking(move || {
        let store = handle.store();
        let read = || -> Result<crate::metrics::State, crate::store::StoreError> {
            let mut partner_checkpoints = std::collections::BTreeMap::new();
            for signed in store.checkpoints().partner_checkpoints()? {
                if let Ok(c) =
                    serde_json::from_slice::<accord_protocol::audit::SlotCheckpoint>(&signed.bytes)
                {
                    let e = partner_checkpoints.entry(c.agency).or_insert((0, 0));
                    if c.slot >= e.0 {
                        *e = (c.slot, c.time.unix());
                    }
                }
            }
            let mut alarms = std::collections::BTreeMap::new();
            for a in &status.alarms {
                *alarms.entry(a.kind).or_insert(0) += 1;
            }
            Ok(crate::metrics::State {
                records: status.records,
                outbox: store.outbox().by_agreement()?,
                catch_up: status
                    .catch_up
                    .iter()
                    .map(|(a, c)| (a.clone(), (c.fetched, c.expected)))
                    .collect(),
                audit_entries: store.log().audit_head()?.count,
                partner_checkpoints,
                store_bytes: crate::metrics::dir_bytes(store.path()),
                connected: status.connected.clone(),
                alarms,
                in_effect: status
                    .agreements
                    .iter()
                    .map(|(a, st)| (a.clone(), st.in_effect))
                    .collect(),
            })
        };
        match read() {
            Ok(state) => (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                handle.metrics().render(&state),
            )
                .into_response(),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    })
    .await
}

async fn not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no such endpoint `{}`; see docs/api.md (e.g. /v1/records, /v1/status)",
            req.uri().path()
        ),
    )
}

async fn method_not_allowed(req: Request) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "`{}` does not accept {}; see docs/api.md",
            req.uri().path(),
            req.method()
        ),
    )
}

/// Runs store work on the blocking pool.
pub(super) async fn blocking(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(work).await {
        Ok(res) => res,
        Err(e) => {
            tracing::error!(error = %e, "api store task failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the store task failed: {e}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_name_unknown_and_repeated_filters() {
        let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        let (f, page) = filters(p(&[("agreement", "QUAD-2026"), ("country", "TR")])).unwrap();
        assert_eq!(page, PageRequest::first());
        assert_eq!(f.agreement.as_deref(), Some("QUAD-2026"));
        assert_eq!(f.country.as_deref(), Some("TR"));
        let e = filters(p(&[("colour", "red")])).unwrap_err();
        assert!(e.contains("`colour`") && e.contains("agreement"), "{e}");
        let e = filters(p(&[("country", "TR"), ("country", "GR")])).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let (_, page) = filters(p(&[("limit", "5"), ("cursor", "abc")])).unwrap();
        assert_eq!((page.limit, page.cursor.as_deref()), (5, Some("abc")));
        let e = filters(p(&[("limit", "5000")])).unwrap_err();
        assert!(e.contains("limit `5000`") && e.contains("1 to 1000"), "{e}");
    }

    #[test]
    fn search_query_strings_split_terms_from_filters_and_refuse_repeats() {
        let p = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        let (text, f, page) = search_terms(p(&[
            ("person", "Mohammad Rezaei"),
            ("born", "1987"),
            ("country", "TR"),
            ("limit", "7"),
        ]))
        .unwrap();
        assert_eq!(text.person.as_deref(), Some("Mohammad Rezaei"));
        assert_eq!(text.born.as_deref(), Some("1987"));
        assert_eq!(f.country.as_deref(), Some("TR"));
        assert_eq!(page.limit, 7);
        let e = search_terms(p(&[("person", "Ali"), ("person", "Reza")])).unwrap_err();
        assert!(e.contains("`person`") && e.contains("twice"), "{e}");
        let e = search_terms(p(&[("person", "Ali"), ("colour", "red")])).unwrap_err();
        assert!(e.contains("`colour`"), "{e}");
    }
}
