//! Versioned wire messages for the network: push, ack, sync status, range request, range
//! response, refusal, and matching's set and lookup messages ([`matching`]). A hand-written binary layout (documented in `docs/protocol.md`) so that
//! another implementation can read it from the page alone; the decoder bounds every length
//! before it allocates, returns a typed error for anything malformed and never panics.
//!
//! Frame: `version u8 (=2) | kind u8 | body`. Integers are big-endian. Identifiers are
//! `len u8 | ASCII`; text is `len u16 | UTF-8`; lists are `count u16 | items`; an envelope is
//! `len u32 | envelope bytes`.

mod matching;

use thiserror::Error;

pub use matching::{LookupAnswer, LookupRequest, MAX_SET_CHUNK, MatchSetRequest, SetChunk};

use crate::audit::Signed;
use crate::envelope::{Envelope, MAX_ENVELOPE_BYTES};
use crate::error::{EnvelopeError, IdError};
use crate::ids::{AgencyId, AgreementId, RecordId, Seq, StreamId};

/// The wire version written and read.
pub const WIRE_VERSION: u8 = 2;
/// Largest frame accepted, in bytes.
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;
/// Most records in one push or range response.
pub const MAX_BATCH_RECORDS: usize = 256;
/// Most agreements in one sync status.
pub const MAX_STATUS_AGREEMENTS: usize = 1024;
/// Most originators per agreement in one sync status.
pub const MAX_STATUS_HEADS: usize = 1024;
/// Longest detail text in an ack or refusal, in bytes.
pub const MAX_DETAIL_BYTES: usize = 1024;
/// Longest signed object (receipt, checkpoint) JSON, in bytes.
pub const MAX_SIGNED_BYTES: usize = 4096;

/// One message on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Records offered to a peer (kind 1).
    Push(Push),
    /// The answer to a push: one entry per pushed record, in order (kind 2).
    Ack(Ack),
    /// What the sender holds, per agreement the two share (kind 3).
    SyncStatus(SyncStatus),
    /// A request for a range of one originator's records under one agreement (kind 4).
    RangeRequest(RangeRequest),
    /// Records answering a range request (kind 5).
    RangeResponse(RangeResponse),
    /// A request refused as a whole (kind 6).
    Refused(Refusal),
    /// A request for a holder's matching set (kind 7).
    MatchSetRequest(MatchSetRequest),
    /// A chunk of a holder's matching set (kind 8).
    MatchSet(SetChunk),
    /// Blinded selectors to evaluate (kind 9).
    Lookup(LookupRequest),
    /// A holder's evaluations of a lookup (kind 10).
    LookupAnswer(LookupAnswer),
}

/// A batch of signed records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    /// The envelopes, at most [`MAX_BATCH_RECORDS`].
    pub records: Vec<Envelope>,
}

/// The receiver's verdict on each pushed record, in push order, with a signed receipt for each
/// record it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// One entry per record of the push.
    pub results: Vec<AckEntry>,
    /// Signed receipts (`accord_protocol::audit::Receipt`) for the records stored or already
    /// held, at most one per record.
    pub receipts: Vec<Signed>,
}

/// The verdict on one pushed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AckEntry {
    /// Verified, permitted, stored and flushed (status 0).
    Stored(RecordId),
    /// Already held durably (status 1).
    Duplicate(RecordId),
    /// Refused, with the reason (status 2).
    Rejected {
        /// Why.
        code: RejectCode,
        /// A human-readable detail.
        detail: String,
    },
}

