//! Each rule with an allowing and a denying case, asserting the reason.
//!
//! Why one long file: every test builds on the same agreements and records at the top, and
//! the rules are read side by side (publish, send, accept, victims, re-share), in the order of
//! the section markers below.

use std::collections::BTreeMap;
use std::path::Path;

use accord_config::{Agreement, OnwardSharing, parse_agreement};
use accord_protocol::wire::RejectCode;
use accord_protocol::{
    AgencyId, AgreementId, Category, Date, HandlingCode, PersonRole, PublicKey, Record, SecretKey,
    SignedRecord, Subject, Timestamp, Verified, VictimPurpose, sign, verify,
};
use serde_json::json;

use super::*;

const QUAD: &str = r#"
id = "QUAD-TEST"
title = "A test agreement"
kind = "multilateral"
members = ["PK-FIA", "TR-JGK", "GR-HCG"]
valid_from = 2026-01-01
valid_until = 2026-12-31
categories = ["smuggling-network", "route", "alert", "victim-identification"]
most_permissive_handling = "H1"
retention_days = 30
onward_sharing = "permitted"

[victim_data]
allowed = true
purposes = ["identification", "return"]

[focal_points.PK-FIA]
name = "focal point"
contact = "fp@fia.example"

[focal_points.TR-JGK]
name = "focal point"
contact = "fp@jgk.example"

[focal_points.GR-HCG]
name = "focal point"
contact = "fp@hcg.example"
"#;

const BILATERAL: &str = r#"
id = "TR-BG-TEST"
title = "A second agreement, to re-share under"
kind = "bilateral"
members = ["TR-JGK", "BG-GDBP"]
valid_from = 2026-01-01
valid_until = 2026-12-31
categories = ["alert", "route", "victim-identification"]
most_permissive_handling = "H0"
retention_days = 365
onward_sharing = "never"

[victim_data]
allowed = true
purposes = ["identification"]

[focal_points.TR-JGK]
name = "focal point"
contact = "fp@jgk.example"

[focal_points.BG-GDBP]
name = "focal point"
contact = "fp@bg.example"
"#;

/// The agreement as a node holds it once every member has signed: policy trusts that the
/// node verified the signatures (`crate::agreements`), so any 64 bytes stand in for them here.
fn parse(name: &str, text: &str) -> Agreement {
    let mut a = unsigned(name, text);
    a.signatures = a.members.iter().map(|m| (m.clone(), [1u8; 64])).collect();
    a
}

fn unsigned(name: &str, text: &str) -> Agreement {
    match parse_agreement(Path::new(name), text.as_bytes()) {
        Ok(a) => a,
        Err(e) => panic!("test agreement {name} does not parse: {e}"),
    }
}

/// QUAD-TEST: PK-FIA, TR-JGK, GR-HCG; 2026; alert, route, smuggling-network,
/// victim-identification; H1 or more restrictive; victim data for identification and return;
/// 30 days' retention; onward sharing permitted.
fn quad() -> Agreement {
    parse("quad-test.toml", QUAD)
}

/// QUAD-TEST with `edit` applied.
fn quad_with(edit: impl FnOnce(&mut Agreement)) -> Agreement {
    let mut a = quad();
    edit(&mut a);
    a
}

/// TR-BG-TEST: TR-JGK and BG-GDBP; 2026; alert, route, victim-identification; H0 or more
/// restrictive; victim data for identification; 365 days' retention.
fn bilateral() -> Agreement {
    parse("tr-bg-test.toml", BILATERAL)
}

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn tr() -> AgencyId {
    agency("TR-JGK")
}
fn pk() -> AgencyId {
    agency("PK-FIA")
}
fn gr() -> AgencyId {
    agency("GR-HCG")
}
/// A member of TR-BG-TEST only.
fn bg() -> AgencyId {
    agency("BG-GDBP")
}

/// The time most tests decide at.
fn now() -> Timestamp {
    at("2026-06-02T00:00:00Z")
}

/// An H1 alert by TR-JGK under QUAD-TEST, created the day before [`now`].
fn record() -> Record {
    let r = json!({
        "v": 1,
        "originator": "TR-JGK",
        "agreement": "QUAD-TEST",
        "seq": "1",
        "category": "alert",
        "handling": "H1",
        "grading": "B2",
        "created": "2026-06-01T00:00:00Z",
        "summary": "Boat departure expected within 48 hours.",
    });
    serde_json::from_value(r).unwrap()
}

