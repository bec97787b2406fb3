//! The export's head and checkpoints: the head the node signed matches the chain's end, its
//! own checkpoints verify under the key in force and name entries of the chain, and what its
//! partners kept of its checkpoints agrees with the chain (a fork otherwise).

use super::*;

/// Checks that this log's first `count` entries end with `head`.
pub(super) fn check_head(
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

pub(super) fn check_own_checkpoints(
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
pub(super) fn check_partner_checkpoints(
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
