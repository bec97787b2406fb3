//! Hit / no-hit matching without disclosure (docs/matching.md): a verifiable oblivious PRF
//! (RFC 9497, mode VOPRF, suite ristretto255-SHA512, the `voprf` crate) under a key each
//! holding agency derives per agreement and epoch.
//!
//! - The holder evaluates the PRF on its own selectors and gives the members of an agreement
//!   the set of [`Tag`]s ([`MatchSet`]) with the epoch's public key.
//! - An asking member blinds its selector ([`Lookup::blind`]); the holder evaluates the blinded
//!   element without learning it and proves it used the epoch's key ([`MatchKey::answer`]); the
//!   asker unblinds, checks the proof and compares the tag with the set
//!   ([`Lookup::finish`], [`MatchSet::contains`]).
//! - The holder sees only blinded elements (uniformly random points, whatever the selector);
//!   the asker learns the PRF of the selectors it looked up and nothing else, so enumerating
//!   phone numbers costs one answered lookup each, counted against the agreement's quota.
//!
//! The key is RFC 9497's `DeriveKeyPair(seed, info)`: `seed` is the agency's matching secret (32
//! random bytes, apart from its signing key), `info` names the agreement and the epoch
//! ([`key_info`]), so every agreement has its own key and a new epoch a new one: a tag or an
//! answer of a past epoch matches nothing in the next.
//!
//! Pure like the rest of this crate: the randomness (the blinds, the proofs' nonces) comes from
//! the caller.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use voprf::{BlindedElement, EvaluationElement, Group as _, Proof, VoprfClient, VoprfServer};
use zeroize::Zeroizing;

use crate::verify::verify_strict_raw;
use crate::{AgreementId, Date, PublicKey, SecretKey, Timestamp};

pub use rand_core::{CryptoRng, RngCore};

/// The RFC 9497 suite: ristretto255 with SHA-512, in verifiable mode.
pub type Suite = voprf::Ristretto255;

/// Domain tag that begins a key's `info` ([`key_info`]).
pub const KEY_INFO_DOMAIN: &[u8] = b"accord/match/key/v1\0";

/// Bytes of a [`Tag`]: the PRF output (64 bytes of SHA-512) cut to its first 16. Two different
/// selectors share a tag with a chance of about n² / 2¹²⁹ in a set of n.
pub const TAG_LEN: usize = 16;

/// Most selectors one lookup may carry.
pub const MAX_LOOKUP: usize = 64;

/// Longest selector value, in bytes.
pub const MAX_SELECTOR_LEN: usize = 256;

/// Domain tag of a holder's signature over its set ([`MatchSet::statement`]).
pub const SET_DOMAIN: &[u8] = b"accord/match-set/v1\0";

/// Longest epoch, in days.
pub const MAX_EPOCH_DAYS: u16 = 366;

/// What can be wrong with matching's inputs and messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// A selector's value is empty, too long or holds a NUL byte.
    #[error("selector {0}")]
    Selector(String),
    /// An epoch of 0 days or more than [`MAX_EPOCH_DAYS`], or a date outside the calendar.
    #[error("epoch {0}")]
    Epoch(String),
    /// A lookup with no selector or more than [`MAX_LOOKUP`].
    #[error("a lookup carries 1 to {MAX_LOOKUP} selectors, not {0}")]
    LookupSize(usize),
    /// 32 bytes that are not the encoding of a ristretto255 point (or are the identity).
    #[error("{0} is not a valid ristretto255 element")]
    Element(&'static str),
    /// An answer whose proof does not hold for the holder's public key: the holder did not
    /// evaluate with the key it published for the epoch.
    #[error("the answer's proof does not verify against the holder's public key for the epoch")]
    Proof,
    /// An answer with another number of evaluations than the lookup had selectors.
    #[error("the answer has {got} evaluations for {asked} selectors")]
    AnswerSize {
        /// Selectors asked.
        asked: usize,
        /// Evaluations given.
        got: usize,
    },
    /// A set whose signature is not the holder's over its agreement, epoch, public key and
    /// tags.
    #[error("the set's signature does not verify against the holder's agency key")]
    SetSignature,
    /// The key could not be derived (a `voprf` error, named).
    #[error("the matching key could not be derived: {0}")]
    Key(String),
}

