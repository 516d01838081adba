//! Pages for the operator's and resellers' staff: the customers they look after (a
//! reseller sees only its own), and the operator's audit log.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::signin::loaded;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub id: String,
    pub name: String,
}

/// The customers visible to the signed-in staff member, by name.
#[server(prefix = "/_app", endpoint = "customers")]
pub async fn customers() -> Result<Vec<CustomerSummary>, ServerFnError> {
    server::customers().await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Asia/Tokyo, to the second.
    pub at: String,
    pub event: String,
    pub login_id: Option<String>,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// The newest 200 audit entries (operator only; anyone else gets 404).
#[server(prefix = "/_app", endpoint = "audit")]
pub async fn audit_entries() -> Result<Vec<AuditEntry>, ServerFnError> {
    server::audit().await
}

#[component]
pub fn CustomersList() -> impl IntoView {
    let list = Resource::new_blocking(|| (), |()| customers());
    view! {
        <Title text="お客様一覧" />
        <h1>"お客様一覧"</h1>
        {loaded(list, |list| {
            if list.is_empty() {
                return view! { <p class="empty">"担当しているお客様はまだありません。"</p> }
                    .into_any();
            }
            view! {
                <ul class="customers">
                    {list
                        .into_iter()
                        .map(|c| {
                            let href = format!("/customers/{}", c.id);
                            view! {
                                <li data-customer-id=c.id.clone()>
                                    <a href=href>{c.name}</a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        })}
    }
}

/// What an audit event is, in Japanese.
fn event_label(event: &str) -> &str {
    match event {
        "signin.success" => "ログイン成功",
        "signin.password_ok" => "パスワード確認（次の手順へ）",
        "signin.failure" => "ログイン失敗",
        "signout" => "ログアウト",
        "signout.others" => "ほかの端末をすべてログアウト",
        "password.changed" => "パスワード変更",
        "password.change_failed" => "パスワード変更の失敗",
        "password.reauth" => "パスワードの再確認",
        "password.reauth_failed" => "パスワードの再確認の失敗",
        "second_factor.sms_sent" => "SMS確認コードの送信",
        "second_factor.sms_failed" => "SMS確認コードの送信失敗",
        "second_factor.totp_enabled" => "2段階認証（認証アプリ）を設定",
        "second_factor.sms_enabled" => "2段階認証（SMS）を設定",
        "second_factor.none" => "2段階認証を利用しない設定",
        "second_factor.totp_confirm_failed" => "認証アプリの確認コード誤り",
        "account.issued" => "アカウント発行",
        "account.issue_failed" => "アカウント発行の失敗",
        "account.password_reset" => "パスワードのリセット",
        "account.password_reset_failed" => "パスワードのリセットの失敗",
        "account.second_factor_reset" => "2段階認証のリセット",
        "token.issued" => "APIトークン発行",
        "token.revoked" => "APIトークン失効",
        "token.used" => "APIトークン利用",
        other => other,
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = Resource::new_blocking(|| (), |()| audit_entries());
    view! {
        <Title text="監査ログ" />
        <h1>"監査ログ"</h1>
        {loaded(entries, |list| {
            view! {
                <table class="audit">
                    <thead>
                        <tr>
                            <th scope="col">"日時"</th>
                            <th scope="col">"できごと"</th>
                            <th scope="col">"ユーザID"</th>
                            <th scope="col">"IPアドレス"</th>
                            <th scope="col">"ブラウザ"</th>
                            <th scope="col">"詳細"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <tr data-event=e.event.clone()>
                                        <td data-label="日時">{e.at}</td>
                                        <td data-label="できごと">{event_label(&e.event).to_owned()}</td>
                                        <td data-label="ユーザID">{e.login_id.or(e.token_id)}</td>
                                        <td data-label="IPアドレス">{e.ip}</td>
                                        <td data-label="ブラウザ" class="ua">{e.user_agent}</td>
                                        <td data-label="詳細">{e.detail}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
        })}
    }
}

/// One audit-log entry as stored (`at` in epoch milliseconds).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuditRecord {
    pub at: f64,
    pub event: String,
    pub account_id: Option<String>,
    pub customer_id: Option<String>,
    pub reseller_id: Option<String>,
    pub token_id: Option<String>,
    pub login_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// The newest `limit` audit entries, optionally of one customer or one account; read by
/// the operator's page and by `GET /api/v1/admin/audit`.
#[cfg(feature = "ssr")]
pub async fn audit_records(
    db: &worker::D1Database,
    customer: Option<&str>,
    account: Option<&str>,
    limit: u32,
) -> worker::Result<Vec<AuditRecord>> {
    use wasm_bindgen::JsValue;
    let opt = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from);
    crate::d1::named(
        db,
        "SELECT at, event, account_id, customer_id, reseller_id, token_id, login_id, ip, \
           user_agent, detail \
         FROM audit_log WHERE (:customer IS NULL OR customer_id = :customer) \
           AND (:account IS NULL OR account_id = :account) \
         ORDER BY at DESC, id DESC LIMIT :limit",
        &[
            ("customer", &opt(customer)),
            ("account", &opt(account)),
            ("limit", &JsValue::from(limit)),
        ],
    )?
    .all()
    .await?
    .results()
}

#[cfg(feature = "ssr")]
mod server {
    use domain::access::Scope;
    use leptos::prelude::*;

    use super::{AuditEntry, CustomerSummary};
    use crate::tenant::{db, not_found, signed_in, with_env};

    pub async fn customers() -> Result<Vec<CustomerSummary>, ServerFnError> {
        let (caller, _) = signed_in()?;
        let list = with_env("customers", |env| async move {
            store::access::customers(&db(&env)?, caller.access()).await
        })
        .await?;
        Ok(list
            .into_iter()
            .map(|c| CustomerSummary {
                id: c.id().to_owned(),
                name: c.name().to_owned(),
            })
            .collect())
    }

    pub async fn audit() -> Result<Vec<AuditEntry>, ServerFnError> {
        let (caller, _) = signed_in()?;
        if *caller.scope() != Scope::Operator {
            return Err(not_found());
        }
        let rows = with_env("audit log", |env| async move {
            Ok(super::audit_records(&env.d1("DB")?, None, None, 200).await?)
        })
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                at: crate::d1::time(r.at)
                    .map(domain::jst::format_second)
                    .unwrap_or_default(),
                event: r.event,
                login_id: r.login_id,
                token_id: r.token_id,
                ip: r.ip,
                user_agent: r.user_agent,
                detail: r.detail,
            })
            .collect())
    }
}
