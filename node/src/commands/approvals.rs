//! `accord approvals`: two-person release on the store, or through the running node's API
//! while `accord run` holds it (docs/workflows.md "Releasing a sensitive record").

use std::path::Path;

use anyhow::Result;

use super::node::{now, refuse};
use super::user::{on_node, read_password};
use crate::cli::ApprovalsCommand;
use crate::release::{self, DecideRequest, EnrolRequest, Held, HeldState};

/// Runs `accord approvals [list|approve|decline|enrol|releasers]`.
pub(super) fn run(config: &Path, all: bool, command: Option<ApprovalsCommand>) -> Result<()> {
    match command {
        None => {
            let listed: Vec<Held> = on_node(
                config,
                |node| release::list(&node.store),
                |client| {
                    let all = if all { "true" } else { "false" };
                    client.get_json("/v1/approvals", &[("all", all)])
                },
            )?;
            let shown: Vec<&Held> = listed
                .iter()
                .filter(|h| all || h.state == HeldState::Waiting)
                .collect();
            if shown.is_empty() {
                println!(
                    "no draft is {}",
                    if all {
                        "held here"
                    } else {
                        "waiting for approval"
                    }
                );
            }
            for h in shown {
                println!("{h}");
            }
            Ok(())
        }
        Some(ApprovalsCommand::Approve {
            id,
            releaser,
            password_stdin,
        }) => {
            let password = read_one_password(password_stdin)?;
            let done: release::Approved = on_node(
                config,
                |node| {
                    release::authenticate(&node.store, &releaser, &password)?;
                    let key = node.key().map_err(crate::ops::OpError::Failed)?;
                    release::approve(&node.store, &node.cfg, &key, &id, &releaser, now()?)
                },
                |client| {
                    client.post_json(
                        &format!(
                            "/v1/approvals/{}/approve",
                            crate::api::client::path_segment(&id)
                        ),
                        &DecideRequest {
                            releaser: releaser.clone(),
                            password: (*password).clone(),
                            reason: None,
                        },
                    )
                },
            )?;
            match done.released {
                Some(record) => println!(
                    "approved by {releaser}; released as record {record} under {}",
                    done.held.agreement
                ),
                None => println!(
                    "approved by {releaser}; {} of {} approval(s) given",
                    done.held.approvals.len(),
                    done.held.needed
                ),
            }
            Ok(())
        }
        Some(ApprovalsCommand::Decline {
            id,
            releaser,
            reason,
            password_stdin,
        }) => {
            let password = read_one_password(password_stdin)?;
            let held: Held = on_node(
                config,
                |node| {
                    release::authenticate(&node.store, &releaser, &password)?;
                    let key = node.key().map_err(crate::ops::OpError::Failed)?;
                    release::decline(
                        &node.store,
                        &node.cfg,
                        &key,
                        &id,
                        &releaser,
                        &reason,
                        now()?,
                    )
                },
                |client| {
                    client.post_json(
                        &format!(
                            "/v1/approvals/{}/decline",
                            crate::api::client::path_segment(&id)
                        ),
                        &DecideRequest {
                            releaser: releaser.clone(),
                            password: (*password).clone(),
                            reason: Some(reason.clone()),
                        },
                    )
                },
            )?;
            println!(
                "declined by {releaser}: held draft {} never leaves the node",
                held.id
            );
            Ok(())
        }
        Some(ApprovalsCommand::Enrol {
            name,
            key,
            certificate,
        }) => {
            let line = std::fs::read_to_string(&certificate)
                .map_err(|e| refuse(format!("certificate {}", certificate.display()), e))?;
            let key_file = std::path::absolute(&key)
                .map_err(|e| refuse(format!("key file {}", key.display()), e))?;
            let req = EnrolRequest {
                name,
                key_file,
                certificate: line.trim().to_owned(),
            };
            let enrolled: release::Enrolled = on_node(
                config,
                |node| {
                    let own = node.key().map_err(crate::ops::OpError::Failed)?;
                    release::enrol(&node.store, &node.cfg, &own, &req, now()?, None)
                },
                |client| client.post_json("/v1/releasers", &req),
            )?;
            println!(
                "enrolled {} ({}), certificate {}; their key is read from {}",
                enrolled.name,
                enrolled.holder,
                enrolled.certificate_id,
                enrolled.key_file.display()
            );
            Ok(())
        }
        Some(ApprovalsCommand::Releasers) => {
            let listed: Vec<release::Enrolled> = on_node(
                config,
                |node| release::releasers(&node.store),
                |client| client.get_json("/v1/releasers", &[]),
            )?;
            if listed.is_empty() {
                println!("no releaser is enrolled here (`accord approvals enrol`)");
            }
            for e in listed {
                println!(
                    "{}  {}  certificate {}  key {}",
                    e.name,
                    e.holder.escape_debug(),
                    e.certificate_id,
                    e.key_file.display()
                );
            }
            Ok(())
        }
    }
}

/// The releaser's console password: the first line of standard input, or asked for once at the
/// terminal.
fn read_one_password(from_stdin: bool) -> Result<crate::console::accounts::Password> {
    if from_stdin {
        return read_password(true, false);
    }
    Ok(crate::console::accounts::Password::new(
        rpassword::prompt_password("releaser's password: ")?,
    ))
}
