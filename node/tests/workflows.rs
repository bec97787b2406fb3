//! The Bali Process workflows through the CLI, on private copies of the demo federation:
//! requests for information and their answers, victims' return cases, the routes report.
//! A partner's record "arrives" by being signed (or copied) and inserted through the library,
//! as the receive path would store it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use accord_node::draft::parse_draft;
use accord_node::store::{Source, Store};
use accord_protocol::record::ReturnStatus;
use accord_protocol::{
    AgencyId, Category, RecordId, SecretKey, Seq, Timestamp, VictimPurpose, sign, verify,
};

/// Runs the CLI. sled releases the lock of a store this test process opened and dropped a
/// moment later, from its background thread; meanwhile the CLI finds the store locked and no
/// node's API to fall back on (exit 3). That, and only that, is retried, for at most 10 s.
fn accord(args: &[&str]) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let o = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("ACCORD_CONFIG")
            .output()
            .unwrap();
        let locked = o.status.code() == Some(3)
            && String::from_utf8_lossy(&o.stderr).contains("is locked by another process");
        if !locked || std::time::Instant::now() >= deadline {
            return o;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `accord`, asserts success, returns stdout.
fn ok(args: &[&str]) -> String {
    let o = accord(args);
    let (stdout, stderr) = out(&o);
    assert!(
        o.status.success(),
        "accord {args:?} failed: {stdout}{stderr}"
    );
    stdout
}

/// Runs `accord`, asserts it is refused (exit 1) with `expected` in the message and nothing on
/// stdout; returns stderr.
fn refused(args: &[&str], expected: &str) -> String {
    let o = accord(args);
    let (stdout, stderr) = out(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "accord {args:?}: {stdout}{stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in: {stderr}"
    );
    assert!(stdout.is_empty(), "printed on refusal: {stdout}");
    stderr
}

fn federation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    dir
}

fn config(fed: &Path, agency: &str) -> String {
    fed.join(agency).join("node.toml").display().to_string()
}

fn agency(dir: &str) -> AgencyId {
    AgencyId::new(&dir.to_ascii_uppercase()).unwrap()
}

fn secret(fed: &Path, dir: &str) -> SecretKey {
    SecretKey::from_key_file(&std::fs::read_to_string(fed.join(dir).join("agency.key")).unwrap())
        .unwrap()
}

fn store(fed: &Path, dir: &str) -> Store {
    // The CLI run just before may still be releasing the store's lock.
    Store::open_waiting(
        &fed.join(dir).join("data"),
        std::time::Duration::from_secs(10),
    )
    .unwrap()
}

fn now() -> Timestamp {
    accord_node::clock::now()
}

/// Signs `draft` as the agency in directory `from` with `seq` and `created`, and stores it at
/// `at` as received from `from`.
fn receive_signed(
    fed: &Path,
    at: &str,
    from: &str,
    draft: &str,
    seq: u64,
    created: Timestamp,
) -> RecordId {
    let key = secret(fed, from);
    let originator = agency(from);
    let record = parse_draft(draft.as_bytes())
        .unwrap()
        .into_record(&originator, Seq::new(seq).unwrap(), created)
        .unwrap();
    let dir: BTreeMap<_, _> = [(originator.clone(), key.public_key())].into();
    let verified = verify(sign(&record, &key).unwrap(), &dir).unwrap();
    let s = store(fed, at);
    s.records()
        .insert_batch(
            std::slice::from_ref(&verified),
            &Source::Peer(originator),
            now(),
        )
        .unwrap();
    s.flush().unwrap();
    verified.id
}

/// Copies record `id` from `from`'s store into `to`'s, as delivery would.
fn deliver(fed: &Path, from: &str, to: &str, id: &str) {
    let id = RecordId::new(id).unwrap();
    let envelope = store(fed, from)
        .records()
        .get(&id)
        .unwrap()
        .unwrap()
        .envelope;
    let originator = agency(from);
    let dir: BTreeMap<_, _> = [(originator.clone(), secret(fed, from).public_key())].into();
    let verified = verify(envelope, &dir).unwrap();
    let s = store(fed, to);
    s.records()
        .insert_batch(&[verified], &Source::Peer(originator), now())
        .unwrap();
    s.flush().unwrap();
}

fn record(fed: &Path, at: &str, id: &str) -> accord_protocol::Record {
    store(fed, at)
        .records()
        .get(&RecordId::new(id).unwrap())
        .unwrap()
        .unwrap()
        .record
}

fn count(fed: &Path, at: &str) -> usize {
    store(fed, at).records().len()
}

