//! Batch receipts (receipt version 2; docs/protocol.md §12): one signature acknowledging
//! every record of a push under one agreement, over the Merkle tree hash of their ids
//! (RFC 6962 §2.1, as Certificate Transparency signs a tree head rather than its leaves), with
//! an inclusion proof that shows any one record's delivery without naming the others.
//!
//! The tree is `ct-merkle`'s RFC 6962 implementation over SHA-256; the leaves are the 32
//! bytes of each record id, in the order of the push.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{InclusionProof as CtProof, RootHash};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::audit::{
    AuditError, Digest32, Receipt, Signed, decode_canonical, sign_bytes, verify_receipt,
};
use crate::verify::verify_strict_raw;
use crate::{AgencyId, AgreementId, PublicKey, RecordError, RecordId, SecretKey, Timestamp};

/// Domain tag of batch receipt signatures.
pub const BATCH_RECEIPT_DOMAIN: &[u8] = b"accord/receipt/v2\0";

/// Most records one batch receipt may cover (a push or range answer holds far fewer).
pub const MAX_BATCH: u64 = 1 << 20;

/// A receiver's statement that it holds every record of a batch: `records` records of
/// `agreement` whose ids hash to `root`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchReceipt {
    /// The receipt format: 2.
    pub v: u8,
    /// The agreement every record is under.
    pub agreement: AgreementId,
    /// The receiving agency (the signer).
    pub receiver: AgencyId,
    /// When it stored them (or found it held them).
    pub received_at: Timestamp,
    /// How many records the tree has.
    pub records: u64,
    /// The RFC 6962 Merkle tree hash of their ids, in order.
    pub root: Digest32,
}

impl BatchReceipt {
    /// The receipt of `ids` (in order), by `receiver` at `received_at`.
    pub fn of(
        agreement: AgreementId,
        receiver: AgencyId,
        received_at: Timestamp,
        ids: &[RecordId],
    ) -> Result<Self, RecordError> {
        Ok(Self {
            v: 2,
            agreement,
            receiver,
            received_at,
            records: ids.len() as u64,
            root: records_root(ids)?,
        })
    }

    /// Whether `proof` shows that `id` is one of the records this receipt covers.
    pub fn covers(&self, id: &RecordId, proof: &InclusionProof) -> bool {
        let root = RootHash::<Sha256>::new(self.root.0.into(), self.records);
        proof.index < self.records
            && proof.path.len() <= 64
            && root
                .verify_inclusion(
                    id.as_bytes(),
                    proof.index,
                    &CtProof::from_digests(proof.path.iter().map(|d| (&d.0).into())),
                )
                .is_ok()
    }

    /// Whether the receipt covers exactly `ids`, in this order.
    pub fn covers_exactly(&self, ids: &[RecordId]) -> bool {
        ids.len() as u64 == self.records && records_root(ids).is_ok_and(|r| r == self.root)
    }
}

/// The RFC 6962 Merkle tree hash of record ids, in order: the leaves are the ids' 32 bytes,
/// hashed `SHA-256(0x00 || id)`, and each inner node `SHA-256(0x01 || left || right)`.
/// Refused for no ids (a receipt covers at least one) or more than [`MAX_BATCH`].
pub fn records_root(ids: &[RecordId]) -> Result<Digest32, RecordError> {
    let root = tree(ids)?.root();
    let mut out = [0u8; 32];
    out.copy_from_slice(root.as_bytes().as_slice());
    Ok(Digest32(out))
}

fn tree(ids: &[RecordId]) -> Result<MemoryBackedTree<Sha256, [u8; 32]>, RecordError> {
    if ids.is_empty() || ids.len() as u64 > MAX_BATCH {
        return Err(RecordError::Malformed(format!(
            "a batch receipt covers 1 to {MAX_BATCH} records, not {}",
            ids.len()
        )));
    }
    let mut t = MemoryBackedTree::new();
    for id in ids {
        t.push(*id.as_bytes());
    }
    Ok(t)
}

/// That the record at `index` of a batch is one of its leaves: the RFC 6962 audit path (the
/// sibling hashes from the leaf up to the root).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The record's place in the batch, from 0.
    pub index: u64,
    /// The audit path, from the leaf's sibling up.
    pub path: Vec<Digest32>,
}

