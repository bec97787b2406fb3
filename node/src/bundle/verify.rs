//! Verifying a bundle offline: `accord verify`, the auditor's tool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use accord_config::{Agreement, parse_agreement};
use accord_protocol::canonical::decode_record;
use accord_protocol::{
    AgencyId, Envelope, PublicKey, Record, RecordId, Seq, StreamId, Timestamp, VerifyError, verify,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::lines::{AgreementLine, HeaderLine, Kind, Line, RecordLine, TypeProbe};
use super::report::{BundleHeader, BundleProblem, BundleReport, Gap, RecordFailure, RecordVerdict};
use super::{AGREEMENT_FILE_NAME, BUNDLE_VERSION, BundleTombstone, MAX_LINE_BYTES, sha256};
use crate::policy::{self, DenyReason, Party};

/// Verifies a bundle from its bytes alone. Never panics; every problem is in the report.
///
/// The bundle as a whole: lines in order (header, agreement, keys, records, tombstones), each a
/// well-formed object of its type; a header of version 1 whose counts match the lines; an
/// agreement file that hashes to its stated SHA-256, parses as an agreement and is the one the
/// header names; exactly one key per member and none for others; no record id twice; no two
/// tombstones for one sequence number, none of another agreement.
///
/// Each record: the envelope decodes; its id is the one listed; the record bytes are a valid,
/// canonical record; the signature verifies (strict ed25519) with the originator's bundled key;
/// the bundled agreement permits it as of its `created` time (see [`permitted`]); and no other
/// record or tombstone claims its originator's sequence number.
///
/// Each originator's sequence must be gap-free from 1 to its highest number, counting records
/// whose signature verifies and tombstones.
pub fn verify_bundle(bytes: &[u8]) -> BundleReport {
    verify_bundle_with(bytes, &mut |_, _| {})
}

/// [`verify_bundle`], calling `progress` with (records checked, records) as it goes.
pub fn verify_bundle_with(bytes: &[u8], progress: &mut dyn FnMut(u64, u64)) -> BundleReport {
    let mut report = BundleReport::default();
    if bytes.is_empty() {
        report.problem(BundleProblem::Empty);
        return report;
    }
    let mut parsed = read_lines(bytes, &mut report);
    let Some(header) = parsed.header.take() else {
        report.problem(BundleProblem::MissingHeader);
        return report;
    };
    report.header = Some(BundleHeader {
        version: header.version,
        agreement: header.agreement.clone(),
        exported_by: header.exported_by.clone(),
        exported_at: header.exported_at,
        records: header.records,
        tombstones: header.tombstones,
    });
    if header.version != BUNDLE_VERSION {
        // A later format is not judged by this version's rules.
        report.problem(BundleProblem::UnsupportedVersion {
            found: header.version,
            supported: BUNDLE_VERSION,
        });
        return report;
    }
    let agreement = match &parsed.agreement {
        Some((line, agreement)) => check_agreement(*line, agreement, &header, &mut report),
        None => {
            report.problem(BundleProblem::MissingAgreement);
            None
        }
    };
    check_keys(&parsed.keys, agreement.as_ref(), &mut report);
    let agreement = agreement.map(|mut a| {
        if let Some((line, item)) = &parsed.agreement {
            check_signatures(*line, item, &mut a, &mut report);
        }
        a
    });
    check_counts(&header, &parsed, &mut report);

    let mut checked = Vec::with_capacity(parsed.records.len());
    let mut first_line: BTreeMap<RecordId, usize> = BTreeMap::new();
    let total = parsed.records.len() as u64;
    for (line, record_line) in &parsed.records {
        progress(checked.len() as u64, total);
        if let Some(first) = first_line.get(&record_line.id) {
            report.problem(BundleProblem::DuplicateRecord {
                line: *line,
                id: record_line.id,
                first: *first,
            });
        } else {
            first_line.insert(record_line.id, *line);
        }
        checked.push(check_record(
            *line,
            record_line,
            &report.keys,
            agreement.as_ref(),
            header.exported_at,
        ));
    }
    let tombstones = check_tombstones(&parsed.tombstones, &header, &mut report);
    check_sequences(&mut checked, &tombstones, &mut report);
    report.tombstones = parsed.tombstones.len();
    report.past_retention = checked.iter().filter(|c| c.past_retention).count();
    report.records = checked.into_iter().map(|c| c.verdict).collect();
    report
}

/// The lines of a bundle, each kept with its line number.
#[derive(Default)]
struct Parsed {
    header: Option<HeaderLine>,
    agreement: Option<(usize, AgreementLine)>,
    keys: Vec<(usize, AgencyId, PublicKey)>,
    records: Vec<(usize, RecordLine)>,
    tombstones: Vec<(usize, BundleTombstone)>,
}

/// Splits the bundle into lines, parses each and checks their order.
fn read_lines(bytes: &[u8], report: &mut BundleReport) -> Parsed {
    let mut parsed = Parsed::default();
    // The last line may end without a newline; an empty piece after the final newline is no
    // line.
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut last: Option<Kind> = None;
    for (index, text) in body.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let Some(item) = parse_line(line, text, report) else {
            continue;
        };
        let kind = item.kind();
        if let Some(problem) = order_problem(line, kind, last) {
            report.problem(BundleProblem::Order {
                line,
                found: kind.name(),
                problem,
            });
        }
        last = Some(last.map_or(kind, |l| l.max(kind)));
        match item {
            Line::Header(h) if parsed.header.is_none() => parsed.header = Some(h),
            Line::Agreement(a) if parsed.agreement.is_none() => parsed.agreement = Some((line, a)),
            Line::Header(_) | Line::Agreement(_) => {} // a second one, reported as out of order
            Line::Key(k) => parsed.keys.push((line, k.agency, k.public_key)),
            Line::Record(r) => parsed.records.push((line, r)),
            Line::Tombstone(t) => parsed.tombstones.push((line, t)),
        }
    }
    parsed
}

