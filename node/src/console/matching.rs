//! Hit / no-hit (docs/matching.md): whether partners hold a phone, account, document, vessel
//! or person, asked as `accord match` asks it, under the person's account (the asker's
//! `lookup-made` entries name it). A hit is a lead: the page offers the request for
//! information it leads to, pre-filled and editable; nothing is sent until the person sends it.

use super::*;
use crate::matching::asker::{Outcome, wanted};

/// The form.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct MatchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    selector: String,
    #[serde(default)]
    born: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    agreement: String,
}

/// One holder's answer, as shown.
struct ResultRow {
    holder: String,
    agreement: String,
    epoch: String,
    hit: bool,
    result: String,
    focal_point: String,
    /// The request a hit leads to: its summary.
    request: Option<String>,
}

#[derive(Template)]
#[template(path = "console/match.html")]
struct MatchPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    form: MatchForm,
    agreements: Vec<String>,
    looked_up: Option<String>,
    rows: Vec<ResultRow>,
    error: Option<String>,
}

fn page(c: &Console, who: &Who, form: MatchForm) -> MatchPage {
    let cfg = c.handle.config();
    MatchPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "match",
        csrf: who.csrf.clone(),
        form,
        agreements: cfg
            .agreements
            .values()
            .filter(|a| a.matching.is_some() && a.is_member(&cfg.agency))
            .map(|a| a.id.to_string())
            .collect(),
        looked_up: None,
        rows: vec![],
        error: None,
    }
}

/// `GET /match`: the form.
pub(super) async fn match_page(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
) -> Response {
    if !who.role.may_publish() {
        return forbidden(&c, &who);
    }
    render(&page(&c, &who, MatchForm::default()))
}

fn forbidden(c: &Console, who: &Who) -> Response {
    error_page(
        c,
        who,
        StatusCode::FORBIDDEN,
        format!(
            "a {} account cannot make lookups: each is counted against the agency's quota at \
             its partners",
            who.role
        ),
    )
}

/// `POST /match`: looks it up and shows hit or no hit per holder.
pub(super) async fn look_up(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Form(form): Form<MatchForm>,
) -> Response {
    if !who.role.may_publish() {
        return forbidden(&c, &who);
    }
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    let mut p = page(&c, &who, form.clone());
    let parsed = (|| {
        let born = match form.born.trim() {
            "" => None,
            b => Some(
                accord_protocol::PartialDate::parse(b)
                    .map_err(|e| format!("year of birth: {e}"))?
                    .year(),
            ),
        };
        let country = Some(form.country.trim()).filter(|s| !s.is_empty());
        let agreement = match form.agreement.trim() {
            "" => None,
            a => Some(accord_protocol::AgreementId::new(a).map_err(|e| e.to_string())?),
        };
        let w = wanted(form.selector.trim(), born, country)?;
        Ok::<_, String>((w, agreement))
    })();
    let (w, agreement) = match parsed {
        Ok(x) => x,
        Err(e) => {
            p.error = Some(e);
            let mut res = render(&p);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return res;
        }
    };
    match c
        .handle
        .match_wanted(&w, agreement.as_ref(), Some(who.name.clone()))
        .await
    {
        Ok(report) => {
            p.looked_up = Some(format!(
                "{} {} ({} selector(s) counted at each holder)",
                report.kind, report.looked_up, report.selectors
            ));
            p.rows = report
                .results
                .into_iter()
                .map(|r| ResultRow {
                    holder: r.holder.to_string(),
                    agreement: r.agreement.to_string(),
                    epoch: r.epoch,
                    hit: r.outcome == Outcome::Hit,
                    result: match r.outcome {
                        Outcome::Hit => "hit: it holds something on this".into(),
                        Outcome::Miss => "no hit".into(),
                        Outcome::Refused { code, detail } => {
                            format!("refused (code {code}): {detail}")
                        }
                        Outcome::Invalid { detail } => {
                            format!("invalid answer, neither hit nor miss: {detail}")
                        }
                        Outcome::Unreachable { detail } => format!("not asked: {detail}"),
                    },
                    focal_point: r.focal_point.unwrap_or_default(),
                    request: r.request.map(|q| q.summary),
                })
                .collect();
            render(&p)
        }
        Err(e) => {
            p.error = Some(e);
            let mut res = render(&p);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
    }
}
