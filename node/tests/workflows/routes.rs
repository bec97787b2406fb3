//! The routes report: flows counted, withdrawn records left out, its XML well formed.

use super::*;

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
