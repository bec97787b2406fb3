//! `accord agreement new` and `accord agreement check`: agreements from the model MoU.

use std::path::Path;

use anyhow::{Context, Result};

use super::node::refuse;
use crate::{Refused, files};

/// The bilateral template (docs/model-mou.md).
pub const BILATERAL: &str = include_str!("../../templates/bilateral.toml");
/// The multilateral template.
pub const MULTILATERAL: &str = include_str!("../../templates/multilateral.toml");

/// Writes a commented agreement from the model MoU to `out` (never overwriting), or prints it.
pub fn new(template: &str, out: Option<&Path>) -> Result<()> {
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

/// Checks one agreement file on its own and prints its summary and SHA-256.
pub fn check(file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    match accord_config::parse_agreement(file, &bytes) {
        Ok(a) => {
            print!("{}", a.summary());
            println!("sha-256: {}", a.hash_hex());
            let placeholders = String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| !l.trim_start().starts_with('#') && l.contains("REPLACE"))
                .count();
            if placeholders > 0 {
                eprintln!(
                    "error: {}: {placeholders} value(s) still marked REPLACE",
                    file.display()
                );
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
