//! Requests and responses of accord's protocol as they arrive: each checked
//! (membership, budget) and handed to its handler.

use super::*;

impl Core {
    /// Our request `id` got no answer.
    pub(super) fn request_failed(&mut self, id: RequestId, error: &str) {
        match self.pending.remove(&id) {
            Some(Pending::Push { peer, .. }) => {
                self.pushing.remove(&peer);
                self.push_failed(&peer, &format!("the push failed: {error}"));
            }
            Some(Pending::Range {
                agreement, stream, ..
            }) => {
                self.range_failed(&(agreement, stream));
            }
            Some(Pending::Ask { reply }) => {
                let _ = reply.send(Err(format!("no answer: {error}")));
            }
            _ => {}
        }
    }

    /// A timeout, a dropped stream or an answer omitted after the peer left: not a refusal of
    /// the peer's input (an oversized or malformed request is answered and logged in
    /// `on_request`), so only the log says it.
    pub(super) fn request_cut_off(&mut self, who: String, error: &str) {
        self.metrics.inbound_failed(&who);
        self.tally.note(
            "request-cut-off",
            who.clone(),
            format!("a request from {who} was cut off or timed out before it was read: {error}"),
            self.at,
        );
    }

    pub(super) fn on_request(&mut self, agency: AgencyId, request: Frame, channel: InboundId) {
        if self.shed_request(&agency) {
            let reply = Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail: format!(
                    "more than {REFUSAL_BUDGET} of your requests' contents were refused within a \
                     second; requests are refused unread until it passes"
                ),
            });
            self.respond(channel, &reply, &agency);
            return;
        }
        // a request whose body ended or stalled before its announced length: refused, logged
        // (at most once a minute per peer, with the count) and counted
        if let Some((got, announced)) = request.cut_off {
            self.metrics.inbound_failed(agency.as_str());
            self.tally.note(
                "request-cut-off",
                agency.to_string(),
                format!(
                    "a request from {agency} ended after {got} of the {announced} bytes it announced"
                ),
                self.at,
            );
            let detail =
                format!("the request ended after {got} of the {announced} bytes announced");
            self.emit(NodeEvent::rejected(
                &agency,
                RejectCode::Malformed,
                detail.clone(),
            ));
            let reply = Message::Refused(Refusal {
                code: RejectCode::Malformed,
                detail,
            });
            self.respond(channel, &reply, &agency);
            return;
        }
        // a frame the codec did not read because the node's inbound budget was spent: refused
        // busy (the sender tries again later), logged, and counted against the sender
        if let Some(size) = request.over_budget {
            let detail = format!(
                "a request of {size} bytes was not read: the node is reading as much as it buffers \
                 ({} MiB); try again",
                crate::net::codec::INBOUND_BUDGET_BYTES >> 20
            );
            tracing::warn!(from = %agency, size, "request not read: the inbound budget is spent");
            self.emit(NodeEvent::rejected(
                &agency,
                RejectCode::Busy,
                detail.clone(),
            ));
            let reply = Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail,
            });
            self.respond(channel, &reply, &agency);
            return;
        }
        // a frame announcing more than the limit was left unread by the codec; it is refused
        // as the decoder refuses any oversized frame
        let decoded = match request.oversized {
            Some(size) => Err(accord_protocol::wire::WireError::FrameTooLarge {
                size,
                max: accord_protocol::wire::MAX_FRAME_BYTES,
            }),
            None => Message::decode(&request.bytes),
        };
        let msg = match decoded {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(from = %agency, error = %e, "malformed request refused");
                self.emit(NodeEvent::rejected(
                    &agency,
                    RejectCode::Malformed,
                    e.to_string(),
                ));
                let reply = Message::Refused(Refusal {
                    code: RejectCode::Malformed,
                    detail: truncate(e.to_string()),
                });
                self.respond(channel, &reply, &agency);
                return;
            }
        };
        let reply = match msg {
            Message::Push(push) => {
                if self.receiving.get(&agency).copied().unwrap_or(0) >= PUSHES_IN_FLIGHT {
                    tracing::debug!(from = %agency, "busy: pushes of this peer still being stored");
                    let reply = Message::Refused(Refusal {
                        code: RejectCode::Busy,
                        detail: format!(
                            "{PUSHES_IN_FLIGHT} pushes of yours are still being stored; try again"
                        ),
                    });
                    self.respond(channel, &reply, &agency);
                    return;
                }
                let confirmed: BTreeSet<AgreementId> = self
                    .confirmed
                    .iter()
                    .filter(|(_, p)| *p == agency)
                    .map(|(a, _)| a.clone())
                    .collect();
                let peer = agency.clone();
                let screen = move |r: &accord_protocol::SignedRecord| {
                    if confirmed.contains(&r.record.agreement) {
                        Ok(())
                    } else {
                        Err((
                            RejectCode::AgreementMismatch,
                            format!(
                                "the text of {} is not confirmed identical with {peer}",
                                r.record.agreement
                            ),
                        ))
                    }
                };
                // answered when the job is done: after verification and the flush
                self.start_receive(
                    &agency,
                    push.records,
                    Box::new(screen),
                    Origin::Push(channel),
                );
                return;
            }
            Message::SyncStatus(status) => {
                // the answer names the agreements and streams the status named, every
                // stream of an agreement it gave no heads under (docs/protocol.md §6)
                let named: Scope = status
                    .agreements
                    .iter()
                    .map(|a| {
                        let streams = (!a.heads.is_empty())
                            .then(|| a.heads.iter().map(|h| h.stream.clone()).collect());
                        (a.agreement.clone(), streams)
                    })
                    .collect();
                // the peer's status first: it may confirm an agreement's text, and then our
                // answer can carry the heads under it
                self.on_status(&agency, status);
                Message::SyncStatus(self.status_of(&agency, Some(&named)))
            }
            Message::RangeRequest(req) => {
                let (reply, sends) = self.answer_range(&agency, &req);
                if !sends.is_empty() {
                    // answered once the send entries are durable
                    self.send_durably(
                        sends,
                        reply,
                        Target::Response {
                            to: agency,
                            id: channel,
                        },
                    );
                    return;
                }
                reply
            }
            request @ (Message::MatchSetRequest(_) | Message::Lookup(_)) => {
                // answered when the job is done
                self.on_match_request(agency, channel, request);
                return;
            }
            other => {
                let detail = format!("message kind {} is not a request", other.kind_code());
                self.emit(NodeEvent::rejected(
                    &agency,
                    RejectCode::Malformed,
                    detail.clone(),
                ));
                Message::Refused(Refusal {
                    code: RejectCode::Malformed,
                    detail,
                })
            }
        };
        self.respond(channel, &reply, &agency);
    }

    pub(super) fn on_response(&mut self, agency: AgencyId, request_id: RequestId, response: Frame) {
        let Some(pending) = self.pending.remove(&request_id) else {
            return;
        };
        let msg = match Message::decode(&response.bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(from = %agency, error = %e, "malformed response");
                self.emit(NodeEvent::rejected(
                    &agency,
                    RejectCode::Malformed,
                    e.to_string(),
                ));
                self.clear(pending);
                return;
            }
        };
        match (pending, msg) {
            (Pending::Ask { reply }, msg) => {
                let _ = reply.send(Ok(msg));
            }
            (Pending::Push { peer, keys, ids }, Message::Ack(ack)) => {
                // the push stays in flight until its receipts are checked
                let peer_key = self.dir.get(&peer).copied();
                self.run(Job::CheckAck(AckCheck {
                    peer,
                    peer_key,
                    keys,
                    ids,
                    ack,
                }));
            }
            (Pending::Sync { peer }, Message::SyncStatus(status)) => self.on_status(&peer, status),
            (
                Pending::Range {
                    peer,
                    agreement,
                    stream,
                    from,
                    to,
                },
                Message::RangeResponse(resp),
            ) => {
                self.on_range_response(peer, agreement, stream, (from, to), resp);
            }
            (pending, Message::Refused(r)) => {
                tracing::warn!(peer = %agency, code = r.code.code(), detail = %r.detail, "peer refused our request");
                self.emit(NodeEvent::RefusedByPeer {
                    peer: agency,
                    code: r.code.code(),
                    detail: r.detail,
                });
                self.clear(pending);
            }
            (pending, other) => {
                tracing::warn!(peer = %agency, kind = other.kind_code(), "unexpected response");
                self.clear(pending);
            }
        }
    }
}
