//! 初回設定: whoever signed in with temporary credentials chooses their own login id and
//! password, under `domain::account`'s rules. A login id stays unique, and a form sent
//! twice finishes once (`store::accounts::set_own_credentials` changes nothing then).

use app::tenant::Visitor;
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use domain::access::Stage;
use domain::account::login_id_problem;
use domain::password;
use domain::signin::{AuditEvent, FormError, SecondFactor};
use serde::Deserialize;
use worker::Env;

use super::{Answer, back, form_caller, go, unavailable};
use crate::audit::Entry;
use crate::error::AppError;
use crate::secret::random;
use crate::session::{self, Origin, Since};
use crate::web::{origin, see_other};
use app::tenant::Caller;

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login_id: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[worker::send]
pub async fn setup(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Setup], &form.csrf, "/setup") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let login_id = form.login_id.trim();
    if let Some(code) = login_id_problem(login_id) {
        return back("/setup", code);
    }
    if let Some(answer) =
        super::password::refused("/setup", &form.password, &form.password_confirm, login_id)
    {
        return answer;
    }
    let origin = origin(&headers);
    let now = crate::clock::now(&env).await;
    match setup_inner(&env, caller, &origin, login_id, &form.password, now).await {
        Ok(answer) => answer,
        Err(e) => unavailable("/setup", e),
    }
}

async fn setup_inner(
    env: &Env,
    caller: &Caller,
    origin: &Origin,
    login_id: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<Answer, AppError> {
    let db = crate::store(env)?;
    let hash = password::hash(new_password, random::<{ password::SALT_BYTES }>()?);
    let updated = db
        .run(store::accounts::set_own_credentials(
            &caller.account_id,
            login_id,
            &hash,
            now,
        ))
        .await?;
    let account = store::accounts::usable_by_id(&db, &caller.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if updated == 0 {
        // Either the id is taken, or this form was sent twice and the first one already
        // finished: then carry on from where the visitor stands.
        return Ok(if account.temp_expires_at.is_none() {
            see_other("/")
        } else {
            back("/setup", FormError::LoginIdTaken)
        });
    }
    let stage = account.stage_after_password();
    let mut batch = vec![store::audit::insert(
        &Entry {
            login_id: Some(login_id),
            detail: Some(format!(
                "初回設定（仮ユーザID {} から変更）",
                caller.login_id
            )),
            ..Entry::by(caller, origin, AuditEvent::PasswordChanged)
        },
        now,
    )];
    if stage == Stage::Full {
        batch.push(store::audit::insert(
            &Entry {
                detail: Some("リセット後のパスワードを設定".into()),
                ..Entry::by(caller, origin, AuditEvent::SigninSuccess)
            },
            now,
        ));
    }
    db.batch(batch).await?;
    if stage == Stage::Verify
        && account.second_factor == Some(SecondFactor::Sms)
        && let Some(phone) = &account.sms_phone
    {
        let _ = super::sms::send_code(env, &db, &account.id, phone, now).await;
    }
    let new = session::New {
        account: &account.id,
        stage,
        // The sign-in began with the temporary password at /login, and its freshness is
        // counted from there too.
        since: Since::Continues {
            previous: &caller.session,
            signed_in: caller.created_at,
            authenticated: caller.authenticated_at,
        },
        origin,
        reveal: None,
    };
    go(env, &db, new, stage.home(), now).await
}
