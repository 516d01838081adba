//! The portal: one Leptos app rendered on the Worker (`ssr`), in islands mode: a page is
//! server-rendered HTML, and only its few interactive parts (`#[island]`) are hydrated in
//! the browser (`hydrate`), so the client bundle carries those parts and not every page.
//! Links and GET forms still change the page without a full load (`navigation`). Pages read through
//! server functions; on the server those run in the same request, so the first HTML
//! already carries the data.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

pub mod alert;
pub mod alert_filter;
pub mod alerts;
pub mod appliance;
pub mod appliance_compare;
pub mod appliances;
pub mod customer_record;
pub mod dashboard;
pub mod draft;
pub mod figures;
pub mod get_form;
pub mod mails;
pub mod messages;
pub mod nav;
#[cfg(feature = "hydrate")]
mod navigation;
pub mod peer_compare;
pub mod period;
pub mod place;
pub mod problems;
pub mod profile_form;
pub mod report;
pub mod reports;
pub mod roster;
#[cfg(feature = "ssr")]
pub mod sealing;
pub mod signin;
pub mod staff;
#[cfg(feature = "ssr")]
pub mod tenant;
pub mod usage;

/// The prefix under which the portal's server functions are served. `/api/v1` is the
/// external contract (api-v1.md); these endpoints are internal to the portal.
pub const SERVER_FN_PREFIX: &str = "/_app";

/// The file names that `scripts/build` gives the hydrate bundle: `pkg/mimamori.js` and
/// `pkg/mimamori_bg.wasm`.
pub const OUTPUT_NAME: &str = "mimamori";

/// The whole HTML document, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="ja">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <MetaTags />
            </head>
            <body>
                <App />
                <HydrationScripts options islands=true />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="main" href="/pkg/mimamori.css" />
        <Title formatter=|page: String| format!("{page} | 見守り") />
        <Router>
            <header class="site">
                <a class="brand" href="/">"見守り"</a>
                <span class="tagline">"サイバーセキュリティ見守りサービス"</span>
                <signin::UserMenu />
                <HydrationMark />
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=Home ssr=SsrMode::Async />
                    <Route
                        path=path!("/customers/:id")
                        view=dashboard::DashboardPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/appliances")
                        view=appliances::AppliancesPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/appliances")
                        view=appliances::AppliancesPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/problems")
                        view=problems::ProblemsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/problems")
                        view=problems::ProblemsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/alerts")
                        view=alerts::AlertsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/alerts")
                        view=alerts::AlertsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/alerts/:alert")
                        view=alert::AlertPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/alerts/:alert")
                        view=alert::AlertPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/appliances/:device")
                        view=appliance::AppliancePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/appliances/:device")
                        view=appliance::AppliancePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/usage")
                        view=usage::UsagePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/usage")
                        view=usage::UsagePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/compare/peers")
                        view=peer_compare::PeersPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/compare/peers")
                        view=peer_compare::PeersPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/compare/appliances")
                        view=appliance_compare::AppliancesComparePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/compare/appliances")
                        view=appliance_compare::AppliancesComparePage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/reports") view=reports::ReportsPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/customers/:id/reports")
                        view=reports::ReportsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/reports/:month")
                        view=report::ReportPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/reports/:month")
                        view=report::ReportPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/mails")
                        view=mails::MailsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/customers/:id/mails")
                        view=mails::MailsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/login") view=signin::LoginPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/login/verify")
                        view=signin::VerifyPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/setup") view=signin::SetupPage ssr=SsrMode::Async />
                    <Route path=path!("/setup/2fa") view=signin::ChoosePage ssr=SsrMode::Async />
                    <Route path=path!("/setup/totp") view=signin::TotpPage ssr=SsrMode::Async />
                    <Route path=path!("/setup/sms") view=signin::SmsPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/setup/recovery")
                        view=signin::RecoveryPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/account") view=signin::AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=staff::AuditPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/admin/customers")
                        view=staff::CustomersPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/customers/:id")
                        view=customer_record::CustomerRecordPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// Marks `<body data-hydrated>` once the page's islands are interactive (tests and styles
/// read it). Effects run only in the browser.
#[island]
fn HydrationMark() -> impl IntoView {
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
        #[cfg(feature = "hydrate")]
        navigation::start();
    });
}

/// `/`: a customer admin sees their company's dashboard; staff see their customers.
#[component]
fn Home() -> impl IntoView {
    let state = Resource::new_blocking(|| (), |()| signin::page_state());
    view! {
        <messages::Done />
        {signin::loaded(state, |s| {
            if s.me.as_ref().is_some_and(|m| m.staff) {
                view! { <staff::CustomersList /> }.into_any()
            } else {
                view! { <dashboard::DashboardPage /> }.into_any()
            }
        })}
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    tenant::status(404);
    view! {
        <Title text="ページが見つかりません" />
        <h1>"ページが見つかりません"</h1>
        <p>"URLをご確認ください。"<a href="/">"トップへ戻る"</a></p>
    }
}

/// Entry point of the hydrate bundle, called by the script that `HydrationScripts` emits.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
