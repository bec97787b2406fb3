//! The wire messages of hit / no-hit matching (docs/matching.md, docs/protocol.md §6): a
//! member asks a holder for its tag set of an agreement and epoch (kind 7), the holder gives
//! it in signed chunks (kind 8); a member sends blinded selectors (kind 9) and the holder
//! answers with their evaluations and one proof (kind 10).
//!
//! An epoch on the wire is `day u32 ‖ days u16`: the number of its first day since
//! 1970-01-01 and its length ([`Epoch::from_day`] checks it).

use super::{Reader, WireError, put_id};
use crate::ids::AgreementId;
use crate::matching::{Epoch, MAX_LOOKUP, TAG_LEN, Tag};

/// Most tags in one chunk of a holder's set: 65,536 × 16 bytes = 1 MiB.
pub const MAX_SET_CHUNK: usize = 65_536;

/// Asks a holder for its tag set under an agreement and epoch, from tag number `from` (kind 7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchSetRequest {
    /// The agreement.
    pub agreement: AgreementId,
    /// The epoch.
    pub epoch: Epoch,
    /// The first tag wanted (0 for the start).
    pub from: u32,
}

/// A chunk of a holder's tag set (kind 8). The signature, by the holder's agency key, is over
/// the whole set (`MatchSet::statement`: agreement, epoch, public key, `total` and the digest
/// of all the tags), the same in every chunk; the asker checks it once it holds every chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetChunk {
    /// The agreement.
    pub agreement: AgreementId,
    /// The epoch.
    pub epoch: Epoch,
    /// The epoch's public key, answers are proved against it.
    pub public_key: [u8; 32],
    /// How many tags the whole set holds.
    pub total: u32,
    /// The number of this chunk's first tag in the set.
    pub from: u32,
    /// The tags, in the set's (sorted) order, at most [`MAX_SET_CHUNK`].
    pub tags: Vec<Tag>,
    /// The holder's signature of the whole set.
    pub signature: [u8; 64],
}

/// Blinded selectors to evaluate (kind 9): 1 to [`MAX_LOOKUP`] ristretto255 elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupRequest {
    /// The agreement.
    pub agreement: AgreementId,
    /// The epoch whose key the asker expects.
    pub epoch: Epoch,
    /// The blinded elements.
    pub blinded: Vec<[u8; 32]>,
}

/// A holder's evaluations of a lookup, in its order, with one batch DLEQ proof (kind 10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupAnswer {
    /// The agreement.
    pub agreement: AgreementId,
    /// The epoch whose key evaluated them.
    pub epoch: Epoch,
    /// The evaluated elements, one per blinded element.
    pub evaluated: Vec<[u8; 32]>,
    /// The proof.
    pub proof: [u8; 64],
}

pub(super) fn put_head(w: &mut Vec<u8>, agreement: &AgreementId, epoch: Epoch) {
    put_id(w, agreement.as_str());
    w.extend_from_slice(&epoch.day().to_be_bytes());
    w.extend_from_slice(&epoch.days.to_be_bytes());
}

pub(super) fn put_elements(w: &mut Vec<u8>, elements: &[[u8; 32]]) -> Result<(), WireError> {
    if elements.is_empty() || elements.len() > MAX_LOOKUP {
        return Err(WireError::Field {
            what: "elements",
            reason: format!("{}; a lookup carries 1 to {MAX_LOOKUP}", elements.len()),
        });
    }
    w.extend_from_slice(&(elements.len() as u16).to_be_bytes());
    for e in elements {
        w.extend_from_slice(e);
    }
    Ok(())
}

pub(super) fn put_chunk(w: &mut Vec<u8>, c: &SetChunk) -> Result<(), WireError> {
    check_chunk(c.total, c.from, c.tags.len())?;
    put_head(w, &c.agreement, c.epoch);
    w.extend_from_slice(&c.public_key);
    w.extend_from_slice(&c.total.to_be_bytes());
    w.extend_from_slice(&c.from.to_be_bytes());
    w.extend_from_slice(&(c.tags.len() as u32).to_be_bytes());
    for t in &c.tags {
        w.extend_from_slice(&t.0);
    }
    w.extend_from_slice(&c.signature);
    Ok(())
}

/// A chunk of at most [`MAX_SET_CHUNK`] tags that lies inside the set.
fn check_chunk(total: u32, from: u32, count: usize) -> Result<(), WireError> {
    if count > MAX_SET_CHUNK {
        return Err(WireError::TooMany {
            what: "set tags",
            count,
            max: MAX_SET_CHUNK,
        });
    }
    if u64::from(from) + count as u64 > u64::from(total) {
        return Err(WireError::Field {
            what: "set chunk",
            reason: format!(
                "tags {from} to {} of a set of {total}",
                u64::from(from) + count as u64
            ),
        });
    }
    Ok(())
}

impl Reader<'_> {
    pub(super) fn match_head(&mut self) -> Result<(AgreementId, Epoch), WireError> {
        let agreement = AgreementId::new(self.id("agreement id")?)?;
        let day = u32::from_be_bytes(self.array::<4>("epoch day")?);
        let days = u16::from_be_bytes(self.array::<2>("epoch days")?);
        let epoch = Epoch::from_day(day, days).map_err(|e| WireError::Field {
            what: "epoch",
            reason: e.to_string(),
        })?;
        Ok((agreement, epoch))
    }

    pub(super) fn elements(&mut self) -> Result<Vec<[u8; 32]>, WireError> {
        let n = self.count("elements", MAX_LOOKUP)?;
        if n == 0 {
            return Err(WireError::Field {
                what: "elements",
                reason: format!("none; a lookup carries 1 to {MAX_LOOKUP}"),
            });
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.array::<32>("element")?);
        }
        Ok(out)
    }

    pub(super) fn chunk(&mut self) -> Result<SetChunk, WireError> {
        let (agreement, epoch) = self.match_head()?;
        let public_key = self.array::<32>("public key")?;
        let total = u32::from_be_bytes(self.array::<4>("set total")?);
        let from = u32::from_be_bytes(self.array::<4>("chunk start")?);
        let count = u32::from_be_bytes(self.array::<4>("tag count")?) as usize;
        check_chunk(total, from, count)?;
        // bounded above: at most 1 MiB, and `take` checks the bytes are present first
        let raw = self.take(count * TAG_LEN, "tags")?;
        let tags = raw
            .chunks_exact(TAG_LEN)
            .map(|c| {
                let mut t = [0u8; TAG_LEN];
                t.copy_from_slice(c);
                Tag(t)
            })
            .collect();
        let signature = self.array::<64>("set signature")?;
        Ok(SetChunk {
            agreement,
            epoch,
            public_key,
            total,
            from,
            tags,
            signature,
        })
    }
}
