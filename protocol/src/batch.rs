//! Batch verification of signed records: every check [`verify`](crate::verify::verify) makes, then one ed25519 batch
//! equation over all the signatures instead of one equation each.
//!
//! [`verify_batch`] returns one result per envelope, in order. A record is refused for exactly
//! the reason [`verify`](crate::verify::verify) would give: the record bytes are decoded, checked to be canonical and
//! validated; the originator must be known and the envelope's signer must be its registered
//! key, or a delegated key within its certificate (the same `verify::precheck` serves both). Weak (small-order) and non-canonically encoded keys never get this far: they are
//! refused when a [`PublicKey`] is parsed, both in the key directory and in envelope decoding.
//! If the batch equation fails, every signature of the batch is checked on its own with
//! `verify_strict`, so the caller learns exactly which records failed.
//!
//! # Why batch acceptance means strict acceptance
//!
//! ed25519-dalek's `verify_batch` is not `verify_strict`: it checks one random linear
//! combination, `Σ zᵢ·([sᵢ]B − Rᵢ − [kᵢ]Aᵢ) = 0` with 128-bit `zᵢ` drawn from a transcript of all
//! inputs and `kᵢ = H(Rᵢ ‖ Aᵢ ‖ Mᵢ)` (cofactorless, as `verify_strict`). It does not refuse a
//! small-order R, accepts any encoding of R that decompresses, and does not look at the
//! torsion of R or A. So before a signature enters the batch it must pass, cheaply, what
//! `verify_strict` checks on its encodings:
//!
//! - `S < L` (a non-reduced S is refused by `verify_strict`);
//! - R decompresses, is canonically encoded and is not of small order (the rules of
//!   [`PublicKey::from_bytes`]; `verify_strict` refuses small-order R and compares the
//!   canonical encoding of the R it computes with the bytes given);
//! - the originator's key A is torsion-free (checked once per distinct key in a batch; every
//!   honestly generated key `[a]B` is).
//!
//! A signature that fails any of these is not batched: it is checked alone, and refused.
//!
//! For the batched signatures let `Dᵢ = [sᵢ]B − Rᵢ − [kᵢ]Aᵢ`; `verify_strict` accepts signature
//! i exactly when `Dᵢ = 0` (R canonical, so comparing encodings is comparing points). The
//! group is `ℤ/L × ℤ/8`; write `Dᵢ = Pᵢ + Tᵢ` with `Pᵢ` in the prime-order subgroup and `Tᵢ` a
//! torsion point. B and Aᵢ are torsion-free, so `Tᵢ` is minus the torsion part of `Rᵢ`.
//!
//! - If every signature is strictly valid, every `Dᵢ = 0` and the batch accepts: a refused
//!   batch always contains a strictly invalid signature, and the fallback names it.
//! - If the batch accepts, `Σ zᵢPᵢ = 0`. With any `Pᵢ ≠ 0` this holds with probability at most
//!   2⁻¹²⁸ for given inputs, and since the `zᵢ` hash all inputs, making it hold takes about
//!   2¹²⁸ work. So every `Pᵢ = 0`.
//! - When every Rᵢ is torsion-free, `Tᵢ = 0` too, `Dᵢ = 0`, and `verify_strict` accepts every
//!   signature of the batch. Every R an ed25519 signer computes, `[r]B`, is torsion-free.
//!
//! **The one case left**: an R that is not of small order but carries a torsion component.
//! Then `Tᵢ ≠ 0`, `verify_strict` refuses, and the batch sees `Tᵢ` only through `zᵢ mod 8`:
//! torsion parts can cancel (`Σ zᵢTᵢ = 0`) with probability 1/8 to 1/2, and the signer can
//! retry with other bytes until they do. But `Pᵢ = 0` means `[sᵢ]B = (Rᵢ − Tᵢ) + [kᵢ]Aᵢ`,
//! which only someone who knows the discrete logarithm of Aᵢ can arrange: such a signature
//! can be made only by the holder of the originator's own key, deliberately, about its own
//! record, and it is still a valid signature under the cofactored equation. Nobody else can
//! forge one, nor turn a valid signature into one (changing R changes kᵢ). Closing this case
//! too would take a torsion check `[L]Rᵢ = 0` per signature, one more scalar multiplication
//! each, which costs more than the batch saves (see `docs/benchmarks.md`). The record
//! receive path therefore keeps [`verify`](crate::verify::verify); this function is for bulk checks where that
//! difference is acceptable, and callers that need bit-for-bit agreement with every strict
//! verifier must use [`verify`](crate::verify::verify).

use ed25519_dalek::{Signature, VerifyingKey};

