//! The Worker: one fetch handler for the device/operator API (`/api/v1`), the portal's
//! server functions (`/_app`) and its server-rendered pages, and one scheduled handler
//! for the cron sweep. Static files (`public/`, including the hydrate bundle under
//! `pkg/`) are served by the Workers assets binding before this code runs.

use app::{App, shell};
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_service::Service;
use worker::{Context, Env, HttpRequest, ScheduleContext, ScheduledEvent, event};

use crate::error::AppError;

mod accounts;
mod admin;
mod alert_mail;
mod audit;
mod auth;
mod clock;
mod config;
mod console;
mod customer_record;
mod delivery;
mod devclock;
mod device;
mod device_cache;
mod downtime;
mod error;
mod health;
mod mail_api;
mod monthly;
mod notify;
mod problems;
mod rate;
mod reports;
mod review;
mod secret;
mod session;
mod signin;
mod sms;
mod sweep;
mod throttle;
mod web;

/// The store over the Worker's D1 binding.
pub(crate) fn store(env: &Env) -> Result<store::Db, AppError> {
    env.d1("DB").map(store::Db::d1).map_err(|e| {
        worker::console_error!("the DB binding: {e}");
        AppError::Internal
    })
}

/// api-v1: a body over 1 MiB is refused with 413, on every route.
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[event(fetch)]
async fn fetch(
    req: HttpRequest,
    env: Env,
    ctx: Context,
) -> worker::Result<axum::http::Response<axum::body::Body>> {
    // Work that may finish after the response (the ★★★ mail) is handed to this context.
    let ctx = std::sync::Arc::new(ctx);
    console_error_panic_hook::set_once();
    // Read the whole body before routing. A handler that answers without reading it leaves
    // the request stream half-read; workerd then reports an uncaught error after the
    // response and restarts the isolate, failing the next request with a 503.
    let (parts, body) = req.into_parts();
    let route = format!("{} {}", parts.method, parts.uri.path());
    let response = answer(parts, body, env, ctx).await?;
    if response.status().is_server_error() {
        // The cause was logged where it happened; this names the route it broke.
        worker::console_error!("{route}: answered {}", response.status());
    }
    Ok(response)
}

async fn answer(
    parts: axum::http::request::Parts,
    body: worker::Body,
    env: Env,
    ctx: std::sync::Arc<Context>,
) -> worker::Result<axum::http::Response<axum::body::Body>> {
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Ok(AppError::PayloadTooLarge.into_response());
        }
        Err(e) => {
            worker::console_error!("reading the request body: {e}");
            return Ok(AppError::InvalidJson.into_response());
        }
    };
    let api = parts.uri.path().starts_with("/api/")
        || parts.uri.path() == "/__cron"
        || parts.uri.path() == "/__clock";
    if api {
        let req = axum::http::Request::from_parts(parts, axum::body::Body::from(body));
        // The device and operator API never renders a page: skip building the portal's
        // routes, which costs more than a small report.
        let mut response = api_routes(Router::new())
            .layer(axum::Extension(env))
            .layer(axum::Extension(ctx))
            .call(req)
            .await?;
        web::secure(&mut response, None);
        return Ok(response);
    }
    if let Some(mut response) = web::misconfigured(&env) {
        web::secure(&mut response, None);
        return Ok(response);
    }
    let mut parts = parts;
    if web::cross_site(&parts) {
        let mut response = (
            axum::http::StatusCode::FORBIDDEN,
            "別のサイトからの送信は受け付けられません。ポータルのページから操作してください。",
        )
            .into_response();
        web::secure(&mut response, None);
        return Ok(response);
    }
    // The portal's pages decide by the same clock as the sign-in handlers.
    let now = clock::now(&env).await;
    let visit = match web::visit(&env, &parts.headers, now).await {
        Ok(v) => v,
        Err(e) => {
            let mut response = e.into_response();
            web::secure(&mut response, None);
            return Ok(response);
        }
    };
    if let Some(mut response) = web::guard(&mut parts, visit.visitor.caller.as_ref()) {
        web::set_cookies(&mut response, &visit.set_cookies);
        web::secure(&mut response, Some(&visit.nonce));
        return Ok(response);
    }
    let visitor = visit.visitor.clone();
    let req = axum::http::Request::from_parts(parts, axum::body::Body::from(body));
    let mut response = router(env.clone(), ctx.clone(), visit.visitor, visit.nonce.clone())
        .call(req)
        .await?;
    // A refused console form: its page again, with what was typed.
    if let Some(again) = response.extensions_mut().remove::<web::Redraw>() {
        let visitor = app::tenant::Visitor {
            draft: Some(again.draft),
            ..visitor
        };
        let router = router(env, ctx, visitor, visit.nonce.clone());
        response = web::redrawn(router, &again.page).await?;
    }
    web::set_cookies(&mut response, &visit.set_cookies);
    web::secure(&mut response, Some(&visit.nonce));
    Ok(response)
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    // The scheduled time, not the wall clock: a retried or late tick still decides as
    // of the minute it stands for.
    let Some(now) = chrono::DateTime::from_timestamp_millis(event.schedule() as i64) else {
        worker::console_error!("cron: scheduled time out of range: {}", event.schedule());
        return;
    };
    if let Err(e) = sweep::sweep(&env, now).await {
        worker::console_error!("cron sweep at {now}: {e:?}");
    }
}

