//! What the core tells: node events (each with its audit entry where it records a
//! decision), alarms raised and cleared, the peers and status reports, and the refusal budget
//! that bounds what a flooding peer costs.

use super::*;

impl Core {
    /// Hands an event to the executor, to publish.
    fn emit_raw(&mut self, e: NodeEvent) {
        self.effects.push(Effect::Emit(e));
    }

    /// Publishes an event whose audit entry the caller writes with the change it records; a
    /// refusal still counts against the sender's refusal budget.
    pub(super) fn emit_unlogged(&mut self, e: NodeEvent) {
        self.observe(&e);
        if let NodeEvent::Rejected { from, .. } = &e
            && *from != self.cfg.agency
        {
            self.count_refusal(from);
        }
        self.emit_raw(e);
    }

    /// Publishes an event; refusals are also written to the audit log, and count against the
    /// sender's refusal budget.
    pub(super) fn emit(&mut self, e: NodeEvent) {
        self.observe(&e);
        if let NodeEvent::Rejected { from, code, detail } = &e {
            if *from != self.cfg.agency {
                self.count_refusal(from);
            }
            let event = AuditEvent::Reject {
                from: from.clone(),
                code: *code,
                reason: detail.clone(),
            };
            if let Err(err) = self.store.log().audit(self.now(), vec![event]) {
                tracing::error!(error = %err, "cannot write the audit log");
            }
        }
        self.emit_raw(e);
    }

    /// Raises the alarms an event is evidence of (refusals counted per peer, an equivocation
    /// per originator), each logged and evented once.
    pub(super) fn observe(&mut self, e: &NodeEvent) {
        self.metrics.event(e);
        let (now, at) = (self.now(), self.at);
        let busy = RejectCode::Busy.code();
        let raised = match e {
            NodeEvent::Rejected { from, code, detail }
                if *from != self.cfg.agency && *code != busy =>
            {
                self.alarms.refusal(
                    AlarmKind::PeerRefused,
                    from,
                    &format!("code {code}, {detail}"),
                    at,
                    now,
                )
            }
            NodeEvent::RefusedByPeer { peer, code, detail }
                if !matches!(
                    RejectCode::from_code(*code),
                    RejectCode::Busy
                        | RejectCode::AgreementMismatch
                        | RejectCode::AgreementNotSigned
                ) =>
            {
                self.alarms.refusal(
                    AlarmKind::RefusedByPeer,
                    peer,
                    &format!("code {code}, {detail}"),
                    at,
                    now,
                )
            }
            NodeEvent::Equivocation {
                originator,
                id,
                existing,
                from,
            } => self.alarms.raise(
                AlarmKind::Equivocation,
                originator.as_str(),
                format!(
                    "{originator} signed two different records for one sequence number \
                     (record {id} from {from} claims the place of {existing}); both are kept as \
                     evidence and the second is never delivered: {originator}'s key may be in \
                     use on two nodes, or stolen — tell its focal point"
                ),
                now,
            ),
            _ => None,
        };
        self.alarm(raised);
    }

    /// Counts and publishes a `Sent` event.
    pub(super) fn observe_sent(&mut self, e: NodeEvent) {
        self.metrics.event(&e);
        self.emit_raw(e);
    }

    /// Events a newly raised alarm.
    pub(super) fn alarm(&mut self, raised: Option<Alarm>) {
        if let Some(a) = raised {
            self.emit_raw(NodeEvent::Alarm(a));
        }
    }

