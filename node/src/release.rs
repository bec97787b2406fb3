//! Two-person release (docs/workflows.md "Releasing a sensitive record"): a record that an
//! agreement's `[release]` clause covers is not published when its author asks; it is
//! **held** here until the agreement's number of releasers approve it, and then published
//! carrying their signed approvals (docs/protocol.md §13), which every receiver checks.
//!
//! A releaser is a person of the agency whose delegated key holds a `releaser` certificate
//! (`accord delegate issue --role releaser`). Their key is **enrolled** with the node under a
//! name — the name of their console account, so the console knows them — with the path of
//! their key file and their certificate. The node signs an approval with that key only when
//! that releaser approves, dated when they approved; the record itself is numbered and signed
//! when the last approval arrives, dated when its author asked, so every approval is dated at
//! or after the record's creation.
//!
//! The rules the node keeps, beside those every receiver checks:
//! - the author does not approve their own draft (a held draft names its author's account
//!   when a person asked through the console or `--as`);
//! - a releaser approves a draft once, and only within their certificate (agreement, category,
//!   handling code, validity) and before its revocation;
//! - a declined draft is kept, marked declined with who declined it and why, and never
//!   leaves the node.
//!
//! Every step is an audit entry `release` (docs/auditing.md), written in the same batch as
//! the change it records.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use accord_config::NodeConfig;
use accord_protocol::audit::{AuditEvent, Digest32, Signed};
use accord_protocol::delegation::{DelegateRole, Delegation, certificate_id, verify_certificate};
use accord_protocol::{AgreementId, KeyDirectory, Record, RecordId, SecretKey, Seq, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::directory::Directory;
use crate::draft::Draft;
use crate::ops::OpError;
use crate::publish::{PublishError, publish_with, record_of};
use crate::store::Store;

/// One decision at a time: approvals read, change and write a held draft.
static DECIDING: Mutex<()> = Mutex::new(());

/// Longest reason for declining, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A releaser's key enrolled with the node.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Enrolled {
    /// The releaser's name: their console account's.
    pub name: String,
    /// Who holds the key, as the certificate says.
    pub holder: String,
    /// The certificate's id, hex.
    pub certificate_id: String,
    /// The certificate (`<signature hex> <json>`).
    pub certificate: String,
    /// The releaser's key file.
    pub key_file: PathBuf,
}

/// Where a held draft stands.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HeldState {
    /// Waiting for approvals.
    Waiting,
    /// Declined by a releaser: it never leaves the node.
    Declined,
    /// Approved and published.
    Released,
}

/// One releaser's approval of a held draft.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Given {
    /// The releaser's name.
    pub releaser: String,
    /// Who holds their key.
    pub holder: String,
    /// Their certificate's id, hex.
    pub certificate_id: String,
    /// Their key: one person approves once, whatever name or certificate they hold.
    pub key: accord_protocol::PublicKey,
    /// When they approved.
    pub at: Timestamp,
}

/// A draft held for releasers' approval.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Held {
    /// Its id: 16 hex digits.
    pub id: String,
    /// The agreement it is to be shared under.
    pub agreement: AgreementId,
    /// What it is about, for the list.
    pub category: accord_protocol::Category,
    /// Its handling code.
    pub handling: accord_protocol::HandlingCode,
    /// The first line of its summary, for the list (at most 120 characters).
    pub title: String,
    /// The account of the person who asked; absent for the agency's operator at the command
    /// line.
    pub author: Option<String>,
    /// When they asked: the record's `created` time when it is released.
    pub asked: Timestamp,
    /// How many approvals it needs.
    pub needed: usize,
    /// The approvals given so far.
    pub approvals: Vec<Given>,
    /// Where it stands.
    pub state: HeldState,
    /// Who declined it, when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declined: Option<Declined>,
    /// The record it became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
    /// The draft.
    pub draft: Draft,
}

