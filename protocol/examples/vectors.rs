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

fn main() {
    block("minimal", &common::minimal_record());
    let mut full = common::full_record();
    full.originator = common::agency("TR-JGK");
    block("full", &full);
}
