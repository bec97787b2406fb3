//! A bound on how fast connections may arrive from one IP address, checked before the Noise
//! handshake. Who is connecting is known only after the handshake (its PeerId), and the
//! handshake is the expensive part of a connection (three X25519 operations and a signature
//! check): a member that opens connections beyond its limit, or anyone who keeps dialling, would
//! otherwise make the node pay a handshake for each attempt before the allow-list or the
//! connection limits could refuse it. Honest peers connect a few times a minute at most.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::Instant;

use libp2p::PeerId;
use libp2p::core::transport::PortUse;
use libp2p::core::{Endpoint, Multiaddr};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm, dummy,
};

/// Connection attempts one IP address may make in a burst.
pub(super) const BURST: f64 = 32.0;
/// And per second after the burst.
pub(super) const PER_SECOND: f64 = 16.0;

/// Why an incoming connection was refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "more than {PER_SECOND} connection attempts a second from {0}; refused before the handshake"
)]
pub(super) struct TooFast(IpAddr);

/// A token bucket per remote IP address. A connection that turns out, after its handshake, to
/// be a known agency's gets its token back: members' own reconnects never spend the allowance
/// of an address they share (a NAT, a relay, loopback), only connections that fail do.
#[derive(Debug, Default)]
pub(super) struct InboundRate {
    buckets: HashMap<IpAddr, (f64, Instant)>,
    /// The peers whose established connections are refunded: the known agencies.
    members: std::collections::BTreeSet<PeerId>,
}

impl InboundRate {
    /// A bound that refunds the connections of `members`.
    pub(super) fn new(members: impl IntoIterator<Item = PeerId>) -> Self {
        Self {
            buckets: HashMap::new(),
            members: members.into_iter().collect(),
        }
    }

    /// Gives `ip` back the token a member's connection took.
    fn refund(&mut self, ip: IpAddr) {
        if let Some((tokens, _)) = self.buckets.get_mut(&ip) {
            *tokens = (*tokens + 1.0).min(BURST);
        }
    }

    /// Takes a token for `ip` at `now`; false when its bucket is empty.
    fn admit(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.buckets.len() > 4096 {
            // forget addresses whose bucket is full again
            self.buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * PER_SECOND < BURST
            });
        }
        let (tokens, at) = self.buckets.entry(ip).or_insert((BURST, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * PER_SECOND).min(BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

impl NetworkBehaviour for InboundRate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        match ip_of(remote) {
            Some(ip) if !self.admit(ip, Instant::now()) => {
                tracing::debug!(%ip, "incoming connection refused: too many attempts");
                Err(ConnectionDenied::new(TooFast(ip)))
            }
            _ => Ok(()),
        }
    }

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        if self.members.contains(&peer)
            && let Some(ip) = ip_of(remote)
        {
            self.refund(ip);
        }
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_its_rate_and_others_are_not_affected() {
        let mut r = InboundRate::default();
        let (a, b) = (
            "127.0.0.1".parse::<IpAddr>().unwrap(),
            "10.0.0.2".parse::<IpAddr>().unwrap(),
        );
        let t0 = Instant::now();
        let admitted = (0..100).filter(|_| r.admit(a, t0)).count();
        assert_eq!(admitted, BURST as usize);
        assert!(r.admit(b, t0), "another address has its own bucket");
        // after half a second, half a second's worth again
        let t1 = t0 + std::time::Duration::from_millis(500);
        let again = (0..100).filter(|_| r.admit(a, t1)).count();
        assert_eq!(again, (PER_SECOND / 2.0) as usize);
    }

    #[test]
    fn the_address_is_read_from_the_multiaddr() {
        let m: Multiaddr = "/ip4/192.0.2.7/tcp/4001".parse().unwrap();
        assert_eq!(ip_of(&m), Some("192.0.2.7".parse().unwrap()));
        let m: Multiaddr = "/ip6/::1/tcp/4001".parse().unwrap();
        assert_eq!(ip_of(&m), Some("::1".parse().unwrap()));
    }
}
