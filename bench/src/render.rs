//! The mesh report as text: one run's figures (`render`), issue 22's targets beside them
//! (`render_targets`), and several engines' runs side by side (`render_engines`).

use std::fmt::Write as _;

use crate::MeshReport;

/// A figure of [`render_engines`]: its label, its unit, how to read it from a report, and
/// whether higher is better.
type Row = (&'static str, &'static str, fn(&MeshReport) -> f64, bool);

/// The engines' figures side by side, each as a ratio to the first engine's.
pub fn render_engines(reports: &[MeshReport]) -> String {
    let mut s = String::new();
    let Some(base) = reports.first() else {
        return s;
    };
    let peak = |r: &MeshReport| {
        let n = r.memory.nodes.len().max(1) as f64;
        if r.memory.nodes.is_empty() {
            r.memory.peak_kib as f64 / 1024.0
        } else {
            r.memory
                .nodes
                .iter()
                .map(|m| m.peak_kib as f64)
                .sum::<f64>()
                / n
                / 1024.0
        }
    };
    let rows: [Row; 8] = [
        (
            "delivered",
            "records/s",
            |r| r.publish.delivered_per_s,
            true,
        ),
        ("efficiency", "", |r| r.efficiency, true),
        ("latency p50", "ms", |r| r.publish.latency.p50_ms, false),
        ("latency p99", "ms", |r| r.publish.latency.p99_ms, false),
        ("catch-up", "records/s", |r| r.catch_up.per_s, true),
        ("catch-up ÷ verify_strict", "", |r| r.catch_up_ratio, true),
        ("store ÷ signed bytes", "", |r| r.store_ratio, false),
        ("raw verify_strict", "/s", |r| r.verify.raw_per_s, true),
    ];
    let _ = writeln!(s);
    let names: Vec<String> = reports
        .iter()
        .map(|r| r.options.engine.to_string())
        .collect();
    let _ = writeln!(
        s,
        "engines side by side (each ÷ {}; the machine's verify rate is measured in each run):",
        names[0]
    );
    let _ = write!(s, "  {:<26}", "figure");
    for n in &names {
        let _ = write!(s, "{n:>14}");
    }
    let _ = writeln!(s, "{:>10}", "ratio");
    let mut line =
        |label: &str, unit: &str, f: &dyn Fn(&MeshReport) -> f64, higher_better: bool| {
            let _ = write!(
                s,
                "  {:<26}",
                format!("{label} {unit}").trim_end().to_owned()
            );
            for r in reports {
                let _ = write!(s, "{:>14.2}", f(r));
            }
            let b = f(base);
            let ratios: Vec<String> = reports[1..]
                .iter()
                .map(|r| {
                    if b > 0.0 {
                        format!("{:.2}×", f(r) / b)
                    } else {
                        "-".into()
                    }
                })
                .collect();
            let _ = writeln!(
                s,
                "{:>10}  ({})",
                ratios.join(" "),
                if higher_better {
                    "higher is better"
                } else {
                    "lower is better"
                }
            );
        };
    for (label, unit, f, hb) in rows {
        line(label, unit, &f, hb);
    }
    line("peak resident per node", "MiB", &peak, false);
    s
}

