//! `accord purge`: records past their agreement's retention go, tombstones stay — on the store,
//! or through the running node.

use std::path::Path;

use anyhow::Result;

use super::node::{Node, Opened, now, op_fail};
use crate::ops::purge::{PurgeRequest, Purged, purge as run};

/// Removes (or with `dry_run` lists) every record past its agreement's retention
/// (`crate::ops::purge`).
pub(super) fn purge(config: &Path, dry_run: bool) -> Result<()> {
    let req = PurgeRequest { dry_run };
    let done: Purged = match Node::open_or_api(config)? {
        Opened::Local(node) => {
            let mut progress = crate::progress::Progress::new("purge", "records", 0);
            let done = run(&node.store, &node.cfg, req, now()?, &mut |done, total| {
                progress.set(done, total)
            })
            .map_err(op_fail)?;
            progress.finish();
            done
        }
        Opened::Api(node) => node
            .client
            .post_json("/v1/purge", &req)
            .map_err(|e| node.fail_op(e))?,
    };
    done.print();
    Ok(())
}
