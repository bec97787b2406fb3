//! Search in the console: a person found however spelled, and the records that share a
//! phone.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_finds_a_person_however_spelled_and_the_records_that_share_a_phone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut fed = common::Federation::start(&TR_GR_BG);
    let (tr, gr) = (fed.node("TR-JGK"), fed.node("GR-HCG"));
    let tr_base = format!("http://{}", fed.nodes[tr].api);
    add_user(&fed, "TR-JGK", "ana", "analyst", PASSWORD);
    // Greece recorded him in Persian script; Türkiye has his phone in a record of its own
    let (status, body) = fed.post(
        gr,
        &json!({
            "agreement": "QUAD-2026", "category": "smuggling-network", "handling": "H1",
            "grading": "B2",
            "subjects": [{"type": "person", "role": "facilitator", "name": "محمد رضایی",
                          "date_of_birth": "1987"},
                         {"type": "phone", "number": "+989121234567"}],
            "summary": "Organiser of crossings to Lesvos, <b>not</b> markup."
        }),
    );
    assert_eq!(status, 201, "{body}");
    let greek = body["id"].as_str().unwrap().to_owned();
    let (status, body) = fed.post(
        tr,
        &json!({
            "agreement": "QUAD-2026", "category": "communication", "handling": "H1",
            "grading": "B3",
            "subjects": [{"type": "phone", "number": "+989121234567"}],
            "summary": "The same phone called a driver in Van."
        }),
    );
    assert_eq!(status, 201, "{body}");
    let own = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK to hold GR-HCG's record", |f| {
        f.ids_api("TR-JGK").contains(&greek)
    });

    let b = Browser::start().await;
    b.log_in(&tr_base, "ana", PASSWORD).await;
    b.c().goto(&format!("{tr_base}/records")).await.unwrap();
    b.select("#search-kind", "person").await;
    b.fill("#search-q", "MOHAMED REZAEE").await;
    b.fill("#search-extra", "1987").await;
    b.click_and_wait("#search-button").await;
    assert_eq!(b.count("#hits tbody tr").await, 1, "one hit");
    let score: u32 = b.text("#hits .score").await.parse().unwrap();
    assert!((80..=100).contains(&score), "{score}");
    let why = b.text("#hits .reasons").await;
    assert!(why.contains("transliterated from Arabic script"), "{why}");
    assert!(why.contains("date of birth 1987 agrees"), "{why}");
    // the partner's markup is text
    assert!(b.text("#hits").await.contains("<b>not</b> markup"));
    b.shot("search-person").await;

    // the record's page lists the record sharing its phone
    b.click_and_wait("#hits tbody a").await;
    assert_eq!(b.path().await, format!("/records/{greek}"));
    let linked = b.text("#linked").await;
    assert!(
        linked.contains(&own) && linked.contains("phone +989121234567"),
        "{linked}"
    );

    // a phone written nationally needs its country, and says so
    b.c().goto(&format!("{tr_base}/records")).await.unwrap();
    b.select("#search-kind", "phone").await;
    b.fill("#search-q", "0912 123 4567").await;
    b.click_and_wait("#search-button").await;
    assert!(b.text("p.error").await.contains("give its country"));
    b.fill("#search-extra", "IR").await;
    b.click_and_wait("#search-button").await;
    assert_eq!(
        b.count("#hits tbody tr").await,
        2,
        "both records with the phone"
    );
    b.close().await;
    fed.stop();
}
