//! `accord request`, `accord respond` and `accord requests`: requests for information to a
//! member's focal point and their answers (recommendation 4; docs/workflows.md).

use std::path::PathBuf;

use accord_protocol::{AgencyId, AgreementId, Category, Grading, HandlingCode};
use anyhow::Result;

use super::access::{Access, agreement, read_subjects};
use super::node::{next_page, page_request, refuse};
use crate::clock;
use crate::workflow::default_handling;
use crate::workflow::requests::{
    Direction, RequestSpec, RequestState, ResponseSpec, addressee, check_answerable, list,
    request_draft, response_draft,
};

/// `accord request`
#[derive(Debug, clap::Args)]
pub struct RequestArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// The agreement to ask under; the request reaches its members only.
    #[arg(long, value_parser = AgreementId::new)]
    pub agreement: AgreementId,
    /// The member whose focal point is asked, e.g. `PK-FIA`.
    #[arg(long, value_parser = AgencyId::new)]
    pub to: AgencyId,
    /// The question, in words.
    #[arg(long)]
    pub summary: String,
    /// A category of information wanted (repeatable), e.g. `vessel`; listed in the summary.
    #[arg(long = "category-of-interest", value_name = "CATEGORY", value_parser = Category::parse)]
    pub categories_of_interest: Vec<Category>,
    /// A JSON file with an array of subjects the request is about (docs/records.md).
    #[arg(long, value_name = "FILE")]
    pub subjects: Option<PathBuf>,
    /// Handling code; default `H1`, or the agreement's most permissive code if stricter.
    #[arg(long, value_parser = HandlingCode::parse)]
    pub handling: Option<HandlingCode>,
    /// The restriction, with `--handling H3`.
    #[arg(long)]
    pub handling_restriction: Option<String>,
    /// Grading of what the request itself states; `X4` (cannot be judged) by default.
    #[arg(long, default_value = "X4", value_parser = Grading::parse)]
    pub grading: Grading,
    /// What the request is about, as `accord match` takes it (`phone:NUMBER`, `person:NAME`
    /// with --born, …): a phone or account becomes a subject, anything else is named in the
    /// summary.
    #[arg(long, value_name = "KIND:VALUE")]
    pub selector: Option<String>,
    /// A person's year of birth, with `--selector person:NAME`.
    #[arg(long, value_name = "YYYY", requires = "selector")]
    pub born: Option<u16>,
    /// The country a national phone number of `--selector` is dialled in.
    #[arg(long, value_name = "CC", requires = "selector")]
    pub country: Option<String>,
}

/// `accord respond`
#[derive(Debug, clap::Args)]
pub struct RespondArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// The request answered: its id, or a unique prefix of at least 6 hex digits.
    pub request: String,
    /// The answer, in words.
    #[arg(long)]
    pub summary: String,
    /// Grading of the information given, e.g. `B2`.
    #[arg(long, value_parser = Grading::parse)]
    pub grading: Grading,
    /// A JSON file with an array of subjects the answer is about (docs/records.md).
    #[arg(long, value_name = "FILE")]
    pub subjects: Option<PathBuf>,
    /// Handling code; the request's by default.
    #[arg(long, value_parser = HandlingCode::parse)]
    pub handling: Option<HandlingCode>,
    /// The restriction, with `--handling H3`.
    #[arg(long)]
    pub handling_restriction: Option<String>,
}

/// `accord requests`
#[derive(Debug, clap::Args)]
pub struct RequestsArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// Only requests not answered yet.
    #[arg(long, conflicts_with = "answered")]
    pub open: bool,
    /// Only requests answered.
    #[arg(long)]
    pub answered: bool,
    /// Only requests under this agreement.
    #[arg(long, value_parser = AgreementId::new)]
    pub agreement: Option<AgreementId>,
    /// Also the requests between other members of this node's agreements.
    #[arg(long)]
    pub all: bool,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Which page (oldest first).
    #[command(flatten)]
    pub page: crate::cli::PageArgs,
}

