//! The one task that owns the libp2p Swarm. `run` loops over `step`, a `select!` with a fixed
//! priority: commands, then swarm events, then the timer that redials, pushes outboxes and
//! exchanges sync status.

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
use super::codec::Frame;
use super::handle::{Command, NodeEvent, PeersReport, StatusReport};
use super::inbound::{Acked, Done, Finished, Job, Origin, OwnedScreen, truncate};
use super::outbound::{SendJob, Sent, Target};
use super::progress::CatchUps;
use super::signing::{Checkpoint, CheckpointJob, Signed};
use crate::policy::may_send;
use crate::store::{Store, StreamHead};

/// What an outbound request was for.
#[derive(Debug)]
pub(crate) enum Pending {
    /// A push of outbox entries (their keys) to a peer.
    Push {
        peer: AgencyId,
        keys: Vec<Vec<u8>>,
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

/// Redial state of one agency.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    next: Instant,
    delay: Duration,
    paused: bool,
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
    backoff: BTreeMap<AgencyId, Backoff>,
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
    /// The last checkpoint slot signed (`Store::slot_checkpoint`).
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
    refusals: std::cell::RefCell<BTreeMap<AgencyId, Refusals>>,
    /// The alarms raised (`alarms`), each logged once.
    alarms: std::cell::RefCell<Alarms>,
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

/// Refusals of a peer's input per second after which its requests are shed: answered `Busy`
/// unread, with one audit entry per second for all of them. An honest member is refused
/// rarely; a member sending junk costs us little more than reading the frame header.
const REFUSAL_BUDGET: u32 = 32;

/// A peer's refusals in the current one-second window.
#[derive(Debug, Default)]
struct Refusals {
    since: Option<Instant>,
    count: u32,
    /// Requests shed in this window.
    shed: u64,
}

impl Refusals {
    /// Starts a new window if the current one is a second old (or none is open); returns the
    /// requests the closed window shed.
    fn roll(&mut self, now: Instant) -> u64 {
        if self
            .since
            .is_some_and(|s| now.duration_since(s) < Duration::from_secs(1))
        {
            return 0;
        }
        let shed = self.shed;
        *self = Refusals {
            since: Some(now),
            ..Refusals::default()
        };
        shed
    }
}

impl Backoff {
    /// Dial now; after a failure wait `min`, doubling.
    fn fresh(min: Duration) -> Self {
        Self {
            next: Instant::now(),
            delay: min,
            paused: false,
        }
    }
}

/// Whether the loop goes on.
enum Flow {
    Continue,
    /// Stop, answering the shutdown command (if one asked) once every job has ended.
    Stop(Option<tokio::sync::oneshot::Sender<()>>),
}

impl Actor {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
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
            backoff: BTreeMap::new(),
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
            refusals: std::cell::RefCell::new(BTreeMap::new()),
            alarms: std::cell::RefCell::new(Alarms::default()),
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
    pub async fn run(mut self) {
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

    /// Publishes an event whose audit entry the caller writes with the change it records; a
    /// refusal still counts against the sender's refusal budget.
    fn emit_unlogged(&self, e: NodeEvent) {
        self.observe(&e);
        if let NodeEvent::Rejected { from, .. } = &e
            && *from != self.cfg.agency
        {
            self.budget(from, |r| r.count = r.count.saturating_add(1));
        }
        let _ = self.events.send(e);
    }

    /// Publishes an event; refusals are also written to the audit log, and count against the
    /// sender's refusal budget.
    fn emit(&self, e: NodeEvent) {
        self.observe(&e);
        if let NodeEvent::Rejected { from, code, detail } = &e {
            if *from != self.cfg.agency {
                self.budget(from, |r| r.count = r.count.saturating_add(1));
            }
            let event = AuditEvent::Reject {
                from: from.clone(),
                code: *code,
                reason: detail.clone(),
            };
            if let Err(err) = self.store.audit(self.now(), vec![event]) {
                tracing::error!(error = %err, "cannot write the audit log");
            }
        }
        let _ = self.events.send(e);
    }

    /// Raises the alarms an event is evidence of (refusals counted per peer, an equivocation
    /// per originator), each logged and evented once.
    fn observe(&self, e: &NodeEvent) {
        self.metrics.event(e);
        let (now, at) = (self.now(), std::time::Instant::now());
        let busy = RejectCode::Busy.code();
        let raised = match e {
            NodeEvent::Rejected { from, code, detail }
                if *from != self.cfg.agency && *code != busy =>
            {
                self.alarms.borrow_mut().refusal(
                    AlarmKind::PeerRefused,
                    from,
                    &format!("code {code}, {detail}"),
                    at,
                    now,
                )
            }
            NodeEvent::RefusedByPeer { peer, code, detail }
                if !matches!(
                    RejectCode::from_code(*code),
                    RejectCode::Busy
                        | RejectCode::AgreementMismatch
                        | RejectCode::AgreementNotSigned
                ) =>
            {
                self.alarms.borrow_mut().refusal(
                    AlarmKind::RefusedByPeer,
                    peer,
                    &format!("code {code}, {detail}"),
                    at,
                    now,
                )
            }
            NodeEvent::Equivocation {
                originator,
                id,
                existing,
                from,
            } => self.alarms.borrow_mut().raise(
                AlarmKind::Equivocation,
                originator.as_str(),
                format!(
                    "{originator} signed two different records for one sequence number \
                     (record {id} from {from} claims the place of {existing}); both are kept as \
                     evidence and the second is never delivered: {originator}'s key may be in \
                     use on two nodes, or stolen — tell its focal point"
                ),
                now,
            ),
            _ => None,
        };
        self.alarm(raised);
    }

    /// Counts and publishes a `Sent` event.
    fn observe_sent(&self, e: NodeEvent) {
        self.metrics.event(&e);
        let _ = self.events.send(e);
    }

    /// Events a newly raised alarm.
    fn alarm(&self, raised: Option<Alarm>) {
        if let Some(a) = raised {
            let _ = self.events.send(NodeEvent::Alarm(a));
        }
    }

    /// The alarms whose evidence the store keeps (audit forks, equivocations), raised again at
    /// start so they outlive a restart, and the agreements not in effect.
    fn seed_alarms(&mut self) {
        let now = self.now();
        match self.store.checkpoint_forks() {
            Ok(forks) => {
                for signed in forks {
                    if let Some(f) = super::handle::Fork::of(&signed) {
                        let at = f.at();
                        let raised = self.alarms.borrow_mut().raise(
                            AlarmKind::AuditFork,
                            f.agency.as_str(),
                            fork_message(&f.agency, &at),
                            now,
                        );
                        self.alarm(raised);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the audit fork evidence"),
        }
        match self.store.equivocation_pairs() {
            Ok(pairs) => {
                for (offered, held) in pairs {
                    let originator = self
                        .store
                        .get(&held)
                        .ok()
                        .flatten()
                        .map(|r| r.record.originator);
                    if let Some(originator) = originator {
                        let raised = self.alarms.borrow_mut().raise(
                            AlarmKind::Equivocation,
                            originator.as_str(),
                            format!(
                                "{originator} signed two different records for one sequence \
                                 number (record {offered} claims the place of {held}); both are \
                                 kept as evidence: tell {originator}'s focal point"
                            ),
                            now,
                        );
                        self.alarm(raised);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the equivocation evidence"),
        }
        self.check_alarms();
        for a in self.cfg.agreements.values() {
            if super::alarms::not_in_effect(a, now).is_none() {
                tracing::info!(agreement = %a.id, members = a.members.len(), "agreement {} is in effect", a.id);
            }
        }
    }

    /// Raises or clears the agreements' not-in-effect alarms, and clears the refusal alarms of
    /// peers that have been quiet for a while.
    fn check_alarms(&mut self) {
        self.next_alarm_check = Instant::now() + ALARM_CHECK;
        let changes = self.alarms.borrow_mut().agreements(&self.cfg, self.now());
        for change in changes {
            if let super::alarms::Change::Raised(a) = change {
                self.alarm(Some(a));
            }
        }
        self.alarms.borrow_mut().quiet(std::time::Instant::now());
        self.tally.flush(std::time::Instant::now());
    }

    /// Applies `f` to `peer`'s refusals in the current window, first closing a window older
    /// than a second (with one audit entry for the requests it shed). Returns whether the peer
    /// is over its budget.
    fn budget(&self, peer: &AgencyId, f: impl FnOnce(&mut Refusals)) -> bool {
        let (closed, over) = {
            let mut all = self.refusals.borrow_mut();
            let r = all.entry(peer.clone()).or_default();
            let closed = r.roll(Instant::now());
            f(r);
            (closed, r.count >= REFUSAL_BUDGET)
        };
        if closed > 0 {
            self.shed_entry(peer, closed);
        }
        over
    }

    fn shed_entry(&self, peer: &AgencyId, shed: u64) {
        tracing::warn!(%peer, shed, "requests shed: over the refusal budget");
        let reason = format!(
            "{shed} requests answered busy unread: more than {REFUSAL_BUDGET} refusals of this \
             peer's input within a second"
        );
        let event = AuditEvent::Reject {
            from: peer.clone(),
            code: RejectCode::Busy.code(),
            reason: reason.clone(),
        };
        if let Err(err) = self.store.audit(self.now(), vec![event]) {
            tracing::error!(error = %err, "cannot write the audit log");
        }
        let _ = self
            .events
            .send(NodeEvent::rejected(peer, RejectCode::Busy, reason));
    }

    /// Writes the entries of windows that closed with requests shed and no request since.
    fn close_budgets(&self) {
        let now = Instant::now();
        let closed: Vec<(AgencyId, u64)> = self
            .refusals
            .borrow_mut()
            .iter_mut()
            .map(|(p, r)| (p.clone(), r.roll(now)))
            .filter(|(_, shed)| *shed > 0)
            .collect();
        for (peer, shed) in closed {
            self.shed_entry(&peer, shed);
        }
    }

    /// Signs the audit log's head when it moved since the last checkpoint, on the blocking
    /// pool ([`CheckpointJob`]); one at a time.
    fn checkpoint_if_moved(&mut self) {
        if !self.signing.contains(&Checkpoint::HeadIfMoved) {
            self.sign(Checkpoint::HeadIfMoved);
        }
    }

    fn sign(&mut self, which: Checkpoint) {
        self.signing.insert(which);
        CheckpointJob {
            store: self.store.clone(),
            key: self.key.clone(),
            now: self.now(),
            which,
        }
        .spawn(self.done_tx.clone());
    }

    /// A [`CheckpointJob`] is done: a new slot's checkpoint goes to the partners at once.
    fn on_signed(&mut self, signed: Signed) {
        self.signing.remove(&signed.which);
        match (signed.which, signed.result) {
            (Checkpoint::HeadIfMoved, Err(e)) => {
                tracing::error!(error = %e, "cannot sign an audit checkpoint");
            }
            (Checkpoint::Slot(_), Err(e)) => {
                tracing::error!(error = %e, "cannot sign a slot checkpoint");
            }
            (Checkpoint::HeadIfMoved, Ok(())) => {}
            (Checkpoint::Slot(slot), Ok(())) => {
                self.last_slot = Some(slot);
                self.sync_all();
            }
        }
    }

    /// Sends `message` once its `send` entries are durable: a [`SendJob`] writes and flushes
    /// them on the blocking pool and hands the frame back ([`Actor::on_sent`]), so no record
    /// leaves the node before the entry that says it was sent, and the actor does not wait
    /// for the disk.
    fn send_durably(&self, sends: Vec<AuditEvent>, message: Message, target: Target) {
        SendJob {
            store: self.store.clone(),
            now: self.now(),
            sends,
            message,
            target,
        }
        .spawn(self.done_tx.clone());
    }

    /// A [`SendJob`] is done: the frame leaves now, or, when its entries could not be made
    /// durable, nothing leaves (a push is tried again later; a range answer is refused as
    /// busy, and the peer asks again).
    fn on_sent(&mut self, sent: Sent) {
        let records = sent.records;
        match (sent.target, sent.frame) {
            (Target::Request { peer, pending }, Ok(frame)) => {
                if matches!(pending, Pending::Push { .. }) {
                    self.logged_sends
                        .entry(peer.clone())
                        .or_default()
                        .extend(records.iter().copied());
                }
                let bytes = frame.bytes.len();
                self.send_frame(&peer, frame, pending);
                self.observe_sent(NodeEvent::Sent {
                    to: peer,
                    records,
                    bytes,
                });
            }
            (Target::Request { peer, pending }, Err(e)) => {
                tracing::error!(to = %peer, error = %e, "not sent: its send entries are not durable");
                self.clear(pending);
            }
            (Target::Response { to, channel }, Ok(frame)) => {
                let bytes = frame.bytes.len();
                if self
                    .swarm
                    .behaviour_mut()
                    .rr
                    .send_response(channel, frame)
                    .is_err()
                {
                    tracing::debug!(%to, "response not sent: the stream closed");
                }
                self.observe_sent(NodeEvent::Sent { to, records, bytes });
            }
            (Target::Response { to, channel }, Err(e)) => {
                tracing::error!(%to, error = %e, "range answer not sent: its send entries are not durable");
                let reply = Message::Refused(Refusal {
                    code: RejectCode::Busy,
                    detail: truncate(format!("store: {e}")),
                });
                self.respond(channel, &reply, &to);
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
                self.backoff.insert(
                    agency.clone(),
                    Backoff {
                        next: Instant::now(),
                        delay: self.net.redial_min,
                        paused: true,
                    },
                );
                if let Some(peer) = self.agency_peers.get(&agency) {
                    let _ = self.swarm.disconnect_peer_id(*peer);
                }
            }
            Command::Redial(agency) => self.resume(&agency),
            Command::SyncNow => self.sync_all(),
            Command::Shutdown(_) => {}
        }
    }

    fn resume(&mut self, agency: &AgencyId) {
        self.backoff
            .insert(agency.clone(), Backoff::fresh(self.net.redial_min));
        self.redial();
    }

    /// The agencies with at least one open connection.
    fn connected(&self) -> Vec<AgencyId> {
        self.connections
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(a, _)| a.clone())
            .collect()
    }

    fn is_connected(&self, agency: &AgencyId) -> bool {
        self.connections.get(agency).copied().unwrap_or(0) > 0
    }

    /// Agreements this node shares with `agency`.
    fn shared_with<'a>(
        &'a self,
        agency: &'a AgencyId,
    ) -> impl Iterator<Item = &'a accord_config::Agreement> + 'a {
        self.cfg
            .agreements
            .values()
            .filter(move |a| a.is_member(agency) && a.is_member(&self.cfg.agency))
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

    /// At the start of each checkpoint slot: a `slot` entry and a slot checkpoint naming it,
    /// which the partners then receive (at once, and in every sync status until the next
    /// slot). What they witness so moves once a slot, whatever the log did.
    fn slot_if_due(&mut self) {
        let len = self.net.checkpoint_slot.as_secs().max(1);
        let now = self.now();
        let slot = u64::try_from(now.unix()).unwrap_or(0) / len;
        if self.last_slot.is_none() {
            self.last_slot = self
                .store
                .latest_slot_checkpoint()
                .ok()
                .flatten()
                .and_then(|s| {
                    serde_json::from_slice::<accord_protocol::audit::SlotCheckpoint>(&s.bytes).ok()
                })
                .map(|c| c.slot);
        }
        if self.last_slot.is_some_and(|l| l >= slot)
            || self
                .signing
                .iter()
                .any(|c| matches!(c, Checkpoint::Slot(_)))
        {
            return;
        }
        self.sign(Checkpoint::Slot(slot));
    }

    /// Connections from `from`'s IP address are being refused before their handshake (too
    /// many attempts: someone floods from it). A member that may be behind that address — one
    /// whose listen address is there — cannot get in that way while it lasts, so it is dialled
    /// now instead of at its next redial: an outgoing connection is never bounded by the flood.
    fn redial_members_at(&mut self, from: &Multiaddr) {
        let ip = |a: &Multiaddr| {
            a.iter().find_map(|p| match p {
                libp2p::multiaddr::Protocol::Ip4(ip) => Some(std::net::IpAddr::V4(ip)),
                libp2p::multiaddr::Protocol::Ip6(ip) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            })
        };
        let Some(flooded) = ip(from) else {
            return;
        };
        let now = Instant::now();
        let behind: Vec<AgencyId> = self
            .addresses
            .iter()
            .filter(|(agency, addrs)| {
                !self.is_connected(agency) && addrs.iter().any(|a| ip(a) == Some(flooded))
            })
            .map(|(agency, _)| agency.clone())
            .collect();
        for agency in behind {
            if self
                .nudged
                .get(&agency)
                .is_some_and(|t| now < *t + NUDGE_EVERY)
            {
                continue;
            }
            if let Some(b) = self.backoff.get_mut(&agency)
                && !b.paused
                && b.next > now
            {
                self.nudged.insert(agency.clone(), now);
                tracing::debug!(%agency, %flooded, "its address is flooded: dialling it now");
                b.next = now;
            }
        }
    }

    fn redial(&mut self) {
        let now = Instant::now();
        let agencies: Vec<AgencyId> = self.agency_peers.keys().cloned().collect();
        for agency in agencies {
            if self.is_connected(&agency) || self.shared_with(&agency).next().is_none() {
                continue;
            }
            let b = *self.backoff.entry(agency.clone()).or_insert(Backoff {
                next: now,
                delay: self.net.redial_min,
                paused: false,
            });
            if b.paused || now < b.next {
                continue;
            }
            let (Some(peer), Some(addrs)) = (
                self.agency_peers.get(&agency).copied(),
                self.addresses.get(&agency).cloned(),
            ) else {
                continue;
            };
            if addrs.is_empty() {
                continue;
            }
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(libp2p::swarm::dial_opts::PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%agency, error = %e, "dial not started");
            }
            let delay = (b.delay * 2).min(self.net.redial_max);
            self.backoff.insert(
                agency,
                Backoff {
                    next: now + b.delay,
                    delay,
                    paused: false,
                },
            );
        }
    }

    fn send(&mut self, agency: &AgencyId, msg: &Message, pending: Pending) {
        match msg.encode() {
            Ok(bytes) => self.send_frame(agency, Frame::new(bytes), pending),
            Err(e) => {
                tracing::error!(to = %agency, error = %e, "cannot encode a message");
                self.clear(pending);
            }
        }
    }

    fn send_frame(&mut self, agency: &AgencyId, frame: Frame, pending: Pending) {
        let Some(peer) = self.agency_peers.get(agency).copied() else {
            self.clear(pending);
            return;
        };
        let id = self.swarm.behaviour_mut().rr.send_request(&peer, frame);
        self.pending.insert(id, pending);
    }

    fn respond(&mut self, channel: ResponseChannel<Frame>, msg: &Message, to: &AgencyId) {
        let bytes = match msg.encode() {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(%to, error = %e, "cannot encode a response");
                return;
            }
        };
        if self
            .swarm
            .behaviour_mut()
            .rr
            .send_response(channel, Frame::new(bytes))
            .is_err()
        {
            tracing::debug!(%to, "response not sent: the stream closed");
        }
    }

    // ---- delivery: the outbox -------------------------------------------------------------

    fn push_all(&mut self) {
        let peers = self.connected();
        for peer in peers {
            self.push(&peer);
        }
    }

    /// Sends the next batch of `peer`'s outbox, if none is in flight. Every record is checked
    /// with `may_send` first (invariant 1), and only under agreements whose text is confirmed
    /// identical with the peer.
    fn push(&mut self, peer: &AgencyId) {
        if self.pushing.contains(peer)
            || self
                .push_retry
                .get(peer)
                .is_some_and(|r| Instant::now() < r.next)
        {
            return;
        }
        // agreements not confirmed with the peer, or not signed by every member, wait
        let hold = |a: &AgreementId| {
            !self.confirmed.contains(&(a.clone(), peer.clone()))
                || self
                    .cfg
                    .agreements
                    .get(a)
                    .is_some_and(|x| !x.fully_signed())
        };
        let batch = match self.store.outbox(peer, self.net.push_batch, hold) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                return;
            }
        };
        if batch.is_empty()
            && let Some(n) = self.delivered_since_drain.remove(peer).filter(|n| *n > 0)
        {
            tracing::info!(%peer, delivered = n, "outbox to {peer} drained: {n} record(s) delivered");
        }
        let now = self.now();
        let (mut keys, mut ids, mut records, mut dropped) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut withheld, mut sends) = (Vec::new(), Vec::new());
        let mut bytes = 0;
        for (key, env) in batch {
            // a batch stays within both bounds (a single record larger than the byte bound
            // still goes, alone: the wire's own limit is far above any envelope)
            if records.len() >= self.net.push_batch
                || (!records.is_empty() && bytes + env.encoded_len() > self.net.push_bytes)
            {
                break;
            }
            let mut withhold = |key, reason: String| {
                tracing::warn!(to = %peer, id = %env.id(), %reason, "not sending an outbox record; dropped from the outbox");
                withheld.push(AuditEvent::Withheld {
                    record: env.id(),
                    to: peer.clone(),
                    code: 0,
                    reason,
                });
                dropped.push(key);
            };
            let record = match accord_protocol::canonical::parse_record_json(env.record_bytes()) {
                Ok(r) => r,
                Err(e) => {
                    withhold(key, format!("its record does not decode: {e}"));
                    continue;
                }
            };
            // (entries of agreements not confirmed with the peer or not yet signed by every
            // member were passed over by `hold`)
            let Some(agreement) = self.cfg.agreements.get(&record.agreement) else {
                withhold(
                    key,
                    format!(
                        "agreement {} is no longer in this node's configuration",
                        record.agreement
                    ),
                );
                continue;
            };
            if let Some(reason) = may_send(&record, agreement, peer, now).reason() {
                withhold(key, reason.to_string());
                continue;
            }
            bytes += env.encoded_len();
            // a record pushed before and still unsettled has its `send` entry already
            if !self
                .logged_sends
                .get(peer)
                .is_some_and(|s| s.contains(&env.id()))
            {
                sends.push(send_event(peer, env.id(), record));
            }
            ids.push(env.id());
            keys.push(key);
            records.push(env);
        }
        if let Some(logged) = self.logged_sends.get_mut(peer) {
            for w in &withheld {
                if let AuditEvent::Withheld { record, .. } = w {
                    logged.remove(record);
                }
            }
        }
        // the withheld entries leave the outbox in the batch that logs them
        if let Err(e) = self
            .store
            .settle_outbox(now, &dropped, Vec::new(), withheld)
        {
            tracing::error!(error = %e, "cannot update the outbox and its audit entries");
        }
        if records.is_empty() {
            return;
        }
        tracing::debug!(to = %peer, records = records.len(), "push");
        self.pushing.insert(peer.clone());
        self.send_durably(
            sends,
            Message::Push(Push { records }),
            Target::Request {
                peer: peer.clone(),
                pending: Pending::Push {
                    peer: peer.clone(),
                    keys,
                    ids,
                },
            },
        );
    }

    /// A peer acknowledged our push and its receipts are checked ([`Acked::check`]).
    fn on_ack(&mut self, acked: Acked) {
        let Acked {
            peer,
            keys,
            ids,
            results,
            receipts,
        } = acked;
        self.pushing.remove(&peer);
        if results.len() != ids.len() {
            tracing::warn!(%peer, "ack does not match the push; will retry");
            self.push_failed(&peer, "its acknowledgement did not match the push");
            return;
        }
        let (mut done, mut delivered, mut refused) = (Vec::new(), Vec::new(), Vec::new());
        let mut retry_later = false;
        let mut clock_checked = false;
        for ((key, id), entry) in keys.into_iter().zip(ids).zip(results) {
            match entry {
                AckEntry::Stored(got) | AckEntry::Duplicate(got) if got == id => {
                    // a receipt counts only for the agreement the record was sent under (the
                    // outbox key names it), so a peer cannot have the delivery logged under
                    // another
                    let sent_under = crate::store::outbox_key_agreement(&peer, &key);
                    match receipts
                        .get(&id)
                        .filter(|(_, agreement)| sent_under.as_ref() == Some(agreement))
                    {
                        Some((receipt, agreement)) => {
                            if !clock_checked {
                                clock_checked = true;
                                self.check_clock(&peer, &receipt.bytes);
                            }
                            let event = AuditEvent::Delivered {
                                record: id,
                                agreement: agreement.clone(),
                                to: peer.clone(),
                                receipt: accord_protocol::audit::sha256(&receipt.bytes),
                            };
                            delivered.push(crate::store::Delivery {
                                outbox_key: Some(key),
                                record: id,
                                receiver: peer.clone(),
                                receipt: receipt.clone(),
                                event,
                            });
                            self.emit(NodeEvent::Delivered {
                                id,
                                to: peer.clone(),
                            });
                        }
                        None => {
                            tracing::warn!(%peer, %id, "acknowledged without a valid signed receipt");
                            let detail = format!(
                                "ack of {id} without a valid signed receipt for its agreement"
                            );
                            // its `reject` entry goes in the batch that clears the outbox entry
                            refused.push(AuditEvent::Reject {
                                from: peer.clone(),
                                code: RejectCode::BadSignature.code(),
                                reason: detail.clone(),
                            });
                            self.emit_unlogged(NodeEvent::rejected(
                                &peer,
                                RejectCode::BadSignature,
                                detail,
                            ));
                            done.push(key);
                        }
                    }
                }
                AckEntry::Stored(_) | AckEntry::Duplicate(_) => {
                    tracing::warn!(%peer, %id, "ack names another record; will retry");
                }
                AckEntry::Rejected { code, detail } => {
                    let detail_for_audit = detail.clone();
                    let transient = matches!(
                        code,
                        RejectCode::Busy
                            | RejectCode::AgreementMismatch
                            | RejectCode::AgreementNotSigned
                    );
                    retry_later |= transient;
                    tracing::warn!(%peer, %id, code = code.code(), %detail, transient, "peer refused our record");
                    self.emit(NodeEvent::RefusedByPeer {
                        peer: peer.clone(),
                        code: code.code(),
                        detail,
                    });
                    if !transient {
                        refused.push(AuditEvent::Withheld {
                            record: id,
                            to: peer.clone(),
                            code: code.code(),
                            reason: detail_for_audit.clone(),
                        });
                        done.push(key);
                    }
                }
            }
        }
        *self.delivered_since_drain.entry(peer.clone()).or_default() += delivered.len() as u64;
        if let Some(logged) = self.logged_sends.get_mut(&peer) {
            for d in &delivered {
                logged.remove(&d.record);
            }
            for r in &refused {
                if let AuditEvent::Withheld { record, .. } = r {
                    logged.remove(record);
                }
            }
        }
        if !delivered.is_empty() || !done.is_empty() {
            self.push_succeeded(&peer);
        } else if retry_later {
            self.push_failed(&peer, "it refused the records for now (busy)");
        } else {
            self.push_failed(&peer, "its acknowledgement settled none of the records");
        }
        // receipts, refusals and the outbox entries they settle: one batch
        if let Err(e) = self
            .store
            .settle_outbox(self.now(), &done, delivered, refused)
        {
            tracing::error!(error = %e, "cannot record deliveries and refusals");
        }
        if !retry_later {
            // a transient refusal waits for the next tick instead of being resent at once
            self.push(&peer);
        }
    }

    /// A push to `peer` failed: the next waits longer (doubling from `push_retry_min` up to
    /// `push_retry_max`, with jitter so retries of many peers do not fall together), the
    /// failure is counted, and after [`PUSH_FAILURES_FOR_ALARM`] in a row the peer is
    /// reported by an alarm.
    fn push_failed(&mut self, peer: &AgencyId, why: &str) {
        let r = self.push_retry.entry(peer.clone()).or_insert(PushRetry {
            failures: 0,
            next: Instant::now(),
        });
        r.failures = r.failures.saturating_add(1);
        let base = self
            .net
            .push_retry_min
            .saturating_mul(1u32 << (r.failures - 1).min(16))
            .min(self.net.push_retry_max);
        // jitter: between half and one and a half of the base
        let jitter = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
        let wait = base.mul_f64(0.5 + jitter);
        r.next = Instant::now() + wait;
        let failures = r.failures;
        self.metrics.push_failed(peer);
        tracing::debug!(%peer, failures, ?wait, why, "push failed; trying again later");
        if failures >= PUSH_FAILURES_FOR_ALARM {
            let raised = self.alarms.borrow_mut().raise(
                AlarmKind::PushesFailing,
                peer.as_str(),
                format!(
                    "{peer} has not acknowledged {failures} pushes in a row (last: {why}); its \
                     records wait in the outbox and are tried again at longer intervals (next \
                     in {:.0} s)",
                    wait.as_secs_f64()
                ),
                self.now(),
            );
            self.alarm(raised);
        }
    }

    /// A push to `peer` settled records: its back-off ends, and so does its alarm.
    fn push_succeeded(&mut self, peer: &AgencyId) {
        if self.push_retry.remove(peer).is_some() {
            self.alarms
                .borrow_mut()
                .clear(AlarmKind::PushesFailing, peer.as_str());
        }
    }

    /// A receipt's signed `received_at` against our clock: a peer whose clock differs by more
    /// than a couple of minutes raises a clock-skew alarm (cleared by a later receipt in time).
    fn check_clock(&self, peer: &AgencyId, receipt: &[u8]) {
        let Ok(r) = serde_json::from_slice::<accord_protocol::audit::Receipt>(receipt) else {
            return;
        };
        let change = self
            .alarms
            .borrow_mut()
            .peer_time(peer, r.received_at, self.now());
        if let Some(super::alarms::Change::Raised(a)) = change {
            self.alarm(Some(a));
        }
    }

    // ---- catch-up: sync status and ranges ---------------------------------------------------

    /// The heads announced under `a`: every member's own stream (0 when none is held), and
    /// every delegated stream held.
    fn heads_for(
        &self,
        a: &accord_config::Agreement,
    ) -> Result<Vec<Head>, crate::store::StoreError> {
        let mut heads: BTreeMap<StreamId, StreamHead> = self
            .store
            .stream_heads(&a.id)?
            .into_iter()
            .filter(|(s, _)| a.is_member(s.agency_id()))
            .collect();
        for m in &a.members {
            heads.entry(StreamId::agency(m)).or_default();
        }
        Ok(heads
            .into_iter()
            .map(|(stream, h)| Head {
                stream,
                seq: h.seq,
                digest: h.digest,
            })
            .collect())
    }

    fn status_for(&self, peer: &AgencyId) -> SyncStatus {
        let mut agreements = Vec::new();
        for a in self.shared_with(peer) {
            // heads and digests describe the records held under the agreement: they go only to
            // a peer whose text of it is confirmed identical, once every member has signed it;
            // before that the status carries the text's hash and the signatures alone
            let heads =
                if self.confirmed.contains(&(a.id.clone(), peer.clone())) && a.fully_signed() {
                    match self.heads_for(a) {
                        Ok(h) => h,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot read heads");
                            continue;
                        }
                    }
                } else {
                    Vec::new()
                };
            agreements.push(AgreementStatus {
                agreement: a.id.clone(),
                agreement_hash: a.hash,
                heads,
                signatures: a.signatures.iter().map(|(m, s)| (m.clone(), *s)).collect(),
            });
        }
        // the revocations of agencies this peer shares an agreement with
        let revocations = self
            .dir
            .revocations()
            .filter(|(agency, _)| self.shared_with(peer).any(|a| a.is_member(agency)))
            .map(|(_, s)| s.clone())
            .collect();
        // a partner is given the slot checkpoint, which moves once a slot whatever the log
        // did; an agency this node shares no agreement with learns nothing of the log at all
        let checkpoint = if agreements.is_empty() {
            None
        } else {
            self.store.latest_slot_checkpoint().ok().flatten()
        };
        SyncStatus {
            agreements,
            checkpoint,
            revocations,
        }
    }

    fn sync_all(&mut self) {
        let peers = self.connected();
        for peer in peers {
            self.sync_with(&peer);
        }
    }

    fn sync_with(&mut self, peer: &AgencyId) {
        let status = self.status_for(peer);
        if status.agreements.is_empty() {
            return;
        }
        self.send(
            peer,
            &Message::SyncStatus(status),
            Pending::Sync { peer: peer.clone() },
        );
    }

    /// Compares a peer's status with ours: confirms or flags each agreement's text, and asks for
    /// what the peer holds beyond our heads.
    fn on_status(&mut self, peer: &AgencyId, status: SyncStatus) {
        // checkpoints are kept from, and given to, agreement partners only
        let partner = self.shared_with(peer).next().is_some();
        // a counted checkpoint (a node from before slot checkpoints) is not kept: it is not
        // what partners witness any more (docs/protocol.md §6, SyncStatus)
        let counted = |s: &accord_protocol::audit::Signed| {
            serde_json::from_slice::<accord_protocol::audit::Checkpoint>(&s.bytes).is_ok()
        };
        if let Some(signed) = status
            .checkpoint
            .as_ref()
            .filter(|s| partner && !counted(s))
        {
            let key = self.dir.get(peer).copied();
            match accord_protocol::audit::verify_slot_checkpoint(signed, |a| {
                if a == peer { key } else { None }
            }) {
                Ok(c) => match self.store.keep_partner_slot_checkpoint(&c, signed) {
                    Ok(crate::store::Kept::Forked { .. }) => {
                        let raised = self.alarms.borrow_mut().raise(
                            AlarmKind::AuditFork,
                            peer.as_str(),
                            fork_message(peer, &format!("slot {}", c.slot)),
                            self.now(),
                        );
                        self.alarm(raised);
                        self.emit(NodeEvent::rejected(
                            peer,
                            RejectCode::Equivocation,
                            format!("slot checkpoint {} contradicts the one held", c.slot),
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "cannot keep a partner's checkpoint"),
                },
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "refused a partner's audit checkpoint");
                    self.emit(NodeEvent::rejected(
                        peer,
                        RejectCode::BadSignature,
                        format!("audit checkpoint: {e}"),
                    ));
                }
            }
        }
        let mut revoked_any = false;
        for signed in &status.revocations {
            match self.take_revocation(peer, signed, None) {
                Ok(new) => revoked_any |= new,
                Err(TakeRevocation::Store(e)) => {
                    tracing::error!(%peer, error = %e, "cannot keep a revocation");
                }
                Err(TakeRevocation::Invalid(e)) => {
                    tracing::warn!(%peer, error = %e, "refused a revocation");
                    self.emit(NodeEvent::rejected(
                        peer,
                        RejectCode::BadSignature,
                        format!("revocation: {e}"),
                    ));
                }
            }
        }
        let mut behind = false;
        let mut newly_confirmed = false;
        let mut new_signatures = Vec::new();
        let cfg = self.cfg.clone();
        for st in status.agreements {
            let Some(a) = cfg.agreements.get(&st.agreement) else {
                continue;
            };
            if !a.is_member(peer) || !a.is_member(&self.cfg.agency) {
                tracing::warn!(%peer, agreement = %st.agreement, "sync status for an agreement the peer does not share with us; ignored");
                continue;
            }
            let pair = (a.id.clone(), peer.clone());
            if st.agreement_hash != a.hash {
                if self.mismatched.insert(pair.clone()) {
                    let raised = self.alarms.borrow_mut().raise(
                        AlarmKind::AgreementMismatch,
                        format!("{}/{peer}", a.id),
                        format!(
                            "{peer} holds a different text of {} (its sha-256 {}, ours {}): \
                             nothing is shared under it with {peer} until the members install \
                             the same signed file",
                            a.id,
                            hex::encode(st.agreement_hash),
                            a.hash_hex()
                        ),
                        self.now(),
                    );
                    self.alarm(raised);
                    self.emit(NodeEvent::AgreementMismatch {
                        agreement: a.id.clone(),
                        peer: peer.clone(),
                    });
                }
                self.confirmed.remove(&pair);
                continue;
            }
            if self.mismatched.remove(&pair) {
                self.alarms
                    .borrow_mut()
                    .clear(AlarmKind::AgreementMismatch, &format!("{}/{peer}", a.id));
            }
            newly_confirmed |= self.confirmed.insert(pair);
            for (signer, sig) in &st.signatures {
                if a.is_member(signer) && !a.signatures.contains_key(signer) {
                    new_signatures.push((a.id.clone(), signer.clone(), *sig));
                }
            }
            if !a.fully_signed() {
                continue; // nothing moves under it until every member has signed
            }
            if st.heads.is_empty() {
                // the peer has not confirmed our text yet, so it gave no heads (a status with
                // heads names every member's stream): not caught up with it; its next status
                // will say
                behind = true;
                continue;
            }
            let ours = self.store.stream_heads(&a.id).unwrap_or_default();
            self.heard_after_restore(&a.id, peer, &st.heads, &ours);
            let mut behind_here = false;
            let mut missing = 0u64;
            for theirs in st.heads {
                if !a.is_member(theirs.stream.agency_id()) {
                    continue;
                }
                let mine = ours.get(&theirs.stream).copied().unwrap_or_default();
                if theirs.seq > mine.seq {
                    behind_here = true;
                    missing += theirs.seq - mine.seq;
                    self.fetch(peer, &a.id, &theirs.stream, mine.seq + 1, theirs.seq);
                } else if theirs.seq == mine.seq
                    && theirs.has_digest()
                    && mine.digest != [0; 32]
                    && theirs.digest != mine.digest
                {
                    self.digests_differ(peer, &a.id, &theirs.stream, mine.seq);
                }
            }
            if behind_here {
                behind = true;
                self.catch_ups
                    .begin(&a.id, peer, missing, Instant::now().into_std());
            } else {
                // this peer holds nothing under the agreement that we lack
                self.last_catch_up.insert(a.id.clone(), self.now());
                if !self.fetching.iter().any(|(id, _)| *id == a.id) {
                    self.catch_ups.end(&a.id, Instant::now().into_std());
                }
            }
        }
        if self.collect_signatures(peer, new_signatures, None) || revoked_any {
            // the peers still lacking them learn them now; agreements that took effect start
            self.sync_all();
        } else if newly_confirmed {
            // the peer learns our heads, which it could not have before we confirmed its text
            self.sync_with(peer);
        }
        if !behind {
            self.emit(NodeEvent::CaughtUp { peer: peer.clone() });
        }
        // our side may have records the peer lacks: the push of our outbox goes now
        self.push(peer);
    }

    /// After a restore from an older backup, own publishing under an agreement waits until
    /// each member's status shows that it holds nothing of our own stream beyond what we hold
    /// (`Store::restore_waiting`); this notes a member whose status shows that.
    fn heard_after_restore(
        &self,
        agreement: &AgreementId,
        peer: &AgencyId,
        theirs: &[accord_protocol::wire::Head],
        ours: &std::collections::BTreeMap<StreamId, crate::store::StreamHead>,
    ) {
        if !self.store.restored().unwrap_or(false) {
            return;
        }
        let own = StreamId::agency(&self.cfg.agency);
        let held_there = theirs.iter().find(|h| h.stream == own).map_or(0, |h| h.seq);
        let held_here = ours.get(&own).map_or(0, |h| h.seq);
        if held_there > held_here {
            return; // the catch-up fetches them; a later status says
        }
        match self.store.heard_after_restore(agreement, peer) {
            Ok(true) => tracing::info!(
                %agreement, %peer, seq = held_here,
                "after the restore, this member holds nothing newer of ours"
            ),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot note a status after the restore"),
        }
    }

    /// Verifies a revocation under its issuing agency's key and, when it is new, keeps it (store
    /// and audit entry) and applies it to the directory. `from` is the peer it came from, or
    /// this agency when made here. Returns whether it was new.
    /// A revocation the store cannot keep is not applied either (an error, so the API says
    /// so and a peer's next sync status offers it again): a revocation in force here is always
    /// one the log names and a restart keeps.
    fn take_revocation(
        &mut self,
        from: &AgencyId,
        signed: &accord_protocol::audit::Signed,
        by: Option<&str>,
    ) -> Result<bool, TakeRevocation> {
        // every sync status carries the revocations the peer holds: those held here already
        // are not verified again
        if self.dir.holds(signed) {
            return Ok(false);
        }
        let r = self.dir.verify(signed)?;
        if !self.dir.would_revoke(&r) {
            return Ok(false);
        }
        let via = (*from != self.cfg.agency).then_some(from);
        self.store
            .keep_revocation(self.now(), &r, signed, via, by)?;
        Arc::make_mut(&mut self.dir).revoke(&r, signed);
        tracing::info!(agency = %r.agency, revoked = %r.revoked, %from, "delegation revoked");
        self.emit(NodeEvent::Revoked {
            agency: r.agency.clone(),
            certificate: hex::encode(r.certificate.0),
            from: from.clone(),
        });
        Ok(true)
    }

    /// A member's signature of an agreement made on this host (`accord agreement sign` while
    /// the node runs): verified against the text the node holds, kept with its audit entry and
    /// passed to the members now. Returns whether the agreement is in effect.
    fn take_signature(
        &mut self,
        agreement: &AgreementId,
        signer: &AgencyId,
        signature: [u8; 64],
        by: Option<&str>,
    ) -> Result<bool, String> {
        let Some(a) = self.cfg.agreements.get(agreement) else {
            return Err(format!(
                "the running node does not hold agreement {agreement}; add it to the node file \
                 and restart the node"
            ));
        };
        if !a.is_member(signer) {
            return Err(format!("{signer} is not a member of {agreement}"));
        }
        if a.signatures.get(signer) == Some(&signature) {
            return Ok(a.fully_signed());
        }
        let own = self.key.public_key();
        let verifies =
            crate::agreements::member_key(&self.cfg, Some(&own), signer).is_some_and(|key| {
                accord_protocol::agreement::verify_agreement(&key, &a.hash, &signature)
            });
        if !verifies {
            return Err(format!(
                "the signature is not {signer}'s of the text the running node holds (sha-256 \
                 {}); if the file changed, restart the node to load it",
                a.hash_hex()
            ));
        }
        let me = self.cfg.agency.clone();
        if self.collect_signatures(
            &me,
            vec![(agreement.clone(), signer.clone(), signature)],
            by,
        ) {
            self.sync_all();
        }
        self.cfg
            .agreements
            .get(agreement)
            .filter(|a| a.signatures.get(signer) == Some(&signature))
            .map(accord_config::Agreement::fully_signed)
            .ok_or_else(|| "the node could not keep the signature; see its log".to_owned())
    }

    /// Verifies members' agreement signatures a peer holds and keeps the valid ones (store,
    /// audit entry, configuration). Returns whether any was new.
    fn collect_signatures(
        &mut self,
        peer: &AgencyId,
        found: Vec<(AgreementId, AgencyId, [u8; 64])>,
        by: Option<&str>,
    ) -> bool {
        let own = self.key.public_key();
        let mut cfg = (*self.cfg).clone();
        let mut changed = false;
        for (id, signer, sig) in found {
            let Some(a) = cfg.agreements.get(&id) else {
                continue;
            };
            if a.signatures.contains_key(&signer) {
                continue;
            }
            let Some(key) = crate::agreements::member_key(&cfg, Some(&own), &signer) else {
                continue;
            };
            if !accord_protocol::agreement::verify_agreement(&key, &a.hash, &sig) {
                tracing::warn!(%peer, agreement = %id, %signer, "refused an agreement signature that does not verify");
                self.emit(NodeEvent::rejected(
                    peer,
                    RejectCode::BadSignature,
                    format!("agreement {id}: the signature of {signer} does not verify"),
                ));
                continue;
            }
            let hash = a.hash;
            match self.store.keep_agreement_signature(
                self.now(),
                (&id, &hash),
                &signer,
                peer,
                &sig,
                by,
            ) {
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot keep an agreement signature");
                    continue;
                }
            }
            if let Some(a) = cfg.agreements.get_mut(&id) {
                a.signatures.insert(signer.clone(), sig);
                changed = true;
                tracing::info!(agreement = %id, %signer, from = %peer, "agreement signature collected");
                let in_effect = a.fully_signed();
                self.emit(NodeEvent::AgreementSigned {
                    agreement: id.clone(),
                    signer,
                    in_effect,
                });
                if in_effect {
                    tracing::info!(agreement = %id, "every member has signed: the agreement takes effect");
                }
            }
        }
        if changed {
            let cfg = Arc::new(cfg);
            self.shared_cfg.set(cfg.clone());
            self.cfg = cfg;
        }
        changed
    }

    /// The peer holds as many records of `stream` as we do, but not the same ones: under some
    /// seq it holds another record than ours. Its whole range `1 ..= seq` is asked for and
    /// goes through the receive path, which keeps the other record as evidence and raises the
    /// alarm. Not asked again for a stream already known to equivocate, nor of the same peer
    /// within [`DIGEST_RECHECK`] (a member announcing false digests cannot make us pull the
    /// stream again and again).
    fn digests_differ(
        &mut self,
        peer: &AgencyId,
        agreement: &AgreementId,
        stream: &StreamId,
        seq: u64,
    ) {
        if self
            .store
            .has_equivocation(agreement, stream)
            .unwrap_or(false)
        {
            return;
        }
        let key = (agreement.clone(), stream.clone(), peer.clone());
        let now = std::time::Instant::now();
        if self
            .digest_checks
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < DIGEST_RECHECK)
        {
            return;
        }
        self.digest_checks.insert(key, now);
        tracing::warn!(%peer, %agreement, %stream, seq,
            "stream digests differ at the same head: asking for the peer's records to compare");
        self.fetch(peer, agreement, stream, 1, seq);
    }

