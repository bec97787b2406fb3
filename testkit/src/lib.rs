//! accord's test kit (not published): meshes of nodes on loopback built from examples/quad,
//! waiting on events under a timeout (never on bare sleeps), the raw test peer that speaks
//! accord's frames without a node behind it, and a flooding member's junk (`flood`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use accord_config::NodeConfig;
use accord_node::draft::parse_draft;
use accord_node::net::{NetConfig, NodeEvent, NodeHandle, Running, start};
use accord_node::store::Store;
use accord_protocol::{AgencyId, RecordId, SecretKey};
use tokio::sync::broadcast;

pub mod flood;

/// The five demo agencies, by directory name.
pub const QUAD: [&str; 5] = accord_node::demo::AGENCIES;

/// A copy of examples/quad in a temporary directory, every node listening on an ephemeral
/// loopback port (the same files `accord demo` uses).
pub fn quad_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    dir
}

/// Loads the configuration of one agency directory.
pub fn load(dir: &Path, agency: &str) -> NodeConfig {
    let path = dir.join(agency).join("node.toml");
    accord_config::load_node(&path, &|p: &Path| std::fs::read(p)).unwrap_or_else(|e| panic!("{e}"))
}

/// Fast timers for tests.
pub fn fast() -> NetConfig {
    NetConfig {
        tick: Duration::from_millis(50),
        sync_interval: Duration::from_millis(500),
        redial_min: Duration::from_millis(50),
        redial_max: Duration::from_millis(500),
        request_timeout: Duration::from_secs(10),
        ..NetConfig::default()
    }
}

/// One running node of a test mesh.
#[derive(Debug)]
pub struct TestNode {
    /// Its agency.
    pub agency: AgencyId,
    /// Its configuration.
    pub cfg: NodeConfig,
    /// Its handle.
    pub handle: NodeHandle,
    running: Option<Running>,
}

impl TestNode {
    /// Starts a node from its configuration.
    pub async fn start(cfg: NodeConfig) -> Self {
        Self::start_with(cfg, fast()).await
    }

    /// Starts a node from its configuration with the network's tunables `net`.
    pub async fn start_with(cfg: NodeConfig, net: NetConfig) -> Self {
        init_tracing();
        let agency = cfg.agency.clone();
        Self::try_start_with(cfg, net)
            .await
            .unwrap_or_else(|e| panic!("{agency}: cannot start: {e:#}"))
    }

    /// Starts a node, or says why it could not: the benchmarks' form. A node just stopped may
    /// still be closing its store; the store's lock is waited for (at most 30 s).
    pub async fn try_start_with(cfg: NodeConfig, net: NetConfig) -> anyhow::Result<Self> {
        use anyhow::Context;
        let key = SecretKey::from_key_file(
            &std::fs::read_to_string(&cfg.key_file)
                .with_context(|| format!("cannot read {}", cfg.key_file.display()))?,
        )?;
        let store = Arc::new(Store::open_waiting_as(
            &cfg.data_dir,
            cfg.store_engine,
            Duration::from_secs(30),
        )?);
        let running = start(cfg.clone(), key, store, net).await?;
        Ok(Self {
            agency: cfg.agency.clone(),
            cfg,
            handle: running.handle.clone(),
            running: Some(running),
        })
    }

    /// Stops the node and waits until its store is closed.
    ///
    /// Once it has stopped nothing may hold its store any more (no job left writing to it), so
    /// its data directory can be copied or replaced: asserted here for every test that stops a
    /// node.
    pub async fn stop(self) -> NodeConfig {
        let agency = self.agency.clone();
        self.try_stop()
            .await
            .unwrap_or_else(|e| panic!("{agency}: {e:#}"))
    }

    /// [`TestNode::stop`], saying what went wrong instead of panicking.
    pub async fn try_stop(mut self) -> anyhow::Result<NodeConfig> {
        let store = Arc::downgrade(self.handle.store());
        self.handle.shutdown().await?;
        if let Some(r) = self.running.take() {
            r.stopped().await;
        }
        let cfg = self.cfg.clone();
        drop(self);
        anyhow::ensure!(
            store.upgrade().is_none(),
            "its store is still held after the node stopped"
        );
        Ok(cfg)
    }