fn publish(fed: &Path, at: &str, draft: &str) -> String {
    let file = fed.join(format!("draft-{}.json", count(fed, at)));
    std::fs::write(&file, draft).unwrap();
    ok(&[
        "publish",
        "--config",
        &config(fed, at),
        file.to_str().unwrap(),
    ])
    .trim()
    .to_owned()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

#[test]
fn a_request_goes_to_a_focal_point_and_its_answer_links_up() {
    let fed = federation();
    let f = fed.path();
    let tr = config(f, "tr-jgk");
    let o = accord(&[
        "request",
        "--config",
        &tr,
        "--agreement",
        "QUAD-2026",
        "--to",
        "GR-HCG",
        "--summary",
        "Who owns the vessel Example Star (IMO 9074729)?",
        "--category-of-interest",
        "vessel",
        "--category-of-interest",
        "financial",
    ]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    let request = stdout.trim().to_owned();
    assert_eq!(request.len(), 64, "{stdout}");
    assert!(
        stderr.contains(
            "goes to GR-HCG's focal point: Director, Directorate for Combating Illegal \
             Immigration, Hellenic Coast Guard <focal.point@hcg.example>"
        ),
        "{stderr}"
    );
    let r = record(f, "tr-jgk", &request);
    assert_eq!(r.category, Category::RequestForInformation);
    assert_eq!(r.addressed_to, Some(agency("gr-hcg")));
    assert_eq!(r.handling.as_str(), "H1");
    assert!(
        r.summary
            .ends_with("\n\nCategories of interest: vessel, financial."),
        "{}",
        r.summary
    );

    // Pakistan asked Türkiye 3 days and 4 hours ago.
    let asked = now().plus_secs(-(3 * DAY + 4 * HOUR));
    let from_pk = receive_signed(
        f,
        "tr-jgk",
        "pk-fia",
        r#"{"agreement": "QUAD-2026", "category": "request-for-information", "handling": "H1",
            "grading": "B3", "addressed_to": "TR-JGK",
            "subjects": [{"type": "phone", "number": "+923000000401"}],
            "summary": "Is this number known to you?"}"#,
        1,
        asked,
    );

    let table = ok(&["requests", "--config", &tr]);
    let mine = table
        .lines()
        .find(|l| l.starts_with(&request[..12]))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        mine.contains("TR-JGK") && mine.contains("GR-HCG") && mine.contains("open"),
        "{mine}"
    );
    assert!(mine.contains("Hellenic Coast Guard"), "{mine}");
    let theirs = table
        .lines()
        .find(|l| l.starts_with(&from_pk.short()))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        theirs.contains("PK-FIA") && theirs.contains("3d 4h") && theirs.contains("open"),
        "{theirs}"
    );
    assert!(theirs.contains("Head of Migrant Smuggling"), "{theirs}");
    assert!(
        table.contains("2 request(s): 2 open, 0 answered; 1 sent, 1 received"),
        "{table}"
    );
    let rows = json_lines(&ok(&["requests", "--config", &tr, "--json"]));
    assert_eq!(rows.len(), 2);
    let row = rows.iter().find(|r| r["id"] == request.as_str()).unwrap();
    assert_eq!(row["state"], "open");
    assert_eq!(row["direction"], "sent");
    assert_eq!(row["focal_point"]["contact"], "focal.point@hcg.example");
    assert!(row["age_secs"].as_i64().unwrap() < 600, "{row}");
    let row = rows.iter().find(|r| r["id"] == from_pk.to_hex()).unwrap();
    let age = row["age_secs"].as_i64().unwrap();
    assert!(
        (3 * DAY + 4 * HOUR..3 * DAY + 5 * HOUR).contains(&age),
        "{row}"
    );
    assert_eq!(row["age"], "3d 4h");

    // Greece receives the request and answers it.
    deliver(f, "tr-jgk", "gr-hcg", &request);
    let gr = config(f, "gr-hcg");
    let o = accord(&[
        "respond",
        "--config",
        &gr,
        &request[..10],
        "--summary",
        "Registered since 2019 to a fishing company in Ayvalık; owner not known to us.",
        "--grading",
        "B2",
    ]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    let answer = stdout.trim().to_owned();
    let a = record(f, "gr-hcg", &answer);
    assert_eq!(a.category, Category::Response);
    assert_eq!(a.responds_to, Some(RecordId::new(&request).unwrap()));
    assert_eq!(a.agreement.as_str(), "QUAD-2026");
    assert_eq!(
        a.handling, r.handling,
        "the answer takes the request's code"
    );
    assert!(stderr.contains("answers request"), "{stderr}");
    let at_gr = ok(&["requests", "--config", &gr]);
    assert!(
        at_gr.contains("answered") && at_gr.contains(&answer[..12]),
        "{at_gr}"
    );
    assert!(at_gr.contains("0 sent, 1 received"), "{at_gr}");

    // The answer reaches Türkiye: the request is answered, Pakistan's is still open.
    deliver(f, "gr-hcg", "tr-jgk", &answer);
    let answered = json_lines(&ok(&["requests", "--config", &tr, "--answered", "--json"]));
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0]["id"], request.as_str());
    assert_eq!(answered[0]["state"], "answered");
    assert_eq!(answered[0]["answers"], serde_json::json!([answer]));
    let open = ok(&["requests", "--config", &tr, "--open"]);
    assert!(open.contains(&from_pk.short()), "{open}");
    assert!(!open.contains(&request[..12]), "{open}");
    assert!(open.contains("1 request(s): 1 open"), "{open}");
}

