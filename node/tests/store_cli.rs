//! The agency's own commands on one node: init, publish, query, show, withdraw, export,
//! verify, purge, and bad input refused with nothing stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{accord, text as out};
use std::path::Path;
use std::process::Output;

use accord_node::store::{Query, Source, Store};
use accord_protocol::{AgencyId, AgreementId, SecretKey, Timestamp, verify};

/// A private copy of examples/quad, with fresh data directories.
fn federation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    dir
}

fn config(fed: &Path, agency: &str) -> String {
    fed.join(agency).join("node.toml").display().to_string()
}

const VESSEL: &str = r#"{
  "agreement": "QUAD-2026",
  "category": "vessel",
  "handling": "H1",
  "grading": "B2",
  "subjects": [{"type": "vessel", "name": "Example Star", "imo": "9074729"}, {"type": "phone", "number": "+923001234567"}],
  "route": [{"country": "TR", "role": "transit"}, {"country": "GR", "role": "destination"}],
  "summary": "Vessel seen loading passengers at night."
}"#;

fn publish(fed: &Path, agency: &str, draft: &str) -> Output {
    let file = fed.join(format!("draft-{}.json", rand_name()));
    std::fs::write(&file, draft).unwrap();
    accord(&[
        "publish",
        "--config",
        &config(fed, agency),
        file.to_str().unwrap(),
    ])
}

fn rand_name() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

#[test]
fn init_publish_query_export_verify_and_a_flipped_byte_is_named() {
    let fed = federation();
    let f = fed.path();
    let p = publish(f, "tr-jgk", VESSEL);
    let (id, stderr) = out(&p);
    assert!(p.status.success(), "{stderr}");
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 64);
    let second = publish(
        f,
        "tr-jgk",
        &VESSEL
            .replace("Example Star", "Example Moon")
            .replace("9074729", "9074731"),
    );
    assert!(second.status.success());

    // query: table, filters, JSON
    let q = accord(&[
        "query",
        "--config",
        &config(f, "tr-jgk"),
        "--subject",
        "imo:9074729",
    ]);
    let (table, _) = out(&q);
    assert!(q.status.success());
    assert!(
        table.contains(&id[..12]) && table.contains("QUAD-2026:1") && table.contains("1 record(s)"),
        "{table}"
    );
    let q = accord(&[
        "query",
        "--config",
        &config(f, "tr-jgk"),
        "--country",
        "GR",
        "--role",
        "destination",
        "--json",
    ]);
    let lines: Vec<serde_json::Value> = out(&q)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["record"]["seq"], "1");
    let q = accord(&[
        "query",
        "--config",
        &config(f, "tr-jgk"),
        "--category",
        "route",
    ]);
    assert!(out(&q).0.contains("no records match"));

    // export and verify
    let bundle = f.join("quad.bundle");
    export_and_verify(&config(f, "tr-jgk"), "QUAD-2026", &bundle, &id, "TR-JGK");

    // one byte flipped inside the first record's envelope: verify fails and names it
    let tampered = f.join("tampered.bundle");
    flip_a_byte(&bundle, &id, |len| len - 10, 0x01, &tampered);
    verify_fails_naming(&tampered, &id);
}

/// `accord export` of `agreement` to `bundle`, then `accord verify` of it: both succeed and the
/// report says record `id` of `originator` (seq 1) is OK.
fn export_and_verify(config: &str, agreement: &str, bundle: &Path, id: &str, originator: &str) {
    let e = accord(&[
        "export",
        "--config",
        config,
        "--agreement",
        agreement,
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(e.status.success(), "{}", out(&e).1);
    let v = accord(&["verify", bundle.to_str().unwrap()]);
    let (report, stderr) = out(&v);
    assert!(v.status.success(), "{report}{stderr}");
    assert!(
        report.contains(&format!("OK   {id} {originator} seq 1")),
        "{report}"
    );
}

/// Copies `bundle` to `out` with one bit of record `id`'s envelope flipped: `mask` at the
/// offset `at` gives for the envelope's length.
fn flip_a_byte(bundle: &Path, id: &str, at: impl Fn(usize) -> usize, mask: u8, out: &Path) {
    let text = std::fs::read_to_string(bundle).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let idx = lines.iter().position(|l| l.contains(id)).unwrap();
    let mut line: serde_json::Value = serde_json::from_str(&lines[idx]).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut env = b64.decode(line["envelope"].as_str().unwrap()).unwrap();
    let at = at(env.len());
    env[at] ^= mask;
    line["envelope"] = serde_json::Value::String(b64.encode(&env));
    lines[idx] = line.to_string();
    std::fs::write(out, lines.join("\n") + "\n").unwrap();
}

/// `accord verify` fails on `bundle` (exit 1) with a FAIL line naming record `id`.
fn verify_fails_naming(bundle: &Path, id: &str) {
    let v = accord(&["verify", bundle.to_str().unwrap()]);
    let (report, _) = out(&v);
    assert_eq!(v.status.code(), Some(1), "{report}");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains(id)),
        "{report}"
    );
}