/// A releaser's refusal.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Declined {
    /// The releaser's name.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}  {}  {} {} under {}, asked {} by {}: ",
            self.id,
            match self.state {
                HeldState::Waiting => "waiting ",
                HeldState::Declined => "declined",
                HeldState::Released => "released",
            },
            self.category,
            self.handling,
            self.agreement,
            self.asked,
            self.author.as_deref().unwrap_or("the operator"),
        )?;
        match (self.state, &self.declined, &self.record) {
            (HeldState::Declined, Some(d), _) => write!(
                f,
                "declined by {} at {}: {}",
                d.by,
                d.at,
                d.reason.escape_debug()
            )?,
            (HeldState::Released, _, Some(r)) => write!(f, "released as record {r}")?,
            _ => write!(
                f,
                "{} of {} approval(s){}",
                self.approvals.len(),
                self.needed,
                if self.approvals.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        self.approvals
                            .iter()
                            .map(|g| g.releaser.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )?,
        }
        write!(f, "\n    {}", self.title.escape_debug())
    }
}

/// What an approval did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Approved {
    /// The held draft after it.
    pub held: Held,
    /// The record published, when this approval was the last one needed.
    pub released: Option<RecordId>,
}

/// What to enrol: a releaser's name, key file and certificate file's line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The releaser's name (their console account's).
    pub name: String,
    /// Their key file, as the node reads it.
    pub key_file: PathBuf,
    /// Their certificate: `<signature hex> <json>`.
    pub certificate: String,
}

/// A releaser's approval or refusal of a held draft.
#[derive(Clone, Serialize, Deserialize)]
pub struct DecideRequest {
    /// The releaser's name.
    pub releaser: String,
    /// Their console account's password ([`authenticate`]).
    #[serde(default)]
    pub password: String,
    /// Why, when declining.
    #[serde(default)]
    pub reason: Option<String>,
}

impl std::fmt::Debug for DecideRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecideRequest")
            .field("releaser", &self.releaser)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// Checks that the person approving or declining through the CLI or the API is the releaser
/// `name`: their console account exists, is not disabled, and `password` is its password.
/// (The console checks the same at login.) Without it, whoever holds the API token could
/// approve as anyone enrolled.
pub fn authenticate(store: &Store, name: &str, password: &str) -> Result<(), OpError> {
    let refuse = || {
        OpError::refused(
            "releaser",
            format!(
                "{name}: no console account of that name with that password (a releaser \
                 approves or declines with their own account's password)"
            ),
        )
    };
    let Some(account) = crate::console::accounts::get(store, name)? else {
        return Err(refuse());
    };
    if account.disabled {
        return Err(OpError::refused(
            "releaser",
            format!("{name}'s account is disabled"),
        ));
    }
    if !crate::console::accounts::password_matches(&account.password, password) {
        tracing::warn!(releaser = %name, "a release decision with a wrong password was refused");
        return Err(refuse());
    }
    Ok(())
}

fn held_key(id: &str) -> String {
    format!("held/{id}")
}

fn releaser_key(name: &str) -> String {
    format!("releaser/{name}")
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, OpError> {
    serde_json::to_vec(v).map_err(|e| OpError::Failed(e.into()))
}

/// A releaser's name: 1 to 64 letters, digits, `.`, `_` or `-` (as console accounts are).
fn check_name(name: &str) -> Result<(), OpError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(OpError::refused(
            "releaser name",
            format!(
                "`{}` is not a name: 1 to 64 letters, digits, `.`, `_` or `-`",
                name.escape_debug()
            ),
        ));
    }
    Ok(())
}

