//! What the store commands share: the configuration, the store, the key, the clock.

use std::path::Path;

use accord_config::NodeConfig;
use accord_protocol::{RecordId, SecretKey, Timestamp};
use anyhow::{Context, Result, anyhow};

use crate::api::client::{Client, ClientError};
use crate::api::view::{ResolveError, resolve};
use crate::store::Store;
use crate::{Refused, files};

/// A node's configuration, opened store and agency key.
pub(super) struct Node {
    /// The configuration.
    pub cfg: NodeConfig,
    /// The store in the data directory.
    pub store: Store,
}

impl Node {
    /// The agency key from its file. A key other than the one the audit log last named is
    /// logged (a `key` entry, flushed) before it is returned: nothing is signed with a key
    /// the log does not name.
    pub(super) fn key(&self) -> Result<SecretKey> {
        let key = read_key_again(&self.cfg.key_file)?;
        super::key::refuse_rotated_key(&self.store, &self.cfg.agency, &key.public_key(), now()?)?;
        self.store.log().audit_key(
            now()?,
            accord_protocol::audit::AuditEvent::Key {
                public_key: key.public_key(),
            },
        )?;
        Ok(key)
    }

    /// A record id from a full id or a unique prefix of at least 6 hex digits.
    pub(super) fn resolve(&self, text: &str) -> Result<RecordId> {
        resolve(&self.store, text).map_err(|e| match e {
            ResolveError::NoMatch(prefix) => anyhow!(
                "no record with an id starting `{prefix}` in {}",
                self.store.path().display()
            ),
            e => e.into(),
        })
    }

    /// Opens the store or, when a running node (`accord run`) holds it, a client of that
    /// node's API.
    pub(super) fn open_or_api(config: &Path) -> Result<Opened> {
        let cfg = load(config)?;
        // A store in use is a running node's: ask its API at once when it answers; only when
        // nothing listens there (a node stopping, whose lock sled is about to release) wait
        // a moment for the store.
        let opened = match Store::open_as(&cfg.data_dir, cfg.store_engine) {
            Err(e) if e.is_locked() && !api_listening(&cfg) => Store::open_waiting_as(
                &cfg.data_dir,
                cfg.store_engine,
                std::time::Duration::from_millis(300),
            ),
            other => other,
        };
        match opened {
            Ok(store) => {
                store.bind_agency(&cfg.agency)?;
                let mut cfg = cfg;
                let own = own_public_key(&cfg);
                if let Some(own) = &own {
                    // before the agreements, whose signatures the new key made
                    super::key::refuse_rotated_key(&store, &cfg.agency, own, now()?)?;
                }
                crate::agreements::prepare(&mut cfg, own.as_ref(), Some(&store))?;
                crate::audit::log_configuration(&store, &cfg, now()?)?;
                Ok(Opened::Local(Node { cfg, store }))
            }
            Err(e) if e.is_locked() => {
                let client = Client::for_node(&cfg).map_err(|err| {
                    anyhow::Error::new(err).context(format!(
                        "the store at {} is in use by another process and its API cannot be called",
                        cfg.data_dir.display()
                    ))
                })?;
                tracing::debug!(api = %client.addr(), "the store is locked; asking the running node");
                Ok(Opened::Api(Remote { cfg, client }))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether something accepts connections on the node's API address (within 200 ms).
fn api_listening(cfg: &NodeConfig) -> bool {
    Client::for_node(cfg).is_ok_and(|c| {
        std::net::TcpStream::connect_timeout(&c.addr(), std::time::Duration::from_millis(200))
            .is_ok()
    })
}

/// The store, or the running node that holds it (one per command run: its size is no matter).
#[allow(clippy::large_enum_variant)]
pub(super) enum Opened {
    /// The store, opened by this process.
    Local(Node),
    /// A running node's API.
    Api(Remote),
}

/// A running node, reached through its API.
pub(super) struct Remote {
    /// The configuration.
    pub cfg: NodeConfig,
    /// The client of its API.
    pub client: Client,
}

impl Remote {
    /// The command's error for a failed API call: the API's refusals exit 1 with its message
    /// after `what`; a node that does not answer, or fails, exits 3.
    pub(super) fn fail(&self, what: impl std::fmt::Display, e: ClientError) -> anyhow::Error {
        match e {
            ClientError::Refused { message, .. } => refuse(what, message),
            ClientError::Unreachable { .. } => anyhow::Error::new(e).context(format!(
                "the store at {} is locked by another process (`accord run`?), and the node's API did not answer",
                self.cfg.data_dir.display()
            )),
            e => anyhow::Error::new(e),
        }
    }
}

impl Remote {
    /// The command's error for a failed call of an operation (`crate::ops`) through the API:
    /// its refusal, which already names what was refused, exits 1 as the local refusal does.
    pub(super) fn fail_op(&self, e: ClientError) -> anyhow::Error {
        match e {
            ClientError::Refused { message, .. } => {
                eprintln!("error: {message}");
                anyhow::Error::new(Refused)
            }
            e => self.fail("", e),
        }
    }
}

/// The command's error for an operation that failed on a store this process opened: a
/// refusal is printed (`error: <what>: <why>`, exit 1), a failure keeps its cause chain.
pub(super) fn op_fail(e: crate::ops::OpError) -> anyhow::Error {
    match e {
        crate::ops::OpError::Refused { what, why } => refuse(what, why),
        crate::ops::OpError::Failed(e) => e,
    }
}

/// The page a command's `--limit` and `--cursor` ask for, or their refusal.
pub(super) fn page_request(args: &crate::cli::PageArgs) -> Result<crate::page::PageRequest> {
    crate::page::PageRequest::parse(args.limit.as_deref(), args.cursor.as_deref()).map_err(|e| {
        let what = match e {
            crate::page::PageError::Limit(_) => "--limit",
            crate::page::PageError::Cursor(_) => "--cursor",
        };
        refuse(what, e)
    })
}

/// Says how to get the next page, when there is one (on stderr, so JSON lines stay clean).
pub(super) fn next_page(next: Option<&str>) {
    if let Some(next) = next {
        eprintln!("next page: add --cursor {next}");
    }
}

/// Loads a configuration; every problem is printed and the command refused.
pub(super) fn load(config: &Path) -> Result<NodeConfig> {
    files::load_config(config).map_err(|errors| {
        eprintln!("{errors}");
        anyhow::Error::new(Refused)
    })
}

/// The agency's public key, when this process can read the key file (its own signature of an
/// agreement counts only then). This first read of the key file is the one that warns when
/// others may read it.
fn own_public_key(cfg: &NodeConfig) -> Option<accord_protocol::PublicKey> {
    files::read_key(&cfg.key_file).ok().map(|k| k.public_key())
}

/// The key file read again by [`Node::key`], after opening the node read it once
/// ([`own_public_key`]): without a second warning about the file's permissions, so a command
/// says it once.
fn read_key_again(path: &Path) -> Result<SecretKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    SecretKey::from_key_file(&text).with_context(|| format!("bad key file {}", path.display()))
}

/// The current time, whole seconds.
pub(super) fn now() -> Result<Timestamp> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    Ok(Timestamp::from_unix(
        i64::try_from(secs).unwrap_or(i64::MAX),
    )?)
}

/// Prints a refusal (`error: <what>: <why>`) and returns the error that exits with code 1.
pub(super) fn refuse(what: impl std::fmt::Display, why: impl std::fmt::Display) -> anyhow::Error {
    eprintln!("error: {what}: {why}");
    anyhow::Error::new(Refused)
}
