//! Matching's quota (docs/matching.md, "Bounds and audit"): per asker, agreement and UTC day,
//! how many selectors the holder has evaluated, counted in the same batch as the audit entry
//! that records the lookup, so a count and its entry are never one without the other.

use accord_protocol::audit::AuditEvent;
use accord_protocol::{AgencyId, AgreementId, Timestamp};

use super::engine::{Batch, Engine};
use super::{AuditLog, StoreError, keys};

/// What the quota said of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    /// Counted: the asker has now looked up `used` selectors today.
    Counted {
        /// Selectors looked up today, this lookup's included.
        used: u32,
    },
    /// Refused: `used` of the day's `limit` are spent and this lookup's `asked` would exceed it.
    Spent {
        /// Selectors looked up today.
        used: u32,
        /// The daily limit.
        limit: u32,
        /// Selectors this lookup asked for.
        asked: u32,
    },
}

impl AuditLog<'_> {
    /// Counts a lookup of `asked` selectors by `asker` under `agreement` on `now`'s UTC day
    /// against `limit` and, when it fits, writes the count and the audit entry `event` makes
    /// of the day's new total in one batch (earlier
    /// days' counts of the asker under the agreement go in it). Not flushed: the caller
    /// flushes before it answers. A lookup that does not fit changes nothing.
    pub fn count_lookup(
        &self,
        asker: &AgencyId,
        agreement: &AgreementId,
        asked: u32,
        limit: u32,
        now: Timestamp,
        event: impl FnOnce(u32) -> AuditEvent,
    ) -> Result<Quota, StoreError> {
        let day = day_of(now);
        let prefix = keys::lookups_prefix(agreement, asker);
        let mut key = prefix.clone();
        key.extend_from_slice(&day.to_be_bytes());
        let _guard = self.lock();
        // a job stamped before midnight that runs after a later day was counted counts on
        // that later day: the count never restarts for a day already over
        for item in self.kv.scan_prefix(&prefix) {
            let (k, _) = item?;
            if k.as_ref() > key.as_slice() {
                key = k.as_ref().to_vec();
            }
        }
        let used = match self.kv.get(&key)? {
            None => 0,
            Some(v) => u32::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                StoreError::Corrupt(format!("a lookup count of {} bytes", v.as_ref().len()))
            })?),
        };
        if u64::from(used) + u64::from(asked) > u64::from(limit) {
            return Ok(Quota::Spent { used, limit, asked });
        }
        let used = used + asked;
        let mut batch = Batch::default();
        // only earlier days' counts go: a job stamped before midnight that runs after one
        // stamped after it must not wipe the new day's count
        for item in self.kv.scan_prefix(&prefix) {
            let (k, _) = item?;
            if k.as_ref() < key.as_slice() {
                batch.remove(k.as_ref().to_vec());
            }
        }
        batch.insert(key, used.to_be_bytes().to_vec());
        let mut head = self.audit_head()?;
        self.append_audit(&mut batch, &mut head, now, [event(used)])?;
        self.kv.apply_batch(batch)?;
        Ok(Quota::Counted { used })
    }

    /// Selectors `asker` has looked up under `agreement` on `now`'s UTC day.
    pub fn lookups_today(
        &self,
        asker: &AgencyId,
        agreement: &AgreementId,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        let mut key = keys::lookups_prefix(agreement, asker);
        key.extend_from_slice(&day_of(now).to_be_bytes());
        Ok(match self.kv.get(&key)? {
            None => 0,
            Some(v) => u32::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                StoreError::Corrupt(format!("a lookup count of {} bytes", v.as_ref().len()))
            })?),
        })
    }
}

/// The UTC day of `at`, in days since 1970-01-01 (0 before it).
fn day_of(at: Timestamp) -> u32 {
    u32::try_from(at.unix().div_euclid(86_400)).unwrap_or(0)
}