/// The report as text; the efficiency has a line of its own: `efficiency: X.XX`.
pub fn render(r: &MeshReport) -> String {
    let mut s = String::new();
    let p = &r.publish;
    let c = &r.catch_up;
    let _ = writeln!(s, "accord-bench mesh");
    let _ = writeln!(
        s,
        "machine: {} cores, {}; nodes: {} ({}), stores on {}",
        r.machine.cores,
        r.machine.cpu,
        r.agencies.join(", "),
        if r.options.processes {
            "a process each"
        } else {
            "one process, a task set each"
        },
        r.options.engine
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "publish: {} records, offered {}, {} in flight per (node, agreement)",
        p.published,
        p.offered_per_s
            .map_or("as fast as possible".to_owned(), |o| format!("{o:.0}/s")),
        r.options.in_flight
    );
    let _ = writeln!(
        s,
        "  published            {:>10.0} records/s (publish calls)",
        p.published_per_s
    );
    let _ = writeln!(
        s,
        "  publish cap          {:>10.0} records/s: {} calls in flight ÷ {:.1} ms per call; \
         delivered is {:.0} % of it",
        p.publish_cap_per_s,
        p.publish_in_flight,
        p.publish_call_ms,
        if p.publish_cap_per_s > 0.0 {
            100.0 * p.delivered_per_s / p.publish_cap_per_s
        } else {
            0.0
        }
    );
    let _ = writeln!(
        s,
        "  delivered            {:>10} of {} ({} by store polling, {} events lost)",
        p.delivered, p.published, p.polled, p.lagged_events
    );
    let _ = writeln!(
        s,
        "  delivered rate       {:>10.0} records/s over {:.2} s",
        p.delivered_per_s, p.elapsed_s
    );
    let _ = writeln!(
        s,
        "  verifications        {:>10} ({:.2} per record)",
        p.verifications, p.verifications_per_record
    );
    let _ = writeln!(
        s,
        "  latency              p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
        p.latency.p50_ms, p.latency.p99_ms, p.latency.max_ms, p.latency.samples
    );
    let _ = write!(s, "{}", render_federation(r));
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "verify (one core, {} records): verify_strict {:.0}/s; full verify {:.0}/s",
        r.verify.samples, r.verify.raw_per_s, r.verify.full_per_s
    );
    for t in &r.transport {
        let _ = writeln!(
            s,
            "bare request-response, {} in flight: {:.0} requests/s = {:.0} records/s ({} B request, {} B response)",
            t.window, t.requests_per_s, t.records_per_s, t.request_bytes, t.response_bytes
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "catch-up: {} missed {} records (delivered to the others at {:.0}/s); it held them all {:.2} s after restarting: {:.0} records/s",
        c.agency, c.records, c.while_down.delivered_per_s, c.elapsed_s, c.per_s
    );
    if r.memory.nodes.is_empty() {
        let _ = writeln!(
            s,
            "memory (whole process, all nodes): peak {} MiB; resident {} MiB after publishing, {} MiB at the end",
            r.memory.peak_kib / 1024,
            r.memory.rss_after_publish_kib / 1024,
            r.memory.rss_end_kib / 1024
        );
    }
    if r.memory.nodes.len() > SUMMARISE_OVER {
        let peaks: Vec<f64> = r
            .memory
            .nodes
            .iter()
            .map(|n| n.peak_kib as f64 / 1024.0)
            .collect();
        let _ = writeln!(
            s,
            "memory per node: peak {:.0} MiB mean, {:.0} least, {:.0} most ({} nodes)",
            peaks.iter().sum::<f64>() / peaks.len() as f64,
            peaks.iter().copied().fold(f64::INFINITY, f64::min),
            peaks.iter().copied().fold(0.0, f64::max),
            peaks.len()
        );
        let short: Vec<&str> = r
            .stores
            .iter()
            .filter(|st| st.records < st.expected)
            .map(|st| st.agency.as_str())
            .collect();
        let _ = writeln!(
            s,
            "stores: {} records held in all (expected {}); {}",
            r.stores.iter().map(|st| st.records).sum::<usize>(),
            r.stores.iter().map(|st| st.expected).sum::<usize>(),
            if short.is_empty() {
                "every node holds what it should".to_owned()
            } else {
                format!("short: {}", short.join(", "))
            }
        );
    } else {
        for n in &r.memory.nodes {
            let _ = writeln!(
                s,
                "memory {:<10} peak {:>4} MiB; resident {:>4} MiB after publishing, {:>4} MiB at the end",
                n.agency,
                n.peak_kib / 1024,
                n.rss_after_publish_kib / 1024,
                n.rss_end_kib / 1024
            );
        }
        for st in &r.stores {
            let _ = writeln!(
                s,
                "store {:<10} {:>8} records (expected {}), {:>10} bytes",
                st.agency, st.records, st.expected, st.bytes
            );
        }
    }
    let _ = writeln!(
        s,
        "store bytes per record {:.0}; signed record {:.0} bytes; ratio {:.2}",
        r.store_bytes_per_record, r.signed_bytes_per_record, r.store_ratio
    );
    let held: usize = r.stores.iter().map(|s| s.records).sum();
    let mut kinds: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for st in &r.stores {
        for k in &st.logical {
            *kinds.entry(k.kind.as_str()).or_default() += k.bytes;
        }
    }
    let logical: u64 = kinds.values().sum();
    if logical > 0 && held > 0 {
        let parts: Vec<String> = kinds
            .iter()
            .map(|(k, b)| format!("{k} {:.0}", *b as f64 / held as f64))
            .collect();
        let disk: u64 = r.stores.iter().map(|s| s.bytes).sum();
        let _ = writeln!(
            s,
            "  data per record {:.0} bytes ({}); on disk {:.2}x the data ({})",
            logical as f64 / held as f64,
            parts.join(", "),
            disk as f64 / logical as f64,
            r.options.engine
        );
    }
    let _ = writeln!(s);
    let _ = write!(s, "{}", render_targets(r));
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "ratios: catch-up / raw verify_strict = {:.2}; delivered / bare transport (1 in flight) = {:.4}",
        r.catch_up_ratio, r.transport_ratio
    );
    let _ = writeln!(
        s,
        "efficiency = {:.0} delivered/s × {:.2} verifications ÷ ({} cores × {:.0} verify_strict/s)",
        p.delivered_per_s, p.verifications_per_record, r.machine.cores, r.verify.raw_per_s
    );
    let _ = writeln!(s, "efficiency: {:.2}", r.efficiency);
    s
}

