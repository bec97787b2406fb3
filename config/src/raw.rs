//! The raw layer: each file's keys as written, with their spans. Reading it reports unknown
//! keys (with the nearest valid one), missing keys and values of the wrong TOML type; the
//! values themselves are checked by [`crate::validate`].

use std::ops::Range;

use toml::Spanned;
use toml::de::DeTable;

use crate::source::Diag;
use crate::walk::{Sp, Table};

/// What an agency id looks like, for messages.
pub(crate) const EXPECT_AGENCY: &str = "an agency id string such as \"TR-JGK\"";
const EXPECT_PATH: &str = "a path string, relative to this file's directory";
const EXPECT_MULTIADDR: &str = "multiaddr strings such as \"/ip4/127.0.0.1/tcp/7403\"";

/// The keys of an agreement file.
pub(crate) const AGREEMENT_KEYS: &[&str] = &[
    "id",
    "title",
    "kind",
    "members",
    "focal_points",
    "valid_from",
    "valid_until",
    "categories",
    "most_permissive_handling",
    "victim_data",
    "retention_days",
    "onward_sharing",
    "matching",
    "release",
];
const FOCAL_POINT_KEYS: &[&str] = &["name", "contact"];
const VICTIM_DATA_KEYS: &[&str] = &["allowed", "purposes"];
const MATCHING_KEYS: &[&str] = &["lookups_per_day", "epoch_days", "partner_records"];
const RELEASE_KEYS: &[&str] = &["approvals", "handling", "victim_data", "categories"];

/// What `store_engine` takes.
const EXPECT_ENGINE: &str =
    "the storage engine of a new store: \"sled\" (the default) or \"fjall\"";

/// The keys of a node file.
pub(crate) const NODE_KEYS: &[&str] = &[
    "agency",
    "key_file",
    "data_dir",
    "store_engine",
    "listen",
    "agreements",
    "api",
    "notify",
    "console",
    "known_agency",
];
const API_KEYS: &[&str] = &["bind", "token_file"];
const NOTIFY_KEYS: &[&str] = &["command", "url", "events"];
const CONSOLE_KEYS: &[&str] = &["bind", "tls_cert", "tls_key"];
const KNOWN_AGENCY_KEYS: &[&str] = &["id", "public_key", "addresses"];

/// An agreement file as written. `None` where a key is missing or of the wrong type (already
/// reported).
#[derive(Debug)]
pub(crate) struct RawAgreement {
    pub(crate) id: Option<Sp<String>>,
    pub(crate) title: Option<Sp<String>>,
    pub(crate) kind: Option<Sp<String>>,
    pub(crate) members: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) focal_points: Option<RawFocalPoints>,
    pub(crate) valid_from: Option<Sp<String>>,
    pub(crate) valid_until: Option<Sp<String>>,
    pub(crate) categories: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) most_permissive_handling: Option<Sp<String>>,
    pub(crate) victim_data: Option<RawVictimData>,
    pub(crate) retention_days: Option<Sp<i64>>,
    pub(crate) onward_sharing: Option<Sp<String>>,
    pub(crate) matching: Option<RawMatching>,
    pub(crate) release: Option<RawRelease>,
}

/// `[release]`.
#[derive(Debug)]
pub(crate) struct RawRelease {
    pub(crate) approvals: Option<Sp<i64>>,
    pub(crate) handling: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) victim_data: Option<Sp<bool>>,
    pub(crate) categories: Option<Sp<Vec<Sp<String>>>>,
}

/// `[matching]`.
#[derive(Debug)]
pub(crate) struct RawMatching {
    pub(crate) lookups_per_day: Option<Sp<i64>>,
    pub(crate) epoch_days: Option<Sp<i64>>,
    pub(crate) partner_records: Option<Sp<bool>>,
}

/// The `[focal_points]` table: one sub-table per member.
#[derive(Debug)]
pub(crate) struct RawFocalPoints {
    pub(crate) span: Range<usize>,
    pub(crate) key: String,
    pub(crate) entries: Vec<RawFocalPoint>,
}

/// `[focal_points.CC-UNIT]`.
#[derive(Debug)]
pub(crate) struct RawFocalPoint {
    pub(crate) agency: Sp<String>,
    pub(crate) name: Option<Sp<String>>,
    pub(crate) contact: Option<Sp<String>>,
}

/// `[victim_data]`.
#[derive(Debug)]
pub(crate) struct RawVictimData {
    pub(crate) allowed: Option<Sp<bool>>,
    pub(crate) purposes: Option<Sp<Vec<Sp<String>>>>,
}

