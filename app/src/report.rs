//! 月次レポート, one month (`/reports/{YYYY-MM}`; staff: under `/customers/{id}`), seed
//! §4.4 (3): one printable page (A4, the print stylesheet) with the month's status,
//! detections by ★ and function and per day (chart and table), the top threats and hosts,
//! each appliance's availability, the mails sent and the comparison with the
//! participating companies (`domain::monthly`). A closed month reads the report the cron
//! kept on the 1st (`store::monthly::kept`); the month so far, or a closed month not kept
//! yet, is made from the rollups, without the top lists (they come with the kept report).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::figures::{ChartFigure, FiguresTable, counted};
use crate::nav::PortalNav;
use crate::place::Place;

/// One appliance's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplianceLine {
    pub name: String,
    pub id: String,
    pub detections: u64,
    pub online: String,
    pub outages: u64,
}

/// The page of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    pub customer_name: String,
    pub month: String,
    pub label: String,
    pub closed: bool,
    /// The cron kept it (the top lists are in it).
    pub kept: bool,
    pub headline: String,
    pub summary: String,
    pub problem: bool,
    pub total: u64,
    pub tiers: Vec<(String, u64)>,
    pub functions: Vec<(String, u64)>,
    pub problems_open: u64,
    pub problems_handled: u64,
    pub top_threats: Vec<(String, u64)>,
    pub top_hosts: Vec<(String, u64)>,
    pub appliances: Vec<ApplianceLine>,
    /// 通知メール: alerts, appliance notices, investigation reports, not delivered.
    pub mails: [u64; 4],
    /// 「上位 25% に入る多さです」, what it means, own and average; `None`: withheld.
    pub peers: Option<(String, String, u64, u64)>,
    pub days: Vec<(String, u64)>,
    pub chart: String,
}

/// The report of `month` (`YYYY-MM`) of `customer` (staff) or of the caller's company;
/// `Err` is the message of a month that is malformed or has no report.
#[server(prefix = "/_app", endpoint = "monthly_report")]
pub async fn monthly_report(
    #[server(default)] customer: Option<String>,
    #[server(default)] month: String,
) -> Result<Result<ReportView, String>, ServerFnError> {
    server::monthly_report(customer, month).await
}

#[cfg(feature = "ssr")]
mod server {
    use domain::month::Month;
    use domain::monthly::Report;
    use leptos::prelude::*;

    use super::{ApplianceLine, ReportView};

    pub async fn monthly_report(
        requested: Option<String>,
        month: String,
    ) -> Result<Result<ReportView, String>, ServerFnError> {
        let (_, customer) = crate::tenant::page_customer(requested).await?;
        let month = match Month::parse(&month) {
            Ok(m) => m,
            Err(e) => {
                crate::tenant::status(400);
                return Ok(Err(e.to_string()));
            }
        };
        let now = crate::tenant::now()?;
        let tenant = customer.clone();
        let made = crate::tenant::with_env("monthly report", move |env| async move {
            let db = crate::tenant::db(&env)?;
            if let Some(kept) = store::monthly::kept(&db, &tenant, month).await? {
                return Ok(Some((kept, true)));
            }
            let config = crate::tenant::config()?;
            let making = store::monthly::Making {
                now,
                today: domain::period::today(now),
                min_companies: config.peer_min_companies,
                // The top lists read every row of the month: they come with the kept report.
                tops: false,
            };
            let live = store::monthly::report(&db, &db, &tenant, month, making).await?;
            Ok(live.map(|r| (r, false)))
        })
        .await?;
        let Some((report, kept)) = made else {
            crate::tenant::status(404);
            return Ok(Err(format!("{}のレポートはまだありません", month.label())));
        };
        Ok(Ok(view(customer.name(), month, &report, kept)))
    }

