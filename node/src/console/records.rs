//! The records list and the record page.

use super::*;
use crate::api::view::SearchPage;
use crate::search::SearchText;

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
    /// What to search for: person, phone, account, document, vessel or text (empty: no search).
    #[serde(default)]
    find: String,
    /// The name, number or words searched for.
    #[serde(default)]
    q: String,
    /// With a person: the date of birth; with a phone: its country; with a document: the
    /// issuing country.
    #[serde(default)]
    extra: String,
    /// With a person: weaker matches too.
    #[serde(default)]
    fuzzy: String,
}

impl ListQuery {
    /// The search the form asks for, if any.
    fn search(&self) -> Option<SearchText> {
        let q = self.q.trim();
        if q.is_empty() {
            return None;
        }
        let mut t = SearchText::default();
        let kind = if self.find.is_empty() {
            "person"
        } else {
            self.find.as_str()
        };
        let extra = match kind {
            "person" => "born",
            "phone" => "phone_country",
            "document" => "issuer",
            _ => "",
        };
        t.set(kind, q);
        if !extra.is_empty() {
            t.set(extra, &self.extra);
        }
        t.set("fuzzy", &self.fuzzy);
        Some(t)
    }
}

/// One hit of a search as the list shows it.
struct HitRow {
    row: RecordRow,
    score: u8,
    reasons: Vec<String>,
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
    /// The hits of a search, best first (`None`: no search asked).
    hits: Option<Vec<HitRow>>,
    /// Hits the page leaves out.
    more: usize,
    next: Option<String>,
    error: Option<String>,
}

fn row_of(v: &RecordView) -> RecordRow {
    RecordRow {
        id: v.id.to_string(),
        created: text_of(&v.record, "created"),
        agreement: text_of(&v.record, "agreement"),
        category: text_of(&v.record, "category"),
        originator: text_of(&v.record, "originator"),
        handling: text_of(&v.record, "handling"),
        summary: text_of(&v.record, "summary"),
        status: v.status.clone(),
    }
}

