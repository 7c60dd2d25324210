//! Rules for the name and email that label a visitor for agents (from a
//! `profile` frame, or inside a signed identity): checked in the browser
//! for quick feedback, and again on the server, which is the one that counts.

use crate::protocol::ErrorCode;

/// Longest visitor name, in characters.
pub const MAX_PROFILE_NAME_CHARS: usize = 80;
/// Longest email address, in characters (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// The name as stored (NFC-normalised, trimmed; `None` when blank, which
/// clears it), or the code it is refused with: `profile_name_too_long`,
/// `profile_name_control`.
pub fn clean_profile_name(name: &str) -> Result<Option<String>, ErrorCode> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.nfc().collect();
    let name = name.trim();
    if name.is_empty() {
        Ok(None)
    } else if name.chars().count() > MAX_PROFILE_NAME_CHARS {
        Err(ErrorCode::ProfileNameTooLong)
    } else if name
        .chars()
        .any(|c| c.is_control() || crate::accounts::is_invisible(c))
    {
        Err(ErrorCode::ProfileNameControl)
    } else {
        Ok(Some(name.to_owned()))
    }
}

/// The email as stored (trimmed; `None` when blank, which clears it), or
/// `profile_email_invalid`: over [`MAX_EMAIL_CHARS`], or not shaped
/// `local@domain.tld` (one `@`, no white space or control characters, a
/// dot inside the domain). Whether it reaches anyone is not checked.
pub fn clean_email(email: &str) -> Result<Option<String>, ErrorCode> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(None);
    }
    let shaped = email.chars().count() <= MAX_EMAIL_CHARS
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || crate::accounts::is_invisible(c))
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain
                        .split_once('.')
                        .is_some_and(|(host, rest)| !host.is_empty() && !rest.is_empty())
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if shaped {
        Ok(Some(email.to_owned()))
    } else {
        Err(ErrorCode::ProfileEmailInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_cleared_and_checked() {
        assert_eq!(clean_profile_name("  Li Lei "), Ok(Some("Li Lei".into())));
        assert_eq!(clean_profile_name("   "), Ok(None));
        assert_eq!(
            clean_profile_name(&"x".repeat(81)),
            Err(ErrorCode::ProfileNameTooLong)
        );
        assert_eq!(
            clean_profile_name(&"x".repeat(80)).map(|n| n.map(|n| n.len())),
            Ok(Some(80))
        );
        assert_eq!(
            clean_profile_name("a\u{7}b"),
            Err(ErrorCode::ProfileNameControl)
        );
        assert_eq!(
            clean_profile_name("An\u{202E}n"),
            Err(ErrorCode::ProfileNameControl)
        );
    }

    #[test]
    fn emails_have_the_usual_shape() {
        assert_eq!(clean_email(" a@b.co "), Ok(Some("a@b.co".into())));
        assert_eq!(clean_email(""), Ok(None));
        for bad in [
            "a",
            "a@b",
            "@b.co",
            "a@.co",
            "a@b.",
            "a@@b.co",
            "a b@c.de",
            "a@b.c\u{7}o",
        ] {
            assert_eq!(
                clean_email(bad),
                Err(ErrorCode::ProfileEmailInvalid),
                "{bad:?}"
            );
        }
        let long = format!("{}@example.com", "x".repeat(250));
        assert_eq!(clean_email(&long), Err(ErrorCode::ProfileEmailInvalid));
    }
}
