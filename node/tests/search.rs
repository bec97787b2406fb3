//! Search as an analyst uses it (docs/search.md): people by names however spelled, selectors by
//! identity, words, the records linked by a shared selector, a partner's record searchable on
//! arrival, and `accord reindex` making an old store searchable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;

use common::text;
use serde_json::{Value, json};

fn config(fed: &Path, dir: &str) -> String {
    fed.join(dir).join("node.toml").display().to_string()
}

/// Publishes a draft on a stopped node; its id.
fn publish(fed: &Path, dir: &str, draft: &Value) -> String {
    let file = fed.join(format!("draft-{}.json", common::rand_suffix()));
    std::fs::write(&file, draft.to_string()).unwrap();
    let out = common::accord(&[
        "publish",
        "--config",
        &config(fed, dir),
        file.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    stdout.trim().to_owned()
}

fn draft(subjects: Value, summary: &str) -> Value {
    json!({
        "agreement": "QUAD-2026",
        "category": "smuggling-network",
        "handling": "H1",
        "grading": "B2",
        "subjects": subjects,
        "summary": summary
    })
}

/// `accord query ARGS --json` on node `dir`: each hit's (id, score, reasons).
fn search(fed: &Path, dir: &str, args: &[&str]) -> Vec<(String, u64, Vec<String>)> {
    let cfg = config(fed, dir);
    let mut all = vec!["query", "--config", &cfg, "--json"];
    all.extend_from_slice(args);
    let out = common::accord(&all);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "accord {all:?}: {stderr}");
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["record"]["id"].as_str().unwrap().to_owned(),
                v["score"].as_u64().unwrap(),
                v["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

fn ids(hits: &[(String, u64, Vec<String>)]) -> Vec<&str> {
    hits.iter().map(|(id, _, _)| id.as_str()).collect()
}

/// The reasons of the hit on `id`, joined.
fn why(hits: &[(String, u64, Vec<String>)], id: &str) -> String {
    hits.iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, _, r)| r.join(" | "))
        .unwrap_or_else(|| panic!("no hit on {id} in {hits:?}"))
}

fn refused(fed: &Path, args: &[&str]) -> String {
    let cfg = config(fed, "tr-jgk");
    let mut all = vec!["query", "--config", &cfg];
    all.extend_from_slice(args);
    let out = common::accord(&all);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "accord {all:?}: {stderr}");
    stderr
}

