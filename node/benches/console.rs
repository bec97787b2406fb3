//! The console's records list and subject search on large stores, against the same query
//! through `accord query` in the same run (docs/benchmarks.md, "Console").
//!
//! For each store size (`ACCORD_BENCH_CONSOLE_SIZES`, default `100000,1000000`) the bench
//! builds TR-JGK's store of the demo federation with that many records received from three
//! partners, starts the node with its API and console on loopback, logs an analyst in, and
//! times, as medians of repeated requests:
//!
//! - the console's first records page (`GET /records`, 50 rows) and a subject search
//!   (`GET /records?subject=phone:…`, 10 hits), each a whole HTTP exchange on loopback;
//! - the JSON API's same page and search (`GET /v1/records?limit=50…`);
//! - `accord query --limit 50` and `accord query --subject phone:…`: the command a person
//!   would run, a process that reaches the running node through that API.
//!
//! The figures are printed with their ratios to `accord query`'s. Nothing is asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../protocol/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_node::net::{NetConfig, start};
use accord_node::store::{Source, Store};
use accord_protocol::batch::verify_batch;
use accord_protocol::{AgencyId, PublicKey, Record, SecretKey, Seq, Subject, Timestamp, sign};

const ORIGINATORS: [&str; 3] = ["PK-FIA", "IR-FARAJA", "GR-HCG"];
/// Distinct phone numbers: each is a subject of (records / PHONES) records.
const PHONES: u64 = 100_000;
const RUNS: usize = 15;
const PASSWORD: &str = "a long pass phrase 7";

fn phone(n: u64) -> String {
    format!("+90555{n:07}")
}

struct Records {
    keys: Vec<SecretKey>,
    dir: BTreeMap<AgencyId, PublicKey>,
    base: Record,
    made: u64,
}

impl Records {
    fn new() -> Self {
        let keys: Vec<SecretKey> = (0u8..3).map(|i| common::key(i + 1)).collect();
        let dir = ORIGINATORS
            .iter()
            .zip(&keys)
            .map(|(a, k)| (common::agency(a), k.public_key()))
            .collect();
        let mut base = common::full_record();
        base.subjects
            .retain(|s| matches!(s, Subject::Person(_) | Subject::Phone(_)));
        base.route.truncate(2);
        base.handling = accord_protocol::HandlingCode::H2;
        base.handling_restriction = None;
        base.expires = None;
        base.agreement = accord_protocol::AgreementId::new("QUAD-2026").unwrap();
        base.category = accord_protocol::Category::SmugglingNetwork;
        Self {
            keys,
            dir,
            base,
            made: 0,
        }
    }

