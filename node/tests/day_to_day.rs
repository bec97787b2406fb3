//! Running a node day to day: routine work against a running node, the data directory kept
//! private, one retention rule, alarms in status, logs, notifications, paged lists, metrics —
//! each test named after what a new operator found (docs/operations.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::Path;
use std::process::Command;

use common::text;

/// The permission bits of a path.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every path below `dir` whose mode is not 0700 (directories) or 0600 (files).
fn not_private(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        if mode(&path) != want {
            out.push(format!("{} {:04o}", path.display(), mode(&path)));
        }
        if path.is_dir() {
            out.extend(not_private(&path));
        }
    }
    out
}

/// `accord ARGS` under umask 022, as a shell with the usual umask would run it.
fn accord_umask_022(args: &[&str]) -> std::process::Output {
    let mut script = String::from("umask 022; exec \"$0\"");
    for (i, _) in args.iter().enumerate() {
        script.push_str(&format!(" \"${}\"", i + 1));
    }
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("ACCORD_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn init_makes_the_store_private_whatever_the_umask() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("th-dsi");
    let out = accord_umask_022(&["init", "--agency", "TH-DSI", "--dir", dir.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let data = dir.join("data");
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(not_private(&data), Vec::<String>::new());
    for file in ["agency.key", "api.token"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    // a command that writes to the store (its configuration entry) keeps it private
    let config = dir.join("node.toml");
    let out = accord_umask_022(&["query", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(not_private(&data), Vec::<String>::new());

    // a data directory that others may read is refused, naming the command that fixes it, by
    // the node and by every command that opens the store
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for args in [
        vec!["run", "--config", config.to_str().unwrap()],
        vec!["query", "--config", config.to_str().unwrap()],
    ] {
        let out = common::accord(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains("others may read it (mode 0755)")
                && stderr.contains(&format!("chmod -R go-rwx {}", data.display())),
            "{args:?}: {stderr}"
        );
    }
    // the fix it names works
    let chmod = Command::new("chmod")
        .args(["-R", "go-rwx", data.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chmod.success());
    let out = common::accord(&["query", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
}

/// The clause-7 statement of a text: the lines from `marker` up to the next blank line.
fn clause(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in the text"));
    text[start..].split("\n\n").next().unwrap().to_lowercase()
}

#[test]
fn retention_counts_as_the_signed_text_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    // what members sign says `created`, never receipt
    for (file, marker) in [
        ("docs/model-mou.md", "7. **Retention.**"),
        ("node/templates/bilateral.toml", "# Clause 7, retention"),
        ("node/templates/multilateral.toml", "# Clause 7, retention"),
        (
            "examples/quad/agreements/quad-2026.toml",
            "# Records are deleted",
        ),
    ] {
        let text = clause(&read(file), marker);
        assert!(text.contains("created"), "{file}: {text}");
        assert!(
            !text.contains("after receiving") && !text.contains("from receipt"),
            "{file}: {text}"
        );
    }
    assert!(
        !read("docs/api.md").contains("retention counts from here"),
        "docs/api.md still counts retention from received_at"
    );

    // and the one rule the node applies (purge, publish, send, accept) counts from `created`,
    // whenever the record came: held through created + retention_days, not a second longer
    let path = root.join("examples/quad/agreements/quad-2026.toml");
    let quad = accord_config::parse_agreement(&path, &std::fs::read(&path).unwrap()).unwrap();
    let draft = accord_node::draft::parse_draft(
        br#"{"agreement": "QUAD-2026", "category": "route", "handling": "H0", "grading": "B2",
             "route": [{"country": "TR", "role": "transit"}], "summary": "A route."}"#,
    )
    .unwrap();
    let created = accord_protocol::Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
    let record = draft
        .into_record(
            &accord_protocol::AgencyId::new("PK-FIA").unwrap(),
            accord_protocol::Seq::FIRST,
            created,
        )
        .unwrap();
    let end = created.plus_secs(1095 * 86_400);
    assert!(accord_node::policy::within_retention(&record, &quad, end).is_ok());
    let past = accord_node::policy::within_retention(&record, &quad, end.plus_secs(1));
    assert!(
        matches!(past, Err(accord_node::policy::DenyReason::PastRetention { until, .. }) if until == end),
        "{past:?}"
    );
}

/// The members a running federation is made of in these tests.
const TR_GR: [(&str, &str); 2] = [("tr-jgk", "TR-JGK"), ("gr-hcg", "GR-HCG")];

fn vessel() -> serde_json::Value {
    serde_json::json!({
        "agreement": "QUAD-2026",
        "category": "vessel",
        "handling": "H1",
        "grading": "B2",
        "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729"}],
        "route": [{"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}],
        "summary": "Vessel seen loading passengers at night off the Aegean coast."
    })
}

/// Runs `accord ARGS`; panics with its output unless it exits 0; its stdout.
fn ok(args: &[&str]) -> String {
    let out = common::accord(args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "accord {args:?}: {stdout}{stderr}");
    stdout
}

#[test]
fn withdraw_works_while_the_node_runs() {
    // TR-JGK has not signed TR-BG-2026 yet: it signs while its node runs
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let sigs = root.path().join("agreements/tr-bg-2026.toml.sigs");
    let kept: String = std::fs::read_to_string(&sigs)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("TR-JGK "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&sigs, kept).unwrap();
    let mut fed = common::Federation::start_in(root, &TR_GR);
    let (tr, gr) = (fed.node("TR-JGK"), fed.node("GR-HCG"));
    let cfg = fed.config("TR-JGK").to_owned();
    let base = fed.root.path().to_owned();
    let path = |name: &str| base.join(name).display().to_string();

    // a record, received by GR-HCG, then withdrawn with the node running
    let out = fed.publish_cli("TR-JGK", &vessel());
    assert!(out.status.success(), "{}", text(&out).1);
    let id = text(&out).0.trim().to_owned();
    fed.wait_until("GR-HCG to hold the record", |f| {
        f.ids_api("GR-HCG").contains(&id)
    });
    let out = common::accord(&[
        "withdraw",
        "--config",
        &cfg,
        &id[..12],
        "--reason",
        "wrong vessel",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let withdrawal = stdout.trim().to_owned();
    assert_eq!(withdrawal.len(), 64, "{stdout}");
    assert!(
        stderr.contains(&format!("record {id} is withdrawn by {withdrawal}")),
        "{stderr}"
    );
    fed.wait_until("GR-HCG to see the record withdrawn", |f| {
        f.get(gr, &format!("/v1/records/{id}")).1["status"] == "withdrawn"
    });
    // refusals come back as they would offline: exit 1, naming the record
    let out = common::accord(&["withdraw", "--config", &cfg, &id, "--reason", "again"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains(&format!(
            "error: record {id}: it is already withdrawn by {withdrawal}"
        )),
        "{}",
        text(&out).1
    );

    // a bundle and an audit export, both verifying
    let bundle = path("quad.bundle");
    let printed = ok(&[
        "export",
        "--config",
        &cfg,
        "--agreement",
        "QUAD-2026",
        "--out",
        &bundle,
    ]);
    assert!(
        printed.contains("exported 2 record(s) and 0 tombstone(s) under QUAD-2026"),
        "{printed}"
    );
    assert!(ok(&["verify", &bundle]).contains("bundle verified"));
    let out = common::accord(&[
        "export",
        "--config",
        &cfg,
        "--agreement",
        "QUAD-2026",
        "--out",
        &bundle,
    ]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "an existing bundle is never overwritten"
    );

    // purge, dry and real
    let dry_running = ok(&["purge", "--config", &cfg, "--dry-run"]);
    assert!(
        dry_running.contains("0 record(s) would be purged"),
        "{dry_running}"
    );
    assert!(ok(&["purge", "--config", &cfg]).contains("0 record(s) purged"));

    // a liaison officer's certificate: issued, listed, revoked
    let officer = path("officer.key");
    ok(&["keygen", "--out", &officer]);
    let officer_key = std::fs::read_to_string(&officer)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap();
    let cert = path("officer.cert");
    let issued = ok(&[
        "delegate",
        "issue",
        "--config",
        &cfg,
        "--delegate-key",
        &officer_key,
        "--holder",
        "Liaison officer, Athens",
        "--host-country",
        "GR",
        "--agreement",
        "QUAD-2026",
        "--category",
        "alert",
        "--until",
        "2026-12-30T00:00:00Z",
        "--out",
        &cert,
    ]);
    assert!(
        issued.contains("issued certificate") && issued.contains("Liaison officer, Athens"),
        "{issued}"
    );
    let listed_running = ok(&["delegate", "list", "--config", &cfg]);
    assert!(listed_running.contains("in force"), "{listed_running}");
    ok(&[
        "delegate",
        "revoke",
        &cert,
        "--config",
        &cfg,
        "--reason",
        "posting ended",
        "--out",
        &path("officer.revoked"),
    ]);
    let revoked_running = ok(&["delegate", "list", "--config", &cfg]);
    assert!(
        revoked_running.contains("REVOKED from"),
        "{revoked_running}"
    );

    // TR-JGK signs TR-BG-2026: the running node logs it at once
    let agreement = fed.root.path().join("agreements/tr-bg-2026.toml");
    let signed = ok(&[
        "agreement",
        "sign",
        agreement.to_str().unwrap(),
        "--config",
        &cfg,
    ]);
    assert!(signed.contains("taken by the running node"), "{signed}");
    assert!(signed.contains("the agreement is in effect"), "{signed}");
    let audit = path("audit");
    ok(&["audit", "export", "--config", &cfg, "--out", &audit]);
    assert!(ok(&["audit", "verify", &audit]).contains("verified"));
    let log = std::fs::read_to_string(fed.root.path().join("audit/log.jsonl")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("agreement-signature")
            && l.contains("TR-BG-2026")
            && l.contains("\"signer\":\"TR-JGK\"")),
        "no agreement-signature entry of TR-JGK for TR-BG-2026:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("\"export\"") && l.contains("QUAD-2026")),
        "{log}"
    );

    // with the node stopped, the same commands print the same
    for (agency, status) in fed.stop() {
        assert!(status.success(), "{agency} exited with {status}");
    }
    let _ = tr;
    assert_eq!(ok(&["purge", "--config", &cfg, "--dry-run"]), dry_running);
    assert_eq!(ok(&["delegate", "list", "--config", &cfg]), revoked_running);
}

#[test]
fn lists_come_in_pages_with_a_documented_maximum() {
    let fed = common::Federation::start(&[("tr-jgk", "TR-JGK")]);
    let tr = fed.node("TR-JGK");
    let cfg = fed.config("TR-JGK").to_owned();
    let mut published = std::collections::BTreeSet::new();
    for i in 0..25 {
        let mut draft = vessel();
        draft["summary"] = serde_json::json!(format!("Sighting number {i} of the vessel."));
        let (status, body) = fed.post(tr, &draft);
        assert_eq!(status, 201, "{body}");
        published.insert(body["id"].as_str().unwrap().to_owned());
    }

    // the API: pages of at most `limit`, each continuing after the last, every record once
    let mut seen = vec![];
    let mut path = "/v1/records?limit=10".to_owned();
    let mut pages = 0;
    loop {
        let (status, body) = fed.get(tr, &path);
        assert_eq!(status, 200, "{path}: {body}");
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 10, "{path}: {} items", items.len());
        seen.extend(items.iter().map(|v| v["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match body["next"].as_str() {
            Some(next) => path = format!("/v1/records?limit=10&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25, "every record once: {seen:?}");
    assert_eq!(
        seen.iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        published
    );
    // the default page (100) holds all 25; past the maximum, or a made-up cursor, is refused
    let (_, body) = fed.get(tr, "/v1/records");
    assert_eq!(body["items"].as_array().unwrap().len(), 25);
    assert!(body["next"].is_null());
    for (path, needle) in [
        (
            "/v1/records?limit=1001",
            "limit `1001`: give a whole number from 1 to 1000",
        ),
        ("/v1/records?limit=0", "limit `0`"),
        (
            "/v1/records?cursor=bm90IGEgY3Vyc29y",
            "cursor `bm90IGEgY3Vyc29y`: not a cursor",
        ),
        ("/v1/delegations?limit=5000", "limit `5000`"),
    ] {
        let (status, body) = fed.get(tr, path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }

    // the CLI: a page, the command for the next one, and every page with --all
    let out = common::accord(&["query", "--config", &cfg, "--limit", "20"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("20 record(s) shown; there are more"),
        "{stdout}"
    );
    let cursor = stderr
        .lines()
        .find_map(|l| l.strip_prefix("next page: add --cursor "))
        .unwrap_or_else(|| panic!("no next page in: {stderr}"))
        .to_owned();
    let rest = ok(&[
        "query", "--config", &cfg, "--limit", "20", "--cursor", &cursor, "--json",
    ]);
    assert_eq!(rest.lines().count(), 5, "{rest}");
    let all = ok(&["query", "--config", &cfg, "--all", "--json"]);
    assert_eq!(all.lines().count(), 25);
    let out = common::accord(&["query", "--config", &cfg, "--limit", "2000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("error: --limit: limit `2000`"),
        "{}",
        text(&out).1
    );
    // requests and return cases page alike
    let out = common::accord(&["requests", "--config", &cfg, "--limit", "0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
    let out = common::accord(&["returns", "--config", &cfg, "--cursor", "nonsense"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
}

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

/// The JSON log lines of a log (other lines are skipped).
fn json_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect()
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

/// The value of the sample `name` (with its labels, as written) in a Prometheus text page.
fn sample(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
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

/// The notices a `[notify]` command appended to `file`, one JSON object per line.
fn notices(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_request_to_the_focal_point_runs_the_notify_hook() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    // each node appends its notices to a file; TR-BG-2026 lacks BG-GDBP's signature (an alarm)
    let sigs = root.path().join("agreements/tr-bg-2026.toml.sigs");
    let kept: String = std::fs::read_to_string(&sigs)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("BG-GDBP "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&sigs, kept).unwrap();
    let file = |dir: &str| root.path().join(format!("{dir}.notices"));
    // GR-HCG also POSTs each notice to a system of its own
    let (url, posted) = http_sink();
    for dir in ["tr-jgk", "gr-hcg"] {
        let toml = root.path().join(dir).join("node.toml");
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(&format!(
            "\n[notify]\ncommand = [\"sh\", \"-c\", \"cat >> '{}'\"]\n",
            file(dir).display()
        ));
        if dir == "gr-hcg" {
            text.push_str(&format!(
                "url = \"{url}\"\nevents = [\"request\", \"return\"]\n"
            ));
        }
        std::fs::write(&toml, text).unwrap();
    }
    let (tr_file, gr_file) = (file("tr-jgk"), file("gr-hcg"));
    let mut fed = common::Federation::start_in(root, &TR_GR);
    let (tr_cfg, gr_cfg) = (
        fed.config("TR-JGK").to_owned(),
        fed.config("GR-HCG").to_owned(),
    );

    // TR-JGK asks GR-HCG's focal point: GR-HCG's hook hears of it
    let out = common::accord(&[
        "request",
        "--config",
        &tr_cfg,
        "--agreement",
        "QUAD-2026",
        "--to",
        "GR-HCG",
        "--summary",
        "Do you hold anything on the vessel Example Star?",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let request = text(&out).0.trim().to_owned();
    fed.wait_until("GR-HCG's notify hook to hear of the request", |_| {
        notices(&gr_file).iter().any(|n| n["notice"] == "request")
    });
    let n = notices(&gr_file)
        .into_iter()
        .find(|n| n["notice"] == "request")
        .unwrap();
    assert_eq!(n["id"], request.as_str());
    assert_eq!(n["from"], "TR-JGK");
    assert_eq!(n["agency"], "GR-HCG");
    assert_eq!(n["agreement"], "QUAD-2026");
    assert_eq!(
        n["summary"],
        "Do you hold anything on the vessel Example Star?"
    );
    fed.wait_until("the request to be POSTed to GR-HCG's system", |_| {
        posted.lock().unwrap().iter().any(|b| b.contains(&request))
    });

    // GR-HCG answers: TR-JGK's hook hears of the answer
    let out = common::accord(&[
        "respond",
        "--config",
        &gr_cfg,
        &request[..12],
        "--summary",
        "Seen twice off Chios.",
        "--grading",
        "B2",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    fed.wait_until("TR-JGK's notify hook to hear of the answer", |_| {
        notices(&tr_file).iter().any(|n| n["notice"] == "answer")
    });
    let n = notices(&tr_file)
        .into_iter()
        .find(|n| n["notice"] == "answer")
        .unwrap();
    assert_eq!(n["request"], request.as_str());
    assert_eq!(n["from"], "GR-HCG");

    // a victim's return case: GR-HCG hears of its opening and of a change, never of the victim
    let victim = fed.root.path().join("victim.json");
    std::fs::write(
        &victim,
        r#"{"ref": "V1", "name": "Example Rahimi", "nationality": "PK", "date_of_birth": "2009-03"}"#,
    )
    .unwrap();
    let out = common::accord(&[
        "return",
        "open",
        "--config",
        &tr_cfg,
        "--agreement",
        "QUAD-2026",
        "--victim-json",
        victim.to_str().unwrap(),
        "--home",
        "PK",
        "--summary",
        "Found near Van; family traced.",
        "--grading",
        "A2",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let case = text(&out).0.trim().to_owned();
    let out = common::accord(&[
        "return",
        "update",
        "--config",
        &tr_cfg,
        &case,
        "--status",
        "protected",
        "--note",
        "In a shelter.",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    fed.wait_until("GR-HCG's hook to hear of the case's change", |_| {
        notices(&gr_file)
            .iter()
            .any(|n| n["notice"] == "return" && n["status"] == "protected")
    });
    let returns: Vec<_> = notices(&gr_file)
        .into_iter()
        .filter(|n| n["notice"] == "return")
        .collect();
    assert!(
        returns.iter().all(|n| n["case"] == case.as_str()),
        "{returns:?}"
    );
    let all = std::fs::read_to_string(&gr_file).unwrap();
    for identifying in ["Example Rahimi", "2009-03", "Found near Van", "shelter"] {
        assert!(
            !all.contains(identifying),
            "a notice carries `{identifying}`: {all}"
        );
    }

    // the URL got only the kinds its `events` asked for
    let bodies = posted.lock().unwrap().clone();
    assert!(
        bodies.iter().any(|b| b.contains("\"notice\":\"return\"")),
        "{bodies:?}"
    );
    assert!(
        !bodies.iter().any(|b| b.contains("\"notice\":\"alarm\"")),
        "{bodies:?}"
    );

    // alarms too: the agreement not in effect, at start
    assert!(
        notices(&tr_file).iter().any(|n| n["notice"] == "alarm"
            && n["kind"] == "not-in-effect"
            && n["subject"] == "TR-BG-2026"),
        "{:?}",
        notices(&tr_file)
    );
    let _ = &mut fed;
}

#[test]
fn notify_settings_are_checked_like_the_rest_of_the_file() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let toml = root.path().join("tr-jgk/node.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("\n[notify]\ncommand = []\nurl = \"https://example.invalid/x\"\nevents = [\"requests\"]\nmail = \"x\"\n");
    std::fs::write(&toml, text).unwrap();
    let out = common::accord(&["config", "check", toml.to_str().unwrap()]);
    let (_, stderr) = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in [
        "notify.command: an empty command",
        "is not an http:// URL",
        "unknown notice kind `requests`",
        "mail",
    ] {
        assert!(stderr.contains(needle), "no `{needle}` in: {stderr}");
    }
}

/// A small HTTP server on loopback that answers 200 to every POST and keeps the bodies: its
/// URL, and the bodies received.
fn http_sink() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/accord", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            kept.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

fn text_of(o: &std::process::Output) -> (String, String) {
    text(o)
}

#[test]
fn smaller_things_a_careful_user_tripped_on() {
    // `accord init` names every step, with the folder it made for agreements
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("th-dsi");
    let printed = ok(&[
        "init",
        "--agency",
        "TH-DSI",
        "--dir",
        home.to_str().unwrap(),
    ]);
    assert!(home.join("agreements").is_dir());
    for step in [
        "accord agreement new --template bilateral --out",
        "accord agreement sign",
        "accord config check",
        "accord run --config",
        "/agreements/NAME.toml",
    ] {
        assert!(
            printed.contains(step),
            "init does not name `{step}`:\n{printed}"
        );
    }

    // config check's signing hint is a command that works as given
    let fed = tempfile::tempdir().unwrap();
    let f = fed.path();
    accord_node::demo::write_federation(f).unwrap();
    let sigs = f.join("agreements/tr-bg-2026.toml.sigs");
    let kept: String = std::fs::read_to_string(&sigs)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("TR-JGK "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&sigs, kept).unwrap();
    let tr = f.join("tr-jgk/node.toml").display().to_string();
    let checked = ok(&["config", "check", &tr]);
    assert!(
        checked.contains(&format!(
            "TR-JGK signs with `accord agreement sign {} --config {tr}`",
            f.join("tr-jgk/../agreements/tr-bg-2026.toml").display()
        )),
        "{checked}"
    );

    // a closed pipe ends a command quietly
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["agreement", "new", "--template", "multilateral"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // a draft's every problem at once, and JSON errors with their line and column
    let draft = f.join("bad.json");
    std::fs::write(
        &draft,
        r#"{"agreement": "QUAD-2026", "category": "vessel", "handling": "H1", "grading": "B2",
            "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074728"},
                         {"type": "account", "identifier": "TR34 0006 1005 1978 6457 8413 26"},
                         {"type": "phone", "number": "+9230012345"}],
            "route": [{"country": "TR", "role": "transit", "from": "2026-05-02", "until": "2026-05-01"}],
            "handling_restriction": "not for courts",
            "summary": "Five things are wrong here."}"#,
    )
    .unwrap();
    let out = common::accord(&["publish", "--config", &tr, draft.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in [
        "the record has 5 problems",
        "handling_restriction",
        "route[0].from",
        "`subjects[0].imo`: IMO number `9074728` fails its check digit: the last digit should be 9, not 8",
        "`subjects[1].identifier`: IBAN `TR34 0006 1005 1978 6457 8413 26` fails its checksum",
        "`subjects[2].number`: `+9230012345` is not a valid number for country code +92",
    ] {
        assert!(stderr.contains(needle), "no `{needle}` in: {stderr}");
    }
    std::fs::write(
        &draft,
        "{\n  \"agreement\": \"QUAD-2026\",\n  \"category\": ",
    )
    .unwrap();
    let out = common::accord(&["publish", "--config", &tr, draft.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("at line 3 column"), "{stderr}");
    assert!(!stderr.contains("`?`"), "{stderr}");

    // filters as people type them: a lower-case country, a role alone
    let route = f.join("route.json");
    std::fs::write(
        &route,
        r#"{"agreement": "QUAD-2026", "category": "route", "handling": "H0", "grading": "C3",
            "route": [{"country": "PK", "role": "source"}, {"country": "TR", "role": "transit"}],
            "summary": "Overland route westwards."}"#,
    )
    .unwrap();
    ok(&["publish", "--config", &tr, route.to_str().unwrap()]);
    for filter in [["--country", "tr"], ["--role", "source"]] {
        let found = ok(&["query", "--config", &tr, filter[0], filter[1]]);
        assert!(found.contains("1 record(s)"), "{filter:?}: {found}");
    }

    // `return update` takes a victim-identification record's id, as docs/workflows.md says
    let vi = f.join("vi.json");
    std::fs::write(
        &vi,
        r#"{"agreement": "QUAD-2026", "category": "victim-identification", "handling": "H2", "grading": "A2",
            "subjects": [{"type": "person", "role": "victim", "ref": "V1", "name": "Example Rahimi", "nationality": "PK"}],
            "victim_data_purpose": "identification",
            "summary": "A minor identified as a victim near Van."}"#,
    )
    .unwrap();
    let id = ok(&["publish", "--config", &tr, vi.to_str().unwrap()]);
    let id = id.trim();
    let out = common::accord(&[
        "return",
        "update",
        "--config",
        &tr,
        id,
        "--status",
        "protected",
        "--note",
        "In a shelter.",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("identified → protected") || stdout.contains("identified → protected"),
        "{stdout}{stderr}"
    );
    let cases = ok(&["returns", "--config", &tr, "--json"]);
    assert!(cases.contains(&format!("\"case\":\"{id}\"")), "{cases}");
    assert!(cases.contains("\"state\":\"protected\""), "{cases}");
}

/// The `sh` blocks of docs/operations.md's walkthrough, in order.
fn walkthrough() -> String {
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md"),
    )
    .unwrap();
    let start = page
        .find("<!-- walkthrough")
        .expect("no walkthrough marker");
    let end = page.find("<!-- /walkthrough -->").expect("no end marker");
    let mut script = String::new();
    let mut open = false;
    for line in page[start..end].lines() {
        match (open, line.trim_end()) {
            (false, "```sh") => open = true,
            (true, "```") => open = false,
            (true, _) => {
                script.push_str(line);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(!open, "an unclosed ```sh block");
    script
}

#[test]
fn operations_md_walks_a_new_operator_from_nothing_to_two_agencies_sharing() {
    let mut script = walkthrough();
    assert!(script.contains("accord init") && script.contains("accord publish"));
    // the page's ports, swapped for free ones on this machine
    let free = accord_node::demo::free_loopback_ports(4).unwrap();
    for (port, free) in ["7411", "7412", "7481", "7482"].iter().zip(free) {
        assert!(
            script.contains(port),
            "the walkthrough no longer uses port {port}"
        );
        script = script.replace(port, &free.to_string());
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_accord"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (out, err) = (
        dir.path().join("walk.stdout"),
        dir.path().join("walk.stderr"),
    );
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new("bash")
            .arg("-c")
            .arg(format!("set -euo pipefail\n{script}"))
            .current_dir(dir.path())
            .env("PATH", path)
            .env_remove("RUST_LOG")
            .env_remove("ACCORD_CONFIG")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(common::POLL);
    };
    // whatever happened, nothing the page started outlives the test
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .status();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let report = format!(
        "stdout:\n{}\nstderr:\n{}\nth-dsi.log:\n{}\nmy-mmea.log:\n{}",
        read(&out),
        read(&err),
        read(&dir.path().join("th-dsi.log")),
        read(&dir.path().join("my-mmea.log"))
    );
    match status {
        Some(s) => assert!(s.success(), "the walkthrough failed ({s}):\n{report}"),
        None => panic!("the walkthrough did not finish within 180 s:\n{report}"),
    }
    let stdout = read(&out);
    assert!(stdout.contains("1 record(s)"), "{report}");
    assert!(stdout.contains("audit export verified"), "{report}");
    assert!(stdout.contains("TH-MY-2026     in effect"), "{report}");
}
