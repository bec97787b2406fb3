//! `accord delegate issue|revoke`: certificates for liaison officers' keys (docs/protocol.md
//! §10), checked against the agency's own agreements before the agency key signs them.

use std::path::Path;

use accord_config::NodeConfig;
use accord_protocol::delegation::{Delegation, Revocation, certificate_id, issue, revoke};
use accord_protocol::{AgreementId, Category, Country, PublicKey, Timestamp};
use anyhow::Result;

use super::node::{Node, Opened, load, now, refuse};
use crate::cli::DelegateCommand;
use crate::files;

/// Runs a `delegate` subcommand.
pub fn run(command: DelegateCommand) -> Result<()> {
    match command {
        DelegateCommand::Issue {
            config,
            delegate_key,
            holder,
            host_country,
            agreements,
            categories,
            from,
            until,
            out,
        } => {
            // the store first: a certificate is issued only with its audit entry, so the node
            // must be stopped
            let node = Node::open(&config).map_err(|e| {
                e.context("issuing a certificate needs the node's store for its audit entry; stop `accord run` first")
            })?;
            let cfg = &node.cfg;
            let key = node.key()?;
            let now = now()?;
            if out.exists() {
                return Err(refuse(
                    "delegate issue",
                    format!("{} exists; choose a new file", out.display()),
                ));
            }
            let d = delegation(
                cfg,
                &Request {
                    delegate_key: &delegate_key,
                    holder: &holder,
                    host_country: &host_country,
                    agreements: &agreements,
                    categories: &categories,
                    from: from.as_deref(),
                    until: &until,
                },
                now,
            )
            .map_err(|e| refuse("delegate issue", e))?;
            let cert = issue(&d, &key).map_err(|e| refuse("delegate issue", e))?;
            // kept (for `delegate list`) with its audit entry, then handed out
            node.store
                .keep_certificate(now, &certificate_id(&cert), &cert, &d)?;
            files::create_new(&out, format!("{}\n", cert.to_line()).as_bytes())?;
            println!(
                "issued certificate {} to {} ({}), posted in {}: {}",
                hex::encode(certificate_id(&cert).0),
                d.delegate,
                d.holder,
                d.host_country,
                scope(&d)
            );
            println!(
                "wrote {}; give it to the officer with their key",
                out.display()
            );
            Ok(())
        }
        DelegateCommand::List { config } => list(&config),
        DelegateCommand::Revoke {
            certificate,
            config,
            from,
            reason,
            out,
        } => {
            let cfg = load(&config)?;
            let key = files::read_key(&cfg.key_file)?;
            let cert = read_certificate(&certificate)?;
            let d = accord_protocol::delegation::verify_certificate(&cert, |a| {
                (*a == cfg.agency).then(|| key.public_key())
            })
            .map_err(|e| {
                refuse(
                    format!("certificate {}", certificate.display()),
                    format!("{e} (only the issuing agency revokes a certificate)"),
                )
            })?;
            let revoked = match from {
                Some(t) => Timestamp::parse(&t).map_err(|e| refuse("--from", e))?,
                None => now()?,
            };
            let r = Revocation {
                v: 1,
                agency: d.agency.clone(),
                certificate: certificate_id(&cert),
                revoked,
                reason,
            };
            let signed = revoke(&r, &key).map_err(|e| refuse("delegate revoke", e))?;
            files::create_new(&out, format!("{}\n", signed.to_line()).as_bytes())?;
            println!(
                "revoked the delegation to {} from {revoked}; wrote {}",
                d.holder,
                out.display()
            );
            // the node keeps it and passes it to the members at their next sync
            match Node::open_or_api(&config)? {
                Opened::Local(node) => {
                    // the key that signed it is logged first, if the log does not name it yet
                    let _ = node.key()?;
                    node.store.keep_revocation(now()?, &r, &signed, None)?;
                    println!(
                        "kept in {}; the node passes it to the members when it next runs",
                        node.store.path().display()
                    );
                }
                Opened::Api(node) => {
                    node.client
                        .revoke(&signed.to_line())
                        .map_err(|e| node.fail("delegate revoke", e))?;
                    println!("kept by the running node, which passes it to the members");
                }
            }
            Ok(())
        }
    }
}

/// What `delegate issue` was asked for, as typed.
struct Request<'a> {
    delegate_key: &'a str,
    holder: &'a str,
    host_country: &'a str,
    agreements: &'a [String],
    categories: &'a [String],
    from: Option<&'a str>,
    until: &'a str,
}

