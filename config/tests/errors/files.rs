//! Problems of the files as files: syntax, unknown and missing keys, types, reading, UTF-8,
//! positions, the report's form, and a file of one kind given as the other.

use super::*;

#[test]
fn syntax_error_in_the_node_file() {
    let errors = fed()
        .node("key_file = \"agency.key\"", "key_file = \"agency.key")
        .errors();
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    // The parser reports the missing quote where it expected it, at the end of the line.
    check(e, NODE_PATH, 2, 23, "invalid TOML: invalid basic string");
    assert_eq!(e.key, "");
}

#[test]
fn syntax_error_in_an_agreement_file_does_not_hide_the_node_file_problems() {
    let errors = fed()
        .agreement("kind = \"bilateral\"", "kind = = \"bilateral\"")
        .node("bind = \"127.0.0.1:7483\"", "bind = \"localhost\"")
        .errors();
    assert_eq!(errors.len(), 2, "{errors}");
    check(
        &errors.errors()[0],
        NODE_PATH,
        8,
        8,
        "invalid socket address `localhost`",
    );
    check(&errors.errors()[1], AGREEMENT_PATH, 3, 8, "invalid TOML");
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let errors = fed()
        .node("public_key =", "publc_key =")
        .agreement(
            "retention_days = 365",
            "retention_days = 365\ncolour = \"blue\"",
        )
        .errors();
    let typo = with_key(&errors, "known_agency[0].publc_key");
    check(typo, NODE_PATH, 13, 1, "unknown key `publc_key`");
    hint(typo, "did you mean `public_key`?");
    // The real key is then missing, reported at the table's header.
    let missing = with_key(&errors, "known_agency[0].public_key");
    check(missing, NODE_PATH, 11, 1, "missing key `public_key`");
    // A key like no other lists the valid ones.
    let colour = with_key(&errors, "colour");
    check(colour, AGREEMENT_PATH, 10, 1, "unknown key `colour`");
    hint(colour, "expected one of: id, title, kind, members");
    assert_eq!(errors.len(), 3, "{errors}");
}

#[test]
fn wrong_types() {
    let errors = fed()
        .agreement("retention_days = 365", "retention_days = \"365\"")
        .agreement("allowed = false", "allowed = \"no\"")
        .node(
            "listen = [\"/ip4/127.0.0.1/tcp/7403\"]",
            "listen = \"/ip4/127.0.0.1/tcp/7403\"",
        )
        .node(
            "addresses = [\"/ip4/127.0.0.1/tcp/7405\"]",
            "addresses = [7405]",
        )
        .errors();
    check(
        with_key(&errors, "retention_days"),
        AGREEMENT_PATH,
        9,
        18,
        "expected a whole number of days, at least 1, found string `\"365\"`",
    );
    check(
        with_key(&errors, "victim_data.allowed"),
        AGREEMENT_PATH,
        13,
        11,
        "expected true or false, found string `\"no\"`",
    );
    check(
        with_key(&errors, "listen"),
        NODE_PATH,
        4,
        10,
        "expected an array of multiaddr strings",
    );
    check(
        with_key(&errors, "known_agency[0].addresses[0]"),
        NODE_PATH,
        14,
        14,
        "found integer `7405`",
    );
    assert_eq!(errors.len(), 4, "{errors}");
}

#[test]
fn missing_keys() {
    let errors = fed()
        .agreement("title = \"Test agreement\"\n", "")
        .node("token_file = \"api.token\"\n", "")
        .node("agency = \"TR-JGK\"\n", "")
        .errors();
    let title = with_key(&errors, "title");
    check(title, AGREEMENT_PATH, 1, 1, "missing key `title`");
    hint(title, "expected the agreement's title");
    check(
        with_key(&errors, "api.token_file"),
        NODE_PATH,
        6,
        1,
        "missing key `token_file`",
    );
    check(
        with_key(&errors, "agency"),
        NODE_PATH,
        1,
        1,
        "missing key `agency`",
    );
    assert_eq!(errors.len(), 3, "{errors}");
}

#[test]
fn unreadable_files() {
    let errors = fed().without(AGREEMENT_PATH).errors();
    assert_eq!(errors.len(), 1, "{errors}");
    let e = with_key(&errors, "agreements[0]");
    check(
        e,
        NODE_PATH,
        5,
        15,
        "cannot read agreement file `fed/tr/../bil.toml`: no such file or directory",
    );

    let errors = fed().without(NODE_PATH).errors();
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    check(
        e,
        NODE_PATH,
        0,
        0,
        "cannot read node file: no such file or directory",
    );
    assert_eq!(
        e.to_string(),
        "fed/tr/node.toml: cannot read node file: no such file or directory"
    );
}

#[test]
fn files_must_be_utf8() {
    let mut broken = fed();
    broken.0.insert(
        PathBuf::from(AGREEMENT_PATH),
        b"id = \"TR-BG-2026\"\ntitle = \"\xff\"\n".to_vec(),
    );
    let errors = broken.errors();
    check(
        with_key(&errors, ""),
        AGREEMENT_PATH,
        2,
        10,
        "not valid UTF-8",
    );
}

