//! A validated node configuration.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use accord_protocol::{AgencyId, AgreementId, PublicKey};
use multiaddr::Multiaddr;

use crate::agreement::Agreement;

/// One agency's node: who it is, where it listens, whom it knows and under which agreements it
/// shares. Paths are resolved against the node file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// This node's agency.
    pub agency: AgencyId,
    /// The agency's secret key file.
    pub key_file: PathBuf,
    /// Where the node keeps its store and audit log.
    pub data_dir: PathBuf,
    /// The storage engine a store made in `data_dir` runs on (`store_engine`); a store that
    /// exists keeps the engine it was made with.
    pub store_engine: StoreEngine,
    /// The addresses the node listens on (at least one).
    pub listen: Vec<Multiaddr>,
    /// The other agencies it knows: every member of its agreements, and possibly more.
    pub agencies: BTreeMap<AgencyId, KnownAgency>,
    /// The agreements it is party to.
    pub agreements: BTreeMap<AgreementId, Agreement>,
    /// The local API.
    pub api: ApiConfig,
    /// Notices to the agency's own systems (`[notify]`); none when left out.
    pub notify: NotifyConfig,
    /// The console served beyond loopback over TLS (`[console]`); none when left out.
    pub console: Option<ConsoleConfig>,
    /// The node file, as given to the loader.
    pub path: PathBuf,
}

impl NodeConfig {
    /// The agreements that `agency` is a member of, with this node.
    pub fn agreements_with<'a>(
        &'a self,
        agency: &'a AgencyId,
    ) -> impl Iterator<Item = &'a Agreement> + 'a {
        self.agreements
            .values()
            .filter(move |a| a.is_member(agency))
    }
}

/// The storage engines a store can be made on (docs/operations.md, "Storage engines").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum StoreEngine {
    /// sled, the default.
    #[default]
    Sled,
    /// fjall, a log-structured merge tree.
    Fjall,
}

impl StoreEngine {
    /// Its name in a node file.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreEngine::Sled => "sled",
            StoreEngine::Fjall => "fjall",
        }
    }
}

impl std::fmt::Display for StoreEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StoreEngine {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "sled" => Ok(StoreEngine::Sled),
            "fjall" => Ok(StoreEngine::Fjall),
            _ => Err(()),
        }
    }
}

/// Another agency this node knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAgency {
    /// Its id.
    pub id: AgencyId,
    /// Its agency key.
    pub public_key: PublicKey,
    /// Where its node can be reached (may be empty: it dials in).
    pub addresses: Vec<Multiaddr>,
}

/// `[notify]`: what tells the agency's people of new requests for information, answers to
/// theirs, changes of victims' return cases and alarms — never victims' identifying data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyConfig {
    /// A program run once per notice, the notice as JSON on its standard input: the program
    /// and its arguments (no shell).
    pub command: Option<Vec<String>>,
    /// An `http://` URL of the agency's own system that each notice is POSTed to as JSON.
    pub url: Option<String>,
    /// Which notices: `request`, `answer`, `return`, `alarm`, `release` (all when left out).
    pub events: Vec<String>,
}

impl NotifyConfig {
    /// The notice kinds there are.
    pub const KINDS: [&'static str; 5] = ["request", "answer", "return", "alarm", "release"];

    /// Whether notices of `kind` go out.
    pub fn wants(&self, kind: &str) -> bool {
        (self.command.is_some() || self.url.is_some())
            && (self.events.is_empty() || self.events.iter().any(|e| e == kind))
    }
}

/// The web console served beyond this host, over TLS only (`[console]`): the people of the
/// agency reach it from their own machines. The local API's address serves it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// The socket address it binds, e.g. `0.0.0.0:7443`.
    pub bind: SocketAddr,
    /// The certificate chain, PEM.
    pub tls_cert: PathBuf,
    /// The certificate's private key, PEM.
    pub tls_key: PathBuf,
}

/// The local HTTP API for the agency's own systems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The socket address it binds.
    pub bind: SocketAddr,
    /// The file holding the bearer token.
    pub token_file: PathBuf,
}
