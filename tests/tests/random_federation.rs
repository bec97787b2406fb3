//! Randomized federations: random agencies with fresh keys, overlapping bilateral and
//! multilateral agreements (each signed by all its members), random connection graphs and
//! random records. After convergence, every member of an agreement holds every record of it,
//! and no agency that is not a member holds any.
//!
//! The graph: nodes learn only the addresses of the pairs chosen as edges. Records relay only
//! through members of their own agreement, so the generator guarantees that each agreement's
//! members form a connected subgraph (a random spanning path through its members, in a random
//! order); on top of that come random extra edges, between members and non-members alike, so
//! non-members are connected to members and could receive a record if anything leaked.
//!
//! Short form: 10 cases. Long form: `ACCORD_RANDOM_FEDERATIONS=50`. Each case's seed is
//! printed; `ACCORD_RANDOM_FEDERATION_SEED=<seed> ACCORD_RANDOM_FEDERATIONS=1` replays it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use accord_protocol::agreement::{agreement_hash, sign_agreement, signature_line};
use accord_protocol::{AgencyId, RecordId, SecretKey};
use accord_testkit::{TestNode, load, wait_for_listen, wait_until};

/// Cases in the short form (CI).
const SHORT_CASES: u64 = 10;

/// Countries with an assigned ISO 3166-1 alpha-2 code, for agency ids.
const COUNTRIES: [&str; 12] = [
    "PK", "IR", "TR", "GR", "BG", "IT", "ES", "LY", "TN", "MA", "AF", "IQ",
];
const UNITS: [&str; 5] = ["POL", "BP", "CG", "FIA", "NCA"];
/// Categories that need no category-specific fields.
const CATEGORIES: [&str; 8] = [
    "smuggling-network",
    "route",
    "vessel",
    "travel-document",
    "financial",
    "communication",
    "modus-operandi",
    "alert",
];
const HANDLING: [&str; 4] = ["H0", "H1", "H2", "H3"];

/// SplitMix64: small, deterministic, replayable from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.between(0, items.len() - 1)]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.between(0, i);
            items.swap(i, j);
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
    )
}

/// One generated agreement.
#[derive(Debug)]
struct Plan {
    id: String,
    members: Vec<usize>,
    categories: Vec<&'static str>,
    /// Index into [`HANDLING`] of the most permissive code.
    min_handling: usize,
}

/// One generated federation.
#[derive(Debug)]
struct Federation {
    agencies: Vec<String>,
    agreements: Vec<Plan>,
    /// Pairs that learn each other's addresses.
    edges: BTreeSet<(usize, usize)>,
}

fn generate(rng: &mut Rng) -> Federation {
    let n = rng.between(3, 6);
    let mut countries = COUNTRIES.to_vec();
    rng.shuffle(&mut countries);
    let agencies: Vec<String> = countries[..n]
        .iter()
        .map(|cc| format!("{cc}-{}", rng.pick(&UNITS)))
        .collect();
    let count = rng.between(2, 4);
    let mut agreements = Vec::new();
    for j in 0..count {
        let size = rng.between(2, n);
        let mut all: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut all);
        let members = all[..size].to_vec();
        let mut cats = CATEGORIES.to_vec();
        rng.shuffle(&mut cats);
        let categories = cats[..rng.between(1, 4)].to_vec();
        agreements.push(Plan {
            id: format!("RND-{j}"),
            members,
            categories,
            min_handling: rng.between(0, 2),
        });
    }
    let mut edges = BTreeSet::new();
    for a in &agreements {
        // a spanning path through the members (already in random order)
        for w in a.members.windows(2) {
            edges.insert((w[0].min(w[1]), w[0].max(w[1])));
        }
    }
    for x in 0..n {
        for y in x + 1..n {
            if rng.chance(25) {
                edges.insert((x, y));
            }
        }
    }
    Federation {
        agencies,
        agreements,
        edges,
    }
}

fn dir_name(agency: &str) -> String {
    agency.to_ascii_lowercase()
}

