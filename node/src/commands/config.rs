//! `accord config check`

use std::path::Path;

use anyhow::Result;

use crate::{Refused, files};

/// Prints a summary of a valid configuration, or every problem with its position.
pub fn check(file: &Path) -> Result<()> {
    match files::load_config(file) {
        Ok(cfg) => {
            print!("{}", cfg.summary());
            println!("ok: {} is valid", file.display());
            Ok(())
        }
        Err(errors) => {
            eprintln!("{errors}");
            Err(Refused.into())
        }
    }
}
