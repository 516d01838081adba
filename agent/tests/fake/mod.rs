//! A stand-in for the cloud, small enough to read in one sitting: a TCP listener on
//! 127.0.0.1 that speaks just enough HTTP/1.1 (one request per connection) to answer
//! api-v1's device and operator endpoints. Reports are checked with the cloud's own
//! parser (`domain::report::parse_report`) and stored by report and event id, so the
//! answers count accepted events and duplicates as the real one does. A test can script
//! the next answers (503, 429 …) and reads back every request it received.

#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use chrono::Utc;
use domain::report::{ReportError, parse_report};
use serde_json::{Value, json};

pub const DEVICE_TOKEN: &str = "device-token-for-tests";
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests";
pub const CODE: &str = "ABCD-EFGH-JKLM-NPQR";

/// One request as the fake cloud saw it, and the status it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    pub body: Vec<u8>,
    pub status: u16,
    pub at: Instant,
}

impl Received {
    pub fn report_id(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body).expect("a JSON body");
        v["report_id"].as_str().expect("a report id").to_owned()
    }
}

#[derive(Default)]
struct Store {
    script: VecDeque<(u16, Option<u64>)>,
    received: Vec<Received>,
    reports: HashSet<String>,
    events: HashSet<String>,
}

pub struct FakeCloud {
    pub port: u16,
    store: Arc<Mutex<Store>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A port that is bound but not listening: connecting to it is refused, as to a cloud
/// that is down, and no other process can take it meanwhile. [`Parked::listen`] brings
/// the cloud up on that same port.
pub struct Parked(socket2::Socket);

impl Parked {
    pub fn new() -> Parked {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("a socket");
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&any.into()).expect("a free port");
        Parked(socket)
    }

    pub fn url(&self) -> String {
        let port = self.0.local_addr().unwrap().as_socket().unwrap().port();
        format!("http://127.0.0.1:{port}")
    }

    pub fn listen(self) -> FakeCloud {
        self.0.listen(128).expect("listening on the parked port");
        FakeCloud::on(self.0.into())
    }
}

impl FakeCloud {
    pub fn start() -> FakeCloud {
        FakeCloud::on(TcpListener::bind("127.0.0.1:0").expect("a free port"))
    }

    fn on(listener: TcpListener) -> FakeCloud {
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let store = Arc::new(Mutex::new(Store::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (store, stop) = (store.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = handle(stream, &store);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => return,
                    }
                }
            })
        };
        FakeCloud {
            port,
            store,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next report requests get these statuses (with `Retry-After` seconds), in order;
    /// after them the fake answers as the cloud would.
    pub fn script(&self, answers: &[(u16, Option<u64>)]) {
        self.store.lock().unwrap().script.extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.store.lock().unwrap().received.clone()
    }

    pub fn reports_received(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == "/api/v1/device/reports")
            .collect()
    }
}

impl Drop for FakeCloud {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(stream: TcpStream, store: &Mutex<Store>) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let (mut length, mut authorization, mut content_type, mut user_agent) = (0, None, None, None);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_owned();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "authorization" => authorization = Some(value),
                "content-type" => content_type = Some(value),
                "user-agent" => user_agent = Some(value),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;

    let mut store = store.lock().unwrap();
    let (status, retry_after, answer) =
        answer(&mut store, &path, &authorization, &content_type, &body);
    store.received.push(Received {
        path,
        authorization,
        content_type,
        user_agent,
        body,
        status,
        at: Instant::now(),
    });
    drop(store);

    let answer = answer.to_string();
    let mut out = stream;
    let retry = retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{retry}\r\n{answer}",
        answer.len()
    )?;
    out.flush()
}

fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

fn answer(
    store: &mut Store,
    path: &str,
    authorization: &Option<String>,
    content_type: &Option<String>,
    body: &[u8],
) -> (u16, Option<u64>, Value) {
    let bearer = |token: &str| authorization.as_deref() == Some(&format!("Bearer {token}"));
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match path {
        "/api/v1/device/enroll" => {
            if request["enrollment_code"] == CODE {
                (
                    201,
                    None,
                    json!({"device_token": DEVICE_TOKEN, "report_interval_s": 60}),
                )
            } else {
                (
                    401,
                    None,
                    error("unauthenticated", "the enrollment code is not valid"),
                )
            }
        }
        "/api/v1/device/reports" => {
            if let Some((status, retry_after)) = store.script.pop_front() {
                let code = match status {
                    400 => "invalid_field",
                    401 => "unauthenticated",
                    429 => "rate_limited",
                    _ => "unavailable",
                };
                return (status, retry_after, error(code, "scripted by the test"));
            }
            if !bearer(DEVICE_TOKEN) {
                return (401, None, error("unauthenticated", "no valid device token"));
            }
            if content_type.as_deref() != Some("application/json") {
                return (415, None, error("unsupported_media_type", "send JSON"));
            }
            let report = match parse_report(body, Utc::now()) {
                Ok(report) => report,
                Err(ReportError::InvalidField(e)) => {
                    let mut v = error("invalid_field", &e.message);
                    v["error"]["path"] = json!(e.path);
                    return (400, None, v);
                }
                Err(e) => return (400, None, error("invalid_json", &e.to_string())),
            };
            let id = report.report_id.as_str().to_owned();
            let (mut accepted, mut duplicates) = (0, 0);
            if store.reports.insert(id.clone()) {
                for e in &report.events {
                    if store.events.insert(e.event_id().as_str().to_owned()) {
                        accepted += 1;
                    } else {
                        duplicates += 1;
                    }
                }
            } else {
                duplicates = report.events.len();
            }
            (
                202,
                None,
                json!({"report_id": id, "accepted": accepted, "duplicates": duplicates}),
            )
        }
        "/api/v1/admin/customers" if bearer(OPERATOR_TOKEN) => {
            (201, None, json!({"customer_id": "cus_test"}))
        }
        "/api/v1/admin/customers/cus_test/devices" if bearer(OPERATOR_TOKEN) => (
            201,
            None,
            json!({"enrollment_code": CODE, "expires_at": "2026-12-25T00:00:00Z"}),
        ),
        p if p.starts_with("/api/v1/admin/") => (
            401,
            None,
            error("unauthenticated", "no valid operator token"),
        ),
        _ => (404, None, error("not_found", "no such endpoint")),
    }
}
