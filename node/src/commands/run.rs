//! `accord run`: the long-running node.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::node::load;
use crate::files;
use crate::net::{NetConfig, start};
use crate::store::Store;

/// Runs the node until SIGINT or SIGTERM, then stops cleanly (the store is flushed).
pub(super) fn run(config: &Path) -> Result<()> {
    let cfg = load(config)?;
    let key = files::read_key(&cfg.key_file)?;
    let store = Arc::new(Store::open_waiting_as(
        &cfg.data_dir,
        cfg.store_engine,
        std::time::Duration::from_secs(2),
    )?);
    super::key::refuse_rotated_key(&store, &cfg.agency, &key.public_key(), super::node::now()?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let agency = cfg.agency.clone();
        let running = start(cfg.clone(), key, store.clone(), NetConfig::default()).await?;
        let handle = running.handle.clone();
        let api = crate::api::serve(handle.clone(), &cfg).await?;
        let notifier = crate::notify::Notifier::start(handle.clone(), cfg.notify.clone());
        tracing::info!(%agency, api = %api.addr, "accord node running");
        eprintln!(
            "accord node {agency} running; API and console on http://{}; stop with Ctrl-C",
            api.addr
        );
        if let Some(c) = &api.console {
            eprintln!("the console is served over TLS on https://{}", c.addr);
        }
        shutdown_signal().await;
        eprintln!("stopping {agency}…");
        api.stop().await;
        if let Some(n) = notifier {
            n.stop().await;
        }
        let _ = handle.shutdown().await;
        running.stopped().await;
        store.flush()?;
        eprintln!("stopped");
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
