//! The cloneable handle through which everything else talks to the node's network actor: a
//! bounded command channel with oneshot replies, and a broadcast of events.

use std::collections::BTreeMap;
use std::sync::Arc;

use accord_config::NodeConfig;
use accord_protocol::wire::RejectCode;
use accord_protocol::{AgencyId, AgreementId, RecordId, SecretKey, Timestamp};
use libp2p::Multiaddr;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::draft::Draft;
use crate::publish::PublishError;
use crate::store::Store;

/// Capacity of the command channel.
pub(super) const COMMAND_CAPACITY: usize = 256;
/// Capacity of the event broadcast (slow subscribers miss the oldest events).
pub(super) const EVENT_CAPACITY: usize = 4096;

/// What the actor is asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// A record of ours was stored: deliver it.
    Published(AgreementId),
    /// Report the connected peers.
    Peers(oneshot::Sender<PeersReport>),
    /// Report the node's state.
    Status(oneshot::Sender<StatusReport>),
    /// The addresses the node listens on.
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    /// Learn an address for a known agency and dial it.
    AddAddress(AgencyId, Multiaddr),
    /// Close every connection to an agency and stop redialling it until `AddAddress`/`Redial`.
    Disconnect(AgencyId),
    /// Start redialling an agency again.
    Redial(AgencyId),
    /// Exchange sync status with every connected member now.
    SyncNow,
    /// Take in signed records of this agency's own liaison officers (delegated keys): verify,
    /// check and store them like records from a peer; members then pull them.
    Import(
        Vec<accord_protocol::Envelope>,
        oneshot::Sender<Vec<accord_protocol::wire::AckEntry>>,
    ),
    /// Keep a revocation of a delegation certificate and pass it to the members.
    Revoke(
        accord_protocol::audit::Signed,
        Option<String>,
        oneshot::Sender<Result<bool, String>>,
    ),
    /// A member's signature of an agreement, made on this host: verify against the text held,
    /// keep (store, audit entry, configuration), pass on; reply whether it is in effect.
    Sign(
        AgreementId,
        AgencyId,
        [u8; 64],
        Option<String>,
        oneshot::Sender<Result<bool, String>>,
    ),
    /// Send a matching request (a set request or a lookup) to a holder and reply with its
    /// answer, or why it was not sent or got none.
    Ask(
        AgencyId,
        accord_protocol::Message,
        oneshot::Sender<Result<accord_protocol::Message, String>>,
    ),
    /// Stop: close the swarm, flush the store, then reply.
    Shutdown(oneshot::Sender<()>),
}

/// Something that happened, for tests, the demo and monitoring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum NodeEvent {
    /// Records left the node for a peer (a push or a range answer handed to the network),
    /// once their `send` audit entries were durable: one per record and entry.
    Sent {
        /// The peer.
        to: AgencyId,
        /// The records, in the order of their entries.
        records: Vec<RecordId>,
        /// The frame's bytes.
        bytes: usize,
    },
    /// A known agency connected.
    Connected {
        /// Who.
        agency: AgencyId,
    },
    /// Its last connection closed.
    Disconnected {
        /// Who.
        agency: AgencyId,
    },
    /// A record was verified, permitted and stored durably.
    Stored {
        /// The record.
        id: RecordId,
        /// Its agreement.
        agreement: AgreementId,
        /// Its originator.
        originator: AgencyId,
        /// The peer it came from.
        from: AgencyId,
    },
    /// A peer acknowledged one of our records.
    Delivered {
        /// The record.
        id: RecordId,
        /// To whom.
        to: AgencyId,
    },
    /// Something a peer sent was refused.
    Rejected {
        /// The peer.
        from: AgencyId,
        /// Why, as on the wire.
        code: u8,
        /// Details.
        detail: String,
    },
    /// A peer refused something we sent or asked.
    RefusedByPeer {
        /// The peer.
        peer: AgencyId,
        /// Why, as on the wire.
        code: u8,
        /// Details.
        detail: String,
    },
    /// A member's signature of an agreement was collected from a peer and verified.
    AgreementSigned {
        /// The agreement.
        agreement: AgreementId,
        /// The member whose signature it is.
        signer: AgencyId,
        /// Whether every member's signature is now held (the agreement takes effect).
        in_effect: bool,
    },
    /// A revocation of a delegation certificate was verified and kept.
    Revoked {
        /// The agency that revoked its certificate.
        agency: AgencyId,
        /// The certificate's id, hex.
        certificate: String,
        /// The peer it came from; this node's own agency when made here.
        from: AgencyId,
    },
    /// A peer holds a different text of an agreement: nothing is shared under it with them.
    AgreementMismatch {
        /// The agreement.
        agreement: AgreementId,
        /// The peer.
        peer: AgencyId,
    },
    /// Two different records claim one (agreement, originator, seq).
    Equivocation {
        /// The originator whose stream holds two records under one seq.
        originator: AgencyId,
        /// The record offered second.
        id: RecordId,
        /// The record held.
        existing: RecordId,
        /// Who offered it.
        from: AgencyId,
    },
    /// An alarm was raised (it is also logged once, and listed in the status until it clears).
    Alarm(super::alarms::Alarm),
    /// A catch-up with a peer found nothing more to fetch.
    CaughtUp {
        /// The peer.
        peer: AgencyId,
    },
    /// A step of two-person release through the running node (`crate::release`): a draft
    /// held, approved, declined or released.
    Release {
        /// The held draft's id.
        held: String,
        /// Its agreement.
        agreement: AgreementId,
        /// `held`, `approved`, `declined` or `released`.
        step: String,
        /// The account that asked for it, if a person did through the console.
        author: Option<String>,
        /// The releaser who decided (approved, declined, released).
        by: Option<String>,
        /// The record it became (released).
        record: Option<RecordId>,
    },
}

