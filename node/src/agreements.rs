//! Agreement signatures on the node's side: an agreement takes effect only once every member's
//! signature of its exact file is held and verified (docs/protocol.md §8).
//!
//! Signatures come from two places: the agreement's signature file (`<file>.sigs`, where
//! `accord agreement sign` writes this agency's) and members' sync status (collected into the
//! store, with an audit entry each). Both are verified here against the members' registered
//! keys before they count; [`accord_config::Agreement::signatures`] holds only verified ones.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use accord_config::{Agreement, NodeConfig};
use accord_protocol::agreement::{
    SignatureLine, parse_signature_file, sign_agreement, signature_line, verify_agreement,
};
use accord_protocol::{AgencyId, PublicKey, SecretKey};
use anyhow::{Context, Result, bail};

use crate::store::Store;

/// The registered key of `agency` as this node knows it: its own, or a known agency's.
/// `own` is `None` when this process cannot read the agency key (its own signature then
/// cannot be checked and does not count).
pub fn member_key(
    cfg: &NodeConfig,
    own: Option<&PublicKey>,
    agency: &AgencyId,
) -> Option<PublicKey> {
    if *agency == cfg.agency {
        own.copied()
    } else {
        cfg.agencies.get(agency).map(|a| a.public_key)
    }
}

