//! The node's metrics for Prometheus (`GET /metrics`, behind the API's bearer token; names
//! and meanings in docs/operations.md). Counters are counted where things happen (the actor's
//! events, publishing); the state — outboxes, catch-up, the audit log, partners' checkpoints,
//! the store's size, connections, alarms — is read when the metrics are scraped.

use std::collections::BTreeMap;
use std::sync::Mutex;

use accord_protocol::{AgencyId, AgreementId};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::net::alarms::AlarmKind;

type Labels = Vec<(&'static str, String)>;

fn label(name: &'static str, value: impl ToString) -> Labels {
    vec![(name, value.to_string())]
}

/// The node's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    published: Counter,
    received: Family<Labels, Counter>,
    refused: Family<Labels, Counter>,
    refused_by_peer: Family<Labels, Counter>,
    pushes: Family<Labels, Counter>,
    sent_records: Family<Labels, Counter>,
    sent_bytes: Family<Labels, Counter>,
    delivered: Family<Labels, Counter>,
    catch_up_total: Family<Labels, Counter>,
    push_failures: Family<Labels, Counter>,
    connections_refused: Family<Labels, Counter>,
    inbound_failures: Family<Labels, Counter>,
    dial_failures: Family<Labels, Counter>,
    wire_messages: Family<Labels, Counter>,
    wire_bytes: Family<Labels, Counter>,
    records: Gauge,
    outbox: Family<Labels, Gauge>,
    catch_up_fetched: Family<Labels, Gauge>,
    catch_up_expected: Family<Labels, Gauge>,
    audit_entries: Gauge,
    partner_checkpoint_count: Family<Labels, Gauge>,
    partner_checkpoint_time: Family<Labels, Gauge>,
    store_bytes: Gauge,
    connected: Family<Labels, Gauge>,
    connected_total: Gauge,
    alarms: Family<Labels, Gauge>,
    in_effect: Family<Labels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric, all at zero.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("accord");
        let m = Self {
            registry: Mutex::new(Registry::default()),
            published: Counter::default(),
            received: Family::default(),
            refused: Family::default(),
            refused_by_peer: Family::default(),
            pushes: Family::default(),
            sent_records: Family::default(),
            sent_bytes: Family::default(),
            delivered: Family::default(),
            catch_up_total: Family::default(),
            push_failures: Family::default(),
            connections_refused: Family::default(),
            inbound_failures: Family::default(),
            dial_failures: Family::default(),
            wire_messages: Family::default(),
            wire_bytes: Family::default(),
            records: Gauge::default(),
            outbox: Family::default(),
            catch_up_fetched: Family::default(),
            catch_up_expected: Family::default(),
            audit_entries: Gauge::default(),
            partner_checkpoint_count: Family::default(),
            partner_checkpoint_time: Family::default(),
            store_bytes: Gauge::default(),
            connected: Family::default(),
            connected_total: Gauge::default(),
            alarms: Family::default(),
            in_effect: Family::default(),
        };
        r.register(
            "records_published",
            "Own records published through the running node",
            m.published.clone(),
        );
        r.register(
            "records_received",
            "Records received and stored, by the peer they came from",
            m.received.clone(),
        );
        r.register(
            "records_refused",
            "Requests and records of peers refused, by reason",
            m.refused.clone(),
        );
        r.register(
            "refused_by_peer",
            "Records and requests of this node a peer refused, by peer and reason",
            m.refused_by_peer.clone(),
        );
        r.register(
            "pushes",
            "Pushes and range answers sent, by peer",
            m.pushes.clone(),
        );
        r.register(
            "sent_records",
            "Records sent in pushes and range answers, by peer",
            m.sent_records.clone(),
        );
        r.register(
            "sent_bytes",
            "Bytes of pushes and range answers sent, by peer",
            m.sent_bytes.clone(),
        );
        r.register(
            "delivered",
            "Own records a peer acknowledged with a signed receipt, by peer",
            m.delivered.clone(),
        );
        r.register(
            "catch_up_records",
            "Records fetched by catch-up, by agreement",
            m.catch_up_total.clone(),
        );
        r.register(
            "push_failures",
            "Pushes that failed (no answer, a bad one, a transient refusal), by peer",
            m.push_failures.clone(),
        );
        r.register(
            "connections_refused",
            "Incoming connections refused, by reason (unknown-key, too-fast, connection-limit, handshake-failed)",
            m.connections_refused.clone(),
        );
        r.register(
            "inbound_failures",
            "Requests cut off or timed out before they were read, by peer",
            m.inbound_failures.clone(),
        );
        r.register(
            "dial_failures",
            "Dials of a known agency that failed, by agency",
            m.dial_failures.clone(),
        );
        r.register(
            "wire_messages_sent",
            "Messages sent to peers (requests and answers), by kind (push, ack, sync-status, range-request, range-response, refused)",
            m.wire_messages.clone(),
        );
        r.register(
            "wire_bytes_sent",
            "Bytes of the messages sent to peers, by kind, before Noise and Yamux framing",
            m.wire_bytes.clone(),
        );
        r.register(
            "records_held",
            "Records held in the store",
            m.records.clone(),
        );
        r.register(
            "outbox_records",
            "Own records waiting for a peer's acknowledgement, by peer and agreement",
            m.outbox.clone(),
        );
        r.register(
            "catch_up_fetched_records",
            "Records the running catch-up has fetched, by agreement",
            m.catch_up_fetched.clone(),
        );
        r.register(
            "catch_up_expected_records",
            "Records the running catch-up expects in all, by agreement",
            m.catch_up_expected.clone(),
        );
        r.register(
            "audit_log_entries",
            "Entries of the signed audit log",
            m.audit_entries.clone(),
        );
        r.register(
            "partner_checkpoint_slot",
            "The slot of the latest slot checkpoint each partner gave (the last moment of its log this node witnessed)",
            m.partner_checkpoint_count.clone(),
        );
        r.register(
            "partner_checkpoint_time_seconds",
            "When the latest slot checkpoint each partner gave was signed (Unix time)",
            m.partner_checkpoint_time.clone(),
        );
        r.register(
            "store_bytes",
            "Bytes of the files in the data directory",
            m.store_bytes.clone(),
        );
        r.register(
            "peer_connected",
            "1 for each known agency connected now",
            m.connected.clone(),
        );
        r.register(
            "connected_peers",
            "Known agencies connected now",
            m.connected_total.clone(),
        );
        r.register(
            "alarms",
            "Alarms raised and not cleared, by kind (docs/api.md)",
            m.alarms.clone(),
        );
        r.register(
            "agreement_in_effect",
            "1 when the agreement is in effect, 0 when not (see the not-in-effect alarm)",
            m.in_effect.clone(),
        );
        *m.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = r;
        m
    }

    /// An own record was published through the running node.
    pub fn published(&self) {
        self.published.inc();
    }

    /// Counts what an event says happened.
    pub fn event(&self, e: &crate::net::NodeEvent) {
        use crate::net::NodeEvent;
        match e {
            NodeEvent::Stored { from, .. } => {
                self.received.get_or_create(&label("from", from)).inc();
            }
            NodeEvent::Rejected { code, .. } => {
                self.refused
                    .get_or_create(&label("reason", reason(*code)))
                    .inc();
            }
            NodeEvent::RefusedByPeer { peer, code, .. } => {
                self.refused_by_peer
                    .get_or_create(&vec![("peer", peer.to_string()), ("reason", reason(*code))])
                    .inc();
            }
            NodeEvent::Sent { to, records, bytes } => {
                let l = label("peer", to);
                self.pushes.get_or_create(&l).inc();
                self.sent_records
                    .get_or_create(&l)
                    .inc_by(records.len() as u64);
                self.sent_bytes.get_or_create(&l).inc_by(*bytes as u64);
            }
            NodeEvent::Delivered { to, .. } => {
                self.delivered.get_or_create(&label("peer", to)).inc();
            }
            _ => {}
        }
    }

    /// A push to `peer` failed.
    pub fn push_failed(&self, peer: &AgencyId) {
        self.push_failures.get_or_create(&label("peer", peer)).inc();
    }

    /// An incoming connection was refused for `reason`.
    pub fn connection_refused(&self, reason: &str) {
        self.connections_refused
            .get_or_create(&label("reason", reason))
            .inc();
    }

    /// A request of `peer` was cut off or timed out before it was read.
    pub fn inbound_failed(&self, peer: &str) {
        self.inbound_failures
            .get_or_create(&label("peer", peer))
            .inc();
    }

    /// A dial of `peer` failed.
    pub fn dial_failed(&self, peer: &AgencyId) {
        self.dial_failures.get_or_create(&label("peer", peer)).inc();
    }

    /// `frame` was sent to a peer; its kind is its wire kind code (the frame's second byte).
    pub fn wire_sent(&self, frame: &[u8]) {
        let l = label("kind", wire_kind(frame.get(1).copied()));
        self.wire_messages.get_or_create(&l).inc();
        self.wire_bytes.get_or_create(&l).inc_by(frame.len() as u64);
    }

    /// (messages, bytes) sent of each kind so far (the kinds sent at all).
    pub fn wire_sent_totals(&self) -> BTreeMap<&'static str, (u64, u64)> {
        WIRE_KINDS
            .iter()
            .filter_map(|(_, kind)| {
                let l = label("kind", kind);
                let n = self.wire_messages.get(&l)?.get();
                let b = self.wire_bytes.get(&l).map_or(0, |c| c.get());
                Some((*kind, (n, b)))
            })
            .collect()
    }

    /// Records fetched by catch-up under `agreement`.
    pub fn catch_up(&self, agreement: &AgreementId, n: u64) {
        self.catch_up_total
            .get_or_create(&label("agreement", agreement))
            .inc_by(n);
    }

    /// The metrics in the Prometheus text format, with the state as `now` says it is.
    pub fn render(&self, now: &State) -> String {
        self.records.set(now.records as i64);
        self.outbox.clear();
        for ((peer, agreement), n) in &now.outbox {
            self.outbox
                .get_or_create(&vec![
                    ("peer", peer.to_string()),
                    ("agreement", agreement.to_string()),
                ])
                .set(*n as i64);
        }
        self.catch_up_fetched.clear();
        self.catch_up_expected.clear();
        for (agreement, (fetched, expected)) in &now.catch_up {
            let l = label("agreement", agreement);
            self.catch_up_fetched.get_or_create(&l).set(*fetched as i64);
            self.catch_up_expected
                .get_or_create(&l)
                .set(*expected as i64);
        }
        self.audit_entries.set(now.audit_entries as i64);
        for (partner, (count, time)) in &now.partner_checkpoints {
            let l = label("partner", partner);
            self.partner_checkpoint_count
                .get_or_create(&l)
                .set(*count as i64);
            self.partner_checkpoint_time.get_or_create(&l).set(*time);
        }
        self.store_bytes.set(now.store_bytes as i64);
        self.connected.clear();
        for peer in &now.connected {
            self.connected.get_or_create(&label("peer", peer)).set(1);
        }
        self.connected_total.set(now.connected.len() as i64);
        for kind in AlarmKind::ALL {
            let n = now.alarms.get(&kind).copied().unwrap_or(0);
            self.alarms
                .get_or_create(&label("kind", kind.as_str()))
                .set(n as i64);
        }
        for (agreement, yes) in &now.in_effect {
            self.in_effect
                .get_or_create(&label("agreement", agreement))
                .set(i64::from(*yes));
        }
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // writing into a String cannot fail
        let _ = encode(&mut out, &registry);
        out
    }
}