impl NodeEvent {
    /// A rejection event.
    pub(crate) fn rejected(from: &AgencyId, code: RejectCode, detail: impl Into<String>) -> Self {
        NodeEvent::Rejected {
            from: from.clone(),
            code: code.code(),
            detail: detail.into(),
        }
    }
}

/// Connected peers, overall and per agreement.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PeersReport {
    /// Every connected known agency.
    pub connected: Vec<AgencyId>,
    /// Per agreement, its connected members.
    pub agreements: BTreeMap<AgreementId, Vec<AgencyId>>,
}

/// The node's state, for `GET /v1/status`.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct StatusReport {
    /// This node's agency.
    pub agency: Option<AgencyId>,
    /// Records held.
    pub records: usize,
    /// Records waiting in each peer's outbox.
    pub outbox: BTreeMap<AgencyId, usize>,
    /// When a catch-up under each agreement last completed.
    pub last_catch_up: BTreeMap<AgreementId, Timestamp>,
    /// Agreements whose text differs at a peer, and the peer.
    pub agreement_mismatches: Vec<(AgreementId, AgencyId)>,
    /// Equivocations seen: (record offered, record held).
    pub equivocations: Vec<(RecordId, RecordId)>,
    /// Audit forks seen: a partner signed two different log heads for one entry count.
    pub forks: Vec<Fork>,
    /// Every agreement of the node: whether it is in effect, and why not.
    pub agreements: BTreeMap<AgreementId, AgreementState>,
    /// Every alarm raised and not cleared, most severe first.
    pub alarms: Vec<super::alarms::Alarm>,
    /// Connections refused and requests cut off since the node started, by kind
    /// (`unknown-key`, `too-fast`, `connection-limit`, `handshake-failed`, `request-cut-off`).
    #[serde(default)]
    pub refused: BTreeMap<String, u64>,
    /// Catch-ups running, by agreement: from whom, how far, how fast.
    #[serde(default)]
    pub catch_up: BTreeMap<AgreementId, super::progress::CatchUpView>,
    /// Connected peers.
    pub connected: Vec<AgencyId>,
}

/// An audit fork: a partner's second, different checkpoint for one slot (or, for the counted
/// checkpoints nodes exchanged before slots, one entry count), kept as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Fork {
    /// The partner whose key signed both.
    pub agency: AgencyId,
    /// The slot both claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u64>,
    /// The entry count both claim (a counted checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl Fork {
    /// The fork a kept checkpoint line stands for.
    pub fn of(signed: &accord_protocol::audit::Signed) -> Option<Self> {
        use accord_protocol::audit::{Checkpoint, SlotCheckpoint};
        if let Ok(c) = serde_json::from_slice::<SlotCheckpoint>(&signed.bytes) {
            return Some(Self {
                agency: c.agency,
                slot: Some(c.slot),
                count: None,
            });
        }
        serde_json::from_slice::<Checkpoint>(&signed.bytes)
            .ok()
            .map(|c| Self {
                agency: c.agency,
                slot: None,
                count: Some(c.count),
            })
    }

    /// Where the two heads disagree, in words.
    pub fn at(&self) -> String {
        match (self.slot, self.count) {
            (Some(s), _) => format!("slot {s}"),
            (None, Some(c)) => format!("entry {c}"),
            (None, None) => "one position".to_owned(),
        }
    }
}