#[test]
fn init_creates_a_private_node_directory_that_passes_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let o = accord(&[
        "init",
        "--agency",
        "ID-POLRI",
        "--dir",
        node.to_str().unwrap(),
    ]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains("next steps") && stdout.contains("public:  ed25519:"),
        "{stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["agency.key", "api.token"] {
            assert_eq!(
                std::fs::metadata(node.join(f))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o600,
                "{f}"
            );
        }
    }
    let c = accord(&["config", "check", node.join("node.toml").to_str().unwrap()]);
    assert!(c.status.success(), "{}", out(&c).1);
    // the store exists and is empty
    assert!(
        Store::open(&node.join("data"))
            .unwrap()
            .records()
            .is_empty()
    );
    // a second init into the same directory is refused and changes nothing
    let key = std::fs::read(node.join("agency.key")).unwrap();
    let again = accord(&[
        "init",
        "--agency",
        "ID-POLRI",
        "--dir",
        node.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(3));
    assert!(out(&again).1.contains("is not empty"));
    assert_eq!(std::fs::read(node.join("agency.key")).unwrap(), key);
    // a bad agency id is named
    let bad = accord(&[
        "init",
        "--agency",
        "XX-UNIT",
        "--dir",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(out(&bad).1.contains("invalid agency id `XX-UNIT`"));
}

fn assert_nothing_stored(fed: &Path, agency: &str) {
    let store = Store::open(&fed.join(agency).join("data")).unwrap();
    assert!(store.records().is_empty(), "records were stored");
    for a in ["QUAD-2026", "TR-BG-2026"] {
        assert_eq!(
            store.own().counter(&AgreementId::new(a).unwrap()).unwrap(),
            None,
            "a seq was used under {a}"
        );
    }
}

#[test]
fn bad_input_is_refused_with_the_problem_named_and_nothing_stored() {
    let fed = federation();
    let f = fed.path();
    let victim = r#"{"agreement": "TR-BG-2026", "category": "smuggling-network", "handling": "H1", "grading": "B2",
        "subjects": [{"type": "person", "role": "victim", "name": "Example Person", "nationality": "AF"}],
        "victim_data_purpose": "identification", "summary": "Victim found in a lorry."}"#;
    let cases: Vec<(String, &str)> = vec![
        (VESSEL[..60].to_owned(), "malformed record draft"),
        (
            VESSEL.replace("\"category\": \"vessel\"", "\"category\": \"boats\""),
            "unknown category `boats`",
        ),
        (
            VESSEL
                .replace("\"H1\"", "\"H0\"")
                .replace("QUAD-2026", "TR-BG-2026")
                .replace("\"category\": \"vessel\"", "\"category\": \"alert\""),
            "handling code H0 is more permissive than agreement TR-BG-2026 allows",
        ),
        (
            victim.to_owned(),
            "a victim carries identifying fields, which agreement TR-BG-2026 does not permit",
        ),
        // a record dated before the agreement began: `accord verify` would refuse it
        (
            VESSEL.replace(
                "\"agreement\"",
                "\"created\": \"2025-12-31T23:00:00Z\", \"agreement\"",
            ),
            "the record was created 2025-12-31T23:00:00Z, outside agreement QUAD-2026's validity",
        ),
        // a record dated ahead of the clock
        (
            VESSEL.replace(
                "\"agreement\"",
                "\"created\": \"2027-12-30T00:00:00Z\", \"agreement\"",
            ),
            "the record says it was created 2027-12-30T00:00:00Z, later than now",
        ),
        (
            VESSEL.replace("\"agreement\"", "\"originator\": \"PK-FIA\", \"agreement\""),
            "PK-FIA",
        ),
        (VESSEL.replace("QUAD-2026", "NOPE-1"), "agreement `NOPE-1`"),
        (
            VESSEL.replace("\"agreement\"", "\"seq\": \"4\", \"agreement\""),
            "`seq`",
        ),
        (
            VESSEL.replace(
                "\"category\": \"vessel\",",
                "\"category\": \"vessel\", \"colour\": 1,",
            ),
            "colour",
        ),
    ];
    for (draft, expected) in cases {
        let o = publish(f, "tr-jgk", &draft);
        let (stdout, stderr) = out(&o);
        assert_eq!(o.status.code(), Some(1), "{expected}: {stdout}{stderr}");
        assert!(
            stderr.contains(expected),
            "expected `{expected}` in: {stderr}"
        );
        assert!(stdout.is_empty(), "{expected}: printed {stdout}");
        assert_nothing_stored(f, "tr-jgk");
    }
    // the category/handling/victim refusals name the agreement's rule
    let o = publish(f, "tr-jgk", &VESSEL.replace("QUAD-2026", "TR-BG-2026"));
    assert!(
        out(&o).1.contains("refused by agreement policy"),
        "{}",
        out(&o).1
    );
    assert_nothing_stored(f, "tr-jgk");
}

#[test]
fn an_agreement_not_in_force_refuses_publishing() {
    let fed = federation();
    let f = fed.path();
    let path = f.join("agreements/quad-2026.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let ended = text.replace("valid_until = 2027-12-31", "valid_until = 2026-06-30");
    assert_ne!(
        ended, text,
        "the example's validity line changed; update this test"
    );
    std::fs::write(&path, ended).unwrap();
    // every member signs the new text, so only its validity stands in the way
    accord_node::demo::sign_as_members(f, &path).unwrap();
    let o = publish(f, "tr-jgk", VESSEL);
    let (_, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("QUAD-2026") && stderr.contains("2026-06-30"),
        "{stderr}"
    );
    assert_nothing_stored(f, "tr-jgk");
}

#[test]
fn withdraw_marks_the_record_and_only_once() {
    let fed = federation();
    let f = fed.path();
    let id = out(&publish(f, "tr-jgk", VESSEL)).0.trim().to_owned();
    let w = accord(&[
        "withdraw",
        "--config",
        &config(f, "tr-jgk"),
        &id[..10],
        "--reason",
        "Vessel misidentified.",
    ]);
    let (wid, stderr) = out(&w);
    assert!(w.status.success(), "{stderr}");
    let s = accord(&["show", "--config", &config(f, "tr-jgk"), &id]);
    let (shown, _) = out(&s);
    assert!(
        shown.contains(&format!("WITHDRAWN by {}", wid.trim())),
        "{shown}"
    );
    let q = accord(&["query", "--config", &config(f, "tr-jgk")]);
    let (table, _) = out(&q);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&id[..12]) && l.contains("withdrawn")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&wid.trim()[..12]) && l.contains("withdrawal")),
        "{table}"
    );
    let again = accord(&[
        "withdraw",
        "--config",
        &config(f, "tr-jgk"),
        &id,
        "--reason",
        "again",
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(out(&again).1.contains("already withdrawn"));
}

#[test]
fn purge_removes_records_past_retention_and_leaves_tombstones() {
    let fed = federation();
    let f = fed.path();
    // Pakistan's record created 4 years ago, past QUAD-2026's 1095-day retention, though Turkey
    // stored it only last month: retention counts from `created`, as the policy does.
    let pk =
        SecretKey::from_key_file(&std::fs::read_to_string(f.join("pk-fia/agency.key")).unwrap())
            .unwrap();
    let old = Timestamp::parse("2022-11-01T00:00:00Z").unwrap();
    let draft: accord_node::draft::Draft =
        accord_node::draft::parse_draft(VESSEL.as_bytes()).unwrap();
    let pk_id = AgencyId::new("PK-FIA").unwrap();
    let recent = {
        let store = Store::open(&f.join("tr-jgk/data")).unwrap();
        let dir = [(pk_id.clone(), pk.public_key())]
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>();
        let r1 = draft
            .clone()
            .into_record(&pk_id, accord_protocol::Seq::FIRST, old)
            .unwrap();
        let r2 = draft
            .into_record(
                &pk_id,
                accord_protocol::Seq::new(2).unwrap(),
                Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
            )
            .unwrap();
        let v1 = verify(accord_protocol::sign(&r1, &pk).unwrap(), &dir).unwrap();
        let v2 = verify(accord_protocol::sign(&r2, &pk).unwrap(), &dir).unwrap();
        store
            .records()
            .insert_batch(
                &[v1],
                &Source::Peer(pk_id.clone()),
                Timestamp::parse("2026-10-28T00:00:00Z").unwrap(),
            )
            .unwrap();
        store
            .records()
            .insert_batch(
                std::slice::from_ref(&v2),
                &Source::Peer(pk_id.clone()),
                Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
            )
            .unwrap();
        store.flush().unwrap();
        v2.id
    };
    let dry = accord(&["purge", "--config", &config(f, "tr-jgk"), "--dry-run"]);
    assert!(
        out(&dry).0.contains("1 record(s) would be purged"),
        "{}{}",
        out(&dry).0,
        out(&dry).1
    );
    let p = accord(&["purge", "--config", &config(f, "tr-jgk")]);
    let (stdout, stderr) = out(&p);
    assert!(p.status.success(), "{stderr}");
    assert!(stdout.contains("1 record(s) purged"), "{stdout}");
    {
        let store = Store::open(&f.join("tr-jgk/data")).unwrap();
        assert_eq!(store.queries().query(&Query::default()).unwrap().len(), 1);
        assert!(store.records().contains(&recent).unwrap());
        let tombs = store.records().tombstones(None).unwrap();
        assert_eq!(tombs.len(), 1);
        assert!(
            tombs[0]
                .reason
                .contains("retention of QUAD-2026 (1095 days)"),
            "{}",
            tombs[0].reason
        );
    }
    // the bundle still verifies: the tombstone accounts for seq 1
    let bundle = f.join("b.bundle");
    assert!(
        accord(&[
            "export",
            "--config",
            &config(f, "tr-jgk"),
            "--agreement",
            "QUAD-2026",
            "--out",
            bundle.to_str().unwrap()
        ])
        .status
        .success()
    );
    let v = accord(&["verify", bundle.to_str().unwrap()]);
    assert!(v.status.success(), "{}", out(&v).0);
}

/// The public key `accord init` printed.
fn printed_key(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("public:"))
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|| panic!("no public key in {stdout}"))
}

