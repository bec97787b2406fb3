//! Sessions of the console and the login limiter, in memory: a restart ends every session.
//!
//! A session is a random 32-byte id in an HttpOnly, SameSite=Strict cookie, with its own CSRF
//! token that every state-changing form carries. It ends when its holder logs out, after
//! [`SESSION_LIFETIME`], or at the first request after its account was disabled (every request
//! reads the account from the store).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// How long a session lasts from login.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Wrong passwords for one account before it is locked.
pub const FAILURES_BEFORE_LOCK: u32 = 5;
/// How long a locked account stays locked.
pub const LOCK_FOR: Duration = Duration::from_secs(15 * 60);
/// Login attempts from one address within [`ADDRESS_WINDOW`].
pub const ATTEMPTS_PER_ADDRESS: u32 = 20;
/// The window of [`ATTEMPTS_PER_ADDRESS`].
pub const ADDRESS_WINDOW: Duration = Duration::from_secs(60);
/// The name of the session cookie.
pub const COOKIE: &str = "accord_session";

/// One logged-in person.
#[derive(Clone, Debug)]
pub struct Session {
    /// The account's name.
    pub account: String,
    /// The token every form of this session carries.
    pub csrf: String,
    expires: Instant,
}

/// The sessions of the console.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes from the operating system, in hex. A failure is a broken system: no
/// session is then better than a guessable one.
fn random_hex() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(hex::encode(b))
}

impl Sessions {
    /// Starts a session for `account`: returns its id (the cookie's value).
    pub fn start(&self, account: &str) -> Result<(String, Session), getrandom::Error> {
        let id = random_hex()?;
        let s = Session {
            account: account.to_owned(),
            csrf: random_hex()?,
            expires: Instant::now() + SESSION_LIFETIME,
        };
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires > Instant::now());
        map.insert(id.clone(), s.clone());
        Ok((id, s))
    }

    /// The live session of `id`.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(id) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends session `id`.
    pub fn end(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Ends every session of `account`.
    pub fn end_all(&self, account: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, s| s.account != account);
    }
}

/// Whether a form's CSRF token is the session's (`expected`), compared in constant time.
pub fn csrf_ok(expected: &str, presented: &str) -> bool {
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// Why a login attempt is not even tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Too many attempts from this address lately.
    Address,
    /// The account is locked until then.
    Locked(Instant),
}

#[derive(Debug, Default)]
struct Counts {
    by_account: HashMap<String, (u32, Option<Instant>)>,
    by_address: HashMap<IpAddr, (Instant, u32)>,
}

/// Counts login attempts per account and per address.
#[derive(Debug, Default)]
pub struct Limiter {
    counts: Mutex<Counts>,
}

impl Limiter {
    /// Whether an attempt for `account` from `addr` may be tried now; counts it.
    pub fn admit(&self, account: &str, addr: IpAddr) -> Result<(), Held> {
        let now = Instant::now();
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let slot = c.by_address.entry(addr).or_insert((now, 0));
        if now.duration_since(slot.0) > ADDRESS_WINDOW {
            *slot = (now, 0);
        }
        slot.1 += 1;
        if slot.1 > ATTEMPTS_PER_ADDRESS {
            return Err(Held::Address);
        }
        if let Some((_, Some(until))) = c.by_account.get(account)
            && *until > now
        {
            return Err(Held::Locked(*until));
        }
        Ok(())
    }

    /// Records a wrong password for `account`; true when it now locks the account.
    pub fn failed(&self, account: &str) -> bool {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let e = c.by_account.entry(account.to_owned()).or_insert((0, None));
        e.0 += 1;
        if e.0 >= FAILURES_BEFORE_LOCK {
            *e = (0, Some(Instant::now() + LOCK_FOR));
            true
        } else {
            false
        }
    }

    /// Forgets the failures of `account` after a good login.
    pub fn succeeded(&self, account: &str) {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_account
            .remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_and_carry_their_own_csrf_token() {
        let s = Sessions::default();
        let (id, a) = s.start("ana").unwrap();
        let (id2, b) = s.start("ana").unwrap();
        assert_ne!(id, id2);
        assert_ne!(a.csrf, b.csrf);
        assert!(csrf_ok(&a.csrf, &a.csrf));
        assert!(!csrf_ok(&a.csrf, &b.csrf));
        assert!(!csrf_ok(&a.csrf, ""));
        s.end(&id);
        assert!(s.get(&id).is_none());
        assert!(s.get(&id2).is_some());
        s.end_all("ana");
        assert!(s.get(&id2).is_none());
    }

    #[test]
    fn wrong_passwords_lock_an_account_and_an_address_is_limited() {
        let l = Limiter::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for i in 1..FAILURES_BEFORE_LOCK {
            assert!(l.admit("ana", ip).is_ok());
            assert!(!l.failed("ana"), "locked after {i}");
        }
        assert!(l.admit("ana", ip).is_ok());
        assert!(l.failed("ana"));
        assert!(matches!(l.admit("ana", ip), Err(Held::Locked(_))));
        assert!(l.admit("bob", ip).is_ok(), "another account is not locked");
        let other: IpAddr = "10.0.0.9".parse().unwrap();
        for _ in 0..ATTEMPTS_PER_ADDRESS {
            assert!(l.admit("carl", other).is_ok());
        }
        assert_eq!(l.admit("carl", other), Err(Held::Address));
    }
}
