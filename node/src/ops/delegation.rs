//! Delegation certificates for liaison officers' keys (docs/protocol.md §10): issuing one,
//! checked against the agency's own agreements before the agency key signs it and kept with
//! its audit entry; listing those issued, with their revocations.

use accord_config::NodeConfig;
use accord_protocol::delegation::{DelegateRole, Delegation, certificate_id, issue};
use accord_protocol::{
    AgreementId, Category, Country, HandlingCode, PublicKey, SecretKey, Timestamp,
};
use serde::{Deserialize, Serialize};

use super::OpError;
use crate::store::Store;

/// What `accord delegate issue` asks (`POST /v1/delegations`), as typed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct IssueRequest {
    /// The officer's public key, `ed25519:<hex>`.
    pub delegate_key: String,
    /// Who holds it: name and post.
    pub holder: String,
    /// The country the officer is posted to.
    pub host_country: String,
    /// The agreements the key may sign under.
    pub agreements: Vec<String>,
    /// The categories it may sign.
    pub categories: Vec<String>,
    /// First moment covered (default: now).
    #[serde(default)]
    pub from: Option<String>,
    /// Last moment covered.
    pub until: String,
    /// `officer` (the default: the key signs records) or `releaser` (the key approves the
    /// release of records, docs/protocol.md §13).
    #[serde(default)]
    pub role: Option<String>,
    /// The handling codes a releaser may release (a releaser's at least one).
    #[serde(default)]
    pub handling: Vec<String>,
}

/// A certificate issued and kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Issued {
    /// The certificate as its file holds it (`<signature hex> <json>`).
    pub certificate: String,
    /// Its id (hex).
    pub id: String,
    /// The delegated key.
    pub delegate: PublicKey,
    /// Who holds it.
    pub holder: String,
    /// Where they are posted.
    pub host_country: Country,
    /// What it delegates, in words.
    pub scope: String,
}

impl Issued {
    /// What `accord delegate issue` prints once the file is written.
    pub(crate) fn print(&self, out: &std::path::Path) {
        println!(
            "issued certificate {} to {} ({}), posted in {}: {}",
            self.id, self.delegate, self.holder, self.host_country, self.scope
        );
        println!(
            "wrote {}; give it to the officer with their key",
            out.display()
        );
    }
}

/// Checks the request, signs the certificate with the agency key and keeps it (with its audit
/// entry, flushed) before it is handed out.
pub(crate) fn issue_certificate(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
    req: &IssueRequest,
    now: Timestamp,
    by: Option<&str>,
) -> Result<Issued, OpError> {
    let d = delegation(cfg, req, now).map_err(|e| OpError::refused("delegate issue", e))?;
    let cert = issue(&d, key).map_err(|e| OpError::refused("delegate issue", e))?;
    let id = certificate_id(&cert);
    store.trust().keep_certificate(now, &id, &cert, &d, by)?;
    tracing::info!(certificate = %hex::encode(id.0), holder = %d.holder, "delegation certificate issued");
    Ok(Issued {
        certificate: cert.to_line(),
        id: hex::encode(id.0),
        delegate: d.delegate,
        holder: d.holder.clone(),
        host_country: d.host_country,
        scope: scope(&d),
    })
}

/// One certificate the agency issued, as `accord delegate list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Listed {
    /// Its id (hex).
    pub id: String,
    /// Who holds the key, or why the certificate does not verify.
    pub holder: String,
    /// Where they are posted.
    pub host_country: Option<Country>,
    /// The delegated key.
    pub delegate: Option<PublicKey>,
    /// What it delegates.
    pub scope: String,
    /// From when it is revoked, if it is.
    pub revoked: Option<Timestamp>,
    /// Whether it verified under the agency's key.
    pub verifies: bool,
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.verifies {
            return write!(f, "{}  does not verify: {}", self.id, self.holder);
        }
        let state = match self.revoked {
            Some(t) => format!("REVOKED from {t}"),
            None => "in force".to_owned(),
        };
        write!(
            f,
            "{}  {}  posted in {}  key {}\n    {}; {state}",
            &self.id[..16.min(self.id.len())],
            self.holder,
            self.host_country
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            self.delegate
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            self.scope
        )
    }
}

