//! Watching a node: alarms in status, what the log says, and metrics that match what the
//! node did.

use super::*;

#[test]
fn a_cloned_key_shows_as_an_alarm_in_status() {
    // BG-GDBP has not signed TR-BG-2026: it is not in effect, and the status says why
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let sigs = root.path().join("agreements/tr-bg-2026.toml.sigs");
    let kept: String = std::fs::read_to_string(&sigs)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("BG-GDBP "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&sigs, kept).unwrap();
    let mut fed = common::Federation::start_in(root, &TR_GR);
    let (tr, gr) = (fed.node("TR-JGK"), fed.node("GR-HCG"));
    let summaries = |who: &str| -> Vec<serde_json::Value> {
        (1..=3)
            .map(|i| {
                let mut d = vessel();
                d["summary"] = serde_json::json!(format!("{who}: sighting {i} of the vessel."));
                d
            })
            .collect()
    };
    let mut ids = vec![];
    for d in summaries("GR-HCG") {
        let (status, body) = fed.post(gr, &d);
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    fed.wait_until("TR-JGK to hold GR-HCG's records", |f| {
        let held = f.ids_api("TR-JGK");
        ids.iter().all(|id| held.contains(id))
    });

    // GR-HCG's host is cloned, with an empty store: the clone numbers its records from 1 again
    assert!(fed.stop_one(gr).success());
    let home = fed.root.path().join("gr-hcg");
    let clone = fed.root.path().join("gr-clone");
    std::fs::create_dir(&clone).unwrap();
    for f in ["node.toml", "agency.key", "api.token"] {
        std::fs::copy(home.join(f), clone.join(f)).unwrap();
    }
    // it publishes before it reaches a partner (which would give it its records back first)
    fed.nodes[gr].config = clone.join("node.toml");
    for d in summaries("the clone") {
        let out = fed.publish_cli("GR-HCG", &d);
        assert!(out.status.success(), "{}", text(&out).1);
    }
    fed.restart(gr);

    // TR-JGK refuses each and raises one alarm, logged once, listed in its status
    fed.wait_until("TR-JGK to raise the equivocation alarm", |f| {
        let (_, st) = f.get(tr, "/v1/status");
        st["alarms"].as_array().is_some_and(|a| {
            a.iter().any(|x| {
                x["kind"] == "equivocation"
                    && x["subject"] == "GR-HCG"
                    && x["count"].as_u64() >= Some(3)
            })
        })
    });
    let (_, st) = fed.get(tr, "/v1/status");
    assert_eq!(st["equivocations"].as_array().unwrap().len(), 3, "{st}");
    assert_eq!(st["agreements"]["QUAD-2026"]["in_effect"], true, "{st}");
    assert_eq!(st["agreements"]["TR-BG-2026"]["in_effect"], false, "{st}");
    assert!(
        st["agreements"]["TR-BG-2026"]["why_not"]
            .as_str()
            .unwrap()
            .contains("not yet signed by BG-GDBP"),
        "{st}"
    );
    assert!(
        st["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "not-in-effect" && a["subject"] == "TR-BG-2026"),
        "{st}"
    );
    let log = fed.log(tr);
    let raised = log
        .lines()
        .filter(|l| l.contains("ALARM:") && l.contains("equivocation"))
        .count();
    assert_eq!(
        raised, 1,
        "the alarm is logged once, not per record:\n{log}"
    );

    // `accord status` says it in words
    let cfg = fed.config("TR-JGK").to_owned();
    let printed = ok(&["status", "--config", &cfg]);
    assert!(printed.contains("ERROR equivocation GR-HCG"), "{printed}");
    assert!(
        printed.contains(" times): GR-HCG signed two different records"),
        "{printed}"
    );
    assert!(
        printed.contains("TR-BG-2026     NOT in effect"),
        "{printed}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--config", &cfg, "--json"])).unwrap();
    assert_eq!(json["agency"], "TR-JGK");

    // the alarm outlives a restart: its evidence is in the store
    assert!(fed.stop_one(tr).success());
    fed.restart(tr);
    let (_, st) = fed.get(tr, "/v1/status");
    assert!(
        st["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "equivocation" && a["subject"] == "GR-HCG"),
        "{st}"
    );
    // with no node running, `accord status` says so (exit 3)
    fed.stop();
    let out = common::accord(&["status", "--config", &cfg]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out).1);
    assert!(
        text(&out).1.contains("no running node answers for TR-JGK"),
        "{}",
        text(&out).1
    );
}