/// The inclusion proof of `ids[index]` in the tree of `ids`.
pub fn prove(ids: &[RecordId], index: usize) -> Result<InclusionProof, RecordError> {
    if index >= ids.len() {
        return Err(RecordError::Malformed(format!(
            "no record {index} in a batch of {}",
            ids.len()
        )));
    }
    let proof = tree(ids)?.prove_inclusion(index);
    let path = proof
        .as_bytes()
        .chunks(32)
        .map(|c| {
            let mut d = [0u8; 32];
            d.copy_from_slice(c);
            Digest32(d)
        })
        .collect();
    Ok(InclusionProof {
        index: index as u64,
        path,
    })
}

/// Signs a batch receipt.
pub fn sign_batch_receipt(r: &BatchReceipt, key: &SecretKey) -> Result<Signed, RecordError> {
    check_version(r)?;
    Ok(sign_bytes(
        BATCH_RECEIPT_DOMAIN,
        crate::audit::canonical_bytes(r)?,
        key,
    ))
}

/// Verifies a signed batch receipt with the receiver's key.
pub fn verify_batch_receipt(
    s: &Signed,
    key_of: impl Fn(&AgencyId) -> Option<PublicKey>,
) -> Result<BatchReceipt, AuditError> {
    let r: BatchReceipt = decode_canonical(&s.bytes)?;
    check_version(&r)?;
    let key = key_of(&r.receiver).ok_or_else(|| AuditError::UnknownSigner(r.receiver.clone()))?;
    if !verify_strict_raw(
        &key,
        &[BATCH_RECEIPT_DOMAIN, &s.bytes].concat(),
        &s.signature,
    ) {
        return Err(AuditError::BadSignature(r.receiver));
    }
    Ok(r)
}

/// A receipt of either version: one record's (version 1, docs/auditing.md §3) or a batch's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyReceipt {
    /// Version 1: one record.
    Record(Receipt),
    /// Version 2: a batch of records.
    Batch(BatchReceipt),
}

impl AnyReceipt {
    /// Reads receipt bytes of either version, unverified (to find the receiver's key): a
    /// version 2 receipt has `v`, a version 1 receipt has none.
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let is_batch = serde_json::from_slice::<serde_json::Value>(bytes)
            .map_err(|e| RecordError::Malformed(e.to_string()))?
            .get("v")
            .is_some();
        Ok(if is_batch {
            let r: BatchReceipt = decode_canonical(bytes)?;
            check_version(&r)?;
            Self::Batch(r)
        } else {
            Self::Record(decode_canonical(bytes)?)
        })
    }

    /// The signer.
    pub fn receiver(&self) -> &AgencyId {
        match self {
            Self::Record(r) => &r.receiver,
            Self::Batch(b) => &b.receiver,
        }
    }

    /// The agreement of the records it acknowledges.
    pub fn agreement(&self) -> &AgreementId {
        match self {
            Self::Record(r) => &r.agreement,
            Self::Batch(b) => &b.agreement,
        }
    }

    /// When the receiver stored them.
    pub fn received_at(&self) -> Timestamp {
        match self {
            Self::Record(r) => r.received_at,
            Self::Batch(b) => b.received_at,
        }
    }
}

/// Verifies a signed receipt of either version with the receiver's key.
pub fn verify_any_receipt(
    s: &Signed,
    key_of: impl Fn(&AgencyId) -> Option<PublicKey>,
) -> Result<AnyReceipt, AuditError> {
    match AnyReceipt::parse(&s.bytes)? {
        AnyReceipt::Record(_) => verify_receipt(s, key_of).map(AnyReceipt::Record),
        AnyReceipt::Batch(_) => verify_batch_receipt(s, key_of).map(AnyReceipt::Batch),
    }
}

