//! The local API in process, against a real node started with `net::start` on loopback port 0:
//! the bearer token, publishing and refusals, queries with every filter, one record by id or
//! prefix (404, 410), peers, status, and a start refused without a token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use accord_config::NodeConfig;
use accord_node::api::view::RecordView;
use accord_node::api::{self, Api};
use accord_node::net::{NetConfig, NodeHandle, Running, start};
use accord_node::store::Store;
use accord_protocol::RecordId;
use serde_json::{Value, json};

/// TR-JGK's configuration from a copy of examples/quad: libp2p and the API on loopback port 0,
/// no addresses for the other agencies (this node talks to nobody).
fn config(dir: &Path) -> NodeConfig {
    accord_node::demo::write_federation(dir).unwrap();
    let path = dir.join("tr-jgk/node.toml");
    let mut cfg = accord_config::load_node(&path, &|p: &Path| std::fs::read(p))
        .unwrap_or_else(|e| panic!("{e}"));
    cfg.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    cfg.api.bind = "127.0.0.1:0".parse().unwrap();
    for a in cfg.agencies.values_mut() {
        a.addresses.clear();
    }
    cfg
}

/// A running node with its API, driven over HTTP from the test thread.
struct Fixture {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    handle: NodeHandle,
    running: Option<Running>,
    api: Option<Api>,
    base: String,
    token: String,
}

impl Fixture {
    fn start() -> Self {
        Self::start_with(|_, _| {})
    }

    /// Starts with the configuration changed by `change` first.
    fn start_with(change: impl FnOnce(&mut NodeConfig, &Path)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        change(&mut cfg, dir.path());
        let token = std::fs::read_to_string(&cfg.api.token_file)
            .unwrap()
            .trim()
            .to_owned();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let key = accord_node::files::read_key(&cfg.key_file).unwrap();
        let store = Arc::new(Store::open(&cfg.data_dir).unwrap());
        let (running, api) = rt.block_on(async {
            let running = start(cfg.clone(), key, store, NetConfig::default())
                .await
                .unwrap();
            let api = api::serve(running.handle.clone(), &cfg).await.unwrap();
            (running, api)
        });
        assert!(api.addr.ip().is_loopback() && api.addr.port() != 0);
        Self {
            _dir: dir,
            base: format!("http://{}", api.addr),
            handle: running.handle.clone(),
            running: Some(running),
            api: Some(api),
            rt,
            token,
        }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .new_agent()
    }

    fn read(res: ureq::http::Response<ureq::Body>) -> (u16, Value) {
        let status = res.status().as_u16();
        let mut res = res;
        let text = res.body_mut().read_to_string().unwrap();
        let value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        (status, value)
    }

    /// GET with the right token.
    fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(path, Some(&format!("Bearer {}", self.token)))
    }

    fn get_as(&self, path: &str, auth: Option<&str>) -> (u16, Value) {
        let mut req = Self::agent().get(format!("{}{path}", self.base));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        Self::read(req.call().unwrap())
    }

    /// POST a body with the right token.
    fn post(&self, path: &str, body: &[u8]) -> (u16, Value) {
        self.post_as(path, body, Some(&format!("Bearer {}", self.token)))
    }

    fn post_as(&self, path: &str, body: &[u8], auth: Option<&str>) -> (u16, Value) {
        let mut req = Self::agent()
            .post(format!("{}{path}", self.base))
            .content_type("application/json");
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        Self::read(req.send(body).unwrap())
    }

    fn publish(&self, draft: &Value) -> RecordId {
        let (status, body) = self.post("/v1/records", draft.to_string().as_bytes());
        assert_eq!(status, 201, "{body}");
        RecordId::new(body["id"].as_str().unwrap()).unwrap()
    }

    fn store(&self) -> &Store {
        self.handle.store()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let (api, running, handle) = (self.api.take(), self.running.take(), self.handle.clone());
        self.rt.block_on(async move {
            if let Some(api) = api {
                api.stop().await;
            }
            let _ = handle.shutdown().await;
            if let Some(r) = running {
                r.stopped().await;
            }
        });
    }
}

fn vessel() -> Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "vessel",
        "handling": "H1",
        "grading": "B2",
        "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729"}],
        "route": [{"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}],
        "summary": "Vessel seen loading passengers at night."
    })
}

fn route() -> Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "route",
        "handling": "H0",
        "grading": "C3",
        "route": [{"country": "PK", "role": "source"}, {"country": "IR", "role": "transit"}],
        "summary": "Overland route used by a network."
    })
}

fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {body}"))
}

#[test]
fn every_request_needs_the_bearer_token() {
    let f = Fixture::start();
    let (status, body) = f.get_as("/v1/status", None);
    assert_eq!(status, 401);
    assert!(error_of(&body).contains("missing bearer token"), "{body}");

    for wrong in [
        "Bearer not-the-token".to_owned(),
        format!("Bearer {}x", f.token),
        format!("Basic {}", f.token),
        f.token.clone(),
    ] {
        let (status, body) = f.get_as("/v1/records", Some(&wrong));
        assert_eq!(status, 401, "{wrong}: {body}");
        assert!(error_of(&body).contains("wrong bearer token"), "{body}");
        assert!(!error_of(&body).contains(&f.token), "the token is echoed");
    }
    // unknown paths are behind the token too, and a refused publish stores nothing
    assert_eq!(f.get_as("/v1/nothing", None).0, 401);
    let (status, _) = f.post_as("/v1/records", vessel().to_string().as_bytes(), None);
    assert_eq!(status, 401);
    assert!(f.store().records().is_empty());

    // the challenge names the scheme
    let res = Fixture::agent()
        .get(format!("{}/v1/peers", f.base))
        .call()
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");

    // with the token
    assert_eq!(f.get("/v1/status").0, 200);
    let (status, body) = f.get("/v1/nothing");
    assert_eq!(status, 404);
    assert!(error_of(&body).contains("/v1/nothing"), "{body}");
    let (status, body) = f.post("/v1/status", b"{}");
    assert_eq!(status, 405, "{body}");
}

