//! `accord agreement new` and `accord agreement check`: agreements from the model MoU.

use std::path::Path;

use anyhow::{Context, Result};

use accord_protocol::AgencyId;
use accord_protocol::agreement::parse_signature_file;

use super::node::refuse;
use crate::{Refused, agreements, files};

/// The bilateral template (docs/model-mou.md).
pub(super) const BILATERAL: &str = include_str!("../../templates/bilateral.toml");
/// The multilateral template.
pub(super) const MULTILATERAL: &str = include_str!("../../templates/multilateral.toml");

/// Writes a commented agreement from the model MoU to `out` (never overwriting), or prints it.
pub(super) fn new(template: &str, out: Option<&Path>) -> Result<()> {
    let text = match template {
        "bilateral" => BILATERAL,
        "multilateral" => MULTILATERAL,
        other => {
            return Err(refuse(
                "--template",
                format!("unknown template `{other}`; expected bilateral or multilateral"),
            ));
        }
    };
    match out {
        None => print!("{text}"),
        Some(path) => {
            files::create_new(path, text.as_bytes())?;
            println!(
                "wrote {} from the {template} model; replace every value marked REPLACE, then run",
                path.display()
            );
            println!("  accord agreement check {}", path.display());
        }
    }
    Ok(())
}

/// The ids the templates carry until a person replaces them.
const TEMPLATE_IDS: [&str; 2] = ["XX-YY-2027", "GROUP-2027"];

/// The example members the templates carry.
const TEMPLATE_MEMBERS: [&[&str]; 2] = [
    &["TR-JGK", "BG-GDBP"],
    &["PK-FIA", "IR-FARAJA", "TR-JGK", "GR-HCG"],
];

/// Checks one agreement file on its own and prints its summary and SHA-256.
pub(super) fn check(file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    match accord_config::parse_agreement(file, &bytes) {
        Ok(a) => {
            print!("{}", a.summary());
            println!("sha-256: {}", a.hash_hex());
            let placeholders = String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| !l.trim_start().starts_with('#') && l.contains("REPLACE"))
                .count();
            let mut refused = false;
            if placeholders > 0 {
                eprintln!(
                    "error: {}: {placeholders} value(s) still marked REPLACE",
                    file.display()
                );
                refused = true;
            }
            if TEMPLATE_IDS.contains(&a.id.as_str()) {
                eprintln!(
                    "error: {}: `{}` is the template's placeholder id; give the agreement its \
                     own (e.g. TR-BG-2027)",
                    file.display(),
                    a.id
                );
                refused = true;
            }
            let mut members: Vec<&str> = a.members.iter().map(|m| m.as_str()).collect();
            members.sort_unstable();
            let same = |t: &[&str]| {
                let mut t = t.to_vec();
                t.sort_unstable();
                t == members
            };
            if TEMPLATE_MEMBERS.iter().any(|t| same(t)) {
                eprintln!(
                    "warning: {}: the members {} are the template's examples; make sure they \
                     are the agencies that agreed",
                    file.display(),
                    members.join(", ")
                );
            }
            let now = crate::clock::now();
            if now < a.valid_from.start() {
                eprintln!(
                    "warning: {}: not in effect before {} (valid_from): nodes share nothing \
                     under it until then",
                    file.display(),
                    a.valid_from
                );
            } else if now > a.valid_until.start().plus_secs(86_399) {
                eprintln!(
                    "warning: {}: it ended on {} (valid_until): nodes share nothing under it",
                    file.display(),
                    a.valid_until
                );
            }
            if refused {
                return Err(Refused.into());
            }
            println!("ok: {} is a valid agreement", file.display());
            Ok(())
        }
        Err(errors) => {
            eprintln!("{errors}");
            Err(Refused.into())
        }
    }
}

/// Signs an agreement file as this agency (from `--config`, or `--key` with `--agency`) and
/// prints which members' signatures its signature file now holds.
pub(super) fn sign(
    file: &Path,
    config: Option<&Path>,
    key: Option<&Path>,
    agency: Option<&str>,
) -> Result<()> {
    let (agency, key_file) = match (config, key, agency) {
        (Some(config), _, _) => {
            let cfg = super::node::load(config)?;
            (cfg.agency, cfg.key_file)
        }
        (None, Some(key), Some(agency)) => (
            AgencyId::new(agency).map_err(|e| refuse("--agency", e))?,
            key.to_owned(),
        ),
        _ => {
            return Err(refuse(
                "agreement sign",
                "give --config, or --key with --agency",
            ));
        }
    };
    let key = files::read_key(&key_file)?;
    let (a, what) =
        agreements::sign_file(file, &agency, &key).map_err(|e| refuse("agreement sign", e))?;
    let sig_path = a.signature_path();
    match what {
        agreements::Signed::Added => println!(
            "signed {} (sha-256 {}) as {agency}: added to {}",
            a.id,
            a.hash_hex(),
            sig_path.display()
        ),
        agreements::Signed::Replaced => println!(
            "signed {} (sha-256 {}) as {agency}: replaced {agency}'s signature of an earlier \
             text in {}",
            a.id,
            a.hash_hex(),
            sig_path.display()
        ),
        agreements::Signed::AlreadySigned => println!(
            "{} already holds {agency}'s signature of this text of {}",
            sig_path.display(),
            a.id
        ),
    }
    // the node's audit log takes the signature (and the key that made it) now: its store when
    // no node runs, the running node through its API (which passes it to the members at once)
    if let Some(config) = config {
        match super::node::Node::open_or_api(config)? {
            super::node::Opened::Local(node) => {
                node.key()?;
                println!(
                    "logged in the audit log at {}; the node passes it to the members when it next runs",
                    node.store.path().display()
                );
            }
            super::node::Opened::Api(node) => {
                let signature = a.signatures.get(&agency).copied().or_else(|| {
                    std::fs::read_to_string(&sig_path)
                        .ok()
                        .and_then(|t| parse_signature_file(&t).ok())
                        .and_then(|lines| lines.into_iter().find(|l| l.agency == agency))
                        .map(|l| l.signature)
                });
                let Some(signature) = signature else {
                    return Err(refuse(
                        "agreement sign",
                        format!("{} holds no signature of {agency}", sig_path.display()),
                    ));
                };
                let answer: serde_json::Value = node
                    .client
                    .post_json(
                        &format!(
                            "/v1/agreements/{}/signatures",
                            crate::api::client::path_segment(a.id.as_str())
                        ),
                        &serde_json::json!({
                            "signer": agency,
                            "signature": hex::encode(signature),
                        }),
                    )
                    .map_err(|e| node.fail("agreement sign: the running node", e))?;
                let in_effect = answer["in_effect"].as_bool().unwrap_or(false);
                println!(
                    "taken by the running node, which logged it and passes it to the members now{}",
                    if in_effect {
                        "; the agreement is in effect"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    let text = std::fs::read_to_string(&sig_path).unwrap_or_default();
    let present: Vec<AgencyId> = parse_signature_file(&text)
        .map(|lines| lines.into_iter().map(|l| l.agency).collect())
        .unwrap_or_default();
    let missing: Vec<&str> = a
        .members
        .iter()
        .filter(|m| !present.contains(m))
        .map(AgencyId::as_str)
        .collect();
    if missing.is_empty() {
        println!("every member's signature is in {}", sig_path.display());
    } else {
        println!(
            "not yet signed here by: {} (they sign their copies; nodes exchange signatures when \
             they connect, and the agreement takes effect once every member's is held)",
            missing.join(", ")
        );
    }
    Ok(())
}
