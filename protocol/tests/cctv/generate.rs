//! A regeneration of the C2SP/CCTV Ed25519 edge-case vectors (`ed25519/ed25519vectors.json`),
//! written for accord from the description of the set: the same inputs, the same enumeration
//! order and the same flags, so that [`to_json`] of [`vectors`] is the published file byte for
//! byte. Nothing of the upstream file or program is copied here; `main.rs` checks the result
//! against the SHA-256 of the published file.
//!
//! How the set is built:
//!
//! - The eight points of order dividing 8 (the torsion subgroup), sorted by their canonical
//!   encoding, each with its other encodings: `y + p` where that still fits in 255 bits, and
//!   for `x = 0` the encoding with the sign bit set ("x = −0"), and both.
//! - A fixed signer: secret scalar `s` = the clamped 32 bytes `0x42…` reduced mod L, `A = [s]B`;
//!   a fixed nonce `r` = the 64 bytes `0x13 0x37 …` reduced mod L, `R = [r]B`.
//! - For every pair (T_A, T_R) of torsion points, a list of cases. In each, the key is either
//!   T_A alone (`s` taken as 0: `low_order_A`) or `A + T_A`, and R is T_R alone (`r` taken as 0:
//!   `low_order_R`) or `R + T_R`; a torsion point may be written in one of its non-canonical
//!   encodings, and k may be computed from the canonical re-encoding of the points.
//! - For each case, messages `ed25519vectors`, `ed25519vectors 1`, `ed25519vectors 2`, … are
//!   tried to reach each residue of k mod 8 (of k's canonical encoding), 0 to 7 in turn; for
//!   each value the case can give to "[k]T_A + T_R is not the identity" (the low-order residue),
//!   the first message reaching it is kept. `S = k·s + r mod L`.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest, Sha512};

/// The flags of the set, in the order the file lists them.
pub(crate) const FLAG_NAMES: [&str; 8] = [
    "low_order_R",
    "low_order_A",
    "low_order_component_R",
    "low_order_component_A",
    "low_order_residue",
    "non_canonical_A",
    "non_canonical_R",
    "reencoded_k",
];

pub(crate) const LOW_ORDER_R: u8 = 1 << 0;
pub(crate) const LOW_ORDER_A: u8 = 1 << 1;
pub(crate) const LOW_ORDER_COMPONENT_R: u8 = 1 << 2;
pub(crate) const LOW_ORDER_COMPONENT_A: u8 = 1 << 3;
pub(crate) const LOW_ORDER_RESIDUE: u8 = 1 << 4;
pub(crate) const NON_CANONICAL_A: u8 = 1 << 5;
pub(crate) const NON_CANONICAL_R: u8 = 1 << 6;
pub(crate) const REENCODED_K: u8 = 1 << 7;

/// One vector: key, message, signature and flags (bit i is `FLAG_NAMES[i]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Vector {
    pub number: usize,
    pub key: [u8; 32],
    pub signature: [u8; 64],
    pub message: String,
    pub flags: u8,
}

