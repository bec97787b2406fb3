//! The worked example of docs/auditing.md, checked against the code and by its own rules.

use super::*;

// ---- the worked example of docs/auditing.md ------------------------------------------------

const TR_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const GR_SEED: [u8; 32] = [2; 32];
/// The record of docs/protocol.md's `minimal` vector.
const RECORD: &str = "3005cf094fd41e60e522a9b45e301caf4fd260919027d657cd432c73f280dd52";

fn tr_key() -> SecretKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(TR_SEED, &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

struct Example {
    entries: Vec<Vec<u8>>,
    receipt: Signed,
    checkpoint: Signed,
}

/// The page's example, built with the code.
fn example() -> Example {
    let tr = agency("TR-JGK");
    let quad = agreement("QUAD-2026");
    let record: RecordId = RECORD.parse().unwrap();
    let receipt = sign_receipt(
        &Receipt {
            record,
            agreement: quad.clone(),
            receiver: agency("GR-HCG"),
            received_at: ts("2026-11-28T09:30:02Z"),
        },
        &SecretKey::from_seed(&GR_SEED),
    )
    .unwrap();
    let events = [
        (
            "2026-11-28T09:00:00Z",
            AuditEvent::Key {
                public_key: tr_key().public_key(),
            },
        ),
        (
            "2026-11-28T09:30:00Z",
            AuditEvent::Publish {
                record,
                agreement: quad.clone(),
                seq: accord_protocol::Seq::FIRST,
                withdraws: None,
                by: None,
            },
        ),
        (
            "2026-11-28T09:30:01Z",
            AuditEvent::Send {
                record,
                agreement: quad.clone(),
                originator: tr.clone(),
                to: agency("GR-HCG"),
                // the policy fields of the `minimal` record
                content: Some(alert_content("2026-11-28T09:30:00Z")),
            },
        ),
        (
            "2026-11-28T09:30:02Z",
            AuditEvent::Delivered {
                record,
                agreement: quad.clone(),
                to: agency("GR-HCG"),
                receipt: sha256(&receipt.bytes),
            },
        ),
    ];
    let mut entries = Vec::new();
    let mut prev = Digest32::ZERO;
    for (i, (time, event)) in events.into_iter().enumerate() {
        let bytes = AuditEntry {
            agency: tr.clone(),
            index: i as u64,
            prev,
            time: ts(time),
            event,
        }
        .encode()
        .unwrap();
        prev = entry_hash(&bytes);
        entries.push(bytes);
    }
    let checkpoint = sign_checkpoint(
        &Checkpoint {
            agency: tr,
            count: entries.len() as u64,
            head: prev,
            time: ts("2026-11-28T09:35:00Z"),
        },
        &tr_key(),
    )
    .unwrap();
    Example {
        entries,
        receipt,
        checkpoint,
    }
}

fn wrap(key: &str, hex: &str) -> String {
    hex.as_bytes()
        .chunks(64)
        .map(|c| format!("{key}: {}\n", std::str::from_utf8(c).unwrap()))
        .collect()
}

/// The page's ```` ```audit-vector ```` blocks as the code makes them.
fn example_blocks() -> String {
    let ex = example();
    let mut out = String::new();
    out.push_str("```audit-vector\nvector: keys\n");
    out.push_str(&format!("TR-JGK seed: {TR_SEED}\n"));
    out.push_str(&format!("TR-JGK public key: {}\n", tr_key().public_key()));
    out.push_str(&format!("GR-HCG seed: {}\n", hex::encode(GR_SEED)));
    out.push_str(&format!(
        "GR-HCG public key: {}\n",
        SecretKey::from_seed(&GR_SEED).public_key()
    ));
    out.push_str("```\n");
    for (i, bytes) in ex.entries.iter().enumerate() {
        out.push_str(&format!("```audit-vector\nvector: entry {i}\n"));
        out.push_str(&format!("entry: {}\n", String::from_utf8_lossy(bytes)));
        out.push_str(&wrap(
            "hashed",
            &hex::encode([AUDIT_DOMAIN, bytes.as_slice()].concat()),
        ));
        out.push_str(&format!("hash: {}\n```\n", entry_hash(bytes)));
    }
    for (name, s, domain) in [
        ("receipt", &ex.receipt, RECEIPT_DOMAIN),
        ("checkpoint", &ex.checkpoint, CHECKPOINT_DOMAIN),
    ] {
        out.push_str(&format!("```audit-vector\nvector: {name}\n"));
        out.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(&s.bytes)));
        out.push_str(&wrap(
            "signed message",
            &hex::encode([domain, s.bytes.as_slice()].concat()),
        ));
        out.push_str(&wrap("signature", &hex::encode(s.signature)));
        if name == "receipt" {
            out.push_str(&format!("sha256: {}\n", sha256(&s.bytes)));
        }
        out.push_str(&format!("line: {}\n```\n", s.to_line()));
    }
    // the next hour's slot entry, and the slot checkpoint partners are given of it
    let slot = 2_993_100; // 2026-11-28T10:00:00Z: 1795860000 s / 600
    let slot_entry = AuditEntry {
        agency: agency("TR-JGK"),
        index: ex.entries.len() as u64,
        prev: entry_hash(ex.entries.last().unwrap()),
        time: ts("2026-11-28T10:00:00Z"),
        event: AuditEvent::Slot { slot },
    }
    .encode()
    .unwrap();
    out.push_str("```audit-vector\nvector: slot entry\n");
    out.push_str(&format!(
        "entry: {}\n",
        String::from_utf8_lossy(&slot_entry)
    ));
    out.push_str(&wrap(
        "hashed",
        &hex::encode([AUDIT_DOMAIN, slot_entry.as_slice()].concat()),
    ));
    out.push_str(&format!("hash: {}\n```\n", entry_hash(&slot_entry)));
    let s = sign_slot_checkpoint(
        &SlotCheckpoint {
            agency: agency("TR-JGK"),
            slot,
            head: entry_hash(&slot_entry),
            time: ts("2026-11-28T10:00:00Z"),
        },
        &tr_key(),
    )
    .unwrap();
    out.push_str("```audit-vector\nvector: slot checkpoint\n");
    out.push_str(&format!(
        "slot checkpoint: {}\n",
        String::from_utf8_lossy(&s.bytes)
    ));
    out.push_str(&wrap(
        "signed message",
        &hex::encode([SLOT_CHECKPOINT_DOMAIN, s.bytes.as_slice()].concat()),
    ));
    out.push_str(&wrap("signature", &hex::encode(s.signature)));
    out.push_str(&format!("line: {}\n```\n", s.to_line()));
    // entry 2 as this accord writes it, and the entry of GR-HCG's log that stores the record
    for (name, bytes) in batch_entries(&ex) {
        out.push_str(&format!("```audit-vector\nvector: {name}\n"));
        out.push_str(&format!("entry: {}\n", String::from_utf8_lossy(&bytes)));
        out.push_str(&wrap(
            "hashed",
            &hex::encode([AUDIT_DOMAIN, bytes.as_slice()].concat()),
        ));
        out.push_str(&format!("hash: {}\n```\n", entry_hash(&bytes)));
    }
    out
}

