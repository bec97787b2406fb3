//! The routine operations through the API (docs/api.md): each handler runs the same function
//! of `crate::ops` the CLI runs on a store it opened, here on the store the running node
//! holds, so `accord withdraw`, `export`, `audit export`, `purge`, `delegate issue|list` and
//! `agreement sign` work while the node runs and print the same output.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::routes::{Shared, blocking, error};
use crate::clock;
use crate::ops::{self, OpError};
use crate::page::PageRequest;

type AppState = State<Arc<Shared>>;

/// The body as JSON of `T`, or the answer naming what is wrong with it.
fn body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, Box<Response>> {
    let bytes = body.map_err(|r| Box::new(error(r.status(), r.body_text())))?;
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the request body: {e}"),
        ))
    })
}

/// The answer for an operation's error: 422 for a refusal, 500 for a failure.
pub(super) fn op_error(e: &OpError) -> Response {
    match e {
        OpError::Refused { .. } => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        OpError::Failed(e) => {
            tracing::error!(error = %format!("{e:#}"), "an operation through the API failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
        }
    }
}

/// Runs an operation on the blocking pool; its value as JSON with `status`.
async fn run<T: serde::Serialize + Send + 'static>(
    status: StatusCode,
    work: impl FnOnce() -> Result<T, OpError> + Send + 'static,
) -> Response {
    blocking(move || match work() {
        Ok(v) => (status, Json(v)).into_response(),
        Err(e) => op_error(&e),
    })
    .await
}

/// `POST /v1/records/{id}/withdraw` `{"reason": …}`: a signed withdrawal of one of the
/// agency's records, published and delivered like any record.
pub(super) async fn withdraw(
    State(shared): AppState,
    Path(text): Path<String>,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    let req: ops::withdraw::WithdrawRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let (store, cfg) = (shared.handle.store().clone(), shared.handle.config());
    let prepared =
        tokio::task::spawn_blocking(move || ops::withdraw::draft(&store, &cfg, &text, &req.reason))
            .await;
    let (target, draft) = match prepared {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return op_error(&e),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let agreement = draft.agreement.clone();
    match shared.handle.publish(draft.clone(), clock::now()).await {
        // a withdrawal the agreement's [release] clause covers waits for its releasers too
        Err(crate::publish::PublishError::NeedsRelease { .. }) => {
            match shared.handle.hold(draft, clock::now(), None).await {
                Ok(held) => error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "withdrawal of {target}: not sent yet, held for release as {}: \
                         agreement {agreement} requires {} releaser approval(s) before it \
                         leaves (`accord approvals`)",
                        held.id, held.needed
                    ),
                ),
                Err(e) => op_error(&e),
            }
        }
        Ok(id) => {
            tracing::info!(%id, withdraws = %target, %agreement, "withdrawn through the API");
            (
                StatusCode::CREATED,
                Json(ops::withdraw::Withdrawn {
                    id,
                    withdraws: target,
                    agreement,
                }),
            )
                .into_response()
        }
        Err(e) if e.is_refusal() => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("withdrawal of {target}: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /v1/exports` `{"agreement": …}`: the agreement's bundle, its export entry durable in
/// the audit log before the answer leaves.
pub(super) async fn export(
    State(shared): AppState,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    let req: ops::bundle::ExportRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::OK, move || {
        ops::bundle::export(
            h.store(),
            &h.config(),
            h.key(),
            &req.agreement,
            clock::now(),
        )
    })
    .await
}

/// `POST /v1/audit/exports`: a fresh checkpoint, then the audit export's files.
pub(super) async fn audit_export(State(shared): AppState) -> Response {
    let h = shared.handle.clone();
    let answer = run(StatusCode::OK, move || {
        crate::audit::build(h.store(), &h.config(), h.key(), clock::now())
            .map_err(|e| OpError::Failed(e.into()))
    })
    .await;
    if answer.status() == StatusCode::OK {
        // the members receive the new checkpoint at once
        let _ = shared.handle.sync_now().await;
    }
    answer
}

/// `POST /v1/audit/partner-exports` `{"about": "AGENCY"}`: a partner-only export about that
/// agency (only its checkpoints this node keeps, and the two keys).
pub(super) async fn audit_partner_export(
    State(shared): AppState,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct About {
        about: accord_protocol::AgencyId,
    }
    let req: About = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::OK, move || {
        crate::audit::build_partner_only(h.store(), &h.config(), h.key(), &req.about, clock::now())
            .map_err(|e| OpError::refused("about", e))
    })
    .await
}

