//! Problems of an agreement's values: dates, categories, handling codes, members, focal points,
//! victim data, retention, misspelt words.

use super::*;

#[test]
fn bad_dates() {
    let errors = fed()
        .agreement("valid_from = 2026-01-01", "valid_from = \"2026-02-30\"")
        .agreement(
            "valid_until = \"2026-12-31\"",
            "valid_until = 2026-12-31T23:59:59Z",
        )
        .errors();
    check(
        with_key(&errors, "valid_from"),
        AGREEMENT_PATH,
        5,
        14,
        "invalid time `2026-02-30`: no such day in that month",
    );
    check(
        with_key(&errors, "valid_until"),
        AGREEMENT_PATH,
        6,
        15,
        "invalid time `2026-12-31T23:59:59Z`: expected a date as YYYY-MM-DD",
    );
    assert_eq!(errors.len(), 2, "{errors}");

    let errors = fed()
        .agreement("valid_from = 2026-01-01", "valid_from = 20260101")
        .errors();
    check(
        with_key(&errors, "valid_from"),
        AGREEMENT_PATH,
        5,
        14,
        "expected a date such as 2026-01-01, found integer `20260101`",
    );
}

#[test]
fn valid_from_after_valid_until() {
    let errors = fed()
        .agreement("valid_from = 2026-01-01", "valid_from = 2027-01-01")
        .errors();
    let e = with_key(&errors, "valid_until");
    check(
        e,
        AGREEMENT_PATH,
        6,
        15,
        "valid_until `2026-12-31` is before valid_from `2027-01-01`",
    );
    assert_eq!(errors.len(), 1, "{errors}");
    // One day is a valid window.
    fed()
        .agreement("valid_from = 2026-01-01", "valid_from = 2026-12-31")
        .load()
        .unwrap();
}

#[test]
fn bad_categories() {
    let errors = fed()
        .agreement(
            "categories = [\"route\", \"alert\"]",
            "categories = [\"route\", \"smuggling\", \"route\"]",
        )
        .errors();
    check(
        with_key(&errors, "categories[1]"),
        AGREEMENT_PATH,
        7,
        24,
        "unknown category `smuggling`; expected one of: smuggling-network, route",
    );
    let twice = with_key(&errors, "categories[2]");
    check(
        twice,
        AGREEMENT_PATH,
        7,
        37,
        "category `route` is listed twice",
    );
    hint(twice, "also at categories[0]");
    assert_eq!(errors.len(), 2, "{errors}");

    let errors = fed()
        .agreement("categories = [\"route\", \"alert\"]", "categories = []")
        .errors();
    check(
        with_key(&errors, "categories"),
        AGREEMENT_PATH,
        7,
        14,
        "no categories listed",
    );
}

#[test]
fn unknown_handling_code_and_other_words() {
    let errors = fed()
        .agreement(
            "most_permissive_handling = \"H1\"",
            "most_permissive_handling = \"H4\"",
        )
        .agreement(
            "onward_sharing = \"never\"",
            "onward_sharing = \"sometimes\"",
        )
        .agreement("kind = \"bilateral\"", "kind = \"trilateral\"")
        .errors();
    check(
        with_key(&errors, "most_permissive_handling"),
        AGREEMENT_PATH,
        8,
        28,
        "unknown handling code `H4`; expected one of: H0, H1, H2, H3",
    );
    check(
        with_key(&errors, "onward_sharing"),
        AGREEMENT_PATH,
        10,
        18,
        "unknown onward sharing rule `sometimes`; expected one of: never, with-originator-consent, permitted",
    );
    check(
        with_key(&errors, "kind"),
        AGREEMENT_PATH,
        3,
        8,
        "unknown agreement kind `trilateral`; expected one of: bilateral, multilateral",
    );
    assert_eq!(errors.len(), 3, "{errors}");
}

#[test]
fn member_count_against_kind() {
    let errors = fed()
        .agreement("kind = \"bilateral\"", "kind = \"multilateral\"")
        .errors();
    let e = with_key(&errors, "members");
    check(
        e,
        AGREEMENT_PATH,
        4,
        11,
        "a multilateral agreement has 3 or more members, but 2 are listed: [BG-GDBP, TR-JGK]",
    );
    hint(e, "`bilateral`");
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .agreement(
            "members = [\"TR-JGK\", \"BG-GDBP\"]",
            "members = [\"TR-JGK\", \"BG-GDBP\", \"GR-HCG\"]",
        )
        .errors();
    let e = with_key(&errors, "members");
    check(
        e,
        AGREEMENT_PATH,
        4,
        11,
        "a bilateral agreement has exactly 2 members, but 3 are listed: [BG-GDBP, GR-HCG, TR-JGK]",
    );
    hint(e, "`multilateral`");
}

#[test]
fn duplicate_members() {
    let errors = fed()
        .agreement(
            "members = [\"TR-JGK\", \"BG-GDBP\"]",
            "members = [\"TR-JGK\", \"BG-GDBP\", \"TR-JGK\"]",
        )
        .errors();
    let e = with_key(&errors, "members[2]");
    check(e, AGREEMENT_PATH, 4, 33, "member `TR-JGK` is listed twice");
    hint(e, "also at members[0]");
    // Two distinct members: the count suits a bilateral agreement.
    assert_eq!(errors.len(), 1, "{errors}");
}

