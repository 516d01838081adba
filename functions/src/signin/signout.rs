//! ログアウト, and ending every other session of the signed-in user (アカウント設定: a lost
//! phone, a shared PC). An ended session is ended in storage, so its cookie names nobody.

use app::tenant::Visitor;
use axum::Extension;
use axum::extract::Form;
use axum::http::HeaderMap;
use domain::access::Stage;
use domain::signin::AuditEvent;
use store::audit::insert;
use store::sessions;
use worker::Env;

use super::{Answer, TokenForm, form_caller, unavailable};
use crate::audit::Entry;
use crate::error::AppError;
use crate::session;
use crate::web::{csrf_ok, origin, see_other, set_cookies};

#[worker::send]
pub async fn logout(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Answer {
    if !csrf_ok(&visitor, &form.csrf) {
        return see_other("/");
    }
    if let Some(caller) = &visitor.caller {
        let now = crate::clock::now(&env).await;
        let origin = origin(&headers);
        let result = async {
            crate::store(&env)?
                .batch(vec![
                    sessions::revoke(&caller.session, now),
                    insert(&Entry::by(caller, &origin, AuditEvent::Signout), now),
                ])
                .await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(e) = result {
            return unavailable("/account", e);
        }
    }
    let mut r = see_other("/login?bye=1");
    set_cookies(&mut r, &[session::clear_cookie()]);
    r
}

#[worker::send]
pub async fn end_others(
    Extension(env): Extension<Env>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Answer {
    let caller = match form_caller(&visitor, &[Stage::Full], &form.csrf, "/account") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let origin = origin(&headers);
    let now = crate::clock::now(&env).await;
    let result = async {
        crate::store(&env)?
            .batch(vec![
                sessions::revoke_others(&caller.account_id, &caller.session, now),
                insert(&Entry::by(caller, &origin, AuditEvent::SignoutOthers), now),
            ])
            .await?;
        Ok::<_, AppError>(see_other("/account?done=others"))
    }
    .await;
    result.unwrap_or_else(|e| unavailable("/account", e))
}
