//! `accord run`: the node as a long-running libp2p peer.
//!
//! One actor task ([`actor`]) owns the Swarm; everything else holds a [`NodeHandle`]. Records
//! travel only by direct request-response to members of their agreement (never gossipsub, which
//! gives a topic's messages to any peer that claims it):
//!
//! - **push**: each own record waits in a durable per-peer outbox (written with the record) and
//!   is pushed in bounded batches; the peer acknowledges only after `verify_strict`, its own
//!   policy check and a flush; acknowledged entries leave the outbox;
//! - **catch-up and relay**: members exchange, per shared agreement, the agreement file's hash
//!   and the highest gap-free seq they hold per originator (on connect, when their holdings
//!   change, and every `sync_interval`); the one behind pulls the missing ranges in bounded
//!   batches from any member that has them. A member that stores records announces its new
//!   heads to the other members it is connected to, so records spread through an agreement's
//!   members even when they are not all connected to each other — and never beyond them;
//! - **agreement consistency**: nothing is pushed, pulled or accepted under an agreement until
//!   its hash is confirmed identical with that peer; a mismatch is logged, evented and shown in
//!   the status.

mod actor;
pub(crate) mod alarms;
mod behaviour;
mod budget;
pub mod codec;
mod core;
mod handle;
pub(crate) mod inbound;
mod inbound_rate;
mod outbound;
pub(crate) mod progress;
mod redial;
mod signing;
mod tally;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use accord_config::NodeConfig;
use accord_protocol::{AgencyId, SecretKey};
use libp2p::{PeerId, identity, noise, tcp, yamux};
use thiserror::Error;
use tokio::sync::{broadcast, mpsc};

pub use handle::{NodeEvent, NodeHandle, PeersReport, StatusReport, Stopped};

use crate::store::Store;

/// Tunables of the network.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// How often the timer runs (redial, outbox, announcements).
    pub tick: Duration,
    /// How often a full sync status goes to every connected member.
    pub sync_interval: Duration,
    /// First redial delay after a failure; doubles up to `redial_max`.
    pub redial_min: Duration,
    /// Longest redial delay.
    pub redial_max: Duration,
    /// First wait before a push to a peer is tried again after it failed (no answer, a
    /// malformed one, a transient refusal); doubles, with jitter, up to `push_retry_max`.
    pub push_retry_min: Duration,
    /// Longest wait between push attempts to a failing peer.
    pub push_retry_max: Duration,
    /// How long an idle connection stays open.
    pub idle_timeout: Duration,
    /// How long a request may take.
    pub request_timeout: Duration,
    /// Most records per push.
    pub push_batch: usize,
    /// Most records per range answer (a node catching up pulls in larger batches: fewer round
    /// trips, and one flush for more records).
    pub range_batch: usize,
    /// Most bytes of records per push or range answer (well under the 8 MiB frame limit).
    pub push_bytes: usize,
    /// The length of a checkpoint slot: partners receive a slot checkpoint of the log once a
    /// slot, whatever the log did meanwhile (docs/auditing.md §2).
    pub checkpoint_slot: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(100),
            sync_interval: Duration::from_secs(30),
            redial_min: Duration::from_millis(250),
            redial_max: Duration::from_secs(30),
            push_retry_min: Duration::from_millis(200),
            push_retry_max: Duration::from_secs(60),
            // sync every 30 s keeps members' connections busy; an idle one closes after 5 minutes
            idle_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
            push_batch: 64,
            range_batch: 256,
            push_bytes: 4 * 1024 * 1024,
            checkpoint_slot: Duration::from_secs(600),
        }
    }
}

/// Why the node could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The agency key cannot be a libp2p identity.
    #[error("the agency key cannot be used as the node's libp2p identity: {0}")]
    Identity(String),
    /// The transport could not be built.
    #[error("cannot build the transport: {0}")]
    Transport(String),
    /// The store refused the node (bound to another agency, or failed).
    #[error("store: {0}")]
    Store(String),
    /// An agreement's signature file holds a signature that does not verify.
    #[error("{0}")]
    Agreements(String),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// The libp2p peer id of an agency key.