    /// Publishes a draft (JSON text) and returns the id.
    pub async fn publish(&self, draft: &str) -> RecordId {
        let d = parse_draft(draft.as_bytes()).unwrap();
        self.handle
            .publish(d, accord_node::clock::now())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.agency))
    }

    /// Whether the store holds a record.
    pub fn holds(&self, id: &RecordId) -> bool {
        self.handle.store().records().contains(id).unwrap()
    }
}

/// Tells every node where every other node listens (`accord demo`'s introductions).
pub async fn connect_all(nodes: &[&TestNode]) {
    let handles: Vec<&NodeHandle> = nodes.iter().map(|n| &n.handle).collect();
    accord_node::demo::introduce(&handles).await.unwrap();
}

/// The node's listen addresses (the node answers once it listens).
pub async fn wait_for_listen(h: &NodeHandle) -> Vec<libp2p::Multiaddr> {
    tokio::time::timeout(Duration::from_secs(10), h.listen_addrs())
        .await
        .expect("node never listened")
        .unwrap()
}

/// Waits until `cond` holds, re-checking after every event of any of `events` and at least
/// every 200 ms, for at most `timeout`. Panics with `what` on timeout.
pub async fn wait_until(
    events: &mut [broadcast::Receiver<NodeEvent>],
    timeout: Duration,
    what: &str,
    mut cond: impl FnMut() -> bool,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond() {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        let any = async {
            let futs = events.iter_mut().map(|r| Box::pin(r.recv()));
            let _ = libp2p::futures::future::select_all(futs).await;
        };
        let _ = tokio::time::timeout(Duration::from_millis(200), any).await;
    }
}

/// A draft under `agreement` with a summary.
pub fn draft(agreement: &str, category: &str, handling: &str, summary: &str) -> String {
    serde_json::json!({
        "agreement": agreement,
        "category": category,
        "handling": handling,
        "grading": "B2",
        "route": [{"country": "TR", "role": "transit"}],
        "summary": summary,
    })
    .to_string()
}

/// What a [`RawPeer`] puts on a stream: a length prefix, which may lie, then the bytes.
#[derive(Clone, Debug)]
pub struct RawFrame {
    /// The length the prefix announces.
    pub declared: u32,
    /// The bytes that follow it.
    pub bytes: Vec<u8>,
    /// Keep the stream open after the bytes, never finishing the request (a peer holding the
    /// node's buffers).
    pub hold: bool,
}

/// The codec of a [`RawPeer`]: it writes whatever [`RawFrame`] it is given, and reads
/// responses as accord frames, bounded as the node bounds them.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

async fn read_raw<T>(io: &mut T) -> std::io::Result<RawFrame>
where
    T: libp2p::futures::AsyncRead + Unpin + Send,
{
    use libp2p::futures::AsyncReadExt;
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let declared = u32::from_be_bytes(len);
    if declared as usize > accord_protocol::wire::MAX_FRAME_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("response of {declared} bytes"),
        ));
    }
    let mut bytes = vec![0u8; declared as usize];
    io.read_exact(&mut bytes).await?;
    Ok(RawFrame {
        declared,
        bytes,
        hold: false,
    })
}

async fn write_raw<T>(io: &mut T, frame: RawFrame) -> std::io::Result<()>
where
    T: libp2p::futures::AsyncWrite + Unpin + Send,
{
    use libp2p::futures::AsyncWriteExt;
    io.write_all(&frame.declared.to_be_bytes()).await?;
    io.write_all(&frame.bytes).await?;
    io.flush().await?;
    if frame.hold {
        std::future::pending::<()>().await;
    }
    io.close().await
}

impl libp2p::request_response::Codec for RawCodec {
    type Protocol = libp2p::StreamProtocol;
    type Request = RawFrame;
    type Response = RawFrame;