/// Parses one line, reporting why it cannot be read.
fn parse_line(line: usize, text: &[u8], report: &mut BundleReport) -> Option<Line> {
    if text.len() > MAX_LINE_BYTES {
        report.problem(BundleProblem::LineTooLong {
            line,
            len: text.len(),
            max: MAX_LINE_BYTES,
        });
        return None;
    }
    if text.iter().all(u8::is_ascii_whitespace) {
        report.problem(BundleProblem::Malformed {
            line,
            what: "line",
            reason: "the line is empty; every line holds one JSON object".into(),
        });
        return None;
    }
    match serde_json::from_slice::<Line>(text) {
        Ok(item) => Some(item),
        Err(e) => {
            let reason = shorten(&e.to_string(), MAX_QUOTED_CHARS);
            let problem = match serde_json::from_slice::<TypeProbe>(text) {
                Ok(probe) => match Kind::ALL.iter().find(|k| k.type_value() == probe.kind) {
                    Some(kind) => BundleProblem::Malformed {
                        line,
                        what: kind.line_name(),
                        reason,
                    },
                    None => BundleProblem::UnknownType {
                        line,
                        found: shorten(&probe.kind, 64),
                    },
                },
                Err(_) => BundleProblem::Malformed {
                    line,
                    what: "line",
                    reason,
                },
            };
            report.problem(problem);
            None
        }
    }
}

/// Most characters of a parser's message kept: it may quote a whole (long) value.
const MAX_QUOTED_CHARS: usize = 300;

/// At most `max` characters of `text`, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// What is wrong with a line of `kind` at `line` after lines up to `last`, if anything.
fn order_problem(line: usize, kind: Kind, last: Option<Kind>) -> Option<String> {
    let problem = match (kind, last) {
        (Kind::Header, None) if line == 1 => return None,
        (Kind::Header, None) => "is not the first line".to_owned(),
        (Kind::Header, Some(_)) => "appears a second time".to_owned(),
        (_, None) => "comes before the header".to_owned(),
        (Kind::Agreement, Some(Kind::Header)) => return None,
        (Kind::Agreement, Some(Kind::Agreement)) => "appears a second time".to_owned(),
        (_, Some(Kind::Header)) => "comes before the agreement line".to_owned(),
        (kind, Some(last)) if kind < last => format!("comes after the {} lines", last.name()),
        _ => return None,
    };
    Some(problem)
}

