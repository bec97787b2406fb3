//! The agreement's `[matching]` clause (model MoU clause 13, docs/matching.md): absent means no
//! matching; present, its keys default to a safe quota and a one-day key; each bad value is
//! named with its line and what would fix it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use accord_config::{Agreement, ConfigError, MatchingRule, parse_agreement};
use common::AGREEMENT;

fn parse(matching: &str) -> Result<Agreement, Vec<ConfigError>> {
    let text = format!("{AGREEMENT}\n{matching}");
    parse_agreement(Path::new("bil.toml"), text.as_bytes()).map_err(|e| e.errors().to_vec())
}

fn one_error(matching: &str) -> ConfigError {
    let errors = parse(matching).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn without_the_table_there_is_no_matching() {
    let a = parse("").unwrap();
    assert_eq!(a.matching, None);
    assert!(
        a.summary().contains("matching:       off"),
        "{}",
        a.summary()
    );
}

#[test]
fn an_empty_table_turns_matching_on_with_the_defaults() {
    let a = parse("[matching]\n").unwrap();
    assert_eq!(
        a.matching,
        Some(MatchingRule {
            lookups_per_day: 100,
            epoch_days: 1,
            partner_records: false,
        })
    );
    assert!(
        a.summary().contains(
            "matching:       100 lookups a day per member, keys of 1 day(s), own records only"
        ),
        "{}",
        a.summary()
    );
}

#[test]
fn every_key_is_read() {
    let a = parse("[matching]\nlookups_per_day = 20\nepoch_days = 7\npartner_records = true\n")
        .unwrap();
    assert_eq!(
        a.matching,
        Some(MatchingRule {
            lookups_per_day: 20,
            epoch_days: 7,
            partner_records: true,
        })
    );
    assert!(a.summary().contains("own and partners' records"));
    // a quota of 0 is allowed: the members publish their sets but answer no lookup
    let a = parse("[matching]\nlookups_per_day = 0\n").unwrap();
    assert_eq!(a.matching.unwrap().lookups_per_day, 0);
}

#[test]
fn bad_values_are_named_with_their_line_and_the_range() {
    // the table begins on line 23
    let e = one_error("[matching]\nlookups_per_day = -1\n");
    assert_eq!((e.line, e.key.as_str()), (24, "matching.lookups_per_day"));
    assert_eq!(e.message, "invalid daily lookup quota `-1`");
    assert_eq!(
        e.hint.as_deref(),
        Some("expected a whole number of selectors a day from 0 to 100000")
    );

    let e = one_error("[matching]\nlookups_per_day = 100001\n");
    assert_eq!(e.message, "invalid daily lookup quota `100001`");

    let e = one_error("[matching]\nepoch_days = 0\n");
    assert_eq!((e.line, e.key.as_str()), (24, "matching.epoch_days"));
    assert_eq!(e.message, "invalid key epoch `0` days");
    assert_eq!(
        e.hint.as_deref(),
        Some("expected a whole number of days from 1 to 366")
    );
    let e = one_error("[matching]\nepoch_days = 367\n");
    assert_eq!(e.message, "invalid key epoch `367` days");

    let e = one_error("[matching]\npartner_records = \"yes\"\n");
    assert_eq!(e.key, "matching.partner_records");
    assert!(e.message.contains("yes"), "{e}");

    let e = one_error("[matching]\nlookups_a_day = 5\n");
    assert_eq!(e.key, "matching.lookups_a_day");
    assert!(e.message.contains("unknown key"), "{e}");

    // a value where the table belongs
    let text = AGREEMENT.replace(
        "onward_sharing = \"never\"\n",
        "onward_sharing = \"never\"\nmatching = true\n",
    );
    let errors = parse_agreement(Path::new("bil.toml"), text.as_bytes()).unwrap_err();
    let e = &errors.errors()[0];
    assert_eq!((e.line, e.key.as_str()), (11, "matching"));
    assert!(
        e.to_string()
            .contains("expected a table [matching] with `lookups_per_day`"),
        "{e}"
    );
}
