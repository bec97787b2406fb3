//! Hit / no-hit matching between loopback nodes (issue 23, docs/matching.md): a selector a
//! partner holds is a hit, and the request for information it leads to reaches that partner's
//! focal point; a selector nobody holds is a miss, and the holder's log counts the lookup
//! without the selector; a non-member is refused (at the connection when it is no known
//! agency, by the agreement when it is one); over quota is refused; a past epoch no longer
//! matches; a victim's selector under an agreement that forbids victim data never matches.
//!
//! PK-FIA, TR-JGK and GR-HCG are members of MATCH-2026 (written by the test, with a
//! `[matching]` clause); IR-FARAJA is not, though it is a known agency of theirs under
//! QUAD-2026.

use std::path::Path;
use std::time::Duration;

use accord_node::matching::asker::{Outcome, wanted};
use accord_protocol::matching::{Epoch, MatchKey, Selector, SelectorKind};
use accord_protocol::wire::{LookupRequest, MatchSetRequest, RejectCode};
use accord_protocol::{AgencyId, AgreementId, Message, SecretKey};
use accord_testkit::{
    RawOutcome, RawPeer, TestNode, connect_all, demo_key, load, peer_of, quad_copy, wait_for_listen,
};

const MEMBERS: [&str; 3] = ["PK-FIA", "TR-JGK", "GR-HCG"];

fn id(s: &str) -> AgreementId {
    AgreementId::new(s).unwrap()
}

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

fn dir_of(agency: &str) -> String {
    agency.to_ascii_lowercase()
}

/// MATCH-2026 among the three members, `lookups_per_day` a day, victim data not allowed.
fn match_agreement(fed: &Path, lookups_per_day: u32) {
    accord_testkit::matching_agreement(fed, "MATCH-2026", &MEMBERS, lookups_per_day);
}

/// TR-JGK's record under MATCH-2026: a suspect's phone and passport.
fn suspect_record() -> String {
    serde_json::json!({
        "agreement": "MATCH-2026",
        "category": "smuggling-network",
        "handling": "H1",
        "grading": "B2",
        "subjects": [
            { "type": "phone", "number": "+923012345678" },
            {
                "type": "person", "role": "suspect", "name": "Mohammad Rezaei",
                "date_of_birth": "1987",
                "documents": [{ "kind": "passport", "number": "AB1234567", "issuing_country": "PK" }]
            }
        ],
        "summary": "Organiser of crossings; phone and passport seen in Van."
    })
    .to_string()
}

/// TR-JGK's record under QUAD-2026 (which allows victim data): a victim's passport.
fn victim_record() -> String {
    serde_json::json!({
        "agreement": "QUAD-2026",
        "category": "victim-identification",
        "handling": "H2",
        "grading": "A2",
        "subjects": [{
            "type": "person", "role": "victim", "name": "Example Rahimi",
            "date_of_birth": "2009-03",
            "documents": [{ "kind": "passport", "number": "VV7654321", "issuing_country": "PK" }]
        }],
        "victim_data_purpose": "identification",
        "summary": "Minor found near Van."
    })
    .to_string()
}

/// Waits (on the node's events, at most 30 s) until `node` has confirmed MATCH-2026's text
/// with every peer of `peers`.
async fn confirmed(node: &TestNode, peers: &[&str]) {
    let mut events = node.handle.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = node.handle.status().await.unwrap();
        let with = status
            .agreements
            .get(&id("MATCH-2026"))
            .map(|a| a.confirmed_with.clone())
            .unwrap_or_default();
        if peers.iter().all(|p| with.contains(&agency(p))) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never confirmed MATCH-2026 with {peers:?}: {with:?}",
            node.agency
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
    }
}

fn entries(node: &TestNode) -> Vec<String> {
    node.handle
        .store()
        .log()
        .audit_entries()
        .unwrap()
        .iter()
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .collect()
}

