//! Writing an audit export from a store: `accord audit export`.
//!
//! Why one long file (just over 600 lines): it is one room, gathering what an audit export
//! holds from the store and writing its files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use accord_config::NodeConfig;
use accord_protocol::audit::{
    AuditEntry, AuditEvent, Checkpoint, Digest32, Signed, entry_hash, sha256, verify_checkpoint,
};
use accord_protocol::{AgencyId, PublicKey, SecretKey, Timestamp};
use thiserror::Error;

use super::{
    AGREEMENTS, CHECKPOINTS, EXPORT_FORMAT, EXPORT_VERSION, KEY_HISTORY, KEYS, LOG, MANIFEST,
    Manifest, ManifestFile, PARTNER_CHECKPOINTS, PARTNER_FORKS, RECEIPTS,
};
use crate::store::{Store, StoreError};

/// Why an audit export was not written.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The output directory holds files already.
    #[error("{0} exists and is not empty; choose a new directory (an export never overwrites)")]
    NotEmpty(PathBuf),
    /// A file could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// `read`, `create` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An agreement file no longer has the bytes the configuration was loaded from.
    #[error("{0} changed since the configuration was loaded; run the export again")]
    AgreementChanged(PathBuf),
    /// The key given is not the one the log names for the agency.
    #[error(
        "the key file's public key {given} is not the key the audit log names for {agency} \
         ({logged}); check key_file in the configuration"
    )]
    WrongKey {
        /// The agency.
        agency: AgencyId,
        /// The key given (`ed25519:…`).
        given: String,
        /// The key of the log's latest `key` entry.
        logged: String,
    },
    /// The store's log is not what its head says.
    #[error("the audit log in the store is inconsistent: {0}")]
    Inconsistent(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an export wrote.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ExportSummary {
    /// The directory.
    pub dir: PathBuf,
    /// The agency.
    pub agency: AgencyId,
    /// The entries written.
    pub entries: u64,
    /// The hash of the last one.
    pub head: Digest32,
    /// The checkpoint signed for the export.
    #[serde(with = "crate::ops::signed_line")]
    pub checkpoint: Signed,
    /// Own checkpoints written (the new one included).
    pub own_checkpoints: usize,
    /// Partners' checkpoints written.
    pub partner_checkpoints: usize,
    /// Partners' conflicting checkpoints written (fork evidence).
    pub partner_forks: usize,
    /// Receipts written.
    pub receipts: usize,
    /// Agreement files written.
    pub agreements: usize,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exported the audit log of {} to {}: {} entries, head {}; {} own checkpoint(s), \
             {} partner checkpoint(s), {} conflicting partner checkpoint(s), {} receipt(s), {} \
             agreement file(s)",
            self.agency,
            self.dir.display(),
            self.entries,
            self.head,
            self.own_checkpoints,
            self.partner_checkpoints,
            self.partner_forks,
            self.receipts,
            self.agreements
        )
    }
}

/// An audit export made in memory: its files in the order they are written (the manifest
/// last), and what it holds.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Built {
    /// What it holds (its `dir` is where it is written).
    pub summary: ExportSummary,
    /// Each file's name (relative to the export directory) and bytes.
    pub files: Vec<ExportFile>,
}

/// One file of an audit export.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ExportFile {
    /// Its name in the export directory, e.g. `log.jsonl` or `agreements/QUAD-2026.toml`.
    pub name: String,
    /// Its bytes.
    #[serde(with = "crate::ops::base64_bytes")]
    pub bytes: Vec<u8>,
}

/// Writes the audit export of `store` into `out` (created; refused when it exists and is not
/// empty): [`build`], then [`write`].
pub fn export(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    now: Timestamp,
    out: &Path,
) -> Result<ExportSummary, ExportError> {
    refuse_non_empty(out)?;
    let built = build(store, cfg, key, now)?;
    write(out, &built)
}

