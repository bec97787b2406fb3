//! Sync status in and out: heads, agreement texts confirmed, partners' checkpoints kept, our
//! own checkpoints signed (on the blocking pool), and the restore guard's news.

use super::*;

impl Core {
    /// Signs the audit log's head when it moved since the last checkpoint, on the blocking
    /// pool ([`CheckpointJob`]); one at a time.
    pub(super) fn checkpoint_if_moved(&mut self) {
        if !self.signing.contains(&Checkpoint::HeadIfMoved) {
            self.sign(Checkpoint::HeadIfMoved);
        }
    }

    pub(super) fn sign(&mut self, which: Checkpoint) {
        self.signing.insert(which);
        let job = CheckpointJob {
            store: self.store.clone(),
            key: self.key.clone(),
            now: self.now(),
            which,
        };
        self.run(Job::Sign(job));
    }

    /// A [`CheckpointJob`] is done: a new slot's checkpoint goes to the partners at once.
    pub(super) fn on_signed(&mut self, signed: Signed) {
        self.signing.remove(&signed.which);
        match (signed.which, signed.result) {
            (Checkpoint::HeadIfMoved, Err(e)) => {
                tracing::error!(error = %e, "cannot sign an audit checkpoint");
            }
            (Checkpoint::Slot(_), Err(e)) => {
                tracing::error!(error = %e, "cannot sign a slot checkpoint");
            }
            (Checkpoint::HeadIfMoved, Ok(())) => {}
            (Checkpoint::Slot(slot), Ok(())) => {
                self.last_slot = Some(slot);
                self.sync_all();
            }
        }
    }

    /// At the start of each checkpoint slot: a `slot` entry and a slot checkpoint naming it,
    /// which the partners then receive (at once, and in every sync status until the next
    /// slot). What they witness so moves once a slot, whatever the log did.
    pub(super) fn slot_if_due(&mut self) {
        let len = self.net.checkpoint_slot.as_secs().max(1);
        let now = self.now();
        let slot = u64::try_from(now.unix()).unwrap_or(0) / len;
        if self.last_slot.is_none() {
            self.last_slot = self
                .store
                .checkpoints()
                .latest_slot_checkpoint()
                .ok()
                .flatten()
                .and_then(|s| {
                    serde_json::from_slice::<accord_protocol::audit::SlotCheckpoint>(&s.bytes).ok()
                })
                .map(|c| c.slot);
        }
        if self.last_slot.is_some_and(|l| l >= slot)
            || self
                .signing
                .iter()
                .any(|c| matches!(c, Checkpoint::Slot(_)))
        {
            return;
        }
        self.sign(Checkpoint::Slot(slot));
    }

    // ---- catch-up: sync status and ranges ---------------------------------------------------

    /// The heads announced under `a`: every member's own stream (0 when none is held), and
    /// every delegated stream held.
    pub(super) fn heads_for(
        &self,
        a: &accord_config::Agreement,
    ) -> Result<Vec<Head>, crate::store::StoreError> {
        let mut heads: BTreeMap<StreamId, StreamHead> = self
            .store
            .sync()
            .stream_heads(&a.id)?
            .into_iter()
            .filter(|(s, _)| a.is_member(s.agency_id()))
            .collect();
        for m in &a.members {
            heads.entry(StreamId::agency(m)).or_default();
        }
        Ok(heads
            .into_iter()
            .map(|(stream, h)| Head {
                stream,
                seq: h.seq,
                digest: h.digest,
            })
            .collect())
    }

    /// The full status for `peer`: every agreement shared with it, the slot checkpoint and the
    /// revocations.
    pub(super) fn status_for(&self, peer: &AgencyId) -> SyncStatus {
        self.status_of(peer, None)
    }