/// Checks a releaser's certificate under the agency's own key and the revocations held:
/// this agency's, of role releaser, for `key`'s public half when given.
fn check_certificate(
    cfg: &NodeConfig,
    own: &SecretKey,
    dir: &Directory,
    certificate: &Signed,
    now: Timestamp,
) -> Result<Delegation, OpError> {
    let d = verify_certificate(certificate, |a| {
        (*a == cfg.agency).then(|| own.public_key())
    })
    .map_err(|e| {
        OpError::refused(
            "certificate",
            format!("{e} (a releaser's certificate is issued by this agency's key)"),
        )
    })?;
    if d.role != DelegateRole::Releaser {
        return Err(OpError::refused(
            "certificate",
            format!(
                "the certificate of {} is an officer's; issue one with `accord delegate issue \
                 --role releaser`",
                d.holder
            ),
        ));
    }
    if let Some(revoked) = dir.revoked(&cfg.agency, &certificate_id(certificate))
        && revoked <= now
    {
        return Err(OpError::refused(
            "certificate",
            format!(
                "{} revoked the certificate of {} from {revoked}",
                cfg.agency, d.holder
            ),
        ));
    }
    Ok(d)
}

/// Enrols a releaser's key under `name`: the certificate must be this agency's releaser
/// certificate for the key in `key_file`, not revoked. Replaces an earlier enrolment of the
/// name.
pub fn enrol(
    store: &Store,
    cfg: &NodeConfig,
    own: &SecretKey,
    req: &EnrolRequest,
    now: Timestamp,
    by: Option<&str>,
) -> Result<Enrolled, OpError> {
    check_name(&req.name)?;
    let certificate = Signed::from_line(req.certificate.trim())
        .map_err(|e| OpError::refused("certificate", e))?;
    let key = read_releaser_key(&req.key_file)?;
    let dir = Directory::load(cfg, own, store)?;
    let d = check_certificate(cfg, own, &dir, &certificate, now)?;
    if d.delegate != key.public_key() {
        return Err(OpError::refused(
            "key file",
            format!(
                "{} holds key {}, but the certificate of {} delegates {}",
                req.key_file.display(),
                key.public_key(),
                d.holder,
                d.delegate
            ),
        ));
    }
    let id = certificate_id(&certificate);
    let enrolled = Enrolled {
        name: req.name.clone(),
        holder: d.holder.clone(),
        certificate_id: hex::encode(id.0),
        certificate: certificate.to_line(),
        key_file: req.key_file.clone(),
    };
    store.trust().put_logged_meta(
        now,
        &releaser_key(&req.name),
        to_json(&enrolled)?,
        AuditEvent::Release {
            step: "enrolled".into(),
            held: None,
            agreement: None,
            certificate: Some(id),
            record: None,
            reason: None,
            by: Some(by.unwrap_or(&req.name).to_owned()),
        },
    )?;
    Ok(enrolled)
}

fn read_releaser_key(path: &Path) -> Result<SecretKey, OpError> {
    crate::files::read_key(path).map_err(|e| OpError::refused("key file", format!("{e:#}")))
}

/// The releasers enrolled, by name.
pub fn releasers(store: &Store) -> Result<Vec<Enrolled>, OpError> {
    let mut out = Vec::new();
    for bytes in store.trust().meta_values("releaser/")? {
        out.push(serde_json::from_slice(&bytes).map_err(|e| OpError::Failed(e.into()))?);
    }
    Ok(out)
}

/// The releaser enrolled under `name`.
pub fn releaser(store: &Store, name: &str) -> Result<Option<Enrolled>, OpError> {
    check_name(name)?;
    match store.trust().meta_value(&releaser_key(name))? {
        Some(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).map_err(|e| OpError::Failed(e.into()))?,
        )),
        None => Ok(None),
    }
}

