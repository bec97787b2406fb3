//! The libp2p behaviour: an allow-list of the known agencies' peer ids, connection limits,
//! identify, ping, and the accord request-response protocol.

use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;
use libp2p::{PeerId, allow_block_list, connection_limits, identify, ping, request_response};

use super::codec::{FrameCodec, PROTOCOL};

/// Streams of the accord protocol one connection may have open at once, both ways: a member
/// has at most 4 pushes being stored, a sync status and a few range requests in flight, so
/// more only lets a peer hold memory. (libp2p's default is 100.)
pub(super) const MAX_STREAMS_PER_CONNECTION: usize = 16;

/// Everything the node speaks.
#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    /// Connection attempts from one IP address are bounded before any handshake.
    pub inbound: super::inbound_rate::InboundRate,
    /// Only known agencies may connect: everyone else is refused before any protocol runs.
    pub allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    /// Bounds on connections.
    pub limits: connection_limits::Behaviour,
    /// Exchanges listen addresses and versions.
    pub identify: identify::Behaviour,
    /// Liveness.
    pub ping: ping::Behaviour,
    /// Push, sync and range requests.
    pub rr: request_response::Behaviour<FrameCodec>,
}

impl Behaviour {
    /// Builds the behaviour for `local` allowing exactly `allowed`.
    pub(super) fn new(
        key: &libp2p::identity::Keypair,
        allowed: impl IntoIterator<Item = PeerId>,
        request_timeout: Duration,
    ) -> Self {
        let allowed: Vec<PeerId> = allowed.into_iter().collect();
        let mut allow = allow_block_list::Behaviour::default();
        for peer in &allowed {
            allow.allow_peer(*peer);
        }
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_pending_incoming(Some(64))
            .with_max_pending_outgoing(Some(64))
            .with_max_established_per_peer(Some(2))
            .with_max_established(Some(256));
        Self {
            inbound: super::inbound_rate::InboundRate::new(allowed),
            allow,
            limits: connection_limits::Behaviour::new(limits),
            identify: identify::Behaviour::new(identify::Config::new(
                "/accord/id/1".into(),
                key.public(),
            )),
            ping: ping::Behaviour::new(ping::Config::new()),
            rr: request_response::Behaviour::with_codec(
                FrameCodec::default(),
                [(PROTOCOL, request_response::ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(request_timeout)
                    .with_max_concurrent_streams(MAX_STREAMS_PER_CONNECTION),
            ),
        }
    }
}
