//! `accord demo`: the examples/quad federation — five agencies, two agreements — in one process
//! on loopback. It publishes sample records under each agreement, waits until they are
//! delivered, prints which agency holds which record, and checks that the agency outside the
//! quadrilateral holds none of its records although it is connected.
//!
//! The example files are compiled in, so the demo runs from any directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use accord_config::NodeConfig;
use accord_protocol::{AgencyId, RecordId, SecretKey};
use anyhow::{Context, Result, bail};

use crate::draft::parse_draft;
use crate::net::{NetConfig, NodeHandle, Running, start};
use crate::store::Store;

/// The demo agencies' directory names, in display order.
pub const AGENCIES: [&str; 5] = ["pk-fia", "ir-faraja", "tr-jgk", "gr-hcg", "bg-gdbp"];

/// examples/quad, compiled in: (path relative to the federation directory, contents).
pub const FILES: &[(&str, &str)] = &[
    (
        "agreements/quad-2026.toml",
        include_str!("../../examples/quad/agreements/quad-2026.toml"),
    ),
    (
        "agreements/quad-2026.toml.sigs",
        include_str!("../../examples/quad/agreements/quad-2026.toml.sigs"),
    ),
    (
        "agreements/tr-bg-2026.toml",
        include_str!("../../examples/quad/agreements/tr-bg-2026.toml"),
    ),
    (
        "agreements/tr-bg-2026.toml.sigs",
        include_str!("../../examples/quad/agreements/tr-bg-2026.toml.sigs"),
    ),
    (
        "pk-fia/node.toml",
        include_str!("../../examples/quad/pk-fia/node.toml"),
    ),
    (
        "pk-fia/agency.key",
        include_str!("../../examples/quad/pk-fia/agency.key"),
    ),
    (
        "pk-fia/api.token",
        include_str!("../../examples/quad/pk-fia/api.token"),
    ),
    (
        "ir-faraja/node.toml",
        include_str!("../../examples/quad/ir-faraja/node.toml"),
    ),
    (
        "ir-faraja/agency.key",
        include_str!("../../examples/quad/ir-faraja/agency.key"),
    ),
    (
        "ir-faraja/api.token",
        include_str!("../../examples/quad/ir-faraja/api.token"),
    ),
    (
        "tr-jgk/node.toml",
        include_str!("../../examples/quad/tr-jgk/node.toml"),
    ),
    (
        "tr-jgk/agency.key",
        include_str!("../../examples/quad/tr-jgk/agency.key"),
    ),
    (
        "tr-jgk/api.token",
        include_str!("../../examples/quad/tr-jgk/api.token"),
    ),
    (
        "gr-hcg/node.toml",
        include_str!("../../examples/quad/gr-hcg/node.toml"),
    ),
    (
        "gr-hcg/agency.key",
        include_str!("../../examples/quad/gr-hcg/agency.key"),
    ),
    (
        "gr-hcg/api.token",
        include_str!("../../examples/quad/gr-hcg/api.token"),
    ),
    (
        "bg-gdbp/node.toml",
        include_str!("../../examples/quad/bg-gdbp/node.toml"),
    ),
    (
        "bg-gdbp/agency.key",
        include_str!("../../examples/quad/bg-gdbp/agency.key"),
    ),
    (
        "bg-gdbp/api.token",
        include_str!("../../examples/quad/bg-gdbp/api.token"),
    ),
];

