//! A mail is built once as a small list of [`Block`]s and rendered twice, as plain text
//! and as simple HTML with inline styles, so both parts always say the same thing. HTML
//! escapes every piece of text; the only links are those the builder made ([`link`]).

use super::Mail;
use crate::severity::Severity;

pub(super) const RULE: &str = "━━━━━━━━━━━━━━━━━━━━━━━━━━━━";

/// A piece of a line: text, or a link to the portal (the only kind of link in a mail).
pub(super) enum Inline {
    Text(String),
    Link(String),
}

pub(super) type Line = Vec<Inline>;

pub(super) enum Block {
    /// Lines shown together.
    Para(Vec<Line>),
    /// A heading with lines and bullets under it.
    Section {
        heading: &'static str,
        lines: Vec<Line>,
        bullets: Vec<Line>,
    },
    /// Label–value rows, optionally under a title coloured by a tier.
    Table {
        title: Option<(String, Severity)>,
        rows: Vec<(&'static str, Line)>,
    },
    Footer(Vec<Line>),
}

pub(super) fn text(s: impl Into<String>) -> Line {
    vec![Inline::Text(s.into())]
}

pub(super) fn link(url: String) -> Line {
    vec![Inline::Link(url)]
}

pub(super) fn render(subject: String, blocks: &[Block]) -> Mail {
    let html = html(&subject, blocks);
    Mail {
        subject,
        text: plain(blocks),
        html,
    }
}

pub(super) fn plain(blocks: &[Block]) -> String {
    fn line(out: &mut String, prefix: &str, l: &Line) {
        out.push_str(prefix);
        for part in l {
            match part {
                Inline::Text(s) | Inline::Link(s) => out.push_str(s),
            }
        }
        out.push('\n');
    }
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Para(lines) => lines.iter().for_each(|l| line(&mut out, "", l)),
            Block::Section {
                heading,
                lines,
                bullets,
            } => {
                out.push_str(&format!("■ {heading}\n"));
                lines.iter().for_each(|l| line(&mut out, "", l));
                bullets.iter().for_each(|l| line(&mut out, "・", l));
            }
            Block::Table { title, rows } => {
                if let Some((title, _)) = title {
                    out.push_str(&format!("{RULE}\n{title}\n{RULE}\n"));
                }
                for (label, value) in rows {
                    line(&mut out, &format!("{label}："), value);
                }
            }
            Block::Footer(lines) => {
                out.push_str(RULE);
                out.push('\n');
                lines.iter().for_each(|l| line(&mut out, "", l));
            }
        }
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Text made safe for HTML element content and quoted attributes (`& < > " '`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// [`escape`], with line breaks kept as `<br>`.
pub(super) fn esc(s: &str) -> String {
    escape(s).replace('\n', "<br>\n")
}

pub(super) fn html(subject: &str, blocks: &[Block]) -> String {
    const P: &str = "margin:0 0 16px";
    const LINK: &str = "color:#0b57d0";
    fn line(l: &Line) -> String {
        l.iter()
            .map(|part| match part {
                Inline::Text(s) => esc(s),
                Inline::Link(url) => {
                    format!("<a href=\"{0}\" style=\"{LINK}\">{0}</a>", esc(url))
                }
            })
            .collect()
    }
    fn lines(ls: &[Line]) -> String {
        ls.iter().map(line).collect::<Vec<_>>().join("<br>\n")
    }
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n</head>\n<body style=\"margin:0;padding:0;background:#ffffff\">\n\
         <div style=\"max-width:640px;margin:0 auto;padding:16px;font-family:'Hiragino Sans','Meiryo',sans-serif;font-size:15px;line-height:1.7;color:#222222\">\n",
        esc(subject)
    );
    for block in blocks {
        match block {
            Block::Para(ls) => out.push_str(&format!("<p style=\"{P}\">{}</p>\n", lines(ls))),
            Block::Section {
                heading,
                lines: ls,
                bullets,
            } => {
                out.push_str(&format!(
                    "<h2 style=\"margin:24px 0 8px;padding-left:8px;border-left:4px solid #666666;font-size:16px\">{}</h2>\n",
                    esc(heading)
                ));
                if !ls.is_empty() {
                    out.push_str(&format!("<p style=\"{P}\">{}</p>\n", lines(ls)));
                }
                if !bullets.is_empty() {
                    out.push_str("<ul style=\"margin:0 0 16px;padding-left:24px\">\n");
                    for b in bullets {
                        out.push_str(&format!("<li>{}</li>\n", line(b)));
                    }
                    out.push_str("</ul>\n");
                }
            }
            Block::Table { title, rows } => {
                out.push_str("<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"width:100%;border-collapse:collapse;margin:0 0 20px;border:1px solid #cccccc\">\n");
                if let Some((title, tier)) = title {
                    let colour = match tier {
                        Severity::High => "#b3261e",
                        Severity::Medium => "#a64b00",
                        Severity::Low => "#7a5c00",
                        Severity::Investigating => "#555555",
                    };
                    out.push_str(&format!(
                        "<tr><td colspan=\"2\" style=\"padding:8px 12px;background:{colour};color:#ffffff;font-weight:bold\">{}</td></tr>\n",
                        esc(title)
                    ));
                }
                for (label, value) in rows {
                    out.push_str(&format!(
                        "<tr><th style=\"padding:6px 12px;border-top:1px solid #e0e0e0;background:#f5f5f5;text-align:left;vertical-align:top;white-space:nowrap;font-weight:normal\">{}</th>\
                         <td style=\"padding:6px 12px;border-top:1px solid #e0e0e0;word-break:break-all\">{}</td></tr>\n",
                        esc(label),
                        line(value)
                    ));
                }
                out.push_str("</table>\n");
            }
            Block::Footer(ls) => out.push_str(&format!(
                "<hr style=\"border:0;border-top:1px solid #cccccc;margin:24px 0 12px\">\n\
                 <p style=\"margin:0;font-size:13px;color:#555555\">{}</p>\n",
                lines(ls)
            )),
        }
    }
    out.push_str("</div>\n</body>\n</html>\n");
    out
}