#[test]
fn names_and_selectors_are_found_however_they_were_typed() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let f = root.path();

    // one facilitator as four agencies would record him
    let persian = publish(
        f,
        "tr-jgk",
        &draft(
            json!([{"type": "person", "role": "facilitator", "name": "محمد رضایی", "date_of_birth": "1987-03-02"}]),
            "Organiser of crossings from Van, as recorded by the Iranian side.",
        ),
    );
    let passport = publish(
        f,
        "tr-jgk",
        &draft(
            json!([{"type": "person", "role": "facilitator", "name": "REZAEE MOHAMED"}]),
            "Travel document holder seen at the Kapıköy crossing.",
        ),
    );
    let other = publish(
        f,
        "tr-jgk",
        &draft(
            json!([{"type": "person", "role": "facilitator", "name": "Mohammad Rezvani", "date_of_birth": "1990"}]),
            "A different man with a similar name.",
        ),
    );
    let born_elsewhere = publish(
        f,
        "tr-jgk",
        &draft(
            json!([{"type": "person", "role": "facilitator", "name": "Muhammad Rezai", "date_of_birth": "1979"}]),
            "Same name, born eight years earlier.",
        ),
    );
    let greek = publish(
        f,
        "tr-jgk",
        &draft(
            json!([{"type": "person", "role": "facilitator", "name": "Γεώργιος Παπαδόπουλος"}]),
            "Boat skipper on the Samos route.",
        ),
    );
    let selectors = publish(
        f,
        "tr-jgk",
        &json!({
            "agreement": "QUAD-2026",
            "category": "financial",
            "handling": "H1",
            "grading": "B2",
            "subjects": [
                {"type": "phone", "number": "+923012345678"},
                {"type": "account", "identifier": "TR330006100519786457841326"},
                {"type": "travel-document", "kind": "passport", "number": "U1234567O", "issuing_country": "PK"},
                {"type": "vessel", "name": "KM Bintang Laut", "imo": "9074729"}
            ],
            "summary": "Payments for the Bintang Laut crossings settled through a Van exchange office."
        }),
    );
    let same_phone = publish(
        f,
        "tr-jgk",
        &draft(
            json!([{"type": "phone", "number": "+923012345678", "description": "coordinator"}]),
            "The coordinator's phone again, seen in Edirne.",
        ),
    );

    // Latin spellings find the Persian-script record; the passport form with names swapped
    let hits = search(f, "tr-jgk", &["--person", "Mohammad Rezaei"]);
    assert!(ids(&hits).contains(&persian.as_str()), "{hits:?}");
    assert!(ids(&hits).contains(&passport.as_str()), "{hits:?}");
    assert!(
        !ids(&hits).contains(&other.as_str()),
        "Rezvani is not Rezaei: {hits:?}"
    );
    let reasons = why(&hits, &persian);
    assert!(
        reasons.contains("transliterated from Arabic script"),
        "{reasons}"
    );
    assert!(
        why(&hits, &passport).contains("other order"),
        "{}",
        why(&hits, &passport)
    );

    // a year-only date of birth narrows: the man born in 1979 drops out, and the 1987 one
    // scores higher than without the date (the passport spelling, with no date, may tie it)
    let all = search(f, "tr-jgk", &["--person", "Mohammad Rezaei"]);
    assert!(ids(&all).contains(&born_elsewhere.as_str()), "{all:?}");
    let born = search(
        f,
        "tr-jgk",
        &["--person", "Mohammad Rezaei", "--born", "1987"],
    );
    assert!(!ids(&born).contains(&born_elsewhere.as_str()), "{born:?}");
    let score = |hits: &[(String, u64, Vec<String>)]| {
        hits.iter()
            .find(|(i, _, _)| *i == persian)
            .map(|(_, s, _)| *s)
            .unwrap_or_else(|| panic!("no hit on {persian} in {hits:?}"))
    };
    assert!(score(&born) > score(&all), "{all:?} {born:?}");
    assert_eq!(
        born[0].1,
        score(&born),
        "the 1987 one ranks first: {born:?}"
    );
    assert!(
        why(&born, &persian).contains("date of birth 1987 agrees"),
        "{born:?}"
    );

    // the Greek-script name by its passport spelling, and the family name alone
    let hits = search(f, "tr-jgk", &["--person", "Georgios Papadopoulos"]);
    assert_eq!(ids(&hits), vec![greek.as_str()], "{hits:?}");
    assert!(
        why(&hits, &greek).contains("transliterated from Greek"),
        "{hits:?}"
    );
    let hits = search(f, "tr-jgk", &["--person", "papadopoulos"]);
    assert_eq!(ids(&hits), vec![greek.as_str()], "{hits:?}");

    // a phone entered nationally with its country, and internationally
    let national = search(
        f,
        "tr-jgk",
        &["--phone", "0301 2345678", "--phone-country", "PK"],
    );
    let mut found = ids(&national);
    found.sort();
    let mut want = vec![selectors.as_str(), same_phone.as_str()];
    want.sort();
    assert_eq!(found, want, "{national:?}");
    assert!(
        why(&national, &selectors).contains("+923012345678"),
        "{national:?}"
    );
    let international = search(f, "tr-jgk", &["--phone", "+92 301 234 5678"]);
    assert_eq!(international.len(), 2, "{international:?}");

    // an IBAN typed with spaces; a document with the letter O; a vessel by part of its name and
    // by IMO; words of a summary
    let hits = search(
        f,
        "tr-jgk",
        &["--account", "tr33 0006 1005 1978 6457 8413 26"],
    );
    assert_eq!(ids(&hits), vec![selectors.as_str()], "{hits:?}");
    let hits = search(
        f,
        "tr-jgk",
        &["--document", "u 1234567 0", "--issuer", "PK"],
    );
    assert_eq!(ids(&hits), vec![selectors.as_str()], "{hits:?}");
    assert!(
        why(&hits, &selectors).contains("letter O is read as 0"),
        "{hits:?}"
    );
    assert!(search(f, "tr-jgk", &["--document", "U12345670", "--issuer", "IR"]).is_empty());
    let hits = search(f, "tr-jgk", &["--vessel", "bintang laut"]);
    assert_eq!(ids(&hits), vec![selectors.as_str()], "{hits:?}");
    assert!(
        why(&hits, &selectors).contains("KM Bintang Laut"),
        "{hits:?}"
    );
    let hits = search(f, "tr-jgk", &["--vessel", "IMO 9074729"]);
    assert_eq!(ids(&hits), vec![selectors.as_str()], "{hits:?}");
    let hits = search(f, "tr-jgk", &["--text", "exchange off"]);
    assert_eq!(ids(&hits), vec![selectors.as_str()], "{hits:?}");

    // exact search keeps working as before
    let out = common::accord(&[
        "query",
        "--config",
        &config(f, "tr-jgk"),
        "--subject",
        "person:REZAEE MOHAMED",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&passport[..12]) && stdout.contains("1 record(s)"),
        "{stdout}"
    );

    // the table: a score and a reason line under each hit
    let out = common::accord(&[
        "query",
        "--config",
        &config(f, "tr-jgk"),
        "--person",
        "Rezaei Mohammad",
    ]);
    let (stdout, _) = text(&out);
    assert!(stdout.starts_with("SCORE"), "{stdout}");
    assert!(stdout.contains("why: name `محمد رضایی`"), "{stdout}");

    // `accord show` lists the records that share a selector
    let out = common::accord(&["show", "--config", &config(f, "tr-jgk"), &selectors[..12]]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("shares a selector with 1 other record(s):")
            && stdout.contains(&same_phone[..12])
            && stdout.contains("phone +923012345678"),
        "{stdout}"
    );

    // bad terms are refused by name, nothing searched
    let e = refused(f, &["--phone", "0301 2345678"]);
    assert!(
        e.contains("--phone") && e.contains("give its country"),
        "{e}"
    );
    let e = refused(f, &["--account", "TR34 0006 1005 1978 6457 8413 26"]);
    assert!(e.contains("--account") && e.contains("checksum"), "{e}");
    let e = refused(f, &["--vessel", "9074728"]);
    assert!(e.contains("check digit"), "{e}");
    let e = refused(f, &["--born", "1987"]);
    assert!(e.contains("--born") && e.contains("--person"), "{e}");
    let e = refused(f, &["--person", "Ali", "--phone", "+923012345678"]);
    assert!(e.contains("one thing at a time"), "{e}");
    let e = refused(f, &["--person", "Ali", "--born", "87"]);
    assert!(e.contains("--born"), "{e}");
}

