//! Catching up: range requests made and answered, and the receive jobs that verify, check
//! and store what a peer sends.

use super::*;

impl Core {
    pub(super) fn fetch(
        &mut self,
        peer: &AgencyId,
        agreement: &AgreementId,
        stream: &StreamId,
        from: u64,
        to: u64,
    ) {
        let key = (agreement.clone(), stream.clone());
        if self.fetching.contains(&key) {
            return;
        }
        let (Ok(from), Ok(to)) = (Seq::new(from), Seq::new(to)) else {
            return;
        };
        self.fetching.insert(key);
        let req = RangeRequest {
            agreement: agreement.clone(),
            stream: stream.clone(),
            from,
            to,
        };
        self.send(
            peer,
            &Message::RangeRequest(req),
            Pending::Range {
                peer: peer.clone(),
                agreement: agreement.clone(),
                stream: stream.clone(),
                from,
                to,
            },
        );
    }

    /// Answers a range request, after checking that the requester is a member and shares the
    /// same agreement text (invariant 1 on the answering side).
    /// Returns the answer and the `send` entries of the records it holds.
    pub(super) fn answer_range(
        &mut self,
        peer: &AgencyId,
        req: &RangeRequest,
    ) -> (Message, Vec<AuditEvent>) {
        let refuse = |code: RejectCode, detail: String| {
            (
                Message::Refused(Refusal {
                    code,
                    detail: truncate(detail),
                }),
                Vec::new(),
            )
        };
        let cfg = self.cfg.clone();
        let Some(a) = cfg.agreements.get(&req.agreement) else {
            return refuse(
                RejectCode::AgreementNotInForce,
                format!("agreement {} is unknown here", req.agreement),
            );
        };
        if !a.is_member(peer) {
            tracing::warn!(%peer, agreement = %a.id, "range request from a non-member refused");
            self.emit(NodeEvent::rejected(
                peer,
                RejectCode::NotMember,
                format!("range request under {}", a.id),
            ));
            return refuse(
                RejectCode::NotMember,
                format!("{peer} is not a member of {}", a.id),
            );
        }
        if !self.confirmed.contains(&(a.id.clone(), peer.clone())) {
            return refuse(
                RejectCode::AgreementMismatch,
                format!(
                    "the text of {} is not confirmed identical with {peer}",
                    a.id
                ),
            );
        }
        let (envs, complete) = match self.store.sync().range(
            &req.agreement,
            &req.stream,
            req.from,
            req.to,
            self.net.range_batch,
            self.net.push_bytes,
        ) {
            Ok(r) => r,
            Err(e) => return refuse(RejectCode::Busy, format!("store: {e}")),
        };
        // every record answered passes may_send for this peer
        let now = self.now();
        let mut sends = Vec::new();
        let records: Vec<accord_protocol::Envelope> = envs
            .into_iter()
            .filter(
                |env| match accord_protocol::canonical::parse_record_json(env.record_bytes()) {
                    Ok(r) if may_send(&r, a, peer, now).is_allowed() => {
                        sends.push(send_event(peer, env.id(), r));
                        true
                    }
                    _ => false,
                },
            )
            .collect();
        let answer = Message::RangeResponse(RangeResponse {
            agreement: req.agreement.clone(),
            stream: req.stream.clone(),
            records,
            complete,
        });
        (answer, sends)
    }

    pub(super) fn on_range_response(
        &mut self,
        peer: AgencyId,
        agreement: AgreementId,
        stream: StreamId,
        (from, to): (Seq, Seq),
        resp: RangeResponse,
    ) {
        if resp.agreement != agreement || resp.stream != stream {
            self.fetching.remove(&(agreement, stream));
            tracing::warn!(%peer, "range response for another range; ignored");
            return;
        }
        let (a_id, s_id) = (agreement.clone(), stream.clone());
        let screen = move |r: &accord_protocol::SignedRecord| {
            if r.record.agreement != a_id || r.stream() != s_id || r.record.seq > to {
                Err((
                    RejectCode::Malformed,
                    "not in the range asked for".to_owned(),
                ))
            } else {
                Ok(())
            }
        };
        let got = resp.records.len();
        // the range stays in `fetching` until its records are stored
        self.start_receive(
            &peer,
            resp.records,
            Box::new(screen),
            Origin::Range {
                agreement,
                stream,
                from,
                to,
                got,
            },
        );
    }

