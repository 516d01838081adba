//! お客様情報 (`/admin/customers/{id}`): for staff (the operator, a reseller's staff for
//! their own customers; anyone else gets 404), everything about one customer — contract,
//! contact person, address, alert recipients, appliances — with links to its portal
//! pages, the change form of §7.6 (posted to `/admin/customers/{id}/profile`; a refused
//! form comes back with what was typed and a message per field, `crate::draft`) and the
//! history of changes, newest first.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::messages::{Csrf, Done};
use crate::profile_form::FormField;
use crate::signin::loaded;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplianceRow {
    pub id: String,
    pub name: String,
    /// オンライン / オフライン / 停止中 / 未接続.
    pub status: String,
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub at: String,
    pub field: String,
    pub old: String,
    pub new: String,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    pub id: String,
    pub name: String,
    pub reseller: Option<String>,
    pub status: String,
    pub service_start: String,
    pub paid_from: Option<String>,
    pub facts: Vec<(String, String)>,
    pub recipients: Vec<String>,
    pub appliances: Vec<ApplianceRow>,
    pub fields: Vec<FormField>,
    /// Whether the form came back refused.
    pub refused: bool,
    pub csrf: Option<String>,
    pub history: Vec<ChangeRow>,
}

/// The record of `customer` (staff only).
#[server(prefix = "/_app", endpoint = "customer_record")]
pub async fn customer_record(
    #[server(default)] customer: Option<String>,
) -> Result<RecordView, ServerFnError> {
    server::record(customer).await
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;

    use super::{ApplianceRow, ChangeRow, RecordView};
    use crate::profile_form::{field_text, form_fields};
    use crate::tenant::{db, not_found, now, signed_in, with_env};

    /// The history rows a page shows.
    const HISTORY: u32 = 50;

    pub async fn record(customer: Option<String>) -> Result<RecordView, ServerFnError> {
        let (caller, csrf) = signed_in()?;
        let Some(customer) = customer.filter(|_| caller.scope().own_customer().is_none()) else {
            return Err(not_found());
        };
        let access = caller.access().clone();
        let threshold = crate::tenant::config()
            .map(|c| c.downtime.threshold)
            .map_err(|e| ServerFnError::new(e.to_string()))?;
        let now = now()?;
        let found = with_env("customer record", move |env| async move {
            let db = db(&env)?;
            let Some(tenant) = store::access::customer(&db, &access, &customer).await? else {
                return Ok(None);
            };
            let record = store::profile::read(&db, &tenant).await?;
            let history = store::profile::history(&db, &tenant, HISTORY).await?;
            let reseller = match &record.reseller_id {
                Some(r) => store::resellers::name(&db, r).await?,
                None => None,
            };
            Ok(Some((tenant, record, history, reseller)))
        })
        .await?;
        let Some((tenant, r, history, reseller)) = found else {
            return Err(not_found());
        };
        let draft = crate::draft::current();
        let p = &r.profile;
        let dash = |s: &str| {
            if s.is_empty() {
                "—".to_owned()
            } else {
                s.to_owned()
            }
        };
        let facts = vec![
            ("ご担当者 氏名".to_owned(), dash(&p.contact.name)),
            ("部署名".to_owned(), dash(&p.contact.department)),
            ("役職".to_owned(), dash(&p.contact.title)),
            ("ご担当者 メールアドレス".to_owned(), dash(&p.contact.email)),
            ("電話番号".to_owned(), dash(&p.contact.phone)),
            ("住所".to_owned(), dash(&p.address)),
        ];
        let appliances = r
            .devices
            .iter()
            .map(|d| ApplianceRow {
                id: d.id.clone(),
                name: d.name.clone(),
                status: if d.disabled {
                    "停止中".to_owned()
                } else if d.last_seen_at.is_none() {
                    "未接続".to_owned()
                } else {
                    domain::offline::status(d.last_seen_at, now, threshold)
                        .label()
                        .to_owned()
                },
                last_seen: d.last_seen_at.map(domain::jst::format_minute),
            })
            .collect();
        let history = history
            .into_iter()
            .map(|c| ChangeRow {
                at: domain::jst::format_minute(c.at),
                field: domain::profile::Field::parse_key(&c.field)
                    .map_or(c.field.clone(), |f| field_text(f).0.to_owned()),
                old: c.old_value,
                new: c.new_value,
                by: c
                    .by_login
                    .or_else(|| c.by_token.map(|t| format!("APIトークン {t}")))
                    .unwrap_or_default(),
            })
            .collect();
        Ok(RecordView {
            id: tenant.id().to_owned(),
            name: p.name.clone(),
            reseller,
            status: if r.contract_ended_at.is_some() {
                "契約終了".to_owned()
            } else {
                "ご利用中".to_owned()
            },
            service_start: r.service_start.to_string(),
            paid_from: r.paid_from.map(|d| d.to_string()),
            facts,
            recipients: p.alert_recipients.clone(),
            appliances,
            fields: form_fields(p, draft.as_ref()),
            refused: draft.is_some(),
            csrf: (r.contract_ended_at.is_none()).then_some(csrf),
            history,
        })
    }
}

