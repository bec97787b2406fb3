//! The record lines of a bundle: each record verified with the key its originator had at its
//! `created` time and checked against the agreement's policy, their order, the tombstones of
//! purged records, and every stream's sequence without gaps or second records under one seq.

use super::*;

/// A record line as checked: its verdict, and what the sequence check needs.
pub(super) struct Checked {
    pub(super) verdict: RecordVerdict,
    /// The envelope's own id, when it decoded.
    pub(super) actual_id: Option<RecordId>,
    /// Whether the signature verified with the originator's bundled key.
    pub(super) signed: bool,
    /// Whether the exporting node held it past the agreement's retention at the export time.
    pub(super) past_retention: bool,
}

/// The one key a record is checked with, and the revocations.
pub(super) struct RecordKeys<'a> {
    agency: &'a AgencyId,
    key: Option<PublicKey>,
    /// The originator's key history, for a releaser's certificate (at its `issued` time).
    history: Option<&'a keys::KeyChain>,
    revoked: &'a Revoked,
}

impl KeyDirectory for RecordKeys<'_> {
    fn agency_key(&self, agency: &AgencyId) -> Option<PublicKey> {
        (agency == self.agency).then_some(self.key).flatten()
    }

    fn agency_key_at(&self, agency: &AgencyId, t: Timestamp) -> Option<PublicKey> {
        (agency == self.agency)
            .then(|| self.history.and_then(|h| h.at(t)))
            .flatten()
    }

    fn revoked(&self, agency: &AgencyId, certificate: &Digest32) -> Option<Timestamp> {
        self.revoked.get(&(agency.clone(), certificate.0)).copied()
    }
}

/// Checks one record line on its own: encoding, id, record, signature, policy.
pub(super) fn check_record(
    line: usize,
    item: &RecordLine,
    histories: &Histories,
    revoked: &Revoked,
    agreement: Option<&Agreement>,
    exported_at: Timestamp,
) -> Checked {
    let mut checked = Checked {
        verdict: RecordVerdict {
            line,
            id: item.id,
            originator: None,
            stream: None,
            seq: None,
            failures: Vec::new(),
            approvals: Vec::new(),
        },
        actual_id: None,
        signed: false,
        past_retention: false,
    };
    let failures = &mut checked.verdict.failures;
    let bytes = match B64.decode(&item.envelope) {
        Ok(bytes) => bytes,
        Err(e) => {
            failures.push(RecordFailure::Encoding(e.to_string()));
            return checked;
        }
    };
    let envelope = match Envelope::decode(&bytes) {
        Ok(envelope) => envelope,
        Err(e) => {
            failures.push(RecordFailure::Envelope(e));
            return checked;
        }
    };
    let actual = envelope.id();
    checked.actual_id = Some(actual);
    if actual != item.id {
        failures.push(RecordFailure::IdMismatch {
            listed: item.id,
            actual,
        });
    }
    // The record bytes are read once without trusting them, to name the record and check it
    // against the agreement even when its signature fails.
    let record: Record = match decode_record(envelope.record_bytes()) {
        Ok(record) => record,
        Err(e) => {
            failures.push(RecordFailure::Record(e));
            return checked;
        }
    };
    checked.verdict.originator = Some(record.originator.clone());
    checked.verdict.seq = Some(record.seq);
    checked.verdict.stream = Some(envelope.stream_of(&record));
    // The key in force when the agency signed: the record's `created` time for its own
    // records, the certificate's `issued` time for a delegated key's.
    let signed_at = match envelope.signer() {
        Signer::Agency(_) => record.created,
        Signer::Delegate(_) => envelope
            .certificate()
            .and_then(|c| serde_json::from_slice::<Delegation>(&c.bytes).ok())
            .map_or(record.created, |d| d.issued),
    };
    // the approvals as their bytes state them, for the report; `verify` checks them
    let approvals = envelope.approvals().len();
    checked.verdict.approvals = envelope
        .approvals()
        .iter()
        .map(|a| {
            let holder = serde_json::from_slice::<Delegation>(&a.certificate.bytes)
                .map_or_else(|_| "?".to_owned(), |d| d.holder);
            ApprovalShown {
                holder,
                certificate: accord_protocol::delegation::certificate_id(&a.certificate),
                approved: accord_protocol::approval::decode_approval(&a.approval.bytes)
                    .ok()
                    .map(|x| x.approved),
            }
        })
        .collect();
    let keys = RecordKeys {
        agency: &record.originator,
        key: histories
            .get(&record.originator)
            .and_then(|c| c.at(signed_at)),
        history: histories.get(&record.originator),
        revoked,
    };
    match verify(envelope, &keys) {
        Ok(_) => checked.signed = true,
        Err(VerifyError::Record(e)) => failures.push(RecordFailure::Record(e)),
        Err(VerifyError::UnknownOriginator(_)) => failures.push(RecordFailure::NoKey {
            originator: record.originator.clone(),
        }),
        Err(e) => failures.push(RecordFailure::Signature(e)),
    }
    if let Some(agreement) = agreement
        && let Err(reason) = permitted(&record, agreement)
            .and_then(|()| crate::policy::released(&record, approvals, agreement))
    {
        failures.push(RecordFailure::NotPermitted(reason));
    }
    checked.past_retention = agreement
        .is_some_and(|a| crate::policy::within_retention(&record, a, exported_at).is_err());
    checked
}

