//! The stored form of a record: where it came from, when, and the exact envelope bytes.
//!
//! `format u8 (=1) | received_at i64 | source u8 (0 local, 1 peer) | [len u8 | peer agency id] |
//! envelope bytes`

use accord_protocol::{AgencyId, Envelope, Timestamp};

use super::StoreError;

/// Where a stored record came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Published by this node's agency.
    Local,
    /// Received from a peer agency (which may have relayed it).
    Peer(AgencyId),
}

pub(super) fn encode(received_at: Timestamp, source: &Source, envelope: &Envelope) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + envelope.encoded_len());
    out.push(1);
    out.extend_from_slice(&received_at.unix().to_be_bytes());
    match source {
        Source::Local => out.push(0),
        Source::Peer(a) => {
            out.push(1);
            out.push(a.as_str().len() as u8);
            out.extend_from_slice(a.as_str().as_bytes());
        }
    }
    envelope.encode_into(&mut out);
    out
}

pub(super) fn decode(bytes: &[u8]) -> Result<(Timestamp, Source, Envelope), StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("stored record: {what}"));
    if bytes.first() != Some(&1) {
        return Err(corrupt("unknown stored-record format"));
    }
    let t: [u8; 8] = bytes
        .get(1..9)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("truncated"))?;
    let received_at =
        Timestamp::from_unix(i64::from_be_bytes(t)).map_err(|e| corrupt(&e.to_string()))?;
    let (source, rest) = match bytes.get(9) {
        Some(0) => (Source::Local, &bytes[10..]),
        Some(1) => {
            let n = usize::from(*bytes.get(10).ok_or_else(|| corrupt("truncated"))?);
            let raw = bytes.get(11..11 + n).ok_or_else(|| corrupt("truncated"))?;
            let id = std::str::from_utf8(raw).map_err(|_| corrupt("bad peer id"))?;
            (
                Source::Peer(AgencyId::new(id).map_err(|e| corrupt(&e.to_string()))?),
                &bytes[11 + n..],
            )
        }
        _ => return Err(corrupt("bad source")),
    };
    let envelope = Envelope::decode(rest).map_err(|e| corrupt(&e.to_string()))?;
    Ok((received_at, source, envelope))
}