    async fn read_request<T>(&mut self, _: &Self::Protocol, io: &mut T) -> std::io::Result<RawFrame>
    where
        T: libp2p::futures::AsyncRead + Unpin + Send,
    {
        read_raw(io).await
    }

    async fn read_response<T>(
        &mut self,
        _: &Self::Protocol,
        io: &mut T,
    ) -> std::io::Result<RawFrame>
    where
        T: libp2p::futures::AsyncRead + Unpin + Send,
    {
        read_raw(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &Self::Protocol,
        io: &mut T,
        frame: RawFrame,
    ) -> std::io::Result<()>
    where
        T: libp2p::futures::AsyncWrite + Unpin + Send,
    {
        write_raw(io, frame).await
    }

    async fn write_response<T>(
        &mut self,
        _: &Self::Protocol,
        io: &mut T,
        frame: RawFrame,
    ) -> std::io::Result<()>
    where
        T: libp2p::futures::AsyncWrite + Unpin + Send,
    {
        write_raw(io, frame).await
    }
}

/// A bare libp2p peer speaking accord's request-response protocol with any key and any
/// message, down to a lying length prefix: the adversary in tests.
pub struct RawPeer {
    swarm: libp2p::Swarm<libp2p::request_response::Behaviour<RawCodec>>,
}

impl std::fmt::Debug for RawPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawPeer({})", self.swarm.local_peer_id())
    }
}

/// What a raw request came to.
#[derive(Debug)]
pub enum RawOutcome {
    /// A response arrived.
    Response(accord_protocol::Message),
    /// The request failed (no connection, protocol refused, timeout).
    Failed(String),
}

/// The libp2p identity of an agency key.
pub fn identity(key: &SecretKey) -> libp2p::identity::Keypair {
    let mut seed = key.to_seed();
    libp2p::identity::Keypair::ed25519_from_bytes(seed.as_mut_slice()).unwrap()
}

/// A bare swarm speaking accord's request-response protocol with `codec`, over TCP, Noise and
/// Yamux as a node does: the test peers' one transport.
pub fn bare_swarm<C>(
    identity: libp2p::identity::Keypair,
    codec: C,
) -> libp2p::Swarm<libp2p::request_response::Behaviour<C>>
where
    C: libp2p::request_response::Codec<Protocol = libp2p::StreamProtocol> + Clone + Send + 'static,
{
    use libp2p::request_response::{Behaviour, Config, ProtocolSupport};
    libp2p::SwarmBuilder::with_existing_identity(identity)
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            Behaviour::with_codec(
                codec,
                [(accord_node::net::codec::PROTOCOL, ProtocolSupport::Full)],
                Config::default().with_request_timeout(Duration::from_secs(10)),
            )
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build()
}

impl RawPeer {
    /// A peer with the given agency key.
    pub fn new(key: &SecretKey) -> Self {
        Self {
            swarm: bare_swarm(identity(key), RawCodec),
        }
    }

    /// Sends raw bytes as one frame to the node at `addr` with identity `peer` and waits for
    /// the outcome, at most 20 s.
    pub async fn request(
        &mut self,
        peer: libp2p::PeerId,
        addr: &libp2p::Multiaddr,
        bytes: Vec<u8>,
    ) -> RawOutcome {
        let declared = u32::try_from(bytes.len()).unwrap();
        self.request_frame(
            peer,
            addr,
            RawFrame {
                declared,
                bytes,
                hold: false,
            },
        )
        .await
    }

