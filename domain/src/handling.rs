//! 「対応しました」: a customer's administrator marks an incident handled, with an optional
//! short note saying what was done (seed §4.4: the admin records the response; the
//! operator reads it). A note has at most [`MAX_NOTE`] characters after trimming; line
//! breaks are kept (a form's CR LF becomes LF) and any other control or bidirectional
//! formatting character is refused, so a stored note reads the same everywhere it is shown.
//! Only ★★★, ★★☆ and 調査中 incidents need the admin ([`needs_admin`]); ★☆☆ ones are
//! shown in the history only.

use crate::bounds;
use crate::fields::is_bidi_control;
use crate::severity::Severity;

/// The longest note, in characters.
pub const MAX_NOTE: usize = 500;

/// What the admin wrote when marking an incident handled; possibly empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Note(String);

/// Why a note is refused; `Display` is the Japanese message the form shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("メモは{MAX_NOTE}文字以内で入力してください")]
    TooLong,
    #[error("メモに使用できない文字が含まれています")]
    Forbidden,
}

impl Note {
    pub fn parse(s: &str) -> Result<Note, NoteError> {
        // Held against its bound before anything else reads it (with room for the CRs).
        let s = bounds::within(s, MAX_NOTE * 2).ok_or(NoteError::TooLong)?;
        let s = s.replace("\r\n", "\n");
        let s = s.trim();
        if s.chars().count() > MAX_NOTE {
            return Err(NoteError::TooLong);
        }
        if s.chars()
            .any(|c| (c.is_control() && c != '\n') || is_bidi_control(c))
        {
            return Err(NoteError::Forbidden);
        }
        Ok(Note(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether incidents of `tier` wait for the admin on the problems page (★★★, ★★☆, 調査中).
pub fn needs_admin(tier: Severity) -> bool {
    tier != Severity::Low
}

/// The tiers that need the admin, most urgent first: the order of the problems page.
pub const NEEDING_ADMIN: [Severity; 3] =
    [Severity::High, Severity::Medium, Severity::Investigating];

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<&str, NoteError>) {
        assert_eq!(
            Note::parse(input).as_ref().map(Note::as_str),
            expected.as_ref().map(|s| *s)
        );
    }

    #[test]
    fn a_short_note_is_kept_trimmed() {
        check(
            "  フルスキャンを実行しました \n",
            Ok("フルスキャンを実行しました"),
        );
        check("", Ok(""));
    }

    #[test]
    fn line_breaks_are_kept_and_a_forms_crlf_becomes_lf() {
        check("PCを隔離\r\nスキャン済み", Ok("PCを隔離\nスキャン済み"));
    }

    #[test]
    fn five_hundred_characters_are_allowed_and_one_more_is_not() {
        let max = "あ".repeat(MAX_NOTE);
        check(&max, Ok(max.as_str()));
        check(&format!("{max}あ"), Err(NoteError::TooLong));
        check(&"x".repeat(100_000), Err(NoteError::TooLong));
    }

    #[test]
    fn control_and_bidi_characters_are_refused() {
        check("a\u{0}b", Err(NoteError::Forbidden));
        check("a\tb", Err(NoteError::Forbidden));
        check("a\u{1b}[31mb", Err(NoteError::Forbidden));
        check("abc\u{202E}gpj.exe", Err(NoteError::Forbidden));
        check("a\u{2066}b", Err(NoteError::Forbidden));
    }

    #[test]
    fn the_messages_are_japanese() {
        assert_eq!(
            NoteError::TooLong.to_string(),
            "メモは500文字以内で入力してください"
        );
    }

    #[test]
    fn low_incidents_do_not_wait_for_the_admin() {
        assert!(needs_admin(Severity::High));
        assert!(needs_admin(Severity::Medium));
        assert!(needs_admin(Severity::Investigating));
        assert!(!needs_admin(Severity::Low));
        assert!(NEEDING_ADMIN.iter().all(|t| needs_admin(*t)));
    }
}
