//! One test per class of problem: each asserts the key path, the position, the message and,
//! where there is one, the hint. The files live in memory and are read through the loader's
//! reader, as the node reads them from disk.

mod common;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use accord_config::{
    ConfigError, ConfigErrors, NodeConfig, StoreEngine, load_node, parse_agreement,
};

const NODE_PATH: &str = "fed/tr/node.toml";
const AGREEMENT_PATH: &str = "fed/tr/../bil.toml";

/// A valid node file; the comments give each line's number.
const NODE: &str = r#"agency = "TR-JGK"
key_file = "agency.key"
data_dir = "data"
listen = ["/ip4/127.0.0.1/tcp/7403"]
agreements = ["../bil.toml"]

[api]
bind = "127.0.0.1:7483"
token_file = "api.token"

[[known_agency]]
id = "BG-GDBP"
public_key = "ed25519:47ce05a2fe41c41957b28f87c11964ec6375a631cd77f4a19b1d8bffe0c9fd59"
addresses = ["/ip4/127.0.0.1/tcp/7405"]
"#;

use common::AGREEMENT;

const GR_HCG_KEY: &str = "ed25519:3f3a34691fef451ed049567ba01b08c5a68df9fa0c526f97a0085ce664d82b04";

/// A federation in memory: file path to text.
#[derive(Clone)]
struct Fed(BTreeMap<PathBuf, Vec<u8>>);

fn fed() -> Fed {
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from(NODE_PATH), NODE.as_bytes().to_vec());
    files.insert(PathBuf::from(AGREEMENT_PATH), AGREEMENT.as_bytes().to_vec());
    Fed(files)
}

impl Fed {
    fn edit(mut self, path: &str, old: &str, new: &str) -> Self {
        let file = self
            .0
            .get_mut(Path::new(path))
            .unwrap_or_else(|| panic!("no file {path}"));
        let text = String::from_utf8_lossy(file).into_owned();
        assert_eq!(
            text.matches(old).count(),
            1,
            "`{old}` is not once in {path}"
        );
        *file = text.replacen(old, new, 1).into_bytes();
        self
    }

    fn node(self, old: &str, new: &str) -> Self {
        self.edit(NODE_PATH, old, new)
    }

    fn agreement(self, old: &str, new: &str) -> Self {
        self.edit(AGREEMENT_PATH, old, new)
    }

    fn file(mut self, path: &str, text: &str) -> Self {
        self.0.insert(PathBuf::from(path), text.as_bytes().to_vec());
        self
    }

    fn without(mut self, path: &str) -> Self {
        self.0.remove(Path::new(path));
        self
    }

    fn load(&self) -> Result<NodeConfig, ConfigErrors> {
        load_node(Path::new(NODE_PATH), &|path: &Path| {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file or directory"))
        })
    }

    fn errors(&self) -> ConfigErrors {
        match self.load() {
            Ok(_) => panic!("loaded without errors"),
            Err(errors) => {
                assert!(!errors.is_empty());
                errors
            }
        }
    }
}

/// The one problem with `key`; fails listing them all when there is not exactly one.
fn with_key<'a>(errors: &'a ConfigErrors, key: &str) -> &'a ConfigError {
    let found: Vec<_> = errors.iter().filter(|e| e.key == key).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one problem at `{key}`, got:\n{errors}"
    );
    found[0]
}

#[track_caller]
fn check(error: &ConfigError, path: &str, line: usize, col: usize, message: &str) {
    assert_eq!(error.path, Path::new(path), "{error}");
    assert_eq!((error.line, error.col), (line, col), "{error}");
    assert!(
        error.message.contains(message),
        "`{}` lacks `{message}`",
        error.message
    );
}

#[track_caller]
fn hint(error: &ConfigError, hint: &str) {
    let got = error.hint.as_deref().unwrap_or("");
    assert!(got.contains(hint), "hint `{got}` lacks `{hint}`");
}

