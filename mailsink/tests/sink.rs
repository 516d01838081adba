//! The `mimamori-mailsink` binary from the outside: started on port 0 as scripts start it,
//! spoken to with ureq as a sender of mail or text messages would, and over raw TCP where
//! a client library would hide the detail under test.

// Helpers here are test code too: a panic is a failed test, as in `#[test]` functions.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value, json};

const KEY: &str = "dev-mail-key";
/// The SMS account's defaults, as in `.dev.vars.example`.
const SID: &str = "AC00000000000000000000000000000000";
const TOKEN: &str = "dev-sms-token";

/// A running sink, killed (not asked to stop) when dropped.
struct Sink {
    child: Child,
    url: String,
    /// The `--sms-listen` address, when started with one.
    sms_url: Option<String>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    fn start(args: &[&str]) -> Sink {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mimamori-mailsink"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut address = |prefix: &str| {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            let url = line
                .trim_end()
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("unexpected startup line {line:?}"))
                .to_owned();
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            assert!(!url.ends_with(":0"), "{url}");
            url
        };
        let url = address("mailsink: listening on ");
        let sms_url = args.contains(&"--sms-listen").then(|| {
            let url = address("mailsink: also listening on ");
            url.strip_suffix(" (--sms-listen)").unwrap().to_owned()
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink_stderr = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink_stderr.lock().unwrap().push(line);
            }
        });
        Sink {
            child,
            url,
            sms_url,
            stderr,
        }
    }

    fn with_key() -> Sink {
        Sink::start(&["--api-key", KEY])
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn send(&self, mail: &Value) -> Answer {
        self.send_with(
            &agent(),
            &[("Authorization", &format!("Bearer {KEY}"))],
            mail,
        )
    }

    fn send_once(&self, key: &str, mail: &Value) -> Answer {
        let auth = format!("Bearer {KEY}");
        self.send_with(
            &agent(),
            &[("Authorization", &auth), ("Idempotency-Key", key)],
            mail,
        )
    }

    fn send_with(&self, agent: &ureq::Agent, headers: &[(&str, &str)], mail: &Value) -> Answer {
        let mut request = agent.post(self.url("/emails"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .content_type("application/json")
            .send(mail.to_string())
            .unwrap();
        Answer::from(response)
    }

    fn get(&self, path: &str) -> Answer {
        Answer::from(agent().get(self.url(path)).call().unwrap())
    }

    fn control(&self, body: &Value) -> Value {
        let response = agent()
            .post(self.url("/_control"))
            .content_type("application/json")
            .send(body.to_string())
            .unwrap();
        let answer = Answer::from(response);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    fn mails(&self) -> Vec<Value> {
        let answer = self.get("/api/emails");
        assert_eq!(answer.status, 200);
        serde_json::from_value(answer.json()).unwrap()
    }

    fn stats(&self) -> Value {
        self.get("/_control").json()
    }

    /// Sends a text message to the default account with the right credentials.
    fn send_sms(&self, fields: &[(&str, impl AsRef<str>)]) -> Answer {
        self.send_sms_to(&self.url, SID, Some((SID, TOKEN)), fields)
    }

    /// Sends a text message as a form to `base`'s Messages path for `path_sid`.
    fn send_sms_to(
        &self,
        base: &str,
        path_sid: &str,
        auth: Option<(&str, &str)>,
        fields: &[(&str, impl AsRef<str>)],
    ) -> Answer {
        let mut request = agent().post(format!(
            "{base}/2010-04-01/Accounts/{path_sid}/Messages.json"
        ));
        if let Some((user, password)) = auth {
            let credentials = BASE64.encode(format!("{user}:{password}"));
            request = request.header("Authorization", format!("Basic {credentials}"));
        }
        Answer::from(
            request
                .send_form(fields.iter().map(|(n, v)| (*n, v.as_ref())))
                .unwrap(),
        )
    }

    fn messages(&self, query: &str) -> Vec<Value> {
        let answer = self.get(&format!("/api/sms{query}"));
        assert_eq!(answer.status, 200);
        serde_json::from_value(answer.json()).unwrap()
    }

    /// Waits up to two seconds for a stderr line containing all of `parts`.
    fn logged(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let lines = self.stderr.lock().unwrap().clone();
            if let Some(line) = lines.iter().find(|l| parts.iter().all(|p| l.contains(p))) {
                return line.clone();
            }
            assert!(Instant::now() < deadline, "no {parts:?} in {lines:#?}");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

struct Answer {
    status: u16,
    content_type: String,
    csp: String,
    retry_after: String,
    body: String,
}

impl Answer {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Answer {
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (content_type, csp) = (header("content-type"), header("content-security-policy"));
        let retry_after = header("retry-after");
        Answer {
            status: response.status().as_u16(),
            content_type,
            csp,
            retry_after,
            body: response.body_mut().read_to_string().unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Answers of every status come back as answers, not errors.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn alert(to: &str, subject: &str) -> Value {
    json!({
        "from": "見守りサービス <noreply@mimamori.example>",
        "to": [to],
        "subject": subject,
        "text": "本社 UTM で重大な脅威を検知しました。\nhttp://127.0.0.1:8787/alerts",
        "html": "<p>本社 UTM で<strong>重大な脅威</strong>を検知しました。</p>",
    })
}

/// Sends raw bytes and reads until the sink closes the connection.
fn raw(sink: &Sink, request: &[u8]) -> String {
    let address = sink.url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The `/_control` counters when only mail was sent: the SMS ones are all zero.
fn mail_stats(attempts: u64, stored: usize, pending_faults: u32) -> Value {
    json!({
        "attempts": attempts,
        "stored": stored,
        "pending_faults": pending_faults,
        "sms": {"attempts": 0, "stored": 0, "pending_faults": 0},
    })
}

/// A one-time code as the Worker sends it.
fn code(to: &str, code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("To", to.to_owned()),
        ("From", "+815000000000".to_owned()),
        ("Body", code_text(code)),
    ]
}

fn code_text(code: &str) -> String {
    format!("【見守り】認証コード: {code}（10分間有効）")
}

fn tokyo(received_at: &Value) -> String {
    let at: DateTime<Utc> = received_at.as_str().unwrap().parse().unwrap();
    let offset = FixedOffset::east_opt(9 * 3600).unwrap();
    at.with_timezone(&offset)
        .format("%Y/%m/%d %H:%M:%S")
        .to_string()
}

#[test]
fn a_mail_sent_with_the_key_is_listed_in_the_api_and_on_the_page() {
    let sink = Sink::with_key();
    let answer = sink.send(&alert("ops@example.com", "【重要】脅威を検知しました"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = answer.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "uuid-like: {id}");

    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail["id"], id);
    assert_eq!(mail["from"], "見守りサービス <noreply@mimamori.example>");
    assert_eq!(mail["to"], json!(["ops@example.com"]));
    assert_eq!(mail["subject"], "【重要】脅威を検知しました");
    assert_eq!(mail["idempotency_key"], Value::Null);
    assert!(mail["text"].as_str().unwrap().starts_with("本社 UTM"));
    assert!(mail["html"].as_str().unwrap().starts_with("<p>"));
    let received_at: DateTime<Utc> = mail["received_at"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now() - received_at).num_seconds() < 10);

    let page = sink.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(page.body.contains("<html lang=\"ja\">"));
    assert!(page.body.contains("<title>受信メール（開発用）</title>"));
    assert!(
        page.body
            .contains("<meta http-equiv=\"refresh\" content=\"5\">")
    );
    assert!(page.body.contains("<meta name=\"viewport\""));
    assert!(page.body.contains(&tokyo(&mail["received_at"])));
    assert!(page.body.contains("ops@example.com"));
    assert!(page.body.contains(&format!(
        "<a href=\"/emails/{id}\">【重要】脅威を検知しました</a>"
    )));

    let detail = sink.get(&format!("/emails/{id}"));
    assert_eq!(detail.status, 200);
    assert!(
        detail
            .body
            .contains("<pre>\n本社 UTM で重大な脅威を検知しました。\nhttp://")
    );
    assert!(detail.body.contains(
        "<iframe sandbox srcdoc=\"&lt;p&gt;本社 UTM で&lt;strong&gt;重大な脅威&lt;/strong&gt;"
    ));
}

#[test]
fn the_list_shows_the_newest_mail_first() {
    let sink = Sink::with_key();
    sink.send(&alert("ops@example.com", "一通目"));
    sink.send(&alert("ops@example.com", "二通目"));
    let page = sink.get("/").body;
    let first = page.find("一通目").unwrap();
    let second = page.find("二通目").unwrap();
    assert!(second < first, "{page}");
    let subjects: Vec<_> = sink.mails().iter().map(|m| m["subject"].clone()).collect();
    assert_eq!(
        subjects,
        [json!("一通目"), json!("二通目")],
        "api: oldest first"
    );
}

#[test]
fn a_wrong_or_missing_key_is_refused_with_401_and_nothing_is_stored() {
    let sink = Sink::with_key();
    let mail = alert("ops@example.com", "件名");
    let wrong = sink.send_with(&agent(), &[("Authorization", "Bearer nope")], &mail);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["name"], "invalid_api_key");
    let missing = sink.send_with(&agent(), &[], &mail);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["name"], "missing_api_key");
    assert!(sink.mails().is_empty());
    assert_eq!(sink.stats(), mail_stats(2, 0, 0));
}

#[test]
fn without_api_key_any_sender_is_accepted() {
    let sink = Sink::start(&[]);
    let answer = sink.send_with(&agent(), &[], &alert("ops@example.com", "件名"));
    assert_eq!(answer.status, 200);
    assert_eq!(sink.mails().len(), 1);
}

#[test]
fn a_body_without_subject_or_with_bad_recipients_is_refused_with_422() {
    let sink = Sink::with_key();
    let mut no_subject = alert("ops@example.com", "x");
    no_subject.as_object_mut().unwrap().remove("subject");
    let answer = sink.send(&no_subject);
    assert_eq!(answer.status, 422);
    assert_eq!(
        answer.json(),
        json!({"statusCode": 422, "name": "validation_error", "message": "missing `subject` field"})
    );

    let fifty_one: Vec<String> = (0..51).map(|i| format!("u{i}@example.com")).collect();
    for (change, value) in [
        ("to", json!([])),
        ("to", json!(fifty_one)),
        ("to", json!("not an address")),
        ("from", Value::Null),
    ] {
        let mut mail = alert("ops@example.com", "x");
        mail[change] = value;
        let answer = sink.send(&mail);
        assert_eq!(answer.status, 422, "{mail}");
        assert_eq!(answer.json()["name"], "validation_error");
    }
    assert!(sink.mails().is_empty());

    let mut single = alert("x", "to as a plain string");
    single["to"] = json!("ops@example.com");
    assert_eq!(sink.send(&single).status, 200);
}

#[test]
fn the_same_idempotency_key_twice_stores_one_mail_under_one_id() {
    let sink = Sink::with_key();
    let mail = alert("ops@example.com", "【重要】脅威を検知しました");
    let first = sink.send_once("notification-41", &mail);
    let second = sink.send_once("notification-41", &mail);
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(first.json()["id"], second.json()["id"]);
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["idempotency_key"], "notification-41");

    let other = sink.send_once("notification-42", &mail);
    assert_ne!(other.json()["id"], first.json()["id"]);
    assert_eq!(sink.mails().len(), 2);
}

#[test]
fn another_mail_under_a_used_idempotency_key_is_a_conflict() {
    let sink = Sink::with_key();
    sink.send_once("notification-41", &alert("ops@example.com", "一通目"));
    let answer = sink.send_once("notification-41", &alert("ops@example.com", "別の通知"));
    assert_eq!(answer.status, 409);
    assert_eq!(answer.json()["name"], "invalid_idempotent_request");
    assert_eq!(sink.mails().len(), 1);
}

#[test]
fn fail_next_two_answers_two_500s_then_stores_the_third_attempt() {
    let sink = Sink::with_key();
    assert_eq!(
        sink.control(&json!({"fail_next": 2, "status": 500, "delay_ms": 0})),
        mail_stats(0, 0, 2)
    );
    let mail = alert("ops@example.com", "件名");
    let statuses: Vec<u16> = (0..3).map(|_| sink.send(&mail).status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(sink.stats(), mail_stats(3, 1, 0));
    sink.logged(&["POST /emails -> 500", "injected fault 500"]);
}

#[test]
fn a_delay_fault_makes_a_client_with_a_one_second_timeout_time_out() {
    let sink = Sink::with_key();
    sink.control(&json!({"fail_next": 1, "status": 500, "delay_ms": 3000}));
    let impatient: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(1)))
        .build()
        .into();
    let started = Instant::now();
    let result = impatient
        .post(sink.url("/emails"))
        .header("Authorization", format!("Bearer {KEY}"))
        .send(alert("ops@example.com", "件名").to_string());
    assert!(
        matches!(result, Err(ureq::Error::Timeout(_))),
        "{:?}",
        result.map(|r| r.status())
    );
    assert!(started.elapsed() < Duration::from_millis(2500));
    // The sleeping request holds up no one, and the fault is used up.
    assert_eq!(sink.send(&alert("ops@example.com", "件名")).status, 200);
    assert_eq!(sink.stats(), mail_stats(2, 1, 0));
}

#[test]
fn a_mail_accepted_too_late_and_retried_with_its_key_arrives_once() {
    let sink = Sink::with_key();
    sink.control(&json!({"fail_next": 1, "status": 200, "delay_ms": 1500}));
    let impatient: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(1)))
        .build()
        .into();
    let mail = alert("ops@example.com", "件名");
    let auth = format!("Bearer {KEY}");
    let headers = [("Authorization", auth.as_str()), ("Idempotency-Key", "n-7")];
    let mut request = impatient.post(sink.url("/emails"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    assert!(matches!(
        request.send(mail.to_string()),
        Err(ureq::Error::Timeout(_))
    ));
    thread::sleep(Duration::from_millis(1000));
    let retry = sink.send_with(&agent(), &headers, &mail);
    assert_eq!(retry.status, 200);
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["id"], retry.json()["id"]);
    sink.logged(&["repeat of", "n-7"]);
}

#[test]
fn a_hostile_subject_and_html_appear_escaped_on_the_pages() {
    let sink = Sink::with_key();
    let mut mail = alert("ops@example.com", "<script>alert(1)</script>");
    mail["html"] = json!("<script>alert(2)</script>\"></iframe><script>alert(3)</script>");
    mail["text"] = json!("</pre><script>alert(4)</script>");
    let id = sink.send(&mail).json()["id"].as_str().unwrap().to_owned();

    let list = sink.get("/");
    let detail = sink.get(&format!("/emails/{id}"));
    for page in [&list, &detail] {
        assert!(
            !page.body.to_lowercase().contains("<script"),
            "{}",
            page.body
        );
        assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.csp.contains("default-src 'none'"), "{}", page.csp);
    }
    assert!(
        detail
            .body
            .contains("<pre>\n&lt;/pre&gt;&lt;script&gt;alert(4)")
    );
    assert!(detail.body.contains(
        "<iframe sandbox srcdoc=\"&lt;script&gt;alert(2)&lt;/script&gt;&quot;&gt;&lt;/iframe&gt;"
    ));
    // The API gives the mail back as it came.
    assert_eq!(sink.mails()[0]["subject"], "<script>alert(1)</script>");
}

#[test]
fn mails_in_the_store_survive_a_restart_and_so_do_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("mails.jsonl");
    let store_arg = store.to_str().unwrap();
    let args = ["--api-key", KEY, "--store", store_arg];
    let mail = alert("ops@example.com", "再起動の前");
    let before = {
        let sink = Sink::start(&args);
        sink.send(&alert("ops@example.com", "一通目"));
        sink.send_once("n-1", &mail);
        sink.mails()
        // Killed here, without a chance to flush anything.
    };

    let sink = Sink::start(&args);
    assert_eq!(sink.mails(), before);
    sink.logged(&["2 mails and 0 text messages loaded from"]);
    let retry = sink.send_once("n-1", &mail);
    assert_eq!(retry.json()["id"], before[1]["id"]);
    sink.send(&alert("ops@example.com", "再起動の後"));
    assert_eq!(sink.mails().len(), 3);
    let lines = std::fs::read_to_string(&store).unwrap();
    assert_eq!(lines.lines().count(), 3);
    let id = before[0]["id"].as_str().unwrap();
    assert_eq!(sink.get(&format!("/emails/{id}")).status, 200);
}

