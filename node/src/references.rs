//! A record's references to other records: `corrects` and `withdraws` name a record of the same
//! originator and agreement, `responds_to` a record of the same agreement. A reference across
//! agreements would carry a record id to members of another agreement, and a withdrawal of
//! another originator's record would let one member mark a partner's record as withdrawn.
//! Checked when publishing (the target must be held here) and when accepting (where the target
//! is held; one that arrives later is checked by [`consistent`] wherever references are read).

use accord_protocol::{Record, RecordId};

use crate::store::{Store, StoreError};

/// The kinds of reference, as the record names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `corrects`
    Corrects,
    /// `withdraws`
    Withdraws,
    /// `responds_to`
    RespondsTo,
}

impl Kind {
    /// The field's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Corrects => "corrects",
            Kind::Withdraws => "withdraws",
            Kind::RespondsTo => "responds_to",
        }
    }

    fn of(r: &Record) -> impl Iterator<Item = (Kind, RecordId)> {
        [
            (Kind::Corrects, r.corrects),
            (Kind::Withdraws, r.withdraws),
            (Kind::RespondsTo, r.responds_to),
        ]
        .into_iter()
        .filter_map(|(k, t)| t.map(|t| (k, t)))
    }
}

/// Whether `by`'s reference of `kind` to `target` stays within what the record format allows.
pub(crate) fn consistent(kind: Kind, by: &Record, target: &Record) -> bool {
    let same_agreement = by.agreement == target.agreement;
    match kind {
        Kind::Corrects | Kind::Withdraws => same_agreement && by.originator == target.originator,
        Kind::RespondsTo => same_agreement,
    }
}

/// The first problem with `r`'s references, in words, or `None`. With `require_held`, a target
/// this store does not hold is a problem too (a node publishes references only to records it
/// holds).
pub(crate) fn problem(
    store: &Store,
    r: &Record,
    require_held: bool,
) -> Result<Option<String>, StoreError> {
    for (kind, target) in Kind::of(r) {
        let name = kind.name();
        match store.records().get(&target)? {
            None if require_held => {
                return Ok(Some(format!(
                    "`{name}` names record {target}, which is not held here"
                )));
            }
            None => {}
            Some(t) if !consistent(kind, r, &t.record) => {
                let what = match kind {
                    Kind::RespondsTo => "a record of the same agreement",
                    _ => "a record of the same originator and agreement",
                };
                return Ok(Some(format!(
                    "`{name}` names record {target}, {}'s under {}; it must name {what} \
                     ({} under {})",
                    t.record.originator, t.record.agreement, r.originator, r.agreement
                )));
            }
            Some(_) => {}
        }
    }
    Ok(None)
}
