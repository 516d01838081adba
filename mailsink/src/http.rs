//! Just enough HTTP/1.1 for a local tool: a thread per connection, keep-alive, request
//! bodies sent with a `Content-Length` of at most [`MAX_BODY`] bytes, form bodies and basic
//! auth decoded for the SMS API, one log line per request on stderr. Hand-written rather
//! than tiny_http because tiny_http drains a refused body into one buffer of whatever size
//! the client declared; here an oversized request is answered 413 without reading its
//! body, and the connection is closed.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;

/// The largest request body accepted (2 MiB), enough for a mail with a large HTML part.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// The request line and headers together.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;
/// How long a connection may sit idle, or a client take to send a request, before it is
/// closed: keeps a forgotten client from holding a thread forever.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path without the query, as sent (not percent-decoded).
    pub path: String,
    query: String,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    close: bool,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded. `+` stays a plus sign rather than becoming a
    /// space, because the values asked for are mail addresses like `ops+alerts@example.com`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(n, _)| percent_decode(n) == name)
            .map(|(_, v)| percent_decode(v))
    }

    /// Whether the body is declared as an HTML form (`application/x-www-form-urlencoded`),
    /// with or without a charset.
    pub fn has_form_body(&self) -> bool {
        self.header("Content-Type")
            .and_then(|t| t.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(FORM))
    }

    /// The body's form fields in order, decoded: `+` is a space here, as in every form.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name), decode(value))
            })
            .collect()
    }

    /// The user and password of `Authorization: Basic …`, if that is what was sent.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let (scheme, encoded) = self.header("Authorization")?.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("Basic") {
            return None;
        }
        let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// What the log line says about the request besides method, path and status.
    note: String,
}

impl Response {
    pub fn json(status: u16, value: &impl Serialize) -> Response {
        // Serializing our own plain data types cannot fail; an empty body would show it.
        let body = serde_json::to_vec(value).unwrap_or_default();
        Response::new(status, "application/json; charset=utf-8", body)
    }

    pub fn html(status: u16, page: String) -> Response {
        Response::new(status, "text/html; charset=utf-8", page.into_bytes())
    }

    fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
            note: String::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Response {
        self.note = note.into();
        self
    }
}

/// Answers connections on `listener` until the process ends, each on its own thread, so a
/// slow request (an injected delay) holds up nobody else.
pub fn serve<H>(listener: TcpListener, handler: H)
where
    H: Fn(&Request) -> Response + Send + Sync + 'static,
{
    let handler = Arc::new(handler);
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let handler = Arc::clone(&handler);
                let spawned = thread::Builder::new().spawn(move || connection(stream, &*handler));
                if let Err(e) = spawned {
                    log(format_args!("no thread for a connection: {e}"));
                }
            }
            // Out of file descriptors and the like: the next accept may work again.
            Err(e) => {
                log(format_args!("accept failed: {e}"));
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// A line on stderr. Unlike `eprintln!` it does not panic when stderr is gone (a closed
/// pipe), which in a release build (panic = "abort") would take the whole sink down.
fn log(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "mailsink: {line}");
}

fn connection(stream: TcpStream, handler: &(dyn Fn(&Request) -> Response + Sync)) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a: SocketAddr| a.to_string());
    let (Ok(()), Ok(()), Ok(read_half)) = (
        stream.set_read_timeout(Some(READ_TIMEOUT)),
        stream.set_write_timeout(Some(WRITE_TIMEOUT)),
        stream.try_clone(),
    ) else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let mut seen = String::new();
        let read = read_request(&mut reader, &mut writer, &mut seen);
        // Timed from here: the wait for a request on an idle connection is nobody's delay.
        let started = Instant::now();
        let (line, response, close) = match read {
            // The client closed the connection (or went quiet) between requests.
            Ok(None) | Err(Refusal::Gone) => return,
            Ok(Some(request)) => {
                let response = handler(&request);
                let head_only = request.method == "HEAD";
                let line = format!("{} {}", request.method, request.target().escape_debug());
                let written = write_response(&mut writer, &response, request.close, head_only);
                // The client may have given up (a timeout); nothing to tell it then.
                (line, response, request.close || written.is_err())
            }
            Err(Refusal::Refused(status, message)) => {
                let response = Response::json(
                    status,
                    &serde_json::json!({
                        "statusCode": status,
                        "name": "invalid_request",
                        "message": message,
                    }),
                )
                .with_note(message);
                write_response(&mut writer, &response, true, false).ok();
                let line = if seen.is_empty() {
                    "-".to_owned()
                } else {
                    seen
                };
                (line, response, true)
            }
        };
        let ms = started.elapsed().as_millis();
        let Response { status, note, .. } = &response;
        let note = if note.is_empty() {
            String::new()
        } else {
            format!(" {note}")
        };
        log(format_args!("{peer} {line} -> {status} ({ms} ms){note}"));
        if close {
            return;
        }
    }
}