fn check_version(r: &BatchReceipt) -> Result<(), RecordError> {
    if r.v != 2 {
        return Err(RecordError::Malformed(format!(
            "batch receipt version {} (2 expected)",
            r.v
        )));
    }
    if r.records == 0 || r.records > MAX_BATCH {
        return Err(RecordError::Malformed(format!(
            "a batch receipt covers 1 to {MAX_BATCH} records, not {}",
            r.records
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sha2::Digest;

    use super::*;

    fn ids(n: usize) -> Vec<RecordId> {
        (0..n)
            .map(|i| RecordId::from_bytes(Sha256::digest((i as u64).to_be_bytes()).into()))
            .collect()
    }

    /// RFC 6962 §2.1's definition, written out as the RFC gives it: the oracle the crate is
    /// checked against.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            1 => Sha256::new()
                .chain_update([0u8])
                .chain_update(leaves[0])
                .finalize()
                .into(),
            n => {
                // the largest power of two smaller than n
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                Sha256::new()
                    .chain_update([1u8])
                    .chain_update(mth(&leaves[..k]))
                    .chain_update(mth(&leaves[k..]))
                    .finalize()
                    .into()
            }
        }
    }

    #[test]
    fn the_root_is_rfc_6962s_merkle_tree_hash_of_the_ids() {
        for n in 1..=33 {
            let ids = ids(n);
            let leaves: Vec<[u8; 32]> = ids.iter().map(|i| *i.as_bytes()).collect();
            assert_eq!(records_root(&ids).unwrap().0, mth(&leaves), "{n} leaves");
        }
    }

    #[test]
    fn every_record_of_a_batch_has_a_proof_and_no_other_record_does() {
        let outside = ids(40)[39];
        for n in 1..=17 {
            let batch = ids(n);
            let r = BatchReceipt::of(
                AgreementId::new("QUAD-2026").unwrap(),
                AgencyId::new("GR-HCG").unwrap(),
                Timestamp::EPOCH,
                &batch,
            )
            .unwrap();
            assert!(r.covers_exactly(&batch));
            for (i, id) in batch.iter().enumerate() {
                let p = prove(&batch, i).unwrap();
                assert!(r.covers(id, &p), "record {i} of {n}");
                // the proof of one record proves no other, nor this one elsewhere
                assert!(!r.covers(&outside, &p));
                if n > 1 {
                    let other = batch[(i + 1) % n];
                    assert!(
                        !r.covers(&other, &p),
                        "record {i}'s proof for another, of {n}"
                    );
                    let moved = InclusionProof {
                        index: ((i + 1) % n) as u64,
                        ..p.clone()
                    };
                    assert!(!r.covers(id, &moved), "record {i} at another place, of {n}");
                }
                // a changed root takes no proof
                let mut other_root = r.clone();
                other_root.root.0[0] ^= 1;
                assert!(
                    !other_root.covers(id, &p),
                    "record {i} of {n} under another root"
                );
            }
            assert!(!r.covers_exactly(&batch[..n - 1]));
            let mut reordered = batch.clone();
            reordered.reverse();
            assert_eq!(r.covers_exactly(&reordered), n == 1);
        }
    }

    #[test]
    fn batch_receipts_sign_and_verify_and_nothing_else_passes_as_one() {
        let key = SecretKey::from_seed(&[7; 32]);
        let receiver = AgencyId::new("GR-HCG").unwrap();
        let keys = |a: &AgencyId| (*a == receiver).then(|| key.public_key());
        let r = BatchReceipt::of(
            AgreementId::new("QUAD-2026").unwrap(),
            receiver.clone(),
            Timestamp::EPOCH,
            &ids(5),
        )
        .unwrap();
        let s = sign_batch_receipt(&r, &key).unwrap();
        assert_eq!(verify_batch_receipt(&s, keys).unwrap(), r);
        // a version 1 receipt's signature over the same bytes is not a batch receipt's
        let v1 = Signed {
            bytes: s.bytes.clone(),
            signature: key.sign_raw(&[crate::audit::RECEIPT_DOMAIN, &s.bytes].concat()),
        };
        assert!(matches!(
            verify_batch_receipt(&v1, keys),
            Err(AuditError::BadSignature(_))
        ));
        // a changed root, count or version fails
        let mut tampered = s.clone();
        let at = tampered.bytes.len() - 4;
        tampered.bytes[at] ^= 1;
        assert!(verify_batch_receipt(&tampered, keys).is_err());
        let mut v3 = r.clone();
        v3.v = 3;
        assert!(sign_batch_receipt(&v3, &key).is_err());
        assert!(
            BatchReceipt::of(r.agreement.clone(), receiver.clone(), Timestamp::EPOCH, &[]).is_err()
        );
        // either version is read and verified as what it is
        assert_eq!(
            verify_any_receipt(&s, keys).unwrap(),
            AnyReceipt::Batch(r.clone())
        );
        let one = Receipt {
            record: ids(1)[0],
            agreement: r.agreement.clone(),
            receiver: receiver.clone(),
            received_at: Timestamp::EPOCH,
        };
        let s1 = crate::audit::sign_receipt(&one, &key).unwrap();
        assert_eq!(
            verify_any_receipt(&s1, keys).unwrap(),
            AnyReceipt::Record(one)
        );
        // a version 1 receipt's bytes signed under the batch tag pass as neither
        let crossed = Signed {
            bytes: s1.bytes.clone(),
            signature: key.sign_raw(&[BATCH_RECEIPT_DOMAIN, &s1.bytes].concat()),
        };
        assert!(verify_any_receipt(&crossed, keys).is_err());
    }
}