    fn fetch(
        &mut self,
        peer: &AgencyId,
        agreement: &AgreementId,
        stream: &StreamId,
        from: u64,
        to: u64,
    ) {
        let key = (agreement.clone(), stream.clone());
        if self.fetching.contains(&key) {
            return;
        }
        let (Ok(from), Ok(to)) = (Seq::new(from), Seq::new(to)) else {
            return;
        };
        self.fetching.insert(key);
        let req = RangeRequest {
            agreement: agreement.clone(),
            stream: stream.clone(),
            from,
            to,
        };
        self.send(
            peer,
            &Message::RangeRequest(req),
            Pending::Range {
                peer: peer.clone(),
                agreement: agreement.clone(),
                stream: stream.clone(),
                from,
                to,
            },
        );
    }

    /// Answers a range request, after checking that the requester is a member and shares the
    /// same agreement text (invariant 1 on the answering side).
    /// Returns the answer and the `send` entries of the records it holds.
    fn answer_range(&mut self, peer: &AgencyId, req: &RangeRequest) -> (Message, Vec<AuditEvent>) {
        let refuse = |code: RejectCode, detail: String| {
            (
                Message::Refused(Refusal {
                    code,
                    detail: truncate(detail),
                }),
                Vec::new(),
            )
        };
        let cfg = self.cfg.clone();
        let Some(a) = cfg.agreements.get(&req.agreement) else {
            return refuse(
                RejectCode::AgreementNotInForce,
                format!("agreement {} is unknown here", req.agreement),
            );
        };
        if !a.is_member(peer) {
            tracing::warn!(%peer, agreement = %a.id, "range request from a non-member refused");
            self.emit(NodeEvent::rejected(
                peer,
                RejectCode::NotMember,
                format!("range request under {}", a.id),
            ));
            return refuse(
                RejectCode::NotMember,
                format!("{peer} is not a member of {}", a.id),
            );
        }
        if !self.confirmed.contains(&(a.id.clone(), peer.clone())) {
            return refuse(
                RejectCode::AgreementMismatch,
                format!(
                    "the text of {} is not confirmed identical with {peer}",
                    a.id
                ),
            );
        }
        let (envs, complete) = match self.store.range(
            &req.agreement,
            &req.stream,
            req.from,
            req.to,
            self.net.range_batch,
            self.net.push_bytes,
        ) {
            Ok(r) => r,
            Err(e) => return refuse(RejectCode::Busy, format!("store: {e}")),
        };
        // every record answered passes may_send for this peer
        let now = self.now();
        let mut sends = Vec::new();
        let records: Vec<accord_protocol::Envelope> = envs
            .into_iter()
            .filter(
                |env| match accord_protocol::canonical::parse_record_json(env.record_bytes()) {
                    Ok(r) if may_send(&r, a, peer, now).is_allowed() => {
                        sends.push(send_event(peer, env.id(), r));
                        true
                    }
                    _ => false,
                },
            )
            .collect();
        let answer = Message::RangeResponse(RangeResponse {
            agreement: req.agreement.clone(),
            stream: req.stream.clone(),
            records,
            complete,
        });
        (answer, sends)
    }

