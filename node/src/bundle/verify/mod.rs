//! Verifying a bundle offline: `accord verify`, the auditor's tool.
//!
//! This file reads the lines and checks the header, the agreement and its signatures, the
//! revocations, the counts and the bundle's own signature; `keys` builds members' key
//! histories and `records` checks the records, tombstones and sequences. It is just over 600
//! lines because `verify_bundle_with` walks every check in the order docs/bundle.md gives.

mod keys;
mod records;

use keys::{Histories, key_histories};
use records::{check_record, check_record_order, check_sequences, check_tombstones};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use accord_config::{Agreement, parse_agreement};
use accord_protocol::audit::{Digest32, Signed};
use accord_protocol::canonical::decode_record;
use accord_protocol::delegation::{Delegation, verify_revocation};
use accord_protocol::rotation::{
    Rotation, RotationFile, SignedRotation, verify_attestation, verify_rotation,
};
use accord_protocol::verify::verify_strict_raw;
use accord_protocol::{
    AgencyId, Envelope, KeyDirectory, PublicKey, Record, RecordId, Seq, Signer, StreamId,
    Timestamp, VerifyError, verify,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::lines::{
    AgreementLine, HeaderLine, Kind, Line, RecordLine, RevocationLine, SignatureLine, TypeProbe,
};
use super::report::{
    ApprovalShown, BundleHeader, BundleProblem, BundleReport, Gap, KeyPeriod, RecordFailure,
    RecordVerdict, RevokedCertificate,
};
use super::{
    AGREEMENT_FILE_NAME, BUNDLE_DOMAIN, BUNDLE_VERSION, BundleTombstone, MAX_LINE_BYTES,
    OLDEST_BUNDLE_VERSION, sha256,
};
use crate::policy::{self, DenyReason, Party};

/// Verifies a bundle from its bytes alone. Never panics; every problem is in the report.
///
/// docs/bundle.md states every rule, in the order applied here: the lines (each a well-formed
/// object of its type, `type` first, LF endings, in the order header, agreement, keys,
/// rotations, revocations, records, tombstones, signature, each kind sorted); the header's
/// version (1 or 2) and counts; the agreement file (hash, validity, the header's agreement,
/// every member's signature under a key the member had); one key per member; each member's key
/// history (rotation statements signed by the new key and by the previous key or every other
/// member, chained to the member's listed key); the revocations (each signed by a key its
/// agency had); the exporter's signature of the whole bundle (version 2); then each record
/// (encoding, id, canonical record, signature with the key in force when it was made,
/// revocations applied, permitted by the agreement at its `created` time, one record per
/// stream and seq) and each stream's sequence (no gaps).
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
    if !(OLDEST_BUNDLE_VERSION..=BUNDLE_VERSION).contains(&header.version) {
        // Another format is not judged by these rules.
        report.problems.clear();
        report.problem(BundleProblem::UnsupportedVersion {
            found: header.version,
            supported: BUNDLE_VERSION,
        });
        return report;
    }
    let version = header.version;
    for (line, kind) in &parsed.kinds {
        if !kind.in_version(version) {
            report.problem(BundleProblem::NotInVersion {
                line: *line,
                found: kind.name(),
                version,
            });
        }
    }
    let agreement = match &parsed.agreement {
        Some((line, agreement)) => check_agreement(*line, agreement, &header, &mut report),
        None => {
            report.problem(BundleProblem::MissingAgreement);
            None
        }
    };
    check_keys(&parsed.keys, agreement.as_ref(), &mut report);
    let histories = key_histories(&parsed.rotations, agreement.as_ref(), &mut report);
    let agreement = agreement.map(|mut a| {
        if let Some((line, item)) = &parsed.agreement {
            check_signatures(*line, item, &mut a, &histories, &mut report);
        }
        a
    });
    let revoked = check_revocations(
        &parsed.revocations,
        agreement.as_ref(),
        &histories,
        &mut report,
    );
    check_counts(&header, &parsed, &mut report);
    if version >= 2 {
        check_bundle_signature(bytes, &parsed.signatures, &header, &mut report);
    }

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
            &histories,
            &revoked,
            agreement.as_ref(),
            header.exported_at,
        ));
    }
    check_record_order(&checked, version, &mut report);
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
    rotations: Vec<(usize, RotationFile)>,
    revocations: Vec<(usize, RevocationLine)>,
    records: Vec<(usize, RecordLine)>,
    tombstones: Vec<(usize, BundleTombstone)>,
    /// Signature lines, with the byte offset where each begins.
    signatures: Vec<(usize, usize, SignatureLine)>,
    /// Every line read, with its kind.
    kinds: Vec<(usize, Kind)>,
}

