//! The network's decisions without I/O (issue 21, as iroh-gossip's `proto`): a [`Core`] takes
//! an [`Input`] — a command, a request or response that arrived, a finished job, a connection
//! up or down, a tick — with the time passed in ([`Now`]), and returns the [`Effect`]s the
//! actor (`net/actor.rs`) carries out: send a request, answer one, dial, disconnect, run a
//! [`Job`] off the loop (verify and store, make `send` entries durable, check receipts, sign a
//! checkpoint), publish an event. The core never touches a socket, never spawns, never reads a
//! clock and never flushes or signs; the store is its state, read and written in place (a
//! write without a flush is not acknowledged to anyone until a job flushes it). The one
//! exception is trust that arrives while running (`trust`): a revocation or an agreement
//! signature is verified and kept (with a flush) before the status that carried it is read
//! further, so no record fetched by that status is judged under the old trust. They are rare
//! (a few a year).
//!
//! The simulation (`sim`, a test) drives several cores through a simulated network.
//!
//! Concerns, one file each: `requests` (what arrives: checked and handed on), `peers`
//! (connections, redial), `push` (outbox planning, ack settlement), `sync` (status in and out,
//! catch-up, checkpoints), `ranges` (range answers and receive jobs), `trust` (revocations,
//! agreement signatures) and `events` (events, alarms, reports, the refusal budget).

mod events;
pub(super) mod matching;
mod peers;
mod push;
mod ranges;
mod requests;
#[cfg(test)]
mod sim;
mod sync;
mod trust;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_config::NodeConfig;
use accord_protocol::audit::AuditEvent;
use accord_protocol::wire::{
    Ack, AckEntry, AgreementStatus, Head, Push, RangeRequest, RangeResponse, Refusal, RejectCode,
    SyncStatus,
};
use accord_protocol::{
    AgencyId, AgreementId, Message, RecordId, SecretKey, Seq, StreamId, Timestamp,
};
use libp2p::Multiaddr;

use super::NetConfig;
use super::alarms::{Alarm, AlarmKind, Alarms};
use super::budget::{REFUSAL_BUDGET, RefusalBudget};
use super::codec::Frame;
use super::handle::{Command, NodeEvent, PeersReport, StatusReport};
use super::inbound::{AckCheck, Acked, Done, Finished, Origin, OwnedScreen, truncate};
use super::outbound::{SendJob, Sent, Target};
use super::progress::CatchUps;
use super::redial::Redials;
use super::signing::{Checkpoint, CheckpointJob, Signed};
use crate::policy::may_send;
use crate::store::{Store, StreamHead};

/// The time an input happens at: the monotonic instant (back-offs, budgets, rates) and the
/// wall clock (audit entries, policy, receipts).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Now {
    pub at: Instant,
    pub wall: Timestamp,
}

impl Now {
    /// The system's clocks (the actor's; a simulation makes its own).
    pub(crate) fn system() -> Self {
        Self {
            at: Instant::now(),
            wall: crate::clock::now(),
        }
    }
}

/// A request this core sent, named by the core; the executor maps it to its transport's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RequestId(pub u64);

/// A request a peer sent that awaits our answer, named by the executor (which keeps the
/// transport's channel to answer on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct InboundId(pub u64);

/// What happens to the core.
pub(crate) enum Input {
    /// A command of a handle (not `ListenAddrs` or `Shutdown`, which the executor answers).
    Command(Command),
    /// A peer's request, to be answered with [`Effect::Answer`] under `id` (or never, if the
    /// peer went away).
    Request {
        from: AgencyId,
        id: InboundId,
        frame: Frame,
    },
    /// The answer to our request `id`.
    Response {
        from: AgencyId,
        id: RequestId,
        frame: Frame,
    },
    /// Our request `id` got no answer (timeout, connection lost, dial failed).
    RequestFailed { id: RequestId, error: String },
    /// A peer's request was cut off or timed out before it was read.
    RequestCutOff { from: String, error: String },
    /// A job of ours ended.
    Finished(Finished),
    /// `agency` now has `connections` open connections (one more than before).
    Connected {
        agency: AgencyId,
        connections: usize,
    },
    /// `agency` now has `connections` open connections (one fewer than before).
    Closed {
        agency: AgencyId,
        connections: usize,
    },
    /// An incoming connection was refused before its handshake (`kind` as the status counts
    /// it), from `addr`, by `who`, because `why`.
    Refused {
        kind: &'static str,
        addr: Multiaddr,
        who: String,
        why: String,
    },
    /// Our dial of `agency` failed.
    DialFailed(AgencyId),
    /// `agency` says it listens on these addresses.
    Addresses {
        agency: AgencyId,
        addrs: Vec<Multiaddr>,
    },
    /// The timer: redial, push, announce, sign.
    Tick,
}

