//! One module per command family; each returns `anyhow::Result`, with `Refused` for input
//! that was checked and found wrong.

mod access;
mod agreement;
mod approvals;
mod audit;
mod bundle;
mod config;
mod delegate;
mod import;
mod init;
mod key;
mod keygen;
pub(crate) mod matching;
mod node;
mod publish;
mod purge;
mod query;
mod record;
pub(crate) mod report;
pub(crate) mod requests;
pub(crate) mod returns;
mod run;
mod status;
mod user;

use anyhow::Result;

use crate::cli::{AgreementCommand, Cli, Command, ConfigCommand, RecordCommand};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen { out } => keygen::run(&out),
        Command::Agreement {
            command: AgreementCommand::New { template, out },
        } => agreement::new(&template, out.as_deref()),
        Command::Agreement {
            command: AgreementCommand::Check { file },
        } => agreement::check(&file),
        Command::Delegate { command } => delegate::run(command),
        Command::Key { command } => key::run(command),
        Command::Approvals {
            config,
            all,
            command,
        } => approvals::run(&config, all, command),
        Command::User { command } => user::run(command),
        Command::Import { config, files } => import::run(&config, &files),
        Command::Agreement {
            command:
                AgreementCommand::Sign {
                    file,
                    config,
                    key,
                    agency,
                },
        } => agreement::sign(&file, config.as_deref(), key.as_deref(), agency.as_deref()),
        Command::Config {
            command: ConfigCommand::Check { file },
        } => config::check(&file),
        Command::Record { command } => match command {
            RecordCommand::Sign {
                record,
                key,
                certificate,
                out,
            } => record::sign(&record, &key, certificate.as_deref(), out.as_deref()),
            RecordCommand::Verify {
                signed,
                config,
                public_key,
                json,
            } => record::verify(&signed, config.as_deref(), public_key.as_deref(), json),
        },
        Command::Init {
            agency,
            dir,
            listen,
            api,
            store_engine,
        } => init::init(&agency, &dir, &listen, &api, store_engine),
        Command::Publish { config, record } => publish::publish(&config, &record),
        Command::Query(args) => query::query(&args),
        Command::Show { config, id } => query::show(&config, &id),
        Command::Reindex { config } => query::reindex(&config),
        Command::CopyStore {
            config,
            to,
            store_engine,
        } => query::copy_store(&config, &to, store_engine),
        Command::Withdraw { config, id, reason } => publish::withdraw(&config, &id, &reason),
        Command::Export {
            config,
            agreement,
            out,
        } => bundle::export(&config, &agreement, &out),
        Command::Verify { bundle } => bundle::verify(&bundle),
        Command::Audit { command } => audit::run(command),
        Command::Purge { config, dry_run } => purge::purge(&config, dry_run),
        Command::Run { config } => run::run(&config),
        Command::Status { config, json } => status::status(&config, json),
        Command::Demo => crate::demo::run(),
        Command::Request(args) => requests::request(&args),
        Command::Respond(args) => requests::respond(&args),
        Command::Requests(args) => requests::requests(&args),
        Command::Match(args) => matching::run(&args),
        Command::Return { command } => returns::run(&command),
        Command::Returns(args) => returns::returns(&args),
        Command::Report { command } => report::run(&command),
    }
}