/// Splits the bundle into lines, parses each and checks their order and form.
fn read_lines(bytes: &[u8], report: &mut BundleReport) -> Parsed {
    let mut parsed = Parsed::default();
    // The last line may end without a newline; an empty piece after the final newline is no
    // line.
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut last: Option<Kind> = None;
    let mut offset = 0usize;
    for (index, text) in body.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let start = offset;
        offset += text.len() + 1;
        if text.last() == Some(&b'\r') {
            report.problem(BundleProblem::LineEnding { line });
        }
        let Some(item) = parse_line(line, text, report) else {
            continue;
        };
        if !text.starts_with(br#"{"type":"#) {
            report.problem(BundleProblem::TypeNotFirst { line });
        }
        let kind = item.kind();
        parsed.kinds.push((line, kind));
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
            Line::Rotation(r) => parsed.rotations.push((line, r)),
            Line::Revocation(r) => parsed.revocations.push((line, r)),
            Line::Record(r) => parsed.records.push((line, r)),
            Line::Tombstone(t) => parsed.tombstones.push((line, t)),
            Line::Signature(s) => parsed.signatures.push((line, start, s)),
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
        (Kind::Signature, Some(Kind::Signature)) => "appears a second time".to_owned(),
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

/// One key per member and none for others, sorted by agency; fills the report's key
/// directory.
fn check_keys(
    keys: &[(usize, AgencyId, PublicKey)],
    agreement: Option<&Agreement>,
    report: &mut BundleReport,
) {
    let mut first_line: BTreeMap<&AgencyId, usize> = BTreeMap::new();
    let mut previous: Option<&AgencyId> = None;
    for (line, agency, key) in keys {
        if let Some(first) = first_line.get(agency) {
            report.problem(BundleProblem::DuplicateKey {
                line: *line,
                agency: agency.clone(),
                first: *first,
            });
            continue;
        }
        if previous.is_some_and(|p| p > agency) {
            report.problem(BundleProblem::Unsorted {
                line: *line,
                what: "key",
                rule: "by agency id",
            });
        }
        previous = Some(agency);
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

/// Each signature of the agreement file is a member's and verifies under a key the member had
/// (signatures are kept across rotations); the valid ones make the agreement's signatures, and
/// every member must have signed.
fn check_signatures(
    line: usize,
    item: &AgreementLine,
    agreement: &mut Agreement,
    histories: &Histories,
    report: &mut BundleReport,
) {
    for s in &item.signatures {
        let problem = |reason: &str| BundleProblem::AgreementSignature {
            line,
            agency: s.agency.clone(),
            reason: reason.to_owned(),
        };
        let mut sig = [0u8; 64];
        if !lower_hex(&s.signature, 128) || hex::decode_to_slice(&s.signature, &mut sig).is_err() {
            report.problem(problem("is not 128 lower-case hex digits"));
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
        let Some(chain) = histories.get(&s.agency) else {
            continue; // the missing key is reported already
        };
        if !chain
            .all()
            .any(|key| accord_protocol::agreement::verify_agreement(key, &agreement.hash, &sig))
        {
            report.problem(problem("does not verify against any key of the member"));
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

/// Whether `text` is `len` lower-case hex digits.
fn lower_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Revocations by (agency, certificate id): from when the certificate's key is not trusted.
type Revoked = BTreeMap<(AgencyId, [u8; 32]), Timestamp>;

/// Each revocation line: 128 hex digits of signature, a canonical revocation of a member,
/// signed by a key that member had, not listed twice; sorted by (agency, certificate id).
fn check_revocations(
    lines: &[(usize, RevocationLine)],
    agreement: Option<&Agreement>,
    histories: &Histories,
    report: &mut BundleReport,
) -> Revoked {
    let mut out = Revoked::new();
    let mut previous: Option<(AgencyId, [u8; 32])> = None;
    for (line, item) in lines {
        let problem = |reason: String| BundleProblem::Revocation {
            line: *line,
            reason,
        };
        let mut signature = [0u8; 64];
        if !lower_hex(&item.signature, 128)
            || hex::decode_to_slice(&item.signature, &mut signature).is_err()
        {
            report.problem(problem(
                "the signature is not 128 lower-case hex digits".into(),
            ));
            continue;
        }
        let signed = Signed {
            bytes: item.revocation.as_bytes().to_vec(),
            signature,
        };
        let agency =
            serde_json::from_slice::<accord_protocol::delegation::Revocation>(&signed.bytes)
                .map(|r| r.agency);
        let keys: Vec<PublicKey> = agency
            .as_ref()
            .ok()
            .and_then(|a| histories.get(a))
            .map(|c| c.all().copied().collect())
            .unwrap_or_default();
        let mut result = verify_revocation(&signed, |_| keys.first().copied());
        for key in keys.iter().skip(1) {
            if result.is_ok() {
                break;
            }
            result = verify_revocation(&signed, |_| Some(*key));
        }
        let revocation = match result {
            Ok(r) => r,
            Err(e) => {
                report.problem(problem(e.to_string()));
                continue;
            }
        };
        if let Some(agreement) = agreement
            && !agreement.is_member(&revocation.agency)
        {
            report.problem(problem(format!(
                "{} is not a member of {}",
                revocation.agency, agreement.id
            )));
            continue;
        }
        let slot = (revocation.agency.clone(), revocation.certificate.0);
        if let Some(p) = &previous
            && *p >= slot
        {
            report.problem(if *p == slot {
                problem(format!(
                    "a second revocation of certificate {} of {}",
                    revocation.certificate, revocation.agency
                ))
            } else {
                BundleProblem::Unsorted {
                    line: *line,
                    what: "revocation",
                    rule: "by agency, then certificate id",
                }
            });
            if *p == slot {
                continue;
            }
        }
        previous = Some(slot.clone());
        report.revoked.push(RevokedCertificate {
            agency: revocation.agency.clone(),
            certificate: revocation.certificate,
            revoked: revocation.revoked,
        });
        out.insert(slot, revocation.revoked);
    }
    out
}

/// The header's counts match the lines read.
fn check_counts(header: &HeaderLine, parsed: &Parsed, report: &mut BundleReport) {
    let mut counts = vec![
        ("record", Some(header.records), parsed.records.len()),
        (
            "tombstone",
            Some(header.tombstones),
            parsed.tombstones.len(),
        ),
    ];
    if header.version >= 2 {
        counts.push(("rotation", header.rotations, parsed.rotations.len()));
        counts.push(("revocation", header.revocations, parsed.revocations.len()));
    }
    for (what, stated, found) in counts {
        let found = found as u64;
        match stated {
            Some(stated) if stated == found => {}
            Some(stated) => report.problem(BundleProblem::CountMismatch {
                what,
                stated,
                found,
            }),
            None => report.problem(BundleProblem::Malformed {
                line: 1,
                what: "header line",
                reason: format!("missing field `{what}s` (required from version 2)"),
            }),
        }
    }
}

/// Version 2: the last line is the exporting agency's signature over the SHA-256 of every byte
/// before it, under the exporter's listed key.
fn check_bundle_signature(
    bytes: &[u8],
    signatures: &[(usize, usize, SignatureLine)],
    header: &HeaderLine,
    report: &mut BundleReport,
) {
    let Some((line, start, s)) = signatures.first() else {
        report.problem(BundleProblem::Unsigned);
        return;
    };
    let problem = |reason: String| BundleProblem::BundleSignature {
        line: *line,
        reason,
    };
    if s.agency != header.exported_by {
        report.problem(problem(format!(
            "it is {}'s, but the header says {} exported the bundle",
            s.agency, header.exported_by
        )));
        return;
    }
    let Some(key) = report.keys.get(&s.agency).copied() else {
        report.problem(problem(format!(
            "the bundle lists no key for {}, so it cannot be checked",
            s.agency
        )));
        return;
    };
    let actual = sha256(&bytes[..*start]);
    if actual != s.sha256 {
        report.problem(problem(format!(
            "the lines before it hash to {}, not to the signed {}: lines were added, removed \
             or altered after the export was signed",
            hex::encode(actual),
            hex::encode(s.sha256)
        )));
        return;
    }
    let mut signature = [0u8; 64];
    if !lower_hex(&s.signature, 128) || hex::decode_to_slice(&s.signature, &mut signature).is_err()
    {
        report.problem(problem(
            "the signature is not 128 lower-case hex digits".into(),
        ));
        return;
    }
    if !verify_strict_raw(&key, &[BUNDLE_DOMAIN, &actual[..]].concat(), &signature) {
        report.problem(problem(format!(
            "it does not verify under {}'s listed key {key} (strict ed25519)",
            s.agency
        )));
        return;
    }
    report.signed_by = Some((s.agency.clone(), key));
}
