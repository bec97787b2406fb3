//! Connections: who is connected, redialling with backoff, the swarm's events, and the
//! clock of a peer's receipts.

use super::*;

impl Actor {
    pub(super) fn resume(&mut self, agency: &AgencyId) {
        self.backoff.resume(agency, Instant::now());
        self.redial();
    }

    /// The agencies with at least one open connection.
    pub(super) fn connected(&self) -> Vec<AgencyId> {
        self.connections
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(a, _)| a.clone())
            .collect()
    }

    pub(super) fn is_connected(&self, agency: &AgencyId) -> bool {
        self.connections.get(agency).copied().unwrap_or(0) > 0
    }

    /// Agreements this node shares with `agency`.
    pub(super) fn shared_with<'a>(
        &'a self,
        agency: &'a AgencyId,
    ) -> impl Iterator<Item = &'a accord_config::Agreement> + 'a {
        self.cfg
            .agreements
            .values()
            .filter(move |a| a.is_member(agency) && a.is_member(&self.cfg.agency))
    }

    /// Connections from `from`'s IP address are being refused before their handshake (too
    /// many attempts: someone floods from it). A member that may be behind that address — one
    /// whose listen address is there — cannot get in that way while it lasts, so it is dialled
    /// now instead of at its next redial: an outgoing connection is never bounded by the flood.
    pub(super) fn redial_members_at(&mut self, from: &Multiaddr) {
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
            if self.backoff.nudge(&agency, now) {
                self.nudged.insert(agency.clone(), now);
                tracing::debug!(%agency, %flooded, "its address is flooded: dialling it now");
            }
        }
    }

    pub(super) fn redial(&mut self) {
        let now = Instant::now();
        let agencies: Vec<AgencyId> = self.agency_peers.keys().cloned().collect();
        for agency in agencies {
            if self.is_connected(&agency) || self.shared_with(&agency).next().is_none() {
                continue;
            }
            if !self.backoff.due(&agency, now) {
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
            self.backoff.dialled(&agency, now);
        }
    }

    /// A receipt's signed `received_at` against our clock: a peer whose clock differs by more
    /// than a couple of minutes raises a clock-skew alarm (cleared by a later receipt in time).
    pub(super) fn check_clock(&mut self, peer: &AgencyId, receipt: &[u8]) {
        let Ok(r) = serde_json::from_slice::<accord_protocol::audit::Receipt>(receipt) else {
            return;
        };
        let change = self.alarms.peer_time(peer, r.received_at, self.now());
        if let Some(crate::net::alarms::Change::Raised(a)) = change {
            self.alarm(Some(a));
        }
    }

    // ---- swarm events --------------------------------------------------------------------

    pub(super) fn swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
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
                if self.backoff.is_paused(&agency) {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                self.connections
                    .insert(agency.clone(), num_established.get() as usize);
                if num_established.get() == 1 {
                    tracing::info!(%agency, "connected");
                    self.backoff.resume(&agency, Instant::now());
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

/// Addresses worth dialling: not unspecified.
fn is_loopback_or_public(addr: &Multiaddr) -> bool {
    !addr
        .iter()
        .any(|p| matches!(p, libp2p::multiaddr::Protocol::Ip4(ip) if ip.is_unspecified()))
}
