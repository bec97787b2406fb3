//! Requests for information to a focal point and their answers; bad ones refused.

use super::*;

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
