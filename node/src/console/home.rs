//! The federation home: partners, agreements in force, alarms.

use super::*;

struct PartnerRow {
    agency: String,
    connected: bool,
    outbox: usize,
}

struct AgreementRow {
    id: String,
    in_effect: bool,
    why_not: String,
    confirmed: String,
}

struct AlarmRow {
    kind: String,
    severity: String,
    subject: String,
    message: String,
    since: String,
    count: u64,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    records: usize,
    partners: Vec<PartnerRow>,
    agreements: Vec<AgreementRow>,
    alarms: Vec<AlarmRow>,
}

pub(super) async fn home(State(c): St, axum::Extension(who): axum::Extension<Who>) -> Response {
    let status = match c.handle.status().await {
        Ok(s) => s,
        Err(_) => {
            return error_page(
                &c,
                &who,
                StatusCode::SERVICE_UNAVAILABLE,
                "The node is stopping.".into(),
            );
        }
    };
    let own = status.agency.clone();
    let mut partners: std::collections::BTreeSet<_> = c
        .handle
        .config()
        .agreements
        .values()
        .flat_map(|a| a.members.iter().cloned())
        .filter(|m| Some(m) != own.as_ref())
        .collect();
    partners.extend(status.connected.iter().cloned());
    let partners = partners
        .into_iter()
        .map(|p| PartnerRow {
            connected: status.connected.contains(&p),
            outbox: status.outbox.get(&p).copied().unwrap_or(0),
            agency: p.to_string(),
        })
        .collect();
    let agreements = status
        .agreements
        .iter()
        .map(|(id, a)| AgreementRow {
            id: id.to_string(),
            in_effect: a.in_effect,
            why_not: a.why_not.clone().unwrap_or_default(),
            confirmed: a
                .confirmed_with
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let alarms = status
        .alarms
        .iter()
        .map(|a| AlarmRow {
            kind: a.kind.as_str().to_owned(),
            severity: format!("{:?}", a.severity).to_lowercase(),
            subject: a.subject.clone(),
            message: a.message.clone(),
            since: a.since.to_string(),
            count: a.count,
        })
        .collect();
    render(&HomePage {
        agency: c.agency.clone(),
        who: Some((&who).into()),
        nav: "home",
        records: status.records,
        partners,
        agreements,
        alarms,
    })
}