    fn take(&mut self, n: usize) -> Vec<accord_protocol::Verified<accord_protocol::SignedRecord>> {
        let start = Timestamp::parse("2026-11-01T00:00:00Z").unwrap().unix();
        let envelopes = (self.made..self.made + n as u64)
            .map(|i| {
                let who = (i % 3) as usize;
                let mut r = self.base.clone();
                r.originator = common::agency(ORIGINATORS[who]);
                r.seq = Seq::new(i / 3 + 1).unwrap();
                r.created = Timestamp::from_unix(start + i as i64).unwrap();
                for s in &mut r.subjects {
                    match s {
                        Subject::Phone(p) => p.number = phone(i % PHONES),
                        Subject::Person(p) => p.name = Some(format!("Facilitator {}", i % 250_000)),
                        _ => {}
                    }
                }
                sign(&r, &self.keys[who]).unwrap()
            })
            .collect();
        self.made += n as u64;
        verify_batch(envelopes, &self.dir)
            .into_iter()
            .map(Result::unwrap)
            .collect()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(mut f: impl FnMut()) -> Duration {
    f(); // warm
    median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn run(total: u64) {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    let config = dir.path().join("tr-jgk/node.toml");
    let ports = accord_node::demo::free_loopback_ports(2).unwrap();
    accord_node::demo::pin_ports(&config, ports[0], ports[1], &BTreeMap::new()).unwrap();
    let cfg = accord_config::load_node(&config, &|p: &std::path::Path| std::fs::read(p)).unwrap();
    let store = Arc::new(Store::open(&cfg.data_dir).unwrap());
    eprintln!("building a store of {total} records …");
    let mut records = Records::new();
    let source = Source::Peer(common::agency("PK-FIA"));
    let now = Timestamp::parse("2026-12-01T12:00:00Z").unwrap();
    let t = Instant::now();
    while records.made < total {
        let n = (total - records.made).min(1024) as usize;
        let batch = records.take(n);
        store.insert_batch(&batch, &source, now).unwrap();
        if records.made % 102_400 < 1024 {
            eprintln!(
                "  {} records, {:.0} s",
                records.made,
                t.elapsed().as_secs_f64()
            );
        }
    }
    store.flush().unwrap();
    accord_node::console::accounts::add(
        &store,
        now,
        "ana",
        accord_node::console::accounts::Role::Analyst,
        PASSWORD,
        None,
    )
    .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = accord_node::files::read_key(&cfg.key_file).unwrap();
    let (running, api) = rt.block_on(async {
        let running = start(cfg.clone(), key, store.clone(), NetConfig::default())
            .await
            .unwrap();
        let api = accord_node::api::serve(running.handle.clone(), &cfg)
            .await
            .unwrap();
        (running, api)
    });
    let base = format!("http://{}", api.addr);
    let token = std::fs::read_to_string(&cfg.api.token_file)
        .unwrap()
        .trim()
        .to_owned();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_redirects(0)
        .build()
        .new_agent();
    let res = agent
        .post(format!("{base}/login"))
        .content_type("application/x-www-form-urlencoded")
        .send(format!("account=ana&password={}", PASSWORD.replace(' ', "+")).as_bytes())
        .unwrap();
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let target = phone(7);
    let get = |path: &str, auth: (&str, String)| {
        let mut body = agent
            .get(format!("{base}{path}"))
            .header(auth.0, &auth.1)
            .call()
            .unwrap();
        assert_eq!(body.status().as_u16(), 200, "{path}");
        body.body_mut().read_to_string().unwrap()
    };
    let console = |path: &str| get(path, ("Cookie", cookie.clone()));
    let json = |path: &str| get(path, ("Authorization", format!("Bearer {token}")));
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["query", "--config", config.to_str().unwrap()])
            .args(args)
            .env_remove("ACCORD_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout.len()
    };
    let search = format!("phone:{target}");
    let hits = console(&format!("/records?subject={}", search.replace('+', "%2B")))
        .matches("href=\"/records/")
        .count();
    let page = console("/records").matches("href=\"/records/").count();

    let c_list = time(|| {
        console("/records");
    });
    let c_search = time(|| {
        console(&format!("/records?subject={}", search.replace('+', "%2B")));
    });
    let j_list = time(|| {
        json("/v1/records?limit=50");
    });
    let j_search = time(|| {
        json(&format!(
            "/v1/records?limit=50&subject={}",
            search.replace('+', "%2B")
        ));
    });
    let q_list = time(|| {
        cli(&["--limit", "50"]);
    });
    let q_search = time(|| {
        cli(&["--subject", &search]);
    });
    println!("store of {total} records: list page {page} rows, search {hits} hits");
    for (what, c, j, q) in [
        ("records list, first page", c_list, j_list, q_list),
        ("subject search (phone)", c_search, j_search, q_search),
    ] {
        println!(
            "  {what:<26} console {:>10} ({:.2}× accord query)  API {:>10} ({:.2}×)  accord query {:>10}",
            ms(c),
            c.as_secs_f64() / q.as_secs_f64(),
            ms(j),
            j.as_secs_f64() / q.as_secs_f64(),
            ms(q)
        );
    }
    rt.block_on(async {
        api.stop().await;
        let _ = running.handle.shutdown().await;
        running.stopped().await;
    });
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing else
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes: Vec<u64> = std::env::var("ACCORD_BENCH_CONSOLE_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("ACCORD_BENCH_CONSOLE_SIZES: counts, comma-separated")
        })
        .collect();
    for total in sizes {
        run(total);
    }
}
