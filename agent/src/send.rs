//! Delivering spooled reports, and what each answer of the cloud means for the report
//! (api-v1 "Errors"): 202 stored it, so it leaves the spool; 5xx, 408, timeouts and
//! refused connections say nothing was stored, so the same bytes go again after a
//! backoff; 429 asks to wait `Retry-After`; any other 4xx says these bytes will never be
//! accepted, so the report is set aside in `rejected/` rather than blocking the ones
//! behind it; 401 and 403 say this appliance may not send at all until someone acts
//! (re-enroll, or ask the operator), so sending stops and the spool is kept for later.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::progress::{Counters, Line};
use crate::spool::{Entry, Spool};
use crate::state::Secret;

pub const USER_AGENT: &str = concat!("mimamori-agent/", env!("CARGO_PKG_VERSION"));

/// A `Retry-After` longer than this is taken as a mistake rather than obeyed for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The HTTP client every command shares: connect within 5 s, whole exchange within 30 s,
/// and non-2xx answers returned as answers (not errors) so their bodies can be read.
pub fn http_client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_global(Some(Duration::from_secs(30)))
        .user_agent(USER_AGENT)
        .http_status_as_error(false)
        .build()
        .into()
}

/// What came back from one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// POSTs a JSON body, with a bearer token when given.
pub fn post_json(
    http: &ureq::Agent,
    url: &str,
    token: Option<&Secret>,
    body: &[u8],
) -> Result<Answer, ureq::Error> {
    let mut request = http.post(url).header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {}", token.expose()));
    }
    let mut response = request.send(body)?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(256 * 1024)
        .read_to_string()
        .unwrap_or_default();
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// api-v1's error body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub path: Option<String>,
}

/// `400 invalid_field at $.events[0].occurred_at: is older than 7 days`, or the status and
/// the start of the body when it is not an api-v1 error.
pub fn describe(answer: &Answer) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: ApiError,
    }
    match serde_json::from_str::<Body>(&answer.body) {
        Ok(Body { error }) => {
            let at = error.path.map(|p| format!(" at {p}")).unwrap_or_default();
            format!("{} {}{at}: {}", answer.status, error.code, error.message)
        }
        Err(_) => {
            let start: String = answer.body.chars().take(200).collect();
            format!("{} {}", answer.status, start.trim())
        }
    }
}

/// What to do with a report after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 202: stored (or already stored); forget it.
    Delivered,
    /// Nothing was stored; send the same bytes again after `after` or a backoff.
    Retry { after: Option<Duration> },
    /// These bytes will never be accepted; set them aside.
    Reject,
    /// The appliance may not send at all (401 re-enroll, 403 disabled); stop.
    Refused,
}

pub fn verdict(status: u16, retry_after: Option<Duration>) -> Verdict {
    match status {
        202 => Verdict::Delivered,
        401 | 403 => Verdict::Refused,
        // A request timeout says nothing about these bytes.
        408 => Verdict::Retry { after: None },
        429 => Verdict::Retry { after: retry_after },
        400..=499 => Verdict::Reject,
        500..=599 => Verdict::Retry { after: retry_after },
        // Not an api-v1 answer (a proxy or captive portal): the cloud may not have seen
        // the report, so keep it and try again.
        _ => Verdict::Retry { after: None },
    }
}

/// Exponential backoff with "equal jitter": the ceiling doubles from `initial` up to
/// `max`, and each wait lies in the upper half of it, so many appliances that lost the
/// cloud at the same moment do not all come back in the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const DEFAULT: Backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };

    /// `max` as given, `initial` 1 s or `max` if that is shorter.
    pub fn capped_at(max: Duration) -> Backoff {
        Backoff {
            initial: Backoff::DEFAULT.initial.min(max),
            max,
        }
    }

    /// The wait before retry number `attempt` (0 for the first retry), for a `jitter`
    /// drawn uniformly from `[0, 1)`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let ceiling = (self.initial.as_secs_f64() * 2f64.powi(attempt.min(40) as i32))
            .min(self.max.as_secs_f64());
        Duration::from_secs_f64(ceiling * (0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
    }
}

/// Everything one appliance's sender needs.
#[derive(Clone)]
pub struct Delivery {
    pub spool: Arc<Spool>,
    pub reports_url: String,
    pub token: Secret,
    pub backoff: Backoff,
    pub http: ureq::Agent,
    pub line: Line,
}

