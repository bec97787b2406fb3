//! Connections: who is connected, redialling with backoff, the swarm's events, and the
//! clock of a peer's receipts.

use super::*;

impl Core {
    pub(super) fn resume(&mut self, agency: &AgencyId) {
        self.backoff.resume(agency, self.at);
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
        let now = self.at;
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
        let now = self.at;
        let agencies: Vec<AgencyId> = self.addresses.keys().cloned().collect();
        for agency in agencies {
            if self.is_connected(&agency) || self.shared_with(&agency).next().is_none() {
                continue;
            }
            if !self.backoff.due(&agency, now) {
                continue;
            }
            let Some(addrs) = self.addresses.get(&agency).cloned() else {
                continue;
            };
            if addrs.is_empty() {
                continue;
            }
            self.effects.push(Effect::Dial {
                agency: agency.clone(),
                addrs,
            });
            self.backoff.dialled(&agency, now);
        }
    }

    /// A receipt's signed `received_at` against our clock: a peer whose clock differs by more
    /// than a couple of minutes raises a clock-skew alarm (cleared by a later receipt in time).
    pub(super) fn check_clock(&mut self, peer: &AgencyId, receipt: &[u8]) {
        let Ok(r) = accord_protocol::receipt::AnyReceipt::parse(receipt) else {
            return;
        };
        let change = self.alarms.peer_time(peer, r.received_at(), self.now());
        if let Some(crate::net::alarms::Change::Raised(a)) = change {
            self.alarm(Some(a));
        }
    }

    // ---- connections ---------------------------------------------------------------------

    pub(super) fn connected_to(&mut self, agency: AgencyId, connections: usize) {
        // an agency cut off (`Command::Disconnect`) stays cut: a connection that was on its way
        // when it was cut (its dial, or the other side's) is closed too, instead of taking it
        // back
        if self.backoff.is_paused(&agency) {
            self.effects.push(Effect::Disconnect(agency));
            return;
        }
        self.connections.insert(agency.clone(), connections);
        if connections == 1 {
            tracing::info!(%agency, "connected");
            self.backoff.resume(&agency, self.at);
            // a peer back on the network is pushed to at once (its alarm, if any, clears with
            // its first acknowledgement)
            if let Some(r) = self.push_retry.get_mut(&agency) {
                r.next = self.at;
            }
            self.emit(NodeEvent::Connected {
                agency: agency.clone(),
            });
            self.sync_with(&agency);
        }
    }

    pub(super) fn closed(&mut self, agency: AgencyId, connections: usize) {
        self.connections.insert(agency.clone(), connections);
        if connections == 0 {
            tracing::info!(%agency, "disconnected");
            self.pushing.remove(&agency);
            self.confirmed.retain(|(_, p)| *p != agency);
            self.signed_at.retain(|(_, p)| *p != agency);
            self.checkpoints_seen.remove(&agency);
            self.emit(NodeEvent::Disconnected { agency });
        }
    }

    /// An incoming connection was refused before its handshake.
    pub(super) fn refused(
        &mut self,
        kind: &'static str,
        addr: &Multiaddr,
        who: String,
        why: String,
    ) {
        self.metrics.connection_refused(kind);
        if kind == "too-fast" {
            self.redial_members_at(addr);
        }
        self.tally.note(
            kind,
            who.clone(),
            format!("an incoming connection from {who} was refused: {why}"),
            self.at,
        );
    }

    /// Addresses `agency` says it listens on: the unspecified ones are not worth dialling.
    pub(super) fn learn_addresses(&mut self, agency: AgencyId, addrs: Vec<Multiaddr>) {
        let Some(list) = self.addresses.get_mut(&agency) else {
            return;
        };
        for addr in addrs {
            if !list.contains(&addr) && is_loopback_or_public(&addr) {
                list.push(addr);
            }
        }
    }
}

/// Addresses worth dialling: not unspecified.
fn is_loopback_or_public(addr: &Multiaddr) -> bool {
    !addr
        .iter()
        .any(|p| matches!(p, libp2p::multiaddr::Protocol::Ip4(ip) if ip.is_unspecified()))
}
