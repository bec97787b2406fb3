//! The console served beyond loopback: `[console]` in node.toml names the address, the
//! certificate chain and its key (PEM); connections are TLS (rustls, ring provider, TLS 1.2 and
//! 1.3) and nothing else, and the session cookie is `Secure`. The local API's address keeps
//! serving both the API and the console in clear text, on loopback only (config validation
//! refuses anything else).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use accord_config::ConsoleConfig;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How long a client has to finish its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Why the console's TLS listener could not start.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A PEM file cannot be read or holds nothing usable.
    #[error("[console] {what} {path}: {reason}")]
    File {
        /// `tls_cert` or `tls_key`.
        what: &'static str,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// rustls refused the certificate and key.
    #[error("[console] the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
    /// The address cannot be bound.
    #[error("cannot listen for the console on {addr}: {source} (change [console] bind)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

fn file_error(what: &'static str, path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        what,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The server configuration of `cfg`'s certificate chain and key.
pub fn server_config(cfg: &ConsoleConfig) -> Result<rustls::ServerConfig, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cfg.tls_cert)
        .map_err(|e| file_error("tls_cert", &cfg.tls_cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error("tls_cert", &cfg.tls_cert, e))?;
    if certs.is_empty() {
        return Err(file_error(
            "tls_cert",
            &cfg.tls_cert,
            "no CERTIFICATE block in it",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&cfg.tls_key)
        .map_err(|e| file_error("tls_key", &cfg.tls_key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A running TLS listener; [`Listener::stop`] ends it.
#[derive(Debug)]
pub struct Listener {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Stops accepting; connections in flight end on their own.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Serves `app` over TLS on `cfg.bind`.
pub async fn serve(app: Router, cfg: &ConsoleConfig) -> Result<Listener, TlsError> {
    let acceptor = TlsAcceptor::from(Arc::new(server_config(cfg)?));
    let listener = TcpListener::bind(cfg.bind)
        .await
        .map_err(|source| TlsError::Bind {
            addr: cfg.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| TlsError::Bind {
        addr: cfg.bind,
        source,
    })?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "the console cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let tls = match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "a console TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
                let svc = TowerToHyperService::new(app.layer(axum::Extension(ConnectInfo(peer))));
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .http1_only()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    tracing::info!(%addr, "console listening over TLS");
    Ok(Listener { addr, stop, task })
}
