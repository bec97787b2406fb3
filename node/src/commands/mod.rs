//! One module per command family; each returns `anyhow::Result`, with `Refused` for input
//! that was checked and found wrong.

mod config;
mod keygen;
mod record;

use anyhow::Result;

use crate::cli::{Cli, Command, ConfigCommand, RecordCommand};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen { out } => keygen::run(&out),
        Command::Config {
            command: ConfigCommand::Check { file },
        } => config::check(&file),
        Command::Record { command } => match command {
            RecordCommand::Sign { record, key, out } => record::sign(&record, &key, out.as_deref()),
            RecordCommand::Verify {
                signed,
                config,
                public_key,
                json,
            } => record::verify(&signed, config.as_deref(), public_key.as_deref(), json),
        },
    }
}