/// Why a record or request was refused. Unknown codes from newer peers are kept as `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectCode {
    /// Bytes that do not decode (1).
    Malformed,
    /// The signature does not verify, or the signer is not the originator's key (2).
    BadSignature,
    /// The originator or sender is not a known agency (3).
    UnknownAgency,
    /// The originator, sender or requester is not a member of the agreement (4).
    NotMember,
    /// The agreement is unknown here or not in force (5).
    AgreementNotInForce,
    /// The agreement does not permit the record's category (6).
    CategoryNotPermitted,
    /// The agreement does not permit the record's handling code (7).
    HandlingNotPermitted,
    /// Victim-identifying data the agreement does not permit (8).
    VictimDataNotPermitted,
    /// A second, different record for the same (agreement, originator, seq) (9).
    Equivocation,
    /// The record has expired or is past the agreement's retention (10).
    Expired,
    /// The two nodes hold different texts of the agreement (11).
    AgreementMismatch,
    /// The receiver is overloaded; retry later (12).
    Busy,
    /// The receiver does not yet hold every member's signature of the agreement; retry once
    /// the members' signatures have been exchanged (13).
    AgreementNotSigned,
    /// The record is signed by a delegated key outside its certificate's scope, or the
    /// delegation was revoked before it (14).
    DelegationRefused,
    /// The record corrects or withdraws a record of another originator or agreement, or
    /// answers a record of another agreement (15).
    BadReference,
    /// The agreement does not provide for matching (no `[matching]` clause) (16).
    MatchingNotProvided,
    /// The asker's daily quota of lookups under the agreement is spent (17).
    OverQuota,
    /// The epoch is not the holder's current one: the asker fetches the new set (18).
    WrongEpoch,
    /// The record needs releasers' approvals under its agreement (`[release]`) that its
    /// envelope does not carry, or carries an approval that does not verify (19).
    ReleaseNotApproved,
    /// A code this version does not know.
    Other(u8),
}

impl RejectCode {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            RejectCode::Malformed => 1,
            RejectCode::BadSignature => 2,
            RejectCode::UnknownAgency => 3,
            RejectCode::NotMember => 4,
            RejectCode::AgreementNotInForce => 5,
            RejectCode::CategoryNotPermitted => 6,
            RejectCode::HandlingNotPermitted => 7,
            RejectCode::VictimDataNotPermitted => 8,
            RejectCode::Equivocation => 9,
            RejectCode::Expired => 10,
            RejectCode::AgreementMismatch => 11,
            RejectCode::Busy => 12,
            RejectCode::AgreementNotSigned => 13,
            RejectCode::DelegationRefused => 14,
            RejectCode::BadReference => 15,
            RejectCode::MatchingNotProvided => 16,
            RejectCode::OverQuota => 17,
            RejectCode::WrongEpoch => 18,
            RejectCode::ReleaseNotApproved => 19,
            RejectCode::Other(c) => c,
        }
    }

    /// Reads a wire code.
    pub fn from_code(c: u8) -> Self {
        match c {
            1 => RejectCode::Malformed,
            2 => RejectCode::BadSignature,
            3 => RejectCode::UnknownAgency,
            4 => RejectCode::NotMember,
            5 => RejectCode::AgreementNotInForce,
            6 => RejectCode::CategoryNotPermitted,
            7 => RejectCode::HandlingNotPermitted,
            8 => RejectCode::VictimDataNotPermitted,
            9 => RejectCode::Equivocation,
            10 => RejectCode::Expired,
            11 => RejectCode::AgreementMismatch,
            12 => RejectCode::Busy,
            13 => RejectCode::AgreementNotSigned,
            14 => RejectCode::DelegationRefused,
            15 => RejectCode::BadReference,
            16 => RejectCode::MatchingNotProvided,
            17 => RejectCode::OverQuota,
            18 => RejectCode::WrongEpoch,
            19 => RejectCode::ReleaseNotApproved,
            c => RejectCode::Other(c),
        }
    }
}

/// The sender's holdings for each agreement it shares with the receiver, and its latest
/// signed audit checkpoint for the receiver to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncStatus {
    /// One entry per shared agreement.
    pub agreements: Vec<AgreementStatus>,
    /// The sender's latest slot checkpoint of its audit log (docs/auditing.md §2), if it has
    /// one; none to an agency it shares no agreement with.
    pub checkpoint: Option<Signed>,
    /// Revocations of delegation certificates the sender holds (signed by the issuing
    /// agencies, docs/protocol.md §10), so that they reach every member.
    pub revocations: Vec<Signed>,
}

/// Holdings under one agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgreementStatus {
    /// The agreement.
    pub agreement: AgreementId,
    /// SHA-256 of the sender's agreement file, so members detect differing texts.
    pub agreement_hash: [u8; 32],
    /// Per stream (an originator's own key, or a key it delegated), the highest seq up to
    /// which the sender holds every record, and the digest of that prefix.
    pub heads: Vec<Head>,
    /// The members' signatures of the agreement file that the sender holds (its own and
    /// those it collected), so that members collect each other's.
    pub signatures: Vec<(AgencyId, [u8; 64])>,
}