    /// Hands received records to a job on the blocking pool (module `inbound`).
    pub(super) fn start_receive(
        &mut self,
        peer: &AgencyId,
        envelopes: Vec<accord_protocol::Envelope>,
        screen: OwnedScreen,
        origin: Origin,
    ) {
        if matches!(origin, Origin::Push(_)) {
            *self.receiving.entry(peer.clone()).or_insert(0) += 1;
        }
        let job = super::super::inbound::Job {
            store: self.store.clone(),
            cfg: self.cfg.clone(),
            dir: self.dir.clone(),
            key: self.key.clone(),
            sender: peer.clone(),
            envelopes,
            screen,
            origin,
            now: self.now(),
        };
        self.run(Job::Receive(job));
    }

    /// A receive job finished: publish its events, then answer whoever it was for.
    pub(super) fn finish_receive(&mut self, done: Done) {
        let Done {
            sender,
            origin,
            result,
            receipts,
        } = done;
        if matches!(origin, Origin::Push(_))
            && let Some(n) = self.receiving.get_mut(&sender)
        {
            *n = n.saturating_sub(1);
        }
        let acks = match result {
            Ok(r) => {
                log_received(&sender, &origin, &r.acks);
                // relay: tell the agreements' other members our new heads
                self.announce
                    .extend(r.stored.iter().map(|(_, agreement)| agreement.clone()));
                // the receive job logged and flushed its refusals before answering
                for e in r.events {
                    self.emit_unlogged(e);
                }
                Some(r.acks)
            }
            Err(e) => {
                tracing::error!(error = %e, "store failed while receiving");
                None
            }
        };
        match origin {
            Origin::Push(channel) => {
                let reply = match acks {
                    Some(results) => Message::Ack(Ack { results, receipts }),
                    None => Message::Refused(Refusal {
                        code: RejectCode::Busy,
                        detail: "the store failed; try again".to_owned(),
                    }),
                };
                self.respond(channel, &reply, &sender);
            }
            Origin::Import(reply) => {
                let _ = reply.send(acks.unwrap_or_default());
            }
            Origin::Range {
                agreement,
                stream,
                from,
                to,
                got,
            } => {
                self.fetching.remove(&(agreement.clone(), stream.clone()));
                let now = self.at;
                self.catch_ups.fetched(&agreement, got as u64, now);
                self.metrics.catch_up(&agreement, got as u64);
                let head = self
                    .store
                    .sync()
                    .heads(&agreement)
                    .ok()
                    .and_then(|h| h.get(&stream).copied())
                    .unwrap_or(0);
                // past what we hold, and past what this answer covered (a range asked for to
                // compare records we already hold, after the stream digests differed)
                let next = (head + 1).max(from.get().saturating_add(got as u64));
                if next <= to.get() && got > 0 && self.is_connected(&sender) {
                    self.fetch(&sender, &agreement, &stream, next, to.get());
                } else {
                    if !self.fetching.iter().any(|(id, _)| *id == agreement) {
                        self.catch_ups.end(&agreement, now);
                    }
                    self.last_catch_up.insert(agreement, self.now());
                }
            }
        }
    }
}

/// One INFO line per batch of records received (push, range answer or import) that stored or
/// refused anything: counts, not one line per record. Batches of records already held only
/// go to DEBUG.
fn log_received(sender: &AgencyId, origin: &Origin, acks: &[AckEntry]) {
    let (mut stored, mut held, mut refused) = (0usize, 0usize, 0usize);
    for a in acks {
        match a {
            AckEntry::Stored(_) => stored += 1,
            AckEntry::Duplicate(_) => held += 1,
            AckEntry::Rejected { .. } => refused += 1,
        }
    }
    let how = match origin {
        Origin::Push(_) => "push",
        Origin::Range { .. } => "range answer",
        Origin::Import(_) => "import",
    };
    if stored > 0 || refused > 0 {
        tracing::info!(from = %sender, stored, already_held = held, refused,
            "received {} record(s) from {sender} by {how}: {stored} stored, {held} already held, {refused} refused",
            acks.len());
    } else if held > 0 {
        tracing::debug!(from = %sender, already_held = held, "received records already held by {how}");
    }
}