/// Record lines sorted by (stream, seq, id) — by (originator, seq, id) in version 1 — among
/// those whose record could be read.
pub(super) fn check_record_order(checked: &[Checked], version: u32, report: &mut BundleReport) {
    let mut previous: Option<(String, Seq, RecordId)> = None;
    for c in checked {
        let v = &c.verdict;
        let (Some(originator), Some(stream), Some(seq)) = (&v.originator, &v.stream, v.seq) else {
            continue;
        };
        let first = if version >= 2 {
            stream.as_str()
        } else {
            originator.as_str()
        };
        let key = (first.to_owned(), seq, v.id);
        if previous.as_ref().is_some_and(|p| *p > key) {
            report.problem(BundleProblem::Unsorted {
                line: v.line,
                what: "record",
                rule: if version >= 2 {
                    "by stream, then seq, then id"
                } else {
                    "by originator, then seq, then id"
                },
            });
        }
        previous = Some(key);
    }
}

/// Whether `agreement` permits `record` as of the record's `created` time: an auditor checks
/// the history, not today.
///
/// This is [`policy::may_publish`] with the record's own originator as the publishing agency
/// and its `created` time as `now`. That checks, in order: the record names the agreement; the
/// originator is a member; the agreement is in force at `created`; the category and the
/// handling code are permitted; victim-identifying data only where the agreement permits it,
/// for a permitted purpose; no person both victim and suspect or facilitator; and that the
/// record had not expired at `created` (always so for a valid record). The originator's
/// membership is reported as the originator's, not as a local agency's.
pub(crate) fn permitted(record: &Record, agreement: &Agreement) -> Result<(), DenyReason> {
    let decision = policy::may_publish(&record.originator, agreement, record, record.created);
    match decision.into_result() {
        Err(DenyReason::NotMember {
            party: Party::Local,
            agency,
            agreement,
        }) => Err(DenyReason::NotMember {
            party: Party::Originator,
            agency,
            agreement,
        }),
        other => other,
    }
}

/// A tombstone kept for the sequence check: its line and record id, by (stream, seq).
pub(super) type TombstoneSlots = BTreeMap<(StreamId, Seq), (usize, RecordId)>;