    fn on_range_response(
        &mut self,
        peer: AgencyId,
        agreement: AgreementId,
        stream: StreamId,
        (from, to): (Seq, Seq),
        resp: RangeResponse,
    ) {
        if resp.agreement != agreement || resp.stream != stream {
            self.fetching.remove(&(agreement, stream));
            tracing::warn!(%peer, "range response for another range; ignored");
            return;
        }
        let (a_id, s_id) = (agreement.clone(), stream.clone());
        let screen = move |r: &accord_protocol::SignedRecord| {
            if r.record.agreement != a_id || r.stream() != s_id || r.record.seq > to {
                Err((
                    RejectCode::Malformed,
                    "not in the range asked for".to_owned(),
                ))
            } else {
                Ok(())
            }
        };
        let got = resp.records.len();
        // the range stays in `fetching` until its records are stored
        self.start_receive(
            &peer,
            resp.records,
            Box::new(screen),
            Origin::Range {
                agreement,
                stream,
                from,
                to,
                got,
            },
        );
    }

    /// Hands received records to a job on the blocking pool (module `inbound`).
    fn start_receive(
        &mut self,
        peer: &AgencyId,
        envelopes: Vec<accord_protocol::Envelope>,
        screen: OwnedScreen,
        origin: Origin,
    ) {
        if matches!(origin, Origin::Push(_)) {
            *self.receiving.entry(peer.clone()).or_insert(0) += 1;
        }
        Job {
            store: self.store.clone(),
            cfg: self.cfg.clone(),
            dir: self.dir.clone(),
            key: self.key.clone(),
            sender: peer.clone(),
            envelopes,
            screen,
            origin,
        }
        .spawn(self.done_tx.clone());
    }

