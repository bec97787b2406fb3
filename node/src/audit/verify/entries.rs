//! The entries of the log against the agreements: every send allowed by the send policy at its
//! time, every delivery backed by a receipt signed by the member, and every delivered record
//! sent first.

use super::*;
use accord_protocol::receipt::{AnyReceipt, verify_any_receipt};

/// Each data-moving entry against its agreement's exported file.
pub(super) fn check_entries(
    chain: &Chain,
    agreements: &BTreeMap<AgreementId, Agreement>,
    signed: &BTreeMap<AgreementId, BTreeSet<AgencyId>>,
    r: &mut AuditReport,
) {
    // the agreement hashes of the latest configuration entry, with its line
    let mut config: BTreeMap<AgreementId, (Digest32, usize)> = BTreeMap::new();
    let mut noted = BTreeSet::new();
    for (line, e) in chain.entries() {
        let own = &e.agency;
        let (agreement, parties): (&AgreementId, Vec<(&'static str, &AgencyId)>) = match &e.event {
            AuditEvent::Publish { agreement, .. } => (agreement, vec![("this agency", own)]),
            AuditEvent::Send {
                agreement,
                originator,
                to,
                ..
            } => (
                agreement,
                vec![
                    ("this agency", own),
                    ("originator", originator),
                    ("recipient", to),
                ],
            ),
            AuditEvent::SendBatch { agreement, to, .. } => (
                agreement,
                batch_parties(&e.event, ("this agency", own), ("recipient", to)),
            ),
            AuditEvent::ReceiveBatch {
                agreement, from, ..
            } => (
                agreement,
                batch_parties(&e.event, ("this agency", own), ("sender", from)),
            ),
            AuditEvent::Delivered { agreement, to, .. }
            | AuditEvent::DeliveredPush { agreement, to, .. } => {
                (agreement, vec![("this agency", own), ("recipient", to)])
            }
            AuditEvent::Receive {
                agreement,
                originator,
                from,
                ..
            } => (
                agreement,
                vec![
                    ("this agency", own),
                    ("originator", originator),
                    ("sender", from),
                ],
            ),
            AuditEvent::AgreementSignature {
                agreement,
                signer,
                from,
                ..
            } => (agreement, vec![("signer", signer), ("sender", from)]),
            // matching (docs/matching.md): only between members of an agreement in force
            AuditEvent::MatchSet { agreement, to, .. }
            | AuditEvent::LookupMade { agreement, to, .. }
            | AuditEvent::LookupResult { agreement, to, .. } => (
                agreement,
                vec![("this agency", own), ("holder or asker", to)],
            ),
            AuditEvent::LookupAnswered {
                agreement, from, ..
            } => (agreement, vec![("this agency", own), ("asker", from)]),
            AuditEvent::Config { agreements, .. } => {
                config = agreements
                    .iter()
                    .map(|(id, hash)| (id.clone(), (*hash, line)))
                    .collect();
                continue;
            }
            _ => continue,
        };
        let kind = kind_name(&e.event);
        let Some(a) = agreements.get(agreement) else {
            r.problems.push(AuditProblem::NoAgreement {
                line,
                index: e.index,
                kind,
                agreement: agreement.clone(),
            });
            continue;
        };
        for (role, agency) in parties {
            if !a.is_member(agency) {
                r.problems.push(AuditProblem::NotMember {
                    line,
                    index: e.index,
                    kind,
                    role,
                    agency: agency.clone(),
                    agreement: agreement.clone(),
                });
            }
        }
        if !a.in_force(e.time) {
            r.problems.push(AuditProblem::NotInForce {
                line,
                index: e.index,
                kind,
                time: e.time,
                agreement: agreement.clone(),
            });
        }
        if matches!(
            e.event,
            AuditEvent::MatchSet { .. }
                | AuditEvent::LookupAnswered { .. }
                | AuditEvent::LookupMade { .. }
                | AuditEvent::LookupResult { .. }
        ) && a.matching.is_none()
        {
            r.problems.push(AuditProblem::NoMatching {
                line,
                index: e.index,
                kind,
                agreement: agreement.clone(),
            });
        }
        if let (
            AuditEvent::LookupAnswered {
                from,
                selectors,
                today,
                ..
            },
            Some(rule),
        ) = (&e.event, a.matching)
            && (*selectors > accord_protocol::matching::MAX_LOOKUP as u64
                || *today > u64::from(rule.lookups_per_day))
        {
            r.problems.push(AuditProblem::OverQuota {
                line,
                index: e.index,
                asker: from.clone(),
                selectors: *selectors,
                today: *today,
                limit: rule.lookups_per_day,
                agreement: agreement.clone(),
            });
        }
        // a `send`, or each record of a `send-batch`, against the send policy
        for sent in e.event.sent() {
            if let Err(reason) = send_policy(a, signed.get(agreement), sent.content, e.time) {
                r.problems.push(AuditProblem::SendNotAllowed {
                    line,
                    index: e.index,
                    record: sent.record,
                    agreement: agreement.clone(),
                    reason,
                });
            }
        }
        if let Some((logged, config_line)) = config.get(agreement)
            && logged.0 != a.hash
            && noted.insert((agreement.clone(), *logged))
        {
            r.notes.push(AuditNote::AgreementText {
                line,
                agreement: agreement.clone(),
                logged: *logged,
                config_line: *config_line,
                exported: Digest32(a.hash),
            });
        }
    }
}

/// The parties of a `send-batch` or `receive-batch` entry: this agency, the peer, and each
/// distinct originator of the records it lists.
fn batch_parties<'a>(
    event: &'a AuditEvent,
    own: (&'static str, &'a AgencyId),
    peer: (&'static str, &'a AgencyId),
) -> Vec<(&'static str, &'a AgencyId)> {
    let originators: BTreeSet<&AgencyId> = event
        .sent()
        .into_iter()
        .map(|s| s.originator)
        .chain(event.received().into_iter().map(|r| r.originator))
        .collect();
    let mut parties = vec![own, peer];
    parties.extend(originators.into_iter().map(|o| ("originator", o)));
    parties
}

