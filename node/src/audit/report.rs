//! What verifying an audit export found: [`AuditReport`] and its parts.
//!
//! Why one long file: it is one room, the report's types and how each is printed and written
//! as JSON; most of its length is the documentation of what each problem means to an auditor.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use accord_protocol::audit::{AuditEvent, Digest32};
use accord_protocol::{AgencyId, AgreementId, RecordId, Timestamp};
use thiserror::Error;

/// A failure: any one makes the export fail. Line numbers count from 1; entries are named by
/// their index, from 0.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuditProblem {
    /// A `delivered` entry with no earlier `send` of that record to that member.
    #[error("entry {index}: delivered record {record} to {to}, but no earlier entry sent it there")]
    DeliveredWithoutSend {
        /// The entry.
        index: u64,
        /// The record.
        record: accord_protocol::RecordId,
        /// The member.
        to: AgencyId,
    },
    /// A bundle given with `--bundle` disagrees with the log.
    #[error("bundle {file}: {reason}")]
    Bundle {
        /// The bundle file as given.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A file is missing or cannot be read as what it should hold.
    #[error("{file}: {reason}")]
    File {
        /// The file, relative to the export directory.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A file's bytes are not those the manifest lists.
    #[error(
        "{file}: its SHA-256 is {actual}, the manifest lists {stated}: the file was changed \
         after the export"
    )]
    FileChanged {
        /// The file.
        file: String,
        /// The digest the manifest lists.
        stated: Digest32,
        /// The digest of the bytes present.
        actual: Digest32,
    },
    /// A file the manifest does not list.
    #[error("{file} is not listed in the manifest: it was added after the export")]
    Unlisted {
        /// The file.
        file: String,
    },
    /// A line that is not a canonical entry.
    #[error("log.jsonl line {line}{}: the entry was altered: {reason}", index_text(*.index))]
    Unreadable {
        /// The line.
        line: usize,
        /// Its index, when it could be read.
        index: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// An entry of another agency's log.
    #[error(
        "log.jsonl line {line} (entry {index}): names agency {found}, but the log is {expected}'s"
    )]
    WrongAgency {
        /// The line.
        line: usize,
        /// Its index.
        index: u64,
        /// The agency it names.
        found: AgencyId,
        /// The log's agency.
        expected: AgencyId,
    },
    /// Entries absent from the log.
    #[error(
        "log.jsonl line {line}: {} missing (deleted): the line holds entry {found}",
        range_text(*.from, *.to)
    )]
    Missing {
        /// The line where they should have been.
        line: usize,
        /// The first missing index.
        from: u64,
        /// The last missing index.
        to: u64,
        /// The index found there instead.
        found: u64,
    },
    /// An entry ahead of its place; the one due comes later.
    #[error(
        "log.jsonl line {line}: holds entry {found} where entry {expected} belongs, and entry \
         {expected} comes later (line {later}): entries were reordered"
    )]
    Reordered {
        /// The line.
        line: usize,
        /// The index found there.
        found: u64,
        /// The index due there.
        expected: u64,
        /// The line where the due entry is.
        later: usize,
    },
    /// An entry behind its place.
    #[error(
        "log.jsonl line {line}: entry {index} comes after entry {after}: entries were reordered"
    )]
    OutOfOrder {
        /// The line.
        line: usize,
        /// Its index.
        index: u64,
        /// The index of the entry before it in the chain.
        after: u64,
    },
    /// A second entry with an index already present.
    #[error(
        "log.jsonl line {line}: a second entry {index} ({}): an entry was inserted",
        if *.copy { format!("a copy of line {first}") } else { format!("line {first} holds entry {index} already") }
    )]
    Inserted {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The line of the first entry with that index.
        first: usize,
        /// Whether its bytes are those of the first.
        copy: bool,
    },
    /// An entry whose hash is not the `prev` its successor names.
    #[error(
        "log.jsonl line {line}: entry {index} was altered: it hashes to {actual}, but entry \
         {next_index} (line {next_line}) names {named} as the hash of the entry before it"
    )]
    Altered {
        /// The altered entry's line.
        line: usize,
        /// Its index.
        index: u64,
        /// Its hash.
        actual: Digest32,
        /// The successor's line.
        next_line: usize,
        /// The successor's index.
        next_index: u64,
        /// The `prev` the successor names.
        named: Digest32,
    },
    /// An entry whose `prev` is not the hash of the entry before it.
    #[error(
        "log.jsonl line {line}: entry {index} was altered: its `prev` is {found}, but the entry \
         before it hashes to {expected}{}",
        if *.index == 0 { " (the first entry names 64 zeros)" } else { "" }
    )]
    AlteredPrev {
        /// The line.
        line: usize,
        /// Its index.
        index: u64,
        /// The `prev` it names.
        found: Digest32,
        /// The hash of the entry before (zeros for entry 0).
        expected: Digest32,
    },
    /// The log is shorter than a signed or stated count: its end was cut off.
    #[error(
        "log.jsonl ends after {lines} entries, but {by} counts {count}: {} cut off the end \
         (truncated)",
        range_text(*.lines, .count.saturating_sub(1))
    )]
    Truncated {
        /// The lines present.
        lines: u64,
        /// The count stated.
        count: u64,
        /// What states it (the manifest, or a checkpoint).
        by: String,
    },
    /// The log is longer than the manifest states.
    #[error("log.jsonl holds {lines} lines, but the manifest counts {count} entries")]
    Longer {
        /// The lines present.
        lines: u64,
        /// The manifest's count.
        count: u64,
    },
    /// The entry a head names has another hash in this log.
    #[error(
        "{by} says entry {index} hashes to {stated}, but entry {index} (log.jsonl line {line}) \
         hashes to {actual}: the log is not the one that was signed"
    )]
    HeadMismatch {
        /// What states the head.
        by: String,
        /// The entry.
        index: u64,
        /// Its line.
        line: usize,
        /// The hash stated.
        stated: Digest32,
        /// The hash in this log.
        actual: Digest32,
    },
    /// The entry a head names is not in this log.
    #[error("{by} counts {count} entries, but log.jsonl holds no entry {}", .count.saturating_sub(1))]
    HeadMissing {
        /// What states the head.
        by: String,
        /// The count it states.
        count: u64,
    },
    /// No own checkpoint signs the manifest's head.
    #[error(
        "no checkpoint in checkpoints.txt signs the manifest's head ({count} entries, {head}): \
         the export's head is not signed"
    )]
    HeadUnsigned {
        /// The manifest's count.
        count: u64,
        /// The manifest's head.
        head: Digest32,
    },
    /// A checkpoint line that does not verify.
    #[error("{file} line {line}: {reason}")]
    BadCheckpoint {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two checkpoints of one agency with one count and different heads.
    #[error(
        "{first_file} line {first} and {file} line {line}: {agency} signed two different heads \
         for {count} entries: its log forked"
    )]
    PartnerFork {
        /// The agency.
        agency: AgencyId,
        /// The count.
        count: u64,
        /// The file of the first checkpoint.
        first_file: String,
        /// Its line.
        first: usize,
        /// The file of the second (partner-checkpoints.txt or partner-forks.txt).
        file: String,
        /// Its line.
        line: usize,
    },
    /// Two slot checkpoints of one agency for one slot with different heads.
    #[error(
        "{first_file} line {first} and {file} line {line}: {agency} signed two different heads \
         for slot {slot}: its log forked"
    )]
    PartnerSlotFork {
        /// The agency.
        agency: AgencyId,
        /// The slot.
        slot: u64,
        /// The file of the first checkpoint.
        first_file: String,
        /// Its line.
        first: usize,
        /// The file of the second.
        file: String,
        /// Its line.
        line: usize,
    },
    /// A partner keeps a slot checkpoint of this agency that this log contradicts: the log's
    /// `slot` entry for that slot hashes otherwise, or is missing though the checkpoint was
    /// signed before the export.
    #[error(
        "{partner} holds {agency}'s slot checkpoint of slot {slot} signed at {time} with head \
         {signed}, but {}: {agency} REWROTE its history after signing it",
        match .actual { Some(h) => format!("this log's `slot` entry for it hashes to {h}"), None => "this log holds no `slot` entry for it".to_owned() }
    )]
    RewrittenSlot {
        /// The partner holding the checkpoint.
        partner: AgencyId,
        /// This log's agency.
        agency: AgencyId,
        /// The slot.
        slot: u64,
        /// When it was signed.
        time: Timestamp,
        /// The head signed.
        signed: Digest32,
        /// The hash of the log's `slot` entry for the slot, when there is one.
        actual: Option<Digest32>,
    },
    /// A partner's export that cannot be used.
    #[error("partner export {}: {reason}", .dir.display())]
    PartnerExport {
        /// The partner's export directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A partner keeps a checkpoint of this agency that this log contradicts.
    #[error(
        "{partner} holds {agency}'s checkpoint of {count} entries signed at {time} with head \
         {signed}, but entry {} of this log {}: {agency} REWROTE its history after signing it, \
         at or before entry {}{}",
        .count.saturating_sub(1),
        match .actual { Some(h) => format!("hashes to {h}"), None => "is absent".to_owned() },
        .count.saturating_sub(1),
        match .agrees_up_to { Some(n) => format!(" (its checkpoint of {n} entries still agrees)"), None => String::new() }
    )]
    Rewritten {
        /// The partner holding the checkpoint.
        partner: AgencyId,
        /// This log's agency.
        agency: AgencyId,
        /// The count signed.
        count: u64,
        /// When it was signed.
        time: Timestamp,
        /// The head signed.
        signed: Digest32,
        /// The hash of entry `count - 1` in this log.
        actual: Option<Digest32>,
        /// The largest smaller count of a checkpoint the partner holds that this log agrees
        /// with.
        agrees_up_to: Option<u64>,
    },
    /// A partner keeps a checkpoint, signed before this export, of more entries than it holds.
    #[error(
        "{partner} holds {agency}'s checkpoint of {count} entries signed at {time}, before this \
         export, but this log holds {lines}: entries were removed from its end"
    )]
    PartnerTruncated {
        /// The partner holding the checkpoint.
        partner: AgencyId,
        /// This log's agency.
        agency: AgencyId,
        /// The count signed.
        count: u64,
        /// When it was signed.
        time: Timestamp,
        /// The entries this log holds.
        lines: u64,
    },
    /// A data-moving entry under an agreement the export holds no file of.
    #[error(
        "log.jsonl line {line} (entry {index}, {kind}): under agreement {agreement}, but the \
         export holds no agreements/{agreement}.toml to check it against"
    )]
    NoAgreement {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The event kind.
        kind: &'static str,
        /// The agreement.
        agreement: AgreementId,
    },
    /// A party of a data-moving entry that is not a member of its agreement.
    #[error(
        "log.jsonl line {line} (entry {index}, {kind}): {role} {agency} is not a member of \
         {agreement}"
    )]
    NotMember {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The event kind.
        kind: &'static str,
        /// Which party: `recipient`, `sender`, `originator`, `this agency`.
        role: &'static str,
        /// The agency.
        agency: AgencyId,
        /// The agreement.
        agreement: AgreementId,
    },
    /// A data-moving entry made when its agreement was not in force.
    #[error(
        "log.jsonl line {line} (entry {index}, {kind}): at {time} agreement {agreement} was not \
         in force"
    )]
    NotInForce {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The event kind.
        kind: &'static str,
        /// The entry's time.
        time: Timestamp,
        /// The agreement.
        agreement: AgreementId,
    },
    /// A matching entry under an agreement that does not provide for matching.
    #[error(
        "log.jsonl line {line} (entry {index}, {kind}): {agreement} has no [matching] clause, so \
         no set or lookup may pass under it"
    )]
    NoMatching {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The event kind.
        kind: &'static str,
        /// The agreement.
        agreement: AgreementId,
    },
    /// A holder answered lookups past the agreement's daily quota, or more than 64 at once.
    #[error(
        "log.jsonl line {line} (entry {index}, lookup-answered): {asker} looked up {selectors} \
         selector(s), {today} under {agreement} that day, but the agreement allows {limit} a \
         day and 64 a lookup"
    )]
    OverQuota {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The member that asked.
        asker: AgencyId,
        /// Selectors in the lookup.
        selectors: u64,
        /// Selectors that day, these included.
        today: u64,
        /// The agreement's daily limit.
        limit: u32,
        /// The agreement.
        agreement: AgreementId,
    },
    /// A send entry the agreement's send policy did not allow.
    #[error(
        "log.jsonl line {line} (entry {index}, send): record {record} under {agreement} was sent \
         against the agreement: {reason}"
    )]
    SendNotAllowed {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The record.
        record: RecordId,
        /// The agreement.
        agreement: AgreementId,
        /// Which rule it broke.
        reason: String,
    },
    /// A receipt line that does not verify.
    #[error("receipts.txt line {line}: {reason}")]
    BadReceipt {
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A receipt no `delivered` entry names.
    #[error(
        "receipts.txt line {line}: {receiver}'s receipt for record {record} matches no delivered \
         entry"
    )]
    ReceiptUnmatched {
        /// The line.
        line: usize,
        /// The record.
        record: RecordId,
        /// The receiver.
        receiver: AgencyId,
    },
    /// A receipt several `delivered` entries name.
    #[error(
        "receipts.txt line {line}: {receiver}'s receipt for record {record} matches {} delivered \
         entries ({}); each receipt belongs to exactly one",
        .entries.len(),
        .entries.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    )]
    ReceiptAmbiguous {
        /// The line.
        line: usize,
        /// The record.
        record: RecordId,
        /// The receiver.
        receiver: AgencyId,
        /// The indexes of the entries.
        entries: Vec<u64>,
    },
    /// A batch receipt (version 2) that the `delivered` entries naming it do not match: their
    /// records, in the order of the log, do not hash to its root, or their count, receiver or
    /// agreement differ from its.
    #[error(
        "receipts.txt line {line}: {receiver}'s batch receipt for {records} record(s) is named by \
         {} delivered entries ({}) that do not match it: {reason}",
        .entries.len(),
        .entries.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    )]
    BatchReceiptMismatch {
        /// The line.
        line: usize,
        /// The receiver.
        receiver: AgencyId,
        /// How many records it says it covers.
        records: u64,
        /// The indexes of the entries that name it.
        entries: Vec<u64>,
        /// What differs.
        reason: String,
    },
    /// A `delivered` entry without its receipt.
    #[error(
        "log.jsonl line {line} (entry {index}): says {to} acknowledged record {record} with the \
         receipt {receipt}, but receipts.txt holds no such receipt"
    )]
    MissingReceipt {
        /// The line.
        line: usize,
        /// The index.
        index: u64,
        /// The record.
        record: RecordId,
        /// The receiver.
        to: AgencyId,
        /// The receipt hash the entry names.
        receipt: Digest32,
    },
    /// keys.json disagrees with the log's own key entry.
    #[error(
        "keys.json gives {agency} the key {listed}, but the log's latest key entry (line {line}) \
         names {logged}"
    )]
    KeyMismatch {
        /// The agency.
        agency: AgencyId,
        /// The key in keys.json (`ed25519:…`).
        listed: String,
        /// The key in the log.
        logged: String,
        /// The entry's line.
        line: usize,
    },
}