#[test]
fn bad_requests_and_answers_are_refused_and_nothing_is_stored() {
    let fed = federation();
    let f = fed.path();
    let tr = config(f, "tr-jgk");
    let base = [
        "request",
        "--config",
        &tr,
        "--agreement",
        "QUAD-2026",
        "--summary",
        "A question.",
    ];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter()
            .map(|s| s.to_string())
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };

    let e = refused(
        &args(&with(&["--to", "BG-GDBP"])),
        "BG-GDBP is not a member of QUAD-2026",
    );
    assert!(e.contains("GR-HCG, IR-FARAJA, PK-FIA, TR-JGK"), "{e}");
    refused(
        &args(&with(&["--to", "TR-JGK"])),
        "a request cannot be addressed to this agency (TR-JGK) itself",
    );
    let e = refused(
        &[
            "request",
            "--config",
            &tr,
            "--agreement",
            "NOPE-1",
            "--to",
            "PK-FIA",
            "--summary",
            "x",
        ],
        "agreement `NOPE-1`: TR-JGK is not party to it",
    );
    assert!(e.contains("QUAD-2026, TR-BG-2026"), "{e}");
    // A handling code the agreement does not permit: the policy refuses it.
    refused(
        &[
            "request",
            "--config",
            &tr,
            "--agreement",
            "TR-BG-2026",
            "--to",
            "BG-GDBP",
            "--summary",
            "x",
            "--handling",
            "H0",
        ],
        "refused by agreement policy",
    );
    assert_eq!(count(f, "tr-jgk"), 0, "a refused request was stored");
    // A word that is not a category is a wrong command line.
    let o = accord(&args(&with(&[
        "--to",
        "PK-FIA",
        "--category-of-interest",
        "boats",
    ])));
    assert_eq!(o.status.code(), Some(2), "{}", out(&o).1);
    assert!(out(&o).1.contains("boats"));

    // Answering: not a request, not addressed to us, not held.
    let vessel = publish(
        f,
        "tr-jgk",
        r#"{"agreement": "QUAD-2026", "category": "vessel", "handling": "H1", "grading": "B2",
            "subjects": [{"type": "vessel", "name": "Example Star"}], "summary": "Seen at night."}"#,
    );
    let to_gr = ok(&args(&with(&["--to", "GR-HCG"]))).trim().to_owned();
    let held = count(f, "tr-jgk");
    let respond = |id: &str| -> Vec<String> {
        [
            "respond",
            "--config",
            &tr,
            id,
            "--summary",
            "An answer.",
            "--grading",
            "B2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    refused(
        &args(&respond(&vessel)),
        "it is a vessel record, not a request-for-information",
    );
    refused(
        &args(&respond(&to_gr)),
        "it is addressed to GR-HCG, not to this agency (TR-JGK)",
    );
    refused(
        &args(&respond(&"0".repeat(64))),
        "this node does not hold it",
    );
    refused(&args(&respond("abcdef12")), "no record with an id starting");
    assert_eq!(count(f, "tr-jgk"), held, "a refused answer was stored");

    // A withdrawn request is not answered.
    deliver(f, "tr-jgk", "gr-hcg", &to_gr);
    let withdrawal = ok(&[
        "withdraw",
        "--config",
        &tr,
        &to_gr,
        "--reason",
        "Sent in error.",
    ]);
    deliver(f, "tr-jgk", "gr-hcg", withdrawal.trim());
    let gr = config(f, "gr-hcg");
    let before = count(f, "gr-hcg");
    let mut answer = respond(&to_gr);
    answer[2] = gr.clone();
    refused(&args(&answer), "its originator withdrew it");
    assert_eq!(count(f, "gr-hcg"), before);
    let listed = json_lines(&ok(&["requests", "--config", &gr, "--json"]));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "withdrawn");
}

const VICTIM: &str = r#"{
  "ref": "V1",
  "name": "Example Rahimi",
  "aliases": ["Rahi"],
  "date_of_birth": "2009-03",
  "place_of_birth": "Example Town",
  "nationality": "PK",
  "documents": [{"kind": "identity-card", "number": "00000-0000000-1", "issuing_country": "PK"}],
  "description": "Unaccompanied minor in the care of child protection services."
}"#;

/// What must never appear where cases are listed.
const IDENTIFYING: [&str; 6] = [
    "Example Rahimi",
    "Rahi\"",
    "2009-03",
    "Example Town",
    "00000-0000000-1",
    "child protection",
];

