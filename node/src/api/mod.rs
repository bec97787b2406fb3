//! The local HTTP JSON API for the agency's own systems (docs/api.md).
//!
//! It listens on `[api] bind` (loopback by default) and answers only requests that carry the
//! bearer token from `[api] token_file`. Publishing goes through the node's handle, so a record
//! published here is numbered, checked, signed, stored, flushed and handed to the network
//! exactly as `accord publish` would; queries read the store the node holds open. The same
//! record view ([`view`]) serves `accord query --json`, and [`client`] lets the CLI reach a
//! running node whose store it cannot open.

mod auth;
pub(crate) mod client;
mod ops;
mod routes;
pub mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use accord_config::NodeConfig;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use auth::{Token, TokenError};

use crate::net::NodeHandle;

/// The largest draft `POST /v1/records` accepts.
pub const MAX_DRAFT_BYTES: usize = 1024 * 1024;

/// How long [`Api::stop`] lets requests in flight finish.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Why the API could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The token file cannot be used.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The address cannot be bound.
    #[error(
        "cannot listen for the API on {addr}: {source} (is another node or program using it? change [api] bind in {config})"
    )]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The node file.
        config: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The console's TLS listener (`[console]`) cannot start.
    #[error(transparent)]
    Console(#[from] crate::console::tls::TlsError),
}

/// A running API server. Stop it with [`Api::stop`]; dropping it stops it too, without
/// waiting.
#[derive(Debug)]
pub struct Api {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The console's TLS listener, when `[console]` configures one.
    pub console: Option<crate::console::tls::Listener>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Api {
    /// Stops accepting connections, lets requests in flight finish (for at most
    /// [`STOP_GRACE`]) and waits until the server task has ended.
    pub async fn stop(self) {
        let Api {
            addr,
            console,
            stop,
            mut task,
        } = self;
        if let Some(console) = console {
            console.stop().await;
        }
        let _ = stop.send(());
        match tokio::time::timeout(STOP_GRACE, &mut task).await {
            Ok(Ok(Ok(()))) => tracing::debug!(%addr, "api stopped"),
            Ok(Ok(Err(e))) => tracing::warn!(%addr, error = %e, "the API server failed"),
            Ok(Err(e)) => tracing::warn!(%addr, error = %e, "the API task failed"),
            Err(_) => {
                tracing::warn!(%addr, "API requests still running after {STOP_GRACE:?}; abandoning them");
                task.abort();
                let _ = task.await;
            }
        }
    }
}

/// Serves the API for `handle` on the configured address.
pub async fn serve(handle: NodeHandle, cfg: &NodeConfig) -> anyhow::Result<Api> {
    Ok(start(handle, cfg).await?)
}

/// Serves the API for `handle` on the configured address: refuses to start when the token file
/// is missing or empty or the address cannot be bound.
pub async fn start(handle: NodeHandle, cfg: &NodeConfig) -> Result<Api, ServeError> {
    let token = Token::read(&cfg.api.token_file)?;
    let bind = cfg.api.bind;
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: bind,
            config: cfg.path.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: bind,
        config: cfg.path.clone(),
        source,
    })?;
    // (config validation refuses an [api] bind beyond loopback: clear text stays on this host)
    // the console's pages (sessions of people's accounts) beside the API (the bearer token)
    let handle_for_console = handle.clone();
    let console = crate::console::router(handle.clone(), cfg.agency.to_string(), false);
    let app = axum::Router::new()
        .merge(console)
        .merge(routes::router(Arc::new(routes::Shared { handle, token })))
        .into_make_service_with_connect_info::<SocketAddr>();
    let (stop, stopped) = oneshot::channel::<()>();
    let span = tracing::info_span!("api", %addr);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped.await;
    });
    let task = tokio::spawn(tracing::Instrument::instrument(
        async move { server.await },
        span,
    ));
    tracing::info!(%addr, "api listening");
    // the console beyond loopback: its own listener, TLS only, cookies Secure
    let console = match &cfg.console {
        Some(cc) => {
            let app = crate::console::router(handle_for_console, cfg.agency.to_string(), true);
            match crate::console::tls::serve(app, cc).await {
                Ok(l) => Some(l),
                Err(e) => {
                    let _ = stop.send(());
                    let _ = task.await;
                    return Err(e.into());
                }
            }
        }
        None => None,
    };
    Ok(Api {
        addr,
        console,
        stop,
        task,
    })
}
