//! The typed layer: raw values checked one by one and against each other, every problem
//! reported, each naming the bad value and what is expected.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use accord_protocol::{
    AgencyId, AgreementId, Category, Date, HandlingCode, IdError, PublicKey, VictimPurpose,
};
use multiaddr::Multiaddr;

use crate::agreement::{
    Agreement, AgreementKind, FocalPoint, MatchingRule, OnwardSharing, ReleaseRule, VictimDataRule,
};
use crate::node::{ApiConfig, ConsoleConfig, KnownAgency, NotifyConfig, StoreEngine};
use crate::raw::{
    RawAgreement, RawFocalPoints, RawKnownAgency, RawMatching, RawNode, RawRelease, RawVictimData,
};
use crate::source::Diag;
use crate::suggest::nearest;
use crate::walk::Sp;

/// What validation could establish about an agreement, even when some of it is wrong: the id
/// and members serve the node file's cross-checks.
#[derive(Debug)]
pub(crate) struct CheckedAgreement {
    pub(crate) id: Option<AgreementId>,
    pub(crate) members: Option<BTreeSet<AgencyId>>,
    /// The whole agreement, when every part of it is valid.
    pub(crate) agreement: Option<Agreement>,
}

pub(crate) fn agreement(
    raw: RawAgreement,
    diag: &mut Diag<'_>,
    path: &Path,
    hash: [u8; 32],
) -> CheckedAgreement {
    let id = raw
        .id
        .as_ref()
        .and_then(|sp| parse(diag, sp, AgreementId::new));
    let title = raw
        .title
        .as_ref()
        .and_then(|sp| non_empty(diag, sp, "title"));
    let kind = raw.kind.as_ref().and_then(|sp| {
        word(
            diag,
            sp,
            "agreement kind",
            AgreementKind::ALL,
            |k| k.as_str(),
            false,
        )
    });
    let members = raw
        .members
        .as_ref()
        .and_then(|sp| set_of(diag, sp, "member", AgencyId::new));
    if let (Some(kind), Some(list)) = (kind, &raw.members) {
        check_member_count(diag, kind, list);
    }
    let focal_points = raw
        .focal_points
        .as_ref()
        .and_then(|fp| focal_points(diag, fp, members.as_ref()));
    let valid_from = raw
        .valid_from
        .as_ref()
        .and_then(|sp| parse(diag, sp, Date::parse));
    let valid_until = raw
        .valid_until
        .as_ref()
        .and_then(|sp| parse(diag, sp, Date::parse));
    if let (Some(from), Some(until), Some(sp)) = (valid_from, valid_until, &raw.valid_until)
        && until < from
    {
        sp.error(
            diag,
            format!("valid_until `{until}` is before valid_from `{from}`"),
            Some(
                "the validity window runs from valid_from through valid_until, both inclusive"
                    .into(),
            ),
        );
    }
    let categories = raw.categories.as_ref().and_then(|sp| {
        if sp.value.is_empty() {
            sp.error(
                diag,
                "no categories listed".into(),
                Some(format!(
                    "expected at least one of: {}",
                    all_words(Category::ALL, |c| c.as_str())
                )),
            );
        }
        set_of(diag, sp, "category", Category::parse)
    });
    let handling = raw
        .most_permissive_handling
        .as_ref()
        .and_then(|sp| parse(diag, sp, HandlingCode::parse));
    let victim_data = raw.victim_data.as_ref().and_then(|v| victim_data(diag, v));
    let retention_days = raw
        .retention_days
        .as_ref()
        .and_then(|sp| match u32::try_from(sp.value) {
            Ok(days) if days > 0 => Some(days),
            _ => {
                sp.error(
                    diag,
                    format!("invalid retention period `{}` days", sp.value),
                    Some(format!(
                        "expected a whole number of days from 1 to {}",
                        u32::MAX
                    )),
                );
                None
            }
        });
    let onward_sharing = raw.onward_sharing.as_ref().and_then(|sp| {
        word(
            diag,
            sp,
            "onward sharing rule",
            OnwardSharing::ALL,
            |o| o.as_str(),
            true,
        )
    });

    let matching = match &raw.matching {
        Some(m) => matching(diag, m).map(Some),
        None => Some(None),
    };

    let release = match &raw.release {
        Some(r) => release(diag, r).map(Some),
        None => Some(None),
    };

    let agreement = (|| {
        Some(Agreement {
            id: id.clone()?,
            title: title?,
            kind: kind?,
            members: members.clone()?,
            focal_points: focal_points?,
            valid_from: valid_from?,
            valid_until: valid_until?,
            categories: categories?,
            most_permissive_handling: handling?,
            victim_data: victim_data?,
            retention_days: retention_days?,
            onward_sharing: onward_sharing?,
            matching: matching?,
            release: release?,
            hash,
            signature_lines: Vec::new(),
            signatures: BTreeMap::new(),
            path: path.to_owned(),
        })
    })();
    CheckedAgreement {
        id,
        members,
        agreement,
    }
}