fn open_case(fed: &Path, agreement: &str) -> Output {
    let file = fed.join("victim.json");
    std::fs::write(&file, VICTIM).unwrap();
    accord(&[
        "return",
        "open",
        "--config",
        &config(fed, "tr-jgk"),
        "--agreement",
        agreement,
        "--victim-json",
        file.to_str().unwrap(),
        "--home",
        "PK",
        "--summary",
        "Found with a group abandoned near Van; family traced in Quetta.",
        "--grading",
        "A2",
    ])
}

fn update(fed: &Path, case: &str, status: &str) -> Output {
    accord(&[
        "return",
        "update",
        "--config",
        &config(fed, "tr-jgk"),
        case,
        "--status",
        status,
        "--note",
        "Step done with the consulate.",
    ])
}

#[test]
fn a_return_case_moves_forward_and_its_listing_never_identifies_the_victim() {
    let fed = federation();
    let f = fed.path();
    let tr = config(f, "tr-jgk");

    // TR-BG-2026 permits no victim data (nor return coordination): the policy says so.
    let o = open_case(f, "TR-BG-2026");
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("refused by agreement policy") && stderr.contains("TR-BG-2026"),
        "{stderr}"
    );
    assert_eq!(count(f, "tr-jgk"), 0);

    // QUAD-2026 permits victim data for the return.
    let o = open_case(f, "QUAD-2026");
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    let case = stdout.trim().to_owned();
    assert!(
        stderr.contains("shared for the purpose `return`"),
        "{stderr}"
    );
    let opened = record(f, "tr-jgk", &case);
    assert_eq!(opened.category, Category::ReturnCoordination);
    assert_eq!(opened.return_status, Some(ReturnStatus::Identified));
    assert_eq!(opened.victim_data_purpose, Some(VictimPurpose::Return));
    assert!(opened.has_victim_identifying_data());
    assert_eq!(opened.handling.as_str(), "H2");
    assert!(opened.summary.starts_with("Home country: PK.\n\n"));

    for status in ["protected", "travel-documents-requested"] {
        let o = update(f, &case[..8], status);
        assert!(o.status.success(), "{status}: {}", out(&o).1);
        let u = record(f, "tr-jgk", out(&o).0.trim());
        assert_eq!(u.responds_to, Some(RecordId::new(&case).unwrap()));
        assert_eq!(u.return_status.map(|s| s.as_str()), Some(status));
        assert!(u.subjects.is_empty(), "an update carries no victim");
        assert_eq!(u.victim_data_purpose, None);
    }
    let held = count(f, "tr-jgk");
    let e = refused(
        &[
            "return",
            "update",
            "--config",
            &tr,
            &case,
            "--status",
            "protected",
            "--note",
            "x",
        ],
        "is at `travel-documents-requested`",
    );
    assert!(e.contains("`protected` would go back"), "{e}");
    assert_eq!(count(f, "tr-jgk"), held, "a refused update was stored");

    let table = ok(&["returns", "--config", &tr]);
    let row = table
        .lines()
        .find(|l| l.starts_with(&case[..12]))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("QUAD-2026")
            && row.contains("TR-JGK")
            && row.contains("victim (PK)")
            && row.contains("travel-documents-requested"),
        "{row}"
    );
    assert!(row.trim_end().ends_with(" 2"), "two updates: {row}");

    // Skipping ahead is allowed; after `closed` nothing more.
    for status in ["returned", "closed"] {
        let o = update(f, &case, status);
        assert!(o.status.success(), "{status}: {}", out(&o).1);
    }
    refused(
        &[
            "return", "update", "--config", &tr, &case, "--status", "closed", "--note", "x",
        ],
        "is closed; a closed case takes no more updates",
    );

    // Greece opened a case 2 days and 5 hours ago; Türkiye holds it.
    let gr_case = receive_signed(
        f,
        "tr-jgk",
        "gr-hcg",
        r#"{"agreement": "QUAD-2026", "category": "return-coordination", "handling": "H2",
            "grading": "A1", "return_status": "identified", "victim_data_purpose": "return",
            "subjects": [{"type": "person", "role": "victim", "name": "Example Karimi",
                          "nationality": "AF"}],
            "summary": "Home country: AF.\n\nAdult man found on Lesvos; wishes to return."}"#,
        1,
        now().plus_secs(-(2 * DAY + 5 * HOUR)),
    );
    let table = ok(&["returns", "--config", &tr]);
    let row = table
        .lines()
        .find(|l| l.starts_with(&gr_case.short()))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("GR-HCG")
            && row.contains("victim (AF)")
            && row.contains("identified")
            && row.contains("2d 5h"),
        "{row}"
    );
    let closed = table.lines().find(|l| l.starts_with(&case[..12])).unwrap();
    assert!(
        closed.contains("closed") && closed.trim_end().ends_with(" 4"),
        "{closed}"
    );
    assert!(table.contains("2 case(s), 1 not closed"), "{table}");
    // Any member may record the next step of a case it holds.
    let o = update(f, &gr_case.to_hex(), "protected");
    assert!(o.status.success(), "{}", out(&o).1);

    let json = ok(&["returns", "--config", &tr, "--json"]);
    let cases = json_lines(&json);
    assert_eq!(cases.len(), 2);
    let greek = cases
        .iter()
        .find(|c| c["case"] == gr_case.to_hex())
        .unwrap();
    assert_eq!(greek["state"], "protected");
    assert_eq!(greek["updates"], 1);
    assert!(
        greek["time_in_state_secs"].as_i64().unwrap() < 600,
        "{greek}"
    );
    assert_eq!(
        greek["victims"],
        serde_json::json!([{"role": "victim", "nationality": "AF"}])
    );
    for listing in [&table, &json] {
        for word in IDENTIFYING.iter().chain(&["Example Karimi"]) {
            assert!(!listing.contains(word), "`{word}` listed: {listing}");
        }
    }

    // Not a case: an update's id, an unknown id, a record of another kind.
    let first_update = store(f, "tr-jgk")
        .queries()
        .all_records()
        .unwrap()
        .into_iter()
        .find(|r| r.record.return_status == Some(ReturnStatus::Protected))
        .unwrap()
        .id;
    let held = count(f, "tr-jgk");
    let e = refused(
        &[
            "return",
            "update",
            "--config",
            &tr,
            &first_update.to_hex(),
            "--status",
            "closed",
            "--note",
            "x",
        ],
        "it is a status update of case",
    );
    assert!(e.contains("give the case's id"), "{e}");
    refused(
        &[
            "return",
            "update",
            "--config",
            &tr,
            &"0".repeat(64),
            "--status",
            "closed",
            "--note",
            "x",
        ],
        "this node holds no such record",
    );
    assert_eq!(count(f, "tr-jgk"), held);
}

