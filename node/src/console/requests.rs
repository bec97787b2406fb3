//! Requests for information (recommendation 4): the focal point's inbox, answering with a
//! graded response, asking a member's focal point, and the state of what this agency asked.
//! The rows are `accord requests`' ([`crate::workflow::requests::list`]); the answer and the
//! request are the drafts `accord respond` and `accord request` make, published under the
//! person's account.

use accord_protocol::{AgencyId, AgreementId, Grading, HandlingCode, RecordId};

use super::*;
use crate::workflow::requests::{
    Direction, RequestRow, RequestSpec, RequestState, ResponseSpec, addressee, check_answerable,
    list, request_draft, response_draft,
};
use crate::workflow::{Held, Holdings, default_handling};

/// The records a request's workflow is made of.
const CATEGORIES: &[accord_protocol::Category] = &[
    accord_protocol::Category::RequestForInformation,
    accord_protocol::Category::Response,
];

/// An open request received longer ago than this is shown as overdue (docs/console.md).
pub(super) const ANSWER_WITHIN_SECS: i64 = 7 * 86_400;

struct Row {
    id: String,
    from: String,
    to: String,
    agreement: String,
    age: String,
    state: &'static str,
    overdue: bool,
    summary: String,
    answers: usize,
    focal_point: String,
}

#[derive(Template)]
#[template(path = "console/requests.html")]
struct RequestsPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    inbox: Vec<Row>,
    sent: Vec<Row>,
    may_ask: bool,
    ask: AskForm,
    agreements: Vec<String>,
    members: Vec<String>,
    handlings: Vec<(&'static str, String)>,
    error: Option<String>,
}

struct Answer {
    id: String,
    from: String,
    created: String,
    grading: String,
    handling: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "console/request.html")]
struct RequestPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    row: Row,
    created: String,
    handling: String,
    answers: Vec<Answer>,
    /// Why this account cannot answer it here, when it cannot.
    not_answerable: Option<String>,
    form: AnswerForm,
    gradings: Vec<(String, String)>,
    handlings: Vec<(&'static str, String)>,
    error: Option<String>,
}

fn summary_of(holdings: &Holdings, id: &RecordId) -> String {
    holdings
        .get(id)
        .map(|h| h.record.summary.clone())
        .unwrap_or_default()
}

fn row_of(holdings: &Holdings, r: &RequestRow) -> Row {
    Row {
        id: r.id.to_string(),
        from: r.from.to_string(),
        to: r.to.to_string(),
        agreement: r.agreement.to_string(),
        age: r.age.clone(),
        state: r.state.as_str(),
        overdue: r.state == RequestState::Open && r.age_secs > ANSWER_WITHIN_SECS,
        summary: summary_of(holdings, &r.id),
        answers: r.answers.len(),
        focal_point: r
            .focal_point
            .as_ref()
            .map(|f| format!("{} <{}>", f.name, f.contact))
            .unwrap_or_default(),
    }
}

/// Every grading with what it says, for a select.
fn gradings() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in ["A", "B", "C", "X"] {
        for i in ["1", "2", "3", "4"] {
            let code = format!("{s}{i}");
            out.push((code.clone(), grading_words(&code)));
        }
    }
    out
}

fn handlings() -> Vec<(&'static str, String)> {
    HandlingCode::ALL
        .iter()
        .map(|h| (h.as_str(), handling_words(h.as_str())))
        .collect()
}

/// The form asking a member's focal point.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct AskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    handling: String,
    #[serde(default)]
    handling_restriction: String,
    /// What the request is about, as a hit / no-hit lookup names it (`phone:…`): a phone or
    /// account becomes its subject.
    #[serde(default)]
    selector: String,
}