/// The whole path a new agency takes, from nothing: two agencies `accord init` their nodes, write
/// a bilateral agreement from the template, both sign it, each names the other, and one
/// publishes, queries, exports and verifies; the bundle with one byte flipped fails and names
/// the record.
#[test]
fn from_init_to_a_verified_bundle_and_a_flipped_byte_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut public = Vec::new();
    for (agency, node) in [("ID-POLRI", "id"), ("AU-ABF", "au")] {
        let o = accord(&[
            "init",
            "--agency",
            agency,
            "--dir",
            root.join(node).to_str().unwrap(),
        ]);
        let (stdout, stderr) = out(&o);
        assert!(o.status.success(), "{stderr}");
        public.push(printed_key(&stdout));
    }

    // the agreement, from the bilateral template
    let file = root.join("id-au-2026.toml");
    let f = file.to_str().unwrap();
    let n = accord(&["agreement", "new", "--template", "bilateral", "--out", f]);
    assert!(n.status.success(), "{}", out(&n).1);
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("XX-YY-2027", "ID-AU-2026")
        .replace("TR-JGK", "ID-POLRI")
        .replace("BG-GDBP", "AU-ABF")
        .replace("valid_from = 2027-01-01", "valid_from = 2026-01-01")
        .replace("REPLACE: ", "");
    std::fs::write(&file, text).unwrap();
    let check = accord(&["agreement", "check", f]);
    assert!(check.status.success(), "{}", out(&check).1);

    // each node lists the agreement and knows the other agency
    for (i, (node, other)) in [("id", "AU-ABF"), ("au", "ID-POLRI")]
        .into_iter()
        .enumerate()
    {
        let cfg = root.join(node).join("node.toml");
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("agreements = []", "agreements = [\"../id-au-2026.toml\"]")
            + &format!(
                "\n[[known_agency]]\nid = \"{other}\"\npublic_key = \"{}\"\naddresses = [\"/ip4/127.0.0.1/tcp/7499\"]\n",
                public[1 - i]
            );
        std::fs::write(&cfg, text).unwrap();
    }
    let cfg = |node: &str| root.join(node).join("node.toml").display().to_string();
    // not in effect until both have signed
    let draft = root.join("record.json");
    std::fs::write(&draft, VESSEL.replace("QUAD-2026", "ID-AU-2026")).unwrap();
    let early = accord(&["publish", "--config", &cfg("id"), draft.to_str().unwrap()]);
    assert_ne!(
        early.status.code(),
        Some(0),
        "published under an unsigned agreement"
    );
    let (_, why) = out(&early);
    assert!(
        why.contains("ID-AU-2026") && why.contains("AU-ABF"),
        "the refusal names the agreement and the missing signer: {why}"
    );
    assert!(
        Store::open(&root.join("id/data"))
            .unwrap()
            .records()
            .is_empty(),
        "nothing stored before the agreement is in effect"
    );
    for node in ["id", "au"] {
        let s = accord(&["agreement", "sign", f, "--config", &cfg(node)]);
        assert!(s.status.success(), "{}", out(&s).1);
    }
    let check = accord(&["config", "check", &cfg("id")]);
    let (summary, stderr) = out(&check);
    assert!(check.status.success(), "{summary}{stderr}");
    assert!(
        summary.contains("ID-AU-2026: signed by every member"),
        "{summary}"
    );

    // publish, query, export, verify
    let p = accord(&["publish", "--config", &cfg("id"), draft.to_str().unwrap()]);
    let (id, stderr) = out(&p);
    assert!(p.status.success(), "{stderr}");
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 64, "{id}");
    let q = accord(&[
        "query",
        "--config",
        &cfg("id"),
        "--subject",
        "vessel:example star",
    ]);
    let (table, _) = out(&q);
    assert!(q.status.success());
    assert!(
        table.contains(&id[..12]) && table.contains("ID-AU-2026:1"),
        "{table}"
    );
    let bundle = root.join("id-au.bundle");
    export_and_verify(&cfg("id"), "ID-AU-2026", &bundle, &id, "ID-POLRI");

    // a byte of the record flipped in the bundle
    flip_a_byte(&bundle, &id, |len| len / 2, 0x20, &bundle);
    verify_fails_naming(&bundle, &id);
}

