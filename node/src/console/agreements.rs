//! Agreements: each agreement's members and focal points, each clause of the model MoU
//! (docs/model-mou.md) in plain words beside the field that sets it, the members' signatures
//! held, validity and whether it is in force; and the liaison officers' certificates the
//! agency issued, in force or revoked.

use super::*;
use accord_config::{Agreement, OnwardSharing};

struct Clause {
    number: u8,
    title: &'static str,
    field: &'static str,
    value: String,
    words: String,
}

struct MemberRow {
    agency: String,
    focal_point: String,
    signed: bool,
    /// This agency, whose signature an administrator can add here.
    own: bool,
}

struct AgreementView {
    id: String,
    title: String,
    kind: String,
    hash: String,
    in_effect: bool,
    why_not: String,
    members: Vec<MemberRow>,
    clauses: Vec<Clause>,
}

struct CertificateRow {
    id: String,
    holder: String,
    host_country: String,
    delegate: String,
    scope: String,
    state: String,
}

#[derive(Template)]
#[template(path = "console/agreements.html")]
struct AgreementsPage {
    agency: String,
    who: Option<WhoView>,
    nav: &'static str,
    csrf: String,
    may_administer: bool,
    agreements: Vec<AgreementView>,
    certificates: Vec<CertificateRow>,
    certificates_error: Option<String>,
    form: IssueForm,
    /// The certificate just issued (`<signature hex> <json>`), to hand to the officer.
    issued: Option<String>,
    error: Option<String>,
}

/// The form issuing a liaison officer's certificate (admins).
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    delegate_key: String,
    #[serde(default)]
    holder: String,
    #[serde(default)]
    host_country: String,
    /// Comma-separated agreement ids.
    #[serde(default)]
    agreements: String,
    /// Comma-separated categories.
    #[serde(default)]
    categories: String,
    #[serde(default)]
    until: String,
}

/// The form revoking one.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

fn list_of<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The model MoU's clauses as this agreement's fields set them, in words.
fn clauses(a: &Agreement) -> Vec<Clause> {
    let members = list_of(&a.members);
    let victim = if a.victim_data.allowed {
        format!(
            "Data identifying a victim may be shared only for: {}.",
            list_of(a.victim_data.purposes.iter().map(|p| p.as_str()))
        )
    } else {
        "No data identifying a victim may be shared under this agreement.".to_owned()
    };
    let onward = match a.onward_sharing {
        OnwardSharing::Never => "A receiver passes no record to anyone outside the agreement.",
        OnwardSharing::WithOriginatorConsent => {
            "A receiver may pass a record outside the agreement only with its originator's consent; H2 and H3 records never."
        }
        OnwardSharing::Permitted => {
            "A receiver may pass a record outside the agreement, except H2 and H3 records, never."
        }
    };
    vec![
        Clause {
            number: 1,
            title: "Parties and purpose",
            field: "members",
            value: members.clone(),
            words: format!(
                "Records under {} reach {members} and no one else; they serve only to prevent, \
                 detect, investigate and prosecute smuggling and trafficking.",
                a.id
            ),
        },
        Clause {
            number: 2,
            title: "Focal points",
            field: "focal_points",
            value: format!("{} named", a.focal_points.len()),
            words: "Each member's focal point receives and answers requests for information (listed above).".into(),
        },
        Clause {
            number: 3,
            title: "Duration",
            field: "valid_from, valid_until",
            value: format!("{} to {}", a.valid_from, a.valid_until),
            words: format!(
                "Nothing is published, sent or accepted under it before {} 00:00 UTC or after {} 23:59 UTC.",
                a.valid_from, a.valid_until
            ),
        },
        Clause {
            number: 4,
            title: "Scope",
            field: "categories",
            value: list_of(a.categories.iter().map(|c| c.as_str())),
            words: "Records of any other category are refused on publishing, sending and receipt.".into(),
        },
        Clause {
            number: 5,
            title: "Handling",
            field: "most_permissive_handling",
            value: a.most_permissive_handling.as_str().to_owned(),
            words: format!(
                "Every record carries at least {} ({}); a stricter code is always allowed.",
                a.most_permissive_handling,
                handling_words(a.most_permissive_handling.as_str())
            ),
        },
        Clause {
            number: 6,
            title: "Protection of victims",
            field: "victim_data",
            value: if a.victim_data.allowed {
                format!(
                    "allowed for {}",
                    list_of(a.victim_data.purposes.iter().map(|p| p.as_str()))
                )
            } else {
                "not allowed".into()
            },
            words: victim,
        },
        Clause {
            number: 7,
            title: "Retention",
            field: "retention_days",
            value: a.retention_days.to_string(),
            words: format!(
                "A record is deleted {} days after its originator created it, and is neither sent nor accepted after that.",
                a.retention_days
            ),
        },
        Clause {
            number: 8,
            title: "Onward transmission",
            field: "onward_sharing",
            value: a.onward_sharing.as_str().to_owned(),
            words: onward.into(),
        },
        Clause {
            number: 11,
            title: "Consistency",
            field: "the file's SHA-256",
            value: a.hash_hex()[..16].to_owned(),
            words: "Members compare this hash at every sync; with a member whose copy differs nothing is shared.".into(),
        },
        Clause {
            number: 12,
            title: "Entry into effect",
            field: "the members' signatures",
            value: format!(
                "{} of {}",
                a.members.len() - a.missing_signatures().len(),
                a.members.len()
            ),
            words: "It takes effect once every member has signed the file's exact bytes.".into(),
        },
    ]
}