/// The send policy (docs/ARCHITECTURE.md, `may_send`) as far as the entry states the record:
/// the agreement signed by every member, the category, handling code and victim data
/// permitted, the record not expired and within the agreement's retention at `time`. Its
/// membership and validity dates are checked with every entry's.
pub(super) fn send_policy(
    a: &Agreement,
    signers: Option<&BTreeSet<AgencyId>>,
    content: Option<&accord_protocol::audit::SentContent>,
    time: accord_protocol::Timestamp,
) -> Result<(), String> {
    let missing: Vec<&str> = a
        .members
        .iter()
        .filter(|m| !signers.is_some_and(|s| s.contains(*m)))
        .map(AgencyId::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the export holds no valid signature of {} by {}: it was not in effect",
            a.id,
            missing.join(", ")
        ));
    }
    let Some(c) = content else {
        return Err(
            "the entry does not state the record's category, handling code, dates and victim \
             data, so the send policy cannot be checked"
                .into(),
        );
    };
    if !a.permits_category(c.category) {
        return Err(format!("{} does not permit category {}", a.id, c.category));
    }
    if !a.permits_handling(c.handling) {
        return Err(format!(
            "handling code {} is more permissive than {} allows ({})",
            c.handling, a.id, a.most_permissive_handling
        ));
    }
    if c.victim_data {
        match c.victim_purpose {
            _ if !a.victim_data.allowed => {
                return Err(format!(
                    "the record holds victim-identifying data, which {} does not permit",
                    a.id
                ));
            }
            None => {
                return Err(
                    "the record holds victim-identifying data without a stated purpose".into(),
                );
            }
            Some(p) if !a.victim_data.permits(p) => {
                return Err(format!(
                    "{} does not permit victim data for the purpose {p}",
                    a.id
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(expires) = c.expires
        && expires <= time
    {
        return Err(format!("the record expired at {expires}"));
    }
    let until = c.created.plus_secs(i64::from(a.retention_days) * 86_400);
    if time > until {
        return Err(format!(
            "the record, created {}, was past {}'s retention of {} days (until {until})",
            c.created, a.id, a.retention_days
        ));
    }
    Ok(())
}

/// Receipts against `delivered` entries, both ways.
pub(super) fn check_receipts(dir: &Path, chain: &Chain, keys: &Keys<'_>, r: &mut AuditReport) {
    let Some(bytes) = read(dir, RECEIPTS, &mut r.problems) else {
        return;
    };
    let delivered: Vec<(usize, &AuditEntry)> = chain
        .entries()
        .filter(|(_, e)| {
            matches!(
                e.event,
                AuditEvent::Delivered { .. } | AuditEvent::DeliveredPush { .. }
            )
        })
        .collect();
    let mut problems = Vec::new();
    let lines = signed_lines(&bytes, |line, reason| {
        problems.push(AuditProblem::BadReceipt { line, reason });
    });
    // every receipt present, by hash, whether or not its signature verifies (a bad signature
    // is reported once, as such)
    let present: BTreeSet<Digest32> = lines.iter().map(|(_, s)| sha256(&s.bytes)).collect();
    for (line, s) in &lines {
        // the receiver's key as the log knew it when the receipt arrived: at its `delivered`
        // entry (any key the receiver has had, for a receipt no entry names)
        let hash = sha256(&s.bytes);
        let at = delivered.iter().find_map(|(_, e)| match &e.event {
            AuditEvent::Delivered { receipt: h, .. }
            | AuditEvent::DeliveredPush { receipt: h, .. }
                if *h == hash =>
            {
                Some(e.index)
            }
            _ => None,
        });
        let receiver = AnyReceipt::parse(&s.bytes)
            .ok()
            .map(|r| r.receiver().clone());
        let candidates: Vec<PublicKey> = match (&receiver, at) {
            (Some(a), Some(i)) => keys.at_index(a, i).into_iter().collect(),
            (Some(a), None) => keys.all(a),
            _ => Vec::new(),
        };
        let mut result = verify_any_receipt(s, |_| None);
        for k in &candidates {
            result = verify_any_receipt(s, |_| Some(*k));
            if result.is_ok() {
                break;
            }
        }
        let receipt = match result {
            Ok(receipt) => receipt,
            Err(e) => {
                problems.push(AuditProblem::BadReceipt {
                    line: *line,
                    reason: format!("{e}, with the receiver's key in force when it arrived"),
                });
                continue;
            }
        };
        r.receipts += 1;
        let receipt = match receipt {
            AnyReceipt::Record(receipt) => receipt,
            AnyReceipt::Batch(batch) => {
                if let Some(p) = check_batch(*line, &batch, hash, &delivered) {
                    problems.push(p);
                }
                continue;
            }
        };
        let entries: Vec<u64> = delivered
            .iter()
            .filter(|(_, e)| {
                matches!(&e.event, AuditEvent::Delivered { record, to, receipt: h, .. }
                    if *record == receipt.record && *to == receipt.receiver && *h == hash)
            })
            .map(|(_, e)| e.index)
            .collect();
        match entries.len() {
            1 => {}
            0 => problems.push(AuditProblem::ReceiptUnmatched {
                line: *line,
                record: receipt.record,
                receiver: receipt.receiver,
            }),
            _ => problems.push(AuditProblem::ReceiptAmbiguous {
                line: *line,
                record: receipt.record,
                receiver: receipt.receiver,
                entries,
            }),
        }
    }
    for (line, e) in delivered {
        let (records, to, receipt) = match &e.event {
            AuditEvent::Delivered {
                record,
                to,
                receipt,
                ..
            } => (std::slice::from_ref(record), to, receipt),
            AuditEvent::DeliveredPush {
                records,
                to,
                receipt,
                ..
            } => (records.as_slice(), to, receipt),
            _ => continue,
        };
        if !present.contains(receipt) {
            for record in records {
                problems.push(AuditProblem::MissingReceipt {
                    line,
                    index: e.index,
                    record: *record,
                    to: to.clone(),
                    receipt: *receipt,
                });
            }
        }
    }
    r.problems.extend(problems);
}

/// A batch receipt against the `delivered` entries that name it (by `hash`): the same
/// receiver and agreement, and their records, in the order of the log, exactly the ones it
/// covers (docs/auditing.md §4, rule 6).
fn check_batch(
    line: usize,
    batch: &accord_protocol::receipt::BatchReceipt,
    hash: Digest32,
    delivered: &[(usize, &AuditEntry)],
) -> Option<AuditProblem> {
    let mut entries = Vec::new();
    let mut records = Vec::new();
    let mut reason = None;
    let mut pushes = 0;
    for (_, e) in delivered {
        let (named, agreement, to, receipt) = match &e.event {
            AuditEvent::Delivered {
                record,
                agreement,
                to,
                receipt,
            } => (std::slice::from_ref(record), agreement, to, receipt),
            AuditEvent::DeliveredPush {
                records,
                agreement,
                to,
                receipt,
            } => {
                pushes += 1;
                (records.as_slice(), agreement, to, receipt)
            }
            _ => continue,
        };
        if *receipt == hash {
            entries.push(e.index);
            records.extend_from_slice(named);
            if *to != batch.receiver {
                reason = Some(format!("entry {} names {to} as the receiver", e.index));
            } else if *agreement != batch.agreement {
                reason = Some(format!(
                    "entry {} is under {agreement}, the receipt under {}",
                    e.index, batch.agreement
                ));
            }
        }
    }
    if entries.is_empty() {
        reason = Some("no delivered entry names it".into());
    } else if pushes > 0 && entries.len() > 1 {
        // a `delivered-push` entry names the whole batch: no other entry may name it too
        reason = Some("a delivered-push entry and others name it".into());
    } else if reason.is_none() && !batch.covers_exactly(&records) {
        reason = Some(format!(
            "their {} record(s) do not hash to its root {} over {} record(s)",
            records.len(),
            batch.root,
            batch.records
        ));
    }
    reason.map(|reason| AuditProblem::BatchReceiptMismatch {
        line,
        receiver: batch.receiver.clone(),
        records: batch.records,
        entries,
        reason,
    })
}

/// Every `delivered` entry follows a `send` of the same record to the same member.
pub(super) fn check_delivered_were_sent(chain: &Chain, r: &mut AuditReport) {
    let mut sent: BTreeSet<(accord_protocol::RecordId, &AgencyId)> = BTreeSet::new();
    for (_, e) in chain.entries() {
        match &e.event {
            AuditEvent::Send { .. } | AuditEvent::SendBatch { .. } => {
                sent.extend(e.event.sent().into_iter().map(|s| (s.record, s.to)));
            }
            AuditEvent::Delivered { record, to, .. } if !sent.contains(&(*record, to)) => {
                r.problems.push(AuditProblem::DeliveredWithoutSend {
                    index: e.index,
                    record: *record,
                    to: to.clone(),
                });
            }
            AuditEvent::DeliveredPush { records, to, .. } => {
                for record in records.iter().filter(|r| !sent.contains(&(**r, to))) {
                    r.problems.push(AuditProblem::DeliveredWithoutSend {
                        index: e.index,
                        record: *record,
                        to: to.clone(),
                    });
                }
            }
            _ => {}
        }
    }
}