    /// Opens `streams` requests to `peer`, each announcing `declared` bytes and sending only
    /// `sent` of them, then holding the stream open; drives the connection until `stop`.
    pub async fn hold_streams(
        &mut self,
        peer: libp2p::PeerId,
        addr: &libp2p::Multiaddr,
        streams: usize,
        declared: u32,
        sent: usize,
        stop: &std::sync::atomic::AtomicBool,
    ) {
        use libp2p::futures::StreamExt;
        self.swarm.add_peer_address(peer, addr.clone());
        let body = vec![0x42u8; sent];
        for _ in 0..streams {
            self.swarm.behaviour_mut().send_request(
                &peer,
                RawFrame {
                    declared,
                    bytes: body.clone(),
                    hold: true,
                },
            );
        }
        drop(body);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = tokio::time::timeout(Duration::from_millis(100), self.swarm.select_next_some())
                .await;
        }
    }

    /// Sends `frame`, whatever its prefix announces, and waits for the outcome, at most 20 s.
    pub async fn request_frame(
        &mut self,
        peer: libp2p::PeerId,
        addr: &libp2p::Multiaddr,
        frame: RawFrame,
    ) -> RawOutcome {
        use libp2p::futures::StreamExt;
        use libp2p::request_response::{Event, Message};
        use libp2p::swarm::SwarmEvent;
        self.swarm.add_peer_address(peer, addr.clone());
        let id = self.swarm.behaviour_mut().send_request(&peer, frame);
        let wait = async {
            loop {
                match self.swarm.select_next_some().await {
                    SwarmEvent::Behaviour(Event::Message {
                        message:
                            Message::Response {
                                request_id,
                                response,
                            },
                        ..
                    }) if request_id == id => {
                        return match accord_protocol::Message::decode(&response.bytes) {
                            Ok(m) => RawOutcome::Response(m),
                            Err(e) => RawOutcome::Failed(format!("undecodable response: {e}")),
                        };
                    }
                    SwarmEvent::Behaviour(Event::OutboundFailure {
                        request_id, error, ..
                    }) if request_id == id => {
                        return RawOutcome::Failed(error.to_string());
                    }
                    _ => {}
                }
            }
        };
        match tokio::time::timeout(Duration::from_secs(20), wait).await {
            Ok(o) => o,
            Err(_) => RawOutcome::Failed("timed out".into()),
        }
    }

    /// Confirms `agreement`'s text with `node` as a member does before pushing under it: a
    /// sync status carrying the agreement's hash and no heads, answered by the node's own.
    pub async fn confirm_agreement(&mut self, node: &TestNode, agreement: &str) {
        let agreement = accord_protocol::AgreementId::new(agreement).unwrap();
        let status = accord_protocol::Message::SyncStatus(accord_protocol::wire::SyncStatus {
            agreements: vec![accord_protocol::wire::AgreementStatus {
                agreement: agreement.clone(),
                agreement_hash: node.cfg.agreements[&agreement].hash,
                heads: vec![],
                signatures: vec![],
            }],
            checkpoint: None,
            revocations: vec![],
        });
        let addr = wait_for_listen(&node.handle).await.remove(0);
        let answer = self.send(peer_of(node), &addr, &status).await;
        assert!(
            matches!(
                answer,
                RawOutcome::Response(accord_protocol::Message::SyncStatus(_))
            ),
            "{answer:?}"
        );
    }

    /// Drives the peer until `stop`, answering every request a node makes of it with `reply`
    /// and returning those requests, decoded, in the order they came; `heard` counts them as
    /// they come.
    pub async fn serve(
        &mut self,
        reply: &accord_protocol::Message,
        stop: &std::sync::atomic::AtomicBool,
        heard: &std::sync::atomic::AtomicUsize,
    ) -> Vec<accord_protocol::Message> {
        use libp2p::futures::StreamExt;
        use libp2p::request_response::{Event, Message};
        use libp2p::swarm::SwarmEvent;
        let bytes = reply.encode().unwrap();
        let mut got = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let Ok(event) =
                tokio::time::timeout(Duration::from_millis(100), self.swarm.select_next_some())
                    .await
            else {
                continue;
            };
            if let SwarmEvent::Behaviour(Event::Message {
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            }) = event
            {
                got.push(
                    accord_protocol::Message::decode(&request.bytes)
                        .unwrap_or_else(|e| panic!("the node sent an undecodable request: {e}")),
                );
                heard.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let frame = RawFrame {
                    declared: u32::try_from(bytes.len()).unwrap(),
                    bytes: bytes.clone(),
                    hold: false,
                };
                let _ = self.swarm.behaviour_mut().send_response(channel, frame);
            }
        }
        got
    }

    /// Encodes and sends a message.
    pub async fn send(
        &mut self,
        peer: libp2p::PeerId,
        addr: &libp2p::Multiaddr,
        msg: &accord_protocol::Message,
    ) -> RawOutcome {
        self.request(peer, addr, msg.encode().unwrap()).await
    }
}

