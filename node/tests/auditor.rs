//! What an auditor receives after the three real-world sequences that broke version-1 bundles
//! (issue 19): a purge of an agency record and a liaison officer's record with the same seq, a
//! key rotation, and a certificate revoked with a record signed after the revocation. Each is
//! driven through the `accord` commands an operator runs (delegate, import, key rotate/accept,
//! export, audit export) on the demo federation's node files, with the store opened in between
//! only to stand in for what the running node and its clock do (publishing at given times, the
//! purge of records whose retention ended). For each: the honest bundle verifies with
//! `accord verify` and with the log (`accord audit verify --bundle`), and each alteration —
//! made by an outsider (unsigned) or by a dishonest exporter who signs and logs it — is refused
//! naming what is wrong. docs/verify_bundle.py, written from the docs alone, reaches the same
//! verdict as `accord verify` on every one of these bundles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::{Path, PathBuf};

use accord_config::NodeConfig;
use accord_node::draft::parse_draft;
use accord_node::publish::publish_draft;
use accord_node::store::{Delivery, Store};
use accord_protocol::audit::{AuditEvent, Receipt, sha256, sign_receipt};
use accord_protocol::delegation::certificate_id;
use accord_protocol::envelope::sign_delegated;
use accord_protocol::{AgencyId, AgreementId, Envelope, RecordId, SecretKey, Seq, Timestamp};
use common::{accord, text};
use serde_json::Value;

const QUAD: &str = "QUAD-2026";

fn federation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    accord_node::demo::write_federation(dir.path()).unwrap();
    dir
}

fn cfg_path(fed: &Path, who: &str) -> String {
    fed.join(who).join("node.toml").to_str().unwrap().to_owned()
}

fn key_of(fed: &Path, who: &str) -> SecretKey {
    SecretKey::from_key_file(&std::fs::read_to_string(fed.join(who).join("agency.key")).unwrap())
        .unwrap()
}

/// One agency's configuration, key and store, opened as the node opens them.
struct Node {
    cfg: NodeConfig,
    key: SecretKey,
    store: Store,
}

fn open(fed: &Path, who: &str) -> Node {
    let path = fed.join(who).join("node.toml");
    let mut cfg = accord_config::load_node(&path, &|p: &Path| std::fs::read(p))
        .unwrap_or_else(|e| panic!("{e}"));
    let key = key_of(fed, who);
    accord_node::agreements::prepare(&mut cfg, Some(&key.public_key()), None).unwrap();
    let store = Store::open(&cfg.data_dir).unwrap();
    store.bind_agency(&cfg.agency).unwrap();
    Node { cfg, key, store }
}

fn now() -> Timestamp {
    accord_node::clock::now()
}

fn ago(secs: i64) -> Timestamp {
    now().plus_secs(-secs)
}

fn draft(summary: &str) -> accord_node::draft::Draft {
    let json = serde_json::json!({
        "agreement": QUAD, "category": "alert", "handling": "H1", "grading": "B2",
        "summary": summary,
    });
    parse_draft(json.to_string().as_bytes()).unwrap()
}

/// Publishes as the running node does at `at` (the record's `created` time).
fn publish_at(n: &Node, summary: &str, at: Timestamp) -> RecordId {
    publish_draft(&n.store, &n.cfg, &n.key, &draft(summary), at).unwrap()
}

/// Runs `accord`, asserting its exit status; returns stdout and stderr.
fn run(args: &[&str], ok: bool) -> (String, String) {
    let out = accord(args);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.success(),
        ok,
        "accord {args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    (stdout, stderr)
}

/// `accord export` of QUAD-2026 into `name` beside the federation.
fn export_bundle(fed: &Path, who: &str, name: &str) -> PathBuf {
    let out = fed.join(name);
    run(
        &[
            "export",
            "--config",
            &cfg_path(fed, who),
            "--agreement",
            QUAD,
            "--out",
            out.to_str().unwrap(),
        ],
        true,
    );
    out
}

/// `accord audit export` into `name` beside the federation.
fn export_audit(fed: &Path, who: &str, name: &str) -> PathBuf {
    let out = fed.join(name);
    run(
        &[
            "audit",
            "export",
            "--config",
            &cfg_path(fed, who),
            "--out",
            out.to_str().unwrap(),
        ],
        true,
    );
    out
}

