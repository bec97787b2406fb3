//! The request-response codec: a frame is a u32 big-endian length and that many bytes of one
//! wire message (docs/protocol.md §6). The codec only bounds and moves bytes; the actor decodes
//! them, so a malformed message gets a typed refusal rather than a dropped stream.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use accord_protocol::wire::MAX_FRAME_BYTES;
use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The accord request-response protocol.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/accord/1");

/// The bytes of requests that may be being read at once, from all peers together: what the
/// node buffers for requests it has not read to the end. A request that would take more is
/// refused `Busy` (and logged) instead of read, so peers announcing large frames on many
/// streams cannot make the node hold more than this.
pub const INBOUND_BUDGET_BYTES: usize = 64 * 1024 * 1024;

/// A request is read this much at a time, its buffer growing as bytes arrive, so a length
/// prefix that announces 8 MiB costs nothing until the bytes come.
pub const READ_CHUNK: usize = 64 * 1024;

/// How long a request's body may stop arriving before its read is given up (its budget back).
pub const STALL: std::time::Duration = std::time::Duration::from_secs(10);

/// One encoded wire message, or a request that is not read: its length prefix announced more
/// than [`MAX_FRAME_BYTES`], or the inbound budget was spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message's bytes (none for a request not read).
    pub bytes: Vec<u8>,
    /// The length an oversized request announced. Its body is never read: the actor answers
    /// it with a typed refusal and logs it, as it does a malformed message.
    pub oversized: Option<usize>,
    /// The length a request announced when the inbound budget ([`INBOUND_BUDGET_BYTES`]) was
    /// spent: its body is not read (what was read is dropped), and the actor answers `Busy`.
    pub over_budget: Option<usize>,
    /// A request whose body ended, or stopped arriving for [`STALL`], before the length its
    /// prefix announced: (bytes received, bytes announced). libp2p drops a codec's read error
    /// without telling the node, so the codec hands the actor this instead, which refuses it
    /// and counts it where operators look.
    pub cut_off: Option<(usize, usize)>,
}

impl Frame {
    /// A frame of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            oversized: None,
            over_budget: None,
            cut_off: None,
        }
    }
}

/// The bytes of requests being read, against [`INBOUND_BUDGET_BYTES`].
#[derive(Debug)]
pub struct InboundBudget {
    used: AtomicUsize,
    limit: usize,
}

impl InboundBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes `n` bytes; false (and nothing taken) when that would pass the limit.
    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    /// Gives `n` bytes back.
    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    /// Bytes taken now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// Length-prefixed frames of at most [`MAX_FRAME_BYTES`]; requests read within a budget shared
/// by every connection (libp2p gives each stream a clone of the codec).
#[derive(Clone, Debug)]
pub struct FrameCodec {
    budget: Arc<InboundBudget>,
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::with_budget(INBOUND_BUDGET_BYTES)
    }
}

impl FrameCodec {
    /// A codec whose requests share a budget of `limit` bytes.
    pub fn with_budget(limit: usize) -> Self {
        Self {
            budget: Arc::new(InboundBudget::new(limit)),
        }
    }

    /// The budget its requests are read within.
    pub fn budget(&self) -> &Arc<InboundBudget> {
        &self.budget
    }
}

/// How the read of a request's body ended.
enum Body {
    /// All of it.
    Read(Vec<u8>),
    /// The budget was spent (what was read is dropped).
    OverBudget,
    /// The stream ended or stalled after this many bytes.
    CutOff(usize),
}

/// Reads a request's body of `len` bytes a chunk at a time within `budget`. The budget is given
/// back once the read ends: the frame then goes to the actor, which decodes it at once and
/// bounds the work it queues.
async fn read_body<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    len: usize,
    budget: &InboundBudget,
) -> io::Result<Body> {
    let mut buf = Vec::with_capacity(len.min(READ_CHUNK));
    let mut taken = 0;
    let result = async {
        while buf.len() < len {
            let chunk = (len - buf.len()).min(READ_CHUNK);
            if !budget.take(chunk) {
                return Ok(Some(Body::OverBudget));
            }
            taken += chunk;
            let start = buf.len();
            buf.resize(start + chunk, 0);
            // a peer that stops sending gives the budget back after STALL, not after the
            // request timeout
            // a peer that stops sending gives the budget back after STALL
            let mut got = 0;
            let read = tokio::time::timeout(STALL, async {
                while got < chunk {
                    match io.read(&mut buf[start + got..start + chunk]).await? {
                        0 => return Ok::<bool, io::Error>(false),
                        n => got += n,
                    }
                }
                Ok(true)
            })
            .await;
            match read {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) | Err(_) => return Ok(Some(Body::CutOff(start + got))),
                Ok(Err(e)) => return Err(e),
            }
        }
        Ok(None)
    }
    .await;
    budget.give(taken);
    match result {
        Ok(Some(ended)) => Ok(ended),
        Ok(None) => Ok(Body::Read(buf)),
        Err(e) => Err(e),
    }
}

/// Reads a frame. One announcing more than [`MAX_FRAME_BYTES`] is left unread: a request
/// comes back as [`Frame::oversized`] (so the peer gets a typed refusal, and the refusal is
/// logged — libp2p would drop a read error without telling the node), a response is an error.
async fn read_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    request: Option<&InboundBudget>,
) -> io::Result<Frame> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME_BYTES {
        if request.is_some() {
            return Ok(Frame {
                oversized: Some(len),
                ..Frame::new(Vec::new())
            });
        }
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the maximum of {MAX_FRAME_BYTES}"),
        ));
    }
    if let Some(budget) = request {
        return Ok(match read_body(io, len, budget).await? {
            Body::Read(bytes) => Frame::new(bytes),
            Body::OverBudget => Frame {
                over_budget: Some(len),
                ..Frame::new(Vec::new())
            },
            Body::CutOff(got) => Frame {
                cut_off: Some((got, len)),
                ..Frame::new(Vec::new())
            },
        });
    }
    // a response: the answer to a request of ours, at most MAX_FRAME_BYTES, read as it arrives
    let mut buf = Vec::with_capacity(len.min(READ_CHUNK));
    (&mut *io).take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the response ended after {} of {len} bytes", buf.len()),
        ));
    }
    Ok(Frame::new(buf))
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, frame: Frame) -> io::Result<()> {
    if frame.bytes.len() > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "frame too large to send",
        ));
    }
    io.write_all(&(frame.bytes.len() as u32).to_be_bytes())
        .await?;
    io.write_all(&frame.bytes).await?;
    io.close().await
}

/// Reads one request frame from `io` within `budget`, as the node reads a peer's request: the
/// codec's own read, for tests and fuzzing of what a peer can make it do.
pub async fn read_request<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    budget: &InboundBudget,
) -> io::Result<Frame> {
    read_frame(io, Some(budget)).await
}

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Frame;
    type Response = Frame;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Frame> {
        read_request(io, &self.budget).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Frame> {
        read_frame(io, None).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Frame,
    ) -> io::Result<()> {
        write_frame(io, req).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Frame,
    ) -> io::Result<()> {
        write_frame(io, res).await
    }
}