/// Tombstones name the bundled agreement and their stream (version 2; a version-1 tombstone
/// stands in its originator's own stream), are sorted by (stream, seq, id), and claim each
/// (stream, seq) at most once.
pub(super) fn check_tombstones(
    tombstones: &[(usize, BundleTombstone)],
    header: &HeaderLine,
    report: &mut BundleReport,
) -> TombstoneSlots {
    let mut slots = TombstoneSlots::new();
    let mut previous: Option<(StreamId, Seq, RecordId)> = None;
    for (line, t) in tombstones {
        if t.agreement != header.agreement {
            report.problem(BundleProblem::TombstoneAgreement {
                line: *line,
                id: t.id,
                found: t.agreement.clone(),
                agreement: header.agreement.clone(),
            });
            continue;
        }
        let stream = match (&t.stream, header.version) {
            (Some(s), _) if s.agency_id() != &t.originator => {
                report.problem(BundleProblem::TombstoneStream {
                    line: *line,
                    reason: format!(
                        "its stream {s} is not one of its originator {}",
                        t.originator
                    ),
                });
                continue;
            }
            (Some(s), _) => s.clone(),
            (None, 1) => StreamId::agency(&t.originator),
            (None, _) => {
                report.problem(BundleProblem::TombstoneStream {
                    line: *line,
                    reason: "it names no stream (required from version 2)".into(),
                });
                continue;
            }
        };
        let key = (stream.clone(), t.seq, t.id);
        if previous.as_ref().is_some_and(|p| *p > key) {
            report.problem(BundleProblem::Unsorted {
                line: *line,
                what: "tombstone",
                rule: "by stream, then seq, then id",
            });
        }
        previous = Some(key);
        let slot = (stream.clone(), t.seq);
        if let Some((first, _)) = slots.get(&slot) {
            report.problem(BundleProblem::DuplicateTombstone {
                line: *line,
                stream,
                seq: t.seq,
                first: *first,
            });
            continue;
        }
        slots.insert(slot, (*line, t.id));
    }
    slots
}

/// Per stream: no sequence number claimed by two records, or by a record and a tombstone of
/// another record; and no gap from 1 to the highest number held by a record whose signature
/// verifies or by a tombstone.
pub(super) fn check_sequences(
    checked: &mut [Checked],
    tombstones: &TombstoneSlots,
    report: &mut BundleReport,
) {
    // Only records whose signature verifies hold their number: the originator vouches for them.
    let mut held: BTreeMap<(StreamId, Seq), BTreeSet<RecordId>> = BTreeMap::new();
    for c in checked.iter().filter(|c| c.signed) {
        if let (Some(stream), Some(seq), Some(id)) = (&c.verdict.stream, c.verdict.seq, c.actual_id)
        {
            held.entry((stream.clone(), seq)).or_default().insert(id);
        }
    }
    for c in checked.iter_mut().filter(|c| c.signed) {
        let (Some(stream), Some(seq), Some(id)) =
            (c.verdict.stream.clone(), c.verdict.seq, c.actual_id)
        else {
            continue;
        };
        let slot = (stream.clone(), seq);
        if let Some(ids) = held.get(&slot) {
            for other in ids.iter().filter(|other| **other != id) {
                c.verdict.failures.push(RecordFailure::Equivocation {
                    stream: stream.clone(),
                    seq,
                    other: *other,
                });
            }
        }
        if let Some((line, tombstone_id)) = tombstones.get(&slot) {
            c.verdict.failures.push(if *tombstone_id == id {
                RecordFailure::AlsoPurged { line: *line }
            } else {
                RecordFailure::TombstoneClaimsSeq {
                    line: *line,
                    stream: stream.clone(),
                    seq,
                    other: *tombstone_id,
                }
            });
        }
    }
    let mut present: BTreeMap<&StreamId, BTreeSet<u64>> = BTreeMap::new();
    for (stream, seq) in held.keys().chain(tombstones.keys()) {
        present.entry(stream).or_default().insert(seq.get());
    }
    for (stream, seqs) in present {
        let mut expected: u64 = 1;
        for seq in seqs {
            if seq > expected {
                report.gaps.push(Gap {
                    stream: stream.clone(),
                    from: expected,
                    to: seq - 1,
                });
            }
            expected = seq.saturating_add(1);
        }
    }
}
