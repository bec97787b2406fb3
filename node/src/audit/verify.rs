//! Verifying an audit export offline: `accord audit verify`, the auditor's tool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use accord_config::{Agreement, parse_agreement};
use accord_protocol::audit::{
    AuditEntry, AuditEvent, Digest32, Signed, SlotCheckpoint, sha256, verify_checkpoint,
    verify_receipt, verify_slot_checkpoint,
};
use accord_protocol::{AgencyId, AgreementId, PublicKey};

use super::chain::{self, Chain, HeadAt};
use super::keys::{KeyHistory, Keys, claims, history_of, verify_checkpoint_with};
use super::partners::check_partner;
use super::report::{AuditNote, AuditProblem, AuditReport, kind_name};
use super::{
    AGREEMENTS, CHECKPOINTS, EXPORT_FORMAT, EXPORT_VERSION, KEY_HISTORY, KEYS, LOG, MANIFEST,
    Manifest, PARTNER_CHECKPOINTS, PARTNER_FORKS, RECEIPTS,
};

/// Verifies the audit export in `dir`, and this agency's checkpoints that the partners'
/// exports in `partners` hold. Never panics; every problem is in the report.
///
/// - the chain (see docs/auditing.md): every line a canonical entry of the manifest's agency,
///   indexes 0, 1, 2, … in order, each `prev` the hash of the entry before (zeros first); the
///   first broken place is named as an entry missing, inserted, reordered or altered;
/// - the end: the manifest's count and head, and every own checkpoint's, against the log (a
///   log shorter than a count was truncated); one own checkpoint signs the manifest's head;
/// - every own and partner checkpoint verifies (strict ed25519) with the key its signer had
///   when it signed (the key history the log's `key` and `config` entries give, which
///   key-history.json must repeat; keys.json for agencies the log names no key of); no partner
///   signed two heads for one count, among the checkpoints kept and the conflicting ones the
///   node set aside (partner-forks.txt);
/// - every checkpoint of this agency a partner's export holds agrees with this log: a
///   disagreement means this agency rewrote its history;
/// - every publish, send, delivered and receive entry is allowed by its agreement's exported
///   file: its parties are members and the agreement was in force at the entry's time; a send
///   entry passes the whole send policy: every member's signature of the file is exported and
///   verifies, the category, handling code and victim data it states are permitted, the record
///   had not expired and was within the agreement's retention;
/// - every receipt verifies with its receiver's key and matches exactly one delivered entry,
///   and every delivered entry has its receipt;
/// - the log's latest key entry names the key keys.json gives the agency;
/// - every file has the SHA-256 the manifest lists, and no file is unlisted.
pub fn verify_export(dir: &Path, partners: &[PathBuf]) -> AuditReport {
    verify_export_with(dir, partners, &[], &mut |_, _| {})
}

/// The checks [`verify_export_with`] makes one after another (its progress counts them).
pub const VERIFY_STEPS: u64 = 7;

