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
        if self.fetching.contains_key(&key) || from == 0 || from > to {
            return;
        }
        self.fetching.insert(
            key.clone(),
            Fetch {
                peer: peer.clone(),
                next: from,
                to,
                in_flight: 0,
            },
        );
        self.fill_fetch(&key);
    }

    /// Asks for the next parts of a fetched stream, up to [`RANGES_IN_FLIGHT`] requests of at
    /// most `range_batch` records in flight; one at a time while the seqs asked for are held
    /// already (a range fetched to compare, after the stream digests differed).
    fn fill_fetch(&mut self, key: &(AgreementId, StreamId)) {
        let held = self
            .store
            .sync()
            .heads(&key.0)
            .ok()
            .and_then(|h| h.get(&key.1).copied())
            .unwrap_or(0);
        let batch = self.net.range_batch.max(1) as u64;
        loop {
            let Some(f) = self.fetching.get_mut(key) else {
                return;
            };
            let most = if f.next <= held { 1 } else { RANGES_IN_FLIGHT };
            if f.in_flight >= most || f.next > f.to {
                return;
            }
            let (from, to) = (f.next, f.to.min(f.next.saturating_add(batch - 1)));
            f.next = to + 1;
            f.in_flight += 1;
            let peer = f.peer.clone();
            self.ask_range(&peer, key, from, to);
        }
    }

    /// One range request, counted in flight by the caller.
    fn ask_range(&mut self, peer: &AgencyId, key: &(AgreementId, StreamId), from: u64, to: u64) {
        let (Ok(from), Ok(to)) = (Seq::new(from), Seq::new(to)) else {
            self.range_failed(key);
            return;
        };
        let req = RangeRequest {
            agreement: key.0.clone(),
            stream: key.1.clone(),
            from,
            to,
        };
        self.send(
            peer,
            &Message::RangeRequest(req),
            Pending::Range {
                peer: peer.clone(),
                agreement: key.0.clone(),
                stream: key.1.clone(),
                from,
                to,
            },
        );
    }

    /// A range request of a fetched stream ended without records to store (no answer, a
    /// refusal, an answer for another range): nothing more is asked of the stream, and the fetch
    /// ends when its other requests have. Whether it ended.
    pub(super) fn range_failed(&mut self, key: &(AgreementId, StreamId)) -> bool {
        let Some(f) = self.fetching.get_mut(key) else {
            return true;
        };
        f.next = f.to.saturating_add(1);
        f.in_flight = f.in_flight.saturating_sub(1);
        if f.in_flight == 0 {
            self.fetching.remove(key);
            return true;
        }
        false
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
        let mut sends = super::Sends::default();
        let records: Vec<accord_protocol::Envelope> = envs
            .into_iter()
            .filter(
                |env| match accord_protocol::canonical::parse_record_json(env.record_bytes()) {
                    Ok(r) if may_send(&r, env.approvals().len(), a, peer, now).is_allowed() => {
                        sends.add(env.id(), r);
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
        (answer, sends.entries(peer))
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
            self.range_failed(&(agreement, stream));
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
                let key = (agreement.clone(), stream.clone());
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
                let going = got > 0 && self.is_connected(&sender);
                let ended = if !going {
                    // the peer holds no more of the stream, or is gone: ask nothing more
                    self.range_failed(&key)
                } else if next <= to.get() {
                    // an answer cut short by its size: the rest of this request, asked again
                    self.ask_range(&sender, &key, next, to.get());
                    false
                } else {
                    if let Some(f) = self.fetching.get_mut(&key) {
                        f.in_flight = f.in_flight.saturating_sub(1);
                        // what this answer covered, and what we now hold, is not asked again
                        f.next = f.next.max(next);
                    }
                    self.fill_fetch(&key);
                    match self.fetching.get(&key) {
                        Some(f) if f.in_flight == 0 => {
                            self.fetching.remove(&key);
                            true
                        }
                        Some(_) => false,
                        None => true,
                    }
                };
                if ended {
                    if !self.fetching.keys().any(|(id, _)| *id == agreement) {
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