#[test]
fn the_log_says_what_arrives_and_when_catch_up_starts_and_ends() {
    let members = [
        ("tr-jgk", "TR-JGK"),
        ("gr-hcg", "GR-HCG"),
        ("pk-fia", "PK-FIA"),
    ];
    let mut fed = common::Federation::start(&members);
    let (tr, gr, pk) = (fed.node("TR-JGK"), fed.node("GR-HCG"), fed.node("PK-FIA"));
    // GR-HCG is down while PK-FIA publishes; TR-JGK receives everything, then PK-FIA goes down
    assert!(fed.stop_one(gr).success());
    let mut ids = vec![];
    for i in 0..20 {
        let mut d = vessel();
        d["summary"] = serde_json::json!(format!("Pakistani sighting {i}."));
        let (status, body) = fed.post(pk, &d);
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    fed.wait_until("TR-JGK to hold PK-FIA's records", |f| {
        let held = f.ids_api("TR-JGK");
        ids.iter().all(|id| held.contains(id))
    });
    fed.wait_until("PK-FIA's log to say its outbox to TR-JGK drained", |f| {
        f.log(pk).contains("outbox to TR-JGK drained")
    });
    assert!(fed.stop_one(pk).success());
    // GR-HCG comes back, logging JSON: it catches up from TR-JGK, the only member up
    fed.nodes[gr].args = vec!["--log-format".into(), "json".into()];
    let before = fed.log(gr).len();
    fed.restart(gr);
    fed.wait_until("GR-HCG to hold PK-FIA's records", |f| {
        let held = f.ids_api("GR-HCG");
        ids.iter().all(|id| held.contains(id))
    });
    fed.wait_until("GR-HCG's log to say the catch-up is done", |f| {
        f.log(gr)[before..].contains("catch-up done under QUAD-2026")
    });
    let lines = json_lines(&fed.log(gr)[before..]);
    assert!(!lines.is_empty(), "no JSON log lines");
    let message = |l: &serde_json::Value| l["message"].as_str().unwrap_or("").to_owned();
    let started: Vec<_> = lines
        .iter()
        .filter(|l| message(l).starts_with("catch-up started"))
        .collect();
    assert_eq!(started.len(), 1, "{lines:?}");
    assert_eq!(started[0]["level"], "INFO");
    assert_eq!(started[0]["agreement"], "QUAD-2026");
    assert_eq!(started[0]["peer"], "TR-JGK");
    assert!(
        started[0]["behind"].as_u64() >= Some(20),
        "{:?}",
        started[0]
    );
    let done: Vec<_> = lines
        .iter()
        .filter(|l| message(l).starts_with("catch-up done"))
        .collect();
    assert_eq!(done.len(), 1, "{lines:?}");
    assert!(done[0]["fetched"].as_u64() >= Some(20), "{:?}", done[0]);
    // records arriving: one line per batch with counts, not one per record
    let received: Vec<_> = lines
        .iter()
        .filter(|l| message(l).starts_with("received") && l["from"] == "TR-JGK")
        .collect();
    let stored: u64 = received.iter().map(|l| l["stored"].as_u64().unwrap()).sum();
    assert_eq!(stored, 20, "{received:?}");
    assert!(
        received.len() < 20,
        "{} lines for 20 records",
        received.len()
    );
    assert!(
        lines
            .iter()
            .any(|l| message(l) == "agreement QUAD-2026 is in effect"),
        "{lines:?}"
    );
    let _ = tr;
}

#[test]
fn metrics_match_what_the_node_did() {
    let mut fed = common::Federation::start(&TR_GR);
    let (tr, gr) = (fed.node("TR-JGK"), fed.node("GR-HCG"));
    let mut ids = vec![];
    for i in 0..5 {
        let mut d = vessel();
        d["summary"] = serde_json::json!(format!("Metric sighting {i}."));
        let (status, body) = fed.post(tr, &d);
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    // one refused by policy: counted nowhere as published
    let mut bad = vessel();
    bad["agreement"] = serde_json::json!("TR-BG-2026");
    assert_eq!(fed.post(tr, &bad).0, 422);
    fed.wait_until("GR-HCG to acknowledge all five", |f| {
        let (_, st) = f.get(tr, "/v1/status");
        st["outbox"]["GR-HCG"].as_u64().unwrap_or(0) == 0 && f.ids_api("GR-HCG").len() == 5
    });
    // GR-HCG's slot checkpoint (signed as its node started; slots are 10 minutes) reaches
    // TR-JGK in a status: the metric names its slot, the one of the hour it was signed in
    fed.wait_until("TR-JGK to hold GR-HCG's slot checkpoint", |f| {
        let (_, page) = f.get_text(tr, "/metrics", true);
        let slot = sample(&page, "accord_partner_checkpoint_slot{partner=\"GR-HCG\"}");
        let signed = sample(
            &page,
            "accord_partner_checkpoint_time_seconds{partner=\"GR-HCG\"}",
        );
        matches!((slot, signed), (Some(s), Some(t)) if s > 0.0 && s == (t / 600.0).floor())
    });

    // every record sent (pushed, or again in a range answer) has its `send` entry in the log
    let audit = fed.root.path().join("tr-audit");
    ok(&[
        "audit",
        "export",
        "--config",
        fed.config("TR-JGK"),
        "--out",
        audit.to_str().unwrap(),
    ]);
    let log = std::fs::read_to_string(audit.join("log.jsonl")).unwrap();
    let sends = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"]["kind"] == "send-batch" && e["event"]["to"] == "GR-HCG")
        .map(|e| e["event"]["records"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    let (status, page) = fed.get_text(tr, "/metrics", true);
    assert_eq!(status, 200);
    let at = |name: &str| sample(&page, name).unwrap_or_else(|| panic!("no {name} in:\n{page}"));
    assert_eq!(at("accord_records_published_total"), 5.0);
    assert!(sends >= 5);
    assert_eq!(
        at("accord_sent_records_total{peer=\"GR-HCG\"}"),
        sends as f64
    );
    assert_eq!(at("accord_delivered_total{peer=\"GR-HCG\"}"), 5.0);
    assert!(at("accord_sent_bytes_total{peer=\"GR-HCG\"}") > 5.0 * 200.0);
    assert!(at("accord_pushes_total{peer=\"GR-HCG\"}") >= 1.0);
    // every message sent, by kind: the pushes among them, and the sync statuses
    let wire = |kind: &str| {
        sample(
            &page,
            &format!("accord_wire_bytes_sent_total{{kind=\"{kind}\"}}"),
        )
        .unwrap_or(0.0)
    };
    assert!(
        wire("push") + wire("range-response") >= at("accord_sent_bytes_total{peer=\"GR-HCG\"}"),
        "{page}"
    );
    assert!(at("accord_wire_messages_sent_total{kind=\"push\"}") >= 1.0);
    assert!(at("accord_wire_messages_sent_total{kind=\"sync-status\"}") >= 1.0);
    assert!(wire("sync-status") > 0.0);
    // the absent members' records wait, by agreement
    for absent in ["PK-FIA", "IR-FARAJA"] {
        assert_eq!(
            at(&format!(
                "accord_outbox_records{{peer=\"{absent}\",agreement=\"QUAD-2026\"}}"
            )),
            5.0
        );
    }
    assert_eq!(at("accord_records_held"), 5.0);
    assert_eq!(at("accord_connected_peers"), 1.0);
    assert_eq!(at("accord_peer_connected{peer=\"GR-HCG\"}"), 1.0);
    assert_eq!(
        at("accord_agreement_in_effect{agreement=\"QUAD-2026\"}"),
        1.0
    );
    assert_eq!(at("accord_alarms{kind=\"equivocation\"}"), 0.0);
    // the log grows only: at least what the export (made before this page) holds
    assert!(at("accord_audit_log_entries") >= log.lines().count() as f64);
    assert!(
        log.lines().count() >= 5 * 2,
        "a publish and a send per record at least"
    );
    assert!(at("accord_store_bytes") > 0.0);
    assert!(page.contains("# HELP accord_records_published "), "{page}");

    let (status, page) = fed.get_text(gr, "/metrics", true);
    assert_eq!(status, 200);
    assert_eq!(
        sample(&page, "accord_records_received_total{from=\"TR-JGK\"}"),
        Some(5.0),
        "{page}"
    );
    // behind the API's token like every endpoint
    let (status, _) = fed.get_text(gr, "/metrics", false);
    assert_eq!(status, 401);
}