/// The secret key of a demo agency.
pub fn demo_key(dir: &Path, agency: &str) -> SecretKey {
    SecretKey::from_key_file(&std::fs::read_to_string(dir.join(agency).join("agency.key")).unwrap())
        .unwrap()
}

/// The peer id of a node.
pub fn peer_of(node: &TestNode) -> libp2p::PeerId {
    let key = demo_key(
        node.cfg.path.parent().unwrap().parent().unwrap(),
        &node.agency.as_str().to_lowercase(),
    );
    accord_node::net::peer_id(&key.public_key()).unwrap()
}

/// Logs to the test's output when `RUST_LOG` is set.
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// Writes agreement `id` among `members` (directory names are the agency ids in lower case)
/// with a `[matching]` clause of `lookups_per_day`, victim data not allowed, signed by every
/// member with its demo key, and adds it to each member's node file (hit / no-hit tests and
/// the matching benchmark, docs/matching.md).
pub fn matching_agreement(fed: &Path, id: &str, members: &[&str], lookups_per_day: u32) {
    agreement_with(
        fed,
        id,
        members,
        &format!("[matching]\nlookups_per_day = {lookups_per_day}\n"),
    );
}

/// Writes agreement `id` among `members` ending with the TOML `clauses` (e.g. `[release]`),
/// victim data not allowed, signed by every member with its demo key, and adds it to each
/// member's node file.
pub fn agreement_with(fed: &Path, id: &str, members: &[&str], clauses: &str) {
    let file = format!("{}.toml", id.to_ascii_lowercase());
    let focal: String = members
        .iter()
        .map(|m| {
            format!(
                "\n[focal_points.{m}]\nname = \"Focal point of {m}\"\ncontact = \"fp@{}.example\"\n",
                m.to_ascii_lowercase()
            )
        })
        .collect();
    let list: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
    let text = format!(
        r#"id = "{id}"
title = "Hit / no-hit"
kind = "{}"
members = [{}]
valid_from = 2026-01-01
valid_until = 2030-12-31
categories = ["smuggling-network", "communication", "travel-document", "alert", "request-for-information", "response"]
most_permissive_handling = "H0"
retention_days = 1095
onward_sharing = "never"

[victim_data]
allowed = false
{focal}
{clauses}"#,
        if members.len() == 2 {
            "bilateral"
        } else {
            "multilateral"
        },
        list.join(", ")
    );
    std::fs::write(fed.join("agreements").join(&file), &text).unwrap();
    let hash = accord_protocol::agreement::agreement_hash(text.as_bytes());
    let mut sigs = format!("# Signatures of {id}\n");
    for m in members {
        let key = demo_key(fed, &m.to_ascii_lowercase());
        let sig = accord_protocol::agreement::sign_agreement(&key, &hash);
        let agency = AgencyId::new(m).unwrap();
        sigs.push_str(&accord_protocol::agreement::signature_line(&agency, &sig));
        sigs.push('\n');
    }
    std::fs::write(fed.join("agreements").join(format!("{file}.sigs")), sigs).unwrap();
    for m in members {
        let node = fed.join(m.to_ascii_lowercase()).join("node.toml");
        let t = std::fs::read_to_string(&node).unwrap();
        let moved = t.replacen(
            "agreements = [",
            &format!("agreements = [\"../agreements/{file}\", "),
            1,
        );
        assert_ne!(t, moved, "{m}'s node file lists its agreements");
        std::fs::write(&node, moved).unwrap();
    }
}