/// Writes the agreements (with every member's signature), keys, tokens and node files.
fn write(dir: &Path, fed: &Federation, rng: &mut Rng) {
    let keys: Vec<SecretKey> = fed
        .agencies
        .iter()
        .map(|_| {
            let mut seed = [0u8; 32];
            for chunk in seed.chunks_mut(8) {
                chunk.copy_from_slice(&rng.next().to_le_bytes());
            }
            SecretKey::from_seed(&seed)
        })
        .collect();
    std::fs::create_dir_all(dir.join("agreements")).unwrap();
    for a in &fed.agreements {
        let kind = if a.members.len() == 2 {
            "bilateral"
        } else {
            "multilateral"
        };
        let members: Vec<String> = a
            .members
            .iter()
            .map(|&m| format!("\"{}\"", fed.agencies[m]))
            .collect();
        let categories: Vec<String> = a.categories.iter().map(|c| format!("\"{c}\"")).collect();
        let mut text = format!(
            "id = \"{}\"\ntitle = \"A generated agreement\"\nkind = \"{kind}\"\n\
             members = [{}]\nvalid_from = 2026-01-01\nvalid_until = 2030-12-31\n\
             categories = [{}]\nmost_permissive_handling = \"{}\"\nretention_days = 365\n\
             onward_sharing = \"never\"\n\n[victim_data]\nallowed = false\n",
            a.id,
            members.join(", "),
            categories.join(", "),
            HANDLING[a.min_handling],
        );
        for &m in &a.members {
            write!(
                text,
                "\n[focal_points.{0}]\nname = \"Focal point of {0}\"\ncontact = \"focal@{1}.example\"\n",
                fed.agencies[m],
                dir_name(&fed.agencies[m]),
            )
            .unwrap();
        }
        let path = dir.join("agreements").join(format!("{}.toml", a.id));
        std::fs::write(&path, &text).unwrap();
        let hash = agreement_hash(text.as_bytes());
        let mut sigs = format!("# signatures of {}\n", a.id);
        for &m in &a.members {
            let agency = AgencyId::new(&fed.agencies[m]).unwrap();
            sigs.push_str(&signature_line(&agency, &sign_agreement(&keys[m], &hash)));
        }
        std::fs::write(path.with_extension("toml.sigs"), sigs).unwrap();
    }
    for (i, agency) in fed.agencies.iter().enumerate() {
        let home = dir.join(dir_name(agency));
        std::fs::create_dir_all(&home).unwrap();
        accord_node::files::create_private(
            &home.join("agency.key"),
            keys[i].to_key_file().as_bytes(),
        )
        .unwrap();
        accord_node::files::create_private(&home.join("api.token"), &[b'a'; 64]).unwrap();
        let files: Vec<String> = fed
            .agreements
            .iter()
            .filter(|a| a.members.contains(&i))
            .map(|a| format!("\"../agreements/{}.toml\"", a.id))
            .collect();
        let mut text = format!(
            "agency = \"{agency}\"\nkey_file = \"agency.key\"\ndata_dir = \"data\"\n\
             listen = [\"/ip4/127.0.0.1/tcp/0\"]\nagreements = [{}]\n\n[api]\n\
             bind = \"127.0.0.1:0\"\ntoken_file = \"api.token\"\n",
            files.join(", ")
        );
        for (j, other) in fed.agencies.iter().enumerate() {
            if j != i {
                write!(
                    text,
                    "\n[[known_agency]]\nid = \"{other}\"\npublic_key = \"{}\"\naddresses = []\n",
                    keys[j].public_key()
                )
                .unwrap();
            }
        }
        std::fs::write(home.join("node.toml"), text).unwrap();
    }
}

/// A random draft under one of `agency`'s agreements, or `None` if it is party to none.
fn random_draft(
    rng: &mut Rng,
    fed: &Federation,
    agency: usize,
    n: usize,
) -> Option<(usize, String)> {
    let mine: Vec<usize> = (0..fed.agreements.len())
        .filter(|&a| fed.agreements[a].members.contains(&agency))
        .collect();
    if mine.is_empty() {
        return None;
    }
    let a = *rng.pick(&mine);
    let plan = &fed.agreements[a];
    let handling = HANDLING[rng.between(plan.min_handling, 3)];
    let mut draft = serde_json::json!({
        "agreement": plan.id,
        "category": rng.pick(&plan.categories),
        "handling": handling,
        "grading": "B2",
        "route": [{"country": &fed.agencies[agency][..2], "role": "transit"}],
        "summary": format!("record {n} of {} under {}", fed.agencies[agency], plan.id),
    });
    if handling == "H3" {
        draft["handling_restriction"] = "not to be used in judicial proceedings".into();
    }
    Some((a, draft.to_string()))
}

/// Tells both nodes of every edge where the other listens; no other node learns anything.
async fn introduce_pairs(nodes: &[TestNode], edges: &BTreeSet<(usize, usize)>) {
    let mut addrs = Vec::new();
    for n in nodes {
        addrs.push(wait_for_listen(&n.handle).await);
    }
    for &(x, y) in edges {
        for (from, to) in [(x, y), (y, x)] {
            for a in &addrs[to] {
                nodes[from]
                    .handle
                    .add_address(nodes[to].agency.clone(), a.clone())
                    .await
                    .unwrap();
            }
        }
    }
}