/// What the core asks its executor to do, in order.
pub(crate) enum Effect {
    /// Send `frame` to `to` as request `id`; its answer comes back as [`Input::Response`] (or
    /// [`Input::RequestFailed`]).
    Send {
        to: AgencyId,
        id: RequestId,
        frame: Frame,
    },
    /// Answer the peer's request `id` with `frame`.
    Answer {
        to: AgencyId,
        id: InboundId,
        frame: Frame,
    },
    /// Dial `agency` at these addresses, unless connected or dialling.
    Dial {
        agency: AgencyId,
        addrs: Vec<Multiaddr>,
    },
    /// Close every connection to `agency`.
    Disconnect(AgencyId),
    /// Run this off the loop; its result comes back as [`Input::Finished`].
    Run(Box<Job>),
    /// Publish an event to the handles' subscribers.
    Emit(NodeEvent),
}

/// Work the loop hands off: each verifies, signs or flushes, so it runs on tokio's blocking
/// pool (a simulation runs it when it chooses).
pub(crate) enum Job {
    /// Verify, check, store and flush received records ([`super::inbound::Job`]).
    Receive(super::inbound::Job),
    /// Make `send` entries durable, then hand the frame back ([`SendJob`]).
    SendDurably(SendJob),
    /// Verify the receipts of a peer's ack ([`AckCheck`]).
    CheckAck(AckCheck),
    /// Sign an audit checkpoint ([`CheckpointJob`]).
    Sign(CheckpointJob),
    /// Answer a member's matching request ([`matching::MatchJob`]).
    Match(Box<matching::MatchJob>),
}

impl Job {
    /// Does the work, blocking.
    pub(crate) fn run(self) -> Finished {
        match self {
            Job::Receive(j) => Finished::Received(j.run()),
            Job::SendDurably(j) => Finished::Sent(j.run()),
            Job::CheckAck(j) => Finished::Acked(j.run()),
            Job::Sign(j) => Finished::Signed(j.run()),
            Job::Match(j) => Finished::Matched(j.run()),
        }
    }
}

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
    /// A matching request of ours, answered to whoever asked.
    Ask { reply: matching::AskReply },
    /// A range asked of a peer.
    Range {
        peer: AgencyId,
        agreement: AgreementId,
        stream: StreamId,
        from: Seq,
        to: Seq,
    },
}

/// Range requests in flight per stream being fetched: while one answer is verified and stored,
/// the next are on their way and being read by the peer.
const RANGES_IN_FLIGHT: usize = 3;

/// A stream being fetched from one peer, in requests of at most `range_batch` records.
#[derive(Debug)]
pub(super) struct Fetch {
    peer: AgencyId,
    /// The first seq not yet asked for.
    next: u64,
    /// The last seq wanted.
    to: u64,
    /// Requests sent whose records are not yet stored (or that failed).
    in_flight: usize,
}

/// What a status names: agreements, each with the streams whose heads it gives (`None`: all).
type Scope = BTreeMap<AgreementId, Option<BTreeSet<StreamId>>>;

/// How many pushes' worth of an originator's records, behind at most, are left to its push
/// rather than pulled (`Core::left_to_originator`).
const LEFT_TO_PUSH_BATCHES: usize = 4;