fn check_member_count(diag: &mut Diag<'_>, kind: AgreementKind, list: &Sp<Vec<Sp<String>>>) {
    let distinct: BTreeSet<&str> = list.value.iter().map(|m| m.value.as_str()).collect();
    if kind.allows_members(distinct.len()) {
        return;
    }
    let names = distinct.iter().copied().collect::<Vec<_>>().join(", ");
    let (rule, hint) = match kind {
        AgreementKind::Bilateral => (
            "exactly 2 members",
            "an agreement of 3 or more members is `multilateral`",
        ),
        AgreementKind::Multilateral => (
            "3 or more members",
            "an agreement of exactly 2 members is `bilateral`",
        ),
    };
    let message = format!(
        "a {kind} agreement has {rule}, but {} are listed: [{names}]",
        distinct.len()
    );
    list.error(diag, message, Some(hint.into()));
}

fn focal_points(
    diag: &mut Diag<'_>,
    raw: &RawFocalPoints,
    members: Option<&BTreeSet<AgencyId>>,
) -> Option<BTreeMap<AgencyId, FocalPoint>> {
    let mut points = BTreeMap::new();
    let mut complete = true;
    for entry in &raw.entries {
        let agency = parse(diag, &entry.agency, AgencyId::new);
        let name = entry
            .name
            .as_ref()
            .and_then(|sp| non_empty(diag, sp, "name"));
        let contact = entry
            .contact
            .as_ref()
            .and_then(|sp| non_empty(diag, sp, "contact"));
        if let (Some(agency), Some(members)) = (&agency, members)
            && !members.contains(agency)
        {
            entry.agency.error(
                diag,
                format!("focal point for `{agency}`, which is not a member"),
                Some(format!("members are: {}", join(members))),
            );
        }
        match (agency, name, contact) {
            (Some(agency), Some(name), Some(contact)) => {
                points.insert(agency, FocalPoint { name, contact });
            }
            _ => complete = false,
        }
    }
    if let Some(members) = members {
        let named: BTreeSet<&str> = raw
            .entries
            .iter()
            .map(|e| e.agency.value.as_str())
            .collect();
        for member in members.iter().filter(|m| !named.contains(m.as_str())) {
            diag.error(
                raw.span.start,
                &raw.key,
                format!("no focal point for member `{member}`"),
                Some(format!(
                    "add [focal_points.{member}] with `name` and `contact`"
                )),
            );
            complete = false;
        }
    }
    complete.then_some(points)
}

/// `[release]`: a number of approvals within range and at least one kind of record covered.
fn release(diag: &mut Diag<'_>, raw: &RawRelease) -> Option<ReleaseRule> {
    let approvals = raw.approvals.as_ref()?;
    let n = match u8::try_from(approvals.value) {
        Ok(n) if (1..=ReleaseRule::MAX_APPROVALS).contains(&n) => Some(n),
        _ => {
            approvals.error(
                diag,
                format!("invalid number of approvals `{}`", approvals.value),
                Some(format!(
                    "expected a whole number of releasers from 1 to {}",
                    ReleaseRule::MAX_APPROVALS
                )),
            );
            None
        }
    };
    let handling = match &raw.handling {
        Some(sp) => set_of(diag, sp, "handling code", HandlingCode::parse),
        None => Some(BTreeSet::new()),
    };
    let categories = match &raw.categories {
        Some(sp) => set_of(diag, sp, "category", Category::parse),
        None => Some(BTreeSet::new()),
    };
    let victim_data = raw.victim_data.as_ref().is_some_and(|b| b.value);
    let (n, handling, categories) = (n?, handling?, categories?);
    if handling.is_empty() && categories.is_empty() && !victim_data {
        approvals.error(
            diag,
            "the [release] clause requires approval of no record".to_owned(),
            Some(
                "name the `handling` codes or `categories` that need approval, or set \
                 `victim_data = true`"
                    .to_owned(),
            ),
        );
        return None;
    }
    Some(ReleaseRule {
        approvals: n,
        handling,
        victim_data,
        categories,
    })
}