/// `GET /agreements`
pub(super) async fn agreements(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
) -> Response {
    agreements_view(&c, &who, IssueForm::default(), None, None).await
}

fn only_admins(c: &Console, who: &Who, csrf: &str) -> Option<Response> {
    if !who.role.may_administer() {
        return Some(error_page(
            c,
            who,
            StatusCode::FORBIDDEN,
            format!(
                "a {} account cannot issue or revoke officers' certificates; administrators do",
                who.role
            ),
        ));
    }
    (!csrf_ok(&who.csrf, csrf))
        .then(|| refuse_forbidden("the form's CSRF token is missing or wrong: reload the page"))
}

/// `POST /agreements/{id}/sign`: signs the exact text of an agreement the node holds with the
/// agency key, as `accord agreement sign` does while the node runs: the node verifies it, keeps
/// it (its `agreement-signature` entry naming the account) and passes it to the members.
pub(super) async fn sign(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(refused) = only_admins(&c, &who, &form.csrf) {
        return refused;
    }
    let cfg = c.handle.config();
    let Some(a) = cfg.agreements.values().find(|a| a.id.as_str() == id) else {
        let e = format!("{id} is not an agreement this node holds");
        return agreements_view(&c, &who, IssueForm::default(), None, Some(e)).await;
    };
    let signature = accord_protocol::agreement::sign_agreement(c.handle.key(), &a.hash);
    let error = match c
        .handle
        .sign_agreement_by(
            a.id.clone(),
            cfg.agency.clone(),
            signature,
            Some(who.name.clone()),
        )
        .await
    {
        Ok(Ok(_)) => {
            tracing::info!(account = %who.name, agreement = %a.id, "agreement signed through the console");
            None
        }
        Ok(Err(e)) => Some(e),
        Err(e) => Some(e.to_string()),
    };
    agreements_view(&c, &who, IssueForm::default(), None, error).await
}

