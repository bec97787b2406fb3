//! Two-person release in the console (docs/workflows.md §4): under a bilateral agreement whose
//! `[release]` clause covers H2 records, an analyst's H2 record is held, not sent; the analyst
//! sees it waiting and cannot approve it; the head of unit, enrolled as a releaser through the
//! running node's API, approves it from the queue and it reaches the partner; a second draft
//! is declined with a reason the analyst then reads as text.

use super::*;

const TR_GR: [(&str, &str); 2] = [("tr-jgk", "TR-JGK"), ("gr-hcg", "GR-HCG")];

/// Writes `REL-2026` between TR-JGK and GR-HCG with a `[release]` clause, signed by both with
/// their demo keys, and adds it to both node files.
fn release_agreement(root: &std::path::Path) {
    let text = common::REL_2026;
    std::fs::write(root.join("agreements/rel-2026.toml"), text).unwrap();
    let hash = accord_protocol::agreement::agreement_hash(text.as_bytes());
    let mut sigs = String::new();
    for (dir, agency) in TR_GR {
        let key = accord_protocol::SecretKey::from_key_file(
            &std::fs::read_to_string(root.join(dir).join("agency.key")).unwrap(),
        )
        .unwrap();
        let sig = accord_protocol::agreement::sign_agreement(&key, &hash);
        sigs.push_str(&accord_protocol::agreement::signature_line(
            &accord_protocol::AgencyId::new(agency).unwrap(),
            &sig,
        ));
        let node = root.join(dir).join("node.toml");
        let t = std::fs::read_to_string(&node).unwrap();
        let moved = t.replacen(
            "agreements = [",
            "agreements = [\"../agreements/rel-2026.toml\", ",
            1,
        );
        assert_ne!(t, moved);
        std::fs::write(&node, moved).unwrap();
    }
    std::fs::write(root.join("agreements/rel-2026.toml.sigs"), sigs).unwrap();
}

/// `accord ARGS` with `input` and a newline on its standard input.
fn with_stdin(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("ACCORD_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{input}").unwrap();
    child.wait_with_output().unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let out = common::accord(args);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "accord {args:?}: {stdout}{stderr}");
    stdout
}

