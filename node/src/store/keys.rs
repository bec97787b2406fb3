//! The key layout of the store's one sled tree. Every key starts with a one-byte prefix naming
//! what it holds; identifiers never contain a zero byte, so `0x00` separates variable parts and
//! prefix scans find exactly one agreement, originator or subject.
//!
//! | prefix | key | value |
//! | --- | --- | --- |
//! | `01` | `schema` | u32 schema version |
//! | `02` | record id (32) | stored record (see `codec`) |
//! | `03` | agreement `00` stream `00` seq (u64); the stream is the originator id, or `originator/<16 hex>` for a key it delegated | record id |
//! | `04` | agreement | u64: the last seq this node gave its own records under it |
//! | `05` | subject kind (u8) normalised value `00` record id | empty |
//! | `06` | category (u8) record id | empty |
//! | `07` | country (2) role (u8) record id | empty |
//! | `08` | created (u64, offset by 2^63) record id | empty |
//! | `09` | referenced record id (32) kind (u8) referencing record id (32) | empty |
//! | `0a` | record id | tombstone (JSON) |
//! | `0b` | agreement `00` stream `00` seq (u64) record id | envelope of an equivocating record, kept as evidence |
//! | `0c` | peer `00` agreement `00` seq (u64) | record id: an own record not yet acknowledged by that peer (the outbox) |
//! | `0d` | index (u64) | audit log entry (canonical JSON) |
//! | `0e` | count (u64) | own signed checkpoint (text line) |
//! | `0f` | agency `00` count (u64) | a partner's signed checkpoint (text line) |
//! | `10` | record id (32) receiver | SHA-256 (32) of the signed receipt's bytes, kept under `15`; in stores written before `15`, the signed receipt itself (text line) |
//! | `11` | slot (u64) | own signed slot checkpoint (text line): what partners receive |
//! | `12` | agency `00` slot (u64) | a partner's signed slot checkpoint (text line) |
//! | `13` | name key kind (u8) key `00` record id (32) | empty: the search index of person names (docs/search.md) |
//! | `14` | folded word `00` record id (32) | empty: the word index of free text (docs/search.md) |
//! | `15` | SHA-256 (32) of a signed receipt's bytes | the signed receipt (text line): a batch receipt kept once for all the records it covers |
//! | `16` | agreement `00` asker `00` day (u32, days since 1970-01-01) | u32: the selectors the asker looked up under the agreement that UTC day (matching's quota, docs/matching.md) |
//! | `01` | `agency`, `audit_head`, `audit_config`, `audit_key` | bound agency; log count and head hash; last logged configuration and key |
//! | `01` | `search_index` | u32: the version of the search keys the indexes `05`, `13` and `14` hold |
//! | `01` | `account/<name>` | a console account (JSON: role, argon2id hash, disabled) |
//! | `01` | `held/<16 hex>` | a draft held for releasers' approval (JSON, `crate::release::Held`) |
//! | `01` | `releaser/<name>` | a releaser's enrolment: certificate and key file (JSON, `crate::release::Enrolled`) |
//!
//! All integers are big-endian, so keys sort numerically.

use accord_protocol::{
    AgencyId, AgreementId, Category, Country, LegRole, RecordId, Seq, StreamId, Timestamp,
};

pub(super) const META: u8 = 0x01;
pub(super) const RECORD: u8 = 0x02;
pub(super) const SEQ: u8 = 0x03;
pub(super) const COUNTER: u8 = 0x04;
pub(super) const SUBJECT: u8 = 0x05;
pub(super) const CATEGORY: u8 = 0x06;
pub(super) const ROUTE: u8 = 0x07;
pub(super) const CREATED: u8 = 0x08;
pub(super) const REFERENCE: u8 = 0x09;
pub(super) const TOMBSTONE: u8 = 0x0a;
pub(super) const EVIDENCE: u8 = 0x0b;
pub(super) const OUTBOX: u8 = 0x0c;
pub(super) const AUDIT: u8 = 0x0d;
pub(super) const CHECKPOINT: u8 = 0x0e;
pub(super) const PARTNER_CHECKPOINT: u8 = 0x0f;
pub(super) const RECEIPT: u8 = 0x10;
pub(super) const SLOT_CHECKPOINT: u8 = 0x11;
pub(super) const PARTNER_SLOT_CHECKPOINT: u8 = 0x12;
pub(super) const NAME: u8 = 0x13;
pub(super) const WORD: u8 = 0x14;
pub(super) const RECEIPT_BODY: u8 = 0x15;
pub(super) const LOOKUPS: u8 = 0x16;

