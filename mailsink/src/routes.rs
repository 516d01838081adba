//! What each request does. `POST /emails` is the Resend-shaped API and
//! `POST /2010-04-01/Accounts/{sid}/Messages.json` the Twilio-shaped one the Worker calls;
//! `/api/emails`, `/api/sms` and `/_control` are for tests; `/` and `/emails/{id}` are for
//! people. Every send counts as an attempt of its API, and an injected fault takes its turn
//! before anything else is looked at, the credentials included.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use crate::fault::{Api, Control, Fault, Faults};
use crate::http::{Request, Response};
use crate::mail::{Mail, Submission};
use crate::mailbox::Mailbox;
use crate::sms::{self, Message};
use crate::{Secret, SmsAccount, page};

/// Resend's bounds for an `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 256;
/// The Twilio API version in every Messages path.
const TWILIO_VERSION: &str = "2010-04-01";

#[derive(Debug)]
pub struct Shared {
    api_key: Option<Secret>,
    sms_account: SmsAccount,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    mailbox: Mailbox,
    emails: Traffic,
    sms: Traffic,
}

/// One API's sends since startup or the last reset.
#[derive(Debug, Default)]
struct Traffic {
    faults: Faults,
    /// Failed ones included.
    attempts: u64,
}

impl Shared {
    pub fn new(api_key: Option<Secret>, sms_account: SmsAccount, mailbox: Mailbox) -> Shared {
        Shared {
            api_key,
            sms_account,
            state: Mutex::new(State {
                mailbox,
                emails: Traffic::default(),
                sms: Traffic::default(),
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
        "/api/emails" if method == "DELETE" => clear(shared, Mailbox::clear_mails),
        "/api/emails" => not_allowed("GET, HEAD, DELETE"),
        "/api/sms" if read => list_sms(shared, request),
        "/api/sms" if method == "DELETE" => clear(shared, Mailbox::clear_messages),
        "/api/sms" => not_allowed("GET, HEAD, DELETE"),
        "/_control" if read => Response::json(200, &stats(&shared.lock())),
        "/_control" if method == "POST" => control(shared, request),
        "/_control" => not_allowed("GET, HEAD, POST"),
        "/" if read => {
            let state = shared.lock();
            html(
                200,
                page::list(state.mailbox.mails(), state.mailbox.messages()),
            )
        }
        "/" => not_allowed("GET, HEAD"),
        path => {
            if let Some(id) = path.strip_prefix("/emails/") {
                if !read {
                    return not_allowed("GET, HEAD");
                }
                return match shared.lock().mailbox.get(id) {
                    Some(mail) => html(200, page::detail(mail)),
                    None => html(404, page::not_found(id)),
                };
            }
            let messages_of = path
                .strip_prefix("/2010-04-01/Accounts/")
                .and_then(|rest| rest.strip_suffix("/Messages.json"))
                .filter(|sid| !sid.contains('/'));
            match messages_of {
                Some(sid) if method == "POST" => send_sms(shared, request, sid),
                Some(_) => twilio_error(405, 20004, "method not allowed: send with POST")
                    .with_header("Allow", "POST"),
                None => error(404, "not_found", "no such endpoint"),
            }
        }
    }
}

fn send(shared: &Shared, request: &Request) -> Response {
    if let Some(status) = arrive(shared, Api::Emails) {
        let name = match status {
            429 => "rate_limit_exceeded",
            500..=599 => "application_error",
            _ => "injected_fault",
        };
        let response = error(status, name, "injected fault, nothing stored");
        return injected(response, status);
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

/// The Twilio-shaped send: credentials, then the form, then the message is stored and
/// answered 201 with Twilio's message resource.
fn send_sms(shared: &Shared, request: &Request, path_sid: &str) -> Response {
    if let Some(status) = arrive(shared, Api::Sms) {
        // Twilio's codes for 429, 500 and 503 are 20429, 20500 and 20503; other injected
        // statuses follow the same pattern.
        let code = 20000 + u32::from(status);
        let response = twilio_error(status, code, "injected fault, nothing stored");
        return injected(response, status);
    }

    let account = &shared.sms_account;
    let refusal = match request.basic_auth() {
        None => Some("no basic auth"),
        Some((user, _)) if user != account.sid.as_str() => {
            Some("basic auth user is not the configured account SID")
        }
        Some((_, token)) if !account.auth_token.matches(&token) => Some("wrong auth token"),
        Some(_) if path_sid != account.sid.as_str() => {
            Some("the account SID in the path is not the configured one")
        }
        Some(_) => None,
    };
    if let Some(why) = refusal {
        // Twilio's exact words, the only message here not in the house style.
        return twilio_error(401, 20003, "Authenticate")
            .with_header("WWW-Authenticate", "Basic realm=\"Twilio API\"")
            .with_note(format!("20003 authenticate: {why}"));
    }

    if !request.has_form_body() {
        return twilio_error(
            400,
            70002,
            "send the fields as Content-Type: application/x-www-form-urlencoded",
        );
    }
    let submission = match sms::Submission::parse(&request.form_fields()) {
        Ok(submission) => submission,
        Err(invalid) => return twilio_error(400, invalid.code(), &invalid.to_string()),
    };
    let sid = format!("SM{}", Uuid::new_v4().simple());
    let message = Message::received(submission, sid, path_sid.to_owned(), Utc::now());
    let answer = message_resource(&message);
    let note = format!(
        "stored {} to {:?} body {:?}",
        message.sid, message.to, message.body
    );
    match shared.lock().mailbox.add_message(message) {
        Ok(()) => Response::json(201, &answer).with_note(note),
        Err(e) => twilio_error(500, 20500, "could not store the message")
            .with_note(format!("could not append the message to the store: {e}")),
    }
}

/// Counts an attempt of `api` and gives the fault its turn: sleeps for its delay, then
/// returns the status to fail with, if any. Sleeps without the lock, so other requests go
/// on meanwhile.
fn arrive(shared: &Shared, api: Api) -> Option<u16> {
    let fault = {
        let mut state = shared.lock();
        let traffic = state.traffic(api);
        traffic.attempts += 1;
        traffic.faults.take()
    };
    match fault {
        Some(Fault::Fail { status, delay }) => {
            thread::sleep(delay);
            Some(status)
        }
        Some(Fault::Slow { delay }) => {
            thread::sleep(delay);
            None
        }
        None => None,
    }
}

/// An injected fault's answer: logged as one, and a 429 or 503 asks to retry in a second.
fn injected(response: Response, status: u16) -> Response {
    let response = response.with_note(format!("injected fault {status}"));
    match status {
        429 | 503 => response.with_header("Retry-After", "1"),
        _ => response,
    }
}

/// Twilio's answer to a created message: the fields Twilio sends, with the values a
/// message has right after it is queued.
fn message_resource(message: &Message) -> serde_json::Value {
    let created = message.received_at.to_rfc2822();
    let uri = format!(
        "/{TWILIO_VERSION}/Accounts/{}/Messages/{}",
        message.account_sid, message.sid
    );
    json!({
        "account_sid": message.account_sid,
        "api_version": TWILIO_VERSION,
        "body": message.body,
        "date_created": created,
        "date_sent": null,
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": message.from,
        "messaging_service_sid": null,
        "num_media": "0",
        "num_segments": message.num_segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": message.sid,
        "status": "queued",
        "subresource_uris": { "media": format!("{uri}/Media.json") },
        "to": message.to,
        "uri": format!("{uri}.json"),
    })
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

fn list_sms(shared: &Shared, request: &Request) -> Response {
    let state = shared.lock();
    let messages = state.mailbox.messages().iter();
    let messages: Vec<&Message> = match request.query_param("to") {
        Some(to) => messages.filter(|m| m.is_to(&to)).collect(),
        None => messages.collect(),
    };
    Response::json(200, &messages)
}

fn clear(shared: &Shared, forget: fn(&mut Mailbox) -> std::io::Result<usize>) -> Response {
    match forget(&mut shared.lock().mailbox) {
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
        state.emails = Traffic::default();
        state.sms = Traffic::default();
    }
    if let Some((api, faults)) = control.faults {
        state.traffic(api).faults = faults;
    }
    Response::json(200, &stats(&state))
}

impl State {
    fn traffic(&mut self, api: Api) -> &mut Traffic {
        match api {
            Api::Emails => &mut self.emails,
            Api::Sms => &mut self.sms,
        }
    }
}

/// The mail counters at the top level (as before SMS), the SMS ones under `sms`.
fn stats(state: &State) -> serde_json::Value {
    json!({
        "attempts": state.emails.attempts,
        "stored": state.mailbox.mails().len(),
        "pending_faults": state.emails.faults.pending(),
        "sms": {
            "attempts": state.sms.attempts,
            "stored": state.mailbox.messages().len(),
            "pending_faults": state.sms.faults.pending(),
        },
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

/// The error body in Twilio's shape; the log line repeats code and message.
fn twilio_error(status: u16, code: u32, message: &str) -> Response {
    Response::json(
        status,
        &json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        }),
    )
    .with_note(format!("{code}: {message}"))
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
