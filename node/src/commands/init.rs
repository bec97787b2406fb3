//! `accord init`: a new node directory.

use std::path::Path;

use accord_protocol::{AgencyId, SecretKey};
use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use super::node::refuse;
use crate::files;
use crate::store::Store;
use accord_config::StoreEngine;

/// Creates `dir` with an agency key, an API token, a node.toml and the data directory.
pub(super) fn init(
    agency: &str,
    dir: &Path,
    listen: &str,
    api: &str,
    engine: StoreEngine,
) -> Result<()> {
    let agency = AgencyId::new(agency).map_err(|e| refuse("--agency", e))?;
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} exists and is not empty; choose a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut_slice()).context("the operating system's random source failed")?;
    let key = SecretKey::from_seed(&seed);
    files::create_private(&dir.join("agency.key"), key.to_key_file().as_bytes())?;

    let mut token = Zeroizing::new([0u8; 32]);
    getrandom::fill(token.as_mut_slice()).context("the operating system's random source failed")?;
    files::create_private(
        &dir.join("api.token"),
        format!("{}\n", hex::encode(token.as_slice())).as_bytes(),
    )?;

    let config = format!(
        "# accord node of {agency}. Paths are relative to this file's directory.\n\
         agency = \"{agency}\"\n\
         key_file = \"agency.key\"\n\
         data_dir = \"data\"\n\
         # The store's engine, \"sled\" or \"fjall\" (docs/operations.md, Storage engines);\n\
         # the store keeps the engine it was made with.\n\
         store_engine = \"{engine}\"\n\
         listen = [\"{listen}\"]\n\
         # Agreement files this agency is party to, e.g. [\"agreements/quad-2026.toml\"].\n\
         agreements = []\n\
         \n\
         [api]\n\
         bind = \"{api}\"\n\
         token_file = \"api.token\"\n\
         \n\
         # One entry per partner agency, with the public key it gave you:\n\
         # [[known_agency]]\n\
         # id = \"PK-FIA\"\n\
         # public_key = \"ed25519:...\"\n\
         # addresses = [\"/ip4/192.0.2.10/tcp/7400\"]\n"
    );
    let config_path = dir.join("node.toml");
    files::create_private(&config_path, config.as_bytes())?;
    let agreements = dir.join("agreements");
    std::fs::create_dir(&agreements)
        .with_context(|| format!("cannot create {}", agreements.display()))?;
    Store::open_as(&dir.join("data"), engine)?.flush()?;

    // the skeleton must pass its own check
    files::load_config(&config_path)
        .map_err(|e| anyhow::anyhow!("the generated configuration is invalid:\n{e}"))?;

    println!("created node directory {} for {agency}", dir.display());
    println!(
        "  key:     {} (mode 0600; back it up offline)",
        dir.join("agency.key").display()
    );
    println!("  public:  {}", key.public_key());
    println!("  peer id: {}", super::keygen::peer_id(&key)?);
    println!("  config:  {}", config_path.display());
    println!("  data:    {} (mode 0700)", dir.join("data").display());
    let (cfg, agr) = (config_path.display(), agreements.display());
    println!("next steps (docs/operations.md walks through each):");
    println!("  1. give your public key and peer id to each partner's focal point; get theirs");
    println!(
        "  2. write the agreement from the model MoU (or copy the file a partner sent, byte for byte):"
    );
    println!("       accord agreement new --template bilateral --out {agr}/NAME.toml");
    println!("       accord agreement check {agr}/NAME.toml");
    println!("  3. in {cfg}: list it under `agreements` (\"agreements/NAME.toml\") and add a");
    println!("     [[known_agency]] entry for every other member");
    println!("  4. sign it, and have every member sign its copy:");
    println!("       accord agreement sign {agr}/NAME.toml --config {cfg}");
    println!("  5. accord config check {cfg}");
    println!("  6. accord run --config {cfg}");
    println!("  7. accord publish --config {cfg} record.json   (docs/records.md)");
    Ok(())
}
