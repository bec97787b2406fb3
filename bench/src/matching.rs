//! `accord-bench match`: hit / no-hit between two nodes on loopback (docs/matching.md), against
//! `verify_strict` timed in the same run. TR-JGK holds `holdings` phone numbers of its own;
//! PK-FIA looks numbers up one at a time (half of them held) and then 64 to a lookup. A lookup's
//! wall time includes both sides' cryptography, the asker's `lookup-made` entry flushed before
//! the lookup leaves, and the holder's count and `lookup-answered` entry flushed before it
//! answers.

use std::time::{Duration, Instant};

use accord_node::matching::asker::{Outcome, Wanted};
use accord_protocol::matching::{Selector, SelectorKind};
use accord_protocol::{AgencyId, AgreementId, SecretKey};
use accord_testkit::{TestNode, connect_all, fast, load, matching_agreement};
use anyhow::{Context, Result, bail};
use serde::Serialize;

/// The figures of one run.
#[derive(Clone, Debug, Serialize)]
pub struct MatchReport {
    /// Phone numbers the holder holds.
    pub holdings: usize,
    /// The first lookup, which fetched and checked the holder's set, in ms.
    pub first_lookup_ms: f64,
    /// Lookups of one selector made.
    pub lookups: usize,
    /// Of them, hits.
    pub hits: usize,
    /// Lookups of one selector per second.
    pub lookups_per_s: f64,
    /// Wall time of one lookup of one selector, µs.
    pub lookup_us: f64,
    /// Lookups of 64 selectors made.
    pub batch_lookups: usize,
    /// Wall time per selector in lookups of 64, µs.
    pub batch_per_selector_us: f64,
    /// `verify_strict` per second on one core, this run.
    pub verify_strict_per_s: f64,
    /// A lookup of one selector, in `verify_strict`s.
    pub lookup_ratio: f64,
    /// A selector in a lookup of 64, in `verify_strict`s.
    pub batch_ratio: f64,
}

fn phone(i: usize) -> String {
    format!("+92300{i:07}")
}

fn wanted(selectors: Vec<Selector>, shown: String) -> Wanted {
    Wanted {
        kind: SelectorKind::Phone,
        shown,
        selectors,
        subject: None,
    }
}