/// Writes an export made by [`build`] (here or by a running node) into `out`: the directory is
/// created mode 0700 and refused when it exists and is not empty; each file is new, 0600,
/// flushed, the manifest last.
pub fn write(out: &Path, built: &Built) -> Result<ExportSummary, ExportError> {
    write_files(out, &built.files)?;
    let mut summary = built.summary.clone();
    summary.dir = out.to_owned();
    Ok(summary)
}

/// Writes export files into `out`: see [`write`].
fn write_files(out: &Path, files: &[ExportFile]) -> Result<(), ExportError> {
    refuse_non_empty(out)?;
    create_dirs(out, files)?;
    for file in files {
        if file
            .name
            .split('/')
            .any(|part| part.is_empty() || part == "..")
            || file.name.starts_with('/')
        {
            return Err(ExportError::Inconsistent(format!(
                "an export file is named `{}`, outside the export directory",
                file.name
            )));
        }
        write_new(&out.join(&file.name), &file.bytes)?;
    }
    Ok(())
}

/// Makes the audit export of `store` in memory.
///
/// It first signs a fresh checkpoint of the log's head with `key`, so the export's head is
/// signed, then takes exactly the entries that checkpoint covers: entries appended meanwhile
/// (by a running node) are left for the next export, as are own checkpoints taken after it and
/// receipts of deliveries it does not cover. Nothing else is written to the store: the export
/// is read-only but for the checkpoint.
pub fn build(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    now: Timestamp,
) -> Result<Built, ExportError> {
    store.bind_agency(&cfg.agency)?;
    let agreements = read_agreements(cfg)?;
    let (signed, checkpoint) = self::checkpoint(store, cfg, key, now)?;
    let entries = covered_entries(store, &signed)?;
    let own: Vec<Signed> = store
        .checkpoints()
        .own_checkpoints()?
        .into_iter()
        .filter(|s| count_of(s).is_some_and(|c| c <= signed.count))
        .collect();
    let delivered = delivered_hashes(&entries);
    // each receipt is exported once (a store written before kept a batch receipt once per
    // record it covers)
    let mut exported = BTreeSet::new();
    let receipts: Vec<Signed> = store
        .checkpoints()
        .receipts()?
        .into_iter()
        .filter(|s| {
            let hash = sha256(&s.bytes);
            delivered.contains(&hash) && exported.insert(hash)
        })
        .collect();
    let partners = store.checkpoints().partner_checkpoints()?;
    let forks = store.checkpoints().checkpoint_forks()?;
    let keys = crate::publish::directory(cfg, key);
    let decoded: Vec<AuditEntry> = entries
        .iter()
        .map(|b| AuditEntry::decode(b))
        .collect::<Result<_, _>>()
        .map_err(|e| ExportError::Inconsistent(format!("an entry does not decode: {e}")))?;
    let history = super::history_of(&cfg.agency, &decoded);

    let mut files = Vec::new();
    let mut listed = Vec::new();
    let mut log = Vec::new();
    for bytes in &entries {
        if bytes.contains(&b'\n') {
            return Err(ExportError::Inconsistent(
                "an entry holds a raw newline; canonical JSON never does".into(),
            ));
        }
        log.extend_from_slice(bytes);
        log.push(b'\n');
    }
    add_file(LOG, &log, &mut files, &mut listed);
    add_file(CHECKPOINTS, &lines(&own), &mut files, &mut listed);
    add_file(
        PARTNER_CHECKPOINTS,
        &lines(&partners),
        &mut files,
        &mut listed,
    );
    add_file(PARTNER_FORKS, &lines(&forks), &mut files, &mut listed);
    add_file(RECEIPTS, &lines(&receipts), &mut files, &mut listed);
    add_keys_file(&keys, &mut files, &mut listed)?;
    let history_json = serde_json::to_vec_pretty(&history)
        .map_err(|e| ExportError::Inconsistent(format!("key history: {e}")))?;
    add_file(
        KEY_HISTORY,
        &[history_json, b"\n".to_vec()].concat(),
        &mut files,
        &mut listed,
    );
    for (id, bytes) in &agreements {
        add_file(
            &format!("{AGREEMENTS}/{id}.toml"),
            bytes,
            &mut files,
            &mut listed,
        );
        // every member's signature held: verified ones, the signature file's lines and those
        // collected from members (the verifier checks each)
        let Some(a) = cfg.agreements.values().find(|a| a.id.as_str() == id) else {
            continue;
        };
        let mut held: BTreeSet<(AgencyId, [u8; 64])> =
            a.signatures.iter().map(|(m, s)| (m.clone(), *s)).collect();
        held.extend(
            a.signature_lines
                .iter()
                .map(|l| (l.agency.clone(), l.signature)),
        );
        held.extend(store.trust().agreement_signatures(&a.hash)?);
        if !held.is_empty() {
            let sigs: String = held
                .iter()
                .map(|(m, s)| accord_protocol::agreement::signature_line(m, s))
                .collect();
            add_file(
                &format!("{AGREEMENTS}/{id}.toml.sigs"),
                sigs.as_bytes(),
                &mut files,
                &mut listed,
            );
        }
    }
    let manifest = Manifest {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        agency: cfg.agency.clone(),
        exported_at: now,
        entries: signed.count,
        head: signed.head,
        files: listed,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ExportError::Inconsistent(format!("manifest: {e}")))?;
    files.push(ExportFile {
        name: MANIFEST.to_owned(),
        bytes: [json, b"\n".to_vec()].concat(),
    });
    let summary = ExportSummary {
        dir: std::path::PathBuf::new(),
        agency: cfg.agency.clone(),
        entries: signed.count,
        head: signed.head,
        checkpoint,
        own_checkpoints: own.len(),
        partner_checkpoints: partners.len(),
        partner_forks: forks.len(),
        receipts: receipts.len(),
        agreements: agreements.len(),
    };
    Ok(Built { summary, files })
}

