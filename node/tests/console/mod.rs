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

/// The console's tests each run three nodes and a browser: one at a time on this 2-core
/// machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

mod inbox;
mod matching;
mod pages;
mod publishing;
mod release;
mod search;
