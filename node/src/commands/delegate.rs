//! `accord delegate issue|revoke`: certificates for liaison officers' keys (docs/protocol.md
//! §10), checked against the agency's own agreements before the agency key signs them.

use std::path::Path;

use accord_protocol::Timestamp;
use accord_protocol::delegation::{Revocation, certificate_id, revoke};
use anyhow::Result;

use super::node::{Node, Opened, load, next_page, now, op_fail, page_request, refuse};
use crate::cli::DelegateCommand;
use crate::files;
use crate::ops::delegation::{IssueRequest, Issued, Listed, issue_certificate};
use crate::page::Page;

/// Runs a `delegate` subcommand.
pub(super) fn run(command: DelegateCommand) -> Result<()> {
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
            role,
            handling,
            out,
        } => {
            if out.exists() {
                return Err(refuse(
                    "delegate issue",
                    format!("{} exists; choose a new file", out.display()),
                ));
            }
            let req = IssueRequest {
                delegate_key,
                holder,
                host_country,
                agreements,
                categories,
                from,
                until,
                role,
                handling,
            };
            // kept (for `delegate list`) with its audit entry, then handed out
            let issued: Issued = match Node::open_or_api(&config)? {
                Opened::Local(node) => {
                    let key = node.key()?;
                    issue_certificate(&node.store, &node.cfg, &key, &req, now()?, None)
                        .map_err(op_fail)?
                }
                Opened::Api(node) => node
                    .client
                    .post_json("/v1/delegations", &req)
                    .map_err(|e| node.fail_op(e))?,
            };
            files::create_new(&out, format!("{}\n", issued.certificate).as_bytes())?;
            issued.print(&out);
            Ok(())
        }
        DelegateCommand::List { config, page } => list(&config, &page),
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
                    node.store
                        .trust()
                        .keep_revocation(now()?, &r, &signed, None, None)?;
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

/// Reads a certificate file (`<signature hex> <json>`, as `delegate issue` writes it).
pub(super) fn read_certificate(path: &Path) -> Result<accord_protocol::audit::Signed> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| refuse(format!("certificate {}", path.display()), e))?;
    accord_protocol::audit::Signed::from_line(text.trim_end())
        .map_err(|e| refuse(format!("certificate {}", path.display()), e))
}

/// Prints a page of the certificates the agency issued, by id, each with its revocation if
/// any.
fn list(config: &Path, page: &crate::cli::PageArgs) -> Result<()> {
    let req = page_request(page)?;
    let (agency, listed): (_, Page<Listed>) = match Node::open_or_api(config)? {
        Opened::Local(node) => {
            let key = node.key()?;
            let all =
                crate::ops::delegation::list(&node.store, &node.cfg, &key).map_err(op_fail)?;
            let listed = crate::page::page(all, |l| l.id.clone(), &req)
                .map_err(|e| refuse("--cursor", e))?;
            (node.cfg.agency, listed)
        }
        Opened::Api(node) => {
            let pairs = req.pairs();
            let query: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let listed = node
                .client
                .get_json("/v1/delegations", &query)
                .map_err(|e| node.fail_op(e))?;
            (node.cfg.agency, listed)
        }
    };
    if listed.items.is_empty() && req.cursor.is_none() {
        println!("{agency} has issued no delegation certificate here");
    }
    for l in &listed.items {
        println!("{l}");
    }
    next_page(listed.next.as_deref());
    Ok(())
}