/// Something an auditor should know that is not a failure.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuditNote {
    /// An entry was made under another text of its agreement than the exported one.
    #[error(
        "log.jsonl line {line}: from here on, entries under {agreement} were made under its text \
         with SHA-256 {logged} (the configuration entry on line {config_line}), not the exported \
         one ({exported}); they were checked against the exported text"
    )]
    AgreementText {
        /// The first such entry's line.
        line: usize,
        /// The agreement.
        agreement: AgreementId,
        /// The hash the configuration entry names.
        logged: Digest32,
        /// The configuration entry's line.
        config_line: usize,
        /// The hash of the exported file.
        exported: Digest32,
    },
    /// A partner keeps a checkpoint signed after this export, which cannot be compared.
    #[error(
        "{partner} holds {agency}'s checkpoint of {count} entries signed at {time}, after this \
         export; it cannot be compared with this log"
    )]
    PartnerNewer {
        /// The partner.
        partner: AgencyId,
        /// This log's agency.
        agency: AgencyId,
        /// The count signed.
        count: u64,
        /// When it was signed.
        time: Timestamp,
    },
    /// A partner keeps a slot checkpoint signed after this export, which cannot be compared.
    #[error(
        "{partner} holds {agency}'s slot checkpoint of slot {slot} signed at {time}, after this \
         export; it cannot be compared with this log"
    )]
    PartnerNewerSlot {
        /// The partner.
        partner: AgencyId,
        /// This log's agency.
        agency: AgencyId,
        /// The slot.
        slot: u64,
        /// When it was signed.
        time: Timestamp,
    },
}