#[test]
fn the_base_federation_is_valid() {
    let config = fed().load().unwrap();
    assert_eq!(config.agency.as_str(), "TR-JGK");
    assert_eq!(config.key_file, Path::new("fed/tr/agency.key"));
    assert_eq!(config.agreements.len(), 1);
    // Dates may be TOML dates or strings.
    let agreement = config.agreements.values().next().unwrap();
    assert_eq!(agreement.valid_from.to_string(), "2026-01-01");
    assert_eq!(agreement.valid_until.to_string(), "2026-12-31");
    assert_eq!(agreement.path, Path::new(AGREEMENT_PATH));
}

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
fn bad_agency_ids() {
    let errors = fed()
        .node("agency = \"TR-JGK\"", "agency = \"tr-jgk\"")
        .errors();
    check(
        with_key(&errors, "agency"),
        NODE_PATH,
        1,
        10,
        "invalid agency id `tr-jgk`",
    );
    // Without a valid own agency, the membership checks stay quiet rather than guess.
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .node("id = \"BG-GDBP\"", "id = \"XX-GDBP\"")
        .agreement("[focal_points.BG-GDBP]", "[focal_points.BG-gdbp]")
        .errors();
    check(
        with_key(&errors, "known_agency[0].id"),
        NODE_PATH,
        12,
        6,
        "invalid agency id `XX-GDBP`: the part before `-` is not an assigned",
    );
    check(
        with_key(&errors, "focal_points.BG-gdbp"),
        AGREEMENT_PATH,
        19,
        15,
        "invalid agency id `BG-gdbp`",
    );
    // With the focal point's key unreadable, BG-GDBP has none.
    check(
        with_key(&errors, "focal_points"),
        AGREEMENT_PATH,
        15,
        2,
        "no focal point for member `BG-GDBP`",
    );
    // The agreement's member BG-GDBP is no longer known: the known agency's id is wrong.
    check(
        with_key(&errors, "agreements[0]"),
        NODE_PATH,
        5,
        15,
        "member `BG-GDBP` of agreement `TR-BG-2026` is not among the known agencies",
    );
    assert_eq!(errors.len(), 4, "{errors}");
}

#[test]
fn bad_public_keys() {
    let bad = fed().node(
        "ed25519:47ce05a2fe41c41957b28f87c11964ec6375a631cd77f4a19b1d8bffe0c9fd59",
        "ed25519:zz",
    );
    let errors = bad.errors();
    check(
        with_key(&errors, "known_agency[0].public_key"),
        NODE_PATH,
        13,
        14,
        "invalid public key `ed25519:zz`: expected `ed25519:` followed by 64",
    );
    assert_eq!(errors.len(), 1, "{errors}");

    // The identity point is of small order: a weak key, refused; a non-canonical encoding
    // (y = p + 3) likewise. Each is named as written in the file, `ed25519:…`, not as raw hex.
    let weak = format!("ed25519:01{}", "00".repeat(31));
    let non_canonical = format!("ed25519:f0{}7f", "ff".repeat(30));
    for (key, why) in [
        (&weak, "a small-order (weak) key; such keys are refused"),
        (&non_canonical, "a non-canonical point encoding"),
    ] {
        let errors = fed()
            .node(
                "ed25519:47ce05a2fe41c41957b28f87c11964ec6375a631cd77f4a19b1d8bffe0c9fd59",
                key,
            )
            .errors();
        check(
            with_key(&errors, "known_agency[0].public_key"),
            NODE_PATH,
            13,
            14,
            &format!("invalid public key `{key}`: {why}"),
        );
        assert_eq!(errors.len(), 1, "{errors}");
    }
}

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
fn own_agency_must_be_a_member() {
    let errors = fed()
        .node("agency = \"TR-JGK\"", "agency = \"GR-HCG\"")
        .errors();
    let e = errors
        .iter()
        .find(|e| e.message.starts_with("this node's agency"))
        .unwrap();
    assert_eq!(e.key, "agreements[0]");
    check(
        e,
        NODE_PATH,
        5,
        15,
        "this node's agency `GR-HCG` is not a member of agreement `TR-BG-2026` (members: BG-GDBP, TR-JGK)",
    );
    // TR-JGK, a member, is not known to the node either.
    assert!(
        errors.iter().any(|e| e
            .message
            .contains("member `TR-JGK` of agreement `TR-BG-2026` is not among the known agencies")),
        "{errors}"
    );
    assert_eq!(errors.len(), 2, "{errors}");
}

#[test]
fn members_must_be_known_agencies() {
    let errors = fed().node("id = \"BG-GDBP\"", "id = \"GR-HCG\"").errors();
    let e = with_key(&errors, "agreements[0]");
    check(
        e,
        NODE_PATH,
        5,
        15,
        "member `BG-GDBP` of agreement `TR-BG-2026` is not among the known agencies",
    );
    hint(e, "add a [[known_agency]] with id = \"BG-GDBP\"");
    assert_eq!(errors.len(), 1, "{errors}");
}

