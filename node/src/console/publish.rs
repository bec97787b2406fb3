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
    #[serde(default)]
    handling_restriction: String,
    #[serde(default)]
    victim_data_purpose: String,
    /// Two persons: role, name, nationality, date of birth.
    #[serde(default)]
    p1_role: String,
    #[serde(default)]
    p1_name: String,
    #[serde(default)]
    p1_nationality: String,
    #[serde(default)]
    p1_born: String,
    #[serde(default)]
    p2_role: String,
    #[serde(default)]
    p2_name: String,
    #[serde(default)]
    p2_nationality: String,
    #[serde(default)]
    p2_born: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    organisation_country: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    vessel: String,
    #[serde(default)]
    vessel_imo: String,
    #[serde(default)]
    vessel_flag: String,
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
    person_roles: Vec<&'static str>,
    purposes: Vec<&'static str>,
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
        person_roles: std::iter::once("")
            .chain(accord_protocol::PersonRole::ALL.iter().map(|r| r.as_str()))
            .collect(),
        purposes: std::iter::once("")
            .chain(
                accord_protocol::VictimPurpose::ALL
                    .iter()
                    .map(|p| p.as_str()),
            )
            .collect(),
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
    // a field left empty is left out, as the record format wants; what is given is checked by
    // the record rules, whose messages name the field (`subjects[0].date_of_birth`)
    let put = |o: &mut serde_json::Map<String, serde_json::Value>, k: &str, v: &str| {
        if !v.trim().is_empty() {
            o.insert(k.to_owned(), serde_json::Value::String(v.trim().to_owned()));
        }
    };
    let mut subjects = Vec::new();
    for (i, (role, name, nationality, born)) in [
        (&f.p1_role, &f.p1_name, &f.p1_nationality, &f.p1_born),
        (&f.p2_role, &f.p2_name, &f.p2_nationality, &f.p2_born),
    ]
    .into_iter()
    .enumerate()
    {
        if [role, name, nationality, born]
            .iter()
            .all(|v| v.trim().is_empty())
        {
            continue;
        }
        let mut o = serde_json::Map::new();
        o.insert("type".into(), "person".into());
        put(&mut o, "role", role);
        o.insert("ref".into(), format!("P{}", i + 1).into());
        put(&mut o, "name", name);
        put(&mut o, "nationality", nationality);
        put(&mut o, "date_of_birth", born);
        subjects.push(serde_json::Value::Object(o));
    }
    if !f.organisation.trim().is_empty() || !f.organisation_country.trim().is_empty() {
        let mut o = serde_json::Map::new();
        o.insert("type".into(), "organisation".into());
        put(&mut o, "name", &f.organisation);
        put(&mut o, "country", &f.organisation_country);
        subjects.push(serde_json::Value::Object(o));
    }
    if !f.phone.trim().is_empty() {
        subjects.push(serde_json::json!({"type": "phone", "number": f.phone.trim()}));
    }
    if [&f.vessel, &f.vessel_imo, &f.vessel_flag]
        .iter()
        .any(|v| !v.trim().is_empty())
    {
        let mut o = serde_json::Map::new();
        o.insert("type".into(), "vessel".into());
        put(&mut o, "name", &f.vessel);
        put(&mut o, "imo", &f.vessel_imo);
        put(&mut o, "flag", &f.vessel_flag);
        subjects.push(serde_json::Value::Object(o));
    }
    if !subjects.is_empty() {
        d["subjects"] = serde_json::Value::Array(subjects);
    }
    if let Some(o) = d.as_object_mut() {
        put(o, "handling_restriction", &f.handling_restriction);
        put(o, "victim_data_purpose", &f.victim_data_purpose);
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
        Err(e) => {
            // the JSON is the form's, not the person's: its line and column mean nothing here
            let mut message = e.to_string();
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            return publish_view(&c, &who, form, None, Some(message));
        }
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
            match crate::policy::may_send(&record, 0, agreement, m, now).reason() {
                None => preview.receivers.push(m.to_string()),
                Some(why) => preview.withheld.push(format!("{m}: {why}")),
            }
        }
        return publish_view(&c, &who, form, Some(preview), None);
    }
    match publish_as(&c, &who, draft, "record published").await {
        Ok(id) => see_other(format!("/records/{id}")),
        Err(e) => publish_view(&c, &who, form, None, Some(e)),
    }
}