    /// The status for `peer`, of the agreements in `scope` if given, each with the heads of
    /// the streams its set names (all, for `None`): an answer names what the status it answers
    /// named (docs/protocol.md §6).
    ///
    /// An agreement's signatures go to a peer only until it has shown that it holds every
    /// member's: a status gives heads under an agreement only then. Otherwise each status
    /// would carry members × 64 bytes of signatures per agreement, to every member.
    pub(super) fn status_of(&self, peer: &AgencyId, scope: Option<&Scope>) -> SyncStatus {
        let mut agreements = Vec::new();
        for a in self
            .shared_with(peer)
            .filter(|a| scope.is_none_or(|o| o.contains_key(&a.id)))
        {
            // heads and digests describe the records held under the agreement: they go only to
            // a peer whose text of it is confirmed identical, once every member has signed it;
            // before that the status carries the text's hash and the signatures alone
            let mut heads =
                if self.confirmed.contains(&(a.id.clone(), peer.clone())) && a.fully_signed() {
                    match self.heads_for(a) {
                        Ok(h) => h,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot read heads");
                            continue;
                        }
                    }
                } else {
                    Vec::new()
                };
            if let Some(Some(streams)) = scope.and_then(|o| o.get(&a.id)) {
                heads.retain(|h| streams.contains(&h.stream));
            }
            let signatures = if self.signed_at.contains(&(a.id.clone(), peer.clone())) {
                Vec::new()
            } else {
                a.signatures.iter().map(|(m, s)| (m.clone(), *s)).collect()
            };
            agreements.push(AgreementStatus {
                agreement: a.id.clone(),
                agreement_hash: a.hash,
                heads,
                signatures,
            });
        }
        // the revocations of agencies this peer shares an agreement with
        let revocations = self
            .dir
            .revocations()
            .filter(|(agency, _)| self.shared_with(peer).any(|a| a.is_member(agency)))
            .map(|(_, s)| s.clone())
            .collect();
        // a partner is given the slot checkpoint, which moves once a slot whatever the log
        // did; an agency this node shares no agreement with learns nothing of the log at all
        let checkpoint = if agreements.is_empty() {
            None
        } else {
            self.store
                .checkpoints()
                .latest_slot_checkpoint()
                .ok()
                .flatten()
        };
        SyncStatus {
            agreements,
            checkpoint,
            revocations,
        }
    }

    pub(super) fn sync_all(&mut self) {
        let peers = self.connected();
        for peer in peers {
            self.sync_with(&peer);
        }
    }

    /// Tells each connected member of the agreements in `moved` the heads that moved there
    /// since the last announcement: the heads that relay records, with no signatures,
    /// checkpoint or revocations, which the full status at connect and every `sync_interval`
    /// carries (docs/protocol.md §6). An announcement goes out on the tick after records were
    /// stored, to every member of their agreements, so it names only the streams that moved
    /// and does not grow with the members. Each agreement's heads are read once, whatever the
    /// number of peers.
    pub(super) fn announce(&mut self, moved: &BTreeSet<AgreementId>) {
        let mut changed: BTreeMap<AgreementId, Vec<Head>> = BTreeMap::new();
        for id in moved {
            let Some(a) = self.cfg.agreements.get(id) else {
                continue;
            };
            let heads = match self.heads_for(a) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read heads");
                    continue;
                }
            };
            let before = self.announced.entry(id.clone()).or_default();
            let moved_heads: Vec<Head> = heads
                .iter()
                .filter(|h| before.get(&h.stream) != Some(&h.seq))
                .cloned()
                .collect();
            *before = heads.into_iter().map(|h| (h.stream, h.seq)).collect();
            if !moved_heads.is_empty() {
                changed.insert(id.clone(), moved_heads);
            }
        }
        if changed.is_empty() {
            return;
        }
        for peer in self.connected() {
            // heads go only where the text is confirmed and every member has signed it
            let agreements: Vec<AgreementStatus> = self
                .shared_with(&peer)
                .filter(|a| {
                    a.fully_signed() && self.confirmed.contains(&(a.id.clone(), peer.clone()))
                })
                .filter_map(|a| {
                    Some(AgreementStatus {
                        agreement: a.id.clone(),
                        agreement_hash: a.hash,
                        heads: changed.get(&a.id)?.clone(),
                        signatures: Vec::new(),
                    })
                })
                .collect();
            if agreements.is_empty() {
                continue;
            }
            let status = SyncStatus {
                agreements,
                checkpoint: None,
                revocations: Vec::new(),
            };
            self.send(
                &peer,
                &Message::SyncStatus(status),
                Pending::Sync { peer: peer.clone() },
            );
        }
    }

    pub(super) fn sync_with(&mut self, peer: &AgencyId) {
        let status = self.status_for(peer);
        if status.agreements.is_empty() {
            return;
        }
        self.send(
            peer,
            &Message::SyncStatus(status),
            Pending::Sync { peer: peer.clone() },
        );
    }

    /// Compares a peer's status with ours: confirms or flags each agreement's text, and asks for
    /// what the peer holds beyond our heads.
    pub(super) fn on_status(&mut self, peer: &AgencyId, status: SyncStatus) {
        // checkpoints are kept from, and given to, agreement partners only
        let partner = self.shared_with(peer).next().is_some();
        // a counted checkpoint (a node from before slot checkpoints) is not kept: it is not
        // what partners witness any more (docs/protocol.md §6, SyncStatus)
        let counted = |s: &accord_protocol::audit::Signed| {
            serde_json::from_slice::<accord_protocol::audit::Checkpoint>(&s.bytes).is_ok()
        };
        let seen = |s: &accord_protocol::audit::Signed| {
            self.checkpoints_seen.get(peer) == Some(&s.signature)
        };
        if let Some(signed) = status
            .checkpoint
            .as_ref()
            .filter(|s| partner && !seen(s) && !counted(s))
        {
            let key = self.dir.get(peer).copied();
            match accord_protocol::audit::verify_slot_checkpoint(signed, |a| {
                if a == peer { key } else { None }
            }) {
                Ok(c) => match self
                    .store
                    .checkpoints()
                    .keep_partner_slot_checkpoint(&c, signed)
                    .inspect(|kept| {
                        if !matches!(kept, crate::store::Kept::Forked { .. }) {
                            self.checkpoints_seen.insert(peer.clone(), signed.signature);
                        }
                    }) {
                    Ok(crate::store::Kept::Forked { .. }) => {
                        let raised = self.alarms.raise(
                            AlarmKind::AuditFork,
                            peer.as_str(),
                            fork_message(peer, &format!("slot {}", c.slot)),
                            self.now(),
                        );
                        self.alarm(raised);
                        self.emit(NodeEvent::rejected(
                            peer,
                            RejectCode::Equivocation,
                            format!("slot checkpoint {} contradicts the one held", c.slot),
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "cannot keep a partner's checkpoint"),
                },
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "refused a partner's audit checkpoint");
                    self.emit(NodeEvent::rejected(
                        peer,
                        RejectCode::BadSignature,
                        format!("audit checkpoint: {e}"),
                    ));
                }
            }
        }
        let mut revoked_any = false;
        for signed in &status.revocations {
            match self.take_revocation(peer, signed, None) {
                Ok(new) => revoked_any |= new,
                Err(TakeRevocation::Store(e)) => {
                    tracing::error!(%peer, error = %e, "cannot keep a revocation");
                }
                Err(TakeRevocation::Invalid(e)) => {
                    tracing::warn!(%peer, error = %e, "refused a revocation");
                    self.emit(NodeEvent::rejected(
                        peer,
                        RejectCode::BadSignature,
                        format!("revocation: {e}"),
                    ));
                }
            }
        }
        let mut behind = false;
        let mut newly_confirmed = false;
        let mut new_signatures = Vec::new();
        let cfg = self.cfg.clone();
        for st in status.agreements {
            let Some(a) = cfg.agreements.get(&st.agreement) else {
                continue;
            };
            if !a.is_member(peer) || !a.is_member(&self.cfg.agency) {
                tracing::warn!(%peer, agreement = %st.agreement, "sync status for an agreement the peer does not share with us; ignored");
                continue;
            }
            let pair = (a.id.clone(), peer.clone());
            if st.agreement_hash != a.hash {
                if self.mismatched.insert(pair.clone()) {
                    let raised = self.alarms.raise(
                        AlarmKind::AgreementMismatch,
                        format!("{}/{peer}", a.id),
                        format!(
                            "{peer} holds a different text of {} (its sha-256 {}, ours {}): \
                             nothing is shared under it with {peer} until the members install \
                             the same signed file",
                            a.id,
                            hex::encode(st.agreement_hash),
                            a.hash_hex()
                        ),
                        self.now(),
                    );
                    self.alarm(raised);
                    self.emit(NodeEvent::AgreementMismatch {
                        agreement: a.id.clone(),
                        peer: peer.clone(),
                    });
                }
                self.signed_at.remove(&pair);
                self.confirmed.remove(&pair);
                continue;
            }
            if self.mismatched.remove(&pair) {
                self.alarms
                    .clear(AlarmKind::AgreementMismatch, &format!("{}/{peer}", a.id));
            }
            if !st.heads.is_empty() {
                // heads are given only under an agreement every member has signed: the peer
                // holds every signature, and needs none of ours
                self.signed_at.insert(pair.clone());
            }
            newly_confirmed |= self.confirmed.insert(pair);
            for (signer, sig) in &st.signatures {
                if a.is_member(signer) && !a.signatures.contains_key(signer) {
                    new_signatures.push((a.id.clone(), signer.clone(), *sig));
                }
            }
            if !a.fully_signed() {
                continue; // nothing moves under it until every member has signed
            }
            if st.heads.is_empty() {
                // the peer has not confirmed our text yet, so it gave no heads (a full status
                // with heads names every member's stream, an announcement at least one): not
                // caught up with it; its next status will say
                behind = true;
                continue;
            }
            let ours = self.store.sync().stream_heads(&a.id).unwrap_or_default();
            self.heard_after_restore(&a.id, peer, &st.heads, &ours);
            let mut behind_here = false;
            let mut missing = 0u64;
            for theirs in st.heads {
                if !a.is_member(theirs.stream.agency_id()) {
                    continue;
                }
                let mine = ours.get(&theirs.stream).copied().unwrap_or_default();
                if theirs.seq > mine.seq
                    && self.left_to_originator(peer, &a.id, &theirs.stream, mine.seq, theirs.seq)
                {
                    continue;
                }
                if theirs.seq > mine.seq {
                    behind_here = true;
                    missing += theirs.seq - mine.seq;
                    self.fetch(peer, &a.id, &theirs.stream, mine.seq + 1, theirs.seq);
                } else if theirs.seq == mine.seq
                    && theirs.has_digest()
                    && mine.digest != [0; 32]
                    && theirs.digest != mine.digest
                {
                    self.digests_differ(peer, &a.id, &theirs.stream, mine.seq);
                }
            }
            if behind_here {
                behind = true;
                self.catch_ups.begin(&a.id, peer, missing, self.at);
            } else {
                // this peer holds nothing under the agreement that we lack
                self.last_catch_up.insert(a.id.clone(), self.now());
                if !self.fetching.keys().any(|(id, _)| *id == a.id) {
                    self.catch_ups.end(&a.id, self.at);
                }
            }
        }
        if self.collect_signatures(peer, new_signatures, None) || revoked_any {
            // the peers still lacking them learn them now; agreements that took effect start
            self.sync_all();
        } else if newly_confirmed {
            // the peer learns our heads, which it could not have before we confirmed its text
            self.sync_with(peer);
        }
        if !behind {
            self.emit(NodeEvent::CaughtUp { peer: peer.clone() });
        }
        // our side may have records the peer lacks: the push of our outbox goes now
        self.push(peer);
    }

    /// Whether records `held + 1 ..= theirs` of `stream`, which `peer` holds and we do not, are
    /// left to the stream's originator instead of pulled from `peer`: when the stream is the
    /// originator's own (a delegated key's stream is pulled like any other), the originator
    /// is connected with the agreement's text confirmed, and the gap is no more than
    /// [`LEFT_TO_PUSH_BATCHES`] pushes: its outbox is pushing them to us. A member relays to
    /// members the originator cannot reach, and an originator's status may show records its
    /// push has not yet brought; in a mesh where the push goes, pulling as well would carry
    /// and store each record twice. A longer gap (a member back from an outage) is pulled,
    /// in pipelined ranges. Not for ever: once the stream has made no progress past what was
    /// left for a `sync_interval`, it is pulled from `peer` after all.
    fn left_to_originator(
        &mut self,
        peer: &AgencyId,
        agreement: &AgreementId,
        stream: &StreamId,
        held: u64,
        theirs: u64,
    ) -> bool {
        let origin = stream.agency_id();
        let most = (self.net.push_batch.max(1) * LEFT_TO_PUSH_BATCHES) as u64;
        if stream.is_delegated()
            || *origin == self.cfg.agency
            || theirs.saturating_sub(held) > most
            || !self.is_connected(origin)
            || !self
                .confirmed
                .contains(&(agreement.clone(), origin.clone()))
        {
            return false;
        }
        let key = (agreement.clone(), stream.clone());
        let now = self.at;
        match self.left_to_originator.get(&key).copied() {
            Some((since, upto)) if held < upto => {
                if now.duration_since(since) < self.net.sync_interval {
                    return true;
                }
                self.left_to_originator.remove(&key);
                tracing::info!(%peer, %agreement, %stream, held,
                    "the originator has not pushed what a member relays: pulling it from the member");
                false
            }
            _ => {
                // new, or progress was made past what was left: wait again from now
                self.left_to_originator.insert(key, (now, theirs));
                true
            }
        }
    }

    /// After a restore from an older backup, own publishing under an agreement waits until
    /// each member's status shows that it holds nothing of our own stream beyond what we hold
    /// (`Own::restore_waiting`); this notes a member whose status shows that.
    pub(super) fn heard_after_restore(
        &self,
        agreement: &AgreementId,
        peer: &AgencyId,
        theirs: &[accord_protocol::wire::Head],
        ours: &std::collections::BTreeMap<StreamId, crate::store::StreamHead>,
    ) {
        if !self.store.own().restored().unwrap_or(false) {
            return;
        }
        let own = StreamId::agency(&self.cfg.agency);
        // an announcement names only the streams that moved: one without ours says nothing
        // of what the member holds of it
        let Some(held_there) = theirs.iter().find(|h| h.stream == own).map(|h| h.seq) else {
            return;
        };
        let held_here = ours.get(&own).map_or(0, |h| h.seq);
        if held_there > held_here {
            return; // the catch-up fetches them; a later status says
        }
        match self.store.own().heard_after_restore(agreement, peer) {
            Ok(true) => tracing::info!(
                %agreement, %peer, seq = held_here,
                "after the restore, this member holds nothing newer of ours"
            ),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot note a status after the restore"),
        }
    }

    /// The peer holds as many records of `stream` as we do, but not the same ones: under some
    /// seq it holds another record than ours. Its whole range `1 ..= seq` is asked for and
    /// goes through the receive path, which keeps the other record as evidence and raises the
    /// alarm. Not asked again for a stream already known to equivocate, nor of the same peer
    /// within [`DIGEST_RECHECK`] (a member announcing false digests cannot make us pull the
    /// stream again and again).
    pub(super) fn digests_differ(
        &mut self,
        peer: &AgencyId,
        agreement: &AgreementId,
        stream: &StreamId,
        seq: u64,
    ) {
        if self
            .store
            .sync()
            .has_equivocation(agreement, stream)
            .unwrap_or(false)
        {
            return;
        }
        let key = (agreement.clone(), stream.clone(), peer.clone());
        let now = self.at;
        if self
            .digest_checks
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < DIGEST_RECHECK)
        {
            return;
        }
        self.digest_checks.insert(key, now);
        tracing::warn!(%peer, %agreement, %stream, seq,
            "stream digests differ at the same head: asking for the peer's records to compare");
        self.fetch(peer, agreement, stream, 1, seq);
    }
}
