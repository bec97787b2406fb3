//! `accord import`: records signed outside the node (a liaison officer's, under a delegation)
//! taken in like records from a peer.

use std::path::{Path, PathBuf};

use accord_protocol::wire::AckEntry;
use anyhow::Result;

use super::node::{Node, Opened, refuse};
use crate::directory::Directory;
use crate::{Refused, clock, files};

/// Imports each file; prints one line per file and exits 1 if any was refused.
pub(super) fn run(config: &Path, paths: &[PathBuf]) -> Result<()> {
    let mut refused = 0;
    match Node::open_or_api(config)? {
        Opened::Local(node) => {
            let key = node.key()?;
            let dir = Directory::load(&node.cfg, &key, &node.store)?;
            for path in paths {
                let env =
                    files::read_signed(path).map_err(|e| refuse("import", format!("{e:#}")))?;
                let got = crate::net::inbound::receive(
                    &node.store,
                    &node.cfg,
                    &dir,
                    &node.cfg.agency,
                    vec![env],
                    &|_| Ok(()),
                    clock::now(),
                )?;
                match got.acks.into_iter().next() {
                    Some(AckEntry::Stored(id)) => println!("imported {id} from {}", path.display()),
                    Some(AckEntry::Duplicate(id)) => {
                        println!("{id} from {} was held already", path.display());
                    }
                    Some(AckEntry::Rejected { detail, .. }) => {
                        eprintln!("error: {}: refused: {detail}", path.display());
                        refused += 1;
                    }
                    None => {
                        eprintln!("error: {}: no answer", path.display());
                        refused += 1;
                    }
                }
            }
        }
        Opened::Api(node) => {
            for path in paths {
                let bytes = std::fs::read(path)
                    .map_err(|e| refuse(format!("import {}", path.display()), e))?;
                match node.client.import(&bytes) {
                    Ok(id) => println!(
                        "imported {id} from {} (through the running node)",
                        path.display()
                    ),
                    Err(e) => {
                        eprintln!("error: {}: {}", path.display(), node.fail("refused", e));
                        refused += 1;
                    }
                }
            }
        }
    }
    if refused > 0 {
        return Err(Refused.into());
    }
    Ok(())
}
