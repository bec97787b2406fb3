//! The web console in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`, which `.ci/run` installs), against `accord run` processes
//! on loopback. With `ACCORD_SCREENSHOTS=DIR` the tests save the screenshots of
//! docs/console.md there (`docs/console.md` says the command).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const TR_GR_BG: [(&str, &str); 3] = [
    ("tr-jgk", "TR-JGK"),
    ("gr-hcg", "GR-HCG"),
    ("bg-gdbp", "BG-GDBP"),
];
const PASSWORD: &str = "a long pass phrase 7";

/// chromedriver and a headless Chromium session; both end on drop.
struct Browser {
    driver: Child,
    client: Option<Client>,
    shots: Option<PathBuf>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

impl Browser {
    async fn start() -> Self {
        let driver_bin = which("chromedriver").unwrap_or_else(|| {
            panic!(
                "chromedriver is not installed: the console's browser tests need Debian's \
                 `chromium` and `chromium-driver` (apt-get install chromium chromium-driver; \
                 .ci/run does it)"
            )
        });
        let port = accord_node::demo::free_loopback_ports(1).unwrap()[0];
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": which("chromium").map(|p| p.display().to_string()).unwrap_or_else(|| "/usr/bin/chromium".into()),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,900"]
            }
        }))
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            // plain HTTP to chromedriver on loopback: no TLS stack to build
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("no browser session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let shots = std::env::var_os("ACCORD_SCREENSHOTS").map(PathBuf::from);
        Self {
            driver,
            client: Some(client),
            shots,
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    async fn text(&self, css: &str) -> String {
        self.c()
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn count(&self, css: &str) -> usize {
        self.c().find_all(Locator::Css(css)).await.unwrap().len()
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.c().find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    async fn select(&self, css: &str, value: &str) {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css}: no option {value}: {e}"));
    }

    async fn path(&self) -> String {
        self.c().current_url().await.unwrap().path().to_owned()
    }

    /// Submits the login form and waits until the browser has left the page it was on.
    async fn log_in(&self, base: &str, account: &str, password: &str) {
        self.c().goto(&format!("{base}/login")).await.unwrap();
        self.fill("#account", account).await;
        self.fill("#password", password).await;
        self.click_and_wait("#login").await;
    }

    /// Clicks and waits until the page has been replaced (the clicked element is stale).
    async fn click_and_wait(&self, css: &str) {
        let e = self.c().find(Locator::Css(css)).await.unwrap();
        e.clone().click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while e.is_displayed().await.is_ok() {
            assert!(Instant::now() < deadline, "clicking {css} led nowhere");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The session cookie as a `Cookie` header value, and the page's CSRF token: what a
    /// forged or scripted request would need.
    async fn session(&self) -> (String, String) {
        let cookie = self
            .c()
            .get_named_cookie(accord_node::console::session::COOKIE)
            .await
            .unwrap();
        let csrf = self
            .c()
            .find(Locator::Css("form.logout input[name=csrf]"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        (format!("{}={}", cookie.name(), cookie.value()), csrf)
    }

    /// Posts `form` (the session's CSRF token put first) to `url` outside the browser, with
    /// the browser's session: what a person whose page hides a button could still send.
    /// Returns the status.
    async fn post_with_session(&self, url: &str, form: &str) -> u16 {
        let (cookie, csrf) = self.session().await;
        common::Federation::agent()
            .post(url)
            .header("Cookie", &cookie)
            .content_type("application/x-www-form-urlencoded")
            .send(format!("csrf={csrf}&{form}").as_bytes())
            .unwrap()
            .status()
            .as_u16()
    }

    async fn shot(&self, name: &str) {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir).unwrap();
            let png = self.c().screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

fn add_user(fed: &common::Federation, agency: &str, name: &str, role: &str, password: &str) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--config",
            fed.config(agency),
        ])
        .env_remove("ACCORD_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "user add {name}: {stdout}{stderr}");
}

/// A partner's record whose summary and subject name carry markup and script, in Arabic
/// and Greek as well: the console shows it as text, everywhere.
fn hostile_record() -> serde_json::Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "alert",
        "handling": "H1",
        "grading": "B2",
        "route": [{"country": "GR", "role": "transit"}],
        "summary": "<script>document.title='owned'</script><b>bold</b> قارب Σκάφος <img src=x>"
    })
}

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

/// The console's tests each run three nodes and a browser: one at a time on this 2-core
/// machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

mod matching;
