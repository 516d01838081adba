//! The pages a developer reads: the received mails and text messages newest first, and one
//! mail with its bodies. Everything that comes from a mail or message is escaped, and the
//! HTML body is shown only through a sandboxed iframe's `srcdoc`, where it can neither run
//! scripts nor reach this page. Times are stored in UTC and shown in Japan time.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

use crate::mail::Mail;
use crate::sms::Message;

pub const TITLE: &str = "受信メール（開発用）";

/// Also sent as a header: the pages themselves need no script at all, and a mail's HTML
/// in the srcdoc iframe inherits this policy on top of the sandbox.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data: http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The received mails, then the text messages, each newest first; the browser reloads it
/// every 5 seconds.
pub fn list(mails: &[Mail], messages: &[Message]) -> String {
    let mut main = format!(
        "<h1>{TITLE}</h1>\n<p class=\"note\">mimamori が送信したメールと SMS は、実際には\
         配信されずにここに届きます。このページは5秒ごとに自動で更新されます。</p>\n\
         <p><a href=\"#mail\">メール（{}件）</a> ／ <a href=\"#sms\">SMS（{}件）</a></p>\n\
         <h2 id=\"mail\">メール</h2>\n",
        mails.len(),
        messages.len()
    );
    let mail_rows = mails.iter().rev().map(|mail| {
        format!(
            "<tr><td data-label=\"受信日時\">{time}</td><td data-label=\"宛先\">{to}</td>\
             <td data-label=\"件名\"><a href=\"/emails/{id}\">{subject}</a></td></tr>",
            time = time_element(mail.received_at),
            to = escape(&mail.to.join(", ")),
            id = escape(&mail.id),
            subject = subject(mail),
        )
    });
    listing(&mut main, "まだメールは届いていません。", "件名", mail_rows);
    main.push_str("<h2 id=\"sms\">SMS（認証コード）</h2>\n");
    let sms_rows = messages.iter().rev().map(|message| {
        format!(
            "<tr><td data-label=\"受信日時\">{time}</td><td data-label=\"宛先\">{to}</td>\
             <td data-label=\"本文\" class=\"sms\">{body}</td></tr>",
            time = time_element(message.received_at),
            to = escape(&message.to),
            body = escape(&message.body),
        )
    });
    listing(&mut main, "まだ SMS は届いていません。", "本文", sms_rows);
    layout(
        TITLE,
        "<meta http-equiv=\"refresh\" content=\"5\">\n",
        &main,
    )
}

/// A table of received items, newest first (`rows`, already rendered), or `empty` when
/// there are none. The third column is `third` (件名 / 本文).
fn listing(
    main: &mut String,
    empty: &str,
    third: &str,
    rows: impl ExactSizeIterator<Item = String>,
) {
    if rows.len() == 0 {
        let _ = writeln!(main, "<p class=\"empty\">{empty}</p>");
        return;
    }
    let _ = write!(
        main,
        "<p>全{}件（新しい順）</p>\n<table>\n<thead><tr><th>受信日時</th><th>宛先</th>\
         <th>{third}</th></tr></thead>\n<tbody>\n",
        rows.len()
    );
    for row in rows {
        let _ = writeln!(main, "{row}");
    }
    main.push_str("</tbody>\n</table>\n");
}