/// [`verify_export`], calling `progress` with (checks done, [`VERIFY_STEPS`]) after each of
/// its checks: the chain, own checkpoints, partners' checkpoints, partners' exports, the
/// entries against the agreements, the receipts, the files.
///
/// Each bundle in `bundles` (files `accord export` wrote) must be named by an `export` entry of
/// the log (its SHA-256), verify on its own, state the entry's agreement and counts, and hold
/// exactly the records the log says were held under that agreement when the entry was
/// written (published or received, not purged), with a tombstone for each record purged.
pub fn verify_export_with(
    dir: &Path,
    partners: &[PathBuf],
    bundles: &[PathBuf],
    progress: &mut dyn FnMut(u64, u64),
) -> AuditReport {
    let mut step = 0;
    let mut advance = |progress: &mut dyn FnMut(u64, u64)| {
        step += 1;
        progress(step, VERIFY_STEPS);
    };
    let mut r = AuditReport::default();
    let manifest = read_manifest(dir, &mut r.problems);
    if let Some(m) = &manifest {
        r.agency = Some(m.agency.clone());
        r.exported_at = Some(m.exported_at);
        r.entries = Some(m.entries);
        r.head = Some(m.head);
    }
    let agency = manifest.as_ref().map(|m| m.agency.clone());
    let listed = read_keys(dir, agency.as_ref(), &mut r.problems);
    let log = read(dir, LOG, &mut r.problems).unwrap_or_default();
    let mut chain = chain::check(&log, agency.as_ref());
    let history = match &agency {
        Some(a) => history_of(a, chain.entries().map(|(_, e)| e)),
        None => KeyHistory::new(),
    };
    check_history_file(dir, &history, &mut r.problems);
    let keys = Keys {
        listed: &listed,
        history: &history,
    };
    r.lines = chain.lines.len() as u64;
    for (_, e) in chain.entries() {
        *r.kinds.entry(kind_name(&e.event)).or_insert(0) += 1;
    }
    r.problems.extend(
        std::mem::take(&mut chain.problems)
            .into_iter()
            .map(|(_, p)| p),
    );

    advance(progress);
    if let Some(m) = &manifest {
        check_head(&chain, m.entries, m.head, "the manifest", &mut r.problems);
        if r.lines > m.entries {
            r.problems.push(AuditProblem::Longer {
                lines: r.lines,
                count: m.entries,
            });
        }
    }
    check_own_checkpoints(dir, &chain, manifest.as_ref(), &keys, &mut r);
    advance(progress);
    check_partner_checkpoints(dir, agency.as_ref(), &keys, &mut r);
    advance(progress);
    if let Some(m) = &manifest {
        for p in partners {
            let summary = check_partner(p, m, &chain, &keys, &mut r);
            r.partners.push(summary);
        }
    }
    advance(progress);
    let agreements = read_agreements(dir, &mut r.problems);
    r.agreements = agreements.keys().cloned().collect();
    let signed = read_signatures(dir, &agreements, &keys, &mut r.problems);
    check_entries(&chain, &agreements, &signed, &mut r);
    advance(progress);
    check_receipts(dir, &chain, &keys, &mut r);
    check_delivered_were_sent(&chain, &mut r);
    for b in bundles {
        check_bundle(b, &chain, &mut r);
    }
    advance(progress);
    check_key(&chain, agency.as_ref(), &listed, &mut r.problems);
    if let Some(m) = &manifest {
        check_files(dir, m, &mut r.problems);
    }
    advance(progress);
    r
}

/// Reads a file of the export; a missing or unreadable file is a problem.
pub(super) fn read(dir: &Path, name: &str, problems: &mut Vec<AuditProblem>) -> Option<Vec<u8>> {
    match std::fs::read(dir.join(name)) {
        Ok(b) => Some(b),
        Err(e) => {
            problems.push(AuditProblem::File {
                file: name.to_owned(),
                reason: format!("cannot read it: {e}"),
            });
            None
        }
    }
}

/// The lines of a text file, the final newline ending the last line.
fn text_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The signed objects of a text file, by line number; unreadable lines are reported through
/// `bad`.
pub(super) fn signed_lines(
    bytes: &[u8],
    mut bad: impl FnMut(usize, String),
) -> Vec<(usize, Signed)> {
    let mut out = Vec::new();
    for (i, raw) in text_lines(bytes).into_iter().enumerate() {
        let parsed = std::str::from_utf8(raw)
            .map_err(|_| "the line is not UTF-8".to_owned())
            .and_then(|text| Signed::from_line(text).map_err(|e| e.to_string()));
        match parsed {
            Ok(s) => out.push((i + 1, s)),
            Err(reason) => bad(i + 1, reason),
        }
    }
    out
}

pub(super) fn read_manifest(dir: &Path, problems: &mut Vec<AuditProblem>) -> Option<Manifest> {
    let bytes = read(dir, MANIFEST, problems)?;
    let m: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            problems.push(AuditProblem::File {
                file: MANIFEST.into(),
                reason: format!("not a manifest: {e}"),
            });
            return None;
        }
    };
    if m.format != EXPORT_FORMAT || m.version != EXPORT_VERSION {
        problems.push(AuditProblem::File {
            file: MANIFEST.into(),
            reason: format!(
                "format `{}` version {}; this verifier reads `{EXPORT_FORMAT}` version \
                 {EXPORT_VERSION}",
                m.format, m.version
            ),
        });
        return None;
    }
    Some(m)
}

