//! The agency's routine operations — withdraw a record, export a bundle or the audit log,
//! purge, issue and list delegations — each a function of the store, the configuration, the
//! key and the time that returns what it did. A command runs it on the store it opened; while
//! `accord run` holds the store, the command asks the running node's API, whose handler runs
//! the same function on the store the node holds. Either way the outcome is the same value,
//! printed the same way, so routine work needs no outage (docs/api.md).

pub mod bundle;
pub(crate) mod delegation;
pub(crate) mod purge;
pub(crate) mod withdraw;

use thiserror::Error;

/// Why an operation did not happen.
#[derive(Debug, Error)]
pub enum OpError {
    /// The request was checked and found wrong: `what` names it, `why` says what is wrong.
    /// Nothing was changed. (Exit 1 from the CLI, 422 from the API.)
    #[error("{what}: {why}")]
    Refused {
        /// What was refused, e.g. `record 54556a10…` or `--agreement`.
        what: String,
        /// Why.
        why: String,
    },
    /// The node could not do it: the store, a file. (Exit 3, 500.)
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl OpError {
    /// A refusal of `what`, because `why`.
    pub fn refused(what: impl std::fmt::Display, why: impl std::fmt::Display) -> Self {
        Self::Refused {
            what: what.to_string(),
            why: why.to_string(),
        }
    }
}

impl From<crate::store::StoreError> for OpError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Failed(e.into())
    }
}

/// A signed object (a checkpoint) as its text line (`<signature hex> <json>`), for the API.
pub(crate) mod signed_line {
    use accord_protocol::audit::Signed;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises a signed object as its line.
    pub(crate) fn serialize<S: Serializer>(signed: &Signed, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&signed.to_line())
    }

    /// Reads a line as a signed object.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Signed, D::Error> {
        let text = String::deserialize(d)?;
        Signed::from_line(&text).map_err(serde::de::Error::custom)
    }
}

/// Base64 for the bytes an operation hands back through the API (a bundle, export files).
pub(crate) mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises bytes as base64 text.
    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(bytes))
    }

    /// Reads base64 text as bytes.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        B64.decode(text).map_err(serde::de::Error::custom)
    }
}