#[test]
fn duplicate_agencies_and_keys() {
    let extra = format!(
        "\n[[known_agency]]\nid = \"BG-GDBP\"\npublic_key = \"{GR_HCG_KEY}\"\n\n[[known_agency]]\nid = \"TR-JGK\"\npublic_key = \"{GR_HCG_KEY}\"\n"
    );
    let node = format!("{NODE}{extra}");
    let errors = fed().file(NODE_PATH, &node).errors();
    // Lines 15-17: a second BG-GDBP; lines 19-21: the node's own agency.
    let twice = with_key(&errors, "known_agency[1].id");
    check(twice, NODE_PATH, 17, 6, "agency `BG-GDBP` is listed twice");
    hint(twice, "also at known_agency[0]");
    check(
        with_key(&errors, "known_agency[2].id"),
        NODE_PATH,
        21,
        6,
        "`TR-JGK` is this node's own agency",
    );
    let key = with_key(&errors, "known_agency[2].public_key");
    check(
        key,
        NODE_PATH,
        22,
        14,
        &format!("public key `{GR_HCG_KEY}` is also the key of known_agency[1] (`BG-GDBP`)"),
    );
    assert_eq!(errors.len(), 3, "{errors}");
}

#[test]
fn duplicate_agreements() {
    let copy = AGREEMENT.replace("Test agreement", "Another text");
    let errors = fed()
        .file("fed/tr/../copy.toml", &copy)
        .node(
            "agreements = [\"../bil.toml\"]",
            "agreements = [\"../bil.toml\", \"../copy.toml\", \"../bil.toml\"]",
        )
        .errors();
    let id = with_key(&errors, "agreements[1]");
    check(
        id,
        NODE_PATH,
        5,
        30,
        "agreement id `TR-BG-2026` of `../copy.toml` is also the id of agreements[0]",
    );
    let file = with_key(&errors, "agreements[2]");
    check(
        file,
        NODE_PATH,
        5,
        46,
        "agreement file `../bil.toml` is listed twice",
    );
    assert_eq!(errors.len(), 2, "{errors}");
}

#[test]
fn bad_multiaddrs() {
    let errors = fed()
        .node("listen = [\"/ip4/127.0.0.1/tcp/7403\"]", "listen = [\"/ip4/127.0.0.1/tcp/7403\", \"127.0.0.1:7403\", \"/ip4/127.0.0.1/tcp/99999\"]")
        .node("addresses = [\"/ip4/127.0.0.1/tcp/7405\"]", "addresses = [\"/ipv4/127.0.0.1\"]")
        .errors();
    let e = with_key(&errors, "listen[1]");
    check(e, NODE_PATH, 4, 38, "invalid multiaddr `127.0.0.1:7403`");
    hint(e, "/ip4/127.0.0.1/tcp/7403");
    check(
        with_key(&errors, "listen[2]"),
        NODE_PATH,
        4,
        56,
        "invalid multiaddr `/ip4/127.0.0.1/tcp/99999`",
    );
    check(
        with_key(&errors, "known_agency[0].addresses[0]"),
        NODE_PATH,
        14,
        14,
        "invalid multiaddr `/ipv4/127.0.0.1`: unknown protocol string: ipv4",
    );
    assert_eq!(errors.len(), 3, "{errors}");

    // a host name would never be dialled (no DNS transport): refused, saying so
    let errors = fed()
        .node(
            "addresses = [\"/ip4/127.0.0.1/tcp/7405\"]",
            "addresses = [\"/dns4/node.example/tcp/7405\"]",
        )
        .errors();
    let e = with_key(&errors, "known_agency[0].addresses[0]");
    check(
        e,
        NODE_PATH,
        14,
        14,
        "invalid multiaddr `/dns4/node.example/tcp/7405`: host names are not resolved; give the partner's IP address",
    );
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .node("listen = [\"/ip4/127.0.0.1/tcp/7403\"]", "listen = []")
        .errors();
    check(
        with_key(&errors, "listen"),
        NODE_PATH,
        4,
        10,
        "no listen addresses",
    );
}