async fn run_case(seed: u64) {
    let began = Instant::now();
    let mut rng = Rng(seed);
    let fed = generate(&mut rng);
    let describe = {
        let mut s = format!("seed {seed}: {} agencies", fed.agencies.len());
        for a in &fed.agreements {
            let names: Vec<&str> = a
                .members
                .iter()
                .map(|&m| fed.agencies[m].as_str())
                .collect();
            write!(s, "; {} [{}]", a.id, names.join(" ")).unwrap();
        }
        let edges: Vec<String> = fed
            .edges
            .iter()
            .map(|&(x, y)| format!("{}-{}", fed.agencies[x], fed.agencies[y]))
            .collect();
        write!(s, "; edges {}", edges.join(" ")).unwrap();
        s
    };
    eprintln!("{describe}");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &fed, &mut rng);

    let mut nodes = Vec::new();
    for agency in &fed.agencies {
        nodes.push(TestNode::start(load(dir.path(), &dir_name(agency))).await);
    }
    // random records from random publishers: some before the nodes know any address (they
    // reach the members by catch-up once connected), the rest while the mesh forms
    let total = rng.between(5, 20);
    let early = rng.between(0, total);
    let mut records: Vec<(RecordId, usize)> = Vec::new();
    let mut introduced = false;
    for n in 0..1000 {
        if records.len() >= early && !introduced {
            introduce_pairs(&nodes, &fed.edges).await;
            introduced = true;
        }
        if records.len() >= total {
            break;
        }
        let who = rng.between(0, fed.agencies.len() - 1);
        if let Some((agreement, draft)) = random_draft(&mut rng, &fed, who, n) {
            records.push((nodes[who].publish(&draft).await, agreement));
        }
    }
    assert!(introduced && records.len() == total, "{describe}");

    let member = |node: usize, agreement: usize| fed.agreements[agreement].members.contains(&node);
    let mut events: Vec<_> = nodes.iter().map(|n| n.handle.subscribe()).collect();
    wait_until(
        &mut events,
        Duration::from_secs(60),
        &format!("every member to hold every record of its agreements ({describe})"),
        || {
            records.iter().all(|(id, a)| {
                nodes
                    .iter()
                    .enumerate()
                    .all(|(i, node)| !member(i, *a) || node.holds(id))
            })
        },
    )
    .await;

    // let every push to a connected peer finish, then no non-member may hold anything
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut pending = Vec::new();
        for node in &nodes {
            let connected = node.handle.peers().await.unwrap().connected;
            let depths = node.handle.store().outbox().depths().unwrap();
            for c in connected {
                if depths.contains_key(&c) {
                    pending.push(format!("{} -> {c}", node.agency));
                }
            }
        }
        if pending.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "outboxes to connected peers never drained: {pending:?} ({describe})"
        );
        let _ = tokio::time::timeout(
            Duration::from_millis(200),
            libp2p::futures::future::select_all(events.iter_mut().map(|r| Box::pin(r.recv()))),
        )
        .await;
    }
    let mut leaks = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        for (id, a) in &records {
            if !member(i, *a) && node.holds(id) {
                leaks.push(format!(
                    "{} holds {} of {}",
                    node.agency,
                    id.short(),
                    fed.agreements[*a].id
                ));
            }
        }
        let expected = records.iter().filter(|(_, a)| member(i, *a)).count();
        assert_eq!(
            node.handle.store().records().len(),
            expected,
            "{} holds other records than its agreements' ({describe})",
            node.agency
        );
        let status = node.handle.status().await.unwrap();
        assert!(
            status.equivocations.is_empty() && status.agreement_mismatches.is_empty(),
            "{}: {status:?} ({describe})",
            node.agency
        );
    }
    assert!(
        leaks.is_empty(),
        "records reached non-members: {leaks:?} ({describe})"
    );
    for node in nodes {
        node.stop().await;
    }
    eprintln!(
        "seed {seed}: {} records converged, no leak, in {:?}",
        records.len(),
        began.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_federations_deliver_to_exactly_the_members() {
    let cases = env_number("ACCORD_RANDOM_FEDERATIONS").unwrap_or(SHORT_CASES);
    let base = env_number("ACCORD_RANDOM_FEDERATION_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    eprintln!(
        "random federations: {cases} case(s) from seed {base} \
         (replay one with ACCORD_RANDOM_FEDERATION_SEED=<seed> ACCORD_RANDOM_FEDERATIONS=1)"
    );
    let began = Instant::now();
    for i in 0..cases {
        run_case(base.wrapping_add(i)).await;
    }
    eprintln!(
        "random federations: {cases} case(s) in {:?}",
        began.elapsed()
    );
}
