//! The federation home: partners, agreements in force, alarms.

use super::*;

struct PartnerRow {
    agency: String,
    connected: bool,
    outbox: usize,
    /// When it last signed a checkpoint this node holds (its log's head, witnessed here).
    last_checkpoint: String,
}

struct CatchUpRow {
    agreement: String,
    peer: String,
    fetched: u64,
    expected: u64,
    left: String,
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
    catch_ups: Vec<CatchUpRow>,
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
    // each partner's latest slot checkpoint held here: when it last showed this node its head
    let store = c.handle.store().clone();
    let latest: std::collections::BTreeMap<String, (u64, String)> =
        tokio::task::spawn_blocking(move || {
            let mut latest = std::collections::BTreeMap::new();
            for s in store
                .checkpoints()
                .partner_checkpoints()
                .unwrap_or_default()
            {
                let Ok(cp) =
                    serde_json::from_slice::<accord_protocol::audit::SlotCheckpoint>(&s.bytes)
                else {
                    continue;
                };
                let e = latest
                    .entry(cp.agency.to_string())
                    .or_insert((0, String::new()));
                if cp.slot >= e.0 {
                    *e = (cp.slot, cp.time.to_string());
                }
            }
            latest
        })
        .await
        .unwrap_or_default();
    let partners = partners
        .into_iter()
        .map(|p| PartnerRow {
            connected: status.connected.contains(&p),
            outbox: status.outbox.get(&p).copied().unwrap_or(0),
            last_checkpoint: latest
                .get(p.as_str())
                .map_or("none yet".to_owned(), |(_, t)| t.clone()),
            agency: p.to_string(),
        })
        .collect();
    let catch_ups = status
        .catch_up
        .iter()
        .map(|(a, v)| CatchUpRow {
            agreement: a.to_string(),
            peer: v.peer.to_string(),
            fetched: v.fetched,
            expected: v.expected,
            left: v.seconds_left.map_or("unknown".to_owned(), |s| {
                crate::workflow::human_duration(s as i64)
            }),
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
        catch_ups,
    })
}