/// Signs the log's head now with `key` (after checking it is the key the log names for the
/// agency), keeps the checkpoint in the store and returns it, signed and as read.
pub fn checkpoint(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    now: Timestamp,
) -> Result<(Checkpoint, Signed), ExportError> {
    store.bind_agency(&cfg.agency)?;
    check_key(store, &cfg.agency, key)?;
    let signed = store.checkpoints().checkpoint(key, now)?;
    let own_key = key.public_key();
    let c = verify_checkpoint(&signed, |_| Some(own_key))
        .map_err(|e| ExportError::Inconsistent(format!("the new checkpoint: {e}")))?;
    Ok((c, signed))
}

/// Refuses an existing, non-empty `out`.
fn refuse_non_empty(out: &Path) -> Result<(), ExportError> {
    if out.exists() {
        let mut entries = fs::read_dir(out).map_err(|source| ExportError::Io {
            action: "read",
            path: out.to_owned(),
            source,
        })?;
        if entries.next().is_some() {
            return Err(ExportError::NotEmpty(out.to_owned()));
        }
    }
    Ok(())
}

/// Creates `out` and `out/agreements`, mode 0700.
fn create_dirs(out: &Path, files: &[ExportFile]) -> Result<(), ExportError> {
    let dir = if files
        .iter()
        .any(|f| f.name.starts_with(&format!("{AGREEMENTS}/")))
    {
        out.join(AGREEMENTS)
    } else {
        out.to_owned()
    };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&dir).map_err(|source| ExportError::Io {
        action: "create",
        path: dir,
        source,
    })
}

