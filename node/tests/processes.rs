//! Real `accord run` processes, driven only as an agency would: through the CLI and the local
//! HTTP API. Three members of QUAD-2026 (TR-JGK, GR-HCG, PK-FIA) run from a copy of
//! examples/quad, each with its own data directory, configuration and loopback ports; IR-FARAJA
//! and BG-GDBP are absent. Every wait polls under a deadline; children are killed when the test
//! fails, and their logs are printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeMap;

use accord_node::store::Store;
use common::{Federation, Ports, accord, rewrite, text};
use serde_json::{Value, json};

/// The running members, by directory name and agency.
const MEMBERS: [(&str, &str); 3] = [
    ("tr-jgk", "TR-JGK"),
    ("gr-hcg", "GR-HCG"),
    ("pk-fia", "PK-FIA"),
];

fn vessel() -> Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "vessel",
        "handling": "H1",
        "grading": "B2",
        "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729"}],
        "route": [{"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}],
        "summary": "Vessel seen loading passengers at night off the Aegean coast."
    })
}

fn route() -> Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "route",
        "handling": "H0",
        "grading": "C3",
        "route": [{"country": "PK", "role": "source"}, {"country": "IR", "role": "transit"}, {"country": "TR", "role": "transit"}],
        "summary": "Overland route used by a network moving people from Balochistan westwards."
    })
}