/// `accord verify FILE`: (verified, stdout). docs/verify_bundle.py, the verifier written from
/// the docs alone, must reach the same verdict on every bundle, honest or altered.
fn verify(bundle: &Path) -> (bool, String) {
    let out = accord(&["verify", bundle.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(
        stderr.lines().all(|l| !l.contains("panicked")),
        "accord verify panicked: {stderr}"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/verify_bundle.py");
    let py = std::process::Command::new("python3")
        .arg(&script)
        .arg(bundle)
        .output()
        .expect("python3 is needed for this test (with the `cryptography` package)");
    let (py_out, py_err) = text(&py);
    assert!(
        py_err.is_empty(),
        "docs/verify_bundle.py failed (is the `cryptography` package installed?): {py_err}"
    );
    assert_eq!(
        py.status.success(),
        out.status.success(),
        "accord verify and docs/verify_bundle.py disagree on {}\n--- accord\n{stdout}\n--- \
         verify_bundle.py\n{py_out}",
        bundle.display()
    );
    (out.status.success(), stdout)
}

/// `accord audit verify DIR --bundle FILE`: (verified, stdout).
fn audit_verify(dir: &Path, bundle: &Path) -> (bool, String) {
    let out = accord(&[
        "audit",
        "verify",
        dir.to_str().unwrap(),
        "--bundle",
        bundle.to_str().unwrap(),
    ]);
    (out.status.success(), text(&out).0)
}

/// The bundle's lines as JSON.
fn lines(bundle: &Path) -> Vec<Value> {
    std::fs::read_to_string(bundle)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// One line as the writer writes it: `type` first.
fn line_text(v: &Value) -> String {
    let map = v.as_object().unwrap();
    let mut parts = vec![format!("\"type\":{}", map["type"])];
    for (k, v) in map.iter().filter(|(k, _)| *k != "type") {
        parts.push(format!("{}:{v}", Value::String(k.clone())));
    }
    format!("{{{}}}", parts.join(","))
}

/// Writes `lines` (without a signature line) to `name`, signed by `signer` when given (a
/// dishonest exporter) or left with the original, now wrong, signature line (an outsider).
fn write_altered(
    fed: &Path,
    name: &str,
    lines: &[Value],
    original_signature: &Value,
    signer: Option<&SecretKey>,
) -> PathBuf {
    let mut body = String::new();
    for l in lines {
        body.push_str(&line_text(l));
        body.push('\n');
    }
    let signature = match signer {
        None => original_signature.clone(),
        Some(key) => {
            use sha2::Digest as _;
            let digest: [u8; 32] = sha2::Sha256::digest(body.as_bytes()).into();
            let sig = key.sign_tagged(accord_node::bundle::BUNDLE_DOMAIN, &digest);
            serde_json::json!({"type": "signature", "agency": original_signature["agency"],
                "sha256": hex::encode(digest), "signature": hex::encode(sig)})
        }
    };
    body.push_str(&line_text(&signature));
    body.push('\n');
    let path = fed.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// Splits a bundle into its lines before the signature and the signature line.
fn body_and_signature(bundle: &Path) -> (Vec<Value>, Value) {
    let mut all = lines(bundle);
    let signature = all.pop().unwrap();
    assert_eq!(signature["type"], "signature");
    (all, signature)
}

/// Sets the header's count of `what` lines to what `lines` holds.
fn fix_count(lines: &mut [Value], what: &str) {
    let n = lines.iter().filter(|l| l["type"] == what).count();
    lines[0][format!("{what}s")] = Value::from(n);
}

/// What a dishonest exporter does after signing an altered bundle: logs it as an export (in
/// its own, properly chained log) and exports the log again.
fn log_as_exported(fed: &Path, who: &str, bundle: &Path, audit_name: &str) -> PathBuf {
    {
        let n = open(fed, who);
        let bytes = std::fs::read(bundle).unwrap();
        let l = lines(bundle);
        let count = |what: &str| l.iter().filter(|x| x["type"] == what).count() as u64;
        n.store
            .log()
            .audit(
                now(),
                vec![AuditEvent::Export {
                    agreement: AgreementId::new(QUAD).unwrap(),
                    records: count("record"),
                    bundle: sha256(&bytes),
                    tombstones: Some(count("tombstone")),
                    version: Some(2),
                }],
            )
            .unwrap();
        n.store.flush().unwrap();
    }
    export_audit(fed, who, audit_name)
}

/// The statement of a rotation file (`accord key rotate --out`), as JSON.
fn statement_of(rotation: &Path) -> Value {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(rotation).unwrap()).unwrap();
    serde_json::from_str(file["statement"].as_str().unwrap()).unwrap()
}

/// The officer's key and a certificate TR-JGK issues to it through `accord delegate issue`.
fn delegate(fed: &Path) -> (SecretKey, accord_protocol::audit::Signed, PathBuf) {
    let officer = SecretKey::from_seed(&[77; 32]);
    let cert_path = fed.join("officer.cert");
    let until = now().plus_secs(30 * 86_400).to_string();
    let from = ago(3 * 3600).to_string();
    run(
        &[
            "delegate",
            "issue",
            "--config",
            &cfg_path(fed, "tr-jgk"),
            "--delegate-key",
            &officer.public_key().to_string(),
            "--holder",
            "Liaison officer, Embassy of Türkiye in Athens",
            "--host-country",
            "GR",
            "--agreement",
            QUAD,
            "--category",
            "alert",
            "--from",
            &from,
            "--until",
            &until,
            "--out",
            cert_path.to_str().unwrap(),
        ],
        true,
    );
    let cert = accord_protocol::audit::Signed::from_line(
        std::fs::read_to_string(&cert_path).unwrap().trim_end(),
    )
    .unwrap();
    (officer, cert, cert_path)
}

/// An officer's record, numbered `seq` in the officer's own stream, created at `created`,
/// signed on the officer's device and written as a signed file.
fn officer_record(
    fed: &Path,
    officer: &SecretKey,
    cert: &accord_protocol::audit::Signed,
    seq: u64,
    created: Timestamp,
) -> (Envelope, PathBuf) {
    let json = serde_json::json!({
        "agreement": QUAD, "category": "alert", "handling": "H1", "grading": "B2",
        "created": created.to_string(), "summary": format!("Officer's report {seq}."),
    });
    let record = parse_draft(json.to_string().as_bytes())
        .unwrap()
        .into_record(
            &AgencyId::new("TR-JGK").unwrap(),
            Seq::new(seq).unwrap(),
            created,
        )
        .unwrap();
    let env = sign_delegated(&record, officer, cert.clone()).unwrap();
    let path = fed.join(format!("officer-{seq}.signed"));
    accord_node::files::write_signed(&path, &env).unwrap();
    (env, path)
}

#[test]
fn a_purge_of_two_streams_with_one_seq_exports_a_bundle_that_verifies() {
    let fed = federation();
    let f = fed.path();
    let tr_cfg = cfg_path(f, "tr-jgk");
    // the agency's node publishes seq 1 and 2 of its own stream
    let (a1, a2) = {
        let tr = open(f, "tr-jgk");
        (
            publish_at(&tr, "Boat departure expected from Çeşme.", ago(7200)),
            publish_at(&tr, "Second boat seen off Ayvalık.", ago(7100)),
        )
    };
    // the officer's seq 1, in the officer's stream, taken in with `accord import`
    let (officer, cert, _) = delegate(f);
    let (o1, o1_file) = officer_record(f, &officer, &cert, 1, ago(3600));
    run(
        &["import", "--config", &tr_cfg, o1_file.to_str().unwrap()],
        true,
    );
    // the retention of both records ends: the purge removes them, leaving two tombstones
    // "TR-JGK seq 1", one per stream (the purge job's clock is the store's `now`)
    {
        let tr = open(f, "tr-jgk");
        let gone = tr
            .store
            .records()
            .purge(&[a1, o1.id()], now(), "retention of QUAD-2026 ended")
            .unwrap();
        assert_eq!(gone.len(), 2);
        let streams: Vec<String> = gone
            .iter()
            .map(|t| t.stream.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(streams[0].split('/').next(), Some("TR-JGK"));
        assert_ne!(streams[0], streams[1], "two streams: {streams:?}");
    }
    let bundle = export_bundle(f, "tr-jgk", "honest.bundle");
    let (ok, out) = verify(&bundle);
    assert!(ok, "{out}");
    assert!(out.contains("TR-JGK seq 2"), "{out}");
    assert!(
        out.ends_with("1 record: 1 ok, 0 failed; 2 tombstones; 0 gaps; bundle verified\n"),
        "{out}"
    );
    let audit = export_audit(f, "tr-jgk", "audit-honest");
    let (ok, out) = audit_verify(&audit, &bundle);
    assert!(ok, "{out}");
    assert!(out.contains("bundles: 1 compared"), "{out}");

    // an outsider drops the highest record of TR-JGK's stream and fixes the count
    let (body, signature) = body_and_signature(&bundle);
    let mut dropped: Vec<Value> = body
        .iter()
        .filter(|l| l["id"] != a2.to_hex().as_str() || l["type"] != "record")
        .cloned()
        .collect();
    fix_count(&mut dropped, "record");
    let outsider = write_altered(f, "dropped.bundle", &dropped, &signature, None);
    let (ok, out) = verify(&outsider);
    assert!(!ok);
    assert!(
        out.contains("the bundle's signature") && out.contains("lines were added, removed"),
        "{out}"
    );
    // the exporter itself does it, signs it and logs it: the bundle verifies alone (nothing
    // in it is inconsistent), but the log it exported shows the record it held
    let tr_key = key_of(f, "tr-jgk");
    let signed = write_altered(
        f,
        "dropped-signed.bundle",
        &dropped,
        &signature,
        Some(&tr_key),
    );
    assert!(verify(&signed).0);
    let (ok, out) = audit_verify(&audit, &signed);
    assert!(!ok);
    assert!(out.contains("no export entry names its SHA-256"), "{out}");
    let logged = log_as_exported(f, "tr-jgk", &signed, "audit-dropped");
    let (ok, out) = audit_verify(&logged, &signed);
    assert!(!ok);
    assert!(
        out.contains(&format!("that the bundle lacks: {}", a2.short())),
        "{out}"
    );

    // a phantom tombstone beyond the last seq, signed and logged by the exporter
    let (body, signature) = body_and_signature(&bundle);
    let mut phantom = body.clone();
    let mut t = body
        .iter()
        .find(|l| l["type"] == "tombstone" && l["stream"] == "TR-JGK")
        .unwrap()
        .clone();
    t["seq"] = Value::from("3");
    t["id"] = Value::from(hex::encode([9u8; 32]));
    phantom.push(t);
    fix_count(&mut phantom, "tombstone");
    let outsider = write_altered(f, "phantom.bundle", &phantom, &signature, None);
    assert!(!verify(&outsider).0);
    let signed = write_altered(
        f,
        "phantom-signed.bundle",
        &phantom,
        &signature,
        Some(&tr_key),
    );
    let logged = log_as_exported(f, "tr-jgk", &signed, "audit-phantom");
    let (ok, out) = audit_verify(&logged, &signed);
    assert!(!ok);
    assert!(
        out.contains("1 tombstone(s) without a purge entry in the log"),
        "{out}"
    );
}

#[test]
fn after_a_key_rotation_old_and_new_records_verify_and_a_forged_rotation_is_named() {
    let fed = federation();
    let f = fed.path();
    let tr_cfg = cfg_path(f, "tr-jgk");
    {
        let tr = open(f, "tr-jgk");
        publish_at(&tr, "First report, old key.", ago(7200));
        publish_at(&tr, "Second report, old key.", ago(7100));
    }
    // the operator rotates with the node stopped
    let new_key = f.join("agency.key.new");
    run(&["keygen", "--out", new_key.to_str().unwrap()], true);
    let rotation = f.join("rotation.json");
    let since = ago(3600).to_string();
    let (stdout, _) = run(
        &[
            "key",
            "rotate",
            "--config",
            &tr_cfg,
            "--new",
            new_key.to_str().unwrap(),
            "--since",
            &since,
            "--out",
            rotation.to_str().unwrap(),
        ],
        true,
    );
    assert!(stdout.contains("TR-JGK rotates from"), "{stdout}");
    // until the new key is in place, nothing signs with the old one
    let refused = f.join("refused.bundle");
    let (_, stderr) = run(
        &[
            "export",
            "--config",
            &tr_cfg,
            "--agreement",
            QUAD,
            "--out",
            refused.to_str().unwrap(),
        ],
        false,
    );
    assert!(stderr.contains("was rotated to"), "{stderr}");
    assert!(!refused.exists());
    std::fs::copy(&new_key, f.join("tr-jgk").join("agency.key")).unwrap();
    {
        let tr = open(f, "tr-jgk");
        // the new key signs nothing dated before it took over
        let early = publish_draft(&tr.store, &tr.cfg, &tr.key, &draft("Backdated."), ago(5000));
        assert!(
            matches!(
                early,
                Err(accord_node::publish::PublishError::BeforeKey { .. })
            ),
            "{early:?}"
        );
        publish_at(&tr, "Third report, new key.", ago(60));
    }
    let bundle = export_bundle(f, "tr-jgk", "rotated.bundle");
    let (ok, out) = verify(&bundle);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("before {since}")) && out.contains(&format!("from {since}")),
        "the key history is shown: {out}"
    );
    assert!(out.contains("3 records: 3 ok"), "{out}");
    let audit = export_audit(f, "tr-jgk", "audit-rotated");
    let (ok, out) = audit_verify(&audit, &bundle);
    assert!(ok, "{out}");

    // a partner keeps the statement once its node lists the new key
    let gr_cfg = cfg_path(f, "gr-hcg");
    let old_pub = statement_of(&rotation)["previous"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_pub = key_of(f, "tr-jgk").public_key().to_string();
    let gr_toml = std::fs::read_to_string(&gr_cfg).unwrap();
    assert!(gr_toml.contains(&old_pub));
    std::fs::write(&gr_cfg, gr_toml.replace(&old_pub, &new_pub)).unwrap();
    let (stdout, _) = run(
        &[
            "key",
            "accept",
            "--config",
            &gr_cfg,
            rotation.to_str().unwrap(),
        ],
        true,
    );
    assert!(stdout.contains("kept the rotation of TR-JGK"), "{stdout}");
    // an altered statement is refused
    let forged_file = f.join("forged-rotation.json");
    std::fs::write(
        &forged_file,
        std::fs::read_to_string(&rotation)
            .unwrap()
            .replace(&since[..4], "2025"),
    )
    .unwrap();
    let (_, stderr) = run(
        &[
            "key",
            "accept",
            "--config",
            &gr_cfg,
            forged_file.to_str().unwrap(),
        ],
        false,
    );
    assert!(stderr.contains("does not verify"), "{stderr}");

    // the rotation line forged (its previous-key signature by another key), re-signed
    let tr_key = key_of(f, "tr-jgk");
    let (body, signature) = body_and_signature(&bundle);
    let mut forged = body.clone();
    let at = forged.iter().position(|l| l["type"] == "rotation").unwrap();
    let statement = forged[at]["statement"].as_str().unwrap().to_owned();
    let other = SecretKey::from_seed(&[5; 32]);
    forged[at]["previous_signature"] = Value::from(hex::encode(accord_protocol::rotation::attest(
        statement.as_bytes(),
        &other,
    )));
    let signed = write_altered(
        f,
        "forged-rotation.bundle",
        &forged,
        &signature,
        Some(&tr_key),
    );
    let (ok, out) = verify(&signed);
    assert!(!ok);
    assert!(
        out.contains(
            "key rotation: the previous key's signature of the rotation statement does not verify"
        ),
        "{out}"
    );
    assert!(out.contains("3 records: 1 ok, 2 failed"), "{out}");
    // the rotation line deleted: the old key's records fail, and the log names what is missing
    let mut deleted: Vec<Value> = body
        .into_iter()
        .filter(|l| l["type"] != "rotation")
        .collect();
    fix_count(&mut deleted, "rotation");
    let signed = write_altered(f, "no-rotation.bundle", &deleted, &signature, Some(&tr_key));
    let (ok, out) = verify(&signed);
    assert!(!ok);
    assert!(out.contains("3 records: 1 ok, 2 failed"), "{out}");
    let logged = log_as_exported(f, "tr-jgk", &signed, "audit-no-rotation");
    let (ok, out) = audit_verify(&logged, &signed);
    assert!(!ok);
    assert!(
        out.contains("key rotation") && out.contains("but the bundle lacks it"),
        "{out}"
    );
}

#[test]
fn a_revoked_certificate_travels_in_the_bundle_and_is_applied() {
    let fed = federation();
    let f = fed.path();
    let tr_cfg = cfg_path(f, "tr-jgk");
    let (officer, cert, cert_path) = delegate(f);
    let (_, o1_file) = officer_record(f, &officer, &cert, 1, ago(3600));
    run(
        &["import", "--config", &tr_cfg, o1_file.to_str().unwrap()],
        true,
    );
    // the device is lost: the agency revokes from a moment after the first record
    let revoked = ago(1800).to_string();
    run(
        &[
            "delegate",
            "revoke",
            cert_path.to_str().unwrap(),
            "--config",
            &tr_cfg,
            "--from",
            &revoked,
            "--reason",
            "device lost",
            "--out",
            f.join("officer.revocation").to_str().unwrap(),
        ],
        true,
    );
    // a record signed after the revocation is refused by the agency's node
    let (o2, o2_file) = officer_record(f, &officer, &cert, 2, ago(600));
    let (_, stderr) = run(
        &["import", "--config", &tr_cfg, o2_file.to_str().unwrap()],
        false,
    );
    assert!(stderr.contains("revoked"), "{stderr}");
    let bundle = export_bundle(f, "tr-jgk", "revoked.bundle");
    let (ok, out) = verify(&bundle);
    assert!(ok, "{out}");
    let cert_id = certificate_id(&cert);
    assert!(
        out.contains(&format!(
            "revoked TR-JGK certificate {cert_id} from {revoked}"
        )),
        "{out}"
    );
    let audit = export_audit(f, "tr-jgk", "audit-revoked");
    assert!(audit_verify(&audit, &bundle).0);

    // the refused record slipped into the bundle by its exporter fails, naming the revocation
    let tr_key = key_of(f, "tr-jgk");
    let (body, signature) = body_and_signature(&bundle);
    let mut added = body.clone();
    let last_record = added.iter().rposition(|l| l["type"] == "record").unwrap();
    added.insert(
        last_record + 1,
        serde_json::json!({"type": "record", "id": o2.id().to_hex(),
            "envelope": base64_of(&o2.encode())}),
    );
    fix_count(&mut added, "record");
    let signed = write_altered(f, "added.bundle", &added, &signature, Some(&tr_key));
    let (ok, out) = verify(&signed);
    assert!(!ok);
    assert!(
        out.contains(&format!("FAIL {}", o2.id())) && out.contains("revoked the delegation"),
        "{out}"
    );
    // the revocation deleted (and the record added): the record now verifies alone, so only
    // the exporter's signature and its log tell
    let mut hidden: Vec<Value> = added
        .into_iter()
        .filter(|l| l["type"] != "revocation")
        .collect();
    fix_count(&mut hidden, "revocation");
    let outsider = write_altered(f, "hidden.bundle", &hidden, &signature, None);
    assert!(!verify(&outsider).0);
    let signed = write_altered(
        f,
        "hidden-signed.bundle",
        &hidden,
        &signature,
        Some(&tr_key),
    );
    assert!(verify(&signed).0, "nothing in the bundle alone shows it");
    let logged = log_as_exported(f, "tr-jgk", &signed, "audit-hidden");
    let (ok, out) = audit_verify(&logged, &signed);
    assert!(!ok);
    assert!(
        out.contains(&format!("revocation of certificate {cert_id}"))
            && out.contains("but the bundle lacks it")
            && out.contains(&format!("had not published or received under {QUAD}")),
        "{out}"
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_delivered_entry_without_its_send_is_refused() {
    let fed = federation();
    let f = fed.path();
    {
        let tr = open(f, "tr-jgk");
        let gr_key = key_of(f, "gr-hcg");
        let record = publish_at(&tr, "Boat departure expected.", ago(600));
        // a log whose send entry was left out (chained and signed as if it never existed)
        let agreement = AgreementId::new(QUAD).unwrap();
        let gr = AgencyId::new("GR-HCG").unwrap();
        let receipt = sign_receipt(
            &Receipt {
                record,
                agreement: agreement.clone(),
                receiver: gr.clone(),
                received_at: ago(500),
            },
            &gr_key,
        )
        .unwrap();
        let event = AuditEvent::Delivered {
            record,
            agreement,
            to: gr.clone(),
            receipt: sha256(&receipt.bytes),
        };
        tr.store
            .outbox()
            .delivered(
                ago(500),
                vec![Delivery {
                    outbox: None,
                    record,
                    receiver: gr,
                    receipt,
                }],
                vec![event],
            )
            .unwrap();
    }
    let audit = export_audit(f, "tr-jgk", "audit-no-send");
    let out = accord(&["audit", "verify", audit.to_str().unwrap()]);
    let (stdout, _) = text(&out);
    assert!(!out.status.success());
    assert!(
        stdout.contains("to GR-HCG, but no earlier entry sent it there"),
        "{stdout}"
    );
}

/// A key rotation on running nodes (`accord run` processes): the partner that keeps the
/// statement exports a bundle in which the rotating agency's records before and after the
/// rotation all verify.
#[test]
fn after_a_rotation_on_running_nodes_the_partners_bundle_verifies() {
    let mut fed = common::Federation::start(&[("tr-jgk", "TR-JGK"), ("bg-gdbp", "BG-GDBP")]);
    let root = fed.root.path().to_owned();
    let (tr, bg) = (fed.node("TR-JGK"), fed.node("BG-GDBP"));
    let draft = |summary: &str| {
        serde_json::json!({"agreement": "TR-BG-2026", "category": "alert", "handling": "H1",
            "grading": "B2", "summary": summary})
    };
    for s in ["Crossing point used at night.", "Second crossing expected."] {
        let out = fed.publish_cli("TR-JGK", &draft(s));
        assert!(out.status.success(), "{:?}", text(&out));
    }
    fed.wait_until("BG to hold TR's first two records", |f| {
        f.ids_api("BG-GDBP").len() == 2
    });

    // TR rotates with its node stopped, then starts with the new key
    fed.stop_one(tr);
    let tr_cfg = fed.config("TR-JGK").to_owned();
    let new_key = root.join("tr-new.key");
    run(&["keygen", "--out", new_key.to_str().unwrap()], true);
    let rotation = root.join("tr-rotation.json");
    run(
        &[
            "key",
            "rotate",
            "--config",
            &tr_cfg,
            "--new",
            new_key.to_str().unwrap(),
            "--out",
            rotation.to_str().unwrap(),
        ],
        true,
    );
    let old_pub = key_of(&root, "tr-jgk").public_key().to_string();
    std::fs::copy(&new_key, root.join("tr-jgk").join("agency.key")).unwrap();
    let new_pub = key_of(&root, "tr-jgk").public_key().to_string();
    // BG, at the agreed time: the new key in its node file, the statement kept
    fed.stop_one(bg);
    let bg_cfg = fed.config("BG-GDBP").to_owned();
    let text_before = std::fs::read_to_string(&bg_cfg).unwrap();
    std::fs::write(&bg_cfg, text_before.replace(&old_pub, &new_pub)).unwrap();
    run(
        &[
            "key",
            "accept",
            "--config",
            &bg_cfg,
            rotation.to_str().unwrap(),
        ],
        true,
    );
    fed.restart(tr);
    fed.restart(bg);
    // the new key signs records dated from the statement's `since` (the second after the
    // rotation) on
    let since = Timestamp::parse(statement_of(&rotation)["since"].as_str().unwrap()).unwrap();

    fed.wait_until("the clock to reach the rotation's `since`", |_| {
        now() >= since
    });
    let out = fed.publish_cli("TR-JGK", &draft("Third crossing, new key."));
    assert!(out.status.success(), "{:?}", text(&out));
    fed.wait_until("BG to hold TR's record signed with the new key", |f| {
        f.ids_api("BG-GDBP").len() == 3
    });

    // the partner's export (asked of its running node) and TR's own both verify
    for (who, cfg) in [("bg", &bg_cfg), ("tr", &tr_cfg)] {
        let bundle = root.join(format!("{who}-tr-bg.bundle"));
        run(
            &[
                "export",
                "--config",
                cfg,
                "--agreement",
                "TR-BG-2026",
                "--out",
                bundle.to_str().unwrap(),
            ],
            true,
        );
        let (ok, out) = verify(&bundle);
        assert!(ok, "{who}: {out}");
        assert!(out.contains("3 records: 3 ok"), "{who}: {out}");
        assert!(
            out.contains(&format!("key  TR-JGK {old_pub} before")),
            "{who}: {out}"
        );
    }
    fed.stop();
}