    /// A receive job finished: publish its events, then answer whoever it was for.
    fn finish_receive(&mut self, done: Done) {
        let Done {
            sender,
            origin,
            result,
            receipts,
        } = done;
        if matches!(origin, Origin::Push(_))
            && let Some(n) = self.receiving.get_mut(&sender)
        {
            *n = n.saturating_sub(1);
        }
        let acks = match result {
            Ok(r) => {
                log_received(&sender, &origin, &r.acks);
                // relay: tell the agreements' other members our new heads
                self.announce
                    .extend(r.stored.iter().map(|(_, agreement)| agreement.clone()));
                // the receive job logged and flushed its refusals before answering
                for e in r.events {
                    self.emit_unlogged(e);
                }
                Some(r.acks)
            }
            Err(e) => {
                tracing::error!(error = %e, "store failed while receiving");
                None
            }
        };
        match origin {
            Origin::Push(channel) => {
                let reply = match acks {
                    Some(results) => Message::Ack(Ack { results, receipts }),
                    None => Message::Refused(Refusal {
                        code: RejectCode::Busy,
                        detail: "the store failed; try again".to_owned(),
                    }),
                };
                self.respond(channel, &reply, &sender);
            }
            Origin::Import(reply) => {
                let _ = reply.send(acks.unwrap_or_default());
            }
            Origin::Range {
                agreement,
                stream,
                from,
                to,
                got,
            } => {
                self.fetching.remove(&(agreement.clone(), stream.clone()));
                let now = Instant::now().into_std();
                self.catch_ups.fetched(&agreement, got as u64, now);
                self.metrics.catch_up(&agreement, got as u64);
                let head = self
                    .store
                    .heads(&agreement)
                    .ok()
                    .and_then(|h| h.get(&stream).copied())
                    .unwrap_or(0);
                // past what we hold, and past what this answer covered (a range asked for to
                // compare records we already hold, after the stream digests differed)
                let next = (head + 1).max(from.get().saturating_add(got as u64));
                if next <= to.get() && got > 0 && self.is_connected(&sender) {
                    self.fetch(&sender, &agreement, &stream, next, to.get());
                } else {
                    if !self.fetching.iter().any(|(id, _)| *id == agreement) {
                        self.catch_ups.end(&agreement, now);
                    }
                    self.last_catch_up.insert(agreement, self.now());
                }
            }
        }
    }

