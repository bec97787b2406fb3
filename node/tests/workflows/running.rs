//! The workflows in a running federation: requests, answers and return updates reach exactly
//! the members.

use super::*;

/// Gives the node in `dir` an API address on a loopback port that was free a moment ago.
fn set_api_port(fed: &Path, dir: &str) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = fed.join(dir).join("node.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("bind = ") {
                format!("bind = \"127.0.0.1:{port}\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
}

/// The CLI, off the async runtime's threads.
async fn cli(list: &[&str]) -> Output {
    let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || accord(&args(&owned)))
        .await
        .unwrap()
}

async fn cli_ok(args: &[&str]) -> String {
    let o = cli(args).await;
    let (stdout, stderr) = out(&o);
    assert!(
        o.status.success(),
        "accord {args:?} failed: {stdout}{stderr}"
    );
    stdout
}

/// Waits (on the nodes' events, polling under a deadline) until every node `holds` says
/// should hold `ids` does.
async fn wait_held(
    handles: &[accord_node::net::NodeHandle],
    ids: &[RecordId],
    holds: impl Fn(&accord_node::net::NodeHandle) -> bool,
) {
    let mut events: Vec<_> = handles.iter().map(|h| h.subscribe()).collect();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let done = || {
        handles.iter().filter(|h| holds(h)).all(|h| {
            ids.iter()
                .all(|id| h.store().records().contains(id).unwrap())
        })
    };
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "records were not delivered within 60 s"
        );
        let next =
            libp2p::futures::future::select_all(events.iter_mut().map(|r| Box::pin(r.recv())));
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), next).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_a_running_federation_requests_answers_and_return_updates_reach_exactly_the_members() {
    use accord_node::demo::{AGENCIES, introduce, load, start_node};
    use accord_node::net::{NetConfig, NodeHandle};
    use accord_node::workflow::{Held, Holdings, requests, returns};

    let fed = federation();
    let f = fed.path();
    // TR-JGK and GR-HCG serve their API, so the CLI works through the running nodes.
    set_api_port(f, "tr-jgk");
    set_api_port(f, "gr-hcg");
    let net = NetConfig {
        sync_interval: std::time::Duration::from_secs(2),
        ..NetConfig::default()
    };
    let mut running = Vec::new();
    for a in AGENCIES {
        running.push(start_node(load(f, a).unwrap(), net.clone()).await.unwrap());
    }
    let handles: Vec<NodeHandle> = running.iter().map(|r| r.handle.clone()).collect();
    introduce(&handles.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    let by = |agency: &str| {
        handles
            .iter()
            .find(|h| h.config().agency.as_str() == agency)
            .unwrap()
    };
    let mut apis = Vec::new();
    for a in ["TR-JGK", "GR-HCG"] {
        apis.push(
            accord_node::api::serve(by(a).clone(), &by(a).config())
                .await
                .unwrap(),
        );
    }
    let quad_member = |h: &NodeHandle| h.config().agency.as_str() != "BG-GDBP";
    let bg = by("BG-GDBP");
    let holdings = |h: &NodeHandle| {
        Holdings::new(
            h.store()
                .queries()
                .all_records()
                .unwrap()
                .into_iter()
                .map(|r| Held {
                    id: r.id,
                    record: r.record,
                    source: String::new(),
                }),
        )
    };
    let (tr, gr) = (config(f, "tr-jgk"), config(f, "gr-hcg"));

    // A request from Türkiye to Greece's focal point, and Greece's answer.
    let request = cli_ok(&[
        "request",
        "--config",
        &tr,
        "--agreement",
        "QUAD-2026",
        "--to",
        "GR-HCG",
        "--summary",
        "Who owns the vessel Example Star?",
    ])
    .await;
    let request = RecordId::new(request.trim()).unwrap();
    wait_held(&handles, &[request], quad_member).await;
    let answer = cli_ok(&[
        "respond",
        "--config",
        &gr,
        &request.to_hex(),
        "--summary",
        "A fishing company in Ayvalık.",
        "--grading",
        "B2",
    ])
    .await;
    let answer = RecordId::new(answer.trim()).unwrap();
    wait_held(&handles, &[answer], quad_member).await;
    let listed = json_lines(&cli_ok(&["requests", "--config", &tr, "--json"]).await);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "answered");
    assert_eq!(listed[0]["answers"], serde_json::json!([answer.to_hex()]));
    // Pakistan, a member, sees the exchange between two others, linked up.
    let at_pk = requests::list(&holdings(by("PK-FIA")), &by("PK-FIA").config(), now(), true);
    assert_eq!(at_pk.len(), 1);
    assert_eq!(at_pk[0].state, requests::RequestState::Answered);
    assert_eq!(at_pk[0].direction, requests::Direction::Between);
    assert!(
        requests::list(
            &holdings(by("PK-FIA")),
            &by("PK-FIA").config(),
            now(),
            false
        )
        .is_empty()
    );

    // A return case opened by Türkiye, advanced by Greece and by Türkiye.
    let victim = f.join("victim.json");
    std::fs::write(&victim, VICTIM).unwrap();
    let case = cli_ok(&[
        "return",
        "open",
        "--config",
        &tr,
        "--agreement",
        "QUAD-2026",
        "--victim-json",
        victim.to_str().unwrap(),
        "--home",
        "PK",
        "--summary",
        "Minor found near Van.",
        "--grading",
        "A2",
    ])
    .await;
    let case = RecordId::new(case.trim()).unwrap();
    wait_held(&handles, &[case], quad_member).await;
    let protected = cli_ok(&[
        "return",
        "update",
        "--config",
        &gr,
        &case.to_hex(),
        "--status",
        "protected",
        "--note",
        "Shelter place confirmed.",
    ])
    .await;
    let protected = RecordId::new(protected.trim()).unwrap();
    wait_held(&handles, &[protected], quad_member).await;
    let requested = cli_ok(&[
        "return",
        "update",
        "--config",
        &tr,
        &case.to_hex(),
        "--status",
        "travel-documents-requested",
        "--note",
        "Consulate asked for an emergency travel document.",
    ])
    .await;
    let requested = RecordId::new(requested.trim()).unwrap();
    wait_held(&handles, &[requested], quad_member).await;
    // Back is refused through the API path too.
    let o = cli(&[
        "return",
        "update",
        "--config",
        &gr,
        &case.to_hex(),
        "--status",
        "protected",
        "--note",
        "x",
    ])
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", out(&o).1);
    assert!(out(&o).1.contains("would go back"), "{}", out(&o).1);

    let cases = json_lines(&cli_ok(&["returns", "--config", &gr, "--json"]).await);
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["state"], "travel-documents-requested");
    assert_eq!(cases[0]["updates"], 2);
    assert_eq!(cases[0]["opened_by"], "TR-JGK");
    for h in handles.iter().filter(|h| quad_member(h)) {
        let c = returns::cases(&holdings(h));
        assert_eq!(c.len(), 1, "{}", h.config().agency);
        assert_eq!(c[0].state, ReturnStatus::TravelDocumentsRequested);
        // Every update holds the originator's signature and no victim.
        for (id, by_whom) in [(protected, "GR-HCG"), (requested, "TR-JGK")] {
            let stored = h.store().records().get(&id).unwrap().unwrap();
            assert_eq!(stored.record.originator.as_str(), by_whom);
            let key = secret(f, &by_whom.to_ascii_lowercase()).public_key();
            assert_eq!(*stored.envelope.signer().key(), key);
            assert!(stored.record.subjects.is_empty());
        }
    }
    // Bulgaria, connected to Türkiye under TR-BG-2026, holds none of it.
    for id in [request, answer, case, protected, requested] {
        assert!(
            !bg.store().records().contains(&id).unwrap(),
            "BG-GDBP holds {id}"
        );
    }

    for api in apis {
        api.stop().await;
    }
    for h in &handles {
        h.shutdown().await.unwrap();
    }
    for r in running {
        r.stopped().await;
    }
}
