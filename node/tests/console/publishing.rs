//! Publishing and reading through the console: analysts of three nodes publish, read and
//! export; only members see a record; partners' text is shown as text; sessions, roles and
//! CSRF are enforced.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_publish_and_read_through_the_console_and_only_members_see_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut fed = common::Federation::start(&TR_GR_BG);
    let (tr, gr) = (fed.node("TR-JGK"), fed.node("GR-HCG"));
    let base = format!("http://{}", fed.nodes[tr].api);

    // the first-run page says how to make the first administrator
    let b = Browser::start().await;
    b.c().goto(&format!("{base}/")).await.unwrap();
    assert_eq!(b.path().await, "/login", "no page without a session");
    assert!(
        b.text("#first-run").await.contains("accord user add"),
        "the first-run notice"
    );
    b.shot("login-first-run").await;

    // accounts made through the running node (its store is locked by `accord run`)
    add_user(&fed, "TR-JGK", "ana", "analyst", PASSWORD);
    add_user(&fed, "TR-JGK", "fatma", "focal-point", PASSWORD);

    // Greece publishes a record with markup in it; Turkey receives it
    let (status, body) = fed.post(gr, &hostile_record());
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK to hold Greece's record", |f| {
        f.ids_api("TR-JGK").contains(&id)
    });

    // a wrong password is refused, saying so
    b.log_in(&base, "ana", "not the password").await;
    assert_eq!(b.text("#login-error").await, "Wrong account or password.");
    // the right one opens the federation page: Greece is a partner, connected
    b.log_in(&base, "ana", PASSWORD).await;
    assert_eq!(b.path().await, "/");
    // Greece is a partner whose signed checkpoint (its log's head) this node holds
    let deadline = Instant::now() + Duration::from_secs(20);
    let partners = loop {
        let partners = b.text("#partners").await;
        let greece = partners
            .lines()
            .find(|l| l.contains("GR-HCG"))
            .unwrap_or_default()
            .to_owned();
        if greece.contains("connected") && greece.contains("2026-") {
            break partners;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of Greece shown: {partners}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.c().goto(&format!("{base}/")).await.unwrap();
    };
    assert!(partners.contains("GR-HCG"), "{partners}");
    assert!(b.text("#agreements").await.contains("QUAD-2026"));
    b.shot("federation").await;

    // the records list shows Greece's summary as the text it is
    b.c().goto(&format!("{base}/records")).await.unwrap();
    let summary = hostile_record()["summary"].as_str().unwrap().to_owned();
    let row = b.text("#records tbody").await;
    assert!(row.contains(&summary), "{row}");
    assert_eq!(b.count("#records b, #records img, main script").await, 0);
    assert_ne!(b.c().title().await.unwrap(), "owned");
    b.shot("records").await;

    // and its page, every field as text
    b.click_and_wait("#records tbody a").await;
    assert_eq!(b.path().await, format!("/records/{id}"));
    assert_eq!(b.text("#summary").await, summary);
    assert_eq!(b.count("main b, main img, main script").await, 0);
    assert!(b.text("#fields").await.contains("GR-HCG"));
    b.shot("record").await;

    // a record naming a victim: who opened its page is in the audit log
    let victim = json!({
        "agreement": "QUAD-2026", "category": "victim-identification", "handling": "H2",
        "grading": "A2",
        "subjects": [{"type": "person", "role": "victim", "ref": "V1", "name": "Example Rahimi",
                      "date_of_birth": "2009-03", "nationality": "PK"}],
        "victim_data_purpose": "identification",
        "summary": "Minor found near Van; requesting identification."
    });
    let (status, body) = fed.post(gr, &victim);
    assert_eq!(status, 201, "{body}");
    let victim_id = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK to hold the victim record", |f| {
        f.ids_api("TR-JGK").contains(&victim_id)
    });
    b.c()
        .goto(&format!("{base}/records/{victim_id}"))
        .await
        .unwrap();
    assert!(b.text("#subjects").await.contains("Example Rahimi"));

    // a form posted without the session's CSRF token, or from another site, changes nothing
    let cookie = b
        .c()
        .get_named_cookie(accord_node::console::session::COOKIE)
        .await
        .unwrap();
    let session = format!("{}={}", cookie.name(), cookie.value());
    let agent = common::Federation::agent();
    let post = |origin: Option<&str>, form: &str| {
        let mut req = agent
            .post(format!("{base}/logout"))
            .header("Cookie", &session)
            .content_type("application/x-www-form-urlencoded");
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        req.send(form.as_bytes()).unwrap().status().as_u16()
    };
    assert_eq!(post(None, "csrf=wrong"), 403, "a wrong CSRF token");
    assert_eq!(post(None, ""), 403, "no CSRF token");
    assert_eq!(
        post(Some("http://evil.example"), "csrf=wrong"),
        403,
        "another origin"
    );
    b.c().goto(&format!("{base}/records")).await.unwrap();
    assert_eq!(
        b.path().await,
        "/records",
        "the session outlived the forged posts"
    );

    // the security headers of every page
    let res = agent.get(format!("{base}/login")).call().unwrap();
    let h = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert!(h("content-security-policy").contains("default-src 'none'"));
    assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
    assert!(!h("content-security-policy").contains("unsafe-inline"));
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");

    // ana publishes under TR-BG-2026 through the form: the preview names Bulgaria alone
    b.c().goto(&format!("{base}/publish")).await.unwrap();
    b.select("#agreement", "TR-BG-2026").await;
    b.select("#category", "route").await;
    b.select("#handling", "H2").await;
    b.fill("#country1", "TR").await;
    b.select("#role1", "transit").await;
    let bilateral = "Bilateral: van crossing at Kapıkule at night, Σ and ب in the notes.";
    b.fill("#summary-input", bilateral).await;
    b.click_and_wait("#preview-button").await;
    assert_eq!(b.text("#receivers").await, "BG-GDBP");
    b.shot("publish-preview").await;
    b.click_and_wait("#sign").await;
    let path = b.path().await;
    let published = path
        .strip_prefix("/records/")
        .unwrap_or_else(|| panic!("{path}"))
        .to_owned();
    assert_eq!(b.text("#summary").await, bilateral);
    // a policy refusal in words, before anything is signed: TR-BG-2026 permits no vessel
    b.c().goto(&format!("{base}/publish")).await.unwrap();
    b.select("#agreement", "TR-BG-2026").await;
    b.select("#category", "vessel").await;
    b.fill("#summary-input", "A vessel.").await;
    b.click_and_wait("#preview-button").await;
    let refusal = b.text("#publish-error").await;
    assert!(refusal.contains("vessel"), "{refusal}");
    assert_eq!(b.count("#sign").await, 0, "nothing to sign after a refusal");
    // subjects through the form: the record rules' own message names the field, and victim
    // data under an agreement that allows none is refused in words, nothing to sign
    b.c().goto(&format!("{base}/publish")).await.unwrap();
    b.select("#agreement", "TR-BG-2026").await;
    b.select("#category", "smuggling-network").await;
    b.select("#p1-role", "facilitator").await;
    b.fill("#p1-name", "Example Karimov").await;
    b.fill("#p1-born", "1979-13").await;
    b.fill("#summary-input", "A network.").await;
    b.click_and_wait("#preview-button").await;
    let refusal = b.text("#publish-error").await;
    assert!(
        refusal.contains("subjects[0]")
            && refusal.contains("1979-13")
            && !refusal.contains("column"),
        "{refusal}"
    );
    assert_eq!(b.count("#sign").await, 0);
    assert_eq!(
        b.c()
            .find(Locator::Css("#p1-name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Example Karimov"),
        "the form keeps what was typed"
    );
    b.fill("#p1-born", "1979").await;
    b.select("#p1-role", "victim").await;
    b.select("#victim-purpose", "identification").await;
    b.click_and_wait("#preview-button").await;
    let refusal = b.text("#publish-error").await;
    assert!(
        refusal.contains("TR-BG-2026") && refusal.contains("victim"),
        "{refusal}"
    );
    assert_eq!(b.count("#sign").await, 0);
    b.shot("publish-refused").await;

    // Bulgaria's analyst sees it in Bulgaria's console; Greece's console never shows it
    let bg = fed.node("BG-GDBP");
    fed.wait_until("BG-GDBP to hold the bilateral record", |f| {
        f.ids_api("BG-GDBP").contains(&published)
    });
    add_user(&fed, "BG-GDBP", "boris", "analyst", PASSWORD);
    add_user(&fed, "GR-HCG", "giorgos", "analyst", PASSWORD);
    let bg_base = format!("http://{}", fed.nodes[bg].api);
    b.log_in(&bg_base, "boris", PASSWORD).await;
    b.c().goto(&format!("{bg_base}/records")).await.unwrap();
    assert!(b.text("#records tbody").await.contains(bilateral));
    let gr_base = format!("http://{}", fed.nodes[gr].api);
    b.log_in(&gr_base, "giorgos", PASSWORD).await;
    b.c().goto(&format!("{gr_base}/records")).await.unwrap();
    let at_greece = b.text("main").await;
    assert!(
        !at_greece.contains("Kapıkule") && at_greece.contains("<b>bold</b>"),
        "Greece's console shows its own record and never the bilateral one: {at_greece}"
    );
    b.c()
        .goto(&format!("{gr_base}/records/{published}"))
        .await
        .unwrap();
    assert!(b.text("main").await.contains("not in this store"));
    assert!(!fed.ids_api("GR-HCG").contains(&published));

    // an auditor reads and changes nothing: the server refuses, whatever the page shows
    add_user(&fed, "TR-JGK", "audrey", "auditor", PASSWORD);
    b.log_in(&base, "audrey", PASSWORD).await;
    assert_eq!(
        b.count("nav a[href='/publish']").await,
        0,
        "no publish link"
    );
    b.c().goto(&format!("{base}/publish")).await.unwrap();
    assert!(b.text("main").await.contains("cannot publish"));
    let held_before = fed.ids_api("TR-JGK").len();
    let status = b
        .post_with_session(
            &format!("{base}/publish"),
            "step=publish&agreement=TR-BG-2026&category=route&handling=H2&grading=B2&summary=forged",
        )
        .await;
    assert_eq!(status, 403, "an auditor's publish");
    assert_eq!(
        fed.ids_api("TR-JGK").len(),
        held_before,
        "nothing was published"
    );

    // disabling the account ends its session at once
    b.log_in(&base, "ana", PASSWORD).await;
    assert_eq!(b.path().await, "/");
    let out = common::accord(&["user", "disable", "ana", "--config", fed.config("TR-JGK")]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    b.c().goto(&format!("{base}/records")).await.unwrap();
    assert_eq!(
        b.path().await,
        "/login",
        "a disabled account's session ended"
    );
    b.log_in(&base, "ana", PASSWORD).await;
    assert_eq!(b.text("#login-error").await, "Wrong account or password.");

    // wrong passwords lock an account for a while, with an audit entry
    for _ in 0..accord_node::console::session::FAILURES_BEFORE_LOCK {
        b.log_in(&base, "fatma", "guessing wrong").await;
    }
    b.log_in(&base, "fatma", PASSWORD).await;
    assert!(
        b.text("#login-error").await.contains("locked"),
        "locked after repeated wrong passwords"
    );
    let audit = fed.root.path().join("tr-audit");
    let out = common::accord(&[
        "audit",
        "export",
        "--config",
        fed.config("TR-JGK"),
        "--out",
        audit.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    let log = std::fs::read_to_string(audit.join("log.jsonl")).unwrap();
    assert!(
        log.lines().any(|l| l.contains(r#""kind":"viewed""#)
            && l.contains(&victim_id)
            && l.contains(r#""by":"ana""#)),
        "no audit entry of ana viewing the victim's record"
    );
    assert!(
        log.lines().any(|l| l.contains(r#""kind":"publish""#)
            && l.contains(&published)
            && l.contains(r#""by":"ana""#)),
        "the publish entry does not name ana"
    );
    assert!(
        !log.lines()
            .any(|l| l.contains(r#""kind":"viewed""#) && l.contains(&id)),
        "a record without victim data logged as viewed"
    );
    for (account, change) in [("ana", "added"), ("ana", "disabled"), ("fatma", "locked")] {
        assert!(
            log.lines().any(|l| l.contains(r#""kind":"account""#)
                && l.contains(&format!(r#""account":"{account}""#))
                && l.contains(&format!(r#""change":"{change}""#))),
            "no audit entry of {account} {change}"
        );
    }
    assert!(!log.contains("argon2"), "a password hash in the audit log");
    b.close().await;
    let _ = tr;
    fed.stop();
}