/// Decodes, hashes and parses the agreement file; returns it when it parses.
fn check_agreement(
    line: usize,
    item: &AgreementLine,
    header: &HeaderLine,
    report: &mut BundleReport,
) -> Option<Agreement> {
    let bytes = match B64.decode(&item.file) {
        Ok(bytes) => bytes,
        Err(e) => {
            report.problem(BundleProblem::AgreementEncoding {
                line,
                reason: e.to_string(),
            });
            return None;
        }
    };
    let actual = sha256(&bytes);
    report.agreement_sha256 = Some(actual);
    if actual != item.sha256 {
        report.problem(BundleProblem::AgreementHash {
            line,
            stated: hex::encode(item.sha256),
            actual: hex::encode(actual),
        });
    }
    let agreement = match parse_agreement(Path::new(AGREEMENT_FILE_NAME), &bytes) {
        Ok(agreement) => agreement,
        Err(errors) => {
            report.problem(BundleProblem::AgreementInvalid { line, errors });
            return None;
        }
    };
    if agreement.id != header.agreement {
        report.problem(BundleProblem::AgreementMismatch {
            header: header.agreement.clone(),
            file: agreement.id.clone(),
        });
    }
    Some(agreement)
}

/// One key per member and none for others; fills the report's key directory.
fn check_keys(
    keys: &[(usize, AgencyId, PublicKey)],
    agreement: Option<&Agreement>,
    report: &mut BundleReport,
) {
    let mut first_line: BTreeMap<&AgencyId, usize> = BTreeMap::new();
    for (line, agency, key) in keys {
        if let Some(first) = first_line.get(agency) {
            report.problem(BundleProblem::DuplicateKey {
                line: *line,
                agency: agency.clone(),
                first: *first,
            });
            continue;
        }
        first_line.insert(agency, *line);
        report.keys.insert(agency.clone(), *key);
        if let Some(agreement) = agreement
            && !agreement.is_member(agency)
        {
            report.problem(BundleProblem::KeyForNonMember {
                line: *line,
                agency: agency.clone(),
                agreement: agreement.id.clone(),
            });
        }
    }
    if let Some(agreement) = agreement {
        for member in &agreement.members {
            if !report.keys.contains_key(member) {
                report.problem(BundleProblem::MissingKey {
                    agency: member.clone(),
                    agreement: agreement.id.clone(),
                });
            }
        }
    }
}

/// Each signature of the agreement file is a member's and verifies against the member's
/// bundled key; the valid ones make the agreement's signatures, and every member must have
/// signed.
fn check_signatures(
    line: usize,
    item: &AgreementLine,
    agreement: &mut Agreement,
    report: &mut BundleReport,
) {
    for s in &item.signatures {
        let problem = |reason: &str| BundleProblem::AgreementSignature {
            line,
            agency: s.agency.clone(),
            reason: reason.to_owned(),
        };
        let mut sig = [0u8; 64];
        if s.signature.len() != 128 || hex::decode_to_slice(&s.signature, &mut sig).is_err() {
            report.problem(problem("is not 128 hex digits"));
            continue;
        }
        if !agreement.is_member(&s.agency) {
            report.problem(problem("is not a member's"));
            continue;
        }
        if agreement.signatures.contains_key(&s.agency) {
            report.problem(problem("appears twice"));
            continue;
        }
        let Some(key) = report.keys.get(&s.agency) else {
            continue; // the missing key is reported already
        };
        if !accord_protocol::agreement::verify_agreement(key, &agreement.hash, &sig) {
            report.problem(problem("does not verify against the member's key"));
            continue;
        }
        agreement.signatures.insert(s.agency.clone(), sig);
    }
    if !agreement.fully_signed() {
        report.problem(BundleProblem::AgreementNotSigned {
            missing: agreement.missing_signatures(),
        });
    }
}

/// The header's counts match the lines read.
fn check_counts(header: &HeaderLine, parsed: &Parsed, report: &mut BundleReport) {
    for (what, stated, found) in [
        ("record", header.records, parsed.records.len()),
        ("tombstone", header.tombstones, parsed.tombstones.len()),
    ] {
        let found = found as u64;
        if stated != found {
            report.problem(BundleProblem::CountMismatch {
                what,
                stated,
                found,
            });
        }
    }
}