/// The exact bytes of every agreement file of the configuration, checked against the hash the
/// configuration was loaded with.
fn read_agreements(cfg: &NodeConfig) -> Result<Vec<(String, Vec<u8>)>, ExportError> {
    let mut out = Vec::new();
    for (id, a) in &cfg.agreements {
        let bytes = fs::read(&a.path).map_err(|source| ExportError::Io {
            action: "read",
            path: a.path.clone(),
            source,
        })?;
        if sha256(&bytes).0 != a.hash {
            return Err(ExportError::AgreementChanged(a.path.clone()));
        }
        out.push((id.to_string(), bytes));
    }
    Ok(out)
}

/// Refuses a key that is not the one the log's latest `key` entry names.
fn check_key(store: &Store, agency: &AgencyId, key: &SecretKey) -> Result<(), ExportError> {
    let logged = store
        .log()
        .audit_entries()?
        .iter()
        .filter_map(|b| AuditEntry::decode(b).ok())
        .filter_map(|e| match e.event {
            AuditEvent::Key { public_key } => Some(public_key),
            _ => None,
        })
        .next_back();
    match logged {
        Some(logged) if logged != key.public_key() => Err(ExportError::WrongKey {
            agency: agency.clone(),
            given: key.public_key().to_string(),
            logged: logged.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The entries `signed` covers, checked against its head.
fn covered_entries(store: &Store, signed: &Checkpoint) -> Result<Vec<Vec<u8>>, ExportError> {
    let mut entries = store.log().audit_entries()?;
    let count = usize::try_from(signed.count)
        .map_err(|_| ExportError::Inconsistent("the entry count overflows".into()))?;
    if entries.len() < count {
        return Err(ExportError::Inconsistent(format!(
            "the head counts {count} entries, the log holds {}",
            entries.len()
        )));
    }
    entries.truncate(count);
    let head = entries.last().map_or(Digest32::ZERO, |b| entry_hash(b));
    if head != signed.head {
        return Err(ExportError::Inconsistent(format!(
            "entry {} hashes to {head}, the head says {}",
            count.saturating_sub(1),
            signed.head
        )));
    }
    Ok(entries)
}

/// The receipt hashes the `delivered` entries name.
fn delivered_hashes(entries: &[Vec<u8>]) -> BTreeSet<Digest32> {
    entries
        .iter()
        .filter_map(|b| AuditEntry::decode(b).ok())
        .filter_map(|e| match e.event {
            AuditEvent::Delivered { receipt, .. } | AuditEvent::DeliveredPush { receipt, .. } => {
                Some(receipt)
            }
            _ => None,
        })
        .collect()
}

/// The count a signed checkpoint states (its signature is checked by the verifier).
fn count_of(s: &Signed) -> Option<u64> {
    serde_json::from_slice::<Checkpoint>(&s.bytes)
        .ok()
        .map(|c| c.count)
}

fn lines(signed: &[Signed]) -> Vec<u8> {
    let mut out = String::new();
    for s in signed {
        out.push_str(&s.to_line());
        out.push('\n');
    }
    out.into_bytes()
}

/// Adds one file to the export and lists it in the manifest.
/// Adds `keys.json`: agency → key, pretty JSON and a newline.
fn add_keys_file(
    keys: &BTreeMap<AgencyId, PublicKey>,
    files: &mut Vec<ExportFile>,
    listed: &mut Vec<ManifestFile>,
) -> Result<(), ExportError> {
    let json = serde_json::to_vec_pretty(keys)
        .map_err(|e| ExportError::Inconsistent(format!("keys: {e}")))?;
    add_file(KEYS, &[json, b"\n".to_vec()].concat(), files, listed);
    Ok(())
}

fn add_file(name: &str, bytes: &[u8], files: &mut Vec<ExportFile>, listed: &mut Vec<ManifestFile>) {
    files.push(ExportFile {
        name: name.to_owned(),
        bytes: bytes.to_vec(),
    });
    listed.push(ManifestFile {
        name: name.to_owned(),
        sha256: sha256(bytes),
    });
}

/// Writes a new file, mode 0600 (an export tells who shared what with whom), flushed.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let err = |action| {
        let path = path.to_owned();
        move |source| ExportError::Io {
            action,
            path,
            source,
        }
    };
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(err("create"))?;
    f.write_all(bytes).map_err(err("write"))?;
    f.sync_all().map_err(err("write"))
}

/// Makes a **partner-only export** about `about` in memory: only what a check of `about`'s
/// log needs from this node (`accord audit verify THEIR-EXPORT --partner THIS`) — the
/// checkpoints `about` signed that this node keeps (and conflicting ones), and the two
/// agencies' keys. Nothing of this node's own log, its other partners or its agreements: no
/// entry count, no head. `about` must be an agency this node knows.
pub fn build_partner_only(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    about: &AgencyId,
    now: Timestamp,
) -> Result<PartnerBuilt, ExportError> {
    store.bind_agency(&cfg.agency)?;
    let Some(theirs) = cfg.agencies.get(about) else {
        return Err(ExportError::Inconsistent(format!(
            "{about} is not an agency this node knows ([[known_agency]])"
        )));
    };
    let signed_by = |s: &Signed| -> Option<AgencyId> {
        #[derive(serde::Deserialize)]
        struct Signer {
            agency: AgencyId,
        }
        serde_json::from_slice::<Signer>(&s.bytes)
            .ok()
            .map(|x| x.agency)
    };
    let held: Vec<Signed> = store
        .checkpoints()
        .partner_checkpoints()?
        .into_iter()
        .filter(|s| signed_by(s).as_ref() == Some(about))
        .collect();
    let forks: Vec<Signed> = store
        .checkpoints()
        .checkpoint_forks()?
        .into_iter()
        .filter(|s| signed_by(s).as_ref() == Some(about))
        .collect();
    let keys: BTreeMap<AgencyId, PublicKey> = [
        (cfg.agency.clone(), key.public_key()),
        (about.clone(), theirs.public_key),
    ]
    .into_iter()
    .collect();
    let mut files = Vec::new();
    let mut listed = Vec::new();
    add_file(PARTNER_CHECKPOINTS, &lines(&held), &mut files, &mut listed);
    add_file(PARTNER_FORKS, &lines(&forks), &mut files, &mut listed);
    add_keys_file(&keys, &mut files, &mut listed)?;
    let manifest = super::PartnerManifest {
        format: super::PARTNER_EXPORT_FORMAT.into(),
        version: super::PARTNER_EXPORT_VERSION,
        agency: cfg.agency.clone(),
        about: about.clone(),
        exported_at: now,
        files: listed,
    };
    let bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ExportError::Inconsistent(format!("manifest: {e}")))?;
    files.push(ExportFile {
        name: MANIFEST.into(),
        bytes: [bytes, b"\n".to_vec()].concat(),
    });
    Ok(PartnerBuilt {
        agency: cfg.agency.clone(),
        about: about.clone(),
        checkpoints: held.len(),
        forks: forks.len(),
        files,
    })
}

/// A partner-only export made in memory (see [`build_partner_only`]).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PartnerBuilt {
    /// The exporting agency.
    pub agency: AgencyId,
    /// The agency whose checkpoints it holds.
    pub about: AgencyId,
    /// How many checkpoints of `about`.
    pub checkpoints: usize,
    /// How many conflicting ones (fork evidence).
    pub forks: usize,
    /// Its files, the manifest last.
    pub files: Vec<ExportFile>,
}

impl PartnerBuilt {
    /// Writes it into `out` as [`write`] does.
    pub fn write(&self, out: &Path) -> Result<(), ExportError> {
        write_files(out, &self.files)
    }
}

impl std::fmt::Display for PartnerBuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "partner-only export of {} about {}: {} checkpoint(s) of {} and {} conflicting; \
             nothing of {}'s own log or other partners",
            self.agency, self.about, self.checkpoints, self.about, self.forks, self.agency
        )
    }
}