fn router(
    env: Env,
    ctx: std::sync::Arc<Context>,
    visitor: app::tenant::Visitor,
    nonce: String,
) -> Router {
    let options = LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(App);
    let with_env = {
        let env = env.clone();
        let visitor = visitor.clone();
        move || {
            provide_context(env.clone());
            provide_context(config::get(&env));
            provide_context(visitor.clone());
            provide_context(leptos::nonce::Nonce::from_value(nonce.clone()));
        }
    };
    let server_fns = {
        let with_env = with_env.clone();
        move |req| leptos_axum::handle_server_fns_with_context(with_env.clone(), req)
    };
    let page = {
        let options = options.clone();
        move || shell(options.clone())
    };

    api_routes(Router::new())
        .route(
            &format!("{}/{{*fn_name}}", app::SERVER_FN_PREFIX),
            post(server_fns),
        )
        .route("/auth/login", post(signin::login))
        .route("/auth/setup", post(signin::setup))
        .route("/auth/2fa", post(signin::choose))
        .route("/auth/totp", post(signin::confirm_totp))
        .route("/auth/sms/send", post(signin::send_phone_code))
        .route("/auth/sms", post(signin::confirm_sms))
        .route("/auth/verify", post(signin::verify))
        .route("/auth/verify/resend", post(signin::resend))
        .route("/auth/logout", post(signin::logout))
        .route("/auth/password", post(signin::change_password))
        .route("/auth/sessions/end-others", post(signin::end_others))
        .route("/problems/handled", post(problems::mark_handled))
        .route(
            "/admin/customers/{customer_id}/profile",
            post(console::change_profile),
        )
        .route("/incidents/{id}", get(problems::incident_link))
        .leptos_routes_with_context(&options, routes, with_env.clone(), page.clone())
        .fallback(leptos_axum::render_app_async_with_context(with_env, page))
        .layer(axum::Extension(env))
        .layer(axum::Extension(ctx))
        .layer(axum::Extension(visitor))
        .with_state(options)
}

/// The device and operator API (api-v1), and the dev-only time-travel routes (the cron
/// sweep at a chosen time, the sign-in clock's offset).
fn api_routes<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .route("/api/v1/health", get(health::get).fallback(error::get_only))
        .route(
            "/api/v1/admin/customers",
            post(admin::create_customer).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/customers/{customer_id}",
            get(customer_record::get)
                .patch(customer_record::patch)
                .fallback(error::get_patch_only),
        )
        .route(
            "/api/v1/admin/customers/{customer_id}/devices",
            post(admin::create_device).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/customers/{customer_id}/accounts",
            post(accounts::create_for_customer).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/resellers",
            post(accounts::create_reseller).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/resellers/{reseller_id}/accounts",
            post(accounts::create_for_reseller).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/operator/accounts",
            post(accounts::create_for_operator).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/accounts/{account_id}/reset-password",
            post(accounts::reset_password).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/accounts/{account_id}/reset-second-factor",
            post(accounts::reset_second_factor).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/tokens",
            post(accounts::create_token).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/tokens/{token_id}",
            axum::routing::delete(accounts::revoke_token).fallback(error::delete_only),
        )
        .route(
            "/api/v1/admin/audit",
            get(accounts::audit_log).fallback(error::get_only),
        )
        .route(
            "/api/v1/device/enroll",
            post(device::enroll).fallback(error::post_only),
        )
        .route(
            "/api/v1/device/reports",
            post(reports::post).fallback(error::post_only),
        )
        .route(
            "/api/v1/admin/incidents/{incident_id}/investigation",
            post(review::record).fallback(error::post_only),
        )
        .route("/__cron", get(devclock::run))
        .route("/__clock", get(clock::set))
        .route("/api/v1", any(error::not_found))
        .route("/api/v1/{*rest}", any(error::not_found))
}
