//! The generated federation of `accord-bench mesh --nodes N --agreement-members M` (N above the
//! demo's five, or M given): N agencies with fresh keys, one regional agreement among the
//! first M of them, and a ring of bilateral agreements (agency i with agency i + 1, the last
//! with the first), each signed by all its members. Every node knows exactly the agencies it
//! shares an agreement with. The scale issue 22 plans for: about 45 Bali Process members in
//! one regional agreement, and the bilateral ones beside it.

use std::fmt::Write as _;
use std::path::Path;

use accord_protocol::agreement::{agreement_hash, sign_agreement, signature_line};
use accord_protocol::{AgencyId, AgreementId, SecretKey};
use anyhow::{Context, Result, bail};

/// Country codes for the generated agencies (assigned ISO 3166-1 alpha-2): the Bali Process
/// members first, then others.
const COUNTRIES: [&str; 64] = [
    "AF", "AU", "BD", "BT", "BN", "KH", "CN", "FJ", "IN", "ID", "IR", "IQ", "JP", "JO", "KI", "LA",
    "MY", "MV", "MN", "MM", "NR", "NP", "NZ", "PK", "PG", "PH", "KR", "WS", "SG", "SB", "LK", "SY",
    "TH", "TL", "TO", "TR", "US", "VU", "VN", "AE", "HK", "MO", "FR", "GR", "BG", "IT", "ES", "DE",
    "NL", "SE", "GB", "CA", "LB", "EG", "LY", "TN", "MA", "CY", "MT", "AT", "HU", "RS", "MK", "AL",
];

/// The most agencies a generated federation has (the bench tracks members in a 64-bit mask).
pub(crate) const MAX_NODES: usize = COUNTRIES.len();

/// The regional agreement's members when `--agreement-members` is not given (capped at the
/// agencies running): about the Bali Process's member states.
pub(crate) const DEFAULT_MEMBERS: usize = 45;

/// The regional agreement's id.
pub(crate) const REGIONAL: &str = "REGIONAL-2026";

/// Categories every generated agreement allows (the bench's drafts are routes).
const CATEGORIES: &str = "\"smuggling-network\", \"route\", \"vessel\", \"travel-document\", \
    \"financial\", \"communication\", \"modus-operandi\", \"alert\"";

/// What was written: the agencies' directory names, in mesh order.
pub(crate) struct Generated {
    /// Directory names (the agency id in lower case).
    pub dirs: Vec<String>,
    /// The regional agreement.
    pub regional: AgreementId,
}

/// The agency id of the `i`th generated agency.
fn agency(i: usize) -> String {
    format!("{}-NCU", COUNTRIES[i])
}

/// A fixed key per agency, so a run can be repeated exactly (these keys protect nothing).
fn key(i: usize) -> SecretKey {
    let mut seed = [0u8; 32];
    let mut x = 0x6163_636f_7264_u64 ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for chunk in seed.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    SecretKey::from_seed(&seed)
}

/// The agreements: (id, member indices).
fn plan(nodes: usize, members: usize) -> Vec<(String, Vec<usize>)> {
    let mut out = vec![(REGIONAL.to_owned(), (0..members).collect())];
    let ring = if nodes == 2 { 1 } else { nodes };
    for i in 0..ring {
        out.push((format!("RING-{i:02}"), vec![i, (i + 1) % nodes]));
    }
    out
}