#[test]
fn display_is_one_problem_per_line_and_a_count() {
    let errors = fed()
        .node("public_key =", "publc_key =")
        .agreement(
            "most_permissive_handling = \"H1\"",
            "most_permissive_handling = \"H4\"",
        )
        .errors();
    let text = errors.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "fed/tr/node.toml:11:1: known_agency[0].public_key: missing key `public_key`; expected a public key string \"ed25519:\" followed by 64 hex digits",
            "fed/tr/node.toml:13:1: known_agency[0].publc_key: unknown key `publc_key`; did you mean `public_key`?",
            "fed/tr/../bil.toml:8:28: most_permissive_handling: unknown handling code `H4`; expected one of: H0, H1, H2, H3",
            "3 problems found",
        ]
    );
}

#[test]
fn a_standalone_agreement() {
    let agreement =
        parse_agreement(Path::new("bundle/agreement.toml"), AGREEMENT.as_bytes()).unwrap();
    assert_eq!(agreement.id.as_str(), "TR-BG-2026");
    assert_eq!(agreement.path, Path::new("bundle/agreement.toml"));

    let broken = AGREEMENT.replace("kind = \"bilateral\"", "kind = \"bilateral\"\nkind2 = 1");
    let errors =
        parse_agreement(Path::new("bundle/agreement.toml"), broken.as_bytes()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors}");
    check(
        with_key(&errors, "kind2"),
        "bundle/agreement.toml",
        4,
        1,
        "unknown key `kind2`",
    );
    hint(with_key(&errors, "kind2"), "did you mean `kind`?");

    let errors = parse_agreement(Path::new("a.toml"), b"id = [").unwrap_err();
    check(&errors.errors()[0], "a.toml", 1, 7, "invalid TOML");
}

#[test]
fn columns_count_characters() {
    // `ó` is two bytes in UTF-8 but one column.
    let errors = fed()
        .agreement(
            "allowed = false",
            "allowed = true\npurposes = [\"identificación\", \"gossip\"]",
        )
        .errors();
    check(
        with_key(&errors, "victim_data.purposes[0]"),
        AGREEMENT_PATH,
        14,
        13,
        "unknown victim data purpose `identificación`",
    );
    check(
        with_key(&errors, "victim_data.purposes[1]"),
        AGREEMENT_PATH,
        14,
        31,
        "unknown victim data purpose `gossip`",
    );
    assert_eq!(errors.len(), 2, "{errors}");
}

#[test]
fn unknown_key_near_part_of_a_longer_key_suggests_it() {
    // `retension` is 6 edits from `retention_days`, too far as a whole, but 1 from its part
    let errors = fed()
        .agreement("retention_days = 365", "retension = 365")
        .errors();
    let typo = with_key(&errors, "retension");
    check(typo, AGREEMENT_PATH, 9, 1, "unknown key `retension`");
    hint(typo, "did you mean `retention_days`?");
    let missing = with_key(&errors, "retention_days");
    check(
        missing,
        AGREEMENT_PATH,
        1,
        1,
        "missing key `retention_days`",
    );
    assert_eq!(errors.len(), 2, "{errors}");

    // a key that abbreviates or extends a valid one
    let errors = fed()
        .agreement("onward_sharing = \"never\"", "onward = \"never\"")
        .node("data_dir = \"data\"", "data_directory = \"data\"")
        .errors();
    let onward = with_key(&errors, "onward");
    check(onward, AGREEMENT_PATH, 10, 1, "unknown key `onward`");
    hint(onward, "did you mean `onward_sharing`?");
    let data = with_key(&errors, "data_directory");
    check(data, NODE_PATH, 3, 1, "unknown key `data_directory`");
    hint(data, "did you mean `data_dir`?");

    // as near one key as another: no guess, the valid keys are listed
    let errors = fed()
        .agreement("valid_until = \"2026-12-31\"", "valid = \"2026-12-31\"")
        .errors();
    let valid = with_key(&errors, "valid");
    check(valid, AGREEMENT_PATH, 6, 1, "unknown key `valid`");
    hint(valid, "expected one of: id, title, kind");
}

#[test]
fn an_agreement_file_given_as_the_node_file_is_named_as_such() {
    // `accord config check quad-2026.toml`: one problem saying what the file is and which
    // command checks it, not an unknown key per agreement key and a missing key per node key
    let fed = fed().file(NODE_PATH, AGREEMENT);
    let errors = fed.errors();
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    // at the first key only an agreement has: `kind`, line 3 (`id` and `title` could be
    // anything's)
    check(
        e,
        NODE_PATH,
        3,
        1,
        "this is an agreement file, not a node file (it has `kind`, `members`, `valid_from` and none of the node file's keys)",
    );
    assert_eq!(e.key, "");
    hint(
        e,
        "check an agreement file on its own with `accord agreement check FILE`",
    );
    hint(e, "`accord config check` takes a node's file");

    // a node file with a stray agreement key is still read as a node file
    let errors = fed_with_stray_key();
    let stray = with_key(&errors, "members");
    check(stray, NODE_PATH, 6, 1, "unknown key `members`");
    assert_eq!(errors.len(), 1, "{errors}");
}

fn fed_with_stray_key() -> ConfigErrors {
    fed()
        .node(
            "agreements = [\"../bil.toml\"]",
            "agreements = [\"../bil.toml\"]\nmembers = [\"TR-JGK\"]",
        )
        .errors()
}
