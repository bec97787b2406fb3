//! Pushing the outbox to members: one push in flight per peer, sent once its `send` entries
//! are durable, and settled by the peer's ack and its receipts.

use super::*;

impl Core {
    /// Sends `message` once its `send` entries are durable: a [`SendJob`] writes and flushes
    /// them off the loop and hands the frame back ([`Core::on_sent`]), so no record leaves the
    /// node before the entry that says it was sent, and the loop does not wait for the disk.
    pub(super) fn send_durably(
        &mut self,
        sends: Vec<AuditEvent>,
        message: Message,
        target: Target,
    ) {
        let job = SendJob {
            store: self.store.clone(),
            now: self.now(),
            sends,
            message,
            target,
        };
        self.run(Job::SendDurably(job));
    }

    /// A [`SendJob`] is done: the frame leaves now, or, when its entries could not be made
    /// durable, nothing leaves (a push is tried again later; a range answer is refused as
    /// busy, and the peer asks again).
    pub(super) fn on_sent(&mut self, sent: Sent) {
        let records = sent.records;
        match (sent.target, sent.frame) {
            (Target::Request { peer, pending }, Ok(frame)) => {
                if matches!(pending, Pending::Push { .. }) {
                    self.logged_sends
                        .entry(peer.clone())
                        .or_default()
                        .extend(records.iter().copied());
                }
                let bytes = frame.bytes.len();
                self.send_frame(&peer, frame, pending);
                self.observe_sent(NodeEvent::Sent {
                    to: peer,
                    records,
                    bytes,
                });
            }
            (Target::Request { peer, pending }, Err(e)) => {
                tracing::error!(to = %peer, error = %e, "not sent: its send entries are not durable");
                self.clear(pending);
            }
            (Target::Response { to, id }, Ok(frame)) => {
                let bytes = frame.bytes.len();
                self.metrics.wire_sent(&frame.bytes);
                self.effects.push(Effect::Answer {
                    to: to.clone(),
                    id,
                    frame,
                });
                self.observe_sent(NodeEvent::Sent { to, records, bytes });
            }
            (Target::Response { to, id }, Err(e)) => {
                tracing::error!(%to, error = %e, "range answer not sent: its send entries are not durable");
                let reply = Message::Refused(Refusal {
                    code: RejectCode::Busy,
                    detail: truncate(format!("store: {e}")),
                });
                self.respond(id, &reply, &to);
            }
        }
    }

    pub(super) fn send(&mut self, agency: &AgencyId, msg: &Message, pending: Pending) {
        match msg.encode() {
            Ok(bytes) => self.send_frame(agency, Frame::new(bytes), pending),
            Err(e) => {
                tracing::error!(to = %agency, error = %e, "cannot encode a message");
                self.clear(pending);
            }
        }
    }

    pub(super) fn send_frame(&mut self, agency: &AgencyId, frame: Frame, pending: Pending) {
        if !self.addresses.contains_key(agency) {
            self.clear(pending);
            return;
        }
        let id = self.request_id();
        self.pending.insert(id, pending);
        self.metrics.wire_sent(&frame.bytes);
        self.effects.push(Effect::Send {
            to: agency.clone(),
            id,
            frame,
        });
    }

    pub(super) fn respond(&mut self, id: InboundId, msg: &Message, to: &AgencyId) {
        match msg.encode() {
            Ok(bytes) => {
                self.metrics.wire_sent(&bytes);
                self.effects.push(Effect::Answer {
                    to: to.clone(),
                    id,
                    frame: Frame::new(bytes),
                });
            }
            Err(e) => tracing::error!(%to, error = %e, "cannot encode a response"),
        }
    }

    // ---- delivery: the outbox -------------------------------------------------------------

    pub(super) fn push_all(&mut self) {
        let peers = self.connected();
        for peer in peers {
            self.push(&peer);
        }
    }

