//! `accord key rotate|attest|accept`: key rotation statements (docs/protocol.md §11), so that
//! records an agency signed before it changed its key stay verifiable offline.

use std::path::Path;

use accord_protocol::rotation::{
    Rotation, RotationFile, SignedRotation, attest, verify_attestation, verify_rotation,
};
use accord_protocol::{AgencyId, PublicKey, SecretKey, Timestamp};
use anyhow::{Context, Result};

use super::node::{Node, Opened, now, refuse};
use crate::cli::KeyCommand;
use crate::files;
use crate::store::Store;

/// Runs a `key` subcommand.
pub(super) fn run(command: KeyCommand) -> Result<()> {
    match command {
        KeyCommand::Rotate {
            config,
            new,
            since,
            previous_lost,
            out,
        } => rotate(
            &config,
            &new,
            since.as_deref(),
            previous_lost.as_deref(),
            &out,
        ),
        KeyCommand::Attest { config, file } => attest_file(&config, &file),
        KeyCommand::Accept { config, file } => accept(&config, &file),
    }
}

/// Opens the store of a stopped node: key changes are made while the node is stopped.
fn stopped_node(config: &Path, what: &str) -> Result<Node> {
    match Node::open_or_api(config)? {
        Opened::Local(node) => Ok(node),
        Opened::Api(_) => Err(refuse(
            what,
            "the node is running; stop it first (the key is replaced while it is stopped)",
        )),
    }
}

fn rotate(
    config: &Path,
    new: &Path,
    since: Option<&str>,
    previous_lost: Option<&str>,
    out: &Path,
) -> Result<()> {
    if out.exists() {
        return Err(refuse(
            "key rotate",
            format!("{} exists; choose a new file", out.display()),
        ));
    }
    let node = stopped_node(config, "key rotate")?;
    let new_key = files::read_key(new)?;
    let since = match since {
        Some(t) => Timestamp::parse(t).map_err(|e| refuse("--since", e))?,
        // the next second: everything the old key signed before the node was stopped (in
        // this second too) stays the old key's
        None => now()?.plus_secs(1),
    };
    let (previous, previous_key) = match previous_lost {
        None => {
            let key = node.key()?;
            (key.public_key(), Some(key))
        }
        Some(text) => (
            PublicKey::parse(text).map_err(|e| refuse("--previous-lost", e))?,
            None,
        ),
    };
    let rotation = Rotation {
        v: 1,
        agency: node.cfg.agency.clone(),
        previous,
        key: new_key.public_key(),
        since,
    };
    let signed =
        accord_protocol::rotation::sign_rotation(&rotation, previous_key.as_ref(), &new_key)
            .map_err(|e| refuse("key rotate", e))?;
    node.store
        .trust()
        .keep_rotation(now()?, &rotation, &signed, None)?;
    write_file(out, &signed, true)?;
    // the agency's signatures of its agreements are checked against its current key: sign
    // each again with the new one (the line in each signature file is replaced)
    for a in node.cfg.agreements.values() {
        crate::agreements::sign_file(&a.path, &node.cfg.agency, &new_key)?;
        println!(
            "signed {} again with the new key: {} (partners replace {}'s line in their copy, \
             or receive it from the node)",
            a.id,
            a.signature_path().display(),
            node.cfg.agency
        );
    }
    println!(
        "{} rotates from {} to {} for records created from {}",
        rotation.agency, rotation.previous, rotation.key, rotation.since
    );
    println!(
        "wrote {} (kept in the store, with an audit entry)",
        out.display()
    );
    if previous_key.is_none() {
        println!(
            "the previous key is lost: every other member of each agreement attests the file \
             (`accord key attest {}` on their node), then everyone runs `accord key accept` \
             with the attested file",
            out.display()
        );
    }
    println!(
        "next: move {} into place as {}, start the node; give {} and the new public key to \
         every partner (they update your [[known_agency]] entry and run `accord key accept`)",
        new.display(),
        node.cfg.key_file.display(),
        out.display()
    );
    Ok(())
}

/// Reads a rotation file and checks its own signatures.
fn read_file(path: &Path) -> Result<(Rotation, SignedRotation)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: RotationFile = serde_json::from_str(text.trim_end())
        .map_err(|e| refuse(path.display(), format!("not a key rotation file: {e}")))?;
    let signed = SignedRotation::try_from(&file).map_err(|e| refuse(path.display(), e))?;
    let rotation = verify_rotation(&signed).map_err(|e| refuse(path.display(), e))?;
    Ok((rotation, signed))
}

