//! Victims' return cases: moving forward, listings that never identify the victim, victim
//! data only where the agreement permits it.

use super::*;

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