/// Why a sender stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The producer is done (its end of `wake` is dropped) and the spool is empty.
    Drained,
    /// `stop` was raised; whatever is left stays in the spool.
    Stopped,
    /// 401 or 403: the appliance may not send; the spool is kept.
    Refused(u16),
}

/// Sends spooled reports oldest first until the spool is empty and the producer has hung
/// up `wake`, `stop` is raised, or the cloud refuses the appliance. Producers send `()`
/// on `wake` after each report they spool, so new reports go out at once.
pub fn deliver(d: &Delivery, wake: &Receiver<()>, stop: &AtomicBool) -> End {
    loop {
        if stop.load(Ordering::SeqCst) {
            return End::Stopped;
        }
        let entries = match d.spool.entries() {
            Ok(entries) => entries,
            Err(e) => {
                d.line.warn(&format!("cannot read the spool: {e}"));
                if !pause(Duration::from_secs(1), stop) {
                    return End::Stopped;
                }
                continue;
            }
        };
        set_waiting(d, entries.len());
        if entries.is_empty() {
            d.line.set_state("idle");
            match wake.recv_timeout(Duration::from_millis(250)) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return End::Drained,
            }
        }
        let total = entries.len();
        for (i, entry) in entries.iter().enumerate() {
            match send_one(d, entry, stop) {
                Sent::Done => set_waiting(d, total - i - 1),
                Sent::Stopped => return End::Stopped,
                Sent::Refused(status) => {
                    d.line.finish(&format!("stopped: {status}"));
                    return End::Refused(status);
                }
            }
        }
    }
}

enum Sent {
    Done,
    Stopped,
    Refused(u16),
}

/// Sends one spooled report until the cloud gives a final answer.
fn send_one(d: &Delivery, entry: &Entry, stop: &AtomicBool) -> Sent {
    let body = match fs::read(&entry.path) {
        Ok(body) => body,
        Err(e) => {
            d.line
                .warn(&format!("cannot read {}: {e}", entry.path.display()));
            let _ = d.spool.reject(entry, &format!("unreadable: {e}"));
            return Sent::Done;
        }
    };
    let counters = &d.line.counters;
    let mut attempt = 0;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Sent::Stopped;
        }
        d.line.set_state(format!("sending {}", entry.report_id));
        let started = Instant::now();
        let (wait, reason) = match post_json(&d.http, &d.reports_url, Some(&d.token), &body) {
            Ok(answer) => match verdict(answer.status, answer.retry_after) {
                Verdict::Delivered => {
                    delivered(d, entry, &answer, started.elapsed());
                    return Sent::Done;
                }
                Verdict::Reject => {
                    let why = describe(&answer);
                    match d.spool.reject(entry, &format!("{why}\n")) {
                        Ok(to) => d.line.warn(&format!(
                            "{} rejected ({why}); moved to {}",
                            entry.report_id,
                            to.display()
                        )),
                        Err(e) => d.line.warn(&format!(
                            "{} rejected ({why}) but could not be moved aside: {e}",
                            entry.report_id
                        )),
                    }
                    Counters::add(&counters.rejected, 1);
                    return Sent::Done;
                }
                Verdict::Refused => {
                    let what = if answer.status == 401 {
                        "the device token was refused: re-enroll this appliance"
                    } else {
                        "the appliance is not allowed to report: ask the operator"
                    };
                    d.line.warn(&format!(
                        "{what} ({}); sending stopped, {} report(s) kept in the spool",
                        describe(&answer),
                        d.spool.len()
                    ));
                    return Sent::Refused(answer.status);
                }
                Verdict::Retry { after } => (
                    after.unwrap_or_else(|| d.backoff.delay(attempt, rand::random())),
                    describe(&answer),
                ),
            },
            Err(e) => (d.backoff.delay(attempt, rand::random()), e.to_string()),
        };
        Counters::add(&counters.retries, 1);
        set_waiting(d, d.spool.len());
        d.line
            .set_state(format!("retrying in {:.1}s ({reason})", wait.as_secs_f64()));
        let msg = format!(
            "{} not delivered ({reason}); retry {} in {:.1}s",
            entry.report_id,
            attempt + 1,
            wait.as_secs_f64()
        );
        if attempt == 0 {
            d.line.warn(&msg);
        } else {
            d.line.info(&msg);
        }
        attempt += 1;
        if !pause(wait, stop) {
            return Sent::Stopped;
        }
    }
}