/// `POST /v1/purge` `{"dry_run": bool}`: records past retention, purged unless a dry run.
pub(super) async fn purge(State(shared): AppState, req: Result<Bytes, BytesRejection>) -> Response {
    let req: ops::purge::PurgeRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::OK, move || {
        ops::purge::purge(h.store(), &h.config(), req, clock::now(), &mut |_, _| {})
    })
    .await
}

/// `POST /v1/delegations`: issue a liaison officer's certificate (kept with its audit entry).
pub(super) async fn issue(State(shared): AppState, req: Result<Bytes, BytesRejection>) -> Response {
    let req: ops::delegation::IssueRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::CREATED, move || {
        ops::delegation::issue_certificate(
            h.store(),
            &h.config(),
            h.key(),
            &req,
            clock::now(),
            None,
        )
    })
    .await
}

/// `GET /v1/delegations?limit=&cursor=`: a page of the certificates the agency issued.
pub(super) async fn delegations(
    State(shared): AppState,
    Query(params): Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    if let Some(other) = params.keys().find(|k| *k != "limit" && *k != "cursor") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown parameter `{other}`; this list takes limit and cursor"),
        );
    }
    let req = match PageRequest::parse(
        params.get("limit").map(String::as_str),
        params.get("cursor").map(String::as_str),
    ) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let h = shared.handle.clone();
    blocking(
        move || match ops::delegation::list(h.store(), &h.config(), h.key()) {
            Ok(all) => match crate::page::page(all, |l| l.id.clone(), &req) {
                Ok(p) => Json(p).into_response(),
                Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
            },
            Err(e) => op_error(&e),
        },
    )
    .await
}

/// `POST /v1/agreements/{id}/signatures` `{"signer": …, "signature": <hex>}`: a member's
/// signature made on this host; `{"in_effect": bool}`.
pub(super) async fn sign(
    State(shared): AppState,
    Path(id): Path<String>,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    #[derive(serde::Deserialize)]
    struct SignRequest {
        signer: String,
        signature: String,
    }
    let req: SignRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let parsed = (|| {
        let agreement =
            accord_protocol::AgreementId::new(&id).map_err(|e| format!("agreement: {e}"))?;
        let signer =
            accord_protocol::AgencyId::new(&req.signer).map_err(|e| format!("signer: {e}"))?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&req.signature, &mut sig)
            .map_err(|e| format!("signature: not 128 hex digits: {e}"))?;
        Ok::<_, String>((agreement, signer, sig))
    })();
    let (agreement, signer, sig) = match parsed {
        Ok(p) => p,
        Err(why) => return error(StatusCode::UNPROCESSABLE_ENTITY, why),
    };
    match shared.handle.sign_agreement(agreement, signer, sig).await {
        Ok(Ok(in_effect)) => {
            (StatusCode::CREATED, Json(json!({ "in_effect": in_effect }))).into_response()
        }
        Ok(Err(why)) => error(StatusCode::UNPROCESSABLE_ENTITY, why),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// The body of `POST /v1/accounts`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAccount {
    pub(crate) name: String,
    pub(crate) role: crate::console::accounts::Role,
    pub(crate) password: String,
}