    fn view(company: &str, month: Month, r: &Report, kept: bool) -> ReportView {
        let days: Vec<(String, u64)> = r
            .days
            .iter()
            .map(|(d, n)| (d.format("%m/%d").to_string(), *n))
            .collect();
        let chart = chart::render(&chart::Chart {
            id: "report-per-day".into(),
            title: format!("{}の1日ごとの検知件数", month.label()),
            description: format!(
                "{}の1日ごとの検知件数。合計{}件です。",
                month.label(),
                r.detections()
            ),
            unit: "件".into(),
            labels: days.iter().map(|(d, _)| d.clone()).collect(),
            series: vec![chart::Series {
                name: "検知件数".into(),
                values: days.iter().map(|(_, n)| *n as f64).collect(),
                mark: chart::Mark::Bars,
            }],
        });
        ReportView {
            customer_name: company.to_owned(),
            month: month.text(),
            label: month.label(),
            closed: r.closed,
            kept,
            headline: r.headline().to_owned(),
            summary: r.summary(),
            problem: r.problems_open > 0,
            total: r.detections(),
            tiers: r
                .by_tier
                .iter()
                .map(|(t, n)| (t.stars().to_owned(), *n))
                .collect(),
            functions: r
                .by_function
                .iter()
                .map(|(f, n)| (domain::wording::function(*f).to_owned(), *n))
                .collect(),
            problems_open: r.problems_open,
            problems_handled: r.problems_handled,
            top_threats: r
                .top_threats
                .iter()
                .map(|t| (t.name.clone(), t.count))
                .collect(),
            top_hosts: r
                .top_hosts
                .iter()
                .map(|t| (t.name.clone(), t.count))
                .collect(),
            appliances: r
                .appliances
                .iter()
                .map(|a| ApplianceLine {
                    name: a.name.clone(),
                    id: a.id.clone(),
                    detections: a.detections,
                    online: a.online_percent.map_or("—".to_owned(), |p| format!("{p}%")),
                    outages: a.outages,
                })
                .collect(),
            mails: [
                r.mails.alerts,
                r.mails.appliances,
                r.mails.investigations,
                r.mails.undelivered,
            ],
            peers: r.peers.map(|p| {
                (
                    p.band.label().to_owned(),
                    p.band.advice().to_owned(),
                    p.own,
                    p.average,
                )
            }),
            days,
            chart,
        }
    }
}

/// `/reports/{YYYY-MM}` (staff: `/customers/{id}/reports/{YYYY-MM}`).
#[component]
pub fn ReportPage() -> impl IntoView {
    let place = Place::from_route();
    let customer = place.customer();
    let month = use_params_map().with_untracked(|p| p.get("month").unwrap_or_default());
    let data = Resource::new_blocking(
        move || (customer.clone(), month.clone()),
        |(customer, month)| monthly_report(customer, month),
    );
    let shown = place.clone();
    view! {
        <Title text="月次レポート" />
        <div class="no-print">
            <PortalNav place=place.clone() current="reports" />
        </div>
        {crate::signin::loaded(data, move |answer| {
            let place = shown.clone();
            match answer {
                Ok(r) => view! { <ReportBody r place /> }.into_any(),
                Err(message) => {
                    view! {
                        <h1>"月次レポート"</h1>
                        <p class="error" role="alert">{message}</p>
                        <p>
                            <a href=place.href("reports")>"月次レポートの一覧へ"</a>
                        </p>
                    }
                        .into_any()
                }
            }
        })}
    }
}

/// A ranking as a table, or `empty` when there is none.
fn ranked(pairs: Vec<(String, u64)>, empty: &'static str) -> AnyView {
    match pairs.is_empty() {
        true => view! { <p class="empty">{empty}</p> }.into_any(),
        false => view! { <FiguresTable head=Vec::new() rows=counted(pairs) /> }.into_any(),
    }
}

