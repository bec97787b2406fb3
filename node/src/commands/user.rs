//! `accord user add|passwd|disable|enable|list`: people's accounts of the web console, on the
//! store, or through the running node's API while `accord run` holds it.

use std::io::BufRead as _;
use std::path::Path;

use anyhow::Result;

use super::node::{Node, Opened, now, op_fail, refuse};
use crate::api::client::ClientError;
use crate::cli::UserCommand;
use crate::console::accounts::{self, AccountView, Password, Role};

/// Runs a `user` subcommand.
pub(super) fn run(command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
            config,
        } => {
            let role: Role = role.parse().map_err(|e| refuse("--role", e))?;
            accounts::check_name(&name).map_err(op_fail)?;
            let password = read_password(password_stdin, true)?;
            let added = on_node(
                &config,
                |node| accounts::add(&node.store, now()?, &name, role, &password, None),
                |client| {
                    client.post_json(
                        "/v1/accounts",
                        &serde_json::json!({"name": name, "role": role, "password": *password}),
                    )
                },
            )?;
            println!(
                "added account {} ({}); it logs in at the console the node serves on its [api] bind address",
                added.name, added.role
            );
            Ok(())
        }
        UserCommand::Passwd {
            name,
            password_stdin,
            config,
        } => {
            let password = read_password(password_stdin, true)?;
            let changed = on_node(
                &config,
                |node| accounts::set_password(&node.store, now()?, &name, &password, None),
                |client| {
                    client.post_json(
                        &format!("/v1/accounts/{name}/password"),
                        &serde_json::json!({"password": *password}),
                    )
                },
            )?;
            println!("new password for {}", changed.name);
            Ok(())
        }
        UserCommand::Disable { name, config } => set_disabled(&config, &name, true),
        UserCommand::Enable { name, config } => set_disabled(&config, &name, false),
        UserCommand::List { config } => {
            let list: Vec<AccountView> = on_node(
                &config,
                |node| accounts::list(&node.store),
                |client| client.get_json("/v1/accounts", &[]),
            )?;
            if list.is_empty() {
                println!(
                    "no accounts yet; add the first administrator: accord user add NAME --role admin"
                );
            }
            for a in list {
                println!(
                    "{}\t{}\t{}\tadded {}",
                    a.name,
                    a.role,
                    if a.disabled { "disabled" } else { "enabled" },
                    a.created
                );
            }
            Ok(())
        }
    }
}

fn set_disabled(config: &Path, name: &str, disabled: bool) -> Result<()> {
    let done = on_node(
        config,
        |node| accounts::set_disabled(&node.store, now()?, name, disabled, None),
        |client| {
            client.post_json(
                &format!("/v1/accounts/{name}/disabled"),
                &serde_json::json!({"disabled": disabled}),
            )
        },
    )?;
    if disabled {
        println!(
            "disabled {}: it cannot log in, and its sessions have ended",
            done.name
        );
    } else {
        println!("enabled {}", done.name);
    }
    Ok(())
}

/// Runs `local` on the store when this process can open it, else `remote` against the running
/// node's API.
pub(super) fn on_node<T>(
    config: &Path,
    local: impl FnOnce(&Node) -> Result<T, crate::ops::OpError>,
    remote: impl FnOnce(&crate::api::client::Client) -> Result<T, ClientError>,
) -> Result<T> {
    match Node::open_or_api(config)? {
        Opened::Local(node) => local(&node).map_err(op_fail),
        Opened::Api(node) => remote(&node.client).map_err(|e| node.fail_op(e)),
    }
}

/// The password: the first line of standard input, or typed twice at the terminal.
pub(super) fn read_password(from_stdin: bool, _confirm: bool) -> Result<Password> {
    let mut line = Password::new(String::new());
    if from_stdin {
        std::io::stdin().lock().read_line(&mut line)?;
        let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
        return Ok(Password::new(trimmed));
    }
    let first = Password::new(rpassword::prompt_password("password: ")?);
    let again = Password::new(rpassword::prompt_password("again: ")?);
    if *first != *again {
        return Err(refuse(
            "the password",
            "the two entries differ; nothing was changed",
        ));
    }
    Ok(first)
}