/// What a member holds of one stream under one agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The stream: an originator's own key, or a key it delegated.
    pub stream: StreamId,
    /// The highest seq up to which every record of the stream is held (0: none).
    pub seq: u64,
    /// The stream digest ([`stream_digest`]) of the record ids at seqs `1 ..= seq`, so that two
    /// members holding different records under one seq see it even when their seqs agree;
    /// all zero when not given (no record held, or the sender does not announce it yet).
    pub digest: [u8; 32],
}

impl Head {
    /// A head with no digest given.
    pub fn without_digest(stream: StreamId, seq: u64) -> Self {
        Self {
            stream,
            seq,
            digest: [0; 32],
        }
    }

    /// Whether a digest is given.
    pub fn has_digest(&self) -> bool {
        self.digest != [0; 32]
    }
}

/// Domain tag of the stream digest.
pub const STREAM_DIGEST_TAG: &[u8] = b"accord/stream-digest/v1\0";

/// One step of the stream digest: `d_0` is 32 zero bytes and
/// `d_n = SHA-256(STREAM_DIGEST_TAG ‖ d_(n-1) ‖ id_n)`, `id_n` the 32 bytes of the id of the
/// record under seq `n`.
pub fn stream_digest(previous: &[u8; 32], id: &RecordId) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(STREAM_DIGEST_TAG);
    h.update(previous);
    h.update(id.as_bytes());
    h.finalize().into()
}

/// Asks for records `from ..= to` of one stream under one agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRequest {
    /// The agreement.
    pub agreement: AgreementId,
    /// The stream: an originator's own key, or a key it delegated.
    pub stream: StreamId,
    /// First seq wanted.
    pub from: Seq,
    /// Last seq wanted (inclusive).
    pub to: Seq,
}

/// Records answering a range request, in seq order, at most [`MAX_BATCH_RECORDS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeResponse {
    /// The agreement asked for.
    pub agreement: AgreementId,
    /// The stream asked for.
    pub stream: StreamId,
    /// The records.
    pub records: Vec<Envelope>,
    /// Whether the answer reaches the requested `to` (false: ask again from after the last).
    pub complete: bool,
}

/// A request refused as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub code: RejectCode,
    /// A human-readable detail.
    pub detail: String,
}

