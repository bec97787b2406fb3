//! `accord return open|update` and `accord returns`: victims' return cases (recommendations
//! 8, 9; docs/workflows.md). Nothing these commands print identifies a victim.

use std::path::PathBuf;

use accord_protocol::record::{Person, ReturnStatus};
use accord_protocol::{AgreementId, Country, Grading, HandlingCode, PartialDate, PersonRole};
use anyhow::{Context, Result};
use clap::{ArgGroup, Subcommand};

use super::access::{Access, agreement};
use super::node::{next_page, page_request, refuse};
use crate::clock;
use crate::workflow::default_handling;
use crate::workflow::returns::{
    CaseView, Opening, Update, cases, check_transition, check_victim, find_case, open_draft,
    update_draft, victim_from_json,
};

/// `accord return …`
#[derive(Debug, Subcommand)]
pub enum ReturnCommand {
    /// Open a case: a return-coordination record (status `identified`) with the victim, whose
    /// identifying data travels only if the agreement permits it for the purpose `return`.
    Open(OpenArgs),
    /// Record a case's new status (forward only), without the victim's identifying data.
    Update(UpdateArgs),
}

/// The victim flags, any of which (or --victim-json) describes the victim.
const VICTIM_FLAGS: [&str; 7] = [
    "victim_ref",
    "victim_name",
    "victim_alias",
    "victim_date_of_birth",
    "victim_place_of_birth",
    "victim_nationality",
    "victim_description",
];

/// `accord return open`
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("victim").required(true).multiple(true)
    .args(["victim_json", "victim_ref", "victim_name", "victim_alias", "victim_date_of_birth",
           "victim_place_of_birth", "victim_nationality", "victim_description"])))]
pub struct OpenArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// The agreement to share under; it must permit victim data for the purpose `return` if
    /// the victim carries identifying fields.
    #[arg(long, value_parser = AgreementId::new)]
    pub agreement: AgreementId,
    /// The victim as a JSON person object (role `victim` may be left out); keeps names out of
    /// the shell history.
    #[arg(long, value_name = "FILE", conflicts_with_all = VICTIM_FLAGS)]
    pub victim_json: Option<PathBuf>,
    /// The victim's reference in this agency's files, e.g. `V1`.
    #[arg(long)]
    pub victim_ref: Option<String>,
    /// The victim's name (identifying).
    #[arg(long)]
    pub victim_name: Option<String>,
    /// Another name the victim uses (identifying; repeatable).
    #[arg(long)]
    pub victim_alias: Vec<String>,
    /// Date of birth, `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (identifying).
    #[arg(long, value_parser = PartialDate::parse)]
    pub victim_date_of_birth: Option<PartialDate>,
    /// Place of birth (identifying).
    #[arg(long)]
    pub victim_place_of_birth: Option<String>,
    /// Nationality (ISO 3166-1 alpha-2).
    #[arg(long, value_parser = Country::new)]
    pub victim_nationality: Option<Country>,
    /// A non-identifying description, e.g. "adult woman, about 25".
    #[arg(long)]
    pub victim_description: Option<String>,
    /// The victim's home country, which the return is to (ISO 3166-1 alpha-2).
    #[arg(long, value_parser = Country::new)]
    pub home: Country,
    /// The situation, in words.
    #[arg(long)]
    pub summary: String,
    /// Grading of the information, e.g. `A2`.
    #[arg(long, value_parser = Grading::parse)]
    pub grading: Grading,
    /// Handling code; default `H2`, or the agreement's most permissive code if stricter.
    #[arg(long, value_parser = HandlingCode::parse)]
    pub handling: Option<HandlingCode>,
    /// The restriction, with `--handling H3`.
    #[arg(long)]
    pub handling_restriction: Option<String>,
}

/// `accord return update`
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// The case: its id, or a unique prefix of at least 6 hex digits.
    pub case: String,
    /// The new status: protected, travel-documents-requested, documents-issued, returned,
    /// closed (forward only; the current status again adds a note).
    #[arg(long, value_parser = ReturnStatus::parse)]
    pub status: ReturnStatus,
    /// What happened, in words; do not name the victim.
    #[arg(long)]
    pub note: String,
    /// Grading; `A1` by default (the agency reports its own action).
    #[arg(long, default_value = "A1", value_parser = Grading::parse)]
    pub grading: Grading,
    /// Handling code; default `H2`, or the agreement's most permissive code if stricter.
    #[arg(long, value_parser = HandlingCode::parse)]
    pub handling: Option<HandlingCode>,
    /// The restriction, with `--handling H3`.
    #[arg(long)]
    pub handling_restriction: Option<String>,
}

/// `accord returns`
#[derive(Debug, clap::Args)]
pub struct ReturnsArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// Only cases under this agreement.
    #[arg(long, value_parser = AgreementId::new)]
    pub agreement: Option<AgreementId>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Which page (oldest case first).
    #[command(flatten)]
    pub page: crate::cli::PageArgs,
}

/// Runs `accord return …`.
pub(crate) fn run(command: &ReturnCommand) -> Result<()> {
    match command {
        ReturnCommand::Open(a) => open(a),
        ReturnCommand::Update(a) => update(a),
    }
}

