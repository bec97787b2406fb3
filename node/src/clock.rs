//! The node's clock: the only place that reads the system time.

use accord_protocol::Timestamp;

/// The current time in whole seconds (the epoch if the system clock is before 1970).
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Timestamp::from_clock(secs)
}