impl RawAgreement {
    pub(crate) fn read(doc: &Spanned<DeTable<'_>>, diag: &mut Diag<'_>) -> Self {
        let root = Table::root(doc);
        root.refuse_unknown(diag, AGREEMENT_KEYS);
        Self {
            id: root.string(diag, "id", "an agreement id string such as \"QUAD-2026\""),
            title: root.string(diag, "title", "the agreement's title, a string"),
            kind: root.string(diag, "kind", "\"bilateral\" or \"multilateral\""),
            members: root.strings(
                diag,
                "members",
                "agency id strings such as \"TR-JGK\"",
                true,
            ),
            focal_points: root
                .table(
                    diag,
                    "focal_points",
                    "a table of focal points, [focal_points.CC-UNIT] per member",
                )
                .map(|t| read_focal_points(&t, diag)),
            valid_from: root.date(diag, "valid_from", "a date such as 2026-01-01"),
            valid_until: root.date(diag, "valid_until", "a date such as 2026-12-31"),
            categories: root.strings(
                diag,
                "categories",
                "category strings such as \"route\"",
                true,
            ),
            most_permissive_handling: root.string(
                diag,
                "most_permissive_handling",
                "a handling code string, \"H0\" to \"H3\"",
            ),
            victim_data: root
                .table(
                    diag,
                    "victim_data",
                    "a table [victim_data] with `allowed` and `purposes`",
                )
                .map(|t| read_victim_data(&t, diag)),
            retention_days: root.integer(
                diag,
                "retention_days",
                "a whole number of days, at least 1",
            ),
            onward_sharing: root.string(
                diag,
                "onward_sharing",
                "\"never\", \"with-originator-consent\" or \"permitted\"",
            ),
            matching: root
                .table_optional(
                    diag,
                    "matching",
                    "a table [matching] with `lookups_per_day`, `epoch_days` and `partner_records`",
                )
                .map(|t| read_matching(&t, diag)),
            release: root
                .table_optional(
                    diag,
                    "release",
                    "a table [release] with `approvals`, `handling`, `victim_data` and `categories`",
                )
                .map(|t| read_release(&t, diag)),
        }
    }
}

fn read_release(table: &Table<'_, '_>, diag: &mut Diag<'_>) -> RawRelease {
    table.refuse_unknown(diag, RELEASE_KEYS);
    RawRelease {
        approvals: table.integer(
            diag,
            "approvals",
            "a whole number of releasers' approvals, 1 to 4",
        ),
        handling: table.strings(
            diag,
            "handling",
            "handling code strings such as \"H2\"",
            false,
        ),
        victim_data: table.boolean_optional(diag, "victim_data", "true or false"),
        categories: table.strings(
            diag,
            "categories",
            "category strings such as \"alert\"",
            false,
        ),
    }
}

fn read_matching(table: &Table<'_, '_>, diag: &mut Diag<'_>) -> RawMatching {
    table.refuse_unknown(diag, MATCHING_KEYS);
    RawMatching {
        lookups_per_day: table.integer_optional(
            diag,
            "lookups_per_day",
            "a whole number of selectors a day, 0 to 100000",
        ),
        epoch_days: table.integer_optional(diag, "epoch_days", "a whole number of days, 1 to 366"),
        partner_records: table.boolean_optional(diag, "partner_records", "true or false"),
    }
}

fn read_focal_points(table: &Table<'_, '_>, diag: &mut Diag<'_>) -> RawFocalPoints {
    let mut entries = Vec::new();
    for (agency, value) in table.entries() {
        let expects = "a table with the focal point's `name` and `contact`";
        let Some(point) = Table::of_value(diag, value, agency.key.clone(), expects) else {
            continue;
        };
        point.refuse_unknown(diag, FOCAL_POINT_KEYS);
        entries.push(RawFocalPoint {
            name: point.string(
                diag,
                "name",
                "the focal point's name or role title, a string",
            ),
            contact: point.string(diag, "contact", "how to reach the focal point, a string"),
            agency,
        });
    }
    RawFocalPoints {
        span: table.span(),
        key: table.key().to_owned(),
        entries,
    }
}

fn read_victim_data(table: &Table<'_, '_>, diag: &mut Diag<'_>) -> RawVictimData {
    table.refuse_unknown(diag, VICTIM_DATA_KEYS);
    RawVictimData {
        allowed: table.boolean(diag, "allowed", "true or false"),
        purposes: table.strings(
            diag,
            "purposes",
            "victim data purpose strings such as \"identification\"",
            false,
        ),
    }
}