/// The node's state when the metrics are scraped.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Records held.
    pub records: usize,
    /// Outbox entries by (peer, agreement).
    pub outbox: BTreeMap<(AgencyId, AgreementId), usize>,
    /// Running catch-ups: (fetched, expected) by agreement.
    pub catch_up: BTreeMap<AgreementId, (u64, u64)>,
    /// The audit log's length.
    pub audit_entries: u64,
    /// The latest slot checkpoint of each partner: (slot, signing time).
    pub partner_checkpoints: BTreeMap<AgencyId, (u64, i64)>,
    /// Bytes of the data directory's files.
    pub store_bytes: u64,
    /// Agencies connected now.
    pub connected: Vec<AgencyId>,
    /// Alarms raised, by kind.
    pub alarms: BTreeMap<AlarmKind, usize>,
    /// Whether each agreement is in effect.
    pub in_effect: BTreeMap<AgreementId, bool>,
}

/// The wire kind codes (docs/protocol.md §6) and the names the metrics label them with.
const WIRE_KINDS: [(u8, &str); 6] = [
    (1, "push"),
    (2, "ack"),
    (3, "sync-status"),
    (4, "range-request"),
    (5, "range-response"),
    (6, "refused"),
];

fn wire_kind(code: Option<u8>) -> &'static str {
    WIRE_KINDS
        .iter()
        .find(|(c, _)| Some(*c) == code)
        .map_or("other", |(_, k)| k)
}

/// A reject code's name, as the metrics label it.
fn reason(code: u8) -> String {
    format!("{:?}", accord_protocol::wire::RejectCode::from_code(code)).to_lowercase()
}

/// The bytes of every file below `dir`.
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