/// The records list when the form asks for a search: hits ranked by score, with reasons.
async fn search_list(
    c: &Console,
    who: &Who,
    q: ListQuery,
    text: SearchText,
    filters: Filters,
) -> Response {
    let store = c.handle.store().clone();
    let found = tokio::task::spawn_blocking(move || {
        SearchPage::run(&store, &text, &filters, PAGE).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let (hits, more, error) = match found {
        Ok(p) => (
            p.hits
                .iter()
                .map(|h| HitRow {
                    row: row_of(&h.record),
                    score: h.score,
                    reasons: h.reasons.clone(),
                })
                .collect(),
            p.more,
            None,
        ),
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let mut res = render(&RecordsPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "records",
        filters: q,
        rows: Vec::new(),
        hits: Some(hits),
        more,
        next: None,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
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
    if let Some(text) = q.search() {
        return search_list(&c, &who, q, text, filters).await;
    }
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
            let rows = p.items.iter().map(row_of).collect();
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
        hits: None,
        more: 0,
        next,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
}

struct Link {
    label: String,
    id: String,
}

#[derive(Template)]
#[template(path = "console/record.html")]
struct RecordPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    id: String,
    summary: String,
    fields: Vec<(String, String)>,
    subjects: Vec<String>,
    route: Vec<String>,
    signer: String,
    references: Vec<Link>,
    /// Records under agreements this node holds sharing a selector with this one.
    linked: Vec<Link>,
    /// For own records: the members holding it, from their signed receipts.
    holders: Option<Vec<String>>,
    /// Whether this account may withdraw and correct it here.
    may_change: bool,
    withdrawn: bool,
    grading: String,
    json: String,
    error: Option<String>,
}

/// The record `text` names, with what the page shows beside it; the view of victim data is
/// logged (and flushed) before anything is returned.
fn load(
    store: &crate::store::Store,
    text: &str,
    account: String,
    agreements: &std::collections::BTreeSet<accord_protocol::AgreementId>,
) -> Result<(RecordView, accord_protocol::Record, Vec<String>), (StatusCode, String)> {
    let id = resolve(store, text).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
    let internal = |e: &dyn std::fmt::Display| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let Some(rec) = store.records().get(&id).map_err(|e| internal(&e))? else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("record {id} is not in this store"),
        ));
    };
    let view = RecordView::with_links(store, &rec, agreements).map_err(|e| internal(&e))?;
    let parsed = view.parsed().map_err(|e| internal(&e))?;
    // who saw a victim's identifying data is logged before it is shown; no entry, no page
    if parsed.has_victim_identifying_data() {
        store
            .log()
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
    let mut holders = Vec::new();
    for r in store
        .checkpoints()
        .receipts_for(&id)
        .map_err(|e| internal(&e))?
    {
        if let Ok(receipt) = accord_protocol::receipt::AnyReceipt::parse(&r.bytes) {
            holders.push(format!(
                "{}, stored at {}",
                receipt.receiver(),
                receipt.received_at()
            ));
        }
    }
    Ok((view, parsed, holders))
}

/// A subject in words: each of its fields, `name: value`.
fn subject_words(subject: &accord_protocol::Subject) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(subject) else {
        return String::new();
    };
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{}: {v}", k.replace('_', " "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

async fn record_view(c: &Console, who: &Who, text: String, error: Option<String>) -> Response {
    let store = c.handle.store().clone();
    let account = who.name.clone();
    let held = c.handle.config().agreements.keys().cloned().collect();
    let found = tokio::task::spawn_blocking(move || load(&store, &text, account, &held))
        .await
        .unwrap_or_else(|e| Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())));
    let (view, parsed, holders) = match found {
        Ok(v) => v,
        Err((status, message)) => return error_page(c, who, status, message),
    };
    let r = &view.record;
    let mut fields = vec![
        ("Record id".to_owned(), view.id.to_string()),
        ("Originator".to_owned(), text_of(r, "originator")),
        ("Agreement".to_owned(), text_of(r, "agreement")),
        ("Category".to_owned(), text_of(r, "category")),
        ("Created".to_owned(), text_of(r, "created")),
        ("Grading".to_owned(), grading_words(&text_of(r, "grading"))),
        (
            "Handling".to_owned(),
            handling_words(&text_of(r, "handling")),
        ),
        ("Received".to_owned(), view.received_at.to_string()),
        ("From".to_owned(), view.source.clone()),
    ];
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
                    | "subjects"
                    | "route"
                    | "v"
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
    let signer = match &view.delegation {
        Some(d) => format!(
            "the liaison officer {} posted in {}, under certificate {} of {} (key {})",
            d.holder, d.host_country, d.certificate, parsed.originator, view.signer
        ),
        None => format!("{}'s agency key {}", parsed.originator, view.signer),
    };
    let references = view
        .referenced_by
        .iter()
        .map(|r| Link {
            label: match r.kind.as_str() {
                "withdraws" => "withdrawn by",
                "corrects" => "corrected by",
                "responds_to" => "answered or followed by",
                other => other,
            }
            .to_owned(),
            id: r.id.to_string(),
        })
        .collect();
    let own = parsed.originator == c.handle.config().agency;
    let withdrawn = view.status.contains("withdrawn") || parsed.withdraws.is_some();
    let mut res = render(&RecordPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "records",
        csrf: who.csrf.clone(),
        id: view.id.to_string(),
        summary: parsed.summary.clone(),
        fields,
        subjects: parsed.subjects.iter().map(subject_words).collect(),
        route: parsed
            .route
            .iter()
            .map(|l| format!("{} ({})", l.country, l.role.as_str()))
            .collect(),
        signer,
        references,
        linked: view
            .links
            .iter()
            .map(|l| Link {
                label: format!("{} under {}", l.shared.join("; "), l.agreement),
                id: l.id.to_string(),
            })
            .collect(),
        holders: own.then_some(holders),
        may_change: own && who.role.may_publish(),
        withdrawn,
        grading: parsed.grading.to_string(),
        json: serde_json::to_string_pretty(r).unwrap_or_default(),
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

pub(super) async fn record(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
) -> Response {
    record_view(&c, &who, text, None).await
}

/// The withdraw and correct forms of the record page.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    grading: String,
}

