//! The `wire`, `envelope` and `record` fuzz targets on stable: every file of
//! `fuzz/corpus/<target>/` (the committed seeds) and `fuzz/regressions/<target>/` (inputs the
//! fuzzers found, kept after the fix) goes through the targets' own bodies,
//! `fuzz/src/protocol_checks.rs`, compiled in here. docs/fuzzing.md runs the real fuzzers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

// the fuzz crate exports these (its targets call them): public there, unused-public here
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/protocol_checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::{Path, PathBuf};

use accord_protocol::audit::{Receipt, sign_receipt};
use accord_protocol::canonical::decode_record;
use accord_protocol::wire::{
    Ack, AckEntry, Message, Push, RangeRequest, RangeResponse, Refusal, RejectCode,
};
use accord_protocol::{AgreementId, Envelope, SecretKey, Seq, Timestamp, sign, verify};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the directory does not exist.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Runs every seed and regression of `target` through `check`; returns the seeds.
fn replay(target: &str, check: fn(&[u8])) -> Vec<Vec<u8>> {
    let seeds = inputs("corpus", target);
    assert!(
        !seeds.is_empty(),
        "fuzz/corpus/{target}/ holds no seed; see docs/fuzzing.md"
    );
    let regressions = inputs("regressions", target);
    for (path, bytes) in seeds.iter().chain(&regressions) {
        let outcome = std::panic::catch_unwind(|| check(bytes));
        assert!(
            outcome.is_ok(),
            "{} fails the `{target}` target",
            path.display()
        );
    }
    println!(
        "{target}: {} seeds, {} regressions replayed",
        seeds.len(),
        regressions.len()
    );
    seeds.into_iter().map(|(_, b)| b).collect()
}

#[test]
fn wire_corpus_replays() {
    let seeds = replay("wire", checks::wire);
    // The seeds reach past the decoder's front door: most of them decode.
    let decoded = seeds.iter().filter(|s| Message::decode(s).is_ok()).count();
    assert!(decoded >= 5, "only {decoded} wire seeds decode");
}

#[test]
fn envelope_corpus_replays() {
    let seeds = replay("envelope", checks::envelope);
    let verified = seeds
        .iter()
        .filter_map(|s| Envelope::decode(s).ok())
        .filter(|e| verify(e.clone(), checks::key_directory()).is_ok())
        .count();
    assert!(verified >= 2, "only {verified} envelope seeds verify");
}

#[test]
fn record_corpus_replays() {
    let seeds = replay("record", checks::record);
    let decoded = seeds.iter().filter(|s| decode_record(s).is_ok()).count();
    assert!(decoded >= 2, "only {decoded} record seeds decode");
}

#[test]
fn audit_corpus_replays() {
    let seeds = replay("audit", checks::audit);
    let entries = seeds
        .iter()
        .flat_map(|s| s.split(|b| *b == b'\n'))
        .filter(|l| accord_protocol::audit::AuditEntry::decode(l).is_ok())
        .count();
    assert!(entries >= 1, "no audit seed line is an entry");
}

/// The bodies pass on well-formed input and on garbage (refused with an error, not a panic).
#[test]
fn the_checks_pass_on_well_formed_input_and_garbage() {
    let env = sign(&common::minimal_record(), &common::vector_key()).unwrap();
    checks::wire(
        &Message::Push(Push {
            records: vec![env.clone()],
        })
        .encode()
        .unwrap(),
    );
    checks::envelope(&env.encode());
    checks::record(env.record_bytes());
    for garbage in [
        &b""[..],
        b"\x01\x07garbage",
        b"ACRD\x01\x01",
        b"{\"v\":1}",
        b"\xff",
    ] {
        checks::wire(garbage);
        checks::envelope(garbage);
        checks::record(garbage);
        checks::audit(garbage);
    }
    // The directory the envelope target verifies under is the one of the documented vectors.
    assert!(verify(env, checks::key_directory()).is_ok());
}

