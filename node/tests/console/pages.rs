//! The console's other pages: a record changed (corrected, withdrawn), returns, routes,
//! agreements and the audit log, each shown and each action logged.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_change_and_returns_routes_agreements_and_audit_show_in_the_console() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut fed = common::Federation::start(&TR_GR_BG);
    let (tr, gr) = (fed.node("TR-JGK"), fed.node("GR-HCG"));
    let tr_base = format!("http://{}", fed.nodes[tr].api);
    add_user(&fed, "TR-JGK", "ana", "analyst", PASSWORD);
    add_user(&fed, "TR-JGK", "rana", "returns-officer", PASSWORD);
    add_user(&fed, "TR-JGK", "audrey", "auditor", PASSWORD);
    let agent = common::Federation::agent();
    let b = Browser::start().await;

    // an own record: its route, who holds it from their receipts; corrected, then withdrawn
    let route = json!({
        "agreement": "TR-BG-2026", "category": "route", "handling": "H1", "grading": "B3",
        "route": [{"country": "AF", "role": "source"}, {"country": "TR", "role": "transit"},
                  {"country": "BG", "role": "destination"}],
        "summary": "Groups cross at Lesovo by lorry."
    });
    let (status, body) = fed.post(tr, &route);
    assert_eq!(status, 201, "{body}");
    let first = body["id"].as_str().unwrap().to_owned();
    b.log_in(&tr_base, "ana", PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        b.c()
            .goto(&format!("{tr_base}/records/{first}"))
            .await
            .unwrap();
        if b.count("#holders").await == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no receipt from Bulgaria shown");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(b.text("#holders").await.contains("BG-GDBP"));
    assert_eq!(
        b.text("#route").await,
        "AF (source)\nTR (transit)\nBG (destination)"
    );
    assert!(b.text("#signer").await.contains("TR-JGK's agency key"));
    assert!(b.text("#fields").await.contains("source mostly reliable"));
    b.shot("record-own").await;
    b.fill(
        "#correct-summary",
        "Groups cross at Lesovo by lorry, twice a week.",
    )
    .await;
    b.fill("#correct-grading", "B2").await;
    b.click_and_wait("#correct-button").await;
    let path = b.path().await;
    let corrected = path.strip_prefix("/records/").unwrap().to_owned();
    assert_ne!(corrected, first);
    assert!(
        b.text("#fields").await.contains(&first),
        "it names what it corrects"
    );
    // a withdrawal needs a reason; then it is signed
    b.click_and_wait("#withdraw-button").await;
    assert!(b.text("#change-error").await.contains("why"));
    b.fill("#withdraw-reason", "Duplicate of an earlier report.")
        .await;
    b.click_and_wait("#withdraw-button").await;
    let withdrawal = b.path().await.strip_prefix("/records/").unwrap().to_owned();
    b.c()
        .goto(&format!("{tr_base}/records/{corrected}"))
        .await
        .unwrap();
    assert!(b.text("#references").await.contains(&withdrawal));
    assert_eq!(b.count("#withdraw-form").await, 0, "withdrawn once only");
    fed.wait_until("BG-GDBP to hold the correction and the withdrawal", |f| {
        let held = f.ids_api("BG-GDBP");
        held.contains(&corrected) && held.contains(&withdrawal)
    });
    // another agency's record shows no change forms
    let (status, body) = fed.post(gr, &hostile_record());
    assert_eq!(status, 201, "{body}");
    let greek = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK to hold Greece's record", |f| {
        f.ids_api("TR-JGK").contains(&greek)
    });
    b.c()
        .goto(&format!("{tr_base}/records/{greek}"))
        .await
        .unwrap();
    assert_eq!(b.count("#withdraw-form, #correct-form, #holders").await, 0);

    // routes: the flow diagram and table of the legs held
    b.c().goto(&format!("{tr_base}/routes")).await.unwrap();
    let flows = b.text("#flows").await;
    assert!(flows.contains("AF") && flows.contains("BG"), "{flows}");
    b.shot("routes").await;
    let (cookie, _) = b.session().await;
    let svg = agent
        .get(format!("{tr_base}/routes.svg?agreement=TR-BG-2026"))
        .header("Cookie", &cookie)
        .call()
        .unwrap();
    assert!(
        svg.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    assert!(svg.into_body().read_to_string().unwrap().contains("<svg"));
    let anonymous = agent
        .get(format!("{tr_base}/routes.svg"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(
        !anonymous.contains("<svg") && anonymous.contains("password"),
        "the diagram needs a session: {anonymous}"
    );

    // agreements: clauses in words, members' signatures, in force
    b.c().goto(&format!("{tr_base}/agreements")).await.unwrap();
    let bilateral = b.text("#agreement-TR-BG-2026").await;
    assert!(bilateral.contains("In force."), "{bilateral}");
    assert!(
        bilateral.contains("No data identifying a victim may be shared"),
        "{bilateral}"
    );
    assert!(!bilateral.contains("missing"), "{bilateral}");
    b.shot("agreements").await;

    // an administrator issues a liaison officer's certificate and revokes it; an analyst may
    // do neither (no form, and the server refuses)
    assert_eq!(b.count("#issue-form, form.revoke").await, 0);
    let status = b
        .post_with_session(
            &format!("{tr_base}/agreements/certificates"),
            "holder=forged",
        )
        .await;
    assert_eq!(status, 403, "an analyst issuing a certificate");
    add_user(&fed, "TR-JGK", "adil", "admin", PASSWORD);
    b.log_in(&tr_base, "adil", PASSWORD).await;
    b.c().goto(&format!("{tr_base}/agreements")).await.unwrap();
    let officer = accord_protocol::SecretKey::from_seed(&[42; 32]).public_key();
    b.fill("#issue-key", &officer.to_string()).await;
    b.fill("#issue-holder", "Liaison officer, Athens").await;
    b.fill("#issue-country", "GR").await;
    b.fill("#issue-agreements", "QUAD-2026").await;
    b.fill("#issue-categories", "route, alert").await;
    b.fill("#issue-until", "2027-06-30T23:59:59Z").await;
    b.click_and_wait("#issue-button").await;
    assert!(b.text("#issued").await.contains(&officer.to_string()));
    assert!(b.text("#certificates").await.contains("in force"));
    b.fill("form.revoke input[name=reason]", "Posting ended early.")
        .await;
    b.click_and_wait("form.revoke button").await;
    assert!(
        b.text("#certificates .state")
            .await
            .starts_with("revoked from")
    );
    b.log_in(&tr_base, "ana", PASSWORD).await;

    // returns: Greece identifies a victim under QUAD-2026; Turkey's returns officer follows
    // the case, and no list shows the victim's name
    let victim = json!({
        "agreement": "QUAD-2026", "category": "victim-identification", "handling": "H2",
        "grading": "A2",
        "subjects": [{"type": "person", "role": "victim", "ref": "V1", "name": "Example Rahimi",
                      "nationality": "PK"}],
        "victim_data_purpose": "return",
        "summary": "Minor found near Evros; return to be arranged."
    });
    let (status, body) = fed.post(gr, &victim);
    assert_eq!(status, 201, "{body}");
    let case = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK to hold the victim record", |f| {
        f.ids_api("TR-JGK").contains(&case)
    });
    // an analyst does not update cases: no form, and the server refuses
    b.c()
        .goto(&format!("{tr_base}/returns/{case}"))
        .await
        .unwrap();
    assert!(b.text("#not-updatable").await.contains("returns officer"));
    let held_before = fed.ids_api("TR-JGK").len();
    let status = b
        .post_with_session(
            &format!("{tr_base}/returns/{case}"),
            "status=protected&note=forged",
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(fed.ids_api("TR-JGK").len(), held_before);
    b.log_in(&tr_base, "rana", PASSWORD).await;
    b.c()
        .goto(&format!("{tr_base}/returns/{case}"))
        .await
        .unwrap();
    assert!(b.text("#case-state").await.starts_with("identified"));
    assert_eq!(b.text("#case-next").await, "protected");
    b.select("#update-status", "protected").await;
    b.fill("#update-note", "In a shelter in Edirne; assisted.")
        .await;
    b.click_and_wait("#update-button").await;
    assert_eq!(b.path().await, format!("/returns/{case}"));
    assert!(b.text("#case-state").await.starts_with("protected"));
    assert!(b.text("#steps").await.contains("In a shelter in Edirne"));
    b.c().goto(&format!("{tr_base}/returns")).await.unwrap();
    let listed = b.text("#cases-protected").await;
    assert!(listed.contains("victim (PK)"), "{listed}");
    assert!(
        !b.text("main").await.contains("Rahimi"),
        "a victim's name on the list"
    );
    // the case's opening record shows the victim, and that view is logged with the account
    b.c()
        .goto(&format!("{tr_base}/records/{case}"))
        .await
        .unwrap();
    assert!(b.text("#subjects").await.contains("Example Rahimi"));
    b.shot("returns").await;

    // audit: an analyst is refused; the auditor filters by account and kind, and downloads
    // an export that `accord audit verify` accepts
    b.log_in(&tr_base, "ana", PASSWORD).await;
    b.c().goto(&format!("{tr_base}/audit")).await.unwrap();
    assert!(b.text("main").await.contains("does not read the audit log"));
    b.log_in(&tr_base, "audrey", PASSWORD).await;
    b.c()
        .goto(&format!("{tr_base}/audit?account=ana"))
        .await
        .unwrap();
    let by_ana = b.text("#entries tbody").await;
    assert!(
        by_ana.contains(&corrected) && by_ana.contains(&withdrawal),
        "{by_ana}"
    );
    assert!(!by_ana.contains("rana"), "{by_ana}");
    b.c()
        .goto(&format!("{tr_base}/audit?account=adil"))
        .await
        .unwrap();
    let by_adil = b.text("#entries tbody").await;
    assert!(
        by_adil.contains("delegation") && by_adil.contains("revocation"),
        "the certificate's entries name the administrator: {by_adil}"
    );
    b.select("#audit-kind", "publish").await;
    b.fill("#audit-account", "rana").await;
    b.click_and_wait("#audit-filter").await;
    let by_rana = b.text("#entries tbody").await;
    assert_eq!(by_rana.lines().count(), 1, "{by_rana}");
    b.c()
        .goto(&format!("{tr_base}/audit?kind=viewed"))
        .await
        .unwrap();
    let views = b.text("#entries tbody").await;
    assert!(
        views.contains(&case) && views.contains("rana"),
        "the views of the victim record: {views}"
    );
    b.shot("audit").await;
    let (cookie, _) = b.session().await;
    let tar = agent
        .get(format!("{tr_base}/audit/export.tar"))
        .header("Cookie", &cookie)
        .call()
        .unwrap()
        .into_body()
        .read_to_vec()
        .unwrap();
    let unpacked = fed.root.path().join("downloaded");
    std::fs::create_dir_all(&unpacked).unwrap();
    std::fs::write(unpacked.join("audit.tar"), &tar).unwrap();
    let out = Command::new("tar")
        .args(["-xf", "audit.tar"])
        .current_dir(&unpacked)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", common::text(&out));
    let dir = std::fs::read_dir(&unpacked)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("the tar holds the export directory");
    let out = common::accord(&["audit", "verify", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    b.close().await;
    fed.stop();
}