    // ---- swarm events --------------------------------------------------------------------

    fn swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen.push(address);
                for w in self.listen_waiters.drain(..) {
                    let _ = w.send(self.listen.clone());
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } => {
                let Some(agency) = self.peer_ids.get(&peer_id).cloned() else {
                    return;
                };
                // an agency cut off (`Command::Disconnect`) stays cut: a connection that was
                // on its way when it was cut (its dial, or the other side's) is closed too,
                // instead of taking it back
                if self.backoff.get(&agency).is_some_and(|b| b.paused) {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                self.connections
                    .insert(agency.clone(), num_established.get() as usize);
                if num_established.get() == 1 {
                    tracing::info!(%agency, "connected");
                    self.backoff
                        .insert(agency.clone(), Backoff::fresh(self.net.redial_min));
                    // a peer back on the network is pushed to at once (its alarm, if any,
                    // clears with its first acknowledgement)
                    if let Some(r) = self.push_retry.get_mut(&agency) {
                        r.next = Instant::now();
                    }
                    self.emit(NodeEvent::Connected {
                        agency: agency.clone(),
                    });
                    self.sync_with(&agency);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => {
                let Some(agency) = self.peer_ids.get(&peer_id).cloned() else {
                    return;
                };
                self.connections
                    .insert(agency.clone(), num_established as usize);
                if num_established == 0 {
                    tracing::info!(%agency, "disconnected");
                    self.pushing.remove(&agency);
                    self.confirmed.retain(|(_, p)| *p != agency);
                    self.emit(NodeEvent::Disconnected { agency });
                }
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                peer_id,
                ..
            } => {
                tracing::debug!(%send_back_addr, %error, "incoming connection refused or failed");
                let (kind, why) = refused_kind(&error);
                let ip = send_back_addr
                    .iter()
                    .find_map(|p| match p {
                        libp2p::multiaddr::Protocol::Ip4(ip) => Some(ip.to_string()),
                        libp2p::multiaddr::Protocol::Ip6(ip) => Some(ip.to_string()),
                        _ => None,
                    })
                    .unwrap_or_else(|| send_back_addr.to_string());
                let who = match peer_id.and_then(|p| self.peer_ids.get(&p).cloned()) {
                    Some(agency) => format!("{agency} at {ip}"),
                    None => match peer_id {
                        Some(p) => format!("peer {p} at {ip}"),
                        None => ip.clone(),
                    },
                };
                self.metrics.connection_refused(kind);
                if kind == "too-fast" {
                    self.redial_members_at(&send_back_addr);
                }
                self.tally.note(
                    kind,
                    who.clone(),
                    format!("an incoming connection from {who} was refused: {why}"),
                    std::time::Instant::now(),
                );
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(?peer_id, %error, "dial failed");
                if let Some(agency) = peer_id.and_then(|p| self.peer_ids.get(&p)) {
                    self.metrics.dial_failed(agency);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Rr(e)) => self.rr_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(
                libp2p::identify::Event::Received { peer_id, info, .. },
            )) => {
                if let Some(agency) = self.peer_ids.get(&peer_id).cloned() {
                    let list = self.addresses.entry(agency).or_default();
                    for addr in info.listen_addrs {
                        if !list.contains(&addr) && is_loopback_or_public(&addr) {
                            list.push(addr);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn rr_event(&mut self, event: request_response::Event<Frame, Frame>) {
        match event {
            request_response::Event::Message { peer, message, .. } => {
                let Some(agency) = self.peer_ids.get(&peer).cloned() else {
                    // the allow-list admits only known agencies; this cannot happen
                    tracing::error!(%peer, "request from an unknown peer");
                    return;
                };
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => self.on_request(agency, request, channel),
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => self.on_response(agency, request_id, response),
                }
            }
            request_response::Event::OutboundFailure {
                request_id,
                error,
                peer,
                ..
            } => {
                tracing::debug!(%peer, %error, "request failed");
                match self.pending.remove(&request_id) {
                    Some(Pending::Push { peer, .. }) => {
                        self.pushing.remove(&peer);
                        self.push_failed(&peer, &format!("the push failed: {error}"));
                    }
                    Some(Pending::Range {
                        agreement, stream, ..
                    }) => {
                        self.fetching.remove(&(agreement, stream));
                    }
                    _ => {}
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                // a timeout, a dropped stream or an answer omitted after the peer left: not a
                // refusal of the peer's input (an oversized or malformed request is answered
                // and logged in on_request), so only the log says it
                let who = self
                    .peer_ids
                    .get(&peer)
                    .map_or_else(|| peer.to_string(), ToString::to_string);
                self.metrics.inbound_failed(&who);
                self.tally.note(
                    "request-cut-off",
                    who.clone(),
                    format!(
                        "a request from {who} was cut off or timed out before it was read: {error}"
                    ),
                    std::time::Instant::now(),
                );
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_request(&mut self, agency: AgencyId, request: Frame, channel: ResponseChannel<Frame>) {
        let over = |r: &mut Refusals| {
            if r.count >= REFUSAL_BUDGET {
                r.shed += 1;
            }
        };
        if self.budget(&agency, over) {
            let reply = Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail: format!(
                    "more than {REFUSAL_BUDGET} of your requests' contents were refused within a \
                     second; requests are refused unread until it passes"
                ),
            });
            self.respond(channel, &reply, &agency);
            return;
        }
        // a request whose body ended or stalled before its announced length: refused, logged
        // (at most once a minute per peer, with the count) and counted
        if let Some((got, announced)) = request.cut_off {
            self.metrics.inbound_failed(agency.as_str());
            self.tally.note(
                "request-cut-off",
                agency.to_string(),
                format!(
                    "a request from {agency} ended after {got} of the {announced} bytes it announced"
                ),
                std::time::Instant::now(),
            );
            let detail =
                format!("the request ended after {got} of the {announced} bytes announced");
            self.emit(NodeEvent::rejected(
                &agency,
                RejectCode::Malformed,
                detail.clone(),
            ));
            let reply = Message::Refused(Refusal {
                code: RejectCode::Malformed,
                detail,
            });
            self.respond(channel, &reply, &agency);
            return;
        }
        // a frame the codec did not read because the node's inbound budget was spent: refused
        // busy (the sender tries again later), logged, and counted against the sender
        if let Some(size) = request.over_budget {
            let detail = format!(
                "a request of {size} bytes was not read: the node is reading as much as it buffers \
                 ({} MiB); try again",
                super::codec::INBOUND_BUDGET_BYTES >> 20
            );
            tracing::warn!(from = %agency, size, "request not read: the inbound budget is spent");
            self.emit(NodeEvent::rejected(
                &agency,
                RejectCode::Busy,
                detail.clone(),
            ));
            let reply = Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail,
            });
            self.respond(channel, &reply, &agency);
            return;
        }
        // a frame announcing more than the limit was left unread by the codec; it is refused
        // as the decoder refuses any oversized frame
        let decoded = match request.oversized {
            Some(size) => Err(accord_protocol::wire::WireError::FrameTooLarge {
                size,
                max: accord_protocol::wire::MAX_FRAME_BYTES,
            }),
            None => Message::decode(&request.bytes),
        };
        let msg = match decoded {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(from = %agency, error = %e, "malformed request refused");
                self.emit(NodeEvent::rejected(
                    &agency,
                    RejectCode::Malformed,
                    e.to_string(),
                ));
                let reply = Message::Refused(Refusal {
                    code: RejectCode::Malformed,
                    detail: truncate(e.to_string()),
                });
                self.respond(channel, &reply, &agency);
                return;
            }
        };
        let reply = match msg {
            Message::Push(push) => {
                if self.receiving.get(&agency).copied().unwrap_or(0) >= PUSHES_IN_FLIGHT {
                    tracing::debug!(from = %agency, "busy: pushes of this peer still being stored");
                    let reply = Message::Refused(Refusal {
                        code: RejectCode::Busy,
                        detail: format!(
                            "{PUSHES_IN_FLIGHT} pushes of yours are still being stored; try again"
                        ),
                    });
                    self.respond(channel, &reply, &agency);
                    return;
                }
                let confirmed: BTreeSet<AgreementId> = self
                    .confirmed
                    .iter()
                    .filter(|(_, p)| *p == agency)
                    .map(|(a, _)| a.clone())
                    .collect();
                let peer = agency.clone();
                let screen = move |r: &accord_protocol::SignedRecord| {
                    if confirmed.contains(&r.record.agreement) {
                        Ok(())
                    } else {
                        Err((
                            RejectCode::AgreementMismatch,
                            format!(
                                "the text of {} is not confirmed identical with {peer}",
                                r.record.agreement
                            ),
                        ))
                    }
                };
                // answered when the job is done: after verification and the flush
                self.start_receive(
                    &agency,
                    push.records,
                    Box::new(screen),
                    Origin::Push(channel),
                );
                return;
            }
            Message::SyncStatus(status) => {
                // the peer's status first: it may confirm an agreement's text, and then our
                // answer can carry the heads under it
                self.on_status(&agency, status);
                Message::SyncStatus(self.status_for(&agency))
            }
            Message::RangeRequest(req) => {
                let (reply, sends) = self.answer_range(&agency, &req);
                if !sends.is_empty() {
                    // answered once the send entries are durable
                    self.send_durably(
                        sends,
                        reply,
                        Target::Response {
                            to: agency,
                            channel,
                        },
                    );
                    return;
                }
                reply
            }
            other => {
                let detail = format!("message kind {} is not a request", other.kind_code());
                self.emit(NodeEvent::rejected(
                    &agency,
                    RejectCode::Malformed,
                    detail.clone(),
                ));
                Message::Refused(Refusal {
                    code: RejectCode::Malformed,
                    detail,
                })
            }
        };
        self.respond(channel, &reply, &agency);
    }

    fn on_response(&mut self, agency: AgencyId, request_id: OutboundRequestId, response: Frame) {
        let Some(pending) = self.pending.remove(&request_id) else {
            return;
        };
        let msg = match Message::decode(&response.bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(from = %agency, error = %e, "malformed response");
                self.emit(NodeEvent::rejected(
                    &agency,
                    RejectCode::Malformed,
                    e.to_string(),
                ));
                self.clear(pending);
                return;
            }
        };
        match (pending, msg) {
            (Pending::Push { peer, keys, ids }, Message::Ack(ack)) => {
                // the push stays in flight until its receipts are checked
                let peer_key = self.dir.get(&peer).copied();
                Acked::check(peer, peer_key, keys, ids, ack, self.done_tx.clone());
            }
            (Pending::Sync { peer }, Message::SyncStatus(status)) => self.on_status(&peer, status),
            (
                Pending::Range {
                    peer,
                    agreement,
                    stream,
                    from,
                    to,
                },
                Message::RangeResponse(resp),
            ) => {
                self.on_range_response(peer, agreement, stream, (from, to), resp);
            }
            (pending, Message::Refused(r)) => {
                tracing::warn!(peer = %agency, code = r.code.code(), detail = %r.detail, "peer refused our request");
                self.emit(NodeEvent::RefusedByPeer {
                    peer: agency,
                    code: r.code.code(),
                    detail: r.detail,
                });
                self.clear(pending);
            }
            (pending, other) => {
                tracing::warn!(peer = %agency, kind = other.kind_code(), "unexpected response");
                self.clear(pending);
            }
        }
    }

    fn clear(&mut self, pending: Pending) {
        match pending {
            Pending::Push { peer, .. } => {
                self.pushing.remove(&peer);
                self.push_failed(&peer, "no valid answer");
            }
            Pending::Range {
                agreement, stream, ..
            } => {
                self.fetching.remove(&(agreement, stream));
            }
            Pending::Sync { .. } => {}
        }
    }

    fn peers_report(&self) -> PeersReport {
        let connected = self.connected();
        let agreements = self
            .cfg
            .agreements
            .values()
            .map(|a| {
                (
                    a.id.clone(),
                    connected
                        .iter()
                        .filter(|c| a.is_member(c))
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        PeersReport {
            connected,
            agreements,
        }
    }

    fn status_report(&self) -> StatusReport {
        StatusReport {
            agency: Some(self.cfg.agency.clone()),
            records: self.store.len(),
            outbox: self.store.outbox_depths().unwrap_or_default(),
            last_catch_up: self.last_catch_up.clone(),
            agreement_mismatches: self.mismatched.iter().cloned().collect(),
            // from the evidence kept, so the alarm outlives a restart
            equivocations: self.store.equivocation_pairs().unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read the equivocation evidence");
                Vec::new()
            }),
            forks: self
                .store
                .checkpoint_forks()
                .unwrap_or_default()
                .iter()
                .filter_map(super::handle::Fork::of)
                .collect(),
            agreements: self
                .cfg
                .agreements
                .values()
                .map(|a| {
                    let why_not = super::alarms::not_in_effect(a, self.now());
                    let with = |set: &BTreeSet<(AgreementId, AgencyId)>| {
                        set.iter()
                            .filter(|(id, _)| *id == a.id)
                            .map(|(_, peer)| peer.clone())
                            .collect()
                    };
                    (
                        a.id.clone(),
                        super::handle::AgreementState {
                            in_effect: why_not.is_none(),
                            why_not,
                            confirmed_with: with(&self.confirmed),
                            mismatched_with: with(&self.mismatched),
                        },
                    )
                })
                .collect(),
            alarms: self.alarms.borrow().list(),
            refused: self
                .tally
                .totals
                .iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect(),
            catch_up: self.catch_ups.views(Instant::now().into_std()),
            connected: self.peers_report().connected,
        }
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

/// One INFO line per batch of records received (push, range answer or import) that stored or
/// refused anything: counts, not one line per record. Batches of records already held only
/// go to DEBUG.
fn log_received(sender: &AgencyId, origin: &Origin, acks: &[AckEntry]) {
    let (mut stored, mut held, mut refused) = (0usize, 0usize, 0usize);
    for a in acks {
        match a {
            AckEntry::Stored(_) => stored += 1,
            AckEntry::Duplicate(_) => held += 1,
            AckEntry::Rejected { .. } => refused += 1,
        }
    }
    let how = match origin {
        Origin::Push(_) => "push",
        Origin::Range { .. } => "range answer",
        Origin::Import(_) => "import",
    };
    if stored > 0 || refused > 0 {
        tracing::info!(from = %sender, stored, already_held = held, refused,
            "received {} record(s) from {sender} by {how}: {stored} stored, {held} already held, {refused} refused",
            acks.len());
    } else if held > 0 {
        tracing::debug!(from = %sender, already_held = held, "received records already held by {how}");
    }
}

/// The kind of an incoming connection's refusal (as the status and metrics count it) and why,
/// in words.
fn refused_kind(error: &libp2p::swarm::ListenError) -> (&'static str, String) {
    use libp2p::swarm::ListenError;
    match error {
        ListenError::Denied { cause } => {
            if cause
                .downcast_ref::<libp2p::allow_block_list::NotAllowed>()
                .is_some()
            {
                (
                    "unknown-key",
                    "its key is not one of the known agencies'".to_owned(),
                )
            } else if cause
                .downcast_ref::<super::inbound_rate::TooFast>()
                .is_some()
            {
                ("too-fast", cause.to_string())
            } else if cause
                .downcast_ref::<libp2p::connection_limits::Exceeded>()
                .is_some()
            {
                ("connection-limit", cause.to_string())
            } else {
                ("denied", cause.to_string())
            }
        }
        ListenError::Transport(e) => ("handshake-failed", e.to_string()),
        other => ("failed", other.to_string()),
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

/// Addresses worth dialling: not unspecified.
fn is_loopback_or_public(addr: &Multiaddr) -> bool {
    !addr
        .iter()
        .any(|p| matches!(p, libp2p::multiaddr::Protocol::Ip4(ip) if ip.is_unspecified()))
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
