//! The routes report (recommendation 7): the route legs of the records a node holds,
//! aggregated into flows from source through transit to destination countries.
//!
//! A record's legs, in travel order, become one [`Flow`]: consecutive legs in the same country
//! merge (Van and İzmir are one Turkish transit), then the countries are read by role. Records
//! are counted per flow, with the latest date among their leg dates and creation dates.
//! Withdrawn records, withdrawals, and records superseded by a correction are left out. A
//! report holds countries, counts and dates only: never a person, let alone a victim.

use std::collections::BTreeMap;

use accord_protocol::Country;
use accord_protocol::record::RouteLeg;
use accord_protocol::{AgreementId, Date, LegRole, Timestamp};
use serde::Serialize;

use super::Holdings;

/// Which records a report covers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    /// Only records under this agreement.
    pub agreement: Option<AgreementId>,
    /// Only records created at or after this time.
    pub since: Option<Timestamp>,
}

/// One route, reduced to its countries by role. An empty source or destination is unknown.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub(crate) struct Flow {
    /// Where movements start (usually one country).
    pub source: Vec<Country>,
    /// The countries passed through, in order.
    pub transit: Vec<Country>,
    /// Where they end (usually one country).
    pub destination: Vec<Country>,
}

impl Flow {
    /// The flow of a record's legs, or `None` when it has none.
    pub(crate) fn of(legs: &[RouteLeg]) -> Option<Self> {
        if legs.is_empty() {
            return None;
        }
        let mut flow = Flow {
            source: vec![],
            transit: vec![],
            destination: vec![],
        };
        // Runs of consecutive legs in one country.
        let mut runs: Vec<(&Country, Vec<LegRole>)> = Vec::new();
        for leg in legs {
            match runs.last_mut() {
                Some((country, roles)) if *country == &leg.country => roles.push(leg.role),
                _ => runs.push((&leg.country, vec![leg.role])),
            }
        }
        for (country, roles) in runs {
            let has = |r: LegRole| roles.contains(&r);
            if has(LegRole::Source) {
                push_new(&mut flow.source, country);
            }
            if has(LegRole::Destination) {
                push_new(&mut flow.destination, country);
            }
            if !has(LegRole::Source) && !has(LegRole::Destination) {
                push_new(&mut flow.transit, country);
            }
        }
        Some(flow)
    }

    /// `PK → IR → TR → GR`, with `?` for an unknown end and `+` between several countries in
    /// one end.
    pub(crate) fn display(&self) -> String {
        self.joined(" → ", "+")
    }

    /// `PK>IR>TR>GR`, the CSV `flow` column.
    pub(crate) fn key(&self) -> String {
        self.joined(">", "+")
    }

    fn joined(&self, arrow: &str, plus: &str) -> String {
        let mut parts = vec![end(&self.source, plus)];
        parts.extend(self.transit.iter().map(|c| c.as_str().to_owned()));
        parts.push(end(&self.destination, plus));
        parts.join(arrow)
    }
}

/// An end of a flow: its countries joined, or `?`.
pub(crate) fn end(countries: &[Country], plus: &str) -> String {
    if countries.is_empty() {
        "?".to_owned()
    } else {
        countries
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(plus)
    }
}

fn push_new(list: &mut Vec<Country>, country: &Country) {
    if list.last() != Some(country) {
        list.push(*country);
    }
}

/// A flow with its records counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FlowCount {
    /// The flow.
    pub flow: Flow,
    /// How many records describe it.
    pub records: usize,
    /// The latest leg date or creation date among them.
    pub latest: Date,
}

/// The flows of the records in scope, most records first (then by flow).
pub(crate) fn flows(holdings: &Holdings, scope: &Scope) -> Vec<FlowCount> {
    let mut counts: BTreeMap<Flow, (usize, Date)> = BTreeMap::new();
    for held in holdings.iter() {
        let r = &held.record;
        if r.withdraws.is_some()
            || holdings.is_withdrawn(&held.id)
            || holdings.is_corrected(&held.id)
            || scope.agreement.as_ref().is_some_and(|a| *a != r.agreement)
            || scope.since.is_some_and(|s| r.created < s)
        {
            continue;
        }
        let Some(flow) = Flow::of(&r.route) else {
            continue;
        };
        let latest = r
            .route
            .iter()
            .flat_map(|l| [l.from, l.until])
            .flatten()
            .chain([r.created.date()])
            .max()
            .unwrap_or(r.created.date());
        let entry = counts.entry(flow).or_insert((0, latest));
        entry.0 += 1;
        entry.1 = entry.1.max(latest);
    }
    let mut out: Vec<FlowCount> = counts
        .into_iter()
        .map(|(flow, (records, latest))| FlowCount {
            flow,
            records,
            latest,
        })
        .collect();
    out.sort_by(|a, b| {
        b.records
            .cmp(&a.records)
            .then_with(|| a.flow.key().cmp(&b.flow.key()))
    });
    out
}