fn victim(a: &OpenArgs) -> Result<Person> {
    if let Some(file) = &a.victim_json {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        return victim_from_json(&bytes).map_err(|e| refuse(file.display(), e));
    }
    let person = Person {
        role: PersonRole::Victim,
        local_ref: a.victim_ref.clone(),
        name: a.victim_name.clone(),
        aliases: a.victim_alias.clone(),
        date_of_birth: a.victim_date_of_birth,
        place_of_birth: a.victim_place_of_birth.clone(),
        nationality: a.victim_nationality,
        documents: vec![],
        description: a.victim_description.clone(),
    };
    check_victim(&person).map_err(|e| refuse("victim", e))?;
    Ok(person)
}

/// The handling code given, or the workflow's default under `agreement`.
fn handling(
    given: Option<HandlingCode>,
    ag: &accord_config::Agreement,
    what: &str,
) -> Result<HandlingCode> {
    match given {
        Some(h) => Ok(h),
        None => default_handling(HandlingCode::H2, ag).ok_or_else(|| {
            refuse(
                what,
                format!(
                    "{} allows only H3; give --handling H3 and --handling-restriction",
                    ag.id
                ),
            )
        }),
    }
}

fn open(a: &OpenArgs) -> Result<()> {
    let access = Access::open(&a.config)?;
    let what = format!("return case under {}", a.agreement);
    let ag = agreement(access.cfg(), &a.agreement)?;
    let victim = victim(a)?;
    let identifying = victim.has_identifying_fields();
    let draft = open_draft(Opening {
        agreement: a.agreement.clone(),
        victim,
        home: a.home,
        summary: a.summary.clone(),
        handling: handling(a.handling, ag, &what)?,
        handling_restriction: a.handling_restriction.clone(),
        grading: a.grading,
    });
    let id = access.publish(&draft, &what)?;
    println!("{id}");
    eprintln!(
        "return case {} opened under {}: identified; home country {}{}",
        id.short(),
        a.agreement,
        a.home,
        if identifying {
            "; the victim's identifying data is shared for the purpose `return`"
        } else {
            ""
        }
    );
    Ok(())
}

fn update(a: &UpdateArgs) -> Result<()> {
    let access = Access::open(&a.config)?;
    let id = access.resolve(&a.case, "case")?;
    let holdings = access.holdings()?;
    let what = format!("case {id}");
    let Some(held) = holdings.get(&id) else {
        return Err(refuse(
            &what,
            "this node holds no such record (`accord returns` lists the cases)",
        ));
    };
    let case = find_case(&holdings, held).map_err(|e| refuse(&what, e))?;
    check_transition(&case, a.status).map_err(|e| refuse("status update", e))?;
    let ag = agreement(access.cfg(), &case.agreement)?;
    let draft = update_draft(
        &case,
        Update {
            status: a.status,
            note: a.note.clone(),
            handling: handling(a.handling, ag, &what)?,
            handling_restriction: a.handling_restriction.clone(),
            grading: a.grading,
        },
    );
    let new = access.publish(&draft, format!("status update of case {id}"))?;
    println!("{new}");
    eprintln!(
        "case {}: {} → {} (update {})",
        id.short(),
        case.state,
        a.status,
        new.short()
    );
    Ok(())
}

/// Lists the return cases held. Never prints a victim's identifying data.
pub(crate) fn returns(a: &ReturnsArgs) -> Result<()> {
    let req = page_request(&a.page)?;
    let access = Access::open(&a.config)?;
    let holdings = access.holdings()?;
    let now = clock::now();
    let found: Vec<_> = cases(&holdings)
        .into_iter()
        .filter(|c| a.agreement.as_ref().is_none_or(|ag| *ag == c.agreement))
        .collect();
    let total = found.len();
    let open = found
        .iter()
        .filter(|c| !c.withdrawn && c.state != ReturnStatus::Closed)
        .count();
    let shown = crate::page::page(found, |c| (c.opened.unwrap_or(c.since), c.case), &req)
        .map_err(|e| refuse("--cursor", e))?;
    if a.json {
        for c in &shown.items {
            println!("{}", serde_json::to_string(&CaseView::new(c, now))?);
        }
        next_page(shown.next.as_deref());
        return Ok(());
    }
    if total == 0 {
        println!("no return cases");
        return Ok(());
    }
    println!(
        "{:<12}  {:<14}  {:<10}  {:<16}  {:<4}  {:<26}  {:<8}  UPDATES",
        "CASE", "AGREEMENT", "OPENED BY", "VICTIM", "HOME", "STATE", "IN STATE"
    );
    for c in &shown.items {
        let state = if c.withdrawn {
            format!("withdrawn ({})", c.state)
        } else {
            c.state.to_string()
        };
        let view = CaseView::new(c, now);
        println!(
            "{:<12}  {:<14}  {:<10}  {:<16}  {:<4}  {:<26}  {:<8}  {}",
            c.case.short(),
            c.agreement.as_str(),
            c.opened_by.as_ref().map_or("-", |o| o.as_str()),
            c.victims_text(),
            c.home.as_ref().map_or("-", |h| h.as_str()),
            state,
            view.time_in_state,
            c.updates
        );
    }
    if shown.items.len() < total {
        println!(
            "{} shown of {total} case(s), {open} not closed",
            shown.items.len()
        );
    } else {
        println!("{total} case(s), {open} not closed");
    }
    next_page(shown.next.as_deref());
    Ok(())
}