/// Writes the example federation into `dir`, every node listening on an ephemeral loopback
/// port and knowing no partner address until [`introduce`] tells it (so the demo and tests
/// never collide on, or dial, the examples' fixed ports), key files mode 0600.
pub fn write_federation(dir: &Path) -> Result<()> {
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text: String = if rel.ends_with("node.toml") {
            text.lines()
                .map(|l| {
                    if l.starts_with("listen = ") {
                        "listen = [\"/ip4/127.0.0.1/tcp/0\"]"
                    } else if l.starts_with("addresses = ") {
                        "addresses = []"
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        } else {
            (*text).to_owned()
        };
        if rel.ends_with("agency.key") || rel.ends_with("api.token") {
            crate::files::create_private(&path, text.as_bytes())?;
        } else {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

/// Sets `store_engine` in every node file of a federation written by [`write_federation`]:
/// the engine its nodes' stores are made on.
pub fn set_store_engine(dir: &Path, engine: accord_config::StoreEngine) -> Result<()> {
    for (rel, _) in FILES {
        if !rel.ends_with("node.toml") {
            continue;
        }
        let path = dir.join(rel);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut out = String::new();
        for line in text.lines() {
            if line.starts_with("store_engine = ") {
                continue;
            }
            out.push_str(line);
            out.push('\n');
            if line.starts_with("data_dir = ") {
                out.push_str(&format!("store_engine = \"{engine}\"\n"));
            }
        }
        std::fs::write(&path, out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `n` distinct loopback ports that were free a moment ago (all bound at once, then released),
/// for running federation nodes as separate processes on fixed ports.
pub fn free_loopback_ports(n: usize) -> Result<Vec<u16>> {
    let held = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot bind a loopback port")?;
    held.iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot read a loopback port")
}

/// Pins a node file written by [`write_federation`] to fixed loopback ports: its own p2p
/// listen port and API port, and the p2p port of each agency in `peers` in its
/// `[[known_agency]]` entries (the others keep no address).
pub fn pin_ports(node_file: &Path, p2p: u16, api: u16, peers: &BTreeMap<&str, u16>) -> Result<()> {
    let text = std::fs::read_to_string(node_file)
        .with_context(|| format!("cannot read {}", node_file.display()))?;
    let mut agency: Option<String> = None;
    let (mut listen, mut bind) = (0, 0);
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("listen = ") {
            listen += 1;
            out.push_str(&format!("listen = [\"/ip4/127.0.0.1/tcp/{p2p}\"]"));
        } else if line.starts_with("bind = ") {
            bind += 1;
            out.push_str(&format!("bind = \"127.0.0.1:{api}\""));
        } else if line.starts_with("addresses = ") {
            match agency.as_deref().and_then(|a| peers.get(a)) {
                Some(port) => out.push_str(&format!("addresses = [\"/ip4/127.0.0.1/tcp/{port}\"]")),
                None => out.push_str("addresses = []"),
            }
        } else {
            if let Some(id) = line.strip_prefix("id = ") {
                agency = Some(id.trim_matches('"').to_owned());
            }
            out.push_str(line);
        }
        out.push('\n');
    }
    if (listen, bind) != (1, 1) {
        bail!(
            "{}: expected one `listen` and one `bind` line",
            node_file.display()
        );
    }
    std::fs::write(node_file, out).with_context(|| format!("cannot write {}", node_file.display()))
}

/// Signs the agreement file at `agreement` (after an edit, say) with every member's key
/// found in the federation directory `dir` (`<dir>/<agency id, lower case>/agency.key`),
/// replacing stale signatures: what each member does with `accord agreement sign`.
pub fn sign_as_members(dir: &Path, agreement: &Path) -> Result<()> {
    let bytes =
        std::fs::read(agreement).with_context(|| format!("cannot read {}", agreement.display()))?;
    let a =
        accord_config::parse_agreement(agreement, &bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    for member in &a.members {
        let key_file = dir
            .join(member.as_str().to_ascii_lowercase())
            .join("agency.key");
        let key = crate::files::read_key(&key_file)?;
        crate::agreements::sign_file(agreement, member, &key)?;
    }
    Ok(())
}

/// The configuration of one demo agency in a federation written by [`write_federation`].
pub fn load(dir: &Path, agency: &str) -> Result<NodeConfig> {
    let path: PathBuf = dir.join(agency).join("node.toml");
    accord_config::load_node(&path, &|p: &Path| std::fs::read(p))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Starts a node from its configuration.
pub async fn start_node(cfg: NodeConfig, net: NetConfig) -> Result<Running> {
    let key = SecretKey::from_key_file(&std::fs::read_to_string(&cfg.key_file)?)?;
    let store = Arc::new(Store::open_as(&cfg.data_dir, cfg.store_engine)?);
    Ok(start(cfg, key, store, net).await?)
}

/// Tells every node where each of the agencies it knows listens.
pub async fn introduce(nodes: &[&NodeHandle]) -> Result<()> {
    let mut addrs = BTreeMap::new();
    for n in nodes {
        let listen = tokio::time::timeout(Duration::from_secs(10), n.listen_addrs())
            .await
            .context("a node never listened")??;
        addrs.insert(n.config().agency.clone(), listen);
    }
    for n in nodes {
        for (agency, list) in &addrs {
            if *agency != n.config().agency && n.config().agencies.contains_key(agency) {
                for a in list {
                    n.add_address(agency.clone(), a.clone()).await?;
                }
            }
        }
    }
    Ok(())
}

/// The phone number PK-FIA's sample record holds, which TR-JGK then looks up (hit / no-hit).
const DEMO_PHONE: &str = "+923000000401";

/// Sample records: (agency directory, draft JSON).
fn samples() -> Vec<(&'static str, String)> {
    let quad = |cat: &str, handling: &str, route: serde_json::Value, summary: &str| {
        serde_json::json!({"agreement": "QUAD-2026", "category": cat, "handling": handling, "grading": "B2", "route": route, "summary": summary}).to_string()
    };
    let leg = |c: &str, r: &str| serde_json::json!({"country": c, "role": r});
    vec![
        ("pk-fia", serde_json::json!({"agreement": "QUAD-2026", "category": "communication", "handling": "H1", "grading": "B2",
            "route": [leg("PK", "source"), leg("IR", "transit"), leg("TR", "transit"), leg("GR", "destination")],
            "subjects": [{"type": "phone", "number": DEMO_PHONE, "description": "Organiser's phone"}],
            "summary": "Groups of 20-30 leave Quetta weekly by road towards the Iranian border."}).to_string()),
        ("ir-faraja", quad("modus-operandi", "H1", serde_json::json!([leg("IR", "transit")]), "Facilitators now switch vehicles twice before the Turkish border.")),
        ("tr-jgk", quad("vessel", "H2", serde_json::json!([leg("TR", "transit"), leg("GR", "destination")]), "Fishing boat prepared for a night crossing from Ayvacık.")),
        ("gr-hcg", quad("alert", "H0", serde_json::json!([leg("GR", "destination")]), "Sharp increase in landings on Lesvos north shore this week.")),
        ("tr-jgk", serde_json::json!({"agreement": "TR-BG-2026", "category": "route", "handling": "H1", "grading": "B3",
            "route": [leg("TR", "transit"), leg("BG", "destination")], "summary": "Lorries crossing at Kapıkule with hidden compartments."}).to_string()),
        ("bg-gdbp", serde_json::json!({"agreement": "TR-BG-2026", "category": "financial", "handling": "H2", "grading": "C3",
            "summary": "Payments for crossings collected through a hawala agent in Edirne."}).to_string()),
    ]
}

/// Runs the demo; fails if any record misses a member or reaches a non-member.
pub fn run() -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async())
}

async fn run_async() -> Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    write_federation(dir.path())?;
    println!(
        "accord demo: the examples/quad federation on loopback, in {}",
        dir.path().display()
    );
    let net = NetConfig {
        sync_interval: Duration::from_secs(2),
        ..NetConfig::default()
    };
    let mut running = Vec::new();
    for a in AGENCIES {
        running.push(start_node(load(dir.path(), a)?, net.clone()).await?);
    }
    let handles: Vec<NodeHandle> = running.iter().map(|r| r.handle.clone()).collect();
    introduce(&handles.iter().collect::<Vec<_>>()).await?;
    let by_dir =
        |d: &str| -> &NodeHandle { &handles[AGENCIES.iter().position(|x| *x == d).unwrap_or(0)] };

    let mut published: Vec<(RecordId, AgencyId, accord_protocol::AgreementId, String)> = Vec::new();
    for (who, json) in samples() {
        let draft = parse_draft(json.as_bytes())?;
        let agreement = draft.agreement.clone();
        let summary = draft.summary.clone();
        let h = by_dir(who);
        let id = h.publish(draft, crate::clock::now()).await?;
        println!(
            "  {:<10} published {} under {agreement}",
            h.config().agency,
            id.short()
        );
        published.push((id, h.config().agency.clone(), agreement, summary));
    }

    // wait until every member of each record's agreement holds it
    let expected = |agreement: &accord_protocol::AgreementId, h: &NodeHandle| {
        h.config()
            .agreements
            .get(agreement)
            .is_some_and(|a| a.is_member(&h.config().agency))
    };
    let done = || {
        published.iter().all(|(id, _, agr, _)| {
            handles
                .iter()
                .all(|h| !expected(agr, h) || h.store().records().contains(id).unwrap_or(false))
        })
    };
    let mut events: Vec<_> = handles.iter().map(|h| h.subscribe()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            bail!("records were not delivered to every member within 60 s");
        }
        let next =
            libp2p::futures::future::select_all(events.iter_mut().map(|r| Box::pin(r.recv())));
        let _ = tokio::time::timeout(Duration::from_millis(200), next).await;
    }

    println!();
    print!("{:<14} {:<11} {:<11}", "record", "originator", "agreement");
    for h in &handles {
        print!(" {:<10}", h.config().agency.as_str());
    }
    println!();
    let mut leaks = Vec::new();
    for (id, orig, agr, summary) in &published {
        print!(
            "{:<14} {:<11} {:<11}",
            id.short(),
            orig.as_str(),
            agr.as_str()
        );
        for h in &handles {
            let holds = h.store().records().contains(id)?;
            if holds && !expected(agr, h) {
                leaks.push(format!(
                    "{} holds {} of {agr}",
                    h.config().agency,
                    id.short()
                ));
            }
            print!(" {:<10}", if holds { "holds" } else { "-" });
        }
        println!("  {}", summary.chars().take(48).collect::<String>());
    }
    println!();
    let bg = by_dir("bg-gdbp");
    let connected = bg.peers().await?.connected;
    let quad_records = published
        .iter()
        .filter(|(_, _, a, _)| a.as_str() == "QUAD-2026")
        .count();
    let bg_quad = published
        .iter()
        .filter(|(id, _, a, _)| {
            a.as_str() == "QUAD-2026" && bg.store().records().contains(id).unwrap_or(true)
        })
        .count();
    println!(
        "BG-GDBP is connected to {} and holds {bg_quad} of the {quad_records} QUAD-2026 records: it is not a member.",
        connected
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let matched = hit_or_no_hit(by_dir("tr-jgk")).await?;
    for h in &handles {
        h.shutdown().await?;
    }
    for r in running {
        r.stopped().await;
    }
    matched?;
    if !leaks.is_empty() || bg_quad != 0 {
        bail!("records reached non-members: {}", leaks.join("; "));
    }
    if !connected.iter().any(|a| a.as_str() == "TR-JGK") {
        bail!("BG-GDBP was not connected to TR-JGK, so the demo proved less than it should");
    }
    println!("every record reached exactly the members of its agreement.");
    Ok(())
}

/// TR-JGK asks whether its QUAD-2026 partners hold PK-FIA's phone number (docs/matching.md):
/// PK-FIA, whose own record holds it, is a hit; GR-HCG and IR-FARAJA hold only PK-FIA's record
/// and QUAD-2026 lends partners' records no selectors, so they are not. The outer error is a
/// failure to ask; the inner, a wrong answer.
async fn hit_or_no_hit(tr: &NodeHandle) -> Result<Result<()>> {
    let wanted = crate::matching::asker::wanted(&format!("phone:{DEMO_PHONE}"), None, None)
        .map_err(anyhow::Error::msg)?;
    let report = tr
        .match_wanted(&wanted, None, None)
        .await
        .map_err(anyhow::Error::msg)?;
    println!(
        "\nhit / no-hit: TR-JGK asks its QUAD-2026 partners about {DEMO_PHONE}; each learns only that a lookup was made:"
    );
    let mut wrong = Vec::new();
    for r in &report.results {
        let hit = r.outcome == crate::matching::asker::Outcome::Hit;
        println!(
            "  {:<10} {}",
            r.holder.as_str(),
            match &r.outcome {
                crate::matching::asker::Outcome::Hit =>
                    "hit: ask its focal point (accord request)".to_owned(),
                crate::matching::asker::Outcome::Miss => "no hit".to_owned(),
                other => format!("{other:?}"),
            }
        );
        if hit != (r.holder.as_str() == "PK-FIA") {
            wrong.push(format!("{}: {:?}", r.holder, r.outcome));
        }
    }
    Ok(if wrong.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "hit / no-hit answered wrongly: {}",
            wrong.join("; ")
        ))
    })
}