/// `verify_strict` per second on this thread: signatures of 64 distinct messages, timed for
/// at least `min`.
fn verify_strict_rate(min: Duration) -> f64 {
    let key = SecretKey::from_seed(&[9; 32]);
    let public = key.public_key();
    let domain = b"accord/bench/v1\0";
    let samples: Vec<(Vec<u8>, [u8; 64])> = (0..64u32)
        .map(|i| {
            let body = format!("message {i} of the matching benchmark").into_bytes();
            let sig = key.sign_tagged(domain, &body);
            ([&domain[..], &body].concat(), sig)
        })
        .collect();
    let started = Instant::now();
    let mut done = 0usize;
    while started.elapsed() < min {
        for (m, s) in &samples {
            assert!(accord_protocol::verify::verify_strict_raw(&public, m, s));
        }
        done += samples.len();
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// Runs the benchmark and prints its figures.
pub fn run(holdings: usize, lookups: usize) -> Result<MatchReport> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(measure(holdings, lookups))?;
    println!("{}", render(&report));
    Ok(report)
}

async fn measure(holdings: usize, lookups: usize) -> Result<MatchReport> {
    let dir = tempfile::tempdir()?;
    accord_node::demo::write_federation(dir.path())?;
    matching_agreement(dir.path(), "MATCH-BENCH", &["PK-FIA", "TR-JGK"], 100_000);
    let agreement = AgreementId::new("MATCH-BENCH")?;
    let tr = TestNode::try_start_with(load(dir.path(), "tr-jgk"), fast()).await?;
    let pk = TestNode::try_start_with(load(dir.path(), "pk-fia"), fast()).await?;
    eprintln!("match: TR-JGK publishes {holdings} phone numbers, 64 to a record");
    for chunk in (0..holdings).collect::<Vec<_>>().chunks(64) {
        let subjects: Vec<serde_json::Value> = chunk
            .iter()
            .map(|i| serde_json::json!({"type": "phone", "number": phone(*i)}))
            .collect();
        let draft = serde_json::json!({
            "agreement": "MATCH-BENCH",
            "category": "communication",
            "handling": "H1",
            "grading": "B2",
            "subjects": subjects,
            "summary": "Phones seen in the benchmark."
        });
        let d = accord_node::draft::parse_draft(draft.to_string().as_bytes())?;
        tr.handle.publish(d, accord_node::clock::now()).await?;
    }
    connect_all(&[&tr, &pk]).await;
    let holder = AgencyId::new("TR-JGK")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = pk.handle.status().await?;
        if status
            .agreements
            .get(&agreement)
            .is_some_and(|a| a.confirmed_with.contains(&holder))
        {
            break;
        }
        if Instant::now() > deadline {
            bail!("PK-FIA never confirmed MATCH-BENCH with TR-JGK");
        }
        let mut events = pk.handle.subscribe();
        let _ = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
    }
    let one = |i: usize| -> Result<Wanted> {
        let p = phone(i);
        Ok(wanted(vec![Selector::new(SelectorKind::Phone, &p)?], p))
    };
    let ask = |w: Wanted| {
        let h = pk.handle.clone();
        let a = agreement.clone();
        async move { h.match_wanted(&w, Some(&a), None).await }
    };
    // the first lookup fetches the holder's set and checks its signature
    let started = Instant::now();
    let first = ask(one(0)?).await.map_err(anyhow::Error::msg)?;
    let first_lookup_ms = started.elapsed().as_secs_f64() * 1e3;
    if first.results.first().map(|r| &r.outcome) != Some(&Outcome::Hit) {
        bail!("the first lookup was not a hit: {first:?}");
    }
    let mut hits = 0;
    let started = Instant::now();
    for n in 0..lookups {
        // even n: a number held; odd: one past the holdings
        let i = if n % 2 == 0 {
            n % holdings.max(1)
        } else {
            holdings + n
        };
        let r = ask(one(i)?).await.map_err(anyhow::Error::msg)?;
        match r.results.first().map(|r| &r.outcome) {
            Some(Outcome::Hit) => hits += 1,
            Some(Outcome::Miss) => {}
            other => bail!("lookup {n}: {other:?}"),
        }
    }
    let single = started.elapsed().as_secs_f64();
    if hits != lookups.div_ceil(2) {
        bail!("{hits} hits of {lookups} lookups; every other number is held");
    }
    let batch_lookups = (lookups / 16).max(1);
    let started = Instant::now();
    for b in 0..batch_lookups {
        let selectors = (0..64)
            .map(|k| Selector::new(SelectorKind::Phone, &phone(holdings + 10_000 + b * 64 + k)))
            .collect::<Result<Vec<_>, _>>()?;
        let r = ask(wanted(selectors, format!("lot {b}")))
            .await
            .map_err(anyhow::Error::msg)?;
        if r.results.first().map(|r| &r.outcome) != Some(&Outcome::Miss) {
            bail!("lot {b} of numbers nobody holds: {r:?}");
        }
    }
    let batch = started.elapsed().as_secs_f64();
    let verify_strict_per_s = verify_strict_rate(Duration::from_secs(2));
    let lookup_us = single / lookups.max(1) as f64 * 1e6;
    let batch_per_selector_us = batch / (batch_lookups * 64) as f64 * 1e6;
    let verify_us = 1e6 / verify_strict_per_s;
    tr.try_stop().await.context("stopping TR-JGK")?;
    pk.try_stop().await.context("stopping PK-FIA")?;
    Ok(MatchReport {
        holdings,
        first_lookup_ms,
        lookups,
        hits,
        lookups_per_s: lookups as f64 / single,
        lookup_us,
        batch_lookups,
        batch_per_selector_us,
        verify_strict_per_s,
        lookup_ratio: lookup_us / verify_us,
        batch_ratio: batch_per_selector_us / verify_us,
    })
}

/// The figures in words.
pub fn render(r: &MatchReport) -> String {
    format!(
        "hit / no-hit between two nodes on loopback (docs/matching.md)\n\
         holder's phone numbers     {}\n\
         first lookup (set fetched) {:.1} ms\n\
         lookups of 1 selector      {} ({} hits): {:.1}/s, {:.0} µs each = {:.1} × verify_strict\n\
         lookups of 64 selectors    {}: {:.0} µs per selector = {:.1} × verify_strict\n\
         verify_strict (same run)   {:.0}/s on one core\n",
        r.holdings,
        r.first_lookup_ms,
        r.lookups,
        r.hits,
        r.lookups_per_s,
        r.lookup_us,
        r.lookup_ratio,
        r.batch_lookups,
        r.batch_per_selector_us,
        r.batch_ratio,
        r.verify_strict_per_s,
    )
}
