//! 問題を確認's one change and the mails' way in. 「対応しました」 is a plain HTML form posted
//! to `/problems/handled` (answered 303, so it works with and without JavaScript): only a
//! customer's own account marks one of its incidents, once, with a short note
//! (`domain::handling::Note`), recorded with who and when and written to the audit log;
//! staff read the record. `/incidents/{id}`, the link of every alert mail, leads to the
//! incident's latest detection (`/alerts/{id}`), or to 問題を確認 when retention has
//! removed its rows; an incident of another customer is answered like one that does not
//! exist.

use app::tenant::Visitor;
use axum::Extension;
use axum::extract::{Form, Path};
use axum::http::HeaderMap;
use domain::access::Stage;
use domain::handling::{Note, NoteError};
use domain::signin::{AuditEvent, FormError};
use serde::Deserialize;
use store::problems::Marked;
use worker::Env;

use crate::audit::Entry;
use crate::error::AppError;
use crate::web::{csrf_ok, origin, see_other};

type Answer = axum::http::Response<axum::body::Body>;

const PAGE: &str = "/problems";

#[derive(Deserialize)]
pub struct HandledForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    incident: String,
    #[serde(default)]
    note: String,
}

/// POST `/problems/handled`: the signed-in customer admin marks `incident` handled.
#[worker::send]
pub async fn mark_handled(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<HandledForm>,
) -> Answer {
    let caller = match &visitor.caller {
        Some(c) if c.stage == Stage::Full => c,
        Some(c) => return see_other(c.stage.home()),
        None => return see_other(&FormError::SignedOut.on("/login")),
    };
    if !csrf_ok(&visitor, &form.csrf) {
        return see_other(&FormError::Expired.on(PAGE));
    }
    let Ok(incident) = form.incident.trim().parse::<i64>() else {
        return see_other(PAGE);
    };
    let note = match Note::parse(&form.note) {
        Ok(n) => n,
        Err(e) => {
            let code = match e {
                NoteError::TooLong => FormError::NoteLong,
                NoteError::Forbidden => FormError::NoteChars,
            };
            return see_other(&format!("{}#i{incident}", code.on(PAGE)));
        }
    };
    let now = crate::clock::now(&env).await;
    let origin = origin(&headers);
    let result = async {
        let db = crate::store(&env)?;
        // Only the caller's own company: staff have none, and are sent back read-only.
        let Some(tenant) = store::access::page_customer(&db, caller.access(), None)
            .await?
            .filter(|_| caller.scope().own_customer().is_some())
        else {
            return Ok(see_other("/"));
        };
        let marked =
            store::problems::mark_handled(&db, &tenant, &caller.account_id, incident, &note, now)
                .await?;
        if marked == Marked::Marked {
            let entry = Entry {
                detail: Some(format!("incident {incident}")),
                ..Entry::by(caller, &origin, AuditEvent::IncidentHandled)
            };
            db.run(store::audit::insert(&entry, now)).await?;
        }
        Ok::<_, AppError>(match marked {
            Marked::Marked | Marked::AlreadyHandled => {
                see_other(&format!("{PAGE}?done=handled#handled"))
            }
            Marked::NotFound => see_other(PAGE),
        })
    }
    .await;
    result.unwrap_or_else(|e| e.to_form(PAGE))
}

/// GET `/incidents/{id}`: where an alert mail's link about incident `id` leads.
#[worker::send]
pub async fn incident_link(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<String>,
) -> Answer {
    let Some(caller) = visitor.caller.as_ref().filter(|c| c.stage == Stage::Full) else {
        return see_other("/login");
    };
    let Ok(incident) = id.parse::<i64>() else {
        return see_other(PAGE);
    };
    let result = async {
        let db = crate::store(&env)?;
        let Some(tenant) = store::access::page_customer(&db, caller.access(), None).await? else {
            return Ok(see_other("/"));
        };
        Ok::<_, AppError>(
            match store::alerts::of_incident(&db, &tenant, incident).await? {
                Some(alert) => see_other(&format!("/alerts/{alert}")),
                None => see_other(PAGE),
            },
        )
    }
    .await;
    result.unwrap_or_else(|e| e.to_form(PAGE))
}