/// `POST /agreements/certificates`: issues a liaison officer's certificate, as `accord
/// delegate issue` does, its `delegation` entry naming the account.
pub(super) async fn issue(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Form(form): Form<IssueForm>,
) -> Response {
    if let Some(refused) = only_admins(&c, &who, &form.csrf) {
        return refused;
    }
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let req = crate::ops::delegation::IssueRequest {
        delegate_key: form.delegate_key.trim().to_owned(),
        holder: form.holder.trim().to_owned(),
        host_country: form.host_country.trim().to_owned(),
        agreements: list(&form.agreements),
        categories: list(&form.categories),
        from: None,
        until: form.until.trim().to_owned(),
        role: None,
        handling: Vec::new(),
    };
    let h = c.handle.clone();
    let account = who.name.clone();
    let issued = tokio::task::spawn_blocking(move || {
        crate::ops::delegation::issue_certificate(
            h.store(),
            &h.config(),
            h.key(),
            &req,
            clock::now(),
            Some(&account),
        )
        .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match issued {
        Ok(i) => {
            tracing::info!(account = %who.name, certificate = %i.id, "certificate issued through the console");
            agreements_view(&c, &who, IssueForm::default(), Some(i.certificate), None).await
        }
        Err(e) => agreements_view(&c, &who, form, None, Some(e)).await,
    }
}

/// `POST /agreements/certificates/{id}/revoke`: revokes one of the agency's certificates from
/// now, as `accord delegate revoke` does; the node passes the revocation to the members.
pub(super) async fn revoke(
    State(c): St,
    axum::Extension(who): axum::Extension<Who>,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(refused) = only_admins(&c, &who, &form.csrf) {
        return refused;
    }
    let (store, agency, key) = (
        c.handle.store().clone(),
        c.handle.config().agency.clone(),
        c.handle.key().clone(),
    );
    let reason = form.reason.trim().to_owned();
    let signed = tokio::task::spawn_blocking(move || -> Result<_, String> {
        if reason.is_empty() {
            return Err("say why the certificate is revoked (the members see the reason)".into());
        }
        let cert = store
            .trust()
            .certificates()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|c| hex::encode(accord_protocol::delegation::certificate_id(c).0) == id)
            .ok_or_else(|| format!("{id} is not a certificate this agency issued"))?;
        let r = accord_protocol::delegation::Revocation {
            v: 1,
            agency,
            certificate: accord_protocol::delegation::certificate_id(&cert),
            revoked: clock::now(),
            reason,
        };
        accord_protocol::delegation::revoke(&r, &key).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let result = match signed {
        Ok(s) => match c.handle.revoke_by(s, Some(who.name.clone())).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e),
            Err(e) => Some(e.to_string()),
        },
        Err(e) => Some(e),
    };
    if result.is_none() {
        tracing::info!(account = %who.name, "certificate revoked through the console");
    }
    agreements_view(&c, &who, IssueForm::default(), None, result).await
}

async fn agreements_view(
    c: &Console,
    who: &Who,
    form: IssueForm,
    issued: Option<String>,
    error: Option<String>,
) -> Response {
    let status = c.handle.status().await.ok();
    let cfg = c.handle.config();
    let store = c.handle.store().clone();
    let (cfg2, key) = (cfg.clone(), c.handle.key().clone());
    let certs = tokio::task::spawn_blocking(move || {
        crate::ops::delegation::list(&store, &cfg2, &key).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    // signatures collected from peers at run time, beside those in the .sigs file
    let store = c.handle.store().clone();
    let hashes: Vec<[u8; 32]> = cfg.agreements.values().map(|a| a.hash).collect();
    let collected = tokio::task::spawn_blocking(move || {
        hashes
            .iter()
            .map(|h| {
                store
                    .trust()
                    .agreement_signatures(h)
                    .map(|v| v.into_iter().map(|(a, _)| a).collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let agreements = cfg
        .agreements
        .values()
        .zip(collected.into_iter().chain(std::iter::repeat(Vec::new())))
        .map(|(a, collected)| {
            let state = status.as_ref().and_then(|s| s.agreements.get(&a.id));
            AgreementView {
                id: a.id.to_string(),
                title: a.title.clone(),
                kind: a.kind.to_string(),
                hash: a.hash_hex(),
                in_effect: state.is_some_and(|s| s.in_effect),
                why_not: state
                    .and_then(|s| s.why_not.clone())
                    .unwrap_or_else(|| "not known (the node is stopping)".into()),
                members: a
                    .members
                    .iter()
                    .map(|m| MemberRow {
                        agency: m.to_string(),
                        focal_point: a
                            .focal_points
                            .get(m)
                            .map(|f| format!("{} <{}>", f.name, f.contact))
                            .unwrap_or_default(),
                        signed: a.signatures.contains_key(m) || collected.contains(m),
                        own: *m == cfg.agency,
                    })
                    .collect(),
                clauses: clauses(a),
            }
        })
        .collect();
    let (certificates, certificates_error) = match certs {
        Ok(list) => (
            list.into_iter()
                .map(|l| CertificateRow {
                    state: if !l.verifies {
                        "does not verify".into()
                    } else {
                        match l.revoked {
                            Some(t) => format!("revoked from {t}"),
                            None => "in force".into(),
                        }
                    },
                    id: l.id,
                    holder: l.holder,
                    host_country: l.host_country.map(|c| c.to_string()).unwrap_or_default(),
                    delegate: l.delegate.map(|d| d.to_string()).unwrap_or_default(),
                    scope: l.scope,
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    let mut res = render(&AgreementsPage {
        agency: c.agency.clone(),
        who: Some(who.into()),
        nav: "agreements",
        csrf: who.csrf.clone(),
        may_administer: who.role.may_administer(),
        agreements,
        certificates,
        certificates_error,
        form,
        issued,
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}
