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
mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_node::net::{NetConfig, start};
use accord_node::store::Store;
use accord_protocol::{Record, Subject, Timestamp};
use support::Records;

/// Distinct phone numbers: each is a subject of (records / PHONES) records.
const PHONES: u64 = 100_000;
const RUNS: usize = 15;
const PASSWORD: &str = "a long pass phrase 7";

fn phone(n: u64) -> String {
    format!("+90555{n:07}")
}

/// Record `i`: under QUAD-2026, created a second after the one before, its phone one of
/// [`PHONES`] and its person one of 250,000 names.
fn vary(r: &mut Record, i: u64) {
    let start = Timestamp::parse("2026-11-01T00:00:00Z").unwrap().unix();
    r.agreement = accord_protocol::AgreementId::new("QUAD-2026").unwrap();
    r.category = accord_protocol::Category::SmugglingNetwork;
    r.created = Timestamp::from_unix(start + i as i64).unwrap();
    for s in &mut r.subjects {
        match s {
            Subject::Phone(p) => p.number = phone(i % PHONES),
            Subject::Person(p) => p.name = Some(format!("Facilitator {}", i % 250_000)),
            _ => {}
        }
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
    let now = Timestamp::parse("2026-12-01T12:00:00Z").unwrap();
    // flushed after every batch, as the receive path flushes after every push
    support::fill(&store, &mut Records::new(vary), total, now, Duration::ZERO);
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
