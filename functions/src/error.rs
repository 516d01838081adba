//! The one error type of the HTTP edge, rendered three ways: as the api-v1 error body
//! `{"error": {"code", "message", "path"?}}` of every non-2xx answer of `/api/v1`
//! (`IntoResponse`), as a form redirect with its code (`to_form`), and — in the portal's
//! server functions, which run in `app` — with the same statuses by `app::tenant::with_env`.
//! Client mistakes are 4xx; storage that is down or refused is a 503 to retry; a bug of ours
//! (a statement the schema cannot answer) is a 500. Each is logged with its cause, and
//! `lib.rs` logs every 5xx with its route.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::fields::BodyError;
use serde::Serialize;

#[derive(Debug)]
pub enum AppError {
    /// The body is not JSON (or could not be read at all).
    InvalidJson,
    /// One field breaks a rule; `path` names it.
    InvalidField { path: String, message: String },
    /// Token missing, malformed, forged or expired.
    Unauthenticated,
    /// The token is valid but may not do this (a reseller token on an operator-only
    /// endpoint).
    Forbidden,
    /// The caller is known but its customer's contract has ended.
    ContractEnded,
    /// The appliance has been disabled by the operator.
    DeviceDisabled,
    /// Unknown id or route, or one the caller may not see (never reveal which).
    NotFound,
    /// The route exists but not for this method.
    MethodNotAllowed { allow: &'static str },
    /// The id is already taken elsewhere (a device registered to another customer).
    Conflict { message: &'static str },
    /// Body over 1 MiB (or, for reports, more than 1000 events).
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// Over the per-device (or per-token) rate; retry after this many seconds.
    RateLimited { retry_after_s: u32 },
    /// Storage or a dependency failed; nothing was stored.
    Unavailable { retry_after_s: u32 },
    /// Our own mistake (a statement the schema cannot answer): logged, a 500.
    Internal,
}

#[derive(Serialize)]
pub struct ErrorBody {
    code: &'static str,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::InvalidJson | AppError::InvalidField { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::ContractEnded | AppError::DeviceDisabled => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (code, message, path) = match self {
            AppError::InvalidJson => (
                "invalid_json",
                "the request body is not valid JSON".into(),
                None,
            ),
            AppError::InvalidField { path, message } => (
                "invalid_field",
                format!("{path}: {message}"),
                Some(path.clone()),
            ),
            AppError::Unauthenticated => (
                "unauthenticated",
                "a valid bearer token is required".into(),
                None,
            ),
            AppError::Forbidden => (
                "forbidden",
                "this token may not do this; ask the operator".into(),
                None,
            ),
            AppError::ContractEnded => (
                "contract_ended",
                "the customer's contract has ended".into(),
                None,
            ),
            AppError::DeviceDisabled => (
                "device_disabled",
                "this device has been disabled".into(),
                None,
            ),
            AppError::NotFound => ("not_found", "no such resource".into(), None),
            AppError::MethodNotAllowed { .. } => (
                "method_not_allowed",
                "this method is not allowed here".into(),
                None,
            ),
            AppError::Conflict { message } => ("conflict", (*message).into(), None),
            AppError::PayloadTooLarge => (
                "payload_too_large",
                "the request body is over 1 MiB; split it".into(),
                None,
            ),
            AppError::UnsupportedMediaType => (
                "unsupported_media_type",
                "send the body as application/json".into(),
                None,
            ),
            AppError::RateLimited { retry_after_s } => (
                "rate_limited",
                format!("too many requests; retry after {retry_after_s} s"),
                None,
            ),
            AppError::Unavailable { .. } => (
                "unavailable",
                "the service is temporarily unavailable; retry later".into(),
                None,
            ),
            AppError::Internal => ("internal", "an internal error occurred".into(), None),
        };
        ErrorBody {
            code,
            message,
            path,
        }
    }

    /// The answer to a portal form whose handling failed (storage, a dependency, a bug):
    /// logged with the form's page, then 303 back to `page` with the form error code the
    /// page shows in Japanese (「しばらくしてからもう一度お試しください」). A form's own
    /// mistakes (a wrong code, a weak password) are `FormError`s chosen by its handler.
    pub fn to_form(&self, page: &str) -> Response {
        worker::console_error!("form {page}: {self:?}");
        crate::web::see_other(&domain::signin::FormError::Unavailable.on(page))
    }

    /// Headers the client needs to act on the error (`Retry-After`, `Allow`).
    pub fn decorate(&self, response: &mut Response) {
        let headers = response.headers_mut();
        match self {
            AppError::Unavailable { retry_after_s } | AppError::RateLimited { retry_after_s } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
            }
            AppError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            _ => {}
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Envelope {
            error: ErrorBody,
        }
        let mut response =
            (self.status(), axum::Json(Envelope { error: self.body() })).into_response();
        self.decorate(&mut response);
        response
    }
}

impl From<BodyError> for AppError {
    fn from(e: BodyError) -> AppError {
        match e {
            BodyError::InvalidJson => AppError::InvalidJson,
            BodyError::InvalidField(f) => AppError::InvalidField {
                path: f.path,
                message: f.message,
            },
        }
    }
}

/// Storage failures: logged with their cause, answered as a bare 503.
impl From<worker::Error> for AppError {
    fn from(e: worker::Error) -> AppError {
        worker::console_error!("storage: {e}");
        AppError::Unavailable { retry_after_s: 5 }
    }
}

/// Store failures: a database that is down or refused is a 503 to retry; a bug of ours
/// is a 500. Both are logged with their cause.
impl From<store::Error> for AppError {
    fn from(e: store::Error) -> AppError {
        worker::console_error!("{e}");
        match e {
            store::Error::Unavailable(_) => AppError::Unavailable { retry_after_s: 5 },
            store::Error::Bug(_) => AppError::Internal,
        }
    }
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

pub async fn get_only() -> AppError {
    AppError::MethodNotAllowed { allow: "GET, HEAD" }
}

pub async fn post_only() -> AppError {
    AppError::MethodNotAllowed { allow: "POST" }
}

pub async fn get_patch_only() -> AppError {
    AppError::MethodNotAllowed {
        allow: "GET, HEAD, PATCH",
    }
}

pub async fn delete_only() -> AppError {
    AppError::MethodNotAllowed { allow: "DELETE" }
}
