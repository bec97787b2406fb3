//! The send path's durability (invariants 4 and 7, docs/invariants.md): the `send` entries of
//! a push or a range answer are written and flushed before its frame is handed to libp2p, so
//! a crash can never leave a record delivered without the entry that says it was sent.
//!
//! The flush runs off the loop, like a receive [`super::inbound::Job`], so the network actor
//! never waits for the disk: the core hands a [`SendJob`] the message and its
//! entries, and gets the encoded frame back as a [`Sent`] once the entries are durable. The
//! store's flush is a group commit, so a send job shares its disk sync with the receive jobs
//! and publishes flushing at the same moment.

use std::sync::Arc;

use super::codec::Frame;
use super::core::{InboundId, Pending};
use crate::store::Store;
use accord_protocol::audit::AuditEvent;
use accord_protocol::{AgencyId, Message, Timestamp};

/// Where a frame goes once its entries are durable.
pub(crate) enum Target {
    /// A request to a peer (a push), with what its answer settles.
    Request { peer: AgencyId, pending: Pending },
    /// The answer to a peer's request (a range answer).
    Response { to: AgencyId, id: InboundId },
}

/// A message whose `send` entries are to be made durable before it leaves.
pub(crate) struct SendJob {
    pub store: Arc<Store>,
    pub now: Timestamp,
    pub sends: Vec<AuditEvent>,
    pub message: Message,
    pub target: Target,
}

/// A finished [`SendJob`]: the frame to hand to libp2p, or why nothing may be sent.
pub(crate) struct Sent {
    pub target: Target,
    pub frame: Result<Frame, String>,
    /// The records its `send` entries name, in order.
    pub records: Vec<accord_protocol::RecordId>,
}

impl SendJob {
    /// Encodes the message, appends the entries and flushes (blocking: the executor runs it
    /// off the loop).
    pub(crate) fn run(self) -> Sent {
        let frame = self.durable_frame();
        let records = self
            .sends
            .iter()
            .flat_map(|e| e.sent().into_iter().map(|s| s.record))
            .collect();
        Sent {
            target: self.target,
            frame,
            records,
        }
    }

    fn durable_frame(&self) -> Result<Frame, String> {
        let bytes = self
            .message
            .encode()
            .map_err(|e| format!("cannot encode the message: {e}"))?;
        self.store
            .log()
            .audit(self.now, self.sends.clone())
            .map_err(|e| format!("cannot write the send entries: {e}"))?;
        self.store
            .flush()
            .map_err(|e| format!("cannot flush the send entries: {e}"))?;
        Ok(Frame::new(bytes))
    }
}