/// What one partner's export held of this agency's checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerSummary {
    /// The partner's export directory.
    pub dir: PathBuf,
    /// The partner, when its manifest could be read.
    pub agency: Option<AgencyId>,
    /// Checkpoints of this agency it holds.
    pub checkpoints: usize,
    /// Of those, the ones consistent with this log.
    pub consistent: usize,
}

/// Everything verifying an audit export found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditReport {
    /// The log's agency (from the manifest).
    pub agency: Option<AgencyId>,
    /// When it was exported (from the manifest).
    pub exported_at: Option<Timestamp>,
    /// The entry count the manifest states.
    pub entries: Option<u64>,
    /// The head the manifest states.
    pub head: Option<Digest32>,
    /// The lines of log.jsonl.
    pub lines: u64,
    /// Entries per event kind (canonical entries only).
    pub kinds: BTreeMap<&'static str, usize>,
    /// Own checkpoint lines that verify.
    pub own_checkpoints: usize,
    /// Partner checkpoint lines that verify.
    pub partner_checkpoints: usize,
    /// Conflicting partner checkpoint lines (partner-forks.txt) that verify.
    pub partner_forks: usize,
    /// Receipt lines that verify.
    pub receipts: usize,
    /// The agreement files held.
    pub agreements: Vec<AgreementId>,
    /// The partners' exports compared.
    pub partners: Vec<PartnerSummary>,
    /// Bundles checked against their `export` entries (`--bundle`).
    pub bundles: usize,
    /// Every failure, the first broken entry first.
    pub problems: Vec<AuditProblem>,
    /// Remarks that are not failures.
    pub notes: Vec<AuditNote>,
}