/// The certificates the agency issued, by id, each with its revocation if any.
pub(crate) fn list(
    store: &Store,
    cfg: &NodeConfig,
    key: &SecretKey,
) -> Result<Vec<Listed>, OpError> {
    let dir = crate::directory::Directory::load(cfg, key, store)?;
    let mut out = Vec::new();
    for cert in store.trust().certificates()? {
        let id = certificate_id(&cert);
        match accord_protocol::delegation::verify_certificate(&cert, |a| {
            (*a == cfg.agency).then(|| key.public_key())
        }) {
            Ok(d) => out.push(Listed {
                id: hex::encode(id.0),
                holder: d.holder.clone(),
                host_country: Some(d.host_country),
                delegate: Some(d.delegate),
                scope: scope(&d),
                revoked: accord_protocol::KeyDirectory::revoked(&dir, &d.agency, &id),
                verifies: true,
            }),
            Err(e) => out.push(Listed {
                id: hex::encode(id.0),
                holder: e.to_string(),
                host_country: None,
                delegate: None,
                scope: String::new(),
                revoked: None,
                verifies: false,
            }),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// The delegation asked for, refused when it is wider than the agency's own agreements (an
/// agreement it is not party to, a category one of them does not permit, a period outside
/// one's validity) or already over.
fn delegation(cfg: &NodeConfig, r: &IssueRequest, now: Timestamp) -> Result<Delegation, String> {
    let delegate: PublicKey = r
        .delegate_key
        .parse()
        .map_err(|e| format!("--delegate-key: {e}"))?;
    let host_country = Country::new(&r.host_country).map_err(|e| format!("--host-country: {e}"))?;
    let valid_from = match r.from.as_deref() {
        Some(t) => Timestamp::parse(t).map_err(|e| format!("--from: {e}"))?,
        None => now,
    };
    let valid_until = Timestamp::parse(&r.until).map_err(|e| format!("--until: {e}"))?;
    if valid_until <= now {
        return Err(format!(
            "the delegation would be expired already: --until {valid_until} is not after now ({now})"
        ));
    }
    let mut agreements = Vec::new();
    for a in &r.agreements {
        let id = AgreementId::new(a).map_err(|e| format!("--agreement {a}: {e}"))?;
        let Some(agreement) = cfg.agreements.get(&id) else {
            return Err(format!(
                "the certificate would be wider than the agency's own agreements: {} is not \
                 party to {id} (its agreements: {})",
                cfg.agency,
                cfg.agreements
                    .keys()
                    .map(AgreementId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if valid_from < agreement.valid_from.start()
            || valid_until > agreement.valid_until.start().plus_secs(86_399)
        {
            return Err(format!(
                "the certificate would be wider than agreement {id}: {valid_from} to \
                 {valid_until} is outside its validity, {} to {}",
                agreement.valid_from, agreement.valid_until
            ));
        }
        agreements.push(id);
    }
    let mut categories = Vec::new();
    for c in &r.categories {
        let category = Category::parse(c).map_err(|e| format!("--category: {e}"))?;
        for id in &agreements {
            if !cfg.agreements[id].permits_category(category) {
                return Err(format!(
                    "the certificate would be wider than agreement {id}: it does not permit \
                     category {category}"
                ));
            }
        }
        categories.push(category);
    }
    let role = match r.role.as_deref() {
        None => DelegateRole::Officer,
        Some(t) => DelegateRole::parse(t).map_err(|e| format!("--role: {e}"))?,
    };
    let mut handling = Vec::new();
    for h in &r.handling {
        let code = HandlingCode::parse(h).map_err(|e| format!("--handling: {e}"))?;
        for id in &agreements {
            if !cfg.agreements[id].permits_handling(code) {
                return Err(format!(
                    "the certificate would be wider than agreement {id}: it does not permit \
                     handling code {code}"
                ));
            }
        }
        handling.push(code);
    }
    match role {
        DelegateRole::Officer if !handling.is_empty() => {
            return Err(
                "--handling names what a releaser may release; an officer's certificate takes \
                 none (add --role releaser)"
                    .into(),
            );
        }
        DelegateRole::Releaser if handling.is_empty() => {
            return Err(
                "a releaser's certificate names the handling codes it may release: add \
                 --handling (e.g. --handling H2 --handling H3)"
                    .into(),
            );
        }
        _ => {}
    }
    let mut d = Delegation {
        v: 1,
        agency: cfg.agency.clone(),
        delegate,
        holder: r.holder.trim().to_owned(),
        host_country,
        agreements,
        categories,
        valid_from,
        valid_until,
        issued: now,
        role,
        handling,
    };
    d.normalise();
    d.validate(None).map_err(|e| e.to_string())?;
    Ok(d)
}

/// "alert, route under QUAD-2026, <from> to <until>": what a certificate delegates.
fn scope(d: &Delegation) -> String {
    let releases = if d.role == DelegateRole::Releaser {
        format!(
            "releases {} of ",
            d.handling
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    format!(
        "{releases}{} under {}, {} to {}",
        d.categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        d.agreements
            .iter()
            .map(AgreementId::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        d.valid_from,
        d.valid_until
    )
}