/// The example's entry 2 as a `send-batch` (what this accord writes for the same hand-over),
/// and GR-HCG's `receive-batch` of the record, as the first entry of a log.
fn batch_entries(ex: &Example) -> [(&'static str, Vec<u8>); 2] {
    let record: RecordId = RECORD.parse().unwrap();
    let send = AuditEntry {
        agency: agency("TR-JGK"),
        index: 2,
        prev: entry_hash(&ex.entries[1]),
        time: ts("2026-11-28T09:30:01Z"),
        event: AuditEvent::SendBatch {
            agreement: agreement("QUAD-2026"),
            to: agency("GR-HCG"),
            records: vec![SentRecord {
                record,
                originator: agency("TR-JGK"),
                content: alert_content("2026-11-28T09:30:00Z"),
            }],
        },
    };
    let receive = AuditEntry {
        agency: agency("GR-HCG"),
        index: 0,
        prev: Digest32::ZERO,
        time: ts("2026-11-28T09:30:02Z"),
        event: AuditEvent::ReceiveBatch {
            agreement: agreement("QUAD-2026"),
            from: agency("TR-JGK"),
            records: vec![accord_protocol::audit::ReceivedRecord {
                record,
                originator: agency("TR-JGK"),
            }],
        },
    };
    [
        ("send-batch entry", send.encode().unwrap()),
        ("receive-batch entry", receive.encode().unwrap()),
    ]
}

fn page() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/auditing.md")).unwrap()
}