/// The kinds of selector matching compares, each in the normal form of search's selectors
/// (docs/search.md, "Selectors").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectorKind {
    /// A phone number in E.164 (`+923012345678`).
    Phone,
    /// An account: an IBAN in electronic form, or letters and digits in upper case.
    Account,
    /// A travel document: issuing country, `:`, the number's key (`PK:AB1234567`).
    Document,
    /// A vessel: `imo:` and seven digits, or `mmsi:` and nine.
    Vessel,
    /// A person: a pair key of the name (node/src/matching), `:`, the year of birth
    /// (`Smhmt|rz_i:1987`).
    Person,
}

impl SelectorKind {
    /// The kind's name, as in the PRF input.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Account => "account",
            Self::Document => "document",
            Self::Vessel => "vessel",
            Self::Person => "person",
        }
    }
}

impl fmt::Display for SelectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A selector in normal form: what is looked up and what a holder evaluates of its own.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Selector {
    kind: SelectorKind,
    value: String,
}

impl Selector {
    /// A selector of `kind` whose value is already in its normal form (the node's search
    /// normalisers make it). Refused: an empty value, one longer than [`MAX_SELECTOR_LEN`]
    /// bytes, or one holding a NUL.
    pub fn new(kind: SelectorKind, value: &str) -> Result<Self, MatchError> {
        if value.is_empty() {
            return Err(MatchError::Selector(format!("of kind {kind} is empty")));
        }
        if value.len() > MAX_SELECTOR_LEN {
            return Err(MatchError::Selector(format!(
                "of kind {kind} is {} bytes long; at most {MAX_SELECTOR_LEN}",
                value.len()
            )));
        }
        if value.contains('\0') {
            return Err(MatchError::Selector(format!(
                "of kind {kind} holds a NUL byte"
            )));
        }
        Ok(Self {
            kind,
            value: value.to_owned(),
        })
    }

    /// Its kind.
    pub fn kind(&self) -> SelectorKind {
        self.kind
    }

    /// Its value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The PRF input: the kind's name, a NUL, the value (UTF-8).
    pub fn input(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.kind.as_str().len() + 1 + self.value.len());
        out.extend_from_slice(self.kind.as_str().as_bytes());
        out.push(0);
        out.extend_from_slice(self.value.as_bytes());
        out
    }
}

impl fmt::Debug for Selector {
    // a selector is personal data: its Debug form names only its kind
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Selector({}, <{} bytes>)", self.kind, self.value.len())
    }
}

/// A span of days under one key: it begins on a day whose number (days since 1970-01-01) is a
/// multiple of its length, so every node computes the same epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Epoch {
    /// Its first day (UTC).
    pub start: Date,
    /// Its length in days (1 to [`MAX_EPOCH_DAYS`]).
    pub days: u16,
}

impl Epoch {
    /// The epoch of `days` days that holds `at`.
    pub fn containing(at: Timestamp, days: u16) -> Result<Self, MatchError> {
        if days == 0 || days > MAX_EPOCH_DAYS {
            return Err(MatchError::Epoch(format!(
                "of {days} days; an epoch lasts 1 to {MAX_EPOCH_DAYS}"
            )));
        }
        let day = at.unix().div_euclid(86_400);
        if day < 0 {
            return Err(MatchError::Epoch(format!(
                "holding {at}: epochs begin on 1970-01-01 or later"
            )));
        }
        let first = day - day.rem_euclid(i64::from(days));
        let start = Timestamp::from_unix(first * 86_400)
            .map_err(|e| MatchError::Epoch(e.to_string()))?
            .date();
        Ok(Self { start, days })
    }

    /// The epoch after this one.
    pub fn next(self) -> Result<Self, MatchError> {
        Self::containing(
            self.start.start().plus_secs(i64::from(self.days) * 86_400),
            self.days,
        )
    }

    /// Whether `at` falls in it.
    pub fn holds(self, at: Timestamp) -> bool {
        Self::containing(at, self.days).is_ok_and(|e| e == self)
    }
}