/// A frame that could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("frame of {size} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Ends before the layout does.
    #[error(
        "frame truncated reading {what}: needs {needed} bytes at offset {offset}, {available} left"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where.
        offset: usize,
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A wire version this node does not speak.
    #[error("wire version {0} is not supported (this node speaks version {WIRE_VERSION})")]
    Version(u8),
    /// An unknown message kind.
    #[error("unknown message kind {0}")]
    Kind(u8),
    /// A list longer than its limit.
    #[error("{what} holds {count} entries; at most {max} are allowed")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// Declared count.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A field with a bad value.
    #[error("bad {what}: {reason}")]
    Field {
        /// Which field.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An identifier that does not validate.
    #[error(transparent)]
    Id(#[from] IdError),
    /// An envelope whose layout is wrong.
    #[error("record {index}: {source}")]
    Envelope {
        /// Its position in the batch.
        index: usize,
        /// What is wrong.
        source: EnvelopeError,
    },
    /// Bytes after the message.
    #[error("{0} unexpected bytes after the message")]
    Trailing(usize),
}

impl Message {
    /// The wire code of the message kind.
    pub fn kind_code(&self) -> u8 {
        match self {
            Message::Push(_) => 1,
            Message::Ack(_) => 2,
            Message::SyncStatus(_) => 3,
            Message::RangeRequest(_) => 4,
            Message::RangeResponse(_) => 5,
            Message::Refused(_) => 6,
            Message::MatchSetRequest(_) => 7,
            Message::MatchSet(_) => 8,
            Message::Lookup(_) => 9,
            Message::LookupAnswer(_) => 10,
        }
    }

    /// Encodes the message, refusing what the decoder would refuse (over-long lists, text or
    /// frames), so a node never sends a frame its peers must drop.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut w = Vec::with_capacity(256);
        w.push(WIRE_VERSION);
        w.push(self.kind_code());
        match self {
            Message::Push(p) => put_envelopes(&mut w, &p.records)?,
            Message::Ack(a) => {
                put_count(&mut w, a.results.len(), MAX_BATCH_RECORDS, "ack entries")?;
                for e in &a.results {
                    match e {
                        AckEntry::Stored(id) => {
                            w.push(0);
                            w.extend_from_slice(id.as_bytes());
                        }
                        AckEntry::Duplicate(id) => {
                            w.push(1);
                            w.extend_from_slice(id.as_bytes());
                        }
                        AckEntry::Rejected { code, detail } => {
                            w.push(2);
                            w.push(code.code());
                            put_text(&mut w, detail)?;
                        }
                    }
                }
                put_count(&mut w, a.receipts.len(), MAX_BATCH_RECORDS, "receipts")?;
                for r in &a.receipts {
                    put_signed(&mut w, r)?;
                }
            }
            Message::SyncStatus(s) => {
                put_count(
                    &mut w,
                    s.agreements.len(),
                    MAX_STATUS_AGREEMENTS,
                    "status agreements",
                )?;
                for a in &s.agreements {
                    put_id(&mut w, a.agreement.as_str());
                    w.extend_from_slice(&a.agreement_hash);
                    put_count(&mut w, a.heads.len(), MAX_STATUS_HEADS, "status heads")?;
                    for h in &a.heads {
                        put_id(&mut w, h.stream.as_str());
                        w.extend_from_slice(&h.seq.to_be_bytes());
                        w.extend_from_slice(&h.digest);
                    }
                    put_count(
                        &mut w,
                        a.signatures.len(),
                        MAX_STATUS_HEADS,
                        "agreement signatures",
                    )?;
                    for (agency, sig) in &a.signatures {
                        put_id(&mut w, agency.as_str());
                        w.extend_from_slice(sig);
                    }
                }
                match &s.checkpoint {
                    None => w.push(0),
                    Some(c) => {
                        w.push(1);
                        put_signed(&mut w, c)?;
                    }
                }
                put_count(
                    &mut w,
                    s.revocations.len(),
                    MAX_STATUS_AGREEMENTS,
                    "revocations",
                )?;
                for r in &s.revocations {
                    put_signed(&mut w, r)?;
                }
            }
            Message::RangeRequest(r) => {
                put_id(&mut w, r.agreement.as_str());
                put_id(&mut w, r.stream.as_str());
                w.extend_from_slice(&r.from.get().to_be_bytes());
                w.extend_from_slice(&r.to.get().to_be_bytes());
            }
            Message::RangeResponse(r) => {
                put_id(&mut w, r.agreement.as_str());
                put_id(&mut w, r.stream.as_str());
                w.push(u8::from(r.complete));
                put_envelopes(&mut w, &r.records)?;
            }
            Message::Refused(r) => {
                w.push(r.code.code());
                put_text(&mut w, &r.detail)?;
            }
            Message::MatchSetRequest(r) => {
                matching::put_head(&mut w, &r.agreement, r.epoch);
                w.extend_from_slice(&r.from.to_be_bytes());
            }
            Message::MatchSet(c) => matching::put_chunk(&mut w, c)?,
            Message::Lookup(l) => {
                matching::put_head(&mut w, &l.agreement, l.epoch);
                matching::put_elements(&mut w, &l.blinded)?;
            }
            Message::LookupAnswer(a) => {
                matching::put_head(&mut w, &a.agreement, a.epoch);
                matching::put_elements(&mut w, &a.evaluated)?;
                w.extend_from_slice(&a.proof);
            }
        }
        if w.len() > MAX_FRAME_BYTES {
            return Err(WireError::FrameTooLarge {
                size: w.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        Ok(w)
    }

    /// Decodes one frame. Every length is checked against the bytes present and its limit
    /// before anything is allocated.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(WireError::FrameTooLarge {
                size: bytes.len(),
                max: MAX_FRAME_BYTES,
            });
        }
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u8("version")?;
        if version != WIRE_VERSION {
            return Err(WireError::Version(version));
        }
        let msg = match r.u8("kind")? {
            1 => Message::Push(Push {
                records: r.envelopes()?,
            }),
            2 => {
                let n = r.count("ack entries", MAX_BATCH_RECORDS)?;
                let mut results = Vec::with_capacity(n);
                for _ in 0..n {
                    results.push(match r.u8("ack status")? {
                        0 => AckEntry::Stored(r.record_id()?),
                        1 => AckEntry::Duplicate(r.record_id()?),
                        2 => AckEntry::Rejected {
                            code: RejectCode::from_code(r.u8("reject code")?),
                            detail: r.text()?,
                        },
                        s => {
                            return Err(WireError::Field {
                                what: "ack status",
                                reason: format!("unknown status {s}"),
                            });
                        }
                    });
                }
                let n = r.count("receipts", MAX_BATCH_RECORDS)?;
                let mut receipts = Vec::with_capacity(n);
                for _ in 0..n {
                    receipts.push(r.signed()?);
                }
                Message::Ack(Ack { results, receipts })
            }
            3 => {
                let n = r.count("status agreements", MAX_STATUS_AGREEMENTS)?;
                let mut agreements = Vec::with_capacity(n);
                for _ in 0..n {
                    let agreement = AgreementId::new(r.id("agreement id")?)?;
                    let agreement_hash = r.array::<32>("agreement hash")?;
                    let m = r.count("status heads", MAX_STATUS_HEADS)?;
                    let mut heads = Vec::with_capacity(m);
                    for _ in 0..m {
                        let stream = StreamId::new(r.id("stream id")?)?;
                        let seq = r.u64("head seq")?;
                        let digest = r.array::<32>("head digest")?;
                        heads.push(Head {
                            stream,
                            seq,
                            digest,
                        });
                    }
                    let k = r.count("agreement signatures", MAX_STATUS_HEADS)?;
                    let mut signatures = Vec::with_capacity(k);
                    for _ in 0..k {
                        let agency = AgencyId::new(r.id("agency id")?)?;
                        signatures.push((agency, r.array::<64>("agreement signature")?));
                    }
                    agreements.push(AgreementStatus {
                        agreement,
                        agreement_hash,
                        heads,
                        signatures,
                    });
                }
                let checkpoint = match r.u8("checkpoint flag")? {
                    0 => None,
                    1 => Some(r.signed()?),
                    f => {
                        return Err(WireError::Field {
                            what: "checkpoint flag",
                            reason: format!("{f} is neither 0 nor 1"),
                        });
                    }
                };
                let n = r.count("revocations", MAX_STATUS_AGREEMENTS)?;
                let mut revocations = Vec::with_capacity(n);
                for _ in 0..n {
                    revocations.push(r.signed()?);
                }
                Message::SyncStatus(SyncStatus {
                    agreements,
                    checkpoint,
                    revocations,
                })
            }
            4 => {
                let agreement = AgreementId::new(r.id("agreement id")?)?;
                let stream = StreamId::new(r.id("stream id")?)?;
                let from = Seq::new(r.u64("range start")?)?;
                let to = Seq::new(r.u64("range end")?)?;
                if from > to {
                    return Err(WireError::Field {
                        what: "range",
                        reason: format!("start {from} is after end {to}"),
                    });
                }
                Message::RangeRequest(RangeRequest {
                    agreement,
                    stream,
                    from,
                    to,
                })
            }
            5 => {
                let agreement = AgreementId::new(r.id("agreement id")?)?;
                let stream = StreamId::new(r.id("stream id")?)?;
                let complete = match r.u8("complete flag")? {
                    0 => false,
                    1 => true,
                    f => {
                        return Err(WireError::Field {
                            what: "complete flag",
                            reason: format!("{f} is neither 0 nor 1"),
                        });
                    }
                };
                Message::RangeResponse(RangeResponse {
                    agreement,
                    stream,
                    records: r.envelopes()?,
                    complete,
                })
            }
            6 => Message::Refused(Refusal {
                code: RejectCode::from_code(r.u8("reject code")?),
                detail: r.text()?,
            }),
            7 => {
                let (agreement, epoch) = r.match_head()?;
                let from = u32::from_be_bytes(r.array::<4>("set start")?);
                Message::MatchSetRequest(MatchSetRequest {
                    agreement,
                    epoch,
                    from,
                })
            }
            8 => Message::MatchSet(r.chunk()?),
            9 => {
                let (agreement, epoch) = r.match_head()?;
                Message::Lookup(LookupRequest {
                    agreement,
                    epoch,
                    blinded: r.elements()?,
                })
            }
            10 => {
                let (agreement, epoch) = r.match_head()?;
                let evaluated = r.elements()?;
                Message::LookupAnswer(LookupAnswer {
                    agreement,
                    epoch,
                    evaluated,
                    proof: r.array::<64>("proof")?,
                })
            }
            k => return Err(WireError::Kind(k)),
        };
        let trailing = bytes.len() - r.pos;
        if trailing != 0 {
            return Err(WireError::Trailing(trailing));
        }
        Ok(msg)
    }
}