/// The seed corpus of the protocol targets is what the code makes today: each committed seed
/// equals the bytes made here, so a format change cannot leave stale seeds behind. With
/// `ACCORD_WRITE_FUZZ_SEEDS=1` the seeds are (re)written instead:
/// `ACCORD_WRITE_FUZZ_SEEDS=1 cargo test -p accord-protocol --test fuzz_corpus seed_corpus`.
#[test]
fn seed_corpus_is_current() {
    let rewrite = std::env::var_os("ACCORD_WRITE_FUZZ_SEEDS").is_some();
    let vector = sign(&common::minimal_record(), &common::vector_key()).unwrap();
    let second = SecretKey::from_seed(&checks::SECOND_SEED);
    let full = sign(&common::full_record(), &second).unwrap();
    let mut bad_sig = *vector.signature();
    bad_sig[0] ^= 1;
    let unsigned = Envelope::from_parts(*vector.signer(), bad_sig, vector.record_bytes().to_vec());

    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz_dir().join("corpus").join(target);
        if rewrite {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), bytes).unwrap();
        } else {
            let held = std::fs::read(dir.join(name)).unwrap_or_default();
            assert!(
                held == bytes,
                "fuzz/corpus/{target}/{name} is stale; regenerate with ACCORD_WRITE_FUZZ_SEEDS=1"
            );
        }
    };

    write("envelope", "minimal-vector", &vector.encode());
    write("envelope", "full-vector", &full.encode());
    write("envelope", "bad-signature", &unsigned.encode());

    write("record", "minimal", vector.record_bytes());
    write("record", "full", full.record_bytes());
    let pretty = serde_json::to_vec_pretty(&common::full_record()).unwrap();
    write("record", "full-pretty", &pretty);

    let receipt = sign_receipt(
        &Receipt {
            record: vector.id(),
            agreement: AgreementId::new("QUAD-2026").unwrap(),
            receiver: common::agency("PK-FIA"),
            received_at: Timestamp::parse("2026-11-28T10:00:00Z").unwrap(),
        },
        &second,
    )
    .unwrap();
    // an audit export's lines: an entry, a checkpoint, a receipt
    let entry = accord_protocol::audit::AuditEntry {
        agency: common::agency("TR-JGK"),
        index: 0,
        prev: accord_protocol::audit::Digest32::ZERO,
        time: Timestamp::parse("2026-11-28T09:30:00Z").unwrap(),
        event: accord_protocol::audit::AuditEvent::Delivered {
            record: vector.id(),
            agreement: AgreementId::new("QUAD-2026").unwrap(),
            to: common::agency("PK-FIA"),
            receipt: accord_protocol::audit::sha256(&receipt.bytes),
        },
    }
    .encode()
    .unwrap();
    let checkpoint = accord_protocol::audit::sign_checkpoint(
        &accord_protocol::audit::Checkpoint {
            agency: common::agency("TR-JGK"),
            count: 1,
            head: accord_protocol::audit::entry_hash(&entry),
            time: Timestamp::parse("2026-11-28T09:31:00Z").unwrap(),
        },
        &common::vector_key(),
    )
    .unwrap();
    let mut lines = entry.clone();
    for l in [checkpoint.to_line(), receipt.to_line()] {
        lines.push(b'\n');
        lines.extend_from_slice(l.as_bytes());
    }
    write("audit", "entry-checkpoint-receipt", &lines);

    let messages = [
        (
            "push",
            Message::Push(Push {
                records: vec![vector.clone(), full.clone()],
            }),
        ),
        (
            "ack",
            Message::Ack(Ack {
                results: vec![
                    AckEntry::Stored(vector.id()),
                    AckEntry::Duplicate(full.id()),
                    AckEntry::Rejected {
                        code: RejectCode::NotMember,
                        detail: "BG-GDBP is not a member of QUAD-2026".into(),
                    },
                ],
                receipts: vec![receipt],
            }),
        ),
        (
            "range-request",
            Message::RangeRequest(RangeRequest {
                agreement: AgreementId::new("QUAD-2026").unwrap(),
                stream: accord_protocol::StreamId::agency(&common::agency("TR-JGK")),
                from: Seq::FIRST,
                to: Seq::new(100).unwrap(),
            }),
        ),
        (
            "range-response",
            Message::RangeResponse(RangeResponse {
                agreement: AgreementId::new("QUAD-2026").unwrap(),
                stream: accord_protocol::StreamId::agency(&common::agency("TR-JGK")),
                records: vec![vector.clone()],
                complete: true,
            }),
        ),
        (
            "refused",
            Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail: "try again in 5 s".into(),
            }),
        ),
    ];
    for (name, m) in messages {
        write("wire", name, &m.encode().unwrap());
    }
    // A sync status with no shared agreement and no checkpoint, written by hand so that the
    // seed does not depend on the agreement entry's fields.
    write("wire", "sync-status-empty", &[2, 3, 0, 0, 0]);
}