impl AuditReport {
    /// Whether the export verifies: it could be read and nothing failed.
    pub fn is_ok(&self) -> bool {
        self.agency.is_some() && self.problems.is_empty()
    }

    /// The first problem, which names the first broken entry when the chain is broken.
    pub fn first_problem(&self) -> Option<&AuditProblem> {
        self.problems.first()
    }
}

/// The name of an event's kind, as its `kind` field spells it.
pub fn kind_name(event: &AuditEvent) -> &'static str {
    match event {
        AuditEvent::Publish { .. } => "publish",
        AuditEvent::Viewed { .. } => "viewed",
        AuditEvent::Send { .. } => "send",
        AuditEvent::SendBatch { .. } => "send-batch",
        AuditEvent::Delivered { .. } => "delivered",
        AuditEvent::DeliveredPush { .. } => "delivered-push",
        AuditEvent::Receive { .. } => "receive",
        AuditEvent::ReceiveBatch { .. } => "receive-batch",
        AuditEvent::Reject { .. } => "reject",
        AuditEvent::Withheld { .. } => "withheld",
        AuditEvent::Purge { .. } => "purge",
        AuditEvent::Export { .. } => "export",
        AuditEvent::Config { .. } => "config",
        AuditEvent::Key { .. } => "key",
        AuditEvent::AgreementSignature { .. } => "agreement-signature",
        AuditEvent::Revocation { .. } => "revocation",
        AuditEvent::Rotation { .. } => "rotation",
        AuditEvent::Delegation { .. } => "delegation",
        AuditEvent::Equivocation { .. } => "equivocation",
        AuditEvent::MatchSet { .. } => "match-set",
        AuditEvent::LookupAnswered { .. } => "lookup-answered",
        AuditEvent::LookupMade { .. } => "lookup-made",
        AuditEvent::LookupResult { .. } => "lookup-result",
        AuditEvent::Slot { .. } => "slot",
        AuditEvent::Account { .. } => "account",
        AuditEvent::Release { .. } => "release",
    }
}