fn put_count(w: &mut Vec<u8>, n: usize, max: usize, what: &'static str) -> Result<(), WireError> {
    if n > max {
        return Err(WireError::TooMany {
            what,
            count: n,
            max,
        });
    }
    w.extend_from_slice(&(n as u16).to_be_bytes());
    Ok(())
}

/// Identifiers are validated ASCII of at most 64 bytes, so their length fits a byte.
fn put_id(w: &mut Vec<u8>, id: &str) {
    w.push(id.len() as u8);
    w.extend_from_slice(id.as_bytes());
}

fn put_text(w: &mut Vec<u8>, text: &str) -> Result<(), WireError> {
    if text.len() > MAX_DETAIL_BYTES {
        return Err(WireError::Field {
            what: "detail",
            reason: format!("{} bytes; at most {MAX_DETAIL_BYTES}", text.len()),
        });
    }
    w.extend_from_slice(&(text.len() as u16).to_be_bytes());
    w.extend_from_slice(text.as_bytes());
    Ok(())
}

fn put_signed(w: &mut Vec<u8>, s: &Signed) -> Result<(), WireError> {
    if s.bytes.len() > MAX_SIGNED_BYTES {
        return Err(WireError::Field {
            what: "signed object",
            reason: format!("{} bytes; at most {MAX_SIGNED_BYTES}", s.bytes.len()),
        });
    }
    s.encode_into(w);
    Ok(())
}

