//! The local HTTP JSON API for the agency's own systems (placeholder until the API lands).

use std::net::SocketAddr;

use accord_config::NodeConfig;

use crate::net::NodeHandle;

/// A running API server.
#[derive(Debug)]
pub struct Api {
    /// The address it listens on.
    pub addr: SocketAddr,
}

impl Api {
    /// Stops the server.
    pub async fn stop(self) {}
}

/// Serves the API for `handle` on the configured address.
pub async fn serve(_handle: NodeHandle, cfg: &NodeConfig) -> anyhow::Result<Api> {
    Ok(Api { addr: cfg.api.bind })
}
