//! Verifying an audit export offline: `accord audit verify`, the auditor's tool.

mod bundle;
mod checkpoints;
mod entries;

use bundle::check_bundle;
use checkpoints::{check_head, check_own_checkpoints, check_partner_checkpoints};
use entries::{check_delivered_were_sent, check_entries, check_receipts};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use accord_config::{Agreement, parse_agreement};
use accord_protocol::audit::{
    AuditEntry, AuditEvent, Digest32, Signed, SlotCheckpoint, sha256, verify_checkpoint,
    verify_slot_checkpoint,
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