/// A record may correct or withdraw only an earlier record of its own originator and agreement
/// that this node holds, and answer only a record of its agreement: otherwise publishing is
/// refused, naming the field and the record, and nothing is stored.
#[test]
fn references_outside_the_record_s_agreement_are_refused() {
    let fed = federation();
    let f = fed.path();
    let p = publish(f, "tr-jgk", VESSEL);
    assert!(p.status.success(), "{}", out(&p).1);
    let quad_id = out(&p).0.trim().to_owned();
    let alert = |extra: &str| {
        format!(
            r#"{{"agreement": "TR-BG-2026", "category": "alert", "handling": "H1", "grading": "B2",
               "summary": "Boats leaving at night.", {extra}}}"#
        )
    };
    for (draft, field, why) in [
        (
            alert(&format!(r#""corrects": "{quad_id}""#)),
            "`corrects`",
            "TR-JGK's under QUAD-2026",
        ),
        (
            alert(&format!(r#""withdraws": "{quad_id}""#)),
            "`withdraws`",
            "TR-JGK's under QUAD-2026",
        ),
        (
            alert(&format!(r#""corrects": "{}""#, "ab".repeat(32))),
            "`corrects`",
            "not held here",
        ),
    ] {
        let o = publish(f, "tr-jgk", &draft);
        let (_, stderr) = out(&o);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(field) && stderr.contains(why), "{stderr}");
    }
    let store = Store::open(&f.join("tr-jgk").join("data")).unwrap();
    assert_eq!(store.records().len(), 1, "only the first record is stored");
    assert_eq!(
        store
            .own()
            .counter(&AgreementId::new("TR-BG-2026").unwrap())
            .unwrap(),
        None,
        "no seq used under TR-BG-2026"
    );
}

#[test]
fn copy_store_moves_a_node_to_fjall_and_the_node_file_must_say_so() {
    let fed = federation();
    let f = fed.path();
    let cfg = config(f, "tr-jgk");
    let mut ids = Vec::new();
    for (name, imo) in [("Example Star", "9074729"), ("Example Moon", "9074731")] {
        let p = publish(
            f,
            "tr-jgk",
            &VESSEL.replace("Example Star", name).replace("9074729", imo),
        );
        let (id, stderr) = out(&p);
        assert!(p.status.success(), "{stderr}");
        ids.push(id.trim().to_owned());
    }
    let old = f.join("tr-jgk").join("data");
    let new = f.join("tr-jgk").join("data-fjall");

    // a bad engine, and a directory that holds something, are refused; nothing is made
    let bad = copy_store(&cfg, &new, "rocksdb");
    assert_eq!(bad.status.code(), Some(2), "{}", out(&bad).1);
    assert!(
        out(&bad).1.contains("unknown storage engine `rocksdb`"),
        "{}",
        out(&bad).1
    );
    assert!(!new.exists());
    let busy = f.join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "keep me").unwrap();
    let refused = copy_store(&cfg, &busy, "fjall");
    assert!(!refused.status.success());
    assert!(out(&refused).1.contains("not empty"), "{}", out(&refused).1);
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);

    let copy = copy_store(&cfg, &new, "fjall");
    let (stdout, stderr) = out(&copy);
    assert!(copy.status.success(), "{stderr}");
    assert!(stdout.contains("store_engine = \"fjall\""), "{stdout}");
    assert_eq!(
        Store::engine_of(&new),
        Some(accord_config::StoreEngine::Fjall)
    );
    assert_eq!(
        Store::engine_of(&old),
        Some(accord_config::StoreEngine::Sled)
    );

    // the node file pointed at the copy but still saying sled is refused, naming both
    let node_file = f.join("tr-jgk").join("node.toml");
    let text = std::fs::read_to_string(&node_file).unwrap();
    let moved = text.replace("data_dir = \"data\"", "data_dir = \"data-fjall\"");
    assert_ne!(moved, text);
    std::fs::write(&node_file, &moved).unwrap();
    let q = accord(&["query", "--config", &cfg, "--subject", "imo:9074729"]);
    assert!(!q.status.success());
    let (_, stderr) = out(&q);
    assert!(
        stderr.contains("holds a store on fjall") && stderr.contains("store_engine = \"sled\""),
        "{stderr}"
    );
    // with store_engine set, the node reads its records from the copy, and publishes on
    std::fs::write(
        &node_file,
        moved.replace(
            "data_dir = \"data-fjall\"",
            "data_dir = \"data-fjall\"\nstore_engine = \"fjall\"",
        ),
    )
    .unwrap();
    for (imo, id) in [("9074729", &ids[0]), ("9074731", &ids[1])] {
        let q = accord(&[
            "query",
            "--config",
            &cfg,
            "--subject",
            &format!("imo:{imo}"),
        ]);
        let (table, stderr) = out(&q);
        assert!(q.status.success(), "{stderr}");
        assert!(table.contains(&id[..12]), "{table}");
    }
    let third = publish(f, "tr-jgk", &VESSEL.replace("9074729", "9074743"));
    assert!(third.status.success(), "{}", out(&third).1);
    let store = Store::open(&new).unwrap();
    assert_eq!(store.records().len(), 3);
    let own = store
        .sync()
        .heads(&AgreementId::new("QUAD-2026").unwrap())
        .unwrap();
    assert_eq!(
        own.values().copied().max(),
        Some(3),
        "numbering goes on in the copy"
    );
    let old = Store::open(&old).unwrap();
    assert_eq!(old.records().len(), 2, "the old store is left as it was");
}

/// `accord copy-store --config CFG --to TO --store-engine ENGINE`.
fn copy_store(cfg: &str, to: &Path, engine: &str) -> Output {
    accord(&[
        "copy-store",
        "--config",
        cfg,
        "--to",
        to.to_str().unwrap(),
        "--store-engine",
        engine,
    ])
}
