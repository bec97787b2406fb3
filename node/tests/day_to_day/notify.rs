//! Notifications: a request to the focal point runs the notify hook; its settings are
//! checked like the rest of the node file.

use super::*;

#[test]
fn a_request_to_the_focal_point_runs_the_notify_hook() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    // each node appends its notices to a file; TR-BG-2026 lacks BG-GDBP's signature (an alarm)
    let sigs = root.path().join("agreements/tr-bg-2026.toml.sigs");
    let kept: String = std::fs::read_to_string(&sigs)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("BG-GDBP "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&sigs, kept).unwrap();
    let file = |dir: &str| root.path().join(format!("{dir}.notices"));
    // GR-HCG also POSTs each notice to a system of its own
    let (url, posted) = http_sink();
    for dir in ["tr-jgk", "gr-hcg"] {
        let toml = root.path().join(dir).join("node.toml");
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str(&format!(
            "\n[notify]\ncommand = [\"sh\", \"-c\", \"cat >> '{}'\"]\n",
            file(dir).display()
        ));
        if dir == "gr-hcg" {
            text.push_str(&format!(
                "url = \"{url}\"\nevents = [\"request\", \"return\"]\n"
            ));
        }
        std::fs::write(&toml, text).unwrap();
    }
    let (tr_file, gr_file) = (file("tr-jgk"), file("gr-hcg"));
    let mut fed = common::Federation::start_in(root, &TR_GR);
    let (tr_cfg, gr_cfg) = (
        fed.config("TR-JGK").to_owned(),
        fed.config("GR-HCG").to_owned(),
    );

    // TR-JGK asks GR-HCG's focal point: GR-HCG's hook hears of it
    let out = common::accord(&[
        "request",
        "--config",
        &tr_cfg,
        "--agreement",
        "QUAD-2026",
        "--to",
        "GR-HCG",
        "--summary",
        "Do you hold anything on the vessel Example Star?",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let request = text(&out).0.trim().to_owned();
    fed.wait_until("GR-HCG's notify hook to hear of the request", |_| {
        notices(&gr_file).iter().any(|n| n["notice"] == "request")
    });
    let n = notices(&gr_file)
        .into_iter()
        .find(|n| n["notice"] == "request")
        .unwrap();
    assert_eq!(n["id"], request.as_str());
    assert_eq!(n["from"], "TR-JGK");
    assert_eq!(n["agency"], "GR-HCG");
    assert_eq!(n["agreement"], "QUAD-2026");
    assert_eq!(
        n["summary"],
        "Do you hold anything on the vessel Example Star?"
    );
    fed.wait_until("the request to be POSTed to GR-HCG's system", |_| {
        posted.lock().unwrap().iter().any(|b| b.contains(&request))
    });

    // GR-HCG answers: TR-JGK's hook hears of the answer
    let out = common::accord(&[
        "respond",
        "--config",
        &gr_cfg,
        &request[..12],
        "--summary",
        "Seen twice off Chios.",
        "--grading",
        "B2",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    fed.wait_until("TR-JGK's notify hook to hear of the answer", |_| {
        notices(&tr_file).iter().any(|n| n["notice"] == "answer")
    });
    let n = notices(&tr_file)
        .into_iter()
        .find(|n| n["notice"] == "answer")
        .unwrap();
    assert_eq!(n["request"], request.as_str());
    assert_eq!(n["from"], "GR-HCG");

    // a victim's return case: GR-HCG hears of its opening and of a change, never of the victim
    let victim = fed.root.path().join("victim.json");
    std::fs::write(
        &victim,
        r#"{"ref": "V1", "name": "Example Rahimi", "nationality": "PK", "date_of_birth": "2009-03"}"#,
    )
    .unwrap();
    let out = common::accord(&[
        "return",
        "open",
        "--config",
        &tr_cfg,
        "--agreement",
        "QUAD-2026",
        "--victim-json",
        victim.to_str().unwrap(),
        "--home",
        "PK",
        "--summary",
        "Found near Van; family traced.",
        "--grading",
        "A2",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let case = text(&out).0.trim().to_owned();
    let out = common::accord(&[
        "return",
        "update",
        "--config",
        &tr_cfg,
        &case,
        "--status",
        "protected",
        "--note",
        "In a shelter.",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    fed.wait_until("GR-HCG's hook to hear of the case's change", |_| {
        notices(&gr_file)
            .iter()
            .any(|n| n["notice"] == "return" && n["status"] == "protected")
    });
    let returns: Vec<_> = notices(&gr_file)
        .into_iter()
        .filter(|n| n["notice"] == "return")
        .collect();
    assert!(
        returns.iter().all(|n| n["case"] == case.as_str()),
        "{returns:?}"
    );
    let all = std::fs::read_to_string(&gr_file).unwrap();
    for identifying in ["Example Rahimi", "2009-03", "Found near Van", "shelter"] {
        assert!(
            !all.contains(identifying),
            "a notice carries `{identifying}`: {all}"
        );
    }

    // the URL got only the kinds its `events` asked for
    let bodies = posted.lock().unwrap().clone();
    assert!(
        bodies.iter().any(|b| b.contains("\"notice\":\"return\"")),
        "{bodies:?}"
    );
    assert!(
        !bodies.iter().any(|b| b.contains("\"notice\":\"alarm\"")),
        "{bodies:?}"
    );

    // alarms too: the agreement not in effect, at start
    assert!(
        notices(&tr_file).iter().any(|n| n["notice"] == "alarm"
            && n["kind"] == "not-in-effect"
            && n["subject"] == "TR-BG-2026"),
        "{:?}",
        notices(&tr_file)
    );
    let _ = &mut fed;
}

#[test]
fn notify_settings_are_checked_like_the_rest_of_the_file() {
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    let toml = root.path().join("tr-jgk/node.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("\n[notify]\ncommand = []\nurl = \"https://example.invalid/x\"\nevents = [\"requests\"]\nmail = \"x\"\n");
    std::fs::write(&toml, text).unwrap();
    let out = common::accord(&["config", "check", toml.to_str().unwrap()]);
    let (_, stderr) = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in [
        "notify.command: an empty command",
        "is not an http:// URL",
        "unknown notice kind `requests`",
        "mail",
    ] {
        assert!(stderr.contains(needle), "no `{needle}` in: {stderr}");
    }
}
