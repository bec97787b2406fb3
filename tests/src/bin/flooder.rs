//! The flooding member of `tests/tests/flood.rs`, in a process of its own so that its CPU is
//! not the test's. Driven over stdin/stdout:
//!
//! - `flooder attack QUAD_DIR PEER ADDR TASKS`: Bulgaria's junk (`accord_testkit::flood::junk`)
//!   sent to PEER at ADDR from TASKS connections; prints `ATTACKING`, and `SENT n` once stdin
//!   closes.
//! - `flooder sink`: a peer answering every request `Busy` unread; prints `LISTEN peer addr`,
//!   and `SERVED n` once stdin closes.
//! - `flooder hold QUAD_DIR PEER ADDR STREAMS SENT`: as Bulgaria, STREAMS requests to PEER each
//!   announcing 8 MiB, sending SENT bytes of it and holding the stream open; prints `HOLDING`
//!   and keeps them open until stdin closes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use accord_testkit::flood::{Sink, attack};

/// Blocks until stdin closes (the test dropped its end, or died).
async fn until_stdin_closes() {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let mut stdin = std::io::stdin().lock();
        while stdin.read_line(&mut line).is_ok_and(|n| n > 0) {
            line.clear();
        }
    })
    .await
    .unwrap();
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    match args.first().map(String::as_str) {
        Some("attack") if args.len() == 5 => {
            let dir = PathBuf::from(&args[1]);
            let peer: libp2p::PeerId = args[2].parse().expect("PEER");
            let addr: libp2p::Multiaddr = args[3].parse().expect("ADDR");
            let tasks: usize = args[4].parse().expect("TASKS");
            let handles = attack(&dir, peer, &addr, tasks, &stop, &count);
            say("ATTACKING");
            until_stdin_closes().await;
            stop.store(true, Ordering::Relaxed);
            for h in handles {
                let _ = tokio::time::timeout(Duration::from_secs(25), h).await;
            }
            say(&format!("SENT {}", count.load(Ordering::Relaxed)));
        }
        Some("hold") if args.len() == 6 => {
            let dir = PathBuf::from(&args[1]);
            let peer: libp2p::PeerId = args[2].parse().expect("PEER");
            let addr: libp2p::Multiaddr = args[3].parse().expect("ADDR");
            let streams: usize = args[4].parse().expect("STREAMS");
            let sent: usize = args[5].parse().expect("SENT");
            let mut raw = accord_testkit::RawPeer::new(&accord_testkit::demo_key(&dir, "bg-gdbp"));
            let holding = {
                let stop = stop.clone();
                tokio::spawn(async move {
                    let max = u32::try_from(accord_protocol::wire::MAX_FRAME_BYTES).unwrap();
                    raw.hold_streams(peer, &addr, streams, max, sent, &stop)
                        .await;
                })
            };
            say("HOLDING");
            until_stdin_closes().await;
            stop.store(true, Ordering::Relaxed);
            let _ = holding.await;
        }
        Some("sink") if args.len() == 1 => {
            let (sink, peer, addr) = Sink::listen().await;
            let serving = tokio::spawn(sink.serve(stop.clone(), count.clone()));
            say(&format!("LISTEN {peer} {addr}"));
            until_stdin_closes().await;
            stop.store(true, Ordering::Relaxed);
            serving.await.unwrap();
            say(&format!("SERVED {}", count.load(Ordering::Relaxed)));
        }
        _ => {
            eprintln!(
                "usage: flooder attack QUAD_DIR PEER ADDR TASKS | flooder sink | flooder hold QUAD_DIR PEER ADDR STREAMS SENT"
            );
            std::process::exit(2);
        }
    }
}
