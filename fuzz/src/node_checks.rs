//! Bodies of the `frame` and `bundle` fuzz targets: what the node reads from a peer's stream
//! before any decoding, and what an auditor feeds `accord verify`.
//!
//! This file is also compiled into `node/tests/fuzz_corpus.rs` (with `#[path]`), so every
//! check here runs on stable CI over the committed corpus.

use std::sync::OnceLock;

use accord_node::net::codec::{Frame, read_request};

/// A runtime for the codec's reads (its stall timer needs one).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

/// `frame`: a request stream's bytes through the codec, with a budget of 64 KiB. It never
/// panics; a frame it reads holds exactly the bytes its prefix announced; one it does not
/// read says why (too large, over the budget, cut off) and holds nothing.
pub fn frame(data: &[u8]) {
    let mut io = libp2p::futures::io::Cursor::new(data.to_vec());
    let budget = accord_node::net::codec::InboundBudget::new(64 * 1024);
    let read = runtime().block_on(read_request(&mut io, &budget));
    let Ok(frame) = read else {
        // only a stream too short for the length prefix itself is an error
        assert!(data.len() < 4, "an error on {} bytes", data.len());
        return;
    };
    let announced = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let Frame {
        bytes,
        oversized,
        over_budget,
        cut_off,
    } = frame;
    let marks = usize::from(oversized.is_some())
        + usize::from(over_budget.is_some())
        + usize::from(cut_off.is_some());
    assert!(marks <= 1, "at most one reason not to read");
    if marks == 0 {
        assert_eq!(bytes.len(), announced);
        assert_eq!(&bytes[..], &data[4..4 + announced]);
    } else {
        assert!(bytes.is_empty(), "a frame not read holds nothing");
    }
    if let Some((got, of)) = cut_off {
        assert_eq!(of, announced);
        assert!(got < announced && got <= data.len() - 4);
    }
    assert_eq!(budget.used(), 0, "the budget is given back");
}

/// `bundle`: any bytes through `accord verify`'s checks. It never panics, prints its report,
/// and a bundle it calls verified has a header and every record OK.
pub fn bundle(data: &[u8]) {
    let report = accord_node::bundle::verify_bundle(data);
    let _ = report.to_string();
    if report.is_ok() {
        assert!(report.header.is_some());
        assert!(report.records.iter().all(|r| r.is_ok()));
    }
}