fn delivered(d: &Delivery, entry: &Entry, answer: &Answer, took: Duration) {
    #[derive(Deserialize)]
    struct Accepted {
        accepted: u64,
        duplicates: u64,
    }
    let counters = &d.line.counters;
    Counters::add(&counters.delivered, 1);
    let counts = serde_json::from_str::<Accepted>(&answer.body).ok();
    if let Some(c) = &counts {
        Counters::add(&counters.accepted, c.accepted);
        Counters::add(&counters.duplicates, c.duplicates);
    }
    if let Err(e) = d.spool.remove(entry) {
        // It will be sent again; the cloud counts it as a duplicate.
        d.line.warn(&format!(
            "{} delivered but not removed from the spool: {e}",
            entry.report_id
        ));
    }
    d.line.info(&match counts {
        Some(c) => format!(
            "{} delivered in {} ms: accepted {}, duplicates {}",
            entry.report_id,
            took.as_millis(),
            c.accepted,
            c.duplicates
        ),
        None => format!("{} delivered in {} ms", entry.report_id, took.as_millis()),
    });
}

fn set_waiting(d: &Delivery, n: usize) {
    d.line.counters.waiting.store(n as u64, Ordering::Relaxed);
    d.line.redraw();
}

/// Sleeps `d` in short slices; false when `stop` was raised meanwhile.
pub fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(status: u16, retry_after: Option<u64>, expected: Verdict) {
        assert_eq!(
            verdict(status, retry_after.map(Duration::from_secs)),
            expected
        );
    }

    #[test]
    fn only_202_removes_a_report_from_the_spool() {
        check(202, None, Verdict::Delivered);
        check(200, None, Verdict::Retry { after: None });
        check(201, None, Verdict::Retry { after: None });
        check(302, None, Verdict::Retry { after: None });
    }

    #[test]
    fn server_errors_are_retried_honouring_retry_after() {
        check(500, None, Verdict::Retry { after: None });
        check(
            503,
            Some(5),
            Verdict::Retry {
                after: Some(Duration::from_secs(5)),
            },
        );
        check(408, None, Verdict::Retry { after: None });
    }

    #[test]
    fn rate_limiting_waits_as_long_as_the_cloud_asks() {
        check(
            429,
            Some(1),
            Verdict::Retry {
                after: Some(Duration::from_secs(1)),
            },
        );
    }

    #[test]
    fn client_errors_are_never_retried_with_the_same_bytes() {
        for status in [400, 404, 409, 413, 415, 422] {
            check(status, None, Verdict::Reject);
        }
    }

    #[test]
    fn an_unauthenticated_or_forbidden_appliance_stops_sending() {
        check(401, None, Verdict::Refused);
        check(403, None, Verdict::Refused);
    }

    #[test]
    fn the_backoff_doubles_from_one_second_up_to_the_cap() {
        let b = Backoff::DEFAULT;
        let ceilings: Vec<f64> = (0..9).map(|n| b.delay(n, 1.0).as_secs_f64()).collect();
        assert_eq!(ceilings, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]);
        assert_eq!(b.delay(1000, 1.0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_keeps_each_wait_in_the_upper_half_of_its_ceiling() {
        let b = Backoff::DEFAULT;
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(3, 0.5), Duration::from_secs(6));
        for n in 0..20 {
            for j in [0.0, 0.3, 0.999] {
                let d = b.delay(n, j);
                assert!(d >= b.delay(n, 0.0) && d <= b.delay(n, 1.0));
                assert!(d <= b.max);
            }
        }
    }

    #[test]
    fn a_small_cap_also_shortens_the_first_wait() {
        let b = Backoff::capped_at(Duration::from_millis(200));
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(200));
        assert_eq!(b.delay(5, 1.0), Duration::from_millis(200));
    }

    #[test]
    fn errors_are_described_with_code_path_and_message() {
        let answer = Answer {
            status: 400,
            retry_after: None,
            body: r#"{"error":{"code":"invalid_field","message":"is older than 7 days","path":"$.events[0].occurred_at"}}"#.into(),
        };
        assert_eq!(
            describe(&answer),
            "400 invalid_field at $.events[0].occurred_at: is older than 7 days"
        );
        let proxy = Answer {
            status: 502,
            retry_after: None,
            body: "<html>Bad Gateway</html>".into(),
        };
        assert_eq!(describe(&proxy), "502 <html>Bad Gateway</html>");
    }
}