#[test]
fn an_api_beyond_loopback_is_refused_and_the_console_is_served_over_tls_only() {
    let errors = fed()
        .node("bind = \"127.0.0.1:7483\"", "bind = \"0.0.0.0:7483\"")
        .errors();
    let e = with_key(&errors, "api.bind");
    check(
        e,
        NODE_PATH,
        8,
        8,
        "beyond loopback in clear text on `0.0.0.0:7483`",
    );
    hint(e, "[console]");
    assert_eq!(errors.len(), 1, "{errors}");
    // [console] names its address and both TLS files
    let errors = fed()
        .node(
            "/tcp/7405\"]",
            "/tcp/7405\"]\n[console]\nbind = \"0.0.0.0:7443\"\ntls_cert = \"tls/cert.pem\"",
        )
        .errors();
    assert!(errors.to_string().contains("tls_key"), "{errors}");
    let cfg = fed()
        .node(
            "/tcp/7405\"]",
            "/tcp/7405\"]\n[console]\nbind = \"0.0.0.0:7443\"\ntls_cert = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"",
        )
        .load()
        .unwrap();
    let console = cfg.console.unwrap();
    assert_eq!(console.bind.to_string(), "0.0.0.0:7443");
    assert_eq!(console.tls_key, Path::new("fed/tr/tls/key.pem"));
}

#[test]
fn bad_socket_address() {
    let errors = fed()
        .node("bind = \"127.0.0.1:7483\"", "bind = \"127.0.0.1\"")
        .errors();
    let e = with_key(&errors, "api.bind");
    check(e, NODE_PATH, 8, 8, "invalid socket address `127.0.0.1`");
    hint(e, "\"127.0.0.1:7483\"");
    assert_eq!(errors.len(), 1, "{errors}");
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
fn every_problem_across_files_is_reported_at_once() {
    let errors = fed()
        .node("agency = \"TR-JGK\"", "agency = \"TR-JGK\"\nlisten_on = []")
        .node("bind = \"127.0.0.1:7483\"", "bind = \"127.0.0.1:port\"")
        .node("public_key = \"ed25519:47ce", "public_key = \"ed25519:47cf")
        .agreement("kind = \"bilateral\"", "kind = \"multilateral\"")
        .agreement(
            "valid_until = \"2026-12-31\"",
            "valid_until = \"2025-12-31\"",
        )
        .agreement(
            "most_permissive_handling = \"H1\"",
            "most_permissive_handling = \"h1\"",
        )
        .agreement("allowed = false", "allowed = true")
        .errors();
    let got: Vec<(String, usize, usize, String)> = errors
        .iter()
        .map(|e| (e.path.display().to_string(), e.line, e.col, e.key.clone()))
        .collect();
    let want = [
        (NODE_PATH, 2, 1, "listen_on"),
        (NODE_PATH, 9, 8, "api.bind"),
        (NODE_PATH, 14, 14, "known_agency[0].public_key"),
        (AGREEMENT_PATH, 4, 11, "members"),
        (AGREEMENT_PATH, 6, 15, "valid_until"),
        (AGREEMENT_PATH, 8, 28, "most_permissive_handling"),
        (AGREEMENT_PATH, 13, 11, "victim_data.allowed"),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(p, l, c, k)| (p.to_string(), *l, *c, k.to_string()))
        .collect();
    assert_eq!(got, want, "{errors}");
    // A near-miss key gets its suggestion even among many problems.
    hint(with_key(&errors, "listen_on"), "did you mean `listen`?");
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

#[test]
fn the_store_engine_is_sled_unless_the_node_file_names_another() {
    assert_eq!(fed().load().unwrap().store_engine, StoreEngine::Sled);
    let cfg = fed()
        .node(
            "data_dir = \"data\"",
            "data_dir = \"data\"\nstore_engine = \"fjall\"",
        )
        .load()
        .unwrap();
    assert_eq!(cfg.store_engine, StoreEngine::Fjall);

    let errors = fed()
        .node(
            "data_dir = \"data\"",
            "data_dir = \"data\"\nstore_engine = \"rocksdb\"",
        )
        .errors();
    let e = with_key(&errors, "store_engine");
    check(e, NODE_PATH, 4, 16, "unknown storage engine `rocksdb`");
    hint(e, "expected \"sled\" (the default) or \"fjall\"");
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .node(
            "data_dir = \"data\"",
            "data_dir = \"data\"\nstore_engine = 2",
        )
        .errors();
    assert!(
        with_key(&errors, "store_engine")
            .to_string()
            .contains("sled"),
        "{errors}"
    );
}
