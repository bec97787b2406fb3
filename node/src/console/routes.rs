//! Routes (recommendation 7): the source → transit → destination flows of the route legs held,
//! as `accord report routes` draws them, filterable by agreement and time; the diagram is an
//! image of this origin, the flows a table, both downloadable.

use accord_protocol::AgreementId;

use super::*;
use crate::api::view::parse_since;
use crate::workflow::routes::{FlowCount, Scope, csv, flows};
use crate::workflow::svg::routes_svg;

/// The filters as the form gives them.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct RoutesQuery {
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    since: String,
}

impl RoutesQuery {
    fn scope(&self) -> Result<Scope, String> {
        let agreement = match self.agreement.trim() {
            "" => None,
            a => Some(AgreementId::new(a).map_err(|e| e.to_string())?),
        };
        let since = match self.since.trim() {
            "" => None,
            s => Some(parse_since(s)?),
        };
        Ok(Scope { agreement, since })
    }

    fn query_string(&self) -> String {
        let mut pairs = vec![];
        if !self.agreement.trim().is_empty() {
            pairs.push(("agreement", self.agreement.trim()));
        }
        if !self.since.trim().is_empty() {
            pairs.push(("since", self.since.trim()));
        }
        query_string(&pairs)
    }
}

struct FlowRow {
    flow: String,
    records: usize,
    latest: String,
}

#[derive(Template)]
#[template(path = "console/routes.html")]
struct RoutesPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    filters: RoutesQuery,
    agreements: Vec<String>,
    query: String,
    rows: Vec<FlowRow>,
    records: usize,
    error: Option<String>,
}

async fn flows_of(c: &Console, scope: Scope) -> Result<Vec<FlowCount>, String> {
    // route legs may be in a record of any category
    holdings(c, accord_protocol::Category::ALL)
        .await
        .map(|h| flows(&h, &scope))
}

/// `GET /routes`: the diagram and the table.
pub(super) async fn routes(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Query(q): Query<RoutesQuery>,
) -> Response {
    let cfg = c.handle.config();
    let agreements = cfg.agreements.keys().map(|a| a.to_string()).collect();
    let found = match q.scope() {
        Ok(scope) => flows_of(&c, scope).await,
        Err(e) => Err(e),
    };
    let (rows, error) = match found {
        Ok(f) => (
            f.iter()
                .map(|f| FlowRow {
                    flow: f.flow.display(),
                    records: f.records,
                    latest: f.latest.to_string(),
                })
                .collect::<Vec<_>>(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    let records = rows.iter().map(|r| r.records).sum();
    let mut res = render(&RoutesPage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "routes",
        query: q.query_string(),
        filters: q,
        agreements,
        rows,
        records,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
}

/// `GET /routes.svg` and `/routes.csv`: the diagram or the table of the same filters.
async fn download(c: &Console, q: RoutesQuery, svg: bool) -> Response {
    let scope = match q.scope() {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let found = match flows_of(c, scope).await {
        Ok(f) => f,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    };
    if svg {
        let records: usize = found.iter().map(|f| f.records).sum();
        let subtitle = format!(
            "{} · {} · {records} record(s) in {} flow(s) · generated {}",
            match q.agreement.trim() {
                "" => "all agreements".to_owned(),
                a => format!("agreement {a}"),
            },
            match q.since.trim() {
                "" => "any time".to_owned(),
                s => format!("created since {s}"),
            },
            found.len(),
            clock::now()
        );
        let body = routes_svg(
            &found,
            &format!("Routes in the records held by {}", c.agency),
            &subtitle,
        );
        ([(CONTENT_TYPE, "image/svg+xml; charset=utf-8")], body).into_response()
    } else {
        (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"routes.csv\"",
                ),
            ],
            csv(&found),
        )
            .into_response()
    }
}

pub(super) async fn routes_svg_image(State(c): St, Query(q): Query<RoutesQuery>) -> Response {
    download(&c, q, true).await
}

pub(super) async fn routes_csv(State(c): St, Query(q): Query<RoutesQuery>) -> Response {
    download(&c, q, false).await
}
