//! Victims' returns (recommendations 8 and 9): the cases by state with their ages and next
//! step, a case's history, and its status update. What `accord returns` and `accord return
//! update` do, under the person's account; like them, no screen here shows a victim's
//! identifying data (the victim is shown by nationality; their record's page, which logs the
//! view, is a link away).

use accord_protocol::record::ReturnStatus;
use accord_protocol::{Grading, HandlingCode, RecordId};

use super::*;
use crate::workflow::returns::{
    Case, Update, cases, check_transition, find_case, history, update_draft,
};
use crate::workflow::{default_handling, human_duration};

/// The records a return case is made of: its opening victim identification and the
/// coordination records that follow it.
const CATEGORIES: &[accord_protocol::Category] = &[
    accord_protocol::Category::VictimIdentification,
    accord_protocol::Category::ReturnCoordination,
];

struct CaseRow {
    id: String,
    agreement: String,
    opened_by: String,
    opened: String,
    victims: String,
    home: String,
    state: String,
    in_state: String,
    next: String,
    updates: usize,
}

struct StateGroup {
    state: String,
    cases: Vec<CaseRow>,
}

#[derive(Template)]
#[template(path = "console/returns.html")]
struct ReturnsPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    groups: Vec<StateGroup>,
    total: usize,
}

/// The state after `s`, as the next step to take.
fn next_step(case: &Case) -> String {
    if case.withdrawn {
        return "none: withdrawn by its originator".into();
    }
    let all = ReturnStatus::ALL;
    match all.iter().position(|s| *s == case.state) {
        Some(i) if i + 1 < all.len() => all[i + 1].as_str().to_owned(),
        _ => "none: closed".into(),
    }
}

fn row(case: &Case, now: accord_protocol::Timestamp) -> CaseRow {
    CaseRow {
        id: case.case.to_string(),
        agreement: case.agreement.to_string(),
        opened_by: case
            .opened_by
            .as_ref()
            .map_or("-".to_owned(), |a| a.to_string()),
        opened: case.opened.map_or("-".to_owned(), |t| t.to_string()),
        victims: case.victims_text(),
        home: case.home.as_ref().map_or("-".to_owned(), |h| h.to_string()),
        state: if case.withdrawn {
            format!("withdrawn ({})", case.state)
        } else {
            case.state.to_string()
        },
        in_state: human_duration(case.time_in_state(now)),
        next: next_step(case),
        updates: case.updates,
    }
}

/// `GET /returns`: the cases, grouped by state in the order of a return, longest in their
/// state first.
pub(super) async fn returns(State(c): St, axum::Extension(who): axum::Extension<Who>) -> Response {
    let holdings = match holdings(&c, CATEGORIES).await {
        Ok(h) => h,
        Err(e) => return error_page(&c, &who, StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let now = clock::now();
    let all = cases(&holdings);
    let total = all.len();
    let mut groups = Vec::new();
    for state in ReturnStatus::ALL {
        let mut in_state: Vec<&Case> = all
            .iter()
            .filter(|c| !c.withdrawn && c.state == *state)
            .collect();
        in_state.sort_by_key(|c| c.since);
        if !in_state.is_empty() {
            groups.push(StateGroup {
                state: state.as_str().to_owned(),
                cases: in_state.iter().map(|c| row(c, now)).collect(),
            });
        }
    }
    let withdrawn: Vec<CaseRow> = all
        .iter()
        .filter(|c| c.withdrawn)
        .map(|c| row(c, now))
        .collect();
    if !withdrawn.is_empty() {
        groups.push(StateGroup {
            state: "withdrawn".into(),
            cases: withdrawn,
        });
    }
    render(&ReturnsPage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "returns",
        groups,
        total,
    })
}

struct Step {
    id: String,
    originator: String,
    created: String,
    status: String,
    note: String,
}

#[derive(Template)]
#[template(path = "console/return.html")]
struct CasePage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    case: CaseRow,
    steps: Vec<Step>,
    /// The states it may move to (forward, or the same with a note).
    states: Vec<&'static str>,
    not_updatable: Option<String>,
    form: UpdateForm,
    handlings: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// The form updating a case.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct UpdateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    handling: String,
    #[serde(default)]
    handling_restriction: String,
}

