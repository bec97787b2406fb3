//! The one task that owns the libp2p Swarm. `run` loops over `step`, a `select!` with a fixed
//! priority: commands, then swarm events, then the timer that redials, pushes outboxes and
//! exchanges sync status.
//!
//! This file holds the actor's state, its loop, the commands of its handle and the timer. Its
//! handlers live one file per concern: `requests` (what arrives from the swarm), `peers`
//! (connections, redial), `push` (outbox to members, acks), `sync` (status in and out,
//! checkpoints), `ranges` (catch-up and receive jobs), `trust` (revocations, agreement
//! signatures) and `events` (events, alarms, reports, the refusal budget). Decisions are still
//! made inside these handlers; a sans-IO core that returns them is issue 21's next step.

mod events;
mod peers;
mod push;
mod ranges;
mod requests;
mod sync;
mod trust;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use accord_config::NodeConfig;
use accord_protocol::audit::AuditEvent;
use accord_protocol::wire::{
    Ack, AckEntry, AgreementStatus, Head, Push, RangeRequest, RangeResponse, Refusal, RejectCode,
    SyncStatus,
};
use accord_protocol::{
    AgencyId, AgreementId, Message, RecordId, SecretKey, Seq, StreamId, Timestamp,
};
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::NetConfig;
use super::alarms::{Alarm, AlarmKind, Alarms};
use super::behaviour::{Behaviour, BehaviourEvent};
use super::budget::{REFUSAL_BUDGET, RefusalBudget};
use super::codec::Frame;
use super::handle::{Command, NodeEvent, PeersReport, StatusReport};
use super::inbound::{Acked, Done, Finished, Job, Origin, OwnedScreen, truncate};
use super::outbound::{SendJob, Sent, Target};
use super::progress::CatchUps;
use super::redial::Redials;
use super::signing::{Checkpoint, CheckpointJob, Signed};
use crate::policy::may_send;
use crate::store::{Store, StreamHead};

/// What an outbound request was for.
#[derive(Debug)]
pub(crate) enum Pending {
    /// A push of outbox entries to a peer.
    Push {
        peer: AgencyId,
        keys: Vec<crate::store::OutboxEntry>,
        ids: Vec<RecordId>,
    },
    /// A sync status sent to a peer.
    Sync { peer: AgencyId },
    /// A range asked of a peer.
    Range {
        peer: AgencyId,
        agreement: AgreementId,
        stream: StreamId,
        from: Seq,
        to: Seq,
    },
}