/// One mail: its envelope, the text body in a `<pre>` and the HTML body in a sandbox.
pub fn detail(mail: &Mail) -> String {
    let mut main = format!(
        "<p><a href=\"/\">← 一覧に戻る</a></p>\n<h1>{}</h1>\n<dl>\n",
        subject(mail)
    );
    let mut field = |label: &str, value: String| {
        let _ = writeln!(main, "<dt>{label}</dt><dd>{value}</dd>");
    };
    field(
        "受信日時",
        format!("{}（日本時間）", time_element(mail.received_at)),
    );
    field("差出人", escape(&mail.from));
    field("宛先", escape(&mail.to.join(", ")));
    for (label, addresses) in [
        ("CC", &mail.cc),
        ("BCC", &mail.bcc),
        ("返信先", &mail.reply_to),
    ] {
        if !addresses.is_empty() {
            field(label, escape(&addresses.join(", ")));
        }
    }
    field("メールID", format!("<code>{}</code>", escape(&mail.id)));
    field(
        "Idempotency-Key",
        mail.idempotency_key.as_deref().map_or_else(
            || "なし".to_owned(),
            |k| format!("<code>{}</code>", escape(k)),
        ),
    );
    main.push_str("</dl>\n");
    if !mail.headers.is_empty() {
        main.push_str("<h2>追加ヘッダー</h2>\n<dl>\n");
        for (name, value) in &mail.headers {
            let _ = writeln!(main, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(value));
        }
        main.push_str("</dl>\n");
    }
    main.push_str("<h2>テキスト本文</h2>\n");
    match &mail.text {
        Some(text) => {
            // The parser drops one newline right after `<pre>`: give it one to drop, so a
            // body that starts with a blank line shows as sent.
            let _ = writeln!(main, "<pre>\n{}</pre>", escape(text));
        }
        None => main.push_str("<p class=\"empty\">テキスト本文はありません。</p>\n"),
    }
    main.push_str("<h2>HTML本文</h2>\n");
    match &mail.html {
        Some(html) => {
            let _ = writeln!(
                main,
                "<p class=\"note\">スクリプトを無効にした枠の中に表示しています。</p>\n\
                 <iframe sandbox srcdoc=\"{}\" title=\"HTML本文\" referrerpolicy=\"no-referrer\">\
                 </iframe>",
                escape(html)
            );
        }
        None => main.push_str("<p class=\"empty\">HTML本文はありません。</p>\n"),
    }
    let title = format!("{} – {TITLE}", escape(&mail.subject));
    layout(&title, "", &main)
}

pub fn not_found(id: &str) -> String {
    let main = format!(
        "<p><a href=\"/\">← 一覧に戻る</a></p>\n<h1>メールが見つかりません</h1>\n\
         <p>ID「{}」のメールはありません。削除されたか、<code>--store</code> なしで\
         再起動されたために消えた可能性があります。</p>\n",
        escape(id)
    );
    layout(&format!("メールが見つかりません – {TITLE}"), "", &main)
}

/// `2025/04/01 09:00:00` for 2025-04-01T00:00:00Z.
pub fn tokyo_time(at: DateTime<Utc>) -> String {
    // Japan has had no daylight saving time since 1951: a fixed offset is Asia/Tokyo.
    let tokyo = FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset");
    at.with_timezone(&tokyo)
        .format("%Y/%m/%d %H:%M:%S")
        .to_string()
}

/// Text made safe for HTML element content and quoted attributes: the same escaping as
/// the mails themselves use.
pub use domain::mail::escape;

fn subject(mail: &Mail) -> String {
    if mail.subject.trim().is_empty() {
        "（件名なし）".to_owned()
    } else {
        escape(&mail.subject)
    }
}

fn time_element(at: DateTime<Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        at.to_rfc3339_opts(SecondsFormat::Secs, true),
        tokyo_time(at)
    )
}

/// `title` is HTML already (escaped by the caller); `head` goes into `<head>` as it is.
fn layout(title: &str, head: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         {head}<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         {main}</main>\n</body>\n</html>\n"
    )
}

const STYLE: &str = r#"
:root { color-scheme: light dark; }
body { font-family: system-ui, -apple-system, "Hiragino Sans", "Noto Sans JP", sans-serif;
  line-height: 1.6; margin: 0 auto; max-width: 60rem; padding: 1rem; }