/// `POST /v1/accounts`: add a person's account of the console.
pub(super) async fn add_account(
    State(shared): AppState,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    let req: NewAccount = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::CREATED, move || {
        crate::console::accounts::add(
            h.store(),
            clock::now(),
            &req.name,
            req.role,
            &req.password,
            None,
        )
    })
    .await
}

/// The body of `POST /v1/accounts/{name}/password`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPassword {
    pub(crate) password: String,
}

/// `POST /v1/accounts/{name}/password`: a new password.
pub(super) async fn account_password(
    State(shared): AppState,
    Path(name): Path<String>,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    let req: NewPassword = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::OK, move || {
        crate::console::accounts::set_password(h.store(), clock::now(), &name, &req.password, None)
    })
    .await
}

/// The body of `POST /v1/accounts/{name}/disabled`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Disabled {
    pub(crate) disabled: bool,
}

/// `POST /v1/accounts/{name}/disabled`: disable an account (its sessions end at once) or
/// enable it again.
pub(super) async fn account_disabled(
    State(shared): AppState,
    Path(name): Path<String>,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    let req: Disabled = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::OK, move || {
        crate::console::accounts::set_disabled(h.store(), clock::now(), &name, req.disabled, None)
    })
    .await
}

/// `GET /v1/accounts`: every account (never a password hash).
pub(super) async fn accounts(State(shared): AppState) -> Response {
    let h = shared.handle.clone();
    run(StatusCode::OK, move || {
        crate::console::accounts::list(h.store())
    })
    .await
}

/// The body of `POST /v1/match`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchRequest {
    selector: String,
    #[serde(default)]
    born: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    agreement: Option<String>,
}

/// `POST /v1/match` `{"selector": "phone:…", "born": "1987", "country": "PK", "agreement": …}`:
/// hit or miss at every partner of the agency's agreements that provide for matching
/// (docs/matching.md); 422 naming what is wrong with the selector.
pub(super) async fn match_selector(
    State(shared): AppState,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    let req: MatchRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let parsed = (|| {
        let born = match req.born.as_deref() {
            None | Some("") => None,
            Some(b) => Some(
                accord_protocol::PartialDate::parse(b)
                    .map_err(|e| format!("born: {e}"))?
                    .year(),
            ),
        };
        let agreement = req
            .agreement
            .as_deref()
            .map(accord_protocol::AgreementId::new)
            .transpose()
            .map_err(|e| format!("agreement: {e}"))?;
        let wanted = crate::matching::asker::wanted(&req.selector, born, req.country.as_deref())
            .map_err(|e| format!("selector: {e}"))?;
        Ok::<_, String>((wanted, agreement))
    })();
    let (wanted, agreement) = match parsed {
        Ok(p) => p,
        Err(why) => return error(StatusCode::UNPROCESSABLE_ENTITY, why),
    };
    match shared
        .handle
        .match_wanted(&wanted, agreement.as_ref(), None)
        .await
    {
        Ok(report) => Json(report).into_response(),
        Err(why) => error(StatusCode::UNPROCESSABLE_ENTITY, why),
    }
}

/// The body of `POST /v1/match/resolve`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveRequest {
    agreement: String,
    epoch: String,
    tags: Vec<String>,
}