#[test]
fn victim_data_travels_only_where_the_agreement_permits_it() {
    let fed = federation();
    let f = fed.path();
    // A copy of TR-BG-2026 that permits return coordination but still no victim data.
    let path = f.join("agreements/tr-bg-2026.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let widened = text.replace(
        "    \"response\",\n]",
        "    \"response\",\n    \"return-coordination\",\n]",
    );
    assert_ne!(text, widened);
    std::fs::write(&path, widened).unwrap();
    accord_node::demo::sign_as_members(f, &path).unwrap();

    let o = open_case(f, "TR-BG-2026");
    let (_, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "a victim carries identifying fields, which agreement TR-BG-2026 does not permit"
        ),
        "{stderr}"
    );
    assert_eq!(count(f, "tr-jgk"), 0);

    // Without identifying fields the case opens, with no victim-data purpose.
    let o = accord(&[
        "return",
        "open",
        "--config",
        &config(f, "tr-jgk"),
        "--agreement",
        "TR-BG-2026",
        "--victim-nationality",
        "AF",
        "--victim-description",
        "Adult man",
        "--home",
        "AF",
        "--summary",
        "Wishes to return.",
        "--grading",
        "B2",
    ]);
    assert!(o.status.success(), "{}", out(&o).1);
    let r = record(f, "tr-jgk", out(&o).0.trim());
    assert_eq!(r.victim_data_purpose, None);
    assert!(!r.has_victim_identifying_data());
    assert_eq!(r.handling.as_str(), "H2");
}

/// A minimal well-formedness check: every tag closes in order, attributes are quoted, and `&`
/// starts an entity.
fn assert_well_formed(xml: &str) {
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg"),
        "prolog"
    );
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "bare & in {text}"
            );
        }
        assert!(!text.contains('>'), "stray > in {text}");
        let end = rest[start..].find('>').expect("unclosed tag") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') {
            assert!(tag.ends_with('?'));
            continue;
        }
        assert!(!tag.contains('<'), "< inside a tag: {tag}");
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            continue;
        }
        let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
        if stack.is_empty() {
            roots += 1;
        }
        if !tag.ends_with('/') {
            stack.push(name.to_owned());
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(roots, 1, "one root element");
    assert!(rest.trim().is_empty(), "text after the root");
}