fn read_keys(
    dir: &Path,
    agency: Option<&AgencyId>,
    problems: &mut Vec<AuditProblem>,
) -> BTreeMap<AgencyId, PublicKey> {
    let Some(bytes) = read(dir, KEYS, problems) else {
        return BTreeMap::new();
    };
    match serde_json::from_slice::<BTreeMap<AgencyId, PublicKey>>(&bytes) {
        Ok(keys) => {
            if let Some(a) = agency
                && !keys.contains_key(a)
            {
                problems.push(AuditProblem::File {
                    file: KEYS.into(),
                    reason: format!("no key for {a}, whose log this is"),
                });
            }
            keys
        }
        Err(e) => {
            problems.push(AuditProblem::File {
                file: KEYS.into(),
                reason: format!("not a map of agency ids to `ed25519:` keys: {e}"),
            });
            BTreeMap::new()
        }
    }
}

/// Checks that this log's first `count` entries end with `head`.
fn check_head(
    chain: &Chain,
    count: u64,
    head: Digest32,
    by: &str,
    problems: &mut Vec<AuditProblem>,
) {
    match chain.head_at(count) {
        HeadAt::Found { hash, .. } if hash == head => {}
        HeadAt::Found { line, hash } => problems.push(AuditProblem::HeadMismatch {
            by: by.to_owned(),
            index: count.saturating_sub(1),
            line,
            stated: head,
            actual: hash,
        }),
        HeadAt::Beyond => problems.push(AuditProblem::Truncated {
            lines: chain.lines.len() as u64,
            count,
            by: by.to_owned(),
        }),
        HeadAt::Absent => problems.push(AuditProblem::HeadMissing {
            by: by.to_owned(),
            count,
        }),
    }
}

fn check_own_checkpoints(
    dir: &Path,
    chain: &Chain,
    manifest: Option<&Manifest>,
    keys: &Keys<'_>,
    r: &mut AuditReport,
) {
    let Some(bytes) = read(dir, CHECKPOINTS, &mut r.problems) else {
        return;
    };
    let mut problems = Vec::new();
    let mut signs_manifest = false;
    let lines = signed_lines(&bytes, |line, reason| {
        problems.push(AuditProblem::BadCheckpoint {
            file: CHECKPOINTS.into(),
            line,
            reason,
        });
    });
    for (line, s) in lines {
        // the key of the latest `key` entry among the entries it counts
        let key = claims(&s).and_then(|c| keys.at_index(&c.agency, c.count));
        let c = match verify_checkpoint(&s, |_| key) {
            Ok(c) => c,
            Err(e) => {
                problems.push(AuditProblem::BadCheckpoint {
                    file: CHECKPOINTS.into(),
                    line,
                    reason: format!(
                        "{e}, with the key in force for the entries it counts{}",
                        key.map(|k| format!(" ({k})")).unwrap_or_default()
                    ),
                });
                continue;
            }
        };
        if let Some(m) = manifest
            && c.agency != m.agency
        {
            problems.push(AuditProblem::BadCheckpoint {
                file: CHECKPOINTS.into(),
                line,
                reason: format!("a checkpoint of {}, not of {}", c.agency, m.agency),
            });
            continue;
        }
        r.own_checkpoints += 1;
        let by = format!(
            "the checkpoint signed at {} (checkpoints.txt line {line})",
            c.time
        );
        check_head(chain, c.count, c.head, &by, &mut problems);
        signs_manifest |= manifest.is_some_and(|m| m.entries == c.count && m.head == c.head);
    }
    if let Some(m) = manifest
        && !signs_manifest
    {
        problems.push(AuditProblem::HeadUnsigned {
            count: m.entries,
            head: m.head,
        });
    }
    r.problems.extend(problems);
}

