//! Prints the test-vector blocks of docs/protocol.md from the code:
//! `cargo run -p accord-protocol --example vectors` (the record vectors of §7 and §10) and
//! `… --example vectors -- --wire` (the wire frames of §6). The `vectors` test checks the page.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use accord_protocol::envelope::signed_message;
use accord_protocol::{Record, canonical, sign};

fn wrap(key: &str, hex: &str) {
    for chunk in hex.as_bytes().chunks(64) {
        println!("{key}: {}", std::str::from_utf8(chunk).unwrap());
    }
}

fn block(name: &str, record: &Record) {
    let key = common::vector_key();
    let bytes = canonical::encode_record(record).unwrap();
    let env = sign(record, &key).unwrap();
    println!("```vector");
    println!("vector: {name}");
    println!("seed: {}", common::VECTOR_SEED_HEX);
    println!("public key: {}", hex::encode(key.public_key().to_bytes()));
    println!("record: {}", String::from_utf8(bytes.clone()).unwrap());
    wrap("signed message", &hex::encode(signed_message(&bytes)));
    println!("id: {}", env.id());
    wrap("signature", &hex::encode(env.signature()));
    wrap("envelope", &hex::encode(env.encode()));
    println!("```");
}

/// The delegated-key vector of §10: the TEST 1 key is the agency's, the RFC 8032 TEST 2 key
/// (seed `4ccd…a6fb`) the liaison officer's.
fn delegation_block() {
    let (agency, officer) = (common::vector_key(), common::officer_key());
    let d = common::vector_delegation();
    let cert = accord_protocol::delegation::issue(&d, &agency).unwrap();
    let record = common::minimal_record();
    let env = accord_protocol::envelope::sign_delegated(&record, &officer, cert.clone()).unwrap();
    println!("```vector");
    println!("vector: delegation");
    println!("agency seed: {}", common::VECTOR_SEED_HEX);
    println!("officer seed: {}", common::OFFICER_SEED_HEX);
    println!(
        "certificate: {}",
        String::from_utf8(cert.bytes.clone()).unwrap()
    );
    wrap("certificate signature", &hex::encode(cert.signature));
    println!(
        "certificate id: {}",
        hex::encode(accord_protocol::delegation::certificate_id(&cert).0)
    );
    println!("id: {}", env.id());
    wrap("signature", &hex::encode(env.signature()));
    wrap("envelope", &hex::encode(env.encode()));
    println!("```");
}

/// A wire frame written field by field: `label: hex  comment`; a long value wraps onto lines
/// of 32 bytes with the same label. The frame is the concatenation of every line's hex.
#[derive(Default)]
struct Fields(Vec<String>);

impl Fields {
    fn put(&mut self, label: &str, prefix: &[u8], bytes: &[u8], comment: &str) {
        let mut first = true;
        let mut chunks: Vec<&[u8]> = bytes.chunks(32).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for chunk in chunks {
            let mut hex_part = String::new();
            if first && !prefix.is_empty() {
                hex_part.push_str(&hex::encode(prefix));
                if !chunk.is_empty() {
                    hex_part.push(' ');
                }
            }
            hex_part.push_str(&hex::encode(chunk));
            let comment = if first && !comment.is_empty() {
                format!("  {comment}")
            } else {
                String::new()
            };
            self.0.push(format!("{label}: {hex_part}{comment}"));
            first = false;
        }
    }

    fn bytes(&mut self, label: &str, bytes: &[u8], comment: &str) {
        self.put(label, &[], bytes, comment);
    }

    fn id(&mut self, label: &str, id: &str) {
        self.put(label, &[id.len() as u8], id.as_bytes(), &format!("{id:?}"));
    }

    fn text(&mut self, label: &str, text: &str) {
        self.put(
            label,
            &(text.len() as u16).to_be_bytes(),
            text.as_bytes(),
            &format!("{text:?}"),
        );
    }

    fn count(&mut self, label: &str, n: usize) {
        self.bytes(label, &(n as u16).to_be_bytes(), &n.to_string());
    }

    fn match_head(
        &mut self,
        agreement: &accord_protocol::AgreementId,
        epoch: accord_protocol::matching::Epoch,
    ) {
        self.id("agreement id", agreement.as_str());
        self.bytes(
            "epoch day",
            &epoch.day().to_be_bytes(),
            &format!("{} ({})", epoch.day(), epoch.start),
        );
        self.bytes(
            "epoch days",
            &epoch.days.to_be_bytes(),
            &epoch.days.to_string(),
        );
    }

    fn u64(&mut self, label: &str, n: u64) {
        self.bytes(label, &n.to_be_bytes(), &n.to_string());
    }

    fn envelopes(&mut self, envs: &[accord_protocol::Envelope], what: &str) {
        self.count("record count", envs.len());
        for e in envs {
            let bytes = e.encode();
            self.bytes(
                "envelope length",
                &(bytes.len() as u32).to_be_bytes(),
                &bytes.len().to_string(),
            );
            self.bytes("envelope", &bytes, what);
        }
    }

    fn signed(&mut self, label: &str, s: &accord_protocol::audit::Signed) {
        self.bytes(
            &format!("{label} length"),
            &(s.bytes.len() as u16).to_be_bytes(),
            &s.bytes.len().to_string(),
        );
        self.bytes(label, &s.bytes, std::str::from_utf8(&s.bytes).unwrap());
        self.bytes(&format!("{label} signature"), &s.signature, "");
    }
}

