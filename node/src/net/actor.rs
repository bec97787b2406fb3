//! The one task that owns the libp2p Swarm: the executor of the network's [`Core`]. It turns
//! what happens — a command, a swarm event, a finished job, a tick — into the core's
//! [`Input`]s, with the time, and carries out the [`Effect`]s the core returns: requests and
//! answers on the swarm, dials, disconnections, jobs on tokio's blocking pool, events to the
//! handles. It decides nothing itself.
//!
//! `step` is one `select!` with a fixed priority: commands, finished jobs, swarm events, then
//! the timer.

use std::collections::BTreeMap;

use accord_protocol::AgencyId;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::behaviour::{Behaviour, BehaviourEvent};
use super::codec::Frame;
use super::core::{Core, Effect, InboundId, Input, Now, RequestId};
use super::handle::{Command, NodeEvent};
use super::inbound::Finished;

pub(crate) struct Actor {
    swarm: Swarm<Behaviour>,
    core: Core,
    tick: std::time::Duration,
    commands: mpsc::Receiver<Command>,
    events: broadcast::Sender<NodeEvent>,
    peer_ids: BTreeMap<PeerId, AgencyId>,
    agency_peers: BTreeMap<AgencyId, PeerId>,
    /// The swarm's ids of the core's requests in flight.
    requests: BTreeMap<OutboundRequestId, RequestId>,
    /// The channels to answer peers' requests on, by the id the core knows them by.
    channels: BTreeMap<InboundId, ResponseChannel<Frame>>,
    next_inbound: u64,
    listen: Vec<Multiaddr>,
    listen_waiters: Vec<oneshot::Sender<Vec<Multiaddr>>>,
    /// Finished jobs come back here.
    done_tx: mpsc::UnboundedSender<Finished>,
    done_rx: mpsc::UnboundedReceiver<Finished>,
}

/// Whether the loop goes on.
enum Flow {
    Continue,
    /// Stop, answering the shutdown command (if one asked) once every job has ended.
    Stop(Option<oneshot::Sender<()>>),
}

