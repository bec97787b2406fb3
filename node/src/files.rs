//! File access for the commands: key files, signed record files, configuration.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use accord_config::{ConfigErrors, NodeConfig};
use accord_protocol::{Envelope, RecordId, SecretKey};
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// Writes `contents` to a new file with mode 0600; an existing file is an error.
pub fn create_private(path: &Path, contents: &[u8]) -> Result<()> {
    create_with_mode(path, contents, 0o600)
}

/// Writes `contents` to a new file readable by others (mode 0644); an existing file is an
/// error.
pub fn create_new(path: &Path, contents: &[u8]) -> Result<()> {
    create_with_mode(path, contents, 0o644)
}

fn create_with_mode(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; refusing to overwrite it (choose another path or move it away)",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })?;
    // the mode asked for, whatever the umask (the binary runs with 077)
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    }
    f.write_all(contents)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_all()
        .with_context(|| format!("cannot flush {}", path.display()))?;
    Ok(())
}

/// Reads an agency secret key file, warning when others may read it.
pub fn read_key(path: &Path) -> Result<SecretKey> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "key file is readable by group or others; run chmod 600 on it");
        }
    }
    SecretKey::from_key_file(&text).with_context(|| format!("bad key file {}", path.display()))
}

/// Loads and validates a node configuration and the agreements it names.
pub fn load_config(path: &Path) -> std::result::Result<NodeConfig, ConfigErrors> {
    accord_config::load_node(path, &|p: &Path| fs::read(p))
}

/// The JSON file form of a signed envelope (docs/protocol.md §4).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedFile {
    /// The envelope bytes, standard base64.
    pub envelope: String,
    /// The record id; informative, recomputed on reading.
    pub id: String,
}

/// Writes a signed envelope file (refusing to overwrite).
pub fn write_signed(path: &Path, env: &Envelope) -> Result<()> {
    let file = SignedFile {
        envelope: B64.encode(env.encode()),
        id: env.id().to_hex(),
    };
    let mut text = serde_json::to_string_pretty(&file)?;
    text.push('\n');
    create_private(path, text.as_bytes())
}

/// Parses the bytes of a signed envelope file: its layout, and that the file's `id` is its
/// envelope's. Nothing is verified yet.
pub fn parse_signed(bytes: &[u8]) -> Result<Envelope> {
    let file: SignedFile = serde_json::from_slice(bytes)
        .context("not a signed record file ({\"envelope\": …, \"id\": …})")?;
    let raw = B64
        .decode(file.envelope.trim())
        .context("`envelope` is not standard base64")?;
    let env = Envelope::decode(&raw).context("bad envelope")?;
    let claimed = RecordId::new(&file.id).context("bad `id`")?;
    if claimed != env.id() {
        bail!(
            "the file's id {claimed} is not the id of its envelope, {}",
            env.id()
        );
    }
    Ok(env)
}

/// Reads a signed envelope file. The layout is checked; nothing is verified yet.
pub fn read_signed(path: &Path) -> Result<Envelope> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_signed(&bytes).with_context(|| path.display().to_string())
}