/// `[matching]`: each key within its range, the defaults for those left out.
fn matching(diag: &mut Diag<'_>, raw: &RawMatching) -> Option<MatchingRule> {
    let lookups_per_day = match &raw.lookups_per_day {
        None => Some(MatchingRule::DEFAULT_LOOKUPS_PER_DAY),
        Some(sp) => match u32::try_from(sp.value) {
            Ok(n) if n <= MatchingRule::MAX_LOOKUPS_PER_DAY => Some(n),
            _ => {
                sp.error(
                    diag,
                    format!("invalid daily lookup quota `{}`", sp.value),
                    Some(format!(
                        "expected a whole number of selectors a day from 0 to {}",
                        MatchingRule::MAX_LOOKUPS_PER_DAY
                    )),
                );
                None
            }
        },
    };
    let epoch_days = match &raw.epoch_days {
        None => Some(MatchingRule::DEFAULT_EPOCH_DAYS),
        Some(sp) => match u16::try_from(sp.value) {
            Ok(n) if (1..=MatchingRule::MAX_EPOCH_DAYS).contains(&n) => Some(n),
            _ => {
                sp.error(
                    diag,
                    format!("invalid key epoch `{}` days", sp.value),
                    Some(format!(
                        "expected a whole number of days from 1 to {}",
                        MatchingRule::MAX_EPOCH_DAYS
                    )),
                );
                None
            }
        },
    };
    Some(MatchingRule {
        lookups_per_day: lookups_per_day?,
        epoch_days: epoch_days?,
        partner_records: raw.partner_records.as_ref().is_some_and(|b| b.value),
    })
}

fn victim_data(diag: &mut Diag<'_>, raw: &RawVictimData) -> Option<VictimDataRule> {
    let purposes = match &raw.purposes {
        Some(sp) => set_of(diag, sp, "victim data purpose", VictimPurpose::parse),
        None => Some(BTreeSet::new()),
    };
    let allowed = raw.allowed.as_ref()?;
    let purposes = purposes?;
    let all = all_words(VictimPurpose::ALL, |p| p.as_str());
    match (allowed.value, &raw.purposes) {
        (false, Some(list)) if !purposes.is_empty() => {
            list.error(
                diag,
                format!(
                    "victim data is not allowed (`allowed = false`) but purposes are listed: [{}]",
                    join(&purposes)
                ),
                Some("remove the purposes, or set `allowed = true`".into()),
            );
            None
        }
        (true, list) if purposes.is_empty() => {
            let message =
                "victim data is allowed (`allowed = true`) but no purposes are listed".to_owned();
            let hint = Some(format!(
                "list the permitted purposes in `purposes`, from: {all}"
            ));
            match list {
                Some(list) => list.error(diag, message, hint),
                None => allowed.error(diag, message, hint),
            }
            None
        }
        _ => Some(VictimDataRule {
            allowed: allowed.value,
            purposes,
        }),
    }
}

/// What validation could establish about a node file; the agency ids serve the cross-checks.
#[derive(Debug)]
pub(crate) struct CheckedNode {
    pub(crate) agency: Option<AgencyId>,
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) store_engine: Option<StoreEngine>,
    pub(crate) listen: Option<Vec<Multiaddr>>,
    pub(crate) api: Option<ApiConfig>,
    pub(crate) notify: NotifyConfig,
    pub(crate) console: Option<ConsoleConfig>,
    /// Every known agency whose id is valid, with its entry's index.
    pub(crate) known_ids: BTreeMap<AgencyId, usize>,
    /// Every known agency, when all of them are valid.
    pub(crate) agencies: Option<BTreeMap<AgencyId, KnownAgency>>,
}

