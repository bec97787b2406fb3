//! Routine work against a running node: withdrawing, paged lists, and the smaller things a
//! careful user tripped on.

use super::*;

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