/// `POST /v1/match/resolve` `{"agreement": …, "epoch": "2026-12-07+1d", "tags": ["…"]}`: the
/// holder's selectors (and records) a request for information after a hit names by tag.
pub(super) async fn resolve_tags(
    State(shared): AppState,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    let req: ResolveRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let parsed = (|| {
        let agreement = accord_protocol::AgreementId::new(&req.agreement)
            .map_err(|e| format!("agreement: {e}"))?;
        let epoch = accord_protocol::matching::Epoch::parse(&req.epoch)
            .map_err(|e| format!("epoch: {e}"))?;
        if req.tags.is_empty() || req.tags.len() > accord_protocol::matching::MAX_LOOKUP {
            return Err(format!(
                "tags: give 1 to {} tags",
                accord_protocol::matching::MAX_LOOKUP
            ));
        }
        let tags = req
            .tags
            .iter()
            .map(|t| accord_protocol::matching::Tag::from_hex(t).map_err(|e| format!("tags: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, String>((agreement, epoch, tags))
    })();
    let (agreement, epoch, tags) = match parsed {
        Ok(p) => p,
        Err(why) => return error(StatusCode::UNPROCESSABLE_ENTITY, why),
    };
    match shared.handle.resolve_tags(agreement, epoch, tags).await {
        Ok(found) => Json(found).into_response(),
        Err(why) => error(StatusCode::UNPROCESSABLE_ENTITY, why),
    }
}

/// `GET /v1/approvals?all=true`: the drafts held for releasers' approval (waiting ones; all
/// with `all=true`), oldest first.
pub(super) async fn approvals(
    State(shared): AppState,
    Query(params): Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    if let Some(other) = params.keys().find(|k| *k != "all") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown parameter `{other}`; this list takes all"),
        );
    }
    let all = match params.get("all").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("all is true or false, not `{v}`"),
            );
        }
    };
    let h = shared.handle.clone();
    run(StatusCode::OK, move || {
        let mut list = crate::release::list(h.store())?;
        if !all {
            list.retain(|held| held.state == crate::release::HeldState::Waiting);
        }
        Ok(list)
    })
    .await
}

/// `POST /v1/approvals/{id}/approve` `{"releaser": …, "password": …}`: an enrolled releaser
/// approves a held draft; the last approval needed publishes it and hands it to the network.
pub(super) async fn approve(
    State(shared): AppState,
    Path(id): Path<String>,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    decide(shared, id, req, false).await
}

/// `POST /v1/approvals/{id}/decline` `{"releaser": …, "password": …, "reason": …}`: an
/// enrolled releaser declines a held draft; it never leaves the node.
pub(super) async fn decline(
    State(shared): AppState,
    Path(id): Path<String>,
    req: Result<Bytes, BytesRejection>,
) -> Response {
    decide(shared, id, req, true).await
}

/// A releaser's decision, once their password is checked: the approval's outcome, or the
/// declined draft.
async fn decide(
    shared: Arc<Shared>,
    id: String,
    req: Result<Bytes, BytesRejection>,
    declining: bool,
) -> Response {
    let req: crate::release::DecideRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    let (name, password) = (req.releaser.clone(), req.password.clone());
    let checked = tokio::task::spawn_blocking(move || {
        crate::release::authenticate(h.store(), &name, &password)
    })
    .await;
    match checked {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return op_error(&e),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
    let reason = declining.then(|| req.reason.clone().unwrap_or_default());
    match shared
        .handle
        .decide_release(id, req.releaser, reason, clock::now())
        .await
    {
        Ok(done) if declining => (StatusCode::OK, Json(done.held)).into_response(),
        Ok(done) => {
            if let Some(record) = done.released {
                tracing::info!(%record, held = %done.held.id, "released through the API");
            }
            (StatusCode::OK, Json(done)).into_response()
        }
        Err(e) => op_error(&e),
    }
}

/// `POST /v1/releasers` `{"name": …, "key_file": …, "certificate": …}`: enrols a releaser's
/// key; `GET /v1/releasers`: those enrolled.
pub(super) async fn enrol(State(shared): AppState, req: Result<Bytes, BytesRejection>) -> Response {
    let req: crate::release::EnrolRequest = match body(req) {
        Ok(r) => r,
        Err(res) => return *res,
    };
    let h = shared.handle.clone();
    run(StatusCode::CREATED, move || {
        crate::release::enrol(h.store(), &h.config(), h.key(), &req, clock::now(), None)
    })
    .await
}

/// `GET /v1/releasers`: the releasers enrolled.
pub(super) async fn releasers(State(shared): AppState) -> Response {
    let h = shared.handle.clone();
    run(StatusCode::OK, move || crate::release::releasers(h.store())).await
}