/// Sends a request to a member's focal point.
pub(crate) fn request(a: &RequestArgs) -> Result<()> {
    let access = Access::open(&a.config)?;
    let cfg = access.cfg();
    let what = format!("request to {}", a.to);
    let (ag, focal) = addressee(cfg, &a.agreement, &a.to).map_err(|e| refuse(&what, e))?;
    let handling = match a.handling {
        Some(h) => h,
        None => default_handling(HandlingCode::H1, ag).ok_or_else(|| {
            refuse(
                &what,
                format!(
                    "{} allows only H3; give --handling H3 and --handling-restriction",
                    ag.id
                ),
            )
        })?,
    };
    let mut subjects = read_subjects(a.subjects.as_deref())?;
    let mut summary = a.summary.clone();
    if let Some(text) = &a.selector {
        let w = crate::matching::asker::wanted(text, a.born, a.country.as_deref())
            .map_err(|e| refuse(&what, format!("--selector: {e}")))?;
        match w.subject {
            Some(s) => subjects.push(s),
            None if !summary.contains(&w.shown) => {
                summary.push_str(&format!("\n\nAbout: {} {}.", w.kind, w.shown));
            }
            None => {}
        }
    }
    let draft = request_draft(RequestSpec {
        agreement: a.agreement.clone(),
        to: a.to.clone(),
        summary,
        categories_of_interest: a.categories_of_interest.clone(),
        subjects,
        handling,
        handling_restriction: a.handling_restriction.clone(),
        grading: a.grading,
    });
    let id = access.publish(&draft, &what)?;
    println!("{id}");
    match focal {
        Some(f) => eprintln!(
            "request {} under {} goes to {}'s focal point: {} <{}>",
            id.short(),
            a.agreement,
            a.to,
            f.name,
            f.contact
        ),
        None => eprintln!(
            "request {} under {} goes to {} ({} names no focal point for it)",
            id.short(),
            a.agreement,
            a.to,
            a.agreement
        ),
    }
    Ok(())
}

/// Answers a request addressed to this agency.
pub(crate) fn respond(a: &RespondArgs) -> Result<()> {
    let access = Access::open(&a.config)?;
    let id = access.resolve(&a.request, "request")?;
    let holdings = access.holdings()?;
    let what = format!("request {id}");
    let Some(request) = holdings.get(&id) else {
        return Err(refuse(&what, "this node does not hold it"));
    };
    check_answerable(&holdings, request, &access.cfg().agency).map_err(|e| refuse(&what, e))?;
    agreement(access.cfg(), &request.record.agreement)?;
    let draft = response_draft(
        request,
        ResponseSpec {
            summary: a.summary.clone(),
            subjects: read_subjects(a.subjects.as_deref())?,
            handling: a.handling,
            handling_restriction: a.handling_restriction.clone(),
            grading: a.grading,
        },
    );
    let new = access.publish(&draft, format!("response to {id}"))?;
    println!("{new}");
    eprintln!(
        "response {} answers request {} from {} under {}",
        new.short(),
        id.short(),
        request.record.originator,
        request.record.agreement
    );
    Ok(())
}

/// Lists a page of the requests held, oldest first, with the totals of the whole list.
pub(crate) fn requests(a: &RequestsArgs) -> Result<()> {
    let req = page_request(&a.page)?;
    let access = Access::open(&a.config)?;
    let holdings = access.holdings()?;
    let rows: Vec<_> = list(&holdings, access.cfg(), clock::now(), a.all)
        .into_iter()
        .filter(|r| !a.open || r.state == RequestState::Open)
        .filter(|r| !a.answered || r.state == RequestState::Answered)
        .filter(|r| a.agreement.as_ref().is_none_or(|ag| *ag == r.agreement))
        .collect();
    let count = |s: RequestState| rows.iter().filter(|r| r.state == s).count();
    let direction = |d: Direction| rows.iter().filter(|r| r.direction == d).count();
    let totals = format!(
        "{} request(s): {} open, {} answered; {} sent, {} received",
        rows.len(),
        count(RequestState::Open),
        count(RequestState::Answered),
        direction(Direction::Sent),
        direction(Direction::Received),
    );
    let total = rows.len();
    let shown =
        crate::page::page(rows, |r| (r.created, r.id), &req).map_err(|e| refuse("--cursor", e))?;
    if a.json {
        for r in &shown.items {
            println!("{}", serde_json::to_string(r)?);
        }
        next_page(shown.next.as_deref());
        return Ok(());
    }
    if total == 0 {
        println!("no requests");
        return Ok(());
    }
    println!(
        "{:<12}  {:<10}  {:<10}  {:<14}  {:<7}  {:<9}  {:<26}  FOCAL POINT",
        "ID", "FROM", "TO", "AGREEMENT", "AGE", "STATE", "ANSWERS"
    );
    for r in &shown.items {
        let answers = if r.answers.is_empty() {
            "-".to_owned()
        } else {
            r.answers
                .iter()
                .map(|id| id.short())
                .collect::<Vec<_>>()
                .join(",")
        };
        let focal = r
            .focal_point
            .as_ref()
            .map_or("-".to_owned(), |f| format!("{} <{}>", f.name, f.contact));
        println!(
            "{:<12}  {:<10}  {:<10}  {:<14}  {:<7}  {:<9}  {:<26}  {}",
            r.id.short(),
            r.from.as_str(),
            r.to.as_str(),
            r.agreement.as_str(),
            r.age,
            r.state.as_str(),
            answers,
            focal
        );
    }
    if shown.items.len() < total {
        println!("{} shown of {totals}", shown.items.len());
    } else {
        println!("{totals}");
    }
    next_page(shown.next.as_deref());
    Ok(())
}