#[test]
fn publishes_and_refuses_with_the_reason() {
    let f = Fixture::start();
    let id = f.publish(&vessel());
    assert!(f.store().records().contains(&id).unwrap());

    let (status, body) = f.get(&format!("/v1/records/{id}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], id.to_hex());
    assert_eq!(body["source"], "local");
    assert_eq!(body["status"], "");
    assert_eq!(body["record"]["originator"], "TR-JGK");
    assert_eq!(body["record"]["seq"], "1");
    assert_eq!(
        body["record"]["summary"],
        "Vessel seen loading passengers at night."
    );
    // the object is exactly the one `accord query --json` prints
    let rec = f.store().records().get(&id).unwrap().unwrap();
    let view = RecordView::of(f.store(), &rec).unwrap();
    assert_eq!(body, serde_json::to_value(&view).unwrap());

    // refusals: 422 with the reason, nothing stored, no seq used
    let refused = |draft: Value, needle: &str| {
        let before = f.store().records().len();
        let (status, body) = f.post("/v1/records", draft.to_string().as_bytes());
        assert_eq!(status, 422, "{body}");
        assert!(error_of(&body).contains(needle), "{needle}: {body}");
        assert_eq!(f.store().records().len(), before);
    };
    let mut d = vessel();
    d["category"] = json!("boats");
    refused(d, "boats");
    let mut d = vessel();
    d["agreement"] = json!("NOPE-1");
    refused(d, "NOPE-1");
    let mut d = vessel();
    d["agreement"] = json!("TR-BG-2026");
    refused(d, "vessel");
    let mut d = vessel();
    d["seq"] = json!("7");
    refused(d, "seq");
    let (status, body) = f.post("/v1/records", b"{not json");
    assert_eq!(status, 422, "{body}");

    // a draft over 1 MiB
    let mut d = vessel();
    d["summary"] = json!("x".repeat(api::MAX_DRAFT_BYTES));
    let (status, body) = f.post("/v1/records", d.to_string().as_bytes());
    assert_eq!(status, 413, "{body}");
    assert!(error_of(&body).contains("larger than"), "{body}");

    // the next record still gets seq 2
    let id2 = f.publish(&route());
    let (_, body) = f.get(&format!("/v1/records/{id2}"));
    assert_eq!(body["record"]["seq"], "2");
}

#[test]
fn one_record_by_id_or_prefix_404_and_410() {
    let f = Fixture::start();
    let id = f.publish(&vessel());
    let prefix = &id.to_hex()[..8];
    let (status, body) = f.get(&format!("/v1/records/{prefix}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], id.to_hex());

    let unknown = "ab".repeat(32);
    let (status, body) = f.get(&format!("/v1/records/{unknown}"));
    assert_eq!(status, 404);
    assert!(error_of(&body).contains(&unknown), "{body}");
    let (status, body) = f.get("/v1/records/not-an-id");
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("not-an-id"), "{body}");
    let (status, _) = f.get("/v1/records/abc");
    assert_eq!(status, 400);

    f.store()
        .records()
        .purge(&[id], accord_node::clock::now(), "retention ended")
        .unwrap();
    let (status, body) = f.get(&format!("/v1/records/{id}"));
    assert_eq!(status, 410, "{body}");
    assert!(error_of(&body).contains("purged"), "{body}");
    assert_eq!(body["tombstone"]["id"], id.to_hex());
    assert_eq!(body["tombstone"]["reason"], "retention ended");
    // a purged record is still found by prefix, through its tombstone
    assert_eq!(f.get(&format!("/v1/records/{prefix}")).0, 410);
}

#[test]
fn queries_with_every_filter() {
    let f = Fixture::start();
    let vessel_id = f.publish(&vessel());
    let route_id = f.publish(&route());

    let ids = |path: &str| -> Vec<String> {
        let (status, body) = f.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            body["next"].is_null(),
            "{path}: one page holds both: {body}"
        );
        let mut ids: Vec<String> = body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: no items: {body}"))
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let both = {
        let mut v = vec![vessel_id.to_hex(), route_id.to_hex()];
        v.sort();
        v
    };
    let vessel_only = vec![vessel_id.to_hex()];
    let route_only = vec![route_id.to_hex()];
    let none: Vec<String> = vec![];

    assert_eq!(ids("/v1/records"), both);
    assert_eq!(ids("/v1/records?agreement=QUAD-2026"), both);
    assert_eq!(ids("/v1/records?agreement=TR-BG-2026"), none);
    assert_eq!(ids("/v1/records?category=vessel"), vessel_only);
    assert_eq!(ids("/v1/records?category=route"), route_only);
    assert_eq!(ids("/v1/records?country=TR"), vessel_only);
    assert_eq!(ids("/v1/records?country=GR&role=destination"), vessel_only);
    assert_eq!(ids("/v1/records?country=PK&role=source"), route_only);
    assert_eq!(ids("/v1/records?country=PK&role=destination"), none);
    assert_eq!(ids("/v1/records?role=source"), route_only);
    assert_eq!(ids("/v1/records?country=gr"), vessel_only);
    assert_eq!(ids("/v1/records?subject=imo:9074729"), vessel_only);
    assert_eq!(
        ids("/v1/records?subject=vessel%3AExample%20Star"),
        vessel_only
    );
    assert_eq!(ids("/v1/records?since=2000-01-01"), both);
    assert_eq!(ids("/v1/records?since=2999-01-01T00:00:00Z"), none);
    assert_eq!(
        ids("/v1/records?agreement=QUAD-2026&category=vessel&country=GR"),
        vessel_only
    );

    // the page holds the same objects as `accord query --json`
    let (_, body) = f.get("/v1/records?category=vessel");
    let rec = f.store().records().get(&vessel_id).unwrap().unwrap();
    assert_eq!(
        body,
        json!({
            "items": [serde_json::to_value(RecordView::of(f.store(), &rec).unwrap()).unwrap()],
            "next": null
        })
    );

    for (path, needle) in [
        ("/v1/records?category=boats", "`category`"),
        ("/v1/records?category=boats", "boats"),
        ("/v1/records?agreement=", "`agreement`"),
        ("/v1/records?country=XX1", "`country`"),
        ("/v1/records?country=TR&role=sideways", "sideways"),
        ("/v1/records?since=soon", "`since`"),
        ("/v1/records?colour=red", "unknown filter `colour`"),
        ("/v1/records?country=TR&country=GR", "twice"),
    ] {
        let (status, body) = f.get(path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(error_of(&body).contains(needle), "{path}: {body}");
    }
}

#[test]
fn peers_status_and_stop() {
    let mut f = Fixture::start();
    let id = f.publish(&vessel());

    let (status, peers) = f.get("/v1/peers");
    assert_eq!(status, 200, "{peers}");
    assert_eq!(peers["connected"], json!([]));
    assert!(peers["agreements"].is_object(), "{peers}");

    let (status, st) = f.get("/v1/status");
    assert_eq!(status, 200, "{st}");
    assert_eq!(st["agency"], "TR-JGK");
    assert_eq!(st["records"], 1);
    // nobody is connected: the record waits in the other members' outboxes
    for member in ["PK-FIA", "IR-FARAJA", "GR-HCG"] {
        assert_eq!(st["outbox"][member], 1, "{member}: {st}");
    }
    assert!(f.store().records().contains(&id).unwrap());

    // stopping closes the listener
    let addr = f.api.as_ref().unwrap().addr;
    let api = f.api.take().unwrap();
    f.rt.block_on(api.stop());
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn refuses_to_start_without_a_token_or_on_a_busy_address() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key = accord_node::files::read_key(&cfg.key_file).unwrap();
    let store = Arc::new(Store::open(&cfg.data_dir).unwrap());
    rt.block_on(async {
        let running = start(cfg.clone(), key, store, NetConfig::default())
            .await
            .unwrap();
        let handle = running.handle.clone();

        let mut missing = cfg.clone();
        missing.api.token_file = dir.path().join("no-such.token");
        let e = api::serve(handle.clone(), &missing).await.unwrap_err();
        assert!(format!("{e:#}").contains("no-such.token"), "{e:#}");

        let mut empty = cfg.clone();
        empty.api.token_file = dir.path().join("empty.token");
        std::fs::write(&empty.api.token_file, "\n").unwrap();
        let e = api::serve(handle.clone(), &empty).await.unwrap_err();
        let text = format!("{e:#}");
        assert!(
            text.contains("empty.token") && text.contains("empty"),
            "{text}"
        );

        let first = api::serve(handle.clone(), &cfg).await.unwrap();
        let mut busy = cfg.clone();
        busy.api.bind = first.addr;
        let e = api::serve(handle.clone(), &busy).await.unwrap_err();
        assert!(format!("{e:#}").contains(&first.addr.to_string()), "{e:#}");

        first.stop().await;
        handle.shutdown().await.unwrap();
        running.stopped().await;
    });
}

#[test]
fn an_audit_checkpoint_on_demand_signs_the_running_nodes_head() {
    let f = Fixture::start();
    f.publish(&route());
    let key = accord_node::files::read_key(&f.handle.config().key_file)
        .unwrap()
        .public_key();
    // The running node appends entries of its own (its slot entry at start and at each slot
    // boundary); the checkpoint must name the head as it was when signed, so a head that moved
    // between our read and the request is read again.
    let mut tries = 0;
    let (head, body, signed) = loop {
        let head = f.store().log().audit_head().unwrap();
        let (status, body) = f.post("/v1/audit/checkpoint", b"");
        assert_eq!(status, 201, "{body}");
        let signed =
            accord_protocol::audit::Signed::from_line(body["line"].as_str().unwrap()).unwrap();
        let c = accord_protocol::audit::verify_checkpoint(&signed, |_| Some(key)).unwrap();
        if (c.count, c.head) == (head.count, head.hash) {
            break (head, body, signed);
        }
        let now = f.store().log().audit_head().unwrap();
        assert!(
            now.count > head.count && c.count > head.count,
            "the checkpoint names {} entries, the log had {} and has {}",
            c.count,
            head.count,
            now.count
        );
        tries += 1;
        assert!(tries < 5, "the audit head never stood still");
    };
    assert_eq!(body["checkpoint"]["count"], head.count.to_string());
    // kept as the node's latest, so the next sync status carries it to the members
    assert_eq!(
        f.store().checkpoints().latest_checkpoint().unwrap(),
        Some(signed)
    );
    let (status, _) = f.post_as("/v1/audit/checkpoint", b"", None);
    assert_eq!(status, 401);
}

#[test]
fn the_console_beyond_loopback_is_served_over_tls_with_secure_cookies() {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert_der = made.cert.der().to_vec();
    let f = Fixture::start_with(|cfg, dir| {
        let (cert, key) = (dir.join("console.crt"), dir.join("console.key"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
        cfg.console = Some(accord_config::ConsoleConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            tls_cert: cert,
            tls_key: key,
        });
    });
    let addr = f.api.as_ref().unwrap().console.as_ref().unwrap().addr;
    accord_node::console::accounts::add(
        f.store(),
        accord_protocol::Timestamp::parse("2026-12-06T00:00:00Z").unwrap(),
        "ana",
        accord_node::console::accounts::Role::Analyst,
        "a long pass phrase 7",
        None,
    )
    .unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![
            ureq::tls::Certificate::from_der(&cert_der).to_owned(),
        ])))
        .build();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_redirects(0)
        .tls_config(tls)
        .build()
        .new_agent();
    let base = format!("https://{addr}");
    let page = agent
        .get(format!("{base}/login"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(page.contains("password"), "{page}");
    let res = agent
        .post(format!("{base}/login"))
        .content_type("application/x-www-form-urlencoded")
        .send("account=ana&password=a+long+pass+phrase+7".as_bytes())
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // the session opens the console's pages over TLS
    let session = cookie.split(';').next().unwrap().to_owned();
    let home = agent
        .get(format!("{base}/records"))
        .header("Cookie", &session)
        .call()
        .unwrap();
    assert_eq!(home.status().as_u16(), 200);
    // the TLS listener serves the console only: the token API stays on loopback
    let api = agent
        .get(format!("{base}/v1/status"))
        .header("Authorization", format!("Bearer {}", f.token))
        .call()
        .unwrap();
    assert_ne!(
        api.status().as_u16(),
        200,
        "the API over the console's listener"
    );
    // clear text on the TLS port gets no page
    let plain = Fixture::agent().get(format!("http://{addr}/login")).call();
    assert!(
        plain.is_err() || plain.unwrap().status().as_u16() >= 400,
        "clear text answered on the console's TLS port"
    );
}

#[test]
fn a_console_certificate_that_cannot_be_used_is_refused_saying_which_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, "not a certificate\n").unwrap();
    std::fs::write(&key, "").unwrap();
    let cc = accord_config::ConsoleConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        tls_cert: cert,
        tls_key: key,
    };
    let e = accord_node::console::tls::server_config(&cc)
        .unwrap_err()
        .to_string();
    assert!(e.contains("tls_cert") && e.contains("c.pem"), "{e}");
}

#[test]
fn an_administrator_signs_an_agreement_from_the_console_and_it_takes_effect() {
    let own = accord_protocol::AgencyId::new("TR-JGK").unwrap();
    let bilateral = accord_protocol::AgreementId::new("TR-BG-2026").unwrap();
    let f = Fixture::start_with(|cfg, dir| {
        // this host has not signed TR-BG-2026 yet: neither its .sigs lines nor a store (the
        // demo's store keeps the signatures its configuration held) has its signature
        cfg.data_dir = dir.join("a-fresh-store");
        let a = cfg.agreements.get_mut(&bilateral).unwrap();
        a.signatures.remove(&own);
        a.signature_lines.retain(|l| l.agency != own);
    });
    let now = accord_protocol::Timestamp::parse("2026-12-06T00:00:00Z").unwrap();
    for (name, role) in [
        ("adil", accord_node::console::accounts::Role::Admin),
        ("ana", accord_node::console::accounts::Role::Analyst),
    ] {
        accord_node::console::accounts::add(
            f.store(),
            now,
            name,
            role,
            "a long pass phrase 7",
            None,
        )
        .unwrap();
    }
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_redirects(0)
        .build()
        .new_agent();
    // a session and the page's CSRF token
    let session = |name: &str| -> (String, String) {
        let res = agent
            .post(format!("{}/login", f.base))
            .content_type("application/x-www-form-urlencoded")
            .send(format!("account={name}&password=a+long+pass+phrase+7").as_bytes())
            .unwrap();
        let cookie = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let page = agent
            .get(format!("{}/agreements", f.base))
            .header("Cookie", &cookie)
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = page[at..at + 64].to_owned();
        (cookie, csrf)
    };
    let in_effect = || {
        let (_, status) = f.get("/v1/status");
        status["agreements"]["TR-BG-2026"]["in_effect"] == json!(true)
    };
    assert!(
        !in_effect(),
        "TR-BG-2026 lacks TR-JGK's signature: {}",
        f.get("/v1/status").1["agreements"]
    );
    let sign = |(cookie, csrf): (String, String)| {
        agent
            .post(format!("{}/agreements/TR-BG-2026/sign", f.base))
            .header("Cookie", &cookie)
            .content_type("application/x-www-form-urlencoded")
            .send(format!("csrf={csrf}").as_bytes())
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(sign(session("ana")), 403, "an analyst signing");
    assert!(!in_effect());
    assert_eq!(sign(session("adil")), 200);
    assert!(
        in_effect(),
        "signed by the administrator, in effect at once"
    );
    let logged = f
        .store()
        .log().audit_entries()
        .unwrap()
        .iter()
        .map(|b| accord_protocol::audit::AuditEntry::decode(b).unwrap())
        .any(|e| {
            matches!(e.event, accord_protocol::audit::AuditEvent::AgreementSignature { ref signer, ref by, .. }
                if *signer == own && by.as_deref() == Some("adil"))
        });
    assert!(
        logged,
        "the agreement-signature entry names the administrator"
    );
}
