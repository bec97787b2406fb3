//! Logging in and out: the login form, its limits, the session cookie.

use super::*;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    error: Option<String>,
    no_accounts: bool,
}

async fn no_accounts(c: &Console) -> bool {
    let store = c.handle.store().clone();
    tokio::task::spawn_blocking(move || {
        store
            .trust()
            .accounts()
            .map(|a| a.is_empty())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

pub(super) async fn login_page(State(c): St) -> Response {
    render(&LoginPage {
        agency: c.agency.clone(),
        who: None,
        nav: "",
        error: None,
        no_accounts: no_accounts(&c).await,
    })
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    account: String,
    password: String,
}

pub(super) async fn login(
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
pub(super) struct CsrfForm {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
}

pub(super) async fn logout(
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