/// The flows as a table for a terminal.
pub(crate) fn table(flows: &[FlowCount]) -> String {
    if flows.is_empty() {
        return "no route legs in the records in scope\n".to_owned();
    }
    let width = flows
        .iter()
        .map(|f| f.flow.display().chars().count())
        .max()
        .unwrap_or(0)
        .max("FLOW".len());
    let mut out = format!("{:<width$}  {:>7}  LATEST\n", "FLOW", "RECORDS");
    for f in flows {
        let text = f.flow.display();
        let pad = width - text.chars().count();
        out.push_str(&format!(
            "{text}{}  {:>7}  {}\n",
            " ".repeat(pad),
            f.records,
            f.latest
        ));
    }
    let total: usize = flows.iter().map(|f| f.records).sum();
    out.push_str(&format!("{} flow(s), {total} record(s)\n", flows.len()));
    out
}

/// The flows as CSV: `flow,source,transit,destination,records,latest`; several transit
/// countries are joined with `>`, several countries at one end with `+`, an unknown end is
/// empty.
pub(crate) fn csv(flows: &[FlowCount]) -> String {
    let mut out = String::from("flow,source,transit,destination,records,latest\n");
    for f in flows {
        let join =
            |cs: &[Country], sep: &str| cs.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(sep);
        // Country codes and the separators used are never quoted in CSV.
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            f.flow.key(),
            join(&f.flow.source, "+"),
            join(&f.flow.transit, ">"),
            join(&f.flow.destination, "+"),
            f.records,
            f.latest
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(country: &str, role: &str) -> RouteLeg {
        RouteLeg {
            country: Country::new(country).unwrap(),
            role: LegRole::parse(role).unwrap(),
            place: None,
            from: None,
            until: None,
        }
    }

    fn flow(legs: &[(&str, &str)]) -> String {
        let legs: Vec<RouteLeg> = legs.iter().map(|(c, r)| leg(c, r)).collect();
        Flow::of(&legs).map_or("none".into(), |f| f.key())
    }

    #[test]
    fn legs_collapse_into_flows() {
        assert_eq!(flow(&[]), "none");
        assert_eq!(
            flow(&[
                ("PK", "source"),
                ("IR", "transit"),
                ("TR", "transit"),
                ("TR", "transit"),
                ("GR", "destination"),
            ]),
            "PK>IR>TR>GR"
        );
        // A country that is both where a run starts and passed through is the source.
        assert_eq!(
            flow(&[("PK", "source"), ("PK", "transit"), ("IR", "destination")]),
            "PK>IR"
        );
        // Unknown ends read `?`; several at one end are joined with `+`.
        assert_eq!(flow(&[("TR", "transit"), ("GR", "destination")]), "?>TR>GR");
        assert_eq!(flow(&[("TR", "transit")]), "?>TR>?");
        assert_eq!(
            flow(&[("AF", "source"), ("PK", "source"), ("IR", "destination")]),
            "AF+PK>IR"
        );
    }

    #[test]
    fn csv_and_table_agree() {
        let f = FlowCount {
            flow: Flow {
                source: vec![Country::new("SY").unwrap()],
                transit: vec![Country::new("TR").unwrap(), Country::new("BG").unwrap()],
                destination: vec![],
            },
            records: 2,
            latest: Date::new(2026, 11, 3).unwrap(),
        };
        assert_eq!(
            csv(std::slice::from_ref(&f)),
            "flow,source,transit,destination,records,latest\nSY>TR>BG>?,SY,TR>BG,,2,2026-11-03\n"
        );
        let t = table(&[f]);
        assert!(t.contains("SY → TR → BG → ?        2  2026-11-03"), "{t}");
    }
}
