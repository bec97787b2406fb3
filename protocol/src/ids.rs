//! Identifiers, each a newtype validated on construction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::country::Country;
use crate::error::IdError;

/// Implements Display, FromStr, Serialize and Deserialize through `new` and `as_str`.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A member unit: an ISO 3166-1 alpha-2 country, `-`, and a unit code of 1 to 16 upper-case
/// letters or digits, e.g. `TR-JGK`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgencyId {
    id: String,
    country: Country,
}

impl AgencyId {
    /// Longest unit code accepted after the country and the dash.
    pub const MAX_UNIT_LEN: usize = 16;

    /// Validates `CC-UNIT`.
    pub fn new(s: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Agency {
            value: s.to_owned(),
            reason,
        };
        let (cc, unit) = s
            .split_once('-')
            .ok_or_else(|| err("expected `CC-UNIT`, e.g. `TR-JGK`"))?;
        let country = Country::new(cc).map_err(|_| {
            err("the part before `-` is not an assigned ISO 3166-1 alpha-2 country code")
        })?;
        if unit.is_empty() || unit.len() > Self::MAX_UNIT_LEN {
            return Err(err("the unit code after `-` must be 1 to 16 characters"));
        }
        if !unit
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(err(
                "the unit code after `-` may hold only upper-case letters A-Z and digits",
            ));
        }
        Ok(Self {
            id: s.to_owned(),
            country,
        })
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The agency's country.
    pub fn country(&self) -> Country {
        self.country
    }
}

string_newtype!(AgencyId);

/// An agreement's identifier: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting with a
/// letter or digit, e.g. `QUAD-2026`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgreementId(String);

impl AgreementId {
    /// Longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// Validates the id.
    pub fn new(s: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Agreement {
            value: s.to_owned(),
            reason,
        };
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(err("must be 1 to 64 characters"));
        }
        if !s.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(err("must start with a letter or digit"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(err("may hold only ASCII letters, digits, `.`, `_` and `-`"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(AgreementId);

/// A record's identifier: SHA-256 over its signed message (domain tag + canonical JSON),
/// written as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId([u8; 32]);

impl RecordId {
    /// Wraps a digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 lower-case hex digits.
    pub fn new(s: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Record {
            value: s.to_owned(),
            reason,
        };
        if s.len() != 64 {
            return Err(err("expected 64 hex digits (a SHA-256 digest)"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(err("expected lower-case hex digits 0-9 a-f"));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| err("expected hex digits"))?;
        Ok(Self(out))
    }

    /// The id as 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 12 hex digits, for tables.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.to_hex())
    }
}

impl FromStr for RecordId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

/// A sequence number per (agreement, originator), starting at 1. In JSON it is a decimal string
/// without leading zeros, because it may exceed 2^53.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(u64);

impl Seq {
    /// The first sequence number.
    pub const FIRST: Seq = Seq(1);

    /// Wraps a number; zero is refused.
    pub fn new(n: u64) -> Result<Self, IdError> {
        if n == 0 {
            return Err(IdError::Seq {
                value: "0".into(),
                reason: "sequence numbers start at 1",
            });
        }
        Ok(Self(n))
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The next number, or `None` at `u64::MAX`.
    pub fn next(self) -> Option<Seq> {
        self.0.checked_add(1).map(Seq)
    }

    /// Parses the JSON form: a decimal string without sign or leading zeros.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = |reason| IdError::Seq {
            value: s.to_owned(),
            reason,
        };
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected a decimal string of digits, e.g. \"1\""));
        }
        if s.len() > 1 && s.starts_with('0') {
            return Err(err("leading zeros are not allowed"));
        }
        let n: u64 = s
            .parse()
            .map_err(|_| err("larger than 18446744073709551615"))?;
        Self::new(n).map_err(|_| err("sequence numbers start at 1"))
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

impl Serialize for Seq {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Seq {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_ids() {
        for ok in ["TR-JGK", "PK-FIA", "GR-HCG", "IR-FARAJA", "ID-POLRI1"] {
            assert!(AgencyId::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "TRJGK",
            "XX-JGK",
            "tr-JGK",
            "TR-",
            "TR-jgk",
            "TR-J-G",
            "TR-ABCDEFGHIJKLMNOPQ",
            "",
        ] {
            assert!(AgencyId::new(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            AgencyId::new("TR-JGK")
                .map(|a| a.country().to_string())
                .ok()
                .as_deref(),
            Some("TR")
        );
    }

    #[test]
    fn agreement_ids() {
        assert!(AgreementId::new("QUAD-2026").is_ok());
        assert!(AgreementId::new("tr.gr_bil-1").is_ok());
        for bad in ["", "-x", "a b", "é", &"a".repeat(65)] {
            assert!(AgreementId::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn seqs() {
        assert_eq!(Seq::parse("1").map(Seq::get).ok(), Some(1));
        assert_eq!(
            Seq::parse("18446744073709551615").map(Seq::get).ok(),
            Some(u64::MAX)
        );
        for bad in [
            "",
            "0",
            "01",
            "-1",
            "+1",
            "1.0",
            "18446744073709551616",
            " 1",
        ] {
            assert!(Seq::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn record_ids() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(RecordId::new(&hex).map(|r| r.to_hex()).ok(), Some(hex));
        assert!(RecordId::new(&("FF".repeat(32))).is_err());
        assert!(RecordId::new("abc").is_err());
    }
}

/// A sequence stream: the records of one originator signed with one key. The agency key's
/// stream is named by the agency id (`TR-JGK`); a delegated key's by the agency id, `/`, and the
/// first 8 bytes of SHA-256 over the delegated public key in hex (`TR-JGK/1f3a…`, 16 digits).
/// `seq` counts per (agreement, stream), so a liaison officer's device numbers its own records
/// without sharing the agency node's counter.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    text: String,
    agency: AgencyId,
}

impl StreamId {
    /// The stream of the agency's own key.
    pub fn agency(agency: &AgencyId) -> Self {
        Self {
            text: agency.as_str().to_owned(),
            agency: agency.clone(),
        }
    }

    /// The stream of a key `agency` delegated.
    pub fn delegated(agency: &AgencyId, key: &crate::keys::PublicKey) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.as_bytes());
        Self {
            text: format!("{}/{}", agency.as_str(), hex::encode(&digest[..8])),
            agency: agency.clone(),
        }
    }

    /// Parses `AGENCY` or `AGENCY/<16 lower-case hex digits>`.
    pub fn new(s: &str) -> Result<Self, IdError> {
        let (a, tag) = match s.split_once('/') {
            Some((a, tag)) => (a, Some(tag)),
            None => (s, None),
        };
        let agency = AgencyId::new(a)?;
        if let Some(tag) = tag
            && (tag.len() != 16
                || !tag
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return Err(IdError::Agency {
                value: s.to_owned(),
                reason: "a delegated stream is `CC-UNIT/` and 16 lower-case hex digits",
            });
        }
        Ok(Self {
            text: s.to_owned(),
            agency,
        })
    }

    /// The agency whose records the stream holds.
    pub fn agency_id(&self) -> &AgencyId {
        &self.agency
    }

    /// Whether this is a delegated key's stream.
    pub fn is_delegated(&self) -> bool {
        self.text.len() != self.agency.as_str().len()
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

string_newtype!(StreamId);
