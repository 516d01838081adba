//! Text that comes from an appliance or a person (names, threat, URL, file, host,
//! reasons, findings) is untrusted: control and bidi-override characters are dropped, each
//! field is cut to a bounded length, and a URL is written defanged (`hxxp://evil[.]example`)
//! so that no mail client turns it into a link.

/// A URL that no mail client will turn into a link: `hxxp`, `[://]`, `[.]` (the usual
/// defanged form, which people who handle incidents recognise).
pub fn defang(url: &str) -> String {
    let s = url.replace('.', "[.]").replace("://", "[://]");
    match s.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => format!("hxxp{}", &s[4..]),
        _ => s,
    }
}

/// One line of untrusted text as shown: control and bidi-override characters become
/// spaces (a name must not start a new header line or reorder what follows), at most
/// `max` characters.
pub(super) fn shown(s: &str, max: usize) -> String {
    let one_line: String = s.chars().map(|c| if hidden(c) { ' ' } else { c }).collect();
    cut(one_line.trim(), max)
}

/// Like [`shown`], but keeping line breaks.
pub(super) fn shown_lines(s: &str, max: usize) -> String {
    let lines: Vec<String> = s
        .lines()
        .map(|l| l.chars().map(|c| if hidden(c) { ' ' } else { c }).collect())
        .collect();
    cut(lines.join("\n").trim(), max)
}

pub(super) fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

pub(super) fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