#[test]
fn reindex_makes_a_store_from_before_search_searchable() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let f = root.path();
    let id = publish(
        f,
        "tr-jgk",
        &draft(
            json!([{"type": "person", "role": "facilitator", "name": "Шамиль Юсупов"}]),
            "Recruiter on the northern route.",
        ),
    );
    // as a store written before search: no name or word index, no version
    {
        let cfg = accord_node::demo::load(f, "tr-jgk").unwrap();
        let store = accord_node::store::Store::open(&cfg.data_dir).unwrap();
        store.index().forget_search_index().unwrap();
    }
    let e = refused(f, &["--person", "Shamil Yusupov"]);
    assert!(e.contains("accord reindex"), "{e}");

    let out = common::accord(&["reindex", "--config", &config(f, "tr-jgk")]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("reindexed 1 record(s)"), "{stdout}");
    let hits = search(f, "tr-jgk", &["--person", "Shamil Yusupov"]);
    assert_eq!(ids(&hits), vec![id.as_str()], "{hits:?}");
    // exact subject search and the lists still work after the rebuild
    let hits = search(f, "tr-jgk", &["--text", "recruiter"]);
    assert_eq!(ids(&hits), vec![id.as_str()], "{hits:?}");
}

const TR_GR: [(&str, &str); 2] = [("tr-jgk", "TR-JGK"), ("gr-hcg", "GR-HCG")];

#[test]
fn a_partners_record_is_searchable_by_its_variants_on_arrival() {
    let mut fed = common::Federation::start(&TR_GR);
    let (tr, gr) = (fed.node("TR-JGK"), fed.node("GR-HCG"));
    let (status, body) = fed.post(
        gr,
        &draft(
            json!([{"type": "person", "role": "facilitator", "name": "Γεώργιος Παπαδόπουλος", "date_of_birth": "1981"},
                   {"type": "phone", "number": "+306912345678"}]),
            "Skipper of a speedboat landing on Lesvos.",
        ),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    fed.wait_until("TR-JGK to hold GR-HCG's record", |f| {
        f.ids_api("TR-JGK").contains(&id)
    });
    // through the API of the running node
    let (status, found) = fed.get(tr, "/v1/search?person=Giorgos%20Papadopoulos&born=1981-05");
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["hits"][0]["record"]["id"], id.as_str(), "{found}");
    let reasons = found["hits"][0]["reasons"].to_string();
    assert!(reasons.contains("Greek"), "{reasons}");
    // through the CLI, which asks the running node
    let hits = search(
        fed.root.path(),
        "tr-jgk",
        &["--phone", "691 234 5678", "--phone-country", "GR"],
    );
    assert_eq!(ids(&hits), vec![id.as_str()], "{hits:?}");
    // a bad term through the API is a 400 naming it
    let (status, body) = fed.get(tr, "/v1/search?phone=0691");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("--phone"),
        "{body}"
    );
}
