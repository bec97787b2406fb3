//! The agency's matching seed: 32 random bytes in the data directory (`match.seed`, mode
//! 0600), apart from the signing key, from which every matching key is derived per agreement
//! and epoch (docs/matching.md, "The construction").

use std::path::Path;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::files;

/// The seed's file name in the data directory.
pub const SEED_FILE: &str = "match.seed";

/// The seed in `data_dir`, made (from the operating system's random source) the first time.
/// A file of another length is an error naming it: a seed is never replaced silently, since
/// every tag the agency published in this epoch was made with it.
pub fn load_or_create_seed(data_dir: &Path) -> Result<Zeroizing<[u8; 32]>> {
    let path = data_dir.join(SEED_FILE);
    if !path.exists() {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut_slice())
            .context("the operating system's random source failed")?;
        files::create_private(&path, seed.as_slice())?;
        return Ok(seed);
    }
    let bytes = Zeroizing::new(
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    if bytes.len() != 32 {
        bail!(
            "{} holds {} bytes; a matching seed is 32 (restore it from a backup of the data \
             directory, or move it away to make a new one: partners then need this epoch's \
             set again)",
            path.display(),
            bytes.len()
        );
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&bytes);
    Ok(seed)
}

/// The seed in `data_dir`, if one was made: `None` when there is no seed file.
pub fn load_seed(data_dir: &Path) -> Result<Option<Zeroizing<[u8; 32]>>> {
    if !data_dir.join(SEED_FILE).exists() {
        return Ok(None);
    }
    load_or_create_seed(data_dir).map(Some)
}
