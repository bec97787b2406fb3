//! What the configuration tests share: a valid bilateral agreement between TR-JGK and
//! BG-GDBP (`errors/` reads it beside its node file; `matching.rs` adds a `[matching]`
//! table to it).

/// A valid bilateral agreement between the node and its one known agency.
pub(crate) const AGREEMENT: &str = r#"id = "TR-BG-2026"
title = "Test agreement"
kind = "bilateral"
members = ["TR-JGK", "BG-GDBP"]
valid_from = 2026-01-01
valid_until = "2026-12-31"
categories = ["route", "alert"]
most_permissive_handling = "H1"
retention_days = 365
onward_sharing = "never"

[victim_data]
allowed = false

[focal_points.TR-JGK]
name = "Head of unit"
contact = "tr@example.org"

[focal_points.BG-GDBP]
name = "Head of unit"
contact = "bg@example.org"
"#;
