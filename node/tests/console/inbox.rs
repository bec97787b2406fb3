//! Requests for information in the console: a focal point answers from the inbox and the
//! requester sees the answer.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_focal_point_answers_through_the_inbox_and_the_requester_sees_the_answer() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut fed = common::Federation::start(&TR_GR_BG);
    let (tr, gr, bg) = (fed.node("TR-JGK"), fed.node("GR-HCG"), fed.node("BG-GDBP"));
    let base = |i: usize| format!("http://{}", fed.nodes[i].api);
    let (tr_base, gr_base, bg_base) = (base(tr), base(gr), base(bg));
    add_user(&fed, "TR-JGK", "ana", "analyst", PASSWORD);
    add_user(&fed, "BG-GDBP", "boris", "analyst", PASSWORD);
    add_user(&fed, "BG-GDBP", "bilyana", "focal-point", PASSWORD);
    add_user(&fed, "GR-HCG", "giorgos", "focal-point", PASSWORD);
    let b = Browser::start().await;

    // Turkey's analyst asks Bulgaria's focal point under their bilateral agreement
    b.log_in(&tr_base, "ana", PASSWORD).await;
    b.c().goto(&format!("{tr_base}/requests")).await.unwrap();
    b.select("#ask-agreement", "TR-BG-2026").await;
    b.select("#ask-to", "BG-GDBP").await;
    let question = "Who rents the Kapıkule warehouse? <i>urgent</i>";
    b.fill("#ask-summary", question).await;
    b.click_and_wait("#ask-button").await;
    let path = b.path().await;
    let request = path
        .strip_prefix("/requests/")
        .unwrap_or_else(|| panic!("{path}"))
        .to_owned();
    assert_eq!(b.text("#question").await, question);
    assert_eq!(b.text("#request-state").await, "open");
    // an analyst does not answer, and the request is not addressed here anyway
    assert!(b.text("#not-answerable").await.contains("focal point"));

    // it reaches Bulgaria, and only Bulgaria
    fed.wait_until("BG-GDBP to hold the request", |f| {
        f.ids_api("BG-GDBP").contains(&request)
    });

    // Bulgaria's analyst sees it in the inbox but cannot answer: the server refuses too
    b.log_in(&bg_base, "boris", PASSWORD).await;
    b.c().goto(&format!("{bg_base}/requests")).await.unwrap();
    assert!(b.text("#inbox").await.contains(question));
    b.c()
        .goto(&format!("{bg_base}/requests/{request}"))
        .await
        .unwrap();
    assert_eq!(
        b.count("#answer-form").await,
        0,
        "no answer form for an analyst"
    );
    let held_before = fed.ids_api("BG-GDBP").len();
    let status = b
        .post_with_session(
            &format!("{bg_base}/requests/{request}"),
            "grading=B2&summary=forged",
        )
        .await;
    assert_eq!(status, 403, "an analyst's answer");
    assert_eq!(
        fed.ids_api("BG-GDBP").len(),
        held_before,
        "nothing published"
    );

    // Bulgaria's focal point answers it from the inbox, graded
    b.log_in(&bg_base, "bilyana", PASSWORD).await;
    b.c().goto(&format!("{bg_base}/requests")).await.unwrap();
    let inbox = b.text("#inbox").await;
    assert!(
        inbox.contains("open") && inbox.contains("TR-JGK"),
        "{inbox}"
    );
    b.shot("requests-inbox").await;
    b.click_and_wait("#inbox tbody a").await;
    assert_eq!(b.path().await, format!("/requests/{request}"));
    // an empty answer is refused with the reason, and nothing is signed
    b.click_and_wait("#answer-button").await;
    assert!(b.text("#answer-error").await.contains("empty"));
    assert_eq!(
        fed.ids_api("BG-GDBP").len(),
        held_before,
        "nothing published"
    );
    let answer = "Leased to a shell company; its director is known to us. Συνέχεια.";
    b.select("#answer-grading", "B2").await;
    b.fill("#answer-summary", answer).await;
    b.shot("request-answer").await;
    b.click_and_wait("#answer-button").await;
    assert_eq!(b.path().await, format!("/requests/{request}"));
    assert_eq!(b.text("#request-state").await, "answered");
    assert!(b.text("#answers").await.contains(answer));

    // the requester sees the answer in Turkey's console, within a timeout
    b.log_in(&tr_base, "ana", PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        b.c()
            .goto(&format!("{tr_base}/requests/{request}"))
            .await
            .unwrap();
        if b.text("#request-state").await == "answered" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the answer never reached Turkey's console"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let answers = b.text("#answers").await;
    assert!(
        answers.contains(answer) && answers.contains("BG-GDBP"),
        "{answers}"
    );
    assert!(
        answers.contains("mostly reliable"),
        "the grading in words: {answers}"
    );
    b.c().goto(&format!("{tr_base}/requests")).await.unwrap();
    let sent = b.text("#sent").await;
    assert!(
        sent.contains("answered") && sent.contains(question),
        "{sent}"
    );
    b.shot("requests-sent").await;

    // Greece, in QUAD-2026 with both but not in TR-BG-2026, never sees either
    b.log_in(&gr_base, "giorgos", PASSWORD).await;
    b.c().goto(&format!("{gr_base}/requests")).await.unwrap();
    let at_greece = b.text("main").await;
    assert!(!at_greece.contains("Kapıkule"), "{at_greece}");
    assert!(!fed.ids_api("GR-HCG").contains(&request));

    // the answer's publish entry names Bulgaria's focal point
    let audit = fed.root.path().join("bg-audit");
    let out = common::accord(&[
        "audit",
        "export",
        "--config",
        fed.config("BG-GDBP"),
        "--out",
        audit.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    let log = std::fs::read_to_string(audit.join("log.jsonl")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(r#""kind":"publish""#) && l.contains(r#""by":"bilyana""#)),
        "the answer's publish entry does not name bilyana"
    );
    b.close().await;
    fed.stop();
}