#[test]
fn three_processes_share_through_cli_and_api() {
    let mut fed = Federation::start(&MEMBERS);
    let (tr, gr, pk) = (fed.node("TR-JGK"), fed.node("GR-HCG"), fed.node("PK-FIA"));

    // a refusal through the running node's API: exit 1 with the policy's reason, nothing stored
    let mut bad = vessel();
    bad["agreement"] = json!("TR-BG-2026");
    let out = fed.publish_cli("TR-JGK", &bad);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("vessel"), "{stderr}");
    assert!(fed.ids_api("TR-JGK").is_empty());

    // TR-JGK publishes with the CLI: the store is locked by `accord run`, so it goes through the
    // API, and the record reaches the two other running members
    let out = fed.publish_cli("TR-JGK", &vessel());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "publish at TR-JGK: {stderr}");
    let a = stdout.trim().to_owned();
    assert_eq!(a.len(), 64, "{stdout}");
    assert!(fed.ids_cli("TR-JGK").contains(&a));
    fed.wait_until("GR-HCG and PK-FIA to hold TR-JGK's record", |f| {
        f.ids_cli("GR-HCG").contains(&a) && f.ids_api("PK-FIA").contains(&a)
    });

    // PK-FIA publishes through the API; TR-JGK and GR-HCG receive it
    let (status, body) = fed.post(pk, &route());
    assert_eq!(status, 201, "{body}");
    let b = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK and GR-HCG to hold PK-FIA's record", |f| {
        f.ids_cli("TR-JGK").contains(&b) && f.ids_api("GR-HCG").contains(&b)
    });

    // `accord show` through the API, by id prefix
    let out = accord(&["show", "--config", fed.config("GR-HCG"), &a[..10]]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("record     {a}")), "{stdout}");
    assert!(stdout.contains("originator TR-JGK"), "{stdout}");
    // a filtered query through the API
    let out = accord(&[
        "query",
        "--config",
        fed.config("GR-HCG"),
        "--country",
        "PK",
        "--role",
        "source",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&b[..12]) && !stdout.contains(&a[..12]),
        "{stdout}"
    );
    assert!(stdout.contains("1 record(s)"), "{stdout}");

    // every member sees the other two connected, under QUAD-2026 too
    for i in [tr, gr, pk] {
        let me = fed.nodes[i].agency;
        let others: Vec<&str> = MEMBERS
            .iter()
            .map(|(_, a)| *a)
            .filter(|a| *a != me)
            .collect();
        fed.wait_until(
            &format!("{me} to report both other members connected"),
            |f| {
                let (status, peers) = f.get(i, "/v1/peers");
                let has = |v: &Value, a: &str| {
                    v.as_array()
                        .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(a)))
                };
                status == 200
                    && others.iter().all(|o| has(&peers["connected"], o))
                    && others
                        .iter()
                        .all(|o| has(&peers["agreements"]["QUAD-2026"], o))
            },
        );
    }

    // at the end, nothing waits for a running member; the absent IR-FARAJA's records wait
    for i in [tr, gr, pk] {
        let me = fed.nodes[i].agency;
        fed.wait_until(
            &format!("{me}'s outboxes to the running members to drain"),
            |f| {
                let (status, st) = f.get(i, "/v1/status");
                status == 200
                    && st["records"] == 2
                    && MEMBERS
                        .iter()
                        .all(|(_, a)| st["outbox"][a].as_u64().unwrap_or(0) == 0)
            },
        );
    }
    let (_, st) = fed.get(tr, "/v1/status");
    assert!(
        st["outbox"]["IR-FARAJA"].as_u64().unwrap_or(0) >= 1,
        "TR-JGK keeps its record for the absent IR-FARAJA: {st}"
    );

    // hit / no-hit through the CLI: TR-JGK holds the vessel as its own record, GR-HCG only as
    // received (QUAD-2026's partner_records is false), IR-FARAJA is not running
    let out = accord(&[
        "match",
        "--config",
        fed.config("PK-FIA"),
        "vessel:IMO 9074729",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let row = |holder: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(holder))
            .unwrap_or_else(|| panic!("no row for {holder}: {stdout}"))
            .to_owned()
    };
    assert!(row("TR-JGK").contains("HIT"), "{stdout}");
    assert!(row("GR-HCG").contains("no hit"), "{stdout}");
    assert!(row("IR-FARAJA").contains("not asked"), "{stdout}");
    let command = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("accord request"))
        .unwrap_or_else(|| panic!("no request offered: {stdout}"));
    assert!(
        command.contains("--to TR-JGK") && command.contains("tag ") && !command.contains("9074729"),
        "the request names the tag, not the vessel: {command}"
    );
    // the same as JSON: the tag and the epoch, which TR-JGK resolves to its vessel and record
    let out = accord(&[
        "match",
        "--config",
        fed.config("PK-FIA"),
        "--json",
        "vessel:imo:9074729",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let hit = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["holder"] == "TR-JGK")
        .unwrap()
        .clone();
    assert_eq!(hit["result"], "hit", "{stdout}");
    let tag = hit["tags"][0].as_str().unwrap();
    let epoch = hit["epoch"].as_str().unwrap();
    let out = accord(&[
        "match",
        "--config",
        fed.config("TR-JGK"),
        "--resolve",
        tag,
        "--agreement",
        "QUAD-2026",
        "--epoch",
        epoch,
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("vessel imo:9074729: record(s) {a}")),
        "{stdout}"
    );
    // the offered request, sent: it reaches TR-JGK, addressed to it
    let out = accord(&[
        "request",
        "--config",
        fed.config("PK-FIA"),
        "--agreement",
        "QUAD-2026",
        "--to",
        "TR-JGK",
        "--summary",
        hit["request"]["summary"].as_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let rfi = stdout.trim().to_owned();
    fed.wait_until("TR-JGK to hold PK-FIA's request", |f| {
        f.ids_cli("TR-JGK").contains(&rfi)
    });
    let out = accord(&["show", "--config", fed.config("TR-JGK"), &rfi]);
    let (shown, _) = text(&out);
    assert!(shown.contains(tag), "{shown}");
    // `accord request --selector`, the person's choice: the phone becomes the subject
    let out = accord(&[
        "request",
        "--config",
        fed.config("PK-FIA"),
        "--agreement",
        "QUAD-2026",
        "--to",
        "TR-JGK",
        "--selector",
        "phone:0301 2345678",
        "--country",
        "PK",
        "--summary",
        "Whose phone is this?",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let with_subject = stdout.trim().to_owned();
    fed.wait_until("TR-JGK to hold the second request", |f| {
        f.ids_cli("TR-JGK").contains(&with_subject)
    });
    let out = accord(&["show", "--config", fed.config("PK-FIA"), &with_subject]);
    let (shown, _) = text(&out);
    assert!(shown.contains("+923012345678"), "{shown}");
    // a selector that breaks its rule is refused naming it, and nothing is asked
    let out = accord(&[
        "match",
        "--config",
        fed.config("PK-FIA"),
        "vessel:imo:9074728",
    ]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("check digit"), "{stderr}");
    let out = accord(&["match", "--config", fed.config("PK-FIA"), "person:Rezaei"]);
    let (_, stderr) = text(&out);
    assert!(
        !out.status.success() && stderr.contains("year of birth"),
        "{stderr}"
    );

    // the JSON lines through the API, then SIGTERM: each node exits 0
    let through_api = text(&accord(&[
        "query",
        "--config",
        fed.config("TR-JGK"),
        "--json",
    ]))
    .0;
    for (agency, status) in fed.stop() {
        assert!(status.success(), "{agency} exited with {status}");
    }

    // with no node running the CLI opens the store itself and prints the same lines
    let out = accord(&["query", "--config", fed.config("TR-JGK"), "--json"]);
    let (local, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(local, through_api);
    assert_eq!(local.lines().count(), 4, "two records and the two requests");
}

#[test]
fn a_locked_store_with_a_silent_api_fails_with_exit_3() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let free = accord_node::demo::free_loopback_ports(2).unwrap();
    let port = free[1];
    let ports = BTreeMap::from([(
        "TR-JGK",
        Ports {
            p2p: free[0],
            api: port,
        },
    )]);
    let config = root.path().join("tr-jgk/node.toml");
    rewrite(&config, ports["TR-JGK"], &ports);
    // this test process holds the store, as `accord run` would; nothing serves the API
    let _held = Store::open(&root.path().join("tr-jgk/data")).unwrap();
    let config = config.to_str().unwrap();

    let draft = root.path().join("draft.json");
    std::fs::write(&draft, vessel().to_string()).unwrap();
    for args in [
        vec!["query", "--config", config],
        vec!["publish", "--config", config, draft.to_str().unwrap()],
        vec!["show", "--config", config, "abcdef"],
    ] {
        let out = accord(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("locked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("did not answer at http://127.0.0.1:{port}")),
            "{args:?}: {stderr}"
        );
    }
}