/// A node file as written.
#[derive(Debug)]
pub(crate) struct RawNode {
    pub(crate) agency: Option<Sp<String>>,
    pub(crate) key_file: Option<Sp<String>>,
    pub(crate) data_dir: Option<Sp<String>>,
    pub(crate) store_engine: Option<Sp<String>>,
    pub(crate) listen: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) agreements: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) api: Option<RawApi>,
    pub(crate) notify: Option<RawNotify>,
    pub(crate) console: Option<RawConsole>,
    pub(crate) known_agencies: Vec<RawKnownAgency>,
}

/// `[console]`.
#[derive(Debug)]
pub(crate) struct RawConsole {
    pub(crate) bind: Option<Sp<String>>,
    pub(crate) tls_cert: Option<Sp<String>>,
    pub(crate) tls_key: Option<Sp<String>>,
}

/// `[notify]`.
#[derive(Debug)]
pub(crate) struct RawNotify {
    pub(crate) command: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) url: Option<Sp<String>>,
    pub(crate) events: Option<Sp<Vec<Sp<String>>>>,
}

/// `[api]`.
#[derive(Debug)]
pub(crate) struct RawApi {
    pub(crate) bind: Option<Sp<String>>,
    pub(crate) token_file: Option<Sp<String>>,
}

/// One `[[known_agency]]`.
#[derive(Debug)]
pub(crate) struct RawKnownAgency {
    pub(crate) id: Option<Sp<String>>,
    pub(crate) public_key: Option<Sp<String>>,
    pub(crate) addresses: Option<Sp<Vec<Sp<String>>>>,
}

impl RawNode {
    pub(crate) fn read(doc: &Spanned<DeTable<'_>>, diag: &mut Diag<'_>) -> Self {
        let root = Table::root(doc);
        root.refuse_unknown(diag, NODE_KEYS);
        let api = root
            .table(diag, "api", "a table [api] with `bind` and `token_file`")
            .map(|t| {
                t.refuse_unknown(diag, API_KEYS);
                RawApi {
                    bind: t.string(
                        diag,
                        "bind",
                        "a socket address string such as \"127.0.0.1:7483\"",
                    ),
                    token_file: t.string(diag, "token_file", EXPECT_PATH),
                }
            });
        let notify = root
            .table_optional(
                diag,
                "notify",
                "a table [notify] with `command` and/or `url`, and optionally `events`",
            )
            .map(|t| {
                t.refuse_unknown(diag, NOTIFY_KEYS);
                RawNotify {
                    command: t.strings(
                        diag,
                        "command",
                        "strings: the program and its arguments, e.g. [\"/usr/local/bin/notify-focal-point\", \"--queue\", \"accord\"]",
                        false,
                    ),
                    url: t.string_optional(diag, "url", "an http:// URL of the agency's own system"),
                    events: t.strings(
                        diag,
                        "events",
                        "notice kinds: \"request\", \"answer\", \"return\", \"alarm\"",
                        false,
                    ),
                }
            });
        let console = root
            .table_optional(
                diag,
                "console",
                "a table [console] with `bind`, `tls_cert` and `tls_key`",
            )
            .map(|t| {
                t.refuse_unknown(diag, CONSOLE_KEYS);
                RawConsole {
                    bind: t.string(
                        diag,
                        "bind",
                        "a socket address string such as \"0.0.0.0:7443\"",
                    ),
                    tls_cert: t.string(diag, "tls_cert", EXPECT_PATH),
                    tls_key: t.string(diag, "tls_key", EXPECT_PATH),
                }
            });
        let known_agencies = root
            .tables(
                diag,
                "known_agency",
                "a known agency: `id`, `public_key` and `addresses`",
            )
            .into_iter()
            .map(|t| {
                t.refuse_unknown(diag, KNOWN_AGENCY_KEYS);
                RawKnownAgency {
                    id: t.string(diag, "id", EXPECT_AGENCY),
                    public_key: t.string(
                        diag,
                        "public_key",
                        "a public key string \"ed25519:\" followed by 64 hex digits",
                    ),
                    addresses: t.strings(diag, "addresses", EXPECT_MULTIADDR, false),
                }
            })
            .collect();
        Self {
            agency: root.string(diag, "agency", EXPECT_AGENCY),
            key_file: root.string(diag, "key_file", EXPECT_PATH),
            data_dir: root.string(diag, "data_dir", EXPECT_PATH),
            store_engine: root.string_optional(diag, "store_engine", EXPECT_ENGINE),
            listen: root.strings(diag, "listen", EXPECT_MULTIADDR, true),
            agreements: root.strings(
                diag,
                "agreements",
                "agreement file paths, relative to this file's directory",
                true,
            ),
            api,
            notify,
            console,
            known_agencies,
        }
    }
}