/// Whether an agreement is in effect.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AgreementState {
    /// Every member has signed its text and now is within its validity.
    pub in_effect: bool,
    /// Why not, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
    /// Members whose text is confirmed identical to ours.
    pub confirmed_with: Vec<AgencyId>,
    /// Members holding a different text.
    pub mismatched_with: Vec<AgencyId>,
}

/// A handle to a running node. Cloning is cheap.
#[derive(Clone, Debug)]
pub struct NodeHandle {
    pub(crate) tx: mpsc::Sender<Command>,
    pub(crate) events: broadcast::Sender<NodeEvent>,
    pub(crate) store: Arc<Store>,
    pub(crate) cfg: SharedConfig,
    pub(crate) key: Arc<SecretKey>,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// The holders' matching sets fetched (`matching::asker`).
    pub(crate) asker: Arc<crate::matching::asker::Asker>,
}

/// The configuration as the running node holds it: agreements gain members' signatures while
/// it runs, so the actor replaces it and every handle reads the latest.
#[derive(Clone, Debug)]
pub(crate) struct SharedConfig(Arc<std::sync::RwLock<Arc<NodeConfig>>>);

impl SharedConfig {
    pub(crate) fn new(cfg: Arc<NodeConfig>) -> Self {
        Self(Arc::new(std::sync::RwLock::new(cfg)))
    }

    pub(crate) fn get(&self) -> Arc<NodeConfig> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set(&self, cfg: Arc<NodeConfig>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = cfg;
    }
}

/// The node has stopped.
#[derive(Debug, thiserror::Error)]
#[error("the node has stopped")]
pub struct Stopped;

