//! Comparing a log with the checkpoints of its agency that partners keep: a checkpoint that
//! disagrees with the log means the agency rewrote its history after signing it.

use std::collections::BTreeMap;
use std::path::Path;

use accord_protocol::audit::{Checkpoint, Signed, SlotCheckpoint, verify_checkpoint};
use accord_protocol::{AgencyId, PublicKey};

use super::chain::{Chain, HeadAt};
use super::keys::Keys;
use super::report::{AuditNote, AuditProblem, AuditReport, PartnerSummary};
use super::verify::{read, read_manifest, signed_lines};
use super::{KEYS, Manifest, PARTNER_CHECKPOINTS};

/// Compares this log with the checkpoints of its agency that a partner's export holds.
pub(super) fn check_partner(
    dir: &Path,
    manifest: &Manifest,
    chain: &Chain,
    keys: &Keys<'_>,
    r: &mut AuditReport,
) -> PartnerSummary {
    let mut summary = PartnerSummary {
        dir: dir.to_owned(),
        agency: None,
        checkpoints: 0,
        consistent: 0,
    };
    let agency = &manifest.agency;
    let fail = |reason: String| AuditProblem::PartnerExport {
        dir: dir.to_owned(),
        reason,
    };
    let mut scratch = Vec::new();
    let partner = match read_partner_manifest(dir) {
        // a partner-only export: only checkpoints of the agency it is about
        Some(Ok(m)) if m.about != *agency => {
            r.problems.push(fail(format!(
                "it is a partner-only export about {}, not about {agency}",
                m.about
            )));
            return summary;
        }
        Some(Ok(m)) => m.agency,
        Some(Err(reason)) => {
            r.problems.push(fail(reason));
            return summary;
        }
        None => {
            let Some(theirs) = read_manifest(dir, &mut scratch) else {
                r.problems
                    .extend(scratch.into_iter().map(|p| fail(p.to_string())));
                return summary;
            };
            theirs.agency
        }
    };
    summary.agency = Some(partner.clone());
    if partner == *agency {
        r.problems.push(fail(format!(
            "it is an export of {agency} itself, not of a partner"
        )));
        return summary;
    }
    let Some(key) = keys.listed.get(agency).copied() else {
        r.problems
            .push(fail(format!("keys.json holds no key for {agency}")));
        return summary;
    };
    if let Ok(bytes) = std::fs::read(dir.join(KEYS))
        && let Ok(their_keys) = serde_json::from_slice::<BTreeMap<AgencyId, PublicKey>>(&bytes)
        && let Some(their_key) = their_keys.get(agency)
        && *their_key != key
    {
        r.problems.push(fail(format!(
            "{partner} knows {agency} by the key {their_key}, this export by {key}"
        )));
    }
    let Some(bytes) = read(dir, PARTNER_CHECKPOINTS, &mut scratch) else {
        r.problems
            .extend(scratch.into_iter().map(|p| fail(p.to_string())));
        return summary;
    };
    let mut held: Vec<Checkpoint> = Vec::new();
    for (line, s) in signed_lines(&bytes, |_, _| {}) {
        if let Ok(c) = serde_json::from_slice::<SlotCheckpoint>(&s.bytes) {
            if c.agency == *agency {
                check_slot(
                    &s,
                    c,
                    &partner,
                    manifest,
                    chain,
                    keys,
                    key,
                    &mut summary,
                    r,
                    line,
                    dir,
                );
            }
            continue;
        }
        let Ok(c) = serde_json::from_slice::<Checkpoint>(&s.bytes) else {
            continue;
        };
        if c.agency != *agency {
            continue;
        }
        // signed with the key of the latest `key` entry among the entries it counts
        let in_force = keys.at_index(agency, c.count).unwrap_or(key);
        match verify_checkpoint(&s, |_| Some(in_force)) {
            Ok(c) => held.push(c),
            Err(e) => r.problems.push(fail(format!(
                "{PARTNER_CHECKPOINTS} line {line}: a checkpoint of {agency} that does not \
                 verify: {e}"
            ))),
        }
    }
    held.sort_by_key(|c| c.count);
    summary.checkpoints += held.len();
    let mut agrees_up_to = None;
    let (mut rewritten, mut truncated) = (false, false);
    for c in &held {
        match chain.head_at(c.count) {
            HeadAt::Found { hash, .. } if hash == c.head => {
                summary.consistent += 1;
                agrees_up_to = Some(c.count);
            }
            HeadAt::Beyond if c.time > manifest.exported_at => {
                r.notes.push(AuditNote::PartnerNewer {
                    partner: partner.clone(),
                    agency: agency.clone(),
                    count: c.count,
                    time: c.time,
                })
            }
            HeadAt::Beyond => {
                if !truncated {
                    truncated = true;
                    r.problems.push(AuditProblem::PartnerTruncated {
                        partner: partner.clone(),
                        agency: agency.clone(),
                        count: c.count,
                        time: c.time,
                        lines: chain.lines.len() as u64,
                    });
                }
            }
            found => {
                if !rewritten {
                    rewritten = true;
                    r.problems.push(AuditProblem::Rewritten {
                        partner: partner.clone(),
                        agency: agency.clone(),
                        count: c.count,
                        time: c.time,
                        signed: c.head,
                        actual: match found {
                            HeadAt::Found { hash, .. } => Some(hash),
                            _ => None,
                        },
                        agrees_up_to,
                    });
                }
            }
        }
    }
    summary
}