fn index_text(index: Option<u64>) -> String {
    index.map(|i| format!(" (entry {i})")).unwrap_or_default()
}

fn range_text(from: u64, to: u64) -> String {
    if from == to {
        format!("entry {from} is")
    } else {
        format!("entries {from}–{to} are")
    }
}

impl fmt::Display for AuditReport {
    /// What the export is, its counts, the partners compared, notes, then every problem (the
    /// first broken entry first) and a verdict line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.agency, self.exported_at, self.entries, self.head) {
            (Some(agency), Some(at), Some(entries), Some(head)) => writeln!(
                f,
                "audit export of {agency}, written at {at}: {entries} entries, head {head}"
            )?,
            _ => writeln!(f, "audit export (manifest unreadable)")?,
        }
        if self.bundles > 0 {
            writeln!(
                f,
                "bundles: {} compared with their export entries and the log",
                self.bundles
            )?;
        }
        let kinds: Vec<String> = self.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(
            f,
            "log.jsonl: {} lines; {}",
            self.lines,
            if kinds.is_empty() {
                "no readable entries".to_owned()
            } else {
                kinds.join(", ")
            }
        )?;
        writeln!(
            f,
            "checkpoints: {} own, {} of partners{}; receipts: {}; agreements: {}",
            self.own_checkpoints,
            self.partner_checkpoints,
            if self.partner_forks > 0 {
                format!(" and {} conflicting with them", self.partner_forks)
            } else {
                String::new()
            },
            self.receipts,
            if self.agreements.is_empty() {
                "none".to_owned()
            } else {
                self.agreements
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )?;
        for p in &self.partners {
            let who = p
                .agency
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string);
            writeln!(
                f,
                "partner {who} ({}): {} checkpoint(s) of this log, {} consistent",
                p.dir.display(),
                p.checkpoints,
                p.consistent
            )?;
        }
        for n in &self.notes {
            writeln!(f, "NOTE {n}")?;
        }
        for p in &self.problems {
            writeln!(f, "FAIL {p}")?;
        }
        if self.is_ok() {
            write!(
                f,
                "audit export verified: the chain is intact, the signed head matches, every \
                 checkpoint and receipt verifies, every send and delivery was allowed"
            )
        } else {
            write!(
                f,
                "audit export FAILED: {} problem(s)",
                self.problems.len().max(1)
            )
        }
    }
}
