//! Prints the test-vector blocks of docs/protocol.md from the code:
//! `cargo run -p accord-protocol --example vectors`. The `vectors` test checks the page.
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

fn main() {
    delegation_block();
    block("minimal", &common::minimal_record());
    let mut full = common::full_record();
    full.originator = common::agency("TR-JGK");
    block("full", &full);
}
