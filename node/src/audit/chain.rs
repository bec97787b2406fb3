//! Checking the hash chain of `log.jsonl`: every entry readable and canonical, of the log's
//! agency, its index one past the one before, its `prev` the hash of the one before. A broken
//! place is named as precisely as the evidence allows: an entry missing, inserted or moved
//! (from the indexes), or altered (from which links around it break).

use std::collections::{BTreeMap, BTreeSet};

use accord_protocol::AgencyId;
use accord_protocol::audit::{AuditEntry, Digest32, entry_hash};

use super::report::AuditProblem;

/// One line of `log.jsonl`.
#[derive(Debug)]
pub(super) struct LogLine {
    /// Its line number, from 1.
    pub line: usize,
    /// The hash of its bytes.
    pub hash: Digest32,
    /// The entry, when the bytes are a canonical entry.
    pub entry: Option<AuditEntry>,
    /// Its index, when it can be read at all.
    pub index: Option<u64>,
    /// Its `prev`, when it can be read at all.
    pub prev: Option<Digest32>,
    /// Whether the bytes could be read as an entry at all (canonical or not).
    pub parsed: bool,
}

/// What the chain check found.
#[derive(Debug, Default)]
pub(super) struct Chain {
    /// Every line, in file order.
    pub lines: Vec<LogLine>,
    /// Where each index was found (the first line in chain order).
    pub by_index: BTreeMap<u64, usize>,
    /// The problems, with the line each is about, in line order.
    pub problems: Vec<(usize, AuditProblem)>,
}

/// The hash a log of `count` entries ends with, as this log has it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum HeadAt {
    /// A log of `count` entries: the hash of entry `count - 1` (zeros for 0), at a line.
    Found { line: usize, hash: Digest32 },
    /// The log is shorter than `count`.
    Beyond,
    /// The entry `count - 1` is not in the log (it is missing from the middle).
    Absent,
}

impl Chain {
    /// The head of the first `count` entries.
    pub(super) fn head_at(&self, count: u64) -> HeadAt {
        let Some(index) = count.checked_sub(1) else {
            return HeadAt::Found {
                line: 0,
                hash: Digest32::ZERO,
            };
        };
        if count > self.lines.len() as u64 && !self.by_index.contains_key(&index) {
            return HeadAt::Beyond;
        }
        match self.by_index.get(&index) {
            Some(pos) => HeadAt::Found {
                line: self.lines[*pos].line,
                hash: self.lines[*pos].hash,
            },
            None => HeadAt::Absent,
        }
    }

    /// The line and hash of the `slot` entry for `slot`, if the log holds one.
    pub(super) fn slot_entry(&self, slot: u64) -> Option<(usize, Digest32)> {
        self.lines.iter().find_map(|l| match &l.entry {
            Some(AuditEntry {
                event: accord_protocol::audit::AuditEvent::Slot { slot: s },
                ..
            }) if *s == slot => Some((l.line, l.hash)),
            _ => None,
        })
    }

    /// The canonical entries, with their line numbers, in file order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (usize, &AuditEntry)> {
        self.lines
            .iter()
            .filter_map(|l| l.entry.as_ref().map(|e| (l.line, e)))
    }
}

/// Splits `log.jsonl` into lines (a final newline ends the last line) and checks the chain.
pub(super) fn check(bytes: &[u8], agency: Option<&AgencyId>) -> Chain {
    let mut raw: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if raw.last().is_some_and(|l| l.is_empty()) {
        raw.pop();
    }
    let mut chain = Chain::default();
    for (i, bytes) in raw.iter().enumerate() {
        let line = read_line(i + 1, bytes, agency, &mut chain.problems);
        chain.lines.push(line);
    }
    let broken = check_order(&mut chain);
    attribute(&mut chain, &broken);
    chain.problems.sort_by_key(|(line, _)| *line);
    chain
}

fn read_line(
    line: usize,
    bytes: &[u8],
    agency: Option<&AgencyId>,
    problems: &mut Vec<(usize, AuditProblem)>,
) -> LogLine {
    let hash = entry_hash(bytes);
    let mut out = LogLine {
        line,
        hash,
        entry: None,
        index: None,
        prev: None,
        parsed: false,
    };
    match AuditEntry::decode(bytes) {
        Ok(entry) => {
            out.index = Some(entry.index);
            out.prev = Some(entry.prev);
            out.parsed = true;
            if let Some(agency) = agency
                && entry.agency != *agency
            {
                problems.push((
                    line,
                    AuditProblem::WrongAgency {
                        line,
                        index: entry.index,
                        found: entry.agency.clone(),
                        expected: agency.clone(),
                    },
                ));
            }
            out.entry = Some(entry);
        }
        Err(e) => {
            // read what can be read, to place the line in the chain
            if let Ok(entry) = serde_json::from_slice::<AuditEntry>(bytes) {
                out.index = Some(entry.index);
                out.prev = Some(entry.prev);
                out.parsed = true;
            } else if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
                out.index = value
                    .get("index")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok());
            }
            let reason = if bytes.is_empty() {
                "the line is empty".to_owned()
            } else {
                e.to_string()
            };
            problems.push((
                line,
                AuditProblem::Unreadable {
                    line,
                    index: out.index,
                    reason,
                },
            ));
        }
    }
    out
}