fn write_file(path: &Path, signed: &SignedRotation, new: bool) -> Result<()> {
    let mut text = serde_json::to_string(&RotationFile::from(signed))?;
    text.push('\n');
    if new {
        files::create_new(path, text.as_bytes())
    } else {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// The key this node's configuration lists for `agency` (its own key for itself).
fn listed_key(node: &Node, agency: &AgencyId, own: Option<&SecretKey>) -> Option<PublicKey> {
    if *agency == node.cfg.agency {
        return own.map(SecretKey::public_key);
    }
    node.cfg.agencies.get(agency).map(|a| a.public_key)
}

/// Adds this agency's attestation to a rotation whose previous key was lost. The attesting
/// node must already list the new key for that agency (given through the trusted channel).
fn attest_file(config: &Path, path: &Path) -> Result<()> {
    let (rotation, mut signed) = read_file(path)?;
    let node = stopped_node(config, "key attest")?;
    if rotation.agency == node.cfg.agency {
        return Err(refuse(
            "key attest",
            "an agency does not attest its own rotation; the other members do",
        ));
    }
    if listed_key(&node, &rotation.agency, None) != Some(rotation.key) {
        return Err(refuse(
            "key attest",
            format!(
                "this node does not list {} as {}'s key; update its [[known_agency]] entry \
                 with the key the agency gave you through the trusted channel, then attest",
                rotation.key, rotation.agency
            ),
        ));
    }
    let key = node.key()?;
    signed
        .attestations
        .insert(node.cfg.agency.clone(), attest(&signed.statement, &key));
    write_file(path, &signed, false)?;
    println!(
        "{} attested the rotation of {} to {} (from {}) in {}",
        node.cfg.agency,
        rotation.agency,
        rotation.key,
        rotation.since,
        path.display()
    );
    Ok(())
}

/// Keeps a rotation statement so that this node's bundles carry it. The node must list the
/// statement's new or previous key for the agency; attestations by agencies it knows must
/// verify.
fn accept(config: &Path, path: &Path) -> Result<()> {
    let (rotation, signed) = read_file(path)?;
    let node = stopped_node(config, "key accept")?;
    let own = if rotation.agency == node.cfg.agency {
        Some(node.key()?)
    } else {
        None
    };
    let Some(listed) = listed_key(&node, &rotation.agency, own.as_ref()) else {
        return Err(refuse(
            "key accept",
            format!("{} is not an agency this node knows", rotation.agency),
        ));
    };
    if listed != rotation.key && listed != rotation.previous {
        return Err(refuse(
            "key accept",
            format!(
                "this node lists {listed} for {}, which is neither the statement's previous \
                 key nor its new one",
                rotation.agency
            ),
        ));
    }
    for (attester, sig) in &signed.attestations {
        if let Some(key) = listed_key(&node, attester, None)
            && !verify_attestation(&signed.statement, &key, sig)
        {
            return Err(refuse(
                "key accept",
                format!("the attestation of {attester} does not verify under its listed key"),
            ));
        }
    }
    let from = (rotation.agency != node.cfg.agency).then_some(&rotation.agency);
    if node
        .store
        .trust()
        .keep_rotation(now()?, &rotation, &signed, from)?
    {
        println!(
            "kept the rotation of {} to {} (from {}), with {} attestation(s)",
            rotation.agency,
            rotation.key,
            rotation.since,
            signed.attestations.len()
        );
    } else {
        println!("this node holds that rotation already");
    }
    Ok(())
}

/// Refuses to sign with a key this agency rotated away from (`accord key rotate`) once the
/// rotation is in force: the new key was meant to be in place by then.
pub(super) fn refuse_rotated_key(
    store: &Store,
    agency: &AgencyId,
    public: &PublicKey,
    now: Timestamp,
) -> Result<()> {
    let public = *public;
    for s in store.trust().rotations()? {
        if let Ok(r) = verify_rotation(&s)
            && r.agency == *agency
            && r.previous == public
            && r.since <= now
        {
            return Err(refuse(
                "agency key",
                format!(
                    "{public} was rotated to {} for records from {} (`accord key rotate`); put \
                     the new key file in place",
                    r.key, r.since
                ),
            ));
        }
    }
    Ok(())
}
