//! How long a value typed into a portal form may be, and how stored text is cut. Every
//! form field is held against its bound before anything else looks at it, so a 900 KB
//! login id costs no more than a short one; a value over its bound is refused the way its
//! form refuses a wrong value (a login id or password: like a wrong password). Text kept
//! for reading later (the audit log) is cut on a character boundary, never mid-character.

/// Login ids: chosen ones have at most 32 characters, temporary ones fewer.
pub const LOGIN_ID_CHARS: usize = 64;
/// Passwords, as `domain::account` allows them.
pub const PASSWORD_CHARS: usize = crate::account::MAX_PASSWORD_CHARS;
/// A typed code: six digits, or a recovery code with its dashes and spaces.
pub const CODE_CHARS: usize = 32;
/// A phone number with spaces, dashes and brackets.
pub const PHONE_CHARS: usize = 32;

/// `value`, if it has at most `max` characters. Looks at no more than `max + 1` of them.
pub fn within(value: &str, max: usize) -> Option<&str> {
    value.chars().nth(max).is_none().then_some(value)
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_cut(text: &str, max: usize, expected: &str) {
        assert_eq!(cut(text, max), expected);
    }

    #[test]
    fn a_value_up_to_its_bound_is_taken_and_a_longer_one_is_not() {
        assert_eq!(within("abcd", 4), Some("abcd"));
        assert_eq!(within("", 4), Some(""));
        assert_eq!(within("abcde", 4), None);
        assert_eq!(
            within("ああああ", 4),
            Some("ああああ"),
            "characters, not bytes"
        );
        assert_eq!(within(&"x".repeat(900_000), LOGIN_ID_CHARS), None);
    }

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        check_cut("abc", 64, "abc");
        check_cut("abcdef", 3, "abc");
        // Byte 64 falls inside the 22nd あ (bytes 63..66).
        check_cut(&"あ".repeat(30), 64, &"あ".repeat(21));
        check_cut("aあ", 2, "a");
        check_cut("あ", 0, "");
    }
}