/// The network's state and decisions (module docs).
pub(crate) struct Core {
    cfg: Arc<NodeConfig>,
    /// The configuration the handles read; replaced when an agreement gains a signature.
    shared_cfg: super::handle::SharedConfig,
    key: Arc<SecretKey>,
    store: Arc<Store>,
    net: NetConfig,
    /// Shared with the receive jobs in flight; replaced (copy on write) when a revocation
    /// arrives.
    dir: Arc<crate::directory::Directory>,
    /// The agencies of the configuration, with the addresses they are dialled at.
    addresses: BTreeMap<AgencyId, Vec<Multiaddr>>,
    connections: BTreeMap<AgencyId, usize>,
    backoff: Redials,
    pending: BTreeMap<RequestId, Pending>,
    next_request: u64,
    pushing: BTreeSet<AgencyId>,
    /// The (agreement, stream) ranges being fetched, each from one peer
    fetching: BTreeMap<(AgreementId, StreamId), Fetch>,
    /// When each peer's differing stream digest was last looked into (`digests_differ`).
    digest_checks: BTreeMap<(AgreementId, StreamId, AgencyId), Instant>,
    /// Streams a relaying member holds more of, not pulled from it because their originator,
    /// connected, pushes them to us (`Core::left_to_originator`): since when, and up to which
    /// seq.
    left_to_originator: BTreeMap<(AgreementId, StreamId), (Instant, u64)>,
    /// The signature of each partner's slot checkpoint last verified and kept: every full
    /// status repeats it until the next slot, and it is not verified again.
    checkpoints_seen: BTreeMap<AgencyId, [u8; 64]>,
    /// agreements whose text is confirmed identical with a peer
    confirmed: BTreeSet<(AgreementId, AgencyId)>,
    /// Agreements under which a peer gave heads, so holds every member's signature: our
    /// statuses to it carry none (`Core::status_of`).
    signed_at: BTreeSet<(AgreementId, AgencyId)>,
    mismatched: BTreeSet<(AgreementId, AgencyId)>,
    last_catch_up: BTreeMap<AgreementId, Timestamp>,
    /// Agreements under which records were stored since the last announcement: their members
    /// hear the new heads on the next tick (and only they: a partner under another agreement
    /// learns nothing of when records move under this one).
    announce: BTreeSet<AgreementId>,
    /// The heads last announced under each agreement: the next announcement names only the
    /// streams whose heads moved since.
    announced: BTreeMap<AgreementId, BTreeMap<StreamId, u64>>,
    /// The last checkpoint slot signed (`Checkpoints::slot_checkpoint`).
    last_slot: Option<u64>,
    /// Checkpoints being signed by a job ([`CheckpointJob`]).
    signing: BTreeSet<Checkpoint>,
    next_sync: Instant,
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
    /// The holder's side of matching, when an agreement provides for it.
    matching: Option<Arc<crate::matching::holder::Holder>>,
    /// Matching requests being answered, by member (`matching::MATCH_JOBS_PER_PEER`).
    matching_jobs: BTreeMap<AgencyId, usize>,
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
    /// The state of the jitter of push retries (splitmix64; seeded by the executor).
    jitter: u64,
    /// The time of the input being handled.
    at: Instant,
    wall: Timestamp,
    /// The effects of the input being handled, in order.
    effects: Vec<Effect>,
    /// A fault for the simulation to catch: every push also goes to every other peer.
    #[cfg(test)]
    fault_push_to_all: bool,
}

/// The next number of a splitmix64 sequence whose state is `state`: the core's jitter, and
/// the simulation's choices.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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