pub(crate) fn node(raw: &RawNode, diag: &mut Diag<'_>, base: &Path) -> CheckedNode {
    let agency = raw
        .agency
        .as_ref()
        .and_then(|sp| parse(diag, sp, AgencyId::new));
    let key_file = raw.key_file.as_ref().and_then(|sp| path(diag, sp, base));
    let data_dir = raw.data_dir.as_ref().and_then(|sp| path(diag, sp, base));
    let store_engine = match &raw.store_engine {
        None => Some(StoreEngine::default()),
        Some(sp) => match sp.value.parse::<StoreEngine>() {
            Ok(e) => Some(e),
            Err(()) => {
                sp.error(
                    diag,
                    format!("unknown storage engine `{}`", sp.value),
                    Some("expected \"sled\" (the default) or \"fjall\" (docs/operations.md, Storage engines)".into()),
                );
                None
            }
        },
    };
    let listen = raw.listen.as_ref().and_then(|sp| {
        if sp.value.is_empty() {
            sp.error(
                diag,
                "no listen addresses".into(),
                Some("expected at least one, e.g. \"/ip4/127.0.0.1/tcp/7403\"".into()),
            );
        }
        multiaddrs(diag, sp)
    });
    let api = raw.api.as_ref().and_then(|api| {
        let bind = api.bind.as_ref().and_then(|sp| match sp.value.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(e) => {
                sp.error(
                    diag,
                    format!("invalid socket address `{}`: {e}", sp.value),
                    Some("expected an IP address and a port, e.g. \"127.0.0.1:7483\" or \"[::1]:7483\"".into()),
                );
                None
            }
        });
        // the API's token and the console's sessions travel in clear text on this address:
        // beyond loopback, only over TLS, which [console] serves
        if let (Some(addr), Some(sp)) = (bind, api.bind.as_ref())
            && !addr.ip().is_loopback()
        {
            sp.error(
                diag,
                format!("the API would listen beyond loopback in clear text on `{}`", sp.value),
                Some(
                    "bind [api] to 127.0.0.1 (or [::1]); to reach the console from other machines, \
                     add [console] with `bind`, `tls_cert` and `tls_key` (docs/console.md)"
                        .into(),
                ),
            );
        }
        let token_file = api.token_file.as_ref().and_then(|sp| path(diag, sp, base));
        Some(ApiConfig { bind: bind?, token_file: token_file? })
    });
    let console = raw.console.as_ref().and_then(|c| {
        let bind = c
            .bind
            .as_ref()
            .and_then(|sp| match sp.value.parse::<SocketAddr>() {
                Ok(addr) => Some(addr),
                Err(e) => {
                    sp.error(
                        diag,
                        format!("invalid socket address `{}`: {e}", sp.value),
                        Some("expected an IP address and a port, e.g. \"0.0.0.0:7443\"".into()),
                    );
                    None
                }
            });
        let tls_cert = c.tls_cert.as_ref().and_then(|sp| path(diag, sp, base));
        let tls_key = c.tls_key.as_ref().and_then(|sp| path(diag, sp, base));
        Some(ConsoleConfig {
            bind: bind?,
            tls_cert: tls_cert?,
            tls_key: tls_key?,
        })
    });
    let notify = raw
        .notify
        .as_ref()
        .map(|n| notify(diag, n))
        .unwrap_or_default();
    let (known_ids, agencies) = known_agencies(diag, &raw.known_agencies, agency.as_ref());
    CheckedNode {
        agency,
        key_file,
        data_dir,
        store_engine,
        listen,
        api,
        notify,
        console,
        known_ids,
        agencies,
    }
}

/// `[notify]`: a command (a program and its arguments) and/or an http:// URL, and the kinds of
/// notice wanted.
fn notify(diag: &mut Diag<'_>, raw: &crate::raw::RawNotify) -> NotifyConfig {
    let command = raw.command.as_ref().and_then(|sp| {
        if sp.value.is_empty() || sp.value[0].value.trim().is_empty() {
            sp.error(
                diag,
                "an empty command".into(),
                Some("expected the program first, then its arguments, e.g. [\"/usr/local/bin/notify\"]".into()),
            );
            return None;
        }
        Some(sp.value.iter().map(|s| s.value.clone()).collect())
    });
    let url = raw.url.as_ref().and_then(|sp| {
        let v = sp.value.trim();
        let host = v.strip_prefix("http://").map(|rest| rest.split('/').next().unwrap_or(""));
        match host {
            Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Some(v.to_owned()),
            _ => {
                sp.error(
                    diag,
                    format!("`{}` is not an http:// URL", sp.value),
                    Some("expected e.g. \"http://127.0.0.1:9000/accord\": a system of the agency's own, on this host or its network (https is not supported here; put a local relay in front)".into()),
                );
                None
            }
        }
    });
    let mut events = Vec::new();
    if let Some(sp) = &raw.events {
        for e in &sp.value {
            if NotifyConfig::KINDS.contains(&e.value.as_str()) {
                events.push(e.value.clone());
            } else {
                e.error(
                    diag,
                    format!("unknown notice kind `{}`", e.value),
                    Some(format!(
                        "expected one of: {}",
                        NotifyConfig::KINDS.join(", ")
                    )),
                );
            }
        }
    }
    if raw.command.is_none()
        && raw.url.is_none()
        && let Some(sp) = &raw.events
    {
        sp.error(
            diag,
            "[notify] names events but neither `command` nor `url`".into(),
            Some("add a command to run or a URL to POST each notice to".into()),
        );
    }
    NotifyConfig {
        command,
        url,
        events,
    }
}