impl Epoch {
    /// The epoch of `days` days that begins on day number `day` (since 1970-01-01), as the
    /// wire carries it: refused unless `days` is 1 to [`MAX_EPOCH_DAYS`] and `day` a multiple
    /// of it.
    pub fn from_day(day: u32, days: u16) -> Result<Self, MatchError> {
        if days == 0 || days > MAX_EPOCH_DAYS {
            return Err(MatchError::Epoch(format!(
                "of {days} days; an epoch lasts 1 to {MAX_EPOCH_DAYS}"
            )));
        }
        if !day.is_multiple_of(u32::from(days)) {
            return Err(MatchError::Epoch(format!(
                "beginning on day {day}: an epoch of {days} days begins on a multiple of {days}"
            )));
        }
        let at = Timestamp::from_unix(i64::from(day) * 86_400)
            .map_err(|e| MatchError::Epoch(e.to_string()))?;
        Self::containing(at, days)
    }

    /// The number of its first day since 1970-01-01 (UTC; [`Epoch::containing`] makes no
    /// epoch before it, and day numbers to year 9999 fit in a u32).
    pub fn day(self) -> u32 {
        u32::try_from(self.start.start().unix().div_euclid(86_400)).unwrap_or(u32::MAX)
    }
}

impl Epoch {
    /// Reads an epoch as [`fmt::Display`] writes it: `YYYY-MM-DD+Nd`, its first day and its
    /// length; refused unless the day begins an epoch of that length.
    pub fn parse(text: &str) -> Result<Self, MatchError> {
        let bad = || {
            MatchError::Epoch(format!(
                "`{text}` is not an epoch: its first day and length, e.g. 2026-12-07+1d"
            ))
        };
        let (day, days) = text.trim().split_once('+').ok_or_else(bad)?;
        let days: u16 = days
            .strip_suffix('d')
            .and_then(|d| d.parse().ok())
            .ok_or_else(bad)?;
        let start = Date::parse(day).map_err(|_| bad())?;
        let number = u32::try_from(start.start().unix().div_euclid(86_400)).map_err(|_| bad())?;
        Self::from_day(number, days)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}d", self.start, self.days)
    }
}

/// RFC 9497 `DeriveKeyPair`'s `info` for `agreement`'s key in `epoch`:
/// [`KEY_INFO_DOMAIN`] ‖ agreement id ‖ NUL ‖ first day (`YYYY-MM-DD`) ‖ NUL ‖ days (decimal).
pub fn key_info(agreement: &AgreementId, epoch: Epoch) -> Vec<u8> {
    let mut out = KEY_INFO_DOMAIN.to_vec();
    out.extend_from_slice(agreement.as_str().as_bytes());
    out.push(0);
    out.extend_from_slice(epoch.start.to_string().as_bytes());
    out.push(0);
    out.extend_from_slice(epoch.days.to_string().as_bytes());
    out
}

/// A PRF output cut to [`TAG_LEN`] bytes: what a holder publishes of a selector and what an
/// asker compares.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub [u8; TAG_LEN]);

impl Tag {
    fn of(output: &[u8]) -> Self {
        let mut t = [0u8; TAG_LEN];
        t.copy_from_slice(&output[..TAG_LEN]);
        Self(t)
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads 32 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, MatchError> {
        let mut t = [0u8; TAG_LEN];
        hex::decode_to_slice(text.trim(), &mut t).map_err(|_| {
            MatchError::Selector(format!("`{text}` is not a tag: {} hex digits", 2 * TAG_LEN))
        })?;
        Ok(Self(t))
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.to_hex())
    }
}

/// A holder's key for one agreement and epoch.
pub struct MatchKey {
    server: VoprfServer<Suite>,
    agreement: AgreementId,
    epoch: Epoch,
}

impl fmt::Debug for MatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MatchKey({}, {}, public {})",
            self.agreement,
            self.epoch,
            hex::encode(self.public_key())
        )
    }
}

impl MatchKey {
    /// The key of `agreement` in `epoch` derived from the agency's matching `seed`.
    pub fn derive(
        seed: &[u8; 32],
        agreement: &AgreementId,
        epoch: Epoch,
    ) -> Result<Self, MatchError> {
        let info = Zeroizing::new(key_info(agreement, epoch));
        let server = VoprfServer::<Suite>::new_from_seed(seed, &info)
            .map_err(|e| MatchError::Key(e.to_string()))?;
        Ok(Self {
            server,
            agreement: agreement.clone(),
            epoch,
        })
    }

    /// The agreement it serves.
    pub fn agreement(&self) -> &AgreementId {
        &self.agreement
    }