impl Request {
    fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

#[derive(Debug, PartialEq)]
enum Refusal {
    /// The connection broke or timed out mid-request: no one to answer.
    Gone,
    /// Answer this status with this message, then close the connection.
    Refused(u16, &'static str),
}

/// Reads one request; `Ok(None)` when the client closed the connection cleanly first.
/// `continue_to` receives `100 Continue` when the client asks for it; `seen` the request
/// line (printable) as soon as it is read, for the log line of a refused request.
fn read_request(
    reader: &mut impl BufRead,
    continue_to: &mut impl Write,
    seen: &mut String,
) -> Result<Option<Request>, Refusal> {
    let mut budget = MAX_HEAD;
    // A client may send blank lines before a request (RFC 9112 section 2.2).
    let request_line = loop {
        match read_line(reader, &mut budget)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    *seen = request_line.escape_debug().to_string();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Refused(400, "malformed request line"));
    };
    if method.is_empty() || !target.starts_with('/') {
        return Err(Refusal::Refused(400, "malformed request line"));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => {
            return Err(Refusal::Refused(
                505,
                "only HTTP/1.1 and HTTP/1.0 are supported",
            ));
        }
    };

    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader, &mut budget)? else {
            return Err(Refusal::Gone);
        };
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(Refusal::Refused(431, "too many request headers"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(Refusal::Refused(400, "malformed header line"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(Refusal::Refused(400, "malformed header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let has = |name: &str, token: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    // HTTP/1.0 keep-alive needs an extra response header; old clients are rare enough
    // here to just close after each of their requests.
    let close = http10 || has("Connection", "close");

    if headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("Transfer-Encoding"))
    {
        return Err(Refusal::Refused(
            411,
            "send the body with a Content-Length, not chunked",
        ));
    }
    let mut lengths = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| {
            let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            // Too many digits for a u64 is simply too large.
            digits.then(|| v.parse::<u64>().unwrap_or(u64::MAX))
        });
    let length = match lengths.next() {
        None => 0,
        Some(Some(first)) if lengths.all(|other| other == Some(first)) => first,
        Some(_) => return Err(Refusal::Refused(400, "invalid Content-Length")),
    };
    let length = match usize::try_from(length) {
        Ok(length) if length <= MAX_BODY => length,
        _ => return Err(Refusal::Refused(413, "request body is larger than 2 MiB")),
    };
    if length > 0 && !http10 && has("Expect", "100-continue") {
        continue_to
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .and_then(|()| continue_to.flush())
            .map_err(|_| Refusal::Gone)?;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|_| Refusal::Gone)?;

    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
        close,
    }))
}

/// One line without its line break, or `None` at the end of input before any byte.
fn read_line(reader: &mut impl BufRead, budget: &mut usize) -> Result<Option<String>, Refusal> {
    let mut line = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX);
    let n = reader
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|_| Refusal::Gone)?;
    if n == 0 {
        return if *budget == 0 {
            Err(Refusal::Refused(431, "request head is larger than 64 KiB"))
        } else {
            Ok(None)
        };
    }
    *budget -= n;
    if line.pop() != Some(b'\n') {
        return if *budget == 0 {
            Err(Refusal::Refused(431, "request head is larger than 64 KiB"))
        } else {
            Err(Refusal::Gone)
        };
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    close: bool,
    head_only: bool,
) -> io::Result<()> {
    let status = response.status;
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
    // Writing to a String cannot fail.
    let _ = write!(head, "Date: {date}\r\n");
    // 204 and 304 answers have no body by definition.
    let bodyless = matches!(status, 204 | 304);
    if !bodyless {
        let _ = write!(
            head,
            "Content-Type: {}\r\nContent-Length: {}\r\n",
            response.content_type,
            response.body.len()
        );
    }
    head.push_str("Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
    if close {
        head.push_str("Connection: close\r\n");
    }
    for (name, value) in &response.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    let mut out = BufWriter::new(stream);
    out.write_all(head.as_bytes())?;
    if !bodyless && !head_only {
        out.write_all(&response.body)?;
    }
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// `%XX` sequences become bytes; anything malformed stays as it is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> (Result<Option<Request>, Refusal>, String) {
        let mut interim = Vec::new();
        let result = read_request(&mut raw.as_bytes(), &mut interim, &mut String::new());
        (result, String::from_utf8(interim).unwrap())
    }

    #[track_caller]
    fn refused(raw: &str, status: u16) {
        match parse(raw).0 {
            Err(Refusal::Refused(s, _)) => assert_eq!(s, status, "{raw:?}"),
            other => panic!("expected {status} for {raw:?}, got {other:?}"),
        }
    }

    #[test]
    fn a_request_with_a_body_is_read_with_its_headers_and_query() {
        let (result, interim) = parse(
            "\r\nPOST /emails?to=a%40example.com HTTP/1.1\r\nHost: x\r\n\
             idempotency-key: k1\r\nContent-Length: 2\r\n\r\n{}",
        );
        let request = result.unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/emails");
        assert_eq!(request.query_param("to").as_deref(), Some("a@example.com"));
        assert_eq!(request.header("Idempotency-Key"), Some("k1"));
        assert_eq!(request.body, b"{}");
        assert!(!request.close);
        assert_eq!(interim, "");
    }

    #[test]
    fn an_expect_100_continue_is_answered_before_the_body_is_read() {
        let (result, interim) =
            parse("POST /emails HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
        assert_eq!(result.unwrap().unwrap().body, b"x");
        assert_eq!(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[test]
    fn connection_close_and_http_1_0_close_after_the_answer() {
        let close = |raw: &str| parse(raw).0.unwrap().unwrap().close;
        assert!(close("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(close("GET / HTTP/1.0\r\n\r\n"));
        assert!(!close("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn the_end_of_input_between_requests_is_no_request_and_within_one_is_a_broken_one() {
        assert!(matches!(parse("").0, Ok(None)));
        assert!(matches!(
            parse("GET / HTTP/1.1\r\nHost: x").0,
            Err(Refusal::Gone)
        ));
        let truncated_body = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab";
        assert!(matches!(parse(truncated_body).0, Err(Refusal::Gone)));
    }

    #[test]
    fn a_body_over_2_mib_is_refused_before_it_is_read() {
        refused(
            &format!(
                "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                MAX_BODY + 1
            ),
            413,
        );
        refused(
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            413,
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        refused("GET /\r\n\r\n", 400);
        refused("GET http://x/ HTTP/1.1\r\n\r\n", 400);
        refused("GET / HTTP/2.0\r\n\r\n", 505);
        refused("GET / HTTP/1.1\r\nno colon\r\n\r\n", 400);
        refused("GET / HTTP/1.1\r\nbad name: x\r\n\r\n", 400);
        refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
        refused("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx", 400);
        refused(
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
            400,
        );
        refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
        refused(
            &format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD)),
            431,
        );
        refused(
            &format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(101)),
            431,
        );
    }

    fn request(headers: &str, body: &str) -> Request {
        let raw = format!(
            "POST /x HTTP/1.1\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        parse(&raw).0.unwrap().unwrap()
    }

    #[test]
    fn a_form_body_is_decoded_with_plus_as_a_space() {
        let form = request(
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n",
            "To=%2B819012345678&Body=%E8%AA%8D%E8%A8%BC+123456&&Empty=&Bare",
        );
        assert!(form.has_form_body());
        let fields = form.form_fields();
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("To", "+819012345678"),
                ("Body", "認証 123456"),
                ("Empty", ""),
                ("Bare", "")
            ]
        );
        assert!(!request("Content-Type: application/json\r\n", "{}").has_form_body());
        assert!(!request("", "To=x").has_form_body());
    }

    #[test]
    fn basic_auth_gives_user_and_password_and_anything_else_nothing() {
        // "AC1:tok:en" in base64: the password is everything after the first colon.
        let auth = |value: &str| request(&format!("Authorization: {value}\r\n"), "").basic_auth();
        assert_eq!(
            auth("Basic QUMxOnRvazplbg=="),
            Some(("AC1".to_owned(), "tok:en".to_owned()))
        );
        assert_eq!(
            auth("basic QUMxOnRvazplbg=="),
            Some(("AC1".to_owned(), "tok:en".to_owned()))
        );
        assert_eq!(auth("Bearer QUMxOnRvazplbg=="), None);
        assert_eq!(auth("Basic not-base64!"), None);
        // "nocolon"
        assert_eq!(auth("Basic bm9jb2xvbg=="), None);
        assert_eq!(request("", "").basic_auth(), None);
    }

    #[track_caller]
    fn check_decode(input: &str, expected: &str) {
        assert_eq!(percent_decode(input), expected);
    }

    #[test]
    fn percent_decoding_keeps_plus_signs_and_malformed_escapes() {
        check_decode("ops%2Balerts%40example.com", "ops+alerts@example.com");
        check_decode("ops+alerts@example.com", "ops+alerts@example.com");
        check_decode("%E7%9B%A3%E8%A6%96", "監視");
        check_decode("100%", "100%");
        check_decode("%zz", "%zz");
    }
}
