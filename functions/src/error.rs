//! The one error type of the HTTP edge. Every non-2xx answer of `/api/v1` has the body
//! `{"error": {"code", "message", "path"?}}` of api-v1.md; client mistakes are 4xx,
//! everything else is logged with context and answered as a bare 503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug)]
pub enum AppError {
    /// The body could not be read (the client went away, or sent a broken stream).
    UnreadableBody,
    /// Body over 1 MiB (or, for reports, more than 1000 events).
    PayloadTooLarge,
    /// Unknown id or route, or one the caller may not see (never reveal which).
    NotFound,
    /// The route exists but not for this method.
    MethodNotAllowed { allow: &'static str },
    /// Storage or a dependency failed; nothing was stored.
    Unavailable { retry_after_s: u32 },
}

#[derive(Serialize)]
pub struct ErrorBody {
    code: &'static str,
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::UnreadableBody => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (code, message) = match self {
            AppError::UnreadableBody => ("invalid_json", "the request body could not be read"),
            AppError::PayloadTooLarge => (
                "payload_too_large",
                "the request body is over 1 MiB; split it",
            ),
            AppError::NotFound => ("not_found", "no such resource"),
            AppError::MethodNotAllowed { .. } => {
                ("method_not_allowed", "this method is not allowed here")
            }
            AppError::Unavailable { .. } => (
                "unavailable",
                "the service is temporarily unavailable; retry later",
            ),
        };
        ErrorBody {
            code,
            message,
            path: None,
        }
    }

    /// Headers the client needs to act on the error (`Retry-After`, `Allow`).
    pub fn decorate(&self, response: &mut Response) {
        let headers = response.headers_mut();
        match self {
            AppError::Unavailable { retry_after_s } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
            }
            AppError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            AppError::UnreadableBody | AppError::PayloadTooLarge | AppError::NotFound => {}
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

pub async fn not_found() -> AppError {
    AppError::NotFound
}

pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed { allow: "GET, HEAD" }
}