impl Core {
    /// A core over `store`, for the agency of `shared_cfg`; `seed` seeds the retry jitter.
    pub(crate) fn new(
        shared_cfg: super::handle::SharedConfig,
        key: Arc<SecretKey>,
        store: Arc<Store>,
        net: NetConfig,
        metrics: Arc<crate::metrics::Metrics>,
        now: Now,
        seed: u64,
    ) -> Self {
        let cfg = shared_cfg.get();
        let dir = crate::directory::Directory::load(&cfg, &key, &store).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the revocations held; starting without them");
            crate::directory::Directory::new(&cfg, &key)
        });
        let backoff = Redials::new(net.redial_min, net.redial_max);
        let addresses = cfg
            .agencies
            .values()
            .filter(|a| a.id != cfg.agency)
            .map(|a| (a.id.clone(), a.addresses.clone()))
            .collect();
        Self {
            cfg,
            shared_cfg,
            key,
            store,
            net,
            dir: Arc::new(dir),
            addresses,
            connections: BTreeMap::new(),
            backoff,
            pending: BTreeMap::new(),
            next_request: 0,
            pushing: BTreeSet::new(),
            fetching: BTreeMap::new(),
            digest_checks: BTreeMap::new(),
            left_to_originator: BTreeMap::new(),
            signed_at: BTreeSet::new(),
            checkpoints_seen: BTreeMap::new(),
            confirmed: BTreeSet::new(),
            mismatched: BTreeSet::new(),
            last_catch_up: BTreeMap::new(),
            announce: BTreeSet::new(),
            announced: BTreeMap::new(),
            last_slot: None,
            signing: BTreeSet::new(),
            next_sync: now.at,
            receiving: BTreeMap::new(),
            refusals: RefusalBudget::default(),
            alarms: Alarms::default(),
            next_alarm_check: now.at,
            catch_ups: CatchUps::default(),
            delivered_since_drain: BTreeMap::new(),
            metrics,
            matching: None,
            matching_jobs: BTreeMap::new(),
            push_retry: BTreeMap::new(),
            logged_sends: BTreeMap::new(),
            tally: super::tally::Tally::default(),
            nudged: BTreeMap::new(),
            jitter: seed,
            at: now.at,
            wall: now.wall,
            effects: Vec::new(),
            #[cfg(test)]
            fault_push_to_all: false,
        }
    }

    /// The effects of starting: the alarms whose evidence the store keeps, raised again.
    pub(crate) fn start(&mut self, now: Now) -> Vec<Effect> {
        self.at = now.at;
        self.wall = now.wall;
        self.seed_alarms();
        std::mem::take(&mut self.effects)
    }

    /// Handles one input at `now`; returns what to do, in order.
    pub(crate) fn handle(&mut self, now: Now, input: Input) -> Vec<Effect> {
        self.at = now.at;
        self.wall = now.wall;
        match input {
            Input::Command(cmd) => self.command(cmd),
            Input::Request { from, id, frame } => self.on_request(from, frame, id),
            Input::Response { from, id, frame } => self.on_response(from, id, frame),
            Input::RequestFailed { id, error } => self.request_failed(id, &error),
            Input::RequestCutOff { from, error } => self.request_cut_off(from, &error),
            Input::Finished(done) => match done {
                Finished::Received(done) => self.finish_receive(done),
                Finished::Acked(acked) => self.on_ack(acked),
                Finished::Sent(sent) => self.on_sent(sent),
                Finished::Signed(signed) => self.on_signed(signed),
                Finished::Matched(done) => self.on_matched(done),
            },
            Input::Connected {
                agency,
                connections,
            } => self.connected_to(agency, connections),
            Input::Closed {
                agency,
                connections,
            } => self.closed(agency, connections),
            Input::Refused {
                kind,
                addr,
                who,
                why,
            } => self.refused(kind, &addr, who, why),
            Input::DialFailed(agency) => self.metrics.dial_failed(&agency),
            Input::Addresses { agency, addrs } => self.learn_addresses(agency, addrs),
            Input::Tick => self.timer(),
        }
        std::mem::take(&mut self.effects)
    }

    fn now(&self) -> Timestamp {
        self.wall
    }

    /// Answers members' matching requests with `holder`.
    pub(crate) fn set_matching(&mut self, holder: Arc<crate::matching::holder::Holder>) {
        self.matching = Some(holder);
    }

    /// The store the core keeps its state in.
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Hands `job` to the executor.
    fn run(&mut self, job: Job) {
        self.effects.push(Effect::Run(Box::new(job)));
    }

    /// The next request id.
    fn request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// A number in [0, 1) for jitter.
    fn jitter(&mut self) -> f64 {
        (splitmix64(&mut self.jitter) >> 11) as f64 / (1u64 << 53) as f64
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
            Command::AddAddress(agency, addr) => {
                if let Some(list) = self.addresses.get_mut(&agency) {
                    if !list.contains(&addr) {
                        list.push(addr);
                    }
                    self.resume(&agency);
                } else {
                    tracing::warn!(%agency, "address for an agency this node does not know; ignored");
                }
            }
            Command::Disconnect(agency) => {
                self.backoff.pause(&agency, self.at);
                self.effects.push(Effect::Disconnect(agency));
            }
            Command::Redial(agency) => self.resume(&agency),
            Command::SyncNow => self.sync_all(),
            Command::Ask(to, request, reply) => self.ask(to, request, reply),
            Command::ListenAddrs(_) | Command::Shutdown(_) => {}
        }
    }

    fn timer(&mut self) {
        if self.at >= self.next_alarm_check {
            self.check_alarms();
        }
        self.close_budgets();
        self.redial();
        self.push_all();
        if self.at >= self.next_sync {
            self.next_sync = self.at + self.net.sync_interval;
            self.checkpoint_if_moved();
            self.sync_all();
        } else if !self.announce.is_empty() {
            let moved = std::mem::take(&mut self.announce);
            self.announce(&moved);
        }
        self.slot_if_due();
    }
}

/// The records of one push or range answer to a peer, gathered by agreement for their
/// `send-batch` entries (docs/auditing.md §2).
#[derive(Default)]
struct Sends(Vec<(AgreementId, Vec<accord_protocol::audit::SentRecord>)>);

impl Sends {
    /// Adds a record sent.
    fn add(&mut self, id: RecordId, r: accord_protocol::Record) {
        let one = accord_protocol::audit::SentRecord {
            record: id,
            content: accord_protocol::audit::SentContent::of(&r),
            originator: r.originator,
        };
        match self.0.iter_mut().find(|(a, _)| *a == r.agreement) {
            Some((_, list)) => list.push(one),
            None => self.0.push((r.agreement, vec![one])),
        }
    }

    /// One `send-batch` entry per agreement, to `to`.
    fn entries(self, to: &AgencyId) -> Vec<AuditEvent> {
        self.0
            .into_iter()
            .map(|(agreement, records)| AuditEvent::SendBatch {
                agreement,
                to: to.clone(),
                records,
            })
            .collect()
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