/// A record line as checked: its verdict, and what the sequence check needs.
struct Checked {
    verdict: RecordVerdict,
    /// The envelope's own id, when it decoded.
    actual_id: Option<RecordId>,
    /// Whether the signature verified with the originator's bundled key.
    signed: bool,
    /// Its sequence stream (the originator's key, or a key it delegated), when it decoded.
    stream: Option<StreamId>,
    /// Whether the exporting node held it past the agreement's retention at the export time.
    past_retention: bool,
}

/// Checks one record line on its own: encoding, id, record, signature, policy.
fn check_record(
    line: usize,
    item: &RecordLine,
    keys: &BTreeMap<AgencyId, PublicKey>,
    agreement: Option<&Agreement>,
    exported_at: Timestamp,
) -> Checked {
    let mut checked = Checked {
        verdict: RecordVerdict {
            line,
            id: item.id,
            originator: None,
            seq: None,
            failures: Vec::new(),
        },
        actual_id: None,
        signed: false,
        stream: None,
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
    checked.stream = Some(envelope.stream_of(&record));
    match verify(envelope, keys) {
        Ok(_) => checked.signed = true,
        Err(VerifyError::Record(e)) => failures.push(RecordFailure::Record(e)),
        Err(VerifyError::UnknownOriginator(_)) => failures.push(RecordFailure::NoKey {
            originator: record.originator.clone(),
        }),
        Err(e) => failures.push(RecordFailure::Signature(e)),
    }
    if let Some(agreement) = agreement
        && let Err(reason) = permitted(&record, agreement)
    {
        failures.push(RecordFailure::NotPermitted(reason));
    }
    checked.past_retention = agreement
        .is_some_and(|a| crate::policy::within_retention(&record, a, exported_at).is_err());
    checked
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

/// A tombstone kept for the sequence check: its line and record id, by (stream, seq). A
/// tombstone names its originator only, so it stands in the originator's own stream.
type TombstoneSlots = BTreeMap<(StreamId, Seq), (usize, RecordId)>;

/// Tombstones name the bundled agreement and claim each (originator, seq) at most once.
fn check_tombstones(
    tombstones: &[(usize, BundleTombstone)],
    header: &HeaderLine,
    report: &mut BundleReport,
) -> TombstoneSlots {
    let mut slots = TombstoneSlots::new();
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
        let slot = (StreamId::agency(&t.originator), t.seq);
        if let Some((first, _)) = slots.get(&slot) {
            report.problem(BundleProblem::DuplicateTombstone {
                line: *line,
                originator: t.originator.clone(),
                seq: t.seq,
                first: *first,
            });
            continue;
        }
        slots.insert(slot, (*line, t.id));
    }
    slots
}

/// Per originator: no sequence number claimed by two records, or by a record and a tombstone
/// of another record; and no gap from 1 to the highest number held by a record whose signature
/// verifies or by a tombstone.
fn check_sequences(
    checked: &mut [Checked],
    tombstones: &TombstoneSlots,
    report: &mut BundleReport,
) {
    // Only records whose signature verifies hold their number: the originator vouches for them.
    let mut held: BTreeMap<(StreamId, Seq), BTreeSet<RecordId>> = BTreeMap::new();
    for c in checked.iter().filter(|c| c.signed) {
        if let (Some(stream), Some(seq), Some(id)) = (&c.stream, c.verdict.seq, c.actual_id) {
            held.entry((stream.clone(), seq)).or_default().insert(id);
        }
    }
    for c in checked.iter_mut().filter(|c| c.signed) {
        let (Some(stream), Some(originator), Some(seq), Some(id)) = (
            c.stream.clone(),
            c.verdict.originator.clone(),
            c.verdict.seq,
            c.actual_id,
        ) else {
            continue;
        };
        let slot = (stream, seq);
        if let Some(ids) = held.get(&slot) {
            for other in ids.iter().filter(|other| **other != id) {
                c.verdict.failures.push(RecordFailure::Equivocation {
                    originator: originator.clone(),
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
                    originator: originator.clone(),
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