impl Actor {
    pub(super) fn new(
        swarm: Swarm<Behaviour>,
        core: Core,
        tick: std::time::Duration,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<NodeEvent>,
        peer_ids: BTreeMap<PeerId, AgencyId>,
    ) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let agency_peers = peer_ids.iter().map(|(p, a)| (a.clone(), *p)).collect();
        Self {
            swarm,
            core,
            tick,
            commands,
            events,
            peer_ids,
            agency_peers,
            requests: BTreeMap::new(),
            channels: BTreeMap::new(),
            next_inbound: 0,
            listen: Vec::new(),
            listen_waiters: Vec::new(),
            done_tx,
            done_rx,
        }
    }

    /// Runs until shutdown.
    pub(super) async fn run(mut self) {
        let effects = self.core.start(Now::system());
        self.execute(effects);
        let mut tick = tokio::time::interval(self.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let reply = loop {
            if let Flow::Stop(reply) = self.step(&mut tick).await {
                break reply;
            }
        };
        self.wait_for_jobs().await;
        if let Err(e) = self.core.store().flush() {
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
        let input = tokio::select! {
            biased;
            cmd = self.commands.recv() => match cmd {
                None => return Flow::Stop(None),
                Some(Command::Shutdown(reply)) => return Flow::Stop(Some(reply)),
                Some(Command::ListenAddrs(reply)) => {
                    if self.listen.is_empty() {
                        self.listen_waiters.push(reply);
                    } else {
                        let _ = reply.send(self.listen.clone());
                    }
                    return Flow::Continue;
                }
                Some(cmd) => Input::Command(cmd),
            },
            Some(done) = self.done_rx.recv() => Input::Finished(done),
            event = self.swarm.select_next_some() => match self.swarm_event(event) {
                Some(input) => input,
                None => return Flow::Continue,
            },
            _ = tick.tick() => Input::Tick,
        };
        let effects = self.core.handle(Now::system(), input);
        self.execute(effects);
        Flow::Continue
    }

    /// Carries out the core's effects, in order.
    fn execute(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send { to, id, frame } => match self.agency_peers.get(&to) {
                    Some(peer) => {
                        let rid = self.swarm.behaviour_mut().rr.send_request(peer, frame);
                        self.requests.insert(rid, id);
                    }
                    None => {
                        let effects = self.core.handle(
                            Now::system(),
                            Input::RequestFailed {
                                id,
                                error: format!("{to} has no known peer id"),
                            },
                        );
                        self.execute(effects);
                    }
                },
                Effect::Answer { to, id, frame } => {
                    let Some(channel) = self.channels.remove(&id) else {
                        continue;
                    };
                    if self
                        .swarm
                        .behaviour_mut()
                        .rr
                        .send_response(channel, frame)
                        .is_err()
                    {
                        tracing::debug!(%to, "response not sent: the stream closed");
                    }
                }
                Effect::Dial { agency, addrs } => {
                    let Some(peer) = self.agency_peers.get(&agency).copied() else {
                        continue;
                    };
                    let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                        .addresses(addrs)
                        .condition(
                            libp2p::swarm::dial_opts::PeerCondition::DisconnectedAndNotDialing,
                        )
                        .build();
                    if let Err(e) = self.swarm.dial(opts) {
                        tracing::debug!(%agency, error = %e, "dial not started");
                    }
                }
                Effect::Disconnect(agency) => {
                    if let Some(peer) = self.agency_peers.get(&agency) {
                        let _ = self.swarm.disconnect_peer_id(*peer);
                    }
                }
                Effect::Run(job) => {
                    let done = self.done_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = done.send(job.run());
                    });
                }
                Effect::Emit(event) => {
                    let _ = self.events.send(event);
                }
            }
        }
    }

    /// The core's input of a swarm event, if it is one the core hears of.
    fn swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) -> Option<Input> {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen.push(address);
                for w in self.listen_waiters.drain(..) {
                    let _ = w.send(self.listen.clone());
                }
                None
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } => Some(Input::Connected {
                agency: self.peer_ids.get(&peer_id)?.clone(),
                connections: num_established.get() as usize,
            }),
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => Some(Input::Closed {
                agency: self.peer_ids.get(&peer_id)?.clone(),
                connections: num_established as usize,
            }),
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
                Some(Input::Refused {
                    kind,
                    addr: send_back_addr,
                    who,
                    why,
                })
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(?peer_id, %error, "dial failed");
                Some(Input::DialFailed(self.peer_ids.get(&peer_id?)?.clone()))
            }
            SwarmEvent::Behaviour(BehaviourEvent::Rr(e)) => self.rr_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(
                libp2p::identify::Event::Received { peer_id, info, .. },
            )) => Some(Input::Addresses {
                agency: self.peer_ids.get(&peer_id)?.clone(),
                addrs: info.listen_addrs,
            }),
            _ => None,
        }
    }

    fn rr_event(&mut self, event: request_response::Event<Frame, Frame>) -> Option<Input> {
        match event {
            request_response::Event::Message { peer, message, .. } => {
                let Some(agency) = self.peer_ids.get(&peer).cloned() else {
                    // the allow-list admits only known agencies; this cannot happen
                    tracing::error!(%peer, "request from an unknown peer");
                    return None;
                };
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        self.next_inbound += 1;
                        let id = InboundId(self.next_inbound);
                        self.channels.insert(id, channel);
                        Some(Input::Request {
                            from: agency,
                            id,
                            frame: request,
                        })
                    }
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => Some(Input::Response {
                        from: agency,
                        id: self.requests.remove(&request_id)?,
                        frame: response,
                    }),
                }
            }
            request_response::Event::OutboundFailure {
                request_id,
                error,
                peer,
                ..
            } => {
                tracing::debug!(%peer, %error, "request failed");
                Some(Input::RequestFailed {
                    id: self.requests.remove(&request_id)?,
                    error: error.to_string(),
                })
            }
            request_response::Event::InboundFailure {
                peer,
                error,
                request_id,
                ..
            } => {
                self.forget_channel(request_id);
                let who = self
                    .peer_ids
                    .get(&peer)
                    .map_or_else(|| peer.to_string(), ToString::to_string);
                Some(Input::RequestCutOff {
                    from: who,
                    error: error.to_string(),
                })
            }
            request_response::Event::ResponseSent { .. } => None,
        }
    }

    /// Drops the answer channels whose streams are gone (a request answered, or cut off), so
    /// the map does not grow with requests the core will never answer.
    fn forget_channel(&mut self, _request: request_response::InboundRequestId) {
        self.channels.retain(|_, c| c.is_open());
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
                .downcast_ref::<crate::net::inbound_rate::TooFast>()
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