    /// Sends the next batch of `peer`'s outbox, if none is in flight. Every record is checked
    /// with `may_send` first (invariant 1), and only under agreements whose text is confirmed
    /// identical with the peer.
    pub(super) fn push(&mut self, peer: &AgencyId) {
        if self.pushing.contains(peer)
            || self.push_retry.get(peer).is_some_and(|r| self.at < r.next)
        {
            return;
        }
        // agreements not confirmed with the peer, or not signed by every member, wait
        let hold = |a: &AgreementId| {
            !self.confirmed.contains(&(a.clone(), peer.clone()))
                || self
                    .cfg
                    .agreements
                    .get(a)
                    .is_some_and(|x| !x.fully_signed())
        };
        let batch = match self
            .store
            .outbox()
            .for_peer(peer, self.net.push_batch, hold)
        {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                return;
            }
        };
        if batch.is_empty()
            && let Some(n) = self.delivered_since_drain.remove(peer).filter(|n| *n > 0)
        {
            tracing::info!(%peer, delivered = n, "outbox to {peer} drained: {n} record(s) delivered");
        }
        let now = self.now();
        let (mut keys, mut ids, mut records, mut dropped) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut withheld, mut sends) = (Vec::new(), super::Sends::default());
        let mut bytes = 0;
        for (key, env) in batch {
            // a batch stays within both bounds (a single record larger than the byte bound
            // still goes, alone: the wire's own limit is far above any envelope)
            if records.len() >= self.net.push_batch
                || (!records.is_empty() && bytes + env.encoded_len() > self.net.push_bytes)
            {
                break;
            }
            let mut withhold = |key, reason: String| {
                tracing::warn!(to = %peer, id = %env.id(), %reason, "not sending an outbox record; dropped from the outbox");
                withheld.push(AuditEvent::Withheld {
                    record: env.id(),
                    to: peer.clone(),
                    code: 0,
                    reason,
                });
                dropped.push(key);
            };
            let record = match accord_protocol::canonical::parse_record_json(env.record_bytes()) {
                Ok(r) => r,
                Err(e) => {
                    withhold(key, format!("its record does not decode: {e}"));
                    continue;
                }
            };
            // (entries of agreements not confirmed with the peer or not yet signed by every
            // member were passed over by `hold`)
            let Some(agreement) = self.cfg.agreements.get(&record.agreement) else {
                withhold(
                    key,
                    format!(
                        "agreement {} is no longer in this node's configuration",
                        record.agreement
                    ),
                );
                continue;
            };
            if let Some(reason) =
                may_send(&record, env.approvals().len(), agreement, peer, now).reason()
            {
                withhold(key, reason.to_string());
                continue;
            }
            bytes += env.encoded_len();
            // a record pushed before and still unsettled has its `send` entry already
            if !self
                .logged_sends
                .get(peer)
                .is_some_and(|s| s.contains(&env.id()))
            {
                sends.add(env.id(), record);
            }
            ids.push(env.id());
            keys.push(key);
            records.push(env);
        }
        if let Some(logged) = self.logged_sends.get_mut(peer) {
            for w in &withheld {
                if let AuditEvent::Withheld { record, .. } = w {
                    logged.remove(record);
                }
            }
        }
        // the withheld entries leave the outbox in the batch that logs them
        if let Err(e) = self
            .store
            .outbox()
            .settle(now, &dropped, Vec::new(), withheld)
        {
            tracing::error!(error = %e, "cannot update the outbox and its audit entries");
        }
        if records.is_empty() {
            return;
        }
        tracing::debug!(to = %peer, records = records.len(), "push");
        #[cfg(test)]
        if self.fault_push_to_all {
            let push = Message::Push(Push {
                records: records.clone(),
            });
            for other in self.connected().into_iter().filter(|p| p != peer) {
                self.send(
                    &other,
                    &push,
                    Pending::Sync {
                        peer: other.clone(),
                    },
                );
            }
        }
        self.pushing.insert(peer.clone());
        self.send_durably(
            sends.entries(peer),
            Message::Push(Push { records }),
            Target::Request {
                peer: peer.clone(),
                pending: Pending::Push {
                    peer: peer.clone(),
                    keys,
                    ids,
                },
            },
        );
    }

    /// A peer acknowledged our push and its receipts are checked ([`Acked::check`]).
    pub(super) fn on_ack(&mut self, acked: Acked) {
        let Acked {
            peer,
            keys,
            ids,
            results,
            receipts,
        } = acked;
        self.pushing.remove(&peer);
        if results.len() != ids.len() {
            tracing::warn!(%peer, "ack does not match the push; will retry");
            self.push_failed(&peer, "its acknowledgement did not match the push");
            return;
        }
        let (mut done, mut delivered, mut refused) = (Vec::new(), Vec::new(), Vec::new());
        // the audit entries of the deliveries: `delivered` per record with a receipt of
        // version 1, `delivered-push` per batch receipt (hash, agreement, records)
        let mut entries = Vec::new();
        let mut pushed: Vec<(accord_protocol::audit::Digest32, AgreementId, Vec<RecordId>)> =
            Vec::new();
        let mut retry_later = false;
        let mut clock_checked = false;
        for ((key, id), entry) in keys.into_iter().zip(ids).zip(results) {
            match entry {
                AckEntry::Stored(got) | AckEntry::Duplicate(got) if got == id => {
                    // a receipt counts only for the agreement the record was sent under (the
                    // outbox key names it), so a peer cannot have the delivery logged under
                    // another
                    let sent_under = key.agreement();
                    match receipts
                        .get(&id)
                        .filter(|p| sent_under == Some(&p.agreement))
                    {
                        Some(proof) => {
                            if !clock_checked {
                                clock_checked = true;
                                self.check_clock(&peer, &proof.receipt.bytes);
                            }
                            let hash = accord_protocol::audit::sha256(&proof.receipt.bytes);
                            if proof.batch {
                                // one `delivered-push` entry per batch receipt, its records
                                // in the order of the push (the receipt's leaves)
                                match pushed.iter_mut().find(|(h, _, _)| *h == hash) {
                                    Some((_, _, records)) => records.push(id),
                                    None => pushed.push((hash, proof.agreement.clone(), vec![id])),
                                }
                            } else {
                                entries.push(AuditEvent::Delivered {
                                    record: id,
                                    agreement: proof.agreement.clone(),
                                    to: peer.clone(),
                                    receipt: hash,
                                });
                            }
                            delivered.push(crate::store::Delivery {
                                outbox: Some(key),
                                record: id,
                                receiver: peer.clone(),
                                receipt: proof.receipt.clone(),
                            });
                            self.emit(NodeEvent::Delivered {
                                id,
                                to: peer.clone(),
                            });
                        }
                        None => {
                            tracing::warn!(%peer, %id, "acknowledged without a valid signed receipt");
                            let detail = format!(
                                "ack of {id} without a valid signed receipt for its agreement"
                            );
                            // its `reject` entry goes in the batch that clears the outbox entry
                            refused.push(AuditEvent::Reject {
                                from: peer.clone(),
                                code: RejectCode::BadSignature.code(),
                                reason: detail.clone(),
                            });
                            self.emit_unlogged(NodeEvent::rejected(
                                &peer,
                                RejectCode::BadSignature,
                                detail,
                            ));
                            done.push(key);
                        }
                    }
                }
                AckEntry::Stored(_) | AckEntry::Duplicate(_) => {
                    tracing::warn!(%peer, %id, "ack names another record; will retry");
                }
                AckEntry::Rejected { code, detail } => {
                    let detail_for_audit = detail.clone();
                    let transient = matches!(
                        code,
                        RejectCode::Busy
                            | RejectCode::AgreementMismatch
                            | RejectCode::AgreementNotSigned
                    );
                    retry_later |= transient;
                    tracing::warn!(%peer, %id, code = code.code(), %detail, transient, "peer refused our record");
                    self.emit(NodeEvent::RefusedByPeer {
                        peer: peer.clone(),
                        code: code.code(),
                        detail,
                    });
                    if !transient {
                        refused.push(AuditEvent::Withheld {
                            record: id,
                            to: peer.clone(),
                            code: code.code(),
                            reason: detail_for_audit.clone(),
                        });
                        done.push(key);
                    }
                }
            }
        }
        *self.delivered_since_drain.entry(peer.clone()).or_default() += delivered.len() as u64;
        if let Some(logged) = self.logged_sends.get_mut(&peer) {
            for d in &delivered {
                logged.remove(&d.record);
            }
            for r in &refused {
                if let AuditEvent::Withheld { record, .. } = r {
                    logged.remove(record);
                }
            }
        }
        if !delivered.is_empty() || !done.is_empty() {
            self.push_succeeded(&peer);
        } else if retry_later {
            self.push_failed(&peer, "it refused the records for now (busy)");
        } else {
            self.push_failed(&peer, "its acknowledgement settled none of the records");
        }
        entries.extend(pushed.into_iter().map(|(receipt, agreement, records)| {
            AuditEvent::DeliveredPush {
                records,
                agreement,
                to: peer.clone(),
                receipt,
            }
        }));
        entries.extend(refused);
        // receipts, refusals and the outbox entries they settle: one batch
        if let Err(e) = self
            .store
            .outbox()
            .settle(self.now(), &done, delivered, entries)
        {
            tracing::error!(error = %e, "cannot record deliveries and refusals");
        }
        if !retry_later {
            // a transient refusal waits for the next tick instead of being resent at once
            self.push(&peer);
        }
    }

    /// A push to `peer` failed: the next waits longer (doubling from `push_retry_min` up to
    /// `push_retry_max`, with jitter so retries of many peers do not fall together), the
    /// failure is counted, and after [`PUSH_FAILURES_FOR_ALARM`] in a row the peer is
    /// reported by an alarm.
    pub(super) fn push_failed(&mut self, peer: &AgencyId, why: &str) {
        let jitter = self.jitter();
        let at = self.at;
        let r = self.push_retry.entry(peer.clone()).or_insert(PushRetry {
            failures: 0,
            next: at,
        });
        r.failures = r.failures.saturating_add(1);
        let base = self
            .net
            .push_retry_min
            .saturating_mul(1u32 << (r.failures - 1).min(16))
            .min(self.net.push_retry_max);
        // jitter: between half and one and a half of the base
        let wait = base.mul_f64(0.5 + jitter);
        r.next = at + wait;
        let failures = r.failures;
        self.metrics.push_failed(peer);
        tracing::debug!(%peer, failures, ?wait, why, "push failed; trying again later");
        if failures >= PUSH_FAILURES_FOR_ALARM {
            let raised = self.alarms.raise(
                AlarmKind::PushesFailing,
                peer.as_str(),
                format!(
                    "{peer} has not acknowledged {failures} pushes in a row (last: {why}); its \
                     records wait in the outbox and are tried again at longer intervals (next \
                     in {:.0} s)",
                    wait.as_secs_f64()
                ),
                self.now(),
            );
            self.alarm(raised);
        }
    }

    /// A push to `peer` settled records: its back-off ends, and so does its alarm.
    pub(super) fn push_succeeded(&mut self, peer: &AgencyId) {
        if self.push_retry.remove(peer).is_some() {
            self.alarms.clear(AlarmKind::PushesFailing, peer.as_str());
        }
    }

    pub(super) fn clear(&mut self, pending: Pending) {
        match pending {
            Pending::Push { peer, .. } => {
                self.pushing.remove(&peer);
                self.push_failed(&peer, "no valid answer");
            }
            Pending::Range {
                agreement, stream, ..
            } => {
                self.range_failed(&(agreement, stream));
            }
            Pending::Sync { .. } => {}
            Pending::Ask { reply } => {
                let _ = reply.send(Err("no valid answer".into()));
            }
        }
    }
}