impl NodeHandle {
    /// The store (shared with the actor; the store serialises writes itself).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The configuration as it is now (agreements gain members' signatures while the node
    /// runs).
    pub fn config(&self) -> Arc<NodeConfig> {
        self.cfg.get()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Stopped> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| Stopped)?;
        rx.await.map_err(|_| Stopped)
    }

    /// Looks `wanted` up at every other member of this agency's agreements that provide for
    /// matching (only `only`, when given): hit or miss per holder, each lookup logged before
    /// it leaves (`lookup-made`) and its outcome after (`lookup-result`); `by` names the
    /// console account that asked.
    pub async fn match_wanted(
        &self,
        wanted: &crate::matching::asker::Wanted,
        only: Option<&AgreementId>,
        by: Option<String>,
    ) -> Result<crate::matching::asker::MatchReport, String> {
        let cfg = self.cfg.get();
        let pairs = crate::matching::asker::holders(&cfg, only, crate::clock::now())?;
        crate::matching::asker::run(&self.asker, self, &cfg, wanted, pairs, by).await
    }

    /// Which of this agency's selectors under `agreement` in `epoch` the `tags` of a request
    /// for information after a hit are, with the records that give them (docs/matching.md).
    pub async fn resolve_tags(
        &self,
        agreement: AgreementId,
        epoch: accord_protocol::matching::Epoch,
        tags: Vec<accord_protocol::matching::Tag>,
    ) -> Result<Vec<crate::matching::Resolved>, String> {
        let (store, cfg) = (self.store.clone(), self.cfg.get());
        tokio::task::spawn_blocking(move || {
            crate::matching::resolve_with_seed_file(&store, &cfg, &agreement, epoch, &tags)
        })
        .await
        .map_err(|e| format!("the resolving task failed: {e}"))?
    }

    /// Publishes a draft (numbered, checked, signed, stored, flushed) and hands it to the
    /// network for delivery.
    pub async fn publish(&self, draft: Draft, now: Timestamp) -> Result<RecordId, PublishError> {
        self.publish_by(draft, now, None).await
    }

    /// [`NodeHandle::publish`] for a person's account of the console, which the audit entry
    /// names.
    pub async fn publish_by(
        &self,
        draft: Draft,
        now: Timestamp,
        by: Option<String>,
    ) -> Result<RecordId, PublishError> {
        let (store, cfg, key) = (self.store.clone(), self.cfg.get(), self.key.clone());
        let agreement = draft.agreement.clone();
        let id = tokio::task::spawn_blocking(move || {
            crate::publish::publish_draft_by(&store, &cfg, &key, &draft, now, by.as_deref())
        })
        .await
        .map_err(|e| {
            PublishError::Store(crate::store::StoreError::Corrupt(format!(
                "publish task failed: {e}"
            )))
        })??;
        self.metrics.published();
        // the record is durable and in the outbox; if the actor is gone it is delivered on restart
        let _ = self.tx.send(Command::Published(agreement)).await;
        Ok(id)
    }

    /// Tells the network that records of `agreement` were published on the store (by
    /// `crate::release::approve`, say), so it delivers them at once.
    pub async fn announce_published(&self, agreement: AgreementId) {
        self.metrics.published();
        // if the actor is gone the outbox delivers them on restart
        let _ = self.tx.send(Command::Published(agreement)).await;
    }

    /// Holds `draft` for releasers' approval (`crate::release::hold`, on the blocking pool)
    /// and tells the node's subscribers; `author` is the console account that asked.
    pub async fn hold(
        &self,
        draft: crate::draft::Draft,
        now: Timestamp,
        author: Option<String>,
    ) -> Result<crate::release::Held, crate::ops::OpError> {
        let h = self.clone();
        let held = tokio::task::spawn_blocking(move || {
            crate::release::hold(h.store(), &h.config(), &draft, author.as_deref(), now)
        })
        .await
        .map_err(|e| crate::ops::OpError::Failed(anyhow::anyhow!("the hold task failed: {e}")))??;
        self.release_step(&held, None);
        Ok(held)
    }

    /// Releaser `releaser` approves held draft `id` (`crate::release::approve`), or, with
    /// `decline: Some(reason)`, declines it; the subscribers are told, and a record released
    /// is handed to the network at once. The caller has established who the releaser is.
    pub async fn decide_release(
        &self,
        id: String,
        releaser: String,
        decline: Option<String>,
        now: Timestamp,
    ) -> Result<crate::release::Approved, crate::ops::OpError> {
        let h = self.clone();
        let who = releaser.clone();
        let done = tokio::task::spawn_blocking(move || {
            let (store, cfg) = (h.store(), h.config());
            match decline {
                None => crate::release::approve(store, &cfg, h.key(), &id, &who, now),
                Some(reason) => {
                    crate::release::decline(store, &cfg, h.key(), &id, &who, &reason, now).map(
                        |held| crate::release::Approved {
                            held,
                            released: None,
                        },
                    )
                }
            }
        })
        .await
        .map_err(|e| {
            crate::ops::OpError::Failed(anyhow::anyhow!("the release task failed: {e}"))
        })??;
        self.release_step(&done.held, Some(&releaser));
        if done.released.is_some() {
            self.announce_published(done.held.agreement.clone()).await;
        }
        Ok(done)
    }

    /// Tells the node's subscribers (the notifier) of a release step: `held` (by its author),
    /// or a releaser's decision.
    pub fn release_step(&self, held: &crate::release::Held, by: Option<&str>) {
        let step = match (held.state, held.record) {
            (crate::release::HeldState::Released, _) => "released",
            (crate::release::HeldState::Declined, _) => "declined",
            (crate::release::HeldState::Waiting, _) if by.is_some() => "approved",
            (crate::release::HeldState::Waiting, _) => "held",
        };
        let _ = self.events.send(NodeEvent::Release {
            held: held.id.clone(),
            agreement: held.agreement.clone(),
            step: step.to_owned(),
            author: held.author.clone(),
            by: by.map(str::to_owned),
            record: held.record,
        });
    }

    /// Signs a checkpoint of the audit log's head now (on the blocking pool: it flushes), for
    /// the node's own export, and returns it. Partners are given slot checkpoints, not this.
    pub async fn checkpoint(
        &self,
        now: Timestamp,
    ) -> Result<accord_protocol::audit::Signed, crate::store::StoreError> {
        let (store, key) = (self.store.clone(), self.key.clone());
        let signed = tokio::task::spawn_blocking(move || store.checkpoints().checkpoint(&key, now))
            .await
            .map_err(|e| {
                crate::store::StoreError::Corrupt(format!("checkpoint task failed: {e}"))
            })??;
        Ok(signed)
    }

    /// Takes in signed records made outside the node — a liaison officer's, signed with a
    /// delegated key — as if a peer had pushed them: each verified, checked by policy and
    /// stored, or refused with the reason. Members then pull them like any record held here.
    pub async fn import(
        &self,
        envelopes: Vec<accord_protocol::Envelope>,
    ) -> Result<Vec<accord_protocol::wire::AckEntry>, Stopped> {
        self.ask(|tx| Command::Import(envelopes, tx)).await
    }

    /// Keeps a signed revocation of a delegation certificate (verified under its issuing
    /// agency's key) and passes it to the members; returns whether it was new.
    pub async fn revoke(
        &self,
        revocation: accord_protocol::audit::Signed,
    ) -> Result<Result<bool, String>, Stopped> {
        self.revoke_by(revocation, None).await
    }

    /// [`NodeHandle::revoke`], the `revocation` entry naming the console account `by`.
    pub async fn revoke_by(
        &self,
        revocation: accord_protocol::audit::Signed,
        by: Option<String>,
    ) -> Result<Result<bool, String>, Stopped> {
        self.ask(|tx| Command::Revoke(revocation, by, tx)).await
    }

    /// Takes a member's signature of an agreement made on this host (`accord agreement sign`
    /// while the node runs); whether the agreement is now in effect, or why it was refused.
    pub async fn sign_agreement(
        &self,
        agreement: AgreementId,
        signer: AgencyId,
        signature: [u8; 64],
    ) -> Result<Result<bool, String>, Stopped> {
        self.sign_agreement_by(agreement, signer, signature, None)
            .await
    }

    /// [`NodeHandle::sign_agreement`], the `agreement-signature` entry naming the console
    /// account `by`.
    pub async fn sign_agreement_by(
        &self,
        agreement: AgreementId,
        signer: AgencyId,
        signature: [u8; 64],
        by: Option<String>,
    ) -> Result<Result<bool, String>, Stopped> {
        self.ask(|tx| Command::Sign(agreement, signer, signature, by, tx))
            .await
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    /// The agency key the node signs with.
    pub(crate) fn key(&self) -> &Arc<SecretKey> {
        &self.key
    }

    /// Tells the actor that a record was published directly into the store.
    pub async fn published(&self, agreement: AgreementId) -> Result<(), Stopped> {
        self.tx
            .send(Command::Published(agreement))
            .await
            .map_err(|_| Stopped)
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<PeersReport, Stopped> {
        self.ask(Command::Peers).await
    }

    /// The node's state.
    pub async fn status(&self) -> Result<StatusReport, Stopped> {
        self.ask(Command::Status).await
    }

    /// The addresses the node listens on (waits until it listens on at least one).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, Stopped> {
        self.ask(Command::ListenAddrs).await
    }

    /// Adds an address for a known agency and dials it.
    pub async fn add_address(&self, agency: AgencyId, addr: Multiaddr) -> Result<(), Stopped> {
        self.tx
            .send(Command::AddAddress(agency, addr))
            .await
            .map_err(|_| Stopped)
    }

    /// Disconnects from an agency and stops redialling it (for tests of partitions).
    pub async fn disconnect(&self, agency: AgencyId) -> Result<(), Stopped> {
        self.tx
            .send(Command::Disconnect(agency))
            .await
            .map_err(|_| Stopped)
    }

    /// Resumes redialling an agency.
    pub async fn redial(&self, agency: AgencyId) -> Result<(), Stopped> {
        self.tx
            .send(Command::Redial(agency))
            .await
            .map_err(|_| Stopped)
    }

    /// Exchanges sync status with every connected member now.
    pub async fn sync_now(&self) -> Result<(), Stopped> {
        self.tx.send(Command::SyncNow).await.map_err(|_| Stopped)
    }

    /// Stops the node: the swarm closes and the store is flushed.
    pub async fn shutdown(&self) -> Result<(), Stopped> {
        self.ask(Command::Shutdown).await
    }
}

impl crate::matching::asker::Channel for NodeHandle {
    async fn ask(
        &self,
        to: &AgencyId,
        request: accord_protocol::Message,
    ) -> Result<accord_protocol::Message, String> {
        let to = to.clone();
        self.ask(|tx| Command::Ask(to, request, tx))
            .await
            .map_err(|_| "the node is stopping".to_owned())?
    }

    async fn log(&self, events: Vec<accord_protocol::audit::AuditEvent>) -> Result<(), String> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            store
                .log()
                .audit(crate::clock::now(), events)
                .and_then(|()| store.flush().map(|_| ()))
        })
        .await
        .map_err(|e| format!("the audit task failed: {e}"))?
        .map_err(|e| format!("cannot write the audit log: {e}"))
    }
}