use crate::envelope::{Envelope, signed_message};
use crate::error::VerifyError;
use crate::ids::RecordId;
use crate::keys::PublicKey;
use crate::record::Record;
use crate::verify::{KeyDirectory, SignedRecord, Verified, precheck, verify_strict_raw};

/// The group order L, little-endian: a signature's S must be below it.
const GROUP_ORDER_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// Verifies signed records together. Returns one result per envelope, in the order given,
/// each what [`verify`](crate::verify::verify) returns for that envelope, up to the one case the module
/// documentation describes (a signature its own key's holder deliberately made with a
/// mixed-order R).
///
/// The records' checks run one by one; the signatures that pass them are verified with one
/// batch equation, and if it fails, each of them with `verify_strict`.
pub fn verify_batch(
    envelopes: Vec<Envelope>,
    keys: &(impl KeyDirectory + ?Sized),
) -> Vec<Result<Verified<SignedRecord>, VerifyError>> {
    let mut slots: Vec<Slot> = Vec::with_capacity(envelopes.len());
    let mut torsion_free: Vec<(PublicKey, bool)> = Vec::new();
    for envelope in envelopes {
        let slot = match prepare(envelope, keys) {
            Err(e) => Slot::Done(Err(e)),
            Ok(c)
                if strict_encodings(c.envelope.signature())
                    && key_torsion_free(&c.key, &mut torsion_free) =>
            {
                Slot::Pending(c)
            }
            Ok(c) => Slot::Done(check_one(c)),
        };
        slots.push(slot);
    }

    let pending: Vec<&Candidate> = slots
        .iter()
        .filter_map(|s| match s {
            Slot::Pending(c) => Some(c),
            Slot::Done(_) => None,
        })
        .collect();
    let batch_ok = pending.len() >= 2 && {
        let messages: Vec<Vec<u8>> = pending
            .iter()
            .map(|c| signed_message(c.envelope.record_bytes()))
            .collect();
        let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let signatures: Vec<Signature> = pending
            .iter()
            .map(|c| Signature::from_bytes(c.envelope.signature()))
            .collect();
        let verifying_keys: Vec<VerifyingKey> =
            pending.iter().map(|c| *c.key.verifying_key()).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &verifying_keys).is_ok()
    };

    slots
        .into_iter()
        .map(|slot| match slot {
            Slot::Done(result) => result,
            Slot::Pending(c) if batch_ok => Ok(Verified::checked(c.into_signed())),
            Slot::Pending(c) => check_one(c),
        })
        .collect()
}

/// A record that passed every check but the signature.
struct Candidate {
    envelope: Envelope,
    record: Record,
    id: RecordId,
    key: PublicKey,
}

impl Candidate {
    fn into_signed(self) -> SignedRecord {
        SignedRecord {
            envelope: self.envelope,
            record: self.record,
            id: self.id,
        }
    }
}

enum Slot {
    Done(Result<Verified<SignedRecord>, VerifyError>),
    Pending(Candidate),
}

/// [`verify`](crate::verify::verify)'s own checks before the signature (`verify::precheck`, one rule for both paths,
/// delegated keys and their certificates included): the candidate and the key whose signature
/// must verify.
fn prepare(
    envelope: Envelope,
    keys: &(impl KeyDirectory + ?Sized),
) -> Result<Candidate, VerifyError> {
    let (record, key) = precheck(&envelope, keys)?;
    let id = envelope.id();
    Ok(Candidate {
        envelope,
        record,
        id,
        key,
    })
}

/// One signature with `verify_strict`, with [`verify`](crate::verify::verify)'s error.
fn check_one(c: Candidate) -> Result<Verified<SignedRecord>, VerifyError> {
    let message = signed_message(c.envelope.record_bytes());
    if verify_strict_raw(&c.key, &message, c.envelope.signature()) {
        Ok(Verified::checked(c.into_signed()))
    } else {
        Err(VerifyError::BadSignature {
            id: c.id.to_hex(),
            originator: c.record.originator.to_string(),
        })
    }
}

/// Whether S is below L and R is a canonically encoded point not of small order: what
/// `verify_strict` requires of the signature's encodings and the batch equation does not.
fn strict_encodings(signature: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    let s = &signature[32..];
    // little-endian comparison, most significant byte first
    let s_reduced = s.iter().rev().lt(GROUP_ORDER_LE.iter().rev());
    s_reduced && PublicKey::from_bytes(&r).is_ok()
}

/// Whether `key` lies in the prime-order subgroup, remembered per key for the batch.
fn key_torsion_free(key: &PublicKey, seen: &mut Vec<(PublicKey, bool)>) -> bool {
    if let Some((_, free)) = seen.iter().find(|(k, _)| k == key) {
        return *free;
    }
    let free = key.verifying_key().to_edwards().is_torsion_free();
    seen.push((*key, free));
    free
}
