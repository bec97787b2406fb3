//! The publish form: the draft, the receivers preview, signing.

use super::*;

/// The publish form's fields.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    handling: String,
    #[serde(default)]
    grading: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    country1: String,
    #[serde(default)]
    role1: String,
    #[serde(default)]
    country2: String,
    #[serde(default)]
    role2: String,
}

/// Who would receive a draft, and who not and why.
struct Preview {
    receivers: Vec<String>,
    withheld: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/publish.html")]
struct PublishPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    form: PublishForm,
    agreements: Vec<String>,
    categories: Vec<&'static str>,
    handlings: Vec<(&'static str, String)>,
    roles: Vec<&'static str>,
    preview: Option<Preview>,
    error: Option<String>,
}

fn publish_view(
    c: &Console,
    who: &Who,
    form: PublishForm,
    preview: Option<Preview>,
    error: Option<String>,
) -> Response {
    let cfg = c.handle.config();
    let mut res = render(&PublishPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "publish",
        csrf: who.csrf.clone(),
        agreements: cfg
            .agreements
            .values()
            .filter(|a| a.members.contains(&cfg.agency))
            .map(|a| a.id.to_string())
            .collect(),
        categories: accord_protocol::Category::ALL
            .iter()
            .map(|c| c.as_str())
            .collect(),
        handlings: accord_protocol::HandlingCode::ALL
            .iter()
            .map(|h| (h.as_str(), handling_words(h.as_str())))
            .collect(),
        roles: ["", "source", "transit", "destination"].to_vec(),
        form,
        preview,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

fn may_publish_here(c: &Console, who: &Who) -> Option<Response> {
    (!who.role.may_publish()).then(|| {
        error_page(
            c,
            who,
            StatusCode::FORBIDDEN,
            format!("a {} account cannot publish records", who.role),
        )
    })
}

pub(super) async fn publish_page(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
) -> Response {
    if let Some(refused) = may_publish_here(&c, &who) {
        return refused;
    }
    let form = PublishForm {
        grading: "B2".into(),
        handling: "H1".into(),
        ..PublishForm::default()
    };
    publish_view(&c, &who, form, None, None)
}

/// The draft a form describes, as the JSON `accord publish` reads.
fn draft_json(f: &PublishForm) -> serde_json::Value {
    let mut route = Vec::new();
    for (country, role) in [(&f.country1, &f.role1), (&f.country2, &f.role2)] {
        if !country.trim().is_empty() || !role.trim().is_empty() {
            route.push(serde_json::json!({"country": country.trim(), "role": role.trim()}));
        }
    }
    let mut d = serde_json::json!({
        "agreement": f.agreement.trim(),
        "category": f.category.trim(),
        "handling": f.handling.trim(),
        "grading": f.grading.trim(),
        "summary": f.summary,
    });
    if !route.is_empty() {
        d["route"] = serde_json::Value::Array(route);
    }
    d
}

pub(super) async fn publish(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Form(form): Form<PublishForm>,
) -> Response {
    if let Some(refused) = may_publish_here(&c, &who) {
        return refused;
    }
    if !csrf_ok(&who.csrf, &form.csrf) {
        return refuse_forbidden("the form's CSRF token is missing or wrong: reload the page");
    }
    // the record rules' own messages, then the agreement's policy, as `accord publish`
    let draft = match crate::draft::parse_draft(draft_json(&form).to_string().as_bytes()) {
        Ok(d) => d,
        Err(e) => return publish_view(&c, &who, form, None, Some(e.to_string())),
    };
    let cfg = c.handle.config();
    let now = clock::now();
    let Some(agreement) = cfg.agreements.get(&draft.agreement) else {
        let e = format!("{} is not an agreement of this node", draft.agreement);
        return publish_view(&c, &who, form, None, Some(e));
    };
    let record = match draft
        .clone()
        .into_record(&cfg.agency, accord_protocol::Seq::FIRST, now)
    {
        Ok(r) => r,
        Err(e) => return publish_view(&c, &who, form, None, Some(e.to_string())),
    };
    if let Some(reason) = crate::policy::may_publish(&cfg.agency, agreement, &record, now).reason()
    {
        return publish_view(&c, &who, form, None, Some(reason.to_string()));
    }
    if form.step != "publish" {
        let mut preview = Preview {
            receivers: Vec::new(),
            withheld: Vec::new(),
        };
        for m in agreement.members.iter().filter(|m| **m != cfg.agency) {
            match crate::policy::may_send(&record, agreement, m, now).reason() {
                None => preview.receivers.push(m.to_string()),
                Some(why) => preview.withheld.push(format!("{m}: {why}")),
            }
        }
        return publish_view(&c, &who, form, Some(preview), None);
    }
    match c
        .handle
        .publish_by(draft, now, Some(who.name.clone()))
        .await
    {
        Ok(id) => {
            tracing::info!(account = %who.name, %id, "record published through the console");
            (
                StatusCode::SEE_OTHER,
                [(LOCATION, format!("/records/{id}"))],
            )
                .into_response()
        }
        Err(e) => publish_view(&c, &who, form, None, Some(e.to_string())),
    }
}