fn outcome_at<'a>(
    report: &'a accord_node::matching::asker::MatchReport,
    holder: &str,
) -> &'a Outcome {
    &report
        .results
        .iter()
        .find(|r| r.holder == agency(holder))
        .unwrap_or_else(|| panic!("no result from {holder}: {report:?}"))
        .outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_selector_is_a_hit_that_leads_to_a_request_and_a_miss_leaves_no_selector() {
    let dir = quad_copy();
    match_agreement(dir.path(), 100);
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    let suspect = tr.publish(&suspect_record()).await;
    connect_all(&[&pk, &tr, &gr]).await;
    confirmed(&pk, &["TR-JGK", "GR-HCG"]).await;

    // the phone TR-JGK holds, typed nationally in Pakistan: a hit at TR-JGK, a miss at GR-HCG
    // (which received the record under MATCH-2026, but partners' records do not take part)
    let phone = wanted("phone:0301 2345678", None, Some("PK")).unwrap();
    let report = pk
        .handle
        .match_wanted(&phone, Some(&id("MATCH-2026")), None)
        .await
        .unwrap();
    assert_eq!(report.looked_up, "+923012345678");
    assert_eq!(outcome_at(&report, "TR-JGK"), &Outcome::Hit, "{report:?}");
    assert_eq!(outcome_at(&report, "GR-HCG"), &Outcome::Miss, "{report:?}");
    let hit = report
        .results
        .iter()
        .find(|r| r.holder == agency("TR-JGK"))
        .unwrap();
    assert_eq!(
        hit.focal_point.as_deref(),
        Some("Focal point of TR-JGK (fp@tr-jgk.example)")
    );

    // the same person spelt otherwise, with the year of birth, and the passport: hits too
    for thing in ["person:Muhammad Rezai", "document:pk:ab 1234567"] {
        let w = wanted(thing, Some(1987), None).unwrap();
        let r = pk
            .handle
            .match_wanted(&w, Some(&id("MATCH-2026")), None)
            .await
            .unwrap();
        assert_eq!(outcome_at(&r, "TR-JGK"), &Outcome::Hit, "{thing}: {r:?}");
    }
    // the same name born another year is not
    let w = wanted("person:Muhammad Rezai", Some(1990), None).unwrap();
    let r = pk
        .handle
        .match_wanted(&w, Some(&id("MATCH-2026")), None)
        .await
        .unwrap();
    assert_eq!(outcome_at(&r, "TR-JGK"), &Outcome::Miss, "{r:?}");

    // the hit's request for information, sent as pre-filled, reaches TR-JGK addressed to it;
    // it names the tag, not the number (every member receives it), and TR-JGK resolves it
    let prefill = hit.request.clone().expect("a hit offers a request");
    assert_eq!(prefill.to, agency("TR-JGK"));
    assert_eq!(hit.tags.len(), 1, "{hit:?}");
    assert!(
        prefill.summary.contains(&hit.tags[0]),
        "{}",
        prefill.summary
    );
    assert!(
        !prefill.summary.contains("923012345678"),
        "{}",
        prefill.summary
    );
    let request = accord_node::workflow::requests::request_draft(
        accord_node::workflow::requests::RequestSpec {
            agreement: prefill.agreement.clone(),
            to: prefill.to.clone(),
            summary: prefill.summary.clone(),
            categories_of_interest: vec![],
            subjects: vec![],
            handling: accord_protocol::HandlingCode::H1,
            handling_restriction: None,
            grading: accord_protocol::Grading::parse("X4").unwrap(),
        },
    );
    let rfi = pk
        .handle
        .publish(request, accord_node::clock::now())
        .await
        .unwrap();
    let mut events = tr.handle.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !tr.holds(&rfi) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request never reached TR-JGK"
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
    }
    let held = tr.handle.store().records().get(&rfi).unwrap().unwrap();
    assert_eq!(held.record.addressed_to, Some(agency("TR-JGK")));
    assert!(held.record.summary.contains("was a hit at TR-JGK"));
    let epoch = Epoch::parse(&hit.epoch).unwrap();
    let tag = accord_protocol::matching::Tag::from_hex(&hit.tags[0]).unwrap();
    let found = tr
        .handle
        .resolve_tags(id("MATCH-2026"), epoch, vec![tag])
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].value, "+923012345678");
    assert_eq!(found[0].records, [suspect.to_string()]);
    // GR-HCG holds no seed-made tag of it: its node resolves nothing
    let none = gr
        .handle
        .resolve_tags(id("MATCH-2026"), epoch, vec![tag])
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");

    // a number nobody holds: a miss everywhere
    let none = wanted("phone:+923019999999", None, None).unwrap();
    let report = pk
        .handle
        .match_wanted(&none, Some(&id("MATCH-2026")), None)
        .await
        .unwrap();
    assert!(
        report.results.iter().all(|r| r.outcome == Outcome::Miss),
        "{report:?}"
    );

    // the holder's log counts each lookup with its asker and never holds a selector
    let tr_log = entries(&tr);
    let answered: Vec<&String> = tr_log
        .iter()
        .filter(|e| e.contains("\"kind\":\"lookup-answered\""))
        .collect();
    assert!(answered.len() >= 5, "{answered:?}");
    assert!(answered.iter().all(|e| e.contains("\"from\":\"PK-FIA\"")));
    assert!(tr_log.iter().any(|e| e.contains("\"kind\":\"match-set\"")));
    for secret in ["923012345678", "923019999999", "AB1234567", "Rezai"] {
        assert!(
            !tr_log.iter().any(|e| e.contains(secret)),
            "TR-JGK's log holds {secret}"
        );
        assert!(
            !entries(&gr)
                .iter()
                .any(|e| e.contains(secret) && e.contains("lookup")),
            "GR-HCG's log holds {secret}"
        );
    }
    // the asker's log holds each lookup made and its result, by kind, never the selector
    let pk_log = entries(&pk);
    let made = pk_log
        .iter()
        .filter(|e| e.contains("\"kind\":\"lookup-made\""))
        .count();
    let results: Vec<&String> = pk_log
        .iter()
        .filter(|e| e.contains("\"kind\":\"lookup-result\""))
        .collect();
    assert_eq!(made, results.len());
    assert!(made >= 10, "two holders, five lookups: {made}");
    assert!(results.iter().any(|e| e.contains("\"hits\":1")));
    assert!(
        !pk_log
            .iter()
            .any(|e| e.contains("923019999999") && e.contains("lookup"))
    );

    // every log with its matching entries verifies offline, each other's exports as partners
    let mut configs = Vec::new();
    for n in [pk, tr, gr] {
        configs.push(n.stop().await);
    }
    let out = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for cfg in &configs {
        let store = accord_node::store::Store::open_waiting(&cfg.data_dir, Duration::from_secs(10))
            .unwrap();
        let key = demo_key(dir.path(), &dir_of(cfg.agency.as_str()));
        let target = out.path().join(cfg.agency.as_str());
        accord_node::audit::export(&store, cfg, &key, accord_node::clock::now(), &target).unwrap();
        dirs.push(target);
    }
    for d in &dirs {
        let partners: Vec<_> = dirs.iter().filter(|p| *p != d).cloned().collect();
        let report = accord_node::audit::verify_export(d, &partners);
        assert!(report.is_ok(), "{}:\n{report}", d.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_members_over_quota_past_epochs_and_victims_never_match() {
    let dir = quad_copy();
    match_agreement(dir.path(), 3);
    let pk = TestNode::start(load(dir.path(), "pk-fia")).await;
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    tr.publish(&suspect_record()).await;
    tr.publish(&victim_record()).await;
    connect_all(&[&pk, &tr]).await;
    confirmed(&pk, &["TR-JGK"]).await;
    let tr_only = Some(&id("MATCH-2026"));

    // a victim's passport under an agreement that forbids victim data: never a hit, while the
    // suspect's passport of the same kind is
    let victim = wanted("document:PK:VV7654321", None, None).unwrap();
    let r = pk
        .handle
        .match_wanted(&victim, tr_only, None)
        .await
        .unwrap();
    assert_eq!(outcome_at(&r, "TR-JGK"), &Outcome::Miss, "{r:?}");
    let suspect = wanted("document:PK:AB1234567", None, None).unwrap();
    let r = pk
        .handle
        .match_wanted(&suspect, tr_only, None)
        .await
        .unwrap();
    assert_eq!(outcome_at(&r, "TR-JGK"), &Outcome::Hit, "{r:?}");

    // the quota is 3 selectors a day: the third lookup fits, the fourth is refused
    let phone = wanted("phone:+923012345678", None, None).unwrap();
    let r = pk.handle.match_wanted(&phone, tr_only, None).await.unwrap();
    assert_eq!(outcome_at(&r, "TR-JGK"), &Outcome::Hit, "{r:?}");
    let r = pk.handle.match_wanted(&phone, tr_only, None).await.unwrap();
    match outcome_at(&r, "TR-JGK") {
        Outcome::Refused { code, detail } => {
            assert_eq!(*code, RejectCode::OverQuota.code());
            assert!(
                detail.contains("3 of its 3") && detail.contains("renews at"),
                "{detail}"
            );
        }
        other => panic!("the fourth lookup was not refused: {other:?}"),
    }
    assert!(
        entries(&tr)
            .iter()
            .any(|e| e.contains("\"kind\":\"reject\"") && e.contains("\"code\":17")),
        "the refusal is in the holder's log"
    );
    // the count survives a restart of the holder
    let cfg = tr.stop().await;
    let tr = TestNode::start(cfg).await;
    connect_all(&[&pk, &tr]).await;
    confirmed(&pk, &["TR-JGK"]).await;
    let r = pk.handle.match_wanted(&phone, tr_only, None).await.unwrap();
    assert!(
        matches!(outcome_at(&r, "TR-JGK"), Outcome::Refused { code: 17, .. }),
        "{r:?}"
    );

    // IR-FARAJA is a known agency (QUAD-2026) but no member of MATCH-2026: refused and logged
    let tr_addr = wait_for_listen(&tr.handle).await[0].clone();
    let now = accord_node::clock::now();
    let epoch = Epoch::containing(now, 1).unwrap();
    let ir_key = demo_key(dir.path(), "ir-faraja");
    let (_, blinded) = accord_protocol::matching::Lookup::blind(
        &mut rand_core::OsRng,
        &[Selector::new(SelectorKind::Phone, "+923012345678").unwrap()],
    )
    .unwrap();
    let lookup = |epoch: Epoch| {
        Message::Lookup(LookupRequest {
            agreement: id("MATCH-2026"),
            epoch,
            blinded: blinded.clone(),
        })
        .encode()
        .unwrap()
    };
    let mut ir = RawPeer::new(&ir_key);
    match ir.request(peer_of(&tr), &tr_addr, lookup(epoch)).await {
        RawOutcome::Response(Message::Refused(r)) => {
            assert_eq!(r.code, RejectCode::NotMember, "{}", r.detail);
        }
        other => panic!("a non-member's lookup was answered: {other:?}"),
    }
    let set_request = Message::MatchSetRequest(MatchSetRequest {
        agreement: id("MATCH-2026"),
        epoch,
        from: 0,
    })
    .encode()
    .unwrap();
    match ir.request(peer_of(&tr), &tr_addr, set_request).await {
        RawOutcome::Response(Message::Refused(r)) => assert_eq!(r.code, RejectCode::NotMember),
        other => panic!("a non-member got the set: {other:?}"),
    }
    assert!(
        entries(&tr)
            .iter()
            .any(|e| { e.contains("\"kind\":\"reject\"") && e.contains("\"from\":\"IR-FARAJA\"") })
    );
    // an agency no node knows is refused at the connection: nothing is answered at all
    let mut stranger = RawPeer::new(&SecretKey::from_seed(&[0x5a; 32]));
    match stranger
        .request(peer_of(&tr), &tr_addr, lookup(epoch))
        .await
    {
        RawOutcome::Failed(_) => {}
        RawOutcome::Response(m) => panic!("a stranger's lookup was answered: {m:?}"),
    }

    // a past epoch: the holder refuses to evaluate under it, and what its set held then
    // matches nothing of the current epoch's
    let pk_stopped = pk.stop().await;
    let mut as_pk = RawPeer::new(&demo_key(dir.path(), "pk-fia"));
    let yesterday = Epoch::containing(now.plus_secs(-86_400), 1).unwrap();
    as_pk.confirm_agreement(&tr, "MATCH-2026").await;
    match as_pk
        .request(peer_of(&tr), &tr_addr, lookup(yesterday))
        .await
    {
        RawOutcome::Response(Message::Refused(r)) => assert_eq!(r.code, RejectCode::WrongEpoch),
        other => panic!("a past epoch's lookup was answered: {other:?}"),
    }
    let seed = std::fs::read(tr.cfg.data_dir.join(accord_node::matching::SEED_FILE)).unwrap();
    let seed: [u8; 32] = seed.try_into().unwrap();
    let phone_selector = &phone.selectors[0];
    let old_tag = MatchKey::derive(&seed, &id("MATCH-2026"), yesterday)
        .unwrap()
        .tag(phone_selector)
        .unwrap();
    let agreement = tr.handle.config().agreements[&id("MATCH-2026")].clone();
    let current = accord_node::matching::holder_set(
        tr.handle.store(),
        &agency("TR-JGK"),
        &agreement,
        &seed,
        epoch,
    )
    .unwrap()
    .unwrap();
    let now_tag = MatchKey::derive(&seed, &id("MATCH-2026"), epoch)
        .unwrap()
        .tag(phone_selector)
        .unwrap();
    assert!(
        current.contains(&now_tag),
        "the current set holds the phone"
    );
    assert!(
        !current.contains(&old_tag),
        "yesterday's tag matches nothing today"
    );
    drop(pk_stopped);
    tr.stop().await;
}
