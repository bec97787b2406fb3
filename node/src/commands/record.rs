//! `accord record sign` and `accord record verify`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use accord_protocol::canonical::parse_record_json;
use accord_protocol::{AgencyId, PublicKey, Record, sign as sign_record, verify as verify_record};
use anyhow::{Context, Result};

use crate::{Refused, files};

/// Signs a record file with an agency key, or with a delegated key and its certificate.
pub(super) fn sign(
    record: &Path,
    key: &Path,
    certificate: Option<&Path>,
    out: Option<&Path>,
) -> Result<()> {
    let text = std::fs::read_to_string(record)
        .with_context(|| format!("cannot read {}", record.display()))?;
    let parsed: Record = match parse_record_json(text.as_bytes()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: not a valid record: {e}", record.display());
            return Err(Refused.into());
        }
    };
    let key = files::read_key(key)?;
    let signed = match certificate {
        None => sign_record(&parsed, &key),
        Some(c) => {
            let cert = super::delegate::read_certificate(c)?;
            accord_protocol::envelope::sign_delegated(&parsed, &key, cert)
        }
    };
    let env = match signed {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {}: {e}", record.display());
            return Err(Refused.into());
        }
    };
    let out: PathBuf = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| record.with_extension("signed.json"));
    files::write_signed(&out, &env)?;
    println!(
        "signed record {} of {} (seq {}) under {}",
        env.id(),
        parsed.originator,
        parsed.seq,
        parsed.agreement
    );
    println!("wrote {}", out.display());
    Ok(())
}

/// Verifies a signed record file against the keys of a configuration or one given key.
pub(super) fn verify(
    signed: &Path,
    config: Option<&Path>,
    public_key: Option<&str>,
    json: bool,
) -> Result<()> {
    let env = match files::read_signed(signed) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("REJECTED {}: {e:#}", signed.display());
            return Err(Refused.into());
        }
    };
    let keys: Box<dyn accord_protocol::KeyDirectory> = match (config, public_key) {
        (Some(path), _) => {
            let cfg = files::load_config(path)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("the configuration given with --config is invalid")?;
            let mut dir: BTreeMap<AgencyId, PublicKey> = cfg
                .agencies
                .values()
                .map(|a| (a.id.clone(), a.public_key))
                .collect();
            if let Ok(own) = files::read_key(&cfg.key_file) {
                dir.insert(cfg.agency.clone(), own.public_key());
            }
            Box::new(dir)
        }
        (None, Some(text)) => Box::new(SingleKey(PublicKey::parse(text).context("--public-key")?)),
        (None, None) => anyhow::bail!("give --config or --public-key"),
    };
    match verify_record(env, &*keys) {
        Ok(v) => {
            if json {
                println!("{}", String::from_utf8_lossy(v.envelope.record_bytes()));
            } else {
                let r = &v.record;
                println!("VERIFIED {}", v.id);
                println!(
                    "  originator  {} (key {})",
                    r.originator,
                    v.envelope.signer().key()
                );
                println!("  agreement   {} seq {}", r.agreement, r.seq);
                println!(
                    "  category    {}  handling {}  grading {}",
                    r.category, r.handling, r.grading
                );
                println!("  created     {}", r.created);
                println!("  summary     {}", r.summary);
                // verified above: each approval and its releaser's certificate read
                for a in v.envelope.approvals() {
                    let holder = serde_json::from_slice::<accord_protocol::delegation::Delegation>(
                        &a.certificate.bytes,
                    )
                    .map_or_else(|_| "?".to_owned(), |d| d.holder);
                    let at = accord_protocol::approval::decode_approval(&a.approval.bytes)
                        .map_or_else(|_| "?".to_owned(), |x| x.approved.to_string());
                    println!(
                        "  approved    by {} (certificate {}) at {at}",
                        holder.escape_debug(),
                        hex::encode(
                            &accord_protocol::delegation::certificate_id(&a.certificate).0[..8]
                        )
                    );
                }
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("REJECTED {}: {e}", signed.display());
            Err(Refused.into())
        }
    }
}

/// A directory that knows one key and accepts it for any originator: the caller vouches that
/// it is the originator's key.
struct SingleKey(PublicKey);

impl accord_protocol::KeyDirectory for SingleKey {
    fn agency_key(&self, _agency: &AgencyId) -> Option<PublicKey> {
        Some(self.0)
    }
}