fn record_with(edit: impl FnOnce(&mut Record)) -> Record {
    let mut r = record();
    edit(&mut r);
    r
}

fn person(value: serde_json::Value) -> Subject {
    let mut value = value;
    value["type"] = json!("person");
    serde_json::from_value(value).unwrap()
}

fn seed(agency: &AgencyId) -> [u8; 32] {
    match agency.as_str() {
        "TR-JGK" => [1; 32],
        "PK-FIA" => [2; 32],
        "GR-HCG" => [3; 32],
        _ => [4; 32],
    }
}

/// Signs `record` with its originator's seeded key and verifies it against a directory of
/// every test agency.
fn verified(record: &Record) -> Verified<SignedRecord> {
    let directory: BTreeMap<AgencyId, PublicKey> = [tr(), pk(), gr(), bg()]
        .into_iter()
        .map(|a| {
            let key = SecretKey::from_seed(&seed(&a)).public_key();
            (a, key)
        })
        .collect();
    let envelope = sign(record, &SecretKey::from_seed(&seed(&record.originator))).unwrap();
    verify(envelope, &directory).unwrap()
}

/// The same record and agreement through publish (by TR-JGK), send (to PK-FIA) and accept
/// (by GR-HCG from PK-FIA, a relay): the rule they share decides alike.
fn three_ways(record: &Record, agreement: &Agreement, now: Timestamp) -> [Decision; 3] {
    [
        may_publish(&tr(), agreement, record, now),
        may_send(record, 0, agreement, &pk(), now),
        may_accept(&verified(record), &pk(), &gr(), Some(agreement), now),
    ]
}

fn assert_all(decisions: [Decision; 3], expected: &Decision) {
    for (entry, got) in ["publish", "send", "accept"].into_iter().zip(decisions) {
        assert_eq!(&got, expected, "{entry}");
    }
}

fn deny(reason: DenyReason) -> Decision {
    Decision::Deny(reason)
}

fn quad_id() -> AgreementId {
    quad().id
}

// publish ------------------------------------------------------------------------------------

#[test]
fn publish_by_the_originator_is_allowed() {
    assert_eq!(
        may_publish(&tr(), &quad(), &record(), now()),
        Decision::Allow
    );
}

#[test]
fn publish_of_a_record_naming_another_originator_is_denied() {
    let r = record_with(|r| r.originator = pk());
    assert_eq!(
        may_publish(&tr(), &quad(), &r, now()),
        deny(DenyReason::OriginatorNotLocal {
            originator: pk(),
            local: tr(),
        })
    );
}

#[test]
fn publish_by_a_non_member_is_denied() {
    let r = record_with(|r| r.originator = bg());
    assert_eq!(
        may_publish(&bg(), &quad(), &r, now()),
        deny(DenyReason::NotMember {
            party: Party::Local,
            agency: bg(),
            agreement: quad_id(),
        })
    );
}

#[test]
fn a_record_checked_against_another_agreement_is_denied() {
    let other = bilateral();
    let expected = deny(DenyReason::WrongAgreement {
        record: quad_id(),
        checked: other.id.clone(),
    });
    assert_eq!(may_publish(&tr(), &other, &record(), now()), expected);
    assert_eq!(may_send(&record(), 0, &other, &bg(), now()), expected);
    assert_eq!(
        may_accept(&verified(&record()), &tr(), &bg(), Some(&other), now()),
        expected
    );
}

// signatures: an agreement takes effect only when every member has signed it --------------

#[test]
fn an_agreement_missing_a_members_signature_is_not_shared_under() {
    let mut a = unsigned("quad-test.toml", QUAD);
    a.signatures.insert(tr(), [1; 64]);
    a.signatures.insert(pk(), [1; 64]);
    let expected = deny(DenyReason::NotSigned {
        agreement: quad_id(),
        missing: vec![gr()],
    });
    assert_eq!(may_publish(&tr(), &a, &record(), now()), expected);
    assert_eq!(may_send(&record(), 0, &a, &pk(), now()), expected);
    assert_eq!(
        may_accept(&verified(&record()), &tr(), &pk(), Some(&a), now()),
        expected
    );
    assert_eq!(
        expected.reason().unwrap().reject_code(),
        RejectCode::AgreementNotSigned
    );
    assert!(
        expected
            .reason()
            .unwrap()
            .to_string()
            .contains("the signature of GR-HCG is not held yet")
    );
    a.signatures.insert(gr(), [1; 64]);
    assert_eq!(may_publish(&tr(), &a, &record(), now()), Decision::Allow);
}