/// The prefixes of every secondary index: what `accord reindex` rebuilds.
pub(super) const INDEXES: [u8; 7] = [SUBJECT, CATEGORY, ROUTE, CREATED, REFERENCE, NAME, WORD];

pub(super) fn name_prefix(kind: u8, key: &str) -> Vec<u8> {
    let mut k = vec![NAME, kind];
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    k
}

/// The skeleton of a one-part key (`s`) of the name index, if `key` is one.
pub(super) fn name_skeleton(key: &[u8]) -> Option<&str> {
    let rest = key.strip_prefix(&[NAME, b's'][..])?;
    let end = rest.iter().position(|b| *b == 0)?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// Words start with `prefix` (no terminator: a prefix of a word finds the word).
pub(super) fn word_prefix(prefix: &str) -> Vec<u8> {
    let mut k = vec![WORD];
    k.extend_from_slice(prefix.as_bytes());
    k
}

pub(super) fn word(word: &str, id: &RecordId) -> Vec<u8> {
    let mut k = word_prefix(word);
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

pub(super) fn meta(name: &str) -> Vec<u8> {
    [&[META][..], name.as_bytes()].concat()
}

/// The prefix of an asker's lookup counts under an agreement (`16`); the day follows.
pub(super) fn lookups_prefix(agreement: &AgreementId, asker: &AgencyId) -> Vec<u8> {
    let mut k = vec![LOOKUPS];
    k.extend_from_slice(agreement.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(asker.as_str().as_bytes());
    k.push(0);
    k
}

pub(super) fn audit(index: u64) -> Vec<u8> {
    [&[AUDIT][..], &index.to_be_bytes()].concat()
}

pub(super) fn checkpoint(count: u64) -> Vec<u8> {
    [&[CHECKPOINT][..], &count.to_be_bytes()].concat()
}

pub(super) fn slot_checkpoint(slot: u64) -> Vec<u8> {
    [&[SLOT_CHECKPOINT][..], &slot.to_be_bytes()].concat()
}

pub(super) fn partner_slot_checkpoint(agency: &AgencyId, slot: u64) -> Vec<u8> {
    let mut k = partner_checkpoint(agency, slot);
    k[0] = PARTNER_SLOT_CHECKPOINT;
    k
}

pub(super) fn partner_checkpoint(agency: &AgencyId, count: u64) -> Vec<u8> {
    let mut k = vec![PARTNER_CHECKPOINT];
    k.extend_from_slice(agency.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(&count.to_be_bytes());
    k
}

pub(super) fn receipt(record: &RecordId, receiver: &AgencyId) -> Vec<u8> {
    let mut k = vec![RECEIPT];
    k.extend_from_slice(record.as_bytes());
    k.extend_from_slice(receiver.as_str().as_bytes());
    k
}

pub(super) fn receipt_body(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = vec![RECEIPT_BODY];
    k.extend_from_slice(hash);
    k
}

pub(super) fn schema() -> Vec<u8> {
    [&[META][..], b"schema"].concat()
}

pub(super) fn record(id: &RecordId) -> Vec<u8> {
    [&[RECORD][..], id.as_bytes()].concat()
}

pub(super) fn seq_prefix(agreement: &AgreementId, stream: Option<&StreamId>) -> Vec<u8> {
    let mut k = vec![SEQ];
    k.extend_from_slice(agreement.as_str().as_bytes());
    k.push(0);
    if let Some(o) = stream {
        k.extend_from_slice(o.as_str().as_bytes());
        k.push(0);
    }
    k
}

pub(super) fn seq(agreement: &AgreementId, stream: &StreamId, seq: Seq) -> Vec<u8> {
    let mut k = seq_prefix(agreement, Some(stream));
    k.extend_from_slice(&seq.get().to_be_bytes());
    k
}

pub(super) fn counter(agreement: &AgreementId) -> Vec<u8> {
    [&[COUNTER][..], agreement.as_str().as_bytes()].concat()
}

pub(super) fn subject_prefix(kind: u8, value: &str) -> Vec<u8> {
    let mut k = vec![SUBJECT, kind];
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

pub(super) fn subject(kind: u8, value: &str, id: &RecordId) -> Vec<u8> {
    let mut k = subject_prefix(kind, value);
    k.extend_from_slice(id.as_bytes());
    k
}

pub(super) fn category_prefix(c: Category) -> Vec<u8> {
    vec![CATEGORY, category_code(c)]
}

pub(super) fn category(c: Category, id: &RecordId) -> Vec<u8> {
    [&category_prefix(c)[..], id.as_bytes()].concat()
}

fn category_code(c: Category) -> u8 {
    Category::ALL
        .iter()
        .position(|x| *x == c)
        .map_or(0xff, |i| i as u8)
}

pub(super) fn route_prefix(country: Country, role: Option<LegRole>) -> Vec<u8> {
    let mut k = vec![ROUTE];
    k.extend_from_slice(country.as_str().as_bytes());
    if let Some(r) = role {
        k.push(role_code(r));
    }
    k
}

pub(super) fn route(country: Country, role: LegRole, id: &RecordId) -> Vec<u8> {
    [&route_prefix(country, Some(role))[..], id.as_bytes()].concat()
}

fn role_code(r: LegRole) -> u8 {
    match r {
        LegRole::Source => b's',
        LegRole::Transit => b't',
        LegRole::Destination => b'd',
    }
}

pub(super) fn created_bytes(t: Timestamp) -> [u8; 8] {
    ((t.unix() as u64) ^ (1 << 63)).to_be_bytes()
}

pub(super) fn created(t: Timestamp, id: &RecordId) -> Vec<u8> {
    [&[CREATED][..], &created_bytes(t), id.as_bytes()].concat()
}

/// Reference kinds in `09` keys.
pub(super) const REF_WITHDRAWS: u8 = b'w';
pub(super) const REF_CORRECTS: u8 = b'c';
pub(super) const REF_RESPONDS: u8 = b'r';

pub(super) fn reference_prefix(target: &RecordId) -> Vec<u8> {
    [&[REFERENCE][..], target.as_bytes()].concat()
}

pub(super) fn reference(target: &RecordId, kind: u8, by: &RecordId) -> Vec<u8> {
    let mut k = reference_prefix(target);
    k.push(kind);
    k.extend_from_slice(by.as_bytes());
    k
}

pub(super) fn tombstone(id: &RecordId) -> Vec<u8> {
    [&[TOMBSTONE][..], id.as_bytes()].concat()
}

pub(super) fn evidence(
    agreement: &AgreementId,
    stream: &StreamId,
    s: Seq,
    id: &RecordId,
) -> Vec<u8> {
    let mut k = vec![EVIDENCE];
    k.extend_from_slice(&seq(agreement, stream, s)[1..]);
    k.extend_from_slice(id.as_bytes());
    k
}

/// The record id at the end of an index key.
pub(super) fn trailing_id(key: &[u8]) -> Option<RecordId> {
    let start = key.len().checked_sub(32)?;
    let bytes: [u8; 32] = key[start..].try_into().ok()?;
    Some(RecordId::from_bytes(bytes))
}

/// The agreement of an outbox key, given the key without its [`outbox_prefix`].
pub(super) fn outbox_agreement(rest: &[u8]) -> Option<AgreementId> {
    let end = rest.iter().position(|b| *b == 0)?;
    AgreementId::new(std::str::from_utf8(&rest[..end]).ok()?).ok()
}

pub(super) fn outbox_prefix(peer: &AgencyId) -> Vec<u8> {
    let mut k = vec![OUTBOX];
    k.extend_from_slice(peer.as_str().as_bytes());
    k.push(0);
    k
}

pub(super) fn outbox(peer: &AgencyId, agreement: &AgreementId, s: Seq) -> Vec<u8> {
    let mut k = outbox_prefix(peer);
    k.extend_from_slice(agreement.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(&s.get().to_be_bytes());
    k
}
