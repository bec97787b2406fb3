//! Members' keys over time, as a bundle states them: each listed key, and the rotation lines
//! (signed by the new key and the previous one, or attested by every other member) that chain
//! back from it. Records and certificates are checked with the key in force when they were
//! made (docs/bundle.md).

use super::*;

/// An agency's keys over time: the first in force from the beginning, each later one from its
/// rotation's `since` (inclusive) until the next one's (exclusive).
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyChain(Vec<(Option<Timestamp>, PublicKey)>);

impl KeyChain {
    /// The key in force at `t`.
    pub(super) fn at(&self, t: Timestamp) -> Option<PublicKey> {
        self.0
            .iter()
            .rev()
            .find(|(since, _)| since.is_none_or(|s| s <= t))
            .map(|(_, k)| *k)
    }

    /// Every key the agency had.
    pub(super) fn all(&self) -> impl Iterator<Item = &PublicKey> {
        self.0.iter().map(|(_, k)| k)
    }
}

/// Every member's key chain.
pub(super) type Histories = BTreeMap<AgencyId, KeyChain>;

/// Builds each member's key chain from its listed key and its rotation lines.
///
/// A rotation line is read and its own signatures checked (the new key's, and the previous
/// key's when present); it must be a member's. A statement without the previous key's
/// signature (a lost key) must carry an attestation by every other member of the agreement,
/// each verifying under that member's key at the rotation's `since`; attestations by anyone
/// else are refused. The lines must be sorted by (agency, since). A member's accepted
/// rotations, by `since`, must chain: each one's `key` is the next one's `previous`, `since`
/// strictly increases, and the last one's `key` is the member's listed key. A member whose
/// rotations do not chain keeps only its listed key.
pub(super) fn key_histories(
    rotations: &[(usize, RotationFile)],
    agreement: Option<&Agreement>,
    report: &mut BundleReport,
) -> Histories {
    let mut read: Vec<(usize, Rotation, SignedRotation)> = Vec::new();
    let mut previous: Option<(AgencyId, Timestamp, usize)> = None;
    for (line, file) in rotations {
        let problem = |agency: Option<AgencyId>, reason: String| BundleProblem::Rotation {
            line: *line,
            agency,
            reason,
        };
        let signed = match SignedRotation::try_from(file) {
            Ok(s) => s,
            Err(e) => {
                report.problem(problem(None, e.to_string()));
                continue;
            }
        };
        let rotation = match verify_rotation(&signed) {
            Ok(r) => r,
            Err(e) => {
                report.problem(problem(None, e.to_string()));
                continue;
            }
        };
        if let Some((agency, since, _)) = &previous
            && (agency, since) > (&rotation.agency, &rotation.since)
        {
            report.problem(BundleProblem::Unsorted {
                line: *line,
                what: "rotation",
                rule: "by agency, then `since`",
            });
        }
        previous = Some((rotation.agency.clone(), rotation.since, *line));
        if let Some(agreement) = agreement
            && !agreement.is_member(&rotation.agency)
        {
            report.problem(problem(
                Some(rotation.agency.clone()),
                format!("{} is not a member of {}", rotation.agency, agreement.id),
            ));
            continue;
        }
        read.push((*line, rotation, signed));
    }
    // Attesters' keys are taken from the chains of the statements whose own signatures verify.
    let provisional = chains(&read, report, false);
    let mut accepted = Vec::with_capacity(read.len());
    for (line, rotation, signed) in read {
        let problem = |reason: String| BundleProblem::Rotation {
            line,
            agency: Some(rotation.agency.clone()),
            reason,
        };
        let mut bad = false;
        for (attester, sig) in &signed.attestations {
            let member = agreement.is_none_or(|a| a.is_member(attester));
            let key = provisional.get(attester).and_then(|c| c.at(rotation.since));
            let reason = if !member || *attester == rotation.agency {
                Some(format!("{attester} may not attest it (not another member)"))
            } else if let Some(key) = key {
                (!verify_attestation(&signed.statement, &key, sig)).then(|| {
                    format!(
                        "the attestation of {attester} does not verify under its key at {}",
                        rotation.since
                    )
                })
            } else {
                Some(format!("the bundle holds no key of {attester}"))
            };
            if let Some(reason) = reason {
                report.problem(problem(reason));
                bad = true;
            }
        }
        if signed.by_previous.is_none() {
            let missing: Vec<&AgencyId> = agreement
                .map(|a| {
                    a.members
                        .iter()
                        .filter(|m| **m != rotation.agency && !signed.attestations.contains_key(*m))
                        .collect()
                })
                .unwrap_or_default();
            if !missing.is_empty() {
                report.problem(problem(format!(
                    "the previous key did not sign it (a lost key), so every other member must \
                     attest it; missing: {}",
                    missing
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
                bad = true;
            }
        }
        if !bad {
            accepted.push((line, rotation, signed));
        }
    }
    let histories = chains(&accepted, report, true);
    for (agency, chain) in &histories {
        report.key_history.insert(
            agency.clone(),
            chain
                .0
                .iter()
                .map(|(since, key)| KeyPeriod {
                    since: *since,
                    key: *key,
                })
                .collect(),
        );
    }
    histories
}

/// Each listed key's chain of `rotations` (sorted by `since`), reporting a broken chain when
/// `report_problems`.
pub(super) fn chains(
    rotations: &[(usize, Rotation, SignedRotation)],
    report: &mut BundleReport,
    report_problems: bool,
) -> Histories {
    let mut by_agency: BTreeMap<&AgencyId, Vec<(usize, &Rotation)>> = BTreeMap::new();
    for (line, r, _) in rotations {
        by_agency.entry(&r.agency).or_default().push((*line, r));
    }
    let mut out = Histories::new();
    for (agency, key) in report.keys.clone() {
        let mut list = by_agency.remove(&agency).unwrap_or_default();
        list.sort_by_key(|(_, r)| r.since);
        let mut periods: Vec<(Option<Timestamp>, PublicKey)> = Vec::new();
        let mut broken = None;
        for (line, r) in &list {
            let (last_since, last_key) = *periods.last().unwrap_or(&(None, r.previous));
            if periods.is_empty() {
                periods.push((None, r.previous));
            }
            if last_key != r.previous {
                broken = Some((
                    *line,
                    format!(
                        "its previous key {} is not the key before it ({last_key})",
                        r.previous
                    ),
                ));
                break;
            }
            if last_since.is_some_and(|s| s >= r.since) {
                broken = Some((
                    *line,
                    "two rotations of one agency at the same time".to_owned(),
                ));
                break;
            }
            periods.push((Some(r.since), r.key));
        }
        if broken.is_none()
            && let Some((_, last)) = periods.last()
            && *last != key
        {
            broken = Some((
                list.last().map_or(0, |(l, _)| *l),
                format!("the last rotation leads to {last}, not to the listed key {key}"),
            ));
        }
        if let Some((line, reason)) = broken {
            if report_problems {
                report.problem(BundleProblem::Rotation {
                    line,
                    agency: Some(agency.clone()),
                    reason: format!("{reason}; only the listed key is used for {agency}"),
                });
            }
            periods = vec![(None, key)];
        }
        if periods.is_empty() {
            periods.push((None, key));
        }
        out.insert(agency, KeyChain(periods));
    }
    out
}
