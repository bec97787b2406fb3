//! What the store commands share: the configuration, the store, the key, the clock.

use std::path::Path;

use accord_config::NodeConfig;
use accord_protocol::{RecordId, SecretKey, Timestamp};
use anyhow::{Context, Result, bail};

use crate::store::Store;
use crate::{Refused, files};

/// A node's configuration, opened store and agency key.
pub struct Node {
    /// The configuration.
    pub cfg: NodeConfig,
    /// The store in the data directory.
    pub store: Store,
}

impl Node {
    /// Loads the configuration (printing every problem and refusing when it is invalid) and
    /// opens the store.
    pub fn open(config: &Path) -> Result<Self> {
        let cfg = load(config)?;
        let store = Store::open(&cfg.data_dir)?;
        Ok(Self { cfg, store })
    }

    /// The agency key, checked against nothing but its file.
    pub fn key(&self) -> Result<SecretKey> {
        files::read_key(&self.cfg.key_file)
    }

    /// A record id from a full id or a unique prefix of at least 6 hex digits.
    pub fn resolve(&self, text: &str) -> Result<RecordId> {
        if let Ok(id) = RecordId::new(text) {
            return Ok(id);
        }
        if text.len() < 6 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "`{text}` is not a record id (64 hex digits) or an id prefix of at least 6 hex digits"
            );
        }
        let prefix = text.to_ascii_lowercase();
        let mut ids = self.store.ids_with_prefix(&prefix)?;
        ids.extend(
            self.store
                .tombstones(None)?
                .into_iter()
                .map(|t| t.id)
                .filter(|id| id.to_hex().starts_with(&prefix)),
        );
        ids.sort();
        ids.dedup();
        match ids.as_slice() {
            [id] => Ok(*id),
            [] => bail!(
                "no record with an id starting `{prefix}` in {}",
                self.store.path().display()
            ),
            many => bail!(
                "`{prefix}` matches {} records; give more digits",
                many.len()
            ),
        }
    }
}

/// Loads a configuration; every problem is printed and the command refused.
pub fn load(config: &Path) -> Result<NodeConfig> {
    files::load_config(config).map_err(|errors| {
        eprintln!("{errors}");
        anyhow::Error::new(Refused)
    })
}

/// The current time, whole seconds.
pub fn now() -> Result<Timestamp> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    Ok(Timestamp::from_unix(
        i64::try_from(secs).unwrap_or(i64::MAX),
    )?)
}

/// Prints a refusal (`error: <what>: <why>`) and returns the error that exits with code 1.
pub fn refuse(what: impl std::fmt::Display, why: impl std::fmt::Display) -> anyhow::Error {
    eprintln!("error: {what}: {why}");
    anyhow::Error::new(Refused)
}