fn put_envelopes(w: &mut Vec<u8>, envs: &[Envelope]) -> Result<(), WireError> {
    put_count(w, envs.len(), MAX_BATCH_RECORDS, "records")?;
    for e in envs {
        w.extend_from_slice(&(e.encoded_len() as u32).to_be_bytes());
        e.encode_into(w);
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let available = self.bytes.len() - self.pos;
        if n > available {
            return Err(WireError::Truncated {
                what,
                offset: self.pos,
                needed: n,
                available,
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array::<8>(what)?))
    }

    fn count(&mut self, what: &'static str, max: usize) -> Result<usize, WireError> {
        let n = usize::from(u16::from_be_bytes(self.array::<2>(what)?));
        if n > max {
            return Err(WireError::TooMany {
                what,
                count: n,
                max,
            });
        }
        Ok(n)
    }

    fn id(&mut self, what: &'static str) -> Result<&'a str, WireError> {
        let n = usize::from(self.u8(what)?);
        let raw = self.take(n, what)?;
        std::str::from_utf8(raw).map_err(|_| WireError::Field {
            what,
            reason: "not UTF-8".into(),
        })
    }

    fn text(&mut self) -> Result<String, WireError> {
        let n = usize::from(u16::from_be_bytes(self.array::<2>("detail length")?));
        if n > MAX_DETAIL_BYTES {
            return Err(WireError::Field {
                what: "detail",
                reason: format!("{n} bytes; at most {MAX_DETAIL_BYTES}"),
            });
        }
        let raw = self.take(n, "detail")?;
        String::from_utf8(raw.to_vec()).map_err(|_| WireError::Field {
            what: "detail",
            reason: "not UTF-8".into(),
        })
    }

    fn signed(&mut self) -> Result<Signed, WireError> {
        let n = usize::from(u16::from_be_bytes(self.array::<2>("signed length")?));
        if n > MAX_SIGNED_BYTES {
            return Err(WireError::Field {
                what: "signed object",
                reason: format!("{n} bytes; at most {MAX_SIGNED_BYTES}"),
            });
        }
        let bytes = self.take(n, "signed object")?.to_vec();
        let signature = self.array::<64>("signature")?;
        Ok(Signed { bytes, signature })
    }

    fn record_id(&mut self) -> Result<RecordId, WireError> {
        Ok(RecordId::from_bytes(self.array::<32>("record id")?))
    }

    fn envelopes(&mut self) -> Result<Vec<Envelope>, WireError> {
        let n = self.count("records", MAX_BATCH_RECORDS)?;
        let mut out = Vec::with_capacity(n);
        for index in 0..n {
            let len = u32::from_be_bytes(self.array::<4>("envelope length")?) as usize;
            if len > MAX_ENVELOPE_BYTES {
                return Err(WireError::Envelope {
                    index,
                    source: EnvelopeError::TooLarge {
                        what: "envelope",
                        size: len,
                        max: MAX_ENVELOPE_BYTES,
                    },
                });
            }
            let raw = self.take(len, "envelope")?;
            out.push(
                Envelope::decode(raw).map_err(|source| WireError::Envelope { index, source })?,
            );
        }
        Ok(out)
    }
}