/// How many releasers' approvals `draft` needs under its agreement (0: none), with the
/// record it would become now (numbered 1, for the checks only).
pub fn needed(
    store: &Store,
    cfg: &NodeConfig,
    draft: &Draft,
    now: Timestamp,
) -> Result<(usize, Record), PublishError> {
    let Some(agreement) = cfg.agreements.get(&draft.agreement) else {
        return Err(PublishError::UnknownAgreement {
            agreement: draft.agreement.clone(),
            agency: cfg.agency.clone(),
            known: cfg
                .agreements
                .keys()
                .map(AgreementId::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let record = record_of(store, cfg, draft, Seq::FIRST, now)?;
    Ok((agreement.approvals_needed(&record), record))
}

/// Holds `draft` for releasers' approval: it is checked as publishing would check it (so a
/// draft that could never be published is refused now), then kept with its `release held`
/// audit entry. Refused when the agreement needs no approval of it.
pub fn hold(
    store: &Store,
    cfg: &NodeConfig,
    draft: &Draft,
    author: Option<&str>,
    now: Timestamp,
) -> Result<Held, OpError> {
    let refuse = |e: PublishError| match e {
        PublishError::Store(e) => OpError::Failed(e.into()),
        e => OpError::refused("draft", e),
    };
    let (needed, record) = needed(store, cfg, draft, now).map_err(refuse)?;
    let agreement = &cfg.agreements[&draft.agreement];
    if needed == 0 {
        return Err(OpError::refused(
            "draft",
            format!(
                "agreement {} requires no approval of it; publish it",
                agreement.id
            ),
        ));
    }
    crate::policy::may_publish(&cfg.agency, agreement, &record, now)
        .into_result()
        .map_err(|r| OpError::refused("draft", format!("refused by agreement policy: {r}")))?;
    let _deciding = DECIDING.lock().unwrap_or_else(|p| p.into_inner());
    let draft_json = to_json(draft)?;
    let mut attempt = 0u32;
    let id = loop {
        let mut h = Sha256::new();
        h.update(&draft_json);
        h.update(now.to_string().as_bytes());
        h.update(author.unwrap_or("").as_bytes());
        h.update(attempt.to_be_bytes());
        let digest: [u8; 32] = h.finalize().into();
        let id = hex::encode(&digest[..8]);
        // the same draft held twice in one second is two held drafts, never one overwritten
        if store.trust().meta_value(&held_key(&id))?.is_none() {
            break id;
        }
        attempt += 1;
    };
    let held = Held {
        id: id.clone(),
        agreement: agreement.id.clone(),
        category: record.category,
        handling: record.handling,
        title: record
            .summary
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(120)
            .collect(),
        author: author.map(str::to_owned),
        asked: now,
        needed,
        approvals: Vec::new(),
        state: HeldState::Waiting,
        declined: None,
        record: None,
        draft: draft.clone(),
    };
    store.trust().put_logged_meta(
        now,
        &held_key(&id),
        to_json(&held)?,
        release_event("held", &held, None, None, None, author),
    )?;
    Ok(held)
}

fn release_event(
    step: &str,
    held: &Held,
    certificate: Option<Digest32>,
    record: Option<RecordId>,
    reason: Option<String>,
    by: Option<&str>,
) -> AuditEvent {
    AuditEvent::Release {
        step: step.into(),
        held: Some(held.id.clone()),
        agreement: Some(held.agreement.clone()),
        certificate,
        record,
        reason,
        by: by.map(str::to_owned),
    }
}

/// Every draft held here, waiting, declined or released, oldest first.
pub fn list(store: &Store) -> Result<Vec<Held>, OpError> {
    let mut out: Vec<Held> = Vec::new();
    for bytes in store.trust().meta_values("held/")? {
        out.push(serde_json::from_slice(&bytes).map_err(|e| OpError::Failed(e.into()))?);
    }
    out.sort_by(|a, b| a.asked.cmp(&b.asked).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// The held draft `id`.
pub fn get(store: &Store, id: &str) -> Result<Held, OpError> {
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(OpError::refused(
            "held draft",
            format!(
                "`{}` is not a held draft's id (16 hex digits)",
                id.escape_debug()
            ),
        ));
    }
    match store.trust().meta_value(&held_key(id))? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| OpError::Failed(e.into())),
        None => Err(OpError::refused(
            "held draft",
            format!("no draft {id} is held here (`accord approvals` lists them)"),
        )),
    }
}

fn waiting(held: &Held) -> Result<(), OpError> {
    match held.state {
        HeldState::Waiting => Ok(()),
        HeldState::Declined => Err(OpError::refused(
            format!("held draft {}", held.id),
            "it was declined; it never leaves the node",
        )),
        HeldState::Released => Err(OpError::refused(
            format!("held draft {}", held.id),
            "it was released already",
        )),
    }
}

/// The releaser `name`'s enrolment, key and certificate, checked for `held`'s agreement,
/// category and handling code now.
fn releaser_for(
    store: &Store,
    cfg: &NodeConfig,
    own: &SecretKey,
    name: &str,
    held: &Held,
    now: Timestamp,
) -> Result<(Enrolled, SecretKey, Signed, Delegation), OpError> {
    let Some(enrolled) = releaser(store, name)? else {
        return Err(OpError::refused(
            "releaser",
            format!(
                "{name} is not an enrolled releaser (`accord approvals enrol` enrols one with \
                 their key and releaser certificate)"
            ),
        ));
    };
    let certificate = Signed::from_line(&enrolled.certificate)
        .map_err(|e| OpError::Failed(anyhow::anyhow!("enrolment of {name}: {e}")))?;
    let dir = Directory::load(cfg, own, store)?;
    let d = check_certificate(cfg, own, &dir, &certificate, now)?;
    let scope = |what: String| {
        OpError::refused(
            "releaser",
            format!("{what} is outside the release certificate of {}", d.holder),
        )
    };
    if !d.covers_agreement(&held.agreement) {
        return Err(scope(format!("agreement {}", held.agreement)));
    }
    if !d.covers_category(held.category) {
        return Err(scope(format!("category {}", held.category)));
    }
    if !d.covers_handling(held.handling) {
        return Err(scope(format!("handling code {}", held.handling)));
    }
    if !d.covers(now) {
        return Err(OpError::refused(
            "releaser",
            format!(
                "the release certificate of {} is valid {} to {}, not now ({now})",
                d.holder, d.valid_from, d.valid_until
            ),
        ));
    }
    let key = read_releaser_key(&enrolled.key_file)?;
    if key.public_key() != d.delegate {
        return Err(OpError::refused(
            "releaser",
            format!(
                "the key file {} of {name} no longer holds the key their certificate delegates",
                enrolled.key_file.display()
            ),
        ));
    }
    Ok((enrolled, key, certificate, d))
}

/// Releaser `name` approves held draft `id`. When this is the last approval needed, the
/// record is numbered, signed, given every approval (each signed with its releaser's key,
/// dated when they approved) and published; otherwise the approval is kept.
pub fn approve(
    store: &Store,
    cfg: &NodeConfig,
    own: &SecretKey,
    id: &str,
    name: &str,
    now: Timestamp,
) -> Result<Approved, OpError> {
    let _deciding = DECIDING.lock().unwrap_or_else(|p| p.into_inner());
    let mut held = get(store, id)?;
    waiting(&held)?;
    if held.author.as_deref() == Some(name) {
        return Err(OpError::refused(
            "releaser",
            format!("{name} asked for this record; a second person approves its release"),
        ));
    }
    if held.approvals.iter().any(|g| g.releaser == name) {
        return Err(OpError::refused(
            "releaser",
            format!("{name} approved this draft already; another releaser must"),
        ));
    }
    // the clause as it is now: it may have changed since the draft was held
    let (now_needed, _) = needed(store, cfg, &held.draft, held.asked).map_err(|e| match e {
        PublishError::Store(e) => OpError::Failed(e.into()),
        e => OpError::refused(
            format!("held draft {id}"),
            format!("{e}; it can still be declined"),
        ),
    })?;
    held.needed = now_needed;
    let (enrolled, _, certificate, d) = releaser_for(store, cfg, own, name, &held, now)?;
    if held.approvals.iter().any(|g| g.key == d.delegate) {
        return Err(OpError::refused(
            "releaser",
            format!(
                "{} approved this draft already with the same key; another releaser must",
                d.holder
            ),
        ));
    }
    held.approvals.push(Given {
        releaser: name.to_owned(),
        holder: d.holder.clone(),
        certificate_id: enrolled.certificate_id.clone(),
        key: d.delegate,
        at: now,
    });
    let cert_id = Some(certificate_id(&certificate));
    if held.approvals.len() < held.needed {
        store.trust().put_logged_meta(
            now,
            &held_key(id),
            to_json(&held)?,
            release_event("approved", &held, cert_id, None, None, Some(name)),
        )?;
        return Ok(Approved {
            held,
            released: None,
        });
    }
    // the last approval: publish, with every approval signed by its releaser's key
    let given = held.approvals.clone();
    let scope = held.clone();
    let agreement = held.agreement.clone();
    let draft = held.draft.clone();
    let approver = Box::new(|env: &accord_protocol::Envelope| {
        let mut out = Vec::new();
        for g in &given {
            let (enrolled, key, certificate, _) =
                releaser_for(store, cfg, own, &g.releaser, &scope, now)
                    .map_err(|e| PublishError::Release(e.to_string()))?;
            // the key that approved, not whatever the name is enrolled with now
            if enrolled.certificate_id != g.certificate_id || key.public_key() != g.key {
                return Err(PublishError::Release(format!(
                    "the enrolment of {} changed since they approved at {}; their approval \
                     no longer stands (decline the draft, and hold it again)",
                    g.releaser, g.at
                )));
            }
            out.push(
                accord_protocol::approval::approve(
                    env.id(),
                    agreement.clone(),
                    g.at,
                    &key,
                    certificate,
                )
                .map_err(PublishError::Record)?,
            );
        }
        Ok(out)
    });
    // the draft is marked released in the record's own batch, with its `release` entry after
    // the record's `publish` entry: a crash leaves both or neither
    let mut released = held.clone();
    let last = Some(name.to_owned());
    let also: crate::store::Also<'_> = Box::new(move |v| {
        released.state = HeldState::Released;
        released.record = Some(v.id);
        let event = release_event(
            "released",
            &released,
            cert_id,
            Some(v.id),
            None,
            last.as_deref(),
        );
        let key = held_key(&released.id);
        match serde_json::to_vec(&released) {
            Ok(value) => vec![(key, value, event)],
            // a Held always encodes; were it not to, the record is still published and the
            // draft stays waiting with every approval, which its releasers cannot repeat
            Err(_) => Vec::new(),
        }
    });
    let record_id = publish_with(
        crate::publish::Own {
            store,
            cfg,
            key: own,
        },
        &held.agreement,
        now,
        held.author.as_deref(),
        |seq| record_of(store, cfg, &draft, seq, held.asked),
        Some(approver),
        Some(also),
    )
    .map_err(|e| match e {
        PublishError::Store(e) => OpError::Failed(e.into()),
        e => OpError::refused(format!("held draft {id}"), e),
    })?;
    held.state = HeldState::Released;
    held.record = Some(record_id);
    Ok(Approved {
        held,
        released: Some(record_id),
    })
}

/// Releaser `name` declines held draft `id`, saying why: it is kept, marked declined, and never
/// leaves the node.
pub fn decline(
    store: &Store,
    cfg: &NodeConfig,
    own: &SecretKey,
    id: &str,
    name: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Held, OpError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(OpError::refused(
            "reason",
            format!("say why the draft is declined, 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    let _deciding = DECIDING.lock().unwrap_or_else(|p| p.into_inner());
    let mut held = get(store, id)?;
    waiting(&held)?;
    let (_, _, certificate, _) = releaser_for(store, cfg, own, name, &held, now)?;
    held.state = HeldState::Declined;
    held.declined = Some(Declined {
        by: name.to_owned(),
        at: now,
        reason: reason.to_owned(),
    });
    store.trust().put_logged_meta(
        now,
        &held_key(id),
        to_json(&held)?,
        release_event(
            "declined",
            &held,
            Some(certificate_id(&certificate)),
            None,
            Some(reason.to_owned()),
            Some(name),
        ),
    )?;
    Ok(held)
}
