//! The federation's shape and what its nodes send each other: convergence, connections per
//! node, and bytes per node per second by message kind (sync status above all, which grows
//! with members × streams), over the timed phase.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use accord_config::NodeConfig;
use accord_node::net::NodeHandle;

/// One node's connections and what it had sent, at one moment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// Known agencies connected.
    pub connections: usize,
    /// Messages and bytes sent so far, by kind (`Metrics::wire_sent_totals`).
    pub sent: BTreeMap<String, (u64, u64)>,
}

/// A running node's [`Snapshot`].
pub(crate) async fn snapshot(handle: &NodeHandle) -> Result<Snapshot> {
    let connections = handle.peers().await?.connected.len();
    let sent = handle
        .metrics()
        .wire_sent_totals()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    Ok(Snapshot { connections, sent })
}

/// One node over the timed phase.
#[derive(Clone, Debug, Serialize)]
pub struct NodeNetwork {
    /// The agency.
    pub agency: String,
    /// Known agencies connected at the end of the phase.
    pub connections: usize,
    /// Bytes sent per second over the phase, by message kind.
    pub bytes_per_s: BTreeMap<String, f64>,
    /// Messages sent per second over the phase, by message kind.
    pub messages_per_s: BTreeMap<String, f64>,
}

/// The federation: its shape, how long it took to converge, and its traffic in the timed phase.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FederationFigures {
    /// Agencies running.
    pub agencies: usize,
    /// Agreements among them.
    pub agreements: usize,
    /// Members of the largest one.
    pub largest_agreement: usize,
    /// The sync status interval the nodes ran with (s).
    pub sync_interval_s: f64,
    /// From the moment every node had been told its partners' addresses until one warm-up
    /// record per (node, agreement) was stored at every member: connections made, agreement
    /// texts confirmed, first deliveries.
    pub convergence_s: f64,
    /// The timed phase's length, over which the rates are taken (s).
    pub window_s: f64,
    /// Connections per node at the end of the phase: mean, least, most.
    pub connections_mean: f64,
    /// Least.
    pub connections_min: usize,
    /// Most.
    pub connections_max: usize,
    /// Sync status bytes sent per node per second: mean and most.
    pub sync_bytes_per_node_s: f64,
    /// Most.
    pub sync_bytes_per_node_s_max: f64,
    /// Sync status messages per node per second (mean).
    pub sync_messages_per_node_s: f64,
    /// Every kind's bytes sent per node per second (mean).
    pub bytes_per_node_s: f64,
    /// Per node.
    pub nodes: Vec<NodeNetwork>,
}

/// The figures from each running node's configuration and its snapshots at the start and the
/// end of a window of `window_s` seconds.
pub(crate) fn figures(
    cfgs: &[&NodeConfig],
    before: &[Snapshot],
    after: &[Snapshot],
    window_s: f64,
    convergence_s: f64,
    sync_interval_s: f64,
) -> FederationFigures {
    let mut agreements: BTreeMap<&accord_protocol::AgreementId, usize> = BTreeMap::new();
    for c in cfgs {
        for (id, a) in &c.agreements {
            agreements.insert(id, a.members.len());
        }
    }
    let w = window_s.max(1e-9);
    let nodes: Vec<NodeNetwork> = cfgs
        .iter()
        .zip(before.iter().zip(after))
        .map(|(c, (b, a))| {
            let delta = |k: &str, pick: fn(&(u64, u64)) -> u64| {
                let then = b.sent.get(k).map_or(0, pick);
                a.sent.get(k).map_or(0, pick).saturating_sub(then) as f64 / w
            };
            NodeNetwork {
                agency: c.agency.to_string(),
                connections: a.connections,
                bytes_per_s: a
                    .sent
                    .keys()
                    .map(|k| (k.clone(), delta(k, |v| v.1)))
                    .collect(),
                messages_per_s: a
                    .sent
                    .keys()
                    .map(|k| (k.clone(), delta(k, |v| v.0)))
                    .collect(),
            }
        })
        .collect();
    let n = nodes.len().max(1) as f64;
    let sync = |x: &NodeNetwork| x.bytes_per_s.get("sync-status").copied().unwrap_or(0.0);
    FederationFigures {
        agencies: cfgs.len(),
        agreements: agreements.len(),
        largest_agreement: agreements.values().copied().max().unwrap_or(0),
        sync_interval_s,
        convergence_s,
        window_s,
        connections_mean: nodes.iter().map(|x| x.connections as f64).sum::<f64>() / n,
        connections_min: nodes.iter().map(|x| x.connections).min().unwrap_or(0),
        connections_max: nodes.iter().map(|x| x.connections).max().unwrap_or(0),
        sync_bytes_per_node_s: nodes.iter().map(sync).sum::<f64>() / n,
        sync_bytes_per_node_s_max: nodes.iter().map(sync).fold(0.0, f64::max),
        sync_messages_per_node_s: nodes
            .iter()
            .map(|x| x.messages_per_s.get("sync-status").copied().unwrap_or(0.0))
            .sum::<f64>()
            / n,
        bytes_per_node_s: nodes
            .iter()
            .map(|x| x.bytes_per_s.values().sum::<f64>())
            .sum::<f64>()
            / n,
        nodes,
    }
}