#[test]
fn the_routes_report_counts_flows_and_leaves_out_withdrawn_records() {
    let fed = federation();
    let f = fed.path();
    let tr = config(f, "tr-jgk");
    let route = |agreement: &str, handling: &str, created: &str, legs: &str| {
        format!(
            r#"{{"agreement": "{agreement}", "category": "route", "handling": "{handling}",
                "grading": "B2", "created": "{created}T00:00:00Z", "route": {legs},
                "summary": "A route."}}"#
        )
    };
    let pk_gr = r#"[{"country": "PK", "role": "source", "place": "Quetta"},
        {"country": "IR", "role": "transit", "place": "Zahedan"},
        {"country": "TR", "role": "transit", "place": "Van"},
        {"country": "TR", "role": "transit", "place": "İzmir", "until": "2026-10-20"},
        {"country": "GR", "role": "destination", "place": "Chios"}]"#;
    publish(f, "tr-jgk", &route("QUAD-2026", "H0", "2026-10-01", pk_gr));
    publish(f, "tr-jgk", &route("QUAD-2026", "H0", "2026-10-05", pk_gr));
    publish(
        f,
        "tr-jgk",
        r#"{"agreement": "QUAD-2026", "category": "vessel", "handling": "H1", "grading": "A2",
            "created": "2026-11-01T00:00:00Z",
            "subjects": [{"type": "vessel", "name": "Example Yıldız"}],
            "route": [{"country": "TR", "role": "transit", "place": "Ayvalık"},
                      {"country": "GR", "role": "destination", "place": "Lesvos"}],
            "summary": "Vessel taking on passengers at night."}"#,
    );
    let withdrawn = publish(
        f,
        "tr-jgk",
        &route(
            "QUAD-2026",
            "H0",
            "2026-11-02",
            r#"[{"country": "AF", "role": "source"}, {"country": "IR", "role": "transit"},
                {"country": "TR", "role": "destination"}]"#,
        ),
    );
    ok(&[
        "withdraw", "--config", &tr, &withdrawn, "--reason", "Wrong.",
    ]);
    publish(
        f,
        "tr-jgk",
        &route(
            "TR-BG-2026",
            "H1",
            "2026-11-03",
            r#"[{"country": "SY", "role": "source"}, {"country": "TR", "role": "transit"},
                {"country": "BG", "role": "transit"}, {"country": "DE", "role": "destination"}]"#,
        ),
    );
    publish(
        f,
        "tr-jgk",
        r#"{"agreement": "QUAD-2026", "category": "victim-identification", "handling": "H2",
            "grading": "A2", "created": "2026-11-04T00:00:00Z", "victim_data_purpose": "identification",
            "subjects": [{"type": "person", "role": "victim", "name": "Example Rahimi", "nationality": "PK"}],
            "route": [{"country": "PK", "role": "source"}, {"country": "TR", "role": "destination"}],
            "summary": "Minor found near Van."}"#,
    );
    publish(
        f,
        "tr-jgk",
        r#"{"agreement": "QUAD-2026", "category": "financial", "handling": "H1", "grading": "B3",
            "subjects": [{"type": "account", "identifier": "TR330006100519786457841326"}],
            "summary": "No route here."}"#,
    );
    // Pakistan's record of the same route, received.
    receive_signed(
        f,
        "tr-jgk",
        "pk-fia",
        &route("QUAD-2026", "H0", "2026-11-10", pk_gr),
        1,
        Timestamp::parse("2026-11-10T00:00:00Z").unwrap(),
    );

    let table = ok(&["report", "routes", "--config", &tr]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["FLOW", "RECORDS", "LATEST"]
    );
    let rows: Vec<Vec<&str>> = lines[1..5]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["PK", "→", "IR", "→", "TR", "→", "GR", "3", "2026-11-10"],
            vec!["?", "→", "TR", "→", "GR", "1", "2026-11-01"],
            vec!["PK", "→", "TR", "1", "2026-11-04"],
            vec!["SY", "→", "TR", "→", "BG", "→", "DE", "1", "2026-11-03"],
        ],
        "{table}"
    );
    assert_eq!(lines[5], "4 flow(s), 6 record(s)", "{table}");

    let csv = ok(&["report", "routes", "--config", &tr, "--format", "csv"]);
    assert_eq!(
        csv,
        "flow,source,transit,destination,records,latest\n\
         PK>IR>TR>GR,PK,IR>TR,GR,3,2026-11-10\n\
         ?>TR>GR,,TR,GR,1,2026-11-01\n\
         PK>TR,PK,,TR,1,2026-11-04\n\
         SY>TR>BG>DE,SY,TR>BG,DE,1,2026-11-03\n"
    );
    let csv = ok(&[
        "report",
        "routes",
        "--config",
        &tr,
        "--format",
        "csv",
        "--agreement",
        "TR-BG-2026",
    ]);
    assert_eq!(
        csv,
        "flow,source,transit,destination,records,latest\nSY>TR>BG>DE,SY,TR>BG,DE,1,2026-11-03\n"
    );
    let csv = ok(&[
        "report",
        "routes",
        "--config",
        &tr,
        "--format",
        "csv",
        "--since",
        "2026-11-03",
    ]);
    assert_eq!(
        csv,
        "flow,source,transit,destination,records,latest\n\
         PK>IR>TR>GR,PK,IR>TR,GR,1,2026-11-10\n\
         PK>TR,PK,,TR,1,2026-11-04\n\
         SY>TR>BG>DE,SY,TR>BG,DE,1,2026-11-03\n"
    );

    let svg_file = f.join("routes.svg");
    let o = accord(&[
        "report",
        "routes",
        "--config",
        &tr,
        "--format",
        "svg",
        "--out",
        svg_file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", out(&o).1);
    assert!(out(&o).0.is_empty());
    let svg = std::fs::read_to_string(&svg_file).unwrap();
    assert_well_formed(&svg);
    for label in [
        "PK 4", "? 1", "SY 1", "IR 3", "TR 1", "TR 4", "BG 1", "GR 4", "DE 1",
    ] {
        assert!(
            svg.contains(&format!(">{label}</text>")),
            "no box `{label}`: {svg}"
        );
    }
    for header in [">source<", ">transit 1<", ">transit 2<", ">destination<"] {
        assert!(svg.contains(header), "no header {header}");
    }
    assert!(svg.contains("PK → IR → TR → GR: 3 record(s), latest 2026-11-10"));
    for absent in ["AF", "Example Rahimi", "Quetta", "Chios"] {
        assert!(!svg.contains(absent), "`{absent}` in the SVG");
    }
    for report in [&table, &csv] {
        assert!(
            !report.contains("AF") && !report.contains("Rahimi"),
            "{report}"
        );
    }

    // Nothing in scope: still a well-formed diagram, and a table that says so.
    let svg = ok(&[
        "report",
        "routes",
        "--config",
        &tr,
        "--format",
        "svg",
        "--since",
        "2027-01-01",
    ]);
    assert_well_formed(&svg);
    assert!(svg.contains("no route legs"));
    let table = ok(&["report", "routes", "--config", &tr, "--since", "2027-01-01"]);
    assert_eq!(table, "no route legs in the records in scope\n");
}

/// Gives the node in `dir` an API address on a loopback port that was free a moment ago.
fn set_api_port(fed: &Path, dir: &str) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = fed.join(dir).join("node.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("bind = ") {
                format!("bind = \"127.0.0.1:{port}\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
}

/// The CLI, off the async runtime's threads.
async fn cli(list: &[&str]) -> Output {
    let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || accord(&args(&owned)))
        .await
        .unwrap()
}

async fn cli_ok(args: &[&str]) -> String {
    let o = cli(args).await;
    let (stdout, stderr) = out(&o);
    assert!(
        o.status.success(),
        "accord {args:?} failed: {stdout}{stderr}"
    );
    stdout
}

/// Waits (on the nodes' events, polling under a deadline) until every node `holds` says
/// should hold `ids` does.
async fn wait_held(
    handles: &[accord_node::net::NodeHandle],
    ids: &[RecordId],
    holds: impl Fn(&accord_node::net::NodeHandle) -> bool,
) {
    let mut events: Vec<_> = handles.iter().map(|h| h.subscribe()).collect();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let done = || {
        handles.iter().filter(|h| holds(h)).all(|h| {
            ids.iter()
                .all(|id| h.store().records().contains(id).unwrap())
        })
    };
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "records were not delivered within 60 s"
        );
        let next =
            libp2p::futures::future::select_all(events.iter_mut().map(|r| Box::pin(r.recv())));
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), next).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_a_running_federation_requests_answers_and_return_updates_reach_exactly_the_members() {
    use accord_node::demo::{AGENCIES, introduce, load, start_node};
    use accord_node::net::{NetConfig, NodeHandle};
    use accord_node::workflow::{Held, Holdings, requests, returns};

    let fed = federation();
    let f = fed.path();
    // TR-JGK and GR-HCG serve their API, so the CLI works through the running nodes.
    set_api_port(f, "tr-jgk");
    set_api_port(f, "gr-hcg");
    let net = NetConfig {
        sync_interval: std::time::Duration::from_secs(2),
        ..NetConfig::default()
    };
    let mut running = Vec::new();
    for a in AGENCIES {
        running.push(start_node(load(f, a).unwrap(), net.clone()).await.unwrap());
    }
    let handles: Vec<NodeHandle> = running.iter().map(|r| r.handle.clone()).collect();
    introduce(&handles.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    let by = |agency: &str| {
        handles
            .iter()
            .find(|h| h.config().agency.as_str() == agency)
            .unwrap()
    };
    let mut apis = Vec::new();
    for a in ["TR-JGK", "GR-HCG"] {
        apis.push(
            accord_node::api::serve(by(a).clone(), &by(a).config())
                .await
                .unwrap(),
        );
    }
    let quad_member = |h: &NodeHandle| h.config().agency.as_str() != "BG-GDBP";
    let bg = by("BG-GDBP");
    let holdings = |h: &NodeHandle| {
        Holdings::new(
            h.store()
                .queries()
                .all_records()
                .unwrap()
                .into_iter()
                .map(|r| Held {
                    id: r.id,
                    record: r.record,
                    source: String::new(),
                }),
        )
    };
    let (tr, gr) = (config(f, "tr-jgk"), config(f, "gr-hcg"));

    // A request from Türkiye to Greece's focal point, and Greece's answer.
    let request = cli_ok(&[
        "request",
        "--config",
        &tr,
        "--agreement",
        "QUAD-2026",
        "--to",
        "GR-HCG",
        "--summary",
        "Who owns the vessel Example Star?",
    ])
    .await;
    let request = RecordId::new(request.trim()).unwrap();
    wait_held(&handles, &[request], quad_member).await;
    let answer = cli_ok(&[
        "respond",
        "--config",
        &gr,
        &request.to_hex(),
        "--summary",
        "A fishing company in Ayvalık.",
        "--grading",
        "B2",
    ])
    .await;
    let answer = RecordId::new(answer.trim()).unwrap();
    wait_held(&handles, &[answer], quad_member).await;
    let listed = json_lines(&cli_ok(&["requests", "--config", &tr, "--json"]).await);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "answered");
    assert_eq!(listed[0]["answers"], serde_json::json!([answer.to_hex()]));
    // Pakistan, a member, sees the exchange between two others, linked up.
    let at_pk = requests::list(&holdings(by("PK-FIA")), &by("PK-FIA").config(), now(), true);
    assert_eq!(at_pk.len(), 1);
    assert_eq!(at_pk[0].state, requests::RequestState::Answered);
    assert_eq!(at_pk[0].direction, requests::Direction::Between);
    assert!(
        requests::list(
            &holdings(by("PK-FIA")),
            &by("PK-FIA").config(),
            now(),
            false
        )
        .is_empty()
    );

    // A return case opened by Türkiye, advanced by Greece and by Türkiye.
    let victim = f.join("victim.json");
    std::fs::write(&victim, VICTIM).unwrap();
    let case = cli_ok(&[
        "return",
        "open",
        "--config",
        &tr,
        "--agreement",
        "QUAD-2026",
        "--victim-json",
        victim.to_str().unwrap(),
        "--home",
        "PK",
        "--summary",
        "Minor found near Van.",
        "--grading",
        "A2",
    ])
    .await;
    let case = RecordId::new(case.trim()).unwrap();
    wait_held(&handles, &[case], quad_member).await;
    let protected = cli_ok(&[
        "return",
        "update",
        "--config",
        &gr,
        &case.to_hex(),
        "--status",
        "protected",
        "--note",
        "Shelter place confirmed.",
    ])
    .await;
    let protected = RecordId::new(protected.trim()).unwrap();
    wait_held(&handles, &[protected], quad_member).await;
    let requested = cli_ok(&[
        "return",
        "update",
        "--config",
        &tr,
        &case.to_hex(),
        "--status",
        "travel-documents-requested",
        "--note",
        "Consulate asked for an emergency travel document.",
    ])
    .await;
    let requested = RecordId::new(requested.trim()).unwrap();
    wait_held(&handles, &[requested], quad_member).await;
    // Back is refused through the API path too.
    let o = cli(&[
        "return",
        "update",
        "--config",
        &gr,
        &case.to_hex(),
        "--status",
        "protected",
        "--note",
        "x",
    ])
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", out(&o).1);
    assert!(out(&o).1.contains("would go back"), "{}", out(&o).1);

    let cases = json_lines(&cli_ok(&["returns", "--config", &gr, "--json"]).await);
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["state"], "travel-documents-requested");
    assert_eq!(cases[0]["updates"], 2);
    assert_eq!(cases[0]["opened_by"], "TR-JGK");
    for h in handles.iter().filter(|h| quad_member(h)) {
        let c = returns::cases(&holdings(h));
        assert_eq!(c.len(), 1, "{}", h.config().agency);
        assert_eq!(c[0].state, ReturnStatus::TravelDocumentsRequested);
        // Every update holds the originator's signature and no victim.
        for (id, by_whom) in [(protected, "GR-HCG"), (requested, "TR-JGK")] {
            let stored = h.store().records().get(&id).unwrap().unwrap();
            assert_eq!(stored.record.originator.as_str(), by_whom);
            let key = secret(f, &by_whom.to_ascii_lowercase()).public_key();
            assert_eq!(*stored.envelope.signer().key(), key);
            assert!(stored.record.subjects.is_empty());
        }
    }
    // Bulgaria, connected to Türkiye under TR-BG-2026, holds none of it.
    for id in [request, answer, case, protected, requested] {
        assert!(
            !bg.store().records().contains(&id).unwrap(),
            "BG-GDBP holds {id}"
        );
    }

    for api in apis {
        api.stop().await;
    }
    for h in &handles {
        h.shutdown().await.unwrap();
    }
    for r in running {
        r.stopped().await;
    }
}
