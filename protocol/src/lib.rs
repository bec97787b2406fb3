//! accord-protocol: identifiers, the record model, its canonical encoding, signing,
//! verification and the wire messages.
//!
//! This crate is pure: no I/O, no clock (times are passed in), no async runtime. Every other
//! crate of accord builds on the formats fixed here; `docs/protocol.md` documents them byte by
//! byte and the tests check its vectors.

pub mod country;
pub mod error;
pub mod ids;
pub mod keys;
pub mod time;
pub mod vocab;

pub use country::Country;
pub use error::IdError;
pub use ids::{AgencyId, AgreementId, RecordId, Seq, StreamId};
pub use keys::{PublicKey, SecretKey};
pub use time::{Date, PartialDate, Timestamp};
pub use vocab::{
    Category, DocumentKind, Grading, HandlingCode, InformationAssessment, LegRole, PersonRole,
    SourceReliability, VictimPurpose,
};

pub mod agreement;
pub mod approval;
pub mod audit;
pub mod batch;
pub mod canonical;
pub mod delegation;
pub mod envelope;
pub mod matching;
pub mod receipt;
pub mod record;
pub mod rotation;
pub mod verify;
pub mod wire;

pub use envelope::{Envelope, Signer, sign};
pub use error::{EnvelopeError, RecordError, VerifyError};
pub use record::{Record, Subject};
pub use verify::{KeyDirectory, SignedRecord, Verified, verify};
pub use wire::{Message, WireError};
