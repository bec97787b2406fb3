//! Ed25519 keys. A [`PublicKey`] is refused at parse time when its point is small-order (weak)
//! or not canonically encoded; a [`SecretKey`] never shows its bytes in Debug output.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::error::IdError;

/// The text prefix of a public key: `ed25519:` and 64 lower-case hex digits.
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";
/// The text prefix of a secret key file's key line.
pub const SECRET_KEY_PREFIX: &str = "ed25519-secret:";

/// How many accepted keys each thread remembers ([`PublicKey::from_bytes`]).
const ACCEPTED_KEYS: usize = 32;

thread_local! {
    static ACCEPTED: std::cell::RefCell<Vec<([u8; 32], VerifyingKey)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// An ed25519 public key that is canonically encoded and not of small order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses 32 bytes. Refuses encodings that do not decompress, non-canonical encodings of
    /// the y coordinate, and points of small order (the "weak" keys for which a signature can
    /// verify for many messages).
    ///
    /// Each thread remembers the last few keys it accepted (a node sees a handful of keys over
    /// and over, one in every envelope it reads), so those are not decompressed and checked
    /// again; a key that was refused is never remembered.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, IdError> {
        if let Some(key) =
            ACCEPTED.with(|c| c.borrow().iter().find(|(b, _)| b == bytes).map(|(_, k)| *k))
        {
            return Ok(Self(key));
        }
        let key = Self::check(bytes)?;
        ACCEPTED.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= ACCEPTED_KEYS {
                c.remove(0);
            }
            c.push((*bytes, key.0));
        });
        Ok(key)
    }

    fn check(bytes: &[u8; 32]) -> Result<Self, IdError> {
        let err = |reason| IdError::Key {
            value: hex::encode(bytes),
            reason,
        };
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| err("not a valid curve point"))?;
        if key.is_weak() {
            return Err(err("a small-order (weak) key; such keys are refused"));
        }
        // Decompression accepts non-canonical encodings (y >= p, and x = 0 with the sign bit
        // set) and the key keeps the bytes it was given, so the point is re-encoded here: its
        // canonical encoding differs from the input exactly for those.
        if key.to_edwards().compress().to_bytes() != *bytes {
            return Err(err("a non-canonical point encoding"));
        }
        Ok(Self(key))
    }

    /// Parses `ed25519:` followed by 64 lower-case hex digits.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Key {
            value: s.to_owned(),
            reason,
        };
        let hex_part = s
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or_else(|| err("expected `ed25519:` followed by 64 hex digits"))?;
        if hex_part.len() != 64
            || !hex_part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(err(
                "expected `ed25519:` followed by 64 lower-case hex digits",
            ));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| err("expected hex digits"))?;
        // a refused key is named as it was written, `ed25519:…`, not as raw hex
        Self::from_bytes(&bytes).map_err(|e| match e {
            IdError::Key { reason, .. } => err(reason),
            other => other,
        })
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The key bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_KEY_PREFIX}{}", hex::encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An ed25519 secret key (the 32-byte seed). Its bytes are zeroed on drop and never printed.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// Builds a key from a 32-byte seed (for example from the operating system's random source).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The seed, in a buffer zeroed on drop.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` as is. Callers sign domain-separated messages only; see
    /// [`crate::envelope`].
    /// Signs `domain` ‖ `bytes`, for signed objects defined outside this crate (the bundle
    /// signature of docs/bundle.md). `domain` must be an ASCII tag ending in a zero byte, so
    /// that no two kinds of signed object share a message.
    pub fn sign_tagged(&self, domain: &[u8], bytes: &[u8]) -> [u8; 64] {
        assert!(
            domain.last() == Some(&0) && domain[..domain.len() - 1].is_ascii(),
            "a domain tag is ASCII ending in a zero byte"
        );
        self.sign_raw(&[domain, bytes].concat())
    }

    pub(crate) fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Parses a secret key file: lines starting with `#` and blank lines are ignored, and one
    /// line holds `ed25519-secret:` followed by 64 hex digits.
    pub fn from_key_file(text: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Key {
            value: "<secret key file>".into(),
            reason,
        };
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let line = lines
            .next()
            .ok_or_else(|| err("the file holds no `ed25519-secret:` line"))?;
        if lines.next().is_some() {
            return Err(err("the file holds more than one key line"));
        }
        let hex_part = line
            .strip_prefix(SECRET_KEY_PREFIX)
            .ok_or_else(|| err("expected a line `ed25519-secret:` followed by 64 hex digits"))?;
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_part, seed.as_mut_slice())
            .map_err(|_| err("expected 64 hex digits after `ed25519-secret:`"))?;
        Ok(Self::from_seed(&seed))
    }

    /// The text of a secret key file, with a comment naming the public key.
    pub fn to_key_file(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# accord agency secret key: keep this file private (mode 0600) and backed up offline.\n\
             # public key: {}\n{SECRET_KEY_PREFIX}{}\n",
            self.public_key(),
            hex::encode(self.to_seed().as_slice()),
        ))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey(public: {}, secret: <redacted>)",
            self.public_key()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_text_round_trips() {
        let sk = SecretKey::from_seed(&[7u8; 32]);
        let pk = sk.public_key();
        let text = pk.to_string();
        assert!(text.starts_with("ed25519:"));
        assert_eq!(PublicKey::parse(&text).ok(), Some(pk));
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point (y = 1) and the point of order 2 (y = -1) are small-order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let err = PublicKey::from_bytes(&identity)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("small-order"), "{err}");
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        assert!(PublicKey::from_bytes(&minus_one).is_err());
    }

    #[test]
    fn secret_key_debug_and_file() {
        let sk = SecretKey::from_seed(&[9u8; 32]);
        let debug = format!("{sk:?}");
        assert!(debug.contains("redacted"));
        assert!(!debug.contains(&hex::encode([9u8; 32])));
        let back = SecretKey::from_key_file(&sk.to_key_file()).map(|k| k.public_key());
        assert_eq!(back.ok(), Some(sk.public_key()));
        assert!(SecretKey::from_key_file("# nothing\n").is_err());
        assert!(SecretKey::from_key_file("ed25519-secret:zz").is_err());
    }
}
