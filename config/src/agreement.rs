//! A validated agreement: who shares what, with whom, for how long and under which rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use accord_protocol::agreement::SignatureLine;
use accord_protocol::{
    AgencyId, AgreementId, Category, Date, HandlingCode, Timestamp, VictimPurpose,
};

/// Seconds from a date's midnight to its last second, 23:59:59.
const LAST_SECOND_OF_DAY: i64 = 86_399;

/// An agreement between agencies, as its file states it. Every member holds the same file and
/// compares [`Agreement::hash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// Its identifier, e.g. `QUAD-2026`.
    pub id: AgreementId,
    /// Its title.
    pub title: String,
    /// Bilateral (2 members) or multilateral (3 or more).
    pub kind: AgreementKind,
    /// The member agencies.
    pub members: BTreeSet<AgencyId>,
    /// One focal point per member, exactly.
    pub focal_points: BTreeMap<AgencyId, FocalPoint>,
    /// First day in force (from 00:00:00Z).
    pub valid_from: Date,
    /// Last day in force (through 23:59:59Z).
    pub valid_until: Date,
    /// The record categories that may be shared.
    pub categories: BTreeSet<Category>,
    /// Records must carry this handling code or a more restrictive one.
    pub most_permissive_handling: HandlingCode,
    /// Whether and why victim-identifying data may be shared.
    pub victim_data: VictimDataRule,
    /// How long received records may be kept, in days (at least 1).
    pub retention_days: u32,
    /// Whether received records may be passed on.
    pub onward_sharing: OnwardSharing,
    /// Hit / no-hit matching among the members (`[matching]`, docs/matching.md); `None`, the
    /// table being absent: the members do not match under this agreement.
    pub matching: Option<MatchingRule>,
    /// Two-person release (`[release]`, docs/model-mou.md): which records need releasers'
    /// approvals before they leave, and how many; `None`, the table being absent: none do.
    pub release: Option<ReleaseRule>,
    /// SHA-256 of the file's exact bytes.
    pub hash: [u8; 32],
    /// The lines of its signature file (`<file>.sigs`), as read: parsed and each signer a
    /// member, but **not yet verified** (the config crate does not know the node's own key).
    /// The node verifies them into [`Agreement::signatures`].
    pub signature_lines: Vec<SignatureLine>,
    /// The members' signatures of the file that have been **verified** against their keys
    /// (by the node, from the signature file and from members' sync status). Empty as
    /// loaded. The agreement takes effect only when every member's signature is here.
    pub signatures: BTreeMap<AgencyId, [u8; 64]>,
    /// The file it was read from.
    pub path: PathBuf,
}

impl Agreement {
    /// Whether `agency` is a member.
    pub fn is_member(&self, agency: &AgencyId) -> bool {
        self.members.contains(agency)
    }

    /// The path of its signature file: the agreement file's path with `.sigs` appended.
    pub fn signature_path(&self) -> PathBuf {
        signature_path(&self.path)
    }

    /// The members whose verified signature is not held yet, in order.
    pub fn missing_signatures(&self) -> Vec<AgencyId> {
        self.members
            .iter()
            .filter(|m| !self.signatures.contains_key(*m))
            .cloned()
            .collect()
    }

    /// Whether every member's verified signature is held: the agreement has taken effect.
    pub fn fully_signed(&self) -> bool {
        self.members.iter().all(|m| self.signatures.contains_key(m))
    }

    /// Whether the agreement is in force at `now`: from `valid_from` 00:00:00Z through
    /// `valid_until` 23:59:59Z, both inclusive.
    pub fn in_force(&self, now: Timestamp) -> bool {
        let from = self.valid_from.start();
        let until = self.valid_until.start().plus_secs(LAST_SECOND_OF_DAY);
        from <= now && now <= until
    }

    /// The file's SHA-256 as 64 lower-case hex digits.
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }

    /// Whether records of `category` may be shared.
    pub fn permits_category(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }

    /// How many releasers' approvals `record` needs before it may be sent under this
    /// agreement: 0 when the agreement has no `[release]` clause or the clause does not cover
    /// the record.
    pub fn approvals_needed(&self, record: &accord_protocol::Record) -> usize {
        self.release
            .as_ref()
            .map_or(0, |r| r.approvals_needed(record))
    }

    /// Whether a record may carry `code`: it must be at least as restrictive as
    /// [`Agreement::most_permissive_handling`].
    pub fn permits_handling(&self, code: HandlingCode) -> bool {
        code >= self.most_permissive_handling
    }
}

/// Bilateral or multilateral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgreementKind {
    /// Exactly two members.
    Bilateral,
    /// Three or more members.
    Multilateral,
}

impl AgreementKind {
    /// Every kind.
    pub const ALL: &'static [AgreementKind] =
        &[AgreementKind::Bilateral, AgreementKind::Multilateral];

