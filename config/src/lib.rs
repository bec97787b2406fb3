//! accord-config: an agency's TOML turned into validated, typed configuration.
//!
//! Two kinds of file:
//!
//! - **the node file**, one per agency: its id, key file, data directory, listen addresses,
//!   local API, the other agencies it knows and the agreement files it is party to;
//! - **an agreement file**, the same bytes for every member (members compare its SHA-256):
//!   kind, members, a focal point per member, validity, permitted categories, handling,
//!   victim data, retention and onward sharing.
//!
//! ```toml
//! agency = "TR-JGK"
//! key_file = "agency.key"          # paths are relative to this file's directory
//! data_dir = "data"
//! listen = ["/ip4/127.0.0.1/tcp/7403"]
//! agreements = ["../agreements/quad-2026.toml"]
//!
//! [api]
//! bind = "127.0.0.1:7483"
//! token_file = "api.token"
//!
//! [[known_agency]]
//! id = "PK-FIA"
//! public_key = "ed25519:…"
//! addresses = ["/ip4/127.0.0.1/tcp/7401"]
//! ```
//!
//! Loading goes in two stages. The raw layer walks the spanned TOML tree and reports unknown
//! keys (suggesting the nearest valid one), missing keys and values of the wrong type; the
//! validation then checks each value and the values against each other, across files. Every
//! problem is reported at once (a TOML syntax error excepted: the parser stops there), each
//! with `file:line:col`, its key path, the bad value and what is expected.
//!
//! This crate does no I/O: [`load_node`] reads through the function it is given.

mod agreement;
mod error;
mod load;
mod node;
mod raw;
mod source;
mod suggest;
mod summary;
mod validate;
mod walk;

pub use agreement::{
    Agreement, AgreementKind, FocalPoint, MatchingRule, OnwardSharing, ReleaseRule, VictimDataRule,
    signature_path,
};
pub use error::{ConfigError, ConfigErrors};
pub use load::{ReadFile, load_node, parse_agreement};
pub use node::{ApiConfig, ConsoleConfig, KnownAgency, NodeConfig, NotifyConfig, StoreEngine};

/// Re-exported so that users of [`NodeConfig::listen`] need not depend on `multiaddr`.
pub use multiaddr::Multiaddr;