/// The partners' checkpoints the node keeps, then the conflicting ones it set aside: each
/// verifies with a key its signer had at its time; two heads for one count (a counted
/// checkpoint) or for one slot (a slot checkpoint) are a fork.
fn check_partner_checkpoints(
    dir: &Path,
    agency: Option<&AgencyId>,
    keys: &Keys<'_>,
    r: &mut AuditReport,
) {
    let mut problems = Vec::new();
    // (agency, is a slot, slot or count) -> the first head signed for it, and where
    let mut seen: BTreeMap<(AgencyId, bool, u64), (Digest32, String, usize)> = BTreeMap::new();
    for file in [PARTNER_CHECKPOINTS, PARTNER_FORKS] {
        let Some(bytes) = read(dir, file, &mut r.problems) else {
            continue;
        };
        let lines = signed_lines(&bytes, |line, reason| {
            problems.push(AuditProblem::BadCheckpoint {
                file: file.into(),
                line,
                reason,
            });
        });
        for (line, s) in lines {
            let bad = |reason: String| AuditProblem::BadCheckpoint {
                file: file.into(),
                line,
                reason,
            };
            // (agency, slot?, position, head), verified with a key its signer had then
            let verified = match serde_json::from_slice::<SlotCheckpoint>(&s.bytes) {
                Ok(claimed) => keys
                    .in_force_at(&claimed.agency, claimed.time)
                    .iter()
                    .find_map(|k| verify_slot_checkpoint(&s, |_| Some(*k)).ok())
                    .map(|c| (c.agency, true, c.slot, c.head))
                    .ok_or_else(|| {
                        "a slot checkpoint that does not verify with any key its signer had at \
                         the time it states"
                            .to_owned()
                    }),
                Err(_) => {
                    let candidates = claims(&s)
                        .map(|c| keys.in_force_at(&c.agency, c.time))
                        .unwrap_or_default();
                    verify_checkpoint_with(&s, &candidates)
                        .map(|c| (c.agency, false, c.count, c.head))
                        .map_err(|e| {
                            format!("{e}, with any key its signer had at the time it states")
                        })
                }
            };
            let (signer, slot, at, head) = match verified {
                Ok(v) => v,
                Err(reason) => {
                    problems.push(bad(reason));
                    continue;
                }
            };
            if Some(&signer) == agency {
                problems.push(bad(format!(
                    "a checkpoint of {signer} itself among its partners'"
                )));
                continue;
            }
            if file == PARTNER_CHECKPOINTS {
                r.partner_checkpoints += 1;
            } else {
                r.partner_forks += 1;
            }
            match seen.get(&(signer.clone(), slot, at)) {
                Some((first_head, first_file, first)) if *first_head != head => {
                    let (first_file, first, file) = (first_file.clone(), *first, file.to_owned());
                    problems.push(if slot {
                        AuditProblem::PartnerSlotFork {
                            agency: signer,
                            slot: at,
                            first_file,
                            first,
                            file,
                            line,
                        }
                    } else {
                        AuditProblem::PartnerFork {
                            agency: signer,
                            count: at,
                            first_file,
                            first,
                            file,
                            line,
                        }
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert((signer, slot, at), (head, file.to_owned(), line));
                }
            }
        }
    }
    r.problems.extend(problems);
}

/// key-history.json must be the history the log's entries give.
fn check_history_file(dir: &Path, history: &KeyHistory, problems: &mut Vec<AuditProblem>) {
    let Some(bytes) = read(dir, KEY_HISTORY, problems) else {
        return;
    };
    match serde_json::from_slice::<KeyHistory>(&bytes) {
        Ok(h) if h == *history => {}
        Ok(_) => problems.push(AuditProblem::File {
            file: KEY_HISTORY.into(),
            reason: "it is not the history of keys the log's `key` and `config` entries give"
                .into(),
        }),
        Err(e) => problems.push(AuditProblem::File {
            file: KEY_HISTORY.into(),
            reason: format!("not a key history: {e}"),
        }),
    }
}

/// The members whose signature of each agreement's exported file verifies, from
/// `agreements/<ID>.toml.sigs` (with any key the member has had).
fn read_signatures(
    dir: &Path,
    agreements: &BTreeMap<AgreementId, Agreement>,
    keys: &Keys<'_>,
    problems: &mut Vec<AuditProblem>,
) -> BTreeMap<AgreementId, BTreeSet<AgencyId>> {
    let mut out = BTreeMap::new();
    for (id, a) in agreements {
        let file = format!("{AGREEMENTS}/{id}.toml.sigs");
        let signers: &mut BTreeSet<AgencyId> = out.entry(id.clone()).or_default();
        let Ok(text) = std::fs::read_to_string(dir.join(&file)) else {
            continue;
        };
        let lines = match accord_protocol::agreement::parse_signature_file(&text) {
            Ok(l) => l,
            Err(errors) => {
                problems.push(AuditProblem::File {
                    file,
                    reason: errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                });
                continue;
            }
        };
        for l in lines {
            let valid = a.is_member(&l.agency)
                && keys.all(&l.agency).iter().any(|k| {
                    accord_protocol::agreement::verify_agreement(k, &a.hash, &l.signature)
                });
            if valid {
                signers.insert(l.agency);
            } else {
                problems.push(AuditProblem::File {
                    file: file.clone(),
                    reason: format!(
                        "line {}: the signature of {} does not verify for this file with any key \
                         of {} (or {} is not a member)",
                        l.line, l.agency, l.agency, l.agency
                    ),
                });
            }
        }
    }
    out
}

/// Every `agreements/*.toml` of the export, parsed, keyed by id.
fn read_agreements(
    dir: &Path,
    problems: &mut Vec<AuditProblem>,
) -> BTreeMap<AgreementId, Agreement> {
    let mut out = BTreeMap::new();
    let entries = match std::fs::read_dir(dir.join(AGREEMENTS)) {
        Ok(e) => e,
        Err(e) => {
            problems.push(AuditProblem::File {
                file: AGREEMENTS.into(),
                reason: format!("cannot read the directory: {e}"),
            });
            return out;
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let file = format!("{AGREEMENTS}/{name}");
        let Some(stem) = name.strip_suffix(".toml") else {
            continue;
        };
        let Some(bytes) = read(dir, &file, problems) else {
            continue;
        };
        match parse_agreement(Path::new(&file), &bytes) {
            Ok(a) if a.id.as_str() == stem => {
                out.insert(a.id.clone(), a);
            }
            Ok(a) => problems.push(AuditProblem::File {
                file,
                reason: format!("defines agreement {}, not {stem}", a.id),
            }),
            Err(errors) => problems.push(AuditProblem::File {
                file,
                reason: format!("not a valid agreement:\n{errors}"),
            }),
        }
    }
    out
}

/// Each data-moving entry against its agreement's exported file.
fn check_entries(
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
            AuditEvent::Delivered { agreement, to, .. } => {
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
        if let AuditEvent::Send {
            record, content, ..
        } = &e.event
            && let Err(reason) = send_policy(a, signed.get(agreement), content.as_ref(), e.time)
        {
            r.problems.push(AuditProblem::SendNotAllowed {
                line,
                index: e.index,
                record: *record,
                agreement: agreement.clone(),
                reason,
            });
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

/// The send policy (docs/ARCHITECTURE.md, `may_send`) as far as the entry states the record:
/// the agreement signed by every member, the category, handling code and victim data
/// permitted, the record not expired and within the agreement's retention at `time`. Its
/// membership and validity dates are checked with every entry's.
fn send_policy(
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
fn check_receipts(dir: &Path, chain: &Chain, keys: &Keys<'_>, r: &mut AuditReport) {
    let Some(bytes) = read(dir, RECEIPTS, &mut r.problems) else {
        return;
    };
    let delivered: Vec<(usize, &AuditEntry)> = chain
        .entries()
        .filter(|(_, e)| matches!(e.event, AuditEvent::Delivered { .. }))
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
            AuditEvent::Delivered { receipt: h, .. } if *h == hash => Some(e.index),
            _ => None,
        });
        let receiver = serde_json::from_slice::<accord_protocol::audit::Receipt>(&s.bytes)
            .ok()
            .map(|r| r.receiver);
        let candidates: Vec<PublicKey> = match (&receiver, at) {
            (Some(a), Some(i)) => keys.at_index(a, i).into_iter().collect(),
            (Some(a), None) => keys.all(a),
            _ => Vec::new(),
        };
        let mut result = verify_receipt(s, |_| None);
        for k in &candidates {
            result = verify_receipt(s, |_| Some(*k));
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
        if let AuditEvent::Delivered {
            record,
            to,
            receipt,
            ..
        } = &e.event
            && !present.contains(receipt)
        {
            problems.push(AuditProblem::MissingReceipt {
                line,
                index: e.index,
                record: *record,
                to: to.clone(),
                receipt: *receipt,
            });
        }
    }
    r.problems.extend(problems);
}

/// The log's latest key entry against keys.json.
fn check_key(
    chain: &Chain,
    agency: Option<&AgencyId>,
    keys: &BTreeMap<AgencyId, PublicKey>,
    problems: &mut Vec<AuditProblem>,
) {
    let Some(agency) = agency else { return };
    let logged = chain
        .entries()
        .filter_map(|(line, e)| match &e.event {
            AuditEvent::Key { public_key } => Some((line, *public_key)),
            _ => None,
        })
        .last();
    if let (Some((line, logged)), Some(listed)) = (logged, keys.get(agency))
        && logged != *listed
    {
        problems.push(AuditProblem::KeyMismatch {
            agency: agency.clone(),
            listed: listed.to_string(),
            logged: logged.to_string(),
            line,
        });
    }
}

/// Every file against the manifest's list, and no file unlisted.
fn check_files(dir: &Path, m: &Manifest, problems: &mut Vec<AuditProblem>) {
    let mut listed = BTreeSet::new();
    for f in &m.files {
        listed.insert(f.name.clone());
        let safe = !f.name.is_empty()
            && !f.name.starts_with('/')
            && f.name
                .split('/')
                .all(|part| !part.is_empty() && part != "..");
        if !safe {
            problems.push(AuditProblem::File {
                file: MANIFEST.into(),
                reason: format!("lists `{}`, which is not a path inside the export", f.name),
            });
            continue;
        }
        // a missing file was reported when it was read
        if let Ok(bytes) = std::fs::read(dir.join(&f.name)) {
            let actual = sha256(&bytes);
            if actual != f.sha256 {
                problems.push(AuditProblem::FileChanged {
                    file: f.name.clone(),
                    stated: f.sha256,
                    actual,
                });
            }
        }
    }
    for name in [
        LOG,
        CHECKPOINTS,
        PARTNER_CHECKPOINTS,
        PARTNER_FORKS,
        RECEIPTS,
        KEYS,
        KEY_HISTORY,
    ] {
        if !listed.contains(name) {
            problems.push(AuditProblem::File {
                file: MANIFEST.into(),
                reason: format!("does not list {name}"),
            });
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join(AGREEMENTS)) {
        let mut unlisted: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| format!("{AGREEMENTS}/{}", e.file_name().to_string_lossy()))
            .filter(|name| !listed.contains(name))
            .collect();
        unlisted.sort();
        for file in unlisted {
            problems.push(AuditProblem::Unlisted { file });
        }
    }
}

/// Every `delivered` entry follows a `send` of the same record to the same member.
fn check_delivered_were_sent(chain: &Chain, r: &mut AuditReport) {
    let mut sent: BTreeSet<(accord_protocol::RecordId, &AgencyId)> = BTreeSet::new();
    for (_, e) in chain.entries() {
        match &e.event {
            AuditEvent::Send { record, to, .. } => {
                sent.insert((*record, to));
            }
            AuditEvent::Delivered { record, to, .. } if !sent.contains(&(*record, to)) => {
                r.problems.push(AuditProblem::DeliveredWithoutSend {
                    index: e.index,
                    record: *record,
                    to: to.clone(),
                });
            }
            _ => {}
        }
    }
}

/// A bundle against the log: see [`verify_export_with`].
fn check_bundle(path: &Path, chain: &Chain, r: &mut AuditReport) {
    use accord_protocol::RecordId;
    r.bundles += 1;
    let file = path.display().to_string();
    let mut problem = |reason: String| {
        r.problems.push(AuditProblem::Bundle {
            file: file.clone(),
            reason,
        })
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return problem(format!("cannot be read: {e}")),
    };
    let digest = sha256(&bytes);
    let Some((index, agreement, records, tombstones)) =
        chain.entries().find_map(|(_, e)| match &e.event {
            AuditEvent::Export {
                agreement,
                records,
                bundle,
                tombstones,
                ..
            } if *bundle == digest => Some((e.index, agreement.clone(), *records, *tombstones)),
            _ => None,
        })
    else {
        return problem(format!(
            "no export entry names its SHA-256 {digest}: this node did not write it, or it was \
             altered"
        ));
    };
    let report = crate::bundle::verify_bundle(&bytes);
    if !report.is_ok() {
        problem(format!(
            "it does not verify on its own (`accord verify` it): {}",
            report.to_string().lines().last().unwrap_or_default()
        ));
    }
    if let Some(h) = &report.header
        && h.agreement != agreement
    {
        problem(format!(
            "it is of agreement {}, the export entry {index} of {agreement}",
            h.agreement
        ));
    }
    // the ids the bundle lists, and the rotations and revocations it carries
    let mut listed: BTreeSet<RecordId> = BTreeSet::new();
    let mut purged_listed: BTreeSet<RecordId> = BTreeSet::new();
    let mut rotations: BTreeSet<Digest32> = BTreeSet::new();
    let mut revocations: BTreeSet<(AgencyId, Digest32)> = BTreeSet::new();
    for line in bytes.split(|b| *b == b'\n') {
        #[derive(serde::Deserialize)]
        struct Probe {
            #[serde(rename = "type")]
            kind: String,
            id: Option<RecordId>,
            statement: Option<String>,
            revocation: Option<String>,
        }
        let Ok(p) = serde_json::from_slice::<Probe>(line) else {
            continue;
        };
        match (p.kind.as_str(), p.id) {
            ("record", Some(id)) => {
                listed.insert(id);
            }
            ("tombstone", Some(id)) => {
                purged_listed.insert(id);
            }
            ("rotation", _) => {
                if let Some(s) = p.statement {
                    rotations.insert(sha256(s.as_bytes()));
                }
            }
            ("revocation", _) => {
                if let Some(r) = p.revocation.and_then(|r| {
                    serde_json::from_str::<accord_protocol::delegation::Revocation>(&r).ok()
                }) {
                    revocations.insert((r.agency, r.certificate));
                }
            }
            _ => {}
        }
    }
    if listed.len() as u64 != records {
        problem(format!(
            "it holds {} records; export entry {index} says {records}",
            listed.len()
        ));
    }
    if let Some(t) = tombstones
        && purged_listed.len() as u64 != t
    {
        problem(format!(
            "it holds {} tombstones; export entry {index} says {t}",
            purged_listed.len()
        ));
    }
    // what the log held under the agreement when the export entry was written
    let mut held: BTreeSet<RecordId> = BTreeSet::new();
    let mut purged: BTreeSet<RecordId> = BTreeSet::new();
    for (_, e) in chain.entries().take_while(|(_, e)| e.index < index) {
        match &e.event {
            AuditEvent::Publish {
                record,
                agreement: a,
                ..
            }
            | AuditEvent::Receive {
                record,
                agreement: a,
                ..
            } if *a == agreement => {
                held.insert(*record);
            }
            AuditEvent::Purge {
                record,
                agreement: a,
                ..
            } if *a == agreement => {
                held.remove(record);
                purged.insert(*record);
            }
            // what the bundle must carry of its members' keys and certificates
            AuditEvent::Rotation {
                agency, statement, ..
            } if report.keys.contains_key(agency) && !rotations.contains(statement) => {
                problem(format!(
                    "the log kept {agency}'s key rotation {statement} (entry {}) before the \
                     export, but the bundle lacks it",
                    e.index
                ));
            }
            AuditEvent::Revocation {
                agency,
                certificate,
                ..
            } if report.keys.contains_key(agency)
                && !revocations.contains(&(agency.clone(), *certificate)) =>
            {
                problem(format!(
                    "the log kept {agency}'s revocation of certificate {certificate} (entry {}) \
                     before the export, but the bundle lacks it",
                    e.index
                ));
            }
            _ => {}
        }
    }
    let missing: Vec<String> = held.difference(&listed).map(|id| id.short()).collect();
    if !missing.is_empty() {
        problem(format!(
            "the log held {} record(s) under {agreement} at export entry {index} that the bundle \
             lacks: {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    let extra: Vec<String> = listed.difference(&held).map(|id| id.short()).collect();
    if !extra.is_empty() {
        problem(format!(
            "it holds {} record(s) the log had not published or received under {agreement} by \
             export entry {index}: {}",
            extra.len(),
            extra.join(", ")
        ));
    }
    let phantom: Vec<String> = purged_listed
        .difference(&purged)
        .map(|id| id.short())
        .collect();
    if !phantom.is_empty() {
        problem(format!(
            "it holds {} tombstone(s) without a purge entry in the log: {}",
            phantom.len(),
            phantom.join(", ")
        ));
    }
    let untold: Vec<String> = purged
        .difference(&purged_listed)
        .map(|id| id.short())
        .collect();
    if !untold.is_empty() {
        problem(format!(
            "the log purged {} record(s) under {agreement} that the bundle has no tombstone \
             for: {}",
            untold.len(),
            untold.join(", ")
        ));
    }
}