/// One slot checkpoint of this log's agency that a partner holds: signed with a key the agency
/// had at the time it states, and naming the hash of this log's `slot` entry for its slot.
#[allow(clippy::too_many_arguments)]
fn check_slot(
    s: &Signed,
    c: SlotCheckpoint,
    partner: &AgencyId,
    manifest: &Manifest,
    chain: &Chain,
    keys: &Keys<'_>,
    listed: PublicKey,
    summary: &mut PartnerSummary,
    r: &mut AuditReport,
    line: usize,
    dir: &Path,
) {
    let agency = &manifest.agency;
    let mut candidates = keys.in_force_at(agency, c.time);
    candidates.push(listed);
    if !candidates
        .iter()
        .any(|k| accord_protocol::audit::verify_slot_checkpoint(s, |_| Some(*k)).is_ok())
    {
        r.problems.push(AuditProblem::PartnerExport {
            dir: dir.to_owned(),
            reason: format!(
                "{PARTNER_CHECKPOINTS} line {line}: a slot checkpoint of {agency} that does not \
                 verify"
            ),
        });
        return;
    }
    summary.checkpoints += 1;
    match chain.slot_entry(c.slot) {
        Some((_, hash)) if hash == c.head => summary.consistent += 1,
        None if c.time > manifest.exported_at => r.notes.push(AuditNote::PartnerNewerSlot {
            partner: partner.clone(),
            agency: agency.clone(),
            slot: c.slot,
            time: c.time,
        }),
        found => r.problems.push(AuditProblem::RewrittenSlot {
            partner: partner.clone(),
            agency: agency.clone(),
            slot: c.slot,
            time: c.time,
            signed: c.head,
            actual: found.map(|(_, h)| h),
        }),
    }
}

/// The manifest of a partner-only export in `dir`: `None` when the manifest is not one (a
/// whole export, or unreadable: read as a whole export then), else it or why it is wrong.
fn read_partner_manifest(dir: &Path) -> Option<Result<super::PartnerManifest, String>> {
    #[derive(serde::Deserialize)]
    struct Format {
        format: String,
    }
    let bytes = std::fs::read(dir.join(super::MANIFEST)).ok()?;
    let format: Format = serde_json::from_slice(&bytes).ok()?;
    if format.format != super::PARTNER_EXPORT_FORMAT {
        return None;
    }
    Some(
        serde_json::from_slice::<super::PartnerManifest>(&bytes)
            .map_err(|e| format!("{}: not a partner-only manifest: {e}", super::MANIFEST))
            .and_then(|m| {
                if m.version == super::PARTNER_EXPORT_VERSION {
                    Ok(m)
                } else {
                    Err(format!(
                        "{}: partner-only export version {} is not supported (this verifier \
                         reads {})",
                        super::MANIFEST,
                        m.version,
                        super::PARTNER_EXPORT_VERSION
                    ))
                }
            }),
    )
}