/// A link whose `prev` is not the hash of the entry before: (position, position of the entry
/// before, or `None` for entry 0).
type Link = (usize, Option<usize>);

/// Walks the lines in order, expecting indexes 0, 1, 2, …; reports indexes that skip, repeat or
/// go back, and returns the broken links between consecutive entries.
fn check_order(chain: &mut Chain) -> Vec<Link> {
    // every position of every index
    let mut positions: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (pos, l) in chain.lines.iter().enumerate() {
        if let Some(i) = l.index {
            positions.entry(i).or_default().push(pos);
        }
    }
    let mut broken = Vec::new();
    let mut expected: u64 = 0;
    // the last line accepted in chain order: (position, index)
    let mut last: Option<(usize, u64)> = None;
    for pos in 0..chain.lines.len() {
        let line = chain.lines[pos].line;
        let k = chain.lines[pos].index.unwrap_or(expected);
        if k == expected {
            let before = match last {
                Some((p, i)) if i + 1 == k => Some(p),
                _ => None,
            };
            let unreadable_before = before.is_some_and(|p| !chain.lines[p].parsed);
            if let Some(prev) = chain.lines[pos].prev
                && !unreadable_before
            {
                match before {
                    Some(p) if prev != chain.lines[p].hash => broken.push((pos, Some(p))),
                    None if k == 0 && prev != Digest32::ZERO => broken.push((pos, None)),
                    _ => {}
                }
            }
            chain.by_index.entry(k).or_insert(pos);
            expected = k.saturating_add(1);
            last = Some((pos, k));
        } else if k > expected {
            let later = (expected..k)
                .filter_map(|i| positions.get(&i))
                .flatten()
                .copied()
                .filter(|p| *p > pos)
                .min();
            let problem = match later {
                Some(p) => AuditProblem::Reordered {
                    line,
                    found: k,
                    expected,
                    later: chain.lines[p].line,
                },
                None => AuditProblem::Missing {
                    line,
                    from: expected,
                    to: k - 1,
                    found: k,
                },
            };
            chain.problems.push((line, problem));
            chain.by_index.entry(k).or_insert(pos);
            expected = k.saturating_add(1);
            last = Some((pos, k));
        } else if let Some(first) = chain.by_index.get(&k) {
            let first = &chain.lines[*first];
            let copy = first.hash == chain.lines[pos].hash;
            let problem = AuditProblem::Inserted {
                line,
                index: k,
                first: first.line,
                copy,
            };
            chain.problems.push((line, problem));
        } else {
            let after = last.map_or(0, |(_, i)| i);
            chain.problems.push((
                line,
                AuditProblem::OutOfOrder {
                    line,
                    index: k,
                    after,
                },
            ));
            chain.by_index.insert(k, pos);
        }
    }
    broken
}