/// Every ```` ```audit-vector ```` block of the page as written, concatenated.
fn page_blocks() -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in page().lines() {
        if line.trim() == "```audit-vector" {
            inside = true;
            out.push_str("```audit-vector\n");
        } else if inside && line.trim() == "```" {
            inside = false;
            out.push_str("```\n");
        } else if inside {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// The page's blocks as `key: value` maps (wrapped values joined), by their `vector` line.
fn page_vectors() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut current: Option<BTreeMap<String, String>> = None;
    for line in page_blocks().lines() {
        if line == "```audit-vector" {
            current = Some(BTreeMap::new());
        } else if line == "```" {
            let v = current.take().unwrap();
            out.insert(v["vector"].clone(), v);
        } else if let Some(v) = current.as_mut() {
            let (k, val) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad vector line {line}"));
            v.entry(k.to_owned())
                .and_modify(|e: &mut String| e.push_str(val))
                .or_insert_with(|| val.to_owned());
        }
    }
    out
}

#[test]
fn the_worked_example_matches_the_code() {
    let expected = example_blocks();
    assert_eq!(
        page_blocks(),
        expected,
        "docs/auditing.md's audit-vector blocks differ from the code; the code makes:\n{expected}"
    );
}

#[test]
fn the_worked_example_checks_by_its_own_rules() {
    // independent of how the page was made: each stated value follows from the stated bytes
    let v = page_vectors();
    let tr_pk = tr_key().public_key();
    assert_eq!(v["keys"]["TR-JGK public key"], tr_pk.to_string());
    assert_eq!(
        hex::encode(&hex::decode(&v["entry 0"]["hashed"]).unwrap()[..AUDIT_DOMAIN.len()]),
        "6163636f72642f61756469742f763100"
    );
    let mut prev = Digest32::ZERO.to_string();
    for i in 0..4 {
        let e = &v[&format!("entry {i}")];
        let bytes = e["entry"].as_bytes();
        let entry = AuditEntry::decode(bytes).unwrap();
        assert_eq!(entry.index, i);
        assert_eq!(entry.prev.to_string(), prev);
        assert_eq!(
            hex::decode(&e["hashed"]).unwrap(),
            [AUDIT_DOMAIN, bytes].concat()
        );
        prev = entry_hash(bytes).to_string();
        assert_eq!(e["hash"], prev);
    }
    let keys = |a: &AgencyId| match a.as_str() {
        "TR-JGK" => Some(tr_pk),
        "GR-HCG" => Some(SecretKey::from_seed(&GR_SEED).public_key()),
        _ => None,
    };
    let receipt = Signed::from_line(&v["receipt"]["line"]).unwrap();
    assert_eq!(receipt.bytes, v["receipt"]["receipt"].as_bytes());
    verify_receipt(&receipt, keys).unwrap();
    assert_eq!(v["receipt"]["sha256"], sha256(&receipt.bytes).to_string());
    assert!(v["entry 3"]["entry"].contains(&v["receipt"]["sha256"]));
    let checkpoint = Signed::from_line(&v["checkpoint"]["line"]).unwrap();
    let c = verify_checkpoint(&checkpoint, keys).unwrap();
    assert_eq!((c.count, c.head.to_string()), (4, prev.clone()));
    // the slot entry follows entry 3; the slot checkpoint names its hash, and its slot is the
    // entry's time in 10-minute slots
    let e = &v["slot entry"];
    let slot_entry = AuditEntry::decode(e["entry"].as_bytes()).unwrap();
    assert_eq!((slot_entry.index, slot_entry.prev.to_string()), (4, prev));
    assert_eq!(
        hex::decode(&e["hashed"]).unwrap(),
        [AUDIT_DOMAIN, e["entry"].as_bytes()].concat()
    );
    assert_eq!(e["hash"], entry_hash(e["entry"].as_bytes()).to_string());
    let signed = Signed::from_line(&v["slot checkpoint"]["line"]).unwrap();
    assert_eq!(
        hex::decode(&v["slot checkpoint"]["signed message"]).unwrap(),
        [b"accord/slot-checkpoint/v1\0".as_slice(), &signed.bytes].concat()
    );
    let sc = verify_slot_checkpoint(&signed, keys).unwrap();
    assert_eq!(sc.head.to_string(), e["hash"]);
    assert_eq!(
        slot_entry.event,
        AuditEvent::Slot {
            slot: u64::try_from(slot_entry.time.unix()).unwrap() / 600
        }
    );
    assert_eq!(sc.slot, 2_993_100);
    // the `send-batch` says what entry 2 says, at the same place in the log
    let e = &v["send-batch entry"];
    let batch = AuditEntry::decode(e["entry"].as_bytes()).unwrap();
    let single = AuditEntry::decode(v["entry 2"]["entry"].as_bytes()).unwrap();
    assert_eq!(
        (batch.index, batch.prev, batch.time),
        (2, single.prev, single.time)
    );
    assert_eq!(batch.event.sent(), single.event.sent());
    assert_eq!(e["hash"], entry_hash(e["entry"].as_bytes()).to_string());
    let e = &v["receive-batch entry"];
    let received = AuditEntry::decode(e["entry"].as_bytes()).unwrap();
    let got = received.event.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].record.to_string(), RECORD);
    assert_eq!(
        (got[0].from.as_str(), got[0].originator.as_str()),
        ("TR-JGK", "TR-JGK")
    );
    assert_eq!(
        hex::decode(&e["hashed"]).unwrap(),
        [AUDIT_DOMAIN, e["entry"].as_bytes()].concat()
    );
    assert_eq!(e["hash"], entry_hash(e["entry"].as_bytes()).to_string());
}

