//! What the node trusts, kept with its audit entry in the same batch: members' signatures of
//! agreement files, revocations of delegation certificates, key rotations, the certificates
//! this agency issued, and the console's accounts.

use accord_protocol::audit::{AuditEvent, Digest32, Signed};
use accord_protocol::{AgencyId, AgreementId, Timestamp};

use super::audit::parse_line;
use super::engine::{Batch, Engine};
use super::{Store, StoreError, keys};

interface! {
    /// What the node trusts (agreement signatures, revocations, key rotations, the certificates
    /// this agency issued, console accounts).
    Trust, trust
}

impl Trust<'_> {
    /// Keeps a member's verified signature of an agreement file (`of`: its id and the file's
    /// hash; received from `from`, made through the console by `by`) with its audit entry, in
    /// one batch, and flushes. Returns `false` when it was held already.
    pub fn keep_agreement_signature(
        &self,
        now: Timestamp,
        (agreement, hash): (&AgreementId, &[u8; 32]),
        signer: &AgencyId,
        from: &AgencyId,
        signature: &[u8; 64],
        by: Option<&str>,
    ) -> Result<bool, StoreError> {
        let key = agreement_signature_key(hash, Some(signer));
        let guard = self.lock();
        if self.kv.get(&key)?.is_some() {
            return Ok(false);
        }
        let event = AuditEvent::AgreementSignature {
            agreement: agreement.clone(),
            hash: Digest32(*hash),
            signer: signer.clone(),
            from: from.clone(),
            by: by.map(str::to_owned),
        };
        self.put_logged(guard, now, key, signature.to_vec(), event)?;
        Ok(true)
    }

    /// The members' signatures of the agreement file with this hash that were collected from
    /// peers (verified when they arrived).
    pub fn agreement_signatures(
        &self,
        hash: &[u8; 32],
    ) -> Result<Vec<(AgencyId, [u8; 64])>, StoreError> {
        let prefix = agreement_signature_key(hash, None);
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(&prefix) {
            let (k, v) = item?;
            let signer = std::str::from_utf8(&k[prefix.len()..])
                .ok()
                .and_then(|t| AgencyId::new(t).ok())
                .ok_or_else(|| StoreError::Corrupt("agreement signature key".into()))?;
            let sig: [u8; 64] = v
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::Corrupt("agreement signature is not 64 bytes".into()))?;
            out.push((signer, sig));
        }
        Ok(out)
    }

    /// Keeps a verified revocation of a delegation certificate with its audit entry, in one
    /// batch, and flushes. Returns `false` when it was held already.
    pub fn keep_revocation(
        &self,
        now: Timestamp,
        revocation: &accord_protocol::delegation::Revocation,
        signed: &Signed,
        from: Option<&AgencyId>,
        by: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut key = keys::meta("revocation/");
        key.extend_from_slice(revocation.agency.as_str().as_bytes());
        key.push(b'/');
        key.extend_from_slice(hex::encode(revocation.certificate.0).as_bytes());
        let guard = self.lock();
        if self.kv.get(&key)?.is_some() {
            return Ok(false);
        }
        let event = AuditEvent::Revocation {
            agency: revocation.agency.clone(),
            certificate: revocation.certificate,
            revoked: revocation.revoked,
            from: from.cloned(),
            by: by.map(str::to_owned),
        };
        self.put_logged(guard, now, key, signed.to_line().into_bytes(), event)?;
        Ok(true)
    }

    /// Keeps a verified key rotation statement (docs/protocol.md §11) with its audit entry, in
    /// one batch, and flushes. A statement held already is kept again only when it carries
    /// more attestations. Returns `false` when nothing changed.
    pub fn keep_rotation(
        &self,
        now: Timestamp,
        rotation: &accord_protocol::rotation::Rotation,
        signed: &accord_protocol::rotation::SignedRotation,
        from: Option<&AgencyId>,
    ) -> Result<bool, StoreError> {
        use accord_protocol::rotation::RotationFile;
        let digest = accord_protocol::audit::sha256(&signed.statement);
        let mut key = keys::meta("rotation/");
        key.extend_from_slice(rotation.agency.as_str().as_bytes());
        key.push(b'/');
        key.extend_from_slice(hex::encode(digest.0).as_bytes());
        let guard = self.lock();
        if let Some(held) = self.kv.get(&key)? {
            let held: RotationFile = serde_json::from_slice(&held)
                .map_err(|e| StoreError::Corrupt(format!("rotation: {e}")))?;
            if held.attestations.len() >= signed.attestations.len() {
                return Ok(false);
            }
        }
        let event = AuditEvent::Rotation {
            agency: rotation.agency.clone(),
            previous: rotation.previous,
            key: rotation.key,
            since: rotation.since,
            statement: digest,
            from: from.cloned(),
        };
        let value = serde_json::to_vec(&RotationFile::from(signed))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.put_logged(guard, now, key, value, event)?;
        Ok(true)
    }

    /// The key rotation statements held here (verified when they were kept), of every agency.
    pub fn rotations(&self) -> Result<Vec<accord_protocol::rotation::SignedRotation>, StoreError> {
        use accord_protocol::rotation::{RotationFile, SignedRotation};
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("rotation/")) {
            let file: RotationFile = serde_json::from_slice(&item?.1)
                .map_err(|e| StoreError::Corrupt(format!("rotation: {e}")))?;
            out.push(
                SignedRotation::try_from(&file)
                    .map_err(|e| StoreError::Corrupt(format!("rotation: {e}")))?,
            );
        }
        Ok(out)
    }

    /// Writes `key` = `value` and `event`'s audit entry in one batch, under the write lock the
    /// caller took (`guard`), then releases it and flushes (group commit).
    fn put_logged(
        &self,
        guard: std::sync::MutexGuard<'_, ()>,
        now: Timestamp,
        key: Vec<u8>,
        value: Vec<u8>,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut head = self.log().audit_head()?;
        let mut batch = Batch::default();
        batch.insert(key, value);
        self.append_audit(&mut batch, &mut head, now, [event])?;
        self.kv.apply_batch(batch)?;
        drop(guard);
        self.flush()?;
        Ok(())
    }

    /// Keeps a delegation certificate this agency issued (by its id) with its `delegation`
    /// entry, in one batch, and flushes.
    pub fn keep_certificate(
        &self,
        now: Timestamp,
        id: &Digest32,
        signed: &Signed,
        delegation: &accord_protocol::delegation::Delegation,
        by: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut key = keys::meta("certificate/");
        key.extend_from_slice(hex::encode(id.0).as_bytes());
        let guard = self.lock();
        let event = AuditEvent::Delegation {
            certificate: *id,
            delegate: delegation.delegate,
            agreements: delegation.agreements.clone(),
            valid_from: delegation.valid_from,
            valid_until: delegation.valid_until,
            by: by.map(str::to_owned),
            role: (!delegation.role.is_officer()).then(|| delegation.role.to_string()),
        };
        self.put_logged(guard, now, key, signed.to_line().into_bytes(), event)
    }

    /// Writes a console account (its JSON, `console::accounts`) with its `account` audit
    /// entry, in one batch, and flushes.
    pub fn put_account(
        &self,
        now: Timestamp,
        name: &str,
        value: Vec<u8>,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let guard = self.lock();
        self.put_logged(
            guard,
            now,
            keys::meta(&format!("account/{name}")),
            value,
            event,
        )
    }

    /// Writes the meta key `name` (e.g. `held/<id>`, `releaser/<name>`: two-person release,
    /// `crate::release`) with `event`'s audit entry, in one batch, and flushes.
    pub fn put_logged_meta(
        &self,
        now: Timestamp,
        name: &str,
        value: Vec<u8>,
        event: AuditEvent,
    ) -> Result<(), StoreError> {
        let guard = self.lock();
        self.put_logged(guard, now, keys::meta(name), value, event)
    }

    /// The value of the meta key `name`.
    pub fn meta_value(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.kv.get(keys::meta(name))?.map(|v| v.to_vec()))
    }

    /// The values of the meta keys that start with `prefix`, in key order.
    pub fn meta_values(&self, prefix: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta(prefix)) {
            out.push(item?.1.to_vec());
        }
        Ok(out)
    }

    /// A console account's JSON, by name.
    pub fn account(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .kv
            .get(keys::meta(&format!("account/{name}")))?
            .map(|v| v.to_vec()))
    }

    /// Every console account's JSON, by name.
    pub fn accounts(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("account/")) {
            out.push(item?.1.to_vec());
        }
        Ok(out)
    }

    /// The delegation certificates this agency issued, by id.
    pub fn certificates(&self) -> Result<Vec<Signed>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("certificate/")) {
            out.push(parse_line(&item?.1)?);
        }
        Ok(out)
    }

    /// The revocations held here (verified when they were kept).
    pub fn revocations(&self) -> Result<Vec<Signed>, StoreError> {
        let mut out = Vec::new();
        for item in self.kv.scan_prefix(keys::meta("revocation/")) {
            out.push(parse_line(&item?.1)?);
        }
        Ok(out)
    }
}

/// `meta "agreement-sig/" <hash hex> "/" [signer]`.
fn agreement_signature_key(hash: &[u8; 32], signer: Option<&AgencyId>) -> Vec<u8> {
    let mut k = keys::meta("agreement-sig/");
    k.extend_from_slice(hex::encode(hash).as_bytes());
    k.push(b'/');
    if let Some(s) = signer {
        k.extend_from_slice(s.as_str().as_bytes());
    }
    k
}