/// The delegation asked for, refused when it is wider than the agency's own agreements (an
/// agreement it is not party to, a category one of them does not permit, a period outside
/// one's validity) or already over.
fn delegation(cfg: &NodeConfig, r: &Request<'_>, now: Timestamp) -> Result<Delegation, String> {
    let delegate: PublicKey = r
        .delegate_key
        .parse()
        .map_err(|e| format!("--delegate-key: {e}"))?;
    let host_country = Country::new(r.host_country).map_err(|e| format!("--host-country: {e}"))?;
    let valid_from = match r.from {
        Some(t) => Timestamp::parse(t).map_err(|e| format!("--from: {e}"))?,
        None => now,
    };
    let valid_until = Timestamp::parse(r.until).map_err(|e| format!("--until: {e}"))?;
    if valid_until <= now {
        return Err(format!(
            "the delegation would be expired already: --until {valid_until} is not after now ({now})"
        ));
    }
    let mut agreements = Vec::new();
    for a in r.agreements {
        let id = AgreementId::new(a).map_err(|e| format!("--agreement {a}: {e}"))?;
        let Some(agreement) = cfg.agreements.get(&id) else {
            return Err(format!(
                "the certificate would be wider than the agency's own agreements: {} is not \
                 party to {id} (its agreements: {})",
                cfg.agency,
                cfg.agreements
                    .keys()
                    .map(AgreementId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if valid_from < agreement.valid_from.start()
            || valid_until > agreement.valid_until.start().plus_secs(86_399)
        {
            return Err(format!(
                "the certificate would be wider than agreement {id}: {valid_from} to \
                 {valid_until} is outside its validity, {} to {}",
                agreement.valid_from, agreement.valid_until
            ));
        }
        agreements.push(id);
    }
    let mut categories = Vec::new();
    for c in r.categories {
        let category = Category::parse(c).map_err(|e| format!("--category: {e}"))?;
        for id in &agreements {
            if !cfg.agreements[id].permits_category(category) {
                return Err(format!(
                    "the certificate would be wider than agreement {id}: it does not permit \
                     category {category}"
                ));
            }
        }
        categories.push(category);
    }
    let mut d = Delegation {
        v: 1,
        agency: cfg.agency.clone(),
        delegate,
        holder: r.holder.trim().to_owned(),
        host_country,
        agreements,
        categories,
        valid_from,
        valid_until,
        issued: now,
    };
    d.normalise();
    d.validate(None).map_err(|e| e.to_string())?;
    Ok(d)
}

/// Reads a certificate file (`<signature hex> <json>`, as `delegate issue` writes it).
pub fn read_certificate(path: &Path) -> Result<accord_protocol::audit::Signed> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| refuse(format!("certificate {}", path.display()), e))?;
    accord_protocol::audit::Signed::from_line(text.trim_end())
        .map_err(|e| refuse(format!("certificate {}", path.display()), e))
}

/// Prints the certificates the agency issued, newest last, each with its revocation if any.
fn list(config: &Path) -> Result<()> {
    let node = Node::open(config)?;
    let key = node.key()?;
    let dir = crate::directory::Directory::load(&node.cfg, &key, &node.store)?;
    let certs = node.store.certificates()?;
    if certs.is_empty() {
        println!(
            "{} has issued no delegation certificate here",
            node.cfg.agency
        );
        return Ok(());
    }
    for cert in certs {
        let id = certificate_id(&cert);
        let d = match accord_protocol::delegation::verify_certificate(&cert, |a| {
            (*a == node.cfg.agency).then(|| key.public_key())
        }) {
            Ok(d) => d,
            Err(e) => {
                println!("{}  does not verify: {e}", hex::encode(id.0));
                continue;
            }
        };
        let state = match accord_protocol::KeyDirectory::revoked(&dir, &d.agency, &id) {
            Some(t) => format!("REVOKED from {t}"),
            None => "in force".to_owned(),
        };
        println!(
            "{}  {}  posted in {}  key {}\n    {}; {state}",
            &hex::encode(id.0)[..16],
            d.holder,
            d.host_country,
            d.delegate,
            scope(&d)
        );
    }
    Ok(())
}

/// "alert, route under QUAD-2026, <from> to <until>": what a certificate delegates.
fn scope(d: &Delegation) -> String {
    format!(
        "{} under {}, {} to {}",
        d.categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        d.agreements
            .iter()
            .map(AgreementId::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        d.valid_from,
        d.valid_until
    )
}
