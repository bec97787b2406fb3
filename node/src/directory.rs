//! The key directory a running node verifies with: every known agency's registered key, and
//! the revocations of delegation certificates it holds (docs/protocol.md §10).

use std::collections::BTreeMap;

use accord_config::NodeConfig;
use accord_protocol::audit::{Digest32, Signed};
use accord_protocol::delegation::{Revocation, verify_revocation};
use accord_protocol::{AgencyId, KeyDirectory, PublicKey, SecretKey, Timestamp};

use crate::store::{Store, StoreError};

/// Registered keys and verified revocations.
#[derive(Clone, Debug, Default)]
pub(crate) struct Directory {
    keys: BTreeMap<AgencyId, PublicKey>,
    revoked: BTreeMap<(AgencyId, Digest32), Timestamp>,
    /// The verified revocations themselves, by issuing agency, to pass on.
    held: Vec<(AgencyId, Signed)>,
}

impl Directory {
    /// The known agencies' keys and this agency's own.
    pub(crate) fn new(cfg: &NodeConfig, own: &SecretKey) -> Self {
        Self {
            keys: crate::publish::directory(cfg, own),
            revoked: BTreeMap::new(),
            held: Vec::new(),
        }
    }

    /// The same, with the revocations the store holds (each verified again).
    pub(crate) fn load(
        cfg: &NodeConfig,
        own: &SecretKey,
        store: &Store,
    ) -> Result<Self, StoreError> {
        let mut dir = Self::new(cfg, own);
        for signed in store.trust().revocations()? {
            if let Ok(r) = dir.verify(&signed) {
                dir.revoke(&r, &signed);
            }
        }
        Ok(dir)
    }

    /// An agency's registered key.
    pub(crate) fn get(&self, agency: &AgencyId) -> Option<&PublicKey> {
        self.keys.get(agency)
    }

    /// Verifies a revocation under its issuing agency's registered key.
    pub(crate) fn verify(
        &self,
        signed: &Signed,
    ) -> Result<Revocation, accord_protocol::delegation::DelegationError> {
        verify_revocation(signed, |a| self.keys.get(a).copied())
    }

    /// Applies a verified revocation (`r`, decoded from `signed`); returns whether it was new.
    /// Of two revocations of one certificate the earlier time stands.
    pub(crate) fn revoke(&mut self, r: &Revocation, signed: &Signed) -> bool {
        if !self.would_revoke(r) {
            return false;
        }
        self.revoked
            .insert((r.agency.clone(), r.certificate), r.revoked);
        self.held.push((r.agency.clone(), signed.clone()));
        true
    }

    /// Whether [`Self::revoke`] would take `r`: no revocation of its certificate held, or only a
    /// later one.
    pub(crate) fn would_revoke(&self, r: &Revocation) -> bool {
        !matches!(
            self.revoked.get(&(r.agency.clone(), r.certificate)),
            Some(t) if *t <= r.revoked
        )
    }

    /// Whether this very statement (the same bytes and signature) is held: it was verified
    /// when it was taken, so it need not be again.
    pub(crate) fn holds(&self, signed: &Signed) -> bool {
        self.held.iter().any(|(_, s)| s == signed)
    }

    /// The verified revocations held, with their issuing agency.
    pub(crate) fn revocations(&self) -> impl Iterator<Item = (&AgencyId, &Signed)> {
        self.held.iter().map(|(a, s)| (a, s))
    }
}

impl KeyDirectory for Directory {
    fn agency_key(&self, agency: &AgencyId) -> Option<PublicKey> {
        self.keys.get(agency).copied()
    }

    fn revoked(&self, agency: &AgencyId, certificate: &Digest32) -> Option<Timestamp> {
        self.revoked.get(&(agency.clone(), *certificate)).copied()
    }
}
