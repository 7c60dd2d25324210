//! Rules for agent accounts, checked in the browser for quick feedback and
//! again on the server, which is the one that counts.

use crate::error::Invalid;

/// Longest agent name, in characters.
pub const MAX_NAME_CHARS: usize = 40;
/// Shortest password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password, in characters (argon2 input stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Highest capacity an agent may have.
pub const MAX_CAPACITY: u32 = 100;
/// Capacity of a new agent unless given.
pub const DEFAULT_CAPACITY: u32 = 5;

/// Invisible characters that could make two names look alike or reorder
/// text around them: zero-width marks, bidirectional overrides, BOM.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// The name as stored (NFC-normalised, trimmed), or why it is refused.
pub fn clean_name(name: &str) -> Result<String, Invalid> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.nfc().collect();
    let name = name.trim();
    if name.is_empty() {
        Err(Invalid::NameEmpty)
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(Invalid::NameTooLong)
    } else if name.chars().any(|c| c.is_control() || is_invisible(c)) {
        Err(Invalid::NameControl)
    } else {
        Ok(name.to_owned())
    }
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), Invalid> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(Invalid::PasswordLength)
    }
}

/// Checks a capacity.
pub fn check_capacity(capacity: u32) -> Result<(), Invalid> {
    if (1..=MAX_CAPACITY).contains(&capacity) {
        Ok(())
    } else {
        Err(Invalid::Capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(clean_name("  Ann "), Ok("Ann".into()));
        assert_eq!(clean_name("   "), Err(Invalid::NameEmpty));
        assert_eq!(clean_name("a\u{7}b"), Err(Invalid::NameControl));
        assert_eq!(clean_name("An\u{202E}n"), Err(Invalid::NameControl));
        assert_eq!(clean_name("A\u{200B}nn"), Err(Invalid::NameControl));
        // Decomposed "é" is stored composed, so it matches the composed spelling.
        assert_eq!(clean_name("Rene\u{301}"), Ok("Ren\u{e9}".into()));
        assert_eq!(clean_name(&"x".repeat(41)), Err(Invalid::NameTooLong));
    }

    #[test]
    fn passwords_and_capacity() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_capacity(0).is_err());
        assert!(check_capacity(5).is_ok());
        assert!(check_capacity(101).is_err());
    }
}