h1 { font-size: 1.3rem; margin: .5rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.note, .empty, th, dt { color: GrayText; }
.note { font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #8884; padding: .5rem; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th { font-size: .85rem; font-weight: normal; }
.sms { white-space: pre-wrap; }
time { font-variant-numeric: tabular-nums; white-space: nowrap; }
dl { display: grid; gap: .25rem 1rem; grid-template-columns: max-content 1fr; }
dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #8881; border-radius: 4px; overflow-wrap: anywhere; padding: .75rem;
  white-space: pre-wrap; }
iframe { background: #fff; border: 1px solid #8886; border-radius: 4px; height: 70vh;
  width: 100%; }
@media (max-width: 600px) {
  thead { display: none; }
  tr, td { display: block; }
  tr { border-bottom: 1px solid #8884; padding: .5rem 0; }
  td { border: 0; padding: .1rem 0; }
  td::before { color: GrayText; content: attr(data-label) "："; font-size: .85rem; }
  dl { grid-template-columns: 1fr; gap: 0; }
  dd { margin-bottom: .5rem; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Submission;
    use crate::sms;

    fn mail(subject: &str, html: &str) -> Mail {
        let body = serde_json::json!({
            "from": "見守りサービス <noreply@mimamori.example>",
            "to": ["ops@example.com"],
            "subject": subject,
            "text": "1行目\n<b>2行目</b>",
            "html": html,
        });
        let submission = Submission::parse(body.to_string().as_bytes()).unwrap();
        let at = "2025-04-01T00:00:00Z".parse().unwrap();
        Mail::received(submission, "m1".into(), at, Some("k1".into()))
    }

    fn message(body: &str) -> Message {
        let fields = [
            ("To", "+819012345678"),
            ("From", "+815000000000"),
            ("Body", body),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        let submission = sms::Submission::parse(&fields).unwrap();
        let at = "2025-04-01T00:00:30Z".parse().unwrap();
        Message::received(submission, "SM1".into(), "AC1".into(), at)
    }

    #[track_caller]
    fn check_time(utc: &str, tokyo: &str) {
        assert_eq!(tokyo_time(utc.parse().unwrap()), tokyo);
    }

    #[test]
    fn times_are_shown_in_japan_time() {
        check_time("2025-04-01T00:00:00Z", "2025/04/01 09:00:00");
        check_time("2025-12-31T15:00:00Z", "2026/01/01 00:00:00");
        check_time("2025-07-01T14:59:59.999Z", "2025/07/01 23:59:59");
    }

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_list_shows_time_recipients_and_a_linked_subject_and_reloads_itself() {
        let page = list(&[mail("【警告】機器がオフラインです", "<p>x</p>")], &[]);
        assert!(page.contains("<html lang=\"ja\">"));
        assert!(page.contains("<title>受信メール（開発用）</title>"));
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
        assert!(page.contains("name=\"viewport\""));
        assert!(page.contains(">2025/04/01 09:00:00</time>"));
        assert!(page.contains("ops@example.com"));
        assert!(page.contains("<a href=\"/emails/m1\">【警告】機器がオフラインです</a>"));
        assert!(page.contains("<a href=\"#sms\">SMS（0件）</a>"));
        assert!(page.contains("まだ SMS は届いていません。"));
        assert!(list(&[], &[]).contains("まだメールは届いていません。"));
    }

    #[test]
    fn the_list_shows_text_messages_newest_first_with_time_number_and_body() {
        let page = list(
            &[],
            &[message("認証コード: 111111"), message("認証コード: 222222")],
        );
        assert!(page.contains("<h2 id=\"sms\">SMS（認証コード）</h2>"));
        assert!(page.contains("<a href=\"#sms\">SMS（2件）</a>"));
        assert!(page.contains(
            "<tr><td data-label=\"受信日時\"><time datetime=\"2025-04-01T00:00:30Z\">\
             2025/04/01 09:00:30</time></td><td data-label=\"宛先\">+819012345678</td>\
             <td data-label=\"本文\" class=\"sms\">認証コード: 222222</td></tr>"
        ));
        let (second, first) = (page.find("222222").unwrap(), page.find("111111").unwrap());
        assert!(second < first, "newest first: {page}");
        assert!(page.contains("まだメールは届いていません。"));
    }

    #[test]
    fn a_hostile_mail_cannot_put_markup_into_either_page() {
        let hostile = mail(
            "<script>alert(1)</script>",
            "<script>alert(2)</script>\"></iframe><script>alert(3)</script>",
        );
        for page in [list(std::slice::from_ref(&hostile), &[]), detail(&hostile)] {
            assert!(!page.to_lowercase().contains("<script"), "{page}");
            assert!(!page.contains("</iframe><"), "{page}");
            assert!(
                page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{page}"
            );
        }
        let page = detail(&hostile);
        assert!(page.contains(
            "<iframe sandbox srcdoc=\"&lt;script&gt;alert(2)&lt;/script&gt;&quot;&gt;&lt;/iframe&gt;"
        ));
        assert!(page.contains("<pre>\n1行目\n&lt;b&gt;2行目&lt;/b&gt;</pre>"));
        assert!(page.contains("<title>&lt;script&gt;"));

        let page = list(&[], &[message("<script>alert(5)</script>\"'&")]);
        assert!(!page.to_lowercase().contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(5)&lt;/script&gt;&quot;&#39;&amp;"));
    }
}