#[component]
fn ReportBody(r: ReportView, place: Place) -> impl IntoView {
    let banner = if r.problem {
        "banner problem"
    } else {
        "banner ok"
    };
    let status = (!r.closed)
        .then(|| view! { <p class="notice">"今月のレポートは作成中です（今日までの集計）。"</p> });
    let tops = if r.kept {
        view! {
            <section aria-labelledby="top-threats">
                <h2 id="top-threats">"多かった脅威"</h2>
                {ranked(r.top_threats, "検知はありませんでした。")}
            </section>
            <section aria-labelledby="top-hosts">
                <h2 id="top-hosts">"検知の多かった社内の端末"</h2>
                {ranked(r.top_hosts, "記録はありません。")}
            </section>
        }
        .into_any()
    } else {
        view! {
            <p class="note">
                "多かった脅威と端末は、月が終わったあと翌月1日に作成するレポートに載ります。"
            </p>
        }
        .into_any()
    };
    let appliances = r
        .appliances
        .into_iter()
        .map(|a| {
            let cells = vec![
                format!("{}件", a.detections),
                a.online,
                format!("{}回", a.outages),
            ];
            (format!("{}（{}）", a.name, a.id), cells)
        })
        .collect();
    let appliances_head = ["UTM装置", "検知", "稼働率", "停止"]
        .map(String::from)
        .to_vec();
    let peers = match r.peers {
        Some((band, advice, own, average)) => view! {
            <p class="headline">{band}</p>
            <p>{advice}</p>
            <p>{format!("自社 {own}件 ／ 参加企業平均 {average}件")}</p>
        }
        .into_any(),
        None => view! { <p>{domain::peers::WITHHELD}</p> }.into_any(),
    };
    let day_rows = r
        .days
        .into_iter()
        .map(|(d, n)| (d, vec![n.to_string()]))
        .collect();
    let day_head = ["日付", "件数"].map(String::from).to_vec();
    let [alerts, notices, investigations, undelivered] = r.mails;
    view! {
        <article class="report">
            <h1>{format!("{} 月次レポート", r.label)}</h1>
            <p class="company">{r.customer_name}</p>
            {status}
            <div class=banner role="status">
                <p class="headline">{r.headline}</p>
                <p>{r.summary}</p>
            </div>
            <p class="actions no-print">
                <a class="button" href=place.href("reports")>
                    "一覧へ"
                </a>
                <a class="button" href=place.href("problems")>
                    "問題を確認"
                </a>
            </p>
            <section aria-labelledby="detections">
                <h2 id="detections">{format!("検知件数（合計 {}件）", r.total)}</h2>
                <div class="tops">
                    <FiguresTable head=Vec::new() rows=counted(r.tiers) caption="重要度別" />
                    <FiguresTable head=Vec::new() rows=counted(r.functions) caption="機能別" />
                </div>
                <p>
                    {format!(
                        "対応が必要な問題: 未対応 {}件・対応済み {}件",
                        r.problems_open,
                        r.problems_handled,
                    )}
                </p>
            </section>
            <section aria-labelledby="per-day">
                <h2 id="per-day">"1日ごとの検知件数"</h2>
                <ChartFigure svg=r.chart head=day_head rows=day_rows />
            </section>
            {tops}
            <section aria-labelledby="availability">
                <h2 id="availability">"UTM装置の稼働"</h2>
                <FiguresTable head=appliances_head rows=appliances />
            </section>
            <section aria-labelledby="mails">
                <h2 id="mails">"お送りした通知メール"</h2>
                <p>
                    {format!(
                        "セキュリティアラート {alerts}通、UTM装置の停止・復旧 {notices}通、調査結果のご報告 {investigations}通",
                    )}
                </p>
                {(undelivered > 0)
                    .then(|| {
                        view! {
                            <p class="warn">
                                {format!("うち{undelivered}通は、まだ届いていないか送信できませんでした。")}
                            </p>
                        }
                    })}
            </section>
            <section aria-labelledby="peers" class="standing">
                <h2 id="peers">"参加企業平均との比較"</h2>
                {peers}
            </section>
        </article>
    }
}