/// An address the node can dial and listen on: an IP address, then a TCP port (then, at
/// most, a peer id). Host names are not resolved: the node has no DNS transport, so a
/// `/dns4/…` address would never connect.
fn ip_tcp(addr: &Multiaddr) -> Result<(), String> {
    use multiaddr::Protocol;
    let mut parts = addr.iter();
    match (parts.next(), parts.next()) {
        (Some(Protocol::Ip4(_) | Protocol::Ip6(_)), Some(Protocol::Tcp(_))) => {}
        (
            Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_) | Protocol::Dnsaddr(_)),
            _,
        ) => {
            return Err("host names are not resolved; give the partner's IP address".into());
        }
        _ => return Err("not an IP address followed by a TCP port".into()),
    }
    match parts.next() {
        None | Some(Protocol::P2p(_)) if parts.next().is_none() => Ok(()),
        _ => Err("nothing may follow the TCP port but a peer id (/p2p/…)".into()),
    }
}

fn known_agencies(
    diag: &mut Diag<'_>,
    raw: &[RawKnownAgency],
    own: Option<&AgencyId>,
) -> (
    BTreeMap<AgencyId, usize>,
    Option<BTreeMap<AgencyId, KnownAgency>>,
) {
    let mut ids: BTreeMap<AgencyId, usize> = BTreeMap::new();
    let mut keys: BTreeMap<[u8; 32], (usize, String)> = BTreeMap::new();
    let mut agencies = BTreeMap::new();
    let mut complete = true;
    for (i, entry) in raw.iter().enumerate() {
        let id = entry
            .id
            .as_ref()
            .and_then(|sp| parse(diag, sp, AgencyId::new));
        if let (Some(id), Some(sp)) = (&id, &entry.id) {
            if own == Some(id) {
                sp.error(
                    diag,
                    format!("`{id}` is this node's own agency"),
                    Some("list only the other agencies in [[known_agency]]".into()),
                );
                complete = false;
            } else if let Some(first) = ids.get(id) {
                sp.error(
                    diag,
                    format!("agency `{id}` is listed twice"),
                    Some(format!("also at known_agency[{first}]")),
                );
                complete = false;
            } else {
                ids.insert(id.clone(), i);
            }
        }
        let public_key = entry
            .public_key
            .as_ref()
            .and_then(|sp| parse(diag, sp, PublicKey::parse));
        if let (Some(key), Some(sp)) = (&public_key, &entry.public_key) {
            let owner = entry
                .id
                .as_ref()
                .map_or_else(String::new, |id| id.value.clone());
            if let Some((first, first_owner)) = keys.get(key.as_bytes()) {
                sp.error(
                    diag,
                    format!("public key `{key}` is also the key of known_agency[{first}] (`{first_owner}`)"),
                    Some("each agency has its own key".into()),
                );
                complete = false;
            } else {
                keys.insert(key.to_bytes(), (i, owner));
            }
        }
        let addresses = match &entry.addresses {
            Some(sp) => multiaddrs(diag, sp),
            None => Some(Vec::new()),
        };
        match (id, public_key, addresses) {
            (Some(id), Some(public_key), Some(addresses)) => {
                agencies.insert(
                    id.clone(),
                    KnownAgency {
                        id,
                        public_key,
                        addresses,
                    },
                );
            }
            _ => complete = false,
        }
    }
    (ids, complete.then_some(agencies))
}

