//! UTM装置の稼働状況 of one appliance (`/appliances/{device_id}`, staff:
//! `/customers/{id}/appliances/{device}`), seed §3.1, §7.17, §8.3: オンライン/オフライン (the
//! mails' rule, `domain::offline` with `OFFLINE_AFTER_MIN`) and since when, the last
//! report, model, firmware, definitions, connected clients with the warning above the
//! guideline (`domain::clients`), when it was registered and enrolled, its outages (when it
//! went down and came back, `store::appliances`), and what to do while it is offline.
//! An appliance of another customer is a 404, like one that does not exist.

use chrono::{DateTime, Utc};
use domain::offline::Status;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::nav::PortalNav;
use crate::place::Place;

/// Outages listed, newest first.
pub const OUTAGES: u32 = 20;

/// One outage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutageView {
    /// Its last report before the silence.
    pub down_since: Option<DateTime<Utc>>,
    pub noticed_at: DateTime<Utc>,
    pub back_at: Option<DateTime<Utc>>,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplianceView {
    pub id: String,
    pub name: String,
    pub status: Status,
    /// Since when it is in `status`, when known.
    pub since: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    pub definitions: Option<String>,
    pub clients: Option<i64>,
    pub clients_warning: bool,
    pub disabled: bool,
    pub registered_at: DateTime<Utc>,
    pub enrolled_at: Option<DateTime<Utc>>,
    pub offline_after_min: i64,
    pub outages: Vec<OutageView>,
}

/// Appliance `device` of `customer` (staff) or of the caller's company (`None`).
#[server(prefix = "/_app", endpoint = "appliance")]
pub async fn appliance(
    #[server(default)] customer: Option<String>,
    #[server(default)] device: String,
) -> Result<ApplianceView, ServerFnError> {
    server::appliance(customer, device).await
}

#[cfg(feature = "ssr")]
mod server {
    use domain::device::DeviceId;
    use domain::offline::status;
    use leptos::prelude::*;

    use super::{ApplianceView, OUTAGES, OutageView};

    pub async fn appliance(
        requested: Option<String>,
        device: String,
    ) -> Result<ApplianceView, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let Ok(device) = DeviceId::parse(&device) else {
            return Err(crate::tenant::not_found());
        };
        let now = crate::tenant::now()?;
        let (found, threshold) = crate::tenant::with_env("appliance", move |env| async move {
            let threshold = crate::tenant::config()?.downtime.threshold;
            let db = crate::tenant::db(&env)?;
            let found = store::appliances::detail(&db, &customer, &device, OUTAGES).await?;
            Ok((found, threshold))
        })
        .await?;
        let d = found.ok_or_else(crate::tenant::not_found)?;
        let a = d.appliance;
        let state = status(a.last_seen_at, now, threshold);
        let last_back = d.outages.iter().find_map(|o| o.back_at);
        let since = domain::offline::since(state, a.last_seen_at, last_back, a.enrolled_at);
        Ok(ApplianceView {
            status: state,
            since,
            last_seen: a.last_seen_at,
            clients_warning: domain::clients::over_guideline(a.clients),
            offline_after_min: threshold.num_minutes(),
            outages: d
                .outages
                .into_iter()
                .map(|o| OutageView {
                    down_since: o.down_since,
                    noticed_at: o.noticed_at,
                    back_at: o.back_at,
                })
                .collect(),
            id: a.id,
            name: a.name,
            model: a.model,
            firmware: a.firmware,
            definitions: a.definitions,
            clients: a.clients,
            disabled: a.disabled,
            registered_at: a.registered_at,
            enrolled_at: a.enrolled_at,
        })
    }
}

/// `/appliances/{device_id}` (staff: `/customers/{id}/appliances/{device}`).
#[component]
pub fn AppliancePage() -> impl IntoView {
    let place = Place::from_route();
    let customer = place.customer();
    let device = use_params_map().with_untracked(|p| p.get("device").unwrap_or_default());
    let data = Resource::new_blocking(
        move || (customer.clone(), device.clone()),
        |(customer, device)| appliance(customer, device),
    );
    let shown_place = place.clone();
    view! {
        <Title text="UTM装置の稼働状況" />
        <PortalNav place=place.clone() current="appliances" />
        {crate::signin::loaded(data, move |a| view! { <ApplianceBody a place=shown_place.clone() /> })}
    }
}