/// The page's example written out as an export directory.
fn example_export(dir: &Path) {
    let ex = example();
    std::fs::create_dir_all(dir.join("agreements")).unwrap();
    let mut files = Vec::new();
    let mut put = |name: &str, bytes: Vec<u8>| {
        std::fs::write(dir.join(name), &bytes).unwrap();
        files.push(ManifestFile {
            name: name.to_owned(),
            sha256: sha256(&bytes),
        });
    };
    let log: Vec<u8> = ex
        .entries
        .iter()
        .flat_map(|e| [e.as_slice(), b"\n"].concat())
        .collect();
    put("log.jsonl", log);
    put(
        "checkpoints.txt",
        format!("{}\n", ex.checkpoint.to_line()).into_bytes(),
    );
    put("partner-checkpoints.txt", Vec::new());
    put("partner-forks.txt", Vec::new());
    put(
        "receipts.txt",
        format!("{}\n", ex.receipt.to_line()).into_bytes(),
    );
    // the other two members sign with the keys of seeds 03…03 and 04…04
    let members = [
        (agency("TR-JGK"), tr_key()),
        (agency("GR-HCG"), SecretKey::from_seed(&GR_SEED)),
        (agency("PK-FIA"), SecretKey::from_seed(&[3; 32])),
        (agency("IR-FARAJA"), SecretKey::from_seed(&[4; 32])),
    ];
    let keys: BTreeMap<AgencyId, _> = members
        .iter()
        .map(|(a, k)| (a.clone(), k.public_key()))
        .collect();
    put("keys.json", serde_json::to_vec_pretty(&keys).unwrap());
    // the log names TR-JGK's key in entry 0; it names no partner's
    let history: accord_node::audit::KeyHistory = [(
        agency("TR-JGK"),
        vec![accord_node::audit::KeyPeriod {
            key: tr_key().public_key(),
            from_index: 0,
            from_time: ts("2026-11-28T09:00:00Z"),
        }],
    )]
    .into();
    put(
        "key-history.json",
        serde_json::to_vec_pretty(&history).unwrap(),
    );
    let quad = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quad/agreements/quad-2026.toml"),
    )
    .unwrap();
    let hash = accord_protocol::agreement::agreement_hash(&quad);
    put("agreements/QUAD-2026.toml", quad);
    let sigs: String = members
        .iter()
        .map(|(a, k)| {
            accord_protocol::agreement::signature_line(
                a,
                &accord_protocol::agreement::sign_agreement(k, &hash),
            )
        })
        .collect();
    put("agreements/QUAD-2026.toml.sigs", sigs.into_bytes());
    let manifest = Manifest {
        format: "accord-audit-export".into(),
        version: 2,
        agency: agency("TR-JGK"),
        exported_at: ts("2026-11-28T09:35:00Z"),
        entries: 4,
        head: entry_hash(ex.entries.last().unwrap()),
        files,
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

#[test]
fn the_worked_example_is_an_export_that_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("example");
    example_export(&dir);
    let report = verify_alone(&dir);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.receipts, 1);
}

/// The page's ```` ```python ```` block.
fn python_snippet() -> String {
    let page = page();
    let start = page.find("```python\n").expect("no python block") + "```python\n".len();
    let end = start + page[start..].find("```").unwrap();
    page[start..end].to_owned()
}

#[test]
fn the_python_chain_check_agrees() {
    // Python 3 is needed (as for docs/verify_record.py)
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("check_chain.py");
    std::fs::write(&script, python_snippet()).unwrap();
    let run = |dir: &Path| -> Output {
        Command::new("python3")
            .arg(&script)
            .arg(dir)
            .output()
            .expect("python3 is needed for this test")
    };
    let (_fed, out) = exported();
    let ok = run(&out);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("chain OK: 11 entries"), "{stdout}");
    let example = tmp.path().join("example");
    example_export(&example);
    assert!(run(&example).status.success());
    // each tampering fails, naming the line
    for (edit, expected) in [
        (
            Box::new(|l: &mut Vec<String>| {
                l.remove(4);
            }) as Box<dyn FnOnce(&mut Vec<String>)>,
            "line 5",
        ),
        (Box::new(|l: &mut Vec<String>| l.swap(6, 7)), "line 7"),
        (
            Box::new(|l: &mut Vec<String>| l[5] = l[5].replacen("2026", "2025", 1)),
            "line 7",
        ),
        (
            Box::new(|l: &mut Vec<String>| {
                l.pop();
            }),
            "manifest",
        ),
    ] {
        let bad = tampered(&out, "log.jsonl", edit);
        let res = run(&bad);
        let stdout = String::from_utf8_lossy(&res.stdout);
        assert_eq!(res.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains(expected), "expected {expected}: {stdout}");
    }
}