async fn publish_h2(b: &Browser, base: &str, summary: &str) -> String {
    b.c().goto(&format!("{base}/publish")).await.unwrap();
    b.select("#agreement", "REL-2026").await;
    b.select("#category", "alert").await;
    b.select("#handling", "H2").await;
    b.fill("#summary-input", summary).await;
    b.click_and_wait("#preview-button").await;
    b.click_and_wait("#sign").await;
    b.text("#publish-error").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_releaser_approves_from_the_queue_and_the_author_reads_a_refusal() {
    let _one = ONE_AT_A_TIME.lock().await;
    let root = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(root.path()).unwrap();
    release_agreement(root.path());
    // TR-JGK's notify hook appends each notice to a file
    let notices_file = root.path().join("tr-jgk.notices");
    let toml = root.path().join("tr-jgk/node.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!(
        "\n[notify]\ncommand = [\"sh\", \"-c\", \"cat >> '{}'; echo >> '{}'\"]\nevents = [\"release\"]\n",
        notices_file.display(),
        notices_file.display()
    ));
    std::fs::write(&toml, text).unwrap();
    let mut fed = common::Federation::start_in(root, &TR_GR);
    let tr = fed.node("TR-JGK");
    let base = format!("http://{}", fed.nodes[tr].api);
    let dir = fed.root.path().to_owned();
    let cfg = fed.config("TR-JGK").to_owned();

    // the head of unit's own key, a releaser's certificate for it and its enrolment, all
    // through the running node
    let key_file = dir.join("head.key");
    let public = run_ok(&["keygen", "--out", key_file.to_str().unwrap()]);
    let public = public
        .split_whitespace()
        .find(|w| w.starts_with("ed25519:"))
        .unwrap_or_else(|| panic!("keygen printed no key: {public}"))
        .to_owned();
    let cert = dir.join("head.cert");
    run_ok(&[
        "delegate",
        "issue",
        "--config",
        &cfg,
        "--role",
        "releaser",
        "--delegate-key",
        &public,
        "--holder",
        "Head of unit, Jandarma",
        "--host-country",
        "TR",
        "--agreement",
        "REL-2026",
        "--category",
        "alert",
        "--handling",
        "H2",
        "--handling",
        "H3",
        "--until",
        "2030-06-30T23:59:59Z",
        "--out",
        cert.to_str().unwrap(),
    ]);
    let enrolled = run_ok(&[
        "approvals",
        "enrol",
        "--config",
        &cfg,
        "--name",
        "hakan",
        "--key",
        key_file.to_str().unwrap(),
        "--certificate",
        cert.to_str().unwrap(),
    ]);
    assert!(enrolled.contains("enrolled hakan"), "{enrolled}");
    add_user(&fed, "TR-JGK", "ayse", "analyst", PASSWORD);
    add_user(&fed, "TR-JGK", "hakan", "focal-point", PASSWORD);

    // the analyst's H2 alert is held, not sent
    let b = Browser::start().await;
    b.log_in(&base, "ayse", PASSWORD).await;
    let said = publish_h2(&b, &base, "Informant: departure from Çeşme on Friday").await;
    assert!(said.contains("held for release"), "{said}");
    b.c().goto(&format!("{base}/approvals")).await.unwrap();
    assert_eq!(b.count("section.held[data-state=waiting]").await, 1);
    assert_eq!(
        b.count("button[id^=approve-]").await,
        0,
        "an analyst not enrolled decides nothing, least of all their own draft"
    );
    let held_before = fed.ids_api("GR-HCG").len();

    // the head of unit approves it from the queue; it reaches Greece
    b.log_in(&base, "hakan", PASSWORD).await;
    b.c().goto(&format!("{base}/approvals")).await.unwrap();
    assert!(b.text("#releaser").await.contains("Head of unit"));
    b.shot("approvals").await;
    b.click_and_wait("button[id^=approve-]").await;
    let done = b.text("#approvals-done").await;
    assert!(done.contains("released as record"), "{done}");
    let record = done
        .split_whitespace()
        .find(|w| w.len() == 64)
        .unwrap_or_else(|| panic!("no record id in {done}"))
        .to_owned();
    fed.wait_until("GR-HCG to hold the released record", |f| {
        f.ids_api("GR-HCG").contains(&record)
    });
    assert_eq!(fed.ids_api("GR-HCG").len(), held_before + 1);

    // a second draft, declined with a reason carrying markup: the author reads it as text
    b.log_in(&base, "ayse", PASSWORD).await;
    let said = publish_h2(&b, &base, "Undercover: vessel watched at Ayvalık").await;
    assert!(said.contains("held for release"), "{said}");
    b.log_in(&base, "hakan", PASSWORD).await;
    b.c().goto(&format!("{base}/approvals")).await.unwrap();
    b.click_and_wait("button[id^=decline-]").await;
    assert!(
        b.text("#approvals-error").await.contains("say why"),
        "a decline without a reason is refused"
    );
    let reason = "<b>Too early</b>: the operation runs";
    b.fill("input[id^=reason-]", reason).await;
    b.click_and_wait("button[id^=decline-]").await;
    assert!(b.text("#approvals-done").await.contains("never leaves"));
    b.log_in(&base, "ayse", PASSWORD).await;
    b.c().goto(&format!("{base}/approvals")).await.unwrap();
    assert!(
        b.text("section.held[data-state=declined] .outcome")
            .await
            .contains(reason)
    );
    assert_eq!(
        b.count("section.held b").await,
        0,
        "the reason is text, not markup"
    );
    assert_eq!(b.count("section.held[data-state=released]").await, 1);
    b.close().await;

    // the notify hook heard every step, naming the author and the releaser, never the text
    let notices = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&notices_file)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    fed.wait_until("the notify hook to hear of the decline", |_| {
        notices().iter().any(|n| n["step"] == "declined")
    });
    let heard = notices();
    let steps: Vec<&str> = heard.iter().map(|n| n["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["held", "released", "held", "declined"], "{heard:?}");
    assert!(heard.iter().all(|n| n["notice"] == "release"));
    assert_eq!(heard[0]["author"], "ayse");
    assert_eq!(heard[1]["by"], "hakan");
    assert_eq!(heard[1]["record"], record.as_str());
    let all = std::fs::read_to_string(&notices_file).unwrap();
    assert!(
        !all.contains("Too early") && !all.contains("Informant"),
        "{all}"
    );

    // withdrawing the released H2 record is itself an H2 record: held for the releasers too
    let out = common::accord(&[
        "withdraw",
        &record,
        "--reason",
        "Source burnt",
        "--config",
        &cfg,
    ]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("held for release"), "{stderr}");
    let waiting = run_ok(&["approvals", "--config", &cfg]);
    assert!(
        waiting.contains("waiting") && waiting.contains("by the operator"),
        "{waiting}"
    );
    let held_id = waiting.split_whitespace().next().unwrap().to_owned();
    // approving at the command line takes the releaser's own password: the API token alone
    // approves nothing
    let approve = |password: &str| {
        with_stdin(
            &[
                "approvals",
                "approve",
                &held_id,
                "--as",
                "hakan",
                "--password-stdin",
                "--config",
                &cfg,
            ],
            password,
        )
    };
    let out = approve("not hakan's password");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("password"), "{stderr}");
    let out = approve(PASSWORD);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let withdrawal = stdout
        .split_whitespace()
        .find(|w| w.len() == 64)
        .unwrap_or_else(|| panic!("no record in {stdout}"))
        .to_owned();
    fed.wait_until("GR-HCG to hold the withdrawal", |f| {
        f.ids_api("GR-HCG").contains(&withdrawal)
    });
    for (agency, status) in fed.stop() {
        assert!(status.success(), "{agency} exited with {status}");
    }
}