/// Names the entry each broken link points at. Entry `k` altered in its content breaks only
/// the link from `k + 1`; altered in its `prev` it breaks both the link into `k` and the link
/// from `k + 1`.
fn attribute(chain: &mut Chain, broken: &[Link]) {
    // links out of a position: the broken link whose predecessor it is
    let out_of: BTreeMap<usize, usize> = broken
        .iter()
        .filter_map(|(pos, before)| before.map(|b| (b, *pos)))
        .collect();
    let unreadable: BTreeSet<usize> = chain
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.entry.is_none())
        .map(|(p, _)| p)
        .collect();
    let mut consumed = BTreeSet::new();
    for (pos, before) in broken {
        if consumed.contains(pos) {
            continue;
        }
        let l = &chain.lines[*pos];
        let index = l.index.unwrap_or_default();
        let found = l.prev.unwrap_or_default();
        if let Some(next) = out_of.get(pos) {
            // both links around this entry break: the entry itself was altered
            consumed.insert(*next);
            if unreadable.contains(pos) {
                continue;
            }
            let expected = before.map_or(Digest32::ZERO, |b| chain.lines[b].hash);
            chain.problems.push((
                l.line,
                AuditProblem::AlteredPrev {
                    line: l.line,
                    index,
                    found,
                    expected,
                },
            ));
            continue;
        }
        match before {
            Some(b) if !unreadable.contains(b) => {
                let altered = &chain.lines[*b];
                chain.problems.push((
                    altered.line,
                    AuditProblem::Altered {
                        line: altered.line,
                        index: altered.index.unwrap_or_default(),
                        actual: altered.hash,
                        next_line: l.line,
                        next_index: index,
                        named: found,
                    },
                ));
            }
            Some(_) => {}
            None => {
                if !unreadable.contains(pos) {
                    chain.problems.push((
                        l.line,
                        AuditProblem::AlteredPrev {
                            line: l.line,
                            index,
                            found,
                            expected: Digest32::ZERO,
                        },
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use accord_protocol::audit::AuditEvent;
    use accord_protocol::{AgencyId, Timestamp};

    use super::*;

    fn agency() -> AgencyId {
        AgencyId::new("TR-JGK").unwrap()
    }

    /// A chain of `n` rejections, as lines.
    fn lines(n: u64) -> Vec<Vec<u8>> {
        let mut prev = Digest32::ZERO;
        (0..n)
            .map(|index| {
                let bytes = AuditEntry {
                    agency: agency(),
                    index,
                    prev,
                    time: Timestamp::EPOCH,
                    event: AuditEvent::Reject {
                        from: AgencyId::new("PK-FIA").unwrap(),
                        code: 1,
                        reason: format!("reason {index}"),
                    },
                }
                .encode()
                .unwrap();
                prev = entry_hash(&bytes);
                bytes
            })
            .collect()
    }

    fn check_lines(lines: &[Vec<u8>]) -> Chain {
        let mut file = Vec::new();
        for l in lines {
            file.extend_from_slice(l);
            file.push(b'\n');
        }
        check(&file, Some(&agency()))
    }

    fn problems(lines: &[Vec<u8>]) -> Vec<AuditProblem> {
        check_lines(lines)
            .problems
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Re-encodes entry `i` after `edit`.
    fn edited(lines: &mut [Vec<u8>], i: usize, edit: impl FnOnce(&mut AuditEntry)) {
        let mut e = AuditEntry::decode(&lines[i]).unwrap();
        edit(&mut e);
        lines[i] = e.encode().unwrap();
    }

    #[test]
    fn an_intact_chain_has_no_problem_and_its_heads() {
        let l = lines(5);
        let chain = check_lines(&l);
        assert!(chain.problems.is_empty());
        assert_eq!(
            chain.head_at(5),
            HeadAt::Found {
                line: 5,
                hash: entry_hash(&l[4])
            }
        );
        assert_eq!(
            chain.head_at(0),
            HeadAt::Found {
                line: 0,
                hash: Digest32::ZERO
            }
        );
        assert_eq!(chain.head_at(6), HeadAt::Beyond);
        assert!(check(b"", None).problems.is_empty());
    }

    #[test]
    fn a_changed_prev_names_the_entry_that_holds_it() {
        let mut l = lines(5);
        edited(&mut l, 2, |e| e.prev = Digest32([9; 32]));
        assert!(matches!(
            problems(&l)[..],
            [AuditProblem::AlteredPrev {
                line: 3,
                index: 2,
                ..
            }]
        ));
        let mut l = lines(3);
        edited(&mut l, 0, |e| e.prev = Digest32([9; 32]));
        assert!(matches!(
            problems(&l)[..],
            [AuditProblem::AlteredPrev {
                line: 1,
                index: 0,
                ..
            }]
        ));
    }

    #[test]
    fn a_changed_content_names_that_entry() {
        let mut l = lines(5);
        edited(&mut l, 1, |e| e.time = Timestamp::EPOCH.plus_secs(1));
        assert!(matches!(
            problems(&l)[..],
            [AuditProblem::Altered {
                line: 2,
                index: 1,
                next_line: 3,
                next_index: 2,
                ..
            }]
        ));
    }

    #[test]
    fn unreadable_lines_are_named_once_and_keep_their_place() {
        let mut l = lines(4);
        l[1] = b"not json".to_vec();
        assert!(matches!(
            problems(&l)[..],
            [AuditProblem::Unreadable {
                line: 2,
                index: None,
                ..
            }]
        ));
        let mut l = lines(4);
        l[2] = Vec::new();
        assert!(matches!(
            problems(&l)[..],
            [AuditProblem::Unreadable { line: 3, .. }]
        ));
    }

    #[test]
    fn another_agencys_entry_is_named() {
        let mut l = lines(2);
        edited(&mut l, 1, |e| e.agency = AgencyId::new("GR-HCG").unwrap());
        assert!(matches!(
            problems(&l)[..],
            [AuditProblem::WrongAgency { line: 2, .. }]
        ));
    }

    #[test]
    fn a_fabricated_entry_in_an_occupied_place_is_named_with_its_twin() {
        // a made-up entry 2 before the real one: the made-up one breaks the link from entry 3,
        // the real one is a second entry 2
        let mut l = lines(4);
        let mut fake = AuditEntry::decode(&l[2]).unwrap();
        fake.time = Timestamp::EPOCH.plus_secs(7);
        l.insert(2, fake.encode().unwrap());
        let p = problems(&l);
        assert!(
            matches!(
                p[..],
                [
                    AuditProblem::Altered {
                        line: 3,
                        index: 2,
                        next_line: 5,
                        ..
                    },
                    AuditProblem::Inserted {
                        line: 4,
                        index: 2,
                        first: 3,
                        copy: false
                    }
                ]
            ),
            "{p:?}"
        );
    }
}