async fn requests_view(c: &Console, who: &Who, ask: AskForm, error: Option<String>) -> Response {
    let holdings = match holdings(c, CATEGORIES).await {
        Ok(h) => h,
        Err(e) => return error_page(c, who, StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let cfg = c.handle.config();
    let now = clock::now();
    let rows = list(&holdings, &cfg, now, false);
    let mut inbox: Vec<&RequestRow> = rows
        .iter()
        .filter(|r| r.direction == Direction::Received)
        .collect();
    // open first, the oldest (most overdue) at the top; then answered and withdrawn, newest first
    inbox.sort_by_key(|r| {
        let open = r.state == RequestState::Open;
        (
            !open,
            if open {
                r.created.unix()
            } else {
                -r.created.unix()
            },
        )
    });
    let mut sent: Vec<&RequestRow> = rows
        .iter()
        .filter(|r| r.direction == Direction::Sent)
        .collect();
    sent.sort_by_key(|r| std::cmp::Reverse(r.created));
    let agreements: Vec<&accord_config::Agreement> = cfg
        .agreements
        .values()
        .filter(|a| a.members.contains(&cfg.agency))
        .collect();
    let members: std::collections::BTreeSet<String> = agreements
        .iter()
        .flat_map(|a| a.members.iter())
        .filter(|m| **m != cfg.agency)
        .map(|m| m.to_string())
        .collect();
    let mut res = render(&RequestsPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "requests",
        csrf: who.csrf.clone(),
        inbox: inbox.iter().map(|r| row_of(&holdings, r)).collect(),
        sent: sent.iter().map(|r| row_of(&holdings, r)).collect(),
        may_ask: who.role.may_publish(),
        ask,
        agreements: agreements.iter().map(|a| a.id.to_string()).collect(),
        members: members.into_iter().collect(),
        handlings: handlings(),
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// `GET /requests`: the inbox, the requests sent, and the form to ask.
pub(super) async fn requests(State(c): St, axum::Extension(who): axum::Extension<Who>) -> Response {
    requests_view(&c, &who, AskForm::default(), None).await
}

/// `POST /requests`: asks a member's focal point.
pub(super) async fn ask(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Form(form): Form<AskForm>,
) -> Response {
    if !who.role.may_publish() {
        return error_page(
            &c,
            &who,
            StatusCode::FORBIDDEN,
            format!("a {} account cannot ask requests", who.role),
        );
    }
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    let draft = (|| -> Result<crate::draft::Draft, String> {
        let cfg = c.handle.config();
        let agreement = AgreementId::new(form.agreement.trim()).map_err(|e| e.to_string())?;
        let to = AgencyId::new(form.to.trim()).map_err(|e| e.to_string())?;
        if form.summary.trim().is_empty() {
            return Err("the question is empty: say what is asked".into());
        }
        let (ag, _) = addressee(&cfg, &agreement, &to).map_err(|e| e.to_string())?;
        let handling = match form.handling.trim() {
            "" => default_handling(HandlingCode::H1, ag).ok_or_else(|| {
                format!(
                    "{} allows only H3: choose H3 and state the restriction",
                    ag.id
                )
            })?,
            h => HandlingCode::parse(h).map_err(|e| e.to_string())?,
        };
        let restriction =
            Some(form.handling_restriction.trim().to_owned()).filter(|s| !s.is_empty());
        let subjects = match form.selector.trim() {
            "" => vec![],
            s => crate::matching::asker::wanted(s, None, None)?
                .subject
                .into_iter()
                .collect(),
        };
        Ok(request_draft(RequestSpec {
            agreement,
            to,
            summary: form.summary.trim().to_owned(),
            categories_of_interest: vec![],
            subjects,
            handling,
            handling_restriction: restriction,
            grading: Grading::parse("X4").map_err(|e| e.to_string())?,
        }))
    })();
    let draft = match draft {
        Ok(d) => d,
        Err(e) => return requests_view(&c, &who, form, Some(e)).await,
    };
    match publish_as(&c, &who, draft, "request sent").await {
        Ok(id) => see_other(format!("/requests/{id}")),
        Err(e) => requests_view(&c, &who, form, Some(e)).await,
    }
}

/// The form answering a request.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    grading: String,
    #[serde(default)]
    handling: String,
    #[serde(default)]
    handling_restriction: String,
}

async fn request_view(
    c: &Console,
    who: &Who,
    text: String,
    form: AnswerForm,
    error: Option<String>,
) -> Response {
    let (holdings, id) = match holdings_and(c, text, CATEGORIES).await {
        Ok(found) => found,
        Err((status, e)) => return error_page(c, who, status, e),
    };
    let cfg = c.handle.config();
    let now = clock::now();
    let Some(row) = list(&holdings, &cfg, now, true)
        .into_iter()
        .find(|r| r.id == id)
    else {
        return error_page(
            c,
            who,
            StatusCode::NOT_FOUND,
            format!(
                "record {id} is not a request this node holds (or it was corrected: open the latest version)"
            ),
        );
    };
    let held: &Held = match holdings.get(&id) {
        Some(h) => h,
        None => {
            return error_page(
                c,
                who,
                StatusCode::NOT_FOUND,
                format!("record {id} is not held"),
            );
        }
    };
    let not_answerable = if !who.role.may_answer() {
        Some(format!(
            "a {} account does not answer requests; the focal point does",
            who.role
        ))
    } else {
        check_answerable(&holdings, held, &cfg.agency)
            .err()
            .map(|e| e.to_string())
    };
    let answers = row
        .answers
        .iter()
        .filter_map(|a| holdings.get(a))
        .map(|a| Answer {
            id: a.id.to_string(),
            from: a.record.originator.to_string(),
            created: a.record.created.to_string(),
            grading: grading_words(&a.record.grading.to_string()),
            handling: handling_words(a.record.handling.as_str()),
            summary: a.record.summary.clone(),
        })
        .collect();
    let mut form = form;
    if form.grading.is_empty() {
        form.grading = "B2".into();
    }
    let mut res = render(&RequestPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "requests",
        csrf: who.csrf.clone(),
        created: held.record.created.to_string(),
        handling: handling_words(held.record.handling.as_str()),
        row: row_of(&holdings, &row),
        answers,
        not_answerable,
        form,
        gradings: gradings(),
        handlings: handlings(),
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// `GET /requests/{id}`: one request, its answers, and the answer form for the focal point.
pub(super) async fn request(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
) -> Response {
    request_view(&c, &who, text, AnswerForm::default(), None).await
}

/// `POST /requests/{id}`: answers it with a graded response.
pub(super) async fn answer(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if !who.role.may_answer() {
        return error_page(
            &c,
            &who,
            StatusCode::FORBIDDEN,
            format!(
                "a {} account cannot answer requests; the focal point does",
                who.role
            ),
        );
    }
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    let (holdings, id) = match holdings_and(&c, text.clone(), CATEGORIES).await {
        Ok(found) => found,
        Err((status, e)) => return error_page(&c, &who, status, e),
    };
    let cfg = c.handle.config();
    let draft = (|| -> Result<crate::draft::Draft, String> {
        let request = holdings
            .get(&id)
            .ok_or_else(|| format!("record {id} is not held"))?;
        check_answerable(&holdings, request, &cfg.agency).map_err(|e| e.to_string())?;
        if form.summary.trim().is_empty() {
            return Err("the answer is empty: say what is known".into());
        }
        let grading = Grading::parse(form.grading.trim()).map_err(|e| e.to_string())?;
        let handling = match form.handling.trim() {
            "" => None,
            h => Some(HandlingCode::parse(h).map_err(|e| e.to_string())?),
        };
        let restriction =
            Some(form.handling_restriction.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(response_draft(
            request,
            ResponseSpec {
                summary: form.summary.clone(),
                subjects: vec![],
                handling,
                handling_restriction: restriction,
                grading,
            },
        ))
    })();
    let draft = match draft {
        Ok(d) => d,
        Err(e) => return request_view(&c, &who, text, form, Some(e)).await,
    };
    match publish_as(&c, &who, draft, "request answered").await {
        Ok(_) => see_other(format!("/requests/{id}")),
        Err(e) => request_view(&c, &who, text, form, Some(e)).await,
    }
}
