//! What each request does. `POST /emails` is the Resend-shaped API the Worker calls;
//! `/api/emails` and `/_control` are for tests; `/` and `/emails/{id}` are for people.
//! Every `POST /emails` counts as an attempt, and an injected fault takes its turn before
//! anything else is looked at, the API key included.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use crate::ApiKey;
use crate::fault::{Control, Fault, Faults};
use crate::http::{Request, Response};
use crate::mail::{Mail, Submission};
use crate::mailbox::Mailbox;
use crate::page;

/// Resend's bounds for an `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 256;

#[derive(Debug)]
pub struct Shared {
    api_key: Option<ApiKey>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    mailbox: Mailbox,
    faults: Faults,
    /// `POST /emails` requests since startup or the last reset, failed ones included.
    attempts: u64,
}

impl Shared {
    pub fn new(api_key: Option<ApiKey>, mailbox: Mailbox) -> Shared {
        Shared {
            api_key,
            state: Mutex::new(State {
                mailbox,
                faults: Faults::default(),
                attempts: 0,
            }),
        }
    }

    /// A panic elsewhere cannot leave the state half-changed (every change is one step),
    /// so a poisoned lock is still good to use.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub fn handle(shared: &Shared, request: &Request) -> Response {
    let method = request.method.as_str();
    let read = matches!(method, "GET" | "HEAD");
    match request.path.as_str() {
        "/emails" if method == "POST" => send(shared, request),
        "/emails" => not_allowed("POST"),
        "/api/emails" if read => list(shared, request),
        "/api/emails" if method == "DELETE" => clear(shared),
        "/api/emails" => not_allowed("GET, HEAD, DELETE"),
        "/_control" if read => Response::json(200, &stats(&shared.lock())),
        "/_control" if method == "POST" => control(shared, request),
        "/_control" => not_allowed("GET, HEAD, POST"),
        "/" if read => html(200, page::list(shared.lock().mailbox.mails())),
        "/" => not_allowed("GET, HEAD"),
        path => match path.strip_prefix("/emails/") {
            Some(id) if read => match shared.lock().mailbox.get(id) {
                Some(mail) => html(200, page::detail(mail)),
                None => html(404, page::not_found(id)),
            },
            Some(_) => not_allowed("GET, HEAD"),
            None => error(404, "not_found", "no such endpoint"),
        },
    }
}

fn send(shared: &Shared, request: &Request) -> Response {
    let fault = {
        let mut state = shared.lock();
        state.attempts += 1;
        state.faults.take()
    };
    // Sleeping without the lock: other requests go on meanwhile.
    match fault {
        Some(Fault::Fail { status, delay }) => {
            thread::sleep(delay);
            let name = match status {
                429 => "rate_limit_exceeded",
                500..=599 => "application_error",
                _ => "injected_fault",
            };
            let response = error(status, name, "injected fault, nothing stored")
                .with_note(format!("injected fault {status}"));
            return match status {
                429 | 503 => response.with_header("Retry-After", "1"),
                _ => response,
            };
        }
        Some(Fault::Slow { delay }) => thread::sleep(delay),
        None => {}
    }

    if let Some(expected) = &shared.api_key {
        let given = request.header("Authorization").and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("Bearer").then(|| token.trim())
        });
        let refusal = match given {
            None => Some((
                "missing_api_key",
                "missing API key: send `Authorization: Bearer <key>`",
            )),
            Some(key) if !expected.matches(key) => Some(("invalid_api_key", "API key is invalid")),
            Some(_) => None,
        };
        if let Some((name, message)) = refusal {
            return error(401, name, message).with_header("WWW-Authenticate", "Bearer");
        }
    }

    let submission = match Submission::parse(&request.body) {
        Ok(submission) => submission,
        Err(invalid) => return error(422, "validation_error", &invalid.to_string()),
    };
    let key = match request.header("Idempotency-Key") {
        None => None,
        Some(key) if (1..=MAX_IDEMPOTENCY_KEY).contains(&key.len()) => Some(key.to_owned()),
        Some(_) => {
            return error(
                400,
                "invalid_idempotency_key",
                "`Idempotency-Key` must be 1 to 256 characters",
            );
        }
    };

    let now = Utc::now();
    let mut state = shared.lock();
    if let Some(key) = &key
        && let Some(first) = state.mailbox.by_idempotency_key(key, now)
    {
        // As Resend does: a retry gets the first answer, while the same key with another
        // mail is a sender bug that would lose that other mail in production.
        return if first.is_same_as(&submission) {
            Response::json(200, &json!({ "id": first.id }))
                .with_note(format!("repeat of {} (Idempotency-Key {key:?})", first.id))
        } else {
            error(
                409,
                "invalid_idempotent_request",
                "same idempotency key used with a different request payload",
            )
        };
    }
    let mail = Mail::received(submission, Uuid::new_v4().to_string(), now, key);
    let id = mail.id.clone();
    let note = format!("stored {id} to {:?} subject {:?}", mail.to, mail.subject);
    match state.mailbox.add(mail) {
        Ok(()) => Response::json(200, &json!({ "id": id })).with_note(note),
        Err(e) => error(500, "application_error", "could not store the mail")
            .with_note(format!("could not append the mail to the store: {e}")),
    }
}

fn list(shared: &Shared, request: &Request) -> Response {
    let state = shared.lock();
    let mails = state.mailbox.mails().iter();
    let mails: Vec<&Mail> = match request.query_param("to") {
        Some(to) => mails.filter(|m| m.is_to(&to)).collect(),
        None => mails.collect(),
    };
    Response::json(200, &mails)
}

fn clear(shared: &Shared) -> Response {
    match shared.lock().mailbox.clear() {
        Ok(deleted) => Response::json(200, &json!({ "deleted": deleted })),
        Err(e) => error(500, "application_error", "could not clear the store")
            .with_note(format!("could not truncate the store: {e}")),
    }
}

fn control(shared: &Shared, request: &Request) -> Response {
    let control = match Control::parse(&request.body) {
        Ok(control) => control,
        Err(invalid) => return error(422, "validation_error", &invalid.to_string()),
    };
    let mut state = shared.lock();
    if control.reset {
        if let Err(e) = state.mailbox.clear() {
            return error(500, "application_error", "could not clear the store")
                .with_note(format!("could not truncate the store: {e}"));
        }
        state.faults = Faults::default();
        state.attempts = 0;
    }
    if let Some(faults) = control.faults {
        state.faults = faults;
    }
    Response::json(200, &stats(&state))
}

fn stats(state: &State) -> serde_json::Value {
    json!({
        "attempts": state.attempts,
        "stored": state.mailbox.mails().len(),
        "pending_faults": state.faults.pending(),
    })
}

/// The error body in Resend's shape; the log line repeats the message.
fn error(status: u16, name: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "statusCode": status, "name": name, "message": message }),
    )
    .with_note(format!("{name}: {message}"))
}

fn not_allowed(allow: &'static str) -> Response {
    error(
        405,
        "method_not_allowed",
        "method not allowed for this endpoint",
    )
    .with_header("Allow", allow)
}

fn html(status: u16, page: String) -> Response {
    Response::html(status, page)
        .with_header("Content-Security-Policy", page::CONTENT_SECURITY_POLICY)
        .with_header("Referrer-Policy", "no-referrer")
}
