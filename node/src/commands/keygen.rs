//! `accord keygen`

use std::path::Path;

use accord_protocol::SecretKey;
use anyhow::{Context, Result};
use zeroize::Zeroizing;

use crate::files;

/// Creates a new agency key file (mode 0600, never overwriting) and prints the public key and
/// the libp2p peer id it gives the node.
pub(super) fn run(out: &Path) -> Result<()> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut_slice()).context("the operating system's random source failed")?;
    let key = SecretKey::from_seed(&seed);
    files::create_private(out, key.to_key_file().as_bytes())?;
    println!("wrote {} (mode 0600)", out.display());
    println!("public key: {}", key.public_key());
    println!("peer id:    {}", peer_id(&key)?);
    println!(
        "give the public key to your partners: it goes in their [[known_agency]] entry for you"
    );
    Ok(())
}

/// The libp2p peer id of an agency key: the node's network identity is its agency key.
pub(super) fn peer_id(key: &SecretKey) -> Result<libp2p::PeerId> {
    let mut seed = key.to_seed();
    let kp = libp2p::identity::Keypair::ed25519_from_bytes(seed.as_mut_slice())
        .context("agency key is not a valid libp2p ed25519 key")?;
    Ok(kp.public().to_peer_id())
}
