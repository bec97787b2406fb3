//! Readable multi-line summaries, for `accord config check`.

use std::fmt::Write as _;

use crate::agreement::Agreement;
use crate::node::NodeConfig;

/// Hex digits of an agreement's hash shown in summaries.
const HASH_PREFIX_LEN: usize = 16;

impl NodeConfig {
    /// The node's configuration in a few readable lines: agency, files, listen addresses, API,
    /// known agencies and each agreement.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_summary(&mut out);
        out
    }

    fn write_summary(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "node of agency {} ({})",
            self.agency,
            self.path.display()
        )?;
        writeln!(out, "  key file:  {}", self.key_file.display())?;
        writeln!(
            out,
            "  data dir:  {} (a new store on {})",
            self.data_dir.display(),
            self.store_engine
        )?;
        writeln!(out, "  listen:    {}", join(&self.listen))?;
        writeln!(
            out,
            "  api:       {} (token file {})",
            self.api.bind,
            self.api.token_file.display()
        )?;
        writeln!(out, "  known agencies ({}):", self.agencies.len())?;
        for agency in self.agencies.values() {
            let addresses = if agency.addresses.is_empty() {
                "(dials in)".to_owned()
            } else {
                join(&agency.addresses)
            };
            writeln!(
                out,
                "    {:<12} {}  {addresses}",
                agency.id.as_str(),
                agency.public_key
            )?;
        }
        writeln!(out, "  agreements ({}):", self.agreements.len())?;
        for agreement in self.agreements.values() {
            for line in agreement.summary().lines() {
                writeln!(out, "    {line}")?;
            }
        }
        Ok(())
    }
}

impl Agreement {
    /// The agreement in a few readable lines: kind, members and focal points, validity, what
    /// may be shared, and the file's hash prefix.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_summary(&mut out);
        out
    }

    fn write_summary(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "{}: {}", self.id, self.title)?;
        writeln!(
            out,
            "  kind:           {}, {} members: {}",
            self.kind,
            self.members.len(),
            join(&self.members)
        )?;
        for (agency, point) in &self.focal_points {
            writeln!(
                out,
                "  focal point:    {:<12} {} <{}>",
                agency.as_str(),
                point.name,
                point.contact
            )?;
        }
        writeln!(
            out,
            "  valid:          {} through {} (UTC, inclusive)",
            self.valid_from, self.valid_until
        )?;
        writeln!(out, "  categories:     {}", join(&self.categories))?;
        writeln!(
            out,
            "  handling:       {} or more restrictive",
            self.most_permissive_handling
        )?;
        if self.victim_data.allowed {
            writeln!(
                out,
                "  victim data:    allowed for {}",
                join(&self.victim_data.purposes)
            )?;
        } else {
            writeln!(out, "  victim data:    not allowed")?;
        }
        writeln!(out, "  retention:      {} days", self.retention_days)?;
        writeln!(out, "  onward sharing: {}", self.onward_sharing)?;
        match &self.matching {
            Some(m) => writeln!(
                out,
                "  matching:       {} lookups a day per member, keys of {} day(s), {}",
                m.lookups_per_day,
                m.epoch_days,
                if m.partner_records {
                    "own and partners' records"
                } else {
                    "own records only"
                }
            )?,
            None => writeln!(out, "  matching:       off")?,
        }
        match &self.release {
            Some(r) => {
                let mut what: Vec<String> = Vec::new();
                if !r.handling.is_empty() {
                    let codes: Vec<&str> = r.handling.iter().map(|h| h.as_str()).collect();
                    what.push(format!("handling {}", codes.join(", ")));
                }
                if !r.categories.is_empty() {
                    let cats: Vec<&str> = r.categories.iter().map(|c| c.as_str()).collect();
                    what.push(format!("categories {}", cats.join(", ")));
                }
                if r.victim_data {
                    what.push("victim-identifying data".to_owned());
                }
                writeln!(
                    out,
                    "  release:        {} releaser approval(s) for {}",
                    r.approvals,
                    what.join("; ")
                )?
            }
            None => writeln!(out, "  release:        no approval needed")?,
        }
        let hash = self.hash_hex();
        writeln!(
            out,
            "  sha-256:        {}… ({})",
            &hash[..HASH_PREFIX_LEN],
            self.path.display()
        )?;
        Ok(())
    }
}

fn join<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