// send: the peer must be a member (invariant 1) ---------------------------------------------------

#[test]
fn send_to_a_member_is_allowed() {
    for peer in [pk(), gr()] {
        assert_eq!(
            may_send(&record(), 0, &quad(), &peer, now()),
            Decision::Allow
        );
    }
}

#[test]
fn send_to_a_non_member_is_denied() {
    assert_eq!(
        may_send(&record(), 0, &quad(), &bg(), now()),
        deny(DenyReason::NotMember {
            party: Party::Peer,
            agency: bg(),
            agreement: quad_id(),
        })
    );
}

// accept: the receiver re-checks (invariant 3) ----------------------------------------------------

#[test]
fn accept_from_the_originator_and_from_a_member_relay_is_allowed() {
    let v = verified(&record());
    assert_eq!(
        may_accept(&v, &tr(), &pk(), Some(&quad()), now()),
        Decision::Allow
    );
    assert_eq!(
        may_accept(&v, &gr(), &pk(), Some(&quad()), now()),
        Decision::Allow
    );
}

#[test]
fn accept_under_an_unknown_agreement_is_denied() {
    assert_eq!(
        may_accept(&verified(&record()), &tr(), &pk(), None, now()),
        deny(DenyReason::UnknownAgreement {
            agreement: quad_id()
        })
    );
}

#[test]
fn accept_from_a_sender_not_a_member_is_denied() {
    assert_eq!(
        may_accept(&verified(&record()), &bg(), &pk(), Some(&quad()), now()),
        deny(DenyReason::NotMember {
            party: Party::Sender,
            agency: bg(),
            agreement: quad_id(),
        })
    );
}

#[test]
fn accept_of_an_originator_not_a_member_is_denied() {
    let r = record_with(|r| r.originator = bg());
    assert_eq!(
        may_accept(&verified(&r), &tr(), &pk(), Some(&quad()), now()),
        deny(DenyReason::NotMember {
            party: Party::Originator,
            agency: bg(),
            agreement: quad_id(),
        })
    );
}

#[test]
fn accept_by_a_local_agency_not_a_member_is_denied() {
    assert_eq!(
        may_accept(&verified(&record()), &tr(), &bg(), Some(&quad()), now()),
        deny(DenyReason::NotMember {
            party: Party::Local,
            agency: bg(),
            agreement: quad_id(),
        })
    );
}

// validity window ----------------------------------------------------------------------------

#[test]
fn in_force_on_the_first_and_the_last_day() {
    let first = record_with(|r| r.created = at("2026-01-01T00:00:00Z"));
    assert_all(
        three_ways(&first, &quad(), at("2026-01-01T00:00:00Z")),
        &Decision::Allow,
    );
    let last = record_with(|r| r.created = at("2026-12-31T00:00:00Z"));
    assert_all(
        three_ways(&last, &quad(), at("2026-12-31T23:59:59Z")),
        &Decision::Allow,
    );
}

#[test]
fn not_yet_in_force_is_denied() {
    let r = record_with(|r| r.created = at("2025-12-31T12:00:00Z"));
    let now = at("2025-12-31T23:59:59Z");
    assert_all(
        three_ways(&r, &quad(), now),
        &deny(DenyReason::NotYetInForce {
            agreement: quad_id(),
            valid_from: date("2026-01-01"),
            now,
        }),
    );
}

#[test]
fn no_longer_in_force_is_denied() {
    let r = record_with(|r| r.created = at("2026-12-31T00:00:00Z"));
    let now = at("2027-01-01T00:00:00Z");
    assert_all(
        three_ways(&r, &quad(), now),
        &deny(DenyReason::NoLongerInForce {
            agreement: quad_id(),
            valid_until: date("2026-12-31"),
            now,
        }),
    );
}

