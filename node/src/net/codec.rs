//! The request-response codec: a frame is a u32 big-endian length and that many bytes of one
//! wire message (docs/protocol.md §6). The codec only bounds and moves bytes; the actor decodes
//! them, so a malformed message gets a typed refusal rather than a dropped stream.

use std::io;

use accord_protocol::wire::MAX_FRAME_BYTES;
use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The accord request-response protocol.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/accord/1");

/// One encoded wire message, or a request whose length prefix announced more than
/// [`MAX_FRAME_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message's bytes (none for an oversized request).
    pub bytes: Vec<u8>,
    /// The length an oversized request announced. Its body is never read: the actor answers
    /// it with a typed refusal and logs it, as it does a malformed message.
    pub oversized: Option<usize>,
}

impl Frame {
    /// A frame of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            oversized: None,
        }
    }
}

/// Length-prefixed frames of at most [`MAX_FRAME_BYTES`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameCodec;

/// Reads a frame. One announcing more than [`MAX_FRAME_BYTES`] is left unread: a request
/// comes back as [`Frame::oversized`] (so the peer gets a typed refusal, and the refusal is
/// logged — libp2p would drop a read error without telling the node), a response is an error.
async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, request: bool) -> io::Result<Frame> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME_BYTES {
        if request {
            return Ok(Frame {
                bytes: Vec::new(),
                oversized: Some(len),
            });
        }
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the maximum of {MAX_FRAME_BYTES}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
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

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Frame;
    type Response = Frame;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Frame> {
        read_frame(io, true).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Frame> {
        read_frame(io, false).await
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