pub(crate) struct Actor {
    pub swarm: Swarm<Behaviour>,
    pub cfg: Arc<NodeConfig>,
    /// The configuration the handles read; replaced when an agreement gains a signature.
    pub shared_cfg: super::handle::SharedConfig,
    pub key: Arc<SecretKey>,
    pub store: Arc<Store>,
    pub net: NetConfig,
    pub commands: mpsc::Receiver<Command>,
    pub events: broadcast::Sender<NodeEvent>,
    /// Shared with the receive jobs in flight; replaced (copy on write) when a revocation
    /// arrives.
    pub dir: Arc<crate::directory::Directory>,
    pub peer_ids: BTreeMap<PeerId, AgencyId>,
    pub agency_peers: BTreeMap<AgencyId, PeerId>,
    pub addresses: BTreeMap<AgencyId, Vec<Multiaddr>>,
    connections: BTreeMap<AgencyId, usize>,
    backoff: Redials,
    pending: BTreeMap<OutboundRequestId, Pending>,
    pushing: BTreeSet<AgencyId>,
    /// (agreement, stream) ranges being fetched
    fetching: BTreeSet<(AgreementId, StreamId)>,
    /// When each peer's differing stream digest was last looked into (`digests_differ`).
    digest_checks: BTreeMap<(AgreementId, StreamId, AgencyId), std::time::Instant>,
    /// agreements whose text is confirmed identical with a peer
    confirmed: BTreeSet<(AgreementId, AgencyId)>,
    mismatched: BTreeSet<(AgreementId, AgencyId)>,
    last_catch_up: BTreeMap<AgreementId, Timestamp>,
    /// Agreements under which records were stored since the last announcement: their members
    /// hear the new heads on the next tick (and only they: a partner under another agreement
    /// learns nothing of when records move under this one).
    announce: BTreeSet<AgreementId>,
    /// The last checkpoint slot signed (`Checkpoints::slot_checkpoint`).
    last_slot: Option<u64>,
    /// Checkpoints being signed on the blocking pool ([`CheckpointJob`]).
    signing: std::collections::BTreeSet<Checkpoint>,
    next_sync: Instant,
    listen: Vec<Multiaddr>,
    listen_waiters: Vec<tokio::sync::oneshot::Sender<Vec<Multiaddr>>>,
    /// Finished receive jobs come back here.
    done_tx: mpsc::UnboundedSender<Finished>,
    done_rx: mpsc::UnboundedReceiver<Finished>,
    /// Pushes being verified and stored, by sender.
    receiving: BTreeMap<AgencyId, usize>,
    /// Refusal budgets, by peer (`REFUSAL_BUDGET`).
    refusals: RefusalBudget,
    /// The alarms raised (`alarms`), each logged once.
    alarms: Alarms,
    /// When the agreements' effect and quiet peers are next looked at.
    next_alarm_check: Instant,
    /// Catch-ups running, by agreement (`progress`).
    catch_ups: CatchUps,
    /// Per peer, records delivered since its outbox was last empty (logged when it drains).
    delivered_since_drain: BTreeMap<AgencyId, u64>,
    /// The metrics (`/metrics`).
    metrics: Arc<crate::metrics::Metrics>,
    /// Per peer, the back-off of pushes after failures.
    push_retry: BTreeMap<AgencyId, PushRetry>,
    /// Per peer, own records whose `send` entry to it is durable and whose outcome (a receipt,
    /// a final refusal, a withholding) is not settled yet: a push tried again does not log
    /// them again, so a peer that never acknowledges cannot grow the log per attempt.
    logged_sends: BTreeMap<AgencyId, BTreeSet<RecordId>>,
    /// Connections refused and requests cut off, logged at most once a minute per source.
    tally: super::tally::Tally,
    /// When each member was last dialled early because its address is flooded.
    nudged: BTreeMap<AgencyId, Instant>,
}

/// A member whose address is flooded is dialled early at most this often.
const NUDGE_EVERY: Duration = Duration::from_secs(5);

/// The back-off of pushes to one peer.
#[derive(Debug, Clone, Copy)]
struct PushRetry {
    /// Failed attempts in a row.
    failures: u32,
    /// Not before.
    next: Instant,
}

/// Failed pushes in a row after which the peer is reported (`pushes-failing` alarm).
const PUSH_FAILURES_FOR_ALARM: u32 = 5;

/// How often the agreements' effect and quiet refusal alarms are looked at.
const ALARM_CHECK: Duration = Duration::from_secs(1);

/// How long a peer's differing stream digest is not looked into again (`digests_differ`).
const DIGEST_RECHECK: Duration = Duration::from_secs(600);

/// Pushes a peer may have being verified and stored at once; more are refused as busy
/// (transient: the sender keeps them and tries again), so a flooding member cannot queue
/// unbounded work.
const PUSHES_IN_FLIGHT: usize = 4;

/// Whether the loop goes on.
enum Flow {
    Continue,
    /// Stop, answering the shutdown command (if one asked) once every job has ended.
    Stop(Option<tokio::sync::oneshot::Sender<()>>),
}

