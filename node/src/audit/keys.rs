//! Which key verifies what, when agencies change keys: the key history an export carries
//! (`key-history.json`), taken from the log itself — the agency's own keys from its `key`
//! entries, every partner's from the `keys` of its `config` entries.
//!
//! - an own checkpoint of `count` entries was signed with the key of the latest `key` entry
//!   among those entries (a node logs its key before it signs anything with it);
//! - a receipt was verified, when it arrived, with the receiver's key of the latest `config`
//!   entry before its `delivered` entry;
//! - a partner's checkpoint arrived at an unlogged moment after its `time` (a partner's clock):
//!   it verifies with a key of that partner whose period had not ended by that `time`.
//!
//! An agency absent from the history (a log written before accord logged keys) falls back on
//! `keys.json`.

use std::collections::BTreeMap;

use accord_protocol::audit::{AuditEntry, AuditError, AuditEvent, Checkpoint, Signed};
use accord_protocol::{AgencyId, PublicKey, Timestamp};
use serde::{Deserialize, Serialize};

/// One key of an agency and from where in the log it is in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPeriod {
    /// The key.
    pub key: PublicKey,
    /// The index of the entry that first names it (a `key` or `config` entry).
    pub from_index: u64,
    /// That entry's time.
    pub from_time: Timestamp,
}

/// Every agency's keys, oldest first.
pub type KeyHistory = BTreeMap<AgencyId, Vec<KeyPeriod>>;

/// The key history of `agency`'s log.
pub fn history_of<'a>(
    agency: &AgencyId,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> KeyHistory {
    let mut out = KeyHistory::new();
    let mut note = |who: &AgencyId, key: &PublicKey, e: &AuditEntry| {
        let periods = out.entry(who.clone()).or_default();
        if periods.last().is_none_or(|p| p.key != *key) {
            periods.push(KeyPeriod {
                key: *key,
                from_index: e.index,
                from_time: e.time,
            });
        }
    };
    for e in entries {
        match &e.event {
            AuditEvent::Key { public_key } => note(agency, public_key, e),
            AuditEvent::Config { keys, .. } => {
                for (who, key) in keys {
                    if who != agency {
                        note(who, key, e);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The keys an export gives: its history, and `keys.json` for agencies the history lacks.
pub(super) struct Keys<'a> {
    pub listed: &'a BTreeMap<AgencyId, PublicKey>,
    pub history: &'a KeyHistory,
}

impl Keys<'_> {
    /// The key in force for `agency` after the log's first `before` entries: that of the
    /// latest period begun among them, else its first.
    pub(super) fn at_index(&self, agency: &AgencyId, before: u64) -> Option<PublicKey> {
        match self.history.get(agency) {
            Some(periods) if !periods.is_empty() => periods
                .iter()
                .rev()
                .find(|p| p.from_index < before)
                .or(periods.first())
                .map(|p| p.key),
            _ => self.listed.get(agency).copied(),
        }
    }

    /// The keys of `agency` that may have signed at `time`: those whose period had not ended
    /// by then.
    pub(super) fn in_force_at(&self, agency: &AgencyId, time: Timestamp) -> Vec<PublicKey> {
        match self.history.get(agency) {
            Some(periods) if !periods.is_empty() => periods
                .iter()
                .enumerate()
                .filter(|(i, _)| periods.get(i + 1).is_none_or(|next| next.from_time > time))
                .map(|(_, p)| p.key)
                .collect(),
            _ => self.listed.get(agency).copied().into_iter().collect(),
        }
    }

    /// Every key `agency` has had.
    pub(super) fn all(&self, agency: &AgencyId) -> Vec<PublicKey> {
        let mut out: Vec<PublicKey> = self
            .history
            .get(agency)
            .map(|p| p.iter().map(|p| p.key).collect())
            .unwrap_or_default();
        if let Some(k) = self.listed.get(agency)
            && !out.contains(k)
        {
            out.push(*k);
        }
        out
    }
}

/// A checkpoint's claims, read before its signature is checked (to choose the key).
pub(super) fn claims(s: &Signed) -> Option<Checkpoint> {
    serde_json::from_slice(&s.bytes).ok()
}

/// Verifies a checkpoint with the first of `keys` that verifies it (none: an unknown signer).
pub(super) fn verify_checkpoint_with(
    s: &Signed,
    keys: &[PublicKey],
) -> Result<Checkpoint, AuditError> {
    let mut result = accord_protocol::audit::verify_checkpoint(s, |_| None);
    for key in keys {
        result = accord_protocol::audit::verify_checkpoint(s, |_| Some(*key));
        if result.is_ok() {
            break;
        }
    }
    result
}