    /// Its epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The public key (a ristretto255 element, 32 bytes) answers are proved against.
    pub fn public_key(&self) -> [u8; 32] {
        element_bytes(self.server.get_public_key())
    }

    /// The tag of one of the holder's own selectors.
    pub fn tag(&self, selector: &Selector) -> Result<Tag, MatchError> {
        let out = self
            .server
            .evaluate(&selector.input())
            .map_err(|e| MatchError::Selector(e.to_string()))?;
        Ok(Tag::of(&out))
    }

    /// The answer to a lookup: each blinded element evaluated, with one proof for all.
    /// Refused: no element, more than [`MAX_LOOKUP`], or one that is not a ristretto255 point.
    pub fn answer<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        blinded: &[[u8; 32]],
    ) -> Result<Answer, MatchError> {
        if blinded.is_empty() || blinded.len() > MAX_LOOKUP {
            return Err(MatchError::LookupSize(blinded.len()));
        }
        let elements = blinded
            .iter()
            .map(|b| {
                BlindedElement::<Suite>::deserialize(b)
                    .map_err(|_| MatchError::Element("a blinded element"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .server
            .batch_blind_evaluate(rng, &elements)
            .map_err(|e| MatchError::Key(e.to_string()))?;
        Ok(Answer {
            evaluated: result
                .messages
                .iter()
                .map(|m| to32(&m.serialize()))
                .collect(),
            proof: to64(&result.proof.serialize()),
        })
    }
}

/// Checks that `blinded` holds 1 to [`MAX_LOOKUP`] ristretto255 elements, as
/// [`MatchKey::answer`] would, without evaluating them: a holder refuses a malformed lookup
/// before counting it.
pub fn check_blinded(blinded: &[[u8; 32]]) -> Result<(), MatchError> {
    if blinded.is_empty() || blinded.len() > MAX_LOOKUP {
        return Err(MatchError::LookupSize(blinded.len()));
    }
    for b in blinded {
        BlindedElement::<Suite>::deserialize(b)
            .map_err(|_| MatchError::Element("a blinded element"))?;
    }
    Ok(())
}

/// A holder's answer to a lookup: the evaluated elements, in the lookup's order, and a proof
/// (RFC 9497 §2.2) that each is the blinded element raised to the key behind the public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// One evaluated element (32 bytes) per blinded element.
    pub evaluated: Vec<[u8; 32]>,
    /// The batch DLEQ proof: two scalars, 64 bytes.
    pub proof: [u8; 64],
}

/// An asker's lookup in progress: the selectors and their blinds, kept until the answer comes.
pub struct Lookup {
    selectors: Vec<Selector>,
    clients: Vec<VoprfClient<Suite>>,
}

impl fmt::Debug for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lookup({} selectors)", self.selectors.len())
    }
}

impl Lookup {
    /// Blinds `selectors` (1 to [`MAX_LOOKUP`]) with fresh randomness: the lookup to keep and
    /// the blinded elements to send.
    pub fn blind<R: RngCore + CryptoRng>(
        rng: &mut R,
        selectors: &[Selector],
    ) -> Result<(Self, Vec<[u8; 32]>), MatchError> {
        if selectors.is_empty() || selectors.len() > MAX_LOOKUP {
            return Err(MatchError::LookupSize(selectors.len()));
        }
        let mut clients = Vec::with_capacity(selectors.len());
        let mut blinded = Vec::with_capacity(selectors.len());
        for s in selectors {
            let r = VoprfClient::<Suite>::blind(&s.input(), rng)
                .map_err(|e| MatchError::Selector(e.to_string()))?;
            blinded.push(to32(&r.message.serialize()));
            clients.push(r.state);
        }
        Ok((
            Self {
                selectors: selectors.to_vec(),
                clients,
            },
            blinded,
        ))
    }

    /// The selectors looked up, in order.
    pub fn selectors(&self) -> &[Selector] {
        &self.selectors
    }