/// Writes the federation into `dir`: `agreements/` with each agreement and its signatures,
/// and per agency its key, API token and node file (stores on `engine`, loopback port 0, no
/// partner address until the bench introduces them). All nodes dial from 127.0.0.1, so the
/// nodes' limit on connection attempts from one address refuses some of the first dials of a
/// large federation; they are retried, and that is part of its convergence time.
pub(crate) fn write(
    dir: &Path,
    nodes: usize,
    members: usize,
    engine: accord_config::StoreEngine,
) -> Result<Generated> {
    if !(2..=MAX_NODES).contains(&nodes) {
        bail!("a generated federation has 2 to {MAX_NODES} agencies, not {nodes}");
    }
    if !(2..=nodes).contains(&members) {
        bail!("the regional agreement has 2 to {nodes} members (--nodes), not {members}");
    }
    let keys: Vec<SecretKey> = (0..nodes).map(key).collect();
    let agreements = plan(nodes, members);
    let adir = dir.join("agreements");
    std::fs::create_dir_all(&adir).with_context(|| format!("cannot create {}", adir.display()))?;
    for (id, who) in &agreements {
        let kind = if who.len() == 2 {
            "bilateral"
        } else {
            "multilateral"
        };
        let list: Vec<String> = who.iter().map(|&m| format!("\"{}\"", agency(m))).collect();
        let mut text = format!(
            "id = \"{id}\"\ntitle = \"A generated agreement of the mesh benchmark\"\n\
             kind = \"{kind}\"\nmembers = [{}]\nvalid_from = 2026-01-01\nvalid_until = 2030-12-31\n\
             categories = [{CATEGORIES}]\nmost_permissive_handling = \"H0\"\n\
             retention_days = 1095\nonward_sharing = \"never\"\n\n[victim_data]\nallowed = false\n",
            list.join(", "),
        );
        for &m in who {
            write!(
                text,
                "\n[focal_points.{0}]\nname = \"Focal point of {0}\"\ncontact = \"focal@{1}.example\"\n",
                agency(m),
                agency(m).to_ascii_lowercase(),
            )?;
        }
        let path = adir.join(format!("{}.toml", id.to_ascii_lowercase()));
        std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        let hash = agreement_hash(text.as_bytes());
        let mut sigs = format!("# signatures of {id}\n");
        for &m in who {
            let a = AgencyId::new(&agency(m))?;
            sigs.push_str(&signature_line(&a, &sign_agreement(&keys[m], &hash)));
        }
        let sig_path = path.with_extension("toml.sigs");
        std::fs::write(&sig_path, sigs)
            .with_context(|| format!("cannot write {}", sig_path.display()))?;
    }
    let mut dirs = Vec::new();
    for i in 0..nodes {
        let name = agency(i).to_ascii_lowercase();
        let home = dir.join(&name);
        std::fs::create_dir_all(&home)
            .with_context(|| format!("cannot create {}", home.display()))?;
        accord_node::files::create_private(
            &home.join("agency.key"),
            keys[i].to_key_file().as_bytes(),
        )?;
        accord_node::files::create_private(&home.join("api.token"), &[b'a'; 64])?;
        let mine: Vec<&(String, Vec<usize>)> =
            agreements.iter().filter(|(_, w)| w.contains(&i)).collect();
        let files: Vec<String> = mine
            .iter()
            .map(|(id, _)| format!("\"../agreements/{}.toml\"", id.to_ascii_lowercase()))
            .collect();
        let mut text = format!(
            "agency = \"{}\"\nkey_file = \"agency.key\"\ndata_dir = \"data\"\n\
             store_engine = \"{engine}\"\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\n\
             agreements = [{}]\n\n[api]\nbind = \"127.0.0.1:0\"\ntoken_file = \"api.token\"\n",
            agency(i),
            files.join(", ")
        );
        let mut partners: Vec<usize> = mine
            .iter()
            .flat_map(|(_, w)| w.iter().copied())
            .filter(|&j| j != i)
            .collect();
        partners.sort_unstable();
        partners.dedup();
        for j in partners {
            write!(
                text,
                "\n[[known_agency]]\nid = \"{}\"\npublic_key = \"{}\"\naddresses = []\n",
                agency(j),
                keys[j].public_key()
            )?;
        }
        let path = home.join("node.toml");
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        dirs.push(name);
    }
    Ok(Generated {
        dirs,
        regional: AgreementId::new(REGIONAL)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_file_of_a_generated_federation_loads_with_its_agreements_signed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let g = write(dir.path(), 7, 5, accord_config::StoreEngine::Fjall).expect("write");
        assert_eq!(g.dirs.len(), 7);
        let mut regional_members = 0;
        for (i, d) in g.dirs.iter().enumerate() {
            let mut cfg = accord_node::demo::load(dir.path(), d).expect("load");
            // what the node does at start: every signature line verified with its member's key
            let own = accord_node::files::read_key(&cfg.key_file)
                .expect("key")
                .public_key();
            accord_node::agreements::verify_signature_files(&mut cfg, Some(&own))
                .expect("every signature verifies");
            assert_eq!(cfg.store_engine, accord_config::StoreEngine::Fjall);
            // two ring agreements each, and the regional one for the first five
            let expected = 2 + usize::from(i < 5);
            assert_eq!(cfg.agreements.len(), expected, "{d}");
            for a in cfg.agreements.values() {
                assert!(
                    a.fully_signed(),
                    "{d}: {} is not signed by every member",
                    a.id
                );
                assert!(a.is_member(&cfg.agency));
                for m in &a.members {
                    assert!(
                        *m == cfg.agency || cfg.agencies.contains_key(m),
                        "{d}: {m} unknown"
                    );
                }
            }
            regional_members += usize::from(cfg.agreements.contains_key(&g.regional));
            // knows exactly its partners: the regional members (if one) and the ring neighbours
            let partners = if i < 5 { 4 } else { 0 };
            let ring: Vec<usize> = vec![(i + 1) % 7, (i + 6) % 7];
            let extra = ring.iter().filter(|&&j| !(i < 5 && j < 5)).count();
            assert_eq!(cfg.agencies.len(), partners + extra, "{d}");
        }
        assert_eq!(regional_members, 5);
    }

    #[test]
    fn a_generated_federation_refuses_sizes_it_cannot_make() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = accord_config::StoreEngine::Sled;
        let err = write(dir.path(), 65, 45, e).err().expect("65 agencies");
        assert!(err.to_string().contains("2 to 64 agencies"), "{err}");
        let err = write(dir.path(), 10, 11, e).err().expect("11 of 10");
        assert!(err.to_string().contains("2 to 10 members"), "{err}");
    }
}
