//! Hit / no-hit in the console (docs/matching.md): an analyst of PK-FIA looks up a vessel;
//! TR-JGK, which holds it, is a hit and GR-HCG, which holds only TR-JGK's copy, is not; the
//! pre-filled request for information goes to TR-JGK's focal point from the page; an auditor
//! has no lookup to make, and the server refuses one it posts anyway.

use super::*;

const PK_TR_GR: [(&str, &str); 3] = [
    ("pk-fia", "PK-FIA"),
    ("tr-jgk", "TR-JGK"),
    ("gr-hcg", "GR-HCG"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_finds_which_partner_holds_a_vessel_and_asks_its_focal_point() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut fed = common::Federation::start(&PK_TR_GR);
    let (pk, tr) = (fed.node("PK-FIA"), fed.node("TR-JGK"));
    let pk_base = format!("http://{}", fed.nodes[pk].api);
    let vessel = json!({
        "agreement": "QUAD-2026",
        "category": "vessel",
        "handling": "H1",
        "grading": "B2",
        "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729"}],
        "summary": "Vessel loading passengers at night."
    });
    let (status, body) = fed.post(tr, &vessel);
    assert_eq!(status, 201, "{body}");
    let held = body["id"].as_str().unwrap().to_owned();
    // PK-FIA has the record and has confirmed QUAD-2026 with both partners
    fed.wait_until("PK-FIA to hold the vessel and know both partners", |f| {
        let (_, peers) = f.get(pk, "/v1/peers");
        let under = peers["agreements"]["QUAD-2026"].to_string();
        f.ids_api("PK-FIA").contains(&held) && under.contains("TR-JGK") && under.contains("GR-HCG")
    });
    add_user(&fed, "PK-FIA", "parveen", "analyst", PASSWORD);
    add_user(&fed, "PK-FIA", "omar", "auditor", PASSWORD);
    let b = Browser::start().await;

    b.log_in(&pk_base, "parveen", PASSWORD).await;
    b.c().goto(&format!("{pk_base}/match")).await.unwrap();
    // a value that breaks its rule: the page says which, and nothing is asked
    b.fill("#match-selector", "vessel:imo:9074728").await;
    b.click_and_wait("#match-button").await;
    assert!(b.text("#match-error").await.contains("check digit"));
    assert_eq!(b.count("#results").await, 0);

    b.fill("#match-selector", "vessel:IMO 9074729").await;
    b.select("#match-agreement", "QUAD-2026").await;
    b.click_and_wait("#match-button").await;
    assert!(b.text("#looked-up").await.contains("imo:9074729"));
    assert!(
        b.text("tr.hit[data-holder=TR-JGK]").await.contains("hit"),
        "TR-JGK holds it"
    );
    assert!(
        b.text("tr.miss[data-holder=GR-HCG]")
            .await
            .contains("no hit")
    );
    assert_eq!(b.count("tr.hit").await, 1);
    b.shot("match").await;

    // the request the hit leads to, sent from the page, reaches TR-JGK addressed to it
    assert_eq!(b.count("#request-GR-HCG").await, 0, "no request for a miss");
    b.click_and_wait("#request-TR-JGK-button").await;
    let path = b.path().await;
    let request = path
        .strip_prefix("/requests/")
        .unwrap_or_else(|| panic!("{path}"))
        .to_owned();
    assert!(b.text("#question").await.contains("was a hit at TR-JGK"));
    fed.wait_until("TR-JGK to hold the request", |f| {
        f.ids_api("TR-JGK").contains(&request)
    });
    let (_, record) = fed.get(tr, &format!("/v1/records/{request}"));
    let text = record.to_string();
    assert!(text.contains("\"addressed_to\":\"TR-JGK\""), "{text}");

    b.log_in(&pk_base, "omar", PASSWORD).await;
    assert_eq!(
        b.count("nav a[href='/match']").await,
        0,
        "an auditor has no lookup"
    );
    let status = b
        .post_with_session(
            &format!("{pk_base}/match"),
            "selector=vessel%3Aimo%3A9074729",
        )
        .await;
    assert_eq!(status, 403, "an auditor's lookup is refused");
    b.close().await;
    for (agency, status) in fed.stop() {
        assert!(status.success(), "{agency} exited with {status}");
    }
    let store = accord_node::store::Store::open(std::path::Path::new(
        &fed.nodes[pk].config.parent().unwrap().join("data"),
    ))
    .unwrap();
    let log: Vec<String> = store
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .collect();
    assert!(
        log.iter()
            .any(|e| e.contains("\"kind\":\"lookup-made\"") && e.contains("\"by\":\"parveen\"")),
        "the lookup names the analyst"
    );
    // and no selector
    assert!(
        !log.iter()
            .any(|e| e.contains("9074729") && e.contains("lookup"))
    );
}
