//! `accord audit verify --bundle`: a bundle the agency exported, checked against its log. An
//! `export` entry must name the file's hash and its agreement and counts; the bundle must hold
//! every record, rotation, revocation and tombstone the log held by then, and nothing the log
//! never published, received or purged.

use super::*;

/// A bundle against the log: see [`verify_export_with`].
pub(super) fn check_bundle(path: &Path, chain: &Chain, r: &mut AuditReport) {
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
            } if *a == agreement => {
                held.insert(*record);
            }
            AuditEvent::Receive { .. } | AuditEvent::ReceiveBatch { .. } => held.extend(
                e.event
                    .received()
                    .into_iter()
                    .filter(|r| *r.agreement == agreement)
                    .map(|r| r.record),
            ),
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