impl Actor {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        swarm: Swarm<Behaviour>,
        shared_cfg: super::handle::SharedConfig,
        key: Arc<SecretKey>,
        store: Arc<Store>,
        net: NetConfig,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<NodeEvent>,
        peer_ids: BTreeMap<PeerId, AgencyId>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        let cfg = shared_cfg.get();
        let dir = crate::directory::Directory::load(&cfg, &key, &store).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the revocations held; starting without them");
            crate::directory::Directory::new(&cfg, &key)
        });
        let dir = Arc::new(dir);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let agency_peers = peer_ids.iter().map(|(p, a)| (a.clone(), *p)).collect();
        let backoff = Redials::new(net.redial_min, net.redial_max);
        let addresses = cfg
            .agencies
            .values()
            .map(|a| (a.id.clone(), a.addresses.clone()))
            .collect();
        Self {
            swarm,
            cfg,
            shared_cfg,
            key,
            store,
            net,
            commands,
            events,
            dir,
            peer_ids,
            agency_peers,
            addresses,
            connections: BTreeMap::new(),
            backoff,
            pending: BTreeMap::new(),
            pushing: BTreeSet::new(),
            fetching: BTreeSet::new(),
            digest_checks: BTreeMap::new(),
            confirmed: BTreeSet::new(),
            mismatched: BTreeSet::new(),
            last_catch_up: BTreeMap::new(),
            announce: BTreeSet::new(),
            last_slot: None,
            signing: std::collections::BTreeSet::new(),
            next_sync: Instant::now(),
            listen: Vec::new(),
            listen_waiters: Vec::new(),
            done_tx,
            done_rx,
            receiving: BTreeMap::new(),
            refusals: RefusalBudget::default(),
            alarms: Alarms::default(),
            next_alarm_check: Instant::now(),
            catch_ups: CatchUps::default(),
            delivered_since_drain: BTreeMap::new(),
            metrics,
            push_retry: BTreeMap::new(),
            logged_sends: BTreeMap::new(),
            tally: super::tally::Tally::default(),
            nudged: BTreeMap::new(),
        }
    }

    /// Runs until shutdown.
    pub(super) async fn run(mut self) {
        self.seed_alarms();
        let mut tick = tokio::time::interval(self.net.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let reply = loop {
            if let Flow::Stop(reply) = self.step(&mut tick).await {
                break reply;
            }
        };
        self.wait_for_jobs().await;
        if let Err(e) = self.store.flush() {
            tracing::error!(error = %e, "flush on shutdown failed");
        }
        if let Some(reply) = reply {
            let _ = reply.send(());
        }
    }

    /// Waits until every job on the blocking pool (receive, send and ack checks) has ended:
    /// each holds a sender of `done`, so once the actor drops its own the channel closes when
    /// the last job ends. Their results are dropped: a received push is stored and flushed by
    /// its job but not acknowledged (its sender pushes it again), an encoded push is not sent
    /// (its records stay in the outbox). Nothing then writes to the store after the actor
    /// returns, so a stopped node's data directory can be copied or replaced.
    async fn wait_for_jobs(&mut self) {
        self.done_tx = mpsc::unbounded_channel().0;
        while self.done_rx.recv().await.is_some() {}
    }

    async fn step(&mut self, tick: &mut tokio::time::Interval) -> Flow {
        use libp2p::futures::StreamExt;
        tokio::select! {
            biased;
            cmd = self.commands.recv() => match cmd {
                None => Flow::Stop(None),
                Some(Command::Shutdown(reply)) => Flow::Stop(Some(reply)),
                Some(cmd) => {
                    self.command(cmd);
                    Flow::Continue
                }
            },
            Some(done) = self.done_rx.recv() => {
                match done {
                    Finished::Received(done) => self.finish_receive(done),
                    Finished::Acked(acked) => self.on_ack(acked),
                    Finished::Sent(sent) => self.on_sent(sent),
                    Finished::Signed(signed) => self.on_signed(signed),
                }
                Flow::Continue
            }
            event = self.swarm.select_next_some() => {
                self.swarm_event(event);
                Flow::Continue
            }
            _ = tick.tick() => {
                self.timer();
                Flow::Continue
            }
        }
    }

    fn now(&self) -> Timestamp {
        crate::clock::now()
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Published(agreement) => {
                tracing::debug!(%agreement, "new own record");
                self.push_all();
            }
            Command::Import(envelopes, reply) => {
                let own = self.cfg.agency.clone();
                self.start_receive(&own, envelopes, Box::new(|_| Ok(())), Origin::Import(reply));
            }
            Command::Revoke(signed, by, reply) => {
                let own = self.cfg.agency.clone();
                let result = self
                    .take_revocation(&own, &signed, by.as_deref())
                    .map_err(|e| e.to_string());
                if matches!(result, Ok(true)) {
                    self.sync_all();
                }
                let _ = reply.send(result);
            }
            Command::Sign(agreement, signer, signature, by, reply) => {
                let _ =
                    reply.send(self.take_signature(&agreement, &signer, signature, by.as_deref()));
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.peers_report());
            }
            Command::Status(reply) => {
                let _ = reply.send(self.status_report());
            }
            Command::ListenAddrs(reply) => {
                if self.listen.is_empty() {
                    self.listen_waiters.push(reply);
                } else {
                    let _ = reply.send(self.listen.clone());
                }
            }
            Command::AddAddress(agency, addr) => {
                if self.agency_peers.contains_key(&agency) {
                    let list = self.addresses.entry(agency.clone()).or_default();
                    if !list.contains(&addr) {
                        list.push(addr);
                    }
                    self.resume(&agency);
                } else {
                    tracing::warn!(%agency, "address for an agency this node does not know; ignored");
                }
            }
            Command::Disconnect(agency) => {
                self.backoff.pause(&agency, Instant::now());
                if let Some(peer) = self.agency_peers.get(&agency) {
                    let _ = self.swarm.disconnect_peer_id(*peer);
                }
            }
            Command::Redial(agency) => self.resume(&agency),
            Command::SyncNow => self.sync_all(),
            Command::Shutdown(_) => {}
        }
    }

    fn timer(&mut self) {
        if Instant::now() >= self.next_alarm_check {
            self.check_alarms();
        }
        self.close_budgets();
        self.redial();
        self.push_all();
        let now = Instant::now();
        if now >= self.next_sync {
            self.next_sync = now + self.net.sync_interval;
            self.checkpoint_if_moved();
            self.sync_all();
        } else if !self.announce.is_empty() {
            let moved = std::mem::take(&mut self.announce);
            let peers: Vec<AgencyId> = self
                .connected()
                .into_iter()
                .filter(|p| self.shared_with(p).any(|a| moved.contains(&a.id)))
                .collect();
            for peer in peers {
                self.sync_with(&peer);
            }
        }
        self.slot_if_due();
    }
}

/// The audit entry of a record sent to `to`.
fn send_event(to: &AgencyId, id: RecordId, r: accord_protocol::Record) -> AuditEvent {
    AuditEvent::Send {
        record: id,
        content: Some(accord_protocol::audit::SentContent::of(&r)),
        agreement: r.agreement,
        originator: r.originator,
        to: to.clone(),
    }
}

/// The words of an audit-fork alarm.
fn fork_message(peer: &AgencyId, at: &str) -> String {
    format!(
        "{peer} signed two different heads of its audit log for {at}; both are kept as \
         evidence (partner-forks.txt of an audit export): {peer}'s key may be in use on a second \
         node, or its log was rewritten — tell its focal point"
    )
}

/// Why a revocation was not taken.
#[derive(Debug, thiserror::Error)]
enum TakeRevocation {
    /// It does not verify, or its certificate is unknown.
    #[error(transparent)]
    Invalid(#[from] accord_protocol::delegation::DelegationError),
    /// The store could not keep it.
    #[error("cannot keep the revocation: {0}")]
    Store(#[from] crate::store::StoreError),
}
