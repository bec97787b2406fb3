//! `accord-bench mesh` in a tiny configuration: the report is produced and adds up (every
//! record delivered, every store holds what it should, the efficiency line parses). No speed
//! is asserted: the figures depend on the machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use accord_bench::{MeshOptions, render, render_engines, run};
use accord_config::StoreEngine;

fn tiny(processes: bool, engine: StoreEngine) -> MeshOptions {
    MeshOptions {
        nodes: 3,
        agreement_members: None,
        records: 300,
        rate: None,
        catch_up: 300,
        in_flight: 2,
        sync_interval_s: 2.0,
        verify_samples: 100,
        verify_time_s: 0.05,
        transport_requests: 20,
        timeout_s: 120,
        processes,
        engine,
        node_exe: Some(env!("CARGO_BIN_EXE_accord-bench").into()),
    }
}

#[test]
fn a_tiny_mesh_benchmark_reports_consistent_figures() {
    check(&run(tiny(false, StoreEngine::Sled)).unwrap());
}

#[test]
fn a_tiny_mesh_of_node_processes_on_fjall_reports_consistent_figures_and_memory_per_node() {
    let r = run(tiny(true, StoreEngine::Fjall)).unwrap();
    check(&r);
    assert_eq!(r.memory.nodes.len(), 3);
    for n in &r.memory.nodes {
        assert!(n.peak_kib > 0 && n.peak_kib >= n.rss_end_kib, "{n:?}");
    }
    let text = render(&r);
    assert!(
        text.contains("a process each") && text.contains("stores on fjall"),
        "{text}"
    );
    // each target beside this run's figure for it
    let efficiency = text
        .lines()
        .find(|l| l.trim_start().starts_with("efficiency ≥ 0.5"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        efficiency.contains(&format!("{:.2}", r.efficiency))
            && efficiency.contains("met")
            && efficiency.contains("not met") == (r.efficiency < 0.5),
        "{efficiency}"
    );
    assert!(text.contains("store ≤ 2.5 × the signed bytes"), "{text}");
    assert!(
        text.contains("not measured (run with --rate 1000)"),
        "{text}"
    );
    assert!(text.contains("the data (fjall)"), "{text}");

    // beside the same figures on sled: one line per figure, each with its ratio
    let sled = run(tiny(true, StoreEngine::Sled)).unwrap();
    check(&sled);
    let side = render_engines(&[sled.clone(), r.clone()]);
    let line = side
        .lines()
        .find(|l| l.trim_start().starts_with("delivered records/s"))
        .unwrap_or_else(|| panic!("{side}"));
    let ratio = r.publish.delivered_per_s / sled.publish.delivered_per_s;
    assert!(
        line.contains(&format!("{ratio:.2}×")),
        "{line} (expected {ratio:.2}×)"
    );
    assert!(
        side.contains("each ÷ sled") && side.contains("peak resident per node"),
        "{side}"
    );
}

#[test]
fn a_generated_federation_of_node_processes_delivers_everything_and_reports_its_traffic() {
    // 6 agencies: a regional agreement of 4 and a ring of 6 bilaterals
    let r = run(MeshOptions {
        nodes: 6,
        agreement_members: Some(4),
        records: 240,
        catch_up: 120,
        ..tiny(true, StoreEngine::Fjall)
    })
    .unwrap();
    let f = &r.federation;
    assert_eq!((f.agencies, f.agreements, f.largest_agreement), (6, 7, 4));
    assert_eq!(r.agencies.len(), 6);
    assert!(
        r.agencies.iter().all(|a| a.ends_with("-NCU")),
        "{:?}",
        r.agencies
    );
    let p = &r.publish;
    assert_eq!((p.published, p.delivered), (240, 240));
    // the regional lanes need 3 verifications, the ring's 1
    assert!(p.verifications_per_record > 1.0 && p.verifications_per_record < 3.0);
    // the last regional member missed the catch-up records and holds them now
    assert_eq!(r.catch_up.agency, r.agencies[3]);
    assert_eq!(r.catch_up.records, 120);
    for s in &r.stores {
        assert_eq!(s.records, s.expected, "{}", s.agency);
    }
    // each node is connected to its partners: regional members to 3 others and their ring
    // neighbours (2 of whom are regional members for the middle ones), the others to 2
    assert_eq!(f.nodes.len(), 6);
    assert!(f.connections_min >= 2 && f.connections_max <= 4, "{f:?}");
    assert!(f.convergence_s > 0.0 && f.window_s > 0.0);
    // records moved, and the sync status was counted apart
    for n in &f.nodes {
        assert!(
            n.bytes_per_s.get("push").copied().unwrap_or(0.0) > 0.0,
            "{n:?}"
        );
        assert!(
            n.bytes_per_s.get("ack").copied().unwrap_or(0.0) > 0.0,
            "{n:?}"
        );
    }
    assert!(f.sync_bytes_per_node_s > 0.0, "{f:?}");
    let text = render(&r);
    assert!(
        text.contains("federation: 6 agencies, 7 agreements (the largest of 4 members)"),
        "{text}"
    );
    assert!(
        text.contains("50 agencies converge, efficiency ≥ 0.25  not measured"),
        "{text}"
    );
}

fn check(r: &accord_bench::MeshReport) {
    assert_eq!(r.agencies, ["PK-FIA", "IR-FARAJA", "TR-JGK"]);

    // every record published was delivered to every running member of its agreement
    let p = &r.publish;
    assert_eq!(p.published, 300);
    assert_eq!(p.delivered, 300);
    assert_eq!(p.latency.samples + p.polled, p.delivered);
    // three running members of QUAD-2026 (BG-GDBP is not running, so no TR-BG-2026 lane)
    assert_eq!(p.verifications, 2 * 300);
    assert!((p.verifications_per_record - 2.0).abs() < 1e-9);
    assert!(p.latency.p50_ms <= p.latency.p99_ms && p.latency.p99_ms <= p.latency.max_ms);
    assert!(p.delivered_per_s > 0.0 && p.elapsed_s > 0.0);

    // the rejoining member holds everything it missed; every store holds what it should
    assert_eq!(r.catch_up.agency, "TR-JGK");
    assert_eq!(r.catch_up.records, 300);
    assert_eq!(r.catch_up.while_down.delivered, 300);
    assert!(r.catch_up.per_s > 0.0);
    assert_eq!(r.stores.len(), 3);
    for s in &r.stores {
        assert_eq!(s.records, s.expected, "{}", s.agency);
        assert!(s.bytes > 0, "{}", s.agency);
    }
    // warm-up (one per lane: 3) + 300 + 300 missed, all under QUAD-2026 held by all three
    assert!(r.stores.iter().all(|s| s.records == 603));

    // the baselines ran
    assert!(r.verify.raw_per_s > 0.0 && r.verify.full_per_s > 0.0);
    assert_eq!(r.transport.len(), 2);
    for t in &r.transport {
        assert_eq!(t.requests, 20);
        assert_eq!(t.records_per_request, 64);
        assert!(t.request_bytes > 64 * 100 && t.records_per_s > 0.0);
    }
    if r.memory.nodes.is_empty() {
        assert!(r.memory.peak_kib >= r.memory.rss_end_kib);
    }

    // the efficiency follows from the figures and has its own parseable line
    let expected = p.delivered_per_s * p.verifications_per_record
        / (r.machine.cores as f64 * r.verify.raw_per_s);
    assert!((r.efficiency - expected).abs() < 1e-9);
    let text = render(r);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("efficiency: "))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let shown: f64 = lines[0]["efficiency: ".len()..].parse().unwrap();
    assert!((shown - r.efficiency).abs() <= 0.005 + 1e-9, "{text}");
}
