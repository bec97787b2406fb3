//! The two same-run baselines: the machine's raw `verify_strict` rate on one core, and the bare
//! libp2p request-response rate between two minimal swarms carrying frames of the sizes the
//! node's pushes and acknowledgements have.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use accord_protocol::audit::Signed;
use accord_protocol::wire::{Ack, AckEntry, Push};
use accord_protocol::{AgencyId, Envelope, Message, PublicKey};
use anyhow::{Context, Result, bail};
use libp2p::futures::StreamExt;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, Swarm, noise, tcp, yamux};
use serde::Serialize;

use accord_node::net::codec::{Frame, FrameCodec, PROTOCOL};

/// Signature verification on one core.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyFigures {
    /// Distinct signed records in the sample.
    pub samples: usize,
    /// `verify_strict` alone over `"accord/record/v1\0" || record bytes`, per second.
    pub raw_per_s: f64,
    /// `accord_protocol::verify` (canonical parse, validation, key lookup, `verify_strict`), per
    /// second.
    pub full_per_s: f64,
}

/// Times `verify_strict` and the full `verify` over `envelopes`, each for at least `min` in four
/// alternating rounds (the best round counts), on the calling thread. Fails if any sample does not verify.
pub(crate) fn verify_rate(
    envelopes: &[Envelope],
    dir: &BTreeMap<AgencyId, PublicKey>,
    min: Duration,
) -> Result<VerifyFigures> {
    if envelopes.is_empty() {
        bail!("no signed records to time verification on");
    }
    let raw: Vec<(PublicKey, Vec<u8>, [u8; 64])> = envelopes
        .iter()
        .map(|e| {
            (
                *e.signer().key(),
                accord_protocol::envelope::signed_message(e.record_bytes()),
                *e.signature(),
            )
        })
        .collect();
    // alternate rounds of each, so both see the same machine (it is shared), and keep each
    // one's best round: the machine's capacity, not its noise
    let (mut raw_per_s, mut full_per_s) = (0f64, 0f64);
    for _ in 0..4 {
        let started = Instant::now();
        let mut done = 0usize;
        while done == 0 || started.elapsed() < min / 4 {
            for (k, m, s) in &raw {
                if !accord_protocol::verify::verify_strict_raw(k, m, s) {
                    bail!("a sample record's signature does not verify");
                }
            }
            done += raw.len();
        }
        raw_per_s = raw_per_s.max(done as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        let mut done = 0usize;
        while done == 0 || started.elapsed() < min / 4 {
            for e in envelopes {
                accord_protocol::verify(e.clone(), dir)
                    .context("a sample record does not verify")?;
            }
            done += envelopes.len();
        }
        full_per_s = full_per_s.max(done as f64 / started.elapsed().as_secs_f64());
    }
    Ok(VerifyFigures {
        samples: envelopes.len(),
        raw_per_s,
        full_per_s,
    })
}

/// Bare request-response between two swarms.
#[derive(Clone, Debug, Serialize)]
pub struct TransportFigures {
    /// Requests kept in flight.
    pub window: usize,
    /// Requests timed.
    pub requests: usize,
    /// Records each request stands for.
    pub records_per_request: usize,
    /// Bytes of each request frame (an encoded `Push`).
    pub request_bytes: usize,
    /// Bytes of each response frame (an encoded `Ack` with receipts).
    pub response_bytes: usize,
    /// Wall time.
    pub elapsed_s: f64,
    /// Requests answered per second.
    pub requests_per_s: f64,
    /// `requests_per_s` × `records_per_request`.
    pub records_per_s: f64,
}

/// The frames of one push of `envelopes` and of its acknowledgement. The receipts are
/// stand-ins of a receipt's size (a real one is signed canonical JSON naming the record).
pub(crate) fn frames(envelopes: &[Envelope]) -> Result<(Vec<u8>, Vec<u8>)> {
    let push = Message::Push(Push {
        records: envelopes.to_vec(),
    })
    .encode()?;
    let receipt = |e: &Envelope| {
        Signed {
        bytes: format!(
            r#"{{"agency":"GR-HCG","at":"2026-11-28T16:54:02Z","kind":"receipt","record":"{}","v":1}}"#,
            e.id().to_hex()
        )
        .into_bytes(),
        signature: [7; 64],
    }
    };
    let ack = Message::Ack(Ack {
        results: envelopes.iter().map(|e| AckEntry::Stored(e.id())).collect(),
        receipts: envelopes.iter().map(receipt).collect(),
    })
    .encode()?;
    Ok((push, ack))
}

type RawSwarm = Swarm<request_response::Behaviour<FrameCodec>>;

fn swarm() -> Result<RawSwarm> {
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                FrameCodec::default(),
                [(PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(30)),
            )
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build())
}

/// Sends `requests` frames of `request` bytes from one bare swarm to another over loopback
/// TCP + Noise + Yamux, `window` at a time; the responder answers each with `response` bytes
/// and does nothing else.
pub(crate) async fn transport(
    request: Vec<u8>,
    response: Vec<u8>,
    records_per_request: usize,
    requests: usize,
    window: usize,
) -> Result<TransportFigures> {
    let mut server = swarm()?;
    server.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr: Multiaddr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = server.select_next_some().await {
            break address;
        }
    };
    let server_id = *server.local_peer_id();
    let (request_bytes, response_bytes) = (request.len(), response.len());
    let serve = tokio::spawn(async move {
        loop {
            if let SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            }) = server.select_next_some().await
            {
                let _ = server
                    .behaviour_mut()
                    .send_response(channel, Frame::new(response.clone()));
            }
        }
    });
    let mut client = swarm()?;
    client.add_peer_address(server_id, addr);
    let result = async {
        // one request first, so the connection is up before the clock starts
        run_requests(&mut client, server_id, &request, 1, 1).await?;
        let started = Instant::now();
        run_requests(&mut client, server_id, &request, requests, window).await?;
        Ok::<_, anyhow::Error>(started.elapsed().as_secs_f64())
    };
    let elapsed = tokio::time::timeout(Duration::from_secs(300), result).await;
    serve.abort();
    let elapsed = elapsed.context("the transport baseline took more than 300 s")??;
    let requests_per_s = requests as f64 / elapsed;
    Ok(TransportFigures {
        window,
        requests,
        records_per_request,
        request_bytes,
        response_bytes,
        elapsed_s: elapsed,
        requests_per_s,
        records_per_s: requests_per_s * records_per_request as f64,
    })
}

async fn run_requests(
    client: &mut RawSwarm,
    server: libp2p::PeerId,
    request: &[u8],
    total: usize,
    window: usize,
) -> Result<()> {
    let (mut sent, mut answered) = (0usize, 0usize);
    while sent < total.min(window.max(1)) {
        client
            .behaviour_mut()
            .send_request(&server, Frame::new(request.to_vec()));
        sent += 1;
    }
    while answered < total {
        match client.select_next_some().await {
            SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Response { .. },
                ..
            }) => {
                answered += 1;
                if sent < total {
                    client
                        .behaviour_mut()
                        .send_request(&server, Frame::new(request.to_vec()));
                    sent += 1;
                }
            }
            SwarmEvent::Behaviour(request_response::Event::OutboundFailure { error, .. }) => {
                bail!("a baseline request failed: {error}");
            }
            _ => {}
        }
    }
    Ok(())
}
