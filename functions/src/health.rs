//! `GET /api/v1/health`: whether this Worker can reach its database and has the settings
//! it needs, for load balancers, uptime checks and the e2e tests. 200 with `"db": "ok"`
//! and `"config": "ok"`; otherwise 503 with `"db": "unavailable"` or `"config"` naming
//! each required setting that is missing or unusable (its key, never its value), and the
//! api-v1 error envelope, so every non-2xx looks alike.
//! The last cron sweep's summary (fleet size, appliances offline) is shown only to the
//! operator's token: strangers get status, version and db.

use axum::Extension;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::config::Problem;
use serde::Serialize;
use worker::Env;

use crate::error::{AppError, ErrorBody};
use crate::sweep;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    db: &'static str,
    /// `"ok"`, or the required settings that are missing or unusable.
    config: ConfigState,
    /// The last cron sweep's summary (`null` before the first), for the operator only.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_sweep: Option<Option<sweep::Summary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ConfigState {
    Ok(&'static str),
    Problems(Vec<Problem>),
}

fn config_state(env: &Env) -> ConfigState {
    let problems = crate::config::get(env).problems();
    if problems.is_empty() {
        ConfigState::Ok("ok")
    } else {
        ConfigState::Problems(problems)
    }
}

#[worker::send]
pub async fn get(Extension(env): Extension<Env>, headers: HeaderMap) -> Response {
    let db_ok = match db_answers(&env).await {
        Ok(()) => true,
        Err(e) => {
            worker::console_error!("health: database check failed: {e}");
            false
        }
    };
    let last_sweep = if operator(&env, &headers).await {
        Some(sweep::last(&env).await.unwrap_or_else(|e| {
            worker::console_error!("health: reading the last sweep failed: {e}");
            None
        }))
    } else {
        None
    };
    let version = env!("CARGO_PKG_VERSION");
    let config = config_state(&env);
    let config_ok = matches!(config, ConfigState::Ok(_));
    let db = if db_ok { "ok" } else { "unavailable" };
    if db_ok && config_ok {
        let body = Health {
            status: "ok",
            version,
            db,
            config,
            last_sweep,
            error: None,
        };
        return (StatusCode::OK, axum::Json(body)).into_response();
    }
    let error = AppError::Unavailable { retry_after_s: 30 };
    let mut body = error.body();
    if !config_ok {
        body.message = "a required setting is missing or unusable (see config)".into();
    }
    let body = Health {
        status: if db_ok {
            "misconfigured"
        } else {
            "unavailable"
        },
        version,
        db,
        config,
        last_sweep,
        error: Some(body),
    };
    let mut response = (error.status(), axum::Json(body)).into_response();
    error.decorate(&mut response);
    response
}

/// Whether the request carries the operator's token (any other, or none, is a stranger:
/// health always answers).
async fn operator(env: &Env, headers: &HeaderMap) -> bool {
    if headers.get(axum::http::header::AUTHORIZATION).is_none() {
        return false;
    }
    crate::auth::api_caller(headers, env, &Method::GET, "/api/v1/health")
        .await
        .is_ok_and(|caller| caller.is_operator())
}

/// Whether the database answers with our schema (`store::health`).
async fn db_answers(env: &Env) -> Result<(), store::Error> {
    let db = env
        .d1("DB")
        .map(store::Db::d1)
        .map_err(|e| store::Error::Unavailable(format!("the DB binding: {e}")))?;
    store::health::ping(&db).await
}