fn multiaddrs(diag: &mut Diag<'_>, list: &Sp<Vec<Sp<String>>>) -> Option<Vec<Multiaddr>> {
    let mut out = Vec::new();
    let mut complete = true;
    for sp in &list.value {
        let parsed = if sp.value.is_empty() {
            Err("an empty address".to_owned())
        } else {
            sp.value
                .parse::<Multiaddr>()
                .map_err(|e| e.to_string())
                .and_then(|a| ip_tcp(&a).map(|()| a))
        };
        match parsed {
            Ok(addr) => out.push(addr),
            Err(e) => {
                sp.error(
                    diag,
                    format!("invalid multiaddr `{}`: {e}", sp.value),
                    Some("expected an IP address and a TCP port, e.g. \"/ip4/127.0.0.1/tcp/7403\" or \"/ip6/::1/tcp/7403\"".into()),
                );
                complete = false;
            }
        }
    }
    complete.then_some(out)
}

/// A path relative to the node file's directory.
pub(crate) fn path(diag: &mut Diag<'_>, sp: &Sp<String>, base: &Path) -> Option<PathBuf> {
    if sp.value.is_empty() {
        sp.error(
            diag,
            "empty path".into(),
            Some("expected a path, relative to this file's directory".into()),
        );
        return None;
    }
    Some(base.join(&sp.value))
}

/// Parses a value with a protocol parser, reporting its error.
fn parse<T>(
    diag: &mut Diag<'_>,
    sp: &Sp<String>,
    f: impl FnOnce(&str) -> Result<T, IdError>,
) -> Option<T> {
    match f(&sp.value) {
        Ok(v) => Some(v),
        Err(e) => {
            // a word of a closed vocabulary (category, handling code, purpose) gets the
            // nearest valid word as a suggestion
            let hint = match &e {
                IdError::Vocabulary { expected, .. } => {
                    let words: Vec<&str> = expected.split(", ").collect();
                    suggestion(&sp.value, &words)
                }
                _ => None,
            };
            sp.error(diag, e.to_string(), hint);
            None
        }
    }
}

/// `did you mean `word`?` for the valid word nearest to a misspelt one.
fn suggestion(value: &str, words: &[&str]) -> Option<String> {
    nearest(value, words).map(|near| format!("did you mean `{near}`?"))
}

/// A word of a small closed set defined here; a misspelt one gets the nearest word as a
/// suggestion when `suggest` (not for the agreement kind: `trilateral` is nearest
/// `bilateral`, but means `multilateral`).
fn word<T: Copy>(
    diag: &mut Diag<'_>,
    sp: &Sp<String>,
    what: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    suggest: bool,
) -> Option<T> {
    let found = all.iter().copied().find(|v| name(*v) == sp.value);
    if found.is_none() {
        let words: Vec<&str> = all.iter().map(|v| name(*v)).collect();
        sp.error(
            diag,
            format!(
                "unknown {what} `{}`; expected one of: {}",
                sp.value,
                all_words(all, name)
            ),
            suggest.then(|| suggestion(&sp.value, &words)).flatten(),
        );
    }
    found
}

fn non_empty(diag: &mut Diag<'_>, sp: &Sp<String>, what: &str) -> Option<String> {
    if sp.value.trim().is_empty() {
        sp.error(
            diag,
            format!("empty {what}"),
            Some(format!("expected a non-empty {what}")),
        );
        return None;
    }
    Some(sp.value.clone())
}

/// The elements of a list as a set; bad and repeated elements are reported.
fn set_of<T: Ord>(
    diag: &mut Diag<'_>,
    list: &Sp<Vec<Sp<String>>>,
    what: &str,
    f: impl Fn(&str) -> Result<T, IdError>,
) -> Option<BTreeSet<T>> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut complete = true;
    for sp in &list.value {
        if let Some(first) = seen.get(sp.value.as_str()) {
            sp.error(
                diag,
                format!("{what} `{}` is listed twice", sp.value),
                Some(format!("also at {first}")),
            );
            complete = false;
            continue;
        }
        seen.insert(&sp.value, &sp.key);
        match parse(diag, sp, &f) {
            Some(v) => {
                out.insert(v);
            }
            None => complete = false,
        }
    }
    complete.then_some(out)
}

fn all_words<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", ")
}

fn join<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
