//! Trust that arrives while running: revocations of delegated keys and members' agreement
//! signatures, verified and kept before they count.

use super::*;

impl Core {
    /// Verifies a revocation under its issuing agency's key and, when it is new, keeps it (store
    /// and audit entry) and applies it to the directory. `from` is the peer it came from, or
    /// this agency when made here. Returns whether it was new.
    /// A revocation the store cannot keep is not applied either (an error, so the API says
    /// so and a peer's next sync status offers it again): a revocation in force here is always
    /// one the log names and a restart keeps.
    pub(super) fn take_revocation(
        &mut self,
        from: &AgencyId,
        signed: &accord_protocol::audit::Signed,
        by: Option<&str>,
    ) -> Result<bool, TakeRevocation> {
        // every sync status carries the revocations the peer holds: those held here already
        // are not verified again
        if self.dir.holds(signed) {
            return Ok(false);
        }
        let r = self.dir.verify(signed)?;
        if !self.dir.would_revoke(&r) {
            return Ok(false);
        }
        let via = (*from != self.cfg.agency).then_some(from);
        self.store
            .trust()
            .keep_revocation(self.now(), &r, signed, via, by)?;
        Arc::make_mut(&mut self.dir).revoke(&r, signed);
        tracing::info!(agency = %r.agency, revoked = %r.revoked, %from, "delegation revoked");
        self.emit(NodeEvent::Revoked {
            agency: r.agency.clone(),
            certificate: hex::encode(r.certificate.0),
            from: from.clone(),
        });
        Ok(true)
    }

    /// A member's signature of an agreement made on this host (`accord agreement sign` while
    /// the node runs): verified against the text the node holds, kept with its audit entry and
    /// passed to the members now. Returns whether the agreement is in effect.
    pub(super) fn take_signature(
        &mut self,
        agreement: &AgreementId,
        signer: &AgencyId,
        signature: [u8; 64],
        by: Option<&str>,
    ) -> Result<bool, String> {
        let Some(a) = self.cfg.agreements.get(agreement) else {
            return Err(format!(
                "the running node does not hold agreement {agreement}; add it to the node file \
                 and restart the node"
            ));
        };
        if !a.is_member(signer) {
            return Err(format!("{signer} is not a member of {agreement}"));
        }
        if a.signatures.get(signer) == Some(&signature) {
            return Ok(a.fully_signed());
        }
        let own = self.key.public_key();
        let verifies =
            crate::agreements::member_key(&self.cfg, Some(&own), signer).is_some_and(|key| {
                accord_protocol::agreement::verify_agreement(&key, &a.hash, &signature)
            });
        if !verifies {
            return Err(format!(
                "the signature is not {signer}'s of the text the running node holds (sha-256 \
                 {}); if the file changed, restart the node to load it",
                a.hash_hex()
            ));
        }
        let me = self.cfg.agency.clone();
        if self.collect_signatures(
            &me,
            vec![(agreement.clone(), signer.clone(), signature)],
            by,
        ) {
            self.sync_all();
        }
        self.cfg
            .agreements
            .get(agreement)
            .filter(|a| a.signatures.get(signer) == Some(&signature))
            .map(accord_config::Agreement::fully_signed)
            .ok_or_else(|| "the node could not keep the signature; see its log".to_owned())
    }

    /// Verifies members' agreement signatures a peer holds and keeps the valid ones (store,
    /// audit entry, configuration). Returns whether any was new.
    pub(super) fn collect_signatures(
        &mut self,
        peer: &AgencyId,
        found: Vec<(AgreementId, AgencyId, [u8; 64])>,
        by: Option<&str>,
    ) -> bool {
        let own = self.key.public_key();
        let mut cfg = (*self.cfg).clone();
        let mut changed = false;
        for (id, signer, sig) in found {
            let Some(a) = cfg.agreements.get(&id) else {
                continue;
            };
            if a.signatures.contains_key(&signer) {
                continue;
            }
            let Some(key) = crate::agreements::member_key(&cfg, Some(&own), &signer) else {
                continue;
            };
            if !accord_protocol::agreement::verify_agreement(&key, &a.hash, &sig) {
                tracing::warn!(%peer, agreement = %id, %signer, "refused an agreement signature that does not verify");
                self.emit(NodeEvent::rejected(
                    peer,
                    RejectCode::BadSignature,
                    format!("agreement {id}: the signature of {signer} does not verify"),
                ));
                continue;
            }
            let hash = a.hash;
            match self.store.trust().keep_agreement_signature(
                self.now(),
                (&id, &hash),
                &signer,
                peer,
                &sig,
                by,
            ) {
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot keep an agreement signature");
                    continue;
                }
            }
            if let Some(a) = cfg.agreements.get_mut(&id) {
                a.signatures.insert(signer.clone(), sig);
                changed = true;
                tracing::info!(agreement = %id, %signer, from = %peer, "agreement signature collected");
                let in_effect = a.fully_signed();
                self.emit(NodeEvent::AgreementSigned {
                    agreement: id.clone(),
                    signer,
                    in_effect,
                });
                if in_effect {
                    tracing::info!(agreement = %id, "every member has signed: the agreement takes effect");
                }
            }
        }
        if changed {
            let cfg = Arc::new(cfg);
            self.shared_cfg.set(cfg.clone());
            self.cfg = cfg;
        }
        changed
    }
}