/// The wire vectors of §6: each message of `common::wire_messages`, field by field.
fn wire_blocks() {
    use accord_protocol::Message;
    use accord_protocol::wire::AckEntry;
    for (name, message) in common::wire_messages() {
        let mut f = Fields::default();
        f.bytes("version", &[accord_protocol::wire::WIRE_VERSION], "");
        f.bytes("kind", &[message.kind_code()], name);
        match &message {
            Message::Push(p) => f.envelopes(&p.records, "the `minimal` envelope of §7"),
            Message::Ack(a) => {
                f.count("entry count", a.results.len());
                for e in &a.results {
                    match e {
                        AckEntry::Stored(id) => {
                            f.bytes("status", &[0], "stored");
                            f.bytes("record id", id.as_bytes(), "");
                        }
                        AckEntry::Duplicate(id) => {
                            f.bytes("status", &[1], "already held");
                            f.bytes("record id", id.as_bytes(), "");
                        }
                        AckEntry::Rejected { code, detail } => {
                            f.bytes("status", &[2], "rejected");
                            f.bytes("code", &[code.code()], &format!("{code:?}"));
                            f.text("detail", detail);
                        }
                    }
                }
                f.count("receipt count", a.receipts.len());
                for r in &a.receipts {
                    f.signed("receipt", r);
                }
            }
            Message::SyncStatus(s) => {
                f.count("agreement count", s.agreements.len());
                for a in &s.agreements {
                    f.id("agreement id", a.agreement.as_str());
                    f.bytes("agreement hash", &a.agreement_hash, "");
                    f.count("head count", a.heads.len());
                    for h in &a.heads {
                        f.id("stream id", h.stream.as_str());
                        f.u64("head seq", h.seq);
                        let comment = if h.has_digest() {
                            "stream digest of seqs 1 to the head"
                        } else {
                            "none given"
                        };
                        f.bytes("head digest", &h.digest, comment);
                    }
                    f.count("signature count", a.signatures.len());
                    for (agency, sig) in &a.signatures {
                        f.id("signer", agency.as_str());
                        f.bytes("agreement signature", sig, "");
                    }
                }
                match &s.checkpoint {
                    None => f.bytes("checkpoint flag", &[0], "none"),
                    Some(c) => {
                        f.bytes("checkpoint flag", &[1], "");
                        f.signed("checkpoint", c);
                    }
                }
                f.count("revocation count", s.revocations.len());
                for r in &s.revocations {
                    f.signed("revocation", r);
                }
            }
            Message::RangeRequest(r) => {
                f.id("agreement id", r.agreement.as_str());
                f.id("stream id", r.stream.as_str());
                f.u64("from", r.from.get());
                f.u64("to", r.to.get());
            }
            Message::RangeResponse(r) => {
                f.id("agreement id", r.agreement.as_str());
                f.id("stream id", r.stream.as_str());
                let complete = if r.complete {
                    "the range is complete"
                } else {
                    "more follow: ask again from after the last record"
                };
                f.bytes("complete", &[u8::from(r.complete)], complete);
                f.envelopes(&r.records, "the `minimal` envelope of §7");
            }
            Message::Refused(r) => {
                f.bytes("code", &[r.code.code()], &format!("{:?}", r.code));
                f.text("detail", &r.detail);
            }
            Message::MatchSetRequest(r) => {
                f.match_head(&r.agreement, r.epoch);
                f.bytes("from", &r.from.to_be_bytes(), &r.from.to_string());
            }
            Message::MatchSet(c) => {
                f.match_head(&c.agreement, c.epoch);
                f.bytes("public key", &c.public_key, "the epoch's, docs/matching.md");
                f.bytes("total", &c.total.to_be_bytes(), &c.total.to_string());
                f.bytes("from", &c.from.to_be_bytes(), &c.from.to_string());
                let n = c.tags.len() as u32;
                f.bytes("tag count", &n.to_be_bytes(), &n.to_string());
                for t in &c.tags {
                    f.bytes("tag", &t.0, "");
                }
                f.bytes(
                    "set signature",
                    &c.signature,
                    "the statement of docs/matching.md",
                );
            }
            Message::Lookup(l) => {
                f.match_head(&l.agreement, l.epoch);
                f.count("element count", l.blinded.len());
                for e in &l.blinded {
                    f.bytes("blinded element", e, "phone +923012345678, blinded");
                }
            }
            Message::LookupAnswer(a) => {
                f.match_head(&a.agreement, a.epoch);
                f.count("element count", a.evaluated.len());
                for e in &a.evaluated {
                    f.bytes(
                        "evaluated element",
                        e,
                        "the blinded element raised to the key",
                    );
                }
                f.bytes("proof", &a.proof, "batch DLEQ proof (c, s)");
            }
        }
        println!("```wire");
        println!("wire: {name}");
        for line in &f.0 {
            println!("{line}");
        }
        println!("```");
    }
}

fn main() {
    if std::env::args().any(|a| a == "--wire") {
        wire_blocks();
        return;
    }
    delegation_block();
    block("minimal", &common::minimal_record());
    let mut full = common::full_record();
    full.originator = common::agency("TR-JGK");
    block("full", &full);
}