/// Past this many nodes, memory and stores are summarised rather than listed per node.
const SUMMARISE_OVER: usize = 8;

/// The federation's shape, convergence, connections and traffic.
fn render_federation(r: &MeshReport) -> String {
    let mut s = String::new();
    let f = &r.federation;
    let _ = writeln!(
        s,
        "federation: {} agencies, {} agreements (the largest of {} members); converged in {:.1} s \
         (connected, agreement texts confirmed, a first record per (node, agreement) delivered)",
        f.agencies, f.agreements, f.largest_agreement, f.convergence_s
    );
    let _ = writeln!(
        s,
        "  connections per node {:>10.1} mean, {} least, {} most",
        f.connections_mean, f.connections_min, f.connections_max
    );
    let _ = writeln!(
        s,
        "  sync status          {:>10.0} B/s per node ({:.0} most), {:.2} messages/s per node, \
         a full status every {:.0} s",
        f.sync_bytes_per_node_s,
        f.sync_bytes_per_node_s_max,
        f.sync_messages_per_node_s,
        f.sync_interval_s
    );
    let _ = writeln!(
        s,
        "  all messages sent    {:>10.0} B/s per node over the timed phase ({:.1} s)",
        f.bytes_per_node_s, f.window_s
    );
    s
}

/// Issue 22's targets, each beside the figure this run measured for it.
pub fn render_targets(r: &MeshReport) -> String {
    let mut s = String::new();
    let p = &r.publish;
    let met = |ok: bool| if ok { "met" } else { "not met" };
    let _ = writeln!(s, "targets (issue 22), this run:");
    let _ = writeln!(
        s,
        "  efficiency ≥ 0.5                        {:>8.2}   {}",
        r.efficiency,
        met(r.efficiency >= 0.5)
    );
    let _ = writeln!(
        s,
        "  catch-up ÷ raw verify_strict ≥ 0.5      {:>8.2}   {} ({} records)",
        r.catch_up_ratio,
        met(r.catch_up_ratio >= 0.5),
        r.catch_up.records
    );
    match p.offered_per_s {
        Some(rate) => {
            let _ = writeln!(
                s,
                "  p99 < 50 ms at 1,000 records/s offered  {:>8.1} ms {} (offered {rate:.0}/s{})",
                p.latency.p99_ms,
                met(p.latency.p99_ms < 50.0 && rate >= 1_000.0),
                if rate < 1_000.0 {
                    ": below the target's rate"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  p99 < 50 ms at 1,000 records/s offered  not measured (run with --rate 1000)"
            );
        }
    }
    let _ = writeln!(
        s,
        "  store ≤ 2.5 × the signed bytes          {:>8.2}   {}",
        r.store_ratio,
        met(r.store_ratio <= 2.5)
    );
    let peak = r
        .memory
        .nodes
        .iter()
        .map(|m| m.peak_kib)
        .max()
        .unwrap_or(r.memory.peak_kib) as f64
        / 1024.0;
    let held = r.stores.iter().map(|st| st.records).max().unwrap_or(0);
    let _ = writeln!(
        s,
        "  memory flat as the store grows          {peak:>8.0} MiB peak (largest node, {held} records \
         held; growth to 1,000,000: `cargo bench -p accord-node --bench engines`)"
    );
    let f = &r.federation;
    if f.agencies >= 50 {
        let _ = writeln!(
            s,
            "  {} agencies converge, efficiency ≥ 0.25  {:>8.2}   {} (converged in {:.1} s)",
            f.agencies,
            r.efficiency,
            met(r.efficiency >= 0.25),
            f.convergence_s
        );
    } else {
        let _ = writeln!(
            s,
            "  50 agencies converge, efficiency ≥ 0.25  not measured (run with --nodes 50 --processes)"
        );
    }
    s
}
