//! The console's forms for a customer's record. お客様情報の変更 is a plain HTML form
//! posted to `/admin/customers/{id}/profile` by staff who may see the customer (anyone
//! else: 404, as for a customer that does not exist). A valid form stores the changed
//! fields, their history and an audit entry with old and new values in one batch and
//! answers 303 to the record; a refused one draws the record again (400) with what was
//! typed and a message per field (`web::redraw`).

use app::draft::Draft;
use app::tenant::Visitor;
use axum::Extension;
use axum::extract::{Form, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use domain::access::Stage;
use domain::profile::{FormValues, parse_form};
use domain::signin::{AuditEvent, FormError};
use serde::Deserialize;
use store::profile::By;
use worker::Env;

use crate::audit::Entry;
use crate::customer_record::audit_detail;
use crate::error::AppError;
use crate::web::{csrf_ok, origin, redraw, see_other};

type Answer = axum::http::Response<axum::body::Body>;

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    recipient1: String,
    #[serde(default)]
    recipient2: String,
    #[serde(default)]
    recipient3: String,
}

impl ProfileForm {
    fn values(&self) -> FormValues {
        FormValues {
            name: self.name.clone(),
            contact_name: self.contact_name.clone(),
            department: self.department.clone(),
            title: self.title.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            recipients: [
                self.recipient1.clone(),
                self.recipient2.clone(),
                self.recipient3.clone(),
            ],
        }
    }

    /// The form as posted, for drawing it again.
    fn typed(&self) -> Vec<(String, String)> {
        [
            ("name", &self.name),
            ("contact_name", &self.contact_name),
            ("department", &self.department),
            ("title", &self.title),
            ("email", &self.email),
            ("phone", &self.phone),
            ("address", &self.address),
            ("recipient1", &self.recipient1),
            ("recipient2", &self.recipient2),
            ("recipient3", &self.recipient3),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
    }
}

/// POST `/admin/customers/{id}/profile`.
#[worker::send]
pub async fn change_profile(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    Path(customer_id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Answer {
    let page = format!("/admin/customers/{customer_id}");
    let caller = match &visitor.caller {
        Some(c) if c.stage == Stage::Full => c,
        Some(c) => return see_other(c.stage.home()),
        None => return see_other(&FormError::SignedOut.on("/login")),
    };
    if caller.scope().own_customer().is_some() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !csrf_ok(&visitor, &form.csrf) {
        return see_other(&FormError::Expired.on(&page));
    }
    let now = crate::clock::now(&env).await;
    let origin = origin(&headers);
    let result = async {
        let db = crate::store(&env)?;
        let Some(tenant) = store::access::customer(&db, caller.access(), &customer_id).await?
        else {
            return Ok(StatusCode::NOT_FOUND.into_response());
        };
        if tenant.contract_ended() {
            return Ok(see_other(&page));
        }
        let current = store::profile::read(&db, &tenant).await?;
        let change = match parse_form(&current.profile, &form.values()) {
            Ok(c) => c,
            Err(faults) => {
                let draft = Draft {
                    values: form.typed(),
                    faults: faults.iter().map(|f| f.form_name().to_owned()).collect(),
                };
                return Ok(redraw(&page, draft));
            }
        };
        let (next, changes) = change.apply(&current.profile);
        let mut batch = store::profile::change_queries(
            &tenant,
            &next,
            &changes,
            By::Login(&caller.login_id),
            now,
        );
        if batch.is_empty() {
            return Ok(see_other(&format!("{page}?done=unchanged")));
        }
        let entry = Entry {
            detail: Some(format!("{}: {}", tenant.id(), audit_detail(&changes))),
            ..Entry::by(caller, &origin, AuditEvent::CustomerChanged)
        };
        batch.push(store::audit::insert(&entry, now));
        db.batch(batch).await?;
        Ok::<_, AppError>(see_other(&format!("{page}?done=profile")))
    }
    .await;
    result.unwrap_or_else(|e| e.to_form(&page))
}