    /// The tags of the selectors from the holder's `answer`, once its proof holds for the
    /// holder's `public_key` of the epoch.
    pub fn finish(&self, answer: &Answer, public_key: &[u8; 32]) -> Result<Vec<Tag>, MatchError> {
        if answer.evaluated.len() != self.clients.len() {
            return Err(MatchError::AnswerSize {
                asked: self.clients.len(),
                got: answer.evaluated.len(),
            });
        }
        let pk = Suite::deserialize_elem(public_key)
            .map_err(|_| MatchError::Element("the holder's public key"))?;
        let messages = answer
            .evaluated
            .iter()
            .map(|e| {
                EvaluationElement::<Suite>::deserialize(e)
                    .map_err(|_| MatchError::Element("an evaluated element"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let proof = Proof::<Suite>::deserialize(&answer.proof)
            .map_err(|_| MatchError::Element("the proof"))?;
        let inputs: Vec<Vec<u8>> = self.selectors.iter().map(Selector::input).collect();
        let outputs =
            VoprfClient::<Suite>::batch_finalize(&inputs, &self.clients, &messages, &proof, pk)
                .map_err(|_| MatchError::Proof)?;
        outputs
            .map(|o| {
                o.map(|o| Tag::of(&o))
                    .map_err(|e| MatchError::Selector(e.to_string()))
            })
            .collect()
    }
}

/// A holder's tags for one agreement and epoch, sorted and without repeats, with the public
/// key answers are proved against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchSet {
    /// The agreement.
    pub agreement: AgreementId,
    /// The epoch.
    pub epoch: Epoch,
    /// The epoch's public key.
    pub public_key: [u8; 32],
    tags: Vec<Tag>,
}

impl MatchSet {
    /// The set of `selectors` under `key`.
    pub fn build<'a>(
        key: &MatchKey,
        selectors: impl IntoIterator<Item = &'a Selector>,
    ) -> Result<Self, MatchError> {
        let tags = selectors
            .into_iter()
            .map(|s| key.tag(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_tags(
            key.agreement.clone(),
            key.epoch,
            key.public_key(),
            tags,
        ))
    }

    /// A set from tags in any order (repeats dropped).
    pub fn from_tags(
        agreement: AgreementId,
        epoch: Epoch,
        public_key: [u8; 32],
        mut tags: Vec<Tag>,
    ) -> Self {
        tags.sort_unstable();
        tags.dedup();
        Self {
            agreement,
            epoch,
            public_key,
            tags,
        }
    }

    /// Whether `tag` is in it.
    pub fn contains(&self, tag: &Tag) -> bool {
        self.tags.binary_search(tag).is_ok()
    }

    /// How many tags it holds.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Its tags, sorted.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// SHA-256 of its tags in order, the digest a holder's signed statement of the set names.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for t in &self.tags {
            h.update(t.0);
        }
        h.finalize().into()
    }
}

impl MatchSet {
    /// What the holder signs of the set: [`SET_DOMAIN`] ‖ agreement id length (u8) ‖ agreement
    /// id ‖ epoch's first day number (u32) ‖ its days (u16) ‖ public key (32) ‖ tag count
    /// (u32) ‖ SHA-256 of the tags in order ([`MatchSet::digest`]); integers big-endian.
    pub fn statement(&self) -> Vec<u8> {
        let id = self.agreement.as_str().as_bytes();
        let mut out = Vec::with_capacity(SET_DOMAIN.len() + 1 + id.len() + 6 + 32 + 4 + 32);
        out.extend_from_slice(SET_DOMAIN);
        out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(id);
        out.extend_from_slice(&self.epoch.day().to_be_bytes());
        out.extend_from_slice(&self.epoch.days.to_be_bytes());
        out.extend_from_slice(&self.public_key);
        out.extend_from_slice(
            &u32::try_from(self.tags.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(&self.digest());
        out
    }

    /// The holder's signature of [`MatchSet::statement`] with its agency key.
    pub fn sign(&self, key: &SecretKey) -> [u8; 64] {
        key.sign_tagged(SET_DOMAIN, &self.statement()[SET_DOMAIN.len()..])
    }

    /// Whether `signature` is the holder's (`public`, its agency key) over this set, checked
    /// with `verify_strict`.
    pub fn verify(&self, public: &PublicKey, signature: &[u8; 64]) -> Result<(), MatchError> {
        if verify_strict_raw(public, &self.statement(), signature) {
            Ok(())
        } else {
            Err(MatchError::SetSignature)
        }
    }
}

fn element_bytes(e: <Suite as voprf::Group>::Elem) -> [u8; 32] {
    to32(&Suite::serialize_elem(e))
}

fn to32(b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(b);
    out
}

fn to64(b: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out.copy_from_slice(b);
    out
}