fn at(t: Option<DateTime<Utc>>, none: &str) -> String {
    t.map_or(none.to_owned(), domain::jst::format_minute)
}

#[component]
fn ApplianceBody(a: ApplianceView, place: Place) -> impl IntoView {
    let status_class = match a.status {
        Status::Online => "status online",
        Status::Offline => "status offline",
    };
    let since = a
        .since
        .map(|t| format!("{}から", domain::jst::format_minute(t)));
    let offline_help = (a.status == Status::Offline).then(|| {
        view! {
            <section class="banner problem" aria-labelledby="offline">
                <h2 id="offline" class="headline">"UTM装置と通信できていません"</h2>
                <p>
                    {format!(
                        "{}分以上、UTM装置からの通信が届いていません。次の順にご確認ください。",
                        a.offline_after_min,
                    )}
                </p>
                <ol>
                    <li>"UTM装置の電源が入っているか（ランプが点いているか）を確認してください。"</li>
                    <li>"LANケーブルがUTM装置とルーター（インターネット側）にしっかり差し込まれているかを確認してください。"</li>
                    <li>"電源を入れ直す場合は、電源を切って10秒ほど待ってから入れてください。"</li>
                    <li>"それでも10分ほどたってオンラインに戻らない場合は、相談窓口へご連絡ください。故障の場合は代替機をお送りします。"</li>
                </ol>
            </section>
        }
    });
    let clients = match a.clients {
        Some(n) => format!("{n}台"),
        None => "記録なし".to_owned(),
    };
    let warning = a.clients_warning.then(|| {
        view! {
            <p class="warning" role="status">
                {domain::clients::WARNING}
            </p>
        }
    });
    let disabled = a.disabled.then(|| {
        view! {
            <p class="warning">
                "このUTM装置は利用停止中です。UTM装置からの報告は受け付けていません。"
            </p>
        }
    });
    let outages = if a.outages.is_empty() {
        view! { <p class="empty">"停止の記録はありません。"</p> }.into_any()
    } else {
        let rows = a
            .outages
            .into_iter()
            .map(|o| {
                let back = match o.back_at {
                    Some(t) => domain::jst::format_minute(t),
                    None => "停止中".to_owned(),
                };
                view! {
                    <li>
                        <span>"停止: " {at(o.down_since, "記録なし")}</span>
                        <span>"検知: " {domain::jst::format_minute(o.noticed_at)}</span>
                        <span>"復旧: " {back}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="outages">{rows}</ul> }.into_any()
    };
    let or_none = |v: Option<String>| v.unwrap_or_else(|| "記録なし".to_owned());
    view! {
        <h1>{a.name.clone()}</h1>
        <p class="state">
            <span class=status_class>{a.status.label()}</span> " " {since}
        </p>
        {disabled}
        {offline_help}
        <section aria-labelledby="about">
            <h2 id="about">"UTM装置の情報"</h2>
            <dl class="fields" data-device-id=a.id.clone()>
                <dt>"機器ID"</dt>
                <dd>
                    <code>{a.id.clone()}</code>
                </dd>
                <dt>"最終通信"</dt>
                <dd>{at(a.last_seen, "記録なし")}</dd>
                <dt>"機種"</dt>
                <dd>{or_none(a.model)}</dd>
                <dt>"ファームウェア"</dt>
                <dd>{or_none(a.firmware)}</dd>
                <dt>"定義ファイルのバージョン"</dt>
                <dd>{or_none(a.definitions)}</dd>
                <dt>"接続している端末"</dt>
                <dd>{clients} "（目安: 1台あたり100台まで）"</dd>
                <dt>"登録日"</dt>
                <dd>{domain::jst::format_minute(a.registered_at)}</dd>
                <dt>"初期設定（登録）の完了"</dt>
                <dd>{at(a.enrolled_at, "まだ初期設定が終わっていません")}</dd>
            </dl>
            {warning}
        </section>
        <section aria-labelledby="outages">
            <h2 id="outages">"停止と復旧の記録"</h2>
            {outages}
        </section>
        <p>
            <a href=format!("{}?days=30&device={}", place.href("alerts"), a.id)>
                "このUTM装置の検知履歴"
            </a>
            " ・ "
            <a href=place.href("appliances")>"稼働状況の一覧へ戻る"</a>
        </p>
    }
}
