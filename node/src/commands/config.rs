//! `accord config check`

use std::path::Path;

use anyhow::Result;

use crate::{Refused, agreements, files};

/// Prints a summary of a valid configuration, or every problem with its position. Agreement
/// signature files are verified against the members' keys (the agency's own signature when
/// its key file can be read); an agreement still missing a member's signature is shown as not
/// in effect, which is not an error: members exchange signatures when their nodes connect.
pub(super) fn check(file: &Path) -> Result<()> {
    match files::load_config(file) {
        Ok(mut cfg) => {
            let own = files::read_key(&cfg.key_file).ok().map(|k| k.public_key());
            if let Err(problems) = agreements::verify_signature_files(&mut cfg, own.as_ref()) {
                for p in problems {
                    eprintln!("{p}");
                }
                return Err(Refused.into());
            }
            print!("{}", cfg.summary());
            println!("signatures:");
            for a in cfg.agreements.values() {
                println!("  {}", agreements::signature_status(a, &cfg));
            }
            if own.is_none() {
                println!(
                    "  (the key file {} cannot be read: {}'s own signatures were not checked)",
                    cfg.key_file.display(),
                    cfg.agency
                );
            }
            println!("ok: {} is valid", file.display());
            Ok(())
        }
        Err(errors) => {
            eprintln!("{errors}");
            Err(Refused.into())
        }
    }
}