async fn case_view(
    c: &Console,
    who: &Who,
    text: String,
    form: UpdateForm,
    error: Option<String>,
) -> Response {
    let (holdings, id) = match holdings_and(c, text, CATEGORIES).await {
        Ok(f) => f,
        Err((status, e)) => return error_page(c, who, status, e),
    };
    let Some(held) = holdings.get(&id) else {
        return error_page(
            c,
            who,
            StatusCode::NOT_FOUND,
            format!("record {id} is not held"),
        );
    };
    let case = match find_case(&holdings, held) {
        Ok(case) => case,
        Err(e) => {
            return error_page(
                c,
                who,
                StatusCode::NOT_FOUND,
                format!("record {id} is not a return case: {e}"),
            );
        }
    };
    let not_updatable = if !who.role.may_follow_returns() {
        Some(format!(
            "a {} account does not update return cases; returns officers do",
            who.role
        ))
    } else {
        check_transition(&case, case.state)
            .err()
            .map(|e| e.to_string())
    };
    let states = ReturnStatus::ALL
        .iter()
        .filter(|s| **s >= case.state)
        .map(|s| s.as_str())
        .collect();
    let steps = history(&holdings, &case.case)
        .into_iter()
        .map(|h| Step {
            id: h.id.to_string(),
            originator: h.record.originator.to_string(),
            created: h.record.created.to_string(),
            status: h
                .record
                .return_status
                .map_or(String::new(), |s| s.to_string()),
            note: h.record.summary.clone(),
        })
        .collect();
    let mut form = form;
    if form.status.is_empty() {
        form.status = next_step(&case);
    }
    let mut res = render(&CasePage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "returns",
        csrf: who.csrf.clone(),
        case: row(&case, clock::now()),
        steps,
        states,
        not_updatable,
        form,
        handlings: HandlingCode::ALL
            .iter()
            .map(|h| (h.as_str(), handling_words(h.as_str())))
            .collect(),
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// `GET /returns/{id}`: a case, its history, and the update form for returns officers.
pub(super) async fn case(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
) -> Response {
    case_view(&c, &who, text, UpdateForm::default(), None).await
}

/// `POST /returns/{id}`: a status update of the case.
pub(super) async fn update(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
    Form(form): Form<UpdateForm>,
) -> Response {
    if !who.role.may_follow_returns() {
        return error_page(
            &c,
            &who,
            StatusCode::FORBIDDEN,
            format!("a {} account cannot update return cases", who.role),
        );
    }
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    let (holdings, id) = match holdings_and(&c, text.clone(), CATEGORIES).await {
        Ok(f) => f,
        Err((status, e)) => return error_page(&c, &who, status, e),
    };
    let cfg = c.handle.config();
    let draft = (|| -> Result<(crate::draft::Draft, RecordId), String> {
        let held = holdings
            .get(&id)
            .ok_or_else(|| format!("record {id} is not held"))?;
        let case = find_case(&holdings, held).map_err(|e| e.to_string())?;
        let status = ReturnStatus::parse(form.status.trim()).map_err(|e| e.to_string())?;
        check_transition(&case, status).map_err(|e| e.to_string())?;
        if form.note.trim().is_empty() {
            return Err("the note is empty: say what happened".into());
        }
        let ag = cfg
            .agreements
            .get(&case.agreement)
            .ok_or_else(|| format!("{} is not an agreement of this node", case.agreement))?;
        let handling = match form.handling.trim() {
            "" => default_handling(HandlingCode::H2, ag).ok_or_else(|| {
                format!(
                    "{} allows only H3: choose H3 and state the restriction",
                    ag.id
                )
            })?,
            h => HandlingCode::parse(h).map_err(|e| e.to_string())?,
        };
        let restriction =
            Some(form.handling_restriction.trim().to_owned()).filter(|s| !s.is_empty());
        Ok((
            update_draft(
                &case,
                Update {
                    status,
                    note: form.note.clone(),
                    handling,
                    handling_restriction: restriction,
                    grading: Grading::parse("A1").map_err(|e| e.to_string())?,
                },
            ),
            case.case,
        ))
    })();
    let (draft, case) = match draft {
        Ok(d) => d,
        Err(e) => return case_view(&c, &who, text, form, Some(e)).await,
    };
    match publish_as(&c, &who, draft, "return case updated").await {
        Ok(_) => see_other(format!("/returns/{case}")),
        Err(e) => case_view(&c, &who, text, form, Some(e)).await,
    }
}