/// The portal pages of a customer that staff open read-only.
const PORTAL_PAGES: [(&str, &str); 8] = [
    ("", "セキュリティステータス"),
    ("/problems", "問題を確認"),
    ("/alerts", "検知履歴"),
    ("/appliances", "UTM装置の稼働状況"),
    ("/usage", "インターネット利用状況"),
    ("/mails", "通知メール履歴"),
    ("/reports", "月次レポート"),
    ("/compare/peers", "参加企業平均と比べる"),
];

#[component]
pub fn CustomerRecordPage() -> impl IntoView {
    let params = use_params_map();
    let record = Resource::new_blocking(move || params.with(|p| p.get("id")), customer_record);
    view! {
        <Title text="お客様情報" />
        {loaded(record, |r| view! { <RecordBody r /> }.into_any())}
    }
}

#[component]
fn RecordBody(r: RecordView) -> impl IntoView {
    let base = format!("/customers/{}", r.id);
    let links = PORTAL_PAGES
        .iter()
        .map(|(path, label)| {
            let href = format!("{base}{path}");
            view! {
                <li>
                    <a href=href>{*label}</a>
                </li>
            }
        })
        .collect_view();
    let facts = r
        .facts
        .into_iter()
        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
        .collect_view();
    let recipients = if r.recipients.is_empty() {
        "未設定".to_owned()
    } else {
        r.recipients.join("、")
    };
    let appliances = r
        .appliances
        .into_iter()
        .map(|a| {
            let href = format!("{base}/appliances/{}", a.id);
            let id = a.id.clone();
            view! {
                <tr data-device-id=a.id>
                    <td data-label="名前"><a href=href>{a.name}</a></td>
                    <td data-label="ID"><code>{id}</code></td>
                    <td data-label="状態">{a.status}</td>
                    <td data-label="最終受信">{a.last_seen.unwrap_or_else(|| "—".to_owned())}</td>
                </tr>
            }
        })
        .collect_view();
    let form = r.csrf.map(|token| {
        let action = format!("/admin/customers/{}/profile", r.id);
        let refused = r.refused.then(|| {
            view! {
                <div class="error" role="alert">
                    <p>"入力内容を確認してください。赤字の項目を直して、もう一度送信してください。"</p>
                </div>
            }
        });
        let fields = r
            .fields
            .into_iter()
            .map(|f| {
                let id = format!("f-{}", f.name);
                let hint = format!("{id}-error");
                let invalid = f.fault.is_some().then_some("true");
                let described = f.fault.is_some().then(|| hint.clone());
                view! {
                    <label for=id.clone()>
                        {f.label}
                        {f.required.then(|| view! { <small>"（必須）"</small> })}
                    </label>
                    <input
                        id=id
                        name=f.name
                        type=f.kind
                        value=f.value
                        maxlength=f.max.to_string()
                        required=f.required
                        aria-invalid=invalid
                        aria-describedby=described
                    />
                    {f.fault.map(|m| view! { <p class="field-error" id=hint>{m}</p> })}
                }
            })
            .collect_view();
        view! {
            <section aria-labelledby="change">
                <h2 id="change">"お客様情報の変更"</h2>
                {refused}
                <form class="stack profile" method="post" action=action novalidate>
                    <Csrf token />
                    {fields}
                    <button type="submit" class="primary">"変更を保存"</button>
                </form>
            </section>
        }
    });
    let history = if r.history.is_empty() {
        view! { <p class="empty">"変更の記録はまだありません。"</p> }.into_any()
    } else {
        let rows = r
            .history
            .into_iter()
            .map(|c| {
                view! {
                    <tr>
                        <td data-label="日時">{c.at}</td>
                        <td data-label="項目">{c.field}</td>
                        <td data-label="変更前">{c.old}</td>
                        <td data-label="変更後">{c.new}</td>
                        <td data-label="変更した人">{c.by}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="audit history">
                <thead>
                    <tr>
                        <th scope="col">"日時"</th>
                        <th scope="col">"項目"</th>
                        <th scope="col">"変更前"</th>
                        <th scope="col">"変更後"</th>
                        <th scope="col">"変更した人"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <Done />
        <h1>{r.name}</h1>
        <dl class="fields">
            <dt>"お客様ID"</dt>
            <dd><code>{r.id.clone()}</code></dd>
            <dt>"販売店"</dt>
            <dd>{r.reseller.unwrap_or_else(|| "運営者の直接契約".to_owned())}</dd>
            <dt>"契約状態"</dt>
            <dd>{r.status}</dd>
            <dt>"サービス開始日"</dt>
            <dd>{r.service_start}</dd>
            <dt>"課金開始日"</dt>
            <dd>{r.paid_from.unwrap_or_else(|| "—".to_owned())}</dd>
            {facts}
            <dt>"アラート通知先"</dt>
            <dd>{recipients}</dd>
        </dl>
        <nav aria-label="このお客様のポータル">
            <h2>"ポータルで見る（閲覧のみ）"</h2>
            <ul class="links">{links}</ul>
        </nav>
        <section aria-labelledby="appliances">
            <h2 id="appliances">"UTM装置"</h2>
            <table class="appliances">
                <thead>
                    <tr>
                        <th scope="col">"名前"</th>
                        <th scope="col">"ID"</th>
                        <th scope="col">"状態"</th>
                        <th scope="col">"最終受信"</th>
                    </tr>
                </thead>
                <tbody>{appliances}</tbody>
            </table>
        </section>
        {form}
        <section aria-labelledby="history">
            <h2 id="history">"変更履歴"</h2>
            {history}
        </section>
    }
    .into_any()
}