pub fn peer_id(key: &accord_protocol::PublicKey) -> Result<PeerId, StartError> {
    let pk = identity::ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .map_err(|e| StartError::Identity(e.to_string()))?;
    Ok(identity::PublicKey::from(pk).to_peer_id())
}

/// The running node: its handle and the actor task.
#[derive(Debug)]
pub struct Running {
    /// The handle.
    pub handle: NodeHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Waits until the actor has stopped.
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

/// Starts the node: builds the swarm with the agency key as identity, listens on the
/// configured addresses and spawns the actor.
pub async fn start(
    mut cfg: NodeConfig,
    key: SecretKey,
    store: Arc<Store>,
    net: NetConfig,
) -> Result<Running, StartError> {
    store
        .bind_agency(&cfg.agency)
        .map_err(|e| StartError::Store(e.to_string()))?;
    crate::agreements::prepare(&mut cfg, Some(&key.public_key()), Some(&store))
        .map_err(|e| StartError::Agreements(format!("{e:#}")))?;
    let config_event = crate::audit::config_event(&cfg);
    let key_event = accord_protocol::audit::AuditEvent::Key {
        public_key: key.public_key(),
    };
    store
        .log()
        .audit_start(crate::clock::now(), config_event, key_event)
        .and_then(|()| crate::audit::log_configuration(&store, &cfg, crate::clock::now()))
        .map_err(|e| StartError::Store(e.to_string()))?;
    let mut seed = key.to_seed();
    let keypair = identity::Keypair::ed25519_from_bytes(seed.as_mut_slice())
        .map_err(|e| StartError::Identity(e.to_string()))?;
    let mut peer_ids: BTreeMap<PeerId, AgencyId> = BTreeMap::new();
    for a in cfg.agencies.values() {
        peer_ids.insert(peer_id(&a.public_key)?, a.id.clone());
    }
    let allowed: Vec<PeerId> = peer_ids.keys().copied().collect();
    let request_timeout = net.request_timeout;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| StartError::Transport(e.to_string()))?
        .with_behaviour(|key| behaviour::Behaviour::new(key, allowed, request_timeout))
        .map_err(|e| StartError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(net.idle_timeout))
        .build();
    for addr in &cfg.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| StartError::Listen {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
    }
    let (tx, rx) = mpsc::channel(handle::COMMAND_CAPACITY);
    let (events, _) = broadcast::channel(handle::EVENT_CAPACITY);
    let cfg = Arc::new(cfg);
    let key = Arc::new(key);
    let shared = handle::SharedConfig::new(cfg.clone());
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let handle = NodeHandle {
        tx,
        events: events.clone(),
        store: store.clone(),
        cfg: shared.clone(),
        key: key.clone(),
        metrics: metrics.clone(),
        asker: Arc::new(crate::matching::asker::Asker::default()),
    };
    let mut core = core::Core::new(
        shared,
        key.clone(),
        store,
        net.clone(),
        metrics,
        core::Now::system(),
        getrandom::u64().unwrap_or(0x5eed),
    );
    if cfg.agreements.values().any(|a| a.matching.is_some()) {
        let seed = crate::matching::load_or_create_seed(&cfg.data_dir)
            .map_err(|e| StartError::Store(format!("the matching seed: {e:#}")))?;
        core.set_matching(Arc::new(crate::matching::holder::Holder::new(seed)));
    }
    let actor = actor::Actor::new(swarm, core, net.tick, rx, events, peer_ids);
    let span = tracing::info_span!("node", agency = %cfg.agency);
    let task = tokio::spawn(tracing::Instrument::instrument(actor.run(), span));
    Ok(Running { handle, task })
}
