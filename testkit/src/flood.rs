//! A flooding member, for `tests/tests/flood.rs`: the junk Bulgaria (a member of TR-BG-2026
//! only) throws at Turkey, the loop that throws it, and a sink that takes the same flood
//! without any accord logic (the decoy that measures what the flood costs the machine apart
//! from the node that refuses it). The `flooder` binary runs both in a process of their own,
//! so the attacker's CPU is not the test's.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use accord_protocol::wire::{Push, RangeRequest, Refusal, RejectCode};
use accord_protocol::{AgencyId, AgreementId, Message, RecordId, Seq, StreamId, sign};

use crate::{RawPeer, demo_key, draft};

/// What the attacker sends, and the ids of the records in it that must never be stored.
#[derive(Debug, Clone)]
pub struct Junk {
    /// The frames, sent round-robin.
    pub frames: Vec<Vec<u8>>,
    /// A record Bulgaria signed under QUAD-2026, which it is not a member of.
    pub not_member: RecordId,
    /// A record Bulgaria signed claiming to be Turkey's.
    pub forged: RecordId,
}

/// Bulgaria's junk, built from the federation in `dir` (a copy of examples/quad): 64-record
/// pushes under an agreement it is not in, 64-record pushes of records forged as Turkey's, a
/// range request for all of Turkey's QUAD-2026 stream, and malformed frames.
pub fn junk(dir: &Path) -> Junk {
    let bg_key = demo_key(dir, "bg-gdbp");
    let bg = AgencyId::new("BG-GDBP").unwrap();
    let tr = AgencyId::new("TR-JGK").unwrap();
    let now = accord_node::clock::now();
    let record = |agreement: &str, summary: &str, originator: &AgencyId, seq: u64| {
        let d =
            accord_node::draft::parse_draft(draft(agreement, "alert", "H1", summary).as_bytes())
                .unwrap();
        sign(
            &d.into_record(originator, Seq::new(seq).unwrap(), now)
                .unwrap(),
            &bg_key,
        )
        .unwrap()
    };
    let not_member = record("QUAD-2026", "x", &bg, 1);
    let forged = record("TR-BG-2026", "y", &tr, 999);
    let frames = vec![
        Message::Push(Push {
            records: vec![not_member.clone(); 64],
        })
        .encode()
        .unwrap(),
        Message::Push(Push {
            records: vec![forged.clone(); 64],
        })
        .encode()
        .unwrap(),
        Message::RangeRequest(RangeRequest {
            agreement: AgreementId::new("QUAD-2026").unwrap(),
            stream: StreamId::agency(&tr),
            from: Seq::FIRST,
            to: Seq::new(u64::MAX).unwrap(),
        })
        .encode()
        .unwrap(),
        vec![1, 2, 0xff, 0xff, 0xff, 0xff],
        vec![0x09; 4096],
    ];
    Junk {
        frames,
        not_member: not_member.id(),
        forged: forged.id(),
    }
}

/// Starts `tasks` loops, each with its own connection under Bulgaria's identity, sending the
/// junk round-robin to `peer` at `addr` until `stop`; `sent` counts the requests.
pub fn attack(
    dir: &Path,
    peer: libp2p::PeerId,
    addr: &libp2p::Multiaddr,
    tasks: usize,
    stop: &Arc<AtomicBool>,
    sent: &Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let bg_key = demo_key(dir, "bg-gdbp");
    let junk = junk(dir).frames;
    (0..tasks)
        .map(|t| {
            let (stop, sent, junk, addr) = (stop.clone(), sent.clone(), junk.clone(), addr.clone());
            let mut raw = RawPeer::new(&bg_key);
            tokio::spawn(async move {
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let _ = raw.request(peer, &addr, junk[i % junk.len()].clone()).await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect()
}

/// A peer that takes requests from anyone and answers each one `Refused(Busy)` without looking
/// at it: the same transport work as a node refusing the flood, none of the node's.
pub struct Sink {
    swarm: libp2p::Swarm<libp2p::request_response::Behaviour<accord_node::net::codec::FrameCodec>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sink({})", self.swarm.local_peer_id())
    }
}

impl Sink {
    /// A sink with a fresh identity listening on an ephemeral loopback port; returns it with
    /// its peer id and address.
    pub async fn listen() -> (Self, libp2p::PeerId, libp2p::Multiaddr) {
        Self::listen_as(libp2p::identity::Keypair::generate_ed25519()).await
    }

    /// A sink speaking as `key`'s agency (a stand-in for a member, in tests that look at what
    /// a node sends it).
    pub async fn listen_as_agency(
        key: &accord_protocol::SecretKey,
    ) -> (Self, libp2p::PeerId, libp2p::Multiaddr) {
        Self::listen_as(crate::identity(key)).await
    }

    async fn listen_as(
        identity: libp2p::identity::Keypair,
    ) -> (Self, libp2p::PeerId, libp2p::Multiaddr) {
        use libp2p::futures::StreamExt;
        use libp2p::swarm::SwarmEvent;
        let mut swarm = crate::bare_swarm(identity, accord_node::net::codec::FrameCodec::default());
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .unwrap();
        let addr = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address;
            }
        };
        let peer = *swarm.local_peer_id();
        (Self { swarm }, peer, addr)
    }

    /// The next request any peer sends, within `timeout`: its bytes and where to answer.
    pub async fn next_request(
        &mut self,
        timeout: std::time::Duration,
    ) -> Option<(
        Vec<u8>,
        libp2p::request_response::ResponseChannel<accord_node::net::codec::Frame>,
    )> {
        use libp2p::futures::StreamExt;
        use libp2p::request_response::{Event, Message as RrMessage};
        use libp2p::swarm::SwarmEvent;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .ok()?;
            if let SwarmEvent::Behaviour(Event::Message {
                message:
                    RrMessage::Request {
                        request, channel, ..
                    },
                ..
            }) = event
            {
                return Some((request.bytes, channel));
            }
        }
    }

    /// Answers a request taken with [`Sink::next_request`].
    pub fn respond(
        &mut self,
        channel: libp2p::request_response::ResponseChannel<accord_node::net::codec::Frame>,
        message: &Message,
    ) {
        let _ = self.swarm.behaviour_mut().send_response(
            channel,
            accord_node::net::codec::Frame::new(message.encode().unwrap()),
        );
    }

    /// Answers requests until `stop`; `served` counts them.
    pub async fn serve(mut self, stop: Arc<AtomicBool>, served: Arc<AtomicU64>) {
        use libp2p::futures::StreamExt;
        use libp2p::request_response::{Event, Message as RrMessage};
        use libp2p::swarm::SwarmEvent;
        let busy = accord_node::net::codec::Frame::new(
            Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail: "sink".into(),
            })
            .encode()
            .unwrap(),
        );
        while !stop.load(Ordering::Relaxed) {
            let next = tokio::time::timeout(
                std::time::Duration::from_millis(100),
                self.swarm.select_next_some(),
            )
            .await;
            if let Ok(SwarmEvent::Behaviour(Event::Message {
                message: RrMessage::Request { channel, .. },
                ..
            })) = next
            {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .send_response(channel, busy.clone());
                served.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