#[test]
fn reset_forgets_mails_faults_and_attempts_and_delete_forgets_mails() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("mails.jsonl");
    let sink = Sink::start(&["--store", store.to_str().unwrap()]);
    sink.send(&alert("ops@example.com", "件名"));
    sink.control(&json!({"fail_next": 3}));
    assert_eq!(sink.control(&json!({"reset": true})), mail_stats(0, 0, 0));
    assert_eq!(std::fs::read_to_string(&store).unwrap(), "");

    sink.send(&alert("ops@example.com", "件名"));
    sink.send(&alert("ops@example.com", "件名"));
    let deleted = Answer::from(agent().delete(sink.url("/api/emails")).call().unwrap());
    assert_eq!(deleted.json(), json!({"deleted": 2}));
    assert!(sink.mails().is_empty());
    assert_eq!(sink.stats()["attempts"], 2, "counted since the reset");
}

#[test]
fn a_mistyped_control_body_is_refused_rather_than_ignored() {
    let sink = Sink::start(&[]);
    let answer = Answer::from(
        agent()
            .post(sink.url("/_control"))
            .send(r#"{"failNext": 2}"#)
            .unwrap(),
    );
    assert_eq!(answer.status, 422);
    assert_eq!(sink.stats()["pending_faults"], 0);
}

#[test]
fn the_to_filter_lists_only_mails_to_that_address() {
    let sink = Sink::with_key();
    sink.send(&alert("ops+alerts@example.com", "運用へ"));
    sink.send(&alert("Owner <owner@example.com>", "オーナーへ"));
    let subjects = |query: &str| -> Vec<Value> {
        let mails: Vec<Value> = serde_json::from_value(sink.get(query).json()).unwrap();
        mails.iter().map(|m| m["subject"].clone()).collect()
    };
    assert_eq!(
        subjects("/api/emails?to=owner@example.com"),
        [json!("オーナーへ")]
    );
    assert_eq!(
        subjects("/api/emails?to=ops%2Balerts%40example.com"),
        [json!("運用へ")]
    );
    assert_eq!(
        subjects("/api/emails?to=ops+alerts@example.com"),
        [json!("運用へ")]
    );
    assert!(subjects("/api/emails?to=nobody@example.com").is_empty());
}

#[test]
fn a_body_just_under_2_mib_is_taken_and_one_over_is_refused_with_413_unread() {
    let sink = Sink::with_key();
    let mut big = alert("ops@example.com", "大きなメール");
    big["html"] = json!("x".repeat(2 * 1024 * 1024 - 1024));
    assert_eq!(sink.send(&big).status, 200);

    let over = 2 * 1024 * 1024 + 1;
    let head = format!("POST /emails HTTP/1.1\r\nHost: x\r\nContent-Length: {over}\r\n\r\n");
    // Only the head is sent: the sink must answer without waiting for the body.
    let answer = raw(&sink, head.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    sink.logged(&["POST /emails HTTP/1.1 -> 413", "larger than 2 MiB"]);
    assert_eq!(sink.mails().len(), 1);
}

#[test]
fn one_connection_carries_several_requests() {
    let sink = Sink::start(&[]);
    let answer = raw(
        &sink,
        b"GET /_control HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /api/emails HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(answer.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{answer}");
    assert!(answer.ends_with("\r\n\r\n[]"), "{answer}");
}

#[test]
fn unknown_paths_mails_and_methods_are_answered_plainly() {
    let sink = Sink::start(&[]);
    assert_eq!(sink.get("/nowhere").status, 404);
    let missing = sink.get("/emails/does-not-exist");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("メールが見つかりません"));
    let answer = raw(
        &sink,
        b"GET /emails HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
    assert!(answer.contains("\r\nAllow: POST\r\n"), "{answer}");
}

#[test]
fn every_request_is_logged_on_one_line() {
    let sink = Sink::with_key();
    let id = sink.send(&alert("ops@example.com", "ログ確認"));
    let id = id.json()["id"].as_str().unwrap().to_owned();
    let line = sink.logged(&["POST /emails -> 200", &id]);
    assert!(line.starts_with("mailsink: 127.0.0.1:"), "{line}");
    assert!(line.contains("ログ確認"), "{line}");
    sink.get("/api/emails?to=ops@example.com");
    sink.logged(&["GET /api/emails?to=ops@example.com -> 200"]);
}

#[test]
fn mails_sent_at_once_from_many_threads_are_all_kept_under_distinct_ids() {
    let sink = Sink::with_key();
    let ids: Vec<Value> = thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|t| {
                let sink = &sink;
                scope.spawn(move || {
                    (0..5)
                        .map(|i| {
                            let mail = alert("ops@example.com", &format!("並行 {t}-{i}"));
                            sink.send_once(&format!("n-{t}-{i}"), &mail).json()["id"].clone()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut stored: Vec<Value> = sink.mails().iter().map(|m| m["id"].clone()).collect();
    assert_eq!(stored.len(), 40);
    let mut sent = ids;
    sent.sort_by_key(Value::to_string);
    stored.sort_by_key(Value::to_string);
    assert_eq!(sent, stored);
    stored.dedup();
    assert_eq!(stored.len(), 40);
}

#[test]
fn a_text_message_with_the_account_is_answered_201_as_twilio_does_and_listed() {
    let sink = Sink::start(&[]);
    let answer = sink.send_sms(&code("+819012345678", "123456"));
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.content_type, "application/json; charset=utf-8");
    let created = answer.json();
    let sid = created["sid"].as_str().unwrap().to_owned();
    let hex = sid.strip_prefix("SM").unwrap();
    assert_eq!(hex.len(), 32, "{sid}");
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{sid}");
    let body = code_text("123456");
    for (field, value) in [
        ("account_sid", json!(SID)),
        ("to", json!("+819012345678")),
        ("from", json!("+815000000000")),
        ("body", json!(body)),
        ("status", json!("queued")),
        ("num_segments", json!("1")),
        ("direction", json!("outbound-api")),
        ("api_version", json!("2010-04-01")),
        ("error_code", Value::Null),
        (
            "uri",
            json!(format!("/2010-04-01/Accounts/{SID}/Messages/{sid}.json")),
        ),
    ] {
        assert_eq!(created[field], value, "{field} in {created}");
    }
    let date_created = created["date_created"].as_str().unwrap();
    assert!(date_created.ends_with(" +0000"), "{date_created}");
    let date_created = DateTime::parse_from_rfc2822(date_created).unwrap();
    assert!((Utc::now() - date_created.to_utc()).num_seconds() < 10);

    let messages = sink.messages("");
    assert_eq!(messages.len(), 1);
    let received_at = messages[0]["received_at"].clone();
    assert_eq!(
        messages[0],
        json!({
            "sid": sid,
            "received_at": received_at,
            "account_sid": SID,
            "from": "+815000000000",
            "to": "+819012345678",
            "body": body,
            "num_segments": 1,
        })
    );
    let at: DateTime<Utc> = received_at.as_str().unwrap().parse().unwrap();
    assert_eq!(at.timestamp(), date_created.timestamp());
    sink.logged(&["POST /2010-04-01/Accounts/", "-> 201", &sid, "123456"]);

    let page = sink.get("/").body;
    assert!(
        page.contains("<h2 id=\"sms\">SMS（認証コード）</h2>"),
        "{page}"
    );
    assert!(page.contains(&tokyo(&received_at)));
    assert!(page.contains("+819012345678"));
    assert!(page.contains(&body));
    assert!(sink.mails().is_empty());
    assert_eq!(
        sink.stats()["sms"],
        json!({"attempts": 1, "stored": 1, "pending_faults": 0})
    );
}

#[test]
fn wrong_or_missing_credentials_or_another_account_are_refused_with_20003() {
    let sink = Sink::start(&[]);
    let fields = code("+819012345678", "123456");
    let other = "AC11111111111111111111111111111111";
    for (path_sid, auth) in [
        (SID, None),
        (SID, Some((SID, "wrong-token"))),
        (SID, Some((other, TOKEN))),
        (other, Some((SID, TOKEN))),
        (other, Some((other, TOKEN))),
    ] {
        let answer = sink.send_sms_to(&sink.url, path_sid, auth, &fields);
        assert_eq!(answer.status, 401, "{path_sid} {auth:?}");
        assert_eq!(
            answer.json(),
            json!({
                "code": 20003,
                "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": 401,
            })
        );
    }
    // The token is not echoed in the log, only why it was refused.
    sink.logged(&["-> 401", "wrong auth token"]);
    assert!(
        !sink
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("wrong-token"))
    );
    assert!(sink.messages("").is_empty());
    assert_eq!(sink.stats()["sms"]["attempts"], 5);
}

#[test]
fn the_account_sid_and_auth_token_are_set_by_flags() {
    let sid = "AC0123456789abcdef0123456789abcdef";
    let sink = Sink::start(&["--sms-account-sid", sid, "--sms-auth-token", "s3cret"]);
    let fields = code("+819012345678", "123456");
    let defaults = sink.send_sms(&fields);
    assert_eq!(defaults.status, 401);
    let configured = sink.send_sms_to(&sink.url, sid, Some((sid, "s3cret")), &fields);
    assert_eq!(configured.status, 201, "{}", configured.body);
    assert_eq!(configured.json()["account_sid"], sid);
    sink.logged(&[&format!(
        "SMS API at /2010-04-01/Accounts/{sid}/Messages.json"
    )]);
}

#[test]
fn a_form_without_a_valid_to_from_or_body_is_refused_with_400_and_twilios_code() {
    let sink = Sink::start(&[]);
    let without = |name: &str| -> Vec<(&'static str, String)> {
        let mut fields = code("+819012345678", "123456");
        fields.retain(|(n, _)| *n != name);
        fields
    };
    let with = |name: &'static str, value: &str| -> Vec<(&'static str, String)> {
        let mut fields = without(name);
        fields.push((name, value.to_owned()));
        fields
    };
    for (fields, code) in [
        (without("To"), 21604),
        (with("To", ""), 21604),
        (with("To", "09012345678"), 21211),
        (with("To", "+81 90 1234 5678"), 21211),
        (with("To", "+1234567"), 21211),
        (without("From"), 21603),
        (without("Body"), 21602),
        (with("Body", ""), 21602),
        (with("Body", &"あ".repeat(1601)), 21617),
    ] {
        let answer = sink.send_sms(&fields);
        assert_eq!(answer.status, 400, "{fields:?}");
        let body = answer.json();
        assert_eq!(body["code"], code, "{fields:?}: {body}");
        assert_eq!(body["status"], 400);
        assert_eq!(
            body["more_info"],
            format!("https://www.twilio.com/docs/errors/{code}")
        );
        assert!(!body["message"].as_str().unwrap().is_empty());
    }

    let credentials = BASE64.encode(format!("{SID}:{TOKEN}"));
    let json_body = Answer::from(
        agent()
            .post(sink.url(&format!("/2010-04-01/Accounts/{SID}/Messages.json")))
            .header("Authorization", format!("Basic {credentials}"))
            .content_type("application/json")
            .send(r#"{"To": "+819012345678", "From": "+815000000000", "Body": "x"}"#)
            .unwrap(),
    );
    assert_eq!(json_body.status, 400);
    assert_eq!(json_body.json()["code"], 70002);
    assert!(sink.messages("").is_empty());
}

#[test]
fn the_to_filter_lists_only_messages_to_that_number_oldest_first() {
    let sink = Sink::start(&[]);
    sink.send_sms(&code("+819011112222", "111111"));
    sink.send_sms(&code("+819033334444", "222222"));
    sink.send_sms(&code("+819011112222", "333333"));
    let bodies = |query: &str| -> Vec<Value> {
        sink.messages(query)
            .iter()
            .map(|m| m["body"].clone())
            .collect()
    };
    let codes =
        |codes: &[&str]| -> Vec<Value> { codes.iter().map(|c| json!(code_text(c))).collect() };
    assert_eq!(bodies("?to=+819011112222"), codes(&["111111", "333333"]));
    assert_eq!(bodies("?to=%2B819033334444"), codes(&["222222"]));
    assert_eq!(bodies(""), codes(&["111111", "222222", "333333"]));
    assert!(bodies("?to=819011112222").is_empty());
    assert!(bodies("?to=+810000000000").is_empty());
}

#[test]
fn messages_in_the_store_survive_a_restart_beside_the_mails() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("mails.jsonl");
    let args = ["--api-key", KEY, "--store", store.to_str().unwrap()];
    let (mails, messages) = {
        let sink = Sink::start(&args);
        sink.send_sms(&code("+819012345678", "111111"));
        sink.send(&alert("ops@example.com", "一通目"));
        sink.send_sms(&code("+819012345678", "222222"));
        (sink.mails(), sink.messages(""))
        // Killed here, without a chance to flush anything.
    };
    assert_eq!(messages.len(), 2);

    let sink = Sink::start(&args);
    sink.logged(&["1 mails and 2 text messages loaded from"]);
    assert_eq!(sink.mails(), mails);
    assert_eq!(sink.messages(""), messages);
    assert!(sink.get("/").body.contains("SMS（2件）"));

    // Deleting the mails keeps the messages, in the file too, and the other way round.
    let deleted = Answer::from(agent().delete(sink.url("/api/emails")).call().unwrap());
    assert_eq!(deleted.json(), json!({"deleted": 1}));
    drop(sink);
    let sink = Sink::start(&args);
    assert!(sink.mails().is_empty());
    assert_eq!(sink.messages(""), messages);
    sink.send(&alert("ops@example.com", "二通目"));
    let deleted = Answer::from(agent().delete(sink.url("/api/sms")).call().unwrap());
    assert_eq!(deleted.json(), json!({"deleted": 2}));
    drop(sink);
    let sink = Sink::start(&args);
    assert!(sink.messages("").is_empty());
    assert_eq!(sink.mails().len(), 1);
}

#[test]
fn the_second_listener_serves_the_same_mails_and_messages() {
    let sink = Sink::start(&["--api-key", KEY, "--sms-listen", "127.0.0.1:0"]);
    let sms_url = sink.sms_url.clone().unwrap();
    assert_ne!(sms_url, sink.url);
    let answer = sink.send_sms_to(
        &sms_url,
        SID,
        Some((SID, TOKEN)),
        &code("+819012345678", "123456"),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    // Seen through the main listener.
    assert_eq!(sink.messages("")[0]["sid"], answer.json()["sid"]);

    // And the other way round: every route answers on both.
    sink.send(&alert("ops@example.com", "メインへ"));
    let mails = Answer::from(agent().get(format!("{sms_url}/api/emails")).call().unwrap());
    assert_eq!(mails.json()[0]["subject"], "メインへ");
    let page = Answer::from(agent().get(format!("{sms_url}/")).call().unwrap());
    assert!(page.body.contains("メインへ") && page.body.contains("123456"));
}

#[test]
fn sms_faults_fail_only_text_messages_with_twilios_error_shape() {
    let sink = Sink::with_key();
    let control = sink.control(&json!({"fail_next": 1, "status": 503, "api": "sms"}));
    assert_eq!(
        control,
        json!({
            "attempts": 0, "stored": 0, "pending_faults": 0,
            "sms": {"attempts": 0, "stored": 0, "pending_faults": 1},
        })
    );
    // A mail meanwhile is not touched by the SMS fault.
    assert_eq!(sink.send(&alert("ops@example.com", "件名")).status, 200);

    let failed = sink.send_sms(&code("+819012345678", "123456"));
    assert_eq!(failed.status, 503);
    assert_eq!(failed.retry_after, "1");
    assert_eq!(
        failed.json(),
        json!({
            "code": 20503,
            "message": "injected fault, nothing stored",
            "more_info": "https://www.twilio.com/docs/errors/20503",
            "status": 503,
        })
    );
    sink.logged(&["Messages.json -> 503", "injected fault 503"]);
    assert_eq!(sink.send_sms(&code("+819012345678", "123456")).status, 201);
    assert_eq!(
        sink.stats(),
        json!({
            "attempts": 1, "stored": 1, "pending_faults": 0,
            "sms": {"attempts": 2, "stored": 1, "pending_faults": 0},
        })
    );

    // Mail faults leave text messages alone; a reset forgets both kinds.
    sink.control(&json!({"fail_next": 1}));
    assert_eq!(sink.send_sms(&code("+819012345678", "654321")).status, 201);
    assert_eq!(sink.send(&alert("ops@example.com", "件名")).status, 500);
    assert_eq!(
        sink.control(&json!({"reset": true})),
        json!({
            "attempts": 0, "stored": 0, "pending_faults": 0,
            "sms": {"attempts": 0, "stored": 0, "pending_faults": 0},
        })
    );
}

#[test]
fn the_messages_path_takes_only_post() {
    let sink = Sink::start(&[]);
    let answer = raw(
        &sink,
        format!(
            "GET /2010-04-01/Accounts/{SID}/Messages.json HTTP/1.1\r\nHost: x\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
    assert!(answer.contains("\r\nAllow: POST\r\n"), "{answer}");
    assert!(answer.contains("\"code\":20004"), "{answer}");
    assert_eq!(
        sink.get("/2010-04-01/Accounts/x/y/Messages.json").status,
        404
    );
}
