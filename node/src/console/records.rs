//! The records list and the record page.

use super::*;

/// The filters of the records list as the form gives them (empty fields are no filter).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    cursor: String,
}

struct RecordRow {
    id: String,
    created: String,
    agreement: String,
    category: String,
    originator: String,
    handling: String,
    summary: String,
    status: String,
}

#[derive(Template)]
#[template(path = "console/records.html")]
struct RecordsPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    filters: ListQuery,
    rows: Vec<RecordRow>,
    next: Option<String>,
    error: Option<String>,
}

pub(super) async fn records(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Query(q): Query<ListQuery>,
) -> Response {
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let filters = Filters {
        agreement: nonempty(&q.agreement),
        subject: nonempty(&q.subject),
        category: nonempty(&q.category),
        country: nonempty(&q.country),
        role: None,
        since: nonempty(&q.since),
    };
    let page = PageRequest {
        limit: PAGE,
        cursor: nonempty(&q.cursor),
    };
    let store = c.handle.store().clone();
    let found = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let query = filters.parse().map_err(|e| e.to_string())?;
        match RecordView::page(&store, &query, &page) {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let (rows, next, error) = match found {
        Ok(p) => {
            let rows = p
                .items
                .iter()
                .map(|v| RecordRow {
                    id: v.id.to_string(),
                    created: text_of(&v.record, "created"),
                    agreement: text_of(&v.record, "agreement"),
                    category: text_of(&v.record, "category"),
                    originator: text_of(&v.record, "originator"),
                    handling: text_of(&v.record, "handling"),
                    summary: text_of(&v.record, "summary"),
                    status: v.status.clone(),
                })
                .collect();
            let next = p.next.map(|cursor| {
                let mut pairs: Vec<(&str, &str)> = vec![
                    ("agreement", q.agreement.as_str()),
                    ("category", q.category.as_str()),
                    ("subject", q.subject.as_str()),
                    ("country", q.country.as_str()),
                    ("since", q.since.as_str()),
                ];
                pairs.retain(|(_, v)| !v.is_empty());
                pairs.push(("cursor", cursor.as_str()));
                format!("/records?{}", query_string(&pairs))
            });
            (rows, next, None)
        }
        Err(e) => (Vec::new(), None, Some(e)),
    };
    let mut res = render(&RecordsPage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "records",
        filters: q,
        rows,
        next,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
}

#[derive(Template)]
#[template(path = "console/record.html")]
struct RecordPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    summary: String,
    fields: Vec<(String, String)>,
    json: String,
}

pub(super) async fn record(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
) -> Response {
    let store = c.handle.store().clone();
    let account = who.name.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<RecordView, (StatusCode, String)> {
        let id = resolve(&store, &text).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
        let internal =
            |e: &dyn std::fmt::Display| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        match store.get(&id) {
            Ok(Some(rec)) => {
                let view = RecordView::of(&store, &rec).map_err(|e| internal(&e))?;
                // who saw a victim's identifying data is logged before it is shown; no entry,
                // no page
                if view
                    .parsed()
                    .map_err(|e| internal(&e))?
                    .has_victim_identifying_data()
                {
                    store
                        .audit(
                            clock::now(),
                            vec![accord_protocol::audit::AuditEvent::Viewed {
                                record: id,
                                by: account,
                            }],
                        )
                        .map_err(|e| internal(&e))?;
                    store.flush().map_err(|e| internal(&e))?;
                }
                Ok(view)
            }
            Ok(None) => Err((
                StatusCode::NOT_FOUND,
                format!("record {id} is not in this store"),
            )),
            Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        }
    })
    .await
    .unwrap_or_else(|e| Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())));
    let view = match found {
        Ok(v) => v,
        Err((status, message)) => return error_page(&c, &who, status, message),
    };
    let r = &view.record;
    let mut fields = vec![
        ("Record id".to_owned(), view.id.to_string()),
        ("Originator".to_owned(), text_of(r, "originator")),
        ("Agreement".to_owned(), text_of(r, "agreement")),
        ("Category".to_owned(), text_of(r, "category")),
        ("Created".to_owned(), text_of(r, "created")),
        ("Grading".to_owned(), text_of(r, "grading")),
        (
            "Handling".to_owned(),
            handling_words(&text_of(r, "handling")),
        ),
        ("Received".to_owned(), view.received_at.to_string()),
        ("From".to_owned(), view.source.clone()),
        ("Signed by".to_owned(), view.signer.to_string()),
    ];
    if let Some(d) = &view.delegation {
        fields.push((
            "Under certificate".to_owned(),
            serde_json::to_string(d).unwrap_or_default(),
        ));
    }
    if !view.status.is_empty() {
        fields.push(("Status".to_owned(), view.status.clone()));
    }
    if let Some(obj) = r.as_object() {
        for (k, v) in obj {
            if matches!(
                k.as_str(),
                "originator"
                    | "agreement"
                    | "category"
                    | "created"
                    | "grading"
                    | "handling"
                    | "summary"
            ) {
                continue;
            }
            let shown = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fields.push((k.replace('_', " "), shown));
        }
    }
    render(&RecordPage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "records",
        summary: text_of(r, "summary"),
        fields,
        json: serde_json::to_string_pretty(r).unwrap_or_default(),
    })
}
