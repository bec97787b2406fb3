//! The Bali Process workflows over the records a node holds (docs/workflows.md):
//!
//! - [`requests`]: requests for information to a member's focal point and their answers
//!   (recommendation 4);
//! - [`returns`]: victims' return cases and their status updates (recommendations 8, 9);
//! - [`routes`]: source, transit and destination flows aggregated from route legs
//!   (recommendation 7), as a table, CSV or an SVG diagram ([`svg`]).
//!
//! Everything here is pure: it takes the records held ([`Holdings`]), the configuration and
//! the time, and returns rows, drafts or refusals. The commands (`commands/requests.rs`,
//! `returns.rs`, `report.rs`) read the store, or ask the running node, and print.

pub(crate) mod held;
pub mod requests;
pub mod returns;
pub(crate) mod routes;
pub(crate) mod svg;

pub use held::{Held, Holdings};

use accord_config::Agreement;
use accord_protocol::{AgreementId, Category, Grading, HandlingCode};

use crate::draft::Draft;

/// A duration in whole seconds for people: `3d 4h`, `5h 12m`, `7m`, `40s`. Negative
/// durations (a record created ahead of this node's clock) read as `0s`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{secs}s")
    }
}

/// The handling code a workflow record gets when none is given: `preferred`, or the
/// agreement's most permissive code when that is stricter. `None` when that would be `H3`,
/// whose restriction only a person can state.
pub fn default_handling(preferred: HandlingCode, agreement: &Agreement) -> Option<HandlingCode> {
    let code = preferred.max(agreement.most_permissive_handling);
    (code != HandlingCode::H3).then_some(code)
}

/// A draft with only what every record needs; the workflows fill in the rest.
fn draft(
    agreement: AgreementId,
    category: Category,
    handling: HandlingCode,
    handling_restriction: Option<String>,
    grading: Grading,
    summary: String,
) -> Draft {
    Draft {
        originator: None,
        agreement,
        category,
        handling,
        handling_restriction,
        grading,
        created: None,
        expires: None,
        subjects: vec![],
        route: vec![],
        summary,
        victim_data_purpose: None,
        corrects: None,
        withdraws: None,
        responds_to: None,
        addressed_to: None,
        return_status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(3 * 86_400 + 4 * 3_600 + 59), "3d 4h");
        assert_eq!(human_duration(5 * 3_600 + 12 * 60 + 3), "5h 12m");
        assert_eq!(human_duration(7 * 60), "7m");
        assert_eq!(human_duration(40), "40s");
        assert_eq!(human_duration(-5), "0s");
    }
}