#[test]
fn a_record_created_before_the_agreement_began_is_denied() {
    // made the day before the first day, shared (or published) once the agreement is in force
    let r = record_with(|r| r.created = at("2025-12-31T23:59:59Z"));
    assert_all(
        three_ways(&r, &quad(), now()),
        &deny(DenyReason::CreatedOutsideAgreement {
            agreement: quad_id(),
            created: r.created,
            valid_from: date("2026-01-01"),
            valid_until: date("2026-12-31"),
        }),
    );
}

#[test]
fn a_record_created_after_the_agreement_ended_is_denied() {
    // a record dated past the last day, while the agreement is still in force: the time it
    // claims is one no member could have shared it under
    let r = record_with(|r| r.created = at("2027-01-01T00:00:00Z"));
    let now = at("2026-12-31T23:58:00Z");
    let [_, send, accept] = three_ways(&r, &quad(), now);
    let expected = deny(DenyReason::CreatedOutsideAgreement {
        agreement: quad_id(),
        created: r.created,
        valid_from: date("2026-01-01"),
        valid_until: date("2026-12-31"),
    });
    assert_eq!(send, expected);
    assert_eq!(accept, expected);
}

#[test]
fn publishing_a_record_dated_ahead_of_the_clock_is_denied_within_the_skew_allowed() {
    let now = now();
    let within = record_with(|r| r.created = now.plus_secs(super::rules::CLOCK_SKEW_SECS));
    assert_eq!(may_publish(&tr(), &quad(), &within, now), Decision::Allow);
    let ahead = record_with(|r| r.created = now.plus_secs(super::rules::CLOCK_SKEW_SECS + 1));
    assert_eq!(
        may_publish(&tr(), &quad(), &ahead, now),
        deny(DenyReason::CreatedInFuture {
            created: ahead.created,
            now,
        })
    );
}

// category -----------------------------------------------------------------------------------

#[test]
fn a_permitted_category_is_allowed() {
    let r = record_with(|r| r.category = Category::Route);
    assert_all(three_ways(&r, &quad(), now()), &Decision::Allow);
}

#[test]
fn a_category_not_permitted_is_denied() {
    let r = record_with(|r| r.category = Category::Financial);
    assert_all(
        three_ways(&r, &quad(), now()),
        &deny(DenyReason::CategoryNotPermitted {
            category: Category::Financial,
            agreement: quad_id(),
        }),
    );
}

// handling -----------------------------------------------------------------------------------

#[test]
fn handling_as_or_more_restrictive_than_allowed_is_allowed() {
    for code in [HandlingCode::H1, HandlingCode::H2] {
        let r = record_with(|r| r.handling = code);
        assert_all(three_ways(&r, &quad(), now()), &Decision::Allow);
    }
    let h3 = record_with(|r| {
        r.handling = HandlingCode::H3;
        r.handling_restriction = Some("not before 2027".into());
    });
    assert_all(three_ways(&h3, &quad(), now()), &Decision::Allow);
}

#[test]
fn handling_more_permissive_than_allowed_is_denied() {
    let r = record_with(|r| r.handling = HandlingCode::H0);
    assert_all(
        three_ways(&r, &quad(), now()),
        &deny(DenyReason::HandlingTooPermissive {
            handling: HandlingCode::H0,
            most_permissive: HandlingCode::H1,
            agreement: quad_id(),
        }),
    );
}

// victim data (invariant 6) -----------------------------------------------------------------------

/// A victim-identification record whose victim is named, shared for `purpose`.
fn named_victim(purpose: VictimPurpose) -> Record {
    record_with(|r| {
        r.category = Category::VictimIdentification;
        r.subjects = vec![person(json!({"role": "victim", "name": "A. Victim"}))];
        r.victim_data_purpose = Some(purpose);
    })
}

#[test]
fn victim_identifying_data_for_a_permitted_purpose_is_allowed() {
    for purpose in [VictimPurpose::Identification, VictimPurpose::Return] {
        assert_all(
            three_ways(&named_victim(purpose), &quad(), now()),
            &Decision::Allow,
        );
    }
}

#[test]
fn a_victim_without_identifying_fields_needs_no_permission() {
    let forbids = quad_with(|a| {
        a.victim_data.allowed = false;
        a.victim_data.purposes.clear();
    });
    let r = record_with(|r| {
        r.subjects = vec![person(
            json!({"role": "victim", "ref": "V1", "description": "adult, about 30"}),
        )];
    });
    assert_all(three_ways(&r, &forbids, now()), &Decision::Allow);
}

