//! `accord-bench mesh` in a tiny configuration: the report is produced and adds up (every
//! record delivered, every store holds what it should, the efficiency line parses). No speed
//! is asserted: the figures depend on the machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use accord_bench::{MeshOptions, render, render_engines, run};
use accord_config::StoreEngine;

fn tiny(processes: bool, engine: StoreEngine) -> MeshOptions {
    MeshOptions {
        nodes: 3,
        records: 300,
        rate: None,
        catch_up: 300,
        in_flight: 2,
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