    /// The name used in agreement files.
    pub const fn as_str(self) -> &'static str {
        match self {
            AgreementKind::Bilateral => "bilateral",
            AgreementKind::Multilateral => "multilateral",
        }
    }

    /// Whether `n` members suit this kind.
    pub const fn allows_members(self, n: usize) -> bool {
        match self {
            AgreementKind::Bilateral => n == 2,
            AgreementKind::Multilateral => n >= 3,
        }
    }
}

impl fmt::Display for AgreementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a receiver may pass records on to others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OnwardSharing {
    /// Never.
    Never,
    /// Only with the originator's consent.
    WithOriginatorConsent,
    /// Permitted (within what each record's handling code allows).
    Permitted,
}

impl OnwardSharing {
    /// Every rule.
    pub const ALL: &'static [OnwardSharing] = &[
        OnwardSharing::Never,
        OnwardSharing::WithOriginatorConsent,
        OnwardSharing::Permitted,
    ];

    /// The name used in agreement files.
    pub const fn as_str(self) -> &'static str {
        match self {
            OnwardSharing::Never => "never",
            OnwardSharing::WithOriginatorConsent => "with-originator-consent",
            OnwardSharing::Permitted => "permitted",
        }
    }
}

impl fmt::Display for OnwardSharing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The contact a member nominates for an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FocalPoint {
    /// A name or role title.
    pub name: String,
    /// How to reach them.
    pub contact: String,
}

/// Whether victim-identifying data may be shared, and for which purposes. When `allowed` the
/// purposes are not empty; otherwise they are empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VictimDataRule {
    /// Whether victim-identifying data may be shared at all.
    pub allowed: bool,
    /// The purposes it may be shared for.
    pub purposes: BTreeSet<VictimPurpose>,
}

impl VictimDataRule {
    /// Whether victim-identifying data may be shared for `purpose`.
    pub fn permits(&self, purpose: VictimPurpose) -> bool {
        self.allowed && self.purposes.contains(&purpose)
    }
}

/// Hit / no-hit matching under an agreement (`[matching]`; docs/matching.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchingRule {
    /// Selectors each member may look up at each other member in a day (UTC).
    pub lookups_per_day: u32,
    /// Days each holder's matching key lasts (1 to 366).
    pub epoch_days: u16,
    /// Whether selectors of records a member received from its partners take part, beside
    /// those of its own records.
    pub partner_records: bool,
}

impl MatchingRule {
    /// `lookups_per_day` when the table does not set it.
    pub const DEFAULT_LOOKUPS_PER_DAY: u32 = 100;
    /// `epoch_days` when the table does not set it.
    pub const DEFAULT_EPOCH_DAYS: u16 = 1;
    /// The most `lookups_per_day` may be.
    pub const MAX_LOOKUPS_PER_DAY: u32 = 100_000;
    /// The most `epoch_days` may be: the longest epoch the matching protocol knows.
    pub const MAX_EPOCH_DAYS: u16 = accord_protocol::matching::MAX_EPOCH_DAYS;
}

/// Two-person release under an agreement (`[release]`; docs/model-mou.md, docs/protocol.md
/// §13): a record of a handling code, a category or carrying victim-identifying data named
/// here leaves its originator only with `approvals` approvals of the originator's releasers,
/// none of them the record's signer, and every receiver refuses it without them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRule {
    /// How many different releasers must approve (1 to [`ReleaseRule::MAX_APPROVALS`]).
    pub approvals: u8,
    /// Records of these handling codes need approval.
    pub handling: BTreeSet<HandlingCode>,
    /// Records carrying victim-identifying data need approval.
    pub victim_data: bool,
    /// Records of these categories need approval.
    pub categories: BTreeSet<Category>,
}

impl ReleaseRule {
    /// The most approvals a clause may require: the most one envelope carries.
    pub const MAX_APPROVALS: u8 = accord_protocol::approval::MAX_APPROVALS as u8;

    /// Whether the clause covers `record`.
    pub fn covers(&self, record: &accord_protocol::Record) -> bool {
        self.handling.contains(&record.handling)
            || (self.victim_data && record.victim_data_purpose.is_some())
            || self.categories.contains(&record.category)
    }

    /// How many approvals `record` needs: [`ReleaseRule::approvals`] when covered, else 0.
    pub fn approvals_needed(&self, record: &accord_protocol::Record) -> usize {
        if self.covers(record) {
            usize::from(self.approvals)
        } else {
            0
        }
    }
}

/// The signature file of the agreement file at `path`: `path` with `.sigs` appended.
pub fn signature_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(accord_protocol::agreement::SIGNATURE_FILE_SUFFIX);
    PathBuf::from(p)
}