#[test]
fn victim_identifying_data_under_an_agreement_forbidding_it_is_denied() {
    let forbids = quad_with(|a| {
        a.victim_data.allowed = false;
        a.victim_data.purposes.clear();
    });
    assert_all(
        three_ways(
            &named_victim(VictimPurpose::Identification),
            &forbids,
            now(),
        ),
        &deny(DenyReason::VictimDataNotAllowed {
            agreement: quad_id(),
        }),
    );
}

#[test]
fn victim_identifying_data_for_a_purpose_not_permitted_is_denied() {
    let a = quad();
    assert_all(
        three_ways(&named_victim(VictimPurpose::Investigation), &a, now()),
        &deny(DenyReason::VictimPurposeNotPermitted {
            purpose: VictimPurpose::Investigation,
            permitted: a.victim_data.purposes.clone(),
            agreement: quad_id(),
        }),
    );
}

#[test]
fn victim_identifying_data_without_a_purpose_is_denied() {
    // Record::validate refuses this too; policy does not rely on it having run.
    let mut r = named_victim(VictimPurpose::Identification);
    r.victim_data_purpose = None;
    assert_eq!(
        may_publish(&tr(), &quad(), &r, now()),
        deny(DenyReason::VictimPurposeMissing {
            agreement: quad_id()
        })
    );
}

/// A record of `people`, each a person's JSON without its type; victims named, so the
/// record states the identification purpose.
fn people(people: Vec<serde_json::Value>) -> Record {
    record_with(|r| {
        r.category = Category::VictimIdentification;
        r.subjects = people.into_iter().map(person).collect();
        r.victim_data_purpose = r
            .has_victim_identifying_data()
            .then_some(VictimPurpose::Identification);
    })
}

#[test]
fn victim_and_suspect_with_the_same_ref_is_denied() {
    let r = people(vec![
        json!({"role": "suspect", "ref": "P1", "name": "Someone Else"}),
        json!({"role": "victim", "ref": "P1"}),
    ]);
    assert_all(
        three_ways(&r, &quad(), now()),
        &deny(DenyReason::VictimAlsoOffender {
            victim: 1,
            other: 0,
            role: PersonRole::Suspect,
            matched_by: SamePerson::Ref,
        }),
    );
}

#[test]
fn victim_and_facilitator_with_the_same_name_and_birth_date_is_denied() {
    let r = people(vec![
        json!({"role": "victim", "name": "Ali  Khan", "date_of_birth": "1990-07"}),
        json!({"role": "witness", "ref": "W1"}),
        json!({"role": "facilitator", "name": "ali\tKHAN", "date_of_birth": "1990-07"}),
    ]);
    assert_all(
        three_ways(&r, &quad(), now()),
        &deny(DenyReason::VictimAlsoOffender {
            victim: 0,
            other: 2,
            role: PersonRole::Facilitator,
            matched_by: SamePerson::NameAndDateOfBirth,
        }),
    );
}

#[test]
fn victim_and_suspect_who_are_different_persons_are_allowed() {
    let cases = [
        // different refs
        vec![
            json!({"role": "victim", "ref": "P1"}),
            json!({"role": "suspect", "ref": "P2"}),
        ],
        // same name, different dates of birth
        vec![
            json!({"role": "victim", "name": "Ali Khan", "date_of_birth": "1990"}),
            json!({"role": "suspect", "name": "Ali Khan", "date_of_birth": "1991"}),
        ],
        // same name, a date of birth on one side only
        vec![
            json!({"role": "victim", "name": "Ali Khan", "date_of_birth": "1990"}),
            json!({"role": "suspect", "name": "Ali Khan"}),
        ],
        // the same person as victim and witness is no offender
        vec![
            json!({"role": "victim", "ref": "P1"}),
            json!({"role": "witness", "ref": "P1"}),
        ],
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let r = people(case);
        for (entry, got) in
            ["publish", "send", "accept"]
                .into_iter()
                .zip(three_ways(&r, &quad(), now()))
        {
            assert_eq!(got, Decision::Allow, "case {i}, {entry}");
        }
    }
}