/// Verifies every line of every agreement's signature file and keeps the valid ones in
/// [`Agreement::signatures`]. A signature that does not verify is an error naming the file and
/// line: the file changed after it was signed, or the key is not the member's.
pub fn verify_signature_files(
    cfg: &mut NodeConfig,
    own: Option<&PublicKey>,
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let mut verified = Vec::new();
    for a in cfg.agreements.values() {
        for l in &a.signature_lines {
            if own.is_none() && l.agency == cfg.agency {
                continue;
            }
            match check_line(cfg, own, a, l) {
                Ok(()) => verified.push((a.id.clone(), l.agency.clone(), l.signature)),
                Err(p) => problems.push(p),
            }
        }
    }
    for (id, agency, sig) in verified {
        if let Some(a) = cfg.agreements.get_mut(&id) {
            a.signatures.insert(agency, sig);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn check_line(
    cfg: &NodeConfig,
    own: Option<&PublicKey>,
    a: &Agreement,
    l: &SignatureLine,
) -> Result<(), String> {
    let at = format!("{}:{}", a.signature_path().display(), l.line);
    let Some(key) = member_key(cfg, own, &l.agency) else {
        return Err(format!(
            "{at}: {} is not a known agency, so its signature cannot be checked",
            l.agency
        ));
    };
    if verify_agreement(&key, &a.hash, &l.signature) {
        Ok(())
    } else {
        Err(format!(
            "{at}: the signature of {} on agreement {} does not verify against {}'s registered \
             key: the agreement file changed after it was signed, or the signature is not \
             {}'s (hint: have {} sign the file as it is now, or remove the line)",
            l.agency, a.id, l.agency, l.agency, l.agency
        ))
    }
}

/// Adds the signatures collected from members earlier (kept in the store) to the agreements,
/// verifying each again.
pub fn merge_collected(cfg: &mut NodeConfig, own: Option<&PublicKey>, store: &Store) -> Result<()> {
    let mut found = Vec::new();
    for a in cfg.agreements.values() {
        for (signer, sig) in store.trust().agreement_signatures(&a.hash)? {
            if !a.is_member(&signer) || a.signatures.contains_key(&signer) {
                continue;
            }
            let Some(key) = member_key(cfg, own, &signer) else {
                continue;
            };
            if verify_agreement(&key, &a.hash, &sig) {
                found.push((a.id.clone(), signer, sig));
            }
        }
    }
    for (id, signer, sig) in found {
        if let Some(a) = cfg.agreements.get_mut(&id) {
            a.signatures.insert(signer, sig);
        }
    }
    Ok(())
}

/// Makes a freshly loaded configuration ready for the node: signature files verified and
/// collected signatures merged. Problems come back as one readable error.
pub fn prepare(cfg: &mut NodeConfig, own: Option<&PublicKey>, store: Option<&Store>) -> Result<()> {
    if let Err(problems) = verify_signature_files(cfg, own) {
        let mut text = String::from("agreement signatures that do not verify:");
        for p in problems {
            let _ = write!(text, "\n  {p}");
        }
        bail!(text);
    }
    if let Some(store) = store {
        merge_collected(cfg, own, store)?;
    }
    Ok(())
}

/// What [`sign_file`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    /// The signature was added to the signature file.
    Added,
    /// The file already held this agency's valid signature.
    AlreadySigned,
    /// A stale signature of this agency (of an earlier text) was replaced.
    Replaced,
}

/// Signs the agreement file at `path` as `agency` with `key`: adds the signature line to its
/// signature file (creating it), or replaces this agency's stale line. The agency must be a
/// member; the file must parse as an agreement.
pub fn sign_file(path: &Path, agency: &AgencyId, key: &SecretKey) -> Result<(Agreement, Signed)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let agreement = accord_config::parse_agreement(path, &bytes).map_err(|e| {
        anyhow::anyhow!("{e}").context(format!("{} is not a valid agreement", path.display()))
    })?;
    if !agreement.is_member(agency) {
        bail!(
            "{agency} is not a member of agreement {} (members: {}); only members sign it",
            agreement.id,
            agreement
                .members
                .iter()
                .map(AgencyId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let signature = sign_agreement(key, &agreement.hash);
    let sig_path = agreement.signature_path();
    let existing = match std::fs::read_to_string(&sig_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", sig_path.display())),
    };
    let Some(text) = existing else {
        let mut out = format!(
            "# Signatures of {} ({}): one line per member, `<agency id> <ed25519 signature>`.\n\
             # Each signs \"accord/agreement/v1\\0\" followed by the SHA-256 of the file's bytes:\n\
             # {}\n",
            agreement.id,
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            agreement.hash_hex()
        );
        out.push_str(&signature_line(agency, &signature));
        std::fs::write(&sig_path, out)
            .with_context(|| format!("cannot write {}", sig_path.display()))?;
        return Ok((agreement, Signed::Added));
    };
    let lines = parse_signature_file(&text).map_err(|errors| {
        anyhow::anyhow!(
            "{}: {}",
            sig_path.display(),
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    match lines.iter().find(|l| l.agency == *agency) {
        Some(l) if l.signature == signature => Ok((agreement, Signed::AlreadySigned)),
        Some(l) => {
            // keep every other line as it is; rewrite this agency's, and the header's hash of
            // the text signed (a comment), which is now this text's
            let mut out = String::new();
            for (i, raw) in text.lines().enumerate() {
                if i + 1 == l.line as usize {
                    out.push_str(&signature_line(agency, &signature));
                } else if raw
                    .strip_prefix("# ")
                    .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    out.push_str(&format!("# {}\n", agreement.hash_hex()));
                } else {
                    out.push_str(raw);
                    out.push('\n');
                }
            }
            std::fs::write(&sig_path, out)
                .with_context(|| format!("cannot write {}", sig_path.display()))?;
            Ok((agreement, Signed::Replaced))
        }
        None => {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&sig_path)
                .with_context(|| format!("cannot open {}", sig_path.display()))?;
            if !text.is_empty() && !text.ends_with('\n') {
                f.write_all(b"\n")?;
            }
            f.write_all(signature_line(agency, &signature).as_bytes())
                .with_context(|| format!("cannot write {}", sig_path.display()))?;
            f.sync_all()?;
            Ok((agreement, Signed::Added))
        }
    }
}

/// One line per agreement on its signatures: in effect, or which members are missing.
pub fn signature_status(a: &Agreement, cfg: &accord_config::NodeConfig) -> String {
    let missing = a.missing_signatures();
    if missing.is_empty() {
        format!(
            "{}: signed by every member ({})",
            a.id,
            a.members
                .iter()
                .map(AgencyId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        let here = if missing.contains(&cfg.agency) {
            format!(
                "; {} signs with `accord agreement sign {} --config {}`",
                cfg.agency,
                a.path.display(),
                cfg.path.display()
            )
        } else {
            String::new()
        };
        format!(
            "{}: NOT IN EFFECT, missing the signature of {} (each member runs `accord agreement \
             sign FILE --config NODE.toml` on its copy{here}; members exchange signatures when \
             they connect)",
            a.id,
            missing
                .iter()
                .map(AgencyId::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}