    /// The alarms whose evidence the store keeps (audit forks, equivocations), raised again at
    /// start so they outlive a restart, and the agreements not in effect.
    pub(super) fn seed_alarms(&mut self) {
        let now = self.now();
        match self.store.checkpoints().checkpoint_forks() {
            Ok(forks) => {
                for signed in forks {
                    if let Some(f) = crate::net::handle::Fork::of(&signed) {
                        let at = f.at();
                        let raised = self.alarms.raise(
                            AlarmKind::AuditFork,
                            f.agency.as_str(),
                            fork_message(&f.agency, &at),
                            now,
                        );
                        self.alarm(raised);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the audit fork evidence"),
        }
        match self.store.records().equivocation_pairs() {
            Ok(pairs) => {
                for (offered, held) in pairs {
                    let originator = self
                        .store
                        .records()
                        .get(&held)
                        .ok()
                        .flatten()
                        .map(|r| r.record.originator);
                    if let Some(originator) = originator {
                        let raised = self.alarms.raise(
                            AlarmKind::Equivocation,
                            originator.as_str(),
                            format!(
                                "{originator} signed two different records for one sequence \
                                 number (record {offered} claims the place of {held}); both are \
                                 kept as evidence: tell {originator}'s focal point"
                            ),
                            now,
                        );
                        self.alarm(raised);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the equivocation evidence"),
        }
        self.check_alarms();
        for a in self.cfg.agreements.values() {
            if crate::net::alarms::not_in_effect(a, now).is_none() {
                tracing::info!(agreement = %a.id, members = a.members.len(), "agreement {} is in effect", a.id);
            }
        }
    }

    /// Raises or clears the agreements' not-in-effect alarms, and clears the refusal alarms of
    /// peers that have been quiet for a while.
    pub(super) fn check_alarms(&mut self) {
        self.next_alarm_check = self.at + ALARM_CHECK;
        let changes = self.alarms.agreements(&self.cfg, self.now());
        for change in changes {
            if let crate::net::alarms::Change::Raised(a) = change {
                self.alarm(Some(a));
            }
        }
        self.alarms.quiet(self.at);
        self.tally.flush(self.at);
    }

    /// Counts a refusal of `peer`'s input against its budget ([`RefusalBudget`]), logging the
    /// requests shed in a window this closes.
    fn count_refusal(&mut self, peer: &AgencyId) {
        let step = self.refusals.refused(peer, self.at);
        if step.closed_shed > 0 {
            self.shed_entry(peer, step.closed_shed);
        }
    }

    /// Whether a request of `peer` is shed (it is over its refusal budget), logging the
    /// requests shed in a window this closes.
    pub(super) fn shed_request(&mut self, peer: &AgencyId) -> bool {
        let step = self.refusals.request(peer, self.at);
        if step.closed_shed > 0 {
            self.shed_entry(peer, step.closed_shed);
        }
        step.over
    }

    pub(super) fn shed_entry(&mut self, peer: &AgencyId, shed: u64) {
        tracing::warn!(%peer, shed, "requests shed: over the refusal budget");
        let reason = format!(
            "{shed} requests answered busy unread: more than {REFUSAL_BUDGET} refusals of this \
             peer's input within a second"
        );
        let event = AuditEvent::Reject {
            from: peer.clone(),
            code: RejectCode::Busy.code(),
            reason: reason.clone(),
        };
        if let Err(err) = self.store.log().audit(self.now(), vec![event]) {
            tracing::error!(error = %err, "cannot write the audit log");
        }
        self.emit_raw(NodeEvent::rejected(peer, RejectCode::Busy, reason));
    }

    /// Writes the entries of windows that closed with requests shed and no request since.
    pub(super) fn close_budgets(&mut self) {
        for (peer, shed) in self.refusals.close(self.at) {
            self.shed_entry(&peer, shed);
        }
    }

    pub(super) fn peers_report(&self) -> PeersReport {
        let connected = self.connected();
        let agreements = self
            .cfg
            .agreements
            .values()
            .map(|a| {
                (
                    a.id.clone(),
                    connected
                        .iter()
                        .filter(|c| a.is_member(c))
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        PeersReport {
            connected,
            agreements,
        }
    }

    pub(super) fn status_report(&self) -> StatusReport {
        StatusReport {
            agency: Some(self.cfg.agency.clone()),
            records: self.store.records().len(),
            outbox: self.store.outbox().depths().unwrap_or_default(),
            last_catch_up: self.last_catch_up.clone(),
            agreement_mismatches: self.mismatched.iter().cloned().collect(),
            // from the evidence kept, so the alarm outlives a restart
            equivocations: self
                .store
                .records()
                .equivocation_pairs()
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "cannot read the equivocation evidence");
                    Vec::new()
                }),
            forks: self
                .store
                .checkpoints()
                .checkpoint_forks()
                .unwrap_or_default()
                .iter()
                .filter_map(crate::net::handle::Fork::of)
                .collect(),
            agreements: self
                .cfg
                .agreements
                .values()
                .map(|a| {
                    let why_not = crate::net::alarms::not_in_effect(a, self.now());
                    let with = |set: &BTreeSet<(AgreementId, AgencyId)>| {
                        set.iter()
                            .filter(|(id, _)| *id == a.id)
                            .map(|(_, peer)| peer.clone())
                            .collect()
                    };
                    (
                        a.id.clone(),
                        crate::net::handle::AgreementState {
                            in_effect: why_not.is_none(),
                            why_not,
                            confirmed_with: with(&self.confirmed),
                            mismatched_with: with(&self.mismatched),
                        },
                    )
                })
                .collect(),
            alarms: self.alarms.list(),
            refused: self
                .tally
                .totals
                .iter()
                .map(|(k, n)| ((*k).to_owned(), *n))
                .collect(),
            catch_up: self.catch_ups.views(self.at),
            connected: self.peers_report().connected,
        }
    }
}