#[test]
fn names_are_compared_case_insensitively_with_whitespace_collapsed() {
    assert_eq!(normalise_name("  ÇELIK\t Şahin \n"), "çelik şahin");
    assert_eq!(normalise_name("Ali  Khan"), "ali khan");
    assert_ne!(normalise_name("Ali Khan"), normalise_name("AliKhan"));
}

// expiry -------------------------------------------------------------------------------------

#[test]
fn a_record_before_its_expiry_is_allowed() {
    let r = record_with(|r| r.expires = Some(now().plus_secs(1)));
    assert_all(three_ways(&r, &quad(), now()), &Decision::Allow);
}

#[test]
fn an_expired_record_is_denied() {
    let r = record_with(|r| r.expires = Some(now()));
    assert_all(
        three_ways(&r, &quad(), now()),
        &deny(DenyReason::Expired {
            expires: now(),
            now: now(),
        }),
    );
}

// retention ----------------------------------------------------------------------------------

#[test]
fn a_record_within_retention_is_allowed() {
    let r = record_with(|r| r.created = at("2026-05-01T00:00:00Z"));
    // created + 30 days, to the second
    let last = at("2026-05-31T00:00:00Z");
    assert_all(three_ways(&r, &quad(), last), &Decision::Allow);
}

#[test]
fn a_record_past_retention_is_denied_on_publish_send_and_accept() {
    let r = record_with(|r| r.created = at("2026-05-01T00:00:00Z"));
    let now = at("2026-05-31T00:00:01Z");
    let expected = deny(DenyReason::PastRetention {
        created: r.created,
        retention_days: 30,
        until: at("2026-05-31T00:00:00Z"),
        agreement: quad_id(),
        now,
    });
    assert_all(three_ways(&r, &quad(), now), &expected);
}

// re-share (invariant 5) --------------------------------------------------------------------------

/// An H1 alert of PK-FIA received by TR-JGK under QUAD-TEST.
fn received() -> Record {
    record_with(|r| r.originator = pk())
}

#[test]
fn reshare_under_an_agreement_permitting_onward_sharing_is_allowed() {
    assert_eq!(
        may_reshare(&received(), 0, &quad(), &bilateral(), &bg(), now()),
        Decision::Allow
    );
}

#[test]
fn reshare_under_the_same_agreement_is_a_send() {
    assert_eq!(
        may_reshare(&received(), 0, &quad(), &quad(), &gr(), now()),
        Decision::Allow
    );
    assert_eq!(
        may_reshare(&received(), 0, &quad(), &quad(), &bg(), now()),
        deny(DenyReason::NotMember {
            party: Party::Peer,
            agency: bg(),
            agreement: quad_id(),
        })
    );
}

#[test]
fn reshare_of_h2_and_h3_records_is_denied() {
    for (code, restriction) in [(HandlingCode::H2, None), (HandlingCode::H3, Some("no"))] {
        let r = record_with(|r| {
            r.originator = pk();
            r.handling = code;
            r.handling_restriction = restriction.map(str::to_owned);
        });
        assert_eq!(
            may_reshare(&r, 0, &quad(), &bilateral(), &bg(), now()),
            deny(DenyReason::HandlingForbidsReshare {
                handling: code,
                from: quad_id(),
                to: bilateral().id,
            })
        );
    }
}

#[test]
fn reshare_under_an_agreement_that_never_permits_onward_sharing_is_denied() {
    let never = quad_with(|a| a.onward_sharing = OnwardSharing::Never);
    assert_eq!(
        may_reshare(&received(), 0, &never, &bilateral(), &bg(), now()),
        deny(DenyReason::OnwardSharingForbidden {
            from: quad_id(),
            to: bilateral().id,
        })
    );
}

#[test]
fn reshare_needing_the_originators_consent_is_denied() {
    let consent = quad_with(|a| a.onward_sharing = OnwardSharing::WithOriginatorConsent);
    assert_eq!(
        may_reshare(&received(), 0, &consent, &bilateral(), &bg(), now()),
        deny(DenyReason::OriginatorConsentRequired {
            originator: pk(),
            from: quad_id(),
            to: bilateral().id,
        })
    );
}

