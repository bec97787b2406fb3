//! People's accounts of the console: a name, a role, an argon2id hash of the password, whether
//! disabled. Kept in the store (one `account/<name>` key each) with an `account` audit entry
//! for every change, so an auditor sees who was given access and when it was taken away.

use std::fmt;
use std::str::FromStr;

use accord_protocol::Timestamp;
use accord_protocol::audit::AuditEvent;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::ops::OpError;
use crate::store::Store;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// What a person may see and do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads records, publishes and asks.
    Analyst,
    /// An analyst who also answers partners' requests for information.
    FocalPoint,
    /// Follows victims' returns.
    ReturnsOfficer,
    /// Everything, and agreements, officers' certificates and accounts.
    Admin,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// Every role, as `--role` spells them.
    pub const ALL: [Role; 5] = [
        Role::Analyst,
        Role::FocalPoint,
        Role::ReturnsOfficer,
        Role::Admin,
        Role::Auditor,
    ];

    /// The name `--role` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::FocalPoint => "focal-point",
            Role::ReturnsOfficer => "returns-officer",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    /// Whether the role may publish, withdraw and correct records.
    pub fn may_publish(self) -> bool {
        matches!(self, Role::Analyst | Role::FocalPoint | Role::Admin)
    }

    /// Whether the role may answer partners' requests for information (the focal point's
    /// work).
    pub fn may_answer(self) -> bool {
        matches!(self, Role::FocalPoint | Role::Admin)
    }

    /// Whether the role may open and update victims' return cases.
    pub fn may_follow_returns(self) -> bool {
        matches!(self, Role::ReturnsOfficer | Role::Admin)
    }

    /// Whether the role reads the audit log and downloads the audit export.
    pub fn may_read_audit(self) -> bool {
        matches!(self, Role::Auditor | Role::Admin)
    }

    /// Whether the role may sign agreements and issue or revoke officers' certificates.
    pub fn may_administer(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "no role {s:?}; roles: {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
    }
}

/// One account as kept in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The name people log in with.
    pub name: String,
    /// The role.
    pub role: Role,
    /// The argon2id hash of the password, in PHC string form.
    pub password: String,
    /// Disabled accounts cannot log in, and their sessions end at once.
    pub disabled: bool,
    /// When it was added.
    pub created: Timestamp,
}

/// What `accord user list` and `GET /v1/accounts` show of an account (never its hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// Whether disabled.
    pub disabled: bool,
    /// When it was added.
    pub created: Timestamp,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            name: a.name.clone(),
            role: a.role,
            disabled: a.disabled,
            created: a.created,
        }
    }
}

/// Checks an account name: 1 to 64 of `a–z`, `0–9`, `.`, `_`, `-`, starting with a letter.
pub fn check_name(name: &str) -> Result<(), OpError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(OpError::refused(
            format!("account name {name:?}"),
            "use 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter",
        ))
    }
}

/// Checks a new password's length (characters, not bytes).
pub fn check_password(password: &str) -> Result<(), OpError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(OpError::refused(
            "the password",
            format!("it has fewer than {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The argon2id hash of `password` with a fresh random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, OpError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| OpError::Failed(anyhow::anyhow!("no randomness: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| OpError::Failed(anyhow::anyhow!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| OpError::Failed(anyhow::anyhow!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC hash `phc`.
pub fn password_matches(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Reads one account.
pub fn get(store: &Store, name: &str) -> Result<Option<Account>, OpError> {
    match store.trust().account(name)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            OpError::Failed(anyhow::anyhow!(
                "the account {name:?} in the store is damaged: {e}"
            ))
        }),
    }
}

/// Every account, by name.
pub fn list(store: &Store) -> Result<Vec<AccountView>, OpError> {
    let mut out = Vec::new();
    for bytes in store.trust().accounts()? {
        let a: Account = serde_json::from_slice(&bytes).map_err(|e| {
            OpError::Failed(anyhow::anyhow!("an account in the store is damaged: {e}"))
        })?;
        out.push(AccountView::from(&a));
    }
    Ok(out)
}

fn put(
    store: &Store,
    now: Timestamp,
    a: &Account,
    change: &str,
    by: Option<&str>,
) -> Result<(), OpError> {
    let value = serde_json::to_vec(a).map_err(|e| OpError::Failed(e.into()))?;
    let event = AuditEvent::Account {
        account: a.name.clone(),
        change: change.to_owned(),
        role: (change == "added").then(|| a.role.as_str().to_owned()),
        by: by.map(str::to_owned),
    };
    store.trust().put_account(now, &a.name, value, event)?;
    Ok(())
}

/// Adds an account. Refused when the name is taken or the password too short.
pub fn add(
    store: &Store,
    now: Timestamp,
    name: &str,
    role: Role,
    password: &str,
    by: Option<&str>,
) -> Result<AccountView, OpError> {
    check_name(name)?;
    check_password(password)?;
    if get(store, name)?.is_some() {
        return Err(OpError::refused(
            format!("account {name}"),
            "it exists; choose another name, or `accord user passwd` to change its password",
        ));
    }
    let a = Account {
        name: name.to_owned(),
        role,
        password: hash_password(password)?,
        disabled: false,
        created: now,
    };
    put(store, now, &a, "added", by)?;
    Ok(AccountView::from(&a))
}

fn existing(store: &Store, name: &str) -> Result<Account, OpError> {
    get(store, name)?.ok_or_else(|| {
        OpError::refused(
            format!("account {name}"),
            "there is no such account (`accord user list` shows them)",
        )
    })
}

/// Gives an account a new password.
pub fn set_password(
    store: &Store,
    now: Timestamp,
    name: &str,
    password: &str,
    by: Option<&str>,
) -> Result<AccountView, OpError> {
    check_password(password)?;
    let mut a = existing(store, name)?;
    a.password = hash_password(password)?;
    put(store, now, &a, "password", by)?;
    Ok(AccountView::from(&a))
}

/// Disables (or enables again) an account. A disabled account's sessions end at once: every
/// request of a session reads its account.
pub fn set_disabled(
    store: &Store,
    now: Timestamp,
    name: &str,
    disabled: bool,
    by: Option<&str>,
) -> Result<AccountView, OpError> {
    let mut a = existing(store, name)?;
    a.disabled = disabled;
    put(
        store,
        now,
        &a,
        if disabled { "disabled" } else { "enabled" },
        by,
    )?;
    Ok(AccountView::from(&a))
}

/// Logs that an account was locked after wrong passwords (nothing of it changes).
pub fn log_locked(store: &Store, now: Timestamp, name: &str) -> Result<(), OpError> {
    store.log().audit(
        now,
        vec![AuditEvent::Account {
            account: name.to_owned(),
            change: "locked".to_owned(),
            role: None,
            by: None,
        }],
    )?;
    store.flush()?;
    Ok(())
}

/// A password read from the terminal or a pipe, wiped on drop.
pub type Password = Zeroizing<String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches(&h, "correct horse battery"));
        assert!(!password_matches(&h, "correct horse battery!"));
        assert!(!password_matches("not a hash", "x"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn names_roles_and_short_passwords_are_checked() {
        assert!(check_name("a.analyst-2").is_ok());
        for bad in ["", "Admin", "9lives", "with space", "ü", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!("focal-point".parse::<Role>().unwrap(), Role::FocalPoint);
        let e = "boss".parse::<Role>().unwrap_err();
        assert!(e.contains("analyst, focal-point"), "{e}");
        assert!(check_password("elevenchars").is_err());
        assert!(check_password("twelve chars").is_ok());
    }
}