#[test]
fn focal_points_for_every_member_and_no_one_else() {
    let errors = fed()
        .agreement("[focal_points.BG-GDBP]", "[focal_points.GR-HCG]")
        .errors();
    let missing = with_key(&errors, "focal_points");
    check(
        missing,
        AGREEMENT_PATH,
        15,
        2,
        "no focal point for member `BG-GDBP`",
    );
    hint(
        missing,
        "add [focal_points.BG-GDBP] with `name` and `contact`",
    );
    let stranger = with_key(&errors, "focal_points.GR-HCG");
    check(
        stranger,
        AGREEMENT_PATH,
        19,
        15,
        "focal point for `GR-HCG`, which is not a member",
    );
    hint(stranger, "members are: BG-GDBP, TR-JGK");
    assert_eq!(errors.len(), 2, "{errors}");

    let errors = fed()
        .agreement(
            "contact = \"bg@example.org\"",
            "contact = \"\"\nphone = \"1\"",
        )
        .errors();
    check(
        with_key(&errors, "focal_points.BG-GDBP.contact"),
        AGREEMENT_PATH,
        21,
        11,
        "empty contact",
    );
    check(
        with_key(&errors, "focal_points.BG-GDBP.phone"),
        AGREEMENT_PATH,
        22,
        1,
        "unknown key `phone`",
    );
    assert_eq!(errors.len(), 2, "{errors}");
}

#[test]
fn victim_data_must_be_consistent() {
    let errors = fed()
        .agreement(
            "allowed = false",
            "allowed = false\npurposes = [\"identification\", \"return\"]",
        )
        .errors();
    let e = with_key(&errors, "victim_data.purposes");
    check(
        e,
        AGREEMENT_PATH,
        14,
        12,
        "victim data is not allowed (`allowed = false`) but purposes are listed: [identification, return]",
    );
    hint(e, "remove the purposes, or set `allowed = true`");
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .agreement("allowed = false", "allowed = true")
        .errors();
    let e = with_key(&errors, "victim_data.allowed");
    check(
        e,
        AGREEMENT_PATH,
        13,
        11,
        "victim data is allowed (`allowed = true`) but no purposes are listed",
    );
    hint(e, "identification, protection, return, investigation");

    let errors = fed()
        .agreement("allowed = false", "allowed = true\npurposes = []")
        .errors();
    check(
        with_key(&errors, "victim_data.purposes"),
        AGREEMENT_PATH,
        14,
        12,
        "no purposes are listed",
    );

    let errors = fed()
        .agreement("allowed = false", "allowed = true\npurposes = [\"gossip\"]")
        .errors();
    check(
        with_key(&errors, "victim_data.purposes[0]"),
        AGREEMENT_PATH,
        14,
        13,
        "unknown victim data purpose `gossip`",
    );

    let config = fed()
        .agreement("allowed = false", "allowed = true\npurposes = [\"return\"]")
        .load()
        .unwrap();
    let rule = &config.agreements.values().next().unwrap().victim_data;
    assert!(rule.allowed && rule.purposes.len() == 1);
}

#[test]
fn retention_must_be_positive() {
    let errors = fed()
        .agreement("retention_days = 365", "retention_days = 0")
        .errors();
    check(
        with_key(&errors, "retention_days"),
        AGREEMENT_PATH,
        9,
        18,
        "invalid retention period `0` days",
    );
    let errors = fed()
        .agreement("retention_days = 365", "retention_days = -5")
        .errors();
    check(
        with_key(&errors, "retention_days"),
        AGREEMENT_PATH,
        9,
        18,
        "invalid retention period `-5` days",
    );
}

#[test]
fn misspelt_vocabulary_words_get_the_nearest_valid_word() {
    let errors = fed()
        .agreement(
            "categories = [\"route\", \"alert\"]",
            "categories = [\"route\", \"smuggling_network\", \"travel-documents\"]",
        )
        .agreement(
            "most_permissive_handling = \"H1\"",
            "most_permissive_handling = \"h2\"",
        )
        .agreement(
            "onward_sharing = \"never\"",
            "onward_sharing = \"with-originator-concent\"",
        )
        .agreement("allowed = false", "allowed = true\npurposes = [\"retrun\"]")
        .errors();
    let category = with_key(&errors, "categories[1]");
    check(
        category,
        AGREEMENT_PATH,
        7,
        24,
        "unknown category `smuggling_network`; expected one of:",
    );
    hint(category, "did you mean `smuggling-network`?");
    let category = with_key(&errors, "categories[2]");
    check(
        category,
        AGREEMENT_PATH,
        7,
        45,
        "unknown category `travel-documents`",
    );
    hint(category, "did you mean `travel-document`?");
    let handling = with_key(&errors, "most_permissive_handling");
    check(
        handling,
        AGREEMENT_PATH,
        8,
        28,
        "unknown handling code `h2`; expected one of: H0, H1, H2, H3",
    );
    hint(handling, "did you mean `H2`?");
    let onward = with_key(&errors, "onward_sharing");
    check(
        onward,
        AGREEMENT_PATH,
        10,
        18,
        "unknown onward sharing rule `with-originator-concent`",
    );
    hint(onward, "did you mean `with-originator-consent`?");
    let purpose = with_key(&errors, "victim_data.purposes[0]");
    check(
        purpose,
        AGREEMENT_PATH,
        14,
        13,
        "unknown victim data purpose `retrun`",
    );
    hint(purpose, "did you mean `return`?");
    assert_eq!(errors.len(), 5, "{errors}");

    // a word as near several valid ones gets no guess; nor does a kind (`trilateral` is
    // nearest `bilateral` but means `multilateral`)
    let errors = fed()
        .agreement(
            "most_permissive_handling = \"H1\"",
            "most_permissive_handling = \"H4\"",
        )
        .agreement("kind = \"bilateral\"", "kind = \"trilateral\"")
        .errors();
    assert_eq!(with_key(&errors, "most_permissive_handling").hint, None);
    assert_eq!(with_key(&errors, "kind").hint, None);
}