fn may_change(c: &Console, who: &Who, form: &ChangeForm) -> Option<Response> {
    if !who.role.may_publish() {
        return Some(error_page(
            c,
            who,
            StatusCode::FORBIDDEN,
            format!("a {} account cannot withdraw or correct records", who.role),
        ));
    }
    (!csrf_ok(&who.csrf, &form.csrf))
        .then(|| refuse_forbidden("the form's CSRF token is missing or wrong: reload the page"))
}

async fn publish_change(
    c: &Console,
    who: &Who,
    text: String,
    draft: Result<crate::draft::Draft, String>,
) -> Response {
    let draft = match draft {
        Ok(d) => d,
        Err(e) => return record_view(c, who, text, Some(e)).await,
    };
    match publish_as(c, who, draft, "record changed").await {
        Ok(new) => see_other(format!("/records/{new}")),
        Err(e) => record_view(c, who, text, Some(e)).await,
    }
}

/// `POST /records/{id}/withdraw`: withdraws one of this agency's records, `accord withdraw`'s
/// draft under the person's account.
pub(super) async fn withdraw(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Some(refused) = may_change(&c, &who, &form) {
        return refused;
    }
    let (store, cfg) = (c.handle.store().clone(), c.handle.config());
    let (t, reason) = (text.clone(), form.reason.clone());
    let draft = tokio::task::spawn_blocking(move || {
        crate::ops::withdraw::draft(&store, &cfg, &t, &reason)
            .map(|(_, d)| d)
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    publish_change(&c, &who, text, draft).await
}

/// `POST /records/{id}/correct`: a correction of one of this agency's records, keeping every
/// field but the summary and grading given.
pub(super) async fn correct(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(text): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Some(refused) = may_change(&c, &who, &form) {
        return refused;
    }
    let (store, cfg) = (c.handle.store().clone(), c.handle.config());
    let t = text.clone();
    let draft = tokio::task::spawn_blocking(move || -> Result<crate::draft::Draft, String> {
        let id = resolve(&store, &t).map_err(|e| e.to_string())?;
        let held = store
            .records()
            .get(&id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("record {id} has been purged; only its tombstone remains"))?;
        let r = held.record;
        if r.originator != cfg.agency {
            return Err(format!(
                "record {id} was published by {}; only its originator corrects it",
                r.originator
            ));
        }
        if r.withdraws.is_some() {
            return Err("a withdrawal is not corrected".into());
        }
        if let Some(by) = store
            .queries()
            .withdrawn_by(&id)
            .map_err(|e| e.to_string())?
        {
            return Err(format!(
                "record {id} is withdrawn by {by}; it takes no correction"
            ));
        }
        if form.summary.trim().is_empty() {
            return Err("the corrected summary is empty: say what the record now states".into());
        }
        let grading =
            accord_protocol::Grading::parse(form.grading.trim()).map_err(|e| e.to_string())?;
        Ok(crate::draft::Draft {
            originator: None,
            agreement: r.agreement,
            category: r.category,
            handling: r.handling,
            handling_restriction: r.handling_restriction,
            grading,
            created: None,
            expires: r.expires,
            subjects: r.subjects,
            route: r.route,
            summary: form.summary.trim().to_owned(),
            victim_data_purpose: r.victim_data_purpose,
            corrects: Some(id),
            withdraws: None,
            responds_to: r.responds_to,
            addressed_to: r.addressed_to,
            return_status: r.return_status,
        })
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    publish_change(&c, &who, text, draft).await
}