impl Vector {
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    pub(crate) fn flag_names(&self) -> Vec<&'static str> {
        FLAG_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.flags & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// A point of the torsion subgroup with its order and its non-canonical encodings.
#[derive(Debug)]
pub(crate) struct Torsion {
    pub point: EdwardsPoint,
    pub encoding: [u8; 32],
    pub order: u32,
    pub other_encodings: Vec<[u8; 32]>,
}

/// 2^255 − 19, little-endian.
const P: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// `y + p` over the low 255 bits of `encoding` (the sign bit kept), if it fits in 255 bits.
fn plus_p(encoding: &[u8; 32]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let y = if i == 31 {
            encoding[i] & 0x7f
        } else {
            encoding[i]
        };
        let sum = u16::from(y) + u16::from(P[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    if carry != 0 || out[31] & 0x80 != 0 {
        return None;
    }
    out[31] |= encoding[31] & 0x80;
    Some(out)
}

/// The eight torsion points, sorted by canonical encoding, with their other encodings in the
/// order: sign bit set on x = 0; y + p; both.
pub(crate) fn torsion_points() -> Vec<Torsion> {
    let mut points: Vec<Torsion> = EIGHT_TORSION
        .iter()
        .map(|point| {
            let encoding = point.compress().to_bytes();
            let order = (1..=8u32)
                .find(|n| (point * Scalar::from(*n)).is_identity())
                .expect("a torsion point");
            // x = 0 exactly for the points whose negation is themselves.
            let x_is_zero = -point == *point;
            let mut other_encodings = Vec::new();
            let mut flipped = encoding;
            flipped[31] |= 0x80;
            if x_is_zero {
                other_encodings.push(flipped);
            }
            if let Some(e) = plus_p(&encoding) {
                other_encodings.push(e);
                if x_is_zero {
                    other_encodings.push(plus_p(&flipped).expect("same y"));
                }
            }
            for e in &other_encodings {
                let decoded = CompressedEdwardsY(*e).decompress().expect("decodes");
                assert_eq!(decoded, *point, "an encoding of the same point");
            }
            Torsion {
                point: *point,
                encoding,
                order,
                other_encodings,
            }
        })
        .collect();
    points.sort_by_key(|t| t.encoding);
    points
}

/// The key's and R's point: the torsion point alone (in the given encoding, canonical if
/// `None`), or the prime-order point plus the torsion point.
#[derive(Clone, Copy)]
enum Half<'a> {
    LowOrder(Option<&'a [u8; 32]>),
    Mixed,
}

struct Signer {
    s: Scalar,
    a: EdwardsPoint,
    r: Scalar,
    big_r: EdwardsPoint,
}

fn k_of(r: &[u8; 32], a: &[u8; 32], message: &str, reencode: bool) -> Scalar {
    let canonical = |e: &[u8; 32]| -> [u8; 32] {
        CompressedEdwardsY(*e)
            .decompress()
            .expect("every encoding in the set decodes")
            .compress()
            .to_bytes()
    };
    let (r, a) = if reencode {
        (canonical(r), canonical(a))
    } else {
        (*r, *a)
    };
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message.as_bytes());
    let wide: [u8; 64] = h.finalize().into();
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn residue(t_a: &Torsion, t_r: &Torsion, k: &Scalar) -> bool {
    !(t_a.point * k + t_r.point).is_identity()
}

fn push_case(
    out: &mut Vec<Vector>,
    signer: &Signer,
    t_a: &Torsion,
    t_r: &Torsion,
    key: Half<'_>,
    nonce: Half<'_>,
    reencode: bool,
) {
    let (key_bytes, s) = match key {
        Half::LowOrder(e) => (*e.unwrap_or(&t_a.encoding), Scalar::ZERO),
        Half::Mixed => ((signer.a + t_a.point).compress().to_bytes(), signer.s),
    };
    let (r_bytes, r) = match nonce {
        Half::LowOrder(e) => (*e.unwrap_or(&t_r.encoding), Scalar::ZERO),
        Half::Mixed => ((signer.big_r + t_r.point).compress().to_bytes(), signer.r),
    };
    let mut kept = [false; 2];
    for target in 0u8..8 {
        let mut message = "ed25519vectors".to_owned();
        let mut tries = 0u32;
        let mut k = k_of(&r_bytes, &key_bytes, &message, reencode);
        while k.to_bytes()[0] % 8 != target {
            tries += 1;
            message = format!("ed25519vectors {tries}");
            k = k_of(&r_bytes, &key_bytes, &message, reencode);
        }
        let res = residue(t_a, t_r, &k);
        if kept[usize::from(res)] {
            continue;
        }
        kept[usize::from(res)] = true;
        let big_s = k * s + r;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&r_bytes);
        signature[32..].copy_from_slice(&big_s.to_bytes());
        let mut flags = 0;
        let mut set = |flag: u8, on: bool| {
            if on {
                flags |= flag;
            }
        };
        set(LOW_ORDER_R, matches!(nonce, Half::LowOrder(_)));
        set(LOW_ORDER_A, matches!(key, Half::LowOrder(_)));
        set(LOW_ORDER_COMPONENT_R, !t_r.point.is_identity());
        set(LOW_ORDER_COMPONENT_A, !t_a.point.is_identity());
        // The flag is that of k over the bytes as given, even when k was re-encoded.
        set(
            LOW_ORDER_RESIDUE,
            residue(t_a, t_r, &k_of(&r_bytes, &key_bytes, &message, false)),
        );
        set(NON_CANONICAL_A, matches!(key, Half::LowOrder(Some(_))));
        set(NON_CANONICAL_R, matches!(nonce, Half::LowOrder(Some(_))));
        set(REENCODED_K, reencode);
        out.push(Vector {
            number: out.len(),
            key: key_bytes,
            signature,
            message,
            flags,
        });
    }
}

/// The whole set, in the file's order.
pub(crate) fn vectors() -> Vec<Vector> {
    let s = Scalar::from_bytes_mod_order(clamp_integer([0x42; 32]));
    let mut r_seed = [0u8; 64];
    for pair in r_seed.chunks_mut(2) {
        pair.copy_from_slice(&[0x13, 0x37]);
    }
    let r = Scalar::from_bytes_mod_order_wide(&r_seed);
    let signer = Signer {
        s,
        a: ED25519_BASEPOINT_POINT * s,
        r,
        big_r: ED25519_BASEPOINT_POINT * r,
    };
    let torsion = torsion_points();
    let mut out = Vec::new();
    use Half::{LowOrder, Mixed};
    for t_a in &torsion {
        for t_r in &torsion {
            let mut case =
                |key, nonce, reencode| push_case(&mut out, &signer, t_a, t_r, key, nonce, reencode);
            case(LowOrder(None), LowOrder(None), false);
            case(LowOrder(None), Mixed, false);
            case(Mixed, LowOrder(None), false);
            case(Mixed, Mixed, false);
            for e in &t_a.other_encodings {
                case(LowOrder(Some(e)), LowOrder(None), false);
                case(LowOrder(Some(e)), Mixed, false);
                case(LowOrder(Some(e)), Mixed, true);
            }
            for e in &t_r.other_encodings {
                case(LowOrder(None), LowOrder(Some(e)), false);
                case(Mixed, LowOrder(Some(e)), false);
                case(Mixed, LowOrder(Some(e)), true);
            }
            for ea in &t_a.other_encodings {
                for er in &t_r.other_encodings {
                    case(LowOrder(Some(ea)), LowOrder(Some(er)), false);
                }
            }
        }
    }
    out
}

/// The file's layout: a JSON array indented with tabs, one object per vector with members
/// `number`, `key`, `sig`, `msg` (hex, lower case; the message as a string) and `flags` (an
/// array of names, `null` when there is none), and a final newline.
pub(crate) fn to_json(vectors: &[Vector]) -> String {
    let mut out = String::from("[\n");
    for (i, v) in vectors.iter().enumerate() {
        out.push_str("\t{\n");
        out.push_str(&format!("\t\t\"number\": {},\n", v.number));
        out.push_str(&format!("\t\t\"key\": \"{}\",\n", hex::encode(v.key)));
        out.push_str(&format!("\t\t\"sig\": \"{}\",\n", hex::encode(v.signature)));
        assert!(
            v.message
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' '),
            "the messages need no escaping"
        );
        out.push_str(&format!("\t\t\"msg\": \"{}\",\n", v.message));
        let names = v.flag_names();
        if names.is_empty() {
            out.push_str("\t\t\"flags\": null\n");
        } else {
            out.push_str("\t\t\"flags\": [\n");
            let items: Vec<String> = names.iter().map(|n| format!("\t\t\t\"{n}\"")).collect();
            out.push_str(&items.join(",\n"));
            out.push_str("\n\t\t]\n");
        }
        out.push_str(if i + 1 == vectors.len() {
            "\t}\n"
        } else {
            "\t},\n"
        });
    }
    out.push_str("]\n");
    out
}