#[test]
fn reshare_needs_the_target_agreement_to_permit_the_record() {
    let to = bilateral();
    let network = record_with(|r| {
        r.originator = pk();
        r.category = Category::SmugglingNetwork;
    });
    assert_eq!(
        may_reshare(&network, 0, &quad(), &to, &bg(), now()),
        deny(DenyReason::CategoryNotPermitted {
            category: Category::SmugglingNetwork,
            agreement: to.id.clone(),
        })
    );
    assert_eq!(
        may_reshare(&received(), 0, &quad(), &to, &gr(), now()),
        deny(DenyReason::NotMember {
            party: Party::Peer,
            agency: gr(),
            agreement: to.id.clone(),
        })
    );
    let mut victim = named_victim(VictimPurpose::Return);
    victim.originator = pk();
    assert_eq!(
        may_reshare(&victim, 0, &quad(), &to, &bg(), now()),
        deny(DenyReason::VictimPurposeNotPermitted {
            purpose: VictimPurpose::Return,
            permitted: to.victim_data.purposes.clone(),
            agreement: to.id.clone(),
        })
    );
    let ended = {
        let mut a = bilateral();
        a.valid_until = date("2026-05-31");
        a
    };
    assert_eq!(
        may_reshare(&received(), 0, &quad(), &ended, &bg(), now()),
        deny(DenyReason::NoLongerInForce {
            agreement: to.id.clone(),
            valid_until: date("2026-05-31"),
            now: now(),
        })
    );
}

#[test]
fn reshare_past_the_source_agreements_retention_is_denied() {
    let r = record_with(|r| {
        r.originator = pk();
        r.created = at("2026-04-01T00:00:00Z");
    });
    assert_eq!(
        may_reshare(&r, 0, &quad(), &bilateral(), &bg(), now()),
        deny(DenyReason::PastRetention {
            created: r.created,
            retention_days: 30,
            until: at("2026-05-01T00:00:00Z"),
            agreement: quad_id(),
            now: now(),
        })
    );
}

// reasons on the wire and in words -----------------------------------------------------------

#[test]
fn reasons_map_to_wire_codes() {
    let cases = [
        (
            DenyReason::NotMember {
                party: Party::Peer,
                agency: bg(),
                agreement: quad_id(),
            },
            RejectCode::NotMember,
        ),
        (
            DenyReason::UnknownAgreement {
                agreement: quad_id(),
            },
            RejectCode::AgreementNotInForce,
        ),
        (
            DenyReason::CategoryNotPermitted {
                category: Category::Financial,
                agreement: quad_id(),
            },
            RejectCode::CategoryNotPermitted,
        ),
        (
            DenyReason::HandlingTooPermissive {
                handling: HandlingCode::H0,
                most_permissive: HandlingCode::H1,
                agreement: quad_id(),
            },
            RejectCode::HandlingNotPermitted,
        ),
        (
            DenyReason::VictimDataNotAllowed {
                agreement: quad_id(),
            },
            RejectCode::VictimDataNotPermitted,
        ),
        (
            DenyReason::Expired {
                expires: now(),
                now: now(),
            },
            RejectCode::Expired,
        ),
    ];
    for (reason, code) in cases {
        assert_eq!(reason.reject_code(), code, "{reason}");
    }
}

#[test]
fn reasons_read_lowercase_and_name_their_values() {
    let d = may_send(&record(), 0, &quad(), &bg(), now());
    let text = d.reason().map(ToString::to_string).unwrap_or_default();
    assert_eq!(text, "peer BG-GDBP is not a member of agreement QUAD-TEST");
    let d = may_publish(
        &tr(),
        &quad(),
        &named_victim(VictimPurpose::Investigation),
        now(),
    );
    let text = d.reason().map(ToString::to_string).unwrap_or_default();
    assert!(text.contains("investigation"), "{text}");
    assert!(text.contains("identification, return"), "{text}");
    assert!(
        !text.contains("A. Victim"),
        "a reason names no victim: {text}"
    );
    let r = record_with(|r| r.handling = HandlingCode::H0);
    let d = may_publish(&tr(), &quad(), &r, now());
    let text = d.reason().map(ToString::to_string).unwrap_or_default();
    assert!(text.starts_with("handling code H0"), "{text}");
    assert!(text.contains("QUAD-TEST") && text.contains("H1"), "{text}");
    assert!(!d.is_allowed());
    assert!(d.into_result().is_err());
}
